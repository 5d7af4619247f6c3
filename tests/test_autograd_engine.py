"""The backward engine: backward/grad arguments, grad mode, deep graphs, threads, memory."""

import math
import os
import threading
import warnings

import numpy as np
import pytest
import rustgrad as rg
from conftest import assert_close, raises

# ---------------------------------------------------------------- backward


def test_backward_scalar_default_gradient():
    x = rg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    assert_close(x.grad, [2.0, 4.0, 6.0])
    assert x.grad.dtype == x.dtype and x.grad.shape == x.shape
    assert not x.grad.requires_grad


def test_backward_with_gradient_argument():
    x = rg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    y.backward(rg.tensor([1.0, 0.5, -2.0]))
    assert_close(x.grad, [2.0, 1.0, -4.0])
    z = rg.tensor(3.0, requires_grad=True)
    (z * z).backward(rg.tensor(2.0))
    assert_close(z.grad, 12.0)


def test_backward_keyword_gradient():
    x = rg.tensor([[1.0, 2.0]], requires_grad=True)
    (x.exp()).backward(gradient=rg.ones(1, 2))
    assert_close(x.grad, np.exp([[1.0, 2.0]]), rtol=1e-6)


def test_retain_graph_and_accumulation():
    x = rg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = rg.tensor([4.0, 5.0, 6.0], requires_grad=True)
    s = (x + y).sum()
    s.backward(retain_graph=True)
    assert_close(x.grad, [1.0, 1.0, 1.0])
    s.backward(retain_graph=True)
    assert_close(x.grad, [2.0, 2.0, 2.0])
    s.backward()
    assert_close(y.grad, [3.0, 3.0, 3.0])


def test_retain_graph_with_saved_tensors():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    s = (x * x).exp().sum()
    s.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    s.backward()
    assert_close(x.grad, 2 * first, rtol=1e-6)


