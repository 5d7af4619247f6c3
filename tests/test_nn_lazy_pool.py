"""nn.LazyConv1d/2d/3d, LazyConvTranspose1d/2d, the lazy batch and instance norms,
BatchNorm3d and adaptive pooling (F.adaptive_max_pool1d/2d with
indices, F.adaptive_avg_pool1d, nn.AdaptiveMaxPool1d/2d, nn.AdaptiveAvgPool1d) against PyTorch:
reprs before and after the first call, materialised shapes, state dicts, values, indices,
gradients, errors."""

import math

import numpy as np
import pytest
import rustgrad as rg
import rustgrad.nn.functional as F
from conftest import DEVICES, assert_close, raises
from layers_util import load_from_torch, load_into_torch, to_rg
from rustgrad import nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional

LAZY = [
    ("LazyConv1d", (4, 3), {"padding": 1}, (2, 3, 9)),
    ("LazyConv1d", (6, 2), {"groups": 3, "bias": False}, (3, 7)),
    ("LazyConv2d", (4, 3), {"stride": 2, "padding": "valid"}, (2, 3, 7, 8)),
    (
        "LazyConv2d",
        (4, (2, 3)),
        {"dilation": 2, "padding_mode": "reflect", "padding": 1},
        (3, 6, 7),
    ),
    ("LazyConvTranspose2d", (4, 3), {"stride": 2, "output_padding": 1}, (2, 3, 5, 4)),
    ("LazyConvTranspose2d", (4, 2), {"groups": 2, "bias": False}, (4, 5, 5)),
]


