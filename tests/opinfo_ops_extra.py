"""The op table's entries for ``python/rustgrad/_ops_extra.py`` (PyTorch's remaining everyday
tensor names): products with accumulation, NaN-ignoring extremes, the real-number identities
of the complex API, indexed writes, statistics and conversions. ``opinfo.py`` appends ``OPS``
to ``OP_DB`` (gradcheck, gradgradcheck, PyTorch parity, variants, in place, CUDA).

These are composites of the core's ops: ``graph="none"`` (their nodes are their parts').
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
    function,
    method,
    skip,
    unary_samples,
    where_samples,
)
from opinfo_ops import COMPOSITE, NEEDS_DIMS, chunk_samples, entry, split_samples


def _idx(values):
    return Arg(np.asarray(values, dtype=np.int64))


def _const(values, dtype=np.float64):
    return Arg(np.asarray(values, dtype=dtype), requires_grad=False)


ZERO_TENSOR = "PyTorch's gradient is a ZeroTensor, which has no NumPy view (test_ops_extra)"
MATRICES = {"0-d": "matrix and vector arguments", "size-1": "covered by the other shapes"}


def addmv_samples(g):
    t = g.t
    yield S(t((3,)), t((3, 4)), t((4,)))
    yield S(t(()), t((3, 4), "n", "transposed"), t((4,), "n", "stepped"), beta=0.5, alpha=2)
    yield S(t((3,), "n", "offset"), t((3, 0)), t((0,)))
    yield S(t((1,)), t((1, 2)), t((2,)), beta=0)
    yield S(t((0,)), t((0, 2)), t((2,)))


def addr_samples(g):
    t = g.t
    yield S(t((3, 4)), t((3,)), t((4,)))
    beta = 0.5 if g.dtype != "int64" else 3  # (PyTorch refuses float scalars for integers)
    yield S(t((4,)), t((3,), "n", "stepped"), t((4,), "n", "offset"), beta=beta, alpha=2)
    yield S(t((2, 2), "n", "transposed"), t((2,)), t((2,)), beta=0)
    yield S(t(()), t((0,)), t((3,)))
    yield S(t((1, 1)), t((1,)), t((1,)))


def addbmm_samples(g):
    t = g.t
    yield S(t((3, 4)), t((2, 3, 5)), t((2, 5, 4)))
    yield S(t((4,)), t((2, 3, 5), "n", "stepped"), t((2, 5, 4), "n", "offset"), beta=0.5, alpha=2)
    yield S(t((2, 2), "n", "transposed"), t((0, 2, 3)), t((0, 3, 2)), beta=0)
    yield S(t(()), t((1, 1, 1)), t((1, 1, 1)))


def inner_samples(g):
    t = g.t
    yield S(t((2, 3)), t((4, 3)))
    yield S(t((3,)), t((3,), "n", "offset"))
    yield S(t(()), t((2, 3), "n", "transposed"))
    yield S(t((2, 0)), t((0,)))
    yield S(t((1,)), t((2, 2, 1), "n", "stepped"))


def vector_pair_samples(g):
    t = g.t
    yield S(t((3,)), t((3,)))
    yield S(t((4,), "n", "offset"), t((4,), "n", "stepped"))
    yield S(t((0,)), t((0,)))
    yield S(t((1,)), t((1,)))


def outer_pair_samples(g):
    t = g.t
    yield S(t((3,)), t((2,)))
    yield S(t((4,), "n", "offset"), t((3,), "n", "stepped"))
    yield S(t((0,)), t((2,)))
    yield S(t((1,)), t((1,)))


def diagflat_samples(g):
    t = g.t
    yield S(t((2, 2)))
    yield S(t((3,)), 1)
    yield S(t((3,), "n", "offset"), -2)
    yield S(t((2, 3), "n", "transposed"))
    yield S(t(()))
    yield S(t((0,)))
    yield S(t((1,)), 2)


def msort_samples(g):
    t = g.t
    yield S(t((4, 3)))
    yield S(t((3, 4), "n", "transposed"))
    yield S(t((5,), "n", "offset"))
    yield S(t((0, 2)))
    yield S(t((1,)))
    yield S(t(()))


def unsafe_split_samples(g):
    """``split``'s samples with one size (``unsafe_split`` takes no list)."""
    yield from (
        s for s in split_samples(g) if not (len(s.args) > 1 and isinstance(s.args[1], list))
    )


