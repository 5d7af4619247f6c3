"""3-d pooling (max, average, adaptive), max unpooling (1-3 d) and power-average pooling
(1-3 d), as ``torch.nn.functional``'s.

Composites of existing ops, each recorded as PyTorch's node with PyTorch's backward:

- max pooling reduces one spatial dim at a time (W, then H, then D) over gathered window
  elements with PyTorch's rule (the first largest in row-major order; a NaN wins, the last
  one); the order is separable, so the winner and its flat index equal PyTorch's. The
  backward scatter-adds into the input (its gradient a gather, as PyTorch's double backward);
- average pooling sums the padded input's strided slices in the kernel's row-major order (the
  kernel's own summation order: equal values) and divides by PyTorch's per-window counts; its
  backward and double backward are each other's adjoint, as PyTorch's two nodes;
- adaptive average pooling sums windows one dim at a time (gathers: an inf stays in its
  windows), divided by the window sizes as PyTorch (``sum / kd / kh / kw``);
- max unpooling scatters (the last write wins, as PyTorch's loop); its backward gathers.
"""

import math

import numpy as np

from rustgrad import _core, _native
from rustgrad._size import check_non_negative
from rustgrad.nn._conv_functional import (
    _adaptive_windows,
    _window_sums,
    _window_sums_adjoint,
)

__all__ = [
    "adaptive_avg_pool3d",
    "adaptive_max_pool3d",
    "adaptive_max_pool3d_with_indices",
    "avg_pool3d",
    "lp_pool1d",
    "lp_pool2d",
    "lp_pool3d",
    "max_pool3d",
    "max_pool3d_with_indices",
    "max_unpool1d",
    "max_unpool2d",
    "max_unpool3d",
]

_FLOATS = (_core.float16, _core.bfloat16, _core.float32, _core.float64)
_INTS = (_core.uint8, _core.int8, _core.int16, _core.int32, _core.int64)


def _not_implemented(kernel, dtype):
    from rustgrad.nn.functional import _dtype_name

    return NotImplementedError(f"\"{kernel}\" not implemented for '{_dtype_name(dtype)}'")


def _ints(value):
    """An ``int[3]`` argument as PyTorch's parser passes it: one int, or the sequence."""
    return [value] if isinstance(value, int) else [int(v) for v in value]


def _three(value):
    return value * 3 if len(value) == 1 else value


def _trunc_div(a, b):
    """C++ integer division (towards zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _sizes(t):
    return list(t.shape)


def _pool_out(size, k, p, s, d, ceil_mode):
    """PyTorch's ``pooling_output_shape`` with its checks."""
    if s == 0:
        raise RuntimeError("stride should not be zero")
    if p < 0:
        raise RuntimeError(f"pad must be non-negative, but got pad: {p}")
    if p > _trunc_div((k - 1) * d + 1, 2):
        raise RuntimeError(
            f"pad should be at most half of effective kernel size, but got pad={p}, "
            f"kernel_size={k} and dilation={d}"
        )
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1  # the last window starts inside the input or its left padding
    return out


def _pool3d_check(input, k, s, p, d, out, fn_name, check_input_size=False):
    """PyTorch's ``pool3d_shape_check``."""
    if min(k) <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kT: {k[0]} kH: {k[1]} kW: {k[2]}")  # fmt: skip
    if min(s) <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dT: {s[0]} dH: {s[1]} dW: {s[2]}")  # fmt: skip
    if min(d) <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationT: {d[0]} dilationH: {d[1]} dilationW: {d[2]}")  # fmt: skip
    ndim = input.dim()
    for i in range(ndim):
        if (ndim == 5 and i == 0) or input.shape[i] > 0:
            continue
        # (PyTorch names the dimension by its length, always 0)
        raise RuntimeError(
            f"{fn_name}: Expected input's non-batch dimensions to have positive length, but "
            f"input has a shape of {_sizes(input)} and non-batch dimension 0 has length zero!"
        )
    t, h, w = input.shape[-3:]
    if check_input_size and (t < k[0] or h < k[1] or w < k[2]):
        raise RuntimeError(
            f"input image (T: {t} H: {h} W: {w}) smaller than kernel size "
            f"(kT: {k[0]} kH: {k[1]} kW: {k[2]})"
        )
    if k[0] // 2 < p[0] or k[2] // 2 < p[2] or k[1] // 2 < p[1]:
        raise RuntimeError(
            "pad should be smaller than or equal to half of kernel size, but got "
            f"kT: {k[0]} kW: {k[2]} kH: {k[1]} padT: {p[0]} padW: {p[2]} padH: {p[1]}"
        )
    if min(out) < 1:
        c = input.shape[-4]
        raise RuntimeError(
            f"Given input size: ({c}x{t}x{h}x{w}). Calculated output size: "
            f"({c}x{out[0]}x{out[1]}x{out[2]}). Output size is too small"
        )


