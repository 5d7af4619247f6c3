"""The digits MLP of ``mlp_classifier.py`` trained data-parallel with DistributedDataParallel.

Every rank holds a replica; each global mini-batch (``--batch`` rows, the same shuffled order
on every rank) is split evenly across the ranks, and DDP averages the gradients, so N ranks
compute the same model as one process on the whole batch: the final accuracy printed is the
single-process run's. Each rank prints its throughput.

    pip install 'rustgrad[distributed]' scikit-learn
    python -m rustgrad.distributed.run --nproc-per-node 2 examples/ddp_digits.py
    python examples/ddp_digits.py            # the single-process run (a world of one)
"""

import argparse
import os
import sys
import time

import numpy as np
import rustgrad as torch
import rustgrad.distributed as dist
from rustgrad.nn.parallel import DistributedDataParallel as DDP

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mlp_classifier import MLP, accuracy, load_data


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch", type=int, default=64, help="global batch (all ranks)")
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.1)
    args = p.parse_args(argv)

    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    if args.batch % world:
        raise SystemExit(f"--batch {args.batch} must be a multiple of the {world} ranks")
    x_train, y_train, x_test, y_test = load_data()
    x_train, x_test = x_train.double(), x_test.double()

    torch.manual_seed(0)
    model = DDP(MLP(hidden=args.hidden).double())  # rank 0's weights go to every rank
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    n, local = len(y_train), args.batch // world
    seen, start = 0, time.perf_counter()
    for epoch in range(args.epochs):
        order = np.random.default_rng(epoch).permutation(n)  # same on every rank
        for b in range(n // args.batch):
            rows = order[b * args.batch : (b + 1) * args.batch]
            mine = torch.from_numpy(rows[rank * local : (rank + 1) * local].copy())
            opt.zero_grad()
            loss = loss_fn(model(x_train[mine]), y_train[mine])
            loss.backward()  # gradients averaged across the ranks
            opt.step()
            seen += local
    took = time.perf_counter() - start
    print(f"rank {rank}/{world}: {seen / took:,.0f} samples/s ({took:.2f} s)", flush=True)
    acc = accuracy(model.module, x_test, y_test)
    dist.barrier()
    if rank == 0:
        print(f"world {world}: final test accuracy {acc:.4f}")
        print(f"world {world}: total throughput {seen * world / took:,.0f} samples/s")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
