"""Tensor methods real programs use (branch nn2): the ``new_*`` constructors, bitwise
``and``/``or``/``xor``/``not`` on integer tensors (with ``& | ^ ~``, reflected and in-place
forms) and the in-place view changes ``unsqueeze_``, ``squeeze_``, ``t_``, ``transpose_``.

Bool operands keep the core's logical operators; integer ones are computed on the host (NumPy,
no gradient: integers have none), in PyTorch's promoted dtype; floating ones raise PyTorch's
``NotImplementedError``.
"""

from __future__ import annotations

import warnings as _warnings

import numpy as _np

from rustgrad import _core
from rustgrad._core import Tensor
from rustgrad._memory_format import _computed_in_memory_order
from rustgrad._ops import _SCALAR_NAMES, _host

__all__ = [
    "bitwise_and",
    "bitwise_left_shift",
    "bitwise_not",
    "bitwise_or",
    "bitwise_right_shift",
    "bitwise_xor",
]

_bool = _core.bool_
_FLOAT_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16"}


def _scalar_name(dtype) -> str:
    short = str(dtype).split(".")[-1]
    return _SCALAR_NAMES.get(short) or _FLOAT_NAMES.get(short, short)


# ----- new_* ----------------------------------------------------------------------------------


def _size(size):
    if len(size) == 1 and not isinstance(size[0], int):
        return tuple(size[0])
    return tuple(size)


def _like(self, make, dtype, device, requires_grad):
    t = make(dtype or self.dtype, device or self.device)
    return t.requires_grad_() if requires_grad else t


def new_zeros(self, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):  # fmt: skip
    """Zeros of ``size``, with ``self``'s dtype and device unless given."""
    shape = _size(size)
    return _like(self, lambda d, v: _core.zeros(shape, dtype=d, device=v), dtype, device, requires_grad)  # fmt: skip


def new_ones(self, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):  # fmt: skip
    """Ones of ``size``, with ``self``'s dtype and device unless given."""
    shape = _size(size)
    return _like(self, lambda d, v: _core.ones(shape, dtype=d, device=v), dtype, device, requires_grad)  # fmt: skip


def new_empty(self, *size, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):  # fmt: skip
    """An uninitialised tensor of ``size`` (zeros here), with ``self``'s dtype and device."""
    return new_zeros(self, *size, dtype=dtype, device=device, requires_grad=requires_grad)


def new_empty_strided(self, size, stride, *, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):  # fmt: skip
    """``empty_strided(size, stride)`` (zeros here), with ``self``'s dtype and device unless
    given."""
    size, stride = tuple(size), tuple(stride)
    return _like(self, lambda d, v: _core.empty_strided(size, stride, dtype=d, device=v), dtype, device, requires_grad)  # fmt: skip


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):  # fmt: skip
    """``fill_value`` everywhere in ``size``, with ``self``'s dtype and device unless given."""
    shape = tuple(size)
    return _like(self, lambda d, v: _core.full(shape, fill_value, dtype=d, device=v), dtype, device, requires_grad)  # fmt: skip


def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, layout=None, pin_memory=False):  # fmt: skip
    """A copy of ``data`` with ``self``'s dtype and device unless given (no history)."""
    if isinstance(data, Tensor):
        _warnings.warn(
            "To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() "
            "or sourceTensor.detach().clone().requires_grad_(True), rather than "
            "tensor.new_tensor(sourceTensor).",
            UserWarning,
            stacklevel=2,
        )
        t = data.detach().to(device=device or self.device, dtype=dtype or self.dtype).clone()
    else:
        t = _core.tensor(data, dtype=dtype or self.dtype, device=device or self.device)
    return t.requires_grad_() if requires_grad else t


# ----- bitwise ----------------------------------------------------------------------------------


def _probe(x):
    """A value with ``x``'s place in type promotion (dimensioned, 0-d or a Python number)."""
    if isinstance(x, Tensor):
        return _core.zeros((0,) if x.ndim else (), dtype=x.dtype)
    return x


def _result_dtype(a, b):
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a.dtype == b.dtype:
        return a.dtype
    if not isinstance(b, Tensor):
        if isinstance(b, bool) or (isinstance(b, int) and a.dtype != _bool):
            return a.dtype
        if isinstance(b, int):
            return _core.int64
        return _core.float32 if a.dtype == _bool or not a.is_floating_point() else a.dtype
    return (_probe(a) + _probe(b)).dtype


