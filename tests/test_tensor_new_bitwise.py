"""Tensor methods against PyTorch: ``new_zeros/ones/empty/full/tensor``; ``bitwise_and/or/xor/not``
and the shifts (functions, methods, ``& | ^ ~ << >>``, reflected and in-place forms) over the integer and bool dtypes
with PyTorch's promotion and errors; ``unsqueeze_``, ``squeeze_``, ``t_``, ``transpose_``;
``masked_fill`` on every dtype."""

import warnings

import numpy as np
import pytest
import rustgrad as rg
from conftest import assert_close, raises

torch = pytest.importorskip("torch")

INTS = ["int64", "int32", "int16", "int8", "uint8"]
ALL = [*INTS, "bool", "float32", "float64", "float16", "bfloat16"]


def _pair(values, dtype):
    t = torch.tensor(values).to(getattr(torch, dtype))
    return t, rg.tensor(values).to(getattr(rg, dtype))


def _same(r, t):
    assert str(r.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert tuple(r.shape) == tuple(t.shape)
    np.testing.assert_array_equal(r.float().numpy(), t.float().numpy())


# ----- new_* ----------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "bool"])
def test_new_constructors_match_torch(dtype):
    t, r = _pair([1, 0, 1], dtype)
    for name, args in (("new_zeros", ((2, 3),)), ("new_ones", (2, 3)), ("new_empty", ((4,),))):
        a, b = getattr(r, name)(*args), getattr(t, name)(*args)
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        assert tuple(a.shape) == tuple(b.shape)
        if name != "new_empty":
            _same(a, b)
    _same(r.new_full((2, 2), 1), t.new_full((2, 2), 1))
    _same(r.new_tensor([[1, 0], [0, 1]]), t.new_tensor([[1, 0], [0, 1]]))
    _same(r.new_ones(2, dtype=rg.int16), t.new_ones(2, dtype=torch.int16))
    _same(r.new_zeros(()), t.new_zeros(()))
    _same(r.new_full([3], 2.5, dtype=rg.float64), t.new_full([3], 2.5, dtype=torch.float64))


def test_new_tensor_copies_and_warns_as_torch():
    base = rg.zeros(2, dtype=rg.float64)
    src = rg.tensor([1.0, 2.0], requires_grad=True)
    for lib_base, lib_src in (
        (torch.zeros(2, dtype=torch.float64), torch.tensor([1.0, 2.0], requires_grad=True)),
        (base, src),
    ):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = lib_base.new_tensor(lib_src)
        assert any("To copy construct from a tensor" in str(w.message) for w in caught)
        assert not out.requires_grad and str(out.dtype).endswith("float64")
        out[0] = 9.0
        assert float(lib_src[0]) == 1.0
    made = base.new_ones(2, requires_grad=True)
    assert made.requires_grad and made.is_leaf


# ----- bitwise --------------------------------------------------------------------------------

A = [5, 3, -2, 0, 127, -128]
B = [1, 6, 7, -1, 3, 5]


@pytest.mark.parametrize("da", [*INTS, "bool"])
@pytest.mark.parametrize("db", ["int64", "int8", "uint8", "bool"])
def test_bitwise_binary_matches_torch(da, db):
    ta, ra = _pair(A, da)
    tb, rb = _pair(B, db)
    for op in ("bitwise_and", "bitwise_or", "bitwise_xor"):
        _same(getattr(rg, op)(ra, rb), getattr(torch, op)(ta, tb))
        _same(getattr(ra, op)(rb), getattr(ta, op)(tb))
    _same(ra & rb, ta & tb)
    _same(ra | rb, ta | tb)
    _same(ra ^ rb, ta ^ tb)
    _same(~ra, ~ta)
    _same(ra.bitwise_not(), ta.bitwise_not())


@pytest.mark.parametrize("dtype", [*INTS, "bool"])
def test_bitwise_with_python_scalars_and_broadcast(dtype):
    ta, ra = _pair(A, dtype)
    for s in (3, True, 0):
        _same(ra & s, ta & s)
        _same(s | ra, s | ta)
        _same(s ^ ra, s ^ ta)
    tm, rm = _pair([[1], [2]], "int64")
    _same(ra ^ rm, ta ^ tm)
    _same(rg.tensor(3) & ra, torch.tensor(3) & ta)  # a 0-d tensor does not promote


@pytest.mark.parametrize("dtype", [*INTS, "bool"])
def test_bitwise_in_place_matches_torch(dtype):
    for op in ("bitwise_and_", "bitwise_or_", "bitwise_xor_"):
        ta, ra = _pair(A, dtype)
        tb, rb = _pair(B, dtype)
        out = getattr(ra, op)(rb)
        getattr(ta, op)(tb)
        assert out is ra
        _same(ra, ta)
    ta, ra = _pair(A, dtype)
    six, one = (True, True) if dtype == "bool" else (6, 1)
    ta &= six
    ra &= six
    _same(ra, ta)
    ta ^= torch.tensor(B).to(ta.dtype)
    ra ^= rg.tensor(B).to(ra.dtype)
    _same(ra, ta)
    ta |= one
    ra |= one
    _same(ra, ta)
    ta.bitwise_not_()
    ra.bitwise_not_()
    _same(ra, ta)


@pytest.mark.parametrize("dtype", INTS)
def test_shifts_match_torch_at_every_count(dtype):
    """Counts inside the width, at it, past it and negative: PyTorch gives 0 (left) or the
    sign (right) outside [0, bits), and narrow types wrap."""
    values = [1, -8, 3, 5, -1, 7, 100, -100] if dtype != "uint8" else [1, 8, 3, 5, 255, 7, 100, 200]
    counts = [1, 2, 64, -1, 63, 0, 7, 9]
    ta, ra = _pair(values, dtype)
    tb, rb = _pair(counts, dtype)
    for name in ("bitwise_left_shift", "bitwise_right_shift"):
        _same(getattr(rg, name)(ra, rb), getattr(torch, name)(ta, tb))
        _same(getattr(ra, name)(2), getattr(ta, name)(2))
    _same(ra << rb, ta << tb)
    _same(ra >> rb, ta >> tb)
    _same(3 << ra[:2].abs(), 3 << ta[:2].abs())
    _same(ra << rb[:1], ta << tb[:1])  # broadcast
    ta <<= 1
    ra <<= 1
    _same(ra, ta)
    ta.bitwise_right_shift_(tb.abs() % 8)
    ra.bitwise_right_shift_(rb.abs() % 8)
    _same(ra, ta)


def test_shift_and_bitwise_errors_as_torch():
    with raises(NotImplementedError, "\"lshift_cpu\" not implemented for 'Float'"):
        rg.tensor([1.5]) << 1
    with raises(NotImplementedError, "\"rshift_cpu\" not implemented for 'Bool'"):
        rg.tensor([True]) >> rg.tensor([True])
    with raises(RuntimeError, "The size of tensor a (2) must match the size of tensor b (3)"):
        rg.tensor([1, 2]) << rg.tensor([1, 2, 3])
    with raises(RuntimeError, "The size of tensor a (0) must match the size of tensor b (3)"):
        rg.tensor([], dtype=rg.int64) & rg.tensor([1, 3, -2])


def test_bitwise_views_write_through():
    base = rg.tensor([[1, 2], [3, 4]])
    view = base[0]
    view ^= 3
    assert base.tolist() == [[2, 1], [3, 4]]


def test_bitwise_errors_as_torch():
    f = rg.tensor([1.0, 2.0])
    with raises(NotImplementedError, "\"bitwise_and_cpu\" not implemented for 'Float'"):
        f & f
    with raises(NotImplementedError, "\"bitwise_and_cpu\" not implemented for 'Float'"):
        rg.tensor([1, 2]) & 1.5
    with raises(NotImplementedError, "\"bitwise_xor_cpu\" not implemented for 'Double'"):
        rg.bitwise_xor(f.double(), rg.tensor([1, 2]))
    with raises(NotImplementedError, "\"bitwise_not_cpu\" not implemented for 'Float'"):
        f.bitwise_not()
    with raises(
        TypeError, "~ (operator.invert) is only implemented on integer and Boolean-type tensors"
    ):
        _ = ~f
    b = rg.tensor([True, False])
    with raises(RuntimeError, "result type Long can't be cast to the desired output type Bool"):
        b &= rg.tensor([1, 2])
    with raises(RuntimeError, "output with shape [2] doesn't match the broadcast shape [2, 2]"):
        rg.tensor([1, 2]).bitwise_or_(rg.tensor([[1, 2], [3, 4]]))
    # PyTorch says the same
    for exc, call in (
        (NotImplementedError, lambda: torch.tensor([1.0]) & torch.tensor([1.0])),
        (RuntimeError, lambda: torch.tensor([True, False]).__iand__(torch.tensor([1, 2]))),
    ):
        with pytest.raises(exc):
            call()


def test_bool_logical_operators_keep_working():
    a = rg.tensor([True, False, True, False])
    b = rg.tensor([True, True, False, False])
    assert (a & b).tolist() == [True, False, False, False]
    assert (a | b).tolist() == [True, True, True, False]
    assert (a ^ b).tolist() == [False, True, True, False]
    assert (~a).tolist() == [False, True, False, True]
    assert (a & True).dtype == rg.bool


# ----- in-place view changes ------------------------------------------------------------------


def test_in_place_views_match_torch():
    cases = [
        ("unsqueeze_", (0,), (2, 3)),
        ("unsqueeze_", (-1,), (2, 3)),
        ("squeeze_", (), (1, 2, 1, 3)),
        ("squeeze_", (2,), (1, 2, 1, 3)),
        ("squeeze_", ((0, 2),), (1, 2, 1, 3)),
        ("t_", (), (2, 3)),
        ("t_", (), (4,)),
        ("transpose_", (0, 2), (2, 3, 4)),
    ]
    for name, args, shape in cases:
        t = torch.arange(int(np.prod(shape)), dtype=torch.float32).reshape(shape)
        r = rg.arange(int(np.prod(shape)), dtype=rg.float32).reshape(shape)
        assert getattr(r, name)(*args) is r
        getattr(t, name)(*args)
        assert tuple(r.shape) == tuple(t.shape), name
        assert tuple(r.stride()) == tuple(t.stride()), name
        np.testing.assert_array_equal(r.numpy(), t.numpy())


def test_in_place_view_keeps_the_storage():
    x = rg.zeros(2, 3)
    row = x[1]
    x.t_()
    x[2, 1] = 5.0
    assert row.tolist() == [0.0, 0.0, 5.0]


def test_in_place_view_errors_as_torch():
    with raises(RuntimeError, "t_() expects a tensor with <= 2 dimensions, but self is 3D"):
        rg.zeros(2, 3, 4).t_()
    with raises(IndexError, "Dimension out of range"):
        rg.zeros(2, 3).transpose_(0, 3)
    leaf = rg.zeros(2, 3, requires_grad=True)
    msg = "a leaf Variable that requires grad is being used in an in-place operation."
    with raises(RuntimeError, msg):
        leaf.unsqueeze_(0)
    with pytest.raises(RuntimeError, match=msg):
        torch.zeros(2, 3, requires_grad=True).unsqueeze_(0)
    with rg.no_grad():
        leaf.unsqueeze_(0)
    assert leaf.shape == (1, 2, 3)


# ----- masked_fill on every dtype -------------------------------------------------------------


@pytest.mark.parametrize("dtype", ALL)
def test_masked_fill_every_dtype(dtype):
    t, r = _pair([0, 1, 2, 3], dtype)
    mt = torch.tensor([True, False, True, False])
    mr = rg.tensor([True, False, True, False])
    for value in (1, True) if dtype == "bool" else (1, 7):
        _same(r.masked_fill(mr, value), t.masked_fill(mt, value))
    r2, t2 = r.clone(), t.clone()
    r2.masked_fill_(mr, 1)
    t2.masked_fill_(mt, 1)
    _same(r2, t2)
    if dtype.startswith(("float", "bfloat")):
        assert_close(r.masked_fill(mr, 0.5).float(), t.masked_fill(mt, 0.5).float())


IN_PLACE_VIEWS_WITH_HISTORY = {
    "unsqueeze_": lambda y: y.unsqueeze_(0),
    "squeeze_all": lambda y: y.squeeze_(),
    "squeeze_dim": lambda y: y.squeeze_(1),
    "squeeze_dims": lambda y: y.squeeze_((1,)),
    "transpose_": lambda y: y.transpose_(0, 2),
    "swapaxes_": lambda y: y.swapaxes_(0, 1),
    "swapdims_": lambda y: y.swapdims_(0, 2),
    "t_": lambda y: y.squeeze_(1).t_(),
}


@pytest.mark.parametrize("case", sorted(IN_PLACE_VIEWS_WITH_HISTORY))
def test_in_place_view_change_of_a_result_with_history_as_torch(case):
    """On a tensor with history (not a leaf, not a view) the in-place view changes record
    PyTorch's in-place node and move ``_version``; the gradient flows back through them."""
    from conftest import node_name

    results = []
    for lib in (torch, rg):
        x = lib.arange(6, dtype=lib.float64).reshape(2, 1, 3).requires_grad_()
        y = x * 2
        out = IN_PLACE_VIEWS_WITH_HISTORY[case](y)
        weight = lib.arange(out.numel(), dtype=lib.float64).reshape(tuple(out.shape))
        (out * weight).sum().backward()
        results.append(
            (
                out is y,
                node_name(y.grad_fn),
                y._version,
                tuple(y.shape),
                y.stride(),
                x.grad.tolist(),
            )
        )
    assert results[1] == results[0]
