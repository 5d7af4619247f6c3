"""Memory formats: ``torch.contiguous_format``, ``channels_last`` (NHWC strides of a 4-d
``(N, C, H, W)`` tensor), ``channels_last_3d`` (NDHWC of a 5-d one) and ``preserve_format``.

A channels-last tensor keeps its logical shape and reads the same values; only its strides
say that channels are innermost in memory, as in PyTorch. ``contiguous(memory_format=...)``,
``to(memory_format=...)``, ``clone(memory_format=...)``, ``is_contiguous(memory_format=...)``
and ``Module.to(memory_format=...)`` take them. rustgrad's kernels accept any strides, so the
format changes layouts, not results. The image ops whose PyTorch kernels follow the input's
suggested format (convolutions, pooling, interpolation, padding, pixel shuffles) lay out
their results channels-last for a channels-last input (``_channels_last_like``).
"""

from rustgrad import _core

Tensor = _core.Tensor

__all__ = ["channels_last", "channels_last_3d", "contiguous_format", "memory_format", "preserve_format"]  # fmt: skip


class memory_format:
    """A memory format: how a tensor's elements are ordered in memory."""

    def __init__(self, name):
        self._name = name

    def __repr__(self):
        from rustgrad._dropin import prefix

        return f"{prefix()}.{self._name}"

    def __reduce__(self):
        return (_by_name, (self._name,))


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")

_FORMATS = {f._name: f for f in (contiguous_format, channels_last, channels_last_3d, preserve_format)}  # fmt: skip
# The rank each channels-last format needs, and the order of its dims in memory.
_ORDERS = {channels_last: (0, 2, 3, 1), channels_last_3d: (0, 2, 3, 4, 1)}


def _by_name(name):
    return _FORMATS[name]


def _check(fmt, name="memory_format"):
    if not isinstance(fmt, memory_format):
        raise TypeError(
            f"{name}(): argument 'memory_format' must be torch.memory_format, not "
            f"{type(fmt).__name__}"
        )


def _strides_for(shape, order):
    """Dense strides of ``shape`` with its dims laid out in memory in ``order``."""
    strides = [0] * len(shape)
    step = 1
    for d in reversed(order):
        strides[d] = step
        step *= max(shape[d], 1)
    return tuple(strides)


def _is_in(t, fmt):
    """Whether ``t``'s strides are ``fmt``'s dense layout (dims of size 1 may have any
    stride, as PyTorch's check allows)."""
    order = _ORDERS[fmt]
    if t.dim() != len(order):
        return False
    want = _strides_for(tuple(t.shape), order)
    return all(n == 1 or s == w for n, s, w in zip(t.shape, t.stride(), want))


def _rank_error(fmt):
    rank = len(_ORDERS[fmt])
    label = "channels_last" if fmt is channels_last else "channels_last_3d"
    return RuntimeError(f"required rank {rank} tensor to use {label} format")


def _into(t, fmt):
    """``t`` laid out in ``fmt`` (a channels-last format): its values in a new dense
    block, or ``t`` itself when it already is."""
    order = _ORDERS[fmt]
    if t.dim() != len(order):
        raise _rank_error(fmt)
    if _is_in(t, fmt):
        return t
    inverse = [order.index(d) for d in range(len(order))]
    return t.permute(*order).contiguous().permute(*inverse)


# The Tensor methods (in Rust) call these only when given a ``memory_format`` (and ``clone``
# also for a strided tensor, which may be channels-last); without one they stay in Rust.


def _contiguous(self, memory_format):
    """``contiguous(memory_format=...)``: a dense copy in the format, or ``self``."""
    _check(memory_format, "contiguous")
    if memory_format is contiguous_format:
        return Tensor.contiguous(self)
    if memory_format is preserve_format:
        # (PyTorch's check comes after the already-contiguous shortcut)
        if Tensor.is_contiguous(self):
            return self
        raise RuntimeError("preserve memory format is unsupported by the contiguous operator")
    return _into(self, memory_format)


