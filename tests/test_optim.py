"""``rustgrad.optim``: SGD and Adam step for step against ``torch.optim`` (float64, from the
same weights and gradients), plus the ``Optimizer`` bookkeeping: groups, state, state dicts,
``zero_grad``, closures and argument checks."""

import numpy as np
import pytest
import rustgrad as rg
from conftest import assert_close, raises
from rustgrad import _core, nn, optim

SHAPES = [(3, 4), (4,), ()]
STEPS = 6


def _problem(seed):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(STEPS)]
    return init, grads


def _run_both(ours_cls, torch_cls, kwargs, seed=0, groups=None):
    """Step both optimizers on identical float64 parameters and gradients; compare the
    parameters (and the optimizer state) after every step."""
    torch = pytest.importorskip("torch")
    init, grads = _problem(seed)
    ours = [rg.tensor(a, requires_grad=True) for a in init]
    theirs = [torch.tensor(a, requires_grad=True) for a in init]
    if groups is None:
        opt_r, opt_t = ours_cls(ours, **kwargs), torch_cls(theirs, **kwargs)
    else:
        opt_r = ours_cls([dict(g, params=[ours[i] for i in idx]) for idx, g in groups], **kwargs)
        opt_t = torch_cls([dict(g, params=[theirs[i] for i in idx]) for idx, g in groups], **kwargs)
    for step in range(STEPS):
        for p, g in zip(ours, grads[step]):
            p.grad = rg.tensor(g)
        for p, g in zip(theirs, grads[step]):
            p.grad = torch.tensor(g)
        opt_r.step()
        opt_t.step()
        for a, b in zip(ours, theirs):
            assert_close(a, b, rtol=1e-13, atol=1e-15)
    return opt_r, opt_t, ours, theirs


SGD_CASES = [
    {"lr": 0.1},
    {"lr": 0.05, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.5},
    {"lr": 0.05, "momentum": 0.9, "nesterov": True},
    {"lr": 0.1, "weight_decay": 0.01},
    {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.1, "dampening": 0.2},
    {"lr": 0.05, "momentum": 0.7, "weight_decay": 0.1, "nesterov": True},
    {"lr": 0.1, "maximize": True},
    {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.05, "nesterov": True, "maximize": True},
]


@pytest.mark.parametrize(
    "kwargs", SGD_CASES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items())
)
def test_sgd_matches_pytorch(kwargs):
    opt_r, opt_t, ours, theirs = _run_both(optim.SGD, _torch_optim("SGD"), kwargs)
    for a, b in zip(ours, theirs):
        buf_r = opt_r.state[a].get("momentum_buffer")
        buf_t = opt_t.state[b].get("momentum_buffer")
        assert (buf_r is None) == (buf_t is None)
        if buf_r is not None:
            assert_close(buf_r, buf_t, rtol=1e-13, atol=1e-15)


ADAM_CASES = [
    {},
    {"lr": 0.01},
    {"lr": 0.05, "weight_decay": 0.1},
    {"lr": 0.02, "betas": (0.8, 0.95), "eps": 1e-6},
    {"lr": 0.02, "maximize": True},
    {"lr": 0.03, "betas": (0.5, 0.9), "weight_decay": 0.3, "maximize": True},
]


@pytest.mark.parametrize(
    "kwargs", ADAM_CASES, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()) or "default"
)
def test_adam_matches_pytorch(kwargs):
    opt_r, opt_t, ours, theirs = _run_both(optim.Adam, _torch_optim("Adam"), kwargs)
    for a, b in zip(ours, theirs):
        sr, st = opt_r.state[a], opt_t.state[b]
        assert sr["step"] == int(st["step"]) == STEPS
        assert_close(sr["exp_avg"], st["exp_avg"], rtol=1e-13, atol=1e-15)
        assert_close(sr["exp_avg_sq"], st["exp_avg_sq"], rtol=1e-13, atol=1e-15)


