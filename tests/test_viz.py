"""``rustgrad.viz``: DOT text of the backward graph, and rendering through Graphviz's ``dot``."""

import re
import shutil
from pathlib import Path

import pytest
import rustgrad as rg
from conftest import raises
from rustgrad.autograd import Function, Variable

ROOT = Path(__file__).resolve().parent.parent
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")

_NODE = re.compile(r'^\s*(n\d+) \[label="((?:[^"\\]|\\.)*)"(?:, fillcolor=(\w+))?\];$')
_EDGE = re.compile(r"^\s*(n\d+) -> (n\d+);$")


def parse(dot):
    """``({id: (label, color)}, [(src, dst), ...])`` from ``to_dot``'s output."""
    nodes, edges = {}, []
    for line in dot.splitlines():
        if m := _NODE.match(line):
            nodes[m[1]] = (m[2].replace("\\n", "\n"), m[3] or "lightgrey")
        elif m := _EDGE.match(line):
            edges.append((m[1], m[2]))
    return nodes, edges


def labels(nodes):
    return sorted(label for label, _ in nodes.values())


def lecture():
    x = Variable(rg.Tensor([1, 2, 3]), requires_grad=True)
    y = Variable(rg.Tensor([4, 5, 6]), requires_grad=True)
    z = x + y
    s = z.sum()
    return x, y, s


# ---------------------------------------------------------------- DOT structure


def test_lecture_graph_structure():
    x, y, s = lecture()
    dot = rg.viz.to_dot(s, params={"x": x, "y": y})
    assert dot.startswith("digraph {") and dot.rstrip().endswith("}")
    nodes, edges = parse(dot)
    assert nodes == {
        "n0": ("()", "darkolivegreen1"),  # the output tensor, a scalar
        "n1": ("SumBackward0", "lightgrey"),
        "n2": ("AddBackward0", "lightgrey"),
        "n3": ("x\n(3)", "lightblue"),
        "n4": ("y\n(3)", "lightblue"),
    }
    # Backward direction: output -> its grad_fn -> ... -> leaves.
    assert edges == [("n0", "n1"), ("n1", "n2"), ("n2", "n3"), ("n2", "n4")]


def test_leaves_without_params_show_their_shape():
    _, _, s = lecture()
    nodes, _ = parse(rg.viz.to_dot(s))
    assert labels(nodes) == ["()", "(3)", "(3)", "AddBackward0", "SumBackward0"]


def test_output_named_through_params():
    x, y, s = lecture()
    nodes, _ = parse(rg.viz.to_dot(s, params={"x": x, "y": y, "s": s}))
    assert nodes["n0"] == ("s\n()", "darkolivegreen1")


def test_deterministic():
    _, _, s = lecture()
    first = rg.viz.to_dot(s)
    assert rg.viz.to_dot(s) == first
    assert rg.viz.to_dot(lecture()[2]) == first  # a rebuilt graph gives the same text
    assert "0x" not in first  # no addresses


def mlp(lib):
    lib.manual_seed(0)
    x = lib.randn(4, 3)
    params = {
        "w1": lib.randn(3, 5, requires_grad=True),
        "b1": lib.randn(5, requires_grad=True),
        "w2": lib.randn(5, 2, requires_grad=True),
        "b2": lib.randn(2, requires_grad=True),
    }
    h = (x @ params["w1"] + params["b1"]).relu()
    out = h @ params["w2"] + params["b2"]
    return ((out - 1.0) ** 2).mean(), params


def test_mlp_graph_structure():
    loss, params = mlp(rg)
    nodes, edges = parse(rg.viz.to_dot(loss, params=params))
    assert labels(nodes) == sorted(
        [
            "()",
            "MeanBackward0",
            "PowBackward0",
            "SubBackward0",
            "AddBackward0",
            "AddBackward0",
            "MmBackward0",
            "MmBackward0",
            "ReluBackward0",
            "w1\n(3, 5)",
            "b1\n(5)",
            "w2\n(5, 2)",
            "b2\n(2)",
        ]
    )
    assert len(edges) == 12  # a tree: one edge into every node but the output
    named = sorted((nodes[src][0], nodes[dst][0]) for src, dst in edges)
    assert named == sorted(
        [
            ("()", "MeanBackward0"),
            ("MeanBackward0", "PowBackward0"),
            ("PowBackward0", "SubBackward0"),
            ("SubBackward0", "AddBackward0"),
            ("AddBackward0", "MmBackward0"),
            ("AddBackward0", "b2\n(2)"),
            ("MmBackward0", "ReluBackward0"),
            ("MmBackward0", "w2\n(5, 2)"),
            ("ReluBackward0", "AddBackward0"),
            ("AddBackward0", "MmBackward0"),
            ("AddBackward0", "b1\n(5)"),
            ("MmBackward0", "w1\n(3, 5)"),
        ]
    )
    assert nodes["n0"][1] == "darkolivegreen1" and all(dst != "n0" for _, dst in edges)
    sources = {src for src, _ in edges}
    assert all(key not in sources for key, (_, c) in nodes.items() if c == "lightblue")
    # The input x does not require grad: it is not drawn.
    assert not any("(4, 3)" in label for label in labels(nodes))


def test_mlp_graph_matches_torch():
    torch = pytest.importorskip("torch")
    loss, params = mlp(rg)
    tloss, tparams = mlp(torch)
    # to_dot only uses the graph API PyTorch also has (grad_fn, next_functions, variable).
    assert rg.viz.to_dot(loss, params) == rg.viz.to_dot(tloss, tparams)


