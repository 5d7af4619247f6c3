"""``nn.Dropout``, ``nn.Flatten`` and ``nn.Unflatten``."""

from rustgrad.nn import functional as F
from rustgrad.nn.modules.module import Module

__all__ = ["Dropout", "Flatten", "Unflatten"]


class Dropout(Module):
    """In training mode, zero each element with probability ``p`` and scale the others by
    ``1 / (1 - p)``; in evaluation mode (``model.eval()``), pass the input through."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        """``input`` with elements dropped (training mode) or unchanged (evaluation mode)."""
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        """``"p=..., inplace=..."``."""
        return f"p={self.p}, inplace={self.inplace}"


class Flatten(Module):
    """Merge dims ``start_dim..=end_dim``: ``(N, *rest) -> (N, prod(rest))`` by default."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        """``input`` with dims ``start_dim..=end_dim`` merged into one."""
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        """``"start_dim=..., end_dim=..."``."""
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size``: ``(N, 12) -> (N, 3, 4)``."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input):
        """``input`` with dim ``dim`` split into ``unflattened_size``."""
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self):
        """``"dim=..., unflattened_size=..."``."""
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


# ----- layers branch: channel dropout ----------------------------------------------------------


class Dropout1d(Dropout):
    """Zero whole channels of ``(N, C, L)`` (or ``(C, L)``) with probability ``p`` in training
    mode, scaling the others by ``1 / (1 - p)``."""

    def forward(self, input):
        """``input`` with whole channels dropped (training mode) or unchanged."""
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(Dropout):
    """Zero whole channels of ``(N, C, H, W)`` (or ``(C, H, W)``) with probability ``p`` in
    training mode, scaling the others by ``1 / (1 - p)``."""

    def forward(self, input):
        """``input`` with whole channels dropped (training mode) or unchanged."""
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(Dropout):
    """Zero whole channels of ``(N, C, D, H, W)`` (or ``(C, D, H, W)``) with probability
    ``p`` in training mode, scaling the others by ``1 / (1 - p)``."""

    def forward(self, input):
        """``input`` with whole channels dropped (training mode) or unchanged."""
        return F.dropout3d(input, self.p, self.training, self.inplace)


class AlphaDropout(Dropout):
    """Alpha dropout (for SELU networks) in training mode; the identity in evaluation."""

    def forward(self, input):
        """``alpha_dropout(input)`` in training mode, else ``input``."""
        return F.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(Dropout):
    """Alpha dropout of whole channels in training mode; the identity in evaluation."""

    def forward(self, input):
        """``feature_alpha_dropout(input)`` in training mode, else ``input``."""
        return F.feature_alpha_dropout(input, self.p, self.training)


__all__ += ["AlphaDropout", "Dropout1d", "Dropout2d", "Dropout3d", "FeatureAlphaDropout"]
