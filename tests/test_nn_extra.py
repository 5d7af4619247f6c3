"""The activations, distances, pixel shuffles and losses added to ``nn`` after issue 12
(``Hardswish`` ... ``GaussianNLLLoss``) against PyTorch: the modules (signatures, reprs and
attributes, parameters, their initialisation and state-dict names, outputs and gradients, in
place), the functions' signatures, values and gradients at the edges (bounds, infinities),
errors for bad input and the deprecated arguments. gradcheck, gradgradcheck and the parity of
each function over every layout run from the op table (``opinfo_nn_extra.py``)."""

import ast
import inspect
import warnings

import numpy as np
import pytest
import rustgrad as rg
import rustgrad.nn.functional as F
from conftest import assert_close, raises, to_numpy
from rustgrad import nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional

RNG = np.random.default_rng(0)
TIGHT = {"rtol": 1e-10, "atol": 1e-12}

FUNCTIONS = [
    "hardswish",
    "hardsigmoid",
    "softsign",
    "tanhshrink",
    "softshrink",
    "hardshrink",
    "threshold",
    "threshold_",
    "celu",
    "celu_",
    "glu",
    "softmin",
    "prelu",
    "cosine_similarity",
    "pairwise_distance",
    "pixel_shuffle",
    "pixel_unshuffle",
    "soft_margin_loss",
    "hinge_embedding_loss",
    "triplet_margin_loss",
    "poisson_nll_loss",
    "gaussian_nll_loss",
]


def _documented(fn):
    """``[(name, default or inspect.Parameter.empty)]`` of a PyTorch function: its Python
    signature, or for a C++ one, the signature on the first line of its docstring."""
    try:
        return [(p.name, p.default) for p in inspect.signature(fn).parameters.values()]
    except ValueError:
        head = fn.__doc__.strip().splitlines()[0]
        params = []
        for part in head[head.index("(") + 1 : head.index(")")].split(","):
            name, _, default = part.strip().partition("=")
            params.append((name, ast.literal_eval(default) if default else inspect.Parameter.empty))
        return params


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_signature_is_pytorchs(name):
    ours = [(p.name, p.default) for p in inspect.signature(getattr(F, name)).parameters.values()]
    assert ours == _documented(getattr(TF, name))
    assert name in F.__all__


# ----- modules ---------------------------------------------------------------------------------

CONSTRUCTORS = [
    "Hardswish()",
    "Hardswish(inplace=True)",
    "Hardsigmoid()",
    "Hardsigmoid(True)",
    "Softsign()",
    "Tanhshrink()",
    "Softshrink()",
    "Softshrink(1.5)",
    "Hardshrink()",
    "Hardshrink(lambd=0.25)",
    "Threshold(0.1, 20)",
    "Threshold(-1.0, 0.5, inplace=True)",
    "CELU()",
    "CELU(alpha=0.5, inplace=True)",
    "GLU()",
    "GLU(dim=1)",
    "Softmin()",
    "Softmin(dim=1)",
    "PReLU()",
    "PReLU(num_parameters=3, init=0.1)",
    "CosineSimilarity()",
    "CosineSimilarity(dim=0, eps=1e-6)",
    "PairwiseDistance()",
    "PairwiseDistance(p=1.0, eps=0.0, keepdim=True)",
    "PixelShuffle(2)",
    "PixelUnshuffle(downscale_factor=3)",
    "SoftMarginLoss()",
    "SoftMarginLoss(reduction='sum')",
    "HingeEmbeddingLoss(margin=0.5, reduction='none')",
    "TripletMarginLoss(margin=2.0, p=1, eps=1e-3, swap=True)",
    "PoissonNLLLoss(log_input=False, full=True, eps=1e-4)",
    "GaussianNLLLoss(full=True, eps=1e-3, reduction='none')",
]


def build(expr, lib):
    return eval("nn." + expr, {"nn": lib.nn})


