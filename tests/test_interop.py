"""Interop and habits: NumPy scalars as operands, ``__format__``, DLPack with NumPy and
PyTorch (zero-copy, strides, owners kept alive), tensors of PyTorch's tensors and back,
PyTorch state dicts, pickling (tensors, dtypes, devices, Size, modules, optimizers, a spawn
pool), Tensor subclasses and ``nn.Parameter``."""

import copy
import gc
import multiprocessing as mp
import pickle

import numpy as np
import pytest
import rustgrad as rg

torch = pytest.importorskip("torch")


def name(dtype):
    return str(dtype).rsplit(".", 1)[-1]


# ----- NumPy scalars -------------------------------------------------------------------------


@pytest.mark.parametrize("scalar", [np.float32(0.5), np.float64(2.0), np.int64(3), np.bool_(True)])
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_numpy_scalars_as_operands(scalar, dtype):
    x = rg.arange(1, 4).to(getattr(rg, dtype))
    tx = torch.arange(1, 4).to(getattr(torch, dtype))
    for op in (lambda a, b: a * b, lambda a, b: b * a, lambda a, b: a + b, lambda a, b: b - a):
        ours, theirs = op(x, scalar), op(tx, scalar)
        assert isinstance(ours, rg.Tensor)
        assert name(ours.dtype) == name(theirs.dtype)
        assert ours.tolist() == pytest.approx(theirs.tolist())
    if dtype == "float32" and not isinstance(scalar, np.bool_):
        ours, theirs = scalar / x, scalar / tx
        assert isinstance(ours, rg.Tensor) and ours.tolist() == pytest.approx(theirs.tolist())


# ----- __format__ ----------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["", ".4f", ">10", ".2e", "+.3g"])
def test_format_of_a_0d_tensor(spec):
    for value in (1.23456, -7.0):
        assert format(rg.tensor(value), spec) == format(torch.tensor(value), spec)
    assert format(rg.tensor(3), "04d") == format(torch.tensor(3), "04d")
    loss = rg.tensor(0.123456)
    assert f"{loss:.4f}" == "0.1235"


def test_format_of_other_tensors_raises_as_pytorch():
    with pytest.raises(TypeError):
        f"{rg.ones(2):.2f}"
    with pytest.raises(TypeError):
        f"{torch.ones(2):.2f}"
    assert f"{rg.ones(2)}" == str(rg.ones(2))


# ----- DLPack --------------------------------------------------------------------------------


def test_dlpack_to_numpy_and_torch_is_zero_copy():
    x = rg.arange(6.0).reshape(2, 3)
    a = np.from_dlpack(x)
    t = torch.from_dlpack(x)
    assert a.tolist() == t.tolist() == x.tolist()
    x[0, 0] = 42.0
    assert a[0, 0] == 42.0 and t[0, 0].item() == 42.0
    assert x.__dlpack_device__() == (1, 0)


def test_dlpack_keeps_strides_and_owner():
    x = rg.arange(6.0).reshape(2, 3).t()
    t = torch.from_dlpack(x)
    assert t.stride() == (1, 3) and t.tolist() == x.tolist()
    del x
    gc.collect()
    assert t.tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]


def test_from_dlpack_of_torch_and_numpy_shares_memory():
    t = torch.arange(6.0).reshape(2, 3)
    x = rg.from_dlpack(t)
    assert x.tolist() == t.tolist() and x.dtype is rg.float32
    t[1, 2] = -1.0
    assert x[1, 2].item() == -1.0
    tt = torch.arange(6.0, dtype=torch.float64).reshape(2, 3).t()  # transposed: strides kept
    y = rg.from_dlpack(tt)
    tt[0, 1] = 9.0
    assert y.tolist() == tt.tolist()
    del tt, t
    gc.collect()
    assert y[0, 1].item() == 9.0
    a = np.arange(4, dtype=np.int64)
    z = rg.utils.dlpack.from_dlpack(a)
    a[0] = 7
    assert z.tolist() == [7, 1, 2, 3]
    # Legacy capsules both ways.
    cap = rg.utils.dlpack.to_dlpack(rg.ones(2))
    assert torch.utils.dlpack.from_dlpack(cap).tolist() == [1.0, 1.0]
    w = rg.utils.dlpack.from_dlpack(torch.utils.dlpack.to_dlpack(torch.ones(3)))
    assert w.tolist() == [1.0, 1.0, 1.0]


def test_dlpack_refuses_a_tensor_that_requires_grad_as_pytorch():
    with pytest.raises(BufferError, match="require gradient"):
        rg.ones(2, requires_grad=True).__dlpack__()
    with pytest.raises(BufferError, match="require gradient"):
        torch.ones(2, requires_grad=True).__dlpack__()


# ----- PyTorch tensors and state dicts ---------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
def test_tensor_of_a_torch_tensor_and_back(dtype):
    t = torch.tensor([[1, 0], [3, 1]]).to(getattr(torch, dtype))
    x = rg.tensor(t)
    assert name(x.dtype) == dtype and x.tolist() == t.tolist()
    back = torch.tensor(np.asarray(x))
    assert back.dtype == t.dtype and back.tolist() == t.tolist()
    assert torch.as_tensor(x.numpy()).tolist() == t.tolist()
    assert torch.from_dlpack(x).dtype == t.dtype


