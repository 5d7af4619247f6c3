"""The fuzzer's fixed-seed slice (CI): random programs in rustgrad and PyTorch must agree,
except for the known bug classes of ``known.py`` (each must still reproduce: strict)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import rustgrad

from fuzz.known import KNOWN, classify
from fuzz.program import Stmt, generate, render
from fuzz.runner import check_program, compare, diff, run_batch, run_in_float64, run_program

SEED = 20261204
# (about 45 s on one core: programs are shrunk when they mismatch)
PROGRAMS = int(os.environ.get("FUZZ_CI_PROGRAMS", "1000"))


def test_fixed_seed_slice_has_only_known_mismatches():
    results = run_batch(SEED, 0, PROGRAMS)
    unexpected = [r for r in results if classify(r[1], r[2], r[3]) is None]
    report = [
        f"program {idx}: {sig} ({detail})\n{render(stmts)}"
        for idx, sig, detail, stmts in unexpected
    ]
    assert not unexpected, "mismatches no class of tests/fuzz/known.py matches:\n\n" + "\n\n".join(
        report
    )


@pytest.mark.parametrize("known", KNOWN, ids=[k.id for k in KNOWN])
def test_known_bug_still_reproduces(known):
    """A strict xfail: when a bug is fixed its reproducer stops mismatching; remove it."""
    stmts = [Stmt.from_json(s) for s in known.stmts]
    crasher = {"^crash": "rustgrad", "^timeout": "rustgrad", "^reference-": "torch"}
    lib = next((v for k, v in crasher.items() if known.pattern.startswith(k)), None)
    if lib:  # (run where a crash cannot hurt)
        tests_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        code = (
            f"import sys, json, {lib}; sys.path.insert(0, {tests_dir!r})\n"
            "from fuzz.program import Stmt\nfrom fuzz.runner import run_program\n"
            f"run_program([Stmt.from_json(s) for s in json.loads({json.dumps(known.stmts)!r})],"
            f" {lib})\n"
        )
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, timeout=300, check=False
        )
        assert proc.returncode != 0, f"{known.id} no longer crashes: remove it from known.py"
        return
    found = check_program(stmts, rustgrad, torch)
    now = classify(found[0][1], found[0][2], stmts) if found else None
    if now is None and known.id.startswith("float32-rounding-"):
        # Not a bug but two roundings: PyTorch's kernels round differently per CPU (AVX2 on
        # AMD, AVX-512 and MKL on Intel), so the reproducer matches only where it was found.
        pytest.skip(f"{known.id}: PyTorch rounds as rustgrad on this CPU")
    assert now == known.id, (
        f"{known.id} no longer reproduces (now: {found[:1]}, class {now}): update known.py\n"
        + render(stmts)
    )


def test_programs_are_deterministic_and_replayable():
    a, b = generate(7, torch), generate(7, torch)
    assert [s.code for s in a] == [s.code for s in b] and a
    assert render(a).startswith("import math")
    # the same program in PyTorch twice agrees with itself
    assert compare(a, run_program(a, torch), run_program(a, torch)) == []


def test_comparison_catches_each_kind_of_difference():
    """The comparison is not vacuous: values, dtypes, shapes, requires_grad and exception
    types each make a mismatch."""
    stmts = [Stmt("x = torch.tensor([1.0, 2.0])", "t", ("x",))]
    snap = run_program(stmts, torch)[0][1]["x"]
    assert diff(snap, snap) is None
    assert diff(("tensor", "float64", *snap[2:]), snap).startswith("dtype")
    assert diff(("tensor", "float32", (1, 2), *snap[3:]), snap) == "shape"
    bumped = ("tensor", "float32", (2,), False, snap[4] * (1 + 1e-5))
    assert diff(bumped, snap) == "value"
    assert diff(("tensor", "float32", (2,), True, snap[4]), snap).startswith("requires_grad")
    raised = [Stmt("x = torch.zeros(2) + torch.zeros(3)", "binary.add", ("x",))]
    ours = [("raised", "TypeError", "")]
    assert compare(raised, ours, run_program(raised, torch))[0][1].startswith("exception-type")
    panicked = [("raised", "PanicException", "boom")]
    assert compare(raised, panicked, run_program(raised, torch))[0][1] == "panic|binary.add"


def test_float32_rounding_is_judged_against_float64():
    """Beyond tolerance, a float32 value passes only when it is no farther than PyTorch's
    from the program run in float64; the float64 run really is float64."""
    stmts = [Stmt("x = torch.tensor([1.0, 3.0], dtype=torch.float32) / 7", "t", ("x",))]
    truth = run_in_float64(stmts, torch)[0][1]["x"]
    assert truth[1] == "float64" and torch.get_default_dtype() == torch.float32
    exact = ("tensor", "float32", (2,), False, truth[4].astype(np.float32))
    off = ("tensor", "float32", (2,), False, (truth[4] * (1 + 1e-4)).astype(np.float32))
    assert diff(exact, off, True) == "value" and diff(off, exact, True) == "value"
    assert diff(exact, off, True, truth) is None  # PyTorch's rounding is the worse
    assert diff(off, exact, True, truth) == "value"  # ours is the worse


def test_a_crashing_child_is_reported_with_its_program(monkeypatch):
    """A child that dies (a test hook makes it abort in program 1, statement 0, as a segfault
    would) is reported as a crash of that program, and the batch goes on after it."""
    monkeypatch.setenv("FUZZ_ABORT_AT", "1,0")
    results = run_batch(SEED, 0, 3)
    crashes = [r for r in results if r[1].startswith("crash")]
    assert len(crashes) == 1, results
    idx, sig, _, stmts = crashes[0]
    assert idx == 1 and sig == f"crash(rc=-6)|{stmts[0].tag}" and len(stmts) == 1
