"""``rustgrad.special``, as ``torch.special``: the special functions under PyTorch's names.

Most are rustgrad's own ops under another name (``gammaln`` is ``lgamma``, ``psi`` and
``digamma`` are ``digamma``, ``expit`` is ``sigmoid``); the rest are composed of them:
``multigammaln`` (``mvlgamma``), ``entr`` (``-x ln x``), ``ndtr`` (the normal distribution
function, by PyTorch's formula ``(1 + erf(x / sqrt 2)) / 2``), ``xlog1py``. Each is
differentiable to any order. The Bessel, Airy, incomplete-gamma and orthogonal-polynomial
families, ``erfcx``, ``log_ndtr``, ``ndtri`` and ``zeta`` are not here: asking for one
raises ``NotImplementedError`` naming it (the drop-in layer's list of PyTorch's names).
"""

from __future__ import annotations

import math

from rustgrad import _core, _math, _ops
from rustgrad._core import Tensor
from rustgrad._math import _out
from rustgrad.autograd.function import Function

__all__ = [
    "digamma",
    "entr",
    "erf",
    "erfc",
    "erfinv",
    "exp2",
    "expit",
    "expm1",
    "gammaln",
    "log1p",
    "log_softmax",
    "logit",
    "logsumexp",
    "multigammaln",
    "ndtr",
    "polygamma",
    "psi",
    "round",
    "sinc",
    "softmax",
    "xlog1py",
    "xlogy",
]


def gammaln(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``ln |Γ(input)|``, as ``torch.lgamma``."""
    return _out("special_gammaln", input.lgamma(), out, input)


def digamma(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``ψ(input)``, the derivative of ``gammaln``."""
    return _out("special_digamma", input.digamma(), out, input)


psi = digamma


def polygamma(n: int, input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``ψ⁽ⁿ⁾(input)``, the ``n``-th derivative of ``digamma``."""
    n = _math._int_argument("special_polygamma", "n", 1, n)
    return _out("special_polygamma", input.polygamma(n), out, input)


def multigammaln(input: Tensor, p: int, *, out: Tensor | None = None) -> Tensor:
    """The log of the multivariate gamma function of dimension ``p``, as ``torch.mvlgamma``."""
    p = _math._int_argument("special_multigammaln", "p", 2, p)
    return _out("special_multigammaln", _math._mvlgamma(input, p), out)


def erf(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The error function."""
    return _out("special_erf", input.erf(), out, input)


def erfc(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``1 - erf(input)``."""
    return _out("special_erfc", input.erfc(), out, input)


def erfinv(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The inverse of ``erf``."""
    return _out("special_erfinv", input.erfinv(), out, input)


def exp2(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``2 ** input``."""
    return _out("special_exp2", input.exp2(), out, input)


def expm1(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``exp(input) - 1``, exact near 0."""
    return _out("special_expm1", input.expm1(), out, input)


def log1p(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``ln(1 + input)``, exact near 0."""
    return _out("special_log1p", input.log1p(), out, input)


def expit(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The logistic sigmoid ``1 / (1 + exp(-input))``."""
    return _out("special_expit", input.sigmoid(), out, input)


def logit(input: Tensor, eps=None, *, out: Tensor | None = None) -> Tensor:
    """``ln(p / (1 - p))``, with ``input`` clamped to ``[eps, 1 - eps]`` when ``eps`` is given."""
    return _out("special_logit", _ops.logit(input, eps), out, input)


def sinc(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The normalised sinc ``sin(π x) / (π x)`` (1 at 0)."""
    return _out("special_sinc", _ops.sinc(input), out, input)


def round(input: Tensor, *, decimals: int = 0, out: Tensor | None = None) -> Tensor:
    """Rounds half to even (to ``decimals`` places)."""
    return _out("special_round", input.round(decimals=decimals), out, input)


def xlogy(input, other, *, out: Tensor | None = None) -> Tensor:
    """``input * ln(other)``, 0 where ``input`` is 0."""
    return _ops._x_log(False, input, other, out, "xlogy")


def xlog1py(input, other, *, out: Tensor | None = None) -> Tensor:
    """``input * ln(1 + other)``, 0 where ``input`` is 0 (NaN where ``other`` is NaN)."""
    return _ops._x_log(True, input, other, out, "special_xlog1py")


class _Entr(Function):
    """``-x ln x`` with PyTorch's edges (its ``SpecialEntrBackward0``): 0 at 0, -inf below,
    NaN for NaN; the gradient ``-(1 + ln x)`` everywhere (inf at 0, NaN below)."""

    @staticmethod
    def forward(ctx, x):
        """The value (saving the input)."""
        ctx.save_for_backward(x)
        zero = _core.zeros((), dtype=x.dtype, device=x.device)
        below = _core.full((), -math.inf, dtype=x.dtype, device=x.device)
        value = _core.where(x > 0, -x * x.log(), _core.where(x == 0, zero, below))
        return _core.where(x.ne(x), x, value)

    @staticmethod
    def backward(ctx, grad):
        """``-grad (1 + ln x)``, in differentiable ops."""
        (x,) = ctx.saved_tensors
        return -grad * (1 + x.log())


_Entr._backward_name = "SpecialEntrBackward0"


def entr(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The elementwise entropy ``-x ln x``: 0 at 0, ``-inf`` below."""
    x = input if input.is_floating_point() else input.to(_core.get_default_dtype())
    return _out("special_entr", _Entr.apply(x), out, x)


def ndtr(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The standard normal distribution function ``P(Z <= input)``, by PyTorch's formula
    ``(1 + erf(input / sqrt 2)) / 2`` (so its values, rounding in the far left tail
    included)."""
    x = input if input.is_floating_point() else input.to(_core.get_default_dtype())
    return _out("special_ndtr", (1 + (x * math.sqrt(0.5)).erf()) * 0.5, out)


def softmax(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """``exp(input)`` normalised to sum to 1 along ``dim``."""
    from rustgrad.nn import functional as F

    return F.softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """``ln softmax(input)`` along ``dim``, computed stably."""
    from rustgrad.nn import functional as F

    return F.log_softmax(input, dim, dtype=dtype)


def logsumexp(input: Tensor, dim, keepdim: bool = False, *, out: Tensor | None = None) -> Tensor:
    """``ln Σ exp(input)`` along ``dim``, computed stably."""
    return _out("special_logsumexp", input.logsumexp(dim, keepdim=keepdim), out)
