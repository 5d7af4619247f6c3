"""Automatic mixed precision against PyTorch: ``torch.autocast`` (which ops run in bfloat16 or
float16, which in float32, which keep their dtype; nesting, decorators, flags, warnings) and
``GradScaler`` (scale, unscale, skipped steps, scale growth and backoff, state, errors)."""

import pickle
import warnings

import numpy as np
import pytest
import rustgrad as rg
from conftest import raises

torch = pytest.importorskip("torch")


def _dtype(t):
    return str(t.dtype).split(".")[-1]


def _model(m):
    m.manual_seed(0)
    return m.nn.Sequential(m.nn.Conv2d(2, 3, 3), m.nn.ReLU(), m.nn.Flatten(), m.nn.Linear(12, 4))


def _copy_params(src, dst):
    with torch.no_grad():
        for p, q in zip(src.parameters(), dst.parameters()):
            p.copy_(torch.tensor(q.detach().numpy()))


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_cpu_autocast_dtypes_values_and_gradients_match_torch(dtype):
    """Convolutions, linear layers and products in the low dtype, losses in float32, the rest
    in their input's dtype; parameter gradients stay float32."""
    rnet, tnet = _model(rg), _model(torch)
    _copy_params(tnet, rnet)
    x = np.random.default_rng(1).standard_normal((5, 2, 4, 4)).astype(np.float32)
    target = np.array([0, 3, 1, 2, 1])
    out = {}
    for m, net in ((rg, rnet), (torch, tnet)):
        xs = m.tensor(x)
        with m.autocast("cpu", dtype=getattr(m, dtype)):
            h = net[1](net[0](xs))
            logits = net[3](net[2](h))
            prod = xs.flatten(1) @ xs.flatten(1).t()
            double = xs.double().flatten(1) @ xs.double().flatten(1).t()  # float64: kept
            loss = m.nn.functional.cross_entropy(logits, m.tensor(target))
            mse = m.nn.functional.mse_loss(logits, m.zeros(5, 4))
            inside = (m.is_autocast_enabled("cpu"), m.get_autocast_dtype("cpu"))
        (loss + mse).backward()
        out[m] = (h, logits, prod, double, loss, mse, net[0].weight.grad, inside)
    r, t = out[rg], out[torch]
    assert [_dtype(v) for v in r[:7]] == [_dtype(v) for v in t[:7]]
    assert _dtype(r[1]) == dtype and _dtype(r[4]) == "float32"
    assert r[7][0] is True and str(r[7][1]).split(".")[-1] == dtype
    tol = 2e-2 if dtype == "bfloat16" else 2e-3  # (one low-precision rounding apart)
    for a, b in zip(r[:7], t[:7]):
        np.testing.assert_allclose(
            a.detach().float().numpy(), b.detach().float().numpy(), rtol=tol, atol=tol
        )


def test_autocast_nesting_decorator_and_flags_as_torch():
    for m in (rg, torch):
        a = m.ones(2, 2)

        @m.autocast("cpu")
        def product(x):
            return x @ x

        with m.autocast("cpu"):
            assert _dtype(a @ a) == "bfloat16"
            with m.autocast("cpu", enabled=False):
                assert _dtype(a @ a) == "float32"
                assert m.is_autocast_enabled("cpu") is False
            assert m.is_autocast_enabled("cpu") is True
            with pytest.warns(DeprecationWarning, match="is_autocast_enabled\\('cpu'\\)"):
                assert m.is_autocast_cpu_enabled() is True
        assert _dtype(product(a)) == "bfloat16"
        assert _dtype(a @ a) == "float32"
        assert m.is_autocast_enabled("cpu") is False
        assert m.is_autocast_enabled() is False  # (CUDA's flag)
        with pytest.warns(DeprecationWarning, match="get_autocast_dtype\\('cuda'\\)"):
            assert _dtype(m.zeros((), dtype=m.get_autocast_gpu_dtype())) == "float16"


def test_autocast_op_lists_beyond_products_as_torch():
    """LSTM in the low dtype (its outputs cast), GRU, interpolation, adaptive pooling, padding
    and mv in their inputs' dtype (their inner products not cast), linalg in float32."""

    def run(m):
        F = m.nn.functional
        m.manual_seed(0)
        with m.autocast("cpu"):
            out, (h, c) = m.nn.LSTM(4, 3)(m.randn(2, 1, 4))
            gru, _ = m.nn.GRU(4, 3)(m.randn(2, 1, 4))
            a = m.randn(3, 3)
            a = a @ a.t() + m.eye(3) * 3
            return [
                out, h, c, gru,
                F.interpolate(m.randn(1, 1, 2, 2), scale_factor=2, mode="bilinear"),
                F.adaptive_avg_pool2d(m.randn(1, 1, 5, 5), 3),
                F.pad(m.randn(1, 1, 4), (1, 1), mode="reflect"),
                m.mv(m.randn(2, 2), m.randn(2)),
                m.linalg.inv(a), m.linalg.eigh(a)[0], m.linalg.cholesky(a),
                m.linalg.vecdot(m.randn(3), m.randn(3)),
            ]  # fmt: skip

    assert [_dtype(t) for t in run(rg)] == [_dtype(t) for t in run(torch)]


