"""Activation layers: ``ReLU``, ``Tanh``, ``Sigmoid``, ``Softmax``, ``LogSoftmax``."""

from rustgrad.nn import functional as F
from rustgrad.nn.modules.module import Module

__all__ = ["LogSoftmax", "ReLU", "Sigmoid", "Softmax", "Tanh"]


class ReLU(Module):
    """``max(x, 0)`` elementwise; any shape."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        """``max(input, 0)`` elementwise (same shape; in place when ``inplace``)."""
        return F.relu(input, inplace=self.inplace)

    def extra_repr(self):
        """``"inplace=True"`` when set, else nothing."""
        return "inplace=True" if self.inplace else ""


class Tanh(Module):
    """Hyperbolic tangent elementwise; any shape."""

    def forward(self, input):
        """``tanh(input)`` elementwise (same shape)."""
        return F.tanh(input)


class Sigmoid(Module):
    """``1 / (1 + exp(-x))`` elementwise; any shape."""

    def forward(self, input):
        """``1 / (1 + exp(-input))`` elementwise (same shape)."""
        return F.sigmoid(input)


class Softmax(Module):
    """Softmax along ``dim``; same shape as the input."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        """Softmax of ``input`` along ``self.dim`` (same shape)."""
        return F.softmax(input, self.dim)

    def extra_repr(self):
        """``"dim=..."``."""
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """Log-softmax along ``dim``; same shape as the input."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        """Log-softmax of ``input`` along ``self.dim`` (same shape)."""
        return F.log_softmax(input, self.dim)

    def extra_repr(self):
        """``"dim=..."``."""
        return f"dim={self.dim}"
