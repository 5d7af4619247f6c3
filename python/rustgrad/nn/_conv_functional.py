"""Convolution, pooling, ``unfold``/``fold`` and ``interpolate``: the forms
``rustgrad.nn.functional`` re-exports.

``unfold``/``fold`` are the Rust kernels ``_core.im2col``/``_core.col2im`` (each the other's
backward, on both backends). Convolution, max pooling and average pooling of float32/float64
tensors are kernels of their own on both backends (``_core._convolution``,
``_core._max_pool2d``, ``_core._avg_pool2d``) under PyTorch's node names. The rest (transposed
convolution, adaptive pooling, interpolation, and the half types) are composites of them and
existing ops (matmul, max/sum along a dim, pad, index), so every backend and every order of
gradient comes for free; ``_recorded_as`` gives them PyTorch's node names.
"""

import functools
import math

import numpy as np

from rustgrad import _core, _math, _native, _saved
from rustgrad._memory_format import _channels_last_like
from rustgrad._size import check_non_negative


def _tuple(value, n, name):
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * n
    if len(value) != n:
        raise RuntimeError(f"{name} must have {n} elements, got {len(value)}")
    return value


def _pair(value, name="argument"):
    return _tuple(value, 2, name)


def _check_window(kernel, dilation, padding, stride):
    for name, label, v, least in (
        ("kernel size", "kernel", kernel, 1),
        ("dilation", "dilation", dilation, 1),
        ("stride", "stride", stride, 1),
    ):
        if min(v) < least:
            raise RuntimeError(
                f"{name} should be greater than zero, but got {label}_height: {v[0]} "
                f"{label}_width: {v[1]}"
            )
    if min(padding) < 0:
        raise RuntimeError(
            f"padding should be non-negative, but got pad_height: {padding[0]} "
            f"pad_width: {padding[1]}"
        )


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks of a ``(N, C, H, W)`` (or ``(C, H, W)``) tensor as columns
    ``(N, C * kh * kw, L)`` (im2col)."""
    k, d, p, s = _pair(kernel_size), _pair(dilation), _pair(padding), _pair(stride)
    _check_window(k, d, p, s)
    if input.dim() == 3:
        return _core.im2col(input.unsqueeze(0), k, d, p, s).squeeze(0)
    if input.dim() != 4:
        raise RuntimeError(
            "Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other "
            f"non-zero dimensions for input, but got: {list(input.shape)}"
        )
    return _core.im2col(input, k, d, p, s)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sums columns ``(N, C * kh * kw, L)`` (or ``(C * kh * kw, L)``) back into images
    ``(N, C, *output_size)`` (col2im, the adjoint of ``unfold``)."""
    o = _pair(output_size)
    k, d, p, s = _pair(kernel_size), _pair(dilation), _pair(padding), _pair(stride)
    _check_window(k, d, p, s)
    if min(o) < 1:
        raise RuntimeError(f"output size must be positive, but got {o}")
    if input.dim() == 2:
        return _core.col2im(input.unsqueeze(0), o, k, d, p, s).squeeze(0)
    if input.dim() != 3:
        raise RuntimeError(
            "Expected 2D or 3D (batch mode) tensor with possibly 0 batch size and non-zero "
            f"dimensions for input, but got: {list(input.shape)}"
        )
    return _core.col2im(input, o, k, d, p, s)


# ----- convolution -----------------------------------------------------------------------


def _batched(input, spatial, name):
    """``input`` with a batch dim (and whether one was added)."""
    if input.dim() == spatial + 1:
        return input.unsqueeze(0), True
    if input.dim() != spatial + 2:
        raise RuntimeError(
            f"Expected {spatial + 1}D (unbatched) or {spatial + 2}D (batched) input to "
            f"{name}, but got input of size: {list(input.shape)}"
        )
    return input, False


