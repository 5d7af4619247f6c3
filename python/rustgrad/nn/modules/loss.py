"""Loss layers (``loss(input, target)``), as ``torch.nn``'s; the math is in ``nn.functional``."""

from rustgrad.nn import functional as F
from rustgrad.nn.modules.module import Module

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CosineEmbeddingLoss",
    "CrossEntropyLoss",
    "HuberLoss",
    "KLDivLoss",
    "L1Loss",
    "MSELoss",
    "MarginRankingLoss",
    "NLLLoss",
    "SmoothL1Loss",
]


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        self.reduction = F._legacy_reduction(size_average, reduce, reduction)
        F._check_reduction(self.reduction)


class MSELoss(_Loss):
    """Mean squared error between ``input`` and ``target`` (same shape); ``reduction`` is
    ``"mean"`` (default), ``"sum"`` or ``"none"``."""

    def forward(self, input, target):
        """The loss of ``input`` against ``target``: shape ``()``, or ``input``'s shape with
        ``reduction="none"``."""
        return F.mse_loss(input, target, reduction=self.reduction)


class NLLLoss(_Loss):
    """Negative log-likelihood of class indices given log-probabilities: ``input (N, C)``,
    ``target (N,)`` int64; see :func:`rustgrad.nn.functional.nll_loss`."""

    def __init__(
        self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"
    ):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        """The loss of log-probabilities ``input (N, C)`` against ``target (N,)``: shape ``()``, or
        ``(N,)`` with ``reduction="none"``."""
        return F.nll_loss(
            input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction
        )


class CrossEntropyLoss(_Loss):
    """Cross entropy of logits ``input (N, C)`` against class indices ``target (N,)`` (int64)
    or class probabilities ``(N, C)``; see :func:`rustgrad.nn.functional.cross_entropy`."""

    def __init__(
        self,
        weight=None,
        size_average=None,
        ignore_index=-100,
        reduce=None,
        reduction="mean",
        label_smoothing=0.0,
    ):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        """The loss of logits ``input (N, C)`` against ``target``: shape ``()``, or ``(N,)`` with
        ``reduction="none"``."""
        return F.cross_entropy(
            input,
            target,
            self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


# ----- more losses (issue 12) --------------------------------------------------------------------


class L1Loss(_Loss):
    """Mean absolute error; see :func:`rustgrad.nn.functional.l1_loss`."""

    def forward(self, input, target):
        """The loss of ``input`` against ``target``: shape ``()``, or ``input``'s shape with ``reduction="none"``."""
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Quadratic below ``beta``, linear above; see :func:`rustgrad.nn.functional.smooth_l1_loss`."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        """The loss of ``input`` against ``target``: shape ``()``, or ``input``'s shape with ``reduction="none"``."""
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Quadratic below ``delta``, ``delta``-scaled linear above; see
    :func:`rustgrad.nn.functional.huber_loss`."""

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        """The loss of ``input`` against ``target``: shape ``()``, or ``input``'s shape with ``reduction="none"``."""
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class BCELoss(_Loss):
    """Binary cross entropy of probabilities; see
    :func:`rustgrad.nn.functional.binary_cross_entropy`."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)

    def forward(self, input, target):
        """The loss of ``input`` against ``target``: shape ``()``, or ``input``'s shape with ``reduction="none"``."""
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross entropy of logits (sigmoid built in, stable); ``pos_weight`` weighs the
    positive class; see :func:`rustgrad.nn.functional.binary_cross_entropy_with_logits`."""

    def __init__(
        self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None
    ):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        """The loss of ``input`` against ``target``: shape ``()``, or ``input``'s shape with ``reduction="none"``."""
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, pos_weight=self.pos_weight, reduction=self.reduction
        )


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence of log-probabilities ``input`` from ``target``; see
    :func:`rustgrad.nn.functional.kl_div`."""

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        if size_average is not None or reduce is not None:
            reduction = F._legacy_reduction(size_average, reduce, reduction)
        Module.__init__(self)
        if reduction not in ("none", "mean", "sum", "batchmean"):
            raise ValueError(f"{reduction} is not a valid value for reduction")
        self.reduction = reduction
        self.log_target = log_target

    def forward(self, input, target):
        """The loss of ``input`` against ``target``: shape ``()``, or ``input``'s shape with ``reduction="none"``."""
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class CosineEmbeddingLoss(_Loss):
    """Pulls pairs together (``target = 1``) or pushes them below ``margin`` cosine
    similarity (``target = -1``); see :func:`rustgrad.nn.functional.cosine_embedding_loss`."""

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        """The loss of the pair ``input1``, ``input2`` against ``target`` (1 or -1): shape ``()``, or per sample with ``reduction="none"``."""
        return F.cosine_embedding_loss(
            input1, input2, target, margin=self.margin, reduction=self.reduction
        )


