"""``torch.nn.utils.parametrizations``: ``orthogonal``, ``spectral_norm`` and ``weight_norm``
as parametrizations (:mod:`rustgrad.nn.utils.parametrize`)."""

import math
from enum import Enum, auto

import rustgrad
from rustgrad.autograd.grad_mode import no_grad
from rustgrad.nn import functional as F
from rustgrad.nn.modules.module import Module
from rustgrad.nn.utils import parametrize
from rustgrad.nn.utils.spectral_norm import _is_conv_transpose
from rustgrad.nn.utils.weight_norm import _weight_norm, norm_except_dim

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


def _matrix_exp(A):
    """``exp(A)`` of a (batch of) square matrices, differentiable: scaling and squaring with
    a degree-18 Taylor polynomial (truncation error below 1e-17 once ``||A||_1 <= 1``)."""
    n = A.shape[-1]
    with no_grad():
        norm = A.abs().sum(-2).amax(-1).max().item() if A.numel() else 0.0
    squarings = math.ceil(math.log2(norm)) if math.isfinite(norm) and norm > 1 else 0
    if squarings:
        A = A / 2.0**squarings
    eye = rustgrad.eye(n, dtype=A.dtype, device=A.device)
    E = eye + A / 18
    for k in range(17, 0, -1):
        E = eye + (A @ E) / k
    for _ in range(squarings):
        E = E @ E
    return E


def _householder_product(A, tau):
    """``torch.linalg.householder_product``: the first columns of ``H_1 ... H_k``, with
    ``H_i = I - tau_i v_i v_i^T`` and ``v_i`` column ``i`` of ``A`` below the diagonal (1 on
    it); differentiable."""
    m, n = A.shape[-2], A.shape[-1]
    eye = rustgrad.eye(m, n, dtype=A.dtype, device=A.device)
    V = A.tril(-1) + eye
    Q = eye.expand(tuple(A.shape))
    for i in reversed(range(tau.shape[-1])):
        v = V[..., :, i : i + 1]
        t = tau[..., i : i + 1].unsqueeze(-1)
        Q = Q - v @ (t * (v.mT @ Q))
    return Q


def _geqrf(A):
    """``torch.geqrf``: LAPACK's Householder QR (the reflectors below the diagonal of the
    result, R on and above it, and the ``tau``), for a (batch of) real matrices."""
    with no_grad():
        A = A.clone()
        m, n = A.shape[-2], A.shape[-1]
        k = min(m, n)
        tau = A.new_zeros(*A.shape[:-2], k)
        for j in range(k):
            alpha = A[..., j, j]
            x = A[..., j + 1 :, j]
            xnorm = x.norm(dim=-1) if m - j - 1 > 0 else rustgrad.zeros_like(alpha)
            # LAPACK's dlarfg: beta = -sign(alpha) * ||(alpha, x)||; no reflection when x is 0.
            reflect = xnorm != 0
            beta = -rustgrad.copysign(rustgrad.hypot(alpha, xnorm), alpha)
            safe_beta = rustgrad.where(reflect, beta, 1.0)
            tau_j = rustgrad.where(reflect, (beta - alpha) / safe_beta, 0.0)
            scale = rustgrad.where(reflect, 1.0 / rustgrad.where(reflect, alpha - beta, 1.0), 0.0)
            v = x * scale.unsqueeze(-1)
            A[..., j + 1 :, j] = v
            A[..., j, j] = rustgrad.where(reflect, beta, alpha)
            if j + 1 < n:
                vfull = rustgrad.cat([rustgrad.ones_like(alpha).unsqueeze(-1), v], -1)
                vfull = vfull.unsqueeze(-1)
                rest = A[..., j:, j + 1 :]
                A[..., j:, j + 1 :] = rest - vfull @ (tau_j[..., None, None] * (vfull.mT @ rest))
            tau[..., j] = tau_j
        return A, tau


