"""Side-by-side GPU benchmark: rustgrad and PyTorch on the same CUDA device, in one process.

    python benches/gpu_bench.py               # the table, as markdown (about a minute)
    python benches/gpu_bench.py --quick       # small sizes, 2 rounds: a smoke run
    python benches/gpu_bench.py --out DIR     # also DIR/gpu_bench.md and DIR/gpu_bench.csv
    python benches/gpu_bench.py --quick --device cpu   # the code path on the CPU (CI smoke run)

Workloads (float32, everything on ``cuda:0``):

* bandwidth: ``y.copy_(x)`` (the card's device-to-device copy bandwidth, as PyTorch measures
  it), then ``x + y``, ``x * y``, ``x.exp()``, ``x.relu()`` at 64M elements; GB/s count the
  bytes read and written, and each op is shown as a share of PyTorch's copy bandwidth;
* matrix products ``a @ b``, NxN, N = 1024, 2048, 4096 (TFLOP/s from 2 N^3);
* tiny-op latency: ``x = x * 1.0001 + 0.0001`` on a one-element tensor, 1000 times (2000 ops),
  without autograd and with a backward through the whole chain;
* one training step of a 784-512-10 MLP (Linear, ReLU, Linear, CrossEntropyLoss, backward,
  SGD step), batch 256.

Each sample synchronizes the library's device before starting the clock and after the last
call (``rustgrad.cuda.synchronize()`` / ``torch.cuda.synchronize()``), so queued work is
counted. Every library is warmed up first (kernel compilation, cuBLAS handles, allocator
caches); each round times every library once, alternating which goes first, and the figure
is the median over rounds. ``ratio`` is rustgrad's time over PyTorch's: below 1, rustgrad is
faster.
"""

import argparse
import csv
import os
import platform
import statistics
import sys
import time
import traceback

# The number formatting of the CPU report (this folder is on sys.path when run as a script).
from compare import _fmt

SIZES = {
    "full": {
        "ew_n": 64 * 1024 * 1024,
        "ew_reps": 20,
        "mm_n": [1024, 2048, 4096],
        "mm_reps": {1024: 50, 2048: 10, 4096: 3},
        "chain_len": 1000,
        "chain_reps": 3,
        "mlp_steps": 20,
        "rounds": 5,
    },
    "quick": {
        "ew_n": 1024 * 1024,
        "ew_reps": 5,
        "mm_n": [256, 512],
        "mm_reps": {256: 5, 512: 5},
        "chain_len": 100,
        "chain_reps": 1,
        "mlp_steps": 3,
        "rounds": 2,
    },
}

EW_GOAL = 0.80  # elementwise ops: at least this share of the copy bandwidth
MM_GOAL = 1.10  # matrix products: at most this ratio of PyTorch's time


class Lib:
    """A library under test: its module, the device, and how to wait for that device."""

    def __init__(self, name, module, device, sync):
        self.name = name
        self.mod = module
        self.device = device
        self.sync = sync


def _no_sync():
    pass


def _load_libs(device):
    import rustgrad

    on_gpu = device == "cuda"
    if on_gpu and not rustgrad.cuda.is_available():
        sys.exit(f"rustgrad sees no CUDA device: {rustgrad._core._cuda_unavailable_reason()}")
    libs = [Lib("rustgrad", rustgrad, device, rustgrad.cuda.synchronize if on_gpu else _no_sync)]
    try:
        import torch
    except ImportError:
        print("torch is not installed: reporting rustgrad alone", file=sys.stderr)
        return libs
    if on_gpu and not torch.cuda.is_available():
        print("the installed torch sees no CUDA device: rustgrad alone", file=sys.stderr)
        return libs
    libs.append(Lib("torch", torch, device, torch.cuda.synchronize if on_gpu else _no_sync))
    return libs


def measure(libs, setup, reps, rounds):
    """``{lib name: median seconds per call}`` of the callable that ``setup(lib)`` returns.

    A library whose setup or warm-up raises is reported as the exception (the others still
    run).
    """
    runs, results = {}, {}
    for lib in libs:
        try:
            run = setup(lib)
            for _ in range(2):  # warm-up: compilation, library handles, allocator caches
                run()
            lib.sync()
            runs[lib.name] = run
        except Exception as exc:  # noqa: BLE001 - reported in the table; the others still run
            print(f"{lib.name}: {setup.__qualname__} failed:", file=sys.stderr)
            traceback.print_exc()
            results[lib.name] = exc
    by_name = {lib.name: lib for lib in libs if lib.name in runs}
    samples = {name: [] for name in by_name}
    order = list(by_name)
    for r in range(rounds):
        for name in order if r % 2 == 0 else order[::-1]:
            lib, run = by_name[name], runs[name]
            lib.sync()
            start = time.perf_counter()
            for _ in range(reps):
                run()
            lib.sync()
            samples[name].append((time.perf_counter() - start) / reps)
    results.update({name: statistics.median(s) for name, s in samples.items()})
    return results


