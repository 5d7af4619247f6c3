"""Run the corpus under PyTorch and rustgrad and compare what they print.

A program's result is one of:

- ``pass``: its output agrees with PyTorch's in the program's mode (see ``manifest``);
- ``differs``: it ran to the end but its output does not agree (the first differing line);
- ``missing``: it stopped at a PyTorch name rustgrad lacks (the name);
- ``crash``: it stopped at any other exception (the exception's last line), or timed out.

PyTorch's outputs are recorded in ``expected/<name>.txt`` (``python -m tests.corpus --record``),
so the suite compares against them without running PyTorch.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .manifest import GLOBAL_MASKS, MASKS, PROGRAMS, Program

HERE = Path(__file__).resolve().parent
PROGRAM_DIR = HERE / "programs"
EXPECTED_DIR = HERE / "expected"
BOOT = HERE / "_boot.py"
REPO = HERE.parent.parent


@dataclass(frozen=True)
class Run:
    stdout: str
    stderr: str
    returncode: int
    seconds: float
    timed_out: bool


@dataclass(frozen=True)
class Result:
    program: str
    status: str
    detail: str
    seconds: float


def program_path(program: Program) -> Path:
    return PROGRAM_DIR / f"{program.name}.py"


def expected_path(program: Program) -> Path:
    return EXPECTED_DIR / f"{program.name}.txt"


def run(program: Program, backend: str, timeout: float = 120.0) -> Run:
    """Run ``program`` under ``backend`` ("torch" or "rustgrad") in a fresh interpreter."""
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0")
    # The repository's own python/ first, so a source checkout's rustgrad is the one tested.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "python"), env.get("PYTHONPATH")]))
    command = [sys.executable, str(BOOT), backend, str(program_path(program)), *program.args]
    start = time.perf_counter()
    # A scratch working directory: some programs save checkpoints or figures.
    with tempfile.TemporaryDirectory(prefix=f"corpus-{program.name}-") as cwd:
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=timeout,
                cwd=cwd,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired as err:
            out = err.stdout.decode() if isinstance(err.stdout, bytes) else err.stdout or ""
            return Run(out, "", -1, time.perf_counter() - start, True)
    return Run(done.stdout, done.stderr, done.returncode, time.perf_counter() - start, False)


# A number standing alone (not the digits of a name such as `fc1` or `conv2d`).
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|inf|nan)(?![\w])")


def tokenize(line: str) -> tuple[list[str], list[float]]:
    """Split a line into its text pieces (between numbers) and its numbers."""
    texts, numbers, last = [], [], 0
    for match in _NUMBER.finditer(line):
        texts.append(line[last : match.start()])
        numbers.append(float(match.group()))
        last = match.end()
    texts.append(line[last:])
    return texts, numbers


def _mask(program: Program, text: str) -> str:
    for pattern in (*GLOBAL_MASKS, *MASKS.get(program.name, ())):
        text = re.sub(pattern, "<masked>", text)
    return text


def _close(a: float, b: float, program: Program) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= program.atol + program.rtol * abs(b)


def compare(program: Program, expected: str, actual: str) -> str | None:
    """None when ``actual`` agrees with PyTorch's ``expected`` output, else the first difference."""
    want = _mask(program, expected).splitlines()
    got = _mask(program, actual).splitlines()
    for i, (w, g) in enumerate(zip(want, got), 1):
        wt, wn = tokenize(w)
        gt, gn = tokenize(g)
        if program.mode != "values":  # column padding follows the (differing) values
            wt, gt = ["".join(t.split()) for t in wt], ["".join(t.split()) for t in gt]
        same = wt == gt and len(wn) == len(gn)
        if same and program.mode == "values":
            same = all(_close(x, y, program) for x, y in zip(gn, wn))
        elif same:  # any finite number; a non-finite one only where PyTorch printed the same
            same = all(math.isfinite(y) or _close(y, x, program) for x, y in zip(wn, gn))
        if not same:
            return f"line {i}: expected {w!r}, got {g!r}"
    if len(want) != len(got):
        return f"{len(got)} lines, expected {len(want)}"
    if program.mode == "loss":
        assert program.loss is not None
        losses = [float(m.group(1)) for m in map(re.compile(program.loss).match, got) if m]
        if len(losses) < 2:
            return f"fewer than 2 loss values matched {program.loss!r}"
        if not all(math.isfinite(v) for v in losses):
            return f"non-finite loss: {losses}"
        if not losses[-1] < losses[0]:
            return f"loss did not decrease: {losses[0]} -> {losses[-1]}"
    return None