@pytest.mark.parametrize(("name", "args", "kw", "shape"), LAZY)
def test_lazy_conv_matches_torch(name, args, kw, shape):
    theirs = getattr(torch.nn, name)(*args, **kw).double()
    ours = getattr(nn, name)(*args, **kw, dtype=rg.float64)
    assert repr(ours) == repr(theirs)
    assert ours.has_uninitialized_params()
    assert repr(ours.weight) == "<UninitializedParameter>"
    x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    xr = to_rg(x).requires_grad_()
    out_t, out_r = theirs(x), ours(xr)  # materialise both
    assert type(ours).__name__ == type(theirs).__name__ == name.replace("Lazy", "")
    assert repr(ours) == repr(theirs)
    assert ours.in_channels == theirs.in_channels
    for (k, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
        assert tuple(a.shape) == tuple(b.shape), k
    load_from_torch(ours, theirs)
    load_into_torch(theirs, ours)
    out_t, out_r = theirs(x), ours(xr)
    assert_close(out_r, out_t.detach(), rtol=1e-10, atol=1e-12)
    g = torch.randn(out_t.shape, dtype=torch.float64)
    out_t.backward(g)
    out_r.backward(to_rg(g))
    assert_close(xr.grad, x.grad, rtol=1e-10, atol=1e-12)
    assert_close(ours.weight.grad, theirs.weight.grad, rtol=1e-10, atol=1e-12)


def test_lazy_conv_default_init_bounds():
    """kaiming_uniform_(a=sqrt(5)): weight and bias within 1/sqrt(fan_in), as PyTorch's."""
    rg.manual_seed(0)
    m = nn.LazyConv2d(16, 3)
    m(rg.randn(1, 8, 5, 5))
    bound = 1 / (8 * 9) ** 0.5
    for p in (m.weight, m.bias):
        values = abs(p.detach().numpy())
        assert values.max() <= bound and values.max() > 0.8 * bound


def test_lazy_conv_errors_as_torch():
    for lib in (torch.nn, nn):
        with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
            lib.LazyConv2d(4, 3, groups=2)(lib.Conv2d(1, 3, 1)(rg_or_torch(lib).randn(1, 1, 5, 5)))  # fmt: skip
    with raises(RuntimeError, "Expected 3D (unbatched) or 4D (batched) input to LazyConv2d, but got input of size"):  # fmt: skip
        nn.LazyConv2d(4, 3)(rg.randn(3, 3))


def rg_or_torch(lib):
    return torch if lib is torch.nn else rg


POOL_CASES = [
    ((2, 3, 7, 9), 3),
    ((2, 3, 7, 9), (4, 2)),
    ((3, 5, 6), (None, 4)),
    ((2, 2, 4, 4), 7),  # larger than the input: overlapping windows
    ((1, 2, 5, 3), (5, 3)),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("shape", "size"), POOL_CASES)
def test_adaptive_max_pool2d_matches_torch(device, shape, size):
    x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    xr = to_rg(x, device).requires_grad_()
    out_t, idx_t = TF.adaptive_max_pool2d(x, size, return_indices=True)
    out_r, idx_r = F.adaptive_max_pool2d(xr, size, return_indices=True)
    assert_close(out_r.cpu(), out_t.detach())
    assert idx_r.dtype == rg.int64
    assert_close(idx_r.cpu(), idx_t)
    g = torch.randn(out_t.shape, dtype=torch.float64)
    out_t.backward(g)
    out_r.backward(to_rg(g, device))
    assert_close(xr.grad.cpu(), x.grad)
    assert_close(F.adaptive_max_pool2d(xr, size).cpu(), out_t.detach())
    m_t, m_r = torch.nn.AdaptiveMaxPool2d(size, True), nn.AdaptiveMaxPool2d(size, True)
    assert repr(m_r) == repr(m_t)
    assert_close(m_r(xr)[1].cpu(), m_t(x)[1])


@pytest.mark.parametrize(("shape", "size"), [((2, 3, 10), 4), ((3, 7), 3), ((2, 1, 4), (6,))])
def test_adaptive_pool1d_matches_torch(shape, size):
    x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    xr = to_rg(x).requires_grad_()
    out_t, idx_t = TF.adaptive_max_pool1d(x, size, return_indices=True)
    out_r, idx_r = F.adaptive_max_pool1d(xr, size, return_indices=True)
    assert_close(out_r, out_t.detach())
    assert_close(idx_r, idx_t)
    avg_t, avg_r = TF.adaptive_avg_pool1d(x, size), F.adaptive_avg_pool1d(xr, size)
    assert_close(avg_r, avg_t.detach(), rtol=1e-12)
    g1, g2 = (torch.randn(out_t.shape, dtype=torch.float64) for _ in range(2))
    (out_t * g1 + avg_t * g2).sum().backward()
    (out_r * to_rg(g1) + avg_r * to_rg(g2)).sum().backward()
    assert_close(xr.grad, x.grad, rtol=1e-12)
    for name in ("AdaptiveMaxPool1d", "AdaptiveAvgPool1d"):
        m_t, m_r = getattr(torch.nn, name)(size), getattr(nn, name)(size)
        assert repr(m_r) == repr(m_t)
        assert_close(m_r(xr), m_t(x).detach(), rtol=1e-12)
    _, i = F.adaptive_max_pool1d_with_indices(xr, size)
    assert_close(i, idx_t)


def test_adaptive_max_pool_ties_take_the_first():
    x = torch.tensor([[[1.0, 3.0, 3.0, 0.0, 2.0, 2.0]]])
    _, idx_t = TF.adaptive_max_pool1d(x, 2, return_indices=True)
    _, idx_r = F.adaptive_max_pool1d(to_rg(x), 2, return_indices=True)
    assert_close(idx_r, idx_t)


def test_adaptive_pool_errors_as_torch():
    with raises(RuntimeError, "adaptive_max_pool2d(): Expected 3D or 4D tensor, but got: [2, 3]"):
        F.adaptive_max_pool2d(rg.zeros(2, 3), 2)
    msg = "Expected 2 to 3 dimensions, but got 4-dimensional tensor for argument #1 'self' (while checking arguments for adaptive_max_pool1d)"  # fmt: skip
    with raises(RuntimeError, msg):
        F.adaptive_max_pool1d(rg.zeros(2, 3, 4, 5), 2)
    with raises(RuntimeError, msg.replace("max", "avg")):
        F.adaptive_avg_pool1d(rg.zeros(2, 3, 4, 5), 2)
    with raises(RuntimeError, "adaptive_max_pool1d() argument 'output_size' should contain one int (got 2)"):  # fmt: skip
        F.adaptive_max_pool1d(rg.zeros(2, 3, 4), (2, 3))


@pytest.mark.parametrize(
    "name, args, shape",
    [
        ("LazyBatchNorm1d", (), (4, 3)),
        ("LazyBatchNorm1d", (), (4, 3, 5)),
        ("LazyBatchNorm2d", (), (2, 3, 4, 4)),
        ("LazyBatchNorm3d", (), (2, 3, 2, 2, 2)),
        ("LazyInstanceNorm1d", (), (2, 3, 5)),
        ("LazyInstanceNorm2d", (), (2, 3, 4, 4)),
        ("LazyInstanceNorm3d", (), (2, 3, 2, 2, 2)),
        ("LazyConv3d", (4, 2), (1, 3, 4, 4, 4)),
        ("LazyConvTranspose1d", (4, 2), (1, 3, 5)),
        ("BatchNorm3d", (3,), (2, 3, 2, 2, 2)),
    ],
)
def test_lazy_modules_become_torchs(name, args, shape):
    def run(lib):
        lib.manual_seed(0)
        m = getattr(lib.nn, name)(*args)
        before = (sorted(m.state_dict()), m.has_uninitialized_params()) if name.startswith("Lazy") else None  # fmt: skip
        x = lib.linspace(-2, 3, math.prod(shape)).reshape(shape)
        y = m(x)
        sizes = sorted((k, tuple(v.shape)) for k, v in m.state_dict().items())
        stats = None if getattr(m, "running_mean", None) is None else m.running_mean.tolist()
        return before, type(m).__name__, repr(m), sizes, tuple(y.shape), stats

    ours, theirs = run(rg), run(torch)
    assert ours[:5] == theirs[:5]
    if ours[5] is not None:
        np.testing.assert_allclose(ours[5], theirs[5], rtol=1e-5, atol=1e-6)


def test_batch_norm3d_values_and_errors_as_torch():
    from conftest import outcome

    def run(lib):
        m = lib.nn.BatchNorm3d(3)
        y = m(lib.linspace(0, 1, 48).reshape(2, 3, 2, 2, 2))
        return y.detach().numpy().round(5).tolist(), np.round(m.running_var.tolist(), 6).tolist()

    assert outcome(run, rg) == outcome(run, torch)
    bad = lambda lib: lib.nn.BatchNorm3d(3)(lib.ones(2, 3, 4))
    assert outcome(bad, rg) == outcome(bad, torch)
