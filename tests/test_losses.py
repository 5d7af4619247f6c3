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


# ----- ctc_loss / CTCLoss ------------------------------------------------------------------


CTC_TOL = {"float64": (1e-10, 1e-12), "float32": (1e-4, 1e-5)}


def _ctc_case(seed):
    """A random CTC problem: ``(x (T, N, C), targets, input_lengths, target_lengths, blank)``
    with padded or concatenated targets, repeated labels, empty targets, inputs shorter than
    their targets need (infinite losses) and samples of different lengths."""
    g = np.random.default_rng(seed)
    steps, batch, classes = int(g.integers(1, 10)), int(g.integers(1, 5)), int(g.integers(2, 7))
    blank = int(g.integers(0, classes)) if seed % 3 else 0
    target_lengths = g.integers(0, steps // 2 + 3, batch)
    input_lengths = g.integers(0, steps + 1, batch) if seed % 4 else np.full(batch, steps)
    longest = max(int(target_lengths.max()), 1)
    labels = g.integers(0, classes, (batch, longest))
    if seed % 5 == 0:  # long runs of a repeated label
        labels = np.minimum(g.integers(0, 2, (batch, longest)), classes - 1)
    if seed % 7:  # (else the blank may appear among the labels, as PyTorch allows)
        labels = np.where(labels == blank, (blank + 1) % classes, labels)
    if seed % 2:
        targets = np.concatenate([labels[n, : target_lengths[n]] for n in range(batch)])
    else:
        targets = np.where(np.arange(longest) < target_lengths[:, None], labels, -1)
    x = g.standard_normal((steps, batch, classes)) * 2
    return x, targets.astype(np.int64), input_lengths, target_lengths, blank


def _ctc_run(lib, x, targets, il, tl, blank, dtype, reduction, zero_infinity, normalized, tensors):
    fn = F if lib is rustgrad else TF
    leaf = lib.tensor(x, dtype=getattr(lib, dtype), requires_grad=True)
    lp = leaf.log_softmax(2) if normalized else leaf
    if tensors:
        lengths = lib.tensor(il), lib.tensor(tl)
    else:
        lengths = tuple(int(v) for v in il), [int(v) for v in tl]
    out = fn.ctc_loss(lp, lib.tensor(targets), *lengths, blank, reduction, zero_infinity)
    weights = lib.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)))
    (grad,) = lib.autograd.grad((out * weights.to(out.dtype)).sum(), [leaf])
    return out.grad_fn.name(), out.detach().numpy(), grad.numpy()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("seed", range(24))
def test_ctc_loss_matches_torch(seed, dtype):
    """Values, gradients (nan where PyTorch's are: infinite losses without zero_infinity) and
    node names equal PyTorch's, for every reduction, padded and concatenated targets, tuple and
    tensor lengths, log-probabilities from log_softmax and raw scores."""
    x, targets, il, tl, blank = _ctc_case(seed)
    rtol, atol = CTC_TOL[dtype]
    for k, reduction in enumerate(REDUCTIONS):
        for zero_infinity in (False, True):
            args = (x, targets, il, tl, blank, dtype, reduction, zero_infinity)
            kw = {"normalized": (seed + k) % 4 != 3, "tensors": bool((seed + k) % 2)}
            name_r, out_r, grad_r = _ctc_run(rustgrad, *args, **kw)
            name_t, out_t, grad_t = _ctc_run(torch, *args, **kw)
            assert name_r == name_t
            assert out_r.shape == out_t.shape and out_r.dtype == out_t.dtype
            np.testing.assert_allclose(out_r, out_t, rtol=rtol, atol=atol)
            np.testing.assert_allclose(grad_r, grad_t, rtol=rtol, atol=atol)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_ctc_loss_unbatched_and_edge_cases_as_pytorch(dtype):
    """Unbatched ``(T, C)`` input, an impossible alignment (inf, nan gradient; 0 and zero
    gradient with zero_infinity), empty targets, inputs of length 0 and the blank among the
    labels, as PyTorch gives them."""
    g = np.random.default_rng(5)
    x = g.standard_normal((5, 3, 4))
    rtol, atol = CTC_TOL[dtype]
    cases = [  # (x, targets, input_lengths, target_lengths, blank)
        (x[:, 0], np.array([1, 2, 2]), (5,), (3,), 0),
        (x[:, 0], np.array([[3, 3, 1]]), (4,), (3,), 0),
        (x, np.array([[1, 1, 1], [2, 3, 1], [1, 2, 3]]), (5, 2, 5), (3, 3, 0), 0),
        (x, np.array([[1, 1, 1], [2, 3, 1], [1, 2, 3]]), (0, 0, 5), (0, 2, 1), 0),
        (x, np.array([[0, 0, 1], [2, 0, 0], [0, 2, 0]]), (5, 4, 3), (3, 3, 2), 0),
        (x, np.array([2, 1, 3, 3]), (5, 3, 4), (2, 0, 2), 3),
    ]
    for xs, targets, il, tl, blank in cases:
        for reduction in REDUCTIONS:
            for zero_infinity in (False, True):
                results = []
                for lib, fn in ((rustgrad, F), (torch, TF)):
                    leaf = lib.tensor(xs, dtype=getattr(lib, dtype), requires_grad=True)
                    out = fn.ctc_loss(leaf.log_softmax(-1), lib.tensor(targets), il, tl, blank,
                                      reduction, zero_infinity)  # fmt: skip
                    (grad,) = lib.autograd.grad(out.sum(), [leaf])
                    results.append((out.grad_fn.name(), out.detach().numpy(), grad.numpy()))
                (n_r, o_r, g_r), (n_t, o_t, g_t) = results
                assert n_r == n_t and o_r.shape == o_t.shape
                np.testing.assert_allclose(o_r, o_t, rtol=rtol, atol=atol)
                np.testing.assert_allclose(g_r, g_t, rtol=rtol, atol=atol)
                assert (np.isnan(g_r) == np.isnan(g_t)).all()