def _window_args(input, kernel_size, stride, padding, dilation, op):
    """Kernel, stride, padding, dilation and output size of a 3-d pooling, checked in
    PyTorch's order and words."""
    k = _ints(kernel_size)
    s = [] if stride is None else _ints(stride)
    p, d = _ints(padding), _ints(dilation)
    either = "either " if op == "max_pool3d" else ""
    if len(k) not in (1, 3):
        raise RuntimeError(f"{op}: kernel_size must {either}be a single int, or a tuple of three ints")  # fmt: skip
    if len(s) not in (0, 1, 3):
        raise RuntimeError(f"{op}: stride must {either}be omitted, a single int, or a tuple of three ints")  # fmt: skip
    if len(p) not in (1, 3):
        raise RuntimeError(f"{op}: padding must {either}be a single int, or a tuple of three ints")  # fmt: skip
    if len(d) not in (1, 3):
        raise RuntimeError(f"{op}: dilation must be either a single int, or a tuple of three ints")  # fmt: skip
    k = _three(k)
    s = k if not s else _three(s)
    p, d = _three(p), _three(d)
    if input.dim() not in (4, 5):
        raise RuntimeError("non-empty 4D or 5D (batch mode) tensor expected for input")
    return k, s, p, d


def _fill_min(dtype):
    """The value PyTorch's max kernels start from (the result of an empty window)."""
    import rustgrad

    if dtype in _FLOATS:
        return -math.inf
    return rustgrad.iinfo(dtype).min


def _max_along(values, index, dim, windows):
    """The maximum of each window along ``dim`` and its flat index, as PyTorch's loops pick it:
    a later element wins when larger or NaN. Windows are the positions they hold (an empty
    one reads position 0; the caller overwrites it)."""
    device = values.device
    longest = max((len(w) for w in windows), default=1)
    best = arg = None
    for j in range(max(longest, 1)):
        pos = [w[min(j, len(w) - 1)] if w else 0 for w in windows]
        where = _core.tensor(pos, dtype=_core.int64, device=device)
        v, i = values.index_select(dim, where), index.index_select(dim, where)
        if best is None:
            best, arg = v, i
            continue
        take = v > best
        if values.dtype in _FLOATS:
            take = take | v.isnan()
        best, arg = _core.where(take, v, best), _core.where(take, i, arg)
    return best, arg


def _window_max(x, windows, empty=None):
    """Max pooling of the last three dims of ``x`` over ``windows`` (per dim, per output, the
    input positions), reduced W, then H, then D; ``empty`` (a boolean ``(od, oh, ow)`` array
    and the fallback flat indices) marks windows with no element. Values and int64 indices."""
    sizes = tuple(x.shape[-3:])
    lead = x.dim() - 3
    index = _core.arange(math.prod(sizes), device=x.device).view((1,) * lead + sizes)
    values = x
    for axis in (2, 1, 0):
        values, index = _max_along(values, index, lead + axis, windows[axis])
    index = index.expand(tuple(values.shape))
    if empty is not None and empty[0].any():
        mask = _core.tensor(empty[0], device=x.device)
        values = values.masked_fill(mask, _fill_min(x.dtype))
        index = _core.where(mask, _core.tensor(empty[1], device=x.device), index)
    return values, index.contiguous()


