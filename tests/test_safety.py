"""Memory safety and crashes (issue 10): hostile sizes, empty views at an offset, NumPy
subclasses that lie about their layout, saved indices changed in place, allocations the
machine cannot hold, and panics that must never reach Python."""

import numpy as np
import pytest
import rustgrad as torch
from rustgrad import _core

OVERFLOW = "numel: integer multiplication overflow"


# ----- unchecked size arithmetic ---------------------------------------------------------


def test_matmul_of_an_overflowing_expand_raises():
    a = torch.ones(1, 1).expand(2**62 + 1, 1)
    with pytest.raises(
        RuntimeError,
        match=r"Storage size calculation overflowed with sizes=\[4611686018427387905, 4\]",
    ):
        a @ torch.ones(1, 4)


def test_broadcast_result_that_overflows_raises():
    with pytest.raises(RuntimeError, match=OVERFLOW):
        torch.zeros(1, 1).expand(2**62 + 1, 4) + 1


def test_expand_whose_numel_overflows_raises():
    with pytest.raises(RuntimeError, match=OVERFLOW):
        torch.zeros(1, 1).expand(2**62, 4)


def test_reduction_of_an_empty_dim_that_overflows_raises():
    with pytest.raises(RuntimeError, match="Stride calculation overflowed"):
        torch.zeros(0, 2**62, 4).sum(0)


def test_huge_expand_tolist_refuses_instead_of_panicking():
    with pytest.raises(RuntimeError, match="can't allocate memory"):
        torch.zeros(1).expand(2**63 - 1).tolist()


@pytest.mark.parametrize("size", [-2, -5])
def test_expand_to_a_negative_size_raises(size):
    with pytest.raises(RuntimeError, match=OVERFLOW):
        torch.zeros(1).expand(size)


def test_creation_whose_numel_overflows_raises():
    with pytest.raises(RuntimeError, match="Storage size calculation overflowed"):
        torch.zeros(2**62, 4)


# ----- zero-size views at an offset ------------------------------------------------------


def test_stack_of_empty_tensors():
    assert torch.stack([torch.ones(0), torch.ones(0)]).shape == (2, 0)


def _empty_row():
    return torch.zeros(2, 0, 4)[1]


@pytest.mark.parametrize(
    "op",
    [
        lambda v, m: v.add_(m.ones(4)),
        lambda v, m: v.clamp(0, 1),
        lambda v, m: v.mean(0),
        lambda v, m: v.sum(),
        lambda v, m: v.copy_(m.ones(0, 4)),
        lambda v, m: v[:, 1],
        lambda v, m: v.__setitem__((slice(None), 1), 3.0),
        lambda v, m: v.exp(),
        lambda v, m: v + v,
        lambda v, m: v.contiguous(),
        lambda v, m: v.tolist(),
        lambda v, m: m.stack([v, v]),
        lambda v, m: m.cat([v, v]),
    ],
)
def test_empty_view_at_an_offset_runs_like_pytorch(op):
    ref = pytest.importorskip("torch")

    got = op(torch.zeros(2, 0, 4)[1], torch)
    want = op(ref.zeros(2, 0, 4)[1], ref)
    if isinstance(want, ref.Tensor):
        assert tuple(got.shape) == tuple(want.shape)
        np.testing.assert_array_equal(got.detach().numpy(), want.numpy())
    else:
        assert got == want


def test_empty_bool_view_at_an_offset_in_place():
    x = torch.zeros(2, 0, 4, dtype=torch.bool)
    x[1].copy_(torch.tensor([True] * 4))
    x[1][:] = True
    assert x[1].sum().item() == 0
    try:  # bool + bool promotion is another item of issue 10; here: no panic
        x[1].add_(torch.tensor([True] * 4))
    except RuntimeError as e:
        assert "panic" not in str(e)


# ----- NumPy subclasses that lie about their layout --------------------------------------


class _LyingFlags:
    c_contiguous = True
    aligned = True
    writeable = True
    f_contiguous = True

    def __getitem__(self, key):
        return True


class Hostile(np.ndarray):
    """Claims contiguity and a bigger shape; its view/astype/__array__ return garbage."""

    @property
    def flags(self):
        return _LyingFlags()

    @property
    def strides(self):
        return (8,)

    @property
    def shape(self):
        return (10**6,)

    def view(self, *a, **k):
        return np.zeros(10**6, dtype=np.uint8)

    def astype(self, *a, **k):
        return np.zeros(10**6)

    def __array__(self, *a, **k):
        return np.zeros(10**6)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool", "float16", "int32"])
