"""PyTorch's remaining everyday tensor names (issue 11): metadata queries (``is_cpu``,
``get_device``, ``nbytes``), conversions (``type_as``, ``as_tensor``), in-place forms of the
comparisons and logical ops, real-number identities of the complex API (``conj``, ``real``),
products with accumulation (``addmv``, ``addr``, ``addbmm``), indexed writes (``index_fill``,
``index_copy``, ``index_put``, ``masked_scatter``, ``fill_diagonal_``), statistics (``cov``,
``corrcoef``, ``quantile``, ``std_mean``) and dtype arithmetic (``result_type``,
``promote_types``, ``can_cast``).

Each is composed from differentiable ops (so backward and second order come with them) and
attached to ``Tensor`` by :func:`_bind` where PyTorch has a method.
"""

from __future__ import annotations

import builtins as _builtins

import numpy as _np

from rustgrad import _core, _math, _native, _ops, _saved
from rustgrad._core import Tensor

__all__: list[str] = []  # re-exported by ``rustgrad`` explicitly

_bool, _int64, _f32, _f64 = _core.bool_, _core.int64, _core.float32, _core.float64


def _dtype_name(dtype) -> str:
    return str(dtype).rsplit(".", 1)[-1]


def _check_in_place(self: Tensor, result: Tensor, node=None) -> Tensor:
    """``result`` written into ``self`` (PyTorch's in-place casting rule checked), recorded
    by the op's node (``node``, else ``result``'s)."""
    from rustgrad._math import check_in_place

    check_in_place(self, result)
    return _native.write_result(self, result, node)


# ----- metadata and conversions -------------------------------------------------------------


def type_as(self: Tensor, other: Tensor) -> Tensor:
    """``self`` in ``other``'s dtype and on its device (``self`` itself when they match)."""
    return self.to(device=other.device, dtype=other.dtype)


def ndimension(self: Tensor) -> int:
    """The number of dims, as ``dim()``."""
    return self.dim()


def get_device(self: Tensor) -> int:
    """The CUDA device ordinal of a CUDA tensor; -1 on the CPU (and for meta tensors)."""
    device = self.device
    return device.index if device.type == "cuda" else -1


def is_signed(self: Tensor) -> _builtins.bool:
    """Whether the dtype holds negative values (every dtype but bool and uint8)."""
    return self.dtype not in (_bool, _core.uint8)


def is_same_size(input: Tensor, other: Tensor) -> _builtins.bool:
    """Whether the two shapes are equal."""
    return tuple(input.shape) == tuple(other.shape)


def new(self: Tensor, *args, **kwargs) -> Tensor:
    """The legacy constructor in ``self``'s dtype and device: ``x.new()`` (empty),
    ``x.new(2, 3)`` or ``x.new(torch.Size([2, 3]))`` (a shape, uninitialised: zeros here) or
    ``x.new([1, 2])`` (data)."""
    kwargs.setdefault("device", self.device)
    dtype = kwargs.pop("dtype", self.dtype)
    if len(args) == 1 and not isinstance(args[0], int):
        (data,) = args
        from rustgrad._size import Size

        if isinstance(data, Size):
            return _core.zeros(tuple(data), dtype=dtype, **kwargs)
        if isinstance(data, Tensor):
            raise TypeError("new(): expected data to be a sequence or a shape, got Tensor")
        return _core.tensor(data, dtype=dtype, **kwargs)
    return _core.zeros(args if args else (0,), dtype=dtype, **kwargs)


def sum_to_size(self: Tensor, *size) -> Tensor:
    """``self`` summed over the dims that ``size`` broadcasts to ``self``'s shape (the
    reverse of ``expand``)."""
    if len(size) == 1 and not isinstance(size[0], int):
        size = tuple(size[0])
    shape = tuple(self.shape)
    try:
        _core.zeros(size).expand(shape)
    except RuntimeError:
        raise RuntimeError(
            f"size {{{list(size)}}} is not expandable to size {{{list(shape)}}}."
        ) from None
    if not size:  # (PyTorch's sum_to: a sum, even of a 0-d tensor)
        return self.sum()
    lead = len(shape) - len(size)
    dims = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(size) if s == 1 and shape[lead + i] != 1
    )
    out = self.sum(dims, keepdim=True) if dims else self
    return out.reshape(size) if lead else out


