"""``rustgrad.nn``: module registration, traversal, state dicts, dtype moves, printing,
``Linear``'s initialisation, layers/losses/functional against PyTorch, and ``nn.init``."""

import math
import warnings
from collections import OrderedDict

import numpy as np
import pytest
import rustgrad as rg
import rustgrad.nn.functional as F
from conftest import assert_close, raises
from rustgrad import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.act = nn.Tanh()
        self.head = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1, bias=False))
        self.scale = nn.Parameter(rg.ones(1))
        self.not_a_param = rg.zeros(2)  # a plain tensor attribute is not registered

    def forward(self, x):
        return self.head(self.act(self.fc1(x))) * self.scale


# ----- Parameter --------------------------------------------------------------------------------


def test_parameter_is_a_marked_leaf_sharing_storage():
    data = rg.tensor([1.0, 2.0])
    p = nn.Parameter(data)
    assert isinstance(p, rg.Tensor) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf and p.grad_fn is None
    assert not isinstance(data, nn.Parameter)
    with rg.no_grad():
        p.add_(1.0)
    assert data.tolist() == [2.0, 3.0]  # shares data's storage, as torch's Parameter does
    q = nn.Parameter(rg.zeros(3), requires_grad=False)
    assert isinstance(q, nn.Parameter) and not q.requires_grad
    empty = nn.Parameter()
    assert empty.shape == (0,) and isinstance(empty, nn.Parameter)


def test_parameter_mark_is_per_object():
    p = nn.Parameter(rg.randn(2, 2))
    for derived in (p.detach(), p.data, p * 2, p.clone()):
        assert not isinstance(derived, nn.Parameter)
    p.data = rg.zeros(3)  # the object stays a parameter when its data is replaced
    assert isinstance(p, nn.Parameter)
    assert not isinstance(3, nn.Parameter) and not isinstance(None, nn.Parameter)
    assert not issubclass(rg.Tensor, nn.Parameter)


def test_parameter_is_a_tensor_subclass_and_plain_tensors_are_not_parameters():
    p = nn.Parameter(rg.zeros(1))
    assert type(p) is nn.Parameter and isinstance(p, rg.Tensor)
    assert not any(isinstance(t, nn.Parameter) for t in [rg.zeros(1), p.detach(), p * 2])


def test_parameter_rejects_non_tensors():
    with raises(TypeError, "must be a Tensor"):
        nn.Parameter([1.0, 2.0])


# ----- registration and traversal ---------------------------------------------------------------


def test_named_parameters_use_dotted_names_in_registration_order():
    net = Net()
    names = [name for name, _ in net.named_parameters()]
    assert names == [
        "scale",
        "fc1.weight",
        "fc1.bias",
        "head.0.weight",
        "head.0.bias",
        "head.2.weight",
    ]
    assert [p.shape for p in net.parameters()] == [(1,), (3, 4), (3,), (2, 3), (2,), (1, 2)]
    assert [name for name, _ in net.named_parameters(recurse=False)] == ["scale"]
    assert [name for name, _ in net.named_parameters(prefix="net")][1] == "net.fc1.weight"
    assert all(isinstance(p, nn.Parameter) for p in net.parameters())


def test_children_and_modules():
    net = Net()
    assert [name for name, _ in net.named_children()] == ["fc1", "act", "head"]
    assert list(net.children()) == [net.fc1, net.act, net.head]
    names = [name for name, _ in net.named_modules()]
    assert names == ["", "fc1", "act", "head", "head.0", "head.1", "head.2"]
    assert next(iter(net.modules())) is net
    assert net.get_submodule("head.2") is net.head[2]
    assert net.get_parameter("head.0.bias") is net.head[0].bias


def test_shared_parameters_and_modules_are_listed_once():
    shared = nn.Linear(2, 2)
    seq = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(seq.parameters())) == 2
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(seq.modules())) == 3  # seq, shared, relu


