"""How the engine gathers the gradients that meet at one input: a view's gradient is added
straight into its region of the input's buffer, and buffers only the engine holds are added
into in place. Values must be PyTorch's, and no tensor anyone else can see may change."""

import numpy as np
import pytest
import rustgrad as rg
from conftest import assert_close

torch = pytest.importorskip("torch")

LIBS = [rg, torch]


def _both(fn, dtype="float64", seed=0):
    """``fn(lib, inputs)`` in rustgrad and PyTorch on the same random leaves; returns the
    leaves' gradients from each."""
    rng = np.random.default_rng(seed)
    data = [rng.standard_normal((5, 4, 6)), rng.standard_normal((6, 7))]
    grads = []
    for lib in LIBS:
        leaves = [lib.tensor(d, dtype=getattr(lib, dtype), requires_grad=True) for d in data]
        fn(lib, leaves).sum().backward()
        grads.append([leaf.grad for leaf in leaves])
    return grads


VIEW_PROGRAMS = {
    # Every step of a time-major sequence, as an RNN loop reads it.
    "select_each_step": lambda lib, xs: lib.stack([xs[0][t] * (t + 1) for t in range(5)]),
    # Column blocks of the same rows (an LSTM's gates).
    "column_slices": lambda lib, xs: xs[0][:, :, :2] * xs[0][:, :, 2:4] * 3 + xs[0][:, :, 4:] * 0.5,
    # Strided and reversed views, and a view of a view.
    "steps_and_nested": lambda lib, xs: (
        xs[0][::2, 1:3].sum() + xs[0][1][:, ::3].sum() * 2 + xs[0][4, 3, 5] * 3
    ),
    # Views of a non-leaf that is also used whole.
    "views_and_whole": lambda lib, xs: (
        (xs[1] * 2)[2] + (xs[1] * 2).sum(0) + (xs[1] @ xs[1].t())[1:3, :5].sum(0).repeat(2)[:7]
    ),
    # Overlapping windows: their gradients add up, one window after another (in half types
    # each addition is rounded, in PyTorch's order).
    "overlapping_unfold": lambda lib, xs: xs[1].unfold(1, 3, 1).pow(2),
    # A transposed base: the region is taken in the gradient's own (contiguous) layout.
    "transposed_base": lambda lib, xs: lib.stack([xs[1].t()[j] * j for j in range(7)]),
    # unbind and split are views too.
    "unbind_split": lambda lib, xs: (
        lib.stack(xs[0].unbind(1), 1) * 2 + lib.cat(xs[0].split([1, 3], 1)[::-1], 1) * 3
    ),
}


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "bfloat16"])
@pytest.mark.parametrize("name", sorted(VIEW_PROGRAMS))
def test_view_gradients_match_pytorch(name, dtype):
    ours, theirs = _both(VIEW_PROGRAMS[name], dtype)
    exact = dtype in ("float16", "bfloat16")  # sums of few terms, rounded once each: equal
    for a, b in zip(ours, theirs):
        if b is None:  # a leaf the program does not read
            assert a is None
            continue
        assert a.dtype == getattr(rg, dtype)
        if exact:
            assert_close(a, b, rtol=0, atol=0)
        else:
            assert_close(a, b, rtol=1e-6 if dtype == "float32" else 1e-12)


def test_gradients_into_a_leaf_through_views_are_not_shared():
    """The first view's gradient is not kept as the leaf's buffer and then changed."""
    x = rg.zeros(3, 4, requires_grad=True)
    sum(x[i] * (i + 1) for i in range(3)).sum().backward()
    assert_close(x.grad, np.repeat([[1.0], [2.0], [3.0]], 4, axis=1))


def test_a_hook_keeps_the_gradient_it_saw():
    """A gradient a hook keeps is not changed when more gradients arrive where it went."""
    for lib in LIBS:
        x = lib.ones(3, requires_grad=True)
        a = x * 1
        z = a + x
        seen = []
        z.register_hook(seen.append)
        # z's gradient (all ones) goes on unchanged to `a`, which later gets 3 more.
        (z.sum() + (a * 3).sum()).backward()
        assert_close(seen[0], [1.0, 1.0, 1.0])
        assert_close(x.grad, [5.0, 5.0, 5.0])


def test_the_callers_gradient_is_never_written():
    x = rg.ones(2, 3, requires_grad=True)
    a = x * 1
    g = rg.ones(2, 3)
    (a + a).backward(g)  # g reaches `a` twice: their sum is a new tensor
    assert_close(g, np.ones((2, 3)))
    assert_close(x.grad, np.full((2, 3), 2.0))
    y = x * 1
    g2 = rg.ones(3)
    rg.stack([y[0], y[0]]).backward(rg.stack([g2, g2]))
    assert_close(g2, np.ones(3))


