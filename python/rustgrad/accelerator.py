"""``rustgrad.accelerator``, as ``torch.accelerator``: the current accelerator, device-agnostic.

rustgrad's one accelerator is CUDA, so each function answers for ``rustgrad.cuda``. Without a
usable GPU they answer as a CPU-only PyTorch does: no accelerator, and a RuntimeError from the
functions that need one.
"""

from __future__ import annotations

from rustgrad import _core, cuda

__all__ = [
    "current_accelerator",
    "current_device_idx",
    "current_device_index",
    "device_count",
    "is_available",
    "synchronize",
]

_NONE_AVAILABLE = "Cannot access accelerator device when none is available."


def is_available() -> bool:
    """True when the accelerator (CUDA) can be used: a driver and at least one GPU."""
    return cuda.is_available()


def current_accelerator(check_available: bool = False) -> _core.device | None:
    """The accelerator's device type as a ``device`` (``device(type='cuda')``), or None when
    there is none. ``check_available`` is accepted for PyTorch's signature: rustgrad reports an
    accelerator only when it is usable."""
    del check_available  # rustgrad answers as if it were always True
    return _core.device("cuda") if cuda.is_available() else None


def device_count() -> int:
    """Number of accelerator devices (0 without one)."""
    return cuda.device_count() if cuda.is_available() else 0


def current_device_index() -> int:
    """Index of the current accelerator device; RuntimeError when there is none."""
    if not cuda.is_available():
        raise RuntimeError(_NONE_AVAILABLE)
    return cuda.current_device()


current_device_idx = current_device_index  # PyTorch's deprecated spelling


def synchronize(device=None) -> None:
    """Wait for every queued kernel and copy on the accelerator; RuntimeError when there is none."""
    if not cuda.is_available():
        raise RuntimeError(_NONE_AVAILABLE)
    cuda.synchronize(device)
