"""``torch.autocast``: ops of PyTorch's autocast lists run in a lower precision (matrix
products, convolutions, linear layers) or in float32 (losses, reductions that lose
precision), the rest in their inputs' dtype.

PyTorch casts in its dispatcher. rustgrad wraps the listed functions and methods, and only
while some device's autocast is enabled: outside autocast the ops are the unwrapped ones, with
no cost per call. The flags are per process (PyTorch's are per thread), and casts are not cached
across calls (``cache_enabled`` is kept but only changes speed in PyTorch).
"""

from __future__ import annotations

import functools
import warnings

import numpy as _np

from rustgrad import _core

__all__ = ["autocast", "custom_bwd", "custom_fwd", "is_autocast_available"]

_SUPPORTED = ("cpu", "cuda")
_DEFAULT_DTYPE = {"cpu": _core.bfloat16, "cuda": _core.float16}

# Per device: [enabled, dtype]; the cache flag and nesting depth are global, as PyTorch's.
_state = {d: [False, _DEFAULT_DTYPE[d]] for d in _SUPPORTED}
_cache_enabled = [True]
_nesting = [0]

# PyTorch's autocast lists (aten/src/ATen/autocast_mode.cpp), by where the op lives here:
# "rustgrad" functions, "Tensor" methods and "F" (rustgrad.nn.functional) functions.
_PRODUCTS = ["matmul", "mm", "bmm", "addmm", "baddbmm", "addbmm"]
_CONVS = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]
_LOSSES = [
    "binary_cross_entropy_with_logits", "mse_loss", "nll_loss", "cross_entropy",
    "smooth_l1_loss", "l1_loss", "huber_loss", "kl_div", "margin_ranking_loss",
    "soft_margin_loss", "triplet_margin_loss", "multi_margin_loss", "multilabel_margin_loss",
    "hinge_embedding_loss", "cosine_embedding_loss", "poisson_nll_loss", "ctc_loss",
]  # fmt: skip
# The elementwise functions CUDA's float32 list names (functions and methods alike).
_CUDA_FP32_MATH = [
    "acos", "asin", "cosh", "erfinv", "exp", "expm1", "log", "log10", "log2", "log1p",
    "reciprocal", "rsqrt", "sinh", "tan", "pow",
]  # fmt: skip
_LOWER = {
    "cpu": {
        "rustgrad": [*_PRODUCTS, *_CONVS, "prelu"],
        "Tensor": [*_PRODUCTS, "__matmul__", "__rmatmul__"],
        "F": ["linear", *_CONVS, "prelu", "scaled_dot_product_attention"],
    },
    "cuda": {
        "rustgrad": [
            *_PRODUCTS,
            *_CONVS,
            "prelu",
            "addmv",
            "addr",
            "mv",
            "einsum",
            "chain_matmul",
        ],
        "Tensor": [*_PRODUCTS, "__matmul__", "__rmatmul__", "addmv", "addr", "mv"],
        "F": ["linear", *_CONVS, "prelu", "scaled_dot_product_attention"],
    },
}
_FP32 = {
    "cpu": {
        "rustgrad": [
            "prod",
            "quantile",
            "nanquantile",
            "cdist",
            "trace",
            "inverse",
            "pinverse",
            "cholesky",
        ],
        "Tensor": ["prod", "quantile", "nanquantile", "trace", "inverse", "pinverse", "cholesky"],
        "F": [*_LOSSES, "binary_cross_entropy", "grid_sample"],
    },
    "cuda": {
        "rustgrad": [
            *_CUDA_FP32_MATH,
            "cdist",
            "dist",
            "renorm",
            "logsumexp",
            "cumsum",
            "cumprod",
            "prod",
        ],
        "Tensor": [
            *_CUDA_FP32_MATH,
            "__pow__",
            "dist",
            "renorm",
            "logsumexp",
            "cumsum",
            "cumprod",
            "prod",
        ],
        "F": [
            *_LOSSES,
            "softplus",
            "layer_norm",
            "group_norm",
            "cosine_similarity",
            "pdist",
            "interpolate",
            "grid_sample",
            "softmax",
            "log_softmax",
        ],
    },
}

