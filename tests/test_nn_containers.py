"""ModuleDict, ParameterList, ParameterDict, Unflatten, Sequential and ModuleList against
PyTorch's: registered names, state dicts, reprs, container behaviour, and a state dict moving
between the libraries."""

import collections

import pytest
import rustgrad
from conftest import raises
from rustgrad import nn

torch = pytest.importorskip("torch")


def build(lib):
    lib.manual_seed(0)

    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.heads = lib.nn.ModuleDict({"a": lib.nn.Linear(3, 2), "b": lib.nn.Linear(3, 1)})
            self.scales = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2)), lib.zeros(1)])
            self.extra = lib.nn.ParameterDict({"bias": lib.nn.Parameter(lib.zeros(3))})
            self.unflat = lib.nn.Unflatten(1, (2, 3))

        def forward(self, x):
            y = self.heads["a"](x + self.extra["bias"]) * self.scales[0]
            return y.sum() + self.heads["b"](x).sum() + self.scales[1].sum()

    return Net()


def test_names_shapes_and_state_dicts_as_pytorch():
    ours, theirs = build(rustgrad), build(torch)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in theirs.named_parameters()
    ]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict(theirs.state_dict())  # a PyTorch state dict loads as is
    x = [[0.5, -1.0, 2.0]]
    assert ours(rustgrad.tensor(x)).item() == pytest.approx(
        theirs(torch.tensor(x)).item(), rel=1e-6
    )
    assert isinstance(ours.scales[1], nn.Parameter)  # a tensor given is made a Parameter


def test_reprs_as_pytorch():
    ours, theirs = build(rustgrad), build(torch)
    for name in ("heads", "unflat", "scales", "extra"):
        # Outside the drop-in runner, dtypes print as rustgrad.float32 (a documented difference).
        mine = repr(getattr(ours, name)).replace("rustgrad.", "torch.")
        assert mine == repr(getattr(theirs, name)), name


def test_module_dict_behaviour():
    d = nn.ModuleDict([("x", nn.Linear(1, 1))])
    d["y"] = nn.Identity()
    d.update({"z": nn.Linear(2, 2)})
    assert list(d) == list(d.keys()) == ["x", "y", "z"] and "y" in d and len(d) == 3
    assert isinstance(d.pop("x"), nn.Linear) and list(d) == ["y", "z"]
    assert [n for n, _ in d.named_parameters()] == ["z.weight", "z.bias"]
    with pytest.raises(ValueError, match="has length 3; 2 is required"):
        d.update([("a", nn.Identity(), 1)])
    d.clear()
    assert len(d) == 0


def test_parameter_list_and_dict_behaviour():
    pl = nn.ParameterList()
    pl.append(rustgrad.ones(2)).extend([rustgrad.zeros(3)])
    assert len(pl) == 2 and [tuple(p.shape) for p in pl] == [(2,), (3,)]
    assert [n for n, _ in pl.named_parameters()] == ["0", "1"]
    assert all(p.requires_grad for p in pl)
    pd = nn.ParameterDict({"w": rustgrad.ones(1)})
    pd.update([("v", rustgrad.zeros(2))])
    assert list(pd) == ["w", "v"] and pd.get("q") is None and "v" in pd
    assert tuple(pd.pop("w").shape) == (1,) and list(pd.keys()) == ["v"]


def test_unflatten_as_pytorch():
    x = torch.arange(24.0).reshape(2, 12)
    for dim, size in ((1, (3, 4)), (-1, (2, 2, 3)), (0, (1, 2))):
        ours = nn.Unflatten(dim, size)(rustgrad.tensor(x.tolist()))
        theirs = torch.nn.Unflatten(dim, size)(x)
        assert ours.tolist() == theirs.tolist()


def test_sequential_and_module_list_insert_extend_pop_as_pytorch():
    for lib in (nn, torch.nn):
        seq = lib.Sequential(lib.ReLU(), lib.Tanh())
        seq.insert(1, lib.Sigmoid()).extend(lib.Sequential(lib.ELU()))
        seq.insert(-1, lib.GELU())
        popped = seq.pop(0)
        lst = lib.ModuleList([lib.ReLU(), lib.Tanh(), lib.ELU()])
        last = lst.pop(-1)
        names = ([type(m).__name__ for m in seq], list(seq._modules), type(popped).__name__)
        names += ([type(m).__name__ for m in lst], type(last).__name__)
        if lib is nn:
            ours = names
        else:
            assert ours == names
    with raises(IndexError, "Index out of range: 5"):
        nn.Sequential(nn.ReLU()).insert(5, nn.ReLU())


# ----- registration order as PyTorch's (outside testers' findings) -----------------------------


def _three_layers(lib):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = lib.nn.Linear(1, 1)
            self.p = lib.nn.Parameter(lib.ones(1))
            self.fc = lib.nn.Linear(1, 1)
            self.q = lib.nn.Parameter(lib.ones(1))
            self.head = lib.nn.Linear(1, 1)

    return Net()


def test_reassigning_a_child_or_parameter_keeps_its_place():
    orders = []
    for lib in (rustgrad, torch):
        net = _three_layers(lib)
        net.fc = lib.nn.Linear(1, 2)  # fine-tuning's replaced head
        net.p = lib.nn.Parameter(lib.zeros(2))
        net.body = None
        net.body = lib.nn.Linear(1, 1)
        orders.append((list(net.state_dict()), [n for n, _ in net.named_parameters()]))
    assert orders[0] == orders[1]


def test_parameter_dict_orders_a_plain_dict_by_key():
    keys = []
    for lib in (rustgrad, torch):
        d = lib.nn.ParameterDict(
            {"b": lib.nn.Parameter(lib.ones(1)), "a": lib.nn.Parameter(lib.ones(2))}
        )
        d.update(
            collections.OrderedDict(
                z=lib.nn.Parameter(lib.ones(1)), c=lib.nn.Parameter(lib.ones(1))
            )
        )
        keys.append(list(d.keys()))
    assert keys[0] == keys[1] == ["a", "b", "z", "c"]


def test_sequentials_add_and_multiply_as_torch():
    shapes = []
    for lib in (rustgrad, torch):
        a = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.ReLU())
        b = lib.nn.Sequential(lib.nn.Linear(3, 1))
        both = a + b
        twice = b * 2
        a += b
        shapes.append(
            (len(both), list(both.state_dict()), len(twice), twice[0] is twice[1], len(a))
        )
        with pytest.raises(ValueError, match="add operator supports only objects"):
            a + lib.nn.Linear(1, 1)
    assert shapes[0] == shapes[1]
