"""Running programs in both libraries, comparing, shrinking, and batches in a child process."""

import json
import math
import os
import subprocess
import sys
import time

import numpy as np

from .program import Stmt, generate, render

# assert_close's float tolerances (PyTorch's defaults)
TOL = {"float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7)}


def snapshot(value, torch):
    """A comparable description of a value made by either library."""
    if isinstance(value, torch.Tensor):
        dtype = str(value.dtype).rsplit(".", 1)[-1].replace("bool_", "bool")
        # (numpy() may share memory; force=True: PyTorch's zero-gradient ZeroTensor refuses
        # plain numpy())
        arr = np.array(value.detach().cpu().numpy(force=True), copy=True)
        return ("tensor", dtype, tuple(int(s) for s in value.shape), bool(value.requires_grad), arr)
    if isinstance(value, (list, tuple)) and not isinstance(value, str):
        return ("seq", [snapshot(v, torch) for v in value])
    if isinstance(value, (bool, int, float)) or value is None:
        return ("py", type(value).__name__, value)
    if isinstance(value, (np.generic, np.ndarray)):
        return ("py", "numpy", np.asarray(value).tolist())
    return ("other", type(value).__name__)


def _values_only(snap):
    """A snapshot without requires_grad (for views with earlier history: README)."""
    if snap[0] == "tensor":
        return snap[:3] + (None,) + snap[4:]
    if snap[0] == "seq":
        return ("seq", [_values_only(s) for s in snap[1]])
    return snap


def run_program(program, torch, on_stmt=None):
    """Each statement's outcome: ("raised", type name) or ("ok", {checked name: snapshot})."""
    ns = {"torch": torch, "np": np, "math": math}
    outcomes = []
    for i, stmt in enumerate(program):
        if on_stmt is not None:
            on_stmt(i)
        try:
            exec(stmt.code, ns)  # noqa: S102 (generated code: the point of a fuzzer)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as err:  # noqa: BLE001 (PyO3's PanicException is a BaseException)
            outcomes.append(("raised", type(err).__name__, str(err)[:200]))
            continue
        checked = {}
        for name in stmt.check:
            try:
                value = eval(name.rstrip("@"), ns)
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as err:  # noqa: BLE001
                checked[name] = ("raised", type(err).__name__)
                continue
            try:
                checked[name] = snapshot(value, torch)
                if name.endswith("@"):
                    checked[name] = _values_only(checked[name])
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as err:  # noqa: BLE001 (reading a value may panic too)
                checked[name] = ("raised-on-read", type(err).__name__)
        outcomes.append(("ok", checked))
    return outcomes


def _close(a, b, dtype, mixed=False, truth=None):
    if a.shape != b.shape:
        return False
    if dtype in TOL:
        rtol, atol = TOL["float32" if mixed else dtype]
        if np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True):
            return True
        if truth is None or truth.shape != a.shape:
            return False
        # Float32 rounding, not a wrong formula, when rustgrad is no farther than PyTorch
        # from the same program run in float64 (cancelling sums amplify either's rounding).
        t = truth.astype(np.float64)
        with np.errstate(invalid="ignore"):  # (inf - inf: judged by the NaN rule below)
            ours, ref = np.abs(a - t), np.abs(b - t)
        same_nan = np.isnan(a) == np.isnan(b)
        return bool(
            same_nan.all() and np.all((ours <= ref + atol + rtol * np.abs(t)) | np.isnan(a))
        )
    # (exactly: half types, integers, bools; a NaN equals a NaN)
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc" and b.dtype.kind in "fc"))