# ---------------------------------------------------------------- workloads


def _copy(n):
    def setup(lib):
        x = lib.mod.randn(n, device=lib.device)
        y = lib.mod.empty(n, device=lib.device)
        return lambda: y.copy_(x)

    return setup


def _elementwise(n, op):
    def setup(lib):
        lib.mod.manual_seed(0)
        x = lib.mod.randn(n, device=lib.device)
        y = lib.mod.randn(n, device=lib.device)
        fns = {
            "add": lambda: x + y,
            "mul": lambda: x * y,
            "exp": lambda: x.exp(),
            "relu": lambda: x.relu(),
        }
        return fns[op]

    return setup


EW_BYTES = {"add": 3, "mul": 3, "exp": 2, "relu": 2}  # float32 tensors read + written


def _matmul(n):
    def setup(lib):
        lib.mod.manual_seed(0)
        a = lib.mod.randn(n, n, device=lib.device)
        b = lib.mod.randn(n, n, device=lib.device)
        return lambda: a @ b

    return setup


def _chain(length, backward):
    def setup(lib):
        def run():
            x = lib.mod.ones(1, device=lib.device, requires_grad=backward)
            y = x
            for _ in range(length):
                y = y * 1.0001 + 0.0001
            if backward:
                y.sum().backward()

        return run

    return setup


def _mlp(steps):
    def setup(lib):
        m = lib.mod
        m.manual_seed(0)
        model = m.nn.Sequential(m.nn.Linear(784, 512), m.nn.ReLU(), m.nn.Linear(512, 10))
        model = model.to(lib.device)
        opt = m.optim.SGD(model.parameters(), lr=0.05)
        loss_fn = m.nn.CrossEntropyLoss()
        x = m.randn(256, 784, device=lib.device)
        y = (m.rand(256, device=lib.device) * 10).long()

        def run():
            for _ in range(steps):
                opt.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                opt.step()

        return run

    return setup


# ---------------------------------------------------------------- the table


class Row:
    def __init__(self, name, times, unit_scale, unit, goal="", met=None, notes=None):
        self.name = name
        self.times = times  # {lib: seconds per unit, or an exception}
        self.unit_scale = unit_scale
        self.unit = unit
        self.goal = goal
        self.met = met
        self.notes = notes or {}  # {lib: extra text}


def _cell(row, name):
    t = row.times.get(name)
    if t is None:
        return "-"
    if isinstance(t, Exception):
        return f"error: {type(t).__name__}"
    text = f"{_fmt(t * row.unit_scale)} {row.unit}"
    return f"{text} ({row.notes[name]})" if name in row.notes else text


def _ratio(row):
    a, b = row.times.get("rustgrad"), row.times.get("torch")
    if isinstance(a, float) and isinstance(b, float) and b > 0:
        return a / b
    return None


def _goal_cell(row):
    if row.met is None:  # a reference row, or a figure missing
        return row.goal
    return f"{row.goal}: {'met' if row.met else 'NOT met'}"


