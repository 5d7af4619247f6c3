"""``rustgrad.utils``, as ``torch.utils``: ``data`` (datasets and loaders), ``dlpack``,
``benchmark`` (a minimal ``Timer``), ``checkpoint`` (activation checkpointing)."""

from rustgrad.utils import benchmark, checkpoint, data, dlpack

__all__ = ["benchmark", "checkpoint", "data", "dlpack"]
