"""In-place ops: values, ``self`` returned, version counter, autograd rules and gradients.

``Tensor._version`` is PyTorch's (private but widely used) view of the storage's version counter.
"""

import warnings

import numpy as np
import pytest
import rustgrad as rg
from conftest import assert_close, graph_signature, node_name, raises

LEAF_MSG = "leaf Variable that requires grad is being used in an in-place operation"
MODIFIED_MSG = "modified by an inplace operation"

# name: (method call, expected values starting from [1, 2, 3])
INPLACE = {
    "add_": (lambda t: t.add_(2.0), [3.0, 4.0, 5.0]),
    "add_tensor": (lambda t: t.add_(rg.tensor([1.0, 1.0, 2.0])), [2.0, 3.0, 5.0]),
    "sub_": (lambda t: t.sub_(1.0), [0.0, 1.0, 2.0]),
    "sub_tensor": (lambda t: t.sub_(rg.tensor([1.0, 1.0, 2.0])), [0.0, 1.0, 1.0]),
    "mul_": (lambda t: t.mul_(3.0), [3.0, 6.0, 9.0]),
    "mul_tensor": (lambda t: t.mul_(rg.tensor([2.0, 0.5, -1.0])), [2.0, 1.0, -3.0]),
    "div_": (lambda t: t.div_(2.0), [0.5, 1.0, 1.5]),
    "div_tensor": (lambda t: t.div_(rg.tensor([1.0, 4.0, 2.0])), [1.0, 0.5, 1.5]),
    "zero_": (lambda t: t.zero_(), [0.0, 0.0, 0.0]),
    "fill_": (lambda t: t.fill_(7.0), [7.0, 7.0, 7.0]),
    "copy_": (lambda t: t.copy_(rg.tensor([9.0, 8.0, 7.0])), [9.0, 8.0, 7.0]),
    "clamp_": (lambda t: t.clamp_(1.5, 2.5), [1.5, 2.0, 2.5]),
    "clamp_min": (lambda t: t.clamp_(min=2.0), [2.0, 2.0, 3.0]),
    "clamp_max": (lambda t: t.clamp_(max=2.0), [1.0, 2.0, 2.0]),
}


@pytest.mark.parametrize("op", list(INPLACE))
def test_inplace_values_return_self_and_bump_version(op):
    fn, expected = INPLACE[op]
    t = rg.tensor([1.0, 2.0, 3.0])
    v0 = t._version
    r = fn(t)
    assert r is t
    assert t.tolist() == expected
    assert t._version == v0 + 1
    assert t.dtype == rg.float32


@pytest.mark.parametrize(
    "op,expected",
    [
        ("+=", [3.0, 4.0, 5.0]),
        ("-=", [-1.0, 0.0, 1.0]),
        ("*=", [2.0, 4.0, 6.0]),
        ("/=", [0.5, 1.0, 1.5]),
    ],
)
def test_augmented_assignment_is_in_place(op, expected):
    for other in (2.0, rg.tensor([2.0, 2.0, 2.0]), rg.tensor(2.0)):
        t = rg.tensor([1.0, 2.0, 3.0])
        alias = t
        v0 = t._version
        if op == "+=":
            t += other
        elif op == "-=":
            t -= other
        elif op == "*=":
            t *= other
        else:
            t /= other
        assert t is alias
        assert t.tolist() == expected
        assert t._version == v0 + 1


def test_inplace_broadcasts_other_and_keeps_dtype():
    t = rg.ones(2, 3)
    t.add_(rg.tensor([1.0, 2.0, 3.0]))
    assert t.tolist() == [[2.0, 3.0, 4.0], [2.0, 3.0, 4.0]]
    t.mul_(rg.tensor([[1.0], [2.0]], dtype=rg.float64))
    assert t.dtype == rg.float32
    assert t.tolist() == [[2.0, 3.0, 4.0], [4.0, 6.0, 8.0]]
    t.copy_(rg.tensor([1.0, 2.0, 3.0], dtype=rg.float64))
    assert t.dtype == rg.float32 and t.tolist() == [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]


def test_version_counter_shared_by_views():
    t = rg.tensor([1.0, 2.0, 3.0, 4.0])
    v = t[1:]
    w = t.view(2, 2)
    t.mul_(2)
    assert v._version == t._version == w._version
    before = t._version
    v.add_(1)
    assert t._version == w._version == before + 1
    assert t.tolist() == [2.0, 5.0, 7.0, 9.0]
    t[0] = 0.0
    assert v._version == before + 2


def test_setitem_bumps_version():
    t = rg.zeros(3)
    v0 = t._version
    t[1] = 2.0
    assert t._version == v0 + 1
    assert t.tolist() == [0.0, 2.0, 0.0]


def test_detach_and_data_share_version_and_values():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    d.add_(1)
    assert x.tolist() == [2.0, 3.0]
    assert d._version == x._version


# ---------------------------------------------------------------- saved tensors


def test_modified_saved_input_raises_at_backward():
    x = rg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    z = y * y  # saves y
    y.add_(1)
    with raises(RuntimeError, MODIFIED_MSG):
        z.sum().backward()


def test_modified_saved_output_raises_at_backward():
    x = rg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.exp()  # saves its result
    y.mul_(2)
    with raises(RuntimeError, MODIFIED_MSG):
        y.sum().backward()


@pytest.mark.parametrize(
    "make",
    [
        lambda y: y.tanh(),
        lambda y: y.sigmoid(),
        lambda y: y.sqrt(),
        lambda y: y.softmax(0),
    ],
    ids=["tanh", "sigmoid", "sqrt", "softmax"],
)
def test_modified_saved_output_other_ops(make):
    x = rg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    out = make(x * 1)
    out.add_(1)
    with raises(RuntimeError, MODIFIED_MSG):
        out.sum().backward()


def test_modified_saved_leaf_raises_at_backward():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    out = (x * x).sum()
    with rg.no_grad():
        x.add_(1)
    with raises(RuntimeError, MODIFIED_MSG):
        out.backward()


def test_modified_saved_view_raises_at_backward():
    x = rg.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    base = x * 1
    v = base[:2]
    out = (v * v).sum()
    base.mul_(2)  # bumps the version shared with the view
    with raises(RuntimeError, MODIFIED_MSG):
        out.backward()


def test_inplace_on_unsaved_tensor_is_fine():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y + 1  # add saves nothing
    y.add_(5)
    z.sum().backward()
    assert_close(x.grad, [2.0, 2.0])


# ---------------------------------------------------------------- leaves


@pytest.mark.parametrize(
    "fn",
    [
        lambda w: w.add_(1),
        lambda w: w.sub_(1),
        lambda w: w.mul_(2),
        lambda w: w.div_(2),
        lambda w: w.zero_(),
        lambda w: w.fill_(1.0),
        lambda w: w.copy_(rg.zeros(2)),
        lambda w: w.clamp_(0, 1),
        lambda w: w.__iadd__(1),
        lambda w: w.__isub__(1),
        lambda w: w.__imul__(2),
        lambda w: w.__itruediv__(2),
        lambda w: w.__setitem__(0, 5.0),
        lambda w: w[0].mul_(2),
    ],
    ids=[
        "add_",
        "sub_",
        "mul_",
        "div_",
        "zero_",
        "fill_",
        "copy_",
        "clamp_",
        "iadd",
        "isub",
        "imul",
        "itruediv",
        "setitem",
        "view_mul_",
    ],
)
def test_inplace_on_leaf_requiring_grad(fn):
    w = rg.tensor([1.0, 2.0], requires_grad=True)
    with raises(RuntimeError, LEAF_MSG):
        fn(w)
    assert w.tolist() == [1.0, 2.0]
    with rg.no_grad():
        fn(w)
    assert w.is_leaf and w.requires_grad and w.grad_fn is None


