"""``rustgrad.nn.functional``: layers and losses as functions, as ``torch.nn.functional``.

Every function here is a composite of differentiable rustgrad ops, so gradients (and gradients
of gradients) come from the ops' own formulas. Shapes: ``N`` is the batch size, ``C`` the number
of classes, ``*`` any further dims.
"""

import warnings

from rustgrad import _core

__all__ = [
    "cross_entropy",
    "dropout",
    "elu",
    "elu_",
    "gelu",
    "hardtanh",
    "hardtanh_",
    "leaky_relu",
    "leaky_relu_",
    "linear",
    "log_softmax",
    "logsigmoid",
    "mish",
    "mse_loss",
    "nll_loss",
    "relu",
    "relu6",
    "selu",
    "selu_",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "tanh",
]

Tensor = _core.Tensor

_REDUCTIONS = ("none", "mean", "sum")


def _check_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _legacy_reduction(size_average, reduce, reduction):
    """The ``reduction`` meant by PyTorch's deprecated ``size_average`` / ``reduce`` flags."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    warnings.warn(
        "size_average and reduce args will be deprecated, please use reduction='"
        + ("none" if not reduce else "mean" if size_average else "sum")
        + "' instead.",
        UserWarning,
        stacklevel=3,
    )
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


# ----- layers and activations ------------------------------------------------------------------


def linear(input, weight, bias=None):
    """``input @ weight.T + bias``: ``(*, in_features)`` with ``weight (out_features,
    in_features)`` and ``bias (out_features,)`` gives ``(*, out_features)``."""
    out = input.matmul(weight.t())
    if bias is not None:
        out = out + bias
    return out


def relu(input, inplace=False):
    """``max(input, 0)`` elementwise (written into ``input`` with ``inplace=True``)."""
    if inplace:
        return input.clamp_(min=0)
    return input.relu()


def tanh(input):
    """Hyperbolic tangent, elementwise."""
    return input.tanh()


def sigmoid(input):
    """``1 / (1 + exp(-input))``, elementwise."""
    return input.sigmoid()


# ----- activations of issue 11 (kernels and backward formulas in ``src/ops/math.rs``) -----------

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def gelu(input, approximate="none"):
    """GELU: ``input * Phi(input)`` (``approximate="none"``) or its tanh approximation
    (``approximate="tanh"``), elementwise."""
    return _core.gelu(input, approximate)


def silu(input, inplace=False):
    """SiLU (swish): ``input * sigmoid(input)``, elementwise."""
    return _core.silu(input, inplace)


def mish(input, inplace=False):
    """Mish: ``input * tanh(softplus(input))``, elementwise."""
    return _core.mish(input, inplace)


def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta * input)) / beta``, and ``input`` itself where ``beta * input >
    threshold``, elementwise."""
    return _core.softplus(input, beta, threshold)


def elu(input, alpha=1.0, inplace=False):
    """ELU: ``input`` where positive, else ``alpha * (exp(input) - 1)``, elementwise."""
    return _core.elu(input, alpha, 1.0, 1.0, inplace)


def elu_(input, alpha=1.0):
    """``elu`` written into ``input``."""
    return _core.elu(input, alpha, 1.0, 1.0, True)


def selu(input, inplace=False):
    """SELU: ``scale * elu(input, alpha)`` with the self-normalising constants, elementwise."""
    return _core.elu(input, _SELU_ALPHA, _SELU_SCALE, 1.0, inplace)


def selu_(input):
    """``selu`` written into ``input``."""
    return _core.elu(input, _SELU_ALPHA, _SELU_SCALE, 1.0, True)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """``input`` where positive, else ``negative_slope * input``, elementwise."""
    return _core.leaky_relu(input, negative_slope, inplace)


def leaky_relu_(input, negative_slope=0.01):
    """``leaky_relu`` written into ``input``."""
    return _core.leaky_relu(input, negative_slope, True)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """``input`` clamped into ``[min_val, max_val]`` (gradient zero at and beyond the
    bounds), elementwise."""
    return _core.hardtanh(input, min_val, max_val, inplace)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """``hardtanh`` written into ``input``."""
    return _core.hardtanh(input, min_val, max_val, True)


def relu6(input, inplace=False):
    """``min(max(input, 0), 6)``, elementwise (``hardtanh(input, 0, 6)``)."""
    return _core.hardtanh(input, 0.0, 6.0, inplace)