@pytest.mark.parametrize("expr", CONSTRUCTORS)
def test_module_matches_pytorch_layout(expr):
    ours, theirs = build(expr, rg), build(expr, torch)
    assert repr(ours) == repr(theirs)
    # PyTorch's attribute names and values (its ``__constants__``)
    for attr in getattr(type(theirs), "__constants__", ()):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()
    ]
    for (name, p), (t_name, t_p) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == t_name and p.requires_grad and isinstance(p, nn.Parameter)
        assert_close(p, t_p)  # the same deterministic initialisation
    assert len(list(ours.parameters())) == len(list(theirs.parameters()))


@pytest.mark.parametrize("name", sorted({expr.split("(")[0] for expr in CONSTRUCTORS}))
def test_module_signature_is_pytorchs(name):
    assert name in nn.__all__
    if "__init__" not in vars(getattr(torch.nn, name)):
        return  # (no arguments: Module's own constructor)
    ours = inspect.signature(getattr(nn, name).__init__).parameters.values()
    theirs = inspect.signature(getattr(torch.nn, name).__init__).parameters.values()
    assert [(p.name, p.default, p.kind) for p in ours] == [
        (p.name, p.default, p.kind) for p in theirs
    ]


def test_prelu_parameter_dtype_and_reset():
    m = nn.PReLU(4, init=-0.5, dtype=rg.float64)
    assert m.weight.dtype == rg.float64 and tuple(m.weight.shape) == (4,)
    assert m.init == -0.5 and m.num_parameters == 4
    with rg.no_grad():
        m.weight.mul_(3.0)
    m.reset_parameters()
    assert_close(m.weight, np.full(4, -0.5))
    assert list(m.state_dict()) == ["weight"]


def _inputs(shapes, kinds):
    """float64 arrays: "n" any, "p" positive (1 to 4), "s" signs +-1."""
    arrays = []
    for shape, kind in zip(shapes, kinds):
        a = RNG.standard_normal(shape) * 2
        if kind == "p":
            a = RNG.uniform(1.0, 4.0, shape)
        elif kind == "s":
            a = np.sign(a)
        arrays.append(a)
    return arrays


# (constructor, input shapes, kinds, which inputs get gradients)
FORWARDS = [
    ("Hardswish()", [(2, 3, 4)], "n", (0,)),
    ("Hardsigmoid()", [(2, 3, 4)], "n", (0,)),
    ("Softsign()", [(2, 3, 4)], "n", (0,)),
    ("Tanhshrink()", [(2, 3, 4)], "n", (0,)),
    ("Softshrink(1.5)", [(2, 3, 4)], "n", (0,)),
    ("Hardshrink(lambd=0.25)", [(2, 3, 4)], "n", (0,)),
    ("Threshold(0.1, 20)", [(2, 3, 4)], "n", (0,)),
    ("CELU(alpha=0.5)", [(2, 3, 4)], "n", (0,)),
    ("GLU(dim=1)", [(2, 4, 3)], "n", (0,)),
    ("Softmin(dim=1)", [(2, 3, 4)], "n", (0,)),
    ("PReLU()", [(2, 3, 4)], "n", (0,)),
    ("PReLU(num_parameters=3, init=0.1)", [(2, 3, 4)], "n", (0,)),
    ("CosineSimilarity(dim=0)", [(3, 4), (3, 1)], "nn", (0, 1)),
    ("PairwiseDistance(p=3.0, keepdim=True)", [(3, 4), (3, 4)], "nn", (0, 1)),
    ("PixelShuffle(2)", [(1, 8, 2, 3)], "n", (0,)),
    ("PixelUnshuffle(downscale_factor=2)", [(1, 2, 4, 6)], "n", (0,)),
    ("SoftMarginLoss()", [(3, 4), (3, 4)], "ns", (0,)),
    ("HingeEmbeddingLoss(margin=0.5, reduction='none')", [(3, 4), (3, 4)], "ns", (0,)),
    ("TripletMarginLoss(margin=2.0, p=1, swap=True)", [(5, 3)] * 3, "nnn", (0, 1, 2)),
    ("PoissonNLLLoss(full=True)", [(3, 4), (3, 4)], "np", (0, 1)),
    ("GaussianNLLLoss(full=True, reduction='sum')", [(3, 4), (3, 4), (3,)], "nnp", (0, 1, 2)),
]


