"""``Optimizer``: the base class of rustgrad's optimizers, as ``torch.optim.Optimizer``.

An optimizer holds ``param_groups`` (a list of dicts, each with ``"params"`` and its own
hyperparameters, filled from ``defaults``) and ``state`` (a dict from parameter to that
parameter's buffers). Subclasses implement ``step``: the step's constants are computed here
in Python floats, as PyTorch's single-tensor implementations compute them, and the update of
each parameter is one pass over it in Rust (``rustgrad._core._optimizer_step``).

``state_dict()`` has PyTorch's layout: ``{"state": {index: {...}}, "param_groups": [{...,
"params": [index, ...]}]}``, parameters numbered in the order the groups list them, with
PyTorch's state names and group keys; a step counter ``"step"`` is a 0-d float32 tensor on the CPU, as PyTorch's. A PyTorch state dict
(with its tensors converted to rustgrad's) loads, and training continues as it would there.
"""

import inspect
import warnings
from collections import defaultdict
from copy import deepcopy

from rustgrad import _core
from rustgrad._grads import clear_grads
from rustgrad.autograd.grad_mode import enable_grad

__all__ = ["Optimizer", "required"]

Tensor = _core.Tensor

_HALF = (_core.float16, _core.bfloat16)


def _optimizer_step(rule, param, grad, states, scalars, **flags):
    """One optimizer step of one parameter, in Rust: (rule, param, grad, states, scalars,
    **flags). The kernels run in float32 or float64: a half-precision parameter and its state
    are updated through float32 copies, rounded back once per step (PyTorch's own step rounds
    after each elementwise op)."""
    if param.dtype not in _HALF:
        return _core._optimizer_step(rule, param, grad, states, scalars, **flags)
    wide = [t.float() for t in (param, grad, *states)]
    _core._optimizer_step(rule, wide[0], wide[1], wide[2:], scalars, **flags)
    for t, w in zip((param, *states), (wide[0], *wide[2:])):
        t.copy_(w)


def _new_step():
    """A step counter as PyTorch's: a 0-d float32 CPU tensor."""
    return _core.tensor(0.0, dtype=_core.float32, device="cpu")


def _count(state):
    """Counts one more step in ``state["step"]`` (in place) and returns that tensor (without
    reading it: a compiled step then replays, see ``rustgrad.compiler``)."""
    step = state["step"]
    if not isinstance(step, Tensor):
        step = state["step"] = _core.tensor(float(step), dtype=_core.float32, device="cpu")
    step.add_(1)
    return step


def _advance(state):
    """:func:`_count`, and the new count as a float, as PyTorch's ``_get_value`` gives it."""
    return _count(state).item()


