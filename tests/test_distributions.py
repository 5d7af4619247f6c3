"""``rustgrad.distributions`` against ``torch.distributions``.

Each check runs the same code under both libraries (``mod`` is ``rustgrad`` or ``torch``) on
the same float64 inputs and compares what comes out: values, dtypes, shapes and the gradients
of every parameter (a weighted sum of the result is backpropagated); or, when PyTorch raises,
the same exception type and message. Messages and reprs are compared with rustgrad's
``rustgrad.`` spelling read as ``torch.``. Samples come from rustgrad's own random stream, so
they are compared by shape, dtype and gradient, and by their statistics against the
distribution's own moments.
"""

import contextlib
import math
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import rustgrad as rg
from conftest import to_numpy
from rustgrad import _dropin

torch = pytest.importorskip("torch")

LIBS = {"rustgrad": rg, "torch": torch}
TOL = {"rtol": 1e-10, "atol": 1e-12}
# Python-number parameters become float32 tensors (the default dtype) in both libraries,
# whose float32 kernels may differ in the last bit (PyTorch's vectorised log is not always
# correctly rounded): compared to float32's precision.
LOOSE = {"rtol": 2e-6, "atol": 1e-7}


def _norm(text: str) -> str:
    """rustgrad's spelling of names in messages and reprs read as PyTorch's."""
    return text.replace("rustgrad", "torch")


@contextlib.contextmanager
def _torch_names(mod):
    """For rustgrad: its reprs spelled as under the drop-in runner (``torch.float64``, 3
    characters shorter than ``rustgrad.float64``), so that a printed tensor wraps its lines
    where PyTorch's does."""
    if mod is not rg:
        yield
        return
    _dropin._use_torch_names(True)
    try:
        yield
    finally:
        _dropin._use_torch_names(False)


# ----- inputs ---------------------------------------------------------------------------------

R = np.random.default_rng(20240611)


def real(*shape):
    return R.standard_normal(shape)


def pos(*shape):
    return R.uniform(0.5, 2.0, shape)


def unit(*shape):
    return R.uniform(0.05, 0.95, shape)


