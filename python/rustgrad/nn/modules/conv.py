"""``nn.Conv1d``, ``nn.Conv2d``, ``nn.Conv3d``, ``nn.ConvTranspose1d``, ``nn.ConvTranspose2d``."""

import math

from rustgrad import _core
from rustgrad.nn import functional as F
from rustgrad.nn import init
from rustgrad.nn.modules.module import Module
from rustgrad.nn.parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d"]


def _ntuple(v, n):
    return (v,) * n if isinstance(v, int) else tuple(v)


class _ConvNd(Module):
    """Parameters, initialisation and repr shared by the convolutions (as PyTorch's)."""

    _dims = 2
    transposed = False

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups=1,
        bias=True,
        padding_mode="zeros",
        device=None,
        dtype=None,
        output_padding=0,
    ):
        super().__init__()
        n = self._dims
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        modes = {"zeros", "reflect", "replicate", "circular"}
        if padding_mode not in modes:
            raise ValueError(f"padding_mode must be one of {modes}, but got padding_mode='{padding_mode}'")  # fmt: skip
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of {{'same', 'valid'}}")  # fmt: skip
            if padding == "same" and any(s != 1 for s in _ntuple(stride, n)):
                raise ValueError("padding='same' is not supported for strided convolutions")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _ntuple(kernel_size, n)
        self.stride = _ntuple(stride, n)
        self.padding = padding if isinstance(padding, str) else _ntuple(padding, n)
        self.dilation = _ntuple(dilation, n)
        self.transposed = self.transposed
        self.output_padding = _ntuple(output_padding, n)
        self.groups = groups
        self.padding_mode = padding_mode
        if isinstance(self.padding, str):
            # 'same': total padding d * (k - 1) per dim, the extra pixel on the right.
            pads = []
            for d, k in zip(reversed(self.dilation), reversed(self.kernel_size)):
                total = d * (k - 1)
                pads += [total // 2, total - total // 2]
            self._reversed_padding_repeated_twice = pads if self.padding == "same" else [0] * (2 * n)  # fmt: skip
        else:
            self._reversed_padding_repeated_twice = [p for p in reversed(self.padding) for _ in (0, 1)]  # fmt: skip
        if self.transposed:
            shape = (in_channels, out_channels // groups, *self.kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(_core.zeros(shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(_core.zeros((out_channels,), dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw fresh initial values (PyTorch's default initialisation)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        """PyTorch's summary: channels, kernel, stride and the non-default options."""
        n = self._dims
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"  # fmt: skip
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def _padded(self, input):
        """``input`` padded by ``padding_mode`` (non-zero modes pad before the convolution)."""
        return F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)


class Conv2d(_ConvNd):
    """2-d convolution: ``(N, C_in, H, W) -> (N, C_out, H_out, W_out)``; ``weight`` is
    ``(out_channels, in_channels / groups, kh, kw)``."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):  # fmt: skip
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode, device, dtype)  # fmt: skip

    def forward(self, input):
        """The convolution of ``input`` with ``weight`` (plus ``bias``)."""
        if self.padding_mode != "zeros":
            return F.conv2d(self._padded(input), self.weight, self.bias, self.stride, 0, self.dilation, self.groups)  # fmt: skip
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)  # fmt: skip


class Conv1d(_ConvNd):
    """1-d convolution: ``(N, C_in, L) -> (N, C_out, L_out)``; ``weight`` is
    ``(out_channels, in_channels / groups, k)``."""

    _dims = 1

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):  # fmt: skip
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode, device, dtype)  # fmt: skip

    def forward(self, input):
        """The convolution of ``input`` with ``weight`` (plus ``bias``)."""
        if self.padding_mode != "zeros":
            return F.conv1d(self._padded(input), self.weight, self.bias, self.stride, 0, self.dilation, self.groups)  # fmt: skip
        return F.conv1d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)  # fmt: skip


class ConvTranspose2d(_ConvNd):
    """Transposed 2-d convolution: ``(N, C_in, H, W) -> (N, C_out, H_out, W_out)``;
    ``weight`` is ``(in_channels, out_channels / groups, kh, kw)``."""

    transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):  # fmt: skip
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')  # fmt: skip
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode, device, dtype, output_padding)  # fmt: skip

    def forward(self, input, output_size=None):
        """The transposed convolution of ``input``; ``output_size`` picks the output padding."""
        op = _output_padding(self, input, output_size)
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding, op, self.groups, self.dilation)  # fmt: skip


def _output_padding(conv, input, output_size):
    """The output padding that gives a transposed convolution ``output_size`` (its last
    ``_dims`` entries), or the module's own."""
    if output_size is None:
        return conv.output_padding
    n = conv._dims
    want = list(output_size)[-n:]
    op = []
    for i in range(n):
        size = input.shape[-n + i]
        least = (size - 1) * conv.stride[i] - 2 * conv.padding[i] + conv.dilation[i] * (conv.kernel_size[i] - 1) + 1  # fmt: skip
        if not least <= want[i] < least + conv.stride[i]:
            raise ValueError(f"requested an output size of {want}, but valid sizes range from {least} to {least + conv.stride[i] - 1} (for an input of {list(input.shape[-n:])})")  # fmt: skip
        op.append(want[i] - least)
    return tuple(op)


class ConvTranspose1d(_ConvNd):
    """Transposed 1-d convolution: ``(N, C_in, L) -> (N, C_out, L_out)``; ``weight`` is
    ``(in_channels, out_channels / groups, k)``."""

    _dims = 1
    transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):  # fmt: skip
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')  # fmt: skip
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode, device, dtype, output_padding)  # fmt: skip

    def forward(self, input, output_size=None):
        """The transposed convolution of ``input``; ``output_size`` picks the output padding."""
        op = _output_padding(self, input, output_size)
        return F.conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding, op, self.groups, self.dilation)  # fmt: skip


class Conv3d(_ConvNd):
    """3-d convolution: ``(N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out)``; ``weight``
    is ``(out_channels, in_channels / groups, kd, kh, kw)``."""

    _dims = 3

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):  # fmt: skip
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode, device, dtype)  # fmt: skip

    def forward(self, input):
        """The convolution of ``input`` with ``weight`` (plus ``bias``)."""
        if self.padding_mode != "zeros":
            return F.conv3d(self._padded(input), self.weight, self.bias, self.stride, 0, self.dilation, self.groups)  # fmt: skip
        return F.conv3d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)  # fmt: skip
