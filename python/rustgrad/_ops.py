"""Reductions, scans, sorting, linear algebra, indexing and shape ops of issue 11 (point 2),
composed from the differentiable ops of ``_core`` (so every one has a backward on both
backends, second order included), and attached to ``Tensor`` as methods by ``rustgrad``.

How each is built (what PyTorch would call its graph differs: these record the nodes of the
ops they are made of, e.g. ``gather`` records ``IndexBackward0``, not ``GatherBackward0``):

- scans and products (``cumsum``, ``cumprod``, ``prod``): log2(n) passes of shifted adds or
  pairwise products (exact at zeros, unlike a log/exp formulation);
- order statistics (``sort``, ``argsort``, ``topk``, ``kthvalue``, ``median``, ``unique``,
  ``nonzero``): positions are found on the host (NumPy, stable), values are then gathered
  from the tensor itself, so gradients flow through the gather;
- gathers and scatters: flat positions computed on the host, then one ``index`` (gather),
  one indexed write (scatter), or the adjoint of an ``index`` (``_add_at``: scatter_add,
  index_add);
- everything else from views, ``where``, ``mul``/``sum`` and ``matmul``.
"""

from __future__ import annotations

import builtins as _builtins
import functools as _functools
import inspect as _inspect
import math as _math

import numpy as _np

from rustgrad import _core, _native, _saved
from rustgrad._core import Tensor
from rustgrad._memory_format import (
    _computed_in_layout_order,
    _computed_in_memory_order,
    _in_memory_order,
    contiguous_format,
)

__all__: list[str] = []  # re-exported by ``rustgrad`` explicitly

_bool, _int64, _f32, _f64 = _core.bool_, _core.int64, _core.float32, _core.float64


# ----- helpers --------------------------------------------------------------------------------


def _scalar_name(dtype) -> str:
    """PyTorch's scalar type name of ``dtype`` in its messages (``Long``, ``Float``, ...)."""
    from rustgrad._tensor_methods import _scalar_name as name

    return name(dtype)


def _wrap(dim: int, ndim: int) -> int:
    """``dim`` wrapped into ``[0, ndim)`` (a 0-d tensor takes -1 and 0), with PyTorch's error."""
    n = _builtins.max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
        )
    return dim % n


def _axis(dim, axis, keepdim, keepdims):
    """PyTorch's ``dim``/``keepdim`` or NumPy's ``axis``/``keepdims`` (not both)."""
    if axis is not None:
        if dim is not None and dim != ():
            raise TypeError("got both 'dim' and its alias 'axis'")
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    return dim, _builtins.bool(keepdim)


def _dims(dim, ndim: int) -> list[int]:
    """Reduction dims (None or () means all), wrapped, each once."""
    if dim is None:
        return list(range(ndim))
    if isinstance(dim, int):
        dim = (dim,)
    out = []
    for d in dim:
        w = _wrap(d, ndim)
        if w in out:
            raise RuntimeError(f"dim {w} appears multiple times in the list of dims")
        out.append(w)
    if ndim == 0:
        return []
    return out if out else list(range(ndim))


def _host(x: Tensor) -> _np.ndarray:
    """``x``'s values as a NumPy array (no graph); bfloat16, which NumPy lacks, as the float32
    values it holds exactly."""
    x = x.detach().cpu()
    return (x.float() if x.dtype == _core.bfloat16 else x).numpy()


def _host_or_zeros(x: Tensor) -> _np.ndarray:
    """:func:`_host`, or zeros standing in for a meta tensor's values (a read-only view of one
    zero: no memory), for the ops whose result shapes never depend on values."""
    if x.is_meta:
        stand_in = _np.float32 if x.dtype.is_floating_point else _np.int64
        return _np.broadcast_to(_np.zeros((), stand_in), tuple(x.shape))
    return _host(x)


def _long(values, device) -> Tensor:
    """An int64 tensor of ``values`` on ``device``."""
    t = _core.tensor(_np.asarray(values, dtype=_np.int64), device="cpu")
    return t if str(device) == "cpu" else t.to(device)


# PyTorch's C++ scalar-type names, which its dtype errors show.
_SCALAR_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char"}
_SCALAR_NAMES.update(uint8="Byte", bool="Bool")


def _sum_dtype(x: Tensor, dtype):
    """The dtype of a sum-like result: ``dtype``, else int64 for integers and bools. An
    integer ``dtype`` for an input that requires grad is PyTorch's error."""
    if dtype is not None:
        if not dtype.is_floating_point and x.requires_grad and _core.is_grad_enabled():
            name = _SCALAR_NAMES.get(str(dtype).rpartition(".")[2], str(dtype))
            raise RuntimeError(f"Autograd not support dtype: {name}")
        return dtype
    return x.dtype if x.is_floating_point() else _int64  # (every integer type and bool)


def _keep(x: Tensor, dims: list[int], keepdim: bool) -> Tensor:
    """``x`` reduced over ``dims`` with keepdim=True, squeezed unless ``keepdim``."""
    if keepdim or not dims:
        return x
    return x.squeeze(tuple(dims)) if dims else x


def _to_end(x: Tensor, dims: list[int]) -> Tensor:
    """``x`` with ``dims`` moved to the end and merged into one (at least one element wide)."""
    rest = [d for d in range(x.ndim) if d not in dims]
    moved = x.permute(*rest, *dims) if x.ndim else x.reshape(1)
    lead = [x.shape[d] for d in rest]
    return moved.reshape(*lead, -1)


def _ones_like(x: Tensor) -> Tensor:
    return _core.full((), 1, dtype=x.dtype, device=x.device)


def _zero_of(x: Tensor) -> Tensor:
    """Zeros of ``x``'s shape whose gradient to ``x`` is 0 (not NaN where x is inf/NaN)."""
    return _core.where(_core.zeros((), dtype=_bool, device=x.device), x, _zeros((), x))


def _zeros(shape, like: Tensor, dtype=None) -> Tensor:
    return _core.zeros(tuple(shape), dtype=dtype or like.dtype, device=like.device)


def _flat_positions(shape, dim: int, index: _np.ndarray) -> _np.ndarray:
    """Row-major positions in a tensor of ``shape`` of the elements ``index`` addresses along
    ``dim`` (the other coordinates are ``index``'s own), as gather/scatter use them."""
    strides = _np.array([int(_np.prod(shape[i + 1 :])) for i in range(len(shape))], _np.int64)
    if index.ndim == 0:
        return index.reshape(1) * 1
    coords = _np.indices(index.shape, dtype=_np.int64)
    pos = _np.zeros(index.shape, _np.int64)
    for d in range(index.ndim):
        pos += (index if d == dim else coords[d]) * strides[d]
    return pos.reshape(-1)


def _check_index(name: str, x: Tensor, dim: int, index: Tensor, src: Tensor | None = None):
    """PyTorch's checks of gather/scatter's ``index``; its values, wrapped, as NumPy."""
    if not isinstance(index, Tensor) or index.dtype not in (_int64, _core.int32):
        kernel = "gather" if name == "gather" else "scatter"
        raise RuntimeError(f"{kernel}(): Expected dtype int32/int64 for index")
    xd, idd = _builtins.max(x.ndim, 1), _builtins.max(index.ndim, 1)
    if idd != xd and index.numel() != 0:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    ish = tuple(index.shape) or (1,)
    xsh = tuple(x.shape) or (1,)
    for d in range(len(ish)):
        if d != dim and index.numel() and ish[d] > xsh[d]:
            raise RuntimeError(
                f"Size does not match at dimension {d} expected index {list(index.shape)} to be "
                f"no larger than self {list(x.shape)} apart from dimension {dim}"
            )
        if src is not None and index.numel() and ish[d] > (tuple(src.shape) or (1,))[d]:
            raise RuntimeError(
                f"Size does not match at dimension {d} expected index {list(index.shape)} to be "
                f"no larger than src {list(src.shape)} apart from dimension {dim}"
            )
    idx = _host_or_zeros(index).astype(_np.int64)
    size = xsh[dim]
    bad = (idx < 0) | (idx >= size)  # (no wrapping of negative indices, as PyTorch)
    if bad.any():
        v = int(idx[bad].flat[0])
        raise RuntimeError(f"index {v} is out of bounds for dimension {dim} with size {size}")
    return idx


def _integer_index(index) -> bool:
    """An index tensor of an integer type (index_select/index_add take int32 too)."""
    return isinstance(index, Tensor) and not index.is_floating_point() and index.dtype != _bool


def _add_at(n: int, positions: _np.ndarray, values: Tensor) -> Tensor:
    """A length-``n`` tensor of zeros with ``values`` (flat) added at ``positions`` (repeats
    add up): the adjoint of an index, differentiable in ``values`` to every order."""
    from rustgrad import autograd

    values = values.reshape(-1)
    if positions.size == 0:
        return _zeros((n,), values) + values.sum() * 0
    with _core_enable_grad():
        z = _zeros((n,), values, dtype=values.dtype if values.is_floating_point() else _f64)
        z.requires_grad_(True)
        picked = z[_long(positions, "cpu")]
        g = values if values.is_floating_point() else values.to(_f64)
        (out,) = autograd.grad(picked, z, grad_outputs=g, create_graph=values.requires_grad)
    return out if values.is_floating_point() else out.to(values.dtype)


class _core_enable_grad:
    def __enter__(self):
        self.prev = _core.is_grad_enabled()
        _core._set_grad_enabled(True)

    def __exit__(self, *exc):
        _core._set_grad_enabled(self.prev)


def _named(kind: str):
    from rustgrad import return_types

    return getattr(return_types, kind)


# ----- reductions -----------------------------------------------------------------------------


def _pairwise(x: Tensor, combine, identity) -> Tensor:
    """``x`` folded along its last dim by ``combine`` in log2(n) passes of pairs."""
    while x.shape[-1] > 1:
        n = x.shape[-1]
        if n % 2:
            x = _core.cat(
                [x, _core.full((*x.shape[:-1], 1), identity, dtype=x.dtype, device=x.device)], -1
            )
        x = combine(x[..., 0::2], x[..., 1::2])
    return x


def _as_node(name, f, input):
    """``f(input)``, a composite of differentiable ops, recorded as PyTorch's one node
    ``name`` (what ``grad_fn`` prints), with the composite's derivatives of every order."""
    if not (input.requires_grad and _core.is_grad_enabled()):
        return f(input)
    from rustgrad.nn._conv_functional import _recorded_as

    return _recorded_as(name, f, input)


def prod(input: Tensor, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """Product of the elements (over ``dim`` if given); integers and bools give int64.
    Exact where elements are 0 (pairwise products, not a log/exp formula). The gradient is
    PyTorch's: ``result / input`` when no element is 0, else the product of the others."""
    dim, keepdim = _axis(dim, axis, keepdim, keepdims)
    x = input.to(_sum_dtype(input, dtype))
    name = "ProdBackward0" if dim is None else "ProdBackward1"
    if x.ndim == 0:
        # PyTorch's prod_backward passes a 0-d input's gradient through (no dependence on
        # the input under create_graph)
        _wrap(0 if dim is None else dim, 0)
        saved = _saved.saved_list(name, x)
        return _native.record(name, [x], x.clone, saved, lambda grad, *_: (grad,))
    of = _functools.partial(_prod_of, dim=dim, keepdim=keepdim)
    if not (x.requires_grad and _core.is_grad_enabled()):
        return of(x)

    def backward(grad, x, result):
        if not keepdim and dim is not None:
            grad, result = grad.unsqueeze(_wrap(dim, x.ndim)), result.unsqueeze(_wrap(dim, x.ndim))
        if not (x == 0).any():
            return (grad * (result / x),)  # (PyTorch's formula: NaN at an infinite factor)
        # with zeros, the product of the other factors: the composite's own gradient
        create_graph = _core.is_grad_enabled()
        with _core_enable_grad():
            xd = x if create_graph else x.detach().requires_grad_()
            out = of(xd)
            from rustgrad import autograd

            (gx,) = autograd.grad(out, xd, grad.reshape(out.shape), create_graph=create_graph)
        return (gx,)

    return _native.record(name, [x], lambda: of(x), [x, _native.RESULT], backward)


def _prod_of(x: Tensor, dim, keepdim) -> Tensor:
    dims = list(range(x.ndim)) if dim is None else _dims(dim, x.ndim)
    if dim is None:
        keepdim = False
    if x.numel() == 0:
        # the empty product is 1 (still connected to the graph, gradient 0)
        r = x.sum(tuple(dims), keepdim=True) + 1
        return _keep(r, dims, keepdim)
    merged = _to_end(x, dims)
    r = _pairwise(merged, lambda a, b: a * b, 1)
    if merged.shape[-1] == 1:
        r = r.clone()  # (one factor: the result must not be a view of the input)
    shape = [1 if d in dims else s for d, s in enumerate(x.shape)]
    return _keep(r.reshape(*shape) if x.ndim else r.reshape(()), dims, keepdim)


def _scan(x: Tensor, dim: int, combine, identity) -> Tensor:
    """Inclusive scan along ``dim`` (Hillis-Steele: log2(n) shifted combines)."""
    # (PyTorch's scans write a row-major result, whatever the input's layout)
    if x.ndim == 0 or x.shape[dim] <= 1:
        return (x * 1 if x.is_floating_point() else x.clone()).contiguous()
    moved = x.movedim(dim, -1)
    n = moved.shape[-1]
    s = 1
    while s < n:
        pad = _core.full((*moved.shape[:-1], s), identity, dtype=moved.dtype, device=moved.device)
        moved = combine(moved, _core.cat([pad, moved[..., : n - s]], -1))
        s *= 2
    return moved.movedim(-1, dim).contiguous()


def _scan_dim(name: str, dim, axis) -> int:
    """``dim``, or NumPy's ``axis=`` in its place (``A.cumsum(axis=0)``); PyTorch's errors."""
    if axis is None:
        if dim is None:
            raise TypeError(f'{name}() missing 1 required positional arguments: "dim"')
        return dim
    if dim is not None:
        raise TypeError(f"{name}() got an unexpected keyword argument 'axis'")
    return axis


def _scan_dtype(name, input, dtype):
    """The dtype a cumulative sum or product runs in (PyTorch has no bool kernel for it)."""
    if dtype == _core.bool_:
        raise NotImplementedError(f"\"{name}_out_{input.device.type}\" not implemented for 'Bool'")
    return _sum_dtype(input, dtype)


def cumsum(input: Tensor, dim: int | None = None, *, dtype=None, axis=None) -> Tensor:
    """Cumulative sum along ``dim``; integers and bools give int64."""
    dim = _scan_dim("cumsum", dim, axis)
    x = input.to(_scan_dtype("cumsum", input, dtype))
    out = _scan(x, _wrap(dim, x.ndim), lambda a, b: a + b, 0)
    return _saved.saving("CumsumBackward0", out, x)


def cumprod(input: Tensor, dim: int | None = None, *, dtype=None, axis=None) -> Tensor:
    """Cumulative product along ``dim``; integers and bools give int64."""
    dim = _scan_dim("cumprod", dim, axis)
    x = input.to(_scan_dtype("cumprod", input, dtype))
    out = _scan(x, _wrap(dim, x.ndim), lambda a, b: a * b, 1)
    return _saved.saving("CumprodBackward0", out, x)


def _correction(name, unbiased, correction):
    if unbiased is not None and correction is not None:
        raise TypeError(
            f"{name}() received an invalid combination of arguments - got (correction=int, "
            "unbiased=bool, )"
        )
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


def var(
    input: Tensor,
    dim=None,
    unbiased=None,
    keepdim=False,
    *,
    correction=None,
    axis=None,
    keepdims=None,
) -> Tensor:
    """Variance over ``dim`` (all if None) with Bessel's ``correction`` (default 1;
    ``unbiased=False`` is 0); NaN where ``n - correction <= 0``, as PyTorch."""
    if isinstance(dim, _builtins.bool):  # var(True): the old unbiased positional
        unbiased, dim = dim, None
    dim, keepdim = _axis(dim, axis, keepdim, keepdims)
    c = _correction("var", unbiased, correction)
    if not input.is_floating_point():
        raise RuntimeError("std and var only support floating point and complex dtypes")
    dims = _dims(dim, input.ndim)
    n = 1
    for d in dims:
        n *= input.shape[d]
    denom = _builtins.max(n - c, 0)
    if not denom and (dim is None or input.ndim == 0):
        # A full reduction without degrees of freedom: PyTorch's VarBackward0 gives
        # grad * where(x == mean, nan, inf), constant in x (never -inf).
        def forward():
            centred = input - input.mean()
            out = (centred * centred).sum() / 0.0
            return out.reshape((1,) * input.ndim) if keepdim else out

        def backward(grad, x):
            nan = _core.full_like(x, _math.nan)
            return (grad * _core.where(x == x.mean(), nan, _core.full_like(x, _math.inf)),)

        return _native.record("VarBackward0", [input], forward, [input], backward)

    def variance(input):
        mean = input.mean(tuple(dims), keepdim=True) if dims else input
        if dims:
            # One correction pass (the corrected two-pass algorithm): the mean's rounding
            # error is taken out, so equal values have a variance of exactly 0, as PyTorch's
            # Welford kernel gives (std's gradient is then its 0, not that of a rounding).
            mean = mean + (input - mean).mean(tuple(dims), keepdim=True)
        if not denom:
            # no degrees of freedom: inf/NaN, with PyTorch's gradient 2 (x - mean) / 0 (the
            # mean's own term, 0 elsewhere, would make it NaN here)
            mean = mean.detach()
        centred = input - mean
        sq = (centred * centred).sum(tuple(dims), keepdim=keepdim) if dims else centred * centred
        return sq / denom if denom else sq / 0.0

    def backward(grad, x):
        return (_var_backward(grad, x, dims, n - c, keepdim),)

    return _native.record("VarBackward0", [input], lambda: variance(input), [input], backward)


def _var_backward(grad, x, dims, dof, keepdim):
    """PyTorch's ``var_backward``: ``(2 / dof) * grad * (x - mean)``, in its order (``dof``,
    ``n - correction``, may be 0 or negative, as its division gives)."""
    if not keepdim:
        for d in sorted(dims):
            grad = grad.unsqueeze(d)
    mean = x.mean(tuple(dims), keepdim=True) if dims else x
    scale = 2.0 / dof if dof else _math.inf
    return scale * grad * (x - mean)


def std(
    input: Tensor,
    dim=None,
    unbiased=None,
    keepdim=False,
    *,
    correction=None,
    axis=None,
    keepdims=None,
) -> Tensor:
    """Standard deviation: ``var(...).sqrt()`` (same arguments)."""
    if isinstance(dim, _builtins.bool):
        unbiased, dim = dim, None

    def deviation(input):
        v = var(input, dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims)  # fmt: skip
        # PyTorch's gradient is 0 where the deviation is 0 (not sqrt's infinite slope)
        zero = v == 0
        return _core.where(zero, v * 0, _core.where(zero, _ones_like(v), v).sqrt())

    reduced, keep = _axis(dim, axis, keepdim, keepdims)
    c = _correction("std", unbiased, correction)
    if not input.is_floating_point():
        return deviation(input)  # (var's error)
    dims = _dims(reduced, input.ndim)
    n = 1
    for d in dims:
        n *= input.shape[d]
    if n - c <= 0 and (reduced is None or input.ndim == 0):
        # a full reduction without degrees of freedom: var's own case, composed
        return _as_node("StdBackward0", deviation, input)

    def backward(grad, x, result):
        # PyTorch's std_backward: var's, of grad / (2 std), 0 where std is 0 (a safe
        # divisor there, so that second derivatives are 0, not 0 * inf).
        zero = result == 0
        two_std = _core.where(zero, _ones_like(result), result * 2)
        g = _core.where(zero, _core.zeros((), dtype=grad.dtype, device=grad.device), grad / two_std)  # fmt: skip
        return (_var_backward(g, x, dims, n - c, keep),)

    forward = lambda: deviation(input)
    return _native.record("StdBackward0", [input], forward, [input, _native.RESULT], backward)


def amax(input: Tensor, dim=(), keepdim=False, *, axis=None, keepdims=None) -> Tensor:
    """Maximum over ``dim`` (a dim or tuple; () means all); the gradient is shared evenly
    between tied maxima, as PyTorch's ``amax``."""
    return _extreme(input, dim, keepdim, axis, keepdims, True)


def amin(input: Tensor, dim=(), keepdim=False, *, axis=None, keepdims=None) -> Tensor:
    """Minimum over ``dim`` (a dim or tuple; () means all); the gradient is shared evenly
    between tied minima, as PyTorch's ``amin``."""
    return _extreme(input, dim, keepdim, axis, keepdims, False)


def _extreme(x, dim, keepdim, axis, keepdims, largest):
    dim, keepdim = _axis(dim, axis, keepdim, keepdims)
    dims = _dims(dim if dim != () else None, x.ndim)
    if x.numel() == 0:
        name = "amax" if largest else "amin"
        if (dim is None or dim == ()) and x.ndim:
            raise RuntimeError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument."
            )
        given = [dim] if isinstance(dim, int) else list(dim)
        for d, g in zip(dims, given):
            if x.shape[d] == 0:  # (named as given, as PyTorch)
                raise IndexError(f"{name}(): Expected reduction dim {g} to have non-zero size.")
        # (an empty result)
        return _keep(x.sum(tuple(dims), keepdim=True).to(x.dtype), dims, keepdim)
    # One node, AmaxBackward0/AminBackward0, with PyTorch's formula (src/ops/reduce.rs).
    return _core._amax(x, dims, keepdim, largest)


