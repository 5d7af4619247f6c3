"""Finite-difference gradient checks (float64) for every differentiable op.

Each case builds fresh float64 leaves and runs ``rustgrad.autograd.gradcheck``. Inputs avoid the
points where an op has no derivative (abs/relu at 0, clamp at its bounds, ties in max/min).

Every test runs once per device in ``conftest.DEVICES`` (CUDA where a GPU is there): the helpers
below draw the values on the CPU, exactly as for a CPU-only run, then move them to the device
of the test (``_device``, set by the autouse fixture) before they become leaves.
"""

import numpy as np
import pytest
import rustgrad as rg
from conftest import DEVICES
from rustgrad.autograd import gradcheck

_rng = np.random.default_rng(1234)

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


def positive(*shape):
    """Values in [0.5, 1.5): safe for log, sqrt, division and fractional powers."""
    return on_device(rg.rand(*_size(shape), dtype=rg.float64) + 0.5).requires_grad_()


def avoiding(*shape, kinks=(0.0,), margin=0.05):
    """Values in (-1.5, 1.5) at least ``margin`` away from each point in ``kinks``."""
    vals = _rng.uniform(-1.5, 1.5, size=shape)
    while True:
        bad = np.zeros(vals.shape, dtype=bool)
        for k in kinks:
            bad |= np.abs(vals - k) < margin
        if not bad.any():
            break
        vals[bad] = _rng.uniform(-1.5, 1.5, size=int(bad.sum()))
    return on_device(rg.tensor(vals)).requires_grad_()


def noncontig_t(rows, cols):
    """A leaf of shape (rows, cols) that is the transpose of a contiguous buffer."""
    base = on_device(rg.randn(cols, rows, dtype=rg.float64))
    x = base.t().detach().requires_grad_()
    assert not x.is_contiguous() and x.is_leaf
    return x


def noncontig_slice(rows, cols):
    """A leaf of shape (rows, cols) taking every other column of a wider buffer."""
    base = on_device(rg.randn(rows, 2 * cols, dtype=rg.float64))
    x = base[:, ::2].detach().requires_grad_()
    assert not x.is_contiguous() and x.is_leaf
    return x


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


# ---------------------------------------------------------------- binary ops with broadcasting

BROADCAST_SHAPES = [
    ((2, 3), (2, 3)),
    ((2, 3), (3,)),
    ((3,), (2, 3)),
    ((2, 1), (1, 3)),
    ((4, 1, 3), (2, 1)),
    ((2, 3), ()),
    ((), (2, 3)),
    ((1,), (2, 3)),
]

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "add_method": lambda a, b: a.add(b),
    "sub_method": lambda a, b: a.sub(b),
    "mul_method": lambda a, b: a.mul(b),
    "div_method": lambda a, b: a.div(b),
    "pow_method": lambda a, b: a.pow(b),
    "pow_function": lambda a, b: rg.pow(a, b),
}


@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
@pytest.mark.parametrize("op", list(BINARY))
def test_binary_broadcast(op, shapes):
    sa, sb = shapes
    if op.startswith(("div", "pow")):
        a = positive(*sa)  # positive base for pow, any numerator for div
        b = positive(*sb) if op.startswith("div") else randn(*sb)
    else:
        a, b = randn(*sa), randn(*sb)
    check(BINARY[op], a, b)


def test_binary_same_tensor_twice():
    x = randn(2, 3)
    check(lambda a: a * a + a - a / (a * a + 1.0), x)


SCALAR_CASES = {
    "x+s": lambda x: x + 2.5,
    "s+x": lambda x: 2.5 + x,
    "x+int": lambda x: x + 2,
    "x-s": lambda x: x - 2.5,
    "s-x": lambda x: 2.5 - x,
    "x*s": lambda x: x * 3.0,
    "s*x": lambda x: 3.0 * x,
    "int*x": lambda x: 3 * x,
    "x/s": lambda x: x / 4.0,
    "s/x": lambda x: 4.0 / x,
    "int/x": lambda x: 4 / x,
    "x**2": lambda x: x**2,
    "x**3": lambda x: x**3,
    "x**2.5": lambda x: x**2.5,
    "x**-1.5": lambda x: x**-1.5,
    "x**0.5": lambda x: x**0.5,
    "s**x": lambda x: 2.0**x,
    "int**x": lambda x: 3**x,
    "pow(x,3)": lambda x: x.pow(3),
    "neg": lambda x: -x,
    "neg_method": lambda x: x.neg(),
}


@pytest.mark.parametrize("case", list(SCALAR_CASES))
def test_python_scalar_operand(case):
    check(SCALAR_CASES[case], positive(2, 3))


