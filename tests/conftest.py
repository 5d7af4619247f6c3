"""Shared helpers for the pytest suites.

Tests import these with ``from conftest import ...`` (pytest puts ``tests/`` on ``sys.path``
because the folder has no ``__init__.py``).
"""

import contextlib
import os
import re

import numpy as np
import pytest
import rustgrad

# The devices that the device-parametrized suites run on: the CPU always, CUDA where a GPU can
# be used. The CUDA entry carries the ``cuda`` marker, so ``pytest -m cuda`` selects it.
# ``RUSTGRAD_REQUIRE_CUDA=1`` (set by ``scripts/gpu_check.sh``) keeps the CUDA entry and turns
# every CUDA skip into a failure, so a check on a GPU machine cannot pass without the GPU.
HAS_CUDA = rustgrad.cuda.is_available()
REQUIRE_CUDA = os.environ.get("RUSTGRAD_REQUIRE_CUDA") == "1"
DEVICES = ["cpu"] + (
    [pytest.param("cuda", marks=pytest.mark.cuda)] if HAS_CUDA or REQUIRE_CUDA else []
)


def _cuda_reason():
    return rustgrad._core._cuda_unavailable_reason() or "CUDA is not available"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "rustgrad_require_cuda: a CUDA test failed by RUSTGRAD_REQUIRE_CUDA=1"
    )


def pytest_collection_modifyitems(config, items):
    """Tests marked ``cuda`` skip where no GPU can be used (fail under RUSTGRAD_REQUIRE_CUDA=1)."""
    if HAS_CUDA:
        return
    reason = _cuda_reason()
    if REQUIRE_CUDA:
        # Failing in setup, not at collection: every selected CUDA test is reported as an error.
        mark = pytest.mark.rustgrad_require_cuda(reason=reason)
    else:
        mark = pytest.mark.skip(reason=f"needs a CUDA GPU: {reason}")
    for item in items:
        if item.get_closest_marker("cuda") is not None:
            item.add_marker(mark)


def pytest_runtest_setup(item):
    marker = item.get_closest_marker("rustgrad_require_cuda")
    if marker is not None:
        pytest.fail(
            f"RUSTGRAD_REQUIRE_CUDA=1 but CUDA is not available: {marker.kwargs['reason']}",
            pytrace=False,
        )


def to_numpy(value):
    """A NumPy view of a rustgrad/torch tensor (detached; a CUDA tensor is copied to the host
    first), or of an array, list or scalar."""
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "detach") and hasattr(value, "numpy"):
        value = value.detach().cpu()
        if str(value.dtype).endswith("bfloat16"):
            value = value.float()  # NumPy has no bfloat16; float32 holds every value exactly
        return np.asarray(value.numpy())
    return np.asarray(value)


def draw_input(rng, kind, shape):
    """Test input values by kind: "n" any real, "p" positive and away from 0, "z" away from 0
    and from +-0.5 (the kinks of abs, relu and clamp)."""
    if kind == "n":
        return rng.standard_normal(shape)
    if kind == "p":
        return rng.uniform(0.5, 2.0, shape)
    if kind == "z":
        mag = rng.uniform(0.1, 1.5, shape)
        mag = np.where(np.abs(mag - 0.5) < 0.05, mag + 0.1, mag)
        return mag * rng.choice([-1.0, 1.0], shape)
    raise ValueError(kind)


def assert_close(actual, expected, rtol=1e-7, atol=0.0):
    """Compare values (tensors of either library, arrays, lists, scalars) with matching shapes."""
    a = to_numpy(actual)
    e = to_numpy(expected)
    assert a.shape == e.shape, f"shape {a.shape} != expected {e.shape}"
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol)


def assert_not_panic(err):
    """A Rust panic must never reach Python: PyO3 raises those as ``PanicException``."""
    assert type(err).__name__ != "PanicException", f"Rust panic reached Python: {err!r}"


@contextlib.contextmanager
def raises(exc_type, msg=None):
    """``pytest.raises`` that also rejects Rust panics; ``msg`` is a literal substring.

    Catches ``BaseException`` first (PyO3's ``PanicException`` derives from it), checks the
    class name, then the expected type and message.
    """
    with pytest.raises(BaseException) as info:
        yield info
    err = info.value
    assert_not_panic(err)
    assert isinstance(err, exc_type), f"expected {exc_type}, got {type(err).__name__}: {err}"
    if msg is not None:
        assert re.search(re.escape(msg), str(err)), f"{msg!r} not in {str(err)!r}"


def node_name(node):
    """``grad_fn.name()`` without a C++ namespace (PyTorch says ``torch::autograd::...``)."""
    if node is None:
        return None
    return node.name().rsplit("::", 1)[-1]


def graph_signature(node, depth=8):
    """The graph below ``node`` as nested tuples of (name, output index, children)."""
    if node is None:
        return None
    if depth == 0:
        return (node_name(node),)
    children = tuple((graph_signature(child, depth - 1), idx) for child, idx in node.next_functions)
    return (node_name(node), children)


def outcome(run, lib):
    """``run(lib)``'s result as ``("ok", value)``, or its exception as ``(type name, first
    line of the message)``, with the library's name taken out, to compare two libraries."""
    try:
        value = run(lib)
    except Exception as err:  # noqa: BLE001 (any exception is the outcome compared)
        assert_not_panic(err)
        first = str(err).split("\n")[0]
        return type(err).__name__, first.replace(lib.__name__ + ".", "torch.")
    return "ok", value
