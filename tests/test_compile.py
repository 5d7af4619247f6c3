"""``rustgrad.compile`` / ``torch.compile``'s API (issue 15, point 1), and ``torch.jit``: a
compiled function or module returns what eager code returns and leaves parameters, gradients
and optimizer state exactly as eager execution does; a compiled module is PyTorch's
``OptimizedModule`` (state dict keys under ``_orig_mod.``). There is no capture yet: compiled
code runs eagerly."""

import rustgrad as rg
from conftest import raises
from rustgrad import nn


def _step(model, opt, x, y):
    opt.zero_grad()
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    opt.step()
    return loss


def test_a_compiled_training_step_leaves_what_eager_leaves():
    x, y = rg.randn(8, 3), rg.randn(8, 1)
    states = []
    for compiled in (False, True):
        rg.manual_seed(0)
        model = nn.Linear(3, 1)
        opt = rg.optim.Adam(model.parameters(), lr=0.1)
        step = rg.compile(_step) if compiled else _step
        losses = [step(model, opt, x, y).item() for _ in range(5)]
        states.append((losses, [p.detach().clone() for p in model.parameters()], opt.state_dict()))  # fmt: skip
    (l0, p0, s0), (l1, p1, s1) = states
    assert l0 == l1
    assert all(rg.equal(a, b) for a, b in zip(p0, p1))
    assert rg.equal(s0["state"][0]["exp_avg"], s1["state"][0]["exp_avg"])


def test_compiled_modules_are_pytorchs_optimized_module():
    """What ``torch.compile(nn.Linear(2, 3))`` gives in PyTorch 2.13 (written out here:
    calling PyTorch's compiler in the test process changes PyTorch's global defaults, such as
    distributions' argument validation, under the other tests)."""
    rg.manual_seed(0)
    ours = nn.Linear(2, 3)
    compiled = rg.compile(ours)
    assert type(compiled).__name__ == "OptimizedModule"
    assert compiled._orig_mod is ours
    assert list(compiled.state_dict()) == ["_orig_mod.weight", "_orig_mod.bias"]
    assert repr(compiled) == (
        "OptimizedModule(\n  (_orig_mod): Linear(in_features=2, out_features=3, bias=True)\n)"
    )
    assert compiled.weight is ours.weight and compiled.in_features == 2
    x = rg.randn(4, 2)
    assert rg.equal(compiled(x), ours(x))
    assert list(compiled.parameters()) == list(ours.parameters())
    assert ours.compile() is None  # in place, as PyTorch's
    assert rg.equal(ours(x), compiled(x))
    # Copies and pickles (an EMA copy of a compiled model, a checkpoint of it).
    import copy
    import pickle

    for twin in (copy.deepcopy(compiled), pickle.loads(pickle.dumps(compiled))):
        assert type(twin).__name__ == "OptimizedModule" and rg.equal(twin(x), compiled(x))


def test_decorator_forms_and_arguments():
    @rg.compile
    def double(x):
        return x * 2

    @rg.compile(mode="reduce-overhead", fullgraph=True, dynamic=True)
    def add_one(x):
        return x + 1

    assert double(rg.ones(2)).tolist() == [2.0, 2.0] and double.__name__ == "double"
    assert add_one(rg.ones(1)).tolist() == [2.0]
    with raises(RuntimeError, "Either mode or options can be specified"):
        rg.compile(double, mode="default", options={})
    with raises(RuntimeError, "Unrecognized mode=fast"):
        rg.compile(double, mode="fast")
    assert not rg.compiler.is_compiling()
    assert rg.compiler.disable(double) is double


def test_jit_script_and_trace_give_back_what_they_were_given():
    """``torch.jit.script``/``trace`` (and their decorators) keep eager semantics: the same
    callable comes back; TorchScript serialisation says it is not supported."""
    model = nn.Linear(2, 2)
    assert rg.jit.script(model) is model and rg.jit.trace(model, rg.ones(1, 2)) is model

    @rg.jit.script
    def double(x):
        return x * 2

    @rg.jit.ignore
    def helper(x):
        return x

    assert double(rg.ones(2)).tolist() == [2.0, 2.0] and helper(3) == 3
    assert rg.jit.ignore(drop=True)(helper) is helper
    assert not rg.jit.is_scripting() and not rg.jit.is_tracing()
    with raises(NotImplementedError, "TorchScript is not supported"):
        rg.jit.save(model, "m.pt")
    assert rg.version.__version__ == rg.__version__ and rg.version.cuda is None
