"""``grid_sample``/``affine_grid``, ``embedding_bag`` (and ``nn.EmbeddingBag``),
``conv_transpose1d``/``conv3d`` (and their modules), ``scatter_reduce``, ``histc`` and ``mode``
against PyTorch, beyond the op table (``opinfo_more.py``, which runs gradcheck,
gradgradcheck and parity over every layout): warnings, errors, the edges (grid points on the
borders, non-finite grids, tied modes in long rows, values on histogram edges) and the
modules."""

import itertools
import math
import re
import warnings

import numpy as np
import pytest
import rustgrad as rg
import rustgrad.nn.functional as F
from conftest import assert_close, raises, to_numpy
from rustgrad import nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional

TIGHT = {"rtol": 1e-10, "atol": 1e-12}
ALIGN_WARNING = (
    "Default grid_sample and affine_grid behavior has changed to align_corners=False since "
    "1.3.0. Please specify align_corners=True if the old behavior is desired. See the "
    "documentation of grid_sample for details."
)


def pair(values):
    """The same float64 values as a rustgrad and a torch leaf."""
    values = np.asarray(values, dtype=np.float64)
    return rg.tensor(values).requires_grad_(), torch.tensor(values).requires_grad_()


def same_error(fn):
    """``fn(F, lib)`` raises in rustgrad what it raises in PyTorch (type and message, with
    ``rustgrad.`` for ``torch.`` in dtype and type names)."""
    with pytest.raises(Exception) as expected:
        fn(TF, torch)
    with raises(type(expected.value), _ours(str(expected.value))):
        fn(F, rg)


def _ours(message):
    """PyTorch's message with rustgrad's names of dtypes, tensor types and sizes."""
    from rustgrad._dropin import prefix

    names = r"torch\.(?=Size|Tensor|[A-Z][a-z]*Tensor|int|float|bool|uint)"
    return re.sub(names, f"{prefix()}.", message)


# ----- grid_sample, affine_grid --------------------------------------------------------------