@pytest.mark.parametrize("make", [torch.from_numpy, torch.tensor])
def test_ndarray_subclass_layout_is_read_from_c(dtype, make):
    base = np.arange(24).reshape(4, 6)[:, ::2].astype(dtype)  # non-contiguous, 12 elements
    h = base.view(Hostile)
    t = make(h)
    assert tuple(t.shape) == (4, 3)
    np.testing.assert_array_equal(t.numpy(), base)


def test_subclass_sharing_memory_writes_only_its_own_elements():
    backing = np.zeros(8, dtype=np.float32)
    t = torch.from_numpy(backing[::2].view(Hostile))  # strided, claims contiguous: shared
    t.fill_(1.0)  # (through its real strides, as PyTorch's from_numpy shares it)
    np.testing.assert_array_equal(backing, [1, 0, 1, 0, 1, 0, 1, 0])
    backing[:] = 0
    t = torch.from_numpy(backing[:4].view(Hostile))  # contiguous, claims 10**6 elements
    assert tuple(t.shape) == (4,)
    t.fill_(1.0)
    np.testing.assert_array_equal(backing, [1, 1, 1, 1, 0, 0, 0, 0])


# ----- saved max/min indices are version-checked -----------------------------------------

INPLACE = (
    "one of the variables needed for gradient computation has been modified by an inplace operation"
)


@pytest.mark.parametrize("fn", ["max", "min"])
@pytest.mark.parametrize("shift", [5, 1])  # out of range, and in range (silently wrong before)
def test_changed_extreme_indices_raise_at_backward(fn, shift):
    x = torch.rand(3, 4, requires_grad=True)
    v, i = getattr(x, fn)(0)
    i.add_(shift)
    with pytest.raises(RuntimeError, match=INPLACE):
        v.sum().backward()


def test_unchanged_extreme_indices_still_give_the_gradient():
    x = torch.tensor([[1.0, 5.0], [3.0, 2.0]], requires_grad=True)
    v, _ = x.max(1, keepdim=True)
    v.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1], [1, 0]])


def test_index_kernels_refuse_out_of_range_indices():
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
        torch.ones(3)[torch.tensor([3])]
    x = torch.ones(3)
    with pytest.raises(IndexError):
        x[torch.tensor([-4])] = 2.0


# ----- allocations the machine cannot hold -----------------------------------------------

ALLOC = r"can't allocate memory: you tried to allocate \d+ bytes"


@pytest.mark.parametrize(
    "make",
    [
        lambda: torch.zeros(10**12),
        lambda: torch.ones(10**12),
        lambda: torch.empty(10**12),
        lambda: torch.full((10**12,), 2.0),
        lambda: torch.rand(10**12),
        lambda: torch.randn(10**12),
        lambda: torch.linspace(0, 1, 10**12),
        lambda: torch.arange(10**12),
        lambda: torch.eye(10**6),
        lambda: torch.ones(10**6).expand(10**6, 10**6) + 1,
        lambda: torch.ones(10**6).expand(10**6, 10**6).exp(),
        lambda: torch.ones(10**6).expand(10**6, 10**6).contiguous(),
        lambda: torch.ones(10**6, 1) @ torch.ones(1, 10**6),
    ],
)
def test_huge_allocations_are_refused_at_once(make):
    with pytest.raises(RuntimeError, match=ALLOC):
        make()


def test_zeros_refusal_names_the_bytes():
    with pytest.raises(RuntimeError, match="you tried to allocate 4000000000000 bytes"):
        torch.zeros(10**12)


# ----- no panic reaches Python -----------------------------------------------------------


def test_a_panic_in_the_core_is_a_runtime_error_naming_the_op():
    with pytest.raises(RuntimeError, match=r"debug_panic: internal error.*boom"):
        _core._debug_panic("boom")


def test_a_panic_is_not_a_base_exception():
    try:
        _core._debug_panic("x")
    except BaseException as e:  # noqa: BLE001 - PyO3's PanicException is a BaseException
        assert type(e) is RuntimeError


