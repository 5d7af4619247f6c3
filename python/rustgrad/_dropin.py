"""rustgrad as a drop-in ``torch``: the import alias, torch-style names, and missing names.

* :func:`install_as_torch` puts a finder first on ``sys.meta_path`` that answers ``import torch``
  and ``import torch.X`` with ``rustgrad`` and ``rustgrad.X`` (the very same module objects), and
  switches reprs to PyTorch's spelling (``torch.float32``, ``torch.Size([3])``,
  ``<class 'torch.Tensor'>``) so a script's output compares line by line with PyTorch's.
  ``python -m rustgrad run script.py`` (:func:`run_script`) does this, then runs the script as
  ``python script.py`` would.
* A PyTorch name that rustgrad lacks raises ``NotImplementedError`` naming it, both as an
  attribute (``torch.fft``) and as an import (``from torch.fft import fft``); a name PyTorch
  lacks too raises PyTorch's ``AttributeError``. The NotImplementedError is also an
  AttributeError (an ImportError for imports), so ``hasattr`` probes and ``except
  ImportError`` fallbacks keep working. PyTorch's names come from ``_torch_names.py``
  (written from the reference PyTorch by ``scripts/torch_names.py``).
"""

from __future__ import annotations

import builtins
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import types

from rustgrad._torch_names import NAMES

# The package name that reprs print: "rustgrad", or "torch" once install_as_torch() ran.
_prefix = "rustgrad"

# rustgrad modules that stand for a PyTorch namespace and get a missing-name __getattr__
# (those that exist: ".nn", ".utils.data", ...).
_NAMESPACES = tuple(ns[len("torch") :] for ns in NAMES if ns != "torch.Tensor")


def prefix() -> str:
    """``"torch"`` while rustgrad stands in for PyTorch, else ``"rustgrad"``."""
    return _prefix


class _MissingName(NotImplementedError, AttributeError):
    """A PyTorch attribute rustgrad lacks. Also an AttributeError, so that probes
    (``hasattr(t, "values")`` in Matplotlib, ``getattr(torch, "compile", None)``) answer "no"
    instead of failing; prints as ``NotImplementedError``."""


class _MissingModule(NotImplementedError, ModuleNotFoundError):
    """A PyTorch module rustgrad lacks. Also an ImportError, so that ``try: import torch.x
    except ImportError:`` fallbacks work; prints as ``NotImplementedError``."""


for _cls in (_MissingName, _MissingModule):
    _cls.__module__ = "builtins"  # a traceback's last line reads "NotImplementedError: ..."
    _cls.__name__ = _cls.__qualname__ = "NotImplementedError"


def not_implemented(name: str) -> NotImplementedError:
    """The error for a PyTorch attribute (``torch.nn.LazyLinear``) that rustgrad lacks."""
    return _MissingName(f"rustgrad does not implement {name} yet")


def _not_implemented_module(name: str) -> NotImplementedError:
    err = _MissingModule(f"rustgrad does not implement {name} yet")
    err.name = name  # (NotImplementedError's __init__ comes first and takes no keywords)
    return err


def _missing_getattr(real: str, torch_name: str, previous):
    """A module ``__getattr__`` (PEP 562) for ``real``, which stands for ``torch_name``."""
    known = frozenset(NAMES.get(torch_name, ()))

    def __getattr__(name: str):
        if previous is not None:
            try:
                return previous(name)
            except AttributeError:
                pass
        if not name.startswith("_") and name in known:
            # A submodule not imported yet (``torch.nn.utils`` before ``import torch.nn.utils``).
            try:
                return importlib.import_module(f"{real}.{name}")
            except ModuleNotFoundError as err:
                if err.name is None or not f"{real}.{name}".startswith(err.name):
                    raise
            raise not_implemented(f"{torch_name}.{name}")
        shown = torch_name if _prefix == "torch" else real
        raise AttributeError(f"module '{shown}' has no attribute '{name}'")

    return __getattr__


def hook_missing_names() -> None:
    """Gives each rustgrad module that stands for a PyTorch namespace its ``__getattr__``."""
    for suffix in _NAMESPACES:
        module = sys.modules.get("rustgrad" + suffix)
        if module is None or getattr(module, "_dropin_hooked", False):
            continue
        previous = module.__dict__.get("__getattr__")
        module.__getattr__ = _missing_getattr(module.__name__, "torch" + suffix, previous)
        module._dropin_hooked = True


