"""``inference_mode``: no graph inside, inference tensors, and PyTorch's errors when those are
used with autograd outside it (compared with PyTorch's messages)."""

import pytest
import rustgrad as rg
from conftest import assert_close, raises

torch = pytest.importorskip("torch")


def _both(fn):
    """``fn(lib)`` with each library: PyTorch's exception, then rustgrad's, same type and
    message."""
    with pytest.raises(Exception) as expected:
        fn(torch)
    with raises(type(expected.value), str(expected.value)):
        fn(rg)


def test_context_and_decorators():
    w = rg.ones(3, requires_grad=True)
    assert not rg.is_inference_mode_enabled()
    with rg.inference_mode():
        assert rg.is_inference_mode_enabled() and not rg.is_grad_enabled()
        y = w * 2
        with rg.inference_mode(False):
            assert not rg.is_inference_mode_enabled() and rg.is_grad_enabled()
            z = w * 2
    assert not rg.is_inference_mode_enabled() and rg.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad and y.is_inference()
    assert z.requires_grad and not z.is_inference()

    @rg.inference_mode
    def bare(x):
        return x * 2

    @rg.inference_mode()
    def called(x):
        return x * 2

    @rg.autograd.inference_mode(mode=False)
    def off(x):
        return x * 2

    for f, inference in [(bare, True), (called, True), (off, False)]:
        out = f(w)
        assert out.is_inference() == inference and rg.is_inference(out) == inference
        assert out.requires_grad == (not inference)
    assert not rg.is_inference_mode_enabled()


def test_is_inference_matches_torch():
    for lib in (rg, torch):
        normal = lib.ones(2, 3)
        with lib.inference_mode():
            made = lib.ones(2, 3)
            view_of_normal = normal[0]  # a view of a normal tensor stays normal
            result = normal * 2
            view_of_made = made.t()
        outside_view = made[1]
        assert not normal.is_inference()
        assert made.is_inference() and result.is_inference()
        assert not view_of_normal.is_inference()
        assert view_of_made.is_inference() and outside_view.is_inference()
        assert made.detach().is_inference()
        assert not made.clone().is_inference()


def test_inference_tensor_saved_for_backward_errors():
    def save(lib):
        with lib.inference_mode():
            x = lib.ones(3)
        w = lib.ones(3, requires_grad=True)
        return x * w  # mul saves x for w's gradient

    _both(save)  # message as PyTorch 2.13 words it

    def ok_add(lib):
        with lib.inference_mode():
            x = lib.ones(3)
        w = lib.ones(3, requires_grad=True)
        return (x + w).sum()  # add saves nothing: allowed

    for lib in (rg, torch):
        out = ok_add(lib)
        out.backward()


def test_clone_is_the_workaround():
    with rg.inference_mode():
        x = rg.tensor([1.0, 2.0, 3.0])
    w = rg.ones(3, requires_grad=True)
    (x.clone() * w).sum().backward()
    assert_close(w.grad, [1.0, 2.0, 3.0])


def test_inplace_on_inference_tensor_outside_errors_and_keeps_data():
    for op in ["add_", "mul_", "fill_", "zero_", "copy_", "setitem"]:

        def inplace(lib, op=op):
            with lib.inference_mode():
                x = lib.ones(3)
            if op == "setitem":
                x[0] = 5.0
            elif op in ("fill_",):
                x.fill_(2.0)
            elif op == "zero_":
                x.zero_()
            elif op == "copy_":
                x.copy_(lib.zeros(3))
            else:
                getattr(x, op)(2.0)

        _both(inplace)
    with rg.inference_mode():
        x = rg.ones(3)
    with pytest.raises(RuntimeError):
        x.add_(1.0)
    assert_close(x, [1.0, 1.0, 1.0])
    with rg.inference_mode():
        x.add_(1.0)  # allowed inside
    assert_close(x, [2.0, 2.0, 2.0])


def test_requires_grad_on_inference_tensor_outside_errors():
    def req(lib):
        with lib.inference_mode():
            x = lib.ones(3)
        x.requires_grad_(True)

    _both(req)


def test_inference_mode_is_thread_local():
    import threading

    seen = []
    with rg.inference_mode():
        t = threading.Thread(target=lambda: seen.append(rg.ones(1).is_inference()))
        t.start()
        t.join()
    assert seen == [False]


def test_enable_grad_inside_inference_mode_records_nothing_as_torch():
    results = []
    for lib in (torch, rg):
        x = lib.ones(2, requires_grad=True)
        with lib.inference_mode(), lib.enable_grad():
            y = x * 2
            enabled = lib.is_grad_enabled()
        results.append((y.requires_grad, y.grad_fn is None, enabled, lib.is_grad_enabled()))
    assert results[1] == results[0] == (False, True, True, True)