def _same_padding(kernel, dilation, stride):
    """``(left, right)`` per dim for ``padding='same'``."""
    if any(s != 1 for s in stride):
        raise RuntimeError("padding='same' is not supported for strided convolutions")
    out = []
    for k, d in zip(kernel, dilation):
        total = d * (k - 1)
        out.append((total // 2, total - total // 2))
    return out


def _c_type(dtype) -> str:
    """The C++ name PyTorch's convolution errors give a dtype (``float``, ``double``)."""
    name = str(dtype).rpartition(".")[2]
    return {"float32": "float", "float64": "double", "float16": "c10::Half"}.get(name, name)


def _check_bias(input, weight, bias, groups, transposed=False):
    """PyTorch's checks of a convolution's bias, in forward: one value per output channel, in
    the input's dtype."""
    if bias is None:
        return
    out_ch = weight.shape[1] * groups if transposed else weight.shape[0]
    if bias.dim() != 1 or bias.shape[0] != out_ch:
        which = "transposed=1, weight" if transposed else "weight"
        raise RuntimeError(
            f"Given {which} of size {list(weight.shape)}, expected bias to be 1-dimensional "
            f"with {out_ch} elements, but got bias of size {list(bias.shape)} instead"
        )
    if bias.dtype != input.dtype:
        raise RuntimeError(
            f"Input type ({_c_type(input.dtype)}) and bias type ({_c_type(bias.dtype)}) "
            "should be the same"
        )


def _conv2d(input, weight, bias, stride, padding, dilation, groups, name, unbatched_dim):
    stride, dilation = _pair(stride, "stride"), _pair(dilation, "dilation")
    if weight.dim() != 4:
        raise RuntimeError(
            f"weight should have at least three dimensions, got {weight.dim()}"
            if weight.dim() < 3
            else f"Expected {unbatched_dim}D weight, got {weight.dim()}D"
        )
    if groups < 1:
        raise RuntimeError("non-positive groups is not supported")
    out_ch, in_per_group, kh, kw = weight.shape
    n, c, h, w = input.shape
    if c != in_per_group * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected "
            f"input{list(input.shape)} to have {in_per_group * groups} channels, but got "
            f"{c} channels instead"
        )
    _check_bias(input, weight, bias, groups)
    if out_ch % groups != 0:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but got weight of size {list(weight.shape)} instead")  # fmt: skip
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":
            pads = _same_padding((kh, kw), dilation, stride)
            if any(a != b for a, b in pads):
                # Asymmetric: the extra pixel goes on the right/bottom (as PyTorch).
                input = _core_pad(input, (0, pads[1][1] - pads[1][0], 0, pads[0][1] - pads[0][0]))
                n, c, h, w = input.shape
            padding = (pads[0][0], pads[1][0])
        else:
            raise RuntimeError(f"Invalid padding string: {padding!r}")
    padding = _pair(padding, "padding")
    if min(padding) < 0:
        raise RuntimeError("negative padding is not supported")
    if min(stride) < 1:
        raise RuntimeError("non-positive stride is not supported")
    if min(dilation) < 1:
        raise RuntimeError("dilation should be greater than zero")
    ph, pw = h + 2 * padding[0], w + 2 * padding[1]
    eh, ew = dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1
    if ph < eh or pw < ew:
        raise RuntimeError(
            f"Calculated padded input size per channel: ({ph} x {pw}). Kernel size: "
            f"({eh} x {ew}). Kernel size can't be greater than actual input size"
        )
    oh, ow = (ph - eh) // stride[0] + 1, (pw - ew) // stride[1] + 1
    on_cpu_kernel = input.is_cpu and weight.is_cpu and input.dtype == weight.dtype
    if n == 0 and not (on_cpu_kernel and input.dtype in (_core.float32, _core.float64)):
        out = _core.zeros((0, out_ch, oh, ow), dtype=input.dtype, device=input.device)
        # (input and weight stay in the graph with zero gradients, as in PyTorch's node)
        out = out + (input.sum() * 0 + weight.sum() * 0)
        return out if bias is None else out + bias.view(1, -1, 1, 1)
    # One ConvolutionBackward0 node, as PyTorch's: per image im2col and a product per group
    # on the CPU (float32/64), im2col and one (grouped) batched product elsewhere.
    return _core._convolution(input, weight, bias, (kh, kw), dilation, padding, stride, groups)


def _core_pad(input, pad):
    from rustgrad.nn.functional import pad as _pad

    return _pad(input, pad)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d convolution (cross-correlation) of ``(N, C, H, W)`` (or ``(C, H, W)``) with
    ``weight`` ``(O, C / groups, kh, kw)``: per image im2col and a product per group."""
    x, added = _batched(input, 2, "conv2d")
    out = _conv2d(x, weight, bias, stride, padding, dilation, groups, "conv2d", 4)
    out = _channels_last_like(out, x, weight)
    return out.squeeze(0) if added else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d convolution of ``(N, C, L)`` (or ``(C, L)``) with ``weight`` ``(O, C / groups, k)``:
    a 2-d convolution over a height of one."""
    x, added = _batched(input, 1, "conv1d")
    if weight.dim() != 3:
        raise RuntimeError(f"Expected 3D weight, got {weight.dim()}D")
    _check_bias(x, weight, bias, groups)
    pad = padding if isinstance(padding, str) else (0, _tuple(padding, 1, "padding")[0])
    out = _conv2d(
        x.unsqueeze(2),
        weight.unsqueeze(2),
        bias,
        (1, _tuple(stride, 1, "stride")[0]),
        pad,
        (1, _tuple(dilation, 1, "dilation")[0]),
        groups,
        "conv1d",
        3,
    ).squeeze(2)
    return out.squeeze(0) if added else out


def conv_transpose2d(
    input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    """Transposed 2-d convolution (the gradient of ``conv2d`` w.r.t. its input) of
    ``(N, C_in, H, W)`` with ``weight`` ``(C_in, C_out / groups, kh, kw)``: one matmul, then
    col2im."""
    x, added = _batched(input, 2, "conv_transpose2d")
    out = _conv_transpose2d(x, weight, bias, stride, padding, output_padding, groups, dilation)
    out = _channels_last_like(out, x, weight)
    return out.squeeze(0) if added else out


def _conv_transpose2d(x, weight, bias, stride, padding, output_padding, groups, dilation):
    stride, padding = _pair(stride, "stride"), _pair(padding, "padding")
    output_padding, dilation = _pair(output_padding, "output_padding"), _pair(dilation)
    if weight.dim() != 4:
        raise RuntimeError(f"Expected 4D weight, got {weight.dim()}D")
    in_ch, out_per_group, kh, kw = weight.shape
    n, c, h, w = x.shape
    if c != in_ch:
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(weight.shape)}, expected "
            f"input{list(x.shape)} to have {in_ch} channels, but got {c} channels instead"
        )
    if groups < 1 or in_ch % groups:
        raise RuntimeError("non-positive groups is not supported" if groups < 1 else f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but got weight of size {list(weight.shape)} instead")  # fmt: skip
    for op, s, d in zip(output_padding, stride, dilation):
        if op >= s and op >= d:
            raise RuntimeError(
                "output padding must be smaller than either stride or dilation, but got "
                f"output_padding_height: {output_padding[0]} output_padding_width: "
                f"{output_padding[1]} stride_height: {stride[0]} stride_width: {stride[1]} "
                f"dilation_height: {dilation[0]} dilation_width: {dilation[1]}"
            )
    oh = (h - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kh - 1) + output_padding[0] + 1
    ow = (w - 1) * stride[1] - 2 * padding[1] + dilation[1] * (kw - 1) + output_padding[1] + 1
    if oh < 1 or ow < 1:
        raise RuntimeError(
            f"Given input size per channel: ({h} x {w}). Calculated output size per channel: "
            f"({oh} x {ow}). Output size is too small"
        )
    _check_bias(x, weight, bias, groups, transposed=True)
    out_ch = out_per_group * groups
    cin = in_ch // groups
    k = out_per_group * kh * kw

    def transposed(x, weight, *bias):
        xs = x.reshape(n, groups, cin, h * w)
        wt = weight.reshape(groups, cin, k).transpose(1, 2)  # (g, k, cin)
        cols = wt.matmul(xs).reshape(n, out_ch * kh * kw, h * w)
        if all(op < s for op, s in zip(output_padding, stride)):
            # col2im counts blocks from the output size: with output_padding < stride, h * w
            out = _core.col2im(cols, (oh, ow), (kh, kw), dilation, padding, stride)
        else:
            # (a larger output_padding, allowed below the dilation, would add a block: the
            # blocks are folded unpadded, then cropped by the padding and zero-extended)
            full = [(size - 1) * st + d * (kk - 1) + 1 for size, st, d, kk in zip((h, w), stride, dilation, (kh, kw))]  # fmt: skip
            out = _core.col2im(cols, tuple(full), (kh, kw), dilation, (0, 0), stride)
            extra = [max(0, op - pad) for op, pad in zip(output_padding, padding)]
            if any(extra):
                from rustgrad.nn.functional import pad as _pad

                out = _pad(out, (0, extra[1], 0, extra[0]))
            out = out[:, :, padding[0] : padding[0] + oh, padding[1] : padding[1] + ow]
        return out + bias[0].view(1, out_ch, 1, 1) if bias else out

    tensors = (x, weight) if bias is None else (x, weight, bias)
    return _recorded_as("ConvolutionBackward0", transposed, *tensors)


def conv_transpose1d(
    input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1
):
    """Transposed 1-d convolution of ``(N, C_in, L)`` (or ``(C_in, L)``) with ``weight``
    ``(C_in, C_out / groups, k)``: the 2-d one over a height of one."""
    x, added = _batched(input, 1, "conv_transpose1d")
    if weight.dim() != 3:
        raise RuntimeError(
            f"Expected {weight.dim()}-dimensional input for {weight.dim()}-dimensional weight "
            f"{list(weight.shape)}, but got 3-dimensional input of size {list(x.shape)} instead"
        )
    if x.shape[1] != weight.shape[0]:
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(weight.shape)}, expected "
            f"input{list(x.shape)} to have {weight.shape[0]} channels, but got {x.shape[1]} "
            "channels instead"
        )
    one = lambda v, name: _tuple(v, 1, name)[0]
    out = _conv_transpose2d(
        x.unsqueeze(2),
        weight.unsqueeze(2),
        bias,
        (1, one(stride, "stride")),
        (0, one(padding, "padding")),
        (0, one(output_padding, "output_padding")),
        groups,
        (1, one(dilation, "dilation")),
    ).squeeze(2)
    return out.squeeze(0) if added else out


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-d convolution of ``(N, C, D, H, W)`` (or ``(C, D, H, W)``) with ``weight``
    ``(O, C / groups, kd, kh, kw)``: the ``kd`` depth taps of each output slice are stacked
    as channels, so one 2-d convolution over ``N * D_out`` images does it."""
    x, added = _batched(input, 3, "conv3d")
    if weight.dim() != 5:
        raise RuntimeError(
            "expected stride to be a single integer value or a list of "
            f"{weight.dim() - 2} values to match the convolution dimensions, but got "
            f"stride={list(_tuple(stride, 3, 'stride'))}"
        )
    stride, dilation = _tuple(stride, 3, "stride"), _tuple(dilation, 3, "dilation")
    if groups < 1:
        raise RuntimeError("non-positive groups is not supported")
    out_ch, cg, kd, kh, kw = weight.shape
    n, c = x.shape[:2]
    if c != cg * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected "
            f"input{list(x.shape)} to have {cg * groups} channels, but got {c} channels instead"
        )
    if out_ch % groups != 0:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but got weight of size {list(weight.shape)} instead")  # fmt: skip
    _check_bias(x, weight, bias, groups)
    if min(stride) < 1:
        raise RuntimeError("non-positive stride is not supported")
    if min(dilation) < 1:
        raise RuntimeError("dilation should be greater than zero")
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0, 0)
        elif padding == "same":
            pads = _same_padding((kd, kh, kw), dilation, stride)
            # (the extra pixel of an odd total goes on the right, as PyTorch)
            x = _core_pad(x, tuple(p for pair in reversed(pads) for p in pair))
            padding = (0, 0, 0)
        else:
            raise RuntimeError(f"Invalid padding string: {padding!r}")
    padding = _tuple(padding, 3, "padding")
    if min(padding) < 0:
        raise RuntimeError("negative padding is not supported")
    spatial = x.shape[2:]
    padded = [s + 2 * p for s, p in zip(spatial, padding)]
    span = [d * (k - 1) + 1 for d, k in zip(dilation, (kd, kh, kw))]
    if any(p < e for p, e in zip(padded, span)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
            f"Kernel size: ({' x '.join(map(str, span))}). Kernel size can't be greater than "
            "actual input size"
        )
    batched = x
    if padding[0]:
        x = _core_pad(x, (0, 0, 0, 0, padding[0], padding[0]))
    depth = (padded[0] - span[0]) // stride[0] + 1
    h, w = spatial[1:]
    # (N, C, kd, D_out, H, W): tap i of output slice o reads depth o * stride + i * dilation
    taps = _core.stack(
        [
            x[:, :, i * dilation[0] : i * dilation[0] + stride[0] * (depth - 1) + 1 : stride[0]]
            for i in range(kd)
        ],
        2,
    )
    # channels ordered (group, tap, channel) so each group of the 2-d convolution sees its own
    stacked = (
        taps.reshape(n, groups, cg, kd, depth, h, w)
        .permute(0, 4, 1, 3, 2, 5, 6)
        .reshape(n * depth, groups * kd * cg, h, w)
    )
    flat_weight = weight.permute(0, 2, 1, 3, 4).reshape(out_ch, kd * cg, kh, kw)
    out = _conv2d(
        stacked, flat_weight, bias, stride[1:], padding[1:], dilation[1:], groups, "conv3d", 5
    )
    out = out.reshape(n, depth, out_ch, *out.shape[2:]).transpose(1, 2).contiguous()
    out = _saved.saving("ConvolutionBackward0", out, batched, weight, bias)
    return out.squeeze(0) if added else out


# ----- pooling ---------------------------------------------------------------------------


def _pool_out(size, k, s, p, d, ceil_mode):
    """PyTorch's ``pooling_output_shape``."""
    span = size + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1  # the last window must start inside the input or its left padding
    return out


