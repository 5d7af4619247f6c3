"""The op table's entries for the reductions, scans, sorting, linear algebra, indexing and
shape ops of issue 11 point 2 (``python/rustgrad/_ops.py``). ``opinfo.py`` appends ``OPS``
to ``OP_DB``, so every test the table drives (gradcheck, gradgradcheck, PyTorch parity,
variants, in place, CUDA against the CPU) runs these too.

Graphs: these ops are composites of the core's differentiable ops, so their nodes are those
of the parts (``gather`` records ``IndexBackward0``, ``std`` ``SqrtBackward0``), not
PyTorch's native ones: ``graph="none"`` with that reason. Ops returning Python values
(``allclose``, ``equal``, ``is_tensor``) are wrapped into a 0-d tensor for the comparison.
"""

import numpy as np
from opinfo import (
    ALL,
    FLOATS,
    NUMERIC,
    Arg,
    OpInfo,
    S,
    Variant,
    binary_samples,
    dot_samples,
    function,
    method,
    skip,
    unary_samples,
    xfail,
)

NEEDS_DIMS = {"0-d": "PyTorch refuses a 0-d input"}
COMPOSITE = "a composite of the core's ops: its nodes are theirs, not PyTorch's native node"
TIES = "not differentiable at ties (finite differences straddle a kink)"
NAN_GRAD = "the result is NaN (n - correction <= 0): so is its gradient"
LAYOUTS = [
    ((), "contiguous"),
    ((), "offset"),
    ((0, 3), "contiguous"),
    ((1,), "contiguous"),
    ((3, 4), "transposed"),
    ((2, 3), "stepped"),
    ((3, 2), "offset"),
    ((3, 2, 2), "expanded"),
]


def _no_grad_ties(sample):
    if any(a.layout == "expanded" for a in sample.tensors()):
        sample.skips.update(gradcheck=TIES, gradgradcheck=TIES)
    return sample


def per_layout(*cases, ties=False, min_ndim=0, kind="n", empty=True, expanded=True):
    """A (2, 3, 4) tensor with each of ``cases`` (``(args, kwargs)``), then every layout of
    ``LAYOUTS`` (with ``ndim >= min_ndim``) with the cases that fit its ndim (a case is
    ``(ndim_needed, args, kwargs)``)."""

    def gen(g):
        for need, args, kw in cases:
            yield (
                _no_grad_ties(S(g.t((2, 3, 4), kind), *args, **kw))
                if ties
                else S(g.t((2, 3, 4), kind), *args, **kw)
            )
        for shape, layout in LAYOUTS:
            if len(shape) < min_ndim or (not empty and 0 in shape):
                continue
            if not expanded and layout == "expanded":
                continue
            for need, args, kw in cases:
                if len(shape) >= need:
                    s = S(g.t(shape, kind, layout), *args, **kw)
                    yield _no_grad_ties(s) if ties else s

    return gen


EXPANDED_WRITE = xfail(
    ("inplace",),
    "writing into an expanded (stride-0) view raises PyTorch's overlapping-memory error; "
    "PyTorch's own in-place op writes it",
    samples=lambda s: s.args[0].layout == "expanded",
)


def entry(name, gen, dtypes=FLOATS, inplace=False, fn=True, **kw):
    variants = [method(name)] + ([function(name)] if fn else [])
    return OpInfo(
        name,
        variants,
        gen,
        dtypes=dtypes,
        inplace_variants=[method(name + "_")] if inplace else [],
        graph="none",
        graph_reason=COMPOSITE,
        **kw,
    )


# ----- reductions ----------------------------------------------------------------------------

REDUCE = [
    (0, (), {}),
    (1, (0,), {}),
    (2, (-1,), {"keepdim": True}),
    (3, ((0, 2),), {}),
    (1, (), {"axis": 0, "keepdims": True}),
]


def prod_samples(g):
    yield from per_layout(*REDUCE[:3], (1, (), {"dim": 0, "keepdim": True}))(g)
    v = g.t((2, 5))
    v.value[0, 1] = 0  # a zero: the gradient is exact there (no division by the product)
    yield S(v, 1)
    w = g.t((4,))
    w.value[[0, 2]] = 0
    yield S(w)


def scan_samples(g):
    yield from per_layout((0, (0,), {}), (0, (-1,), {}), (2, (), {"dim": 1}))(g)
    yield S(g.t((3, 9)), 1)  # past a power of two
    yield S(g.t((2, 3)), dim=1, dtype=_dtype("float64"))


def _dtype(name):
    from opinfo import DType

    return DType(name)


def var_samples(g):
    for s in per_layout(
        (0, (), {}),
        (1, (0,), {}),
        (2, (1,), {"keepdim": True}),
        (3, ((0, 2),), {"correction": 0}),
        (1, (), {"dim": 0, "unbiased": False}),
        (2, (), {"dim": -1, "correction": 2}),
        (1, (), {"axis": 0, "keepdims": True}),
    )(g):
        shape = s.args[0].shape
        dims = s.args[1] if len(s.args) > 1 else s.kwargs.get("dim", s.kwargs.get("axis"))
        dims = range(len(shape)) if dims is None else [dims] if isinstance(dims, int) else dims
        n = int(np.prod([shape[d] for d in dims])) if shape else 1
        c = s.kwargs.get("correction", 0 if s.kwargs.get("unbiased") is False else 1)
        if n - c <= 0:
            s.skips.update(gradcheck=NAN_GRAD, gradgradcheck=NAN_GRAD)
        yield s


def norm_samples(g):
    yield from per_layout(
        (0, (), {}),
        (1, (1,), {}),
        (1, ("fro",), {}),
        (1, (2, 0), {"keepdim": True}),
        (2, (3, (0, 1)), {}),
        (1, (), {"p": 1, "dim": 0}),
    )(g)
    # (p=0 is left out: PyTorch records a node whose gradient is None)
    for p in (float("inf"), -float("inf"), 0.5):
        yield _no_grad_ties(S(g.t((3, 4)), p, 1))


def logsumexp_samples(g):
    yield from per_layout((0, (0,), {}), (2, (-1,), {"keepdim": True}), (2, ((0, 1),), {}))(g)
    big = g.t((2, 5))
    big.value = big.value * 300.0
    yield S(big, 1)
    inf = g.t((2, 3))
    inf.value[0, :] = -np.inf
    yield S(inf, 1, skips={"gradcheck": "-inf rows", "gradgradcheck": "-inf rows"})


def any_all_samples(g):
    yield from per_layout(
        (0, (), {}), (1, (0,), {}), (2, (-1,), {"keepdim": True}), (1, (), {"axis": 0})
    )(g)
    yield S(g.t((2, 3), "p"), 1)


def amax_samples(g):
    yield from per_layout(
        (0, (), {}),
        (1, (0,), {}),
        (2, ((0, 1),), {"keepdim": True}),
        (2, (-1,), {}),
        ties=True,
        min_ndim=1,
        empty=False,
    )(g)
    yield S(g.t(()))
    yield S(g.t((), "n", "offset"), 0)
    yield S(g.t((0, 3)), 1)
    t = g.t((2, 3))
    t.value[:, 1] = t.value[:, 0]  # ties share the gradient evenly
    yield S(t, 1, skips={"gradcheck": TIES, "gradgradcheck": TIES})


