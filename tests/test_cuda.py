"""CUDA: what a user sees without a GPU (checked everywhere), and with one, every sample of
every op in the op table (``tests/opinfo.py``) run on the device and compared with the same op
on the CPU, values and gradients, out of place and in place.

Tests marked ``cuda`` skip where no GPU can be used (see conftest); those marked ``no_gpu`` skip
where one can. The op table's gradcheck and gradgradcheck (``test_ops.py``) and the composite
gradcheck and PyTorch-parity tests run on the GPU too.

Tolerances for CPU-vs-CUDA comparisons: float64 ``rtol=1e-10`` (the two backends may sum in
another order and use other libm routines, a few ulp apart); float32 ``rtol=1e-5``. Where an
order-independent error bound exists (float32 sums and matrix products), results are checked
against a float64 reference with that bound instead.
"""

import os
import subprocess
import sys
import zlib

import numpy as np
import pytest
import rustgrad as rg
import rustgrad.nn.functional as F
from conftest import HAS_CUDA, assert_close, node_name, raises
from opinfo import (
    DEVICE_TOL,
    Arg,
    assert_same_values,
    dtype_name,
    inplace_on_views,
    inplace_with_grad,
    op_params,
    run,
    tolerance,
    variant_params,
)
from rustgrad import _core, nn

cuda = pytest.mark.cuda
no_gpu = pytest.mark.skipif(HAS_CUDA, reason="a CUDA device is available")

TOL = {
    "float64": {"rtol": 1e-10, "atol": 1e-12},
    "float32": {"rtol": 1e-5, "atol": 1e-5},
}
DTYPES = {"float32": rg.float32, "float64": rg.float64, "int64": rg.int64, "bool": rg.bool}
MIXED_DEVICES = "Expected all tensors to be on the same device, but found at least two devices"
U32 = 2.0**-24  # unit roundoff of float32


# ================================================================= everywhere


