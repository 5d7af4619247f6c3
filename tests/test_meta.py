"""The meta device (``device='meta'``): tensors with shapes and dtypes but no data. Each case
runs the same code under rustgrad and PyTorch and compares what comes out: the result's shape,
dtype, device and ``requires_grad``, or the exception's type and words."""

import io
import pickle
import threading

import pytest
import rustgrad as rg

torch = pytest.importorskip("torch")


def _outcome(lib, case):
    try:
        r = case(lib)
    except Exception as e:  # noqa: BLE001 (the comparison is of the exception itself)
        return (type(e).__name__, str(e))
    if isinstance(r, lib.Tensor):
        return (tuple(r.shape), str(r.dtype).rsplit(".", 1)[-1], str(r.device), r.requires_grad)
    return r


def _x(lib):
    return lib.randn(4, 3, device="meta", requires_grad=True)


def _backward(lib):
    x = _x(lib)
    (x * 2).sum().backward()
    return x.grad


def _module_on_meta(lib):
    with lib.device("meta"):
        model = lib.nn.Sequential(lib.nn.Linear(3, 8), lib.nn.ReLU(), lib.nn.Linear(8, 2))
    return model(lib.ones(6, 3, device="meta"))


def _adam_step(lib):
    p = lib.nn.Parameter(lib.ones(3, device="meta"))
    p.grad = lib.ones(3, device="meta")
    lib.optim.Adam([p]).step()
    return p


def _index(lib, *values):
    return lib.tensor(list(values), device="meta")


def _save_load(lib, x):
    buffer = io.BytesIO()
    lib.save({"w": x.detach(), "n": 3}, buffer)
    buffer.seek(0)
    return lib.load(buffer)["w"]


def _adam_on(lib, p):
    p.grad = lib.ones_like(p)
    lib.optim.Adam([p]).step()
    return p


def _in_meta_block(case):
    """``case`` on a CPU tensor inside ``with device("meta")``."""

    def run(lib):
        x = lib.tensor([[3.0, 1.0, 2.0], [0.5, 4.0, -1.0]])
        with lib.device("meta"):
            return case(lib, x)

    return run


