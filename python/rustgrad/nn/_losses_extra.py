"""Margin losses over class scores (``multi_margin_loss``, ``multilabel_margin_loss``) and the
triplet loss with a custom distance, as ``torch.nn.functional``'s.

The two class-score losses are one node each, as PyTorch's kernels: the value from tensor ops,
the gradient by PyTorch's backward formula. PyTorch does not differentiate those backwards, so
a second derivative raises its error. The per-sample sums that PyTorch accumulates in double
for float32 (the reduction of ``multi_margin_loss``, both sums of ``multilabel_margin_loss``)
are summed in float64 here too.
"""

from rustgrad import _core, _native

__all__ = ["multi_margin_loss", "multilabel_margin_loss", "triplet_margin_with_distance_loss"]


def _reduction(size_average, reduce, reduction):
    from rustgrad.nn.functional import _check_reduction, _legacy_reduction

    if size_average is not None or reduce is not None:
        return _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    return reduction


def _check_float(input, kernel):
    from rustgrad.nn.functional import _dtype_name

    if input.dtype not in (_core.float32, _core.float64):
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_dtype_name(input.dtype)}\'')  # fmt: skip


def _check_scalar_type(t, dtype):
    from rustgrad.nn.functional import _dtype_name

    if t.dtype != dtype:
        raise RuntimeError(f"expected scalar type {_dtype_name(dtype)} but found {_dtype_name(t.dtype)}")  # fmt: skip


def _frames(input):
    """``(nframe, dim)`` of a 0-, 1- or 2-d score tensor, with PyTorch's check."""
    ndims = input.dim()
    if not ((ndims == 2 and input.shape[1] != 0) or (ndims == 1 and input.shape[0] != 0) or ndims == 0):  # fmt: skip
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: {list(input.shape)}")  # fmt: skip
    if ndims <= 1:
        return 1, 1 if ndims == 0 else input.shape[0]
    return input.shape[0], input.shape[1]


def _reduced(per_frame, reduction, nframe, dim=1):
    """PyTorch's reduction of per-sample losses, accumulated in double (``acc_type`` of a CPU
    float is double), divided by ``dim`` (and ``nframe`` for the mean), then rounded back."""
    total = per_frame.double().sum() / dim
    if reduction == "mean":
        total = total / nframe
    return total.to(per_frame.dtype)


def _zeros(t):
    return _core.zeros(tuple(t.shape), dtype=t.dtype, device=t.device)