def test_accumulation_across_graphs():
    x = rg.tensor([1.0, -1.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    assert_close(x.grad, [5.0, 1.0])
    x.grad = None
    (x * 3).sum().backward()
    assert_close(x.grad, [3.0, 3.0])


def test_gradients_meeting_at_a_node_add_up():
    x = rg.tensor([2.0], requires_grad=True)
    y = x * 3
    z = y * y + y + y.exp() * 0.0 + y / 2
    z.backward()
    # dz/dy = 2y + 1 + 0.5 = 13.5 at y = 6; dz/dx = 3 * 13.5
    assert_close(x.grad, [40.5])


def test_same_leaf_through_many_paths():
    x = rg.tensor(1.5, dtype=rg.float64, requires_grad=True)
    z = x * x * x + (x * 2).tanh() + x
    z.backward()
    expected = 3 * 1.5**2 + 2 * (1 - math.tanh(3.0) ** 2) + 1
    assert_close(x.grad, expected, rtol=1e-12)


def test_requires_grad_propagation():
    x = rg.tensor([1.0], requires_grad=True)
    c = rg.tensor([2.0])
    assert (x * c).requires_grad
    assert not (c * c).requires_grad
    assert (c * c).grad_fn is None
    (x * c + c * c).sum().backward()
    assert_close(x.grad, [2.0])
    assert c.grad is None


def test_non_leaf_grad_not_retained():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch warns on reading a non-leaf's .grad
        assert y.grad is None


def test_backward_inputs_argument():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = rg.tensor([3.0, 4.0], requires_grad=True)
    (x * y).sum().backward(inputs=[x])
    assert_close(x.grad, [3.0, 4.0])
    assert y.grad is None
    (x * y).sum().backward(inputs=[y])
    assert_close(y.grad, [1.0, 2.0])
    assert_close(x.grad, [3.0, 4.0])


def test_autograd_backward_function():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    a = x * 2
    b = x * x
    rg.autograd.backward([a, b], [rg.ones(2), rg.tensor([1.0, 0.5])])
    assert_close(x.grad, [4.0, 4.0])


# ---------------------------------------------------------------- autograd.grad


def test_grad_returns_tuple_and_leaves_grad_untouched():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = rg.tensor([3.0, 4.0], requires_grad=True)
    out = (x * y).sum()
    gs = rg.autograd.grad(out, [x, y])
    assert isinstance(gs, tuple) and len(gs) == 2
    assert_close(gs[0], [3.0, 4.0])
    assert_close(gs[1], [1.0, 2.0])
    assert x.grad is None and y.grad is None
    assert not gs[0].requires_grad


def test_grad_single_input_and_grad_outputs():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    (g,) = rg.autograd.grad(y, x, grad_outputs=rg.tensor([1.0, -1.0]))
    assert_close(g, [2.0, -4.0])


def test_grad_multiple_outputs():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    (g,) = rg.autograd.grad([(x * 2).sum(), (x * x).sum()], [x])
    assert_close(g, [4.0, 6.0])


def test_grad_of_non_leaf():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    out = (h * h).sum()
    gh, gx = rg.autograd.grad(out, [h, x])
    assert_close(gh, [6.0, 12.0])
    assert_close(gx, [18.0, 36.0])


def test_grad_retain_graph():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    out = (x * x).sum()
    g1 = rg.autograd.grad(out, x, retain_graph=True)[0]
    g2 = rg.autograd.grad(out, x)[0]
    assert_close(g1, g2)
    with raises(RuntimeError, "Trying to backward through the graph a second time"):
        rg.autograd.grad(out, x)


def test_grad_allow_unused():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    unused = rg.tensor([5.0], requires_grad=True)
    out = (x * 2).sum()
    gx, gu = rg.autograd.grad(out, [x, unused], allow_unused=True, retain_graph=True)
    assert_close(gx, [2.0, 2.0])
    assert gu is None
    with raises(RuntimeError, "appears to not have been used in the graph"):
        rg.autograd.grad(out, [x, unused])
    # materialize_grads: zeros for what the outputs do not reach, as PyTorch's.
    out = (x * 2).sum()
    gx, gu = rg.autograd.grad(out, [x, unused], retain_graph=True, materialize_grads=True)
    assert gu.tolist() == [0.0] and gu.dtype == unused.dtype
    _, gu = rg.autograd.grad((x * x).sum(), [x, unused], create_graph=True, materialize_grads=True)  # fmt: skip
    assert gu.requires_grad  # (as PyTorch's, so that it differentiates again)
    with raises(ValueError, "Expected allow_unused to be True or not passed"):
        rg.autograd.grad(out, [x, unused], allow_unused=False, materialize_grads=True)


# ---------------------------------------------------------------- grad mode


def test_no_grad_context_manager():
    x = rg.tensor([1.0], requires_grad=True)
    assert rg.is_grad_enabled()
    with rg.no_grad():
        assert not rg.is_grad_enabled()
        y = x * 2
    assert rg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    assert (x * 2).requires_grad


def test_no_grad_decorator():
    @rg.no_grad()
    def f(t):
        assert not rg.is_grad_enabled()
        return t * 2

    x = rg.tensor([1.0], requires_grad=True)
    assert not f(x).requires_grad
    assert rg.is_grad_enabled()
    assert f.__name__ == "f"


def test_no_grad_restored_after_exception():
    with pytest.raises(ValueError), rg.no_grad():
        raise ValueError("boom")
    assert rg.is_grad_enabled()


def test_enable_grad_inside_no_grad():
    x = rg.tensor([1.0], requires_grad=True)
    with rg.no_grad():
        with rg.enable_grad():
            assert rg.is_grad_enabled()
            y = x * 2
        assert not rg.is_grad_enabled()
        z = x * 2
    assert y.requires_grad and y.grad_fn is not None
    assert not z.requires_grad

    @rg.enable_grad()
    def g(t):
        return t * 3

    with rg.no_grad():
        assert g(x).requires_grad


def test_set_grad_enabled_function_and_context():
    x = rg.tensor([1.0], requires_grad=True)
    try:
        rg.set_grad_enabled(False)
        assert not rg.is_grad_enabled()
        assert not (x * 2).requires_grad
    finally:
        rg.set_grad_enabled(True)
    assert rg.is_grad_enabled()
    with rg.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert rg.is_grad_enabled()
    with rg.no_grad():
        with rg.set_grad_enabled(True):
            assert (x * 2).requires_grad
        assert not rg.is_grad_enabled()


def test_autograd_namespace_grad_mode():
    with rg.autograd.no_grad():
        assert not rg.is_grad_enabled()
    with rg.autograd.set_grad_enabled(False), rg.autograd.enable_grad():
        assert rg.is_grad_enabled()


def test_grad_mode_is_thread_local():
    seen = []

    def worker():
        seen.append(rg.is_grad_enabled())

    with rg.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    assert seen == [True]


def test_detach_stops_gradient():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = x * x.detach()
    y.sum().backward()
    assert_close(x.grad, [1.0, 2.0])
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None


# ---------------------------------------------------------------- deep graphs


def test_long_chain_backward_and_release():
    # Backward and release must be iterative: no recursion over 100,000 nodes.
    n = 100_000
    x = rg.tensor([1.0], dtype=rg.float64, requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0001
    y.backward(rg.ones(1, dtype=rg.float64))
    assert_close(x.grad, [1.0001**n], rtol=1e-8)
    del y

    # A chain that is dropped without backward is freed too.
    y = x
    for _ in range(n):
        y = y + 0.0001
    assert_close(y, [1.0 + n * 0.0001], rtol=1e-8)
    del y

    # And one that is kept by retain_graph and then dropped.
    y = x
    for _ in range(n):
        y = y * 1.0
    y.sum().backward(retain_graph=True)
    del y
    assert_close(x.grad, [1.0001**n + 1.0], rtol=1e-8)


def test_second_backward_without_retain_graph_raises():
    for make in (lambda x: (x * x).sum(), lambda x: x.exp().sum()):
        x = rg.tensor([1.0, 2.0], requires_grad=True)
        out = make(x)
        out.backward()
        with raises(RuntimeError, "Trying to backward through the graph a second time"):
            out.backward()


def test_shared_subgraph_freed_by_one_backward():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    a = h.sum()
    b = (h * 2).sum()
    a.backward()
    with raises(RuntimeError, "Trying to backward through the graph a second time"):
        b.backward()


# ---------------------------------------------------------------- threads


def test_threads_build_and_backprop_own_graphs():
    errors = []
    barrier = threading.Barrier(4)

    def worker(seed):
        i = -1
        try:
            rng = np.random.default_rng(seed)
            barrier.wait()
            for i in range(200):
                xa = rng.standard_normal((3, 4))
                wa = rng.standard_normal((4, 2))
                x = rg.tensor(xa, requires_grad=True)
                w = rg.tensor(wa, requires_grad=True)
                h = (x @ w).tanh()
                loss = (h * h).sum() + (x * float(seed)).sum()
                loss.backward()
                th = np.tanh(xa @ wa)
                gh = 2 * th * (1 - th**2)
                np.testing.assert_allclose(w.grad.numpy(), xa.T @ gh, rtol=1e-10)
                np.testing.assert_allclose(x.grad.numpy(), gh @ wa.T + seed, rtol=1e-10)
        except BaseException as e:  # noqa: BLE001 - reported to the main thread
            errors.append((seed, i, repr(e)))

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_threads_accumulating_into_one_leaf_lose_no_update():
    # Large enough that each backward runs with the GIL released, so the two threads'
    # accumulations into w.grad really overlap.
    w = rg.ones(200_000, requires_grad=True)
    barrier = threading.Barrier(2)

    def worker():
        barrier.wait()
        for _ in range(50):
            (w * 2).sum().backward()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert w.grad.min().item() == 200.0 and w.grad.max().item() == 200.0


def test_two_threads_backward_through_one_graph_once():
    # Without retain_graph one of them must find the saved tensors freed, as in PyTorch.
    for _ in range(5):
        x = rg.ones(300_000, requires_grad=True)
        y = (x * x).sum()
        barrier = threading.Barrier(2)
        errors = []

        def worker(y=y, barrier=barrier, errors=errors):
            barrier.wait()
            try:
                y.backward()
            except RuntimeError as e:
                errors.append(str(e))

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(errors) == 1
        assert errors[0].startswith("Trying to backward through the graph a second time")
        assert x.grad.max().item() == 2.0


def test_threads_share_a_leaf():
    x = rg.tensor([1.0, 2.0, 3.0], dtype=rg.float64, requires_grad=True)
    errors = []

    def worker():
        try:
            for _ in range(200):
                (g,) = rg.autograd.grad((x * x).sum(), x)
                np.testing.assert_allclose(g.numpy(), [2.0, 4.0, 6.0])
        except BaseException as e:  # noqa: BLE001
            errors.append(repr(e))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


# ---------------------------------------------------------------- memory


def _rss_bytes():
    with open("/proc/self/statm") as f:
        resident_pages = int(f.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc (Linux)")
def test_rss_flat_over_many_steps():
    # A leak test, not a timing test: graphs must be freed after backward.
    x = rg.randn(16, requires_grad=True)
    w = rg.randn(16, requires_grad=True)

    def step():
        loss = ((x * w + 1.0).tanh() * x).sum()
        loss.backward()
        x.grad = None
        w.grad = None

    for _ in range(2_000):
        step()
    before = _rss_bytes()
    for _ in range(30_000):
        step()
    grown = _rss_bytes() - before
    assert grown < 20 * 2**20, f"RSS grew by {grown / 2**20:.1f} MiB over 30,000 steps"


def test_graph_nodes_are_freed():
    # The arena must return to where it was once nothing references a graph.
    from rustgrad import _core

    x = rg.randn(8, requires_grad=True)
    before = _core._live_nodes()
    kept = ((x * 2).exp() + x).sum()
    assert _core._live_nodes() >= before + 4
    kept.backward()
    del kept
    assert _core._live_nodes() == before
    y = x
    for _ in range(1_000):
        y = y * 1.0
    assert _core._live_nodes() >= before + 1_000
    del y
    assert _core._live_nodes() == before


def test_gradients_sum_in_torch_order():
    """Backward runs the ready node made last first (PyTorch's ready queue orders by sequence
    number), so the gradients reaching one tensor are added in PyTorch's order: in float32,
    where the sum cancels, the bits agree."""
    torch = pytest.importorskip("torch")
    results = []
    for lib in (torch, rg):
        leaf = lib.tensor([5.17, -0.47, 3.0], requires_grad=True)
        y = leaf * 1
        z = y.log()
        loss = (y * 2.58).sum() + (y * -2.55).sum() + (z * -2.38).sum()
        (g,) = lib.autograd.grad(loss, [leaf])
        results.append(g.tolist())
    assert results[1] == results[0]


def _generator_steps(lib, decorator):
    """What each step of a generator function decorated with ``decorator`` sees."""
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    make = {
        "no_grad": lib.no_grad,
        "enable_grad": lib.enable_grad,
        "inference_mode": lib.inference_mode,
        "set_grad_enabled": lambda: lib.set_grad_enabled(False),
    }[decorator]
    with lib.set_grad_enabled(decorator != "enable_grad"):

        @make()
        def steps():
            for _ in range(2):
                received = yield (x * 2).requires_grad, lib.is_grad_enabled()
                assert received == "sent"

        gen = steps()
        seen = [next(gen), lib.is_grad_enabled(), gen.send("sent"), lib.is_grad_enabled()]
        with pytest.raises(StopIteration):
            gen.send("sent")
    return seen


@pytest.mark.parametrize(
    "decorator", ["no_grad", "enable_grad", "inference_mode", "set_grad_enabled"]
)
def test_grad_mode_decorators_cover_each_step_of_a_generator_as_torch(decorator):
    """PyTorch's decorators wrap a generator function's every step in the mode (and leave
    the caller's code between steps alone)."""
    torch = pytest.importorskip("torch")
    assert _generator_steps(rg, decorator) == _generator_steps(torch, decorator)


@pytest.mark.parametrize("value", [0, 1, "yes", None, 1.0])
def test_set_grad_enabled_takes_only_a_bool_as_torch(value):
    from conftest import outcome

    torch = pytest.importorskip("torch")
    try:
        assert outcome(lambda lib: lib.set_grad_enabled(value), rg)[0] == "TypeError"
        assert outcome(lambda lib: lib.set_grad_enabled(value), rg) == outcome(
            lambda lib: lib.set_grad_enabled(value), torch
        )
    finally:
        torch.set_grad_enabled(True)
        rg.set_grad_enabled(True)


def test_leaf_that_stopped_requiring_grad_takes_nothing_as_torch():
    # (PyTorch's AccumulateGrad skips it; its gradient hooks still run)
    torch = pytest.importorskip("torch")

    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        seen = []
        x.register_hook(lambda g: seen.append(g.tolist()))
        y = (x * x).sum()
        x.requires_grad_(False)
        y.backward()
        return x.grad, seen

    assert run(rg) == run(torch) == (None, [[2.0, 4.0]])


def test_saved_tensors_read_in_forward_are_empty_as_torch():
    torch = pytest.importorskip("torch")

    def run(lib):
        class F(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                ctx.save_for_backward(a)
                return a * 1, len(ctx.saved_tensors)

            @staticmethod
            def backward(ctx, g, _):
                return g

        return F.apply(lib.ones(2, requires_grad=True))[1]

    assert run(rg) == run(torch) == 0


def test_view_base_as_torch():
    # (the first of a chain of views' bases; None for a tensor that is not a view)
    torch = pytest.importorskip("torch")

    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        a = x * 1
        v = a[1:]
        w = v[1:]
        same = lambda b: b is not None and b.data_ptr() == a.data_ptr() and b.shape == a.shape
        return same(w._base), same(v._base), x._base is None, a._base is None

    assert run(rg) == run(torch) == (True, True, True, True)


def test_volatile_is_false_with_torchs_warning():
    with pytest.warns(UserWarning, match="volatile was removed"):
        assert rg.ones(2).volatile is False
