"""PyTorch parity: the same expressions through rustgrad and the reference PyTorch.

Each case gets the same NumPy inputs in both libraries; forward values, gradients (for a random
upstream gradient), dtypes and ``grad_fn`` names must agree. float64 is compared tightly and
float32 loosely. Skips when torch is not installed.

The tests that take a ``device`` run rustgrad on each device of ``conftest.DEVICES`` (CUDA where
a GPU is there) against PyTorch on the CPU: the inputs are made on the CPU, moved with
``.to(device)``, and the results are compared after copying them back.
"""

import zlib

import numpy as np
import pytest
import rustgrad as rg
from conftest import DEVICES, assert_close, draw_input, graph_signature, node_name

torch = pytest.importorskip("torch")

TOL = {
    "float64": {"rtol": 1e-10, "atol": 1e-12},
    "float32": {"rtol": 1e-4, "atol": 1e-5},
}


def _spec(*items):
    """The inputs of a case, as (kind, shape) pairs."""
    return items


N23, N3, P23 = ("n", (2, 3)), ("n", (3,)), ("p", (2, 3))

# id: (function of (mod, *inputs), input specs)
CASES = {
    # binary ops, tensor-tensor with broadcasting, and python scalars on either side
    "add": (lambda m, a, b: a + b, _spec(N23, N23)),
    "add_bcast": (lambda m, a, b: a + b, _spec(("n", (4, 1, 3)), ("n", (2, 1)))),
    "add_scalar": (lambda m, a: a + 2.5, _spec(N23)),
    "radd_scalar": (lambda m, a: 2.5 + a, _spec(N23)),
    "sub": (lambda m, a, b: a - b, _spec(N23, N3)),
    "sub_scalar": (lambda m, a: a - 1.5, _spec(N23)),
    "rsub_scalar": (lambda m, a: 1.5 - a, _spec(N23)),
    "mul": (lambda m, a, b: a * b, _spec(("n", (2, 1)), ("n", (1, 3)))),
    "mul_scalar": (lambda m, a: a * 3.0, _spec(N23)),
    "rmul_int": (lambda m, a: 3 * a, _spec(N23)),
    "div": (lambda m, a, b: a / b, _spec(N23, ("p", (3,)))),
    "div_scalar": (lambda m, a: a / 4.0, _spec(N23)),
    "rdiv_scalar": (lambda m, a: 4.0 / a, _spec(P23)),
    "pow_tensor": (lambda m, a, b: a**b, _spec(P23, N23)),
    "pow_tensor_bcast": (lambda m, a, b: a.pow(b), _spec(P23, ("n", ()))),
    "pow_int": (lambda m, a: a**2, _spec(N23)),
    "pow_float": (lambda m, a: a**2.5, _spec(P23)),
    "pow_method": (lambda m, a: a.pow(3), _spec(N23)),
    "rpow_scalar": (lambda m, a: 2.0**a, _spec(N23)),
    "neg": (lambda m, a: -a, _spec(N23)),
    # unary
    "abs": (lambda m, a: a.abs(), _spec(("z", (2, 3)))),
    "exp": (lambda m, a: a.exp(), _spec(N23)),
    "log": (lambda m, a: a.log(), _spec(P23)),
    "sqrt": (lambda m, a: a.sqrt(), _spec(P23)),
    "tanh": (lambda m, a: a.tanh(), _spec(N23)),
    "sigmoid": (lambda m, a: a.sigmoid(), _spec(N23)),
    "relu": (lambda m, a: a.relu(), _spec(("z", (2, 3)))),
    "clamp_both": (lambda m, a: a.clamp(-0.5, 0.5), _spec(("z", (3, 4)))),
    "clamp_min": (lambda m, a: a.clamp(min=-0.5), _spec(("z", (3, 4)))),
    "clamp_max": (lambda m, a: a.clamp(max=0.5), _spec(("z", (3, 4)))),
    # matmul
    "dot": (lambda m, a, b: a @ b, _spec(N3, N3)),
    "mv": (lambda m, a, b: a @ b, _spec(N23, N3)),
    "vm": (lambda m, a, b: a @ b, _spec(N3, ("n", (3, 4)))),
    "mm": (lambda m, a, b: a @ b, _spec(N23, ("n", (3, 4)))),
    "mm_function": (lambda m, a, b: m.mm(a, b), _spec(N23, ("n", (3, 4)))),
    "bmm": (lambda m, a, b: a @ b, _spec(("n", (5, 2, 3)), ("n", (5, 3, 4)))),
    "matmul_bcast": (lambda m, a, b: m.matmul(a, b), _spec(("n", (2, 1, 3, 4)), ("n", (5, 4, 2)))),
    # reductions
    "sum": (lambda m, a: a.sum(), _spec(("n", (2, 3, 4)))),
    "sum_dim": (lambda m, a: a.sum(1), _spec(("n", (2, 3, 4)))),
    "sum_tuple_keep": (lambda m, a: a.sum((0, -1), keepdim=True), _spec(("n", (2, 3, 4)))),
    "mean": (lambda m, a: a.mean(), _spec(("n", (2, 3, 4)))),
    "mean_dim": (lambda m, a: a.mean(dim=-1), _spec(("n", (2, 3, 4)))),
    "mean_tuple_keep": (lambda m, a: a.mean((0, 2), keepdim=True), _spec(("n", (2, 3, 4)))),
    "max": (lambda m, a: a.max(), _spec(("n", (3, 4)))),
    "min": (lambda m, a: a.min(), _spec(("n", (3, 4)))),
    "max_dim": (lambda m, a: a.max(1).values, _spec(("n", (3, 4)))),
    "min_dim_keep": (lambda m, a: a.min(dim=0, keepdim=True)[0], _spec(("n", (3, 4)))),
    "softmax": (lambda m, a: a.softmax(1), _spec(("n", (3, 4)))),
    "softmax_dim0": (lambda m, a: m.softmax(a, 0), _spec(("n", (3, 4)))),
    "log_softmax": (lambda m, a: a.log_softmax(-1), _spec(("n", (3, 4)))),
    "log_softmax_dim0": (lambda m, a: m.log_softmax(a, dim=0), _spec(("n", (3, 4)))),
    # selection and joining
    "where": (lambda m, a, b: m.where(a > b, a, b), _spec(N23, N3)),
    "cat": (lambda m, a, b: m.cat([a, b], 0), _spec(N23, ("n", (1, 3)))),
    "cat_dim1": (lambda m, a, b: m.cat((a, b), dim=1), _spec(N23, ("n", (2, 2)))),
    "stack": (lambda m, a, b: m.stack([a, b]), _spec(N23, N23)),
    "stack_dim1": (lambda m, a, b: m.stack([a, b], 1), _spec(N23, N23)),
    # views
    "view": (lambda m, a: a.view(6), _spec(N23)),
    "view_infer": (lambda m, a: a.view(-1, 2), _spec(N23)),
    "reshape": (lambda m, a: a.reshape(3, 2), _spec(N23)),
    "reshape_noncontig": (lambda m, a: a.t().reshape(6), _spec(N23)),
    "flatten": (lambda m, a: a.flatten(), _spec(("n", (2, 3, 4)))),
    "flatten_noncontig": (lambda m, a: a.transpose(0, 1).flatten(), _spec(N23)),
    "squeeze": (lambda m, a: a.squeeze(), _spec(("n", (1, 3, 1)))),
    "squeeze_dim": (lambda m, a: a.squeeze(0), _spec(("n", (1, 3, 1)))),
    "unsqueeze": (lambda m, a: a.unsqueeze(1), _spec(N23)),
    "t": (lambda m, a: a.t(), _spec(N23)),
    "T": (lambda m, a: a.T, _spec(N23)),
    "transpose": (lambda m, a: a.transpose(0, 2), _spec(("n", (2, 3, 4)))),
    "permute": (lambda m, a: a.permute(2, 0, 1), _spec(("n", (2, 3, 4)))),
    "expand": (lambda m, a: a.expand(4, 3), _spec(N3)),
    "contiguous": (lambda m, a: a.t().contiguous(), _spec(N23)),
    # indexing
    "index_int": (lambda m, a: a[1], _spec(("n", (4, 5)))),
    "index_int_int": (lambda m, a: a[1, 2], _spec(("n", (4, 5)))),
    "index_slice": (lambda m, a: a[1:3], _spec(("n", (4, 5)))),
    "index_slice_step": (lambda m, a: a[::2, 1::2], _spec(("n", (4, 5)))),
    "index_ellipsis": (lambda m, a: a[..., 1], _spec(("n", (2, 3, 4)))),
    "index_none": (lambda m, a: a[None], _spec(("n", (4, 5)))),
    "index_list": (lambda m, a: a[[0, 2, 0]], _spec(("n", (4, 5)))),
    "index_tensor": (lambda m, a: a[m.tensor([3, 1, 3, 3])], _spec(("n", (4, 5)))),
}

