"""``rustgrad.functional``, as ``torch.functional``: the module where PyTorch defines some of
``torch``'s own functions (``torch.functional.einsum is torch.einsum``). The ones rustgrad has
are re-exported here; the others are missing from ``torch`` as well."""

from __future__ import annotations

from rustgrad import einsum, norm, split, unique

__all__ = ["einsum", "norm", "split", "unique"]