def _number(x):
    """A NumPy scalar as PyTorch reads it: ``np.bool_`` as a float (not a bool), other
    scalars as their Python number."""
    if isinstance(x, _np.bool_):
        return float(x)
    return x.item() if isinstance(x, _np.generic) else x


def _check_broadcast(a, b):
    """PyTorch's error for shapes that do not broadcast (before NumPy sees them)."""
    if not isinstance(b, Tensor):
        return
    n = max(a.ndim, b.ndim)
    for i in range(1, min(a.ndim, b.ndim) + 1):
        da, db = a.shape[-i], b.shape[-i]
        if da != db and da != 1 and db != 1:
            raise RuntimeError(
                f"The size of tensor a ({da}) must match the size of tensor b ({db}) at "
                f"non-singleton dimension {n - i}"
            )


def _binary(name, np_op, core_op, kernel=None):
    def op(input, other):
        a, b = input, _number(other)
        if not isinstance(a, Tensor):  # a number first (``2 << t``): PyTorch's wrapped number
            a = _number(a)
            dtype = _result_dtype(b, a) if isinstance(b, Tensor) else None
            a = _core.tensor(a, device=b.device)
            a = a if dtype is None else a.to(dtype)  # (wrapping into the tensor's type)
        _check_broadcast(a, b)
        dtype = _result_dtype(a, b)
        if dtype == _bool and core_op is not None:
            return core_op(a, b if isinstance(b, Tensor) else bool(b))
        if dtype.is_floating_point or dtype == _bool:
            raise NotImplementedError(f"\"{kernel or name}_{a.device.type}\" not implemented for '{_scalar_name(dtype)}'")  # fmt: skip
        bv = _host(b.to(dtype)) if isinstance(b, Tensor) else _np.asarray(b).astype(str(dtype).split(".")[-1])  # fmt: skip
        out = _core.tensor(_np.array(np_op(_host(a.to(dtype)), bv)), dtype=dtype, device=a.device)
        # (written into zeros made by the same kind of kernel, so the result takes the layout
        # PyTorch's TensorIterator gives the operands)
        like = a.to(dtype) - a.to(dtype)
        if isinstance(b, Tensor):
            like = like + (b.to(dtype) - b.to(dtype))
        if like.is_contiguous():
            return out
        like._copy_unversioned_(out)
        return like

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{name}`` of integer or bool tensors (broadcast, promoted)."
    return op


_core_and, _core_or, _core_xor = Tensor.__and__, Tensor.__or__, Tensor.__xor__
_core_invert = Tensor.__invert__

bitwise_and = _binary("bitwise_and", _np.bitwise_and, _core_and)
bitwise_or = _binary("bitwise_or", _np.bitwise_or, _core_or)
bitwise_xor = _binary("bitwise_xor", _np.bitwise_xor, _core_xor)


def _shift(left):
    """PyTorch's shifts: by a count outside ``[0, bits)`` a left shift gives 0 and a right
    shift the sign (0 or -1), where C and NumPy leave the result undefined."""

    def np_op(a, b):
        bits = a.dtype.itemsize * 8
        b = _np.broadcast_to(b, _np.broadcast_shapes(a.shape, _np.shape(b))).astype(a.dtype)
        inside = (b >= 0) & (b < bits)
        count = _np.where(inside, b, 0)
        if left:
            return _np.where(inside, _np.left_shift(a, count), 0).astype(a.dtype)
        sign = _np.where(a < 0, -1, 0).astype(a.dtype)
        return _np.where(inside, _np.right_shift(a, count), sign).astype(a.dtype)

    return np_op


bitwise_left_shift = _binary("bitwise_left_shift", _shift(True), None, "lshift")
bitwise_right_shift = _binary("bitwise_right_shift", _shift(False), None, "rshift")


def bitwise_not(input):
    """Elementwise ``~``: logical not of bools, two's-complement not of integers."""
    if input.dtype == _bool:
        return _core_invert(input)
    if input.is_floating_point():
        raise NotImplementedError(f"\"bitwise_not_{input.device.type}\" not implemented for '{_scalar_name(input.dtype)}'")  # fmt: skip
    return _computed_in_memory_order(
        input, lambda t: _core.tensor(_np.invert(_host(t)), dtype=input.dtype, device=input.device)
    )


