"""Activation layers: ``ReLU``, ``Tanh``, ``Sigmoid``, ``Softmax``, ``LogSoftmax``, and those of
issue 11 (``GELU``, ``SiLU``, ``Mish``, ``ELU``, ``SELU``, ``LeakyReLU``, ``Hardtanh``, ``ReLU6``,
``Softplus``, ``LogSigmoid``), with PyTorch's ``repr``."""

from rustgrad.nn import functional as F
from rustgrad.nn.modules.module import Module

__all__ = [
    "ELU",
    "GELU",
    "SELU",
    "Hardtanh",
    "LeakyReLU",
    "LogSigmoid",
    "LogSoftmax",
    "Mish",
    "ReLU",
    "ReLU6",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Tanh",
]


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


# ----- activations of issue 11 ---------------------------------------------------------------


def _inplace_repr(inplace, lead=""):
    """``extra_repr`` text for an ``inplace`` flag after ``lead`` (PyTorch's wording)."""
    if not inplace:
        return lead
    return f"{lead}, inplace=True" if lead else "inplace=True"


class GELU(Module):
    """GELU, exact (``approximate="none"``) or its tanh approximation; any shape."""

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        """``gelu(input)`` elementwise (same shape)."""
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        """``"approximate='none'"`` or ``"approximate='tanh'"``."""
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """``x * sigmoid(x)`` elementwise; any shape."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        """``silu(input)`` elementwise (same shape)."""
        return F.silu(input, inplace=self.inplace)

    def extra_repr(self):
        """``"inplace=True"`` when set, else nothing."""
        return _inplace_repr(self.inplace)


class Mish(Module):
    """``x * tanh(softplus(x))`` elementwise; any shape."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        """``mish(input)`` elementwise (same shape)."""
        return F.mish(input, inplace=self.inplace)

    def extra_repr(self):
        """``"inplace=True"`` when set, else nothing."""
        return _inplace_repr(self.inplace)


class ELU(Module):
    """``x`` where positive, else ``alpha * (exp(x) - 1)``; any shape."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        """``elu(input, alpha)`` elementwise (same shape)."""
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self):
        """``"alpha=..."`` (and ``", inplace=True"``)."""
        return _inplace_repr(self.inplace, f"alpha={self.alpha}")


class SELU(Module):
    """Self-normalising ELU; any shape."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        """``selu(input)`` elementwise (same shape)."""
        return F.selu(input, self.inplace)

    def extra_repr(self):
        """``"inplace=True"`` when set, else nothing."""
        return _inplace_repr(self.inplace)


class LeakyReLU(Module):
    """``x`` where positive, else ``negative_slope * x``; any shape."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        """``leaky_relu(input, negative_slope)`` elementwise (same shape)."""
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        """``"negative_slope=..."`` (and ``", inplace=True"``)."""
        return _inplace_repr(self.inplace, f"negative_slope={self.negative_slope}")


class Hardtanh(Module):
    """``x`` clamped into ``[min_val, max_val]``; any shape."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace
        assert self.max_val > self.min_val

    def forward(self, input):
        """``hardtanh(input, min_val, max_val)`` elementwise (same shape)."""
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        """``"min_val=..., max_val=..."`` (and ``", inplace=True"``)."""
        return _inplace_repr(self.inplace, f"min_val={self.min_val}, max_val={self.max_val}")


class ReLU6(Hardtanh):
    """``min(max(x, 0), 6)``; any shape."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        """``"inplace=True"`` when set, else nothing."""
        return _inplace_repr(self.inplace)


class Softplus(Module):
    """``log(1 + exp(beta * x)) / beta`` (``x`` above ``threshold / beta``); any shape."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input):
        """``softplus(input, beta, threshold)`` elementwise (same shape)."""
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        """``"beta=..., threshold=..."``."""
        return f"beta={self.beta}, threshold={self.threshold}"


class LogSigmoid(Module):
    """``log(sigmoid(x))``; any shape."""

    def forward(self, input):
        """``logsigmoid(input)`` elementwise (same shape)."""
        return F.logsigmoid(input)
