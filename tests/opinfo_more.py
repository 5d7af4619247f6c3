"""The op table's entries for ``grid_sample``/``affine_grid`` (``nn/_sampling.py``),
``embedding_bag`` (``nn/_embedding_bag.py``), ``conv_transpose1d``/``conv3d``
(``nn/_conv_functional.py``) and ``scatter_reduce``/``histc``/``mode`` (``_ops_more.py``).
``opinfo.py`` appends ``OPS`` to ``OP_DB``, so gradcheck, gradgradcheck, PyTorch parity,
variants, in place and CUDA against the CPU run these too; the modules, warnings and errors
are in ``test_ops_more.py``.

Graphs: grid_sample, affine_grid, embedding_bag, scatter_reduce and mode are recorded as
PyTorch's nodes (``GridSampler2DBackward0``, ..., ``ModeBackward0``); the two convolutions are
composites of the 2-d ones (``graph="none"``).

Kinks: grid values are drawn so that no sample point lies on a pixel centre (bilinear and
bicubic weights have kinks there, nearest jumps halfway between), and ties (``mode``,
``scatter_reduce`` with ``amax``/``amin``) skip the finite-difference checks.
"""

import numpy as np
from opinfo import ALL, FLOATS, NUMERIC, Arg, OpInfo, S, function, functional, method, skip

IMAGE_0D = "needs an (N, C, *spatial) input"
COMPOSITE = "a composite of the 2-d convolution: its nodes are its parts', not PyTorch's"
THETA = {
    "0-d": "theta is (N, 2, 3) or (N, 3, 4)",
    "size-1": "theta is (N, 2, 3) or (N, 3, 4)",
    "size-0": "PyTorch refuses an empty output size",
}
TIES = "not differentiable at ties (finite differences straddle a kink)"
RECORDED = (
    "recorded as PyTorch's node, but its next_functions leave out an absent "
    "per_sample_weights, which PyTorch lists as None"
)


# ----- grid_sample, affine_grid --------------------------------------------------------------


def _grid(g, shape, layout="contiguous", spread=0.7):
    """Grid values in about [-1.6, 1.6] (inside and outside the image) that stay away from
    the pixel centres and the points halfway between them of every image size used here."""
    arg = g.t(shape, "n", layout)
    v = np.clip(arg.value * spread, -1.6, 1.6)
    # the kinks of images of sizes 1 to 4 (pixel centres, and the halfway points where
    # nearest jumps) lie on multiples of 1/12: keep v at least 0.012 from those of 1/24
    v = np.round(v * 24) / 24 + np.where(g.rng.random(v.shape) < 0.5, -1, 1) * g.rng.uniform(0.012, 0.02, v.shape)  # fmt: skip
    arg.value = v.astype(arg.value.dtype)
    return arg


def grid_sample_samples(g):
    v = g.t
    yield S(v((2, 3, 3, 4)), _grid(g, (2, 3, 4, 2)), align_corners=False)
    yield S(v((1, 2, 3, 4)), _grid(g, (1, 2, 3, 2)), "bilinear", "border", True)
    yield S(v((1, 2, 3, 4), "n", "transposed"), _grid(g, (1, 3, 2, 2), spread=1.5), "bilinear", "reflection", False)  # fmt: skip
    yield S(v((1, 2, 4, 3)), _grid(g, (1, 3, 2, 2), spread=1.5), padding_mode="reflection", align_corners=True)  # fmt: skip
    for pad in ("zeros", "border", "reflection"):
        yield S(v((1, 2, 3, 4)), _grid(g, (1, 2, 3, 2), spread=1.2), "nearest", pad, False)
        yield S(v((1, 2, 4, 3)), _grid(g, (1, 3, 2, 2), spread=1.2), "bicubic", pad, pad == "border")  # fmt: skip
    # 3-d (trilinear)
    yield S(v((1, 2, 2, 3, 4)), _grid(g, (1, 2, 2, 1, 3)), align_corners=False)
    yield S(v((2, 1, 3, 2, 3), "n", "offset"), _grid(g, (2, 1, 2, 2, 3), spread=1.5), "bilinear", "reflection", True)  # fmt: skip
    yield S(v((1, 1, 2, 3, 2)), _grid(g, (1, 2, 1, 2, 3)), "nearest", "border", False)
    # size 1, size 0 and other layouts
    yield S(v((1, 1, 1, 1)), _grid(g, (1, 1, 1, 2)), align_corners=False)
    yield S(v((0, 2, 3, 3)), _grid(g, (0, 2, 2, 2)), align_corners=False)
    yield S(v((1, 2, 3, 3)), _grid(g, (1, 0, 3, 2)), align_corners=True)
    yield S(v((1, 2, 3, 4), "n", "offset"), _grid(g, (1, 2, 3, 2), "stepped"), "bicubic", "zeros", True)  # fmt: skip
    yield S(v((2, 2, 3, 3), "n", "expanded"), _grid(g, (2, 2, 2, 2), "offset"), align_corners=False)  # fmt: skip


