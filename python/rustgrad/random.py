"""Random sampling, as ``torch.random`` and the samplers of ``torch``: generators and their
state, ``randint``, ``randperm``, ``normal``, ``bernoulli``, ``multinomial``, the ``*_like``
samplers and the in-place samplers of ``Tensor`` (``uniform_``, ``normal_``, ``random_``,
``bernoulli_``, ``exponential_``).

On the CPU every draw is PyTorch's: the Rust core keeps PyTorch's generator (mt19937) and draws
as its CPU kernels do (``_core._uniform``, ``_normal``, ``_random_ints``, ``_randperm``), and
the samplers here transform those draws in PyTorch's order and precision, so a seeded program
gets PyTorch's numbers. A CUDA tensor sampled without a ``generator=`` draws from its device's
own stream (not PyTorch's CUDA stream); with a generator, the draws are made on the host and
copied.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import math
import warnings

import numpy as np

from rustgrad import _core
from rustgrad._core import Generator, Tensor, default_generator
from rustgrad._memory_format import _in_memory_order
from rustgrad._size import check_non_negative

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
    generator (as ``torch.manual_seed``, which reads ``int(seed)``: NumPy ints too)."""
    seed = int(seed)
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
    shape = (size,) if isinstance(size, int) else tuple(size)
    check_non_negative(shape)
    return shape


def _on_cuda_stream(generator, device) -> bool:
    """Whether a draw for ``device`` comes from a CUDA device's own stream (no generator)."""
    return generator is None and _core.device(device).type == "cuda"


def _uniform_draws(shape, low, high, dtype, generator, device) -> Tensor:
    """A new contiguous tensor of ``shape`` on ``device`` filled as PyTorch's ``uniform_(low,
    high)`` fills one of ``dtype``."""
    if _on_cuda_stream(generator, device):
        u = _core.rand(size=shape, dtype=dtype, device=device)
        return u * (high - low) + low if (low, high) != (0, 1) else u
    return _core._uniform(shape, low, high, dtype, device, generator).to(device)


def _normal_draws(shape, mean, std, dtype, generator, device, serial=False) -> Tensor:
    """A new contiguous tensor of ``shape`` on ``device`` filled as PyTorch's ``normal_(mean,
    std)`` fills one of ``dtype`` (``serial``: as it fills a non-contiguous one)."""
    if _on_cuda_stream(generator, device):
        z = _core.randn(size=shape, dtype=dtype, device=device)
        return z * std + mean if (mean, std) != (0, 1) else z
    return _core._normal(shape, mean, std, dtype, device, serial, generator).to(device)


def _int_draws(shape, low, high, wide, generator, device) -> Tensor:
    """Integers of ``[low, high)`` (an int64 tensor of ``shape`` on ``device``) as PyTorch's
    ``random_(low, high)`` draws them (64-bit words when ``wide``)."""
    if _on_cuda_stream(generator, device):
        u = _core.rand(size=shape, dtype=_core.float64, device=device)
        return (u * float(high - low)).floor().long() + low
    return _core._random_ints(shape, high - low, low, wide, device, generator).to(device)


def _fill_in_memory_order(self: Tensor, draw) -> Tensor:
    """``self`` filled with ``draw(shape)`` in ``self``'s memory order."""
    return self.copy_(_in_memory_order(self, draw))


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


def randint(*args, low=None, high=None, size=None, generator=None, dtype=None, device=None,
            requires_grad=False):  # fmt: skip
    """Integers drawn uniformly from ``[low, high)``: ``randint(high, size)`` or
    ``randint(low, high, size)`` (int64 unless ``dtype`` is given); the bounds may be the
    keywords ``low=``/``high=``."""
    if size is None:
        if not args:
            raise TypeError("randint() missing required argument 'size'")
        *args, size = args
    if high is not None:
        args = (low if low is not None else (args[0] if args else 0), high)
    elif low is not None:
        args = (low, *args)
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
    _check_range_fits(low, high, dtype or _core.int64)
    if _is_meta(device):
        return _core.zeros(_shape(size), dtype=dtype or _core.int64, device=device)
    dtype = dtype or _core.int64
    values = _int_draws(_shape(size), low, high, _wide(dtype, high - low), generator, device)
    values = values.to(dtype)
    return values.requires_grad_() if requires_grad else values


