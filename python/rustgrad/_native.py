"""Ops that PyTorch records as one node of its own (``MseLossBackward0``,
``MaskedFillBackward0``, ...) and rustgrad composes in Python.

The forward runs without history; one node with PyTorch's name then records the result, so
``grad_fn`` and ``next_functions`` read as PyTorch's. Its backward is written with
differentiable ops (gradients of any order follow, as PyTorch's formulas do) and gets its saved
tensors version-checked, as every node's.
"""

from rustgrad import _core
from rustgrad.autograd.grad_mode import no_grad


def sum_to(grad, shape):
    """``grad`` summed over the dims it was broadcast along from ``shape``."""
    shape = tuple(shape)
    if tuple(grad.shape) == shape:
        return grad
    lead = grad.dim() - len(shape)
    dims = list(range(lead)) + [
        lead + i for i, s in enumerate(shape) if s == 1 and grad.shape[lead + i] != 1
    ]
    out = grad.sum(dims, keepdim=True) if dims else grad
    return out.reshape(shape)


# In a node's ``saved`` list: the node's own output (saved without its history, as PyTorch
# saves ``result``), so that writing it in place before backward raises as in PyTorch.
RESULT = object()


def _with_result(saved, out):
    return [out if s is RESULT else s for s in saved]


def record(name, inputs, forward, saved, backward):
    """``forward()`` (run without history) as the output of one node ``name`` over the tensors
    ``inputs``; ``backward(grad, *saved)`` returns one gradient (or None) per input.
    ``RESULT`` in ``saved`` stands for the output."""
    with no_grad():
        out = forward()
    if not _core.is_grad_enabled() or not any(t.requires_grad for t in inputs):
        return out
    saved = _with_result(saved, out)
    return _core._function_apply(name, lambda s, g: tuple(backward(g, *s)), inputs, out, saved)


def input_dependent(name, grad, inputs, undefined=False):
    """``grad`` (a backward's result) as the output of a node ``name`` over itself and
    ``inputs``, with slope 0 in ``inputs``. PyTorch's backward kernels take the forward's input
    (``threshold_backward(grad, self)``, ``max_pool2d_with_indices_backward(grad, self, ...)``),
    so under ``create_graph`` their result requires grad when that input does, even where the
    gradient does not depend on it; a composite backward alone would not. Only recorded when
    some input needs a gradient and grad mode is on (``create_graph``). The slope is zeros, or
    with ``undefined`` (True, or one flag per input) PyTorch's undefined gradient
    (``autograd.grad`` then gives None for an input reached only this way, as for
    convolutions)."""
    if not any(t.requires_grad for t in inputs):
        return grad

    flags = [undefined] * len(inputs) if isinstance(undefined, bool) else list(undefined)

    def backward(gg):
        zeros = [None if u else _core.zeros(tuple(t.shape), dtype=t.dtype, device=t.device) for t, u in zip(inputs, flags)]  # fmt: skip
        return (gg, *zeros)

    return _recorded_over(name, grad, inputs, backward)


def underivable(aten, grad, inputs, marked=False):
    """``grad`` (a backward's result) recorded over itself and ``inputs`` by PyTorch's
    ``NotImplemented`` node, for backwards PyTorch does not differentiate (``aten``, e.g.
    ``hardsigmoid_backward``): differentiating it again raises PyTorch's error, its
    NotImplementedError where ``derivatives.yaml`` marks the formula ``not_implemented``
    (``marked``), else its RuntimeError."""

    def backward(gg):
        if marked:
            raise NotImplementedError(f"the derivative for '{aten}' is not implemented.")
        raise RuntimeError(f"derivative for aten::{aten} is not implemented")

    return _recorded_over("torch::autograd::NotImplemented", grad, inputs, backward)


def _recorded_over(name, grad, inputs, backward):
    """``grad`` as the output of a node ``name`` over ``grad`` and ``inputs`` whose backward
    is ``backward(gg)``; recorded only under ``create_graph`` (grad mode on) where some of
    them needs a gradient."""
    if not _core.is_grad_enabled() or not any(t.requires_grad for t in (grad, *inputs)):
        return grad
    with no_grad():
        out = grad.detach().clone()
    return _core._function_apply(name, lambda s, g: tuple(backward(g)), [grad, *inputs], out, [])  # fmt: skip


def record_inplace(name, target, others, forward, saved, backward):
    """``target`` overwritten with ``forward()`` (run without history) and recorded, as
    PyTorch's in-place ops, by one node ``name`` over ``target``'s old history and ``others``.
    A view is written by ``copy_`` instead, whose history reaches its base (``CopySlices``)."""
    if target._is_view():
        return target.copy_(record(name, [target, *others], forward, saved, backward))
    inputs = [target, *others]
    needs_node = _core.is_grad_enabled() and any(t.requires_grad for t in inputs)
    if needs_node and target.is_leaf and target.requires_grad:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation."
        )
    with no_grad():
        target.copy_(forward())
    if not needs_node:
        return target
    saved = _with_result(saved, target)
    return _core._function_apply(
        name, lambda s, g: tuple(backward(g, *s)), inputs, target, saved, True
    )


def write_result(target, result, name=None):
    """``target.copy_(result)`` for an in-place form computed out of place (``result``, with
    its history, of ``target``'s shape): recorded, as PyTorch's in-place op, by one node named
    after the op (``name``, else ``result``'s own node: the out-of-place op's), which passes
    the gradient on to ``result``, rather than by ``copy_``'s ``CopyBackwards``. A view is
    written by ``copy_`` (its history reaches its base through ``CopySlices``, as PyTorch's),
    and so is a result without history."""
    node = result.grad_fn
    if (
        not _core.is_grad_enabled()
        or not result.requires_grad
        or (name is None and node is None)
        or target._is_view()
        or (target.is_leaf and target.requires_grad)  # (copy_ refuses it in PyTorch's words)
        or tuple(target.shape) != tuple(result.shape)
    ):
        return target.copy_(result)
    name = name or node.name()
    dtype = result.dtype
    with no_grad():
        target.copy_(result)
    return _core._function_apply(name, lambda s, g: (g if g.dtype == dtype else g.to(dtype),), [result], target, [], True)  # fmt: skip
