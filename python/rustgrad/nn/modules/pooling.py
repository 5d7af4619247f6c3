"""Pooling and resizing layers: ``MaxPool1d/2d/3d``, ``AvgPool1d/2d/3d``,
``AdaptiveAvgPool1d/2d/3d``, ``AdaptiveMaxPool1d/2d/3d``, ``MaxUnpool1d/2d/3d``,
``LPPool1d/2d/3d``, ``Upsample``."""

from rustgrad.nn import functional as F
from rustgrad.nn.modules.module import Module

__all__ = ["AdaptiveAvgPool2d", "AvgPool2d", "MaxPool1d", "MaxPool2d", "Upsample"]


class _MaxPoolNd(Module):
    _dims = 2

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):  # fmt: skip
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self):
        """PyTorch's summary of the window."""
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool2d(_MaxPoolNd):
    """2-d max pooling (``stride`` defaults to ``kernel_size``)."""

    def forward(self, input):
        """The window maxima (and their indices with ``return_indices``)."""
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation, ceil_mode=self.ceil_mode, return_indices=self.return_indices)  # fmt: skip


class MaxPool1d(_MaxPoolNd):
    """1-d max pooling (``stride`` defaults to ``kernel_size``)."""

    def forward(self, input):
        """The window maxima (and their indices with ``return_indices``)."""
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation, ceil_mode=self.ceil_mode, return_indices=self.return_indices)  # fmt: skip


class _AvgPoolNd(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):  # fmt: skip
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def extra_repr(self):
        """PyTorch's summary of the window."""
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    """2-d average pooling (``stride`` defaults to ``kernel_size``)."""

    def forward(self, input):
        """The window means."""
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad, self.divisor_override)  # fmt: skip


class _AdaptiveAvgPoolNd(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def extra_repr(self):
        """``output_size=...``."""
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Average pooling to a fixed ``output_size`` whatever the input size."""

    def forward(self, input):
        """The adaptive window means."""
        return F.adaptive_avg_pool2d(input, self.output_size)


class Upsample(Module):
    """Resizes by ``F.interpolate`` (``size`` or ``scale_factor``; ``mode`` nearest,
    linear, bilinear)."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):  # fmt: skip
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        """``F.interpolate`` with this layer's settings."""
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners, recompute_scale_factor=self.recompute_scale_factor)  # fmt: skip

    def extra_repr(self):
        """PyTorch's summary: the size or the scale factor, and the mode."""
        if self.scale_factor is not None:
            info = "scale_factor=" + repr(self.scale_factor)
        else:
            info = "size=" + repr(self.size)
        return info + ", mode=" + repr(self.mode)


# ----- branch nn2: adaptive max pooling, 1-d adaptive average ----------------------------------


class _AdaptiveMaxPoolNd(Module):
    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def extra_repr(self):
        """``output_size=...``."""
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max pooling to a fixed ``output_size`` whatever the input size."""

    def forward(self, input):
        """The adaptive window maxima (and their indices with ``return_indices``)."""
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """1-d max pooling to a fixed ``output_size`` whatever the input length."""

    def forward(self, input):
        """The adaptive window maxima (and their indices with ``return_indices``)."""
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """1-d average pooling to a fixed ``output_size`` whatever the input length."""

    def forward(self, input):
        """The adaptive window means."""
        return F.adaptive_avg_pool1d(input, self.output_size)


__all__ += ["AdaptiveAvgPool1d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d"]


# ----- 1-d average pooling, the fixed-mode upsampling layers, fold and unfold ------------------


def _single(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


class AvgPool1d(Module):
    """1-d average pooling (``stride`` defaults to ``kernel_size``)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):  # fmt: skip
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def extra_repr(self):
        """PyTorch's summary of the window."""
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input):
        """The window means."""
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)  # fmt: skip


class UpsamplingNearest2d(Upsample):
    """``Upsample(size, scale_factor, mode="nearest")``."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample(size, scale_factor, mode="bilinear", align_corners=True)``."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class Fold(Module):
    """``F.fold``: sliding blocks ``(N, C * prod(kernel_size), L)`` summed back into an image
    of ``output_size``."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size = output_size
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input):
        """The blocks of ``input`` summed into ``output_size``."""
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)  # fmt: skip

    def extra_repr(self):
        """PyTorch's summary of the blocks."""
        return (
            f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
            f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}"
        )


