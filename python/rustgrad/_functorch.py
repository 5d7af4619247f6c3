"""``functorch`` (the package PyTorch ships beside ``torch``) under the drop-in runner.

Its transforms are ``rustgrad.func``'s, each warning as PyTorch's deprecated copies do, plus
``make_functional`` / ``make_functional_with_buffers``: a model's parameters (and buffers)
pulled out so that a transform can take them as arguments. Those are built on
``func.functional_call`` over a deep copy of the model, as PyTorch builds them on a copy.
"""

import copy
import functools
import warnings

from rustgrad import func as _func
from rustgrad import nn

__all__ = [
    "FunctionalModule",
    "FunctionalModuleWithBuffers",
    "grad",
    "grad_and_value",
    "hessian",
    "jacfwd",
    "jacrev",
    "jvp",
    "make_functional",
    "make_functional_with_buffers",
    "vjp",
    "vmap",
]


def _warn_deprecated(api, new_api=None):
    new_api = new_api or f"torch.func.{api}"
    warnings.warn(
        "We've integrated functorch into PyTorch. As the final step of the integration, "
        f"`functorch.{api}` is deprecated as of PyTorch 2.0 and will be deleted in a future "
        f"version of PyTorch >= 2.3. Please use `{new_api}` instead; see the PyTorch 2.0 "
        "release notes and/or the `torch.func` migration guide for more details "
        "https://pytorch.org/docs/main/func.migrating.html",
        FutureWarning,
        stacklevel=3,
    )


def _deprecated(transform, new_api=None):
    @functools.wraps(transform)
    def wrapper(*args, **kwargs):
        _warn_deprecated(transform.__name__, new_api)
        return transform(*args, **kwargs)

    return wrapper


grad = _deprecated(_func.grad)
grad_and_value = _deprecated(_func.grad_and_value)
hessian = _deprecated(_func.hessian)
jacfwd = _deprecated(_func.jacfwd)
jacrev = _deprecated(_func.jacrev)
jvp = _deprecated(_func.jvp)
vjp = _deprecated(_func.vjp)
vmap = _deprecated(_func.vmap, "torch.vmap")


class FunctionalModule(nn.Module):
    """What :func:`make_functional` returns: ``fmodel(params, *args)`` runs the model with
    ``params`` (in ``named_parameters`` order) in place of its own."""

    def __init__(self, stateless_model, param_names):
        super().__init__()
        self.stateless_model = stateless_model
        self.param_names = param_names

    def forward(self, params, *args, **kwargs):
        return _func.functional_call(
            self.stateless_model, dict(zip(self.param_names, params)), args, kwargs
        )


class FunctionalModuleWithBuffers(nn.Module):
    """What :func:`make_functional_with_buffers` returns: ``fmodel(params, buffers, *args)``."""

    def __init__(self, stateless_model, param_names, buffer_names):
        super().__init__()
        self.stateless_model = stateless_model
        self.param_names = param_names
        self.buffer_names = buffer_names

    def forward(self, params, buffers, *args, **kwargs):
        state = dict(zip(self.param_names, params))
        state.update(zip(self.buffer_names, buffers))
        return _func.functional_call(self.stateless_model, state, args, kwargs)


def _state(model, named, disable_autograd_tracking):
    names, tensors = [], []
    for name, t in named:
        names.append(name)
        tensors.append(t.detach().requires_grad_(False) if disable_autograd_tracking else t)
    return tuple(names), tuple(tensors)


def make_functional(model, disable_autograd_tracking=False):
    """``(fmodel, params)``: ``fmodel(params, *args)`` is ``model(*args)`` as a function of
    its parameters (those of a deep copy of ``model``)."""
    _warn_deprecated("make_functional", "torch.func.functional_call")
    model_copy = copy.deepcopy(model)
    names, params = _state(model_copy, model_copy.named_parameters(), disable_autograd_tracking)
    return FunctionalModule(model_copy, names), params


def make_functional_with_buffers(model, disable_autograd_tracking=False):
    """``(fmodel, params, buffers)``: ``fmodel(params, buffers, *args)`` is ``model(*args)``
    as a function of its parameters and buffers (those of a deep copy of ``model``)."""
    _warn_deprecated("make_functional_with_buffers", "torch.func.functional_call")
    model_copy = copy.deepcopy(model)
    names, params = _state(model_copy, model_copy.named_parameters(), disable_autograd_tracking)
    buffer_names, buffers = _state(model_copy, model_copy.named_buffers(), False)
    return FunctionalModuleWithBuffers(model_copy, names, buffer_names), params, buffers
