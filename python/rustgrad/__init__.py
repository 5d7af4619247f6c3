"""rustgrad: reverse-mode automatic differentiation with a Rust core and a PyTorch-style face.

Everything heavy (tensors, kernels, the graph arena, the backward engine) lives in the
extension module ``rustgrad._core``; this package only arranges it into torch-shaped
namespaces.
"""

from __future__ import annotations

import builtins as _builtins
import typing as _typing

from rustgrad import _core, _size

# Setting a type's name also sets the C name Python's own messages print: plain `Tensor`, as
# PyTorch's ("'Tensor' object has no attribute ..."), not the extension's `rustgrad.Tensor`.
_core.Tensor.__name__ = "Tensor"
from rustgrad._core import (
    Tensor,
    arange,
    cat,
    device,
    dtype,
    empty_strided,
    eye,
    from_numpy,
    full,
    is_grad_enabled,
    linspace,
    ones,
    rand,
    randn,
    stack,
    tensor,
    where,
    zeros,
)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False, memory_format=None):
    """``fill_value`` in ``input``'s shape, dtype and device (unless given), laid out as
    ``input`` (PyTorch's ``preserve_format``: a transposed input gives a transposed result),
    or in ``memory_format`` at PyTorch's exact strides for it."""
    return _full_like("full_like", input, fill_value, dtype, device, requires_grad, memory_format)


def _full_like(name, input, fill_value, dtype, device, requires_grad, memory_format):
    out = None
    if memory_format is None:
        out = _core.full_like(input, fill_value, dtype=dtype, device=device)
        if out.stride() == input.stride():  # (a row-major input: the common case)
            return out.requires_grad_() if requires_grad else out
    from rustgrad import _memory_format as formats

    if memory_format is not None:
        formats._check(memory_format, name)
    if memory_format is None or memory_format is formats.preserve_format:
        # PyTorch's ``empty_like``: a dense input's strides exactly (an empty input is dense
        # whatever they are; dims of size 1 keep theirs), else dense ones in its memory order.
        if out is None:
            out = _core.full_like(input, fill_value, dtype=dtype, device=device)
        sizes, strides = tuple(input.shape), input.stride()
        if not input.numel():
            out = _core.empty_strided(sizes, strides, dtype=out.dtype, device=out.device)
        elif not input.is_contiguous():

            def make(shape):
                return _core.full(shape, fill_value, dtype=out.dtype, device=out.device)

            out = formats._in_memory_order(input, make)
        if out.stride() != strides and formats._is_non_overlapping_and_dense(sizes, strides):
            out = formats._with_unit_strides(out, strides)
    else:
        dtype = input.dtype if dtype is None else dtype
        device = input.device if device is None else device

        def make(shape):
            return _core.full(shape, fill_value, dtype=dtype, device=device)

        out = formats._in_format(tuple(input.shape), memory_format, make, dtype, device)
    return out.requires_grad_() if requires_grad else out


def zeros_like(input, dtype=None, device=None, requires_grad=False, memory_format=None):
    """Zeros of ``input``'s shape and (unless given) dtype and device."""
    return _full_like("zeros_like", input, 0, dtype, device, requires_grad, memory_format)


def ones_like(input, dtype=None, device=None, requires_grad=False, memory_format=None):
    """Ones of ``input``'s shape and (unless given) dtype and device."""
    return _full_like("ones_like", input, 1, dtype, device, requires_grad, memory_format)


def empty(*size, memory_format=None, **kwargs):
    """A tensor of the given size (``empty(2, 3)``, ``empty((2, 3))``, ``empty(size=(2, 3))``;
    ``dtype``, ``device``, ``requires_grad`` as ``zeros``; ``memory_format``: row-major or a
    channels-last layout at PyTorch's exact strides). Its contents are unspecified in
    PyTorch; here they are zeros."""
    # (zeros words its size check its own way; empty has the general words)
    integer = _builtins.int
    shape = size[0] if len(size) == 1 and not isinstance(size[0], integer) else size
    shape = kwargs.get("size", shape)
    if isinstance(shape, (tuple, list)) and _builtins.all(isinstance(n, integer) for n in shape):
        _size.check_non_negative(shape)
    if memory_format is None:
        return zeros(*size, **kwargs)
    from rustgrad import _memory_format as formats

    formats._check(memory_format, "empty")
    if memory_format is formats.preserve_format:
        raise RuntimeError("unsupported memory format Preserve")
    requires_grad = kwargs.pop("requires_grad", False)
    out = zeros(*size, **kwargs)
    if memory_format is not formats.contiguous_format:

        def make(shape):
            return _core.zeros(shape, dtype=out.dtype, device=out.device)

        out = formats._in_format(tuple(out.shape), memory_format, make, out.dtype, out.device)
    return out.requires_grad_() if requires_grad else out


def empty_like(input, dtype=None, device=None, requires_grad=False, memory_format=None):
    """A tensor of ``input``'s shape and (unless given) dtype and device, laid out as
    ``full_like``'s; zeros here."""
    return _full_like("empty_like", input, 0, dtype, device, requires_grad, memory_format)