# ---------------------------------------------------------------- unary ops

UNARY = {
    "abs": (lambda x: x.abs(), (0.0,)),
    "abs_function": (lambda x: rg.abs(x), (0.0,)),
    "exp": (lambda x: x.exp(), ()),
    "tanh": (lambda x: x.tanh(), ()),
    "sigmoid": (lambda x: x.sigmoid(), ()),
    "relu": (lambda x: x.relu(), (0.0,)),
    "relu_function": (lambda x: rg.relu(x), (0.0,)),
    "clamp_min": (lambda x: x.clamp(min=-0.3), (-0.3,)),
    "clamp_max": (lambda x: x.clamp(max=0.4), (0.4,)),
    "clamp_both": (lambda x: x.clamp(-0.5, 0.5), (-0.5, 0.5)),
    "clamp_both_kw": (lambda x: x.clamp(min=-0.5, max=0.5), (-0.5, 0.5)),
    "clamp_function": (lambda x: rg.clamp(x, -0.5, 0.5), (-0.5, 0.5)),
}


@pytest.mark.parametrize("op", list(UNARY))
def test_unary(op):
    fn, kinks = UNARY[op]
    check(fn, avoiding(3, 4, kinks=kinks))


@pytest.mark.parametrize(
    "fn",
    [lambda x: x.log(), lambda x: x.sqrt(), lambda x: rg.log(x), lambda x: rg.sqrt(x)],
    ids=["log", "sqrt", "log_function", "sqrt_function"],
)
def test_unary_positive_domain(fn):
    check(fn, positive(3, 4))


def test_exp_tanh_sigmoid_functions():
    check(lambda x: rg.exp(x) + rg.tanh(x) * rg.sigmoid(x), randn(5))


def test_unary_zero_dim():
    check(lambda x: (x.exp() * x.tanh()).sigmoid(), randn())


# ---------------------------------------------------------------- matmul

MATMUL_SHAPES = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3, 4)),
    ((5, 2, 3), (5, 3, 4)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((5, 2, 3), (3,)),
    ((3,), (5, 3, 4)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(shapes):
    a, b = randn(*shapes[0]), randn(*shapes[1])
    check(lambda p, q: p @ q, a, b)


def test_matmul_method_and_functions():
    a, b = randn(2, 3), randn(3, 4)
    check(lambda p, q: p.matmul(q) + rg.matmul(p, q) + rg.mm(p, q), a, b)


def test_matmul_noncontiguous_inputs():
    check(lambda p, q: p @ q, noncontig_t(2, 3), noncontig_slice(3, 4))
    check(lambda p, q: p.t() @ q.t(), randn(3, 2), randn(4, 3))


# ---------------------------------------------------------------- reductions

REDUCE_ARGS = [
    ((), {}),
    ((0,), {}),
    ((1,), {}),
    ((-1,), {}),
    ((-3,), {}),
    (((0, 2),), {}),
    (((-1, 0),), {}),
    ((), {"dim": 1}),
    ((), {"dim": 1, "keepdim": True}),
    ((), {"dim": (0, 1), "keepdim": True}),
    ((-2,), {"keepdim": True}),
]


@pytest.mark.parametrize("args", REDUCE_ARGS, ids=str)
@pytest.mark.parametrize("op", ["sum", "mean"])
def test_sum_mean(op, args):
    pos, kw = args
    check(lambda x: getattr(x, op)(*pos, **kw), randn(2, 3, 4))


def test_sum_mean_functions():
    check(lambda x: rg.sum(x) + rg.mean(x), randn(2, 3))
    check(lambda x: rg.sum(x, 0) * rg.mean(x, dim=0), randn(2, 3))


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_all(op):
    check(lambda x: getattr(x, op)(), randn(3, 4))


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1, 2])
@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_dim(op, dim, keepdim):
    def fn(x):
        out = getattr(x, op)(dim=dim, keepdim=keepdim)
        return out.values * 1.0 + out[0]

    check(fn, randn(2, 3, 4))


def test_max_min_tuple_unpacking():
    def fn(x):
        v1, _ = x.max(1)
        v2, _ = rg.min(x, 0)
        return v1.sum() + v2.sum()

    check(fn, randn(3, 4))


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax(op, dim):
    check(lambda x: getattr(x, op)(dim), randn(3, 4))
    check(lambda x: getattr(x, op)(dim=dim), randn(2, 3, 4))
    check(lambda x: getattr(rg, op)(x, dim), randn(4, 2))