def _invert(self):
    if self.is_floating_point():
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")  # fmt: skip
    return bitwise_not(self)


def _in_place(f, name):
    def method(self, other=None):
        from rustgrad._math import _KIND, _SCALAR_NAME, check_in_place

        if name != "bitwise_not" and isinstance(_number(other), (bool, int, float, Tensor)):
            # (PyTorch refuses the result's type before looking for a kernel of that type)
            dtype = _result_dtype(self, _number(other))
            if _KIND[dtype] > _KIND[self.dtype]:
                raise RuntimeError(
                    f"result type {_SCALAR_NAME[dtype]} can't be cast to the desired output "
                    f"type {_SCALAR_NAME[self.dtype]}"
                )
        result = f(self) if other is None and name == "bitwise_not" else f(self, other)
        check_in_place(self, result)
        return self.copy_(result)

    method.__name__ = name + "_"
    method.__doc__ = f"In-place ``{name}``: writes the result into ``self`` and returns it."
    return method


def _reflected(f):
    def method(self, other):
        if not isinstance(other, (bool, int, float, Tensor, _np.generic)):
            return NotImplemented
        return f(self, other)  # these operators commute

    return method


def _operand(f):
    """``f`` as an operator method: NotImplemented for operands that are not numbers or
    tensors (non-commuting, unlike ``_reflected``)."""

    def method(self, other):
        if not isinstance(other, (bool, int, float, Tensor, _np.generic)):
            return NotImplemented
        return f(self, other)

    return method


# ----- in-place view changes ------------------------------------------------------------------


def _restride(self, view, name, node):
    """Make ``self`` the view ``view()`` of its own storage (``.data`` keeps the storage), a
    write that moves ``_version``; with history, recorded by PyTorch's in-place node
    ``node`` over the view. The leaf check comes first, as PyTorch's (before the view's own
    argument checks)."""
    _core._refuse_leaf_write(self)
    recording = self.requires_grad and _core.is_grad_enabled()
    if recording and self._is_view():
        raise NotImplementedError(
            f"rustgrad does not implement torch.Tensor.{name} on a view with autograd history "
            f"yet; use the out-of-place form"
        )
    made = view()
    self.data = made.detach() if recording else made
    if recording:
        _core._function_apply(node, lambda saved, grad: (grad,), [made], self, [], True)
    _core._bump_version(self)
    return self


def unsqueeze_(self, dim):
    """In place: ``self`` becomes ``self.unsqueeze(dim)``."""
    return _restride(self, lambda: self.unsqueeze(dim), "unsqueeze_", "UnsqueezeBackward1")


def squeeze_(self, dim=None):
    """In place: ``self`` becomes ``self.squeeze(dim)``."""
    view = (lambda: self.squeeze()) if dim is None else (lambda: self.squeeze(dim))
    node = {type(None): "SqueezeBackward3", int: "SqueezeBackward4"}.get(
        type(dim), "SqueezeBackward5"
    )
    return _restride(self, view, "squeeze_", node)


def t_(self):
    """In place: ``self`` becomes ``self.t()``."""

    def view():
        if self.ndim > 2:
            raise RuntimeError(f"t_() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")  # fmt: skip
        return self.t()

    return _restride(self, view, "t_", "TBackward1")


def transpose_(self, dim0, dim1):
    """In place: ``self`` becomes ``self.transpose(dim0, dim1)`` (also ``swapaxes_``,
    ``swapdims_``)."""
    return _restride(self, lambda: self.transpose(dim0, dim1), "transpose_", "TransposeBackward1")


def _matrix_transpose(self):
    """The last two dims swapped (``x.mT``; a batch of matrices transposed)."""
    if self.ndim == 0:
        _warnings.warn("Tensor.mT is deprecated on 0-D tensors. This function is the identity in these cases.", stacklevel=2)  # fmt: skip
        return self
    if self.ndim < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.")  # fmt: skip
    return self.transpose(-2, -1)


