"""``DistributedDataParallel``: one model replica per process, gradients averaged by MPI
(CPU parameters) or NCCL (CUDA parameters).

Gradients are copied into flat buckets (``bucket_cap_mb``, parameters in reverse order, as
PyTorch: backward produces the last layers' gradients first) by a hook on each parameter;
a full bucket's all-reduce starts at once (non-blocking) while the other hooks run, and the
last hook waits for all of them and writes the averaged gradients to ``.grad``.

The engine runs a parameter's hooks as soon as its gradient is complete, so a bucket's
all-reduce starts while the backward of earlier layers still runs (MPI advances it inside
later MPI calls).
"""

import contextlib

import numpy as np

import rustgrad
import rustgrad.distributed as dist
from rustgrad.nn.modules.module import Module


class _Bucket:
    """Flat gradient storage of ``params``: a NumPy array for CPU parameters (MPI reads it in
    place), a tensor on the parameters' device for CUDA ones (NCCL reads it there)."""

    def __init__(self, params):
        self.params = params
        self.offsets = []
        n = 0
        for p in params:
            self.offsets.append(n)
            n += p.numel()
        first = params[0]
        self.on_cuda = first.device.type == "cuda"
        if self.on_cuda:
            self.flat = rustgrad.zeros(n, dtype=first.dtype, device=first.device)
            self.tensor = self.flat
        else:
            self.flat = np.zeros(n, dtype=first.detach().numpy().dtype)
            self.tensor = rustgrad.from_numpy(self.flat)
        self.ready = 0
        self.work = None

    def view(self, i):
        p = self.params[i]
        return self.flat[self.offsets[i] : self.offsets[i] + p.numel()]

    def put(self, i, grad):
        """Parameter ``i``'s slot := ``grad`` (zeros for None)."""
        v = self.view(i)
        if self.on_cuda:
            with rustgrad.no_grad():
                v.zero_() if grad is None else v.copy_(grad.detach().reshape(-1))
        elif grad is None:
            v[...] = 0
        else:
            v[...] = grad.detach().contiguous().numpy().reshape(-1)

    def add(self, i, grad):
        """Parameter ``i``'s slot += ``grad``."""
        v = self.view(i)
        if self.on_cuda:
            with rustgrad.no_grad():
                v.add_(grad.detach().reshape(-1))
        else:
            v += grad.detach().contiguous().numpy().reshape(-1)

    def average(self, n):
        if self.on_cuda:
            with rustgrad.no_grad():
                self.flat.div_(n)
        else:
            self.flat /= n

    def grad(self, i):
        """Parameter ``i``'s averaged gradient, as a tensor of its own."""
        shape = tuple(self.params[i].shape)
        if self.on_cuda:
            with rustgrad.no_grad():
                return self.view(i).reshape(shape).clone()
        return rustgrad.from_numpy(self.view(i).reshape(shape).copy())


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training (``torch.nn.parallel.DistributedDataParallel``).

    At wrap time rank 0's parameters and buffers are broadcast to every rank. Each backward
    averages the gradients over the process group; inside ``no_sync()`` they only accumulate
    locally (the next synchronized backward averages the accumulated sum).
    """

    def __init__(
        self,
        module,
        device_ids=None,
        output_device=None,
        dim=0,
        broadcast_buffers=True,
        process_group=None,
        bucket_cap_mb=None,
        find_unused_parameters=False,
        check_reduction=False,
        gradient_as_bucket_view=False,
        static_graph=False,
    ):
        super().__init__()
        if not dist.is_initialized():
            raise ValueError(
                "Default process group has not been initialized, please make sure to call "
                "init_process_group."
            )
        self.module = module
        self.process_group = process_group
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        params = [p for p in module.parameters() if p.requires_grad]
        if not params:
            raise RuntimeError(
                "DistributedDataParallel is not needed when a module doesn't have any "
                "parameter that requires a gradient."
            )
        self._sync_module_states()
        self._buckets = self._build_buckets(params)
        self._where = {}
        for b in self._buckets:
            for i, p in enumerate(b.params):
                self._where[id(p)] = (b, i)
        self._expected = 0  # gradients still to come in this iteration's backward
        self._syncing = False
        self._next = 0  # the next bucket to all-reduce
        for p in params:
            p.register_hook(self._make_hook(p))

    # ----- setup -----------------------------------------------------------------------

    def _sync_module_states(self):
        with rustgrad.no_grad():
            for p in self.module.parameters():
                dist.broadcast(p, 0, group=self.process_group)
            for b in self.module.buffers():
                dist.broadcast(b, 0, group=self.process_group)

    def _build_buckets(self, params):
        # Reverse order, split by dtype and size, as PyTorch's default bucket assignment.
        buckets, current, size = [], [], 0
        for p in reversed(params):
            nbytes = p.numel() * p.element_size()
            if current and (
                size + nbytes > self.bucket_bytes_cap
                or p.dtype != current[0].dtype
                or p.device != current[0].device
            ):
                buckets.append(current)
                current, size = [], 0
            current.append(p)
            size += nbytes
        if current:
            buckets.append(current)
        return [_Bucket(ps) for ps in buckets]

    # ----- forward ---------------------------------------------------------------------

    def forward(self, *inputs, **kwargs):
        """The wrapped module's forward; prepares this iteration's gradient reduction."""
        if self._syncing and self._expected > 0:
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a "
                "new one. This error indicates that your module has parameters that were not "
                "used in producing loss. You can enable unused parameter detection by passing "
                "the keyword argument `find_unused_parameters=True` to "
                "`torch.nn.parallel.DistributedDataParallel`, and by making sure all `forward` "
                "function outputs participate in calculating loss."
            )
        if self.broadcast_buffers:
            with rustgrad.no_grad():
                for b in self.module.buffers():
                    dist.broadcast(b, 0, group=self.process_group)
        out = self.module(*inputs, **kwargs)
        self._syncing = self.require_backward_grad_sync and rustgrad.is_grad_enabled()
        if self._syncing:
            for b in self._buckets:
                b.ready, b.work = 0, None
            self._expected = sum(len(b.params) for b in self._buckets)
            self._next = 0
            if self.find_unused_parameters:
                used = _reachable_leaves(out)
                for b in self._buckets:
                    for i, p in enumerate(b.params):
                        if id(p) not in used:
                            self._mark_ready(p, None)
        return out

    @contextlib.contextmanager
    def no_sync(self):
        """Backward passes inside this block accumulate ``.grad`` locally, without
        communication; the first synchronized backward after it averages the sum."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    # ----- backward --------------------------------------------------------------------

    def _make_hook(self, p):
        def hook(grad):
            if not self._syncing:
                return None
            return self._mark_ready(p, grad)

        return hook

    def _mark_ready(self, p, grad):
        """Put ``p``'s accumulated gradient into its bucket; start the bucket's all-reduce
        when it is full; after the last one, wait and write every averaged ``.grad``."""
        b, i = self._where[id(p)]
        b.put(i, grad)
        if p.grad is not None:
            b.add(i, p.grad)
            p.grad = None  # the engine's accumulation after this hook starts from scratch
        b.ready += 1
        # MPI needs the same collective order on every rank: buckets start in index order.
        while self._next < len(self._buckets):
            nb = self._buckets[self._next]
            if nb.ready < len(nb.params):
                break
            nb.work = dist.all_reduce(nb.tensor, group=self.process_group, async_op=True)
            self._next += 1
        self._expected -= 1
        if self._expected > 0:
            return None
        return self._finish(p)

    def _finish(self, last):
        n = dist.get_world_size(self.process_group)
        mine = None
        for b in self._buckets:
            b.work.wait()
            b.average(n)
            for i, p in enumerate(b.params):
                g = b.grad(i)
                if p is last:
                    mine = g  # handed back to the engine, which stores it as .grad
                else:
                    p.grad = g
        self._syncing = False
        return mine


def _reachable_leaves(out):
    """ids of the leaves reached from ``out``'s graph (find_unused_parameters)."""
    # Node wrappers are made on access: keep them alive so that ids are not reused.
    seen, found, alive = set(), set(), []
    stack = [t.grad_fn for t in _tensors(out) if t.grad_fn is not None]
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        alive.append(fn)
        var = getattr(fn, "variable", None)
        if var is not None:
            found.add(id(var))
        for nxt, _ in fn.next_functions:
            if nxt is not None:
                stack.append(nxt)
    return found


def _tensors(out):
    if isinstance(out, rustgrad.Tensor):
        yield out
    elif isinstance(out, (list, tuple)):
        for o in out:
            yield from _tensors(o)
    elif isinstance(out, dict):
        for o in out.values():
            yield from _tensors(o)