def _max_node(name, input, values, indices):
    """``values`` as the output of PyTorch's node ``name`` over ``input``: its backward adds
    each gradient at its maximum's flat index (a differentiable scatter-add, so the double
    backward gathers, as PyTorch's)."""
    from rustgrad._ops import scatter_add

    spatial = tuple(input.shape[-3:])

    def backward(grad, input, indices):
        lead = tuple(grad.shape[:-3])
        flat = _core.zeros((*lead, math.prod(spatial)), dtype=grad.dtype, device=grad.device)
        count = math.prod(grad.shape[-3:])
        where, src = indices.reshape(*lead, count), grad.reshape(*lead, count)
        g = scatter_add(flat, len(lead), where, src).view(tuple(input.shape))
        double = name.replace("Backward0", "BackwardBackward0")
        return (_native.input_dependent(double, g, [input]),)

    return _native.record(name, [input], lambda: values, [input, indices], backward)


# ----- max pooling -----------------------------------------------------------------------


def _dilated_windows(size, out, k, s, p, d):
    """Per output, the input positions of its window (PyTorch's loop bounds) and the start
    PyTorch's kernel reports for an empty one."""
    windows, starts = [], []
    for o in range(out):
        start = o * s - p
        end = min(start + (k - 1) * d + 1, size)
        while start < 0:
            start += d
        windows.append(list(range(start, end, d)))
        starts.append(start)
    return windows, starts


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):  # fmt: skip
    """3-d max pooling of ``(N, C, D, H, W)`` (or ``(C, D, H, W)``): the maxima and their flat
    ``d * H * W + h * W + w`` positions in each input volume."""
    k, s, p, d = _window_args(input, kernel_size, stride, padding, dilation, "max_pool3d")  # fmt: skip
    sizes = tuple(input.shape[-3:])
    out = [_pool_out(sizes[i], k[i], p[i], s[i], d[i], ceil_mode) for i in range(3)]
    _pool3d_check(input, k, s, p, d, out, "max_pool3d_with_indices_out_cpu_template()")
    if input.dtype not in _FLOATS + _INTS:
        raise _not_implemented("max_pool3d", input.dtype)
    found = [_dilated_windows(sizes[i], out[i], k[i], s[i], p[i], d[i]) for i in range(3)]
    windows = [w for w, _ in found]
    hollow = [np.array([not x for x in w]) for w in windows]
    empty = hollow[0][:, None, None] | hollow[1][None, :, None] | hollow[2][None, None, :]
    starts = [np.array(st, dtype=np.int64) for _, st in found]
    fallback = (starts[0][:, None, None] * sizes[1] + starts[1][None, :, None]) * sizes[2] + starts[2][None, None, :]  # fmt: skip
    with _native.no_grad():
        values, indices = _window_max(input, windows, (empty, fallback))
    values = _max_node("MaxPool3DWithIndicesBackward0", input, values, indices)
    return values, indices


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):  # fmt: skip
    """3-d max pooling of ``(N, C, D, H, W)`` (or ``(C, D, H, W)``); with ``return_indices``
    also the flat ``d * H * W + h * W + w`` position of each maximum (as ``max_unpool3d``
    takes)."""
    res = max_pool3d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return res if return_indices else res[0]


# ----- average pooling -------------------------------------------------------------------


def _avg_counts(sizes, out, k, s, p, count_include_pad):
    """PyTorch's divisor of each window: its cells inside the input (or inside the input and
    its padding), the product of the counts along each dim."""
    counts = []
    for n, o, kk, ss, pp in zip(sizes, out, k, s, p):
        start = np.arange(o) * ss - pp
        if count_include_pad:
            counts.append(np.minimum(start + kk, n + pp) - start)
        else:
            counts.append(np.minimum(start + kk, n) - np.maximum(start, 0))
    return counts[0][:, None, None] * counts[1][None, :, None] * counts[2][None, None, :]


