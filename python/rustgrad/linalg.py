"""``torch.linalg``: norms, products and the matrix decompositions, differentiable.

Two kinds of functions, as in ``_ops``:

- composites of the core's differentiable ops (``cross``, ``vecdot``, ``vector_norm``,
  ``matrix_norm`` but ``'nuc'``/2, ``multi_dot``, ``matrix_power``, ``diagonal``): their
  nodes are those of the ops they are made of;
- factorisations (``inv``, ``det``, ``slogdet``, ``solve``, ``cholesky``, ``qr``, ``eigh``,
  ``svd``): the forward runs LAPACK on the host through NumPy (a CUDA tensor makes the round
  trip), the backward is PyTorch's formula (``FunctionsManual.cpp``) written with
  differentiable ops, so second and higher derivatives hold too. Their nodes are named as
  PyTorch's, without its trailing ``0``.

Floating inputs only (float32, float64), with batches of matrices in the leading dims.
"""

from __future__ import annotations

import builtins as _builtins
import math as _math
import warnings as _warnings

import numpy as _np

import rustgrad as _rg
from rustgrad import _core, _native, _ops, _saved
from rustgrad._core import Tensor
from rustgrad._native import sum_to
from rustgrad.autograd import Function as _Function

__all__ = [
    "LinAlgError",
    "cholesky",
    "cholesky_ex",
    "cond",
    "cross",
    "det",
    "diagonal",
    "eigh",
    "eigvalsh",
    "inv",
    "inv_ex",
    "matmul",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "multi_dot",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "solve_ex",
    "solve_triangular",
    "svd",
    "svdvals",
    "vecdot",
    "vector_norm",
]


class LinAlgError(RuntimeError):
    """A factorisation failed (a singular or not positive-definite input), as
    ``torch.linalg.LinAlgError``."""


# ----- checks and host round trips ------------------------------------------------------------


def _type_name(t: Tensor) -> str:
    from rustgrad._math import _SCALAR_NAME

    return _SCALAR_NAME[t.dtype]


def _floating(A: Tensor, name: str) -> None:
    if not A.is_floating_point():
        raise RuntimeError(
            f"{name}: Expected a floating point or complex tensor as input. Got {_type_name(A)}"
        )
    if A.dtype not in (_core.float32, _core.float64):
        raise RuntimeError(f"{name}: Low precision dtypes not supported. Got {_type_name(A)}")


def _matrices(A: Tensor, name: str, square: bool = True) -> None:
    """PyTorch's checks of a (batch of) matrix input."""
    _floating(A, name)
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(
            f"{name}: A must be batches of square matrices, but they are "
            f"{A.shape[-2]} by {A.shape[-1]} matrices"
        )


def _host(t: Tensor) -> _np.ndarray:
    if t.is_meta:
        # No values: identity matrices stand in (every factorisation takes them), so that the
        # results get their shapes and land on the meta device.
        if t.ndim < 2:
            return _np.zeros(tuple(t.shape), _host_dtype(t))
        eye = _np.eye(t.shape[-2], t.shape[-1], dtype=_host_dtype(t))
        return _np.broadcast_to(eye, tuple(t.shape)).copy()
    return t.detach().cpu().numpy()


def _like(a, t: Tensor) -> Tensor:
    """The array ``a`` as a tensor of ``t``'s dtype on ``t``'s device."""
    out = _rg.from_numpy(_np.array(a, dtype=_host_dtype(t), order="C"))
    return out if t.device.type == "cpu" else out.to(t.device)


def _like_column_major(a, t: Tensor) -> Tensor:
    """:func:`_like` with each matrix laid out column by column."""
    a = _np.swapaxes(_np.array(_np.swapaxes(a, -1, -2), dtype=_host_dtype(t), order="C"), -1, -2)
    out = _rg.from_numpy(a)
    return out if t.device.type == "cpu" else out.to(t.device)


def _host_dtype(t: Tensor):
    return _np.float64 if t.dtype == _core.float64 else _np.float32


def _batch_prefix(a: _np.ndarray, index: int) -> str:
    """``(Batch element k): `` for a batch, as PyTorch's messages."""
    if a.ndim <= 2:
        return ""
    return f"(Batch element {index}): "


