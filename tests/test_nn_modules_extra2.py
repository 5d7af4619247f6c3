"""The norms, padding layers, pooling/resizing layers and odds added to ``nn`` with
``RMSNorm`` (``RMSNorm``, ``InstanceNorm1d/2d/3d``, ``LocalResponseNorm``, the ``*Pad*d``
layers, ``AvgPool1d``, ``Fold``/``Unfold``, ``Softmax2d``, ``ChannelShuffle``,
``UpsamplingNearest2d``/``UpsamplingBilinear2d``, ``Bilinear``, ``MultiLabelSoftMarginLoss``,
``nn.Buffer``) side by side with PyTorch: the same weights, the same inputs (float64 and
float32), the outputs, the input and parameter gradients, the reprs, the parameters' names,
shapes and initial distribution, errors for bad arguments; and gradcheck of the functional
forms in float64."""

import warnings
import zlib

import numpy as np
import pytest
import rustgrad as rg
import rustgrad.nn.functional as F
from rustgrad import nn
from rustgrad.autograd import gradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional

DTYPES = [("float64", 1e-6, 1e-9), ("float32", 1e-5, 1e-6)]


def _pair(array, dtype, requires_grad=True):
    """The same values as a rustgrad tensor and a torch tensor of ``dtype``."""
    a = np.asarray(array, dtype=dtype)
    return (
        rg.tensor(a.copy(), requires_grad=requires_grad),
        torch.tensor(a.copy(), requires_grad=requires_grad),
    )


def _copy_state(src, dst):
    """torch module ``src``'s parameters and buffers into the rustgrad module ``dst``."""
    state = {k: rg.tensor(v.detach().numpy().copy()) for k, v in src.state_dict().items()}
    dst.load_state_dict(state)


def _close(a, b, rtol, atol):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol)


def _torch_repr(module):
    return repr(module).replace("torch.", "")


def _side_by_side(rg_mod, t_mod, shapes, dtype, rtol, atol, rng, make_inputs=None):
    """Forward both modules on the same inputs, backward the same random cotangent, compare
    outputs, input gradients, parameter gradients and buffers."""
    if make_inputs is None:
        arrays = [rng.standard_normal(s) for s in shapes]
    else:
        arrays = make_inputs(rng)
    rg_mod, t_mod = rg_mod.to(getattr(rg, dtype)), t_mod.to(getattr(torch, dtype))
    _copy_state(t_mod, rg_mod)
    pairs = [_pair(a, dtype) for a in arrays]
    out_r = rg_mod(*[p[0] for p in pairs])
    out_t = t_mod(*[p[1] for p in pairs])
    _close(out_r, out_t, rtol, atol)
    cot = rng.standard_normal(tuple(out_t.shape)).astype(dtype)
    out_r.backward(rg.tensor(cot))
    out_t.backward(torch.tensor(cot))
    for r, t in pairs:
        _close(r.grad, t.grad, rtol, atol)
    t_params = dict(t_mod.named_parameters())
    r_params = dict(rg_mod.named_parameters())
    assert sorted(r_params) == sorted(t_params)
    for name, p in t_params.items():
        assert tuple(r_params[name].shape) == tuple(p.shape)
        _close(r_params[name].grad, p.grad, rtol, atol)
    t_bufs = dict(t_mod.named_buffers())
    r_bufs = dict(rg_mod.named_buffers())
    assert sorted(r_bufs) == sorted(t_bufs)
    for name, b in t_bufs.items():
        _close(r_bufs[name], b, rtol, atol)
    return out_r, out_t


# ----- modules: (name, args, kwargs, input shapes) ---------------------------------------------