def logsigmoid(input):
    """``log(sigmoid(input))``, computed without overflow, elementwise."""
    return _core.logsigmoid(input)


def _softmax_dim(ndim, name):
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. "
        "Change the call to include dim=X as an argument.",
        UserWarning,
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, dtype=None):
    """``exp(x) / sum(exp(x))`` along ``dim`` (same shape as ``input``)."""
    if dim is None:
        dim = _softmax_dim(input.dim(), "softmax")
    return input.softmax(dim, dtype=dtype)


def log_softmax(input, dim=None, dtype=None):
    """``log(softmax(x))`` along ``dim``, computed stably (same shape as ``input``)."""
    if dim is None:
        dim = _softmax_dim(input.dim(), "log_softmax")
    return input.log_softmax(dim, dtype=dtype)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)`` (only
    when ``training``)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        mask = _core.full_like(input, 0.0)
    else:
        keep = _core.rand(input.shape, dtype=input.dtype, device=input.device) >= p
        mask = keep.to(input.dtype) * (1.0 / (1.0 - p))
    if inplace:
        return input.mul_(mask)
    return input * mask


# ----- losses ----------------------------------------------------------------------------------


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Mean squared error ``(input - target) ** 2``, reduced by ``reduction`` (``"mean"``,
    ``"sum"`` or ``"none"``, which keeps the broadcast shape)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            UserWarning,
            stacklevel=2,
        )
    diff = input - target
    return _reduce(diff.pow(2), reduction)


def _classes_last(input, target):
    """``(M, C)`` log-probabilities and ``(M,)`` targets from ``(N, C, *)`` / ``(N, *)`` or an
    unbatched ``(C,)`` / ``()``; also the shape of the unreduced loss."""
    if input.dim() == 0:
        raise ValueError("Expected input to have at least 1 dimension (got a 0-d tensor)")
    if input.dim() == 1:
        if target.dim() != 0:
            raise ValueError(
                f"Expected target to be a 0-d tensor for an unbatched 1-d input, but got "
                f"target of shape {target.shape}"
            )
        return input.unsqueeze(0), target.reshape(1), ()
    n, c = input.shape[0], input.shape[1]
    expected = (n, *tuple(input.shape[2:]))
    if tuple(target.shape) != expected:
        if target.dim() >= 1 and target.shape[0] != n:
            raise ValueError(
                f"Expected input batch_size ({n}) to match target batch_size ({target.shape[0]})."
            )
        raise RuntimeError(f"Expected target size {list(expected)}, got {list(target.shape)}")
    if input.dim() > 2:
        # (N, C, d1, ..., dk) -> (N, d1, ..., dk, C) -> (N * d1 * ... * dk, C)
        order = [0, *range(2, input.dim()), 1]
        input = input.permute(order).reshape(-1, c)
        target = target.reshape(-1)
    return input, target, expected


def _check_targets(target, num_classes, ignore_index):
    if target.dtype != _core.int64:
        raise RuntimeError(f"expected scalar type Long but found {_dtype_name(target.dtype)}")
    if target.numel() == 0:
        return
    valid = _core.where(target == ignore_index, 0, target)
    # One read of both bounds: a single device-to-host copy for a CUDA target.
    low, high = _core.stack([valid.min(), valid.max()]).tolist()
    if low < 0 or high >= num_classes:
        raise IndexError(f"Target {low if low < 0 else high} is out of bounds.")


def _dtype_name(dtype):
    return {
        _core.float32: "Float",
        _core.float64: "Double",
        _core.int64: "Long",
        _core.bool_: "Bool",
    }.get(dtype, str(dtype))


def _pick(logp, target, ignore_index, weight):
    """Per-row ``(value, weight)``: ``logp[i, target[i]]`` and the row's weight (0 for ignored
    rows), for ``(M, C)`` log-probabilities and ``(M,)`` class indices.

    On the CPU the pick is one flat index ``i * C + target[i]`` into ``logp.reshape(-1)``, so its
    gradient is a scatter into the picked entries (``IndexBackward0``). On a GPU, indexing with a
    tensor would copy the indices to the host (a synchronisation every step), so the pick is a
    masked row sum with the mask built on the device instead.
    """
    m, c = logp.shape[0], logp.shape[1]
    ignored = target == ignore_index
    safe = _core.where(ignored, 0, target)
    keep = _core.where(ignored, 0.0, 1.0).to(logp.dtype)
    if logp.is_cuda:
        classes = _core.arange(c, device=logp.device)
        chosen = classes.unsqueeze(0) == safe.unsqueeze(1)
        picked = _core.where(chosen, logp, 0.0).sum(1)
        if weight is None:
            return picked, keep
        per_class = weight.to(logp.dtype).unsqueeze(0)
        return picked, _core.where(chosen, per_class, 0.0).sum(1) * keep
    picked = logp.reshape(-1)[_core.arange(m) * c + safe]
    row_weight = keep if weight is None else weight.to(logp.dtype)[safe] * keep
    return picked, row_weight


