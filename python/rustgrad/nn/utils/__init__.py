"""``rustgrad.nn.utils``, as ``torch.nn.utils``: gradient clipping, parameters as a vector,
``rnn.pad_sequence``, ``weight_norm``, ``spectral_norm``, and the ``prune``, ``parametrize``
and ``parametrizations`` modules."""

from rustgrad.nn.utils import parametrizations, parametrize, prune, rnn
from rustgrad.nn.utils.clip_grad import (
    clip_grad_norm,
    clip_grad_norm_,
    clip_grad_value_,
    get_total_norm,
)
from rustgrad.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters
from rustgrad.nn.utils.spectral_norm import remove_spectral_norm, spectral_norm
from rustgrad.nn.utils.weight_norm import remove_weight_norm, weight_norm

__all__ = [
    "clip_grad_norm",
    "clip_grad_norm_",
    "clip_grad_value_",
    "get_total_norm",
    "parameters_to_vector",
    "parametrizations",
    "parametrize",
    "prune",
    "remove_spectral_norm",
    "remove_weight_norm",
    "rnn",
    "spectral_norm",
    "vector_to_parameters",
    "weight_norm",
]