def affine_grid_samples(g):
    v = g.t
    yield S(v((2, 2, 3)), (2, 3, 4, 5), align_corners=False)
    yield S(v((1, 2, 3), "n", "transposed"), [1, 1, 3, 2], align_corners=True)
    yield S(v((2, 3, 4)), (2, 1, 2, 3, 4), align_corners=False)
    yield S(v((1, 3, 4), "n", "offset"), (1, 2, 3, 2, 2), align_corners=True)
    yield S(v((1, 2, 3)), (1, 1, 1, 1), align_corners=False)
    yield S(v((2, 2, 3), "n", "expanded"), (2, 1, 2, 2), align_corners=False)


# ----- embedding_bag -------------------------------------------------------------------------


def _indices(g, shape, high):
    return Arg(g.rng.integers(0, high, shape).astype(np.int64))


def _long(values):
    return Arg(np.asarray(values, dtype=np.int64))


def embedding_bag_samples(g):
    v = g.t
    flat = _long([1, 2, 4, 5, 4, 3, 2, 0, 5])
    yield S(_indices(g, (2, 3), 6), v((6, 4)))
    yield S(flat, v((6, 3)), _long([0, 2, 2, 5]), mode="sum")
    yield S(flat, v((6, 3)), _long([0, 3, 3, 9]), mode="max", include_last_offset=True)
    yield S(flat, v((6, 3)), _long([0, 4]), mode="mean", padding_idx=4)
    yield S(flat, v((6, 3)), _long([0, 1, 6]), mode="max", padding_idx=-1)
    yield S(flat, v((6, 3)), _long([0, 5]), mode="sum", per_sample_weights=v((9,)))
    yield S(_indices(g, (3, 2), 5), v((5, 2), "n", "transposed"), mode="sum", per_sample_weights=v((3, 2), "n", "stepped"), padding_idx=0)  # fmt: skip
    yield S(_indices(g, (2, 4), 4), v((4, 3), "n", "offset"), mode="max")
    yield S(_indices(g, (2, 2), 3), v((3, 2), "n", "expanded"), mode="mean")
    yield S(_long([0]), v((1, 1)), _long([0]))
    yield S(_long([]), v((3, 2)), _long([0, 0]), mode="sum")
    yield S(_long([]), v((3, 2)), _long([0, 0]), mode="max")
    yield S(_long(np.zeros((0, 2))), v((3, 2)))


# ----- conv_transpose1d, conv3d --------------------------------------------------------------


def conv_transpose1d_samples(g):
    v = g.t
    yield S(v((2, 3, 4)), v((3, 2, 3)), v((2,)))
    yield S(v((1, 4, 5), "n", "transposed"), v((4, 1, 2)), v((2,)), stride=2, padding=1, output_padding=1, groups=2)  # fmt: skip
    yield S(v((1, 1, 1)), v((1, 1, 1)))
    yield S(v((2, 3), "n", "offset"), v((2, 2, 2)), None, stride=3, dilation=2, output_padding=2)
    yield S(v((0, 2, 3)), v((2, 2, 2)))


def conv3d_samples(g):
    v = g.t
    yield S(v((2, 3, 3, 4, 4)), v((2, 3, 2, 2, 3)), v((2,)))
    yield S(v((1, 4, 4, 3, 5), "n", "transposed"), v((4, 2, 2, 3, 2)), None, stride=(2, 1, 2), padding=1, dilation=(1, 1, 2), groups=2)  # fmt: skip
    yield S(v((1, 1, 1, 1, 1)), v((1, 1, 1, 1, 1)), v((1,)))
    yield S(v((2, 3, 4, 3), "n", "offset"), v((3, 2, 2, 2, 2)), v((3,)), padding="same")
    yield S(v((0, 2, 2, 2, 2)), v((1, 2, 1, 2, 1)), padding="valid")


# ----- scatter_reduce, histc, mode -----------------------------------------------------------


def _scatter_index(g, shape, size):
    return Arg(g.rng.integers(0, size, shape).astype(np.int64))


