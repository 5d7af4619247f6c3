"""The reductions, scans, sorting, linear algebra, indexing and shape ops of issue 11 point 2
beyond what the OpInfo table (``tests/opinfo_ops.py``) drives: PyTorch's exception types for
bad input, NumPy's ``axis=``/``keepdims=`` keywords, named results, stable sorting of ties,
Python-valued predicates, and first and second gradients of the composites at the points
where a naive formula fails (zeros in ``prod``, ties in ``amax``, zero deviation in ``std``)."""

import numpy as np
import pytest
import rustgrad as rg

torch = pytest.importorskip("torch")


def both(fn):
    """``fn(mod)`` in rustgrad and in PyTorch: ``(ours, theirs)``, an exception standing for
    a result."""
    out = []
    for mod in (rg, torch):
        try:
            out.append(fn(mod))
        except Exception as err:  # noqa: BLE001 (compared below)
            out.append(err)
    return out


def t(mod, value, **kw):
    return mod.tensor(np.asarray(value), **kw)


ERROR_CASES = {
    "gather index too big": lambda m: t(m, [[1.0, 2.0]]).gather(1, t(m, [[2]])),
    "gather negative index": lambda m: t(m, [[1.0, 2.0]]).gather(1, t(m, [[-1]])),
    "gather float index": lambda m: t(m, [[1.0, 2.0]]).gather(1, t(m, [[0.0]])),
    "scatter index too big": lambda m: t(m, [1.0, 2.0]).scatter(0, t(m, [5]), t(m, [1.0])),
    "index_select out of range": lambda m: t(m, [1.0, 2.0]).index_select(0, t(m, [2])),
    "index_select 2-d index": lambda m: t(m, [1.0, 2.0]).index_select(0, t(m, [[0]])),
    "index_add out of range": lambda m: t(m, [1.0, 2.0]).index_add(0, t(m, [3]), t(m, [1.0])),
    "masked_fill long mask": lambda m: t(m, [1.0, 2.0]).masked_fill(t(m, [1, 0]), 0.0),
    "masked_fill 1-d value": lambda m: t(m, [1.0]).masked_fill(t(m, [True]), t(m, [1.0, 2.0])),
    "split sizes": lambda m: t(m, [1.0, 2.0, 3.0]).split([1, 1]),
    "chunk 0": lambda m: t(m, [1.0, 2.0]).chunk(0),
    "topk k too big": lambda m: t(m, [1.0, 2.0]).topk(3),
    "kthvalue k 0": lambda m: t(m, [1.0, 2.0]).kthvalue(0),
    "narrow too long": lambda m: t(m, [1.0, 2.0]).narrow(0, 1, 2),
    "narrow 0-d": lambda m: t(m, 1.0).narrow(0, 0, 1),
    "dim out of range": lambda m: t(m, [1.0, 2.0]).cumsum(2),
    "sort dim out of range": lambda m: t(m, [1.0, 2.0]).sort(dim=-2),
    "movedim repeated": lambda m: t(m, np.ones((2, 3))).movedim((0, 0), (0, 1)),
    "repeat too few sizes": lambda m: t(m, np.ones((2, 3))).repeat(2),
    "flip(x, int)": lambda m: m.flip(t(m, [1.0, 2.0]), 0),
    "tile(x, int)": lambda m: m.tile(t(m, [1.0, 2.0]), 2),
    "tril of 1-d": lambda m: t(m, [1.0, 2.0]).tril(),
    "diagonal same dims": lambda m: t(m, np.ones((2, 3))).diagonal(0, 1, 1),
    "trace of 1-d": lambda m: t(m, [1.0, 2.0]).trace(),
    "mv shapes": lambda m: m.mv(t(m, np.ones((2, 3))), t(m, np.ones(2))),
    "bmm 2-d": lambda m: m.bmm(t(m, np.ones((2, 3))), t(m, np.ones((3, 2)))),
    "amax empty dim": lambda m: t(m, np.ones((0, 3))).amax(0),
    "amax empty all": lambda m: t(m, np.ones((0, 3))).amax(),
    "var of int": lambda m: t(m, [1, 2]).var(),
    "var both corrections": lambda m: t(m, [1.0, 2.0]).var(unbiased=True, correction=1),
    "norm of int": lambda m: t(m, [1, 2]).norm(),
    "cumsum_ of bool": lambda m: t(m, [True, False]).cumsum_(0),
    "cumsum_ dtype": lambda m: t(m, [1.0, 2.0]).cumsum_(0, dtype=m.float32),
    "index_select 0-d, 2 indices": lambda m: t(m, 1.0).index_select(0, t(m, [0, 0])),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_errors_as_pytorch(case):
    ours, theirs = both(ERROR_CASES[case])
    assert isinstance(theirs, Exception), f"PyTorch accepted it: {theirs!r}"
    assert isinstance(ours, type(theirs)), f"{ours!r}, expected {theirs!r}"


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("sum", {"axis": 1, "keepdims": True}),
        ("mean", {"axis": (0, 2)}),
        ("amax", {"axis": 0, "keepdims": True}),
        ("amin", {"axis": -1}),
        ("std", {"axis": 1}),
        ("var", {"axis": 1, "keepdims": True}),
        ("prod", {"axis": 2}),
        ("logsumexp", {"axis": 0}),
        ("any", {"axis": 1}),
        ("all", {"axis": 1, "keepdims": True}),
        ("argmax", {"axis": 1}),
        ("argmin", {"axis": 0, "keepdims": True}),
    ],
)
def test_numpy_keywords(name, kwargs):
    v = np.random.default_rng(0).standard_normal((2, 3, 4))
    ours = getattr(rg.tensor(v), name)(**kwargs)
    conv = {"axis": "dim", "keepdims": "keepdim"}
    theirs = getattr(torch.tensor(v), name)(**{conv[k]: a for k, a in kwargs.items()})
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    assert tuple(ours.shape) == tuple(theirs.shape)


