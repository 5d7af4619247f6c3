"""``torch.distributions.Exponential``: the waiting time of rate ``rate``."""

from __future__ import annotations

from typing import ClassVar

import rustgrad as _rg
from rustgrad._size import Size
from rustgrad.distributions import constraints
from rustgrad.distributions.exp_family import ExponentialFamily
from rustgrad.distributions.utils import _EMPTY, _Number, broadcast_all

__all__ = ["Exponential"]


class Exponential(ExponentialFamily):
    """The exponential distribution of rate ``rate`` (``1 / scale``; a number or a tensor):
    density ``rate exp(-rate x)`` on ``x >= 0``."""

    arg_constraints: ClassVar[dict] = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, rate, validate_args=None) -> None:
        (self.rate,) = broadcast_all(rate)
        batch_shape = Size() if isinstance(rate, _Number) else self.rate.size()
        super().__init__(batch_shape, validate_args=validate_args)

    @property
    def mean(self):
        """``1 / rate``."""
        return self.rate.reciprocal()

    @property
    def mode(self):
        """Zero."""
        return _rg.zeros_like(self.rate)

    @property
    def stddev(self):
        """``1 / rate``."""
        return self.rate.reciprocal()

    @property
    def variance(self):
        """``rate ** -2``."""
        return self.rate.pow(-2)

    def expand(self, batch_shape, _instance=None):
        """This distribution with ``rate`` expanded to ``batch_shape``."""
        new = self._get_checked_instance(Exponential, _instance)
        batch_shape = Size(batch_shape)
        new.rate = self.rate.expand(batch_shape)
        super(Exponential, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=_EMPTY):
        """Standard exponential draws divided by ``rate``."""
        shape = self._extended_shape(sample_shape)
        draws = _rg.empty(shape, dtype=self.rate.dtype, device=self.rate.device).exponential_()
        return draws / self.rate

    def log_prob(self, value):
        """``log(rate) - rate value``."""
        if self._validate_args:
            self._validate_sample(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value):
        """``1 - exp(-rate value)``."""
        if self._validate_args:
            self._validate_sample(value)
        return 1 - _rg.exp(-self.rate * value)

    def icdf(self, value):
        """``-log(1 - value) / rate``."""
        return -_rg.log1p(-value) / self.rate

    def entropy(self):
        """``1 - log(rate)``."""
        return 1.0 - _rg.log(self.rate)

    @property
    def _natural_params(self):
        return (-self.rate,)

    def _log_normalizer(self, x):
        return -_rg.log(-x)
