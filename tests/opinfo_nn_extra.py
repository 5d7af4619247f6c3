"""The op table's entries for the activations, distances, pixel shuffles and losses of
``nn.functional`` added after issue 12 (``hardswish`` ... ``gaussian_nll_loss``), and the
margin losses of ``nn/_losses_extra.py`` (``multi_margin_loss``, ``multilabel_margin_loss``,
recorded as PyTorch's nodes; ``triplet_margin_with_distance_loss``, a composite). ``opinfo.py``
appends ``OPS`` to ``OP_DB``, so gradcheck, gradgradcheck, PyTorch parity, variants, in place
and CUDA against the CPU run these too; the modules and the errors are in
``test_nn_extra.py``.

Graphs: these are composites of the core's ops (``where``, ``hardtanh``, ``norm``, ...), so
their nodes are their parts', not PyTorch's fused ones (``graph="none"``), except
``hardsigmoid``, recorded as PyTorch's ``HardsigmoidBackward0``.

Kinks: samples keep away from them (``"z"`` values avoid 0 and +-0.5, the default ``lambd``
and the thresholds below; ``hardswish``/``hardsigmoid`` values are spread over +-6 so that
both flat parts and the middle are seen), since finite differences across a kink are not a
derivative.
"""

import numpy as np
from opinfo import (
    ALL,
    FLOATS,
    NUMERIC,
    Arg,
    DType,
    OpInfo,
    S,
    function,
    functional,
    skip,
    unary_samples,
)
from opinfo_elementwise import _inplace_kw, mapped

COMPOSITE = "rustgrad composes {0} from other ops; PyTorch records one node of its own"


def _entry(name, samples, graph="none", variants=(), **kw):
    return OpInfo(
        f"nn.functional.{name}",
        [functional(name), *variants],
        samples,
        graph=graph,
        graph_reason="" if graph == "full" else COMPOSITE.format(name),
        **kw,
    )


def _keywords(base, *extra):
    """``base``'s samples, then each keyword set of ``extra`` on a matrix and its transpose."""

    def gen(g):
        yield from base(g)
        for kwargs in extra:
            yield S(g.t((3, 4), "z"), **kwargs)
            yield S(g.t((3, 4), "z", "transposed"), **kwargs)

    return gen


def _layouts(g, make):
    """``make(arg)`` for one tensor of each case: 0-d (and its offset view), size 0, size 1,
    a matrix, and the transposed, stepped, offset and expanded views."""
    for shape, layout in [
        ((), "contiguous"),
        ((), "offset"),
        ((0, 3), "contiguous"),
        ((1,), "contiguous"),
        ((2, 3), "contiguous"),
        ((3, 4), "transposed"),
        ((2, 3), "stepped"),
        ((3, 2), "offset"),
        ((3, 2, 2), "expanded"),
    ]:
        yield make(shape, layout)


def threshold_samples(g):
    # (thresholds away from the "z" values' +-0.5 gap edges; integers truncate them)
    yield from _layouts(g, lambda s, lay: S(g.t(s, "z", lay), threshold=0.5, value=-2.0))
    yield S(g.t((3, 4), "z"), threshold=-0.5, value=7.5)
    yield S(g.t((3, 4), "z", "transposed"), threshold=-1.5, value=0.0)


def glu_samples(g):
    v = g.t
    yield S(v((3, 4)))
    yield S(v((4, 3)), 0)
    yield S(v((2, 3, 4)), dim=-1)
    yield S(v((2, 6, 2)), 1)
    yield S(v((4,)), 0)
    yield S(v((0, 4)))
    yield S(v((0, 4)), 0)
    yield S(v((3, 4), "n", "transposed"), 1)
    yield S(v((3, 4), "n", "stepped"))
    yield S(v((4, 4), "n", "offset"), 0)
    yield S(v((3, 2, 2), "n", "expanded"), 1)


