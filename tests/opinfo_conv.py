"""The op table's entries for convolution, pooling, ``unfold``/``fold`` and ``interpolate``
(``python/rustgrad/nn/_conv_functional.py``). ``opinfo.py`` appends ``OPS`` to ``OP_DB``, so
gradcheck, gradgradcheck, PyTorch parity and CUDA against the CPU run these too; the wider
grids, the modules and the errors are in ``test_conv.py``.

Graphs: ``unfold``/``fold`` record PyTorch's ``Im2ColBackward0``/``Col2ImBackward0``; the
1-d and 2-d poolings, convolutions and ``interpolate`` are composites (im2col + matmul,
max/sum over windows, small interpolation matmuls), so their nodes are their parts'
(``graph="none"``). The 3-d poolings and the max unpoolings of ``nn/_pool3d.py`` record
PyTorch's nodes (``MaxPool3DWithIndicesBackward0``, ``MaxUnpool2DBackward0``, ...:
``graph="full"``), as does ``lp_pool3d`` (PyTorch's composite over them); ``lp_pool1d``/``2d``
are PyTorch's composite over rustgrad's composite poolings.
"""

import dataclasses

import numpy as np
from opinfo import FLOATS, NUMERIC, Arg, OpInfo, S, functional, skip

IMAGES = {"0-d": "needs an (N, C, H, W) input", "size-0": "PyTorch refuses empty spatial dims"}
COMPOSITE = "a composite of im2col, matmul and reductions: its nodes are theirs, not PyTorch's"


def unfold_samples(g):
    v = g.t
    yield S(v((2, 3, 5, 6)), 3)
    yield S(v((1, 2, 4, 5), "n", "transposed"), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1))
    yield S(v((1, 1, 1, 1)), 1)
    yield S(v((2, 2, 3, 4), "n", "offset"), 2, padding=(0, 1), stride=2)
    yield S(v((3, 4, 4)), 2)


def fold_samples(g):
    v = g.t
    yield S(v((2, 12, 20)), (5, 6), 2)
    yield S(v((1, 6, 9), "n", "transposed"), (4, 5), (2, 3), dilation=(1, 1), padding=1, stride=2)
    yield S(v((1, 1, 1)), (1, 1), 1)
    yield S(v((2, 8, 12), "n", "offset"), (4, 4), 2, stride=1, padding=(0, 1), dilation=(1, 2))
    yield S(v((4, 6)), (3, 4), (2, 2))


def conv2d_samples(g):
    v = g.t
    yield S(v((2, 3, 5, 5)), v((4, 3, 3, 3)), v((4,)))
    yield S(
        v((1, 4, 5, 6), "n", "transposed"), v((4, 2, 2, 3)), None, stride=2, padding=1, groups=2
    )
    yield S(v((1, 1, 1, 1)), v((1, 1, 1, 1)))
    yield S(
        v((1, 2, 5, 4), "n", "offset"), v((3, 2, 3, 2)), v((3,)), padding="same", dilation=(1, 2)
    )


def conv1d_samples(g):
    v = g.t
    yield S(v((2, 3, 7)), v((4, 3, 3)), v((4,)), padding=1)
    yield S(v((1, 4, 8), "n", "transposed"), v((2, 2, 3)), None, stride=2, groups=2)
    yield S(v((1, 1, 1)), v((1, 1, 1)))
    yield S(v((1, 2, 6), "n", "offset"), v((3, 2, 2)), v((3,)), padding="same", dilation=2)


def conv_transpose2d_samples(g):
    v = g.t
    yield S(v((2, 3, 3, 4)), v((3, 2, 3, 3)), v((2,)))
    yield S(v((1, 4, 3, 3), "n", "transposed"), v((4, 1, 2, 3)), v((2,)), stride=2, padding=1, output_padding=1, groups=2)  # fmt: skip
    yield S(v((1, 1, 1, 1)), v((1, 1, 1, 1)))
    yield S(v((1, 2, 2, 3), "n", "offset"), v((2, 2, 2, 2)), None, stride=(2, 1), dilation=2)


