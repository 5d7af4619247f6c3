"""``rustgrad.autograd``: the backward engine's Python face, as ``torch.autograd``."""

import contextlib
import threading

from rustgrad import _core
from rustgrad._core import Tensor
from rustgrad.autograd import forward_ad, functional, graph, profiler
from rustgrad.autograd.anomaly_mode import (
    detect_anomaly,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_detect_anomaly,
)
from rustgrad.autograd.function import Function, FunctionCtx, once_differentiable
from rustgrad.autograd.grad_mode import enable_grad, inference_mode, no_grad, set_grad_enabled
from rustgrad.autograd.gradcheck import gradcheck, gradgradcheck
from rustgrad.autograd.variable import Variable


def _as_list(x):
    if x is None:
        return None
    if isinstance(x, Tensor):
        return [x]
    return list(x)


# How many ``grad`` / ``backward(inputs=...)`` calls run in this thread: a reentrant
# checkpoint cannot serve them (its inner backward accumulates into ``.grad``).
_restricted = threading.local()


def _is_checkpoint_valid() -> bool:
    """False while a backward pass restricted to given inputs runs (PyTorch's name)."""
    return getattr(_restricted, "depth", 0) == 0


@contextlib.contextmanager
def _restricted_pass():
    _restricted.depth = getattr(_restricted, "depth", 0) + 1
    try:
        yield
    finally:
        _restricted.depth -= 1


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(tensors)/d(leaves) into the leaves' ``.grad`` (``torch.autograd.backward``)."""
    tensors = _as_list(tensors)
    grads = _as_list(grad_tensors) or [None] * len(tensors)
    if retain_graph is None:
        retain_graph = create_graph
    inputs = _as_list(inputs)
    with _restricted_pass() if inputs else contextlib.nullcontext():
        _core._run_backward(tensors, grads, bool(retain_graph), bool(create_graph), inputs)


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph=None,
    create_graph=False,
    only_inputs=True,
    allow_unused=None,
    is_grads_batched=False,
    materialize_grads=False,
):
    """Return the gradients of ``outputs`` with respect to ``inputs`` as a tuple; with
    ``materialize_grads``, zeros (not None) for inputs the outputs do not reach."""
    if materialize_grads and allow_unused is False:
        raise ValueError(
            "Expected allow_unused to be True or not passed when materialize_grads=True, but "
            "got: allow_unused=False."
        )
    if is_grads_batched:
        raise NotImplementedError("rustgrad: autograd.grad(is_grads_batched=True)")
    allow_unused = bool(allow_unused) or materialize_grads
    outputs = _as_list(outputs)
    inputs = _as_list(inputs)
    if not inputs:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    for t in inputs:
        if not isinstance(t, Tensor):
            raise RuntimeError(  # noqa: TRY004 (PyTorch's type for it)
                f"all inputs have to be Tensors or GradientEdges, but got {type(t).__name__}"
            )
    grads = _as_list(grad_outputs) or [None] * len(outputs)
    if retain_graph is None:
        retain_graph = create_graph
    with _restricted_pass():
        result = tuple(
            _core._grad(
                outputs, inputs, grads, bool(retain_graph), bool(create_graph), allow_unused
            )
        )
    if materialize_grads:
        result = tuple(
            # (PyTorch's zeros require grad under create_graph, so they differentiate again)
            _core.zeros(
                tuple(t.shape), dtype=t.dtype, device=t.device, requires_grad=bool(create_graph)
            )
            if g is None
            else g
            for g, t in zip(result, inputs, strict=True)
        )
    return result


__all__ = [
    "Function",
    "FunctionCtx",
    "Variable",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "forward_ad",
    "functional",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "graph",
    "inference_mode",
    "is_anomaly_check_nan_enabled",
    "is_anomaly_enabled",
    "no_grad",
    "once_differentiable",
    "profiler",
    "set_detect_anomaly",
    "set_grad_enabled",
]
