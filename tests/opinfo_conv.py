"""The op table's entries for convolution, pooling, ``unfold``/``fold`` and ``interpolate``
(``python/rustgrad/nn/_conv_functional.py``). ``opinfo.py`` appends ``OPS`` to ``OP_DB``, so
gradcheck, gradgradcheck, PyTorch parity and CUDA against the CPU run these too; the wider
grids, the modules and the errors are in ``test_conv.py``.

Graphs: ``unfold``/``fold`` record PyTorch's ``Im2ColBackward0``/``Col2ImBackward0``; the
rest are composites (im2col + matmul, max/sum over windows, small interpolation matmuls), so
their nodes are their parts' (``graph="none"``).
"""

from opinfo import OpInfo, S, functional

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


def interpolate_samples(g):
    v = g.t
    yield S(v((2, 3, 4, 5)), scale_factor=2)
    yield S(v((1, 2, 5, 3), "n", "transposed"), size=(7, 4), mode="bilinear", align_corners=True)
    yield S(v((1, 1, 1, 1)), size=(2, 3), mode="bilinear")
    yield S(v((1, 2, 4, 5), "n", "offset"), scale_factor=1.5, mode="bilinear")
    yield S(v((2, 3, 6)), size=4, mode="linear")


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
]
