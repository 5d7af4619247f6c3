"""``rustgrad.optim``: optimizers, as ``torch.optim``.

The bookkeeping (parameter groups, state, state dicts) is Python; the per-parameter arithmetic
of a step runs in Rust, in one pass over each parameter.
"""

from rustgrad.optim import lr_scheduler, swa_utils
from rustgrad.optim.adadelta import Adadelta
from rustgrad.optim.adagrad import Adagrad
from rustgrad.optim.adam import Adam, AdamW
from rustgrad.optim.adamax import Adamax
from rustgrad.optim.asgd import ASGD
from rustgrad.optim.lbfgs import LBFGS
from rustgrad.optim.nadam import NAdam
from rustgrad.optim.optimizer import Optimizer
from rustgrad.optim.radam import RAdam
from rustgrad.optim.rmsprop import RMSprop
from rustgrad.optim.rprop import Rprop
from rustgrad.optim.sgd import SGD

__all__ = [
    "ASGD",
    "LBFGS",
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "NAdam",
    "Optimizer",
    "RAdam",
    "RMSprop",
    "Rprop",
    "lr_scheduler",
    "swa_utils",
]