def test_ctc_loss_gradcheck_in_float64():
    """PyTorch's gradient is the one with respect to the scores below a log_softmax (it
    assumes the log-probabilities sum to 1), so gradcheck runs through one."""
    g = np.random.default_rng(11)
    x = rustgrad.tensor(g.standard_normal((6, 3, 4)), requires_grad=True)
    padded = rustgrad.tensor([[1, 2, 2], [3, 3, 3], [2, 0, 0]])
    concat = rustgrad.tensor([1, 2, 2, 3, 2])
    for reduction in REDUCTIONS:
        assert gradcheck(
            lambda a, r=reduction: F.ctc_loss(a.log_softmax(2), padded, (6, 6, 4), (3, 2, 1), reduction=r),
            (x,),
        )  # fmt: skip
    assert gradcheck(
        lambda a: F.ctc_loss(a.log_softmax(2), concat, rustgrad.tensor([6, 5, 3]),
                             rustgrad.tensor([3, 0, 2]), blank=0, reduction="sum"),
        (x,),
    )  # fmt: skip
    # an impossible alignment (input shorter than its repeated labels need) zeroed
    assert gradcheck(
        lambda a: F.ctc_loss(a.log_softmax(2), padded, (6, 4, 2), (3, 3, 1), blank=0,
                             zero_infinity=True),
        (x,),
    )  # fmt: skip
    assert gradcheck(lambda a: F.ctc_loss(a.log_softmax(1), concat[:3], (6,), (3,)), (x[:, 0].detach().requires_grad_(),))  # fmt: skip


def test_ctc_loss_graph_as_pytorch():
    """PyTorch's nodes, no second derivative (its error), and its version check of the saved
    log-probabilities and targets."""
    for lib, fn in ((rustgrad, F), (torch, TF)):
        x = lib.tensor(X[:, :3].reshape(2, 2, 3), requires_grad=True)
        targets = lib.tensor([[1, 2], [2, 2]])
        loss = fn.ctc_loss(x.log_softmax(2), targets, (2, 2), (1, 1))
        (grad,) = lib.autograd.grad(loss, [x], create_graph=True)
        with pytest.raises(RuntimeError, match="derivative for aten::_ctc_loss_backward is not implemented"):  # fmt: skip
            grad.sum().backward()
        for changed in ("log_probs", "targets"):
            lp = x.log_softmax(2)
            loss = fn.ctc_loss(lp, targets, (2, 2), (1, 1))
            with lib.no_grad():
                lp.mul_(1.0) if changed == "log_probs" else targets.add_(0)
            with pytest.raises(RuntimeError, match="modified by an inplace operation"):
                loss.backward()
        with lib.no_grad():
            assert not fn.ctc_loss(x, targets, (2, 2), (1, 1)).requires_grad


def test_ctc_loss_module_as_pytorch():
    import inspect

    assert "ctc_loss" in F.__all__ and "CTCLoss" in rustgrad.nn.__all__

    def params(f):
        return [(p.name, p.default, p.kind) for p in inspect.signature(f).parameters.values()]

    assert params(F.ctc_loss) == params(TF.ctc_loss)
    for method in ("__init__", "forward"):
        ours = getattr(rustgrad.nn.CTCLoss, method)
        assert params(ours) == params(getattr(torch.nn.CTCLoss, method))
    x = np.random.default_rng(2).standard_normal((4, 2, 3))
    for kw in ({}, {"blank": 2, "reduction": "sum", "zero_infinity": True}, {"reduction": "none"}):
        ours, theirs = rustgrad.nn.CTCLoss(**kw), torch.nn.CTCLoss(**kw)
        assert repr(ours) == repr(theirs)
        assert (ours.blank, ours.reduction, ours.zero_infinity) == (theirs.blank, theirs.reduction, theirs.zero_infinity)  # fmt: skip
        outs = [
            m(lib.tensor(x).log_softmax(2), lib.tensor([[1, 1], [0, 1]]), (4, 1), (2, 1)).numpy()
            for m, lib in ((ours, rustgrad), (theirs, torch))
        ]
        np.testing.assert_allclose(outs[0], outs[1], rtol=1e-12, atol=1e-14)


