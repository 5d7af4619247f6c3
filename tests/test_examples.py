"""The examples users run: ``examples/linear_regression.py`` (and its trajectory against
PyTorch's from the same initial weights), ``examples/mlp_classifier.py`` at a reduced size, and
the linear-model part of ``python -m rustgrad``."""

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import rustgrad as rg

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def _load_example(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ----- linear regression ------------------------------------------------------------------------


def test_linear_regression_trains_and_prints(capsys):
    example = _load_example("linear_regression")
    history = example.main()
    out = capsys.readouterr().out
    assert len(history) == 100
    assert history[-1] < history[0] / 100 and history[-1] < 0.01
    assert all(b <= a for a, b in zip(history[10:], history[11:]))  # settles monotonically
    assert "Linear(in_features=1, out_features=1, bias=True)" in out
    assert "epoch   0  loss" in out and "epoch  99  loss" in out
    assert "prediction for x = 4.0: 9.0" in out  # the line is y = 2x + 1 (plus noise)
    assert example.main(epochs=3, quiet=True) == history[:3]  # seeded: same run every time
    assert capsys.readouterr().out == ""


def test_linear_regression_trajectory_matches_pytorch():
    torch = pytest.importorskip("torch")
    from rustgrad._linear_demo import LEARNING_RATE, X_DATA, Y_DATA

    example = _load_example("linear_regression")
    rg.manual_seed(0)  # what main(seed=0) does before building its model
    initial = example.Model().linear
    w0, b0 = initial.weight.item(), initial.bias.item()
    ours = example.main(epochs=100, quiet=True, seed=0)

    model = torch.nn.Linear(1, 1)
    with torch.no_grad():
        model.weight.fill_(w0)
        model.bias.fill_(b0)
    criterion = torch.nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    x, y = torch.tensor(X_DATA), torch.tensor(Y_DATA)
    theirs = []
    for _ in range(100):
        loss = criterion(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        theirs.append(loss.item())
    assert ours == pytest.approx(theirs, rel=1e-5)


def test_linear_regression_script_runs():
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "linear_regression.py"), "--epochs", "5"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "epoch   4  loss" in proc.stdout and "learned y =" in proc.stdout


# ----- MLP on digits ----------------------------------------------------------------------------


def test_mlp_classifier_at_reduced_size(tmp_path, capsys):
    pytest.importorskip("sklearn")
    example = _load_example("mlp_classifier")
    plot = tmp_path / "plot.png"
    accuracy = example.main(epochs=6, hidden=32, plot_path=str(plot))
    out = capsys.readouterr().out
    assert accuracy >= 0.85, accuracy
    assert "test accuracy:" in out
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in out
    else:
        assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"wrote the loss/accuracy plot to {plot}" in out


def test_mlp_text_progress_bar_without_tqdm(monkeypatch, capsys):
    pytest.importorskip("sklearn")
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now raises ImportError
    example = _load_example("mlp_classifier")
    example.main(epochs=2, hidden=16, plot_path=None)
    out = capsys.readouterr().out
    assert "[##############################] 2/2 loss=" in out


def test_mlp_plot_skipped_without_matplotlib(monkeypatch, tmp_path, capsys):
    example = _load_example("mlp_classifier")
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    history = {"loss": [1.0], "train_acc": [0.5], "test_acc": [0.5]}
    assert not example.save_plot(history, str(tmp_path / "p.png"))
    assert "matplotlib is not installed: skipping the plot" in capsys.readouterr().out
    assert not (tmp_path / "p.png").exists()


# ----- python -m rustgrad -----------------------------------------------------------------------


def test_python_dash_m_rustgrad_trains_the_linear_model(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "rustgrad"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    out = proc.stdout
    lecture_end = out.index("Replayed ")
    part2 = out[lecture_end:]
    assert "a linear model" in part2
    assert "epoch 100/100 [##############################] loss" in part2
    assert "learned y = 2.0" in part2
    graph = tmp_path / "rustgrad_graph.svg"
    if shutil.which("dot") is not None:
        assert "The computational graph of the loss was written to" in part2, part2
        assert graph.exists() and "<svg" in graph.read_text()
    else:
        # Without Graphviz: says why and how to get it, and leaves the DOT source.
        assert "No graph picture" in part2 and "apt-get install graphviz" in part2
        assert (tmp_path / "rustgrad_graph.dot").exists()
