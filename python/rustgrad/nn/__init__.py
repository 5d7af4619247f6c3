"""``rustgrad.nn``: modules, parameters, losses, ``functional`` and ``init``, as ``torch.nn``.

Everything is plain Python over rustgrad's differentiable ops: a layer's ``forward`` records
the graph that ``backward`` walks, so no layer needs a backward of its own.
"""

from rustgrad.nn import functional, init
from rustgrad.nn.modules import (
    ELU,
    GELU,
    SELU,
    CrossEntropyLoss,
    Dropout,
    Flatten,
    Hardtanh,
    Identity,
    LeakyReLU,
    Linear,
    LogSigmoid,
    LogSoftmax,
    Mish,
    Module,
    ModuleList,
    MSELoss,
    NLLLoss,
    ReLU,
    ReLU6,
    Sequential,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from rustgrad.nn.parameter import Parameter

__all__ = [
    "ELU",
    "GELU",
    "SELU",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "Hardtanh",
    "Identity",
    "LeakyReLU",
    "Linear",
    "LogSigmoid",
    "LogSoftmax",
    "MSELoss",
    "Mish",
    "Module",
    "ModuleList",
    "NLLLoss",
    "Parameter",
    "ReLU",
    "ReLU6",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Tanh",
    "functional",
    "init",
]