def _first_zero_pivot(m: _np.ndarray) -> int:
    """The 1-based column where LU with partial pivoting (LAPACK's getrf) meets a zero pivot,
    0 when none does."""
    u = m.astype(_np.float64, copy=True)
    n = u.shape[0]
    for k in range(n):
        p = k + int(_np.argmax(_np.abs(u[k:, k])))
        if u[p, k] == 0:
            return k + 1
        u[[k, p]] = u[[p, k]]
        u[k + 1 :, k:] -= _np.outer(u[k + 1 :, k] / u[k, k], u[k, k:])
    return 0


def _singular(a: _np.ndarray, name: str, what: str) -> None:
    """Raises PyTorch's LinAlgError for the first singular matrix of the batch ``a``."""
    flat = a.reshape(-1, a.shape[-2], a.shape[-1])
    for i, m in enumerate(flat):
        k = _first_zero_pivot(m)
        if k:
            raise LinAlgError(
                f"{name}: {_batch_prefix(a, i)}The diagonal element {k} is zero, the {what} "
                "could not be completed because the input matrix is singular."
            )


def _eye_like(A: Tensor) -> Tensor:
    n = A.shape[-1]
    return _rg.eye(n, dtype=A.dtype, device=A.device)


def _diag(A: Tensor) -> Tensor:
    return A.diagonal(0, -2, -1)


def _mT(A: Tensor) -> Tensor:
    return A.transpose(-2, -1)


def _column_major(X: Tensor) -> Tensor:
    """``X`` laid out column by column, as LAPACK writes PyTorch's results (so ``view`` of them
    fails or aliases as there)."""
    return _mT(_mT(X).contiguous())


# ----- factorisations (host LAPACK forward, PyTorch's backward formulas) ----------------------


class LinalgInvEx(_Function):
    @staticmethod
    def forward(ctx, A):
        a = _host(A)
        try:
            x = _np.linalg.inv(a)
        except _np.linalg.LinAlgError:
            _singular(a, "linalg.inv", "inversion")
            raise
        X = _column_major(_like(x, A))
        ctx.save_for_backward(X)
        return X

    @staticmethod
    def backward(ctx, g):
        (X,) = ctx.saved_tensors
        # d(A^-1) = -A^-1 dA A^-1, so gA = -X^H g X^H
        Xh = _mT(X)
        return -(Xh @ g @ Xh)


def inv(A: Tensor) -> Tensor:
    """The inverse of each square matrix of ``A``; ``LinAlgError`` when one is singular."""
    _matrices(A, "linalg.inv")
    if A.numel() == 0:
        return _saved.saving("LinalgInvExBackward0", A.clone(), A)
    return LinalgInvEx.apply(A)


def inv_ex(A: Tensor, *, check_errors: bool = False):
    """``(inverse, info)``: ``info`` is 0 per matrix, or the singular pivot's 1-based column
    (then the inverse holds no meaningful values) unless ``check_errors``."""
    from rustgrad import return_types

    _matrices(A, "linalg.inv_ex")
    a = _host(A)
    flat = a.reshape(-1, a.shape[-2], a.shape[-1]) if a.size else a.reshape(0, 0, 0)
    info = _np.array([_first_zero_pivot(m) for m in flat], dtype=_np.int64)
    if check_errors and info.any():
        _singular(a, "linalg.inv_ex", "inversion")
    info = info.reshape(a.shape[:-2])
    if info.any():
        out = _like(_np.full(a.shape, _np.nan), A)
    else:
        out = inv(A)
    return return_types.linalg_inv_ex(out, _rg.from_numpy(info).to(A.device))


def _det_grad(A: Tensor, d: Tensor, g: Tensor) -> Tensor:
    """``g * adj(A)^T``: ``g * det * A^-T`` where A is invertible, else the cofactors."""
    a = _host(A)
    if _np.all(_np.isfinite(a)) and all(
        _first_zero_pivot(m) == 0 for m in a.reshape(-1, a.shape[-2], a.shape[-1])
    ):
        return (g * d).unsqueeze(-1).unsqueeze(-1) * _mT(inv(A))
    return g.unsqueeze(-1).unsqueeze(-1) * _cofactors(A)