# Cases whose whole graph (names of every node, AccumulateGrad for leaves, None for constants)
# must match PyTorch's, not only the output's grad_fn name.
FULL_GRAPH = [
    "add",
    "add_bcast",
    "add_scalar",
    "radd_scalar",
    "sub",
    "sub_scalar",
    "rsub_scalar",
    "mul",
    "mul_scalar",
    "rmul_int",
    "div",
    "div_scalar",
    "pow_tensor",
    "pow_int",
    "pow_float",
    "rpow_scalar",
    "neg",
    "abs",
    "exp",
    "log",
    "sqrt",
    "tanh",
    "sigmoid",
    "relu",
    "clamp_both",
    "clamp_min",
    "clamp_max",
    "dot",
    "mv",
    "mm",
    "sum",
    "sum_dim",
    "mean",
    "mean_dim",
    "max",
    "min",
    "max_dim",
    "softmax",
    "log_softmax",
    "where",
    "cat",
    "stack",
    "view",
    "reshape",
    "flatten",
    "unsqueeze",
    "t",
    "T",
    "transpose",
    "permute",
    "expand",
    "contiguous",
    "index_int",
    "index_int_int",
    "index_slice",
    "index_slice_step",
    "index_none",
    "index_list",
    "index_tensor",
]


def _leaves(mod, arrays, device="cpu"):
    """One leaf requiring grad per array, made on the CPU and moved to ``device``."""
    return [mod.tensor(a).to(device).requires_grad_() for a in arrays]