CASES = {
    "linear": lambda lib: lib.nn.functional.linear(_x(lib), lib.randn(5, 3, device="meta")),
    "matmul_huge": lambda lib: (
        lib.ones(2**20, 2**20, device="meta") @ lib.ones(2**20, 7, device="meta")
    ),
    "conv_huge": lambda lib: lib.nn.Conv2d(3, 5, 2, device="meta")(
        lib.rand(2**10, 3, 2**16, 2**16, device="meta")
    ),
    "pool": lambda lib: lib.nn.functional.max_pool2d(lib.ones(2, 3, 8, 8, device="meta"), 2),
    "sum": lambda lib: _x(lib).sum(1),
    "softmax": lambda lib: _x(lib).softmax(-1),
    "argmax": lambda lib: _x(lib).max(0)[1],
    "cat": lambda lib: lib.cat([_x(lib), _x(lib)]),
    "views": lambda lib: _x(lib)[1:, ::2].t(),
    "compare_where": lambda lib: lib.where(_x(lib) > 0, _x(lib), _x(lib) * 2),
    "cpu_scalar": lambda lib: _x(lib) + lib.tensor(2.0),
    "cast": lambda lib: _x(lib).to(lib.int64),
    "to_meta": lambda lib: lib.ones(2).to("meta"),
    "rand_like": lambda lib: lib.rand_like(_x(lib)),
    "randint": lambda lib: lib.randint(0, 5, (3, 2), device="meta"),
    "in_place_random": lambda lib: lib.zeros(3, device="meta").uniform_(),
    "in_place": lambda lib: _x(lib).detach().add_(1),
    "backward": _backward,
    "module_in_device_block": _module_on_meta,
    "embedding": lambda lib: lib.nn.Embedding(10, 4, device="meta")(lib.tensor([1, 2])),
    "lstm": lambda lib: lib.nn.LSTM(3, 4, device="meta")(lib.ones(5, 2, 3, device="meta"))[0],
    "batch_norm": lambda lib: lib.nn.BatchNorm1d(3, device="meta")(_x(lib)),
    "cross_entropy": lambda lib: lib.nn.functional.cross_entropy(
        _x(lib), lib.tensor([0, 1, 2, 0], device="meta")
    ),
    "adam": _adam_step,
    "is_meta": lambda lib: (_x(lib).is_meta, lib.ones(1).is_meta, str(_x(lib).device)),
    "default_device_restored": lambda lib: (_module_on_meta(lib), str(lib.ones(1).device))[1],
    # reading values is PyTorch's error
    "item": lambda lib: _x(lib)[0, 0].item(),
    "item_many": lambda lib: _x(lib).item(),
    "bool": lambda lib: bool(_x(lib)[0, 0]),
    "tolist": lambda lib: _x(lib).tolist(),
    "numpy": lambda lib: _x(lib).detach().numpy(),
    "cpu": lambda lib: _x(lib).cpu(),
    "two_devices": lambda lib: _x(lib) + lib.ones(4, 3),
    "grad_output_on_another_device": lambda lib: (_x(lib) * 2).backward(lib.ones(4, 3)),
    "cpu_then_meta": lambda lib: lib.ones(4, 3) + _x(lib),
    "cat_cpu_then_meta": lambda lib: lib.cat([lib.ones(4, 3), _x(lib)]),
    "leaf_in_place_random": lambda lib: _x(lib).uniform_(),
    # sizes whose bytes overflow int64 (the elements alone would not)
    "storage_overflow": lambda lib: lib.ones(2**62, device="meta"),
    "storage_overflow_2d": lambda lib: lib.zeros(2**61, 4, device="meta", dtype=lib.int8),
    # creation without values to compute
    "arange_huge": lambda lib: lib.arange(2**50, device="meta"),
    "linspace_huge": lambda lib: lib.linspace(0, 1, 2**50, device="meta"),
    "eye_huge": lambda lib: lib.eye(2**30, device="meta"),
    "tril_indices": lambda lib: lib.tril_indices(5, 4, 1, device="meta"),
    "triu_indices": lambda lib: lib.triu_indices(5, 4, -1, device="meta"),
    "tril_huge": lambda lib: lib.ones(2**20, 2**20, device="meta").tril(),
    # ops that read an index or sort on the host get shapes only
    **{
        f"{name}_on_meta": case
        for name, case in {
            "index_select": lambda lib, x: x.index_select(0, _index(lib, 0, 2)),
            "gather": lambda lib, x: x.gather(1, lib.zeros(4, 1, dtype=lib.int64, device="meta")),
            "index_add": lambda lib, x: x.index_add(0, _index(lib, 0, 2), x[:2]),
            "getitem_tensor": lambda lib, x: x[_index(lib, 0, 1)],
            "setitem_tensor": lambda lib, x: x.detach().__setitem__(_index(lib, 1), 1.0),
            "embedding": lambda lib, x: lib.nn.functional.embedding(_index(lib, 0, 1), x),
            "sort": lambda lib, x: x.sort(1)[1],
            "topk": lambda lib, x: x.topk(2)[0],
            "median": lambda lib, x: x.median(1)[1],
            "quantile": lambda lib, x: lib.quantile(x, 0.5, dim=0),
            "cummax": lambda lib, x: x.cummax(0)[1],
            "pad_reflect": lambda lib, x: lib.nn.functional.pad(x[None], (1, 1), mode="reflect"),
            "one_hot": lambda lib, x: lib.nn.functional.one_hot(_index(lib, 0, 1), 3),
            "signbit": lambda lib, x: lib.signbit(x),
            "inv": lambda lib, x: lib.linalg.inv(x[:3]),
            "cholesky": lambda lib, x: lib.linalg.cholesky(x[:3]),
            "svd": lambda lib, x: lib.linalg.svd(x, full_matrices=False)[0],
            "pickle": lambda lib, x: pickle.loads(pickle.dumps(x)),
            "save_load": _save_load,
        }.items()
        for case in [lambda lib, c=case: c(lib, _x(lib))]
    },
    # a default device of meta does not reach the helpers of ops on CPU tensors
    **{
        f"{name}_in_meta_block": _in_meta_block(case)
        for name, case in {
            "unique": lambda lib, x: lib.unique(x),
            "nonzero": lambda lib, x: x.nonzero(),
            "sort": lambda lib, x: x.sort(1)[1],
            "median": lambda lib, x: x.median(),
            "quantile": lambda lib, x: lib.quantile(x, 0.5),
            "cross_entropy": lambda lib, x: lib.nn.functional.cross_entropy(
                x, lib.tensor([0, 2], device="cpu")
            ),
            "bincount": lambda lib, x: lib.bincount(
                lib.tensor([0, 2], device="cpu"), lib.tensor([0.5, 1.0], device="cpu")
            ),
            "adam": lambda lib, x: _adam_on(lib, lib.nn.Parameter(x.clone())),
        }.items()
    },
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_meta_matches_torch(name):
    assert _outcome(rg, CASES[name]) == _outcome(torch, CASES[name])


def test_meta_repr_as_pytorch():
    from rustgrad._tensor_str import _str

    for make in (
        lambda lib: lib.zeros(2, 3, device="meta"),
        lambda lib: lib.zeros((), device="meta"),
        lambda lib: lib.zeros(0, device="meta", dtype=lib.int64),
        # long enough for the grad_fn to go to a second line
        lambda lib: lib.nn.Linear(3, 2**40, device="meta")(lib.ones(2**20, 3, device="meta")),
        lambda lib: lib.ones(2, 2, dtype=lib.float64, device="meta").requires_grad_(),
    ):
        assert _str(make(rg)).replace("rustgrad.", "torch.") == repr(make(torch))
    assert repr(rg.device("meta")) == "device(type='meta')"
    with pytest.raises(RuntimeError) as theirs:
        torch.device("nosuch")
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda, ipu") as ours:
        rg.device("nosuch")
    assert str(ours.value) == str(theirs.value)


def test_module_built_on_meta_gets_memory_with_to_empty():
    with rg.device("meta"):
        model = rg.nn.Linear(3, 2)
    assert model.weight.is_meta and isinstance(model.weight, rg.nn.Parameter)
    assert model.to_empty(device="cpu") is model
    assert str(model.weight.device) == "cpu" and tuple(model.weight.shape) == (2, 3)
    model.load_state_dict({"weight": rg.ones(2, 3), "bias": rg.zeros(2)})
    assert model(rg.ones(1, 3)).tolist() == [[3.0, 3.0]]


def test_default_device_is_per_thread():
    """As PyTorch's: a ``with device`` block (or ``set_default_device``) in one thread leaves
    the others' default alone."""
    seen = []

    def create():
        seen.append(str(rg.zeros(1).device))

    with rg.device("meta"):
        worker = threading.Thread(target=create)
        worker.start()
        worker.join()
        assert rg.zeros(1).is_meta
    assert seen == ["cpu"]
    rg.set_default_device("meta")
    try:
        worker = threading.Thread(target=create)
        worker.start()
        worker.join()
        assert rg.zeros(1).is_meta
    finally:
        rg.set_default_device(None)
    assert seen == ["cpu", "cpu"] and not rg.zeros(1).is_meta


def test_cat_whose_length_overflows_is_refused():
    """(PyTorch fails here with an internal TypeError about unpacking the size; rustgrad gives
    its storage-overflow error.)"""
    parts = [rg.zeros(2**62, device="meta", dtype=rg.int8)] * 5
    with pytest.raises(RuntimeError, match=r"Storage size calculation overflowed with sizes=\[23"):
        rg.cat(parts)
    with pytest.raises(RuntimeError, match="Storage size calculation overflowed"):
        rg.cat(parts[:2])  # 2**63 elements of one byte: past int64
