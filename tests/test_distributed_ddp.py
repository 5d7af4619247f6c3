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