def _cofactors(A: Tensor) -> Tensor:
    """The cofactor matrix (the adjugate's transpose) from minors: exact at singular
    matrices, where ``det * A^-T`` is undefined (n^2 determinants of size n-1)."""
    n = A.shape[-1]
    if n == 1:
        return _rg.ones_like(A)
    rows = []
    for i in range(n):
        keep_r = [r for r in range(n) if r != i]
        row = []
        for j in range(n):
            keep_c = [c for c in range(n) if c != j]
            rows_i = _rg.tensor(keep_r, device=A.device)
            cols_j = _rg.tensor(keep_c, device=A.device)
            minor = A.index_select(-2, rows_i).index_select(-1, cols_j)
            row.append(det(minor) * (-1.0 if (i + j) % 2 else 1.0))
        rows.append(_rg.stack(row, -1))
    return _rg.stack(rows, -2)


class LinalgDet(_Function):
    @staticmethod
    def forward(ctx, A):
        D = _like(_np.linalg.det(_host(A)), A)
        ctx.save_for_backward(A, D)
        return D

    @staticmethod
    def backward(ctx, g):
        A, D = ctx.saved_tensors
        return _det_grad(A, D, g)


def det(A: Tensor) -> Tensor:
    """The determinant of each square matrix of ``A``."""
    _matrices(A, "linalg.det")
    if A.shape[-1] == 0:
        return _rg.ones(A.shape[:-2], dtype=A.dtype, device=A.device) + A.sum((-2, -1)) * 0
    return LinalgDet.apply(A)


class LinalgSlogdet(_Function):
    @staticmethod
    def forward(ctx, A):
        sign, logabs = _np.linalg.slogdet(_host(A))
        ctx.save_for_backward(A)
        # (As in PyTorch the sign has a node too, whose gradient is 0.)
        return _like(sign, A), _like(logabs, A)

    @staticmethod
    def backward(ctx, g_sign, g_logabs):
        (A,) = ctx.saved_tensors
        # d log|det A| = tr(A^-1 dA)
        return g_logabs.unsqueeze(-1).unsqueeze(-1) * _mT(inv(A))


def slogdet(A: Tensor):
    """``(sign, logabsdet)`` of each square matrix (sign 0 and -inf when singular)."""
    from rustgrad import return_types

    _matrices(A, "linalg.slogdet")
    sign, logabs = LinalgSlogdet.apply(A)
    return _saved.saving("LinalgSlogdetBackward0", return_types.linalg_slogdet(sign, logabs), A)


def _solve_shapes(A: Tensor, B: Tensor, left: bool, name: str):
    """PyTorch's rule: ``B`` is a (batch of) vector(s) when it is 1-D, or has one dim fewer
    than ``A`` and matches ``A``'s leading dims; the batch dims broadcast."""
    _matrices(A, name)
    _floating(B, name)
    if A.dtype != B.dtype:
        raise RuntimeError(
            f"{name}: Expected A and B to have the same dtype, but found A of type "
            f"{_type_name(A)} and B of type {_type_name(B)} instead."
        )
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    if vector:
        if not left:
            raise RuntimeError(f"{name}: Vector broadcasting of the left hand side is not supported for left=False. In this case linalg.solve is equivalent to B / A.squeeze(-1)")  # fmt: skip
        B = B.unsqueeze(-1)
    n = A.shape[-1]
    k = B.shape[-2] if left else B.shape[-1]
    if k != n:
        raise RuntimeError(
            f"{name}: Incompatible shapes of A and B for the equation "
            f"{'AX = B' if left else 'XA = B'} ({A.shape[-2]}x{n} and "
            f"{B.shape[-2]}x{B.shape[-1]})"
        )
    return B, vector


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """``X`` with ``A @ X = B`` (``X @ A = B`` when ``left=False``); ``LinAlgError`` when
    ``A`` is singular. Batch dims broadcast; a vector ``B`` gives a vector."""
    B2, vector = _solve_shapes(A, B, left, "linalg.solve")
    if not left:
        return _mT(solve(_mT(A), _mT(B2)))
    X = _LinalgSolve.apply(A, B2)
    return X.squeeze(-1) if vector else X


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False):
    """``(result, info)`` of ``solve`` (``info`` 0 per matrix, else the singular pivot)."""
    from rustgrad import return_types

    info = inv_ex(A, check_errors=check_errors).info
    if info.any():
        _, vector = _solve_shapes(A, B, left, "linalg.solve_ex")
        shape = _np.broadcast_shapes(
            tuple(A.shape[:-2]), tuple(B.shape[: B.ndim - (1 if vector else 2)])
        )
        tail = (A.shape[-1],) if vector else tuple(B.shape[-2:])
        return return_types.linalg_solve_ex(_like(_np.full(shape + tail, _np.nan), A), info)
    return return_types.linalg_solve_ex(solve(A, B, left=left), info)


