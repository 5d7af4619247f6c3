"""``rustgrad.utils``, as ``torch.utils``: ``dlpack``."""

from rustgrad.utils import dlpack

__all__ = ["dlpack"]