def _padded_slices(k, s, out, p):
    """For each kernel offset in row-major order, the slices of the padded input it reads."""
    return [
        tuple(slice(off[i], off[i] + (out[i] - 1) * s[i] + 1, s[i]) for i in range(3))
        for off in np.ndindex(*k)
    ]


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):  # fmt: skip
    """3-d average pooling of ``(N, C, D, H, W)`` (or ``(C, D, H, W)``); ``count_include_pad``
    counts the zero padding in the divisor, ``divisor_override`` replaces it."""
    k, s, p, _ = _window_args(input, kernel_size, stride, padding, 1, "avg_pool3d")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    sizes = tuple(input.shape[-3:])
    out = [_pool_out(sizes[i], k[i], p[i], s[i], 1, ceil_mode) for i in range(3)]
    _pool3d_check(input, k, s, p, [1, 1, 1], out, "avg_pool3d()", check_input_size=True)
    if input.dtype not in (_core.float32, _core.float64, _core.int64):
        raise _not_implemented("avg_pool3d_out_frame", input.dtype)
    lead = tuple(input.shape[:-3])
    # (room for the input after its left padding and for every window)
    padded = tuple(max(n + pp, (o - 1) * ss + kk) for n, o, kk, ss, pp in zip(sizes, out, k, s, p))  # fmt: skip
    inside = (Ellipsis, *(slice(pp, pp + n) for pp, n in zip(p, sizes)))
    reads = [(Ellipsis, *sl) for sl in _padded_slices(k, s, out, p)]
    if divisor_override is not None:
        divisor = divisor_override
    else:
        counts = _avg_counts(sizes, out, k, s, p, count_include_pad)
        divisor = _core.tensor(counts, dtype=input.dtype, device=input.device)

    def pool(x):
        xp = _core.zeros(lead + padded, dtype=x.dtype, device=x.device)
        xp[inside] = x
        total = _core.zeros(lead + tuple(out), dtype=x.dtype, device=x.device)
        for read in reads:  # (PyTorch's order of the additions)
            total = total + xp[read]
        if x.dtype == _core.int64:
            return total.div(divisor, rounding_mode="trunc")
        return total / divisor

    def unpool(g):
        share = g / divisor
        gp = _core.zeros(lead + padded, dtype=g.dtype, device=g.device)
        # (reversed: each input cell adds its windows' shares in output order, as PyTorch)
        for read in reversed(reads):
            gp[read].add_(share)
        return gp[inside].contiguous()

    # each the other's derivative (both linear), recorded as PyTorch's two nodes
    def pooled(t):
        return _native.record("AvgPool3DBackward0", [t], lambda: pool(t), [t], lambda g, x: (unpooled(g, x),))  # fmt: skip

    def unpooled(g, x):
        # over the input too, as PyTorch's backward takes it (slope 0 there)
        zero = lambda: _core.zeros(tuple(x.shape), dtype=x.dtype, device=x.device)
        return _native.record("AvgPool3DBackwardBackward0", [g, x], lambda: unpool(g), [], lambda gg: (pooled(gg), zero()))  # fmt: skip

    return pooled(input)


# ----- adaptive pooling ------------------------------------------------------------------


def _list_with_default(out_size, defaults):
    """PyTorch's ``_list_with_default``: ``None`` entries take the input's size."""
    if isinstance(out_size, int):
        return out_size
    if len(defaults) <= len(out_size):
        raise ValueError(f"Input dimension should be at least {len(out_size) + 1}")
    return [v if v is not None else dd for v, dd in zip(out_size, defaults[-len(out_size) :])]


