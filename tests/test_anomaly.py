"""Anomaly mode: ``detect_anomaly`` / ``set_detect_anomaly`` name the node that produced NaN in
backward and show where in the user's code that node was created."""

import math
import warnings

import numpy as np
import pytest
import rustgrad as rg
from conftest import raises
from rustgrad.autograd import Function, detect_anomaly, is_anomaly_enabled, set_detect_anomaly

TRACEBACK = "Traceback of forward call that caused the error:"
THIS_FILE = "test_anomaly.py"


@pytest.fixture(autouse=True)
def _anomaly_off_around_each_test():
    assert not is_anomaly_enabled(), "anomaly mode leaked from an earlier test"
    yield
    set_detect_anomaly(False)


@pytest.fixture
def quiet():
    """detect_anomaly() warns that it slows things down; keep test output clean."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Anomaly Detection has been enabled")
        yield


def sqrt_at_zero():
    x = rg.tensor([0.0, 1.0], requires_grad=True)
    y = (x.sqrt() * 0.0).sum()  # sqrt's backward: 0 / (2 * sqrt(0)) = 0 / 0
    return x, y


class ZeroOverZero(Function):
    @staticmethod
    def forward(ctx, a):
        return a * 1.0

    @staticmethod
    def backward(ctx, grad):
        return grad * 0.0 / 0.0


class NanSecond(Function):
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad * math.nan


# ---------------------------------------------------------------- off by default


def test_off_by_default_nan_passes_silently():
    assert is_anomaly_enabled() is False
    x, y = sqrt_at_zero()
    y.backward()
    g = x.grad.numpy()
    assert math.isnan(g[0]) and g[1] == 0.0


# ---------------------------------------------------------------- detection


def test_nan_in_builtin_backward_names_node_and_creating_line(quiet):
    with detect_anomaly():
        x = rg.tensor([0.0, 1.0], requires_grad=True)
        y = (x.sqrt() * 0.0).sum()  # the creating line
        with raises(
            RuntimeError, "Function 'SqrtBackward0' returned nan values in its 0th output."
        ) as info:
            y.backward()
    msg = str(info.value)
    assert TRACEBACK in msg
    assert THIS_FILE in msg
    assert "y = (x.sqrt() * 0.0).sum()  # the creating line" in msg
    assert "test_nan_in_builtin_backward_names_node_and_creating_line" in msg


def test_names_the_node_that_produced_nan_not_its_consumers(quiet):
    with detect_anomaly():
        x = rg.tensor([0.0, 4.0], requires_grad=True)
        y = ((x.sqrt() * 0.0).exp() * 2.0).sum()
        with raises(RuntimeError, "Function 'SqrtBackward0' returned nan") as info:
            y.backward()
    assert "MulBackward0" not in str(info.value).split("\n")[0]


def make_model(x):
    return x.sqrt()  # created inside a helper


def test_traceback_shows_the_whole_forward_stack(quiet):
    with detect_anomaly():
        x = rg.tensor([0.0], requires_grad=True)
        y = (make_model(x) * 0.0).sum()  # caller line
        with raises(RuntimeError, "SqrtBackward0") as info:
            y.backward()
    msg = str(info.value)
    assert "return x.sqrt()  # created inside a helper" in msg
    assert "y = (make_model(x) * 0.0).sum()  # caller line" in msg
    assert msg.index("caller line") < msg.index("created inside a helper")  # outermost first


def test_nan_in_custom_function_backward(quiet):
    with detect_anomaly():
        x = rg.tensor([1.0, 2.0], requires_grad=True)
        y = ZeroOverZero.apply(x).sum()  # custom creating line
        with raises(
            RuntimeError, "Function 'ZeroOverZeroBackward' returned nan values in its 0th output."
        ) as info:
            y.backward()
    msg = str(info.value)
    assert TRACEBACK in msg and THIS_FILE in msg
    assert "y = ZeroOverZero.apply(x).sum()  # custom creating line" in msg


def test_nan_in_second_output_is_numbered(quiet):
    with detect_anomaly():
        a = rg.tensor([1.0], requires_grad=True)
        b = rg.tensor([2.0], requires_grad=True)
        y = NanSecond.apply(a, b).sum()
        with raises(
            RuntimeError, "Function 'NanSecondBackward' returned nan values in its 1th output."
        ):
            y.backward()


def test_nan_through_autograd_grad(quiet):
    with detect_anomaly():
        x, y = sqrt_at_zero()
        with raises(RuntimeError, "Function 'SqrtBackward0' returned nan values"):
            rg.autograd.grad(y, x)


def test_no_error_without_nan(quiet):
    with detect_anomaly():
        x = rg.tensor([1.0, 4.0], requires_grad=True)
        y = (x.sqrt() * 2.0).sum()
        y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 0.5])


def test_graph_built_before_enabling_still_checked_at_backward(quiet):
    # The NaN check happens in backward; only the creation stack needs anomaly mode at forward.
    _, y = sqrt_at_zero()
    with detect_anomaly(), raises(RuntimeError, "returned nan values") as info:
        y.backward()
    assert "y = (x.sqrt() * 0.0).sum()" not in str(info.value)


def test_graph_built_with_anomaly_but_backward_without(quiet):
    with detect_anomaly():
        x, y = sqrt_at_zero()
    y.backward()  # anomaly mode is off again: no check
    assert math.isnan(x.grad.numpy()[0])


def test_nan_from_forward_is_flagged_at_its_backward(quiet):
    # sqrt(-1) is NaN already in forward (not checked); its backward 1 / (2 * NaN) is NaN, so
    # SqrtBackward0 is the node flagged, as in PyTorch.
    with detect_anomaly():
        x = rg.tensor([-1.0], requires_grad=True)
        y = x.sqrt().sum()
        with raises(RuntimeError, "SqrtBackward0"):
            y.backward()


# ---------------------------------------------------------------- switching on and off


def test_detect_anomaly_warns_and_restores():
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"), detect_anomaly():
        assert is_anomaly_enabled()
    assert not is_anomaly_enabled()


def test_detect_anomaly_restores_after_exception(quiet):
    with pytest.raises(ValueError), detect_anomaly():
        raise ValueError("inside")
    assert not is_anomaly_enabled()


def test_nested_blocks_restore_the_previous_state(quiet):
    with detect_anomaly():
        with set_detect_anomaly(False):
            assert not is_anomaly_enabled()
            with detect_anomaly():
                assert is_anomaly_enabled()
            assert not is_anomaly_enabled()
        assert is_anomaly_enabled()
    assert not is_anomaly_enabled()


def test_detect_anomaly_as_decorator(quiet):
    @detect_anomaly()
    def inside():
        return is_anomaly_enabled()

    assert not is_anomaly_enabled()
    assert inside() is True
    assert not is_anomaly_enabled()


def test_set_detect_anomaly_as_a_function():
    set_detect_anomaly(True)
    assert is_anomaly_enabled()
    set_detect_anomaly(False)
    assert not is_anomaly_enabled()


def test_set_detect_anomaly_as_context_manager():
    with set_detect_anomaly(True):
        assert is_anomaly_enabled()
    assert not is_anomaly_enabled()
    set_detect_anomaly(True)
    with set_detect_anomaly(False):
        assert not is_anomaly_enabled()
    assert is_anomaly_enabled()


def test_exported_from_autograd():
    assert rg.autograd.detect_anomaly is detect_anomaly
    assert rg.autograd.set_detect_anomaly is set_detect_anomaly


@pytest.mark.parametrize("form", ["detect_anomaly", "set_detect_anomaly"])
def test_check_nan_false_lets_nan_gradients_through_as_torch(form):
    torch = pytest.importorskip("torch")
    results = []
    for lib in (torch, rg):
        x = lib.tensor([0.0, 1.0], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mode = (
                lib.autograd.detect_anomaly(check_nan=False)
                if form == "detect_anomaly"
                else lib.autograd.set_detect_anomaly(True, check_nan=False)
            )
        with mode:
            inside = (lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled())
            (x.sqrt() * 0).sum().backward()
        after = (lib.is_anomaly_enabled(), lib.is_anomaly_check_nan_enabled())
        results.append((inside, after, [math.isnan(g) for g in x.grad.tolist()]))
    assert results[1] == results[0] == (((True, False), (False, True), [True, False]))
