"""``DataLoader``: batches from a dataset, in this process or in worker processes, as
PyTorch's.

With ``num_workers > 0``, worker processes (Python's ``multiprocessing``, its default start
method) each get index batches through their own queue and send collated batches back through
one shared queue; the main process hands them out in the sampler's order, keeping
``prefetch_factor`` batches per worker in flight. Each worker seeds Python's ``random`` and
rustgrad's generator with ``base_seed + worker_id`` (``base_seed`` drawn from the loader's
``generator``), so a seeded run is reproducible. An exception in a worker is raised again in
the main process with the worker's traceback; a worker that dies raises a ``RuntimeError``.
"""

import collections.abc
import contextlib
import itertools
import multiprocessing
import queue
import random
import sys
import traceback
import warnings

import rustgrad
from rustgrad.utils.data._collate import default_collate, default_convert
from rustgrad.utils.data.dataset import IterableDataset
from rustgrad.utils.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    _seed_from,
)

__all__ = ["DataLoader", "WorkerInfo", "get_worker_info"]

# How often a waiting process checks that its peers are alive (seconds).
_STATUS_CHECK_INTERVAL = 5.0


class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker: ``id``, ``num_workers``, ``seed``,
    ``dataset`` (this worker's copy)."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)
        self._frozen = True

    def __setattr__(self, key, value):
        if getattr(self, "_frozen", False):
            raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")
        super().__setattr__(key, value)

    def __repr__(self):
        fields = ", ".join(f"{k}={self.__dict__[k]}" for k in ("id", "num_workers", "seed"))
        return f"{type(self).__name__}({fields}, dataset={self.dataset!r})"


_worker_info = None


def get_worker_info():
    """The ``WorkerInfo`` of the current worker process, or ``None`` in the main process."""
    return _worker_info


class _ExceptionWrapper:
    """An exception caught in a worker, carried to the main process with its traceback."""

    def __init__(self, where):
        exc_type, _exc, _ = sys.exc_info()
        self.exc_type = exc_type
        self.message = f"Caught {exc_type.__name__} {where}.\nOriginal " + "".join(
            traceback.format_exception(*sys.exc_info())
        )

    def reraise(self):
        if self.exc_type is KeyError:
            raise KeyError(self.message)  # KeyError would quote the whole message
        try:
            error = self.exc_type(self.message)
        except Exception:  # noqa: BLE001 - a type that takes no message
            raise RuntimeError(self.message) from None
        raise error


class _StreamEnd:
    """A worker's iterable dataset is exhausted."""

    def __init__(self, worker_id):
        self.worker_id = worker_id


class _Fetcher:
    """Reads one batch (or one sample without auto-collation) from the dataset."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.stream = iter(dataset) if isinstance(dataset, IterableDataset) else None
        self.ended = False

    def fetch(self, index):
        if self.stream is None:
            if self.auto_collation:
                many = getattr(self.dataset, "__getitems__", None)
                data = many(index) if many else [self.dataset[i] for i in index]
            else:
                data = self.dataset[index]
        else:
            if self.ended:
                raise StopIteration
            if self.auto_collation:
                data = list(itertools.islice(self.stream, len(index)))
                if not data or (self.drop_last and len(data) < len(index)):
                    self.ended = True
                    raise StopIteration
                if len(data) < len(index):
                    self.ended = True
            else:
                data = next(self.stream)
        return self.collate_fn(data)


def _worker_loop(
    dataset, index_queue, data_queue, done_event, auto_collation, collate_fn, drop_last,
    base_seed, init_fn, worker_id, num_workers,
):  # fmt: skip
    global _worker_info
    seed = base_seed + worker_id
    random.seed(seed)
    rustgrad.manual_seed(seed)
    _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
    init_error = None
    try:
        if init_fn is not None:
            init_fn(worker_id)
        fetcher = _Fetcher(dataset, auto_collation, collate_fn, drop_last)
    except Exception:  # noqa: BLE001 - carried to the main process
        init_error = _ExceptionWrapper(f"in DataLoader worker process {worker_id}")
    try:
        while not done_event.is_set():
            try:
                task = index_queue.get(timeout=_STATUS_CHECK_INTERVAL)
            except queue.Empty:
                continue
            if task is None:
                break
            task_id, index = task
            if init_error is not None:
                data, init_error = init_error, None
            else:
                try:
                    data = fetcher.fetch(index)
                except StopIteration:
                    data = _StreamEnd(worker_id)
                except Exception:  # noqa: BLE001 - carried to the main process
                    data = _ExceptionWrapper(f"in DataLoader worker process {worker_id}")
            data_queue.put((task_id, data))
    except KeyboardInterrupt:
        pass
    data_queue.cancel_join_thread()
    data_queue.close()


def _pinned(data):
    """``data`` with every tensor in it page-locked (PyTorch's ``pin_memory`` of a batch:
    tensors, mappings, named tuples, sequences, and objects with a ``pin_memory`` method)."""
    if isinstance(data, rustgrad.Tensor):
        return data.pin_memory()
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        pinned = {k: _pinned(v) for k, v in data.items()}
        try:
            return type(data)(pinned)
        except TypeError:
            return pinned
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(_pinned(v) for v in data))
    if isinstance(data, tuple):
        return tuple(_pinned(v) for v in data)
    if isinstance(data, collections.abc.Sequence):
        try:
            return type(data)([_pinned(v) for v in data])
        except TypeError:
            return [_pinned(v) for v in data]
    if hasattr(data, "pin_memory"):
        return data.pin_memory()
    return data


def _pins(loader):
    """Whether the loader's batches are pinned: ``pin_memory=True`` where CUDA exists."""
    return bool(loader.pin_memory) and rustgrad.cuda.is_available()


class _SingleProcessIter:
    def __init__(self, loader):
        self._loader = loader
        self._indices = iter(loader._index_sampler)
        # Drawn (and unused) as PyTorch draws its workers' base seed here, so the stream
        # after it (a shuffling sampler's seed) is PyTorch's.
        _seed_from(loader.generator)
        self._fetcher = _Fetcher(
            loader.dataset, loader._auto_collation, loader.collate_fn, loader.drop_last
        )
        self._yielded = 0
        self._pin = _pins(loader)

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader)

    def __next__(self):
        index = next(self._indices)
        data = self._fetcher.fetch(index)
        self._yielded += 1
        return _pinned(data) if self._pin else data