def order_samples(*cases, empty=(-1,), expanded=True):
    """Samples for order statistics (ties only in the expanded layout, whose gradients are
    skipped; the int64 and bool values are drawn distinct per row where it matters)."""

    def gen(g):
        yield from per_layout(*cases, ties=True, min_ndim=1, empty=False, expanded=expanded)(g)
        yield S(g.t((0, 3)), *empty)

    return gen


def sort_samples(g):
    yield from order_samples(
        (1, (), {}),
        (1, (0,), {}),
        (2, (), {"dim": 0, "descending": True}),
        (2, (-1, True), {}),
        (1, (), {"stable": True}),
    )(g)
    yield S(g.t(()))
    yield S(g.t((), "n", "offset"), 0)
    nan = g.t((2, 4))
    if g.dtype in FLOATS:
        nan.value[0, 1] = np.nan
        yield S(nan, 1, skips={"gradcheck": "NaN", "gradgradcheck": "NaN"})
        yield S(nan, 1, True, skips={"gradcheck": "NaN", "gradgradcheck": "NaN"})


def argsort_samples(g):
    yield from order_samples((1, (), {}), (2, (0,), {}), (2, (), {"dim": 1, "descending": True}))(g)
    yield S(g.t(()))
    yield S(g.t((), "n", "offset"))


def topk_samples(g):
    yield from order_samples(
        (1, (1,), {}), (2, (1, 0), {}), (2, (2,), {"largest": False}), (1, (0,), {}), empty=(1, -1)
    )(g)
    yield S(g.t(()), 1)
    yield S(g.t((), "n", "offset"), 0)
    if g.dtype in FLOATS:  # (distinct values: PyTorch orders tied indices its own way)
        yield S(g.t((3, 5)), 3, 1, True, True)


def kthvalue_samples(g):
    yield from order_samples(
        (1, (1,), {}), (2, (1, 0), {}), (2, (1, -1, True), {}), empty=(1, -1), expanded=False
    )(g)  # (which tied index PyTorch picks varies)
    yield S(g.t((2, 3), "n", "stepped"), 2, 1)
    yield S(g.t(()), 1)
    yield S(g.t((), "n", "offset"), 1, 0)
    yield S(g.t((3, 5)), 3, 1)


def median_samples(g):
    yield from order_samples((1, (), {}), (1, (0,), {}), (2, (1, True), {}), expanded=False)(g)
    yield S(g.t(()))
    yield S(g.t((), "n", "offset"), 0)
    yield S(g.t((3, 6)), 1)
    if g.dtype in FLOATS:
        nan = g.t((2, 4))
        nan.value[0, 2] = np.nan
        yield S(nan, 1, skips={"gradcheck": "NaN", "gradgradcheck": "NaN"})


def nanmedian_samples(g):
    yield from median_samples(g)
    nan = g.t((3, 5))
    nan.value[0, 1:4] = np.nan
    nan.value[2, ::2] = np.nan  # (an all-NaN row's index is arbitrary in PyTorch: test_ops_more)
    nan_skips = {"gradcheck": "NaN", "gradgradcheck": "NaN"}
    yield S(nan, 1, skips=nan_skips)
    yield S(nan, 0, True, skips=nan_skips)
    yield S(nan, skips=nan_skips)


def unique_samples(g):
    # (no gradient: PyTorch's unique records a node whose backward raises)
    for shape, layout in LAYOUTS:
        v = g.t(shape, layout=layout, requires_grad=False)
        if g.dtype in FLOATS:
            v.value = np.round(v.value).astype(v.value.dtype)  # repeats
        yield S(v)
        yield S(v, return_inverse=True, return_counts=True)
    yield S(g.t((3, 4), requires_grad=False), sorted=True, return_counts=True)
    rows = g.t((4, 3), requires_grad=False)
    rows.value[2] = rows.value[0]
    yield S(rows, dim=0, return_inverse=True, return_counts=True)
    yield S(rows, dim=1)


# ----- linear algebra ------------------------------------------------------------------------


def mv_samples(g):
    yield S(g.t((2, 3)), g.t((3,)))
    yield S(g.t((0, 3)), g.t((3,)))
    yield S(g.t((2, 0)), g.t((0,)))
    yield S(g.t((1, 1)), g.t((1,)))
    yield S(g.t((3, 4), "n", "transposed"), g.t((4,), "n", "stepped"))
    yield S(g.t((3, 2), "n", "offset"), g.t((2,), "n", "offset"))
    yield S(g.t((3, 2), "n", "expanded"), g.t((2,)))


def bmm_samples(g):
    yield S(g.t((2, 2, 3)), g.t((2, 3, 4)))
    yield S(g.t((0, 2, 3)), g.t((0, 3, 4)))
    yield S(g.t((2, 0, 3)), g.t((2, 3, 1)))
    yield S(g.t((1, 1, 1)), g.t((1, 1, 1)))
    yield S(g.t((2, 4, 3), "n", "transposed"), g.t((2, 3, 2), "n", "stepped"))
    yield S(g.t((3, 2, 2), "n", "offset"), g.t((3, 2, 2), "n", "expanded"))


def addmm_samples(g):
    yield S(g.t((2, 4)), g.t((2, 3)), g.t((3, 4)))
    yield S(g.t((4,)), g.t((2, 3)), g.t((3, 4)), beta=0.5, alpha=2)
    yield S(g.t(()), g.t((2, 3)), g.t((3, 4)), alpha=-1)
    yield S(g.t((), "n", "offset"), g.t((1, 1)), g.t((1, 1)))
    yield S(g.t((0, 4)), g.t((0, 3)), g.t((3, 4)))
    yield S(g.t((2, 1)), g.t((2, 3), "n", "transposed"), g.t((3, 4), "n", "stepped"))
    yield S(g.t((2, 2), "n", "offset"), g.t((2, 2), "n", "expanded"), g.t((2, 2)), beta=0)


def baddbmm_samples(g):
    yield S(g.t((2, 2, 4)), g.t((2, 2, 3)), g.t((2, 3, 4)))
    yield S(g.t((4,)), g.t((2, 2, 3)), g.t((2, 3, 4)), beta=0.5, alpha=2)
    yield S(g.t(()), g.t((1, 1, 1)), g.t((1, 1, 1)))
    yield S(g.t((), "n", "offset"), g.t((0, 2, 3)), g.t((0, 3, 4)))
    yield S(
        g.t((2, 2, 2), "n", "transposed"),
        g.t((2, 2, 3), "n", "stepped"),
        g.t((2, 3, 2), "n", "offset"),
    )
    yield S(g.t((2, 1)), g.t((3, 2, 2), "n", "expanded"), g.t((3, 2, 2)), beta=0)


def outer_samples(g):
    yield S(g.t((3,)), g.t((4,)))
    yield S(g.t((0,)), g.t((2,)))
    yield S(g.t((1,)), g.t((1,)))
    yield S(g.t((4,), "n", "stepped"), g.t((3,), "n", "offset"))


def einsum_samples(g):
    t = g.t
    yield S("ij,jk->ik", t((2, 3)), t((3, 4)))
    yield S("bij,bjk->bik", t((2, 2, 3)), t((2, 3, 4), "n", "transposed"))
    yield S("ii->i", t((3, 3)))
    yield S("ii", t((3, 3), "n", "offset"))
    yield S("i,j->ij", t((3,)), t((2,), "n", "stepped"))
    yield S("...ij->...ji", t((2, 3, 4)))
    yield S("ij,ij->", t((2, 3)), t((2, 3), "n", "expanded"))
    yield S("ab,bc,cd->ad", t((2, 3)), t((3, 2)), t((2, 4)))
    yield S("ij,jk", t((0, 3)), t((3, 2)))
    yield S("i,i", t((1,)), t((1,)))
    yield S(",ij->ij", t(()), t((2, 3)))
    yield S("bn,anm,bm->ba", t((2, 3)), t((4, 3, 2)), t((2, 2)))


