"""``rustgrad.utils.checkpoint``, as ``torch.utils.checkpoint``: activation checkpointing.

``checkpoint(fn, *args)`` runs ``fn`` without keeping the tensors its ops save for backward;
backward runs ``fn`` again to get them back. Memory falls to the inputs of each checkpointed
block, at the price of a second forward. Both of PyTorch's variants are here:

- ``use_reentrant=False`` (recommended): ``fn`` runs with grad mode on and its graph is kept,
  but every tensor its ops save is packed away as a number (``saved_tensors_hooks``). The first
  unpack in backward re-runs ``fn`` under the same random state and takes the saved tensors of
  that run, in order. Parameters used inside get gradients whether or not the inputs require
  grad, and ``autograd.grad`` works through it.
- ``use_reentrant=True`` (the default when the argument is left out, with PyTorch's warning):
  ``fn`` runs under ``no_grad`` inside a custom Function whose backward re-runs it with grad and
  calls ``backward`` on the result (a backward inside the backward). As in PyTorch, gradients
  reach only through inputs that require grad, and ``autograd.grad`` is refused.

The random state (the CPU generator, and the CUDA generators of the devices the inputs are on)
is captured before the forward and restored for the recomputation (``preserve_rng_state``), so
dropout masks repeat.
"""

from __future__ import annotations

import contextlib
import warnings

import rustgrad
from rustgrad import _core
from rustgrad.autograd.function import Function
from rustgrad.autograd.graph import saved_tensors_hooks

__all__ = [
    "CheckpointError",
    "CheckpointFunction",
    "checkpoint",
    "checkpoint_sequential",
    "detach_variable",
]

Tensor = _core.Tensor


class CheckpointError(RuntimeError):
    """The recomputation did not save what the first forward saved."""


def detach_variable(inputs):
    """Each tensor of the tuple ``inputs`` detached, keeping its ``requires_grad``."""
    if not isinstance(inputs, tuple):
        raise RuntimeError(  # noqa: TRY004  (PyTorch raises this type)
            f"Only tuple of tensors is supported. Got Unsupported input type: {type(inputs).__name__}"
        )
    out = []
    for x in inputs:
        if isinstance(x, Tensor):
            y = x.detach()
            y.requires_grad_(x.requires_grad)
            out.append(y)
        else:
            out.append(x)
    return tuple(out)


def _cuda_devices(args):
    """The CUDA ordinals of the tensor arguments (whose generators the recomputation needs)."""
    return sorted({a.device.index or 0 for a in args if isinstance(a, Tensor) and a.is_cuda})


class _RandomState:
    """The generators' states before the forward, put back around the recomputation."""

    def __init__(self, args, preserve):
        self.preserve = preserve
        if preserve:
            self.devices = _cuda_devices(args)
            self.cpu = rustgrad.random.get_rng_state()
            self.cuda = [rustgrad.cuda.get_rng_state(d) for d in self.devices]

    @contextlib.contextmanager
    def restored(self):
        if not self.preserve:
            yield
            return
        with rustgrad.random.fork_rng(devices=self.devices):
            rustgrad.random.set_rng_state(self.cpu)
            for d, state in zip(self.devices, self.cuda):
                rustgrad.cuda.set_rng_state(state, d)
            yield


class CheckpointFunction(Function):
    """The reentrant variant: forward without a graph, backward by running ``fn`` again."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        """``run_function(*args)`` without a graph; the tensor arguments are kept."""
        if not any(isinstance(a, Tensor) and a.requires_grad for a in args):
            warnings.warn(
                "None of the inputs have requires_grad=True. Gradients will be None",
                stacklevel=4,
            )
        ctx.run_function = run_function
        ctx.random = _RandomState(args, preserve_rng_state)
        ctx.tensor_at = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.others = [None if isinstance(a, Tensor) else a for a in args]
        ctx.save_for_backward(*(args[i] for i in ctx.tensor_at))
        return run_function(*args)

    @staticmethod
    def backward(ctx, *grads):
        """Runs ``run_function`` again with grad on detached inputs, backpropagates ``grads``
        through that run (parameters inside get their ``.grad``), returns the inputs' grads."""
        if not rustgrad.autograd._is_checkpoint_valid():
            raise RuntimeError(
                "When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() "
                "or passing an `inputs` parameter to .backward(). To resolve this error, you "
                "can either set use_reentrant=False, or call .backward() without passing the "
                "`inputs` argument."
            )
        args = list(ctx.others)
        for i, t in zip(ctx.tensor_at, ctx.saved_tensors):
            args[i] = t
        inputs = detach_variable(tuple(args))
        with ctx.random.restored(), rustgrad.enable_grad():
            outputs = ctx.run_function(*inputs)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        pairs = [
            (o, g)
            for o, g in zip(outputs, grads)
            if isinstance(o, Tensor) and o.requires_grad and g is not None
        ]
        if not pairs:
            raise RuntimeError(
                "none of output has requires_grad=True, this checkpoint() is not necessary"
            )
        rustgrad.autograd.backward([o for o, _ in pairs], [g for _, g in pairs])
        return (None, None) + tuple(x.grad if isinstance(x, Tensor) else None for x in inputs)