def split_with_sizes_samples(g):
    t = g.t
    yield S(t((5, 3)), [2, 3])
    yield S(t((2, 6), "n", "transposed"), [1, 2, 3], 1)
    yield S(t((4, 2), "n", "offset"), [0, 4])
    yield S(t((0, 2)), [0])
    yield S(t((1,)), [1])


def cov_samples(g):
    t = g.t
    yield S(t((3, 5)))
    yield S(t((4,)), correction=0)
    yield S(t((2, 4), "n", "transposed"), fweights=_idx([1, 2, 1, 3]))
    yield S(t((2, 4), "n", "offset"), aweights=_const([0.5, 1.0, 2.0, 1.5]), correction=2)
    yield S(t((2, 3), "n", "stepped"), fweights=_idx([2, 1, 1]), aweights=_const([1.0, 0.5, 2.0]))
    yield S(t((1, 3)))


def corrcoef_samples(g):
    t = g.t
    yield S(t((3, 5)))
    yield S(t((2, 4), "n", "transposed"))
    yield S(t((2, 3), "n", "offset"))
    yield S(t((4,)))


def quantile_samples(g):
    t = g.t
    for q in (0.3, _const([0.1, 0.5, 0.9])):
        yield S(t((4, 5)), q)
        yield S(t((4, 5), "n", "transposed"), q, 1, True)
    yield S(t((6,), "n", "offset"), 0.75, interpolation="lower")
    yield S(t((3, 4), "n", "stepped"), 0.4, 0, interpolation="higher")
    yield S(t((2, 5)), 0.6, -1, interpolation="midpoint")
    yield S(t((2, 5)), 0.62, 1, True, interpolation="nearest")
    yield S(t(()), 0.5)
    yield S(t((1,)), 0.2, 0, True)


def _quantile_dtype(sample, dtype):
    """A tensor ``q`` in the input's dtype (PyTorch requires it)."""
    for i, a in enumerate(sample.args):
        if isinstance(a, Arg) and not a.requires_grad:
            sample.args = sample.args[:i] + (_const(a.value, dtype),) + sample.args[i + 1 :]
    return sample


def _quantiles(g):
    for s in quantile_samples(g):
        yield _quantile_dtype(s, g.dtype)


def index_fill_samples(g):
    t = g.t
    yield S(t((3, 4)), 1, _idx([0, 2]), -1.5)
    yield S(t((3, 4), "n", "transposed"), 0, _idx([2, 2, -1]), 2)
    yield S(t((2, 3), "n", "offset"), -1, _idx([]), 0.5)
    yield S(t((4, 2), "n", "stepped"), 0, _idx([1]), t(()))
    yield S(t(()), 0, _idx([0]), 3)
    yield S(t((0, 3)), 1, _idx([1]), 1)
    yield S(t((1,)), 0, _idx([0]), 1)


def index_copy_samples(g):
    t = g.t
    yield S(t((3, 4)), 0, _idx([2, 0]), t((2, 4)))
    yield S(t((3, 4), "n", "transposed"), 1, _idx([3, 1, 0]), t((3, 3), "n", "offset"))
    yield S(t((2, 3), "n", "stepped"), -1, _idx([]), t((2, 0)))
    yield S(t((1,)), 0, _idx([0]), t((1,)))
    yield S(t(()), 0, _idx([0]), t(()))
    yield S(t((0, 2)), 1, _idx([1]), t((0, 1)))