def max_pool2d_samples(g):
    v = g.t
    yield S(v((2, 3, 6, 6)), 2)
    yield S(v((1, 2, 7, 5), "n", "transposed"), 3, stride=2, padding=1, ceil_mode=True)
    yield S(v((1, 1, 1, 1)), 1)
    yield S(v((1, 2, 8, 7), "n", "offset"), (2, 3), stride=(2, 1), dilation=2, padding=1)


def max_pool1d_samples(g):
    v = g.t
    yield S(v((2, 3, 8)), 2)
    yield S(v((1, 2, 9), "n", "transposed"), 3, stride=2, padding=1, ceil_mode=True)
    yield S(v((1, 1, 1)), 1)
    yield S(v((2, 7), "n", "offset"), 2, stride=1, dilation=2)


def avg_pool2d_samples(g):
    v = g.t
    yield S(v((2, 3, 6, 6)), 2)
    yield S(v((1, 2, 7, 5), "n", "transposed"), 3, stride=2, padding=1, ceil_mode=True)
    yield S(v((1, 1, 1, 1)), 1)
    yield S(v((1, 2, 7, 6), "n", "offset"), (3, 2), stride=2, padding=1, count_include_pad=False)
    yield S(v((1, 2, 4, 4)), 2, divisor_override=3)


def adaptive_avg_pool2d_samples(g):
    v = g.t
    yield S(v((2, 3, 7, 5)), (3, 2))
    yield S(v((1, 2, 6, 6), "n", "transposed"), 4)
    yield S(v((1, 1, 1, 1)), 1)
    yield S(v((2, 5, 6), "n", "offset"), (4, None))


def adaptive_max_pool2d_samples(g):
    v = g.t
    yield S(v((2, 3, 7, 5)), (3, 2))
    yield S(v((1, 2, 6, 6), "n", "transposed"), 4, return_indices=True)
    yield S(v((1, 1, 1, 1)), 1)
    yield S(v((2, 5, 6), "n", "offset"), (4, None))
    yield S(v((1, 2, 3, 3)), 5)


def adaptive_pool1d_samples(g):
    v = g.t
    yield S(v((2, 3, 10)), 4)
    yield S(v((1, 2, 9), "n", "transposed"), 3)
    yield S(v((1, 1, 1)), 1)
    yield S(v((2, 7), "n", "offset"), (5,))


# ----- 3-d pooling, max unpooling, power-average pooling (``nn/_pool3d.py``) -----------------


def max_pool3d_samples(g):
    v = g.t
    yield S(v((1, 2, 3, 4, 4)), 2)
    yield S(v((1, 1, 5, 4, 3), "n", "transposed"), 3, stride=2, padding=1, ceil_mode=True)
    yield S(v((1, 1, 1, 1, 1)), 1)
    yield S(v((1, 2, 4, 5, 4), "n", "offset"), (2, 3, 2), stride=(2, 1, 2), dilation=2, padding=1)
    yield S(v((2, 2, 3, 4)), (1, 2, 2), return_indices=True)
    yield S(v((1, 2, 3, 3, 4), "n", "stepped"), 2, 1, return_indices=True)
    yield S(v((0, 2, 2, 2, 2)), 2)


def avg_pool3d_samples(g):
    v = g.t
    yield S(v((1, 2, 3, 4, 4)), 2)
    yield S(v((1, 1, 5, 4, 3), "n", "transposed"), 3, stride=2, padding=1, ceil_mode=True)
    yield S(v((1, 1, 1, 1, 1)), 1)
    yield S(v((1, 2, 4, 5, 4), "n", "offset"), (3, 2, 2), stride=2, padding=1, count_include_pad=False)  # fmt: skip
    yield S(v((2, 4, 4, 4)), 2, divisor_override=3)
    yield S(v((0, 1, 2, 2, 2)), 2)