def _pool_args(kernel_size, stride, padding, dilation, name):
    k = _pair(kernel_size, "kernel_size")
    s = k if stride is None or (not isinstance(stride, int) and len(stride) == 0) else _pair(stride)
    p, d = _pair(padding, "padding"), _pair(dilation, "dilation")
    if min(k) < 1:
        raise RuntimeError(f"{name}: kernel_size must be greater than zero, but got kH: {k[0]} kW: {k[1]}")  # fmt: skip
    if min(s) < 1:
        raise RuntimeError(f"{name}: stride must be greater than zero, but got dH: {s[0]} dW: {s[1]}")  # fmt: skip
    if min(d) < 1:
        raise RuntimeError(f"{name}: dilation must be greater than zero, but got dilationH: {d[0]} dilationW: {d[1]}")  # fmt: skip
    for pp, kk in zip(p, k):
        if pp < 0 or pp > kk // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={pp}, kernel_size={kk} and dilation={d[0]}")  # fmt: skip
    return k, s, p, d


def _pooled_size(x, k, s, p, d, ceil_mode):
    """The output size of pooling ``x`` ``(N, C, H, W)``, with PyTorch's error when empty."""
    _, c, h, w = x.shape
    oh = _pool_out(h, k[0], s[0], p[0], d[0], ceil_mode)
    ow = _pool_out(w, k[1], s[1], p[1], d[1], ceil_mode)
    if oh < 1 or ow < 1:
        raise RuntimeError(
            f"Given input size: ({c}x{h}x{w}). Calculated output size: ({c}x{oh}x{ow}). "
            "Output size is too small"
        )
    return oh, ow


@functools.cache
def _max_pool2d_function():
    """Max pooling as one node of PyTorch's name, its forward and backward one kernel call
    each (CPU or CUDA); with ``create_graph=True`` the backward is a differentiable
    ``scatter_add``."""
    from rustgrad._ops import scatter_add
    from rustgrad.autograd.function import Function

    class MaxPool2DWithIndices(Function):
        @staticmethod
        def forward(ctx, x, kernel, stride, padding, dilation, ceil_mode, out_size):
            """The maxima and their flat positions in each plane."""
            values, indices = _core._max_pool2d(x, kernel, stride, padding, dilation, out_size)
            ctx.in_size = tuple(x.shape[-2:])
            ctx.window = (kernel, stride, padding, dilation)
            ctx.mark_non_differentiable(indices)
            ctx.save_for_backward(indices, x)
            return values, indices

        @staticmethod
        def backward(ctx, grad, _grad_indices):
            """Each output's gradient added at its maximum's position."""
            indices, x = ctx.saved_tensors
            h, w = ctx.in_size
            if _core.is_grad_enabled():
                lead = tuple(grad.shape[:-2])
                flat = _core.zeros((*lead, h * w), dtype=grad.dtype, device=grad.device)
                where, src = indices.reshape(*lead, -1), grad.reshape(*lead, -1)
                g = scatter_add(flat, len(lead), where, src).view(*lead, h, w)
                # (PyTorch's backward kernel reads the input: the result depends on it)
                g = _native.input_dependent("MaxPool2DWithIndicesBackwardBackward0", g, [x])
            else:
                g = _core._max_pool2d_backward(grad, indices, (h, w), *ctx.window)
            return g, None, None, None, None, None, None

    MaxPool2DWithIndices._backward_name = "MaxPool2DWithIndicesBackward0"
    return MaxPool2DWithIndices


