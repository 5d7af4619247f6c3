"""The torch-level nn kernels with ATen's signatures (``python/rustgrad/_ops_aten_nn.py``),
run side by side with PyTorch's: the same call on both libraries, values and the gradients of
every float input compared (float64), and PyTorch's errors for ATen's argument rules."""

import numpy as np
import pytest
import rustgrad as rg
from conftest import assert_close

torch = pytest.importorskip("torch")


def _tensors(lib, arrays, grads):
    out = []
    for a, g in zip(arrays, grads):
        t = lib.tensor(a)
        out.append(t.requires_grad_() if g else t)
    return out


def _rng():
    return np.random.default_rng(0)


def _x(*shape):
    return _rng().standard_normal(shape)


def _labels(*shape, high=2):
    return _rng().integers(0, high, shape)


def _signs(*shape):
    return np.where(_rng().standard_normal(shape) > 0, 1.0, -1.0)


# (id, the call given the library and the tensors, the arrays, which need gradients)
CASES = [
    (
        "layer_norm",
        lambda m, x, w, b: m.layer_norm(x, [4], w, b, 1e-3, False),
        [_x(3, 4), _x(4), _x(4)],
        [1, 1, 1],
    ),
    ("layer_norm-plain", lambda m, x: m.layer_norm(x, (3, 4)), [_x(2, 3, 4)], [1]),
    (
        "group_norm",
        lambda m, x, w, b: m.group_norm(x, 2, w, b, 1e-4, True),
        [_x(2, 4, 3), _x(4), _x(4)],
        [1, 1, 1],
    ),
    ("rms_norm", lambda m, x, w: m.rms_norm(x, [4], w, 1e-6), [_x(3, 4), _x(4)], [1, 1]),
    (
        "batch_norm-training",
        lambda m, x, w, b, rm, rv: m.batch_norm(x, w, b, rm, rv, True, 0.3, 1e-5, False),
        [_x(5, 3), _x(3), _x(3), np.zeros(3), np.ones(3)],
        [1, 1, 1, 0, 0],
    ),
    (
        "batch_norm-eval",
        lambda m, x, w, b, rm, rv: m.batch_norm(x, w, b, rm, rv, False, 0.1, 1e-5, True),
        [_x(5, 3, 2), _x(3), _x(3), _x(3), np.abs(_x(3)) + 0.5],
        [1, 1, 1, 0, 0],
    ),
    (
        "batch_norm-no-stats",
        lambda m, x: m.batch_norm(x, None, None, None, None, True, 0.1, 1e-5, False),
        [_x(4, 3)],
        [1],
    ),
    (
        "instance_norm",
        lambda m, x, w, b: m.instance_norm(x, w, b, None, None, True, 0.1, 1e-5, False),
        [_x(2, 3, 5), _x(3), _x(3)],
        [1, 1, 1],
    ),
    ("embedding", lambda m, w, i: m.embedding(w, i), [_x(6, 3), _labels(2, 4, high=6)], [1, 0]),
    (
        "embedding-padding",
        lambda m, w, i: m.embedding(w, i, 2),
        [_x(6, 3), np.array([[2, 1, 2], [0, 5, 2]])],
        [1, 0],
    ),
    (
        "embedding-minus-one",
        lambda m, w, i: m.embedding(w, i, -1, True),
        [_x(6, 3), np.array([5, 1, 5, 4])],
        [1, 0],
    ),
    ("constant_pad_nd", lambda m, x: m.constant_pad_nd(x, [1, 2, 0, 1], 1.5), [_x(2, 3)], [1]),
    ("constant_pad_nd-crop", lambda m, x: m.constant_pad_nd(x, (-1, 1)), [_x(2, 3)], [1]),
    ("threshold", lambda m, x: m.threshold(x, 0.1, -2.0), [_x(3, 4)], [1]),
    ("threshold_", lambda m, x: m.threshold_(x * 1, 0.1, -2.0), [_x(3, 4)], [1]),
    ("rrelu-eval", lambda m, x: m.rrelu(x, 0.1, 0.3), [_x(3, 4)], [1]),
    ("max_pool1d", lambda m, x: m.max_pool1d(x, 2), [_x(2, 3, 7)], [1]),
    ("max_pool1d-args", lambda m, x: m.max_pool1d(x, 3, [2], 1, 1, True), [_x(2, 3, 8)], [1]),
    (
        "max_pool1d_with_indices",
        lambda m, x: m.max_pool1d_with_indices(x, 2, (), 1),
        [_x(1, 2, 6)],
        [1],
    ),
    ("max_pool2d", lambda m, x: m.max_pool2d(x, (2, 2)), [_x(1, 2, 5, 4)], [1]),
    ("max_pool2d-args", lambda m, x: m.max_pool2d(x, 3, 1, 1, 2, False), [_x(1, 2, 6, 6)], [1]),
    ("max_pool3d", lambda m, x: m.max_pool3d(x, 2, stride=[]), [_x(1, 1, 4, 4, 4)], [1]),
    ("adaptive_max_pool1d", lambda m, x: m.adaptive_max_pool1d(x, 3), [_x(2, 2, 7)], [1]),
    ("kl_div", lambda m, x, y: m.kl_div(x, y), [_x(3, 4), np.abs(_x(3, 4))], [1, 1]),
    (
        "kl_div-sum-log",
        lambda m, x, y: m.kl_div(x, y, 2, log_target=True),
        [_x(3, 4), _x(3, 4)],
        [1, 1],
    ),
    (
        "kl_div-none",
        lambda m, x, y: m.kl_div(x, y, reduction=0),
        [_x(3, 4), np.abs(_x(3, 4))],
        [1, 1],
    ),
    (
        "bce_with_logits",
        lambda m, x, y: m.binary_cross_entropy_with_logits(x, y),
        [_x(3, 4), _labels(3, 4).astype(float)],
        [1, 1],
    ),
    (
        "bce_with_logits-weights",
        lambda m, x, y, w, p: m.binary_cross_entropy_with_logits(x, y, w, p, 0),
        [_x(3, 4), _labels(3, 4).astype(float), np.abs(_x(4)), np.abs(_x(4))],
        [1, 1, 0, 0],
    ),
    (
        "cosine_embedding_loss",
        lambda m, a, b, y: m.cosine_embedding_loss(a, b, y, 0.2, 2),
        [_x(4, 3), _x(4, 3) + 0.5, _signs(4)],
        [1, 1, 0],
    ),
    (
        "hinge_embedding_loss",
        lambda m, x, y: m.hinge_embedding_loss(x, y, 0.5),
        [_x(3, 4), _signs(3, 4)],
        [1, 0],
    ),
    (
        "margin_ranking_loss",
        lambda m, a, b, y: m.margin_ranking_loss(a, b, y, 0.1, 0),
        [_x(5), _x(5) + 0.3, _signs(5)],
        [1, 1, 0],
    ),
    (
        "poisson_nll_loss",
        lambda m, x, y: m.poisson_nll_loss(x, y, True, False, 1e-8, 1),
        [_x(3, 4), np.abs(_x(3, 4))],
        [1, 0],
    ),
    (
        "poisson_nll_loss-full",
        lambda m, x, y: m.poisson_nll_loss(x, y, False, True, 1e-6, 2),
        [np.abs(_x(3, 4)) + 0.1, np.abs(_x(3, 4)) * 3],
        [1, 0],
    ),
    (
        "triplet_margin_loss",
        lambda m, a, p, n: m.triplet_margin_loss(a, p, n, 0.5, 1, 1e-6, True),
        [_x(4, 3), _x(4, 3) + 0.1, _x(4, 3) - 0.2],
        [1, 1, 1],
    ),
    (
        "ctc_loss",
        lambda m, lp, t: m.ctc_loss(lp.log_softmax(2), t, [6, 5], [3, 2], 0, 1, False),
        [_x(6, 2, 4), np.array([[1, 2, 3], [3, 1, 0]])],
        [1, 0],
    ),
    (
        "ctc_loss-sum",
        lambda m, lp, t: m.ctc_loss(
            lp.log_softmax(2), t, m.tensor([6, 6]), m.tensor([2, 2]), 3, 2, True
        ),
        [_x(6, 2, 4), np.array([[1, 2], [0, 1]])],
        [1, 0],
    ),
    ("dropout-eval", lambda m, x: m.dropout(x, 0.4, False), [_x(3, 4)], [1]),
    ("dropout-p0", lambda m, x: m.dropout(x, 0.0, True), [_x(3, 4)], [1]),
    ("alpha_dropout-eval", lambda m, x: m.alpha_dropout(x, 0.4, False), [_x(3, 4)], [1]),
    (
        "feature_alpha_dropout-eval",
        lambda m, x: m.feature_alpha_dropout(x, 0.4, False),
        [_x(2, 3, 4)],
        [1],
    ),
]