class _MultiProcessIter:
    def __init__(self, loader):
        self._loader = loader
        self._indices = iter(loader._index_sampler)
        self._num_workers = loader.num_workers
        context = loader.multiprocessing_context or multiprocessing
        if isinstance(context, str):
            context = multiprocessing.get_context(context)
        base_seed = _seed_from(loader.generator)
        self._done = context.Event()
        self._data_queue = context.Queue()
        self._index_queues = []
        self._workers = []
        for worker_id in range(self._num_workers):
            index_queue = context.Queue()
            index_queue.cancel_join_thread()
            worker = context.Process(
                target=_worker_loop,
                args=(
                    loader.dataset, index_queue, self._data_queue, self._done,
                    loader._auto_collation, loader.collate_fn, loader.drop_last, base_seed,
                    loader.worker_init_fn, worker_id, self._num_workers,
                ),
                daemon=True,
            )  # fmt: skip
            worker.start()
            self._index_queues.append(index_queue)
            self._workers.append(worker)
        self._active = [True] * self._num_workers
        self._next_worker = itertools.cycle(range(self._num_workers))
        self._sent = 0  # tasks handed out
        self._wanted = 0  # the task whose batch is returned next
        self._pending = {}  # task -> worker, for tasks whose result is not out yet
        self._arrived = {}  # task -> data that came early
        self._shut = False
        self._pin = _pins(loader)
        for _ in range(loader.prefetch_factor * self._num_workers):
            self._send()

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader)

    def _send(self):
        for _ in range(self._num_workers):
            worker = next(self._next_worker)
            if self._active[worker]:
                break
        else:
            return
        try:
            index = next(self._indices)
        except StopIteration:
            return
        self._index_queues[worker].put((self._sent, index))
        self._pending[self._sent] = worker
        self._sent += 1

    def _receive(self):
        timeout = self._loader.timeout
        waited = 0.0
        while True:
            interval = _STATUS_CHECK_INTERVAL if timeout <= 0 else min(timeout - waited, 5.0)
            try:
                return self._data_queue.get(timeout=max(interval, 0.001))
            except queue.Empty:
                waited += interval
                dead = [w.pid for w in self._workers if not w.is_alive() and w.exitcode]
                if dead:
                    self._shutdown()
                    pids = ", ".join(map(str, dead))
                    raise RuntimeError(
                        f"DataLoader worker (pid(s) {pids}) exited unexpectedly"
                    ) from None
                if timeout > 0 and waited >= timeout:
                    self._shutdown()
                    raise RuntimeError(f"DataLoader timed out after {timeout} seconds") from None

    def __next__(self):
        while True:
            while self._wanted < self._sent and self._wanted not in self._pending:
                self._wanted += 1  # a task whose stream had ended
            if self._wanted >= self._sent:
                self._shutdown()
                raise StopIteration
            if self._wanted in self._arrived:
                data = self._arrived.pop(self._wanted)
                del self._pending[self._wanted]
                self._wanted += 1
                self._send()
                if isinstance(data, _ExceptionWrapper):
                    self._shutdown()
                    data.reraise()
                return _pinned(data) if self._pin else data
            task, data = self._receive()
            if isinstance(data, _StreamEnd):
                # That worker's copy of the stream is exhausted: no more tasks for it.
                self._active[data.worker_id] = False
                del self._pending[task]
                continue
            self._arrived[task] = data

    def _shutdown(self):
        if self._shut:
            return
        self._shut = True
        self._done.set()
        for q in self._index_queues:
            try:
                q.put(None)
            except (OSError, ValueError):
                pass
        for worker in self._workers:
            worker.join(timeout=_STATUS_CHECK_INTERVAL)
            if worker.is_alive():
                worker.terminate()
        for q in self._index_queues:
            q.close()
        self._data_queue.cancel_join_thread()
        self._data_queue.close()

    def __del__(self):
        # Interpreter shutdown may have torn down the queues already.
        with contextlib.suppress(Exception):
            self._shutdown()