# ----- indexing ------------------------------------------------------------------------------


def _index(g, shape, high, low=0):
    return Arg(g.rng.integers(low, high, shape).astype(np.int64))


def gather_samples(g):
    yield S(g.t((3, 4)), 1, _index(g, (3, 2), 4))
    yield S(g.t((3, 4)), 0, _index(g, (5, 4), 3))
    yield S(g.t((2, 3, 4), "n", "transposed"), 2, _index(g, (2, 2, 3), 3))
    yield S(g.t((2, 4), "n", "stepped"), 1, _index(g, (2, 6), 4))
    yield S(g.t((3, 2), "n", "offset"), 0, _index(g, (3, 2), 3))
    yield S(g.t((3, 2, 2), "n", "expanded"), 0, _index(g, (2, 2, 2), 3))
    yield S(g.t(()), 0, Arg(np.array(0, np.int64)))
    yield S(g.t((), "n", "offset"), 0, Arg(np.array(0, np.int64)))
    yield S(g.t((0, 3)), 1, _index(g, (0, 2), 3))
    yield S(g.t((1,)), 0, _index(g, (1,), 1))


def _perm_index(g, shape, dim, size):
    """Distinct positions along ``dim`` (scatter writes no place twice: PyTorch leaves the
    winner of a repeat unspecified)."""
    v = np.argsort(g.rng.random(shape[:dim] + (size,) + shape[dim + 1 :]), axis=dim)
    return Arg(np.take(v, np.arange(shape[dim]), axis=dim).astype(np.int64))


def scatter_samples(g):
    t = g.t
    yield S(t((3, 4)), 1, _perm_index(g, (3, 2), 1, 4), t((3, 2)))
    yield S(t((3, 4)), 0, _perm_index(g, (2, 4), 0, 3), t((2, 4)))
    yield S(t((3, 4)), 1, _perm_index(g, (3, 2), 1, 4), 2.5 if g.dtype in FLOATS else 2)
    yield S(t((3, 4)), 1, _perm_index(g, (3, 2), 1, 4), value=-1)
    yield S(
        t((3, 4), "n", "transposed"), 0, _perm_index(g, (2, 4), 0, 3), t((2, 4), "n", "stepped")
    )
    yield S(t((3, 2), "n", "offset"), 1, _perm_index(g, (3, 1), 1, 2), t((3, 1), "n", "offset"))
    yield S(t(()), 0, Arg(np.array(0, np.int64)), t(()))
    yield S(t((), "n", "offset"), 0, Arg(np.array(0, np.int64)), t((), "n", "offset"))
    yield S(t((0, 3)), 1, _index(g, (0, 2), 3), t((0, 2)))
    yield S(t((1,)), 0, _index(g, (1,), 1), t((1,)))
    # (PyTorch has no derivative for scatter with reduce=)
    yield S(
        t((3, 4), requires_grad=False),
        1,
        _index(g, (3, 5), 4),
        t((3, 5), requires_grad=False),
        reduce="add",
    )


def scatter_add_samples(g):
    t = g.t
    yield S(t((3, 4)), 1, _index(g, (3, 6), 4), t((3, 6)))  # repeats add up
    yield S(t((3, 4)), 0, _index(g, (5, 4), 3), t((5, 4)))
    yield S(t((3, 4), "n", "transposed"), 0, _index(g, (2, 4), 3), t((2, 4), "n", "stepped"))
    yield S(t((3, 2), "n", "offset"), 1, _index(g, (3, 3), 2), t((3, 3), "n", "expanded"))
    yield S(t(()), 0, Arg(np.array(0, np.int64)), t(()))
    yield S(t((), "n", "offset"), 0, Arg(np.array(0, np.int64)), t((), "n", "offset"))
    yield S(t((0, 3)), 1, _index(g, (0, 2), 3), t((0, 2)))
    yield S(t((1,)), 0, _index(g, (1,), 1), t((1,)))


def index_select_samples(g):
    yield S(g.t((3, 4)), 1, Arg(np.array([3, 0, 0, 2], np.int64)))
    yield S(g.t((3, 4)), 0, Arg(np.array([], np.int64)))
    yield S(g.t((3, 4)), -2, Arg(np.array(1, np.int64)))
    yield S(g.t((3, 4), "n", "transposed"), 0, Arg(np.array([2, 2], np.int64)))
    yield S(g.t((2, 4), "n", "stepped"), 1, Arg(np.array([1], np.int64)))
    yield S(g.t((3, 2), "n", "offset"), 0, Arg(np.array([0, 2], np.int64)))
    yield S(g.t((3, 2, 2), "n", "expanded"), 2, Arg(np.array([1, 0], np.int64)))
    yield S(g.t(()), 0, Arg(np.array([0], np.int64)))
    yield S(g.t((), "n", "offset"), 0, Arg(np.array([0], np.int64)))
    yield S(g.t((0, 3)), 1, Arg(np.array([2], np.int64)))
    yield S(g.t((1,)), 0, Arg(np.array([0], np.int64)))


def index_add_samples(g):
    t = g.t
    yield S(t((3, 4)), 1, Arg(np.array([3, 0, 0], np.int64)), t((3, 3)))
    yield S(t((3, 4)), 0, Arg(np.array([2, 2, 1, 0, 2], np.int64)), t((5, 4)), alpha=2)
    yield S(
        t((3, 4), "n", "transposed"), 1, Arg(np.array([1], np.int64)), t((3, 1), "n", "stepped")
    )
    yield S(
        t((3, 2), "n", "offset"), 0, Arg(np.array([0, 2], np.int64)), t((2, 2), "n", "expanded")
    )
    yield S(t(()), 0, Arg(np.array([0], np.int64)), t(()))
    yield S(t((), "n", "offset"), 0, Arg(np.array([0], np.int64)), t((), "n", "offset"))
    yield S(t((0, 3)), 1, Arg(np.array([2], np.int64)), t((0, 1)))
    yield S(t((1,)), 0, Arg(np.array([0, 0], np.int64)), t((2,)))


def _mask(g, shape):
    return Arg(g.rng.random(shape) < 0.5)


def masked_fill_samples(g):
    value = 2.5 if g.dtype in FLOATS else True if g.dtype == "bool" else 3
    for shape, layout in LAYOUTS:
        yield S(g.t(shape, layout=layout), _mask(g, shape), value)
    yield S(g.t((2, 3)), _mask(g, (3,)), value)  # the mask broadcasts
    yield S(g.t((2, 3)), _mask(g, (2, 1)), g.t(()))  # a 0-d tensor value (gradient too)


def masked_select_samples(g):
    for shape, layout in LAYOUTS:
        yield S(g.t(shape, layout=layout), _mask(g, shape))
    yield S(g.t((2, 3)), _mask(g, (3,)))
    yield S(g.t((3,)), _mask(g, (2, 3)))


def nonzero_samples(g):
    for shape, layout in LAYOUTS:
        yield S(g.t(shape, layout=layout))
        yield S(g.t(shape, layout=layout), as_tuple=True)


# ----- shape ---------------------------------------------------------------------------------


