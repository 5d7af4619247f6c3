"""``rustgrad.nn.functional``: layers and losses as functions, as ``torch.nn.functional``.

Every function here is a composite of differentiable rustgrad ops, so gradients (and gradients
of gradients) come from the ops' own formulas. Shapes: ``N`` is the batch size, ``C`` the number
of classes, ``*`` any further dims.
"""

import functools
import math
import warnings

from rustgrad import _core, _native, _saved
from rustgrad._memory_format import _channels_last_like, _suggested_format, contiguous_format
from rustgrad.nn._conv_functional import _recorded_as

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cosine_embedding_loss",
    "cross_entropy",
    "dropout",
    "elu",
    "elu_",
    "gelu",
    "hardtanh",
    "hardtanh_",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "leaky_relu",
    "leaky_relu_",
    "linear",
    "log_softmax",
    "logsigmoid",
    "margin_ranking_loss",
    "mish",
    "mse_loss",
    "nll_loss",
    "normalize",
    "one_hot",
    "pad",
    "relu",
    "relu6",
    "selu",
    "selu_",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
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
    in_features)`` and ``bias (out_features,)`` gives ``(*, out_features)``.

    As PyTorch: with a bias, a matrix input (or a contiguous one whose rows are flattened
    into a matrix) takes one fused ``addmm`` (``AddmmBackward0``); anything else is
    ``matmul`` then ``+ bias``."""
    if input.dim() == 0 or weight.dim() == 0:
        raise RuntimeError(
            "both arguments to linear need to be at least 1D, but they are "
            f"{input.dim()}D and {weight.dim()}D"
        )
    if bias is not None:
        if input.dim() == 2:
            return _core.addmm(bias, input, weight.t(), beta=1, alpha=1)
        if input.is_contiguous() and (input.dim() == 3 or bias.dim() == 1):
            lead = list(input.shape[:-1])
            rows = 1
            for d in lead:
                rows *= d
            x = input.reshape(rows, input.shape[-1])
            out = _core.addmm(bias, x, weight.t(), beta=1, alpha=1)
            return out.view(lead + [out.shape[1]])
    out = input.matmul(weight.t())
    if bias is not None:
        out = out + bias
    return out


def relu(input, inplace=False):
    """``max(input, 0)`` elementwise (written into ``input`` with ``inplace=True``)."""
    if inplace:
        return input.relu_()
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


def _softmax_dim(ndim, name, stacklevel=3):
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. "
        "Change the call to include dim=X as an argument.",
        UserWarning,
        stacklevel=stacklevel,
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


def _dropout_noise(shape, p, input):
    """PyTorch's dropout noise: ``empty(shape).bernoulli_(1 - p)`` (``empty_like(input)``
    when ``shape`` is None, in ``input``'s layout) in ``input``'s dtype, then divided by
    ``1 - p`` (on the CPU its very draws)."""
    from rustgrad.random import _empty_like

    if shape is None:
        noise = _empty_like(input, input.dtype, input.device)
    else:
        noise = _core.zeros(shape, dtype=input.dtype, device=input.device)
    noise = noise.bernoulli_(1.0 - p)
    if input.dtype in (_core.float16, _core.bfloat16):
        # PyTorch divides a half tensor by the float 1 - p (not by 1 - p rounded to half)
        return noise.float().div_(1.0 - p).to(input.dtype)
    return noise.div_(1.0 - p)


def _check_probability(p) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)`` (only
    when ``training``)."""
    _check_probability(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        mask = _core.full_like(input, 0.0)
    else:
        mask = _dropout_noise(None, p, input)
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
    scale = 2.0 / max(_broadcast_numel(input, target), 1) if reduction == "mean" else 2.0

    def backward(grad, x, t):
        # PyTorch's mse_loss_backward: norm * (input - target) * grad.
        g = (x - t) * scale * grad
        return _native.sum_to(g, x.shape), _native.sum_to(-g, t.shape)

    return _native.record(
        "MseLossBackward0",
        [input, target],
        lambda: _reduce((input - target).pow(2), reduction),
        [input, target],
        backward,
    )


def _broadcast_numel(a, b):
    # (on the meta device: PyTorch's broadcasting error, and no memory)
    probe = lambda t: _core.zeros(tuple(t.shape), device="meta")
    return (probe(a) - probe(b)).numel()


def _classes_last(input, target):
    """``(M, C)`` log-probabilities and ``(M,)`` targets from ``(N, C, *)`` / ``(N, *)`` or an
    unbatched ``(C,)`` / ``()``; also the shape of the unreduced loss."""
    if input.dim() == 0:
        raise ValueError("Expected input to have at least 1 dimension (got a 0-d tensor)")
    multi_target = "0D or 1D target tensor expected, multi-target not supported"
    if input.dim() == 1:
        if target.dim() > 1:
            raise RuntimeError(multi_target)
        if target.dim() == 1 and target.shape[0] != 1:
            raise ValueError(
                f"For 1D input, 1D target must have size 1, but got target size: {target.shape[0]}"
            )
        return input.unsqueeze(0), target.reshape(1), ()
    n, c = input.shape[0], input.shape[1]
    expected = (n, *tuple(input.shape[2:]))
    if tuple(target.shape) != expected:
        if target.dim() >= 1 and target.shape[0] != n:
            raise ValueError(
                f"Expected input batch_size ({n}) to match target batch_size ({target.shape[0]})."
            )
        if input.dim() == 2 and target.dim() > 1:
            raise RuntimeError(multi_target)
        raise RuntimeError(f"Expected target size {list(expected)}, got {list(target.shape)}")
    if input.dim() > 2:
        # (N, C, d1, ..., dk) -> (N, d1, ..., dk, C) -> (N * d1 * ... * dk, C)
        order = [0, *range(2, input.dim()), 1]
        input = input.permute(order).reshape(-1, c)
        target = target.reshape(-1)
    return input, target, expected


def _check_targets(target, num_classes, ignore_index):
    """Refuses targets out of ``[0, num_classes)`` (``ignore_index`` aside); returns whether
    some target may equal ``ignore_index`` (False when none can)."""
    if target.dtype not in (_core.int64, _core.uint8):
        raise RuntimeError(
            f"expected target dtype to be Long or Byte, but got {_dtype_name(target.dtype)}"
        )
    if target.numel() == 0 or target.is_meta:  # (a meta target has no values to check)
        return True
    # One read of both bounds: a single device-to-host copy for a CUDA target.
    low, high = _core.stack([target.min(), target.max()]).tolist()
    maybe_ignored = low <= ignore_index <= high
    if maybe_ignored:  # the bounds of the targets that count
        valid = _core.where(target == ignore_index, 0, target)
        low, high = _core.stack([valid.min(), valid.max()]).tolist()
    if low < 0 or high >= num_classes:
        raise IndexError(f"Target {low if low < 0 else high} is out of bounds.")
    return maybe_ignored


def _dtype_name(dtype):
    return {
        _core.float32: "Float",
        _core.float64: "Double",
        _core.float16: "Half",
        _core.bfloat16: "BFloat16",
        _core.int64: "Long",
        _core.int32: "Int",
        _core.int16: "Short",
        _core.int8: "Char",
        _core.uint8: "Byte",
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
    if logp.is_cuda or logp.is_meta:
        classes = _core.arange(c, device=logp.device)
        chosen = classes.unsqueeze(0) == safe.unsqueeze(1)
        picked = _core.where(chosen, logp, 0.0).sum(1)
        if weight is None:
            return picked, keep
        per_class = weight.to(logp.dtype).unsqueeze(0)
        return picked, _core.where(chosen, per_class, 0.0).sum(1) * keep
    picked = logp.reshape(-1)[_core.arange(m, device=logp.device) * c + safe]
    row_weight = keep if weight is None else weight.to(logp.dtype)[safe] * keep
    return picked, row_weight


def _check_class_weight(weight, num_classes, input_dim):
    """PyTorch's check of a per-class ``weight`` (its 2-d kernel words it more briefly)."""
    if weight is not None and weight.numel() != num_classes:
        if input_dim > 2:
            raise RuntimeError("weight tensor should be defined either for all or no classes")
        raise RuntimeError(
            f"weight tensor should be defined either for all {num_classes} classes or no "
            f"classes but got weight tensor of shape: {list(weight.shape)}"
        )


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
    if weight is None and isinstance(input, Tensor) and isinstance(target, Tensor):
        # The common case, one native node (src/ops/loss.rs); None: the general path below.
        out = _core._nll_loss(input, target, ignore_index, reduction)
        if out is not None:
            return out
    rows = _classes_last(input, target)
    logp, flat_target, _ = rows
    maybe_ignored = _check_targets(flat_target, logp.shape[1], ignore_index)
    target = target.long()  # (Byte class indices index as Long ones)
    _check_class_weight(weight, logp.shape[1], input.dim())
    _not_differentiable("nll_loss_forward", weight=weight)

    def loss(input, target, weight):
        logp, flat_target, loss_shape = _classes_last(input, target)
        picked, row_weight = _pick(logp, flat_target, ignore_index, weight)
        loss = -(picked * row_weight)
        if reduction == "none":
            return loss.reshape(loss_shape)
        if reduction == "sum":
            return loss.sum()
        total = row_weight.sum()
        # Every target ignored: the loss is 0/0 (NaN) as in PyTorch, but the gradient is 0,
        # not 0 * (1/0).
        empty = total == 0
        nan_if_empty = _core.where(empty, math.nan, 0.0).to(total.dtype)
        return loss.sum() / _core.where(empty, 1.0, total).to(total.dtype) + nan_if_empty

    # PyTorch's node: NllLoss for 1-d/2-d input, NllLoss2d (through 4-d) for images; a
    # reshaped unreduced result ends in a view there too. The target and the weights are
    # saved with the input (an in-place change before backward is the version error).
    if input.dim() <= 2:
        name = "NllLossBackward0"
    elif input.dim() == 4 or reduction != "none":
        name = "NllLoss2DBackward0"
    else:
        return loss(input, target, weight)
    plain = weight is None and not maybe_ignored
    return _nll_node(name, rows, input, target, weight, reduction, ignore_index, plain)


def _nll_node(name, rows, input, target, weight, reduction, ignore_index, plain=False):
    """``nll_loss`` as one node ``name`` whose backward is PyTorch's ``nll_loss_backward``:
    ``-weight[t] * grad`` (over the summed weights for ``"mean"``) at each row's target
    class, 0 elsewhere and on ignored rows. That backward is itself one node over the
    gradient and the input (``...BackwardBackward0``): under ``create_graph`` the first-order
    gradient depends on the input as in PyTorch (with slope 0), and its own gradient with
    respect to the incoming one is ``nll_loss`` again. The rows' targets and weights are
    worked out once, for the forward and both backwards (``rows``: ``_classes_last`` of the
    input and target).

    ``plain``: no weights and no ignored target, so every row's weight is 1 and the mean
    divides by the row count. A float32/float64 CPU input then gets the same values from a
    third of the ops (a 64-row loss took 12x PyTorch's time through the general path)."""
    shape = tuple(input.shape)
    device, dtype = input.device, input.dtype
    on_host = not (input.is_cuda or input.is_meta)
    flat_logp, flat_target, loss_shape = rows
    m, c = flat_target.numel(), shape[0 if len(shape) == 1 else 1]
    # (float16 sums its weights in float16: past 2048 rows they are not the row count)
    plain = plain and on_host and dtype in (_core.float32, _core.float64) and m < 2**24
    with _native.no_grad():
        if plain:
            flat_index = _core.arange(m, device=device) * c + flat_target
        else:
            zero = _core.zeros((), dtype=dtype, device=device)
            ignored = flat_target == ignore_index
            safe = _core.where(ignored, 0, flat_target)
            if on_host:
                flat_index = _core.arange(m, device=device) * c + safe
                row_w = zero + 1 if weight is None else weight.to(dtype)[safe]
            else:  # (a one-hot select: no index copy to the host)
                chosen = _core.arange(c, device=device).unsqueeze(0) == safe.unsqueeze(1)
                row_w = zero + 1 if weight is None else _core.where(chosen, weight.to(dtype).unsqueeze(0), 0.0).sum(1)  # fmt: skip
            counted_w = _core.where(ignored, zero, row_w)  # (0 on ignored rows)

    def row_terms(per_row):
        """``-weight[t] * per_row`` for each row, 0 on ignored rows."""
        if plain:
            return -per_row
        return _core.where(ignored, zero, -(per_row * row_w))

    def counted():
        """The mean's divisor: the summed weights of the rows that count."""
        return m if plain else counted_w.sum()

    def pick(x):
        """``x[i, target[i]]`` of an ``(M, C)`` view of ``x`` (PyTorch's layout)."""
        flat = flat_logp if x is input else _classes_last(x, target)[0]
        if on_host:
            return flat.reshape(-1)[flat_index]
        return _core.where(chosen, flat, 0.0).sum(1)

    def reduce(per_row, like):
        if reduction == "none":
            return per_row.reshape(loss_shape)
        if reduction == "sum":
            return per_row.sum()
        return per_row.sum() / counted()  # (all ignored: 0/0, NaN as PyTorch)

    def forward():
        return reduce(row_terms(pick(input)), input)

    def unflatten(flat):
        """``(M, C)`` back to the input's layout (classes at dim 1)."""
        if len(shape) == 1:
            return flat.reshape(shape)
        if len(shape) == 2:
            return flat
        order = [0, len(shape) - 1, *range(1, len(shape) - 1)]
        return flat.reshape(shape[0], *shape[2:], shape[1]).permute(order)

    def backward(grad, x, t, *w):
        def grad_input():
            if reduction == "none":
                per_row = grad.reshape(-1)
            elif reduction == "sum":
                per_row = grad
            else:
                per_row = grad / counted()
            vals = row_terms(per_row)
            if not on_host:
                return unflatten(_core.where(chosen, vals.unsqueeze(1), zero))
            flat = _core.zeros((m * c,), dtype=grad.dtype, device=device)
            flat[flat_index] = vals
            return unflatten(flat.reshape(m, c))

        def double_backward(gg, x):
            # Linear in the incoming gradient, its slope is nll_loss of gg; none in x.
            return reduce(row_terms(pick(gg)), gg), x.new_zeros(shape)

        inner = name.replace("Backward0", "BackwardBackward0")
        return (_native.record(inner, [grad, x], grad_input, [x], double_backward), None, *(None for _ in w))  # fmt: skip

    inputs = [input, target] if weight is None else [input, target, weight]
    return _native.record(name, inputs, forward, inputs, backward)


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
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    class_dim = 0 if input.dim() == 1 else 1
    logp = input.log_softmax(class_dim)
    num_classes = input.shape[class_dim]
    probabilities = tuple(target.shape) == tuple(input.shape)
    if probabilities:  # (index targets: nll_loss checks the weight after the targets)
        _check_class_weight(weight, num_classes, 2)
    # (C,) -> (C, 1, ..., 1) so that it lines up with the class dim of (N, C, *)
    weight_b = lambda: weight.to(logp.dtype).reshape([num_classes] + [1] * (input.dim() - 2))
    if probabilities:
        # Class probabilities, as PyTorch tells them apart: the input's shape.
        if not target.is_floating_point():
            raise RuntimeError(
                "Expected floating point type for target with class probabilities, got "
                f"{_dtype_name(target.dtype)}"
            )
        if label_smoothing > 0.0:
            target = target * (1.0 - label_smoothing) + label_smoothing / num_classes
        terms = logp * target
        if weight is not None:
            terms = terms * weight_b()
        # "mean" averages over every position (N and the extra dims), as PyTorch does.
        return _reduce(-terms.sum(class_dim), reduction)

    if target.dtype == _core.uint8:
        target = target.long()  # (Byte class indices, not a mask)
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing == 0.0:
        return nll
    # Smoothing term: -sum_c w_c * logp_c per target position, zero where ignored.
    terms = logp if weight is None else logp * weight_b()
    smooth = -terms.sum(class_dim)
    keep = _core.where(target == ignore_index, 0.0, 1.0).to(logp.dtype)
    # (selected, not multiplied: with every target ignored the mean's 1/0 gives the ignored
    # positions a zero gradient, not NaN, as PyTorch's masked_fill)
    smooth = smooth.masked_fill(target == ignore_index, 0.0)
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


# ----- more losses (issue 12): regression, binary, divergence, ranking ---------------------------


def _warn_size_mismatch(input, target):
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            UserWarning,
            stacklevel=3,
        )


def _not_differentiable(function, **tensors):
    """PyTorch's error for a weight-like argument that requires grad (its loss functions have
    no gradient for them)."""
    if not _core.is_grad_enabled():
        return
    for name, t in tensors.items():
        if t is not None and t.requires_grad:
            raise RuntimeError(
                f"The function '{function}' is not differentiable with respect to argument "
                f"'{name}'. This input cannot have requires_grad True."
            )


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error ``|input - target|`` (times ``weight``), reduced by ``reduction``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _warn_size_mismatch(input, target)
    loss = (input - target).abs()
    return _reduce(loss if weight is None else loss * weight, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (``d = input - target``);
    ``beta = 0`` is the L1 loss."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    _warn_size_mismatch(input, target)
    if beta == 0:
        return _reduce((input - target).abs(), reduction)

    def loss(input, target):
        d = input - target
        z = d.abs()
        near = z < beta
        # (d * d, not z * z: the second derivative at d = 0 is 1 / beta, as PyTorch's; the
        # square only of the near differences: an infinite one's slope there is inf * 0)
        dn = _core.where(near, d, 0.0)
        return _reduce(_core.where(near, 0.5 * dn * dn / beta, z - 0.5 * beta), reduction)

    return _recorded_as("SmoothL1LossBackward0", loss, input, target)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)`` (times ``weight``)."""
    _check_reduction(reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    _warn_size_mismatch(input, target)

    def loss(input, target):
        d = input - target
        z = d.abs()
        near = z < delta
        dn = _core.where(near, d, 0.0)  # (as smooth_l1_loss's)
        loss = _core.where(near, 0.5 * dn * dn, delta * (z - 0.5 * delta))
        loss = loss if weight is None else loss * weight
        # (PyTorch's kernel writes into a tensor of the input's dtype)
        return _reduce(loss.to(input.dtype) if input.is_floating_point() else loss, reduction)

    if weight is not None:
        return loss(input, target)
    return _recorded_as("HuberLossBackward0", loss, input, target)


def binary_cross_entropy(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean"
):
    """``-(t log x + (1 - t) log(1 - x))`` (each log clamped at -100, as PyTorch) for
    probabilities ``input`` in [0, 1], times ``weight``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"Using a target size ({target.shape}) that is different to the input size "
            f"({input.shape}) is deprecated. Please ensure they have the same size."
        )
    _not_differentiable("binary_cross_entropy", weight=weight)
    if input.numel() and ((input < 0) | (input > 1)).sum().item() > 0:
        raise RuntimeError("all elements of input should be between 0 and 1")

    def forward():
        log_p = input.log().clamp(min=-100)
        log_q = (1 - input).log().clamp(min=-100)
        loss = -(target * log_p + (1 - target) * log_q)
        return _reduce(loss if weight is None else loss * weight, reduction)

    def backward(grad, x, t, *w):
        # PyTorch's binary_cross_entropy_backward and _target_backward: the input's slope
        # with the product clamped at 1e-12 (0, not NaN, at a saturated x of 0 or 1).
        scale = grad if reduction != "mean" else grad / x.numel()
        if w:
            scale = scale * w[0]
        g_x = scale * (x - t) / ((1 - x) * x).clamp(min=1e-12)
        g_t = scale * ((1 - x).log() - x.log())
        return g_x, g_t

    saved = [input, target] if weight is None else [input, target, weight]
    return _native.record("BinaryCrossEntropyBackward0", [input, target], forward, saved, backward)


