"""The CPU kernels' fast paths against PyTorch: in-place updates computed in the tensor's
memory (no temporary), and the vectorised, pooled row reductions, at sizes on both sides of
the parallel threshold and on the views each path takes."""

import numpy as np
import pytest
import rustgrad

torch = pytest.importorskip("torch")

# Below, at and past the kernels' parallel threshold (131,072 elements).
SIZES = [(7,), (33, 17), (512, 300), (3, 70_001)]


def pair(shape, seed, dtype="float32"):
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return rustgrad.tensor(x), torch.tensor(x)


def check(ours, theirs, rtol=1.3e-6, atol=1e-5):
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=rtol, atol=atol)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]


@pytest.mark.parametrize("shape", SIZES)
@pytest.mark.parametrize("op", ["add_", "sub_", "mul_", "div_", "iadd", "isub", "imul", "itruediv"])
def test_in_place_update_matches_torch(shape, op):
    (p, tp), (g, tg) = pair(shape, 0), pair(shape, 1)
    tg = tg.abs() + 0.5
    g = rustgrad.tensor(tg.numpy())
    version = p._version
    with rustgrad.no_grad():
        if op.startswith("i"):
            name = "__" + op + "__"
            assert getattr(p, name)(g) is p
            getattr(tp, name)(tg)
        else:
            assert getattr(p, op)(g) is p
            getattr(tp, op)(tg)
    check(p, tp)
    assert p._version > version


@pytest.mark.parametrize("shape", SIZES)
def test_parameter_update_with_alpha_and_scalars(shape):
    (p, tp), (g, tg) = pair(shape, 2), pair(shape, 3)
    p.requires_grad_(True)
    tp.requires_grad_(True)
    with rustgrad.no_grad():
        p.add_(g, alpha=-0.01)
        p.mul_(0.999)
        p -= 0.5 * g
        p.sub_(2)
    with torch.no_grad():
        tp.add_(tg, alpha=-0.01)
        tp.mul_(0.999)
        tp -= 0.5 * tg
        tp.sub_(2)
    check(p.detach(), tp.detach())
    assert p.requires_grad and p.grad_fn is None


@pytest.mark.parametrize(
    "view",
    [
        lambda t: t[:, 3:40],  # rows of consecutive elements
        lambda t: t.t(),  # transposed
        lambda t: t[::2, ::3],  # strided both ways
        lambda t: t[5],  # one row at an offset
    ],
)
@pytest.mark.parametrize("other", ["full", "row", "column", "scalar"])
def test_in_place_update_of_views_touches_only_the_view(view, other):
    (b, tb) = pair((64, 50), 4)
    target, ttarget = view(b), view(tb)
    shape = tuple(ttarget.shape)
    o_shape = {
        "full": shape,
        "row": shape[-1:],
        "column": shape[:-1] + (1,) if len(shape) > 1 else (1,),
        "scalar": (),
    }[other]
    (o, to) = pair(o_shape, 5)
    target.sub_(o)
    ttarget.sub_(to)
    check(b, tb)


def test_in_place_int64_and_broadcast_bias():
    x = np.arange(300_000, dtype=np.int64).reshape(1000, 300)
    b = np.arange(300, dtype=np.int64)
    (p, tp) = rustgrad.tensor(x), torch.tensor(x)
    p += rustgrad.tensor(b)
    tp += torch.tensor(b)
    p *= 3
    tp *= 3
    assert (p.numpy() == tp.numpy()).all()
    assert p.dtype == rustgrad.int64


