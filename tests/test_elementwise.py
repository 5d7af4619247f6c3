"""The elementwise math and activations of issue 11 where the op table's random samples do not
reach: edge values (+-0, +-inf, NaN, domain edges, huge arguments, ties) against PyTorch,
integer division and modulo (exact, by zero), ``out=``, the ops PyTorch does not
differentiate, error messages, and the ``nn`` activation modules' ``repr``. The op table
(``tests/opinfo_elementwise.py``) covers values, gradients, dtypes and devices on ordinary
inputs."""

import math
import warnings

import numpy as np
import pytest
import rustgrad as rg
import rustgrad.nn.functional as F
from conftest import raises

torch = pytest.importorskip("torch")

INF, NAN = math.inf, math.nan
EDGES = [0.0, -0.0, INF, -INF, NAN, 1.0, -1.0, 0.5, -0.5, 1e-30, -1e-30, 88.0, 89.0, 710.0, -710.0]
EDGES += [1e300, -1e300, 3.0, -3.0, 2.5, -2.5, 20.0, 21.0, -20.0, 1 - 1e-7, -(1 - 1e-7)]

UNARY = [
    "tan",
    "asin",
    "acos",
    "atan",
    "sinh",
    "cosh",
    "asinh",
    "acosh",
    "atanh",
    "erf",
    "erfc",
    "erfinv",
    "log2",
    "log10",
    "log1p",
    "expm1",
    "exp2",
    "rsqrt",
    "reciprocal",
    "square",
    "sign",
    "floor",
    "ceil",
    "round",
    "trunc",
    "frac",
    "exp",
    "log",
    "sqrt",
    "tanh",
    "sin",
    "cos",
    "sigmoid",
    "lgamma",
    "digamma",
]


# Where rustgrad's result is the correctly rounded one and PyTorch 2.13's CPU kernels (their
# vectorised paths) are not: (op, dtype) -> the inputs, excluded from the parity checks above
# and checked to differ in ``test_known_differences``.
KNOWN = {
    # exp(x) overflows inside PyTorch's sinh/cosh: inf, where the result is 1.117e308
    ("sinh", "float64"): [710.0, -710.0],
    ("cosh", "float64"): [710.0, -710.0],
    # PyTorch's float32 GELU gives NaN at +inf (inf * 0 inside its vectorised erf)
    ("gelu", "float32"): [INF],
}


def _known(name, dtype, values):
    """A mask of the values of ``KNOWN[name, dtype]``."""
    known = KNOWN.get((name, dtype), [])
    return np.isin(values.astype(np.float64), np.array(known, dtype=np.float64))


def _same(ours, theirs, rtol, exact_zero_sign=True, skip=None):
    a, e = ours.detach().numpy(), theirs.detach().numpy()
    if skip is not None:
        a, e = a[~skip], e[~skip]
    assert a.dtype == e.dtype
    np.testing.assert_allclose(a, e, rtol=rtol, atol=0)
    if exact_zero_sign and a.dtype.kind == "f":
        zeros = e == 0
        np.testing.assert_array_equal(np.signbit(a[zeros]), np.signbit(e[zeros]))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", UNARY)
def test_unary_edges(name, dtype):
    values = np.array(EDGES, dtype=dtype)
    ours = getattr(rg, name)(rg.tensor(values))
    theirs = getattr(torch, name)(torch.tensor(values))
    _same(ours, theirs, 1e-6 if dtype == "float32" else 1e-12, skip=_known(name, dtype, values))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("gelu", {}),
        ("gelu", {"approximate": "tanh"}),
        ("silu", {}),
        ("mish", {}),
        ("softplus", {}),
        ("softplus", {"beta": 2.0, "threshold": 5.0}),
        ("elu", {"alpha": 0.7}),
        ("selu", {}),
        ("leaky_relu", {"negative_slope": 0.2}),
        ("hardtanh", {"min_val": -2.0, "max_val": 0.5}),
        ("relu6", {}),
        ("logsigmoid", {}),
    ],
)
def test_activation_edges(name, kwargs, dtype):
    values = np.array(EDGES, dtype=dtype)
    ours = getattr(F, name)(rg.tensor(values), **kwargs)
    theirs = getattr(torch.nn.functional, name)(torch.tensor(values), **kwargs)
    # (float32: the op table's parity tolerance; PyTorch's float32 erf, inside GELU, is a few
    # ulp off where 1 + erf cancels: gelu(-3) differs by 5e-7)
    a, e = ours.numpy(), theirs.numpy()
    keep = ~_known(name, dtype, values)
    tol = {"rtol": 1e-4, "atol": 1e-5} if dtype == "float32" else {"rtol": 1e-12, "atol": 0}
    np.testing.assert_allclose(a[keep], e[keep], **tol)


