"""``rustgrad.compile``'s capture and replay (issue 15, M1): a compiled step replays its
recorded kernels, bit for bit what eager execution computes, and every call a replay cannot
reproduce runs eagerly with the reason on record. Each "replays" test also checks that
replays happened, so a silent fallback to eager cannot pass."""

import collections
import functools
import types

import pytest
import rustgrad as rg
import rustgrad.nn.functional as F
from conftest import raises
from rustgrad import nn
from rustgrad.compiler import _stats


def _mlp(seed=1, widths=(2, 16, 16, 1)):
    rg.manual_seed(seed)
    layers = []
    for a, b in zip(widths, widths[1:]):
        layers += [nn.Linear(a, b), nn.Tanh()]
    return nn.Sequential(*layers[:-1])


def _mse_step(model, opt, x, y):
    opt.zero_grad()
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    opt.step()
    return loss


def _same_state(a, b):
    for p, q in zip(a.parameters(), b.parameters()):
        assert rg.equal(p, q)
        assert (p.grad is None) == (q.grad is None)
        if p.grad is not None:
            assert rg.equal(p.grad, q.grad)


@pytest.mark.parametrize(
    "make_opt",
    [
        lambda ps: rg.optim.SGD(ps, lr=0.1),
        lambda ps: rg.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
        lambda ps: rg.optim.Adam(ps, lr=0.01),
        lambda ps: rg.optim.AdamW(ps, lr=0.01, weight_decay=0.1, amsgrad=True),
        lambda ps: rg.optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
        lambda ps: rg.optim.Adadelta(ps),
    ],
)
def test_a_training_step_replays_bit_for_bit(make_opt):
    x, y = rg.randn(32, 2), rg.randn(32, 1)
    eager, compiled = _mlp(), _mlp()
    opt_e, opt_c = make_opt(eager.parameters()), make_opt(compiled.parameters())
    step = rg.compile(_mse_step)
    for _ in range(8):
        le = _mse_step(eager, opt_e, x, y)
        lc = step(compiled, opt_c, x, y)
        assert le.item() == lc.item()
        _same_state(eager, compiled)
    assert _stats(step)["replays"] >= 3
    state_e, state_c = opt_e.state_dict()["state"], opt_c.state_dict()["state"]
    assert state_e.keys() == state_c.keys()
    for k in state_e:
        for name, value in state_e[k].items():
            other = state_c[k][name]
            assert rg.equal(value, other) if isinstance(value, rg.Tensor) else value == other


def test_a_replayed_loss_is_eagers_spent_graph():
    x, y = rg.randn(8, 2), rg.randn(8, 1)
    model = _mlp()
    opt = rg.optim.SGD(model.parameters(), lr=0.1)
    step = rg.compile(_mse_step)
    eager_loss = _mse_step(_mlp(), rg.optim.SGD(_mlp().parameters(), lr=0.1), x, y)
    for _ in range(5):
        loss = step(model, opt, x, y)
    assert _stats(step)["replays"] >= 1
    assert loss.requires_grad and type(loss.grad_fn).__name__ == type(eager_loss.grad_fn).__name__
    assert loss.grad_fn.name() == eager_loss.grad_fn.name() == "MeanBackward0"
    with raises(RuntimeError, "Trying to backward through the graph a second time"):
        loss.backward()


