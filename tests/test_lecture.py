"""The lecture on computational graphs, cell by cell, as a test.

Each cell of ``rustgrad._lecture.CELLS`` runs against rustgrad and its values are checked; the
same cells run against PyTorch (when installed) must print the same text, up to the library
name and memory addresses; and ``python -m rustgrad`` must replay them all.
"""

import re
import subprocess
import sys

import pytest
import rustgrad
from rustgrad._lecture import CELLS, run_cell

NO_GRAD_FN = "element 0 of tensors does not require grad and does not have a grad_fn"


def _index(title_start):
    matches = [i for i, (title, _) in enumerate(CELLS) if title.startswith(title_start)]
    assert len(matches) == 1, title_start
    return matches[0]


def _run_through(title_start, namespace, outputs):
    """Run the cells up to and including the one whose title starts so; return its output."""
    stop = _index(title_start)
    while len(outputs) <= stop:
        outputs.append(run_cell(CELLS[len(outputs)][1], namespace))
    return outputs[stop]


def _values(t):
    return t.tolist()


def test_lecture_cells_give_the_lecture_values():
    ns, outs = {}, []

    out = _run_through("Imports", ns, outs)
    assert ns["torch"] is rustgrad and out == ""

    out = _run_through("Last session", ns, outs)
    t = ns["t"]
    assert _values(t.view(3, 2)) == [[1, 2], [3, 4], [5, 6]]
    assert _values(t.view(-1)) == [1, 2, 3, 4, 5, 6]
    assert "tensor([1., 2., 3., 4., 5., 6.])" in out

    out = _run_through("A Variable", ns, outs)
    assert out == "tensor([1., 2., 3.])\n"
    assert ns["x"].requires_grad and ns["x"].is_leaf

    out = _run_through("A second Variable", ns, outs)
    assert _values(ns["z"]) == [5, 7, 9]
    assert out == "tensor([5., 7., 9.])\n"

    out = _run_through("z knows", ns, outs)
    assert ns["z"].grad_fn.name() == "AddBackward0"
    assert out.startswith("tensor([5., 7., 9.], grad_fn=<AddBackward0>)\n")
    assert re.search(r"<AddBackward0 object at 0x[0-9a-fA-F]+>", out)

    out = _run_through("Summing", ns, outs)
    assert ns["s"].item() == 21
    assert out == "tensor(21., grad_fn=<SumBackward0>)\n"

    out = _run_through("s knows", ns, outs)
    assert ns["s"].grad_fn.name() == "SumBackward0"
    assert out.startswith("<SumBackward0 object at 0x")

    for n, title in enumerate(["Backpropagation", "backward again", "And once more"], 1):
        out = _run_through(title, ns, outs)
        assert _values(ns["x"].grad) == [n, n, n]
        assert _values(ns["y"].grad) == [n, n, n]
        assert out.endswith(f"tensor([{n}., {n}., {n}.])\ntensor([{n}., {n}., {n}.])\n")
    assert outs[_index("Backpropagation")].startswith("tensor([1., 2., 3.], requires_grad=True)")

    out = _run_through("Two plain tensors", ns, outs)
    assert _values(ns["z"]) == [[2, 2], [2, 2]]
    assert ns["z"].grad_fn is None and not ns["z"].requires_grad

    out = _run_through("Variables made of them", ns, outs)
    assert ns["var_z"].grad_fn.name() == "AddBackward0"
    assert ns["var_x"].is_leaf and ns["var_x"].requires_grad
    assert out.startswith("<AddBackward0 object at 0x")

    out = _run_through("A new Variable", ns, outs)
    new_var_z = ns["new_var_z"]
    assert new_var_z.grad_fn is None and not new_var_z.requires_grad
    assert _values(new_var_z) == [[2, 2], [2, 2]]
    assert out == "None\n"

    out = _run_through("backward() through", ns, outs)
    assert out == f"RuntimeError: {NO_GRAD_FN}\n"
    with pytest.raises(RuntimeError, match=NO_GRAD_FN):
        new_var_z.backward()

    out = _run_through("CUDA", ns, outs)
    assert f"CUDA available: {rustgrad.cuda.is_available()}\n" in out
    assert "this demo ran on: " in out
    assert len(outs) == len(CELLS)


def _normalize(text):
    text = text.replace("torch.", "rustgrad.")
    return re.sub(r"0x[0-9a-fA-F]+", "0x...", text)


def _torch_source(source):
    return source.replace("import rustgrad as torch", "import torch").replace(
        "from rustgrad.autograd", "from torch.autograd"
    )


def test_lecture_prints_what_pytorch_prints():
    torch = pytest.importorskip("torch")
    rg_ns, torch_ns = {}, {}
    same_cuda = torch.cuda.is_available() == rustgrad.cuda.is_available()
    for title, source in CELLS:
        ours = run_cell(source, rg_ns)
        theirs = run_cell(_torch_source(source), torch_ns)
        if title.startswith("CUDA") and not same_cuda:
            continue
        assert _normalize(ours) == _normalize(theirs), title


def test_python_dash_m_rustgrad_replays_the_lecture(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "rustgrad"],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for line in [
        "tensor([5., 7., 9.])",
        "tensor(21., grad_fn=<SumBackward0>)",
        "tensor([1., 1., 1.])",
        "tensor([2., 2., 2.])",
        "tensor([3., 3., 3.])",
        f"RuntimeError: {NO_GRAD_FN}",
        f"CUDA available: {rustgrad.cuda.is_available()}",
        "the demo ran on: ",
    ]:
        assert line in out, line
    assert out.count("--- [") == len(CELLS)
    for _, source in CELLS:
        assert source.splitlines()[0] in out
    assert proc.stderr == ""
