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
        enabled = self._enabled

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            prev = _core.is_grad_enabled()
            _core._set_grad_enabled(enabled)
            try:
                return func(*args, **kwargs)
            finally:
                _core._set_grad_enabled(prev)

        return wrapper


class _NoArgDecorator(_GradModeContext):
    """Also usable as a bare decorator (``@no_grad`` as well as ``@no_grad()``)."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)

    def __init__(self, orig_func=None):
        self._enabled = self._mode


class no_grad(_NoArgDecorator):  # lower-case: PyTorch's name
    """Disable graph recording inside the block (or decorated function)."""

    _mode = False


class enable_grad(_NoArgDecorator):
    """Enable graph recording inside the block, e.g. within ``no_grad``."""

    _mode = True


class set_grad_enabled(_GradModeContext):
    """Set grad mode; takes effect immediately, and restores on exit when used with ``with``.

    As a decorator (``@set_grad_enabled(False)``) it only applies inside the function.
    """

    def __init__(self, mode: bool):
        self._prev = _core.is_grad_enabled()
        self._enabled = bool(mode)
        _core._set_grad_enabled(self._enabled)

    def __call__(self, func):
        # Decorating must not leave the mode changed for the rest of the program.
        _core._set_grad_enabled(self._prev)
        return super().__call__(func)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _core._set_grad_enabled(self._prev)
        return False