class _LinalgSolve(_Function):
    @staticmethod
    def forward(ctx, A, B):
        a, b = _host(A), _host(B)
        batch = _np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        a = _np.broadcast_to(a, batch + a.shape[-2:])
        b = _np.broadcast_to(b, batch + b.shape[-2:])
        try:
            x = _np.linalg.solve(a, b)
        except _np.linalg.LinAlgError:
            _singular(a, "linalg.solve", "solve")
            raise
        # Column-major matrices, as LAPACK leaves PyTorch's result.
        X = _like_column_major(x, A)
        ctx.save_for_backward(A, X)
        ctx.shapes = (tuple(A.shape), tuple(B.shape))
        return X

    @staticmethod
    def backward(ctx, g):
        A, X = ctx.saved_tensors
        a_shape, b_shape = ctx.shapes
        gB = solve(_mT(A), g)  # A^-H g
        gA = -(gB @ _mT(X))
        return sum_to(gA, a_shape), sum_to(gB, b_shape)


def solve_triangular(
    A: Tensor, B: Tensor, *, upper: bool, left: bool = True, unitriangular: bool = False
) -> Tensor:
    """``X`` with ``A @ X = B`` for a triangular ``A`` (only its ``upper`` or lower triangle
    is read; ones on its diagonal with ``unitriangular``)."""
    _matrices(A, "linalg.solve_triangular")
    T = A.triu() if upper else A.tril()
    if unitriangular:
        T = T - _ops.diag_embed(_diag(T)) + _eye_like(A)
    if left:
        return solve(T, B)
    return solve(T, B, left=False)


class LinalgCholeskyEx(_Function):
    @staticmethod
    def forward(ctx, A):
        a = _host(A)
        try:
            lo = _np.linalg.cholesky(a)
        except _np.linalg.LinAlgError:
            flat = a.reshape(-1, a.shape[-2], a.shape[-1])
            for i, m in enumerate(flat):
                order = _not_positive_definite(m)
                if order:
                    raise LinAlgError(
                        f"linalg.cholesky: {_batch_prefix(a, i)}The factorization could not be "
                        f"completed because the input is not positive-definite (the leading "
                        f"minor of order {order} is not positive-definite)."
                    ) from None
            raise
        L = _like(lo, A)
        ctx.save_for_backward(L)
        return L

    @staticmethod
    def backward(ctx, gL):
        (L,) = ctx.saved_tensors
        # PyTorch's cholesky_backward: gA = L^-H Phi(L^H gL) L^-1, Phi taking the lower
        # triangle with the diagonal halved (then symmetric).
        P = (_mT(L) @ gL).tril()
        P = 0.5 * (P + _mT(P.tril(-1)))
        Linv = inv(L)
        return _mT(Linv) @ P @ Linv


def _not_positive_definite(m: _np.ndarray) -> int:
    """The order of the first leading minor that is not positive-definite, 0 if none."""
    for k in range(1, m.shape[0] + 1):
        try:
            _np.linalg.cholesky(m[:k, :k])
        except _np.linalg.LinAlgError:
            return k
    return 0


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """The Cholesky factor ``L`` (lower, ``A = L L^H``; ``upper`` gives ``L^H``) of each
    symmetric positive-definite matrix; only the lower triangle of ``A`` is read."""
    _matrices(A, "linalg.cholesky")
    if A.numel() == 0:
        return A.clone()
    L = LinalgCholeskyEx.apply(A)
    return _mT(L) if upper else L


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False):
    """``(L, info)``: ``info`` is 0 per matrix, else the order of the failing minor."""
    from rustgrad import return_types

    _matrices(A, "linalg.cholesky_ex")
    a = _host(A)
    flat = a.reshape(-1, a.shape[-2], a.shape[-1]) if a.size else a.reshape(0, 0, 0)
    info = _np.array([_not_positive_definite(m) for m in flat], dtype=_np.int64)
    if info.any():
        if check_errors:
            cholesky(A)  # raises PyTorch's error
        L = _like(_np.full(a.shape, _np.nan), A)
    else:
        L = cholesky(A, upper=upper)
    info_t = _rg.from_numpy(info.reshape(a.shape[:-2])).to(A.device)
    return return_types.linalg_cholesky_ex(L, info_t)


