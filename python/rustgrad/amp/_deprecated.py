"""The deprecated per-device spellings of ``torch.amp`` (``torch.cpu.amp``, ``torch.cuda.amp``):
``autocast`` and ``GradScaler`` fixed to one device, each warning as PyTorch's."""

import warnings

from rustgrad.amp import autocast_mode, grad_scaler


def _warn(what, device):
    warnings.warn(
        f"`torch.{device}.amp.{what}(args...)` is deprecated. Please use "
        f"`torch.amp.{what}('{device}', args...)` instead.",
        FutureWarning,
        stacklevel=3,
    )


def spellings(device, default_dtype, module):
    """``autocast`` and ``GradScaler`` classes of ``module`` for ``device``."""

    class autocast(autocast_mode.autocast):
        def __init__(self, enabled=True, dtype=default_dtype, cache_enabled=True):
            _warn("autocast", device)
            super().__init__(device, enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)

    class GradScaler(grad_scaler.GradScaler):
        def __init__(
            self,
            init_scale=2.0**16,
            growth_factor=2.0,
            backoff_factor=0.5,
            growth_interval=2000,
            enabled=True,
        ):
            _warn("GradScaler", device)
            super().__init__(device, init_scale, growth_factor, backoff_factor, growth_interval, enabled)  # fmt: skip

    for cls, base in ((autocast, "autocast"), (GradScaler, "GradScaler")):
        cls.__module__, cls.__qualname__ = module, base
        cls.__doc__ = f'``torch.amp.{base}("{device}", ...)``, deprecated.'
    return autocast, GradScaler