class MarginRankingLoss(_Loss):
    """Ranks ``input1`` above ``input2`` where ``target = 1`` (below where -1) by ``margin``;
    see :func:`rustgrad.nn.functional.margin_ranking_loss`."""

    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        """The loss of the pair ``input1``, ``input2`` against ``target`` (1 or -1): shape ``()``, or per sample with ``reduction="none"``."""
        return F.margin_ranking_loss(
            input1, input2, target, margin=self.margin, reduction=self.reduction
        )


# ----- more losses: margins, triplets, Poisson and Gaussian likelihoods -------------------------


class SoftMarginLoss(_Loss):
    """``log(1 + exp(-target * input))`` for targets 1 or -1; see
    :func:`rustgrad.nn.functional.soft_margin_loss`."""

    def forward(self, input, target):
        """The loss of ``input`` against ``target``: shape ``()``, or ``input``'s shape with ``reduction="none"``."""
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """``input`` where ``target = 1``, ``max(0, margin - input)`` where -1; see
    :func:`rustgrad.nn.functional.hinge_embedding_loss`."""

    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target):
        """The loss of ``input`` against ``target``: shape ``()``, or ``input``'s shape with ``reduction="none"``."""
        return F.hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """Pulls ``anchor`` towards ``positive`` and pushes it ``margin`` further from ``negative``
    (``p``-norm distances); see :func:`rustgrad.nn.functional.triplet_margin_loss`."""

    def __init__(
        self,
        margin=1.0,
        p=2.0,
        eps=1e-6,
        swap=False,
        size_average=None,
        reduce=None,
        reduction="mean",
    ):
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(
                f"TripletMarginLoss: expected margin to be greater than 0, got {margin} instead"
            )
        self.margin = margin
        self.p = p
        self.eps = eps
        self.swap = swap

    def forward(self, anchor, positive, negative):
        """The loss of the triplets: shape ``()``, or one per triplet with ``reduction="none"``."""
        return F.triplet_margin_loss(
            anchor,
            positive,
            negative,
            margin=self.margin,
            p=self.p,
            eps=self.eps,
            swap=self.swap,
            reduction=self.reduction,
        )


class PoissonNLLLoss(_Loss):
    """Poisson negative log-likelihood of ``target`` counts given the (log) rates ``input``;
    see :func:`rustgrad.nn.functional.poisson_nll_loss`."""

    def __init__(
        self,
        log_input=True,
        full=False,
        size_average=None,
        eps=1e-8,
        reduce=None,
        reduction="mean",
    ):
        super().__init__(size_average, reduce, reduction)
        self.log_input = log_input
        self.full = full
        self.eps = eps

    def forward(self, log_input, target):
        """The loss of ``log_input`` against ``target``: shape ``()``, or ``input``'s shape with ``reduction="none"``."""
        return F.poisson_nll_loss(
            log_input,
            target,
            log_input=self.log_input,
            full=self.full,
            eps=self.eps,
            reduction=self.reduction,
        )


class GaussianNLLLoss(_Loss):
    """Gaussian negative log-likelihood of ``target`` given means ``input`` and variances
    ``var``; see :func:`rustgrad.nn.functional.gaussian_nll_loss`."""

    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(None, None, reduction)
        self.full = full
        self.eps = eps

    def forward(self, input, target, var):
        """The loss of ``input`` against ``target`` with variances ``var``: shape ``()``, or ``input``'s shape with ``reduction="none"``."""
        return F.gaussian_nll_loss(
            input, target, var, full=self.full, eps=self.eps, reduction=self.reduction
        )