def test_param_groups_with_their_own_hyperparameters_match_pytorch():
    groups = [([0], {"lr": 0.01, "momentum": 0.5}), ([1, 2], {"nesterov": True})]
    _run_both(optim.SGD, _torch_optim("SGD"), {"lr": 0.1, "momentum": 0.9}, groups=groups)
    groups = [([0, 2], {"lr": 0.2}), ([1], {"betas": (0.5, 0.6), "weight_decay": 0.1})]
    _run_both(optim.Adam, _torch_optim("Adam"), {"lr": 0.01}, groups=groups)


def test_float32_parameters_track_pytorch():
    torch = pytest.importorskip("torch")
    init, grads = _problem(5)
    ours = [rg.tensor(a.astype(np.float32), requires_grad=True) for a in init]
    theirs = [torch.tensor(a.astype(np.float32), requires_grad=True) for a in init]
    opt_r = optim.Adam(ours, lr=0.01, weight_decay=0.01)
    opt_t = torch.optim.Adam(theirs, lr=0.01, weight_decay=0.01)
    for step in range(STEPS):
        for p, q, g in zip(ours, theirs, grads[step]):
            p.grad = rg.tensor(g.astype(np.float32))
            q.grad = torch.tensor(g.astype(np.float32))
        opt_r.step()
        opt_t.step()
    for a, b in zip(ours, theirs):
        assert a.dtype == rg.float32
        assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_training_a_model_with_backward_matches_pytorch():
    """Whole loop: model, loss, backward, step; float64, both libraries from one init."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 3)), rng.standard_normal((16, 1))
    ours = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)
    ).double()
    with torch.no_grad():
        for (_, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
            q.copy_(torch.from_numpy(p.detach().numpy().copy()))
    for cls, kwargs in [("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}), ("Adam", {})]:
        opt_r = getattr(optim, cls)(ours.parameters(), **kwargs)
        opt_t = getattr(torch.optim, cls)(theirs.parameters(), **kwargs)
        for _ in range(5):
            loss_r = nn.MSELoss()(ours(rg.tensor(x)), rg.tensor(y))
            loss_t = torch.nn.MSELoss()(theirs(torch.tensor(x)), torch.tensor(y))
            opt_r.zero_grad()
            opt_t.zero_grad()
            loss_r.backward()
            loss_t.backward()
            opt_r.step()
            opt_t.step()
            assert loss_r.item() == pytest.approx(loss_t.item(), rel=1e-12)
        for p, q in zip(ours.parameters(), theirs.parameters()):
            assert_close(p, q, rtol=1e-11, atol=1e-13)


def _torch_optim(name):
    torch = pytest.importorskip("torch")
    return getattr(torch.optim, name)


# ----- the step itself --------------------------------------------------------------------------


def test_step_updates_in_place_and_bumps_the_version():
    p = rg.tensor([1.0, 2.0], requires_grad=True)
    storage = p.data_ptr()
    version = p._version
    p.grad = rg.tensor([1.0, 1.0])
    optim.SGD([p], lr=0.5).step()
    assert p.tolist() == [0.5, 1.5]
    assert p.data_ptr() == storage and p._version > version
    assert p.is_leaf and p.requires_grad and p.grad_fn is None


def test_step_under_grad_mode_records_nothing_and_skips_params_without_grad():
    a = rg.tensor([1.0], requires_grad=True)
    b = rg.tensor([1.0], requires_grad=True)
    (a * 3).sum().backward()
    opt = optim.Adam([a, b], lr=0.1)
    assert rg.is_grad_enabled()
    opt.step()
    assert a.grad_fn is None and a.tolist()[0] == pytest.approx(0.9)
    assert b.tolist() == [1.0] and len(opt.state[b]) == 0 and opt.state[a]["step"] == 1


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_the_update_runs_in_rust(name, monkeypatch):
    """The per-parameter arithmetic is one call into the extension per parameter."""
    calls = []
    real = _core._optimizer_step

    def counted(rule, *args, **kwargs):
        calls.append(rule)
        return real(rule, *args, **kwargs)

    monkeypatch.setattr(_core, "_optimizer_step", counted)
    params = [rg.ones(3, requires_grad=True), rg.ones(2, 2, requires_grad=True)]
    opt = getattr(optim, name)(params, lr=0.1)
    for _ in range(2):
        for p in params:
            p.grad = rg.ones_like(p)
        opt.step()
    assert len(calls) == 4


def test_sgd_without_momentum_keeps_no_state():
    p = rg.tensor([1.0], requires_grad=True)
    p.grad = rg.tensor([1.0])
    opt = optim.SGD([p], lr=0.1)
    opt.step()
    assert len(opt.state) == 0
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    opt.step()
    assert opt.state[p]["momentum_buffer"].tolist() == [1.0]


def test_closure_is_evaluated_with_grad_enabled_and_its_loss_returned():
    w = rg.tensor([2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with rg.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 4.0
    assert w.tolist() == [1.0]  # 2 - 0.25 * 4


# ----- bookkeeping ------------------------------------------------------------------------------


def test_zero_grad_set_to_none_or_zero():
    p = rg.tensor([1.0, 2.0], requires_grad=True)
    (p * p).sum().backward()
    opt = optim.SGD([p], lr=0.1)
    opt.zero_grad(set_to_none=False)
    assert p.grad is not None and p.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None


def test_param_groups_defaults_and_add_param_group():
    a, b = nn.Parameter(rg.zeros(1)), nn.Parameter(rg.zeros(2))
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert all(g["momentum"] == 0.9 for g in opt.param_groups)
    assert opt.param_groups[1]["params"] == [b] or opt.param_groups[1]["params"][0] is b
    c = nn.Parameter(rg.zeros(3))
    opt.add_param_group({"params": [c], "weight_decay": 0.1})
    assert opt.param_groups[2]["lr"] == 0.1 and opt.param_groups[2]["weight_decay"] == 0.1
    with raises(ValueError, "some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": [a]})
    assert set(opt.defaults) == {
        "lr",
        "momentum",
        "dampening",
        "weight_decay",
        "nesterov",
        "maximize",
        "foreach",
        "differentiable",
        "fused",
    }


def test_argument_errors_match_pytorch():
    p = [nn.Parameter(rg.zeros(1))]
    with raises(ValueError, "Invalid learning rate: -1"):
        optim.SGD(p, lr=-1)
    with raises(ValueError, "Invalid momentum value: -0.5"):
        optim.SGD(p, lr=0.1, momentum=-0.5)
    with raises(ValueError, "Invalid weight_decay value: -0.1"):
        optim.SGD(p, lr=0.1, weight_decay=-0.1)
    with raises(ValueError, "Nesterov momentum requires a momentum and zero dampening"):
        optim.SGD(p, lr=0.1, nesterov=True)
    with raises(ValueError, "Invalid epsilon value: -1e-08"):
        optim.Adam(p, eps=-1e-8)
    with raises(ValueError, "Invalid beta parameter at index 0: 1.0"):
        optim.Adam(p, betas=(1.0, 0.9))
    with raises(ValueError, "Invalid beta parameter at index 1: -0.1"):
        optim.Adam(p, betas=(0.9, -0.1))
    with raises(ValueError, "optimizer got an empty parameter list"):
        optim.SGD([], lr=0.1)
    with raises(TypeError, "should be an iterable of Tensors or dicts, but got Tensor"):
        optim.SGD(p[0], lr=0.1)
    nonleaf = nn.Parameter(rg.zeros(1)) * 2
    with raises(ValueError, "can't optimize a non-leaf Tensor"):
        optim.SGD([nonleaf], lr=0.1)
    with raises(TypeError, "optimizer can only optimize Tensors"):
        optim.SGD([1.0], lr=0.1)


def test_repr_is_pytorchs_layout():
    torch = pytest.importorskip("torch")
    ours = optim.SGD([nn.Parameter(rg.zeros(1))], lr=0.1, momentum=0.9)
    theirs = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    assert repr(ours) == repr(theirs)
    assert repr(ours).startswith("SGD (\nParameter Group 0\n    dampening: 0\n")
    for name in ("Adam", "SGD", "RMSprop"):
        # two groups: PyTorch puts a blank line between them
        a, b = nn.Parameter(rg.zeros(1)), nn.Parameter(rg.zeros(1))
        ta, tb = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
        ours = getattr(optim, name)([{"params": [a]}, {"params": [b], "lr": 0.005}], lr=0.01)
        theirs = getattr(torch.optim, name)(
            [{"params": [ta]}, {"params": [tb], "lr": 0.005}], lr=0.01
        )
        assert repr(ours) == repr(theirs)
        assert "\n\nParameter Group 1\n" in repr(ours)


def _trained(opt_cls, seed=0, steps=3, **kwargs):
    rg.manual_seed(seed)
    model = nn.Linear(3, 2)
    opt = opt_cls(model.parameters(), **kwargs)
    x = rg.randn(8, 3)
    for _ in range(steps):
        opt.zero_grad()
        model(x).pow(2).mean().backward()
        opt.step()
    return model, opt, x


def test_state_dict_layout_is_pytorchs():
    model, opt, _ = _trained(optim.Adam, lr=0.01)
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert sorted(sd["state"]) == [0, 1]
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    assert sd["state"][0]["step"] == 3
    assert sd["param_groups"][0]["params"] == [0, 1]
    assert sd["param_groups"][0]["lr"] == 0.01
    assert sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert opt.param_groups[0]["params"][0] is model.weight  # not replaced by the indices


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [(optim.SGD, {"lr": 0.1, "momentum": 0.9}), (optim.Adam, {"lr": 0.05})],
)
def test_state_dict_round_trip_resumes_identically(cls, kwargs):
    model_a, opt_a, x = _trained(cls, **kwargs)
    model_b = nn.Linear(3, 2)
    model_b.load_state_dict(model_a.state_dict())
    opt_b = cls(model_b.parameters(), lr=123.0)
    opt_b.load_state_dict(opt_a.state_dict())
    assert opt_b.param_groups[0]["lr"] == kwargs["lr"]
    assert opt_b.param_groups[0]["params"][0] is model_b.weight
    for _ in range(3):
        for model, opt in ((model_a, opt_a), (model_b, opt_b)):
            opt.zero_grad()
            model(x).pow(2).mean().backward()
            opt.step()
    for p, q in zip(model_a.parameters(), model_b.parameters()):
        assert_close(p, q.detach().numpy())


def test_load_state_dict_copies_and_checks_groups():
    _, opt, _ = _trained(optim.Adam, lr=0.01)
    sd = opt.state_dict()
    saved = sd["state"][0]["exp_avg"].numpy().copy()
    other = optim.Adam(nn.Linear(3, 2).parameters())
    other.load_state_dict(sd)
    for p in other.param_groups[0]["params"]:
        p.grad = rg.ones(p.shape)
    other.step()
    assert (sd["state"][0]["exp_avg"].numpy() == saved).all()  # the loaded dict is untouched
    assert other.state[other.param_groups[0]["params"][0]]["step"] == 4
    with raises(ValueError, "loaded state dict has a different number of parameter groups"):
        optim.Adam(
            [{"params": [nn.Parameter(rg.zeros(1))]}, {"params": [nn.Parameter(rg.zeros(1))]}]
        ).load_state_dict(sd)
    with raises(ValueError, "doesn't match the size of optimizer's group"):
        optim.Adam([nn.Parameter(rg.zeros(1))]).load_state_dict(sd)


def test_load_state_dict_from_pytorch_layout_with_tensor_step():
    torch = pytest.importorskip("torch")
    init, grads = _problem(2)
    theirs = [torch.tensor(a, requires_grad=True) for a in init]
    opt_t = torch.optim.Adam(theirs, lr=0.01)
    for step in range(2):
        for p, g in zip(theirs, grads[step]):
            p.grad = torch.tensor(g)
        opt_t.step()
    sd_t = opt_t.state_dict()
    sd = {
        "state": {
            i: {k: rg.tensor(v.numpy()) for k, v in s.items()} for i, s in sd_t["state"].items()
        },
        "param_groups": [
            {
                k: v
                for k, v in g.items()
                if k in ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize", "params")
            }
            for g in sd_t["param_groups"]
        ],
    }
    ours = [rg.tensor(p.detach().numpy().copy(), requires_grad=True) for p in theirs]
    opt_r = optim.Adam(ours)
    opt_r.load_state_dict(sd)
    assert opt_r.state[ours[0]]["step"] == 2
    for p, q, g in zip(ours, theirs, grads[2]):
        p.grad = rg.tensor(g)
        q.grad = torch.tensor(g)
    opt_r.step()
    opt_t.step()
    for a, b in zip(ours, theirs):
        assert_close(a, b, rtol=1e-13, atol=1e-15)


# ----- optim.swa_utils: AveragedModel, update_bn -----


def _swa_model(lib, dtype):
    return lib.nn.Sequential(
        lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.ReLU(), lib.nn.Linear(4, 2)
    ).to(getattr(lib, dtype))


def _set_weights(lib, model, rng):
    """Fresh random values in every parameter and buffer (integers in the integer ones)."""
    with lib.no_grad():
        for t in [*model.parameters(), *model.buffers()]:
            if t.is_floating_point():
                t.copy_(lib.tensor(rng.standard_normal(tuple(t.shape)), dtype=t.dtype))
            else:
                t.fill_(int(rng.integers(0, 100)))


def _averaging(su, kind):
    return {
        "swa": lambda m: su.AveragedModel(m),
        "swa-buffers": lambda m: su.AveragedModel(m, use_buffers=True),
        "ema-avg_fn": lambda m: su.AveragedModel(m, avg_fn=su.get_ema_avg_fn(0.8)),
        "ema-avg_fn-buffers": lambda m: su.AveragedModel(
            m, avg_fn=su.get_ema_avg_fn(0.8), use_buffers=True
        ),
        "swa-avg_fn": lambda m: su.AveragedModel(m, avg_fn=su.get_swa_avg_fn()),
        "ema-multi_avg_fn": lambda m: su.AveragedModel(
            m, multi_avg_fn=su.get_ema_multi_avg_fn(0.9)
        ),
        "ema-multi_avg_fn-buffers": lambda m: su.AveragedModel(
            m, multi_avg_fn=su.get_ema_multi_avg_fn(0.9), use_buffers=True
        ),
        "swa-multi_avg_fn": lambda m: su.AveragedModel(m, multi_avg_fn=su.get_swa_multi_avg_fn()),
    }[kind]


# The multi-tensor functions update with ``lerp_``: PyTorch's CPU lerp is fused (one rounding),
# rustgrad's rounds twice, so those averages may differ in the last bit.
LERP_TOL = {"float32": (3e-7, 3e-7), "float64": (5e-16, 5e-16)}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "kind",
    [
        "swa",
        "swa-buffers",
        "ema-avg_fn",
        "ema-avg_fn-buffers",
        "swa-avg_fn",
        "ema-multi_avg_fn",
        "ema-multi_avg_fn-buffers",
        "swa-multi_avg_fn",
    ],
)
def test_averaged_model_matches_pytorch(kind, dtype):
    """The same sequence of model weights averaged in both libraries: the averaged model's
    state dict (``n_averaged``, parameters, buffers) after every update."""
    torch = pytest.importorskip("torch")
    from rustgrad.optim import swa_utils

    states = []
    for lib, su in ((rg, swa_utils), (torch, torch.optim.swa_utils)):
        rng = np.random.default_rng(4)
        model = _swa_model(lib, dtype)
        averaged = _averaging(su, kind)(model)
        seen = []
        for _ in range(6):
            _set_weights(lib, model, rng)
            averaged.update_parameters(model)
            seen.append({k: v.detach().numpy().copy() for k, v in averaged.state_dict().items()})
        states.append(seen)
    for ours, theirs in zip(*states):
        assert list(ours) == list(theirs)
        for key, value in theirs.items():
            assert ours[key].dtype == value.dtype, key
            if "multi_avg_fn" in kind and value.dtype.kind == "f":
                rtol, atol = LERP_TOL[dtype]
                assert_close(ours[key], value, rtol=rtol, atol=atol)
            else:
                np.testing.assert_array_equal(ours[key], value, err_msg=key)


def test_averaged_model_runs_the_copy_and_leaves_the_model_alone():
    torch = pytest.importorskip("torch")
    from rustgrad.optim import swa_utils

    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 3))
    outputs = []
    for lib, su in ((rg, swa_utils), (torch, torch.optim.swa_utils)):
        model = _swa_model(lib, "float64")
        _set_weights(lib, model, np.random.default_rng(1))
        averaged = su.AveragedModel(model, device="cpu")
        assert averaged.module is not model
        averaged.update_parameters(model)
        first = [p.detach().clone() for p in model.parameters()]
        _set_weights(lib, model, np.random.default_rng(2))
        averaged.update_parameters(model)
        for p, q in zip(averaged.module.parameters(), model.parameters()):
            assert not p.detach().equal(q.detach())  # an average, not a copy
        assert [p.requires_grad for p in averaged.parameters()] == [True] * len(first)
        averaged.eval()
        outputs.append(averaged(lib.tensor(x)).detach().numpy())
        assert int(averaged.n_averaged) == 2
        assert averaged.n_averaged.dtype == lib.int64
    np.testing.assert_array_equal(outputs[0], outputs[1])


def test_swa_utils_errors_as_pytorch():
    torch = pytest.importorskip("torch")
    from rustgrad.optim import swa_utils

    cases = [
        lambda lib, su: su.AveragedModel(
            _swa_model(lib, "float32"),
            avg_fn=su.get_swa_avg_fn(),
            multi_avg_fn=su.get_swa_multi_avg_fn(),
        ),
        lambda lib, su: su.get_ema_avg_fn(1.5),
        lambda lib, su: su.get_ema_multi_avg_fn(-0.1),
    ]
    for make in cases:
        raised = []
        for lib, su in ((rg, swa_utils), (torch, torch.optim.swa_utils)):
            with pytest.raises(Exception) as info:
                make(lib, su)
            raised.append((type(info.value), str(info.value)))
        assert raised[0] == raised[1]


def _bn_model(lib):
    return lib.nn.Sequential(
        lib.nn.Conv2d(3, 4, 3),
        lib.nn.BatchNorm2d(4, momentum=0.3),
        lib.nn.ReLU(),
        lib.nn.Flatten(),
        lib.nn.Linear(36, 5),
        lib.nn.BatchNorm1d(5),
    ).double()


@pytest.mark.parametrize("batches", ["tuples", "tensors"])
def test_update_bn_matches_pytorch(batches):
    """Running statistics recomputed over the loader (cumulative averages), the layers'
    momenta and the model's training flag restored."""
    torch = pytest.importorskip("torch")
    from rustgrad.optim import swa_utils

    rng = np.random.default_rng(0)
    data = [rng.standard_normal((8, 3, 5, 5)) * (i + 1) + i for i in range(4)]
    stats = []
    for lib, su in ((rg, swa_utils), (torch, torch.optim.swa_utils)):
        model = _bn_model(lib)
        _set_weights(lib, model, np.random.default_rng(1))
        model.eval()
        if batches == "tuples":
            loader = [(lib.tensor(d), lib.zeros(8)) for d in data]
        else:
            loader = [lib.tensor(d) for d in data]
        su.update_bn(loader, model, device="cpu")
        assert not model.training
        assert (model[1].momentum, model[5].momentum) == (0.3, 0.1)
        stats.append(
            {
                k: v.numpy().copy()
                for k, v in model.state_dict().items()
                if "running" in k or "num_batches" in k
            }
        )
    assert list(stats[0]) == list(stats[1])
    for key, value in stats[1].items():
        assert_close(stats[0][key], value, rtol=1e-12, atol=1e-14)
    assert int(stats[0]["1.num_batches_tracked"]) == len(data)


