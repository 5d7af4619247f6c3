"""Learning-rate schedulers against PyTorch's: the same learning rates (to the last bit) and
momenta, epoch by epoch, for every scheduler and its options; errors and warnings as PyTorch's."""

import math
import pickle
import warnings

import pytest
import rustgrad
from rustgrad.optim import lr_scheduler as rg_sched

torch = pytest.importorskip("torch")

EPOCHS = 40


def optimizers(kind="sgd", groups=2):
    """The same optimizer in both libraries: ``groups`` parameter groups with their own lr."""
    made = []
    for lib in (rustgrad, torch):
        params = [lib.zeros(2, requires_grad=True) for _ in range(groups)]
        spec = [{"params": [p], "lr": 0.1 * (i + 1)} for i, p in enumerate(params)]
        if kind == "sgd":
            made.append(lib.optim.SGD(spec, lr=0.1, momentum=0.9))
        else:
            made.append(lib.optim.Adam(spec, lr=0.1, betas=(0.9, 0.999)))
    return made


def run(make, epochs=EPOCHS, kind="sgd", groups=2, metric=None):
    """Step both schedulers ``epochs`` times (after an optimizer step, as is correct) and
    return, per library, the lrs and momenta seen at each epoch."""
    seen = []
    for opt, lib in zip(optimizers(kind, groups), (rg_sched, torch.optim.lr_scheduler)):
        sched = make(lib, opt)
        history = []
        for epoch in range(epochs):
            lrs = [float(g["lr"]) for g in opt.param_groups]
            momenta = [g.get("momentum", g.get("betas", (None,))[0]) for g in opt.param_groups]
            history.append((lrs, momenta, list(map(float, sched.get_last_lr()))))
            opt.step()
            if metric is None:
                sched.step()
            else:
                sched.step(metric(epoch))
        seen.append(history)
    return seen


SCHEDULERS = {
    "LambdaLR": lambda lib, o: lib.LambdaLR(o, lambda e: 0.95**e),
    "LambdaLR-per-group": lambda lib, o: lib.LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: 0.9]),
    "MultiplicativeLR": lambda lib, o: lib.MultiplicativeLR(o, lambda e: 0.97),
    "StepLR": lambda lib, o: lib.StepLR(o, step_size=7, gamma=0.3),
    "MultiStepLR": lambda lib, o: lib.MultiStepLR(o, milestones=[3, 10, 10, 25], gamma=0.5),
    "ConstantLR": lambda lib, o: lib.ConstantLR(o, factor=0.25, total_iters=6),
    "LinearLR": lambda lib, o: lib.LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=13),
    "LinearLR-decay": lambda lib, o: lib.LinearLR(o, 1.0, 0.0, total_iters=30),
    "ExponentialLR": lambda lib, o: lib.ExponentialLR(o, gamma=0.9),
    "PolynomialLR": lambda lib, o: lib.PolynomialLR(o, total_iters=25, power=2.0),
    "CosineAnnealingLR": lambda lib, o: lib.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
    "CosineAnnealingLR-long": lambda lib, o: lib.CosineAnnealingLR(o, T_max=50),
    "WarmRestarts": lambda lib, o: lib.CosineAnnealingWarmRestarts(o, T_0=5, eta_min=0.01),
    "WarmRestarts-mult": lambda lib, o: lib.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2),
    "OneCycleLR": lambda lib, o: lib.OneCycleLR(o, max_lr=1.0, total_steps=EPOCHS),
    "OneCycleLR-linear-3phase": lambda lib, o: lib.OneCycleLR(
        o,
        max_lr=[0.5, 2.0],
        epochs=4,
        steps_per_epoch=10,
        anneal_strategy="linear",
        three_phase=True,
        pct_start=0.25,
    ),
    "SequentialLR": lambda lib, o: lib.SequentialLR(
        o,
        [lib.LinearLR(o, start_factor=0.1, total_iters=5), lib.ExponentialLR(o, gamma=0.9)],
        milestones=[5],
    ),
    "SequentialLR-3": lambda lib, o: lib.SequentialLR(
        o,
        [
            lib.ConstantLR(o, factor=0.5, total_iters=4),
            lib.CosineAnnealingLR(o, T_max=8),
            lib.StepLR(o, step_size=3),
        ],
        milestones=[6, 20],
    ),
    "ChainedScheduler": lambda lib, o: lib.ChainedScheduler(
        [lib.ConstantLR(o, factor=0.1, total_iters=2), lib.ExponentialLR(o, gamma=0.9)]
    ),
    "CyclicLR": lambda lib, o: lib.CyclicLR(o, base_lr=0.01, max_lr=[0.1, 0.3], step_size_up=4),
    "CyclicLR-triangular2": lambda lib, o: lib.CyclicLR(
        o, base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=3, step_size_down=5, mode="triangular2"
    ),
    "CyclicLR-exp_range": lambda lib, o: lib.CyclicLR(
        o,
        0.01,
        0.1,
        step_size_up=5,
        mode="exp_range",
        gamma=0.97,
        base_momentum=0.7,
        max_momentum=[0.95, 0.9],
    ),
    "CyclicLR-scale_fn-iterations": lambda lib, o: lib.CyclicLR(
        o,
        0.01,
        0.1,
        step_size_up=2,
        step_size_down=6,
        scale_fn=lambda x: 0.9**x,
        scale_mode="iterations",
    ),
    "CyclicLR-scale_fn-cycle": lambda lib, o: lib.CyclicLR(
        o, 0.01, 0.1, step_size_up=3, scale_fn=lambda x: 1 / x
    ),
    "CyclicLR-no-momentum": lambda lib, o: lib.CyclicLR(
        o, 0.01, 0.1, step_size_up=2, cycle_momentum=False
    ),
}


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_same_learning_rates_as_pytorch(name, kind):
    ours, theirs = run(SCHEDULERS[name], kind=kind)
    assert ours == theirs  # floats compared exactly: the same formulas in the same order


