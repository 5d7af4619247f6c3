"""The losses and tensor utilities of issue 12 against PyTorch: values and gradients for every
``reduction``, PyTorch's node names (what ``print(loss)`` shows) with second derivatives
through them, gradcheck in float64, module forms and their reprs, errors."""

import math

import numpy as np
import pytest
import rustgrad
import rustgrad.nn.functional as F
from rustgrad.autograd import gradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional

REDUCTIONS = ["mean", "sum", "none"]


def pair(array, requires_grad=True):
    return (
        rustgrad.tensor(array, requires_grad=requires_grad),
        torch.tensor(array, requires_grad=requires_grad),
    )


def compare(ours_fn, theirs_fn, arrays, differentiable=(0,)):
    """Run both with the same float64 inputs; compare values and the gradients of
    ``differentiable`` inputs."""
    ours_in, theirs_in = [], []
    for i, a in enumerate(arrays):
        o, t = pair(a, requires_grad=i in differentiable)
        ours_in.append(o)
        theirs_in.append(t)
    ours, theirs = ours_fn(*ours_in), theirs_fn(*theirs_in)
    np.testing.assert_allclose(
        ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12
    )
    weights = np.random.default_rng(0).standard_normal(tuple(theirs.shape))
    (ours * rustgrad.tensor(weights)).sum().backward()
    (theirs * torch.tensor(weights)).sum().backward()
    for i in differentiable:
        np.testing.assert_allclose(
            ours_in[i].grad.numpy(), theirs_in[i].grad.numpy(), rtol=1e-9, atol=1e-12
        )


rng = np.random.default_rng(1)
X = rng.standard_normal((4, 5)) * 2
Y = rng.standard_normal((4, 5)) * 2
P = rng.uniform(0.02, 0.98, (4, 5))
T01 = (rng.uniform(size=(4, 5)) > 0.5).astype(np.float64)
SOFT = rng.uniform(size=(4, 5))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses(reduction):
    compare(lambda a, b: F.l1_loss(a, b, reduction=reduction),
            lambda a, b: TF.l1_loss(a, b, reduction=reduction), [X, Y], (0, 1))  # fmt: skip
    for beta in (1.0, 0.5, 0.0):
        compare(lambda a, b, beta=beta: F.smooth_l1_loss(a, b, reduction=reduction, beta=beta),
                lambda a, b, beta=beta: TF.smooth_l1_loss(a, b, reduction=reduction, beta=beta),
                [X, Y], (0, 1))  # fmt: skip
    for delta in (1.0, 2.5):
        compare(lambda a, b, d=delta: F.huber_loss(a, b, reduction=reduction, delta=d),
                lambda a, b, d=delta: TF.huber_loss(a, b, reduction=reduction, delta=d),
                [X, Y], (0, 1))  # fmt: skip


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(reduction):
    w = rng.uniform(0.5, 2, (4, 5))
    compare(lambda p, t: F.binary_cross_entropy(p, t, reduction=reduction),
            lambda p, t: TF.binary_cross_entropy(p, t, reduction=reduction), [P, SOFT], (0, 1))  # fmt: skip
    compare(lambda p, t, w: F.binary_cross_entropy(p, t, w, reduction=reduction),
            lambda p, t, w: TF.binary_cross_entropy(p, t, w, reduction=reduction), [P, T01, w])  # fmt: skip


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits(reduction):
    big = X * 30  # far into both tails: the stable form must not overflow or lose the value
    pos_weight = rng.uniform(0.5, 3, (5,))
    w = rng.uniform(0.5, 2, (4, 5))
    for logits in (X, big):
        compare(lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction=reduction),
                lambda x, t: TF.binary_cross_entropy_with_logits(x, t, reduction=reduction),
                [logits, SOFT], (0, 1))  # fmt: skip
        compare(
            lambda x, t, w, pw: F.binary_cross_entropy_with_logits(x, t, w, reduction=reduction, pos_weight=pw),
            lambda x, t, w, pw: TF.binary_cross_entropy_with_logits(x, t, w, reduction=reduction, pos_weight=pw),
            [logits, T01, w, pos_weight], (0, 1),
        )  # fmt: skip