def _is_orthogonal(Q, eps=None):
    n, k = Q.size(-2), Q.size(-1)
    Id = rustgrad.eye(k, dtype=Q.dtype, device=Q.device)
    eps = 10.0 * n * rustgrad.finfo(Q.dtype).eps
    return rustgrad.allclose(Q.mH @ Q, Id, atol=eps)


def _make_orthogonal(A):
    """The Q of ``A = QR`` with ``diag(R)`` non-negative (as PyTorch's, through geqrf)."""
    Q, R = rustgrad.linalg.qr(A)
    return Q * R.diagonal(dim1=-2, dim2=-1).sgn().unsqueeze(-2)


class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


class _Orthogonal(Module):
    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        if weight.is_complex() and orthogonal_map == _OrthMaps.householder:
            raise ValueError("The householder parametrization does not support complex tensors.")
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        n, k = X.size(-2), X.size(-1)
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        # X is tall (n >= k) here.
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            X = X.tril()
            if n != k:
                # Embedded in a square matrix.
                X = rustgrad.cat([X, X.new_zeros(n, n - k).expand(*X.shape[:-2], -1, -1)], dim=-1)
            A = X - X.mH  # skew-symmetric
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                Q = _matrix_exp(A)
            else:
                # The Cayley retraction (I + A/2)(I - A/2)^{-1}.
                Id = rustgrad.eye(n, dtype=A.dtype, device=A.device)
                Q = rustgrad.linalg.solve(
                    rustgrad.add(Id, A, alpha=-0.5), rustgrad.add(Id, A, alpha=0.5)
                )
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            Q = _householder_product(A, tau)
            # The diagonal of X holds the signs (+-1); no gradient flows through it.
            Q = Q * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)

        if hasattr(self, "base"):
            Q = self.base @ Q
        if transposed:
            Q = Q.mT
        return Q

    def right_inverse(self, Q):
        with no_grad():
            if Q.shape != self.shape:
                raise ValueError(
                    f"Expected a matrix or batch of matrices of shape {self.shape}. "
                    f"Got a tensor of shape {Q.shape}."
                )
            Q_init = Q
            n, k = Q.size(-2), Q.size(-1)
            transpose = n < k
            if transpose:
                Q = Q.mT
                n, k = k, n
            if not hasattr(self, "base"):
                if self.orthogonal_map in (_OrthMaps.cayley, _OrthMaps.matrix_exp):
                    raise NotImplementedError(
                        "It is not possible to assign to the matrix exponential or the Cayley "
                        "parametrizations when use_trivialization=False."
                    )
                # Householder: the reflectors of Q's QR, the diagonal holding the signs of R's.
                A, tau = _geqrf(Q)
                A.diagonal(dim1=-2, dim2=-1).sign_()
                # LAPACK leaves tau = 0 where it does not reflect: that column keeps its sign.
                A.diagonal(dim1=-2, dim2=-1)[tau == 0.0] *= -1
                return A.mT if transpose else A
            if n == k:
                Q = Q.clone() if _is_orthogonal(Q) else _make_orthogonal(Q)
            else:
                # Completed into an n x n orthogonal matrix.
                N = rustgrad.randn(
                    *(tuple(Q.shape[:-2]) + (n, n - k)), dtype=Q.dtype, device=Q.device
                )
                Q = _make_orthogonal(rustgrad.cat([Q, N], dim=-1))
            self.base = Q
            # -Id: householder(zeros) is then eye(n, k), as for the other maps.
            neg_Id = rustgrad.zeros_like(Q_init)
            neg_Id.diagonal(dim1=-2, dim2=-1).fill_(-1.0)
            return neg_Id


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Make ``module.<name>`` (a matrix or batch of matrices) orthogonal: orthonormal columns
    (rows when it is wide), through ``"matrix_exp"``, ``"cayley"`` or ``"householder"``
    (default: ``"matrix_exp"`` for square matrices, else ``"householder"``). With
    ``use_trivialization`` the base is kept in ``parametrizations.<name>[0].base``. Returns
    the module."""
    weight = getattr(module, name, None)
    if not isinstance(weight, rustgrad.Tensor):
        raise ValueError(  # noqa: TRY004 (PyTorch's)
            f"Module '{module}' has no parameter or buffer with name '{name}'"
        )
    if weight.ndim < 2:
        raise ValueError(
            f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions."
        )
    if orthogonal_map is None:
        orthogonal_map = (
            "matrix_exp"
            if weight.size(-2) == weight.size(-1) or weight.is_complex()
            else "householder"
        )
    orth_enum = getattr(_OrthMaps, orthogonal_map, None)
    if orth_enum is None:
        raise ValueError(
            'orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
            f"Got: {orthogonal_map}"
        )
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module


class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        if dim is None:
            dim = -1
        self.dim = dim

    def forward(self, weight_g, weight_v):
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        weight_g = norm_except_dim(weight, 2, self.dim)
        weight_v = weight
        return weight_g, weight_v


def weight_norm(module, name="weight", dim=0):
    """Write ``module.<name>`` as ``g * v / ||v||`` (norm over every dim but ``dim``; over all
    when ``dim`` is None), with ``g`` and ``v`` stored as
    ``parametrizations.<name>.original0`` and ``original1``. Returns the module."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def _weight_norm_compat_hook(
        state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
    ):
        # A state dict of the old nn.utils.weight_norm (<name>_g, <name>_v) loads too.
        g_key = f"{prefix}{name}_g"
        v_key = f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            original0 = state_dict.pop(g_key)
            original1 = state_dict.pop(v_key)
            state_dict[f"{prefix}parametrizations.{name}.original0"] = original0
            state_dict[f"{prefix}parametrizations.{name}.original1"] = original1

    module._register_load_state_dict_pre_hook(_weight_norm_compat_hook)
    return module