def _adjoint(self):
    """The conjugate transpose of a batch of matrices (``x.mH``: ``x.mT`` for real dtypes)."""
    if self.ndim == 0:
        _warnings.warn("Tensor.mH is deprecated on 0-D tensors. Consider using x.conj().", stacklevel=2)  # fmt: skip
        return self
    if self.ndim < 2:
        raise RuntimeError(f"tensor.mH is only supported on matrices or batches of matrices. Got {self.ndim}-D tensor.")  # fmt: skip
    return self.transpose(-2, -1)


def _hermitian(self):
    """The conjugate transpose of a matrix (``x.H``: ``x.T`` for real dtypes, 0-d kept)."""
    if self.ndim == 0:
        return self
    if self.ndim != 2:
        raise RuntimeError(
            f"tensor.H is only supported on matrices (2-D tensors). Got {self.ndim}-D tensor."
            + (" For batches of matrices, consider using tensor.mH" if self.ndim > 2 else "")
        )
    return self.transpose(0, 1)


# ----- hooks ------------------------------------------------------------------------------------


def register_post_accumulate_grad_hook(self, hook):
    """Call ``hook(self)`` each time backward has accumulated this leaf's ``.grad`` (after
    its gradient hooks; not for ``autograd.grad``). ``hook`` must return None. Returns a
    handle whose ``remove()`` unregisters it."""
    import weakref

    # (weakly: the hook lives on the leaf, which must not keep its own Python object alive)
    tensor = weakref.ref(self)

    def call(_leaf):
        this = tensor()
        if this is not None and hook(this) is not None:
            raise RuntimeError("Tensor post accumulate grad hooks should return None.")

    return self._register_post_accumulate_grad_hook(call)


def _volatile(self):
    """Always False, with PyTorch's warning (``volatile`` was removed: use ``no_grad``)."""
    _warnings.warn("volatile was removed (Variable.volatile is always False)", UserWarning, stacklevel=2)  # fmt: skip
    return False


def __contains__(self, element):
    """``element in t``: whether any element of ``t`` equals ``element`` (a number or a
    tensor, broadcast), as PyTorch's ``(element == self).any()``."""
    import numbers

    if isinstance(element, (Tensor, numbers.Number)):
        return bool((element == self).any().item())
    raise RuntimeError(
        f"Tensor.__contains__ only supports Tensor or scalar, but you passed in a {type(element)}."
    )


def _bind():
    """Attach the methods and operators to ``Tensor``."""
    Tensor.__contains__ = __contains__
    Tensor.mT = property(_matrix_transpose, doc=_matrix_transpose.__doc__)
    Tensor.mH = property(_adjoint, doc=_adjoint.__doc__)
    Tensor.H = property(_hermitian, doc=_hermitian.__doc__)
    Tensor.volatile = property(_volatile, doc=_volatile.__doc__)
    for f in (new_zeros, new_ones, new_empty, new_empty_strided, new_full, new_tensor):
        setattr(Tensor, f.__name__, f)
    for f in (unsqueeze_, squeeze_, t_, transpose_, register_post_accumulate_grad_hook):
        setattr(Tensor, f.__name__, f)
    Tensor.swapaxes_ = Tensor.swapdims_ = transpose_
    for name, f in (("and", bitwise_and), ("or", bitwise_or), ("xor", bitwise_xor)):
        setattr(Tensor, f.__name__, f)
        setattr(Tensor, f.__name__ + "_", _in_place(f, f.__name__))
        setattr(Tensor, f"__{name}__", _reflected(f))
        setattr(Tensor, f"__r{name}__", _reflected(f))
        setattr(Tensor, f"__i{name}__", _in_place(f, f.__name__))
    for name, f in (("lshift", bitwise_left_shift), ("rshift", bitwise_right_shift)):
        setattr(Tensor, f.__name__, f)
        setattr(Tensor, f.__name__ + "_", _in_place(f, f.__name__))
        setattr(Tensor, f"__{name}__", _operand(f))
        setattr(Tensor, f"__r{name}__", _operand(lambda self, other, f=f: f(other, self)))
        setattr(Tensor, f"__i{name}__", _in_place(f, f.__name__))
    Tensor.bitwise_not = bitwise_not
    Tensor.bitwise_not_ = _in_place(bitwise_not, "bitwise_not")
    Tensor.__invert__ = _invert