def _flat(result):
    return list(result) if isinstance(result, tuple) else [result]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_aten_form_matches_torch(case):
    _, call, arrays, grads = case
    runs = []
    for lib in (rg, torch):
        inputs = _tensors(lib, arrays, grads)
        outputs = _flat(call(lib, *inputs))
        float_outputs = [o for o in outputs if o.requires_grad]
        leaves = [t for t in inputs if t.requires_grad]
        seeds = [
            lib.tensor(np.cos(np.arange(o.numel())).reshape(tuple(o.shape))) for o in float_outputs
        ]
        got = lib.autograd.grad(float_outputs, leaves, seeds, allow_unused=True)
        runs.append((outputs, got))
    (outs, grads_rg), (outs_t, grads_t) = runs
    assert len(outs) == len(outs_t)
    for a, b in zip(outs, outs_t):
        assert str(a.dtype).split(".")[1] == str(b.dtype).split(".")[1]
        assert_close(a, b.detach().numpy(), rtol=1e-10, atol=1e-12)
    for a, b in zip(grads_rg, grads_t):
        assert (a is None) == (b is None)
        if a is not None:
            assert_close(a, b.numpy(), rtol=1e-10, atol=1e-12)


def test_batch_norm_updates_the_running_statistics_as_torch():
    stats = []
    for lib in (rg, torch):
        mean, var = lib.zeros(3, dtype=lib.float64), lib.ones(3, dtype=lib.float64)
        lib.batch_norm(lib.tensor(_x(6, 3)), None, None, mean, var, True, 0.25, 1e-5, False)
        stats.append((mean.numpy(), var.numpy()))
    np.testing.assert_allclose(stats[0][0], stats[1][0], rtol=1e-12)
    np.testing.assert_allclose(stats[0][1], stats[1][1], rtol=1e-12)


def test_dropout_draws_torch_stream():
    results = []
    for lib in (rg, torch):
        lib.manual_seed(7)
        x = lib.ones(4, 5, dtype=lib.float64)
        results.append((lib.dropout(x, 0.3, True).numpy(), lib.dropout_(x, 0.5, True).numpy()))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.dropout(m.ones(2), 0.5),  # (train is required)
        lambda m: m.batch_norm(m.ones(2, 3), None, None, None, None, True, 0.1, 1e-5),
        lambda m: m.poisson_nll_loss(m.ones(2), m.ones(2), True, False, 1e-8),
        lambda m: m.kl_div(m.ones(2), m.ones(2), 1, True),  # (log_target is keyword-only)
    ],
)
def test_required_arguments_as_torch(call):
    with pytest.raises(TypeError):
        call(torch)
    with pytest.raises(TypeError):
        call(rg)


def test_generator_is_refused_by_name():
    with pytest.raises(NotImplementedError, match="torch.rrelu"):
        rg.rrelu(rg.ones(3), generator=rg.Generator())