class Unfold(Module):
    """``F.unfold``: the sliding blocks of ``(N, C, H, W)`` as columns ``(N, C * prod(kernel_size),
    L)``."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.padding = padding
        self.stride = stride

    def forward(self, input):
        """The sliding blocks of ``input`` as columns."""
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        """PyTorch's summary of the blocks."""
        return (
            f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
            f"padding={self.padding}, stride={self.stride}"
        )


__all__ += ["AvgPool1d", "Fold", "Unfold", "UpsamplingBilinear2d", "UpsamplingNearest2d"]


# ----- 3-d pooling, max unpooling, power-average pooling ---------------------------------------


def _ntuple(value, n):
    # (PyTorch's _single/_pair/_triple: a sequence as is, else n copies)
    return tuple(value) if hasattr(value, "__iter__") else (value,) * n


class MaxPool3d(_MaxPoolNd):
    """3-d max pooling (``stride`` defaults to ``kernel_size``)."""

    def forward(self, input):
        """The window maxima (and their indices with ``return_indices``)."""
        return F.max_pool3d(input, self.kernel_size, self.stride, self.padding, self.dilation, ceil_mode=self.ceil_mode, return_indices=self.return_indices)  # fmt: skip


class AvgPool3d(_AvgPoolNd):
    """3-d average pooling (``stride`` defaults to ``kernel_size``)."""

    def forward(self, input):
        """The window means."""
        return F.avg_pool3d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad, self.divisor_override)  # fmt: skip


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """3-d average pooling to a fixed ``output_size`` whatever the input size."""

    def forward(self, input):
        """The adaptive window means."""
        return F.adaptive_avg_pool3d(input, self.output_size)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """3-d max pooling to a fixed ``output_size`` whatever the input size."""

    def forward(self, input):
        """The adaptive window maxima (and their indices with ``return_indices``)."""
        return F.adaptive_max_pool3d(input, self.output_size, self.return_indices)


class _MaxUnpoolNd(Module):
    _dims = 2

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = _ntuple(kernel_size, self._dims)
        self.stride = _ntuple(stride if (stride is not None) else kernel_size, self._dims)
        self.padding = _ntuple(padding, self._dims)

    def extra_repr(self):
        """PyTorch's summary of the window."""
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """The partial inverse of ``MaxPool1d``: values placed at their indices, zeros elsewhere."""

    _dims = 1

    def forward(self, input, indices, output_size=None):
        """``input`` placed at ``indices`` in zeros (of ``output_size`` if given)."""
        return F.max_unpool1d(input, indices, self.kernel_size, self.stride, self.padding, output_size)  # fmt: skip


class MaxUnpool2d(_MaxUnpoolNd):
    """The partial inverse of ``MaxPool2d``: values placed at their indices, zeros elsewhere."""

    _dims = 2

    def forward(self, input, indices, output_size=None):
        """``input`` placed at ``indices`` in zeros (of ``output_size`` if given)."""
        return F.max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding, output_size)  # fmt: skip


class MaxUnpool3d(_MaxUnpoolNd):
    """The partial inverse of ``MaxPool3d``: values placed at their indices, zeros elsewhere."""

    _dims = 3

    def forward(self, input, indices, output_size=None):
        """``input`` placed at ``indices`` in zeros (of ``output_size`` if given)."""
        return F.max_unpool3d(input, indices, self.kernel_size, self.stride, self.padding, output_size)  # fmt: skip


class _LPPoolNd(Module):
    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def extra_repr(self):
        """PyTorch's summary of the window."""
        return (
            f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, ceil_mode={self.ceil_mode}"
        )


class LPPool1d(_LPPoolNd):
    """1-d power-average pooling: ``(sum over the window of x ** p) ** (1 / p)``."""

    def forward(self, input):
        """The windows' ``norm_type``-norms."""
        return F.lp_pool1d(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)  # fmt: skip


class LPPool2d(_LPPoolNd):
    """2-d power-average pooling: ``(sum over the window of x ** p) ** (1 / p)``."""

    def forward(self, input):
        """The windows' ``norm_type``-norms."""
        return F.lp_pool2d(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)  # fmt: skip


class LPPool3d(_LPPoolNd):
    """3-d power-average pooling: ``(sum over the window of x ** p) ** (1 / p)``."""

    def forward(self, input):
        """The windows' ``norm_type``-norms."""
        return F.lp_pool3d(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)  # fmt: skip


__all__ += [
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool3d",
    "AvgPool3d",
    "LPPool1d",
    "LPPool2d",
    "LPPool3d",
    "MaxPool3d",
    "MaxUnpool1d",
    "MaxUnpool2d",
    "MaxUnpool3d",
]