def test_softmax_weighted():
    # A non-uniform upstream gradient: softmax's Jacobian is not diagonal.
    w = on_device(rg.randn(3, 5, dtype=rg.float64))
    check(lambda x: (x.softmax(1) * w).sum() + (x.log_softmax(0) * w).sum(), randn(3, 5))


def test_softmax_large_values_stable():
    x = on_device(rg.randn(2, 4, dtype=rg.float64) * 300.0).requires_grad_()
    check(lambda a: a.log_softmax(-1) + a.softmax(-1), x)


# ---------------------------------------------------------------- where / cat / stack


def test_where():
    cond = on_device(rg.randn(2, 3) > 0)
    check(lambda a, b: rg.where(cond, a, b), randn(2, 3), randn(2, 3))


def test_where_broadcast():
    cond = on_device(rg.randn(4, 1) > 0)
    check(lambda a, b: rg.where(cond, a, b), randn(1, 3), randn(4, 3))
    cond2 = on_device(rg.tensor([True, False, True]))
    check(lambda a, b: rg.where(cond2, a, b), randn(2, 3), randn(3))


def test_where_cond_from_input():
    check(lambda a: rg.where(a > 0, a * 2.0, a.exp()), avoiding(3, 4))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat(dim):
    shapes = {0: [(1, 3), (2, 3), (4, 3)], 1: [(2, 1), (2, 3), (2, 2)], -1: [(2, 2), (2, 1)]}
    inputs = [randn(*s) for s in shapes[dim]]
    check(lambda *ts: rg.cat(ts, dim), *inputs)
    check(lambda *ts: rg.cat(list(ts), dim=dim), *inputs)


def test_cat_same_tensor_twice():
    check(lambda a: rg.cat([a, a * 2.0, a]), randn(2, 3))


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_stack(dim):
    inputs = [randn(2, 3) for _ in range(3)]
    check(lambda *ts: rg.stack(ts, dim), *inputs)
    check(lambda *ts: rg.stack(list(ts), dim=dim), *inputs)


# ---------------------------------------------------------------- views and shape ops

VIEWS = {
    "view": (lambda x: x.view(6, 4), (2, 3, 4)),
    "view_infer": (lambda x: x.view(-1, 2), (2, 3, 4)),
    "view_tuple": (lambda x: x.view((4, 6)), (2, 3, 4)),
    "reshape": (lambda x: x.reshape(4, 6), (2, 3, 4)),
    "reshape_infer": (lambda x: x.reshape(3, -1), (2, 3, 4)),
    "reshape_noncontig": (lambda x: x.transpose(0, 2).reshape(-1), (2, 3, 4)),
    "reshape_function": (lambda x: rg.reshape(x, (24,)), (2, 3, 4)),
    "flatten": (lambda x: x.flatten(), (2, 3, 4)),
    "flatten_start": (lambda x: x.flatten(1), (2, 3, 4)),
    "flatten_range": (lambda x: x.flatten(0, 1), (2, 3, 4)),
    "flatten_noncontig": (lambda x: x.permute(2, 0, 1).flatten(), (2, 3, 4)),
    "squeeze_all": (lambda x: x.squeeze(), (1, 3, 1, 2)),
    "squeeze_dim": (lambda x: x.squeeze(2), (1, 3, 1, 2)),
    "squeeze_neg": (lambda x: x.squeeze(-4), (1, 3, 1, 2)),
    "squeeze_noop": (lambda x: x.squeeze(1), (1, 3, 1, 2)),
    "unsqueeze_0": (lambda x: x.unsqueeze(0), (2, 3)),
    "unsqueeze_mid": (lambda x: x.unsqueeze(1), (2, 3)),
    "unsqueeze_neg": (lambda x: x.unsqueeze(-1), (2, 3)),
    "t": (lambda x: x.t(), (2, 3)),
    "t_1d": (lambda x: x.t(), (3,)),
    "T": (lambda x: x.T, (2, 3)),
    "transpose": (lambda x: x.transpose(0, 2), (2, 3, 4)),
    "transpose_neg": (lambda x: x.transpose(-1, -2), (2, 3, 4)),
    "permute": (lambda x: x.permute(2, 0, 1), (2, 3, 4)),
    "permute_tuple": (lambda x: x.permute((1, 2, 0)), (2, 3, 4)),
    "expand": (lambda x: x.expand(4, 2, 3), (2, 3)),
    "expand_singleton": (lambda x: x.expand(2, 3), (2, 1)),
    "expand_keep": (lambda x: x.expand(-1, 5), (2, 1)),
    "contiguous": (lambda x: x.t().contiguous(), (2, 3)),
    "contiguous_noop": (lambda x: x.contiguous() * 1.0, (2, 3)),
    "chain": (lambda x: x.t().unsqueeze(0).expand(2, 3, 2).reshape(6, 2).T, (2, 3)),
}


