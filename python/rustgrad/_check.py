"""``python -m rustgrad check script.py ...``: the PyTorch names a script uses that rustgrad
lacks, found without running the script.

The script is parsed with :mod:`ast`. Imports of ``torch`` (and ``rustgrad``, which stands for
it) bind aliases (``import torch.nn as nn``, ``from torch.nn import functional as F``,
``from torch.utils.data import DataLoader``); every attribute chain on an alias
(``torch.fft.fft``, ``nn.LazyLinear``, ``F.gelu``) is resolved in rustgrad, and the first
missing link is reported (``torch.fft``). Keywords passed to a resolved function or class that
its signature does not take are reported too (``torch.sum(axis=)``). Methods and attributes
used on variables known to hold tensors (assigned from ``torch.tensor(...)``, ``torch.randn``
and the like, or arithmetic on such variables) are checked against ``rustgrad.Tensor`` when
PyTorch's ``Tensor`` has them (``Tensor.unfold``).

Exit status: 0 when nothing is missing, 1 when something is, 2 when a script cannot be read
or parsed.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
from dataclasses import dataclass, field

from rustgrad._torch_names import NAMES

# Functions whose result is a tensor, to know which variables hold tensors.
_TENSOR_MAKERS = frozenset(
    [
        "tensor",
        "as_tensor",
        "from_numpy",
        "zeros",
        "ones",
        "full",
        "empty",
        "rand",
        "randn",
        "randint",
        "randperm",
        "arange",
        "linspace",
        "logspace",
        "eye",
        "zeros_like",
        "ones_like",
        "full_like",
        "empty_like",
        "rand_like",
        "randn_like",
        "randint_like",
        "stack",
        "cat",
        "concat",
        "normal",
        "bernoulli",
        "multinomial",
        "Tensor",
        "FloatTensor",
        "DoubleTensor",
        "LongTensor",
        "IntTensor",
        "BoolTensor",
    ]
)

_MISSING = object()


@dataclass
class Report:
    """What one script uses that rustgrad lacks: ``{name: first line}``."""

    path: str
    missing: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, line: int) -> None:
        self.missing.setdefault(name, line)


def _real(torch_path: str) -> str:
    return "rustgrad" + torch_path[len("torch") :]


def _getattr(obj, name):
    try:
        return getattr(obj, name)
    except Exception:  # noqa: BLE001 - NotImplementedError, AttributeError or a probe failing
        if not inspect.ismodule(obj):
            return _MISSING
    try:
        return importlib.import_module(f"{obj.__name__}.{name}")
    except Exception:  # noqa: BLE001 - a missing submodule
        return _MISSING


def resolve(torch_path: str):
    """``(object, None)`` for a name rustgrad has (the object, or None where it cannot be known
    statically), ``(None, missing)`` with the first missing prefix (``torch.fft``) otherwise."""
    parts = torch_path.split(".")
    obj = importlib.import_module("rustgrad")
    for i, part in enumerate(parts[1:], start=1):
        if not (inspect.ismodule(obj) or inspect.isclass(obj)):
            return None, None  # an attribute of a function or instance: not knowable here
        nxt = _getattr(obj, part)
        if nxt is _MISSING:
            return None, ".".join(parts[: i + 1])
        obj = nxt
    return obj, None


def _dotted(node) -> list[str] | None:
    """``['torch', 'nn', 'Linear']`` for ``torch.nn.Linear``; None for anything else."""
    names = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        names.append(node.id)
        return names[::-1]
    return None


def _is_pytorch_name(torch_path: str) -> bool:
    namespace, _, name = torch_path.rpartition(".")
    return name in NAMES.get(namespace, ())


class _Checker(ast.NodeVisitor):
    def __init__(self, report: Report):
        self.report = report
        self.aliases: dict[str, str] = {}  # local name -> torch path
        self.tensors: set[str] = set()  # local names known to hold tensors

    # ----- imports ----------------------------------------------------------------------
    @staticmethod
    def _torch_module(name: str) -> str | None:
        for root in ("torch", "rustgrad"):
            if name == root or name.startswith(root + "."):
                return "torch" + name[len(root) :]
        return None

    def _need(self, torch_path: str, node) -> object:
        obj, missing = resolve(torch_path)
        if missing is not None:
            self.report.add(missing, node.lineno)
        return obj

    def visit_Import(self, node):
        for alias in node.names:
            path = self._torch_module(alias.name)
            if path is None:
                continue
            self._need(path, node)
            if alias.asname:
                self.aliases[alias.asname] = path
            else:
                self.aliases[alias.name.split(".")[0]] = "torch"

    def visit_ImportFrom(self, node):
        path = self._torch_module(node.module or "") if node.level == 0 else None
        if path is None:
            return
        if resolve(path)[1] is not None:
            self._need(path, node)
            return  # the module itself is missing: reported once, not per name
        for alias in node.names:
            if alias.name == "*":
                continue
            full = f"{path}.{alias.name}"
            self._need(full, node)
            self.aliases[alias.asname or alias.name] = full

    # ----- uses -------------------------------------------------------------------------
    def _torch_path(self, node) -> str | None:
        names = _dotted(node)
        if not names or names[0] not in self.aliases:
            return None
        return ".".join([self.aliases[names[0]], *names[1:]])

    def visit_Attribute(self, node):
        path = self._torch_path(node)
        if path is not None:
            self._need(path, node)
            return  # the inner links are part of this chain
        if isinstance(node.value, ast.Name) and node.value.id in self.tensors:
            self._tensor_attribute(node.attr, node)
        self.generic_visit(node)

    def _tensor_attribute(self, name: str, node) -> None:
        from rustgrad import Tensor

        if name in NAMES["torch.Tensor"] and _getattr(Tensor, name) is _MISSING:
            self.report.add(f"torch.Tensor.{name}", node.lineno)

    def visit_Call(self, node):
        path = self._torch_path(node.func)
        if path is not None:
            obj, missing = resolve(path)
            if missing is None and obj is not None:
                self._check_keywords(path, obj, node)
        self.generic_visit(node)

    def _check_keywords(self, path: str, obj, node) -> None:
        given = [k.arg for k in node.keywords if k.arg is not None]
        if not given or not callable(obj):
            return
        try:
            params = inspect.signature(obj).parameters.values()
        except (TypeError, ValueError):
            return
        if any(p.kind is p.VAR_KEYWORD for p in params):
            return
        names = {p.name for p in params if p.kind is not p.POSITIONAL_ONLY}
        for key in given:
            if key not in names:
                self.report.add(f"{path}({key}=)", node.lineno)

    # ----- which variables hold tensors -------------------------------------------------
    def _is_tensor(self, value) -> bool:
        if isinstance(value, ast.Name):
            return value.id in self.tensors
        if isinstance(value, ast.BinOp):
            return self._is_tensor(value.left) or self._is_tensor(value.right)
        if isinstance(value, ast.UnaryOp):
            return self._is_tensor(value.operand)
        if isinstance(value, ast.Call):
            path = self._torch_path(value.func)
            if path is not None:
                return path.rsplit(".", 1)[-1] in _TENSOR_MAKERS
            func = value.func
            return isinstance(func, ast.Attribute) and self._is_tensor(func.value)
        if isinstance(value, ast.Subscript):
            return self._is_tensor(value.value)
        return False

    def visit_Assign(self, node):
        self.visit(node.value)
        tensor = self._is_tensor(node.value)
        for target in node.targets:
            if isinstance(target, ast.Name):
                (self.tensors.add if tensor else self.tensors.discard)(target.id)
            else:
                self.visit(target)


def check_source(source: str, path: str = "<script>") -> Report:
    """The report for one script's source (SyntaxError when it does not parse)."""
    report = Report(path)
    _Checker(report).visit(ast.parse(source, path))
    return report


def main(paths: list[str]) -> int:
    status = 0
    for path in paths:
        try:
            with open(path, "rb") as f:
                report = check_source(f.read().decode("utf-8", "replace"), path)
        except (OSError, SyntaxError) as err:
            print(f"{path}: cannot check: {err}", file=sys.stderr)
            status = 2
            continue
        if not report.missing:
            print(f"{path}: rustgrad has every PyTorch name this script uses")
            continue
        status = max(status, 1)
        for name, line in sorted(report.missing.items(), key=lambda kv: (kv[1], kv[0])):
            note = "" if "(" in name or _is_pytorch_name(name) else " (not a PyTorch name either)"
            print(f"{path}:{line}: {name}{note}")
        print(f"{path}: {len(report.missing)} PyTorch name(s) that rustgrad lacks")
    return status