def _run(mod, fn, arrays, upstream_seed, device="cpu"):
    leaves = _leaves(mod, arrays, device)
    out = fn(mod, *leaves)
    g = np.asarray(np.random.default_rng(upstream_seed).standard_normal(tuple(out.shape)))
    out.backward(mod.tensor(g.astype(arrays[0].dtype)).to(device))
    return leaves, out


def _dtype_name(mod, dt):
    for name in ("float32", "float64", "int64", "bool"):
        if dt == getattr(mod, name):
            return name
    return repr(dt)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", list(CASES))
def test_forward_and_grad(case, dtype, device):
    fn, specs = CASES[case]
    rng = np.random.default_rng(zlib.crc32(case.encode()))
    arrays = [draw_input(rng, kind, shape).astype(dtype) for kind, shape in specs]
    rg_leaves, rg_out = _run(rg, fn, arrays, 7, device)
    th_leaves, th_out = _run(torch, fn, arrays, 7)
    tol = TOL[dtype]
    assert rg_out.device.type == device
    assert tuple(rg_out.shape) == tuple(th_out.shape)
    assert _dtype_name(rg, rg_out.dtype) == _dtype_name(torch, th_out.dtype)
    assert_close(rg_out.cpu(), th_out, **tol)
    for r, t in zip(rg_leaves, th_leaves):
        assert r.grad is not None
        assert r.grad.device.type == device
        assert _dtype_name(rg, r.grad.dtype) == _dtype_name(torch, t.grad.dtype)
        assert_close(r.grad.cpu(), t.grad, **tol)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", list(CASES))
def test_grad_fn_name(case, device):
    fn, specs = CASES[case]
    rng = np.random.default_rng(0)
    arrays = [draw_input(rng, kind, shape) for kind, shape in specs]
    rg_out = fn(rg, *_leaves(rg, arrays, device))
    th_out = fn(torch, *_leaves(torch, arrays))
    assert node_name(rg_out.grad_fn) == node_name(th_out.grad_fn)
    assert rg_out.grad_fn.name() in (th_out.grad_fn.name(), node_name(th_out.grad_fn))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", FULL_GRAPH)