def test_shared_nodes_are_drawn_once():
    x = rg.randn(3, requires_grad=True)
    y = x * 2.0
    z = (y + y.exp()).sum()
    nodes, edges = parse(rg.viz.to_dot(z))
    assert labels(nodes).count("MulBackward0") == 1
    mul = next(k for k, (label, _) in nodes.items() if label == "MulBackward0")
    assert sorted(nodes[src][0] for src, dst in edges if dst == mul) == [
        "AddBackward0",
        "ExpBackward0",
    ]
    assert labels(nodes).count("(3)") == 1  # the leaf x, once


def test_input_used_twice_gets_two_edges():
    x = rg.randn(3, requires_grad=True)
    nodes, edges = parse(rg.viz.to_dot(x + x))
    assert labels(nodes) == ["(3)", "(3)", "AddBackward0"]  # output and leaf
    assert edges.count(("n1", "n2")) == 2


def test_inputs_without_grad_are_skipped():
    x = rg.randn(3, requires_grad=True)
    c = rg.randn(3)
    nodes, edges = parse(rg.viz.to_dot(x * c))
    assert labels(nodes) == ["(3)", "(3)", "MulBackward0"]
    assert edges == [("n0", "n1"), ("n1", "n2")]


def test_leaf_and_constant_outputs():
    x = rg.randn(2, 3, requires_grad=True)
    nodes, edges = parse(rg.viz.to_dot(x, params={"x": x}))
    assert nodes == {"n0": ("x\n(2, 3)", "darkolivegreen1")} and edges == []
    nodes, edges = parse(rg.viz.to_dot(rg.ones(4)))
    assert nodes == {"n0": ("(4)", "darkolivegreen1")} and edges == []


def test_several_outputs_share_one_picture():
    x = rg.randn(3, requires_grad=True)
    y = x.exp()
    a, b = y.sum(), (y * 2.0).mean()
    nodes, edges = parse(rg.viz.to_dot([a, b]))
    assert len(edges) == 6  # two outputs, Sum, Mean, Mul, Exp, leaf
    assert labels(nodes).count("ExpBackward0") == 1
    outputs = [k for k, (_, color) in nodes.items() if color == "darkolivegreen1"]
    assert len(outputs) == 2


def test_custom_function_node_named_after_its_class():
    class MyRelu(Function):
        @staticmethod
        def forward(ctx, a):
            return a.clamp(min=0)

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = rg.randn(3, requires_grad=True)
    nodes, _ = parse(rg.viz.to_dot(MyRelu.apply(x).sum()))
    assert "MyReluBackward" in labels(nodes)


def test_deep_graph_is_walked_iteratively():
    x = rg.randn(2, requires_grad=True)
    y = x
    for _ in range(20000):
        y = y * 1.0
    nodes, edges = parse(rg.viz.to_dot(y))
    assert len(nodes) == 20002 and len(edges) == 20001


def test_names_are_escaped():
    x = rg.randn(2, requires_grad=True)
    dot = rg.viz.to_dot(x * 2.0, params={'we"ird\\name': x})
    assert r'label="we\"ird\\name\n(2)"' in dot


def test_rejects_non_tensors():
    with raises(TypeError, "to_dot expects a Tensor"):
        rg.viz.to_dot([1, 2])


def test_exposed_as_rustgrad_viz():
    import rustgrad.viz

    assert rg.viz is rustgrad.viz
    assert callable(rg.viz.to_dot) and callable(rg.viz.render)


# ---------------------------------------------------------------- rendering


def test_render_without_dot_explains_and_writes_dot_file(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    _, _, s = lecture()
    target = tmp_path / "graph.svg"
    with raises(RuntimeError, "apt-get install graphviz") as info:
        rg.viz.render(s, target)
    msg = str(info.value)
    assert "conda install graphviz" in msg and "pip install graphviz" in msg
    assert "`dot`" in msg and str(tmp_path / "graph.dot") in msg
    assert not target.exists()
    assert (tmp_path / "graph.dot").read_text() == rg.viz.to_dot(s)


def test_render_dot_suffix_needs_no_graphviz(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    _, _, s = lecture()
    out = rg.viz.render(s, tmp_path / "g.dot")
    assert out == tmp_path / "g.dot" and out.read_text() == rg.viz.to_dot(s)


def test_render_unknown_format(tmp_path):
    _, _, s = lecture()
    with raises(ValueError, "unsupported format"):
        rg.viz.render(s, tmp_path / "g.svg", format="gif")


@needs_dot
def test_render_svg(tmp_path):
    x, y, s = lecture()
    out = rg.viz.render(s, str(tmp_path / "graph.svg"), params={"x": x, "y": y})
    text = Path(out).read_text()
    assert "<svg" in text
    for name in ("SumBackward0", "AddBackward0", ">x<", ">y<"):
        assert name in text
    assert not (tmp_path / "graph.dot").exists()


@needs_dot
def test_render_png_from_suffix(tmp_path):
    _, _, s = lecture()
    out = rg.viz.render(s, tmp_path / "graph.png")
    assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


@needs_dot
def test_render_defaults_to_svg_and_format_overrides(tmp_path):
    _, _, s = lecture()
    assert "<svg" in rg.viz.render(s, tmp_path / "graph").read_text()
    out = rg.viz.render(s, tmp_path / "graph.img", format="png")
    assert out.read_bytes().startswith(b"\x89PNG")


def test_readme_image_is_there():
    svg = ROOT / "docs" / "lecture_graph.svg"
    assert svg.exists(), "regenerate with: python scripts/lecture_graph.py"
    text = svg.read_text()
    for name in ("SumBackward0", "AddBackward0", "<svg"):
        assert name in text