def test_in_place_aliasing_and_refusals_keep_pytorch_semantics():
    # An operand that is the tensor itself, or overlaps it, reads the old values.
    x = rustgrad.arange(10.0)
    tx = torch.arange(10.0)
    x += x.flip(0)
    tx += tx.flip(0)
    check(x, tx)
    x.view(2, 5).add_(x.view(2, 5))
    tx.view(2, 5).add_(tx.view(2, 5))
    check(x, tx)
    # Partly overlapping operands are refused, as PyTorch refuses them (also for copy_ and
    # for the same elements in another order); undecidable strided views are not.
    message = "some elements of the input tensor and the written-to tensor refer to a single"
    for lib in (rustgrad, torch):
        y = lib.arange(10.0)
        for f in [
            lambda y=y: y[1:].add_(y[:-1]),
            lambda y=y: y[1:].copy_(y[:-1]),
            lambda y=y: y.view(2, 5).mul_(y.view(5, 2).t()),
        ]:
            with pytest.raises(RuntimeError, match=message):
                f()
        y[::2].add_(y[1::2])
    x, tx = rustgrad.arange(10.0), torch.arange(10.0)
    x[::2].add_(x[1::2])
    tx[::2].add_(tx[1::2])
    check(x, tx)
    # The same elements in the same order (strides of size-1 dims aside) are a full overlap,
    # which is allowed: x[...] = x.squeeze(0).
    for lib in (rustgrad, torch):
        z = lib.arange(4.0).reshape(1, 1, 4)
        z[...] = z.squeeze(0) * 2
        z[...] = z.squeeze(0)
        assert z.reshape(-1).tolist() == [0.0, 2.0, 4.0, 6.0]
        with pytest.raises(RuntimeError, match=message):  # (another shape: not the same walk)
            z.add_(z.squeeze(0))
    # A float operand cannot go into an integer tensor; a broadcast cannot grow the target.
    i = rustgrad.arange(4)
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type"):
        i += rustgrad.ones(4)
    with pytest.raises(RuntimeError):
        rustgrad.ones(3).add_(rustgrad.ones(2, 3))
    # Integer division in place is refused (the result is float).
    with pytest.raises(RuntimeError):
        i /= 2
    # An expanded target has overlapping elements.
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        rustgrad.zeros(1).expand(4).add_(rustgrad.ones(4))


