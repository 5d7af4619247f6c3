"""Anomaly detection: ``detect_anomaly`` and ``set_detect_anomaly``, as in ``torch.autograd``.

With anomaly mode on, every graph node records the Python stack where it was created, and a
backward formula that produces NaN raises::

    RuntimeError: Function 'SqrtBackward0' returned nan values in its 0th output.
    Traceback of forward call that caused the error:
      File "train.py", line 12, in <module>
        y = x.sqrt()

Recording stacks makes every op slower: enable it only while debugging. The switch itself lives
in the Rust core (``_core._set_anomaly_enabled``) and is global to the process, as PyTorch's is.
"""

import functools
import warnings

from rustgrad import _core


def is_anomaly_enabled():
    """Whether anomaly detection is on."""
    return _core._is_anomaly_enabled()


def is_anomaly_check_nan_enabled():
    """Whether anomaly detection checks backward's results for NaN."""
    return _core._is_anomaly_check_nan_enabled()


def _state():
    return _core._is_anomaly_enabled(), _core._is_anomaly_check_nan_enabled()


class detect_anomaly:  # lower-case: PyTorch's name
    """Context manager (and decorator) that turns anomaly detection on inside its block.

    The previous state is restored on exit, so blocks nest. With ``check_nan=False`` a NaN
    from backward does not raise (the creation stacks are still recorded).

    Example::

        with rustgrad.autograd.detect_anomaly():
            loss = model(x).sum()
            loss.backward()      # raises, naming the node and where it was created
    """

    def __init__(self, check_nan=True):
        self.check_nan = check_nan
        self.prev = None
        warnings.warn(
            "Anomaly Detection has been enabled. This mode will increase the runtime and "
            "should only be enabled for debugging.",
            stacklevel=2,
        )

    def __enter__(self):
        self.prev = _state()
        _core._set_anomaly_enabled(True, bool(self.check_nan))
        return self

    def __exit__(self, *exc):
        _core._set_anomaly_enabled(*self.prev)
        return False

    def __call__(self, func):
        check_nan = bool(self.check_nan)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            prev = _state()
            _core._set_anomaly_enabled(True, check_nan)
            try:
                return func(*args, **kwargs)
            finally:
                _core._set_anomaly_enabled(*prev)

        return wrapper


class set_detect_anomaly:  # lower-case: PyTorch's name
    """Turn anomaly detection on or off; takes effect immediately.

    Used as ``with set_detect_anomaly(mode):`` it restores the previous state on exit; called
    as a plain function the setting stays.
    """

    def __init__(self, mode, check_nan=True):
        self.prev = _state()
        self.mode = bool(mode)
        self.check_nan = check_nan
        _core._set_anomaly_enabled(self.mode, bool(check_nan))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _core._set_anomaly_enabled(*self.prev)
        return False


__all__ = [
    "detect_anomaly",
    "is_anomaly_check_nan_enabled",
    "is_anomaly_enabled",
    "set_detect_anomaly",
]