@pytest.mark.parametrize("fn", ["grid_sample", "affine_grid"])
def test_align_corners_default_warns_as_torch(fn):
    def call(F, lib):
        if fn == "affine_grid":
            return F.affine_grid(lib.zeros(1, 2, 3), (1, 1, 2, 2))
        return F.grid_sample(lib.zeros(1, 1, 2, 2), lib.zeros(1, 1, 1, 2))

    for lib, functional in ((torch, TF), (rg, F)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call(functional, lib)
        assert [(w.category, str(w.message)) for w in caught] == [(UserWarning, ALIGN_WARNING)]
        assert caught[0].filename == __file__  # (stacklevel: the caller's line)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.affine_grid(rg.zeros(1, 2, 3), (1, 1, 2, 2), align_corners=False)
        F.grid_sample(rg.zeros(1, 1, 2, 2), rg.zeros(1, 1, 1, 2), align_corners=True)


def test_affine_grid_unit_size_warns_as_torch():
    with pytest.warns(UserWarning, match="unit-size grids when align_corners=True"):
        ours = F.affine_grid(rg.ones(1, 2, 3), (1, 1, 1, 3), align_corners=True)
    with pytest.warns(UserWarning, match="unit-size grids when align_corners=True"):
        theirs = TF.affine_grid(torch.ones(1, 2, 3), (1, 1, 1, 3), align_corners=True)
    assert_close(ours, theirs)


AFFINE_ERRORS = [
    lambda F, lib: F.affine_grid(lib.zeros(1, 2, 3, dtype=lib.int64), (1, 1, 2, 2), False),
    lambda F, lib: F.affine_grid(lib.zeros(1, 3, 3), (1, 1, 2, 2), False),
    lambda F, lib: F.affine_grid(lib.zeros(1, 2, 3), (1, 1, 2, 2, 2), False),
    lambda F, lib: F.affine_grid(lib.zeros(1, 2, 3), (1, 2, 2), False),
    lambda F, lib: F.affine_grid(lib.zeros(1, 2, 3), (1, 1, 0, 2), False),
]
GRID_ERRORS = [
    lambda F, lib: F.grid_sample(
        lib.zeros(1, 1, 2, 2), lib.zeros(1, 1, 1, 2), "linear", align_corners=False
    ),
    lambda F, lib: F.grid_sample(
        lib.zeros(1, 1, 2, 2), lib.zeros(1, 1, 1, 2), padding_mode="wrap", align_corners=False
    ),
    lambda F, lib: F.grid_sample(lib.zeros(2, 1, 2, 2), lib.zeros(1, 1, 1, 2), align_corners=False),
    lambda F, lib: F.grid_sample(lib.zeros(1, 1, 2, 2), lib.zeros(1, 1, 1, 3), align_corners=False),
    lambda F, lib: F.grid_sample(lib.zeros(1, 1, 0, 2), lib.zeros(1, 1, 1, 2), align_corners=False),
    lambda F, lib: F.grid_sample(
        lib.zeros(1, 1, 2, 2, 2), lib.zeros(1, 1, 1, 1, 3), "bicubic", align_corners=False
    ),
    lambda F, lib: F.grid_sample(
        lib.zeros(1, 1, 2, 2), lib.zeros(1, 1, 1, 2, dtype=lib.float64), align_corners=False
    ),
    lambda F, lib: F.grid_sample(
        lib.zeros(1, 1, 2, 2, dtype=lib.int64),
        lib.zeros(1, 1, 1, 2, dtype=lib.int64),
        align_corners=False,
    ),
]


@pytest.mark.parametrize("case", range(len(AFFINE_ERRORS)))
def test_affine_grid_errors_match_torch(case):
    same_error(AFFINE_ERRORS[case])


@pytest.mark.parametrize("case", range(len(GRID_ERRORS)))
def test_grid_sample_errors_match_torch(case):
    with pytest.raises(Exception) as expected:
        GRID_ERRORS[case](TF, torch)
    with raises(type(expected.value)):  # (the int64 kernel's name differs: the type only)
        GRID_ERRORS[case](F, rg)


MODES = list(itertools.product(("bilinear", "nearest", "bicubic"), ("zeros", "border", "reflection"), (False, True)))  # fmt: skip


@pytest.mark.parametrize("mode,padding_mode,align_corners", MODES)
@pytest.mark.parametrize("scale", [0.5, 1.0, 2.0])
def test_grid_sample_on_the_borders_matches_torch(mode, padding_mode, align_corners, scale):
    # identity grids (scaled) put sample points exactly on pixel centres and on the borders,
    # where the derivatives of clipping and reflection switch
    rng = np.random.default_rng(1)
    theta = np.array([[[scale, 0, 0], [0, scale, 0]]] * 2)
    grid = TF.affine_grid(torch.tensor(theta), (2, 2, 5, 4), align_corners).numpy()
    xr, xt = pair(rng.standard_normal((2, 2, 3, 4)))
    gr, gt = pair(grid)
    out_r = F.grid_sample(xr, gr, mode, padding_mode, align_corners)
    out_t = TF.grid_sample(xt, gt, mode, padding_mode, align_corners)
    assert_close(out_r, out_t, **TIGHT)
    up = rng.standard_normal(tuple(out_t.shape))
    out_r.backward(rg.tensor(up))
    out_t.backward(torch.tensor(up))
    assert_close(xr.grad, xt.grad, **TIGHT)
    assert_close(gr.grad, gt.grad, **TIGHT)


@pytest.mark.parametrize("mode,padding_mode", list(itertools.product(("bilinear", "nearest", "bicubic"), ("zeros", "border", "reflection"))))  # fmt: skip
def test_grid_sample_non_finite_grid_matches_torch(mode, padding_mode):
    x = np.arange(12.0, dtype=np.float32).reshape(1, 1, 3, 4)
    grid = np.array(
        [[[[np.nan, 0.0], [np.inf, 0.3], [-np.inf, 0.3], [0.2, np.nan], [1e20, 0.1]]]], np.float32
    )
    ours = F.grid_sample(rg.tensor(x), rg.tensor(grid), mode, padding_mode, False)
    theirs = TF.grid_sample(torch.tensor(x), torch.tensor(grid), mode, padding_mode, False)
    np.testing.assert_allclose(to_numpy(ours), theirs.numpy(), rtol=1e-5, equal_nan=True)


def test_grid_sample_nearest_grid_gradient_is_zero_under_create_graph():
    # the image does not require grad: the result depends on the grid only through rounding
    outs = []
    for lib in (rg, torch):
        x = lib.tensor(np.arange(12.0).reshape(1, 1, 3, 4))
        grid = lib.tensor([[[[0.1, -0.3], [0.7, 0.2]]]], dtype=lib.float64, requires_grad=True)
        y = lib.nn.functional.grid_sample(x, grid, "nearest", "reflection", False)
        (g,) = lib.autograd.grad(y.sum(), [grid], create_graph=True)
        outs.append((g.detach().numpy(), g.requires_grad))
    np.testing.assert_array_equal(outs[0][0], outs[1][0])
    assert outs[0][1] == outs[1][1]


@pytest.mark.parametrize("psw", [False, True])
def test_embedding_bag_second_order_raises_as_torch(psw):
    # PyTorch marks _embedding_bag_backward not_implemented (NotImplementedError) and has no
    # formula for _embedding_bag_per_sample_weights_backward (RuntimeError)
    errors = []
    for lib in (rg, torch):
        w = lib.tensor(np.arange(18.0).reshape(6, 3) / 7, requires_grad=True)
        idx, off = lib.tensor([1, 2, 4, 5]), lib.tensor([0, 2])
        p = (
            lib.tensor([0.5, 1.5, 2.0, -1.0], dtype=lib.float64, requires_grad=True)
            if psw
            else None
        )
        y = lib.nn.functional.embedding_bag(idx, w, off, mode="sum", per_sample_weights=p)
        wrt = [w, p] if psw else [w]
        grads = lib.autograd.grad((y * y).sum(), wrt, create_graph=True)
        seen = []
        for g in grads:
            try:
                lib.autograd.grad(g.sum(), wrt, allow_unused=True)
                seen.append(None)
            except (RuntimeError, NotImplementedError) as e:
                seen.append((type(e).__name__, str(e)))
        errors.append(seen)
    assert errors[0] == errors[1]


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
@pytest.mark.parametrize("need", [(0,), (1,), (0, 1)])
def test_grid_sample_second_order_slopes_as_torch(mode, need):
    # PyTorch's double backward leaves the image's slope undefined (None) and the grid's zero
    def run(lib):
        rng = np.random.default_rng(4)
        x = lib.tensor(rng.standard_normal((1, 2, 3, 4))).requires_grad_(0 in need)
        grid = lib.tensor(rng.uniform(-1, 1, (1, 3, 2, 2))).requires_grad_(1 in need)
        y = lib.nn.functional.grid_sample(x, grid, mode, "zeros", False)
        wrt = [t for t in (x, grid) if t.requires_grad]
        loss = (y * lib.tensor(rng.standard_normal(tuple(y.shape)))).sum() + (grid * 0.5).sum()
        g1 = lib.autograd.grad(loss, wrt, create_graph=True)
        gg = sum((g * g).sum() for g in g1)
        g2 = lib.autograd.grad(gg, wrt, allow_unused=True)
        return [None if g is None else g.numpy() for g in g2]

    ours, theirs = run(rg), run(torch)
    assert [g is None for g in ours] == [g is None for g in theirs]
    for o, t in zip(ours, theirs):
        if t is not None:
            np.testing.assert_allclose(o, t, **TIGHT)


def test_spatial_transformer_matches_torch():
    # the STN tutorial's head: a localisation net predicts theta, then affine_grid + grid_sample
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 1, 8, 8))
    w = rng.standard_normal((6, 64)) * 0.01
    b = np.array([1.0, 0, 0, 0, 1, 0])
    outs = []
    for lib, functional in ((rg, F), (torch, TF)):
        xs, ws, bs = (lib.tensor(v).requires_grad_() for v in (x, w, b))
        theta = functional.linear(xs.reshape(3, 64), ws, bs).reshape(-1, 2, 3)
        grid = functional.affine_grid(theta, xs.size(), align_corners=False)
        out = functional.grid_sample(xs, grid, align_corners=False)
        (out * out).sum().backward()
        outs.append([out, xs.grad, ws.grad, bs.grad])
    for ours, theirs in zip(*outs):
        assert_close(ours, theirs, **TIGHT)


# ----- embedding_bag -------------------------------------------------------------------------