def tri_samples(g):
    yield from per_layout(
        (2, (), {}), (2, (1,), {}), (2, (-1,), {}), (2, (), {"diagonal": 5}), min_ndim=2
    )(g)
    yield S(g.t((2, 3, 4)), -2)
    yield S(g.t((0, 3)))
    yield S(g.t((1, 1)))


def roll_samples(g):
    yield from per_layout(
        (1, (1, 0), {}), (2, (-1, 1), {}), (0, (3,), {}), (2, ((1, 2), (0, 1)), {})
    )(g)


def flip_samples(g):
    # (dims as a tuple: PyTorch's functional form takes no int; the method's varargs are
    # checked in test_ops_issue11.py)
    yield from per_layout((1, ((0,),), {}), (2, ((0, 1),), {}), (0, ((),), {}))(g)
    yield S(g.t((2, 3, 4)), (-1,))
    yield S(g.t((2, 3)), dims=[1, 0])


def repeat_samples(g):
    yield from per_layout((0, (2, 1, 2, 1), {}), (1, ((2, 0, 1),), {}))(g)
    yield S(g.t((3, 4), "n", "transposed"), 1, 3)


def tile_samples(g):
    yield from per_layout((0, ((2,),), {}), (1, ((2, 1, 3),), {}))(g)
    yield S(g.t((2, 3)), dims=(2, 1))


def repeat_interleave_samples(g):
    yield from per_layout((0, (2,), {}), (1, (3,), {"dim": 0}), (2, (), {"repeats": 2, "dim": -1}))(
        g
    )
    yield S(g.t((3, 2)), Arg(np.array([1, 0, 3], np.int64)), dim=0)
    yield S(g.t((3, 2)), Arg(np.array([2], np.int64)), 1)


def split_samples(g):
    yield from per_layout((1, (1,), {}), (1, (2, 0), {}), min_ndim=1)(g)
    yield S(g.t((3, 2)), [1, 1], 1)
    yield S(g.t((5, 2)), [2, 0, 3])
    yield S(g.t((5, 2)), 2)


def chunk_samples(g):
    yield from per_layout((1, (2,), {}), (2, (3, 1), {}), (1, (5, 0), {}))(g)
    yield S(g.t((6, 2)), 4)


def unbind_samples(g):
    yield from per_layout((1, (), {}), (2, (1,), {}), (2, (-1,), {}), min_ndim=1)(g)


def narrow_samples(g):
    yield from per_layout((1, (0, 0, 0), {}), (2, (1, 1, 1), {}), (2, (-1, -2, 2), {}), min_ndim=1)(
        g
    )
    yield S(g.t((0, 3)), 1, 1, 2)


def movedim_samples(g):
    yield from per_layout((1, (0, -1), {}), (3, ((0, 1), (2, 0)), {}), (0, (0, 0), {}))(g)


def swap_samples(g):
    yield from per_layout((1, (0, -1), {}), (3, (2, 0), {}), (0, (0, 0), {}))(g)


def diagonal_samples(g):
    yield from per_layout(
        (2, (), {}),
        (2, (1,), {}),
        (2, (-1, 1, 0), {}),
        (3, (0, 0, 2), {}),
        (2, (), {"offset": 7}),
        min_ndim=2,
    )(g)
    yield S(g.t((1, 1)))


def diag_samples(g):
    for shape, layout in [
        ((3,), "contiguous"),
        ((4,), "stepped"),
        ((2,), "offset"),
        ((0,), "contiguous"),
        ((1,), "contiguous"),
        ((3, 4), "transposed"),
        ((3, 2), "offset"),
        ((3, 3), "expanded"),
        ((0, 2), "contiguous"),
    ]:
        yield S(g.t(shape, layout=layout))
        yield S(g.t(shape, layout=layout), 1)
        yield S(g.t(shape, layout=layout), -1)


def trace_samples(g):
    for shape, layout in [
        ((3, 3), "contiguous"),
        ((3, 4), "transposed"),
        ((2, 3), "stepped"),
        ((3, 2), "offset"),
        ((3, 3), "expanded"),
        ((0, 2), "contiguous"),
        ((1, 1), "contiguous"),
    ]:
        yield S(g.t(shape, layout=layout))


# ----- predicates ----------------------------------------------------------------------------


def close_samples(g):
    for shape, layout in LAYOUTS:
        a = g.t(shape, layout=layout, requires_grad=False)
        b = Arg(
            a.value
            + (g.rng.random(shape) < 0.5).astype(a.value.dtype)
            * (1e-6 if g.dtype in FLOATS else 1),
            requires_grad=False,
        )
        yield S(a, b)
    a = Arg(
        np.array([1.0, np.inf, -np.inf, np.nan, 1.0]).astype(g.dtype)
        if g.dtype in FLOATS
        else np.array([1, 2, 3]).astype(g.dtype),
        requires_grad=False,
    )
    b = Arg(
        np.array([1.0, np.inf, np.inf, np.nan, 1.1]).astype(g.dtype)
        if g.dtype in FLOATS
        else np.array([1, 3, 3]).astype(g.dtype),
        requires_grad=False,
    )
    yield S(a, b)
    yield S(a, b, equal_nan=True)
    yield S(a, b, rtol=0.2, atol=0.0)


def _as_tensor(name, owner="rustgrad"):
    """A predicate returning a Python bool, as a 0-d tensor (so the table can compare it)."""
    if owner == "rustgrad":
        return Variant(
            f"rustgrad.{name}",
            lambda mod, *a, **k: mod.tensor(getattr(mod, name)(*a, **k)).to(a[0].device),
            (f"rustgrad.{name}",),
        )
    return Variant(
        f"x.{name}",
        lambda mod, x, *a, **k: mod.tensor(getattr(x, name)(*a, **k)).to(x.device),
        (f"Tensor.{name}",),
    )


def equal_samples(g):
    for shape, layout in LAYOUTS:
        a = g.t(shape, layout=layout, requires_grad=False)
        yield S(a, Arg(a.value.copy(), requires_grad=False))
        yield S(a, g.t(shape, requires_grad=False))
    yield S(g.t((2, 3), requires_grad=False), g.t((3,), requires_grad=False))


def is_tensor_samples(g):
    yield S(g.t((2, 3)))
    yield S(g.t(()))
    yield S(g.t((), "n", "offset"))
    yield S(g.t((0, 3)))
    yield S(g.t((1,), "n", "stepped"))


def select_samples(g):
    yield S(g.t((3, 4)), 1, -1)
    yield S(g.t((3, 4), "n", "transposed"), 0, 2)
    yield S(g.t((2, 3), "n", "offset"), 1, 0)
    yield S(g.t((0, 3)), 1, 2)
    yield S(g.t((1,), "n", "stepped"), 0, 0)


def _specials(g, shape=(2, 5)):
    """Values with NaN, +-inf and 0 among ordinary ones for the floating dtypes."""
    vals = g.values(shape)
    if g.dtype in FLOATS:
        flat = vals.reshape(-1)
        flat[: min(4, flat.size)] = [np.nan, np.inf, -np.inf, 0.0][: min(4, flat.size)]
    return vals


def float_class_samples(g):
    yield S(Arg(_specials(g)))
    yield S(Arg(_specials(g, (3, 4)), "transposed"))
    yield S(Arg(_specials(g, (2, 3)), "offset"))
    yield S(g.t(()))
    yield S(g.t((0, 2)))
    yield S(g.t((1,)))


