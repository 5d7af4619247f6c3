"""The compiled core of rustgrad (a PyO3 extension; sources in ``src/python/``): tensors,
kernels, the graph and the backward engine. The ``rustgrad`` package arranges it into
torch-shaped namespaces.

Shapes are written as tuples: ``(n, m)`` is a 2-d tensor, ``(*, n)`` any leading dims.
Every op that returns a new tensor records a ``grad_fn`` when an input requires grad and
grad mode is on; ops that end in ``_`` work in place and return ``self``.
"""

import builtins
from collections.abc import Callable, Iterator, Sequence
from typing import Any, SupportsIndex, TypeVar, final, overload

import numpy as np
from numpy.typing import DTypeLike as _NpDTypeLike
from numpy.typing import NDArray
from typing_extensions import Self, TypeAlias

from rustgrad import return_types as _return_types
from rustgrad._size import Size

_T = TypeVar("_T", bound=Tensor)

# The extension's ``__all__`` (sorted here): PyO3 lists every class, function and constant
# ``src/python/mod.rs`` adds, the private helpers too.
__all__ = [
    "AccumulateGrad",
    "Generator",
    "NcclCommunicator",
    "Node",
    "RemovableHandle",
    "SavedTensor",
    "StorageOwner",
    "Tensor",
    "_CompiledProgram",
    "__version__",
    "_amax",
    "_avg_pool2d",
    "_avg_pool2d_backward",
    "_bump_version",
    "_check_saved_version",
    "_compile_abort",
    "_compile_begin",
    "_compile_break",
    "_compile_end",
    "_compile_recording",
    "_convolution",
    "_cuda_compile_kernels",
    "_cuda_current_device",
    "_cuda_device_count",
    "_cuda_embedded_arch_for",
    "_cuda_embedded_cubins",
    "_cuda_empty_cache",
    "_cuda_get_device_name",
    "_cuda_get_rng_state",
    "_cuda_is_available",
    "_cuda_kernel_sources",
    "_cuda_library_notes",
    "_cuda_manual_seed",
    "_cuda_max_memory_allocated",
    "_cuda_memory_allocated",
    "_cuda_memory_reserved",
    "_cuda_nvrtc_versions",
    "_cuda_reset_peak_memory_stats",
    "_cuda_set_library_dirs",
    "_cuda_set_rng_state",
    "_cuda_synchronize",
    "_cuda_unavailable_reason",
    "_debug_panic",
    "_exponential",
    "_function_apply",
    "_get_default_device",
    "_get_num_threads",
    "_grad",
    "_is_anomaly_check_nan_enabled",
    "_is_anomaly_enabled",
    "_is_pinned",
    "_live_nodes",
    "_lstm_layer",
    "_lstm_layer_backward",
    "_mark_multi_output_views",
    "_max_pool2d",
    "_max_pool2d_backward",
    "_nccl_library",
    "_nccl_unique_id",
    "_nccl_version",
    "_nll_loss",
    "_normal",
    "_number_beside",
    "_optimizer_step",
    "_pin_memory",
    "_pop_saved_tensors_hooks",
    "_profiler_enable",
    "_profiler_events",
    "_profiler_now",
    "_profiler_thread",
    "_push_saved_tensors_hooks",
    "_random_ints",
    "_randperm",
    "_refuse_leaf_write",
    "_run_backward",
    "_set_anomaly_enabled",
    "_set_default_device",
    "_set_grad_enabled",
    "_set_inference_mode",
    "_set_num_threads",
    "_uniform",
    "addmm",
    "arange",
    "baddbmm",
    "bfloat16",
    "bool_",
    "cat",
    "celu",
    "col2im",
    "default_generator",
    "device",
    "dtype",
    "elu",
    "embedding",
    "empty_strided",
    "eye",
    "float16",
    "float32",
    "float64",
    "from_numpy",
    "full",
    "full_like",
    "gelu",
    "get_default_dtype",
    "hardtanh",
    "im2col",
    "int8",
    "int16",
    "int32",
    "int64",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "leaky_relu",
    "linspace",
    "logsigmoid",
    "manual_seed",
    "mish",
    "ones",
    "rand",
    "randn",
    "set_default_dtype",
    "silu",
    "softplus",
    "stack",
    "tensor",
    "uint8",
    "where",
    "zeros",
]

# ----- argument aliases (stub-only) ------------------------------------------------------------

_Number: TypeAlias = bool | int | float
# A tensor, a Python number (wrapped like PyTorch wraps numbers), or a NumPy array.
_Operand: TypeAlias = Tensor | _Number | NDArray[Any]
# What ``tensor()`` and ``Tensor(data)`` read: a number, (nested) sequences of numbers or 0-d
# tensors, a NumPy array or scalar, or a tensor.
_Data: TypeAlias = _Number | np.generic | NDArray[Any] | Tensor | Sequence[Any]
# A ``rustgrad.dtype``, or a name / type naming one: "float32", "float", "float64", "double",
# "int64", "int", "long", "bool", "bool_", builtins ``float`` / ``int`` / ``bool``, NumPy types.
_DTypeArg: TypeAlias = dtype | str | type
# ``"cpu"``, ``"cuda"``, ``"cuda:0"`` or a ``rustgrad.device``. A CUDA device raises
# RuntimeError (saying why) where no NVIDIA driver and GPU can be used.
_DeviceArg: TypeAlias = device | str
# One index of ``x[key]``: int, slice, None (new axis), ``...``, an integer or bool tensor, or a
# list / NumPy array of indices.
_IndexItem: TypeAlias = (
    SupportsIndex | slice | builtins.ellipsis | None | Tensor | Sequence[Any] | NDArray[Any]
)
_Index: TypeAlias = _IndexItem | tuple[_IndexItem, ...]
_Dims: TypeAlias = int | Sequence[int]
_DType: TypeAlias = dtype
_Device: TypeAlias = device

# ----- dtype and device ------------------------------------------------------------------------

@final
class dtype:
    """An element type; one object each: ``bool_``, ``uint8``, ``int8``, ``int16``, ``int32``,
    ``int64``, ``float16``, ``bfloat16``, ``float32``, ``float64``.

    Compare with ``is`` or ``==``; repr is ``rustgrad.float32``. Not constructible.
    """

    @property
    def is_floating_point(self) -> bool:
        """True for the floating types (``float16``, ``bfloat16``, ``float32``, ``float64``)."""

    @property
    def itemsize(self) -> int:
        """Bytes per element (``float32``: 4)."""

    @property
    def is_signed(self) -> bool:
        """True for every type but ``bool_`` and ``uint8``."""

    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class device:
    """Where a tensor lives: ``device("cpu")``, ``device("cuda", 0)``, ``device("cuda:1")``.

    ``device(0)`` means ``cuda:0``; a ``device`` argument is returned as a copy. Only the
    ``cpu`` and ``cuda`` types are known (anything else raises RuntimeError).
    """

    def __new__(cls, kind: str | int | device, index: int | None = None) -> Self: ...
    @property
    def type(self) -> str:
        """``"cpu"``, ``"cuda"`` or ``"meta"``."""

    @property
    def index(self) -> int | None:
        """The device ordinal, or None when unspecified."""

    def __enter__(self) -> Self:
        """``with rustgrad.device("meta"):`` makes this the device of creation calls without
        ``device=`` (so of new modules' parameters too) until the block ends."""

    def __exit__(self, *_exc: object) -> bool:
        """Restores the default device from before the block."""

    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

__version__: str  # Cargo.toml's version

float32: dtype
float64: dtype
int64: dtype
bool_: dtype
# ----- the dtypes of issue 11 point 4 -----
uint8: dtype
int8: dtype
int16: dtype
int32: dtype
float16: dtype
bfloat16: dtype

# ----- graph nodes -----------------------------------------------------------------------------

@final
class Node:
    """A recorded op of the backward graph (``t.grad_fn``), e.g. ``AddBackward0``.

    Each node is an instance of a subclass named after it (``type(t.grad_fn).__name__`` is
    ``"AddBackward0"``, as in PyTorch). Not constructible. Two ``Node`` objects for the same
    graph node compare equal.
    """

    def name(self) -> str:
        """The node's PyTorch name, e.g. ``"AddBackward0"``."""

    @property
    def next_functions(self) -> tuple[tuple[Node | AccumulateGrad | None, int], ...]:
        """One ``(node, 0)`` pair per input of the op, in input order.

        ``node`` is an ``AccumulateGrad`` for a leaf that requires grad, a ``Node`` for an
        intermediate result, and None for an input that needs no gradient.
        """

    # ``_saved_<name>`` / ``_raw_saved_<name>`` (the tensors the node saved) come from a
    # ``__getattr__`` slot, which the stub cannot name (stubtest sees ``__getattribute__``).

    def __dir__(self) -> list[str]:
        """The node's attributes, with its saved tensors' names."""

    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class SavedTensor:
    """One tensor a graph node saved for backward (``grad_fn._raw_saved_self``). Not
    constructible."""

    def register_hooks(
        self, pack: Callable[[Tensor], Any], unpack: Callable[[Any], Tensor]
    ) -> None:
        """Pack this saved tensor with ``pack`` now, and unpack it with ``unpack`` whenever it is
        used (once per saved tensor)."""

    def unpack(self) -> Tensor | None:
        """The saved tensor, unpacked (hooks run), or None."""

@final
class AccumulateGrad:
    """The graph node that accumulates into a leaf's ``.grad``. Not constructible."""

    def name(self) -> str:
        """Always ``"torch::autograd::AccumulateGrad"``."""

    @property
    def variable(self) -> Tensor:
        """The leaf tensor this node accumulates into (the very object, while it lives)."""

    @property
    def next_functions(self) -> tuple[()]:
        """Always empty: a leaf has no inputs."""

    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class StorageOwner:
    """Keeps a tensor's storage alive for NumPy arrays that view it (the ``.base`` of
    ``t.numpy()``). Internal; not constructible."""

@final
class RemovableHandle:
    """Returned by ``Tensor.register_hook``; ``remove()`` (or leaving a ``with`` block)
    unregisters the hook."""

    def remove(self) -> None:
        """Unregister the hook (again is a no-op)."""
    def __enter__(self) -> Self:
        """``with t.register_hook(fn):`` keeps the hook for the block; returns the handle."""
    def __exit__(self, t: object, v: object, tb: object, /) -> None:
        """Leaving the ``with`` block unregisters the hook."""

# ----- Tensor ----------------------------------------------------------------------------------

# ----- the dtype casts of issue 11 point 4, written in Python (rustgrad._dtypes) and set on
# Tensor at import. Stated in a base of the stub's Tensor so that ``int`` and ``type`` in
# Tensor's own annotations stay the builtins.
class _DTypeCasts:
    """The casts below, as the stub states them (a base of ``Tensor`` there, so that ``int``
    and ``type`` in ``Tensor``'s own annotations stay the builtins); set on ``Tensor`` here."""

    def int(self, memory_format: Any = None) -> Tensor:
        """As int32 (``self`` when it already is)."""

    def short(self, memory_format: Any = None) -> Tensor:
        """As int16 (``self`` when it already is)."""

    def char(self, memory_format: Any = None) -> Tensor:
        """As int8 (``self`` when it already is)."""

    def byte(self, memory_format: Any = None) -> Tensor:
        """As uint8 (``self`` when it already is)."""

    def half(self, memory_format: Any = None) -> Tensor:
        """As float16 (``self`` when it already is)."""

    def bfloat16(self, memory_format: Any = None) -> Tensor:
        """As bfloat16 (``self`` when it already is)."""

    @overload
    def type(self, dtype: None = None, non_blocking: builtins.bool = False, **kwargs: Any) -> str:
        """Without ``dtype``: the legacy type name (``'torch.FloatTensor'``, on CUDA
        ``'torch.cuda.FloatTensor'``); with one (a dtype or such a name): the tensor cast to it."""

    @overload
    def type(
        self,
        dtype: _DType | str | builtins.type,
        non_blocking: builtins.bool = False,
        **kwargs: Any,
    ) -> Tensor: ...

