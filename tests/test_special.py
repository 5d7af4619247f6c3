"""``rustgrad.special`` against ``torch.special``: values at random and edge inputs, gradients
(first and second order, against PyTorch's and by gradcheck), ``out=``, node names, and the
names rustgrad lacks."""

import numpy as np
import pytest
import rustgrad as rg
from rustgrad.autograd import gradcheck, gradgradcheck

from tests.conftest import raises

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(7)
EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.5, 1e-8, 30.0, -30.0, np.inf, -np.inf, np.nan]
VALUES = np.concatenate([RNG.normal(0, 3, 40), RNG.uniform(0, 1, 20), EDGES])
UNIT = np.concatenate([RNG.uniform(0.01, 0.99, 30), [0.0, 1.0, 0.5, -0.1, 1.1, np.nan]])
POSITIVE = np.concatenate([RNG.uniform(0.1, 8, 30), [1.0, 2.0, 10.0]])

# name -> (call, inputs, whose gradient exists everywhere drawn)
UNARY = {
    "gammaln": (lambda s, x: s.gammaln(x), VALUES),
    "digamma": (lambda s, x: s.digamma(x), VALUES),
    "psi": (lambda s, x: s.psi(x), VALUES),
    "polygamma1": (lambda s, x: s.polygamma(1, x), VALUES),
    "polygamma3": (lambda s, x: s.polygamma(3, x), VALUES),
    "multigammaln": (lambda s, x: s.multigammaln(x, 3), POSITIVE + 1),
    "erf": (lambda s, x: s.erf(x), VALUES),
    "erfc": (lambda s, x: s.erfc(x), VALUES),
    "erfinv": (lambda s, x: s.erfinv(x), UNIT * 2 - 1),
    "exp2": (lambda s, x: s.exp2(x), VALUES),
    "expm1": (lambda s, x: s.expm1(x), VALUES),
    "log1p": (lambda s, x: s.log1p(x), VALUES),
    "expit": (lambda s, x: s.expit(x), VALUES),
    "logit": (lambda s, x: s.logit(x), UNIT),
    "logit_eps": (lambda s, x: s.logit(x, eps=0.05), UNIT),
    # (not at 1e-8: both gradients cancel catastrophically there, each its own way)
    "sinc": (lambda s, x: s.sinc(x), VALUES[VALUES != 1e-8]),
    "round": (lambda s, x: s.round(x, decimals=1), VALUES),
    "entr": (lambda s, x: s.entr(x), VALUES),
    "ndtr": (lambda s, x: s.ndtr(x), VALUES),
    "softmax": (lambda s, x: s.softmax(x.reshape(-1, 2), 1), POSITIVE[:30]),
    "log_softmax": (lambda s, x: s.log_softmax(x.reshape(-1, 2), 0), POSITIVE[:30]),
    "logsumexp": (lambda s, x: s.logsumexp(x.reshape(-1, 3), 1, keepdim=True), POSITIVE[:30]),
}
BINARY = {
    "xlogy": lambda s, x, y: s.xlogy(x, y),
    "xlog1py": lambda s, x, y: s.xlog1py(x, y),
}
PAIRS = (
    np.concatenate([RNG.normal(0, 2, 20), [0.0, 0.0, 0.0, 0.0, 2.0, np.nan, 1.0]]),
    np.concatenate([RNG.uniform(-0.9, 5, 20), [1.0, -1.0, -2.0, np.inf, np.nan, 1.0, -1.0]]),
)