def _is_contiguous(self, memory_format):
    """``is_contiguous(memory_format=...)``: whether ``self`` is dense in the format."""
    _check(memory_format, "is_contiguous")
    if memory_format in (contiguous_format, preserve_format):  # (preserve: the plain check)
        return Tensor.is_contiguous(self)
    return _is_in(self, memory_format)


def _clone(self, memory_format):
    """``clone(memory_format=...)``: ``preserve_format`` keeps a channels-last layout (as the
    plain ``clone()`` does), other formats give theirs."""
    _check(memory_format, "clone")
    if memory_format is preserve_format:
        return Tensor.clone(self)
    if memory_format is contiguous_format:
        return Tensor.clone(self) if Tensor.is_contiguous(self) else Tensor.contiguous(self)
    return _into(Tensor.clone(self), memory_format)


def _into_named(t, name):
    """``t`` laid out in the channels-last format called ``name`` (for ``clone``)."""
    return _into(t, _FORMATS[name])


def _to(self, *args, memory_format=preserve_format, **kwargs):
    """``Tensor.to(..., memory_format=...)``: the move or cast, then the format's layout."""
    _check(memory_format, "to")
    out = Tensor.to(self, *args, **kwargs)
    if memory_format is preserve_format or (
        memory_format is contiguous_format and Tensor.is_contiguous(out)
    ):
        return out
    return _contiguous(out, memory_format)


def _in_memory_order(like, make):
    """``make(shape)`` (a contiguous tensor) of ``like``'s sizes taken in ``like``'s memory
    order, outermost dimension first, viewed back in ``like``'s dimension order: what
    PyTorch's nullary kernels write as they walk ``like``."""
    return _computed_in_memory_order(like, lambda t: make(tuple(t.shape)))


def _computed_in_memory_order(like, f):
    """``f(t)`` (a contiguous result of ``t``'s shape) for ``t``, ``like`` with its dims
    permuted into memory order, viewed back in ``like``'s dimension order: the layout
    PyTorch's elementwise kernels give a result of ``like``."""
    order = like._memory_order()
    if order == sorted(order):
        return f(like)
    values = f(like.permute(*order))
    return values.permute(*sorted(range(len(order)), key=order.__getitem__))


def _is_non_overlapping_and_dense(sizes, strides):
    """PyTorch's ``is_non_overlapping_and_dense``: the elements fill a block of memory
    exactly once, in some order of the dims (dims of size 0 or 1 may have any stride)."""
    need = 1
    for d in sorted(range(len(sizes)), key=lambda d: (sizes[d] < 2, strides[d])):
        if sizes[d] < 2:
            return True
        if strides[d] != need:
            return False
        need *= sizes[d]
    return True


def _dense_order_of(sizes, strides):
    """The dims, outermost first, of PyTorch's ``infer_dense_strides``: TensorIterator's
    ordering (by stride, a dim of stride 0 staying where it is, equal strides putting the
    larger size outside), taken from the innermost dim by its insertion sort."""
    n = len(sizes)
    perm = list(range(n - 1, -1, -1))  # innermost first

    def should_swap(d0, d1):
        s0, s1 = strides[d0], strides[d1]
        if s0 == 0 or s1 == 0:
            return 0
        if s0 != s1:
            return -1 if s0 < s1 else 1
        return 1 if sizes[d0] > sizes[d1] else 0

    for i in range(1, n):
        d1 = i
        for j in range(1, i + 1):
            d0 = i - j
            c = should_swap(perm[d0], perm[d1])
            if c > 0:
                perm[d0], perm[d1] = perm[d1], perm[d0]
                d1 = d0
            elif c < 0:
                break
    return perm[::-1]


def _with_unit_strides(t, strides):
    """``t`` (not empty, its dims of size above 1 at ``strides``) viewed with its dims of
    size 1 at theirs too, which a dense tensor's may be anything: each taken out and put
    back as a window of one (``unfold``, its step the stride) of a trailing helper dim of
    stride 1 (an expanded and narrowed one for stride 0)."""
    units = [d for d, n in enumerate(t.shape) if n == 1 and t.stride(d) != strides[d]]
    if not units or not t.numel():
        return t
    u = t
    for d in reversed(units):
        u = u.squeeze(d)
    kept = u.dim()
    u = u.unsqueeze(-1)  # the helper: size 1, stride 1
    for d in units:
        if strides[d] > 0:
            u = u.unfold(-1, 1, strides[d])
        else:
            u = u.expand(*u.shape[:-1], 2).narrow(-1, 0, 1).unsqueeze(-1)
    u = u.squeeze(-1)
    rest = iter(range(kept))
    return u.permute(*[kept + units.index(d) if d in units else next(rest) for d in range(t.dim())])


