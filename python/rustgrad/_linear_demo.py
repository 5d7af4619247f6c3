"""The linear-model lecture's data and model, shared by ``examples/linear_regression.py`` and
the second part of ``python -m rustgrad``.

The data set is twelve noisy points on the line ``y = 2x + 1`` (the noise is fixed, so every
run sees the same numbers); least squares gives ``y = 2.030x + 0.952``.
"""

import sys

from rustgrad import _core, nn, optim

__all__ = ["X_DATA", "Y_DATA", "LinearRegression", "train"]

# Inputs and targets, each a (12, 1) column as nn.Linear(1, 1) expects.
# fmt: off
X_DATA = [[0.0], [0.2], [0.4], [0.6], [0.8], [1.0],
          [1.2], [1.4], [1.6], [1.8], [2.0], [2.2]]
Y_DATA = [[1.0], [1.44], [1.76], [2.07], [2.53], [2.85],
          [3.41], [4.0], [4.13], [4.51], [5.07], [5.45]]
# fmt: on

LEARNING_RATE = 0.1


class LinearRegression(nn.Module):
    """``y = w * x + b``: one ``nn.Linear(1, 1)``; input ``(N, 1)``, output ``(N, 1)``."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, x):
        return self.linear(x)


def _bar(done, total, width=30):
    filled = round(width * done / total)
    return "[" + "#" * filled + "." * (width - filled) + "]"


def train(model=None, epochs=100, lr=LEARNING_RATE, quiet=False, out=None):
    """Fit ``model`` (a fresh :class:`LinearRegression` when None) to the data with
    ``MSELoss`` and ``SGD(lr)`` for ``epochs`` full-batch steps.

    Unless ``quiet``, draws a text progress bar with the loss on ``out`` (stdout by default).
    Returns ``(model, history, x, y)``: ``history`` holds each epoch's loss (before its step).
    """
    out = sys.stdout if out is None else out
    model = LinearRegression() if model is None else model
    x = _core.tensor(X_DATA)
    y = _core.tensor(Y_DATA)
    criterion = nn.MSELoss()
    optimizer = optim.SGD(model.parameters(), lr=lr)
    history = []
    interactive = hasattr(out, "isatty") and out.isatty()
    for epoch in range(1, epochs + 1):
        loss = criterion(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.append(loss.item())
        if not quiet:
            line = f"epoch {epoch:3d}/{epochs} {_bar(epoch, epochs)} loss {history[-1]:.4f}"
            if interactive:  # redraw one line in place
                out.write("\r  " + line + ("\n" if epoch == epochs else ""))
                out.flush()
            elif epoch % 10 == 0 or epoch in (1, epochs):
                out.write("  " + line + "\n")
    return model, history, x, y
