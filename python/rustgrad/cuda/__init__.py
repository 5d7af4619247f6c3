"""``rustgrad.cuda``: NVIDIA GPU queries and housekeeping, as ``torch.cuda``.

The CUDA backend lives in the extension; the driver, NVRTC and cuBLAS are opened at run time,
so the same wheel imports everywhere. Without a driver or a GPU, :func:`is_available` is False,
:func:`device_count` is 0, the queries that need a device raise ``RuntimeError`` saying why
(:func:`manual_seed` and :func:`empty_cache` never raise).

Where the libraries are looked for, before the system's search path (computed once, at import,
without opening anything):

1. the folders in the environment variable ``RUSTGRAD_CUDA_LIB_DIR`` (separated by
   ``os.pathsep``), in order;
2. for each entry of ``sys.path``: ``nvidia/cu13/lib`` (the CUDA 13 pip wheels, such as
   ``nvidia-cuda-nvrtc`` and ``nvidia-cublas``), then every other ``nvidia/*/lib`` (the CUDA 12
   wheels: ``nvidia/cuda_nvrtc/lib``, ``nvidia/cublas/lib``, ...), as PyTorch finds them.

That is the order of the libraries preloaded; the CUDA bindings then open each library by
name, the unversioned name first (``libnvrtc.so``, ``libcublas.so``, ``libcuda.so``). Where
the system's search path has that name (a CUDA toolkit's dev link, ``LD_LIBRARY_PATH``), that
file is used instead and nothing is preloaded, so two copies are never mixed; a
``RuntimeWarning`` names both files. A toolkit's stub ``libcuda.so`` makes CUDA unavailable,
and the reason names it.

A ``device`` argument may be None (the current device), an int ordinal, a string such as
``"cuda"`` or ``"cuda:0"``, or a :class:`rustgrad.device`.
"""

import os
import sys
import warnings

from rustgrad import _core

__all__ = [
    "current_device",
    "device_count",
    "empty_cache",
    "get_device_name",
    "get_rng_state",
    "get_rng_state_all",
    "is_available",
    "manual_seed",
    "manual_seed_all",
    "max_memory_allocated",
    "memory_allocated",
    "memory_reserved",
    "reset_peak_memory_stats",
    "set_rng_state",
    "set_rng_state_all",
    "synchronize",
]

LIB_DIR_ENV = "RUSTGRAD_CUDA_LIB_DIR"


def _library_dirs(environ=None, path=None):
    """Folders that may hold libnvrtc / libcublas / libcublasLt, in search order, no repeats.

    ``environ`` and ``path`` default to ``os.environ`` and ``sys.path``. Only folders that exist
    are listed; nothing is opened.
    """
    environ = os.environ if environ is None else environ
    path = sys.path if path is None else path
    dirs = [d for d in environ.get(LIB_DIR_ENV, "").split(os.pathsep) if d]
    for entry in path:
        root = os.path.join(entry, "nvidia")
        if not entry or not os.path.isdir(root):
            continue
        try:
            names = sorted(os.listdir(root), key=lambda name: (name != "cu13", name))
        except OSError:
            continue
        for name in names:
            lib = os.path.join(root, name, "lib")
            if os.path.isdir(lib):
                dirs.append(os.path.abspath(lib))
    seen = set()
    return [d for d in dirs if not (d in seen or seen.add(d))]


_core._cuda_set_library_dirs(_library_dirs())


def _device_index(device):
    """The CUDA ordinal named by ``device`` (None for the current device)."""
    if device is None:
        return None
    if isinstance(device, bool):
        raise TypeError("device must be None, an int, a string or a rustgrad.device, not bool")
    if isinstance(device, int):
        return device
    if isinstance(device, (str, _core.device)):
        dev = _core.device(device)
        if dev.type != "cuda":
            raise ValueError(f"Expected a cuda device, but got: {dev}")
        return dev.index
    raise TypeError(
        f"device must be None, an int, a string or a rustgrad.device, not {type(device).__name__}"
    )


