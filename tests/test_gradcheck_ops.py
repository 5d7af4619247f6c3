"""Finite-difference gradient checks (float64) of composites: several ops in one graph.

Every op on its own is checked by the op table (``tests/opinfo.py``, run by
``tests/test_ops.py``: gradcheck and gradgradcheck of every sample). Here each case builds fresh
float64 leaves (seeded draws from rustgrad's generator) and runs ``rustgrad.autograd.gradcheck``
on a chain of ops: graphs where one tensor feeds several ops, views feed ops, and so on.

Every test runs once per device in ``conftest.DEVICES`` (CUDA where a GPU is there): the helpers
below draw the values on the CPU, exactly as for a CPU-only run, then move them to the device
of the test (``_device``, set by the autouse fixture) before they become leaves.
"""

import pytest
import rustgrad as rg
from conftest import DEVICES
from rustgrad.autograd import gradcheck

# The device of the running test (set by the ``_device_and_seed`` fixture).
_device = "cpu"


def on_device(t):
    """``t`` (made on the CPU) on the device of the running test."""
    return t.to(_device)


def _size(shape):
    # Sizes as varargs, except 0-dim, which needs the tuple form: randn(()).
    return shape if shape else ((),)


def randn(*shape):
    """A float64 leaf requiring grad, drawn from rustgrad's own generator."""
    return on_device(rg.randn(*_size(shape), dtype=rg.float64)).requires_grad_()


def check(fn, *inputs):
    for t in inputs:
        assert t.dtype == rg.float64
        assert t.device.type == _device
    outputs = fn(*inputs)
    for out in outputs if isinstance(outputs, tuple) else (outputs,):
        assert out.device.type == _device, f"output on {out.device}, inputs on {_device}"
    assert gradcheck(fn, tuple(inputs), eps=1e-6, atol=1e-5)


@pytest.fixture(autouse=True, params=DEVICES)
def _device_and_seed(request):
    global _device
    _device = request.param
    rg.manual_seed(0)
    yield
    _device = "cpu"


# ---------------------------------------------------------------- composites of several ops


def test_binary_same_tensor_twice():
    x = randn(2, 3)
    check(lambda a: a * a + a - a / (a * a + 1.0), x)


def test_exp_tanh_sigmoid_functions():
    check(lambda x: rg.exp(x) + rg.tanh(x) * rg.sigmoid(x), randn(5))


def test_unary_zero_dim():
    check(lambda x: (x.exp() * x.tanh()).sigmoid(), randn())


def test_softmax_weighted():
    # A non-uniform upstream gradient: softmax's Jacobian is not diagonal.
    w = on_device(rg.randn(3, 5, dtype=rg.float64))
    check(lambda x: (x.softmax(1) * w).sum() + (x.log_softmax(0) * w).sum(), randn(3, 5))


def test_views_indexing_and_joins_chained():
    # views of views, indexing of a transposed view, a join of both, and a write into a copy
    def fn(a, b):
        y = a.t().unsqueeze(0).expand(2, 3, 2).reshape(6, 2).T
        z = rg.cat([y[:, ::2], b[[0, 0, 2]].t()], 1)
        z = z * 1.0
        z[1, 1:] = 5.0
        return rg.where(z > 0, z, z.exp()).softmax(-1)

    check(fn, randn(2, 3), randn(3, 2))


def test_noncontiguous_intermediates_chained():
    # the ops see views (transposed, strided) of contiguous leaves, one after another
    def fn(a, b):
        at, bs = a.t(), b[:, ::2]
        return (at * bs).exp().sum(0) + (at / (bs * bs + 1.0)).max(1).values.sum()

    check(fn, randn(4, 3), randn(3, 8))


def test_small_mlp():
    x = on_device(rg.randn(6, 4, dtype=rg.float64))
    onehot = rg.zeros(6, 3, dtype=rg.float64)
    for i in range(6):
        onehot[i, i % 3] = 1.0
    onehot = on_device(onehot)

    def loss(w1, b1, w2, b2):
        h = (x @ w1 + b1).tanh()
        logits = h @ w2 + b2
        return -(logits.log_softmax(1) * onehot).sum(1).mean()

    check(loss, randn(4, 5), randn(5), randn(5, 3), randn(3))


def test_mlp_relu_softmax_mse():
    x = on_device(rg.randn(5, 4, dtype=rg.float64))
    target = on_device(rg.rand(5, 2, dtype=rg.float64))

    def loss(w1, w2):
        h = (x @ w1).relu()
        p = (h @ w2).softmax(-1)
        return ((p - target) ** 2).mean()

    check(loss, randn(4, 6), randn(6, 2))


def test_multiple_outputs():
    def fn(a, b):
        return a * b, (a - b).exp().sum(0)

    check(fn, randn(2, 3), randn(2, 3))
