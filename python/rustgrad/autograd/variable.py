"""``Variable``: kept for old code, as in modern PyTorch it is the tensor class itself."""

from rustgrad._core import Tensor


class _VariableMeta(type):
    def __instancecheck__(cls, other):
        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    """``Variable(tensor, requires_grad=False)`` returns a tensor sharing ``tensor``'s data.

    Like ``torch.autograd.Variable``: the result has no history (``grad_fn`` is None), so
    wrapping ``z.data`` gives a fresh leaf.
    """

    def __new__(cls, data, requires_grad=False):
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        out = data.detach()
        out.requires_grad_(requires_grad)
        return out