def test_retained_and_captured_gradients_keep_their_values():
    """``retain_grad`` and ``autograd.grad`` hand out gradients gathered from views; later
    passes must not change them (PyTorch fills retained grads in ``autograd.grad`` too)."""
    seen = []
    for lib in LIBS:
        x = lib.ones(4, requires_grad=True)
        h = x * 2
        h.retain_grad()
        parts = [h[i : i + 2] for i in range(3)]
        out = sum(p.sum() for p in parts) + h.sum()
        (gx,) = lib.autograd.grad(out, [x], retain_graph=True)
        first = h.grad
        out.backward(retain_graph=True)
        (gh,) = lib.autograd.grad(out, [h], retain_graph=True)
        out.backward()
        seen.append([gx, first, gh, h.grad, x.grad])
    assert_close(seen[0][0], [4.0, 6.0, 6.0, 4.0])
    assert_close(seen[0][2], [2.0, 3.0, 3.0, 2.0])
    for a, b in zip(*seen):
        assert_close(a, b)


def test_create_graph_through_views_records_second_order():
    """With ``create_graph`` the view's gradient is a recorded op again."""
    for lib in LIBS:
        x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        y = x**3
        out = y[0] + y[1:].sum() * 2
        (g,) = lib.autograd.grad(out, [x], create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), [x])
        assert_close(g, [3.0, 24.0, 54.0])
        assert_close(gg, [6.0, 24.0, 36.0])


def test_rnn_style_loop_matches_pytorch():
    """A hand-written RNN over ``x[t]`` (the char-RNN tutorials' loop)."""
    rng = np.random.default_rng(1)
    xs, w, u = (rng.standard_normal(s) for s in [(7, 3, 4), (4, 5), (5, 5)])
    grads = []
    for lib in LIBS:
        tx, tw, tu = (lib.tensor(a, requires_grad=True) for a in (xs, w, u))
        h = lib.zeros(3, 5, dtype=lib.float64)
        for t in range(7):
            h = (tx[t] @ tw + h @ tu).tanh()
        h.pow(2).sum().backward()
        grads.append((tx.grad, tw.grad, tu.grad))
    for a, b in zip(*grads):
        assert_close(a, b, rtol=1e-12)


@pytest.mark.cuda
def test_view_regions_on_cuda():
    if not rg.cuda.is_available():
        pytest.skip("no CUDA device")
    x = rg.randn(4, 3, 5, device="cuda", requires_grad=True)
    (x[0] * 2 + x[1:3].sum(0) + x[:, 1].sum() * x[3]).sum().backward()
    xc = x.detach().cpu().requires_grad_()
    (xc[0] * 2 + xc[1:3].sum(0) + xc[:, 1].sum() * xc[3]).sum().backward()
    assert x.grad.device.type == "cuda"
    assert_close(x.grad.cpu(), xc.grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("start", ["backward", "assigned", "zeroed"])
def test_grad_accumulates_into_the_same_tensor_as_torch(start):
    """Without create_graph PyTorch adds into ``.grad`` in place (``variable_grad +=
    new_grad``): a reference taken to it sees the sum, and it stays the same object."""
    results = []
    for lib in (torch, rg):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        if start == "assigned":
            x.grad = lib.tensor([10.0, 20.0])
        else:
            (x * x).sum().backward()
            if start == "zeroed":
                opt = lib.optim.SGD([x], lr=0.1)
                opt.zero_grad(set_to_none=False)
        held = x.grad
        (x * 3).sum().backward()
        results.append((held.tolist(), held is x.grad, x.grad._version > held._version - 1))
    assert results[1] == results[0]
    assert results[0][1]


def test_create_graph_accumulation_makes_a_new_grad():
    results = []
    for lib in (torch, rg):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward(create_graph=True)
        held = x.grad
        (x * x).sum().backward(create_graph=True)
        results.append((held.tolist(), held is x.grad, x.grad.tolist()))
    assert results[1] == results[0]


# ----- .grad after backward(create_graph=True) is a tensor of its own ------------------------


@pytest.mark.parametrize("make", ["sum", "linear"])
def test_grad_made_with_create_graph_can_be_written_in_place(make):
    """Under ``create_graph`` PyTorch's AccumulateGrad stores a copy, never the incoming
    gradient (an expanded tensor for ``sum``, a transposed view for a linear layer's
    weight): optimizers, ``zero_grad(set_to_none=False)`` and ``clip_grad_norm_`` write it
    in place."""
    results = []
    for lib in (rg, torch):
        lib.manual_seed(0)
        if make == "sum":
            w = lib.nn.Parameter(lib.ones(3))
            w.sum().backward(create_graph=True)
            params = [w]
        else:
            layer = lib.nn.Linear(3, 2)
            layer(lib.ones(4, 3)).pow(2).sum().backward(create_graph=True)
            params = list(layer.parameters())
        strides = [p.grad.stride() for p in params]
        lib.nn.utils.clip_grad_norm_(params, 0.1)
        clipped = [p.grad.detach().clone() for p in params]
        params[0].grad.mul_(3)
        lib.optim.SGD(params, lr=0.1).zero_grad(set_to_none=False)
        results.append(
            (
                strides,
                [c.numpy().round(6).tolist() for c in clipped],
                [p.grad.abs().sum().item() for p in params],
            )
        )
    assert results[0][0] == results[1][0]
    assert results[0][2] == results[1][2] == [0.0] * len(results[0][2])
    for ours, theirs in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5)