def _ctc_errors(lib, fn):
    lp = lib.tensor(np.random.default_rng(0).standard_normal((6, 3, 5))).log_softmax(2)
    tg = lib.tensor([[1, 2, 3], [2, 2, 4], [3, 1, 1]])
    return [
        lambda: fn.ctc_loss(lp, tg, (7, 5, 6), (3, 2, 1)),
        lambda: fn.ctc_loss(lp, tg, (-1, 5, 6), (3, 2, 1)),
        lambda: fn.ctc_loss(lp, tg, (6, 5, 6), (4, 2, 1)),
        lambda: fn.ctc_loss(lp, tg, (6, 5, 6), (-1, 2, 1)),
        lambda: fn.ctc_loss(lp, tg.reshape(-1), (6, 5, 6), (3, -2, 8)),
        lambda: fn.ctc_loss(lp, tg, (6, 5), (3, 2, 1)),
        lambda: fn.ctc_loss(lp, tg, (6, 5, 6), (3, 2)),
        lambda: fn.ctc_loss(lp, tg, (6, 5, 6), (3, 2, 1), blank=5),
        lambda: fn.ctc_loss(lp, tg, (6, 5, 6), (3, 2, 1), blank=-1),
        lambda: fn.ctc_loss(lp, tg, (6, 5, 6), (3, 2, 1), reduction="foo"),
        lambda: fn.ctc_loss(lp[0], tg, (6, 5, 6), (3, 2, 1)),
        lambda: fn.ctc_loss(lp[None], tg, (6, 5, 6), (3, 2, 1)),
        lambda: fn.ctc_loss(lp[:, 0, 0], tg, (6, 5, 6), (3, 2, 1)),
        lambda: fn.ctc_loss(lp, tg[None], (6, 5, 6), (3, 2, 1)),
        lambda: fn.ctc_loss(lp, lib.tensor(1), (6, 5, 6), (3, 2, 1)),
        lambda: fn.ctc_loss(lp, tg[:2], (6, 5, 6), (3, 2, 1)),
        lambda: fn.ctc_loss(lp, tg.reshape(-1)[:5], (6, 5, 6), (3, 2, 1)),
        lambda: fn.ctc_loss(lp[:, 0], tg[0], (6,), (2,)),
        lambda: fn.ctc_loss(lp.to(lib.float16), tg, (6, 5, 6), (3, 2, 1)),
        lambda: fn.ctc_loss(lp.to(lib.int64), tg, (6, 5, 6), (3, 2, 1)),
        lambda: fn.ctc_loss(lp[:, :0], tg[:0], (), ()),
        lambda: fn.ctc_loss(lp[:0], tg, (0, 0, 0), (0, 1, 0)),
        lambda: fn.ctc_loss(lp, tg, lib.tensor([6.0, 5, 6]), lib.tensor([3, 2, 1])),
        lambda: fn.ctc_loss(lp, tg, lib.tensor([6, 5, 6]), lib.tensor([3.0, 2, 1])),
        lambda: fn.ctc_loss(lp, tg, lib.tensor([True] * 3), lib.tensor([3, 2, 1])),
        lambda: fn.ctc_loss(lp, tg, lib.tensor([6, 5, 6]), (3, 2, 1)),
        lambda: fn.ctc_loss(lp, tg, 6, [3, 2, 1]),
        lambda: fn.ctc_loss(lp, tg, (6.0, 5, 6), (3, 2, 1)),
        lambda: fn.ctc_loss(lp, tg, (True, 5, 6), (3, 2, 1)),
        lambda: fn.ctc_loss(lp, tg, (6, 5, 6), (3, 2, 1), blank=1.0),
        lambda: fn.ctc_loss(lp, tg, (6, 5, 6), (3, 2, 1), zero_infinity=1),
        lambda: fn.ctc_loss(lp, [[1, 2, 3]] * 3, (6, 5, 6), (3, 2, 1)),
    ]


def test_ctc_loss_errors_as_pytorch():
    """PyTorch's exception types and words (the first line of its TypeErrors)."""
    for ours, theirs in zip(_ctc_errors(rustgrad, F), _ctc_errors(torch, TF)):
        raised = []
        for case in (ours, theirs):
            with pytest.raises(Exception) as info:
                case()
            raised.append((type(info.value), str(info.value).split("\n")[0]))
        assert raised[0] == raised[1]