def test_tensor_of_a_torch_tensor_that_requires_grad_copies():
    t = torch.ones(2, requires_grad=True)
    x = rg.tensor(t)
    assert x.tolist() == [1.0, 1.0] and not x.requires_grad


def test_load_state_dict_from_pytorch():
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    ours = rg.nn.Sequential(rg.nn.Linear(3, 4), rg.nn.Tanh(), rg.nn.Linear(4, 2))
    result = ours.load_state_dict(theirs.state_dict())
    assert list(result.missing_keys) == [] and list(result.unexpected_keys) == []
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(
        ours(rg.tensor(x)).tolist(), theirs(torch.tensor(x)).tolist(), rtol=1e-6, atol=1e-6
    )
    assert isinstance(ours[0].weight, rg.nn.Parameter)


# ----- pickling --------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
def test_pickle_tensor(dtype):
    x = rg.tensor([[1, 0, 2]]).to(getattr(rg, dtype))
    y = pickle.loads(pickle.dumps(x))
    assert y.dtype is x.dtype and y.tolist() == x.tolist() and not y.requires_grad
    z = pickle.loads(pickle.dumps(rg.ones(2, requires_grad=True)))
    assert z.requires_grad and z.is_leaf


def test_pickled_view_is_an_independent_copy():
    base = rg.arange(6.0).reshape(2, 3)
    view = base[:, 1]
    back = pickle.loads(pickle.dumps(view))
    base[0, 1] = 100.0
    assert back.tolist() == [1.0, 4.0]
    tbase = torch.arange(6.0).reshape(2, 3)
    tback = pickle.loads(pickle.dumps(tbase[:, 1]))
    tbase[0, 1] = 100.0
    assert back.tolist() == tback.tolist()


def test_pickle_dtypes_devices_size():
    for d in (rg.float32, rg.float64, rg.int64, rg.bool):
        assert pickle.loads(pickle.dumps(d)) is d
    dev = pickle.loads(pickle.dumps(rg.device("cpu")))
    assert dev == rg.device("cpu")
    s = pickle.loads(pickle.dumps(rg.zeros(2, 3).shape))
    assert s == (2, 3) and repr(s) == "rustgrad.Size([2, 3])"


def test_pickle_module_and_optimizer():
    rg.manual_seed(0)
    model = rg.nn.Sequential(rg.nn.Linear(2, 3), rg.nn.ReLU(), rg.nn.Linear(3, 1))
    opt = rg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(rg.ones(4, 2)).sum().backward()
    opt.step()
    model2, opt2 = pickle.loads(pickle.dumps((model, opt)))
    x = rg.ones(1, 2)
    assert model2(x).tolist() == model(x).tolist()
    assert isinstance(model2[0].weight, rg.nn.Parameter)
    # The unpickled optimizer steps the unpickled model's parameters.
    assert opt2.param_groups[0]["params"][0] is model2[0].weight
    assert type(opt2) is rg.optim.SGD


def _double(t):
    return (t * 2).tolist(), str(t.dtype)


def test_spawn_pool_sends_tensors():
    with mp.get_context("spawn").Pool(2) as pool:
        got = pool.map(_double, [rg.ones(2), rg.arange(3)])
    assert got == [([2.0, 2.0], "rustgrad.float32"), ([0, 2, 4], "rustgrad.int64")]


# ----- subclasses and Parameter ------------------------------------------------------------------


class MyT(rg.Tensor):
    def double_it(self):
        return self * 2


def test_tensor_subclass():
    x = MyT([1.0, 2.0])
    assert type(x) is MyT and isinstance(x, rg.Tensor)
    assert x.double_it().tolist() == [2.0, 4.0]
    x.tag = "hello"
    y = pickle.loads(pickle.dumps(x))
    assert type(y) is MyT and y.tag == "hello" and y.tolist() == [1.0, 2.0]
    s = rg.Tensor._make_subclass(MyT, rg.ones(2), True)
    assert type(s) is MyT and s.requires_grad and s.is_leaf
    (s * 3).sum().backward()
    assert s.grad.tolist() == [3.0, 3.0]


def test_parameter_is_a_true_subclass_and_prints_as_pytorch():
    p = rg.nn.Parameter(rg.ones(2))
    tp = torch.nn.Parameter(torch.ones(2))
    assert isinstance(p, rg.Tensor) and type(p) is rg.nn.Parameter
    assert issubclass(rg.nn.Parameter, rg.Tensor)
    assert repr(p) == repr(tp)
    assert repr(rg.nn.Parameter(rg.ones(2), requires_grad=False)) == repr(
        torch.nn.Parameter(torch.ones(2), requires_grad=False)
    )
    assert type(p.detach()) is rg.Tensor and type(p * 2) is rg.Tensor
    data = rg.zeros(3)
    q = rg.nn.Parameter(data)
    q.data.add_(1.0) if hasattr(q.data, "add_") else None
    assert data.tolist() == q.tolist()  # shared storage
    c = copy.deepcopy(p)
    assert type(c) is rg.nn.Parameter and c.requires_grad and c.tolist() == p.tolist()
    r = pickle.loads(pickle.dumps(p))
    assert type(r) is rg.nn.Parameter and r.requires_grad
    with pytest.raises(TypeError):
        rg.nn.Parameter([1.0])
