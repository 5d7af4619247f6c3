"""``rustgrad.utils``, as ``torch.utils``: ``data`` (datasets and loaders)."""

from rustgrad.utils import data

__all__ = ["data"]