def test_setattr_registers_and_reassigns():
    m = nn.Module()
    m.w = nn.Parameter(rg.zeros(2))
    m.sub = nn.Linear(1, 1)
    assert "w" in m._parameters and "sub" in m._modules and "w" not in m.__dict__
    m.w = None  # a registered parameter may become None
    assert m.w is None and next(iter(m.named_parameters()))[0] == "sub.weight"
    with raises(TypeError, "cannot assign 'Tensor' as parameter 'w'"):
        m.w = rg.zeros(2)
    with raises(TypeError, "cannot assign 'int' as child module 'sub'"):
        m.sub = 3
    m.sub = nn.Parameter(rg.zeros(1))  # a parameter replaces the module of the same name
    assert "sub" in m._parameters and "sub" not in m._modules
    del m.sub
    assert not hasattr(m, "sub")
    with raises(AttributeError, "'Module' object has no attribute 'missing'"):
        m.missing  # noqa: B018


def test_assigning_before_init_is_an_error():
    class Bad(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)
            super().__init__()

    with raises(AttributeError, "cannot assign module before Module.__init__() call"):
        Bad()


def test_buffers_are_state_but_not_parameters():
    m = nn.Module()
    m.register_buffer("running", rg.zeros(3))
    m.register_buffer("scratch", rg.ones(1), persistent=False)
    assert list(m.parameters()) == []
    assert [n for n, _ in m.named_buffers()] == ["running", "scratch"]
    assert list(m.state_dict()) == ["running"]
    with raises(TypeError, "cannot assign 'str' as buffer 'running'"):
        m.running = "no"


def test_forward_must_be_defined_and_call_runs_hooks():
    with raises(NotImplementedError, 'missing the required "forward" function'):
        nn.Module()(rg.zeros(1))
    lin = nn.Linear(2, 2)
    seen = []
    handle = lin.register_forward_hook(lambda mod, args, out: seen.append(out.shape))
    pre = lin.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    out = lin(rg.ones(5, 2))
    assert seen == [(5, 2)]
    assert_close(out, lin.bias.detach().expand(5, 2).numpy())
    handle.remove()
    pre.remove()
    lin(rg.ones(1, 2))
    assert seen == [(5, 2)]