def test_graph_structure(case, device):
    fn, specs = CASES[case]
    rng = np.random.default_rng(0)
    arrays = [draw_input(rng, kind, shape) for kind, shape in specs]
    rg_out = fn(rg, *_leaves(rg, arrays, device))
    th_out = fn(torch, *_leaves(torch, arrays))
    assert graph_signature(rg_out.grad_fn) == graph_signature(th_out.grad_fn)


@pytest.mark.parametrize("device", DEVICES)
def test_graph_with_constant_tensor_input(device):
    # A tensor that does not require grad shows up as (None, 0) in next_functions.
    def build(mod, device="cpu"):
        x = mod.tensor([1.0, 2.0, 3.0]).to(device).requires_grad_()
        c = mod.tensor([4.0, 5.0, 6.0]).to(device)
        return ((x * c + c) * x).sum()

    assert graph_signature(build(rg, device).grad_fn) == graph_signature(build(torch).grad_fn)


# ---------------------------------------------------------------- composites


def _mlp(mod, x, w1, b1, w2, b2, onehot):
    h = (x @ w1 + b1).relu()
    logits = h @ w2 + b2
    nll = -(logits.log_softmax(dim=1) * onehot).sum(1).mean()
    probs = logits.softmax(1)
    mse = ((probs - onehot) ** 2).mean()
    return nll + 0.5 * mse


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_mlp_parity(dtype, device):
    rng = np.random.default_rng(42)
    x = rng.standard_normal((8, 5)).astype(dtype)
    params = [rng.standard_normal(s).astype(dtype) * 0.5 for s in [(5, 16), (16,), (16, 3), (3,)]]
    onehot = np.eye(3, dtype=dtype)[rng.integers(0, 3, 8)]

    results = {}
    for mod, dev in ((rg, device), (torch, "cpu")):
        ps = _leaves(mod, params, dev)
        loss = _mlp(mod, mod.tensor(x).to(dev), *ps, mod.tensor(onehot).to(dev))
        loss.backward()
        results[mod.__name__] = (loss, ps)
    (rg_loss, rg_ps), (th_loss, th_ps) = results["rustgrad"], results["torch"]
    tol = TOL[dtype]
    assert rg_loss.device.type == device
    assert_close(rg_loss.cpu(), th_loss, **tol)
    for r, t in zip(rg_ps, th_ps):
        assert r.grad.device.type == device
        assert_close(r.grad.cpu(), t.grad, **tol)
    assert graph_signature(rg_loss.grad_fn) == graph_signature(th_loss.grad_fn)


