"""Every ``rustgrad.optim`` optimizer against ``torch.optim`` (single-tensor, ``foreach=False``)
over 50 steps from identical parameters and gradients, in float32 and float64, for each
option; and their state dicts both ways (PyTorch's state loads into ours and training
continues identically, and back)."""

import numpy as np
import pytest
import rustgrad as rg
from conftest import assert_close
from rustgrad import optim

torch = pytest.importorskip("torch")

# Sizes with and without a tail past PyTorch's vector width (its tail is computed unfused).
SHAPES = [(64, 16), (256,), (3, 5), ()]
STEPS = 50
# PyTorch fuses add(alpha=), lerp and addcmul (its vectorised CPU kernels), as ours do; the
# elements in its scalar tails may round differently, hence the tolerance rather than equality.
TOL = {"float64": (1e-12, 1e-14), "float32": (2e-5, 1e-6)}

CASES = {
    "SGD": [
        {"lr": 0.1},
        {"lr": 0.05, "momentum": 0.9},
        {"lr": 0.05, "momentum": 0.9, "dampening": 0.5},
        {"lr": 0.05, "momentum": 0.9, "nesterov": True},
        {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.1, "dampening": 0.2},
        {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.05, "nesterov": True, "maximize": True},
    ],
    "Adam": [
        {},
        {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6},
        {"lr": 0.01, "weight_decay": 0.1},
        {"lr": 0.01, "amsgrad": True},
        {"lr": 0.01, "amsgrad": True, "maximize": True, "weight_decay": 0.05},
        {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True},
    ],
    "AdamW": [
        {},
        {"lr": 0.01, "weight_decay": 0.1},
        {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True, "maximize": True},
    ],
    "RMSprop": [
        {},
        {"lr": 0.01, "alpha": 0.9, "eps": 1e-6},
        {"lr": 0.01, "centered": True},
        {"lr": 0.01, "momentum": 0.9},
        {"lr": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 0.1},
        {"lr": 0.01, "alpha": 0.3, "centered": True, "maximize": True},
    ],
    "Adagrad": [
        {},
        {"lr": 0.1, "lr_decay": 0.01},
        {"lr": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-6},
        {"lr": 0.1, "weight_decay": 0.1, "maximize": True},
    ],
    "Adadelta": [
        {},
        {"lr": 0.5, "rho": 0.8, "eps": 1e-4},
        {"lr": 1.0, "weight_decay": 0.1, "maximize": True},
    ],
    "Adamax": [
        {},
        {"lr": 0.01, "betas": (0.8, 0.99)},
        {"lr": 0.01, "weight_decay": 0.1, "maximize": True},
    ],
    "NAdam": [
        {},
        {"lr": 0.01, "momentum_decay": 0.01},
        {"lr": 0.01, "weight_decay": 0.1},
        {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True, "maximize": True},
    ],
    "RAdam": [
        {},
        {"lr": 0.01, "betas": (0.5, 0.9)},
        {"lr": 0.01, "weight_decay": 0.1},
        {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True, "maximize": True},
    ],
}
ALL = [(name, kw) for name, cases in CASES.items() for kw in cases]
IDS = [f"{name}-" + ",".join(f"{k}={v}" for k, v in kw.items()) for name, kw in ALL]


def _problem(seed, dtype):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(STEPS)]
    return init, grads


def _torch_kwargs(name, kwargs):
    return dict(kwargs, foreach=False)


def _compare(ours, theirs, dtype):
    rtol, atol = TOL[dtype]
    for a, b in zip(ours, theirs):
        assert_close(a, b, rtol=rtol, atol=atol)


def _state_close(opt_r, opt_t, ours, theirs, dtype):
    rtol, atol = TOL[dtype]
    for a, b in zip(ours, theirs):
        sr, st = opt_r.state[a], opt_t.state[b]
        assert set(sr) == set(st)
        for key, value in st.items():
            if key == "step":
                assert float(sr[key]) == float(value)
            else:
                assert_close(sr[key], value, rtol=rtol, atol=atol)


