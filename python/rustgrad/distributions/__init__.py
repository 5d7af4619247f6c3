"""``torch.distributions``: parametrised probability distributions with PyTorch's names,
shapes, validation errors and reprs, differentiable in their parameters.

The families: :class:`Normal`, :class:`LogNormal`, :class:`Laplace`, :class:`Exponential`,
:class:`Uniform`, :class:`Bernoulli`, :class:`Categorical`, :class:`OneHotCategorical` (and
its straight-through variant), :class:`MultivariateNormal`, and :class:`Independent` over
any of them; :func:`kl_divergence` with the closed forms among them (:func:`register_kl`
adds more). ``rsample`` is reparametrised (gradients reach the parameters), ``sample`` is
not. The draws come from rustgrad's random stream (``rustgrad.manual_seed`` repeats them),
not PyTorch's, so the same seed gives other values than PyTorch.

Not here: the families that need ``lgamma``/``digamma`` (Gamma, Beta, Dirichlet, Poisson,
Binomial, StudentT, ...), transforms and ``TransformedDistribution`` (``LogNormal`` is a
class of its own with the same values).
"""

from rustgrad.distributions import constraints as constraints  # (a re-export)
from rustgrad.distributions.bernoulli import Bernoulli
from rustgrad.distributions.categorical import Categorical
from rustgrad.distributions.distribution import Distribution
from rustgrad.distributions.exp_family import ExponentialFamily
from rustgrad.distributions.exponential import Exponential
from rustgrad.distributions.independent import Independent
from rustgrad.distributions.kl import kl_divergence, register_kl
from rustgrad.distributions.laplace import Laplace
from rustgrad.distributions.log_normal import LogNormal
from rustgrad.distributions.multivariate_normal import MultivariateNormal
from rustgrad.distributions.normal import Normal
from rustgrad.distributions.one_hot_categorical import (
    OneHotCategorical,
    OneHotCategoricalStraightThrough,
)
from rustgrad.distributions.uniform import Uniform

__all__ = [
    "Bernoulli",
    "Categorical",
    "Distribution",
    "Exponential",
    "ExponentialFamily",
    "Independent",
    "Laplace",
    "LogNormal",
    "MultivariateNormal",
    "Normal",
    "OneHotCategorical",
    "OneHotCategoricalStraightThrough",
    "Uniform",
    "kl_divergence",
    "register_kl",
]
