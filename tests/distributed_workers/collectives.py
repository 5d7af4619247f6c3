"""Run under mpiexec by tests/test_distributed.py: every collective, ReduceOp and dtype
against NumPy on every rank. Prints one ``OK name`` line per check; any failure raises
(and the abort hook ends the job with a non-zero status)."""

import datetime

import numpy as np
import rustgrad
import rustgrad.distributed as dist

dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=20))
rank, world = dist.get_rank(), dist.get_world_size()
DTYPES = {"float32": rustgrad.float32, "float64": rustgrad.float64, "int64": rustgrad.int64}


def data(r, dtype, shape=(3, 5)):
    # Distinct small values per rank (exact in every dtype, products stay small).
    n = int(np.prod(shape))
    return ((np.arange(n) % 7) + r + 1).reshape(shape).astype(dtype)


def check(name, got, want):
    got = got.numpy() if isinstance(got, rustgrad.Tensor) else got
    assert got.dtype == want.dtype, (name, got.dtype, want.dtype)
    np.testing.assert_array_equal(got, want, err_msg=f"rank {rank}: {name}")
    print(f"OK {name} rank={rank}", flush=True)


everyone = lambda dt, shape=(3, 5): [data(r, dt, shape) for r in range(world)]
reductions = {
    dist.ReduceOp.SUM: lambda a: np.sum(a, axis=0),
    dist.ReduceOp.PRODUCT: lambda a: np.prod(a, axis=0),
    dist.ReduceOp.MIN: lambda a: np.min(a, axis=0),
    dist.ReduceOp.MAX: lambda a: np.max(a, axis=0),
    dist.ReduceOp.AVG: None,
}


def expected(op, arrs):
    a = np.stack(arrs)
    if op == dist.ReduceOp.AVG:
        s = np.sum(a, axis=0)
        return s // world if np.issubdtype(s.dtype, np.integer) else s / world
    return reductions[op](a).astype(a.dtype)


for dname, dt in DTYPES.items():
    ref = everyone(dname)
    for op in reductions:
        t = rustgrad.from_numpy(data(rank, dname).copy())
        dist.all_reduce(t, op=op)
        check(f"all_reduce {op.name} {dname}", t, expected(op, ref))

        t = rustgrad.from_numpy(data(rank, dname).copy())
        w = dist.all_reduce(t, op=op, async_op=True)
        assert w.wait() and w.is_completed()
        check(f"all_reduce async {op.name} {dname}", t, expected(op, ref))

        t = rustgrad.from_numpy(data(rank, dname).copy())
        dist.reduce(t, dst=world - 1, op=op)
        want = expected(op, ref) if rank == world - 1 else data(rank, dname)
        check(f"reduce {op.name} {dname}", t, want)

        inp = rustgrad.from_numpy(data(rank, dname, (world * 2, 3)).copy())
        out = rustgrad.zeros(2, 3, dtype=dt)
        dist.reduce_scatter_tensor(out, inp, op=op)
        full = expected(op, everyone(dname, (world * 2, 3)))
        check(f"reduce_scatter_tensor {op.name} {dname}", out, full[2 * rank : 2 * rank + 2])

    t = rustgrad.from_numpy(data(rank, dname).copy())
    dist.broadcast(t, src=1)
    check(f"broadcast {dname}", t, ref[1])

    outs = [rustgrad.zeros(3, 5, dtype=dt) for _ in range(world)]
    dist.all_gather(outs, rustgrad.from_numpy(data(rank, dname).copy()))
    for r in range(world):
        check(f"all_gather[{r}] {dname}", outs[r], ref[r])

    out = rustgrad.zeros(world * 3, 5, dtype=dt)
    dist.all_gather_into_tensor(out, rustgrad.from_numpy(data(rank, dname).copy()))
    check(f"all_gather_into_tensor {dname}", out, np.concatenate(ref))

    glist = [rustgrad.zeros(3, 5, dtype=dt) for _ in range(world)] if rank == 0 else None
    dist.gather(rustgrad.from_numpy(data(rank, dname).copy()), glist, dst=0)
    if rank == 0:
        for r in range(world):
            check(f"gather[{r}] {dname}", glist[r], ref[r])

    t = rustgrad.zeros(3, 5, dtype=dt)
    slist = [rustgrad.from_numpy(a.copy()) for a in ref] if rank == 0 else None
    dist.scatter(t, slist, src=0)
    check(f"scatter {dname}", t, ref[rank])

# zero copy: all_reduce writes the tensor's own memory
t = rustgrad.ones(4, dtype=rustgrad.float64)
view = t.numpy()
dist.all_reduce(t)
assert view[0] == world and t[0].item() == world
print(f"OK zero_copy rank={rank}", flush=True)

# point to point: a ring
t = rustgrad.full((4,), float(rank), dtype=rustgrad.float64)
got = rustgrad.zeros(4, dtype=rustgrad.float64)
req = dist.irecv(got, src=(rank - 1) % world)
dist.send(t, dst=(rank + 1) % world)
req.wait()
check("send/irecv ring", got, np.full(4, float((rank - 1) % world)))
got2 = rustgrad.zeros(4, dtype=rustgrad.float64)
sreq = dist.isend(t, dst=(rank + 1) % world, tag=7)
sender = dist.recv(got2, src=None, tag=7)
sreq.wait()
assert sender == (rank - 1) % world, sender
check("isend/recv any-source", got2, np.full(4, float(sender)))

# objects
objs = [None] * world
dist.all_gather_object(objs, {"rank": rank})
assert objs == [{"rank": r} for r in range(world)], objs
lst = [rank, "x"] if rank == 0 else [None, None]
dist.broadcast_object_list(lst, src=0)
assert lst == [0, "x"], lst
print(f"OK objects rank={rank}", flush=True)

# sub-group of the odd ranks: group ranks, global src, non-members untouched
odd = dist.new_group([r for r in range(world) if r % 2 == 1])
t = rustgrad.full((2,), float(rank), dtype=rustgrad.float64)
dist.all_reduce(t, group=odd)
if rank % 2 == 1:
    want = float(sum(r for r in range(world) if r % 2 == 1))
    assert dist.get_rank(odd) == rank // 2 and dist.get_world_size(odd) == world // 2
    check("new_group all_reduce", t, np.full(2, want))
    b = rustgrad.full((2,), float(rank), dtype=rustgrad.float64)
    dist.broadcast(b, src=world - 1, group=odd)
    check("new_group broadcast", b, np.full(2, float(world - 1)))
else:
    assert dist.get_rank(odd) == -1
    check("new_group non-member", t, np.full(2, float(rank)))

# bad input raises PyTorch's exception types before any communication
for bad, exc in [
    (lambda: dist.all_reduce(rustgrad.ones(4, 4).t()), ValueError),
    (lambda: dist.all_reduce([1.0]), TypeError),
    (lambda: dist.all_gather_into_tensor(rustgrad.zeros(3), rustgrad.zeros(2)), ValueError),
    (lambda: dist.broadcast(rustgrad.zeros(2), src=world), ValueError),
]:
    try:
        bad()
    except exc:
        pass
    else:
        raise AssertionError(f"no {exc.__name__}")
print(f"OK errors rank={rank}", flush=True)

dist.barrier()
assert dist.get_backend() == "mpi" and dist.is_initialized()
dist.destroy_process_group()
assert not dist.is_initialized()
print(f"DONE rank={rank}", flush=True)