class LinalgQr(_Function):
    @staticmethod
    def forward(ctx, A, mode):
        q, r = _np.linalg.qr(_host(A), mode="complete" if mode == "complete" else "reduced")
        Q, R = _like(q, A), _like(r, A)
        ctx.save_for_backward(Q, R)
        ctx.mode = mode
        return Q, R

    @staticmethod
    def backward(ctx, gQ, gR):
        Q, R = ctx.saved_tensors
        m, n = Q.shape[-2], R.shape[-1]
        if ctx.mode == "complete" and m > n:
            raise RuntimeError(
                "The QR decomposition is not differentiable when mode='complete' and nrows > ncols."
            )
        if m < n:
            raise NotImplementedError(
                "rustgrad: the derivative of linalg.qr for wide matrices (rows < columns)"
            )
        # m >= n: gA = (gQ + Q copyltu(M)) R^-H with M = R gR^H - gQ^H Q
        M = R @ _mT(gR) - _mT(gQ) @ Q
        sym = M.tril(-1)
        M = sym + _mT(sym) + _ops.diag_embed(_diag(M))
        return (gQ + Q @ M) @ _mT(inv(R)), None


def qr(A: Tensor, mode: str = "reduced"):
    """``(Q, R)`` with ``A = Q R``: ``mode`` ``'reduced'``, ``'complete'`` or ``'r'``
    (then Q is empty)."""
    from rustgrad import return_types

    _matrices(A, "linalg.qr", square=False)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(
            f"qr received unrecognized mode '{mode}' but expected one of 'reduced' "
            "(default), 'r', or 'complete'"
        )
    Q, R = LinalgQr.apply(A, mode)
    if mode == "r":
        Q = _rg.zeros(0, dtype=A.dtype, device=A.device)
    return return_types.linalg_qr(Q, R)


class LinalgEigh(_Function):
    @staticmethod
    def forward(ctx, A, uplo):
        w, v = _np.linalg.eigh(_host(A), UPLO=uplo)
        L, V = _like(w, A), _like(v, A)
        ctx.save_for_backward(L, V)
        return L, V

    @staticmethod
    def backward(ctx, gL, gV):
        L, V = ctx.saved_tensors
        # PyTorch's linalg_eig_backward for Hermitian input.
        VhgV = _mT(V) @ gV
        VhgV = 0.5 * (VhgV - _mT(VhgV))
        E = L.unsqueeze(-2) - L.unsqueeze(-1)
        E = E + _eye_like(V)  # the diagonal of VhgV is 0: any nonzero divisor
        inner = VhgV / E + _ops.diag_embed(gL)
        return V @ inner @ _mT(V), None


def eigh(A: Tensor, UPLO: str = "L"):
    """``(eigenvalues, eigenvectors)`` of each symmetric matrix, eigenvalues ascending;
    only the ``UPLO`` triangle is read."""
    from rustgrad import return_types

    _matrices(A, "linalg.eigh")
    if UPLO not in ("L", "U"):
        raise RuntimeError("Expected UPLO argument to be 'L' or 'U', but got " + str(UPLO))
    L, V = LinalgEigh.apply(A, UPLO)
    return return_types.linalg_eigh(L, V)


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """The eigenvalues of each symmetric matrix, ascending."""
    _matrices(A, "linalg.eigvalsh")
    return eigh(A, UPLO).eigenvalues