_LINALG = [
    "inv", "inv_ex", "det", "slogdet", "solve", "solve_ex", "solve_triangular", "cholesky",
    "cholesky_ex", "qr", "eigh", "eigvalsh", "svd", "svdvals", "pinv", "matrix_rank", "cond",
    "matrix_norm", "vector_norm", "norm", "matrix_power",
]  # fmt: skip
# PyTorch's CPU float32 list has the linalg_* ops too.
_FP32["cpu"]["linalg"] = _LINALG
_FP32["cpu"]["rustgrad"] += ["svd", "det", "logdet", "slogdet"]
_LOWER["cpu"]["linalg"] = ["vecdot"]
_LOWER["cuda"]["linalg"] = ["vecdot", "multi_dot"]
# Ops on no list that rustgrad writes with listed ones (a product inside interpolation or
# adaptive pooling; mv on the CPU): they run in their inputs' dtype, as PyTorch's kernels, so
# their inner ops are not cast.
_KEEP = {
    "cpu": {
        "F": ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear",
              "adaptive_avg_pool1d", "adaptive_avg_pool2d", "pad"],
        "rustgrad": ["mv"],
        "Tensor": ["mv"],
        "GRU": ["forward"],
        "RNN": ["forward"],
    },
    "cuda": {"F": ["pad", "adaptive_avg_pool1d", "adaptive_avg_pool2d"]},
}  # fmt: skip
# PyTorch runs LSTM in the low dtype on the CPU (mkldnn_rnn_layer; GRU and RNN stay in their
# dtype, above); rustgrad's recurrent kernel takes float32/float64, so the layer runs uncast
# and its outputs are cast.
_OUTPUTS = {"cpu": {"LSTM": ["forward"]}}

_originals: dict = {}  # (owner, name) -> the unwrapped callable, while wrapped
_inside = [0]  # > 0 while a wrapped op runs (its inner ops are not cast again)


def _owners():
    import rustgrad
    from rustgrad import linalg, nn
    from rustgrad.nn import functional

    return {
        "rustgrad": rustgrad,
        "Tensor": _core.Tensor,
        "F": functional,
        "linalg": linalg,
        "LSTM": nn.LSTM,
        "GRU": nn.GRU,
        "RNN": nn.RNN,
    }


def _policies():
    """(owner, name) -> {device: "lower", "fp32", "keep" or "outputs"}."""
    out: dict = {}
    for kind, table in (("lower", _LOWER), ("fp32", _FP32), ("keep", _KEEP), ("outputs", _OUTPUTS)):  # fmt: skip
        for device, owners in table.items():
            for owner, names in owners.items():
                for name in names:
                    out.setdefault((owner, name), {})[device] = kind
    return out


def _device_of(args, kwargs):
    for v in (*args, *kwargs.values()):
        if isinstance(v, _core.Tensor):
            return v.device.type
        if isinstance(v, (list, tuple)):
            for u in v:
                if isinstance(u, _core.Tensor):
                    return u.device.type
    return None


