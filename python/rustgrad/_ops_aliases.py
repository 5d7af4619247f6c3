"""PyTorch's ``torch.``-level names of functional ops (``torch.conv2d``, ``torch.concatenate``),
and small elementwise ops programs use: ``heaviside``, ``gcd``, ``lcm``, ``ldexp``,
``logaddexp2``, ``rsub``, ``hardshrink`` as a method.

The aliases are the ``nn.functional`` functions themselves where PyTorch's signatures agree.
``gcd``/``lcm`` are integer-only and computed on the host (NumPy, exact); ``heaviside`` has
no gradient (PyTorch's "derivative ... is not implemented"); ``logaddexp2`` is PyTorch's
kernel formula with its backward (``Logaddexp2Backward0``).
"""

from __future__ import annotations

import numpy as _np

from rustgrad import _core, _native, _ops
from rustgrad import _math as _rmath
from rustgrad._core import Tensor
from rustgrad._memory_format import _in_memory_order

__all__: list[str] = []  # re-exported by ``rustgrad`` explicitly

_LN2 = 0.6931471805599453  # (log 2: the slope of 2 ** x is 2 ** x * log 2)

# nn.functional functions whose torch-level names take the same arguments
_FUNCTIONAL = [
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "avg_pool1d",
    "adaptive_avg_pool1d", "pixel_shuffle", "pixel_unshuffle", "prelu", "bilinear",
    "channel_shuffle", "hardshrink", "pdist",
]  # fmt: skip


def concatenate(tensors, axis=0, out=None, *, dim=None) -> Tensor:
    """:func:`cat` with NumPy's ``axis`` (PyTorch's alias; ``dim`` is taken too)."""
    from rustgrad import cat

    axis = axis if dim is None else dim
    return cat(tensors, axis) if out is None else cat(tensors, axis, out=out)


def _refuse(kernel: str, *tensors: Tensor, allowed) -> None:
    for t in tensors:
        if not allowed(t):
            name = _ops._SCALAR_NAMES.get(str(t.dtype).rpartition(".")[2])
            name = name or {"float32": "Float", "float64": "Double", "float16": "Half"}.get(
                str(t.dtype).rpartition(".")[2], "BFloat16"
            )
            raise NotImplementedError(f'"{kernel}_{t.device.type}" not implemented for \'{name}\'')  # fmt: skip


def _tensor_arg(name: str, other, position: int = 2, arg: str = "other") -> None:
    if not isinstance(other, Tensor):
        raise TypeError(
            f"{name}(): argument '{arg}' (position {position}) must be Tensor, not "
            f"{type(other).__name__}"
        )


def _host_binary(name, input: Tensor, other, f) -> Tensor:
    # (int-only ops: NumPy on the broadcast host values, exact)
    _tensor_arg(name, other)
    # (broadcast on the meta device first: PyTorch's error for shapes that do not)
    _core.zeros(tuple(input.shape), device="meta") + _core.zeros(tuple(other.shape), device="meta")  # fmt: skip
    dtype = _result_dtype(input, other)
    if dtype == _core.bool_ or dtype.is_floating_point:
        bad = input if (input.dtype == _core.bool_ or input.is_floating_point()) else other
        name_of = {"bool": "Bool", "float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16"}  # fmt: skip
        raise NotImplementedError(
            f'"{name}_{input.device.type}" not implemented for '
            f"'{name_of[str(dtype if dtype != _core.bool_ else bad.dtype).rpartition('.')[2]]}'"
        )
    a = input.detach().to(dtype).cpu().numpy()
    b = other.detach().to(dtype).cpu().numpy()
    values = _np.asarray(f(a, b)).astype(a.dtype, copy=False)
    values = _core.tensor(_np.array(values, order="C"), dtype=dtype, device=input.device)
    # (in the layout PyTorch's elementwise kernels give the operands' result, as the core's
    # binary ops do: a transposed operand gives a transposed result, whose flatten copies)
    like = input.detach().to(dtype) + other.detach().to(dtype)
    out = _in_memory_order(like, lambda shape: _core.zeros(shape, dtype=dtype, device=input.device))  # fmt: skip
    out.copy_(values)
    out._forget_writes()  # (one kernel's result: version 0)
    return out


def _result_dtype(input: Tensor, other: Tensor):
    return (_core.zeros((1,) * bool(input.ndim), dtype=input.dtype) + _core.zeros((1,) * bool(other.ndim), dtype=other.dtype)).dtype  # fmt: skip