class LinalgSvd(_Function):
    @staticmethod
    def forward(ctx, A, full_matrices):
        u, s, vh = _np.linalg.svd(_host(A), full_matrices=full_matrices)
        U, S, Vh = _like(u, A), _like(s, A), _like(vh, A)
        ctx.save_for_backward(U, S, Vh)
        ctx.full = full_matrices
        return U, S, Vh

    @staticmethod
    def backward(ctx, gU, gS, gVh):
        U, S, Vh = ctx.saved_tensors
        m, n = U.shape[-2], Vh.shape[-1]
        if ctx.full and m != n:
            raise RuntimeError(
                "torch.linalg.svd: The derivative of U or V is not implemented when "
                "full_matrices=True. Use full_matrices=False."
            )
        return _svd_backward(gU, gS, gVh, U, S, Vh), None


# PyTorch's node names for the factorisations (a Function's node is otherwise ``<Class>Backward``)
for _cls, _node in (
    (LinalgInvEx, "LinalgInvExBackward0"),
    (LinalgDet, "LinalgDetBackward0"),
    (LinalgSlogdet, "LinalgSlogdetBackward0"),
    (_LinalgSolve, "LinalgSolveExBackward0"),
    (LinalgCholeskyEx, "LinalgCholeskyExBackward0"),
    (LinalgQr, "LinalgQrBackward0"),
    (LinalgEigh, "LinalgEighBackward0"),
    (LinalgSvd, "LinalgSvdBackward0"),
):
    _cls._backward_name = _node
del _cls, _node


def _svd_backward(gU, gS, gVh, U, S, Vh):
    """PyTorch's ``svd_backward`` (real case) for the reduced SVD."""
    m, n, k = U.shape[-2], Vh.shape[-1], S.shape[-1]
    V = _mT(Vh)
    gV = _mT(gVh)
    UhgU = _mT(U) @ gU
    UhgU = UhgU - _mT(UhgU)
    VhgV = Vh @ gV
    VhgV = VhgV - _mT(VhgV)
    S2 = S * S
    E = S2.unsqueeze(-2) - S2.unsqueeze(-1)
    E = E + _rg.eye(k, dtype=S.dtype, device=S.device)
    gA = (UhgU * S.unsqueeze(-2) + S.unsqueeze(-1) * VhgV) / E + _ops.diag_embed(gS)
    if m > k:
        gA = U @ gA
        gUSinv = gU / S.unsqueeze(-2)
        gA = gA + gUSinv - U @ (_mT(U) @ gUSinv)
        return gA @ Vh
    if n > k:
        gA = gA @ Vh
        gVSinv = gV / S.unsqueeze(-2)
        gA = gA + _mT(gVSinv - V @ (Vh @ gVSinv))
        return U @ gA
    return U @ gA @ Vh


def svd(A: Tensor, full_matrices: bool = True):
    """``(U, S, Vh)`` with ``A = U diag(S) Vh``, singular values descending."""
    from rustgrad import return_types

    _matrices(A, "linalg.svd", square=False)
    U, S, Vh = LinalgSvd.apply(A, bool(full_matrices))
    return return_types.linalg_svd(U, S, Vh)


def svdvals(A: Tensor) -> Tensor:
    """The singular values of each matrix, descending."""
    _matrices(A, "linalg.svdvals", square=False)
    return LinalgSvd.apply(A, False)[1]


def pinv(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False) -> Tensor:
    """The Moore-Penrose pseudo-inverse, through the SVD: singular values at most
    ``max(atol, rtol * largest)`` count as zero (``rtol`` defaults to ``eps * max(m, n)``
    when neither is given)."""
    _matrices(A, "linalg.pinv", square=False)
    U, S, Vh = svd(A, full_matrices=False)
    cut = _tolerance(A, S, atol, rtol)
    keep = S > cut
    Sinv = _rg.where(keep, 1.0 / _rg.where(keep, S, _rg.ones_like(S)), _rg.zeros_like(S))
    return _saved.saving("LinalgPinvBackward0", _mT(Vh) @ (Sinv.unsqueeze(-1) * _mT(U)), A)


def _tolerance(A: Tensor, S: Tensor, atol, rtol) -> Tensor:
    eps = _np.finfo(_host_dtype(A)).eps
    if rtol is None:
        rtol = eps * _builtins.max(A.shape[-2], A.shape[-1]) if atol is None or atol == 0 else 0.0
    largest = S.detach().amax(-1, keepdim=True) if S.shape[-1] else S.detach().sum(-1, keepdim=True)
    cut = largest * rtol
    if atol is not None:
        cut = _rg.maximum(cut, _rg.full_like(cut, float(atol)))
    return cut