def _compare(ours, theirs, dtype, atol=1e-30):
    a, e = ours.detach().numpy(), theirs.detach().numpy()
    rtol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_values_and_gradients_match_torch(name, dtype):
    call, values = UNARY[name]
    x = rg.tensor(values.astype(dtype), requires_grad=True)
    tx = torch.tensor(values.astype(dtype), requires_grad=True)
    out, t_out = call(rg.special, x), call(torch.special, tx)
    # float32 ndtr's far left tail is `(1 + erf) / 2` cancelling to a few ulps of 1, where
    # PyTorch's own AVX2 and AVX-512 erf differ by one: there the unit is half an ulp of 1.
    tail = 2.0**-25 if name == "ndtr" and dtype == "float32" else 1e-30
    _compare(out, t_out, dtype, atol=tail)
    if name == "round":
        return  # (zero gradients; PyTorch's node is checked in test_ops)
    out.sum().backward()
    t_out.sum().backward()
    _compare(x.grad, tx.grad, dtype)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_values_and_gradients_match_torch(name):
    call = BINARY[name]
    x, y = (rg.tensor(v, requires_grad=True) for v in PAIRS)
    tx, ty = (torch.tensor(v, requires_grad=True) for v in PAIRS)
    out, t_out = call(rg.special, x, y), call(torch.special, tx, ty)
    _compare(out, t_out, "float64")
    assert out.grad_fn.name() == t_out.grad_fn.name()
    out.sum().backward()
    t_out.sum().backward()
    _compare(x.grad, tx.grad, "float64")
    _compare(y.grad, ty.grad, "float64")
    # a Python number on either side, and broadcasting
    for args in ((2.0, PAIRS[1][:5]), (PAIRS[0][:4].reshape(4, 1), PAIRS[1][:3])):
        ours = call(rg.special, *(rg.tensor(a) if isinstance(a, np.ndarray) else a for a in args))
        theirs = call(torch.special, *(torch.tensor(a) if isinstance(a, np.ndarray) else a for a in args))  # fmt: skip
        _compare(ours, theirs, "float64")


SMOOTH = {
    "gammaln": lambda s, x: s.gammaln(x),
    "digamma": lambda s, x: s.digamma(x),
    "polygamma2": lambda s, x: s.polygamma(2, x),
    "multigammaln": lambda s, x: s.multigammaln(x + 1, 2),
    "entr": lambda s, x: s.entr(x),
    "ndtr": lambda s, x: s.ndtr(x),
    "xlog1py": lambda s, x: s.xlog1py(x, x * 0.5),
}


@pytest.mark.parametrize("name", sorted(SMOOTH))
def test_gradcheck_and_gradgradcheck(name):
    x = rg.tensor(POSITIVE[:6], requires_grad=True)
    f = lambda x: SMOOTH[name](rg.special, x)
    assert gradcheck(f, (x,))
    assert gradgradcheck(f, (x,))


def test_out_and_errors_match_torch():
    out = rg.empty(3)
    rg.special.gammaln(rg.tensor([1.0, 2.0, 3.5]), out=out)
    np.testing.assert_allclose(out.numpy(), torch.special.gammaln(torch.tensor([1.0, 2.0, 3.5])))
    for call in (
        lambda s, t: s.polygamma(-1, t.ones(2)),
        lambda s, t: s.multigammaln(t.ones(2), 0),
        lambda s, t: s.gammaln(t.ones(2), out=t.empty(2, dtype=t.int64)),
    ):
        with pytest.raises(Exception) as expected:
            call(torch.special, torch)
        with raises(type(expected.value), str(expected.value)):
            call(rg.special, rg)


def test_missing_names_raise_not_implemented():
    with raises(NotImplementedError, "torch.special.bessel_j0"):
        rg.special.bessel_j0  # noqa: B018
    assert not hasattr(rg.special, "bessel_j0")
    with pytest.raises(AttributeError):
        rg.special.no_such_function  # noqa: B018
    for name in ("erfcx", "zeta", "ndtri", "log_ndtr"):
        with raises(NotImplementedError, f"torch.special.{name}"):
            getattr(rg.special, name)


def test_logit_and_xlogy_edges_match_torch():
    """Review findings: in-place forms inside a graph, eps >= 0.5 and negative eps, NaN
    inputs, a 0-d float64 operand's dtype, the node names of number operands, ``out=``."""
    for lib_pair in ((rg, torch),):
        outcomes = []
        for lib in lib_pair:
            got = []
            x = lib.tensor([0.2, 0.5, 0.7], requires_grad=True)
            y = x * 1
            y.logit_()
            y.sum().backward()
            got.append(x.grad.tolist())
            x = lib.tensor([0.2, 0.5, 0.7], requires_grad=True)
            y = x * 1
            y.xlogy_(2.0)
            y.sum().backward()
            got.append(x.grad.tolist())
            got.append(str(lib.xlogy(lib.tensor([1, 2]), lib.tensor(2.5, dtype=lib.float64)).dtype))
            got.append(str(lib.special.xlog1py(lib.tensor(2.5, dtype=lib.float64), lib.tensor([1, 2])).dtype))  # fmt: skip
            got.append(lib.logit(lib.tensor([0.0, 0.5, 1.0]), 0.6).tolist())
            got.append(lib.logit(lib.tensor([0.2, 0.5, 0.7]), 1.0).tolist())
            for eps in (1e-6, 0.0, 0.2, -0.1, None):
                x = lib.tensor([0.0, 1.0, 0.5, 0.1, 1.5, -0.5], dtype=lib.float64, requires_grad=True)  # fmt: skip
                y = lib.logit(x, eps)
                y.sum().backward()
                got.append((y.tolist(), x.grad.tolist()))
            x = lib.tensor([0.2, 0.5], requires_grad=True)
            got.append([lib.xlogy(2.0, x).grad_fn.name(), lib.xlogy(x, 3).grad_fn.name()])
            got.append([lib.special.xlog1py(2.0, x).grad_fn.name(), lib.special.xlog1py(x, 3).grad_fn.name()])  # fmt: skip
            got.append(lib.logit(lib.tensor([0.2]), out=lib.empty(1)).tolist())
            got.append(lib.xlogy(lib.tensor([0.2]), 2.0, out=lib.empty(1)).tolist())
            outcomes.append(got)
        ours, theirs = outcomes
        np.testing.assert_equal(_rounded(ours), _rounded(theirs))


