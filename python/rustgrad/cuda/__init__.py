"""CUDA device queries. The CPU-only build reports no devices."""

from rustgrad import _core


def is_available() -> bool:
    """True when an NVIDIA driver and at least one device can be used."""
    return _core._cuda_is_available()


def device_count() -> int:
    """Number of usable CUDA devices (0 without a driver or GPU)."""
    return _core._cuda_device_count()
