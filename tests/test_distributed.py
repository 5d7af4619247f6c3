"""rustgrad.distributed over MPI: each test starts ``mpiexec`` with a worker script of
``tests/distributed_workers`` and a timeout (a hang fails the test instead of blocking CI)."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import rustgrad
import rustgrad.distributed as dist

pytest.importorskip("mpi4py")
MPIEXEC = shutil.which("mpiexec") or str(Path(sys.executable).parent / "mpiexec")
if not os.path.exists(MPIEXEC):
    pytest.skip("mpiexec is not installed", allow_module_level=True)
WORKERS = Path(__file__).parent / "distributed_workers"


def mpirun(n, script, *args, timeout=90):
    cmd = [MPIEXEC, "-n", str(n), "--oversubscribe"]
    if os.geteuid() == 0:
        cmd.append("--allow-run-as-root")
    cmd += [sys.executable, str(WORKERS / script), *args]
    start = time.monotonic()
    p = subprocess.run(
        cmd, check=False, capture_output=True, text=True, timeout=timeout, errors="replace"
    )
    return p.returncode, p.stdout + p.stderr, time.monotonic() - start


def test_collectives_match_numpy_on_every_rank():
    rc, out, _ = mpirun(4, "collectives.py")
    assert rc == 0, out
    assert out.count("DONE rank=") == 4, out
    # 3 dtypes x 5 ops x 4 checks + per-dtype broadcast/all_gather/gather/scatter, per rank
    for rank in range(4):
        assert out.count(f"rank={rank}\n") > 80, out


def test_a_rank_that_raises_ends_the_job():
    rc, out, took = mpirun(2, "failures.py", "raise", timeout=60)
    assert rc != 0
    assert "ValueError: boom on rank 1" in out
    assert took < 60


def test_a_missing_peer_times_out_naming_the_rank():
    rc, out, _ = mpirun(2, "failures.py", "timeout", timeout=60)
    assert rc != 0
    assert "RuntimeError: [Rank 0] all_reduce failed: timed out after 1 s" in out, out


def test_launcher_sets_torchrun_environment(tmp_path):
    script = tmp_path / "env.py"
    script.write_text(
        "import os, sys\n"
        "import rustgrad, rustgrad.distributed as dist\n"
        "dist.init_process_group('gloo')\n"
        "t = rustgrad.tensor([float(dist.get_rank())])\n"
        "dist.all_reduce(t)\n"
        "e = os.environ\n"
        "print('ENV', e['RANK'], e['LOCAL_RANK'], e['WORLD_SIZE'], e['MASTER_PORT'],"
        " t.item(), sys.argv[1:], flush=True)\n"
    )
    cmd = [sys.executable, "-m", "rustgrad.distributed.run", "--nproc-per-node", "3"]
    cmd += ["--master-port", "29511", str(script), "--lr", "0.1"]
    p = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    lines = sorted(line for line in p.stdout.splitlines() if line.startswith("ENV"))
    assert lines == [f"ENV {r} {r} 3 29511 3.0 ['--lr', '0.1']" for r in range(3)], lines


def test_single_process_without_launcher():
    # A plain `python script.py` is a world of one (MPI singleton), as torchrun with 1 proc.
    code = (
        "import rustgrad, rustgrad.distributed as dist\n"
        "dist.init_process_group('mpi')\n"
        "t = rustgrad.ones(2)\n"
        "dist.all_reduce(t, op=dist.ReduceOp.AVG)\n"
        "print(dist.get_rank(), dist.get_world_size(), t.tolist())\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.split("\n")[0] == "0 1 [1.0, 1.0]"


def test_errors_before_init_and_for_nccl():
    torch = pytest.importorskip("torch")
    assert not dist.is_initialized()
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        dist.get_rank()
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        torch.distributed.get_rank()
    # Without GPUs PyTorch's NCCL backend refuses with this error; so does rustgrad's.
    if not rustgrad.cuda.is_available():
        with pytest.raises(RuntimeError, match="ProcessGroupNCCL is only supported with GPUs"):
            dist.init_process_group("nccl")
    with pytest.raises(ValueError, match="Invalid backend: 'foo'"):
        dist.init_process_group("foo")
    assert set(rustgrad.distributed.ReduceOp.__members__) == {
        "SUM",
        "AVG",
        "PRODUCT",
        "MIN",
        "MAX",
    }
    assert all(hasattr(torch.distributed.ReduceOp, n) for n in dist.ReduceOp.__members__)
