"""Named results of reductions that return values and indices, as ``torch.return_types``."""

from collections import namedtuple

max = namedtuple("max", ["values", "indices"])  # noqa: A001 - PyTorch's name
min = namedtuple("min", ["values", "indices"])  # noqa: A001
