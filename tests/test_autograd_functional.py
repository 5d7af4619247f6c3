"""``rustgrad.autograd.functional`` against ``torch.autograd.functional``: the same functions
and inputs through both libraries give the same values, shapes, tuple nesting and errors, and
``create_graph=True`` results are differentiable (gradcheck in float64)."""

import numpy as np
import pytest
import rustgrad as rg
from conftest import assert_close, raises
from rustgrad.autograd import functional as AF
from rustgrad.autograd import gradcheck

torch = pytest.importorskip("torch")


def _pair(rng, *shapes):
    """The same float64 values as rustgrad and as torch tensors."""
    arrays = [rng.standard_normal(s) for s in shapes]
    return [rg.tensor(a) for a in arrays], [torch.tensor(a) for a in arrays]


def assert_same_tree(ours, theirs):
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            assert_same_tree(o, t)
        return
    assert isinstance(ours, rg.Tensor)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.requires_grad == theirs.requires_grad
    assert_close(ours, theirs, rtol=1e-10, atol=1e-12)


def _ours(err):
    """PyTorch's message as rustgrad prints it (``rustgrad.Size`` outside drop-in mode)."""
    return str(err).replace("torch.Size", "rustgrad.Size")


# Functions written once, run with either library as ``lib``.
def f_exp_reducer(lib):
    return lambda x: x.exp().sum(1)


def f_two_in_two_out(lib):
    return lambda x, y: (x * y.sin(), (x @ y.t()).tanh())


def f_scalar(lib):
    return lambda x, y: (x.pow(3) * y.exp()).sum() + (x * y).sum() ** 2


def f_independent(lib):
    return lambda x, y: x * 2


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("vectorize", [False, True])
def test_jacobian_single(create_graph, vectorize):
    (x,), (tx,) = _pair(np.random.default_rng(0), (2, 3))
    ours = AF.jacobian(f_exp_reducer(rg), x, create_graph=create_graph, vectorize=vectorize)
    theirs = torch.autograd.functional.jacobian(
        f_exp_reducer(torch), tx, create_graph=create_graph, vectorize=vectorize
    )
    assert_same_tree(ours, theirs)


@pytest.mark.parametrize("create_graph", [False, True])
def test_jacobian_tuples(create_graph):
    (x, y), (tx, ty) = _pair(np.random.default_rng(1), (2, 3), (2, 3))
    ours = AF.jacobian(f_two_in_two_out(rg), (x, y), create_graph=create_graph)
    theirs = torch.autograd.functional.jacobian(
        f_two_in_two_out(torch), (tx, ty), create_graph=create_graph
    )
    assert_same_tree(ours, theirs)


def test_jacobian_of_inputs_requiring_grad_is_differentiable():
    (x,), (tx,) = _pair(np.random.default_rng(2), (3,))
    x.requires_grad_(True)
    tx.requires_grad_(True)
    j = AF.jacobian(lambda v: v.sin() * v, x, create_graph=True)
    tj = torch.autograd.functional.jacobian(lambda v: v.sin() * v, tx, create_graph=True)
    assert_same_tree(j, tj)
    (g,) = rg.autograd.grad(j.sum(), x)
    (tg,) = torch.autograd.grad(tj.sum(), tx)
    assert_close(g, tg, rtol=1e-10)


def test_jacobian_create_graph_gradcheck():
    x = rg.tensor(np.random.default_rng(3).standard_normal(3), requires_grad=True)
    assert gradcheck(
        lambda v: AF.jacobian(lambda u: (u * u.exp()).tanh(), v, create_graph=True), (x,)
    )


def test_jacobian_strict_errors_match_torch():
    (x, y), (tx, ty) = _pair(np.random.default_rng(4), (2,), (2,))
    for ours_call, theirs_call in [
        (
            lambda: AF.jacobian(f_independent(rg), (x, y), strict=True),
            lambda: torch.autograd.functional.jacobian(f_independent(torch), (tx, ty), strict=True),
        ),
        (
            lambda: AF.jacobian(lambda v: v.detach(), x, strict=True),
            lambda: torch.autograd.functional.jacobian(lambda v: v.detach(), tx, strict=True),
        ),
        (
            lambda: AF.jacobian(lambda v: v * 2, x, strict=True, create_graph=True),
            lambda: torch.autograd.functional.jacobian(
                lambda v: v * 2, tx, strict=True, create_graph=True
            ),
        ),
        (
            lambda: AF.jacobian(lambda v: v, 3.0),
            lambda: torch.autograd.functional.jacobian(lambda v: v, 3.0),
        ),
    ]:
        with pytest.raises(Exception) as expected:
            theirs_call()
        with raises(type(expected.value), _ours(expected.value)):
            ours_call()


def test_jacobian_non_strict_unused_input_gives_zeros():
    (x, y), (tx, ty) = _pair(np.random.default_rng(5), (2,), (3,))
    ours = AF.jacobian(f_independent(rg), (x, y))
    theirs = torch.autograd.functional.jacobian(f_independent(torch), (tx, ty))
    assert_same_tree(ours, theirs)