@pytest.mark.parametrize("expr,shapes,kinds,grads", FORWARDS)
def test_module_values_and_gradients_match_pytorch(expr, shapes, kinds, grads):
    ours, theirs = build(expr, rg), build(expr, torch)
    for (_, p), (_, t_p) in zip(ours.named_parameters(), theirs.named_parameters()):
        values = RNG.standard_normal(tuple(t_p.shape))  # slopes of both signs
        with rg.no_grad():
            p.copy_(rg.tensor(values, dtype=p.dtype))
        with torch.no_grad():
            t_p.copy_(torch.tensor(values))
    ours.double(), theirs.double()
    arrays = _inputs(shapes, kinds)
    xs = [rg.tensor(a, requires_grad=i in grads) for i, a in enumerate(arrays)]
    ts = [torch.tensor(a, requires_grad=i in grads) for i, a in enumerate(arrays)]
    out, t_out = ours(*xs), theirs(*ts)
    assert tuple(out.shape) == tuple(t_out.shape) and out.dtype == rg.float64
    assert_close(out, t_out, **TIGHT)
    upstream = RNG.standard_normal(tuple(t_out.shape))
    out.backward(rg.tensor(upstream))
    t_out.backward(torch.tensor(upstream))
    for i in grads:
        assert_close(xs[i].grad, ts[i].grad, **TIGHT)
    for p, t_p in zip(ours.parameters(), theirs.parameters()):
        assert_close(p.grad, t_p.grad, **TIGHT)


@pytest.mark.parametrize(
    "expr", ["Hardswish(True)", "Hardsigmoid(True)", "Threshold(0.1, 20, True)", "CELU(2.0, True)"]
)
def test_inplace_modules_write_into_their_input(expr):
    a = RNG.standard_normal((3, 4)) * 4
    results = []
    for lib in (rg, torch):
        leaf = lib.tensor(a, requires_grad=True)
        x = leaf * 1.0
        out = build(expr, lib)(x)
        assert out is x and x._version > 0
        out.backward(lib.tensor(a))
        results.append((to_numpy(out), to_numpy(leaf.grad)))
    for ours, theirs in zip(*results):
        assert_close(ours, theirs, **TIGHT)
    # (a leaf that requires grad is refused, as PyTorch refuses it)
    with raises(RuntimeError, "a leaf Variable that requires grad"):
        build(expr, rg)(rg.tensor(a, requires_grad=True))


# ----- values and gradients at the edges --------------------------------------------------------

INF = float("inf")
EDGES = np.array([-3.0, 3.0, -4.0, 4.0, 0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 1.5, 2.9, -2.9, INF, -INF])

ELEMENTWISE = [
    ("hardswish", {}),
    ("hardsigmoid", {}),
    ("softsign", {}),
    ("tanhshrink", {}),
    ("softshrink", {}),
    ("softshrink", {"lambd": 1.0}),
    ("softshrink", {"lambd": 0.0}),
    ("hardshrink", {}),
    ("hardshrink", {"lambd": 1.0}),
    ("hardshrink", {"lambd": -0.5}),
    ("threshold", {"threshold": 1.0, "value": -5.0}),
    ("threshold", {"threshold": -3.0, "value": 0.0}),
    ("celu", {"alpha": 2.0}),
]


@pytest.mark.parametrize("name,kw", ELEMENTWISE)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_activation_edges_match_pytorch(name, kw, dtype):
    """The bounds of each piece (where PyTorch's gradient is 0 or 1), signed zeros and
    infinities; NaN propagates through the values."""
    a = np.concatenate([EDGES, [np.nan]]).astype(dtype)
    tol = TIGHT if dtype == "float64" else {"rtol": 1e-6, "atol": 1e-7}
    x, t = rg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, t_out = getattr(F, name)(x, **kw), getattr(TF, name)(t, **kw)
    assert out.dtype == getattr(rg, dtype)
    assert_close(out, t_out, **tol)
    # first-order gradients where PyTorch's do not depend on its vectorisation (not at NaN)
    upstream = np.linspace(0.5, 2.0, a.size).astype(dtype)
    (g,) = rg.autograd.grad(out, x, rg.tensor(upstream))
    (t_g,) = torch.autograd.grad(t_out, t, torch.tensor(upstream))
    assert_close(to_numpy(g)[:-1], to_numpy(t_g)[:-1], **tol)