class DataLoader:
    """``DataLoader(dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
    num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
    worker_init_fn=None, multiprocessing_context=None, generator=None, *,
    prefetch_factor=None, persistent_workers=False, pin_memory_device="", in_order=True)``.

    Iterating gives batches: ``collate_fn`` (``default_collate``) applied to ``batch_size``
    samples at the indices the sampler picks (shuffled each epoch with ``shuffle=True``).
    ``batch_size=None`` turns batching off (samples are converted, not collated).
    """

    def __init__(
        self,
        dataset,
        batch_size=1,
        shuffle=None,
        sampler=None,
        batch_sampler=None,
        num_workers=0,
        collate_fn=None,
        pin_memory=False,
        drop_last=False,
        timeout=0,
        worker_init_fn=None,
        multiprocessing_context=None,
        generator=None,
        *,
        prefetch_factor=None,
        persistent_workers=False,
        pin_memory_device="",
        in_order=True,
    ):
        if num_workers < 0:
            raise ValueError(
                "num_workers option should be non-negative; use num_workers=0 to disable "
                "multiprocessing."
            )
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing.let "
                "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to "
                "None."
            )
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        if multiprocessing_context is not None and num_workers == 0:
            raise ValueError(
                "multiprocessing_context can only be used with multi-process loading "
                f"(num_workers > 0), but got num_workers={num_workers}"
            )
        self.multiprocessing_context = multiprocessing_context
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        if pin_memory and not rustgrad.cuda.is_available():
            warnings.warn(
                "'pin_memory' argument is set as true but no accelerator is found, then device "
                "pinned memory won't be used.",
                stacklevel=2,
            )

        if isinstance(dataset, IterableDataset):
            if shuffle not in (False, None):
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified shuffle option, but "
                    f"got shuffle={shuffle}"
                )
            if sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified sampler option, but "
                    f"got sampler={sampler}"
                )
            if batch_sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified batch_sampler "
                    f"option, but got batch_sampler={batch_sampler}"
                )
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, "
                    "sampler, and drop_last"
                )
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually exclusive with "
                "drop_last"
            )
        if sampler is None:
            if isinstance(dataset, IterableDataset):
                sampler = _InfiniteSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self._persistent_iter = None
        self.__initialized = True

    # (what decides the batches: fixed once built, as PyTorch's; setting one would be ignored)
    _LOCKED = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")  # fmt: skip

    def __setattr__(self, attr, value):
        if self.__dict__.get("_DataLoader__initialized") and attr in self._LOCKED:
            raise ValueError(
                f"{attr} attribute should not be set after {type(self).__name__} is initialized"
            )
        super().__setattr__(attr, value)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self):
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        return _MultiProcessIter(self)

    def __len__(self):
        if isinstance(self.dataset, IterableDataset):
            length = len(self.dataset)  # TypeError when the stream has no length, as PyTorch
            if self.batch_size is not None:
                full, rest = divmod(length, self.batch_size)
                length = full if self.drop_last or rest == 0 else full + 1
            return length
        return len(self._index_sampler)


class _InfiniteSampler(Sampler):
    """Placeholder indices for an iterable dataset (its fetcher ignores them)."""

    def __iter__(self):
        while True:
            yield None
