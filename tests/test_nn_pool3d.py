"""3-d pooling (F.max_pool3d, avg_pool3d, adaptive_avg/max_pool3d), max unpooling (1-3 d),
power-average pooling (lp_pool1d/2d/3d) and their modules against PyTorch, side by side:
values, indices, dtypes, shapes, gradients of the first and second order, reprs, errors."""

import inspect

import numpy as np
import pytest
import rustgrad as rg
import rustgrad.nn.functional as F
from conftest import assert_close, node_name
from rustgrad import nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional

DTYPES = ["float32", "float64"]
TOL = {"float32": {"rtol": 1e-5, "atol": 1e-6}, "float64": {"rtol": 1e-12, "atol": 1e-14}}


def pair(values, dtype="float64", grad=True):
    """The same values as a PyTorch and a rustgrad tensor (leaves requiring grad when float)."""
    t = torch.tensor(values).to(getattr(torch, dtype))
    r = rg.tensor(values).to(getattr(rg, dtype))
    if grad:
        t.requires_grad_()
        r.requires_grad_()
    return t, r


def assert_same_tensor(ours, theirs, **tol):
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype).rsplit(".", 1)[-1] == str(theirs.dtype).rsplit(".", 1)[-1]
    if tol:
        assert_close(ours, theirs, **tol)
    else:
        assert np.array_equal(
            ours.detach().float().numpy(), theirs.detach().float().numpy(), equal_nan=True
        )


def grads_both(out_t, out_r, x_t, x_r, dtype, rng):
    """First- and second-order gradients of both results: the input's gradient for a random
    output gradient, then the gradient of ``(grad_x * w).sum()`` in the output gradient and in
    the input (PyTorch's double backward)."""
    g = rng.standard_normal(tuple(out_t.shape))
    g_t, g_r = pair(g, dtype)
    (gx_t,) = torch.autograd.grad(out_t, x_t, g_t, create_graph=True)
    (gx_r,) = rg.autograd.grad(out_r, x_r, g_r, create_graph=True)
    assert_close(gx_r, gx_t, **TOL[dtype])
    w = rng.standard_normal(tuple(x_t.shape))
    w_t, w_r = pair(w, dtype, grad=False)
    gg_t = torch.autograd.grad((gx_t * w_t).sum(), [g_t, x_t], allow_unused=True)
    gg_r = rg.autograd.grad((gx_r * w_r).sum(), [g_r, x_r], allow_unused=True)
    for a, b in zip(gg_r, gg_t):
        assert (a is None) == (b is None)
        if b is not None:
            assert_close(a, b, **TOL[dtype])


def _valid(fn, *args):
    try:
        fn(*args)
    except (RuntimeError, ValueError):
        return False
    return True


def _draw_configs(seed, count, make, check):
    rng = np.random.default_rng(seed)
    configs = []
    while len(configs) < count:
        config = make(rng)
        if check(config):
            configs.append(config)
    return configs


