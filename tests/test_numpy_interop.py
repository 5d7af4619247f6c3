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


# ----- from_numpy shares any layout NumPy has --------------------------------------------


def _strided_arrays():
    x = np.arange(24.0).reshape(2, 3, 4)
    return {
        "every_other": np.arange(12.0)[::2],
        "transposed": x.transpose(2, 0, 1),
        "column_major_batches": np.ascontiguousarray(np.swapaxes(x, -1, -2)).swapaxes(-1, -2),
        "sliced": x[:, 1:, ::3],
        "int32_columns": np.arange(12, dtype=np.int32).reshape(3, 4)[:, 1],
        "bool_strided": np.array([True, False, True, False])[::2],
        "empty_strided": np.zeros((2, 0, 3))[:, :, ::2],
        "zero_d": np.array(2.5),
    }


@pytest.mark.parametrize("name", list(_strided_arrays()))
def test_from_numpy_shares_strided_arrays_as_pytorch(name):
    results = []
    for m in (rg, torch):
        a = _strided_arrays()[name]
        t = m.from_numpy(a)
        before = t.tolist()
        if a.size:
            a[(0,) * a.ndim] = 7
            t.add_(1) if a.dtype != np.bool_ else t.logical_not_()
        results.append((before, t.tolist(), a.tolist(), t.stride(), t.is_contiguous()))
    assert results[0] == results[1]


@pytest.mark.parametrize(
    "make",
    [
        lambda: np.arange(6.0)[::-1],
        lambda: np.zeros(3, dtype=[("a", "f8"), ("b", "i4")])["a"],
    ],
    ids=["negative_stride", "unaligned_stride"],
)
def test_from_numpy_refuses_strides_as_pytorch(make):
    outcomes = []
    for m in (rg, torch):
        with pytest.raises(ValueError) as info:
            m.from_numpy(make())
        outcomes.append(str(info.value))
    assert outcomes[0] == outcomes[1]
    with pytest.raises(ValueError):
        rg.as_tensor(np.arange(6.0)[::-1])


def test_from_numpy_of_a_read_only_array_copies():
    # (PyTorch shares it with a warning that writes are undefined; rustgrad copies: writing
    # through a tensor must never touch read-only memory)
    a = np.broadcast_to(np.ones(3), (2, 3))
    t = rg.from_numpy(a)
    t.add_(1)
    assert a.tolist() == [[1.0] * 3] * 2 and t.tolist() == [[2.0] * 3] * 2


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


# ----- dtypes rustgrad has no counterpart for -------------------------------------------------


def test_complex_arrays_are_refused_not_truncated():
    for make in (rg.from_numpy, rg.tensor, rg.as_tensor):
        with pytest.raises(NotImplementedError, match="complex"):
            make(np.array([1 + 2j]))


@pytest.mark.parametrize("make", ["from_numpy", "tensor"])
@pytest.mark.parametrize(
    "array",
    [np.array(["a"]), np.array([object()]), np.array([np.datetime64("2020-01-01")])],
    ids=["str", "object", "datetime"],
)
def test_arrays_of_non_numbers_are_refused_in_pytorchs_words(make, array):
    messages = []
    for lib in (rg, torch):
        with pytest.raises(TypeError) as info:
            getattr(lib, make)(array)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_uint64_arrays_keep_their_values_or_are_refused():
    t = rg.tensor(np.array([2**63 - 1, 5], dtype=np.uint64))
    assert t.dtype == rg.int64 and t.tolist() == [2**63 - 1, 5]
    with pytest.raises(RuntimeError, match="without overflow"):
        rg.tensor(np.array([2**63 + 5], dtype=np.uint64))


def test_a_list_of_arrays_is_stacked_with_pytorchs_warning():
    results = []
    for lib in (rg, torch):
        with pytest.warns(UserWarning, match="list of numpy.ndarrays is extremely slow"):
            t = lib.tensor([np.ones(2), np.zeros(2)])
        u = lib.tensor([np.ones(2, dtype=np.float32), np.arange(2.0, dtype=np.float32)])
        results.append((t.tolist(), str(t.dtype).split(".")[-1], str(u.dtype).split(".")[-1]))
    assert results[0] == results[1]


@pytest.mark.parametrize("dtype", [np.float64, np.bool_, np.int64])
def test_empty_arrays_of_stride_zero_compute_as_torch(dtype):
    """NumPy gives an empty array stride 0; a tensor sharing it has no element to read."""
    outcomes = []
    for lib in (rg, torch):
        v = lib.from_numpy(np.array([], dtype=dtype))
        stacked = lib.stack([v, lib.cat([v], -1), v], -2)
        results = [
            lib.le(stacked, v),
            v.lt(lib.where(v > 0, v, lib.zeros(2, 1, 1, dtype=lib.bool))),
            lib.ones_like(v).minimum(lib.where(v > 0, v, lib.stack([v], -1))),
            v + 1,
            v.sum(),
        ]
        outcomes.append([(tuple(r.shape), r.tolist()) for r in results] + [v.stride()])
    assert outcomes[0] == outcomes[1]