_warned = set()


def _warn_library_notes():
    for note in _core._cuda_library_notes():
        if note not in _warned:
            _warned.add(note)
            warnings.warn(note, RuntimeWarning, stacklevel=3)


def is_available() -> bool:
    """True when an NVIDIA driver, at least one GPU, NVRTC and cuBLAS can all be used."""
    available = _core._cuda_is_available()
    _warn_library_notes()
    return available


def device_count() -> int:
    """Number of usable CUDA devices (0 without a driver or GPU)."""
    return _core._cuda_device_count()


def current_device() -> int:
    """The ordinal of the current device (always 0: rustgrad uses the first GPU)."""
    return _core._cuda_current_device()


def get_device_name(device=None) -> str:
    """The device's name, e.g. ``"NVIDIA H100 80GB HBM3"``."""
    return _core._cuda_get_device_name(_device_index(device))


def synchronize(device=None) -> None:
    """Wait until every queued kernel and copy on the device has finished."""
    _core._cuda_synchronize(_device_index(device))


def manual_seed(seed) -> None:
    """Seed the generators behind ``rand`` / ``randn`` on every CUDA device.

    Never raises: without CUDA the seed is simply not used. (``rustgrad.manual_seed`` seeds the
    CPU's generator and these.)
    """
    _core._cuda_manual_seed(int(seed))


def manual_seed_all(seed) -> None:
    """As :func:`manual_seed`: seed every CUDA device's generator."""
    _core._cuda_manual_seed(int(seed))


def get_rng_state(device="cuda"):
    """The device's generator state as PyTorch keeps it: a uint8 CPU tensor of 16 bytes (the
    seed and the offset of the next draw, little-endian int64s)."""
    import numpy as np

    seed, offset = _core._cuda_get_rng_state(_device_index(device))
    state = np.array([seed, offset], dtype="<u8").view(np.uint8)
    return _core.tensor(state, dtype=_core.uint8, device="cpu")


def set_rng_state(new_state, device="cuda") -> None:
    """Restores a state from :func:`get_rng_state`: the draws after it repeat."""
    import numpy as np

    raw = np.ascontiguousarray(new_state.detach().cpu().numpy(), dtype=np.uint8).reshape(-1)
    if raw.size != 16:
        raise RuntimeError(f"RNG state is wrong size: expected 16 bytes, got {raw.size}")
    seed, offset = (int(v) for v in raw.view("<u8"))
    _core._cuda_set_rng_state(seed, offset, _device_index(device))


def get_rng_state_all():
    """:func:`get_rng_state` of every device."""
    return [get_rng_state(i) for i in range(device_count())]


def set_rng_state_all(new_states) -> None:
    """:func:`set_rng_state` of every device, from :func:`get_rng_state_all`."""
    for i, state in enumerate(new_states):
        set_rng_state(state, i)


def memory_allocated(device=None) -> int:
    """Bytes of device memory held by live tensors."""
    return _core._cuda_memory_allocated(_device_index(device))


def max_memory_allocated(device=None) -> int:
    """The peak of :func:`memory_allocated` since start-up or the last
    :func:`reset_peak_memory_stats`."""
    return _core._cuda_max_memory_allocated(_device_index(device))


def reset_peak_memory_stats(device=None) -> None:
    """Restart the peak that :func:`max_memory_allocated` reports from the current usage."""
    _core._cuda_reset_peak_memory_stats(_device_index(device))


def memory_reserved(device=None) -> int:
    """Bytes of device memory held by the caching allocator (in use plus cached)."""
    return _core._cuda_memory_reserved(_device_index(device))


def empty_cache() -> None:
    """Return the caching allocator's unused blocks to the driver (a no-op before first use)."""
    _core._cuda_empty_cache()


from rustgrad.cuda import amp as amp  # (torch.cuda.amp; imported last: it uses this module)