@pytest.mark.cuda
def test_huge_cuda_allocation_is_refused():
    with pytest.raises(RuntimeError, match="CUDA out of memory"):
        torch.zeros(10**12, device="cuda")
    # The device still works afterwards.
    assert torch.ones(3, device="cuda").sum().item() == 3


# ----- bool storage holding bytes other than 0 and 1 -------------------------------------
# Python can write any byte into a bool tensor's memory (through `numpy()`, or an array given
# to `from_numpy`); rustgrad stores bools as bytes and reads any nonzero byte as True, as
# PyTorch does. Each expression runs in both libraries on the same bytes.

RAW_BOOL_BYTES = [2, 0, 255, 1]

RAW_BOOL_EXPRS = [
    "b.sum()",
    "b.sum(0)",
    "b.long()",
    "b.float()",
    "b.to(m.float64)",
    "b.float().mean()",
    "x * b",
    "b & b",
    "b | b",
    "b ^ b",
    "b & m.tensor([True, True, False, True])",
    "~b",
    "b.any()",
    "b.all()",
    "b.max()",
    "x[b]",
    "b == True",
    "b == m.tensor([True] * 4)",
    "b != m.tensor([True] * 4)",
    "b + b",
    "b * b",
    "m.maximum(b, b)",
    "m.where(b, x, -x)",
    "b.clone()",
    "b.view(2, 2).t().long()",
    "m.stack([b, b])",
    "m.cat([b, b])",
    "b.tolist()",
    "b[0].item()",
    "bool(b[2])",
]


def _raw_bool(m):
    b = m.tensor([True, False, True, True])
    b.numpy().view(np.uint8)[:] = RAW_BOOL_BYTES
    return b


def _plain(v):
    """A result as Python values and a dtype name, comparable across the two libraries."""
    if hasattr(v, "tolist"):
        return v.tolist(), str(v.dtype).split(".")[-1]
    return v, type(v).__name__


@pytest.mark.parametrize("expr", RAW_BOOL_EXPRS)
def test_bool_bytes_other_than_0_and_1_read_as_pytorch(expr):
    pt = pytest.importorskip("torch")
    method = expr.split("(")[0].removeprefix("b.")
    if method.isidentifier() and not hasattr(torch.Tensor, method):
        pytest.skip(f"Tensor.{method} is not there yet")
    got, want = (
        _plain(eval(expr, {"m": m, "b": _raw_bool(m), "x": m.tensor([1.0, 2.0, 3.0, 4.0])}))
        for m in (torch, pt)
    )
    assert got == want


def test_bool_bytes_from_a_shared_array_read_as_pytorch():
    pt = pytest.importorskip("torch")
    results = []
    for m in (torch, pt):
        raw = np.array(RAW_BOOL_BYTES, dtype=np.uint8)
        b = m.from_numpy(raw.view(np.bool_))
        results.append((b.sum().item(), (~b).tolist(), b.float().tolist(), (b == True).tolist()))
    assert results[0] == results[1]


def test_bool_bytes_stay_as_written_in_shared_memory():
    # Reads normalise; the memory itself is not rewritten behind NumPy's back (as in PyTorch).
    b = _raw_bool(torch)
    assert b.sum().item() == 3
    assert b.numpy().view(np.uint8).tolist() == RAW_BOOL_BYTES


@pytest.mark.cuda
def test_bool_bytes_moved_to_cuda_read_as_true():
    b = _raw_bool(torch).to("cuda")
    assert b.sum().item() == 3
    assert (b == torch.tensor([True] * 4, device="cuda")).tolist() == [True, False, True, True]
    assert b.long().tolist() == [1, 0, 1, 1]


def test_size_zero_tensors_with_zero_strides_are_written_as_torch():
    """A tensor without elements shares nothing, whatever its strides: writes are no-ops, not
    PyTorch's internal-overlap refusal."""
    torch_ = pytest.importorskip("torch")
    for lib in (torch, torch_):
        y = lib.zeros(2, 0, 3).permute(2, 1, 0) * 1  # strides (1, 3, 0)
        y[0] = lib.tensor(1.0)
        v = lib.from_numpy(np.zeros((4, 0), dtype=np.float32))
        v.mul_(np.int64(-3))
        assert tuple(y.shape) == (3, 0, 2) and tuple(v.shape) == (4, 0)
