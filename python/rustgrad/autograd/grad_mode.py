"""Grad-mode switches: ``no_grad``, ``enable_grad``, ``set_grad_enabled`` (thread-local)."""

import functools

from rustgrad import _core


class _GradModeContext:
    """Base for context managers that also work as decorators."""

    _enabled: bool

    def __enter__(self):
        self._prev = _core.is_grad_enabled()
        _core._set_grad_enabled(self._enabled)
        return self

    def __exit__(self, *exc):
        _core._set_grad_enabled(self._prev)
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            prev = _core.is_grad_enabled()
            _core._set_grad_enabled(self._enabled)
            try:
                return func(*args, **kwargs)
            finally:
                _core._set_grad_enabled(prev)

        return wrapper


class no_grad(_GradModeContext):  # lower-case: PyTorch's name
    """Disable graph recording inside the block (or decorated function)."""

    def __init__(self):
        self._enabled = False


class enable_grad(_GradModeContext):
    """Enable graph recording inside the block, e.g. within ``no_grad``."""

    def __init__(self):
        self._enabled = True


class set_grad_enabled(_GradModeContext):
    """Set grad mode; takes effect immediately, and restores on exit when used with ``with``."""

    def __init__(self, mode: bool):
        self._prev = _core.is_grad_enabled()
        self._enabled = bool(mode)
        _core._set_grad_enabled(self._enabled)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _core._set_grad_enabled(self._prev)
        return False