def _empty_loss(input, shape, reduction):
    # (PyTorch leaves an empty input's loss unwritten; here the mean of nothing, or 0)
    fill = float("nan") if reduction == "mean" and not shape else 0.0
    return _core.full(shape, fill, dtype=input.dtype, device=input.device)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):  # fmt: skip
    """Multi-class hinge loss of scores ``input (N, C)`` (or ``(C,)``) against class indices
    ``target (N,)``: per sample ``sum over i != y of weight[y] * max(0, margin - x[y] +
    x[i]) ** p / C`` (``p`` 1 or 2)."""
    reduction = _reduction(size_average, reduce, reduction)
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    if weight is not None and weight.requires_grad and _core.is_grad_enabled():
        raise RuntimeError(
            "The function 'multi_margin_loss' is not differentiable with respect to argument "
            "'weight'. This input cannot have requires_grad True."
        )
    nframe, dim = _frames(input)
    if target.dim() > 1 or target.numel() != nframe:
        raise RuntimeError(
            "multi_margin_loss: target tensor should be 1-D with size equal to the number of "
            f"input samples (batch size). Expected target size [{nframe}], but got "
            f"{list(target.shape)}. Input has shape {list(input.shape)}."
        )
    if weight is not None and weight.numel() != dim:
        raise RuntimeError(f"inconsistent weight size, expected {dim} but got {list(weight.shape)}")  # fmt: skip
    shape = (nframe,) if reduction == "none" and target.dim() > 0 else ()
    if input.numel() == 0:
        out = _empty_loss(input, shape, reduction)
        saved = [input, target] + ([weight] if weight is not None else [])
        return _native.record("MultiMarginLossBackward0", [input], lambda: out, saved, lambda g, *_: (_zeros(input),))  # fmt: skip
    _check_float(input, "multi_margin_loss_cpu_kernel")
    _check_scalar_type(target, _core.int64)
    if weight is not None:
        _check_scalar_type(weight, input.dtype)
    rows = target.reshape(nframe)
    if bool(((rows < 0) | (rows >= dim)).any()):
        raise RuntimeError("target out of range")
    columns = _core.arange(dim, device=input.device)
    others = columns.unsqueeze(0) != rows.unsqueeze(1)  # (the target's own class is skipped)

    def margins(x):
        x2 = x.reshape(nframe, dim)
        return (margin - x2.gather(1, rows.unsqueeze(1))) + x2  # PyTorch's order

    def forward():
        z = margins(input)
        h = z if p == 1 else z * z
        if weight is not None:
            h = h * weight[rows].unsqueeze(1)
        h = _core.where(others & (z > 0), h, 0.0)
        per_frame = h.sum(1) / dim
        if shape:
            return per_frame
        return _reduced(per_frame, reduction, nframe)

    def backward(grad, x, *_):
        """PyTorch's ``multi_margin_loss_backward``."""
        z = margins(x.detach())
        g = 1.0 / (nframe * dim) if reduction == "mean" else 1.0 / dim
        h = _core.full_like(z, g) if p == 1 else z * (2 * g)
        if weight is not None:
            h = h * weight[rows].unsqueeze(1)
        h = _core.where(others & (z > 0), h, 0.0)
        grad_input = h.scatter(1, rows.unsqueeze(1), -h.sum(1, keepdim=True))
        per_frame = reduction == "none" and grad.dim() > 0
        grad_input = grad_input * (grad.reshape(nframe, 1) if per_frame else grad)
        grad_input = grad_input.reshape(tuple(x.shape))
        return (_native.underivable("multi_margin_loss_backward", grad_input, [x]),)

    # (saved as PyTorch's node saves them: writing one in place before backward raises)
    saved = [input, target] + ([weight] if weight is not None else [])
    return _native.record("MultiMarginLossBackward0", [input], forward, saved, backward)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Multi-label hinge loss of scores ``input (N, C)`` (or ``(C,)``) against the class
    indices ``target`` (same shape; the labels are those before the first ``-1``): per sample
    ``sum over labels j and non-labels i of max(0, 1 - (x[j] - x[i])) / C``."""
    reduction = _reduction(size_average, reduce, reduction)
    nframe, dim = _frames(input)
    if input.dim() <= 1:
        fits = target.dim() <= 1 and target.numel() == dim
    else:
        fits = target.dim() == 2 and tuple(target.shape) == (nframe, dim)
    if not fits:
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: {list(input.shape)}")  # fmt: skip
    shape = () if reduction != "none" or target.dim() <= 1 else (nframe,)
    if input.numel() == 0:
        out = _empty_loss(input, shape, reduction)
        return _native.record("MultilabelMarginLossBackward0", [input], lambda: out, [input, target], lambda g, *_: (_zeros(input),))  # fmt: skip
    low, high = _core.stack([target.min(), target.max()]).tolist()
    if low < -1 or high >= dim:
        raise RuntimeError("argument #2 'target' is out of range")
    _check_float(input, "multilabel_margin_loss_forward_out_frame")
    _check_scalar_type(target, _core.int64)
    labels = target.reshape(nframe, dim)
    # the slots before the first -1 hold the labels (a repeated label counts again)
    held = (labels >= 0).to(_core.int64).cumprod(1).bool()
    slots = labels.clamp(min=0)
    is_target = _core.zeros((nframe, dim), dtype=input.dtype, device=input.device)
    is_target = is_target.scatter_add(1, slots, held.to(input.dtype)) > 0
    counted = held.unsqueeze(2) & is_target.logical_not().unsqueeze(1)  # (frame, slot, class)

    def margins(x):
        x2 = x.reshape(nframe, dim)
        return (1 - x2.gather(1, slots)).unsqueeze(2) + x2.unsqueeze(1)  # PyTorch's order

    def forward():
        z = margins(input)
        # each sample's sum in double, rounded to the input's type (PyTorch's acc_type)
        inner = _core.where(counted & (z > 0), z, 0.0).double().sum((1, 2)).to(input.dtype)
        if shape:
            return inner / dim
        return _reduced(inner, reduction, nframe, dim)

    def backward(grad, x, _target):
        """PyTorch's ``multilabel_margin_loss_backward``: ``g`` to each non-label in a
        positive margin, ``-g`` to the label it is measured from."""
        z = margins(x.detach())
        g = 1.0 / (nframe * dim) if reduction == "mean" else 1.0 / dim
        active = (counted & (z > 0)).to(x.dtype)
        grad_input = active.sum(1) * g
        grad_input = grad_input.scatter_add(1, slots, -(active.sum(2) * g) * held.to(x.dtype))
        per_frame = reduction == "none" and grad.dim() > 0
        grad_input = grad_input * (grad.reshape(nframe, 1) if per_frame else grad)
        grad_input = grad_input.reshape(tuple(x.shape))
        return (_native.underivable("multilabel_margin_loss_backward", grad_input, [x]),)

    # (the target saved as PyTorch's node saves it: writing it in place before backward raises)
    return _native.record("MultilabelMarginLossBackward0", [input], forward, [input, target], backward)  # fmt: skip


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False, reduction="mean"):  # fmt: skip
    """``max(0, margin + d(anchor, positive) - d(anchor, negative))`` with ``d`` the given
    ``distance_function`` (default ``pairwise_distance``); ``swap`` takes the smaller of
    ``d(anchor, negative)`` and ``d(positive, negative)``."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    a_dim, p_dim, n_dim = anchor.ndim, positive.ndim, negative.ndim
    if not (a_dim == p_dim and p_dim == n_dim):
        raise RuntimeError(
            f"The anchor, positive, and negative tensors are expected to have "
            f"the same number of dimensions, but got: anchor {a_dim}D, "
            f"positive {p_dim}D, and negative {n_dim}D inputs"
        )
    if distance_function is None:
        import rustgrad

        distance_function = rustgrad.pairwise_distance
    dist_pos = distance_function(anchor, positive)
    dist_neg = distance_function(anchor, negative)
    if swap:
        dist_swap = distance_function(positive, negative)
        dist_neg = dist_neg.minimum(dist_swap)
    loss = (margin + dist_pos - dist_neg).clamp_min(0)
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean()
    return loss
