"""``rustgrad.utils.data`` against ``torch.utils.data``: batches, collation, lengths, samplers,
worker processes and errors. Where PyTorch's output depends on its random stream, the
properties are checked instead (a permutation, reproducible with a seed, right frequencies)."""

import collections
import math

import numpy as np
import pytest
import rustgrad
from rustgrad.utils import data as rg_data

torch = pytest.importorskip("torch")


def plain(x):
    """A batch as plain Python values (and dtype names), comparable across the libraries."""
    if isinstance(x, (rustgrad.Tensor, torch.Tensor)):
        return ("tensor", str(x.dtype).split(".")[-1], tuple(x.shape), x.tolist())
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (type(x).__name__, tuple(plain(v) for v in x))
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [plain(v) for v in x])
    return x


class Squares:
    """A map-style dataset of varied samples (no base class needed, as in PyTorch)."""

    def __init__(self, lib, n=11):
        self.lib, self.n = lib, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {
            "x": self.lib.tensor([float(i), i * i], dtype=self.lib.float32),
            "label": i % 3,
            "weight": i / 4,
            "flag": i % 2 == 0,
            "name": f"item{i}",
            "array": np.full((2, 2), i, dtype=np.int32),
            "pair": (np.float64(i), [i, -i]),
        }


Point = collections.namedtuple("Point", "x y")