def test_update_bn_without_batch_norm_does_nothing():
    from rustgrad.optim import swa_utils

    model = nn.Sequential(nn.Linear(3, 2))
    model.eval()
    read = []

    def loader():
        read.append(True)
        yield rg.zeros(1, 3)

    swa_utils.update_bn(loader(), model)
    assert read == []  # returns before reading the loader, as PyTorch's
    assert not model.training


def test_swa_training_recipe_matches_pytorch():
    """A short SWA run as in PyTorch's documentation: SGD under CosineAnnealingLR, then SWALR
    with the weights averaged each epoch, then update_bn; the averaged model's weights and
    statistics and its predictions as PyTorch's."""
    torch = pytest.importorskip("torch")
    from rustgrad.optim import swa_utils

    rng = np.random.default_rng(7)
    xs = [rng.standard_normal((16, 3)) for _ in range(4)]
    ys = [rng.standard_normal((16, 2)) for _ in range(4)]
    finals = []
    for lib, su in ((rg, swa_utils), (torch, torch.optim.swa_utils)):
        model = _swa_model(lib, "float64")
        _set_weights(lib, model, np.random.default_rng(3))
        with lib.no_grad():
            model[1].running_var.abs_()
        loader = [(lib.tensor(x), lib.tensor(y)) for x, y in zip(xs, ys)]
        opt = lib.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        swa_model = su.AveragedModel(model)
        cosine = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=12)
        swa_sched = su.SWALR(opt, swa_lr=0.01, anneal_epochs=3)
        for epoch in range(12):
            for x, y in loader:
                opt.zero_grad()
                lib.nn.functional.mse_loss(model(x), y).backward()
                opt.step()
            if epoch >= 6:
                swa_model.update_parameters(model)
                swa_sched.step()
            else:
                cosine.step()
        su.update_bn(loader, swa_model)
        swa_model.eval()
        out = swa_model(loader[0][0]).detach().numpy()
        finals.append(({k: v.numpy().copy() for k, v in swa_model.state_dict().items()}, out))
    (ours, out_r), (theirs, out_t) = finals
    assert list(ours) == list(theirs)
    for key, value in theirs.items():
        assert_close(ours[key], value, rtol=1e-10, atol=1e-12)
    assert_close(out_r, out_t, rtol=1e-10, atol=1e-12)


