"""Run under mpiexec by tests/test_distributed.py. ``raise``: rank 1 raises while rank 0
waits in a collective (the abort hook must end the job). ``timeout``: rank 1 never joins;
rank 0's async collective's wait must raise after its 1 s timeout, naming the rank."""

import datetime
import sys
import time

import rustgrad
import rustgrad.distributed as dist

mode = sys.argv[1]
timeout = datetime.timedelta(seconds=1 if mode == "timeout" else 600)
dist.init_process_group("mpi", timeout=timeout)
if dist.get_rank() == 1:
    if mode == "raise":
        raise ValueError("boom on rank 1")
    time.sleep(120)
dist.all_reduce(rustgrad.ones(3), async_op=True).wait()
