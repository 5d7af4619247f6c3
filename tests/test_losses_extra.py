"""F.multi_margin_loss, F.multilabel_margin_loss, F.triplet_margin_with_distance_loss and their
modules against PyTorch, side by side: values, shapes, dtypes, gradients (PyTorch's refusal
of a second derivative where it has none), reprs, errors."""

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
REDUCTIONS = ["mean", "sum", "none"]


def pair(values, dtype="float64", grad=True):
    t = torch.tensor(values).to(getattr(torch, dtype))
    r = rg.tensor(values).to(getattr(rg, dtype))
    if grad:
        t.requires_grad_()
        r.requires_grad_()
    return t, r


def ints(values):
    return torch.tensor(values, dtype=torch.int64), rg.tensor(values, dtype=rg.int64)


def check_same(out_r, out_t, dtype):
    assert tuple(out_r.shape) == tuple(out_t.shape)
    assert str(out_r.dtype).rsplit(".", 1)[-1] == str(out_t.dtype).rsplit(".", 1)[-1]
    assert_close(out_r, out_t, **TOL[dtype])


def first_order(out_t, out_r, inputs_t, inputs_r, dtype, rng, create_graph=False):
    g = rng.standard_normal(tuple(out_t.shape))
    g_t, g_r = pair(g, dtype, grad=False)
    grads_t = torch.autograd.grad(out_t, inputs_t, g_t, create_graph=create_graph)
    grads_r = rg.autograd.grad(out_r, inputs_r, g_r, create_graph=create_graph)
    for a, b in zip(grads_r, grads_t):
        assert_close(a, b, **TOL[dtype])
    return grads_t, grads_r


def error_of(f):
    try:
        f()
    except Exception as e:  # noqa: BLE001 - compared across the two libraries
        return type(e).__name__, str(e)
    return None


# ----- multi_margin_loss -----------------------------------------------------------------

MULTI = [
    # (input shape, p, margin, weighted)
    ((6, 5), 1, 1.0, False),
    ((6, 5), 2, 0.7, True),
    ((1, 4), 1, 2.0, True),
    ((7,), 2, 1.0, False),
    ((7,), 1, 0.5, True),
    ((), 1, 1.0, False),
    ((9, 3), 2, 1.5, False),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("shape", "p", "margin", "weighted"), MULTI)
def test_multi_margin_loss_matches_torch(shape, p, margin, weighted, reduction, dtype):
    rng = np.random.default_rng(0)
    x_t, x_r = pair(rng.standard_normal(shape) * 0.8, dtype)
    classes = shape[-1] if shape else 1
    rows = shape[0] if len(shape) == 2 else 1
    y_t, y_r = ints(rng.integers(0, classes, rows if len(shape) else ()))
    w = rng.uniform(0.2, 2.0, classes) if weighted else None
    w_t, w_r = (None, None) if w is None else pair(w, dtype, grad=False)
    out_t = TF.multi_margin_loss(x_t, y_t, p, margin, w_t, reduction=reduction)
    out_r = F.multi_margin_loss(x_r, y_r, p, margin, w_r, reduction=reduction)
    check_same(out_r, out_t, dtype)
    assert node_name(out_r.grad_fn) == node_name(out_t.grad_fn)
    (g_t,), (g_r,) = first_order(out_t, out_r, [x_t], [x_r], dtype, rng, create_graph=True)
    assert node_name(g_r.grad_fn) == node_name(g_t.grad_fn)
    # PyTorch has no derivative of multi_margin_loss_backward
    assert error_of(lambda: rg.autograd.grad(g_r.sum(), x_r)) == error_of(lambda: torch.autograd.grad(g_t.sum(), x_t))  # fmt: skip
    m_t = torch.nn.MultiMarginLoss(p, margin, w_t, reduction=reduction)
    m_r = nn.MultiMarginLoss(p, margin, w_r, reduction=reduction)
    assert repr(m_r) == repr(m_t)
    check_same(m_r(x_r, y_r), m_t(x_t, y_t), dtype)


def test_multi_margin_loss_one_dim_target_of_one_sample():
    """A 1-d input with a target of one element: one loss per sample with reduction none."""
    x_t, x_r = pair(np.array([0.3, -0.2, 0.9]))
    y_t, y_r = ints([1])
    for reduction in REDUCTIONS:
        out_t = TF.multi_margin_loss(x_t, y_t, reduction=reduction)
        check_same(F.multi_margin_loss(x_r, y_r, reduction=reduction), out_t, "float64")


# ----- multilabel_margin_loss ------------------------------------------------------------