def test_ctc_loss_accepts_what_pytorch_accepts():
    """Float and int32 targets (truncated to int64), int32 and 2-d length tensors, numpy ints
    in the length tuples, padding of any value past each target's length."""
    x = np.random.default_rng(4).standard_normal((6, 3, 5))
    cases = [
        lambda L: (L.tensor([[1.7, 2, 3], [2, 2, 4], [3, 1, 1]]), (6, 5, 6), (3, 2, 1)),
        lambda L: (L.tensor([[1, 2, 3], [2, 2, 4], [3, 1, 1]], dtype=L.int32), (6, 5, 6), (3, 2, 1)),
        lambda L: (L.tensor([[1, 2], [2, 9], [-1, 3]]), L.tensor([[6, 5, 6]]), L.tensor([2, 1, 0], dtype=L.int32)),
        lambda L: (L.tensor([1, 2, 3, 2, 4]), (np.int64(6), 5, 6), (3, 2, 0)),
    ]  # fmt: skip
    for case in cases:
        outs = []
        for lib, fn in ((rustgrad, F), (torch, TF)):
            targets, il, tl = case(lib)
            outs.append(fn.ctc_loss(lib.tensor(x).log_softmax(2), targets, il, tl, reduction="none").numpy())  # fmt: skip
        np.testing.assert_allclose(outs[0], outs[1], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("loss", ["smooth_l1_loss", "huber_loss"])
def test_infinite_differences_take_the_clipped_slope_as_torch(loss):
    # the square is taken only of the near differences: an infinite one's slope is +-1
    # (+-delta), not inf * 0
    def grads(lib):
        x = lib.tensor([math.inf, -math.inf, 2.0, 0.3], requires_grad=True)
        t = lib.tensor([0.0, 0.0, -math.inf, 0.0])
        getattr(lib.nn.functional, loss)(x, t, reduction="sum").backward()
        return x.grad.tolist()

    assert grads(rustgrad) == grads(torch)


@pytest.mark.parametrize("p", [0.5, 1.0, 2.0, 3.0, math.inf])
def test_normalize_of_a_zero_vector_as_torch(p):
    def grads(lib):
        x = lib.zeros(3, requires_grad=True)
        lib.nn.functional.normalize(x, p=p, dim=0).sum().backward()
        return x.grad.tolist()

    assert grads(rustgrad) == grads(torch)


@pytest.mark.parametrize(
    "program",
    [
        lambda lib: lib.nn.functional.mse_loss(lib.ones(2, 3), lib.ones(4)),
        lambda lib: lib.nn.functional.l1_loss(lib.ones(2, 3), lib.ones(4)),
        lambda lib: lib.nn.functional.cross_entropy(
            lib.ones(2, 3), lib.tensor([0, 1]), label_smoothing=1.5
        ),
        lambda lib: lib.nn.functional.cross_entropy(
            lib.ones(4, 1), lib.zeros(1, dtype=lib.long), weight=lib.ones(4)
        ),
        lambda lib: lib.nn.functional.cross_entropy(lib.ones(2, 3), lib.ones(2, 4)),
        lambda lib: lib.nn.functional.cross_entropy(lib.ones(2, 3), lib.ones(2, 4, dtype=lib.long)),
        lambda lib: lib.nn.functional.cross_entropy(
            lib.ones(2, 3, 5), lib.ones(2, 4, dtype=lib.long)
        ),
        lambda lib: lib.nn.functional.cross_entropy(
            lib.ones(2, 3), lib.ones(2, dtype=lib.long), weight=lib.ones(4)
        ),
        lambda lib: lib.nn.functional.cross_entropy(lib.ones(3), lib.ones(2, dtype=lib.long)),
        lambda lib: lib.nn.functional.cross_entropy(lib.ones(3), lib.ones(2, 2, dtype=lib.long)),
        lambda lib: lib.nn.functional.cross_entropy(lib.ones(3), lib.tensor([1]), reduction="none"),
        lambda lib: lib.nn.functional.cross_entropy(
            lib.ones(2, 3, 5), lib.ones(2, 5, dtype=lib.long), weight=lib.ones(2)
        ),
        lambda lib: lib.nn.functional.nll_loss(
            lib.ones(2, 3, 4, 5), lib.ones(2, 4, 5, dtype=lib.long), weight=lib.ones(2)
        ),
        lambda lib: lib.nn.functional.nll_loss(lib.ones(2, 3), lib.ones(2, 4, dtype=lib.long)),
    ],
)
def test_loss_argument_errors_as_torch(program):
    import warnings

    from conftest import outcome

    def run(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = program(lib)
        return tuple(r.shape), r.tolist()

    assert outcome(run, rustgrad) == outcome(run, torch)