def broadcast_to(input: Tensor, size) -> Tensor:
    """``input`` expanded to ``size`` (a view; -1 keeps a dim), as ``expand``."""
    return input.expand(tuple(size))


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """``data`` as a tensor, sharing memory where it can: a tensor of that dtype and device is
    returned itself (cast or moved otherwise), a NumPy array of a supported dtype on the CPU is
    shared (``from_numpy``), anything else is copied (``tensor``)."""
    if isinstance(data, Tensor):
        return data.to(device=device if device is not None else data.device, dtype=dtype)
    if isinstance(data, _np.ndarray) and device in (None, "cpu") and dtype is None:
        try:
            return _core.from_numpy(data)
        except (TypeError, RuntimeError):
            pass
    return _core.tensor(data, dtype=dtype, device=device)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False) -> Tensor:
    """``obj`` as a tensor, as :func:`as_tensor` (``copy=True`` always copies, ``copy=False``
    refuses to)."""
    if copy:
        out = (
            _core.tensor(obj, dtype=dtype, device=device)
            if not isinstance(obj, Tensor)
            else (obj.detach().to(device=device or obj.device, dtype=dtype, copy=True))
        )
    else:
        out = as_tensor(obj, dtype=dtype, device=device)
        if copy is False and isinstance(obj, Tensor) and out is not obj:
            raise ValueError("can't alias tensor when copy=False and a conversion is needed")
    return out.requires_grad_(True) if requires_grad else out


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A 0-d tensor holding the number ``s`` (the default float dtype unless given)."""
    from rustgrad._core import get_default_dtype

    out = _core.tensor(s, dtype=dtype or get_default_dtype(), device=device)
    return out.requires_grad_(True) if requires_grad else out


# ----- dtype arithmetic ---------------------------------------------------------------------


def _probe(x):
    """A tensor of ``x``'s dtype and dim-ness (0-d or not) with at most one element, or ``x``
    itself for a Python number: what PyTorch's promotion looks at."""
    if isinstance(x, Tensor):
        return x.detach().reshape(-1)[:0] if x.ndim else x.detach()
    if isinstance(x, (_builtins.bool, int, float, complex)):
        return x
    raise TypeError(f"result_type(): expected a Tensor or a number, got {type(x).__name__}")


def result_type(tensor1, tensor2):
    """The dtype PyTorch's type promotion gives an arithmetic op on the two operands (a
    tensor or a Python number each): that of their sum, on empty stand-ins of the same
    category (a tensor with dims, a 0-d tensor, a number)."""
    a, b = _probe(tensor1), _probe(tensor2)
    if not isinstance(a, Tensor):
        a = _core.tensor(a)
    return (a + b).dtype


def promote_types(type1, type2):
    """The smallest dtype both ``type1`` and ``type2`` cast to safely (PyTorch's table)."""
    return result_type(_core.zeros(1, dtype=type1), _core.zeros(1, dtype=type2))


_KIND = {"bool": 0, "uint8": 1, "int8": 1, "int16": 1, "int32": 1, "int64": 1}


def can_cast(from_, to) -> _builtins.bool:
    """Whether PyTorch's casting rules allow ``from_`` into ``to`` in an in-place op: never a
    float into an integer or bool, nor an integer into bool."""
    kind = lambda d: _KIND.get(_dtype_name(d), 2)
    return kind(from_) <= kind(to)


def isin(elements, test_elements, *, assume_unique=False, invert=False) -> Tensor:
    """Whether each element of ``elements`` occurs in ``test_elements`` (either may be a
    number); ``invert`` negates it."""
    del assume_unique  # (a hint for PyTorch's algorithm choice; the result is the same)
    if not isinstance(elements, Tensor):
        elements = _core.tensor(elements)
    if not isinstance(test_elements, Tensor):
        test_elements = _core.tensor(test_elements, device=elements.device)
    hits = (elements.detach().unsqueeze(-1) == test_elements.detach().reshape(-1)).any(-1)
    return hits.logical_not() if invert else hits


# ----- real numbers through the complex API ---------------------------------------------------


def conj(input: Tensor) -> Tensor:
    """The complex conjugate: ``input`` itself for real dtypes (rustgrad has no complex)."""
    return input


def resolve_conj(input: Tensor) -> Tensor:
    """``input`` with a pending conjugation applied: ``input`` itself for real dtypes."""
    return input


def resolve_neg(input: Tensor) -> Tensor:
    """``input`` with a pending negation applied: ``input`` itself (rustgrad has none)."""
    return input


def conj_physical(input: Tensor) -> Tensor:
    """The conjugate: ``input`` itself for real dtypes, as PyTorch."""
    return input


def real(input: Tensor) -> Tensor:
    """The real part: ``input`` itself for real dtypes."""
    return input


def imag(input: Tensor) -> Tensor:
    """The imaginary part: PyTorch's error for real dtypes (rustgrad has no complex)."""
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")


def is_complex(input: Tensor) -> _builtins.bool:
    """False: rustgrad has no complex dtypes."""
    return False


def is_conj(input: Tensor) -> _builtins.bool:
    """False: no tensor carries a pending conjugation."""
    return False


def is_neg(input: Tensor) -> _builtins.bool:
    """False: no tensor carries a pending negation."""
    return False


def positive(input: Tensor) -> Tensor:
    """``input`` itself (unary ``+``); PyTorch's error for bool."""
    if input.dtype == _bool:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def sgn(input: Tensor) -> Tensor:
    """The sign, as ``sign`` (for real dtypes ``sgn`` is ``sign``)."""
    return _saved.saving("SgnBackward0", input.sign(), input)


# ----- NaN-ignoring extremes ----------------------------------------------------------------


def fmax(input: Tensor, other: Tensor) -> Tensor:
    """The elementwise maximum ignoring NaN (NaN only where both are). The gradient goes
    to ``input`` where it is chosen, ties included, as PyTorch's."""
    out = _core.where((input >= other).logical_or(other.isnan()), input, other)
    return _saved.saving("FmaxBackward0", out, input, other)