def nan_to_num_samples(g):
    yield S(Arg(_specials(g)))
    yield S(Arg(_specials(g, (3, 4)), "transposed"), 1.5, 2.0, -3.0)
    yield S(Arg(_specials(g, (2, 3)), "offset"), nan=0.5)
    yield S(g.t(()), posinf=1.0)
    yield S(g.t((0, 2)))
    yield S(g.t((1,)))


def addc_samples(denominator_kind):
    def samples(g):
        t = g.t
        yield S(t((2, 3)), t((2, 3)), t((3,), denominator_kind), value=0.5)
        yield S(t((3, 4), "n", "transposed"), t((3, 4), "n", "stepped"), t((3, 4), denominator_kind, "offset"))  # fmt: skip
        yield S(t(()), t(()), t((), denominator_kind), value=2)
        yield S(t((0, 3)), t((0, 3)), t((1, 3), denominator_kind))
        yield S(t((1,)), t((1,)), t((1,), denominator_kind), value=-1)

    return samples


def diag_embed_samples(g):
    yield S(g.t((2, 3)))
    yield S(g.t((3,), "n", "stepped"))
    yield S(g.t((2, 2), "n", "offset"))
    yield S(g.t((0,)))
    yield S(g.t((1,)))
    yield S(g.t((2, 3)), offset=1)
    yield S(g.t((2, 3), "n", "stepped"), offset=-2, dim1=0, dim2=2)
    yield S(g.t((3, 2)), 0, 2, 1)


def _square(g, shape, layout="contiguous"):
    """Matrices with a dominant positive diagonal: invertible, positive determinant."""
    n = shape[-1]
    return Arg((g.values(shape) + 3 * np.eye(n)).astype(g.dtype), layout)


def square_samples(g):
    yield S(_square(g, (3, 3)))
    yield S(_square(g, (2, 3, 3), "transposed"))
    yield S(_square(g, (2, 2), "offset"))
    yield S(_square(g, (3, 2, 2), "stepped"))
    yield S(_square(g, (0, 2, 2)))
    yield S(_square(g, (1, 1)))


def matrix_power_samples(g):
    for sample, n in zip(square_samples(g), [3, -2, 0, 2, 1, -1]):
        yield S(*sample.args, n)


def cross_samples(g):
    t = g.t
    yield S(t((2, 3)), t((2, 3)), dim=1)
    yield S(t((3, 2), "n", "transposed"), t((3, 1)), dim=0)
    yield S(t((4, 3), "n", "offset"), t((4, 3), "n", "stepped"), dim=-1)
    yield S(t((0, 3)), t((0, 3)), dim=1)
    yield S(t((3,)), t((3,)), dim=0)


def broadcast_tensors_samples(g):
    t = g.t
    yield S(t((2, 1)), t((3,)), t(()))
    yield S(t((3, 2), "n", "transposed"), t((1, 2), "n", "offset"))
    yield S(t((0, 1)), t((1, 4), "n", "stepped"))
    yield S(t((1,)))


def meshgrid_samples(g):
    t = g.t
    yield S(t((2,)), t((3,)), indexing="ij")
    yield S(t((3,), "n", "stepped"), t((2,), "n", "offset"), t(()), indexing="xy")
    yield S(t((0,)), t((1,)), indexing="ij")


def matrix_t_samples(g):
    t = g.t
    yield S(t((2, 3)))
    yield S(t((2, 3, 4), "n", "transposed"))
    yield S(t((3, 2), "n", "offset"))
    yield S(t((0, 2)))
    yield S(t((1, 1), "n", "stepped"))


def matrix_h_samples(g):
    """As ``matrix_t_samples``, 2-D only (``x.H`` refuses other ranks, as PyTorch)."""
    for sample in matrix_t_samples(g):
        if sample.args[0].value.ndim == 2:
            yield sample
    yield S(g.t((3, 4), "n", "transposed"))


def attribute(name, samples):
    return OpInfo(
        name,
        [Variant(f"x.{name}", lambda mod, x: getattr(x, name), (f"Tensor.{name}",))],
        samples,
        dtypes=ALL,
        exempt={"0-d": "PyTorch refuses x.mT of fewer than 2 dims"},
    )


def clamp_bound_samples(name):
    def samples(g):
        t = g.t
        yield S(t((2, 3)), 0.25)
        yield S(t((3, 4), "n", "transposed"), t((4,)))
        yield S(t((2, 3), "n", "offset"), t((2, 1), "n", "stepped"))
        yield S(t(()), t(()))
        yield S(t((0, 3)), -0.5)
        yield S(t((1,)), t((1,), "n", "offset"))

    return samples


def dist_samples(g):
    t = g.t
    yield S(t((2, 3)), t((2, 3)))
    yield S(t((3, 4), "n", "transposed"), t((4,)), 1)
    yield S(t((2, 3), "n", "offset"), t((2, 3), "n", "stepped"), 3)
    yield S(t(()), t(()), float("inf"))
    yield S(t((0, 3)), t((0, 3)))
    yield S(t((1,)), t((1,)))


def cdist_samples(g):
    t = g.t
    yield S(t((3, 4)), t((2, 4)))
    yield S(t((2, 3, 2), "n", "transposed"), t((2, 4, 2)), p=1.0)
    yield S(t((3, 2), "n", "offset"), t((3, 2), "n", "stepped"), p=3.0)
    yield S(t((0, 3)), t((2, 3)))
    yield S(t((1, 1)), t((1, 1)))


def diff_samples(g):
    t = g.t
    yield S(t((3, 4)))
    yield S(t((3, 4), "n", "transposed"), 2, 0)
    yield S(t((2, 3), "n", "offset"), 1, -1, t((2, 1)), t((2, 2), "n", "stepped"))
    yield S(t((0, 3)), 1, 1)
    yield S(t((1,)), prepend=t((2,)))


def kron_samples(g):
    t = g.t
    yield S(t((2, 3)), t((2, 2)))
    yield S(t((3, 2), "n", "offset"), t((3,)))  # (PyTorch's kron refuses some transposes)
    yield S(t((2,), "n", "offset"), t((2, 2, 1), "n", "stepped"))
    yield S(t(()), t((2,)))
    yield S(t((0, 2)), t((1, 2)))
    yield S(t((1,)), t((2, 1)))


def tensordot_samples(g):
    t = g.t
    yield S(t((2, 3, 4)), t((3, 4, 2)))
    yield S(t((3, 4), "n", "transposed"), t((4, 2)), 1)
    yield S(t((2, 3), "n", "offset"), t((3, 2), "n", "stepped"), ([1, 0], [0, 1]))
    yield S(t(()), t((2,)), 0)
    yield S(t((0, 3)), t((3, 1)), dims=([1], [0]))
    yield S(t((1,)), t((1, 2)), 1)


def atleast_samples(g):
    t = g.t
    yield S(t(()))
    yield S(t((3,), "n", "stepped"))
    yield S(t((2, 3), "n", "offset"))
    yield S(t((2, 3, 2), "n", "transposed"))
    yield S(t((0,)))
    yield S(t((1,)), t((2, 2)))


def scan_pair_samples(g):
    t = g.t
    yield S(t((3, 4)), 1)
    yield S(t((3, 4), "n", "transposed"), 0)
    yield S(t((2, 3), "n", "offset"), -1)
    yield S(t(()), 0)
    yield S(t((0, 3)), 1)
    yield S(t((1,)), 0)
    vals = g.values((2, 6))
    yield S(
        Arg(np.round(vals).astype(vals.dtype)),  # ties
        1,
        skips={"gradcheck": TIES, "gradgradcheck": TIES},
    )


