"""The layers of ``rustgrad.nn``, one file per family (as ``torch.nn.modules``)."""

from rustgrad.nn.modules.activation import LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from rustgrad.nn.modules.container import ModuleList, Sequential
from rustgrad.nn.modules.dropout import Dropout, Flatten
from rustgrad.nn.modules.linear import Identity, Linear
from rustgrad.nn.modules.loss import CrossEntropyLoss, MSELoss, NLLLoss
from rustgrad.nn.modules.module import Module

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
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
]