def test_hardsigmoid_gradient_uses_pytorchs_float32_sixth():
    # PyTorch multiplies by (1/6 rounded to float32) even in float64: so do we, exactly
    x = rg.tensor([0.25, -1.0], dtype=rg.float64, requires_grad=True)
    (g,) = rg.autograd.grad(F.hardsigmoid(x).sum(), x)
    t = torch.tensor([0.25, -1.0], dtype=torch.float64, requires_grad=True)
    (t_g,) = torch.autograd.grad(TF.hardsigmoid(t).sum(), t)
    np.testing.assert_array_equal(to_numpy(g), to_numpy(t_g))
    assert F.hardsigmoid(x).grad_fn.name() == TF.hardsigmoid(t).grad_fn.name()


def test_threshold_converts_its_numbers_to_integer_inputs():
    a = np.array([-3, -2, -1, 0, 1, 2, 3])
    for th, value in ((-1.5, 9.7), (1.5, -3.2), (0, 5)):
        ours = F.threshold(rg.tensor(a), th, value)
        theirs = TF.threshold(torch.tensor(a), th, value)
        assert ours.dtype == rg.int64
        np.testing.assert_array_equal(to_numpy(ours), to_numpy(theirs))


def test_cosine_similarity_of_zero_vectors_matches_pytorch():
    # the norms are clamped at eps without recording: the gradient is PyTorch's
    a = RNG.standard_normal((4, 5))
    a[1] = 0.0
    a[2] *= 1e-9
    b = RNG.standard_normal((4, 5))
    outs = []
    for lib, fn in ((rg, F.cosine_similarity), (torch, TF.cosine_similarity)):
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        out = fn(x, y, eps=1e-6)
        out.backward(lib.tensor(np.arange(1.0, 5.0)))
        outs.append([to_numpy(out), to_numpy(x.grad), to_numpy(y.grad)])
    for ours, theirs in zip(*outs):
        assert_close(ours, theirs, **TIGHT)


# ----- errors, warnings, deprecated arguments ----------------------------------------------------


def t(lib, shape_or_values, dtype="float32"):
    if isinstance(shape_or_values, tuple):
        return lib.ones(shape_or_values, dtype=getattr(lib, dtype))
    return lib.tensor(np.asarray(shape_or_values), dtype=getattr(lib, dtype))