def _cast(value, device_type, dtype):
    """PyTorch's ``_cast``: floating tensors on ``device_type`` other than float64, also in
    lists, tuples and dicts, cast to ``dtype``."""
    if isinstance(value, _core.Tensor):
        eligible = (
            value.is_floating_point()
            and value.device.type == device_type
            and value.dtype != _core.float64
            and value.dtype != dtype
        )
        return value.to(dtype) if eligible else value
    if isinstance(value, (str, bytes, _np.ndarray)):
        return value
    if isinstance(value, dict):
        return {k: _cast(v, device_type, dtype) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        cast = [_cast(v, device_type, dtype) for v in value]
        return type(value)(cast) if isinstance(value, list) else tuple(cast)
    return value


def _wrap(original, policy):
    @functools.wraps(original)
    def autocast_op(*args, **kwargs):
        device = _device_of(args, kwargs)
        kind = policy.get(device)
        if kind is None or _inside[0] or not _state[device][0]:
            return original(*args, **kwargs)
        if kind in ("lower", "fp32"):
            dtype = _state[device][1] if kind == "lower" else _core.float32
            args, kwargs = _cast(args, device, dtype), _cast(kwargs, device, dtype)
        _inside[0] += 1
        try:
            out = original(*args, **kwargs)
        finally:
            _inside[0] -= 1
        return _cast(out, device, _state[device][1]) if kind == "outputs" else out

    return autocast_op


def _sync_wrappers():
    """Wrap the listed ops while some device's autocast is on; unwrap them after."""
    on = any(enabled for enabled, _ in _state.values())
    if on and not _originals:
        owners = _owners()
        for (owner, name), policy in _policies().items():
            target = owners[owner]
            original = getattr(target, name, None)
            if original is None:
                continue
            # (whether the name was the class's own or inherited: restored as it was)
            own = name in vars(target)
            _originals[(owner, name)] = (vars(target)[name] if own else None, own)
            setattr(target, name, _wrap(original, policy))
    elif not on and _originals:
        owners = _owners()
        for (owner, name), (original, own) in _originals.items():
            if own:
                setattr(owners[owner], name, original)
            else:
                delattr(owners[owner], name)
        _originals.clear()


# ----- PyTorch's flag functions (torch.is_autocast_enabled, ...) --------------------------------


def _check_device(device_type):
    if device_type not in _SUPPORTED:
        raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether autocast is on for ``device_type`` (CUDA's when not given, as PyTorch)."""
    device_type = "cuda" if device_type is None else device_type
    _check_device(device_type)
    return _state[device_type][0]


def set_autocast_enabled(device_type, enabled=None) -> None:
    """``set_autocast_enabled(device_type, enabled)`` (or the older ``(enabled)`` for CUDA)."""
    if enabled is None:
        device_type, enabled = "cuda", device_type
    _check_device(device_type)
    _state[device_type][0] = bool(enabled)
    _sync_wrappers()


def get_autocast_dtype(device_type: str):
    """The dtype autocast casts to on ``device_type`` (bfloat16 on the CPU, float16 on CUDA by
    default)."""
    _check_device(device_type)
    return _state[device_type][1]


def set_autocast_dtype(device_type: str, dtype) -> None:
    """Set the dtype autocast casts to on ``device_type``."""
    _check_device(device_type)
    _state[device_type][1] = dtype


def _deprecated(old, new):
    warnings.warn(f"torch.{old}() is deprecated. Please use torch.{new} instead.", DeprecationWarning, stacklevel=3)  # fmt: skip


def is_autocast_cpu_enabled() -> bool:
    """Whether CPU autocast is on (deprecated, as PyTorch's)."""
    _deprecated("is_autocast_cpu_enabled", "is_autocast_enabled('cpu')")
    return _state["cpu"][0]


def get_autocast_cpu_dtype():
    """The dtype CPU autocast casts to (deprecated, as PyTorch's)."""
    _deprecated("get_autocast_cpu_dtype", "get_autocast_dtype('cpu')")
    return _state["cpu"][1]


def get_autocast_gpu_dtype():
    """The dtype CUDA autocast casts to (deprecated, as PyTorch's)."""
    _deprecated("get_autocast_gpu_dtype", "get_autocast_dtype('cuda')")
    return _state["cuda"][1]


def is_autocast_cache_enabled() -> bool:
    """PyTorch's cast-cache flag (kept; rustgrad casts without a cache)."""
    return _cache_enabled[0]


def set_autocast_cache_enabled(enabled: bool) -> None:
    """Set PyTorch's cast-cache flag."""
    _cache_enabled[0] = bool(enabled)


def clear_autocast_cache() -> None:
    """Nothing to drop: rustgrad keeps no cast cache."""


def autocast_increment_nesting() -> int:
    """One autocast region deeper; the new depth."""
    _nesting[0] += 1
    return _nesting[0]


def autocast_decrement_nesting() -> int:
    """One autocast region shallower; the new depth."""
    _nesting[0] -= 1
    return _nesting[0]


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast supports ``device_type``."""
    return device_type in _SUPPORTED


# ----- the context manager ---------------------------------------------------------------------


class autocast:
    """Run the ops of PyTorch's autocast lists in ``dtype`` (or float32) inside the region, as
    ``torch.autocast``; also a decorator."""

    def __init__(self, device_type: str, dtype=None, enabled: bool = True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")  # noqa: TRY004 (PyTorch's type)  # noqa: TRY004 (PyTorch's type)
        _check_device(device_type)
        self.device = device_type
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtype
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None else cache_enabled  # fmt: skip
        if enabled:
            if device_type == "cuda":
                from rustgrad import cuda

                if not cuda.is_available():
                    warnings.warn(
                        "CUDA is not available or torch_xla is imported. Disabling autocast.",
                        stacklevel=2,
                    )
                    enabled = False
            elif self.fast_dtype not in (_core.bfloat16, _core.float16):
                name = device_type.upper()
                warnings.warn(
                    f"In {name} autocast, but the target dtype is not supported. Disabling "
                    f"autocast.\n{name} Autocast only supports dtypes of "
                    f"{_core.bfloat16}, {_core.float16} currently.",
                    stacklevel=2,
                )
                enabled = False
        self._enabled = enabled

    def __enter__(self):
        self.prev_cache_enabled = is_autocast_cache_enabled()
        self.prev = is_autocast_enabled(self.device)
        self.prev_fastdtype = get_autocast_dtype(self.device)
        set_autocast_dtype(self.device, self.fast_dtype)
        set_autocast_enabled(self.device, self._enabled)
        autocast_increment_nesting()
        set_autocast_cache_enabled(self._cache_enabled)
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        if autocast_decrement_nesting() == 0:
            clear_autocast_cache()
        set_autocast_enabled(self.device, self.prev)
        set_autocast_dtype(self.device, self.prev_fastdtype)
        set_autocast_cache_enabled(self.prev_cache_enabled)
        return False

    def __call__(self, func):
        if not callable(func):
            raise TypeError(
                f"autocast()(func) requires a callable, but got {type(func).__name__}. "
                "Did you mean to use autocast as a context manager? For example:\n"
                "    with torch.autocast(device_type=...):\n"
                "        output = model(input)"
            )

        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)

        return decorate_autocast


def custom_fwd(fwd=None, *, device_type: str, cast_inputs=None):
    """For a custom ``Function.forward``: with ``cast_inputs``, run it in that dtype with
    autocast off when autocast is on (else as is), as PyTorch's."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")  # noqa: TRY004 (PyTorch's type)
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        args[0]._dtype = get_autocast_dtype(device_type)
        if cast_inputs is None:
            args[0]._fwd_used_autocast = is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        autocast_context = is_autocast_enabled(device_type)
        args[0]._fwd_used_autocast = False
        if autocast_context:
            with autocast(device_type=device_type, enabled=False):
                return fwd(*_cast(args, device_type, cast_inputs), **_cast(kwargs, device_type, cast_inputs))  # fmt: skip
        return fwd(*args, **kwargs)

    return decorate_fwd


def custom_bwd(bwd=None, *, device_type: str):
    """For a custom ``Function.backward``: run it with the forward's autocast state."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")  # noqa: TRY004 (PyTorch's type)
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        with autocast(
            device_type=device_type,
            enabled=getattr(args[0], "_fwd_used_autocast", False),
            dtype=getattr(args[0], "_dtype", None),
        ):
            return bwd(*args, **kwargs)

    return decorate_bwd
