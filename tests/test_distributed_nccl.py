"""The NCCL backend: the core's communicator on one GPU (a world of one: NCCL refuses two ranks
on one device, and the lent GPU machines have one) and ``rustgrad.distributed`` /
``DistributedDataParallel`` routing CUDA tensors to it; without a GPU, PyTorch's refusals."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import rustgrad
import rustgrad.distributed as dist
from rustgrad import _core

cuda = pytest.mark.cuda


def _nccl_or_skip():
    try:
        return _core._nccl_version()
    except RuntimeError as e:  # the GPU machine has NCCL (PyTorch's); a CPU machine may not
        pytest.skip(str(e))


def test_without_a_gpu_the_communicator_is_refused_not_a_crash():
    if rustgrad.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError):
        _core.NcclCommunicator(bytes(128), 1, 0, 0)
    assert dist.is_nccl_available() == (_core._nccl_library() is not None)


@cuda
def test_single_rank_communicator_collectives():
    _nccl_or_skip()
    uid = _core._nccl_unique_id()
    assert isinstance(uid, bytes) and len(uid) == 128
    comm = _core.NcclCommunicator(uid, 1, 0, 0)
    assert (comm.rank, comm.size) == (0, 1)
    rng = np.random.default_rng(0)
    for dtype in (rustgrad.float32, rustgrad.float64, rustgrad.int64):
        a = rng.standard_normal(1000) * 10
        t = rustgrad.tensor(a, device="cuda").to(dtype)
        want = t.cpu().numpy().copy()
        for op in ("sum", "avg", "max", "min", "product"):
            comm.all_reduce(t, op)  # one rank: every reduction is the identity
        comm.broadcast(t, 0)
        comm.reduce(t, 0, "sum")
        np.testing.assert_array_equal(t.cpu().numpy(), want)
        out = rustgrad.zeros(1000, dtype=dtype, device="cuda")
        comm.all_gather(out, t)
        np.testing.assert_array_equal(out.cpu().numpy(), want)
        out.zero_()
        comm.reduce_scatter(out, t, "sum")
        np.testing.assert_array_equal(out.cpu().numpy(), want)
        got = rustgrad.zeros(1000, dtype=dtype, device="cuda")
        comm.group_start()
        comm.send(t, 0)
        comm.recv(got, 0)
        comm.group_end()
        np.testing.assert_array_equal(got.cpu().numpy(), want)
    # Bool: SUM is any, PRODUCT all (PyTorch's mapping); AVG is refused.
    b = rustgrad.tensor([True, False, True], device="cuda")
    comm.all_reduce(b, "sum")
    assert b.cpu().tolist() == [True, False, True]
    with pytest.raises(ValueError, match="Cannot use ReduceOp.AVG with boolean inputs"):
        comm.all_reduce(b, "avg")
    # Checked before NCCL sees an address: device, contiguity, sizes, dtypes, ranks.
    with pytest.raises(RuntimeError, match="expected a tensor on cuda:0"):
        comm.all_reduce(rustgrad.ones(3), "sum")
    with pytest.raises(ValueError, match="Tensors must be contiguous"):
        comm.all_reduce(rustgrad.ones(4, 4, device="cuda").t(), "sum")
    with pytest.raises(ValueError, match="world_size times input tensor size"):
        comm.all_gather(rustgrad.ones(5, device="cuda"), rustgrad.ones(3, device="cuda"))
    with pytest.raises(TypeError, match="same type"):
        comm.all_gather(
            rustgrad.ones(3, device="cuda"), rustgrad.ones(3, dtype=rustgrad.float64, device="cuda")
        )
    with pytest.raises(ValueError, match="Invalid rank 1"):
        comm.broadcast(rustgrad.ones(3, device="cuda"), 1)
    assert comm.async_error() is None
    comm.close()
    with pytest.raises(RuntimeError, match="destroyed or aborted"):
        comm.all_reduce(rustgrad.ones(3, device="cuda"), "sum")


@cuda
def test_bad_unique_id_and_rank_are_errors():
    _nccl_or_skip()
    with pytest.raises(ValueError, match="128 bytes"):
        _core.NcclCommunicator(b"short", 1, 0, 0)
    with pytest.raises(ValueError, match="Invalid rank 3"):
        _core.NcclCommunicator(_core._nccl_unique_id(), 2, 3, 0)


_WORLD_OF_ONE = textwrap.dedent(
    """
    try:
        from mpi4py import MPI  # the rendezvous: MPI carries NCCL's unique id
    except Exception as e:
        print("NO-MPI", e)
        raise SystemExit(0)
    import numpy as np
    import rustgrad, rustgrad.distributed as dist, rustgrad.nn as nn
    from rustgrad.nn.parallel import DistributedDataParallel as DDP
    dist.init_process_group("nccl")
    assert dist.get_backend() == "nccl" and dist.get_world_size() == 1
    t = rustgrad.arange(6.0, device="cuda")
    dist.all_reduce(t, op=dist.ReduceOp.AVG)
    w = dist.all_reduce(t, async_op=True); w.wait(); assert w.is_completed()
    dist.broadcast(t, 0)
    outs = [rustgrad.zeros(6, device="cuda")]
    dist.all_gather(outs, t)
    big = rustgrad.zeros(6, device="cuda"); dist.all_gather_into_tensor(big, t)
    assert outs[0].tolist() == big.tolist() == t.tolist() == [0, 1, 2, 3, 4, 5]
    g = [rustgrad.zeros(6, device="cuda")]
    dist.gather(t, g, dst=0); assert g[0].tolist() == t.tolist()
    dist.barrier()
    try:
        dist.all_reduce(rustgrad.ones(2))
    except RuntimeError as e:
        assert "No backend type associated with device type cpu" in str(e), e
    else:
        raise AssertionError("a CPU tensor went through the NCCL-only group")
    # DDP with CUDA parameters: one rank, so the averaged gradient is the local one.
    rustgrad.manual_seed(0)
    model = nn.Linear(4, 3).to("cuda")
    ref = nn.Linear(4, 3).to("cuda"); ref.load_state_dict(model.state_dict())
    ddp = DDP(model)
    x = rustgrad.randn(5, 4).to("cuda")
    ddp(x).pow(2).sum().backward(); ref(x).pow(2).sum().backward()
    for p, q in zip(model.parameters(), ref.parameters()):
        np.testing.assert_allclose(p.grad.cpu().numpy(), q.grad.cpu().numpy(), rtol=1e-6)
        assert p.grad.device.type == "cuda"
    dist.destroy_process_group()
    print("WORLD-OF-ONE OK")
    """
)


@cuda
def test_distributed_and_ddp_route_cuda_tensors_to_nccl():
    _nccl_or_skip()
    p = subprocess.run(
        [sys.executable, "-c", _WORLD_OF_ONE],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    if "NO-MPI" in p.stdout:
        pytest.skip(f"mpi4py cannot start MPI here: {p.stdout.strip()}")
    assert "WORLD-OF-ONE OK" in p.stdout
