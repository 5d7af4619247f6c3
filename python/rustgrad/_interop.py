"""Habits of PyTorch code that touch other libraries: ``f"{loss:.4f}"``, pickling (so
``multiprocessing`` works), DLPack both ways, ``Tensor._make_subclass``.

These are Python-level methods of ``Tensor`` (set on the class when ``rustgrad`` is imported):
each is a composite of the Rust core's NumPy bridge (``Tensor.numpy()`` is a zero-copy view
of the tensor's storage that keeps it alive; ``from_numpy`` shares an array's memory).
"""

from __future__ import annotations

import numpy as np

from rustgrad import _core
from rustgrad._core import Tensor

__all__ = ["from_dlpack", "to_dlpack"]


# ----- __format__ ----------------------------------------------------------------------------


def __format__(self, format_spec):
    """A 0-d tensor formats as its value (``f"{loss:.4f}"``); others as ``object`` does."""
    if self.dim() == 0 and type(self) is Tensor:
        return self.item().__format__(format_spec)
    return object.__format__(self, format_spec)


# ----- pickling ------------------------------------------------------------------------------


def _dtype_name(dtype) -> str:
    return repr(dtype).rsplit(".", 1)[-1]


def _rebuild_tensor(values, dtype_name, device, requires_grad, cls=None, state=None):
    """Unpickles a tensor (a subclass' instance with its ``__dict__`` when ``cls`` is given)."""
    import rustgrad

    dtype = getattr(rustgrad, dtype_name)
    if device == "meta":  # ``values`` is the shape: a meta tensor has no values to keep
        t = _core.zeros(tuple(values), dtype=dtype, device=device)
    else:
        t = _core.tensor(values, dtype=dtype, device=device)
    if cls is not None:
        t = Tensor._make_subclass(cls, t, requires_grad)
        if state:
            t.__dict__.update(state)
        return t
    return t.requires_grad_(requires_grad) if requires_grad else t


def __reduce_ex__(self, protocol):
    """Pickles the values (a copy: a view unpickles as an independent tensor, as in
    PyTorch), the dtype, the device and ``requires_grad``; a subclass also its class and
    ``__dict__``."""
    if self.is_meta:
        values = tuple(self.shape)
    else:
        src = self.detach().cpu()
        # NumPy has no bfloat16: its values travel as float32 (exact) and round back on load.
        values = (src.float() if src.dtype is _core.bfloat16 else src).numpy().copy()
    args = (values, _dtype_name(self.dtype), str(self.device), self.requires_grad)
    if type(self) is not Tensor:
        args += (type(self), dict(getattr(self, "__dict__", {})))
    return (_rebuild_tensor, args)


def _make_subclass(subclass, data, require_grad=False):
    """A ``cls`` instance (a subclass of ``Tensor``) sharing ``data``'s storage, as PyTorch's
    ``Tensor._make_subclass``; ``data`` is not changed."""
    if require_grad and not (data.is_floating_point() or data.is_complex()):
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")  # fmt: skip
    obj = Tensor.__new__(subclass)
    obj.data = data.detach()
    obj.requires_grad_(bool(require_grad))
    return obj


def _reduce_dtype(self):
    return _dtype_name(self)  # pickled by reference: rustgrad.<name>


def _reduce_device(self):
    return (_core.device, (str(self),))


# ----- DLPack --------------------------------------------------------------------------------


def __dlpack__(self, *args, **kwargs):
    """A DLPack capsule of this tensor's memory (zero-copy, strides kept; CPU tensors)."""
    if self.requires_grad:
        raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
    if self.device.type != "cpu":
        raise BufferError("rustgrad exports DLPack capsules of CPU tensors only")
    return self.numpy().__dlpack__(*args, **kwargs)


def __dlpack_device__(self):
    """``(device type, index)`` as DLPack numbers them: ``(1, 0)`` for the CPU."""
    return (1, 0) if self.device.type == "cpu" else (2, self.device.index or 0)


class _Capsule:
    """Wraps a legacy DLPack capsule so that ``np.from_dlpack`` takes it."""

    def __init__(self, capsule):
        self.capsule = capsule

    def __dlpack__(self, *args, **kwargs):
        return self.capsule

    def __dlpack_device__(self):
        return (1, 0)


def _from_array(arr: np.ndarray) -> Tensor:
    """A tensor sharing ``arr``'s memory when it is a permutation of a C-contiguous block
    (a transposed tensor, say), else a copy."""
    order = sorted(range(arr.ndim), key=lambda d: -arr.strides[d])
    block = arr.transpose(order)
    if block.flags.c_contiguous and block.flags.aligned and block.flags.writeable:
        inverse = [order.index(d) for d in range(arr.ndim)]
        return _core.from_numpy(block).permute(*inverse) if arr.ndim else _core.from_numpy(arr)
    return _core.from_numpy(np.ascontiguousarray(arr))


def from_dlpack(ext_tensor) -> Tensor:
    """A tensor sharing the memory of ``ext_tensor``: any object with ``__dlpack__`` (a
    PyTorch tensor, a NumPy array) or a DLPack capsule. CPU memory only."""
    if isinstance(ext_tensor, Tensor):
        return ext_tensor
    source = ext_tensor if hasattr(ext_tensor, "__dlpack__") else _Capsule(ext_tensor)
    device = source.__dlpack_device__()
    if device[0] != 1:
        raise BufferError(f"rustgrad.from_dlpack takes CPU memory only, got device {device}")
    return _from_array(np.from_dlpack(source))


def to_dlpack(tensor: Tensor):
    """A DLPack capsule of ``tensor`` (as ``torch.utils.dlpack.to_dlpack``)."""
    return tensor.__dlpack__()


for _f in (__format__, __reduce_ex__, __dlpack__, __dlpack_device__):
    setattr(Tensor, _f.__name__, _f)
Tensor._make_subclass = staticmethod(_make_subclass)
_core.dtype.__reduce__ = _reduce_dtype
_core.device.__reduce__ = _reduce_device
del _f
