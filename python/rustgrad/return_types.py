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