def spd(*batch, n=3):
    """Symmetric positive-definite matrices."""
    a = R.standard_normal((*batch, n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def tril_pos(*batch, n=3):
    """Lower-triangular matrices with a positive diagonal."""
    m = np.tril(R.standard_normal((*batch, n, n)))
    idx = np.arange(n)
    m[..., idx, idx] = R.uniform(0.5, 2.0, (*batch, n))
    return m


def one_hot(k, *shape):
    return np.eye(k)[R.integers(0, k, shape)]


def bits(*shape):
    return R.integers(0, 2, shape).astype(np.float64)


class Case:
    """A distribution built by ``make(D, p)`` (``D`` the library's ``distributions``, ``p``
    the parameters as leaves), values to score and ``u`` in (0, 1) for ``icdf``."""

    def __init__(self, id, make, params, value, u=None):
        self.id, self.make, self.params, self.value = id, make, params, value
        self.u = unit(*np.shape(value)) if u is None else u

    def __repr__(self):
        return self.id


def _leaf(mod, a):
    """A float64 leaf requiring grad for a float array; an int64 tensor for an int array;
    Python numbers stay numbers."""
    if isinstance(a, np.ndarray):
        t = mod.tensor(a)
        return t.requires_grad_() if t.is_floating_point() else t
    return a


NORMAL_LIKE = {
    "Normal": lambda D, p: D.Normal(p["loc"], p["scale"]),
    "Laplace": lambda D, p: D.Laplace(p["loc"], p["scale"]),
    "LogNormal": lambda D, p: D.LogNormal(p["loc"], p["scale"]),
}


def _normal_like_cases():
    cases = []
    for name, make in NORMAL_LIKE.items():

        def values(*shape, name=name):
            return pos(*shape) if name == "LogNormal" else real(*shape) * 2

        cases += [
            Case(f"{name}-scalar", make, {"loc": real(), "scale": pos()}, values(4), unit(4)),
            Case(f"{name}-vector", make, {"loc": real(3), "scale": pos(3)}, values(2, 3)),
            Case(f"{name}-broadcast", make, {"loc": real(2, 3), "scale": pos(3)}, values(3)),
            Case(f"{name}-numbers", make, {"loc": 0.3, "scale": 1.7}, values(5), unit(5)),
            Case(f"{name}-mixed", make, {"loc": real(2, 1), "scale": 0.8}, values(2, 1)),
        ]
    return cases


def _uniform_cases():
    make = lambda D, p: D.Uniform(p["low"], p["high"])
    lo = real(3)
    hi = lo + pos(3)
    blo = real(2, 3)
    bhi = 4 + pos(3)
    return [
        Case("Uniform-vector", make, {"low": lo, "high": hi}, lo + unit(4, 3) * (hi - lo)),
        Case("Uniform-broadcast", make, {"low": blo, "high": bhi}, blo + unit(2, 3)),
        Case("Uniform-numbers", make, {"low": -1.0, "high": 2.5}, unit(5) * 3.5 - 1, unit(5)),
        Case(
            "Uniform-unvalidated-outside",
            lambda D, p: D.Uniform(p["low"], p["high"], validate_args=False),
            {"low": lo, "high": hi},
            np.stack([lo - 1, hi + 1, (lo + hi) / 2]),
            np.array([0.0, 1.0, 0.5]),
        ),
    ]


def _other_cases():
    exp = lambda D, p: D.Exponential(p["rate"])
    bern_p = lambda D, p: D.Bernoulli(probs=p["probs"])
    bern_l = lambda D, p: D.Bernoulli(logits=p["logits"])
    cat_p = lambda D, p: D.Categorical(probs=p["probs"])
    cat_l = lambda D, p: D.Categorical(logits=p["logits"])
    oh_p = lambda D, p: D.OneHotCategorical(probs=p["probs"])
    oh_l = lambda D, p: D.OneHotCategorical(logits=p["logits"])
    mvn_cov = lambda D, p: D.MultivariateNormal(p["loc"], covariance_matrix=p["cov"])
    mvn_tril = lambda D, p: D.MultivariateNormal(p["loc"], scale_tril=p["tril"])
    mvn_prec = lambda D, p: D.MultivariateNormal(p["loc"], precision_matrix=p["prec"])
    return [
        Case("Exponential-scalar", exp, {"rate": pos()}, pos(4), unit(4)),
        Case("Exponential-vector", exp, {"rate": pos(3)}, pos(2, 3), unit(2, 3)),
        Case("Exponential-number", exp, {"rate": 1.5}, pos(5), unit(5)),
        Case("Bernoulli-scalar", bern_p, {"probs": unit()}, bits(4)),
        Case("Bernoulli-vector", bern_p, {"probs": unit(3)}, bits(2, 3)),
        Case("Bernoulli-logits", bern_l, {"logits": real(2, 3)}, bits(3)),
        Case("Bernoulli-number", bern_p, {"probs": 0.3}, bits(5)),
        Case("Bernoulli-logit-number", bern_l, {"logits": -0.4}, bits(5)),
        Case("Bernoulli-half", bern_p, {"probs": np.array([0.5, 0.2, 0.8])}, bits(3)),
        Case("Categorical-probs", cat_p, {"probs": unit(4)}, R.integers(0, 4, (5,))),
        Case("Categorical-batch", cat_p, {"probs": unit(2, 4)}, R.integers(0, 4, (3, 2))),
        Case("Categorical-logits", cat_l, {"logits": real(2, 3, 5)}, R.integers(0, 5, (2, 3))),
        Case("Categorical-zero", cat_p, {"probs": np.array([0.0, 0.3, 0.7])}, np.arange(3)),
        Case("Categorical-inf", cat_l, {"logits": np.array([-np.inf, 0.3, 0.7])}, np.arange(3)),
        Case("OneHot-probs", oh_p, {"probs": unit(4)}, one_hot(4, 5)),
        Case("OneHot-logits", oh_l, {"logits": real(2, 3)}, one_hot(3, 4, 2)),
        Case("MVN-cov", mvn_cov, {"loc": real(3), "cov": spd()}, real(4, 3)),
        Case("MVN-tril", mvn_tril, {"loc": real(2, 3), "tril": tril_pos()}, real(2, 3)),
        Case("MVN-prec", mvn_prec, {"loc": real(3), "prec": spd(2)}, real(5, 2, 3)),
        Case("MVN-broadcast", mvn_cov, {"loc": real(2, 1, 3), "cov": spd(4)}, real(5, 2, 4, 3)),
        Case("MVN-few-value-dims", mvn_tril, {"loc": real(3), "tril": tril_pos(2)}, real(3)),
        Case(
            "Independent-Normal",
            lambda D, p: D.Independent(D.Normal(p["loc"], p["scale"]), 1),
            {"loc": real(2, 3), "scale": pos(2, 3)},
            real(4, 2, 3),
            unit(2, 3),
        ),
        Case(
            "Independent-Bernoulli-2",
            lambda D, p: D.Independent(D.Bernoulli(p["probs"]), 2),
            {"probs": unit(2, 3)},
            bits(2, 3),
        ),
        Case(
            "Independent-Exponential-0",
            lambda D, p: D.Independent(D.Exponential(p["rate"]), 0),
            {"rate": pos(3)},
            pos(3),
            unit(3),
        ),
        Case(
            "Independent-MVN",
            lambda D, p: D.Independent(D.MultivariateNormal(p["loc"], scale_tril=p["tril"]), 1),
            {"loc": real(2, 3), "tril": tril_pos()},
            real(2, 3),
        ),
        Case(
            "OneHotStraightThrough",
            lambda D, p: D.OneHotCategoricalStraightThrough(logits=p["logits"]),
            {"logits": real(2, 3)},
            one_hot(3, 2),
        ),
    ]


CASES = _normal_like_cases() + _uniform_cases() + _other_cases()


def _exp_family_entropy(mod, d, value, u):
    # The Bregman-divergence entropy (autograd of the log normalizer), for the families
    # that override it with a closed form.
    return mod.distributions.ExponentialFamily.entropy(d)


def _matrix(name):
    def quantity(mod, d, value, u):
        return getattr(d, name)

    return quantity


QUANTITIES = {
    "log_prob": lambda mod, d, value, u: d.log_prob(value),
    "prob": lambda mod, d, value, u: d.log_prob(value).exp(),
    "cdf": lambda mod, d, value, u: d.cdf(value),
    "icdf": lambda mod, d, value, u: d.icdf(u),
    "entropy": lambda mod, d, value, u: d.entropy(),
    "perplexity": lambda mod, d, value, u: d.perplexity(),
    "mean": lambda mod, d, value, u: d.mean,
    "mode": lambda mod, d, value, u: d.mode,
    "variance": lambda mod, d, value, u: d.variance,
    "stddev": lambda mod, d, value, u: d.stddev,
    "expfamily_entropy": _exp_family_entropy,
    "covariance_matrix": _matrix("covariance_matrix"),
    "precision_matrix": _matrix("precision_matrix"),
    "scale_tril": _matrix("scale_tril"),
}


def _weights(shape):
    """Fixed weights of a result's shape: the gradients of a weighted sum check each
    element's gradient, not just their total."""
    return np.random.default_rng(7).uniform(0.5, 1.5, shape)


def _outcome(mod, fn, arrays):
    """``fn(mod, *leaves)`` as comparable data: ("error", type, message) or ("value", ...)
    with the result's values, dtype, shape, requires_grad and each leaf's gradient."""
    with _torch_names(mod):
        return _outcome_of(mod, fn, arrays)


def _outcome_of(mod, fn, arrays):
    leaves = [_leaf(mod, a) for a in arrays]
    try:
        out = fn(mod, *leaves)
    except (ValueError, NotImplementedError, TypeError, RuntimeError, IndexError) as err:
        return ("error", type(err).__name__, _norm(str(err)))
    grads = []
    if out.requires_grad:
        w = mod.tensor(_weights(tuple(out.shape)), dtype=out.dtype)
        (out * w).sum().backward()
        for leaf in leaves:
            if isinstance(leaf, mod.Tensor) and leaf.requires_grad:
                grads.append(None if leaf.grad is None else to_numpy(leaf.grad))
    dtype = _norm(str(out.dtype))
    return ("value", to_numpy(out), dtype, tuple(out.shape), out.requires_grad, grads)


def _assert_same(ours, theirs, tol=TOL):
    assert ours[0] == theirs[0], (ours, theirs)
    if ours[0] == "error":
        assert ours[1:] == theirs[1:]
        return
    _, value, dtype, shape, requires_grad, grads = ours
    assert (dtype, shape, requires_grad) == theirs[2:5]
    np.testing.assert_allclose(value, theirs[1], equal_nan=True, **tol)
    assert len(grads) == len(theirs[5])
    for g, h in zip(grads, theirs[5]):
        assert (g is None) == (h is None)
        if g is not None:
            np.testing.assert_allclose(g, h, equal_nan=True, **tol)


def _compare(fn, arrays):
    ours = _outcome(rg, fn, arrays)
    theirs = _outcome(torch, fn, arrays)
    numbers = any(not isinstance(a, np.ndarray) for a in arrays)
    _assert_same(ours, theirs, LOOSE if numbers else TOL)
    return ours


def _case_fn(case, quantity):
    names = list(case.params)

    def fn(mod, *leaves):
        params = dict(zip(names, leaves[: len(names)]))
        value, u = leaves[len(names) :]
        d = case.make(mod.distributions, params)
        return QUANTITIES[quantity](mod, d, value, u)

    return fn


def _case_arrays(case):
    return [*case.params.values(), case.value, case.u]


# ----- values and gradients ---------------------------------------------------------------------


# The quantities that only some families have, and the PyTorch class that has them.
ONLY_FOR = {
    "expfamily_entropy": torch.distributions.ExponentialFamily,
    "covariance_matrix": torch.distributions.MultivariateNormal,
    "precision_matrix": torch.distributions.MultivariateNormal,
    "scale_tril": torch.distributions.MultivariateNormal,
}


def _case_quantities():
    for case in CASES:
        # (PyTorch's distribution decides, so that a wrong class here cannot skip a check)
        d = case.make(torch.distributions, {k: _leaf(torch, v) for k, v in case.params.items()})
        for quantity in QUANTITIES:
            if quantity not in ONLY_FOR or isinstance(d, ONLY_FOR[quantity]):
                yield pytest.param(case, quantity, id=f"{case.id}-{quantity}")


@pytest.mark.parametrize(("case", "quantity"), list(_case_quantities()))
def test_values_and_gradients_match_pytorch(case, quantity):
    _compare(_case_fn(case, quantity), _case_arrays(case))


def test_the_value_comparison_can_fail():
    # The harness notices a wrong value and a wrong gradient.
    good = ("value", np.ones(2), "torch.float64", (2,), True, [np.ones(2)])
    with pytest.raises(AssertionError):
        _assert_same(good, ("value", np.ones(2) * 1.001, *good[2:]))
    with pytest.raises(AssertionError):
        _assert_same(good, (*good[:5], [np.zeros(2)]))
    with pytest.raises(AssertionError):
        _assert_same(good, ("error", "ValueError", "x"))


def test_icdf_inverts_cdf():
    for make in (
        lambda D: D.Normal(rg.tensor([0.3, -1.0]), rg.tensor([1.2, 0.4])),
        lambda D: D.Laplace(rg.tensor([0.3, -1.0]), rg.tensor([1.2, 0.4])),
        lambda D: D.Exponential(rg.tensor([0.3, 2.0])),
        lambda D: D.Uniform(rg.tensor([0.3, -1.0]), rg.tensor([1.2, 0.4])),
        lambda D: D.LogNormal(rg.tensor([0.3, -1.0]), rg.tensor([1.2, 0.4])),
    ):
        d = make(rg.distributions)
        u = rg.tensor([[0.1, 0.7], [0.5, 0.25]])
        np.testing.assert_allclose(to_numpy(d.cdf(d.icdf(u))), to_numpy(u), rtol=1e-5)


# ----- KL divergence ------------------------------------------------------------------------------

KL_PAIRS = [
    # (id, make(D, p) -> (p, q), params)
    (
        "Normal-Normal",
        lambda D, a: (D.Normal(a["l1"], a["s1"]), D.Normal(a["l2"], a["s2"])),
        {"l1": real(2, 3), "s1": pos(2, 3), "l2": real(3), "s2": pos(3)},
    ),
    (
        "Laplace-Laplace",
        lambda D, a: (D.Laplace(a["l1"], a["s1"]), D.Laplace(a["l2"], a["s2"])),
        {"l1": real(3), "s1": pos(3), "l2": real(3), "s2": pos(3)},
    ),
    (
        "Exponential-Exponential",
        lambda D, a: (D.Exponential(a["r1"]), D.Exponential(a["r2"])),
        {"r1": pos(2, 3), "r2": pos(3)},
    ),
    (
        "Uniform-Uniform",  # the second pair's q misses part of p: infinite
        lambda D, a: (D.Uniform(a["lo"], a["lo"] + a["w1"]), D.Uniform(a["lo"] - a["d"], a["hi"])),
        {
            "lo": np.array([0.0, 1.0]),
            "w1": np.array([1.0, 2.0]),
            "d": np.array([0.5, -0.1]),
            "hi": np.array([2.0, 3.5]),
        },
    ),
    (
        "Bernoulli-Bernoulli",
        lambda D, a: (D.Bernoulli(a["p1"]), D.Bernoulli(logits=a["l2"])),
        {"p1": unit(2, 3), "l2": real(3)},
    ),
    (
        "Bernoulli-Bernoulli-edges",  # p = 0 or 1 and q = 0 or 1: zero and infinite terms
        lambda D, a: (D.Bernoulli(a["p1"]), D.Bernoulli(a["p2"])),
        {"p1": np.array([0.0, 1.0, 0.3, 0.0, 1.0]), "p2": np.array([0.4, 0.6, 0.0, 0.0, 1.0])},
    ),
    (
        "Categorical-Categorical",
        lambda D, a: (D.Categorical(a["p1"]), D.Categorical(logits=a["l2"])),
        {"p1": unit(2, 4), "l2": real(4)},
    ),
    (
        "Categorical-Categorical-zeros",
        lambda D, a: (D.Categorical(a["p1"]), D.Categorical(a["p2"])),
        {
            "p1": np.array([[0.0, 0.5, 0.5], [0.2, 0.3, 0.5]]),
            "p2": np.array([[0.3, 0.3, 0.4], [0.5, 0.0, 0.5]]),
        },
    ),
    (
        "OneHot-OneHot",
        lambda D, a: (D.OneHotCategorical(a["p1"]), D.OneHotCategorical(logits=a["l2"])),
        {"p1": unit(3, 4), "l2": real(3, 4)},
    ),
    (
        "MVN-MVN",
        lambda D, a: (
            D.MultivariateNormal(a["l1"], covariance_matrix=a["c1"]),
            D.MultivariateNormal(a["l2"], scale_tril=a["t2"]),
        ),
        {"l1": real(2, 3), "c1": spd(), "l2": real(3), "t2": tril_pos(2)},
    ),
    (
        "MVN-MVN-precision",
        lambda D, a: (
            D.MultivariateNormal(a["l1"], precision_matrix=a["p1"]),
            D.MultivariateNormal(a["l2"], covariance_matrix=a["c2"]),
        ),
        {"l1": real(4), "p1": spd(n=4), "l2": real(4), "c2": spd(n=4)},
    ),
    (
        "Independent-Independent",
        lambda D, a: (
            D.Independent(D.Normal(a["l1"], a["s1"]), 1),
            D.Independent(D.Normal(a["l2"], a["s2"]), 1),
        ),
        {"l1": real(2, 3), "s1": pos(2, 3), "l2": real(2, 3), "s2": pos(3)},
    ),
    (
        "LogNormal-LogNormal",
        lambda D, a: (D.LogNormal(a["l1"], a["s1"]), D.LogNormal(a["l2"], a["s2"])),
        {"l1": real(3), "s1": pos(3), "l2": real(3), "s2": pos(3)},
    ),
    (
        "Exponential-Normal",
        lambda D, a: (D.Exponential(a["r"]), D.Normal(a["l"], a["s"])),
        {"r": pos(3), "l": real(3), "s": pos(3)},
    ),
    (
        "Laplace-Normal",
        lambda D, a: (D.Laplace(a["l1"], a["s1"]), D.Normal(a["l2"], a["s2"])),
        {"l1": real(3), "s1": pos(3), "l2": real(3), "s2": pos(3)},
    ),
    (
        "Normal-Laplace",
        lambda D, a: (D.Normal(a["l1"], a["s1"]), D.Laplace(a["l2"], a["s2"])),
        {"l1": real(3), "s1": pos(3), "l2": real(3), "s2": pos(3)},
    ),
    (
        "Uniform-Normal",
        lambda D, a: (D.Uniform(a["lo"], a["lo"] + a["w"]), D.Normal(a["l"], a["s"])),
        {"lo": real(3), "w": pos(3), "l": real(3), "s": pos(3)},
    ),
    (
        "Uniform-Exponential",  # the first interval reaches below 0: infinite
        lambda D, a: (D.Uniform(a["lo"], a["lo"] + a["w"]), D.Exponential(a["r"])),
        {"lo": np.array([-0.5, 0.2, 1.0]), "w": pos(3), "r": pos(3)},
    ),
    (
        "Normal-Uniform",
        lambda D, a: (D.Normal(a["l"], a["s"]), D.Uniform(a["lo"], a["lo"] + 1)),
        {"l": real(3), "s": pos(3), "lo": real(3)},
    ),
    (
        "Exponential-Uniform",
        lambda D, a: (D.Exponential(a["r"]), D.Uniform(a["lo"], a["lo"] + 1)),
        {"r": pos(3), "lo": real(3)},
    ),
    (
        "Laplace-Exponential",
        lambda D, a: (D.Laplace(a["l"], a["s"]), D.Exponential(a["r"])),
        {"l": real(3), "s": pos(3), "r": pos(3)},
    ),
    (
        "Normal-Exponential",
        lambda D, a: (D.Normal(a["l"], a["s"]), D.Exponential(a["r"])),
        {"l": real(3), "s": pos(3), "r": pos(3)},
    ),
    # Pairs PyTorch refuses, each in its own way.
    (
        "Normal-Bernoulli",  # two exponential families: the Bregman rule refuses
        lambda D, a: (D.Normal(a["l"], a["s"]), D.Bernoulli(a["p"])),
        {"l": real(3), "s": pos(3), "p": unit(3)},
    ),
    (
        "Normal-Categorical",
        lambda D, a: (D.Normal(a["l"], a["s"]), D.Categorical(a["p"])),
        {"l": real(), "s": pos(), "p": unit(3)},
    ),
    (
        "LogNormal-Normal",
        lambda D, a: (D.LogNormal(a["l"], a["s"]), D.Normal(a["l"], a["s"])),
        {"l": real(3), "s": pos(3)},
    ),
    (
        "Independent-Independent-ndims",
        lambda D, a: (
            D.Independent(D.Normal(a["l"], a["s"]), 1),
            D.Independent(D.Normal(a["l"], a["s"]), 2),
        ),
        {"l": real(2, 3), "s": pos(2, 3)},
    ),
    (
        "MVN-MVN-sizes",
        lambda D, a: (
            D.MultivariateNormal(a["l1"], scale_tril=a["t1"]),
            D.MultivariateNormal(a["l2"], scale_tril=a["t2"]),
        ),
        {"l1": real(2), "t1": tril_pos(n=2), "l2": real(3), "t2": tril_pos()},
    ),
]


@pytest.mark.parametrize("pair", KL_PAIRS, ids=lambda pair: pair[0])
def test_kl_divergence_matches_pytorch(pair):
    _, make, params = pair
    names = list(params)

    def fn(mod, *leaves):
        p, q = make(mod.distributions, dict(zip(names, leaves)))
        return mod.distributions.kl_divergence(p, q)

    _compare(fn, list(params.values()))


@pytest.mark.parametrize(
    "make",
    [
        lambda D, T, a: (D.Normal(a[0], a[1].exp()), D.Normal(a[1], a[0].exp())),
        lambda D, T, a: (D.Exponential(a[0].exp()), D.Exponential(a[1].exp())),
        lambda D, T, a: (D.Bernoulli(logits=a[0]), D.Bernoulli(logits=a[1])),
    ],
    ids=["Normal", "Exponential", "Bernoulli"],
)
def test_exponential_family_bregman_kl_matches_pytorch(make):
    # The generic rule for two distributions of one exponential family (autograd of the log
    # normalizer), which the closed forms take precedence over: called directly.
    def fn(mod, a, b):
        p, q = make(mod.distributions, mod, (a, b))
        return mod.distributions.kl._kl_expfamily_expfamily(p, q)

    _compare(fn, [real(2, 3), real(2, 3)])
    # Its value is the closed form's (its gradients are not: p's parameters are detached).
    a, b = np.array([0.3, -0.2]), np.array([1.1, 0.4])
    closed = lambda mod, a, b: mod.distributions.kl_divergence(
        *make(mod.distributions, mod, (a, b))
    )
    np.testing.assert_allclose(_outcome(rg, fn, [a, b])[1], _outcome(rg, closed, [a, b])[1], **TOL)


def test_straight_through_rsample_gradients_match_pytorch():
    logits = real(4, 3)
    w = real(5, 4, 3)
    grads = {}
    for name, mod in LIBS.items():
        leaf = mod.tensor(logits, requires_grad=True)
        d = mod.distributions.OneHotCategoricalStraightThrough(logits=leaf)
        r = d.rsample((5,))
        assert tuple(r.shape) == (5, 4, 3) and r.requires_grad
        np.testing.assert_allclose(to_numpy(r).sum(-1), 1.0)  # one-hot values, probs' grad
        (r * mod.tensor(w)).sum().backward()
        grads[name] = to_numpy(leaf.grad)
    np.testing.assert_allclose(grads["rustgrad"], grads["torch"], **TOL)


def test_kl_of_a_distribution_from_itself_is_zero():
    D = rg.distributions
    for d in (
        D.Normal(rg.tensor([0.3, -1.0]), rg.tensor([1.2, 0.4])),
        D.Categorical(rg.tensor([[0.2, 0.8], [0.5, 0.5]])),
        D.MultivariateNormal(rg.zeros(2), rg.tensor([[2.0, 0.3], [0.3, 1.0]])),
    ):
        assert rg.distributions.kl_divergence(d, d).abs().max().item() < 1e-6


def test_register_kl_dispatch_and_ambiguity_as_pytorch():
    # A subclass pair takes the most specific rule; an ambiguous pair warns as PyTorch does.
    def run(mod):
        D = mod.distributions

        class BaseP(D.Normal):
            pass

        class DerivedP(BaseP):
            pass

        class BaseQ(D.Normal):
            pass

        class DerivedQ(BaseQ):
            pass

        @D.register_kl(BaseP, DerivedQ)
        def kl_version1(p, q):
            return p.loc * 0 + 1

        @D.register_kl(DerivedP, BaseQ)
        def kl_version2(p, q):
            return p.loc * 0 + 2

        args = (mod.tensor([0.0]), mod.tensor([1.0]))
        out = [D.kl_divergence(BaseP(*args), DerivedQ(*args)).item()]
        out.append(D.kl_divergence(DerivedP(*args), BaseQ(*args)).item())
        out.append(D.kl_divergence(BaseP(*args), BaseQ(*args)).item())  # Normal/Normal's rule
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out.append(D.kl_divergence(DerivedP(*args), DerivedQ(*args)).item())
        out.append([(w.category.__name__, str(w.message)) for w in caught])
        D.register_kl(DerivedP, DerivedQ)(kl_version1)  # breaks the tie
        out.append(D.kl_divergence(DerivedP(*args), DerivedQ(*args)).item())
        try:
            D.register_kl(D.Normal(0.0, 1.0), D.Normal)
        except TypeError as err:
            out.append(str(err))
        return out

    ours, theirs = run(rg), run(torch)
    assert ours == theirs
    assert ours[3:5] == [
        2.0,  # the most specific in p wins
        [("RuntimeWarning", ("Ambiguous kl_divergence(DerivedP, DerivedQ). "
          "Please register_kl(DerivedP, DerivedQ)"))],
    ]  # fmt: skip


def test_names_as_pytorch():
    # Every name of torch.distributions is here, or raises NotImplementedError naming it
    # (an AttributeError too: hasattr answers no).
    D = rg.distributions
    assert set(D.__all__) <= set(torch.distributions.__all__)
    for name in torch.distributions.__all__:
        if name in D.__all__:
            assert getattr(D, name).__name__ == getattr(torch.distributions, name).__name__
            continue
        assert not hasattr(D, name)
        with pytest.raises(NotImplementedError, match=f"torch.distributions.{name} yet"):
            getattr(D, name)
    with pytest.raises(AttributeError, match="has no attribute 'nosuchname'"):
        D.nosuchname  # noqa: B018 - the access is the test
    for module in ("constraints", "distribution", "kl", "normal", "utils", "multivariate_normal"):
        assert hasattr(torch.distributions, module) and hasattr(D, module)


# ----- shapes, samples, expand --------------------------------------------------------------------

SAMPLE_SHAPES = [(), (5,), (2, 3), "Size"]


def _sample_shape(mod, shape):
    return mod.Size([4]) if shape == "Size" else shape


def _describe_sample(mod, d, method, shape):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s = getattr(d, method)(_sample_shape(mod, shape))
    except (NotImplementedError, ValueError, RuntimeError) as err:
        return ("error", type(err).__name__, _norm(str(err)))
    return (tuple(s.shape), _norm(str(s.dtype)), s.requires_grad, s.grad_fn is not None)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_shapes_and_samples_match_pytorch(case):
    results = {}
    for name, mod in LIBS.items():
        with _torch_names(mod):
            d = case.make(mod.distributions, {k: _leaf(mod, v) for k, v in case.params.items()})
            described = [
                tuple(d.batch_shape),
                tuple(d.event_shape),
                type(d.batch_shape).__name__,
                type(d.event_shape).__name__,
                d.has_rsample,
                d.has_enumerate_support,
                _norm(repr(d)),
                _norm(repr(d.support)),
                sorted(d.arg_constraints),
            ]
            for method in ("sample", "rsample"):
                for shape in SAMPLE_SHAPES:
                    described.append((method, shape, _describe_sample(mod, d, method, shape)))
            results[name] = described
    assert results["rustgrad"] == results["torch"]


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_sample_has_no_grad_and_rsample_reaches_every_parameter(case):
    params = {k: _leaf(rg, v) for k, v in case.params.items()}
    d = case.make(rg.distributions, params)
    s = d.sample((3,))
    assert not s.requires_grad and s.grad_fn is None
    if not d.has_rsample:
        with pytest.raises(NotImplementedError):
            d.rsample()
        return
    r = d.rsample((3,))
    tensors = [p for p in params.values() if isinstance(p, rg.Tensor)]
    assert r.requires_grad == bool(tensors)
    if tensors:
        (r * rg.tensor(_weights(tuple(r.shape)))).sum().backward()
        for p in tensors:
            assert p.grad is not None and p.grad.shape == p.shape
            assert bool(rg.isfinite(p.grad).all())
            assert p.grad.abs().sum().item() > 0


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_expand_matches_pytorch(case):
    results = {}
    for name, mod in LIBS.items():
        with _torch_names(mod):
            d = case.make(mod.distributions, {k: _leaf(mod, v) for k, v in case.params.items()})
            new_batch = (4, *d.batch_shape)
            e = d.expand(new_batch)
            e2 = d.expand(mod.Size(new_batch))
            with mod.no_grad():
                lp = e.log_prob(e.sample())
            results[name] = (
                type(e).__name__,
                tuple(e.batch_shape),
                tuple(e2.batch_shape),
                tuple(e.event_shape),
                tuple(e.sample((2,)).shape),
                tuple(lp.shape),
                _norm(repr(e)),
                e._validate_args,
                str(to_numpy(e.mean).round(12).tolist()),  # (as text: NaN equals NaN)
            )
    assert results["rustgrad"] == results["torch"]


def test_expand_keeps_validation_setting_and_refuses_custom_init():
    D = rg.distributions
    d = D.Normal(rg.zeros(2), 1.0, validate_args=False)
    assert d.expand((3, 2))._validate_args is False

    def run(mod):
        class Scaled(mod.distributions.Normal):
            def __init__(self, scale):
                super().__init__(mod.zeros(2), scale)

        try:
            Scaled(1.0).expand((3, 2))
        except NotImplementedError as err:
            return str(err)

    assert run(rg) == run(torch)
    assert "must also define a custom .expand() method" in run(rg)


def test_sample_reproducible_under_manual_seed():
    D = rg.distributions
    for d in (
        D.Normal(rg.zeros(3), rg.ones(3)),
        D.Categorical(rg.tensor([0.2, 0.3, 0.5])),
        D.Bernoulli(rg.tensor([0.5, 0.1])),
        D.Laplace(0.0, 1.0),
        D.Exponential(2.0),
        D.Uniform(0.0, 1.0),
        D.MultivariateNormal(rg.zeros(2), rg.eye(2)),
    ):
        rg.manual_seed(11)
        a = d.sample((6,))
        rg.manual_seed(11)
        b = d.sample((6,))
        c = d.sample((6,))
        assert a.tolist() == b.tolist()
        assert a.tolist() != c.tolist()


def test_sample_n_warns_as_pytorch():
    shapes = {}
    for name, mod in LIBS.items():
        with _torch_names(mod):
            d = mod.distributions.Normal(mod.zeros(2), 1.0)
            with pytest.warns(FutureWarning) as caught:
                s = d.sample_n(3)
            shapes[name] = (tuple(s.shape), [str(w.message) for w in caught])
    assert shapes["rustgrad"] == shapes["torch"]


# ----- statistics of samples ------------------------------------------------------------------------

N_STATS = 20000

STAT_CASES = {
    "Normal": lambda D: D.Normal(rg.tensor([0.5, -2.0]), rg.tensor([1.5, 0.3])),
    "Laplace": lambda D: D.Laplace(rg.tensor([0.5, -2.0]), rg.tensor([1.5, 0.3])),
    "Exponential": lambda D: D.Exponential(rg.tensor([0.5, 3.0])),
    "Uniform": lambda D: D.Uniform(rg.tensor([0.5, -2.0]), rg.tensor([1.5, 4.0])),
    "LogNormal": lambda D: D.LogNormal(rg.tensor([0.5, -1.0]), rg.tensor([0.25, 0.4])),
    "Bernoulli": lambda D: D.Bernoulli(rg.tensor([0.1, 0.6])),
    "OneHotCategorical": lambda D: D.OneHotCategorical(rg.tensor([0.2, 0.5, 0.3])),
    "Independent": lambda D: D.Independent(D.Normal(rg.tensor([1.0, 2.0]), 0.5), 1),
}


@pytest.mark.parametrize("method", ["sample", "rsample"])
@pytest.mark.parametrize("name", list(STAT_CASES))
def test_sample_moments_match_the_distribution(name, method):
    rg.manual_seed(1)
    d = STAT_CASES[name](rg.distributions)
    if not d.has_rsample and method == "rsample":
        pytest.skip("no rsample")
    x = to_numpy(getattr(d, method)((N_STATS,)))
    mean, var = to_numpy(d.mean), to_numpy(d.variance)
    sample_mean, sample_var = x.mean(0), x.var(0, ddof=1)
    # Within 5 standard errors; the error of the variance from the sample's fourth moment.
    assert np.all(np.abs(sample_mean - mean) < 5 * np.sqrt(var / N_STATS))
    x = x.astype(np.float64)
    m4 = ((x - sample_mean) ** 4).mean(0)
    # (plus a 1/n term: for a fair 0/1 variable the first-order error vanishes)
    se_var = np.sqrt(np.maximum(m4 - sample_var**2, 0) / N_STATS) + var / N_STATS
    assert np.all(np.abs(sample_var - var) < 5 * se_var)


def test_categorical_frequencies():
    rg.manual_seed(2)
    probs = np.array([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]])
    x = to_numpy(rg.distributions.Categorical(rg.tensor(probs)).sample((N_STATS,)))
    assert x.shape == (N_STATS, 2) and x.dtype == np.int64
    for b in range(2):
        freq = np.bincount(x[:, b], minlength=3) / N_STATS
        se = np.sqrt(probs[b] * (1 - probs[b]) / N_STATS)
        assert np.all(np.abs(freq - probs[b]) < 5 * se), (freq, probs[b])


def test_multivariate_normal_sample_covariance():
    rg.manual_seed(3)
    cov = np.array([[2.0, 0.6, -0.3], [0.6, 1.0, 0.2], [-0.3, 0.2, 0.5]])
    loc = np.array([1.0, -1.0, 0.0])
    for kw in ("covariance_matrix", "precision_matrix", "scale_tril"):
        given = {"covariance_matrix": cov, "precision_matrix": np.linalg.inv(cov),
                 "scale_tril": np.linalg.cholesky(cov)}[kw]  # fmt: skip
        d = rg.distributions.MultivariateNormal(rg.tensor(loc), **{kw: rg.tensor(given)})
        x = to_numpy(d.rsample((N_STATS,)))
        se = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / N_STATS)
        assert np.all(np.abs(np.cov(x.T) - cov) < 5 * se), kw
        assert np.all(np.abs(x.mean(0) - loc) < 5 * np.sqrt(np.diag(cov) / N_STATS))


