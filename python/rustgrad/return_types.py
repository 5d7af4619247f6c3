"""Named results of reductions that return values and indices, as ``torch.return_types``."""

from collections import namedtuple

max = namedtuple("max", ["values", "indices"])  # PyTorch's names (shadow the builtins)
min = namedtuple("min", ["values", "indices"])

# sorting and order statistics (issue 11)
sort = namedtuple("sort", ["values", "indices"])
topk = namedtuple("topk", ["values", "indices"])
kthvalue = namedtuple("kthvalue", ["values", "indices"])
median = namedtuple("median", ["values", "indices"])
