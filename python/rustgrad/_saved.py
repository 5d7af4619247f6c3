"""What PyTorch's backward node of each op saves, for the ops rustgrad composes of others.

PyTorch's node for an op saves the tensors its backward formula reads (``derivatives.yaml``:
the op's inputs, its result, its indices), and backward refuses to run when one of them was
written in place since: "one of the variables needed for gradient computation has been
modified by an inplace operation". rustgrad's composites save what *their* parts read, which
is not that: ``logsumexp`` from ``exp``/``sum``/``log`` saves no input and no result, ``gather``
reads its index on the host and keeps nothing. ``SAVES`` states PyTorch's rule once per node,
and the two ways rustgrad records a composite apply it:

- :func:`saving` (a composite built of other ops): each output that requires grad passes its
  gradient through one more node, PyTorch's, which saves (and so version-checks) what
  PyTorch's node saves and nothing else; the gradients are the composite's.
- ``nn._conv_functional._as_node`` (a composite recorded as one node, its backward
  differentiating the composite again): saves what ``SAVES`` names for it, keeping the other
  inputs unsaved (not version-checked), and the result where PyTorch saves it.

Ops recorded with ``_native.record`` list their saved tensors at the call (``RESULT`` for the
output), their backward's own arguments.

A rule is a tuple of: an int, the position of one of the op's tensor arguments (in PyTorch's
order; a tuple or list argument, as ``index_put``'s indices, is all its tensors); ``RESULT``
or ``RESULT1``, the op's output 0 or 1; ``(p, q)``, argument ``p`` only when argument ``q``
requires grad (PyTorch saves what only one input's formula reads only when that input needs
a gradient).
"""

from __future__ import annotations

import contextlib
import threading

from rustgrad import _core, _native
from rustgrad._core import Tensor

RESULT = _native.RESULT  # output 0
RESULT1 = object()  # output 1 (the indices of sort, cummax, ...; aminmax's max)

_OUTPUTS = {RESULT: 0, RESULT1: 1}

_SELF_AND_RESULT = (0, RESULT)
_INDICES = (RESULT1,)

SAVES = {
    # reductions, scans and functions whose formula reads the input and the result
    **dict.fromkeys(
        [
            "LogsumexpBackward0",
            "ProdBackward0",
            "ProdBackward1",
            "CumprodBackward0",
            "LogcumsumexpBackward0",
            "MedianBackward0",
            "NanmedianBackward0",
            "StdBackward0",
            "LinalgVectorNormBackward0",
            "LinalgPinvBackward0",
            "SgnBackward0",
        ],
        _SELF_AND_RESULT,
    ),
    "AminmaxBackward0": (0, RESULT, RESULT1),
    "LinalgSlogdetBackward0": (0, RESULT),
    "LinalgInvExBackward0": (RESULT,),
    # distances: both inputs and the result
    "DistBackward0": (0, 1, RESULT),
    "CdistBackward0": (0, 1, RESULT),
    # order statistics: the indices they return (cummax/cummin also the input)
    **dict.fromkeys(
        [
            "SortBackward0",
            "SortBackward1",
            "TopkBackward0",
            "KthvalueBackward0",
            "MedianBackward1",
            "NanmedianBackward1",
        ],
        _INDICES,
    ),
    "CummaxBackward0": (0, RESULT1),
    "CumminBackward0": (0, RESULT1),
    # gathers and scatters: the index, and what else the formula reads
    "GatherBackward0": (0, 1),
    "TakeBackward0": (0, 1),
    "MaskedSelectBackward0": (0, 1),
    "IndexSelectBackward0": (1,),
    "ScatterBackward0": (1,),
    "ScatterBackward1": (1,),
    "ScatterAddBackward0": ((1, 2),),
    "IndexAddBackward0": ((1, 2), (2, 2)),
    "IndexCopyBackward0": (1, (2, 2)),
    "IndexPutBackward0": (1,),
    # elementwise functions of the input(s) (comparisons made again in backward)
    "FmaxBackward0": (0, 1),
    "FminBackward0": (0, 1),
    "NanToNumBackward0": (0,),
    "NansumBackward0": (0,),
    "AddbmmBackward0": ((1, 2), (2, 1)),
    # (self, tensor1, tensor2): tensor2 is read by both tensors' formulas, saved always
    "AddcdivBackward0": (2, (1, 2)),
    # nn.functional
    "SoftMarginLossBackward0": (0, 1),
    # recorded as one node (``_as_node``) over (input, weight, bias): the bias is read for
    # its size only
    "ConvolutionBackward0": (0, 1),
    # (theta): the formula is linear in theta, only its size is read
    "AffineGridGeneratorBackward0": (),
    # linear in the input, which is read for nothing but its size
    **dict.fromkeys(["CumsumBackward0", "FlipBackward0", "RollBackward0", "RepeatBackward0"], ()),
    # (weight, per_sample_weights, indices, offsets)
    "EmbeddingBagBackward0": (2, 3, (0, 1), (1, 0)),
}