@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none", "mean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    logp = np.log(rng.dirichlet(np.ones(5), 4))
    q = rng.dirichlet(np.ones(5), 4)
    q[0, 1] = 0.0  # a zero target contributes 0, not NaN
    target = np.log(q + 1e-3) if log_target else q
    with np.errstate(divide="ignore"):
        compare(lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
                lambda a, b: TF.kl_div(a, b, reduction=reduction, log_target=log_target),
                [logp, target], (0, 1) if log_target else (0,))  # fmt: skip


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ranking_and_embedding_losses(reduction):
    target = np.array([1.0, -1.0, 1.0, -1.0])
    for margin in (0.0, 0.3):
        compare(lambda a, b, t, m=margin: F.cosine_embedding_loss(a, b, t, m, reduction=reduction),
                lambda a, b, t, m=margin: TF.cosine_embedding_loss(a, b, t, m, reduction=reduction),
                [X, Y, target], (0, 1))  # fmt: skip
        compare(lambda a, b, t, m=margin: F.margin_ranking_loss(a, b, t, m, reduction=reduction),
                lambda a, b, t, m=margin: TF.margin_ranking_loss(a, b, t, m, reduction=reduction),
                [X[:, 0], Y[:, 0], target], (0, 1))  # fmt: skip


def test_gradcheck_in_float64():
    x = rustgrad.tensor(X, requires_grad=True)
    y = rustgrad.tensor(Y * 0.3 + 0.05)
    p = rustgrad.tensor(P, requires_grad=True)
    t = rustgrad.tensor(SOFT)
    assert gradcheck(lambda a: F.smooth_l1_loss(a, y, beta=0.7), (x,))
    assert gradcheck(lambda a: F.huber_loss(a, y, delta=1.5), (x,))
    assert gradcheck(lambda a: F.binary_cross_entropy(a, t), (p,))
    assert gradcheck(lambda a: F.binary_cross_entropy_with_logits(a, t), (x,))
    assert gradcheck(lambda a: F.kl_div(a, t, reduction="batchmean"), (x,))
    assert gradcheck(
        lambda a: F.cosine_embedding_loss(a, y, rustgrad.tensor([1.0, -1, 1, 1])), (x,)
    )


