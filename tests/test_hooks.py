"""Tensor hooks (``register_hook``), ``retain_grad`` and the non-leaf ``.grad`` warning.

Every scenario runs on rustgrad and on PyTorch (the ``lib`` fixture) with the same literal
expectations, so the expectations themselves are checked against PyTorch's behaviour.
"""

import warnings

import numpy as np
import pytest
import rustgrad as rg
from conftest import assert_close, raises

torch = pytest.importorskip("torch")

NON_LEAF_WARNING = "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed"


@pytest.fixture(params=["rustgrad", "torch"])
def lib(request):
    return rg if request.param == "rustgrad" else torch


def leaf(lib, values=(1.0, 2.0, 3.0)):
    return lib.tensor(list(values), dtype=lib.float64, requires_grad=True)


def values(t):
    return None if t is None else np.asarray(t.detach().numpy()).tolist()


class Recorder:
    """A hook that records the gradients it sees and returns ``result(grad)``."""

    def __init__(self, log=None, tag=None, result=None):
        self.seen = []
        self.log = log
        self.tag = tag
        self.result = result

    def __call__(self, grad):
        self.seen.append(values(grad))
        if self.log is not None:
            self.log.append(self.tag)
        return None if self.result is None else self.result(grad)


# ---------------------------------------------------------------- leaf hooks


def test_leaf_hook_sees_gradient_before_accumulation(lib):
    x = leaf(lib)
    hook = Recorder()
    x.register_hook(hook)
    (x * 3).sum().backward()
    assert hook.seen == [[3.0, 3.0, 3.0]]
    assert values(x.grad) == [3.0, 3.0, 3.0]


def test_leaf_hook_replacement_is_accumulated(lib):
    x = leaf(lib)
    x.register_hook(lambda g: g * 2)
    (x * 3).sum().backward()
    assert values(x.grad) == [6.0, 6.0, 6.0]
    # A second backward: the hook sees only the new gradient, its result is added to .grad.
    hook = Recorder()
    x.register_hook(hook)
    (x * x).sum().backward()
    assert hook.seen == [[4.0, 8.0, 12.0]]  # after the first hook doubled 2x
    assert values(x.grad) == [10.0, 14.0, 18.0]


def test_leaf_used_twice_hook_runs_once_with_the_sum(lib):
    x = leaf(lib)
    hook = Recorder()
    x.register_hook(hook)
    (x * 2 + x * x).sum().backward()
    assert hook.seen == [[4.0, 6.0, 8.0]]


def test_gradient_clipping_hook(lib):
    x = leaf(lib, [0.1, 2.0, -3.0])
    x.register_hook(lambda g: g.clamp(-1.0, 1.0))
    (x * x).sum().backward()
    assert_close(x.grad, [0.2, 1.0, -1.0])