def test_embedding_bag_module_matches_torch():
    bag_r = nn.EmbeddingBag(10, 3, mode="sum", padding_idx=-2, max_norm=1.5)
    bag_t = torch.nn.EmbeddingBag(10, 3, mode="sum", padding_idx=-2, max_norm=1.5)
    assert repr(bag_r) == repr(bag_t) == "EmbeddingBag(10, 3, max_norm=1.5, mode='sum', padding_idx=8)"  # fmt: skip
    assert bag_r.padding_idx == 8 and not to_numpy(bag_r.weight)[8].any()
    assert [k for k, _ in bag_r.named_parameters()] == ["weight"]
    weights = np.random.default_rng(3).standard_normal((10, 3)) * 2
    bag_r.weight.data = rg.tensor(weights)
    bag_t.weight.data = torch.tensor(weights)
    inputs, offsets = [1, 8, 3, 3, 9, 4, 1], [0, 3, 3]
    psw = np.linspace(0.5, 2, 7)
    out_r = bag_r(rg.tensor(inputs), rg.tensor(offsets), rg.tensor(psw))
    out_t = bag_t(torch.tensor(inputs), torch.tensor(offsets), torch.tensor(psw))
    assert_close(out_r, out_t, **TIGHT)
    assert_close(bag_r.weight, bag_t.weight, **TIGHT)  # (renormalised in place, as PyTorch)
    out_r.sum().backward()
    out_t.sum().backward()
    assert_close(bag_r.weight.grad, bag_t.weight.grad, **TIGHT)


def test_embedding_bag_from_pretrained():
    weights = np.random.default_rng(4).standard_normal((4, 2))
    for freeze in (True, False):
        bag_r = nn.EmbeddingBag.from_pretrained(rg.tensor(weights), freeze=freeze, mode="max")
        bag_t = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(weights), freeze=freeze, mode="max")  # fmt: skip
        assert repr(bag_r) == repr(bag_t)
        assert bag_r.weight.requires_grad == bag_t.weight.requires_grad == (not freeze)
        ids = [[0, 3, 3], [2, 1, 0]]
        assert_close(bag_r(rg.tensor(ids)), bag_t(torch.tensor(ids)), **TIGHT)
    with raises(AssertionError, "Embeddings parameter is expected to be 2-dimensional"):
        nn.EmbeddingBag.from_pretrained(rg.zeros(3))
    with raises(AssertionError, "padding_idx must be within num_embeddings"):
        nn.EmbeddingBag(3, 2, padding_idx=3)


def test_embedding_bag_scale_grad_by_freq_is_embeddings_scaled_gradient():
    # each row's gradient divided by how often it occurs in the batch, as F.embedding's (and
    # PyTorch's CUDA kernel; its CPU kernel divides by the count of another index)
    weights = np.random.default_rng(5).standard_normal((7, 3))
    ids = [[1, 2, 3], [3, 3, 6]]
    wr, wt = pair(weights)
    for mode in ("sum", "mean"):
        wr.grad = wt.grad = None
        F.embedding_bag(rg.tensor(ids), wr, mode=mode, scale_grad_by_freq=True).sum().backward()
        rows = TF.embedding(torch.tensor(ids), wt, scale_grad_by_freq=True)
        (rows.sum(1) if mode == "sum" else rows.mean(1)).sum().backward()
        assert_close(wr.grad, wt.grad, **TIGHT)


BAG_ERRORS = [
    lambda F, lib: F.embedding_bag(lib.tensor([[1, 2]]), lib.zeros(4, 2), lib.tensor([0])),
    lambda F, lib: F.embedding_bag(lib.tensor([1, 2]), lib.zeros(4, 2)),
    lambda F, lib: F.embedding_bag(lib.tensor([1, 2]), lib.zeros(4, 2), lib.tensor([[0]])),
    lambda F, lib: F.embedding_bag(lib.tensor([[[1]]]), lib.zeros(4, 2)),
    lambda F, lib: F.embedding_bag(lib.tensor([1, 2]), lib.zeros(4), lib.tensor([0])),
    lambda F, lib: F.embedding_bag(
        lib.tensor([1, 2]), lib.zeros(4, 2), lib.tensor([0]), mode="min"
    ),
    lambda F, lib: F.embedding_bag(
        lib.tensor([1, 2]), lib.zeros(4, 2), lib.tensor([0]), mode="max", scale_grad_by_freq=True
    ),
    lambda F, lib: F.embedding_bag(
        lib.tensor([1, 2]), lib.zeros(4, 2), lib.tensor([0]), per_sample_weights=lib.ones(2)
    ),
    lambda F, lib: F.embedding_bag(
        lib.tensor([1, 2]),
        lib.zeros(4, 2),
        lib.tensor([0]),
        per_sample_weights=lib.ones(3),
        mode="sum",
    ),
    lambda F, lib: F.embedding_bag(lib.tensor([1, 2]), lib.zeros(4, 2), lib.tensor([1])),
    lambda F, lib: F.embedding_bag(lib.tensor([1, 2]), lib.zeros(4, 2), lib.tensor([0, 3])),
    lambda F, lib: F.embedding_bag(lib.tensor([1, 4]), lib.zeros(4, 2), lib.tensor([0])),
    lambda F, lib: F.embedding_bag(
        lib.tensor([1, -1]), lib.zeros(4, 2), lib.tensor([0]), mode="max"
    ),
    lambda F, lib: F.embedding_bag(lib.tensor([1.0, 2.0]), lib.zeros(4, 2), lib.tensor([0])),
    lambda F, lib: F.embedding_bag(
        lib.tensor([1, 2]), lib.zeros(4, 2), lib.tensor([0]), padding_idx=4
    ),
    lambda F, lib: F.embedding_bag(
        lib.tensor([1, 2]),
        lib.zeros(4, 2),
        lib.tensor([], dtype=lib.int64),
        include_last_offset=True,
    ),
    lambda F, lib: F.embedding_bag(
        lib.tensor([1, 2]),
        lib.zeros(4, 2),
        lib.tensor([0]),
        mode="sum",
        per_sample_weights=lib.ones(2, dtype=lib.float64),
    ),
]


@pytest.mark.parametrize("case", range(len(BAG_ERRORS)))
def test_embedding_bag_errors_match_torch(case):
    same_error(BAG_ERRORS[case])


# ----- conv_transpose1d, conv3d modules ------------------------------------------------------

CONV_MODULES = [
    ("Conv3d", (3, 4, 2), {}, (2, 3, 4, 5, 4)),
    (
        "Conv3d",
        (4, 6, (2, 3, 1)),
        {"stride": 2, "padding": 1, "dilation": (1, 2, 1), "groups": 2, "bias": False},
        (1, 4, 5, 6, 4),
    ),
    ("Conv3d", (2, 2, 3), {"padding": "same", "padding_mode": "reflect"}, (1, 2, 4, 4, 5)),
    ("Conv3d", (2, 3, 3), {"padding": 1, "padding_mode": "circular"}, (2, 4, 3, 4)),
    ("ConvTranspose1d", (3, 4, 3), {"stride": 2, "padding": 1, "output_padding": 1}, (2, 3, 6)),
    ("ConvTranspose1d", (4, 2, 2), {"groups": 2, "bias": False, "dilation": 2}, (4, 5)),
]