LABELS = [
    [[3, 0, -1, 1, 2], [1, 2, 3, 4, 0], [-1, 0, 0, 0, 0], [2, 2, -1, 3, 3], [4, -1, 2, 2, 1]],
    [[0, 1, -1, 4, 4], [1, 1, 1, -1, 0], [3, -1, -1, -1, -1]],
    [2, 0, -1, 1, 3],
    [[0]],
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("labels", LABELS)
def test_multilabel_margin_loss_matches_torch(labels, reduction, dtype):
    rng = np.random.default_rng(1)
    y_t, y_r = ints(labels)
    x_t, x_r = pair(rng.standard_normal(tuple(y_t.shape)) * 0.7, dtype)
    out_t = TF.multilabel_margin_loss(x_t, y_t, reduction=reduction)
    out_r = F.multilabel_margin_loss(x_r, y_r, reduction=reduction)
    check_same(out_r, out_t, dtype)
    assert node_name(out_r.grad_fn) == node_name(out_t.grad_fn)
    (g_t,), (g_r,) = first_order(out_t, out_r, [x_t], [x_r], dtype, rng, create_graph=True)
    assert error_of(lambda: rg.autograd.grad(g_r.sum(), x_r)) == error_of(lambda: torch.autograd.grad(g_t.sum(), x_t))  # fmt: skip
    m_t, m_r = torch.nn.MultiLabelMarginLoss(reduction=reduction), nn.MultiLabelMarginLoss(reduction=reduction)  # fmt: skip
    assert repr(m_r) == repr(m_t)
    check_same(m_r(x_r, y_r), m_t(x_t, y_t), dtype)


def test_multilabel_margin_loss_scalar_input():
    for reduction in REDUCTIONS:
        x_t, x_r = pair(np.array(0.4))
        for labels in ([0], 0, [-1]):
            y_t, y_r = ints(labels)
            out_t = TF.multilabel_margin_loss(x_t, y_t, reduction=reduction)
            check_same(F.multilabel_margin_loss(x_r, y_r, reduction=reduction), out_t, "float64")


# ----- triplet_margin_with_distance_loss -------------------------------------------------


def cosine_distance(lib):
    return lambda a, b: 1.0 - lib.nn.functional.cosine_similarity(a, b)


TRIPLETS = [
    ((5, 4), None, 1.0, False),
    ((5, 4), None, 0.5, True),
    ((6, 3), "cosine", 1.0, False),
    ((6, 3), "cosine", 0.3, True),
    ((4,), None, 2.0, False),
    ((3, 4), "l1", 1.0, True),
]


def distance(kind, lib):
    if kind == "cosine":
        return cosine_distance(lib)
    if kind == "l1":
        return lambda a, b: (a - b).abs().sum(-1)
    return None


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("shape", "kind", "margin", "swap"), TRIPLETS)
def test_triplet_margin_with_distance_loss_matches_torch(shape, kind, margin, swap, reduction, dtype):  # fmt: skip
    rng = np.random.default_rng(2)
    made = [pair(rng.standard_normal(shape), dtype) for _ in range(3)]
    ts, rs = [t for t, _ in made], [r for _, r in made]
    kw = {"margin": margin, "swap": swap, "reduction": reduction}
    out_t = TF.triplet_margin_with_distance_loss(*ts, distance_function=distance(kind, torch), **kw)  # fmt: skip
    out_r = F.triplet_margin_with_distance_loss(*rs, distance_function=distance(kind, rg), **kw)
    check_same(out_r, out_t, dtype)
    grads_t, grads_r = first_order(out_t, out_r, ts, rs, dtype, rng, create_graph=True)
    # second order (a composite in PyTorch too)
    w = [rng.standard_normal(shape) for _ in range(3)]
    total_t = sum((g * torch.tensor(v).to(g.dtype)).sum() for g, v in zip(grads_t, w))
    total_r = sum((g * rg.tensor(v).to(g.dtype)).sum() for g, v in zip(grads_r, w))
    for a, b in zip(
        rg.autograd.grad(total_r, rs, allow_unused=True),
        torch.autograd.grad(total_t, ts, allow_unused=True),
    ):
        assert (a is None) == (b is None)
        if b is not None:
            # (PyTorch's zero second derivative of abs is a ZeroTensor)
            b = torch.zeros(b.shape, dtype=b.dtype) if b._is_zerotensor() else b
            assert_close(a, b, **TOL[dtype])
    m_t = torch.nn.TripletMarginWithDistanceLoss(distance_function=distance(kind, torch), **kw)
    m_r = nn.TripletMarginWithDistanceLoss(distance_function=distance(kind, rg), **kw)
    assert repr(m_r) == repr(m_t)
    check_same(m_r(*rs), m_t(*ts), dtype)