def test_reduce_on_plateau_as_pytorch():
    metrics = [1.0, 0.9, 0.9, 0.95, 0.91, 0.9, 0.7, 0.7, 0.71, 0.72, 0.8, 0.69] * 3
    for mode, threshold_mode in [("min", "rel"), ("min", "abs"), ("max", "rel"), ("max", "abs")]:
        sign = 1 if mode == "min" else -1

        def make(lib, o, mode=mode, threshold_mode=threshold_mode):
            return lib.ReduceLROnPlateau(
                o,
                mode=mode,
                factor=0.5,
                patience=2,
                threshold=0.01,
                threshold_mode=threshold_mode,
                cooldown=1,
                min_lr=[0.01, 0.02],
            )

        ours, theirs = run(make, epochs=len(metrics), metric=lambda e, sign=sign: sign * metrics[e])
        assert ours == theirs
        assert ours[-1][0] != ours[0][0]  # it did reduce


def test_plateau_metric_may_be_a_tensor():
    (opt,) = optimizers(groups=1)[:1]
    sched = rg_sched.ReduceLROnPlateau(opt, patience=0)
    sched.step(rustgrad.tensor(1.0))
    sched.step(rustgrad.tensor(2.0))
    assert opt.param_groups[0]["lr"] == pytest.approx(0.01)


def test_step_with_epoch_uses_closed_form_and_warns():
    for name in ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR"]:
        values = []
        for opt, lib in zip(optimizers(), (rg_sched, torch.optim.lr_scheduler)):
            sched = SCHEDULERS[name](lib, opt)
            opt.step()
            with pytest.warns(UserWarning, match="epoch parameter in `scheduler.step\\(\\)`"):
                sched.step(17)
            values.append([g["lr"] for g in opt.param_groups])
        assert values[0] == values[1], name


def test_warm_restarts_fractional_epochs_as_pytorch():
    values = []
    for opt, lib in zip(optimizers(), (rg_sched, torch.optim.lr_scheduler)):
        sched = lib.CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=2)
        got = []
        for i in range(60):
            sched.step(i * 0.37)
            got.append([g["lr"] for g in opt.param_groups])
        values.append(got)
    assert values[0] == values[1]


