"""Linear regression the PyTorch way, on rustgrad: the lecture after "computational graphs".

The three steps of every training script:

1. design the model as a class (an ``nn.Module`` wrapping ``nn.Linear``),
2. construct the loss and the optimizer (``nn.MSELoss``, ``optim.SGD``),
3. train: forward, loss, zero the gradients, backward, step.

The data are twelve noisy points on ``y = 2x + 1`` (``rustgrad._linear_demo``, shared with
``python -m rustgrad``). Run it::

    python examples/linear_regression.py [--epochs 100]
"""

import argparse

import rustgrad as torch
from rustgrad import nn
from rustgrad._linear_demo import LEARNING_RATE, X_DATA, Y_DATA


class Model(nn.Module):
    """``y_pred = w * x + b`` for inputs ``(N, 1)``."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)  # one input feature, one output

    def forward(self, x):
        return self.linear(x)


def main(epochs=100, quiet=False, seed=0, lr=LEARNING_RATE):
    """Train for ``epochs`` full-batch steps and return the loss of every epoch (a list)."""
    say = (lambda *args: None) if quiet else print
    torch.manual_seed(seed)  # the same initial weights on every run

    x_data = torch.tensor(X_DATA)  # (12, 1)
    y_data = torch.tensor(Y_DATA)  # (12, 1)

    model = Model()
    criterion = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    say(model)

    history = []
    for epoch in range(epochs):
        y_pred = model(x_data)  # forward pass
        loss = criterion(y_pred, y_data)

        optimizer.zero_grad()
        loss.backward()  # d(loss)/d(w) and d(loss)/d(b) into .grad
        optimizer.step()  # w -= lr * w.grad, b -= lr * b.grad

        history.append(loss.item())
        if epoch % 10 == 0 or epoch == epochs - 1:
            say(f"epoch {epoch:3d}  loss {loss.item():.5f}")

    w, b = model.linear.weight.item(), model.linear.bias.item()
    say(f"learned y = {w:.3f} x + {b:.3f}   (the data follow y = 2 x + 1)")
    with torch.no_grad():
        say(f"prediction for x = 4.0: {model(torch.tensor([[4.0]])).item():.3f}")
    return history


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--lr", type=float, default=LEARNING_RATE)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(epochs=args.epochs, seed=args.seed, lr=args.lr)