def _max_config(rng):
    shape = (int(rng.integers(1, 3)), int(rng.integers(1, 3)), *rng.integers(3, 8, 3).tolist())
    k = [int(v) for v in rng.integers(1, 4, 3)]
    s = [int(v) for v in rng.integers(1, 4, 3)]
    p = [int(rng.integers(0, kk // 2 + 1)) for kk in k]
    d = [int(v) for v in rng.integers(1, 3, 3)]
    ceil = bool(rng.integers(0, 2))
    if rng.random() < 0.3:  # the int forms
        k, s, p, d = k[0], s[0], min(p[0], k[0] // 2), d[0]
    if rng.random() < 0.2:
        s = None
    return shape, k, s, p, d, ceil


MAX_CONFIGS = _draw_configs(
    0,
    24,
    _max_config,
    lambda c: _valid(TF.max_pool3d, torch.zeros(c[0]), *c[1:5], c[5]),
)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("shape", "k", "s", "p", "d", "ceil"), MAX_CONFIGS)
def test_max_pool3d_matches_torch(shape, k, s, p, d, ceil, dtype):
    rng = np.random.default_rng(1)
    x_t, x_r = pair(rng.standard_normal(shape), dtype)
    v_t, i_t = TF.max_pool3d(x_t, k, s, p, d, ceil, return_indices=True)
    v_r, i_r = F.max_pool3d(x_r, k, s, p, d, ceil, return_indices=True)
    assert_same_tensor(v_r, v_t)
    assert_same_tensor(i_r, i_t)
    assert node_name(v_r.grad_fn) == node_name(v_t.grad_fn)
    assert_same_tensor(F.max_pool3d(x_r, k, s, p, d, ceil), v_t)
    grads_both(v_t, v_r, x_t, x_r, dtype, rng)
    # unbatched
    v_t, i_t = TF.max_pool3d(x_t[0], k, s, p, d, ceil, return_indices=True)
    v_r, i_r = F.max_pool3d_with_indices(x_r[0], k, s, p, d, ceil)
    assert_same_tensor(v_r, v_t)
    assert_same_tensor(i_r, i_t)


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "bfloat16", "int64", "uint8"])
def test_max_pool3d_ties_nan_inf_as_torch(dtype):
    """Ties take the first in row-major order, a NaN the last; all -inf the first cell."""
    rng = np.random.default_rng(2)
    values = rng.integers(0, 3, (2, 3, 6, 5, 7)).astype(np.float64)
    if dtype.startswith(("float", "bfloat")):
        values[rng.random(values.shape) < 0.1] = np.nan
        values[rng.random(values.shape) < 0.3] = -np.inf
    x_t, x_r = pair(values, dtype, grad=False)
    for args in [(2, 1, 1, 1, False), ((3, 2, 3), (2, 1, 2), (1, 1, 0), (1, 2, 2), True)]:
        v_t, i_t = TF.max_pool3d(x_t, *args, return_indices=True)
        v_r, i_r = F.max_pool3d(x_r, *args, return_indices=True)
        assert_same_tensor(v_r, v_t)
        assert_same_tensor(i_r, i_t)
        v_t, i_t = TF.adaptive_max_pool3d(x_t.float() if "int" in dtype else x_t, (4, 2, 3), True)
        v_r, i_r = F.adaptive_max_pool3d(x_r.float() if "int" in dtype else x_r, (4, 2, 3), True)
        assert_same_tensor(v_r, v_t)
        assert_same_tensor(i_r, i_t)


@pytest.mark.parametrize("dtype", ["float64", "int64"])
def test_max_pool3d_window_outside_the_input_as_torch(dtype):
    """A dilated window whose cells all fall in the padding: PyTorch's -inf (lowest) and its
    start index."""
    x_t, x_r = pair(np.arange(36.0).reshape(1, 1, 4, 3, 3), dtype, grad=False)
    v_t, i_t = TF.max_pool3d(x_t, (2, 1, 1), 1, (1, 0, 0), (5, 1, 1), return_indices=True)
    v_r, i_r = F.max_pool3d(x_r, (2, 1, 1), 1, (1, 0, 0), (5, 1, 1), return_indices=True)
    assert_same_tensor(v_r, v_t)
    assert_same_tensor(i_r, i_t)


def _avg_config(rng):
    shape = (int(rng.integers(1, 3)), int(rng.integers(1, 3)), *rng.integers(3, 8, 3).tolist())
    k = [int(v) for v in rng.integers(1, 4, 3)]
    s = [int(v) for v in rng.integers(1, 4, 3)]
    p = [int(rng.integers(0, kk // 2 + 1)) for kk in k]
    if rng.random() < 0.3:
        k, s, p = k[0], s[0], min(p[0], k[0] // 2)
    if rng.random() < 0.2:
        s = None
    ceil, include = bool(rng.integers(0, 2)), bool(rng.integers(0, 2))
    divisor = int(rng.integers(1, 9)) if rng.random() < 0.25 else None
    return shape, k, s, p, ceil, include, divisor


AVG_CONFIGS = _draw_configs(
    3, 24, _avg_config, lambda c: _valid(TF.avg_pool3d, torch.zeros(c[0]), *c[1:])
)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("shape", "k", "s", "p", "ceil", "include", "divisor"), AVG_CONFIGS)
def test_avg_pool3d_matches_torch(shape, k, s, p, ceil, include, divisor, dtype):
    rng = np.random.default_rng(4)
    x_t, x_r = pair(rng.standard_normal(shape), dtype)
    out_t = TF.avg_pool3d(x_t, k, s, p, ceil, include, divisor)
    out_r = F.avg_pool3d(x_r, k, s, p, ceil, include, divisor)
    assert_same_tensor(out_r, out_t, **TOL[dtype])
    assert node_name(out_r.grad_fn) == node_name(out_t.grad_fn)
    grads_both(out_t, out_r, x_t, x_r, dtype, rng)
    assert_same_tensor(F.avg_pool3d(x_r[0], k, s, p, ceil, include, divisor), out_t[0], **TOL[dtype])  # fmt: skip


def test_avg_pool3d_integers_as_torch():
    """int64 averages truncate, as PyTorch's integer division."""
    rng = np.random.default_rng(5)
    x_t, x_r = pair(rng.integers(-50, 50, (2, 3, 5, 6, 7)), "int64", grad=False)
    for args in [(2,), (3, 2, 1, True, False), ((2, 3, 2), 1, (1, 1, 0), False, True, 3)]:
        assert_same_tensor(F.avg_pool3d(x_r, *args), TF.avg_pool3d(x_t, *args))


ADAPTIVE = [
    ((2, 3, 6, 7, 8), (3, 4, 5)),
    ((2, 3, 6, 7, 8), 2),
    ((1, 2, 5, 4, 3), (None, 3, 1)),
    ((2, 2, 3, 4, 5), 7),  # larger than the input: overlapping windows
    ((3, 4, 5, 6), (2, 5, 3)),  # unbatched
    ((2, 3, 6, 7, 8), 1),  # the mean
    ((1, 2, 4, 4, 4), (0, 2, 2)),  # empty
    ((0, 2, 4, 4, 4), 2),  # empty batch
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("shape", "size"), ADAPTIVE)
def test_adaptive_pool3d_matches_torch(shape, size, dtype):
    rng = np.random.default_rng(6)
    x_t, x_r = pair(rng.standard_normal(shape), dtype)
    avg_t, avg_r = TF.adaptive_avg_pool3d(x_t, size), F.adaptive_avg_pool3d(x_r, size)
    assert_same_tensor(avg_r, avg_t, **TOL[dtype])
    assert node_name(avg_r.grad_fn) == node_name(avg_t.grad_fn)
    v_t, i_t = TF.adaptive_max_pool3d(x_t, size, return_indices=True)
    v_r, i_r = F.adaptive_max_pool3d(x_r, size, return_indices=True)
    assert_same_tensor(v_r, v_t)
    assert_same_tensor(i_r, i_t)
    assert node_name(v_r.grad_fn) == node_name(v_t.grad_fn)
    assert_same_tensor(F.adaptive_max_pool3d(x_r, size), v_t)
    assert_same_tensor(F.adaptive_max_pool3d_with_indices(x_r, size)[1], i_t)
    if avg_t.numel():
        grads_both(avg_t, avg_r, x_t, x_r, dtype, rng)
        grads_both(v_t, v_r, x_t, x_r, dtype, rng)


def test_adaptive_avg_pool3d_keeps_infinities_in_their_windows():
    values = np.random.default_rng(7).standard_normal((1, 2, 6, 5, 4))
    values[0, 0, 1, 2, 3] = np.inf
    values[0, 1, 4, 0, 0] = np.nan
    x_t, x_r = pair(values)
    assert_same_tensor(F.adaptive_avg_pool3d(x_r, (3, 2, 2)), TF.adaptive_avg_pool3d(x_t, (3, 2, 2)), **TOL["float64"])  # fmt: skip


# ----- max unpooling ---------------------------------------------------------------------


UNPOOL = [
    # (dims, input shape, kernel, stride, padding, output_size)
    (1, (2, 3, 9), 2, None, 0, None),
    (1, (3, 10), 3, 2, 1, [10]),
    (2, (2, 3, 6, 8), 2, None, 0, None),
    (2, (2, 3, 7, 9), (3, 2), (2, 1), (1, 0), (2, 3, 7, 9)),  # overlapping: repeated indices
    (2, (3, 5, 5), 2, 2, 0, [5, 5]),
    (3, (2, 3, 4, 6, 8), 2, None, 0, None),
    (3, (2, 2, 5, 6, 7), (3, 2, 3), (2, 1, 2), (1, 0, 1), (5, 6, 7)),
    (3, (2, 5, 5, 5), 2, 2, 0, [5, 5, 5]),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("dims", "shape", "k", "s", "p", "size"), UNPOOL)
def test_max_unpool_matches_torch(dims, shape, k, s, p, size, dtype):
    rng = np.random.default_rng(8)
    base = torch.tensor(rng.standard_normal(shape))
    pool = getattr(TF, f"max_pool{dims}d")
    pooled, idx = pool(base, k, s, p, return_indices=True)
    x_t, x_r = pair(pooled.numpy(), dtype)
    i_r = rg.tensor(idx.numpy())
    out_t = getattr(TF, f"max_unpool{dims}d")(x_t, idx, k, s, p, size)
    out_r = getattr(F, f"max_unpool{dims}d")(x_r, i_r, k, s, p, size)
    assert_same_tensor(out_r, out_t)
    assert node_name(out_r.grad_fn) == node_name(out_t.grad_fn)
    grads_both(out_t, out_r, x_t, x_r, dtype, rng)
    name = f"MaxUnpool{dims}d"
    m_t, m_r = getattr(torch.nn, name)(k, s, p), getattr(nn, name)(k, s, p)
    assert repr(m_r) == repr(m_t)
    assert_same_tensor(m_r(x_r, i_r, size), m_t(x_t, idx, size))


def test_max_unpool_inverts_our_max_pool():
    rng = np.random.default_rng(9)
    x_t, x_r = pair(rng.standard_normal((2, 3, 4, 6, 6)))
    v_r, i_r = nn.MaxPool3d(2, return_indices=True)(x_r)
    v_t, i_t = torch.nn.MaxPool3d(2, return_indices=True)(x_t)
    assert_same_tensor(nn.MaxUnpool3d(2)(v_r, i_r), torch.nn.MaxUnpool3d(2)(v_t, i_t))


# ----- power-average pooling -------------------------------------------------------------

LP = [
    (1, (2, 3, 9), 2.0, 3, None, False),
    (1, (3, 10), 3, 2, 3, True),
    (1, (2, 2, 7), float("inf"), 2, 1, False),
    (2, (2, 3, 6, 7), 2.0, 2, None, False),
    (2, (2, 3, 7, 8), 1.5, (3, 2), (2, 1), True),
    (2, (3, 5, 5), float("-inf"), 2, 2, False),
    (3, (2, 3, 4, 5, 6), 2.0, 2, None, False),
    (3, (2, 2, 5, 6, 7), 3, (3, 2, 2), (2, 1, 2), True),
    (3, (2, 4, 4, 4), float("inf"), 2, None, True),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("dims", "shape", "norm", "k", "s", "ceil"), LP)
def test_lp_pool_matches_torch(dims, shape, norm, k, s, ceil, dtype):
    rng = np.random.default_rng(10)
    x_t, x_r = pair(rng.uniform(0.2, 2.0, shape) * rng.choice([-1, 1], shape), dtype)
    out_t = getattr(TF, f"lp_pool{dims}d")(x_t, norm, k, s, ceil)
    out_r = getattr(F, f"lp_pool{dims}d")(x_r, norm, k, s, ceil)
    assert_same_tensor(out_r, out_t, **TOL[dtype])
    if not np.isnan(out_t.detach().numpy()).any():
        grads_both(out_t, out_r, x_t, x_r, dtype, rng)
    name = f"LPPool{dims}d"
    m_t, m_r = getattr(torch.nn, name)(norm, k, s, ceil), getattr(nn, name)(norm, k, s, ceil)
    assert repr(m_r) == repr(m_t)
    assert_same_tensor(m_r(x_r), m_t(x_t), **TOL[dtype])


# ----- gradcheck -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: F.max_pool3d(x, (2, 3, 2), (1, 2, 1), (1, 1, 0), (2, 1, 1), True),
        lambda x: F.avg_pool3d(x, (3, 2, 2), (2, 1, 2), (1, 1, 0), True, False),
        lambda x: F.avg_pool3d(x, 2, 1, 1, divisor_override=3),
        lambda x: F.adaptive_avg_pool3d(x, (2, 3, 4)),
        lambda x: F.adaptive_max_pool3d(x, (3, 2, 2)),
        lambda x: F.lp_pool3d(x, 2.0, 2, 1),
        lambda x: F.max_unpool3d(*F.max_pool3d(x, 2, return_indices=True), 2, output_size=x.shape),
        lambda x: F.max_unpool1d(*F.max_pool1d(x.flatten(2), 3, return_indices=True), 3),
    ],
)
def test_gradcheck_float64(fn):
    x = rg.tensor(np.random.default_rng(11).standard_normal((2, 2, 4, 5, 4)))
    assert rg.autograd.gradcheck(fn, (x.requires_grad_(),))


def test_gradgradcheck_linear_pools():
    x = rg.tensor(np.random.default_rng(12).standard_normal((1, 2, 4, 5, 4))).requires_grad_()
    assert rg.autograd.gradgradcheck(lambda x: F.avg_pool3d(x, 2, 1, 1), (x,))
    assert rg.autograd.gradgradcheck(lambda x: F.adaptive_avg_pool3d(x, (3, 2, 3)), (x,))


# ----- modules, signatures ---------------------------------------------------------------

MODULES = [
    "MaxPool3d(2)",
    "MaxPool3d((2, 3, 1), stride=1, padding=(1, 1, 0), dilation=2, ceil_mode=True)",
    "MaxPool3d(3, 2, 1, return_indices=True)",
    "AvgPool3d(3)",
    "AvgPool3d((2, 2, 3), (1, 2, 1), 1, True, False, 5)",
    "AdaptiveAvgPool3d((2, None, 3))",
    "AdaptiveAvgPool3d(1)",
    "AdaptiveMaxPool3d(4, True)",
    "AdaptiveMaxPool3d((2, 3, None))",
    "LPPool3d(3, 2)",
    "LPPool3d(1.5, (2, 1, 2), (1, 1, 2), ceil_mode=True)",
]


@pytest.mark.parametrize("expr", MODULES)
def test_module_matches_torch(expr):
    ours, theirs = eval("nn." + expr, {"nn": nn}), eval("nn." + expr, {"nn": torch.nn})
    assert repr(ours) == repr(theirs)
    for attr in getattr(type(theirs), "__constants__", ()):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    rng = np.random.default_rng(13)
    x_t, x_r = pair(rng.uniform(0.5, 2.0, (2, 3, 5, 6, 7)))
    out_t, out_r = theirs(x_t), ours(x_r)
    if isinstance(out_t, tuple):
        assert_same_tensor(out_r[1], out_t[1])
        out_t, out_r = out_t[0], out_r[0]
    assert_same_tensor(out_r, out_t, **TOL["float64"])


FUNCTIONS = {
    "max_pool3d": "_max_pool3d",
    "max_pool3d_with_indices": None,
    "avg_pool3d": None,
    "adaptive_avg_pool3d": None,
    "adaptive_max_pool3d": "_adaptive_max_pool3d",
    "adaptive_max_pool3d_with_indices": None,
    "max_unpool1d": None,
    "max_unpool2d": None,
    "max_unpool3d": None,
    "lp_pool1d": None,
    "lp_pool2d": None,
    "lp_pool3d": None,
}


def _parameters(fn):
    """``[(name, default, kind)]``, or for a C++ function those of its docstring's first line."""
    try:
        return [(p.name, p.default, p.kind) for p in inspect.signature(fn).parameters.values()]
    except ValueError:
        head = fn.__doc__.strip().splitlines()[0]
        out = []
        for part in head[head.index("(") + 1 : head.index(")")].split(","):
            name, _, default = part.strip().partition("=")
            value = eval(default) if default else inspect.Parameter.empty
            out.append((name, value, inspect.Parameter.POSITIONAL_OR_KEYWORD))
        return out


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_function_signature_is_pytorchs(name):
    theirs = getattr(TF, FUNCTIONS[name] or name)
    assert _parameters(getattr(F, name)) == _parameters(theirs)
    assert name in F.__all__


@pytest.mark.parametrize(
    "name",
    ["MaxPool3d", "AvgPool3d", "AdaptiveAvgPool3d", "AdaptiveMaxPool3d"]
    + [f"{kind}{d}d" for kind in ("MaxUnpool", "LPPool") for d in (1, 2, 3)],
)
def test_module_signature_is_pytorchs(name):
    assert name in nn.__all__
    for method in ("__init__", "forward"):
        ours = inspect.signature(getattr(getattr(nn, name), method)).parameters.values()
        theirs = inspect.signature(getattr(getattr(torch.nn, name), method)).parameters.values()
        assert [(p.name, p.default, p.kind) for p in ours] == [
            (p.name, p.default, p.kind) for p in theirs
        ]


# ----- errors ----------------------------------------------------------------------------


def _lib(which):
    return (torch, TF) if which == "torch" else (rg, F)


X5 = (2, 3, 5, 6, 7)
ERRORS = [
    lambda L, F: F.max_pool3d(L.zeros(X5), 3, padding=2),
    lambda L, F: F.max_pool3d(L.zeros(X5), (3, 2, 3), padding=(1, 2, 1)),
    lambda L, F: F.max_pool3d(L.zeros(X5), 2, 1, 2, 3),
    lambda L, F: F.max_pool3d(L.zeros(X5), 0),
    lambda L, F: F.max_pool3d(L.zeros(X5), 0, 1),
    lambda L, F: F.max_pool3d(L.zeros(X5), (2, -1, 2), 1),
    lambda L, F: F.max_pool3d(L.zeros(X5), 2, -1),
    lambda L, F: F.max_pool3d(L.zeros(X5), 2, dilation=0),
    lambda L, F: F.max_pool3d(L.zeros(X5), 2, padding=-1),
    lambda L, F: F.max_pool3d(L.zeros(5, 6, 7), 2),
    lambda L, F: F.max_pool3d(L.zeros(1, *X5), 2),
    lambda L, F: F.max_pool3d(L.zeros(5, 6, 7), 2, 0),
    lambda L, F: F.max_pool3d(L.zeros(X5), 6),
    lambda L, F: F.max_pool3d(L.zeros(X5), 3, padding=1, dilation=4),
    lambda L, F: F.max_pool3d(L.zeros(X5), (2, 2)),
    lambda L, F: F.max_pool3d(L.zeros(X5), 2, (2, 2)),
    lambda L, F: F.max_pool3d(L.zeros(X5), 2, padding=(1, 1)),
    lambda L, F: F.max_pool3d(L.zeros(X5), 2, dilation=(1, 1)),
    lambda L, F: F.max_pool3d(L.zeros(2, 0, 5, 6, 7), 2),
    lambda L, F: F.max_pool3d(L.zeros(3, 0, 6, 7), 2),
    lambda L, F: F.max_pool3d(L.zeros(X5, dtype=L.bool), 2),
    lambda L, F: F.avg_pool3d(L.zeros(X5), 3, padding=2),
    lambda L, F: F.avg_pool3d(L.zeros(X5), 0),
    lambda L, F: F.avg_pool3d(L.zeros(X5), 0, 1),
    lambda L, F: F.avg_pool3d(L.zeros(X5), 2, -1),
    lambda L, F: F.avg_pool3d(L.zeros(X5), 2, divisor_override=0),
    lambda L, F: F.avg_pool3d(L.zeros(5, 6, 7), 2, divisor_override=0),
    lambda L, F: F.avg_pool3d(L.zeros(X5), 6),
    lambda L, F: F.avg_pool3d(L.zeros(2, 3, 2, 6, 7), 3, padding=1),
    lambda L, F: F.avg_pool3d(L.zeros(X5), (2, 2)),
    lambda L, F: F.avg_pool3d(L.zeros(X5), 2, (1, 1)),
    lambda L, F: F.avg_pool3d(L.zeros(X5), 2, padding=(1, 1)),
    lambda L, F: F.avg_pool3d(L.zeros(X5), 2, padding=-1),
    lambda L, F: F.avg_pool3d(L.zeros(2, 3, 0, 6, 7), 2),
    lambda L, F: F.avg_pool3d(L.zeros(X5, dtype=L.float16), 2),
    lambda L, F: F.avg_pool3d(L.zeros(X5, dtype=L.int32), 2),
    lambda L, F: F.adaptive_avg_pool3d(L.zeros(5, 6, 7), 2),
    lambda L, F: F.adaptive_avg_pool3d(L.zeros(1, *X5), 2),
    lambda L, F: F.adaptive_avg_pool3d(L.zeros(X5), (2, -1, 2)),
    lambda L, F: F.adaptive_avg_pool3d(L.zeros(X5), (2, 2)),
    lambda L, F: F.adaptive_avg_pool3d(L.zeros(5, 6, 7), (None, 1, 1)),
    lambda L, F: F.adaptive_avg_pool3d(L.zeros(2, 3, 0, 6, 7), 2),
    lambda L, F: F.adaptive_avg_pool3d(L.zeros(0, 6, 7), 2),
    lambda L, F: F.adaptive_avg_pool3d(L.zeros(6, 7), 1),
    lambda L, F: F.adaptive_avg_pool3d(L.zeros(X5, dtype=L.int64), 2),
    lambda L, F: F.adaptive_max_pool3d(L.zeros(5, 6, 7), 2),
    lambda L, F: F.adaptive_max_pool3d(L.zeros(1, *X5), 2),
    lambda L, F: F.adaptive_max_pool3d(L.zeros(X5), (2, -1, -3)),
    lambda L, F: F.adaptive_max_pool3d(L.zeros(3, 5, 6, 7), (2, 1, -2)),
    lambda L, F: F.adaptive_max_pool3d(L.zeros(X5), (2, 2)),
    lambda L, F: F.adaptive_max_pool3d(L.zeros(2, 3, 0, 6, 7), 2),
    lambda L, F: F.adaptive_max_pool3d(L.zeros(X5, dtype=L.int64), 2),
    lambda L, F: F.max_unpool2d(
        L.zeros(2, 3, 3, 4), L.zeros(2, 3, 3, 4, dtype=L.int64), 2, output_size=(8, 9)
    ),
    lambda L, F: F.max_unpool2d(
        L.zeros(2, 3, 3, 4), L.zeros(2, 3, 3, 4, dtype=L.int64), 2, output_size=(3, 7, 9)
    ),
    lambda L, F: F.max_unpool2d(
        L.zeros(2, 3, 3, 4), L.full((2, 3, 3, 4), 46), 2, output_size=(5, 7)
    ),
    lambda L, F: F.max_unpool2d(L.zeros(2, 3, 3, 4), L.zeros(2, 3, 3, 4, dtype=L.int32), 2),
    lambda L, F: F.max_unpool2d(L.zeros(2, 3, 3, 4), L.zeros(2, 3, 2, 4, dtype=L.int64), 2),
    lambda L, F: F.max_unpool2d(L.zeros(3, 4), L.zeros(3, 4, dtype=L.int64), 2),
    lambda L, F: F.max_unpool2d(L.zeros(1, 2, 3, 3, 4), L.zeros(1, 2, 3, 3, 4, dtype=L.int64), 2),
    lambda L, F: F.max_unpool2d(L.zeros(2, 0, 3, 4), L.zeros(2, 0, 3, 4, dtype=L.int64), 2),
    # (PyTorch reports a plane's last bad index, planes racing: the same in each plane here)
    lambda L, F: F.max_unpool2d(L.zeros(2, 3, 3, 4), L.arange(72).reshape(2, 3, 3, 4) % 12 - 5, 2),
    lambda L, F: F.max_unpool2d(L.zeros(1, 1, 3, 4), L.arange(12).reshape(1, 1, 3, 4) * 7 - 30, 2),
    lambda L, F: F.max_unpool2d(
        L.zeros(2, 3, 3, 4, dtype=L.int64), L.zeros(2, 3, 3, 4, dtype=L.int64), 2
    ),
    lambda L, F: F.max_unpool2d(L.zeros(2, 3, 3, 4), L.zeros(2, 3, 3, 4, dtype=L.int64), (2, 2, 2)),
    lambda L, F: F.max_unpool1d(L.zeros(3, 4), L.full((3, 4), 50), 2),
    lambda L, F: F.max_unpool1d(L.zeros(4), L.zeros(4, dtype=L.int64), 2),
    lambda L, F: F.max_unpool1d(
        L.zeros(3, 4), L.zeros(3, 4, dtype=L.int64), 2, output_size=[3, 4, 5]
    ),
    lambda L, F: F.max_unpool1d(L.zeros(3, 4), L.zeros(3, 4, dtype=L.int64), 2, output_size=[-2]),
    lambda L, F: F.max_unpool3d(L.zeros(2, 3, 2, 3, 4), L.full((2, 3, 2, 3, 4), 1000), 2),
    lambda L, F: F.max_unpool3d(L.zeros(3, 3, 4), L.zeros(3, 3, 4, dtype=L.int64), 2),
    lambda L, F: F.max_unpool3d(L.zeros(3, 2, 3, 4), L.zeros(3, 2, 3, 4, dtype=L.int32), 2),
    lambda L, F: F.max_unpool3d(L.zeros(3, 2, 3, 4), L.zeros(3, 1, 3, 4, dtype=L.int64), 2),
    lambda L, F: F.max_unpool3d(
        L.zeros(3, 2, 3, 4), L.zeros(3, 2, 3, 4, dtype=L.int64), 2, stride=0
    ),
    lambda L, F: F.max_unpool3d(L.zeros(3, 2, 3, 4), L.zeros(3, 2, 3, 4, dtype=L.int64), (2, 2)),
    lambda L, F: F.max_unpool3d(
        L.zeros(3, 2, 3, 4), L.zeros(3, 2, 3, 4, dtype=L.int64), 2, 2, (1, 1)
    ),
    lambda L, F: F.max_unpool3d(L.zeros(2, 0, 2, 3, 4), L.zeros(2, 0, 2, 3, 4, dtype=L.int64), 2),
    lambda L, F: F.max_unpool3d(
        L.zeros(3, 2, 3, 4), L.zeros(3, 2, 3, 4, dtype=L.int64), 2, -1, output_size=(4, 6, 8)
    ),
    lambda L, F: F.lp_pool3d(L.zeros(X5), 2, (2, 2)),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_errors_as_torch(index):
    found = []
    for which in ("torch", "rustgrad"):
        try:
            ERRORS[index](*_lib(which))
        except Exception as e:  # noqa: BLE001 - compared across the two libraries
            found.append((type(e).__name__, str(e)))
        else:
            found.append(None)
    assert found[0] is not None, "PyTorch accepts it"
    assert found[1] == found[0]


def test_empty_and_unbatched_shapes_as_torch():
    for shape in [(0, 3, 5, 6, 7), (3, 5, 6, 7)]:
        x_t, x_r = pair(np.zeros(shape), grad=False)
        for name, args in [("max_pool3d", (2,)), ("avg_pool3d", (2,)), ("adaptive_avg_pool3d", (2,)), ("adaptive_max_pool3d", (2,))]:  # fmt: skip
            assert_same_tensor(getattr(F, name)(x_r, *args), getattr(TF, name)(x_t, *args))
    # an empty output volume (padding as large as the window): no index is read
    x_t, x_r = pair(np.zeros((3, 2, 3, 4)), grad=False)
    i_t, i_r = torch.zeros(3, 2, 3, 4, dtype=torch.int64), rg.zeros(3, 2, 3, 4, dtype=rg.int64)
    out_t = TF.max_unpool3d(x_t, i_t, 2, padding=(2, 1, 0))
    assert_same_tensor(F.max_unpool3d(x_r, i_r, 2, padding=(2, 1, 0)), out_t)
