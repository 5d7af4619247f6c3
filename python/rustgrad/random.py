"""Random sampling, as ``torch.random`` and the samplers of ``torch``: generators and their
state, ``randint``, ``randperm``, ``normal``, ``bernoulli``, ``multinomial``, the ``*_like``
samplers and the in-place samplers of ``Tensor`` (``uniform_``, ``normal_``, ``random_``,
``bernoulli_``, ``exponential_``).

Every sampler here is a composite: its draws come from ``rand``/``randn`` of the Rust core (the
default generator, or the ``generator=`` given, whose state lives in Rust), and the
transformation (floor, search in a cumulative sum, ordering of exponential keys) is done on the
host with NumPy, so one definition serves every device: the result is moved to the device
asked for. The streams are rustgrad's own: the same seed gives the same values, but not
PyTorch's values.
"""

from __future__ import annotations

import builtins
import contextlib
import functools

import numpy as np

from rustgrad import _core
from rustgrad._core import Generator, Tensor, default_generator

__all__ = [
    "Generator",
    "bernoulli",
    "default_generator",
    "fork_rng",
    "get_rng_state",
    "initial_seed",
    "manual_seed",
    "multinomial",
    "normal",
    "rand_like",
    "randint",
    "randint_like",
    "randn_like",
    "randperm",
    "seed",
    "set_rng_state",
]


# ----- the default generator ---------------------------------------------------------------


def manual_seed(seed) -> Generator:
    """Seeds the default CPU generator and every CUDA device's generator; returns the default
    generator (as ``torch.manual_seed``)."""
    default_generator.manual_seed(seed)  # checks the seed; any int in [-2**63, 2**64)
    s = default_generator.initial_seed()
    _core.manual_seed(s - (1 << 64) if s >= 1 << 63 else s)  # the same u64, and CUDA's
    return default_generator


def seed() -> int:
    """Seeds the default generators from a non-deterministic source; returns the seed."""
    s = default_generator.seed()
    _core.manual_seed(s)
    return s


def initial_seed() -> int:
    """The seed the default CPU generator's stream started from."""
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The default CPU generator's state (an int64 tensor; see ``Generator.get_state``)."""
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    """Restores the default CPU generator's state from ``get_rng_state()``."""
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, **kwargs):
    """Restores the default CPU generator's state on exit, and that of the CUDA devices in
    ``devices`` (by default every CUDA device, when CUDA is available), as
    ``torch.random.fork_rng``."""
    if not enabled:
        yield
        return
    from rustgrad import cuda

    if devices is None:
        devices = range(cuda.device_count()) if cuda.is_available() else ()
    devices = [cuda._device_index(d) for d in devices]
    state = get_rng_state()
    device_states = [cuda.get_rng_state(d) for d in devices]
    try:
        yield
    finally:
        set_rng_state(state)
        for d, device_state in zip(devices, device_states):
            cuda.set_rng_state(device_state, d)


# ----- helpers -----------------------------------------------------------------------------


def _shape(size) -> tuple:
    if isinstance(size, int):
        return (size,)
    return tuple(size)


def _draws(shape, generator, device, normal=False) -> np.ndarray:
    """float64 draws of ``shape`` on the host, from ``generator`` (checked against ``device``)
    or the default generator of ``device``."""
    sample = _core.randn if normal else _core.rand
    t = sample(size=shape, generator=generator, dtype=_core.float64, device=device)
    return t.cpu().numpy()


def _device_of(device, like=None):
    if device is not None:
        return device
    return like.device if like is not None else _core._get_default_device()


def _is_meta(device) -> bool:
    """Whether ``device`` (a device, a string or None: the default) is the meta device, whose
    tensors hold no values to draw."""
    device = _core._get_default_device() if device is None else _core.device(device)
    return device.type == "meta"


def _host(t: Tensor) -> np.ndarray:
    return t.detach().cpu().double().numpy()


# ----- samplers ------------------------------------------------------------------------------


