"""``nn.PixelShuffle`` and ``nn.PixelUnshuffle`` (channels to pixel blocks and back) and
``nn.ChannelShuffle``."""

from rustgrad.nn import functional as F
from rustgrad.nn.modules.module import Module

__all__ = ["PixelShuffle", "PixelUnshuffle"]


class PixelShuffle(Module):
    """``(*, C * r^2, H, W) -> (*, C, H * r, W * r)`` with ``r = upscale_factor``."""

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        """``pixel_shuffle(input, upscale_factor)``."""
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        """``"upscale_factor=..."``."""
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """``(*, C, H * r, W * r) -> (*, C * r^2, H, W)`` with ``r = downscale_factor``."""

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        """``pixel_unshuffle(input, downscale_factor)``."""
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        """``"downscale_factor=..."``."""
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    """``(N, C, *)``: the channels, seen as ``groups`` rows of ``C // groups``, transposed."""

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        """``channel_shuffle(input, groups)``."""
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self):
        """``"groups=2"``."""
        return f"groups={self.groups}"


__all__ += ["ChannelShuffle"]