class _SpectralNorm(Module):
    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] but "
                f"got {dim})"
            )
        if n_power_iterations <= 0:
            raise ValueError(
                "Expected n_power_iterations to be positive, but got "
                f"n_power_iterations={n_power_iterations}"
            )
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            # (A vector is normalised exactly; nothing to estimate.)
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.size()
            with no_grad():
                u = weight_mat.new_empty(h).normal_(0, 1)
                v = weight_mat.new_empty(w).normal_(0, 1)
                self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
                self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
            # Start from reasonable singular vectors.
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight):
        if weight.ndim <= 1:
            raise AssertionError(
                f"Expected weight to have more than 1 dimension, got {weight.ndim}"
            )
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.dim()) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, weight_mat, n_power_iterations):
        # u and v are updated in place (the buffers keep their identity).
        with no_grad():
            for _ in range(n_power_iterations):
                self._u = F.normalize(
                    rustgrad.mv(weight_mat, self._v), dim=0, eps=self.eps, out=self._u
                )
                self._v = F.normalize(
                    rustgrad.mv(weight_mat.H, self._u), dim=0, eps=self.eps, out=self._v
                )

    def forward(self, weight):
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        # Clones: a later in-place update must not change what this graph saved.
        u = self._u.clone()
        v = self._v.clone()
        sigma = rustgrad.vdot(u, rustgrad.mv(weight_mat, v))
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divide ``module.<name>`` by its spectral norm, estimated by ``n_power_iterations`` of
    the power method at each access in training mode (``u``, ``v`` kept as buffers of
    ``parametrizations.<name>[0]``). ``dim`` (the output dim) defaults to 0, 1 for the
    transposed convolutions. Returns the module."""
    weight = getattr(module, name, None)
    if not isinstance(weight, rustgrad.Tensor):
        raise ValueError(  # noqa: TRY004 (PyTorch's)
            f"Module '{module}' has no parameter or buffer with name '{name}'"
        )
    if dim is None:
        dim = 1 if _is_conv_transpose(module) else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps)
    )
    return module