DROPIN_SCRIPT = """
import torch
from torch.optim import LBFGS
from torch.optim.lr_scheduler import CyclicLR
from torch.optim.swa_utils import SWALR, AveragedModel, update_bn

torch.manual_seed(0)
x = torch.tensor([-1.5, 2.0], dtype=torch.float64, requires_grad=True)
opt = LBFGS([x], line_search_fn="strong_wolfe")
def closure():
    opt.zero_grad()
    loss = ((1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2)
    loss.backward()
    return loss
for _ in range(4):
    opt.step(closure)
print("lbfgs", [round(v, 6) for v in x.tolist()], opt.state[x]["n_iter"])

model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4)).double()
sgd = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
cyclic = CyclicLR(sgd, base_lr=0.01, max_lr=0.1, step_size_up=2)
print("cyclic", [round(v, 6) for v in cyclic.get_last_lr()])
lrs = []
for _ in range(5):
    sgd.step()
    cyclic.step()
    lrs.append((round(cyclic.get_last_lr()[0], 6), round(sgd.param_groups[0]["momentum"], 6)))
print(lrs)
swa = AveragedModel(model)
swa_sched = SWALR(sgd, swa_lr=0.05, anneal_epochs=2)
for _ in range(3):
    swa.update_parameters(model)
    swa_sched.step()
print("swa", int(swa.n_averaged), type(swa).__name__, round(swa_sched.get_last_lr()[0], 6))
update_bn([torch.ones(2, 3, dtype=torch.float64)], swa)
print(type(opt), type(cyclic), type(swa_sched))
"""


def test_pytorch_imports_of_the_new_optim_names_resolve(tmp_path):
    """A script importing them as PyTorch's spell them, under ``python -m rustgrad run``,
    prints what it prints with PyTorch."""
    import subprocess
    import sys

    pytest.importorskip("torch")
    (tmp_path / "script.py").write_text(DROPIN_SCRIPT)
    outputs = []
    for args in (["-m", "rustgrad", "run", "script.py"], ["script.py"]):
        r = subprocess.run(
            [sys.executable, *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert r.returncode == 0, r.stderr
        outputs.append(r.stdout)
    assert outputs[0] == outputs[1]
    assert "<class 'torch.optim.lbfgs.LBFGS'>" in outputs[0]
