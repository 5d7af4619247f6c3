"""``autograd.profiler.profile`` / ``record_function`` and ``rustgrad.profiler``: op names
(rustgrad's binding names where PyTorch prints ``aten::<name>``), call counts against
PyTorch's, self/total times, PyTorch's table layout, the Chrome trace, and nothing recorded
outside a profiler."""

import json
import time

import pytest
import rustgrad as rg
from rustgrad import _core

torch = pytest.importorskip("torch")

LABEL = "a_user_label_longer_than_any_op_name"


def _work(lib):
    x = lib.ones(4, 3)
    w = lib.ones(3, 2)
    y = (x @ w + 1.0).exp()
    z = y * y
    return (z.sum(), y.tanh().sum(), (x * 2).mean())


def _counts(prof, strip=""):
    return {e.key.removeprefix(strip): e.count for e in prof.key_averages()}


def _top_level_counts(prof):
    """Calls per name of the events not inside another (PyTorch's ``mean`` calls ``sum``)."""
    counts = {}
    for e in prof.function_events:
        if e.cpu_parent is None:
            counts[e.name] = counts.get(e.name, 0) + 1
    return counts


def test_op_names_and_counts_match_torch_forward():
    with rg.no_grad(), rg.autograd.profiler.profile() as prof:
        _work(rg)
    with torch.no_grad(), torch.autograd.profiler.profile() as tprof:
        _work(torch)
    ours = _top_level_counts(prof)
    theirs = _top_level_counts(tprof)
    for op in ("matmul", "add", "exp", "mul", "sum", "tanh", "mean"):
        op = "aten::" + op
        assert ours.get(op) == theirs.get(op), (op, ours, theirs)


def test_backward_and_user_labels_are_recorded():
    x = rg.ones(5, requires_grad=True)
    with rg.autograd.profiler.profile() as prof:
        with rg.autograd.profiler.record_function(LABEL):
            y = (x * x).sum()
            time.sleep(0.002)
        y.backward()
    keys = _counts(prof)
    assert keys[LABEL] == 1 and keys["aten::mul"] == 1 and keys["backward"] == 1
    label = next(e for e in prof.function_events if e.name == LABEL)
    children = {c.name for c in label.cpu_children}
    assert {"aten::mul", "aten::sum"} <= children
    assert label.cpu_time_total >= 2000  # microseconds: the sleep is inside
    assert label.self_cpu_time_total == pytest.approx(
        label.cpu_time_total - sum(c.cpu_time_total for c in label.cpu_children)
    )
    assert all(e.self_cpu_time_total <= e.cpu_time_total + 1e-9 for e in prof.function_events)


def test_record_function_as_decorator_and_without_profiler():
    @rg.profiler.record_function("decorated")
    def f(t):
        return t + 1

    f(rg.ones(2))  # no profiler: nothing recorded, nothing raised
    with rg.profiler.profile(activities=[rg.profiler.ProfilerActivity.CPU]) as prof:
        f(rg.ones(2))
        f(rg.ones(2))
    assert _counts(prof)["decorated"] == 2


def test_table_has_torchs_layout():
    def run(lib):
        with (
            lib.autograd.profiler.profile() as prof,
            lib.autograd.profiler.record_function(LABEL),
        ):
            _work(lib)
        return prof.key_averages().table(sort_by="cpu_time_total", row_limit=3)

    ours, theirs = run(rg).splitlines(), run(torch).splitlines()
    # Same name column (the label is the longest name in both), headers, separators.
    assert ours[:3] == theirs[:3]
    assert ours[-2] == theirs[-2]
    assert ours[-1].startswith("Self CPU time total: ")
    assert len(ours) == len(theirs) == 3 + 3 + 2
    assert ours[3].split()[0] == LABEL  # the enclosing block has the largest total
    totals = [line.split()[4] for line in ours[3:6]]
    assert totals[0].endswith(("us", "ms", "s"))
    rows = rg.autograd.profiler.EventList(
        sorted(run_events(), key=lambda e: e.cpu_time_total, reverse=True)
    )
    assert [e.cpu_time_total for e in rows] == sorted(
        (e.cpu_time_total for e in rows), reverse=True
    )


def run_events():
    with rg.autograd.profiler.profile() as prof:
        _work(rg)
    return prof.key_averages()


def test_percentages_and_row_limit():
    with rg.autograd.profiler.profile() as prof:
        _work(rg)
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=-1)
    lines = table.splitlines()[3:-2]
    assert len(lines) == len(prof.key_averages())
    share = sum(float(line.split()[1].rstrip("%")) for line in lines)
    assert share == pytest.approx(100.0, abs=0.1 * len(lines))


def test_export_chrome_trace(tmp_path):
    with rg.autograd.profiler.profile() as prof, rg.autograd.profiler.record_function(LABEL):
        _work(rg)
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    trace = json.loads(path.read_text())["traceEvents"]
    names = {e["name"] for e in trace}
    assert LABEL in names and "aten::matmul" in names
    assert all(e["ph"] == "X" and e["dur"] >= 0 for e in trace)


def test_nothing_recorded_outside_a_profiler():
    with rg.autograd.profiler.profile():
        pass
    _work(rg)
    assert _core._profiler_events() == []
    with pytest.raises(RuntimeError, match="Profiler didn't finish running"):
        rg.autograd.profiler.profile().key_averages()
