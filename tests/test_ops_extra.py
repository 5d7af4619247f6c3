"""PyTorch's remaining everyday names (``python/rustgrad/_ops_extra.py``) that the op table
cannot check: queries, conversions, dtype arithmetic, and the in-place forms whose node
differs from PyTorch's. Each runs the same code under rustgrad and PyTorch and compares."""

import numpy as np
import pytest
import rustgrad as rg
from conftest import assert_close

torch = pytest.importorskip("torch")

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64"]  # fmt: skip


def _outcome(lib, case):
    try:
        r = case(lib)
    except Exception as e:  # noqa: BLE001 (the comparison is of the exception itself)
        return (type(e).__name__, str(e))
    if isinstance(r, lib.Tensor):
        return ("tensor", str(r.dtype).rsplit(".", 1)[-1], r.detach().cpu().double().tolist())
    if isinstance(r, lib.dtype):
        return ("dtype", str(r).rsplit(".", 1)[-1])
    return r


def _chain_of_one(lib):
    """``chain_matmul`` of one matrix is a new tensor: writing the input leaves it alone."""
    a = lib.ones(2, 2)
    out = lib.chain_matmul(a)
    a.fill_(0)
    return out


CASES = {
    "ndimension": lambda lib: lib.ones(2, 3, 1).ndimension(),
    "get_device": lambda lib: lib.ones(2).get_device(),
    "is_cpu": lambda lib: lib.ones(2).is_cpu,
    "nbytes": lambda lib: (lib.ones(2, 3).nbytes, lib.ones(5, dtype=lib.int16).nbytes),
    "itemsize": lambda lib: (lib.ones(1).itemsize, lib.ones(1, dtype=lib.float64).itemsize),
    "is_signed": lambda lib: [lib.ones(1, dtype=getattr(lib, d)).is_signed() for d in DTYPES],
    "is_same_size": lambda lib: (
        lib.is_same_size(lib.ones(2, 3), lib.zeros(2, 3)),
        lib.ones(2).is_same_size(lib.ones(3)),
    ),
    "complex_queries": lambda lib: (
        [f(lib.ones(2)) for f in (lib.is_complex, lib.is_conj, lib.is_neg)]
        + [lib.ones(2).is_complex(), lib.ones(2).is_conj(), lib.ones(2).is_neg()]
    ),
    "real": lambda lib: lib.arange(3.0).real,
    "imag": lambda lib: lib.arange(3.0).imag,
    "imag_fn": lambda lib: lib.imag(lib.arange(3.0)),
    "positive_bool": lambda lib: lib.positive(lib.ones(2, dtype=lib.bool)),
    "sgn": lambda lib: lib.tensor([-2.0, 0.0, 3.0, -0.0]).sgn(),
    "sgn_": lambda lib: lib.tensor([-2.0, 0.0, 3.0]).sgn_(),
    "new_shape": lambda lib: lib.ones(2, dtype=lib.float64).new(2, 3).shape,
    "new_size": lambda lib: lib.ones(2, dtype=lib.int64).new(lib.Size([2])).dtype,
    "new_data": lambda lib: lib.ones(2, dtype=lib.float64).new([1, 2]),
    "new_empty": lambda lib: tuple(lib.ones(2).new().shape),
    "as_tensor": lambda lib: lib.as_tensor([1, 2.5], dtype=lib.float64),
    "as_tensor_tensor": lambda lib: lib.as_tensor(lib.ones(2), dtype=lib.int64),
    "asarray": lambda lib: lib.asarray([[1, 2], [3, 4]]),
    "scalar_tensor": lambda lib: lib.scalar_tensor(3),
    "scalar_tensor_dtype": lambda lib: lib.scalar_tensor(3, dtype=lib.int64),
    "isin": lambda lib: lib.isin(lib.tensor([[1, 2], [3, 4]]), lib.tensor([2, 4, 7])),
    "isin_invert": lambda lib: lib.isin(lib.tensor([1.0, 2.0]), 2.0, invert=True),
    "isin_scalar": lambda lib: lib.isin(3, lib.tensor([1, 3])),
    "eq_": lambda lib: lib.tensor([1.0, 2.0, 3.0]).eq_(lib.tensor([1.0, 0.0, 3.0])),
    "gt_int": lambda lib: lib.tensor([1, 5, 3]).gt_(2),
    "greater_equal_": lambda lib: lib.tensor([1.0, 5.0]).greater_equal_(5),
    "logical_and_": lambda lib: lib.tensor([1.0, 0.0, 2.0]).logical_and_(lib.tensor([1, 1, 0])),
    "logical_not_": lambda lib: lib.tensor([1, 0, 2]).logical_not_(),
    "pow_": lambda lib: lib.tensor([1.0, 2.0, 3.0]).pow_(2),
    "pow_int_float": lambda lib: lib.tensor([1, 2]).pow_(0.5),
    "fill_diagonal_": lambda lib: lib.zeros(3, 4).fill_diagonal_(5),
    "fill_diagonal_wrap": lambda lib: lib.zeros(7, 3).fill_diagonal_(1, wrap=True),
    "fill_diagonal_3d": lambda lib: lib.zeros(2, 2, 2).fill_diagonal_(2),
    "fill_diagonal_bad": lambda lib: lib.zeros(2, 3, 4).fill_diagonal_(1),
    "sum_to_size_bad": lambda lib: lib.ones(2, 3).sum_to_size(4, 3),
    "addr_int_float": lambda lib: lib.addr(
        lib.ones(2, 2, dtype=lib.int64),
        lib.ones(2, dtype=lib.int64),
        lib.ones(2, dtype=lib.int64),
        alpha=0.5,
    ),
    "index_fill_bad_index": lambda lib: lib.ones(2, 3).index_fill(1, lib.tensor([3]), 0.0),
    "quantile_bad_q": lambda lib: lib.quantile(lib.ones(3), 1.5),
    "chain_matmul_one_is_a_copy": lambda lib: _chain_of_one(lib),
    "cov_one_variable": lambda lib: lib.cov(lib.tensor([[1.0, 2.0, 4.0]])),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    assert _outcome(rg, CASES[name]) == _outcome(torch, CASES[name])


def _dtype(lib, name):
    return getattr(lib, name)


@pytest.mark.parametrize("a", DTYPES)
def test_dtype_arithmetic_matches_torch(a):
    for b in DTYPES:
        assert (
            str(rg.promote_types(_dtype(rg, a), _dtype(rg, b))).rsplit(".")[-1]
            == str(torch.promote_types(_dtype(torch, a), _dtype(torch, b))).rsplit(".")[-1]
        ), (a, b)
        assert rg.can_cast(_dtype(rg, a), _dtype(rg, b)) == torch.can_cast(
            _dtype(torch, a), _dtype(torch, b)
        ), (a, b)
    # result_type: tensors with dims, 0-d tensors and Python numbers
    for other in (2, 2.5, True):
        for shape in ((2,), ()):
            ours = rg.result_type(rg.zeros(shape, dtype=_dtype(rg, a)), other)
            theirs = torch.result_type(torch.zeros(shape, dtype=_dtype(torch, a)), other)
            assert str(ours).rsplit(".")[-1] == str(theirs).rsplit(".")[-1], (a, other, shape)
    ours = rg.result_type(rg.zeros((), dtype=_dtype(rg, a)), rg.zeros(2, dtype=rg.int8))
    theirs = torch.result_type(torch.zeros((), dtype=_dtype(torch, a)), torch.zeros(2, dtype=torch.int8))  # fmt: skip
    assert str(ours).rsplit(".")[-1] == str(theirs).rsplit(".")[-1]


def test_as_tensor_shares_memory_as_pytorch():
    arr = np.arange(4.0)
    t = rg.as_tensor(arr)
    arr[0] = 7
    assert t[0].item() == 7.0 == torch.as_tensor(arr)[0].item()
    x = rg.ones(3)
    assert rg.as_tensor(x) is x and rg.asarray(x) is x
    assert rg.asarray(x, copy=True) is not x
    with pytest.raises(ValueError):
        rg.asarray(x, dtype=rg.float64, copy=False)


def _products(lib, x, a, b, bb1, bb2):
    return {
        "addmm_": lambda: x.clone().addmm_(a, b, beta=0.5, alpha=2),
        "baddbmm_": lambda: x.unsqueeze(0).expand(2, 3, 4).clone().baddbmm_(bb1, bb2),
        "addbmm_": lambda: x.clone().addbmm_(bb1, bb2, alpha=-1),
    }


def test_in_place_products_match_torch_values_and_gradients():
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in ((3, 4), (3, 5), (5, 4), (2, 3, 5), (2, 5, 4))]
    for name in ("addmm_", "baddbmm_", "addbmm_"):
        outs = []
        for lib in (rg, torch):
            leaves = [lib.tensor(v, requires_grad=True) for v in arrays]
            out = _products(lib, *leaves)[name]()
            (out * out).sum().backward()
            grads = [None if v.grad is None else v.grad.numpy() for v in leaves]
            outs.append((out.detach().numpy(), grads))
        assert_close(outs[0][0], outs[1][0], rtol=1e-12, atol=1e-12)
        for g, tg in zip(outs[0][1], outs[1][1]):
            assert (g is None) == (tg is None)
            if g is not None:
                assert_close(g, tg, rtol=1e-12, atol=1e-12)