def test_triplet_module_default_distance_is_a_submodule():
    m_t, m_r = torch.nn.TripletMarginWithDistanceLoss(), nn.TripletMarginWithDistanceLoss()
    assert repr(m_r) == repr(m_t)
    assert [n for n, _ in m_r.named_modules()] == [n for n, _ in m_t.named_modules()]
    m_t = torch.nn.TripletMarginWithDistanceLoss(distance_function=torch.nn.PairwiseDistance(p=1))
    m_r = nn.TripletMarginWithDistanceLoss(distance_function=nn.PairwiseDistance(p=1))
    assert repr(m_r) == repr(m_t)


# ----- gradcheck, signatures, errors -----------------------------------------------------


def test_gradcheck_float64():
    rng = np.random.default_rng(3)
    x = rg.tensor(rng.standard_normal((5, 4))).requires_grad_()
    y = rg.tensor([0, 3, 1, 1, 2])
    w = rg.tensor(rng.uniform(0.5, 1.5, 4))
    labels = rg.tensor([[1, 3, -1, 0], [0, -1, 2, 2], [2, 2, 1, -1], [3, 0, 1, 2], [-1, 0, 0, 0]])
    a, p, n = (rg.tensor(rng.standard_normal((5, 4))).requires_grad_() for _ in range(3))
    assert rg.autograd.gradcheck(lambda x: F.multi_margin_loss(x, y, 2, 0.9, w), (x,))
    assert rg.autograd.gradcheck(lambda x: F.multi_margin_loss(x, y, reduction="none"), (x,))
    assert rg.autograd.gradcheck(lambda x: F.multilabel_margin_loss(x, labels), (x,))
    assert rg.autograd.gradcheck(lambda x: F.multilabel_margin_loss(x, labels, reduction="none"), (x,))  # fmt: skip
    fn = lambda a, p, n: F.triplet_margin_with_distance_loss(a, p, n, swap=True)
    assert rg.autograd.gradcheck(fn, (a, p, n))
    assert rg.autograd.gradgradcheck(fn, (a, p, n))


@pytest.mark.parametrize(
    "name", ["multi_margin_loss", "multilabel_margin_loss", "triplet_margin_with_distance_loss"]
)
def test_function_signature_is_pytorchs(name):
    ours = [(p.name, p.default, p.kind) for p in inspect.signature(getattr(F, name)).parameters.values()]  # fmt: skip
    theirs = [(p.name, p.default, p.kind) for p in inspect.signature(getattr(TF, name)).parameters.values()]  # fmt: skip
    assert ours == theirs
    assert name in F.__all__


@pytest.mark.parametrize("name", ["MultiMarginLoss", "MultiLabelMarginLoss", "TripletMarginWithDistanceLoss"])  # fmt: skip
def test_module_signature_is_pytorchs(name):
    assert name in nn.__all__
    for method in ("__init__", "forward"):
        ours = inspect.signature(getattr(getattr(nn, name), method)).parameters.values()
        theirs = inspect.signature(getattr(getattr(torch.nn, name), method)).parameters.values()
        assert [(p.name, p.default, p.kind) for p in ours] == [(p.name, p.default, p.kind) for p in theirs]  # fmt: skip


def _lib(which):
    return (torch, TF) if which == "torch" else (rg, F)