@pytest.mark.parametrize("op", list(VIEWS))
def test_view_ops(op):
    fn, shape = VIEWS[op]
    check(fn, randn(*shape))


def test_views_of_noncontiguous_leaf():
    check(lambda x: x.reshape(-1), noncontig_t(3, 4))
    check(lambda x: x.flatten(), noncontig_slice(3, 4))
    check(lambda x: x.t().contiguous().view(-1), noncontig_t(3, 4))
    check(lambda x: x.unsqueeze(1).expand(3, 2, 4), noncontig_slice(3, 4))


# ---------------------------------------------------------------- indexing

INDEX = {
    "int": lambda x: x[1],
    "neg_int": lambda x: x[-1],
    "int_int": lambda x: x[1, 2],
    "slice": lambda x: x[1:3],
    "slice_step": lambda x: x[::2],
    "slice_step_offset": lambda x: x[1::2, ::3],
    "slice_open": lambda x: x[:, 2:],
    "slice_neg": lambda x: x[-2:, :-1],
    "ellipsis": lambda x: x[..., 1],
    "ellipsis_front": lambda x: x[1, ...],
    "none": lambda x: x[None],
    "none_mid": lambda x: x[:, None, 1:],
    "list": lambda x: x[[0, 2, 3]],
    "list_repeated": lambda x: x[[0, 2, 0, 0]],
    "list_dim1": lambda x: x[:, [4, 1, 4]],
    "tensor_repeated": lambda x: x[on_device(rg.tensor([3, 1, 3, 3]))],
    # an index tensor left on the CPU: allowed with data on any device, as in PyTorch
    "tensor_negative": lambda x: x[rg.tensor([-1, 0, -1])],
    "mixed": lambda x: x[1:, [0, 0, 2]],
}


@pytest.mark.parametrize("op", list(INDEX))
def test_indexing(op):
    check(INDEX[op], randn(4, 5))


def test_indexing_3d():
    check(lambda x: x[1, :, ::2], randn(2, 3, 4))
    check(lambda x: x[..., None, 0], randn(2, 3, 4))


def test_indexing_noncontiguous_leaf():
    check(lambda x: x[1:, ::2], noncontig_t(4, 5))
    check(lambda x: x[[0, 0, 3]], noncontig_slice(4, 5))


# ---------------------------------------------------------------- __setitem__


def _setitem(index):
    def fn(x, v):
        y = x * 1.0
        y[index] = v
        return y

    return fn


SETITEM = {
    "row": ((1,), (4,)),
    "column": ((slice(None), 2), (3,)),
    "block": ((slice(1, 3), slice(0, 2)), (2, 2)),
    "strided": ((slice(None, None, 2),), (2, 4)),
    "broadcast_row": ((slice(1, None),), (4,)),
    "element": ((0, 3), ()),
}


@pytest.mark.parametrize("case", list(SETITEM))
def test_setitem(case):
    index, vshape = SETITEM[case]
    check(_setitem(index), randn(3, 4), randn(*vshape))


def test_setitem_python_scalar():
    def fn(x):
        y = x * 2.0
        y[1, 1:] = 5.0
        return y

    check(fn, randn(3, 4))


# ---------------------------------------------------------------- non-contiguous inputs


NONCONTIG = {
    "exp": lambda a, b: a.exp(),
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1.0),
    "sum_dim": lambda a, b: a.sum(0) + b.mean(1, keepdim=True),
    "softmax": lambda a, b: a.softmax(1) * b.log_softmax(0),
    "max_dim": lambda a, b: a.max(1).values + b.min(1)[0],
    "where": lambda a, b: rg.where(a > b, a, b * 3.0),
    "cat": lambda a, b: rg.cat([a, b], 1),
    "stack": lambda a, b: rg.stack([a, b], 0),
}


@pytest.mark.parametrize("op", list(NONCONTIG))
def test_noncontiguous_leaves(op):
    check(NONCONTIG[op], noncontig_t(3, 4), noncontig_slice(3, 4))


@pytest.mark.parametrize("op", list(NONCONTIG))
def test_noncontiguous_intermediates(op):
    # The op sees views of contiguous leaves: transposed and strided slices.
    fn = NONCONTIG[op]
    check(lambda a, b: fn(a.t(), b[:, ::2]), randn(4, 3), randn(3, 8))


# ---------------------------------------------------------------- composites


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
