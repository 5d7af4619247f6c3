"""``rustgrad.optim``: optimizers, as ``torch.optim``.

The bookkeeping (parameter groups, state, state dicts) is Python; the per-parameter arithmetic
of a step runs in Rust, in one pass over each parameter.
"""

from rustgrad.optim import lr_scheduler
from rustgrad.optim.adam import Adam
from rustgrad.optim.optimizer import Optimizer
from rustgrad.optim.sgd import SGD

__all__ = ["SGD", "Adam", "Optimizer", "lr_scheduler"]
