"""The layers of ``rustgrad.nn``, one file per family (as ``torch.nn.modules``)."""

from rustgrad.nn.modules.activation import (
    ELU,
    GELU,
    SELU,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from rustgrad.nn.modules.container import ModuleList, Sequential
from rustgrad.nn.modules.dropout import Dropout, Flatten
from rustgrad.nn.modules.linear import Identity, Linear
from rustgrad.nn.modules.loss import CrossEntropyLoss, MSELoss, NLLLoss
from rustgrad.nn.modules.module import Module

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
    "ReLU",
    "ReLU6",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Tanh",
]
