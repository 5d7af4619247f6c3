"""Process settings: ``set_num_threads`` limits the threads of every CPU kernel (results do
not change with it), the inter-op count and the matmul precision are kept, and bad values get
PyTorch's errors and warnings."""

import warnings

import numpy as np
import pytest
import rustgrad as rg

torch = pytest.importorskip("torch")


@pytest.fixture
def restore_threads():
    before = rg.get_num_threads()
    yield
    rg.set_num_threads(before)


def _work():
    """Kernels of every parallel kind, large enough to be split: elementwise, a reduction, a
    product, a convolution, an optimizer step."""
    rg.manual_seed(0)
    x = rg.randn(512, 512, requires_grad=True)
    w = rg.randn(8, 1, 3, 3, requires_grad=True)
    y = (x.tanh() * 2).sum() + (x @ x).mean()
    z = rg.nn.functional.conv2d(x[None, None], w).square().mean()
    (y + z).backward()
    opt = rg.optim.Adam([x, w], lr=0.1)
    opt.step()
    return [t.detach().numpy().copy() for t in (x, w, x.grad, w.grad)]


def test_set_num_threads_limits_and_keeps_results(restore_threads):
    default = rg.get_num_threads()
    assert default >= 1
    many = _work()
    rg.set_num_threads(1)
    assert rg.get_num_threads() == 1
    one = _work()
    rg.set_num_threads(default + 8)  # more than the pool has: all of them work
    assert rg.get_num_threads() == default
    for a, b in zip(many, one):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def _outcome(lib, case):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            r = case(lib)
        except Exception as e:  # noqa: BLE001 (the comparison is of the exception itself)
            r = (type(e).__name__, str(e))
    return r, [str(w.message).split(" (Triggered internally")[0] for w in caught]


CASES = {
    "zero": lambda lib: lib.set_num_threads(0),
    "negative": lambda lib: lib.set_num_threads(-2),
    "float": lambda lib: lib.set_num_threads(1.5),
    "bool": lambda lib: lib.set_num_threads(True),
    "str": lambda lib: lib.set_num_threads("2"),
    "interop_zero": lambda lib: lib.set_num_interop_threads(0),
    "interop_float": lambda lib: lib.set_num_interop_threads(2.0),
    "overflow": lambda lib: lib.set_num_threads(10**20),
    "interop_overflow": lambda lib: lib.set_num_interop_threads(10**20),
    "precision_not_str": lambda lib: lib.set_float32_matmul_precision(1),
    "precision_bad": lambda lib: (
        lib.set_float32_matmul_precision("low"),
        lib.get_float32_matmul_precision(),
    ),
    "precision": lambda lib: (
        lib.set_float32_matmul_precision("medium"),
        lib.get_float32_matmul_precision(),
        lib.set_float32_matmul_precision("highest"),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_settings_match_torch(name, restore_threads):
    assert _outcome(rg, CASES[name]) == _outcome(torch, CASES[name])


def test_interop_threads_set_once():
    """(In a fresh process: PyTorch allows one call before any parallel work.)"""
    import subprocess
    import sys

    code = (
        "import {lib} as t\n"
        "print(t.get_num_interop_threads() >= 1)\n"
        "t.set_num_interop_threads(3)\n"
        "print(t.get_num_interop_threads())\n"
        "try:\n    t.set_num_interop_threads(2)\n"
        "except RuntimeError as e:\n    print(e)\n"
    )
    outs = [
        subprocess.run(
            [sys.executable, "-c", code.format(lib=lib)], capture_output=True, text=True, check=True
        ).stdout
        for lib in ("rustgrad", "torch")
    ]
    assert outs[0] == outs[1] and "cannot set number of interop threads" in outs[0]


def test_deterministic_algorithms_switch_as_pytorch():
    try:
        for lib in (rg, torch):
            assert not lib.are_deterministic_algorithms_enabled()
            lib.use_deterministic_algorithms(True, warn_only=True)
            assert lib.are_deterministic_algorithms_enabled()
            assert lib.is_deterministic_algorithms_warn_only_enabled()
            lib.use_deterministic_algorithms(False)
            assert not lib.is_deterministic_algorithms_warn_only_enabled()
        with pytest.raises(RuntimeError, match="expects a bool"):
            rg.use_deterministic_algorithms(1)
    finally:
        rg.use_deterministic_algorithms(False)
        torch.use_deterministic_algorithms(False)
