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
    """Dense strides of ``shape`` with its dims laid out in memory in ``order``, as PyTorch's
    ``get_channels_last_strides_2d/3d``: a dim of size 0 zeroes the strides outside it (an
    empty ``(2, 0, 3, 4)`` tensor in ``channels_last`` has strides ``(0, 1, 0, 0)``; the
    row-major strides of ``contiguous()`` count such a dim as 1 instead)."""
    strides = [0] * len(shape)
    step = 1
    for d in reversed(order):
        strides[d] = step
        step *= shape[d]
    return tuple(strides)


def _is_in(t, fmt):
    """Whether ``t``'s strides are ``fmt``'s dense layout (dims of size 1 may have any
    stride, as PyTorch's check allows)."""
    return _is_channels_last(tuple(t.shape), t.stride(), fmt)


def _is_channels_last(sizes, strides, fmt=channels_last):
    """PyTorch's ``is_contiguous(memory_format=fmt)`` of ``sizes`` at ``strides`` (no
    exception for an empty tensor: a dim of size 0 zeroes the strides it expects outside)."""
    order = _ORDERS[fmt]
    if len(sizes) != len(order):
        return False
    want = _strides_for(tuple(sizes), order)
    return all(n == 1 or s == w for n, s, w in zip(sizes, strides, want))


def _rank_error(fmt):
    rank = len(_ORDERS[fmt])
    label = "channels_last" if fmt is channels_last else "channels_last_3d"
    return RuntimeError(f"required rank {rank} tensor to use {label} format")


def _contiguous_strides(shape):
    """PyTorch's row-major strides of ``shape`` (a dim of size 0 counts as 1)."""
    return _strides_for([max(n, 1) for n in shape], tuple(range(len(shape))))


def _format_order_and_strides(shape, fmt):
    """The memory order (outermost first) and PyTorch's exact strides of a new ``shape``
    tensor in ``fmt`` (``contiguous_format`` or a channels-last one, whose rank it checks):
    those of ``empty(shape, memory_format=fmt)``, size-1 dims included."""
    if fmt is contiguous_format:
        return tuple(range(len(shape))), _contiguous_strides(shape)
    order = _ORDERS[fmt]
    if len(shape) != len(order):
        raise _rank_error(fmt)
    return order, _strides_for(shape, order)


def _in_format(shape, fmt, make, dtype, device):
    """``make(shape)`` (a contiguous tensor) of ``shape`` taken in ``fmt``'s memory order,
    viewed back at ``fmt``'s exact strides (an empty one made at them)."""
    order, strides = _format_order_and_strides(tuple(shape), fmt)
    if 0 in shape:
        return _core.empty_strided(tuple(shape), strides, dtype=dtype, device=device)
    made = make(tuple(shape[d] for d in order))
    made = made.permute(*sorted(range(len(order)), key=order.__getitem__))
    return _with_unit_strides(made, strides)


def _copy_in(t, fmt, node="CloneBackward0"):
    """A copy of ``t`` at ``fmt``'s exact strides (PyTorch's ``empty_like(t, fmt)`` and a
    copy: ``clone(memory_format=fmt)``, ``to``'s copy), recorded as one node ``node`` whose
    gradient passes through."""
    from rustgrad import _native

    def forward():
        def make(shape):
            p = t.permute(*order)
            return Tensor.clone(p) if Tensor.is_contiguous(p) else Tensor.contiguous(p)

        return _in_format(tuple(t.shape), fmt, make, t.dtype, t.device)

    order, _ = _format_order_and_strides(tuple(t.shape), fmt)
    return _native.record(node, [t], forward, [], lambda g: (g,))


def _into(t, fmt, node="CloneBackward0"):
    """``t`` laid out in ``fmt`` (a channels-last format): ``t`` itself when it already is
    (``is_contiguous(memory_format=fmt)``), else a copy at the format's exact strides."""
    order = _ORDERS[fmt]
    if t.dim() != len(order):
        raise _rank_error(fmt)
    if _is_in(t, fmt):
        return t
    return _copy_in(t, fmt, node)


def _strides_like(sizes, strides, dims):
    """PyTorch's ``is_channels_last_strides_2d/3d`` (``dims``: the channel dim, then the
    others innermost first): the strides order the dims as a channels-last layout, ambiguous
    cases (size-1 dims, a zero channel stride, an empty dim) falling back to row-major."""
    if strides[1] == 0:
        return False
    least = 0
    for d in dims:
        if sizes[d] == 0 or strides[d] < least:
            return False
        if d == 0 and least == strides[1]:
            return False
        least = strides[d] * max(1, sizes[d])
    return True


def _suggested_format(t):
    """PyTorch's ``suggest_memory_format()``: the channels-last format ``t``'s strides are
    like (4-d or 5-d), else ``contiguous_format``."""
    sizes, strides = tuple(t.shape), t.stride()
    if len(sizes) == 4 and _strides_like(sizes, strides, (1, 3, 2, 0)):
        return channels_last
    if len(sizes) == 5 and _strides_like(sizes, strides, (1, 4, 3, 2, 0)):
        return channels_last_3d
    return contiguous_format


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
        if not self.numel():  # (dense whatever its strides: PyTorch keeps them)
            return _empty_with_strides(Tensor.clone(self), self.stride(), "CloneBackward0")
        return Tensor.clone(self)
    return _copy_in(self, memory_format)


def _into_named(t, name):
    """``t`` laid out in the channels-last format called ``name`` (for ``clone``)."""
    return _into(t, _FORMATS[name])