def searchsorted_samples(g):
    t = g.t
    seq = np.sort(g.values((5,)))
    yield S(Arg(seq), t((2, 3)))
    yield S(Arg(np.sort(g.values((2, 4)), -1)), t((2, 3), "n", "offset"), right=True)
    yield S(Arg(seq, "stepped"), Arg(seq[1:3].copy()), side="left")
    yield S(Arg(seq), t(()))
    yield S(Arg(seq), t((0,)))
    yield S(Arg(seq[:1].copy()), t((1,)))


def bucketize_samples(g):
    t = g.t
    bounds = np.sort(g.values((4,)))
    yield S(t((2, 3)), Arg(bounds))
    yield S(t((3, 2), "n", "transposed"), Arg(bounds, "stepped"), right=True)
    yield S(t((2,), "n", "offset"), Arg(bounds))
    yield S(t(()), Arg(bounds))
    yield S(t((0,)), Arg(bounds))
    yield S(t((1,)), Arg(bounds[:1].copy()))


def bincount_samples(g):
    counts = g.rng.integers(0, 6, (7,)).astype(np.int64)
    yield S(Arg(counts))
    yield S(Arg(counts, "stepped"), minlength=9)
    # (weights that require grad: PyTorch's "derivative for aten::bincount is not implemented")
    yield S(Arg(counts, "offset"), Arg(g.rng.standard_normal(7), requires_grad=False))
    yield S(Arg(np.zeros(0, np.int64)))
    yield S(Arg(np.array([2], np.int64)), Arg(np.array([0.5]), requires_grad=False))


def trapezoid_samples(g):
    t = g.t
    yield S(t((3, 4)))
    yield S(t((3, 4), "n", "transposed"), dim=0, dx=0.5)
    yield S(t((2, 3), "n", "offset"), t((3,), "n", "stepped"))
    yield S(t((0, 3)))
    yield S(t((1,)))
    yield S(t((2, 3)), t((2, 3)), dim=1)


def block_diag_samples(g):
    t = g.t
    yield S(t((2, 3)), t((1, 2)))
    yield S(t((3, 2), "n", "transposed"), t((2,), "n", "offset"), t(()))
    yield S(t((0, 2)), t((2, 1), "n", "stepped"))
    yield S(t((1,)))


def cartesian_prod_samples(g):
    t = g.t
    yield S(t((2,)), t((3,)))
    yield S(t((3,), "n", "stepped"), t((2,), "n", "offset"), t((1,)))
    yield S(t((0,)), t((2,)))
    yield S(t((4,)))


def chain_matmul_samples(g):
    t = g.t
    yield S(t((2, 3)), t((3, 4)), t((4, 2)))
    yield S(t((3, 3), "n", "transposed"), t((3, 2), "n", "offset"))
    yield S(t((2, 2), "n", "stepped"))
    yield S(t((0, 2)), t((2, 1)), t((1, 1)))


def decomposition_samples(g):
    t = g.t
    yield S(t((4, 3)))
    yield S(t((2, 3, 3), "n", "transposed"))
    yield S(t((3, 2), "n", "offset"))
    yield S(t((2, 2), "n", "stepped"))
    yield S(t((1, 1)))


def _svd_gauge_free(call):
    """``svd``'s factors through a function free of the singular vectors' signs."""
    U, S_, V = call()
    return U @ (S_.unsqueeze(-1) * V.transpose(-2, -1)), S_, (U * U).sum(-2)


def _qr_gauge_free(call):
    """``qr``'s factors through a function free of the signs of R's diagonal."""
    Q, R = call()
    sign = R.diagonal(0, -2, -1).sign()
    return Q * sign.unsqueeze(-2), R * sign.unsqueeze(-1)


def stack_like_samples(g):
    t = g.t
    yield S([t((2, 3)), t((2, 3), "n", "offset")])
    yield S([t((3,)), t((3,), "n", "stepped")])
    yield S([t(()), t(())])
    yield S([t((2, 3, 2), "n", "transposed"), t((2, 3, 2))])
    yield S([t((0, 3)), t((0, 3))])
    yield S([t((1,)), t((1,))])


def column_stack_samples(g):
    t = g.t
    yield S([t((3, 2)), t((3,), "n", "offset")])
    yield S([t((2,), "n", "stepped"), t((2, 1))])
    yield S([t(()), t((1,))])
    yield S([t((3, 2), "n", "transposed"), t((3, 0))])


def dim_samples(dims, zero_d=True, empty=True):
    """One tensor of each case, with each of ``dims``'s argument tuples (a 0-d tensor with
    no arguments when ``zero_d``; size 0 when ``empty``)."""

    def gen(g):
        t = g.t
        shapes = [((2, 3), "contiguous"), ((3, 4), "transposed"), ((2, 3), "offset"), ((2, 4), "stepped"), ((1, 1), "contiguous"), ((2, 3, 2), "contiguous")]  # fmt: skip
        if empty:
            shapes.append(((0, 3), "contiguous"))
        for shape, layout in shapes:
            for args in dims:
                yield S(t(shape, "n", layout), *args)
        if zero_d:
            yield S(t(()))

    return gen


def take_along_dim_samples(g):
    t = g.t
    x = g.values((3, 4))
    yield S(Arg(x), Arg(np.argsort(x, 1)), 1)
    yield S(Arg(x, "transposed"), Arg(np.argsort(x, 0)[:2]), 0)
    yield S(Arg(x, "offset"), Arg(np.array([[0], [3], [1]])), -1)
    yield S(t((2, 3)), Arg(np.array([5, 0, -1 + 6])))
    yield S(t((0, 3)), Arg(np.zeros((0, 1), np.int64)), 1)
    yield S(t((1,)), Arg(np.array([0, 0])), 0)


def take_samples(g):
    t = g.t
    yield S(t((3, 4)), Arg(np.array([[0, -1], [5, 2]])))
    yield S(t((3, 4), "n", "transposed"), Arg(np.array([11, 0])))
    yield S(t((2, 3), "n", "offset"), Arg(np.array(3)))
    yield S(t(()), Arg(np.array([0, 0])))
    yield S(t((0,)), Arg(np.zeros(0, np.int64)))
    yield S(t((1,), "n", "stepped"), Arg(np.array([-1])))


def unflatten_samples(g):
    t = g.t
    yield S(t((2, 6)), 1, (2, 3))
    yield S(t((6, 2), "n", "transposed"), 0, (-1, 3))
    yield S(t((4, 3), "n", "offset"), -2, (2, 2))
    yield S(t((0, 4), "n", "stepped"), 1, (2, 2))
    yield S(t((1,)), 0, (1, 1))


def numpy_split_samples(g):
    t = g.t  # (3-D: every one of hsplit, vsplit, dsplit takes them; sizes divide by 2)
    yield S(t((2, 4, 2)), 2)
    yield S(t((4, 2, 4), "n", "transposed"), [1, 3])
    yield S(t((2, 4, 2), "n", "offset"), (1,))
    yield S(t((2, 2, 6), "n", "stepped"), [2])
    yield S(t((0, 4, 2)), 2)
    yield S(t((1, 1, 1)), [1])