def randint(*args, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Integers drawn uniformly from ``[low, high)``: ``randint(high, size)`` or
    ``randint(low, high, size)`` (int64 unless ``dtype`` is given)."""
    if size is None:
        if not args:
            raise TypeError("randint() missing required argument 'size'")
        *args, size = args
    if len(args) == 1:
        low, high = 0, args[0]
    elif len(args) == 2:
        low, high = args
    else:
        raise TypeError(f"randint() takes 1 or 2 bounds and a size, got {len(args)} bounds")
    low, high = int(low), int(high)
    if low >= high:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
        )
    device = _device_of(device)
    if _is_meta(device):
        return _core.zeros(_shape(size), dtype=dtype or _core.int64, device=device)
    u = _draws(_shape(size), generator, device)
    values = low + np.floor(u * (high - low)).astype(np.int64)
    return _core.tensor(
        values, dtype=dtype or _core.int64, device=device, requires_grad=requires_grad
    )


def randint_like(input, *args, dtype=None, device=None, requires_grad=False, generator=None):
    """``randint(low=0, high, input.shape)`` in ``input``'s dtype and device unless given."""
    return randint(
        *args,
        size=input.shape,
        generator=generator,
        dtype=dtype or input.dtype,
        device=_device_of(device, input),
        requires_grad=requires_grad,
    )


def rand_like(input, *, generator=None, dtype=None, device=None, requires_grad=False):
    """``rand`` of ``input``'s shape, dtype and device (unless given)."""
    return _core.rand(
        size=input.shape,
        generator=generator,
        dtype=dtype or input.dtype,
        device=_device_of(device, input),
        requires_grad=requires_grad,
    )


def randn_like(input, *, generator=None, dtype=None, device=None, requires_grad=False):
    """``randn`` of ``input``'s shape, dtype and device (unless given)."""
    return _core.randn(
        size=input.shape,
        generator=generator,
        dtype=dtype or input.dtype,
        device=_device_of(device, input),
        requires_grad=requires_grad,
    )


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of ``0..n`` (int64 unless ``dtype`` is given)."""
    n = int(n)
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got{n}")
    device = _device_of(device)
    if _is_meta(device):
        return _core.zeros(n, dtype=dtype or _core.int64, device=device)
    # The order of n uniform keys is a uniform permutation (ties have probability ~n²/2⁵³).
    perm = np.argsort(_draws((n,), generator, device), kind="stable")
    return _core.tensor(
        perm.astype(np.int64),
        dtype=dtype or _core.int64,
        device=device,
        requires_grad=requires_grad,
    )


def _check_std(std) -> None:
    low = _host(std).min(initial=0.0) if isinstance(std, Tensor) else std
    if low < 0:
        shown = low
        raise RuntimeError(f"normal expects std >= 0.0, but found std {shown:g}")


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False):  # fmt: skip
    """Samples of N(mean, std²), in PyTorch's four forms: ``normal(mean_tensor, std_tensor)``
    (broadcast), ``normal(mean_tensor, std=1.0)``, ``normal(mean, std_tensor)`` and
    ``normal(mean, std, size)`` (floats; the default dtype unless given).

    A tensor ``mean`` or ``std`` makes the result require grad as in PyTorch, with a zero
    gradient (PyTorch's formula: samples are not reparameterised)."""
    _check_std(std)
    tensors = [v for v in (mean, std) if isinstance(v, Tensor)]
    if not tensors:
        if size is None:
            raise TypeError("normal() with float mean and std needs a size")
        device = _device_of(device)
        z = _core.randn(size=_shape(size), generator=generator, dtype=dtype, device=device)
        out = z * builtins.float(std) + builtins.float(mean)
        return out.requires_grad_(requires_grad) if requires_grad else out
    like = tensors[0]
    shape = builtins.sum(tensors[1:], tensors[0] * 0).shape
    z = _core.randn(size=shape, generator=generator, dtype=like.dtype, device=like.device)
    with _core_no_grad():
        sample = z * (std.detach() if isinstance(std, Tensor) else std) + (
            mean.detach() if isinstance(mean, Tensor) else mean
        )
    # PyTorch's backward of normal gives zero gradients to mean and std.
    for t in tensors:
        if t.requires_grad:
            sample = sample + t * 0
    return sample


def _core_no_grad():
    from rustgrad.autograd.grad_mode import no_grad

    return no_grad()


def _check_probabilities(p: np.ndarray) -> None:
    if p.size and not ((p >= 0) & (p <= 1)).all():
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")


def bernoulli(input, p=None, *, generator=None):
    """0/1 samples with probability ``input`` (or ``p`` for every element), of ``input``'s
    shape, dtype and device."""
    if input.is_meta:
        return _core.zeros(tuple(input.shape), dtype=input.dtype, device=input.device)
    probs = np.broadcast_to(np.float64(p), input.shape) if p is not None else _host(input)
    _check_probabilities(np.asarray(probs))
    u = _draws(tuple(input.shape), generator, input.device)
    return _core.tensor(u < probs, dtype=input.dtype, device=input.device)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """``num_samples`` category indices per row of ``input`` (1-d or 2-d non-negative weights),
    with or without replacement; int64, ``(num_samples,)`` or ``(rows, num_samples)``."""
    if input.dim() not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if input.is_meta:
        shape = (int(num_samples),) if input.dim() == 1 else (input.shape[0], int(num_samples))
        return _core.zeros(shape, dtype=_core.int64, device=input.device)
    weights = _host(input).reshape(-1, input.shape[-1])
    k = int(num_samples)
    if k <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and k > weights.shape[1]:
        raise RuntimeError(
            "cannot sample n_sample > prob_dist.size(-1) samples without replacement"
        )
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if (weights.sum(axis=1) <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rows = weights.shape[0]
    u = _draws((rows, k if replacement else weights.shape[1]), generator, input.device)
    if replacement:
        cdf = np.cumsum(weights, axis=1)
        out = np.stack(
            [np.searchsorted(cdf[r], u[r] * cdf[r, -1], side="right") for r in range(rows)]
        )
        out = np.minimum(out, weights.shape[1] - 1)
    else:
        if ((weights > 0).sum(axis=1) < k).any():
            raise RuntimeError(
                "invalid multinomial distribution (with replacement=False, not enough "
                "non-negative category to sample)"
            )
        # Successive sampling without replacement: the k smallest of E/w, E ~ Exp(1).
        with np.errstate(divide="ignore"):
            keys = -np.log1p(-u) / weights
        out = np.argsort(keys, axis=1, kind="stable")[:, :k]
    out = out.astype(np.int64)
    if input.dim() == 1:
        out = out[0]
    return _core.tensor(out, device=input.device)


# ----- in-place samplers (Tensor methods) -------------------------------------------------


def _fill_from(self: Tensor, values: np.ndarray) -> Tensor:
    return self.copy_(_core.tensor(values, dtype=self.dtype, device=self.device))


def uniform_(self: Tensor, from_=0.0, to=1.0, *, generator=None, **kwargs) -> Tensor:
    """Fills ``self`` with samples of U[from, to); returns ``self``."""
    from_ = kwargs.pop("from", from_)
    u = _draws(tuple(self.shape), generator, self.device)
    return _fill_from(self, from_ + u * (to - from_))


def normal_(self: Tensor, mean=0.0, std=1.0, *, generator=None) -> Tensor:
    """Fills ``self`` with samples of N(mean, std²); returns ``self``."""
    _check_std(std)
    z = _draws(tuple(self.shape), generator, self.device, normal=True)
    return _fill_from(self, mean + std * z)


# random_() without bounds: [0, 2**digits] for floats (every integer they hold exactly).
_RANDOM_SPAN = {"float32": (1 << 24) + 1, "float64": (1 << 53) + 1, "int64": 1 << 63, "bool": 2}


def random_(self: Tensor, *args, generator=None, **kwargs) -> Tensor:
    """Fills ``self`` with integers drawn uniformly from ``[from, to)``: ``random_(to)``,
    ``random_(from, to)``, or ``random_()`` (``[0, 2**mantissa]`` for floats, as PyTorch)."""
    if kwargs:
        from_, to = kwargs.pop("from", 0), kwargs.pop("to", None)
    elif len(args) == 1:
        from_, to = 0, args[0]
    else:
        from_, to = args if args else (0, None)
    if to is None:
        to = _RANDOM_SPAN.get(str(self.dtype).rsplit(".", 1)[-1], 1 << 63)
    if from_ >= to:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={from_} >= to={to}"
        )
    u = _draws(tuple(self.shape), generator, self.device)
    return _fill_from(self, from_ + np.floor(u * (to - from_)))


def bernoulli_(self: Tensor, p=0.5, *, generator=None) -> Tensor:
    """Fills ``self`` with 0/1 samples of probability ``p`` (a float or a tensor broadcast to
    ``self``); returns ``self``."""
    probs = _host(p) if isinstance(p, Tensor) else np.float64(p)
    probs = np.broadcast_to(probs, tuple(self.shape))
    _check_probabilities(probs)
    u = _draws(tuple(self.shape), generator, self.device)
    return _fill_from(self, (u < probs).astype(np.float64))


def exponential_(self: Tensor, lambd=1.0, *, generator=None) -> Tensor:
    """Fills ``self`` with samples of Exp(lambd) (density ``lambd * exp(-lambd * x)``);
    returns ``self``."""
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    u = _draws(tuple(self.shape), generator, self.device)
    return _fill_from(self, -np.log1p(-u) / lambd)


def _skip_meta(sampler):
    """A meta tensor has no values to fill: the sampler returns it as it is."""

    @functools.wraps(sampler)
    def fill(self, *args, **kwargs):
        if not self.is_meta:
            return sampler(self, *args, **kwargs)
        if self.is_leaf and self.requires_grad and _core.is_grad_enabled():
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation."
            )
        return self

    return fill


for _method in (uniform_, normal_, random_, bernoulli_, exponential_):
    setattr(Tensor, _method.__name__, _skip_meta(_method))
del _method
