"""Gradients that a mask switches off, and NaN, against the reference PyTorch.

A masked gradient must be selected, not multiplied by 0: where the mask is off the upstream
gradient may be inf or NaN (the derivative of ``pow(-0.5)`` or ``log`` at 0), and
``inf * 0`` is NaN. NaN itself follows PyTorch: ``relu(nan)`` is NaN, max/min and
maximum/minimum route gradients at NaN as PyTorch does, softmax of a 0-d NaN is NaN. And a
gradient taken with ``create_graph=True`` through relu or abs stays in the graph (PyTorch
records the zero gradient of the sign and of the mask).
"""

import math

import pytest
import rustgrad as rg

torch = pytest.importorskip("torch")

NAN, INF = math.nan, math.inf


def _grad(mod, f, data):
    x = mod.tensor(data, dtype=mod.float64, requires_grad=True)
    f(mod, x).sum().backward()
    return x.grad


def _setitem_then_log(mod, x):
    y = x * 1
    y[0] = 1.0  # the overwritten element's upstream gradient (1/0 = inf) must not leak
    return y.log()


GRADIENT_CASES = {
    "clamp.pow": (lambda m, x: x.clamp(-2, 0).pow(-0.5), [-3.0, -1.0, 0.0, 1.0]),
    "relu.pow": (lambda m, x: x.relu().pow(0.5), [-3.0, 0.0, 4.0]),
    "relu.log": (lambda m, x: x.relu().log(), [-3.0, 0.0, 4.0]),
    "maximum.log": (lambda m, x: m.maximum(x, m.zeros(3, dtype=m.float64)).log(), [-3.0, 0.0, 4.0]),
    "minimum.log": (lambda m, x: m.minimum(x, m.ones(3, dtype=m.float64)).log(), [-3.0, 0.0, 4.0]),
    "min(dim).log": (lambda m, x: x.min(0)[0].log(), [[1.0, 0.0], [2.0, 3.0]]),
    "max(dim).log": (lambda m, x: (-x).max(1)[0].neg().log(), [[1.0, 0.0], [2.0, 3.0]]),
    "min().log": (lambda m, x: x.min().log(), [1.0, 0.0, 2.0]),
    "0**x": (lambda m, x: 0**x, [0.0, 1.0, 2.0]),
    "0**x negative": (lambda m, x: 0**x, [-1.0, 0.0, 2.0]),
    # a NaN gradient into x ** e where e == 0: selected after the product (PyTorch's where)
    "x**0 under a NaN gradient": (
        lambda m, x: x ** (x ** m.zeros(3, dtype=m.float64)),  # log(-1.05) in the exponent's
        [-1.05, 0.5, 2.0],
    ),
    "x**0.0 under a NaN gradient": (lambda m, x: (x**0.0).log() * m.tensor(NAN), [-1.0, 2.0]),
    "cross_entropy saturated": (
        lambda m, x: m.nn.functional.cross_entropy(x, m.tensor([0, 1])),
        [[1000.0, -1000.0], [0.0, 1.0]],
    ),
    "setitem overwritten": (_setitem_then_log, [0.0, 2.0]),
    # NaN routing
    "max() at NaN": (lambda m, x: x.max(), [1.0, NAN, 3.0]),
    "min() at NaN": (lambda m, x: x.min(), [1.0, NAN, -3.0]),
    "max() ties": (lambda m, x: x.max(), [3.0, 1.0, 3.0]),
    "maximum with NaN": (
        lambda m, x: m.maximum(x, m.tensor([NAN, 0.0, 5.0], dtype=m.float64)),
        [1.0, 2.0, 3.0],
    ),
    "minimum with NaN": (
        lambda m, x: m.minimum(m.tensor([NAN, 0.0, 5.0], dtype=m.float64), x),
        [1.0, 2.0, 3.0],
    ),
    "maximum ties": (
        lambda m, x: m.maximum(x, m.tensor([1.0, 0.0, 5.0], dtype=m.float64)),
        [1.0, 2.0, 3.0],
    ),
    "relu at NaN": (lambda m, x: x.relu(), [NAN, -1.0, 1.0]),
    # the inf-norms share the gradient by the elements at the norm and the NaNs (sgn 0)
    "vector_norm(inf) at NaN": (lambda m, x: m.linalg.vector_norm(x, INF), [NAN, 1.0, 3.0]),
    "vector_norm(-inf) at NaN": (lambda m, x: m.linalg.vector_norm(x, -INF), [NAN, 1.0, 3.0]),
    "vector_norm(inf) ties": (lambda m, x: m.linalg.vector_norm(x, INF), [-3.0, 1.0, 3.0]),
    "vector_norm(inf, dim) rows": (
        lambda m, x: m.linalg.vector_norm(x, INF, dim=1),
        [[-3.0, NAN, 3.0], [0.0, 0.0, 0.0]],
    ),
    "norm(inf) all NaN": (lambda m, x: m.norm(x, INF), [NAN, 1.0, NAN]),
    # nansum's mask multiplies: an all-NaN row of nanmean (1/0 upstream) gives NaN
    "nanmean all NaN": (lambda m, x: m.nanmean(x), [NAN, NAN]),
    "nanmean(dim) a NaN row": (lambda m, x: m.nanmean(x, 1), [[NAN, 1.0], [NAN, NAN]]),
    "nansum then 1/x": (lambda m, x: 1 / m.nansum(x, 0, keepdim=True), [[NAN, 0.0], [NAN, 0.0]]),
}


