"""Every ``rustgrad.optim`` optimizer against ``torch.optim`` (single-tensor, ``foreach=False``)
over 50 steps from identical parameters and gradients, in float32 and float64, for each
option; and their state dicts both ways (PyTorch's state loads into ours and training
continues identically, and back)."""

import collections
import types

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
    "Rprop": [
        {},
        {"lr": 0.05, "etas": (0.3, 1.5)},
        {"lr": 0.01, "step_sizes": (1e-3, 0.02), "maximize": True},
    ],
    "ASGD": [
        {},
        {"lr": 0.05, "lambd": 1e-2, "alpha": 0.5, "t0": 10},
        {"lr": 0.01, "t0": 3, "weight_decay": 0.1, "maximize": True},
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


def _state_close(opt_r, opt_t, ours, theirs, dtype, at_scale=False):
    """The optimizers' states agree (with ``at_scale``, each tensor to ``rtol`` of its largest
    element: rounding of large terms left in an element near 0)."""
    rtol, atol = TOL[dtype]
    for a, b in zip(ours, theirs):
        sr, st = opt_r.state[a], opt_t.state[b]
        assert set(sr) == set(st)
        for key, value in st.items():
            if key == "step":
                assert float(sr[key]) == float(value)
            else:
                if at_scale:
                    atol = rtol * float(value.abs().max())
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
        ("Rprop", {"etas": (1.5, 2.0)}, "Invalid eta values: 1.5, 2.0"),
        ("Rprop", {"lr": -0.5}, "Invalid learning rate: -0.5"),
        ("ASGD", {"weight_decay": -0.5}, "Invalid weight_decay value: -0.5"),
        ("Adam", {"betas": (0, 0.9)}, "betas must be either both floats or both Tensors"),
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
        # (an element that ends near 0 by cancellation carries the rounding of its terms,
        # about 20 here: float32's relative error at the tensor's scale)
        rtol, _ = TOL["float32"]
        scale = float(theirs[0].detach().abs().max())
        assert_close(ours[0], theirs[0], rtol=rtol, atol=rtol * scale)
    _state_close(opt_r, opt_t, ours, theirs, "float32", at_scale=True)


# ----- LBFGS: whole minimisations, iterate by iterate -----
#
# L-BFGS derives its step from dot products of the gradients (rustgrad's ``dot`` and PyTorch's
# BLAS one may round differently), and on an ill-conditioned problem the last-bit differences
# grow along the run. What must agree exactly is every decision the algorithm takes: the
# number of iterations and of function evaluations per ``step``. The iterates agree to float64
# rounding (amplified by the problem's conditioning) and, in float32, to float32 rounding
# while the loss is still well above float32's resolution of the minimum.

LBFGS_TOL = {"float64": (1e-9, 1e-12), "float32": (1e-4, 1e-6)}


def _rosenbrock(x):
    return ((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2).sum()


def _regression_data(lib, dtype, problem):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((64, 5))
    w_true = rng.standard_normal((5, 1))
    if problem == "least_squares":
        y = x @ w_true + 0.1 * rng.standard_normal((64, 1))
    else:
        y = (rng.random((64, 1)) < 1 / (1 + np.exp(-(x @ w_true)))).astype(np.float64)
    start = [rng.standard_normal((1, 5)) * 0.1, np.array([0.05]), np.array([0.3, -0.2])]
    return lib.tensor(x.astype(dtype)), lib.tensor(y.astype(dtype)), start


def _lbfgs_run(lib, problem, dtype, steps, start=None, **kwargs):
    """``steps`` calls of ``LBFGS.step`` on ``problem``; per step: the parameters, the loss it
    returned, and the state's ``func_evals`` and ``n_iter``."""
    if problem == "rosenbrock":
        params = [lib.tensor(np.array(start, dtype=dtype), requires_grad=True)]

        def loss_fn():
            return _rosenbrock(params[0])
    else:
        x, y, init = _regression_data(lib, dtype, problem)
        # The third parameter takes no part in the loss: its gradient stays None (zeros).
        params = [lib.tensor(a.astype(dtype), requires_grad=True) for a in init]
        w, b = params[0], params[1]

        def loss_fn():
            z = x @ w.t() + b
            if problem == "least_squares":
                return ((z - y) ** 2).mean()
            bce = lib.nn.functional.binary_cross_entropy_with_logits(z, y)
            return bce + 1e-2 * (w * w).sum()

    opt = lib.optim.LBFGS(params, **kwargs)

    def closure():
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    seen = []
    for _ in range(steps):
        loss = opt.step(closure)
        state = opt.state[params[0]]
        seen.append(
            (
                [p.detach().numpy().copy() for p in params],
                float(loss.detach()),
                state["func_evals"],
                state["n_iter"],
            )
        )
    return seen, opt, params


def _lbfgs_compare(problem, dtype, steps, start=None, **kwargs):
    ours, opt_r, _ = _lbfgs_run(rg, problem, dtype, steps, start, **kwargs)
    theirs, opt_t, _ = _lbfgs_run(torch, problem, dtype, steps, start, **kwargs)
    rtol, atol = LBFGS_TOL[dtype]
    for step, (r, t) in enumerate(zip(ours, theirs)):
        assert r[2:] == t[2:], f"step {step}: (func_evals, n_iter) {r[2:]} != {t[2:]}"
        for a, b in zip(r[0], t[0]):
            assert a.dtype == b.dtype
            assert_close(a, b, rtol=rtol, atol=atol)
        # Near the minimum the loss cancels: compare it on the scale of the first loss.
        assert_close(r[1], t[1], rtol=rtol, atol=max(atol, rtol * abs(theirs[0][1])))
    return opt_r, opt_t


ROSENBROCK_CASES = [
    ([-1.5, 2.0], {"lr": 0.1, "max_iter": 5}),
    ([-1.5, 2.0], {"line_search_fn": "strong_wolfe"}),
    ([-1.5, 2.0], {"line_search_fn": "strong_wolfe", "max_iter": 5}),
    ([-1.2, 1.0], {"line_search_fn": "strong_wolfe", "max_iter": 8, "history_size": 3}),
    ([-1.5, 2.0, 0.5, -0.7, 1.2, 0.3], {"lr": 0.1, "max_iter": 5}),
    ([-1.5, 2.0, 0.5, -0.7, 1.2, 0.3], {"line_search_fn": "strong_wolfe"}),
    ([-1.5, 2.0, 0.5, -0.7, 1.2, 0.3], {"line_search_fn": "strong_wolfe", "history_size": 3}),
]


@pytest.mark.parametrize("start,kwargs", ROSENBROCK_CASES)
def test_lbfgs_rosenbrock_matches_pytorch(start, kwargs):
    """To the minimum (the strong-Wolfe runs converge within the 15 steps)."""
    _lbfgs_compare("rosenbrock", "float64", 15, start, **kwargs)


@pytest.mark.parametrize(
    "kwargs,steps",
    [
        ({"lr": 0.01, "max_iter": 5}, 12),
        ({"line_search_fn": "strong_wolfe", "max_iter": 5}, 2),
    ],
)
def test_lbfgs_rosenbrock_float32_matches_pytorch(kwargs, steps):
    _lbfgs_compare("rosenbrock", "float32", steps, [-1.5, 2.0], **kwargs)


LBFGS_REGRESSION = [
    {"lr": 0.5, "max_iter": 4},
    {},
    {"line_search_fn": "strong_wolfe", "max_iter": 4},
    {"line_search_fn": "strong_wolfe", "history_size": 3},
    {"line_search_fn": "strong_wolfe", "max_iter": 3, "max_eval": 10},
]


@pytest.mark.parametrize("problem", ["least_squares", "logistic"])
@pytest.mark.parametrize("kwargs", LBFGS_REGRESSION)
def test_lbfgs_regression_matches_pytorch(problem, kwargs):
    _lbfgs_compare(problem, "float64", 8, **kwargs)


@pytest.mark.parametrize("problem", ["least_squares", "logistic"])
@pytest.mark.parametrize(
    "kwargs",
    [
        {"lr": 0.5, "max_iter": 1},
        {"line_search_fn": "strong_wolfe", "max_iter": 1},
        {"line_search_fn": "strong_wolfe", "max_iter": 2, "max_eval": 6},
    ],
)
def test_lbfgs_regression_float32_matches_pytorch(problem, kwargs):
    """Six steps: the loss is still far above float32's resolution of the minimum."""
    _lbfgs_compare(problem, "float32", 6, **kwargs)


def test_lbfgs_state_matches_pytorch():
    opt_r, opt_t = _lbfgs_compare(
        "logistic", "float64", 2, line_search_fn="strong_wolfe", max_iter=3, history_size=2
    )
    (p_r,) = opt_r.state
    (p_t,) = opt_t.state
    sr, st = opt_r.state[p_r], opt_t.state[p_t]
    assert list(sr) == list(st)
    for key, value in st.items():
        ours = sr[key]
        if isinstance(value, list):
            assert len(ours) == len(value), key
            for a, b in zip(ours, value):
                assert (a is None) == (b is None), key
                if b is not None:
                    assert_close(a, b, rtol=1e-12, atol=1e-15)
        elif isinstance(value, torch.Tensor):
            assert isinstance(ours, rg.Tensor), key
            assert_close(ours, value, rtol=1e-12, atol=1e-15)
        else:
            assert type(ours) is type(value), key
            assert ours == pytest.approx(value, rel=1e-12), key


def test_lbfgs_pytorch_state_dict_loads_and_minimisation_continues():
    """Two steps in PyTorch, its state dict into rustgrad on the same weights (the curvature
    history included), then the same further steps in both."""
    _, opt_t, params_t = _lbfgs_run(
        torch, "rosenbrock", "float64", 2, [-1.5, 2.0], line_search_fn="strong_wolfe", max_iter=4
    )
    start = params_t[0].detach().numpy().copy()
    ours_p = rg.tensor(start, requires_grad=True)
    opt_r = optim.LBFGS([ours_p], line_search_fn="strong_wolfe", max_iter=4)
    opt_r.load_state_dict(_to_rustgrad(opt_t.state_dict()))
    loaded = opt_r.state[ours_p]
    assert len(loaded["old_dirs"]) == len(opt_t.state[params_t[0]]["old_dirs"]) > 0
    opt_t.load_state_dict(opt_t.state_dict())

    def closures(lib, p, opt):
        def closure():
            opt.zero_grad()
            loss = _rosenbrock(p)
            loss.backward()
            return loss

        return closure

    close_r, close_t = closures(rg, ours_p, opt_r), closures(torch, params_t[0], opt_t)
    for _ in range(3):
        opt_r.step(close_r)
        opt_t.step(close_t)
        assert opt_r.state[ours_p]["func_evals"] == opt_t.state[params_t[0]]["func_evals"]
        assert opt_r.state[ours_p]["n_iter"] == opt_t.state[params_t[0]]["n_iter"]
        assert_close(ours_p.detach(), params_t[0].detach(), rtol=1e-9, atol=1e-12)


def test_lbfgs_returns_the_first_loss_and_stops_at_a_minimum():
    for lib in (rg, torch):
        p = lib.tensor([1.0, 1.0], dtype=lib.float64, requires_grad=True)
        opt = lib.optim.LBFGS([p])
        losses = []

        def closure(opt=opt, p=p, losses=losses):
            opt.zero_grad()
            loss = _rosenbrock(p)
            loss.backward()
            losses.append(loss)
            return loss

        assert opt.step(closure) is losses[0]
        # A zero gradient: one evaluation, no iteration, no direction stored.
        assert dict(opt.state[p]) == {"func_evals": 1, "n_iter": 0}


def test_lbfgs_tensor_lr_as_pytorch():
    results = []
    for lib in (rg, torch):
        p = lib.tensor([-1.5, 2.0], dtype=lib.float64, requires_grad=True)
        opt = lib.optim.LBFGS([p], lr=lib.tensor([0.1], dtype=lib.float64), max_iter=5)

        def closure(opt=opt, p=p):
            opt.zero_grad()
            loss = _rosenbrock(p)
            loss.backward()
            return loss

        for _ in range(3):
            opt.step(closure)
        results.append((p.detach().numpy().copy(), opt.state[p]["func_evals"]))
    assert results[0][1] == results[1][1]
    assert_close(results[0][0], results[1][0], rtol=1e-12)


@pytest.mark.parametrize(
    "make",
    [
        lambda lib, p, q: lib.optim.LBFGS([p], lr=lib.tensor([0.1, 0.2])),
        lambda lib, p, q: lib.optim.LBFGS([p], lr=-1.0),
        lambda lib, p, q: lib.optim.LBFGS([{"params": [p]}, {"params": [q], "lr": 0.1}]),
        lambda lib, p, q: lib.optim.LBFGS([p], line_search_fn="backtracking").step(
            lambda: (p * p).sum().backward() or (p * p).sum()
        ),
        lambda lib, p, q: lib.optim.LBFGS([p]).step(),
    ],
)
def test_lbfgs_errors_as_pytorch(make):
    raised = []
    for lib in (rg, torch):
        p = lib.ones(2, requires_grad=True)
        q = lib.ones(1, requires_grad=True)
        with pytest.raises(Exception) as info:
            make(lib, p, q)
        raised.append((type(info.value), str(info.value)))
    assert raised[0] == raised[1]


BIT_FOR_BIT_CASES = [
    ("rosenbrock", [-1.5, 2.0], {"line_search_fn": "strong_wolfe", "lr": 0.01}),
    ("rosenbrock", [-1.5, 2.0], {"line_search_fn": "strong_wolfe", "lr": 20.0}),
    ("rosenbrock", [-1.5, 2.0, 0.5, -0.7], {"line_search_fn": "strong_wolfe", "max_eval": 6}),
    ("rosenbrock", [-1.5, 2.0, 0.5, -0.7, 1.2], {"line_search_fn": "strong_wolfe", "lr": 50.0}),
    ("rosenbrock", [-1.5, 2.0, 0.5], {"lr": 0.1, "max_iter": 5, "history_size": 2}),
    ("rosenbrock", [-1.5, 2.0], {"lr": "tensor", "max_iter": 7}),
    ("wavy", [-1.5, 2.0], {"line_search_fn": "strong_wolfe", "lr": 100.0}),
    ("wavy", [0.3, -0.8, 1.7], {"line_search_fn": "strong_wolfe", "lr": 5.0, "history_size": 3}),
    # A zoom trial with barely sufficient decrease (the Armijo constant decides).
    ("quartic", [0.94, 1.29, 0.28, -0.86], {"line_search_fn": "strong_wolfe", "lr": 1.957}),
    # Trials near a bracket end twice running (pushed to a tenth of the bracket inside).
    ("bumpy", [2.22, -1.78], {"line_search_fn": "strong_wolfe", "lr": 5.949, "history_size": 2}),
]

BIT_FOR_BIT_PROBLEMS = {
    "rosenbrock": _rosenbrock,
    "wavy": lambda x: (torch.sin(3 * x) + 0.1 * x**2).sum(),
    "quartic": lambda x: (x**4 - 3 * x**2 + x).sum(),
    "bumpy": lambda x: (torch.sqrt(x**2 + 0.01) + 0.3 * torch.cos(5 * x)).sum(),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("problem,start,kwargs", BIT_FOR_BIT_CASES)
def test_lbfgs_algorithm_is_pytorchs_bit_for_bit(problem, start, kwargs, dtype, monkeypatch):
    """rustgrad's LBFGS code driving PyTorch's tensors takes PyTorch's LBFGS's every step bit
    for bit: every branch of the line search (extrapolation, zoom, the steps pushed off the
    bracket's ends, the evaluation budget) and of the two-loop recursion is PyTorch's. (Across
    the libraries, the arithmetic's last bits differ, see above.)"""
    from rustgrad.optim import lbfgs

    monkeypatch.setattr(lbfgs, "_core", types.SimpleNamespace(cat=torch.cat, Tensor=torch.Tensor))
    monkeypatch.setattr(lbfgs, "Tensor", torch.Tensor)
    monkeypatch.setattr(lbfgs, "enable_grad", torch.enable_grad)
    monkeypatch.setattr(lbfgs, "no_grad", torch.no_grad)

    loss_fn = BIT_FOR_BIT_PROBLEMS[problem]
    runs = []
    for ours in (False, True):
        x = torch.tensor(start, dtype=getattr(torch, dtype), requires_grad=True)
        if kwargs.get("lr") == "tensor":
            kwargs = dict(kwargs, lr=torch.tensor([0.1]))
        reference = torch.optim.LBFGS([x], **kwargs)
        if ours:
            opt = lbfgs.LBFGS.__new__(lbfgs.LBFGS)  # Optimizer.__init__ takes rustgrad tensors
            opt.defaults, opt.param_groups = reference.defaults, reference.param_groups
            opt.state, opt._params, opt._numel_cache = collections.defaultdict(dict), [x], None
        else:
            opt = reference

        def closure(x=x):
            x.grad = None
            loss = loss_fn(x)
            loss.backward()
            return loss

        seen = []
        for _ in range(15):
            loss = opt.step(closure)
            state = opt.state[x]
            seen.append((x.detach().clone(), loss.item(), state["func_evals"], state["n_iter"]))
        runs.append(seen)
    for (x_t, *rest_t), (x_r, *rest_r) in zip(*runs):
        assert rest_r == rest_t
        assert torch.equal(x_r, x_t)


# ----- parameter groups and state dicts as PyTorch's (outside testers' findings) ---------------


def _two_params(lib):
    w = lib.nn.Parameter(lib.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=lib.float64))
    b = lib.nn.Parameter(lib.tensor([0.25, -1.0], dtype=lib.float64))
    return w, b


def _loss(lib, w, b):
    x = lib.tensor([[0.3, -0.7], [1.1, 0.2]], dtype=lib.float64)
    return ((x @ w + b) ** 2).sum()


@pytest.mark.parametrize("name", ["Adagrad", "Adam", "SGD", "RMSprop"])
def test_a_group_added_mid_training_steps_as_torch(name):
    results = []
    for lib in (rg, torch):
        w, b = _two_params(lib)
        opt = getattr(lib.optim, name)([w], lr=0.1)
        for step in range(4):
            if step == 2:
                opt.add_param_group({"params": [b], "lr": 0.05})
            opt.zero_grad()
            _loss(lib, w, b).backward()
            opt.step()
        results.append([w.detach().numpy(), b.detach().numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


def test_adagrad_steps_after_loading_an_empty_state():
    results = []
    for lib in (rg, torch):
        w, b = _two_params(lib)
        opt = lib.optim.Adagrad([w, b], lr=0.1, initial_accumulator_value=0.5)
        state = opt.state_dict()
        state["state"] = {}
        opt.load_state_dict(state)
        for _ in range(2):
            opt.zero_grad()
            _loss(lib, w, b).backward()
            opt.step()
        results.append(w.detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


@pytest.mark.parametrize(
    "name, missing",
    [
        ("NAdam", "decoupled_weight_decay"),
        ("Adam", "maximize"),
        ("SGD", "maximize"),
        ("RAdam", "decoupled_weight_decay"),
    ],
)
def test_a_state_dict_from_an_older_pytorch_loads(name, missing):
    results = []
    for lib in (rg, torch):
        w, b = _two_params(lib)
        opt = getattr(lib.optim, name)([w, b], lr=0.01)
        _loss(lib, w, b).backward()
        opt.step()
        state = opt.state_dict()
        for group in state["param_groups"]:
            del group[missing]  # (a key newer PyTorch versions added)
        fresh = getattr(lib.optim, name)([w, b], lr=0.01)
        fresh.load_state_dict(state)
        assert fresh.param_groups[0][missing] == opt.param_groups[0][missing]
        fresh.zero_grad()
        _loss(lib, w, b).backward()
        fresh.step()
        results.append(w.detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


def test_named_parameters_are_kept_as_param_names():
    groups = []
    for lib in (rg, torch):
        model = lib.nn.Linear(2, 1)
        opt = lib.optim.SGD(model.named_parameters(), lr=0.1)
        groups.append(
            (opt.param_groups[0]["param_names"], opt.state_dict()["param_groups"][0]["param_names"])
        )
        with pytest.raises(ValueError, match="with/without names"):
            opt.add_param_group({"params": [lib.nn.Parameter(lib.ones(1))]})
    assert groups[0] == groups[1] == (["weight", "bias"], ["weight", "bias"])


def test_duplicate_parameters_warn_as_torch():
    for lib in (rg, torch):
        w = lib.nn.Parameter(lib.ones(2))
        with pytest.warns(UserWarning, match="duplicate parameters"):
            lib.optim.SGD([w, w], lr=0.1)


def test_step_hooks_see_the_optimizer_in_args():
    seen = []
    for lib in (rg, torch):
        w = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.SGD([w], lr=0.1)
        opt.register_step_pre_hook(
            lambda o, args, kwargs: seen.append(("pre", args == (o,), kwargs))
        )
        opt.register_step_post_hook(
            lambda o, args, kwargs: seen.append(("post", args == (o,), kwargs))
        )
        w.sum().backward()
        opt.step()
    assert seen[:2] == seen[2:] == [("pre", True, {}), ("post", True, {})]


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "Adadelta"])
def test_a_tensor_lr_of_several_elements_is_refused(name):
    for lib in (rg, torch):
        w = lib.nn.Parameter(lib.ones(2))
        with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
            getattr(lib.optim, name)([w], lr=lib.tensor([0.1, 0.2]))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize(
    "name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam"]
)
def test_half_precision_parameters_step_close_to_torch(name, dtype):
    kwargs = {"lr": 0.05, "momentum": 0.9} if name == "SGD" else {"lr": 0.05}
    results = []
    for lib in (rg, torch):
        w = lib.nn.Parameter(lib.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=getattr(lib, dtype)))
        opt = getattr(lib.optim, name)([w], **kwargs)
        for _ in range(3):
            opt.zero_grad()
            (w.float() ** 2).sum().backward()
            opt.step()
        assert w.dtype == getattr(lib, dtype)
        results.append(w.detach().float().numpy())
    # (each of PyTorch's ops rounds to the half type; rustgrad rounds once per step)
    np.testing.assert_allclose(results[0], results[1], rtol=2e-2, atol=1e-2)


def _state_dict_hooks_program(lib):
    log = []
    p = lib.nn.Parameter(lib.ones(2))
    opt = lib.optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = lib.ones(2)
    opt.step()
    opt.register_state_dict_pre_hook(lambda o: log.append("pre"))
    opt.register_state_dict_pre_hook(lambda o: log.append("pre first"), prepend=True)

    def post(o, sd):
        log.append(("post", sorted(sd)))
        sd["note"] = 1
        return sd

    opt.register_state_dict_post_hook(post)
    sd = opt.state_dict()
    log.append(sorted(sd))

    def load_pre(o, sd):
        log.append(("load pre", sorted(sd)))
        sd = dict(sd)
        sd.pop("note")
        sd["param_groups"] = [dict(g, lr=0.5) for g in sd["param_groups"]]
        return sd

    opt.register_load_state_dict_pre_hook(load_pre)
    opt.register_load_state_dict_post_hook(lambda o: log.append(("load post", o.param_groups[0]["lr"])))  # fmt: skip
    opt.load_state_dict(sd)
    log.append(sorted(sd))  # (the caller's dict is untouched)
    return log


def test_optimizer_state_dict_hooks_as_torch():
    assert _state_dict_hooks_program(rg) == _state_dict_hooks_program(torch)


FUSED = [
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,kwargs", FUSED, ids=[n for n, _ in FUSED])
def test_fused_trajectory_matches_pytorchs_fused_kernel(name, kwargs, dtype):
    """``fused=True`` (PyTorch's one-kernel CPU update) is accepted; rustgrad's update is one
    pass either way, and follows PyTorch's fused trajectory."""
    init, grads = _problem(5, dtype)
    ours = [rg.tensor(a, requires_grad=True) for a in init]
    theirs = [torch.tensor(a, requires_grad=True) for a in init]
    opt_r = getattr(optim, name)(ours, fused=True, **kwargs)
    opt_t = getattr(torch.optim, name)(theirs, fused=True, **kwargs)
    assert opt_r.defaults["fused"] is opt_t.defaults["fused"] is True
    for step in range(STEPS):
        for p, q, g in zip(ours, theirs, grads[step]):
            p.grad, q.grad = rg.tensor(g), torch.tensor(g)
        opt_r.step()
        opt_t.step()
        _compare(ours, theirs, dtype)


@pytest.mark.parametrize("name", [n for n, _ in FUSED])
def test_fused_with_foreach_is_refused_as_torch(name):
    for lib, opt in ((torch, torch.optim), (rg, optim)):
        with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together"):
            getattr(opt, name)([lib.zeros(1, requires_grad=True)], lr=0.1, fused=True, foreach=True)  # fmt: skip


def test_tensor_lr_with_foreach_is_refused_as_torch():
    message = "lr as a Tensor is not supported for capturable=False and foreach=True"
    for lib, opt in ((torch, torch.optim), (rg, optim)):
        with pytest.raises(ValueError, match=message):
            opt.Adam([lib.zeros(1, requires_grad=True)], lr=lib.tensor(0.01), foreach=True)