def adaptive_avg_pool3d(input, output_size):
    """Average pooling of ``(N, C, D, H, W)`` (or ``(C, D, H, W)``) to ``output_size`` (an
    int, a triple; ``None`` keeps that dim)."""
    o = _ints(_list_with_default(output_size, _sizes(input)))
    o = o * 3 if isinstance(output_size, int) else o
    if len(o) != 3:
        raise RuntimeError("adaptive_avg_pool3d: output_size must be 3")
    if min(o) < 0:
        raise RuntimeError(f"adaptive_avg_pool3d: elements of output_size must be greater than or equal to 0 but received {{{o[0]}, {o[1]},{o[2]}}}")  # fmt: skip
    if o == [1, 1, 1]:
        return input.mean((-1, -2, -3), keepdim=True)  # PyTorch's path too (MeanBackward1)
    for i in range(1, input.dim()):
        if input.shape[i] == 0:
            raise RuntimeError(f"adaptive_avg_pool3d(): Expected input to have non-zero size for non-batch dimensions, but input has sizes {_sizes(input)} with dimension {i} being empty")  # fmt: skip
    if input.dim() not in (4, 5):
        raise RuntimeError(f"adaptive_avg_pool3d(): Expected 4D or 5D tensor, but got {_sizes(input)}")  # fmt: skip
    if input.dtype not in _FLOATS:
        raise _not_implemented("adaptive_avg_pool3d_cpu", input.dtype)
    sizes = tuple(input.shape[-3:])
    windows = [_adaptive_windows(n, out) for n, out in zip(sizes, o)]
    first = input.dim() - 3
    lengths = []
    for axis, win in enumerate(windows):
        shape = [1, 1, 1]
        shape[axis] = len(win)
        size = np.array([b - a for a, b in win], dtype=np.float64).reshape(shape)
        lengths.append(_core.tensor(size, dtype=input.dtype, device=input.device))

    def pool(t):
        for axis in (2, 1, 0):
            t = _window_sums(t, first + axis, windows[axis])
        return t / lengths[0] / lengths[1] / lengths[2]  # PyTorch's sum / kd / kh / kw

    def unpool(g):
        g = g / lengths[0] / lengths[1] / lengths[2]
        for axis in (0, 1, 2):
            g = _window_sums_adjoint(g, first + axis, windows[axis], sizes[axis])
        return g

    def pooled(t):
        return _native.record("AdaptiveAvgPool3DBackward0", [t], lambda: pool(t), [t], lambda g, x: (unpooled(g, x),))  # fmt: skip

    def unpooled(g, x):
        zero = lambda: _core.zeros(tuple(x.shape), dtype=x.dtype, device=x.device)
        return _native.record("AdaptiveAvgPool3DBackwardBackward0", [g, x], lambda: unpool(g), [], lambda gg: (pooled(gg), zero()))  # fmt: skip

    return pooled(input)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    """Max pooling of ``(N, C, D, H, W)`` (or ``(C, D, H, W)``) to ``output_size``: the maxima
    and their flat ``d * H * W + h * W + w`` positions."""
    o = _ints(_list_with_default(output_size, _sizes(input)))
    o = o * 3 if isinstance(output_size, int) else o
    if input.dim() not in (4, 5):
        raise RuntimeError(f"adaptive_max_pool3d(): Expected 4D or 5D tensor, but got: {_sizes(input)}")  # fmt: skip
    for i in range(1, input.dim()):
        if input.shape[i] == 0:
            raise RuntimeError(f"adaptive_max_pool3d(): Expected input to have non-zero size for non-batch dimensions, but input has sizes {_sizes(input)} with dimension {i} being empty")  # fmt: skip
    if len(o) != 3:
        raise RuntimeError("adaptive_max_pool3d(): internal error: output_size.size() must be 3")
    check_non_negative([*_sizes(input)[:-3], *o])
    if input.dtype not in _FLOATS:
        raise _not_implemented("adaptive_max_pool3d_cpu", input.dtype)
    sizes = tuple(input.shape[-3:])
    windows = [[list(range(a, b)) for a, b in _adaptive_windows(n, out)] for n, out in zip(sizes, o)]  # fmt: skip
    with _native.no_grad():
        values, indices = _window_max(input, windows)
    values = _max_node("AdaptiveMaxPool3DBackward0", input, values, indices)
    return values, indices


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max pooling of ``(N, C, D, H, W)`` (or ``(C, D, H, W)``) to ``output_size`` (an int, a
    triple; ``None`` keeps that dim); with ``return_indices`` also the flat positions."""
    res = adaptive_max_pool3d_with_indices(input, output_size)
    return res if return_indices else res[0]


# ----- max unpooling ---------------------------------------------------------------------


def _ntuple(value, n):
    """PyTorch's ``_single``/``_pair``/``_triple``: a sequence as is, else ``n`` copies."""
    if hasattr(value, "__iter__"):
        return tuple(value)
    return (value,) * n


def _unpool_output_size(input, kernel_size, stride, padding, output_size):
    """PyTorch's ``_unpool_output_size``: the default size, or ``output_size`` checked against
    it."""
    input_size = input.size()
    default_size = []
    for d in range(len(kernel_size)):
        default_size.append(
            (input_size[-len(kernel_size) + d] - 1) * stride[d] + kernel_size[d] - 2 * padding[d]
        )
    if output_size is None:
        ret = default_size
    else:
        if len(output_size) == len(kernel_size) + 2:
            output_size = output_size[2:]
        if len(output_size) != len(kernel_size):
            raise ValueError(
                "output_size should be a sequence containing "
                f"{len(kernel_size)} or {len(kernel_size) + 2} elements, but it has a length of '{len(output_size)}'"
            )
        for d in range(len(kernel_size)):
            min_size = default_size[d] - stride[d]
            max_size = default_size[d] + stride[d]
            if not (min_size < output_size[d] < max_size):
                raise ValueError(
                    f'invalid output_size "{output_size}" (dim {d} must be between {min_size} and {max_size})'
                )
        ret = output_size
    for d in range(len(kernel_size)):
        if ret[d] < 0:
            raise ValueError(
                "max_unpooling: output_size must contain non-negative spatial "
                f"dimensions, but got output_size[{d}]={ret[d]}"
            )
    return ret