def diff(a, b, mixed=False, truth=None):
    """Why snapshot ``a`` (rustgrad) differs from ``b`` (PyTorch): a short kind, or None.
    ``truth``: the same value from the program run in float64, where there is one."""
    if a[0] != b[0]:
        return f"kind {a[0]}!={b[0]}" if a[0] != "raised-on-read" else f"read-raised {a[1]}"
    if a[0] == "tensor":
        if a[1] != b[1]:
            return f"dtype {a[1]}!={b[1]}"
        if a[2] != b[2]:
            return "shape"
        t = truth[4] if truth is not None and truth[0] == "tensor" else None
        if not _close(a[4], b[4], a[1], mixed, t):
            return "value"
        if a[3] != b[3]:
            return f"requires_grad {a[3]}!={b[3]}"
        return None
    if a[0] == "seq":
        if len(a[1]) != len(b[1]):
            return "length"
        ts = truth[1] if truth is not None and truth[0] == "seq" else [None] * len(a[1])
        if len(ts) != len(a[1]):
            ts = [None] * len(a[1])
        for x, y, t in zip(a[1], b[1], ts):
            d = diff(x, y, mixed, t)
            if d:
                return d
        return None
    if a[0] == "py":
        if a[1] != b[1]:
            return f"pytype {a[1]}!={b[1]}"
        x, y = a[2], b[2]
        if isinstance(x, float) and isinstance(y, float):
            return (
                None
                if (
                    x == y
                    or (math.isnan(x) and math.isnan(y))
                    or math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-6)
                )
                else "value"
            )
        if a[1] == "numpy":
            xa, ya = np.asarray(x), np.asarray(y)
            ok = xa.shape == ya.shape and (
                np.allclose(xa, ya, rtol=1.3e-6, atol=1e-5, equal_nan=True)
                if xa.dtype.kind == "f"
                else np.array_equal(xa, ya)
            )
            return None if ok else "value"
        return None if x == y else "value"
    return None if a == b else f"other {a[1]}!={b[1]}"


def _has_float32(outcome):
    return outcome[0] == "ok" and any(
        s[0] == "tensor" and s[1] == "float32" for s in outcome[1].values()
    )


def in_float64(program):
    """The program with its float32 tensors made float64: the reference for rounding."""
    swaps = (
        ("torch.float32", "torch.float64"),
        ("np.float32", "np.float64"),
        (".float()", ".double()"),
    )
    out = []
    for stmt in program:
        code = stmt.code
        for old, new in swaps:
            code = code.replace(old, new)
        out.append(Stmt(code, stmt.tag, stmt.check))
    return out


def run_in_float64(program, torch):
    """PyTorch's outcomes for ``in_float64(program)``, float64 the default dtype meanwhile."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        return run_program(in_float64(program), torch)
    finally:
        torch.set_default_dtype(before)


def compare(program, ours, ref, truth=None):
    """Mismatches as (statement index, signature, detail). Once a float32 tensor has been
    made, float64 results are compared with float32's tolerance (they may carry float32
    rounding: ``f32.sum() + f64`` is float64). ``truth``: a callable giving the program's
    outcomes run in float64; a float32 value beyond tolerance still passes when rustgrad's
    is no farther from that value than PyTorch's."""
    found = []
    mixed = False
    truths = None
    for i, (stmt, a, b) in enumerate(zip(program, ours, ref)):
        mixed = mixed or _has_float32(b)
        if a[0] == "raised" and a[1] == "PanicException":
            found.append((i, f"panic|{stmt.tag}", a[2]))
            break
        if a[0] != b[0]:
            what = f"raised {a[1]}" if a[0] == "raised" else f"ran (PyTorch raised {b[1]})"
            sig = "exception|" if a[0] == "raised" else "no-exception|"
            found.append(
                (i, f"{sig}{stmt.tag}", what + (f": {a[2]}" if a[0] == "raised" else f": {b[2]}"))
            )
            break  # later statements see other state
        if a[0] == "raised":
            if a[1] != b[1]:
                found.append((i, f"exception-type|{stmt.tag}|{a[1]}!={b[1]}", f"{a[2]} / {b[2]}"))
            continue
        for name in stmt.check:
            d = diff(a[1].get(name, ("missing",)), b[1].get(name, ("missing",)), mixed)
            if d == "value" and mixed and truth is not None:
                if truths is None:
                    truths = truth()
                t = truths[i][1].get(name) if i < len(truths) and truths[i][0] == "ok" else None
                if t is not None:
                    d = diff(a[1].get(name, ("missing",)), b[1].get(name), mixed, t)
            if d:
                kind = d.split(" ")[0]
                area = "grad" if stmt.tag.startswith("grad") else "value"
                label = {"value": area, "dtype": "dtype", "shape": "shape"}.get(kind, kind)
                found.append(
                    (
                        i,
                        f"{label}|{stmt.tag}"
                        + (f"|{d}" if kind in ("dtype", "requires_grad", "pytype") else ""),
                        f"{name}: {d}",
                    )
                )
                break
        if found:
            break
    return found


def check_program(program, rg, torch):
    ref = run_program(program, torch)
    ours = run_program(program, rg)
    return compare(program, ours, ref, lambda: run_in_float64(program, torch))


