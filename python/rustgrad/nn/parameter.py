"""``nn.Parameter``: a leaf tensor that a :class:`~rustgrad.nn.Module` registers as learnable.

PyTorch makes ``Parameter`` a subclass of ``Tensor``. rustgrad's ``Tensor`` is a Rust class that
Python cannot subclass, so here a parameter is an ordinary ``rustgrad.Tensor`` that carries a
mark instead:

* ``nn.Parameter(data, requires_grad=True)`` returns ``data.detach()`` (a new tensor object that
  shares ``data``'s storage, as PyTorch's parameter does) with ``requires_grad`` set, and records
  that very object in a registry.
* ``isinstance(t, nn.Parameter)`` asks the registry (the class's metaclass defines
  ``__instancecheck__``), so the PyTorch idiom works unchanged.

The registry maps ``id(tensor)`` to a weak reference to the tensor. A membership test checks
that the weak reference still points at the very same object, and the weak reference's callback
drops the entry when the tensor is garbage collected, so a recycled ``id`` never makes a plain
tensor look like a parameter, and the registry never keeps a tensor alive. (A ``WeakSet`` would
not do: it compares entries with ``==``, which is elementwise for tensors.)

The mark belongs to the Python object: ``p.detach()``, ``p.data``, ``p * 2`` and tensors loaded
from a file are plain tensors, as in PyTorch. Assigning ``p.data = ...`` keeps the mark, since
the object stays the same.
"""

import weakref

from rustgrad import _core

__all__ = ["Parameter", "is_parameter"]

# id(tensor) -> weakref.ref(tensor); entries remove themselves when the tensor dies.
_registry = {}


def _forget(key, ref):
    # Called by the weak reference when its tensor dies; remove only our own entry (the id may
    # already have been reused by a newer parameter that replaced it).
    if _registry.get(key) is ref:
        del _registry[key]


def _mark(tensor):
    key = id(tensor)
    _registry[key] = weakref.ref(tensor, lambda ref, key=key: _forget(key, ref))
    return tensor


def is_parameter(obj) -> bool:
    """True when ``obj`` is a tensor made by :class:`Parameter`."""
    ref = _registry.get(id(obj))
    return ref is not None and ref() is obj


class _ParameterMeta(type):
    def __call__(cls, data=None, requires_grad=True):
        if data is None:
            data = _core.zeros(0)
        if not isinstance(data, _core.Tensor):
            raise TypeError(
                f"Parameter(): data must be a rustgrad.Tensor, but got {type(data).__name__}"
            )
        param = data.detach()
        param.requires_grad_(requires_grad)
        return _mark(param)

    def __instancecheck__(cls, obj):
        return is_parameter(obj)

    def __subclasscheck__(cls, sub):
        # No class is a subclass of Parameter (parameters are marked tensor objects).
        return sub is cls


class Parameter(metaclass=_ParameterMeta):
    """A tensor that is a module parameter: ``Parameter(data, requires_grad=True)``.

    Returns a leaf ``rustgrad.Tensor`` sharing ``data``'s storage (``data`` is detached) with
    ``requires_grad`` set; ``data=None`` gives an empty float32 tensor of shape ``(0,)``.
    Assigning the result to a :class:`~rustgrad.nn.Module` attribute registers it, and
    ``isinstance(p, nn.Parameter)`` is True for it (see the module docstring for how).
    """
