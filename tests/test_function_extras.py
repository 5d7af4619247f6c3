"""Custom ``autograd.Function`` beyond one tensor output: tuple outputs (some
non-differentiable, ``None`` gradients), ``mark_dirty``, ``set_materialize_grads(False)``,
``needs_input_grad``, saved-tensor version checks, ``once_differentiable``, non-tensor
arguments and ``setup_context``; each compared with the same Function run by PyTorch, and
gradchecked in float64."""

import numpy as np
import pytest
import rustgrad as rg
from conftest import assert_close, raises
from rustgrad.autograd import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")


def make(lib):
    """The same Functions defined on ``lib.autograd.Function``."""

    class SinCos(lib.autograd.Function):
        """Two differentiable outputs and an integer count (non-differentiable)."""

        @staticmethod
        def forward(ctx, x, scale):
            ctx.save_for_backward(x)
            ctx.scale = scale
            count = (x > 0).sum()
            ctx.mark_non_differentiable(count)
            return x.sin() * scale, x.cos(), count

        @staticmethod
        def backward(ctx, gs, gc, gcount):
            (x,) = ctx.saved_tensors
            return gs * x.cos() * ctx.scale - gc * x.sin(), None

    class Split(lib.autograd.Function):
        """Outputs may get no gradient: with materialize off they arrive as None."""

        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, ga, gb):
            g = None
            if ga is not None:
                g = ga * 2
            if gb is not None:
                g = gb * 3 if g is None else g + gb * 3
            return g

    class AddInPlace(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            x.add_(y)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g, g

    class Needs(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * y

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            seen.append(ctx.needs_input_grad)
            return (
                g * y if ctx.needs_input_grad[0] else None,
                g * x if ctx.needs_input_grad[1] else None,
            )

    class Cube(lib.autograd.Function):
        """PyTorch 2 style: forward without ctx, then setup_context."""

        @staticmethod
        def forward(x, power):
            return x**power

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, power = inputs
            ctx.save_for_backward(x)
            ctx.power = power

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * ctx.power * x ** (ctx.power - 1), None

    class Once(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.exp()

        @staticmethod
        @lib.autograd.function.once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x.exp()

    seen = []
    return SinCos, Split, AddInPlace, Needs, Cube, Once, seen


R = make(rg)
T = make(torch)
X = np.array([0.3, -1.2, 2.0])


def _x(lib, requires_grad=True):
    return lib.tensor(X.copy(), requires_grad=requires_grad)


def test_tuple_outputs_and_non_differentiable():
    outs, touts = R[0].apply(_x(rg), 2.5), T[0].apply(_x(torch), 2.5)
    assert isinstance(outs, tuple) and len(outs) == 3
    for o, t in zip(outs, touts):
        assert o.requires_grad == t.requires_grad
        assert_close(o, t.detach())
    assert outs[0].grad_fn.name() == "SinCosBackward"
    x, tx = _x(rg), _x(torch)
    a, b, _ = R[0].apply(x, 2.5)
    ta, tb, _ = T[0].apply(tx, 2.5)
    (a.sum() + (b * b).sum()).backward()
    (ta.sum() + (tb * tb).sum()).backward()
    assert_close(x.grad, tx.grad, rtol=1e-12)
    x = rg.tensor(X, requires_grad=True)
    assert gradcheck(lambda v: R[0].apply(v, 1.5)[:2], (x,))


def test_only_one_output_used_gets_zeros():
    x, tx = _x(rg), _x(torch)
    R[0].apply(x, 2.0)[1].sum().backward()
    T[0].apply(tx, 2.0)[1].sum().backward()
    assert_close(x.grad, tx.grad, rtol=1e-12)


def test_set_materialize_grads_false_passes_none():
    for which in (0, 1, None):
        x, tx = _x(rg), _x(torch)
        a, b = R[1].apply(x)
        ta, tb = T[1].apply(tx)
        if which is None:
            (a.sum() + b.sum()).backward()
            (ta.sum() + tb.sum()).backward()
        else:
            (a, b)[which].sum().backward()
            (ta, tb)[which].sum().backward()
        assert_close(x.grad, tx.grad)


def test_mark_dirty():
    for lib, fns in ((rg, R), (torch, T)):
        x = _x(lib).clone()  # a non-leaf may be changed in place
        y = lib.tensor([1.0, 1.0, 1.0], requires_grad=True)
        out = fns[2].apply(x, y)
        assert out is x and out.grad_fn.name() == "AddInPlaceBackward"
        assert_close(x.detach(), X + 1)
    for lib, fns in ((rg, R), (torch, T)):  # (PyTorch's words for a marked leaf)
        with raises(RuntimeError, "a leaf Variable that requires grad has been used in an in-place"):  # fmt: skip
            fns[2].apply(_x(lib), lib.ones(3))
    x0, tx0 = _x(rg), _x(torch)
    x, tx = x0 * 1, tx0 * 1
    out = R[2].apply(x, rg.ones(3))
    tout = T[2].apply(tx, torch.ones(3))
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    assert_close(x0.grad, tx0.grad)
    # Without grad mode the same tensor comes back, changed.
    plain = rg.tensor(X.copy())
    assert R[2].apply(plain, rg.ones(3)) is plain


def test_needs_input_grad_matches_torch():
    for lib, fns in ((rg, R), (torch, T)):
        x = _x(lib)
        y = lib.tensor([2.0, 2.0, 2.0])
        fns[3].apply(x, y).sum().backward()
        fns[3].apply(y, x).sum().backward()
    assert R[6] == T[6] == [(True, False), (False, True)]


def test_saved_tensor_version_check():
    for lib, fns in ((rg, R), (torch, T)):
        x = _x(lib) * 1
        out = fns[4].apply(x, 3)
        x.add_(1)
        with pytest.raises(RuntimeError) as err:
            out.sum().backward()
        assert "modified by an inplace operation" in str(err.value)


def test_setup_context_and_non_tensor_args_with_double_backward():
    x = rg.tensor(X, requires_grad=True)
    assert gradcheck(lambda v: R[4].apply(v, 3), (x,))
    assert gradgradcheck(lambda v: R[4].apply(v, 3), (x,))
    y, ty = R[4].apply(_x(rg), 3), T[4].apply(_x(torch), 3)
    assert_close(y, ty.detach())


def test_once_differentiable_has_no_second_order():
    for lib, fns in ((rg, R), (torch, T)):
        x = _x(lib)
        (g,) = lib.autograd.grad(fns[5].apply(x).sum(), x, create_graph=True)
        assert not g.requires_grad
        assert_close(g.detach(), np.exp(X))


def _saves_its_outputs(lib):
    class PowersSaved(lib.autograd.Function):
        """Two outputs, both saved: the backward reads them (not the input), so a second
        derivative must go through the saved outputs' own history."""

        @staticmethod
        def forward(ctx, x):
            square, cube = x * x, x * x * x
            ctx.save_for_backward(square, cube)
            return square, cube

        @staticmethod
        def backward(ctx, g_square, g_cube):
            square, cube = ctx.saved_tensors
            x = cube / square
            return 2 * x * g_square + 3 * square * g_cube

    return PowersSaved


def test_saved_outputs_of_several_keep_their_history():
    # (Before: each output had its own node, so the other saved output came back without
    # history and the second derivative through it was silently 0.)
    ours, theirs = _saves_its_outputs(rg), _saves_its_outputs(torch)
    x, tx = _x(rg), _x(torch)
    for which in (0, 1):
        (g,) = rg.autograd.grad(ours.apply(x)[which].sum(), x, create_graph=True)
        (tg,) = torch.autograd.grad(theirs.apply(tx)[which].sum(), tx, create_graph=True)
        assert_close(g, tg.detach(), rtol=1e-12)
        (h,) = rg.autograd.grad(g.sum(), x)
        (th,) = torch.autograd.grad(tg.sum(), tx)
        assert_close(h, th, rtol=1e-12)
    a, b = ours.apply(x)
    assert a.grad_fn.name() == b.grad_fn.name() == "PowersSavedBackward"
    a.add_(1.0)  # the outputs own their memory: no effect on what backward reads
    (b.sum()).backward()
    assert_close(x.grad, (3 * tx * tx).detach(), rtol=1e-12)
    v = rg.tensor(X + 2.0, requires_grad=True)  # away from 0 (the backward divides by x^2)
    assert gradcheck(lambda t: ours.apply(t), (v,))
    assert gradgradcheck(lambda t: ours.apply(t), (v,))
