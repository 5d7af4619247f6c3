"""``affine_grid`` and ``grid_sample`` (Spatial Transformer Networks), as PyTorch's.

Both are composites of differentiable ops recorded under PyTorch's node names
(``AffineGridGeneratorBackward0``, ``GridSampler2DBackward0``/``GridSampler3DBackward0``), so
gradients w.r.t. the input and the grid, and their gradients, come from the ops' own formulas.
``grid_sample`` unnormalises the grid, applies the padding mode (differentiably, with
PyTorch's zero derivative on the clipped borders), finds the corner (or bicubic tap) indices
with no history, gathers those pixels in one indexing and sums them with their weights.
"""

import functools
import itertools
import math
import warnings

from rustgrad import _core
from rustgrad.nn._conv_functional import _recorded_as

_ALIGN_WARNING = (
    "Default grid_sample and affine_grid behavior has changed to align_corners=False since "
    "1.3.0. Please specify align_corners=True if the old behavior is desired. See the "
    "documentation of grid_sample for details."
)


# ----- affine_grid -----------------------------------------------------------------------


def _linspace_from_neg_one(steps, align_corners, dtype, device):
    """PyTorch's base-grid axis: ``steps`` points across [-1, 1] (pixel centres unless
    ``align_corners``), a single 0 for one step."""
    if steps <= 1:
        return _core.zeros((steps,), dtype=dtype, device=device)
    r = _core.linspace(-1, 1, steps, dtype=dtype, device=device)
    return r if align_corners else r * (steps - 1) / steps


def _base_grid(spatial, align_corners, dtype, device):
    """``(prod(spatial), nd + 1)`` homogeneous coordinates ``(x, y[, z], 1)``, x fastest."""
    axes = [_linspace_from_neg_one(s, align_corners, dtype, device) for s in spatial]
    nd = len(spatial)
    cols = []
    for k in range(nd):  # coordinate k runs along spatial dim nd - 1 - k
        shape = [1] * nd
        shape[nd - 1 - k] = spatial[nd - 1 - k]
        cols.append(axes[nd - 1 - k].reshape(shape).expand(tuple(spatial)))
    cols.append(_core.ones(tuple(spatial), dtype=dtype, device=device))
    return _core.stack(cols, -1).reshape(-1, nd + 1)


def affine_grid(theta, size, align_corners=None):
    """The sampling grid ``(N, H, W, 2)`` (or ``(N, D, H, W, 3)``) of the affine maps
    ``theta`` ``(N, 2, 3)`` (or ``(N, 3, 4)``) over an output of ``size``, for
    ``grid_sample``."""
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    given, size = size, [int(s) for s in size]  # (the messages show the size as given)
    if len(size) == 4:
        if theta.dim() != 3 or theta.shape[-2] != 2 or theta.shape[-1] != 3:
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {given}. Got {theta.shape}.")  # fmt: skip
        spatial = size[-2:]
    elif len(size) == 5:
        if theta.dim() != 3 or theta.shape[-2] != 3 or theta.shape[-1] != 4:
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {given}. Got {theta.shape}.")  # fmt: skip
        spatial = size[-3:]
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, respectively. Got size {given}.")  # fmt: skip
    if align_corners and min(spatial) == 1:
        warnings.warn(
            "Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
            "align_corners=True. This is not an intended use case of affine_grid. See the "
            "documentation of affine_grid for details.",
            stacklevel=2,
        )
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {given}")
    n = size[0]
    if theta.shape[0] != n:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{n}, "
            f"{theta.shape[2]}] but got: [{theta.shape[0]}, {theta.shape[2]}]."
        )
    base = _base_grid(spatial, align_corners, theta.dtype, theta.device)

    def generate(theta):
        # (P, nd + 1) @ (N, nd + 1, nd) -> (N, P, nd)
        return base.matmul(theta.transpose(1, 2)).reshape(n, *spatial, len(spatial))

    return _recorded_as("AffineGridGeneratorBackward0", generate, theta)


