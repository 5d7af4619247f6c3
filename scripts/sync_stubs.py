"""Keep the docstrings of ``python/rustgrad/_core.pyi`` equal to the extension's ``__doc__``.

The ``///`` doc comments in ``src/python/`` are the one source of the docs: PyO3 makes them
the runtime ``__doc__`` (what ``help()`` and Jupyter's ``?`` show) and this script copies
them, unchanged, into the stub (what editors and type checkers show).

    python scripts/sync_stubs.py          # rewrite the stub's docstrings from the runtime
    python scripts/sync_stubs.py --check  # exit 1 with a diff when they differ (CI)

It needs the extension built and importable (``maturin develop``) and ``ruff``, which
formats the result. Only docstrings change: signatures, overloads and comments in the stub
are left alone (``mypy.stubtest`` checks those against the runtime). Where a name has
overloads, the first carries the docstring. Operators that fill type slots (``__add__``,
``__len__``, ...) have CPython's generic ``__doc__`` and constructors the type's; their stub
entries carry no docstring.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import importlib
import inspect
import subprocess
import sys
from pathlib import Path

STUB = Path(__file__).resolve().parent.parent / "python" / "rustgrad" / "_core.pyi"
MODULE = "rustgrad._core"

# Runtime objects whose __doc__ is CPython's, not ours.
_FOREIGN_TYPES = {"wrapper_descriptor", "method-wrapper"}
_FOREIGN_NAMES = {"__new__", "__init__"}


def runtime_doc(obj: object, name: str) -> str | None:
    """The docstring the stub should carry for ``obj`` (found under ``name``), or None."""
    if name in _FOREIGN_NAMES or type(obj).__name__ in _FOREIGN_TYPES:
        return None
    doc = getattr(obj, "__doc__", None)
    if not isinstance(doc, str) or not doc.strip():
        return None
    return inspect.cleandoc(doc)


def quote(doc: str, indent: str) -> str:
    """``doc`` as a triple-quoted string literal whose continuation lines start at ``indent``."""
    if '"""' in doc:
        raise SystemExit(f'sync_stubs: a docstring may not contain """: {doc[:60]!r}')
    prefix = "r" if "\\" in doc else ""
    first, *rest = doc.split("\n")
    lines = [first] + [indent + line if line else "" for line in rest]
    # One paragraph closes on its last line (unless that ends in a quote); several
    # paragraphs close on a line of their own.
    if "" in rest or lines[-1].endswith('"'):
        lines.append(indent)
    return f'{prefix}"""' + "\n".join(lines) + '"""'


def is_docstring(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    )


def is_ellipsis(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and node.value.value is Ellipsis
    )