def _run(name, kwargs, dtype, seed=0, steps=STEPS, ours=None, theirs=None, opts=None):
    init, grads = _problem(seed, dtype)
    if ours is None:
        ours = [rg.tensor(a, requires_grad=True) for a in init]
        theirs = [torch.tensor(a, requires_grad=True) for a in init]
    if opts is None:
        opts = (
            getattr(optim, name)(ours, **_torch_kwargs(name, kwargs)),
            getattr(torch.optim, name)(theirs, **_torch_kwargs(name, kwargs)),
        )
    opt_r, opt_t = opts
    for step in range(steps):
        for p, q, g in zip(ours, theirs, grads[step]):
            p.grad = rg.tensor(g)
            q.grad = torch.tensor(g)
        opt_r.step()
        opt_t.step()
        _compare(ours, theirs, dtype)
    return opt_r, opt_t, ours, theirs


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,kwargs", ALL, ids=IDS)
def test_trajectory_matches_pytorch(name, kwargs, dtype):
    opt_r, opt_t, ours, theirs = _run(name, kwargs, dtype)
    _state_close(opt_r, opt_t, ours, theirs, dtype)


def _to_rustgrad(value):
    if isinstance(value, torch.Tensor):
        return rg.tensor(value.detach().numpy().copy())
    if isinstance(value, dict):
        return {k: _to_rustgrad(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_rustgrad(v) for v in value]
    return value


def _to_torch(value):
    if isinstance(value, rg.Tensor):
        return torch.tensor(np.array(value.tolist(), dtype=str(value.dtype).split(".")[-1]))
    if isinstance(value, dict):
        return {k: _to_torch(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_torch(v) for v in value]
    return value


@pytest.mark.parametrize("name,kwargs", ALL, ids=IDS)
def test_state_dict_layout_is_pytorchs(name, kwargs):
    opt_r, opt_t, _, _ = _run(name, kwargs, "float64", steps=2)
    sd_r, sd_t = opt_r.state_dict(), opt_t.state_dict()
    assert [sorted(g) for g in sd_r["param_groups"]] == [sorted(g) for g in sd_t["param_groups"]]
    for gr, gt in zip(sd_r["param_groups"], sd_t["param_groups"]):
        assert gr == gt
    assert sorted(sd_r["state"]) == sorted(sd_t["state"])
    for i, st in sd_t["state"].items():
        sr = sd_r["state"][i]
        assert sorted(sr) == sorted(st)
        for key, value in st.items():
            assert tuple(sr[key].shape) == tuple(value.shape), key
            assert str(sr[key].dtype).split(".")[-1] == str(value.dtype).split(".")[-1], key


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,kwargs", ALL, ids=IDS)
def test_pytorch_state_dict_loads_and_training_continues(name, kwargs, dtype):
    """10 steps in PyTorch, its state dict into a fresh rustgrad optimizer on the same weights,
    then 10 more steps in both."""
    init, grads = _problem(1, dtype)
    theirs = [torch.tensor(a, requires_grad=True) for a in init]
    opt_t = getattr(torch.optim, name)(theirs, **_torch_kwargs(name, kwargs))
    for step in range(10):
        for q, g in zip(theirs, grads[step]):
            q.grad = torch.tensor(g)
        opt_t.step()
    ours = [rg.tensor(q.detach().numpy().copy(), requires_grad=True) for q in theirs]
    opt_r = getattr(optim, name)(ours, **_torch_kwargs(name, kwargs))
    opt_r.load_state_dict(_to_rustgrad(opt_t.state_dict()))
    # Loading casts floating-point state to the parameter's dtype (NAdam's mu_product: float32
    # to float64), in PyTorch as here: the reference goes through its own load too.
    opt_t.load_state_dict(opt_t.state_dict())
    _state_close(opt_r, opt_t, ours, theirs, dtype)
    _run(name, kwargs, dtype, seed=2, steps=10, ours=ours, theirs=theirs, opts=(opt_r, opt_t))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,kwargs", ALL, ids=IDS)
def test_our_state_dict_loads_into_pytorch(name, kwargs, dtype):
    init, grads = _problem(1, dtype)
    ours = [rg.tensor(a, requires_grad=True) for a in init]
    opt_r = getattr(optim, name)(ours, **_torch_kwargs(name, kwargs))
    for step in range(10):
        for p, g in zip(ours, grads[step]):
            p.grad = rg.tensor(g)
        opt_r.step()
    theirs = [torch.tensor(np.array(p.tolist(), dtype=dtype), requires_grad=True) for p in ours]
    opt_t = getattr(torch.optim, name)(theirs, **_torch_kwargs(name, kwargs))
    opt_t.load_state_dict(_to_torch(opt_r.state_dict()))
    opt_r.load_state_dict(opt_r.state_dict())  # the same casts as PyTorch's load (see above)
    _state_close(opt_r, opt_t, ours, theirs, dtype)
    _run(name, kwargs, dtype, seed=2, steps=10, ours=ours, theirs=theirs, opts=(opt_r, opt_t))


@pytest.mark.parametrize("name", list(CASES))
def test_param_groups_with_their_own_options_and_lr_changes(name):
    """Two groups with different learning rates; ``param_groups[0]['lr'] = x`` mid-run takes
    effect as in PyTorch (schedulers rely on it)."""
    init, grads = _problem(3, "float64")
    ours = [rg.tensor(a, requires_grad=True) for a in init]
    theirs = [torch.tensor(a, requires_grad=True) for a in init]
    base = dict(CASES[name][0]) if name != "SGD" else {"lr": 0.1, "momentum": 0.5}
    opt_r = getattr(optim, name)([{"params": ours[:2]}, {"params": ours[2:], "lr": 0.03}], **base)
    opt_t = getattr(torch.optim, name)(
        [{"params": theirs[:2]}, {"params": theirs[2:], "lr": 0.03}], **_torch_kwargs(name, base)
    )
    for step in range(20):
        if step == 10:
            opt_r.param_groups[0]["lr"] = opt_t.param_groups[0]["lr"] = 0.002
        for p, q, g in zip(ours, theirs, grads[step]):
            p.grad = rg.tensor(g)
            q.grad = torch.tensor(g)
        opt_r.step()
        opt_t.step()
        _compare(ours, theirs, "float64")


def test_step_hooks_run_in_order_and_can_be_removed():
    p = rg.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    calls = []
    pre = opt.register_step_pre_hook(lambda o, a, k: calls.append(("pre", o is opt)))
    opt.register_step_post_hook(lambda o, a, k: calls.append(("post", o is opt)))
    p.grad = rg.tensor([1.0, 1.0])
    opt.step()
    assert calls == [("pre", True), ("post", True)]
    pre.remove()
    opt.step()
    assert calls == [("pre", True), ("post", True), ("post", True)]


@pytest.mark.parametrize(
    "name,kwargs,message",
    [
        ("AdamW", {"lr": -1.0}, "Invalid learning rate: -1.0"),
        ("RMSprop", {"alpha": -0.5}, "Invalid alpha value: -0.5"),
        ("RMSprop", {"momentum": -0.5}, "Invalid momentum value: -0.5"),
        ("Adagrad", {"lr_decay": -0.5}, "Invalid lr_decay value: -0.5"),
        ("Adadelta", {"rho": 1.5}, "Invalid rho value: 1.5"),
        ("Adamax", {"betas": (1.0, 0.9)}, "Invalid beta parameter at index 0: 1.0"),
        ("NAdam", {"momentum_decay": -0.1}, "Invalid momentum_decay value: -0.1"),
        ("RAdam", {"eps": -0.1}, "Invalid epsilon value: -0.1"),
    ],
)
def test_argument_errors_match_pytorch(name, kwargs, message):
    with pytest.raises(ValueError) as theirs:
        getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)], **kwargs)
    assert str(theirs.value) == message
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        getattr(optim, name)([rg.zeros(1, requires_grad=True)], **kwargs)


