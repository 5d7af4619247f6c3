"""DistributedDataParallel over MPI (2 ranks): see tests/distributed_workers/ddp.py."""

import pytest

pytest.importorskip("mpi4py")
from test_distributed import mpirun


def test_ddp_matches_one_process_on_the_concatenated_batch():
    rc, out, _ = mpirun(2, "ddp.py", timeout=120)
    assert rc == 0, out
    for rank in range(2):
        for name in [
            "ddp micro=1 vs rustgrad",
            "ddp micro=3 vs rustgrad",  # no_sync accumulation
            "state_dict/buffers",
            "find_unused_parameters",
            "unused error",
        ]:
            assert f"OK {name} rank={rank}" in out, out
        assert f"DONE rank={rank}" in out


def test_ddp_digits_example_matches_the_single_process_run():
    pytest.importorskip("sklearn")
    import subprocess
    import sys
    from pathlib import Path

    example = str(Path(__file__).parents[1] / "examples" / "ddp_digits.py")
    accuracy = {}
    for n in (1, 2):
        cmd = [sys.executable, "-m", "rustgrad.distributed.run", "--nproc-per-node", str(n)]
        p = subprocess.run(
            [*cmd, example, "--epochs", "2"],
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert p.returncode == 0, p.stdout + p.stderr
        assert p.stdout.count("samples/s (") == n, p.stdout  # one throughput line per rank
        line = next(x for x in p.stdout.splitlines() if "final test accuracy" in x)
        accuracy[n] = float(line.rsplit(" ", 1)[1])
    assert accuracy[1] == accuracy[2] > 0.5, accuracy  # chance is 0.1