def logsumexp(input: Tensor, dim=(), keepdim=False, *, axis=None, keepdims=None) -> Tensor:
    """``log(sum(exp(input)))`` over ``dim``, computed stably (shifted by the maximum);
    integers compute in float32."""
    x = input if input.is_floating_point() else input.to(_f32)
    return _saved.saving("LogsumexpBackward0", _logsumexp(x, dim, keepdim, axis, keepdims), x)


def _logsumexp(input: Tensor, dim, keepdim, axis, keepdims) -> Tensor:
    dim, keepdim = _axis(dim, axis, keepdim, keepdims)
    x = input if input.is_floating_point() else input.to(_f32)
    dims = _dims(dim if dim != () else None, x.ndim)
    if x.numel() == 0:
        # log(0) = -inf (or an empty result), with PyTorch's backward: grad * exp(x - result),
        # empty, and reading x (no 1/0 reaches the second derivatives)
        def forward():
            s = x.sum(tuple(dims), keepdim=True) if dims else x
            return _keep(s * 0.0 + float("-inf"), dims, keepdim)

        def backward(grad, x, result):
            if not keepdim:
                for d in sorted(dims):
                    grad, result = grad.unsqueeze(d), result.unsqueeze(d)
            return (grad * (x - result).exp(),)

        return _native.record("LogsumexpBackward0", [x], forward, [x, _native.RESULT], backward)
    m = amax(x.detach(), tuple(dims), keepdim=True) if dims else x.detach()
    m = _core.where((m - m) == 0, m, _zeros((), m))  # +-inf shifts by 0
    s = (x - m).exp().sum(tuple(dims), keepdim=True) if dims else (x - m).exp()
    return _keep(s.log() + m, dims, keepdim)


def _any_all(x, dim, keepdim, axis, keepdims, want_all):
    dim, keepdim = _axis(dim, axis, keepdim, keepdims)
    # (an empty ``dim``, ``()`` or ``[]``, reduces nothing, as PyTorch's all/any)
    no_dims = isinstance(dim, (tuple, list)) and len(dim) == 0
    dims = list(range(x.ndim)) if dim is None else [] if no_dims else _dims(dim, x.ndim)
    hits = (x == 0) if want_all else (x != 0)
    if not dims and (no_dims or x.ndim == 0):
        out = hits.logical_not() if want_all else hits
    else:
        count = hits.sum(tuple(dims), keepdim=keepdim)
        out = count == 0 if want_all else count > 0
    return out.to(_core.uint8) if x.dtype == _core.uint8 else out  # (PyTorch's uint8 result)


def any(input: Tensor, dim=None, keepdim=False, *, axis=None, keepdims=None) -> Tensor:
    """Whether any element (over ``dim``) is nonzero: a bool tensor."""
    return _any_all(input, dim, keepdim, axis, keepdims, False)


def all(input: Tensor, dim=None, keepdim=False, *, axis=None, keepdims=None) -> Tensor:
    """Whether every element (over ``dim``) is nonzero: a bool tensor."""
    return _any_all(input, dim, keepdim, axis, keepdims, True)


def norm(input: Tensor, p="fro", dim=None, keepdim=False, dtype=None) -> Tensor:
    """The ``p``-norm over ``dim`` (all if None): 2 and 'fro' Euclidean, 1, inf, -inf, 0
    (count of nonzeros) or any float; floating inputs only, as PyTorch."""
    if not input.is_floating_point():
        raise RuntimeError(
            "linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
            + _scalar_name(input.dtype)
        )
    x = input.to(dtype) if dtype is not None else input
    # (with dim None every dim is reduced; keepdim then keeps them all as size 1)
    dims = list(range(x.ndim)) if dim is None else _dims(dim, x.ndim)
    if p == "fro" or p is None:
        p = 2
    if p == "nuc":
        raise NotImplementedError("rustgrad: norm(p='nuc') (nuclear norm) is not implemented")
    if p == 2:
        # PyTorch's norm_backward for p = 2: x * (grad / norm), 0 where the norm is 0 (a
        # safe divisor there, so that second derivatives are 0, not 0 * inf).
        def backward(grad, x, result):
            if not keepdim:
                for d in sorted(dims):
                    grad, result = grad.unsqueeze(d), result.unsqueeze(d)
            zero = result == 0
            ratio = grad / _core.where(zero, _ones_like(result), result)
            return (x * _core.where(zero, _zero_of(ratio), ratio),)

        forward = _functools.partial(_vector_norm, x, p=2, dims=dims, keepdim=keepdim)
        return _native.record("LinalgVectorNormBackward0", [x], forward, [x, _native.RESULT], backward)  # fmt: skip
    if p in (_math.inf, -_math.inf):
        # PyTorch's norm_backward: the gradient is shared by the elements whose magnitude
        # is the norm, and by the NaNs (whose sgn is 0: a NaN norm passes no gradient)
        def backward(grad, x, result):
            if not keepdim:
                for d in sorted(dims):
                    grad, result = grad.unsqueeze(d), result.unsqueeze(d)
            magnitude = x.abs()
            hits = ((magnitude == result) | magnitude.isnan()).to(x.dtype)
            count = hits.sum(tuple(dims), keepdim=True) if dims else hits
            return (x.sgn() * ((grad / count) * hits),)

        forward = _functools.partial(_vector_norm, x, p=p, dims=dims, keepdim=keepdim)
        return _native.record("LinalgVectorNormBackward0", [x], forward, [x, _native.RESULT], backward)  # fmt: skip
    if p == 0:
        # a count: PyTorch's norm_backward gives an undefined gradient (``.grad`` stays None)
        forward = _functools.partial(_vector_norm, x, p=0, dims=dims, keepdim=keepdim)
        return _native.record(
            "LinalgVectorNormBackward0", [x], forward, [x, _native.RESULT], lambda *_: (None,)
        )
    return _as_node(
        "LinalgVectorNormBackward0",
        _functools.partial(_vector_norm, p=p, dims=dims, keepdim=keepdim),
        x,
    )


def _vector_norm(x: Tensor, p, dims, keepdim) -> Tensor:
    a = x.abs()

    def red(t):
        return t.sum(tuple(dims), keepdim=keepdim) if dims else t

    if p == _math.inf:
        return amax(a, tuple(dims), keepdim) if dims else a
    if p == -_math.inf:
        return amin(a, tuple(dims), keepdim) if dims else a
    if p == 0:
        return red((x != 0).to(x.dtype) + _zero_of(x))
    if p == 1:
        return red(a)
    if p == 2:
        # sqrt'(0) is inf: where the norm is 0 its gradient is 0, as PyTorch's
        squares = red(x * x)
        zero = squares.detach() == 0
        safe = _core.where(
            zero, _core.ones((), dtype=squares.dtype, device=squares.device), squares
        ).sqrt()
        return _core.where(zero, _zero_of(squares), safe)
    if p < 0:
        # A zero element makes the norm 0, with a zero gradient for its whole slice (as
        # PyTorch's norm.pow(1 - p) factor), not 0 * inf
        inf = _core.full((), _math.inf, dtype=a.dtype, device=a.device)
        one = _core.ones((), dtype=a.dtype, device=a.device)
        at_zero = a.detach() == 0
        total = red(_core.where(at_zero, inf, _core.where(at_zero, one, a).pow(p)))
        zero_norm = total.detach() == _math.inf
        safe = _core.where(zero_norm, one, total)
        return _core.where(zero_norm, _zero_of(total), safe.pow(1.0 / p))
    # pow's slope at 0 is inf for p < 1 (|x|^p) and at a zero sum for any p (sum^(1/p)):
    # PyTorch's gradient is 0 at both, so neither pow sees a 0 (the values are unchanged).
    one = _core.ones((), dtype=a.dtype, device=a.device)
    at_zero = a.detach() == 0
    powered = _core.where(at_zero, _zero_of(a), _core.where(at_zero, one, a).pow(p))
    total = red(powered)
    zero = total.detach() == 0
    return _core.where(zero, _zero_of(total), _core.where(zero, one, total).pow(1.0 / p))