LOSS_NODES = [  # (name, loss, whether `t` is an input to differentiate)
    ("cross_entropy", lambda F, x, t, c: F.cross_entropy(x, c), False),
    ("cross_entropy weighted", lambda F, x, t, c: F.cross_entropy(x, c, weight=t[0].detach().abs()), False),
    ("cross_entropy unbatched", lambda F, x, t, c: F.cross_entropy(x[0], c[0]), False),
    ("nll_loss 3-d", lambda F, x, t, c: F.nll_loss(x.reshape(2, 5, 2), c.reshape(2, 2)), False),
    ("nll_loss 4-d", lambda F, x, t, c: F.nll_loss(x.reshape(1, 5, 2, 2), c.reshape(1, 2, 2)), False),
    ("binary_cross_entropy", lambda F, x, t, c: F.binary_cross_entropy(x.sigmoid(), t.sigmoid()), True),
    ("smooth_l1_loss", lambda F, x, t, c: F.smooth_l1_loss(x, t, beta=0.7), True),
    ("huber_loss", lambda F, x, t, c: F.huber_loss(x, t, delta=1.5), True),
    ("prelu", lambda F, x, t, c: F.prelu(x, t[0]), True),  # (not a loss: its node is too)
]  # fmt: skip


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", LOSS_NODES, ids=lambda c: c[0])
def test_loss_nodes_are_pytorchs_with_second_derivatives(case, reduction):
    """``print(loss)`` shows PyTorch's node (``grad_fn=<NllLossBackward0>``); first and
    second derivatives through it equal PyTorch's."""
    _, f, uses_t = case
    results = []
    for lib, fn in ((rustgrad, F), (torch, TF)):
        x = lib.tensor(X, requires_grad=True)
        t = lib.tensor(Y, requires_grad=True)
        c = lib.tensor([0, 1, 4, 2])

        def partial(f, **kw):
            return lambda *a, **k: f(*a, **{**k, **kw})

        names = ("cross_entropy", "nll_loss", "binary_cross_entropy", "smooth_l1_loss", "huber_loss")  # fmt: skip
        forms = {n: staticmethod(partial(getattr(fn, n), reduction=reduction)) for n in names}
        wrapped = type("F", (), {**forms, "prelu": staticmethod(fn.prelu)})
        out = f(wrapped, x, t, c)
        leaves = [x, t] if uses_t else [x]
        g1 = lib.autograd.grad((out**2).sum(), leaves, create_graph=True)
        g2 = lib.autograd.grad(sum((g * g).sum() for g in g1), leaves, allow_unused=True)
        name = out.grad_fn.name()
        results.append((name, out.detach().numpy(), [g.detach().numpy() for g in g1], g2))
    (name_r, out_r, g1_r, g2_r), (name_t, out_t, g1_t, g2_t) = results
    assert name_r == name_t
    np.testing.assert_allclose(out_r, out_t, rtol=1e-10, atol=1e-12)
    for a, b in zip(g1_r, g1_t):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    for a, b in zip(g2_r, g2_t):
        if b is None:
            assert a is None or not a.numpy().any()
        else:
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-8, atol=1e-12)


def test_modules_as_pytorch():
    names = ["L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "KLDivLoss",
             "CosineEmbeddingLoss", "MarginRankingLoss"]  # fmt: skip
    for name in names:
        ours, theirs = getattr(rustgrad.nn, name)(), getattr(torch.nn, name)()
        assert repr(ours) == repr(theirs)
        assert ours.reduction == theirs.reduction
    a, b = pair(P)
    loss = rustgrad.nn.BCEWithLogitsLoss(pos_weight=rustgrad.tensor([2.0] * 5))(
        a, rustgrad.tensor(T01)
    )
    expected = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor([2.0] * 5))(b, torch.tensor(T01))
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)
    assert "pos_weight" in dict(
        rustgrad.nn.BCEWithLogitsLoss(pos_weight=rustgrad.ones(5)).named_buffers()
    )


def test_loss_errors_as_pytorch():
    needs_grad = rustgrad.ones(4, 5, requires_grad=True), torch.ones(4, 5, requires_grad=True)
    cases = [
        (
            lambda F_, lib: F_.binary_cross_entropy_with_logits(
                lib.tensor(X), lib.tensor(P), pos_weight=needs_grad[lib is torch]
            )
        ),
        (
            lambda F_, lib: F_.binary_cross_entropy(
                lib.tensor(P), lib.tensor(P), weight=needs_grad[lib is torch]
            )
        ),
        (lambda F_, lib: F_.binary_cross_entropy(lib.tensor(P), lib.tensor(P[0]))),
        (lambda F_, lib: F_.binary_cross_entropy(lib.tensor(X), lib.tensor(SOFT))),
        (lambda F_, lib: F_.binary_cross_entropy_with_logits(lib.tensor(X), lib.tensor(P[0]))),
        (lambda F_, lib: F_.smooth_l1_loss(lib.tensor(X), lib.tensor(Y), beta=-1)),
        (lambda F_, lib: F_.huber_loss(lib.tensor(X), lib.tensor(Y), delta=0)),
        (lambda F_, lib: F_.kl_div(lib.tensor(X), lib.tensor(Y), reduction="avg")),
        (lambda F_, lib: F_.l1_loss(lib.tensor(X), lib.tensor(Y), reduction="avg")),
        (lambda F_, lib: F_.margin_ranking_loss(lib.tensor(X), lib.tensor(Y[0]), lib.tensor(Y[0]))),
        (lambda F_, lib: F_.one_hot(lib.tensor([1.0]))),
        (lambda F_, lib: F_.one_hot(lib.tensor([3]), 2)),
        (lambda F_, lib: F_.one_hot(lib.tensor([-1]), 2)),
        (lambda F_, lib: F_.pad(lib.tensor(X), (1,))),
        (lambda F_, lib: F_.pad(lib.tensor(X), (5, 0), mode="reflect")),
        (lambda F_, lib: F_.pad(lib.tensor(X), (1, 1), mode="bogus")),
        (lambda F_, lib: F_.pad(lib.tensor(X[None, None]), (1, 1), mode="replicate")),
    ]
    for case in cases:
        raised = []
        for F_, lib in ((F, rustgrad), (TF, torch)):
            with pytest.raises(Exception) as info:
                case(F_, lib)
            raised.append(type(info.value))
        assert raised[0] == raised[1], raised


