"""Custom differentiable ops: ``rustgrad.autograd.Function``, against ``torch.autograd.Function``.

Each Function is written once against a library namespace (``lib`` is ``rustgrad`` or
``torch``) so that both engines run the very same code and their results are compared.
"""

import re
import sys

import numpy as np
import pytest
import rustgrad as rg
from conftest import assert_close, raises
from rustgrad.autograd import Function, gradcheck, gradgradcheck, once_differentiable
from rustgrad.autograd.gradcheck import GradcheckError

torch = pytest.importorskip("torch")

_rng = np.random.default_rng(11)


def make_functions(lib):
    """The test Functions, subclassing ``lib.autograd.Function``."""
    base = lib.autograd.Function

    class MyRelu(base):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.clamp(min=0)

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            grad = grad.clone()
            grad[x < 0] = 0
            return grad

    class MulAdd(base):
        """x * y + x: two tensor inputs."""

        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * y + x

        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved_tensors
            return grad * (y + 1), grad * x

    class Scale(base):
        """x * factor (+ shift): non-tensor arguments and ctx attributes."""

        @staticmethod
        def forward(ctx, x, factor, shift=0.0):
            ctx.factor = factor
            return x * factor + shift

        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.factor, None, None

    class Exp(base):
        """Saves its output."""

        @staticmethod
        def forward(ctx, x):
            out = x.exp()
            ctx.save_for_backward(out)
            return out

        @staticmethod
        def backward(ctx, grad):
            (out,) = ctx.saved_tensors
            return grad * out

    class Cube(base):
        """Differentiable backward: second derivatives go through it."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x**2

    return MyRelu, MulAdd, Scale, Exp, Cube


RG = dict(zip(["MyRelu", "MulAdd", "Scale", "Exp", "Cube"], make_functions(rg)))
TORCH = dict(zip(["MyRelu", "MulAdd", "Scale", "Exp", "Cube"], make_functions(torch)))


def both(*shape, positive=False):
    arr = _rng.standard_normal(shape)
    if positive:
        arr = np.abs(arr) + 0.5
    return rg.tensor(arr.copy(), requires_grad=True), torch.tensor(arr.copy(), requires_grad=True)


# ---------------------------------------------------------------- basics


def test_my_relu_forward_backward_matches_torch():
    x, tx = both(3, 4)
    y, ty = RG["MyRelu"].apply(x), TORCH["MyRelu"].apply(tx)
    assert_close(y, ty)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    assert_close(x.grad, tx.grad)


def test_grad_fn_name_and_repr():
    x, _ = both(3)
    y = RG["MyRelu"].apply(x)
    assert y.grad_fn.name() == "MyReluBackward"
    assert re.fullmatch(r"<MyReluBackward object at 0x[0-9a-f]+>", repr(y.grad_fn))
    assert "grad_fn=<MyReluBackward>" in repr(y)
    assert y.requires_grad and not y.is_leaf
    ((node, idx),) = y.grad_fn.next_functions
    assert node.name().endswith("AccumulateGrad") and idx == 0
    assert node.variable is x
    # Inside a larger graph, the custom node is linked like any other.
    z = RG["MyRelu"].apply(x * 2.0).sum()
    ((mul, _),) = z.grad_fn.next_functions[0][0].next_functions
    assert mul.name() == "MulBackward0"


def test_two_inputs_match_torch():
    (x, tx), (y, ty) = both(2, 3), both(2, 3)
    out, tout = RG["MulAdd"].apply(x, y), TORCH["MulAdd"].apply(tx, ty)
    assert_close(out, tout)
    assert len(out.grad_fn.next_functions) == 2
    out.sum().backward()
    tout.sum().backward()
    assert_close(x.grad, tx.grad)
    assert_close(y.grad, ty.grad)


def test_input_not_requiring_grad_gets_no_edge_and_no_grad():
    x, _ = both(3)
    w = rg.tensor([1.0, 2.0, 3.0], dtype=rg.float64)
    out = RG["MulAdd"].apply(x, w)
    assert out.grad_fn.next_functions[1][0] is None
    out.sum().backward()
    assert w.grad is None
    assert_close(x.grad, [2.0, 3.0, 4.0])


def test_non_tensor_arguments_and_ctx_attributes():
    x, tx = both(4)
    out, tout = RG["Scale"].apply(x, 2.5, 1.0), TORCH["Scale"].apply(tx, 2.5, 1.0)
    assert_close(out, tout)
    assert len(out.grad_fn.next_functions) == 1  # one edge per tensor argument
    out.sum().backward()
    tout.sum().backward()
    assert_close(x.grad, tx.grad)
    assert_close(x.grad, [2.5] * 4)


def test_keyword_arguments_reach_forward():
    x, _ = both(4)
    out = RG["Scale"].apply(x, 2.0, shift=3.0)
    assert_close(out, x.detach().numpy() * 2.0 + 3.0)


def test_needs_input_grad():
    seen = {}

    class Probe(Function):
        @staticmethod
        def forward(ctx, a, b, k):
            seen["forward"] = ctx.needs_input_grad
            return a * b * k

        @staticmethod
        def backward(ctx, grad):
            seen["backward"] = ctx.needs_input_grad
            return grad, None, None

    a = rg.randn(2, requires_grad=True)
    b = rg.randn(2)
    Probe.apply(a, b, 3).sum().backward()
    assert seen == {"forward": (True, False, False), "backward": (True, False, False)}


def test_forward_runs_without_grad_mode():
    seen = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, a):
            seen.append(rg.is_grad_enabled())
            out = a * 2
            seen.append(out.requires_grad)
            return out

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    Probe.apply(rg.randn(2, requires_grad=True))
    assert seen == [False, False]
    assert rg.is_grad_enabled()


def test_no_history_without_grad():
    x, _ = both(3)
    with rg.no_grad():
        y = RG["MyRelu"].apply(x)
    assert y.grad_fn is None and not y.requires_grad
    y = RG["MyRelu"].apply(x.detach())
    assert y.grad_fn is None and not y.requires_grad


def test_returning_an_input_unchanged():
    class Identity(Function):
        @staticmethod
        def forward(ctx, a):
            return a

        @staticmethod
        def backward(ctx, grad):
            return grad

    x, _ = both(3)
    y = Identity.apply(x)
    assert y is not x and x.is_leaf and x.grad_fn is None
    assert y.grad_fn.name() == "IdentityBackward"
    (y * 3).sum().backward()
    assert_close(x.grad, [3.0] * 3)


def test_backward_returning_none_leaves_grad_unset():
    class Detached(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, grad):
            return grad, None

    (x, _), (y, _) = both(3), both(3)
    Detached.apply(x, y).sum().backward()
    assert y.grad is None
    assert_close(x.grad, [1.0] * 3)


def test_saved_output_matches_torch():
    x, tx = both(5)
    y, ty = RG["Exp"].apply(x), TORCH["Exp"].apply(tx)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    assert_close(x.grad, tx.grad)


def test_chain_and_reuse_of_custom_functions():
    x, tx = both(3, 3)
    outs = []
    for lib, fns, a in ((rg, RG, x), (torch, TORCH, tx)):
        h = fns["MyRelu"].apply(a @ a.t())
        h = fns["MulAdd"].apply(h, fns["Exp"].apply(a * 0.1))
        outs.append(fns["Scale"].apply(h, -1.5).sum() + fns["MyRelu"].apply(a).sum())
    assert_close(outs[0], outs[1])
    outs[0].backward()
    outs[1].backward()
    assert_close(x.grad, tx.grad)


def test_gradient_broadcast_is_summed_back_like_torch():
    class Broad(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            return grad.expand(2, 3)  # shape (2, 3) for an input of shape (3,): summed

    x = rg.randn(3, requires_grad=True)
    Broad.apply(x).sum().backward()
    assert_close(x.grad, [2.0, 2.0, 2.0])


def test_setup_context_style():
    class Square(Function):
        @staticmethod
        def forward(a):
            return a * a

        @staticmethod
        def setup_context(ctx, inputs, output):
            (a,) = inputs
            ctx.save_for_backward(a)

        @staticmethod
        def backward(ctx, grad):
            (a,) = ctx.saved_tensors
            return 2 * a * grad

    x, _ = both(4)
    Square.apply(x).sum().backward()
    assert_close(x.grad, 2 * x.detach().numpy())


def test_mark_non_differentiable():
    class ArgmaxMask(Function):
        @staticmethod
        def forward(ctx, a):
            out = (a == a.max()).to(a.dtype)
            ctx.mark_non_differentiable(out)
            return out

        @staticmethod
        def backward(ctx, grad):
            return None

    x, _ = both(4)
    out = ArgmaxMask.apply(x)
    assert out.grad_fn is None and not out.requires_grad
    assert out.sum().item() == 1.0


def test_function_must_not_be_instantiated():
    with raises(RuntimeError, "MyRelu.apply"):
        RG["MyRelu"]()


# ---------------------------------------------------------------- gradcheck and higher order


def test_gradcheck_custom_functions():
    x = rg.randn(3, 4, dtype=rg.float64) + 0.2
    x = (x + (x.abs() < 0.05).to(rg.float64) * 0.2).detach().requires_grad_()  # away from 0
    assert gradcheck(RG["MyRelu"].apply, (x,))
    a, b = (rg.randn(2, 3, dtype=rg.float64, requires_grad=True) for _ in range(2))
    assert gradcheck(RG["MulAdd"].apply, (a, b))
    assert gradcheck(lambda t: RG["Scale"].apply(t, 0.75, -2.0), (a,))
    assert gradcheck(RG["Exp"].apply, (a,))
    assert gradcheck(RG["Cube"].apply, (a,))


def test_gradcheck_detects_wrong_custom_backward():
    class WrongSquare(Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, grad):
            (a,) = ctx.saved_tensors
            return grad * a  # should be 2 * a

    x = rg.randn(3, dtype=rg.float64, requires_grad=True)
    assert not gradcheck(WrongSquare.apply, (x,), raise_exception=False)


def test_second_derivative_through_custom_backward_matches_torch():
    x, tx = both(4)
    res = []
    for lib, fns, a in ((rg, RG, x), (torch, TORCH, tx)):
        y = fns["Cube"].apply(fns["MulAdd"].apply(a, a)).sum()
        (g,) = lib.autograd.grad(y, a, create_graph=True)
        res.append((g, lib.autograd.grad((g * g).sum(), a)[0]))
    assert_close(res[0][0], res[1][0], rtol=1e-10)
    assert_close(res[0][1], res[1][1], rtol=1e-10)


def test_gradgradcheck_custom_functions():
    a, b = (rg.randn(2, 3, dtype=rg.float64, requires_grad=True) for _ in range(2))
    assert gradgradcheck(RG["Cube"].apply, (a,))
    assert gradgradcheck(RG["MulAdd"].apply, (a, b))


def test_double_backward_through_saved_output():
    # PyTorch unpacks a saved *output* with the custom node as its grad_fn, so a backward that
    # uses it (Exp: grad * out) is differentiable again.
    x, tx = both(4)
    res = []
    for lib, fns, a in ((rg, RG, x), (torch, TORCH, tx)):
        (g,) = lib.autograd.grad(fns["Exp"].apply(a).sum(), a, create_graph=True)
        res.append(lib.autograd.grad((g * g).sum(), a)[0])
    assert_close(res[0], res[1], rtol=1e-10)
    a = rg.randn(2, 3, dtype=rg.float64, requires_grad=True)
    assert gradgradcheck(RG["Exp"].apply, (a,))


def test_once_differentiable_backward_has_no_second_derivative():
    class Cube(Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a**3

        @staticmethod
        @once_differentiable
        def backward(ctx, grad):
            (a,) = ctx.saved_tensors
            return grad * 3 * a**2

    x = rg.randn(3, dtype=rg.float64, requires_grad=True)
    assert gradcheck(Cube.apply, (x,))
    (g,) = rg.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    assert g.grad_fn is None
    assert not gradgradcheck(Cube.apply, (x,), raise_exception=False)


# ---------------------------------------------------------------- errors


def test_saved_input_modified_in_place_is_an_error():
    x, _ = both(3)
    a = x * 1.0
    y = RG["MyRelu"].apply(a)
    a.add_(1.0)
    with raises(RuntimeError, "modified by an inplace operation"):
        y.sum().backward()


def test_saved_output_modified_in_place_is_an_error():
    x, tx = both(3)
    y, ty = RG["Exp"].apply(x), TORCH["Exp"].apply(tx)
    ty.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        ty.sum().backward()
    y.mul_(2.0)
    with raises(RuntimeError, "modified by an inplace operation"):
        y.sum().backward()


def test_wrong_number_of_gradients():
    class Two(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, grad):
            return (grad,)

    (x, _), (y, _) = both(3), both(3)
    with raises(
        RuntimeError,
        "function TwoBackward returned an incorrect number of gradients (expected 2, got 1)",
    ):
        Two.apply(x, y).sum().backward()


def test_extra_none_gradients_are_allowed():
    class Extra(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2, None, None

    x, _ = both(3)
    Extra.apply(x).sum().backward()
    assert_close(x.grad, [2.0] * 3)


def test_gradient_for_non_tensor_argument_is_an_error():
    class Bad(Function):
        @staticmethod
        def forward(ctx, a, k):
            return a * k

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    x, _ = both(3)
    with raises(
        RuntimeError,
        "function BadBackward returned a gradient different than None at position 2, but the "
        "corresponding forward input was not a Variable",
    ):
        Bad.apply(x, 2.0).sum().backward()


def test_gradient_of_wrong_shape_is_an_error():
    class Bad(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            return grad[:2]

    x, _ = both(3)
    with raises(
        RuntimeError,
        "Function BadBackward returned an invalid gradient at index 0 - got [2] but expected "
        "shape compatible with [3]",
    ):
        Bad.apply(x).sum().backward()


def test_gradient_of_wrong_type_is_an_error():
    class Bad(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            return 3

    x, _ = both(3)
    with raises(RuntimeError, "expected Variable or None (got int)"):
        Bad.apply(x).sum().backward()


def test_exception_in_backward_propagates_unchanged():
    class Boom(Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            raise ValueError("boom in backward")

    x, _ = both(3)
    with raises(ValueError, "boom in backward"):
        Boom.apply(x).sum().backward()
    # The engine is still usable afterwards.
    (x * 2).sum().backward()
    assert_close(x.grad, [2.0] * 3)


def test_saved_tensors_only_in_backward():
    # in forward nothing is saved yet: an empty tuple, as PyTorch's
    class Early(Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return ctx.saved_tensors[0] * 2

        @staticmethod
        def backward(ctx, grad):
            return grad

    with raises(IndexError, "tuple index out of range"):
        Early.apply(rg.randn(2, requires_grad=True))


def test_save_for_backward_rejects_non_tensors():
    class Bad(Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a, 3)
            return a

        @staticmethod
        def backward(ctx, grad):
            return grad

    with raises(TypeError, "save_for_backward can only save variables"):
        Bad.apply(rg.randn(2, requires_grad=True))


def test_save_for_backward_none_entries():
    class WithNone(Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(None, a, None)
            return a * a

        @staticmethod
        def backward(ctx, grad):
            n1, a, n2 = ctx.saved_tensors
            assert n1 is None and n2 is None
            return 2 * a * grad

    x, _ = both(3)
    WithNone.apply(x).sum().backward()
    assert_close(x.grad, 2 * x.detach().numpy())


def test_second_backward_without_retain_graph_is_an_error():
    x, _ = both(3)
    y = RG["Cube"].apply(x).sum()
    y.backward()
    with raises(RuntimeError, "backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x, _ = both(3)
    y = RG["Cube"].apply(x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert_close(x.grad, 6 * x.detach().numpy() ** 2)


def test_graph_is_released():
    import gc

    gc.collect()  # (earlier tests' cycles, freed now rather than in the middle of this one)
    before = rg._core._live_nodes()
    x, _ = both(3)
    y = RG["MulAdd"].apply(RG["Exp"].apply(x), x).sum()
    y.backward()
    del y
    assert rg._core._live_nodes() == before


def test_gradcheck_options_as_pytorch():
    """PyTorch's gradcheck keywords: a backward that is not linear in its gradient fails as
    PyTorch's does; batched and dtype checks pass for sound
    Functions; gradgradcheck takes non-contiguous output gradients and forward-over-reverse."""

    def make(lib):
        class Affine(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                return grad * 2 + 1  # wrong: a zero gradient must give zero

        return Affine

    x, tx = both(3)
    theirs = torch.autograd.gradcheck(make(torch).apply, (tx,), raise_exception=False)
    ours = gradcheck(make(rg).apply, (x,), raise_exception=False)
    assert ours == theirs is False
    with pytest.raises(sys.modules["torch.autograd.gradcheck"].GradcheckError) as expected:
        torch.autograd.gradcheck(make(torch).apply, (tx,), atol=10.0)
    with raises(GradcheckError, str(expected.value)):
        gradcheck(make(rg).apply, (x,), atol=10.0)
    assert not gradcheck(
        make(rg).apply, (x,), atol=10.0, check_undefined_grad=False, raise_exception=False
    )

    options = {
        "check_batched_grad": True,
        "check_grad_dtypes": True,
        "fast_mode": True,
        "nondet_tol": 0.0,
    }
    for name in ("MulAdd", "Exp", "Cube"):
        n_args = 2 if name == "MulAdd" else 1
        args = tuple(both(2, 3)[0] for _ in range(n_args))
        assert gradcheck(RG[name].apply, args, **options)
    a = both(2, 3)[0]
    assert gradgradcheck(RG["Cube"].apply, (a,), gen_non_contig_grad_outputs=True)
    # (forward-mode AD through a Function needs its ``jvp``: PyTorch raises the same)
    with raises(NotImplementedError, "You must implement the jvp function"):
        gradgradcheck(RG["Cube"].apply, (a,), check_fwd_over_rev=True)


def _two_outputs(lib, materialize=True):
    class TwoOutputs(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.set_materialize_grads(materialize)
            return a * 2, a * 3

        @staticmethod
        def backward(ctx, g1, g2):
            # not linear in (g1, g2): called once per output, it would give other values
            if g1 is None or g2 is None:
                return None
            return g1 * g2 + g1

    return TwoOutputs


@pytest.mark.parametrize("materialize", [True, False])
@pytest.mark.parametrize("uses", ["both", "first", "second"])
def test_backward_of_several_outputs_runs_once_with_every_gradient(materialize, uses):
    """PyTorch calls ``backward`` once with all the outputs' gradients (None for an output
    that got none when ``set_materialize_grads(False)``), not once per output."""
    results = []
    for lib in (torch, rg):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        u, v = _two_outputs(lib, materialize).apply(x)
        loss = {"both": u * 5 + v * 7, "first": u * 5, "second": v * 7}[uses].sum()
        loss.backward()
        results.append(None if x.grad is None else x.grad.tolist())
    assert results[1] == results[0]


def test_integer_output_of_a_function_does_not_require_grad():
    results = []
    for lib in (torch, rg):

        class Count(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a * 2, (a > 0).sum()

            @staticmethod
            def backward(ctx, g, _count):
                return g * 2

        x = lib.tensor([1.0, -2.0], requires_grad=True)
        doubled, count = Count.apply(x)
        results.append((doubled.requires_grad, count.requires_grad, count.grad_fn is None))
    assert results[1] == results[0] == (True, False, True)


def test_mark_dirty_of_a_view_rebases_its_base_as_torch():
    """A Function that writes a view of a non-leaf in place (``mark_dirty``) moves the base's
    history onto ``CopySlices``, as any in-place write through a view; marking counts as a
    write of its own (``_version``)."""
    results = []
    for lib in (torch, rg):

        class Double(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                a.mul_(2)
                ctx.mark_dirty(a)
                return a

            @staticmethod
            def backward(ctx, g):
                return g * 2

        x = lib.arange(4, dtype=lib.float64).requires_grad_()
        y = x * 1
        out = Double.apply(y[:2])
        (y * lib.arange(4, dtype=lib.float64)).sum().backward()
        results.append((type(y.grad_fn).__name__, y._version, out.tolist(), x.grad.tolist()))
    assert results[1] == results[0]


def test_vjp_alone_is_the_backward_as_torch():
    results = []
    for lib in (torch, rg):

        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a * 2

            @staticmethod
            def vjp(ctx, g):
                return g * 7

        x = lib.ones(2, requires_grad=True)
        Scale.apply(x).sum().backward()
        results.append(x.grad.tolist())
    assert results[1] == results[0] == [7.0, 7.0]


def _needs_input_grad_seen(lib):
    seen = []

    class Mul(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            seen.append(ctx.needs_input_grad)
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g, None

    with lib.no_grad():
        Mul.apply(lib.ones(2, requires_grad=True), lib.ones(2))
    Mul.apply(lib.ones(2, requires_grad=True), 3.0)
    return seen


def test_needs_input_grad_ignores_grad_mode_as_torch():
    assert _needs_input_grad_seen(rg) == _needs_input_grad_seen(torch)


@pytest.mark.parametrize("has_jvp", [True, False])
def test_forward_mode_uses_the_functions_jvp_as_torch(has_jvp):
    """Forward-mode AD takes tangents from ``jvp`` even when ``backward`` exists, and raises
    NotImplementedError without one."""
    from conftest import outcome

    def run(lib):
        fwad = lib.autograd.forward_ad

        class Round(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a):
                return a.round()

            @staticmethod
            def backward(ctx, g):
                return g

        if has_jvp:
            Round.jvp = staticmethod(lambda ctx, t: t * 0)
        with fwad.dual_level():
            d = fwad.make_dual(lib.tensor([1.2, 3.7]), lib.ones(2))
            return fwad.unpack_dual(Round.apply(d)).tangent.tolist()

    assert outcome(run, rg) == outcome(run, torch)
