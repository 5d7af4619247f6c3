"""Named results of reductions that return values and indices, as ``torch.return_types``."""

from collections import namedtuple

max = namedtuple("max", ["values", "indices"])  # PyTorch's names (shadow the builtins)
min = namedtuple("min", ["values", "indices"])
