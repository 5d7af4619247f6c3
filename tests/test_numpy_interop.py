"""NumPy interop edge cases against PyTorch: bool arrays shared both ways, byte-swapped
arrays, and NumPy bools as operands and list elements (issue 10)."""

import numpy as np
import pytest
import rustgrad as rg

torch = pytest.importorskip("torch")


# ----- bool memory is shared like any other dtype ----------------------------------------


@pytest.mark.parametrize("m", [rg, torch], ids=["rustgrad", "torch"])
def test_bool_from_numpy_shares_memory_both_ways(m):
    a = np.array([True, False, True])
    t = m.from_numpy(a)
    a[1] = True
    assert t.tolist() == [True, True, True]
    t[0] = False
    assert a.tolist() == [False, True, True]


@pytest.mark.parametrize("m", [rg, torch], ids=["rustgrad", "torch"])
def test_bool_numpy_shares_memory_both_ways(m):
    t = m.tensor([True, False])
    a = t.numpy()
    a[1] = True
    assert t.tolist() == [True, True]
    t[0] = False
    assert a.tolist() == [False, True]


def test_bool_from_numpy_of_a_strided_array_copies_as_pytorch_refuses_nothing():
    a = np.array([True, False, True, False])[::2]
    assert rg.from_numpy(a).tolist() == torch.from_numpy(a).tolist() == [True, True]


# ----- byte-swapped arrays ----------------------------------------------------------------

SWAPPED = [">f4", ">f8", ">i8", ">i4", ">i2", ">u2", ">f2"]


def _outcome(f, arr):
    try:
        r = f(arr)
    except Exception as e:  # noqa: BLE001 - the exception is what is compared
        return type(e).__name__, str(e)
    return r.tolist(), str(r.dtype).split(".")[-1]


@pytest.mark.parametrize("name", ["from_numpy", "tensor", "as_tensor"])
@pytest.mark.parametrize("dt", SWAPPED)
def test_byte_swapped_arrays_as_pytorch(name, dt):
    if not hasattr(rg, name):
        pytest.skip(f"rustgrad.{name} is not there yet")
    arr = np.arange(3, dtype=dt)
    got = _outcome(getattr(rg, name), arr)
    want = _outcome(getattr(torch, name), arr)
    assert got == want
    assert got[0] == "ValueError"


@pytest.mark.parametrize("name", ["from_numpy", "tensor", "as_tensor"])
def test_little_endian_spelled_explicitly_is_native(name):
    if not hasattr(rg, name):
        pytest.skip(f"rustgrad.{name} is not there yet")
    arr = np.arange(3, dtype="<f4")
    assert _outcome(getattr(rg, name), arr) == _outcome(getattr(torch, name), arr)


# ----- NumPy bools as operands and list elements ------------------------------------------

NUMPY_BOOL_EXPRS = [
    "np.bool_(True) & m.tensor([1, 2])",
    "m.tensor([1, 2]) & np.bool_(True)",
    "m.tensor([1, 2]) | np.bool_(False)",
    "np.bool_(True) & m.tensor([True, False])",
    "m.tensor([True, False]) & np.bool_(True)",
    "m.tensor([True]) | np.bool_(False)",
    "np.bool_(False) | m.tensor([True])",
    "m.tensor([True]) ^ np.bool_(True)",
    "m.tensor([1.5]) & np.bool_(True)",
    "m.tensor([1.5], dtype=m.float64) & np.bool_(True)",
    "m.tensor(True) & np.bool_(True)",
    "m.tensor([True]) & 1.5",
    "m.tensor([True]) & np.float32(1)",
    "m.tensor([True]) & np.float64(1)",
    "m.tensor([1.5]) & m.tensor([True])",
    "m.tensor([True]) & m.tensor([True])",
    "m.tensor([np.bool_(True), -5])",
    "m.tensor([np.bool_(True), np.int64(5)])",
    "m.tensor([[np.bool_(True)], [3]])",
    "m.tensor([np.bool_(False), True, 3])",
    "m.tensor([np.bool_(True)], dtype=m.int64)",
    "m.tensor([np.bool_(True), -5], dtype=m.float32)",
    "m.tensor([np.bool_(True), 2.5])",
    "m.tensor([np.bool_(True), np.bool_(False)])",
    "m.tensor([True, 2])",
    "m.tensor(np.bool_(True))",
    "np.bool_(True) + m.tensor([1.0])",
    "np.bool_(True) * m.tensor([2])",
    "m.tensor([1, 2]) == np.bool_(True)",
]


@pytest.mark.parametrize("expr", NUMPY_BOOL_EXPRS)
def test_numpy_bool_operands_as_pytorch(expr):
    got, want = (_outcome(lambda m: eval(expr, {"m": m, "np": np}), m) for m in (rg, torch))
    assert got == want