def test_in_place_update_of_a_leaf_needing_grad_still_refused_with_grad_on():
    p = rustgrad.ones(200_000, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        p -= rustgrad.ones(200_000)


def test_copy_from_views_and_casts():
    (src, tsrc) = pair((300, 500), 6)
    dst, tdst = (
        rustgrad.zeros(500, 300, dtype=rustgrad.float64),
        torch.zeros(500, 300, dtype=torch.float64),
    )
    dst.copy_(src.t())
    tdst.copy_(tsrc.t())
    check(dst, tdst)
    big, tbig = pair((200_000,), 7)
    out, tout = rustgrad.empty(200_000), torch.empty(200_000)
    out.copy_(big)
    tout.copy_(tbig)
    check(out, tout, rtol=0, atol=0)


@pytest.mark.parametrize("shape", SIZES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_reductions_match_torch(shape, dtype):
    x, tx = pair(shape, 8, dtype)
    tol = {"rtol": 1e-5, "atol": 1e-4} if dtype == "float32" else {"rtol": 1e-12, "atol": 1e-10}
    check(x.sum(), tx.sum(), **tol)
    check(x.sum(-1), tx.sum(-1), **tol)
    check(x.mean(-1), tx.mean(-1), **tol)
    for name in ["amax", "amin"]:
        check(getattr(x, name)(-1), getattr(tx, name)(-1), rtol=0, atol=0)
    v, i = x.max(-1)
    tv, ti = tx.max(-1)
    check(v, tv, rtol=0, atol=0)
    assert (i.numpy() == ti.numpy()).all()
    assert (x.argmin(-1).numpy() == tx.argmin(-1).numpy()).all()
    check(x.softmax(-1), tx.softmax(-1), **tol)
    check(x.log_softmax(-1), tx.log_softmax(-1), **tol)


@pytest.mark.parametrize(
    ("shape", "dim", "keepdim"),
    [
        ((3, 4), (), False),
        ((3, 4), 0, True),
        ((2, 3, 4), (0, 2), False),
        ((2, 3, 4), (2, 0), True),
        ((4, 5), (1,), False),
        ((), (), False),
        ((), 0, True),
    ],
)
@pytest.mark.parametrize("name", ["amax", "amin"])
def test_amax_over_dims_matches_torch_with_ties_and_nan(shape, dim, keepdim, name):
    """One native node (src/ops/reduce.rs): values, the gradient shared between ties (a NaN
    in a group gives NaN gradients to all of it), the node's name and saved tensors."""
    rng = np.random.default_rng(3)
    a = np.asarray(rng.integers(-2, 3, size=shape).astype(np.float64))  # many ties
    if a.ndim == 3:
        a[1, 2, 3] = np.nan
    x, tx = rustgrad.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    transposed = a.ndim == 2 and shape[0] == 4  # a non-contiguous input
    y = getattr(x.t() if transposed else x, name)(dim, keepdim)
    ty = getattr(tx.t() if transposed else tx, name)(dim, keepdim)
    check(y.detach(), ty.detach(), rtol=0, atol=0)
    assert y.grad_fn.name() == ty.grad_fn.name()
    check(y.grad_fn._saved_result.detach(), ty.grad_fn._saved_result.detach(), rtol=0, atol=0)
    g = rng.standard_normal(tuple(ty.shape))
    y.backward(rustgrad.tensor(g))
    ty.backward(torch.tensor(g))
    check(x.grad, tx.grad, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n", [7, 40_000, 300_001])
@pytest.mark.parametrize("nan_at", [None, 0, -1, 150_000])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "uint8"])
def test_whole_tensor_extremes_without_indices_match_torch(n, nan_at, dtype):
    """``max()``/``min()`` and ``amax``/``amin`` of one long row and of rows (the values-only
    kernel: pieces on the pool past the threshold, NaN winning wherever it is)."""
    a = np.random.default_rng(4).standard_normal(n) * 50
    if dtype == "uint8":
        a = np.abs(a)
    a = a.astype(dtype)
    if nan_at is not None and dtype.startswith("float") and abs(nan_at) < n:
        a[nan_at] = np.nan
    x, tx = rustgrad.tensor(a), torch.tensor(a)
    for name in ["max", "min", "amax", "amin"]:
        np.testing.assert_array_equal(getattr(x, name)().numpy(), getattr(tx, name)().numpy())
    if n % 7 == 0:
        rows, trows = x.reshape(7, -1), tx.reshape(7, -1)
        for name in ["amax", "amin"]:
            got, want = getattr(rows, name)(1).numpy(), getattr(trows, name)(1).numpy()
            np.testing.assert_array_equal(got, want)


def test_row_extremes_with_nan_inf_and_signed_zero_match_torch():
    rows = np.random.default_rng(9).standard_normal((6, 1000)).astype(np.float32)
    rows[0, 700] = np.nan
    rows[0, 900] = np.nan
    rows[1, :] = -np.inf
    rows[2, 5] = np.inf
    rows[3, :] = 0.0
    rows[3, ::2] = -0.0
    rows[4, 999] = np.nan
    x, tx = rustgrad.tensor(rows), torch.tensor(rows)
    for dim_op in ["max", "min"]:
        v, i = getattr(x, dim_op)(1)
        tv, ti = getattr(tx, dim_op)(1)
        np.testing.assert_array_equal(v.numpy(), tv.numpy())
        np.testing.assert_array_equal(np.signbit(v.numpy()), np.signbit(tv.numpy()))
        np.testing.assert_array_equal(i.numpy(), ti.numpy())
    for fn in ["softmax", "log_softmax"]:
        np.testing.assert_allclose(
            getattr(x, fn)(1).numpy(), getattr(tx, fn)(1).numpy(), rtol=1.3e-6, atol=1e-5
        )


VECTORISED_FLOAT32 = [
    *("sin", "cos", "tan", "atan", "log", "log1p", "erf", "exp", "expm1", "exp2", "tanh"),
    *("sinh", "cosh", "asin", "acos", "asinh", "atanh", "sigmoid", "F.elu", "F.selu"),
    *("F.softplus", "F.mish", "F.logsigmoid"),
]


def _function(lib, name):
    """``lib.name``, or ``lib.nn.functional.name`` for ``F.name``."""
    if name.startswith("F."):
        return getattr(lib.nn.functional, name[2:])
    return getattr(lib, name)


@pytest.mark.parametrize("fn", VECTORISED_FLOAT32)
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_vectorised_float32_functions_match_torch(fn, layout):
    # Wide arguments (sin/cos/tan past their fast range reduction are recomputed with libm),
    # the unit interval (atanh), special values and signed zeros; past the parallel threshold.
    x = np.concatenate(
        [
            np.random.default_rng(10).standard_normal(150_000).astype(np.float32) * 100,
            np.random.default_rng(12).standard_normal(20_000).astype(np.float32),
            np.random.default_rng(13).uniform(-1, 1, 20_000).astype(np.float32),
            np.random.default_rng(11).uniform(-1, 1, 1000).astype(np.float32) * 1e-30,
            np.array(
                [1e30, -3e9, 2**24, 2**24 + 2, np.inf, -np.inf, np.nan, -0.0, 0.0, -1, 1e-45],
                np.float32,
            ),
        ]
    )
    ours = rustgrad.tensor(x)
    if layout == "transposed":
        ours = rustgrad.tensor(np.stack([x, x]).T.copy()).t()[0]
    with np.errstate(all="ignore"):
        got = _function(rustgrad, fn)(ours).numpy()
        want = _function(torch, fn)(torch.tensor(x)).numpy()
        # PyTorch's float32 sinh/cosh overflow from 88.72, where the result is still finite
        # up to 89.4: there the float64 result, rounded, is the reference.
        exact = _function(torch, fn)(torch.tensor(x, dtype=torch.float64)).float().numpy()
        want = np.where(np.isinf(want) & np.isfinite(exact), exact, want)
    np.testing.assert_allclose(got, want, rtol=1.3e-6, atol=1e-5, equal_nan=True)
    zeros = x == 0
    np.testing.assert_array_equal(np.signbit(got[zeros]), np.signbit(want[zeros]))


def test_writes_from_aliasing_values_that_pytorch_accepts():
    for lib in (rustgrad, torch):
        x = lib.arange(6.0)
        x[2:] = x[1]  # a 0-d value is a fill from a copy
        x.fill_(x[2])
        y = lib.arange(6.0)
        y[0:2] = y[1:2]  # broadcast values are not judged
        y[:] = y[:1].clone() + y
        assert y.tolist() == [2.0, 2.0, 3.0, 4.0, 5.0, 6.0]
        y[:] = y[:1]
        assert x.tolist() == [1.0] * 6
        assert y.tolist() == [2.0] * 6


def test_in_place_update_between_numpy_arrays_that_overlap_reads_the_old_values():
    base = np.arange(300_000, dtype=np.float32)
    p = rustgrad.from_numpy(base[1:])
    q = rustgrad.from_numpy(base[:-1])
    want = base[1:] + base[:-1]
    p.add_(q)
    np.testing.assert_array_equal(base[1:], want)
    base = np.arange(300_000, dtype=np.float64)
    dst = rustgrad.from_numpy(base[1:])
    dst.copy_(rustgrad.from_numpy(base[:-1]))
    np.testing.assert_array_equal(base[1:], np.arange(299_999, dtype=np.float64))


# (m, k, n) past the size at which a product is split over the pool's threads (2^22
# multiply-adds): tall results split by rows, short wide ones by columns (each column block
# by way of a column-major product when the right operand is transposed), uneven blocks.
PRODUCTS = [(1000, 96, 130), (30, 500, 1030), (64, 2048, 257), (17, 129, 4099)]


@pytest.mark.parametrize("m,k,n", PRODUCTS)
@pytest.mark.parametrize("layout", ["nn", "nt", "tn", "tt"])
def test_large_products_match_a_float64_reference(m, k, n, layout):
    rng = np.random.default_rng(m + n)
    a = rng.standard_normal((k, m) if layout[0] == "t" else (m, k)).astype("float32")
    b = rng.standard_normal((n, k) if layout[1] == "t" else (k, n)).astype("float32")
    bias = rng.standard_normal((m, n)).astype("float32")
    ra, rb = rustgrad.tensor(a), rustgrad.tensor(b)
    ra, rb = (ra.t() if layout[0] == "t" else ra), (rb.t() if layout[1] == "t" else rb)
    ea = (a.T if layout[0] == "t" else a).astype("float64")
    eb = (b.T if layout[1] == "t" else b).astype("float64")
    want = ea @ eb
    tol = 1e-6 * np.sqrt(k) * np.abs(ea) @ np.abs(eb)
    assert np.all(np.abs((ra @ rb).numpy() - want) <= tol + 1e-6)
    got = rustgrad.addmm(rustgrad.tensor(bias), ra, rb, beta=0.5, alpha=-2.0).numpy()
    assert np.all(np.abs(got - (0.5 * bias - 2.0 * want)) <= 2 * tol + 1e-5)