def shrink(program, signature, rg, torch, budget=200):
    """Greedily drop statements while the first mismatch keeps ``signature``."""

    def same(p):
        found = check_program(p, rg, torch)
        return bool(found) and found[0][1] == signature

    prog = list(program)
    changed = True
    while changed and budget > 0:
        changed = False
        for i in range(len(prog) - 1, -1, -1):
            if budget <= 0:
                break
            cand = prog[:i] + prog[i + 1 :]
            budget -= 1
            if cand and same(cand):
                prog = cand
                changed = True
    return prog


# ----------------------------------------------------------------- child process


def child_main(seed, start, stop):
    """Run programs ``start..stop`` of ``seed`` and print one JSON line per event (the
    parent reads them to know which program and statement a crash happened in)."""
    import rustgrad
    import torch

    torch.set_default_dtype(torch.float32)
    out = sys.stdout
    hook = os.environ.get("FUZZ_ABORT_AT")
    abort_at = tuple(int(v) for v in hook.split(",")) if hook else None
    for i in range(start, stop):
        program = generate(seed * 1_000_003 + i, torch)
        out.write(json.dumps({"program": i, "stmts": [s.to_json() for s in program]}) + "\n")
        out.flush()

        def mark(k, i=i, event="at"):
            out.write(json.dumps({event: [i, k]}) + "\n")
            out.flush()
            if abort_at == (i, k) and event == "at":
                os.abort()  # (the test of crash reporting)

        # (statements PyTorch runs are marked too: a crash there is PyTorch's, not ours)
        ref = run_program(program, torch, on_stmt=lambda k: mark(k, event="reference_at"))
        ours = run_program(program, rustgrad, on_stmt=mark)
        found = compare(program, ours, ref, lambda p=program: run_in_float64(p, torch))
        if found:
            program = program[: found[0][0] + 1]
            _, sig, detail = found[0]
            if os.environ.get("FUZZ_NO_SHRINK") != "1":
                program = shrink(program, sig, rustgrad, torch)
            out.write(
                json.dumps({"mismatch": [i, sig, detail, [s.to_json() for s in program]]}) + "\n"
            )
        out.write(json.dumps({"done": i}) + "\n")
        out.flush()


def run_batch(seed, start, stop, timeout=600):
    """Run programs ``start..stop`` in child processes; restart after a crash. Returns a list
    of (program index, signature, detail, reproducer statements)."""
    results = []
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # tests/
    env = dict(os.environ, PYTHONPATH=here + os.pathsep + os.environ.get("PYTHONPATH", ""))
    i = start
    while i < stop:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                f"from fuzz.runner import child_main; child_main({seed}, {i}, {stop})",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        current, stmts, at, deadline = None, [], None, time.time() + timeout
        in_reference = False
        try:
            out, err = proc.communicate(timeout=max(1, deadline - time.time()))
            timed_out = False
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            timed_out = True
        last_done = i - 1
        for line in out.splitlines():
            try:
                ev = json.loads(line)
            except json.JSONDecodeError:
                continue
            if "program" in ev:
                current, stmts = ev["program"], [Stmt.from_json(s) for s in ev["stmts"]]
                at = None
            elif "reference_at" in ev:
                at, in_reference = ev["reference_at"][1], True
            elif "at" in ev:
                at, in_reference = ev["at"][1], False
            elif "mismatch" in ev:
                idx, sig, detail, prog = ev["mismatch"]
                results.append((idx, sig, detail, [Stmt.from_json(s) for s in prog]))
            elif "done" in ev:
                last_done = ev["done"]
        if proc.returncode == 0 and not timed_out:
            break
        if current is None or current <= last_done:
            raise RuntimeError(f"fuzz child failed before any program: {err[-2000:]}")
        # the child died (or hung) in program ``current``, at statement ``at``
        tag = stmts[at].tag if at is not None and at < len(stmts) else "?"
        kind = "timeout" if timed_out else f"crash(rc={proc.returncode})"
        if in_reference:
            kind = f"reference-{kind}"  # (PyTorch died: nothing to compare)
        tail = err.strip().splitlines()[-1:] if err.strip() else [""]
        results.append((current, f"{kind}|{tag}", tail[0][:200], stmts[: (at or 0) + 1]))
        i = current + 1
    return results


def reproducer(stmts):
    return render(stmts)
