"""Process settings that PyTorch scripts set at the top: the CPU threads per kernel
(``set_num_threads``), the inter-op threads and the float32 matmul precision.

``set_num_threads(n)`` is real: at most ``n`` threads (the caller included) work on each CPU
kernel from then on, elementwise, reductions, convolution, optimizer steps and matmuls alike.
rustgrad runs no inter-op pool (independent ops are not run concurrently), so the inter-op
count is recorded and reported as PyTorch reports it. rustgrad computes float32 products in
float32 whatever the matmul precision says: ``"highest"``, the most precise of PyTorch's
three choices; the setting is kept for ``get_float32_matmul_precision``.
"""

from __future__ import annotations

import builtins
import os
import warnings

from rustgrad import _core

__all__ = [
    "get_float32_matmul_precision",
    "get_num_interop_threads",
    "get_num_threads",
    "set_float32_matmul_precision",
    "set_num_interop_threads",
    "set_num_threads",
]


def _count(n, name) -> builtins.int:
    if isinstance(n, builtins.bool) or not isinstance(n, builtins.int):
        raise RuntimeError(f"{name} expects an int, but got {type(n).__name__}")  # noqa: TRY004
    if not -(2**63) <= n < 2**63:
        raise ValueError("Overflow when unpacking long long")
    if n <= 0:
        raise RuntimeError(f"{name} expects a positive integer")
    return n


def set_num_threads(n) -> None:
    """At most ``n`` threads work on each CPU kernel from now on."""
    _core._set_num_threads(_count(n, "set_num_threads"))


def get_num_threads() -> builtins.int:
    """The threads that work on each CPU kernel."""
    return _core._get_num_threads()


_interop = {"threads": None}


def set_num_interop_threads(n) -> None:
    """Records the inter-op thread count; as in PyTorch it may be set once."""
    n = _count(n, "set_num_interop_threads")
    if _interop["threads"] is not None:
        raise RuntimeError(
            "Error: cannot set number of interop threads after parallel work has started or "
            "set_num_interop_threads called"
        )
    _interop["threads"] = n


def get_num_interop_threads() -> builtins.int:
    """The inter-op thread count (by default, the CPUs this process may use)."""
    if _interop["threads"] is not None:
        return _interop["threads"]
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


_matmul_precision = {"value": "highest"}


def set_float32_matmul_precision(precision: str) -> None:
    """``"highest"``, ``"high"`` or ``"medium"`` (rustgrad computes in float32 for all)."""
    if not isinstance(precision, str):
        raise RuntimeError(  # noqa: TRY004  (PyTorch raises this type)
            f"set_float32_matmul_precision expects a str, but got {type(precision).__name__}"
        )
    if precision not in ("highest", "high", "medium"):
        warnings.warn(
            f"{precision} is not one of 'highest', 'high', or 'medium'; the "
            "currentsetFloat32MatmulPrecision call has no effect.",
            UserWarning,
            stacklevel=2,
        )
        return
    _matmul_precision["value"] = precision


def get_float32_matmul_precision() -> str:
    """The value :func:`set_float32_matmul_precision` last set (``"highest"`` by default)."""
    return _matmul_precision["value"]


_deterministic = {"on": False, "warn_only": False}


def use_deterministic_algorithms(mode, *, warn_only=False) -> None:
    """PyTorch's switch for deterministic kernels. rustgrad's CPU kernels are deterministic
    whatever it says (each thread's share of a reduction is fixed, and the shares combine in
    one order); on CUDA, ``index_add``/``scatter_add`` and the gradients of indexing add with
    atomics, which this switch does not refuse (docs/dropin.md)."""
    if not isinstance(mode, builtins.bool):
        raise RuntimeError(  # noqa: TRY004  (PyTorch raises this type)
            f"use_deterministic_algorithms expects a bool, but got {type(mode).__name__}"
        )
    _deterministic["on"], _deterministic["warn_only"] = mode, builtins.bool(warn_only)


def are_deterministic_algorithms_enabled() -> builtins.bool:
    """What :func:`use_deterministic_algorithms` last set (False by default)."""
    return _deterministic["on"]


def is_deterministic_algorithms_warn_only_enabled() -> builtins.bool:
    """The ``warn_only`` :func:`use_deterministic_algorithms` last set."""
    return _deterministic["warn_only"]
