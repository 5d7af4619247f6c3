"""``rustgrad.utils``, as ``torch.utils``: ``data`` (datasets and loaders), ``dlpack``."""

from rustgrad.utils import data, dlpack

__all__ = ["data", "dlpack"]