# The packages a PyTorch install provides, and the rustgrad modules that stand for them.
_PACKAGES = {"torch": "rustgrad", "functorch": "rustgrad._functorch"}


def _real_name(fullname):
    """The rustgrad module for ``torch``, ``torch.*`` or ``functorch``; None for others."""
    top, dot, rest = fullname.partition(".")
    if top not in _PACKAGES or (dot and top != "torch"):
        return None
    return _PACKAGES[top] + dot + rest


class _TorchAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``torch``, ``torch.*`` and ``functorch`` as the matching ``rustgrad`` modules."""

    def find_spec(self, fullname, path=None, target=None):
        if _real_name(fullname) is None:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        real = _real_name(spec.name)
        try:
            module = importlib.import_module(real)
        except ModuleNotFoundError as err:
            if err.name is not None and real.startswith(err.name):
                raise _not_implemented_module(spec.name) from None
            raise
        # The import system stamps the alias's spec on the module; exec_module puts the real
        # one back so that rustgrad's own submodule imports keep working.
        self._specs = getattr(self, "_specs", {})
        self._specs[spec.name] = module.__spec__
        return module

    def exec_module(self, module):
        specs = getattr(self, "_specs", {})
        original = specs.pop(module.__spec__.name, None)
        if original is not None:
            module.__spec__ = original
            module.__loader__ = original.loader


_finder = _TorchAlias()
_saved_reprs: dict = {}


def _use_torch_names(on: bool) -> None:
    """Switches the reprs that name the package between ``rustgrad.`` and ``torch.``."""
    global _prefix
    from rustgrad import _core

    _prefix = "torch" if on else "rustgrad"
    _core.Tensor.__module__ = _prefix
    _use_torch_version(on)
    if on:
        _core.Tensor.__getattr__ = _tensor_getattr
    elif "__getattr__" in vars(_core.Tensor):
        del _core.Tensor.__getattr__
    if on != bool(_renamed):
        _rename_classes(on)
    dtype = _core.dtype
    if on and "dtype" not in _saved_reprs:
        _saved_reprs["dtype"] = dtype.__repr__

        def __repr__(self):
            return "torch." + _saved_reprs["dtype"](self).rsplit(".", 1)[-1]

        dtype.__repr__ = __repr__
        dtype.__str__ = __repr__
    elif not on and "dtype" in _saved_reprs:
        dtype.__repr__ = _saved_reprs.pop("dtype")
        dtype.__str__ = dtype.__repr__


def _tensor_getattr(self, name: str):
    """``Tensor.__getattr__`` while rustgrad stands in for PyTorch: a ``Tensor`` attribute of
    PyTorch that rustgrad lacks raises NotImplementedError naming it. (Only then: a class
    ``__getattr__`` slows every attribute lookup on tensors a little.)"""
    if not name.startswith("_") and name in _TENSOR_NAMES:
        raise not_implemented(f"torch.Tensor.{name}")
    raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")


_TENSOR_NAMES = frozenset(NAMES["torch.Tensor"])


# (class, its rustgrad __module__) for the classes renamed while in torch mode
_renamed: list = []


def _torch_module_name(real: str) -> str:
    """``torch.nn.modules.linear`` for ``rustgrad.nn.modules.linear``; ``torch`` for a private
    module (``rustgrad._size`` holds ``torch.Size``)."""
    parts = real.split(".")
    if any(p.startswith("_") for p in parts[1:]):
        return "torch"
    return ".".join(["torch", *parts[1:]])


def _use_torch_version(on: bool) -> None:
    """``torch.__version__`` (and ``torch.version.__version__``) is the PyTorch release whose
    API rustgrad follows while it stands in for PyTorch (``rustgrad.torch_version``)."""
    import rustgrad
    from rustgrad import torch_version, version

    own = rustgrad._core.__version__
    value = torch_version.TorchVersion(f"{torch_version.TORCH_API_VERSION}+rustgrad") if on else own  # fmt: skip
    rustgrad.__version__ = version.__version__ = value


def _rename_classes(on: bool) -> None:
    """Classes defined in rustgrad's Python modules print as ``<class 'torch.nn...'>``, and
    the extension's (``dtype``, ``device``, ``Generator``) as ``<class 'torch.dtype'>``."""
    if not on:
        for cls, module in _renamed:
            cls.__module__ = module
        _renamed.clear()
        return
    from rustgrad import _core

    for value in list(vars(_core).values()):
        if isinstance(value, type) and value is not _core.Tensor and value.__module__ == "rustgrad":  # fmt: skip
            _renamed.append((value, "rustgrad"))
            value.__module__ = "torch"
    for modname, module in list(sys.modules.items()):
        if not modname.startswith("rustgrad.") or module is None:
            continue
        for value in list(vars(module).values()):
            if isinstance(value, type) and value.__module__ == modname:
                _renamed.append((value, modname))
                value.__module__ = _torch_module_name(modname)


