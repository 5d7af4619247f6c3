"""``torch.distributions.MultivariateNormal``: the Gaussian of a vector, by its covariance,
its precision or a Cholesky factor."""

from __future__ import annotations

import math
from typing import ClassVar

import rustgrad as _rg
from rustgrad._size import Size
from rustgrad.distributions import constraints
from rustgrad.distributions.distribution import Distribution
from rustgrad.distributions.utils import _EMPTY, _standard_normal, lazy_property

__all__ = ["MultivariateNormal"]


def _batch_mv(bmat, bvec):
    """Matrix-vector products with broadcast batch dims."""
    return _rg.matmul(bmat, bvec.unsqueeze(-1)).squeeze(-1)


def _batch_mahalanobis(bL, bx):
    """``x^T (L L^T)^-1 x`` for batches of lower factors ``bL`` and vectors ``bx``, where
    ``bL``'s batch shape broadcasts to ``bx``'s.

    ``bx``'s batch dims are regrouped so that one triangular solve per matrix of ``bL``
    serves every vector that uses it: ``bx`` is viewed as ``outer + (sx // sL, sL)...``,
    the ``sL`` dims are moved next to the matrices, solved, and put back."""
    n = bx.size(-1)
    bx_batch_shape = tuple(bx.shape[:-1])
    bx_batch_dims = len(bx_batch_shape)
    bL_batch_dims = bL.dim() - 2
    outer = bx_batch_dims - bL_batch_dims
    old_batch_dims = outer + bL_batch_dims
    new_batch_dims = outer + 2 * bL_batch_dims
    split_shape = tuple(bx.shape[:outer])
    for sL, sx in zip(bL.shape[:-2], bx.shape[outer:-1]):
        split_shape += (sx // sL, sL)
    bx = bx.reshape(split_shape + (n,))
    order = (
        list(range(outer))
        + list(range(outer, new_batch_dims, 2))
        + list(range(outer + 1, new_batch_dims, 2))
        + [new_batch_dims]
    )
    bx = bx.permute(order)
    flat_L = bL.reshape(-1, n, n)  # b x n x n
    flat_x = bx.reshape(-1, flat_L.size(0), n)  # c x b x n
    solved = _rg.linalg.solve_triangular(flat_L, flat_x.permute(1, 2, 0), upper=False)
    M = solved.pow(2).sum(-2).t()  # c x b
    M = M.reshape(tuple(bx.shape[:-1]))
    back = list(range(outer))
    for i in range(bL_batch_dims):
        back += [outer + i, old_batch_dims + i]
    return M.permute(back).reshape(bx_batch_shape)


def _precision_to_scale_tril(P):
    """The lower Cholesky factor of ``P^-1``, through the factor of ``P`` with its rows and
    columns reversed (an upper factor of ``P``) and one triangular solve."""
    Lf = _rg.linalg.cholesky(_rg.flip(P, (-2, -1)))
    L_inv = _rg.transpose(_rg.flip(Lf, (-2, -1)), -2, -1)
    eye = _rg.eye(P.shape[-1], dtype=P.dtype, device=P.device)
    return _rg.linalg.solve_triangular(L_inv, eye, upper=False)


def _cholesky_inverse(L):
    """``(L L^T)^-1`` from the lower factor ``L`` (``torch.cholesky_inverse``).

    Through the general inverse of ``L``, not a triangular solve: the value is the same, and
    the gradient is PyTorch's, which treats ``L`` as a full matrix (nonzero above the
    diagonal) where a triangular solve's would be lower triangular."""
    L_inv = _rg.linalg.inv(L)
    return _rg.matmul(L_inv.mT, L_inv)


class MultivariateNormal(Distribution):
    """The multivariate normal distribution of mean vector ``loc`` and one of
    ``covariance_matrix`` (positive definite), ``precision_matrix`` (its inverse) or
    ``scale_tril`` (the lower Cholesky factor of the covariance, positive diagonal): every
    computation goes through the Cholesky factor, so ``scale_tril`` is the cheapest."""

    arg_constraints: ClassVar[dict] = {
        "loc": constraints.real_vector,
        "covariance_matrix": constraints.positive_definite,
        "precision_matrix": constraints.positive_definite,
        "scale_tril": constraints.lower_cholesky,
    }
    support = constraints.real_vector
    has_rsample = True

    def __init__(
        self,
        loc,
        covariance_matrix=None,
        precision_matrix=None,
        scale_tril=None,
        validate_args=None,
    ) -> None:
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = [m is not None for m in (covariance_matrix, scale_tril, precision_matrix)]
        if sum(given) != 1:
            raise ValueError(
                "Exactly one of covariance_matrix or precision_matrix or scale_tril may be "
                "specified."
            )
        loc_batch = tuple(loc.shape[:-1])
        if scale_tril is not None:
            if scale_tril.dim() < 2:
                raise ValueError(
                    "scale_tril matrix must be at least two-dimensional, "
                    "with optional leading batch dimensions"
                )
            batch_shape = _rg.broadcast_shapes(tuple(scale_tril.shape[:-2]), loc_batch)
            self.scale_tril = scale_tril.expand(tuple(batch_shape) + (-1, -1))
        elif covariance_matrix is not None:
            if covariance_matrix.dim() < 2:
                raise ValueError(
                    "covariance_matrix must be at least two-dimensional, "
                    "with optional leading batch dimensions"
                )
            batch_shape = _rg.broadcast_shapes(tuple(covariance_matrix.shape[:-2]), loc_batch)
            self.covariance_matrix = covariance_matrix.expand(tuple(batch_shape) + (-1, -1))
        else:
            if precision_matrix.dim() < 2:
                raise ValueError(
                    "precision_matrix must be at least two-dimensional, "
                    "with optional leading batch dimensions"
                )
            batch_shape = _rg.broadcast_shapes(tuple(precision_matrix.shape[:-2]), loc_batch)
            self.precision_matrix = precision_matrix.expand(tuple(batch_shape) + (-1, -1))
        batch_shape = Size(batch_shape)
        self.loc = loc.expand(tuple(batch_shape) + (-1,))
        event_shape = Size(self.loc.shape[-1:])
        super().__init__(batch_shape, event_shape, validate_args=validate_args)
        # The factor of the matrix as given (not broadcast): batched solves stay small.
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = _rg.linalg.cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)

    def expand(self, batch_shape, _instance=None):
        """This distribution with its parameters expanded to ``batch_shape``."""
        new = self._get_checked_instance(MultivariateNormal, _instance)
        batch_shape = Size(batch_shape)
        loc_shape = batch_shape + tuple(self.event_shape)
        cov_shape = loc_shape + tuple(self.event_shape)
        new.loc = self.loc.expand(loc_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, getattr(self, name).expand(cov_shape))
        super(MultivariateNormal, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _matrix_shape(self):
        return tuple(self._batch_shape) + tuple(self._event_shape) * 2

    @lazy_property
    def scale_tril(self):
        """The lower Cholesky factor of the covariance."""
        return self._unbroadcasted_scale_tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self):
        """``L L^T``."""
        L = self._unbroadcasted_scale_tril
        return _rg.matmul(L, L.mT).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self):
        """``(L L^T)^-1``."""
        return _cholesky_inverse(self._unbroadcasted_scale_tril).expand(self._matrix_shape())

    @property
    def mean(self):
        """``loc``."""
        return self.loc

    @property
    def mode(self):
        """``loc``."""
        return self.loc

    @property
    def variance(self):
        """The diagonal of the covariance."""
        shape = tuple(self._batch_shape) + tuple(self._event_shape)
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(shape)

    def rsample(self, sample_shape=_EMPTY):
        """``loc + L eps`` with ``eps`` standard normal."""
        shape = self._extended_shape(sample_shape)
        eps = _standard_normal(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + _batch_mv(self._unbroadcasted_scale_tril, eps)

    def _half_log_det(self):
        return self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value):
        """``-(k log(2 pi) + Mahalanobis distance) / 2 - log det L``."""
        if self._validate_args:
            self._validate_sample(value)
        M = _batch_mahalanobis(self._unbroadcasted_scale_tril, value - self.loc)
        k = self._event_shape[0]
        return -0.5 * (k * math.log(2 * math.pi) + M) - self._half_log_det()

    def entropy(self):
        """``k (1 + log(2 pi)) / 2 + log det L``."""
        H = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        if len(self._batch_shape) == 0:
            return H
        return H.expand(self._batch_shape)