def test_state_dict_round_trip_resumes_the_schedule():
    opt, _ = optimizers()
    sched = rg_sched.CosineAnnealingLR(opt, T_max=10)
    for _ in range(4):
        opt.step()
        sched.step()
    saved = pickle.loads(pickle.dumps(sched.state_dict()))
    lrs_at_save = sched.get_last_lr()
    assert "optimizer" not in saved and saved["last_epoch"] == 4
    expected = []
    for _ in range(3):
        opt.step()
        sched.step()
        expected.append(sched.get_last_lr())

    opt2, _ = optimizers()
    for g, lr in zip(opt2.param_groups, [0.1, 0.2]):
        g["initial_lr"] = lr
    resumed = rg_sched.CosineAnnealingLR(opt2, T_max=10, last_epoch=0)
    resumed.load_state_dict(saved)
    for g, lr in zip(opt2.param_groups, lrs_at_save):  # as the optimizer's state dict would
        g["lr"] = lr
    for _ in range(3):
        opt2.step()
        resumed.step()
    assert resumed.get_last_lr() == expected[2]


def test_lambda_state_dict_keeps_callable_objects_only():
    class Halve:
        def __init__(self):
            self.calls = 0

        def __call__(self, epoch):
            self.calls += 1
            return 0.5**epoch

    opt, _ = optimizers()
    fn = Halve()
    sched = rg_sched.LambdaLR(opt, [fn, lambda e: 1.0])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"calls": 1}, None]
    fn.calls = 99
    sched.load_state_dict(state)
    assert fn.calls == 1


def test_errors_as_pytorch():
    cases = [
        lambda lib, o: lib.LinearLR(o, start_factor=0),
        lambda lib, o: lib.LinearLR(o, end_factor=2),
        lambda lib, o: lib.ConstantLR(o, factor=2),
        lambda lib, o: lib.CosineAnnealingWarmRestarts(o, T_0=0),
        lambda lib, o: lib.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=1.5),
        lambda lib, o: lib.OneCycleLR(o, max_lr=1.0),
        lambda lib, o: lib.OneCycleLR(o, max_lr=1.0, total_steps=0),
        lambda lib, o: lib.OneCycleLR(o, max_lr=[1.0], total_steps=5),
        lambda lib, o: lib.OneCycleLR(o, max_lr=1.0, total_steps=5, pct_start=1),
        lambda lib, o: lib.OneCycleLR(o, max_lr=1.0, total_steps=5, anneal_strategy="exp"),
        lambda lib, o: lib.ReduceLROnPlateau(o, factor=1.0),
        lambda lib, o: lib.ReduceLROnPlateau(o, mode="up"),
        lambda lib, o: lib.ReduceLROnPlateau(o, threshold_mode="x"),
        lambda lib, o: lib.ReduceLROnPlateau(o, min_lr=[0.1]),
        lambda lib, o: lib.LambdaLR(o, [lambda e: 1.0]),
        lambda lib, o: lib.SequentialLR(o, [lib.StepLR(o, 2)], milestones=[3]),
        lambda lib, o: lib.SequentialLR(o, [], milestones=[]),
        lambda lib, o: lib.StepLR(o, 2, last_epoch=5),
        lambda lib, o: lib.StepLR(object(), 2),
    ]
    for make in cases:
        raised = []
        for opt, lib in zip(optimizers(), (rg_sched, torch.optim.lr_scheduler)):
            with pytest.raises(Exception) as info:
                make(lib, opt)
            raised.append((type(info.value), str(info.value)))
        assert raised[0] == raised[1]