# How many of an op's leading inputs PyTorch's backward takes, where not all of them
# (convolution_backward takes the input and weight, and the bias only by its size).
# Ops whose backward reads none of them that way (median's takes the input only for a mask;
# embedding_bag's weight gradient takes no weight, the per-sample weights' gradient depends
# on the weight through the composite already) add no dependence.
_BACKWARD_READS = {
    "ConvolutionBackward0": 2,
    "AffineGridGeneratorBackward0": 0,
    "MedianBackward0": 0,
    "NanmedianBackward0": 0,
    "EmbeddingBagBackward0": 0,
}
# Ops whose double backward leaves slopes undefined (None from autograd.grad), not zeros: per
# gradient the op returns, the inputs whose slope in it is undefined (a grid sampler's image
# gradient has a zero slope in the grid, its grid gradient none).
_UNDEFINED_SLOPE = {
    "ConvolutionBackward0": ({0, 1}, {0, 1}, {0, 1}),
    "GridSampler2DBackward0": ({0}, {0, 1}),
    "GridSampler3DBackward0": ({0}, {0, 1}),
}
# Gradients PyTorch does not differentiate again, by input position: the backward it names,
# whether derivatives.yaml marks it not_implemented, and the inputs its node reads.
_NO_DOUBLE_BACKWARD = {
    "EmbeddingBagBackward0": {
        0: ("_embedding_bag_backward", True, ()),
        1: ("_embedding_bag_per_sample_weights_backward", False, (0,)),
    },
}


@functools.cache
def _as_node(name):
    """A Function that records ``f(*tensors)``, a composite of differentiable ops, as one
    node ``name`` (PyTorch's name for the op, which ``grad_fn`` and printed tensors show).
    Its backward differentiates ``f`` again from the saved inputs: with ``create_graph`` on
    the inputs themselves (so higher orders follow), otherwise on detached copies."""
    from rustgrad.autograd import grad as autograd_grad
    from rustgrad.autograd.function import Function
    from rustgrad.autograd.grad_mode import enable_grad

    class Composite(Function):
        @staticmethod
        def forward(ctx, f, *tensors):
            ctx.f = f
            out = f(*tensors)
            # What PyTorch's node saves (``_saved.SAVES``: inputs, the result) is saved, so
            # version-checked; the other inputs are kept unchecked (only their sizes, or
            # nothing, enter the gradient).
            kept = _saved.saved_positions(name, ctx.needs_input_grad[1:])
            ctx.unsaved = {i: t for i, t in enumerate(tensors) if i not in kept}
            ctx.n = len(tensors)
            result = [out] if _saved.saves_result(name) else []
            ctx.save_for_backward(*(t for i, t in enumerate(tensors) if i in kept), *result)
            return out

        @staticmethod
        def backward(ctx, grad):
            saved = iter(ctx.saved_tensors)
            tensors = [ctx.unsaved[i] if i in ctx.unsaved else next(saved) for i in range(ctx.n)]
            needs = ctx.needs_input_grad[1:]
            create_graph = _core.is_grad_enabled()
            with enable_grad():
                if not create_graph:
                    tensors = [
                        None if t is None else t.detach().requires_grad_(need)
                        for t, need in zip(tensors, needs)
                    ]
                wrt = [t for t, need in zip(tensors, needs) if need]
                out = ctx.f(*tensors)
                # (a result that depends on none of them, as grid_sample's nearest mode on
                # the grid, has zero gradients)
                found = iter(
                    autograd_grad(out, wrt, grad, create_graph=create_graph, allow_unused=True)
                    if out.requires_grad
                    else [None] * len(wrt)
                )
            grads = [next(found) if need else None for need in needs]
            grads = [
                _core.zeros(tuple(t.shape), dtype=t.dtype, device=t.device)
                if g is None and need
                else g
                for g, t, need in zip(grads, tensors, needs)
            ]
            if create_graph:
                # PyTorch's backward of the op reads its inputs: under create_graph the
                # gradients depend on them (with slope 0 where the composite's do not).
                read = list(enumerate(tensors[: _BACKWARD_READS.get(name, len(tensors))]))
                read = [(i, t) for i, t in read if t is not None and t.requires_grad]
                inputs = [t for _, t in read]
                double = name.replace("Backward0", "BackwardBackward0")
                slopes = _UNDEFINED_SLOPE.get(name, [()] * len(grads))
                grads = [
                    g
                    if g is None
                    else _native.input_dependent(
                        double, g, inputs, [i in slopes[k] for i, _ in read]
                    )
                    for k, g in enumerate(grads)
                ]
                for i, (aten, marked, reads) in _NO_DOUBLE_BACKWARD.get(name, {}).items():
                    if grads[i] is not None:
                        inputs = [tensors[j] for j in reads if tensors[j].requires_grad]
                        grads[i] = _native.underivable(aten, grads[i], inputs, marked)
            return (None, *grads)

    Composite._backward_name = name
    return Composite


def _recorded_as(name, f, *tensors):
    """``f(*tensors)`` recorded as one node ``name`` (see ``_as_node``)."""
    return _as_node(name).apply(f, *tensors)


def _pooled_windows(x, k, s, p, d, ceil_mode, fill):
    """The windows of ``x`` ``(N, C, H, W)`` padded with ``fill`` as ``(N, C, kh * kw, L)``,
    the output size, and the padding used (left/top, right/bottom)."""
    n, c, h, w = x.shape
    oh, ow = _pooled_size(x, k, s, p, d, ceil_mode)
    # Right/bottom padding so that the last (ceil_mode) window fits.
    bottom = max((oh - 1) * s[0] + d[0] * (k[0] - 1) + 1 - h - p[0], 0)
    right = max((ow - 1) * s[1] + d[1] * (k[1] - 1) + 1 - w - p[1], 0)
    pads = (p[1], right, p[0], bottom)
    xp = _core_pad_value(x, pads, fill) if any(pads) else x
    cols = _core.im2col(xp, k, d, (0, 0), s).view(n, c, k[0] * k[1], oh * ow)
    return cols, (oh, ow), pads


def _core_pad_value(x, pads, value):
    from rustgrad.nn.functional import pad as _pad

    return _pad(x, pads, value=value)


def _check_pool2d_input(input, max_pool):
    """PyTorch's checks of a 2-d pooling input, in its words: 3-d or 4-d, every dim but the
    batch non-empty (average pooling reads ``size(-3)`` first: an IndexError below 3 dims)."""
    n = input.dim()
    if n < 3 and not max_pool:
        m = max(n, 1)
        raise IndexError(f"Dimension out of range (expected to be in range of [{-m}, {m - 1}], but got -3)")  # fmt: skip
    if n not in (3, 4):
        if max_pool:
            raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got:{list(input.shape)}")  # fmt: skip
    if 0 in input.shape[n - 3 :]:
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got:{list(input.shape)}")  # fmt: skip


def _as_4d(input, name, spatial=2):
    if input.dim() == spatial + 1:
        return input.unsqueeze(0), True
    if input.dim() != spatial + 2:
        raise RuntimeError(
            f"{name}: Expected {spatial + 1}D or {spatial + 2}D (batch mode) tensor for input "
            f"with possibly 0 batch size and non-zero dimensions, but got: {list(input.shape)}"
        )
    return input, False