def test_one_hot_as_pytorch():
    labels = [[0, 3], [2, 1]]
    for classes in (-1, 6):
        ours = F.one_hot(rustgrad.tensor(labels), classes)
        theirs = TF.one_hot(torch.tensor(labels), classes)
        assert ours.tolist() == theirs.tolist() and ours.dtype == rustgrad.int64


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("pads", [(1, 2), (2, 0, 1, 1), (0, 1, 2, 0)])
def test_pad_as_pytorch(mode, pads):
    x = rng.standard_normal((2, 3, 4, 5)[: len(pads) // 2 + 2])
    compare(lambda a: F.pad(a, pads, mode=mode), lambda a: TF.pad(a, pads, mode=mode), [x])
    if mode == "constant":
        compare(lambda a: F.pad(a, pads, value=-2.5), lambda a: TF.pad(a, pads, value=-2.5), [x])
        crop = tuple(-p for p in pads)
        compare(lambda a: F.pad(a, crop), lambda a: TF.pad(a, crop), [x])


@pytest.mark.parametrize("p, dim", [(2.0, 1), (1.0, 0), (3.0, -1)])
def test_normalize_as_pytorch(p, dim):
    x = X.copy()
    x[1] = 0.0  # a zero row: divided by eps, gradient finite
    compare(lambda a: F.normalize(a, p, dim), lambda a: TF.normalize(a, p, dim), [x])


def test_saturated_and_ignored_targets_give_pytorchs_zero_gradients():
    """BCE at a saturated probability (exactly 0 or 1) and cross entropy over targets that
    are all ``ignore_index`` give PyTorch's finite gradients (0), not NaN; a target or class
    weight changed in place before backward is PyTorch's version error; class weights that
    require grad are refused as PyTorch refuses them."""
    for lib, fn in ((rustgrad, F), (torch, TF)):
        p = lib.tensor([0.0, 1.0, 0.5], requires_grad=True)
        fn.binary_cross_entropy(p, lib.tensor([0.0, 1.0, 1.0])).backward()
        assert p.grad.tolist() == pytest.approx([0.0, 0.0, -2.0 / 3])
        x = lib.randn(3, 5, requires_grad=True)
        loss = fn.cross_entropy(x, lib.tensor([-100, -100, -100]))
        loss.backward()
        assert math.isnan(loss.item()) and x.grad.abs().sum().item() == 0
        for changed in ("target", "weight"):
            t, w = lib.tensor([0, 1, 2]), lib.ones(5)
            loss = fn.cross_entropy(x, t, weight=w)
            t.fill_(4) if changed == "target" else w.mul_(2)
            with pytest.raises(RuntimeError, match="modified by an inplace operation"):
                loss.backward()
        with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'weight'"):  # fmt: skip
            fn.nll_loss(x, lib.tensor([0, 1, 2]), weight=lib.ones(5, requires_grad=True))