def binary_cross_entropy_with_logits(
    input,
    target,
    weight=None,
    size_average=None,
    reduce=None,
    reduction="mean",
    pos_weight=None,
):
    """Binary cross entropy of ``sigmoid(input)``, computed stably from the logits:
    ``(1 - t) x + (1 + (pos_weight - 1) t) softplus(-x)``, times ``weight``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"Target size ({target.shape}) must be the same as input size ({input.shape})"
        )
    _not_differentiable("binary_cross_entropy_with_logits", weight=weight, pos_weight=pos_weight)

    def softplus_neg(x):
        # softplus(-x) = log(1 + exp(-x)) = relu(-x) + log1p(exp(-|x|)), exact for any x.
        return (-x).relu() + (-x.abs()).exp().log1p()

    def forward():
        if pos_weight is None:
            loss = (1 - target) * input + softplus_neg(input)
        else:
            loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * softplus_neg(input)
        return _reduce(loss if weight is None else loss * weight, reduction)

    def backward(grad, x, t, *_weights):
        # PyTorch's binary_cross_entropy_with_logits(_target)_backward, the target's in the
        # stable form -x + (pos_weight - 1) softplus(-x).
        if pos_weight is None:
            g_x, g_t = x.sigmoid() - t, -x
        else:
            pt = pos_weight * t
            g_x = (pt + 1 - t) * x.sigmoid() - pt
            # (softplus(-x) as -logsigmoid(x): its derivative at 0 is -1/2, as PyTorch's)
            g_t = -(pos_weight - 1) * _core.logsigmoid(x) - x
        scale = grad if weight is None else grad * weight
        if reduction == "mean":
            scale = scale / x.numel()
        return g_x * scale, g_t * scale

    # (the weights saved too, as PyTorch's node saves them)
    saved = [t for t in (input, target, weight, pos_weight) if t is not None]
    return _native.record(
        "BinaryCrossEntropyWithLogitsBackward0", [input, target], forward, saved, backward
    )


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """``target * (log target - input)`` for log-probabilities ``input`` (0 where
    ``target == 0``); ``log_target`` says ``target`` holds log-probabilities too.
    ``reduction="batchmean"`` divides the sum by the batch size (the KL divergence)."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce, reduction)
    if reduction not in ("none", "mean", "sum", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support "
            "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
            "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
            "major release.",
            UserWarning,
            stacklevel=2,
        )
    if log_target:
        loss = target.exp() * (target - input)
    else:
        positive = target > 0
        safe = _core.where(positive, target, 1.0)
        loss = _core.where(positive, target * safe.log(), 0.0) - target * input
    if reduction == "batchmean":
        return loss.sum() / input.shape[0] if input.dim() != 0 else loss.sum()
    return _reduce(loss, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):  # fmt: skip
    """``1 - cos(x1, x2)`` where ``target == 1``, ``max(0, cos(x1, x2) - margin)`` where
    ``target == -1``; cosine along the last dim of ``(N, D)`` or ``(D,)`` inputs."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if target.dim() not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    want = 2 if target.dim() == 1 else 1
    if input1.dim() != want or input2.dim() != want:
        raise RuntimeError(
            f"{target.dim()}D target tensor expects {want}D input tensors, but found inputs "
            f"with sizes {list(input1.shape)} and {list(input2.shape)}."
        )
    eps = 1e-12  # PyTorch's EPSILON in the norms
    dot = (input1 * input2).sum(-1)
    norms = ((input1 * input1).sum(-1) + eps) * ((input2 * input2).sum(-1) + eps)
    cos = dot / norms.sqrt()
    pos = _core.where(target == 1, 1 - cos, 0.0)
    neg = _core.where(target == -1, (cos - margin).clamp(min=0), 0.0)
    return _reduce(pos + neg, reduction)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):  # fmt: skip
    """``max(0, -target (x1 - x2) + margin)``: ``target = 1`` wants ``x1`` ranked higher."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} "
        )
    return _reduce((-target * (input1 - input2) + margin).clamp(min=0), reduction)


