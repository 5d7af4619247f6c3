"""Grad-mode switches: ``no_grad``, ``enable_grad``, ``set_grad_enabled`` (thread-local)."""

import functools
import inspect
import sys

from rustgrad import _core


class _Mode:
    """Grad mode set to ``enabled`` inside a ``with`` block, then put back."""

    def __init__(self, enabled):
        self.enabled = enabled

    def __enter__(self):
        self.prev = _core.is_grad_enabled()
        _core._set_grad_enabled(self.enabled)

    def __exit__(self, *exc):
        _core._set_grad_enabled(self.prev)
        return False


def _wrap_generator(mode, func):
    """``func``, a generator function, with ``mode()`` (a context manager) around each of
    its steps and nothing around the caller's code between them (as PyTorch's decorators)."""

    @functools.wraps(func)
    def generator_context(*args, **kwargs):
        gen = func(*args, **kwargs)
        try:
            with mode():
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with mode():
                        gen.close()
                    raise
                except BaseException:  # noqa: BLE001 (thrown into the generator, as PyTorch's)
                    with mode():
                        response = gen.throw(*sys.exc_info())
                else:
                    with mode():
                        response = gen.send(request)
        except StopIteration as e:
            return e.value

    return generator_context


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
        if inspect.isgeneratorfunction(func):
            return _wrap_generator(lambda: _Mode(enabled), func)

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
        if not isinstance(mode, bool):
            raise TypeError(
                "set_grad_enabled(): argument 'enabled' (position 1) must be bool, not "
                f"{type(mode).__name__}"
            )
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


# ----- inference_mode ------------------------------------------------------------------------


class inference_mode(_GradModeContext):
    """Inference mode: no graph is recorded (as ``no_grad``), and tensors made inside are
    inference tensors (``t.is_inference()``), which cannot later be saved for backward or
    changed in place outside inference mode (PyTorch's errors). ``inference_mode(False)``
    switches it off inside an outer one (and grad mode back on). Usable as ``with``, as
    ``@inference_mode`` and as ``@inference_mode()``."""

    def __new__(cls, mode=True):
        if callable(mode) and not isinstance(mode, bool):
            return cls()(mode)  # bare decorator: ``@inference_mode``
        return super().__new__(cls)

    def __init__(self, mode=True):
        self.mode = bool(mode)

    def __enter__(self):
        self._prev = (_core.is_grad_enabled(), _core.is_inference_mode_enabled())
        _core._set_grad_enabled(not self.mode)
        _core._set_inference_mode(self.mode)
        return self

    def __exit__(self, *exc):
        _core._set_grad_enabled(self._prev[0])
        _core._set_inference_mode(self._prev[1])
        return False

    def __call__(self, func):
        mode = self.mode
        if inspect.isgeneratorfunction(func):
            return _wrap_generator(lambda: inference_mode(mode), func)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with inference_mode(mode):
                return func(*args, **kwargs)

        return wrapper

    def clone(self):
        """A new context manager with the same mode."""
        return self.__class__(self.mode)
