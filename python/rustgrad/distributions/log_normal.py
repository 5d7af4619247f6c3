"""``torch.distributions.LogNormal``: ``exp`` of a normal variable."""

from __future__ import annotations

from typing import ClassVar

import rustgrad as _rg
from rustgrad._size import Size
from rustgrad.distributions import constraints
from rustgrad.distributions.distribution import Distribution
from rustgrad.distributions.normal import Normal
from rustgrad.distributions.utils import _EMPTY

__all__ = ["LogNormal"]


class LogNormal(Distribution):
    """The distribution of ``exp(X)`` for ``X ~ Normal(loc, scale)``.

    PyTorch builds it as ``TransformedDistribution(Normal(loc, scale), ExpTransform())``;
    here it is its own class over the same ``base_dist`` with the same values, shapes, reprs
    and errors (the parameters are validated by the base Normal, so its errors name it)."""

    arg_constraints: ClassVar[dict] = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None) -> None:
        self.base_dist = Normal(loc, scale, validate_args=validate_args)
        super().__init__(
            self.base_dist.batch_shape, self.base_dist.event_shape, validate_args=validate_args
        )

    def expand(self, batch_shape, _instance=None):
        """This distribution with ``loc`` and ``scale`` expanded to ``batch_shape``."""
        new = self._get_checked_instance(LogNormal, _instance)
        batch_shape = Size(batch_shape)
        new.base_dist = self.base_dist.expand(batch_shape)
        super(LogNormal, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def loc(self):
        """The mean of ``log X``."""
        return self.base_dist.loc

    @property
    def scale(self):
        """The standard deviation of ``log X``."""
        return self.base_dist.scale

    @property
    def mean(self):
        """``exp(loc + scale**2 / 2)``."""
        return (self.loc + self.scale.pow(2) / 2).exp()

    @property
    def mode(self):
        """``exp(loc - scale**2)``."""
        return (self.loc - self.scale.square()).exp()

    @property
    def variance(self):
        """``(exp(scale**2) - 1) exp(2 loc + scale**2)``."""
        scale_sq = self.scale.pow(2)
        return scale_sq.expm1() * (2 * self.loc + scale_sq).exp()

    def sample(self, sample_shape=_EMPTY):
        """``exp`` of a base sample, without gradient."""
        with _rg.no_grad():
            return self.base_dist.sample(sample_shape).exp()

    def rsample(self, sample_shape=_EMPTY):
        """``exp`` of a reparametrised base sample."""
        return self.base_dist.rsample(sample_shape).exp()

    def log_prob(self, value):
        """The base log-density at ``log(value)`` minus ``log(value)`` (the Jacobian)."""
        if self._validate_args:
            self._validate_sample(value)
        x = value.log()
        return (0.0 - x) + self.base_dist.log_prob(x)

    def cdf(self, value):
        """The base cdf at ``log(value)``."""
        value = value.log()
        if self._validate_args:
            self.base_dist._validate_sample(value)
        return self.base_dist.cdf(value)

    def icdf(self, value):
        """``exp`` of the base icdf."""
        return self.base_dist.icdf(value).exp()

    def entropy(self):
        """The base entropy plus ``loc``."""
        return self.base_dist.entropy() + self.loc