def _tensors(arg):
    if isinstance(arg, (tuple, list)):
        return [t for a in arg for t in _tensors(a)]
    return [arg] if isinstance(arg, Tensor) else []


def saved_positions(name, needs):
    """The positions of the arguments node ``name`` saves (all when it has no rule), given
    ``needs``, whether each argument requires grad."""
    rule = SAVES.get(name)
    if rule is None:
        return set(range(len(needs)))
    kept = set()
    for r in rule:
        if isinstance(r, tuple):
            if needs[r[1]]:
                kept.add(r[0])
        elif isinstance(r, int):
            kept.add(r)
    return kept


def saves_result(name):
    """Whether node ``name`` saves its (first) output."""
    return RESULT in SAVES.get(name, ())


_state = threading.local()


@contextlib.contextmanager
def in_place():
    """Within: the ops are in-place forms computed out of place and copied into ``self``
    (their first argument), which :func:`saving` then does not save (it is overwritten at
    once; PyTorch's in-place node reads its old values from a copy)."""
    before = getattr(_state, "in_place", False)
    _state.in_place = True
    try:
        yield
    finally:
        _state.in_place = before


def is_in_place():
    """Whether an in-place form is being computed (see :func:`in_place`)."""
    return getattr(_state, "in_place", False)


def saved_list(name, *args):
    """What node ``name`` saves of ``args`` (the op's tensor arguments), ``RESULT`` standing
    for its output: a ``saved`` list for ``_native.record``."""
    needs = [any(t.requires_grad for t in _tensors(a)) for a in args]
    kept = [t for p in sorted(saved_positions(name, needs)) for t in _tensors(args[p])]
    return kept + [RESULT] * saves_result(name)


def saving(name, result, *args):
    """``result`` (a tensor or a tuple of them: the outputs of a composite of ``args``, the
    op's tensor arguments in PyTorch's order) with what PyTorch's node ``name`` saves
    (``SAVES[name]``) version-checked by backward: each output that requires grad passes its
    gradient on through a node ``name`` saving those tensors (``grad_fn`` is then PyTorch's
    node, over the composite's)."""
    outs = list(result) if isinstance(result, tuple) else [result]
    diff = [k for k, o in enumerate(outs) if isinstance(o, Tensor) and o.requires_grad]
    if not diff or not _core.is_grad_enabled():
        return result
    needs = [any(t.requires_grad for t in _tensors(a)) for a in args]
    kept = saved_positions(name, needs)
    if getattr(_state, "in_place", False):
        kept.discard(0)
    inputs = [t for p in sorted(kept) for t in _tensors(args[p])]
    wanted = [_OUTPUTS[r] for r in SAVES[name] if r in _OUTPUTS]
    made = list(outs)
    for k in diff:
        out = outs[k]
        # an output saves itself as the node's output (no reference cycle); the others as
        # they are
        saved = inputs + [out if j == k else made[j] for j in wanted]
        made[k] = _core._function_apply(name, _pass_on, [out], out, saved)
    if not isinstance(result, tuple):
        return made[0]
    return type(result)(*made) if hasattr(result, "_fields") else tuple(made)  # (named tuples)


def _pass_on(saved, grad):
    return (grad,)
