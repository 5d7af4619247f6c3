"""PyTorch's legacy tensor types (``FloatTensor``, ``DoubleTensor``, ``LongTensor``,
``IntTensor``, ``BoolTensor``, ``ShortTensor``, ``CharTensor``, ``ByteTensor``, ``HalfTensor``,
``BFloat16Tensor``) and the default device.

``FloatTensor(2, 3)`` is a new float32 tensor of shape ``(2, 3)`` (zeros here; uninitialised in
PyTorch), ``FloatTensor([1, 2])`` copies data into float32; ``isinstance(t, FloatTensor)``
is True for a float32 CPU tensor, as in PyTorch. They are not subclasses of ``Tensor``
(``type(FloatTensor([1]))`` is ``Tensor``), as in PyTorch.
"""

from __future__ import annotations

from rustgrad import _core

__all__ = [
    "BFloat16Tensor",
    "BoolTensor",
    "ByteTensor",
    "CharTensor",
    "DoubleTensor",
    "FloatTensor",
    "HalfTensor",
    "IntTensor",
    "LongTensor",
    "ShortTensor",
    "get_default_device",
    "set_default_device",
]


class _LegacyType(type):
    """The metaclass: calling the type makes a tensor; ``isinstance`` checks the dtype."""

    _dtype: object

    def __call__(cls, *args, device=None):
        if len(args) == 1 and not isinstance(args[0], int):
            return _core.tensor(args[0], dtype=cls._dtype, device=device)
        return _core.zeros(*args, dtype=cls._dtype, device=device)

    def __instancecheck__(cls, obj):
        return (
            isinstance(obj, _core.Tensor) and obj.dtype is cls._dtype and obj.device.type == "cpu"
        )

    def __repr__(cls):
        from rustgrad._dropin import prefix

        return f"<class '{prefix()}.{cls.__name__}'>"


def _legacy(name: str, dtype) -> _LegacyType:
    return _LegacyType(name, (), {"_dtype": dtype, "__doc__": f"Legacy {dtype} CPU tensor type."})


FloatTensor = _legacy("FloatTensor", _core.float32)
DoubleTensor = _legacy("DoubleTensor", _core.float64)
LongTensor = _legacy("LongTensor", _core.int64)
IntTensor = _legacy("IntTensor", _core.int32)
BoolTensor = _legacy("BoolTensor", _core.bool_)
ShortTensor = _legacy("ShortTensor", _core.int16)
CharTensor = _legacy("CharTensor", _core.int8)
ByteTensor = _legacy("ByteTensor", _core.uint8)
HalfTensor = _legacy("HalfTensor", _core.float16)
BFloat16Tensor = _legacy("BFloat16Tensor", _core.bfloat16)


def set_default_device(device) -> None:
    """Makes ``device`` (None: the CPU) the device of creation calls without ``device=``
    (``tensor``, ``zeros``, ``ones``, ``full``, ``arange``, ``linspace``, ``eye``, ``rand``,
    ``randn``, ``randint``, ``randperm``, ``normal``); ``*_like`` follow their input."""
    _core._set_default_device(device)


def get_default_device():
    """The device of creation calls without ``device=``."""
    return _core._get_default_device()
