"""Process groups and collectives (``torch.distributed.distributed_c10d``) on ``mpi4py``
for CPU tensors and on NCCL for CUDA tensors (backend ``"nccl"``, or ``"cpu:gloo,cuda:nccl"``).

An ``async_op=True`` collective (and every point-to-point one) is a non-blocking MPI request
waited on with the group's ``timeout``: a peer that never arrives raises ``RuntimeError``
naming the rank instead of hanging. A rank that raises aborts the job (``sys.excepthook``). Tensor memory goes to MPI as a NumPy view (no copy) when the tensor is contiguous
and on the CPU.
"""

import datetime
import enum
import importlib.util
import os
import sys
import time

import numpy as np

_DEFAULT_TIMEOUT = datetime.timedelta(minutes=30)


class ReduceOp(enum.Enum):
    """Reduction of ``all_reduce``, ``reduce`` and ``reduce_scatter_tensor``."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"


_cache = {}  # MPI module, op table, debug flag: looked up once (a call costs microseconds)


def _mpi():
    mpi = _cache.get("MPI")
    if mpi is None:
        from mpi4py import MPI

        mpi = _cache["MPI"] = MPI
    return mpi


def is_mpi_available():
    """True when ``mpi4py`` (the MPI backend's transport) can be imported."""
    return importlib.util.find_spec("mpi4py") is not None


def is_nccl_available():
    """True when NCCL (``libnccl.so.2``: the ``nvidia-nccl-cu13`` pip package) can be loaded."""
    from rustgrad import _core

    return _core._nccl_library() is not None


def is_available():
    """True: the distributed package is part of every build (its MPI backend needs mpi4py)."""
    return True


class ProcessGroup:
    """A set of ranks with its own MPI communicator (``comm``) and timeout; CUDA tensors go
    through an NCCL communicator per device (``uses_nccl``), made at the group's first
    collective on that device (the unique id broadcast over ``comm``), as PyTorch makes its
    NCCL communicators lazily."""

    def __init__(self, comm, backend, timeout, ranks, uses_mpi=True, uses_nccl=False):
        self.comm = comm
        self.backend = backend
        self.timeout = timeout
        self.ranks = ranks  # global ranks, in group-rank order
        self.uses_mpi = uses_mpi  # CPU tensors
        self.uses_nccl = uses_nccl  # CUDA tensors
        self._nccl = {}  # device index -> NcclCommunicator

    def nccl(self, index):
        """The NCCL communicator of CUDA device ``index`` (every rank calls this together)."""
        c = self._nccl.get(index)
        if c is None:
            from rustgrad import _core

            uid = _core._nccl_unique_id() if self.rank() == 0 else None
            uid = self.comm.bcast(uid, root=0)
            c = self._nccl[index] = _core.NcclCommunicator(uid, self.size(), self.rank(), index)
        return c

    def _close(self):
        for c in self._nccl.values():
            c.close()
        self._nccl.clear()
        self.comm.Free()

    def rank(self):
        """This process's rank in the group."""
        return self.comm.Get_rank()

    def size(self):
        """Number of processes in the group."""
        return self.comm.Get_size()


class GroupMember:
    """``GroupMember.WORLD`` is the default group; ``NON_GROUP_MEMBER`` what ``new_group``
    returns on ranks outside the group."""

    WORLD = None
    NON_GROUP_MEMBER = object()


_state = {"world": None, "hook": None}


def _world():
    if _state["world"] is None:
        raise ValueError(
            "Default process group has not been initialized, please make sure to call "
            "init_process_group."
        )
    return _state["world"]


def _group(group):
    return _world() if group is None else group


def _global_rank():
    return _world().comm.Get_rank()


def _nccl_error():
    """PyTorch's error when the NCCL backend cannot be used, or None when it can."""
    from rustgrad import _core, cuda

    if not cuda.is_available():
        return RuntimeError("ProcessGroupNCCL is only supported with GPUs, no GPUs found!")
    try:
        _core._nccl_version()
    except RuntimeError as e:
        return RuntimeError(f"Distributed package doesn't have NCCL built in ({e})")
    return None


def _env_int(*names):
    for n in names:
        if os.environ.get(n):
            return int(os.environ[n])
    return None


def init_process_group(
    backend=None,
    init_method=None,
    timeout=None,
    world_size=-1,
    rank=-1,
    store=None,
    group_name="",
    pg_options=None,
    device_id=None,
):
    """Join the default process group.

    ``backend``: ``"mpi"`` (default) or ``"gloo"`` (the same MPI transport) for CPU tensors;
    ``"nccl"`` for CUDA tensors; ``"cpu:gloo,cuda:nccl"`` for both. MPI starts the processes and
    carries NCCL's unique id (``mpi4py`` is needed for every backend). The world is MPI's
    ``COMM_WORLD``; ``rank`` and
    ``world_size`` (or ``RANK``/``WORLD_SIZE``, Open MPI's ``OMPI_COMM_WORLD_*``) must agree
    with it. ``init_method``/``MASTER_ADDR``/``MASTER_PORT`` are accepted and not needed: MPI's
    launcher wires the processes up.
    """
    if _state["world"] is not None:
        raise ValueError("trying to initialize the default process group twice!")
    backend = (backend or "mpi").lower()
    if ":" in backend:  # "cpu:gloo,cuda:nccl"
        parts = dict(p.split(":") for p in backend.split(","))
        cpu_backend, cuda_backend = parts.get("cpu"), parts.get("cuda")
    elif backend == "nccl":
        cpu_backend, cuda_backend = None, "nccl"
    else:
        cpu_backend, cuda_backend = backend, None
    for b in (cpu_backend, cuda_backend):
        if b not in (None, "mpi", "gloo", "nccl") or (b == "nccl" and b is cpu_backend):
            raise ValueError(f"Invalid backend: '{b}'")
    if cuda_backend == "nccl":
        err = _nccl_error()
        if err is not None:
            raise err
    if not is_mpi_available():
        raise RuntimeError(
            "Distributed package doesn't have MPI built in. MPI is only included if you "
            "install mpi4py (pip install 'rustgrad[distributed]')"
        )
    if timeout is None:
        timeout = _DEFAULT_TIMEOUT
    if not isinstance(timeout, datetime.timedelta):
        raise TypeError(
            f"Expected timeout argument to be of type datetime.timedelta, got {timeout}"
        )
    MPI = _mpi()
    comm = MPI.COMM_WORLD
    want_size = world_size if world_size != -1 else _env_int("WORLD_SIZE", "OMPI_COMM_WORLD_SIZE")
    want_rank = rank if rank != -1 else _env_int("RANK", "OMPI_COMM_WORLD_RANK")
    if want_size is not None and want_size != comm.Get_size():
        raise ValueError(
            f"world_size={want_size} but MPI started {comm.Get_size()} processes: launch with "
            f"mpiexec -n {want_size} (or python -m rustgrad.distributed.run)"
        )
    if want_rank is not None and want_rank != comm.Get_rank():
        raise ValueError(f"rank={want_rank} but MPI gave this process rank {comm.Get_rank()}")
    _cache["debug"] = os.environ.get("TORCH_DISTRIBUTED_DEBUG", "").upper() == "DETAIL"
    comm = comm.Dup()  # our own context: user mpi4py traffic on COMM_WORLD cannot mix in
    comm.Set_errhandler(MPI.ERRORS_RETURN)
    world = ProcessGroup(
        comm,
        backend,
        timeout,
        list(range(comm.Get_size())),
        uses_mpi=cpu_backend is not None,
        uses_nccl=cuda_backend == "nccl",
    )
    _state["world"] = world
    GroupMember.WORLD = world
    if comm.Get_size() > 1 and _state["hook"] is None:
        _install_abort_hook()


def _install_abort_hook():
    """An uncaught exception on one rank aborts the job, so the other ranks fail fast
    (the launcher kills them) instead of waiting in a collective forever."""
    previous = sys.excepthook

    def hook(tp, value, tb):
        previous(tp, value, tb)
        sys.stderr.flush()
        _mpi().COMM_WORLD.Abort(1)

    _state["hook"] = previous
    sys.excepthook = hook


def is_initialized():
    """True after ``init_process_group`` (and before ``destroy_process_group``)."""
    return _state["world"] is not None


def destroy_process_group(group=None):
    """Leave ``group`` (default: the world, which also restores ``sys.excepthook``)."""
    if group is None or group is _state["world"]:
        world = _world()
        world._close()
        _state["world"] = None
        GroupMember.WORLD = None
        if _state["hook"] is not None:
            sys.excepthook = _state["hook"]
            _state["hook"] = None
    elif group is not GroupMember.NON_GROUP_MEMBER:
        group._close()


def get_backend(group=None):
    """The backend's name, e.g. ``"mpi"``."""
    return _group(group).backend


def get_rank(group=None):
    """This process's rank in ``group`` (-1 when not a member)."""
    if group is GroupMember.NON_GROUP_MEMBER:
        return -1
    return _group(group).rank()


def get_world_size(group=None):
    """Number of processes in ``group`` (-1 when not a member)."""
    if group is GroupMember.NON_GROUP_MEMBER:
        return -1
    return _group(group).size()


def get_group_rank(group, global_rank):
    """``group``'s rank of the process with world rank ``global_rank``."""
    g = _group(group)
    if global_rank not in g.ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {g}")
    return g.ranks.index(global_rank)


def get_global_rank(group, group_rank):
    """The world rank of ``group``'s rank ``group_rank``."""
    g = _group(group)
    if not 0 <= group_rank < len(g.ranks):
        raise ValueError(f"Group rank {group_rank} is not part of group {g}")
    return g.ranks[group_rank]


def new_group(
    ranks=None, timeout=None, backend=None, pg_options=None, use_local_synchronization=False
):
    """A sub-group of the world (called on every rank, as PyTorch requires); ranks outside it
    get ``GroupMember.NON_GROUP_MEMBER``."""
    world = _world()
    ranks = list(range(world.size())) if ranks is None else sorted(int(r) for r in ranks)
    for r in ranks:
        if not 0 <= r < world.size():
            raise ValueError(f"Invalid rank {r}, world size is {world.size()}")
    comm = world.comm.Create_group(world.comm.group.Incl(ranks))
    if comm == _mpi().COMM_NULL:
        return GroupMember.NON_GROUP_MEMBER
    comm.Set_errhandler(_mpi().ERRORS_RETURN)
    return ProcessGroup(
        comm,
        backend or world.backend,
        timeout or world.timeout,
        ranks,
        uses_mpi=world.uses_mpi,
        uses_nccl=world.uses_nccl,
    )


class Work:
    """Handle of an ``async_op=True`` collective: ``wait()`` blocks (up to the group's
    timeout, then raises), ``is_completed()`` polls."""

    def __init__(self, requests, group, what, finish=None):
        self._requests = requests
        self._group = group
        self._what = what
        self._finish = finish
        self._done = False
        self._result = None

    def _complete(self):
        if not self._done:
            self._done = True
            if self._finish is not None:
                self._result = self._finish()

    def is_completed(self):
        """True once the operation has finished (polls MPI; never blocks)."""
        if self._done:
            return True
        try:
            if _mpi().Request.Testall(self._requests):
                self._complete()
        except _mpi().Exception as e:
            raise self._error(str(e)) from e
        return self._done

    def wait(self, timeout=None):
        """Block until done; RuntimeError naming the rank after ``timeout`` (a
        ``timedelta``; default the group's)."""
        if self._done:
            return True
        MPI = _mpi()
        limit = timeout if timeout is not None else self._group.timeout
        deadline = time.monotonic() + limit.total_seconds()
        reqs, spins = self._requests, 0
        try:
            # MPI progresses a non-blocking collective only inside MPI calls, so poll without
            # sleeping; past the first spins yield the core (ranks may share cores).
            while not MPI.Request.Testall(reqs):
                spins += 1
                if spins > 100:
                    time.sleep(0)
                    if time.monotonic() > deadline:
                        raise self._error(
                            f"timed out after {limit.total_seconds():g} s "
                            "(a peer did not join the collective)"
                        )
        except MPI.Exception as e:
            raise self._error(str(e)) from e
        self._complete()
        return True

    def result(self):
        """What the operation produced (``irecv``: the sender's rank), after ``wait``."""
        return self._result

    def _error(self, why):
        return RuntimeError(f"[Rank {_global_rank()}] {self._what} failed: {why}")


def _buf(t, what):
    """The tensor's memory as a NumPy array (a view: MPI reads and writes it in place)."""
    from rustgrad._core import Tensor

    if not isinstance(t, Tensor):
        raise TypeError(f"{what}(): argument must be a Tensor, not {type(t).__name__}")
    if t.device.type != "cpu":
        raise RuntimeError(f"{what}: the MPI backend takes CPU tensors only, got {t.device}")
    if not t.is_contiguous():
        raise ValueError("Tensors must be contiguous")
    return t.detach().numpy()


def _nccl_for(g, what, *tensors):
    """The group's NCCL communicator for ``tensors`` when they are CUDA tensors and the group
    uses NCCL; None for CPU tensors (MPI's path, which also refuses CUDA tensors of an
    MPI-only group)."""
    from rustgrad._core import Tensor

    on_cuda = [isinstance(t, Tensor) and t.device.type == "cuda" for t in tensors]
    if not any(on_cuda):
        if not g.uses_mpi:
            raise RuntimeError("No backend type associated with device type cpu")
        return None
    if not g.uses_nccl:
        return None
    index = tensors[0].device.index or 0
    if not all(on_cuda) or any((t.device.index or 0) != index for t in tensors):
        raise RuntimeError(f"{what}: every tensor must be on the same CUDA device")
    return g.nccl(index)


class _NcclWork(Work):
    """Handle of an NCCL collective. It is queued on the device's stream, where every later
    rustgrad kernel runs too, so ``wait()`` has nothing to order: it raises an error NCCL met
    in queued work (a peer gone); ``is_completed()`` waits for the device."""

    def __init__(self, nc, group, what, index):
        super().__init__([], group, what)
        self._nc, self._index = nc, index

    def _check(self):
        err = self._nc.async_error()
        if err is not None:
            raise self._error(err)

    def is_completed(self):
        from rustgrad import cuda

        cuda.synchronize(self._index)
        self._check()
        self._done = True
        return True

    def wait(self, timeout=None):
        self._check()
        self._done = True
        return True


def _nccl_run(g, nc, what, call, async_op, index):
    """Queue an NCCL collective (``call()``); an ``async_op`` gets a ``Work``."""
    try:
        call()
    except RuntimeError as e:
        raise RuntimeError(f"[Rank {_global_rank()}] {what} failed: {e}") from e
    return _NcclWork(nc, g, what, index) if async_op else None


def _index(t):
    return t.device.index or 0


def _mpi_op(op, what):
    table = _cache.get("ops")
    if table is None:
        MPI = _mpi()
        table = _cache["ops"] = {
            ReduceOp.SUM: MPI.SUM,
            ReduceOp.AVG: MPI.SUM,  # then divided by the group's size
            ReduceOp.PRODUCT: MPI.PROD,
            ReduceOp.MIN: MPI.MIN,
            ReduceOp.MAX: MPI.MAX,
        }
    if op not in table:
        raise ValueError(f"{what}: unsupported op {op!r}")
    return table[op]


def _average(arr, n):
    if np.issubdtype(arr.dtype, np.integer):
        np.floor_divide(arr, n, out=arr)
    else:
        np.divide(arr, n, out=arr)


def _check_debug(g, what, arrs):
    """``TORCH_DISTRIBUTED_DEBUG=DETAIL``: compare every rank's shapes and dtypes first, so a
    mismatch raises on all ranks instead of corrupting data or hanging."""
    if not _cache["debug"]:
        return
    mine = (what, [(a.shape, a.dtype.str) for a in arrs])
    everyone = g.comm.allgather(mine)
    for r, theirs in enumerate(everyone):
        if theirs != mine:
            raise RuntimeError(
                f"[Rank {_global_rank()}] Detected mismatch between collectives on ranks. "
                f"Rank {g.rank()} is running collective: {mine}, but Rank {r} is running "
                f"collective: {theirs}."
            )


def _post(g, what, start, async_op, finish=None):
    """Run a collective: ``start(False)`` posts it as non-blocking MPI requests (``async_op``:
    returned as a ``Work`` whose ``wait`` has the group's timeout); ``start(True)`` runs
    MPI's blocking collective, whose algorithms are faster than the non-blocking ones (no
    timeout then, as PyTorch's MPI backend; a rank that dies aborts the job)."""
    if g is GroupMember.NON_GROUP_MEMBER:
        return None
    if not async_op:
        try:
            start(True)
        except _mpi().Exception as e:
            raise RuntimeError(f"[Rank {_global_rank()}] {what} failed: {e}") from e
        if finish is not None:
            finish()
        return None
    try:
        reqs = start(False)
    except _mpi().Exception as e:
        raise RuntimeError(f"[Rank {_global_rank()}] {what} failed: {e}") from e
    work = Work(reqs if isinstance(reqs, list) else [reqs], g, what, finish)
    if async_op:
        return work
    work.wait()
    return None


def _member(group):
    return group is not GroupMember.NON_GROUP_MEMBER


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``tensor`` across the group, in place on every rank."""
    if not _member(group):
        return None
    g = _group(group)
    nc = _nccl_for(g, "all_reduce", tensor)
    if nc is not None:
        if not isinstance(op, ReduceOp):
            raise ValueError(f"all_reduce: unsupported op {op!r}")
        call = lambda: nc.all_reduce(tensor, op.value)
        return _nccl_run(g, nc, "all_reduce", call, async_op, _index(tensor))
    a = _buf(tensor, "all_reduce")
    _check_debug(g, "all_reduce", [a])
    mop = _mpi_op(op, "all_reduce")
    fin = (lambda: _average(a, g.size())) if op == ReduceOp.AVG else None
    return _post(
        g,
        "all_reduce",
        lambda b: (g.comm.Allreduce if b else g.comm.Iallreduce)(_mpi().IN_PLACE, a, mop),
        async_op,
        fin,
    )


def broadcast(tensor, src, group=None, async_op=False):
    """Copy ``tensor`` of (global) rank ``src`` into ``tensor`` on every rank."""
    if not _member(group):
        return None
    g = _group(group)
    root = get_group_rank(g, src)
    nc = _nccl_for(g, "broadcast", tensor)
    if nc is not None:
        call = lambda: nc.broadcast(tensor, root)
        return _nccl_run(g, nc, "broadcast", call, async_op, _index(tensor))
    a = _buf(tensor, "broadcast")
    _check_debug(g, "broadcast", [a])
    return _post(
        g, "broadcast", lambda b: (g.comm.Bcast if b else g.comm.Ibcast)(a, root=root), async_op
    )


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Concatenate every rank's ``input_tensor`` (along dim 0) into ``output_tensor``."""
    if not _member(group):
        return None
    g = _group(group)
    nc = _nccl_for(g, "all_gather_into_tensor", output_tensor, input_tensor)
    if nc is not None:
        call = lambda: nc.all_gather(output_tensor, input_tensor)
        return _nccl_run(g, nc, "all_gather_into_tensor", call, async_op, _index(input_tensor))
    out, inp = (
        _buf(output_tensor, "all_gather_into_tensor"),
        _buf(input_tensor, "all_gather_into_tensor"),
    )
    if out.dtype != inp.dtype:
        raise TypeError("output tensor must have the same type as input tensor")
    if out.size != inp.size * g.size():
        raise ValueError("output tensor size must be equal to world_size times input tensor size")
    _check_debug(g, "all_gather_into_tensor", [inp])
    return _post(
        g,
        "all_gather_into_tensor",
        lambda b: (g.comm.Allgather if b else g.comm.Iallgather)(inp, out),
        async_op,
    )


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Fill ``tensor_list[r]`` with rank ``r``'s ``tensor``."""
    if not _member(group):
        return None
    g = _group(group)
    nc = _nccl_for(g, "all_gather", tensor, *tensor_list)
    if nc is not None:
        return _nccl_all_gather(g, nc, tensor_list, tensor, async_op)
    inp = _buf(tensor, "all_gather")
    if len(tensor_list) != g.size():
        raise ValueError(
            f"all_gather: tensor_list has {len(tensor_list)} tensors, the group has {g.size()} ranks"
        )
    outs = [_buf(t, "all_gather") for t in tensor_list]
    for o in outs:
        if o.dtype != inp.dtype or o.size != inp.size:
            raise ValueError("all_gather: every output must match the input's dtype and size")
    _check_debug(g, "all_gather", [inp])
    flat = np.empty((g.size(), inp.size), dtype=inp.dtype)

    def finish():
        for o, row in zip(outs, flat):
            o.reshape(-1)[...] = row

    return _post(
        g,
        "all_gather",
        lambda b: (g.comm.Allgather if b else g.comm.Iallgather)(inp, flat),
        async_op,
        finish,
    )


def _nccl_all_gather(g, nc, tensor_list, tensor, async_op):
    """``all_gather`` of CUDA tensors: into one flat tensor, then copied into the list."""
    import rustgrad

    if len(tensor_list) != g.size():
        raise ValueError(
            f"all_gather: tensor_list has {len(tensor_list)} tensors, the group has {g.size()} ranks"
        )
    n = tensor.numel()
    for o in tensor_list:
        if o.dtype != tensor.dtype or o.numel() != n:
            raise ValueError("all_gather: every output must match the input's dtype and size")
    flat = rustgrad.empty(n * g.size(), dtype=tensor.dtype, device=tensor.device)

    def call():
        nc.all_gather(flat, tensor.contiguous().reshape(-1))
        with rustgrad.no_grad():
            for r, o in enumerate(tensor_list):
                o.copy_(flat[r * n : (r + 1) * n].reshape(o.shape))

    return _nccl_run(g, nc, "all_gather", call, async_op, _index(tensor))


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``input`` across ranks and give rank ``r`` the ``r``-th chunk (dim 0) in
    ``output``."""
    if not _member(group):
        return None
    g = _group(group)
    nc = _nccl_for(g, "reduce_scatter_tensor", output, input)
    if nc is not None:
        if not isinstance(op, ReduceOp):
            raise ValueError(f"reduce_scatter_tensor: unsupported op {op!r}")
        call = lambda: nc.reduce_scatter(output, input, op.value)
        return _nccl_run(g, nc, "reduce_scatter_tensor", call, async_op, _index(input))
    out, inp = _buf(output, "reduce_scatter_tensor"), _buf(input, "reduce_scatter_tensor")
    if out.dtype != inp.dtype:
        raise TypeError("output tensor must have the same type as input tensor")
    if inp.size != out.size * g.size():
        raise ValueError("input tensor must be the same size as output size times world size")
    _check_debug(g, "reduce_scatter_tensor", [inp])
    mop = _mpi_op(op, "reduce_scatter_tensor")
    fin = (lambda: _average(out, g.size())) if op == ReduceOp.AVG else None
    return _post(
        g,
        "reduce_scatter_tensor",
        lambda b: (g.comm.Reduce_scatter_block if b else g.comm.Ireduce_scatter_block)(
            inp, out, mop
        ),
        async_op,
        fin,
    )


def reduce(tensor, dst, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``tensor`` across ranks into ``tensor`` on (global) rank ``dst`` only."""
    if not _member(group):
        return None
    g = _group(group)
    root = get_group_rank(g, dst)
    nc = _nccl_for(g, "reduce", tensor)
    if nc is not None:
        if not isinstance(op, ReduceOp):
            raise ValueError(f"reduce: unsupported op {op!r}")
        call = lambda: nc.reduce(tensor, root, op.value)
        return _nccl_run(g, nc, "reduce", call, async_op, _index(tensor))
    a = _buf(tensor, "reduce")
    _check_debug(g, "reduce", [a])
    mop = _mpi_op(op, "reduce")
    me = g.rank() == root
    fin = (lambda: _average(a, g.size())) if op == ReduceOp.AVG and me else None
    send = _mpi().IN_PLACE if me else a
    return _post(
        g,
        "reduce",
        lambda b: (g.comm.Reduce if b else g.comm.Ireduce)(send, a if me else None, mop, root=root),
        async_op,
        fin,
    )


def gather(tensor, gather_list=None, dst=0, group=None, async_op=False):
    """Collect every rank's ``tensor`` into ``gather_list`` on (global) rank ``dst``."""
    if not _member(group):
        return None
    g = _group(group)
    root = get_group_rank(g, dst)
    me = g.rank() == root
    nc = _nccl_for(g, "gather", tensor, *(gather_list or []))
    if nc is not None:
        return _nccl_exchange(g, nc, "gather", tensor, gather_list, root, async_op, gather=True)
    inp = _buf(tensor, "gather")
    if me:
        if gather_list is None or len(gather_list) != g.size():
            raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
        outs = [_buf(t, "gather") for t in gather_list]
    elif gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination ranks.")
    _check_debug(g, "gather", [inp])
    flat = np.empty((g.size(), inp.size), dtype=inp.dtype) if me else None

    def finish():
        if me:
            for o, row in zip(outs, flat):
                o.reshape(-1)[...] = row

    return _post(
        g,
        "gather",
        lambda b: (g.comm.Gather if b else g.comm.Igather)(inp, flat, root=root),
        async_op,
        finish,
    )


def scatter(tensor, scatter_list=None, src=0, group=None, async_op=False):
    """Give rank ``r`` the tensor ``scatter_list[r]`` of (global) rank ``src``."""
    if not _member(group):
        return None
    g = _group(group)
    root = get_group_rank(g, src)
    me = g.rank() == root
    nc = _nccl_for(g, "scatter", tensor, *(scatter_list or []))
    if nc is not None:
        return _nccl_exchange(g, nc, "scatter", tensor, scatter_list, root, async_op, gather=False)
    out = _buf(tensor, "scatter")
    flat = None
    if me:
        if scatter_list is None or len(scatter_list) != g.size():
            raise ValueError("Argument ``scatter_list`` must be specified on source rank.")
        flat = np.stack([_buf(t, "scatter").reshape(-1) for t in scatter_list])
        if flat.dtype != out.dtype or flat.shape[1] != out.size:
            raise ValueError(
                "scatter: every tensor of scatter_list must match tensor's dtype and size"
            )
    elif scatter_list:
        raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    _check_debug(g, "scatter", [out])
    return _post(
        g,
        "scatter",
        lambda b: (g.comm.Scatter if b else g.comm.Iscatter)(flat, out, root=root),
        async_op,
    )


def _nccl_exchange(g, nc, what, tensor, tensors, root, async_op, gather):
    """``gather``/``scatter`` of CUDA tensors: the root's sends or receives, one NCCL group."""
    import rustgrad

    me = g.rank()
    word = "gather_list" if gather else "scatter_list"
    if me == root:
        if tensors is None or len(tensors) != g.size():
            raise ValueError(
                f"Argument ``{word}`` must be specified on "
                f"{'destination' if gather else 'source'} rank."
            )
        for t in tensors:
            if t.dtype != tensor.dtype or t.numel() != tensor.numel():
                raise ValueError(
                    f"{what}: every tensor of {word} must match tensor's dtype and size"
                )
    elif tensors:
        raise ValueError(
            f"Argument ``{word}`` must NOT be specified on "
            f"non-{'destination' if gather else 'source'} ranks."
        )

    def call():
        nc.group_start()
        try:
            if me == root:
                for r, t in enumerate(tensors):
                    if r != root:
                        (nc.recv if gather else nc.send)(t, r)
            else:
                (nc.send if gather else nc.recv)(tensor, root)
        finally:
            nc.group_end()
        if me == root:
            with rustgrad.no_grad():
                if gather:
                    tensors[root].copy_(tensor)
                else:
                    tensor.copy_(tensors[root])

    return _nccl_run(g, nc, what, call, async_op, _index(tensor))


def isend(tensor, dst, group=None, tag=0):
    """Send ``tensor`` to (global) rank ``dst`` asynchronously; returns a ``Work``."""
    if not _member(group):
        return None
    g = _group(group)
    peer = get_group_rank(g, dst)
    nc = _nccl_for(g, "isend", tensor)
    if nc is not None:
        return _nccl_run(g, nc, "isend", lambda: nc.send(tensor, peer), True, _index(tensor))
    a = _buf(tensor, "isend")
    return _post(g, "isend", lambda b: g.comm.Isend(a, dest=peer, tag=tag), True)


def irecv(tensor, src=None, group=None, tag=0):
    """Receive into ``tensor`` from (global) rank ``src`` (any rank when None); ``wait()``
    then ``result()`` gives nothing, ``recv`` returns the sender."""
    if not _member(group):
        return None
    g = _group(group)
    nc = _nccl_for(g, "irecv", tensor)
    if nc is not None:
        if src is None:
            raise RuntimeError("irecv: the NCCL backend needs the source rank (src=None)")
        peer = get_group_rank(g, src)
        work = _nccl_run(g, nc, "irecv", lambda: nc.recv(tensor, peer), True, _index(tensor))
        work._result = src
        work._finish = lambda: src
        return work
    a = _buf(tensor, "irecv")
    MPI = _mpi()
    peer = MPI.ANY_SOURCE if src is None else get_group_rank(g, src)
    status = MPI.Status()
    req = g.comm.Irecv(a, source=peer, tag=tag)
    work = Work([req], g, "irecv", lambda: g.ranks[status.Get_source()])
    work._status = status

    def is_completed():
        if not work._done and req.Test(status):
            work._complete()
        return work._done

    def wait(timeout=None):
        limit = timeout if timeout is not None else g.timeout
        deadline = time.monotonic() + limit.total_seconds()
        while not is_completed():
            time.sleep(0.0001)
            if time.monotonic() > deadline:
                raise work._error(f"timed out after {limit.total_seconds():g} s waiting for a send")
        return True

    work.is_completed, work.wait = is_completed, wait
    return work


def send(tensor, dst, group=None, tag=0):
    """Send ``tensor`` to (global) rank ``dst``."""
    w = isend(tensor, dst, group, tag)
    if w is not None:
        w.wait()


def recv(tensor, src=None, group=None, tag=0):
    """Receive into ``tensor``; returns the sender's (global) rank."""
    w = irecv(tensor, src, group, tag)
    if w is None:
        return -1
    w.wait()
    return w.result()


def barrier(group=None, async_op=False, device_ids=None):
    """Wait until every rank of the group gets here."""
    if not _member(group):
        return None
    g = _group(group)
    if g._nccl:  # the devices' queued collectives first, as PyTorch's NCCL barrier
        from rustgrad import cuda

        for index in g._nccl:
            cuda.synchronize(index)
    return _post(g, "barrier", lambda b: g.comm.Barrier() if b else g.comm.Ibarrier(), async_op)


def all_gather_object(object_list, obj, group=None):
    """Fill ``object_list[r]`` with rank ``r``'s picklable ``obj``."""
    if not _member(group):
        return
    g = _group(group)
    if len(object_list) != g.size():
        raise ValueError("all_gather_object: object_list must have one slot per rank")
    object_list[:] = g.comm.allgather(obj)


def broadcast_object_list(object_list, src=0, group=None, device=None):
    """Replace ``object_list``'s items with (global) rank ``src``'s."""
    if not _member(group):
        return
    g = _group(group)
    object_list[:] = g.comm.bcast(list(object_list), root=get_group_rank(g, src))