# ----- enumerate_support ----------------------------------------------------------------------------

ENUMERABLE = [
    lambda D, T: D.Categorical(T.tensor([0.2, 0.3, 0.5])),
    lambda D, T: D.Categorical(logits=T.zeros(2, 3, 4)),
    lambda D, T: D.Bernoulli(T.tensor([0.2, 0.3], dtype=T.float64)),
    lambda D, T: D.Bernoulli(0.3),
    lambda D, T: D.OneHotCategorical(T.tensor([[0.2, 0.8], [0.5, 0.5], [0.1, 0.9]])),
    lambda D, T: D.OneHotCategorical(T.tensor([0.2, 0.3, 0.5])),
    lambda D, T: D.Independent(D.Bernoulli(T.tensor([0.2, 0.3])), 0),
    lambda D, T: D.Independent(D.Bernoulli(T.tensor([0.2, 0.3])), 1),
    lambda D, T: D.Normal(0.0, 1.0),
]


@pytest.mark.parametrize("expand", [True, False])
@pytest.mark.parametrize("index", range(len(ENUMERABLE)))
def test_enumerate_support_matches_pytorch(index, expand):
    results = {}
    for name, mod in LIBS.items():
        with _torch_names(mod):
            d = ENUMERABLE[index](mod.distributions, mod)
            try:
                s = d.enumerate_support(expand=expand)
                lp = d.log_prob(s)
                results[name] = (
                    s.tolist(), tuple(s.shape), _norm(str(s.dtype)), tuple(lp.shape),
                    d.has_enumerate_support, to_numpy(lp),
                )  # fmt: skip
            except NotImplementedError as err:
                results[name] = ("error", str(err), d.has_enumerate_support)
    ours, theirs = results["rustgrad"], results["torch"]
    assert ours[:-1] == theirs[:-1]
    if ours[0] != "error":  # float32 log-probabilities: to float32's precision
        np.testing.assert_allclose(ours[-1], theirs[-1], **LOOSE)