def test_cross_entropy_replays_while_targets_repeat_and_falls_back_when_they_change():
    rg.manual_seed(0)
    x = rg.randn(16, 20)
    targets = [rg.randint(0, 10, (16,)) for _ in range(2)]
    eager, compiled = _mlp(widths=(20, 16, 10)), _mlp(widths=(20, 16, 10))
    opt_e = rg.optim.SGD(eager.parameters(), lr=0.1)
    opt_c = rg.optim.SGD(compiled.parameters(), lr=0.1)

    def step(model, opt, x, t):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), t)
        loss.backward()
        opt.step()
        return loss

    fast = rg.compile(step)
    for i in range(12):
        t = targets[i // 6]  # the same targets for six calls, then others
        assert step(eager, opt_e, x, t).item() == fast(compiled, opt_c, x, t).item()
        _same_state(eager, compiled)
    # The targets' host reads are checked first in each replay (they come before any effect
    # once hoisted), so new targets make the call eager instead of replaying stale indices.
    assert _stats(fast)["replays"] >= 4 and _stats(fast)["recordings"] >= 4


def test_a_tiny_chain_returning_its_gradient():
    x = rg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    w = rg.tensor([1.5, 0.25, -0.75])

    def chain(n):
        y = x
        for i in range(n):
            y = y * w if i % 2 else (y + 1).tanh()
        y.sum().backward()
        g = x.grad
        x.grad = None
        return g

    fast = rg.compile(chain)
    for _ in range(6):
        assert rg.equal(fast(20), chain(20))
    assert _stats(fast)["replays"] >= 3
    assert rg.equal(fast(7), chain(7))  # another closure value: another entry


def test_a_changed_python_number_or_shape_recaptures():
    model = _mlp()
    twin = _mlp()
    lr = [0.1]

    def step(model, x, y):
        loss = ((model(x) - y) ** 2).sum()
        loss.backward()
        with rg.no_grad():
            for p in model.parameters():
                p -= lr[0] * p.grad
                p.grad = None
        return loss

    fast = rg.compile(step)
    for i in range(16):
        if i == 8:
            lr[0] = 0.01
        n = 4 if i % 16 < 12 else 6
        x, y = rg.ones(n, 2) * (i % 3), rg.ones(n, 1)
        assert step(twin, x, y).item() == fast(model, x, y).item()
        _same_state(twin, model)
    assert _stats(fast)["replays"] >= 6


def test_aliased_and_distinct_arguments_are_told_apart():
    def f(a, b):
        a.mul_(2)
        return a + b

    fast = rg.compile(f)
    for i in range(8):
        a, b = rg.ones(3) * i, rg.ones(3)
        a2, b2 = a.clone(), b.clone()
        assert rg.equal(fast(a, b), f(a2, b2)) and rg.equal(a, a2)
        c = rg.ones(3) * i
        c2 = c.clone()
        assert rg.equal(fast(c, c), f(c2, c2))
    assert _stats(fast)["replays"] >= 4


def test_a_host_read_before_any_effect_guards_the_replay():
    def f(x):
        if x.sum().item() > 0:
            return x * 2
        return x - 1

    fast = rg.compile(f)
    for v in [1.0, 1.0, 1.0, 1.0, -1.0, 1.0, -1.0]:
        x = rg.full((3,), v)
        assert rg.equal(fast(x), f(x))
    assert _stats(fast)["replays"] >= 1


def test_gradients_kept_by_the_user_keep_their_values():
    model, twin = _mlp(), _mlp()
    x, y = rg.randn(4, 2), rg.randn(4, 1)

    def step(model):
        ((model(x) - y) ** 2).mean().backward()  # accumulates into .grad

    fast = rg.compile(step)
    kept, kept_twin = [], []
    for _ in range(6):
        fast(model)
        step(twin)
        kept.append(model[0].weight.grad)
        kept_twin.append(twin[0].weight.grad)
    for a, b in zip(kept, kept_twin):
        assert rg.equal(a, b)
    _same_state(model, twin)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("print", "print"),
        ("randn", "random numbers"),
        ("append", "outlives it"),
        ("counter", "changes Python state"),
    ],
)
def test_what_a_replay_cannot_reproduce_runs_eagerly(body, reason, capsys):
    log = []
    count = [0]

    def f(x, w):
        y = (x * w).sum()
        if body == "print":
            print("step")
        if body == "randn":
            y = y + rg.randn(())
        y.backward()
        if body == "append":
            log.append(y)
        if body == "counter":
            count[0] += 1
        return w.grad.clone()

    def run(fn):
        rg.manual_seed(0)
        w = rg.ones(3, requires_grad=True)
        return [fn(rg.ones(3), w) for _ in range(6)]

    fast = rg.compile(f)
    got = run(fast)
    log.clear()
    count[0] = 0
    expected = run(f)
    for a, b in zip(got, expected):
        assert a == b if isinstance(a, float) else rg.equal(a, b)
    assert _stats(fast)["replays"] == 0
    assert any(reason in r for r in _stats(fast)["reasons"]), _stats(fast)["reasons"]
    if body == "print":
        assert capsys.readouterr().out.count("step") == 12