def _rounded(obj):
    """Floats to 6 significant digits (float32 logs differ by an ulp), dtype names as torch's."""
    if isinstance(obj, float):
        return float(f"{obj:.6g}")
    if isinstance(obj, str):
        return obj.replace("rustgrad.", "torch.")
    if isinstance(obj, (list, tuple)):
        return [_rounded(o) for o in obj]
    return obj


# Arguments PyTorch refuses, refused with its exception type and words.
ARGUMENT_CASES = [
    lambda T, t: T.mvlgamma(t + 3, 2.0),
    lambda T, t: (t + 3).mvlgamma(2.0),
    lambda T, t: T.polygamma(True, t),
    lambda T, t: T.polygamma(1.0, t),
    lambda T, t: t.polygamma(True),
    lambda T, t: t.clone().polygamma_(True),
    lambda T, t: T.special.polygamma(True, t),
    lambda T, t: T.special.multigammaln(t + 3, 2.0),
]


@pytest.mark.parametrize("case", range(len(ARGUMENT_CASES)))
def test_int_arguments_refuse_bools_and_floats_as_pytorch(case):
    with pytest.raises(TypeError) as theirs:
        ARGUMENT_CASES[case](torch, torch.rand(3))
    with raises(TypeError, str(theirs.value)):
        ARGUMENT_CASES[case](rg, rg.rand(3))


def test_sinc_is_one_node_with_pytorchs_backward():
    """``SincBackward0`` with PyTorch's formula: the float32 gradient near 0 (where the
    quotient rule's two terms cancel) and the second order, NaN at 0 included, are its."""
    values = np.array([0.43, 0.0622, -0.533, 1e-3, -2e-4, 0.0, 2.0, 1e-8], dtype=np.float32)
    x = rg.tensor(values, requires_grad=True)
    tx = torch.tensor(values, requires_grad=True)
    y, ty = x.sinc(), tx.sinc()
    assert y.grad_fn.name() == ty.grad_fn.name() == "SincBackward0"
    (g,) = rg.autograd.grad(y.sum(), [x], create_graph=True)
    (tg,) = torch.autograd.grad(ty.sum(), [tx], create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=1e-5, atol=1e-7)
    (gg,) = rg.autograd.grad((g * g).sum(), [x])
    (tgg,) = torch.autograd.grad((tg * tg).sum(), [tx])
    np.testing.assert_allclose(gg.numpy(), tgg.numpy(), rtol=2e-2, atol=1e-6)
    z = rg.tensor(values)
    assert np.array_equal(z.clone().sinc_().numpy(), z.sinc().numpy())


def test_mvlgamma_is_one_node_as_pytorch():
    x = rg.tensor([3.5, 4.0, 7.25], dtype=rg.float64, requires_grad=True)
    tx = torch.tensor([3.5, 4.0, 7.25], dtype=torch.float64, requires_grad=True)
    y, ty = rg.mvlgamma(x, 3), torch.mvlgamma(tx, 3)
    assert y.grad_fn.name() == ty.grad_fn.name() == "MvlgammaBackward0"
    (g,) = rg.autograd.grad(y.sum(), x)
    (tg,) = torch.autograd.grad(ty.sum(), tx)
    np.testing.assert_allclose(g.numpy(), tg.numpy(), rtol=1e-12)
    assert gradcheck(lambda v: rg.mvlgamma(v, 3), (x,))
    assert gradgradcheck(lambda v: rg.mvlgamma(v, 3), (x,))