# ----- tensor utilities: one_hot, pad, normalize -------------------------------------------------


def one_hot(tensor, num_classes=-1):
    """``(*, num_classes)`` int64 with a 1 at each entry's class (``num_classes=-1``: the
    largest class + 1)."""
    if tensor.dtype != _core.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if tensor.numel() == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(tensor.max().item()) + 1
    if tensor.numel() and not tensor.is_meta:  # (a meta tensor has no values to check)
        low, high = _core.stack([tensor.min(), tensor.max()]).tolist()
        if low < 0:
            raise RuntimeError("Class values must be non-negative.")
        if high >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    classes = _core.arange(num_classes, device=tensor.device)
    return (tensor.unsqueeze(-1) == classes).long()


def _edge_indices(n, before, after, mode, where):
    """Indices into a dim of size ``n`` that pad it by ``before``/``after`` in ``mode``
    (``where``: ``(k, dim, shape)``, the pair's place in ``pad``, the dim and the input's
    shape, for PyTorch's message)."""
    positions = range(-before, n + after)
    if mode == "replicate":
        return [min(max(i, 0), n - 1) for i in positions]
    if mode == "circular":
        if before > n or after > n:
            raise RuntimeError("Padding value causes wrapping around more than once.")
        # (PyTorch crops first, then wraps around what is left)
        start = max(-before, 0)
        kept = n - start - max(-after, 0)
        if kept <= 0:
            raise RuntimeError("narrow(): length must be non-negative.")
        return [start + i % kept for i in range(-max(before, 0), kept + max(after, 0))]
    # reflect: mirror without repeating the edge element
    if before >= n or after >= n:
        k, dim, shape = where
        raise RuntimeError(
            f"Argument #{4 + 2 * k}: Padding size should be less than the corresponding input "
            f"dimension, but got: padding ({before}, {after}) at dimension {dim} of input "
            f"{list(shape)}"
        )
    period = 2 * (n - 1)
    out = []
    for i in positions:
        j = i % period if period else 0
        out.append(j if j < n else period - j)
    return out


def pad(input, pad, mode="constant", value=None):
    """Pad the last ``len(pad) // 2`` dims: ``pad = (left, right, top, bottom, ...)`` starting
    from the last dim. ``mode``: ``"constant"`` (``value``, default 0; negative pads crop),
    ``"reflect"``, ``"replicate"``, ``"circular"``."""
    if len(pad) % 2 != 0:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.dim():
        raise RuntimeError("Padding length should be less than or equal to two times the input dimension but got padding length "
                           f"{len(pad)} and input of dimension {input.dim()}")  # fmt: skip
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if mode != "constant" and value not in (None, 0):
        raise NotImplementedError(f'Padding mode "{mode}" doesn\'t take in value argument.')
    if mode != "constant":
        dims = len(pad) // 2
        if input.dim() not in (dims + 1, dims + 2) or dims > 3:
            raise NotImplementedError(
                f"Padding size {len(pad)} is not supported for {input.dim()}D input tensor.\n"
                "Supported combinations for non-constant padding:\n"
                "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
                "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
                "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
            )
    pads = [int(p) for p in pad]
    if mode == "constant":
        out = _constant_pad_node(input, pads, 0.0 if value is None else value)
        return _channels_last_like(out, input)
    if mode == "circular":
        return _gather_pad(input, pads, mode, [])
    # Reflection and replication: one node, whose backward adds each output's gradient at its
    # source and reads the input (so under create_graph the gradient depends on it)
    steps = []
    name = f"{'Reflection' if mode == 'reflect' else 'Replication'}Pad{len(pads) // 2}D"

    def backward(grad, x):
        for dim, size, index in reversed(steps):
            shape = list(grad.shape)
            shape[dim] = size
            grad = _core.zeros(shape, dtype=grad.dtype, device=grad.device).index_add(dim, index, grad)  # fmt: skip
        return (_native.input_dependent(f"{name}BackwardBackward0", grad, [x]),)

    forward = functools.partial(_gather_pad, input, pads, mode, steps)
    out = _native.record(f"{name}Backward0", [input], forward, [input], backward)
    return _channels_last_like(out, input)


def _constant_pad_node(input, pads, fill):
    """``_constant_pad`` recorded as PyTorch's one node, whose backward pads the gradient
    back (the negated widths crop it, and pad zeros where the forward cropped)."""
    return _native.record(
        "ConstantPadNdBackward0",
        [input],
        lambda: _constant_pad(input, pads, fill),
        [],
        lambda grad: (_constant_pad_node(grad, [-p for p in pads], 0.0),),
    )