@pytest.mark.parametrize("name,args,kw,shape", CONV_MODULES)
def test_conv_module_matches_torch(name, args, kw, shape):
    mr = getattr(nn, name)(*args, **kw).double()
    mt = getattr(torch.nn, name)(*args, **kw).double()
    assert repr(mr) == repr(mt)
    mr.load_state_dict({k: rg.tensor(v.detach().numpy()) for k, v in mt.state_dict().items()})
    xr, xt = pair(np.random.default_rng(6).standard_normal(shape))
    out_r, out_t = mr(xr), mt(xt)
    assert_close(out_r, out_t, **TIGHT)
    assert out_r.is_contiguous()
    out_r.sum().backward()
    out_t.sum().backward()
    assert_close(mr.weight.grad, mt.weight.grad, **TIGHT)
    assert_close(xr.grad, xt.grad, **TIGHT)


def test_conv_transpose1d_output_size_matches_torch():
    mr, mt = nn.ConvTranspose1d(2, 3, 3, stride=3), torch.nn.ConvTranspose1d(2, 3, 3, stride=3)
    x = np.zeros((1, 2, 4), np.float32)
    for size in ([12], [1, 3, 13], (14,)):
        assert mr(rg.tensor(x), output_size=size).shape == mt(torch.tensor(x), output_size=size).shape  # fmt: skip
    with raises(ValueError, "requested an output size of [15]"):
        mr(rg.tensor(x), output_size=[15])


CONV_ERRORS = [
    lambda F, lib: F.conv3d(lib.zeros(2, 4, 5, 6, 7), lib.zeros(3, 3, 2, 2, 2)),
    lambda F, lib: F.conv3d(lib.zeros(2, 4, 5, 6, 7), lib.zeros(3, 4, 9, 2, 2)),
    lambda F, lib: F.conv3d(lib.zeros(5, 6, 7), lib.zeros(3, 4, 2, 2, 2)),
    lambda F, lib: F.conv3d(lib.zeros(1, 2, 3, 3, 3), lib.zeros(3, 2, 1, 1, 1), lib.zeros(2)),
    lambda F, lib: F.conv_transpose1d(lib.zeros(2, 4, 5, 5), lib.zeros(4, 3, 2)),
    lambda F, lib: F.conv_transpose1d(lib.zeros(2, 4, 5), lib.zeros(3, 3, 2)),
]


@pytest.mark.parametrize("case", range(len(CONV_ERRORS)))
def test_conv_errors_match_torch(case):
    same_error(CONV_ERRORS[case])


# ----- scatter_reduce, histc, mode -----------------------------------------------------------


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_in_place_matches_torch(reduce, include_self):
    rng = np.random.default_rng(7)
    x, src = rng.standard_normal((3, 4)), rng.standard_normal((2, 4))
    index = [[0, 1, 0, 2], [0, 0, 1, 1]]
    results = []
    for lib in (rg, torch):
        xs, ss = lib.tensor(x).requires_grad_(), lib.tensor(src).requires_grad_()
        y = xs * 1
        out = y.scatter_reduce_(0, lib.tensor(index), ss, reduce, include_self=include_self)
        assert out is y and out.grad_fn.name().endswith("ScatterReduceBackward0")
        (out * out).sum().backward()
        results.append([out, xs.grad, ss.grad])
    for ours, theirs in zip(*results):
        assert_close(ours, theirs, **TIGHT)


def test_scatter_reduce_takes_max_and_min_as_torch():
    x, src, index = [1.0, 2.0, 3.0], [5.0, 7.0, -1.0], [0, 0, 2]
    for reduce in ("max", "min"):
        ours = rg.tensor(x).scatter_reduce(0, rg.tensor(index), rg.tensor(src), reduce)
        theirs = torch.tensor(x).scatter_reduce(0, torch.tensor(index), torch.tensor(src), reduce)
        assert_close(ours, theirs)


SCATTER_ERRORS = [
    lambda lib: lib.zeros(3).scatter_reduce(0, lib.tensor([0]), lib.zeros(1), "mul"),
    lambda lib: lib.zeros(3).scatter_reduce(
        0, lib.tensor([0]), lib.zeros(1, dtype=lib.float64), "sum"
    ),
    lambda lib: lib.zeros(3).scatter_reduce(0, lib.tensor([3]), lib.zeros(1), "sum"),
    lambda lib: lib.zeros(3).scatter_reduce(0, lib.tensor([0.0]), lib.zeros(1), "sum"),
    lambda lib: lib.zeros(3, dtype=lib.bool).scatter_reduce(
        0, lib.tensor([0]), lib.zeros(1, dtype=lib.bool), "mean"
    ),
    lambda lib: lib.histc(lib.arange(5), 3),
    lambda lib: lib.histc(lib.zeros(3), 0),
    lambda lib: lib.histc(lib.tensor([1.0, float("inf")]), 3),
    lambda lib: lib.histc(lib.zeros(3), 3, 2, 1),
    lambda lib: lib.mode(lib.zeros(2, 0), 1),
    lambda lib: lib.mode(lib.zeros(2, 3), 2),
]


@pytest.mark.parametrize("case", range(len(SCATTER_ERRORS)))
def test_scatter_reduce_histc_mode_errors_match_torch(case):
    with pytest.raises(Exception) as expected:
        SCATTER_ERRORS[case](torch)
    with raises(type(expected.value), _ours(str(expected.value))):
        SCATTER_ERRORS[case](rg)


def test_histc_matches_torch_on_the_edges():
    rng = np.random.default_rng(8)
    for dtype, trial in itertools.product((np.float32, np.float64), range(60)):
        values = (rng.standard_normal(int(rng.integers(0, 40))) * 3).astype(dtype)
        if trial % 2:
            values = np.round(values * 2) / 2  # on bin edges
        bins = int(rng.integers(1, 12))
        low, high = [(0, 0), (-1, 1), (-2.5, 3.5), (0.1, 0.7)][trial % 4]
        ours = rg.histc(rg.tensor(values), bins, low, high)
        theirs = torch.histc(torch.tensor(values), bins, low, high)
        assert ours.dtype == getattr(rg, str(theirs.dtype).split(".")[1])
        np.testing.assert_array_equal(to_numpy(ours), theirs.numpy())
    x = rg.tensor([1.0, 2.0]).requires_grad_()
    assert not rg.histc(x, 3).requires_grad  # (as PyTorch: no gradient)