def softmin_samples(g):
    v = g.t
    for dim in (0, 1, -1):
        yield S(v((3, 4)), dim)
    yield S(v((2, 3, 4)), dim=1)
    yield S(v(()), 0)
    yield S(v((), "n", "offset"), -1)
    yield S(v((0, 3)), 1)
    yield S(v((1,)), 0)
    yield S(v((3, 4), "n", "transposed"), 0)
    yield S(v((2, 5), "n", "stepped"), 1)
    yield S(v((3, 4), "n", "offset"), -1)
    yield S(v((3, 2, 2), "n", "expanded"), 0)
    if g.dtype == "float32":
        yield S(v((2, 3)), 1, dtype=DType("float64"))


def prelu_samples(g):
    v = g.t
    yield S(v((4, 3), "z"), v((3,)))
    yield S(v((2, 3, 4), "z"), v((3,)))
    yield S(v((2, 3, 2, 2), "z"), v((1,)))
    yield S(v((2, 3), "z"), v(()))
    yield S(v((5,), "z"), v((1,)))
    yield S(v((), "z"), v((1,)))
    yield S(v((), "z", "offset"), v(()))
    yield S(v((0, 3), "z"), v((3,)))
    yield S(v((1,), "z"), v((1,)))
    yield S(v((3, 4), "z", "transposed"), v((4,), "n", "stepped"))
    yield S(v((3, 4), "z", "offset"), v((4,), "n", "offset"))
    yield S(v((3, 2, 2), "z", "expanded"), v((2,)))


def cosine_similarity_samples(g):
    v = g.t
    yield S(v((3, 4)), v((3, 4)))
    yield S(v((3, 4)), v((3, 4)), 0)
    yield S(v((2, 3, 4)), v((2, 3, 4)), dim=-1, eps=1e-3)
    yield S(v((3, 4)), v((4,)), -1)
    yield S(v((2, 1, 4)), v((3, 1)), 2)
    yield S(v(()), v(()), 0)
    yield S(v((), "n", "offset"), v((3,)), 0)
    yield S(v((0, 3)), v((0, 3)))
    yield S(v((1, 1)), v((1, 1)))
    yield S(v((3, 4), "n", "transposed"), v((3, 4), "n", "stepped"))
    yield S(v((3, 4), "n", "offset"), v((3, 4), "n", "expanded"), 0)
    if g.dtype == "float32":
        yield S(v((3, 4)), v((3, 4), dtype="float64"))


def pdist_samples(g):
    v = g.t
    yield S(v((4, 3)))
    for p in (0.0, 1.0, 3.0, 0.5, float("inf")):
        yield S(v((4, 3)), p)
    yield S(v((1, 1)))
    yield S(v((1, 3)))  # (no (0, M) sample: PyTorch 2.13's pdist backward of one segfaults)
    yield S(v((3, 0)))
    yield S(v((4, 3), "n", "transposed"), p=1.5)
    yield S(v((3, 4), "n", "offset"))


def pairwise_distance_samples(g):
    v = g.t
    yield S(v((3, 4)), v((3, 4)))
    for p in (1.0, 3.0, 0.5, float("inf")):
        yield S(v((3, 4)), v((3, 4)), p)
    yield S(v((3, 4)), v((3, 4)), 2.0, 1e-3, True)
    yield S(v((2, 3, 4)), v((3, 4)), keepdim=True)
    yield S(v((3, 4)), v((4,)), eps=0.1)
    yield S(v((4,)), v((4,)))
    yield S(v(()), v(()))
    yield S(v((), "n", "offset"), v((3,)), 1.0)
    yield S(v((0, 3)), v((0, 3)))
    yield S(v((1, 1)), v((1, 1)), keepdim=True)
    yield S(v((3, 4), "n", "transposed"), v((3, 4), "n", "stepped"))
    yield S(v((3, 4), "n", "offset"), v((3, 4), "n", "expanded"), 3.0)


EMPTY_UNSHUFFLE = (
    "PyTorch's pixel_unshuffle returns an empty input unchanged (not in the unshuffled "
    "shape), which also breaks its pixel_shuffle backward for empty batches"
)