# The range of each dtype, for PyTorch's check of random bounds, and for the floating ones the
# significand's bits (integers beyond 2**bits draw unevenly: PyTorch warns).
_RANGES = {
    "bool": (0, 1),
    "uint8": (0, 255),
    "int8": (-128, 127),
    "int16": (-(1 << 15), (1 << 15) - 1),
    "int32": (-(1 << 31), (1 << 31) - 1),
    "int64": (-(1 << 63), (1 << 63) - 1),
    "float16": (-65504, 65504, 11),
    "bfloat16": (-3.3895313892515355e38, 3.3895313892515355e38, 8),
    "float32": (-3.4028234663852886e38, 3.4028234663852886e38, 24),
    "float64": (-math.inf, math.inf, 53),
}


def _check_range_fits(from_, to, dtype) -> None:
    """PyTorch's ``check_from_to_in_range``: ``from`` and ``to - 1`` lie within ``dtype``
    (a uint8 draw below 300 is refused, not wrapped), with its warning for a floating dtype
    past the integers it holds exactly."""
    from rustgrad._ops import _c_name

    lo, hi, *bits = _RANGES[str(dtype).rsplit(".", 1)[-1]]
    for name, value in (("from", from_), ("to - 1", to - 1)):
        if not lo <= value <= hi:
            raise RuntimeError(f"{name} is out of bounds for {_c_name(dtype)}")
        if bits and not -(1 << bits[0]) <= value <= 1 << bits[0]:
            warnings.warn(
                f"{name} is out of bounds [-(2^{bits[0]}), 2^{bits[0]}]. Due to precision "
                f"limitations {_c_name(dtype)} can support discrete uniform distribution only "
                "within this range. This warning will become an error in version 1.7 release, "
                "please fix the code in advance",
                UserWarning,
                stacklevel=3,
            )


def _wide(dtype, span) -> bool:
    """Whether PyTorch draws 64-bit words for integers of a ``span`` this wide in ``dtype``
    (its release builds: from 2**28 on, whatever the dtype)."""
    return span >= 1 << 28


def _empty_like(input, dtype, device) -> Tensor:
    """A new tensor of ``input``'s shape whose strides follow ``input``'s order (PyTorch's
    ``empty_like`` keeps a permuted input's layout), so samplers fill it in PyTorch's order."""
    return _in_memory_order(input, lambda shape: _core.zeros(shape, dtype=dtype, device=device))


def _like(sampler, input, dtype, device, requires_grad):
    out = sampler(_empty_like(input, dtype or input.dtype, _device_of(device, input)))
    return out.requires_grad_() if requires_grad else out


def randint_like(input, *args, low=None, high=None, dtype=None, device=None,
                 requires_grad=False, generator=None):  # fmt: skip
    """``randint(low=0, high)`` of ``input``'s shape (and layout), dtype and device unless
    given."""
    if high is not None:
        args = (low if low is not None else (args[0] if args else 0), high)
    elif low is not None:
        args = (low, *args)
    if len(args) not in (1, 2):
        raise TypeError(f"randint_like() takes 1 or 2 bounds, got {len(args)}")
    return _like(
        lambda t: t.random_(*((0, *args) if len(args) == 1 else args), generator=generator),
        input,
        dtype,
        device,
        requires_grad,
    )


def rand_like(input, *, generator=None, dtype=None, device=None, requires_grad=False):
    """``rand`` of ``input``'s shape (and layout), dtype and device (unless given)."""
    return _like(lambda t: t.uniform_(generator=generator), input, dtype, device, requires_grad)


def randn_like(input, *, generator=None, dtype=None, device=None, requires_grad=False):
    """``randn`` of ``input``'s shape (and layout), dtype and device (unless given)."""
    return _like(lambda t: t.normal_(generator=generator), input, dtype, device, requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of ``0..n`` (int64 unless ``dtype`` is given)."""
    n = int(n)
    check_non_negative([n])
    device = _device_of(device)
    if _is_meta(device):
        return _core.zeros(n, dtype=dtype or _core.int64, device=device)
    if _on_cuda_stream(generator, device):
        # The order of n uniform keys is a uniform permutation (ties have probability ~n²/2⁵³).
        perm = _core.rand(size=(n,), dtype=_core.float64, device=device).argsort(stable=True)
    else:
        perm = _core._randperm(n, device, generator).to(device)
    perm = perm.to(dtype or _core.int64)
    return perm.requires_grad_() if requires_grad else perm


def _check_std(std) -> None:
    low = _host(std).min(initial=0.0) if isinstance(std, Tensor) else std
    if not low >= 0:  # (NaN too)
        raise RuntimeError(f"normal expects std >= 0.0, but found std {low:g}")


def _check_float_kernel(self: Tensor, kernel: str) -> None:
    """PyTorch's refusal of a floating-point sampler on an integer or bool tensor."""
    if not self.is_floating_point():
        from rustgrad._math import _SCALAR_NAME

        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_SCALAR_NAME[self.dtype]}'")


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
        dtype = dtype or _core.get_default_dtype()
        out = _normal_draws(
            _shape(size), builtins.float(mean), builtins.float(std), dtype, generator, device
        )
        return out.requires_grad_(requires_grad) if requires_grad else out
    like = tensors[0]
    shape = tuple(builtins.sum(tensors[1:], tensors[0] * 0).shape)
    with _core_no_grad():
        if isinstance(std, Tensor):
            # PyTorch: normal_(0, 1), then mul_(std) and add_(mean).
            z = _normal_draws(shape, 0.0, 1.0, like.dtype, generator, like.device)
            sample = z * std.detach() + (mean.detach() if isinstance(mean, Tensor) else mean)
        else:
            # PyTorch: normal_(0, std), then add_(mean).
            z = _normal_draws(shape, 0.0, builtins.float(std), like.dtype, generator, like.device)
            sample = z + mean.detach()
    # PyTorch's backward of normal gives zero gradients to mean and std.
    for t in tensors:
        if t.requires_grad:
            sample = sample + t * 0
    return sample


