"""Capture and replay of a compiled function (issue 15, milestone M1; ``docs/compile-plan.md``).

A compiled function runs eagerly while the core records every kernel it calls (forward,
backward, optimizer update). Once two recordings in a row agree, later calls with the same
guards replay the recorded kernels in Rust: no Python, graph nodes or dispatch per op, and
the results bit for bit eager's (the same kernels on the same layouts in the same order).

Guards, checked before each replay:

- the Python state the function can reach (its arguments, closure, the globals its code and
  the code of functions and classes it reaches names, and everything inside those: module
  attributes, optimizer ``param_groups`` and ``state``, lists, dicts, plain numbers), as
  type/value tokens for numbers and strings and identity for other objects;
- each reachable tensor's dtype, device, layout, storage size, ``requires_grad``, leaf-ness,
  whether it has a ``.grad``, and which of them share storage (checked in Rust);
- grad mode, inference mode and the default dtype;
- every host read (``.item()``, ``.tolist()``, indexing by a tensor) finds the values it read
  at capture, else the call runs eagerly (nothing visible has happened by then).

What a replay cannot reproduce makes the call eager (a *break*, with a reason in
``explain``): random numbers, conv2d/LSTM kernels, printing and other calls with effects
outside rustgrad, changes to Python state, tensors made inside the function that outlive it,
hooks, returned tensors whose graph was not consumed, host reads after the function changed
its inputs (e.g. returning ``loss.item()`` after ``optimizer.step()``).
"""

import array
import builtins
import collections
import collections.abc
import contextlib
import functools
import os
import sys
import types
import weakref

import numpy as np

import rustgrad
from rustgrad import _core

__all__ = ["Compiled", "ExplainOutput", "Unsupported", "explain_call", "reset_all"]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_TRUSTED_DIRS = (_PACKAGE_DIR, contextlib.__file__)


def _effect_files():
    """``{file: module}`` of the standard library's Python modules whose functions read or
    change state outside the program (the environment, files, clocks, random numbers)."""
    import importlib

    files = {}
    for name in (
        "os", "random", "logging", "uuid", "secrets", "tempfile", "subprocess", "socket",
        "pathlib", "shutil", "glob", "datetime", "getpass", "warnings", "io", "_pyio",
    ):  # fmt: skip
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        files[f"<frozen {name}>"] = name  # (``os`` is a frozen module: its code says so)
        path = getattr(module, "__file__", None)
        if path:
            files[path] = name
    return files


_EFFECT_FILES = _effect_files()
_NUMPY_DIR = os.path.dirname(np.__file__)
# How many entries (guard sets) one function keeps, as dynamo's ``cache_size_limit``.
_CACHE_LIMIT = 8
# Recordings that disagree or break before a guard set stays eager.
_RECORD_LIMIT = 4
# NumPy arrays up to this many bytes are guarded by value; larger ones make the call eager.
_NDARRAY_GUARD_BYTES = 1 << 16

_SAFE_BUILTINS = frozenset(
    getattr(builtins, n)
    for n in [
        "abs",
        "all",
        "any",
        "bool",
        "callable",
        "chr",
        "divmod",
        "enumerate",
        "filter",
        "float",
        "format",
        "getattr",
        "hasattr",
        "hash",
        "id",
        "int",
        "isinstance",
        "issubclass",
        "iter",
        "len",
        "list",
        "map",
        "max",
        "min",
        "ord",
        "pow",
        "range",
        "repr",
        "reversed",
        "round",
        "slice",
        "sorted",
        "str",
        "sum",
        "tuple",
        "type",
        "zip",
        "dict",
        "set",
        "frozenset",
        "super",
        "setattr",
        "delattr",
        "vars",
    ]
)
_SAFE_MODULES = frozenset({"math", "_operator", "operator", "itertools", "rustgrad._core"})
# Empty containers inside a dict are one token each, without identity (hook dicts).
_EMPTY_SKIPPABLE = frozenset({dict, list, set, tuple, __import__("collections").OrderedDict})
_SCALARS = frozenset({type(None), bool, int, str, bytes, complex})
_TENSOR_TYPES = (rustgrad.Tensor,)
_Module = None  # rustgrad.nn.Module (imported on first use: nn imports this package's parent)
_CONTAINERS = (list, dict, set, frozenset, tuple, str, bytes, int, float, complex)