def test_train_eval_and_zero_grad():
    net = Net()
    assert net.training and net.head[1].training
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with raises(ValueError, "training mode is expected to be boolean"):
        net.train("yes")

    net(rg.randn(5, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_and_apply():
    net = Net()
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    visited = []
    net.apply(lambda m: visited.append(type(m).__name__))
    assert visited[-1] == "Net" and visited.count("Linear") == 3


# ----- state dicts ------------------------------------------------------------------------------


def test_state_dict_keys_values_and_detachment():
    net = Net()
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == [
        "scale",
        "fc1.weight",
        "fc1.bias",
        "head.0.weight",
        "head.0.bias",
        "head.2.weight",
    ]
    for value in sd.values():
        assert not value.requires_grad and value.grad_fn is None
    assert_close(sd["fc1.weight"], net.fc1.weight.detach().numpy())
    with rg.no_grad():
        net.fc1.weight.mul_(0.0)  # the state dict shares storage, as in PyTorch
    assert not sd["fc1.weight"].numpy().any()
    assert net.state_dict(keep_vars=True)["fc1.weight"] is net.fc1.weight


def test_state_dict_round_trip_copies_in_place():
    a, b = Net(), Net()
    weight = b.fc1.weight
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    assert b.fc1.weight is weight  # same object: optimizers holding it keep working
    for (name, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        assert_close(pb, pa.detach().numpy())
    x = rg.randn(3, 4)
    assert_close(b(x), a(x).detach().numpy())


def test_load_state_dict_errors_match_pytorch_wording():
    lin = nn.Linear(2, 1)
    sd = lin.state_dict()
    del sd["bias"]
    sd["extra"] = rg.zeros(1)
    with raises(RuntimeError) as info:
        lin.load_state_dict(sd)
    assert str(info.value) == (
        "Error(s) in loading state_dict for Linear:\n"
        '\tMissing key(s) in state_dict: "bias". \n'
        '\tUnexpected key(s) in state_dict: "extra". '
    )
    result = lin.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["extra"]

    bad = {"weight": rg.zeros(3, 2), "bias": rg.zeros(1)}
    with raises(RuntimeError) as info:
        lin.load_state_dict(bad)
    assert (
        "size mismatch for weight: copying a param with shape rustgrad.Size([3, 2]) from "
        "checkpoint, the shape in current model is rustgrad.Size([1, 2])."
    ) in str(info.value)


def test_load_state_dict_error_text_is_pytorchs():
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Linear(2, 1), torch.nn.Linear(2, 1)
    for err_input in (
        {"weight": rg.zeros(1, 2)},
        {"weight": rg.zeros(1, 2), "bias": rg.zeros(1), "a.b": rg.zeros(1)},
    ):
        torch_input = {k: torch.zeros(tuple(v.shape)) for k, v in err_input.items()}
        with pytest.raises(RuntimeError) as mine:
            ours.load_state_dict(err_input)
        with pytest.raises(RuntimeError) as ref:
            theirs.load_state_dict(torch_input)
        assert str(mine.value) == str(ref.value)


def test_load_state_dict_casts_to_the_parameter_dtype():
    lin = nn.Linear(2, 2)
    sd = {k: v.double() * 0 + 1.5 for k, v in lin.state_dict().items()}
    lin.load_state_dict(sd)
    assert lin.weight.dtype == rg.float32
    assert lin.weight.detach().numpy().tolist() == [[1.5, 1.5], [1.5, 1.5]]


# ----- dtype and device -------------------------------------------------------------------------


def test_to_double_float_keep_parameter_identity():
    net = Net()
    params = list(net.parameters())
    net(rg.randn(2, 4)).sum().backward()
    assert net.double() is net
    assert all(a is b for a, b in zip(net.parameters(), params))
    assert all(p.dtype == rg.float64 for p in net.parameters())
    assert all(p.grad.dtype == rg.float64 for p in net.parameters())
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in net.parameters())
    out = net(rg.randn(2, 4, dtype=rg.float64))
    assert out.dtype == rg.float64
    net.to(rg.float32)
    assert all(p.dtype == rg.float32 for p in net.parameters())
    net.to(dtype=rg.float64)
    assert net.fc1.weight.dtype == rg.float64
    net.float()
    assert net.fc1.weight.dtype == rg.float32
    assert net.to("cpu") is net and net.cpu() is net
    assert net.to(rg.zeros(1, dtype=rg.float64)).fc1.bias.dtype == rg.float64


def test_to_keeps_integer_buffers_and_rejects_integer_dtypes():
    m = nn.Module()
    m.register_buffer("count", rg.tensor([3]))
    m.lin = nn.Linear(1, 1)
    m.double()
    assert m.count.dtype == rg.int64 and m.lin.weight.dtype == rg.float64
    with raises(TypeError, "nn.Module.to only accepts floating point or complex dtypes"):
        m.to(rg.int64)


@pytest.mark.skipif(rg.cuda.is_available(), reason="a CUDA device is available")
def test_cuda_raises_the_tensor_error():
    reason = rg._core._cuda_unavailable_reason()
    assert reason
    with raises(RuntimeError, reason):
        nn.Linear(1, 1).cuda()
    with raises(RuntimeError, reason):
        nn.Linear(1, 1).to("cuda")


# ----- printing ---------------------------------------------------------------------------------


def test_repr_matches_pytorch_layout():
    assert repr(nn.Linear(2, 1)) == "Linear(in_features=2, out_features=1, bias=True)"
    assert repr(nn.Linear(3, 4, bias=False)) == "Linear(in_features=3, out_features=4, bias=False)"
    assert repr(nn.ReLU()) == "ReLU()"
    assert repr(Net()) == (
        "Net(\n"
        "  (fc1): Linear(in_features=4, out_features=3, bias=True)\n"
        "  (act): Tanh()\n"
        "  (head): Sequential(\n"
        "    (0): Linear(in_features=3, out_features=2, bias=True)\n"
        "    (1): ReLU()\n"
        "    (2): Linear(in_features=2, out_features=1, bias=False)\n"
        "  )\n"
        ")"
    )


def test_repr_is_pytorchs():
    torch = pytest.importorskip("torch")
    pairs = [
        (
            nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Sigmoid()),
            torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Sigmoid()),
        ),
        (nn.MSELoss(), torch.nn.MSELoss()),
        (nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()),
        (nn.Dropout(0.2), torch.nn.Dropout(0.2)),
        (nn.Softmax(dim=1), torch.nn.Softmax(dim=1)),
        (nn.Flatten(), torch.nn.Flatten()),
    ]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)


