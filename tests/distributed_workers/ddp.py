"""Run under mpiexec by tests/test_distributed_ddp.py: DistributedDataParallel's parameters
and gradients after k SGD steps equal one process (rustgrad and PyTorch) training on the
concatenated batch, in float64; also no_sync accumulation, find_unused_parameters, buffers
and state_dict names."""

import datetime

import numpy as np
import rustgrad
import rustgrad.distributed as dist
from rustgrad import nn
from rustgrad.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=20))
rank, world = dist.get_rank(), dist.get_world_size()
B, STEPS, LR = 4, 3, 0.1
rng = np.random.default_rng(123)
X = rng.standard_normal((STEPS, 3, world * B, 5))  # step, micro-batch, rows, features
Y = rng.standard_normal((STEPS, 3, world * B, 3))
W = [rng.standard_normal(s) * 0.5 for s in [(8, 5), (8,), (3, 8), (3,)]]


def build(lib):
    m = lib.nn.Sequential(lib.nn.Linear(5, 8), lib.nn.Tanh(), lib.nn.Linear(8, 3)).double()
    with lib.no_grad():
        for p, w in zip(m.parameters(), W):
            p.copy_(lib.from_numpy(w.copy()))
    return m


def train(lib, model, micro, sync_every, rows):
    """SGD on mean squared error; ``micro`` micro-batches of ``rows`` per step, the
    gradient summed over them. Returns the gradients and parameters after every step."""
    opt = lib.optim.SGD(model.parameters(), lr=LR)
    history = []
    for s in range(STEPS):
        opt.zero_grad()
        for m in range(micro):
            x = lib.from_numpy(X[s, m, rows].copy())
            y = lib.from_numpy(Y[s, m, rows].copy())
            ctx = model.no_sync() if (sync_every and m < micro - 1) else _null()
            with ctx:
                loss = ((model(x) - y) ** 2).mean()
                loss.backward()
        grads = [p.grad.detach().numpy().copy() for p in model.parameters()]
        opt.step()
        params = [p.detach().numpy().copy() for p in model.parameters()]
        history.append((grads, params))
    return history


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def compare(name, got, want):
    for s, ((g1, p1), (g2, p2)) in enumerate(zip(got, want)):
        for a, b in zip(g1 + p1, g2 + p2):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=f"{name} step {s}")
    print(f"OK {name} rank={rank}", flush=True)


mine = slice(rank * B, (rank + 1) * B)
everything = slice(0, world * B)

for micro, sync in [(1, False), (3, True)]:
    rustgrad.manual_seed(rank)  # replicas start different: DDP must broadcast rank 0's
    local = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3)).double()
    if rank == 0:
        local.load_state_dict(build(rustgrad).state_dict())
    ddp = DDP(local, bucket_cap_mb=0.0001)  # tiny buckets: several all-reduces per backward
    assert len(ddp._buckets) > 1
    got = train(rustgrad, ddp, micro, sync, mine)
    compare(
        f"ddp micro={micro} vs rustgrad",
        got,
        train(rustgrad, build(rustgrad), micro, False, everything),
    )
    try:
        import torch
    except ImportError:
        continue
    compare(
        f"ddp micro={micro} vs torch", got, train(torch, build(torch), micro, False, everything)
    )

# state_dict names, the module attribute, buffers broadcast from rank 0
m = nn.Linear(2, 2).double()
m.register_buffer("scale", rustgrad.full((2,), float(rank + 1), dtype=rustgrad.float64))
ddp = DDP(m)
assert ddp.module is m
assert list(ddp.state_dict()) == ["module.weight", "module.bias", "module.scale"], list(
    ddp.state_dict()
)
assert m.scale.tolist() == [1.0, 1.0], m.scale.tolist()
print(f"OK state_dict/buffers rank={rank}", flush=True)


# find_unused_parameters: a branch used only on rank 0
class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(2, 2).double()
        self.b = nn.Linear(2, 2).double()

    def forward(self, x):
        return self.b(self.a(x)) if rank == 0 else self.a(x)


m = DDP(Branchy(), find_unused_parameters=True)
for _ in range(2):
    m.zero_grad()
    m(rustgrad.ones(1, 2, dtype=rustgrad.float64)).sum().backward()
grads = [np.zeros(p.shape) if p.grad is None else p.grad.numpy() for p in m.parameters()]
everyone = [None] * world
dist.all_gather_object(everyone, [g.tolist() for g in grads])
assert all(e == everyone[0] for e in everyone), everyone
print(f"OK find_unused_parameters rank={rank}", flush=True)


# without find_unused_parameters, a parameter unused on every rank is an error at the next
# forward (no rank waits on an all-reduce: the bucket with it never starts)
class OnlyA(Branchy):
    def forward(self, x):
        return self.a(x)


m = DDP(OnlyA())
m(rustgrad.ones(1, 2, dtype=rustgrad.float64)).sum().backward()
try:
    m(rustgrad.ones(1, 2, dtype=rustgrad.float64))
except RuntimeError as e:
    assert "find_unused_parameters=True" in str(e)
else:
    raise AssertionError("unused parameters went unnoticed")
print(f"OK unused error rank={rank}", flush=True)
dist.destroy_process_group()
print(f"DONE rank={rank}", flush=True)
