"""Named results of reductions that return values and indices, as ``torch.return_types``."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from rustgrad._core import Tensor


def _repr(result: tuple, name: str) -> str:
    """PyTorch's layout: ``torch.return_types.max(\\nvalues=...,\\nindices=...)``."""
    from rustgrad._dropin import prefix

    items = ",\n".join(f"{f}={v!r}" for f, v in zip(result._fields, result))  # type: ignore[attr-defined]
    return f"{prefix()}.return_types.{name}(\n{items})"


class max(NamedTuple):  # PyTorch's names (shadow the builtins)
    """``(values, indices)`` of ``max(input, dim)``."""

    values: Tensor
    indices: Tensor

    def __repr__(self) -> str:
        return _repr(self, "max")


class min(NamedTuple):
    """``(values, indices)`` of ``min(input, dim)``."""

    values: Tensor
    indices: Tensor

    def __repr__(self) -> str:
        return _repr(self, "min")


class sort(NamedTuple):
    """``(values, indices)`` of ``sort(input, dim)``."""

    values: Tensor
    indices: Tensor

    def __repr__(self) -> str:
        return _repr(self, "sort")


class sort_out(NamedTuple):
    """``(values, indices)`` of ``sort(input, dim, out=(values, indices))``: those tensors."""

    values: Tensor
    indices: Tensor

    def __repr__(self) -> str:
        return _repr(self, "sort_out")


class topk(NamedTuple):
    """``(values, indices)`` of ``topk(input, k)``."""

    values: Tensor
    indices: Tensor

    def __repr__(self) -> str:
        return _repr(self, "topk")


class kthvalue(NamedTuple):
    """``(values, indices)`` of ``kthvalue(input, k)``."""

    values: Tensor
    indices: Tensor

    def __repr__(self) -> str:
        return _repr(self, "kthvalue")


class median(NamedTuple):
    """``(values, indices)`` of ``median(input, dim)``."""

    values: Tensor
    indices: Tensor

    def __repr__(self) -> str:
        return _repr(self, "median")


class nanmedian(NamedTuple):
    """``(values, indices)`` of ``nanmedian(input, dim)``."""

    values: Tensor
    indices: Tensor

    def __repr__(self) -> str:
        return _repr(self, "nanmedian")


class mode(NamedTuple):
    """``(values, indices)`` of ``mode(input, dim)``."""

    values: Tensor
    indices: Tensor

    def __repr__(self) -> str:
        return _repr(self, "mode")


def _named_result(name: str, fields: tuple[str, ...], doc: str):
    """A named result ``torch.return_types.<name>``, printed as PyTorch prints it."""
    cls = NamedTuple(name, [(f, "Tensor") for f in fields])  # type: ignore[misc]
    cls.__repr__ = lambda self: _repr(self, name)  # type: ignore[method-assign]
    cls.__doc__ = doc
    cls.__module__ = __name__
    return cls


aminmax = _named_result("aminmax", ("min", "max"), "``aminmax(input)``.")
cummax = _named_result("cummax", ("values", "indices"), "``cummax(input, dim)``.")
cummin = _named_result("cummin", ("values", "indices"), "``cummin(input, dim)``.")
svd = _named_result("svd", ("U", "S", "V"), "``svd(input)`` (``V``, not ``Vh``).")
qr = _named_result("qr", ("Q", "R"), "``qr(input)``.")
linalg_slogdet = _named_result("linalg_slogdet", ("sign", "logabsdet"), "``linalg.slogdet``.")
linalg_inv_ex = _named_result("linalg_inv_ex", ("inverse", "info"), "``linalg.inv_ex``.")
linalg_solve_ex = _named_result("linalg_solve_ex", ("result", "info"), "``linalg.solve_ex``.")
linalg_cholesky_ex = _named_result("linalg_cholesky_ex", ("L", "info"), "``linalg.cholesky_ex``.")
linalg_qr = _named_result("linalg_qr", ("Q", "R"), "``linalg.qr``.")
linalg_eigh = _named_result("linalg_eigh", ("eigenvalues", "eigenvectors"), "``linalg.eigh``.")
linalg_svd = _named_result("linalg_svd", ("U", "S", "Vh"), "``linalg.svd``.")
