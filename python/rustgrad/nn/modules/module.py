"""``nn.Module``: the base class of every layer and model, as ``torch.nn.Module``."""

import functools
import warnings
from collections import OrderedDict, namedtuple

from rustgrad import _core
from rustgrad._grads import clear_grads
from rustgrad.autograd.grad_mode import no_grad
from rustgrad.nn.parameter import Buffer, is_parameter

__all__ = ["Module"]

Tensor = _core.Tensor


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What :meth:`Module.load_state_dict` returns: the keys it could not match."""

    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


class RemovableHandle:
    """Returned by the ``register_*_hook`` methods; ``remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks, *extra):
        self._hooks = hooks
        self._extra = extra  # the sets of hook ids with options (with_kwargs, always_call)
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self):
        """Unregister the hook (again is a no-op)."""
        self._hooks.pop(self.id, None)
        for ids in self._extra:
            ids.discard(self.id)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _insert(hooks, key, hook, prepend):
    hooks[key] = hook
    if prepend:
        hooks.move_to_end(key, last=False)


def _tensor_positions(values):
    return [i for i, v in enumerate(values) if isinstance(v, Tensor)]


class _BackwardHooks:
    """One call's full backward hooks: an identity autograd node on the outputs sees
    ``grad_output`` (running the pre-hooks), one on the inputs sees ``grad_input`` (running the
    hooks), as PyTorch's ``BackwardHook``."""

    def __init__(self, module):
        self.module = module
        self.grad_output = None
        self.n_inputs = 0
        self.inputs_hooked = False

    def _identity(self, tensors, on_backward):
        from rustgrad.autograd import Function

        class BackwardHookFunction(Function):
            @staticmethod
            def forward(ctx, *ts):
                return tuple(t.view_as(t) for t in ts)

            @staticmethod
            def backward(ctx, *grads):
                return on_backward(grads)

        out = BackwardHookFunction.apply(*tensors)
        return out if isinstance(out, tuple) else (out,)

    def wrap_inputs(self, args):
        positions = [i for i in _tensor_positions(args) if args[i].requires_grad]
        self.n_inputs = len(_tensor_positions(args))
        self.input_positions = [_tensor_positions(args).index(i) for i in positions]
        if not positions or not self.module._backward_hooks:
            return args
        self.inputs_hooked = True
        wrapped = self._identity([args[i] for i in positions], self._on_grad_input)
        args = list(args)
        for i, t in zip(positions, wrapped):
            args[i] = t
        return tuple(args)

    def _on_grad_input(self, grads):
        full = [None] * self.n_inputs
        for slot, g in zip(self.input_positions, grads):
            full[slot] = g
        grad_input = tuple(full)
        for hook in list(self.module._backward_hooks.values()):
            result = hook(self.module, grad_input, self.grad_output)
            if result is not None:
                grad_input = tuple(result)
        return tuple(grad_input[slot] for slot in self.input_positions)

    def wrap_outputs(self, output):
        single = isinstance(output, Tensor)
        values = (output,) if single else output
        if not isinstance(values, tuple):
            return output
        positions = [i for i in _tensor_positions(values) if values[i].requires_grad]
        if not positions:
            return output
        wrapped = self._identity([values[i] for i in positions], self._on_grad_output)
        values = list(values)
        for i, t in zip(positions, wrapped):
            values[i] = t
        return values[0] if single else tuple(values)

    def _on_grad_output(self, grads):
        grad_output = tuple(grads)
        for hook in list(self.module._backward_pre_hooks.values()):
            result = hook(self.module, grad_output)
            if result is not None:
                grad_output = tuple(result) if isinstance(result, (tuple, list)) else (result,)
        self.grad_output = grad_output
        if not self.inputs_hooked:
            # No input requires grad: the hooks run now, with grad_input all None.
            if self.module._backward_hooks:
                warnings.warn(
                    "Full backward hook is firing when gradients are computed with respect to "
                    "module outputs since no inputs require gradients. See "
                    "https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                    "#torch.nn.Module.register_full_backward_hook for more details.",
                    stacklevel=_user_stacklevel(),
                )
            for hook in list(self.module._backward_hooks.values()):
                hook(self.module, (None,) * self.n_inputs, grad_output)
        return grad_output