_RUSTGRAD = re.compile(r"\brustgrad\b")
_MISSING = (
    # rustgrad's own message for a PyTorch name it lacks
    (re.compile(r"^NotImplementedError: .*?\b(torch(?:\.\w+)+)"), r"\1"),
    (re.compile(r"^AttributeError: module '([\w.]+)' has no attribute '(\w+)'"), r"\1.\2"),
    (re.compile(r"^AttributeError: '([\w.]+)' object has no attribute '(\w+)'"), r"\1.\2"),
    (re.compile(r"^AttributeError: type object '([\w.]+)' has no attribute '(\w+)'"), r"\1.\2"),
    (re.compile(r"^ModuleNotFoundError: No module named '([\w.]+)'"), r"\1"),
    (re.compile(r"^ImportError: cannot import name '(\w+)' from '([\w.]+)'"), r"\2.\1"),
    (
        re.compile(r"^TypeError: ([\w.]+)\(\) got an unexpected keyword argument '(\w+)'"),
        r"\1(\2=)",
    ),
)
# Any other NotImplementedError names a feature rather than a name: its message stands for it.
_FEATURE = re.compile(r"^NotImplementedError: (.+)")


def last_exception(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line and not line.startswith(" ")]
    return lines[-1] if lines else ""


def missing_name(exception: str) -> str | None:
    """The PyTorch name an exception line says rustgrad lacks, spelled as PyTorch spells it."""
    for pattern, template in _MISSING:
        match = pattern.match(exception)
        if match:
            name = _RUSTGRAD.sub("torch", match.expand(template))
            # spelled as `python -m rustgrad check` spells names: torch.Tensor.x, torch.f(k=)
            return name if name.startswith("torch.") else f"torch.{name}"
    feature = _FEATURE.match(exception)
    return feature.group(1) if feature else None


def classify(program: Program, expected: str, outcome: Run) -> Result:
    if outcome.timed_out:
        return Result(program.name, "crash", "timed out", outcome.seconds)
    if outcome.returncode != 0:
        exception = last_exception(outcome.stderr) or f"exit status {outcome.returncode}"
        name = missing_name(exception)
        if name is not None:
            return Result(program.name, "missing", name, outcome.seconds)
        return Result(program.name, "crash", exception, outcome.seconds)
    difference = compare(program, expected, outcome.stdout)
    if difference is not None:
        return Result(program.name, "differs", difference, outcome.seconds)
    return Result(program.name, "pass", "", outcome.seconds)


def available() -> list[Program]:
    """The programs whose text and PyTorch reference output are both present."""
    return [p for p in PROGRAMS if program_path(p).exists() and expected_path(p).exists()]


def check_all(programs: list[Program], timeout: float = 120.0, workers: int = 2) -> list[Result]:
    """Run ``programs`` under rustgrad (``workers`` at a time) and classify each."""

    def one(program: Program) -> Result:
        return classify(
            program, expected_path(program).read_text(), run(program, "rustgrad", timeout)
        )

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, programs))


def record(programs: list[Program], timeout: float = 300.0) -> list[str]:
    """Write PyTorch's output of each program to ``expected/``; returns the programs that failed."""
    EXPECTED_DIR.mkdir(exist_ok=True)
    failed = []
    for program in programs:
        outcome = run(program, "torch", timeout)
        if outcome.returncode != 0 or outcome.timed_out:
            failed.append(f"{program.name}: {last_exception(outcome.stderr) or 'timed out'}")
            continue
        expected_path(program).write_text(outcome.stdout)
    return failed


def static_missing(programs: list[Program]) -> dict[str, list[str]]:
    """Every PyTorch name each program uses that rustgrad lacks, found without running it
    (``python -m rustgrad check``): program name -> missing names."""
    if not programs:
        return {}
    command = [sys.executable, "-m", "rustgrad", "check", *map(str, map(program_path, programs))]
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(
            filter(None, [str(REPO / "python"), os.environ.get("PYTHONPATH")])
        ),
    )
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    found: dict[str, list[str]] = {p.name: [] for p in programs}
    for line in done.stdout.splitlines():
        match = re.match(r"^(.*?\.py):\d+: (\S+)$", line)
        if match:
            names = found[Path(match.group(1)).stem]
            if match.group(2) not in names:
                names.append(match.group(2))
    return found


def blockers(results: list[Result]) -> list[tuple[str, int]]:
    """The missing names that stop programs, most frequent first."""
    return Counter(r.detail for r in results if r.status == "missing").most_common()
