"""``nn.Linear``, ``nn.Bilinear`` and ``nn.Identity``."""

import math

from rustgrad import _core
from rustgrad.nn import functional as F
from rustgrad.nn import init
from rustgrad.nn.modules.module import Module
from rustgrad.nn.parameter import Parameter

__all__ = ["Identity", "Linear"]


class Identity(Module):
    """Returns its input unchanged (a placeholder layer); arguments are accepted and ignored."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        """``input`` itself."""
        return input


class Linear(Module):
    """``y = x @ weight.T + bias``: ``(*, in_features) -> (*, out_features)``.

    ``weight`` has shape ``(out_features, in_features)``, ``bias`` ``(out_features,)``. Both
    start as PyTorch starts them: ``weight ~ kaiming_uniform_(a=sqrt(5))``, which is
    ``U(-1/sqrt(in_features), 1/sqrt(in_features))``, and ``bias`` from the same range.
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(
            _core.zeros((out_features, in_features), dtype=dtype, device=device)
        )
        if bias:
            self.bias = Parameter(_core.zeros((out_features,), dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw fresh initial values (PyTorch's default initialisation)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        """``input @ weight.T + bias``: ``(*, in_features) -> (*, out_features)``."""
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        """``"in_features=..., out_features=..., bias=..."``."""
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class NonDynamicallyQuantizableLinear(Linear):
    """``MultiheadAttention.out_proj``'s class: a ``Linear`` under PyTorch's name (so the
    printed module matches)."""


__all__ += ["NonDynamicallyQuantizableLinear"]


class Bilinear(Module):
    """``y = x1^T A x2 + b``: ``(*, in1_features), (*, in2_features) -> (*, out_features)``.

    ``weight`` has shape ``(out_features, in1_features, in2_features)``, ``bias``
    ``(out_features,)``; both start ``U(-1/sqrt(in1_features), 1/sqrt(in1_features))``.
    """

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):  # fmt: skip
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(
            _core.zeros((out_features, in1_features, in2_features), dtype=dtype, device=device)
        )
        if bias:
            self.bias = Parameter(_core.zeros((out_features,), dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw fresh initial values (PyTorch's: uniform in ``+-1/sqrt(in1_features)``)."""
        bound = 1 / math.sqrt(self.weight.size(1))
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        """``F.bilinear(input1, input2, weight, bias)``."""
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        """``"in1_features=..., in2_features=..., out_features=..., bias=..."``."""
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )


__all__ += ["Bilinear"]
