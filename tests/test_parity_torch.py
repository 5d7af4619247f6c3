"""PyTorch parity: composites, graphs, accumulation and dtype rules against the reference
PyTorch.

Every op on its own is compared with PyTorch by the op table (``tests/opinfo.py``, run by
``tests/test_ops.py``: values, dtypes, gradients and ``grad_fn`` graphs of every sample in every
dtype). Here: whole models, graphs with constants, repeated backward, type promotion and dtype
inference. Each case gets the same NumPy inputs in both libraries; float64 is compared tightly
and float32 loosely. Skips when torch is not installed.

The tests that take a ``device`` run rustgrad on each device of ``conftest.DEVICES`` (CUDA where
a GPU is there) against PyTorch on the CPU: the inputs are made on the CPU, moved with
``.to(device)``, and the results are compared after copying them back.
"""

import numpy as np
import pytest
import rustgrad as rg
from conftest import DEVICES, assert_close, graph_signature

torch = pytest.importorskip("torch")

TOL = {
    "float64": {"rtol": 1e-10, "atol": 1e-12},
    "float32": {"rtol": 1e-4, "atol": 1e-5},
}


def _leaves(mod, arrays, device="cpu"):
    """One leaf requiring grad per array, made on the CPU and moved to ``device``."""
    return [mod.tensor(a).to(device).requires_grad_() for a in arrays]


def _dtype_name(mod, dt):
    for name in ("float32", "float64", "int64", "bool"):
        if dt == getattr(mod, name):
            return name
    return repr(dt)


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
        # bool arithmetic stays bool where PyTorch has a bool kernel (or, and)
        "bool+bool": lambda: b + b,
        "bool*bool": lambda: b * b,
        "bool+pybool": lambda: b + True,
        "bool*pyint": lambda: b * 3,
        "bool/bool": lambda: b / b,
        "bool.add(bool,alpha=int)": lambda: b.add(b, alpha=2),
        # an integer alpha, base or bound keeps the integer dtype; a float one promotes
        "i64.add(pyint,alpha=int)": lambda: i64.add(10, alpha=2),
        "i64.sub(i64,alpha=int)": lambda: i64.sub(i64, alpha=3),
        "pyint**i64": lambda: 2**i64,
        "pyfloat**i64": lambda: 2.0**i64,
        "pyint**bool": lambda: 3**b,
        "i64.clamp(float)": lambda: (i64 * 3).clamp(1.5, 2.5),
        "i64.clamp(int)": lambda: (i64 * 3).clamp(1, 2),
        "bool.clamp(float)": lambda: b.clamp(max=0.5),
        "where(b,pyint,pyint)": lambda: mod.where(b, 1, 0),
        "where(b,pybool,pybool)": lambda: mod.where(b, True, False),
        "where(b,pyfloat,pyint)": lambda: mod.where(b, 1.5, 0),
        "i64+bigint": lambda: i64 + (2**62 + 1),
        # NumPy scalars are Python numbers to PyTorch (np.bool_ through __float__)
        "i64*np.int64": lambda: i64 * np.int64(3),
        "i64+np.float32": lambda: i64 + np.float32(1.5),
        "f64+np.float32": lambda: f64 + np.float32(2),
        "bool+np.bool_": lambda: b + np.bool_(True),
        "np.float32+i64": lambda: np.float32(2) + i64,
        "np.int64*i64": lambda: np.int64(3) * i64,
        "where(b,i64,np.float32)": lambda: mod.where(b, i64, np.float32(2)),
        "i64.clamp(np.float64)": lambda: i64.clamp(np.float64(0.5)),
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


def _promotion_errors(mod):
    i64 = mod.ones(2, dtype=mod.int64)
    b = mod.ones(2, dtype=mod.bool)
    return {
        "bool-bool": lambda: b - b,
        "bool-pybool": lambda: b - True,
        "bool**bool": lambda: b**b,
        "i64.add(alpha=float)": lambda: i64.add(i64, alpha=1.5),
        "i64.add(alpha=bool)": lambda: i64.add(i64, alpha=True),
        "i64**-1": lambda: i64**-1,
        "i64.clamp_(float)": lambda: i64.clamp_(0.5, 1.5),
        "bool.clamp_(int)": lambda: b.clamp_(0),
        "bool.clamp_(float)": lambda: b.clamp_(max=0.5),
        "i64+2**64": lambda: i64 + 2**64,
        "i64-2**64": lambda: i64 - 2**64,
    }


@pytest.mark.parametrize("case", list(_promotion_errors(torch)))
def test_promotion_errors_match_torch(case):
    with pytest.raises(Exception) as expected:
        _promotion_errors(torch)[case]()
    with pytest.raises(Exception) as got:
        _promotion_errors(rg)[case]()
    assert got.type is expected.type
    assert str(got.value) == str(expected.value)


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


def _edge_programs(m):
    """Edge cases of shape rules where rustgrad once differed from PyTorch."""

    def cat_legacy_empty():
        x = m.ones(2, 3, requires_grad=True)
        e = m.tensor([], requires_grad=True)
        y = m.cat([e, x, m.tensor([])])
        (y * y).sum().backward()
        return y, x.grad, e.grad

    def setitem_leading_ones():
        v = m.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
        x = m.zeros(2, 3)
        x[0] = v * 2
        x.sum().backward()
        return x, v.grad

    def cross_entropy_soft_targets_extra_dims():
        logits = m.tensor(np.linspace(-1, 1, 24).reshape(2, 3, 4), requires_grad=True)
        target = m.tensor(np.full((2, 3, 4), 1 / 3))
        loss = m.nn.functional.cross_entropy(logits, target)
        loss.backward()
        return loss, logits.grad

    def max_dim_of_0d():
        x = m.tensor(2.5, requires_grad=True)
        v, i = x.max(0)
        (v * 3).backward()
        return v, i, x.grad

    def alias_of_everything():
        x = m.tensor([[1.0, 2.0]], requires_grad=True)
        y = x[...]
        (y * y).sum().backward()
        return y, x.grad

    return {
        f.__name__: f
        for f in (
            cat_legacy_empty,
            setitem_leading_ones,
            cross_entropy_soft_targets_extra_dims,
            max_dim_of_0d,
            alias_of_everything,
        )
    }


@pytest.mark.parametrize("name", list(_edge_programs(torch)))
def test_edge_programs_match_torch(name):
    got = _edge_programs(rg)[name]()
    expected = _edge_programs(torch)[name]()
    for g, e in zip(got, expected):
        assert tuple(g.shape) == tuple(e.shape)
        assert _dtype_name(rg, g.dtype) == _dtype_name(torch, e.dtype)
        assert_close(g.detach(), e.detach())
