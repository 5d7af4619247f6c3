"""``rustgrad.compile`` and ``rustgrad.compiler`` (``torch.compile`` / ``torch.compiler``).

The API is PyTorch's, so scripts that compile their model or training step run unchanged:
``rustgrad.compile(fn)`` and ``@rustgrad.compile(...)`` return a callable that returns what
``fn`` returns, and a compiled module is an ``OptimizedModule`` holding the original as
``_orig_mod`` (its state dict's keys start with ``_orig_mod.``, as PyTorch's do);
``Module.compile()`` compiles a module in place.

A compiled function captures and replays (``_capture.py``; the guide is ``docs/compile.md``):
its first calls run eagerly while the core records every kernel; once two recordings agree,
calls whose guards hold replay the kernels in Rust, bit for bit eager's results. What a replay
cannot reproduce (random numbers, printing, Python state changes, ...) runs eagerly, with the
reason in :func:`explain`; ``fullgraph=True`` raises :class:`Unsupported` then. A compiled
module runs eagerly (its backward happens outside the call). ``mode``, ``dynamic``,
``backend`` and ``options`` are checked as PyTorch checks them and otherwise have no effect.
"""

import functools

from rustgrad.compiler._capture import ExplainOutput, Unsupported

__all__ = [
    "ExplainOutput",
    "Unsupported",
    "compile",
    "disable",
    "explain",
    "is_compiling",
    "is_dynamo_compiling",
    "reset",
]

_MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")


def __getattr__(name):
    # ``OptimizedModule`` is made on first use: ``nn`` imports this package's parent.
    if name == "OptimizedModule":
        return _optimized_module()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def _optimized_module():
    from rustgrad.nn.modules.module import Module

    class OptimizedModule(Module):
        """A compiled module: calls run ``_orig_mod``; attributes it lacks come from it."""

        def __init__(self, mod):
            super().__init__()
            self._orig_mod = mod

        def forward(self, *args, **kwargs):
            return self._orig_mod(*args, **kwargs)

        def __getattr__(self, name):
            modules = self.__dict__.get("_modules")
            if modules is None or "_orig_mod" not in modules or name.startswith("__"):
                # (mid-construction, or while copy/pickle probe a bare instance)
                raise AttributeError(name)
            try:
                return super().__getattr__(name)
            except AttributeError:
                return getattr(modules["_orig_mod"], name)

        def __reduce__(self):
            return (_rebuild_optimized, (self._orig_mod,))

    OptimizedModule.__module__ = __name__
    OptimizedModule.__qualname__ = "OptimizedModule"
    return OptimizedModule


def _rebuild_optimized(mod):
    return _optimized_module()(mod)


def compile(
    model=None,
    *,
    fullgraph=False,
    dynamic=None,
    backend="inductor",
    mode=None,
    options=None,
    disable=False,
):
    """``model`` (a function or an ``nn.Module``) compiled; without ``model``, a decorator.
    It runs eagerly (see the module docstring)."""
    if model is None:

        def decorate(model):
            return compile(
                model,
                fullgraph=fullgraph,
                dynamic=dynamic,
                backend=backend,
                mode=mode,
                options=options,
                disable=disable,
            )

        return decorate
    if mode is not None and options is not None:
        raise RuntimeError(
            "Either mode or options can be specified, but both can't be specified at the same time."
        )
    if mode is not None and mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(_MODES)}")
    if not callable(model):
        raise AssertionError(  # noqa: TRY004 (PyTorch raises this type)
            f"A callable function is expected, but {type(model)} is provided."
        )
    from rustgrad.nn.modules.module import Module

    if isinstance(model, Module):
        return _optimized_module()(model)

    if disable:
        return model
    from rustgrad.compiler._capture import Compiled

    capture = Compiled(model, fullgraph=fullgraph)

    @functools.wraps(model)
    def compiled(*args, **kwargs):
        return capture(*args, **kwargs)

    compiled._torchdynamo_orig_callable = model
    compiled._rustgrad_capture = capture
    return compiled


def disable(fn=None, recursive=True, *, reason=None):
    """``fn`` left out of compilation (everything runs eagerly here); a decorator without
    ``fn``."""
    if fn is None:
        return lambda fn: fn
    return fn


def is_compiling():
    """False: nothing is being traced (compiled functions run eagerly)."""
    return False


def is_dynamo_compiling():
    """False, as :func:`is_compiling`."""
    return False


def reset():
    """Forget every recording of every compiled function (they capture again on their next
    calls), and the objects their guards held."""
    from rustgrad.compiler._capture import reset_all

    reset_all()


def explain(fn, *args, **kwargs):
    """What keeps ``fn`` from replaying: with arguments, runs ``fn(*args, **kwargs)`` once
    (eagerly, recording) and returns an ``ExplainOutput`` (``graph_count``,
    ``graph_break_count``, ``break_reasons``, ``op_count``: the kernels recorded); without,
    returns a function that does so (``torch._dynamo.explain(fn)(*args)``)."""
    from rustgrad.compiler._capture import explain_call

    def run(*args, **kwargs):
        return explain_call(fn, args, kwargs)[1]

    return run(*args, **kwargs) if args or kwargs else run


def _stats(compiled):
    """Counts of a compiled function's calls: ``recordings``, ``replays``, ``eager`` (calls
    that ran eagerly without recording) and the break ``reasons`` seen."""
    return dict(compiled._rustgrad_capture.stats)