# ----- validation errors, reprs, constraints --------------------------------------------------------

ERRORS = {
    "normal-scale": lambda D, T: D.Normal(0.0, -1.0),
    "normal-vector-scale": lambda D, T: D.Normal(T.tensor([0.0, 1.0]), T.tensor([1.0, -1.0])),
    "normal-nan-loc": lambda D, T: D.Normal(T.tensor([math.nan, 1.0]), 1.0),
    "normal-grad-scale": lambda D, T: D.Normal(0.0, T.tensor(-2.0, requires_grad=True)),
    "normal-value-type": lambda D, T: D.Normal(0.0, 1.0).log_prob(0.5),
    "normal-value-shape": lambda D, T: D.Normal(T.zeros(2), 1.0).log_prob(T.zeros(3)),
    "normal-cdf-shape": lambda D, T: D.Normal(T.zeros(2, 3), 1.0).cdf(T.zeros(4, 1, 2)),
    "broadcast-all": lambda D, T: D.Normal("a", 1.0),
    "laplace-scale": lambda D, T: D.Laplace(0.0, 0.0),
    "exponential-rate": lambda D, T: D.Exponential(T.tensor([[1.0, -1.0]], dtype=T.float64)),
    "exponential-support": lambda D, T: D.Exponential(1.0).log_prob(T.tensor([1.0, -1.0])),
    "uniform-order": lambda D, T: D.Uniform(1.0, 0.0),
    "uniform-vector-order": lambda D, T: D.Uniform(T.zeros(2), T.tensor([1.0, -1.0])),
    "uniform-support": lambda D, T: D.Uniform(0.0, 1.0).log_prob(T.tensor(2.0)),
    "uniform-vector-support": lambda D, T: D.Uniform(T.zeros(2), 1.0).cdf(T.tensor([0.5, 1.5])),
    "bernoulli-probs": lambda D, T: D.Bernoulli(1.5),
    "bernoulli-none": lambda D, T: D.Bernoulli(),
    "bernoulli-both": lambda D, T: D.Bernoulli(0.5, 0.0),
    "bernoulli-logits-nan": lambda D, T: D.Bernoulli(logits=T.tensor([math.nan])),
    "bernoulli-support": lambda D, T: D.Bernoulli(0.3).log_prob(T.tensor(0.5)),
    "categorical-0dim": lambda D, T: D.Categorical(T.tensor(0.5)),
    "categorical-logits-0dim": lambda D, T: D.Categorical(logits=T.tensor(0.5)),
    "categorical-none": lambda D, T: D.Categorical(),
    "categorical-negative": lambda D, T: D.Categorical(T.tensor([-0.1, 1.1])),
    "categorical-support": lambda D, T: D.Categorical(T.tensor([0.5, 0.5])).log_prob(T.tensor(2)),
    "categorical-broadcast": lambda D, T: D.Categorical(T.ones(2, 3)).log_prob(T.zeros(3)),
    "categorical-mode-missing": lambda D, T: D.Distribution().mode,
    "onehot-negative": lambda D, T: D.OneHotCategorical(T.tensor([-1.0, 2.0])),
    "onehot-support": lambda D, T: D.OneHotCategorical(T.tensor([0.5, 0.5])).log_prob(
        T.tensor([1.0, 1.0])
    ),
    "onehot-event-shape": lambda D, T: D.OneHotCategorical(T.tensor([0.5, 0.5])).log_prob(
        T.tensor([1.0, 0.0, 0.0])
    ),
    "mvn-loc-0dim": lambda D, T: D.MultivariateNormal(T.tensor(0.0), T.eye(1)),
    "mvn-none": lambda D, T: D.MultivariateNormal(T.zeros(2)),
    "mvn-two": lambda D, T: D.MultivariateNormal(T.zeros(2), T.eye(2), scale_tril=T.eye(2)),
    "mvn-cov-1dim": lambda D, T: D.MultivariateNormal(T.zeros(2), T.ones(2)),
    "mvn-tril-1dim": lambda D, T: D.MultivariateNormal(T.zeros(2), scale_tril=T.ones(2)),
    "mvn-prec-1dim": lambda D, T: D.MultivariateNormal(T.zeros(2), precision_matrix=T.ones(2)),
    "mvn-not-pd": lambda D, T: D.MultivariateNormal(T.zeros(2), T.tensor([[1.0, 2.0], [2.0, 1.0]])),
    "mvn-not-symmetric": lambda D, T: D.MultivariateNormal(
        T.zeros(2), T.tensor([[1.0, 0.5], [0.0, 1.0]])
    ),
    "mvn-prec-not-pd": lambda D, T: D.MultivariateNormal(
        T.zeros(2), precision_matrix=T.tensor([[1.0, 0.0], [0.0, -1.0]])
    ),
    "mvn-tril-diagonal": lambda D, T: D.MultivariateNormal(
        T.zeros(2), scale_tril=T.tensor([[1.0, 0.0], [0.3, -1.0]])
    ),
    "mvn-tril-upper": lambda D, T: D.MultivariateNormal(
        T.zeros(2), scale_tril=T.tensor([[1.0, 0.2], [0.3, 1.0]])
    ),
    "mvn-loc-nan": lambda D, T: D.MultivariateNormal(T.tensor([0.0, math.nan]), T.eye(2)),
    "mvn-value-event": lambda D, T: D.MultivariateNormal(T.zeros(2), T.eye(2)).log_prob(T.zeros(3)),
    "independent-ndims": lambda D, T: D.Independent(D.Normal(T.zeros(2), 1.0), 2),
    "independent-enumerate": lambda D, T: D.Independent(
        D.Bernoulli(T.tensor([0.5])), 1
    ).enumerate_support(),
    "independent-support": lambda D, T: D.Independent(D.Exponential(T.ones(2)), 1).log_prob(
        T.tensor([1.0, -1.0])
    ),
    "lognormal-scale": lambda D, T: D.LogNormal(0.0, -1.0),
    "lognormal-support": lambda D, T: D.LogNormal(0.0, 1.0).log_prob(T.tensor([-1.0])),
    "lognormal-cdf-support": lambda D, T: D.LogNormal(0.0, 1.0).cdf(T.tensor([-1.0])),
    "default-validate": lambda D, T: D.Distribution.set_default_validate_args("yes"),
    "dependent-check": lambda D, T: D.constraints.dependent.check(T.zeros(1)),
    "dependent-event-dim": lambda D, T: D.constraints.dependent.event_dim,
    "independent-constraint-dims": lambda D, T: D.constraints.independent(
        D.constraints.real, 2
    ).check(T.zeros(1)),
    "base-methods": lambda D, T: D.Distribution().rsample(),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_pytorch(name):
    outcomes = {}
    for lib, mod in LIBS.items():
        with _torch_names(mod), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (Distribution() warns of its arg_constraints)
            try:
                ERRORS[name](mod.distributions, mod)
            except Exception as err:  # noqa: BLE001 - the type is what is compared
                outcomes[lib] = (type(err).__name__, _norm(str(err)))
            else:
                outcomes[lib] = None
    assert outcomes["torch"] is not None, "PyTorch raised nothing: not an error case"
    assert outcomes["rustgrad"] == outcomes["torch"]


def test_error_text_of_the_brief():
    with pytest.raises(ValueError) as err:
        rg.distributions.Normal(0.0, -1.0)
    assert str(err.value) == (
        "Expected parameter scale (Tensor of shape ()) of distribution Normal(loc: 0.0, "
        "scale: -1.0) to satisfy the constraint GreaterThan(lower_bound=0.0), but found "
        "invalid values:\n-1.0"
    )


def test_validation_can_be_turned_off():
    D = rg.distributions
    assert bool(D.Normal(0.0, -1.0, validate_args=False).log_prob(rg.tensor(0.0)).isnan())
    assert D.Uniform(0.0, 1.0, validate_args=False).log_prob(rg.tensor(2.0)).item() == -math.inf
    try:
        for mod in LIBS.values():
            mod.distributions.Distribution.set_default_validate_args(False)
        for mod in LIBS.values():
            d = mod.distributions.Exponential(-1.0)  # no error now
            assert d._validate_args is False
            assert math.isnan(d.log_prob(mod.tensor(1.0)).item())  # log(-1)
            assert d.log_prob(mod.tensor(-1.0)).isnan().item()
    finally:
        for mod in LIBS.values():
            mod.distributions.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Exponential(-1.0)


def test_missing_arg_constraints_warns_as_pytorch():
    messages = {}
    for lib, mod in LIBS.items():
        with _torch_names(mod):
            with pytest.warns(UserWarning) as caught:
                mod.distributions.Distribution(validate_args=True)
            messages[lib] = [_norm(str(w.message)) for w in caught]
    assert messages["rustgrad"] == messages["torch"]
    assert "does not define `arg_constraints`" in messages["rustgrad"][0]


REPRS = [
    lambda D, T: D.Normal(0.0, 1.0),
    lambda D, T: D.Normal(T.zeros(3), 1.0),
    lambda D, T: D.Normal(T.tensor([0.5]), T.tensor([2.0])),
    lambda D, T: D.Normal(T.tensor(0.5, requires_grad=True), T.tensor(2.0)),
    lambda D, T: D.Uniform(T.zeros(2, 1), 1.0),
    lambda D, T: D.Bernoulli(logits=T.tensor([0.2, 0.3])),
    lambda D, T: D.Bernoulli(probs=0.25),
    lambda D, T: D.Categorical(T.tensor([0.25, 0.75])),
    lambda D, T: D.OneHotCategorical(logits=T.zeros(2, 3)),
    lambda D, T: D.Exponential(T.tensor([2.0])),
    lambda D, T: D.Laplace(0.0, 2.0),
    lambda D, T: D.LogNormal(0.0, 2.0),
    lambda D, T: D.MultivariateNormal(T.zeros(2), T.eye(2)),
    lambda D, T: D.MultivariateNormal(T.zeros(2), precision_matrix=T.eye(2)),
    lambda D, T: D.Independent(D.Normal(T.zeros(2, 3), 1.0), 1),
    lambda D, T: D.Independent(D.Categorical(logits=T.zeros(2, 3)), 1),
]


@pytest.mark.parametrize("index", range(len(REPRS)))
def test_reprs_match_pytorch(index):
    shown = {}
    for lib, mod in LIBS.items():
        with _torch_names(mod):
            d = REPRS[index](mod.distributions, mod)
            shown[lib] = (_norm(repr(d)), _norm(str(d)), _norm(repr(d.support)))
    assert shown["rustgrad"] == shown["torch"]


def _constraints(C, T):
    return [
        C.real,
        C.positive,
        C.nonnegative,
        C.unit_interval,
        C.boolean,
        C.one_hot,
        C.simplex,
        C.nonnegative_integer,
        C.positive_integer,
        C.real_vector,
        C.lower_triangular,
        C.lower_cholesky,
        C.corr_cholesky,
        C.square,
        C.symmetric,
        C.positive_definite,
        C.positive_semidefinite,
        C.dependent,
        C.greater_than(1.5),
        C.greater_than_eq(-2),
        C.less_than(T.tensor(3.0)),
        C.less_than(T.tensor([3.0, 4.0])),
        C.interval(0, 2.5),
        C.half_open_interval(-1.0, 1.0),
        C.integer_interval(0, 4),
        C.independent(C.positive, 2),
        C.multinomial(3),
        C.MixtureSameFamilyConstraint(C.real),
        C.cat([C.real, C.positive], dim=0, lengths=[1, 2]),
        C.stack([C.real, C.positive], dim=-1),
    ]


def test_constraints_match_pytorch():
    x = np.array([[-1.0, 0.0, 0.5, 1.0], [2.0, 3.0, math.nan, 0.25], [0.0, 1.0, 0.0, 0.0]])
    mats = [
        np.eye(3),
        np.array([[1.0, 0.5], [0.5, 2.0]]),
        np.array([[1.0, 2.0], [2.0, 1.0]]),
        np.array([[1.0, 0.0], [0.3, -1.0]]),
        np.array([[1.0, 0.2], [0.0, 1.0]]),
        np.array([[1.0, 0.0], [0.6, 0.8]]),
        np.stack([np.eye(2), np.array([[1.0, 0.0], [3.0, 2.0]])]),
        np.ones((2, 3)),
    ]
    results = {}
    for lib, mod in LIBS.items():
        with _torch_names(mod):
            out = []
            for c in _constraints(mod.distributions.constraints, mod):
                row = [_norm(repr(c)), type(c).__name__]
                for attr in ("is_discrete", "event_dim"):
                    try:
                        row.append(getattr(c, attr))
                    except NotImplementedError as err:
                        row.append(str(err))
                for value in [x, *mats]:
                    try:
                        row.append(c.check(mod.tensor(value)).tolist())
                    except Exception as err:  # noqa: BLE001 - compared with PyTorch's
                        row.append((type(err).__name__, _norm(str(err))))
                out.append(row)
            out.append(
                mod.distributions.constraints.is_dependent(mod.distributions.constraints.real)
            )
            dep = mod.distributions.constraints.dependent(is_discrete=True, event_dim=1)
            out.append((dep.is_discrete, dep.event_dim))
            out.append(sorted(mod.distributions.constraints.__all__))
            results[lib] = out
    assert results["rustgrad"] == results["torch"]


def test_dependent_property_support_as_pytorch():
    for lib, mod in LIBS.items():
        with _torch_names(mod):
            D, C = mod.distributions, mod.distributions.constraints
            for cls in (D.Uniform, D.Categorical, D.Independent):
                assert C.is_dependent(cls.support), (lib, cls)
            assert D.Categorical.support.is_discrete and D.Categorical.support.event_dim == 0
            assert not D.Uniform.support.is_discrete
            assert not C.is_dependent(D.Normal.support)


def test_utils_match_pytorch():
    probs = np.array([[0.0, 0.25, 0.75], [1.0, 0.5, 1e-20]])
    results = {}
    for lib, mod in LIBS.items():
        with _torch_names(mod):
            U = mod.distributions.utils
            p = mod.tensor(probs)
            logits = U.probs_to_logits(p)
            arrays = [
                U.clamp_probs(p),
                logits,
                U.probs_to_logits(p, is_binary=True),
                U.logits_to_probs(logits),
                U.logits_to_probs(logits, is_binary=True),
            ]
            out = [
                U.tril_matrix_to_vec(mod.arange(9.0).reshape(3, 3)).tolist(),
                U.tril_matrix_to_vec(mod.arange(9.0).reshape(3, 3), diag=-1).tolist(),
                U.vec_to_tril_matrix(mod.arange(6.0)).tolist(),
                U.vec_to_tril_matrix(mod.arange(1.0, 4.0), diag=-1).tolist(),
            ]
            a, b, c = U.broadcast_all(1.5, mod.zeros(2, 1, dtype=mod.float64), mod.ones(3))
            out.append([(tuple(t.shape), _norm(str(t.dtype))) for t in (a, b, c)])
            (s,) = U.broadcast_all(2)
            out.append((s.item(), _norm(str(s.dtype))))
            leaf = mod.ones(3, requires_grad=True)
            out.append([t is leaf for t in U.broadcast_all(leaf, 2.0, mod.zeros(1))])
            bad_calls = (
                lambda U=U: U.broadcast_all([1.0]),
                lambda U=U, mod=mod: U.vec_to_tril_matrix(mod.ones(5)),
            )
            for bad in bad_calls:
                try:
                    bad()
                except ValueError as err:
                    out.append(str(err))
            results[lib] = (out, [to_numpy(t) for t in arrays])
    assert results["rustgrad"][0] == results["torch"][0]
    for ours, theirs in zip(results["rustgrad"][1], results["torch"][1]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-14, atol=1e-15)


def test_lazy_parametrisation_as_pytorch():
    for mod in LIBS.values():
        D = mod.distributions
        d = D.Categorical(logits=mod.tensor([0.0, 1.0]))
        assert "probs" not in d.__dict__
        assert d.probs.shape == (2,)
        assert "probs" in d.__dict__
        b = D.Bernoulli(probs=mod.tensor([0.3], requires_grad=True))
        with mod.no_grad():
            logits = b.logits  # computed with grad enabled all the same
        assert logits.requires_grad


# ----- gradcheck, REINFORCE, the drop-in runner ----------------------------------------------------


def test_gradcheck_normal_log_prob():
    loc = rg.tensor([0.3, -1.2, 0.5], dtype=rg.float64, requires_grad=True)
    scale = rg.tensor([1.1, 0.4, 2.0], dtype=rg.float64, requires_grad=True)
    x = rg.tensor([[0.1, 0.2, -0.3], [1.5, -1.0, 0.0]], dtype=rg.float64, requires_grad=True)

    def fn(loc, scale, x):
        return rg.distributions.Normal(loc, scale).log_prob(x)

    assert rg.autograd.gradcheck(fn, (loc, scale, x))
    # The check has teeth: a wrong formula with the right value fails it.
    wrong = rg.tensor([1.0, 2.0, 3.0], dtype=rg.float64, requires_grad=True)
    with pytest.raises(Exception):  # noqa: B017 - gradcheck's own error
        rg.autograd.gradcheck(lambda t: t.detach() * t.detach() + t.detach() * t, (wrong,))


def test_gradcheck_multivariate_normal_log_prob():
    a = rg.tensor(R.standard_normal((2, 3, 3)), requires_grad=True)
    loc = rg.tensor(R.standard_normal((2, 3)), requires_grad=True)
    x = rg.tensor(R.standard_normal((4, 2, 3)), requires_grad=True)

    def fn(a, loc, x):
        cov = a @ a.mT + 3 * rg.eye(3, dtype=rg.float64)
        return rg.distributions.MultivariateNormal(loc, covariance_matrix=cov).log_prob(x)

    assert rg.autograd.gradcheck(fn, (a, loc, x))

    def with_precision(a, loc, x):
        prec = a @ a.mT + 3 * rg.eye(3, dtype=rg.float64)
        d = rg.distributions.MultivariateNormal(loc, precision_matrix=prec)
        return d.log_prob(x) + d.entropy()

    assert rg.autograd.gradcheck(with_precision, (a, loc, x))


def test_reinforce_policy_gradient():
    # policy network -> Categorical -> sample -> log_prob * reward -> backward; the same
    # actions scored by PyTorch with the same weights give the same gradients.
    rg.manual_seed(0)
    net = rg.nn.Sequential(rg.nn.Linear(4, 16), rg.nn.Tanh(), rg.nn.Linear(16, 3)).double()
    states = rg.tensor(R.standard_normal((32, 4)))
    rewards = rg.tensor(R.standard_normal(32))
    dist = rg.distributions.Categorical(logits=net(states))
    actions = dist.sample()
    assert actions.shape == (32,) and not actions.requires_grad
    loss = -(dist.log_prob(actions) * rewards).mean()
    loss.backward()
    grads = [p.grad for p in net.parameters()]
    assert all(g is not None and bool(rg.isfinite(g).all()) for g in grads)
    assert sum(g.abs().sum().item() for g in grads) > 0

    tnet = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    tnet = tnet.double()
    with torch.no_grad():
        for tp, p in zip(tnet.parameters(), net.parameters()):
            tp.copy_(torch.tensor(to_numpy(p)))
    tdist = torch.distributions.Categorical(logits=tnet(torch.tensor(to_numpy(states))))
    tloss = -(
        tdist.log_prob(torch.tensor(to_numpy(actions))) * torch.tensor(to_numpy(rewards))
    ).mean()
    tloss.backward()
    np.testing.assert_allclose(loss.item(), tloss.item(), **TOL)
    for g, tp in zip(grads, tnet.parameters()):
        np.testing.assert_allclose(to_numpy(g), to_numpy(tp.grad), **TOL)


DROPIN_SCRIPT = """
import torch
import torch.distributions as D
from torch.distributions import Normal, kl_divergence
from torch.distributions.categorical import Categorical

torch.manual_seed(0)
loc = torch.tensor([0.5, -1.0], requires_grad=True)
d = Normal(loc, torch.tensor([1.0, 2.0]))
print(d, d.batch_shape, d.event_shape, d.sample((3,)).shape, type(d).__module__)
print(round(d.log_prob(torch.tensor([0.1, 0.2])).sum().item(), 6))
kl = kl_divergence(d, Normal(0.0, 1.0)).sum()
kl.backward()
print(round(kl.item(), 6), [round(g, 6) for g in loc.grad.tolist()])
c = Categorical(logits=torch.zeros(2, 3))
print(c, c.support, c.enumerate_support().shape, c.sample().dtype)
m = D.MultivariateNormal(torch.zeros(2), torch.eye(2))
print(m, m.rsample((4,)).shape, round(m.entropy().item(), 6))
for bad in (lambda: Normal(0.0, -1.0), lambda: D.Uniform(torch.zeros(2), torch.ones(2)).cdf(
        torch.tensor([0.5, 2.0]))):
    try:
        bad()
    except ValueError as err:
        print(err)
print(isinstance(D.Bernoulli(0.3), D.ExponentialFamily), D.constraints.positive)
"""


def test_dropin_runner_matches_pytorch(tmp_path):
    script = tmp_path / "dist_script.py"
    script.write_text(textwrap.dedent(DROPIN_SCRIPT))
    env = dict(os.environ)
    ours = subprocess.run(
        [sys.executable, "-m", "rustgrad", "run", str(script)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    theirs = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120,
        check=False,
    )  # fmt: skip
    assert ours.returncode == 0, ours.stderr
    assert theirs.returncode == 0, theirs.stderr
    assert ours.stdout == theirs.stdout
    assert "torch.Size([2])" in ours.stdout


def test_reachable_as_an_attribute():
    import rustgrad.distributions as D

    assert rg.distributions is D
    assert D.kl is sys.modules["rustgrad.distributions.kl"]
    assert D.Normal.__module__ == "rustgrad.distributions.normal"