# ----- grid_sample ----------------------------------------------------------------------


def _c_type(dtype):
    return {"float32": "Float", "float64": "Double"}.get(str(dtype).rpartition(".")[2], str(dtype))


def _check_sampler(input, grid, mode):
    """PyTorch's checks of ``grid_sampler`` (in its order)."""
    if input.device != grid.device:
        raise RuntimeError(f"grid_sampler(): expected input and grid to be on same device, but input is on {input.device} and grid is on {grid.device}")  # fmt: skip
    if input.dim() == 0 or grid.dim() == 0 or input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but got input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")  # fmt: skip
    if grid.shape[-1] != input.dim() - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {input.dim() - 2} in last dimension, but got grid with sizes {list(grid.shape)}")  # fmt: skip
    for i in range(2, input.dim()):
        if input.shape[i] <= 0:
            raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial dimensions, but input has sizes {list(input.shape)} with dimension {i} being empty")  # fmt: skip
    nd = 2 if input.dim() == 4 else 3
    if input.dim() != nd + 2 or grid.dim() != nd + 2:
        raise RuntimeError(f"grid_sampler(): expected {nd + 2}D input and grid with same number of dimensions, but got input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")  # fmt: skip
    if nd == 3 and mode == "bicubic":
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if not input.is_floating_point():
        raise NotImplementedError(f'"grid_sampler_{nd}d_cpu" not implemented for \'{_c_type(input.dtype)}\'')  # fmt: skip
    if grid.dtype != input.dtype:
        raise RuntimeError(f"expected scalar type {_c_type(input.dtype)} but found {_c_type(grid.dtype)}")  # fmt: skip
    return nd


def _unnormalize(coord, size, align_corners):
    """[-1, 1] to pixel coordinates (pixel centres at the ends with ``align_corners``)."""
    if align_corners:
        return ((coord + 1) / 2) * (size - 1)
    return ((coord + 1) * size - 1) / 2


def _clip(coord, size):
    """``coord`` clipped to [0, size - 1]; the derivative is 0 on (and beyond) the borders,
    as PyTorch's ``clip_coordinates_set_grad``, and NaN goes to 0."""
    high = float(size - 1)
    return _core.where(coord > 0, _core.where(coord < high, coord, high), 0.0)


def _reflect(coord, twice_low, twice_high):
    """``coord`` reflected off the borders ``twice_low / 2`` and ``twice_high / 2`` until it
    lies between them (PyTorch's ``reflect_coordinates``; the derivative flips sign with each
    reflection)."""
    if twice_low == twice_high:
        return coord * 0
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    d = coord - low
    a = _core.where(d < 0, -d, d)
    extra = a.fmod(span)
    flips = (a.detach() / span).floor()
    even = (flips - 2 * (flips / 2).floor()) == 0
    return _core.where(even, extra + low, span - extra + low)


def _pad_coordinates(coord, size, padding_mode, align_corners):
    """PyTorch's ``compute_coordinates``: the padding mode applied to a pixel coordinate."""
    if padding_mode == "border":
        return _clip(coord, size)
    if padding_mode == "reflection":
        if align_corners:
            coord = _reflect(coord, 0, 2 * (size - 1))
        else:
            coord = _reflect(coord, -1, 2 * size - 1)
        return _clip(coord, size)
    return coord