ERRORS = {
    "hardswish of int": lambda F, L: F.hardswish(t(L, [1, 2], "int64")),
    "hardsigmoid of bool": lambda F, L: F.hardsigmoid(t(L, [True], "bool")),
    "hardshrink of int": lambda F, L: F.hardshrink(t(L, [1, 2], "int64")),
    "softshrink of int": lambda F, L: F.softshrink(t(L, [1, 2], "int64")),
    "softshrink negative": lambda F, L: F.softshrink(t(L, (2,)), -0.5),
    "softshrink negative float64": lambda F, L: F.softshrink(t(L, (2,), "float64"), -1e-3),
    "softshrink past float32": lambda F, L: F.softshrink(t(L, (2,)), 1e39),
    "softshrink nan": lambda F, L: F.softshrink(t(L, (2,)), float("nan")),
    "softsign of bool": lambda F, L: F.softsign(t(L, [True], "bool")),
    "tanhshrink of bool": lambda F, L: F.tanhshrink(t(L, [True], "bool")),
    "threshold of bool": lambda F, L: F.threshold(t(L, [True], "bool"), 0, 0),
    "celu alpha 0": lambda F, L: F.celu(t(L, (2,)), 0.0),
    "celu of int": lambda F, L: F.celu(t(L, [1, 2], "int64")),
    "glu of 0-d": lambda F, L: F.glu(t(L, 1.0)),
    "glu odd last": lambda F, L: F.glu(t(L, (2, 3))),
    "glu odd dim 0": lambda F, L: F.glu(t(L, (3, 2)), 0),
    "glu odd dim -2": lambda F, L: F.glu(t(L, (3, 2)), -2),
    "glu dim out of range": lambda F, L: F.glu(t(L, (2, 2)), 2),
    "glu of int": lambda F, L: F.glu(t(L, (2, 2), "int64")),
    "softmin of int": lambda F, L: F.softmin(t(L, [1, 2], "int64"), 0),
    "softmin of bool": lambda F, L: F.softmin(t(L, [True], "bool"), 0),
    "prelu 2-d weight": lambda F, L: F.prelu(t(L, (2, 3)), t(L, (1, 3))),
    "prelu channels": lambda F, L: F.prelu(t(L, (2, 3)), t(L, (4,))),
    "prelu 1-d channels": lambda F, L: F.prelu(t(L, (5,)), t(L, (5,))),
    "prelu 0-d input": lambda F, L: F.prelu(t(L, 1.0), t(L, (4,))),
    "prelu dtypes": lambda F, L: F.prelu(t(L, (2, 3)), t(L, (3,), "float64")),
    "prelu of int": lambda F, L: F.prelu(t(L, [1, 2], "int64"), t(L, [1], "int64")),
    "cosine of ints": lambda F, L: F.cosine_similarity(
        t(L, (2, 3), "int64"), t(L, (2, 3), "int64")
    ),
    "cosine of bools": lambda F, L: F.cosine_similarity(t(L, (2, 1), "bool"), t(L, (2, 1), "bool")),
    "cosine shapes": lambda F, L: F.cosine_similarity(t(L, (2, 3)), t(L, (2, 4))),
    "cosine 0-d dim 1": lambda F, L: F.cosine_similarity(t(L, 1.0), t(L, 2.0)),
    "cosine dim": lambda F, L: F.cosine_similarity(t(L, (2, 3)), t(L, (2, 3)), 2),
    "pairwise shapes": lambda F, L: F.pairwise_distance(t(L, (2, 3)), t(L, (4,))),
    "pairwise of bools": lambda F, L: F.pairwise_distance(
        t(L, (2, 1), "bool"), t(L, (2, 1), "bool")
    ),
    "pixel_shuffle 2-d": lambda F, L: F.pixel_shuffle(t(L, (2, 3)), 2),
    "pixel_shuffle factor 0": lambda F, L: F.pixel_shuffle(t(L, (1, 4, 2, 2)), 0),
    "pixel_shuffle channels": lambda F, L: F.pixel_shuffle(t(L, (1, 3, 2, 2)), 2),
    "pixel_shuffle float factor": lambda F, L: F.pixel_shuffle(t(L, (1, 4, 2, 2)), 2.0),
    "pixel_unshuffle 2-d": lambda F, L: F.pixel_unshuffle(t(L, (2, 2)), 1),
    "pixel_unshuffle factor -2": lambda F, L: F.pixel_unshuffle(t(L, (1, 1, 2, 2)), -2),
    "pixel_unshuffle height": lambda F, L: F.pixel_unshuffle(t(L, (1, 1, 3, 2)), 2),
    "pixel_unshuffle width": lambda F, L: F.pixel_unshuffle(t(L, (1, 1, 2, 3)), 2),
    "soft_margin reduction": lambda F, L: F.soft_margin_loss(t(L, (2,)), t(L, (2,)), reduction="x"),
    "soft_margin target grad": lambda F, L: F.soft_margin_loss(
        t(L, (2,)), t(L, (2,)).requires_grad_()
    ),
    "hinge reduction": lambda F, L: F.hinge_embedding_loss(t(L, (2,)), t(L, (2,)), reduction="x"),
    "triplet dims": lambda F, L: F.triplet_margin_loss(t(L, (2, 3)), t(L, (3,)), t(L, (2, 3))),
    "triplet margin": lambda F, L: F.triplet_margin_loss(
        t(L, (2, 3)), t(L, (2, 3)), t(L, (2, 3)), margin=-1.5
    ),
    "triplet reduction first": lambda F, L: F.triplet_margin_loss(
        t(L, (2, 3)), t(L, (2, 3)), t(L, (2, 3)), margin=0, reduction="x"
    ),
    "poisson reduction": lambda F, L: F.poisson_nll_loss(t(L, (2,)), t(L, (2,)), reduction="x"),
    "gaussian reduction": lambda F, L: F.gaussian_nll_loss(
        t(L, (2,)), t(L, (2,)), t(L, (2,)), reduction="x"
    ),
    "gaussian negative float": lambda F, L: F.gaussian_nll_loss(t(L, (2,)), t(L, (2,)), -1.0),
    "gaussian negative var": lambda F, L: F.gaussian_nll_loss(
        t(L, (2,)), t(L, (2,)), t(L, [1.0, -1.0])
    ),
    "gaussian var size": lambda F, L: F.gaussian_nll_loss(
        t(L, (2, 3)), t(L, (2, 3)), t(L, (3,)), reduction="x"
    ),
    "gaussian var size 1x1": lambda F, L: F.gaussian_nll_loss(
        t(L, (2, 3)), t(L, (2, 3)), t(L, (1, 1))
    ),
    "hardswish in place, expanded": lambda F, L: F.hardswish(t(L, (1, 2)).expand(2, 2), True),
    "hardsigmoid in place, expanded": lambda F, L: F.hardsigmoid(t(L, (1, 2)).expand(2, 2), True),
    "threshold_ of a leaf": lambda F, L: F.threshold_(t(L, (2,)).requires_grad_(), 0.0, 0.0),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_match_pytorch(case):
    fn = ERRORS[case]
    with pytest.raises(Exception) as expected:
        fn(TF, torch)
    with raises(type(expected.value), str(expected.value)):
        fn(F, rg)


def test_module_errors_match_pytorch():
    with pytest.raises(ValueError) as expected:
        torch.nn.TripletMarginLoss(margin=0.0)
    with raises(ValueError, str(expected.value)):
        nn.TripletMarginLoss(margin=0.0)
    with raises(TypeError):
        nn.GaussianNLLLoss(True)  # keyword-only, as PyTorch's


LEGACY = [
    ("soft_margin_loss", "ns", {"size_average": False}),
    ("hinge_embedding_loss", "ns", {"reduce": False}),
    ("poisson_nll_loss", "np", {"size_average": True, "reduce": True}),
    ("triplet_margin_loss", "nnn", {"size_average": False, "reduce": True}),
]


@pytest.mark.parametrize("name,kinds,flags", LEGACY)
def test_deprecated_reduction_flags_match_pytorch(name, kinds, flags):
    arrays = _inputs([(3, 4)] * len(kinds), kinds)
    results = []
    for lib, fn in ((rg, getattr(F, name)), (torch, getattr(TF, name))):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = fn(*[lib.tensor(a) for a in arrays], **flags)
        results.append((to_numpy(out), [str(w.message) for w in caught]))
    (ours, our_warnings), (theirs, their_warnings) = results
    assert_close(ours, theirs, **TIGHT)
    assert our_warnings == their_warnings and our_warnings


@pytest.mark.parametrize("name", ["SoftMarginLoss", "HingeEmbeddingLoss", "PoissonNLLLoss"])
def test_loss_modules_take_the_deprecated_flags(name):
    with pytest.warns(UserWarning, match="reduction='none'") as ours:
        mine = getattr(nn, name)(reduce=False)
    with pytest.warns(UserWarning) as theirs:
        reference = getattr(torch.nn, name)(reduce=False)
    assert mine.reduction == reference.reduction == "none"
    assert str(ours[0].message) == str(theirs[0].message)


def test_softmin_without_dim_warns_at_the_caller():
    a = RNG.standard_normal((2, 3))
    for call in (F.softmin, nn.Softmin()):
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmin") as caught:
            out = call(rg.tensor(a))
        assert caught[0].filename == __file__
        with pytest.warns(UserWarning):
            assert_close(out, TF.softmin(torch.tensor(a)), **TIGHT)