def _empty_with_strides(t, strides):
    """``t`` (empty) as an empty tensor at ``strides`` (any: it has no elements to place),
    its history kept (its gradient, empty, passes on as zeros of its shape)."""
    if t.stride() == tuple(strides):
        return t
    from rustgrad import _native

    shape = tuple(t.shape)

    def forward():
        return _core.empty_strided(shape, tuple(strides), dtype=t.dtype, device=t.device)

    def backward(grad):
        return (_core.zeros(shape, dtype=grad.dtype, device=grad.device),)

    return _native.record("AsStridedBackward0", [t], forward, [], backward)


def _computed_in_layout_order(like, f):
    """``f(t, order)`` (a contiguous result of ``t``'s shape, or a tuple of them) for ``t``,
    ``like`` with its dims permuted into ``order`` (outermost first), each viewed back in
    ``like``'s dimension order: laid out as PyTorch's ``sort`` allocates its results. They
    take ``like``'s strides when it is non-overlapping and dense (ordered by stride, the
    larger size outside on a tie, so that a dim of size 1 gets its stride where a contiguous
    layout can give it one; :func:`_with_unit_strides` for the others), else the dense
    strides of ``infer_dense_strides``. An empty ``like`` is dense whatever its strides (as
    PyTorch's, it is contiguous): its empty results take its strides exactly."""
    sizes, strides = tuple(like.shape), like.stride()
    if not like.numel():
        made = f(like, list(range(len(sizes))))
        if isinstance(made, tuple):
            return tuple(_empty_with_strides(m, strides) for m in made)
        return _empty_with_strides(made, strides)
    dense = _is_non_overlapping_and_dense(sizes, strides)
    if dense:
        order = sorted(range(len(sizes)), key=lambda d: (-strides[d], -sizes[d]))
    else:
        order = _dense_order_of(sizes, strides)
    if order == sorted(order):
        made = f(like, order)
    else:
        made = f(like.permute(*order), order)
        back = sorted(range(len(order)), key=order.__getitem__)
        made = tuple(m.permute(*back) for m in made) if isinstance(made, tuple) else made.permute(*back)  # fmt: skip
    if not dense:
        return made
    if isinstance(made, tuple):
        return tuple(_with_unit_strides(m, strides) for m in made)
    return _with_unit_strides(made, strides)


def _suggests_channels_last(t):
    """PyTorch's ``suggest_memory_format() == channels_last`` for a 4-d tensor: its strides
    order the dims N, H, W, C outermost first (``is_channels_last_strides_2d``), ambiguous
    cases (size-1 dims, a zero channel stride) falling back to row-major as PyTorch's do."""
    if t.dim() != 4:
        return False
    sizes, strides = tuple(t.shape), t.stride()
    if strides[1] == 0:
        return False
    least = 0
    for d in (1, 3, 2, 0):
        if sizes[d] == 0 or strides[d] < least:
            return False
        if d == 0 and least == strides[1]:
            return False
        least = strides[d] * (max(1, sizes[d]))
    return True


def _channels_last_like(out, *sources):
    """``out`` (4-d) laid out channels-last when one of ``sources`` suggests it, as PyTorch's
    image kernels allocate their results; otherwise ``out`` itself. A result with history
    keeps its node's name, and its gradient passes through unchanged."""
    if out.dim() != 4 or _is_in(out, channels_last):
        return out
    if not any(_suggests_channels_last(s) for s in sources):
        return out
    if out.grad_fn is None:
        return _into(out, channels_last)
    from rustgrad import _native

    name = out.grad_fn.name()
    return _native.record(name, [out], lambda: _into(out, channels_last), [], lambda g: (g,))