def test_a_loss_read_after_the_update_replays_only_while_it_repeats():
    """``return loss.item()`` after ``opt.step()``: the read's kernels move ahead of the
    update, so a replay checks the value before changing anything; a new value runs the call
    eagerly, and a repeating one replays."""
    model, twin = _mlp(), _mlp()
    opt, opt_twin = (rg.optim.SGD(m.parameters(), lr=0.1) for m in (model, twin))

    def step(model, opt, x, y):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss.item()

    fast = rg.compile(step)
    x, y = rg.randn(8, 2), rg.randn(8, 1)
    for _ in range(6):
        assert fast(model, opt, x, y) == step(twin, opt_twin, x, y)
        _same_state(model, twin)
    assert _stats(fast)["replays"] == 0 and _stats(fast)["eager"] >= 1
    zero = rg.optim.SGD(model.parameters(), lr=0.0)
    zero_twin = rg.optim.SGD(twin.parameters(), lr=0.0)
    fast = rg.compile(step)
    for _ in range(6):  # lr 0: the loss repeats, so replays pass the check
        assert fast(model, zero, x, y) == step(twin, zero_twin, x, y)
        _same_state(model, twin)
    assert _stats(fast)["replays"] >= 2


def test_fullgraph_raises_at_a_break_and_explain_names_it():
    def f(x):
        print("effect")
        return x + 1

    with raises(rg.compiler.Unsupported, "print"):
        rg.compile(f, fullgraph=True)(rg.ones(2))
    out = rg.compiler.explain(f, rg.ones(2))
    assert out.graph_break_count == 1 and "print" in out.break_reasons[0]
    clean = rg.compiler.explain(lambda x: (x * 2).exp())(rg.ones(2))
    assert clean.graph_break_count == 0 and clean.graph_count == 1 and clean.op_count >= 2


def test_reset_forgets_recordings():
    fast = rg.compile(lambda x: x * 2 + 1)
    for _ in range(4):
        fast(rg.ones(2))
    assert _stats(fast)["replays"] >= 1
    rg.compiler.reset()
    before = _stats(fast)["recordings"]
    assert rg.equal(fast(rg.ones(2)), rg.full((2,), 3.0))
    assert _stats(fast)["recordings"] == before + 1


def test_a_compiled_function_inside_anothers_capture_runs_inside_it():
    inner = rg.compile(lambda x: x * 3)

    def outer(x):
        return inner(x) + 1

    fast = rg.compile(outer)
    for i in range(5):
        x = rg.full((2,), float(i))
        assert rg.equal(fast(x), outer(x))
    assert _stats(fast)["replays"] >= 2


# ----- state a replay must see (classes of bugs found by adversarial testing) ---------------


class _Cfg:
    scale = 2.0
    calls = 0


_cfg = types.ModuleType("user_cfg")  # a user's config module
_cfg.scale = 2.0
_window = collections.deque([1.0], maxlen=2)
_weights = {"w": 3.0}
_scale_of = functools.partial(dict.get, _weights)


def _configured(x):
    _Cfg.calls += 1
    return x * (_Cfg.scale * _cfg.scale * _window[-1] * _scale_of("w"))


def test_python_state_read_through_classes_modules_and_containers_is_guarded():
    fast = rg.compile(_configured)
    x = rg.ones(2)
    for change in (None, "class", "module", "deque", "partial"):
        if change == "class":
            _Cfg.scale = 5.0
        if change == "module":
            _cfg.scale = 7.0
        if change == "deque":
            _window.append(11.0)
        if change == "partial":
            _weights["w"] = 13.0
        for _ in range(4):
            expected = _Cfg.scale * _cfg.scale * _window[-1] * _weights["w"]
            calls = _Cfg.calls
            assert fast(x).tolist() == [expected] * 2
            assert _Cfg.calls == calls + 1  # the counter moves on every call, as eagerly


def test_an_iterator_or_a_changed_requires_grad_keeps_the_call_eager():
    it = iter(range(100))

    def take(x):
        for v in it:
            return x + v

    fast = rg.compile(take)
    assert [fast(rg.zeros(1)).item() for _ in range(5)] == [0.0, 1.0, 2.0, 3.0, 4.0]

    def grow(x):
        x.requires_grad_()
        return x * 2

    fast = rg.compile(grow)
    for _ in range(4):
        x = rg.ones(2)
        fast(x)
        assert x.requires_grad
    assert _stats(fast)["replays"] == 0


def test_modes_and_inputs_with_a_history_are_guarded():
    w = rg.ones(3, requires_grad=True)

    def f(x):
        y = (x * w).sqrt()
        y.sum().backward()
        return y.detach()

    fast = rg.compile(f)
    for _ in range(4):
        w.grad = None
        fast(rg.ones(3))
    with rg.autograd.set_detect_anomaly(True), raises(RuntimeError, "returned nan"):
        w.grad = None
        fast(rg.zeros(3))  # sqrt(0) has an infinite slope: NaN in backward, caught eagerly
    with rg.autocast("cpu", dtype=rg.bfloat16):
        assert fast(rg.ones(3)).dtype == f(rg.ones(3)).dtype
    # An input's own graph would run inside the function: never replayed.
    base = rg.ones(3, requires_grad=True)

    def through(h):
        h.sum().backward()

    fast = rg.compile(through)
    for fn in (rg.exp, rg.sin, rg.exp, rg.sin, rg.exp):
        base.grad = None
        fast(fn(base))
        assert rg.equal(base.grad, fn(base.detach()) if fn is rg.exp else rg.cos(base.detach()))
    assert _stats(fast)["replays"] == 0