# ----- containers -------------------------------------------------------------------------------


def test_sequential_indexing_len_iteration():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and list(seq) == layers
    assert seq[0] is layers[0] and seq[-1] is layers[2]
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == layers[1:]
    with raises(IndexError, "index 3 is out of range"):
        seq[3]
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and [n for n, _ in seq.named_children()] == ["0", "1", "2", "3"]
    del seq[1]
    assert [n for n, _ in seq.named_children()] == ["0", "1", "2"]
    assert isinstance(seq[1], nn.Linear)
    seq[2] = nn.Tanh()
    assert isinstance(seq[2], nn.Tanh)
    named = nn.Sequential(OrderedDict([("inp", nn.Linear(1, 2)), ("act", nn.ReLU())]))
    assert [n for n, _ in named.named_parameters()] == ["inp.weight", "inp.bias"]
    assert named(rg.ones(4, 1)).shape == (4, 2)


def test_module_list():
    ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    assert len(ml) == 3 and len(list(ml.parameters())) == 6
    ml.append(nn.ReLU())
    ml.insert(0, nn.Tanh())
    assert isinstance(ml[0], nn.Tanh) and isinstance(ml[-1], nn.ReLU)
    assert [n for n, _ in ml.named_children()] == ["0", "1", "2", "3", "4"]


# ----- Linear -----------------------------------------------------------------------------------


def test_linear_default_init_bounds_and_spread():
    rg.manual_seed(0)
    fan_in = 50
    lin = nn.Linear(fan_in, 400)
    bound = 1 / math.sqrt(fan_in)
    w = lin.weight.detach().numpy()
    b = lin.bias.detach().numpy()
    assert w.shape == (400, 50) and b.shape == (400,)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # uniform on [-bound, bound]: mean 0, std bound / sqrt(3); fills the range
    assert abs(w.mean()) < 0.05 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound
    assert np.abs(w).max() > 0.99 * bound
    assert abs(b.std() - bound / math.sqrt(3)) < 0.1 * bound
    assert lin.weight.dtype == rg.float32
    assert nn.Linear(2, 2, dtype=rg.float64).weight.dtype == rg.float64
    assert nn.Linear(2, 3, bias=False).bias is None


def test_linear_matches_pytorch_forward_and_backward():
    torch = pytest.importorskip("torch")
    ours = nn.Linear(5, 3, dtype=rg.float64)
    theirs = torch.nn.Linear(5, 3, dtype=torch.float64)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(ours.weight.detach().numpy().copy()))
        theirs.bias.copy_(torch.from_numpy(ours.bias.detach().numpy().copy()))
    x = np.random.default_rng(0).standard_normal((2, 4, 5))
    xr = rg.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yr, yt = ours(xr), theirs(xt)
    assert_close(yr, yt, rtol=1e-12)
    g = np.random.default_rng(1).standard_normal((2, 4, 3))
    yr.backward(rg.tensor(g))
    yt.backward(torch.tensor(g))
    assert_close(xr.grad, xt.grad, rtol=1e-12)
    assert_close(ours.weight.grad, theirs.weight.grad, rtol=1e-12)
    assert_close(ours.bias.grad, theirs.bias.grad, rtol=1e-12)
    # An unbatched input (in_features,) gives (out_features,)
    assert ours(rg.ones(5, dtype=rg.float64)).shape == (3,)