@pytest.mark.parametrize("key", sorted(KNOWN))
def test_known_differences(key):
    """rustgrad gives the correctly rounded value where PyTorch does not (if PyTorch changes,
    this fails and the entry goes)."""
    name, dtype = key
    # (long enough for PyTorch's vectorised path: its scalar tail computes these right)
    values = np.tile(np.array(KNOWN[key], dtype=dtype), 64)
    mod_f = F if hasattr(F, name) and not hasattr(rg, name) else rg
    ours = getattr(mod_f, name)(rg.tensor(values)).numpy()
    torch_mod = torch.nn.functional if mod_f is F else torch
    theirs = getattr(torch_mod, name)(torch.tensor(values)).numpy()
    exact = {"sinh": np.sinh, "cosh": np.cosh, "gelu": lambda v: v}[name](values.astype(np.float64))
    np.testing.assert_allclose(ours, exact.astype(dtype), rtol=1e-15)
    assert not np.allclose(theirs, exact, rtol=1e-6, equal_nan=False)


@pytest.mark.parametrize("decimals", [0, 1, 2, -1, -2])
def test_round_ties_and_decimals(decimals):
    values = np.array([0.5, 1.5, 2.5, -0.5, -2.5, 0.125, 0.375, 1234.5678, -15.0, 25.0, INF, NAN])
    for dtype in ("float32", "float64"):
        v = values.astype(dtype)
        ours = rg.round(rg.tensor(v), decimals=decimals)
        theirs = torch.round(torch.tensor(v), decimals=decimals)
        _same(ours, theirs, 0)


BINARY_VALUES = [0.0, -0.0, 1.0, -1.0, 2.5, -2.5, 7.0, -7.0, 0.3, INF, -INF, NAN, 1e30]


@pytest.mark.parametrize(
    "name", ["atan2", "hypot", "logaddexp", "fmod", "remainder", "floor_divide"]
)
def test_binary_edges(name):
    grid = np.array(np.meshgrid(BINARY_VALUES, BINARY_VALUES)).reshape(2, -1)
    for dtype in ("float32", "float64"):
        a, b = grid[0].astype(dtype), grid[1].astype(dtype)
        ours = getattr(rg, name)(rg.tensor(a), rg.tensor(b))
        theirs = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
        _same(ours, theirs, 1e-6 if dtype == "float32" else 1e-12)


def test_modulo_of_huge_quotients_is_exact():
    """``fmod(1e308, 0.3)`` is exact in rustgrad (C's fmod); PyTorch's vectorised float64
    kernel divides first and gives NaN: a known difference."""
    a, b = np.full(64, 1e308), np.full(64, 0.3)  # (PyTorch's scalar tail is exact too)
    for name in ("fmod", "remainder"):
        ours = getattr(rg, name)(rg.tensor(a), rg.tensor(b)).numpy()
        np.testing.assert_array_equal(ours, np.fmod(a, b))
        assert np.isnan(getattr(torch, name)(torch.tensor(a), torch.tensor(b)).numpy()).all()