def masked_scatter_samples(g):
    t = g.t

    def mask(shape):
        return Arg(g.rng.random(shape) < 0.5)

    yield S(t((3, 4)), mask((3, 4)), t((12,)))
    yield S(t((3, 4), "n", "transposed"), mask((4,)), t((3, 5), "n", "offset"))
    yield S(t((2, 3), "n", "stepped"), mask((2, 1)), t((7,)))
    yield S(t(()), Arg(np.array(True)), t((2,)))
    yield S(t((0, 2)), mask((0, 2)), t((1,)))
    yield S(t((1,)), mask((1,)), t((1,)))


def index_put_samples(g):
    t = g.t
    yield S(t((3, 4)), (_idx([0, 2]), _idx([1, 3])), t((2,)))
    yield S(t((5,)), (_idx([0, 0, 2]),), t((3,)), True)
    yield S(t((3, 4), "n", "transposed"), (_idx([[0], [2]]), _idx([1, 3, 0])), t(()), True)
    yield S(t((4, 2), "n", "offset"), (_idx([3, -1]),), t((2,), "n", "stepped"), True)
    yield S(t((2, 3)), (_idx([1, 1]),), t((3,)), accumulate=True)
    yield S(t((0, 3)), (_idx([]),), t((3,)))
    yield S(t((1,)), (_idx([0]),), t((1,)))


def type_as_samples(g):
    t = g.t
    other = "float64"  # (never to a narrower type: gradcheck runs in float64)
    for dtype in (other, g.dtype):
        yield S(t((2, 3)), _const(np.zeros(1), dtype))
        yield S(t((3, 2), "n", "transposed"), _const(np.zeros(()), dtype))
        yield S(t((2,), "n", "offset"), _const(np.zeros(1), dtype))
    yield S(t(()), _const(np.zeros(2), other))
    yield S(t((0, 2)), _const(np.zeros(1), other))
    yield S(t((1,)), _const(np.zeros(1), other))


def broadcast_to_samples(g):
    t = g.t
    yield S(t((3, 1)), (2, 3, 4))
    yield S(t((2, 3), "n", "transposed"), (-1, 3))
    yield S(t((1,), "n", "offset"), (0,))
    yield S(t(()), (2, 2))
    yield S(t((0, 1)), (2, 0, 3))


def sum_to_size_samples(g):
    t = g.t
    yield S(t((2, 3, 4)), (3, 1))
    yield S(t((3, 4), "n", "transposed"), (1, 4))
    yield S(t((2, 3), "n", "offset"), (2, 3))
    yield S(t((2, 2), "n", "stepped"), 1, 2)
    yield S(t(()), ())
    yield S(t((0, 3)), (1, 3))
    yield S(t((1,)), (1,))


def moments_samples(g):
    t = g.t
    for x in (t((2, 3)), t((3, 4), "n", "transposed"), t((2, 3), "n", "offset")):
        for args in ((), (1,), (0, True), ((0, 1),)):
            yield S(x, *args)
    yield S(t((2, 4), "n", "stepped"), 1, correction=0)
    yield S(t((3, 4)), 1, False, True)
    # one observation: correction 0 keeps the result finite
    yield S(t(()), correction=0)
    yield S(t((1,)), 0, correction=0)
    yield S(t((0, 3)), 1)


def tensor_unfold_samples(g):
    t = g.t
    yield S(t((7,)), 0, 3, 2)
    yield S(t((4, 3)), 0, 2, 1)  # overlapping windows: their gradients add up
    yield S(t((3, 4), "n", "transposed"), 1, 2, 1)
    yield S(t((3, 5), "n", "offset"), -1, 5, 3)
    yield S(t((2, 6), "n", "stepped"), 1, 0, 2)
    yield S(t(()), 0, 1, 1)
    yield S(t((0, 3)), 0, 0, 1)
    yield S(t((1,)), 0, 1, 1)


