"""``torch.distributions.utils``: broadcasting of parameters, probabilities <-> logits, and
the lazily computed attribute that holds one parametrisation derived from the other."""

from __future__ import annotations

import functools

import rustgrad as _rg
from rustgrad._core import Tensor
from rustgrad._size import Size

__all__ = [
    "broadcast_all",
    "clamp_probs",
    "lazy_property",
    "logits_to_probs",
    "probs_to_logits",
    "tril_matrix_to_vec",
    "vec_to_tril_matrix",
]

euler_constant = 0.57721566490153286060  # the Euler-Mascheroni constant

# The default sample shape: one empty Size shared by every signature.
_EMPTY = Size()

# PyTorch's ``torch.types._Number``: what broadcast_all takes besides tensors.
_Number = (int, float, bool)


def broadcast_all(*values):
    """The values broadcast to one shape, numbers made tensors: of the first tensor's dtype
    and device, or of the default dtype when all are numbers."""
    if not all(isinstance(v, (Tensor, *_Number)) for v in values):
        raise ValueError(
            "Input arguments must all be instances of Number, "
            "torch.Tensor or objects implementing __torch_function__."
        )
    if not all(isinstance(v, Tensor) for v in values):
        first = next((v for v in values if isinstance(v, Tensor)), None)
        if first is None:
            options = {"dtype": _rg.get_default_dtype()}
        else:
            options = {"dtype": first.dtype, "device": first.device}
        values = tuple(v if isinstance(v, Tensor) else _rg.tensor(v, **options) for v in values)
    # PyTorch's broadcast_tensors hands back a tensor already of the broadcast shape as it is
    # (the same object: a leaf stays a leaf, and ``Normal(loc, s).loc is loc``);
    # rustgrad.broadcast_tensors expands every input, so only the others go through it.
    shape = tuple(_rg.broadcast_shapes(*(tuple(v.shape) for v in values)))
    return tuple(v if tuple(v.shape) == shape else v.expand(shape) for v in values)


def _standard_normal(shape, dtype, device) -> Tensor:
    """Standard normal draws of ``shape`` from rustgrad's stream."""
    return _rg.empty(tuple(shape), dtype=dtype, device=device).normal_()


def _sum_rightmost(value, dim: int):
    """``value`` summed over its ``dim`` rightmost dims."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:-dim]) + (-1,)).sum(-1)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """Probabilities from logits: the sigmoid of log-odds (``is_binary``), else the softmax
    of the last dim."""
    if is_binary:
        return _rg.sigmoid(logits)
    return _rg.nn.functional.softmax(logits, dim=-1)


def clamp_probs(probs: Tensor) -> Tensor:
    """``probs`` clamped to ``[eps, 1 - eps]`` (``eps`` of its dtype), away from 0 and 1."""
    eps = _rg.finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """Logits from probabilities: log-odds (``is_binary``), else log-probabilities."""
    clamped = clamp_probs(probs)
    if is_binary:
        return _rg.log(clamped) - _rg.log1p(-clamped)
    return _rg.log(clamped)


class lazy_property:
    """A method computed on first access (with gradients enabled) and then stored on the
    instance in its place: how a distribution keeps ``probs`` derived from ``logits``."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        functools.update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            # On the class: something that is both a lazy_property (which Distribution's
            # validation skips) and a property (which documentation tools read).
            return _lazy_property_and_property(self.wrapped)
        with _rg.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _lazy_property_and_property(lazy_property, property):
    """A lazy_property seen on its class."""

    def __init__(self, wrapped):
        property.__init__(self, wrapped)


def _tril_mask(n: int, diag: int, device):
    arange = _rg.arange(n, device=device)
    return arange < arange.view(-1, 1) + (diag + 1)


def tril_matrix_to_vec(mat: Tensor, diag: int = 0) -> Tensor:
    """The lower triangle (below diagonal ``diag``) of each matrix, row by row."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    return mat[..., _tril_mask(n, diag, mat.device)]


def vec_to_tril_matrix(vec: Tensor, diag: int = 0) -> Tensor:
    """The inverse of :func:`tril_matrix_to_vec`: square matrices, zero above the triangle."""
    # n is the positive root of n**2 + (1 + 2 diag) n - |diag| (diag + 1) - 2 len = 0
    b = 1 + 2 * diag
    n = (-b + (b**2 + 8 * vec.shape[-1] + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    if round(n) - n > _rg.finfo(vec.dtype).eps:
        raise ValueError(
            f"The size of last dimension is {vec.shape[-1]} which cannot be expressed as "
            "the lower triangular part of a square D x D matrix."
        )
    n = round(n)
    mat = vec.new_zeros(Size(tuple(vec.shape[:-1]) + (n, n)))
    mat[..., _tril_mask(n, diag, vec.device)] = vec
    return mat