@pytest.mark.parametrize("device", DEVICES)
def test_softmax_large_logits_parity(device):
    big = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1002.0, -1001.0]], dtype=np.float32)
    for op in ("softmax", "log_softmax"):
        r = getattr(rg.tensor(big).to(device), op)(1)
        t = getattr(torch.tensor(big), op)(1)
        assert r.device.type == device
        assert np.isfinite(r.cpu().numpy()).all()
        assert_close(r.cpu(), t, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("device", DEVICES)
def test_repeated_backward_accumulates_like_torch(device):
    arr = np.array([0.3, -1.2, 2.0])
    grads = {}
    for mod, dev in ((rg, device), (torch, "cpu")):
        (x,) = _leaves(mod, [arr], dev)
        y = (x * x).exp().sum()
        y.backward(retain_graph=True)
        y.backward()
        grads[mod.__name__] = x.grad
    assert grads["rustgrad"].device.type == device
    assert_close(grads["rustgrad"].cpu(), grads["torch"], rtol=1e-12)


# ---------------------------------------------------------------- dtypes and promotion


def _promotion_cases(mod, device="cpu"):
    f32 = mod.ones(2).to(device)
    f64 = mod.ones(2, dtype=mod.float64).to(device)
    i64 = mod.ones(2, dtype=mod.int64).to(device)
    b = mod.ones(2, dtype=mod.bool).to(device)
    zeros = mod.zeros(2).to(device)
    # "f32*0dim_f64" keeps its 0-dim tensor on the CPU: allowed with tensors on any device.
    return {
        "f32+f64": lambda: f32 + f64,
        "f64*f32": lambda: f64 * f32,
        "i64+pyfloat": lambda: i64 + 1.5,
        "f32+pyfloat": lambda: f32 + 1.5,
        "f64+pyfloat": lambda: f64 * 1.5,
        "pyfloat-f32": lambda: 2.5 - f32,
        "i64+pyint": lambda: i64 + 1,
        "i64+f64": lambda: i64 + f64,
        "i64+f32": lambda: i64 + f32,
        "i64/i64": lambda: i64 / i64,
        "f32*0dim_f64": lambda: f32 * mod.tensor(2.0, dtype=mod.float64),
        "f32<f64": lambda: f32 < f64,
        "f32==pyint": lambda: f32 == 1,
        "i64!=pyfloat": lambda: i64 != 1.5,
        "f32>=f32": lambda: f32 >= zeros,
        "f32<=i64": lambda: f32 <= i64,
        "f32>f32": lambda: zeros > f32,
        "where_f32_f64": lambda: mod.where(b, f32, f64),
        "cat_f32_f64": lambda: mod.cat([f32, f64]),
        "i64.sum": lambda: i64.sum(),
        "argmax": lambda: f32.argmax(),
        "max_dim_indices": lambda: f32.max(0)[1],
    }


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", list(_promotion_cases(torch)))
def test_type_promotion(case, device):
    r = _promotion_cases(rg, device)[case]()
    t = _promotion_cases(torch)[case]()
    assert r.device.type == device
    assert _dtype_name(rg, r.dtype) == _dtype_name(torch, t.dtype)
    assert_close(r.cpu(), t)
    assert r.requires_grad is False


@pytest.mark.parametrize(
    "data",
    [
        [1.0, 2.0],
        [1, 2],
        [True, False],
        [1, 2.5],
        [[1, 2], [3, 4]],
        3.5,
        3,
        np.array([1.0, 2.0], dtype=np.float32),
        np.array([1.0, 2.0], dtype=np.float64),
        np.array([1, 2], dtype=np.int64),
        np.array([True, False]),
        np.float64(2.5),
    ],
    ids=repr,
)
def test_tensor_dtype_inference(data):
    r = rg.tensor(data)
    t = torch.tensor(data)
    assert _dtype_name(rg, r.dtype) == _dtype_name(torch, t.dtype)
    assert tuple(r.shape) == tuple(t.shape)
    assert_close(r, t)


def test_legacy_tensor_constructor_is_float32():
    r = rg.Tensor([1, 2, 3])
    t = torch.Tensor([1, 2, 3])
    assert _dtype_name(rg, r.dtype) == _dtype_name(torch, t.dtype) == "float32"
    assert_close(r, t)


def test_creation_dtypes_match_torch():
    pairs = [
        lambda m: m.zeros(2),
        lambda m: m.ones(2, dtype=m.float64),
        lambda m: m.full((2,), 1.5),
        lambda m: m.arange(5),
        lambda m: m.arange(0, 1, 0.25),
        lambda m: m.arange(5, dtype=m.float64),
        lambda m: m.linspace(0, 1, 5),
        lambda m: m.eye(3),
        lambda m: m.rand(2),
        lambda m: m.randn(2, dtype=m.float64),
        lambda m: m.zeros_like(m.ones(2, dtype=m.float64)),
        lambda m: m.ones_like(m.ones(2, dtype=m.int64)),
    ]
    for make in pairs:
        r, t = make(rg), make(torch)
        assert _dtype_name(rg, r.dtype) == _dtype_name(torch, t.dtype)
        assert tuple(r.shape) == tuple(t.shape)


def test_creation_values_match_torch():
    for make in [
        lambda m: m.arange(1, 10, 3),
        lambda m: m.arange(0, 1, 0.25),
        lambda m: m.linspace(-1, 1, 7),
        lambda m: m.eye(2, 3),
        lambda m: m.full((2, 2), 7.0),
    ]:
        assert_close(make(rg), make(torch), rtol=1e-6)