class Unsupported(RuntimeError):
    """Raised by ``compile(fn, fullgraph=True)`` when ``fn`` cannot be captured whole (the
    call itself ran eagerly first)."""


class ExplainOutput:
    """What ``explain`` found in one call (``torch._dynamo.explain``'s fields)."""

    def __init__(self, reasons, op_count):
        self.break_reasons = list(reasons)
        self.graph_break_count = len(self.break_reasons)
        self.graph_count = 0 if self.break_reasons else 1
        self.op_count = op_count

    def __repr__(self):
        lines = [
            f"Graph Count: {self.graph_count}",
            f"Graph Break Count: {self.graph_break_count}",
            f"Op Count: {self.op_count}",
            "Break Reasons:",
        ]
        lines += [f"  Break Reason {i + 1}: {r}" for i, r in enumerate(self.break_reasons)]
        return "\n".join(lines)


# ----- the walk of reachable state ----------------------------------------------------------


class _Walk:
    """Tokens for everything ``fn`` can reach, and the tensors among it (in walk order)."""

    def __init__(self):
        self.tokens = []
        self.tensors = []
        self.seen = {}
        # The objects whose ids are tokens, in ``seen`` order (held so ids are not reused)
        self.objects = []
        self.keep = []  # (and the classes walked)
        self.unguardable = None
        self.codes = set()
        self.classes = set()

    def value(self, v, depth=0):
        tokens = self.tokens
        t = type(v)
        if t in _SCALARS:
            tokens.append((t, v))
            return
        if t is float:
            tokens.append((t, repr(v)))  # (repr: NaN equals itself, -0.0 differs from 0.0)
            return
        key = id(v)
        seen = self.seen
        if key in seen:
            tokens.append(("seen", seen[key]))
            return
        seen[key] = len(seen)
        self.objects.append(v)
        walk = _WALKERS.get(t) or _walker_of(t)
        if depth > 40 and walk is not _Walk.tensor and walk is not _Walk.module_value:
            tokens.append(("deep", key))
            return
        walk(self, v, depth)

    # One walker per kind of object, picked once per type (``_walker_of``).

    def tensor(self, v, depth):
        self.tokens.append(("T", len(self.tensors)))
        self.tensors.append(v)
        attrs = getattr(v, "__dict__", None)  # (a Parameter's or subclass's attributes)
        if attrs:
            self.value(attrs, depth + 1)

    def module_value(self, v, depth):
        self.module(v, depth + 1)

    def sequence(self, v, depth):
        self.tokens.append((type(v), len(v)))
        for x in v:
            self.value(x, depth + 1)

    def mapping(self, v, depth):
        tokens = self.tokens
        keys = tuple(v)
        if all(type(k) is str for k in keys):
            tokens.append((type(v), keys))  # (the common case: one token for the keys)
        else:
            tokens.append((type(v), len(keys)))
            for k in keys:
                self.value(k, depth + 1)
        for x in v.values():
            c = x.__class__
            if c in _SCALARS:
                tokens.append((c, x))
            elif c in _EMPTY_SKIPPABLE and not x:
                tokens.append(c)
            else:
                self.value(x, depth + 1)

    def unordered(self, v, depth):
        self.tokens.append((type(v), len(v)))
        for x in sorted(v, key=repr):
            self.value(x, depth + 1)

    def by_str(self, v, depth):
        self.tokens.append((type(v), str(v)))

    def identity(self, v, depth):
        self.tokens.append(("id", id(v)))

    def ndarray(self, v, depth):
        if v.nbytes > _NDARRAY_GUARD_BYTES:
            self.unguardable = "reads a NumPy array too large to guard by value"
        self.tokens.append(("ndarray", v.dtype.str, v.shape, v.tobytes()))

    def np_scalar(self, v, depth):
        self.tokens.append(("np", v.dtype.str, v.tobytes()))

    def function_value(self, v, depth):
        self.tokens.append(("fn", id(v)))
        if not hasattr(v, "_rustgrad_capture"):  # (a compiled function guards itself)
            self.function(v, depth + 1)

    def method(self, v, depth):
        self.tokens.append(("method", id(v)))
        self.value(v.__self__, depth + 1)
        self.value(v.__func__, depth + 1)

    def class_value(self, v, depth):
        self.tokens.append(("class", id(v)))
        self.cls(v, depth + 1)

    def builtin(self, v, depth):
        self.tokens.append(("builtin", id(v)))
        owner = getattr(v, "__self__", None)
        if owner is not None and not isinstance(owner, types.ModuleType):
            self.value(owner, depth + 1)  # (a bound method: ``d.get`` reads ``d``)

    def partial(self, v, depth):
        self.tokens.append(("partial", id(v)))
        self.value(v.func, depth + 1)
        self.value(v.args, depth + 1)
        self.value(v.keywords, depth + 1)

    def deque(self, v, depth):
        self.tokens.append((type(v), len(v), v.maxlen))
        for x in v:
            self.value(x, depth + 1)

    def buffer(self, v, depth):
        self.tokens.append((type(v), bytes(v)))

    def array(self, v, depth):
        self.tokens.append((type(v), v.typecode, v.tobytes()))

    def iterator(self, v, depth):
        # (a for loop advances it without any call the monitor sees)
        self.unguardable = "reads an iterator, whose position a replay would not advance"
        self.tokens.append(("iterator", id(v)))

    def instance(self, v, depth):
        t = type(v)
        state = getattr(v, "__dict__", None)
        self.tokens.append(("obj", id(t), id(v)))
        self.cls(t, depth + 1)
        if isinstance(state, dict):
            self.value(state, depth + 1)
        slots = getattr(t, "__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            self.value(getattr(v, name, None), depth + 1)

    def first_visit(self, x):
        """Registers ``x`` in the walk; False (after a back-reference token) when the walk
        has already seen it."""
        key, seen = id(x), self.seen
        if key in seen:
            self.tokens.append(("seen", seen[key]))
            return False
        seen[key] = len(seen)
        self.objects.append(x)
        return True

    def module(self, m, depth):
        """An ``nn.Module``: its attributes, the (usually empty) hook dicts by emptiness;
        parameter and submodule dicts inline (the walk's hot path)."""
        tokens, seen, objects = self.tokens, self.seen, self.objects
        tokens.append(("M", id(type(m)), id(m)))
        self.cls(type(m), depth)
        for name, x in m.__dict__.items():
            c = x.__class__
            if c in _SCALARS:
                tokens.append((name, c, x))
            elif c in _EMPTY_SKIPPABLE and not x:
                tokens.append(name)
            elif name in ("_parameters", "_modules") and c is collections.OrderedDict:
                if not self.first_visit(x):
                    continue
                tokens.append((name, tuple(x)))
                params = name == "_parameters"
                for item in x.values():
                    if (
                        item is None
                        or id(item) in seen
                        or (params and getattr(item, "__dict__", True))
                    ):
                        self.value(item, depth + 1)  # (the general path)
                        continue
                    seen[id(item)] = len(seen)
                    objects.append(item)
                    if params:
                        tokens.append(len(self.tensors))
                        self.tensors.append(item)
                    else:
                        self.module(item, depth + 1)
            else:
                tokens.append((name,))
                self.value(x, depth)

    def cls(self, c, depth):
        """A user class: the globals its methods name (library classes are trusted)."""
        module = getattr(c, "__module__", "") or ""
        if module.startswith(("rustgrad", "builtins", "numpy")) or id(c) in self.classes:
            return
        self.classes.add(id(c))
        self.keep.append(c)
        for k in sorted(vars(c)):
            f = vars(c)[k]
            if isinstance(f, (staticmethod, classmethod)):
                f = f.__func__
            if isinstance(f, property):
                f = f.fget
            if isinstance(f, types.FunctionType):
                self.function(f, depth + 1)
            elif not (k.startswith("__") and k.endswith("__")) and not isinstance(f, type):
                self.tokens.append(("class attr", k))  # (class-level settings and counters)
                self.value(f, depth + 1)

    def function(self, f, depth):
        """A function's closure, defaults and the globals its code names."""
        if f.__module__ and f.__module__.startswith("rustgrad"):
            return
        cells = f.__closure__ or ()
        self.value([c.cell_contents for c in cells if _filled(c)], depth + 1)
        self.value(f.__defaults__, depth + 1)
        self.value(f.__kwdefaults__, depth + 1)
        self.code_globals(f.__code__, f.__globals__, depth + 1)

    def code_globals(self, code, globs, depth):
        if (id(code), id(globs)) in self.codes:
            return
        self.codes.add((id(code), id(globs)))
        names = code.co_names
        # (names in string constants too: ``getattr(cfg, "scale")``, ``vars(cfg)["scale"]``)
        attr_names = names + tuple(c for c in code.co_consts if type(c) is str)
        for name in names:
            if name in globs:
                v = globs[name]
                self.tokens.append(("g", name))
                self.value(v, depth + 1)
                if isinstance(v, types.ModuleType) and _user_module(v):
                    # ``cfg.scale``: the attributes of a user's module that this code names
                    attrs = vars(v)
                    for attr in attr_names:
                        if attr in attrs:
                            self.tokens.append(("module attr", attr))
                            self.value(attrs[attr], depth + 1)
            elif name in _BUILTIN_NAMES and _BUILTIN_NAMES[name] is not _ORIGINAL_BUILTINS.get(
                name, _ORIGINAL_BUILTINS
            ):
                self.tokens.append(("builtin name", name))  # (set by the program)
                self.value(_BUILTIN_NAMES[name], depth + 1)
        for c in code.co_consts:
            if isinstance(c, types.CodeType):
                self.code_globals(c, globs, depth)


_BUILTIN_NAMES = builtins.__dict__
_ORIGINAL_BUILTINS = dict(builtins.__dict__)

# Packages whose modules hold no state a compiled step reads (their functions are code).
_LIBRARIES = frozenset({"rustgrad", "numpy", "torch", "jax", "scipy", "builtins"})


_WALKERS = {}


def _walker_of(t):
    """The walker of objects of type ``t`` (decided once per type)."""
    checks = [
        (_TENSOR_TYPES, _Walk.tensor),
        ((_Module,), _Walk.module_value),
        ((list, tuple), _Walk.sequence),
        ((dict,), _Walk.mapping),
        ((set, frozenset), _Walk.unordered),
        ((rustgrad.dtype, rustgrad.device), _Walk.by_str),
        ((types.ModuleType,), _Walk.identity),
        ((np.ndarray,), _Walk.ndarray),
        ((np.generic,), _Walk.np_scalar),
        ((types.FunctionType,), _Walk.function_value),
        ((types.MethodType,), _Walk.method),
        ((type,), _Walk.class_value),
        ((types.BuiltinFunctionType, types.BuiltinMethodType), _Walk.builtin),
        ((functools.partial,), _Walk.partial),
        ((collections.deque,), _Walk.deque),
        ((bytearray, memoryview), _Walk.buffer),
        ((array.array,), _Walk.array),
        ((collections.abc.Iterator,), _Walk.iterator),
    ]
    walker = next((w for kinds, w in checks if issubclass(t, kinds)), _Walk.instance)
    _WALKERS[t] = walker
    return walker


def _user_module(m):
    top = (getattr(m, "__name__", "") or "").partition(".")[0]
    return top not in _LIBRARIES and top not in sys.stdlib_module_names


def _filled(cell):
    try:
        cell.cell_contents  # noqa: B018 (an empty cell raises)
    except ValueError:
        return False
    return True


def _walk(fn, args, kwargs):
    global _Module
    if _Module is None:
        from rustgrad.nn import Module as _Module
    from rustgrad.amp import autocast_mode

    w = _Walk()
    w.tokens.append(
        (
            rustgrad.is_grad_enabled(),
            _core.is_inference_mode_enabled(),
            _core._is_anomaly_enabled(),
            str(rustgrad.get_default_dtype()),
            tuple((d, on, str(dt)) for d, (on, dt) in autocast_mode._state.items()),
        )
    )
    w.value(fn)
    w.value(args)
    w.value(kwargs)
    return w


# ----- outputs ----------------------------------------------------------------------------


def _flatten(value, tensors, inputs=None, walked=None):
    """A spec of ``value`` with its tensors replaced by their index in ``tensors`` (or, for
    a tensor the walk found, ``inputs``: its position there, so a replay returns that very
    object; for any other object the walk found, ``walked``: its place in the walk); None
    when ``value`` holds something a replay cannot rebuild."""
    t = type(value)
    if walked is not None and t not in _SCALARS and t is not float and id(value) in walked:
        return ("O", walked[id(value)])
    if isinstance(value, rustgrad.Tensor):
        if inputs is not None and id(value) in inputs:
            return ("X", inputs[id(value)])
        tensors.append(value)
        return ("T", len(tensors) - 1)
    if value is None or t in (bool, int, float, str, complex):
        return ("C", value)
    if t in (list, tuple):
        parts = [_flatten(v, tensors, inputs, walked) for v in value]
        return None if None in parts else (t, parts)
    if t is dict:
        parts = [_flatten(v, tensors, inputs, walked) for v in value.values()]
        return None if None in parts else (t, list(value.keys()), parts)
    return None


def _rebuild(spec, tensors, inputs, walked=()):
    kind = spec[0]
    if kind == "T":
        return tensors[spec[1]]
    if kind == "X":
        return inputs[spec[1]]
    if kind == "O":
        return walked[spec[1]]
    if kind == "C":
        return spec[1]
    if kind is dict:
        return {k: _rebuild(p, tensors, inputs, walked) for k, p in zip(spec[1], spec[2])}
    return kind(_rebuild(p, tensors, inputs, walked) for p in spec[1])


# ----- the effect monitor -----------------------------------------------------------------


class _Monitor:
    """A profile function that notes calls a replay would skip: C functions outside a safe
    list, and the standard library's Python modules that read or change the world."""

    def __init__(self):
        self.reason = None

    def python_call(self, frame):
        code = frame.f_code
        where = _EFFECT_FILES.get(code.co_filename)
        if where is None:
            return
        caller = frame.f_back
        if caller is not None and caller.f_code.co_filename.startswith(_TRUSTED_DIRS):
            return
        self.reason = f"calls {where}.{code.co_name}, which a replay would not run"

    def __call__(self, frame, event, arg):
        if self.reason is not None:
            return
        if event == "call":
            self.python_call(frame)
            return
        if event != "c_call":
            return
        if frame.f_code.co_filename.startswith(_TRUSTED_DIRS):
            # rustgrad's own Python layer (its kernels are recorded in Rust), and contextlib
            # driving a ``@contextmanager`` generator (whose own code is watched as it runs)
            return
        if frame.f_code.co_filename.startswith(_NUMPY_DIR):
            # NumPy's Python helpers (shape arithmetic) when rustgrad called them
            outer = frame
            while outer is not None and outer.f_code.co_filename.startswith(_NUMPY_DIR):
                outer = outer.f_back
            if outer is not None and outer.f_code.co_filename.startswith(_PACKAGE_DIR):
                return
        if arg in _SAFE_BUILTINS:
            return
        owner = getattr(arg, "__self__", None)
        if isinstance(owner, (*_CONTAINERS, rustgrad.Tensor)) or owner is _core:
            return  # (a tensor method's kernels are recorded, or break, in Rust)
        if owner in _CONTAINERS or owner is object:
            return  # ``tuple.__new__`` (a named tuple), ``object.__new__``
        module = getattr(arg, "__module__", None)
        if module in _SAFE_MODULES:
            return
        name = getattr(arg, "__qualname__", None) or getattr(arg, "__name__", repr(arg))
        self.reason = (
            f"calls {module + '.' if module else ''}{name}, which a replay would not run "
            f"({frame.f_code.co_filename}:{frame.f_lineno})"
        )


# ----- the compiled function --------------------------------------------------------------


class _Entry:
    """The recordings under one guard set."""

    def __init__(self, walk):
        self.keep = (walk.objects, walk.keep)  # held so that the ids in the key stay valid
        self.program = None
        self.out_spec = None
        self.last = None  # the previous recording (program, out_spec)
        self.failures = 0
        self.reasons = []


class Compiled:
    """``fn`` compiled: see the module docstring."""

    def __init__(self, fn, fullgraph=False):
        self.fn = fn
        self.fullgraph = fullgraph
        self.entries = {}
        self.stats = {"recordings": 0, "replays": 0, "eager": 0, "reasons": []}
        self.gave_up = False
        _LIVE.add(self)

    def __call__(self, *args, **kwargs):
        if _core._compile_recording() or self.gave_up:
            # Inside another compiled function's capture its recording takes our kernels; a
            # function none of whose guard sets replays runs eagerly without the walk.
            return self.fn(*args, **kwargs)
        walk = _walk(self.fn, args, kwargs)
        if walk.unguardable is not None:
            return self._eager(walk.unguardable, args, kwargs)
        key = tuple(walk.tokens)
        entry = self.entries.get(key)
        if entry is None:
            if len(self.entries) >= _CACHE_LIMIT:
                return self._eager(
                    f"more than {_CACHE_LIMIT} guard sets (cache_size_limit)", args, kwargs
                )
            entry = self.entries[key] = _Entry(walk)
        if entry.program is not None:
            outs = entry.program.replay(walk.tensors)
            if outs is not None:
                self.stats["replays"] += 1
                return _rebuild(entry.out_spec, outs, walk.tensors, walk.objects)
            entry.program = None  # a guard failed: record again
        if entry.failures >= _RECORD_LIMIT:
            if not any(e.program is not None for e in self.entries.values()):
                self.gave_up = True
            return self._eager(None, args, kwargs)
        return self._record(entry, walk, args, kwargs)

    def _eager(self, reason, args, kwargs):
        self.stats["eager"] += 1
        if reason is not None:
            self._note(reason)
        return self.fn(*args, **kwargs)

    def _note(self, reason):
        if reason not in self.stats["reasons"]:
            self.stats["reasons"].append(reason)
        if self.fullgraph:
            raise Unsupported(reason)

    def _record(self, entry, walk, args, kwargs):
        self.stats["recordings"] += 1
        result, program, spec, reasons = _capture(self.fn, walk, args, kwargs)
        if reasons:
            entry.failures += 1
            entry.last = None
            for r in reasons:
                self._note(r)
            return result
        if entry.last is not None and entry.last[0].same_as(program) and entry.last[1] == spec:
            entry.program, entry.out_spec = program, spec
        elif entry.last is not None:
            entry.failures += 1
            if entry.failures >= _RECORD_LIMIT:
                self._note(
                    "recordings kept differing (values no guard sees: the time, a counter "
                    "outside the function, host-read values that change)"
                )
        entry.last = (program, spec)
        return result


_LIVE = weakref.WeakSet()


def reset_all():
    """``rustgrad.compiler.reset()``: every compiled function starts over."""
    for c in list(_LIVE):
        c.entries.clear()
        c.gave_up = False


def _capture(fn, walk, args, kwargs):
    """Runs ``fn`` eagerly while recording: (result, program, out_spec, break reasons)."""
    before = walk.tokens + [id(t) for t in walk.tensors]
    monitor = _Monitor()
    old_profile = sys.getprofile()
    _core._compile_begin(walk.tensors)
    sys.setprofile(monitor)
    try:
        result = fn(*args, **kwargs)
    except BaseException:
        sys.setprofile(old_profile)
        _core._compile_abort()
        raise
    sys.setprofile(old_profile)
    outputs = []
    spec = _flatten(result, outputs, {id(t): i for i, t in enumerate(walk.tensors)}, walk.seen)
    reasons = []
    if spec is None:
        _core._compile_break(
            f"returns a {type(result).__name__} holding values a replay cannot rebuild"
        )
    if monitor.reason is not None:
        _core._compile_break(monitor.reason)
    program, reasons = _core._compile_end(outputs)
    after = _walk(fn, args, kwargs)
    if after.tokens + [id(t) for t in after.tensors] != before:
        reasons = [*reasons, "changes Python state a replay would not change"]
    return result, program, spec, reasons


def explain_call(fn, args, kwargs):
    """Runs ``fn`` once while recording and says what would keep it from replaying."""
    walk = _walk(fn, args, kwargs)
    if walk.unguardable is not None:
        return fn(*args, **kwargs), ExplainOutput([walk.unguardable], 0)
    result, program, _, reasons = _capture(fn, walk, args, kwargs)
    return result, ExplainOutput(reasons, 0 if program is None else len(program))
