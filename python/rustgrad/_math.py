"""Functional forms of the elementwise math methods (``rustgrad.tan(x)`` is ``x.tan()``), each
with PyTorch's ``out=`` keyword, and ``_out``, the one helper behind every ``out=`` of the
``rustgrad`` namespace."""

from __future__ import annotations

import builtins as _builtins
import functools as _functools
import math as _math
import typing as _typing
import warnings as _warnings

from rustgrad import _core
from rustgrad._core import Tensor

if _typing.TYPE_CHECKING:
    from rustgrad._core import _Operand

__all__: list[str] = []  # (the names are re-exported by ``rustgrad`` explicitly)

_KIND = {_core.bool_: 0, _core.int64: 1, _core.float32: 2, _core.float64: 2}
_SCALAR_NAME = {
    _core.bool_: "Bool",
    _core.int64: "Long",
    _core.float32: "Float",
    _core.float64: "Double",
}
# the dtypes of issue 11 point 4
_KIND.update({_core.uint8: 1, _core.int8: 1, _core.int16: 1, _core.int32: 1})
_KIND.update({_core.float16: 2, _core.bfloat16: 2})
_SCALAR_NAME.update({_core.uint8: "Byte", _core.int8: "Char", _core.int16: "Short"})
_SCALAR_NAME.update({_core.int32: "Int", _core.float16: "Half", _core.bfloat16: "BFloat16"})


def check_in_place(self: Tensor, result: Tensor) -> None:
    """PyTorch's refusals for writing an op's ``result`` into ``self``: a dtype of a higher
    kind (a float into an integer tensor, an integer into bool) or another shape."""
    if _KIND[result.dtype] > _KIND[self.dtype]:
        raise RuntimeError(
            f"result type {_SCALAR_NAME[result.dtype]} can't be cast to the desired output "
            f"type {_SCALAR_NAME[self.dtype]}"
        )
    if tuple(result.shape) != tuple(self.shape):
        raise RuntimeError(
            f"output with shape {list(self.shape)} doesn't match the broadcast shape "
            f"{list(result.shape)}"
        )


def _out(name: str, result: Tensor, out: Tensor | None, *operands, frames: int = 0) -> Tensor:
    """``result``, or, when ``out`` is given, ``result`` written into ``out`` (which is
    returned), as PyTorch's ``out=``: no autograd through it, the result's dtype must cast to
    ``out``'s (no float into an integer tensor, no integer into bool), and an ``out`` of
    another shape is resized (with PyTorch's deprecation warning unless it was empty). An
    ``out`` of the result's shape keeps its strides (the values are written through them).
    A resized one is laid out as PyTorch's kernel lays it out: for an elementwise op (its
    TensorIterator ``operands`` given: the tensors, and numbers PyTorch wraps as 0-d
    tensors) in the operands' memory order, as the op's own result
    (``_iterator_strides``); otherwise (reductions, matmul, composites) row-major.
    ``frames``: the helpers between the public function and this one (the resize warning
    names the public function's caller)."""
    if out is None:
        return result
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    refuse_grad_out(name, result, out)
    if _KIND[result.dtype] > _KIND[out.dtype]:
        raise RuntimeError(
            f"result type {_SCALAR_NAME[result.dtype]} can't be cast to the desired output "
            f"type {_SCALAR_NAME[out.dtype]}"
        )
    shape = tuple(result.shape)
    strides = None
    if operands and tuple(out.shape) != shape:
        from rustgrad._memory_format import _iterator_strides

        strides = _iterator_strides(shape, operands)
    resize_out(out, shape, strides, stacklevel=4 + frames)
    out.copy_(result)
    return out


def refuse_grad_out(name: str, *tensors: Tensor) -> None:
    """PyTorch's refusal of ``out=`` where grad mode is on and one of ``tensors`` (the
    inputs, or a result computed from them, and the outs) requires grad."""
    if _core.is_grad_enabled() and any(t.requires_grad for t in tensors):
        raise RuntimeError(
            f"{name}(): functions with out=... arguments don't support automatic "
            "differentiation, but one of the arguments requires grad."
        )


def resize_out(out: Tensor, shape: tuple, strides: tuple | None = None, stacklevel=3) -> None:
    """PyTorch's ``resize_output``: ``out`` given ``shape`` (new storage, contiguous, or at
    ``strides`` where the op's kernel restrides it: a structured kernel's own layout) unless it
    has it already, with PyTorch's deprecation warning unless it was empty. ``stacklevel``
    counts from the caller of this function's caller."""
    if tuple(out.shape) == tuple(shape):
        return
    if out.numel() != 0:
        _warnings.warn(
            "An output with one or more elements was resized since it had shape "
            f"{list(out.shape)}, which does not match the required output shape "
            f"{list(shape)}. This behavior is deprecated, and in a future PyTorch "
            "release outputs will not be resized unless they have zero elements. You can "
            "explicitly reuse an out tensor t by resizing it, inplace, to zero elements "
            "with t.resize_(0).",
            UserWarning,
            stacklevel=stacklevel,
        )
    if strides is None:
        out.data = _core.zeros(tuple(shape), dtype=out.dtype, device=out.device)
    else:
        out.data = _core.empty_strided(
            tuple(shape), tuple(strides), dtype=out.dtype, device=out.device
        )