def _to(self, *args, memory_format=preserve_format, **kwargs):
    """``Tensor.to(..., memory_format=...)``: the move or cast, then the format's layout.
    As PyTorch's ``to``, ``self`` itself when nothing else changes and ``self`` already
    suggests the format (``suggest_memory_format``; a transposed matrix suggests
    ``contiguous_format``), else one copy at the format's exact strides."""
    _check(memory_format, "to")
    out = Tensor.to(self, *args, **kwargs)
    if memory_format is preserve_format:
        if out is not self and not self.numel() and out.stride() != self.stride():
            # (an empty tensor is dense whatever its strides: PyTorch's copy keeps them)
            return _empty_with_strides(out, self.stride(), "ToCopyBackward0")
        return out
    if out is self and _suggested_format(self) is memory_format:
        return out
    want = _format_order_and_strides(tuple(out.shape), memory_format)[1]
    if out is not self and out.stride() == want:
        return out
    return _copy_in(out, memory_format, "ToCopyBackward0")  # (PyTorch's one node)


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

    def should_swap(d0, d1):
        s0, s1 = strides[d0], strides[d1]
        if s0 == 0 or s1 == 0:
            return 0
        if s0 != s1:
            return -1 if s0 < s1 else 1
        return 1 if sizes[d0] > sizes[d1] else 0

    return _iterator_order(n, should_swap)[::-1]


def _iterator_order(ndim, should_swap):
    """TensorIterator's insertion sort of the dims, innermost first: starting from the
    reversed dims, each moves outward past those ``should_swap(outer, inner) > 0`` says it
    belongs beyond, stopping at the first that answers ``< 0``."""
    perm = list(range(ndim - 1, -1, -1))
    for i in range(1, ndim):
        d1 = i
        for d0 in range(i - 1, -1, -1):
            c = should_swap(perm[d0], perm[d1])
            if c > 0:
                perm[d0], perm[d1] = perm[d1], perm[d0]
                d1 = d0
            elif c < 0:
                break
    return perm


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


def _empty_with_strides(t, strides, node="AsStridedBackward0"):
    """``t`` (empty) as an empty tensor at ``strides`` (any: it has no elements to place),
    its history kept (one node ``node``: its gradient, empty, passes on as zeros of its
    shape)."""
    if t.stride() == tuple(strides):
        return t
    from rustgrad import _native

    shape = tuple(t.shape)

    def forward():
        return _core.empty_strided(shape, tuple(strides), dtype=t.dtype, device=t.device)

    def backward(grad):
        return (_core.zeros(shape, dtype=grad.dtype, device=grad.device),)

    return _native.record(node, [t], forward, [], backward)


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
    return t.dim() == 4 and _suggested_format(t) is channels_last


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


def _is_row_major(sizes, strides):
    """PyTorch's ``is_contiguous()``: row-major, dims of size 1 at any stride (an empty
    tensor is contiguous whatever its strides)."""
    if 0 in sizes:
        return True
    need = 1
    for n, s in zip(reversed(sizes), reversed(strides)):
        if n != 1:
            if s != need:
                return False
            need *= n
    return True


def _iterator_strides(shape, operands):
    """The strides PyTorch's TensorIterator gives a result of the broadcast ``shape`` of
    ``operands`` (tensors; a Python number is PyTorch's wrapped 0-d tensor), as it lays out
    a new (or resized ``out=``) output of an elementwise op. Operands of one shape take its
    fast path: row-major when all are contiguous, ``channels_last`` when all are (4-d), the
    operands' own strides when all are dense with the same ones. Otherwise the dims are
    sorted by the operands' strides (the first operand that orders a pair decides; a
    broadcast dim, stride 0, has no say; equal strides put the larger size outside) and the
    result is dense in that order (row-major when it is the identity)."""
    shape = tuple(shape)
    ndim = len(shape)
    ops = [
        (tuple(t.shape), tuple(t.stride())) if isinstance(t, Tensor) else ((), ()) for t in operands
    ]
    if ops and all(sizes == ops[0][0] for sizes, _ in ops):
        if all(_is_row_major(*op) for op in ops):
            return _contiguous_strides(shape)
        if ndim == 4 and all(_is_channels_last(*op) for op in ops):
            return _strides_for(shape, _ORDERS[channels_last])
        if all(_is_non_overlapping_and_dense(*op) for op in ops) and all(
            strides == ops[-1][1] for _, strides in ops
        ):
            return ops[-1][1]
    if ndim <= 1:
        return _contiguous_strides(shape)
    # each operand's strides over the broadcast shape (0 where it is broadcast)
    broadcast = []
    for sizes, strides in ops:
        offset = ndim - len(sizes)
        row = [0] * ndim
        for i, (n, s) in enumerate(zip(sizes, strides)):
            row[offset + i] = 0 if n == 1 and shape[offset + i] != 1 else s
        broadcast.append(row)

    def should_swap(d0, d1):
        for row in broadcast:
            s0, s1 = row[d0], row[d1]
            if s0 == 0 or s1 == 0:
                continue
            if s0 != s1:
                return -1 if s0 < s1 else 1
            if shape[d0] > shape[d1]:
                return 1
        return 0

    perm = _iterator_order(ndim, should_swap)  # innermost first
    if perm == list(range(ndim - 1, -1, -1)):
        return _contiguous_strides(shape)
    strides = [0] * ndim
    step = 1
    for d in perm:
        strides[d] = step
        step *= shape[d]
    return tuple(strides)
