"""The dtype helpers written in Python: ``finfo``/``iinfo``, the casts ``Tensor.int()``,
``short()``, ``half()``, ``bfloat16()``, ``char()``, ``byte()`` and ``Tensor.type()``.

The dtypes themselves (one object each, from the Rust core's dtype table) are ``_core``'s;
these are composites of ``Tensor.to``.
"""

from __future__ import annotations

import numpy as np

from rustgrad import _core
from rustgrad._core import Tensor

__all__ = ["finfo", "iinfo"]

# Legacy tensor-type names, as PyTorch's ``Tensor.type()`` prints them.
_LEGACY = {
    _core.bool_: "BoolTensor",
    _core.uint8: "ByteTensor",
    _core.int8: "CharTensor",
    _core.int16: "ShortTensor",
    _core.int32: "IntTensor",
    _core.int64: "LongTensor",
    _core.float16: "HalfTensor",
    _core.bfloat16: "BFloat16Tensor",
    _core.float32: "FloatTensor",
    _core.float64: "DoubleTensor",
}
_BY_LEGACY = {name: dtype for dtype, name in _LEGACY.items()}


def _name(dtype) -> str:
    return str(dtype).rsplit(".", 1)[-1]


# ----- finfo / iinfo --------------------------------------------------------------------------


class finfo:
    """Limits of a floating dtype (default: the default dtype): ``bits``, ``eps``, ``max``,
    ``min``, ``tiny`` (= ``smallest_normal``), ``resolution``, ``dtype`` (its name)."""

    def __init__(self, type=None):
        if type is None:
            type = _core.get_default_dtype()
        if not isinstance(type, _core.dtype) or not type.is_floating_point:
            raise TypeError(
                f"torch.finfo() requires a floating point input type. Use "
                f"torch.iinfo to handle '{type}'"
            )
        self.dtype = _name(type)
        if type is _core.bfloat16:
            # 8 exponent bits (as float32's), 7 fraction bits; NumPy has no bfloat16.
            self.bits, self.eps, self.resolution = 16, 2.0**-7, 0.01
            self.max = float.fromhex("0x1.fep127")
            self.tiny = self.smallest_normal = 2.0**-126
        else:
            f = np.finfo(self.dtype)
            # (resolution is 10**-precision as a Python float, as PyTorch gives it)
            self.bits, self.eps, self.resolution = f.bits, float(f.eps), 10.0**-f.precision
            self.max, self.tiny = float(f.max), float(f.smallest_normal)
            self.smallest_normal = self.tiny
        self.min = -self.max

    def __eq__(self, other):
        return isinstance(other, finfo) and other.dtype == self.dtype

    def __hash__(self):
        return hash(self.dtype)

    def __repr__(self):
        return (
            f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
            f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, "
            f"dtype={self.dtype})"
        )


class iinfo:
    """Limits of an integer dtype: ``bits``, ``max``, ``min``, ``dtype`` (its name)."""

    def __init__(self, type):
        if not isinstance(type, _core.dtype) or type.is_floating_point:
            raise TypeError(
                f"torch.iinfo() requires an integer input type. Use torch.finfo to handle '{type}'"
            )
        self.dtype = _name(type)
        if type is _core.bool_:
            self.bits, self.min, self.max = 8, 0, 1
        else:
            i = np.iinfo(self.dtype)
            self.bits, self.min, self.max = i.bits, int(i.min), int(i.max)

    def __eq__(self, other):
        return isinstance(other, iinfo) and other.dtype == self.dtype

    def __hash__(self):
        return hash(self.dtype)

    def __repr__(self):
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"


# ----- casts on Tensor -----------------------------------------------------------------------


def _cast(dtype, name):
    def cast(self, memory_format=None):
        return self.to(dtype)

    cast.__name__ = cast.__qualname__ = name
    cast.__doc__ = f"As {_name(dtype)} (``self`` when it already is)."
    return cast


class _DTypeCasts:
    """The casts below, as the stub states them (a base of ``Tensor`` there, so that ``int``
    and ``type`` in ``Tensor``'s own annotations stay the builtins); set on ``Tensor`` here."""

    int = _cast(_core.int32, "int")
    short = _cast(_core.int16, "short")
    char = _cast(_core.int8, "char")
    byte = _cast(_core.uint8, "byte")
    half = _cast(_core.float16, "half")
    bfloat16 = _cast(_core.bfloat16, "bfloat16")


def type(self, dtype=None, non_blocking=False, **kwargs):
    """Without ``dtype``: the legacy type name (``'torch.FloatTensor'``, on CUDA
    ``'torch.cuda.FloatTensor'``); with one (a dtype or such a name): the tensor cast to it."""
    from rustgrad._dropin import prefix

    cuda = ".cuda" if self.device.type == "cuda" else ""
    if dtype is None:
        return f"{prefix()}{cuda}.{_LEGACY[self.dtype]}"
    if isinstance(dtype, str):
        parts = dtype.split(".")
        legacy = _BY_LEGACY.get(parts[-1])
        if parts[0] not in ("torch", "rustgrad") or legacy is None or len(parts) > 3:
            raise ValueError(f"invalid type: '{dtype}'")
        device = "cuda" if len(parts) == 3 and parts[1] == "cuda" else "cpu"
        return self.to(device=device, dtype=legacy)
    if not isinstance(dtype, _core.dtype):
        legacy = getattr(dtype, "_dtype", None)  # a legacy type object (IntTensor)
        if legacy is None:
            # (PyTorch reads any other object as a type name: ``float`` is "invalid type")
            raise ValueError(f"invalid type: '{getattr(dtype, '__name__', dtype)}'")
        dtype = legacy
    return self.to(dtype)


_DTypeCasts.type = type  # type: ignore[attr-defined]
for _name_ in ("int", "short", "char", "byte", "half", "bfloat16", "type"):
    setattr(Tensor, _name_, getattr(_DTypeCasts, _name_))
_core._DTypeCasts = _DTypeCasts  # type: ignore[misc, assignment]  # (the stub's base)
