"""``rustgrad.func`` against ``torch.func``: the same functions through both libraries give
the same values, shapes, nesting and errors; composed transforms and results of inputs that
require grad are differentiable (gradcheck in float64)."""

import numpy as np
import pytest
import rustgrad as rg
from conftest import assert_close, raises
from rustgrad.autograd import gradcheck

torch = pytest.importorskip("torch")


def _pair(rng, *shapes):
    arrays = [rng.standard_normal(s) for s in shapes]
    return [rg.tensor(a) for a in arrays], [torch.tensor(a) for a in arrays]


def same(ours, theirs, rtol=1e-10):
    if isinstance(theirs, (tuple, list)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            same(o, t, rtol)
        return
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and list(ours) == list(theirs)
        for k in theirs:
            same(ours[k], theirs[k], rtol)
        return
    assert isinstance(ours, rg.Tensor), type(ours)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.requires_grad == theirs.requires_grad
    assert_close(ours, theirs, rtol=rtol, atol=1e-12)


def both_error(call):
    """``call(lib)`` raises the same type and message with both libraries."""
    with pytest.raises(Exception) as expected:
        call(torch)
    with raises(type(expected.value), str(expected.value).replace("torch.Size", "rustgrad.Size")):
        call(rg)


def f_loss(x, y):
    return (x.sin() * y).sum() + (x @ y.t()).tanh().sum()


def test_grad_and_value_argnums_has_aux():
    (x, y), (tx, ty) = _pair(np.random.default_rng(0), (2, 3), (2, 3))
    same(rg.func.grad(f_loss)(x, y), torch.func.grad(f_loss)(tx, ty))
    same(rg.func.grad(f_loss, argnums=1)(x, y), torch.func.grad(f_loss, argnums=1)(tx, ty))
    same(
        rg.func.grad(f_loss, argnums=(0, 1))(x, y),
        torch.func.grad(f_loss, argnums=(0, 1))(tx, ty),
    )
    same(
        rg.func.grad_and_value(f_loss, argnums=-1)(x, y),
        torch.func.grad_and_value(f_loss, argnums=-1)(tx, ty),
    )

    def with_aux(x, y):
        out = f_loss(x, y)
        return out, {"twice": out * 2, "x": x}

    g, aux = rg.func.grad(with_aux, has_aux=True)(x, y)
    tg, taux = torch.func.grad(with_aux, has_aux=True)(tx, ty)
    same((g, aux), (tg, taux))
    same(
        rg.func.grad_and_value(with_aux, has_aux=True)(x, y),
        torch.func.grad_and_value(with_aux, has_aux=True)(tx, ty),
    )


def test_grad_over_a_dict_of_parameters():
    rng = np.random.default_rng(1)
    (w, b, x), (tw, tb, tx) = _pair(rng, (3, 2), (2,), (4, 3))

    def loss(params, x):
        return ((x @ params["w"] + params["b"]).tanh() ** 2).mean()

    same(rg.func.grad(loss)({"w": w, "b": b}, x), torch.func.grad(loss)({"w": tw, "b": tb}, tx))


def test_grad_errors_match_torch():
    cases = [
        lambda lib, x: lib.func.grad(lambda v: v)(x),
        lambda lib, x: lib.func.grad(lambda v: 3)(x),
        lambda lib, x: lib.func.grad(lambda v: (v.sum(),))(x),
        lambda lib, x: lib.func.grad(lambda v: v.sum(), has_aux=True)(x),
        lambda lib, x: lib.func.grad(lambda v: v.sum(), argnums=3)(x),
        lambda lib, x: lib.func.grad(lambda v: v.sum(), argnums=-2)(x),
        lambda lib, x: lib.func.grad(lambda v, w: v.sum(), argnums=(0, 0))(x, x),
    ]
    for case in cases:
        both_error(lambda lib, case=case: case(lib, lib.ones(3)))


def test_nested_grad_and_hessian():
    (x,), (tx,) = _pair(np.random.default_rng(2), (3,))

    def f(v):
        return (v.exp() * v.sin()).sum()

    # Second derivative of a scalar function of a scalar, by nesting grad.
    s, ts = rg.tensor(0.7, dtype=rg.float64), torch.tensor(0.7, dtype=torch.float64)
    g2 = rg.func.grad(rg.func.grad(lambda v: v.exp() * v.sin()))
    tg2 = torch.func.grad(torch.func.grad(lambda v: v.exp() * v.sin()))
    same(g2(s), tg2(ts))
    same(rg.func.hessian(f)(x), torch.func.hessian(f)(tx))
    (y,), (ty,) = _pair(np.random.default_rng(3), (3,))
    same(
        rg.func.hessian(lambda a, b: (a * b.exp()).sum() * a.sum(), argnums=(0, 1))(x, y),
        torch.func.hessian(lambda a, b: (a * b.exp()).sum() * a.sum(), argnums=(0, 1))(tx, ty),
    )


def test_nested_transform_over_a_captured_input():
    # The inner grad's argument does not require grad; it closes over the outer one.
    def inner_of(lib, v, y0):
        return (lib.func.grad(lambda y: (v * y.sin() * y).sum())(y0) ** 2).sum()

    (x, y), (tx, ty) = _pair(np.random.default_rng(10), (3,), (3,))
    same(
        rg.func.grad(lambda v: inner_of(rg, v, y))(x),
        torch.func.grad(lambda v: inner_of(torch, v, ty))(tx),
    )


def test_results_differentiable_when_inputs_require_grad():
    (x,), (tx,) = _pair(np.random.default_rng(4), (3,))
    x.requires_grad_(True)
    tx.requires_grad_(True)
    g = rg.func.grad(lambda v: (v.sin() * v).sum())(x)
    tg = torch.func.grad(lambda v: (v.sin() * v).sum())(tx)
    same(g, tg)
    same(rg.autograd.grad(g.sum(), x), torch.autograd.grad(tg.sum(), tx))
    assert gradcheck(lambda v: rg.func.grad(lambda u: (u.exp() * u).sum())(v), (x,))
    assert gradcheck(lambda v: rg.func.jacrev(lambda u: u.sin() * u.sum())(v), (x,))


@pytest.mark.parametrize("has_aux", [False, True])
def test_vjp(has_aux):
    rng = np.random.default_rng(5)
    (x, y, c1, c2), (tx, ty, tc1, tc2) = _pair(rng, (2, 3), (2, 3), (2, 3), (2, 2))

    def f(a, b):
        out = (a * b.sin(), (a @ b.t()).exp())
        return (out, a.sum()) if has_aux else out

    ours = rg.func.vjp(f, x, y, has_aux=has_aux)
    theirs = torch.func.vjp(f, tx, ty, has_aux=has_aux)
    same(ours[0], theirs[0])
    same(ours[1]((c1, c2)), theirs[1]((tc1, tc2)))
    same(ours[1]((c2.sum() * c1, c2)), theirs[1]((tc2.sum() * tc1, tc2)))  # called twice
    if has_aux:
        same(ours[2], theirs[2])
    both_error(lambda lib: lib.func.vjp(lambda a: a * 2, lib.ones(3))[1](lib.ones(2)))


@pytest.mark.parametrize("has_aux", [False, True])
def test_jvp(has_aux):
    rng = np.random.default_rng(6)
    (x, y, u, v), (tx, ty, tu, tv) = _pair(rng, (2, 3), (2, 3), (2, 3), (2, 3))

    def f(a, b):
        out = (a * b.sin(), (a @ b.t()).exp(), a.sum() * 0 + 1)
        return (out, b) if has_aux else out

    same(
        rg.func.jvp(f, (x, y), (u, v), has_aux=has_aux),
        torch.func.jvp(f, (tx, ty), (tu, tv), has_aux=has_aux),
    )
    both_error(lambda lib: lib.func.jvp(lambda a: a, lib.ones(3), lib.ones(3)))
    both_error(lambda lib: lib.func.jvp(lambda a: a, (lib.ones(3),), (lib.ones(2),)))


@pytest.mark.parametrize("name", ["jacrev", "jacfwd"])
def test_jacobians(name):
    rng = np.random.default_rng(7)
    (x, y), (tx, ty) = _pair(rng, (2, 3), (3,))

    def f(a, b):
        return (a * b).exp(), (a @ b).sin()

    ours, theirs = getattr(rg.func, name), getattr(torch.func, name)
    same(ours(f)(x, y), theirs(f)(tx, ty))
    same(ours(f, argnums=(0, 1))(x, y), theirs(f, argnums=(0, 1))(tx, ty))
    same(
        ours(lambda a: (a.sum(1), a), has_aux=True)(x),
        theirs(lambda a: (a.sum(1), a), has_aux=True)(tx),
    )
    s, ts = rg.tensor(1.5, dtype=rg.float64), torch.tensor(1.5, dtype=torch.float64)
    same(ours(lambda a: a * a)(s), theirs(lambda a: a * a)(ts))


def test_vmap_matches_torch():
    rng = np.random.default_rng(8)
    (x, y, w), (tx, ty, tw) = _pair(rng, (4, 3), (3, 4), (3, 2))

    def model(a, w):
        return (a @ w).tanh().softmax(0)

    same(
        rg.func.vmap(model, in_dims=(0, None))(x, w),
        torch.func.vmap(model, in_dims=(0, None))(tx, tw),
    )
    same(
        rg.func.vmap(lambda a, b: a * b, in_dims=(0, 1))(x, y),
        torch.func.vmap(lambda a, b: a * b, in_dims=(0, 1))(tx, ty),
    )
    same(
        rg.func.vmap(lambda a: (a.sum(), a.exp()), out_dims=(0, 1))(x),
        torch.func.vmap(lambda a: (a.sum(), a.exp()), out_dims=(0, 1))(tx),
    )
    same(
        rg.func.vmap(rg.func.vmap(lambda a: a * a.sum()))(x.reshape(2, 2, 3)),
        torch.func.vmap(torch.func.vmap(lambda a: a * a.sum()))(tx.reshape(2, 2, 3)),
    )
    same(
        rg.func.vmap(lambda d: d["a"] + d["b"], in_dims=({"a": 0, "b": 1},))({"a": x, "b": y}),
        torch.func.vmap(lambda d: d["a"] + d["b"], in_dims=({"a": 0, "b": 1},))({"a": tx, "b": ty}),
    )
    # Per-sample gradients: vmap over grad.
    per = rg.func.vmap(
        rg.func.grad(lambda a, w: model(a, w).sum() ** 2, argnums=1), in_dims=(0, None)
    )
    tper = torch.func.vmap(
        torch.func.grad(lambda a, w: model(a, w).sum() ** 2, argnums=1), in_dims=(0, None)
    )
    same(per(x, w), tper(tx, tw))


def test_vmap_keeps_the_graph():
    (x,), (tx,) = _pair(np.random.default_rng(9), (4, 3))
    x.requires_grad_(True)
    tx.requires_grad_(True)
    out = rg.func.vmap(lambda a: a.exp().sum())(x)
    tout = torch.func.vmap(lambda a: a.exp().sum())(tx)
    same(out, tout)
    same(rg.autograd.grad(out.sum(), x), torch.autograd.grad(tout.sum(), tx))


def test_vmap_errors_match_torch():
    cases = [
        lambda lib: lib.func.vmap(lambda a: a)(lib.ones(2), lib.ones(3)),
        lambda lib: lib.func.vmap(lambda a, b: a + b)(lib.ones(2), lib.ones(3)),
        lambda lib: lib.func.vmap(lambda a: a, in_dims=None)(lib.ones(3)),
        lambda lib: lib.func.vmap(lambda a: a, in_dims=2)(lib.ones(3)),
        lambda lib: lib.func.vmap(lambda a: 3)(lib.ones(3)),
        lambda lib: lib.func.vmap(lambda a: a)(lib.tensor(1.0)),
        lambda lib: lib.func.vmap(lambda a: a, out_dims=3)(lib.ones(3, 1)),
    ]
    for case in cases:
        both_error(case)


def test_functional_call_swaps_parameters_for_one_call_as_pytorch():
    from rustgrad.func import functional_call

    model = rg.nn.Sequential(rg.nn.Linear(3, 2), rg.nn.BatchNorm1d(2))
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    tmodel.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in model.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    w = rg.ones(2, 3, requires_grad=True)
    tw = torch.ones(2, 3, requires_grad=True)
    before = model[0].weight
    out = functional_call(model, {"0.weight": w}, (rg.tensor(x),))
    tout = torch.func.functional_call(tmodel, {"0.weight": tw}, (torch.from_numpy(x),))
    # (float32: PyTorch's assert_close tolerances for it)
    assert_close(out, tout.detach().numpy(), rtol=1.3e-6, atol=1e-5)
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    assert_close(w.grad, tw.grad.numpy(), rtol=1.3e-6, atol=1e-5)
    assert model[0].weight is before and model[0].weight.grad is None  # restored, untouched
    # a tuple of dicts; duplicate keys and strict's missing keys raise PyTorch's errors
    functional_call(model, ({"0.weight": w}, {"0.bias": rg.zeros(2)}), rg.tensor(x))
    with raises(ValueError, "['0.weight'] appeared in multiple dictionaries"):
        functional_call(model, ({"0.weight": w}, {"0.weight": w}), rg.tensor(x))
    with pytest.raises(RuntimeError) as theirs:
        torch.func.functional_call(tmodel, {"0.weight": tw}, torch.from_numpy(x), strict=True)
    with raises(RuntimeError, str(theirs.value)):
        functional_call(model, {"0.weight": w}, rg.tensor(x), strict=True)


def test_functorch_make_functional_and_deprecated_transforms_as_pytorch():
    import warnings

    import functorch as tft
    from rustgrad import _functorch as ft

    model = rg.nn.Sequential(rg.nn.Linear(3, 2), rg.nn.BatchNorm1d(2))
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    tmodel.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in model.state_dict().items()})
    model.eval(), tmodel.eval()  # (training mode would update buffers inside the transform)
    x = np.random.default_rng(1).standard_normal((4, 3))
    with pytest.warns(FutureWarning, match="functorch.make_functional_with_buffers` is deprecated"):
        fmodel, params, buffers = ft.make_functional_with_buffers(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        tfmodel, tparams, tbuffers = tft.make_functional_with_buffers(tmodel)
        assert [tuple(p.shape) for p in params] == [tuple(p.shape) for p in tparams]
        assert len(buffers) == len(tbuffers)
        tangents = tuple(rg.tensor(np.full(tuple(p.shape), 0.5)).float() for p in params)
        ttangents = tuple(torch.full(tuple(p.shape), 0.5) for p in tparams)

        def f(ps):
            return fmodel(ps, buffers, rg.tensor(x).float())

        def tf(ps):
            return tfmodel(ps, tbuffers, torch.from_numpy(x).float())

        out, jvp_out = ft.jvp(f, (params,), (tangents,))
        tout, tjvp_out = tft.jvp(tf, (tparams,), (ttangents,))
        assert_close(out, tout.detach().numpy(), rtol=1.3e-6, atol=1e-5)
        assert_close(jvp_out, tjvp_out.detach().numpy(), rtol=1.3e-6, atol=1e-5)
        # make_functional without buffers, its params as grad's argument
        fmodel, params = ft.make_functional(model[0])
        tfmodel, tparams = tft.make_functional(tmodel[0])
        g = ft.grad(lambda ps: fmodel(ps, rg.tensor(x).float()).square().sum())(params)
        tg = tft.grad(lambda ps: tfmodel(ps, torch.from_numpy(x).float()).square().sum())(tparams)
        for ours, theirs in zip(g, tg):
            assert_close(ours, theirs.detach().numpy(), rtol=1.3e-6, atol=1e-5)
    # a deep copy: the model's own parameters are not those handed out
    assert params[0] is not model[0].weight


@pytest.mark.parametrize(
    "program",
    [
        lambda lib: lib.vmap(lambda r: r, out_dims=None)(lib.arange(6.0).reshape(2, 3)),
        lambda lib: lib.vmap(lambda r: lib.ones(2), out_dims=None)(lib.arange(6.0).reshape(2, 3)),
        lambda lib: lib.vmap(lambda r: r * 2)(lib.zeros(0, 3)),
        lambda lib: lib.vmap(lambda r: (r * 2, r.sum()))(lib.zeros(0, 3)),
        lambda lib: lib.vmap(lambda r: r.sum(), in_dims=1)(lib.zeros(3, 0)),
    ],
)
def test_vmap_unbatched_and_empty_outputs_as_torch(program):
    from conftest import outcome

    def run(lib):
        out = program(lib)
        outs = out if isinstance(out, tuple) else (out,)
        return [(tuple(o.shape), o.tolist()) for o in outs]

    assert outcome(run, rg) == outcome(run, torch)


@pytest.mark.parametrize("mode", ["no_grad", "inference_mode"])
def test_transforms_under_no_grad_and_inference_mode_as_torch(mode):
    def run(lib):
        with getattr(lib, mode)():
            x = lib.tensor([1.0, 2.0])
            _, tangent = lib.func.jvp(lib.sin, (x,), (lib.ones(2),))
            gradient = lib.func.grad(lambda v: v.sin().sum())(x)
        return tangent.tolist(), gradient.tolist()

    ours, theirs = run(rg), run(torch)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