def test_mode_matches_torch_in_long_tied_rows():
    # std::sort is not stable: the index PyTorch answers among equal values depends on its
    # exact sequence of moves (insertion sort up to 16, introsort beyond, heapsort when deep)
    rng = np.random.default_rng(9)
    for trial in range(120):
        n = int(rng.integers(1, 100))
        dtype = [np.float32, np.float64, np.int64, np.bool_][trial % 4]
        a = rng.integers(-3, 4, (3, n)).astype(dtype)
        if trial % 8 == 0:
            a[rng.random(a.shape) < 0.1] = np.nan
        for dim in (0, 1):
            ours, theirs = rg.mode(rg.tensor(a), dim), torch.mode(torch.tensor(a), dim)
            np.testing.assert_array_equal(to_numpy(ours.values), theirs.values.numpy())
            np.testing.assert_array_equal(to_numpy(ours.indices), theirs.indices.numpy())
    sawtooth = np.tile(np.arange(7.0), 300)  # (a deep introsort)
    assert rg.mode(rg.tensor(sawtooth)).indices.item() == torch.mode(torch.tensor(sawtooth)).indices.item()  # fmt: skip
    result = rg.mode(rg.tensor([2.0, 2.0]))
    assert result._fields == ("values", "indices")
    assert ".return_types.mode(\nvalues=tensor(2.),\nindices=tensor(1))" in repr(result)


def test_sum_to_size_of_nothing_is_a_sum_as_torch():
    """PyTorch's ``sum_to`` with an empty size is ``sum()``: a new tensor with SumBackward0,
    even for a 0-d input (an in-place write to it is no write to the leaf)."""
    torch = pytest.importorskip("torch")
    for lib in (torch, rg):
        leaf = lib.tensor(0.5, requires_grad=True)
        out = leaf.sum_to_size(())
        assert out is not leaf and out.grad_fn.name() == "SumBackward0"
        out.detach().zero_()
        assert leaf.item() == 0.5


