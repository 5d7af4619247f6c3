"""``rustgrad.nn``: modules, parameters, losses, ``functional`` and ``init``, as ``torch.nn``.

Everything is plain Python over rustgrad's differentiable ops: a layer's ``forward`` records
the graph that ``backward`` walks, so no layer needs a backward of its own.
"""

from rustgrad.nn import functional, init, utils
from rustgrad.nn.modules import (
    CrossEntropyLoss,
    Dropout,
    Flatten,
    Identity,
    Linear,
    LogSoftmax,
    Module,
    ModuleList,
    MSELoss,
    NLLLoss,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
)
from rustgrad.nn.parameter import Parameter

__all__ = [
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "Identity",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "Module",
    "ModuleList",
    "NLLLoss",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "functional",
    "init",
    "utils",
]