def _check_lr(lr):
    """PyTorch's first check of a learning rate: a tensor holds one number."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")


def _check_unsupported(**flags):
    """PyTorch's implementation switches rustgrad does not offer (CUDA graphs, differentiable
    steps); ``foreach`` and ``fused`` are accepted, the update is the same."""
    for name, value in flags.items():
        if value:
            raise NotImplementedError(f"rustgrad.optim: {name}=True is not implemented")


def _check_fused(fused, foreach):
    """PyTorch's ``fused=True`` (its one-kernel update on the CPU and GPUs) is accepted:
    rustgrad's update is one pass over each parameter in Rust either way. As PyTorch, it
    excludes ``foreach=True``."""
    if fused and foreach:
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


class _RequiredParameter:
    """Marks a hyperparameter that has no default (such as SGD's ``lr`` in old PyTorch)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    """Base class: ``Optimizer(params, defaults)``.

    ``params`` is an iterable of tensors, or of dicts (parameter groups) each with a
    ``"params"`` entry and optional per-group hyperparameters overriding ``defaults``.
    """

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {'Tensor' if isinstance(params, _core.Tensor) else type(params).__name__}"
            )
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        """Add a group: ``{"params": [...], "lr": ..., ...}``; unspecified hyperparameters take
        the optimizer's defaults. A parameter may belong to one group only."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        param_group = dict(param_group)
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list "
                "instead."
            )
        else:
            params = list(params)
        # ``model.named_parameters()``: (name, tensor) pairs, the names kept in the group
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(params):
                raise ValueError(
                    "all optimizer params should be with/without names. Some param names are "
                    "missing"
                )
            param_group["param_names"] = names
        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, but one of the params is "
                    + type(param).__name__
                )
            if not param.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        param_group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    "parameter group didn't specify a value of required optimization "
                    f"parameter {name}"
                )
            param_group.setdefault(name, default)
        if len({id(p) for p in params}) != len(params):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, "
                "this will cause an error; see github.com/pytorch/pytorch/issues/40967 for more "
                "information",
                stacklevel=3,
            )
        for group in self.param_groups:
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. cannot add param "
                    f"group {which} to the optimizer"
                )
        existing = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in existing for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def _with_grads(self, group):
        """The group's parameters that have a gradient, each with its state dict."""
        for param in group["params"]:
            if param.grad is not None:
                yield param, param.grad, self.state[param]

    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs before each ``step``; returns a handle with
        ``remove()``."""
        return _register(self.__dict__.setdefault("_step_pre_hooks", {}), hook)

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs after each ``step``; returns a handle with
        ``remove()``."""
        return _register(self.__dict__.setdefault("_step_post_hooks", {}), hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer)`` runs at the start of :meth:`state_dict`."""
        return _register(self.__dict__.setdefault("_optimizer_state_dict_pre_hooks", {}), hook, prepend)  # fmt: skip

    def register_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict)`` runs at the end of :meth:`state_dict`; a dict it
        returns is returned instead."""
        return _register(self.__dict__.setdefault("_optimizer_state_dict_post_hooks", {}), hook, prepend)  # fmt: skip

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict)`` runs at the start of :meth:`load_state_dict`; a
        dict it returns is loaded instead."""
        return _register(self.__dict__.setdefault("_optimizer_load_state_dict_pre_hooks", {}), hook, prepend)  # fmt: skip

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer)`` runs at the end of :meth:`load_state_dict`."""
        return _register(self.__dict__.setdefault("_optimizer_load_state_dict_post_hooks", {}), hook, prepend)  # fmt: skip

    def _hooks(self, name):
        return list(self.__dict__.get(name, {}).values())

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:
            cls.step = _with_hooks(cls.__dict__["step"])

    def zero_grad(self, set_to_none=True):
        """Clear the gradients of all parameters: set them to None (default), or fill with
        zeros."""
        for group in self.param_groups:
            clear_grads(group["params"], set_to_none)

    def step(self, closure=None):
        """Update the parameters once; ``closure`` re-evaluates the model and returns the loss
        (it runs with grad mode on, and its result is returned)."""
        raise NotImplementedError

    def _closure_loss(self, closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # ----- state dicts -----

    def state_dict(self):
        """``{"state": {index: {name: value}}, "param_groups": [...]}`` with parameters
        replaced by their indices. Tensors in it are the optimizer's own (not copies)."""
        for hook in self._hooks("_optimizer_state_dict_pre_hooks"):
            hook(self)
        index_of = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            ids = []
            for param in group["params"]:
                index_of.setdefault(id(param), len(index_of))
                ids.append(index_of[id(param)])
            packed["params"] = ids
            groups.append(packed)
        state = {
            index_of[id(param)]: value
            for param, value in self.state.items()
            if id(param) in index_of
        }
        state_dict = {"state": state, "param_groups": groups}
        for hook in self._hooks("_optimizer_state_dict_post_hooks"):
            state_dict = hook(self, state_dict) or state_dict
        return state_dict

    def load_state_dict(self, state_dict):
        """Restore ``state`` and hyperparameters saved by :meth:`state_dict`.

        Groups must match in number and size. Tensors are copied onto each parameter's device
        (and cast to its dtype when floating point), so the loaded dict stays untouched by
        later steps.
        """
        state_dict = dict(state_dict)  # (shallow: the hooks may change it in place)
        for hook in self._hooks("_optimizer_load_state_dict_pre_hooks"):
            state_dict = hook(self, state_dict) or state_dict
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for group, saved in zip(self.param_groups, saved_groups):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size "
                    "of optimizer's group"
                )
        params_by_index = {}
        for group, saved in zip(self.param_groups, saved_groups):
            for index, param in zip(saved["params"], group["params"]):
                params_by_index[index] = param

        def cast(param, key, value):
            if key == "step" and not isinstance(value, Tensor):
                return _core.tensor(float(value), dtype=_core.float32, device="cpu")
            if isinstance(value, Tensor):
                value = value.detach()
                if key == "step":
                    # PyTorch keeps the counter as it is (float32, on the CPU).
                    return value.clone()
                if value.is_floating_point() and param.is_floating_point():
                    value = value.to(param.device, param.dtype)
                else:
                    value = value.to(param.device)
                return value.clone()
            if isinstance(value, dict):
                return {k: cast(param, k, v) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(cast(param, key, v) for v in value)
            return deepcopy(value)

        state = defaultdict(dict)
        for index, value in state_dict["state"].items():
            # Keys may have become strings on a trip through JSON-like formats.
            key = int(index) if isinstance(index, str) and index.isdigit() else index
            if key in params_by_index:
                param = params_by_index[key]
                state[param] = cast(param, None, value)
            else:
                state[key] = deepcopy(value)
        new_groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            new_group = {k: deepcopy(v) for k, v in saved.items() if k != "params"}
            if "betas" in new_group and isinstance(new_group["betas"], list):
                new_group["betas"] = tuple(new_group["betas"])
            new_group["params"] = group["params"]
            # A dict saved by an older PyTorch lacks newer switches (``maximize``,
            # ``decoupled_weight_decay``, ...): its ``__setstate__`` gives them their defaults.
            for name, default in self._constructor_defaults().items():
                new_group.setdefault(name, default)
            new_groups.append(new_group)
        self.state = state
        self.param_groups = new_groups
        for hook in self._hooks("_optimizer_load_state_dict_post_hooks"):
            hook(self)

    def _constructor_defaults(self):
        """The hyperparameters this optimizer's constructor gives by default."""
        signature = inspect.signature(type(self).__init__)
        return {
            name: p.default
            for name, p in signature.parameters.items()
            if name in self.defaults
            and p.default is not inspect.Parameter.empty
            and not isinstance(p.default, _RequiredParameter)
        }

    def __repr__(self):
        # PyTorch's layout: a blank line between groups.
        groups = []
        for i, group in enumerate(self.param_groups):
            lines = [f"Parameter Group {i}"]
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key != "params"]
            groups.append("\n".join(lines) + "\n")
        return f"{type(self).__name__} (" + "".join("\n" + g for g in groups) + ")"