def scatter_reduce_samples(g):
    t = g.t
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        idx = _scatter_index(g, (3, 4), 3)
        yield S(t((3, 3)), 1, idx, t((3, 4)), reduce)
        yield S(t((2, 4)), 0, _scatter_index(g, (3, 4), 2), t((3, 4)), reduce, include_self=False)  # fmt: skip
    # repeated positions, with zeros in a product and ties in max/min
    src = t((2, 5))
    if g.dtype in FLOATS:
        src.value[0, 1] = 0
    idx = _long([[0, 1, 1, 2, 0], [2, 2, 0, 1, 1]])
    yield S(t((2, 3)), 1, idx, src, "prod")
    tied = t((2, 3))
    src = t((2, 5))
    src.value[0, :2] = tied.value[0, 0]
    ties = {"gradcheck": TIES, "gradgradcheck": TIES}
    yield S(tied, 1, idx, src, "amax", skips=ties)
    yield S(tied, 1, idx, src, "amin", include_self=False, skips=ties)
    # layouts, 0-d, size 0 and 1
    yield S(t((4, 3), "n", "transposed"), 0, _scatter_index(g, (3, 2), 4), t((3, 2), "n", "stepped"), "mean")  # fmt: skip
    yield S(t((3, 2), "n", "offset"), 1, _scatter_index(g, (3, 3), 2), t((3, 3), "n", "offset"), "sum")  # fmt: skip
    yield S(t(()), 0, _long(0), t(()), "prod")
    yield S(t((), "n", "offset"), 0, _long(0), t(()), "amax", include_self=False)
    yield S(t((0, 3)), 1, _long(np.zeros((0, 2))), t((0, 2)), "mean")
    yield S(t((1,)), 0, _long([0]), t((1,)), "sum", include_self=False)


def histc_samples(g):
    t = g.t
    for shape, layout in [((), "contiguous"), ((), "offset"), ((0, 3), "contiguous"), ((1,), "contiguous"), ((4, 5), "transposed"), ((3, 4), "stepped"), ((5, 2), "offset")]:  # fmt: skip
        yield S(t(shape, "n", layout), 7)
    yield S(t((40,)))
    yield S(t((30,)), 5, -1, 1)
    rounded = t((30,))
    rounded.value = np.round(rounded.value * 2).astype(rounded.value.dtype) / 2  # on the edges
    yield S(rounded, 8, -2, 2)
    yield S(rounded, bins=3, min=0.5, max=0.5)


def mode_samples(g):
    t = g.t
    ties = {"gradcheck": TIES, "gradgradcheck": TIES}

    def few_values(shape, layout="contiguous"):
        arg = t(shape, "n", layout)
        if g.dtype in FLOATS:
            arg.value = np.round(arg.value).astype(arg.value.dtype)
        return arg

    yield S(t((3, 4)))  # (distinct values: the mode is the smallest)
    yield S(t((3, 4)), 0, True)
    yield S(few_values((3, 8)), skips=ties)
    yield S(few_values((2, 40)), 1, skips=ties)  # (rows longer than 16: std::sort's introsort)
    yield S(few_values((5, 3, 2), "transposed"), 0, skips=ties)
    yield S(few_values((2, 6), "stepped"), -1, True, skips=ties)
    yield S(few_values((4, 3), "offset"), 0, skips=ties)
    yield S(t((3, 2, 2), "n", "expanded"), 0, skips=ties)
    yield S(t(()))
    yield S(t((), "n", "offset"), 0)
    yield S(t((0, 3)))
    yield S(t((1,)))


def _functional(name, samples, graph="none", **kw):
    return OpInfo(
        f"nn.functional.{name}",
        [functional(name)],
        samples,
        graph=graph,
        graph_reason={"none": COMPOSITE, "name": RECORDED}.get(graph, ""),
        **kw,
    )


OPS = [
    _functional("grid_sample", grid_sample_samples, "full", exempt={"0-d": IMAGE_0D}),
    _functional("affine_grid", affine_grid_samples, "full", exempt=THETA),
    OpInfo(
        "nn.functional.embedding_bag",
        [functional("embedding_bag")],
        embedding_bag_samples,
        graph="name",
        graph_reason=RECORDED,
        exempt={"0-d": "indices are 1-d or 2-d, the weight 2-d"},
        # (its gradients raise PyTorch's errors when differentiated: test_ops_more.py)
        expects=[skip(["gradgradcheck"], "PyTorch has no derivative of _embedding_bag_backward")],
    ),
    _functional("conv_transpose1d", conv_transpose1d_samples, exempt={"0-d": IMAGE_0D}),
    _functional("conv3d", conv3d_samples, exempt={"0-d": IMAGE_0D}),
    OpInfo(
        "scatter_reduce",
        [method("scatter_reduce"), function("scatter_reduce")],
        scatter_reduce_samples,
        NUMERIC,
        inplace_variants=[method("scatter_reduce_")],
    ),
    OpInfo("histc", [method("histc"), function("histc")], histc_samples, differentiable=False),
    OpInfo("mode", [method("mode"), function("mode")], mode_samples, ALL),
]