def pixel_shuffle_samples(g):
    v = g.t
    yield S(v((1, 4, 2, 3)), 2)
    yield S(v((2, 9, 2, 1)), 3)
    yield S(v((8, 2, 2)), 2)
    yield S(v((2, 1, 4, 1, 2)), upscale_factor=2)
    # (no gradient: PyTorch's backward of an empty batch fails, see EMPTY_UNSHUFFLE)
    yield S(v((0, 4, 2, 2), requires_grad=False), 2)
    yield S(v((1, 1, 1)), 1)
    yield S(v((2, 4, 3, 2), "n", "transposed"), 2)
    yield S(v((1, 4, 2, 3), "n", "stepped"), 2)
    yield S(v((2, 4, 2, 2), "n", "offset"), 2)
    yield S(v((2, 4, 1, 2), "n", "expanded"), 2)


def pixel_unshuffle_samples(g):
    v = g.t
    yield S(v((1, 1, 4, 6)), 2)
    yield S(v((2, 2, 3, 6)), 3)
    yield S(v((2, 4, 2)), 2)
    yield S(v((2, 1, 1, 4, 2)), downscale_factor=2)
    yield S(v((0, 1, 2, 2)), 2, skips={"parity": EMPTY_UNSHUFFLE})
    yield S(v((1, 1, 1)), 1)
    yield S(v((1, 2, 4, 2), "n", "transposed"), 2)
    yield S(v((1, 2, 2, 4), "n", "stepped"), 2)
    yield S(v((3, 1, 2, 2), "n", "offset"), 2)
    yield S(v((2, 1, 2, 4), "n", "expanded"), 2)


# ----- losses


def _signs(g, shape, layout="contiguous", values=(1.0, -1.0)):
    """A target of ``values`` (no gradient: PyTorch has none for these targets)."""
    arr = g.rng.choice(np.asarray(values), shape).astype(g.dtype)
    if layout == "expanded":
        arr = np.broadcast_to(arr[:1], shape).copy()
    return Arg(arr, layout, requires_grad=False)


def _pair_with_targets(target):
    """``(input, target(g, shape, layout))`` in every case and each reduction."""

    def samples(g):
        v = g.t
        for reduction in ("mean", "sum", "none"):
            yield S(v((2, 3)), target(g, (2, 3)), reduction=reduction)
        yield S(v(()), target(g, ()))
        yield S(v((), "n", "offset"), target(g, ()), reduction="sum")
        yield S(v((0, 3)), target(g, (0, 3)), reduction="sum")
        yield S(v((0, 3)), target(g, (0, 3)))
        yield S(v((1,)), target(g, (1,)))
        yield S(v((3, 4), "n", "transposed"), target(g, (3, 4), "stepped"))
        yield S(v((3, 4), "n", "offset"), target(g, (3, 4), "expanded"), reduction="none")

    return samples


def hinge_samples(g):
    yield from _pair_with_targets(_signs)(g)
    v = g.t
    yield S(v((3, 4)), _signs(g, (3, 4)), margin=0.2)
    yield S(v((3, 4)), _signs(g, (3, 4)), margin=2.5, reduction="sum")
    # other targets count both terms; a target that requires grad gets none (as PyTorch's)
    yield S(v((3, 4)), _signs(g, (3, 4), values=(1.0, -1.0, 0.0, 2.0)), reduction="none")
    yield S(v((2, 3)), Arg(np.sign(g.values((2, 3))).astype(g.dtype)))


def triplet_samples(g):
    v = g.t
    for reduction in ("mean", "sum", "none"):
        yield S(v((4, 3)), v((4, 3)), v((4, 3)), reduction=reduction)
    yield S(v((4, 3)), v((4, 3)), v((4, 3)), margin=2.0, p=1)
    yield S(v((4, 3)), v((4, 3)), v((4, 3)), margin=0.5, swap=True, reduction="none")
    yield S(v((4, 3)), v((4, 3)), v((4, 3)), 3.0, 3, 1e-3, True)
    yield S(v((3,)), v((3,)), v((3,)), margin=3.0)
    yield S(v(()), v(()), v(()), margin=4.0)
    yield S(v((), "n", "offset"), v(()), v(()), margin=4.0, reduction="sum")
    yield S(v((0, 3)), v((0, 3)), v((0, 3)), reduction="sum")
    yield S(v((1, 1)), v((1, 1)), v((1, 1)), margin=4.0)
    yield S(v((3, 4), "n", "transposed"), v((3, 4), "n", "stepped"), v((3, 4)), margin=3.0)
    yield S(v((3, 4), "n", "offset"), v((3, 4)), v((3, 4), "n", "expanded"), margin=3.0)


