"""``rustgrad.nn.parallel``: data-parallel wrappers, as ``torch.nn.parallel``."""

from rustgrad.nn.parallel.distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
