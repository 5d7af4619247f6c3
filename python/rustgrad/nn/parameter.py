"""``nn.Parameter``: a leaf tensor that a :class:`~rustgrad.nn.Module` registers as learnable.

As in PyTorch, ``Parameter`` is a subclass of ``Tensor``: ``nn.Parameter(data, requires_grad=True)``
is a new ``Parameter`` object sharing ``data``'s storage (``Tensor._make_subclass``), with
``requires_grad`` set. ``p.detach()``, ``p.data``, ``p * 2`` and tensors loaded from a file are
plain tensors, as in PyTorch; assigning ``p.data = ...`` keeps ``p`` a parameter.
"""

import copy

from rustgrad import _core

__all__ = ["Parameter", "is_parameter"]


def is_parameter(obj) -> bool:
    """True when ``obj`` is a :class:`Parameter`."""
    return isinstance(obj, Parameter)


class Parameter(_core.Tensor):
    """A tensor that is a module parameter: ``Parameter(data=None, requires_grad=True)``.

    Shares ``data``'s storage (``data`` itself is not changed); ``data=None`` gives an empty
    float tensor of shape ``(0,)``. Assigning it to a :class:`~rustgrad.nn.Module` attribute
    registers it. Prints as PyTorch's: ``Parameter containing:`` and the tensor.
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            data = _core.zeros(0)
        if not isinstance(data, _core.Tensor):
            raise TypeError(f"Parameter(): data must be a Tensor, but got {type(data).__name__}")
        return _core.Tensor._make_subclass(cls, data, requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__  # print() shows the same, as PyTorch's

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(_core.Tensor.__deepcopy__(self, memo).detach(), self.requires_grad)
        if self.grad is not None:
            result.grad = copy.deepcopy(self.grad, memo)
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, protocol):
        return (Parameter, (self.detach(), self.requires_grad))


class Buffer(_core.Tensor):
    """A tensor marked as a module buffer: ``self.x = nn.Buffer(data, persistent=True)``
    registers ``x`` as :meth:`~rustgrad.nn.Module.register_buffer` does (``persistent=False``
    keeps it out of ``state_dict``). The module keeps a plain tensor sharing ``data``'s storage
    (``data.detach()``, with ``data``'s ``requires_grad``), as PyTorch does."""

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = _core.zeros(0)
        if not isinstance(data, _core.Tensor):
            raise TypeError(f"Buffer(): data must be a Tensor, but got {type(data).__name__}")
        t = _core.Tensor._make_subclass(cls, data.detach(), data.requires_grad)
        t.persistent = persistent
        return t

    def _as_tensor(self):
        """The plain tensor the module registers (same storage, same ``requires_grad``)."""
        return self.detach().requires_grad_(self.requires_grad)


__all__ += ["Buffer"]