def _core_no_grad():
    from rustgrad.autograd.grad_mode import no_grad

    return no_grad()


def _representable(bound, dtype) -> bool:
    """Whether ``bound`` lies within ``dtype``'s finite range."""
    top = {_core.float16: 65504.0, _core.bfloat16: 3.3895313892515355e38}.get(
        dtype, 3.4028234663852886e38 if dtype != _core.float64 else np.inf
    )
    return -top <= bound <= top


def _check_probabilities(p: np.ndarray) -> None:
    if p.size and not ((p >= 0) & (p <= 1)).all():
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")


def bernoulli(input, p=None, *, generator=None):
    """0/1 samples with probability ``input`` (or ``p`` for every element), of ``input``'s
    shape, dtype and device."""
    if input.is_meta:
        return _core.zeros(tuple(input.shape), dtype=input.dtype, device=input.device)
    out = _core.zeros(tuple(input.shape), dtype=input.dtype, device=input.device)
    return bernoulli_(out, input if p is None else p, generator=generator)


def _exponential_draws(shape, lambd, dtype, generator, device) -> Tensor:
    """A new contiguous tensor of ``shape`` on ``device`` filled as PyTorch's CPU
    ``exponential_(lambd)`` fills one of ``dtype`` (``-1/lambd * log1p(-u)`` in float64)."""
    if _on_cuda_stream(generator, device):
        u = _core.rand(size=shape, dtype=_core.float64, device=device)
        return ((-u).log1p() * (-1.0 / lambd)).to(dtype)
    return _core._exponential(shape, float(lambd), dtype, device, generator).to(device)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """``num_samples`` category indices per row of ``input`` (1-d or 2-d non-negative weights),
    with or without replacement; int64, ``(num_samples,)`` or ``(rows, num_samples)``.

    PyTorch's CPU algorithms on its draws: without replacement (or for one sample) the
    largest ``weight / q`` with ``q ~ Exp(1)`` in ``input``'s dtype; with replacement a
    search of one float64 uniform per sample in the row's normalised cumulative sum."""
    if input.dim() not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not input.is_floating_point():
        from rustgrad._math import _SCALAR_NAME

        raise RuntimeError(
            "multinomial only supports floating-point dtypes for input, got: "
            f"{_SCALAR_NAME[input.dtype]}"
        )
    if input.is_meta:
        shape = (int(num_samples),) if input.dim() == 1 else (input.shape[0], int(num_samples))
        return _core.zeros(shape, dtype=_core.int64, device=input.device)
    k = int(num_samples)
    if k <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and k > input.shape[-1]:
        raise RuntimeError(
            "cannot sample n_sample > prob_dist.size(-1) samples without replacement"
        )
    dtype = np.float64 if input.dtype == _core.float64 else np.float32
    weights = input.detach().cpu().to(_core.float64).numpy().astype(dtype)
    weights = weights.reshape(-1, input.shape[-1])
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if (weights.sum(axis=1, dtype=np.float64) <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rows = weights.shape[0]
    if not replacement or k == 1:
        # PyTorch's q = empty_like(input).exponential_(): drawn in input's layout
        q = _empty_like(input, input.dtype, input.device).exponential_(1.0, generator=generator)
        # the keys in input's dtype, as PyTorch divides (half types round, and may tie)
        keys = (input.detach() / q).cpu().to(_core.float64).numpy().reshape(weights.shape)
        # The k largest keys, largest first (ties to the lower index, as topk).
        out = np.argsort(-keys, axis=1, kind="stable")[:, :k]
    else:
        u = _uniform_draws((rows, k), 0.0, 1.0, _core.float64, generator, input.device)
        u = u.cpu().numpy()
        cdf = np.cumsum(weights, axis=1, dtype=dtype)
        cdf = cdf / cdf[:, -1:]
        cdf[:, -1] = 1
        # The first category whose cumulative probability is not below the draw.
        out = np.stack([np.searchsorted(cdf[r], u[r], side="left") for r in range(rows)])
    out = out.astype(np.int64)
    if input.dim() == 1:
        out = out[0]
    return _core.tensor(out, device=input.device)


# ----- in-place samplers (Tensor methods) -------------------------------------------------


def uniform_(self: Tensor, from_=0.0, to=1.0, *, generator=None, **kwargs) -> Tensor:
    """Fills ``self`` with samples of U[from, to); returns ``self``."""
    from_ = kwargs.pop("from", from_)
    for key in kwargs:  # (``from`` is a keyword Python can't name; nothing else is taken)
        raise TypeError(f"uniform_() got an unexpected keyword argument '{key}'")
    _check_float_kernel(self, "check_uniform_bounds")
    for name, bound in (("from", from_), ("to", to)):
        if not np.isfinite(bound) or not _representable(bound, self.dtype):
            kind = "float" if self.dtype != _core.float64 else "double"
            raise RuntimeError(f"{name} is out of bounds for {kind}")
    if from_ > to:
        raise RuntimeError(
            f"uniform_ expects to return a [from, to) range, but found from={from_} > to={to}"
        )
    return _fill_in_memory_order(
        self,
        lambda shape: _uniform_draws(
            shape, float(from_), float(to), self.dtype, generator, self.device
        ),
    )


def normal_(self: Tensor, mean=0.0, std=1.0, *, generator=None) -> Tensor:
    """Fills ``self`` with samples of N(mean, std²); returns ``self``."""
    _check_float_kernel(self, "normal_kernel_cpu")
    _check_std(std)
    serial = not self.is_contiguous()
    return _fill_in_memory_order(
        self,
        lambda shape: _normal_draws(
            shape, float(mean), float(std), self.dtype, generator, self.device, serial
        ),
    )


# random_() without bounds: integers of [0, span) for each dtype (for floats, every integer
# they hold exactly), drawn from 64-bit words for the dtypes in _WIDE.
_RANDOM_SPAN = {
    "bool": 2,
    "uint8": 1 << 8,
    "int8": 1 << 7,
    "int16": 1 << 15,
    "int32": 1 << 31,
    "int64": 1 << 63,
    "float16": (1 << 11) + 1,
    "bfloat16": (1 << 8) + 1,
    "float32": (1 << 24) + 1,
    "float64": (1 << 53) + 1,
}
_WIDE = ("int64", "float64")


def random_(self: Tensor, *args, generator=None, **kwargs) -> Tensor:
    """Fills ``self`` with integers drawn uniformly from ``[from, to)``: ``random_(to)``,
    ``random_(from, to)``, or ``random_()`` (``[0, 2**mantissa]`` for floats, as PyTorch)."""
    if set(kwargs) - {"from", "to"}:  # (``from=``/``to=`` only; others as PyTorch refuses)
        from rustgrad._ops import _Overloads

        given = dict(kwargs, **({"generator": generator} if generator is not None else {}))
        _Overloads(
            "random_",
            "(*, torch.Generator generator = None)",
            "(int from, int to, *, torch.Generator generator = None)",
            "(int to, *, torch.Generator generator = None)",
        ).check(args, given)
    if kwargs:
        from_, to = kwargs.pop("from", 0), kwargs.pop("to", None)
    elif len(args) == 1:
        from_, to = 0, args[0]
    else:
        from_, to = args if args else (0, None)
    name = str(self.dtype).rsplit(".", 1)[-1]
    if to is None and (args or "from" in kwargs or "to" in kwargs):
        # random_(from, None): up to the dtype's largest value (for floats, 2**mantissa), as
        # PyTorch's random_from_to with an open end
        last = _RANDOM_SPAN[name] - 1 if name != "int64" else 2**63 - 1
        to = last + 1
        wide = _wide(self.dtype, to - from_)
    elif to is None:
        to, wide = from_ + _RANDOM_SPAN[name], name in _WIDE
    else:
        wide = _wide(self.dtype, to - from_)
    from_, to = int(from_), int(to)
    if from_ >= to:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={from_} >= to={to}"
        )
    _check_range_fits(from_, to, self.dtype)
    return _fill_in_memory_order(
        self,
        lambda shape: _int_draws(shape, from_, to, wide, generator, self.device),
    )