def build_rows(libs, size):
    rounds = size["rounds"]
    rows = []
    n = size["ew_n"]
    gb = 1e9
    copy = measure(libs, _copy(n), size["ew_reps"], rounds)
    reference = copy.get("torch", copy.get("rustgrad"))
    ref_bw = 2 * 4 * n / reference if isinstance(reference, float) else None

    def bw_notes(times, nbytes):
        notes = {}
        for name, t in times.items():
            if isinstance(t, float):
                bw = nbytes / t
                share = f", {100 * bw / ref_bw:.0f}% of copy" if ref_bw else ""
                notes[name] = f"{bw / gb:,.0f} GB/s{share}"
        return notes

    label = f"{n // (1024 * 1024)}M float32"
    rows.append(
        Row(
            f"copy_ {label} (device-to-device)",
            copy,
            1e3,
            "ms",
            "reference: the card's copy bandwidth",
            notes=bw_notes(copy, 2 * 4 * n),
        )
    )
    for op, streams in EW_BYTES.items():
        times = measure(libs, _elementwise(n, op), size["ew_reps"], rounds)
        t = times.get("rustgrad")
        met = None
        if isinstance(t, float) and ref_bw:
            met = streams * 4 * n / t >= EW_GOAL * ref_bw
        rows.append(
            Row(
                f"{op} {label}",
                times,
                1e3,
                "ms",
                f">= {EW_GOAL:.0%} of copy bandwidth",
                met,
                bw_notes(times, streams * 4 * n),
            )
        )

    for mm_n in size["mm_n"]:
        times = measure(libs, _matmul(mm_n), size["mm_reps"][mm_n], rounds)
        notes = {
            name: f"{_fmt(2 * mm_n**3 / t / 1e12)} TFLOP/s"
            for name, t in times.items()
            if isinstance(t, float)
        }
        row = Row(f"matmul {mm_n}x{mm_n} float32", times, 1e3, "ms", "ratio <= 1.10", None, notes)
        ratio = _ratio(row)
        row.met = None if ratio is None else ratio <= MM_GOAL
        rows.append(row)

    length = size["chain_len"]
    for backward in (False, True):
        times = measure(libs, _chain(length, backward), size["chain_reps"], rounds)
        per_op = {k: (v / (2 * length) if isinstance(v, float) else v) for k, v in times.items()}
        kind = "fwd+bwd, per forward op" if backward else "no grad"
        row = Row(
            f"tiny ops: {length}x (x * 1.0001 + 0.0001), 1 element, {kind}",
            per_op,
            1e6,
            "us/op",
            "ratio <= 1" if not backward else "",
        )
        ratio = _ratio(row)
        row.met = None if ratio is None or backward else ratio <= 1.0
        rows.append(row)

    steps = size["mlp_steps"]
    times = measure(libs, _mlp(steps), 1, rounds)
    per_step = {k: (v / steps if isinstance(v, float) else v) for k, v in times.items()}
    row = Row(
        "MLP 784-512-10 train step, batch 256, SGD",
        per_step,
        1e3,
        "ms/step",
        "ratio < 1 (faster than torch)",
    )
    ratio = _ratio(row)
    row.met = None if ratio is None else ratio < 1.0
    rows.append(row)
    return rows


def markdown_table(rows, names):
    header = ["benchmark", *names, "ratio (rustgrad/torch time)", "goal"]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(header) - 2) + ["---"]) + "|",
    ]
    for row in rows:
        ratio = _ratio(row)
        cells = [row.name, *[_cell(row, n) for n in names]]
        cells += [f"{ratio:.2f}" if ratio is not None else "-", _goal_cell(row)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_csv(path, rows, names):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            ["benchmark", "unit", *[f"{n}" for n in names], "ratio", "goal", "met"]
            + [f"{n}_note" for n in names]
        )
        for row in rows:
            values = []
            for n in names:
                t = row.times.get(n)
                if isinstance(t, float):
                    values.append(f"{t * row.unit_scale:.6g}")
                else:
                    values.append("" if t is None else f"error: {t!r}")
            ratio = _ratio(row)
            writer.writerow(
                [row.name, row.unit, *values]
                + [f"{ratio:.4g}" if ratio is not None else "", row.goal, row.met]
                + [row.notes.get(n, "") for n in names]
            )


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, 2 rounds")
    parser.add_argument("--out", metavar="DIR", help="also write DIR/gpu_bench.{md,csv}")
    parser.add_argument(
        "--device", choices=["cuda", "cpu"], default="cuda", help="cpu: a smoke run of the code"
    )
    args = parser.parse_args(argv)
    size = SIZES["quick" if args.quick else "full"]
    libs = _load_libs(args.device)
    names = [lib.name for lib in libs]
    on_gpu = args.device == "cuda"
    import rustgrad

    where = rustgrad.cuda.get_device_name() if on_gpu else "cpu"
    header = [f"rustgrad {rustgrad.__version__}: {where}"]
    if "torch" in names:
        torch = libs[1].mod
        where = torch.cuda.get_device_name() if on_gpu else "cpu"
        header.append(
            f"torch {torch.__version__}: {where} (CUDA {torch.version.cuda}, TF32 matmul "
            f"{'on' if torch.backends.cuda.matmul.allow_tf32 else 'off'})"
        )
    header.append(
        f"Python {platform.python_version()}; {'quick' if args.quick else 'full'} sizes; "
        f"median of {size['rounds']} alternating rounds"
    )
    for line in header:
        print(f"# {line}")
    sys.stdout.flush()
    start = time.perf_counter()
    rows = build_rows(libs, size)
    table = markdown_table(rows, names)
    print()
    print(table)
    print()
    print(f"# benchmark time {time.perf_counter() - start:.1f} s")
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "gpu_bench.md"), "w") as f:
            f.write("\n".join(f"{line}  " for line in header) + "\n\n" + table + "\n")
        write_csv(os.path.join(args.out, "gpu_bench.csv"), rows, names)
        print(f"# written: {args.out}/gpu_bench.md, {args.out}/gpu_bench.csv")
    failed = any(isinstance(t, Exception) for row in rows for t in row.times.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
