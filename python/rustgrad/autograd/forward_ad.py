"""``rustgrad.autograd.forward_ad``: forward-mode AD's API (``dual_level``, ``make_dual``,
``unpack_dual``), as ``torch.autograd.forward_ad``.

How tangents are computed here: not by per-op forward rules but by the double-backward trick
on the recorded graph. ``make_dual(x, t)`` returns a differentiable handle of ``x`` (its
tangent ``t`` kept in the level); ``unpack_dual(y)`` computes ``J t`` for ``y`` as
``d/du <J^T u, t>`` with two ``autograd.grad`` calls (exact, same values as forward mode, at
the cost of two backward passes per ``unpack_dual``). So:

- code between ``make_dual`` and ``unpack_dual`` must run with grad mode on (not inside
  ``no_grad``), and every op in it needs a double-differentiable backward (all of rustgrad's
  ops have one);
- dual tensors and results computed from them report ``requires_grad=True``, where PyTorch's
  dual tensors need not.

A custom ``autograd.Function`` that defines ``jvp`` but no ``backward`` cannot take part in
that trick: its outputs are made new dual tensors instead, whose tangents its ``jvp`` computes
from the tangents of its inputs (forward mode proper, for that step). They carry no history back
to the inputs, so a backward pass that reaches one raises PyTorch's "must implement either the
backward or vjp" error rather than silently stopping there.
"""

import collections

import rustgrad as torch
from rustgrad import _core

__all__ = [
    "UnpackedDualTensor",
    "dual_level",
    "enter_dual_level",
    "exit_dual_level",
    "make_dual",
    "unpack_dual",
]

UnpackedDualTensor = collections.namedtuple("UnpackedDualTensor", ["primal", "tangent"])

_levels = []  # each: a list of (dual handle, tangent)
_unpacking = []  # non-empty while unpack_dual differentiates (jvp outputs then let grads pass)


def enter_dual_level():
    """Start a new level of dual tensors; returns its index."""
    if _levels:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _levels.append([])
    return len(_levels) - 1


def exit_dual_level(*, level=None):
    """End the level (its dual tensors lose their tangents)."""
    if level is None:
        level = len(_levels) - 1
    if level != len(_levels) - 1:
        raise RuntimeError(
            "Trying to exit a forward AD level that was not the last one that was created. "
            "This is not supported."
        )
    _levels.pop()


class dual_level:
    """Context manager for one level of forward AD: dual tensors made inside lose their
    tangents at its end."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()
        return False


def _level(level):
    if level is None:
        level = len(_levels) - 1
    if level < 0 or level >= len(_levels):
        raise RuntimeError(
            "Trying to create a dual Tensor for forward AD but no level exists, make sure to "
            "enter_dual_level() first."
        )
    return _levels[level]


def make_dual(tensor, tangent, *, level=None):
    """``tensor`` with ``tangent`` attached (same shape): the results of ops on it carry the
    directional derivative, read with :func:`unpack_dual`."""
    duals = _level(level)
    if not isinstance(tensor, _core.Tensor) or not isinstance(tangent, _core.Tensor):
        raise TypeError("make_dual(): expected tensor and tangent to be Tensors")
    if not tensor.is_floating_point():
        raise ValueError(
            f"Expected primal to be floating point or complex, but got: {tensor.dtype}"
        )
    if not tangent.is_floating_point():
        raise ValueError(
            f"Expected tangent to be floating point or complex, but got: {tangent.dtype}"
        )
    if tuple(tensor.shape) != tuple(tangent.shape):
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the "
            f"original Tensor, this is not supported. Tensor is of size {list(tensor.shape)} "
            f"while the given forward gradient is of size {list(tangent.shape)}."
        )
    with torch.enable_grad():
        if tensor.requires_grad:
            dual = tensor.view_as(tensor)
        else:
            dual = tensor.detach().requires_grad_(True)
    # As PyTorch: a tangent laid out as the primal is kept as it is (``unpack_dual(...).tangent
    # is tangent``); another layout is copied into the primal's.
    if tangent.stride() != tensor.stride():
        with torch.no_grad():
            tangent = tensor.detach().clone().copy_(tangent)
    duals.append((dual, tangent))
    return dual


def unpack_dual(tensor, *, level=None):
    """``(primal, tangent)`` of ``tensor``: its value and its directional derivative along
    the level's tangents (``None`` when it depends on no dual tensor)."""
    if level is None and not _levels:
        return UnpackedDualTensor(tensor, None)
    duals = _level(level)
    if not isinstance(tensor, _core.Tensor) or not tensor.requires_grad or not duals:
        return UnpackedDualTensor(tensor, None)
    for d, t in duals:
        if d is tensor:
            return UnpackedDualTensor(tensor.detach(), t)
    handles = [d for d, _ in duals]
    _unpacking.append(True)
    try:
        with torch.enable_grad():
            u = torch.zeros_like(tensor, requires_grad=True)
            jtu = torch.autograd.grad(
                tensor, handles, u, retain_graph=True, create_graph=True, allow_unused=True
            )
    finally:
        _unpacking.pop()
    if all(g is None for g in jtu):
        return UnpackedDualTensor(tensor.detach(), None)
    pairs = [(g, t) for g, (_, t) in zip(jtu, duals) if g is not None and g.requires_grad]
    tangent = None
    if pairs:
        (tangent,) = torch.autograd.grad(
            [g for g, _ in pairs], u, [t for _, t in pairs], allow_unused=True
        )
    if tangent is None:  # J^T u does not depend on u: the derivative is zero
        tangent = torch.zeros_like(tensor)
    return UnpackedDualTensor(tensor.detach(), tangent)


def _tangents_of(args):
    """For a custom Function with only ``jvp``: each argument's tangent (None for those
    without, and for non-tensors), or None when no argument has one or no level is active."""
    if not _levels:
        return None
    tangents = [unpack_dual(a).tangent if isinstance(a, _core.Tensor) else None for a in args]
    if all(t is None for t in tangents):
        return None
    return tangents


def _function_outputs(cls, ctx, args, output, tangents):
    """The outputs of a custom Function with only ``jvp``: each a new dual tensor with the
    tangent ``cls.jvp`` gives it (zeros stand for missing tangents of tensor arguments unless
    ``ctx.set_materialize_grads(False)``)."""
    if ctx.materialize_grads:
        tangents = [
            torch.zeros_like(a) if t is None and isinstance(a, _core.Tensor) else t
            for a, t in zip(args, tangents)
        ]
    ctx._in_jvp = True
    try:
        with torch.no_grad():
            result = cls.jvp(ctx, *tangents)
    finally:
        ctx._in_jvp = False
    is_tuple = isinstance(output, tuple)
    outputs = output if is_tuple else (output,)
    out_tangents = result if isinstance(result, tuple) else (result,)
    if len(out_tangents) != len(outputs):
        raise RuntimeError(
            f"jvp function for custom Function {cls.__name__} returned {len(out_tangents)} "
            f"tangents, but forward returned {len(outputs)} outputs"
        )
    results = []
    for o, t in zip(outputs, out_tangents):
        if not isinstance(o, _core.Tensor):
            results.append(o)
        elif t is None or not o.is_floating_point():
            results.append(o.detach())
        else:
            dual = make_dual(o.detach(), t)
            dual.register_hook(_backward_refused)
            results.append(dual)
    return tuple(results) if is_tuple else results[0]


def _backward_refused(grad):
    if not _unpacking:
        raise RuntimeError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD."
        )
    return grad