def _indent(text, spaces):
    """Indent every line of ``text`` but the first by ``spaces`` spaces."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    pad = " " * spaces
    return lines[0] + "\n" + "\n".join(pad + line for line in lines[1:])


def _user_stacklevel():
    """The ``stacklevel`` of a warning raised here that points at the first caller outside
    rustgrad (the user's ``loss.backward()`` line, as PyTorch's warnings from its C++ core)."""
    import os
    import sys

    package = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(package + os.sep):
        frame, level = frame.f_back, level + 1
    return level


def _parse_to(args, kwargs):
    """``(device, dtype)`` from the arguments of ``Module.to`` (as ``Tensor.to`` takes them)."""
    device = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)  # (read by Module.to)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    if len(args) > 2:
        raise TypeError(f"to() takes at most 2 positional arguments ({len(args)} given)")
    for arg in args:
        if isinstance(arg, Tensor):
            device, dtype = arg.device, arg.dtype
        elif isinstance(arg, _core.dtype):
            dtype = arg
        elif isinstance(arg, (str, int, _core.device)):
            device = arg
        else:
            raise TypeError(f"to() received an invalid argument of type {type(arg).__name__}")
    if dtype is not None and not dtype.is_floating_point:
        raise TypeError(
            "nn.Module.to only accepts floating point or complex dtypes, "
            f"but got desired dtype={dtype}"
        )
    return device, dtype


class Module:
    """Base class for layers and models: subclass it, build the parts in ``__init__``, and
    write the computation in ``forward``; call the module itself (``model(x)``) to run it.

    Assigning a :class:`~rustgrad.nn.Parameter` or another ``Module`` to an attribute registers
    it, so that :meth:`parameters`, :meth:`state_dict`, :meth:`to`, :meth:`zero_grad` and the
    printed form see it. Subclasses must call ``super().__init__()`` before assigning any.
    """

    _version = 1  # (saved in state dicts' _metadata; subclasses changing their format bump it)

    training: bool

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks_with_kwargs", set())
        object.__setattr__(self, "_forward_hooks_with_kwargs", set())
        object.__setattr__(self, "_forward_hooks_always_called", set())
        object.__setattr__(self, "_backward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_load_state_dict_pre_hooks", OrderedDict())
        object.__setattr__(self, "_load_state_dict_post_hooks", OrderedDict())
        object.__setattr__(self, "_state_dict_pre_hooks", OrderedDict())
        object.__setattr__(self, "_state_dict_hooks", OrderedDict())

    # (PyTorch's class flags: whether Module.__init__ calls super().__init__, and whether
    # _load_from_state_dict of old checkpoints is patched)
    call_super_init = False
    dump_patches = False

    def forward(self, *args, **kwargs):
        """The computation; every subclass defines it."""
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    def __call__(self, *args, **kwargs):
        called = set()  # the always_call hooks that already ran
        try:
            for key, hook in list(self._forward_pre_hooks.items()):
                if key in self._forward_pre_hooks_with_kwargs:
                    result = hook(self, args, kwargs)
                    if result is not None:
                        if not (isinstance(result, tuple) and len(result) == 2):
                            raise RuntimeError(
                                "forward pre-hook must return None or a tuple of "
                                f"(new_args, new_kwargs), but got {result}."
                            )
                        args, kwargs = result
                else:
                    result = hook(self, args)
                    if result is not None:
                        args = result if isinstance(result, tuple) else (result,)
            backward = (
                _BackwardHooks(self) if self._backward_hooks or self._backward_pre_hooks else None
            )
            if backward is not None:
                args = backward.wrap_inputs(args)
            output = self.forward(*args, **kwargs)
            for key, hook in list(self._forward_hooks.items()):
                if key in self._forward_hooks_always_called:
                    called.add(key)
                if key in self._forward_hooks_with_kwargs:
                    result = hook(self, args, kwargs, output)
                else:
                    result = hook(self, args, output)
                if result is not None:
                    output = result
            if backward is not None:
                output = backward.wrap_outputs(output)
            return output
        except Exception:
            # always_call hooks run even when a pre-hook, forward or another hook raised
            # (their output argument is None), as PyTorch's
            for key, hook in list(self._forward_hooks.items()):
                if key in self._forward_hooks_always_called and key not in called:
                    if key in self._forward_hooks_with_kwargs:
                        hook(self, args, kwargs, None)
                    else:
                        hook(self, args, None)
            raise

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """``hook(module, args)`` runs before ``forward``; it may return replacement args.
        With ``with_kwargs``: ``hook(module, args, kwargs)``, returning ``(args, kwargs)``."""
        handle = RemovableHandle(self._forward_pre_hooks, self._forward_pre_hooks_with_kwargs)
        _insert(self._forward_pre_hooks, handle.id, hook, prepend)
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs.add(handle.id)
        return handle

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """``hook(module, args, output)`` runs after ``forward``; it may return a new output.
        With ``with_kwargs``: ``hook(module, args, kwargs, output)``; with ``always_call`` it
        also runs (with ``output=None``) when ``forward`` raises."""
        handle = RemovableHandle(
            self._forward_hooks, self._forward_hooks_with_kwargs, self._forward_hooks_always_called
        )
        _insert(self._forward_hooks, handle.id, hook, prepend)
        if with_kwargs:
            self._forward_hooks_with_kwargs.add(handle.id)
        if always_call:
            self._forward_hooks_always_called.add(handle.id)
        return handle

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """``hook(module, grad_output)`` runs when the gradients of the module's outputs are
        known; it may return a replacement ``grad_output``."""
        handle = RemovableHandle(self._backward_pre_hooks)
        _insert(self._backward_pre_hooks, handle.id, hook, prepend)
        return handle

    def register_full_backward_hook(self, hook, prepend=False):
        """``hook(module, grad_input, grad_output)`` runs when the gradients of the module's
        tensor inputs are computed (``None`` for inputs that do not require grad); it may
        return a replacement ``grad_input``."""
        self._backward_hook_kind(full=True)
        handle = RemovableHandle(self._backward_hooks)
        _insert(self._backward_hooks, handle.id, hook, prepend)
        return handle

    def _register_load_state_dict_pre_hook(self, hook, with_module=False):
        """``hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
        error_msgs)`` runs in :meth:`load_state_dict` before the keys are matched (with
        ``with_module``, the module comes first); it may rename keys of ``state_dict``."""
        if "_load_state_dict_pre_hooks" not in self.__dict__:
            object.__setattr__(self, "_load_state_dict_pre_hooks", OrderedDict())
        handle = RemovableHandle(self._load_state_dict_pre_hooks)
        self._load_state_dict_pre_hooks[handle.id] = (
            functools.partial(hook, self) if with_module else hook
        )
        return handle

    def register_backward_hook(self, hook):
        """PyTorch's older form of :meth:`register_full_backward_hook`: ``hook(module,
        grad_input, grad_output)``. Here it is the full hook (``grad_input`` are the
        gradients of the module's tensor inputs), which PyTorch gives too when the module's
        forward is one op; mixing it with full hooks raises as in PyTorch."""
        self._backward_hook_kind(full=False)
        handle = RemovableHandle(self._backward_hooks)
        _insert(self._backward_hooks, handle.id, hook, False)
        return handle

    def _backward_hook_kind(self, full):
        # (PyTorch refuses both kinds on one module)
        if self.__dict__.get("_is_full_backward_hook", full) != full:
            raise RuntimeError(
                "Cannot use both regular backward hooks and full backward hooks on a single "
                "Module. Please use only one of them."
            )
        object.__setattr__(self, "_is_full_backward_hook", full)

    def _add_state_dict_hook(self, name, hook):
        """``hook`` appended to the registry ``name``; its removable handle."""
        if name not in self.__dict__:  # (a subclass that skipped Module.__init__'s hooks)
            object.__setattr__(self, name, OrderedDict())
        hooks = self.__dict__[name]
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def register_state_dict_pre_hook(self, hook):
        """``hook(module, prefix, keep_vars)`` runs in :meth:`state_dict` before this module
        saves its own entries."""
        return self._add_state_dict_hook("_state_dict_pre_hooks", hook)

    def register_state_dict_post_hook(self, hook):
        """``hook(module, state_dict, prefix, local_metadata)`` runs in :meth:`state_dict`
        after this module and its children saved their entries; it may change
        ``state_dict`` in place and must return None."""
        hook._from_public_api = True
        return self._add_state_dict_hook("_state_dict_hooks", hook)

    def _register_state_dict_hook(self, hook):
        """The older form of :meth:`register_state_dict_post_hook`, whose hook may return a
        state dict replacing the one being built."""
        if getattr(hook, "_from_public_api", False):
            raise RuntimeError(
                "Cannot register the same function as the state dict post hook that was "
                "previously registered via register_state_dict_post_hook"
            )
        return self._add_state_dict_hook("_state_dict_hooks", hook)

    def register_load_state_dict_post_hook(self, hook):
        """``hook(module, incompatible_keys)`` runs at the end of :meth:`load_state_dict`
        (after the children loaded); it may change ``incompatible_keys.missing_keys`` and
        ``.unexpected_keys`` in place (strict loading checks them afterwards) and must
        return None."""
        return self._add_state_dict_hook("_load_state_dict_post_hooks", hook)

    def register_load_state_dict_pre_hook(self, hook):
        """``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` runs in :meth:`load_state_dict` before the keys are
        matched."""
        return self._register_load_state_dict_pre_hook(hook, with_module=True)

    # ----- registration -----

    def _check_name(self, name, kind):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain "."')

    def register_parameter(self, name, param):
        """Add ``param`` (a Parameter, or None for an absent one) under ``name``."""
        self._check_name(name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not is_parameter(param):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                "(rustgrad.nn.Parameter or None required)"
            )
        if param is not None and param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be "
                "created explicitly."
            )
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add a tensor that is state but not a parameter (saved in :meth:`state_dict` unless
        ``persistent=False``)."""
        self._check_name(name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                "(rustgrad Tensor or None required)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name, module):
        """Add a child module (or None) under ``name``."""
        self._check_name(name, "module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name, value):
        params = self.__dict__.get("_parameters")
        modules = self.__dict__.get("_modules")
        buffers = self.__dict__.get("_buffers")
        if is_parameter(value):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, keep=self._parameters)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                    "(rustgrad.nn.Parameter or None expected)"
                )
            params[name] = None
        elif isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, keep=modules)
            modules[name] = value
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' "
                    "(rustgrad.nn.Module or None expected)"
                )
            modules[name] = None
        elif isinstance(value, Buffer):
            if buffers is None:
                raise AttributeError("cannot assign buffers before Module.__init__() call")
            self.register_buffer(name, value._as_tensor(), value.persistent)
        elif buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                    "(rustgrad.Tensor or None expected)"
                )
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name, keep=None):
        """Remove ``name`` from the instance dict and every registry but ``keep`` (before
        re-registering there: a reassigned parameter or submodule keeps its place in the
        order, as PyTorch's)."""
        self.__dict__.pop(name, None)
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not keep:
                registry.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def __getattr__(self, name):
        # Only called when normal lookup fails: look in the registries.
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(registry, ()):
                del self.__dict__[registry][name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        keys = set(super().__dir__())
        keys.update(self._parameters, self._buffers, self._modules)
        return sorted(k for k in keys if not k[0].isdigit())

    # ----- traversal -----

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """``(dotted name, module)`` for this module (name ``prefix``) and all below it."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = f"{prefix}.{name}" if prefix else name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self):
        """This module and every module below it, each once."""
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        """``(name, module)`` for the direct children, each once."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        """The direct child modules."""
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry, prefix, recurse, remove_duplicate):
        seen = set()
        modules = (
            self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
            if recurse
            else [(prefix, self)]
        )
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """``(dotted name, parameter)`` pairs, e.g. ``("0.weight", ...)`` in a Sequential; a
        parameter shared by two modules is listed once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """The parameters of this module and (when ``recurse``) all below it, each once."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """``(dotted name, buffer)`` pairs."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        """The buffers of this module and (when ``recurse``) all below it."""
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def get_submodule(self, target):
        """The module at dotted path ``target`` (``""`` is this module)."""
        if target == "":
            return self
        module = self
        for item in target.split("."):
            if not hasattr(module, item):
                raise AttributeError(module._get_name() + " has no attribute `" + item + "`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError("`" + item + "` is not an nn.Module")  # noqa: TRY004 (PyTorch's type)
        return module

    def set_submodule(self, target, module, strict=False):
        """Put ``module`` at dotted path ``target``, replacing the submodule there or (unless
        ``strict``) adding it to an existing parent."""
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        atoms = target.split(".")
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")  # noqa: TRY004 (PyTorch's type)
        parent = self if len(atoms) == 1 else self.get_submodule(".".join(atoms[:-1]))
        if strict and not hasattr(parent, atoms[-1]):
            raise AttributeError(parent._get_name() + " has no attribute `" + atoms[-1] + "`")
        if hasattr(parent, atoms[-1]) and not isinstance(getattr(parent, atoms[-1]), Module):
            raise AttributeError("`" + atoms[-1] + "` is not an nn.Module")
        setattr(parent, atoms[-1], module)

    def get_parameter(self, target):
        """The parameter at dotted path ``target``, e.g. ``"0.weight"``."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise AttributeError(module._get_name() + " has no attribute `" + name + "`")
        param = getattr(module, name)
        if not is_parameter(param):
            raise AttributeError("`" + name + "` is not an nn.Parameter")
        return param

    def get_buffer(self, target):
        """The buffer at dotted path ``target``, e.g. ``"bn.running_mean"``."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise AttributeError(module._get_name() + " has no attribute `" + name + "`")
        buffer = getattr(module, name)
        if name not in module._buffers:
            raise AttributeError("`" + name + "` is not a buffer")
        return buffer

    def apply(self, fn):
        """Call ``fn(m)`` on every child module (recursively) and then on ``self``."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ----- modes and gradients -----

    def train(self, mode=True):
        """Set training mode (``mode=True``) or evaluation mode on this module and all below."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")  # noqa: TRY004 (PyTorch's)
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` on every parameter."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Clear the parameters' gradients: set them to None (default), or fill with zeros."""
        clear_grads(self.parameters(), set_to_none)

    # ----- state -----

    def get_extra_state(self):
        """State beyond parameters and buffers that a subclass saves in its ``state_dict``
        (under ``"_extra_state"``) when it overrides this and :meth:`set_extra_state`."""
        raise RuntimeError(
            "Reached a code path in Module.get_extra_state() that should never be called. "
            "Please file an issue at https://github.com/pytorch/pytorch/issues/new?template="
            "bug-report.yml to report this bug."
        )

    def set_extra_state(self, state):
        """Restore what :meth:`get_extra_state` returned."""
        raise RuntimeError(
            "Reached a code path in Module.set_extra_state() that should never be called. "
            "Please file an issue at https://github.com/pytorch/pytorch/issues/new?template="
            "bug-report.yml to report a bug."
        )

    def _has_extra_state(self, method):
        return getattr(type(self), method) is not getattr(Module, method)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        """This module's own parameters, persistent buffers and extra state into
        ``destination`` (what :meth:`state_dict` calls per module; overridable)."""
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers:
                destination[prefix + name] = buf if keep_vars else buf.detach()
        if self._has_extra_state("get_extra_state"):
            destination[prefix + "_extra_state"] = self.get_extra_state()

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """An ``OrderedDict`` from dotted names (``"fc1.weight"``) to the parameters and
        persistent buffers, detached (sharing storage) unless ``keep_vars``, with PyTorch's
        ``_metadata`` (each module's ``version``)."""
        if args:  # (PyTorch's deprecated positional form: destination, prefix, keep_vars)
            destination = args[0]
            prefix = args[1] if len(args) > 1 else prefix
            keep_vars = args[2] if len(args) > 2 else keep_vars
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        local_metadata = {"version": getattr(self, "_version", 1)}
        if hasattr(destination, "_metadata"):
            destination._metadata[prefix[:-1]] = local_metadata
        for hook in list(self.__dict__.get("_state_dict_pre_hooks", {}).values()):
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)  # fmt: skip
        for hook in list(self.__dict__.get("_state_dict_hooks", {}).values()):
            result = hook(self, destination, prefix, local_metadata)
            if getattr(hook, "_from_public_api", False):
                if result is not None:
                    raise RuntimeError("state_dict post-hook must return None")
            elif result is not None:
                destination = result
        return destination

    def _load_from_state_dict(
        self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
    ):
        """Load this module's own parameters, buffers and extra state from ``state_dict``
        (keys under ``prefix``), as PyTorch's: its load pre-hooks run first, missing keys,
        unexpected keys and errors are appended to the lists. Subclasses override it to
        rename keys of older checkpoints, then call ``super()._load_from_state_dict``."""
        from rustgrad.nn.modules.lazy import UninitializedParameter

        upgrade = getattr(self, "_upgrade_state_dict", None)
        if upgrade is not None:
            upgrade(state_dict, prefix, local_metadata)  # (a module's own fix of older checkpoints)
        for hook in list(self.__dict__.get("_load_state_dict_pre_hooks", {}).values()):
            hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)  # fmt: skip
        assign = local_metadata.get("assign_to_params_buffers", False)
        local = [(name, "_parameters") for name, p in self._parameters.items() if p is not None]
        local += [
            (name, "_buffers")
            for name, b in self._buffers.items()
            if b is not None and name not in self._non_persistent_buffers
        ]
        with no_grad():
            for name, registry in local:
                key = prefix + name
                if key not in state_dict:
                    if strict:
                        missing_keys.append(key)
                    continue
                value = state_dict[key]
                current = getattr(self, registry)[name]
                if not isinstance(value, Tensor) and hasattr(value, "__array__"):
                    # Another library's tensor (a PyTorch state dict): copied in.
                    value = _core.tensor(value, dtype=current.dtype, device=current.device)
                if not isinstance(value, Tensor):
                    error_msgs.append(
                        f'While copying the parameter named "{key}", expected torch.Tensor or '
                        f"Tensor-like object from checkpoint but received {type(value)}"
                    )
                    continue
                if isinstance(current, UninitializedParameter):
                    # A lazy module's parameter takes the checkpoint's shape (PyTorch's
                    # _lazy_load_hook); the module stays lazy until its first call.
                    current.materialize(tuple(value.shape))
                if tuple(value.shape) != tuple(current.shape):
                    error_msgs.append(
                        f"size mismatch for {key}: copying a param with shape {value.shape} "
                        f"from checkpoint, the shape in current model is {current.shape}."
                    )
                    continue
                if assign:
                    if registry == "_parameters":
                        # (PyTorch's: the loaded tensor becomes the parameter, a new object
                        # keeping the old one's requires_grad)
                        from rustgrad.nn.parameter import Parameter

                        if is_parameter(value):
                            value.requires_grad_(current.requires_grad)
                        else:
                            value = Parameter(value, requires_grad=current.requires_grad)
                        self._parameters[name] = value
                    else:
                        self._buffers[name] = value
                else:
                    current.copy_(value)
        extra_key = prefix + "_extra_state"
        if self._has_extra_state("set_extra_state"):
            if extra_key in state_dict:
                self.set_extra_state(state_dict[extra_key])
            elif strict:
                missing_keys.append(extra_key)
        elif strict and extra_key in state_dict:
            unexpected_keys.append(extra_key)
        if strict:
            names = {name for name, _ in local}
            for key in state_dict:
                if key.startswith(prefix) and key != extra_key:
                    head, *rest = key[len(prefix) :].split(".", 1)
                    if (rest and head not in self._modules) or (not rest and head not in names):
                        unexpected_keys.append(key)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy the tensors of ``state_dict`` into this module's parameters and buffers.

        Each module loads its own entries through :meth:`_load_from_state_dict` (which
        subclasses may override), as PyTorch's. With ``strict`` (default), missing and
        unexpected keys raise RuntimeError, worded as PyTorch words it. A shape mismatch
        always raises. Values are copied in place (cast to each parameter's dtype), so
        optimizers holding the parameters keep working; with ``assign=True`` the loaded
        tensors replace the buffers and become the parameters (new Parameter objects, as
        PyTorch's). Returns ``(missing_keys, unexpected_keys)``.
        """
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(
                f"Expected state_dict to be dict-like, got {type(state_dict).__name__}."
            )
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)  # the hooks may rename keys: not the caller's
        missing, unexpected, errors = [], [], []

        def load(module, local_state, prefix=""):
            local = dict(metadata.get(prefix[:-1], {})) if metadata is not None else {}
            if assign:
                local["assign_to_params_buffers"] = assign
            module._load_from_state_dict(local_state, prefix, local, True, missing, unexpected, errors)  # fmt: skip
            for name, child in module._modules.items():
                if child is not None:
                    child_prefix = prefix + name + "."
                    child_state = {k: v for k, v in local_state.items() if k.startswith(child_prefix)}  # fmt: skip
                    load(child, child_state, child_prefix)
            incompatible = _IncompatibleKeys(missing, unexpected)
            for hook in list(module.__dict__.get("_load_state_dict_post_hooks", {}).values()):
                if hook(module, incompatible) is not None:
                    raise AssertionError(
                        "Hooks registered with ``register_load_state_dict_post_hook`` are not "
                        "expected to return new values, if incompatible_keys need to be "
                        "modified, it should be done inplace."
                    )

        load(self, state_dict)
        if strict:
            if unexpected:
                keys = ", ".join(f'"{k}"' for k in unexpected)
                errors.insert(0, f"Unexpected key(s) in state_dict: {keys}. ")
            if missing:
                keys = ", ".join(f'"{k}"' for k in missing)
                errors.insert(0, f"Missing key(s) in state_dict: {keys}. ")
        if errors:
            raise RuntimeError(
                "Error(s) in loading state_dict for {}:\n\t{}".format(
                    type(self).__name__, "\n\t".join(errors)
                )
            )
        return _IncompatibleKeys(missing, unexpected)

    # ----- dtype and device -----

    def _apply(self, fn, recurse=True):
        """Replace each parameter's data, gradient and each buffer by ``fn(tensor)`` (this
        module's own only, unless ``recurse``).

        Parameters keep their identity (their ``.data`` is swapped), so an optimizer built
        before the conversion still updates the right tensors.
        """
        for module in self.modules() if recurse else (self,):
            with no_grad():
                for param in module._parameters.values():
                    if param is None:
                        continue
                    new = fn(param)
                    if new is not param:
                        param.data = new.detach()
                    grad = param.grad
                    if grad is not None:
                        new_grad = fn(grad)
                        if new_grad is not grad:
                            param.grad = None
                            param.grad = new_grad
                for name, buf in module._buffers.items():
                    if buf is not None:
                        module._buffers[name] = fn(buf)
        return self

    def to(self, *args, **kwargs):
        """Move and/or cast parameters and buffers: ``to(dtype)``, ``to(device)``,
        ``to(device, dtype)``, ``to(tensor)``, or keywords ``device=``, ``dtype=``,
        ``memory_format=`` (applied to 4-d and 5-d tensors, as PyTorch).

        Only floating-point tensors change dtype (integer buffers keep theirs). A CUDA device
        raises RuntimeError (saying why) where CUDA cannot be used. Returns ``self``.
        """
        device, dtype = _parse_to(args, dict(kwargs))
        layout = kwargs.get("memory_format")

        def convert(t):
            if dtype is not None and t.is_floating_point():
                t = t.to(device=device, dtype=dtype)
            elif device is not None:
                t = t.to(device=device)
            if layout is not None and t.dim() in (4, 5):
                # PyTorch lays out 4-d/5-d parameters (convolution weights) in the format.
                t = t.to(memory_format=layout)
            return t

        return self._apply(convert)

    def to_empty(self, *, device, recurse=True):
        """Move the parameters and buffers to ``device`` without copying their values: new,
        uninitialised memory of the same shapes and dtypes (how a model built on the meta
        device gets real memory before a state dict is loaded into it). Returns ``self``."""
        return self._apply(
            lambda t: _core.zeros(tuple(t.shape), dtype=t.dtype, device=device), recurse=recurse
        )

    def cuda(self, device=None):
        """Move parameters, their gradients and buffers to a CUDA device (``Tensor.cuda``'s
        RuntimeError where CUDA cannot be used)."""
        return self._apply(lambda t: t.cuda(device))

    def cpu(self):
        """Move parameters, their gradients and buffers to the CPU."""
        return self._apply(lambda t: t.cpu())

    def double(self):
        """Cast floating-point parameters and buffers to float64."""
        return self._apply(lambda t: t.double() if t.is_floating_point() else t)

    def half(self):
        """Cast floating-point parameters and buffers to float16."""
        return self._apply(lambda t: t.to(_core.float16) if t.is_floating_point() else t)

    def compile(self, *args, **kwargs):
        """Compile this module's calls in place (``torch.compile``'s arguments; they run
        eagerly: ``rustgrad.compiler``)."""
        from rustgrad.compiler import compile as compile_

        compile_(self.forward, *args, **kwargs)

    def bfloat16(self):
        """Cast floating-point parameters and buffers to bfloat16."""
        return self._apply(lambda t: t.to(_core.bfloat16) if t.is_floating_point() else t)

    def share_memory(self):
        """PyTorch moves the parameters and buffers to memory shared between processes;
        rustgrad has no multiprocessing of tensors, and leaves them in place (``self``)."""
        for t in [*self.parameters(), *self.buffers()]:
            t.share_memory_()
        return self

    def float(self):
        """Cast floating-point parameters and buffers to float32."""
        return self._apply(lambda t: t.float() if t.is_floating_point() else t)

    def type(self, dst_type):
        """Cast all parameters and buffers to ``dst_type`` (a rustgrad dtype)."""
        return self._apply(lambda t: t.to(dst_type))

    # ----- printing -----

    def extra_repr(self):
        """The text inside the parentheses of this module's repr; subclasses override it."""
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({name}): {_indent(repr(module), 2)}" for name, module in self._modules.items()
        ]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{self._get_name()}({body})"
