"""``torch.jit`` for scripts that script or trace their models and helpers.

``script`` and ``trace`` give back the function or module itself, so calls compute what the
eager code computes (as compiled calls do: ``rustgrad.compiler``); ``ignore``, ``unused``,
``export`` and ``script_if_tracing`` are decorators that change nothing; ``is_scripting`` and
``is_tracing`` are False. TorchScript itself (``save``, ``load``, ``.graph``, ``.code``) is not
here: ``save``/``load`` raise ``NotImplementedError`` (save a ``state_dict`` instead).
"""

import typing

__all__ = [
    "Final",
    "annotate",
    "export",
    "ignore",
    "is_scripting",
    "is_tracing",
    "load",
    "save",
    "script",
    "script_if_tracing",
    "trace",
    "trace_module",
    "unused",
]

Final = typing.Final


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """``obj`` (a function or module) itself: its calls run eagerly."""
    return obj


def trace(func, example_inputs=None, *args, **kwargs):
    """``func`` (a function or module) itself: its calls run eagerly (no trace is kept)."""
    return func


def trace_module(mod, inputs, *args, **kwargs):
    """``mod`` itself, as :func:`trace`."""
    return mod


def ignore(drop=False, **kwargs):
    """A decorator (with or without arguments) that leaves the function as it is."""
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    """``fn`` itself."""
    return fn


def export(fn):
    """``fn`` itself."""
    return fn


def script_if_tracing(fn):
    """``fn`` itself."""
    return fn


def is_scripting():
    """False: code runs eagerly."""
    return False


def is_tracing():
    """False: code runs eagerly."""
    return False


def annotate(the_type, the_value):
    """``the_value`` (the type is for TorchScript only)."""
    return the_value


def save(m, f, _extra_files=None):
    """TorchScript serialisation is not supported."""
    raise NotImplementedError(
        "rustgrad.jit.save: TorchScript is not supported; save the module's state_dict "
        "with rustgrad.save instead"
    )


def load(f, map_location=None, _extra_files=None, _restore_shapes=False):
    """TorchScript archives cannot be loaded."""
    raise NotImplementedError("rustgrad.jit.load: TorchScript archives cannot be loaded")