def nll_loss(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index=-100,
    reduce=None,
    reduction="mean",
):
    """Negative log-likelihood: ``-input[i, target[i]]`` (times ``weight[target[i]]``).

    ``input`` holds log-probabilities, ``(N, C)``, ``(N, C, *)`` or unbatched ``(C,)``;
    ``target`` int64 class indices ``(N,)``, ``(N, *)`` or ``()``. Targets equal to
    ``ignore_index`` contribute nothing. ``"mean"`` divides by the summed weights of the
    counted targets, as PyTorch does.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    logp, flat_target, loss_shape = _classes_last(input, target)
    _check_targets(flat_target, logp.shape[1], ignore_index)
    if weight is not None and tuple(weight.shape) != (logp.shape[1],):
        raise RuntimeError(
            f"weight tensor should be defined either for all {logp.shape[1]} classes or no "
            f"classes but got weight tensor of shape: {list(weight.shape)}"
        )
    picked, row_weight = _pick(logp, flat_target, ignore_index, weight)
    loss = -(picked * row_weight)
    if reduction == "none":
        return loss.reshape(loss_shape)
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / row_weight.sum()


def cross_entropy(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index=-100,
    reduce=None,
    reduction="mean",
    label_smoothing=0.0,
):
    """Cross entropy between ``softmax(input)`` along dim 1 and the target.

    ``input``: unnormalised scores (logits) ``(N, C)``, ``(N, C, *)`` or unbatched ``(C,)``.
    ``target``: int64 class indices of shape ``(N,)`` / ``(N, *)`` / ``()`` (then this is
    ``nll_loss(log_softmax(input, 1), target)``), or class probabilities of ``input``'s shape.
    ``weight`` (``(C,)``) rescales classes, ``label_smoothing`` mixes the target with the
    uniform distribution, as in PyTorch.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    class_dim = 0 if input.dim() == 1 else 1
    logp = input.log_softmax(class_dim)
    num_classes = input.shape[class_dim]
    if weight is not None:
        if tuple(weight.shape) != (num_classes,):
            raise RuntimeError(
                f"weight tensor should be defined either for all {num_classes} classes or no "
                f"classes but got weight tensor of shape: {list(weight.shape)}"
            )
        # (C,) -> (C, 1, ..., 1) so that it lines up with the class dim of (N, C, *)
        weight_b = weight.to(logp.dtype).reshape([num_classes] + [1] * (input.dim() - 2))
    if target.is_floating_point():
        # Class probabilities, same shape as input.
        if tuple(target.shape) != tuple(input.shape):
            raise RuntimeError(
                f"Expected target size {list(input.shape)}, got {list(target.shape)}"
            )
        if label_smoothing > 0.0:
            target = target * (1.0 - label_smoothing) + label_smoothing / num_classes
        terms = logp * target
        if weight is not None:
            terms = terms * weight_b
        # "mean" averages over every position (N and the extra dims), as PyTorch does.
        return _reduce(-terms.sum(class_dim), reduction)

    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing == 0.0:
        return nll
    # Smoothing term: -sum_c w_c * logp_c per target position, zero where ignored.
    terms = logp if weight is None else logp * weight_b
    smooth = -terms.sum(class_dim)
    keep = _core.where(target == ignore_index, 0.0, 1.0).to(logp.dtype)
    smooth = smooth * keep
    if reduction == "mean":
        if weight is None:
            denom = keep.sum()
        else:
            safe = _core.where(target == ignore_index, 0, target)
            denom = (weight.to(logp.dtype)[safe.reshape(-1)] * keep.reshape(-1)).sum()
        smooth = smooth.sum() / denom
    elif reduction == "sum":
        smooth = smooth.sum()
    return nll * (1.0 - label_smoothing) + smooth * (label_smoothing / num_classes)