def test_named_results():
    x = rg.tensor([[3.0, 1.0, 2.0]])
    s = x.sort()
    assert type(s).__name__ == "sort" and s.values.tolist() == [[1.0, 2.0, 3.0]]
    assert s.indices.tolist() == [[1, 2, 0]]
    assert type(x.topk(2)).__name__ == "topk"
    assert type(x.kthvalue(1)).__name__ == "kthvalue"
    m = x.median(1)
    assert type(m).__name__ == "median" and m.values.tolist() == [2.0]
    assert x.median().ndim == 0


def test_stable_sort_of_ties_as_pytorch():
    v = np.random.default_rng(1).integers(0, 3, (4, 9))
    for descending in (False, True):
        for dim in (0, 1):
            ours = rg.tensor(v).sort(dim=dim, descending=descending, stable=True)
            theirs = torch.tensor(v).sort(dim=dim, descending=descending, stable=True)
            np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
            np.testing.assert_array_equal(
                rg.tensor(v).argsort(dim, descending, stable=True).numpy(),
                theirs.indices.numpy(),
            )


def test_sort_nan_as_largest():
    v = np.array([1.0, np.nan, -2.0, np.inf, np.nan])
    for descending in (False, True):
        ours = rg.tensor(v).sort(descending=descending, stable=True)
        theirs = torch.tensor(v).sort(descending=descending, stable=True)
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())


def test_python_valued_predicates():
    a = rg.tensor([1.0, 2.0])
    assert rg.allclose(a, a + 1e-9) is True
    assert rg.allclose(a, a + 1) is False
    assert a.equal(a.clone()) is True
    assert rg.equal(a, rg.tensor([1.0, 2.0, 3.0])) is False
    assert rg.is_tensor(a) is True
    assert rg.is_tensor([1.0]) is False
    assert rg.is_tensor(np.ones(2)) is False
    assert rg.numel(rg.ones(2, 3)) == 6


def test_dtypes_as_pytorch():
    cases = [
        lambda m: t(m, [1, 2, 3]).prod(),
        lambda m: t(m, [True, True]).prod(),
        lambda m: t(m, [True, True]).cumsum(0),
        lambda m: t(m, [1, 2]).cumprod(0),
        lambda m: t(m, [1.0, 2.0]).cumsum(0, dtype=m.float64),
        lambda m: t(m, [1, 0]).any(),
        lambda m: t(m, [1.0, 0.0]).all(0),
        lambda m: t(m, np.ones((2, 2), np.int64)).trace(),
        lambda m: t(m, [1, 2]).logsumexp(0),
        lambda m: t(m, [3, 1, 2]).sort().values,
        lambda m: t(m, [1, 2]).unique(return_counts=True)[1],
        lambda m: t(m, [1, 0]).nonzero(),
    ]
    for case in cases:
        ours, theirs = both(case)
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def _grads(fn, v, order=2):
    """First and second gradients of ``fn(x).sum()`` (weighted) at ``v``, in both libraries."""
    out = []
    for mod in (rg, torch):
        x = mod.tensor(v).requires_grad_()
        y = fn(mod, x)
        w = mod.tensor(np.linspace(0.5, 1.5, y.numel()).reshape(tuple(y.shape)))
        (g,) = mod.autograd.grad((y * w).sum(), x, create_graph=True)
        res = [g.detach().numpy()]
        if order == 2:
            # (a gradient that is constant in x has no graph in rustgrad: its derivative is 0)
            gg = mod.autograd.grad((g * g).sum(), x)[0] if g.requires_grad else None
            res.append(np.zeros(v.shape) if gg is None else gg.numpy())
        out.append(res)
    return out