def test_ops_are_unwrapped_outside_autocast():
    """No cost per op outside autocast: the listed ops are the plain ones again."""
    plain = (rg.Tensor.__dict__["__matmul__"], rg.nn.functional.linear, rg.matmul)
    with rg.autocast("cpu"):
        assert rg.Tensor.__dict__["__matmul__"] is not plain[0]
    assert (rg.Tensor.__dict__["__matmul__"], rg.nn.functional.linear, rg.matmul) == plain


def test_autocast_warnings_and_errors_as_torch():
    messages = {}
    for m in (rg, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with m.autocast("cpu", dtype=m.float32):
                assert _dtype(m.ones(2, 2) @ m.ones(2, 2)) == "float32"
            with m.cpu.amp.autocast():
                assert _dtype(m.ones(2, 2) @ m.ones(2, 2)) == "bfloat16"
        messages[m] = [str(w.message).replace("rustgrad.", "torch.") for w in caught]
    assert messages[rg] == messages[torch]
    for m in (rg, torch):  # (PyTorch's words name its list of device types)
        with pytest.raises(RuntimeError):
            m.autocast("tpu")
    with raises(TypeError, "autocast()(func) requires a callable"):
        rg.autocast("cpu")(3)


def _scaler_run(m, device, inf_at, **kw):
    m.manual_seed(0)
    lin = m.nn.Linear(3, 2)
    opt = m.optim.SGD(lin.parameters(), lr=0.1, momentum=0.9)
    scaler = m.amp.GradScaler(device, **kw)
    x = m.tensor([[1.0, 2.0, -1.0], [0.5, -0.5, 2.0]])
    trace = []
    for i in range(7):
        opt.zero_grad()
        loss = lin(x).pow(2).sum() * (float("inf") if i in inf_at else 1.0)
        scaler.scale(loss).backward()
        if i == 3:
            scaler.unscale_(opt)  # (then step must not unscale again)
        scaler.step(opt)
        scaler.update()
        trace.append((scaler.get_scale(), scaler._get_growth_tracker(), lin.weight.tolist()))
    return trace, scaler.state_dict()


def test_grad_scaler_matches_torch_with_skipped_steps():
    kw = {"init_scale": 8.0, "growth_interval": 2, "growth_factor": 4.0, "backoff_factor": 0.25}
    (r, rs), (t, ts) = _scaler_run(rg, "cpu", {1, 4}, **kw), _scaler_run(torch, "cpu", {1, 4}, **kw)  # fmt: skip
    assert rs == ts
    for (rscale, rtrack, rw), (tscale, ttrack, tw) in zip(r, t):
        assert (rscale, rtrack) == (tscale, ttrack)
        # (float32 rounding at the weights' scale: an element near 0 carries its terms')
        np.testing.assert_allclose(rw, tw, rtol=1e-6, atol=1e-6 * np.abs(tw).max())


def test_disabled_grad_scaler_passes_through_as_torch():
    """``torch.cuda.amp.GradScaler()`` without CUDA warns twice and disables itself."""
    runs = {}
    for m in (rg, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            scaler = m.cuda.amp.GradScaler()
        loss = m.tensor(3.0, requires_grad=True)
        assert scaler.scale(loss) is loss
        runs[m] = ([str(w.message) for w in caught], scaler.is_enabled(), scaler.get_scale(), scaler.state_dict())  # fmt: skip
    assert runs[rg] == runs[torch]


def test_grad_scaler_errors_and_pickling():
    lin = rg.nn.Linear(2, 1)
    opt = rg.optim.SGD(lin.parameters(), lr=0.1)
    scaler = rg.amp.GradScaler("cpu")
    with raises(AssertionError, "Attempted step but _scale is None."):
        scaler.step(opt)
    scaler.scale(lin(rg.ones(1, 2)).sum()).backward()
    scaler.unscale_(opt)
    with raises(RuntimeError, "unscale_() has already been called on this optimizer"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with raises(RuntimeError, "step() has already been called since the last update()."):
        scaler.step(opt)
    scaler.update()
    copy = pickle.loads(pickle.dumps(scaler))
    assert copy.state_dict() == scaler.state_dict()
    with raises(AssertionError, "The growth factor must be > 1.0."):
        rg.amp.GradScaler("cpu", growth_factor=1.0)
    half = rg.nn.Linear(2, 1).half()
    opt = rg.optim.SGD(half.parameters(), lr=0.1)
    s = rg.amp.GradScaler("cpu")
    s.scale(half(rg.ones(1, 2).half()).sum()).backward()
    with raises(ValueError, "Attempting to unscale FP16 gradients."):
        s.step(opt)
