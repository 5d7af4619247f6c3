"""``torch.distributions.Bernoulli``: a coin flip, by probability or log-odds."""

from __future__ import annotations

import math
from typing import ClassVar

import rustgrad as _rg
from rustgrad._size import Size
from rustgrad.distributions import constraints
from rustgrad.distributions.exp_family import ExponentialFamily
from rustgrad.distributions.utils import (
    _EMPTY,
    _Number,
    broadcast_all,
    lazy_property,
    logits_to_probs,
    probs_to_logits,
)

__all__ = ["Bernoulli"]


def _bce_with_logits(logits, target):
    return _rg.nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="none")


class Bernoulli(ExponentialFamily):
    """The distribution of ``1`` with probability ``probs`` and ``0`` otherwise, given by
    ``probs`` or by ``logits`` (log-odds), not both; numbers or tensors."""

    arg_constraints: ClassVar[dict] = {
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    support = constraints.boolean
    has_enumerate_support = True
    _mean_carrier_measure = 0

    def __init__(self, probs=None, logits=None, validate_args=None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            is_scalar = isinstance(probs, _Number)
            (self.probs,) = broadcast_all(probs)
        else:
            is_scalar = isinstance(logits, _Number)
            (self.logits,) = broadcast_all(logits)
        self._param = self.probs if probs is not None else self.logits
        batch_shape = Size() if is_scalar else self._param.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """This distribution with its parameter expanded to ``batch_shape``."""
        new = self._get_checked_instance(Bernoulli, _instance)
        batch_shape = Size(batch_shape)
        if "probs" in self.__dict__:
            new.probs = self.probs.expand(batch_shape)
            new._param = new.probs
        if "logits" in self.__dict__:
            new.logits = self.logits.expand(batch_shape)
            new._param = new.logits
        super(Bernoulli, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _new(self, *args, **kwargs):
        return self._param.new(*args, **kwargs)

    @property
    def mean(self):
        """``probs``."""
        return self.probs

    @property
    def mode(self):
        """1 where ``probs > 1/2``, 0 where below, NaN at exactly 1/2."""
        mode = (self.probs >= 0.5).to(self.probs)
        mode[self.probs == 0.5] = math.nan
        return mode

    @property
    def variance(self):
        """``p (1 - p)``."""
        return self.probs * (1 - self.probs)

    @lazy_property
    def logits(self):
        """Log-odds (from ``probs`` when those were given)."""
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        """Probabilities of 1 (from ``logits`` when those were given)."""
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self) -> Size:
        """The shape of the parameter given."""
        return self._param.size()

    def sample(self, sample_shape=_EMPTY):
        """0/1 draws of ``torch.bernoulli`` in the parameter's dtype, without gradient."""
        shape = self._extended_shape(sample_shape)
        with _rg.no_grad():
            return _rg.bernoulli(self.probs.expand(shape))

    def log_prob(self, value):
        """``value log p + (1 - value) log(1 - p)``, from the logits (stable)."""
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -_bce_with_logits(logits, value)

    def entropy(self):
        """``-p log p - (1 - p) log(1 - p)``, from the logits (stable)."""
        return _bce_with_logits(self.logits, self.probs)

    def enumerate_support(self, expand=True):
        """``0.`` and ``1.`` along dim 0, over the batch dims."""
        values = _rg.arange(2, dtype=self._param.dtype, device=self._param.device)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values

    @property
    def _natural_params(self):
        return (_rg.logit(self.probs),)

    def _log_normalizer(self, x):
        return _rg.log1p(_rg.exp(x))
