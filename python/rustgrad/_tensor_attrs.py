"""Layouts (``torch.strided``, ``torch.sparse_coo``, ...) and the tensor attributes generic
code reads to ask what kind of tensor it holds (``is_sparse``, ``is_quantized``, ``layout``,
``is_shared()``, ...).

rustgrad's tensors are all dense and strided, on the CPU, a CUDA device or the meta device:
the answers are constant, and PyTorch's other layouts exist only to be compared with.
"""

from rustgrad import _core

Tensor = _core.Tensor

__all__ = [
    "layout",
    "sparse_bsc",
    "sparse_bsr",
    "sparse_coo",
    "sparse_csc",
    "sparse_csr",
    "strided",
    "typename",
]  # fmt: skip


class layout:
    """A tensor layout: ``strided`` (dense; every rustgrad tensor's) or one of PyTorch's sparse
    layouts."""

    def __init__(self, name):
        self._name = name

    def __repr__(self):
        from rustgrad._dropin import prefix

        return f"{prefix()}.{self._name}"

    def __reduce__(self):
        return (_by_name, (self._name,))


strided = layout("strided")
sparse_coo = layout("sparse_coo")
sparse_csr = layout("sparse_csr")
sparse_csc = layout("sparse_csc")
sparse_bsr = layout("sparse_bsr")
sparse_bsc = layout("sparse_bsc")
_LAYOUTS = {x._name: x for x in (strided, sparse_coo, sparse_csr, sparse_csc, sparse_bsr, sparse_bsc)}  # fmt: skip


def _by_name(name):
    return _LAYOUTS[name]


def typename(obj) -> str:
    """PyTorch's ``torch.typename``: a tensor's legacy type name (``'torch.FloatTensor'``),
    else the qualified name of the object (a class) or of its class."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


# Each is False for every rustgrad tensor: no sparse, quantized, nested, MKL-DNN, or other
# accelerators' tensors.
_NEVER = (
    "is_sparse", "is_sparse_csr", "is_quantized", "is_nested", "is_mkldnn", "is_mps", "is_xpu",
    "is_ipu", "is_maia", "is_mtia", "is_vulkan", "is_xla",
)  # fmt: skip


def _never(self):
    return False


def _layout(self):
    """``torch.strided``: rustgrad's tensors are dense."""
    return strided


def _output_nr(self):
    """Which output of its node this tensor is: 0 (rustgrad records one node per output)."""
    return 0


def is_shared(self):
    """Whether the storage is in memory shared between processes: never (rustgrad has no
    ``torch.multiprocessing``; ``share_memory_`` leaves tensors in place)."""
    return False


def share_memory_(self):
    """PyTorch moves the storage to memory shared between processes; rustgrad, which has no
    multiprocessing of tensors, leaves it where it is and returns ``self``."""
    return self


def _bind():
    for name in _NEVER:
        setattr(Tensor, name, property(_never, doc=f"False: rustgrad has no such tensors ({name})."))  # fmt: skip
    Tensor.layout = property(_layout, doc=_layout.__doc__)
    Tensor.output_nr = property(_output_nr, doc=_output_nr.__doc__)
    Tensor.is_shared = is_shared
    Tensor.share_memory_ = share_memory_