def test_pow_in_place_writes_through_views_as_pytorch():
    for lib in (rg, torch):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]])
        row = x[1]
        row **= 2
        assert x.tolist() == [[1.0, 2.0], [9.0, 16.0]]


@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
@pytest.mark.parametrize("q", [0.5, [0.2, 0.8], 0.3, [0.7]], ids=["number", "two", "0-d", "one"])
@pytest.mark.parametrize("dim", [None, 0, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_quantile_shape_and_layout_match_torch(name, q, dim, keepdim):
    """A tensor ``q``'s dim comes first, laid out innermost in memory (PyTorch's strides); a
    0-d ``q`` adds no dim."""
    x = np.random.default_rng(5).standard_normal((3, 4, 5)).astype(np.float32)
    x[0, 0, 0] = np.nan
    tq = q if isinstance(q, float) and name == "quantile" else torch.tensor(q)
    rq = tq if isinstance(tq, float) else rg.tensor(tq.numpy())
    want = getattr(torch, name)(torch.tensor(x), tq, dim, keepdim)
    got = getattr(rg, name)(rg.tensor(x), rq, dim, keepdim)
    assert (tuple(got.shape), got.stride()) == (tuple(want.shape), want.stride())
    # (float32: PyTorch interpolates with lerp's two-branch fused formula, we with a + w (b - a):
    # within an ulp of the order statistics, which are about 1)
    assert_close(got, want, rtol=1.3e-6, atol=2e-7)
