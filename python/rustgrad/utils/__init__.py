"""``rustgrad.utils``, as ``torch.utils``: ``data`` (datasets and loaders), ``dlpack``,
``benchmark`` (a minimal ``Timer``)."""

from rustgrad.utils import benchmark, data, dlpack

__all__ = ["benchmark", "data", "dlpack"]
