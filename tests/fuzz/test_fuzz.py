"""The fuzzer's fixed-seed slice (CI): random programs in rustgrad and PyTorch must agree,
except for the known bugs of ``known.py`` (each must still occur: strict)."""

import json
import os
import subprocess
import sys

import pytest

from fuzz.known import KNOWN
from fuzz.program import Stmt, generate, render
from fuzz.runner import check_program, compare, diff, reproducer, run_batch, run_program

torch = pytest.importorskip("torch")
import rustgrad  # noqa: E402

SEED = 20261204
PROGRAMS = int(os.environ.get("FUZZ_CI_PROGRAMS", "300"))


def test_fixed_seed_slice_has_only_known_mismatches():
    known = {k.signature for k in KNOWN}
    results = run_batch(SEED, 0, PROGRAMS)
    unexpected = [r for r in results if r[1] not in known]
    report = [
        f"program {idx}: {sig} ({detail})\n{reproducer(stmts)}"
        for idx, sig, detail, stmts in unexpected
    ]
    assert not unexpected, "mismatches not in tests/fuzz/known.py:\n\n" + "\n\n".join(report)


@pytest.mark.parametrize("known", KNOWN, ids=[k.signature for k in KNOWN])
def test_known_bug_still_reproduces(known):
    """A strict xfail: when a bug is fixed its reproducer stops mismatching; remove it."""
    stmts = [Stmt.from_json(s) for s in known.stmts]
    if known.signature.startswith(("crash", "timeout")):
        code = ("import sys; sys.path.insert(0, %r)\n" % os.path.dirname(os.path.dirname(__file__))
                + "import json, rustgrad\nfrom fuzz.program import Stmt\nfrom fuzz.runner import run_program\n"
                + f"run_program([Stmt.from_json(s) for s in json.loads({json.dumps(known.stmts)!r})], rustgrad)\n")
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=300)
        assert proc.returncode != 0, f"{known.signature} no longer crashes: remove it from known.py"
        return
    found = check_program(stmts, rustgrad, torch)
    assert found and found[0][1] == known.signature, (
        f"{known.signature} no longer reproduces (now: {found[:1]}): remove it from known.py\n"
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
    ref = run_program(stmts, torch)
    snap = ref[0][1]["x"]
    assert diff(snap, snap) is None
    assert diff(("tensor", "float64", *snap[2:]), snap).startswith("dtype")
    assert diff(("tensor", "float32", (1, 2), *snap[3:]), snap) == "shape"
    bumped = ("tensor", "float32", (2,), False, snap[4] * (1 + 1e-5))
    assert diff(bumped, snap) == "value"
    assert diff(("tensor", "float32", (2,), True, snap[4]), snap).startswith("requires_grad")
    raised = [Stmt("x = torch.zeros(2) + torch.zeros(3)", "binary.add", ("x",))]
    ours = [("raised", "TypeError", "")]
    assert compare(raised, ours, run_program(raised, torch))[0][1].startswith("exception-type")
    assert json.loads(json.dumps([s.to_json() for s in stmts]))
