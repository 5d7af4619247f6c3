"""``torch.distributions.OneHotCategorical``: a categorical draw written as a one-hot vector."""

from __future__ import annotations

from typing import ClassVar

import rustgrad as _rg
from rustgrad._size import Size
from rustgrad.distributions import constraints
from rustgrad.distributions.categorical import Categorical
from rustgrad.distributions.distribution import Distribution
from rustgrad.distributions.utils import _EMPTY

__all__ = ["OneHotCategorical", "OneHotCategoricalStraightThrough"]


def _one_hot(indices, num_classes, like):
    return _rg.nn.functional.one_hot(indices, num_classes).to(like)


class OneHotCategorical(Distribution):
    """:class:`Categorical` with samples one-hot coded: vectors of size ``probs.size(-1)``
    (the event shape). ``probs`` or ``logits`` as for :class:`Categorical`."""

    arg_constraints: ClassVar[dict] = {
        "probs": constraints.simplex,
        "logits": constraints.real_vector,
    }
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None) -> None:
        # (validated with the default setting, as PyTorch: its errors name Categorical)
        self._categorical = Categorical(probs, logits)
        batch_shape = self._categorical.batch_shape
        event_shape = Size(self._categorical.param_shape[-1:])
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """This distribution with its parameters expanded to ``batch_shape``."""
        new = self._get_checked_instance(OneHotCategorical, _instance)
        batch_shape = Size(batch_shape)
        new._categorical = self._categorical.expand(batch_shape)
        super(OneHotCategorical, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _new(self, *args, **kwargs):
        return self._categorical._new(*args, **kwargs)

    @property
    def _param(self):
        return self._categorical._param

    @property
    def probs(self):
        """Normalised probabilities."""
        return self._categorical.probs

    @property
    def logits(self):
        """Normalised log-probabilities."""
        return self._categorical.logits

    @property
    def mean(self):
        """The probabilities."""
        return self._categorical.probs

    @property
    def mode(self):
        """The one-hot vector of the most probable class."""
        probs = self._categorical.probs
        return _one_hot(probs.argmax(dim=-1), probs.shape[-1], probs)

    @property
    def variance(self):
        """``p (1 - p)``."""
        return self._categorical.probs * (1 - self._categorical.probs)

    @property
    def param_shape(self) -> Size:
        """The shape of the parameter given: ``batch_shape + (K,)``."""
        return self._categorical.param_shape

    def sample(self, sample_shape=_EMPTY):
        """One-hot vectors of categorical draws, in the parameters' dtype."""
        indices = self._categorical.sample(Size(sample_shape))
        return _one_hot(indices, self._categorical._num_events, self._categorical.probs)

    def log_prob(self, value):
        """The log-probability of the class each one-hot vector marks."""
        if self._validate_args:
            self._validate_sample(value)
        return self._categorical.log_prob(value.max(-1)[1])

    def entropy(self):
        """The categorical entropy."""
        return self._categorical.entropy()

    def enumerate_support(self, expand=True):
        """The ``K`` one-hot vectors along dim 0, over the batch dims."""
        n = self.event_shape[0]
        values = _rg.eye(n, dtype=self._param.dtype, device=self._param.device)
        values = values.view((n,) + (1,) * len(self.batch_shape) + (n,))
        if expand:
            values = values.expand((n,) + tuple(self.batch_shape) + (n,))
        return values


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """:class:`OneHotCategorical` with a straight-through ``rsample``: the sample's value,
    the probabilities' gradient (Bengio et al., 2013)."""

    has_rsample = True

    def rsample(self, sample_shape=_EMPTY):
        """A one-hot sample plus ``probs - probs.detach()`` (zero, but differentiable)."""
        samples = self.sample(sample_shape)
        probs = self._categorical.probs
        return samples + (probs - probs.detach())