def tensor_split_samples(g):
    t = g.t
    yield S(t((3, 5)), 3, 1)
    yield S(t((5, 3), "n", "transposed"), [1, 4], 0)
    yield S(t((2, 4), "n", "offset"), (1, 1, 3), -1)
    yield S(t((0, 4), "n", "stepped"), 2)
    yield S(t((1,)), 2)


def probability_samples(g):
    """Values in (0, 1) (``logit``), in each layout, with and without ``eps``."""
    for sample in unary_samples()(g):
        arg = sample.args[0]
        p = 1 / (1 + np.exp(-arg.value.astype(np.float64)))
        yield S(Arg(p.astype(arg.value.dtype), arg.layout), *sample.args[1:])
    yield S(Arg(np.array([[0.0, 0.02], [0.5, 1.0]], dtype=g.values(()).dtype)), 0.05)


def positive_pair_samples(g):
    """``binary_samples`` with a positive second operand (``xlogy``'s log)."""
    yield from binary_samples(kb="p", mixed=())(g)


ONE_ELEMENT = {"size-0": "one element only", "non-contiguous": "one element only", "offset": "one element only", "broadcast": "one tensor"}  # fmt: skip


def is_nonzero_samples(g):
    yield S(g.t((1,)))
    yield S(g.t(()))
    yield S(g.t((1, 1)))


