"""``examples/char_lstm.py`` and ``examples/tiny_transformer.py`` (PyTorch code) run briefly and
unchanged under ``python -m rustgrad run``: the loss falls, a sample is printed, the plot is
written."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import rustgrad

ROOT = Path(__file__).resolve().parent.parent

pytest.importorskip("tqdm")
pytest.importorskip("matplotlib")


@pytest.mark.parametrize("name, steps", [("char_lstm", 40), ("tiny_transformer", 40)])
def test_example_runs_under_rustgrad(tmp_path, name, steps):
    plot = tmp_path / f"{name}.png"
    # the subprocess imports the same rustgrad as this test, wherever it runs from
    path = [str(Path(rustgrad.__file__).parent.parent), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in path if p)}
    proc = subprocess.run(
        [sys.executable, "-m", "rustgrad", "run", str(ROOT / "examples" / f"{name}.py"),
         "--steps", str(steps), "--plot", str(plot)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "sample: The " in proc.stdout
    assert plot.stat().st_size > 1000
    losses = [float(v) for v in re.findall(r"loss=(\d+\.\d+)", proc.stderr)]
    assert len(losses) >= steps
    assert losses[-1] < losses[0] - 0.5  # from ~ln(vocab) = 3.5 towards character statistics