@pytest.mark.parametrize("batch_size, drop_last", [(1, False), (4, False), (4, True), (11, True)])
def test_sequential_batches_as_pytorch(batch_size, drop_last):
    ours = rg_data.DataLoader(Squares(rustgrad), batch_size=batch_size, drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(Squares(torch), batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert [plain(b) for b in ours] == [plain(b) for b in theirs]


def test_collate_structures_as_pytorch():
    samples = [
        [Point(np.int64(1), 2.5), Point(np.int64(3), 4.5)],
        [(1, "a"), (2, "b")],
        [[1.0, 2.0], [3.0, 4.0]],
        [np.array([1.5, 2.5], dtype=np.float32), np.array([3.5, 4.5], dtype=np.float32)],
        [np.float32(1.5), np.float32(2.5)],
        [True, False],
        [b"x", b"y"],
        [{"a": (1, 2)}, {"a": (3, 4)}],
    ]
    for batch in samples:
        ours = rg_data.default_collate(batch)
        theirs = torch.utils.data.default_collate(batch)
        assert plain(ours) == plain(theirs), batch


def test_collate_tensors_stack_and_errors_as_pytorch():
    ours = rg_data.default_collate([rustgrad.ones(2, 3), rustgrad.zeros(2, 3)])
    theirs = torch.utils.data.default_collate([torch.ones(2, 3), torch.zeros(2, 3)])
    assert plain(ours) == plain(theirs)
    for bad in ([[1, 2], [3]], [object(), object()], [np.array(["a"]), np.array(["b"])]):
        errors = []
        for collate in (rg_data.default_collate, torch.utils.data.default_collate):
            with pytest.raises(Exception) as info:
                collate(bad)
            errors.append(type(info.value))
        assert errors[0] == errors[1], bad
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        rg_data.default_collate([rustgrad.ones(2), rustgrad.ones(3)])


def test_no_auto_batching_converts_as_pytorch():
    ours = rg_data.DataLoader(Squares(rustgrad, 3), batch_size=None)
    theirs = torch.utils.data.DataLoader(Squares(torch, 3), batch_size=None)
    assert [plain(b) for b in ours] == [plain(b) for b in theirs]


def test_shuffle_is_a_seeded_permutation_each_epoch():
    ds = rg_data.TensorDataset(rustgrad.arange(20))
    loader = rg_data.DataLoader(ds, batch_size=6, shuffle=True)
    rustgrad.manual_seed(3)
    first = [x for (b,) in loader for x in b.tolist()]
    second = [x for (b,) in loader for x in b.tolist()]
    assert sorted(first) == sorted(second) == list(range(20))
    assert first != second  # a new order each epoch
    rustgrad.manual_seed(3)
    assert [x for (b,) in loader for x in b.tolist()] == first  # reproducible
    g = rustgrad.Generator().manual_seed(7)
    by_generator = rg_data.DataLoader(ds, batch_size=20, shuffle=True, generator=g)
    once = next(iter(by_generator))[0].tolist()
    g.manual_seed(7)
    assert next(iter(by_generator))[0].tolist() == once


def test_random_sampler_with_replacement_and_num_samples():
    sampler = rg_data.RandomSampler(range(5), replacement=True, num_samples=1000)
    drawn = list(sampler)
    assert len(drawn) == len(sampler) == 1000 and set(drawn) == set(range(5))
    counts = collections.Counter(drawn)
    assert all(abs(c - 200) < 60 for c in counts.values()), counts  # ~4 sigma
    more = list(rg_data.RandomSampler(range(4), num_samples=10))
    assert sorted(more[:4]) == sorted(more[4:8]) == [0, 1, 2, 3] and len(more) == 10


def test_weighted_sampler_frequencies():
    weights = [0.1, 0.0, 0.6, 0.3]
    sampler = rg_data.WeightedRandomSampler(
        weights, 4000, generator=rustgrad.Generator().manual_seed(0)
    )
    counts = collections.Counter(sampler)
    assert counts[1] == 0
    for i, w in enumerate(weights):
        sd = math.sqrt(4000 * w * (1 - w))
        assert abs(counts[i] - 4000 * w) <= 4.5 * sd + 1, (i, counts)
    no_repeat = list(rg_data.WeightedRandomSampler([1, 1, 1, 1], 4, replacement=False))
    assert sorted(no_repeat) == [0, 1, 2, 3]


def test_subset_random_sampler_and_batch_sampler():
    picked = list(rg_data.SubsetRandomSampler([10, 20, 30]))
    assert sorted(picked) == [10, 20, 30]
    for drop_last in (False, True):
        ours = rg_data.BatchSampler(rg_data.SequentialSampler(range(10)), 3, drop_last)
        theirs = torch.utils.data.BatchSampler(
            torch.utils.data.SequentialSampler(range(10)), 3, drop_last
        )
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_random_split_as_pytorch():
    ds = rg_data.TensorDataset(rustgrad.arange(10))
    for lengths in ([3, 7], [0.3, 0.7], [0.5, 0.25, 0.25], [1 / 3] * 3):
        ours = rg_data.random_split(ds, lengths, generator=rustgrad.Generator().manual_seed(1))
        theirs = torch.utils.data.random_split(range(10), lengths)
        assert [len(s) for s in ours] == [len(s) for s in theirs]
        items = sorted(int(s[i][0]) for s in ours for i in range(len(s)))
        assert items == list(range(10))
    for bad in ([3, 3], [0.5, 0.6], [-0.5, 1.5]):
        errors = []
        for split in (rg_data.random_split, torch.utils.data.random_split):
            with pytest.raises(ValueError) as info:
                split(range(10), bad)
            errors.append(str(info.value))
        assert errors[0] == errors[1]


def test_datasets_compose_as_pytorch():
    for lib, data in ((rustgrad, rg_data), (torch, torch.utils.data)):
        a = data.TensorDataset(lib.arange(3), lib.arange(3) * 10)
        b = data.TensorDataset(lib.arange(2), lib.arange(2) * 100)
        both = a + b
        assert isinstance(both, data.ConcatDataset)
        assert [tuple(int(v) for v in both[i]) for i in range(-5, 5)] == [
            (0, 0), (1, 10), (2, 20), (0, 0), (1, 100), (0, 0), (1, 10), (2, 20), (0, 0), (1, 100),
        ]  # fmt: skip
        sub = data.Subset(both, [4, 0])
        assert [int(sub[i][1]) for i in range(len(sub))] == [100, 0]
        stacked = data.StackDataset(x=a, y=a)
        assert set(stacked[1]) == {"x", "y"} and len(stacked) == 3
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        rg_data.TensorDataset(rustgrad.ones(2), rustgrad.ones(3))


class Stream(rg_data.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = rg_data.get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))


def test_iterable_dataset_batches_and_workers():
    single = [b.tolist() for b in rg_data.DataLoader(Stream(10), batch_size=4)]
    assert single == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    dropped = [b.tolist() for b in rg_data.DataLoader(Stream(10), batch_size=4, drop_last=True)]
    assert dropped == [[0, 1, 2, 3], [4, 5, 6, 7]]
    sharded = [b.tolist() for b in rg_data.DataLoader(Stream(10), batch_size=2, num_workers=2)]
    flat = sorted(x for b in sharded for x in b)
    assert flat == list(range(10))
    assert sharded[0] == [0, 2] and sharded[1] == [1, 3]  # workers take turns
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        rg_data.DataLoader(Stream(3), shuffle=True)


def test_workers_give_the_single_process_batches_in_order():
    ds = Squares(rustgrad, 23)
    single = [plain(b) for b in rg_data.DataLoader(ds, batch_size=3)]
    for workers in (1, 3):
        loader = rg_data.DataLoader(ds, batch_size=3, num_workers=workers, prefetch_factor=1)
        assert [plain(b) for b in loader] == single
        assert [plain(b) for b in loader] == single  # a second epoch


def _seeded_item(_):
    info = rg_data.get_worker_info()
    return (info.id, info.seed, rustgrad.rand(()).item())


class Seeds:
    def __len__(self):
        return 8

    def __getitem__(self, i):
        return _seeded_item(i)


def test_worker_seeds_are_distinct_and_reproducible():
    loader = rg_data.DataLoader(Seeds(), batch_size=None, num_workers=2)
    rustgrad.manual_seed(5)
    first = list(loader)
    rustgrad.manual_seed(5)
    assert list(loader) == first
    seeds = {worker: seed for worker, seed, _ in first}
    assert seeds[1] == seeds[0] + 1
    assert len({value for _, _, value in first}) == 8


class Broken:
    def __len__(self):
        return 6

    def __getitem__(self, i):
        if i == 4:
            raise KeyError(f"no item {i}")
        return i


@pytest.mark.parametrize("workers", [0, 2])
def test_dataset_errors_reach_the_caller(workers):
    loader = rg_data.DataLoader(Broken(), batch_size=2, num_workers=workers)
    with pytest.raises(KeyError) as info:
        list(loader)
    if workers:
        assert "Caught KeyError in DataLoader worker process" in str(info.value)
        assert "no item 4" in str(info.value)


def test_loader_argument_errors_as_pytorch():
    ds = list(range(5))
    cases = [
        {"num_workers": -1},
        {"timeout": -1},
        {"sampler": [0, 1], "shuffle": True},
        {"batch_sampler": [[0, 1]], "batch_size": 2},
        {"batch_size": None, "drop_last": True},
        {"prefetch_factor": 2},
        {"persistent_workers": True},
    ]
    for kwargs in cases:
        errors = []
        for loader in (rg_data.DataLoader, torch.utils.data.DataLoader):
            with pytest.raises(ValueError) as info:
                loader(ds, **kwargs)
            errors.append(str(info.value))
        assert errors[0] == errors[1], kwargs


def test_custom_samplers_and_collate():
    ours = rg_data.DataLoader(
        list(range(10)), batch_sampler=[[9, 8], [1]], collate_fn=lambda b: sum(b)
    )
    assert list(ours) == [17, 1]
    by_sampler = rg_data.DataLoader(list(range(5)), sampler=[4, 2, 0], batch_size=2)
    assert [b.tolist() for b in by_sampler] == [[4, 2], [0]]


def test_training_loop_over_a_loader():
    # The pattern of the tutorials: a TensorDataset, a shuffled loader, an optimizer.
    rustgrad.manual_seed(0)
    x = rustgrad.randn(64, 3)
    y = x @ rustgrad.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    model = rustgrad.nn.Linear(3, 1)
    opt = rustgrad.optim.SGD(model.parameters(), lr=0.1)
    loader = rg_data.DataLoader(rg_data.TensorDataset(x, y), batch_size=16, shuffle=True)
    losses = []
    for _ in range(30):
        total = 0.0
        for xb, yb in loader:
            loss = ((model(xb) - yb) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        losses.append(total)
    assert losses[-1] < 1e-3 * losses[0]


def test_pin_memory_and_is_pinned_as_pytorch_without_an_accelerator():
    """``Tensor.is_pinned()`` is False for ordinary memory; without an accelerator,
    ``pin_memory()`` raises PyTorch's error."""
    if rustgrad.cuda.is_available():
        pytest.skip("an accelerator is present (test_pinned_memory_with_cuda)")
    x = rustgrad.arange(6.0).reshape(2, 3).t()
    assert x.is_pinned() is False
    assert torch.arange(6.0).is_pinned() is False
    with pytest.raises(RuntimeError) as ours:
        x.pin_memory()
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError) as theirs:
            torch.arange(6.0).pin_memory()
        assert str(ours.value) == str(theirs.value)


@pytest.mark.cuda
def test_pinned_memory_with_cuda():
    """With CUDA, ``pin_memory()`` gives a page-locked contiguous copy (every dtype, views of
    it pinned too, the source untouched, gradients through it); the device reads it in
    place; ``DataLoader(pin_memory=True)`` pins every tensor of its batches."""
    if not rustgrad.cuda.is_available():
        pytest.skip("no CUDA device")
    x = rustgrad.arange(6.0).reshape(2, 3).t()
    y = x.pin_memory()
    assert y.is_pinned() and not x.is_pinned() and y.is_contiguous()
    assert y.pin_memory() is y
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    assert y[1:].is_pinned() and y.reshape(-1).is_pinned()
    assert not y.clone().is_pinned() and not (y + 1).is_pinned()
    y.add_(1)  # writable, and a copy
    assert x.tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]
    for dtype in (rustgrad.float16, rustgrad.bfloat16, rustgrad.int64, rustgrad.bool, rustgrad.uint8):  # fmt: skip
        t = rustgrad.tensor([1, 0, 3]).to(dtype)
        p = t.pin_memory()
        assert p.is_pinned() and p.dtype == dtype and p.tolist() == t.tolist()
        if dtype in (rustgrad.float16, rustgrad.bfloat16, rustgrad.uint8):
            continue  # (CUDA memory holds float32/64, int64 and bool so far)
        assert p.cuda().cpu().tolist() == t.tolist()
        assert p.to("cuda", non_blocking=True).cpu().tolist() == t.tolist()
    big = rustgrad.randn(1 << 19)  # larger than one staging slot
    assert rustgrad.equal(big.pin_memory().cuda().cpu(), big)
    empty = rustgrad.zeros(0, 3).pin_memory()
    assert empty.is_pinned() and empty.shape == (0, 3)
    leaf = rustgrad.ones(3, requires_grad=True)
    pinned = leaf.pin_memory()
    assert pinned.grad_fn.name() == "PinMemoryBackward0"
    (pinned * 2).sum().backward()
    assert leaf.grad.tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(RuntimeError, match="only dense CPU tensors can be pinned"):
        rustgrad.ones(2, device="cuda").pin_memory()
    data = rg_data.TensorDataset(rustgrad.randn(10, 3), rustgrad.arange(10))
    for workers in (0, 2):
        loader = rg_data.DataLoader(data, batch_size=4, pin_memory=True, num_workers=workers)
        for xb, yb in loader:
            assert xb.is_pinned() and yb.is_pinned()
    batch = {"a": rustgrad.ones(2), "b": [rustgrad.zeros(1), "text"]}
    from rustgrad.utils.data.dataloader import _pinned

    out = _pinned(batch)
    assert out["a"].is_pinned() and out["b"][0].is_pinned() and out["b"][1] == "text"