X = [[0.1, 0.5, -0.3], [0.2, -0.1, 0.4]]
ERRORS = [
    lambda L, F: F.multi_margin_loss(L.tensor(X), L.tensor([0, 1]), p=3),
    lambda L, F: F.multi_margin_loss(L.tensor(X), L.tensor([0, 1]), reduction="foo"),
    lambda L, F: F.multi_margin_loss(L.tensor(X), L.tensor([0, 1]), weight=L.ones(1, 3)),
    lambda L, F: F.multi_margin_loss(L.tensor(X), L.tensor([0, 1]), weight=L.ones(2)),
    lambda L, F: F.multi_margin_loss(
        L.tensor(X), L.tensor([0, 1]), weight=L.ones(3, dtype=L.float64)
    ),
    lambda L, F: F.multi_margin_loss(
        L.tensor(X), L.tensor([0, 1]), weight=L.ones(3, requires_grad=True)
    ),
    lambda L, F: F.multi_margin_loss(L.tensor([X]), L.tensor([0, 1])),
    lambda L, F: F.multi_margin_loss(L.zeros(2, 0), L.tensor([0, 1])),
    lambda L, F: F.multi_margin_loss(L.tensor(X), L.tensor([0])),
    lambda L, F: F.multi_margin_loss(L.tensor(X), L.tensor([[0], [1]])),
    lambda L, F: F.multi_margin_loss(L.tensor(X), L.tensor([0, 3])),
    lambda L, F: F.multi_margin_loss(L.tensor(X), L.tensor([-1, 0])),
    lambda L, F: F.multi_margin_loss(L.tensor(X), L.tensor([0.0, 1.0])),
    lambda L, F: F.multi_margin_loss(L.tensor(X), L.tensor([0, 1], dtype=L.int32)),
    lambda L, F: F.multi_margin_loss(L.tensor(X, dtype=L.float16), L.tensor([0, 1])),
    lambda L, F: F.multi_margin_loss(L.tensor([[1, 2]]), L.tensor([0])),
    lambda L, F: F.multilabel_margin_loss(L.tensor(X), L.tensor([[0, 1], [1, -1]])),
    lambda L, F: F.multilabel_margin_loss(L.tensor(X[0]), L.tensor([0, 1])),
    lambda L, F: F.multilabel_margin_loss(L.tensor([X]), L.tensor([[0, 1, -1]])),
    lambda L, F: F.multilabel_margin_loss(L.zeros(2, 0), L.zeros(2, 0, dtype=L.int64)),
    lambda L, F: F.multilabel_margin_loss(L.tensor(X), L.tensor([[0, 1, 3], [1, -1, 0]])),
    lambda L, F: F.multilabel_margin_loss(L.tensor(X), L.tensor([[0, 1, -2], [1, -1, 0]])),
    lambda L, F: F.multilabel_margin_loss(L.tensor(X), L.tensor([[0.0, 1, 2], [1, -1, 0]])),
    lambda L, F: F.multilabel_margin_loss(
        L.tensor(X), L.tensor([[0, 1, 2], [1, -1, 0]], dtype=L.int32)
    ),
    lambda L, F: F.multilabel_margin_loss(
        L.tensor(X, dtype=L.bfloat16), L.tensor([[0, 1, 2], [1, -1, 0]])
    ),
    lambda L, F: F.multilabel_margin_loss(
        L.tensor(X), L.tensor([[0, 1, 2], [1, -1, 0]]), reduction="bar"
    ),
    lambda L, F: F.triplet_margin_with_distance_loss(L.zeros(2, 3), L.zeros(2, 3), L.zeros(3)),
    lambda L, F: F.triplet_margin_with_distance_loss(
        L.zeros(3), L.zeros(3), L.zeros(3), margin=0.0
    ),
    lambda L, F: F.triplet_margin_with_distance_loss(
        L.zeros(3), L.zeros(3), L.zeros(3), reduction="x"
    ),
    lambda L, F: L.nn.MultiMarginLoss(p=3),
    lambda L, F: L.nn.MultiMarginLoss(weight=L.ones(2, 2)),
    lambda L, F: L.nn.TripletMarginWithDistanceLoss(margin=-1.0),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_errors_as_torch(index):
    found = [error_of(lambda which=which: ERRORS[index](*_lib(which))) for which in ("torch", "rustgrad")]  # fmt: skip
    assert found[0] is not None, "PyTorch accepts it"
    assert found[1] == found[0]


def test_empty_batch_shapes_as_torch():
    """An empty batch: PyTorch's shapes (its value of an empty mean is left unwritten)."""
    for reduction in REDUCTIONS:
        x_t, x_r = pair(np.zeros((0, 3)))
        y_t, y_r = ints(np.zeros(0, dtype=np.int64))
        out_t = TF.multi_margin_loss(x_t, y_t, reduction=reduction)
        out_r = F.multi_margin_loss(x_r, y_r, reduction=reduction)
        assert tuple(out_r.shape) == tuple(out_t.shape)
        y_t, y_r = ints(np.zeros((0, 3), dtype=np.int64))
        out_t = TF.multilabel_margin_loss(x_t, y_t, reduction=reduction)
        out_r = F.multilabel_margin_loss(x_r, y_r, reduction=reduction)
        assert tuple(out_r.shape) == tuple(out_t.shape)
        (g,) = rg.autograd.grad(out_r.sum(), x_r)
        assert tuple(g.shape) == (0, 3)


def _second_derivatives(lib, loss, *values):
    """The loss, its first derivatives and their derivatives (float64 leaves), flattened
    into one array (zeros where a derivative does not exist)."""
    inputs = [lib.tensor(v, dtype=lib.float64, requires_grad=True) for v in values]
    out = loss(lib, *inputs)
    firsts = lib.autograd.grad(out, inputs, create_graph=True, materialize_grads=True)
    parts = [np.array([out.item()])]
    for g in firsts:
        parts.append(g.detach().numpy().ravel())
        if g.requires_grad:
            seconds = lib.autograd.grad(
                g.sum(), inputs, retain_graph=True, allow_unused=True, materialize_grads=True
            )
            parts += [s.numpy().ravel() for s in seconds]
        else:
            parts += [np.zeros(len(v)) for v in values]
    return np.concatenate(parts)


KINK_LOSSES = {
    "smooth_l1_at_zero": (
        lambda lib, a, b: lib.nn.functional.smooth_l1_loss(a, b, reduction="sum", beta=0.5),
        [0.0, 0.3, -2.0],
        [0.0, 0.0, 0.0],
    ),
    "huber_at_zero": (
        lambda lib, a, b: lib.nn.functional.huber_loss(a, b, reduction="sum", delta=1.5),
        [0.0, 0.3, -2.0],
        [0.0, 0.0, 0.0],
    ),
    "bce_logits_pos_weight_at_zero": (
        lambda lib, x, y: lib.nn.functional.binary_cross_entropy_with_logits(
            x, y, pos_weight=lib.tensor([3.0], dtype=lib.float64), reduction="sum"
        ),
        [0.0, 0.5, -40.0],
        [0.5, 0.5, 1.0],
    ),
    "cross_entropy_smoothed_all_ignored": (
        lambda lib, x: lib.nn.functional.cross_entropy(
            x.reshape(2, 3), lib.tensor([1, 1]), ignore_index=1, label_smoothing=0.3
        ),
        [0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
    ),
}


@pytest.mark.parametrize("case", sorted(KINK_LOSSES))
def test_loss_derivatives_at_the_kinks_as_torch(case):
    loss, *values = KINK_LOSSES[case]
    theirs = _second_derivatives(torch, loss, *values)
    ours = _second_derivatives(rg, loss, *values)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15, equal_nan=True)


@pytest.mark.parametrize("loss", ["huber_loss", "soft_margin_loss", "smooth_l1_loss"])
@pytest.mark.parametrize("order", ["float32_input", "float64_input"])
def test_loss_result_dtype_with_mixed_dtypes_as_torch(loss, order):
    results = []
    for lib in (torch, rg):
        a, b = lib.tensor([0.5, 2.0]), lib.tensor([1.0, -1.0], dtype=lib.float64)
        if order == "float64_input":
            a, b = b, a
        results.append(
            [
                str(getattr(lib.nn.functional, loss)(a, b, reduction=r).dtype).split(".")[-1]
                for r in ("mean", "none")
            ]
        )
    assert results[1] == results[0]


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, 0.0, float("inf"), float("-inf")])
def test_normalize_for_every_p_as_torch(p):
    results = []
    for lib in (torch, rg):
        x = lib.tensor(
            [[3.0, -4.0], [1.0, 0.5], [0.0, 0.0], [float("nan"), 1.0]],
            dtype=lib.float64,
            requires_grad=True,
        )
        out = lib.nn.functional.normalize(x, p=p, dim=1)
        (g,) = lib.autograd.grad((out * lib.tensor([1.0, 2.0], dtype=lib.float64)).sum(), x)
        results.append((out.detach().numpy(), g.numpy()))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("pads", [(-1, 2), (2, -1), (-2, -1), (1, 1)])
def test_circular_pad_crops_before_it_wraps_as_torch(pads):
    results = []
    for lib in (torch, rg):
        x = lib.arange(5, dtype=lib.float64).reshape(1, 1, 5).requires_grad_()
        out = lib.nn.functional.pad(x, pads, mode="circular")
        (g,) = lib.autograd.grad(
            (out * lib.arange(out.numel(), dtype=lib.float64).reshape(tuple(out.shape))).sum(), x
        )
        results.append((out.tolist(), g.tolist()))
    assert results[1] == results[0]


def test_constant_pad_cropping_past_the_size_raises_as_torch():
    from conftest import outcome

    def run(lib):
        return tuple(lib.nn.functional.pad(lib.arange(5.0).reshape(1, 1, 5), (-3, -3)).shape)

    theirs = outcome(run, torch)
    assert theirs[0] == "RuntimeError"
    assert outcome(run, rg) == theirs