def _cubic_coefficients(t):
    """The four cubic-convolution weights (A = -0.75) of the taps at -1, 0, 1, 2 from the
    fractional position ``t``."""
    a = -0.75

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _sample(input, grid, *, nd, mode, padding_mode, align_corners):
    n, c = input.shape[:2]
    spatial = tuple(input.shape[2:])
    out_spatial = tuple(grid.shape[1:-1])
    p = math.prod(out_spatial)
    g = grid.reshape(n, p, nd)
    # grid coordinate k (x, y, z) addresses spatial dim nd - 1 - k (W, H, D)
    sizes = [spatial[nd - 1 - k] for k in range(nd)]
    coords = [_unnormalize(g[..., k], sizes[k], align_corners) for k in range(nd)]
    if mode == "bicubic":
        starts = [x.detach().floor() for x in coords]
        weights_1d = [_cubic_coefficients(x - s) for x, s in zip(coords, starts)]
        taps = [[s + (i - 1) for i in range(4)] for s in starts]
        taps = [
            [_pad_coordinates(t, size, padding_mode, align_corners) for t in ts]
            for ts, size in zip(taps, sizes)
        ]
        choices = range(4)
    else:
        coords = [_pad_coordinates(x, size, padding_mode, align_corners) for x, size in zip(coords, sizes)]  # fmt: skip
        if mode == "nearest":
            # (round half to even, as nearbyint)
            taps = [[x.detach().round()] for x in coords]
            weights_1d = None
            choices = range(1)
        else:
            starts = [x.detach().floor() for x in coords]
            weights_1d = [[(s + 1) - x, x - s] for x, s in zip(coords, starts)]
            taps = [[s, s + 1] for s in starts]
            choices = range(2)
    # One index per corner (x fastest, as PyTorch's nw, ne, sw, se) into the flattened
    # pixels of every image; corners outside the image read 0.
    strides = [math.prod(sizes[:k]) for k in range(nd)]
    index, valid, weights = [], [], []
    for corner in itertools.product(choices, repeat=nd):
        corner = corner[::-1]  # (product varies its last element fastest)
        ok, flat, w = None, None, None
        for k, i in enumerate(corner):
            t = taps[k][i]
            inside = (t >= 0) & (t <= sizes[k] - 1)
            ok = inside if ok is None else ok & inside
            if weights_1d is not None:
                w = weights_1d[k][i] if w is None else w * weights_1d[k][i]
        for k, i in enumerate(corner):
            pos = _core.where(ok, taps[k][i], 0.0).long() * strides[k]
            flat = pos if flat is None else flat + pos
        index.append(flat)
        valid.append(ok)
        if w is not None:
            weights.append(w)
    corners = len(index)
    batch = _core.arange(n, device=input.device).reshape(n, 1, 1) * math.prod(spatial)
    index = _core.stack(index, 1) + batch  # (n, corners, p)
    valid = _core.stack(valid, 1)
    pixels = input.reshape(n, c, math.prod(spatial)).transpose(1, 2).reshape(-1, c)
    vals = pixels[index.reshape(-1)].reshape(n, corners, p, c)
    vals = _core.where(valid.unsqueeze(-1), vals, 0.0)
    if weights:
        vals = vals * _core.stack(weights, 1).unsqueeze(-1)
    out = vals.sum(1)  # (n, p, c)
    # (PyTorch's kernel writes a contiguous result)
    return out.transpose(1, 2).contiguous().reshape(n, c, *out_spatial)


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """``input`` ``(N, C, H, W)`` (or ``(N, C, D, H, W)``) sampled at the normalised
    locations ``grid`` ``(N, H_out, W_out, 2)`` (or ``(N, D_out, H_out, W_out, 3)``; -1 and 1
    are the image's edges): ``mode`` ``'bilinear'``, ``'nearest'`` or ``'bicubic'`` (4-D
    only), outside the image ``padding_mode`` ``'zeros'``, ``'border'`` or ``'reflection'``."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but got: '{mode}'")  # fmt: skip
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or 'reflection', but got: '{padding_mode}'")  # fmt: skip
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    nd = _check_sampler(input, grid, mode)
    sample = functools.partial(
        _sample, nd=nd, mode=mode, padding_mode=padding_mode, align_corners=bool(align_corners)
    )
    return _recorded_as(f"GridSampler{nd}DBackward0", sample, input, grid)
