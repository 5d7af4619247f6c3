"""The torch-level forms of ``nn.functional`` ops, with ATen's signatures (``torch.dropout``,
``torch.layer_norm``, ``torch.embedding``, ...).

PyTorch exposes its native nn kernels in the ``torch`` namespace too, and older code calls
them there. Their signatures are ATen's, not ``nn.functional``'s: ``train`` is positional and
required, ``torch.embedding`` takes the weight first, ``torch.batch_norm`` takes the weight
before the running statistics, a loss's ``reduction`` is an integer (``at::Reduction``: 0 none,
1 mean, 2 sum; left out, 0, as PyTorch's Python binding gives) and ``-1`` means "no padding
index". Each is stated here once, as a call of the ``nn.functional`` op that computes it.
"""

from rustgrad.nn import functional as F

_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _reduction(reduction) -> str:
    """``at::Reduction``'s integer as ``nn.functional``'s string."""
    try:
        return _REDUCTIONS[int(reduction)]
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"{reduction} is not a valid value for reduction") from None


def _stride(stride):
    """ATen's empty ``stride`` (the default) is the kernel size."""
    return None if stride is None or (isinstance(stride, (list, tuple)) and not stride) else stride


def dropout(input, p, train):
    """``nn.functional.dropout(input, p, train)``."""
    return F.dropout(input, p, train)


def dropout_(input, p, train):
    """In-place ``dropout``."""
    return F.dropout(input, p, train, inplace=True)


def alpha_dropout(input, p, train):
    """``nn.functional.alpha_dropout(input, p, train)``."""
    return F.alpha_dropout(input, p, train)


def alpha_dropout_(input, p, train):
    """In-place ``alpha_dropout``."""
    return F.alpha_dropout(input, p, train, inplace=True)


def feature_alpha_dropout(input, p, train):
    """``nn.functional.feature_alpha_dropout(input, p, train)``."""
    return F.feature_alpha_dropout(input, p, train)


def feature_alpha_dropout_(input, p, train):
    """In-place ``feature_alpha_dropout``."""
    return F.feature_alpha_dropout(input, p, train, inplace=True)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05, cudnn_enable=True):
    """``nn.functional.layer_norm`` (``cudnn_enable`` is ignored, as on the CPU)."""
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05, cudnn_enabled=True):
    """``nn.functional.group_norm`` (``cudnn_enabled`` is ignored, as on the CPU)."""
    return F.group_norm(input, num_groups, weight, bias, eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """``nn.functional.rms_norm``."""
    return F.rms_norm(input, normalized_shape, weight, eps)


def batch_norm(
    input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled
):
    """``nn.functional.batch_norm``, with ATen's order: the affine parameters first."""
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(
    input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps, cudnn_enabled
):
    """``nn.functional.instance_norm``, with ATen's order: the affine parameters first."""
    return F.instance_norm(
        input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps
    )


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """``nn.functional.embedding(indices, weight, ...)``: the weight first, and a negative
    ``padding_idx`` means none (``nn.functional`` has already made a negative index positive
    when it calls this)."""
    padding = padding_idx if padding_idx >= 0 else None
    return F.embedding(
        indices, weight, padding, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse
    )


def constant_pad_nd(input, pad, value=0):
    """``nn.functional.pad(input, pad, "constant", value)``."""
    return F.pad(input, pad, "constant", value)


def threshold(input, threshold, value):
    """``nn.functional.threshold``."""
    return F.threshold(input, threshold, value)


def threshold_(input, threshold, value):
    """In-place ``threshold``."""
    return F.threshold_(input, threshold, value)


def rrelu(input, lower=0.125, upper=1.0 / 3.0, training=False, generator=None):
    """``nn.functional.rrelu`` (the default generator only)."""
    _default_generator_only("rrelu", generator)
    return F.rrelu(input, lower, upper, training)


def rrelu_(input, lower=0.125, upper=1.0 / 3.0, training=False, generator=None):
    """In-place ``rrelu``."""
    _default_generator_only("rrelu_", generator)
    return F.rrelu_(input, lower, upper, training)


def _default_generator_only(name, generator):
    if generator is not None:
        raise NotImplementedError(f"rustgrad does not implement torch.{name} with a generator")


def max_pool1d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """``nn.functional.max_pool1d`` (an empty ``stride``: the kernel size)."""
    return F.max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool1d_with_indices(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):  # fmt: skip
    """``max_pool1d`` and the index of each maximum."""
    return F.max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode, True)