def _max_unpool(input, indices, out, name, op):
    """``input`` scattered into zeros of spatial size ``out`` at ``indices`` (flat positions in
    each plane); recorded as PyTorch's node, whose backward gathers."""
    spatial = len(out)
    if input.dtype not in _FLOATS:
        raise _not_implemented(op, input.dtype)
    lead = tuple(input.shape[:-spatial])
    count = math.prod(input.shape[-spatial:])
    volume = math.prod(out)
    shape = lead + tuple(out)
    if volume == 0 or input.numel() == 0:
        values = _core.zeros(shape, dtype=input.dtype, device=input.device)
    else:
        where = indices.reshape(*lead, count)
        bad = (where < 0) | (where >= volume)
        if bool(bad.any()):
            # (PyTorch's loop goes on past a bad index and reports the last one)
            at = int(bad.reshape(-1).nonzero()[-1, 0].item())
            last = int(where.reshape(-1)[at].item())
            dims = "x".join(str(n) for n in out)
            raise RuntimeError(f"Found an invalid max index: {last} (output volumes are of size {dims})")  # fmt: skip
        with _native.no_grad():
            flat = _core.zeros((*lead, volume), dtype=input.dtype, device=input.device)
            values = flat.scatter_(len(lead), where, input.reshape(*lead, count)).view(shape)

    def backward(grad, indices):
        # PyTorch's max_pool_double_backward: a gather (differentiable: a scatter-add)
        g = grad.reshape(*lead, volume).gather(len(lead), indices.reshape(*lead, count))
        return (g.view(tuple(indices.shape)),)

    return _native.record(name, [input], lambda: values, [indices], backward)


def _check_unpool_common(input, indices, name):
    if tuple(input.shape) != tuple(indices.shape):
        raise RuntimeError(
            f"Expected shape of indices to be same as that of the input tensor ({_sizes(input)}) "
            f"but got indices tensor with shape: {_sizes(indices)}"
        )
    for i in range(1, input.dim()):
        if input.shape[i] == 0:
            raise RuntimeError(
                f"{name}_forward_out_cpu(): Expected input to have non-zero size for non-batch "
                f"dimensions, but got {_sizes(input)} with dimension {i} being empty."
            )