# ----- one tensor (same shape as ``input``) ------------------------------------------------


def tan(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise tangent, in radians, as ``input.tan()``."""
    return _out("tan", input.tan(), out, input)


def asin(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise arcsine (NaN outside ``[-1, 1]``), as ``input.asin()``."""
    return _out("asin", input.asin(), out, input)


def acos(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise arccosine (NaN outside ``[-1, 1]``), as ``input.acos()``."""
    return _out("acos", input.acos(), out, input)


def atan(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise arctangent, as ``input.atan()``."""
    return _out("atan", input.atan(), out, input)


def sinh(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise hyperbolic sine, as ``input.sinh()``."""
    return _out("sinh", input.sinh(), out, input)


def cosh(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise hyperbolic cosine, as ``input.cosh()``."""
    return _out("cosh", input.cosh(), out, input)


def asinh(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise inverse hyperbolic sine, as ``input.asinh()``."""
    return _out("asinh", input.asinh(), out, input)


def acosh(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise inverse hyperbolic cosine (NaN below 1), as ``input.acosh()``."""
    return _out("acosh", input.acosh(), out, input)


def atanh(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise inverse hyperbolic tangent, as ``input.atanh()``."""
    return _out("atanh", input.atanh(), out, input)


def erf(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise error function, as ``input.erf()``."""
    return _out("erf", input.erf(), out, input)


def erfc(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise ``1 - erf(input)``, as ``input.erfc()``."""
    return _out("erfc", input.erfc(), out, input)


def erfinv(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise inverse error function, as ``input.erfinv()``."""
    return _out("erfinv", input.erfinv(), out, input)


def lgamma(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise ``ln |Γ(input)|``, as ``input.lgamma()``."""
    return _out("lgamma", input.lgamma(), out, input)


def digamma(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise ``ψ(input)``, the derivative of ``lgamma``, as ``input.digamma()``."""
    return _out("digamma", input.digamma(), out, input)


def _int_argument(function: str, name: str, position: int, value) -> int:
    """``value`` as an int argument of ``function``, refused (bools and floats too) with
    PyTorch's words."""
    if isinstance(value, _builtins.bool) or not hasattr(value, "__index__"):
        raise TypeError(
            f"{function}(): argument '{name}' (position {position}) must be int, not "
            f"{type(value).__name__}"
        )
    return value.__index__()


def polygamma(n: int, input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise ``ψ⁽ⁿ⁾(input)``, the ``n``-th derivative of ``digamma`` (note the order of
    the arguments, PyTorch's), as ``input.polygamma(n)``."""
    n = _int_argument("polygamma", "n", 1, n)
    return _out("polygamma", input.polygamma(n), out, input)


def mvlgamma(input: Tensor, p: int, *, out: Tensor | None = None) -> Tensor:
    """The log of the multivariate gamma function of dimension ``p``:
    ``Σ_{i<p} lgamma(input - i/2) + p(p - 1)/4 · ln π``, elementwise."""
    return _out("mvlgamma", _mvlgamma(input, _int_argument("mvlgamma", "p", 2, p)), out)


def _mvlgamma_shifts(self: Tensor, p: int) -> Tensor:
    """PyTorch's arguments of ``mvlgamma``: -(p - 1)/2, ..., -1/2, 0 added to each element
    (along a new last dimension)."""
    dtype = self.dtype if self.is_floating_point() else _core.get_default_dtype()
    shifts = _core.arange(-p * 0.5 + 0.5, 0.5, 0.5, dtype=dtype, device=self.device)
    return shifts + self.unsqueeze(-1)


def _mvlgamma_values(self: Tensor, p: int) -> Tensor:
    return _mvlgamma_shifts(self, p).lgamma().sum(-1) + p * (p - 1) * _math.log(_math.pi) * 0.25


def _mvlgamma(self: Tensor, p: int) -> Tensor:
    """The log of the multivariate gamma function of dimension ``p``, elementwise (one
    ``MvlgammaBackward0`` node, as PyTorch records it)."""
    p = _int_argument("mvlgamma", "p", 1, p)
    if self.dtype == _core.bool_:
        raise RuntimeError("The input tensor may not be a boolean tensor.")
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    if self.requires_grad and _core.is_grad_enabled():
        return _mvlgamma_function().apply(self, p)
    return _mvlgamma_values(self, p)


@_functools.cache
def _mvlgamma_function():
    """``mvlgamma`` as one node: its gradient is the sum of the shifted digammas."""
    from rustgrad.autograd.function import Function

    class Mvlgamma(Function):
        @staticmethod
        def forward(ctx, x, p):
            """The value (saving the input)."""
            ctx.save_for_backward(x)
            ctx.p = p
            return _mvlgamma_values(x, p)

        @staticmethod
        def backward(ctx, grad):
            """``grad * Σ_i digamma(x - i/2)``, in differentiable ops."""
            (x,) = ctx.saved_tensors
            return grad * _mvlgamma_shifts(x, ctx.p).digamma().sum(-1), None

    Mvlgamma._backward_name = "MvlgammaBackward0"
    return Mvlgamma


def _mvlgamma_in_place(self: Tensor, p: int) -> Tensor:
    """``mvlgamma(p)`` in place (computed on a copy, so the node's saved input is not the
    tensor overwritten)."""
    from rustgrad import _native

    result = _mvlgamma(self.clone() if self.requires_grad else self, p)
    check_in_place(self, result)
    return _native.write_result(self, result)


Tensor.mvlgamma = _mvlgamma
Tensor.mvlgamma_ = _mvlgamma_in_place


_true_div = Tensor.div
_true_div_ = Tensor.div_


def _rounded_quotient(a: Tensor, b, rounding_mode: str) -> Tensor:
    """``a / b`` rounded towards zero (``"trunc"``) or down (``"floor"``) (run without history):
    floats as PyTorch's ``trunc(a / b)`` and ``floor_divide``, integers exactly."""
    floor = a.floor_divide(b)
    if rounding_mode == "floor":
        return floor
    if floor.dtype.is_floating_point:
        scalar_b = not isinstance(b, Tensor) or (b.numel() == 1 and b.dtype != floor.dtype)
        if floor.dtype in (_core.float16, _core.bfloat16) and scalar_b:
            # PyTorch's kernel divides by a scalar in float32 and rounds once, after trunc.
            b = b.float() if isinstance(b, Tensor) else b
            return a.float().div(b).trunc().to(floor.dtype)
        return a.div(b).trunc()
    # Integers: the floor quotient, one up where a remainder is left and the signs differ.
    # (a number is in the quotient's dtype, as PyTorch's kernel reads it: -3 is 253 in uint8;
    # so is a bool operand or a 0-d tensor of another integer dtype)
    b = b if isinstance(b, Tensor) else _core.tensor(b)
    a, b = (t.to(floor.dtype) if t.dtype != floor.dtype else t for t in (a, b))
    inexact = (a - floor * b) != 0
    return floor + (inexact & ((a < 0) != (b < 0))).to(floor.dtype)


def _check_rounding_mode(rounding_mode, a: Tensor, b) -> None:
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError(
            "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"'{rounding_mode}'"
        )
    b_dtype = b.dtype if isinstance(b, Tensor) else None
    if a.dtype == _core.bool_ and (b_dtype == _core.bool_ or isinstance(b, bool)):
        kernel = "div_trunc" if rounding_mode == "trunc" else "div_floor"
        raise NotImplementedError(f"\"{kernel}_cpu\" not implemented for 'Bool'")


def _zeros_of(t: Tensor) -> Tensor:
    return _core.zeros(tuple(t.shape), dtype=t.dtype, device=t.device)


def _div(self: Tensor, other, *, rounding_mode: str | None = None) -> Tensor:
    """``self / other`` (broadcast shape): true division, or rounded towards zero
    (``rounding_mode="trunc"``) or down (``"floor"``), whose gradient is zero as PyTorch's
    ``DivBackward2``."""
    if rounding_mode is None:
        return _true_div(self, other)
    _check_rounding_mode(rounding_mode, self, other)
    from rustgrad import _native

    inputs = [t for t in (self, other) if isinstance(t, Tensor)]
    return _native.record(
        "DivBackward2",
        inputs,
        lambda: _rounded_quotient(self, other, rounding_mode),
        [],
        lambda g: [_zeros_of(t) if t.requires_grad else None for t in inputs],
    )


def _div_in_place(self: Tensor, other, *, rounding_mode: str | None = None) -> Tensor:
    """``div`` in place."""
    if rounding_mode is None:
        return _true_div_(self, other)
    _core._refuse_leaf_write(self)
    result = _div(self.detach(), other.detach() if isinstance(other, Tensor) else other,
                  rounding_mode=rounding_mode)  # fmt: skip
    check_in_place(self, result)
    from rustgrad import _native

    others = [other] if isinstance(other, Tensor) else []
    return _native.record_inplace(
        "DivBackward2",
        self,
        others,
        lambda: result,
        [],
        lambda g: (
            [_zeros_of(g) if self.requires_grad else None]
            + [_zeros_of(o) if o.requires_grad else None for o in others]
        ),
    )


Tensor.div = _div
Tensor.div_ = _div_in_place


def log2(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise base-2 logarithm, as ``input.log2()``."""
    return _out("log2", input.log2(), out, input)


def log10(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise base-10 logarithm, as ``input.log10()``."""
    return _out("log10", input.log10(), out, input)


def log1p(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise ``log(1 + input)``, accurate near 0, as ``input.log1p()``."""
    return _out("log1p", input.log1p(), out, input)


def expm1(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise ``exp(input) - 1``, accurate near 0, as ``input.expm1()``."""
    return _out("expm1", input.expm1(), out, input)


def exp2(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise ``2 ** input``, as ``input.exp2()``."""
    return _out("exp2", input.exp2(), out, input)


def rsqrt(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise ``1 / sqrt(input)``, as ``input.rsqrt()``."""
    return _out("rsqrt", input.rsqrt(), out, input)


def reciprocal(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise ``1 / input`` (integers give floats), as ``input.reciprocal()``."""
    return _out("reciprocal", input.reciprocal(), out, input)


def square(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise ``input * input``, as ``input.square()``."""
    return _out("square", input.square(), out, input)


def sign(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise -1, 0 or 1 (same dtype), as ``input.sign()``."""
    return _out("sign", input.sign(), out, input)


def floor(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise rounding down (same dtype), as ``input.floor()``."""
    return _out("floor", input.floor(), out, input)


def ceil(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise rounding up (same dtype), as ``input.ceil()``."""
    return _out("ceil", input.ceil(), out, input)


def trunc(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise rounding toward zero (same dtype), as ``input.trunc()``."""
    return _out("trunc", input.trunc(), out, input)


def frac(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise ``input - trunc(input)``, as ``input.frac()``."""
    return _out("frac", input.frac(), out, input)


def round(input: Tensor, *, decimals: int = 0, out: Tensor | None = None) -> Tensor:
    """Elementwise rounding to the nearest, ties to even (to ``decimals`` places when given),
    as ``input.round(decimals=decimals)``."""
    return _out("round", input.round(decimals), out, input)


# ----- two tensors (broadcast shape) -------------------------------------------------------


def atan2(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise arctangent of ``input / other`` in the correct quadrant, as
    ``input.atan2(other)``."""
    return _out("atan2", input.atan2(other), out, input, other)


def fmod(input: Tensor, other: _Operand, *, out: Tensor | None = None) -> Tensor:
    """Elementwise remainder with ``input``'s sign (C's ``fmod``), as ``input.fmod(other)``."""
    return _out("fmod", input.fmod(other), out, input, other)


def _number_input(input, other):
    """``input`` as PyTorch's wrapped 0-d tensor where a number is given (``remainder(-3, t)``)."""
    if isinstance(input, Tensor) or not isinstance(other, Tensor):
        return input
    number = _core._number_beside(input, other)
    return input if number is None else number


def remainder(input: Tensor, other: _Operand, *, out: Tensor | None = None) -> Tensor:
    """Elementwise remainder with ``other``'s sign (Python's ``%``), as
    ``input.remainder(other)``."""
    input = _number_input(input, other)
    return _out("remainder", input.remainder(other), out, input, other)


def floor_divide(input: Tensor, other: _Operand, *, out: Tensor | None = None) -> Tensor:
    """Elementwise ``floor(input / other)`` (Python's ``//``), as
    ``input.floor_divide(other)``."""
    input = _number_input(input, other)
    return _out("floor_divide", input.floor_divide(other), out, input, other)


def hypot(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise ``sqrt(input ** 2 + other ** 2)``, as ``input.hypot(other)``."""
    return _out("hypot", input.hypot(other), out, input, other)


def logaddexp(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise ``log(exp(input) + exp(other))`` without overflow, as
    ``input.logaddexp(other)``."""
    return _out("logaddexp", input.logaddexp(other), out, input, other)


def lerp(
    input: Tensor,
    end: Tensor,
    weight: Tensor | _builtins.float,
    *,
    out: Tensor | None = None,
) -> Tensor:
    """``input + weight * (end - input)`` (broadcast shape), as ``input.lerp(end, weight)``."""
    operands = (input, end, weight) if isinstance(weight, Tensor) else (input, end)
    return _out("lerp", input.lerp(end, weight), out, *operands)


def selu(input: Tensor) -> Tensor:
    """SELU, ``scale * elu(input, alpha)`` with PyTorch's fixed constants, as
    ``torch.selu``."""
    return _core.elu(input, _SELU_ALPHA, _SELU_SCALE)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
