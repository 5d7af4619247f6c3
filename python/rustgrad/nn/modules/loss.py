"""Loss layers: ``MSELoss``, ``CrossEntropyLoss``, ``NLLLoss`` (``loss(input, target)``)."""

from rustgrad.nn import functional as F
from rustgrad.nn.modules.module import Module

__all__ = ["CrossEntropyLoss", "MSELoss", "NLLLoss"]


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