@pytest.mark.parametrize(
    "name, fn, v",
    [
        ("prod with zeros", lambda m, x: x.prod(1), [[0.0, 2.0, 3.0], [0.0, 0.0, 1.5]]),
        ("cumprod with a zero", lambda m, x: x.cumprod(0), [2.0, 0.0, 3.0, -1.0]),
        ("amax ties", lambda m, x: x.amax(1), [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]),
        ("logsumexp", lambda m, x: x.logsumexp(0), [[1.0, -3.0], [1000.0, 2.0]]),
        (
            "scatter_add repeats",
            lambda m, x: m.zeros(3, dtype=m.float64).scatter_add(0, m.tensor([0, 2, 0, 0]), x),
            [1.0, 2.0, 3.0, 4.0],
        ),
        (
            "index_add",
            lambda m, x: m.ones(2, 2, dtype=m.float64).index_add(0, m.tensor([1, 1, 0]), x * x),
            [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]],
        ),
        ("einsum", lambda m, x: m.einsum("ij,jk,ki->i", x, x.t(), x), [[1.0, 2.0], [0.5, -1.0]]),
        ("norm", lambda m, x: x.norm(dim=1), [[3.0, 4.0], [1.0, -1.0]]),
        ("var", lambda m, x: x.var(0, correction=0), [[1.0, 2.0], [3.0, 5.0], [0.0, 1.0]]),
    ],
)
def test_gradients_as_pytorch(name, fn, v):
    (ours, theirs) = _grads(fn, np.asarray(v))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_std_of_equal_values_has_pytorchs_zero_gradient():
    (ours, theirs) = _grads(lambda m, x: x.std(1), np.array([[2.0, 2.0], [1.0, 3.0]]), order=1)
    np.testing.assert_array_equal(ours[0], theirs[0])


def test_methods_take_dims_as_varargs():
    v = np.arange(6.0).reshape(2, 3)
    for call in (
        lambda x: x.flip(0, 1),
        lambda x: x.flip((1,)),
        lambda x: x.flip(dims=[0]),
        lambda x: x.tile(2, 1),
        lambda x: x.tile((3,)),
        lambda x: x.repeat(1, 2),
        lambda x: x.repeat((2, 1, 1)),
        lambda x: x.permute(1, 0).movedim(0, 1),
    ):
        np.testing.assert_array_equal(call(rg.tensor(v)).numpy(), call(torch.tensor(v)).numpy())


# ----- cumsum/cumprod with NumPy's axis= and no dim (a popular textbook's `A.cumsum(axis=0)`) -----
@pytest.mark.parametrize("name", ["cumsum", "cumprod", "cumsum_", "cumprod_"])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_scan_axis_keyword(name, axis):
    v = np.random.default_rng(2).standard_normal((3, 4))
    ours = getattr(rg.tensor(v), name)(axis=axis)
    theirs = getattr(torch.tensor(v), name)(axis=axis)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    functional = getattr(rg, name.rstrip("_"))(rg.tensor(v), axis=axis)
    np.testing.assert_allclose(functional.numpy(), theirs.numpy(), rtol=1e-12)


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.tensor([1.0, 2.0]).cumsum(),
        lambda m: m.tensor([1.0, 2.0]).cumprod(),
        lambda m: m.tensor([1.0, 2.0]).cumsum(0, axis=0),
        lambda m: m.cumprod(m.tensor([1.0, 2.0]), 0, axis=0),
    ],
)
def test_scan_dim_errors_as_pytorch(call):
    ours, theirs = both(call)
    assert isinstance(theirs, TypeError), theirs
    assert isinstance(ours, TypeError) and str(ours) == str(theirs)