def test_hooks_persist_across_backward_calls(lib):
    x = leaf(lib)
    hook = Recorder()
    x.register_hook(hook)
    y = (x * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert hook.seen == [[2.0] * 3, [2.0] * 3]
    assert values(x.grad) == [4.0] * 3


# ---------------------------------------------------------------- non-leaf hooks


def test_non_leaf_hook_replacement_flows_on(lib):
    x = leaf(lib)
    y = x * 2
    hook = Recorder(result=lambda g: g * 10)
    y.register_hook(hook)
    (y * 3).sum().backward()
    assert hook.seen == [[3.0, 3.0, 3.0]]
    assert values(x.grad) == [60.0, 60.0, 60.0]


def test_non_leaf_used_twice_hook_runs_once_with_the_sum(lib):
    x = leaf(lib)
    y = x * 2  # [2, 4, 6]
    hook = Recorder()
    y.register_hook(hook)
    (y * y + y).sum().backward()
    assert hook.seen == [[5.0, 9.0, 13.0]]  # 2y + 1
    assert values(x.grad) == [10.0, 18.0, 26.0]


def test_hook_on_the_root(lib):
    x = leaf(lib)
    s = (x * 2).sum()
    hook = Recorder(result=lambda g: g * 5)
    s.register_hook(hook)
    s.backward()
    assert hook.seen == [1.0]
    assert values(x.grad) == [10.0] * 3


def test_hook_on_a_view(lib):
    x = leaf(lib)
    y = (x * 1).view(3, 1)
    y.register_hook(lambda g: g * 3)
    y.sum().backward()
    assert values(x.grad) == [3.0] * 3


def test_hook_receives_none_returning_leaves_gradient_alone(lib):
    x = leaf(lib)
    y = x.exp()
    y.register_hook(Recorder())
    y.sum().backward()
    assert_close(x.grad, np.exp([1.0, 2.0, 3.0]))


# ---------------------------------------------------------------- several hooks, removal


@pytest.mark.parametrize("where", ["leaf", "non_leaf"])
def test_multiple_hooks_run_in_registration_order_and_chain(lib, where):
    x = leaf(lib)
    target = x if where == "leaf" else x * 1
    order = []
    a = Recorder(order, "a", lambda g: g + 1)
    b = Recorder(order, "b")  # observes, passes through
    c = Recorder(order, "c", lambda g: g * 10)
    for h in (a, b, c):
        target.register_hook(h)
    (target * 2).sum().backward()
    assert order == ["a", "b", "c"]
    assert a.seen == [[2.0] * 3]
    assert b.seen == [[3.0] * 3]
    assert c.seen == [[3.0] * 3]
    assert values(x.grad) == [30.0] * 3


def test_remove(lib):
    x = leaf(lib)
    keep = Recorder(result=lambda g: g * 2)
    gone = Recorder(result=lambda g: g * 100)
    x.register_hook(keep)
    handle = x.register_hook(gone)
    handle.remove()
    handle.remove()  # removing twice is harmless
    (x * 1).sum().backward()
    assert gone.seen == [] and keep.seen == [[1.0] * 3]
    assert values(x.grad) == [2.0] * 3


def test_remove_non_leaf_hook_before_backward(lib):
    x = leaf(lib)
    y = x * 2
    hook = Recorder(result=lambda g: g * 100)
    y.register_hook(hook).remove()
    y.sum().backward()
    assert hook.seen == []
    assert values(x.grad) == [2.0] * 3


def test_handle_as_context_manager(lib):
    x = leaf(lib)
    hook = Recorder(result=lambda g: g * 2)
    with x.register_hook(hook):
        (x * 1).sum().backward()
    (x * 1).sum().backward()
    assert hook.seen == [[1.0] * 3]
    assert values(x.grad) == [3.0] * 3


# ---------------------------------------------------------------- retain_grad interplay


@pytest.mark.parametrize("retain_first", [True, False])
def test_retain_grad_stores_the_value_after_hooks(lib, retain_first):
    # PyTorch 2: the retained .grad is the gradient after every tensor hook, whatever the
    # order of registration.
    x = leaf(lib)
    y = x * 2
    if retain_first:
        y.retain_grad()
    y.register_hook(lambda g: g * 10)
    if not retain_first:
        y.retain_grad()
    (y * 3).sum().backward()
    assert values(y.grad) == [30.0] * 3
    assert values(x.grad) == [60.0] * 3


def test_retain_grad_accumulates(lib):
    x = leaf(lib)
    y = x * 2
    y.retain_grad()
    assert y.retains_grad
    s = (y * y).sum()
    s.backward(retain_graph=True)
    s.backward()
    assert values(y.grad) == [8.0, 16.0, 24.0]


def test_retain_grad_on_leaf_is_a_no_op(lib):
    x = leaf(lib)
    x.retain_grad()
    assert not x.retains_grad
    (x * 2).sum().backward()
    assert values(x.grad) == [2.0] * 3


# ---------------------------------------------------------------- .grad of a non-leaf


def test_non_leaf_grad_is_none_with_warning(lib):
    x = leaf(lib)
    y = x * 2
    y.sum().backward()
    with pytest.warns(UserWarning, match=NON_LEAF_WARNING):
        assert y.grad is None


def test_no_warning_for_leaves_or_retained(lib):
    x = leaf(lib)
    y = x * 2
    y.retain_grad()
    y.sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert values(x.grad) == [2.0] * 3
        assert values(y.grad) == [1.0] * 3
        assert lib.ones(2).grad is None  # a leaf that does not require grad


# ---------------------------------------------------------------- hooks with autograd.grad


def test_leaf_hook_applies_to_autograd_grad(lib):
    x = leaf(lib, [1.0, 1.0, 1.0])
    x.register_hook(lambda g: g * 5)
    (g,) = lib.autograd.grad((x * 2).sum(), x)
    assert values(g) == [10.0] * 3
    assert x.grad is None


def test_non_leaf_hook_applies_to_autograd_grad(lib):
    x = leaf(lib, [1.0, 1.0, 1.0])
    m = x * 2
    m.register_hook(lambda g: g * 5)
    (gm,) = lib.autograd.grad((m * 2).sum(), m, retain_graph=True)
    assert values(gm) == [10.0] * 3
    (gx,) = lib.autograd.grad((m * 2).sum(), x)
    assert values(gx) == [20.0] * 3


# ---------------------------------------------------------------- errors


def test_hook_on_tensor_without_grad_is_an_error(lib):
    with raises(RuntimeError, "cannot register a hook on a tensor that doesn't require gradient"):
        lib.ones(3).register_hook(lambda g: g)


def test_hook_changing_the_shape_is_an_error(lib):
    x = leaf(lib)
    y = x * 2

    def shrink(g):
        return g[:2]

    y.register_hook(shrink)
    with raises(RuntimeError, "hook 'shrink' has changed the size of value"):
        y.sum().backward()


def test_hook_returning_a_non_tensor_is_an_error(lib):
    x = leaf(lib)
    y = x * 2
    y.register_hook(lambda g: 3)
    with raises(TypeError, "hook"):
        y.sum().backward()


def test_exception_in_hook_propagates(lib):
    x = leaf(lib)

    def boom(g):
        raise ValueError("boom from hook")

    h = x.register_hook(boom)
    with raises(ValueError, "boom from hook"):
        (x * 2).sum().backward()
    h.remove()
    (x * 2).sum().backward()
    assert values(x.grad) == [2.0] * 3


def test_hooks_do_not_keep_graph_alive():
    before = rg._core._live_nodes()
    x = leaf(rg)
    y = x * 2
    y.register_hook(lambda g: g)
    z = (y * y).sum()
    z.backward()
    del y, z
    assert rg._core._live_nodes() == before


@pytest.mark.parametrize("lib_name", ["rustgrad", "torch"])
def test_leaf_hooks_run_as_soon_as_the_leaf_gradient_is_final(lib_name):
    # As PyTorch's AccumulateGrad node: a parameter near the output has its hooks run (and its
    # .grad set) before the backward of the layers nearer the input, so DistributedDataParallel's
    # all-reduce overlaps the rest of the backward pass.
    lib = pytest.importorskip(lib_name)
    events = []

    class Traced(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            events.append("early layer backward")
            return g

    x = lib.ones(3, requires_grad=True)
    w1 = lib.full((3,), 2.0, requires_grad=True)
    w2 = lib.full((3,), 3.0, requires_grad=True)
    w2.register_hook(lambda g: events.append("last layer hook"))
    x.register_hook(lambda g: events.append("input hook"))
    ((Traced.apply(x * w1)) * w2).sum().backward()
    assert events == ["last layer hook", "early layer backward", "input hook"]
    assert w2.grad.tolist() == [2.0, 2.0, 2.0]


@pytest.mark.parametrize("change", ["dtype", "size"])
def test_hook_that_changes_the_gradients_type_or_size_is_refused_as_torch(change):
    from conftest import outcome

    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g: g.double() if change == "dtype" else g[:1])
        (x * x).sum().backward()
        return x.grad.dtype

    theirs, ours = outcome(run, torch), outcome(run, rg)
    assert theirs[0] == "RuntimeError"
    assert ours == theirs


def _post_accumulate_program(lib):
    log = []
    p = lib.ones(2, requires_grad=True)
    params = {p: "p"}  # (the hook gets the tensor itself: usable as a key)
    p.register_hook(lambda g: log.append(("pre", g.tolist())) or g * 10)
    handle = p.register_post_accumulate_grad_hook(lambda t: log.append((params[t], t.grad.tolist())))  # fmt: skip
    (p * 3).sum().backward()
    (p * 3).sum().backward()
    lib.autograd.grad((p * 2).sum(), p)  # (nothing is accumulated: no hook)
    handle.remove()
    (p * 3).sum().backward()
    log.append(("after remove", p.grad.tolist()))
    return log


def test_post_accumulate_grad_hook_as_torch():
    assert _post_accumulate_program(rg) == _post_accumulate_program(torch)


@pytest.mark.parametrize(
    "program",
    [
        lambda lib: lib.ones(2).register_post_accumulate_grad_hook(print),
        lambda lib: (lib.ones(2, requires_grad=True) * 2).register_post_accumulate_grad_hook(print),
        lambda lib: _backward_with_post_hook(lib, lambda t: t * 2),
    ],
)
def test_post_accumulate_grad_hook_errors_as_torch(program):
    with pytest.raises(RuntimeError) as ours:
        program(rg)
    with pytest.raises(RuntimeError) as theirs:
        program(torch)
    assert str(ours.value) == str(theirs.value)


def _backward_with_post_hook(lib, hook):
    q = lib.ones(2, requires_grad=True)
    q.register_post_accumulate_grad_hook(hook)
    (q * 2).sum().backward()


def test_post_accumulate_grad_hook_does_not_keep_its_tensor_alive():
    import gc
    import weakref

    p = rg.ones(2, requires_grad=True)
    p.register_post_accumulate_grad_hook(lambda t: None)
    ref = weakref.ref(p)
    del p
    gc.collect()
    assert ref() is None