class _Handle:
    """What ``register_step_*_hook`` returns: ``remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks):
        self._hooks = hooks
        self.id = _Handle._next_id
        _Handle._next_id += 1

    def remove(self):
        self._hooks.pop(self.id, None)


def _register(hooks, hook, prepend=False):
    handle = _Handle(hooks)
    hooks[handle.id] = hook
    if prepend:  # (first to run)
        for key in [k for k in hooks if k != handle.id]:
            hooks[key] = hooks.pop(key)
    return handle


def _with_hooks(step):
    """``step`` wrapped to run the optimizer's step hooks, as PyTorch's ``profile_hook_step``:
    a pre-hook may return new ``(args, kwargs)``."""
    from functools import wraps

    @wraps(step)
    def wrapper(*args, **kwargs):
        # (the hooks see ``args`` with the optimizer first, as PyTorch's)
        self = args[0]
        for hook in list(self.__dict__.get("_step_pre_hooks", {}).values()):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(
                        f"{hook} must return None or a tuple of (new_args, new_kwargs), "
                        f"but got {result}."
                    )
                args, kwargs = result
        out = step(*args, **kwargs)
        for hook in list(self.__dict__.get("_step_post_hooks", {}).values()):
            hook(self, args, kwargs)
        return out

    wrapper._rustgrad_hooked = True
    return wrapper