def install_as_torch() -> None:
    """Makes ``import torch`` (and ``torch.nn``, ``torch.optim``, ...) import rustgrad.

    For notebooks and interpreters: call it before the first ``import torch``. A PyTorch module
    already imported stays what it is, so this refuses to run then (RuntimeError). Reprs
    then say ``torch.`` where they said ``rustgrad.``; :func:`uninstall_as_torch` undoes it.
    """
    real = sys.modules.get("torch")
    if real is not None and not getattr(real, "__name__", "").startswith("rustgrad"):
        raise RuntimeError(
            "install_as_torch(): PyTorch itself is already imported in this interpreter; "
            "call install_as_torch() before the first `import torch` (restart the kernel)"
        )
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
    hook_missing_names()
    _use_torch_names(True)
    _patch_multiprocessing_spawn()


def uninstall_as_torch() -> None:
    """Undoes :func:`install_as_torch`: ``torch`` names PyTorch again, reprs say ``rustgrad.``."""
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    for name in [n for n in sys.modules if _real_name(n) is not None]:
        if getattr(sys.modules[name], "__name__", "").startswith("rustgrad"):
            del sys.modules[name]
    _use_torch_names(False)


class _InstallInChild:
    """Unpickled in a ``spawn``ed child before the parent's ``__main__`` is re-imported, so that
    the child's ``import torch`` means rustgrad too."""

    def __reduce__(self):
        return (install_as_torch, ())


def _patch_multiprocessing_spawn() -> None:
    from multiprocessing import spawn

    if getattr(spawn.get_preparation_data, "_rustgrad", False):
        return
    original = spawn.get_preparation_data

    def get_preparation_data(name):
        data = original(name)
        # Unknown keys are ignored by spawn.prepare(); unpickling this one runs first.
        data["rustgrad_as_torch"] = _InstallInChild()
        return data

    get_preparation_data._rustgrad = True
    spawn.get_preparation_data = get_preparation_data


def run_script(path: str, args: list[str]) -> int:
    """Runs ``path`` as ``python path args...`` would, with rustgrad as ``torch``.

    ``sys.argv``, ``sys.path[0]``, ``__name__ == "__main__"`` and ``__file__`` are set as
    Python sets them; an uncaught exception prints Python's traceback (without this runner's
    frames) and gives exit status 1; ``SystemExit`` passes through.
    """
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as err:
        sys.stderr.write(
            f"{sys.executable}: can't open file {path!r}: [Errno {err.errno}] {err.strerror}\n"
        )
        return 2
    install_as_torch()
    sys.argv = [path, *args]
    sys.path[0] = os.path.dirname(os.path.abspath(path))
    path_abs = os.path.abspath(path)  # as Python (3.9+) sets a script's __file__
    main = types.ModuleType("__main__")
    main.__file__ = path_abs
    main.__builtins__ = builtins
    main.__loader__ = importlib.machinery.SourceFileLoader("__main__", path_abs)
    main.__spec__ = None
    main.__cached__ = None
    sys.modules["__main__"] = main
    try:
        code = compile(source, path_abs, "exec", dont_inherit=True)
        exec(code, main.__dict__)  # noqa: S102 - running the script is the point
    except SystemExit:
        raise
    except BaseException as err:  # noqa: BLE001 - reported as Python reports it
        tb = err.__traceback__
        # Drop this function's frame (and compile's, for a SyntaxError nothing is left).
        if tb is not None:
            tb = tb.tb_next
        sys.excepthook(type(err), err.with_traceback(tb), tb)
        return 130 if isinstance(err, KeyboardInterrupt) else 1
    finally:
        sys.stdout.flush()
    return 0