def _counts(g, shape, layout="contiguous"):
    """Positive targets in (0.5, 4): some at most 1 (``full``'s Stirling term skips them)."""
    arg = g.t(shape, "p", layout)
    arg.value = (arg.value * 2.0).astype(g.dtype)
    return arg


def poisson_samples(g):
    yield from _pair_with_targets(_counts)(g)
    v = g.t
    yield S(v((3, 4)), _counts(g, (3, 4)), full=True)
    yield S(v((3, 4)), _counts(g, (3, 4)), full=True, reduction="none")
    yield S(v((3, 4), "p"), _counts(g, (3, 4)), log_input=False)
    yield S(v((3, 4), "p"), _counts(g, (3, 4)), False, True, eps=0.1, reduction="sum")


def gaussian_samples(g):
    v = g.t
    for reduction in ("mean", "sum", "none"):
        yield S(v((2, 3)), v((2, 3)), v((2, 3), "p"), reduction=reduction)
    yield S(v((2, 3)), v((2, 3)), v((2,), "p"), full=True)
    yield S(v((2, 3, 4)), v((2, 3, 4)), v((2, 1, 4), "p"), reduction="none")
    yield S(v((2, 3)), v((2, 3)), 0.7)
    yield S(v((2, 3)), v((2, 3)), v((2, 3), "p"), eps=0.25, reduction="sum")
    yield S(v(()), v(()), v((), "p"))
    yield S(v((), "n", "offset"), v(()), v((), "p"), full=True)
    yield S(v((0, 3)), v((0, 3)), v((0, 3), "p"), reduction="sum")
    yield S(v((1,)), v((1,)), v((1,), "p"))
    yield S(v((3, 4), "n", "transposed"), v((3, 4), "n", "stepped"), v((3, 4), "p", "offset"))
    yield S(v((3, 4), "n", "offset"), v((3, 4)), v((3, 4), "p", "expanded"), reduction="none")
    # Variances below eps: PyTorch clamps them without recording, so their gradient is not
    # the finite difference (which sees the clamp); the values and gradients match PyTorch's.
    tiny = Arg(np.asarray([[1e-8, 0.5, 2e-7], [1.5, 1e-9, 0.8]], dtype=g.dtype))
    clamp = "var below eps: clamped without recording, as PyTorch"
    yield S(v((2, 3)), v((2, 3)), tiny, skips={"gradcheck": clamp, "gradgradcheck": clamp})


# ----- margin losses over class scores, the triplet loss with a distance (``_losses_extra.py``)


def _classes(g, shape, classes, layout="contiguous"):
    """Class indices in ``[0, classes)`` (int64: no gradient)."""
    arr = g.rng.integers(0, classes, shape).astype(np.int64)
    if layout == "expanded":
        arr = np.broadcast_to(arr[:1], shape).copy()
    return Arg(arr, layout)


def _weights(g, classes, layout="contiguous"):
    """Positive class weights (PyTorch refuses a weight that requires grad)."""
    return Arg(g.values((classes,), "p") + 0.5, layout, requires_grad=False)