def matrix_rank(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False) -> Tensor:
    """The number of singular values above the tolerance of ``pinv`` (int64)."""
    _matrices(A, "linalg.matrix_rank", square=False)
    S = svdvals(A.detach())
    return (S > _tolerance(A, S, atol, rtol)).sum(-1)


def cond(A: Tensor, p=None) -> Tensor:
    """The condition number in the ``p`` norm (2 by default: largest over smallest singular
    value; other orders as ``matrix_norm(A) * matrix_norm(inv(A))``)."""
    _matrices(A, "linalg.cond", square=p not in (None, 2, -2))
    if p in (None, 2, -2):
        S = svdvals(A)
        r = S[..., 0] / S[..., -1]
        return 1.0 / r if p == -2 else r
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


# ----- composites ------------------------------------------------------------------------------


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (the batch dims broadcast)."""
    if input.dtype == other.dtype == _core.bool_:
        raise NotImplementedError("\"cross\" not implemented for 'Bool'")
    _ops._same_dtypes((input, other))
    if input.ndim != other.ndim:
        raise RuntimeError(
            f"linalg.cross: inputs must have the same number of dimensions. Got "
            f"{input.ndim} and {other.ndim}"
        )
    d = _ops._wrap(dim, input.ndim)
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(
            f"linalg.cross: inputs dimension {dim} must have length 3. Got "
            f"{input.shape[d]} and {other.shape[d]}"
        )
    shape = _rg.broadcast_shapes(input.shape, other.shape)
    a, b = input.expand(shape), other.expand(shape)
    a0, a1, a2 = (_ops.select(a, d, i) for i in range(3))
    b0, b1, b2 = (_ops.select(b, d, i) for i in range(3))
    return _rg.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], d)


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """The dot product along ``dim`` (the other dims broadcast)."""
    return (x * y).sum(dim)


def vector_norm(x: Tensor, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The ``ord``-norm of the vectors along ``dim`` (all elements when None)."""
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord}")  # noqa: TRY004 (PyTorch's type)
    return _ops.norm(x, ord, dim, keepdim, dtype)


