"""``scatter_reduce`` (sum, prod, mean, amax, amin into the positions ``index`` names),
``histc`` (counts in equal bins) and ``mode`` (the most frequent value along a dim), as
PyTorch's.

Values are computed on the host (NumPy, exact and in PyTorch's order of operations) and put
back on the tensor's device. ``scatter_reduce`` and ``mode`` are recorded as PyTorch's nodes
(``ScatterReduceBackward0``, ``ModeBackward0``) whose backwards are PyTorch's formulas written
with differentiable ops, so second derivatives follow; ``histc`` has no gradient (as
PyTorch's, whose result does not require grad).
"""

from __future__ import annotations

import math as _math

import numpy as _np

from rustgrad import _core, _native, _ops
from rustgrad._core import Tensor

__all__: list[str] = []  # re-exported by ``rustgrad`` explicitly

_REDUCES = ("sum", "prod", "mean", "amax", "amin")
_TYPE_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte"}
_TYPE_NAMES.update(bool="Bool", float32="Float", float64="Double")


def _type_name(dtype) -> str:
    name = str(dtype).rpartition(".")[2]
    return _TYPE_NAMES.get(name, name)


def _on_device(values: _np.ndarray, like: Tensor) -> Tensor:
    # (np.array, not ascontiguousarray, which makes a 0-d array 1-d)
    out = _core.tensor(_np.array(values, order="C"), dtype=like.dtype, device="cpu")
    return out if like.device.type == "cpu" else out.to(like.device)


# ----- scatter_reduce -----------------------------------------------------------------------


def _scatter_plan(input: Tensor, dim: int, index: Tensor, src: Tensor):
    """PyTorch's checks; the flat positions in ``input`` and in ``src`` of each scattered
    element (in index order)."""
    if not isinstance(index, Tensor) or index.dtype not in (_core.int64, _core.int32):
        raise RuntimeError("scatter(): Expected dtype int32/int64 for index")
    if index.dtype != _core.int64:
        index = index.to(_core.int64)
    if not isinstance(src, Tensor):
        raise TypeError("scatter_reduce(): argument 'src' must be Tensor")
    if src.dtype != input.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    idx = _ops._check_index("scatter_reduce", input, dim, index, src)
    pos = _ops._flat_positions(tuple(input.shape) or (1,), dim, idx if input.ndim else idx.reshape(1))  # fmt: skip
    along = _np.indices(idx.shape)[dim] if idx.ndim else _np.zeros(1, _np.int64)
    spos = _ops._flat_positions(tuple(src.shape) or (1,), dim, along)
    return index, pos, spos


def _reduce_name(reduce: str) -> str:
    """``reduce`` checked; PyTorch also takes ``"max"`` and ``"min"`` for amax and amin."""
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)
    if reduce not in _REDUCES:
        raise RuntimeError(
            f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}"
        )
    return reduce


def _identity(reduce: str, dtype: _np.dtype):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind == "f":
        return -_np.inf if reduce == "amax" else _np.inf
    if dtype.kind == "b":
        return reduce == "amin"
    info = _np.iinfo(dtype)
    return info.min if reduce == "amax" else info.max


def _scatter_reduce_values(input, src, pos, spos, reduce, include_self):
    """The result's values (NumPy), reduced in index order as PyTorch's CPU kernel."""
    x = _ops._host(input).reshape(-1).copy()
    v = _ops._host(src).reshape(-1)[spos]
    if reduce == "mean" and x.dtype == _np.bool_:
        raise NotImplementedError(
            "\"scatter_gather_tensor_cpu_reduce_mean\" not implemented for 'Bool'"
        )
    if not include_self:
        x[pos] = _identity(reduce, x.dtype)
    ufunc = {"sum": _np.add, "mean": _np.add, "prod": _np.multiply, "amax": _np.maximum}
    ufunc.get(reduce, _np.minimum).at(x, pos, v)
    if reduce == "mean":
        count = _np.bincount(pos, minlength=x.size) + (1 if include_self else 0)
        count = _np.maximum(count, 1).astype(x.dtype)
        x = x / count if x.dtype.kind == "f" else _np.floor_divide(x, count)
    return x.reshape(tuple(input.shape))