def fmin(input: Tensor, other: Tensor) -> Tensor:
    """The elementwise minimum ignoring NaN (NaN only where both are), as :func:`fmax`."""
    out = _core.where((input <= other).logical_or(other.isnan()), input, other)
    return _saved.saving("FminBackward0", out, input, other)


# ----- products -----------------------------------------------------------------------------


# Each is one ``addmm`` (its beta = 0 rule, integer scalars truncated, one node): a matrix
# times a vector is a product with one column, an outer product one with k = 1, and a sum
# of batched products one product over the batches laid side by side along k.


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * (mat @ vec)`` (``beta == 0`` ignores ``input``, NaN
    included)."""
    if mat.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(
            f"vector + matrix @ vector expected, got {input.ndim}, {mat.ndim}, {vec.ndim}"
        )
    column = input.unsqueeze(-1) if input.ndim == 1 else input
    return _ops.addmm(column, mat, vec.unsqueeze(1), beta=beta, alpha=alpha).squeeze(-1)


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * outer(vec1, vec2)``."""
    for name, v in (("vec1", vec1), ("vec2", vec2)):
        if v.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {v.ndim}-D")
    if not input.is_floating_point() and input.dtype != _bool:
        for name, v in (("beta", beta), ("alpha", alpha)):
            if isinstance(v, float):
                raise RuntimeError(  # noqa: TRY004 (PyTorch's type: RuntimeError)
                    f"For integral input tensors, argument {name} must not be a floating "
                    "point number."
                )
    return _ops.addmm(input, vec1.unsqueeze(1), vec2.unsqueeze(0), beta=beta, alpha=alpha)


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """``beta * input + alpha * sum_b(batch1[b] @ batch2[b])``."""
    # PyTorch expands ``input`` to the result's size first (batch1's second size, batch2's
    # third): a batch of too few dims is that read's IndexError, before the 3-D checks.
    input.expand(batch1.size(1), batch2.size(2))
    if batch1.ndim != 3 or batch2.ndim != 3:
        raise RuntimeError(
            "batch1 must be a 3D tensor" if batch1.ndim != 3 else "batch2 must be a 3D tensor"
        )
    b, m, k = batch1.shape
    n = batch2.shape[2]
    lhs = batch1.permute(1, 0, 2).reshape(m, b * k)
    out = _ops.addmm(input, lhs, batch2.reshape(b * k, n), beta=beta, alpha=alpha)
    return _saved.saving("AddbmmBackward0", out, input, batch1, batch2)


def inner(input: Tensor, other: Tensor) -> Tensor:
    """The sum of products over the last dims (``input * other`` when either is 0-d)."""
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(
            f"inner() the last dimension must match on both input tensors but got shapes "
            f"{list(input.shape)} and {list(other.shape)}"
        )
    return _ops.tensordot(input, other, ([-1], [-1]))


def vdot(input: Tensor, other: Tensor) -> Tensor:
    """The dot product of two 1-D tensors (conjugating the first: nothing for real dtypes)."""
    return _ops.dot(input, other)


def ger(input: Tensor, vec2: Tensor) -> Tensor:
    """The outer product, as ``outer``."""
    return _ops.outer(input, vec2)


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """A 2-D tensor with the flattened ``input`` on diagonal ``offset``."""
    return _ops.diag(input.reshape(-1), offset)


def msort(input: Tensor, *, out=None) -> Tensor:
    """``input`` sorted along dim 0; with ``out=``, written into that tensor (of the same
    dtype, resized where its shape differs, as PyTorch's ``sort.values``)."""
    if out is None:
        return _ops.sort(input, dim=0).values
    if not isinstance(out, Tensor):
        raise TypeError(f"msort(): argument 'out' must be Tensor, not {type(out).__name__}")
    from rustgrad._math import refuse_grad_out

    refuse_grad_out("sort", input, out)  # (PyTorch's composite sorts into out)
    made = _ops.sort(input, dim=0).values
    _ops._resize_sort_out(out, made, stacklevel=4)
    return out.copy_(made)


def unsafe_split(input: Tensor, split_size, dim: int = 0):
    """``split``, with pieces that may be written in place (PyTorch's unsafe variant: the
    caller vouches that no gradient needs the other pieces)."""
    if not isinstance(split_size, int):
        raise TypeError(
            "unsafe_split(): argument 'split_size' (position 1) must be int, not "
            f"{type(split_size).__name__}"
        )
    return tuple(_ops._split_pieces(input, split_size, dim))


def unsafe_chunk(input: Tensor, chunks: int, dim: int = 0):
    """``chunk``, with pieces that may be written in place (see ``unsafe_split``)."""
    return _ops._chunked(input, chunks, dim, unsafe_split)


def unsafe_split_with_sizes(input: Tensor, split_sizes, dim: int = 0):
    """``split_with_sizes``, with pieces that may be written in place (see
    ``unsafe_split``)."""
    _check_split_sizes(input, split_sizes, dim)
    return tuple(_ops._split_pieces(input, list(split_sizes), dim))


def _check_split_sizes(input: Tensor, split_sizes, dim):
    size = input.shape[_ops._wrap(dim, input.ndim)]
    if _builtins.sum(split_sizes) != size:
        raise RuntimeError(
            f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's "
            f"size at dimension {dim}), but got split_sizes={list(split_sizes)}"
        )