def max_pool2d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """``nn.functional.max_pool2d`` (an empty ``stride``: the kernel size)."""
    return F.max_pool2d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool3d(input, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
    """``nn.functional.max_pool3d`` (an empty ``stride``: the kernel size)."""
    return F.max_pool3d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def adaptive_max_pool1d(input, output_size):
    """``nn.functional.adaptive_max_pool1d`` with its indices: ``(values, indices)``."""
    return F.adaptive_max_pool1d(input, output_size, return_indices=True)


def kl_div(input, target, reduction=0, *, log_target=False):
    """``nn.functional.kl_div`` (``reduction``: ATen's integer)."""
    return F.kl_div(input, target, reduction=_reduction(reduction), log_target=log_target)


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None, reduction=0):
    """``nn.functional.binary_cross_entropy_with_logits`` (``reduction``: ATen's integer)."""
    return F.binary_cross_entropy_with_logits(
        input, target, weight, reduction=_reduction(reduction), pos_weight=pos_weight
    )


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=0):
    """``nn.functional.cosine_embedding_loss`` (``reduction``: ATen's integer)."""
    return F.cosine_embedding_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def hinge_embedding_loss(input, target, margin=1.0, reduction=0):
    """``nn.functional.hinge_embedding_loss`` (``reduction``: ATen's integer)."""
    return F.hinge_embedding_loss(input, target, margin, reduction=_reduction(reduction))


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=0):
    """``nn.functional.margin_ranking_loss`` (``reduction``: ATen's integer)."""
    return F.margin_ranking_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    """``nn.functional.poisson_nll_loss`` (every argument given; ``reduction``: ATen's
    integer)."""
    return F.poisson_nll_loss(
        input, target, log_input, full, eps=eps, reduction=_reduction(reduction)
    )


def triplet_margin_loss(
    anchor, positive, negative, margin=1.0, p=2, eps=1e-06, swap=False, reduction=0
):
    """``nn.functional.triplet_margin_loss`` (``reduction``: ATen's integer)."""
    return F.triplet_margin_loss(
        anchor, positive, negative, margin, p, eps, swap, reduction=_reduction(reduction)
    )


def ctc_loss(
    log_probs, targets, input_lengths, target_lengths, blank=0, reduction=0, zero_infinity=False
):
    """``nn.functional.ctc_loss`` (``reduction``: ATen's integer)."""
    return F.ctc_loss(
        log_probs,
        targets,
        input_lengths,
        target_lengths,
        blank,
        _reduction(reduction),
        zero_infinity,
    )


FUNCTIONS = [
    "dropout", "dropout_", "alpha_dropout", "alpha_dropout_", "feature_alpha_dropout",
    "feature_alpha_dropout_", "layer_norm", "group_norm", "rms_norm", "batch_norm",
    "instance_norm", "embedding", "constant_pad_nd", "threshold", "threshold_", "rrelu",
    "rrelu_", "max_pool1d", "max_pool1d_with_indices", "max_pool2d", "max_pool3d",
    "adaptive_max_pool1d", "kl_div", "binary_cross_entropy_with_logits",
    "cosine_embedding_loss", "hinge_embedding_loss", "margin_ranking_loss", "poisson_nll_loss",
    "triplet_margin_loss", "ctc_loss",
]  # fmt: skip