MODULES = [
    ("RMSNorm", (5,), {}, [(2, 3, 5)]),
    ("RMSNorm", ((3, 5),), {"eps": 1e-3}, [(2, 3, 5)]),
    ("RMSNorm", ([5],), {"elementwise_affine": False}, [(4, 5)]),
    ("InstanceNorm1d", (3,), {}, [(2, 3, 6)]),
    ("InstanceNorm1d", (3,), {"affine": True}, [(2, 3, 6)]),
    ("InstanceNorm1d", (3,), {"affine": True}, [(3, 6)]),
    ("InstanceNorm2d", (3,), {"affine": True, "eps": 1e-3}, [(2, 3, 4, 5)]),
    ("InstanceNorm2d", (3,), {"affine": True, "track_running_stats": True}, [(2, 3, 4, 5)]),
    ("InstanceNorm3d", (2,), {"affine": True}, [(2, 2, 3, 4, 3)]),
    ("InstanceNorm3d", (2,), {"track_running_stats": True, "momentum": 0.3}, [(2, 3, 4, 3)]),
    ("LocalResponseNorm", (3,), {}, [(2, 5, 4)]),
    ("LocalResponseNorm", (2,), {"alpha": 0.5, "beta": 0.6, "k": 2.0}, [(2, 5, 3, 4)]),
    ("LocalResponseNorm", (4,), {"alpha": 0.3}, [(2, 6, 3, 2, 2)]),
    ("ZeroPad1d", (2,), {}, [(2, 3, 4)]),
    ("ZeroPad1d", ((1, 3),), {}, [(3, 4)]),
    ("ZeroPad2d", ((1, 0, 2, 3),), {}, [(2, 3, 4, 5)]),
    ("ZeroPad3d", (1,), {}, [(2, 2, 3, 4, 5)]),
    ("ConstantPad1d", (2, 3.5), {}, [(2, 3, 4)]),
    ("ConstantPad2d", ((1, 2, 0, 1), -1.0), {}, [(3, 4, 5)]),
    ("ConstantPad3d", ((1, 2, 0, 1, 2, 0), 0.25), {}, [(1, 2, 3, 4, 5)]),
    ("ReflectionPad1d", (2,), {}, [(2, 3, 4)]),
    ("ReflectionPad2d", ((1, 2, 3, 0),), {}, [(2, 3, 4, 5)]),
    ("ReflectionPad3d", (1,), {}, [(1, 2, 3, 4, 5)]),
    ("ReplicationPad1d", ((3, 1),), {}, [(2, 3, 4)]),
    ("ReplicationPad2d", (2,), {}, [(3, 4, 5)]),
    ("ReplicationPad3d", ((1, 2, 0, 1, 2, 1),), {}, [(1, 2, 3, 4, 5)]),
    ("CircularPad1d", (2,), {}, [(2, 3, 4)]),
    ("CircularPad2d", ((1, 2, 3, 0),), {}, [(2, 3, 4, 5)]),
    ("CircularPad3d", (1,), {}, [(2, 3, 4, 5)]),
    ("AvgPool1d", (3,), {}, [(2, 3, 10)]),
    ("AvgPool1d", (3, 2, 1), {"count_include_pad": False}, [(2, 3, 9)]),
    ("AvgPool1d", (2,), {"stride": 1, "ceil_mode": True}, [(3, 7)]),
    ("Fold", ((4, 5), (2, 2)), {}, [(2, 3 * 4, 12)]),
    ("Fold", (4, 2), {"stride": 2, "padding": 1}, [(1, 2 * 4, 9)]),
    ("Unfold", ((2, 3),), {}, [(2, 3, 4, 5)]),
    ("Unfold", (2,), {"dilation": 2, "padding": 1, "stride": 2}, [(1, 2, 5, 6)]),
    ("Softmax2d", (), {}, [(2, 3, 4, 5)]),
    ("Softmax2d", (), {}, [(3, 4, 5)]),
    ("ChannelShuffle", (2,), {}, [(2, 4, 3, 3)]),
    ("ChannelShuffle", (3,), {}, [(2, 6, 5)]),
    ("UpsamplingNearest2d", (), {"scale_factor": 2}, [(2, 3, 3, 4)]),
    ("UpsamplingNearest2d", (), {"size": (5, 7)}, [(1, 2, 3, 4)]),
    ("UpsamplingBilinear2d", (), {"scale_factor": 2}, [(2, 3, 3, 4)]),
    ("UpsamplingBilinear2d", (), {"size": 5}, [(1, 2, 3, 4)]),
    ("Bilinear", (3, 4, 5), {}, [(6, 3), (6, 4)]),
    ("Bilinear", (3, 4, 2), {"bias": False}, [(2, 5, 3), (2, 5, 4)]),
]


def _ids(cases):
    return [f"{c[0]}-{i}" for i, c in enumerate(cases)]