def _scatter_reduce_backward(dim, index, reduce, include_self):
    """PyTorch's ``scatter_reduce_backward`` (FunctionsManual.cpp), with differentiable ops."""

    def backward(grad, self, src, result, _index):
        if reduce == "sum":
            g_self, g_src = grad, grad.gather(dim, index)
        elif reduce == "prod":
            # the exclusive products, explicitly where self or src hold zeros
            masked_self = self.masked_fill(self == 0, 1)
            masked_self_result = scatter_reduce(masked_self, dim, index, src, reduce, include_self=include_self)  # fmt: skip
            g_self = grad * masked_self_result / masked_self
            src_zero = src == 0
            zeros = _core.zeros(tuple(self.shape), dtype=self.dtype, device=self.device)
            src_num_zeros = zeros.scatter_add(dim, index, src_zero.to(self.dtype)).gather(dim, index)  # fmt: skip
            src_single_zero = src_zero & (src_num_zeros == 1)
            masked_src = src.masked_fill(src_single_zero, 1)
            masked_src_result = scatter_reduce(self, dim, index, masked_src, reduce, include_self=include_self)  # fmt: skip
            g_src = _core.where(
                src_single_zero,
                (grad * masked_src_result).gather(dim, index),
                (grad * result).gather(dim, index) / src.masked_fill(src_zero, 1),
            )
        elif reduce == "mean":
            n = _core.full(tuple(grad.shape), 1.0 if include_self else 0.0, dtype=grad.dtype, device=grad.device)  # fmt: skip
            n = n.scatter_add(dim, index, _core.ones(tuple(src.shape), dtype=src.dtype, device=src.device))  # fmt: skip
            n = n.masked_fill(n == 0, 1)
            g_self = grad / n
            g_src = grad.gather(dim, index) / n.gather(dim, index)
        else:
            # the gradient shared evenly among the elements equal to the max (min)
            value = result.gather(dim, index)
            self_is_result = self == result
            src_is_result = src == value
            spread = self_is_result.to(self.dtype).scatter_add(dim, index, src_is_result.to(self.dtype))  # fmt: skip
            g = grad / spread
            g_self = self_is_result * g
            g_src = src_is_result * g.gather(dim, index)
        if not include_self:
            g_self = g_self.scatter(dim, index, 0)
        return g_self, g_src

    return backward


def scatter_reduce(
    input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *, include_self=True
) -> Tensor:
    """A copy of ``input`` with the elements of ``src`` reduced into the positions ``index``
    names along ``dim`` (as ``scatter``): ``reduce`` ``"sum"``, ``"prod"``, ``"mean"``,
    ``"amax"`` or ``"amin"``, counting ``input``'s own value unless ``include_self=False``."""
    reduce = _reduce_name(reduce)
    d = _ops._wrap(dim, input.ndim)
    index, pos, spos = _scatter_plan(input, d, index, src)

    def forward():
        values = _scatter_reduce_values(input, src, pos, spos, reduce, include_self)
        return _on_device(values, input)

    backward = _scatter_reduce_backward(d, index, reduce, include_self)
    saved = [input, src, _native.RESULT, index]  # (the index too, as PyTorch's node)
    return _native.record("ScatterReduceBackward0", [input, src], forward, saved, backward)


def scatter_reduce_(
    self: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *, include_self=True
) -> Tensor:
    """In-place ``scatter_reduce``: writes the result into ``self`` and returns it."""
    reduce = _reduce_name(reduce)
    _core._refuse_leaf_write(self)  # (PyTorch's first check)
    d = _ops._wrap(dim, self.ndim)
    index, pos, spos = _scatter_plan(self, d, index, src)
    # the backward reads self's old values (PyTorch saves a copy of them)
    old = self.detach().clone()

    def forward():
        return _on_device(_scatter_reduce_values(old, src, pos, spos, reduce, include_self), self)

    backward = _scatter_reduce_backward(d, index, reduce, include_self)
    return _native.record_inplace(
        "ScatterReduceBackward0", self, [src], forward, [old, src, _native.RESULT, index], backward
    )