def adaptive_avg_pool3d_samples(g):
    v = g.t
    yield S(v((1, 2, 5, 4, 3)), (3, 2, 2))
    yield S(v((1, 2, 4, 4, 4), "n", "transposed"), 3)
    yield S(v((1, 1, 1, 1, 1)), 1)
    yield S(v((2, 5, 4, 6), "n", "offset"), (4, None, 3))
    yield S(v((1, 1, 2, 3, 2)), 4)
    yield S(v((1, 2, 3, 2, 3), "n", "stepped"), 1)
    yield S(v((0, 2, 3, 3, 3)), 2)


def adaptive_max_pool3d_samples(g):
    v = g.t
    yield S(v((1, 2, 5, 4, 3)), (3, 2, 2))
    yield S(v((1, 2, 4, 4, 4), "n", "transposed"), 3, return_indices=True)
    yield S(v((1, 1, 1, 1, 1)), 1)
    yield S(v((2, 5, 4, 6), "n", "offset"), (4, None, 3))
    yield S(v((1, 1, 2, 3, 2)), 4, True)
    yield S(v((0, 2, 3, 3, 3)), 2)


def _max_pooled(values, kernel, stride, padding):
    """``(maxima, flat indices)`` of PyTorch's max pooling of ``values`` (NumPy; the last
    ``len(kernel)`` dims pooled, no dilation, no ceil mode; the first largest of each window
    in row-major order), as ``max_poolNd(..., return_indices=True)`` gives them."""
    n = len(kernel)
    spatial = values.shape[-n:]
    out = [(size + 2 * p - k) // s + 1 for size, k, s, p in zip(spatial, kernel, stride, padding)]
    lead = values.shape[:-n]
    maxima = np.zeros((*lead, *out), dtype=values.dtype)
    indices = np.zeros((*lead, *out), dtype=np.int64)
    for o in np.ndindex(*out):
        window = tuple(
            slice(max(i * s - p, 0), min(i * s - p + k, size))
            for i, k, s, p, size in zip(o, kernel, stride, padding, spatial)
        )
        shape = [w.stop - w.start for w in window]
        block = values[(Ellipsis, *window)].reshape(*lead, int(np.prod(shape)))
        at = block.argmax(-1)  # (the first largest)
        pos = np.unravel_index(at, shape)
        maxima[(Ellipsis, *o)] = np.take_along_axis(block, at[..., None], -1)[..., 0]
        corner = [w.start for w in window]
        indices[(Ellipsis, *o)] = np.ravel_multi_index(
            tuple(q + c for q, c in zip(pos, corner)), spatial
        )
    return maxima, indices


def unpool_samples(n):
    """Samples of ``max_unpool{n}d``: maxima and indices from a max pooling of random values
    (strides at least the kernel: disjoint windows, so the indices are distinct; a repeated
    index keeps only its last value, while PyTorch's gradient reaches every copy)."""

    def unpooled(g, shape, kernel, stride=None, padding=0, layouts=("contiguous", "contiguous"), **kw):  # fmt: skip
        k = (kernel,) * n if isinstance(kernel, int) else kernel
        s = k if stride is None else ((stride,) * n if isinstance(stride, int) else stride)
        p = (padding,) * n if isinstance(padding, int) else padding
        values = g.values(shape)
        if layouts[0] == "expanded":  # (equal along dim 0, as an expanded view holds them)
            values = np.broadcast_to(values[:1], shape).copy()
        maxima, indices = _max_pooled(values, k, s, p)
        args = [Arg(maxima, layouts[0]), Arg(indices, layouts[1]), kernel]
        if stride is not None:
            args.append(stride)
        if padding:
            kw["padding"] = padding
        return S(*args, **kw)

    def gen(g):
        spatial = {
            1: [((2, 3, 6), 2, None, 0, {}),
                ((1, 2, 7), 3, 3, 1, {}),
                ((1, 2, 5), 2, None, 0, {"output_size": [5]}),
                ((1, 2, 9), 2, 3, 0, {})],
            2: [((2, 2, 4, 4), 2, None, 0, {}),
                ((1, 2, 7, 5), (3, 2), (3, 2), (1, 0), {"output_size": (7, 5)}),
                ((1, 2, 6, 5), (2, 1), (3, 2), 0, {})],
            3: [((1, 2, 2, 4, 4), 2, None, 0, {}),
                ((1, 1, 4, 5, 4), (3, 2, 2), (3, 2, 2), (1, 0, 1), {"output_size": (4, 5, 4)}),
                ((1, 1, 3, 4, 5), (1, 2, 2), (2, 2, 3), 0, {})],
        }[n]  # fmt: skip
        for shape, kernel, stride, padding, kw in spatial:
            yield unpooled(g, shape, kernel, stride, padding, **kw)
        ones = (1,) * (n + 2)
        yield unpooled(g, ones, 1)
        # unbatched, and views
        yield unpooled(g, (2,) + (4,) * n, 2, layouts=("offset", "transposed"))
        yield unpooled(g, (1, 2) + (4,) * n, 2, layouts=("transposed", "offset"))
        yield unpooled(g, (2, 2) + (4,) * n, 2, layouts=("expanded", "stepped"))
        yield unpooled(g, (0, 2) + (2,) * n, 2)

    return gen


def lp_pool_samples(n):
    """Samples of ``lp_pool{n}d``: an even power of any values, odd and fractional powers of
    positive ones (a negative window sum has no real root), +-inf (max pooling of ``|x|``,
    values away from 0)."""

    def gen(g):
        v = g.t
        image = {1: (2, 3, 6), 2: (2, 2, 4, 4), 3: (1, 2, 2, 4, 4)}[n]
        odd = {1: (1, 2, 7), 2: (1, 2, 5, 4), 3: (1, 1, 3, 4, 5)}[n]
        odd_k = {1: 3, 2: (3, 2), 3: (3, 2, 2)}[n]
        odd_s = {1: 2, 2: (2, 1), 3: (1, 2, 2)}[n]
        yield S(v(image), 2, 2)
        yield S(v(odd, "p", "transposed"), 3, odd_k, stride=odd_s, ceil_mode=True)
        yield S(v(odd, "p"), 1.5, odd_k, odd_s)
        yield S(v(image, "p", "stepped"), 1, 2, stride=1)
        yield S(v((1,) * (n + 2)), 2, 1)
        yield S(v((2,) + (4,) * n, "z", "offset"), float("inf"), 2)
        yield S(v(image, "z"), -float("inf"), 2, 1)
        yield S(v((0, 2) + (2,) * n), 2, 2)

    return gen


def interpolate_samples(g):
    v = g.t
    yield S(v((2, 3, 4, 5)), scale_factor=2)
    yield S(v((1, 2, 5, 3), "n", "transposed"), size=(7, 4), mode="bilinear", align_corners=True)
    yield S(v((1, 1, 1, 1)), size=(2, 3), mode="bilinear")
    yield S(v((1, 2, 4, 5), "n", "offset"), scale_factor=1.5, mode="bilinear")
    yield S(v((2, 3, 6)), size=4, mode="linear")
    yield S(v((1, 2, 4, 5)), size=(6, 3), mode="bicubic")
    yield S(v((1, 2, 3, 4), "n", "transposed"), scale_factor=1.5, mode="bicubic", align_corners=True)  # fmt: skip
    yield S(v((1, 2, 3, 2, 4)), size=(4, 3, 3), mode="trilinear")
    yield S(v((1, 1, 2, 3, 2), "n", "offset"), scale_factor=1.5, mode="trilinear", align_corners=True)  # fmt: skip
    yield S(v((1, 2, 3, 2, 3)), scale_factor=2, mode="nearest")
    yield S(v((1, 2, 5, 3)), size=(3, 4), mode="nearest-exact")
    yield S(v((1, 2, 7)), size=3, mode="area")
    yield S(v((1, 2, 5, 7), "n", "stepped"), scale_factor=0.5, mode="area")


def _batched_name(ndim):
    """PyTorch's node name for batched inputs; unbatched ones add our squeeze on top."""
    return lambda sample: "name" if sample.args[0].value.ndim == ndim else "none"


def _entry(name, samples, graph="none", exempt=IMAGES):
    return OpInfo(
        f"nn.functional.{name}",
        [functional(name)],
        samples,
        graph=graph,
        graph_reason=COMPOSITE if graph == "none" else "unbatched inputs: our unsqueeze/squeeze",
        exempt=exempt,
    )


def _with_indices(name, position):
    """``F.<name>``, for the samples that ask for the indices (keyword, or the positional
    ``return_indices`` at ``position``): it always returns them, so it gives what the
    entry's ``return_indices=True`` call gives."""

    def asks(sample):
        if "return_indices" in sample.kwargs:
            return bool(sample.kwargs["return_indices"])
        return len(sample.args) > position and bool(sample.args[position])

    return dataclasses.replace(functional(name), only=asks)


VOLUMES = {"0-d": "needs an (N, C, D, H, W) or (C, D, H, W) input"}
LP_COMPOSITE = (
    "PyTorch's composite (pow, avg or max pooling, sign, relu, mul, pow), whose 1-d and 2-d "
    "poolings are rustgrad composites: their nodes are their parts'"
)

UNPOOL_VIEW = (
    "PyTorch's max_unpool2d/3d backward views the indices (max_pool_double_backward), which "
    "fails for transposed ones (view size is not compatible...); rustgrad's reshapes them "
    "(the CUDA test still compares these with the CPU)"
)


def _transposed_indices(sample):
    return sample.args[1].layout == "transposed"


def _recorded(name, samples, variants=(), dtypes=FLOATS, exempt=VOLUMES, expects=()):
    return OpInfo(
        f"nn.functional.{name}",
        [functional(name), *variants],
        samples,
        dtypes=dtypes,
        graph="full",
        exempt=exempt,
        expects=list(expects),
    )


OPS_3D = [
    _recorded(
        "max_pool3d",
        max_pool3d_samples,
        [_with_indices("max_pool3d_with_indices", 6)],
        dtypes=NUMERIC,
    ),
    _recorded("avg_pool3d", avg_pool3d_samples, dtypes=NUMERIC),
    _recorded("adaptive_avg_pool3d", adaptive_avg_pool3d_samples),
    _recorded(
        "adaptive_max_pool3d",
        adaptive_max_pool3d_samples,
        [_with_indices("adaptive_max_pool3d_with_indices", 2)],
    ),
    *(
        _recorded(
            f"max_unpool{n}d",
            unpool_samples(n),
            exempt={"0-d": "needs (N, C, *spatial)"},
            expects=[] if n == 1 else [skip(["parity"], UNPOOL_VIEW, samples=_transposed_indices)],
        )
        for n in (1, 2, 3)
    ),
    *(
        OpInfo(
            f"nn.functional.lp_pool{n}d",
            [functional(f"lp_pool{n}d")],
            lp_pool_samples(n),
            graph="none" if n < 3 else "full",
            graph_reason=LP_COMPOSITE,
            exempt={"0-d": "needs (N, C, *spatial)"},
            libm=True,
        )
        for n in (1, 2, 3)
    ),
]

OPS = [
    _entry("unfold", unfold_samples, graph=_batched_name(4)),
    _entry("fold", fold_samples, graph=_batched_name(3)),
    _entry("conv2d", conv2d_samples, graph=_batched_name(4)),
    _entry("conv1d", conv1d_samples),
    _entry("conv_transpose2d", conv_transpose2d_samples),
    _entry("max_pool2d", max_pool2d_samples),
    _entry("max_pool1d", max_pool1d_samples),
    _entry("avg_pool2d", avg_pool2d_samples),
    _entry("adaptive_avg_pool2d", adaptive_avg_pool2d_samples),
    _entry("adaptive_max_pool2d", adaptive_max_pool2d_samples),
    _entry("adaptive_max_pool1d", adaptive_pool1d_samples),
    _entry("adaptive_avg_pool1d", adaptive_pool1d_samples),
    _entry("interpolate", interpolate_samples),
    *OPS_3D,
]
