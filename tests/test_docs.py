"""The README's example runs as written, and the project's metadata has one version."""

import pathlib
import re

import pytest
import rustgrad

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = pathlib.Path(__file__).resolve().parents[1]


def python_blocks(text):
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def test_readme_example_runs_and_learns(capsys):
    (block,) = python_blocks((ROOT / "README.md").read_text())
    namespace = {}
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - the example itself
    printed = capsys.readouterr().out
    assert "grad_fn=<MeanBackward0>" in printed
    x, w = namespace["x"].detach(), namespace["w"].detach()
    gx, gw = namespace["x"].grad, namespace["w"].grad
    w_before = w + 0.1 * gw  # the example ends with one SGD step (lr=0.1) on w
    # d mean((tanh(x w) - 0.5)^2) / dx = 2/3 (tanh(x w) - 0.5)(1 - tanh(x w)^2) w, same for w.
    t = (x * w_before).tanh()
    common = (2.0 / 3.0) * (t - 0.5) * (1 - t * t)
    assert (gx - common * w_before).abs().max().item() < 1e-5
    assert (gw - common * x).abs().max().item() < 1e-5


def test_version_has_one_source():
    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())["package"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert rustgrad.__version__ == cargo["version"]
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## [{cargo['version']}]" in changelog


def test_rust_version_declared():
    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())["package"]
    assert re.fullmatch(r"1\.\d+(\.\d+)?", cargo["rust-version"])