def _python(code, tmp_path, **env):
    """Run ``code`` in a fresh interpreter (cwd ``tmp_path``); returns the CompletedProcess."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=dict(os.environ, **env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_import_and_queries_never_raise(tmp_path):
    code = (
        "import rustgrad, rustgrad.cuda as c\n"
        "c.manual_seed(1); c.manual_seed_all(2); rustgrad.manual_seed(3); c.empty_cache()\n"
        "print(c.is_available(), c.device_count(), c.current_device())\n"
    )
    dirs = [str(tmp_path / "missing"), str(tmp_path), os.environ.get("RUSTGRAD_CUDA_LIB_DIR", "")]
    proc = _python(code, tmp_path, RUSTGRAD_CUDA_LIB_DIR=os.pathsep.join(dirs))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(HAS_CUDA), str(rg.cuda.device_count()), "0"]


def test_unloadable_libraries_never_panic(tmp_path):
    # Files that look like the CUDA libraries but are not shared objects come first in the
    # search: they must be skipped or reported, never crash the process.
    for name in ("libnvrtc.so.13", "libcublas.so.13", "libcublasLt.so.13", "libcuda.so.1"):
        (tmp_path / name).write_bytes(b"not a shared object")
    code = (
        "import rustgrad\n"
        "from rustgrad import _core\n"
        "print(rustgrad.cuda.is_available())\n"
        "try:\n"
        "    _core._cuda_compile_kernels('sm_80')\n"
        "    print('compiled')\n"
        "except RuntimeError as err:\n"
        "    assert str(err)\n"
        "    print('RuntimeError')\n"
    )
    dirs = [str(tmp_path), os.environ.get("RUSTGRAD_CUDA_LIB_DIR", "")]
    proc = _python(code, tmp_path, RUSTGRAD_CUDA_LIB_DIR=os.pathsep.join(dirs))
    assert proc.returncode == 0, proc.stderr
    available, compiled = proc.stdout.split()
    assert available in ("True", "False")
    assert compiled in ("compiled", "RuntimeError")


def test_reason_is_empty_exactly_when_available():
    reason = _core._cuda_unavailable_reason()
    assert isinstance(reason, str)
    assert (reason == "") == rg.cuda.is_available()
    assert (rg.cuda.device_count() > 0) == rg.cuda.is_available()
    assert rg.cuda.current_device() == 0


def test_library_dirs_search_order(tmp_path):
    site1, site2 = tmp_path / "site1", tmp_path / "site2"
    for folder in [
        site1 / "nvidia" / "cuda_nvrtc" / "lib",
        site1 / "nvidia" / "cu13" / "lib",
        site1 / "nvidia" / "cublas" / "lib",
        site1 / "nvidia" / "nolib",
        site2 / "nvidia" / "cu13" / "lib",
        tmp_path / "env1",
    ]:
        folder.mkdir(parents=True)
    (site1 / "nvidia" / "__init__.py").write_text("")  # files are not folders to search
    env = {"RUSTGRAD_CUDA_LIB_DIR": os.pathsep.join([str(tmp_path / "env1"), "", "/env2"])}
    path = ["", str(tmp_path / "absent"), str(site1), str(site2), str(site1)]
    assert rg.cuda._library_dirs(env, path) == [
        str(tmp_path / "env1"),
        "/env2",
        str(site1 / "nvidia" / "cu13" / "lib"),
        str(site1 / "nvidia" / "cublas" / "lib"),
        str(site1 / "nvidia" / "cuda_nvrtc" / "lib"),
        str(site2 / "nvidia" / "cu13" / "lib"),
    ]
    assert rg.cuda._library_dirs({}, []) == []


def test_device_arguments():
    index = rg.cuda._device_index
    assert index(None) is None
    assert index(0) == 0 and index(2) == 2
    assert index("cuda") is None
    assert index("cuda:1") == 1
    assert index(rg.device("cuda", 3)) == 3
    assert index(rg.device("cuda:0")) == 0
    for bad in ("cpu", rg.device("cpu")):
        with raises(ValueError, "Expected a cuda device, but got: cpu"):
            index(bad)
        with raises(ValueError, "Expected a cuda device"):
            rg.cuda.memory_allocated(bad)
    for bad in (1.5, True, [0]):
        with raises(TypeError, "device must be"):
            index(bad)


# ================================================================= without a GPU


@no_gpu
def test_queries_without_gpu():
    assert rg.cuda.is_available() is False
    assert rg.cuda.device_count() == 0
    assert _core._cuda_unavailable_reason().strip()


@no_gpu
@pytest.mark.parametrize(
    "query",
    [
        rg.cuda.synchronize,
        rg.cuda.memory_allocated,
        rg.cuda.max_memory_allocated,
        rg.cuda.reset_peak_memory_stats,
        rg.cuda.memory_reserved,
        rg.cuda.get_device_name,
    ],
    ids=lambda f: f.__name__,
)
def test_device_queries_raise_the_reason(query):
    with raises(RuntimeError, _core._cuda_unavailable_reason()):
        query()
    with raises(RuntimeError, _core._cuda_unavailable_reason()):
        query(0)


@no_gpu
def test_seeding_and_empty_cache_do_not_raise():
    rg.cuda.manual_seed(0)
    rg.cuda.manual_seed_all(1)
    rg.cuda.empty_cache()
    rg.manual_seed(5)
    a = rg.rand(3)
    rg.manual_seed(5)
    assert rg.rand(3).tolist() == a.tolist()  # the CPU generator is still seeded


def _cpu_tensor():
    return rg.tensor([1.0, 2.0])


TO_CUDA = {
    "cuda()": lambda: _cpu_tensor().cuda(),
    "cuda(0)": lambda: _cpu_tensor().cuda(0),
    "to('cuda')": lambda: _cpu_tensor().to("cuda"),
    "to('cuda:0')": lambda: _cpu_tensor().to("cuda:0"),
    "to(device)": lambda: _cpu_tensor().to(rg.device("cuda:0")),
    "to(device=)": lambda: _cpu_tensor().to(device="cuda"),
    "to('cuda', dtype)": lambda: _cpu_tensor().to("cuda", rg.float64),
    "requires_grad.cuda()": lambda: _cpu_tensor().requires_grad_().cuda(),
    "tensor": lambda: rg.tensor([1.0], device="cuda"),
    "zeros": lambda: rg.zeros(2, device="cuda"),
    "zeros(device)": lambda: rg.zeros(2, device=rg.device("cuda", 0)),
    "ones": lambda: rg.ones(2, 3, device="cuda"),
    "full": lambda: rg.full((2,), 1.5, device="cuda"),
    "empty": lambda: rg.empty(2, device="cuda"),
    "zeros_like": lambda: rg.zeros_like(_cpu_tensor(), device="cuda"),
    "ones_like": lambda: rg.ones_like(_cpu_tensor(), device="cuda"),
    "rand": lambda: rg.rand(2, device="cuda"),
    "randn": lambda: rg.randn(2, device="cuda"),
    "arange": lambda: rg.arange(3, device="cuda"),
    "linspace": lambda: rg.linspace(0, 1, 3, device="cuda"),
    "eye": lambda: rg.eye(2, device="cuda"),
    "Linear.cuda()": lambda: nn.Linear(2, 2).cuda(),
    "Linear.to('cuda')": lambda: nn.Linear(2, 2).to("cuda"),
    "Linear(device=)": lambda: nn.Linear(2, 2, device="cuda"),
    "load(map_location)": lambda: _load_to_cuda(),
}


def _load_to_cuda():
    import io

    buf = io.BytesIO()
    rg.save({"x": _cpu_tensor()}, buf)
    buf.seek(0)
    return rg.load(buf, map_location="cuda")


@no_gpu
@pytest.mark.parametrize("case", list(TO_CUDA))
def test_moving_to_cuda_raises_the_reason(case):
    reason = _core._cuda_unavailable_reason()
    assert reason.strip()
    with raises(RuntimeError, reason):
        TO_CUDA[case]()


@no_gpu
def test_failed_module_move_leaves_it_on_the_cpu():
    lin = nn.Linear(2, 2)
    with raises(RuntimeError):
        lin.cuda()
    assert all(not p.is_cuda and isinstance(p, nn.Parameter) for p in lin.parameters())
    assert lin(rg.ones(1, 2)).shape == (1, 2)


# ================================================================= on a GPU: every op vs the CPU

# Every sample of every op in the op table (tests/opinfo.py), run on the device and on the
# CPU: values, dtypes, gradients and grad_fn names must agree (DEVICE_TOL; integer and bool
# results exactly).
CUDA = [pytest.param("cuda", marks=cuda)]


@pytest.mark.parametrize("op, dtype, sample, device", op_params("device", devices=CUDA))
def test_op_matches_cpu(op, dtype, sample, device):
    cpu, dev = run(op.primary, sample, rg, "cpu"), run(op.primary, sample, rg, device)
    assert len(dev.outputs) == len(cpu.outputs)
    for c, d in zip(cpu.outputs, dev.outputs):
        assert str(d.device) == "cuda:0" and d.is_cuda
        assert d.dtype == c.dtype and d.shape == c.shape
        assert d.requires_grad == c.requires_grad
        assert node_name(d.grad_fn) == node_name(c.grad_fn)
        assert_same_values(d, c, tolerance(sample, dtype_name(c.dtype), DEVICE_TOL, op))
    for c, d in zip(cpu.leaves, dev.leaves):
        assert d.is_cuda
        assert (d.grad is None) == (c.grad is None)
        if c.grad is not None:
            assert str(d.grad.device) == "cuda:0"
            assert d.grad.dtype == c.grad.dtype
            tol = tolerance(sample, dtype_name(c.grad.dtype), DEVICE_TOL, op)
            assert_same_values(d.grad, c.grad, tol)


# (the first in-place variant of each op: ``x += y`` runs the kernels of ``x.add_(y)``)
@pytest.mark.parametrize(
    "op, variant, sample, device", variant_params("device_inplace", "inplace[0]", CUDA)
)
def test_inplace_matches_cpu(op, variant, sample, device):
    cpu = inplace_on_views(variant, sample, rg, "cpu")
    dev = inplace_on_views(variant, sample, rg, device)
    if isinstance(cpu, Exception):
        assert isinstance(dev, type(cpu)), f"{dev!r}, expected {cpu!r}"
        return
    assert not isinstance(dev, BaseException), f"the CPU did not raise: {dev!r}"
    target, result, version = dev
    assert result is target and target.is_cuda
    assert target._version > version
    assert target.dtype == cpu[0].dtype
    tol = tolerance(sample, dtype_name(target.dtype), DEVICE_TOL, op)
    assert_same_values(target, cpu[0], tol)
    first = sample.args[0]
    # with gradients (float64: the float32 kernels ran above)
    if (
        op.differentiable
        and isinstance(first, Arg)
        and first.grad
        and dtype_name(target.dtype) == "float64"
    ):
        try:
            cpu_out, cpu_leaves = inplace_with_grad(variant, sample, rg, "cpu")
        except RuntimeError as err:  # (a refused backward: in-place celu with alpha < 0)
            with raises(RuntimeError, str(err)):
                inplace_with_grad(variant, sample, rg, device)
            return
        out, leaves = inplace_with_grad(variant, sample, rg, device)
        assert out.is_cuda and node_name(out.grad_fn) == node_name(cpu_out.grad_fn)
        for d, c in zip(leaves, cpu_leaves):
            assert (d.grad is None) == (c.grad is None)
            if c.grad is not None:
                assert d.grad.is_cuda
                assert_same_values(d.grad, c.grad, tol)


def _index(t, values):
    return rg.tensor(values, device=t.device)


def _leaves(arrays, device):
    return [rg.tensor(a).to(device).requires_grad_() for a in arrays]


@cuda
def test_noncontiguous_leaves_on_device():
    rng = np.random.default_rng(3)
    base_a = rng.standard_normal((4, 3))
    base_b = rng.standard_normal((3, 8))
    results = {}
    for dev in ("cpu", "cuda"):
        a = rg.tensor(base_a).to(dev).t().detach().requires_grad_()
        b = rg.tensor(base_b).to(dev)[:, ::2].detach().requires_grad_()
        assert not a.is_contiguous() and not b.is_contiguous() and a.is_leaf
        out = (a * b).exp().sum(1) + (a @ b.t()).tanh().sum(1) + rg.where(a > b, a, b).sum(1)
        out.backward(rg.ones(3, dtype=rg.float64).to(dev))
        results[dev] = (out, a.grad, b.grad)
    for cpu_t, dev_t in zip(results["cpu"], results["cuda"]):
        assert dev_t.is_cuda
        assert_close(dev_t.cpu(), cpu_t, **TOL["float64"])


# ----------------------------------------------------------------- big tensors

BIG = (1025, 1031)  # about a million elements, neither side a multiple of a block size

BIG_OPS = {
    "add_bcast": lambda a, b: a[:, :1] + b[:1],
    "exp_transposed": lambda a, b: a.t().exp() * b.t(),
    "tanh_strided": lambda a, b: a[::2, 1::3].tanh(),
    "sum": lambda a, b: (a * b).sum(),
    "sum_dim0": lambda a, b: a.sum(0),
    "sum_dim1": lambda a, b: a.sum(1, keepdim=True),
    "mean_transposed": lambda a, b: a.t().mean(1),
    "max_dim": lambda a, b: a.max(1).values + a.min(0).values.sum(),
    "max_all": lambda a, b: a.max() - b.min(),
    "softmax": lambda a, b: a.softmax(1),
    "log_softmax_dim0": lambda a, b: a.log_softmax(0),
    "matmul": lambda a, b: a[:257, :129] @ b[:129, :263],
    "index_rows": lambda a, b: a[_index(a, list(range(1024, -1, -3)))],
    "cat": lambda a, b: rg.cat([a[:, :1000], b.t()[:1025, :31]], 1),
}


@cuda
@pytest.mark.parametrize("case", list(BIG_OPS))
def test_big_op_matches_cpu_float64(case):
    rng = np.random.default_rng(zlib.crc32(case.encode()))
    arrays = [rng.standard_normal(BIG) for _ in range(2)]
    cpu_leaves, dev_leaves = _leaves(arrays, "cpu"), _leaves(arrays, "cuda")
    cpu_out, dev_out = BIG_OPS[case](*cpu_leaves), BIG_OPS[case](*dev_leaves)
    tol = {"rtol": 1e-10, "atol": 1e-11}  # sums of up to a million terms
    assert dev_out.is_cuda and dev_out.shape == cpu_out.shape
    assert_close(dev_out.cpu(), cpu_out, **tol)
    upstream = rng.standard_normal(tuple(cpu_out.shape))
    cpu_out.backward(rg.tensor(upstream))
    dev_out.backward(rg.tensor(upstream).cuda())
    for cpu_leaf, dev_leaf in zip(cpu_leaves, dev_leaves):
        if cpu_leaf.grad is None:  # an input the op does not use
            assert dev_leaf.grad is None
            continue
        assert dev_leaf.grad.is_cuda
        assert_close(dev_leaf.grad.cpu(), cpu_leaf.grad, **tol)


@cuda
def test_big_float32_elementwise_matches_cpu():
    rng = np.random.default_rng(11)
    a = rng.standard_normal(BIG).astype(np.float32)
    b = rng.standard_normal(BIG).astype(np.float32)

    def ops(x, y):
        return [
            x + y,
            x * y,
            (x * 0.5).exp(),
            x.relu(),
            x.t().sigmoid(),
            (y.abs() + 0.5).log(),
            rg.where(x > y, x, y * 2.0),
            x[:, 3:-3:2] - y[:, 3:-3:2].t().t(),
            x.softmax(1),
        ]

    cpu = ops(rg.tensor(a), rg.tensor(b))
    dev = ops(rg.tensor(a).cuda(), rg.tensor(b).cuda())
    for k, (c, d) in enumerate(zip(cpu, dev)):
        assert d.is_cuda and d.dtype == rg.float32, k
        # softmax values are about 1e-3: a relative comparison only
        assert_close(d.cpu(), c, rtol=1e-5, atol=0.0 if k == 8 else 1e-6)


@cuda
def test_float32_sums_within_the_rounding_bound():
    # |computed - exact| <= n * u * sum(|x|) for any order of summation.
    rng = np.random.default_rng(12)
    x = rng.standard_normal(BIG).astype(np.float32)
    x64 = x.astype(np.float64)
    t = rg.tensor(x).cuda()
    for out, exact, absum, n in [
        (t.sum(), x64.sum(), np.abs(x64).sum(), x.size),
        (t.sum(0), x64.sum(0), np.abs(x64).sum(0), BIG[0]),
        (t.sum(1), x64.sum(1), np.abs(x64).sum(1), BIG[1]),
        (t.t().mean(0), x64.mean(1), np.abs(x64).mean(1), BIG[1]),
    ]:
        assert out.is_cuda and out.dtype == rg.float32
        err = np.abs(out.cpu().numpy().astype(np.float64) - exact)
        assert (err <= (n + 2) * U32 * absum).all(), (err / absum).max()


@cuda
@pytest.mark.parametrize("shape", [(257, 129, 263), (64, 1024, 64), (8, 3, 5, 7)], ids=str)
def test_float32_matmul_is_true_float32(shape):
    # The bound above, per output element: TF32 inputs (10-bit mantissas) would break it
    # (where k is small enough: their error grows as sqrt(k), the bound as k).
    *batch, m, k, n = shape
    rng = np.random.default_rng(13)
    a = rng.standard_normal((*batch, m, k)).astype(np.float32)
    b = rng.standard_normal((*batch, k, n)).astype(np.float32)
    exact = a.astype(np.float64) @ b.astype(np.float64)
    bound = (k + 2) * U32 * (np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64))
    for dev in ("cpu", "cuda"):
        out = rg.tensor(a).to(dev) @ rg.tensor(b).to(dev)
        assert out.device.type == dev and out.dtype == rg.float32
        err = np.abs(out.cpu().numpy().astype(np.float64) - exact)
        assert (err <= bound).all(), f"{dev}: worst error/bound {(err / bound).max():.3g}"


@cuda
def test_empty_tensors_on_device():
    empty = rg.zeros(0, 3, device="cuda")
    assert (empty + 1.0).shape == (0, 3)
    assert (empty.exp() * empty).is_cuda
    assert empty.sum(0).cpu().tolist() == [0.0, 0.0, 0.0]
    assert (empty @ rg.ones(3, 4, device="cuda")).shape == (0, 4)
    product = rg.ones(2, 0, device="cuda") @ rg.ones(0, 3, device="cuda")
    assert product.is_cuda and product.cpu().tolist() == [[0.0] * 3] * 2
    joined = rg.cat([empty, rg.ones(2, 3, device="cuda")])
    assert joined.is_cuda and joined.cpu().tolist() == [[1.0] * 3] * 2
    assert rg.zeros(0, device="cuda").cpu().tolist() == []


# ----------------------------------------------------------------- in-place ops


@cuda
def test_inplace_after_save_is_caught_on_device():
    x = rg.randn(3, device="cuda", requires_grad=True)
    y = x.exp()
    z = y * y
    y.add_(1.0)
    with raises(RuntimeError, "modified by an inplace operation"):
        z.sum().backward()


# ================================================================= devices, moves, creation


@cuda
@pytest.mark.parametrize("dtype", list(DTYPES))
def test_round_trip_keeps_values_and_dtype(dtype):
    rng = np.random.default_rng(0)
    if dtype == "int64":
        arr = rng.integers(-(2**62), 2**62, (3, 5))
    elif dtype == "bool":
        arr = rng.random((3, 5)) < 0.5
    else:
        arr = rng.standard_normal((3, 5)).astype(dtype)
        arr.flat[:4] = [np.inf, -np.inf, np.nan, -0.0]
    x = rg.tensor(arr)
    y = x.cuda()
    assert y.is_cuda and not x.is_cuda
    assert str(y.device) == "cuda:0" and y.device.type == "cuda" and y.device.index == 0
    assert y.device == rg.device("cuda:0")
    assert y.dtype == DTYPES[dtype] and y.shape == x.shape
    back = y.cpu()
    assert not back.is_cuda and str(back.device) == "cpu"
    assert back.dtype == DTYPES[dtype]
    np.testing.assert_array_equal(back.numpy(), arr)
    if dtype.startswith("float"):
        assert np.signbit(back.numpy().flat[3])  # -0.0 stays negative
    # non-contiguous sources and views both ways
    np.testing.assert_array_equal(x.t().cuda().cpu().numpy(), arr.T)
    np.testing.assert_array_equal(x[:, ::2].cuda().cpu().numpy(), arr[:, ::2])
    np.testing.assert_array_equal(y[1:, 1::2].cpu().numpy(), arr[1:, 1::2])
    np.testing.assert_array_equal(y.t().cpu().numpy(), arr.T)
    if not dtype.startswith("float"):  # (nan != nan in lists)
        assert y.tolist() == arr.tolist()


@cuda
def test_to_and_cuda_variants():
    x = rg.tensor([1.0, 2.0])
    target = rg.zeros(1, device="cuda")
    for y in [
        x.to("cuda"),
        x.to("cuda:0"),
        x.to(rg.device("cuda:0")),
        x.to(rg.device("cuda", 0)),
        x.to(device="cuda"),
        x.cuda(),
        x.cuda(0),
        x.cuda("cuda:0"),
        x.cuda(rg.device("cuda")),
        x.to(target),
    ]:
        assert str(y.device) == "cuda:0" and y.dtype == rg.float32
        assert y.cpu().tolist() == [1.0, 2.0]
    both = x.to("cuda", rg.float64)
    assert both.is_cuda and both.dtype == rg.float64
    like = x.to(rg.zeros(1, dtype=rg.float64, device="cuda"))
    assert like.is_cuda and like.dtype == rg.float64
    on = x.cuda()
    assert on.cuda() is on and on.to("cuda") is on and on.to(on) is on
    assert x.cpu() is x and x.to("cpu") is x
    assert on.cpu() is not on and not on.cpu().is_cuda
    for cast, dtype in [
        (on.double(), rg.float64),
        (on.long(), rg.int64),
        (on.bool(), rg.bool),
        (on.to(rg.float64).float(), rg.float32),
        (on.to(dtype=rg.int64), rg.int64),
    ]:
        assert cast.is_cuda and cast.dtype == dtype
    with raises(RuntimeError):  # an ordinal past the last device
        x.to(f"cuda:{rg.cuda.device_count()}")


@cuda
def test_moves_are_differentiable():
    x = rg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.cuda() * rg.tensor([2.0, 3.0, 4.0], device="cuda")
    assert y.is_cuda and y.requires_grad
    assert node_name(y.grad_fn.next_functions[0][0]) == "ToCopyBackward0"
    y.sum().backward()
    assert not x.grad.is_cuda and x.grad.tolist() == [2.0, 3.0, 4.0]

    w = rg.tensor([1.0, 2.0], device="cuda", requires_grad=True)
    (w.cpu() ** 2).sum().backward()
    assert w.grad.is_cuda and w.grad.cpu().tolist() == [2.0, 4.0]

    z = rg.tensor([0.5], dtype=rg.float64, requires_grad=True)
    (z.to("cuda", rg.float32) * 4.0).sum().backward()
    assert z.grad.dtype == rg.float64 and not z.grad.is_cuda and z.grad.tolist() == [4.0]


CREATION = {
    "tensor_nested": lambda d: rg.tensor([[1.0, 2.0], [3.0, 4.0]], device=d),
    "tensor_int": lambda d: rg.tensor([1, 2, 3], device=d),
    "tensor_bool": lambda d: rg.tensor([True, False], device=d),
    "tensor_numpy": lambda d: rg.tensor(np.arange(6.0).reshape(2, 3), device=d),
    "tensor_0dim": lambda d: rg.tensor(3.5, device=d),
    "tensor_dtype": lambda d: rg.tensor([1, 2], dtype=rg.float64, device=d),
    "tensor_device_object": lambda d: rg.tensor([1.0], device=rg.device(d)),
    "zeros": lambda d: rg.zeros(2, 3, device=d),
    "zeros_tuple_int": lambda d: rg.zeros((2, 3), dtype=rg.int64, device=d),
    "ones": lambda d: rg.ones(4, device=d),
    "ones_bool": lambda d: rg.ones(2, dtype=rg.bool, device=d),
    "full": lambda d: rg.full((2, 3), 1.5, device=d),
    "full_int": lambda d: rg.full((2,), 7, device=d),
    "zeros_like": lambda d: rg.zeros_like(rg.ones(2, 3, dtype=rg.float64), device=d),
    "ones_like": lambda d: rg.ones_like(rg.ones(2, dtype=rg.int64), device=d),
    "arange": lambda d: rg.arange(5, device=d),
    "arange_float": lambda d: rg.arange(0, 1, 0.125, device=d),
    "arange_float64": lambda d: rg.arange(-3, 3, 0.5, dtype=rg.float64, device=d),
    "linspace": lambda d: rg.linspace(-1, 1, 7, device=d),
    "eye": lambda d: rg.eye(3, 4, device=d),
    "eye_float64": lambda d: rg.eye(3, dtype=rg.float64, device=d),
}


@cuda
@pytest.mark.parametrize("case", list(CREATION))
def test_creation_on_device(case):
    cpu, dev = CREATION[case]("cpu"), CREATION[case]("cuda")
    assert dev.is_cuda and str(dev.device) == "cuda:0"
    assert dev.dtype == cpu.dtype and dev.shape == cpu.shape
    if cpu.is_floating_point():  # a kernel may compute arange / linspace a rounding apart
        assert_close(dev.cpu(), cpu, rtol=1e-6, atol=1e-7)
    else:
        assert dev.tolist() == cpu.tolist()


@cuda
def test_creation_defaults_and_requires_grad():
    on = rg.ones(2, 3, dtype=rg.float64, device="cuda")
    for like in (rg.zeros_like(on), rg.ones_like(on)):
        assert like.is_cuda and like.dtype == rg.float64  # *_like follows the input's device
    assert not rg.zeros_like(on, device="cpu").is_cuda
    empty = rg.empty(2, 3, device="cuda")
    assert empty.is_cuda and empty.shape == (2, 3)
    for make in (rg.zeros, rg.ones, rg.rand, rg.randn, rg.empty):
        leaf = make(2, device="cuda", requires_grad=True)
        assert leaf.is_cuda and leaf.requires_grad and leaf.is_leaf
    assert rg.zeros(2, device="cpu").device.type == "cpu"


@cuda
def test_full_like_on_device():
    on = rg.ones(2, 3, dtype=rg.float64, device="cuda")
    like = rg.full_like(on, 2.0)
    assert like.is_cuda and like.dtype == rg.float64
    assert like.cpu().tolist() == [[2.0] * 3] * 2
    assert not rg.full_like(on, 1, device="cpu").is_cuda


@cuda
def test_mixing_devices_raises():
    a = rg.ones(2, 3, device="cuda")
    b = rg.ones(2, 3)
    with raises(RuntimeError, MIXED_DEVICES + ", cuda:0 and cpu!"):
        a + b
    for mixed in [
        lambda: b * a,
        lambda: a - b,
        lambda: a @ b.t(),
        lambda: b.t() @ a,
        lambda: rg.cat([a, b]),
        lambda: rg.stack([b, a]),
        lambda: rg.where(a > 0, a, b),
        lambda: rg.where(b > 0, a, a),
        lambda: a.maximum(b),
        lambda: a > b,
        lambda: a.add_(b),
        lambda: a.mul_(b[0]),
        lambda: F.mse_loss(a, b),
    ]:
        with raises(RuntimeError, MIXED_DEVICES):
            mixed()
    # A 0-dim CPU tensor goes with tensors on any device, as a Python number would.
    two = rg.tensor(2.0)
    for out in (a * two, two + a, a.pow(two), rg.where(a > 0, a, two)):
        assert out.is_cuda
    assert (a * two).cpu().tolist() == [[2.0] * 3] * 2
    a.add_(rg.tensor(1.0))
    assert a.cpu().tolist() == [[2.0] * 3] * 2


@cuda
def test_grads_live_on_the_device_and_accumulate():
    x = rg.tensor([1.0, -2.0, 3.0], device="cuda", requires_grad=True)
    (x * x).sum().backward()
    (x * 3.0).sum().backward()
    assert x.grad.is_cuda and x.grad.cpu().tolist() == [5.0, -1.0, 9.0]
    seen = []
    y = x.exp()
    y.register_hook(lambda g: seen.append(g.is_cuda))
    y.retain_grad()
    y.sum().backward()
    assert seen == [True] and y.grad.is_cuda
    x.grad = None
    x.grad = rg.zeros(3, device="cuda")
    with raises(RuntimeError, "assigned grad has data located on a different device"):
        x.grad = rg.zeros(3)
    with rg.no_grad():
        x -= 0.5 * x.grad
    assert x.is_cuda and x.is_leaf


@cuda
def test_double_backward_on_device():
    vals = [0.5, -1.0, 2.0]
    results = {}
    for dev in ("cpu", "cuda"):
        x = rg.tensor(vals, dtype=rg.float64, device=dev, requires_grad=True)
        y = (x**3 * x.tanh()).sum()
        (g,) = rg.autograd.grad(y, x, create_graph=True)
        (gg,) = rg.autograd.grad((g * g).sum(), x)
        results[dev] = (g, gg)
    for cpu_t, dev_t in zip(*results.values()):
        assert dev_t.is_cuda
        assert_close(dev_t.cpu(), cpu_t, **TOL["float64"])
    x = rg.tensor(vals, dtype=rg.float64, device="cuda", requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    first = x.grad
    assert first.requires_grad and first.is_cuda
    x.grad = None
    first.sum().backward()
    assert_close(x.grad.cpu(), [6.0 * v for v in vals], **TOL["float64"])


@cuda
def test_gradgradcheck_on_device():
    rg.manual_seed(0)
    a = rg.randn(3, 4, dtype=rg.float64, device="cuda", requires_grad=True)
    b = rg.randn(4, 2, dtype=rg.float64, device="cuda", requires_grad=True)
    assert rg.autograd.gradgradcheck(lambda p, q: (p @ q).tanh() * p.sum(), (a, b))


@cuda
def test_custom_function_on_device():
    class Cube(rg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3.0 * x * x

    x = rg.tensor([1.0, -2.0], device="cuda", requires_grad=True)
    y = Cube.apply(x)
    assert y.is_cuda
    y.sum().backward()
    assert x.grad.is_cuda and x.grad.cpu().tolist() == [3.0, 12.0]


# ================================================================= training


def _model(dtype):
    rg.manual_seed(0)
    return nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 5)).to(dtype)


def _train(device, opt_name, dtype, steps=5):
    model = _model(dtype).to(device)
    rng = np.random.default_rng(1)
    x = rg.tensor(rng.standard_normal((64, 20))).to(device, dtype)
    y = rg.tensor(rng.integers(0, 5, 64)).to(device)
    if opt_name == "sgd":
        opt = rg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    else:
        opt = rg.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return model, opt, losses


@cuda
@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_training_matches_cpu(opt_name, dtype):
    cpu_model, _, cpu_losses = _train("cpu", opt_name, DTYPES[dtype])
    dev_model, dev_opt, dev_losses = _train("cuda", opt_name, DTYPES[dtype])
    assert dev_losses[-1] < dev_losses[0]
    # float32 differences compound over the steps (Adam divides by sqrt of small moments)
    tol = TOL["float64"] if dtype == "float64" else {"rtol": 1e-4, "atol": 1e-5}
    assert_close(dev_losses, cpu_losses, **tol)
    for cpu_p, dev_p in zip(cpu_model.parameters(), dev_model.parameters()):
        assert dev_p.is_cuda and dev_p.grad.is_cuda
        assert isinstance(dev_p, nn.Parameter) and dev_p.requires_grad and dev_p.is_leaf
        assert_close(dev_p.detach().cpu(), cpu_p.detach(), **tol)
    # The step counters stay 0-d float32 CPU tensors, as PyTorch's (non-capturable).
    state = [t for s in dev_opt.state.values() for k, t in s.items() if k != "step"]
    assert state and all(t.is_cuda for t in state)
    assert all(not s["step"].is_cuda for s in dev_opt.state.values() if "step" in s)


@cuda
def test_module_moves_keep_parameters_and_grads():
    model = nn.Linear(3, 2)
    model.register_buffer("count", rg.tensor([3]))
    params = list(model.parameters())
    opt = rg.optim.SGD(model.parameters(), lr=0.5)  # built before the move
    model(rg.randn(4, 3)).sum().backward()
    before = [(p.detach().clone(), p.grad.clone()) for p in params]
    assert model.cuda() is model
    for p, q, (value, grad) in zip(model.parameters(), params, before):
        assert p is q
        assert p.is_cuda and isinstance(p, nn.Parameter) and p.requires_grad and p.is_leaf
        assert p.grad.is_cuda
        assert p.detach().cpu().tolist() == value.tolist()
        assert p.grad.cpu().tolist() == grad.tolist()
    assert model.count.is_cuda and model.count.dtype == rg.int64
    opt.step()
    for p, (value, grad) in zip(params, before):
        assert p.is_cuda
        assert_close(p.detach().cpu(), value - 0.5 * grad, rtol=1e-6)
    out = model(rg.randn(4, 3, device="cuda"))
    assert out.is_cuda
    model.cpu()
    assert all(not p.is_cuda and not p.grad.is_cuda for p in params)
    model.to("cuda", rg.float64)
    assert all(p.is_cuda and p.dtype == rg.float64 for p in params)
    model.to(rg.zeros(1))
    assert all(not p.is_cuda and p.dtype == rg.float32 for p in params)
    model.to(device=rg.device("cuda:0"))
    assert all(p.is_cuda for p in params) and model.count.is_cuda


@cuda
def test_optimizer_state_loads_onto_the_parameters_device():
    cpu_model, cpu_opt, _ = _train("cpu", "adam", rg.float64, steps=2)
    dev_model = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 5)).double().cuda()
    dev_model.load_state_dict(cpu_model.state_dict())
    dev_opt = rg.optim.Adam(dev_model.parameters(), lr=0.01)
    dev_opt.load_state_dict(cpu_opt.state_dict())
    for state in dev_opt.state.values():
        assert state["exp_avg"].is_cuda and state["exp_avg_sq"].is_cuda
    assert all(p.is_cuda for p in dev_model.parameters())
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((8, 20)), rng.integers(0, 5, 8)
    for model, opt, dev in ((cpu_model, cpu_opt, "cpu"), (dev_model, dev_opt, "cuda")):
        opt.zero_grad()
        F.cross_entropy(model(rg.tensor(x).to(dev)), rg.tensor(y).to(dev)).backward()
        opt.step()
    for cpu_p, dev_p in zip(cpu_model.parameters(), dev_model.parameters()):
        assert_close(dev_p.detach().cpu(), cpu_p.detach(), **TOL["float64"])


@cuda
def test_dropout_on_device():
    x = rg.ones(200_000, device="cuda")
    out = F.dropout(x, p=0.3)
    assert out.is_cuda
    values = out.cpu().numpy()
    kept = values != 0
    assert np.allclose(values[kept], 1.0 / 0.7)
    assert abs(1.0 - kept.mean() - 0.3) < 0.01
    drop = nn.Dropout(0.3).cuda()
    drop.eval()
    assert drop(x) is x


# ================================================================= random numbers


@cuda
def test_manual_seed_makes_device_draws_repeatable():
    rg.cuda.manual_seed(123)
    a = rg.rand(100_000, device="cuda")
    b = rg.rand(100_000, device="cuda")
    rg.cuda.manual_seed(123)
    assert rg.rand(100_000, device="cuda").tolist() == a.tolist()
    assert (a != b).float().mean().item() > 0.99  # the stream moves on
    rg.cuda.manual_seed(124)
    assert (rg.rand(100_000, device="cuda") != a).float().mean().item() > 0.99
    rg.manual_seed(7)  # seeds the CUDA generators too, as torch.manual_seed does
    c = rg.randn(1000, device="cuda", dtype=rg.float64)
    rg.cuda.manual_seed_all(7)
    assert rg.randn(1000, device="cuda", dtype=rg.float64).tolist() == c.tolist()


@cuda
def test_rng_state_round_trip_and_fork_rng():
    """``cuda.get_rng_state`` is PyTorch's 16-byte uint8 tensor; setting it back repeats the
    draws; ``random.fork_rng`` and a checkpointed dropout on the device replay them too."""
    rg.cuda.manual_seed(9)
    state = rg.cuda.get_rng_state()
    assert state.dtype == rg.uint8 and tuple(state.shape) == (16,) and not state.is_cuda
    a = rg.rand(1000, device="cuda")
    rg.cuda.set_rng_state(state)
    assert rg.rand(1000, device="cuda").tolist() == a.tolist()
    assert len(rg.cuda.get_rng_state_all()) == rg.cuda.device_count()
    for devices in (None, [0]):  # the block's draws do not move the stream after it
        before = rg.cuda.get_rng_state()
        with rg.random.fork_rng(devices=devices):
            rg.rand(1000, device="cuda")
        after = rg.rand(1000, device="cuda")
        rg.cuda.set_rng_state(before)
        assert rg.rand(1000, device="cuda").tolist() == after.tolist()
    with pytest.raises(RuntimeError, match="expected 16 bytes"):
        rg.cuda.set_rng_state(rg.zeros(3, dtype=rg.uint8))
    # dropout in a checkpointed block: the recomputation draws the same mask
    x = rg.randn(64, 64, device="cuda", requires_grad=True)

    def block(x):
        return rg.nn.functional.dropout(x.tanh(), 0.5) * 3

    rg.cuda.manual_seed(1)
    block(x).square().sum().backward()
    plain = x.grad.cpu().numpy()
    x.grad = None
    rg.cuda.manual_seed(1)
    out = rg.utils.checkpoint.checkpoint(block, x, use_reentrant=False)
    out.square().sum().backward()
    np.testing.assert_array_equal(x.grad.cpu().numpy(), plain)


@cuda
def test_device_draws_leave_the_cpu_generator_alone():
    rg.manual_seed(5)
    a = rg.rand(4)
    rg.manual_seed(5)
    rg.rand(1000, device="cuda")
    assert rg.rand(4).tolist() == a.tolist()


@cuda
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_device_draws_have_the_right_distribution(dtype):
    n = 1_000_001  # odd: a generator that makes values in pairs must handle the last one
    rg.cuda.manual_seed(2024)
    u = rg.rand(n, device="cuda", dtype=DTYPES[dtype]).cpu().numpy().astype(np.float64)
    z = rg.randn(n, device="cuda", dtype=DTYPES[dtype]).cpu().numpy().astype(np.float64)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.003 and abs(u.std() - 12**-0.5) < 0.003
    assert abs((u < 0.1).mean() - 0.1) < 0.003
    assert np.isfinite(z).all()
    assert abs(z.mean()) < 0.006 and abs(z.std() - 1.0) < 0.006
    assert abs((np.abs(z) < 1.0).mean() - 0.6827) < 0.004
    assert abs((z > 2.0).mean() - 0.02275) < 0.0015
    for v in (u, z):  # neighbours and the two halves are independent
        assert abs(np.corrcoef(v[:-1], v[1:])[0, 1]) < 0.01
        half = n // 2
        assert abs(np.corrcoef(v[:half], v[half : 2 * half])[0, 1]) < 0.01
    assert rg.randn(2, 3, device="cuda").shape == (2, 3)
    assert np.isfinite(rg.randn(1, device="cuda").cpu().numpy()).all()


# ================================================================= memory and queries


@cuda
def test_device_queries():
    assert rg.cuda.is_available() is True
    assert rg.cuda.device_count() >= 1
    assert rg.cuda.current_device() == 0
    name = rg.cuda.get_device_name()
    assert isinstance(name, str) and name.strip()
    assert rg.cuda.get_device_name(0) == name == rg.cuda.get_device_name("cuda:0")
    assert rg.cuda.get_device_name(rg.device("cuda")) == name
    assert _core._cuda_unavailable_reason() == ""
    for arg in (None, 0, "cuda", "cuda:0", rg.device("cuda", 0)):
        assert rg.cuda.synchronize(arg) is None
    assert rg.cuda.synchronize() is None


@cuda
def test_device_name_matches_torch():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("the installed torch has no CUDA")
    assert rg.cuda.get_device_name() == torch.cuda.get_device_name(0)


@cuda
def test_memory_allocated_follows_live_tensors():
    rg.cuda.synchronize()
    before = rg.cuda.memory_allocated()
    assert before == rg.cuda.memory_allocated(0) == rg.cuda.memory_allocated("cuda:0")
    assert before == rg.cuda.memory_allocated(rg.device("cuda"))
    nbytes = 64 << 20
    x = rg.zeros(nbytes // 4, device="cuda")
    during = rg.cuda.memory_allocated()
    assert nbytes <= during - before <= nbytes + (4 << 20)
    assert rg.cuda.max_memory_allocated() >= during
    assert rg.cuda.memory_reserved() >= during
    del x
    assert rg.cuda.memory_allocated() == before
    assert rg.cuda.max_memory_allocated() >= during  # the peak stays until reset
    rg.cuda.reset_peak_memory_stats()
    assert rg.cuda.max_memory_allocated() == rg.cuda.memory_allocated()


@cuda
def test_steady_state_training_allocates_nothing_new():
    rg.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10)).cuda()
    opt = rg.optim.Adam(model.parameters(), lr=1e-3)
    x = rg.randn(256, 784, device="cuda")
    y = (rg.rand(256, device="cuda") * 10).long()
    reserved, allocated = [], []
    for _ in range(12):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        rg.cuda.synchronize()
        reserved.append(rg.cuda.memory_reserved())
        allocated.append(rg.cuda.memory_allocated())
    assert len(set(reserved[3:])) == 1, reserved  # the caching allocator reuses its blocks
    assert len(set(allocated[3:])) == 1, allocated  # and nothing leaks from step to step


@cuda
def test_empty_cache_returns_cached_blocks():
    rg.cuda.synchronize()
    nbytes = 256 << 20
    x = rg.empty(nbytes // 4, device="cuda")
    del x
    cached = rg.cuda.memory_reserved()
    assert cached - rg.cuda.memory_allocated() >= nbytes  # freed, still cached
    rg.cuda.empty_cache()
    assert rg.cuda.memory_reserved() <= cached - nbytes
    y = rg.ones(1000, device="cuda")  # and allocation still works afterwards
    assert y.sum().item() == 1000.0


# ================================================================= printing, NumPy, files


@cuda
def test_printing_shows_the_device():
    assert repr(rg.tensor([1.0, 2.0], device="cuda")) == "tensor([1., 2.], device='cuda:0')"
    assert (
        repr(rg.tensor([1.0, 2.5], dtype=rg.float64, device="cuda"))
        == "tensor([1.0000, 2.5000], device='cuda:0', dtype=rustgrad.float64)"
    )
    leaf = rg.tensor([1.0], device="cuda", requires_grad=True)
    assert repr(leaf) == "tensor([1.], device='cuda:0', requires_grad=True)"
    assert str(leaf * 2.0) == "tensor([2.], device='cuda:0', grad_fn=<MulBackward0>)"
    assert repr(rg.tensor([3], device="cuda")) == "tensor([3], device='cuda:0')"
    assert repr(rg.zeros(0, device="cuda")) == "tensor([], device='cuda:0')"
    assert str(rg.device("cuda:0")) == "cuda:0"
    assert repr(rg.ones(2).cuda().device) == "device(type='cuda', index=0)"


@cuda
def test_numpy_needs_a_host_copy():
    x = rg.tensor([1.5, 2.5], device="cuda")
    with raises(
        TypeError,
        "can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy the tensor "
        "to host memory first.",
    ):
        x.numpy()
    with raises(TypeError):
        np.asarray(x)
    assert x.cpu().numpy().tolist() == [1.5, 2.5]
    assert x.tolist() == [1.5, 2.5] and x[1].item() == 2.5
    assert float(x[0]) == 1.5 and int(x[1]) == 2 and bool(x[0] > 1.0)
    assert [t.item() for t in x] == [1.5, 2.5] and len(x) == 2


@cuda
def test_save_and_load_cuda_tensors(tmp_path):
    rg.manual_seed(0)
    x = rg.randn(3, 4, dtype=rg.float64, device="cuda")
    i = rg.arange(5, device="cuda")
    path = tmp_path / "tensors.safetensors"
    rg.save({"x": x, "i": i}, path)
    loaded = rg.load(path)
    assert not loaded["x"].is_cuda and not loaded["i"].is_cuda
    np.testing.assert_array_equal(loaded["x"].numpy(), x.cpu().numpy())
    assert loaded["i"].tolist() == list(range(5))
    mapped = rg.load(path, map_location="cuda")
    assert mapped["x"].is_cuda and mapped["x"].tolist() == x.tolist()

    model = nn.Linear(3, 2).cuda()
    opt = rg.optim.Adam(model.parameters())
    model(rg.randn(4, 3, device="cuda")).sum().backward()
    opt.step()
    # PyTorch's checkpoint format: tensors load where they were saved, or on map_location.
    rg.save({"model": model.state_dict(), "opt": opt.state_dict()}, tmp_path / "ckpt")
    on_device = rg.load(tmp_path / "ckpt")
    assert on_device["opt"]["state"][0]["exp_avg"].is_cuda
    ckpt = rg.load(tmp_path / "ckpt", map_location="cpu")
    other = nn.Linear(3, 2).cuda()
    other.load_state_dict(ckpt["model"])  # host tensors copied into device parameters
    for p, q in zip(model.parameters(), other.parameters()):
        assert q.is_cuda and isinstance(q, nn.Parameter)
        assert q.tolist() == p.tolist()
    saved_moment = ckpt["opt"]["state"][0]["exp_avg"]
    assert not saved_moment.is_cuda
    assert saved_moment.tolist() == opt.state[model.weight]["exp_avg"].tolist()


def test_bool_is_not_a_device():
    # `True` is an int to Python, but never a device number (x.to(dev, dtype, True) passes
    # non_blocking by position).
    with raises(TypeError, "not bool"):
        rg.zeros(2, device=True)


@cuda
def test_positional_non_blocking_is_not_a_device():
    x = rg.ones(3)
    moved = x.to("cuda", rg.float64, True)
    assert moved.device == rg.device("cuda:0") and moved.dtype == rg.float64


@cuda
def test_out_of_memory_is_a_runtime_error():
    # More bytes than any device has: PyTorch's words and type (torch.OutOfMemoryError is a
    # RuntimeError). Past int64 bytes, PyTorch's size error comes first, on every device.
    with raises(RuntimeError, "CUDA out of memory. Tried to allocate"):
        rg.zeros(2**50, dtype=rg.float64, device="cuda")
    with raises(
        RuntimeError, "Storage size calculation overflowed with sizes=[2305843009213693951]"
    ):
        rg.zeros(2**61 - 1, dtype=rg.float64, device="cuda")
    assert rg.ones(2, device="cuda").sum().item() == 2.0  # the device still works
