"""``rustgrad.linalg`` and the matrix functions beside it: values and gradients against PyTorch,
gradients against finite differences (gradcheck and gradgradcheck in float64), PyTorch's errors."""

import math

import numpy as np
import pytest
import rustgrad as rg
from conftest import assert_close
from rustgrad.autograd import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")


def _well_conditioned(rng, *shape):
    """Matrices dominated by a positive diagonal: invertible, positive determinant."""
    n = shape[-1]
    return rng.standard_normal(shape) + 3 * np.eye(n)


def _spd(rng, *shape):
    a = rng.standard_normal(shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def _sym(x):
    return (x + x.transpose(-2, -1)) / 2


def _svd_product(L, A):
    """U diag(S^2) Vh: independent of the signs LAPACK gives the singular vectors."""
    u, s, vh = L.linalg.svd(A, full_matrices=False)
    return u @ L.diag_embed(s.pow(2)) @ vh


def _svd_squares(L, A):
    u, s, vh = L.linalg.svd(A, full_matrices=False)
    return (u * u).sum(0) + (vh * vh * s.unsqueeze(-1)).sum(-1)


# Each case: name, function of (lib, *inputs) -> tensor or tuple, input maker.
CASES = [
    ("inv", lambda L, A: L.linalg.inv(A), lambda r: [_well_conditioned(r, 3, 3)]),
    ("inv_batch", lambda L, A: L.linalg.inv(A), lambda r: [_well_conditioned(r, 2, 3, 3)]),
    ("det", lambda L, A: L.linalg.det(A), lambda r: [r.standard_normal((2, 3, 3))]),
    ("slogdet", lambda L, A: L.linalg.slogdet(A)[1], lambda r: [r.standard_normal((3, 3))]),
    ("logdet", lambda L, A: L.logdet(A), lambda r: [_well_conditioned(r, 4, 4)]),
    (
        "solve",
        lambda L, A, B: L.linalg.solve(A, B),
        lambda r: [_well_conditioned(r, 3, 3), r.standard_normal((3, 2))],
    ),
    (
        "solve_vec_batch",
        lambda L, A, B: L.linalg.solve(A, B),
        lambda r: [_well_conditioned(r, 2, 3, 3), r.standard_normal((2, 3))],
    ),
    (
        "solve_right",
        lambda L, A, B: L.linalg.solve(A, B, left=False),
        lambda r: [_well_conditioned(r, 3, 3), r.standard_normal((2, 3))],
    ),
    (
        "solve_bcast",
        lambda L, A, B: L.linalg.solve(A, B),
        lambda r: [_well_conditioned(r, 3, 3), r.standard_normal((2, 3, 1))],
    ),
    (
        "solve_triangular",
        lambda L, A, B: L.linalg.solve_triangular(A, B, upper=True),
        lambda r: [_well_conditioned(r, 3, 3), r.standard_normal((3, 2))],
    ),
    ("cholesky", lambda L, A: L.linalg.cholesky(_sym(A)), lambda r: [_spd(r, 3, 3)]),
    (
        "cholesky_upper",
        lambda L, A: L.linalg.cholesky(_sym(A), upper=True),
        lambda r: [_spd(r, 2, 3, 3)],
    ),
    ("qr_r", lambda L, A: L.linalg.qr(A).R.abs(), lambda r: [r.standard_normal((4, 3))]),
    (
        "qr_q",
        lambda L, A: L.linalg.qr(A).Q * L.linalg.qr(A).R.diagonal(0, -2, -1).sign().unsqueeze(-2),
        lambda r: [r.standard_normal((4, 3))],
    ),
    ("eigvalsh", lambda L, A: L.linalg.eigvalsh(_sym(A)), lambda r: [r.standard_normal((3, 3))]),
    (
        "eigh_vectors",
        lambda L, A: L.linalg.eigh(_sym(A)).eigenvectors.pow(2),
        lambda r: [r.standard_normal((3, 3))],
    ),
    ("svdvals", lambda L, A: L.linalg.svdvals(A), lambda r: [r.standard_normal((4, 3))]),
    ("svd_uv", lambda L, A: _svd_product(L, A), lambda r: [r.standard_normal((4, 3))]),
    ("svd_uv_wide", lambda L, A: _svd_squares(L, A), lambda r: [r.standard_normal((2, 4))]),
    ("pinv", lambda L, A: L.linalg.pinv(A), lambda r: [r.standard_normal((4, 3))]),
    (
        "matrix_norm_fro",
        lambda L, A: L.linalg.matrix_norm(A),
        lambda r: [r.standard_normal((2, 3, 4))],
    ),
    (
        "matrix_norm_nuc",
        lambda L, A: L.linalg.matrix_norm(A, "nuc"),
        lambda r: [r.standard_normal((3, 4))],
    ),
    (
        "matrix_norm_2",
        lambda L, A: L.linalg.matrix_norm(A, 2, keepdim=True),
        lambda r: [r.standard_normal((3, 4))],
    ),
    (
        "matrix_norm_1",
        lambda L, A: L.linalg.matrix_norm(A, 1),
        lambda r: [r.standard_normal((2, 3, 4))],
    ),
    (
        "matrix_norm_inf",
        lambda L, A: L.linalg.matrix_norm(A, float("-inf"), dim=(0, 2)),
        lambda r: [r.standard_normal((2, 3, 4))],
    ),
    ("norm_vec", lambda L, A: L.linalg.norm(A, dim=1), lambda r: [r.standard_normal((2, 3))]),
    ("norm_all", lambda L, A: L.linalg.norm(A), lambda r: [r.standard_normal((2, 3, 2))]),
    (
        "vector_norm_3",
        lambda L, A: L.linalg.vector_norm(A, 3, dim=(0, 1)),
        lambda r: [r.standard_normal((2, 3, 2))],
    ),
    ("cond", lambda L, A: L.linalg.cond(A), lambda r: [r.standard_normal((3, 3))]),
    (
        "cross",
        lambda L, a, b: L.linalg.cross(a, b),
        lambda r: [r.standard_normal((2, 3)), r.standard_normal((1, 3))],
    ),
    (
        "cross_dim",
        lambda L, a, b: L.cross(a, b, dim=0),
        lambda r: [r.standard_normal((3, 2)), r.standard_normal((3, 2))],
    ),
    (
        "vecdot",
        lambda L, a, b: L.linalg.vecdot(a, b),
        lambda r: [r.standard_normal((2, 3)), r.standard_normal((3,))],
    ),
    (
        "multi_dot",
        lambda L, a, b, c: L.linalg.multi_dot([a, b, c]),
        lambda r: [r.standard_normal((2, 3)), r.standard_normal((3, 4)), r.standard_normal((4,))],
    ),
    (
        "matrix_power_3",
        lambda L, A: L.linalg.matrix_power(A, 3),
        lambda r: [r.standard_normal((2, 3, 3))],
    ),
    (
        "matrix_power_neg",
        lambda L, A: L.matrix_power(A, -2),
        lambda r: [_well_conditioned(r, 3, 3)],
    ),
    ("inverse", lambda L, A: L.inverse(A), lambda r: [_well_conditioned(r, 3, 3)]),
]


@pytest.mark.parametrize("name,fn,make", CASES, ids=[c[0] for c in CASES])
def test_against_torch_and_finite_differences(name, fn, make):
    rng = np.random.default_rng(len(name))
    arrays = make(rng)
    ours = [rg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, ref = fn(rg, *ours), fn(torch, *theirs)
    assert tuple(out.shape) == tuple(ref.shape)
    assert_close(out, ref.detach(), rtol=1e-9, atol=1e-10)
    w = rng.standard_normal(tuple(ref.shape))
    (out * rg.tensor(w)).sum().backward()
    (ref * torch.tensor(w)).sum().backward()
    for a, b in zip(ours, theirs):
        assert_close(a.grad, b.grad, rtol=1e-7, atol=1e-9)
    inputs = tuple(rg.tensor(a, requires_grad=True) for a in arrays)
    assert gradcheck(lambda *xs: fn(rg, *xs), inputs)
    if name not in ("pinv", "cond", "svd_uv_wide"):  # (kept to first order: slow, not exotic)
        assert gradgradcheck(lambda *xs: fn(rg, *xs), inputs)


def test_float32_and_batches_of_none():
    a = np.random.default_rng(0).standard_normal((3, 3)).astype(np.float32) + 3 * np.eye(
        3, dtype=np.float32
    )
    assert rg.linalg.inv(rg.tensor(a)).dtype == rg.float32
    assert_close(
        rg.linalg.inv(rg.tensor(a)), torch.linalg.inv(torch.tensor(a)), rtol=1e-5, atol=1e-6
    )
    assert tuple(rg.linalg.inv(rg.zeros(0, 3, 3)).shape) == (0, 3, 3)
    assert rg.linalg.det(rg.zeros(2, 0, 0)).tolist() == [1.0, 1.0]


def test_det_gradient_at_a_singular_matrix():
    # The cofactor matrix (PyTorch 2.13 returns zeros here; finite differences agree with us).
    a = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
    x = rg.tensor(a, requires_grad=True)
    rg.linalg.det(x).backward()
    assert x.grad.tolist() == [[4.0, 4.0, -4.0], [-2.0, -2.0, 2.0], [0.0, 0.0, 0.0]]
    assert gradcheck(rg.linalg.det, (rg.tensor(a, requires_grad=True),))
    assert gradgradcheck(rg.linalg.det, (rg.tensor(a, requires_grad=True),))


def test_named_results_and_errors():
    a = np.random.default_rng(1).standard_normal((3, 3))
    s = rg.linalg.slogdet(rg.tensor(a))
    assert s._fields == ("sign", "logabsdet") and "linalg_slogdet(" in repr(s)
    assert rg.linalg.svd(rg.tensor(a))._fields == ("U", "S", "Vh")
    assert rg.linalg.eigh(rg.tensor(a))._fields == ("eigenvalues", "eigenvectors")
    sing = rg.tensor([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(torch.linalg.LinAlgError) as ref:
        torch.linalg.inv(torch.tensor([[1.0, 2.0], [2.0, 4.0]]))
    with pytest.raises(rg.linalg.LinAlgError) as err:
        rg.linalg.inv(sing)
    assert str(err.value) == str(ref.value)
    assert isinstance(err.value, RuntimeError)
    inv_ex = rg.linalg.inv_ex(sing)
    assert (
        inv_ex.info.item()
        == torch.linalg.inv_ex(torch.tensor([[1.0, 2.0], [2.0, 4.0]])).info.item()
    )
    with pytest.raises(
        RuntimeError, match="Expected a floating point or complex tensor as input. Got Long"
    ):
        rg.linalg.inv(rg.tensor([[1, 2], [3, 4]]))
    with pytest.raises(
        RuntimeError, match="A must be batches of square matrices, but they are 2 by 3 matrices"
    ):
        rg.linalg.det(rg.zeros(2, 3))
    with pytest.raises(RuntimeError, match="must have length 3. Got 2 and 2"):
        rg.linalg.cross(rg.zeros(2), rg.zeros(2))
    not_pd = np.array([[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(torch.linalg.LinAlgError) as ref:
        torch.linalg.cholesky(torch.tensor(not_pd))
    with pytest.raises(rg.linalg.LinAlgError) as err:
        rg.linalg.cholesky(rg.tensor(not_pd))
    assert str(err.value) == str(ref.value)


def test_torch_cross_default_dim_warns_as_torch():
    a = np.random.default_rng(2).standard_normal((3, 3))
    with pytest.warns(UserWarning, match="without specifying the dim arg is deprecated"):
        ours = rg.cross(rg.tensor(a), rg.tensor(a[::-1].copy()))
    with pytest.warns(UserWarning):
        ref = torch.cross(torch.tensor(a), torch.tensor(a[::-1].copy()))
    assert_close(ours, ref, rtol=1e-12, atol=0)


def test_float_predicates_and_helpers():
    v = [1.0, float("nan"), float("inf"), -float("inf"), 0.0]
    for name in ("isnan", "isinf", "isfinite"):
        assert (
            getattr(rg, name)(rg.tensor(v)).tolist()
            == getattr(torch, name)(torch.tensor(v)).tolist()
        )
        assert (
            getattr(rg.tensor([1, 2]), name)().tolist()
            == getattr(torch.tensor([1, 2]), name)().tolist()
        )
    assert rg.nan_to_num(rg.tensor(v)).tolist() == torch.nan_to_num(torch.tensor(v)).tolist()
    assert rg.nan_to_num(rg.tensor(v), 1.0, 2.0, -3.0).tolist() == [1.0, 1.0, 2.0, -3.0, 0.0]
    assert rg.broadcast_shapes((3, 1), (1, 4), (4,)) == torch.broadcast_shapes((3, 1), (1, 4), (4,))
    with pytest.raises(RuntimeError) as ref:
        torch.broadcast_shapes((3, 2), (4,))
    with pytest.raises(RuntimeError) as err:
        rg.broadcast_shapes((3, 2), (4,))
    assert str(err.value) == str(ref.value)
    for indexing in ("ij", "xy"):
        ours = rg.meshgrid(rg.arange(2), rg.arange(3), rg.arange(4), indexing=indexing)
        ref = torch.meshgrid(torch.arange(2), torch.arange(3), torch.arange(4), indexing=indexing)
        assert [o.tolist() for o in ours] == [r.tolist() for r in ref]
    x = rg.arange(6.0).reshape(2, 3)
    assert x.mT.tolist() == x.H.tolist() == x.T.tolist()
    assert rg.ones(2, 3, 4).mH.shape == (2, 4, 3)
    assert rg.select(x, 1, -1).tolist() == [2.0, 5.0]
    assert rg.diag_embed(x).tolist() == torch.diag_embed(torch.arange(6.0).reshape(2, 3)).tolist()


def test_diag_embed_keeps_an_inf_on_its_diagonal():
    """The diagonal is written into zeros: an inf stays alone (a product with an identity
    made NaN beside it), and the gradient reads the diagonal back."""
    for lib in (torch, rg):
        x = lib.tensor([1.0, math.inf, 2.0], requires_grad=True)
        y = lib.diag_embed(x, 1)
        g = lib.ones(4, 4)
        g[1, 0] = math.inf
        y.backward(g)
        assert y.grad_fn.name() == "DiagEmbedBackward0"
        assert not y.isnan().any() and x.grad.tolist() == [1.0, 1.0, 1.0]


def test_addcmul_addcdiv_in_place_as_an_optimizer_uses_them():
    rng = np.random.default_rng(3)
    a, b, c = (rng.standard_normal(4) for _ in range(3))
    ours, ref = rg.tensor(a), torch.tensor(a)
    ours.mul_(0.9).addcmul_(rg.tensor(b), rg.tensor(c), value=0.1)
    ref.mul_(0.9).addcmul_(torch.tensor(b), torch.tensor(c), value=0.1)
    ours.addcdiv_(rg.tensor(b), rg.tensor(c).abs() + 1, value=-0.5)
    ref.addcdiv_(torch.tensor(b), torch.tensor(c).abs() + 1, value=-0.5)
    assert_close(ours, ref, rtol=1e-12, atol=0)


@pytest.mark.parametrize("values,p", [([0.0, 0.0, 0.0], 3), ([3.0, 0.0], 0.5), ([1.0, -2.0, 0.0], 3), ([1.0, 2.0], -1), ([0.0, 2.0], 1.5)])  # fmt: skip
def test_p_norm_gradients_at_zero_are_pytorchs(values, p):
    """A p-norm's gradient is 0 (not NaN) at a zero vector and, for p < 1, at zero
    elements, as PyTorch's; values are unchanged."""
    torch = pytest.importorskip("torch")
    results = []
    for lib in (rg, torch):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        n = x.norm(p)
        n.backward()
        results.append((n.item(), x.grad.tolist()))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-14)
    assert results[0][1] == pytest.approx(results[1][1], rel=1e-12)


@pytest.mark.parametrize(
    "shapes",
    [
        [(2, 3), (3, 4), (4, 2)],
        [(5,), (5, 3), (3, 7), (7, 2)],
        [(2, 3), (3, 4), (4, 5), (5, 6), (6, 1)],
        [(3,), (3, 4), (4,)],
    ],
)
def test_multi_dot_multiplies_in_torchs_order(shapes):
    # the order decides the roundings and which operands are saved
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal(s) for s in shapes]
    outcomes = []
    for lib in (rg, torch):
        ts = [lib.tensor(a) for a in arrays]
        ts[-1].requires_grad_()
        out = lib.linalg.multi_dot(ts)
        ts[1].mul_(2)  # (saved only where a product with it needs it)
        try:
            out.sum().backward()
            outcomes.append(("ok", out.detach().numpy()))
        except RuntimeError as e:
            outcomes.append((str(e)[:60], out.detach().numpy()))
    assert outcomes[0][0] == outcomes[1][0]
    np.testing.assert_allclose(outcomes[0][1], outcomes[1][1], rtol=1e-12)


@pytest.mark.parametrize("shape", [(0, 0), (2, 0, 0), (0, 3), (3, 0), (2, 3, 0), (0, 2, 2)])
@pytest.mark.parametrize("ord", [2, -2, "nuc", "fro", 1, -1, math.inf, -math.inf])
def test_matrix_norm_of_empty_matrices_as_torch(shape, ord):
    # the largest of nothing is 0 (norms are never negative); the smallest is PyTorch's error
    from conftest import outcome

    def run(lib):
        r = lib.linalg.matrix_norm(lib.zeros(shape), ord=ord)
        return list(r.shape), r.tolist()

    assert outcome(run, rg) == outcome(run, torch)