def test_integer_division_and_modulo_exact():
    a = np.array([7, -7, 7, -7, 0, 2**62 + 1, -(2**63), 5, -5], dtype=np.int64)
    b = np.array([2, 2, -2, -2, 3, 3, -1, 7, 7], dtype=np.int64)
    for name in ("floor_divide", "remainder", "fmod"):
        ours = getattr(rg, name)(rg.tensor(a), rg.tensor(b))
        theirs = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
        assert ours.dtype == rg.int64
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    x = rg.tensor(a)
    np.testing.assert_array_equal((x // 3).numpy(), (torch.tensor(a) // 3).numpy())
    np.testing.assert_array_equal((x % -3).numpy(), (torch.tensor(a) % -3).numpy())
    np.testing.assert_array_equal((100 // rg.tensor(b)).numpy(), (100 // torch.tensor(b)).numpy())
    np.testing.assert_array_equal((100 % rg.tensor(b)).numpy(), (100 % torch.tensor(b)).numpy())
    # a float operand makes a float result, as in PyTorch
    assert (x // 2.5).dtype == rg.float32 and (x % 2.5).dtype == rg.float32


@pytest.mark.parametrize(
    "fn",
    [
        lambda x, y: x // y,
        lambda x, y: x % y,
        lambda x, y: rg.fmod(x, y),
        lambda x, y: x // 0,
        lambda x, y: x % 0,
        lambda x, y: 7 // y,
        lambda x, y: x.floor_divide_(y),
        lambda x, y: x.remainder_(y),
    ],
)
def test_integer_division_by_zero(fn):
    x, y = rg.tensor([3, 4, 5]), rg.tensor([1, 0, 2])
    with raises(RuntimeError, "ZeroDivisionError"):
        fn(x, y)
    # (PyTorch agrees)
    tx, ty = torch.tensor([3, 4, 5]), torch.tensor([1, 0, 2])
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        (tx // ty).sum()


def test_float_division_by_zero_is_ieee():
    a = np.array([1.0, -1.0, 0.0, 3.0])
    for name in ("floor_divide", "remainder", "fmod"):
        ours = getattr(rg, name)(rg.tensor(a), 0.0)
        theirs = getattr(torch, name)(torch.tensor(a), 0.0)
        _same(ours, theirs, 0)


def test_divisor_gradient_follows_pytorchs_order():
    """The divisor's gradient is ``-g * ((a / b) / b)``: ``b * b`` would vanish (1e-25 squared
    in float32) or overflow where PyTorch's quotient stays finite, and round differently."""
    cases = [([1e-30, 3.0, -2.5], [1e-25, 0.7, 1e20]), ([0.01, 2.83], [0.01, -1.69])]
    for num, den in cases:
        grads = []
        for lib in (rg, torch):
            a = lib.tensor(num, requires_grad=True)
            b = lib.tensor(den, requires_grad=True)
            (a / b * lib.tensor([1.82] * len(num))).sum().backward()
            grads.append((a.grad, b.grad))
        _same(grads[0][0], grads[1][0], 0)
        _same(grads[0][1], grads[1][1], 0)
    tiny = rg.tensor([1e-25], requires_grad=True)
    (rg.tensor([1e-30]) / tiny).sum().backward()
    assert np.isfinite(tiny.grad.numpy()).all()


def test_not_differentiated_as_in_pytorch():
    x = rg.tensor([1.5, -2.5], requires_grad=True)
    y = x // 2
    assert y.requires_grad and y.grad_fn.name() == "torch::autograd::NotImplemented"
    with raises(RuntimeError, "derivative for aten::floor_divide is not implemented"):
        y.sum().backward()
    with raises(RuntimeError, "derivative for aten::remainder is not implemented"):
        (7 % x).sum().backward()
    z = x.detach().clone().requires_grad_()
    for name in ["asinh", "acosh", "atanh"]:
        w = z * 1 + (2 if name == "acosh" else 0) - (z * 1.1 if name == "atanh" else 0)
        getattr(w, name + "_")()
        assert w.grad_fn.name() == name.capitalize() + "Backward1"  # as PyTorch's
        with raises(NotImplementedError, f"the derivative for 'inplace version of {name}'"):
            w.sum().backward()


def test_modulo_graph_names():
    x = rg.tensor([1.5, -2.5], requires_grad=True)
    assert (x % 2).grad_fn.name() == "RemainderBackward0"
    assert (x % x).grad_fn.name() == "RemainderBackward1"
    assert rg.fmod(x, 2).grad_fn.name() == "FmodBackward0"
    assert rg.fmod(x, x.detach()).grad_fn.name() == "FmodBackward1"
    assert rg.lerp(x, x, 0.5).grad_fn.name() == "LerpBackward0"
    assert rg.lerp(x, x, x).grad_fn.name() == "LerpBackward1"
    assert rg.round(x, decimals=1).grad_fn.name() == "RoundBackward1"


@pytest.mark.parametrize(
    "call, message, exc",
    [
        (lambda: rg.tensor([1, 2]).frac(), "\"frac_cpu\" not implemented for 'Long'", None),
        (lambda: rg.tensor([True]).floor(), "\"floor_vml_cpu\" not implemented for 'Bool'", None),
        (lambda: rg.round(rg.tensor([1, 2]), decimals=1), "not implemented for 'Long'", None),
        (lambda: rg.hypot(rg.tensor([1]), rg.tensor([2])), '"hypot_cpu" not implemented', None),
        (lambda: F.gelu(rg.tensor([1])), "\"GeluKernelImpl\" not implemented for 'Long'", None),
        (lambda: F.gelu(rg.ones(2), approximate="x"), "must be either none or tanh", RuntimeError),
        (
            lambda: rg.lerp(rg.ones(2), rg.ones(2, dtype=rg.float64), 0.5),
            "expected dtype float for `end` but got dtype double",
            RuntimeError,
        ),
        (
            lambda: rg.tensor([1, 2]).tan_(),
            "result type Float can't be cast to the desired output type Long",
            RuntimeError,
        ),
        (lambda: rg.polygamma(-1, rg.ones(2)), "does not support negative n", RuntimeError),
        (lambda: rg.ones(2).mvlgamma(0), "p has to be greater than or equal to 1", RuntimeError),
        (lambda: rg.mvlgamma(rg.tensor([True]), 1), "may not be a boolean", RuntimeError),
        (
            lambda: rg.tensor([1, 2]).lgamma_(),
            "result type Float can't be cast to the desired output type Long",
            RuntimeError,
        ),
    ],
)
def test_errors(call, message, exc):
    with raises(exc or NotImplementedError, message):
        call()


def test_dtypes_as_pytorch():
    i, b = [1, -2, 3], [True, False, True]
    for name in ("floor", "ceil", "round", "trunc", "sign", "square"):
        for data in (i, b):
            try:
                expected = getattr(torch, name)(torch.tensor(data)).dtype
            except NotImplementedError:
                with pytest.raises(NotImplementedError):
                    getattr(rg, name)(rg.tensor(data))
                continue
            got = getattr(rg, name)(rg.tensor(data)).dtype
            assert str(got).split(".")[-1] == str(expected).split(".")[-1], (name, data)
    for name in ("tan", "erf", "log2", "expm1", "rsqrt", "reciprocal"):
        assert getattr(rg, name)(rg.tensor(i)).dtype == rg.float32
    assert rg.atan2(rg.tensor(i), rg.tensor(i)).dtype == rg.float32


# ----- out= -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, args",
    [
        ("add", ([1.0, 2.0], [3.0, 4.0])),
        ("sub", ([1.0, 2.0], 3.0)),
        ("mul", ([1.0, 2.0], [3.0, 4.0])),
        ("div", ([1.0, 2.0], [3.0, 4.0])),
        ("pow", ([1.0, 2.0], 2.0)),
        ("exp", ([1.0, 2.0],)),
        ("tan", ([1.0, 2.0],)),
        ("floor", ([1.5, -2.5],)),
        ("remainder", ([7.0, -7.0], 3.0)),
        ("atan2", ([1.0, 2.0], [3.0, 4.0])),
        ("maximum", ([1.0, 5.0], [3.0, 4.0])),
    ],
)
def test_out(name, args):
    def make(mod, a):
        return mod.tensor(a) if isinstance(a, list) else a

    expected = getattr(torch, name)(*[make(torch, a) for a in args])
    out = rg.zeros(2)
    result = getattr(rg, name)(*[make(rg, a) for a in args], out=out)
    assert result is out
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6)
    # an empty out is resized silently; one of another shape with PyTorch's warning
    empty = rg.zeros(0)
    getattr(rg, name)(*[make(rg, a) for a in args], out=empty)
    assert tuple(empty.shape) == (2,)
    wrong = rg.zeros(3)
    with pytest.warns(UserWarning, match="An output with one or more elements was resized"):
        getattr(rg, name)(*[make(rg, a) for a in args], out=wrong)
    np.testing.assert_allclose(wrong.numpy(), expected.numpy(), rtol=1e-6)


def test_out_errors():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    with raises(RuntimeError, "exp(): functions with out=... arguments don't support automatic"):
        rg.exp(x, out=rg.zeros(2))
    with raises(RuntimeError, "result type Float can't be cast to the desired output type Long"):
        rg.exp(x.detach(), out=rg.zeros(2, dtype=rg.int64))
    with rg.no_grad():
        out = rg.zeros(2)
        rg.exp(x, out=out)
    np.testing.assert_allclose(out.numpy(), np.exp([1.0, 2.0]), rtol=1e-6)
    # an integer result into a float out is a cast PyTorch allows
    out = rg.zeros(2)
    rg.floor_divide(rg.tensor([7, 8]), 2, out=out)
    assert out.dtype == rg.float32 and out.tolist() == [3.0, 4.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rg.add(rg.ones(2), 1, out=rg.zeros(2))


_METHOD_OUT_CALLS = {
    "logit": lambda x, o: x.logit(out=o),
    "logit with eps": lambda x, o: x.logit(0.1, out=o),
    "logit, out=None": lambda x, o: x.logit(eps=0.1, out=None),
    "logit_": lambda x, o: x.logit_(0.1, out=o),
    "xlogy": lambda x, o: x.xlogy(x, out=o),
    "xlogy of a number": lambda x, o: x.xlogy(2.0, out=o),
    "xlogy without other": lambda x, o: x.xlogy(out=o),
    "xlogy_": lambda x, o: x.xlogy_(2.0, out=None),
    "argsort": lambda x, o: x.argsort(out=o),
    "argsort with dim": lambda x, o: x.argsort(0, out=o),
    "argsort with stable": lambda x, o: x.argsort(stable=True, out=o),
    "argsort with stable and dim": lambda x, o: x.argsort(dim=0, stable=True, out=o),
    "argsort, stable=None": lambda x, o: x.argsort(stable=None),
    "sort": lambda x, o: x.sort(out=(o, o)),
    "msort": lambda x, o: x.msort(out=o),
    "sinc_": lambda x, o: x.sinc_(out=o),
    "cumsum_": lambda x, o: x.cumsum_(0, out=o),
    "random_": lambda x, o: x.random_(out=o),
    "random_ to": lambda x, o: x.random_(5, out=o),
    "random_ from to": lambda x, o: x.random_(0, 5, out=o),
    "uniform_": lambda x, o: x.uniform_(0, 1, out=o),
}


@pytest.mark.parametrize("name", list(_METHOD_OUT_CALLS))
def test_methods_refuse_out_as_torch(name):
    """Tensor methods take no ``out=`` (only the functions do): each refuses it with
    PyTorch's TypeError and words (an unexpected keyword; no keywords at all; or, for a
    binding with several overloads, its "invalid combination of arguments")."""
    with pytest.raises(TypeError) as theirs:
        _METHOD_OUT_CALLS[name](torch.rand(3), torch.empty(0))
    x, out = rg.rand(3), rg.empty(0)
    with raises(TypeError, str(theirs.value)):
        _METHOD_OUT_CALLS[name](x, out)
    assert tuple(out.shape) == (0,) and out._version == 0


# ----- modules ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda nn: nn.GELU(),
        lambda nn: nn.GELU("tanh"),
        lambda nn: nn.SiLU(),
        lambda nn: nn.SiLU(True),
        lambda nn: nn.Mish(),
        lambda nn: nn.ELU(),
        lambda nn: nn.ELU(0.5, True),
        lambda nn: nn.SELU(),
        lambda nn: nn.SELU(True),
        lambda nn: nn.LeakyReLU(),
        lambda nn: nn.LeakyReLU(0.2, True),
        lambda nn: nn.Hardtanh(),
        lambda nn: nn.Hardtanh(-2, 2, True),
        lambda nn: nn.ReLU6(),
        lambda nn: nn.ReLU6(True),
        lambda nn: nn.Softplus(),
        lambda nn: nn.Softplus(2, 10),
        lambda nn: nn.LogSigmoid(),
        lambda nn: nn.Tanh(),
        lambda nn: nn.Sigmoid(),
    ],
)
def test_module_repr_and_forward(make):
    ours, theirs = make(rg.nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    values = np.array([-3.0, -0.5, 0.0, 0.7, 2.0, 8.0])
    x, tx = rg.tensor(values), torch.tensor(values)
    np.testing.assert_allclose(ours(x).numpy(), theirs(tx).numpy(), rtol=1e-12)


def test_inplace_activation_writes_input():
    x = rg.tensor([-1.0, 2.0])
    assert F.leaky_relu(x, 0.5, inplace=True) is x
    assert x.tolist() == [-0.5, 2.0]
    assert F.hardtanh_(x, 0.0, 1.0) is x
    assert x.tolist() == [0.0, 1.0]


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_nan_and_infinities(name):
    """NaN wins either side, infinities compare as numbers (the sign of a zero at a +-0 tie
    follows PyTorch's vectorised kernel in some lanes and its scalar tail in others: not
    compared)."""
    grid = np.array(np.meshgrid(BINARY_VALUES, BINARY_VALUES)).reshape(2, -1)
    for dtype in ("float32", "float64"):
        a, b = grid[0].astype(dtype), grid[1].astype(dtype)
        ours = getattr(rg, name)(rg.tensor(a), rg.tensor(b))
        theirs = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
        _same(ours, theirs, 0, exact_zero_sign=False)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [0, 1, 2, 3, 5])
def test_polygamma_edges(n, dtype):
    values = np.array(EDGES + [-1.5, -0.25, 1e-8, 1e17, 2e17], dtype=dtype)
    ours = rg.polygamma(n, rg.tensor(values))
    theirs = torch.polygamma(n, torch.tensor(values))
    _same(ours, theirs, 1e-5 if dtype == "float32" else 1e-12)


@pytest.mark.parametrize("scalar_other", [False, True])
def test_copysign_node_and_gradients_of_both_orders_are_pytorchs(scalar_other):
    """``copysign`` is one node of PyTorch's name; ``other``'s gradient is constant zeros
    (no history under ``create_graph``), and second derivatives reach ``other`` as zeros, not
    None (fuzz seed 45, program 126). Signed zeros and a zero ``input`` included."""
    a = np.array([[1.5, -2.0, 0.0], [3.0, -0.0, 4.0]])
    b = np.array([-1.0, 2.0, -0.0])
    results = []
    for lib in (rg, torch):
        x = lib.tensor(a, requires_grad=True)
        y = -2.0 if scalar_other else lib.tensor(b, requires_grad=True)
        out = lib.copysign(x, y)
        leaves = [x] if scalar_other else [x, y]
        g1 = lib.autograd.grad((out**3).sum(), leaves, create_graph=True)
        g2 = lib.autograd.grad(sum((g * g).sum() for g in g1), leaves, allow_unused=True)
        results.append(
            (
                out.grad_fn.name(),
                [(g.detach().numpy(), g.requires_grad) for g in g1],
                [None if g is None else g.numpy() for g in g2],
                out.detach().numpy(),
            )
        )
    (name_r, g1_r, g2_r, out_r), (name_t, g1_t, g2_t, out_t) = results
    assert name_r == name_t
    np.testing.assert_array_equal(np.signbit(out_r), np.signbit(out_t))
    np.testing.assert_allclose(out_r, out_t)
    for (gr, req_r), (gt, req_t) in zip(g1_r, g1_t):
        assert req_r == req_t
        np.testing.assert_allclose(gr, gt)
    for gr, gt in zip(g2_r, g2_t):
        assert (gr is None) == (gt is None)
        if gt is not None:
            np.testing.assert_allclose(gr, gt)


def test_copysign_in_place_keeps_what_its_node_saved():
    """``copysign_`` overwrites its input, which the node's gradient reads: the op computes on
    a copy, so backward neither raises a version error nor reads the new values (the
    fixed-seed fuzz slice's program 675)."""
    a = np.array([1.5, -2.0, 0.0, 3.0])
    b = np.array([-1.0, 2.0, -0.0, -4.0])
    results = []
    for lib in (rg, torch):
        x = lib.tensor(a, requires_grad=True)
        y = x * 2
        z = y.copysign_(lib.tensor(b))
        assert z is y
        (z**2).sum().backward()
        results.append((y.grad_fn.name(), y.detach().numpy(), x.grad.numpy()))
    assert results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])
    np.testing.assert_allclose(results[0][2], results[1][2])


def test_copysign_saves_its_result_as_pytorch():
    """PyTorch's copysign node saves its result: writing it in place before backward raises
    the version error there (fuzz seed 48, program 142), for ``copysign`` and ``copysign_``."""
    for lib in (rg, torch):
        a = lib.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
        b = lib.tensor([[1.0], [-1.0]], requires_grad=True)
        r = lib.copysign(a, b)
        r.copy_(b)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            r.sum().backward()
        x = lib.tensor([1.0, -2.0], requires_grad=True) * 1
        x.copysign_(-1.0)
        x.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            x.sum().backward()


def test_heaviside_is_not_differentiated_as_in_pytorch():
    for lib in (rg, pytest.importorskip("torch")):
        x = lib.tensor([1.5, 0.0, -2.5], requires_grad=True)
        y = lib.heaviside(x, lib.tensor(0.5))
        assert y.requires_grad and y.grad_fn.name() == "torch::autograd::NotImplemented"
        with raises(RuntimeError, "derivative for aten::heaviside is not implemented"):
            y.sum().backward()