float32 = _core.float32
float64 = _core.float64
int64 = _core.int64
bool = _core.bool_  # the name PyTorch uses (shadows the builtin here)
float = float32
double = float64
long = int64
# ----- the dtypes of issue 11 point 4 and their PyTorch aliases (rustgrad._dtypes) -----
uint8 = _core.uint8
int8 = _core.int8
int16 = _core.int16
int32 = _core.int32
float16 = _core.float16
bfloat16 = _core.bfloat16
short = int16
half = float16
# ``torch.int``, set where type checkers don't see it: ``int`` in this module's annotations
# stays the builtin.
globals()["int"] = int32

from rustgrad import autograd, cuda, nn, optim, utils, viz

# ----- elementwise math of issue 11 (functional forms, with ``out=``, in ``_math.py``; in
# ``__all__`` but ``round``, which would shadow the builtin) -----
from rustgrad._math import (
    _number_input,
    _out,
    acos,
    acosh,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    ceil,
    cosh,
    digamma,
    erf,
    erfc,
    erfinv,
    exp2,
    expm1,
    floor,
    floor_divide,
    fmod,
    frac,
    hypot,
    lerp,
    lgamma,
    log1p,
    log2,
    log10,
    logaddexp,
    mvlgamma,
    polygamma,
    reciprocal,
    remainder,
    rsqrt,
    selu,
    sign,
    sinh,
    square,
    tan,
    trunc,
)
from rustgrad._math import round as round
from rustgrad.autograd.anomaly_mode import is_anomaly_check_nan_enabled, is_anomaly_enabled
from rustgrad.autograd.grad_mode import enable_grad, no_grad, set_grad_enabled
from rustgrad.random import manual_seed
from rustgrad.serialization import load, save

if _typing.TYPE_CHECKING:
    from collections.abc import Sequence

    from rustgrad import return_types
    from rustgrad._core import _Dims, _DTypeArg, _Operand

# Functional forms of tensor methods, as ``torch.exp(x)``: ``rustgrad.exp(x)`` is ``x.exp()``.
# Each is written out, rather than generated, so that type checkers and editors see its
# signature and docstring; each takes the method's arguments (same names and defaults) after
# ``input``. They are not in ``__all__``: ``from rustgrad import *`` leaves the builtins
# ``abs``, ``max``, ``min``, ``pow`` and ``sum`` alone.

# ----- elementwise math (same shape as ``input``) ------------------------------------------