class _Recomputation:
    """The non-reentrant variant's bookkeeping: the saved tensors of the first forward are
    replaced by their positions; the first unpack runs ``fn`` again and keeps what it saves."""

    def __init__(self, function, args, kwargs, preserve, context):
        self.function, self.args, self.kwargs = function, args, kwargs
        self.context = context  # entered around the recomputation (``context_fn``'s second)
        self.random = _RandomState(args, preserve)
        self.count = 0
        self.saved = None
        # (PyTorch saves the inputs for the recomputation: one written in place since is its
        # version error)
        self.versions = [(a, a._version) for a in args if isinstance(a, _core.Tensor)]

    def pack(self, tensor):
        self.count += 1
        return self.count - 1

    def unpack(self, position):
        if self.saved is None:
            self.saved = self.recompute()
            if len(self.saved) != self.count:
                raise CheckpointError(
                    "torch.utils.checkpoint: A different number of tensors was saved during "
                    "the original forward and recomputation.\nNumber of tensors saved during "
                    f"forward: {self.count}\nNumber of tensors saved during recomputation: "
                    f"{len(self.saved)}."
                )
        return self.saved[position]

    def recompute(self):
        for tensor, version in self.versions:
            _core._check_saved_version(tensor, version)
        saved = []

        def keep(tensor):
            saved.append(tensor)
            return tensor

        with (
            self.context,
            self.random.restored(),
            rustgrad.enable_grad(),
            saved_tensors_hooks(keep, lambda t: t),
        ):
            self.function(*self.args, **self.kwargs)
        return saved


def checkpoint(
    function,
    *args,
    use_reentrant=None,
    context_fn=None,
    determinism_check="default",
    debug=False,
    early_stop=True,
    **kwargs,
):
    """``function(*args, **kwargs)``, keeping none of its saved tensors: backward runs it
    again (see the module's docstring for the two variants)."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. "
            "Starting in PyTorch 2.9, calling checkpoint without use_reentrant will raise an "
            "exception. use_reentrant=False is recommended, but if you need to preserve the "
            "current default behavior, you can pass use_reentrant=True. Refer to docs for "
            "more details on the differences between the two variants.",
            stacklevel=2,
        )
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if use_reentrant:
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
        if context_fn is not None or debug is not False:
            raise ValueError(
                "Passing `context_fn` or `debug` is only supported when use_reentrant=False."
            )
        return CheckpointFunction.apply(function, preserve, *args)
    if determinism_check not in ("default", "none"):
        raise ValueError(
            f"determinism_check should be one of ['default', 'none'], but got {determinism_check}"
        )
    forward_context = recompute_context = contextlib.nullcontext()
    if context_fn is not None:
        forward_context, recompute_context = context_fn()
    state = _Recomputation(function, args, kwargs, preserve, recompute_context)
    with forward_context, saved_tensors_hooks(state.pack, state.unpack):
        return function(*args, **kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Runs ``functions`` (a list, or an ``nn.Sequential``) in order on ``input``, as
    ``segments`` pieces of which all but the last are checkpointed."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should "
            "be passed explicitly. In version 2.9 we will raise an exception if use_reentrant "
            "is not passed. use_reentrant=False is recommended, but if you need to preserve "
            "the current default behavior, you can pass use_reentrant=True. Refer to docs for "
            "more details on the differences between the two variants.",
            stacklevel=2,
        )
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if isinstance(functions, rustgrad.nn.Sequential):
        functions = list(functions.children())

    def run(start, end):
        def forward(x):
            for j in range(start, end + 1):
                x = functions[j](x)
            return x

        return forward

    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(
            run(start, end), input, use_reentrant=use_reentrant, preserve_rng_state=preserve
        )
    return run(end + 1, len(functions) - 1)(input)