def _constant_pad(input, pad, fill):
    """``input`` with the last ``len(pad) // 2`` dims padded by blocks of ``fill`` (negative
    widths crop); a copy when ``pad`` changes nothing, as PyTorch's ``constant_pad_nd``."""
    out = input
    for k in range(len(pad) // 2):
        dim = input.dim() - 1 - k
        before, after = pad[2 * k], pad[2 * k + 1]
        n = out.shape[dim]
        if n - max(-before, 0) - max(-after, 0) < 0:
            raise RuntimeError("narrow(): length must be non-negative.")
        # Crop negative pads first, then add blocks of the constant.
        start, stop = max(-before, 0), n - max(-after, 0)
        if start or stop != n:
            out = out[(slice(None),) * dim + (slice(start, stop),)]
        parts = []
        for width in (max(before, 0), None, max(after, 0)):
            if width is None:
                parts.append(out)
            elif width:
                shape = list(out.shape)
                shape[dim] = width
                parts.append(_core.full(shape, fill, dtype=out.dtype, device=out.device))
        out = _core.cat(parts, dim) if len(parts) > 1 else out
    if out is input:
        return input.clone()
    return out.contiguous()


def _gather_pad(input, pad, mode, steps):
    """``input`` padded in ``mode`` (reflect, replicate, circular) by gathering its edge
    elements; the steps taken are appended to ``steps``: ``(dim, size before, index)``."""
    out = input
    for k in range(len(pad) // 2):
        dim = input.dim() - 1 - k
        before, after = pad[2 * k], pad[2 * k + 1]
        n = out.shape[dim]
        index = _core.tensor(
            _edge_indices(n, before, after, mode, (k, dim, input.shape)), device=out.device
        )
        out = out[(slice(None),) * dim + (index,)]
        steps.append((dim, n, index))
    return out


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """``input / max(||input||_p, eps)`` along ``dim``."""
    # (PyTorch's: the norm's own gradient is 0 at a zero vector, for every p)
    norm = input.norm(p, dim, keepdim=True).clamp(min=eps)
    result = input / norm.expand_as(input)
    if out is not None:
        out.copy_(result)
        return out
    return result


# ----- layers branch: embedding, normalisation, channel dropout, attention ---------------------

__all__ += [
    "alpha_dropout",
    "batch_norm",
    "dropout1d",
    "dropout2d",
    "dropout3d",
    "embedding",
    "feature_alpha_dropout",
    "group_norm",
    "gumbel_softmax",
    "layer_norm",
    "rrelu",
    "rrelu_",
    "scaled_dot_product_attention",
]


def embedding(
    input,
    weight,
    padding_idx=None,
    max_norm=None,
    norm_type=2.0,
    scale_grad_by_freq=False,
    sparse=False,
):
    """Rows of ``weight`` picked by the integer ``input``: ``(*) -> (*, embedding_dim)``. The
    ``padding_idx`` row gets no gradient; ``max_norm`` renormalises (in place) the rows looked
    up whose ``norm_type``-norm exceeds it."""
    if input.dtype not in (_core.int64, getattr(_core, "int32", _core.int64)):
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got {_dtype_name(input.dtype)} instead "
            "(while checking arguments for embedding)"
        )
    if padding_idx is not None:
        if padding_idx < 0:
            padding_idx += weight.size(0)
        if not 0 <= padding_idx < weight.size(0):
            raise AssertionError("Padding_idx must be within num_embeddings")
    if max_norm is not None:
        _embedding_renorm_(weight, input.reshape(-1), max_norm, norm_type)
    return _core.embedding(weight, input, padding_idx, bool(scale_grad_by_freq))


def _embedding_renorm_(weight, indices, max_norm, norm_type):
    from rustgrad.autograd.grad_mode import no_grad

    with no_grad():
        rows = indices.unique()
        picked = weight.index_select(0, rows)
        norms = picked.norm(p=norm_type, dim=1, keepdim=True)
        # PyTorch's epsilon: rows above max_norm are scaled to just under it.
        scale = _core.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        weight[rows] = picked * scale


def _norm_shape_error(normalized_shape, input):
    return RuntimeError(
        f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
        f"[*, {', '.join(str(s) for s in normalized_shape)}], but got input of size"
        f"{list(input.shape)}"
    )


def _in_input_precision(norm):
    """PyTorch's norm kernels take a half-precision input with float32 parameters (as
    ``autocast`` leaves them: ``LayerNorm`` after a bfloat16 ``Linear``) and return the
    input's dtype: computed here in the promoted dtype and rounded once at the end, as they
    do (the parameters' gradients stay float32)."""

    @functools.wraps(norm)
    def in_input_precision(input, *args, **kwargs):
        out = norm(input, *args, **kwargs)
        low = (_core.float16, _core.bfloat16)
        if isinstance(input, Tensor) and input.dtype in low and out.dtype != input.dtype:
            return out.to(input.dtype)
        return out

    return in_input_precision


@_in_input_precision
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the last ``len(normalized_shape)`` dims (biased variance), then scale by
    ``weight`` and shift by ``bias`` (both of shape ``normalized_shape``)."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    n = len(normalized_shape)
    if n == 0 or input.dim() < n or tuple(input.shape[input.dim() - n :]) != normalized_shape:
        raise _norm_shape_error(normalized_shape, input)
    dims = tuple(range(-n, 0))
    lead = tuple(range(input.dim() - n))

    stats = []

    def forward():
        stats.extend(_normalized(input, dims, eps))
        # (a copy when nothing follows: the result is the user's, the statistics ours)
        out = stats[0] if weight is not None or bias is not None else stats[0].clone()
        if weight is not None:
            out = out * weight
        if bias is not None:
            out = out + bias
        return out.contiguous()  # (PyTorch's kernel writes row-major whatever the input's layout)

    def backward(grad, x, *params):
        """PyTorch's ``native_layer_norm_backward``, in differentiable ops (the statistics
        recomputed from the saved input, so higher orders follow)."""
        w = params[0] if weight is not None else None
        # (the forward's statistics, or under create_graph the same recomputed from x in
        # recorded ops)
        xhat, rstd = _normalized(x, dims, eps) if _core.is_grad_enabled() else stats
        gxhat = grad if w is None else grad * w
        grad_input = _normalized_backward(gxhat, x, rstd, dims)
        weighted = grad * xhat
        grads = [
            grad_input,
            None if w is None else weighted.sum(lead) if lead else weighted,
            None if bias is None else grad.sum(lead) if lead else grad,
        ]
        # PyTorch's one double-backward node reads the input, weight and statistics: under
        # create_graph every gradient depends on them
        reads = [x, *params]
        return [_native.input_dependent("NativeLayerNormBackwardBackward0", g, reads, undefined=True) for g in grads if g is not None]  # fmt: skip

    args = [t for t in (input, weight, bias) if t is not None]
    return _native.record("NativeLayerNormBackward0", args, forward, args, backward)


def _normalized(x, dims, eps):
    """``x`` standardised over ``dims`` (biased variance) and its ``rsqrt(var + eps)``."""
    centred = x - x.mean(dims, keepdim=True)
    rstd = ((centred * centred).mean(dims, keepdim=True) + eps).rsqrt()
    return centred * rstd, rstd


def _normalized_backward(gxhat, x, rstd, dims):
    """The gradient of a standardisation of ``x`` over ``dims``, given that of its output, in
    the form of PyTorch's layer and group norm kernels (``rstd * g + b * x + c`` over the raw
    input: the same values, and the same NaN where an infinite gradient meets the sums)."""
    mean = x.mean(dims, keepdim=True)
    count = math.prod(x.shape[d] for d in ((dims,) if isinstance(dims, int) else dims))
    ds = (gxhat * x).sum(dims, keepdim=True)
    db = gxhat.sum(dims, keepdim=True)
    b = (db * mean - ds) * rstd * rstd * rstd / count
    c = -b * mean - db * rstd / count
    return rstd * gxhat + b * x + c


def _channel_shape(input):
    """``(1, C, 1, ...)``: how a per-channel tensor broadcasts against ``(N, C, *)``."""
    return (1, input.size(1)) + (1,) * (input.dim() - 2)


@_in_input_precision
def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise ``(N, C, *)`` over each group of ``C // num_groups`` channels (and all
    further dims), then apply the per-channel ``weight`` and ``bias``."""
    if input.dim() < 2:
        raise RuntimeError(
            f"Expected at least 2 dimensions for input tensor but received {input.dim()}"
        )
    n, c = input.size(0), input.size(1)
    if c % num_groups != 0:
        raise RuntimeError(
            f"Expected number of channels in input to be divisible by num_groups, but got "
            f"input of shape {list(input.shape)} and num_groups={num_groups}"
        )
    sizes = [n * c // num_groups, num_groups, *input.shape[2:]]
    if sizes[0] * math.prod(sizes[2:]) == 1:
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size {sizes}"
        )
    # As PyTorch's ``group_norm``, the kernel (and its node, which saves it) takes the input
    # in its suggested memory format: a non-contiguous input is copied first, so a later
    # write to it is no error at backward.
    input = input.contiguous(memory_format=_suggested_format(input))
    # an explicit size (not -1), so that empty batches reshape too
    groups = (n, num_groups, (c // num_groups) * math.prod(input.shape[2:]))
    channel = _channel_shape(input)
    dims = (0, *range(2, input.dim()))

    stats = []

    def forward():
        # (PyTorch's kernel reads the input in its suggested format and writes the result
        # so: row-major unless the input is channels-last)
        stats.extend(_normalized(input.contiguous().reshape(groups), 2, eps))
        out = stats[0].reshape(input.shape)
        if weight is None and bias is None:
            out = out.clone()  # (not the saved statistics themselves)
        if weight is not None:
            out = out * weight.reshape(channel)
        if bias is not None:
            out = out + bias.reshape(channel)
        fmt = _suggested_format(input)
        return out if fmt is contiguous_format else out.contiguous(memory_format=fmt)

    def backward(grad, x, *params):
        """PyTorch's ``native_group_norm_backward``, in differentiable ops."""
        w = params[0] if weight is not None else None
        xhat, rstd = _normalized(x.reshape(groups), 2, eps) if _core.is_grad_enabled() else stats
        gxhat = (grad if w is None else grad * w.reshape(channel)).reshape(groups)
        grad_input = _normalized_backward(gxhat, x.reshape(groups), rstd, 2).reshape(x.shape)
        grad_weight = None if w is None else (grad * xhat.reshape(x.shape)).sum(dims)
        grad_bias = None if bias is None else grad.sum(dims)
        # PyTorch differentiates the input's and weight's gradients (which read the
        # input, weight and statistics) under create_graph; the bias's is the sum alone
        reads = [x, *([w] if w is not None else [])]
        grads = [_native.input_dependent("NativeGroupNormBackwardBackward0", g, reads, undefined=True) for g in (grad_input, grad_weight) if g is not None]  # fmt: skip
        return [*grads, *([grad_bias] if grad_bias is not None else [])]

    args = [t for t in (input, weight, bias) if t is not None]
    saved = [t for t in (input, weight) if t is not None]
    return _native.record("NativeGroupNormBackward0", args, forward, saved, backward)


@_in_input_precision
def batch_norm(
    input,
    running_mean,
    running_var,
    weight=None,
    bias=None,
    training=False,
    momentum=0.1,
    eps=1e-5,
):
    """Normalise ``(N, C, *)`` per channel: with the batch's statistics when ``training``
    (updating ``running_mean``/``running_var`` in place, the variance unbiased as PyTorch
    does), else with the running statistics."""
    if input.numel() == 0:
        # As PyTorch: an empty batch gives an empty result (no channel check, no statistics),
        # still on the graph of ``weight`` and ``bias`` (through their first elements)
        out = input.clone()
        if weight is not None:
            out = out * weight[0]
        if bias is not None:
            out = out + bias[0]
        return out
    if training:
        count = input.numel() // input.size(1)
        if count <= 1:
            raise ValueError(
                "Expected more than 1 value per channel when training, got input size "
                f"{input.shape}".replace("rustgrad.Size", "torch.Size")
            )
    else:
        for name, t in (("running_mean", running_mean), ("running_var", running_var)):
            if t is None:
                raise RuntimeError(f"{name} must be defined in evaluation mode")
    channels = input.size(1) if input.dim() > 1 else 1
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):  # fmt: skip
        if t is not None and t.numel() != channels:
            raise RuntimeError(f"{name} should contain {channels} elements not {t.numel()}")
    args = (input, weight, bias, running_mean, running_var, training, momentum, eps)
    if _core.is_grad_enabled() and any(
        t is not None and t.requires_grad for t in (input, weight, bias)
    ):
        return _native_batch_norm().apply(*args)
    return _batch_norm_values(*args)


def _batch_norm_values(input, weight, bias, running_mean, running_var, training, momentum, eps):
    """Batch norm's value (composite), updating the running statistics when ``training``."""
    from rustgrad.autograd.grad_mode import no_grad

    shape = _channel_shape(input)
    if training:
        count = input.numel() // input.size(1)
        mean, centred, var = _batch_statistics(input)
        # (written without moving their versions, as PyTorch's kernels: a batch norm node
        # that saved them stays valid through the next forward)
        with no_grad():
            if running_mean is not None:
                batch = mean.reshape(-1).detach()
                running_mean._copy_unversioned_(running_mean * (1 - momentum) + batch * momentum)
            if running_var is not None:
                unbiased = var.reshape(-1).detach() * (count / (count - 1))
                running_var._copy_unversioned_(running_var * (1 - momentum) + unbiased * momentum)
    else:
        centred = input - running_mean.reshape(shape)
        var = running_var.reshape(shape)
    out = centred * (var + eps).rsqrt()
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def _batch_statistics(input):
    """The batch's per-channel mean, the centred input and the biased variance."""
    dims = (0,) + tuple(range(2, input.dim()))
    mean = input.mean(dims, keepdim=True)
    centred = input - mean
    return mean, centred, (centred * centred).mean(dims, keepdim=True)


