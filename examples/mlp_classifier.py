"""A multi-layer perceptron on handwritten digits, trained with rustgrad.

The data set is scikit-learn's bundled copy of the UCI handwritten digits (1,797 images of
8x8 pixels, classes 0-9; no download needed). The model is ``Linear(64, hidden) -> ReLU ->
Linear(hidden, hidden) -> ReLU -> Linear(hidden, 10)``, trained with ``CrossEntropyLoss`` and
``Adam`` on mini-batches; it reaches about 97% accuracy on the held-out quarter of the images.

Optional extras: ``scikit-learn`` (the data; required), ``tqdm`` (a nicer progress bar; a text
bar otherwise), ``matplotlib`` (the loss/accuracy plot; skipped with a message otherwise)::

    pip install scikit-learn tqdm matplotlib
    python examples/mlp_classifier.py [--epochs 30] [--hidden 64] [--plot mlp_digits.png]
"""

import argparse
import sys

import numpy as np
import rustgrad as torch
from rustgrad import nn


def load_data(test_fraction=0.25, seed=0):
    """``(x_train, y_train, x_test, y_test)``: float32 pixels scaled to ``[0, 1]``, shape
    ``(N, 64)``, and int64 labels ``(N,)``; a fixed shuffled split."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:
        raise ImportError(
            "this example needs scikit-learn for its data set: pip install scikit-learn"
        ) from err
    digits = load_digits()
    images = (digits.data / 16.0).astype(np.float32)
    labels = digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(labels))
    n_test = int(len(labels) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    return (
        torch.from_numpy(images[train]),
        torch.from_numpy(labels[train]),
        torch.from_numpy(images[test]),
        torch.from_numpy(labels[test]),
    )


class MLP(nn.Module):
    """``(N, 64)`` pixels to ``(N, 10)`` class scores (logits)."""

    def __init__(self, in_features=64, hidden=64, classes=10):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(in_features, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, classes),
        )

    def forward(self, x):
        return self.layers(x)


def accuracy(model, x, y):
    """Fraction of rows of ``x`` whose highest score is the label in ``y``."""
    with torch.no_grad():
        predicted = model(x).argmax(dim=1)
    return (predicted == y).float().mean().item()


class _TextBar:
    """A minimal stand-in for tqdm: ``[#####.....] 5/10 loss=...`` redrawn on one line."""

    def __init__(self, total, stream):
        self.total, self.n, self.stream, self.postfix = total, 0, stream, ""

    def update(self, n=1):
        self.n += n
        self._draw()

    def set_postfix_str(self, text):
        self.postfix = text

    def _draw(self):
        filled = round(30 * self.n / self.total)
        line = f"[{'#' * filled}{'.' * (30 - filled)}] {self.n}/{self.total} {self.postfix}"
        if self.stream.isatty():
            self.stream.write("\r" + line)
        elif self.n == self.total or self.n % max(1, self.total // 10) == 0:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self):
        if self.stream.isatty():
            self.stream.write("\n")


def _progress(total, quiet):
    if quiet:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return _TextBar(total, sys.stdout)
    return tqdm(total=total, unit="epoch", file=sys.stdout, dynamic_ncols=True)


def save_plot(history, path):
    """Loss and accuracy per epoch, side by side, as a PNG at ``path``; returns whether it was
    written (False, with a message, without matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"matplotlib is not installed: skipping the plot ({path}); pip install matplotlib")
        return False
    epochs = range(1, len(history["loss"]) + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(epochs, history["loss"], label="training loss")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("cross-entropy loss")
    ax_loss.set_yscale("log")
    ax_loss.set_title("Loss")
    ax_loss.legend()
    ax_acc.plot(epochs, history["train_acc"], label="train")
    ax_acc.plot(epochs, history["test_acc"], label="test")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_title("Accuracy")
    ax_acc.legend()
    fig.suptitle("rustgrad MLP on scikit-learn's handwritten digits")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def main(
    epochs=30, hidden=64, plot_path="mlp_digits.png", lr=1e-2, batch_size=64, seed=0, quiet=False
):
    """Train the MLP; returns the final test accuracy (a float in ``[0, 1]``).

    ``plot_path=None`` skips the plot; ``quiet`` silences the progress bar and messages.
    """
    torch.manual_seed(seed)
    x_train, y_train, x_test, y_test = load_data(seed=seed)
    model = MLP(hidden=hidden)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    if not quiet:
        print(model)
        print(f"{len(y_train)} training images, {len(y_test)} test images")

    n = len(y_train)
    shuffle = np.random.default_rng(seed)
    history = {"loss": [], "train_acc": [], "test_acc": []}
    bar = _progress(epochs, quiet)
    for _ in range(epochs):
        model.train()
        order = torch.from_numpy(shuffle.permutation(n))
        total = 0.0
        for start in range(0, n, batch_size):
            batch = order[start : start + batch_size]
            loss = criterion(model(x_train[batch]), y_train[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        model.eval()
        history["loss"].append(total / n)
        history["train_acc"].append(accuracy(model, x_train, y_train))
        history["test_acc"].append(accuracy(model, x_test, y_test))
        if bar is not None:
            bar.set_postfix_str(
                f"loss={history['loss'][-1]:.4f} test_acc={history['test_acc'][-1]:.3f}"
            )
            bar.update(1)
    if bar is not None:
        bar.close()

    test_acc = history["test_acc"][-1]
    if not quiet:
        print(f"test accuracy: {test_acc:.4f} ({round(test_acc * len(y_test))}/{len(y_test)})")
    if plot_path is not None and save_plot(history, plot_path) and not quiet:
        print(f"wrote the loss/accuracy plot to {plot_path}")
    return test_acc


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--plot", default="mlp_digits.png", help="PNG path ('' to skip)")
    args = parser.parse_args()
    try:
        main(args.epochs, args.hidden, args.plot or None, args.lr, args.batch_size)
    except ImportError as err:
        sys.exit(f"error: {err}")