@pytest.mark.parametrize(
    "attr", ["batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers"]
)
def test_dataloader_attributes_fixed_at_construction_as_torch(attr):
    """What decides the batches cannot be set afterwards (it would be ignored): PyTorch's
    ValueError; the others (collate_fn, num_workers) can."""
    for lib in (rustgrad, torch):
        loader = lib.utils.data.DataLoader(list(range(4)), batch_size=2)
        with pytest.raises(ValueError, match=f"{attr} attribute should not be set after"):
            setattr(loader, attr, getattr(loader, attr))
        loader.collate_fn = loader.collate_fn
        loader.num_workers = 0
        assert [b.tolist() for b in loader] == [[0, 1], [2, 3]]


def test_abstract_dataset_and_sampler_bases_as_torch():
    for lib in (rustgrad, torch):
        data = lib.utils.data
        with pytest.raises(TypeError, match="abstract"):
            data.IterableDataset()
        with pytest.raises(TypeError):
            data.Sampler([1, 2])
        with pytest.raises(ValueError, match="multiprocessing_context can only be used"):
            data.DataLoader([1], multiprocessing_context="spawn")

        class Stream(data.IterableDataset):
            def __iter__(self):
                return iter(range(3))

        assert [b.tolist() for b in data.DataLoader(Stream(), batch_size=2)] == [[0, 1], [2]]