def test_one_cycle_past_total_steps_raises_as_pytorch():
    messages = []
    for opt, lib in zip(optimizers(), (rg_sched, torch.optim.lr_scheduler)):
        sched = lib.OneCycleLR(opt, max_lr=1.0, total_steps=3)
        for _ in range(3):
            opt.step()
            sched.step()
        with pytest.raises(ValueError) as info:
            sched.step()
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_order_warning_when_scheduler_steps_first():
    opt, _ = optimizers()
    sched = rg_sched.StepLR(opt, 2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    opt2, _ = optimizers()
    sched2 = rg_sched.StepLR(opt2, 2)
    opt2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched2.step()
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched2.get_lr()


def test_scheduler_drives_training_like_pytorch():
    # The lrs reach the update: SGD with a StepLR schedule gives PyTorch's parameters.
    finals = []
    for lib in (rustgrad, torch):
        lib.manual_seed(0)
        w = lib.tensor([1.0, -2.0, 3.0], dtype=lib.float64, requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.5, momentum=0.5)
        sched = lib.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
        for _ in range(10):
            opt.zero_grad()
            (w * w).sum().backward()
            opt.step()
            sched.step()
        finals.append(w.detach().tolist())
    assert all(math.isclose(a, b, rel_tol=1e-12) for a, b in zip(*finals))


def test_cyclic_state_dict_as_pytorch_and_resumes():
    """The same entries as PyTorch's state dict (a custom ``scale_fn`` object saved by its
    ``__dict__``, a lambda as None), and a scheduler loaded from it continues the schedule."""

    class Decay:
        def __init__(self):
            self.rate = 0.8

        def __call__(self, x):
            return self.rate**x

    states, continued = [], []
    for opt, lib in zip(optimizers(), (rg_sched, torch.optim.lr_scheduler)):
        fn = Decay()
        sched = lib.CyclicLR(opt, 0.01, 0.1, step_size_up=3, scale_fn=fn, scale_mode="iterations")
        for _ in range(7):
            opt.step()
            sched.step()
        state = sched.state_dict()
        states.append(state)
        fn.rate = 0.5  # load_state_dict puts the saved rate back
        resumed = lib.CyclicLR(opt, 0.01, 0.1, step_size_up=3, scale_fn=fn, scale_mode="iterations")
        resumed.load_state_dict(dict(state))
        assert fn.rate == 0.8
        lrs = []
        for _ in range(8):
            opt.step()
            resumed.step()
            lrs.append((resumed.get_last_lr(), [g["momentum"] for g in opt.param_groups]))
        continued.append(lrs)
    assert states[0] == states[1]
    assert states[0]["_scale_fn_custom"] == {"rate": 0.8}
    assert continued[0] == continued[1]
    lambda_state = rg_sched.CyclicLR(optimizers()[0], 0.01, 0.1, scale_fn=lambda x: 1.0)
    assert lambda_state.state_dict()["_scale_fn_custom"] is None


def test_cyclic_resumes_from_last_epoch_as_pytorch():
    seen = []
    for opt, lib in zip(optimizers(kind="adam"), (rg_sched, torch.optim.lr_scheduler)):
        for group in opt.param_groups:
            group["initial_lr"] = group["lr"]
        sched = lib.CyclicLR(
            opt, [0.01, 0.02], 0.2, step_size_up=4, mode="exp_range", gamma=0.9, last_epoch=9
        )
        history = []
        for _ in range(12):
            opt.step()
            sched.step()
            history.append((sched.get_last_lr(), [g["betas"] for g in opt.param_groups]))
        seen.append((history, sched.base_lrs, sched.last_epoch))
    assert seen[0] == seen[1]


def test_cyclic_errors_as_pytorch():
    cases = [
        lambda lib, o: lib.CyclicLR(o, 0.01, 0.1, mode="sawtooth"),
        lambda lib, o: lib.CyclicLR(o, [0.01], 0.1),
        lambda lib, o: lib.CyclicLR(o, 0.01, [0.1, 0.2, 0.3]),
        lambda lib, o: lib.CyclicLR(o, 0.01, 0.1, base_momentum=[0.8]),
        lambda lib, o: lib.CyclicLR(object(), 0.01, 0.1),
    ]
    for make in cases:
        raised = []
        for opt, lib in zip(optimizers(), (rg_sched, torch.optim.lr_scheduler)):
            with pytest.raises(Exception) as info:
                make(lib, opt)
            raised.append((type(info.value), str(info.value)))
        assert raised[0] == raised[1]
    raised = []
    for lib in (rustgrad, torch):  # cycling momentum needs an optimizer that has one
        opt = lib.optim.Adagrad([lib.zeros(2, requires_grad=True)], lr=0.1)
        with pytest.raises(ValueError) as info:
            lib.optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1)
        raised.append(str(info.value))
    assert raised[0] == raised[1]