def split_with_sizes(input: Tensor, split_sizes, dim: int = 0):
    """``input`` split along ``dim`` into pieces of the given sizes (which must add up)."""
    _check_split_sizes(input, split_sizes, dim)
    return _ops.split(input, list(split_sizes), dim)


# ----- statistics ---------------------------------------------------------------------------


def _moment_mean(input, dim, keepdim):
    if isinstance(dim, _builtins.bool):  # the old unbiased positional
        dim = None
    dims = _ops._dims(dim, input.ndim)
    return input.mean(tuple(dims), keepdim=keepdim) if dims else input * 1


def _check_moments_dtype(name, input):
    if not input.is_floating_point():
        raise RuntimeError(f"{name} only support floating point and complex dtypes")


def var_mean(input: Tensor, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var, mean)`` over ``dim``, with ``var``'s arguments."""
    _check_moments_dtype("var_mean", input)
    v = _ops.var(input, dim, unbiased, keepdim, correction=correction)
    return v, _moment_mean(input, dim, keepdim)


def std_mean(input: Tensor, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(std, mean)`` over ``dim``, with ``std``'s arguments."""
    _check_moments_dtype("std_mean", input)
    s = _ops.std(input, dim, unbiased, keepdim, correction=correction)
    return s, _moment_mean(input, dim, keepdim)


def cov(input: Tensor, *, correction: int = 1, fweights=None, aweights=None) -> Tensor:
    """The covariance matrix of the variables in ``input``'s rows (observations in columns;
    a 1-D input is one variable), with ``correction`` and optional integer frequency
    weights ``fweights`` and float observation weights ``aweights``, as PyTorch's."""
    if input.ndim > 2:
        raise ValueError(f"cov(): expected input to have two or fewer dimensions but got an input with {input.ndim} dimensions")  # fmt: skip
    x = input.reshape(1, -1) if input.ndim < 2 else input
    if not x.is_floating_point():
        x = x.to(_core.get_default_dtype())
    n = x.shape[1]
    w = None
    if fweights is not None:
        if fweights.is_floating_point():
            raise RuntimeError("cov(): expected fweights to have integral dtype")
        if fweights.ndim > 1 or fweights.numel() != n:
            raise RuntimeError(f"cov(): expected fweights to have the same numel as there are observations in the input but got {fweights.numel()} != {n}")  # fmt: skip
        if bool((fweights < 0).any()):
            raise RuntimeError("cov(): fweights cannot be negative")
        w = fweights  # (itself, as PyTorch's: the products save it, version-checked)
    if aweights is not None:
        if not aweights.is_floating_point():
            raise RuntimeError("cov(): expected aweights to have floating point dtype")
        if aweights.ndim > 1 or aweights.numel() != n:
            raise RuntimeError(f"cov(): expected aweights to have the same numel as there are observations in the input but got {aweights.numel()} != {n}")  # fmt: skip
        if bool((aweights < 0).any()):
            raise RuntimeError("cov(): aweights cannot be negative")
        w = aweights if w is None else w * aweights
    if w is None:
        avg = x.mean(1, keepdim=True)
        norm = _builtins.max(n - correction, 0)
    else:
        w_sum = w.sum()
        avg = (x * w).sum(1, keepdim=True) / w_sum
        if aweights is None:
            norm = w_sum - correction
        else:
            norm = w_sum - correction * (w * aweights).sum() / w_sum
        norm = norm.clamp(min=0)
    centred = x - avg
    weighted = centred if w is None else centred * w
    out = centred.matmul(weighted.t()) / norm  # (PyTorch's order of the factors)
    return out.reshape(()) if x.shape[0] == 1 else out  # one variable: its variance


def corrcoef(input: Tensor) -> Tensor:
    """Pearson's correlation coefficients of the variables in ``input``'s rows, clipped to
    [-1, 1] as PyTorch's."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = _ops.diagonal(c)
    std = d.sqrt()
    c = c / std.unsqueeze(1) / std.unsqueeze(0)
    return c.clamp(-1, 1)


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan):
    name = "quantile"  # (PyTorch's words, for nanquantile too)
    if input.dtype not in (_core.float32, _core.float64):
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(
            f"{name}() interpolation must be one of linear, lower, higher, midpoint or "
            f"nearest, but got {interpolation}"
        )
    scalar_q = not isinstance(q, Tensor)
    qs = _np.atleast_1d(_np.asarray(q if scalar_q else _ops._host(q), dtype=_np.float64))
    if not scalar_q and q.ndim > 1:
        raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
    if not scalar_q and q.dtype != input.dtype:
        raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
    if ((qs < 0) | (qs > 1)).any():
        if scalar_q:
            raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {q}")
        raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
    if dim is None:
        x, d = input.reshape(-1), 0
    else:
        d = _ops._wrap(dim, input.ndim)
        x = input if input.ndim else input.reshape(1)
    if input.numel() == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    x = x.movedim(d, -1)
    values = _ops.sort(x, dim=-1).values  # NaN sorts last
    n = x.shape[-1]
    nan = x.isnan()
    count = (n - nan.sum(-1, keepdim=True)) if ignore_nan else None
    pieces = []
    for qv in qs.tolist():
        if ignore_nan:
            rank = (count - 1).clamp(min=0).to(x.dtype) * qv
        else:
            rank = _core.full(
                tuple(x.shape[:-1]) + (1,), (n - 1) * qv, dtype=x.dtype, device=x.device
            )
        lo = rank.floor()
        hi = rank.ceil()
        if interpolation == "lower":
            hi = lo
        elif interpolation == "higher":
            lo = hi
        elif interpolation == "nearest":
            lo = hi = rank.round()
        lo_i, hi_i = lo.to(_int64), hi.to(_int64)
        v_lo = _ops.gather(values, -1, lo_i)
        v_hi = _ops.gather(values, -1, hi_i)
        if interpolation == "midpoint":
            out = v_lo + (v_hi - v_lo) * 0.5
        elif interpolation == "linear":
            out = v_lo + (v_hi - v_lo) * (rank - lo)
        else:
            out = v_lo
        # (masked_fill, not where with a NaN branch: no NaN reaches the gradient)
        if ignore_nan:
            out = out.masked_fill(count == 0, float("nan"))
        else:
            out = out.masked_fill(nan.any(-1, keepdim=True), float("nan"))
        pieces.append(out.squeeze(-1))
    if keepdim:
        if dim is None:
            shape = (1,) * input.ndim
        else:
            shape = list(input.shape) or [1]
            shape[d] = 1
            shape = tuple(shape) if input.ndim else ()
    if (_np.ndim(q) if scalar_q else q.ndim) == 0:  # (a number or a 0-d q: no q dim)
        return pieces[0].reshape(shape) if keepdim else pieces[0]
    # As PyTorch's: the quantiles side by side innermost in memory, their dim then moved first
    out = _core.stack(pieces, -1)
    if keepdim:
        out = out.reshape((*shape, len(pieces)))
    return out.movedim(-1, 0)


def quantile(input: Tensor, q, dim=None, keepdim=False, *, interpolation="linear") -> Tensor:
    """The ``q``-th quantiles (a number or a 1-D tensor in [0, 1]) over ``dim`` (all if
    None), interpolating between order statistics as ``interpolation`` says; NaN where a
    slice has NaN. Gradients flow to the order statistics used."""
    return _quantile(input, q, dim, keepdim, interpolation, False)


def nanquantile(input: Tensor, q, dim=None, keepdim=False, *, interpolation="linear") -> Tensor:
    """:func:`quantile` ignoring NaN (NaN only where a slice is all NaN)."""
    return _quantile(input, q, dim, keepdim, interpolation, True)


# ----- indexed writes -----------------------------------------------------------------------


def _index_along(name: str, input: Tensor, dim: int, index: Tensor):
    """``dim`` wrapped and ``index``'s values (checked as PyTorch checks them)."""
    d = _ops._wrap(dim, input.ndim)
    if not isinstance(index, Tensor) or index.dtype != _int64:
        raise IndexError(f"{name}(): Expected dtype int64 for index")
    if index.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector")
    i = _ops._host(index).reshape(-1)
    size = input.shape[d] if input.ndim else 1
    if ((i < -size) | (i >= size)).any():
        bad = i[(i < -size) | (i >= size)][0]
        prefix = f"{name}(): " if name == "index_copy_" else ""  # (PyTorch's words differ)
        raise IndexError(f"{prefix}index {bad} is out of bounds for dimension {d} with size {size}")  # fmt: skip
    return d, i % _builtins.max(size, 1)


def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """A copy of ``input`` with the slices ``index`` along ``dim`` set to ``value`` (a number
    or a 0-d tensor, which then gets their gradient)."""
    d, i = _index_along("index_fill_", input, dim, index)
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(
            "index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
            f"{value.ndim} dimension(s)."
        )
    size = input.shape[d] if input.ndim else 1
    hit = _np.zeros(size, dtype=bool)
    hit[i] = True
    shape = [1] * input.ndim
    if input.ndim:
        shape[d] = size
    mask = _core.tensor(hit, device=input.device).reshape(tuple(shape))
    filled = value if isinstance(value, Tensor) else _core.tensor(value, dtype=input.dtype, device=input.device)  # fmt: skip

    def forward():
        return _core.where(mask, filled.to(input.dtype), input)

    def backward(grad, index):
        # PyTorch's: the input's gradient off the filled slices; a tensor value gets the
        # sum over them (each slice once, as its unique(index)).
        zero = _core.zeros((), dtype=grad.dtype, device=grad.device)
        return _core.where(mask, zero, grad), None, *([_core.where(mask, grad, zero).sum()] if others else [])  # fmt: skip

    # One node saving the index (a later in-place change of it is the version error).
    others = [value] if isinstance(value, Tensor) else []
    name = "IndexFillBackward1" if others else "IndexFillBackward0"
    return _native.record(name, [input, index, *others], forward, [index], backward)


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """A copy of ``input`` with slice ``j`` of ``source`` along ``dim`` written at slice
    ``index[j]``."""
    d, i = _index_along("index_copy_", input, dim, index)
    if source.ndim and source.shape[d if source.ndim > d else 0] != len(i) and input.ndim:
        raise IndexError(
            f"index_copy_(): Number of indices ({len(i)}) should be equal to "
            f"source.size(dim) ({source.shape[d]})"
        )

    def forward():
        if input.ndim == 0:
            out = input.reshape(1).clone()
            out[_core.tensor(i)] = source.reshape(-1)
            return out.reshape(())
        out = input.movedim(d, 0).clone()
        out[_core.tensor(i, device=input.device)] = source.to(input.dtype).movedim(d, 0)
        out._forget_writes()  # (one kernel's result in PyTorch: version 0)
        return out.movedim(0, d)

    def backward(grad, index, *_source):
        # PyTorch's IndexCopyBackward0: the input's gradient off the written slices, the
        # source's the gradient at its slices' places (index_select).
        at = _core.tensor(i, device=grad.device)
        g = grad.reshape(1) if grad.ndim == 0 else grad
        g_input = g.index_fill(d, at, 0).reshape(tuple(grad.shape))
        g_source = g.index_select(d, at).reshape(tuple(source.shape))
        return g_input, None, g_source

    # One node saving the index (a later in-place change of it is the version error).
    saved = _saved.saved_list("IndexCopyBackward0", input, index, source)
    return _native.record("IndexCopyBackward0", [input, index, source], forward, saved, backward)


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """A copy of ``input`` with ``source``'s leading elements written, in order, where
    ``mask`` (broadcast to ``input``) is True."""
    if mask.dtype != _bool:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype {_dtype_name(mask.dtype)}")  # fmt: skip
    if source.dtype != input.dtype:
        names = _math._SCALAR_NAME[input.dtype], _math._SCALAR_NAME[source.dtype]
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but got{names[0]} and {names[1]}")  # fmt: skip
    m = mask.expand(tuple(_ops.broadcast_shapes(tuple(mask.shape), tuple(input.shape))))
    if tuple(m.shape) != tuple(input.shape):
        input = input.expand(tuple(m.shape))
    n = int(m.sum())
    if n > source.numel():
        raise RuntimeError("masked_scatter: expected source to have at least as many elements as there are ones in mask")  # fmt: skip
    shape = tuple(input.shape)

    def forward():
        out = input.expand(tuple(m.shape)).clone()
        out[m] = source.reshape(-1)[:n]
        out._forget_writes()  # (one kernel's result in PyTorch: version 0)
        return out

    def backward(grad, m):
        # PyTorch's MaskedScatterBackward0: the input's gradient outside the mask, the
        # source's the masked elements in order, zero-padded to its size.
        g_input = _native.sum_to(grad.masked_fill(m, 0), shape)
        taken = grad[m]
        pad = _core.zeros((source.numel() - taken.numel(),), dtype=grad.dtype, device=grad.device)
        return g_input, _core.cat([taken, pad]).reshape(tuple(source.shape))

    # The mask is saved (a later in-place change of it is PyTorch's version error).
    return _native.record("MaskedScatterBackward0", [input, source], forward, [m], backward)


def _check_index_put(name, indices, values) -> None:
    """PyTorch's argument checks: a tuple (or list) of index tensors (or None), a tensor of
    values."""
    if not isinstance(indices, (tuple, list)):
        raise TypeError(
            f"{name}(): argument 'indices' (position 1) must be tuple of Tensors, not "
            f"{type(indices).__name__}"
        )
    for k, index in enumerate(indices):
        if index is not None and not isinstance(index, Tensor):
            raise TypeError(
                f"expected Tensor as element {k} in argument 0, but got {type(index).__name__}"
            )
    if not isinstance(values, Tensor):
        raise TypeError(
            f"{name}(): argument 'values' (position 2) must be Tensor, not {type(values).__name__}"
        )


def index_put(input: Tensor, indices, values: Tensor, accumulate=False) -> Tensor:
    """A copy of ``input`` with ``values`` written (or, with ``accumulate``, added: repeats
    add up) at the elements the tuple of index tensors ``indices`` addresses, as
    ``input[indices] = values``."""
    _check_index_put("index_put", indices, values)
    indices = tuple(indices)
    if accumulate and values.dtype != input.dtype:
        from rustgrad._tensor_methods import _scalar_name

        # (the write without accumulate is ``input[indices] = values``, which checks the same)
        raise RuntimeError(
            "Index put requires the source and destination dtypes match, got "
            f"{_scalar_name(input.dtype)} for the destination and {_scalar_name(values.dtype)} "
            "for the source."
        )
    if not accumulate:
        out = input.clone()
        out[indices] = values
        out._forget_writes()  # (one kernel's result in PyTorch: version 0)
        return _saved.saving("IndexPutBackward0", out, input, indices, values)
    if any(i.dtype == _bool for i in indices):
        flat = []
        for i in indices:
            flat.extend(_ops.nonzero(i, as_tuple=True) if i.dtype == _bool else (i,))
        indices = tuple(flat)
    k = len(indices)
    if k > input.ndim:
        raise IndexError(f"too many indices for tensor of dimension {input.ndim}")
    lead, rest = tuple(input.shape[:k]), tuple(input.shape[k:])
    idx = _np.broadcast_arrays(*[_ops._host(i).astype(_np.int64) for i in indices])
    for axis, (i, size) in enumerate(zip(idx, lead)):
        if ((i < -size) | (i >= size)).any():
            bad = i[(i < -size) | (i >= size)].reshape(-1)[0]
            raise IndexError(f"index {bad} is out of bounds for dimension {axis} with size {size}")
    lin = (
        _np.ravel_multi_index(tuple(i % s for i, s in zip(idx, lead)), lead)
        if k
        else _np.zeros((), _np.int64)
    )
    r = int(_np.prod(rest)) if rest else 1
    positions = (lin.reshape(-1, 1) * r + _np.arange(r)).reshape(-1)
    shape = tuple(lin.shape) + rest
    vals = values.to(input.dtype).expand(shape)
    added = _ops._add_at(input.numel(), positions, vals).reshape(tuple(input.shape))
    return _saved.saving("IndexPutBackward0", input + added, input, indices, values)


def is_pinned(self: Tensor, device=None) -> bool:
    """Whether the tensor is in page-locked host memory (made by ``pin_memory``)."""
    return _core._is_pinned(self)


def pin_memory(self: Tensor, device=None) -> Tensor:
    """A copy in page-locked host memory, which the GPU reads in place (no staging copy);
    the tensor itself when it is pinned already. PyTorch's errors without an accelerator and
    for a tensor that is not on the CPU."""
    from rustgrad import cuda

    if not cuda.is_available():
        raise RuntimeError("Cannot access accelerator device when none is available.")
    if self.device.type != "cpu":
        raise RuntimeError(f"cannot pin '{self.type()}' only dense CPU tensors can be pinned")
    if _core._is_pinned(self):
        return self
    pinned = _core._pin_memory(self.detach())
    if self.requires_grad and _core.is_grad_enabled():
        # A differentiable copy, as PyTorch's (its gradient flows back to the source).
        return _native.record("PinMemoryBackward0", [self], lambda: pinned, [], lambda g: (g,))
    return pinned


def fill_diagonal_(self: Tensor, fill_value, wrap=False) -> Tensor:
    """Writes ``fill_value`` on the main diagonal of ``self`` (2-D, or every dim of one
    length); ``wrap`` continues down a tall matrix every ``columns + 1`` rows, as NumPy's."""
    if self.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    if self.ndim > 2 and len(set(self.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    n = _builtins.min(self.shape)
    if wrap and self.ndim == 2:
        # NumPy's wrap: the diagonal runs on down a tall matrix, one gap row every cols + 1
        rows, cols = self.shape
        flat = _np.arange(0, rows * cols, cols + 1)
        coords = (flat // cols, flat % cols)
    else:
        coords = (_np.arange(n),) * self.ndim
    self[tuple(_core.tensor(c, device=self.device) for c in coords)] = fill_value
    return self


# ----- methods ------------------------------------------------------------------------------


def _where_method(self: Tensor, condition: Tensor, y) -> Tensor:
    """``where(condition, self, y)``."""
    return _core.where(condition, self, y)


def _bernoulli_method(self: Tensor, p=None, *, generator=None) -> Tensor:
    """0/1 samples with probability ``self`` (or ``p``), of ``self``'s shape and dtype."""
    from rustgrad import random

    return random.bernoulli(self, p, generator=generator)


def _in_place(name, f, node=None):
    """``f``'s result written into ``self`` (PyTorch's in-place casting rule checked), recorded
    by PyTorch's node ``node`` (by default the out-of-place op's, ``result``'s)."""

    def method(self, *args, **kwargs):
        if "out" in kwargs:
            _ops._refuse_method_out(name, args, kwargs)
        _core._refuse_leaf_write(self)
        with _saved.in_place():
            return _check_in_place(self, f(self, *args, **kwargs), node)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In-place ``{name[:-1]}``: writes the result into ``self`` and returns it."
    return method


def _pow_in_place(native):
    """``pow_``: a tensor exponent through the core's in-place op (PyTorch's node, saving the
    written tensor); a number computed from a copy of the old values, as PyTorch saves them,
    and written back."""
    by_number = _in_place("pow_", lambda x, *a, **k: Tensor.pow(x.clone(), *a, **k))

    def pow_(self, *args, **kwargs):
        if len(args) == 1 and not kwargs and isinstance(args[0], Tensor):
            return native(self, args[0])
        return by_number(self, *args, **kwargs)

    pow_.__doc__ = by_number.__doc__
    return pow_


def copysign_(self, other):
    """In-place ``copysign``: one ``CopysignBackward`` node, as PyTorch's, which reads a copy
    of ``self``'s old values."""
    return _ops._copysign(self, other, in_place=True)


def _values_in_place(name, f):
    """A non-differentiable op's result written into ``self`` without touching its history
    (as PyTorch's ``logical_and_``: allowed on a leaf that requires grad)."""

    def method(self, *args, **kwargs):
        from rustgrad._math import check_in_place
        from rustgrad.autograd.grad_mode import no_grad

        result = f(self, *args, **kwargs)
        check_in_place(self, result)
        with no_grad():
            return self.copy_(result)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In-place ``{name[:-1]}``: writes the result into ``self`` and returns it."
    return method


def _as_dtype_of_self(f):
    """A comparison or logical op whose bool result is written into ``self``'s dtype."""
    return lambda self, other: f(self, other).to(self.dtype)


_METHODS = [
    "type_as", "ndimension", "get_device", "is_signed", "is_same_size", "new", "sum_to_size",
    "broadcast_to", "conj", "resolve_conj", "resolve_neg", "conj_physical", "is_complex", "is_conj", "is_neg", "positive", "sgn", "fmax", "fmin", "addmv", "addr",
    "addbmm", "inner", "vdot", "ger", "diagflat", "msort", "split_with_sizes", "cov",
    "corrcoef", "quantile", "nanquantile", "index_fill", "index_copy", "masked_scatter",
    "index_put", "unsafe_split", "unsafe_chunk", "unsafe_split_with_sizes",
]  # fmt: skip
# The functions PyTorch also has at the top level (the rest are methods only).
FUNCTIONS = [
    "is_same_size", "broadcast_to", "as_tensor", "asarray", "scalar_tensor", "result_type",
    "promote_types", "can_cast", "isin", "conj", "resolve_conj", "resolve_neg", "conj_physical",
    "real", "imag", "is_complex", "is_conj", "is_neg", "positive", "sgn", "fmax", "fmin",
    "addmv", "addr", "addbmm", "inner", "vdot", "ger", "diagflat", "msort", "split_with_sizes",
    "var_mean", "std_mean", "cov", "corrcoef", "quantile", "nanquantile", "index_fill",
    "index_copy", "masked_scatter", "index_put", "unsafe_split", "unsafe_chunk",
    "unsafe_split_with_sizes",
]  # fmt: skip
_IN_PLACE = ["index_fill", "index_copy", "masked_scatter", "index_put", "addmv", "addr", "addbmm", "sgn"]  # fmt: skip
# (the in-place forms of composites whose own node is another: PyTorch's, for the rest the
# out-of-place op's node)
_IN_PLACE_NODES = {"addmv": "AddmvBackward0", "addr": "AddrBackward0"}
_COMPARISONS = {
    "eq": "eq", "ne": "ne", "lt": "lt", "le": "le", "gt": "gt", "ge": "ge", "greater": "gt",
    "less": "lt", "greater_equal": "ge", "less_equal": "le", "not_equal": "ne",
}  # fmt: skip


def _bind():
    """Attach the methods, in-place forms and properties to ``Tensor``."""
    g = globals()
    for name in _METHODS:
        setattr(Tensor, name, _ops._as_method(g[name]))
    for name in _IN_PLACE:
        setattr(Tensor, name + "_", _in_place(name + "_", g[name], _IN_PLACE_NODES.get(name)))
    write = Tensor.index_put_

    def index_put_(self, indices, values, accumulate=False):
        _check_index_put("index_put_", indices, values)
        return write(self, indices, values, accumulate)

    index_put_.__doc__ = write.__doc__
    Tensor.index_put_ = index_put_
    for name in ("addmm", "baddbmm"):
        setattr(Tensor, name + "_", _in_place(name + "_", getattr(_ops, name)))
    # (composites of a multiplication, whose node is MulBackward0)
    for name, node in (("deg2rad", "Deg2RadBackward0"), ("rad2deg", "Rad2DegBackward0")):
        setattr(Tensor, name + "_", _in_place(name + "_", getattr(_ops, name), node))
    # (these save their input: computed on a copy, so the write does not change what the
    # node saved)
    for name in ("xlogy", "logit", "sinc"):
        op = getattr(_ops, name)
        setattr(Tensor, name + "_", _in_place(name + "_", lambda x, *a, op=op, **k: op(x.clone(), *a, **k)))  # fmt: skip
    Tensor.pow_ = Tensor.__ipow__ = _pow_in_place(Tensor.pow_)
    Tensor.copysign_ = copysign_
    for name, cmp in _COMPARISONS.items():
        setattr(Tensor, name + "_", _in_place(name + "_", _as_dtype_of_self(getattr(Tensor, cmp))))
    for name in ("logical_and", "logical_or", "logical_xor"):
        logical = _as_dtype_of_self(getattr(_ops, name))
        setattr(Tensor, name + "_", _values_in_place(name + "_", logical))
    Tensor.logical_not_ = _values_in_place(
        "logical_not_", lambda self: _ops.logical_not(self).to(self.dtype)
    )
    Tensor.fill_diagonal_ = fill_diagonal_
    Tensor.is_pinned = is_pinned
    Tensor.pin_memory = pin_memory
    Tensor.real = property(real, doc=real.__doc__)
    Tensor.imag = property(imag, doc=imag.__doc__)
    Tensor.where = _where_method
    Tensor.bernoulli = _bernoulli_method
    Tensor.is_cpu = property(lambda self: self.device.type == "cpu", doc="Whether on the CPU.")
    Tensor.itemsize = property(lambda self: self.element_size(), doc="Bytes per element.")
    Tensor.nbytes = property(
        lambda self: self.numel() * self.element_size(), doc="Bytes the elements take."
    )