def _max_unpool2d(input, indices, output_size):
    """PyTorch's ``max_unpool2d`` kernel with its checks."""
    from rustgrad.nn.functional import _dtype_name

    if indices.dtype != _core.int64:
        raise RuntimeError(f"elements in indices should be type int64 but got: {_dtype_name(indices.dtype)}")  # fmt: skip
    if len(output_size) != 2:
        raise RuntimeError(f"There should be exactly two elements (height, width) in output_size, but got {len(output_size)} elements.")  # fmt: skip
    if input.dim() not in (3, 4):
        raise RuntimeError(f"Input to max_unpooling2d should be a 3d or 4d Tensor, but got a tensor with {input.dim()} dimensions.")  # fmt: skip
    _check_unpool_common(input, indices, "max_unpooling2d")
    return _max_unpool(input, indices, [int(v) for v in output_size], "MaxUnpool2DBackward0", "max_unpool2d")  # fmt: skip


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool1d``: ``input`` placed at ``indices`` in zeros of
    length ``output_size`` (default: the length ``max_pool1d`` read)."""
    kernel_size = _ntuple(kernel_size, 1)
    _stride = _ntuple(stride, 1) if stride is not None else kernel_size
    padding = _ntuple(padding, 1)
    output_size = _unpool_output_size(input, kernel_size, _stride, padding, output_size)
    output_size = output_size + [1] if isinstance(output_size, list) else output_size + (1,)
    return _max_unpool2d(input.unsqueeze(-1), indices.unsqueeze(-1), output_size).squeeze(-1)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool2d``: ``input`` placed at ``indices`` (flat ``h * W +
    w``) in zeros of ``output_size`` (default: the size ``max_pool2d`` read)."""
    kernel_size = _ntuple(kernel_size, 2)
    _stride = _ntuple(stride, 2) if stride is not None else kernel_size
    padding = _ntuple(padding, 2)
    output_size = _unpool_output_size(input, kernel_size, _stride, padding, output_size)
    return _max_unpool2d(input, indices, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool3d``: ``input`` placed at ``indices`` (flat ``d * H * W
    + h * W + w``) in zeros of ``output_size`` (default: the size ``max_pool3d`` read)."""
    kernel_size = _ntuple(kernel_size, 3)
    _stride = _ntuple(stride, 3) if stride is not None else kernel_size
    padding = _ntuple(padding, 3)
    output_size = _unpool_output_size(input, kernel_size, _stride, padding, output_size)
    if indices.dtype != _core.int64:
        raise RuntimeError("elements in indices should be type int64")
    if input.dim() not in (4, 5):
        raise RuntimeError(f"Input to max_unpooling3d should be a 4d or 5d Tensor, but got a tensor with {input.dim()} dimensions.")  # fmt: skip
    for what, v in (("output_size", output_size), ("stride", _stride), ("padding", padding)):
        if len(v) != 3:
            but = "but got" if what == "output_size" else "but got:"
            raise RuntimeError(f"There should be exactly three elements (depth, height, width) in {what}, {but} {len(v)} elements.")  # fmt: skip
    _check_unpool_common(input, indices, "max_unpooling3d")
    if min(_stride) <= 0:
        raise RuntimeError(f"strides should be greater than zero, but got stride: {list(_stride)}")  # fmt: skip
    return _max_unpool(input, indices, [int(v) for v in output_size], "MaxUnpool3DBackward0", "max_unpool3d")  # fmt: skip


# ----- power-average pooling -------------------------------------------------------------


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """``(sum over each window of x ** p) ** (1 / p)`` over ``(N, C, L)`` (PyTorch's
    composite: average pooling of ``x ** p`` times the window size; ``p = inf`` is max
    pooling of ``|x|``)."""
    from rustgrad.nn import functional as F

    if isinstance(norm_type, (int, float)):
        if norm_type == float("inf"):
            return F.max_pool1d(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
        if norm_type == -float("inf"):
            return -F.max_pool1d(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if stride is not None:
        out = F.avg_pool1d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    else:
        out = F.avg_pool1d(input.pow(norm_type), kernel_size, padding=0, ceil_mode=ceil_mode)
    return (out.sign() * F.relu(out.abs())).mul(kernel_size).pow(1.0 / norm_type)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """``(sum over each window of x ** p) ** (1 / p)`` over ``(N, C, H, W)`` (PyTorch's
    composite)."""
    from rustgrad.nn import functional as F

    kw, kh = _ntuple(kernel_size, 2)
    if isinstance(norm_type, (int, float)):
        if norm_type == float("inf"):
            return F.max_pool2d(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
        if norm_type == -float("inf"):
            return -F.max_pool2d(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if stride is not None:
        out = F.avg_pool2d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    else:
        out = F.avg_pool2d(input.pow(norm_type), kernel_size, padding=0, ceil_mode=ceil_mode)
    return (out.sign() * F.relu(out.abs())).mul(kw * kh).pow(1.0 / norm_type)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """``(sum over each window of x ** p) ** (1 / p)`` over ``(N, C, D, H, W)`` (PyTorch's
    composite)."""
    from rustgrad.nn import functional as F

    kd, kw, kh = _ntuple(kernel_size, 3)
    if isinstance(norm_type, (int, float)):
        if norm_type == float("inf"):
            return max_pool3d(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
        if norm_type == -float("inf"):
            return -max_pool3d(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if stride is not None:
        out = avg_pool3d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    else:
        out = avg_pool3d(input.pow(norm_type), kernel_size, padding=0, ceil_mode=ceil_mode)
    return (out.sign() * F.relu(out.abs())).mul(kd * kw * kh).pow(1.0 / norm_type)
