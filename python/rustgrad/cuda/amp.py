"""``torch.cuda.amp``: the deprecated CUDA spellings of ``torch.amp`` (a FutureWarning each,
as PyTorch's)."""

import warnings

from rustgrad import _core
from rustgrad.amp import autocast_mode
from rustgrad.amp._deprecated import spellings

__all__ = ["GradScaler", "autocast", "custom_bwd", "custom_fwd"]


autocast, GradScaler = spellings("cuda", _core.float16, __name__)


def custom_fwd(fwd=None, *, cast_inputs=None):
    """``torch.amp.custom_fwd(device_type="cuda")``, deprecated."""
    warnings.warn(
        "`torch.cuda.amp.custom_fwd(args...)` is deprecated. Please use "
        "`torch.amp.custom_fwd(args..., device_type='cuda')` instead.",
        FutureWarning,
        stacklevel=2,
    )
    return autocast_mode.custom_fwd(fwd, device_type="cuda", cast_inputs=cast_inputs)


def custom_bwd(bwd=None):
    """``torch.amp.custom_bwd(device_type="cuda")``, deprecated."""
    warnings.warn(
        "`torch.cuda.amp.custom_bwd(args...)` is deprecated. Please use "
        "`torch.amp.custom_bwd(args..., device_type='cuda')` instead.",
        FutureWarning,
        stacklevel=2,
    )
    return autocast_mode.custom_bwd(bwd, device_type="cuda")