OPS = [
    *(
        OpInfo(name, [function(name)], gen, ALL, graph="none", graph_reason=COMPOSITE)
        for name, gen in [
            ("hstack", stack_like_samples),
            ("vstack", stack_like_samples),
            ("row_stack", stack_like_samples),
            ("dstack", stack_like_samples),
            ("column_stack", column_stack_samples),
        ]
    ),
    *(
        OpInfo(
            name,
            [method(name), function(name)],
            binary_samples(scalars=(), mixed=()),
            ALL,
            differentiable=False,
            broadcasts=True,
            inplace_variants=[method(name + "_")],
        )
        for name in ("logical_and", "logical_or", "logical_xor")
    ),
    entry("ravel", unary_samples(), ALL),
    OpInfo(
        "count_nonzero",
        [method("count_nonzero"), function("count_nonzero")],
        dim_samples([(), (1,), ((0, 1),)]),
        ALL,
        differentiable=False,
    ),
    entry("nansum", dim_samples([(), (1,), (0, True)]), NUMERIC),
    entry("nanmean", dim_samples([(), (1,), (0, True)])),
    entry(
        "rot90", dim_samples([(), (2,), (-1, (1, 0)), (3, (0, 1))], False), ALL, exempt=NEEDS_DIMS
    ),
    entry("fliplr", dim_samples([()], False), ALL, exempt=NEEDS_DIMS),
    entry("flipud", dim_samples([()], False), ALL, exempt=NEEDS_DIMS),
    entry("take_along_dim", take_along_dim_samples, ALL, exempt=NEEDS_DIMS),
    entry("take", take_samples, ALL),
    entry("unflatten", unflatten_samples, ALL, exempt=NEEDS_DIMS),
    OpInfo(
        "argwhere",
        [method("argwhere"), function("argwhere")],
        unary_samples(),
        ALL,
        differentiable=False,
    ),
    OpInfo(
        "is_nonzero",
        [_as_tensor("is_nonzero"), _as_tensor("is_nonzero", "Tensor")],
        is_nonzero_samples,
        ALL,
        differentiable=False,
        graph="none",
        graph_reason="a Python bool",
        exempt=ONE_ELEMENT,
    ),
    *(entry(name, unary_samples(), NUMERIC, inplace=True) for name in ("deg2rad", "rad2deg")),
    entry("logit", probability_samples, inplace=True),
    entry("sinc", unary_samples(), inplace=True),
    entry("xlogy", positive_pair_samples, inplace=True, broadcasts=True),
    entry(
        "copysign",
        binary_samples(mixed=()),
        inplace=True,
        broadcasts=True,
    ),
    entry("float_power", binary_samples(ka="p", mixed=()), NUMERIC, broadcasts=True),
    *(
        OpInfo(name, [method(name), function(name)], float_class_samples, ALL, differentiable=False)
        for name in ("signbit", "isposinf", "isneginf", "isreal")
    ),
    entry("tensor_split", tensor_split_samples, ALL, exempt=NEEDS_DIMS),
    *(
        entry(name, numpy_split_samples, ALL, exempt=NEEDS_DIMS)
        for name in ("hsplit", "vsplit", "dsplit")
    ),
    OpInfo(
        "aminmax",
        [method("aminmax"), function("aminmax")],
        dim_samples([()], empty=False),
        NUMERIC,
        exempt={"size-0": "PyTorch refuses an empty input (no identity)"},
        graph="none",
        graph_reason=COMPOSITE,
    ),
    *(
        entry(
            name,
            clamp_bound_samples(name),
            NUMERIC,
            inplace=True,
        )
        for name in ("clamp_min", "clamp_max")
    ),
    entry("dist", dist_samples),
    OpInfo(
        "cdist",
        [function("cdist")],
        cdist_samples,
        graph="none",
        graph_reason=COMPOSITE,
        exempt={**NEEDS_DIMS},
    ),
    entry("diff", diff_samples, ALL, exempt=NEEDS_DIMS),
    entry("kron", kron_samples, NUMERIC),
    OpInfo(
        "tensordot",
        [function("tensordot")],
        tensordot_samples,
        graph="none",
        graph_reason=COMPOSITE,
    ),
    *(
        OpInfo(name, [function(name)], atleast_samples, ALL, graph="none", graph_reason=COMPOSITE)
        for name in ("atleast_1d", "atleast_2d", "atleast_3d")
    ),
    *(
        entry(name, scan_pair_samples, ALL if name != "logcumsumexp" else FLOATS)
        for name in ("cummax", "cummin", "logcumsumexp")
    ),
    OpInfo(
        "searchsorted",
        [function("searchsorted")],
        searchsorted_samples,
        NUMERIC,
        differentiable=False,
    ),
    OpInfo("bucketize", [function("bucketize")], bucketize_samples, NUMERIC, differentiable=False),
    OpInfo(
        "bincount",
        [method("bincount"), function("bincount")],
        bincount_samples,
        ("int64",),
        differentiable=False,
        exempt=NEEDS_DIMS,
    ),
    *(
        OpInfo(
            name,
            [function(name)],
            trapezoid_samples,
            graph="none",
            graph_reason=COMPOSITE,
            exempt=NEEDS_DIMS,
        )
        for name in ("trapezoid", "trapz")
    ),
    OpInfo(
        "block_diag",
        [function("block_diag")],
        block_diag_samples,
        NUMERIC,
        graph="none",
        graph_reason=COMPOSITE,
    ),
    OpInfo(
        "cartesian_prod",
        [function("cartesian_prod")],
        cartesian_prod_samples,
        NUMERIC,
        graph="none",
        graph_reason=COMPOSITE,
        exempt=NEEDS_DIMS,
    ),
    OpInfo(
        "chain_matmul",
        [function("chain_matmul")],
        chain_matmul_samples,
        graph="none",
        graph_reason=COMPOSITE,
        exempt=NEEDS_DIMS,
    ),
    *(
        OpInfo(
            name,
            [
                # (names the fuzzer does not render: it would compare the raw factors, whose
                # signs depend on the LAPACK build)
                Variant(
                    f"x.{name} up to signs",
                    lambda mod, x, name=name, free=free: free(getattr(x, name)),
                    (f"Tensor.{name}",),
                ),
                Variant(
                    f"rustgrad.{name} up to signs",
                    lambda mod, x, name=name, free=free: free(lambda: getattr(mod, name)(x)),
                    (f"rustgrad.{name}",),
                ),
            ],
            decomposition_samples,
            graph="none",
            graph_reason=COMPOSITE,
            exempt={**NEEDS_DIMS, "size-0": "LAPACK has no empty factorisation here"},
        )
        for name, free in (("svd", _svd_gauge_free), ("qr", _qr_gauge_free))
    ),
    entry(
        "pinverse",
        decomposition_samples,
        exempt={**NEEDS_DIMS, "size-0": "LAPACK has no empty SVD here"},
    ),
    entry("select", select_samples, ALL, exempt=NEEDS_DIMS),
    *(
        OpInfo(name, [method(name), function(name)], float_class_samples, ALL, differentiable=False)
        for name in ("isnan", "isinf", "isfinite")
    ),
    entry("nan_to_num", nan_to_num_samples, NUMERIC, inplace=True),
    entry("addcmul", addc_samples("n"), NUMERIC, inplace=True),
    entry("addcdiv", addc_samples("z"), inplace=True),
    entry("diag_embed", diag_embed_samples, ALL, exempt=NEEDS_DIMS),
    *(
        entry(name, square_samples, exempt=NEEDS_DIMS)
        for name in ("det", "logdet", "slogdet", "inverse")
    ),
    entry("matrix_power", matrix_power_samples, exempt=NEEDS_DIMS),
    entry("cross", cross_samples, exempt={**NEEDS_DIMS, "size-1": "needs a dim of size 3"}),
    *(
        OpInfo(name, [function(name)], gen, ALL, graph="none", graph_reason=COMPOSITE)
        for name, gen in [
            ("broadcast_tensors", broadcast_tensors_samples),
            ("meshgrid", meshgrid_samples),
        ]
    ),
    attribute("mT", matrix_t_samples),
    attribute("mH", matrix_t_samples),
    attribute("H", matrix_h_samples),
    entry("prod", prod_samples, ALL),
    entry("cumsum", scan_samples, ALL, inplace=True),
    entry("cumprod", scan_samples, ALL, inplace=True),
    entry("var", var_samples),
    entry(
        "std",
        var_samples,
        expects=[
            skip(
                ("gradgradcheck",),
                "the second derivative is infinite where the deviation is 0 (equal values)",
                samples=lambda s: s.args[0].layout == "expanded",
            )
        ],
    ),
    entry("norm", norm_samples),
    entry("logsumexp", logsumexp_samples),
    entry("any", any_all_samples, ALL, differentiable=False),
    entry("all", any_all_samples, ALL, differentiable=False),
    entry("amax", amax_samples, NUMERIC, exempt=NEEDS_DIMS),
    entry("amin", amax_samples, NUMERIC),
    entry("sort", sort_samples, NUMERIC),
    entry("argsort", argsort_samples, NUMERIC, differentiable=False),
    entry("topk", topk_samples, NUMERIC),
    entry("kthvalue", kthvalue_samples, FLOATS),  # (int64: PyTorch's index among ties varies)
    entry("median", median_samples, FLOATS),
    entry("nanmedian", nanmedian_samples, FLOATS),
    entry("unique", unique_samples, NUMERIC, differentiable=False),
    OpInfo("rustgrad.dot", [function("dot")], dot_samples, exempt=NEEDS_DIMS),
    entry("mv", mv_samples, exempt=NEEDS_DIMS),
    entry("bmm", bmm_samples, exempt=NEEDS_DIMS),
    # fused in the core (the product accumulates onto the input's copy): PyTorch's nodes
    OpInfo(
        "addmm",
        [method("addmm"), function("addmm")],
        addmm_samples,
        NUMERIC,
        broadcasts=True,
    ),
    OpInfo(
        "baddbmm",
        [method("baddbmm"), function("baddbmm")],
        baddbmm_samples,
        NUMERIC,
        broadcasts=True,
    ),
    entry("outer", outer_samples, exempt=NEEDS_DIMS),
    OpInfo("einsum", [function("einsum")], einsum_samples, graph="none", graph_reason=COMPOSITE),
    entry("gather", gather_samples, ALL),
    entry("scatter", scatter_samples, NUMERIC, inplace=True),
    entry("scatter_add", scatter_add_samples, NUMERIC, inplace=True),
    entry("index_select", index_select_samples, ALL),
    entry("index_add", index_add_samples, NUMERIC, inplace=True),
    OpInfo(  # recorded as PyTorch's MaskedFillBackward0/1 (python/rustgrad/_native.py)
        "masked_fill",
        [method("masked_fill"), function("masked_fill")],
        masked_fill_samples,
        ALL,
        inplace_variants=[method("masked_fill_")],
        graph="name",
        graph_reason="a Python-recorded node (python/rustgrad/_native.py): its inputs are not "
        "listed as PyTorch's are",
        expects=[EXPANDED_WRITE],
    ),
    entry("masked_select", masked_select_samples, ALL),
    entry("nonzero", nonzero_samples, ALL, differentiable=False),
    entry("tril", tri_samples, ALL, inplace=True, exempt=NEEDS_DIMS, expects=[EXPANDED_WRITE]),
    entry("triu", tri_samples, ALL, inplace=True, exempt=NEEDS_DIMS, expects=[EXPANDED_WRITE]),
    entry("roll", roll_samples, ALL),
    entry("flip", flip_samples, ALL),
    entry("repeat", repeat_samples, ALL, fn=False),
    entry("tile", tile_samples, ALL),
    entry("repeat_interleave", repeat_interleave_samples, ALL),
    entry("split", split_samples, ALL, exempt=NEEDS_DIMS),
    entry("chunk", chunk_samples, ALL, exempt=NEEDS_DIMS),
    entry("unbind", unbind_samples, ALL, exempt=NEEDS_DIMS),
    entry("narrow", narrow_samples, ALL, exempt=NEEDS_DIMS),
    entry("movedim", movedim_samples, ALL),
    entry("moveaxis", movedim_samples, ALL),
    entry("swapaxes", swap_samples, ALL),
    entry("swapdims", swap_samples, ALL),
    OpInfo(  # a view, recorded as PyTorch's DiagonalBackward0
        "diagonal",
        [method("diagonal"), function("diagonal")],
        diagonal_samples,
        ALL,
        exempt=NEEDS_DIMS,
    ),
    entry("diag", diag_samples, ALL, exempt=NEEDS_DIMS),
    entry("trace", trace_samples, NUMERIC, exempt=NEEDS_DIMS),
    OpInfo(
        "isclose",
        [method("isclose"), function("isclose")],
        close_samples,
        NUMERIC,
        differentiable=False,
    ),
    OpInfo(
        "allclose",
        [_as_tensor("allclose"), _as_tensor("allclose", "Tensor")],
        close_samples,
        NUMERIC,
        differentiable=False,
        graph="none",
        graph_reason="a Python bool",
    ),
    OpInfo(
        "equal",
        [_as_tensor("equal"), _as_tensor("equal", "Tensor")],
        equal_samples,
        ALL,
        differentiable=False,
        graph="none",
        graph_reason="a Python bool",
    ),
    OpInfo(
        "is_tensor",
        [_as_tensor("is_tensor")],
        is_tensor_samples,
        FLOATS,
        differentiable=False,
        graph="none",
        graph_reason="a Python bool",
    ),
]