__all__ += [
    "GaussianNLLLoss",
    "HingeEmbeddingLoss",
    "PoissonNLLLoss",
    "SoftMarginLoss",
    "TripletMarginLoss",
]


class MultiLabelSoftMarginLoss(_Loss):
    """Multi-label one-versus-all loss of logits ``input (N, C)`` against 0/1 ``target (N, C)``;
    see :func:`rustgrad.nn.functional.multilabel_soft_margin_loss`."""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)

    def forward(self, input, target):
        """The loss: shape ``()``, or ``(N,)`` with ``reduction="none"``."""
        return F.multilabel_soft_margin_loss(
            input, target, weight=self.weight, reduction=self.reduction
        )


__all__ += ["MultiLabelSoftMarginLoss"]


# ----- margin losses over class scores, the triplet loss with a custom distance ------------------


class MultiMarginLoss(_Loss):
    """Multi-class hinge loss of scores ``input (N, C)`` against class indices ``target (N,)``;
    see :func:`rustgrad.nn.functional.multi_margin_loss`."""

    def __init__(self, p=1, margin=1.0, weight=None, size_average=None, reduce=None, reduction="mean"):  # fmt: skip
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        if p != 1 and p != 2:
            raise ValueError("only p == 1 and p == 2 supported")
        if weight is not None and weight.dim() != 1:
            raise ValueError(
                f"MultiMarginLoss: expected weight to be None or 1D tensor, got {weight.dim()}D instead"
            )
        self.p = p
        self.margin = margin

    def forward(self, input, target):
        """The loss: shape ``()``, or ``(N,)`` with ``reduction="none"``."""
        return F.multi_margin_loss(input, target, p=self.p, margin=self.margin, weight=self.weight, reduction=self.reduction)  # fmt: skip


class MultiLabelMarginLoss(_Loss):
    """Multi-label hinge loss of scores ``input (N, C)`` against label indices ``target (N,
    C)`` (ended by ``-1``); see :func:`rustgrad.nn.functional.multilabel_margin_loss`."""

    def forward(self, input, target):
        """The loss: shape ``()``, or ``(N,)`` with ``reduction="none"``."""
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """Triplet loss with a custom ``distance_function`` (default ``PairwiseDistance()``); see
    :func:`rustgrad.nn.functional.triplet_margin_with_distance_loss`."""

    def __init__(self, *, distance_function=None, margin=1.0, swap=False, reduction="mean"):
        super().__init__(size_average=None, reduce=None, reduction=reduction)
        if margin <= 0:
            raise ValueError(
                f"TripletMarginWithDistanceLoss: expected margin to be greater than 0, got {margin} instead"
            )
        from rustgrad.nn.modules.distance import PairwiseDistance

        self.distance_function = distance_function if distance_function is not None else PairwiseDistance()  # fmt: skip
        self.margin = margin
        self.swap = swap

    def forward(self, anchor, positive, negative):
        """The loss of the triplets: shape ``()``, or one per triplet with ``reduction="none"``."""
        return F.triplet_margin_with_distance_loss(anchor, positive, negative, distance_function=self.distance_function, margin=self.margin, swap=self.swap, reduction=self.reduction)  # fmt: skip


__all__ += ["MultiLabelMarginLoss", "MultiMarginLoss", "TripletMarginWithDistanceLoss"]


# ----- the connectionist temporal classification loss ------------------------------------------


class CTCLoss(_Loss):
    """The connectionist temporal classification loss of log-probabilities ``(T, N, C)``
    against targets (padded ``(N, S)`` or concatenated) with per-sample input and target
    lengths; see :func:`rustgrad.nn.functional.ctc_loss`."""

    def __init__(self, blank=0, reduction="mean", zero_infinity=False):
        super().__init__(reduction=reduction)
        self.blank = blank
        self.zero_infinity = zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        """The loss: shape ``()``, or ``(N,)`` with ``reduction="none"``."""
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank, self.reduction, self.zero_infinity)  # fmt: skip


__all__ += ["CTCLoss"]
