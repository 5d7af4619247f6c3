"""``torch.utils.benchmark``'s minimal ``Timer``: what it runs, and how its result prints."""

import re

import pytest
from rustgrad.utils.benchmark import Measurement, TaskSpec, Timer, select_unit

torch = pytest.importorskip("torch")
tb = pytest.importorskip("torch.utils.benchmark")


def test_timer_runs_the_statement_after_the_setup_in_its_globals():
    calls = []
    m = Timer(
        "f()", setup="calls.append('setup')", globals={"f": lambda: calls.append(1), "calls": calls}
    ).timeit(7)
    # setup once per timeit (warm-up and measured run), the statement 2 + 7 times
    assert calls.count("setup") == 2
    assert calls.count(1) == 2 + 7
    assert m.number_per_run == 7 and len(m.times) == 1
    assert m.times[0] == pytest.approx(m.raw_times[0] / 7)
    assert m.mean == m.median == m.times[0] > 0


def test_timer_copies_its_globals():
    g = {"x": 1}
    Timer("x = 5", globals=g).timeit(3)
    assert g == {"x": 1}


def _shape(text):
    # the repr with the address and the measured number blanked (they vary from run to run)
    text = re.sub(r"0x[0-9a-f]+", "ADDR", text)
    return re.sub(r"(?m)^  \d+\.\d\d (?:ns|us|ms|s)$", "  TIME", text)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"stmt": "x * 2", "setup": "x = 3"},
        {"stmt": "y = x * 2\ny + 1", "setup": "x = 3", "label": None},
        {"stmt": "x * 2", "setup": "x = 3\nz = 1", "label": "mul", "sub_label": "int"},
        {"stmt": "x * 2", "setup": "x = 3", "description": "two", "sub_label": "s"},
    ],
)
def test_measurement_repr_is_pytorch_s(kwargs):
    ours = repr(Timer(**kwargs).timeit(10)).replace("rustgrad.", "torch.")
    theirs = repr(tb.Timer(**kwargs).timeit(10))
    assert _shape(ours) == _shape(theirs)


def test_measurement_repr_says_torch_under_the_drop_in(tmp_path):
    script = tmp_path / "t.py"
    script.write_text("from torch.utils.benchmark import Timer\nprint(Timer('1 + 1').timeit(5))\n")
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "rustgrad", "run", str(script)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.startswith("<torch.utils.benchmark.utils.common.Measurement object at 0x")


@pytest.mark.parametrize("seconds", [3e-9, 4.5e-7, 2e-5, 0.0123, 0.5, 2.0, 75.0])
def test_select_unit_is_pytorch_s(seconds):
    assert select_unit(seconds) == tb.select_unit(seconds)


def test_repr_of_several_measurements_is_pytorch_s():
    spec = TaskSpec(stmt="f()", setup="pass")
    times = [1e-3, 2e-3, 4e-3, 3e-3, 5e-3]
    ours = Measurement(10, times, spec)
    theirs = tb.Measurement(10, times, tb.TaskSpec(stmt="f()", setup="pass"))
    # PyTorch adds a warning line when the spread is wide; the rest must match
    theirs_lines = [
        l
        for l in repr(theirs).splitlines()
        if "WARNING" not in l and "suggests" not in l and "indicate" not in l
    ]
    assert (
        _shape(repr(ours)).replace("rustgrad.", "torch.").splitlines()
        == _shape("\n".join(theirs_lines)).splitlines()
    )