def _same(a, b):
    return len(a) == len(b) and all(
        (math.isnan(u) and math.isnan(v)) or u == v for u, v in zip(a, b)
    )


def _flat(t):
    return [float(v) for v in t.reshape(-1).tolist()]


@pytest.mark.parametrize("case", list(GRADIENT_CASES))
def test_masked_gradient_matches_torch(case):
    f, data = GRADIENT_CASES[case]
    expected = _flat(_grad(torch, f, data))
    got = _flat(_grad(rg, f, data))
    assert _same(got, expected), (got, expected)


VALUE_CASES = {
    "relu(nan)": lambda m: m.tensor([NAN, -1.0, 1.0]).relu(),
    "softmax of 0-d NaN": lambda m: m.tensor(NAN).softmax(0),
    "log_softmax of 0-d NaN": lambda m: m.tensor(NAN).log_softmax(0),
    "softmax of 0-d": lambda m: m.tensor(3.0).softmax(0),
    "log_softmax of 0-d": lambda m: m.tensor(-3.0).log_softmax(0),
    "maximum(nan)": lambda m: m.maximum(m.tensor([NAN, 1.0]), m.tensor([0.0, NAN])),
    "max() of NaN": lambda m: m.tensor([1.0, NAN]).max(),
    # PyTorch's special exponents: sqrt, rsqrt, reciprocal, square, cube (not pow's limits)
    **{
        f"pow({p}) at inf, 0 and -0": (
            lambda m, p=p: m.tensor([-INF, INF, -2.0, 0.0, -0.0], dtype=m.float64).pow(p)
        )
        for p in (0.5, -0.5, -1.0, -2.0, 2.0, 3.0, 1.5)
    },
}


@pytest.mark.parametrize("case", list(VALUE_CASES))
def test_nan_values_match_torch(case):
    assert _same(_flat(VALUE_CASES[case](rg)), _flat(VALUE_CASES[case](torch)))


@pytest.mark.parametrize("op", ["relu", "abs"])
def test_create_graph_through_relu_and_abs_stays_in_the_graph(op):
    def grads(mod):
        x = mod.tensor([1.0, -2.0, 3.0], dtype=mod.float64, requires_grad=True)
        (g,) = mod.autograd.grad(getattr(x, op)().sum(), x, create_graph=True)
        (gg,) = mod.autograd.grad((g * x).sum(), x)
        return g.requires_grad, _flat(gg)

    assert grads(rg) == grads(torch)
