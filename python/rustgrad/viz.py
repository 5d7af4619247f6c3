"""A picture of the backward graph: Graphviz DOT text and rendered SVG/PNG.

::

    import rustgrad
    x = rustgrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = rustgrad.tensor([4.0, 5.0, 6.0], requires_grad=True)
    s = (x + y).sum()
    print(rustgrad.viz.to_dot(s, params={"x": x, "y": y}))
    rustgrad.viz.render(s, "graph.svg", params={"x": x, "y": y})   # needs Graphviz's `dot`

The picture follows the backward pass: the output tensor (green) at the top, an arrow to the
node that made it (``SumBackward0``), arrows from each node to the nodes of its inputs, down to
the leaves (blue), which are the ``AccumulateGrad`` nodes shown as the tensors they accumulate
into, with their shapes (and names, when ``params`` maps names to tensors). A node reached along
several paths is drawn once; an input used twice by one op gets two arrows.

Node ids are ``n0, n1, ...`` in breadth-first order from the output, so the text is the same on
every run for the same graph.
"""

import collections
import os
import shutil
import subprocess
from pathlib import Path

from rustgrad import _core

__all__ = ["render", "to_dot"]

_FORMATS = ("svg", "png", "pdf")

_HEADER = (
    "digraph {",
    '  graph [rankdir=TB, fontname="monospace"];',
    (
        '  node [shape=box, style="filled,rounded", fontname="monospace", fontsize=11,'
        " fillcolor=lightgrey, height=0.3];"
    ),
    "  edge [arrowsize=0.7];",
)

_OUTPUT_COLOR = "darkolivegreen1"
_LEAF_COLOR = "lightblue"


def _shape_str(t):
    return "(" + ", ".join(str(int(s)) for s in t.shape) + ")"


def _quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _node_name(node):
    return node.name().rsplit("::", 1)[-1]


def _is_tensor(t):
    # Duck-typed: anything with PyTorch's graph API (grad_fn, next_functions, variable) works,
    # which lets the tests draw a torch graph with the same code for comparison.
    return isinstance(t, _core.Tensor) or (hasattr(t, "grad_fn") and hasattr(t, "shape"))


def _as_outputs(tensor):
    if _is_tensor(tensor):
        return [tensor]
    outputs = list(tensor)
    for t in outputs:
        if not _is_tensor(t):
            raise TypeError(
                f"to_dot expects a Tensor or a sequence of Tensors, got {type(t).__name__}"
            )
    return outputs


def to_dot(tensor, params=None):
    """Graphviz DOT text of the backward graph behind ``tensor``.

    Args:
        tensor: the output (e.g. a loss), or a list/tuple of outputs drawn in one picture.
        params: optional ``{name: tensor}`` (e.g. ``dict(model.named_parameters())``); leaves
            found in it are labelled with their name above their shape.

    Returns:
        DOT source: the output tensor (its shape, or ``name\\n(shape)`` if it is in ``params``)
        with an edge to its ``grad_fn``; one box per graph node labelled as ``grad_fn.name()``
        (``MulBackward0``, ...); ``AccumulateGrad`` nodes labelled as their leaf; edges from
        each node to its inputs' nodes (the direction gradients flow).
    """
    outputs = _as_outputs(tensor)
    names = {}
    for name, t in (params or {}).items():
        names.setdefault(id(t), name)  # identity: tensors compare elementwise with ==

    lines = list(_HEADER)
    ids = {}  # graph node (Node or AccumulateGrad; they hash and compare by identity) -> "nK"
    counter = 0

    def new_id():
        nonlocal counter
        counter += 1
        return f"n{counter - 1}"

    def leaf_label(t):
        name = names.get(id(t))
        return _shape_str(t) if name is None else f"{name}\n{_shape_str(t)}"

    queue = collections.deque()

    def visit(node):
        """The id of ``node``, declaring it (and queueing it) on first sight."""
        key = ids.get(node)
        if key is not None:
            return key
        key = ids[node] = new_id()
        variable = getattr(node, "variable", None)
        if variable is not None:  # AccumulateGrad: draw the leaf itself
            lines.append(
                f"  {key} [label={_quote(leaf_label(variable))}, fillcolor={_LEAF_COLOR}];"
            )
        else:
            lines.append(f"  {key} [label={_quote(_node_name(node))}];")
        queue.append((key, node))
        return key

    for out in outputs:
        out_id = new_id()
        lines.append(f"  {out_id} [label={_quote(leaf_label(out))}, fillcolor={_OUTPUT_COLOR}];")
        fn = out.grad_fn
        if fn is not None:
            lines.append(f"  {out_id} -> {visit(fn)};")

    while queue:  # breadth-first, iterative: graphs may be very deep
        key, node = queue.popleft()
        for child, _ in node.next_functions:
            if child is not None:
                lines.append(f"  {key} -> {visit(child)};")

    lines.append("}")
    return "\n".join(lines) + "\n"


def _find_dot():
    return shutil.which("dot")


_INSTALL_HINT = (
    "Install Graphviz to render it: `apt-get install graphviz` (Debian/Ubuntu), "
    "`brew install graphviz` (macOS) or `conda install graphviz`. Note that `pip install "
    "graphviz` only installs Python bindings, not the `dot` program itself."
)


def render(tensor, path, format=None, params=None):
    """Draw the graph behind ``tensor`` into ``path`` with Graphviz's ``dot`` program.

    Args:
        tensor, params: as for :func:`to_dot`.
        path: the image file to write. Its suffix picks the format (``.svg``, ``.png``,
            ``.pdf``); a ``.dot`` path just gets the DOT text (no Graphviz needed).
        format: ``"svg"``, ``"png"`` or ``"pdf"``, overriding the suffix; when neither gives
            one, SVG.

    Returns:
        ``path`` as a ``pathlib.Path``.

    Raises:
        RuntimeError: ``dot`` is not installed (the DOT source is then written next to
            ``path``, with the suffix ``.dot``, so it can be rendered elsewhere), or it failed.
    """
    path = Path(os.fspath(path))
    text = to_dot(tensor, params=params)
    suffix = path.suffix.lower().lstrip(".")
    if format is None:
        if suffix == "dot":
            path.write_text(text)
            return path
        format = suffix if suffix in _FORMATS else "svg"
    format = format.lower()
    if format not in _FORMATS:
        raise ValueError(f"render: unsupported format {format!r}; use one of {_FORMATS}")

    dot = _find_dot()
    if dot is None:
        dot_path = path.with_suffix(".dot")
        dot_path.write_text(text)
        raise RuntimeError(
            f"rustgrad.viz.render needs Graphviz's `dot` program to write {path}, and it is not "
            f"on PATH. The graph's DOT source was written to {dot_path} instead. "
            + _INSTALL_HINT
            + f" Then run: dot -T{format} {dot_path} -o {path}"
        )
    proc = subprocess.run(
        [dot, f"-T{format}", "-o", str(path)],
        input=text.encode(),
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"Graphviz's dot failed (exit status {proc.returncode}) writing {path}: "
            + proc.stderr.decode(errors="replace").strip()
        )
    return path