@final
class Tensor(_DTypeCasts):
    """An n-dimensional array with autograd support (also ``rustgrad.autograd.Variable``).

    ``Tensor(2, 3)`` is a float32 tensor of shape ``(2, 3)`` filled with zeros (``Tensor()``
    has shape ``(0,)``); ``Tensor(data)`` copies a list, tuple or NumPy array into float32,
    like ``torch.Tensor``. Prefer :func:`tensor`, which infers the dtype.

    Operators broadcast like NumPy: ``+ - * / **`` take tensors, Python numbers (which take
    the tensor's dtype kind) or NumPy arrays, ``@`` is ``matmul``, ``+=`` and the like work in
    place. ``== != < <= > >=`` give bool tensors of the broadcast shape (no gradient);
    ``& | ^ ~`` work on bool tensors only.

    ``t[key]`` takes ints, slices, None (new axis), ``...``, integer or bool tensors and lists
    of indices: basic indexing gives views, tensor / list / mask indexing gives copies, as in
    PyTorch. ``t[key] = value`` writes ``value`` (broadcast) into the indexed elements.

    ``len(t)`` is the size of dim 0 and ``iter(t)`` yields ``t[0], t[1], ...`` (TypeError for
    a 0-d tensor); ``float(t)``, ``int(t)`` and ``bool(t)`` need exactly one element. Tensors
    hash by identity, so they work as dict keys although ``==`` is elementwise.
    """

    @overload
    def __new__(cls, *size: int) -> Self: ...
    @overload
    def __new__(cls, data: _Data, /) -> Self: ...

    # ----- autograd attributes -----

    @property
    def data(self) -> Tensor:
        """The same data without history (shares storage). Assigning a tensor replaces this
        tensor's data (its shape and dtype may change)."""

    @data.setter
    def data(self, value: Tensor) -> None: ...
    @property
    def grad(self) -> Tensor | None:
        """The accumulated gradient, same shape as ``self``; None until a backward reaches it.

        Reading it on a non-leaf that does not ``retain_grad()`` warns (UserWarning). Assign
        None to clear it, or a tensor of the same shape (else RuntimeError).
        """

    @grad.setter
    def grad(self, value: Tensor | None) -> None: ...
    @property
    def grad_fn(self) -> Node | None:
        """The node that made this tensor; None for leaves."""

    @property
    def requires_grad(self) -> builtins.bool:
        """Whether gradients flow to this tensor. Only leaves may be set (non-leaves raise
        RuntimeError); only floating tensors may require grad."""

    @requires_grad.setter
    def requires_grad(self, value: builtins.bool) -> None: ...
    def requires_grad_(self, requires_grad: builtins.bool = True) -> Self:
        """Set ``requires_grad`` in place; returns ``self``."""

    @property
    def is_leaf(self) -> builtins.bool:
        """True for tensors not produced by a recorded op (including all that do not require
        grad)."""

    @property
    def retains_grad(self) -> builtins.bool:
        """True for a non-leaf after ``retain_grad()``."""

    def is_inference(self) -> builtins.bool:
        """True for a tensor made inside ``inference_mode`` (or a view of one)."""

    def retain_grad(self) -> None:
        """Make backward populate ``.grad`` of this non-leaf tensor too."""

    def detach(self) -> Tensor:
        """Same data (shared storage), no history, ``requires_grad=False``."""

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed (once, on the summed
        gradient); a returned tensor (same shape) replaces the gradient."""
    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]) -> RemovableHandle:
        """Call ``hook(self)`` each time backward has accumulated this leaf's ``.grad`` (after
        its gradient hooks; not for ``autograd.grad``). ``hook`` must return None. Returns a
        handle whose ``remove()`` unregisters it."""

    def detach_(self) -> Self:
        """Drop this tensor's history in place: makes it a leaf that does not require grad."""

    # ----- written in Python (rustgrad.random, rustgrad._interop), set on the class -----
    def uniform_(
        self,
        from_: float = 0.0,
        to: float = 1.0,
        *,
        generator: Generator | None = None,
        **kwargs: Any,
    ) -> Self:
        """Fills ``self`` with samples of U[from, to); returns ``self``."""

    def normal_(
        self, mean: float = 0.0, std: float = 1.0, *, generator: Generator | None = None
    ) -> Self:
        """Fills ``self`` with samples of N(mean, std²); returns ``self``."""

    def random_(self, *args: int, generator: Generator | None = None, **kwargs: int) -> Self:
        """Fills ``self`` with integers drawn uniformly from ``[from, to)``: ``random_(to)``,
        ``random_(from, to)``, or ``random_()`` (``[0, 2**mantissa]`` for floats, as PyTorch)."""

    def bernoulli_(self, p: float | Tensor = 0.5, *, generator: Generator | None = None) -> Self:
        """Fills ``self`` with 0/1 samples of probability ``p`` (a float or a tensor broadcast to
        ``self``); returns ``self``. As PyTorch: each sample is ``u < p`` for a uniform ``u``
        drawn in float64 (a float ``p`` or a float64 tensor) or float32 (other tensors)."""

    def exponential_(self, lambd: float = 1.0, *, generator: Generator | None = None) -> Self:
        """Fills ``self`` with samples of Exp(lambd) (density ``lambd * exp(-lambd * x)``);
        returns ``self``."""

    def cauchy_(
        self, median: float = 0.0, sigma: float = 1.0, *, generator: Generator | None = None
    ) -> Self:
        """Fills ``self`` with samples of the Cauchy distribution ``median + sigma * tan(pi (u -
        1/2))``; returns ``self``."""

    def geometric_(self, p: float, *, generator: Generator | None = None) -> Self:
        """Fills ``self`` with samples of the geometric distribution of success probability
        ``p`` (the trial of the first success: ``ceil(log(u) / log1p(-p))``); returns ``self``."""

    def log_normal_(
        self, mean: float = 1.0, std: float = 2.0, *, generator: Generator | None = None
    ) -> Self:
        """Fills ``self`` with ``exp`` of samples of N(mean, std²); returns ``self``."""

    def multinomial(
        self, num_samples: int, replacement: bool = False, *, generator: Generator | None = None
    ) -> Tensor:
        """``multinomial(self, num_samples, replacement)``: category indices drawn with the
        weights of ``self`` (1-d or 2-d)."""

    def __format__(self, format_spec: str) -> str:
        """A 0-d tensor formats as its value (``f"{loss:.4f}"``); others as ``object`` does."""

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[Any, ...]:
        """Pickles the values (a copy: a view unpickles as an independent tensor, as in
        PyTorch), the dtype, the device and ``requires_grad``; a subclass also its class and
        ``__dict__``."""

    def __dlpack__(self, *args: Any, **kwargs: Any) -> Any:
        """A DLPack capsule of this tensor's memory (zero-copy, strides kept; CPU tensors)."""

    def __dlpack_device__(self) -> tuple[int, int]:
        """``(device type, index)`` as DLPack numbers them: ``(1, 0)`` for the CPU."""

    @staticmethod
    def _make_subclass(subclass: type[_T], data: Tensor, require_grad: bool = False) -> _T:
        """A ``cls`` instance (a subclass of ``Tensor``) sharing ``data``'s storage, as PyTorch's
        ``Tensor._make_subclass``; ``data`` is not changed."""

    def __deepcopy__(self, _memo: object) -> Tensor:
        """A leaf copy with its own storage, keeping ``requires_grad`` and a copy of ``.grad``
        (so ``copy.deepcopy(model)`` works). RuntimeError for a non-leaf."""

    @property
    def _version(self) -> int:
        """Counter of in-place writes to the storage (checked by backward)."""

    def _memory_order(self) -> list[int]:
        """The dims, outermost first, in the order PyTorch's elementwise kernels lay out a result
        of this tensor alone (TensorIterator's order: by stride, broadcast dims and ties kept
        in place). Private: for results that take this tensor's layout."""

    def _copy_unversioned_(self, src: Tensor) -> None:
        """Copy ``src`` into this tensor without moving ``_version``, as PyTorch's batch norm
        kernels update the running statistics (so batch norm nodes that saved them stay
        valid). Private: for ``F.batch_norm``."""

    def backward(
        self,
        gradient: Tensor | None = None,
        retain_graph: builtins.bool | None = None,
        create_graph: builtins.bool = False,
        inputs: Tensor | Sequence[Tensor] | None = None,
    ) -> None:
        """Accumulate d(self)/d(leaf) into each leaf's ``.grad``.

        ``gradient`` (same shape as ``self``) may be left out only for a one-element tensor.
        ``retain_graph`` defaults to ``create_graph``; ``inputs`` limits accumulation to those
        tensors.
        """

    # ----- metadata -----

    @property
    def shape(self) -> Size:
        """The sizes, e.g. ``rustgrad.Size([2, 3])``."""

    @overload
    def size(self, dim: None = None) -> Size:
        """``size()``: the sizes, as ``shape``. ``size(dim)``: the size of dimension ``dim``
        (negative counts from the end)."""

    @overload
    def size(self, dim: int) -> int: ...
    def dim(self) -> int:
        """Number of dimensions (0 for a scalar)."""

    @property
    def ndim(self) -> int:
        """Number of dimensions, as ``dim()``."""

    def numel(self) -> int:
        """Number of elements (product of the sizes)."""

    def nelement(self) -> int:
        """Alias of ``numel()``."""

    @property
    def dtype(self) -> _DType:
        """The element type."""

    @property
    def device(self) -> _Device:
        """Where the data lives: ``device(type='cpu')`` or ``device(type='cuda', index=0)``
        (``str()`` gives ``"cpu"`` / ``"cuda:0"``)."""

    @property
    def is_cuda(self) -> builtins.bool:
        """True when the data lives on a CUDA device."""

    @property
    def is_meta(self) -> builtins.bool:
        """True for a tensor on the meta device (a shape and dtype, no data)."""

    def is_floating_point(self) -> builtins.bool:
        """True for float32 and float64 tensors."""

    def is_contiguous(self, memory_format: object = ...) -> builtins.bool:
        """True when the elements are laid out without gaps in ``memory_format`` (row-major by
        default; ``channels_last`` and ``channels_last_3d`` too)."""

    def element_size(self) -> int:
        """Bytes per element."""

    def _is_view(self) -> bool:
        """True for a view of another tensor made while grad mode was on (whose in-place
        changes reach its base's history)."""

    def data_ptr(self) -> int:
        """Address of the first element."""

    def storage_offset(self) -> int:
        """Elements from the start of the storage to the first element."""

    @overload
    def stride(self, dim: None = None) -> tuple[int, ...]:
        """Elements to step in storage per index step, one entry per dimension; ``stride(dim)``:
        that dimension's (negative counts from the end)."""

    @overload
    def stride(self, dim: int) -> int: ...

    # ----- conversion -----

    def item(self) -> _Number:
        """The value of a one-element tensor (any shape) as a Python bool, int or float."""

    def tolist(self) -> Any:
        """Nested lists of Python numbers; a bare number for a 0-d tensor."""

    def numpy(self, force: builtins.bool = False) -> NDArray[Any]:
        """A NumPy array sharing this tensor's memory (same shape and strides).

        Raises RuntimeError for a tensor that requires grad unless ``force``, and TypeError for
        a CUDA tensor (copy it to the host with ``cpu()`` first; ``force`` copies it).
        """

    __array_priority__: builtins.int
    def __array__(
        self, dtype: _NpDTypeLike | None = None, copy: builtins.bool | None = None
    ) -> NDArray[Any]:
        """``numpy.asarray(t, dtype)``: ``numpy()``, cast to ``dtype`` when given, copied when
        ``copy`` is True."""
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Tensor]: ...
    def __bool__(self) -> builtins.bool: ...
    def __float__(self) -> builtins.float: ...
    def __int__(self) -> int: ...
    def __index__(self) -> int: ...
    def __hash__(self) -> int: ...
    def float(self) -> Tensor:
        """As float32 (``self`` when it already is)."""

    def double(self) -> Tensor:
        """As float64 (``self`` when it already is)."""

    def long(self) -> Tensor:
        """As int64 (``self`` when it already is)."""

    def bool(self) -> Tensor:
        """As bool (``self`` when it already is)."""

    @overload
    def to(self, dtype: _DType, /) -> Tensor:
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)`` (either by keyword too) or
        ``to(other)`` (``other``'s dtype and device): ``self`` when nothing changes. A copy to
        another device is differentiable (gradients flow back to the source's device)."""

    @overload
    def to(self, other: Tensor, /) -> Tensor: ...
    @overload
    def to(self, device: _DeviceArg | None = None, dtype: _DType | None = None) -> Tensor: ...
    def cuda(
        self, device: _DeviceArg | int | None = None, non_blocking: builtins.bool = False
    ) -> Tensor:
        """A copy on the CUDA device (device 0 unless given; ``self`` when already there).
        RuntimeError, saying why, where CUDA cannot be used."""

    def cpu(self) -> Tensor:
        """A copy in host memory (``self`` when already there)."""

    # ----- arithmetic (broadcasting; Python numbers take the tensor's dtype kind) -----

    def __add__(self, other: _Operand, /) -> Tensor: ...
    def __radd__(self, other: _Operand, /) -> Tensor: ...
    def __sub__(self, other: _Operand, /) -> Tensor: ...
    def __rsub__(self, other: _Operand, /) -> Tensor: ...
    def __mul__(self, other: _Operand, /) -> Tensor: ...
    def __rmul__(self, other: _Operand, /) -> Tensor: ...
    def __truediv__(self, other: _Operand, /) -> Tensor: ...
    def __rtruediv__(self, other: _Operand, /) -> Tensor: ...
    def __pow__(self, exponent: _Operand, modulo: None = None, /) -> Tensor: ...
    def __rpow__(self, base: _Operand, modulo: None = None, /) -> Tensor: ...
    def __matmul__(self, other: Tensor, /) -> Tensor: ...
    def __rmatmul__(self, other: Tensor, /) -> Tensor: ...
    def __neg__(self) -> Tensor: ...
    def __pos__(self) -> Self: ...
    def __abs__(self) -> Tensor: ...
    def __iadd__(self, other: _Operand, /) -> Self: ...
    def __isub__(self, other: _Operand, /) -> Self: ...
    def __imul__(self, other: _Operand, /) -> Self: ...
    def __itruediv__(self, other: _Operand, /) -> Self: ...
    def __ipow__(self, exponent: _Operand, modulo: None = None, /) -> Self:
        """In-place ``pow``: writes the result into ``self`` and returns it."""

    def add(self, other: _Operand, alpha: builtins.float | None = None) -> Tensor:
        """``self + alpha * other`` (broadcast shape)."""

    def sub(self, other: _Operand, alpha: builtins.float | None = None) -> Tensor:
        """``self - alpha * other`` (broadcast shape)."""

    def mul(self, other: _Operand) -> Tensor:
        """``self * other`` (broadcast shape)."""

    def div(self, other: _Operand, *, rounding_mode: str | None = None) -> Tensor:
        """``self / other`` (broadcast shape): true division, or rounded towards zero
        (``rounding_mode="trunc"``) or down (``"floor"``), whose gradient is zero as PyTorch's
        ``DivBackward2``."""

    def pow(self, exponent: _Operand) -> Tensor:
        """``self ** exponent`` (broadcast shape)."""

    def matmul(self, other: Tensor) -> Tensor:
        """``self @ other`` with NumPy's rules: ``(n, k) @ (k, m) -> (n, m)``; 1-d operands are
        promoted and squeezed back (``(k,) @ (k,) -> ()``); batch dims ``(*b, n, k)``
        broadcast."""

    def mm(self, other: Tensor) -> Tensor:
        """``(n, k) @ (k, m) -> (n, m)``, 2-d operands only."""

    def dot(self, other: Tensor) -> Tensor:
        """``(k,) . (k,) -> ()``, 1-d operands only."""

    def maximum(self, other: Tensor) -> Tensor:
        """Elementwise maximum (broadcast shape)."""

    def minimum(self, other: Tensor) -> Tensor:
        """Elementwise minimum (broadcast shape)."""

    def neg(self) -> Tensor:
        """``-self`` (same shape)."""

    def abs(self) -> Tensor:
        """``|self|`` (same shape)."""

    def exp(self) -> Tensor:
        """Elementwise ``e ** self`` (same shape)."""

    def log(self) -> Tensor:
        """Elementwise natural logarithm (same shape)."""

    def sqrt(self) -> Tensor:
        """Elementwise square root (same shape)."""

    def tanh(self) -> Tensor:
        """Elementwise hyperbolic tangent (same shape)."""

    def sin(self) -> Tensor:
        """Elementwise sine, in radians (same shape)."""

    def cos(self) -> Tensor:
        """Elementwise cosine, in radians (same shape)."""

    def sigmoid(self) -> Tensor:
        """Elementwise ``1 / (1 + exp(-self))`` (same shape)."""

    def relu(self) -> Tensor:
        """Elementwise ``max(self, 0)`` (same shape)."""

    def clamp(self, min: builtins.float | None = None, max: builtins.float | None = None) -> Tensor:
        """Elementwise clip into ``[min, max]`` (same shape); either bound may be None."""

    def clip(self, min: builtins.float | None = None, max: builtins.float | None = None) -> Tensor:
        """Alias of ``clamp``."""

    # ----- logical operators (bitwise on integer tensors: rustgrad._tensor_methods) -----

    def __and__(self, other: Tensor | builtins.int, /) -> Tensor: ...
    def __or__(self, other: Tensor | builtins.int, /) -> Tensor: ...
    def __xor__(self, other: Tensor | builtins.int, /) -> Tensor: ...
    def __rand__(self, other: Tensor | builtins.int, /) -> Tensor: ...
    def __ror__(self, other: Tensor | builtins.int, /) -> Tensor: ...
    def __rxor__(self, other: Tensor | builtins.int, /) -> Tensor: ...
    def __invert__(self) -> Tensor: ...
    def logical_not(self) -> Tensor:
        """Elementwise ``self == 0`` as a bool tensor (same shape, no gradient)."""

    # ----- comparisons: bool tensors of the broadcast shape, no gradient -----

    # `type: ignore`: `==` returns a tensor, not a bool (as in PyTorch); NumPy arrays are
    # operands too, and their reflected comparisons return arrays (mypy: "unsafe overlap").
    def __eq__(self, other: object, /) -> Tensor: ...  # type: ignore[override]
    def __ne__(self, other: object, /) -> Tensor: ...  # type: ignore[override]
    def __lt__(self, other: _Operand, /) -> Tensor: ...  # type: ignore[misc]
    def __le__(self, other: _Operand, /) -> Tensor: ...  # type: ignore[misc]
    def __gt__(self, other: _Operand, /) -> Tensor: ...  # type: ignore[misc]
    def __ge__(self, other: _Operand, /) -> Tensor: ...  # type: ignore[misc]
    def eq(self, o: _Operand) -> Tensor:
        """``self == o`` elementwise."""

    def ne(self, o: _Operand) -> Tensor:
        """``self != o`` elementwise."""

    def lt(self, o: _Operand) -> Tensor:
        """``self < o`` elementwise."""

    def le(self, o: _Operand) -> Tensor:
        """``self <= o`` elementwise."""

    def gt(self, o: _Operand) -> Tensor:
        """``self > o`` elementwise."""

    def ge(self, o: _Operand) -> Tensor:
        """``self >= o`` elementwise."""

    # ----- reductions -----

    def sum(
        self,
        dim: _Dims | None = None,
        keepdim: builtins.bool = False,
        dtype: _DTypeArg | None = None,
    ) -> Tensor:
        """Sum over ``dim`` (int or tuple; all dims when None -> shape ``()``).

        Reduced dims are dropped, or kept with size 1 when ``keepdim``. ``dtype`` casts the
        input first.
        """

    def mean(
        self,
        dim: _Dims | None = None,
        keepdim: builtins.bool = False,
        dtype: _DTypeArg | None = None,
    ) -> Tensor:
        """Mean over ``dim`` (int or tuple; all dims when None -> shape ``()``); floating
        tensors only (``dtype`` casts the input first, so integers can be averaged)."""

    @overload
    def max(self, dim: None = None, keepdim: builtins.bool = False) -> Tensor:
        """``max()``: the largest element, shape ``()``. ``max(dim, keepdim=False)``: the named
        tuple ``(values, indices)`` along ``dim``, that dim dropped (size 1 with ``keepdim``),
        ``indices`` int64. ``max(other)``: the elementwise maximum with a tensor, as
        ``maximum``."""

    @overload
    def max(self, dim: Tensor) -> Tensor: ...
    @overload
    def max(self, dim: int, keepdim: builtins.bool = False) -> _return_types.max: ...
    @overload
    def min(self, dim: None = None, keepdim: builtins.bool = False) -> Tensor:
        """``min()``: the smallest element, shape ``()``. ``min(dim, keepdim=False)``: the named
        tuple ``(values, indices)`` along ``dim``, that dim dropped (size 1 with ``keepdim``),
        ``indices`` int64. ``min(other)``: the elementwise minimum with a tensor, as
        ``minimum``."""

    @overload
    def min(self, dim: Tensor) -> Tensor: ...
    @overload
    def min(self, dim: int, keepdim: builtins.bool = False) -> _return_types.min: ...
    def argmax(self, dim: int | None = None, keepdim: builtins.bool = False) -> Tensor:
        """int64 index of the largest element along ``dim`` (of the flattened tensor when None,
        shape ``()``)."""

    def argmin(self, dim: int | None = None, keepdim: builtins.bool = False) -> Tensor:
        """int64 index of the smallest element along ``dim`` (of the flattened tensor when None,
        shape ``()``)."""

    def softmax(self, dim: int, dtype: _DTypeArg | None = None) -> Tensor:
        """``exp(x) / sum(exp(x))`` along ``dim`` (same shape); ``dtype`` casts the input."""

    def log_softmax(self, dim: int, dtype: _DTypeArg | None = None) -> Tensor:
        """``log(softmax(x))`` along ``dim``, computed stably (same shape); ``dtype`` casts the
        input."""

    # ----- views and shape -----

    @overload
    def view(self, *shape: int) -> Tensor:
        """The same storage with a new shape (one size may be -1); needs compatible strides.
        ``view(2, 3)`` or ``view((2, 3))``."""

    @overload
    def view(self, shape: Sequence[int], /) -> Tensor: ...
    def view_as(self, other: Tensor) -> Tensor:
        """``view(other.shape)``."""

    @overload
    def reshape(self, *shape: int) -> Tensor:
        """A tensor of the new shape (one size may be -1): a view when possible, else a copy.
        ``reshape(2, 3)`` or ``reshape((2, 3))``."""

    @overload
    def reshape(self, shape: Sequence[int], /) -> Tensor: ...
    def reshape_as(self, other: Tensor) -> Tensor:
        """``reshape(other.shape)``."""

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge dims ``start_dim..=end_dim`` into one: ``(2, 3, 4).flatten() -> (24,)``."""

    def squeeze(self, dim: _Dims | None = None) -> Tensor:
        """Drop size-1 dims (all of them, or those in ``dim`` that have size 1)."""

    def unsqueeze(self, dim: int) -> Tensor:
        """Insert a size-1 dim at ``dim``: ``(2, 3).unsqueeze(0) -> (1, 2, 3)``."""

    def unfold(self, dimension: int, size: int, step: int) -> Tensor:
        """A view of the windows of ``size`` elements every ``step`` along ``dimension``, as a
        new last dim: ``arange(7.).unfold(0, 3, 2)`` is ``[[0, 1, 2], [2, 3, 4], [4, 5, 6]]``."""

    def t(self) -> Tensor:
        """Transpose of a tensor with at most 2 dims: ``(n, m) -> (m, n)``."""

    @property
    def T(self) -> Tensor:
        """All dims reversed: ``(a, b, c) -> (c, b, a)``."""

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """A view with dims ``dim0`` and ``dim1`` swapped."""

    @overload
    def permute(self, *dims: int) -> Tensor:
        """A view with the dims reordered: ``(a, b, c).permute(2, 0, 1) -> (c, a, b)``."""

    @overload
    def permute(self, dims: Sequence[int], /) -> Tensor: ...
    @overload
    def expand(self, *sizes: int) -> Tensor:
        """A broadcast view: size-1 dims stretched, new leading dims added (-1 keeps a size).
        ``(3, 1).expand(2, 3, 4) -> (2, 3, 4)``."""

    @overload
    def expand(self, sizes: Sequence[int], /) -> Tensor: ...
    def expand_as(self, other: Tensor) -> Tensor:
        """``expand(other.shape)``."""

    def contiguous(self, memory_format: object = ...) -> Tensor:
        """A dense copy in ``memory_format`` (row-major by default; ``self`` when it already is)."""

    def clone(self, *, memory_format: object = ...) -> Tensor:
        """A copy with its own storage (records ``CloneBackward0``); ``preserve_format`` (the
        default) keeps a channels-last layout."""

    # ----- indexing -----

    def __getitem__(self, key: _Index, /) -> Tensor: ...
    def __setitem__(self, key: _Index, value: _Operand | _Data, /) -> None: ...

    # ----- in-place -----

    def add_(self, other: _Operand, alpha: builtins.float | None = None) -> Self:
        """``self += alpha * other``; ``other`` broadcasts to ``self``'s shape."""

    def sub_(self, other: _Operand, alpha: builtins.float | None = None) -> Self:
        """``self -= alpha * other``; ``other`` broadcasts to ``self``'s shape."""

    def mul_(self, other: _Operand) -> Self:
        """``self *= other``; ``other`` broadcasts to ``self``'s shape."""

    def div_(self, other: _Operand, *, rounding_mode: str | None = None) -> Self:
        """``div`` in place."""

    def zero_(self) -> Self:
        """Fill with zeros."""

    def fill_(self, value: _Number | Tensor) -> Self:
        """Fill with ``value`` (a number or a one-element tensor)."""

    def copy_(self, src: Tensor, non_blocking: builtins.bool = False) -> Self:
        """Copy ``src`` (broadcast to ``self``'s shape, cast to its dtype) into ``self``."""

    def clamp_(self, min: builtins.float | None = None, max: builtins.float | None = None) -> Self:
        """Clip into ``[min, max]`` in place."""

    # ----- reductions, scans, sorting, linear algebra, indexing, shape ops (issue 11) -----
    # (Python methods bound by rustgrad._ops; the functional forms are rustgrad.<name>)

    def prod(
        self,
        dim: Any = ...,
        keepdim: Any = ...,
        *,
        dtype: Any = ...,
        axis: Any = ...,
        keepdims: Any = ...,
    ) -> Tensor:
        """Product of the elements (over ``dim`` if given); integers and bools give int64.
        Exact where elements are 0 (pairwise products, not a log/exp formula). The gradient is
        PyTorch's: ``result / input`` when no element is 0, else the product of the others."""

    def cumsum(self, dim: Any = ..., *, dtype: Any = ..., axis: Any = ...) -> Tensor:
        """Cumulative sum along ``dim``; integers and bools give int64."""

    def cumprod(self, dim: Any = ..., *, dtype: Any = ..., axis: Any = ...) -> Tensor:
        """Cumulative product along ``dim``; integers and bools give int64."""

    def std(
        self,
        dim: Any = ...,
        unbiased: Any = ...,
        keepdim: Any = ...,
        *,
        correction: Any = ...,
        axis: Any = ...,
        keepdims: Any = ...,
    ) -> Tensor:
        """Standard deviation: ``var(...).sqrt()`` (same arguments)."""

    def var(
        self,
        dim: Any = ...,
        unbiased: Any = ...,
        keepdim: Any = ...,
        *,
        correction: Any = ...,
        axis: Any = ...,
        keepdims: Any = ...,
    ) -> Tensor:
        """Variance over ``dim`` (all if None) with Bessel's ``correction`` (default 1;
        ``unbiased=False`` is 0); NaN where ``n - correction <= 0``, as PyTorch."""

    def norm(self, p: Any = ..., dim: Any = ..., keepdim: Any = ..., dtype: Any = ...) -> Tensor:
        """The ``p``-norm over ``dim`` (all if None): 2 and 'fro' Euclidean, 1, inf, -inf, 0
        (count of nonzeros) or any float; floating inputs only, as PyTorch."""

    def logsumexp(
        self,
        dim: Any = ...,
        keepdim: Any = ...,
        *,
        axis: Any = ...,
        keepdims: Any = ...,
    ) -> Tensor:
        """``log(sum(exp(input)))`` over ``dim``, computed stably (shifted by the maximum);
        integers compute in float32."""

    def any(
        self,
        dim: Any = ...,
        keepdim: Any = ...,
        *,
        axis: Any = ...,
        keepdims: Any = ...,
    ) -> Tensor:
        """Whether any element (over ``dim``) is nonzero: a bool tensor."""

    def all(
        self,
        dim: Any = ...,
        keepdim: Any = ...,
        *,
        axis: Any = ...,
        keepdims: Any = ...,
    ) -> Tensor:
        """Whether every element (over ``dim``) is nonzero: a bool tensor."""

    def amax(
        self,
        dim: Any = ...,
        keepdim: Any = ...,
        *,
        axis: Any = ...,
        keepdims: Any = ...,
    ) -> Tensor:
        """Maximum over ``dim`` (a dim or tuple; () means all); the gradient is shared evenly
        between tied maxima, as PyTorch's ``amax``."""

    def amin(
        self,
        dim: Any = ...,
        keepdim: Any = ...,
        *,
        axis: Any = ...,
        keepdims: Any = ...,
    ) -> Tensor:
        """Minimum over ``dim`` (a dim or tuple; () means all); the gradient is shared evenly
        between tied minima, as PyTorch's ``amin``."""

    def median(self, dim: Any = ..., keepdim: Any = ...) -> Any:
        """The lower median: of all elements (a 0-d tensor) or, with ``dim``, ``(values,
        indices)`` along it; NaN propagates."""

    def nanmedian(self, dim: Any = ..., keepdim: Any = ...) -> Any:
        """:func:`median` ignoring NaN: the lower median of the other elements (NaN where a row
        has nothing else)."""

    def sort(
        self,
        dim: Any = ...,
        descending: Any = ...,
        *,
        stable: Any = ...,
    ) -> _return_types.sort:
        """``(values, indices)`` sorted along ``dim`` (stable; NaN as the largest value), laid
        out in ``input``'s memory order as PyTorch's."""

    def argsort(self, dim: Any = ..., descending: Any = ..., *, stable: Any = ...) -> Tensor:
        """The indices that sort ``input`` along ``dim`` (stable), laid out as ``sort``'s; with
        ``out=`` (PyTorch takes it only beside ``stable=``, a bool), written into that int64
        tensor (resized where its shape differs)."""

    def topk(
        self,
        k: Any,
        dim: Any = ...,
        largest: Any = ...,
        sorted: Any = ...,
    ) -> _return_types.topk:
        """``(values, indices)`` of the ``k`` largest (or smallest) along ``dim``, largest first."""

    def kthvalue(self, k: Any, dim: Any = ..., keepdim: Any = ...) -> _return_types.kthvalue:
        """``(values, indices)`` of the ``k``-th smallest element along ``dim`` (1-based)."""

    def unique(
        self,
        sorted: Any = ...,
        return_inverse: Any = ...,
        return_counts: Any = ...,
        dim: Any = ...,
    ) -> Any:
        """The distinct values (sorted), with the inverse indices and counts when asked; with
        ``dim``, the distinct slices along it. No gradient (as PyTorch)."""

    def mv(self, vec: Any) -> Tensor:
        """Matrix (n, m) times vector (m,): shape (n,)."""

    def bmm(self, mat2: Any) -> Tensor:
        """Batched matrix product: (b, n, m) @ (b, m, p) is (b, n, p) (no broadcasting)."""

    def addmm(self, mat1: Any, mat2: Any, *, beta: Any = ..., alpha: Any = ...) -> Tensor:
        """``beta * input + alpha * (mat1 @ mat2)`` in one pass (``input`` broadcast; beta=0
        ignores it, NaN included): ``AddmmBackward0``."""

    def baddbmm(self, batch1: Any, batch2: Any, *, beta: Any = ..., alpha: Any = ...) -> Tensor:
        """``beta * input + alpha * bmm(batch1, batch2)`` in one pass: ``BaddbmmBackward0``."""

    def outer(self, vec2: Any) -> Tensor:
        """Outer product of two 1-D tensors: shape (n, m)."""

    def gather(self, dim: Any, index: Any, *, sparse_grad: Any = ...) -> Tensor:
        """``out[i][j] = input[index[i][j]][j]`` (for dim 0): values picked along ``dim``; the
        result has ``index``'s shape."""

    def scatter(
        self,
        dim: Any,
        index: Any,
        src: Any = ...,
        *,
        value: Any = ...,
        reduce: Any = ...,
    ) -> Tensor:
        """A copy of ``input`` with ``src`` (a tensor, or a number ``value``) written at
        ``index`` along ``dim`` (the inverse of ``gather``); ``reduce='add'``/``'multiply'``
        combine instead of writing."""

    def scatter_add(self, dim: Any, index: Any, src: Any) -> Tensor:
        """A copy of ``input`` with ``src`` added at ``index`` along ``dim`` (repeats add up)."""

    def index_select(self, dim: Any, index: Any) -> Tensor:
        """The slices of ``input`` at ``index`` (1-D int64) along ``dim``."""

    def index_add(self, dim: Any, index: Any, source: Any, *, alpha: Any = ...) -> Tensor:
        """A copy of ``input`` with ``alpha * source[j]`` added to slice ``index[j]`` along
        ``dim``."""

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        """``input`` with ``value`` (a number or 0-d tensor) where ``mask`` (bool, broadcast) is
        True."""

    def masked_select(self, mask: Any) -> Tensor:
        """The elements of ``input`` where ``mask`` (bool; both broadcast) is True, 1-D."""

    def nonzero(self, *, as_tuple: Any = ...) -> Any:
        """The indices of the nonzero elements: (n, ndim) int64, or one 1-D tensor per dim with
        ``as_tuple=True``."""

    def tril(self, diagonal: Any = ...) -> Tensor:
        """The lower triangle of the last two dims (on and below ``diagonal``), zeros above."""

    def triu(self, diagonal: Any = ...) -> Tensor:
        """The upper triangle of the last two dims (on and above ``diagonal``), zeros below."""

    def roll(self, shifts: Any, dims: Any = ...) -> Tensor:
        """Elements shifted by ``shifts`` along ``dims`` (cyclically); without dims, the
        flattened tensor is rolled and reshaped back."""

    def flip(self, *dims: Any, **kwargs: Any) -> Tensor:
        """``input`` reversed along each of ``dims`` (a tuple; the method also takes varargs)."""

    def repeat(self, *sizes: Any) -> Tensor:
        """``input`` tiled ``sizes[i]`` times along dim ``i`` (``sizes`` may add leading dims)."""

    def repeat_interleave(
        self,
        repeats: Any = ...,
        dim: Any = ...,
        *,
        output_size: Any = ...,
    ) -> Tensor:
        """Each element (or slice along ``dim``) repeated ``repeats`` times in a row;
        ``repeats`` may be a tensor (one count per element). ``repeat_interleave(counts)``
        alone gives ``arange(len(counts))`` repeated by the counts."""

    def tile(self, *dims: Any, **kwargs: Any) -> Tensor:
        """``repeat`` with ``dims`` (a tuple; the method also takes varargs) padded with leading
        ones to ``input.ndim``."""

    def split(self, split_size_or_sections: Any, dim: Any = ...) -> tuple[Tensor, ...]:
        """Pieces along ``dim``: of ``split_size`` each (the last may be smaller), or of the
        listed sizes (which must add up to the dim's size). Views that, as PyTorch's, may not be
        written in place while grad mode is on."""

    def chunk(self, chunks: Any, dim: Any = ...) -> tuple[Tensor, ...]:
        """At most ``chunks`` pieces of equal size (the last may be smaller) along ``dim``."""

    def unbind(self, dim: Any = ...) -> tuple[Tensor, ...]:
        """The slices along ``dim``, as a tuple (that dim removed)."""

    def narrow(self, dim: Any, start: Any, length: Any) -> Tensor:
        """The view of ``length`` elements from ``start`` along ``dim``."""

    def movedim(self, source: Any, destination: Any) -> Tensor:
        """``input`` with dims ``source`` moved to positions ``destination`` (the others keep
        their order)."""

    def moveaxis(self, source: Any, destination: Any) -> Tensor:
        """``input`` with dims ``source`` moved to positions ``destination`` (the others keep
        their order)."""

    def swapaxes(self, axis0: Any, axis1: Any) -> Tensor:
        """``input.transpose(axis0, axis1)`` (NumPy's name)."""

    def swapdims(self, dim0: Any, dim1: Any) -> Tensor:
        """``input.transpose(dim0, dim1)``."""

    def diag(self, diagonal: Any = ...) -> Tensor:
        """A 1-D tensor as the ``diagonal`` of a square matrix (zeros elsewhere), or the
        ``diagonal`` of a 2-D tensor."""

    def diagonal(self, offset: Any = ..., dim1: Any = ..., dim2: Any = ...) -> Tensor:
        """The diagonal (``offset`` above the main one) of the planes of ``dim1`` and ``dim2``,
        as the last dim of a view: writes through it reach this tensor."""

    def trace(self) -> Tensor:
        """The sum of the main diagonal of a 2-D tensor (integers give int64)."""

    def isclose(self, other: Any, rtol: Any = ..., atol: Any = ..., equal_nan: Any = ...) -> Tensor:
        """Elementwise ``|input - other| <= atol + rtol * |other|`` (equal infinities are close;
        NaNs only with ``equal_nan``): a bool tensor."""

    def allclose(
        self,
        other: Any,
        rtol: Any = ...,
        atol: Any = ...,
        equal_nan: Any = ...,
    ) -> builtins.bool:
        """Whether every element of ``input`` is close to ``other`` (see ``isclose``)."""

    def equal(self, other: Any) -> builtins.bool:
        """Whether the two tensors have the same shape and the same elements."""

    def cumsum_(self, *args: Any, **kwargs: Any) -> Self:
        """In-place ``cumsum``: writes the result into ``self`` and returns it."""

    def cumprod_(self, *args: Any, **kwargs: Any) -> Self:
        """In-place ``cumprod``: writes the result into ``self`` and returns it."""

    def scatter_(self, *args: Any, **kwargs: Any) -> Self:
        """In-place ``scatter``: writes the result into ``self`` and returns it."""

    def scatter_add_(self, *args: Any, **kwargs: Any) -> Self:
        """In-place ``scatter_add``: writes the result into ``self`` and returns it."""

    def index_add_(self, *args: Any, **kwargs: Any) -> Self:
        """In-place ``index_add``: writes the result into ``self`` and returns it."""

    def masked_fill_(self, mask: Tensor, value: Any) -> Self:
        """In-place ``masked_fill``: ``MaskedFillBackward0`` over ``self``'s history, as PyTorch."""

    def tril_(self, *args: Any, **kwargs: Any) -> Self:
        """In-place ``tril``: writes the result into ``self`` and returns it."""

    def triu_(self, *args: Any, **kwargs: Any) -> Self:
        """In-place ``triu``: writes the result into ``self`` and returns it."""

    # ----- torch.linalg's neighbours and more drop-in methods (issue 11) -----
    # (Python methods bound by rustgrad._ops; the functional forms are rustgrad.<name>)

    @property
    def mT(self) -> Tensor:
        """The last two dims swapped (``x.mT``; a batch of matrices transposed)."""

    @property
    def mH(self) -> Tensor:
        """The conjugate transpose of a batch of matrices (``x.mH``: ``x.mT`` for real dtypes)."""

    @property
    def volatile(self) -> builtins.bool:
        """Always False, with PyTorch's warning (``volatile`` was removed: use ``no_grad``)."""

    @property
    def is_sparse(self) -> builtins.bool:
        """False: rustgrad has no such tensors (is_sparse)."""

    @property
    def is_sparse_csr(self) -> builtins.bool:
        """False: rustgrad has no such tensors (is_sparse_csr)."""

    @property
    def is_quantized(self) -> builtins.bool:
        """False: rustgrad has no such tensors (is_quantized)."""

    @property
    def is_nested(self) -> builtins.bool:
        """False: rustgrad has no such tensors (is_nested)."""

    @property
    def is_mkldnn(self) -> builtins.bool:
        """False: rustgrad has no such tensors (is_mkldnn)."""

    @property
    def is_mps(self) -> builtins.bool:
        """False: rustgrad has no such tensors (is_mps)."""

    @property
    def is_xpu(self) -> builtins.bool:
        """False: rustgrad has no such tensors (is_xpu)."""

    @property
    def is_ipu(self) -> builtins.bool:
        """False: rustgrad has no such tensors (is_ipu)."""

    @property
    def is_maia(self) -> builtins.bool:
        """False: rustgrad has no such tensors (is_maia)."""

    @property
    def is_mtia(self) -> builtins.bool:
        """False: rustgrad has no such tensors (is_mtia)."""

    @property
    def is_vulkan(self) -> builtins.bool:
        """False: rustgrad has no such tensors (is_vulkan)."""

    @property
    def is_xla(self) -> builtins.bool:
        """False: rustgrad has no such tensors (is_xla)."""

    @property
    def layout(self) -> Any:
        """``torch.strided``: rustgrad's tensors are dense."""

    @property
    def output_nr(self) -> int:
        """Which output of its node this tensor is: 0 (rustgrad records one node per output)."""

    def is_shared(self) -> builtins.bool:
        """Whether the storage is in memory shared between processes: never (rustgrad has no
        ``torch.multiprocessing``; ``share_memory_`` leaves tensors in place)."""

    def share_memory_(self) -> Tensor:
        """PyTorch moves the storage to memory shared between processes; rustgrad, which has no
        multiprocessing of tensors, leaves it where it is and returns ``self``."""

    def __contains__(self, element: Any) -> builtins.bool:
        """``element in t``: whether any element of ``t`` equals ``element`` (a number or a
        tensor, broadcast), as PyTorch's ``(element == self).any()``."""

    @property
    def H(self) -> Tensor:
        """The conjugate transpose of a matrix (``x.H``: ``x.T`` for real dtypes, 0-d kept)."""

    def select(self, dim: Any, index: Any) -> Any:
        """The slice at ``index`` along ``dim``, that dim removed (a view)."""

    def isnan(self) -> Any:
        """Where the elements are NaN: a bool tensor (all False for integers)."""

    def isinf(self) -> Any:
        """Where the elements are +-inf: a bool tensor (all False for integers)."""

    def isfinite(self) -> Any:
        """Where the elements are neither inf nor NaN: a bool tensor (all True for integers)."""

    def nan_to_num(self, nan: Any = ..., posinf: Any = ..., neginf: Any = ...) -> Any:
        """NaN replaced by ``nan``, +inf by ``posinf`` and -inf by ``neginf`` (by default the
        dtype's largest and lowest finite values); the gradient flows where ``input`` is kept."""

    def nan_to_num_(self, *args: Any, **kwargs: Any) -> Self:
        """In-place ``nan_to_num``: writes the result into ``self`` and returns it."""

    def addcmul(self, tensor1: Any, tensor2: Any, *, value: Any = ...) -> Any:
        """``input + value * tensor1 * tensor2`` (broadcast; an integer result takes ``value``
        as an integer, as PyTorch)."""

    def addcmul_(self, *args: Any, **kwargs: Any) -> Self:
        """In-place ``addcmul``: writes the result into ``self`` and returns it."""

    def addcdiv(self, tensor1: Any, tensor2: Any, *, value: Any = ...) -> Any:
        """``input + value * tensor1 / tensor2`` (broadcast; integer division is PyTorch's
        RuntimeError)."""

    def addcdiv_(self, *args: Any, **kwargs: Any) -> Self:
        """In-place ``addcdiv``: writes the result into ``self`` and returns it."""

    def diag_embed(self, offset: Any = ..., dim1: Any = ..., dim2: Any = ...) -> Any:
        """Batches of (``offset``) diagonal matrices whose diagonals are the last dim of
        ``input``, in the output's dims ``dim1`` and ``dim2``. The diagonal is written into zeros
        (a product with an identity would turn an inf into NaN beside it)."""

    def det(self) -> Any:
        """The determinant of each square matrix (``linalg.det``)."""

    def logdet(self) -> Any:
        """The log of the determinant of each square matrix: NaN where it is negative, -inf
        where it is 0."""

    def slogdet(self) -> Any:
        """``(sign, logabsdet)`` of each square matrix (``linalg.slogdet``)."""

    def inverse(self) -> Any:
        """The inverse of each square matrix (``linalg.inv``)."""

    def matrix_power(self, n: Any) -> Any:
        """``input`` to the integer power ``n`` (``linalg.matrix_power``)."""

    def cross(self, other: Any, dim: Any = ...) -> Any:
        """The cross product of 3-vectors along ``dim`` (by default the first dim of size 3,
        with PyTorch's deprecation warning); the batch dims broadcast."""

    def clamp_min(self, min: Any) -> Any:
        """``clamp(input, min=min)``."""

    def clamp_max(self, max: Any) -> Any:
        """``clamp(input, max=max)``."""

    def clamp_min_(self, *args: Any, **kwargs: Any) -> Self:
        """In-place ``clamp_min``: writes the result into ``self`` and returns it."""

    def clamp_max_(self, *args: Any, **kwargs: Any) -> Self:
        """In-place ``clamp_max``: writes the result into ``self`` and returns it."""

    def clip_(self, min: Any = ..., max: Any = ...) -> Self:
        """Clip into ``[min, max]`` in place."""

    def dist(self, other: Any, p: Any = ...) -> Any:
        """The ``p``-norm of ``input - other`` (broadcast), a 0-d tensor."""

    def diff(self, n: Any = ..., dim: Any = ..., prepend: Any = ..., append: Any = ...) -> Any:
        """The ``n``-th forward difference along ``dim`` (``!=`` for bools), after joining
        ``prepend`` and ``append``."""

    def kron(self, other: Any) -> Any:
        """The Kronecker product (the fewer dims padded with leading 1s)."""

    def cummax(self, dim: Any) -> Any:
        """``(values, indices)`` of the running maximum along ``dim``."""

    def cummin(self, dim: Any) -> Any:
        """``(values, indices)`` of the running minimum along ``dim``."""

    def logcumsumexp(self, dim: Any) -> Any:
        """``log(cumsum(exp(input)))`` along ``dim``, without overflow: one
        ``LogcumsumexpBackward0`` node whose backward is PyTorch's formula."""

    def bincount(self, weights: Any = ..., minlength: Any = ...) -> Any:
        """Occurrences of each value 0..max of a 1-D non-negative integer tensor (sums of
        ``weights`` with them)."""

    def svd(self, some: Any = ..., compute_uv: Any = ...) -> Any:
        """``(U, S, V)`` with ``input = U diag(S) V^T`` (``V``, not ``Vh``; reduced with
        ``some``); ``compute_uv=False`` gives zero ``U`` and ``V``."""

    def pinverse(self, rcond: Any = ...) -> Any:
        """The pseudo-inverse (``linalg.pinv`` with ``rtol=rcond``)."""

    def qr(self, some: Any = ...) -> Any:
        """``(Q, R)`` (``linalg.qr``, ``'reduced'`` with ``some`` else ``'complete'``)."""

    def logical_and(self, other: Any) -> Any:
        """Elementwise ``input and other`` (nonzero is true): a bool tensor."""

    def logical_or(self, other: Any) -> Any:
        """Elementwise ``input or other`` (nonzero is true): a bool tensor."""

    def logical_xor(self, other: Any) -> Any:
        """Elementwise exclusive or (nonzero is true): a bool tensor."""

    def ravel(self) -> Any:
        """The elements as one dim: a view of a contiguous tensor, else a contiguous copy (as
        PyTorch's ``contiguous().view(-1)``, even where ``reshape`` could view)."""

    def count_nonzero(self, dim: Any = ...) -> Any:
        """The number of nonzero elements (over ``dim``): int64."""

    def nansum(self, dim: Any = ..., keepdim: Any = ..., *, dtype: Any = ...) -> Any:
        """The sum treating NaN as 0 (its gradient there is 0)."""

    def nanmean(self, dim: Any = ..., keepdim: Any = ..., *, dtype: Any = ...) -> Any:
        """The mean of the elements that are not NaN (NaN where all are)."""

    def rot90(self, k: Any = ..., dims: Any = ...) -> Any:
        """``input`` turned ``k`` quarter turns in the plane of ``dims`` (from the first dim
        towards the second)."""

    def fliplr(self) -> Any:
        """The columns in reverse order (dim 1; at least 2-D)."""

    def flipud(self) -> Any:
        """The rows in reverse order (dim 0; at least 1-D)."""

    def take_along_dim(self, indices: Any, dim: Any = ...) -> Any:
        """Elements picked along ``dim`` by ``indices`` (broadcast with ``input`` in the other
        dims); of the flattened input when ``dim`` is None."""

    def take(self, index: Any) -> Any:
        """The elements of the flattened ``input`` at ``index`` (negative counts from the end),
        shaped as ``index``."""

    def unflatten(self, dim: Any, sizes: Any) -> Any:
        """``dim`` split into ``sizes`` (one of them may be -1)."""

    def argwhere(self) -> Any:
        """The indices of the nonzero elements, one row each: (n, ndim) int64."""

    def is_nonzero(self) -> Any:
        """Whether the one element of ``input`` is nonzero."""

    def deg2rad(self) -> Any:
        """Degrees to radians (integers give the default float dtype)."""

    def rad2deg(self) -> Any:
        """Radians to degrees (integers give the default float dtype)."""

    def logit(self, eps: Any = ...) -> Any:
        """``log(p / (1 - p))``, ``p`` clamped into ``[eps, 1 - eps]`` when ``eps`` is given."""

    def xlogy(self, other: Any) -> Any:
        """``input * log(other)``, 0 where ``input`` is 0 (NaN where ``other`` is NaN)."""

    def tensor_split(self, indices_or_sections: Any, dim: Any = ...) -> Any:
        """Views of ``input`` cut along ``dim`` into ``n`` near-equal parts (the first ``size
        % n`` one longer) or at the given indices."""

    def hsplit(self, indices_or_sections: Any) -> Any:
        """``tensor_split`` along dim 1 (dim 0 of a 1-D tensor); sections must divide evenly."""

    def vsplit(self, indices_or_sections: Any) -> Any:
        """``tensor_split`` along dim 0 (at least 2-D); sections must divide evenly."""

    def dsplit(self, indices_or_sections: Any) -> Any:
        """``tensor_split`` along dim 2 (at least 3-D); sections must divide evenly."""

    def aminmax(self, *, dim: Any = ..., keepdim: Any = ...) -> Any:
        """``(min, max)`` of all elements, or along ``dim``."""

    def signbit(self) -> Any:
        """Where the sign bit is set (negative numbers, -0.0, NaNs with the sign): bool."""

    def copysign(self, other: Any) -> Any:
        """``|input|`` with the sign of ``other`` (its sign bit: -0.0 counts as negative).

        One node, PyTorch's ``CopysignBackward0`` (``CopysignBackward1`` for a number ``other``),
        with PyTorch's formulas: ``input`` gets ``grad * result / input`` (0 where ``input`` is
        0), ``other`` constant zeros (no history, even under ``create_graph``).
        """

    def isposinf(self) -> Any:
        """Where the elements are +inf: bool."""

    def isneginf(self) -> Any:
        """Where the elements are -inf: bool."""

    def isreal(self) -> Any:
        """Where the elements are real: all True (rustgrad has no complex dtypes)."""

    def float_power(self, exponent: Any) -> Any:
        """``input ** exponent`` computed in float64."""

    def sinc(self) -> Any:
        """``sin(pi x) / (pi x)``, 1 at 0, as one ``SincBackward0`` node."""

    # ----- branch nn2: new_* constructors, bitwise ops, in-place view changes -----

    def new_zeros(
        self,
        *size: Any,
        dtype: Any = ...,
        device: Any = ...,
        requires_grad: builtins.bool = ...,
        layout: Any = ...,
        pin_memory: builtins.bool = ...,
    ) -> Tensor:
        """Zeros of ``size``, with ``self``'s dtype and device unless given."""
    def new_ones(
        self,
        *size: Any,
        dtype: Any = ...,
        device: Any = ...,
        requires_grad: builtins.bool = ...,
        layout: Any = ...,
        pin_memory: builtins.bool = ...,
    ) -> Tensor:
        """Ones of ``size``, with ``self``'s dtype and device unless given."""
    def new_empty(
        self,
        *size: Any,
        dtype: Any = ...,
        device: Any = ...,
        requires_grad: builtins.bool = ...,
        layout: Any = ...,
        pin_memory: builtins.bool = ...,
    ) -> Tensor:
        """An uninitialised tensor of ``size`` (zeros here), with ``self``'s dtype and device."""
    def new_empty_strided(
        self,
        size: Any,
        stride: Any,
        *,
        dtype: Any = ...,
        device: Any = ...,
        requires_grad: builtins.bool = ...,
        layout: Any = ...,
        pin_memory: builtins.bool = ...,
    ) -> Tensor:
        """``empty_strided(size, stride)`` (zeros here), with ``self``'s dtype and device unless
        given."""
    def new_full(
        self,
        size: Any,
        fill_value: Any,
        *,
        dtype: Any = ...,
        device: Any = ...,
        requires_grad: builtins.bool = ...,
        layout: Any = ...,
        pin_memory: builtins.bool = ...,
    ) -> Tensor:
        """``fill_value`` everywhere in ``size``, with ``self``'s dtype and device unless given."""
    def new_tensor(
        self,
        data: Any,
        *,
        dtype: Any = ...,
        device: Any = ...,
        requires_grad: builtins.bool = ...,
        layout: Any = ...,
        pin_memory: builtins.bool = ...,
    ) -> Tensor:
        """A copy of ``data`` with ``self``'s dtype and device unless given (no history)."""
    def bitwise_and(self, other: Any) -> Tensor:
        """Elementwise ``bitwise_and`` of integer or bool tensors (broadcast, promoted)."""
    def bitwise_or(self, other: Any) -> Tensor:
        """Elementwise ``bitwise_or`` of integer or bool tensors (broadcast, promoted)."""
    def bitwise_xor(self, other: Any) -> Tensor:
        """Elementwise ``bitwise_xor`` of integer or bool tensors (broadcast, promoted)."""
    def bitwise_not(self) -> Tensor:
        """Elementwise ``~``: logical not of bools, two's-complement not of integers."""
    def bitwise_and_(self, other: Any = ...) -> Self:
        """In-place ``bitwise_and``: writes the result into ``self`` and returns it."""
    def bitwise_or_(self, other: Any = ...) -> Self:
        """In-place ``bitwise_or``: writes the result into ``self`` and returns it."""
    def bitwise_xor_(self, other: Any = ...) -> Self:
        """In-place ``bitwise_xor``: writes the result into ``self`` and returns it."""
    def bitwise_not_(self, other: Any = ...) -> Self:
        """In-place ``bitwise_not``: writes the result into ``self`` and returns it."""
    def __iand__(self, other: Tensor | builtins.int | None = ...) -> Self:
        """In-place ``bitwise_and``: writes the result into ``self`` and returns it."""
    def __ior__(self, other: Tensor | builtins.int | None = ...) -> Self:
        """In-place ``bitwise_or``: writes the result into ``self`` and returns it."""
    def __ixor__(self, other: Tensor | builtins.int | None = ...) -> Self:
        """In-place ``bitwise_xor``: writes the result into ``self`` and returns it."""
    def bitwise_left_shift(self, other: Any) -> Tensor:
        """Elementwise ``bitwise_left_shift`` of integer or bool tensors (broadcast, promoted)."""
    def bitwise_right_shift(self, other: Any) -> Tensor:
        """Elementwise ``bitwise_right_shift`` of integer or bool tensors (broadcast, promoted)."""
    def bitwise_left_shift_(self, other: Any = ...) -> Self:
        """In-place ``bitwise_left_shift``: writes the result into ``self`` and returns it."""
    def bitwise_right_shift_(self, other: Any = ...) -> Self:
        """In-place ``bitwise_right_shift``: writes the result into ``self`` and returns it."""
    def __lshift__(self, other: Tensor | builtins.int) -> Tensor: ...
    def __rlshift__(self, other: Tensor | builtins.int) -> Tensor: ...
    def __rshift__(self, other: Tensor | builtins.int) -> Tensor: ...
    def __rrshift__(self, other: Tensor | builtins.int) -> Tensor: ...
    def __ilshift__(self, other: Tensor | builtins.int | None = ...) -> Self:
        """In-place ``bitwise_left_shift``: writes the result into ``self`` and returns it."""
    def __irshift__(self, other: Tensor | builtins.int | None = ...) -> Self:
        """In-place ``bitwise_right_shift``: writes the result into ``self`` and returns it."""
    def unsqueeze_(self, dim: builtins.int) -> Self:
        """In place: ``self`` becomes ``self.unsqueeze(dim)``."""
    def squeeze_(self, dim: Any = ...) -> Self:
        """In place: ``self`` becomes ``self.squeeze(dim)``."""
    def t_(self) -> Self:
        """In place: ``self`` becomes ``self.t()``."""
    def transpose_(self, dim0: builtins.int, dim1: builtins.int) -> Self:
        """In place: ``self`` becomes ``self.transpose(dim0, dim1)`` (also ``swapaxes_``,
        ``swapdims_``)."""
    def swapaxes_(self, dim0: builtins.int, dim1: builtins.int) -> Self:
        """In place: ``self`` becomes ``self.transpose(dim0, dim1)`` (also ``swapaxes_``,
        ``swapdims_``)."""
    def swapdims_(self, dim0: builtins.int, dim1: builtins.int) -> Self:
        """In place: ``self`` becomes ``self.transpose(dim0, dim1)`` (also ``swapaxes_``,
        ``swapdims_``)."""

    # ----- elementwise math of issue 11 -----

    def tan(self) -> Tensor:
        """Elementwise tangent, in radians (same shape)."""
    def asin(self) -> Tensor:
        """Elementwise arcsine (same shape; NaN outside ``[-1, 1]``)."""
    def acos(self) -> Tensor:
        """Elementwise arccosine (same shape; NaN outside ``[-1, 1]``)."""
    def atan(self) -> Tensor:
        """Elementwise arctangent (same shape)."""
    def sinh(self) -> Tensor:
        """Elementwise hyperbolic sine (same shape)."""
    def cosh(self) -> Tensor:
        """Elementwise hyperbolic cosine (same shape)."""
    def asinh(self) -> Tensor:
        """Elementwise inverse hyperbolic sine (same shape)."""
    def acosh(self) -> Tensor:
        """Elementwise inverse hyperbolic cosine (same shape; NaN below 1)."""
    def atanh(self) -> Tensor:
        """Elementwise inverse hyperbolic tangent (same shape; NaN outside ``[-1, 1]``)."""
    def erf(self) -> Tensor:
        """Elementwise error function (same shape)."""
    def erfc(self) -> Tensor:
        """Elementwise complementary error function ``1 - erf(self)`` (same shape)."""
    def erfinv(self) -> Tensor:
        """Elementwise inverse error function (same shape; NaN outside ``[-1, 1]``)."""
    def lgamma(self) -> Tensor:
        """Elementwise ``ln |Γ(self)|`` (same shape)."""
    def digamma(self) -> Tensor:
        """Elementwise digamma ``ψ(self)``, the derivative of ``lgamma`` (same shape)."""
    def polygamma(self, n: int) -> Tensor:
        """Elementwise ``ψ⁽ⁿ⁾(self)``, the ``n``-th derivative of ``digamma`` (``n >= 0``)."""
    def log2(self) -> Tensor:
        """Elementwise base-2 logarithm (same shape)."""
    def log10(self) -> Tensor:
        """Elementwise base-10 logarithm (same shape)."""
    def log1p(self) -> Tensor:
        """Elementwise ``log(1 + self)``, accurate near 0 (same shape)."""
    def expm1(self) -> Tensor:
        """Elementwise ``exp(self) - 1``, accurate near 0 (same shape)."""
    def exp2(self) -> Tensor:
        """Elementwise ``2 ** self`` (same shape)."""
    def rsqrt(self) -> Tensor:
        """Elementwise ``1 / sqrt(self)`` (same shape)."""
    def reciprocal(self) -> Tensor:
        """Elementwise ``1 / self`` (same shape; integers give floats)."""
    def square(self) -> Tensor:
        """Elementwise ``self * self`` (same shape; bool gives int64)."""
    def sign(self) -> Tensor:
        """Elementwise sign: -1, 0 or 1 (same shape and dtype; 0 at NaN, as PyTorch)."""
    def floor(self) -> Tensor:
        """Elementwise largest whole number ``<= self`` (same shape and dtype)."""
    def ceil(self) -> Tensor:
        """Elementwise smallest whole number ``>= self`` (same shape and dtype)."""
    def trunc(self) -> Tensor:
        """Elementwise whole part, rounded toward zero (same shape and dtype)."""
    def frac(self) -> Tensor:
        """Elementwise fractional part ``self - trunc(self)`` (same shape; floats)."""
    def round(self, decimals: int = 0) -> Tensor:
        """Elementwise rounding to the nearest whole number, ties to even (same shape and dtype);
        ``decimals`` rounds to that many decimal places (negative: tens, hundreds, ...)."""
    def round_(self, decimals: int = 0) -> Self:
        """``round(decimals)`` in place."""
    def tan_(self) -> Self:
        """``tan()`` in place."""
    def asin_(self) -> Self:
        """``asin()`` in place."""
    def acos_(self) -> Self:
        """``acos()`` in place."""
    def atan_(self) -> Self:
        """``atan()`` in place."""
    def sinh_(self) -> Self:
        """``sinh()`` in place."""
    def cosh_(self) -> Self:
        """``cosh()`` in place."""
    def asinh_(self) -> Self:
        """``asinh()`` in place."""
    def acosh_(self) -> Self:
        """``acosh()`` in place."""
    def atanh_(self) -> Self:
        """``atanh()`` in place."""
    def erf_(self) -> Self:
        """``erf()`` in place."""
    def erfc_(self) -> Self:
        """``erfc()`` in place."""
    def erfinv_(self) -> Self:
        """``erfinv()`` in place."""
    def lgamma_(self) -> Self:
        """``lgamma()`` in place."""
    def digamma_(self) -> Self:
        """``digamma()`` in place."""
    def polygamma_(self, n: int) -> Self:
        """``polygamma(n)`` in place."""
    def log2_(self) -> Self:
        """``log2()`` in place."""
    def log10_(self) -> Self:
        """``log10()`` in place."""
    def log1p_(self) -> Self:
        """``log1p()`` in place."""
    def expm1_(self) -> Self:
        """``expm1()`` in place."""
    def exp2_(self) -> Self:
        """``exp2()`` in place."""
    def rsqrt_(self) -> Self:
        """``rsqrt()`` in place."""
    def reciprocal_(self) -> Self:
        """``reciprocal()`` in place."""
    def square_(self) -> Self:
        """``square()`` in place."""
    def sign_(self) -> Self:
        """``sign()`` in place."""
    def floor_(self) -> Self:
        """``floor()`` in place."""
    def ceil_(self) -> Self:
        """``ceil()`` in place."""
    def trunc_(self) -> Self:
        """``trunc()`` in place."""
    def frac_(self) -> Self:
        """``frac()`` in place."""
    def neg_(self) -> Self:
        """``neg()`` in place."""
    def abs_(self) -> Self:
        """``abs()`` in place."""
    def exp_(self) -> Self:
        """``exp()`` in place."""
    def log_(self) -> Self:
        """``log()`` in place."""
    def sqrt_(self) -> Self:
        """``sqrt()`` in place."""
    def tanh_(self) -> Self:
        """``tanh()`` in place."""
    def sin_(self) -> Self:
        """``sin()`` in place."""
    def cos_(self) -> Self:
        """``cos()`` in place."""
    def sigmoid_(self) -> Self:
        """``sigmoid()`` in place."""
    def relu_(self) -> Self:
        """``relu()`` in place."""
    def atan2(self, other: Tensor) -> Tensor:
        """Elementwise arctangent of ``self / other`` in the correct quadrant (broadcast shape)."""
    def hypot(self, other: Tensor) -> Tensor:
        """Elementwise ``sqrt(self ** 2 + other ** 2)`` (broadcast shape)."""
    def logaddexp(self, other: Tensor) -> Tensor:
        """Elementwise ``log(exp(self) + exp(other))`` without overflow (broadcast shape)."""
    def logaddexp2(self, other: Tensor) -> Tensor:
        """``log2(2 ** input + 2 ** other)`` without overflow, as PyTorch's kernel: ``max +
        log2(1 + 2 ** -|input - other|)``, and ``input`` where both are the same infinity."""
    def heaviside(self, values: Tensor) -> Tensor:
        """The Heaviside step: ``values`` where ``input`` is 0, else ``input > 0`` (0 at NaN),
        in ``input``'s dtype (both must have it); no gradient."""
    def heaviside_(self, values: Tensor) -> Self:
        """In-place :func:`heaviside`."""
    def gcd(self, other: Tensor) -> Tensor:
        """The greatest common divisor of integer elements (non-negative; ``gcd(0, 0) = 0``)."""
    def gcd_(self, other: Tensor) -> Self:
        """In-place :func:`gcd`."""
    def lcm(self, other: Tensor) -> Tensor:
        """The least common multiple of integer elements (non-negative; 0 if either is 0)."""
    def lcm_(self, other: Tensor) -> Self:
        """In-place :func:`lcm`."""
    def ldexp(self, other: Tensor) -> Tensor:
        """``input * 2 ** other`` (floating: an integer ``input`` gives the default dtype)."""
    def ldexp_(self, other: Tensor) -> Self:
        """In-place :func:`ldexp`."""
    def hardshrink(self, lambd: builtins.float = 0.5) -> Tensor:
        """``input`` where ``input > lambd`` or ``input < -lambd``, else 0, elementwise."""
    def atan2_(self, other: Tensor) -> Self:
        """``atan2(other)`` in place; ``other`` broadcasts to ``self``'s shape."""
    def hypot_(self, other: Tensor) -> Self:
        """``hypot(other)`` in place; ``other`` broadcasts to ``self``'s shape."""
    def fmod(self, other: _Operand) -> Tensor:
        """Elementwise remainder of ``self / other`` with ``self``'s sign (C's ``fmod``; broadcast shape)."""
    def fmod_(self, other: _Operand) -> Self:
        """``fmod(other)`` in place; ``other`` broadcasts to ``self``'s shape."""
    def remainder(self, other: _Operand) -> Tensor:
        """Elementwise remainder of ``self / other`` with ``other``'s sign (Python's ``%``; broadcast shape)."""
    def remainder_(self, other: _Operand) -> Self:
        """``remainder(other)`` in place; ``other`` broadcasts to ``self``'s shape."""
    def floor_divide(self, other: _Operand) -> Tensor:
        """Elementwise ``floor(self / other)`` (Python's ``//``; broadcast shape). Integer division by zero raises RuntimeError."""
    def floor_divide_(self, other: _Operand) -> Self:
        """``floor_divide(other)`` in place; ``other`` broadcasts to ``self``'s shape."""
    def lerp(self, end: Tensor, weight: Tensor | builtins.float) -> Tensor:
        """``self + weight * (end - self)`` (broadcast shape); ``weight`` a tensor or a number."""
    def lerp_(self, end: Tensor, weight: Tensor | builtins.float) -> Self:
        """``lerp(end, weight)`` in place."""
    def __mod__(self, other: _Operand, /) -> Tensor: ...
    def __rmod__(self, other: _Operand, /) -> Tensor: ...
    def __floordiv__(self, other: _Operand, /) -> Tensor: ...
    def __rfloordiv__(self, other: _Operand, /) -> Tensor: ...
    def __imod__(self, other: _Operand, /) -> Self: ...
    def __ifloordiv__(self, other: _Operand, /) -> Self:
        ...

        # ----- creation ---------------------------------------------------------------------------------

        # PyTorch's other names for ops (rustgrad._ALIASES)

    absolute = abs
    absolute_ = abs_
    negative = neg
    negative_ = neg_
    # ----- python/rustgrad/_math.py -----
    def mvlgamma(self, p: int) -> Tensor:
        """The log of the multivariate gamma function of dimension ``p``, elementwise (one
        ``MvlgammaBackward0`` node, as PyTorch records it)."""

    def mvlgamma_(self, p: int) -> Tensor:
        """``mvlgamma(p)`` in place (computed on a copy, so the node's saved input is not the
        tensor overwritten)."""

    # ----- python/rustgrad/_ops_extra.py -----
    def addbmm(self, batch1: Any, batch2: Any, *, beta: Any = ..., alpha: Any = ...) -> Any:
        """``beta * input + alpha * sum_b(batch1[b] @ batch2[b])``."""

    def addbmm_(self, *args: Any, **kwargs: Any) -> Any:
        """In-place ``addbmm``: writes the result into ``self`` and returns it."""

    def addmm_(self, *args: Any, **kwargs: Any) -> Any:
        """In-place ``addmm``: writes the result into ``self`` and returns it."""

    def addmv(self, mat: Any, vec: Any, *, beta: Any = ..., alpha: Any = ...) -> Any:
        """``beta * input + alpha * (mat @ vec)`` (``beta == 0`` ignores ``input``, NaN
        included)."""

    def addmv_(self, *args: Any, **kwargs: Any) -> Any:
        """In-place ``addmv``: writes the result into ``self`` and returns it."""

    def addr(self, vec1: Any, vec2: Any, *, beta: Any = ..., alpha: Any = ...) -> Any:
        """``beta * input + alpha * outer(vec1, vec2)``."""

    def addr_(self, *args: Any, **kwargs: Any) -> Any:
        """In-place ``addr``: writes the result into ``self`` and returns it."""

    def baddbmm_(self, *args: Any, **kwargs: Any) -> Any:
        """In-place ``baddbmm``: writes the result into ``self`` and returns it."""

    def bernoulli(self, p: Any = ..., *, generator: Any = ...) -> Any:
        """0/1 samples with probability ``self`` (or ``p``), of ``self``'s shape and dtype."""

    def broadcast_to(self, size: Any) -> Any:
        """``input`` expanded to ``size`` (a view; -1 keeps a dim), as ``expand``."""

    def conj(self) -> Any:
        """The complex conjugate: ``input`` itself for real dtypes (rustgrad has no complex)."""

    def conj_physical(self) -> Any:
        """The conjugate: ``input`` itself for real dtypes, as PyTorch."""

    def is_pinned(self, device: Any = None) -> builtins.bool:
        """Whether the tensor is in page-locked host memory (made by ``pin_memory``)."""

    def pin_memory(self, device: Any = None) -> Tensor:
        """A copy in page-locked host memory, which the GPU reads in place (no staging copy);
        the tensor itself when it is pinned already. PyTorch's errors without an accelerator and
        for a tensor that is not on the CPU."""

    def copysign_(self, other: Any) -> Any:
        """In-place ``copysign``: one ``CopysignBackward`` node, as PyTorch's, which reads a copy
        of ``self``'s old values."""

    def corrcoef(self) -> Any:
        """Pearson's correlation coefficients of the variables in ``input``'s rows, clipped to
        [-1, 1] as PyTorch's."""

    def cov(self, *, correction: Any = ..., fweights: Any = ..., aweights: Any = ...) -> Any:
        """The covariance matrix of the variables in ``input``'s rows (observations in columns;
        a 1-D input is one variable), with ``correction`` and optional integer frequency
        weights ``fweights`` and float observation weights ``aweights``, as PyTorch's."""

    def deg2rad_(self, *args: Any, **kwargs: Any) -> Any:
        """In-place ``deg2rad``: writes the result into ``self`` and returns it."""

    def diagflat(self, offset: Any = ...) -> Any:
        """A 2-D tensor with the flattened ``input`` on diagonal ``offset``."""

    def eq_(self, *args: Any, **kwargs: Any) -> Any:
        """In-place ``eq``: writes the result into ``self`` and returns it."""

    def fill_diagonal_(self, fill_value: Any, wrap: Any = ...) -> Any:
        """Writes ``fill_value`` on the main diagonal of ``self`` (2-D, or every dim of one
        length); ``wrap`` continues down a tall matrix every ``columns + 1`` rows, as NumPy's."""

    def fmax(self, other: Any) -> Any:
        """The elementwise maximum ignoring NaN (NaN only where both are). The gradient goes
        to ``input`` where it is chosen, ties included, as PyTorch's."""

    def fmin(self, other: Any) -> Any:
        """The elementwise minimum ignoring NaN (NaN only where both are), as :func:`fmax`."""

    def ge_(self, *args: Any, **kwargs: Any) -> Any:
        """In-place ``ge``: writes the result into ``self`` and returns it."""

    def ger(self, vec2: Any) -> Any:
        """The outer product, as ``outer``."""

    def get_device(self) -> Any:
        """The CUDA device ordinal of a CUDA tensor; -1 on the CPU (and for meta tensors)."""

    def greater_(self, *args: Any, **kwargs: Any) -> Any:
        """In-place ``greater``: writes the result into ``self`` and returns it."""

    def greater_equal_(self, *args: Any, **kwargs: Any) -> Any:
        """In-place ``greater_equal``: writes the result into ``self`` and returns it."""

    def gt_(self, *args: Any, **kwargs: Any) -> Any:
        """In-place ``gt``: writes the result into ``self`` and returns it."""

    @property
    def imag(self) -> Any:
        """The imaginary part: PyTorch's error for real dtypes (rustgrad has no complex)."""

    def index_copy(self, dim: Any, index: Any, source: Any) -> Any:
        """A copy of ``input`` with slice ``j`` of ``source`` along ``dim`` written at slice
        ``index[j]``."""

    def index_copy_(self, *args: Any, **kwargs: Any) -> Any:
        """In-place ``index_copy``: writes the result into ``self`` and returns it."""

    def index_fill(self, dim: Any, index: Any, value: Any) -> Any:
        """A copy of ``input`` with the slices ``index`` along ``dim`` set to ``value`` (a number
        or a 0-d tensor, which then gets their gradient)."""

    def index_fill_(self, *args: Any, **kwargs: Any) -> Any:
        """In-place ``index_fill``: writes the result into ``self`` and returns it."""

    def index_put(self, indices: Any, values: Any, accumulate: Any = ...) -> Any:
        """A copy of ``input`` with ``values`` written (or, with ``accumulate``, added: repeats
        add up) at the elements the tuple of index tensors ``indices`` addresses, as
        ``input[indices] = values``."""

    def index_put_(self, indices: Any, values: Any, accumulate: Any = False) -> Any:
        """In-place ``index_put``: writes the result into ``self`` and returns it."""

    def inner(self, other: Any) -> Any:
        """The sum of products over the last dims (``input * other`` when either is 0-d)."""

    def is_complex(self) -> Any:
        """False: rustgrad has no complex dtypes."""

    def is_conj(self) -> Any:
        """False: no tensor carries a pending conjugation."""

    @property
    def is_cpu(self) -> Any:
        """Whether on the CPU."""

    def is_neg(self) -> Any:
        """False: no tensor carries a pending negation."""

    def is_same_size(self, other: Any) -> Any:
        """Whether the two shapes are equal."""

    def is_signed(self) -> Any:
        """Whether the dtype holds negative values (every dtype but bool and uint8)."""

    @property
    def itemsize(self) -> Any:
        """Bytes per element."""

    def le_(self, *args: Any, **kwargs: Any) -> Any:
        """In-place ``le``: writes the result into ``self`` and returns it."""

    def less_(self, *args: Any, **kwargs: Any) -> Any:
        """In-place ``less``: writes the result into ``self`` and returns it."""

    def less_equal_(self, *args: Any, **kwargs: Any) -> Any:
        """In-place ``less_equal``: writes the result into ``self`` and returns it."""

    def logical_and_(self, *args: Any, **kwargs: Any) -> Any:
        """In-place ``logical_and``: writes the result into ``self`` and returns it."""

    def logical_not_(self, *args: Any, **kwargs: Any) -> Any:
        """In-place ``logical_not``: writes the result into ``self`` and returns it."""

    def logical_or_(self, *args: Any, **kwargs: Any) -> Any:
        """In-place ``logical_or``: writes the result into ``self`` and returns it."""

    def logical_xor_(self, *args: Any, **kwargs: Any) -> Any:
        """In-place ``logical_xor``: writes the result into ``self`` and returns it."""

    def logit_(self, *args: Any, **kwargs: Any) -> Any:
        """In-place ``logit``: writes the result into ``self`` and returns it."""

    def lt_(self, *args: Any, **kwargs: Any) -> Any:
        """In-place ``lt``: writes the result into ``self`` and returns it."""

    def masked_scatter(self, mask: Any, source: Any) -> Any:
        """A copy of ``input`` with ``source``'s leading elements written, in order, where
        ``mask`` (broadcast to ``input``) is True."""

    def masked_scatter_(self, *args: Any, **kwargs: Any) -> Any:
        """In-place ``masked_scatter``: writes the result into ``self`` and returns it."""

    def msort(self) -> Any:
        """``input`` sorted along dim 0; with ``out=``, written into that tensor (of the same
        dtype, resized where its shape differs, as PyTorch's ``sort.values``)."""

    def nanquantile(
        self, q: Any, dim: Any = ..., keepdim: Any = ..., *, interpolation: Any = ...
    ) -> Any:
        """:func:`quantile` ignoring NaN (NaN only where a slice is all NaN)."""

    @property
    def nbytes(self) -> Any:
        """Bytes the elements take."""

    def ndimension(self) -> Any:
        """The number of dims, as ``dim()``."""

    def ne_(self, *args: Any, **kwargs: Any) -> Any:
        """In-place ``ne``: writes the result into ``self`` and returns it."""

    def new(self, *args: Any, **kwargs: Any) -> Any:
        """The legacy constructor in ``self``'s dtype and device: ``x.new()`` (empty),
        ``x.new(2, 3)`` or ``x.new(torch.Size([2, 3]))`` (a shape, uninitialised: zeros here) or
        ``x.new([1, 2])`` (data)."""

    def not_equal_(self, *args: Any, **kwargs: Any) -> Any:
        """In-place ``not_equal``: writes the result into ``self`` and returns it."""

    def positive(self) -> Any:
        """``input`` itself (unary ``+``); PyTorch's error for bool."""

    def pow_(self, *args: Any, **kwargs: Any) -> Any:
        """In-place ``pow``: writes the result into ``self`` and returns it."""
    def quantile(
        self, q: Any, dim: Any = ..., keepdim: Any = ..., *, interpolation: Any = ...
    ) -> Any:
        """The ``q``-th quantiles (a number or a 1-D tensor in [0, 1]) over ``dim`` (all if
        None), interpolating between order statistics as ``interpolation`` says; NaN where a
        slice has NaN. Gradients flow to the order statistics used."""

    def rad2deg_(self, *args: Any, **kwargs: Any) -> Any:
        """In-place ``rad2deg``: writes the result into ``self`` and returns it."""

    @property
    def real(self) -> Any:
        """The real part: ``input`` itself for real dtypes."""

    def resolve_conj(self) -> Any:
        """``input`` with a pending conjugation applied: ``input`` itself for real dtypes."""

    def resolve_neg(self) -> Any:
        """``input`` with a pending negation applied: ``input`` itself (rustgrad has none)."""

    def sgn(self) -> Any:
        """The sign, as ``sign`` (for real dtypes ``sgn`` is ``sign``)."""

    def sgn_(self, *args: Any, **kwargs: Any) -> Any:
        """In-place ``sgn``: writes the result into ``self`` and returns it."""

    def sinc_(self, *args: Any, **kwargs: Any) -> Any:
        """In-place ``sinc``: writes the result into ``self`` and returns it."""

    def split_with_sizes(self, split_sizes: Any, dim: Any = ...) -> Any:
        """``input`` split along ``dim`` into pieces of the given sizes (which must add up)."""

    def unsafe_split(self, split_size: Any, dim: Any = ...) -> tuple[Tensor, ...]:
        """``split``, with pieces that may be written in place (PyTorch's unsafe variant: the
        caller vouches that no gradient needs the other pieces)."""

    def unsafe_chunk(self, chunks: Any, dim: Any = ...) -> tuple[Tensor, ...]:
        """``chunk``, with pieces that may be written in place (see ``unsafe_split``)."""

    def unsafe_split_with_sizes(self, split_sizes: Any, dim: Any = ...) -> tuple[Tensor, ...]:
        """``split_with_sizes``, with pieces that may be written in place (see
        ``unsafe_split``)."""

    def sum_to_size(self, *size: Any) -> Any:
        """``self`` summed over the dims that ``size`` broadcasts to ``self``'s shape (the
        reverse of ``expand``)."""

    def type_as(self, other: Any) -> Any:
        """``self`` in ``other``'s dtype and on its device (``self`` itself when they match)."""

    def vdot(self, other: Any) -> Any:
        """The dot product of two 1-D tensors (conjugating the first: nothing for real dtypes)."""

    def where(self, condition: Any, y: Any) -> Any:
        """``where(condition, self, y)``."""

    def xlogy_(self, *args: Any, **kwargs: Any) -> Any:
        """In-place ``xlogy``: writes the result into ``self`` and returns it."""

    multiply = mul
    multiply_ = mul_
    subtract = sub
    subtract_ = sub_
    divide = div
    divide_ = div_
    true_divide = div
    true_divide_ = div_
    greater = gt
    greater_equal = ge
    less = lt
    less_equal = le
    not_equal = ne
    fix = trunc
    fix_ = trunc_
    arccos = acos
    arccos_ = acos_
    arcsin = asin
    arcsin_ = asin_
    arctan = atan
    arctan_ = atan_
    arccosh = acosh
    arccosh_ = acosh_
    arcsinh = asinh
    arcsinh_ = asinh_
    arctanh = atanh
    arctanh_ = atanh_
    arctan2 = atan2
    arctan2_ = atan2_

    # ----- python/rustgrad/_ops_more.py -----
    def scatter_reduce(
        self, dim: Any, index: Any, src: Any, reduce: Any, *, include_self: Any = ...
    ) -> Any:
        """A copy of ``input`` with the elements of ``src`` reduced into the positions ``index``
        names along ``dim`` (as ``scatter``): ``reduce`` ``"sum"``, ``"prod"``, ``"mean"``,
        ``"amax"`` or ``"amin"``, counting ``input``'s own value unless ``include_self=False``."""

    def scatter_reduce_(
        self, dim: Any, index: Any, src: Any, reduce: Any, *, include_self: Any = ...
    ) -> Any:
        """In-place ``scatter_reduce``: writes the result into ``self`` and returns it."""

    def histc(self, bins: Any = ..., min: Any = ..., max: Any = ...) -> Any:
        """Counts of ``input``'s elements in ``bins`` equal bins over ``[min, max]`` (the data's
        own range when ``min == max``); elements outside (and NaN) are not counted, the last bin
        includes its right edge. In ``input``'s dtype; no gradient."""

    def mode(self, dim: Any = ..., keepdim: Any = ...) -> Any:
        """``(values, indices)``: the most frequent value along ``dim`` (the smallest among the
        most frequent) and an index of it, PyTorch's CPU choice among the equal ones."""

def tensor(
    data: _Data,
    dtype: _DTypeArg | None = None,
    device: _DeviceArg | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """A new leaf tensor copied from ``data``; its shape is the nesting of ``data``.

    The dtype is inferred as PyTorch does (bool, then int64, then float32; NumPy arrays keep
    their dtype) unless ``dtype`` is given.
    """

def _debug_panic(message: str) -> None:
    """A test hook: a call into the core that panics inside ``gil::run``, as an internal bug
    would; it raises ``RuntimeError`` naming ``debug_panic`` (no panic reaches Python)."""

def from_numpy(arr: NDArray[Any]) -> Tensor:
    """A tensor of ``arr``'s shape and values.

    It shares ``arr``'s memory when ``arr`` is C-contiguous, aligned and writeable with dtype
    float32, float64, int64 or bool; otherwise it is a copy (other integer dtypes become int64,
    other float dtypes float32).
    """

@overload
def zeros(
    *shape: int,
    size: None = None,
    dtype: _DTypeArg | None = None,
    device: _DeviceArg | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """Zeros of shape ``size`` (the default float dtype unless given): ``zeros(2, 3)``,
    ``zeros((2, 3))`` or ``zeros(size=(2, 3))``."""

@overload
def zeros(
    shape: Sequence[int],
    /,
    *,
    dtype: _DTypeArg | None = None,
    device: _DeviceArg | None = None,
    requires_grad: bool = False,
) -> Tensor: ...
@overload
def zeros(
    *,
    size: int | Sequence[int],
    dtype: _DTypeArg | None = None,
    device: _DeviceArg | None = None,
    requires_grad: bool = False,
) -> Tensor: ...
def empty_strided(
    size: Sequence[int],
    stride: Sequence[int],
    *,
    dtype: _DTypeArg | None = None,
    device: _DeviceArg | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """A tensor of shape ``size`` whose elements lie ``stride`` apart in its memory (PyTorch's
    ``empty_strided``; the memory, up to the farthest element, holds zeros here), e.g.
    ``empty_strided((2, 3), (1, 2))``: column-major."""

@overload
def ones(
    *shape: int,
    size: None = None,
    dtype: _DTypeArg | None = None,
    device: _DeviceArg | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """Ones of shape ``size`` (the default float dtype unless given): ``ones(2, 3)``,
    ``ones((2, 3))`` or ``ones(size=(2, 3))``."""

@overload
def ones(
    shape: Sequence[int],
    /,
    *,
    dtype: _DTypeArg | None = None,
    device: _DeviceArg | None = None,
    requires_grad: bool = False,
) -> Tensor: ...
@overload
def ones(
    *,
    size: int | Sequence[int],
    dtype: _DTypeArg | None = None,
    device: _DeviceArg | None = None,
    requires_grad: bool = False,
) -> Tensor: ...
def full(
    size: int | Sequence[int],
    fill_value: _Number,
    dtype: _DTypeArg | None = None,
    device: _DeviceArg | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """``fill_value`` in every element of shape ``size``; the dtype follows the value's type
    (bool, int64, float32) unless given."""

def full_like(
    input: Tensor,
    fill_value: _Number,
    dtype: _DTypeArg | None = None,
    device: _DeviceArg | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """``fill_value`` in ``input``'s shape, dtype and device (unless given)."""

def arange(
    start: _Number | None = None,
    end: _Number | None = None,
    step: _Number | None = None,
    dtype: _DTypeArg | None = None,
    device: _DeviceArg | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """``[start, end)`` in steps of ``step``, shape ``(ceil((end - start) / step),)``.

    ``arange(n)`` is ``0..n``. int64 when all bounds are ints, else float32.
    """

def linspace(
    start: float,
    end: float,
    steps: int,
    dtype: _DTypeArg | None = None,
    device: _DeviceArg | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive, shape ``(steps,)``
    (float32 by default)."""

def eye(
    n: int,
    m: int | None = None,
    dtype: _DTypeArg | None = None,
    device: _DeviceArg | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """Identity matrix of shape ``(n, m)`` (``m`` defaults to ``n``; float32 by default)."""

@overload
def rand(
    *shape: int,
    size: None = None,
    generator: Generator | None = None,
    dtype: _DTypeArg | None = None,
    device: _DeviceArg | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """Uniform samples in ``[0, 1)`` of shape ``size`` (the default float dtype unless given):
    ``rand(2, 3)``, ``rand((2, 3))`` or ``rand(size=(2, 3))``; ``generator=`` draws from that
    generator instead of the default one."""

@overload
def rand(
    shape: Sequence[int],
    /,
    *,
    generator: Generator | None = None,
    dtype: _DTypeArg | None = None,
    device: _DeviceArg | None = None,
    requires_grad: bool = False,
) -> Tensor: ...
@overload
def rand(
    *,
    size: int | Sequence[int],
    generator: Generator | None = None,
    dtype: _DTypeArg | None = None,
    device: _DeviceArg | None = None,
    requires_grad: bool = False,
) -> Tensor: ...
@overload
def randn(
    *shape: int,
    size: None = None,
    generator: Generator | None = None,
    dtype: _DTypeArg | None = None,
    device: _DeviceArg | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """Standard normal samples of shape ``size`` (the default float dtype unless given):
    ``randn(2, 3)``, ``randn((2, 3))`` or ``randn(size=(2, 3))``; ``generator=`` draws from
    that generator instead of the default one."""

@overload
def randn(
    shape: Sequence[int],
    /,
    *,
    generator: Generator | None = None,
    dtype: _DTypeArg | None = None,
    device: _DeviceArg | None = None,
    requires_grad: bool = False,
) -> Tensor: ...
@overload
def randn(
    *,
    size: int | Sequence[int],
    generator: Generator | None = None,
    dtype: _DTypeArg | None = None,
    device: _DeviceArg | None = None,
    requires_grad: bool = False,
) -> Tensor: ...
def manual_seed(seed: int) -> None:
    """Seed the CPU's generator behind ``rand`` and ``randn`` and every CUDA device's
    generator."""

# ----- NCCL (rustgrad.distributed's "nccl" backend) ------------------------------------------

def _nccl_version() -> int:
    """NCCL's version code (``22703`` for 2.27.3); RuntimeError saying how to install NCCL when
    it cannot be loaded."""

def _nccl_library() -> str | None:
    """The file NCCL was loaded from (loads it), or None when it cannot be loaded."""

def _nccl_unique_id() -> bytes:
    """A fresh NCCL unique id (128 bytes), made by one rank and passed to every rank's
    ``NcclCommunicator``."""

@final
class NcclCommunicator:
    """One NCCL communicator: ``NcclCommunicator(unique_id, size, rank, device)`` joins the group
    (blocking until every rank has). Collectives take contiguous CUDA tensors on ``device``
    and are queued on its stream; ``op`` is ``ReduceOp``'s value (``"sum"``, ``"avg"``, ...)."""

    def __new__(cls, unique_id: bytes, size: int, rank: int, device: int) -> Self: ...
    @property
    def rank(self) -> int:
        """This process's rank in the communicator."""
    @property
    def size(self) -> int:
        """Number of ranks."""
    def all_reduce(self, tensor: Tensor, op: str) -> None:
        """Reduces ``tensor`` across the group in place (``op``: ``"sum"``, ``"avg"``, ...)."""
    def broadcast(self, tensor: Tensor, root: int) -> None:
        """Copies rank ``root``'s ``tensor`` into ``tensor`` on every rank."""
    def reduce(self, tensor: Tensor, root: int, op: str) -> None:
        """Reduces ``tensor`` across the group into ``tensor`` on rank ``root``."""
    def all_gather(self, output: Tensor, input: Tensor) -> None:
        """Concatenates every rank's ``input`` into ``output`` (rank order)."""
    def reduce_scatter(self, output: Tensor, input: Tensor, op: str) -> None:
        """Reduces ``input`` across the group; rank ``r`` gets the ``r``-th chunk in ``output``."""
    def send(self, tensor: Tensor, peer: int) -> None:
        """Sends ``tensor`` to rank ``peer`` (matched by a ``recv`` there)."""
    def recv(self, tensor: Tensor, peer: int) -> None:
        """Receives into ``tensor`` from rank ``peer``."""
    def group_start(self) -> None:
        """Starts a group of sends and receives that NCCL runs together."""
    def group_end(self) -> None:
        """Ends the group (queues its calls)."""
    def async_error(self) -> str | None:
        """The error NCCL met in queued work (a peer gone), or None."""
    def close(self, abort: bool = False) -> None:
        """Frees the communicator once its queued work has run; ``abort=True``: at once,
        abandoning queued work (what a timeout does). Later calls raise."""

# ----- generators and creation defaults (drop-in work) ---------------------------------------

@final
class Generator:
    """A random number generator with its own state: ``Generator(device='cpu')``.

    Pass it as ``generator=`` to ``rand``, ``randn``, ``randint``, ``randperm``, ``normal``,
    ``bernoulli``, ``multinomial`` and the in-place samplers; draws then come from (and
    advance) this generator's state only. The same seed gives the same stream. Its draws are
    made on the host (also for a CUDA generator, whose samples are then copied to its device);
    a CPU generator's draws are PyTorch's, draw for draw (see `backend::cpu::random`).
    """

    def __new__(cls, device: _DeviceArg | None = None) -> Self: ...
    def manual_seed(self, seed: int) -> Self:
        """Restarts the stream from ``seed`` (an int); returns the generator."""

    def seed(self) -> int:
        """Seeds the generator from a non-deterministic source; returns the seed."""

    def initial_seed(self) -> int:
        """The seed the current stream started from."""

    def get_state(self) -> Tensor:
        """The whole state as PyTorch keeps it: a uint8 tensor of 5056 bytes (PyTorch's
        ``CPUGeneratorImplState``: the seed, mt19937's words and position, the cached normal
        sample), so states pass between rustgrad and PyTorch; ``set_state`` takes it back."""

    def set_state(self, new_state: Tensor) -> Self:
        """Restores a state from ``get_state`` (of this or any CPU generator, or PyTorch's
        ``get_rng_state()``); returns the generator."""

    @property
    def device(self) -> device:
        """The device this generator samples for."""

default_generator: Generator

def _uniform(
    shape: Sequence[int],
    low: float,
    high: float,
    dtype: dtype,
    device: _DeviceArg,
    generator: Generator | None = None,
) -> Tensor:
    """A contiguous CPU tensor of `shape` and float `dtype` filled as PyTorch's ``uniform_(low,
    high)`` fills one (``rand`` is ``[0, 1)``)."""

def _normal(
    shape: Sequence[int],
    mean: float,
    std: float,
    dtype: dtype,
    device: _DeviceArg,
    serial: bool = False,
    generator: Generator | None = None,
) -> Tensor:
    """A contiguous CPU tensor of `shape` and float `dtype` filled as PyTorch's ``normal_(mean,
    std)`` fills one; `serial` for a non-contiguous target (drawn one sample at a time)."""

def _exponential(
    shape: Sequence[int],
    lambd: float,
    dtype: dtype,
    device: _DeviceArg,
    generator: Generator | None = None,
) -> Tensor:
    """A contiguous CPU tensor of `shape` and float `dtype` filled as PyTorch's CPU
    ``exponential_(lambd)`` fills one."""

def _random_ints(
    shape: Sequence[int],
    range: int,
    base: int,
    wide: bool,
    device: _DeviceArg,
    generator: Generator | None = None,
) -> Tensor:
    """A contiguous int64 CPU tensor of `shape` of integers ``word % range + base`` as PyTorch's
    ``random_`` draws them (64-bit words when `wide`)."""

def _randperm(n: int, device: _DeviceArg, generator: Generator | None = None) -> Tensor:
    """A random permutation of ``0..n`` (int64, on the CPU) by PyTorch's CPU shuffle."""

def set_default_dtype(d: _DTypeArg) -> None:
    """Makes ``dtype`` (``float32`` or ``float64``) the dtype of Python floats and of float
    tensors created without ``dtype=`` (``tensor(1.5)``, ``ones(2)``, ``rand(3)``)."""

def get_default_dtype() -> dtype:
    """The default floating dtype (``float32`` unless ``set_default_dtype`` changed it)."""

def _set_default_device(device: _DeviceArg | None) -> None:
    """Sets (None: clears) the device of creation calls without ``device=``."""

def _set_num_threads(n: int) -> None:
    """Lets at most ``n`` threads work on each CPU kernel (``torch.set_num_threads``; the
    Python layer checks ``n``)."""

def _get_num_threads() -> int:
    """The threads that work on each CPU kernel (``torch.get_num_threads``)."""

def _get_default_device() -> device:
    """The device of creation calls without ``device=``."""

# ----- functions on tensors ---------------------------------------------------------------------

def where(condition: Tensor, input: Tensor | _Number, other: Tensor | _Number) -> Tensor:
    """``input`` where ``condition`` (a bool tensor) holds, else ``other``; all three broadcast
    together. ``input`` and ``other`` may be Python numbers."""

def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dim: ``(2, 3) + (4, 3) -> (6, 3)`` with ``dim=0``."""

def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join equal-shaped tensors along a new dim: k tensors ``(2, 3) -> (k, 2, 3)`` with
    ``dim=0``."""

# ----- grad mode and the engine (the ``rustgrad.autograd`` functions wrap these) ---------------

def is_grad_enabled() -> bool:
    """Whether ops record the graph on this thread."""

def _set_grad_enabled(enabled: bool) -> None:
    """Switch graph recording on this thread (``no_grad`` and friends call this)."""

def _run_backward(
    tensors: Sequence[Tensor],
    grad_tensors: Sequence[Tensor | None],
    retain_graph: bool,
    create_graph: bool,
    inputs: Sequence[Tensor] | None = None,
) -> None:
    """The engine behind ``rustgrad.autograd.backward``: one gradient (or None for a
    one-element root) per root tensor."""

def _grad(
    outputs: Sequence[Tensor],
    inputs: Sequence[Tensor],
    grad_outputs: Sequence[Tensor | None],
    retain_graph: bool,
    create_graph: bool,
    allow_unused: bool,
) -> list[Tensor | None]:
    """The engine behind ``rustgrad.autograd.grad``: one gradient per input, same shape as that
    input (None for an unused input when ``allow_unused``)."""

def _live_nodes() -> int:
    """Number of graph nodes alive (for leak tests)."""

def _refuse_leaf_write(t: Tensor) -> None:
    """PyTorch's refusal to write in place into ``t`` when it is a leaf that requires grad (or
    a view of one) and grad mode is on; the in-place forms written in Python call it before
    checking their own arguments, as PyTorch does."""

def _mark_multi_output_views(views: Sequence[Tensor], op: str) -> None:
    """Marks ``views``, all returned by one call of ``op`` (``"Unbind"``, ``"Split"`` or
    ``"SplitWithSizes"``), as PyTorch's multi-output views: while grad mode is on, writing
    one of them (or a view of one) in place raises PyTorch's error."""

def _function_apply(
    name: str,
    backward: Callable[[list[Tensor], Tensor], Sequence[Tensor | None]],
    inputs: Sequence[Tensor],
    output: Tensor,
    saved: Sequence[Tensor],
    dirty: bool = False,
) -> Tensor:
    """Record a custom function's ``output`` as made by a node called ``name`` whose backward
    calls ``backward(saved_tensors, grad)`` (one gradient per tensor in ``inputs``); the
    ``saved`` tensors are kept, and version-checked, for it. With ``dirty`` the output is an
    input the function changed in place (``ctx.mark_dirty``): that very tensor is returned,
    its history moved onto the new node."""

def _set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """Turn anomaly mode on or off (process-wide); ``check_nan``: whether backward's results
    are checked for NaN while it is on."""

def _is_anomaly_enabled() -> bool:
    """Whether anomaly mode is on."""

def _is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly mode checks backward's results for NaN."""

def _bump_version(t: Tensor) -> None:
    """Count one more in-place write of ``t`` (PyTorch counts a custom Function's
    ``ctx.mark_dirty`` as a write of its own)."""

def _check_saved_version(t: Tensor, version: int) -> None:
    """PyTorch's version error when ``t`` was written in place since ``version`` was read."""

def _number_beside(value: object, like: Tensor) -> Tensor | None:
    """``value``, a Python number, as the 0-d tensor PyTorch makes of a number passed where a
    tensor goes (``torch.add(3, t)``): a wrapped number, typed as it would be beside ``like``.
    None for anything that is not a number. Private: for the functions written in Python."""

def _optimizer_step(
    rule: str,
    param: Tensor,
    grad: Tensor,
    states: Sequence[Tensor],
    scalars: Sequence[float],
    weight_decay: float = 0.0,
    decay: float = 1.0,
    maximize: bool = False,
    nesterov: bool = False,
    first: bool = False,
    momentum: bool = False,
    centered: bool = False,
    amsgrad: bool = False,
    step: Tensor | None = None,
) -> None:
    """One optimizer step on ``param`` with ``grad``, ``states`` (PyTorch's state tensors of the
    rule, in its order) updated in place; ``scalars`` are the step's constants computed in
    Python (see ``rustgrad.optim``). With ``step`` (Adam: its counter, a one-element float32
    CPU tensor), ``scalars[3]`` is the learning rate and the step size and bias correction
    come from the counter's value when the kernel runs."""

# ----- CUDA (``rustgrad.cuda`` wraps these; ``index`` None means the current device) ---------

def _cuda_is_available() -> bool:
    """True when the driver, a GPU, NVRTC and cuBLAS can all be used."""

def _cuda_device_count() -> int:
    """Number of usable GPUs (0 without a driver or GPU)."""

def _cuda_unavailable_reason() -> str:
    """Why CUDA cannot be used, as a sentence (no driver, no GPU, which library is missing);
    ``""`` when it can."""

def _cuda_nvrtc_versions() -> tuple[tuple[int, int], tuple[int, int] | None]:
    """``((major, minor) of the NVRTC that compiled the embedded CUBINs, (0, 0) when none;
    (major, minor) of the NVRTC loaded now, or None)``."""

def _cuda_embedded_cubins() -> list[tuple[str, str, bytes]]:
    """The CUBINs built into the extension: ``(source name, arch, image bytes)`` each (empty when
    it was built without NVRTC, in debug, or for the emulator)."""

def _cuda_embedded_arch_for(source: str, arch: str) -> str | None:
    """The architecture of the embedded CUBIN that a device of ``arch`` (``"sm_87"``) would load
    for ``source``, or None when NVRTC would compile it at run time."""

def _cuda_library_notes() -> list[str]:
    """Notes about the CUDA libraries chosen (a pip library displaced by a system one, naming
    both files), for ``rustgrad.cuda`` to raise as warnings."""

def _cuda_set_library_dirs(dirs: Sequence[str]) -> None:
    """Folders searched for libnvrtc, libcublas and libcublasLt before the system's search
    path. Takes effect only before first CUDA use (``rustgrad.cuda`` calls it at import)."""

def _cuda_synchronize(index: int | None = None) -> None:
    """Wait for the device's queued work. RuntimeError without CUDA."""

def _cuda_manual_seed(seed: int) -> None:
    """Seed every device's generator; never raises."""

def _cuda_get_rng_state(index: int | None = None) -> tuple[int, int]:
    """The device's generator state, (seed, offset). RuntimeError without CUDA."""

def _cuda_set_rng_state(seed: int, offset: int, index: int | None = None) -> None:
    """Restores a state from `_cuda_get_rng_state`. RuntimeError without CUDA."""

def _cuda_memory_allocated(index: int | None = None) -> int:
    """Bytes held by live tensors. RuntimeError without CUDA."""

def _cuda_max_memory_allocated(index: int | None = None) -> int:
    """Peak of ``_cuda_memory_allocated`` since the last reset. RuntimeError without CUDA."""

def _cuda_reset_peak_memory_stats(index: int | None = None) -> None:
    """Restart the peak from the current usage. RuntimeError without CUDA."""

def _cuda_memory_reserved(index: int | None = None) -> int:
    """Bytes held by the caching allocator (in use and cached). RuntimeError without CUDA."""

def _cuda_empty_cache() -> None:
    """Free the allocator's cached blocks of every device set up so far; a no-op when CUDA was
    never used."""

def _cuda_get_device_name(index: int | None = None) -> str:
    """The device's name, e.g. ``"NVIDIA H100 80GB HBM3"``. RuntimeError without CUDA."""

def _cuda_current_device() -> int:
    """Always 0: rustgrad has no per-thread current device; ``"cuda"`` means device 0."""

def _cuda_kernel_sources() -> list[str]:
    """File names of the CUDA C sources compiled into the wheel, e.g. ``"elementwise.cu"``."""

def _cuda_compile_kernels(arch: str) -> list[tuple[str, int]]:
    """Compile every kernel source with NVRTC to CUBIN for ``arch`` (``"sm_90"``, ``"sm_80"``;
    needs libnvrtc, not a GPU): ``(source name, cubin bytes)`` per source. RuntimeError with
    NVRTC's log on a compile error, or mentioning nvrtc when libnvrtc cannot be loaded."""

# ----- autograd extras: inference mode, saved-tensor hooks, profiler ---------------------------

def is_inference_mode_enabled() -> bool:
    """Whether ``inference_mode`` is on in this thread."""

def _set_inference_mode(enabled: bool) -> None:
    """Switch inference mode on this thread (``inference_mode`` calls this; it also switches
    grad mode off)."""

def _push_saved_tensors_hooks(
    pack: Callable[[Tensor], Any], unpack: Callable[[Any], Tensor]
) -> None:
    """Start packing every tensor saved for backward on this thread with ``pack`` (and unpacking
    it with ``unpack``) until the matching ``_pop_saved_tensors_hooks``."""

def _pop_saved_tensors_hooks() -> None:
    """End the innermost ``_push_saved_tensors_hooks``."""

def _profiler_enable(enabled: bool) -> None:
    """Start (or stop) recording ops; starting clears the record."""

def _profiler_now() -> int:
    """Nanoseconds on the profiler's clock (for events recorded from Python)."""

def _profiler_events() -> list[tuple[str, int, int, int]]:
    """The recorded ops, ``(name, start_ns, duration_ns, thread)`` each, and clears the record."""

def _profiler_thread() -> int:
    """This thread's id as the profiler records it."""

# ----- activations of issue 11 (wrapped by ``rustgrad.nn.functional``) ---------------------------

def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """GELU: ``x * Phi(x)`` (``approximate="none"``) or ``0.5 * x * (1 + tanh(sqrt(2 / pi) *
    (x + 0.044715 * x ** 3)))`` (``approximate="tanh"``); floating tensors."""

def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """SiLU (swish): ``x * sigmoid(x)``."""

def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """Mish: ``x * tanh(softplus(x))``."""

def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """Softplus: ``log(1 + exp(beta * x)) / beta``, and ``x`` where ``beta * x > threshold``."""

def elu(
    input: Tensor,
    alpha: float = 1.0,
    scale: float = 1.0,
    input_scale: float = 1.0,
    inplace: bool = False,
) -> Tensor:
    """ELU: ``scale * x`` for ``x > 0``, else ``alpha * scale * (exp(input_scale * x) - 1)``
    (``elu`` is ``scale = input_scale = 1``; ``selu`` fixes all three)."""

def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """CELU: ``x`` for ``x > 0``, else ``alpha * (exp(x / alpha) - 1)`` (an ELU with
    ``input_scale = 1 / alpha``, recorded as PyTorch's ``CeluBackward0``/``1``)."""

def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """Leaky ReLU: ``x`` for ``x > 0``, else ``negative_slope * x``."""

def hardtanh(
    input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False
) -> Tensor:
    """Hardtanh: ``x`` clamped into ``[min_val, max_val]`` (``relu6`` is ``[0, 6]``); the
    gradient is zero at and beyond the bounds."""

def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x))``, computed without overflow."""

# ----- fused products (wrapped by ``rustgrad.addmm``/``baddbmm`` and ``nn.functional.linear``) -----

def addmm(
    input: Tensor,
    mat1: Tensor,
    mat2: Tensor,
    *,
    beta: float | bool,
    alpha: float | bool,
) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)`` of two matrices, ``input`` broadcast to the
    product's shape (``beta=0`` ignores it, NaN included), in one pass."""

def embedding(
    weight: Tensor, indices: Tensor, padding_idx: int | None, scale_grad_by_freq: bool
) -> Tensor:
    """The rows of the 2-D ``weight`` picked by the integer ``indices``: ``[*indices, dim]``
    (``EmbeddingBackward0``); the rows picked as ``padding_idx`` get no gradient, and
    ``scale_grad_by_freq`` divides each row's gradient by its index's count."""

def baddbmm(
    input: Tensor,
    batch1: Tensor,
    batch2: Tensor,
    *,
    beta: float | bool,
    alpha: float | bool,
) -> Tensor:
    """``beta * input + alpha * bmm(batch1, batch2)`` of two ``[b, m, k]``, ``[b, k, n]``
    batches, ``input`` broadcast to the product's shape, in one pass."""

# ----- im2col / col2im (branch conv; wrapped by ``rustgrad.nn.functional.unfold``/``fold``) -----

def im2col(
    input: Tensor,
    kernel_size: tuple[int, int],
    dilation: tuple[int, int],
    padding: tuple[int, int],
    stride: tuple[int, int],
) -> Tensor:
    """The sliding blocks of a float ``[n, c, h, w]`` tensor as columns ``[n, c * kh * kw,
    blocks]``; each argument is a pair of non-negative ints."""

def col2im(
    input: Tensor,
    output_size: tuple[int, int],
    kernel_size: tuple[int, int],
    dilation: tuple[int, int],
    padding: tuple[int, int],
    stride: tuple[int, int],
) -> Tensor:
    """Float columns ``[n, c * kh * kw, blocks]`` summed into ``[n, c, *output_size]`` images
    (the adjoint of ``im2col``); each argument is a pair of non-negative ints."""

def _amax(input: Tensor, dims: list[int], keepdim: bool, largest: bool) -> Tensor:
    """``amax`` (``largest``) or ``amin`` of ``input`` over ``dims`` (distinct, wrapped; all of
    them for a whole-tensor reduction), recorded as one ``AmaxBackward0``/``AminBackward0``
    node. ``rustgrad.amax`` checks the arguments and gives PyTorch's errors first."""

def _convolution(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    kernel_size: tuple[int, int],
    dilation: tuple[int, int],
    padding: tuple[int, int],
    stride: tuple[int, int],
    groups: int,
) -> Tensor:
    """The 2-d convolution of float ``[n, c, h, w]`` images with ``weight`` ``[o, c / groups, kh,
    kw]`` (and ``bias`` ``[o]``), recorded as one ``ConvolutionBackward0`` node; each geometry
    argument is a pair of non-negative ints (checked by ``nn.functional``)."""

def _nll_loss(input: Tensor, target: Tensor, ignore_index: int, reduction: str) -> Tensor | None:
    """``nll_loss`` of float32/float64 CPU log-probabilities ``[N, C]`` (or ``[C]``) at int64/uint8
    class indices ``[N]`` (or ``()``), without class weights, recorded as one
    ``NllLossBackward0`` node; ``reduction`` is ``"none"``, ``"mean"`` or ``"sum"``. None when
    a target equals ``ignore_index`` or for other shapes, dtypes and devices:
    ``nn.functional.nll_loss`` then takes its general path (which checks them)."""

def _max_pool2d(
    input: Tensor,
    kernel_size: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
    dilation: tuple[int, int],
    output_size: tuple[int, int],
) -> tuple[Tensor, Tensor]:
    """``(values, indices)`` of 2-d max pooling of a float ``[(n,) c, h, w]`` tensor to
    ``output_size``, without history (``F.max_pool2d``'s kernel; it checks the arguments and
    computes ``output_size``); ``indices`` are the int64 flat ``h * w`` positions of the
    maxima."""

def _pin_memory(tensor: Tensor) -> Tensor:
    """A page-locked copy of a CPU tensor (``Tensor.pin_memory()``, which checks the tensor and
    that CUDA is available first), without history."""

def _is_pinned(tensor: Tensor) -> bool:
    """Whether a tensor's memory is page-locked (``Tensor.is_pinned()``)."""

def _max_pool2d_backward(
    grad: Tensor,
    indices: Tensor,
    input_size: tuple[int, int],
    kernel_size: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
    dilation: tuple[int, int],
) -> Tensor:
    """The input gradient ``[(n,) c, *input_size]`` of ``_max_pool2d`` from the output's
    gradient and the indices it returned, without history."""

def _avg_pool2d(
    input: Tensor,
    kernel_size: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
    output_size: tuple[int, int],
    count_include_pad: bool,
    divisor_override: int | None,
) -> Tensor:
    """2-d average pooling of a float ``[(n,) c, h, w]`` tensor to ``output_size``, without
    history (``F.avg_pool2d``'s kernel; it checks the arguments and computes
    ``output_size``)."""

def _avg_pool2d_backward(
    grad: Tensor,
    input_size: tuple[int, int],
    kernel_size: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
    count_include_pad: bool,
    divisor_override: int | None,
) -> Tensor:
    """The input gradient ``[(n,) c, *input_size]`` of ``_avg_pool2d`` from the output's
    gradient, without history."""

def _lstm_layer(
    proj: Tensor, h0: Tensor, c0: Tensor, w_hh: Tensor, reverse: bool
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """``(out, c_n, cells, gates)`` of one LSTM layer over ``proj`` ``[T, B, 4H]`` (each step's
    input projection plus both biases) from ``h0``, ``c0`` ``[B, H]`` with ``w_hh``
    ``[4H, H]``, without history: float32 or float64 CPU tensors."""

def _lstm_layer_backward(
    d_out: Tensor,
    d_cn: Tensor,
    h0: Tensor,
    c0: Tensor,
    w_hh: Tensor,
    out: Tensor,
    cells: Tensor,
    gates: Tensor,
    reverse: bool,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """``(d_proj, d_h0, d_c0, d_w_hh)`` from the gradients of ``_lstm_layer``'s ``out`` and
    ``c_n`` and what it returned."""

@final
class _CompiledProgram:
    """A recorded step (see `rustgrad.compiler`)."""

    def replay(self, tensors: list[Tensor]) -> list[Tensor] | None:
        """Runs the step on `tensors` (the same walk as at capture) and returns its outputs, or
        None when a guard failed before anything visible happened (then run it eagerly)."""

    def same_as(self, other: _CompiledProgram) -> bool:
        """Whether `other` recorded the same program."""

    def __len__(self) -> int: ...

def _compile_begin(tensors: list[Tensor]) -> None:
    """Starts recording this thread's kernels; `tensors` are what the function can reach."""

def _compile_end(outputs: list[Tensor]) -> tuple[_CompiledProgram | None, list[str]]:
    """Ends the recording: `(program, [])`, or `(None, reasons)` when it cannot be replayed."""

def _compile_abort() -> None:
    """Drops the recording in progress (the function raised)."""

def _compile_recording() -> bool:
    """Whether this thread is recording."""

def _compile_break(reason: str) -> None:
    """Refuses the recording in progress with `reason` (Python-level effects)."""