def test_logcumsumexp_backward_is_torch_formula():
    """One LogcumsumexpBackward0 node with PyTorch's backward (positive and negative parts
    of the gradient in log space): a NaN in the incoming gradient counts as neither part
    (PyTorch's result, where a scan's chain rule would spread it along the dim), and an
    infinite first-order gradient stays at its element at second order."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    a, g = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    g[0, 1], g[2, 3] = np.nan, np.inf
    results = []
    for lib in (torch, rg):
        x = lib.tensor(a, requires_grad=True)
        y = x.logcumsumexp(1)
        (gx,) = lib.autograd.grad(y, x, lib.tensor(g), create_graph=True)
        (gg,) = lib.autograd.grad((gx * gx).nan_to_num(0.0, 0.0, 0.0).sum(), x)
        results.append((y.grad_fn.name(), gx.detach().numpy(), gg.numpy()))
    assert results[1][0] == results[0][0] == "LogcumsumexpBackward0"
    for ours, ref in zip(results[1][1:], results[0][1:]):
        np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "values",
    [
        [math.inf, 1.0],
        [1.0, math.inf],
        [-math.inf, -math.inf],
        [math.inf, -math.inf],
        [-math.inf, 2.0],
        [math.nan, 1.0],
        [0.5, -math.inf, 2.0],
    ],
)
def test_logcumsumexp_of_infinities_as_torch(values):
    """inf and -inf come out as themselves (a shifted sum at an infinite maximum gave NaN,
    and -inf came out as the lowest finite float)."""
    torch = pytest.importorskip("torch")
    ours = rg.tensor(values, dtype=rg.float64).logcumsumexp(0)
    ref = torch.tensor(values, dtype=torch.float64).logcumsumexp(0)
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-15, atol=0)


@pytest.mark.parametrize(
    "op",
    [
        lambda lib, x: lib.nan_to_num(x),
        lambda lib, x: lib.nn.functional.hardswish(x),
        lambda lib, x: lib.nn.functional.relu6(x),
        lambda lib, x: lib.nn.functional.hardtanh(x, -1.0, 2.0),
    ],
    ids=["nan_to_num", "hardswish", "relu6", "hardtanh"],
)
def test_piecewise_gradients_at_nan_inf_and_bounds_as_torch(op):
    """Which masks multiply and which select, and what a NaN input does, as PyTorch's
    kernels: nan_to_num multiplies by its mask (an infinite gradient at a replaced element is
    NaN), hardswish and hardtanh select (a NaN input passes the gradient), at the bounds too;
    second order included."""
    torch = pytest.importorskip("torch")
    values = [1.0, math.nan, math.inf, -math.inf, -4.0, 0.5, 4.0, 3.0, -3.0, 6.0, -1.0, 2.0]
    upstream = [math.inf, math.inf, math.inf, math.nan, math.inf, math.nan, math.inf] + [2.0] * 5
    results = []
    for lib in (torch, rg):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        g = lib.tensor(upstream, dtype=lib.float64, requires_grad=True)
        (gx,) = lib.autograd.grad(op(lib, x), x, g, create_graph=True)
        second = lib.autograd.grad(gx.nan_to_num(0.0, 0.0, 0.0).sum(), [x, g], allow_unused=True)
        results.append([gx.detach().numpy()] + [None if s is None else s.numpy() for s in second])
    for ours, ref in zip(results[1], results[0]):
        if ref is None or ours is None:
            assert ours is None or not ours.any()
            continue
        np.testing.assert_array_equal(ours, ref)


def test_full_of_negative_zero_keeps_its_sign():
    """``full(..., -0.0)`` writes -0.0 (it was taken for the zeros already there)."""
    for make in (lambda: rg.full((2,), -0.0), lambda: rg.full_like(rg.ones(2), -0.0)):
        assert [math.copysign(1.0, v) for v in make().tolist()] == [-1.0, -1.0]
    assert (rg.tensor([1.0, 2.0]) / rg.full((1,), -0.0)).tolist() == [-math.inf, -math.inf]


def test_take_along_dim_without_dim_as_torch():
    """PyTorch's flattening: views of input and indices (a strided one raises view's error;
    writing the indices before backward raises), and a flat result."""
    torch = pytest.importorskip("torch")
    outcomes = []
    for lib in (torch, rg):
        x = lib.arange(6.0).reshape(2, 3).requires_grad_()
        out = [tuple(lib.take_along_dim(x, lib.tensor([[0, 1], [2, 3]])).shape)]
        for bad in (x.detach().t(), None):
            index = lib.tensor([[0, 1], [2, 3], [4, 5]]).t() if bad is None else lib.tensor([1])
            try:
                lib.take_along_dim(x if bad is None else bad, index)
                out.append("ok")
            except RuntimeError as e:
                out.append(str(e)[:40])
        index = lib.tensor([5, 0, 5])
        y = lib.take_along_dim(x, index)
        index.fill_(2)
        try:
            y.sum().backward()
            out.append("ok")
        except RuntimeError as e:
            out.append("modified" if "inplace" in str(e) else str(e))
        outcomes.append(out)
    assert outcomes[1] == outcomes[0]


@pytest.mark.parametrize("dim", [None, 0, 1])
def test_prod_of_one_factor_is_a_new_tensor(dim):
    """A product over one element is a copy, never a view of the input: writing it leaves
    the input alone."""
    x = rg.tensor([[0.5]], requires_grad=True)
    out = x.prod() if dim is None else x.prod(dim)
    with rg.no_grad():
        out.fill_(7.0)
    assert x.tolist() == [[0.5]]


GATHER_LIKE = {
    "take_along_dim_wraps_modulo": lambda lib: lib.take_along_dim(
        lib.arange(6.0).reshape(2, 3), lib.tensor([[-1], [5]]), dim=1
    ),
    "take_along_dim_int32": lambda lib: lib.take_along_dim(
        lib.arange(6.0).reshape(2, 3), lib.tensor([[0], [1]], dtype=lib.int32), dim=1
    ),
    "take_along_dim_flat_negative": lambda lib: lib.take_along_dim(
        lib.arange(6.0).reshape(2, 3), lib.tensor([-1])
    ),
    "gather_int32": lambda lib: lib.arange(3.0).gather(0, lib.tensor([1], dtype=lib.int32)),
    "gather_int16": lambda lib: lib.arange(3.0).gather(0, lib.tensor([1], dtype=lib.int16)),
    "scatter_int32": lambda lib: lib.zeros(2, 3).scatter(
        1, lib.tensor([[0], [1]], dtype=lib.int32), 1.0
    ),
    "scatter_add_int32": lambda lib: lib.zeros(2, 3).scatter_add(
        1, lib.tensor([[0], [1]], dtype=lib.int32), lib.ones(2, 1)
    ),
    "scatter_add_int16": lambda lib: lib.zeros(2, 3).scatter_add(
        1, lib.tensor([[0], [1]], dtype=lib.int16), lib.ones(2, 1)
    ),
    "where_uint8_condition": lambda lib: lib.where(
        lib.tensor([1, 0], dtype=lib.uint8), lib.tensor([1.0, 2.0]), 0.0
    ),
    "uint8_all": lambda lib: lib.tensor([1, 2], dtype=lib.uint8).all(),
    "uint8_any_dim": lambda lib: lib.tensor([[1, 0]], dtype=lib.uint8).any(1),
    "bool_div_trunc": lambda lib: lib.tensor([True, False]).div(2, rounding_mode="trunc"),
    "bool_div_floor": lambda lib: lib.tensor([True, False]).div(2, rounding_mode="floor"),
    "arange_of_a_0d_tensor": lambda lib: lib.arange(lib.tensor(3)),
    "arange_of_0d_bounds": lambda lib: lib.arange(lib.tensor(1.5), 4),
    "full_of_a_0d_tensor": lambda lib: lib.full((2,), lib.tensor(3.0)),
    "arange_of_a_1d_tensor": lambda lib: lib.arange(lib.tensor([3])),
}


@pytest.mark.parametrize("case", sorted(GATHER_LIKE))
def test_index_dtypes_and_scalar_arguments_as_torch(case):
    import warnings

    from conftest import outcome

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = outcome(lambda lib: _plain(GATHER_LIKE[case](lib)), torch)
        ours = outcome(lambda lib: _plain(GATHER_LIKE[case](lib)), rg)
    if theirs[0] == "TypeError":  # (argument-parser words differ, deliberately)
        assert ours[0] == "TypeError"
    else:
        assert ours == theirs


def _plain(t):
    return str(t.dtype).split(".")[-1], t.tolist()


BFLOAT16_ORDERS = {
    "sort": lambda lib, b: b.sort(),
    "argsort": lambda lib, b: (b.argsort(),),
    "median": lambda lib, b: (b[:4].median(),),
    "median_dim": lambda lib, b: b[:4].median(0),
    "unique": lambda lib, b: lib.unique(b[:4], return_counts=True, return_inverse=True),
    "cummax": lambda lib, b: b.cummax(0),
    "kthvalue": lambda lib, b: b[:4].kthvalue(2),
    "mode": lambda lib, b: b[:4].mode(),
    "topk": lambda lib, b: b[:4].topk(2),
    "msort": lambda lib, b: (lib.msort(b),),
}


@pytest.mark.parametrize("case", sorted(BFLOAT16_ORDERS))
def test_bfloat16_order_statistics_as_torch(case):
    results = []
    for lib in (torch, rg):
        b = lib.tensor([2.0, 1.0, 3.0, 1.0, float("nan")], dtype=lib.bfloat16)
        results.append([_plain(t) for t in BFLOAT16_ORDERS[case](lib, b)])
    assert repr(results[1]) == repr(results[0])


@pytest.mark.parametrize("op", ["cumsum", "flip", "roll", "roll_flat", "repeat"])
def test_composite_nodes_carry_torchs_names(op):
    from conftest import node_name

    calls = {
        "cumsum": lambda t: t.cumsum(0),
        "flip": lambda t: t.flip(0),
        "roll": lambda t: t.roll(1, 0),
        "roll_flat": lambda t: t.roll(0),
        "repeat": lambda t: t.repeat(2),
    }
    results = []
    for lib in (torch, rg):
        x = lib.arange(3, dtype=lib.float64).requires_grad_()
        out = calls[op](x)
        (g,) = lib.autograd.grad((out * out).sum(), x)
        results.append((node_name(out.grad_fn), out.tolist(), g.tolist()))
    assert results[1] == results[0]


REDUCTION_EDGES = {
    "clamp_min_nan": lambda lib, x: x.clamp(min=float("nan")),
    "clamp_max_nan": lambda lib, x: x.clamp(max=float("nan")),
    "clip_nan_both": lambda lib, x: x.clip(float("nan"), 1.0),
    "median_of_ties": lambda lib, x: (
        lib.tensor([1.0, 2.0, 1.0, 3.0, 1.0], dtype=x.dtype) * 0
        + (x.reshape(-1)[:5] * 0 + lib.tensor([1.0, 2.0, 1.0, 3.0, 1.0], dtype=x.dtype)).median()
    ),
    "median_ties_direct": lambda lib, x: x.reshape(-1).round().median(),
    "vector_norm_keepdim_all": lambda lib, x: lib.linalg.vector_norm(x, 2, keepdim=True),
    "vector_norm_inf_keepdim_all": lambda lib, x: lib.linalg.vector_norm(
        x, float("inf"), keepdim=True
    ),
    "norm_keepdim_all": lambda lib, x: lib.norm(x, 1, keepdim=True),
    "vector_norm_minus_one_zeros": lambda lib, x: lib.linalg.vector_norm(x * (x > 0), -1, dim=1),
    "vector_norm_minus_two_zeros": lambda lib, x: lib.linalg.vector_norm(x * (x > 0), -2),
    "copysign_promotes": lambda lib, x: lib.copysign(x.float(), x.double().neg()),
    "copysign_0d_other": lambda lib, x: lib.copysign(
        x.float(), lib.tensor(-1.0, dtype=lib.float64)
    ),
    "masked_fill_broadcasts_input": lambda lib, x: x[0].masked_fill(
        lib.tensor([[True, False, False], [False, False, True]]), 5.0
    ),
}


@pytest.mark.parametrize("case", sorted(REDUCTION_EDGES))
def test_edge_values_and_gradients_as_torch(case):
    results = []
    for lib in (torch, rg):
        x = lib.tensor([[0.5, -1.0, 2.0], [1.5, 0.0, -3.0]], dtype=lib.float64, requires_grad=True)
        out = REDUCTION_EDGES[case](lib, x)
        if out.requires_grad:
            (g,) = lib.autograd.grad(
                out.sum() if out.dtype == lib.float64 else out.double().sum(), x
            )
            g = g.numpy()
        else:
            g = None
        results.append(
            (str(out.dtype).split(".")[-1], tuple(out.shape), out.detach().double().numpy(), g)
        )
    (dtype, shape, values, grad), (want_dtype, want_shape, want_values, want_grad) = results
    assert (dtype, shape) == (want_dtype, want_shape)
    np.testing.assert_allclose(values, want_values, rtol=1e-12, equal_nan=True)
    if want_grad is None:
        assert grad is None
    else:
        np.testing.assert_allclose(grad, want_grad, rtol=1e-12, equal_nan=True)


def test_matrix_transposes_of_a_0d_tensor_are_the_identity_as_torch():
    for lib in (torch, rg):
        x = lib.tensor(3.0)
        with pytest.warns(UserWarning, match="deprecated on 0-D tensors"):
            assert x.mT is x
        with pytest.warns(UserWarning, match="deprecated on 0-D tensors"):
            assert x.mH is x


@pytest.mark.parametrize("mask_shape", [(4,), (2, 3), (2, 4)])
def test_masked_fill_shape_errors_as_torch(mask_shape):
    from conftest import outcome

    def out_of_place(lib):
        return tuple(lib.zeros(3).masked_fill(lib.ones(mask_shape, dtype=lib.bool), 1.0).shape)

    def in_place(lib):
        return tuple(lib.zeros(3).masked_fill_(lib.ones(mask_shape, dtype=lib.bool), 1.0).shape)

    for run in (out_of_place, in_place):
        assert outcome(run, rg) == outcome(run, torch)


SEARCHES = {
    "nan_boundary_left": lambda lib: lib.searchsorted(
        lib.tensor([1.0, 2.0, float("nan")]), lib.tensor([1.5, 5.0])
    ),
    "nan_boundaries_right": lambda lib: lib.searchsorted(
        lib.tensor([1.0, float("nan"), float("nan")]),
        lib.tensor([1.5, 5.0, float("nan")]),
        right=True,
    ),
    "nan_values": lambda lib: lib.bucketize(
        lib.tensor([float("nan"), 0.5]), lib.tensor([0.0, 1.0])
    ),
    "empty_rows": lambda lib: lib.searchsorted(lib.zeros(3, 0), lib.ones(3, 4)),
    "empty_values": lambda lib: lib.searchsorted(lib.tensor([1.0, 2.0]), lib.ones(0)),
    "rows_sides": lambda lib: lib.searchsorted(
        lib.tensor([[1, 3, 3, 5], [0, 0, 2, 9]]), lib.tensor([[3, 6], [0, 2]]), side="right"
    ),
    "unique_nans": lambda lib: lib.unique(
        lib.tensor([1.0, float("nan"), 2.0, float("nan")]), return_counts=True, return_inverse=True
    ),
}


@pytest.mark.parametrize("case", sorted(SEARCHES))
def test_searches_and_unique_place_nan_as_torch(case):
    """PyTorch's binary search compares as its kernel does (a NaN boundary is below every
    value, a NaN value goes to the end), and ``unique`` keeps each NaN apart."""

    def plain(r):
        return [t.tolist() for t in r] if isinstance(r, tuple) else r.tolist()

    assert repr(plain(SEARCHES[case](rg))) == repr(plain(SEARCHES[case](torch)))


@pytest.mark.parametrize("dim", [None, 0])
def test_unique_of_a_tensor_needing_grad_as_torch(dim):
    from conftest import node_name, outcome

    def run(lib):
        x = lib.tensor([[1.0, 2.0], [1.0, 2.0]], requires_grad=True)
        u = lib.unique(x, dim=dim)
        described = (u.requires_grad, node_name(u.grad_fn))
        u.sum().backward()
        return described

    theirs = outcome(run, torch)
    assert theirs[0] == "NotImplementedError"
    assert outcome(run, rg) == theirs


@pytest.mark.parametrize(
    ("shape", "dim", "sizes"),
    [
        ((3, 1), 1, ()),
        ((4,), 0, (-1, 3)),
        ((4, 0), 0, (-1, 2)),
        ((6, 2), 0, (2, -1)),
        ((6,), -1, (2, 4)),
    ],
)
def test_unflatten_infers_from_the_dim_as_torch(shape, dim, sizes):
    from conftest import outcome

    def run(lib):
        return tuple(lib.ones(shape).unflatten(dim, sizes).shape)

    assert outcome(run, rg) == outcome(run, torch)


@pytest.mark.parametrize(
    "case",
    ["0d_double_weight", "1d_double_weight", "long_scalar_weight", "double_start_float_end"],
)
def test_lerp_weight_dtypes_as_torch(case):
    from conftest import outcome

    def run(lib):
        start, end = lib.tensor([1.0, 2.0], requires_grad=True), lib.tensor([3.0, -1.0])
        weight = {
            "0d_double_weight": lambda: lib.tensor(0.25, dtype=lib.float64, requires_grad=True),
            "1d_double_weight": lambda: lib.tensor([0.5, 0.2], dtype=lib.float64),
            "long_scalar_weight": lambda: 2,
            "double_start_float_end": lambda: 0.5,
        }[case]()
        if case == "double_start_float_end":
            start = start.double()
        out = lib.lerp(start, end, weight)
        inputs = [t for t in (start, weight) if isinstance(t, lib.Tensor) and t.requires_grad]
        grads = lib.autograd.grad(out.sum(), inputs)
        return str(out.dtype).split(".")[-1], out.tolist(), [g.tolist() for g in grads]

    assert outcome(run, rg) == outcome(run, torch)


# ----- NaN/inf edges and shapes against PyTorch (outside testers' findings) --------------------


def _both(run):
    torch = pytest.importorskip("torch")
    return run(rg), run(torch)


_EDGE_VALUES = [-1.0, 0.0, 1.0, 2.0, np.nan, np.inf, -np.inf]


def test_clamp_with_tensor_bounds_propagates_nan_and_routes_gradients_as_torch():
    rng = np.random.default_rng(0)
    forms = {
        "both": lambda lib, x, lo, hi: x.clamp(lo, hi),
        "min": lambda lib, x, lo, hi: x.clamp(min=lo),
        "max": lambda lib, x, lo, hi: x.clamp(max=hi),
        "clamp_min": lambda lib, x, lo, hi: lib.clamp_min(x, lo),
        "clamp_max": lambda lib, x, lo, hi: lib.clamp_max(x, hi),
        "in_place": lambda lib, x, lo, hi: (x * 1).clamp_(lo, hi),
    }
    for trial in range(60):
        x, lo, hi = (rng.choice(_EDGE_VALUES, size=4) for _ in range(3))
        if trial % 3 == 0:
            lo = lo[:1]  # (a broadcast bound)
        for name, form in forms.items():

            def run(lib, form=form, x=x, lo=lo, hi=hi):
                ts = [lib.tensor(a, requires_grad=True) for a in (x, lo, hi)]
                y = form(lib, *ts)
                grads = lib.autograd.grad(y.sum(), ts, allow_unused=True, create_graph=True)
                return (
                    repr(y.tolist()),
                    [None if g is None else repr(g.tolist()) for g in grads],
                    type(y.grad_fn).__name__,
                )

            ours, theirs = _both(run)
            assert ours == theirs, (name, x, lo, hi)


def test_prod_gradient_at_infinities_is_torchs_quotient():
    for values in (
        [2.0, -np.inf, 3.0],
        [np.inf, 0.5, -2.0],
        [0.0, -np.inf, 3.0],
        [1e30, 1e30, 1e-30],
    ):
        for dim in (None, 0):

            def run(lib, values=values, dim=dim):
                x = lib.tensor(values, requires_grad=True)
                y = x.prod() if dim is None else x.prod(dim)
                y.backward()
                return repr(y.item()), repr(x.grad.tolist()), type(y.grad_fn).__name__

            ours, theirs = _both(run)
            assert ours == theirs


def test_norm_of_order_zero_has_no_gradient_as_torch():
    def run(lib):
        x = lib.tensor([1.0, 0.0, 3.0], requires_grad=True)
        n = lib.linalg.vector_norm(x, ord=0)
        n.backward()
        return n.item(), x.grad, type(n.grad_fn).__name__

    assert _both(run)[0] == _both(run)[1] == (2.0, None, "LinalgVectorNormBackward0")


@pytest.mark.parametrize("name", ["median", "nanmedian"])
def test_median_of_all_elements_with_infinities_as_torch(name):
    def run(lib):
        x = lib.tensor(
            [2.0, np.inf, -1.0, -np.inf, np.nan if name == "nanmedian" else 5.0], requires_grad=True
        )
        m = getattr(x, name)()
        m.backward()
        return repr(m.item()), repr(x.grad.tolist())

    ours, theirs = _both(run)
    assert ours == theirs


def test_nanmedian_of_an_all_nan_row_is_nan():
    x = rg.tensor([[np.nan, np.nan, np.nan], [1.0, np.nan, 3.0]])
    values, _ = x.nanmedian(1)
    assert np.isnan(values[0].item()) and values[1].item() == 1.0
    assert np.isnan(rg.tensor([np.nan, np.nan]).nanmedian().item())


_SHAPED = {
    "sum_none_keepdim": lambda lib, x: lib.sum(x, dim=None, keepdim=True),
    "method_sum_none_keepdim": lambda lib, x: x.sum(None, True),
    "mean_none_keepdim": lambda lib, x: lib.mean(x, None, True),
    "nansum_none_keepdim": lambda lib, x: lib.nansum(x, None, True),
    "nanmean_none_keepdim": lambda lib, x: lib.nanmean(x, None, True),
    "all_empty_dims": lambda lib, x: lib.all(x, dim=()),
    "any_empty_dims_keepdim": lambda lib, x: lib.any(x, dim=(), keepdim=True),
    "all_none_keepdim": lambda lib, x: lib.all(x, dim=None, keepdim=True),
    "addcmul_promotes_all_three": lambda lib, x: lib.addcmul(
        lib.tensor(0.6, dtype=lib.float64), x > 0, lib.tensor(1.1, dtype=lib.float16)
    ),
    "addcdiv_promotes_all_three": lambda lib, x: lib.addcdiv(
        lib.tensor(0.6, dtype=lib.float64), x, lib.tensor(1.1, dtype=lib.float16)
    ),
    "nan_to_num_past_the_range": lambda lib, x: lib.nan_to_num(
        x.log() - x, nan=1e300, posinf=-1e39, neginf=-1e300
    ),
    "nansum_int32": lambda lib, x: lib.nansum(x.long(), dtype=lib.int32),
    "shift_number_first": lambda lib, x: -1 << lib.tensor(3, dtype=lib.uint8),
    "shift_number_first_int16": lambda lib, x: -3 << lib.tensor([2], dtype=lib.int16),
}


@pytest.mark.parametrize("name", sorted(_SHAPED))
def test_reduction_shapes_and_result_types_as_torch(name):
    def run(lib):
        out = _SHAPED[name](lib, lib.tensor([[1.0, 0.0, 2.0], [3.0, 4.0, 5.0]]))
        return tuple(out.shape), str(out.dtype).split(".")[-1], out.tolist()

    ours, theirs = _both(run)
    assert ours == theirs


def test_concatenate_takes_axis_and_dim_as_torch():
    def run(lib):
        parts = [lib.arange(4.0).reshape(2, 2), lib.ones(2, 1)]
        return [lib.concatenate(parts, axis=1).tolist(), lib.concatenate(parts, dim=1).tolist(), lib.concat(parts, 1).tolist()]  # fmt: skip

    assert run(rg) == run(torch)