def gcd(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """The greatest common divisor of integer elements (non-negative; ``gcd(0, 0) = 0``)."""
    result = _host_binary("gcd", input, other, _np.gcd)
    return _rmath._out("gcd", result, out, input, other)


def lcm(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """The least common multiple of integer elements (non-negative; 0 if either is 0)."""

    def f(a, b):
        g = _np.gcd(a, b)
        with _np.errstate(all="ignore"):
            return _np.where(g == 0, 0, _np.abs(a // _np.where(g == 0, 1, g) * b))

    result = _host_binary("lcm", input, other, f)
    return _rmath._out("lcm", result, out, input, other)


def gcd_(self: Tensor, other: Tensor) -> Tensor:
    """In-place :func:`gcd`."""
    return _in_place(self, gcd(self, other))


def lcm_(self: Tensor, other: Tensor) -> Tensor:
    """In-place :func:`lcm`."""
    return _in_place(self, lcm(self, other))


def _in_place(self: Tensor, result: Tensor) -> Tensor:
    from rustgrad._math import check_in_place

    check_in_place(self, result)
    return self.copy_(result)


def heaviside(input: Tensor, values: Tensor, *, out=None) -> Tensor:
    """The Heaviside step: ``values`` where ``input`` is 0, else ``input > 0`` (0 at NaN),
    in ``input``'s dtype (both must have it); no gradient."""
    _tensor_arg("heaviside", values, arg="values")
    if input.dtype != values.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    # (PyTorch's NotImplemented node: its backward raises)
    result = _native.underivable("heaviside", _heaviside(input, values), [input, values])
    return _rmath._out("heaviside", result, out, input, values)


def _heaviside(input: Tensor, values: Tensor) -> Tensor:
    x = input.detach()
    return _core.where(x == 0, values.detach(), (x > 0).to(x.dtype))


def heaviside_(self: Tensor, values: Tensor) -> Tensor:
    """In-place :func:`heaviside`."""
    return _in_place(self, heaviside(self, values))


def ldexp(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """``input * 2 ** other`` (floating: an integer ``input`` gives the default dtype)."""
    _tensor_arg("ldexp", other)
    forward = lambda: input * (2.0**other)
    result = _native.record("LdexpBackward0", [input, other], forward, [other, _native.RESULT], _ldexp_backward(input.shape, input.dtype))  # fmt: skip
    return _rmath._out("ldexp", result, out, input, other)


def _ldexp_backward(shape, dtype):
    def backward(grad, power, result):
        # (PyTorch's LdexpBackward0: it saves ``other`` and the result)
        g_input = _native.sum_to(grad * (2.0**power), shape).to(dtype)
        g_other = _native.sum_to(grad * result * _LN2, power.shape).to(power.dtype)
        return g_input, g_other

    return backward


def ldexp_(self: Tensor, other: Tensor) -> Tensor:
    """In-place :func:`ldexp`."""
    _tensor_arg("ldexp_", other, position=1)
    from rustgrad._math import check_in_place

    with _native.no_grad():
        check_in_place(self, self * (2.0**other))
    forward = lambda: self * (2.0**other)
    backward = _ldexp_backward(self.shape, self.dtype)
    return _native.record_inplace("LdexpBackward0", self, [other], forward, [other, _native.RESULT], backward)  # fmt: skip


def logaddexp2(input: Tensor, other: Tensor, *, out=None) -> Tensor:
    """``log2(2 ** input + 2 ** other)`` without overflow, as PyTorch's kernel: ``max +
    log2(1 + 2 ** -|input - other|)``, and ``input`` where both are the same infinity."""
    _tensor_arg("logaddexp2", other)
    _refuse("logaddexp2", input, other, allowed=lambda t: t.is_floating_point())

    def forward():
        a, b = input.detach(), other.detach()
        same_inf = a.isinf() & (a == b)
        m = _core.where(a < b, b, a)  # (std::max: NaN in ``input`` propagates here)
        body = m + (1 + (2.0 ** -(a - b).abs()).to(m.dtype)).log2()
        return _core.where(same_inf, a.to(body.dtype), body)

    def backward(grad, a, b):
        # PyTorch's: grad / (1 + 2 ** (other - self)) and the mirror
        da = grad / (1 + 2.0 ** (b - a))
        db = grad / (1 + 2.0 ** (a - b))
        return (da.sum_to_size(a.shape).to(a.dtype), db.sum_to_size(b.shape).to(b.dtype))

    result = _native.record("Logaddexp2Backward0", [input, other], forward, [input, other], backward)  # fmt: skip
    return _rmath._out("logaddexp2", result, out, input, other)


def rsub(input: Tensor, other, *, alpha=1) -> Tensor:
    """``other - alpha * input`` (``other`` a tensor or a number, which takes part in type
    promotion as a number does)."""
    if isinstance(other, Tensor):
        return other.sub(input, alpha=alpha) if alpha != 1 else other - input
    return input.__rsub__(other) if alpha == 1 else (input * alpha).__rsub__(other)


FUNCTIONS = [
    "concatenate", "gcd", "lcm", "gcd_", "lcm_", "heaviside", "ldexp", "ldexp_",
    "logaddexp2", "rsub", *_FUNCTIONAL,
]  # fmt: skip


def _bind():
    """Attach the functional aliases to this module and the methods to ``Tensor``."""
    from rustgrad.nn import functional as F

    g = globals()
    for name in _FUNCTIONAL:
        g[name] = getattr(F, name)
    for name in ("gcd", "lcm", "heaviside", "ldexp", "logaddexp2"):
        setattr(Tensor, name, _ops._as_method(g[name]))
    for name in ("gcd_", "lcm_", "heaviside_", "ldexp_"):
        setattr(Tensor, name, g[name])
    Tensor.hardshrink = lambda self, lambd=0.5: F.hardshrink(self, lambd)
    Tensor.hardshrink.__doc__ = F.hardshrink.__doc__