def median(input: Tensor, dim=None, keepdim=False):
    """The lower median: of all elements (a 0-d tensor) or, with ``dim``, ``(values,
    indices)`` along it; NaN propagates."""
    _refuse_bool_median(input, dim)
    if dim is None:
        if input.numel() == 0:
            return input.sum() * _math.nan
        k = (input.numel() + 1) // 2

        def evenly(x):
            # PyTorch's evenly_distribute_backward: the gradient is shared equally by every
            # element equal to the median (by the NaNs where it is NaN)
            value = _kth(x.detach().reshape(-1), k, 0, False, True).values
            if not x.requires_grad:
                return value
            hits = x.detach().isnan() if value.isnan() else x.detach() == value
            share = hits.to(x.dtype) / hits.sum()
            # (only the hits are read: other infinities or NaNs stay out of the value)
            return value + ((_core.where(hits, x, value) - value) * share).sum()

        return _as_node("MedianBackward0", evenly, input)
    n = input.shape[_wrap(dim, input.ndim)] if input.ndim else 1
    r = _kth(input, (_builtins.max(n, 1) + 1) // 2, dim, keepdim, True, "median")
    return _saved.saving("MedianBackward1", _named("median")(r.values, r.indices), input)


def _refuse_bool_median(input: Tensor, dim) -> None:
    if input.dtype == _bool:
        kernel = "median_cpu" if dim is None else "median_out"
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def nanmedian(input: Tensor, dim=None, keepdim=False):
    """:func:`median` ignoring NaN: the lower median of the other elements (NaN where a row
    has nothing else)."""
    _refuse_bool_median(input, dim)
    if not input.is_floating_point():
        out = median(input, dim, keepdim)
        return out if dim is None else _named("nanmedian")(*out)
    if dim is None:
        if input.numel() == 0:
            return input.sum() * _math.nan

        def evenly(x):
            # PyTorch's evenly_distribute_backward, as median's
            a = _host(x.detach()).reshape(-1)
            count = int((~_np.isnan(a)).sum())
            flat = x.detach().reshape(-1)
            value = flat[int(_order(a, 0, False)[_builtins.max((count - 1) // 2, 0)])]
            if not x.requires_grad:
                return value.clone()
            hits = x.detach().isnan() if value.isnan() else x.detach() == value
            share = hits.to(x.dtype) / hits.sum()
            # (only the hits are read: the other NaNs stay out of the value)
            return value + ((_core.where(hits, x, value) - value) * share).sum()

        return _as_node("NanmedianBackward0", evenly, input)
    d = _wrap(dim, input.ndim)
    if input.ndim and not input.shape[d]:
        raise IndexError(f"median(): Expected reduction dim {d} to have non-zero size.")
    if not input.numel():
        values = input.sum(d, keepdim=keepdim)  # (empty, connected to the input)
        indices = _core.zeros(tuple(values.shape), dtype=_int64, device=input.device)
        return _saved.saving("NanmedianBackward1", _named("nanmedian")(values, indices), input)
    if input.ndim == 0:
        values, idx = _scalar_pick(input)
    else:
        a = _host_or_zeros(input)
        count = (~_np.isnan(a)).sum(axis=d, keepdims=True)
        pick = _np.take_along_axis(_order(a, d, False), _np.maximum((count - 1) // 2, 0), axis=d)
        values, idx = _gather_sorted(input, d, pick)
        if not keepdim:
            values, idx = values.squeeze(d), idx.squeeze(d)
    return _saved.saving("NanmedianBackward1", _named("nanmedian")(values, idx), input)


def _order(a: _np.ndarray, axis: int, descending: bool) -> _np.ndarray:
    """Stable argsort along ``axis``; NaN counts as the largest value, as PyTorch."""
    if a.dtype == _np.bool_:
        a = a.astype(_np.int8)
    if not descending:
        return _np.argsort(a, axis=axis, kind="stable")
    if a.dtype.kind == "f":
        key = _np.where(_np.isnan(a), -_np.inf, -a)
        nan_last = ~_np.isnan(a)
        return _np.lexsort((key, nan_last), axis=axis) if a.ndim else _np.zeros((), _np.int64)
    return _np.argsort(
        -a.astype(_np.int64) if a.dtype != _np.int64 else ~a, axis=axis, kind="stable"
    )


def _gather_sorted(x: Tensor, dim: int, order: _np.ndarray):
    idx = _long(order, x.device)
    return _gather(x, dim, idx), idx


def _sorted_in_layout(input: Tensor, d: int, descending: bool, values=True):
    """``(values, indices)`` of ``input`` sorted along dim ``d`` (or the indices alone), laid
    out as PyTorch's sort allocates them: ``input``'s strides when it is dense, else dense
    strides in its order (``infer_dense_strides``). Sorted with the dims permuted into that
    order, where the results are contiguous, and viewed back."""

    def f(x, order):
        pd = order.index(d)
        ordered = _order(_host_or_zeros(x), pd, descending)
        return _gather_sorted(x, pd, ordered) if values else _long(ordered, x.device)

    return _computed_in_layout_order(input, f)


# The argument kinds ``_Overloads`` checks (other kinds, such as torch.Generator, are not)
_ARG_TYPES = {
    "Tensor": lambda v: isinstance(v, Tensor),
    "bool": lambda v: isinstance(v, _builtins.bool),
    "int": lambda v: isinstance(v, int) and not isinstance(v, _builtins.bool),
    "Number": lambda v: isinstance(v, (int, float, _builtins.bool)),
}


class _Overloads:
    """A PyTorch function's (or method's) overloads, as its Python argument parser prints
    them, to refuse a call none of them takes with PyTorch's ``TypeError``: the one overload
    whose argument count fits reports its own error (a missing, surplus or mistyped
    argument), else "received an invalid combination of arguments"."""

    def __init__(self, name, *printed):
        self.name = name
        self.printed = printed
        self.params = []
        for text in printed:
            params, kwonly = [], False
            for arg in filter(None, text[1:-1].split(", ")):
                if arg == "*":
                    kwonly = True
                    continue
                decl, _, default = arg.partition(" = ")
                kind, _, pname = decl.rpartition(" ")
                params.append((pname, kind, default or None, kwonly))
            self.params.append(params)

    def check(self, args, kwargs):
        """Raise PyTorch's TypeError unless one overload takes ``args`` and ``kwargs``."""
        if _builtins.any(self._parse(p, args, kwargs, False) for p in self.params):
            return
        n = len(args) + len(kwargs)
        fits = [
            p for p in self.params if _builtins.sum(d is None for _, _, d, _ in p) <= n <= len(p)
        ]
        if len(fits) == 1:
            self._parse(fits[0], args, kwargs, True)
        raise self._invalid_combination(args, kwargs)

    def _parse(self, params, args, kwargs, explain):
        def fail(message):
            if explain:
                raise TypeError(message)
            return False

        name = self.name
        positional = _builtins.sum(not kwonly for *_, kwonly in params)
        required = _builtins.sum(d is None for _, _, d, _ in params)
        if len(args) > positional:
            if required != positional:
                return fail(f"{name}() takes from {required} to {positional} positional "
                            f"arguments but {len(args)} were given")  # fmt: skip
            return fail(f"{name}() takes {positional} positional argument"
                        f"{'' if positional == 1 else 's'} but {len(args)} were given")  # fmt: skip
        used = 0
        for i, (pname, kind, default, _) in enumerate(params):
            given = i < len(args)
            if given:
                value = args[i]
            elif pname in kwargs:
                value, used = kwargs[pname], used + 1
            else:
                if default is None:
                    missing = [f'"{p}"' for p, _, d, _ in params[i:] if d is None]
                    return fail(f"{name}() missing {len(missing)} required positional "
                                f"arguments: {', '.join(missing)}")  # fmt: skip
                continue
            if value is None and default == "None":
                continue
            if not _ARG_TYPES.get(kind, lambda v: True)(value):
                where = f" (position {i + 1})" if given else ""
                return fail(f"{name}(): argument '{pname}'{where} must be {kind}, not "
                            f"{type(value).__name__}")  # fmt: skip
        if used < len(kwargs):
            names = [p for p, *_ in params]
            for key in kwargs:
                if key not in names:
                    return fail(f"{name}() got an unexpected keyword argument '{key}'")
                if names.index(key) < len(args):
                    return fail(f"{name}() got multiple values for argument '{key}'")
        return True

    def _invalid_combination(self, args, kwargs):
        """PyTorch's message, quirks kept: keywords listed in reverse (its hash map's order),
        a trailing comma when no positional argument came, and under each overload whose
        printed parameter count (``*`` counted, names read as the last word, so a default's
        value) equals the arguments', the keywords not among its last parameters."""
        keys = list(reversed(kwargs))
        given = [type(a).__name__ for a in args] + [f"{k}={type(kwargs[k]).__name__}" for k in keys]  # fmt: skip
        got = ", ".join(given) if args else "".join(g + ", " for g in given)
        head = f"{self.name}() received an invalid combination of arguments - got ({got}), "
        lines = [head + "but expected one of:\n"]
        for text in self.printed:
            lines.append(f" * {text}\n")
            words = [a.rpartition(" ")[2] for a in filter(None, text[1:-1].split(", "))]
            if kwargs and len(words) == len(args) + len(kwargs):
                window = words[_builtins.max(len(words) - len(kwargs), 0) :]
                unmatched = [k for k in keys if k not in window]
                if unmatched:
                    lines.append("      didn't match because some of the keywords were "
                                 f"incorrect: {', '.join(unmatched)}\n")  # fmt: skip
        return TypeError("".join(lines))


_ARGSORT = _Overloads(
    "argsort",
    "(Tensor input, *, bool stable, int dim = -1, bool descending = False, Tensor out = None)",
    "(Tensor input, int dim = -1, bool descending = False)",
)


class _Omitted:
    """The default of a keyword whose mere presence picks PyTorch's overload (``stable`` of
    ``sort``: given at all, even as None, it records ``SortBackward1``); reads as None."""

    def __repr__(self):
        return "None"

    def __bool__(self):
        return False


_OMITTED = _Omitted()


def sort(input: Tensor, dim=-1, descending=False, *, stable=_OMITTED, out=None):
    """``(values, indices)`` sorted along ``dim`` (stable; NaN as the largest value), laid
    out in ``input``'s memory order as PyTorch's; with ``out=(values, indices)``, written
    into those (resized where their shape differs, as PyTorch's ``sort.values``)."""
    if out is None:
        return _sorted(input, dim, descending, stable=stable)
    values, indices = _sort_outs(out, 3 if stable is _OMITTED else 4)
    from rustgrad._math import refuse_grad_out

    refuse_grad_out("sort", input, values, indices)
    result = _sorted(input, dim, descending, stable=stable)
    return _write_sort_out(result, values, indices)


def _sorted(input: Tensor, dim=-1, descending=False, *, stable=_OMITTED):
    """``(values, indices)`` sorted along ``dim`` (stable; NaN as the largest value), laid
    out in ``input``'s memory order as PyTorch's."""
    if isinstance(dim, _builtins.bool):  # sort(stable, dim=..., ...) overload not taken
        dim = -1
    d = _wrap(dim, input.ndim)
    if input.ndim == 0:
        values, idx = _scalar_pick(input)
    else:
        values, idx = _sorted_in_layout(input, d, descending)
    # (PyTorch's overload with ``stable``, given at all, even as None, records its second
    # node)
    name = "SortBackward0" if stable is _OMITTED else "SortBackward1"
    return _saved.saving(name, _named("sort")(values, idx), input)


def _sort_outs(out, position):
    """``sort``'s ``out=`` (argument ``position`` of PyTorch's overload): two tensors, in
    PyTorch's words where it is not (the call it names is ``sort(x, out=...)``)."""
    if not isinstance(out, (tuple, list)):
        raise TypeError(
            "sort() received an invalid combination of arguments - got (Tensor, "
            f"out={type(out).__name__}), but expected one of:\n"
            " * (Tensor input, *, bool stable, int dim = -1, bool descending = False, tuple "
            "of Tensors out = None)\n"
            " * (Tensor input, int dim = -1, bool descending = False, *, tuple of Tensors out "
            "= None)\n"
        )
    if len(out) != 2:
        raise TypeError(f"expected tuple of 2 elements but got {len(out)}")
    for k, t in enumerate(out):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"expected Tensor as element {k} in argument {position}, but got {type(t).__name__}"
            )
    return out


def _write_sort_out(result, values: Tensor, indices: Tensor):
    """``result`` (``sort``'s) written into ``values`` and ``indices``, returned as
    ``return_types.sort_out``. Each is checked, then resized where its shape differs, in
    turn, as PyTorch's structured kernel does: the exact dtype, and a resized one takes the
    result's strides (the input's layout); one of the right shape keeps its own."""
    for out, made in zip((values, indices), result):
        _resize_sort_out(out, made, stacklevel=5)
    values.copy_(result.values)
    indices.copy_(result.indices)
    return _named("sort_out")(values, indices)


def _resize_sort_out(out: Tensor, made: Tensor, stacklevel: int) -> None:
    """``out`` checked for ``made``'s exact dtype (PyTorch's words) and resized to it where
    their shapes differ, at ``made``'s strides (the layout sort gives its results)."""
    from rustgrad._math import resize_out

    if out.dtype != made.dtype:
        raise RuntimeError(
            f"Expected out tensor to have dtype {_c_name(made.dtype)}, but got "
            f"{_c_name(out.dtype)} instead"
        )
    resize_out(out, tuple(made.shape), made.stride(), stacklevel=stacklevel)


def _scalar_pick(input: Tensor):
    """``(values, indices)`` of a selection from a 0-d ``input``: itself (a new tensor) and 0."""
    values = input * 1 if input.is_floating_point() else input.clone()
    return values, _long(0, input.device).reshape(())


def argsort(*args, **kwargs) -> Tensor:
    """The indices that sort ``input`` along ``dim`` (stable), laid out as ``sort``'s; with
    ``out=`` (PyTorch takes it only beside ``stable=``, a bool), written into that int64
    tensor (resized where its shape differs)."""
    if "out" in kwargs or not isinstance(kwargs.get("stable", False), _builtins.bool):
        # PyTorch's overloads decide (``out=`` without ``stable=``, or a ``stable`` that is
        # not a bool, is refused in its words)
        _ARGSORT.check(args, kwargs)
    return _argsort(*args, **kwargs)


def _argsort(input: Tensor, dim=-1, descending=False, *, stable=False, out=None) -> Tensor:
    if out is not None:
        from rustgrad._math import refuse_grad_out

        refuse_grad_out("sort", input, out)  # (PyTorch's composite sorts into out)
        made = _argsort(input, dim, descending, stable=stable)
        _resize_sort_out(out, made, stacklevel=5)
        return out.copy_(made)
    d = _wrap(dim, input.ndim)
    if input.ndim == 0:
        return _long(0, input.device).reshape(())
    return _sorted_in_layout(input, d, descending, values=False)


argsort.__signature__ = _inspect.signature(_argsort)


def topk(input: Tensor, k: int, dim=-1, largest=True, sorted=True):
    """``(values, indices)`` of the ``k`` largest (or smallest) along ``dim``, largest first."""
    if input.dtype == _bool:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    d = _wrap(dim, input.ndim)
    size = input.shape[d] if input.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    if input.ndim == 0:
        values, idx = _scalar_pick(input)
    else:
        order = _np.take(_order(_host_or_zeros(input), d, largest), _np.arange(k), axis=d)
        values, idx = _gather_sorted(input, d, order)
    return _saved.saving("TopkBackward0", _named("topk")(values, idx), input)


def kthvalue(input: Tensor, k: int, dim=-1, keepdim=False):
    """``(values, indices)`` of the ``k``-th smallest element along ``dim`` (1-based)."""
    return _saved.saving("KthvalueBackward0", _kth(input, k, dim, keepdim, False), input)


def _kth(input: Tensor, k: int, dim, keepdim, _nan_first, name="kthvalue"):
    if input.dtype == _bool:
        kernel = "kthvalue_cpu" if name == "kthvalue" else "median_out"
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    d = _wrap(dim, input.ndim)
    size = input.shape[d] if input.ndim else 1
    if not size:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    if input.ndim == 0:
        return _named("kthvalue")(*_scalar_pick(input))
    a = _host_or_zeros(input)
    order = _order(a, d, False)
    pick = _np.take(order, [k - 1], axis=d)
    if _nan_first and a.dtype.kind == "f":
        # median: a row holding NaN answers its first NaN
        nan = _np.isnan(a)
        first_nan = _np.argmax(nan, axis=d)
        has = nan.any(axis=d)
        pick = _np.where(_np.expand_dims(has, d), _np.expand_dims(first_nan, d), pick)
    values, idx = _gather_sorted(input, d, pick)
    if not keepdim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    return _named("kthvalue")(values, idx)


def unique(input: Tensor, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (sorted), with the inverse indices and counts when asked; with
    ``dim``, the distinct slices along it. No gradient (as PyTorch)."""
    a = _host(input)
    dev = input.device
    if dim is None:
        # (NaN != NaN: each NaN is a value of its own, as PyTorch's)
        vals, inv, counts = _np.unique(
            a.reshape(-1), return_inverse=True, return_counts=True, equal_nan=False
        )
        inv = inv.reshape(a.shape)
    else:
        d = _wrap(dim, input.ndim)
        if a.shape[d] == 0:
            vals, inv, counts = a, _np.zeros(0, _np.int64), _np.zeros(0, _np.int64)
        else:
            vals, inv, counts = _np.unique(a, return_inverse=True, return_counts=True, axis=d)
        inv = inv.reshape(-1)
    out = _core.tensor(_np.ascontiguousarray(vals), dtype=input.dtype, device="cpu")
    out = out if str(dev) == "cpu" else out.to(dev)
    if input.requires_grad and _core.is_grad_enabled():
        # PyTorch's node, whose backward is not implemented
        aten, name = ("_unique2", "Unique2Backward0") if dim is None else ("unique_dim", "UniqueDimBackward0")  # fmt: skip
        made = out

        def backward(grad):
            raise NotImplementedError(f"the derivative for '{aten}' is not implemented.")

        out = _native.record(name, [input], lambda: made, [], backward)
    res = [out]
    if return_inverse:
        res.append(_long(inv, dev))
    if return_counts:
        res.append(_long(counts, dev))
    return res[0] if len(res) == 1 else tuple(res)


# ----- linear algebra -------------------------------------------------------------------------


def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """Inner product of two 1-D tensors, as ``input.dot(tensor)``."""
    return input.dot(tensor)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix (n, m) times vector (m,): shape (n,)."""
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input.ndim}, {vec.ndim}")
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(
            f"size mismatch, got input ({input.shape[0]}), mat ({input.shape[0]}x"
            f"{input.shape[1]}), vec ({vec.shape[0]})"
        )
    return input.matmul(vec)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix product: (b, n, m) @ (b, m, p) is (b, n, p) (no broadcasting)."""
    if input.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: "
            f"[{input.shape[0]}, {input.shape[2]}] but got: [{mat2.shape[0]}, {mat2.shape[1]}]."
        )
    return input.matmul(mat2)


def _scaled(t: Tensor, s):
    return t if s == 1 else t * s


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)`` in one pass (``input`` broadcast; beta=0
    ignores it, NaN included): ``AddmmBackward0``."""
    return _core.addmm(input, mat1, mat2, beta=beta, alpha=alpha)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * bmm(batch1, batch2)`` in one pass: ``BaddbmmBackward0``."""
    return _core.baddbmm(input, batch1, batch2, beta=beta, alpha=alpha)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """Outer product of two 1-D tensors: shape (n, m)."""
    if input.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError("outer: expected 1-D tensors")
    return input.unsqueeze(1) * vec2.unsqueeze(0)


def _same_dtypes(tensors) -> None:
    """PyTorch's refusal of operands of another dtype than the first (einsum, cross)."""
    from rustgrad._math import _SCALAR_NAME

    for t in tensors[1:]:
        if isinstance(t, Tensor) and t.dtype != tensors[0].dtype:
            raise RuntimeError(
                f"expected scalar type {_SCALAR_NAME[tensors[0].dtype]} but found "
                f"{_SCALAR_NAME[t.dtype]}"
            )


def einsum(equation: str, *operands) -> Tensor:
    """Einstein summation (``'ij,jk->ik'``, implicit output, ``...``): operands are
    contracted pairwise with ``matmul``; repeated letters in one operand take its diagonal."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    eq = equation.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise ValueError(
            "einsum(): more operands were provided than specified in the equation"
            if len(operands) > len(terms)
            else "einsum(): fewer operands were provided than specified in the equation"
        )
    _same_dtypes(operands)
    # ``...``: the broadcast dims, named by letters no term uses.
    spare = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in eq]
    nell = 0
    for t, x in zip(terms, operands):
        if "..." in t:
            nell = _builtins.max(nell, x.ndim - (len(t) - 3))
    ell = "".join(spare[:nell])
    fixed = []
    for t, x in zip(terms, operands):
        if "..." in t:
            k = x.ndim - (len(t) - 3)
            t = t.replace("...", ell[nell - k :])
        if len(t) != x.ndim:
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({len(t)}) does not match "
                f"the number of dimensions ({x.ndim}) for operand {len(fixed)}"
                + ("" if "..." in t else " and no ellipsis was given")
            )
        fixed.append(t)
    if arrow:
        out = out.replace("...", ell)
    else:
        letters = "".join(fixed)
        out = ell + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell)
        )
    sizes: dict = {}
    ops = []
    for t, x in zip(fixed, operands):
        # diagonals of repeated letters
        while len(set(t)) < len(t):
            c = next(c for c in t if t.count(c) > 1)
            i, j = t.index(c), t.index(c, t.index(c) + 1)
            x = diagonal(x, 0, i, j)
            t = t[:i] + t[i + 1 : j] + t[j + 1 :] + c
        for c, s in zip(t, x.shape):
            if sizes.get(c, 1) != s and s != 1 and sizes.get(c, 1) != 1:
                raise RuntimeError(
                    "einsum(): operands do not broadcast with remapped shapes (original->remapped)"
                )
            sizes[c] = s if s != 1 else sizes.get(c, 1)
        ops.append((t, x))

    def reduce_unused(t, x, keep):
        drop = [i for i, c in enumerate(t) if c not in keep]
        if drop:
            x = x.sum(tuple(drop))
            t = "".join(c for c in t if c in keep)
        return t, x

    while len(ops) > 1:
        (ta, a), (tb, b) = ops[0], ops[1]
        others = set(out) | set("".join(t for t, _ in ops[2:]))
        ta, a = reduce_unused(ta, a, others | set(tb))
        tb, b = reduce_unused(tb, b, others | set(ta))
        batch = [c for c in ta if c in tb and c in others]
        contr = [c for c in ta if c in tb and c not in others]
        left = [c for c in ta if c not in tb]
        right = [c for c in tb if c not in ta]

        def arrange(t, x, order):
            x = x.permute(*[t.index(c) for c in order]) if x.ndim else x
            return x.expand(*[sizes[c] for c in order]) if order else x

        a2 = arrange(ta, a, batch + left + contr).reshape(
            *[sizes[c] for c in batch],
            _prod([sizes[c] for c in left]),
            _prod([sizes[c] for c in contr]),
        )
        b2 = arrange(tb, b, batch + contr + right).reshape(
            *[sizes[c] for c in batch],
            _prod([sizes[c] for c in contr]),
            _prod([sizes[c] for c in right]),
        )
        r = a2.matmul(b2).reshape(*[sizes[c] for c in batch + left + right])
        ops = [("".join(batch + left + right), r)] + ops[2:]
    t, x = ops[0]
    t, x = reduce_unused(t, x, set(out))
    if not out:
        return x.sum() if x.ndim else x * 1
    x = x.permute(*[t.index(c) for c in out])
    shape = [sizes[c] for c in out]
    if list(x.shape) != shape:
        return x.expand(*shape) * 1
    # A fresh result, or, for one operand with nothing summed, a view of it (a permutation,
    # maybe of a diagonal), as PyTorch's.
    return x


def _prod(xs):
    p = 1
    for v in xs:
        p *= v
    return p


# ----- indexing -------------------------------------------------------------------------------


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad=False) -> Tensor:
    """``out[i][j] = input[index[i][j]][j]`` (for dim 0): values picked along ``dim``; the
    result has ``index``'s shape."""
    return _saved.saving("GatherBackward0", _gather(input, dim, index), input, index)


def _gather(input: Tensor, dim: int, index: Tensor) -> Tensor:
    d = _wrap(dim, input.ndim)
    idx = _check_index("gather", input, d, index)
    pos = _flat_positions(tuple(input.shape) or (1,), d, idx if input.ndim else idx.reshape(1))
    flat = input.reshape(-1)
    return flat[_long(pos, "cpu")].reshape(*index.shape)


def _scatter_src(name, x, d, index, src, value):
    if src is None and value is None:
        raise TypeError(f"{name}() missing 1 required positional argument: 'src' or 'value'")
    if src is not None and not isinstance(src, Tensor):
        value, src = src, None
    idx = _check_index(name, x, d, index, src)
    pos = _flat_positions(tuple(x.shape) or (1,), d, idx if x.ndim else idx.reshape(1))
    if src is None:
        vals = _core.full((pos.size,), value, dtype=x.dtype, device=x.device)
    else:
        if src.dtype != x.dtype:
            raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
        spos = _flat_positions(
            tuple(src.shape) or (1,),
            d,
            _np.indices(idx.shape)[d] if idx.ndim else _np.zeros(1, _np.int64),
        )
        vals = src.reshape(-1)[_long(spos, "cpu")] if pos.size else src.reshape(-1)[:0]
    return pos, vals


def scatter(input: Tensor, dim: int, index: Tensor, src=None, *, value=None, reduce=None):
    """A copy of ``input`` with ``src`` (a tensor, or a number ``value``) written at
    ``index`` along ``dim`` (the inverse of ``gather``); ``reduce='add'``/``'multiply'``
    combine instead of writing."""
    d = _wrap(dim, input.ndim)
    pos, vals = _scatter_src("scatter", input, d, index, src, value)
    if reduce is None:
        name = "ScatterBackward0" if isinstance(src, Tensor) else "ScatterBackward1"
        return _saved.saving(name, _scatter(input, pos, vals), input, index, src)
    n = input.numel()
    if reduce == "add":
        out = input + _add_at(n, pos, vals).reshape(*input.shape)
    elif reduce == "multiply":
        out = input.reshape(-1) * 1
        for p, i in zip(pos.tolist(), range(pos.size)):
            out = out.clone()
            out[p] = out[p] * vals[i]
        out = out.reshape(*input.shape)
    else:
        raise RuntimeError("reduce argument must be either add or multiply.")
    # PyTorch has no derivative for scatter with reduce=: its NotImplemented node
    return _native.underivable("scatter_" if _saved.is_in_place() else "scatter", out, [])


def _scatter(input: Tensor, pos, vals) -> Tensor:
    out = input.reshape(-1).clone()
    out[_long(pos, "cpu")] = vals
    out._forget_writes()  # (one kernel's result in PyTorch: version 0)
    return out.reshape(*input.shape)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (repeats add up)."""
    d = _wrap(dim, input.ndim)
    pos, vals = _scatter_src("scatter_add", input, d, index, src, None)
    out = input + _add_at(input.numel(), pos, vals).reshape(*input.shape)
    return _saved.saving("ScatterAddBackward0", out, input, index, src)


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices of ``input`` at ``index`` (1-D int64) along ``dim``."""
    d = _wrap(dim, input.ndim)
    if not _integer_index(index):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if input.ndim == 0:
        if index.numel() != 1:
            raise RuntimeError(
                f"index_select(): Index to scalar can have only 1 value, got {index.numel()} "
                "value(s)"
            )
        out = _gather(input, 0, index.reshape(-1)).reshape(())
        return _saved.saving("IndexSelectBackward0", out, input, index)
    size = input.shape[d]
    i = _host_or_zeros(index).reshape(-1)
    if ((i < 0) | (i >= size)).any():
        raise IndexError("index out of range in self")
    out = input[(slice(None),) * d + (index.reshape(-1),)]
    return _saved.saving("IndexSelectBackward0", out, input, index)


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """A copy of ``input`` with ``alpha * source[j]`` added to slice ``index[j]`` along
    ``dim``."""
    d = _wrap(dim, input.ndim)
    if not _integer_index(index):
        raise RuntimeError("index_add_(): Expected dtype int32/int64 for index")
    if isinstance(source, Tensor) and source.dtype != input.dtype:
        raise RuntimeError(
            f"index_add_(): self ({_scalar_name(input.dtype)}) and source "
            f"({_scalar_name(source.dtype)}) must have the same scalar type"
        )
    i = _host_or_zeros(index).reshape(-1)
    size = input.shape[d] if input.ndim else 1
    if ((i < 0) | (i >= size)).any():
        raise IndexError("index out of range in self")
    want = list(input.shape)
    if input.ndim:
        want[d] = i.size
    if list(source.shape) != want and not (input.ndim == 0 and source.numel() == 1):
        raise RuntimeError(
            f"index_add_(): Source/destination tensor must have same slice shapes. "
            f"Destination slice shape: {list(input.shape)} at dimension {d} and source "
            f"slice shape: {list(source.shape)} at dimension {d}."
        )
    idx = _np.broadcast_to(
        i.reshape([-1 if k == d else 1 for k in range(_builtins.max(input.ndim, 1))]),
        want or [1],
    )
    pos = _flat_positions(tuple(input.shape) or (1,), d, _np.ascontiguousarray(idx))
    vals = _scaled(source, alpha)
    out = input + _add_at(input.numel(), pos, vals).reshape(*input.shape)
    return _saved.saving("IndexAddBackward0", out, input, index, source)


def masked_fill(input: Tensor, mask: Tensor, value) -> Tensor:
    """``input`` with ``value`` (a number or 0-d tensor) where ``mask`` (bool, broadcast) is
    True."""
    if not isinstance(mask, Tensor):
        raise TypeError(
            f"masked_fill(): argument 'mask' (position 1) must be Tensor, not {type(mask).__name__}"
        )
    if mask.dtype != _bool:
        raise RuntimeError(
            f"masked_fill_ only supports boolean masks, but got mask with dtype {_c_name(mask.dtype)}"
        )
    v, others = _masked_fill_value(input, value)
    # (the result takes the broadcast shape: a larger mask expands the input, as PyTorch's)
    _infer_size(tuple(mask.shape), tuple(input.shape))
    return _native.record(
        "MaskedFillBackward1" if others else "MaskedFillBackward0",
        [input, *others],
        # (row-major, as PyTorch's: a contiguous clone of `input` expanded to the mask)
        lambda: _core.where(mask, v, input).contiguous(),
        [mask],
        _masked_fill_backward(others, tuple(input.shape)),
    )


def _masked_fill_value(input: Tensor, value):
    """The fill value as a 0-d tensor of ``input``'s dtype, and the inputs it adds (a value
    tensor, which gets a gradient)."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value.ndim} dimension(s)."
            )
        if value.dtype == input.dtype:
            return value.detach(), [value]
        # (PyTorch fills with ``value.item()``, converted with its overflow check)
        return _core.full((), value.item(), dtype=input.dtype, device=input.device), [value]
    return _core.full((), value, dtype=input.dtype, device=input.device), []


def _infer_size(a, b):
    """The shape ``a`` and ``b`` broadcast to, with PyTorch's ``infer_size`` error."""
    ndim = _builtins.max(len(a), len(b))
    out = []
    for i in range(ndim - 1, -1, -1):
        offset = ndim - 1 - i
        size_a = a[len(a) - 1 - offset] if offset < len(a) else 1
        size_b = b[len(b) - 1 - offset] if offset < len(b) else 1
        if size_a != size_b and size_a != 1 and size_b != 1:
            raise RuntimeError(
                f"The size of tensor a ({size_a}) must match the size of tensor b ({size_b}) "
                f"at non-singleton dimension {i}"
            )
        out.append(size_a if size_b == 1 else size_b)
    return tuple(reversed(out))


def _check_mask_fits(input: Tensor, mask: Tensor):
    """An in-place fill cannot grow its tensor (PyTorch's words)."""
    shape = _infer_size(tuple(input.shape), tuple(mask.shape))
    if shape != tuple(input.shape):
        raise RuntimeError(
            f"output with shape {list(input.shape)} doesn't match the broadcast shape {list(shape)}"
        )


def _masked_fill_backward(others, shape=None):
    has_value = bool(others)

    def backward(grad, mask):
        zero = _zeros((), grad)
        g_input = _core.where(mask, zero, grad)
        if shape is not None and tuple(g_input.shape) != shape:
            g_input = _native.sum_to(g_input, shape)  # (the input was broadcast to the mask)
        if not has_value:
            return (g_input,)
        return g_input, _core.where(mask, grad, zero).sum()

    return backward


def _masked_fill_(self: Tensor, mask: Tensor, value) -> Tensor:
    """In-place ``masked_fill``: ``MaskedFillBackward0`` over ``self``'s history, as PyTorch."""
    _core._refuse_leaf_write(self)
    if not isinstance(mask, Tensor) or mask.dtype != _bool:
        return masked_fill(self, mask, value)  # its error
    v, others = _masked_fill_value(self, value)
    _check_mask_fits(self, mask)
    return _native.record_inplace(
        "MaskedFillBackward1" if others else "MaskedFillBackward0",
        self,
        others,
        lambda: _core.where(mask, v, self),
        [mask],
        _masked_fill_backward(others),
    )


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements of ``input`` where ``mask`` (bool; both broadcast) is True, 1-D."""
    if not isinstance(mask, Tensor) or mask.dtype != _bool:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    shape = _np.broadcast_shapes(tuple(input.shape), tuple(mask.shape))
    x = input.expand(*shape) if tuple(input.shape) != shape else input
    m = mask.expand(*shape) if tuple(mask.shape) != shape else mask
    out = x.reshape(1)[m.reshape(1)] if not shape else x.reshape(-1)[m.reshape(-1)]
    return _saved.saving("MaskedSelectBackward0", out, input, mask)


def nonzero(input: Tensor, *, as_tuple=False):
    """The indices of the nonzero elements: (n, ndim) int64, or one 1-D tensor per dim with
    ``as_tuple=True``."""
    a = _host(input)
    if a.ndim == 0:
        hits = _np.nonzero(a.reshape(1))
        if as_tuple:
            return (_long(hits[0], input.device),)
        return _long(_np.zeros((hits[0].size, 0), _np.int64), input.device)
    hits = _np.nonzero(a)
    if as_tuple:
        return tuple(_long(h, input.device) for h in hits)
    if hits[0].size == 0:
        return _long(_np.zeros((0, a.ndim), _np.int64), input.device)
    # (PyTorch writes the coordinates dim by dim: its (n, ndim) result has strides (1, n))
    return _long(_np.stack(hits, axis=0), input.device).t().detach()


# ----- shape ----------------------------------------------------------------------------------


def _tri(x: Tensor, diagonal: int, lower: bool, name: str) -> Tensor:
    if x.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    r, c = x.shape[-2], x.shape[-1]
    # the mask from two aranges on the device (no host array of r * c)
    i = _core.arange(r, device=x.device).reshape(r, 1)
    j = _core.arange(c, device=x.device)
    offset = j - i
    keep = (offset <= diagonal) if lower else (offset >= diagonal)
    return _core.where(keep, x, _zeros((), x))


def tril(input: Tensor, diagonal=0) -> Tensor:
    """The lower triangle of the last two dims (on and below ``diagonal``), zeros above."""
    return _tri(input, diagonal, True, "tril")


def triu(input: Tensor, diagonal=0) -> Tensor:
    """The upper triangle of the last two dims (on and above ``diagonal``), zeros below."""
    return _tri(input, diagonal, False, "triu")


def _ints(args):
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        return list(args[0])
    if len(args) == 1 and hasattr(args[0], "__iter__"):
        return list(args[0])
    return list(args)


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Elements shifted by ``shifts`` along ``dims`` (cyclically); without dims, the
    flattened tensor is rolled and reshaped back."""
    shifts = [shifts] if isinstance(shifts, int) else list(shifts)
    if dims is not None:
        dims = [dims] if isinstance(dims, int) else list(dims)
        if len(shifts) != len(dims):
            raise RuntimeError(
                f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}"
            )
    if input.numel() == 0:  # (PyTorch returns before looking at the dims' range)
        return _saved.saving("RollBackward0", input.clone(), input)
    if dims is not None and input.ndim == 0:
        raise IndexError(f"Dimension specified as {dims[0]} but tensor has no dimensions")
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        flat = roll(input.reshape(-1), shifts, 0).reshape(*input.shape)
        return _saved.saving("RollBackward0", flat, input)
    x = input
    for s, d in zip(shifts, dims):
        d = _wrap(d, x.ndim)
        n = x.shape[d] if x.ndim else 1
        if n == 0 or x.ndim == 0:
            continue
        s %= n
        if s:
            pre = (slice(None),) * d
            x = _core.cat([x[pre + (slice(n - s, None),)], x[pre + (slice(0, n - s),)]], d)
    out = x if x is not input else input * 1 if input.is_floating_point() else input.clone()
    return _saved.saving("RollBackward0", out, input)


def _int_tuple(name: str, dims) -> list:
    """The functional forms take a tuple of dims, as PyTorch's (the methods also varargs)."""
    if not isinstance(dims, (tuple, list)):
        raise TypeError(
            f"{name}(): argument 'dims' (position 2) must be tuple of ints, not "
            f"{type(dims).__name__}"
        )
    return list(dims)


def flip(input: Tensor, dims) -> Tensor:
    """``input`` reversed along each of ``dims`` (a tuple; the method also takes varargs)."""
    dims = _int_tuple("flip", dims)
    ds = _dims(tuple(dims), input.ndim) if dims else []
    if not ds:
        return _saved.saving("FlipBackward0", input.clone(), input)
    # PyTorch's result keeps the input's layout: flipped with its dims in memory order
    order = input._memory_order()
    if input.is_contiguous() or order == sorted(order):
        order = None
    x = input if order is None else input.permute(order)
    for d in ds if order is None else (order.index(d) for d in ds):
        n = x.shape[d]
        x = x[(slice(None),) * d + (_long(_np.arange(n - 1, -1, -1), "cpu"),)]
    out = x if order is None else x.permute([order.index(d) for d in range(input.ndim)])
    return _saved.saving("FlipBackward0", out, input)


def repeat(input: Tensor, *sizes) -> Tensor:
    """``input`` tiled ``sizes[i]`` times along dim ``i`` (``sizes`` may add leading dims)."""
    sizes = _ints(sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions "
            "of tensor"
        )
    shape = [1] * (len(sizes) - input.ndim) + list(input.shape)
    target = [r * s for r, s in zip(sizes, shape)]
    if _builtins.any(n < 0 for n in target):
        bad = next(n for n in target if n < 0)
        raise RuntimeError(f"Trying to create tensor with negative dimension {bad}: {target}")
    x = input.reshape(*shape) if shape else input
    inter, big = [], []
    for r, s in zip(sizes, shape):
        inter += [1, s]
        big += [r, s]
    if not inter:
        return _saved.saving("RepeatBackward0", x.clone(), input)
    # a copy of its own (an expanded view would share, and overlap, the input's memory)
    y = x.reshape(*inter).expand(*big)
    # (contiguous() of an empty or unexpanded view would give the view itself; PyTorch's result
    # is row-major whatever the input's strides)
    y = y.clone(memory_format=contiguous_format)
    return _saved.saving("RepeatBackward0", y.reshape(*target), input)


def tile(input: Tensor, dims) -> Tensor:
    """``repeat`` with ``dims`` (a tuple; the method also takes varargs) padded with leading
    ones to ``input.ndim``."""
    dims = _int_tuple("tile", dims)
    dims = [1] * (input.ndim - len(dims)) + dims
    return repeat(input, *dims)


def repeat_interleave(input: Tensor, repeats=None, dim=None, *, output_size=None) -> Tensor:
    """Each element (or slice along ``dim``) repeated ``repeats`` times in a row;
    ``repeats`` may be a tensor (one count per element). ``repeat_interleave(counts)``
    alone gives ``arange(len(counts))`` repeated by the counts."""
    if repeats is None:
        counts = _host(input).reshape(-1)
        return _long(_np.repeat(_np.arange(counts.size), counts), input.device)
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else _wrap(dim, x.ndim)
    if x.ndim == 0:
        x = x.reshape(1)
    n = x.shape[d]
    if isinstance(repeats, Tensor):
        counts = _host(repeats).reshape(-1)
        if counts.size == 1:
            counts = _np.repeat(counts, n)
        if counts.size != n:
            raise RuntimeError("repeats must have the same size as input along dim")
        if (counts < 0).any():
            raise RuntimeError("repeats can not be negative")
        pos = _np.repeat(_np.arange(n), counts)
    else:
        if repeats < 0:
            raise RuntimeError("repeats can not be negative")
        pos = _np.repeat(_np.arange(n), repeats)
    return x[(slice(None),) * d + (_long(pos, "cpu"),)]


def split(tensor: Tensor, split_size_or_sections, dim=0):
    """Pieces along ``dim``: of ``split_size`` each (the last may be smaller), or of the
    listed sizes (which must add up to the dim's size). Views that, as PyTorch's, may not be
    written in place while grad mode is on."""
    out = _split_pieces(tensor, split_size_or_sections, dim)
    _core._mark_multi_output_views(out, "Split" if isinstance(split_size_or_sections, int) else "SplitWithSizes")  # fmt: skip
    return tuple(out)


def _split_pieces(tensor: Tensor, split_size_or_sections, dim):
    """The views ``split`` returns, as a list (not marked as one call's outputs)."""
    d = _wrap(dim, tensor.ndim)
    if tensor.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    n = tensor.shape[d]
    if isinstance(split_size_or_sections, int):
        s = split_size_or_sections
        if s < 0 or (s == 0 and n != 0):
            raise RuntimeError(
                f"split expects split_size be non-negative, but got split_size={s}"
                if s < 0
                else f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}"
            )
        sizes = [s] * (n // s) + ([n % s] if n % s else []) if s and n else [0]
    else:
        sizes = list(split_size_or_sections)
        if _builtins.sum(sizes) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
                f"at dimension {d}), but got split_sizes={sizes}"
            )
    out, start = [], 0
    for s in sizes:
        out.append(narrow(tensor, d, start, s))
        start += s
    return out


def chunk(input: Tensor, chunks: int, dim=0):
    """At most ``chunks`` pieces of equal size (the last may be smaller) along ``dim``."""
    return _chunked(input, chunks, dim, split)


def _chunked(input: Tensor, chunks: int, dim, split):
    """``chunk`` through ``split`` (or ``unsafe_split``)."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = _wrap(dim, input.ndim)
    n = input.shape[d]
    size = -(-n // chunks) if n else 0
    if size == 0:
        # (PyTorch's split_with_sizes into `chunks` empty pieces: views of one call, which
        # refuse use after their base is written, unless unsafe)
        out = [narrow(input, d, 0, 0) for _ in range(chunks)]
        if not split.__name__.startswith("unsafe"):
            _core._mark_multi_output_views(out, "SplitWithSizes")
        return tuple(out)
    return split(input, size, d)


def unbind(input: Tensor, dim=0):
    """The slices along ``dim``, as a tuple (that dim removed)."""
    d = _wrap(dim, input.ndim)
    if input.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    out = [input[(slice(None),) * d + (i,)] for i in range(input.shape[d])]
    _core._mark_multi_output_views(out, "Unbind")
    return tuple(out)


def narrow(input: Tensor, dim: int, start, length: int) -> Tensor:
    """The view of ``length`` elements from ``start`` along ``dim``."""
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = _wrap(dim, input.ndim)
    if isinstance(start, Tensor):
        start = int(start.item())
    n = input.shape[d]
    if not -n <= start <= n:
        raise IndexError(
            f"start out of range (expected to be in range of [{-n}, {n}], but got {start})"
        )
    if start < 0:
        start += n
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return input[(slice(None),) * d + (slice(start, start + length),)]


def movedim(input: Tensor, source, destination) -> Tensor:
    """``input`` with dims ``source`` moved to positions ``destination`` (the others keep
    their order)."""
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({src} dims) should contain "
            f"the same number of dims as destination ({dst} dims)"
        )
    n = input.ndim
    src = [_wrap(s, n) for s in src]
    dst = [_wrap(s, n) for s in dst]
    if len(set(src)) != len(src):
        raise RuntimeError(f"movedim: repeated dim in `source` ({src})")
    if len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({dst})")
    if n == 0:
        return input.permute()
    order = [-1] * n
    for s, t in zip(src, dst):
        order[t] = s
    rest = iter(d for d in range(n) if d not in src)
    order = [o if o >= 0 else next(rest) for o in order]
    return input.permute(*order)


moveaxis = movedim


def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:
    """``input.transpose(axis0, axis1)`` (NumPy's name)."""
    return input.transpose(axis0, axis1)


def swapdims(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """``input.transpose(dim0, dim1)``."""
    return input.transpose(dim0, dim1)


def diagonal(input: Tensor, offset=0, dim1=0, dim2=1) -> Tensor:
    """The diagonal (``offset`` above the main one) of the planes of ``dim1`` and ``dim2``,
    as the last dim of a view of ``input`` (``Tensor.diagonal``)."""
    return input.diagonal(offset, dim1, dim2)


def diag(input: Tensor, diagonal=0) -> Tensor:
    """A 1-D tensor as the ``diagonal`` of a square matrix (zeros elsewhere), or the
    ``diagonal`` of a 2-D tensor."""
    if input.ndim == 2:
        return globals()["diagonal"](input, diagonal).clone()  # (a copy, as PyTorch's)
    if input.ndim != 1:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")
    return diag_embed(input, diagonal)  # (PyTorch's: DiagEmbedBackward0)


def trace(input: Tensor) -> Tensor:
    """The sum of the main diagonal of a 2-D tensor (integers give int64)."""
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    if input.dtype == _bool:
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    return diagonal(input).sum()


# ----- predicates -----------------------------------------------------------------------------


def isclose(input: Tensor, other: Tensor, rtol=1e-05, atol=1e-08, equal_nan=False) -> Tensor:
    """Elementwise ``|input - other| <= atol + rtol * |other|`` (equal infinities are close;
    NaNs only with ``equal_nan``): a bool tensor."""
    if input.dtype != other.dtype:
        raise RuntimeError(f"{_scalar_name(input.dtype)} did not match {_scalar_name(other.dtype)}")
    eq = input == other
    if not input.is_floating_point():
        if input.dtype == _bool:
            return eq
        diff = (input - other).abs().to(_f64)
        return eq | (diff <= atol + rtol * other.abs().to(_f64))
    a, b = input.detach(), other.detach()
    finite = ((a - a) == 0) & ((b - b) == 0)
    close = ((a - b).abs() <= atol + rtol * b.abs()) & finite
    out = eq | close
    if equal_nan:
        out = out | (a.ne(a) & b.ne(b))  # (NaN: the value unequal to itself)
    return out


def allclose(input: Tensor, other: Tensor, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """Whether every element of ``input`` is close to ``other`` (see ``isclose``)."""
    return _builtins.bool(isclose(input, other, rtol, atol, equal_nan).all().item())


def equal(input: Tensor, other: Tensor) -> bool:
    """Whether the two tensors have the same shape and the same elements."""
    if tuple(input.shape) != tuple(other.shape):
        return False
    return _builtins.bool((input == other).all().item())


def is_tensor(obj) -> bool:
    """Whether ``obj`` is a ``Tensor``."""
    return isinstance(obj, Tensor)


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The slice at ``index`` along ``dim``, that dim removed (a view)."""
    if input.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _wrap(dim, input.ndim)
    n = input.shape[d]
    if not -n <= index < n:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {list(input.shape)} "
            f"at dimension {dim}"
        )
    return input[(slice(None),) * d + (index,)]  # (PyTorch's node: SelectBackward0)


def isnan(input: Tensor) -> Tensor:
    """Where the elements are NaN: a bool tensor (all False for integers)."""
    return input.ne(input)


def isinf(input: Tensor) -> Tensor:
    """Where the elements are +-inf: a bool tensor (all False for integers)."""
    if not input.is_floating_point():
        return _in_memory_order(input, lambda s: _core.zeros(s, dtype=_bool, device=input.device))  # fmt: skip
    return input.detach().abs() == _math.inf


def isfinite(input: Tensor) -> Tensor:
    """Where the elements are neither inf nor NaN: a bool tensor (all True for integers)."""
    if not input.is_floating_point():
        return _in_memory_order(input, lambda s: _core.ones(s, dtype=_bool, device=input.device))  # fmt: skip
    x = input.detach()
    return (x - x) == 0


def nan_to_num(input: Tensor, nan=0.0, posinf=None, neginf=None) -> Tensor:
    """NaN replaced by ``nan``, +inf by ``posinf`` and -inf by ``neginf`` (by default the
    dtype's largest and lowest finite values); the gradient flows where ``input`` is kept."""
    if not input.is_floating_point():
        return input.clone()
    from rustgrad._dtypes import finfo

    info = finfo(input.dtype)
    hi = info.max if posinf is None else posinf
    lo = info.min if neginf is None else neginf
    x = input.detach()

    def const(v):
        # (PyTorch casts the replacement unchecked: past the dtype's range it is infinite)
        return _core.full((), float(v), dtype=_f64, device=input.device).to(input.dtype)

    def forward():
        out = _core.where(x == _math.inf, const(hi), x)
        out = _core.where(x == -_math.inf, const(lo), out)
        return _core.where(x.ne(x), const(nan), out)

    # (PyTorch's formula multiplies by the mask: an infinite gradient at a replaced element
    # gives NaN there, as in PyTorch; in place, the mask of the old values, which PyTorch
    # reads from a copy)
    if _saved.is_in_place():
        finite = x.isfinite()
        return _native.record("NanToNumBackward0", [input], forward, [], lambda g: (g * finite,))
    backward = lambda g, x: (g * x.isfinite(),)
    return _native.record("NanToNumBackward0", [input], forward, [input], backward)


def _common_dtype(*tensors):
    """PyTorch's result type of several tensor operands at once: that of the tensors with
    dims, unless the 0-d ones are of a higher category (bool < integer < float)."""

    from rustgrad._ops_extra import promote_types

    promote = lambda dtypes: _functools.reduce(promote_types, dtypes)

    def category(d):
        return 0 if d == _bool else 2 if d.is_floating_point else 1

    dims = [t.dtype for t in tensors if t.ndim]
    zero = [t.dtype for t in tensors if not t.ndim]
    if not dims:
        return promote(zero)
    if zero and category(promote(zero)) > category(promote(dims)):
        return promote(zero)
    return promote(dims)


def _as_common(*tensors):
    """The operands cast to their :func:`_common_dtype` (PyTorch's TensorIterator casts all
    of them at once, not pair by pair)."""
    dtype = _common_dtype(*tensors)
    return [t if t.dtype == dtype else t.to(dtype) for t in tensors]


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """``input + value * tensor1 * tensor2`` (broadcast; an integer result takes ``value``
    as an integer, as PyTorch)."""
    input, tensor1, tensor2 = _as_common(input, tensor1, tensor2)
    product = tensor1 * tensor2
    if not (product.is_floating_point() or input.is_floating_point()):
        value = int(value)
    return input + _scaled(product, value)


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """``input + value * tensor1 / tensor2`` (broadcast; integer division is PyTorch's
    RuntimeError)."""
    if not tensor1.is_floating_point() and not tensor2.is_floating_point():
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future release "
            "addcdiv will perform a true division of tensor1 and tensor2. The historic "
            "addcdiv behavior can be implemented as (input + value * torch.trunc(tensor1 / "
            "tensor2)).to(input.dtype) for integer inputs and as (input + value * tensor1 / "
            "tensor2) for float inputs. The future addcdiv behavior is just the latter "
            "implementation: (input + value * tensor1 / tensor2), for all dtypes."
        )
    a, b, c = _as_common(input, tensor1, tensor2)
    out = a + _scaled(b / c, value)
    return _saved.saving("AddcdivBackward0", out, input, tensor1, tensor2)


def broadcast_shapes(*shapes):
    """The shape the given shapes broadcast to (PyTorch's RuntimeError when they do not)."""
    from rustgrad._size import Size, check_non_negative

    dims: list[int] = []
    for i, shape in enumerate(shapes):
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        check_non_negative(shape)
        for k, size in enumerate(reversed(shape)):
            if k == len(dims):
                dims.append(size)
            elif dims[k] == 1:
                dims[k] = size
            elif size not in (1, dims[k]):
                raise RuntimeError(
                    f"Attempting to broadcast a dimension of length {size} at {-1 - k}! "
                    f"Mismatching argument at index {i} had {shape}; but expected shape "
                    f"should be broadcastable to {list(reversed(dims))}"
                )
    return Size(tuple(reversed(dims)))


def broadcast_tensors(*tensors) -> tuple:
    """The tensors expanded to their common shape (views); one already of that shape comes
    back itself, as in PyTorch."""
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}"
            )
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(t if tuple(t.shape) == tuple(shape) else t.expand(shape) for t in tensors)


def meshgrid(*tensors, indexing=None) -> tuple:
    """Coordinate grids of 0-d or 1-D tensors: ``indexing='ij'`` (matrix, the default with
    PyTorch's warning) or ``'xy'`` (Cartesian: the first two dims swapped)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        import warnings

        warnings.warn(
            "torch.meshgrid: in an upcoming release, it will be required to pass the indexing "
            "argument.",
            UserWarning,
            stacklevel=2,
        )
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(
            f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}'
        )
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in tensors[1:]:
        if t.dtype != tensors[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
        if t.device != tensors[0].device:
            raise RuntimeError("meshgrid expects all tensors to have the same device")
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(
                f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t}"
            )
    flat = [t.reshape(-1) for t in tensors]
    swap = indexing == "xy" and len(flat) >= 2
    if swap:
        flat[0], flat[1] = flat[1], flat[0]
    sizes = tuple(t.shape[0] for t in flat)
    grids = []
    for i, t in enumerate(flat):
        view = [1] * len(flat)
        view[i] = -1
        grids.append(t.reshape(view).expand(sizes))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def diag_embed(input: Tensor, offset=0, dim1=-2, dim2=-1) -> Tensor:
    """Batches of (``offset``) diagonal matrices whose diagonals are the last dim of
    ``input``, in the output's dims ``dim1`` and ``dim2``. The diagonal is written into zeros
    (a product with an identity would turn an inf into NaN beside it)."""
    x = input if input.ndim else input.reshape(1)
    out_ndim = x.ndim + 1
    d1, d2 = _wrap(dim1, out_ndim), _wrap(dim2, out_ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = x.shape[-1] + abs(offset)
    shape = list(x.shape[:-1])
    for d in sorted((d1, d2)):
        shape.insert(d, n)

    def forward():
        out = _core.zeros(tuple(shape), dtype=x.dtype, device=x.device)
        out.diagonal(offset, d1, d2).copy_(x)
        out._forget_writes()  # (one kernel's result in PyTorch: version 0)
        return out

    def backward(g):
        return (g.diagonal(offset, d1, d2).reshape(input.shape),)

    return _native.record("DiagEmbedBackward0", [input], forward, [], backward)


def det(input: Tensor) -> Tensor:
    """The determinant of each square matrix (``linalg.det``)."""
    from rustgrad import linalg

    return linalg.det(input)


def logdet(input: Tensor) -> Tensor:
    """The log of the determinant of each square matrix: NaN where it is negative, -inf
    where it is 0."""
    from rustgrad import linalg

    sign, logabs = linalg.slogdet(input)
    nan = _core.full((), _math.nan, dtype=logabs.dtype, device=logabs.device)
    return _core.where(sign < 0, nan, logabs)


def slogdet(input: Tensor):
    """``(sign, logabsdet)`` of each square matrix (``linalg.slogdet``)."""
    from rustgrad import linalg

    return linalg.slogdet(input)


def inverse(input: Tensor) -> Tensor:
    """The inverse of each square matrix (``linalg.inv``)."""
    from rustgrad import linalg

    return linalg.inv(input)


def matrix_power(input: Tensor, n: int) -> Tensor:
    """``input`` to the integer power ``n`` (``linalg.matrix_power``)."""
    from rustgrad import linalg

    return linalg.matrix_power(input, n)


def cross(input: Tensor, other: Tensor, dim=None) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (by default the first dim of size 3,
    with PyTorch's deprecation warning); the batch dims broadcast."""
    from rustgrad import linalg

    return linalg._torch_cross(input, other, dim)


# ----- more drop-in functions (issue 11) --------------------------------------------------------


def _clamp_tensors(input: Tensor, min, max, node="ClampBackward0", in_place=False) -> Tensor:
    """``clamp`` with tensor bounds, as PyTorch's: NaN in ``input`` or in a bound gives NaN;
    the gradient goes to ``input`` where ``min <= input <= max``, to ``min`` where ``input <
    min < max``, to ``max`` where ``input > max`` or ``max < min`` (PyTorch's masks, also
    where the result is NaN)."""
    lo, hi = (
        None
        if b is None
        else b
        if isinstance(b, Tensor)
        else _core.full((), float(b), dtype=input.dtype)
        for b in (min, max)
    )
    if lo is not None and hi is not None and input.dtype == lo.dtype == hi.dtype == _bool:
        raise NotImplementedError("\"clamp_cpu\" not implemented for 'Bool'")
    bounds = [b for b in (lo, hi) if b is not None]
    if node == "ClampBackward0" and len(bounds) == 1:
        # (PyTorch's node lists the missing bound among its inputs, as ``(None, 0)``)
        missing = _core.zeros((), dtype=input.dtype, device=input.device)
        slots = [input, lo if lo is not None else missing, hi if hi is not None else missing]
    else:
        slots = [input, *bounds]

    def forward():
        value = input if lo is None else input.maximum(lo)
        return value if hi is None else value.minimum(hi)

    def backward(grad, x, *saved_bounds):
        b_lo = saved_bounds[0] if lo is not None else None
        b_hi = saved_bounds[-1] if hi is not None else None
        if b_hi is None:
            masks = [x >= b_lo, x < b_lo]
        elif b_lo is None:
            masks = [x <= b_hi, x > b_hi]
        else:
            masks = [(x >= b_lo) & (x <= b_hi), (x < b_lo) & (b_lo < b_hi)]
            masks.append((x > b_hi) | (b_hi < b_lo))
        zero = grad.new_zeros(())
        grads = [
            _native.sum_to(_core.where(mask, grad, zero), t.shape).to(t.dtype)
            if t.requires_grad
            else None
            for mask, t in zip(masks, [input, *bounds])
        ]
        if len(slots) == 3 and len(bounds) == 1:
            grads.insert(1 if lo is None else 2, None)
        return grads

    # (in place, the input is overwritten: its masks read a copy, as PyTorch's original_self)
    x = input.detach().clone() if in_place else input
    return _native.record(node, slots, forward, [x, *bounds], backward)


def clamp_min(input: Tensor, min) -> Tensor:
    """``clamp(input, min=min)``."""
    if isinstance(min, Tensor):
        return _clamp_tensors(input, min, None, "ClampMinBackward1")
    return input.clamp(min=min)


def clamp_max(input: Tensor, max) -> Tensor:
    """``clamp(input, max=max)``."""
    if isinstance(max, Tensor):
        return _clamp_tensors(input, None, max, "ClampMaxBackward1")
    return input.clamp(max=max)


def dist(input: Tensor, other: Tensor, p=2) -> Tensor:
    """The ``p``-norm of ``input - other`` (broadcast), a 0-d tensor."""
    return _saved.saving("DistBackward0", norm(input - other, p), input, other)


def cdist(x1: Tensor, x2: Tensor, p=2.0, compute_mode=None) -> Tensor:
    """The ``p``-norm distance between each row of ``x1`` (..., P, M) and each row of
    ``x2`` (..., R, M): (..., P, R); the gradient at a zero distance is 0."""
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(
            f"cdist only supports at least 2D tensors, X{1 if x1.ndim < 2 else 2} got: "
            f"{(x1 if x1.ndim < 2 else x2).ndim}D"
        )
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(
            f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}"
        )
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return _saved.saving("CdistBackward0", norm(diff, p, -1), x1, x2)


def diff(input: Tensor, n=1, dim=-1, prepend=None, append=None) -> Tensor:
    """The ``n``-th forward difference along ``dim`` (``!=`` for bools), after joining
    ``prepend`` and ``append``."""
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    d = _wrap(dim, input.ndim)
    x = input
    if prepend is not None or append is not None:
        parts = [t for t in (prepend, x, append) if t is not None]
        if _builtins.any(t.ndim != x.ndim for t in parts):
            raise RuntimeError("diff expects prepend or append to be the same dimension as input")
        x = _core.cat(parts, d)
    for _ in range(n):
        size = x.shape[d]
        if size == 0:
            break
        hi, lo = x.narrow(d, 1, size - 1), x.narrow(d, 0, size - 1)
        x = hi != lo if x.dtype == _bool else hi - lo
    return x


def kron(input: Tensor, other: Tensor) -> Tensor:
    """The Kronecker product (the fewer dims padded with leading 1s)."""
    nd = _builtins.max(input.ndim, other.ndim)
    a = input.reshape((1,) * (nd - input.ndim) + tuple(input.shape))
    b = other.reshape((1,) * (nd - other.ndim) + tuple(other.shape))
    a_view, b_view = [], []
    for i in range(nd):
        a_view += [a.shape[i], 1]
        b_view += [1, b.shape[i]]
    out = a.reshape(a_view) * b.reshape(b_view)
    return out.reshape([a.shape[i] * b.shape[i] for i in range(nd)])


def tensordot(a: Tensor, b: Tensor, dims=2, out=None) -> Tensor:
    """Contraction of ``a``'s last ``dims`` dims with ``b``'s first (or of the dims named
    by a pair of lists), through one matmul."""
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    elif isinstance(dims, Tensor):
        return tensordot(a, b, dims.tolist())
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
    da, db = [_wrap(d, a.ndim) for d in da], [_wrap(d, b.ndim) for d in db]
    if len(da) != len(db):
        raise RuntimeError("both dimension lists should have same length")
    # (PyTorch's: a contracted dim of size 1 on one side broadcasts, the other side's is
    # summed right away, keeping its dim)
    sa, sb = a, b
    for x, y in zip(da, db):
        if sb.shape[y] == 1:
            a = a.sum(x, keepdim=True, dtype=a.dtype)
        elif sa.shape[x] == 1:
            b = b.sum(y, keepdim=True, dtype=b.dtype)
        elif sa.shape[x] != sb.shape[y]:
            raise RuntimeError(
                f"contracted dimensions need to match, but first has size {sa.shape[x]} in dim "
                f"{x} and second has size {sb.shape[y]} in dim {y}"
            )
    free_a = [i for i in range(a.ndim) if i not in da]
    free_b = [i for i in range(b.ndim) if i not in db]
    k = 1
    for d in da:
        k *= a.shape[d]
    m = _math.prod(a.shape[i] for i in free_a)  # (not -1: k may be 0)
    n = _math.prod(b.shape[i] for i in free_b)
    shape = [a.shape[i] for i in free_a] + [b.shape[i] for i in free_b]
    left, right = a.permute(free_a + da), b.permute(db + free_b)
    if m == 1 and n == 1:
        # PyTorch's inner product: a dot of flat views where both are, else a sum of the
        # product of the (squeezed) permuted views (so it saves the views, not copies)
        try:
            flat = left.view(k), right.view(k)
        except RuntimeError:
            return (left.squeeze() * right.squeeze()).sum().reshape(shape)
        return flat[0].dot(flat[1]).reshape(shape)
    return (left.reshape(m, k) @ right.reshape(k, n)).reshape(shape)


def _atleast(tensors, nd: int):
    single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    out = []
    for t in tensors:
        if t.ndim >= nd:
            out.append(t)
        elif nd == 3 and t.ndim == 2:
            out.append(t.unsqueeze(-1))
        elif nd == 3 and t.ndim == 1:
            out.append(t.reshape(1, -1, 1))
        elif nd >= 2 and t.ndim == 1:
            out.append(t.unsqueeze(0))
        else:
            out.append(t.reshape((1,) * nd))
    return out[0] if single else tuple(out)


def atleast_1d(*tensors):
    """Each tensor with at least 1 dim (0-d becomes (1,))."""
    return _atleast(tensors, 1)


def atleast_2d(*tensors):
    """Each tensor with at least 2 dims ((n,) becomes (1, n))."""
    return _atleast(tensors, 2)


def atleast_3d(*tensors):
    """Each tensor with at least 3 dims ((n,) becomes (1, n, 1), (m, n) becomes (m, n, 1))."""
    return _atleast(tensors, 3)


def _running_extreme(input: Tensor, dim: int, largest: bool, kind: str):
    """``(values, indices)`` of the running max/min along ``dim``: ties take the later index,
    a NaN wins (and the later NaN); values gathered from ``input`` (gradient to the index)."""
    from rustgrad import return_types

    if input.ndim == 0 and dim not in (0, -1):
        raise IndexError(f"{kind}(): Expected reduction dim -1 or 0 for scalar but got {dim}")
    if input.ndim == 0 or input.numel() == 0:  # (PyTorch checks no dim then)
        indices = _core.zeros(tuple(input.shape), dtype=_int64, device=input.device)
        result = getattr(return_types, kind)(input.clone(), indices)
        return _saved.saving(f"{kind.capitalize()}Backward0", result, input)
    d = _wrap(dim, input.ndim)
    x = _np.moveaxis(_host_or_zeros(input), d, -1)
    x = x.astype(_np.float64) if x.dtype == _np.bool_ else x
    idx = _np.zeros(x.shape, dtype=_np.int64)
    if x.shape[-1]:
        cur = x[..., 0].copy()
        at = _np.zeros(x.shape[:-1], dtype=_np.int64)
        for i in range(x.shape[-1]):
            xi = x[..., i]
            beats = xi >= cur if largest else xi <= cur
            take = _np.isnan(xi) | (~_np.isnan(cur) & beats) if x.dtype.kind == "f" else beats
            cur = _np.where(take, xi, cur)
            at = _np.where(take, i, at)
            idx[..., i] = at
    indices = _long(_np.moveaxis(idx, -1, d), input.device)
    result = getattr(return_types, kind)(_gather(input, d, indices), indices)
    return _saved.saving(f"{kind.capitalize()}Backward0", result, input)


def cummax(input: Tensor, dim: int):
    """``(values, indices)`` of the running maximum along ``dim``."""
    return _running_extreme(input, dim, True, "cummax")


def cummin(input: Tensor, dim: int):
    """``(values, indices)`` of the running minimum along ``dim``."""
    return _running_extreme(input, dim, False, "cummin")


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """``log(cumsum(exp(input)))`` along ``dim``, without overflow: one
    ``LogcumsumexpBackward0`` node whose backward is PyTorch's formula."""
    if not input.is_floating_point():
        raise NotImplementedError(
            f"\"logcumsumexp_out_cpu\" not implemented for '{_scalar_name(input.dtype)}'"
        )
    d = _wrap(dim, input.ndim)
    if input.ndim == 0:
        return _saved.saving("LogcumsumexpBackward0", input * 1, input)
    if input.shape[d] == 1:
        # one element: log(exp(x)) as the shifted formula (its derivatives read the input,
        # as PyTorch's backward does, not an identity's)
        m = input.detach()
        m = _core.where(m.isfinite(), m, _zeros((), m))
        return _saved.saving("LogcumsumexpBackward0", m + (input - m).exp().log(), input)
    from rustgrad._dtypes import finfo

    lowest = finfo(input.dtype).min

    def combine(a, b):
        # m + log(exp(a - m) + exp(b - m)), m = max(a, b) (0 where infinite, so that inf and
        # -inf come out as themselves): no overflow
        m = a.maximum(b)
        m = _core.where(m.isinf(), _zeros((), m), m)
        return m + ((a - m).exp() + (b - m).exp()).log()

    def backward(grad, x, result):
        """PyTorch's ``logcumsumexp_backward``: the positive and negative parts of the
        gradient, each as an exp of a reversed logcumsumexp in log space (a NaN gradient
        counts as neither, as there)."""
        if grad.numel() == 0:
            return (grad,)
        log_abs = grad.abs().log()
        floor = _zeros((), grad) + lowest
        parts = [_core.where(side, log_abs, floor) for side in (grad > 0, grad < 0)]
        rev = [flip(logcumsumexp(flip(p - result, [d]), d), [d]) for p in parts]
        return ((rev[0] + x).exp() - (rev[1] + x).exp(),)

    def forward():
        return _scan(input, d, combine, -_math.inf)

    return _native.record("LogcumsumexpBackward0", [input], forward, [input, _native.RESULT], backward)  # fmt: skip


def searchsorted(sorted_sequence: Tensor, input, *, out_int32=False, right=False, side=None, sorter=None):  # fmt: skip
    """Where ``input``'s values would go in ``sorted_sequence`` (along its last dim, row by
    row when it has more than one): int64 (int32 with ``out_int32``) positions."""
    if side is not None:
        right = side == "right"
    seq = sorted_sequence.detach().cpu().numpy()
    vals_t = input if isinstance(input, Tensor) else _core.tensor(input)
    vals = vals_t.detach().cpu().numpy()
    if sorter is not None:
        seq = _np.take_along_axis(seq, sorter.detach().cpu().numpy(), -1)
    if seq.ndim == 1:
        pos = _bound(seq.reshape(1, -1), vals.reshape(1, -1), right).reshape(vals.shape)
    else:
        if seq.shape[:-1] != vals.shape[:-1]:
            raise RuntimeError(
                "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                "dimensions of boundaries tensor and input value tensor must match, but we got "
                f"boundaries tensor {list(sorted_sequence.shape)} and input value tensor "
                f"{list(vals_t.shape)}"
            )
        rows = seq.reshape(_math.prod(seq.shape[:-1]), seq.shape[-1])
        vrows = vals.reshape(rows.shape[0], vals.shape[-1])
        pos = _bound(rows, vrows, right).reshape(vals.shape)
    out = _long(pos, sorted_sequence.device)
    return out.to(_core.int32) if out_int32 else out


def _bound(rows: _np.ndarray, vals: _np.ndarray, right: bool) -> _np.ndarray:
    """PyTorch's binary search (``cus_lower_bound``/``cus_upper_bound``) of each row of
    ``vals`` in the same row of ``rows``, with its comparisons: a NaN boundary counts as
    below every value, a NaN value lands at the end, as in PyTorch (NumPy sorts NaN last)."""
    n = rows.shape[-1]
    start = _np.zeros(vals.shape, _np.int64)
    end = _np.full(vals.shape, n, _np.int64)
    if n == 0 or vals.size == 0:
        return start
    with _np.errstate(invalid="ignore"):
        while (active := start < end).any():
            mid = start + ((end - start) >> 1)
            at = _np.take_along_axis(rows, _np.minimum(mid, n - 1), -1)
            onward = ~(at > vals) if right else ~(at >= vals)
            start = _np.where(active & onward, mid + 1, start)
            end = _np.where(active & ~onward, mid, end)
    return start


def bucketize(input, boundaries: Tensor, *, out_int32=False, right=False):
    """The bucket of each value of ``input`` among the 1-D ``boundaries``."""
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def bincount(input: Tensor, weights=None, minlength=0) -> Tensor:
    """Occurrences of each value 0..max of a 1-D non-negative integer tensor (sums of
    ``weights`` with them)."""
    if input.ndim != 1:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if input.is_floating_point() or input.dtype == _bool:
        raise RuntimeError(
            f"\"bincount_cpu\" not implemented for '{'Bool' if input.dtype == _bool else 'Float'}'"
        )
    x = input.detach().cpu().numpy()
    if x.size and x.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return _long(_np.bincount(x, minlength=minlength), input.device)
    w = weights.detach().cpu().numpy()
    counts = _np.bincount(x, weights=w, minlength=minlength)
    dtype = weights.dtype if weights.is_floating_point() else _f64
    return _core.tensor(counts, device="cpu").to(dtype=dtype, device=input.device)


def trapezoid(y: Tensor, x=None, *, dx=None, dim=-1) -> Tensor:
    """The trapezoidal rule along ``dim``: spacing ``dx`` (1 by default) or the sample
    points ``x``."""
    d = _wrap(dim, y.ndim)
    n = y.shape[d]
    if n == 0:  # zeros without history, as PyTorch
        shape = [s for i, s in enumerate(y.shape) if i != d]
        return _core.zeros(tuple(shape), dtype=y.dtype, device=y.device)
    if x is None:
        # PyTorch's formula (its roundings, and its gradient: one sample gives 0 * inf = NaN
        # where the incoming gradient is infinite)
        ends = (y.select(d, 0) + y.select(d, -1)) * 0.5
        return (y.sum(d) - ends) * (1.0 if dx is None else dx)
    hi, lo = y.narrow(d, 1, n - 1), y.narrow(d, 0, n - 1)
    xd = diff(x, dim=dim if x.ndim == y.ndim else -1)
    if x.ndim == 1 and y.ndim > 1:
        xd = xd.reshape([-1 if i == d else 1 for i in range(y.ndim)])
    return ((hi + lo) * xd).sum(d) / 2


def trapz(y: Tensor, x=None, *, dx=None, dim=-1) -> Tensor:
    """``trapezoid`` (its older name)."""
    return trapezoid(y, x, dx=dx, dim=dim)


def block_diag(*tensors) -> Tensor:
    """The tensors (0-d, 1-d as a row, or 2-d) along the diagonal of one matrix."""
    mats = [t.reshape(1, -1) if t.ndim < 2 else t for t in tensors]
    if _builtins.any(m.ndim != 2 for m in mats):
        bad = next(i for i, m in enumerate(mats) if m.ndim != 2)
        raise RuntimeError(
            f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {bad} has "
            f"{mats[bad].ndim} dimensions"
        )
    if not mats:
        return _core.zeros((1, 0))
    dtype = mats[0].dtype
    for m in mats[1:]:
        dtype = (_core.zeros((), dtype=dtype) + _core.zeros((), dtype=m.dtype)).dtype
    rows = _builtins.sum(m.shape[0] for m in mats)
    cols = _builtins.sum(m.shape[1] for m in mats)
    pieces, c = [], 0
    for m in mats:
        left = _core.zeros((m.shape[0], c), dtype=dtype, device=m.device)
        right = _core.zeros((m.shape[0], cols - c - m.shape[1]), dtype=dtype, device=m.device)
        pieces.append(_core.cat([left, m.to(dtype), right], 1))
        c += m.shape[1]
    out = _core.cat(pieces, 0) if pieces else _core.zeros((rows, cols), dtype=dtype)
    return out


def cartesian_prod(*tensors) -> Tensor:
    """Every combination of the 1-D tensors' elements, one per row (one tensor: itself)."""
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return _core.stack([g.reshape(-1) for g in grids], 1)


def chain_matmul(*matrices) -> Tensor:
    """The product of the matrices in order (``linalg.multi_dot``)."""
    from rustgrad import linalg

    if len(matrices) == 1:
        return matrices[0].clone()  # (a new tensor, as PyTorch's: no alias of the input)
    return linalg.multi_dot(matrices)


def svd(input: Tensor, some=True, compute_uv=True):
    """``(U, S, V)`` with ``input = U diag(S) V^T`` (``V``, not ``Vh``; reduced with
    ``some``); ``compute_uv=False`` gives zero ``U`` and ``V``."""
    from rustgrad import linalg, return_types

    U, S, Vh = linalg.svd(input, full_matrices=not some)
    V = Vh.transpose(-2, -1)
    if not compute_uv:
        U, V = U.detach() * 0, V.detach() * 0
    return return_types.svd(U, S, V)


def pinverse(input: Tensor, rcond=1e-15) -> Tensor:
    """The pseudo-inverse (``linalg.pinv`` with ``rtol=rcond``)."""
    from rustgrad import linalg

    return linalg.pinv(input, rtol=rcond)


def qr(input: Tensor, some=True):
    """``(Q, R)`` (``linalg.qr``, ``'reduced'`` with ``some`` else ``'complete'``)."""
    from rustgrad import linalg, return_types

    q, r = linalg.qr(input, "reduced" if some else "complete")
    return return_types.qr(q, r)


# ----- NumPy-style stacking, splitting, flips and predicates (issue 11) -------------------------


def hstack(tensors) -> Tensor:
    """The tensors joined column-wise (1-D ones end to end)."""
    ts = [atleast_1d(t) for t in tensors]
    return _core.cat(ts, 0 if ts and ts[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    """The tensors joined row-wise (1-D ones as rows)."""
    return _core.cat([atleast_2d(t) for t in tensors], 0)


def row_stack(tensors) -> Tensor:
    """``vstack``."""
    return vstack(tensors)


def dstack(tensors) -> Tensor:
    """The tensors joined along the third dim (each made at least 3-D)."""
    return _core.cat([atleast_3d(t) for t in tensors], 2)


def column_stack(tensors) -> Tensor:
    """The tensors as columns: 0-d and 1-D ones become columns, others join along dim 1."""
    return _core.cat([t.reshape(-1, 1) if t.ndim < 2 else t for t in tensors], 1)


def _truthy(t) -> Tensor:
    t = t if isinstance(t, Tensor) else _core.tensor(t)
    return t if t.dtype == _bool else t != 0


def logical_and(input: Tensor, other) -> Tensor:
    """Elementwise ``input and other`` (nonzero is true): a bool tensor."""
    return _truthy(input) & _truthy(other)


def logical_or(input: Tensor, other) -> Tensor:
    """Elementwise ``input or other`` (nonzero is true): a bool tensor."""
    return _truthy(input) | _truthy(other)


def logical_xor(input: Tensor, other) -> Tensor:
    """Elementwise exclusive or (nonzero is true): a bool tensor."""
    return _truthy(input) ^ _truthy(other)


def logical_not(input: Tensor) -> Tensor:
    """Elementwise ``not input`` (zero is true): a bool tensor."""
    return input.logical_not()


def ravel(input: Tensor) -> Tensor:
    """The elements as one dim: a view of a contiguous tensor, else a contiguous copy (as
    PyTorch's ``contiguous().view(-1)``, even where ``reshape`` could view)."""
    return input.contiguous().view(-1)


def count_nonzero(input: Tensor, dim=None) -> Tensor:
    """The number of nonzero elements (over ``dim``): int64."""
    hits = input != 0
    return hits.sum() if dim is None else hits.sum(dim)


def nansum(input: Tensor, dim=None, keepdim=False, *, dtype=None) -> Tensor:
    """The sum treating NaN as 0 (its gradient there is 0)."""
    if not input.is_floating_point():
        return _saved.saving("NansumBackward0", input.sum(dim, keepdim=keepdim, dtype=dtype), input)  # fmt: skip

    def forward():
        x = input.detach()
        return _core.where(x.ne(x), _zero_of(x), x).sum(dim, keepdim=keepdim, dtype=dtype)

    def backward(grad, x):
        # PyTorch's nansum_backward multiplies by the mask: an infinite gradient gives NaN
        # at a NaN element (as nanmean's of an all-NaN row), not 0
        if not keepdim and dim is not None:
            for d in sorted(_dims(dim, x.ndim)):
                grad = grad.unsqueeze(d)
        return ((grad * x.isnan().logical_not()).to(x.dtype),)

    return _native.record("NansumBackward0", [input], forward, [input], backward)


def nanmean(input: Tensor, dim=None, keepdim=False, *, dtype=None) -> Tensor:
    """The mean of the elements that are not NaN (NaN where all are)."""
    if not input.is_floating_point():
        raise RuntimeError(
            "nanmean(): expected input to have floating point or complex dtype but got "
            + _scalar_name(input.dtype)
        )
    present = input.detach() == input.detach()
    count = present.sum(dim, keepdim=keepdim)
    return nansum(input, dim, keepdim, dtype=dtype) / count.to(dtype or input.dtype)


def rot90(input: Tensor, k=1, dims=(0, 1)) -> Tensor:
    """``input`` turned ``k`` quarter turns in the plane of ``dims`` (from the first dim
    towards the second)."""
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    d0, d1 = (_wrap(d, input.ndim) for d in dims)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")  # fmt: skip
    k %= 4
    if k == 1:
        return flip(input, [d1]).transpose(d0, d1)
    if k == 2:
        return flip(input, [d0, d1])
    if k == 3:
        return flip(input, [d0]).transpose(d0, d1)
    return input.clone()


def fliplr(input: Tensor) -> Tensor:
    """The columns in reverse order (dim 1; at least 2-D)."""
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, [1])


def flipud(input: Tensor) -> Tensor:
    """The rows in reverse order (dim 0; at least 1-D)."""
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, [0])


def take_along_dim(input: Tensor, indices: Tensor, dim=None) -> Tensor:
    """Elements picked along ``dim`` by ``indices`` (broadcast with ``input`` in the other
    dims); of the flattened input when ``dim`` is None."""
    if isinstance(indices, Tensor) and indices.dtype != _int64:
        from rustgrad._math import _SCALAR_NAME

        raise RuntimeError(
            "torch.take_along_dim(): dtype of indices should be Long but got "
            f"{_SCALAR_NAME.get(indices.dtype, indices.dtype)}"
        )
    if dim is None:
        # PyTorch's: views of both flattened (a strided one raises view's error; gather saves
        # the indices' view, so writing them before backward raises), a flat result
        return input.view(-1).gather(0, indices.view(-1))
    d = _wrap(dim, input.ndim)
    if indices.ndim != input.ndim:
        raise RuntimeError(
            "torch.take_along_dim(): input and indices should have the same number of "
            f"dimensions, but got {input.ndim} dimensions for input, and {indices.ndim} "
            "dimensions for indices"
        )
    shape_i, shape_x = list(input.shape), list(indices.shape)
    shape_i[d] = shape_x[d] = 1
    common = list(broadcast_shapes(shape_i, shape_x))
    x_shape, i_shape = common.copy(), common.copy()
    x_shape[d], i_shape[d] = input.shape[d], indices.shape[d]
    if input.shape[d]:
        # (PyTorch 2.13 takes every index modulo the dim's size: -1 and 5 of 3 are both 2)
        indices = indices.remainder(input.shape[d])
    # (PyTorch's gather saves its own broadcast of the indices, which writing the indices in
    # place does not version: a copy here)
    return input.expand(x_shape).gather(d, indices.expand(i_shape).clone())


def take(input: Tensor, index: Tensor) -> Tensor:
    """The elements of the flattened ``input`` at ``index`` (negative counts from the end),
    shaped as ``index``."""
    n = input.numel()
    idx = index.detach().cpu().numpy().astype(_np.int64)
    if idx.size and n == 0:
        raise IndexError("take(): tried to take from an empty tensor")
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = int(idx[(idx < -n) | (idx >= n)].reshape(-1)[0])
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} elements.")  # fmt: skip
    flat = _long(_np.where(idx < 0, idx + n, idx).reshape(-1), input.device)
    out = _gather(input.reshape(-1), 0, flat).reshape(index.shape)
    return _saved.saving("TakeBackward0", out, input, index)


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """``dim`` split into ``sizes`` (one of them may be -1)."""
    d = _wrap(dim, input.ndim)
    shape = list(input.shape)
    sizes = [int(s) for s in sizes]
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    given = list(sizes)
    known = _math.prod(s for s in sizes if s != -1)
    if sizes.count(-1) == 1 and known and shape[d] % known == 0:
        # (-1 is inferred from the dim alone, as PyTorch's: the other dims may be empty)
        sizes[sizes.index(-1)] = shape[d] // known
    if sizes.count(-1) == 1 and known or -1 not in sizes and _math.prod(sizes) != shape[d]:
        raise RuntimeError(
            f"unflatten: Provided sizes {given} don't multiply up to the size of dim {d} "
            f"({shape[d]}) in the input tensor"
        )
    return input.reshape(shape[:d] + sizes + shape[d + 1 :])


def argwhere(input: Tensor) -> Tensor:
    """The indices of the nonzero elements, one row each: (n, ndim) int64."""
    return nonzero(input)


def _triangle_indices(lower: bool, row: int, col: int, offset: int, dtype, device):
    device = _core._get_default_device() if device is None else _core.device(device)
    if device.type == "meta":  # only the count: (2, count), with no host array of indices
        below = sum(min(max(i + offset + (1 if lower else 0), 0), col) for i in range(row))
        count = below if lower else row * col - below
        return _core.zeros((2, count), dtype=dtype or _int64, device=device)
    rows, cols = (_np.tril_indices if lower else _np.triu_indices)(row, offset, col)
    out = _core.tensor(_np.stack([rows, cols]).astype(_np.int64).reshape(2, -1), device="cpu")
    return out.to(dtype=dtype or _int64, device=device)


def tril_indices(row: int, col: int, offset=0, *, dtype=None, device=None, layout=None) -> Tensor:
    """The (2, N) row and column indices of the lower triangle of a ``row`` x ``col``
    matrix (below diagonal ``offset``), row by row."""
    return _triangle_indices(True, row, col, offset, dtype, device)


def triu_indices(row: int, col: int, offset=0, *, dtype=None, device=None, layout=None) -> Tensor:
    """The (2, N) row and column indices of the upper triangle of a ``row`` x ``col``
    matrix (above diagonal ``offset``), row by row."""
    return _triangle_indices(False, row, col, offset, dtype, device)


def is_floating_point(input: Tensor) -> bool:
    """Whether the dtype is a floating one."""
    return input.is_floating_point()


def is_nonzero(input: Tensor) -> bool:
    """Whether the one element of ``input`` is nonzero."""
    if input.numel() == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if input.numel() > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return _builtins.bool(input.item() != 0)


def _as_float(input: Tensor) -> Tensor:
    from rustgrad import get_default_dtype

    return input if input.is_floating_point() else input.to(get_default_dtype())


def deg2rad(input: Tensor) -> Tensor:
    """Degrees to radians (integers give the default float dtype)."""
    return _as_float(input) * (_math.pi / 180)


def rad2deg(input: Tensor) -> Tensor:
    """Radians to degrees (integers give the default float dtype)."""
    return _as_float(input) * (180 / _math.pi)


def logit(input: Tensor, eps=None, *, out: Tensor | None = None) -> Tensor:
    """``log(p / (1 - p))``, ``p`` clamped into ``[eps, 1 - eps]`` when ``eps`` is given."""
    from rustgrad._math import _out

    if eps is not None and eps < 0:
        eps = None  # (PyTorch's kernels read a negative eps as none)
    return _out("logit", _logit_function().apply(_as_float(input), eps), out, input)


@_functools.cache
def _logit_function():
    """``logit`` as one node with PyTorch's gradient (``LogitBackward0``): ``g / (x (1 - x))``,
    NaN outside [0, 1] without ``eps`` and 0 outside ``[eps, 1 - eps]`` with it (the
    composite's gradient would be finite where the value is NaN)."""
    from rustgrad.autograd.function import Function

    class Logit(Function):
        @staticmethod
        def forward(ctx, x, eps):
            """The value (saving the input)."""
            ctx.save_for_backward(x)
            ctx.eps = eps
            if eps is not None:
                # PyTorch's kernel: below eps reads eps, above 1 - eps reads 1 - eps, in that
                # order (so eps > 0.5 differs from clamp, where the upper bound wins).
                lo = _core.full((), eps, dtype=x.dtype, device=x.device)
                hi = _core.full((), 1 - eps, dtype=x.dtype, device=x.device)
                x = _core.where(x < lo, lo, _core.where(x > hi, hi, x))
            return (x / (1 - x)).log()

        @staticmethod
        def backward(ctx, grad):
            """PyTorch's ``logit_backward``, in differentiable ops."""
            (x,) = ctx.saved_tensors
            lo, hi = (0.0, 1.0) if ctx.eps is None else (ctx.eps, 1 - ctx.eps)
            outside = (x < lo) | (x > hi)
            # (0.5 stands in outside, so that the branch not taken has no inf: its
            # gradient, zero times that, would be NaN at second order)
            inside = _core.where(outside, _core.full((), 0.5, dtype=x.dtype, device=x.device), x)
            slope = grad / (inside * (1 - inside))
            fill = float("nan") if ctx.eps is None else 0.0
            edge = _core.full((), fill, dtype=x.dtype, device=x.device)
            return _core.where(outside, edge, slope), None

    Logit._backward_name = "LogitBackward0"
    return Logit


@_functools.cache
def _x_log_function(log1p: bool, variant: int = 0):
    """``x * log(y)`` (``x * log1p(y)``) as one node with PyTorch's edges (``XlogyBackward0``,
    ``SpecialXlog1PyBackward0``): 0 where x is 0, NaN where y is NaN; the gradient to x is
    the log, but 0 where x is 0 and the log is not finite; the gradient to y is ``x / y``
    (``x / (1 + y)``)."""
    from rustgrad.autograd.function import Function

    shift = 1 if log1p else 0

    def log(y):
        return y.log1p() if log1p else y.log()

    class XLog(Function):
        @staticmethod
        def forward(ctx, x, y):
            """The value (saving both operands)."""
            ctx.save_for_backward(x, y)
            value = _core.where(x == 0, _zeros((), x), x * log(y))
            return _core.where(y.ne(y), y, value)

        @staticmethod
        def backward(ctx, grad):
            """PyTorch's formulas, in differentiable ops (second order follows)."""
            x, y = ctx.saved_tensors
            gx = _core.where((x == 0) & (y <= -shift), _zeros((), x), grad * log(y))
            return gx, grad * x / (y + shift)

    # PyTorch's node names: 1 for a number as input, 2 for a number as other.
    XLog._backward_name = f"{'SpecialXlog1Py' if log1p else 'Xlogy'}Backward{variant}"
    return XLog


def _x_log(log1p: bool, input, other, out, name, frames=1):
    """``x * log(y)`` or ``x * log1p(y)`` in the promoted floating dtype."""
    from rustgrad._math import _out
    from rustgrad._ops_extra import result_type

    variant = 1 if not isinstance(input, Tensor) else 2 if not isinstance(other, Tensor) else 0
    if isinstance(input, Tensor) and isinstance(other, Tensor):
        dtype = result_type(input, other)
        if not dtype.is_floating_point:
            dtype = _core.get_default_dtype()
        x, y = input.to(dtype), other.to(dtype)
    else:
        x, y = _float_pair(input, other)
    return _out(name, _x_log_function(log1p, variant).apply(x, y), out, input, other, frames=frames)


def _float_pair(input, other):
    """Two operands as floating tensors: a Python number takes the other's dtype."""
    if not isinstance(input, Tensor):
        y = _as_float(other)
        return _core.tensor(float(input), dtype=y.dtype, device=y.device), y
    x = _as_float(input)
    if not isinstance(other, Tensor):
        return x, _core.tensor(float(other), dtype=x.dtype, device=x.device)
    return x, _as_float(other)


def xlogy(input, other, *, out: Tensor | None = None) -> Tensor:
    """``input * log(other)``, 0 where ``input`` is 0 (NaN where ``other`` is NaN)."""
    return _x_log(False, input, other, out, "xlogy")


def xlog1py(input, other, *, out: Tensor | None = None) -> Tensor:
    """``input * log1p(other)``, 0 where ``input`` is 0 (NaN where ``other`` is NaN)."""
    return _x_log(True, input, other, out, "special_xlog1py")


def tensor_split(input: Tensor, indices_or_sections, dim=0):
    """Views of ``input`` cut along ``dim`` into ``n`` near-equal parts (the first ``size
    % n`` one longer) or at the given indices."""
    d = _wrap(dim, input.ndim)
    size = input.shape[d]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, int):
        n = indices_or_sections
        if n <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {n}")
        edges, at = [], 0
        for i in range(n - 1):
            at += size // n + (1 if i < size % n else 0)
            edges.append(at)
    else:
        edges = list(indices_or_sections)
    bounds = [0, *[_builtins.min(_builtins.max(e if e >= 0 else e + size, 0), size) for e in edges], size]  # fmt: skip
    return tuple(
        input.narrow(d, lo, _builtins.max(hi - lo, 0)) for lo, hi in zip(bounds, bounds[1:])
    )


def _split_like_numpy(input: Tensor, sections, dim: int, name: str, need: int):
    if input.ndim < need:
        raise RuntimeError(
            f"torch.{name} requires a tensor with at least {need} dimension, but got a tensor "
            f"with {input.ndim} dimensions!"
        )
    if isinstance(sections, int) and input.shape[dim] % sections:
        raise RuntimeError(
            f"torch.{name} attempted to split along dimension {dim}, but the size of the "
            f"dimension {input.shape[dim]} is not divisible by the split_size {sections}!"
        )
    return tensor_split(input, sections, dim)


def hsplit(input: Tensor, indices_or_sections):
    """``tensor_split`` along dim 1 (dim 0 of a 1-D tensor); sections must divide evenly."""
    dim = 1 if input.ndim > 1 else 0
    return _split_like_numpy(input, indices_or_sections, dim, "hsplit", 1)


def vsplit(input: Tensor, indices_or_sections):
    """``tensor_split`` along dim 0 (at least 2-D); sections must divide evenly."""
    return _split_like_numpy(input, indices_or_sections, 0, "vsplit", 2)


def dsplit(input: Tensor, indices_or_sections):
    """``tensor_split`` along dim 2 (at least 3-D); sections must divide evenly."""
    return _split_like_numpy(input, indices_or_sections, 2, "dsplit", 3)


def aminmax(input: Tensor, *, dim=None, keepdim=False):
    """``(min, max)`` of all elements, or along ``dim``."""
    from rustgrad import return_types

    if dim is None:
        if input.numel() == 0:
            raise RuntimeError(
                "aminmax(): cannot compute aminmax over an empty dimension as the operation "
                "has no identity."
            )
        dim = ()  # (all dims; keepdim keeps them, as PyTorch's)
    elif input.ndim and input.shape[_wrap(dim, input.ndim)] == 0:
        raise IndexError(f"aminmax: Expected reduction dim {dim} to have non-zero size.")
    low, high = (_extreme(input, dim, keepdim, None, None, largest) for largest in (False, True))  # fmt: skip
    return _saved.saving("AminmaxBackward0", return_types.aminmax(low, high), input)


def clone(input: Tensor, *, memory_format=None) -> Tensor:
    """(Not in ``__all__``: bound as a method it would replace ``Tensor.clone``.) A copy of ``input`` with its own memory, in the graph (``CloneBackward0``); the layout
    is kept (``preserve_format``) unless ``memory_format`` names another."""
    if memory_format is None:
        return input.clone()
    return input.clone(memory_format=memory_format)


def signbit(input: Tensor) -> Tensor:
    """Where the sign bit is set (negative numbers, -0.0, NaNs with the sign): bool."""
    if input.is_meta:
        return _core.zeros(tuple(input.shape), dtype=_bool, device=input.device)

    def signs(t):
        t = t.detach().cpu()
        t = t.float() if t.dtype == _core.bfloat16 else t  # (NumPy has no bfloat16; exact)
        out = _core.tensor(_np.signbit(t.numpy()), device="cpu")
        return out if input.device.type == "cpu" else out.to(input.device)

    return _computed_in_memory_order(input, signs)


def copysign(input, other) -> Tensor:
    """``|input|`` with the sign of ``other`` (its sign bit: -0.0 counts as negative).

    One node, PyTorch's ``CopysignBackward0`` (``CopysignBackward1`` for a number ``other``),
    with PyTorch's formulas: ``input`` gets ``grad * result / input`` (0 where ``input`` is
    0), ``other`` constant zeros (no history, even under ``create_graph``)."""
    return _copysign(input, other, in_place=False)


def _copysign(input, other, in_place):
    """``copysign``, or with ``in_place`` its result written into ``input`` by the same node."""
    from rustgrad._math import check_in_place
    from rustgrad._native import RESULT, record, record_inplace, sum_to
    from rustgrad._ops_extra import result_type
    from rustgrad.autograd.grad_mode import no_grad

    scalar_other = not isinstance(other, Tensor)
    # (the operands' promoted dtype, the default float one for integers: a float32 input
    # with a float64 other is float64, an int64 one with a float16 other float16)
    dtype = result_type(input, other) if isinstance(input, Tensor) else None
    if dtype is not None and not dtype.is_floating_point:
        dtype = _core.get_default_dtype()
    x, y = _float_pair(input, other)
    if isinstance(input, Tensor) and not input.is_floating_point():
        x = input.to(dtype)  # (directly: an int64 beyond float32's precision stays exact)
    dtype = dtype or x.dtype

    def result(x, y):
        one = _core.ones((), dtype=dtype, device=x.device)
        return x.abs().to(dtype) * _core.where(signbit(y), -one, one)

    def backward(g, *saved):
        # PyTorch's ``result / self`` (0 where ``self`` is 0), from the saved input and
        # result only (as its node saves no ``other``). The result's graph is this node's
        # (its gradient to ``other`` 0): second derivatives give ``other`` zeros, not None.
        grads = [None]
        if saved:
            x_saved, saved_result = saved
            ratio = _core.where(x_saved == 0, _zeros((), x_saved), saved_result / x_saved)
            grads = [sum_to(g * ratio, x_saved.shape)]
        if not scalar_other:
            grads.append(_zeros(y.shape, y))
        return grads

    inputs = [x] if scalar_other else [x, y]
    name = "CopysignBackward1" if scalar_other else "CopysignBackward0"
    # Like PyTorch's generated node, the input and result are saved only when the input
    # needs its gradient: a later write to an input that does not is no error.
    needs_input_grad = x.requires_grad
    if not in_place:
        saved = [x, RESULT] if needs_input_grad else []
        return record(name, inputs, lambda: result(x, y), saved, backward)
    with no_grad():
        out = result(x, y)
    check_in_place(input, out)
    # The write overwrites the values the gradient reads: the node saves a copy (with
    # history, for second derivatives), as PyTorch's ``original_self``.
    saved = [x.clone(), RESULT] if needs_input_grad else []
    return record_inplace(name, input, inputs[1:], lambda: out, saved, backward)


def isposinf(input: Tensor) -> Tensor:
    """Where the elements are +inf: bool."""
    if not input.is_floating_point():
        return _in_memory_order(input, lambda s: _core.zeros(s, dtype=_bool, device=input.device))  # fmt: skip
    return input.detach() == _math.inf


def isneginf(input: Tensor) -> Tensor:
    """Where the elements are -inf: bool."""
    if not input.is_floating_point():
        return _in_memory_order(input, lambda s: _core.zeros(s, dtype=_bool, device=input.device))  # fmt: skip
    return input.detach() == -_math.inf


def isreal(input: Tensor) -> Tensor:
    """Where the elements are real: all True (rustgrad has no complex dtypes)."""
    return _in_memory_order(input, lambda s: _core.ones(s, dtype=_bool, device=input.device))


def float_power(input, exponent) -> Tensor:
    """``input ** exponent`` computed in float64."""
    x = input.to(_f64) if isinstance(input, Tensor) else _core.tensor(float(input), dtype=_f64)
    e = exponent.to(_f64) if isinstance(exponent, Tensor) else float(exponent)
    return x**e


def sinc(input: Tensor) -> Tensor:
    """``sin(pi x) / (pi x)``, 1 at 0, as one ``SincBackward0`` node."""
    x = _as_float(input)

    def forward():
        zero = x == 0
        safe = _core.where(zero, _core.ones((), dtype=x.dtype, device=x.device), x) * _math.pi
        return _core.where(zero, _core.ones((), dtype=x.dtype, device=x.device), safe.sin() / safe)

    def backward(grad, x):
        # PyTorch's sinc_backward, in its order: (pi x cos(pi x) - sin(pi x)) / (pi x^2), 0
        # where pi x^2 is 0. Subtracting the two terms of the quotient rule separately would
        # cancel to a few digits in float32 near 0.
        x_pi = x * _math.pi
        x_squared_pi = x * x * _math.pi
        out = grad * (x_pi * x_pi.cos() - x_pi.sin()) / x_squared_pi
        return (_core.where(x_squared_pi == 0.0, _core.zeros((), dtype=out.dtype), out),)

    return _native.record("SincBackward0", [x], forward, [x], backward)


# ----- methods --------------------------------------------------------------------------------

_METHODS = [
    "logical_and",
    "logical_or",
    "logical_xor",
    "ravel",
    "count_nonzero",
    "nansum",
    "nanmean",
    "rot90",
    "fliplr",
    "flipud",
    "take_along_dim",
    "take",
    "unflatten",
    "argwhere",
    "is_nonzero",
    "deg2rad",
    "rad2deg",
    "logit",
    "xlogy",
    "tensor_split",
    "hsplit",
    "vsplit",
    "dsplit",
    "aminmax",
    "signbit",
    "copysign",
    "isposinf",
    "isneginf",
    "isreal",
    "float_power",
    "sinc",
    "clamp_min",
    "clamp_max",
    "dist",
    "diff",
    "kron",
    "cummax",
    "cummin",
    "logcumsumexp",
    "bincount",
    "svd",
    "pinverse",
    "qr",
    "select",
    "isnan",
    "isinf",
    "isfinite",
    "nan_to_num",
    "addcmul",
    "addcdiv",
    "diag_embed",
    "det",
    "logdet",
    "slogdet",
    "inverse",
    "matrix_power",
    "cross",
    "prod",
    "cumsum",
    "cumprod",
    "std",
    "var",
    "norm",
    "logsumexp",
    "any",
    "all",
    "amax",
    "amin",
    "median",
    "nanmedian",
    "sort",
    "argsort",
    "topk",
    "kthvalue",
    "unique",
    "mv",
    "bmm",
    "addmm",
    "baddbmm",
    "outer",
    "gather",
    "scatter",
    "scatter_add",
    "index_select",
    "index_add",
    "masked_fill",
    "masked_select",
    "nonzero",
    "tril",
    "triu",
    "roll",
    "flip",
    "repeat",
    "repeat_interleave",
    "tile",
    "split",
    "chunk",
    "unbind",
    "narrow",
    "movedim",
    "moveaxis",
    "swapaxes",
    "swapdims",
    "diag",
    "trace",
    "isclose",
    "allclose",
    "equal",
]

# In place: the out-of-place result written into ``self`` (``copy_`` records the history).
_INPLACE = [
    "clamp_min",
    "clamp_max",
    "nan_to_num",
    "addcmul",
    "addcdiv",
    "cumsum",
    "cumprod",
    "scatter",
    "scatter_add",
    "index_add",
    "tril",
    "triu",
]


# The in-place forms' PyTorch nodes where the composite's own node is another (the rest are
# named after the out-of-place op's node), from the arguments after ``self``.
_INPLACE_NODES = {
    "clamp_min": lambda min: f"ClampMinBackward{int(isinstance(min, Tensor))}",
    "clamp_max": lambda max: f"ClampMaxBackward{int(isinstance(max, Tensor))}",
    "addcmul": lambda *a, **k: "AddcmulBackward0",
    "cumsum": lambda *a, **k: "CumsumBackward0",
    "tril": lambda *a, **k: "TrilBackward0",
    "triu": lambda *a, **k: "TriuBackward0",
}
# The in-place forms whose composites save the input they overwrite.
_INPLACE_READS_COPY = {"clamp_min", "clamp_max", "cumprod"}

_C_NAME = {_bool: "bool", _int64: "long int", _f32: "float", _f64: "double"}
# the dtypes of issue 11 point 4
_C_NAME.update({_core.int32: "int", _core.int16: "short int", _core.int8: "signed char"})
_C_NAME.update({_core.uint8: "unsigned char", _core.float16: "c10::Half"})
_C_NAME.update({_core.bfloat16: "c10::BFloat16"})


def _c_name(dtype) -> str:
    return _C_NAME.get(dtype, str(dtype).split(".")[-1])


def _inplace(name):
    f = globals()[name]

    def method(self, *args, **kwargs):
        from rustgrad._math import check_in_place

        if "out" in kwargs:
            _refuse_method_out(name + "_", args, kwargs)
        _core._refuse_leaf_write(self)
        scan = name in ("cumsum", "cumprod")
        # (the scans' own words, in PyTorch's order: the dtypes, then the kernel's)
        if scan and kwargs.get("dtype") not in (None, self.dtype):
            raise RuntimeError(
                f"Bad in-place call: input tensor dtype {_c_name(self.dtype)} and output "
                f"tensor dtype {_c_name(kwargs['dtype'])} should match"
            )
        if scan and self.dtype == _bool and self.ndim and self.numel():
            raise NotImplementedError(f"\"{name}_out_cpu\" not implemented for 'Bool'")
        # (a composite whose parts save the input reads a copy, as PyTorch's node saves the
        # old values: the write does not change what backward reads)
        needs = self.requires_grad or _builtins.any(
            isinstance(a, Tensor) and a.requires_grad for a in (*args, *kwargs.values())
        )
        copy = name in _INPLACE_READS_COPY and needs and _core.is_grad_enabled()
        with _saved.in_place():
            result = f(self.clone() if copy else self, *args, **kwargs)
        if not scan:
            check_in_place(self, result)
        node = _INPLACE_NODES.get(name)
        return _native.write_result(self, result, node and node(*args, **kwargs))

    method.__name__ = name + "_"
    method.__doc__ = f"In-place ``{name}``: writes the result into ``self`` and returns it."
    return method


def _bind():
    """Attach the methods to ``Tensor`` (each with its function's doc) and accept NumPy's
    ``axis=``/``keepdims=`` on the older reductions."""
    for name in _METHODS:
        setattr(Tensor, name, _as_method(globals()[name]))
    # (the method takes no ``out=``, as PyTorch's)
    Tensor.sort = _as_method(_sorted, "sort")
    for name in ("flip", "tile"):  # x.flip(0, 1) as x.flip((0, 1))
        setattr(Tensor, name, _varargs_method(globals()[name]))
    for name in _INPLACE:
        setattr(Tensor, name + "_", _inplace(name))
    _bind_clamp()
    Tensor.masked_fill_ = _masked_fill_
    for name in ("sum", "mean", "max", "min", "argmax", "argmin"):
        setattr(Tensor, name, _numpy_keywords(getattr(Tensor, name)))


def _bind_clamp():
    """``clamp``/``clip`` (and in place) also with tensor bounds (the core takes numbers)."""
    for name in ("clamp", "clip"):
        setattr(Tensor, name, _clamp_method(name, getattr(Tensor, name), in_place=False))
        setattr(Tensor, name + "_", _clamp_method(name + "_", Tensor.clamp_, in_place=True))


def _check_clamp_bounds(name, min, max, input=None):
    """PyTorch's overloads take both bounds as tensors or both as numbers (or None)."""
    if _builtins.any(b is not None and not isinstance(b, Tensor) for b in (min, max)):
        args = ([input] if input is not None else []) + [min, max]
        got = ", ".join(type(a).__name__ for a in args if a is not None)
        lead = "Tensor input, " if input is not None else ""
        tail = ", *, Tensor out = None" if input is not None else ""
        raise TypeError(
            f"{name}() received an invalid combination of arguments - got ({got}), but expected "
            f"one of:\n * ({lead}Tensor min = None, Tensor max = None{tail})\n"
            f" * ({lead}Number min = None, Number max = None{tail})\n"
        )


def _clamp_method(name, core, in_place):
    def method(self, min=None, max=None):
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            _check_clamp_bounds(name.rstrip("_"), min, max)
            if not in_place:
                return _clamp_tensors(self, min, max)
            with _saved.in_place():
                out = _clamp_tensors(self, min, max, in_place=True)
                from rustgrad._math import check_in_place

                check_in_place(self, out)
                return _native.write_result(self, out, "ClampBackward0")
        return core(self, _integer_bound(self, min), _integer_bound(self, max))

    method.__name__ = method.__qualname__ = name
    method.__doc__ = core.__doc__
    return method


_INTEGER_DTYPES = (_core.uint8, _core.int8, _core.int16, _core.int32, _core.int64)


def _integer_bound(x, bound):
    """An int bound of an integer tensor converted to its dtype as PyTorch converts it: out
    of range is refused in PyTorch's words, and uint8 wraps (``clamp(-1, 1)`` is 1 throughout:
    the lower bound is 255)."""
    if type(bound) is not int or x.dtype not in _INTEGER_DTYPES:
        return bound
    return _core.full((), bound, dtype=x.dtype).item()


def _as_method(f, name=None):
    """``f`` (whose first parameter is ``input``) as the method ``name`` (``f``'s by default)
    taking ``self``; as PyTorch's methods, it takes no ``out=`` (refused in PyTorch's words,
    ``_refuse_method_out``)."""
    name = name or f.__name__

    def method(self, *args, **kwargs):
        if "out" in kwargs:
            _refuse_method_out(name, args, kwargs)
        if name == "argsort" and not isinstance(kwargs.get("stable", False), _builtins.bool):
            _METHOD_OVERLOADS[name].check(args, kwargs)
        return f(self, *args, **kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f.__doc__
    sig = _inspect.signature(f)
    first, *rest = sig.parameters.values()
    rest = [p for p in rest if p.name != "out"]
    method.__signature__ = sig.replace(parameters=[first.replace(name="self"), *rest])
    return method


# How PyTorch's Tensor methods refuse ``out=``: those whose binding has several overloads
# list them; those that take no keyword at all say so; the rest name the keyword.
_METHOD_OVERLOADS = {
    "argsort": _Overloads(
        "argsort",
        "(*, bool stable, int dim = -1, bool descending = False)",
        "(int dim = -1, bool descending = False)",
    ),
    "sort": _Overloads(
        "sort",
        "(*, bool stable, int dim = -1, bool descending = False)",
        "(int dim = -1, bool descending = False)",
    ),
    "xlogy": _Overloads("xlogy", "(Tensor other)", "(Number other)"),
    "xlogy_": _Overloads("xlogy_", "(Tensor other)", "(Number other)"),
}
_METHODS_WITHOUT_KEYWORDS = {"msort", "sinc_", "deg2rad_", "rad2deg_", "sgn_"}


def _refuse_method_out(name, args, kwargs):
    """Raise PyTorch's TypeError for the method ``name`` called with ``out=``."""
    if name in _METHOD_OVERLOADS:
        _METHOD_OVERLOADS[name].check(args, kwargs)  # (no overload has ``out``: raises)
    if name in _METHODS_WITHOUT_KEYWORDS:
        raise TypeError(f"TensorBase.{name}() takes no keyword arguments")
    raise TypeError(f"{name}() got an unexpected keyword argument 'out'")


def _varargs_method(f):
    """``f(input, dims)`` as a method taking the dims as a tuple, varargs or ``dims=``."""

    def method(self, *dims, **kwargs):
        if "dims" in kwargs:
            return f(self, kwargs.pop("dims"), **kwargs)
        return f(self, _ints(dims), **kwargs)

    method.__name__ = method.__qualname__ = f.__name__
    method.__doc__ = f.__doc__
    return method


def _numpy_keywords(f):
    def method(self, *args, **kwargs):
        if "axis" in kwargs:
            if "dim" in kwargs:
                raise TypeError("got both 'dim' and its alias 'axis'")
            kwargs["dim"] = kwargs.pop("axis")
        if "keepdims" in kwargs:
            kwargs["keepdim"] = kwargs.pop("keepdims")
        return f(self, *args, **kwargs)

    method.__name__ = f.__name__
    method.__doc__ = f.__doc__
    method.__wrapped__ = f
    return method
