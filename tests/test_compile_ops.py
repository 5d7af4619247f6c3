"""Every op of the OpInfo table (``tests/opinfo.py``), float32, each sample: a compiled step
that calls the op and backpropagates a fixed upstream gradient gives, call after call, bit
for bit what the same step gives eagerly (outputs and gradients), whether it replays or
falls back; a step that never replays says why."""

import math

import numpy as np
import pytest
import rustgrad as rg
from opinfo import flatten_outputs, materialize, op_params
from rustgrad.compiler import _stats

_CALLS = 5


def _world(op, sample):
    """The sample's tensors (made afresh: the same values each time) and the step on them."""
    memo = {}
    args = materialize(sample.args, rg, "cpu", memo, True)
    kwargs = materialize(sample.kwargs, rg, "cpu", memo, True)
    leaves = [memo[id(a)] for a in sample.grad_args()]
    first = [o for o in flatten_outputs(op.primary.fn(rg, *args, **kwargs))]
    rng = np.random.default_rng(0)
    upstream = [
        rg.tensor(rng.standard_normal(tuple(o.shape))).to(o.dtype)
        if isinstance(o, rg.Tensor) and o.requires_grad
        else None
        for o in first
    ]
    for leaf in leaves:
        leaf.grad = None

    def step():
        outs = flatten_outputs(op.primary.fn(rg, *args, **kwargs))
        roots = [(o, u) for o, u in zip(outs, upstream) if u is not None]
        if roots:
            rg.autograd.backward([o for o, _ in roots], [u for _, u in roots])
        grads = [leaf.grad for leaf in leaves]
        for leaf in leaves:
            leaf.grad = None
        return [o.detach() if isinstance(o, rg.Tensor) else o for o in outs], grads

    return step


def _same(a, b):
    if isinstance(a, rg.Tensor) or isinstance(b, rg.Tensor):
        assert isinstance(a, rg.Tensor) and isinstance(b, rg.Tensor)
        assert a.dtype == b.dtype and a.shape == b.shape and a.stride() == b.stride()
        if a.dtype in (rg.bfloat16, rg.float16):  # (exactly representable in float32)
            a, b = a.float(), b.float()
        assert np.array_equal(a.numpy(), b.numpy(), equal_nan=a.dtype.is_floating_point)
    else:
        assert a == b or (math.isnan(a) and math.isnan(b))


@pytest.mark.parametrize(
    "op, dtype, sample, device",
    op_params("compile", ("float32",)),
)
def test_a_compiled_op_step_is_eagers_bit_for_bit(op, dtype, sample, device):
    rg.manual_seed(0)
    eager = _world(op, sample)
    rg.manual_seed(0)
    fast = rg.compile(_world(op, sample))
    for _ in range(_CALLS):
        (out_e, grads_e), (out_c, grads_c) = eager(), fast()
        assert len(out_e) == len(out_c) and len(grads_e) == len(grads_c)
        for a, b in zip(out_e + grads_e, out_c + grads_c):
            if a is None or b is None:
                assert a is None and b is None
            else:
                _same(a, b)
    stats = _stats(fast)
    assert stats["replays"] > 0 or stats["reasons"], stats