def bernoulli_(self: Tensor, p=0.5, *, generator=None) -> Tensor:
    """Fills ``self`` with 0/1 samples of probability ``p`` (a float or a tensor broadcast to
    ``self``); returns ``self``. As PyTorch: each sample is ``u < p`` for a uniform ``u``
    drawn in float64 (a float ``p`` or a float64 tensor) or float32 (other tensors)."""
    if isinstance(p, Tensor):
        if not p.is_floating_point():
            from rustgrad._math import _SCALAR_NAME

            raise NotImplementedError(
                f"\"bernoulli_tensor_cpu_p_\" not implemented for '{_SCALAR_NAME[p.dtype]}'"
            )
        precise = p.dtype == _core.float64
        p = p.detach().to(_core.float64 if precise else _core.float32)
        probs = p.broadcast_to(tuple(self.shape))
        _check_probabilities(_host(p))
    else:
        precise, probs = True, float(p)
        if not 0 <= probs <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    dtype = _core.float64 if precise else _core.float32

    def draw(shape):
        return _uniform_draws(shape, 0.0, 1.0, dtype, generator, self.device)

    if isinstance(probs, Tensor):
        probs = probs.to(self.device)
    return self.copy_(_in_memory_order(self, draw) < probs)


def exponential_(self: Tensor, lambd=1.0, *, generator=None) -> Tensor:
    """Fills ``self`` with samples of Exp(lambd) (density ``lambd * exp(-lambd * x)``);
    returns ``self``."""
    if not self.is_floating_point():
        from rustgrad._math import _SCALAR_NAME

        raise RuntimeError(
            "Exponential distribution is a continuous probability distribution. dtype must be "
            f"a floating point but you specified {_SCALAR_NAME[self.dtype]}"
        )
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    return _fill_in_memory_order(
        self,
        lambda shape: _exponential_draws(shape, lambd, self.dtype, generator, self.device),
    )