def test_returned_objects_and_versions_are_eagers():
    model = nn.BatchNorm1d(3)
    p = rg.ones(3, requires_grad=True)

    def f(x):
        y = model(x)
        (y * p).sum().backward()
        return x, y, y, p.grad

    fast = rg.compile(f)
    for _ in range(5):
        p.grad = None
        x = rg.randn(4, 3)
        a, y1, y2, g = fast(x)
        assert a is x and y1 is y2 and g is p.grad
    assert _stats(fast)["replays"] >= 2
    # Running statistics are written without a version bump, by a replay too.
    assert model.running_mean._version == nn.BatchNorm1d(3).running_mean._version


def test_saved_tensor_hooks_around_a_call_make_it_eager():
    w = rg.ones(3, requires_grad=True)

    def f(x):
        (x * w).sum().backward()

    fast = rg.compile(f)
    x = rg.full((3,), 2.0)
    for _ in range(4):
        w.grad = None
        fast(x)
    w.grad = None
    with rg.autograd.graph.saved_tensors_hooks(lambda t: t * 10, lambda t: t):
        fast(x)
    assert w.grad.tolist() == [20.0] * 3


def test_a_read_of_optimizer_state_after_the_step_is_not_checked_before_it():
    rg.manual_seed(0)
    w, w_twin = rg.zeros(2, requires_grad=True), rg.zeros(2, requires_grad=True)
    opt, opt_twin = rg.optim.Adam([w], lr=0.1), rg.optim.Adam([w_twin], lr=0.1)

    def step(w, opt):
        opt.zero_grad()
        (w - 1).pow(2).sum().backward()
        opt.step()
        return "moved" if opt.state[w]["exp_avg"][0].item() != 0 else "zero"

    fast = rg.compile(step)
    for _ in range(6):
        assert fast(w, opt) == step(w_twin, opt_twin) == "moved"
        assert rg.equal(w, w_twin)


def test_attributes_on_parameters_env_and_builtins_are_guarded(monkeypatch):
    import builtins
    import os

    model, twin = nn.Linear(2, 1), nn.Linear(2, 1)
    twin.load_state_dict(model.state_dict())
    for m in (model, twin):
        m.weight.lr_mult = 1.0
    monkeypatch.setenv("RG_COMPILE_TEST_MODE", "a")
    monkeypatch.setattr(builtins, "RG_COMPILE_TEST_SCALE", 1.0, raising=False)

    def step(m, x):
        loss = m(x).sum() * (2.0 if os.environ.get("RG_COMPILE_TEST_MODE") == "a" else 3.0)
        loss = loss * builtins.RG_COMPILE_TEST_SCALE
        loss.backward()
        with rg.no_grad():
            for p in m.parameters():
                p -= 0.1 * getattr(p, "lr_mult", 1.0) * p.grad
                p.grad = None
        return loss.detach()

    fast = rg.compile(step)
    x = rg.ones(3, 2)
    for i in range(12):
        if i == 4:
            model.weight.lr_mult = twin.weight.lr_mult = 0.0
        if i == 7:
            monkeypatch.setenv("RG_COMPILE_TEST_MODE", "b")
        if i == 10:
            builtins.RG_COMPILE_TEST_SCALE = 5.0
        assert rg.equal(fast(model, x), step(twin, x))
        _same_state(model, twin)


def test_inference_tensors_and_returned_containers_are_eagers():
    def bump(w):
        w.add_(1)
        return w

    fast = rg.compile(bump)
    for _ in range(4):
        fast(rg.zeros(2))
    with rg.inference_mode():
        frozen = rg.zeros(2)
    with raises(RuntimeError, "Inplace update to inference tensor outside InferenceMode"):
        fast(frozen)
    model = nn.Linear(2, 1)
    opt = rg.optim.SGD(model.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        model(x).sum().backward()
        opt.step()
        return opt.param_groups[0]

    fast = rg.compile(step)
    for _ in range(5):
        assert fast(rg.ones(1, 2)) is opt.param_groups[0]
    assert _stats(fast)["replays"] >= 1