def multi_margin_samples(g):
    v = g.t
    for reduction in ("mean", "sum", "none"):
        yield S(v((3, 4)), _classes(g, (3,), 4), reduction=reduction)
    yield S(v((3, 4)), _classes(g, (3,), 4), p=2, margin=0.5)
    yield S(v((3, 4)), _classes(g, (3,), 4), 2, 1.5, _weights(g, 4), reduction="sum")
    yield S(v((3, 4)), _classes(g, (3,), 4), margin=-0.5, weight=_weights(g, 4), reduction="none")
    yield S(v((4,)), _classes(g, (1,), 4))
    yield S(v((4,)), _classes(g, (), 4), reduction="none")
    yield S(v(()), _classes(g, (), 1))
    yield S(v((), "n", "offset"), _classes(g, (), 1), p=2, reduction="none")
    # (an empty batch: PyTorch leaves the mean and sum of no losses unwritten)
    yield S(v((0, 4)), _classes(g, (0,), 4), reduction="none")
    yield S(v((1, 1)), _classes(g, (1,), 1))
    yield S(v((3, 4), "n", "transposed"), _classes(g, (3,), 4, "stepped"))
    yield S(v((3, 4), "n", "offset"), _classes(g, (3,), 4, "offset"), weight=_weights(g, 4, "stepped"), reduction="none")  # fmt: skip
    yield S(v((3, 4), "n", "expanded"), _classes(g, (3,), 4, "expanded"), p=2, reduction="sum")


def _labels(g, shape, layout="contiguous"):
    """Rows of class labels ended by -1 (some repeated, some rows full, some empty), with
    junk after the -1 that PyTorch ignores."""
    classes = shape[-1]
    rows = []
    for _ in range(int(np.prod(shape[:-1]))):
        count = int(g.rng.integers(0, classes + 1))
        row = list(g.rng.integers(0, classes, count)) + [-1] * (classes - count)
        if count < classes - 1:
            row[count + 1 :] = g.rng.integers(-1, classes, classes - count - 1)
        rows.append(row)
    arr = np.asarray(rows, dtype=np.int64).reshape(shape)
    if layout == "expanded":
        arr = np.broadcast_to(arr[:1], shape).copy()
    return Arg(arr, layout)


def multilabel_margin_samples(g):
    v = g.t
    for reduction in ("mean", "sum", "none"):
        yield S(v((3, 4)), _labels(g, (3, 4)), reduction=reduction)
    yield S(v((2, 4)), Arg(np.array([[1, 1, -1, 0], [3, 0, 2, 1]])), reduction="none")
    yield S(v((4,)), _labels(g, (4,)))
    yield S(v((4,)), _labels(g, (4,)), reduction="none")
    yield S(v(()), Arg(np.array(0)))
    yield S(v((), "n", "offset"), Arg(np.array(-1)), reduction="sum")
    # (an empty batch: PyTorch leaves the mean and sum of no losses unwritten)
    yield S(v((0, 4)), Arg(np.zeros((0, 4), dtype=np.int64)), reduction="none")
    yield S(v((1, 1)), Arg(np.array([[0]])))
    yield S(v((3, 4), "n", "transposed"), _labels(g, (3, 4), "stepped"))
    yield S(v((3, 4), "n", "offset"), _labels(g, (3, 4), "offset"), reduction="none")
    yield S(v((3, 4), "n", "expanded"), _labels(g, (3, 4), "expanded"), reduction="sum")


class _Distance:
    """A distance function of tensor methods only (so the same one serves rustgrad and
    PyTorch), named for the samples' ids."""

    def __init__(self, name, fn):
        self.name, self.fn = name, fn

    def __call__(self, a, b):
        return self.fn(a, b)

    def __repr__(self):
        return self.name


L1 = _Distance("l1", lambda a, b: (a - b).abs().sum(-1))
SQUARED = _Distance("squared", lambda a, b: (a - b).pow(2).sum(-1))


def triplet_distance_samples(g):
    v = g.t
    for reduction in ("mean", "sum", "none"):
        yield S(v((4, 3)), v((4, 3)), v((4, 3)), reduction=reduction)
    yield S(v((4, 3)), v((4, 3)), v((4, 3)), distance_function=L1, margin=2.0)
    yield S(v((4, 3)), v((4, 3)), v((4, 3)), distance_function=SQUARED, swap=True, reduction="none")  # fmt: skip
    yield S(v((4, 3)), v((4, 3)), v((4, 3)), margin=0.5, swap=True, reduction="sum")
    yield S(v((3,)), v((3,)), v((3,)), margin=3.0)
    yield S(v(()), v(()), v(()), margin=4.0)
    yield S(v((), "n", "offset"), v(()), v(()), distance_function=L1, margin=4.0, reduction="sum")  # fmt: skip
    yield S(v((0, 3)), v((0, 3)), v((0, 3)), reduction="sum")
    yield S(v((1, 1)), v((1, 1)), v((1, 1)), margin=4.0)
    yield S(v((3, 4), "n", "transposed"), v((3, 4), "n", "stepped"), v((3, 4)), margin=3.0)
    yield S(v((3, 4), "n", "offset"), v((3, 4)), v((3, 4), "n", "expanded"), distance_function=SQUARED, margin=3.0)  # fmt: skip