@functools.cache
def _native_batch_norm():
    """Batch norm as one node, as PyTorch records it (``NativeBatchNormBackward0``), with
    PyTorch's gradient formulas; the backward recomputes the statistics from the saved input
    in differentiable ops, so higher orders flow through them."""
    from rustgrad.autograd.function import Function

    class NativeBatchNorm(Function):
        @staticmethod
        def forward(ctx, input, weight, bias, running_mean, running_var, training, momentum, eps):
            """The value (updating the running statistics when training)."""
            # (the running statistics too, training or not, as PyTorch's node: writing them
            # in place before backward makes it raise)
            ctx.save_for_backward(input, weight, running_mean, running_var)
            ctx.training, ctx.eps, ctx.has_bias = training, eps, bias is not None
            return _batch_norm_values(
                input, weight, bias, running_mean, running_var, training, momentum, eps
            )

        @staticmethod
        def backward(ctx, grad):
            """PyTorch's ``native_batch_norm_backward``: with batch statistics, the input's
            gradient is ``w * invstd * (g - mean(g) - xhat * mean(g * xhat))``."""
            input, weight, *stats = ctx.saved_tensors
            shape = _channel_shape(input)
            dims = (0,) + tuple(range(2, input.dim()))
            if ctx.training:
                _, centred, var = _batch_statistics(input)
            else:
                centred, var = input - stats[0].reshape(shape), stats[1].reshape(shape)
            invstd = (var + ctx.eps).rsqrt()
            xhat = centred * invstd
            sum_g = grad.sum(dims, keepdim=True)
            sum_gx = (grad * xhat).sum(dims, keepdim=True)
            scale = invstd if weight is None else invstd * weight.reshape(shape)
            if ctx.training:
                count = input.numel() // input.size(1)
                grad_input = scale * (grad - sum_g / count - xhat * (sum_gx / count))
            else:
                grad_input = grad * scale
            grad_weight = sum_gx.reshape(-1) if weight is not None else None
            grad_bias = sum_g.reshape(-1) if ctx.has_bias else None
            grads = [grad_input, grad_weight, grad_bias]
            if _core.is_grad_enabled():
                # PyTorch's one double-backward node reads the input and weight: under
                # create_graph every gradient depends on them
                reads = [t for t in (input, weight) if t is not None]
                grads = [g if g is None else _native.input_dependent("NativeBatchNormBackwardBackward0", g, reads, undefined=True) for g in grads]  # fmt: skip
            return *grads, None, None, None, None, None

    NativeBatchNorm._backward_name = "NativeBatchNormBackward0"
    return NativeBatchNorm