@pytest.mark.parametrize("view", [lambda w: w.transpose(0, 0), lambda w: w.swapaxes(0, 0), lambda w: w.T])  # fmt: skip
def test_views_of_a_0d_leaf_are_views(view):
    """A 0-d tensor's transposes alias it, as PyTorch's: in place on one is in place on a
    view of the leaf."""
    w = rg.tensor(1.5, requires_grad=True)
    v = view(w)
    assert v._is_view()
    with raises(RuntimeError, "a view of a " + LEAF_MSG):
        v.add_(1)
    assert w.item() == 1.5


def test_optimizer_style_update_under_no_grad():
    target = rg.tensor([3.0, -1.0, 0.5])
    w = rg.zeros(3, requires_grad=True)
    lr = 0.1
    for _ in range(100):
        loss = ((w - target) ** 2).sum()
        loss.backward()
        with rg.no_grad():
            w -= lr * w.grad
            w.grad.zero_()
    assert w.is_leaf and w.requires_grad and w.grad_fn is None
    assert_close(w, target, atol=1e-4)
    with rg.no_grad():
        w.sub_(w.grad * lr)
        w.data.mul_(1.0)


def test_data_inplace_bypasses_leaf_check():
    w = rg.tensor([1.0, 2.0], requires_grad=True)
    w.data.mul_(2)
    assert w.tolist() == [2.0, 4.0]
    (w * w).sum().backward()
    assert_close(w.grad, [4.0, 8.0])


# ---------------------------------------------------------------- recorded in-place on non-leaves

# name: (in-place op on y = x * 2, expected dx for (result).sum().backward() with x=[1,2,3])
NONLEAF = {
    "add_": (lambda y: y.add_(1), [2.0, 2.0, 2.0]),
    "sub_": (lambda y: y.sub_(1), [2.0, 2.0, 2.0]),
    "mul_": (lambda y: y.mul_(3), [6.0, 6.0, 6.0]),
    "div_": (lambda y: y.div_(4), [0.5, 0.5, 0.5]),
    "iadd": (lambda y: y.__iadd__(1), [2.0, 2.0, 2.0]),
    "imul": (lambda y: y.__imul__(3), [6.0, 6.0, 6.0]),
    "isub": (lambda y: y.__isub__(rg.ones(3)), [2.0, 2.0, 2.0]),
    "itruediv": (lambda y: y.__itruediv__(2), [1.0, 1.0, 1.0]),
    "zero_": (lambda y: y.zero_(), [0.0, 0.0, 0.0]),
    "fill_": (lambda y: y.fill_(3.0), [0.0, 0.0, 0.0]),
    "copy_": (lambda y: y.copy_(rg.ones(3)), [0.0, 0.0, 0.0]),
    "clamp_": (lambda y: y.clamp_(3.0, 5.0), [0.0, 2.0, 0.0]),
    "clamp_min": (lambda y: y.clamp_(min=3.0), [0.0, 2.0, 2.0]),
    "chain": (lambda y: y.mul_(2).add_(1).div_(4), [1.0, 1.0, 1.0]),
}


@pytest.mark.parametrize("op", list(NONLEAF))
def test_inplace_on_non_leaf_is_recorded(op):
    fn, expected = NONLEAF[op]
    x = rg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    r = fn(y)
    assert r is y
    assert y.requires_grad and y.grad_fn is not None and not y.is_leaf
    y.sum().backward()
    assert_close(x.grad, expected)


def test_inplace_mul_by_tensor_on_non_leaf():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    a = rg.tensor([3.0, 4.0], requires_grad=True)
    y = x * 2
    y.mul_(a)
    assert y.grad_fn.name() == "MulBackward0"
    (y * y).sum().backward()
    # y = 2 x a; d(sum y^2)/dx = 2 y * 2a, /da = 2 y * 2x
    assert_close(x.grad, [2 * 6 * 6, 2 * 16 * 8])
    assert_close(a.grad, [2 * 6 * 2, 2 * 16 * 4])


def test_inplace_copy_routes_gradient_to_source():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    s = rg.tensor([5.0, 6.0], requires_grad=True)
    y = x * 2
    y.copy_(s * 3)
    (y * y).sum().backward()
    assert_close(x.grad, [0.0, 0.0])
    assert_close(s.grad, [2 * 15 * 3, 2 * 18 * 3])


def test_inplace_with_grad_tensor_makes_result_require_grad():
    x = rg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    c = rg.zeros(3)
    c.add_(x * x)
    assert c.requires_grad and c.grad_fn is not None and not c.is_leaf
    c.sum().backward()
    assert_close(x.grad, [2.0, 4.0, 6.0])


def test_inplace_grad_fn_names():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.add_(1)
    assert y.grad_fn.name() == "AddBackward0"
    assert y.grad_fn.next_functions[0][0].name() == "MulBackward0"
    y.mul_(3)
    assert y.grad_fn.name() == "MulBackward0"
    y.div_(3)
    assert y.grad_fn.name() == "DivBackward0"
    y.sub_(3)
    assert y.grad_fn.name() == "SubBackward0"