@pytest.mark.parametrize("name", list(CASES))
def test_empty_parameter_list_and_shared_parameter_errors(name):
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        getattr(optim, name)([], lr=0.1)
    p = rg.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="some parameters appear in more than one"):
        getattr(optim, name)([{"params": [p]}, {"params": [p]}], lr=0.1)


@pytest.mark.parametrize("name,kwargs", ALL, ids=IDS)
def test_large_parameter_split_over_threads_matches_pytorch(name, kwargs):
    """A parameter above the parallel threshold (131,072 elements) is updated in pieces on
    several threads; the trajectory is still PyTorch's."""
    rng = np.random.default_rng(3)
    init = rng.standard_normal((401, 409)).astype("float32")
    ours = [rg.tensor(init, requires_grad=True)]
    theirs = [torch.tensor(init, requires_grad=True)]
    opt_r = getattr(optim, name)(ours, **_torch_kwargs(name, kwargs))
    opt_t = getattr(torch.optim, name)(theirs, **_torch_kwargs(name, kwargs))
    for _ in range(4):
        g = rng.standard_normal(init.shape).astype("float32")
        ours[0].grad, theirs[0].grad = rg.tensor(g), torch.tensor(g)
        opt_r.step()
        opt_t.step()
        _compare(ours, theirs, "float32")
    _state_close(opt_r, opt_t, ours, theirs, "float32")