def max_pool2d(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    """2-d max pooling; with ``return_indices`` also the flat ``h * W + w`` position of each
    maximum in its input plane (as ``max_unpool2d`` takes)."""
    k, s, p, d = _pool_args(kernel_size, stride, padding, dilation, "max_pool2d")
    _check_pool2d_input(input, max_pool=True)
    x, _ = _as_4d(input, "max_pool2d")
    if (x.is_cpu or x.is_cuda) and x.dtype in (_core.float32, _core.float64):
        # One node of PyTorch's name recording each maximum's position: one pass of
        # PyTorch's kernel.
        oh, ow = _pooled_size(x, k, s, p, d, ceil_mode)
        out, indices = _max_pool2d_function().apply(input, k, s, p, d, ceil_mode, (oh, ow))
    else:
        out = _max_pool2d_composite(input, k, s, p, d, ceil_mode, return_indices)
        out, indices = out if return_indices else (out, None)
    out = _channels_last_like(out, input)
    return (out, _channels_last_like(indices, input)) if return_indices else out


def _max_pool2d_composite(input, k, s, p, d, ceil_mode, return_indices):
    """Max pooling as the maximum over gathered windows (any device and float dtype); the
    indices come from the winning window element's input position."""
    x, added = _as_4d(input, "max_pool2d")
    n, c, h, w = x.shape
    cols, (oh, ow), pads = _pooled_windows(x, k, s, p, d, ceil_mode, -math.inf)
    values, arg = cols.max(2)
    out = values.view(n, c, oh, ow)
    if added:
        out = out.squeeze(0)
    if not return_indices:
        return out
    # The input position each window element reads, through the same padding and windows.
    pos = np.full((h + pads[2] + pads[3], w + pads[0] + pads[1]), -1, dtype=np.int64)
    pos[pads[2] : pads[2] + h, pads[0] : pads[0] + w] = np.arange(h * w).reshape(h, w)
    kh, kw = k
    windows = np.empty((kh * kw, oh * ow), dtype=np.int64)
    for i in range(kh):
        for j in range(kw):
            rows = pos[i * d[0] : i * d[0] + (oh - 1) * s[0] + 1 : s[0]]
            windows[i * kw + j] = rows[:, j * d[1] : j * d[1] + (ow - 1) * s[1] + 1 : s[1]].reshape(-1)  # fmt: skip
    table = _core.tensor(windows, device=x.device)
    flat = arg.reshape(-1, oh * ow)  # (N * C, L): which window element won
    cols_idx = _core.arange(oh * ow, device=x.device).expand(flat.shape[0], oh * ow)
    indices = table[flat, cols_idx].view(n, c, oh, ow)
    return out, (indices.squeeze(0) if added else indices)


def _check_max_pool1d(length, kernel, stride, padding, dilation, ceil_mode):
    """PyTorch's checks of its own max_pool1d kernel (the one without indices)."""
    name = "max_pool1d()"
    if kernel <= 0:
        raise RuntimeError(f"{name} kernel_size must be greater than zero, but got {kernel}")
    if stride <= 0:
        raise RuntimeError(f"{name} stride must be greater than zero, but got {stride}")
    if padding < 0:
        raise RuntimeError(f"{name} padding must be non-negative, but got {padding}")
    if padding > kernel // 2:
        raise RuntimeError(f"{name} padding should be at most half of kernel size, but got padding={padding} and kernel_size={kernel}")  # fmt: skip
    if dilation <= 0:
        raise RuntimeError(f"{name} dilation must be greater than zero, but got {dilation}")
    span = length + 2 * padding - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= length + padding:
        out -= 1
    if out < 1:
        raise RuntimeError(f"{name} Invalid computed output size: {out}")


def max_pool1d(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    """1-d max pooling of ``(N, C, L)`` (or ``(C, L)``): 2-d pooling over a height of one."""
    one = lambda v: _tuple(v, 1, "argument")[0]
    if input.dim() not in (2, 3) or 0 in input.shape[-2:]:
        raise RuntimeError(f"max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, but got:{list(input.shape)}")  # fmt: skip
    if not return_indices:
        _check_max_pool1d(
            input.shape[-1],
            one(kernel_size),
            one(
                kernel_size
                if stride is None or (not isinstance(stride, int) and len(stride) == 0)
                else stride
            ),
            one(padding),
            one(dilation),
            ceil_mode,
        )
    x = input.unsqueeze(-2)
    res = max_pool2d(
        x,
        (1, one(kernel_size)),
        None
        if stride is None or (not isinstance(stride, int) and len(stride) == 0)
        else (1, one(stride)),
        (0, one(padding)),
        (1, one(dilation)),
        ceil_mode,
        return_indices,
    )
    if return_indices:
        return res[0].squeeze(-2), res[1].squeeze(-2)
    if not (input.requires_grad and _core.is_grad_enabled()) and input.is_cpu:
        # (PyTorch's CPU kernel without indices writes row-major whatever the input's layout)
        return res.squeeze(-2).contiguous()
    return res.squeeze(-2)


@functools.cache
def _avg_pool2d_functions():
    """Average pooling as PyTorch's two nodes, each one kernel call: the pooling
    (``AvgPool2DBackward0``) and its backward (``AvgPool2DBackwardBackward0``), each the
    other's derivative (both are linear), so gradients of every order are kernels too."""
    from rustgrad.autograd.function import Function

    def pool(x, args):
        k, s, p, out, count_include_pad, divisor_override = args
        return _core._avg_pool2d(x, k, s, p, out, count_include_pad, divisor_override)

    def unpool(grad, in_size, args):
        k, s, p, _, count_include_pad, divisor_override = args
        return _core._avg_pool2d_backward(
            grad, in_size, k, s, p, count_include_pad, divisor_override
        )

    class AvgPool2D(Function):
        @staticmethod
        def forward(ctx, x, args):
            ctx.args, ctx.in_size = args, tuple(x.shape[-2:])
            ctx.save_for_backward(x)  # (as PyTorch's node: its backward takes the input)
            return pool(x, args)

        @staticmethod
        def backward(ctx, grad):
            if _core.is_grad_enabled():
                (x,) = ctx.saved_tensors
                return AvgPool2DGrad.apply(grad, x, ctx.in_size, ctx.args), None
            return unpool(grad, ctx.in_size, ctx.args), None

    class AvgPool2DGrad(Function):
        # over the incoming gradient and the input, with slope 0 in the input (PyTorch's
        # avg_pool2d_backward takes it): under create_graph it requires grad as PyTorch's
        @staticmethod
        def forward(ctx, grad, x, in_size, args):
            ctx.args, ctx.x_meta = args, (tuple(x.shape), x.dtype, x.device)
            return unpool(grad, in_size, args)

        @staticmethod
        def backward(ctx, grad_grad):
            shape, dtype, device = ctx.x_meta
            zero = _core.zeros(shape, dtype=dtype, device=device) if ctx.needs_input_grad[1] else None  # fmt: skip
            if _core.is_grad_enabled():
                return AvgPool2D.apply(grad_grad, ctx.args), zero, None, None
            return pool(grad_grad, ctx.args), zero, None, None

    AvgPool2D._backward_name = "AvgPool2DBackward0"
    AvgPool2DGrad._backward_name = "AvgPool2DBackwardBackward0"
    return AvgPool2D


def _avg_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    """2-d average pooling; ``count_include_pad`` counts the zero padding in the divisor,
    ``divisor_override`` replaces it."""
    k, s, p, d = _pool_args(kernel_size, stride, padding, 1, "avg_pool2d")
    _check_pool2d_input(input, max_pool=False)
    x, _ = _as_4d(input, "avg_pool2d")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    if (x.is_cpu or x.is_cuda) and x.dtype in (_core.float32, _core.float64):
        out = _pooled_size(x, k, s, p, d, ceil_mode)
        args = (k, s, p, out, bool(count_include_pad), divisor_override)
        return _avg_pool2d_functions().apply(input, args)

    def pooled(input):
        x, added = _as_4d(input, "avg_pool2d")
        n, c, h, w = x.shape
        cols, (oh, ow), pads = _pooled_windows(x, k, s, p, d, ceil_mode, 0.0)
        total = cols.sum(2)
        if divisor_override is not None:
            out = total / divisor_override
        else:
            # Each window's divisor: its cells inside the input (or inside input + padding),
            # a rectangle, so the counts along the two dims multiply.
            def along(dim, size, out_size, pad_after):
                inside = np.zeros(size + p[dim] + pad_after)
                if count_include_pad:
                    inside[: size + 2 * p[dim]] = 1
                else:
                    inside[p[dim] : p[dim] + size] = 1
                sums = np.concatenate([[0.0], np.cumsum(inside)])
                starts = np.arange(out_size) * s[dim]
                ends = np.minimum(starts + k[dim], inside.size)
                return sums[ends] - sums[starts]

            counts = np.outer(along(0, h, oh, pads[3]), along(1, w, ow, pads[1])).reshape(-1)
            out = total / _core.tensor(counts, dtype=x.dtype, device=x.device)
        out = out.view(n, c, oh, ow)
        return out.squeeze(0) if added else out

    # Half types and meta tensors: the composite, under the same node name.
    return _recorded_as("AvgPool2DBackward0", pooled, input)


def _window_sums(t, dim, windows):
    """The sum of each window ``[a, b)`` of ``t`` along ``dim``: the k-th elements of all
    windows gathered at once and added where a window has one (selected, never multiplied by
    a 0/1 weight, so an inf or NaN stays in the windows that hold it, as in PyTorch's loops;
    the gradient is scatter-adds)."""
    lengths = [b - a for a, b in windows]
    total = None
    for k in range(max(lengths, default=0)):
        index = _core.tensor([min(a + k, b - 1) for a, b in windows], device=t.device)
        term = t.index_select(dim, index)
        if min(lengths) <= k:
            shape = [1] * t.dim()
            shape[dim] = len(windows)
            held = _core.tensor([n > k for n in lengths], device=t.device).view(shape)
            term = term.where(held, 0.0)
        total = term if total is None else total + term
    if total is None:  # (no windows: an empty output)
        return t.index_select(dim, _core.tensor([], dtype=_core.int64, device=t.device))
    return total


def _adaptive_avg_pool2d(input, output_size):
    """Average pooling to ``output_size`` (an int, a pair; ``None`` keeps that dim): the
    windows are separable, so each window's sum is summed over rows, then divided once by its
    size (PyTorch's order)."""
    if input.dim() not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got {list(input.shape)}")  # fmt: skip
    x, _ = _as_4d(input, "adaptive_avg_pool2d")
    h, w = x.shape[-2:]
    o = (output_size, output_size) if isinstance(output_size, int) or output_size is None else tuple(output_size)  # fmt: skip
    if len(o) != 2:
        raise RuntimeError("adaptive_avg_pool2d: output_size must be 2")
    oh, ow = (h if o[0] is None else o[0]), (w if o[1] is None else o[1])
    if oh < 0 or ow < 0:
        raise RuntimeError(f"adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 but received {{{oh}, {ow}}}")  # fmt: skip
    for d in (input.dim() - 2, input.dim() - 1):
        if input.shape[d] == 0:
            raise RuntimeError(f"adaptive_avg_pool2d(): Expected input to have non-zero size for non-batch dimensions, but input has sizes {list(input.shape)} with dimension {d} being empty")  # fmt: skip
    if (oh, ow) == (1, 1):
        return input.mean((-2, -1), keepdim=True)  # PyTorch's path too (MeanBackward1)
    rows, cols = _adaptive_windows(h, oh), _adaptive_windows(w, ow)
    sizes = np.outer([b - a for a, b in rows], [b - a for a, b in cols])
    counts = _core.tensor(sizes, dtype=x.dtype, device=x.device)
    means = [_core.tensor(_averaging(n, win), dtype=x.dtype, device=x.device) for n, win in ((h, rows), (w, cols))]  # fmt: skip
    last = input.dim() - 1

    def finite(t):
        return t.numel() > 0 and bool(t.isfinite().all())

    # Dense products (gemm: fast) where every value is finite; gathers and scatter-adds
    # otherwise, so that an inf or NaN reaches only the windows that hold it
    def pool(t):
        if finite(t):
            return means[0].matmul(t).matmul(means[1].t())
        return _window_sums(_window_sums(t, last, cols), last - 1, rows) / counts

    def unpool(g):
        if finite(g):
            return means[0].t().matmul(g).matmul(means[1])
        g = g / counts
        return _window_sums_adjoint(_window_sums_adjoint(g, last - 1, rows, h), last, cols, w)

    # each the other's derivative (both are linear), recorded as PyTorch's nodes
    def pooled(t):
        # (saving the input, as PyTorch's node: writing it before backward raises)
        return _native.record("AdaptiveAvgPool2DBackward0", [t], lambda: pool(t), [t], lambda g, x: (unpooled(g, x),))  # fmt: skip

    def unpooled(g, x):
        # over the input too, as PyTorch's backward takes it (under create_graph the gradient
        # requires grad when the input does), with slope 0 there
        zero = lambda: _core.zeros(tuple(x.shape), dtype=x.dtype, device=x.device)
        return _native.record("AdaptiveAvgPool2DBackwardBackward0", [g, x], lambda: unpool(g), [], lambda gg: (pooled(gg), zero()))  # fmt: skip

    return pooled(input)


def _averaging(size, windows):
    """``(out, size)`` rows that average each window."""
    m = np.zeros((len(windows), size))
    for i, (a, b) in enumerate(windows):
        m[i, a:b] = 1.0 / (b - a)
    return m


def _window_sums_adjoint(g, dim, windows, size):
    """The adjoint of :func:`_window_sums`: each window's gradient added to its elements
    (scatter-adds; a window's NaN or inf reaches only its own elements)."""
    lengths = [b - a for a, b in windows]
    shape = list(g.shape)
    shape[dim] = size
    out = _core.zeros(tuple(shape), dtype=g.dtype, device=g.device)
    for k in range(max(lengths, default=0)):
        index = _core.tensor([min(a + k, b - 1) for a, b in windows], device=g.device)
        term = g
        if min(lengths) <= k:
            held_shape = [1] * g.dim()
            held_shape[dim] = len(windows)
            held = _core.tensor([n > k for n in lengths], device=g.device).view(held_shape)
            term = g.where(held, 0.0)
        out = out.index_add(dim, index, term)
    return out


def avg_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    """2-d average pooling; ``count_include_pad`` counts the zero padding in the divisor,
    ``divisor_override`` replaces it."""
    out = _avg_pool2d(
        input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )
    return _channels_last_like(out, input)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to ``output_size`` (an int, a pair; ``None`` keeps that dim)."""
    return _channels_last_like(_adaptive_avg_pool2d(input, output_size), input)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to ``output_size`` (an int, a pair; ``None`` keeps that dim); with
    ``return_indices`` also the flat ``h * W + w`` position of each maximum."""
    out = _adaptive_max_pool2d(input, output_size, return_indices)
    if return_indices:
        return _channels_last_like(out[0], input), _channels_last_like(out[1], input)
    return _channels_last_like(out, input)


def _check_non_empty(input, name):
    """PyTorch's refusal of an empty dim after the first (which it reads as a batch)."""
    for d in range(1, input.dim()):
        if input.shape[d] == 0:
            raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch dimensions, but input has sizes {list(input.shape)} with dimension {d} being empty")  # fmt: skip


def _adaptive_windows(size, out):
    """PyTorch's adaptive windows over a dim: ``[floor(i*size/out), ceil((i+1)*size/out))``."""
    return [((i * size) // out, -(-((i + 1) * size) // out)) for i in range(out)]


def _adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to ``output_size`` (an int, a pair; ``None`` keeps that dim); with
    ``return_indices`` also the flat ``h * W + w`` position of each maximum. The windows
    (padded to the longest by repeating their last element) are gathered, then reduced."""
    if input.dim() not in (3, 4):
        raise RuntimeError(f"adaptive_max_pool2d(): Expected 3D or 4D tensor, but got: {list(input.shape)}")  # fmt: skip
    _check_non_empty(input, "adaptive_max_pool2d")
    x, added = _as_4d(input, "adaptive_max_pool2d")
    n, c, h, w = x.shape
    o = (output_size, output_size) if isinstance(output_size, int) or output_size is None else tuple(output_size)  # fmt: skip
    if len(o) != 2:
        raise RuntimeError("adaptive_max_pool2d(): internal error: output_size.size() must be 2")
    oh, ow = (h if o[0] is None else o[0]), (w if o[1] is None else o[1])
    check_non_negative([n, oh, ow])
    rows, cols = _adaptive_windows(h, oh), _adaptive_windows(w, ow)
    kh = max((b - a for a, b in rows), default=1)
    kw = max((b - a for a, b in cols), default=1)
    table = np.empty((oh, ow, kh * kw), dtype=np.int64)
    for i, (r0, r1) in enumerate(rows):
        ri = np.minimum(np.arange(r0, r0 + kh), r1 - 1)
        for j, (c0, c1) in enumerate(cols):
            ci = np.minimum(np.arange(c0, c0 + kw), c1 - 1)
            table[i, j] = (ri[:, None] * w + ci[None, :]).reshape(-1)
    positions = _core.tensor(table.reshape(-1), device=x.device)
    with _native.no_grad():
        cells = x.reshape(n, c, h * w).index_select(2, positions).view(n, c, oh, ow, kh * kw)
        out, arg = cells.max(-1)
        where = _core.tensor(table, device=x.device).expand(n, c, oh, ow, kh * kw)
        indices = where.gather(-1, arg.unsqueeze(-1)).squeeze(-1)
        if added:
            out, indices = out.squeeze(0), indices.squeeze(0)

    def backward(grad, input, indices):
        # PyTorch's adaptive_max_pool2d_backward: each output's gradient added at its
        # maximum's position (windows overlap: positions repeat).
        g = grad.unsqueeze(0) if added else grad
        at = (indices.unsqueeze(0) if added else indices).reshape(n, c, -1)
        flat = _core.zeros((n, c, h * w), dtype=grad.dtype, device=grad.device)
        g = _scatter_add(flat, 2, at, g.reshape(n, c, -1)).view(n, c, h, w)
        g = g.squeeze(0) if added else g
        return (_native.input_dependent("AdaptiveMaxPool2DBackwardBackward0", g, [input]),)

    out = _native.record("AdaptiveMaxPool2DBackward0", [input], lambda: out, [input, indices], backward)  # fmt: skip
    return (out, indices) if return_indices else out


def _scatter_add(*args):
    from rustgrad._ops import scatter_add

    return scatter_add(*args)


def _one_int(output_size, name):
    if isinstance(output_size, int):
        return output_size
    size = tuple(output_size)
    if len(size) != 1:
        raise RuntimeError(f"{name}() argument 'output_size' should contain one int (got {len(size)})")  # fmt: skip
    return size[0]


def _check_1d(input, name):
    if input.dim() not in (2, 3):
        raise RuntimeError(
            f"Expected 2 to 3 dimensions, but got {input.dim()}-dimensional tensor for "
            f"argument #1 'self' (while checking arguments for {name})"
        )


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling of ``(N, C, L)`` (or ``(C, L)``) to length ``output_size``: 2-d adaptive
    pooling over a height of one."""
    _check_1d(input, "adaptive_max_pool1d")
    _check_non_empty(input, "adaptive_max_pool1d")
    size = _one_int(output_size, "adaptive_max_pool1d")
    res = adaptive_max_pool2d(input.unsqueeze(-2), (1, size), return_indices)
    if return_indices:
        return res[0].squeeze(-2), res[1].squeeze(-2)
    return res.squeeze(-2)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool2d`` returning ``(values, indices)``."""
    return adaptive_max_pool2d(input, output_size, True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """``adaptive_max_pool1d`` returning ``(values, indices)``."""
    return adaptive_max_pool1d(input, output_size, True)


def adaptive_avg_pool1d(input, output_size):
    """Average pooling of ``(N, C, L)`` (or ``(C, L)``) to length ``output_size``."""
    _check_1d(input, "adaptive_avg_pool1d")
    size = _one_int(output_size, "adaptive_avg_pool1d")
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, size)).squeeze(-2)


# ----- interpolation ---------------------------------------------------------------------


_CUBIC_A = -0.75  # (PyTorch's cubic convolution constant)


def _cubic_near(x, a=_CUBIC_A):
    """The cubic convolution weight of a tap within 1 of the source position."""
    return ((a + 2) * x - (a + 3)) * x * x + 1


def _cubic_far(x, a=_CUBIC_A):
    """The cubic convolution weight of a tap between 1 and 2 from the source position."""
    return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a


def _interp_taps(size, out, mode, align_corners, scale):
    """For each of ``out`` outputs along one dim, the taps it reads: a list of ``(indices,
    weights)`` (weights None for the nearest modes' one tap), by PyTorch's source-index rules
    (``area_pixel_compute_source_index``; cubic convolution with ``A = -0.75``)."""
    step = (1.0 / scale) if scale else size / out
    if mode in ("nearest", "nearest-exact"):
        shift = 0.5 if mode == "nearest-exact" else 0.0
        return [([min(math.floor((i + shift) * step), size - 1) for i in range(out)], None)]
    if align_corners:
        step = (size - 1) / (out - 1) if out > 1 else 0.0
    cubic = mode == "bicubic"
    taps = [([], []) for _ in range(4 if cubic else 2)]
    for i in range(out):
        src = i * step if align_corners else (i + 0.5) * step - 0.5
        if not cubic:
            src = max(src, 0.0)
            j = min(math.floor(src), size - 1)
            frac = src - j
            picks = [(j, 1.0 - frac), (min(j + 1, size - 1), frac)]
        else:
            j = math.floor(src)
            t = src - j
            weights = (_cubic_far(t + 1.0), _cubic_near(t), _cubic_near(1.0 - t), _cubic_far(2.0 - t))  # fmt: skip
            picks = [(min(max(j - 1 + k, 0), size - 1), w) for k, w in enumerate(weights)]
        for (indices, weights), (k, w) in zip(taps, picks):
            indices.append(k)
            weights.append(w)
    return taps


def _chain(x, steps, method):
    # Dense products (gemm: fast) where every value is finite; gathers and scatter-adds
    # otherwise, so that an inf or NaN reaches only the outputs that read it
    dense = x.is_floating_point() and x.numel() > 0 and bool(x.isfinite().all())
    for step in steps:
        x = getattr(step, method)(x, dense)
    return x


class _Resample:
    """Interpolation along one dim as gathers of source rows (never a product with the rows an
    output does not read, so an inf stays where PyTorch keeps it), and its adjoint as
    scatter-adds (PyTorch's upsample backward kernels)."""

    def __init__(self, dim, size, taps, like):
        self.dim, self.size = dim, size
        self.taps = []
        m = np.zeros((len(taps[0][0]), size))
        rows = np.arange(m.shape[0])
        shape = [1] * like.dim()
        shape[dim] = m.shape[0]
        for indices, weights in taps:
            index = _core.tensor(indices, dtype=_core.int64, device=like.device)
            if weights is None:
                self.taps.append((index, None))
                m[rows, indices] = 1.0
                continue
            w = np.asarray(weights).reshape(shape)
            self.taps.append((index, _core.tensor(w, dtype=like.dtype, device=like.device)))
            np.add.at(m, (rows, indices), np.asarray(weights))
        self.matrix = None
        if like.is_floating_point():
            self.matrix = _core.tensor(m, dtype=like.dtype, device=like.device)

    def _dense(self, x, matrix):
        # (the dim moved last for one product, then back)
        return x.movedim(self.dim, -1).matmul(matrix.t()).movedim(-1, self.dim)

    def forward(self, x, dense=False):
        if dense:
            return self._dense(x, self.matrix)
        y = None
        for index, w in self.taps:
            term = x.index_select(self.dim, index)
            term = term if w is None else term * w
            y = term if y is None else y + term
        return y

    def adjoint(self, g, dense=False):
        if dense:
            return self._dense(g, self.matrix.t())
        shape = list(g.shape)
        shape[self.dim] = self.size
        grad = _core.zeros(tuple(shape), dtype=g.dtype, device=g.device)
        for index, w in self.taps:
            grad = grad.index_add(self.dim, index, g if w is None else g * w)
        return grad


def interpolate(
    input,
    size=None,
    scale_factor=None,
    mode="nearest",
    align_corners=None,
    recompute_scale_factor=None,
    antialias=False,
):
    """Resize the spatial dims of ``(N, C, W)``, ``(N, C, H, W)`` or ``(N, C, D, H, W)``:
    ``mode`` ``"nearest"``, ``"nearest-exact"``, ``"area"``, or (with ``align_corners``)
    ``"linear"``, ``"bilinear"``, ``"bicubic"``, ``"trilinear"``, to ``size`` or by
    ``scale_factor``."""
    modes = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
    if mode not in modes:
        if mode == "lanczos":
            raise NotImplementedError(f"interpolate: mode {mode!r} is not supported by rustgrad")
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) for the modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact (got {mode})")  # fmt: skip
    if mode in ("nearest", "nearest-exact", "area") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear")  # fmt: skip
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported by rustgrad")
    spatial = input.dim() - 2
    if spatial not in (1, 2, 3):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) for the modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact (got {mode})")  # fmt: skip
    expected = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}.get(mode, spatial)
    if expected != spatial:
        raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs {expected + 2}D input")  # fmt: skip
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    dims = input.shape[2:]
    if size is not None:
        if isinstance(size, (list, tuple)) and len(size) != spatial:
            raise ValueError(f"Input and output must have the same number of spatial dimensions, but got input with spatial dimensions of {list(dims)} and output size of {size}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) format.")  # fmt: skip
        out = _tuple(size, spatial, "size")
        scales = (None,) * spatial
    else:
        if isinstance(scale_factor, (list, tuple)) and len(scale_factor) != spatial:
            raise ValueError(f"Input and scale_factor must have the same number of spatial dimensions, but got input with spatial dimensions of {list(dims)} and scale_factor of shape {scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format.")  # fmt: skip
        sf = (scale_factor,) * spatial if isinstance(scale_factor, (int, float)) else tuple(scale_factor)  # fmt: skip
        out = tuple(math.floor(d * f) for d, f in zip(dims, sf))
        scales = (None,) * spatial if recompute_scale_factor else sf
    if min(*dims, *out) <= 0:
        letters = "DHW"[3 - spatial :]
        given = lambda sizes: ", ".join(f"{c}: {n}" for c, n in zip(letters, sizes))
        joined = " and " if spatial == 1 else " "
        sizes = f"input ({given(dims)}){joined}output ({given(out)})"
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got {sizes}")
    if mode == "area":  # (PyTorch's: adaptive average pooling to the output size)
        pool = {1: adaptive_avg_pool1d, 2: adaptive_avg_pool2d}.get(spatial)
        if pool is None:
            from rustgrad.nn._pool3d import adaptive_avg_pool3d as pool
        return pool(input, out)
    if not input.is_floating_point() and (input.dtype != _core.uint8 or mode != "nearest"):
        if input.dtype == _core.uint8 and spatial == 2:
            raise NotImplementedError("interpolate: uint8 bilinear is not supported by rustgrad")
        kernel = {1: "compute_indices_weights_", 2: "upsample_"}.get(spatial, "upsample_") + {
            (1, "nearest"): "nearest",
            (2, "nearest"): "nearest2d_channels_last",
            (1, "linear"): "linear",
            (2, "bilinear"): "bilinear2d_channels_last",
        }.get((spatial, mode), f"{mode.replace('-', '_')}{spatial}d")
        name = _math._SCALAR_NAME[input.dtype]
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{name}'")
    # the last dim first, then the one before (PyTorch's order of the products)
    steps = [
        _Resample(2 + k, d, _interp_taps(d, o, mode, bool(align_corners), sc), input)
        for k, d, o, sc in reversed(list(zip(range(spatial), dims, out, scales)))
    ]

    kind = {"nearest": "Nearest", "nearest-exact": "NearestExact", "linear": "Linear", "bilinear": "Bilinear", "bicubic": "Bicubic", "trilinear": "Trilinear"}[mode]  # fmt: skip
    name = f"Upsample{kind}{spatial}DBackward0"

    # each the other's derivative (the map is linear), recorded as PyTorch's nodes
    def upsample(x):
        return _native.record(name, [x], lambda: _chain(x, steps, "forward"), [], lambda g: (adjoint(g),))  # fmt: skip

    def adjoint(g):
        back = steps[::-1]
        return _native.record(f"{name[:-1]}Backward0", [g], lambda: _chain(g, back, "adjoint"), [], lambda gg: (upsample(gg),))  # fmt: skip

    return _channels_last_like(upsample(input), input)