class Rewriter:
    """Collects (start, end, text) edits on the stub's bytes."""

    def __init__(self, source: str, module: object) -> None:
        self.data = source.encode()
        self.module = module
        self.line_starts = [0]
        for i, byte in enumerate(self.data):
            if byte == ord("\n"):
                self.line_starts.append(i + 1)
        self.edits: list[tuple[int, int, str]] = []
        self.problems: list[str] = []
        # What each documented place should read, to check the formatted result.
        self.expected: dict[str, str | None] = {}

    def offset(self, line: int, col: int) -> int:
        return self.line_starts[line - 1] + col

    def start(self, node: ast.AST) -> int:
        return self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]

    def end(self, node: ast.AST) -> int:
        return self.offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]

    def colon_end(self, node: ast.FunctionDef | ast.ClassDef) -> int:
        """Just past the ``:`` that ends ``node``'s header."""
        i = self.start(node.body[0]) - 1
        while self.data[i : i + 1] in (b" ", b"\t", b"\n", b"\r"):
            i -= 1
        if self.data[i : i + 1] != b":":
            raise SystemExit(
                f"sync_stubs: line {node.lineno}: no ':' before the body of {node.name}"
            )
        return i + 1

    def module_doc(self, tree: ast.Module) -> None:
        doc = runtime_doc(self.module, MODULE)
        self.expected[MODULE] = doc
        if tree.body and is_docstring(tree.body[0]):
            first = tree.body[0]
            text = quote(doc, "") if doc else ""
            self.edits.append((self.start(first), self.end(first), text))
        elif doc:
            self.edits.append((0, 0, quote(doc, "") + "\n\n"))

    def function(self, node: ast.FunctionDef, doc: str | None, where: str) -> None:
        self.expected.setdefault(where, doc)
        body = node.body
        if not (
            (len(body) == 1 and (is_docstring(body[0]) or is_ellipsis(body[0])))
            or (len(body) == 2 and is_docstring(body[0]) and is_ellipsis(body[1]))
        ):
            self.problems.append(f"{where}: a stub body must be a docstring or '...'")
            return
        start, end = self.colon_end(node), self.end(body[-1])
        if doc is None:
            self.edits.append((start, end, " ..."))
            return
        line_end = self.data.find(b"\n", end)
        if self.data[end:line_end].strip():
            self.problems.append(
                f"{where}: move the comment after the body to the def's line, so that a "
                "docstring can replace the body"
            )
            return
        indent = " " * (node.col_offset + 4)
        self.edits.append((start, end, "\n" + indent + quote(doc, indent)))

    def class_doc(self, node: ast.ClassDef, doc: str | None) -> None:
        indent = " " * (node.col_offset + 4)
        start = self.colon_end(node)
        first = node.body[0]
        if is_docstring(first):
            text = "\n" + indent + quote(doc, indent) if doc else ""
            self.edits.append((start, self.end(first), text))
        elif doc:
            self.edits.append((start, start, "\n" + indent + quote(doc, indent) + "\n"))

    def members(self, body: list[ast.stmt], owner: object, prefix: str) -> None:
        """Docstrings for the defs in ``body`` (a module's or a class's), from ``owner``."""
        seen: set[str] = set()
        for node in body:
            if isinstance(node, ast.ClassDef):
                cls = getattr(owner, node.name, None)
                if cls is None:
                    self.problems.append(f"{prefix}{node.name}: not found at runtime")
                    continue
                doc = runtime_doc(cls, node.name)
                self.expected[f"{prefix}{node.name}"] = doc
                self.class_doc(node, doc)
                self.members(node.body, cls, f"{prefix}{node.name}.")
            elif isinstance(node, ast.FunctionDef):
                where = f"{prefix}{node.name}"
                setter = any(
                    isinstance(d, ast.Attribute) and d.attr in ("setter", "deleter")
                    for d in node.decorator_list
                )
                if setter or node.name in seen:
                    self.function(node, None, where)
                    continue
                seen.add(node.name)
                try:
                    if inspect.isclass(owner):
                        obj = inspect.getattr_static(owner, node.name)
                    else:
                        obj = getattr(owner, node.name)
                except AttributeError:
                    self.problems.append(f"{where}: not found at runtime")
                    continue
                self.function(node, runtime_doc(obj, node.name), where)

    def result(self) -> str:
        data = self.data
        for start, end, text in sorted(self.edits, reverse=True):
            data = data[:start] + text.encode() + data[end:]
        return data.decode()


def docstrings(source: str) -> dict[str, str | None]:
    """Each module's, class's and (first overload's) function's docstring in ``source``."""
    tree = ast.parse(source)
    found: dict[str, str | None] = {MODULE: ast.get_docstring(tree)}

    def walk(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
                found.setdefault(f"{prefix}{node.name}", ast.get_docstring(node))
            if isinstance(node, ast.ClassDef):
                walk(node.body, f"{prefix}{node.name}.")

    walk(tree.body, f"{MODULE}.")
    return found


def ruff_format(source: str) -> str:
    """``source`` as ``ruff format`` writes a stub."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "ruff", "format", "--stdin-filename", "_core.pyi", "-"],
            input=source,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as e:
        raise SystemExit(f"sync_stubs: cannot run ruff: {e}") from e
    if done.returncode != 0:
        raise SystemExit(f"sync_stubs: ruff format failed:\n{done.stderr}")
    return done.stdout


def synced(source: str, module: object) -> str:
    """``source`` (the stub's text) with every docstring taken from ``module``."""
    tree = ast.parse(source)
    rewriter = Rewriter(source, module)
    rewriter.module_doc(tree)
    rewriter.members(tree.body, module, f"{MODULE}.")
    if rewriter.problems:
        raise SystemExit("sync_stubs:\n  " + "\n  ".join(rewriter.problems))
    result = ruff_format(rewriter.result())
    # The formatter must not have changed what a docstring says.
    found = docstrings(result)
    changed = [k for k, doc in rewriter.expected.items() if found.get(k) != doc]
    if changed:
        raise SystemExit("sync_stubs: docstrings changed by formatting: " + ", ".join(changed))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="fail (with a diff) instead of rewriting the stub"
    )
    parser.add_argument(
        "--stub", type=Path, default=STUB, help="the stub file (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    module = importlib.import_module(MODULE)
    old = args.stub.read_text()
    new = synced(old, module)
    if old == new:
        return 0
    if args.check:
        diff = difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            f"{args.stub} (now)",
            f"{args.stub} (from the runtime __doc__)",
        )
        sys.stdout.writelines(diff)
        print(
            "\nsync_stubs: the stub's docstrings differ from the extension's __doc__ (the Rust"
            " /// docs in src/python/). Run `python scripts/sync_stubs.py` after rebuilding.",
            file=sys.stderr,
        )
        return 1
    args.stub.write_text(new)
    print(f"sync_stubs: updated {args.stub}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