def _float64_draws(self: Tensor, transform, generator) -> Tensor:
    """``self`` filled (in memory order) with ``transform`` of float64 uniforms, computed
    with the C library in float64 as PyTorch's serial CPU kernels do."""

    def draw(shape):
        u = _uniform_draws(shape, 0.0, 1.0, _core.float64, generator, self.device)
        values = [transform(v) for v in u.cpu().reshape(-1).tolist()]
        return _core.tensor(values, dtype=_core.float64).reshape(shape).to(self.dtype)

    return _fill_in_memory_order(self, draw)


def cauchy_(self: Tensor, median=0.0, sigma=1.0, *, generator=None) -> Tensor:
    """Fills ``self`` with samples of the Cauchy distribution ``median + sigma * tan(pi (u -
    1/2))``; returns ``self``."""
    _check_float_kernel(self, "cauchy_cpu")
    if not sigma > 0.0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    return _float64_draws(self, lambda u: median + sigma * math.tan(math.pi * (u - 0.5)), generator)


def geometric_(self: Tensor, p, *, generator=None) -> Tensor:
    """Fills ``self`` with samples of the geometric distribution of success probability
    ``p`` (the trial of the first success: ``ceil(log(u) / log1p(-p))``); returns ``self``."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    denominator = math.log1p(-p)
    return _float64_draws(self, lambda u: math.ceil(math.log(u) / denominator), generator)


def log_normal_(self: Tensor, mean=1.0, std=2.0, *, generator=None) -> Tensor:
    """Fills ``self`` with ``exp`` of samples of N(mean, std²); returns ``self``."""
    _check_float_kernel(self, "log_normal_cpu")
    if not std > 0.0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")

    def draw(shape):
        z = _normal_draws(shape, mean, std, _core.float64, generator, self.device, True)
        values = [math.exp(v) for v in z.cpu().reshape(-1).tolist()]
        return _core.tensor(values, dtype=_core.float64).reshape(shape).to(self.dtype)

    return _fill_in_memory_order(self, draw)


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


for _method in (
    uniform_,
    normal_,
    random_,
    bernoulli_,
    exponential_,
    cauchy_,
    geometric_,
    log_normal_,
):
    setattr(Tensor, _method.__name__, _skip_meta(_method))
del _method


def _multinomial_method(self, num_samples, replacement=False, *, generator=None):
    """``multinomial(self, num_samples, replacement)``: category indices drawn with the
    weights of ``self`` (1-d or 2-d)."""
    return multinomial(self, num_samples, replacement, generator=generator)


_multinomial_method.__name__ = "multinomial"
Tensor.multinomial = _multinomial_method