# ----- functional and losses against PyTorch ---------------------------------------------------

RNG = np.random.default_rng(42)
LOGITS = RNG.standard_normal((6, 5))
TARGET = np.array([0, 4, 2, 2, -100, 1])
WEIGHT = RNG.random(5)
PROBS = RNG.random((6, 5))
PROBS /= PROBS.sum(1, keepdims=True)


def _compare(ours_fn, torch_fn, x, *others, rtol=1e-10, atol=1e-12):
    """Run both functions on float64 copies; compare outputs and the gradient of ``x``."""
    torch = pytest.importorskip("torch")
    xr = rg.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    rest_r = [rg.tensor(o) for o in others]
    rest_t = [torch.tensor(o) for o in others]
    out_r, out_t = ours_fn(xr, *rest_r), torch_fn(xt, *rest_t)
    assert tuple(out_r.shape) == tuple(out_t.shape)
    assert_close(out_r, out_t, rtol=rtol, atol=atol)
    g = np.random.default_rng(3).standard_normal(tuple(out_t.shape))
    out_r.backward(rg.tensor(g))
    out_t.backward(torch.tensor(g))
    assert_close(xr.grad, xt.grad, rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid"])
def test_activations_match_pytorch(name):
    torch = pytest.importorskip("torch")
    _compare(getattr(F, name), getattr(torch.nn.functional, name), LOGITS)
    module = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[name]()
    _compare(module, getattr(torch.nn.functional, name), LOGITS)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_and_log_softmax_match_pytorch(dim):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    _compare(lambda x: F.softmax(x, dim), lambda x: tf.softmax(x, dim), LOGITS)
    _compare(lambda x: F.log_softmax(x, dim=dim), lambda x: tf.log_softmax(x, dim=dim), LOGITS)
    _compare(nn.LogSoftmax(dim), lambda x: tf.log_softmax(x, dim), LOGITS)


def test_linear_functional_matches_pytorch():
    torch = pytest.importorskip("torch")
    w, b = RNG.standard_normal((3, 5)), RNG.standard_normal(3)
    _compare(F.linear, torch.nn.functional.linear, LOGITS, w, b)
    _compare(F.linear, torch.nn.functional.linear, LOGITS, w)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_matches_pytorch(reduction):
    torch = pytest.importorskip("torch")
    target = RNG.standard_normal((6, 5))
    _compare(
        lambda x, t: F.mse_loss(x, t, reduction=reduction),
        lambda x, t: torch.nn.functional.mse_loss(x, t, reduction=reduction),
        LOGITS,
        target,
    )
    _compare(
        lambda x, t: nn.MSELoss(reduction=reduction)(x, t),
        lambda x, t: torch.nn.MSELoss(reduction=reduction)(x, t),
        LOGITS,
        target,
    )


CE_CASES = {
    "plain": ({}, LOGITS, TARGET),
    "weight": ({"weight": WEIGHT}, LOGITS, TARGET),
    "smoothing": ({"label_smoothing": 0.2}, LOGITS, TARGET),
    "weight+smoothing": ({"weight": WEIGHT, "label_smoothing": 0.1}, LOGITS, TARGET),
    "ignore_index=2": ({"ignore_index": 2}, LOGITS, np.array([0, 4, 2, 2, 3, 1])),
    "probabilities": ({}, LOGITS, PROBS),
    "probabilities+weight+smoothing": (
        {"weight": WEIGHT, "label_smoothing": 0.3},
        LOGITS,
        PROBS,
    ),
    "unbatched": ({}, LOGITS[0], np.array(3)),
    "spatial (N, C, d1, d2)": (
        {"weight": WEIGHT},
        RNG.standard_normal((2, 5, 3, 4)),
        RNG.integers(0, 5, (2, 3, 4)),
    ),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", list(CE_CASES))
def test_cross_entropy_matches_pytorch(case, reduction):
    torch = pytest.importorskip("torch")
    kwargs, x, target = CE_CASES[case]

    def ours(inp, tgt):
        kw = {k: rg.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
        return F.cross_entropy(inp, tgt, reduction=reduction, **kw)

    def theirs(inp, tgt):
        kw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
        return torch.nn.functional.cross_entropy(inp, tgt, reduction=reduction, **kw)

    _compare(ours, theirs, x, target)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_and_modules_match_pytorch(reduction):
    torch = pytest.importorskip("torch")
    logp = LOGITS - np.log(np.exp(LOGITS).sum(1, keepdims=True))
    _compare(
        lambda x, t, w: F.nll_loss(x, t, weight=w, reduction=reduction),
        lambda x, t, w: torch.nn.functional.nll_loss(x, t, weight=w, reduction=reduction),
        logp,
        TARGET,
        WEIGHT,
    )
    _compare(
        lambda x, t: nn.NLLLoss(reduction=reduction)(x, t),
        lambda x, t: torch.nn.NLLLoss(reduction=reduction)(x, t),
        logp,
        TARGET,
    )
    _compare(
        lambda x, t: nn.CrossEntropyLoss(reduction=reduction, label_smoothing=0.1)(x, t),
        lambda x, t: torch.nn.CrossEntropyLoss(reduction=reduction, label_smoothing=0.1)(x, t),
        LOGITS,
        TARGET,
    )


def test_cross_entropy_float32_and_graph():
    x = rg.tensor(LOGITS.astype(np.float32), requires_grad=True)
    loss = nn.CrossEntropyLoss()(x, rg.tensor([0, 1, 2, 3, 4, 0]))
    assert loss.dtype == rg.float32 and loss.shape == ()
    loss.backward()
    assert x.grad.shape == (6, 5)
    # Each row's gradient sums to zero (softmax minus one-hot, over N)
    assert np.abs(x.grad.numpy().sum(1)).max() < 1e-6


def test_loss_errors():
    x = rg.randn(3, 4)
    with raises(IndexError, "Target 4 is out of bounds."):
        F.cross_entropy(x, rg.tensor([0, 1, 4]))
    with raises(IndexError, "Target -1 is out of bounds."):
        F.nll_loss(x, rg.tensor([0, -1, 1]))
    with raises(RuntimeError, "expected target dtype to be Long or Byte, but got Float"):
        F.nll_loss(x, rg.tensor([0.0, 1.0, 2.0]))
    with raises(RuntimeError, "expected target dtype to be Long or Byte, but got Float"):
        F.cross_entropy(x, rg.tensor([0.0, 1.0, 2.0]))  # (not the input's shape: indices)
    with raises(RuntimeError, "expected target dtype to be Long or Byte, but got Int"):
        F.cross_entropy(x, rg.tensor([0, 1, 2], dtype=rg.int32))
    with raises(RuntimeError, "Expected floating point type for target with class probabilities, got Long"):  # fmt: skip
        F.cross_entropy(x, rg.zeros(3, 4, dtype=rg.int64))
    # Byte class indices are indices (not a mask), as in PyTorch.
    byte = rg.tensor([0, 3, 1], dtype=rg.uint8)
    w = rg.rand(4)
    assert_close(
        F.cross_entropy(x, byte, label_smoothing=0.1, weight=w),
        F.cross_entropy(x, byte.long(), label_smoothing=0.1, weight=w),
    )
    assert_close(F.nll_loss(x, byte), F.nll_loss(x, byte.long()))
    with raises(ValueError, "Expected input batch_size (3) to match target batch_size (2)."):
        F.cross_entropy(x, rg.tensor([0, 1]))
    with raises(ValueError, "bad is not a valid value for reduction"):
        nn.MSELoss(reduction="bad")
    with raises(ValueError, "bad is not a valid value for reduction"):
        F.cross_entropy(x, rg.tensor([0, 1, 2]), reduction="bad")


def test_mse_loss_warns_on_broadcasting_and_legacy_flags():
    with pytest.warns(UserWarning, match="Using a target size"):
        F.mse_loss(rg.zeros(3, 1), rg.zeros(3))
    with pytest.warns(UserWarning, match="reduction='sum'"):
        loss = nn.MSELoss(size_average=False)
    assert loss.reduction == "sum"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.mse_loss(rg.zeros(3), rg.zeros(3))


def test_dropout_train_and_eval():
    rg.manual_seed(0)
    drop = nn.Dropout(0.25)
    x = rg.ones(20000)
    y = drop(x).numpy()
    assert set(np.unique(y).tolist()) <= {0.0, float(np.float32(1 / 0.75))}
    assert abs((y == 0).mean() - 0.25) < 0.02
    drop.eval()
    assert drop(x) is x
    with raises(ValueError, "dropout probability has to be between 0 and 1"):
        nn.Dropout(1.5)


def test_identity_and_flatten():
    x = rg.randn(2, 3, 4)
    assert nn.Identity()(x) is x
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(0, 1)(x).shape == (6, 4)


# ----- init -------------------------------------------------------------------------------------


def test_init_functions_write_in_place_without_recording():
    p = nn.Parameter(rg.zeros(3, 4))
    version = p._version
    assert nn.init.constant_(p, 0.5) is p
    assert p.detach().numpy().tolist() == [[0.5] * 4] * 3
    assert p.grad_fn is None and p.is_leaf and p.requires_grad
    assert p._version > version
    nn.init.zeros_(p)
    assert not p.detach().numpy().any()
    nn.init.ones_(p)
    assert (p.detach().numpy() == 1).all()
    nn.init.eye_(p)
    assert_close(p, np.eye(3, 4, dtype=np.float32))


def test_init_distributions():
    rg.manual_seed(1)
    t = rg.zeros(300, 200)
    nn.init.uniform_(t, -2.0, 3.0)
    a = t.numpy()
    assert a.min() >= -2.0 and a.max() < 3.0 and abs(a.mean() - 0.5) < 0.05
    nn.init.normal_(t, mean=1.0, std=0.5)
    a = t.numpy()
    assert abs(a.mean() - 1.0) < 0.01 and abs(a.std() - 0.5) < 0.01

    fan_in, fan_out = 200, 300
    nn.init.xavier_uniform_(t, gain=2.0)
    bound = 2.0 * math.sqrt(6.0 / (fan_in + fan_out))
    assert np.abs(t.numpy()).max() <= bound and np.abs(t.numpy()).max() > 0.99 * bound
    nn.init.xavier_normal_(t)
    assert abs(t.numpy().std() - math.sqrt(2.0 / (fan_in + fan_out))) < 0.002

    nn.init.kaiming_uniform_(t, nonlinearity="relu")
    bound = math.sqrt(2.0) * math.sqrt(3.0 / fan_in)
    assert np.abs(t.numpy()).max() <= bound and np.abs(t.numpy()).max() > 0.99 * bound
    nn.init.kaiming_uniform_(t, a=math.sqrt(5))  # Linear's default: 1 / sqrt(fan_in)
    assert np.abs(t.numpy()).max() <= 1 / math.sqrt(fan_in)
    nn.init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu")
    assert np.abs(t.numpy()).max() <= math.sqrt(6.0 / fan_out)
    nn.init.kaiming_normal_(t, nonlinearity="relu")
    assert abs(t.numpy().std() - math.sqrt(2.0 / fan_in)) < 0.003

    d = rg.zeros(10, 10, dtype=rg.float64)
    nn.init.normal_(d)
    assert d.dtype == rg.float64 and d.numpy().std() > 0.5


def test_calculate_gain_matches_pytorch():
    torch = pytest.importorskip("torch")
    for name, param in [
        ("linear", None),
        ("conv2d", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.2),
        ("leaky_relu", math.sqrt(5)),
        ("selu", None),
    ]:
        ours = nn.init.calculate_gain(name, param)
        assert ours == pytest.approx(torch.nn.init.calculate_gain(name, param), rel=1e-15)
    with raises(ValueError, "Unsupported nonlinearity gelu"):
        nn.init.calculate_gain("gelu")


def test_init_errors():
    with raises(ValueError, "Fan in and fan out can not be computed"):
        nn.init.xavier_uniform_(rg.zeros(5))
    with raises(ValueError, "Mode fan_avg not supported"):
        nn.init.kaiming_uniform_(rg.zeros(2, 2), mode="fan_avg")
    with raises(TypeError, "floating-point"):
        nn.init.uniform_(rg.zeros(2, dtype=rg.int64))


# ----- PyTorch's per-module loading protocol ---------------------------------------------------


def _legacy_linear(lib):
    class Legacy(lib.nn.Linear):
        """A layer whose older checkpoints named its weight ``w_old``."""

        def _load_from_state_dict(self, state_dict, prefix, *args):
            if prefix + "w_old" in state_dict:
                state_dict[prefix + "weight"] = state_dict.pop(prefix + "w_old")
            super()._load_from_state_dict(state_dict, prefix, *args)

    return Legacy


def _with_extra_state(lib):
    class Counter(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = lib.nn.Linear(1, 1)
            self.count = 0

        def get_extra_state(self):
            return {"count": self.count}

        def set_extra_state(self, state):
            self.count = state["count"]

    return Counter


def test_a_subclass_loading_override_renames_old_keys_as_torch():
    torch = pytest.importorskip("torch")
    outcomes = []
    for lib in (rg, torch):
        outer = lib.nn.Sequential(_legacy_linear(lib)(1, 1))
        checkpoint = {"0.w_old": lib.full((1, 1), 3.0), "0.bias": lib.zeros(1)}
        result = outer.load_state_dict(checkpoint)
        outcomes.append((list(result.missing_keys), list(result.unexpected_keys), outer[0].weight.item()))  # fmt: skip
        loose = outer.load_state_dict({"0.w_old": lib.ones(1, 1), "x": lib.ones(1)}, strict=False)
        outcomes.append((list(loose.missing_keys), list(loose.unexpected_keys), outer[0].weight.item()))  # fmt: skip
    assert outcomes[:2] == outcomes[2:]


def test_extra_state_is_saved_and_restored_as_torch():
    torch = pytest.importorskip("torch")
    outcomes = []
    for lib in (rg, torch):
        m = _with_extra_state(lib)()
        m.count = 7
        sd = m.state_dict()
        fresh = _with_extra_state(lib)()
        fresh.load_state_dict(sd)
        with pytest.raises(RuntimeError) as info:
            lib.nn.Linear(1, 1).load_state_dict({**lib.nn.Linear(1, 1).state_dict(), "_extra_state": 1})  # fmt: skip
        outcomes.append((list(sd), sd["_extra_state"], fresh.count, str(info.value).split("\n")[1]))
    assert outcomes[0] == outcomes[1]


def test_state_dict_metadata_holds_module_versions_as_torch():
    torch = pytest.importorskip("torch")
    metas = []
    for lib in (rg, torch):
        net = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2))
        metas.append(dict(net.state_dict()._metadata))
    assert metas[0] == metas[1]