def _feature_dropout(input, p, training, inplace, batched_dim):
    _check_probability(p)
    if not training or p == 0.0:
        return input
    # One draw per channel: batched inputs keep (N, C), unbatched ones (C,).
    lead = 2 if input.dim() == batched_dim else 1
    shape = tuple(input.shape[:lead]) + (1,) * (input.dim() - lead)
    if p == 1.0:
        mask = _core.zeros(shape, dtype=input.dtype, device=input.device)
    else:
        mask = _dropout_noise(shape, p, input)
    if inplace:
        return input.mul_(mask)
    return input * mask


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of ``(N, C, L)`` (or ``(C, L)``) with probability ``p``."""
    _check_probability(p)  # (PyTorch checks it before the shape)
    if input.dim() not in (2, 3):
        raise RuntimeError(
            "dropout1d: Expected 2D or 3D input, but received a "
            f"{input.dim()}D input. Note that dropout1d exists to provide channel-wise "
            "dropout on inputs with 1 spatial dimension, a channel dimension, and an optional "
            "batch dimension (i.e. 2D or 3D inputs)."
        )
    return _feature_dropout(input, p, training, inplace, 3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of ``(N, C, H, W)`` (or ``(C, H, W)``) with probability ``p``."""
    if input.dim() not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {input.dim()}-D input to dropout2d, which is deprecated "
            "and will result in an error in a future release. To retain the behavior and "
            "silence this warning, please use dropout instead. Note that dropout2d exists to "
            "provide channel-wise dropout on inputs with 2 spatial dimensions, a channel "
            "dimension, and an optional batch dimension (i.e. 3D or 4D inputs).",
            stacklevel=2,
        )
    if input.dim() == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2,
        )
    if input.dim() < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    # PyTorch reads any input here as (N, C, *): one draw per (N, C) pair.
    return _feature_dropout(input, p, training, inplace, input.dim())


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of ``(N, C, D, H, W)`` (or ``(C, D, H, W)``) with probability
    ``p``."""
    if input.dim() not in (4, 5):
        warnings.warn(
            f"dropout3d: Received a {input.dim()}-D input to dropout3d, which is deprecated "
            "and will result in an error in a future release. To retain the behavior and "
            "silence this warning, please use dropout instead. Note that dropout3d exists to "
            "provide channel-wise dropout on inputs with 3 spatial dimensions, a channel "
            "dimension, and an optional batch dimension (i.e. 4D or 5D inputs).",
            stacklevel=2,
        )
    return _feature_dropout(input, p, training, inplace, 5)


# SELU's alpha: alpha dropout keeps SELU activations' mean and variance.
_ALPHA = 1.7580993408473766


def _alpha_dropout(input, p, training, inplace, feature):
    """PyTorch's ``_dropout_impl`` for alpha dropout: kept values scaled by ``a``, dropped
    ones set to the SELU saturation, both shifted by ``b`` (same draws as dropout)."""
    _check_probability(p)
    if p == 0.0 or not training or input.numel() == 0:
        return input
    if p == 1.0:
        zero = _core.zeros((), dtype=input.dtype, device=input.device)
        return input.mul_(zero) if inplace else input * zero
    if feature:
        if input.dim() < 2:
            raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
        shape = tuple(input.shape[:2]) + (1,) * (input.dim() - 2)
        noise = _core.zeros(shape, dtype=input.dtype, device=input.device)
    else:
        from rustgrad.random import _empty_like

        noise = _empty_like(input, input.dtype, input.device)
    noise.bernoulli_(1.0 - p)
    a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
    b = noise.add(-1).mul_(_ALPHA * a).add_(_ALPHA * a * p)
    noise.mul_(a)
    if inplace:
        return input.mul_(noise).add_(b)
    return input * noise + b


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout (for SELU networks): dropped elements take SELU's negative saturation,
    and an affine map keeps the mean and variance."""
    return _alpha_dropout(input, p, training, inplace, False)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels of ``(N, C, *)``."""
    return _alpha_dropout(input, p, training, inplace, True)


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """A sample of the Gumbel-softmax distribution over ``dim``: ``softmax((logits + g) /
    tau)`` with Gumbel noise ``g = -log(Exp(1))``; with ``hard``, the one-hot of its argmax in
    the forward pass and the soft sample's gradient (straight-through)."""
    noise = _core.zeros(tuple(logits.shape), dtype=logits.dtype, device=logits.device)
    gumbels = -noise.exponential_().log()
    y_soft = ((logits + gumbels) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = _core.zeros(tuple(logits.shape), dtype=logits.dtype, device=logits.device)
    y_hard = y_hard.scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky ReLU: in training each non-positive element is scaled by its own
    ``U(lower, upper)`` draw (PyTorch's draws, one per such element in order); in evaluation
    the slope is ``(lower + upper) / 2``. Recorded, in both modes, as PyTorch's
    ``rrelu_with_noise``: one ``RreluWithNoiseBackward0`` node (``...Backward1`` in place)."""
    noise = None
    if training:
        if not input.is_floating_point() or (
            input.dtype == _core.float16 and input.device.type == "cpu"
        ):
            raise NotImplementedError(
                f'"rrelu_with_noise_out_{input.device.type}" not implemented for '
                f"'{_scalar_type(input.dtype)}'"
            )
        noise = _rrelu_noise(input, lower, upper)
        if noise.dtype == input.dtype:
            forward = lambda: input * noise
        else:
            # (a half-precision input is scaled in float32, PyTorch's opmath type, and
            # rounded once; the noise it saves is rounded to the input's dtype)
            wide, noise = noise, noise.to(input.dtype)
            forward = lambda: (input.to(wide.dtype) * wide).to(input.dtype)
    else:
        forward = lambda: _core.leaky_relu(input, (lower + upper) / 2, False)

    def backward(grad, x):
        return (_rrelu_with_noise_backward(grad, x, noise, lower, upper, inplace),)

    if inplace:
        return _native.record_inplace(
            "RreluWithNoiseBackward1", input, [], forward, [_native.RESULT], backward
        )
    return _native.record("RreluWithNoiseBackward0", [input], forward, [input], backward)


def _rrelu_noise(input, lower, upper):
    """PyTorch's training noise of ``rrelu``: 1 where ``input`` is positive, else a
    ``U(lower, upper)`` draw (in order), in the kernel's float type (float64 for a float64
    input, else float32)."""
    from rustgrad.autograd.grad_mode import no_grad
    from rustgrad.random import _uniform_draws

    if input.dtype != _core.float64:
        # (PyTorch's kernel holds the bounds in its float type, then draws in float64)
        lower, upper = (_core.tensor(v, dtype=_core.float32).item() for v in (lower, upper))
    with no_grad():
        negative = input <= 0
        count = int(negative.sum().item())
        # (this kernel's multiply and add are not fused, unlike uniform_'s)
        unit = _uniform_draws((count,), 0.0, 1.0, _core.float64, None, input.device)
        slopes = unit * (upper - lower) + lower
        wide = _core.float64 if input.dtype == _core.float64 else _core.float32
        noise = _core.ones(tuple(input.shape), dtype=wide, device=input.device)
        noise[negative] = slopes.to(wide)
    return noise


def _rrelu_with_noise_backward(grad, x, noise, lower, upper, is_result):
    """PyTorch's ``rrelu_with_noise_backward``: ``grad * noise`` in training (``noise`` not
    None), else ``leaky_relu_backward`` with the slope ``(lower + upper) / 2`` over the input
    (or, ``is_result``, the in-place form's result, which refuses a negative slope). One
    ``RreluWithNoiseBackwardBackward0`` node, with PyTorch's derivatives: the same map of the
    incoming gradient, zeros for ``x``."""
    slope = (lower + upper) / 2
    if noise is None and is_result and slope < 0:
        raise RuntimeError(
            "In-place leakyReLu backward calculation is triggered with a negative slope which "
            "is not supported. This is caused by calling in-place forward function with a "
            "negative slope, please call out-of-place version instead. File an issue at "
            "https://github.com/pytorch/pytorch if you do require supporting in-place leakRelu "
            "backward calculation with negative slope"
        )

    def forward():
        if noise is not None:
            return noise * grad
        return _core.where(x > 0, grad, grad * slope)

    def backward(gg, x):
        again = _rrelu_with_noise_backward(gg, x, noise, lower, upper, False)
        return again, _core.zeros(tuple(x.shape), dtype=x.dtype, device=x.device)

    return _native.record("RreluWithNoiseBackwardBackward0", [grad, x], forward, [x], backward)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    """``rrelu`` in place."""
    return rrelu(input, lower, upper, training, True)


def scaled_dot_product_attention(
    query,
    key,
    value,
    attn_mask=None,
    dropout_p=0.0,
    is_causal=False,
    scale=None,
    enable_gqa=False,
):
    """``softmax(query @ key^T * scale + mask) @ value`` over the last two dims. A bool
    ``attn_mask`` keeps the positions where it is True; a float one is added to the scores;
    ``is_causal`` keeps ``j <= i``. ``scale`` defaults to ``1 / sqrt(E)``. With
    ``enable_gqa`` the key and value heads (dim -3) are repeated to the query's."""
    if is_causal and attn_mask is not None:
        raise RuntimeError(
            "_scaled_dot_product_attention: Explicit attn_mask should not be set when "
            "is_causal=True"
        )
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise RuntimeError(
            "Expected query, key, and value to all be  at least 2 dimensional, but got "
            f"query.dim: {query.ndim} key.dim: {key.ndim} and value.dim: {value.ndim} instead."
        )
    if enable_gqa:
        # grouped-query attention: each key/value head serves a group of query heads
        heads = query.size(-3)
        if heads % key.size(-3) or heads % value.size(-3):
            raise RuntimeError(
                "Number of heads in key and value must divide the number of heads in "
            )
        key = key.repeat_interleave(heads // key.size(-3), -3)
        value = value.repeat_interleave(heads // value.size(-3), -3)
    length, source = query.size(-2), key.size(-2)
    if scale is None:
        scale = 1.0 / math.sqrt(query.size(-1))
    # PyTorch's math kernel: query and key each scaled by sqrt(|scale|) before the product,
    # which then saves those copies (not query and key themselves)
    root = math.sqrt(abs(scale))
    scores = (query * (-root if scale < 0 else root)) @ (key.transpose(-2, -1) * root)
    if is_causal:
        keep = _core.ones((length, source), dtype=_core.bool_, device=query.device).tril()
        scores = scores.masked_fill(keep.logical_not(), float("-inf"))
    elif attn_mask is not None:
        if attn_mask.dtype == _core.bool_:
            scores = scores.masked_fill(attn_mask.logical_not(), float("-inf"))
        else:
            scores = scores + attn_mask
    if attn_mask is None:
        weights = scores.softmax(-1)
    else:
        # PyTorch's safe softmax: a query whose every key is masked attends to nothing (0,
        # with a zero gradient), not NaN
        unseen = (scores == float("-inf")).all(-1, keepdim=True)
        weights = scores.masked_fill(unseen, 0.0).softmax(-1).masked_fill(unseen, 0.0)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, True)
    return weights @ value


# ----- convolution, pooling, unfold/fold, interpolate (branch conv) -----
from rustgrad.nn._conv_functional import (
    adaptive_avg_pool2d,
    avg_pool2d,
    conv1d,
    conv2d,
    conv_transpose2d,
    fold,
    interpolate,
    max_pool1d,
    max_pool2d,
    unfold,
)

__all__ += [  # branch conv
    "adaptive_avg_pool2d",
    "avg_pool2d",
    "conv1d",
    "conv2d",
    "conv_transpose2d",
    "fold",
    "interpolate",
    "max_pool1d",
    "max_pool2d",
    "unfold",
]

# ----- adaptive pooling, 1-d average (branch nn2) -----
from rustgrad.nn._conv_functional import (
    adaptive_avg_pool1d,
    adaptive_max_pool1d,
    adaptive_max_pool1d_with_indices,
    adaptive_max_pool2d,
    adaptive_max_pool2d_with_indices,
)

__all__ += [  # branch nn2
    "adaptive_avg_pool1d",
    "adaptive_max_pool1d",
    "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d",
    "adaptive_max_pool2d_with_indices",
]

# ----- more activations, distances, pixel shuffling and losses (composites) --------------------

__all__ += [
    "celu",
    "celu_",
    "cosine_similarity",
    "gaussian_nll_loss",
    "glu",
    "hardshrink",
    "hardsigmoid",
    "hardswish",
    "hinge_embedding_loss",
    "pairwise_distance",
    "pdist",
    "pixel_shuffle",
    "pixel_unshuffle",
    "poisson_nll_loss",
    "prelu",
    "soft_margin_loss",
    "softmin",
    "softshrink",
    "softsign",
    "tanhshrink",
    "threshold",
    "threshold_",
    "triplet_margin_loss",
]


def _scalar_type(dtype):
    """PyTorch's C++ name of ``dtype`` (``Float``, ``Long``, ...), as its messages print it."""
    from rustgrad._tensor_methods import _scalar_name

    return _scalar_name(dtype)


def _floating_kernel(input, kernel):
    """PyTorch's error for a kernel (``kernel``: its name) with no integer or bool version."""
    if not input.is_floating_point():
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_scalar_type(input.dtype)}'")


def _write_into(input, fn, node=None):
    """``fn(input)`` written into ``input`` (a composite's in-place form), recorded by PyTorch's
    in-place node ``node`` (by default ``fn``'s). When recording, ``fn`` reads a clone, so that
    the values its backward saves are not the overwritten ones."""
    recording = _core.is_grad_enabled() and input.requires_grad
    return _native.write_result(input, fn(input.clone() if recording else input), node)


# PyTorch's hardsigmoid backward multiplies by 1/6 rounded to float32 (its kernel's constant),
# in float64 too: recorded as one node, with that constant.
_ONE_SIXTH_F32 = 0.1666666716337204


def hardsigmoid(input, inplace=False):
    """``relu6(input + 3) / 6``, elementwise: 0 at and below -3, 1 at and above 3."""
    _floating_kernel(input, f"hardsigmoid_{input.device.type}")

    def forward():
        return _core.hardtanh(input + 3, 0.0, 6.0, False) / 6

    def backward(grad, x):
        inside = (x > -3) & (x < 3)
        g = _core.where(inside, grad * _ONE_SIXTH_F32, 0.0)
        # PyTorch's hardsigmoid_backward reads the input (under create_graph the gradient
        # depends on it) and has no derivative of its own
        return (_native.underivable("hardsigmoid_backward", g, [x]),)

    if inplace:
        # (the backward reads the input as it was, as PyTorch's saved ``original_self``)
        original = input.clone() if input.requires_grad and _core.is_grad_enabled() else input
        return _native.record_inplace(
            "HardsigmoidBackward0", input, [], forward, [original], backward
        )
    return _native.record("HardsigmoidBackward0", [input], forward, [input], backward)


def _hardswish(x):
    """One HardswishBackward0 node: PyTorch's kernel and backward."""
    forward = lambda: x * _core.hardtanh(x + 3, 0.0, 6.0, False) / 6
    return _native.record("HardswishBackward0", [x], forward, [x], _hardswish_backward)


def _hardswish_backward(grad, x):
    """PyTorch's ``hardswish_backward``: 0 up to -3, ``grad * (x / 3 + 1/2)`` below 3, else
    ``grad`` (a NaN input passes it), selected, not multiplied; its own derivatives are
    PyTorch's (``grad_output``: the same map, ``self``: ``gg * grad / 3`` strictly inside)."""

    def forward():
        mid = grad * (x / 3 + 0.5)
        return _core.where(x <= -3, 0.0, _core.where(x < 3, mid, grad))

    def backward(gg, grad, x):
        inside = (x > -3).logical_and(x < 3)
        return _hardswish_backward(gg, x)[0], _core.where(inside, gg * grad / 3, 0.0)

    out = _native.record("HardswishBackwardBackward0", [grad, x], forward, [grad, x], backward)
    return (out,)


def hardswish(input, inplace=False):
    """``input * relu6(input + 3) / 6``, elementwise: 0 at and below -3, ``input`` at and
    above 3."""
    _floating_kernel(input, f"hardswish_{input.device.type}")
    return _write_into(input, _hardswish) if inplace else _hardswish(input)


def softsign(input):
    """``input / (1 + |input|)``, elementwise."""
    return input / (input.abs() + 1)


def tanhshrink(input):
    """``input - tanh(input)``, elementwise."""
    return input - input.tanh()


def softshrink(input, lambd=0.5):
    """``input - lambd`` above ``lambd``, ``input + lambd`` below ``-lambd``, 0 between
    (``lambd >= 0``), elementwise."""
    from rustgrad._dtypes import finfo

    _floating_kernel(input, "softshrink_check")
    top = finfo(input.dtype).max
    if not 0 <= lambd <= top:
        raise RuntimeError(
            f"lambda must be in range [0, {top:g}] for input dtype "
            f"{_scalar_type(input.dtype)}, but found {lambd:g}"
        )

    def forward():
        # ``input * 0`` between: a signed 0 (NaN for NaN), as PyTorch's
        inner = _core.where(input < -lambd, input + lambd, input * 0)
        return _core.where(input > lambd, input - lambd, inner)

    def backward(grad, x):
        # PyTorch's softshrink_backward: the gradient outside [-lambd, lambd], 0 inside
        inside = (x >= -lambd) & (x <= lambd)
        g = _core.where(inside, _core.zeros((), dtype=grad.dtype, device=grad.device), grad)
        return (_native.input_dependent("SoftshrinkBackwardBackward0", g, [x]),)

    return _native.record("SoftshrinkBackward0", [input], forward, [input], backward)


def hardshrink(input, lambd=0.5):
    """``input`` where ``input > lambd`` or ``input < -lambd``, else 0, elementwise."""
    _floating_kernel(input, f"hardshrink_{input.device.type}")

    def forward():
        keep = (input > lambd) | (input < -lambd)
        # ``input - input`` elsewhere: 0 (NaN for NaN), as PyTorch's
        return _core.where(keep, input, input - input)

    def backward(grad, x):
        # PyTorch's hardshrink_backward: the gradient outside [-lambd, lambd], 0 inside
        inside = (x >= -lambd) & (x <= lambd)
        g = _core.where(inside, _core.zeros((), dtype=grad.dtype, device=grad.device), grad)
        return (_native.input_dependent("HardshrinkBackwardBackward0", g, [x]),)

    return _native.record("HardshrinkBackward0", [input], forward, [input], backward)


def _threshold(input, threshold, value, inplace=False):
    """``value`` where ``input <= threshold``, else ``input``, elementwise (written into
    ``input`` with ``inplace=True``)."""
    if input.dtype == _core.bool_:
        raise NotImplementedError(f"\"threshold_{input.device.type}\" not implemented for 'Bool'")
    if not input.is_floating_point():
        # both numbers are converted to the input's dtype, as PyTorch does
        threshold, value = int(threshold), int(value)

    def fn(x):
        def forward():
            # (NaN is not <= threshold: it stays, with its gradient)
            return _core.where(x <= threshold, value, x)

        def backward(grad, x):
            # PyTorch's threshold_backward reads the input: under create_graph the gradient
            # depends on it (with slope 0)
            g = _core.where(x <= threshold, _core.zeros((), dtype=grad.dtype, device=grad.device), grad)  # fmt: skip
            return (_native.input_dependent("ThresholdBackwardBackward0", g, [x]),)

        return _native.record("ThresholdBackward0", [x], forward, [x], backward)

    if not inplace:
        return fn(input)
    shared = [s == 0 and n > 1 for s, n in zip(input.stride(), input.shape)]
    if any(shared):
        # PyTorch writes into elements that share memory (an expanded view) too: through the
        # view of the distinct ones.
        _write_into(input[tuple(slice(0, 1) if s else slice(None) for s in shared)], fn)
        return input
    return _write_into(input, fn, "ThresholdBackward1")


# ``threshold`` is also the name of an argument (as in PyTorch, which defines it this way too)
threshold = _threshold


def threshold_(input, threshold, value):
    """``threshold`` written into ``input``."""
    return _threshold(input, threshold, value, True)


def celu(input, alpha=1.0, inplace=False):
    """CELU: ``input`` where positive, else ``alpha * (exp(input / alpha) - 1)``,
    elementwise (``elu`` with the input scaled by ``1 / alpha``)."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return _core.celu(input, alpha, inplace)


def celu_(input, alpha=1.0):
    """``celu`` written into ``input``."""
    return celu(input, alpha, True)


def glu(input, dim=-1):
    """Gated linear unit: ``a * sigmoid(b)`` for the halves ``a``, ``b`` of ``input`` along
    ``dim`` (which halves in size)."""
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    size = input.size(dim)
    if size % 2:
        raise RuntimeError(
            f"Halving dimension must be even, but dimension {dim % input.dim()} is size {size}"
        )
    _floating_kernel(input, f"glu_{input.device.type}")
    half = size // 2
    return input.narrow(dim, 0, half) * input.narrow(dim, half, half).sigmoid()


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """``softmax(-input)`` along ``dim`` (same shape as ``input``)."""
    if dim is None:
        dim = _softmax_dim(input.dim(), "softmin", _stacklevel)
    return (-input).softmax(dim, dtype=dtype)


def prelu(input, weight):
    """``input`` where positive, else ``weight * input``; ``weight`` is one number or one per
    channel (dim 1 of ``input``), elementwise."""
    if input.dtype != weight.dtype:
        raise RuntimeError(
            f"prelu: Type promoting not supported. Got {_scalar_type(input.dtype)} and "
            f"{_scalar_type(weight.dtype)}"
        )
    if weight.numel() != 1:
        if input.dim() == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        channels = input.size(1) if input.dim() > 1 else 1
        if weight.numel() != channels:
            raise RuntimeError(
                "Mismatch of parameter numbers and input channel size. Found parameter "
                f"numbers = {weight.numel()} and channel size = {channels}."
            )
    if weight.dim() > 1:
        raise RuntimeError(
            f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.dim()}"
        )
    _floating_kernel(input, f"prelu_{input.device.type}")

    def prelu(input, weight):
        if input.dim() != weight.dim():
            shape = [1] * input.dim()
            if input.dim() > 1:
                shape[1] = weight.numel()
            weight = weight.reshape(shape)
        positive = input > 0
        # The negative part reads 0 where ``input`` is positive: no inf * 0 in ``weight``'s
        # gradient.
        return _core.where(positive, input, weight * _core.where(positive, 0.0, input))

    return _recorded_as("PreluKernelBackward0", prelu, input, weight)


# ----- distances and pixel shuffling -----------------------------------------------------------


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """``<x1, x2> / (max(||x1||, eps) * max(||x2||, eps))`` along ``dim`` of the broadcast
    inputs (that dim is reduced)."""
    from rustgrad._tensor_methods import _result_dtype
    from rustgrad.autograd.grad_mode import no_grad

    common = _result_dtype(x1, x2)
    if not common.is_floating_point:
        raise RuntimeError(
            "expected common dtype to be floating point, yet common dtype is "
            f"{_scalar_type(common)}"
        )
    x1 = x1 if x1.is_floating_point() else x1.to(common)
    x2 = x2 if x2.is_floating_point() else x2.to(common)
    # (the shape from empty meta stand-ins: a mismatch raises PyTorch's error for it)
    shape = (_core.zeros(x1.shape, device="meta") + _core.zeros(x2.shape, device="meta")).shape
    x1, x2 = x1.expand(shape), x2.expand(shape)
    # As PyTorch: each input divided by its norm, the norms clamped at eps without recording
    # (so that their gradients are the unclamped norms').
    norm1 = x1.norm(2, dim, True).clone()
    norm2 = x2.norm(2, dim, True).clone()
    with no_grad():
        norm1.clamp_(min=eps)
        norm2.clamp_(min=eps)
    return ((x1 / norm1) * (x2 / norm2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """The ``p``-norm of ``x1 - x2 + eps`` along the last dim (of the broadcast shape)."""
    last = max(x1.dim(), x2.dim()) - 1
    return (x1 - x2 + eps).norm(p, last, keepdim)


def pdist(input, p=2.0):
    """The ``p``-norm distance between every two rows of a matrix ``(N, M)``: the upper
    triangle of ``cdist(input, input)``, row by row (``N * (N - 1) / 2`` values). Its
    gradient is PyTorch's ``_pdist_backward`` (which has no derivative itself)."""
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    if not input.is_floating_point():
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    from rustgrad import triu_indices

    n = input.shape[0]
    first, second = triu_indices(n, n, 1, device=input.device)

    def forward():
        x = input.detach()
        if x.shape[1] == 0:  # (rows of nothing are 0 apart, whatever the norm)
            return x.new_zeros((first.numel(),))
        return (x[first] - x[second]).norm(p, 1)

    def backward(grad, x, dist):
        with _native.no_grad():
            diff = x[first] - x[second]
            terms = _pdist_terms(diff, dist.unsqueeze(1), p) * grad.unsqueeze(1)
            out = x.new_zeros(x.shape).index_add(0, first, terms).index_add(0, second, -terms)
        return (_native.underivable("_pdist_backward", out, [grad, x, dist], marked=True),)

    return _native.record("PdistBackward0", [input], forward, [input, _native.RESULT], backward)


def _pdist_terms(diff, dist, p):
    """PyTorch's ``Dist::backward`` per pair and column (before the upstream gradient): 0
    where the distance is 0, except for the inf-norm and the 1-norm."""
    sign = diff.sign()
    zero = dist == 0
    safe = _core.where(zero, dist.new_ones(dist.shape), dist)
    if p == 0:
        return diff.new_zeros(diff.shape)
    if p == 1:
        return sign
    if math.isinf(p):
        return sign * (diff.abs() == dist).to(diff.dtype)
    if p == 2:
        return _core.where(zero, diff.new_zeros(diff.shape), diff / safe)
    if p < 2:
        skip = zero | ((diff == 0) & (p < 1))
        term = sign * diff.abs().pow(p - 1) / safe.pow(p - 1)
        return _core.where(skip, diff.new_zeros(diff.shape), term)
    term = diff * diff.abs().pow(p - 2) / safe.pow(p - 1)
    return _core.where(zero, diff.new_zeros(diff.shape), term)


def _factor(value, function, name):
    import operator

    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(
            f"{function}(): argument '{name}' (position 2) must be int, not {type(value).__name__}"
        ) from None


def pixel_shuffle(input, upscale_factor):
    """``(*, C * r^2, H, W) -> (*, C, H * r, W * r)`` with ``r = upscale_factor``: each group of
    ``r^2`` channels becomes an ``r x r`` block of pixels."""
    r = _factor(upscale_factor, "pixel_shuffle", "upscale_factor")
    if input.dim() < 3:
        raise RuntimeError(
            "pixel_shuffle expects input to have at least 3 dimensions, but got input with "
            f"{input.dim()} dimension(s)"
        )
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *batch, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(
            "pixel_shuffle expects its input's 'channel' dimension to be divisible by the "
            f"square of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}"
        )
    n = len(batch)

    def forward():
        out = input.reshape(*batch, c // (r * r), r, r, h, w)
        out = out.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
        return _fresh(out).view(*batch, c // (r * r), h * r, w * r)

    out = _native.record(
        "PixelShuffleBackward0", [input], forward, [], lambda g: (pixel_unshuffle(g, r),)
    )
    return _channels_last_like(out, input)


def _fresh(x):
    """A row-major copy of ``x`` (PyTorch's pixel (un)shuffle write new memory, even where a
    view would do)."""
    return x.clone(memory_format=contiguous_format)


def pixel_unshuffle(input, downscale_factor):
    """``(*, C, H * r, W * r) -> (*, C * r^2, H, W)`` with ``r = downscale_factor``: the
    inverse of ``pixel_shuffle``."""
    r = _factor(downscale_factor, "pixel_unshuffle", "downscale_factor")
    if input.dim() < 3:
        raise RuntimeError(
            "pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
            f"{input.dim()} dimension(s)"
        )
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *batch, c, h, w = input.shape
    for size, side, at in ((h, "height", -2), (w, "width", -1)):
        if size % r:
            raise RuntimeError(
                f"pixel_unshuffle expects {side} to be divisible by downscale_factor, but "
                f"input.size({at})={size} is not divisible by {r}"
            )
    n = len(batch)

    def forward():
        out = input.reshape(*batch, c, h // r, r, w // r, r)
        out = out.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
        return _fresh(out).view(*batch, c * r * r, h // r, w // r)

    out = _native.record(
        "PixelUnshuffleBackward0", [input], forward, [], lambda g: (pixel_shuffle(g, r),)
    )
    return _channels_last_like(out, input)


# ----- more losses: margins, triplets, Poisson and Gaussian likelihoods ------------------------


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """``log(1 + exp(-target * input))`` (targets 1 or -1), reduced by ``reduction``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    _not_differentiable("soft_margin_loss", target=target)
    loss = (-input * target).exp().log1p()
    # (PyTorch's kernel writes into a tensor of the input's dtype)
    loss = _reduce(loss.to(input.dtype) if input.is_floating_point() else loss, reduction)
    return _saved.saving("SoftMarginLossBackward0", loss, input, target)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):  # fmt: skip
    """``input`` where ``target == 1``, ``max(0, margin - input)`` where ``target == -1``
    (the sum of both for any other target)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    hinge = _core.where(target != 1, (margin - input).clamp(min=0), 0.0)
    return _reduce(hinge + _core.where(target != -1, input, 0.0), reduction)


def triplet_margin_loss(
    anchor,
    positive,
    negative,
    margin=1.0,
    p=2,
    eps=1e-6,
    swap=False,
    size_average=None,
    reduce=None,
    reduction="mean",
):
    """``max(0, margin + d(anchor, positive) - d(anchor, negative))`` with ``d`` the
    ``pairwise_distance``; ``swap`` takes the smaller of ``d(anchor, negative)`` and
    ``d(positive, negative)``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    dims = (anchor.dim(), positive.dim(), negative.dim())
    if len(set(dims)) != 1:
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number "
            f"of dimensions, but got: anchor {dims[0]}D, positive {dims[1]}D, and negative "
            f"{dims[2]}D inputs"
        )
    dist_pos = pairwise_distance(anchor, positive, p, eps)
    dist_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        dist_neg = dist_neg.minimum(pairwise_distance(positive, negative, p, eps))
    return _reduce((margin + dist_pos - dist_neg).clamp(min=0), reduction)


def poisson_nll_loss(
    input,
    target,
    log_input=True,
    full=False,
    size_average=None,
    eps=1e-8,
    reduce=None,
    reduction="mean",
):
    """Poisson negative log-likelihood: ``exp(input) - target * input`` (``log_input``), else
    ``input - target * log(input + eps)``; ``full`` adds Stirling's approximation of
    ``log(target!)`` where ``target > 1``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + 0.5 * (2 * math.pi * target).log()
        loss = loss + _core.where(target <= 1, 0.0, stirling)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Gaussian negative log-likelihood: ``0.5 * (log(var) + (input - target)^2 / var)`` (plus
    ``0.5 * log(2 pi)`` when ``full``), ``var`` clamped at ``eps``. ``var`` is one per
    element, one per row (``input``'s shape without its last dim, or with one dim of size
    1), or a float."""
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * _core.full_like(input, 1)
    elif (var < 0).any():
        raise ValueError("var has negative entry/entries")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (
            input.dim() == var.dim()
            and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1
        ):
            raise ValueError("var is of incorrect size")
    if reduction not in _REDUCTIONS:
        raise ValueError(reduction + " is not valid")
    from rustgrad.autograd.grad_mode import no_grad

    # Clamped without recording, as PyTorch: the gradient reaches ``var`` where it is below eps.
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# ----- RMS and instance norm, local response norm, bilinear, channel shuffle, 1-d average
# pooling, the deprecated upsample aliases, multilabel soft margin loss (composites) -----------

__all__ += [
    "avg_pool1d",
    "bilinear",
    "channel_shuffle",
    "instance_norm",
    "local_response_norm",
    "multilabel_soft_margin_loss",
    "relu_",
    "rms_norm",
    "upsample",
    "upsample_bilinear",
    "upsample_nearest",
]


def relu_(input):
    """``max(input, 0)`` written into ``input``."""
    return input.relu_()


@_in_input_precision
def rms_norm(input, normalized_shape, weight=None, eps=None):
    """``input / sqrt(mean(input^2) + eps)`` over the last ``len(normalized_shape)`` dims,
    then scaled by ``weight``; ``eps=None`` is the machine epsilon of ``input``'s dtype
    (float32's for a half-precision input, which is normalised in float32)."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(normalized_shape)
    n = len(normalized_shape)
    if n == 0 or input.dim() < n or tuple(input.shape[input.dim() - n :]) != normalized_shape:
        raise RuntimeError(
            f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
            f"[*{', '.join(str(s) for s in normalized_shape)}], but got input of size"
            f"{list(input.shape)}"
        )
    # (as PyTorch's: a half-precision input is normalised in float32, whose epsilon is the
    # default; the result is rounded back by `_in_input_precision`)
    if input.dtype in (_core.float16, _core.bfloat16):
        input = input.float()
    if eps is None:
        from rustgrad._dtypes import finfo

        eps = finfo(input.dtype).eps
    dims = tuple(range(-n, 0))
    out = input * ((input * input).mean(dims, keepdim=True) + eps).rsqrt()
    if weight is not None:
        out = out * weight
    return out


@_in_input_precision
def instance_norm(
    input,
    running_mean=None,
    running_var=None,
    weight=None,
    bias=None,
    use_input_stats=True,
    momentum=0.1,
    eps=1e-5,
):
    """Normalise ``(N, C, *)`` per sample and channel over the spatial dims (as PyTorch: batch
    norm of the ``(1, N * C, *)`` view); the running statistics, when given, are updated with
    the mean over the batch of each sample's statistics."""
    if use_input_stats and math.prod(input.shape[2:]) == 1:
        raise ValueError(
            "Expected more than 1 spatial element when training, got input size "
            f"{input.shape}".replace("rustgrad.Size", "torch.Size")
        )
    b, c = input.size(0), input.size(1)
    for name, stat in (("running_mean", running_mean), ("running_var", running_var)):
        if stat is not None and stat.numel() != c:
            raise RuntimeError(f"{name} should contain {b * c} elements not {stat.numel() * b}")
    repeated = [None if t is None else t.repeat(b) for t in (running_mean, running_var)]
    out = batch_norm(
        input.reshape(1, b * c, *input.shape[2:]),
        repeated[0],
        repeated[1],
        None if weight is None else weight.repeat(b),
        None if bias is None else bias.repeat(b),
        use_input_stats,
        momentum,
        eps,
    )
    if use_input_stats:
        from rustgrad.autograd.grad_mode import no_grad

        with no_grad():
            for stat, new in zip((running_mean, running_var), repeated):
                if stat is not None:
                    stat.copy_(new.view(b, c).mean(0))
    return out.reshape(input.shape)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """``input / (k + alpha * mean(input^2 over size neighbouring channels)) ** beta``, the
    window zero-padded by ``size // 2`` channels before and ``(size - 1) // 2`` after."""
    dim = input.dim()
    if dim < 3:
        raise ValueError(
            "Expected 3D or higher dimensionality                          input "
            f"(got {dim} dimensions)"
        )
    if input.numel() == 0:
        return input
    c = input.size(1)
    squares = pad(input * input, (0, 0) * (dim - 2) + (size // 2, (size - 1) // 2))
    div = squares.narrow(1, 0, c)
    for j in range(1, size):
        div = div + squares.narrow(1, j, c)
    div = (div / size * alpha + k) ** beta
    return input / div


def bilinear(input1, input2, weight, bias=None):
    """``y[..., o] = sum_ij input1[..., i] * weight[o, i, j] * input2[..., j] + bias[o]``."""
    if input1.dim() != input2.dim():
        raise RuntimeError(
            f"bilinear(): input dimensions do not match: got {input1.dim()} and {input2.dim()}"
        )
    for i in range(input1.dim() - 1):
        if input1.size(i) != input2.size(i):
            raise RuntimeError(
                f"bilinear(): input batch dimensions do not match at dim {i}: got "
                f"{input1.size(i)} and {input2.size(i)}"
            )
    if input1.size(-1) != weight.size(1):
        raise RuntimeError(
            f"bilinear(): input1 size does not match weight size: got {input1.size(-1)} but "
            f"expected {weight.size(1)}"
        )
    if input2.size(-1) != weight.size(2):
        raise RuntimeError(
            f"bilinear(): input2 size does not match weight size: got {input2.size(-1)} but "
            f"expected {weight.size(2)}"
        )
    lead = list(input1.shape[:-1])
    x1 = input1.reshape(-1, input1.size(-1))
    x2 = input2.reshape(-1, input2.size(-1))
    out = (
        (x1 @ weight.permute(1, 0, 2).reshape(weight.size(1), -1)).view(
            x1.size(0), weight.size(0), weight.size(2)
        )
        * x2.unsqueeze(1)
    ).sum(-1)
    if bias is not None:
        out = out + bias
    return out.reshape(lead + [weight.size(0)])


def channel_shuffle(input, groups):
    """``(N, C, *)``: the channels, seen as ``groups`` rows of ``C // groups``, transposed."""
    if input.dim() <= 2:
        raise RuntimeError(
            f"channel_shuffle expects input with > 2 dims, but got input with sizes "
            f"{list(input.shape)}"
        )
    if groups <= 0:
        raise RuntimeError(
            f"Number of groups to divide channels in must be positive. Value of groups:{groups}"
        )
    n, c, *rest = input.shape
    if c % groups:
        raise RuntimeError(
            f"Number of channels must be divisible by groups. Got {c} channels and {groups} groups."
        )
    out = input.reshape(n, groups, c // groups, *rest).transpose(1, 2)
    return out.reshape(input.shape)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):  # fmt: skip
    """1-d average pooling of ``(N, C, L)`` (or ``(C, L)``): 2-d pooling over a height of one."""
    from rustgrad.nn._conv_functional import _check_1d, _tuple

    _check_1d(input, "avg_pool1d")

    def one(v):
        return _tuple(v, 1, "argument")[0]

    no_stride = stride is None or (not isinstance(stride, int) and len(stride) == 0)
    out = avg_pool2d(
        input.unsqueeze(-2),
        (1, one(kernel_size)),
        None if no_stride else (1, one(stride)),
        (0, one(padding)),
        ceil_mode,
        count_include_pad,
    )
    return out.squeeze(-2)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated: ``interpolate(input, size, scale_factor, mode, align_corners)``."""
    warnings.warn(
        "`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.",
        stacklevel=2,
    )
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(input, size, scale_factor, mode="nearest")``."""
    warnings.warn(
        "`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
        stacklevel=2,
    )
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(input, size, scale_factor, mode="bilinear",
    align_corners=True)``."""
    warnings.warn(
        "`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
        stacklevel=2,
    )
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):  # fmt: skip
    """``-(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))`` (times
    ``weight``), averaged over the classes (the last dim), then reduced by ``reduction``."""
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(dim=class_dim) / input.size(class_dim)
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    raise ValueError(reduction + " is not valid")


# ----- sampling grids (Spatial Transformer Networks), bags of embeddings, 3-d and transposed
# 1-d convolution -----
from rustgrad.nn._conv_functional import conv3d, conv_transpose1d
from rustgrad.nn._embedding_bag import embedding_bag
from rustgrad.nn._sampling import affine_grid, grid_sample

__all__ += ["affine_grid", "conv3d", "conv_transpose1d", "embedding_bag", "grid_sample"]

# ----- 3-d pooling, max unpooling, power-average pooling, margin losses over class scores,
# the triplet loss with a custom distance -----
from rustgrad.nn._losses_extra import (
    multi_margin_loss,
    multilabel_margin_loss,
    triplet_margin_with_distance_loss,
)
from rustgrad.nn._pool3d import (
    adaptive_avg_pool3d,
    adaptive_max_pool3d,
    adaptive_max_pool3d_with_indices,
    avg_pool3d,
    lp_pool1d,
    lp_pool2d,
    lp_pool3d,
    max_pool3d,
    max_pool3d_with_indices,
    max_unpool1d,
    max_unpool2d,
    max_unpool3d,
)

__all__ += [
    "adaptive_avg_pool3d",
    "adaptive_max_pool3d",
    "adaptive_max_pool3d_with_indices",
    "avg_pool3d",
    "lp_pool1d",
    "lp_pool2d",
    "lp_pool3d",
    "max_pool3d",
    "max_pool3d_with_indices",
    "max_unpool1d",
    "max_unpool2d",
    "max_unpool3d",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "triplet_margin_with_distance_loss",
]

# ----- the connectionist temporal classification loss -----
from rustgrad.nn._ctc import ctc_loss

__all__ += ["ctc_loss"]