# ----- histc --------------------------------------------------------------------------------


def _c_double(x: float) -> str:
    """A double as C++'s ``operator<<`` prints it (for PyTorch's messages)."""
    if _math.isnan(x):
        return "-nan" if _math.copysign(1.0, x) < 0 else "nan"
    if _math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:g}"


def histc(input: Tensor, bins=100, min=0, max=0) -> Tensor:
    """Counts of ``input``'s elements in ``bins`` equal bins over ``[min, max]`` (the data's
    own range when ``min == max``); elements outside (and NaN) are not counted, the last bin
    includes its right edge. In ``input``'s dtype; no gradient."""
    if not input.is_floating_point():
        raise NotImplementedError(
            f"\"histogram_cpu\" not implemented for '{_type_name(input.dtype)}'"
        )
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    a = _ops._host(input).reshape(-1)
    low, high = float(min), float(max)
    if low == high and a.size:
        low, high = float(a.min()), float(a.max())
    if low == high:
        low, high = low - 1, high + 1
    if not (_math.isfinite(low) and _math.isfinite(high)):
        raise RuntimeError(
            f"torch.histc: range of [{_c_double(low)}, {_c_double(high)}] is not finite"
        )
    if not low < high:
        raise RuntimeError("torch.histc: max must be larger than min")
    # PyTorch's linear bin search, in the input's dtype: the outer edges as that dtype, then
    # (elt - left) * bins / (right - left) truncated, the right edge in the last bin.
    t = a.dtype.type
    left, right = t(low), t(high)
    inside = a[(a >= left) & (a <= right)]
    position = ((inside - left) * t(bins) / (right - left)).astype(_np.int64)
    position[position == bins] = bins - 1
    counts = _np.bincount(position, minlength=bins).astype(a.dtype)
    return _on_device(counts, input)


# ----- mode ---------------------------------------------------------------------------------

# libstdc++'s std::sort, which PyTorch's CPU mode uses to sort (value, index) pairs by value:
# it is not stable, so which index among equal values ends a run (the index PyTorch returns)
# is decided by the exact sequence of its comparisons and moves, reproduced here.
_THRESHOLD = 16


def _std_sort(a: list, less) -> None:
    n = len(a)
    if n > 1:
        _introsort_loop(a, 0, n, 2 * (n.bit_length() - 1), less)
        _final_insertion_sort(a, 0, n, less)


def _introsort_loop(a, first, last, depth, less):
    while last - first > _THRESHOLD:
        if depth == 0:
            _heap_sort(a, first, last, less)
            return
        depth -= 1
        cut = _partition_pivot(a, first, last, less)
        _introsort_loop(a, cut, last, depth, less)
        last = cut


def _partition_pivot(a, first, last, less):
    mid = first + (last - first) // 2
    _move_median_to_first(a, first, first + 1, mid, last - 1, less)
    return _unguarded_partition(a, first + 1, last, first, less)


def _move_median_to_first(a, result, x, y, z, less):
    if less(a[x], a[y]):
        if less(a[y], a[z]):
            pick = y
        elif less(a[x], a[z]):
            pick = z
        else:
            pick = x
    elif less(a[x], a[z]):
        pick = x
    elif less(a[y], a[z]):
        pick = z
    else:
        pick = y
    a[result], a[pick] = a[pick], a[result]


def _unguarded_partition(a, first, last, pivot, less):
    # (the bounds checks stand in for the sentinels, which NaN can defeat in C++)
    while True:
        while first < len(a) - 1 and less(a[first], a[pivot]):
            first += 1
        last -= 1
        while last > 0 and less(a[pivot], a[last]):
            last -= 1
        if not first < last:
            return first
        a[first], a[last] = a[last], a[first]
        first += 1


def _final_insertion_sort(a, first, last, less):
    if last - first > _THRESHOLD:
        _insertion_sort(a, first, first + _THRESHOLD, less)
        for i in range(first + _THRESHOLD, last):
            _unguarded_linear_insert(a, i, less)
    else:
        _insertion_sort(a, first, last, less)