@pytest.mark.parametrize("dtype,rtol,atol", DTYPES)
@pytest.mark.parametrize("name,args,kwargs,shapes", MODULES, ids=_ids(MODULES))
def test_module_matches_torch(name, args, kwargs, shapes, dtype, rtol, atol):
    rng = np.random.default_rng(zlib.crc32(f"{name}{args}{kwargs}{dtype}".encode()))
    t_mod = getattr(torch.nn, name)(*args, **kwargs)
    rg_mod = getattr(nn, name)(*args, **kwargs)
    assert repr(rg_mod) == _torch_repr(t_mod)
    if list(t_mod.parameters()):
        # perturb the (often constant) initial parameters so that their use is tested
        with torch.no_grad():
            for p in t_mod.parameters():
                p.add_(torch.tensor(rng.standard_normal(tuple(p.shape)), dtype=p.dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _side_by_side(rg_mod, t_mod, shapes, dtype, rtol, atol, rng)


@pytest.mark.parametrize("name", ["InstanceNorm1d", "InstanceNorm2d"])
def test_instance_norm_running_stats_train_then_eval(name):
    rng = np.random.default_rng(3)
    shape = (3, 4, 5) if name == "InstanceNorm1d" else (3, 4, 5, 2)
    t_mod = getattr(torch.nn, name)(4, affine=True, track_running_stats=True).double()
    rg_mod = getattr(nn, name)(4, affine=True, track_running_stats=True).double()
    _copy_state(t_mod, rg_mod)
    for _ in range(3):
        x = rng.standard_normal(shape) * 2 + 1
        _close(rg_mod(rg.tensor(x)), t_mod(torch.tensor(x)), 1e-10, 1e-12)
    for key, value in t_mod.state_dict().items():
        _close(rg_mod.state_dict()[key], value, 1e-10, 1e-12)
    t_mod.eval()
    rg_mod.eval()
    x = rng.standard_normal(shape)
    rx, tx = _pair(x, "float64")
    out_r, out_t = rg_mod(rx), t_mod(tx)
    _close(out_r, out_t, 1e-10, 1e-12)
    out_r.sum().backward()
    out_t.sum().backward()
    _close(rx.grad, tx.grad, 1e-10, 1e-12)


@pytest.mark.parametrize("dtype,rtol,atol", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_multilabel_soft_margin_loss_module(reduction, weighted, dtype, rtol, atol):
    rng = np.random.default_rng(7)
    weight = rng.random(5) if weighted else None
    t_mod = torch.nn.MultiLabelSoftMarginLoss(
        weight=None if weight is None else torch.tensor(weight, dtype=getattr(torch, dtype)),
        reduction=reduction,
    )
    rg_mod = nn.MultiLabelSoftMarginLoss(
        weight=None if weight is None else rg.tensor(weight.astype(dtype)), reduction=reduction
    )
    assert repr(rg_mod) == _torch_repr(t_mod)
    x = rng.standard_normal((4, 5))
    target = (rng.random((4, 5)) > 0.5).astype(float)
    rx, tx = _pair(x, dtype)
    rt, tt = _pair(target, dtype, requires_grad=False)
    out_r, out_t = rg_mod(rx, rt), t_mod(tx, tt)
    _close(out_r, out_t, rtol, atol)
    cot = rng.standard_normal(tuple(out_t.shape)).astype(dtype)
    out_r.backward(rg.tensor(cot))
    out_t.backward(torch.tensor(cot))
    _close(rx.grad, tx.grad, rtol, atol)
    assert sorted(dict(rg_mod.named_buffers())) == sorted(dict(t_mod.named_buffers()))


# ----- parameters: names, shapes, initial distribution ----------------------------------------

INITS = [
    ("RMSNorm", ((3, 4),), {}),
    ("RMSNorm", (4,), {"elementwise_affine": False}),
    ("InstanceNorm2d", (6,), {"affine": True}),
    ("InstanceNorm2d", (6,), {"affine": True, "bias": False}),
    ("InstanceNorm1d", (6,), {"track_running_stats": True}),
    ("Bilinear", (20, 30, 40), {}),
    ("Bilinear", (20, 30, 40), {"bias": False}),
]


@pytest.mark.parametrize("name,args,kwargs", INITS, ids=_ids(INITS))
def test_parameters_and_initialisation(name, args, kwargs):
    # Seeded: the statistics below, over a few elements (Bilinear's bias), would fail now
    # and then for unlucky draws.
    torch.manual_seed(0)
    rg.manual_seed(0)
    t_mod = getattr(torch.nn, name)(*args, **kwargs)
    rg_mod = getattr(nn, name)(*args, **kwargs)
    assert repr(rg_mod) == _torch_repr(t_mod)
    t_state, r_state = t_mod.state_dict(), rg_mod.state_dict()
    assert list(r_state) == list(t_state)
    for key, value in t_state.items():
        assert tuple(r_state[key].shape) == tuple(value.shape)
        assert r_state[key].dtype.__repr__().split(".")[-1] == str(value.dtype).split(".")[-1]
    for name_, p in t_mod.named_parameters():
        r = dict(rg_mod.named_parameters())[name_]
        t = p.detach().numpy()
        if t.std() == 0:  # constant initialisations: the same constant
            np.testing.assert_array_equal(r.detach().numpy(), t)
        else:  # random: the same range, roughly uniform over it
            bound = 1 / np.sqrt(args[0])
            rv = r.detach().numpy()
            assert rv.min() >= -bound and rv.max() <= bound
            assert rv.min() < -0.8 * bound and rv.max() > 0.8 * bound
            assert abs(rv.mean()) < 0.1 * bound
            np.testing.assert_allclose(rv.std(), bound / np.sqrt(3), rtol=0.15)


def test_dtype_and_device_arguments():
    for name, args in [("RMSNorm", (3,)), ("InstanceNorm1d", (3,)), ("Bilinear", (2, 3, 4))]:
        kwargs = {"affine": True} if name.startswith("Instance") else {}
        mod = getattr(nn, name)(*args, dtype=rg.float64, device="cpu", **kwargs)
        assert all(p.dtype == rg.float64 for p in mod.parameters())


# ----- functional forms: values, gradients, gradcheck -----------------------------------------


def _functional_cases():
    rng = np.random.default_rng(11)

    def arr(*shape):
        return rng.standard_normal(shape)

    return [
        ("rms_norm", [arr(2, 3, 4), arr(3, 4)], lambda f, x, w: f.rms_norm(x, (3, 4), w)),
        ("rms_norm-eps", [arr(2, 5)], lambda f, x: f.rms_norm(x, [5], eps=0.1)),
        (
            "instance_norm",
            [arr(2, 3, 5), arr(3), arr(3)],
            lambda f, x, w, b: f.instance_norm(x, weight=w, bias=b),
        ),
        ("instance_norm-plain", [arr(2, 3, 2, 3)], lambda f, x: f.instance_norm(x, eps=0.1)),
        ("local_response_norm", [arr(2, 5, 3)], lambda f, x: f.local_response_norm(x, 3)),
        (
            "local_response_norm-4d",
            [arr(1, 4, 2, 3)],
            lambda f, x: f.local_response_norm(x, 2, alpha=0.3, beta=0.5, k=1.5),
        ),
        (
            "bilinear",
            [arr(3, 2), arr(3, 4), arr(5, 2, 4), arr(5)],
            lambda f, a, b, w, bias: f.bilinear(a, b, w, bias),
        ),
        (
            "bilinear-nobias-batched",
            [arr(2, 3, 2), arr(2, 3, 4), arr(5, 2, 4)],
            lambda f, a, b, w: f.bilinear(a, b, w),
        ),
        ("channel_shuffle", [arr(2, 6, 2)], lambda f, x: f.channel_shuffle(x, 3)),
        ("avg_pool1d", [arr(2, 3, 8)], lambda f, x: f.avg_pool1d(x, 3, 2, 1)),
        (
            "avg_pool1d-nopad",
            [arr(3, 7)],
            lambda f, x: f.avg_pool1d(x, 2, ceil_mode=True, count_include_pad=False),
        ),
        ("upsample", [arr(1, 2, 3)], lambda f, x: f.upsample(x, scale_factor=2, mode="linear")),
        ("upsample_nearest", [arr(1, 2, 2, 3)], lambda f, x: f.upsample_nearest(x, size=(4, 5))),
        (
            "upsample_bilinear",
            [arr(1, 2, 2, 3)],
            lambda f, x: f.upsample_bilinear(x, scale_factor=2),
        ),
        (
            "multilabel_soft_margin_loss",
            [arr(4, 3), rng.random((4, 3))],
            lambda f, x, t: f.multilabel_soft_margin_loss(x, t),
        ),
        (
            "multilabel_soft_margin_loss-weighted",
            [arr(4, 3), rng.random((4, 3)), rng.random(3)],
            lambda f, x, t, w: f.multilabel_soft_margin_loss(x, t, w, reduction="none"),
        ),
    ]


FUNCTIONAL = _functional_cases()


@pytest.mark.parametrize("dtype,rtol,atol", DTYPES)
@pytest.mark.parametrize("name,arrays,fn", FUNCTIONAL, ids=[c[0] for c in FUNCTIONAL])
def test_functional_matches_torch(name, arrays, fn, dtype, rtol, atol):
    pairs = [_pair(a, dtype) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out_r = fn(F, *[p[0] for p in pairs])
        out_t = fn(TF, *[p[1] for p in pairs])
    _close(out_r, out_t, rtol, atol)
    cot = np.random.default_rng(5).standard_normal(tuple(out_t.shape)).astype(dtype)
    out_r.backward(rg.tensor(cot))
    out_t.backward(torch.tensor(cot))
    for r, t in pairs:
        _close(r.grad, t.grad, rtol, atol)


@pytest.mark.parametrize("name,arrays,fn", FUNCTIONAL, ids=[c[0] for c in FUNCTIONAL])
def test_functional_gradcheck(name, arrays, fn):
    inputs = tuple(rg.tensor(np.asarray(a, dtype="float64"), requires_grad=True) for a in arrays)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert gradcheck(lambda *xs: fn(F, *xs), inputs)


def test_instance_norm_functional_running_stats():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 2, 5))
    r_stats = [rg.zeros(2, dtype=rg.float64), rg.ones(2, dtype=rg.float64)]
    t_stats = [torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)]
    out_r = F.instance_norm(rg.tensor(x), *r_stats, momentum=0.2)
    out_t = TF.instance_norm(torch.tensor(x), *t_stats, momentum=0.2)
    _close(out_r, out_t, 1e-10, 1e-12)
    for r, t in zip(r_stats, t_stats):
        _close(r, t, 1e-10, 1e-12)
    out_r = F.instance_norm(rg.tensor(x), *r_stats, use_input_stats=False)
    out_t = TF.instance_norm(torch.tensor(x), *t_stats, use_input_stats=False)
    _close(out_r, out_t, 1e-10, 1e-12)


def test_rms_norm_default_eps_is_the_dtype_epsilon():
    # a zero row: the result is 0 * rsqrt(eps); with a tiny input the eps dominates
    for dtype in ("float32", "float64"):
        x = np.full((2, 3), 1e-5, dtype=dtype)
        out_r = F.rms_norm(rg.tensor(x), (3,))
        out_t = TF.rms_norm(torch.tensor(x), (3,))
        _close(out_r, out_t, 1e-5, 0)


def test_relu_in_place():
    x = np.random.default_rng(1).standard_normal((3, 4))
    r, t = rg.tensor(x.copy()), torch.tensor(x.copy())
    out_r = F.relu_(r)
    TF.relu_(t)
    assert out_r is r
    _close(r, t, 0, 0)
    leaf = rg.tensor(x.copy(), requires_grad=True)
    tleaf = torch.tensor(x.copy(), requires_grad=True)
    y, ty = leaf * 2, tleaf * 2
    F.relu_(y).sum().backward()
    TF.relu_(ty).sum().backward()
    _close(leaf.grad, tleaf.grad, 0, 0)


def test_deprecated_upsample_functions_warn():
    x = rg.randn(1, 1, 2, 2)
    for name in ("upsample", "upsample_nearest", "upsample_bilinear"):
        with pytest.warns(UserWarning, match=f"nn.functional.{name}` is deprecated"):
            getattr(F, name)(x, scale_factor=2)


# ----- errors --------------------------------------------------------------------------------

ERRORS = [
    ("rms_norm", lambda f, T: f.rms_norm(T.randn(2, 3), (4,))),
    ("instance_norm-spatial", lambda f, T: f.instance_norm(T.randn(2, 3, 1))),
    (
        "instance_norm-stats",
        lambda f, T: f.instance_norm(T.randn(2, 3, 4), T.zeros(2), T.ones(2)),
    ),
    ("local_response_norm", lambda f, T: f.local_response_norm(T.randn(2, 3), 2)),
    ("bilinear-batch", lambda f, T: f.bilinear(T.randn(2, 3), T.randn(3, 4), T.randn(5, 3, 4))),
    ("bilinear-in1", lambda f, T: f.bilinear(T.randn(2, 2), T.randn(2, 4), T.randn(5, 3, 4))),
    ("bilinear-in2", lambda f, T: f.bilinear(T.randn(2, 3), T.randn(2, 4), T.randn(5, 3, 5))),
    ("channel_shuffle-div", lambda f, T: f.channel_shuffle(T.randn(2, 3, 4), 2)),
    ("channel_shuffle-groups", lambda f, T: f.channel_shuffle(T.randn(2, 4, 4), 0)),
    ("channel_shuffle-dims", lambda f, T: f.channel_shuffle(T.randn(2, 4), 2)),
    ("avg_pool1d-dims", lambda f, T: f.avg_pool1d(T.randn(2, 3, 4, 5), 2)),
    (
        "msml-reduction",
        lambda f, T: f.multilabel_soft_margin_loss(T.randn(2, 3), T.rand(2, 3), reduction="x"),
    ),
]

MODULE_ERRORS = [
    ("InstanceNorm1d-dims", lambda n, T: n.InstanceNorm1d(3)(T.randn(2, 3, 4, 5))),
    ("InstanceNorm2d-dims", lambda n, T: n.InstanceNorm2d(3)(T.randn(3, 4))),
    ("InstanceNorm1d-features", lambda n, T: n.InstanceNorm1d(3, affine=True)(T.randn(2, 4, 5))),
    ("Softmax2d-dims", lambda n, T: n.Softmax2d()(T.randn(2, 3))),
    ("CircularPad2d-dims", lambda n, T: n.CircularPad2d(1)(T.randn(2, 3))),
    ("ReflectionPad1d-size", lambda n, T: n.ReflectionPad1d(4)(T.randn(2, 3, 4))),
    ("ReplicationPad2d-dims", lambda n, T: n.ReplicationPad2d(1)(T.randn(2, 3))),
]


def _error(fn):
    with pytest.raises(Exception) as info:
        fn()
    return type(info.value), str(info.value).replace("torch.", "").replace("rustgrad.", "")


@pytest.mark.parametrize("name,fn", ERRORS, ids=[e[0] for e in ERRORS])
def test_functional_errors_match_torch(name, fn):
    assert _error(lambda: fn(F, rg)) == _error(lambda: fn(TF, torch))


@pytest.mark.parametrize("name,fn", MODULE_ERRORS, ids=[e[0] for e in MODULE_ERRORS])
def test_module_errors_match_torch(name, fn):
    assert _error(lambda: fn(nn, rg)) == _error(lambda: fn(torch.nn, torch))


def test_instance_norm_warns_on_feature_mismatch_without_affine():
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm1d(3)(rg.randn(2, 4, 5))


# ----- nn.Buffer ------------------------------------------------------------------------------


@pytest.mark.parametrize("persistent", [True, False])
def test_buffer_registers_like_torch(persistent):
    data = np.arange(4.0)

    def build(lib, tensor):
        class M(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.x = lib.nn.Buffer(tensor(data.copy()), persistent=persistent)
                self.y = lib.nn.Buffer(tensor(data.copy() * 2))

        return M()

    r, t = build(rg, rg.tensor), build(torch, torch.tensor)
    assert list(dict(r.named_buffers())) == list(dict(t.named_buffers()))
    assert list(r.state_dict()) == list(t.state_dict())
    assert not list(r.parameters())
    _close(r.x, t.x, 0, 0)
    assert type(r.x) is rg.Tensor
    assert isinstance(rg.nn.Buffer(rg.ones(2)), rg.nn.Buffer)
    # shares the storage of the data it wraps
    src = rg.zeros(3)
    m = rg.nn.Module()
    m.b = rg.nn.Buffer(src)
    src.add_(1)
    _close(m.b, torch.ones(3), 0, 0)
    # reassigning a registered buffer keeps it a buffer; a Buffer updates persistence
    m.b = rg.nn.Buffer(rg.ones(3), persistent=False)
    assert "b" not in m.state_dict() and "b" in dict(m.named_buffers())


def test_buffer_keeps_requires_grad_and_rejects_non_tensors():
    b = rg.nn.Buffer(rg.ones(2, requires_grad=True))
    tb = torch.nn.Buffer(torch.ones(2, requires_grad=True))
    assert b.requires_grad == tb.requires_grad
    with pytest.raises(TypeError):
        rg.nn.Buffer([1.0, 2.0])