NO_DOUBLE_BACKWARD = "PyTorch has no derivative of {0}_backward (it raises; so does rustgrad)"


_SCALARS = {"0-d": "needs (*, C, H, W)"}

OPS = [
    _entry(
        "hardswish",
        mapped(unary_samples("z"), lambda x: 4.0 * x),
        inplace_variants=[_inplace_kw("hardswish")],
    ),
    _entry(
        "hardsigmoid",
        mapped(unary_samples("z"), lambda x: 4.0 * x),
        graph="full",
        inplace_variants=[_inplace_kw("hardsigmoid")],
        # (its backward raises PyTorch's error when differentiated: tests/test_higher_order.py)
        expects=[skip(["gradgradcheck"], "PyTorch has no derivative of hardsigmoid_backward")],
    ),
    _entry("softsign", unary_samples("z"), dtypes=(*FLOATS, "int64")),
    _entry("tanhshrink", unary_samples("z"), dtypes=(*FLOATS, "int64"), libm=True),
    _entry("softshrink", _keywords(unary_samples("z"), {"lambd": 1.0}, {"lambd": 0.0})),
    _entry(
        "hardshrink",
        _keywords(unary_samples("z"), {"lambd": 1.0}, {"lambd": 0.0}, {"lambd": -0.5}),
    ),
    _entry(
        "threshold",
        threshold_samples,
        dtypes=NUMERIC,
        inplace_variants=[_inplace_kw("threshold"), functional("threshold_")],
    ),
    _entry(
        "celu",
        _keywords(unary_samples("z"), {"alpha": 0.5}, {"alpha": 2.0}, {"alpha": -1.5}),
        variants=[function("celu")],
        inplace_variants=[_inplace_kw("celu"), functional("celu_"), function("celu_")],
        libm=True,
    ),
    _entry(
        "glu",
        glu_samples,
        libm=True,
        exempt={
            "0-d": "halves a dim (PyTorch refuses 0-d)",
            "size-1": "halves a dim of even size",
        },
    ),
    _entry("softmin", softmin_samples, libm=True),
    _entry("prelu", prelu_samples),
    _entry("cosine_similarity", cosine_similarity_samples, broadcasts=True, libm=True),
    _entry("pairwise_distance", pairwise_distance_samples, broadcasts=True, libm=True),
    _entry(
        "pdist",
        pdist_samples,
        graph="name",
        libm=True,
        exempt={"0-d": "a matrix only", "broadcast": "one operand"},
        expects=[skip(["gradgradcheck"], NO_DOUBLE_BACKWARD.format("_pdist"))],
    ),
    _entry("pixel_shuffle", pixel_shuffle_samples, dtypes=ALL, exempt=_SCALARS),
    _entry("pixel_unshuffle", pixel_unshuffle_samples, dtypes=ALL, exempt=_SCALARS),
    _entry("soft_margin_loss", _pair_with_targets(_signs), libm=True),
    _entry("hinge_embedding_loss", hinge_samples),
    _entry("triplet_margin_loss", triplet_samples, libm=True),
    _entry("poisson_nll_loss", poisson_samples, libm=True),
    _entry("gaussian_nll_loss", gaussian_samples, libm=True),
    *(
        _entry(
            name,
            samples,
            graph="full",
            expects=[skip(["gradgradcheck"], NO_DOUBLE_BACKWARD.format(name))],
        )
        for name, samples in (
            ("multi_margin_loss", multi_margin_samples),
            ("multilabel_margin_loss", multilabel_margin_samples),
        )
    ),
    _entry("triplet_margin_with_distance_loss", triplet_distance_samples, libm=True),
]