def abs(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``|input|`` elementwise (same shape), as ``input.abs()``."""
    return _out("abs", input.abs(), out, input)


def neg(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``-input`` (same shape), as ``input.neg()``."""
    return _out("neg", input.neg(), out, input)


def exp(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise ``e ** input`` (same shape), as ``input.exp()``."""
    return _out("exp", input.exp(), out, input)


def log(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise natural logarithm (same shape), as ``input.log()``."""
    return _out("log", input.log(), out, input)


def sqrt(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise square root (same shape), as ``input.sqrt()``."""
    return _out("sqrt", input.sqrt(), out, input)


def tanh(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise hyperbolic tangent (same shape), as ``input.tanh()``."""
    return _out("tanh", input.tanh(), out, input)


def sin(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise sine, in radians (same shape), as ``input.sin()``."""
    return _out("sin", input.sin(), out, input)


def cos(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise cosine, in radians (same shape), as ``input.cos()``."""
    return _out("cos", input.cos(), out, input)


def maximum(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise maximum (broadcast shape; NaN wins), as ``input.maximum(other)``."""
    return _out("maximum", input.maximum(other), out, input, other)


def minimum(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise minimum (broadcast shape; NaN wins), as ``input.minimum(other)``."""
    return _out("minimum", input.minimum(other), out, input, other)


def sigmoid(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise ``1 / (1 + exp(-input))`` (same shape), as ``input.sigmoid()``."""
    return _out("sigmoid", input.sigmoid(), out, input)


def relu(input: Tensor) -> Tensor:
    """Elementwise ``max(input, 0)`` (same shape), as ``input.relu()``."""
    return input.relu()


def clamp(
    input: Tensor,
    min: _builtins.float | None = None,
    max: _builtins.float | None = None,
    *,
    out: Tensor | None = None,
) -> Tensor:
    """Elementwise clip into ``[min, max]`` (same shape; either bound may be None), as
    ``input.clamp(min, max)``."""
    bounds = [b for b in (min, max) if isinstance(b, Tensor)]  # (numbers: parameters)
    if bounds:
        _ops._check_clamp_bounds("clamp", min, max, input)
    return _out("clamp", input.clamp(min, max), out, input, *bounds)


# ----- binary ops (broadcast shape) --------------------------------------------------------


def add(
    input: Tensor,
    other: _Operand,
    alpha: _builtins.float | None = None,
    *,
    out: Tensor | None = None,
) -> Tensor:
    """``input + alpha * other`` (broadcast shape), as ``input.add(other, alpha)``."""
    input = _number_input(input, other)
    return _out("add", input.add(other, alpha), out, input, other)


def sub(
    input: Tensor,
    other: _Operand,
    alpha: _builtins.float | None = None,
    *,
    out: Tensor | None = None,
) -> Tensor:
    """``input - alpha * other`` (broadcast shape), as ``input.sub(other, alpha)``."""
    input = _number_input(input, other)
    return _out("sub", input.sub(other, alpha), out, input, other)


def mul(input: Tensor, other: _Operand, *, out: Tensor | None = None) -> Tensor:
    """``input * other`` (broadcast shape), as ``input.mul(other)``."""
    input = _number_input(input, other)
    return _out("mul", input.mul(other), out, input, other)


def div(
    input: Tensor,
    other: _Operand,
    *,
    rounding_mode: str | None = None,
    out: Tensor | None = None,
) -> Tensor:
    """``input / other`` (broadcast shape; true division, or rounded by ``rounding_mode``
    ``"trunc"`` or ``"floor"``), as ``input.div(other, rounding_mode=...)``."""
    input = _number_input(input, other)
    return _out("div", input.div(other, rounding_mode=rounding_mode), out, input, other)


def pow(input: Tensor, exponent: _Operand, *, out: Tensor | None = None) -> Tensor:
    """``input ** exponent`` (broadcast shape), as ``input.pow(exponent)``."""
    # (a number exponent is a parameter of PyTorch's kernel, not an operand)
    if not isinstance(input, Tensor) and isinstance(exponent, Tensor):
        return _out("pow", exponent.__rpow__(input), out, exponent)  # (PyTorch's Scalar self)
    operands = (input, exponent) if isinstance(exponent, Tensor) else (input,)
    return _out("pow", input.pow(exponent), out, *operands)


def matmul(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``input @ other`` with NumPy's rules (``(n, k) @ (k, m) -> (n, m)``, 1-d operands
    promoted and squeezed back, batch dims broadcast), as ``input.matmul(other)``."""
    return _out("matmul", input.matmul(other), out)


def mm(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``(n, k) @ (k, m) -> (n, m)`` for 2-d operands only, as ``input.mm(other)``."""
    return _out("mm", input.mm(other), out)


# ----- comparisons (bool tensors of the broadcast shape, no gradient) ----------------------


def eq(input: Tensor, o: _Operand) -> Tensor:
    """``input == o`` elementwise, as ``input.eq(o)``."""
    return input.eq(o)


def ne(input: Tensor, o: _Operand) -> Tensor:
    """``input != o`` elementwise, as ``input.ne(o)``."""
    return input.ne(o)


def lt(input: Tensor, o: _Operand) -> Tensor:
    """``input < o`` elementwise, as ``input.lt(o)``."""
    return input.lt(o)


def le(input: Tensor, o: _Operand) -> Tensor:
    """``input <= o`` elementwise, as ``input.le(o)``."""
    return input.le(o)


def gt(input: Tensor, o: _Operand) -> Tensor:
    """``input > o`` elementwise, as ``input.gt(o)``."""
    return input.gt(o)


def ge(input: Tensor, o: _Operand) -> Tensor:
    """``input >= o`` elementwise, as ``input.ge(o)``."""
    return input.ge(o)


# ----- reductions ----------------------------------------------------------------------------


def sum(
    input: Tensor,
    dim: _Dims | None = None,
    keepdim: _builtins.bool = False,
    dtype: _DTypeArg | None = None,
) -> Tensor:
    """Sum over ``dim`` (int or tuple; all dims when None -> shape ``()``), reduced dims
    dropped unless ``keepdim``; ``dtype`` casts the input first. As ``input.sum(...)``."""
    return input.sum(dim, keepdim, dtype)


def mean(
    input: Tensor,
    dim: _Dims | None = None,
    keepdim: _builtins.bool = False,
    dtype: _DTypeArg | None = None,
) -> Tensor:
    """Mean over ``dim`` (int or tuple; all dims when None -> shape ``()``) of a floating
    tensor (``dtype`` casts the input first), as ``input.mean(...)``."""
    return input.mean(dim, keepdim, dtype)


@_typing.overload
def max(input: Tensor, dim: None = None, keepdim: _builtins.bool = False) -> Tensor: ...
@_typing.overload
def max(input: Tensor, dim: Tensor) -> Tensor: ...
@_typing.overload
def max(input: Tensor, dim: int, keepdim: _builtins.bool = False) -> return_types.max: ...
def max(
    input: Tensor, dim: int | Tensor | None = None, keepdim: _builtins.bool = False
) -> Tensor | return_types.max:
    """``max(input)``: the largest element, shape ``()``; ``max(input, dim, keepdim=False)``:
    ``(values, indices)`` along ``dim``; ``max(input, other)``: the elementwise maximum. As
    ``input.max(...)``."""
    if dim is None:
        return input.max()
    if isinstance(dim, Tensor):
        return input.max(dim)
    return input.max(dim, keepdim)


@_typing.overload
def min(input: Tensor, dim: None = None, keepdim: _builtins.bool = False) -> Tensor: ...
@_typing.overload
def min(input: Tensor, dim: Tensor) -> Tensor: ...
@_typing.overload
def min(input: Tensor, dim: int, keepdim: _builtins.bool = False) -> return_types.min: ...
def min(
    input: Tensor, dim: int | Tensor | None = None, keepdim: _builtins.bool = False
) -> Tensor | return_types.min:
    """``min(input)``: the smallest element, shape ``()``; ``min(input, dim, keepdim=False)``:
    ``(values, indices)`` along ``dim``; ``min(input, other)``: the elementwise minimum. As
    ``input.min(...)``."""
    if dim is None:
        return input.min()
    if isinstance(dim, Tensor):
        return input.min(dim)
    return input.min(dim, keepdim)


def argmax(input: Tensor, dim: int | None = None, keepdim: _builtins.bool = False) -> Tensor:
    """int64 index of the largest element along ``dim`` (of the flattened tensor when None),
    as ``input.argmax(...)``."""
    return input.argmax(dim, keepdim)


def argmin(input: Tensor, dim: int | None = None, keepdim: _builtins.bool = False) -> Tensor:
    """int64 index of the smallest element along ``dim`` (of the flattened tensor when None),
    as ``input.argmin(...)``."""
    return input.argmin(dim, keepdim)


def softmax(input: Tensor, dim: int, dtype: _DTypeArg | None = None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim`` (same shape), as ``input.softmax(dim, dtype)``."""
    return input.softmax(dim, dtype)


def log_softmax(input: Tensor, dim: int, dtype: _DTypeArg | None = None) -> Tensor:
    """``log(softmax(x))`` along ``dim``, computed stably (same shape), as
    ``input.log_softmax(dim, dtype)``."""
    return input.log_softmax(dim, dtype)


# ----- shape -------------------------------------------------------------------------------


def _int_sequence(fn: str, name: str, value: _typing.Any) -> Sequence[int]:
    """``value`` when it is a sequence of sizes; PyTorch's TypeError for a bare number."""
    import collections.abc

    if not isinstance(value, collections.abc.Sequence):
        raise TypeError(
            f"{fn}(): argument '{name}' (position 2) must be tuple of ints, "
            f"not {type(value).__name__}"
        )
    return value


def reshape(input: Tensor, shape: Sequence[int]) -> Tensor:
    """``input`` in the new shape (one size may be -1): a view when possible, else a copy.
    ``reshape(x, (2, 3))``, as ``input.reshape(2, 3)``."""
    return input.reshape(_int_sequence("reshape", "shape", shape))


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Dims ``start_dim..=end_dim`` merged into one, as ``input.flatten(...)``."""
    return input.flatten(start_dim, end_dim)


def squeeze(input: Tensor, dim: _Dims | None = None) -> Tensor:
    """``input`` without size-1 dims (all of them, or those in ``dim``), as
    ``input.squeeze(dim)``."""
    return input.squeeze(dim)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """``input`` with a size-1 dim inserted at ``dim``, as ``input.unsqueeze(dim)``."""
    return input.unsqueeze(dim)


def t(input: Tensor) -> Tensor:
    """Transpose of a tensor with at most 2 dims, as ``input.t()``."""
    return input.t()


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """A view with dims ``dim0`` and ``dim1`` swapped, as ``input.transpose(dim0, dim1)``."""
    return input.transpose(dim0, dim1)


def permute(input: Tensor, dims: Sequence[int]) -> Tensor:
    """A view with the dims reordered: ``permute(x, (2, 0, 1))``, as
    ``input.permute(2, 0, 1)``."""
    return input.permute(_int_sequence("permute", "dims", dims))


# ----- other -------------------------------------------------------------------------------


def detach(input: Tensor) -> Tensor:
    """Same data (shared storage), no history, ``requires_grad=False``; as
    ``input.detach()``."""
    return input.detach()


def numel(input: Tensor) -> int:
    """Number of elements of ``input``, as ``input.numel()``."""
    return input.numel()


__version__: str = _core.__version__  # Cargo.toml's version (CHANGELOG.md)
__version__ = "0.1.0"

__all__ = [
    "Tensor",
    "acos",
    "acosh",
    "arange",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "autograd",
    "bool",
    "cat",
    "ceil",
    "cosh",
    "cuda",
    "device",
    "digamma",
    "dtype",
    "empty",
    "empty_strided",
    "enable_grad",
    "erf",
    "erfc",
    "erfinv",
    "exp2",
    "expm1",
    "eye",
    "float32",
    "float64",
    "floor",
    "floor_divide",
    "fmod",
    "frac",
    "from_numpy",
    "full",
    "full_like",
    "hypot",
    "int64",
    "is_anomaly_check_nan_enabled",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "lerp",
    "lgamma",
    "linspace",
    "load",
    "log1p",
    "log2",
    "log10",
    "logaddexp",
    "manual_seed",
    "mvlgamma",
    "nn",
    "no_grad",
    "ones",
    "ones_like",
    "optim",
    "polygamma",
    "rand",
    "randn",
    "reciprocal",
    "remainder",
    "rsqrt",
    "save",
    "selu",
    "set_grad_enabled",
    "sign",
    "sinh",
    "square",
    "stack",
    "tan",
    "tensor",
    "trunc",
    "utils",
    "viz",
    "where",
    "zeros",
    "zeros_like",
]

# ----- drop-in for PyTorch (rustgrad._dropin): `import torch` as rustgrad, missing names ----
from rustgrad import _dropin
from rustgrad._dropin import install_as_torch, uninstall_as_torch

__all__ += ["install_as_torch", "uninstall_as_torch"]

# ----- creation and randomness (rustgrad.random, Generator, default dtype and device) -------
from rustgrad import random as random  # torch.random (a re-export, not in __all__)
from rustgrad._core import (
    Generator,
    default_generator,
    get_default_dtype,
    set_default_dtype,
)
from rustgrad._legacy import (
    BFloat16Tensor,
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
    get_default_device,
    set_default_device,
)
from rustgrad.random import (
    bernoulli,
    get_rng_state,
    initial_seed,
    multinomial,
    normal,
    rand_like,
    randint,
    randint_like,
    randn_like,
    randperm,
    seed,
    set_rng_state,
)

__all__ += [
    "BoolTensor",
    "DoubleTensor",
    "FloatTensor",
    "Generator",
    "IntTensor",
    "LongTensor",
    "bernoulli",
    "default_generator",
    "empty_like",
    "get_default_device",
    "get_default_dtype",
    "get_rng_state",
    "initial_seed",
    "multinomial",
    "normal",
    "rand_like",
    "randint",
    "randint_like",
    "randn_like",
    "randperm",
    "seed",
    "set_default_device",
    "set_default_dtype",
    "set_rng_state",
]

# ----- process settings: threads, matmul precision (rustgrad._settings) ----------------------
from rustgrad._settings import (
    are_deterministic_algorithms_enabled,
    get_float32_matmul_precision,
    get_num_interop_threads,
    get_num_threads,
    is_deterministic_algorithms_warn_only_enabled,
    set_float32_matmul_precision,
    set_num_interop_threads,
    set_num_threads,
    use_deterministic_algorithms,
)

__all__ += [
    "are_deterministic_algorithms_enabled",
    "get_float32_matmul_precision",
    "get_num_interop_threads",
    "get_num_threads",
    "is_deterministic_algorithms_warn_only_enabled",
    "set_float32_matmul_precision",
    "set_num_interop_threads",
    "set_num_threads",
    "use_deterministic_algorithms",
]

# ----- dtypes: finfo/iinfo, Tensor.int()/short()/half()/... and .type() (rustgrad._dtypes) ----
from rustgrad._dtypes import finfo, iinfo

__all__ += ["bfloat16", "float16", "half", "int", "int8", "int16", "int32", "short", "uint8"]
__all__ += ["finfo", "iinfo"]
__all__ += ["BFloat16Tensor", "ByteTensor", "CharTensor", "HalfTensor", "ShortTensor"]

# ----- interop: __format__, pickling, DLPack (rustgrad._interop) ---------------------------
from rustgrad._interop import from_dlpack
from rustgrad._size import Size

__all__ += ["Size", "from_dlpack"]  # (not `random`: `import *` keeps the stdlib's)

# ----- torch.backends (flags scripts set; rustgrad.backends) --------------------------------
from rustgrad import backends as backends  # torch.backends (a re-export)

# ----- autograd extras: inference mode, torch.func ------------------------------------------
from rustgrad import func, profiler
from rustgrad._core import is_inference_mode_enabled
from rustgrad.autograd.grad_mode import inference_mode


def is_inference(input: Tensor) -> _builtins.bool:
    """Whether ``input`` is an inference tensor, as ``input.is_inference()``."""
    return input.is_inference()


__all__ += ["func", "inference_mode", "is_inference", "is_inference_mode_enabled", "profiler"]

# ----- torch.compile / torch.compiler (eager for now, issue 15), torch.jit, torch.version, and
# the memory formats (rustgrad._memory_format) ------------------------------------------------
from rustgrad import compiler, jit
from rustgrad import version as version  # torch.version (a re-export, not in __all__)
from rustgrad._memory_format import (
    channels_last,
    channels_last_3d,
    contiguous_format,
    memory_format,
    preserve_format,
)
from rustgrad.compiler import compile

__all__ += [
    "channels_last",
    "channels_last_3d",
    "contiguous_format",
    "memory_format",
    "preserve_format",
]

# ----- aliases PyTorch keeps at the top level too ---------------------------------------------
from rustgrad.func import vmap
from rustgrad.nn.functional import celu, celu_, cosine_similarity, pairwise_distance, selu_

__all__ += [
    "celu",
    "celu_",
    "compile",
    "compiler",
    "cosine_similarity",
    "jit",
    "pairwise_distance",
    "selu_",
    "vmap",
]

_where_of_three = where


def where(condition, input=None, other=None, **kwargs):
    """``input`` where ``condition`` holds, else ``other``; with ``condition`` alone, the
    indices of its nonzero elements (``condition.nonzero(as_tuple=True)``)."""
    if input is None and other is None and not kwargs:
        return condition.nonzero(as_tuple=True)
    return _where_of_three(condition, input, other, **kwargs)


# ----- reductions, scans, sorting, linear algebra, indexing, shape ops (issue 11, point 2) ---
# Written in ``_ops.py`` (composites of the core's differentiable ops): the functional forms
# here; ``_bind`` attaches the methods to ``Tensor``.
from rustgrad import _ops
from rustgrad._ops import (
    addmm,
    allclose,
    amax,
    amin,
    argsort,
    baddbmm,
    bmm,
    chunk,
    cumprod,
    cumsum,
    diag,
    diagonal,
    dot,
    einsum,
    equal,
    flip,
    gather,
    index_add,
    index_select,
    is_tensor,
    isclose,
    kthvalue,
    logsumexp,
    masked_fill,
    masked_select,
    median,
    moveaxis,
    movedim,
    mv,
    nanmedian,
    narrow,
    nonzero,
    norm,
    outer,
    prod,
    repeat_interleave,
    roll,
    scatter,
    scatter_add,
    sort,
    split,
    std,
    swapaxes,
    swapdims,
    tile,
    topk,
    trace,
    tril,
    triu,
    unbind,
    unique,
    var,
)
from rustgrad._ops import all as all  # (re-exports kept out of __all__: builtins' names)
from rustgrad._ops import any as any

_ops._bind()
__all__ += [
    "addmm",
    "allclose",
    "amax",
    "amin",
    "argsort",
    "baddbmm",
    "bmm",
    "chunk",
    "cumprod",
    "cumsum",
    "diag",
    "diagonal",
    "dot",
    "einsum",
    "equal",
    "flip",
    "gather",
    "index_add",
    "index_select",
    "is_tensor",
    "isclose",
    "kthvalue",
    "logsumexp",
    "masked_fill",
    "masked_select",
    "median",
    "moveaxis",
    "movedim",
    "mv",
    "nanmedian",
    "narrow",
    "nonzero",
    "norm",
    "outer",
    "prod",
    "repeat_interleave",
    "roll",
    "scatter",
    "scatter_add",
    "sort",
    "split",
    "std",
    "swapaxes",
    "swapdims",
    "tile",
    "topk",
    "trace",
    "tril",
    "triu",
    "unbind",
    "unique",
    "var",
]

# ----- corpus drop-in gaps (issue 12 point 8): torch.accelerator, torch.functional, print
# options, constants -----
import math as _math_consts

from rustgrad import accelerator, functional
from rustgrad._tensor_str import set_printoptions

# torch's constants (math's and NumPy's): torch.inf, torch.nan, torch.pi, torch.e, torch.newaxis
inf = _math_consts.inf
nan = _math_consts.nan
pi = _math_consts.pi
e = _math_consts.e
newaxis = None

__all__ += ["accelerator", "functional", "set_printoptions"]

# ----- branch nn2: new_* constructors, bitwise ops on integers, in-place view changes ---------
from rustgrad import _tensor_methods
from rustgrad._tensor_methods import (
    bitwise_and,
    bitwise_left_shift,
    bitwise_not,
    bitwise_or,
    bitwise_right_shift,
    bitwise_xor,
)

_tensor_methods._bind()
__all__ += [
    "bitwise_and",
    "bitwise_left_shift",
    "bitwise_not",
    "bitwise_or",
    "bitwise_right_shift",
    "bitwise_xor",
]

# ----- torch.linalg and the drop-in gaps around it: float predicates, addcmul/addcdiv,
# broadcasting helpers, matrix functions (issue 11) -----
from rustgrad import linalg
from rustgrad._ops import (
    addcdiv,
    addcmul,
    atleast_1d,
    atleast_2d,
    atleast_3d,
    bincount,
    block_diag,
    broadcast_shapes,
    broadcast_tensors,
    bucketize,
    cartesian_prod,
    cdist,
    chain_matmul,
    clamp_max,
    clamp_min,
    cross,
    cummax,
    cummin,
    det,
    diag_embed,
    diff,
    dist,
    inverse,
    isfinite,
    isinf,
    isnan,
    kron,
    logcumsumexp,
    logdet,
    matrix_power,
    meshgrid,
    nan_to_num,
    pinverse,
    qr,
    searchsorted,
    select,
    slogdet,
    svd,
    tensordot,
    trapezoid,
    trapz,
)

__all__ += [
    "addcdiv",
    "addcmul",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "bincount",
    "block_diag",
    "broadcast_shapes",
    "broadcast_tensors",
    "bucketize",
    "cartesian_prod",
    "cdist",
    "chain_matmul",
    "clamp_max",
    "clamp_min",
    "cross",
    "cummax",
    "cummin",
    "det",
    "diag_embed",
    "diff",
    "dist",
    "inverse",
    "isfinite",
    "isinf",
    "isnan",
    "kron",
    "linalg",
    "logcumsumexp",
    "logdet",
    "matrix_power",
    "meshgrid",
    "nan_to_num",
    "pinverse",
    "qr",
    "searchsorted",
    "select",
    "slogdet",
    "svd",
    "tensordot",
    "trapezoid",
    "trapz",
]

# ----- out= on the creation functions (torch.rand(2, 2, out=t)) and logspace (issue 11) -----


def _creation_with_out(f):
    """``f`` taking PyTorch's ``out=``: the result made with ``out``'s dtype and device
    (unless given) and written into it (resized as PyTorch resizes ``out=``)."""

    def creation(*args, out=None, **kwargs):
        if out is None:
            return f(*args, **kwargs)
        if kwargs.get("memory_format") is not None:
            raise RuntimeError(
                "'memory_format' argument is incompatible with 'out' tensor argument"
            )
        dtype = kwargs.get("dtype")
        if dtype is not None and dtype != out.dtype:
            from rustgrad._math import _SCALAR_NAME as name

            raise RuntimeError(
                f"dtype {name[dtype]} does not match dtype of out parameter ({name[out.dtype]})"
            )
        kwargs.setdefault("dtype", out.dtype)
        kwargs.setdefault("device", out.device)
        return _out(f.__name__, f(*args, **kwargs), out)

    creation.__name__ = creation.__qualname__ = f.__name__
    creation.__doc__ = f.__doc__
    creation.__wrapped__ = f  # (inspect.signature shows the creation function's own)
    return creation


for _f in (rand, randn, zeros, ones, full, empty, arange, eye, linspace, randint, randperm):
    globals()[_f.__name__] = _creation_with_out(_f)
del _f


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, device=None, requires_grad=False):  # fmt: skip
    """``steps`` values from ``base ** start`` to ``base ** end``, evenly spaced in the
    exponent (the default float dtype unless given)."""
    exponents = linspace(start, end, steps, dtype=_core.float64, device=device)
    values = (
        _core.full((), _builtins.float(base), dtype=_core.float64, device=device) ** exponents
    ).to(dtype or get_default_dtype())
    if out is not None:
        return _out("logspace", values, out)
    return values.requires_grad_(requires_grad) if requires_grad else values


__all__.append("logspace")

from rustgrad._ops import (
    aminmax,
    argwhere,
    clone,
    column_stack,
    copysign,
    count_nonzero,
    deg2rad,
    dsplit,
    dstack,
    fliplr,
    flipud,
    float_power,
    hsplit,
    hstack,
    is_floating_point,
    is_nonzero,
    isneginf,
    isposinf,
    isreal,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    logit,
    nanmean,
    nansum,
    rad2deg,
    ravel,
    rot90,
    row_stack,
    signbit,
    sinc,
    take,
    take_along_dim,
    tensor_split,
    tril_indices,
    triu_indices,
    unflatten,
    vsplit,
    vstack,
    xlogy,
)

__all__ += [
    "aminmax",
    "argwhere",
    "clone",
    "column_stack",
    "copysign",
    "count_nonzero",
    "deg2rad",
    "dsplit",
    "dstack",
    "fliplr",
    "flipud",
    "float_power",
    "hsplit",
    "hstack",
    "is_floating_point",
    "is_nonzero",
    "isneginf",
    "isposinf",
    "isreal",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "logit",
    "nanmean",
    "nansum",
    "rad2deg",
    "ravel",
    "rot90",
    "row_stack",
    "signbit",
    "sinc",
    "take",
    "take_along_dim",
    "tensor_split",
    "tril_indices",
    "triu_indices",
    "unflatten",
    "vsplit",
    "vstack",
    "xlogy",
]

# ----- PyTorch's other names for ops (NumPy's arccos, multiply, greater, ...) (issue 11) -----
_ALIASES = {
    "absolute": "abs",
    "negative": "neg",
    "multiply": "mul",
    "subtract": "sub",
    "divide": "div",
    "true_divide": "div",
    "greater": "gt",
    "greater_equal": "ge",
    "less": "lt",
    "less_equal": "le",
    "not_equal": "ne",
    "fix": "trunc",
    "arccos": "acos",
    "arcsin": "asin",
    "arctan": "atan",
    "arccosh": "acosh",
    "arcsinh": "asinh",
    "arctanh": "atanh",
    "arctan2": "atan2",
    "clip": "clamp",
    "concat": "cat",
}
for _alias, _target in _ALIASES.items():
    for _suffix in ("", "_"):
        if not hasattr(Tensor, _alias + _suffix) and hasattr(Tensor, _target + _suffix):
            setattr(Tensor, _alias + _suffix, getattr(Tensor, _target + _suffix))
    globals().setdefault(_alias, globals()[_target])
    __all__.append(_alias)
del _alias, _target, _suffix

# ----- in-place functional forms: torch.sin_(x) is x.sin_() (issue 11) -----


def _in_place_function(name: str):
    def function(input: Tensor, *args, **kwargs) -> Tensor:
        return getattr(input, name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``input.{name}(...)``: the functional form of the in-place method."
    return function


for _name in [
    "abs_",
    "acos_",
    "acosh_",
    "asin_",
    "asinh_",
    "atan_",
    "atanh_",
    "ceil_",
    "clamp_",
    "clamp_max_",
    "clamp_min_",
    "clip_",
    "cos_",
    "cosh_",
    "detach_",
    "erf_",
    "erfc_",
    "exp2_",
    "exp_",
    "expm1_",
    "fill_",
    "floor_",
    "frac_",
    "log10_",
    "log1p_",
    "log2_",
    "log_",
    "nan_to_num_",
    "neg_",
    "reciprocal_",
    "relu_",
    "round_",
    "rsqrt_",
    "sigmoid_",
    "sin_",
    "sinh_",
    "sqrt_",
    "square_",
    "tan_",
    "tanh_",
    "trunc_",
    "zero_",
    "negative_",
    "fix_",
    "arccos_",
    "arcsin_",
    "arctan_",
    "arccosh_",
    "arcsinh_",
    "arctanh_",
]:
    globals()[_name] = _in_place_function(_name)
    __all__.append(_name)
del _name

# ----- the remaining everyday names: metadata, conversions, in-place comparisons, indexed
# writes, statistics, dtype arithmetic (issue 11; ``_ops_extra.py``) -----
from rustgrad import _ops_extra

for _name in _ops_extra.FUNCTIONS:
    globals()[_name] = getattr(_ops_extra, _name)
    __all__.append(_name)
_ops_extra._bind()
del _name

# ----- scatter_reduce, histc, mode (``_ops_more.py``) -----
from rustgrad import _ops_more

for _name in _ops_more.FUNCTIONS:
    globals()[_name] = getattr(_ops_more, _name)
    __all__.append(_name)
_ops_more._bind()
del _name

# ----- torch-level names of functional ops; heaviside, gcd, lcm, ldexp, logaddexp2, rsub
# (``_ops_aliases.py``) -----
from rustgrad import _ops_aliases

_ops_aliases._bind()
for _name in _ops_aliases.FUNCTIONS:
    globals()[_name] = getattr(_ops_aliases, _name)
    __all__.append(_name)
del _name

# ----- layouts, torch.typename and the tensor attributes that ask what kind of tensor it is
# (``_tensor_attrs.py``) -----
from rustgrad import _tensor_attrs

_tensor_attrs._bind()
for _name in _tensor_attrs.__all__:
    globals()[_name] = getattr(_tensor_attrs, _name)
    if _name != "layout":  # (a type, as memory_format)
        __all__.append(_name)
del _name

# ----- torch-level nn kernels with ATen's signatures: torch.dropout, torch.layer_norm,
# torch.embedding, ... (``_ops_aten_nn.py``) -----
from rustgrad import _ops_aten_nn

for _name in _ops_aten_nn.FUNCTIONS:
    globals()[_name] = getattr(_ops_aten_nn, _name)
    __all__.append(_name)
del _name

# ----- torch.distributions (rustgrad.distributions; its modules use the names above) -----
# ----- automatic mixed precision: torch.amp, torch.autocast and its flags, torch.cpu -----
from rustgrad import amp as amp  # (a re-export, not in __all__)
from rustgrad import cpu as cpu  # (a re-export, not in __all__)
from rustgrad import distributions as distributions  # (a re-export, not in __all__)
from rustgrad import special as special  # (a re-export, not in __all__)
from rustgrad import testing as testing  # (a re-export, not in __all__)
from rustgrad.amp.autocast_mode import (
    autocast,
    autocast_decrement_nesting,
    autocast_increment_nesting,
    clear_autocast_cache,
    get_autocast_cpu_dtype,
    get_autocast_dtype,
    get_autocast_gpu_dtype,
    is_autocast_cache_enabled,
    is_autocast_cpu_enabled,
    is_autocast_enabled,
    set_autocast_cache_enabled,
    set_autocast_dtype,
    set_autocast_enabled,
)

__all__ += [
    "autocast",
    "autocast_decrement_nesting",
    "autocast_increment_nesting",
    "clear_autocast_cache",
    "get_autocast_cpu_dtype",
    "get_autocast_dtype",
    "get_autocast_gpu_dtype",
    "is_autocast_cache_enabled",
    "is_autocast_cpu_enabled",
    "is_autocast_enabled",
    "set_autocast_cache_enabled",
    "set_autocast_dtype",
    "set_autocast_enabled",
]

_dropin.hook_missing_names()  # last: every namespace above is imported by now