def _where_method(mod, condition, x, y):
    return x.where(condition, y)


OPS = [
    *(
        entry(name, gen, NUMERIC, inplace=True, exempt=MATRICES, broadcasts=True)
        for name, gen in (("addmv", addmv_samples), ("addr", addr_samples))
    ),
    entry("addbmm", addbmm_samples, NUMERIC, exempt=MATRICES, broadcasts=True),
    *(
        entry(name, binary_samples(scalars=(), mixed=()), NUMERIC, broadcasts=True)
        for name in ("fmax", "fmin")
    ),
    entry(
        "sgn",
        unary_samples(),
        NUMERIC,
        inplace=True,
        expects=[skip(("parity", "inplace"), ZERO_TENSOR, dtypes=FLOATS)],
    ),
    *(
        entry(name, unary_samples(), ALL)
        for name in ("conj", "resolve_conj", "resolve_neg", "conj_physical")
    ),
    OpInfo(  # (Tensor.real is a property, as PyTorch's)
        "real", [function("real")], unary_samples(), ALL, graph="none", graph_reason="itself"
    ),
    entry("inner", inner_samples, NUMERIC, broadcasts=True),
    *(
        entry(name, gen, NUMERIC, exempt=MATRICES | {"broadcast": "1-D operands"})
        for name, gen in (("vdot", vector_pair_samples), ("ger", outer_pair_samples))
    ),
    entry("diagflat", diagflat_samples, ALL),
    entry("msort", msort_samples, NUMERIC),
    entry("split_with_sizes", split_with_sizes_samples, ALL, exempt=NEEDS_DIMS),
    entry("unsafe_split_with_sizes", split_with_sizes_samples, ALL, exempt=NEEDS_DIMS),
    entry("unsafe_split", unsafe_split_samples, ALL, exempt=NEEDS_DIMS),
    entry("unsafe_chunk", chunk_samples, ALL, exempt=NEEDS_DIMS),
    *(
        OpInfo(name, [function(name)], moments_samples, graph="none", graph_reason=COMPOSITE)
        for name in ("var_mean", "std_mean")
    ),
    entry(
        "cov",
        cov_samples,
        FLOATS,
        exempt={
            "0-d": "one observation: NaN",
            "size-0": "no observations: NaN",
            "size-1": "one observation: NaN",
        },
    ),
    entry(
        "corrcoef",
        corrcoef_samples,
        FLOATS,
        exempt={
            "0-d": "one variable: NaN",
            "size-0": "no observations: NaN",
            "size-1": "one observation: NaN",
        },
    ),
    *(
        entry(name, _quantiles, FLOATS, exempt={"size-0": "PyTorch refuses an empty input"})
        for name in ("quantile", "nanquantile")
    ),
    entry("index_fill", index_fill_samples, ALL, inplace=True),
    entry("index_copy", index_copy_samples, ALL, inplace=True),
    entry("masked_scatter", masked_scatter_samples, ALL, inplace=True, broadcasts=True),
    entry("index_put", index_put_samples, NUMERIC, inplace=True, broadcasts=True),
    OpInfo(
        "type_as",
        [method("type_as")],
        type_as_samples,
        graph="none",
        graph_reason="a cast, or the tensor itself",
    ),
    entry("broadcast_to", broadcast_to_samples, ALL),
    OpInfo("Tensor.unfold", [method("unfold")], tensor_unfold_samples, ALL),
    OpInfo(
        "sum_to_size",
        [method("sum_to_size")],
        sum_to_size_samples,
        NUMERIC,
        graph="none",
        graph_reason=COMPOSITE,
    ),
    OpInfo(
        "where_method",
        [Variant("x.where", _where_method, ("Tensor.where",))],
        lambda g: (s for s in where_samples(g) if isinstance(s.args[1], Arg)),
        ALL,
        broadcasts=True,
        graph="none",
        graph_reason="where's node",
    ),
]