@pytest.mark.parametrize("create_graph", [False, True])
def test_hessian(create_graph):
    (x, y), (tx, ty) = _pair(np.random.default_rng(6), (2,), (2,))
    ours = AF.hessian(f_scalar(rg), (x, y), create_graph=create_graph)
    theirs = torch.autograd.functional.hessian(f_scalar(torch), (tx, ty), create_graph=create_graph)
    assert_same_tree(ours, theirs)
    one = AF.hessian(lambda v: (v.exp() * v).sum(), x)
    tone = torch.autograd.functional.hessian(lambda v: (v.exp() * v).sum(), tx)
    assert_same_tree(one, tone)


def test_hessian_errors_match_torch():
    (x,), (tx,) = _pair(np.random.default_rng(7), (2,))
    for fn in [lambda v: v * v, lambda v: ((v * v).sum(), v.sum())]:
        with pytest.raises(Exception) as expected:
            torch.autograd.functional.hessian(fn, tx)
        with raises(type(expected.value), _ours(expected.value)):
            AF.hessian(fn, x)
    with pytest.raises(Exception) as expected:
        torch.autograd.functional.hessian(lambda v: (v * 2).sum(), tx, strict=True)
    with raises(type(expected.value), _ours(expected.value)):
        AF.hessian(lambda v: (v * 2).sum(), x, strict=True)


@pytest.mark.parametrize("name", ["vjp", "jvp"])
@pytest.mark.parametrize("create_graph", [False, True])
def test_vjp_jvp(name, create_graph):
    rng = np.random.default_rng(8)
    (x, y), (tx, ty) = _pair(rng, (2, 3), (2, 3))
    # vjp's v is shaped like the outputs, jvp's like the inputs.
    (v1, v2), (tv1, tv2) = _pair(rng, (2, 3), (2, 2))
    if name == "jvp":
        (v1, v2), (tv1, tv2) = _pair(rng, (2, 3), (2, 3))
    ours = getattr(AF, name)(f_two_in_two_out(rg), (x, y), (v1, v2), create_graph=create_graph)
    theirs = getattr(torch.autograd.functional, name)(
        f_two_in_two_out(torch), (tx, ty), (tv1, tv2), create_graph=create_graph
    )
    assert_same_tree(ours, theirs)


@pytest.mark.parametrize("name", ["vhp", "hvp"])
@pytest.mark.parametrize("create_graph", [False, True])
def test_vhp_hvp(name, create_graph):
    rng = np.random.default_rng(9)
    (x, y, v1, v2), (tx, ty, tv1, tv2) = _pair(rng, (3,), (3,), (3,), (3,))
    ours = getattr(AF, name)(f_scalar(rg), (x, y), (v1, v2), create_graph=create_graph)
    theirs = getattr(torch.autograd.functional, name)(
        f_scalar(torch), (tx, ty), (tv1, tv2), create_graph=create_graph
    )
    assert_same_tree(ours, theirs)


def test_vector_product_defaults_and_errors_match_torch():
    rng = np.random.default_rng(10)
    (s, x, v), (ts, _, _) = _pair(rng, (1,), (3,), (2,))
    # v may be left out for a one-element input/output.
    assert_same_tree(
        AF.vjp(lambda a: a.exp().sum(), s),
        torch.autograd.functional.vjp(lambda a: a.exp().sum(), ts),
    )
    assert_same_tree(
        AF.jvp(lambda a: a.exp(), s), torch.autograd.functional.jvp(lambda a: a.exp(), ts)
    )
    cases = [
        ("vjp", lambda a: a.exp(), (x,), {}),
        ("vjp", lambda a: a.exp(), (x, v), {}),
        ("jvp", lambda a: a.exp(), (x,), {}),
        ("jvp", lambda a: a.exp(), (x, (v, v)), {}),
        ("hvp", lambda a: a.exp(), (x, x), {}),
        ("vhp", lambda a: (a.exp().sum(), a), (x, x), {}),
        ("vjp", lambda a: a * 2, (x, x), {"strict": True, "create_graph": True}),
        ("jvp", lambda a: a.detach(), (x, x), {"strict": True}),
    ]
    for name, fn, args, kw in cases:
        targs = tuple(
            tuple(torch.tensor(t.numpy()) for t in a)
            if isinstance(a, tuple)
            else torch.tensor(a.numpy())
            for a in args
        )
        with pytest.raises(Exception) as expected:
            getattr(torch.autograd.functional, name)(fn, *targs, **kw)
        with raises(type(expected.value), _ours(expected.value)):
            getattr(AF, name)(fn, *args, **kw)


def test_hvp_create_graph_gradcheck():
    rng = np.random.default_rng(11)
    x = rg.tensor(rng.standard_normal(3), requires_grad=True)
    v = rg.tensor(rng.standard_normal(3), requires_grad=True)
    assert gradcheck(
        lambda a, b: AF.hvp(lambda u: (u.sin() * u).sum(), a, b, create_graph=True)[1], (x, v)
    )
    assert gradcheck(lambda a, b: AF.jvp(lambda u: u.exp() * u, a, b, create_graph=True)[1], (x, v))