def test_inplace_through_view_of_non_leaf():
    x = rg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * 1
    y[0].mul_(2)
    y[:, 1].add_(10)
    assert y.tolist() == [[2.0, 14.0], [3.0, 14.0]]
    (y * rg.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    assert_close(x.grad, [[2.0, 4.0], [3.0, 4.0]])


# ---------------------------------------------------------------- __setitem__


def test_setitem_gradients_to_base_and_value():
    x = rg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    v = rg.tensor([7.0, 8.0, 9.0], requires_grad=True)
    y = x * 1
    y[1] = v * 2
    assert y.tolist() == [[1.0, 2.0, 3.0], [14.0, 16.0, 18.0]]
    w = rg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    (y * w).sum().backward()
    assert_close(x.grad, [[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    assert_close(v.grad, [8.0, 10.0, 12.0])


def test_setitem_broadcast_value_gradient():
    x = rg.zeros(3, 2, requires_grad=True)
    v = rg.tensor([1.0, 2.0], requires_grad=True)
    y = x + 1
    y[1:] = v
    y.sum().backward()
    assert_close(x.grad, [[1.0, 1.0], [0.0, 0.0], [0.0, 0.0]])
    assert_close(v.grad, [2.0, 2.0])


def test_setitem_scalar_and_strided():
    x = rg.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = x * 3
    y[::2] = 0.0
    y.sum().backward()
    assert_close(x.grad, [0.0, 3.0, 0.0, 3.0])


def test_setitem_with_index_list_gradient():
    x = rg.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    v = rg.tensor([10.0, 20.0], requires_grad=True)
    y = x * 1
    y[[0, 3]] = v
    assert y.tolist() == [10.0, 2.0, 3.0, 20.0]
    (y * rg.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    assert_close(x.grad, [0.0, 2.0, 3.0, 0.0])
    assert_close(v.grad, [1.0, 4.0])


def test_setitem_on_saved_tensor_raises():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y[0] = 1.0
    with raises(RuntimeError, MODIFIED_MSG):
        y.sum().backward()


def test_setitem_no_grad_tensor_with_grad_value():
    v = rg.tensor(2.0, requires_grad=True)
    buf = rg.zeros(3)
    buf[1] = v * v
    assert buf.requires_grad
    buf.sum().backward()
    assert_close(v.grad, 4.0)
    assert np.allclose(buf.detach().numpy(), [0.0, 4.0, 0.0])


# ----- against PyTorch: what in-place writes do to other views, retained gradients and saves


def _torch():
    return pytest.importorskip("torch")


def _view_written_through_another_view(m):
    # y is a view of the batched product's result; y[0] is another view of it.
    a = m.tensor([[2.0]], requires_grad=True)
    y = a @ m.tensor([[[1.0]], [[2.0]]])
    y[0].add_(a)
    y.sum().backward()
    return [a.grad]


def _view_zeroed_through_another_view(m):
    w = m.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = m.tensor([1.0, 2.0]) @ w  # a squeezed view of the 2-d product
    y[0].zero_()
    y.sum().backward()
    return [w.grad]


def _view_sees_write_to_base(m):
    x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = x * 1
    v = b[1:]
    b.mul_(3)  # through the base: v must see the factor
    (v * v).sum().backward()
    return [x.grad]


def _view_of_no_grad_base_gains_history(m):
    x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = m.zeros(3)
    v = b[:2]
    b.add_(x)
    v.sum().backward()
    return [x.grad]


def _retain_grad_then_inplace(m):
    x = m.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.mul_(3)
    y.sum().backward()
    return [y.grad, x.grad]


def _no_save_of_partner_without_grad(m):
    # x * scalar saves only the scalar: writing x afterwards is no error.
    x = m.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    z = y * 3.0
    y.add_(1)
    z.sum().backward()
    return [x.grad]


def _linear_weight_written_under_no_grad(m):
    lin = m.nn.Linear(3, 2)
    y = lin(m.ones(4, 3)).sum()
    with m.no_grad():
        lin.weight.add_(1)
    y.backward()
    return [lin.bias.grad]


@pytest.mark.parametrize(
    "program",
    [
        _view_written_through_another_view,
        _view_zeroed_through_another_view,
        _view_sees_write_to_base,
        _view_of_no_grad_base_gains_history,
        _retain_grad_then_inplace,
        _no_save_of_partner_without_grad,
        _linear_weight_written_under_no_grad,
    ],
    ids=lambda f: f.__name__.strip("_"),
)
def test_inplace_gradients_match_torch(program):
    torch = _torch()
    for got, expected in zip(program(rg), program(torch)):
        assert_close(got, expected.numpy())


def test_stale_view_is_remade_from_its_base_as_torch_names_it():
    torch = _torch()

    def names(m):
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = x * 1
        v = b[1:]
        b.mul_(2)
        return v.grad_fn.name(), v.grad_fn.next_functions[0][0].name()

    assert names(rg) == names(torch)


def test_saved_partner_still_checked_when_its_gradient_is_needed():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    w = rg.tensor([3.0, 4.0], requires_grad=True)
    y = x * 1
    z = y * w
    y.add_(1)
    with raises(RuntimeError, MODIFIED_MSG):
        z.sum().backward()


def test_masked_scatter_saves_its_mask_as_torch():
    """One ``MaskedScatterBackward0`` node saving the mask: a later write into the mask is
    the version error (found by the fuzzer), and the gradients are PyTorch's."""
    torch = pytest.importorskip("torch")

    def run(m, write_mask):
        x = m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
        src = m.tensor([10.0, 20.0, 30.0, 40.0], requires_grad=True)
        mask = m.tensor([True, False, True])  # broadcast over the rows
        y = x.masked_scatter(mask, src)
        if write_mask:
            mask.zero_()
        (y * m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
        return y.grad_fn.name(), x.grad.tolist(), src.grad.tolist()

    assert run(rg, False) == run(torch, False)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        run(torch, True)
    with raises(RuntimeError, MODIFIED_MSG):
        run(rg, True)


def test_writing_pow_result_in_place_is_caught_like_torch():
    # pow(a, b) saves its result for b's gradient (as PyTorch), so filling it is caught.
    a = rg.tensor(1.1, dtype=rg.float64)
    b = rg.tensor(-2.33, dtype=rg.float64, requires_grad=True)
    y = a**b
    y.fill_(-3)
    with raises(RuntimeError, MODIFIED_MSG):
        (y * 1.5).sum().backward()


def test_overwritten_value_gradient_is_a_constant_under_create_graph():
    torch = _torch()

    def grads(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        y.fill_(0.5)
        w = x * 1
        w.copy_(m.tensor([3.0, 4.0]))
        (g,) = m.autograd.grad(((y + w) * x).sum(), x, create_graph=True)
        return g.requires_grad, g.tolist()

    assert grads(rg) == grads(torch)


def _chain(t):
    """Node names from ``t`` down its first differentiable input."""
    names, fn = [], t.grad_fn
    while fn is not None:
        names.append(fn.name())
        nxt = [f for f, _ in fn.next_functions if f is not None]
        nxt = [f for f in nxt if "AccumulateGrad" not in f.name()]
        fn = nxt[0] if nxt else None
    return names


# (a_shape, b_shape, a requires grad, b requires grad, folded as PyTorch folds it)
@pytest.mark.parametrize(
    "a_shape, b_shape, a_grad, b_grad, folded",
    [
        ((4,), (2, 4, 3), True, False, True),
        ((5, 4), (2, 4, 3), True, False, True),
        ((5, 4), (2, 4, 3), False, True, False),
        ((4,), (2, 4, 3), False, True, False),
    ],
)
def test_matmul_of_a_small_operand_and_a_batch_folds_as_pytorch(
    a_shape, b_shape, a_grad, b_grad, folded
):
    """PyTorch folds ``[k] @ [.., k, n]`` (and ``[m, k] @ ...`` when the matrix requires grad)
    through ``b.mT`` copied into one matrix: the same graph, and a later in-place write to
    ``b`` does not touch what backward reads (the fuzzer's seed 33, program 2275)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a_np, b_np = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    outs = []
    for lib in (rg, torch):
        a = lib.tensor(a_np, requires_grad=a_grad)
        b = lib.tensor(b_np, requires_grad=b_grad)
        out = a @ b
        chain = _chain(out)
        if not b_grad:
            with lib.no_grad():
                b.add_(1.0)  # after the product: PyTorch's fold saved a copy
        out.sum().backward()
        grad = (a if a_grad else b).grad
        outs.append((chain, out.detach().numpy(), grad.numpy()))
    (rc, ro, rgrad), (tc, to, tgrad) = outs
    if folded:  # (the batched product's graph has fewer view nodes than PyTorch's)
        assert rc == tc
    assert_close(ro, to)
    assert_close(rgrad, tgrad)


def test_fill_and_zero_write_an_expanded_tensor_as_torch():
    # one value everywhere: PyTorch allows elements that share memory (other writes refuse)
    for lib in (rg, _torch()):
        x = lib.ones(1).expand(3)
        x.zero_()
        assert x.tolist() == [0.0, 0.0, 0.0]
        x.fill_(2)
        assert x.tolist() == [2.0, 2.0, 2.0]
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
            x.add_(1)


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.ones(3),
        lambda lib: lib.full((3,), 2.0),
        lambda lib: lib.full((2,), 2**60),
        lambda lib: lib.ones_like(lib.zeros(2)),
        lambda lib: lib.full_like(lib.zeros(2), 3.0),
        lambda lib: lib.zeros(3),
        lambda lib: lib.eye(2),
    ],
)
def test_new_tensors_start_at_version_zero(make):
    """Creation is not an in-place write: ``_version`` starts at 0 as PyTorch's (a module's
    buffers made by ``ones`` count only the writes after it)."""
    torch = pytest.importorskip("torch")
    assert make(rg)._version == make(torch)._version == 0


@pytest.mark.parametrize(
    "index", [(), Ellipsis, slice(None), (slice(None), slice(0, 2)), (Ellipsis, slice(None))]
)
def test_setitem_of_every_element_writes_the_tensor_itself(index):
    """PyTorch's slicing skips slices that keep every element, so ``x[:] = v`` (``x[()]``,
    ``x[..., :]``) is ``x.fill_(v)``: one FillBackward3 node, no CopySlices, and under
    create_graph the (zero) gradient of the old values does not require grad."""
    torch = pytest.importorskip("torch")
    results = []
    for lib in (torch, rg):
        leaf = lib.ones(2, 2, dtype=lib.float64, requires_grad=True)
        x = leaf * 2
        x[index] = 3.0
        (g,) = lib.autograd.grad((x * leaf).sum(), [leaf], create_graph=True)
        results.append((x.grad_fn.name(), g.tolist(), g.requires_grad))
    assert results[1] == results[0]


@pytest.mark.parametrize(
    "view",
    [
        lambda b: b[0],
        lambda b: b.t(),
        lambda b: b.view(12),
        lambda b: b.squeeze(0),
        lambda b: b[:, 1:3].unsqueeze(0),
        lambda b: b.diagonal(),
    ],
)
def test_written_view_reads_its_history_through_its_base(view):
    """As PyTorch, a view written in place gets ``AsStridedBackward0`` of its base's
    ``CopySlices`` as its history, not the write's own node: under create_graph the gradient
    of what it overwrote is the base's (a copy of an incoming gradient that requires grad), so
    it requires grad even where its values are zeros."""
    torch = pytest.importorskip("torch")
    results = []
    for lib in (torch, rg):
        leaf = lib.tensor([[0.5, 1.5, 2.0, 3.0]] * 3, dtype=lib.float64, requires_grad=True)
        base = lib.where(leaf > 1, leaf, lib.zeros(()))
        v = view(base)
        v.copy_(lib.zeros(v.shape, dtype=lib.bool))
        y = (v.sqrt() * 2).sum() + (base * base).sum()
        (g,) = lib.autograd.grad(y, [leaf], create_graph=True)
        results.append((v.grad_fn.name(), g.tolist(), g.requires_grad))
    assert results[1] == results[0]


def _setitem_outcome(lib, program):
    ns = {"torch": lib}
    try:
        exec(program, ns)  # noqa: S102  (the same program in both libraries)
    except RuntimeError as e:
        return f"RuntimeError: {e}"
    return [ns[k].tolist() for k in ("x", "y") if k in ns]


@pytest.mark.parametrize(
    "program",
    [
        # the value's leading size-1 dims go before it is expanded (PyTorch's copy_to), so
        # its strides differ from the target's: a partial overlap
        "y = torch.eye(1, 1); x = y.unsqueeze(0); x[:] = y",
        "y = torch.eye(1, 1); x = y.unsqueeze(0); x[...] = y",
        "y = torch.eye(1, 1); x = y.unsqueeze(0); x.copy_(y)",
        # equal sizes copy directly: the same strides, a full overlap, allowed
        "y = torch.eye(1, 1); x = y.unsqueeze(0); x[0] = y",
        "y = torch.eye(1, 1); x = y.unsqueeze(0); x.copy_(y.expand(1, 1, 1))",
        "x = torch.arange(4.0).view(2, 2); x[:] = x",
        # an expanded target: only the addressed memory is written
        "x = torch.broadcast_to(torch.tensor(False), (2, 2)); x[0, 0] = -1",
        "x = torch.zeros(3, 1).expand(3, 4); x[:, 1] = torch.tensor([1.0, 2, 3])",
        "x = torch.zeros(3, 1).expand(3, 4); x[1] = 7",
        "y = torch.zeros(4, 3, dtype=torch.bool); x = y.unfold(0, 2, 1); x[::2] = torch.tensor(True)",
        "y = torch.zeros(5, 2); x = y.unfold(0, 3, 1); x[1] = 2.5",
        "x = torch.zeros(3, 1).expand(3, 4); x[0] = torch.arange(4.0)",
        "x = torch.tensor([[5], [-1], [-3]]).broadcast_to((2, 3, 4)); x[x.new_ones(2, 3, 4).bool()] = 9",
    ],
)
def test_setitem_overlap_as_torch(program):
    torch = pytest.importorskip("torch")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's deprecation of index_put_ on expanded
        assert _setitem_outcome(rg, program) == _setitem_outcome(torch, program)


def test_fill_without_recording_writes_in_place_as_torch():
    # (no grad recorded: straight into memory; large enough for the pool's chunks)
    torch = _torch()

    def run(lib):
        n = 300_001
        x = lib.arange(2 * n, dtype=lib.float64)
        v = x[1::2]
        before = x._version
        v.fill_(-2.5)
        bumped = x._version - before
        y = lib.zeros(5, dtype=lib.uint8)
        y[1:4].fill_(-3)  # wraps
        z = lib.zeros(3, dtype=lib.int64)
        z.fill_(2**60 + 1)  # exactly
        w = lib.ones(4, requires_grad=True) * 2
        with lib.no_grad():
            w.zero_()
        big = lib.full((n,), -0.0)
        return (
            bumped > 0,
            x[:6].tolist(),
            float(x.sum()),
            y.tolist(),
            z.tolist(),
            w.tolist(),
            w.requires_grad,
            str(big[-1].item()),
            float(lib.ones(n, dtype=lib.float64).sum()),
        )

    assert run(rg) == run(torch)


@pytest.mark.parametrize("base_grad", [False, True])
@pytest.mark.parametrize("exponent", ["scalar", "plain", "grad"])
def test_pow_in_place_reads_the_old_values_for_its_gradient(base_grad, exponent):
    # PyTorch's pow_ saves a copy of self's old values (the write must not change them);
    # rustgrad raised the version error for every gradient through pow_.
    if not base_grad and exponent != "grad":
        pytest.skip("no gradient flows")
    torch = _torch()

    def run(lib):
        x = lib.tensor([1.5, 2.0, -0.5], requires_grad=base_grad)
        a = x * 1 if base_grad else x
        e = 2.0 if exponent == "scalar" else lib.tensor([2.0, 3.0, 2.0])
        if exponent == "grad":
            e.requires_grad_()
        a.pow_(e)
        leaves = [t for t in (x, e) if isinstance(t, lib.Tensor) and t.requires_grad]
        return a.tolist(), [g.tolist() for g in lib.autograd.grad((a * a).sum(), leaves)]

    got, want = run(rg), run(torch)
    assert_close(rg.tensor(got[0]), torch.tensor(want[0]))
    for g, w in zip(got[1], want[1]):
        assert_close(rg.tensor(g), torch.tensor(w))


# In-place forms that rustgrad computes out of place and writes into ``self``: each call on
# ``b`` (a (3, 4) float64 non-leaf, values in (0, 1)); ``t(lib, values)`` makes an operand.
_T = lambda lib, v: lib.tensor(np.asarray(v))
_W = np.linspace(0.15, 0.85, 12).reshape(3, 4)
_I = np.array([[2, 0, 1, 0]])
COMPOSITE_IN_PLACE = {
    "pow_(2)": lambda lib, b: b.pow_(2),
    "pow_(0.5)": lambda lib, b: b.pow_(0.5),
    "ipow": lambda lib, b: b.__ipow__(3),
    "clamp_min_(number)": lambda lib, b: b.clamp_min_(0.5),
    "clamp_max_(number)": lambda lib, b: b.clamp_max_(0.5),
    "clamp_min_(tensor)": lambda lib, b: b.clamp_min_(_T(lib, _W[0])),
    "clamp_max_(tensor)": lambda lib, b: b.clamp_max_(_T(lib, _W)),
    "clamp_(min=tensor)": lambda lib, b: b.clamp_(min=_T(lib, _W)),
    "clip_(tensor, tensor)": lambda lib, b: b.clip_(_T(lib, _W / 2), _T(lib, _W + 0.1)),
    "cumsum_": lambda lib, b: b.cumsum_(1),
    "cumprod_": lambda lib, b: b.cumprod_(0),
    "deg2rad_": lambda lib, b: b.deg2rad_(),
    "rad2deg_": lambda lib, b: b.rad2deg_(),
    "logit_": lambda lib, b: b.logit_(0.2),
    "sinc_": lambda lib, b: b.sinc_(),
    "xlogy_(number)": lambda lib, b: b.xlogy_(2.0),
    "xlogy_(tensor)": lambda lib, b: b.xlogy_(_T(lib, _W)),
    "nan_to_num_": lambda lib, b: b.nan_to_num_(0.0, 1.0, -1.0),
    "addcmul_": lambda lib, b: b.addcmul_(_T(lib, _W), _T(lib, _W[::-1] * 2), value=0.5),
    "addcdiv_": lambda lib, b: b.addcdiv_(_T(lib, _W), _T(lib, _W + 1), value=2),
    "tril_": lambda lib, b: b.tril_(),
    "triu_": lambda lib, b: b.triu_(1),
    "scatter_(number)": lambda lib, b: b.scatter_(0, _T(lib, _I), 2.0),
    "scatter_(tensor)": lambda lib, b: b.scatter_(0, _T(lib, _I), _T(lib, _W)),
    "scatter_add_": lambda lib, b: b.scatter_add_(0, _T(lib, _I), _T(lib, _W)),
    "index_add_": lambda lib, b: b.index_add_(1, _T(lib, [3, 0]), _T(lib, _W[:, :2]), alpha=2),
    "index_copy_": lambda lib, b: b.index_copy_(1, _T(lib, [3, 0]), _T(lib, _W[:, :2])),
    "index_fill_": lambda lib, b: b.index_fill_(1, _T(lib, [3, 0]), -1.0),
    "masked_scatter_": lambda lib, b: b.masked_scatter_(_T(lib, _W > 0.5), _T(lib, _W)),
    "addmv_": lambda lib, b: b[0].clone().addmv_(_T(lib, _W[:, :4].T), _T(lib, _W[:, 0])),
    "addr_": lambda lib, b: b.addr_(_T(lib, _W[:, 0]), _T(lib, _W[0]), beta=0.5),
    "mvlgamma_": lambda lib, b: (b + 1).mvlgamma_(2),
    "F.threshold_": lambda lib, b: lib.nn.functional.threshold_(b, 0.5, -2.0),
    "F.hardswish(inplace)": lambda lib, b: lib.nn.functional.hardswish(b, inplace=True),
    "F.relu_": lambda lib, b: lib.nn.functional.relu_(b - 0.5),
    # (native in-place activations: PyTorch's nodes of the in-place forms, ...Backward1)
    "F.elu_": lambda lib, b: lib.nn.functional.elu_(b - 0.5, 0.7),
    "F.selu(inplace)": lambda lib, b: lib.nn.functional.selu(b - 0.5, inplace=True),
    "F.leaky_relu_": lambda lib, b: lib.nn.functional.leaky_relu_(b - 0.5, 0.2),
}


@pytest.mark.parametrize("call", list(COMPOSITE_IN_PLACE))
def test_composite_in_place_node_is_named_after_the_op_as_torch(call):
    """The in-place forms computed out of place are recorded by PyTorch's node for the op
    (``PowBackward0``, ``ClampMinBackward0``, ...), not ``copy_``'s ``CopyBackwards``, with
    PyTorch's values, version and gradients; none raises the version error (each composite
    reads a copy of the values it overwrites, as PyTorch's node saves them)."""
    torch = _torch()
    results = []
    for lib in (torch, rg):
        x = lib.tensor(np.linspace(0.1, 0.9, 12).reshape(3, 4), requires_grad=True)
        b = x * 1
        out = COMPOSITE_IN_PLACE[call](lib, b)
        weight = lib.tensor(np.linspace(-1.0, 2.0, out.numel()).reshape(tuple(out.shape)))
        (grad,) = lib.autograd.grad((out * weight).sum(), x)
        results.append((node_name(out.grad_fn), out._version, out.tolist(), grad.numpy()))
    (name, version, values, grad), (want_name, want_version, want_values, want_grad) = results
    assert (name, version) == (want_name, want_version)
    np.testing.assert_allclose(values, want_values, rtol=1e-12)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("in_place", [False, True])
def test_scatter_with_reduce_has_no_derivative_as_torch(in_place):
    torch = _torch()
    for lib in (torch, rg):
        x = lib.tensor([0.5, 1.5, 2.5], requires_grad=True)
        b = x * 1
        op = b.scatter_ if in_place else b.scatter
        out = op(0, lib.tensor([2, 0]), 2.0, reduce="multiply")
        assert out.tolist() == [1.0, 1.5, 5.0]
        assert node_name(out.grad_fn) == "NotImplemented"
        aten = "scatter_" if in_place else "scatter"
        with raises(RuntimeError, f"derivative for aten::{aten} is not implemented"):
            out.sum().backward()


@pytest.mark.parametrize("name", ["elu", "selu", "celu", "leaky_relu"])
def test_activation_nodes_in_place_and_not_are_torch_names(name):
    """(PyTorch's in-place ``celu_`` differentiates with ``1 / alpha`` rounded to float32, so
    its gradient is compared in ``test_ops`` at float tolerance, not here.)"""
    torch = _torch()
    names = []
    for lib in (torch, rg):
        f = getattr(lib.nn.functional, name)
        x = lib.tensor([-0.5, 0.25], requires_grad=True)
        b = x * 1
        f(b, inplace=True)
        names.append((node_name(f(x * 1).grad_fn), node_name(b.grad_fn)))
    assert names[1] == names[0]


# (a call spelled four ways, each in place or not: PyTorch records rrelu_with_noise either way)
RRELU_CALLS = {
    "F.rrelu": lambda lib, b, train: lib.nn.functional.rrelu(b, 0.1, 0.4, train),
    "F.rrelu(inplace)": lambda lib, b, train: lib.nn.functional.rrelu(b, 0.1, 0.4, train, True),
    "F.rrelu_": lambda lib, b, train: lib.nn.functional.rrelu_(b, training=train),
    "nn.RReLU(inplace)": lambda lib, b, train: lib.nn.RReLU(inplace=True).train(train)(b),
}


@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("call", list(RRELU_CALLS))
def test_rrelu_is_recorded_as_torchs_rrelu_with_noise(call, training):
    """Evaluation (a leaky_relu's values) and training alike, ``rrelu`` is PyTorch's
    ``RreluWithNoiseBackward0`` (``...Backward1`` in place), not ``LeakyReluBackward0`` or a
    multiplication's node, with its values, version, first and second derivatives (float64,
    the same draws) and the gradient's graph (``RreluWithNoiseBackwardBackward0``)."""
    torch = _torch()
    results = []
    for lib in (torch, rg):
        lib.manual_seed(5)
        x = lib.tensor([[-1.5, -0.5, 0.0], [0.5, 2.0, -3.0]], dtype=lib.float64)
        x.requires_grad_()
        y = RRELU_CALLS[call](lib, x * 1, training)
        weight = lib.tensor([[1.0, -2.0, 3.0], [0.5, 1.5, -1.0]], dtype=lib.float64)
        (g,) = lib.autograd.grad((y * y * weight).sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad((g * weight).sum(), x)
        results.append(
            (
                y.grad_fn.name(),
                y._version,
                graph_signature(g.grad_fn, 3),
                y.tolist(),
                g.tolist(),
                gg.tolist(),
            )
        )
    ours, theirs = results
    assert ours[:3] == theirs[:3]
    for a, b in zip(ours[3:], theirs[3:]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("training", [False, True])
def test_rrelu_in_place_with_a_negative_slope_refuses_backward_as_torch(training):
    """In evaluation PyTorch's in-place backward reads the result, which a negative slope
    leaves ambiguous: backward refuses it (training multiplies by the saved noise)."""
    torch = _torch()
    outcomes = []
    for lib in (torch, rg):
        lib.manual_seed(1)
        x = lib.tensor([-1.5, -0.5, 0.0, 0.5], dtype=lib.float64, requires_grad=True)
        y = lib.nn.functional.rrelu(x * 1, -0.5, -0.1, training, inplace=True)
        try:
            y.sum().backward()
            outcomes.append(x.grad.tolist())
        except RuntimeError as e:
            outcomes.append(str(e))
    assert outcomes[1] == outcomes[0]


def test_version_error_names_the_op_and_hints_as_torch():
    """PyTorch 2.13's words: the op without ``Backward0`` (``Sum1`` for ``SumBackward1``, a
    custom ``MyFn`` for ``MyFnBackward``), and the anomaly-mode hint only in anomaly mode."""
    torch = _torch()

    def error(lib, make, anomaly=False):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = make(lib, a)
        c = b * b
        with lib.no_grad():
            b.add_(1)
        with lib.autograd.set_detect_anomaly(anomaly), pytest.raises(RuntimeError) as info:
            c.sum().backward()
        return str(info.value)

    makes = {
        "mul": lambda lib, a: a * 1,
        "sum1": lambda lib, a: a.sum(0, keepdim=True),
        "view": lambda lib, a: a.view(2),
        "select": lambda lib, a: a[0],
        "mm": lambda lib, a: a.unsqueeze(0) @ a.unsqueeze(1),
        "sigmoid_double": lambda lib, a: lib.autograd.grad(
            lib.sigmoid(a).sum(), a, create_graph=True
        )[0],
    }
    for name, make in makes.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyTorch's anomaly-mode warnings
            assert error(rg, make) == error(torch, make), name
            assert error(rg, make, True) == error(torch, make, True), name
    assert "output 0 of Sum1," in error(rg, makes["sum1"])


def test_in_place_leaky_relu_with_a_negative_slope_refuses_backward_as_torch():
    torch = _torch()
    for lib in (rg, torch):
        a = lib.tensor([1.0, -2.0], requires_grad=True)
        b = a.clone()
        lib.nn.functional.leaky_relu_(b, -0.5)
        assert b.grad_fn.name() == "LeakyReluBackward1"
        with raises(RuntimeError, "In-place leakyReLu backward calculation is triggered with a negative slope"):  # fmt: skip
            b.sum().backward()
    # as do in-place ELU and CELU with a negative alpha
    for lib in (rg, torch):
        F = lib.nn.functional
        for write, inplace in ((F.elu_, False), (F.celu_, False), (F.elu, True)):
            a = lib.tensor([1.0, -2.0], requires_grad=True)
            b = a.clone()
            write(b, -0.5, **({"inplace": True} if inplace else {}))
            with raises(RuntimeError, "In-place elu backward calculation is triggered with a negative slope which is not supported. This is caused by calling in-place forward function with a negative slope, please call out-of-place version instead."):  # fmt: skip
                b.sum().backward()
    for lib in (rg, torch):
        a = lib.tensor([1.0, -2.0], requires_grad=True)
        # a slope of zero, or out of place, differentiates
        for slope, inplace in ((0.0, True), (-0.5, False)):
            c = a.clone()
            lib.nn.functional.leaky_relu(c, slope, inplace=inplace).sum().backward()
        assert a.grad.tolist() == [2.0, -0.5]


def _set(index):
    """``t[index] = 5`` as a function of ``t``."""
    return lambda t: t.__setitem__(index, 5.0)


# (how to get a view, how to write it)
_VIEW_WRITES = {
    # one of several views one call returned (PyTorch's MULTI_OUTPUT_NODE)
    "unbind_add": (lambda lib, x: (x * 1).unbind()[1], lambda t: t.add_(1)),
    "split_mul": (lambda lib, x: (x * 1).split(1)[0], lambda t: t.mul_(2)),
    "split_sizes_mul": (lambda lib, x: (x * 1).split([1, 2])[1], lambda t: t.mul_(2)),
    "split_single": (lambda lib, x: (x * 1).split(3)[0], lambda t: t.zero_()),
    "chunk_add": (lambda lib, x: (x * 1).chunk(2)[0], lambda t: t.add_(1)),
    "unbind_leaf": (lambda lib, x: x.unbind()[0], lambda t: t.add_(1)),
    "unbind_setitem_int": (lambda lib, x: (x * 1).unbind()[1], _set(0)),
    "unbind_setitem_slice": (lambda lib, x: (x * 1).unbind()[1], _set(slice(0, 2))),
    "unbind_setitem_all": (lambda lib, x: (x * 1).unbind()[1], _set(slice(None))),
    "unbind_setitem_none": (lambda lib, x: (x * 1).unbind()[1], _set(None)),
    "unbind_setitem_tensor": (lambda lib, x: (x * 1).unbind()[1], _set([0])),
    "unbind_view_of": (lambda lib, x: (x * 1).unbind()[1], lambda t: t.view(2, 2).add_(1)),
    "split_select_of": (lambda lib, x: (x * 1).split([1, 2])[1], lambda t: t[0].add_(1)),
    # allowed: no grad mode, a base without grad, a detached piece, tensor_split's slices
    "unbind_no_grad_base": (lambda lib, x: lib.ones(3, 4).unbind()[0], lambda t: t.add_(1)),
    "unbind_detached": (lambda lib, x: (x * 1).unbind()[0].detach(), lambda t: t.add_(1)),
    "tensor_split": (lambda lib, x: (x * 1).tensor_split(2)[0], lambda t: t.add_(1)),
    "unsafe_split": (lambda lib, x: (x * 1).unsafe_split(2)[0], lambda t: t.add_(1)),
    "unsafe_chunk": (lambda lib, x: (x * 1).unsafe_chunk(2, 1)[1], lambda t: t.mul_(2)),
    "unsafe_split_sizes": (
        lambda lib, x: (x * 1).unsafe_split_with_sizes([1, 2])[1],
        lambda t: t.zero_(),
    ),
    # a piece of a base without grad, written with a value that needs grad
    "split_piece_add_grad": (
        lambda lib, x: lib.ones(4).split(2)[1],
        lambda t: t.add_(_needing_grad(t)),
    ),
    "split_piece_setitem_grad": (
        lambda lib, x: lib.ones(4, 2).split(2)[1],
        lambda t: t.__setitem__(0, _needing_grad(t[0])),
    ),
    # a leaf that is itself a view (of a tensor without grad): written through a view of it
    "leaf_view_row": (lambda lib, x: _leaf_view(lib)[1], lambda t: t.mul_(2)),
    "leaf_view_transposed": (lambda lib, x: _leaf_view(lib).t(), lambda t: t.add_(1)),
    "leaf_view_itself": (lambda lib, x: _leaf_view(lib), lambda t: t.add_(1)),
}


def _needing_grad(t):
    """A tensor like ``t`` that requires grad."""
    return t.new_ones(t.shape).requires_grad_()


def _leaf_view(lib):
    """A leaf that requires grad and is a view of a tensor that does not."""
    return lib.arange(4.0).reshape(2, 2).requires_grad_()


def _row_of_result(lib, x):
    y = x * 1
    with lib.no_grad():
        return y[1]


def _no_grad(view):
    """``view(lib, x)`` taken in no_grad mode."""

    def taken(lib, x):
        with lib.no_grad():
            return view(lib, x)

    return taken


def _in_inference_mode(view):
    """``view(lib, x)`` taken in inference mode."""

    def taken(lib, x):
        with lib.inference_mode():
            return view(lib, x)

    return taken


def _no_grad_view_of(make):
    """``make(lib)[1:]``, with the slice taken in no_grad mode."""

    def taken(lib, x):
        base = make(lib)
        with lib.no_grad():
            return base[1:]

    return taken


_NO_GRAD_VIEWS = {
    # a view made in no_grad mode of a base that requires grad, written with grad mode on
    "leaf_select_add": (_no_grad(lambda lib, x: x[1]), lambda t: t.add_(1)),
    "leaf_select_setitem": (_no_grad(lambda lib, x: x[1]), _set(0)),
    "leaf_select_setitem_slice": (_no_grad(lambda lib, x: x[1]), _set(slice(0, 2))),
    "leaf_select_setitem_tensor": (_no_grad(lambda lib, x: x[1]), _set([0])),
    "result_view_add": (_row_of_result, lambda t: t.add_(1)),
    "unbind_under_no_grad": (_no_grad(lambda lib, x: x.unbind()[1]), lambda t: t.add_(1)),
    "inference_mode_select": (_in_inference_mode(lambda lib, x: x[1]), lambda t: t.add_(1)),
    "inference_mode_setitem": (_in_inference_mode(lambda lib, x: x[1]), _set(slice(0, 2))),
    # allowed: the base made under no_grad needs no grad; the first base of a leaf that is a
    # view needs none
    "no_grad_result": (_no_grad(lambda lib, x: (x * 1)[1]), lambda t: t.add_(1)),
    "no_grad_view_of_piece": (
        _no_grad_view_of(lambda lib: lib.ones(2, 2).unbind()[1]),
        lambda t: t.add_(1),
    ),
    "no_grad_view_of_leaf_view": (_no_grad_view_of(_leaf_view), lambda t: t.add_(1)),
}


@pytest.mark.parametrize("case", sorted({**_VIEW_WRITES, **_NO_GRAD_VIEWS}))
def test_in_place_writes_through_refused_views_as_torch(case):
    """PyTorch's ``handle_view_on_rebase``: writing in place, with grad mode on, one of the
    views ``unbind``/``split``/``chunk`` returned (or a view of one), or a view made in no_grad
    mode of a base that requires grad, raises its error with its words; the allowed forms
    run."""
    torch = _torch()
    view, write = {**_VIEW_WRITES, **_NO_GRAD_VIEWS}[case]

    def outcome(lib):
        x = lib.ones(3, 4, requires_grad=True)
        t = view(lib, x)
        try:
            write(t)
        except RuntimeError as e:
            return str(e)
        with lib.no_grad():
            write(view(lib, x))  # under no_grad every write runs
        return "ran"

    assert outcome(rg) == outcome(torch)


def test_results_made_by_copying_start_at_version_zero_as_torch():
    torch = _torch()
    makes = {
        "cat": lambda lib, a: lib.cat([a, a]),
        "stack": lambda lib, a: lib.stack([a, a]),
        "roll": lambda lib, a: a.roll(1, 0),
        "block_diag": lambda lib, a: lib.block_diag(a, a),
    }
    for name, make in makes.items():
        for lib in (rg, torch):
            a = lib.ones(2, 3, requires_grad=True) * 1
            assert make(lib, a)._version == 0, (name, lib.__name__)
    for lib in (rg, torch):
        x = lib.ones(3, 4, requires_grad=True)
        assert x.select(1, 0).grad_fn.name() == "SelectBackward0"
        assert lib.select(x, 0, -1).grad_fn.name() == "SelectBackward0"


def test_broadcast_matmul_operand_written_before_backward_as_torch():
    """A batched matmul saves an operand broadcast along the batch dims as the copy PyTorch's
    reshape makes: writing the operand before backward is no error and the gradient uses the
    old values; an operand that is not broadcast is saved itself (the version error)."""
    torch = _torch()
    grads = []
    for lib in (rg, torch):
        gen = np.random.default_rng(0)
        a = lib.tensor(gen.standard_normal((2, 1, 3, 4)), requires_grad=True)
        b = lib.tensor(gen.standard_normal((5, 4, 2)))
        y = a @ b
        b.fill_(1e-3)
        y.sum().backward()
        grads.append(a.grad.numpy())
        c = lib.tensor(gen.standard_normal((2, 5, 4, 2)))
        z = a.expand(2, 5, 3, 4) @ c
        c.fill_(1e-3)
        with raises(RuntimeError, "modified by an inplace operation"):
            z.sum().backward()
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


IN_PLACE_ELU_FAMILY = {
    "elu_": lambda lib, y: lib.nn.functional.elu_(y, 0.7),
    "elu_inplace": lambda lib, y: lib.nn.functional.elu(y, 1.3, inplace=True),
    "celu_": lambda lib, y: lib.nn.functional.celu_(y, 0.3),
    "selu_": lambda lib, y: lib.selu_(y),
    "leaky_relu_": lambda lib, y: lib.nn.functional.leaky_relu_(y, 0.2),
    "elu": lambda lib, y: lib.nn.functional.elu(y, 0.7),
    "celu": lambda lib, y: lib.nn.functional.celu(y, 0.3),
    "selu": lambda lib, y: lib.selu(y),
}


@pytest.mark.parametrize("call", sorted(IN_PLACE_ELU_FAMILY))
def test_elu_family_values_and_two_derivatives_as_torch(call):
    """PyTorch's in-place forms differentiate from the saved result, the out-of-place ones
    from the input; both give a second derivative of 0 at 0 (its mask is ``x < 0``), and
    CELU's backward scales by the reciprocal of a float32 alpha."""
    torch = _torch()
    results = []
    for lib in (torch, rg):
        x = lib.tensor([-1.5, -0.2, 0.0, 0.5, 2.0], dtype=lib.float64, requires_grad=True)
        y = x * 1
        y = IN_PLACE_ELU_FAMILY[call](lib, y)
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), x)
        results.append((node_name(y.grad_fn), y.detach().numpy(), g.detach().numpy(), gg.numpy()))
    assert results[1][0] == results[0][0]
    for ours, theirs in zip(results[1][1:], results[0][1:]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("call", ["elu_", "celu_", "selu_", "leaky_relu_"])
def test_in_place_activation_result_written_again_is_a_version_error_as_torch(call):
    """The in-place forms save their result: writing it again before backward is PyTorch's
    version error."""
    torch = _torch()
    results = []
    for lib in (torch, rg):
        x = lib.tensor([-1.5, 0.5, 2.0], dtype=lib.float64, requires_grad=True)
        y = x * 1
        IN_PLACE_ELU_FAMILY[call](lib, y)
        y.mul_(2)
        with pytest.raises(RuntimeError) as err:
            y.sum().backward()
        results.append(MODIFIED_MSG in str(err.value))
    assert results == [True, True]


FRESH_COMPOSITES = {
    "diag_of_a_vector": lambda lib, x, v: lib.diag(v, 1),
    "diagflat": lambda lib, x, v: lib.diagflat(v),
    "diag_embed": lambda lib, x, v: lib.diag_embed(v),
    "scatter_value": lambda lib, x, v: x.scatter(0, lib.tensor([[0, 1, 0]]), 5.0),
    "scatter_src": lambda lib, x, v: x.scatter(0, lib.tensor([[0, 1, 0]]), v[None] * 1),
    "index_copy": lambda lib, x, v: x.index_copy(1, lib.tensor([0]), v[:2, None] * 1),
    "masked_scatter": lambda lib, x, v: x.masked_scatter(x > 2, lib.zeros(6, dtype=x.dtype)),
    "index_put": lambda lib, x, v: x.index_put((lib.tensor([0]),), lib.tensor(1.0, dtype=x.dtype)),
}


@pytest.mark.parametrize("requires_grad", [False, True])
@pytest.mark.parametrize("call", sorted(FRESH_COMPOSITES))
def test_fresh_results_of_composites_start_at_version_zero_as_torch(call, requires_grad):
    """These are one kernel in PyTorch, so their results start at ``_version`` 0 even where
    rustgrad builds them by writing into a fresh tensor; gradients are unchanged."""
    torch = _torch()
    results = []
    for lib in (torch, rg):
        x = lib.arange(6, dtype=lib.float64).reshape(2, 3).requires_grad_(requires_grad)
        v = lib.arange(3, dtype=lib.float64).requires_grad_(requires_grad)
        out = FRESH_COMPOSITES[call](lib, x, v)
        grads = None
        if requires_grad:
            weight = lib.arange(out.numel(), dtype=lib.float64).reshape(tuple(out.shape))
            grads = [
                g.tolist()
                for g in lib.autograd.grad(
                    (out * weight).sum(), [x, v], allow_unused=True, materialize_grads=True
                )
            ]
        results.append(
            (out._version, node_name(out.grad_fn) if out.grad_fn else None, out.tolist(), grads)
        )
    assert results[1] == results[0]
    assert results[0][0] == 0


def _split_piece_of_a_plain_base(lib):
    base = lib.tensor([-2.1, 0.5], dtype=lib.float64)
    return base, base.split([1, 1])[1]


def _unbind_piece_of_a_result(lib):
    base = lib.ones(4, dtype=lib.float64, requires_grad=True) * 1
    return base, base.unbind()[1]


def _chunk_piece_of_a_result(lib):
    base = lib.ones(4, dtype=lib.float64, requires_grad=True) * 1
    return base, base.chunk(2)[0][:1]


STALE_VIEWS = {
    "split_piece_of_a_plain_base": _split_piece_of_a_plain_base,
    "unbind_piece_of_a_result": _unbind_piece_of_a_result,
    "view_of_a_chunk_piece": _chunk_piece_of_a_result,
}


@pytest.mark.parametrize("use", ["op", "grad_fn", "requires_grad", "no_grad_op"])
@pytest.mark.parametrize("case", sorted(STALE_VIEWS))
def test_view_read_after_its_base_was_written_as_torch(case, use):
    """PyTorch refuses to remake the history of a view that one call returned among several
    once its base (or another view of it) was written in place with grad mode on: reading its ``grad_fn`` (any op under grad mode) raises
    ``handle_view_on_rebase``'s words; ``requires_grad`` and ops under no_grad do not."""
    torch = _torch()
    results = []
    for lib in (torch, rg):
        base, view = STALE_VIEWS[case](lib)
        base.mul_(lib.tensor(2.0, dtype=lib.float64, requires_grad=True))
        try:
            if use == "op":
                got = (view * 2).tolist()
            elif use == "grad_fn":
                got = view.grad_fn is None
            elif use == "requires_grad":
                got = view.requires_grad
            else:
                with lib.no_grad():
                    got = (view * 2).tolist()
        except RuntimeError as e:
            got = str(e)
        results.append(got)
    assert results[1] == results[0]


BATCHED_OPERAND_WRITES = {
    # the expanded operand folds into one batch dim as a view: saved, version-checked
    "matrix_times_batch": ((2, 3), (2, 3, 2), "first"),
    "batch_times_single_batch": ((2, 3, 2), (1, 2, 2), "second"),
    # folding two batch dims of an expansion copies: the copy is saved, the write is free
    "two_batch_dims_broadcast": ((2, 3, 3, 2), (1, 3, 2, 2), "second"),
    "both_batch_dims_broadcast": ((2, 3, 3, 2), (1, 1, 2, 2), "second"),
}


@pytest.mark.parametrize("case", sorted(BATCHED_OPERAND_WRITES))
def test_write_to_a_batch_broadcast_matmul_operand_as_torch(case):
    """PyTorch's matmul saves the reshape of an expanded operand: a view (so a later write
    to the operand is the version error) where the batch dims fold without copying, else a
    copy (no error)."""
    torch = _torch()
    a_shape, b_shape, written = BATCHED_OPERAND_WRITES[case]

    def run(lib):
        a = lib.ones(a_shape, dtype=lib.float64, requires_grad=written == "second")
        b = lib.ones(b_shape, dtype=lib.float64, requires_grad=written == "first")
        out = a @ b
        (b if written == "second" else a).div_(2)
        leaf = a if written == "second" else b
        try:
            return lib.autograd.grad(out.sum(), leaf)[0].sum().item()
        except RuntimeError as e:
            return MODIFIED_MSG in str(e)

    assert run(rg) == run(torch)


@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_integer_piece_of_unbind_written_with_a_value_needing_grad_as_torch(dtype):
    """An integer tensor records nothing, so writing one of its ``unbind`` pieces with a
    value that needs grad is allowed, as in PyTorch."""
    torch = _torch()

    def run(lib):
        base = lib.zeros(2, 3, dtype=getattr(lib, dtype))
        piece = base.unbind(-1)[0]
        piece[::2] = lib.ones(1, requires_grad=True)
        piece.copy_(lib.ones(2, requires_grad=True))
        return base.tolist(), piece.requires_grad

    assert run(rg) == run(torch)
