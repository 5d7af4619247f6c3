"""All-reduce bandwidth of ``rustgrad.distributed.all_reduce`` on float32 CPU tensors against
``mpi4py``'s ``Allreduce`` (in place) on NumPy arrays, 1 KB to 64 MB.

    mpiexec -n 2 python benches/allreduce.py        # (--oversubscribe for more ranks than cores)

Prints, on rank 0, one row per size: the median time of each and the bus bandwidth
(``2 (n-1)/n * bytes / time``, NCCL-tests' convention).
"""

import sys
import time

import numpy as np
import rustgrad
import rustgrad.distributed as dist
from mpi4py import MPI


def timed(fn, reps):
    comm = MPI.COMM_WORLD
    fn()
    out = []
    for _ in range(reps):
        comm.Barrier()
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    # the slowest rank's median: an all-reduce is done when every rank is
    return comm.allreduce(float(np.median(out)), op=MPI.MAX)


def main():
    dist.init_process_group("mpi")
    comm, rank, world = MPI.COMM_WORLD, dist.get_rank(), dist.get_world_size()
    sizes = [1 << k for k in range(10, 27, 2)]  # 1 KB .. 64 MB
    if rank == 0:
        print(f"ranks: {world}")
        print("| bytes | rustgrad (us) | mpi4py (us) | rustgrad GB/s | mpi4py GB/s | ratio |")
        print("|---:|---:|---:|---:|---:|---:|")
    for nbytes in sizes:
        n = nbytes // 4
        reps = max(5, min(200, (1 << 24) // nbytes))
        t = rustgrad.ones(n)
        a = np.ones(n, dtype=np.float32)
        ours = timed(lambda: dist.all_reduce(t), reps)  # noqa: B023
        ref = timed(lambda: comm.Allreduce(MPI.IN_PLACE, a), reps)  # noqa: B023
        bus = 2 * (world - 1) / world * nbytes / 1e9
        if rank == 0:
            print(
                f"| {nbytes:,} | {ours * 1e6:,.1f} | {ref * 1e6:,.1f} | {bus / ours:.2f} | "
                f"{bus / ref:.2f} | {ours / ref:.2f} |",
                flush=True,
            )
    dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