SWALR_CASES = [
    {"swa_lr": 0.05},
    {"swa_lr": [0.05, 0.01], "anneal_epochs": 7, "anneal_strategy": "linear"},
    {"swa_lr": 0.5, "anneal_epochs": 4},
    {"swa_lr": 0.02, "anneal_epochs": 0},
    {"swa_lr": 0.3, "anneal_epochs": 1, "anneal_strategy": "linear"},
]


@pytest.mark.parametrize("kwargs", SWALR_CASES)
@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_swalr_learning_rates_as_pytorch(kwargs, kind):
    swa = {rg_sched: rustgrad.optim.swa_utils, torch.optim.lr_scheduler: torch.optim.swa_utils}
    ours, theirs = run(lambda lib, o: swa[lib].SWALR(o, **kwargs), epochs=20, kind=kind)
    assert ours == theirs
    swa_lr = kwargs["swa_lr"]
    assert ours[-1][0] == pytest.approx(swa_lr if isinstance(swa_lr, list) else [swa_lr] * 2)


def test_swalr_after_another_schedule_as_pytorch():
    """The usual SWA recipe: cosine annealing for some epochs, then SWALR from wherever the
    learning rate got to."""
    seen = []
    for opt, lib in zip(optimizers(), (rustgrad, torch)):
        cosine = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=30)
        swa_sched = None
        lrs = []
        for epoch in range(25):
            opt.step()
            if epoch < 10:
                cosine.step()
            else:
                if swa_sched is None:
                    swa_sched = lib.optim.swa_utils.SWALR(opt, swa_lr=0.01, anneal_epochs=5)
                swa_sched.step()
            lrs.append([g["lr"] for g in opt.param_groups])
        seen.append((lrs, swa_sched.get_last_lr()))
    assert seen[0] == seen[1]


def test_swalr_state_dict_as_pytorch():
    states = []
    for opt, lib in zip(optimizers(), (rustgrad, torch)):
        sched = lib.optim.swa_utils.SWALR(opt, 0.05, anneal_epochs=6, anneal_strategy="linear")
        for _ in range(3):
            opt.step()
            sched.step()
        state = sched.state_dict()
        states.append(state)
        other = lib.optim.swa_utils.SWALR(opt, 0.05, anneal_epochs=6)  # cos
        other.load_state_dict(state)
        assert other.anneal_func(0.25) == 0.25  # linear again
    assert "anneal_func" not in states[0]
    assert states[0] == states[1]


def test_swalr_errors_as_pytorch():
    cases = [
        lambda su, o: su.SWALR(o, 0.05, anneal_strategy="exp"),
        lambda su, o: su.SWALR(o, 0.05, anneal_epochs=-1),
        lambda su, o: su.SWALR(o, 0.05, anneal_epochs=2.5),
        lambda su, o: su.SWALR(o, [0.05]),
    ]
    for make in cases:
        raised = []
        for opt, su in zip(optimizers(), (rustgrad.optim.swa_utils, torch.optim.swa_utils)):
            with pytest.raises(Exception) as info:
                make(su, opt)
            raised.append((type(info.value), str(info.value)))
        assert raised[0] == raised[1]


def test_cyclic_load_state_dict_takes_the_custom_scale_entry_out_as_pytorch():
    seen = []
    for opt, lib in zip(optimizers(), (rg_sched, torch.optim.lr_scheduler)):
        sched = lib.CyclicLR(opt, 0.01, 0.1)
        state = sched.state_dict()
        sched.load_state_dict(state)
        seen.append("_scale_fn_custom" in state)
    assert seen == [False, False]


@pytest.mark.parametrize("name", ["LambdaLR", "MultiplicativeLR"])
def test_group_added_after_a_lambda_scheduler_is_refused_as_pytorch(name):
    """PyTorch zips the groups with the scheduler's lambdas strictly: a group added later is
    an error, not left unscheduled."""
    errors = []
    for lib in (rustgrad, torch):
        opt = lib.optim.SGD([lib.nn.Parameter(lib.ones(2))], lr=1.0)
        sched = getattr(lib.optim.lr_scheduler, name)(opt, lambda e: 0.5**e)
        opt.add_param_group({"params": [lib.nn.Parameter(lib.ones(1))], "lr": 0.3})
        opt.step()
        with pytest.raises(ValueError) as err:
            sched.step()
        errors.append(str(err.value))
    assert errors[0] == errors[1]