def _insertion_sort(a, first, last, less):
    for i in range(first + 1, last):
        if less(a[i], a[first]):
            a[first + 1 : i + 1], a[first] = a[first:i], a[i]
        else:
            _unguarded_linear_insert(a, i, less)


def _unguarded_linear_insert(a, last, less):
    val = a[last]
    nxt = last - 1
    while nxt >= 0 and less(val, a[nxt]):
        a[last] = a[nxt]
        last, nxt = nxt, nxt - 1
    a[last] = val


def _heap_sort(a, first, last, less):
    n = last - first
    for parent in range((n - 2) // 2, -1, -1):
        _adjust_heap(a, first, parent, n, a[first + parent], less)
    while last - first > 1:
        last -= 1
        val, a[last] = a[last], a[first]
        _adjust_heap(a, first, 0, last - first, val, less)


def _adjust_heap(a, first, hole, n, val, less):
    top = child = hole
    while child < (n - 1) // 2:
        child = 2 * (child + 1)
        if less(a[first + child], a[first + child - 1]):
            child -= 1
        a[first + hole] = a[first + child]
        hole = child
    if n % 2 == 0 and child == (n - 2) // 2:
        child = 2 * (child + 1)
        a[first + hole] = a[first + child - 1]
        hole = child - 1
    parent = (hole - 1) // 2
    while hole > top and less(a[first + parent], val):
        a[first + hole] = a[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    a[first + hole] = val


def _less(x, y):
    return x[0] < y[0]


def _mode_of_row(row) -> int:
    """The position PyTorch's CPU kernel answers: after sorting, the last element of the
    first longest run of equal values."""
    pairs = list(zip(row.tolist(), range(len(row))))
    _std_sort(pairs, _less)
    best, best_freq, freq = 0, 0, 0
    for i, (value, where) in enumerate(pairs):
        freq += 1
        if i == len(pairs) - 1 or value != pairs[i + 1][0]:
            if freq > best_freq:
                best, best_freq = where, freq
            freq = 0
    return best


def mode(input: Tensor, dim=-1, keepdim=False):
    """``(values, indices)``: the most frequent value along ``dim`` (the smallest among the
    most frequent) and an index of it, PyTorch's CPU choice among the equal ones."""
    from rustgrad.return_types import mode as _result

    d = _ops._wrap(dim, input.ndim)
    if input.ndim and input.shape[d] == 0:
        raise IndexError(f"mode(): Expected reduction dim {d} to have non-zero size.")
    a = _np.moveaxis(_ops._host(input), d, -1) if input.ndim else _ops._host(input).reshape(1)
    rows = a.reshape(-1, a.shape[-1]) if a.size else a.reshape(0, 1)
    picked = _np.array([_mode_of_row(r) for r in rows], dtype=_np.int64)
    lead = a.shape[:-1]
    idx = _ops._long(picked.reshape(lead), input.device)
    kept = idx.unsqueeze(d) if input.ndim else idx
    shape = tuple(input.shape)

    def forward():
        values = input.gather(d, kept) if input.ndim else input.clone()
        return values if keepdim or not input.ndim else values.squeeze(d)

    def backward(grad, _indices):
        # PyTorch's value_selecting_reduction_backward: grad written at the indices
        g = grad if keepdim or not input.ndim else grad.unsqueeze(d)
        zeros = _core.zeros(shape, dtype=grad.dtype, device=grad.device)
        return (zeros.scatter(d, kept, g) if input.ndim else g,)

    # (the indices saved, as PyTorch's node saves them)
    values = _native.record("ModeBackward0", [input], forward, [idx], backward)
    return _result(values, kept if keepdim and input.ndim else idx)


FUNCTIONS = ["scatter_reduce", "histc", "mode"]


def _bind():
    """Attach the methods to ``Tensor``."""
    for name in FUNCTIONS:
        setattr(Tensor, name, _ops._as_method(globals()[name]))
    Tensor.scatter_reduce_ = scatter_reduce_