def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None):
    """The ``ord``-norm of the matrices in ``dim``: ``'fro'``, ``'nuc'``, 1, -1 (column
    sums), inf, -inf (row sums), 2, -2 (singular values)."""
    _floating(A, "linalg.matrix_norm")
    if A.ndim < 2:
        raise RuntimeError(
            "linalg.matrix_norm: The input tensor A must have at least 2 dimensions."
        )
    if dtype is not None:
        A = A.to(dtype)
    d0, d1 = (_ops._wrap(d, A.ndim) for d in dim)
    if ord == "fro":
        return _ops.norm(A, 2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        M = A.movedim((d0, d1), (-2, -1))
        S = svdvals(M)
        if ord == -2 and S.shape[-1] == 0:
            raise IndexError("amin(): Expected reduction dim -1 to have non-zero size.")
        # (the largest of no singular values is 0, as a sum: norms are never negative)
        empty = S.shape[-1] == 0
        r = S.sum(-1) if ord == "nuc" or empty else (S.amax(-1) if ord == 2 else S.amin(-1))
        if keepdim:
            for d in sorted((d0, d1)):
                r = r.unsqueeze(d)
        return r
    if ord in (1, -1, _math.inf, -_math.inf):
        # 1: largest column sum (sum over rows); inf: largest row sum.
        over, then = (d0, d1) if ord in (1, -1) else (d1, d0)
        sums = A.abs().sum(over, keepdim=True)
        if sums.shape[then] == 0 and ord < 0:
            # (PyTorch's words number the dim after the first sum dropped its dim)
            dim = then - (over < then)
            raise IndexError(f"amin(): Expected reduction dim {dim} to have non-zero size.")
        # (the largest of no sums is 0, as a sum: norms are never negative)
        reduce = sums.sum if sums.shape[then] == 0 else sums.amax if ord > 0 else sums.amin
        r = reduce(then, keepdim=True)
        return r if keepdim else r.squeeze(_builtins.max(d0, d1)).squeeze(_builtins.min(d0, d1))
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


def norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """``vector_norm`` or ``matrix_norm`` as PyTorch picks: a matrix norm when ``ord`` is a
    string or ``dim`` names two dims (or ``A`` is 2-D with ``ord`` given and no ``dim``)."""
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None and len(dim) == 2 or (dim is None and ord is not None and A.ndim == 2):
        return matrix_norm(A, "fro" if ord is None else ord, dim or (-2, -1), keepdim, dtype=dtype)
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {A.ndim}D.")  # noqa: TRY004  # fmt: skip
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


def multi_dot(tensors) -> Tensor:
    """The product of a chain of matrices (the first may be a vector, as may the last)."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    if len(tensors) == 2 or any(t.ndim != 2 for t in tensors[1:-1]):
        out = tensors[0]
        for t in tensors[1:]:
            out = out @ t
        return out
    # PyTorch's order of the products (which decides the roundings and what is saved): the
    # cheaper of the two for three matrices, else the matrix chain order (first minimum)
    row, col = tensors[0].ndim == 1, tensors[-1].ndim == 1
    ms = [tensors[0].unsqueeze(0) if row else tensors[0], *tensors[1:-1]]
    ms.append(tensors[-1].unsqueeze(-1) if col else tensors[-1])
    dims = [ms[0].shape[0], *(m.shape[1] for m in ms)]
    n = len(ms)
    if n == 3:
        a, b, c, d = dims
        out = ms[0] @ (ms[1] @ ms[2]) if (a * c) * (b + d) > (b * d) * (a + c) else (ms[0] @ ms[1]) @ ms[2]  # fmt: skip
    else:
        cost = [[0] * n for _ in range(n)]
        split = [[0] * n for _ in range(n)]
        for length in range(1, n):
            for i in range(n - length):
                j = i + length
                cost[i][j] = None
                for k in range(i, j):
                    q = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                    if cost[i][j] is None or q < cost[i][j]:
                        cost[i][j], split[i][j] = q, k

        def product(i, j):
            if i == j:
                return ms[i]
            return product(i, split[i][j]) @ product(split[i][j] + 1, j)

        out = product(0, n - 1)
    if row:
        out = out.squeeze(0)
    if col:
        out = out.squeeze(-1)
    return out


def matrix_power(A: Tensor, n: int) -> Tensor:
    """``A`` multiplied by itself ``n`` times (by squaring; the inverse's power for n < 0,
    the identity for 0)."""
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_power: The input tensor A must have at least 2 dimensions.")  # fmt: skip
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(
            f"linalg.matrix_power: A must be batches of square matrices, but they are "
            f"{A.shape[-2]} by {A.shape[-1]} matrices"
        )
    if n == 0:
        # the identity copied into a tensor like A: on the graph with a constant zero
        # gradient (PyTorch's CopyBackwards)
        shape, dtype, device = tuple(A.shape), A.dtype, A.device
        eye = _rg.eye(shape[-1], dtype=dtype, device=device)
        return _native.record(
            "CopyBackwards",
            [A],
            lambda: eye.expand(shape).clone(),
            [],
            lambda grad: (_rg.zeros(shape, dtype=dtype, device=device),),
        )
    given = A
    if n < 0:
        _floating(A, "linalg.inv")
        A, n = inv(A), -n
    result, base = None, A
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    # (a new tensor for n = 1, as PyTorch's clone)
    return result.clone() if result is given else result


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """``input @ other``."""
    return input @ other


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The diagonals of the matrices in ``dim1``, ``dim2`` (a view)."""
    return A.diagonal(offset, dim1, dim2)


def _torch_cross(input: Tensor, other: Tensor, dim=None) -> Tensor:
    """``torch.cross``: ``linalg.cross`` whose default ``dim`` is the first of size 3 (with
    PyTorch's deprecation warning)."""
    if dim is None:
        _warnings.warn(
            "Using torch.cross without specifying the dim arg is deprecated.\n"
            "Please either pass the dim explicitly or simply use torch.linalg.cross.\n"
            "The default value of dim will change to agree with that of linalg.cross in a "
            "future release.",
            UserWarning,
            stacklevel=2,
        )
        shape = _rg.broadcast_shapes(input.shape, other.shape)
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    return cross(input, other, dim=dim)
