"""Side-by-side micro benchmark: the same workloads in rustgrad and PyTorch, in one process.

    python benches/compare.py                 # default sizes, 5 rounds: the workload table
    python benches/compare.py --markdown      # a table for BENCHMARKS.md
    python benches/compare.py --size tiny     # CI smoke run: tiny sizes, 1 round, every section
    python benches/compare.py --peak-memory   # + peak RSS of a 784-512-10 training loop
    python benches/compare.py --scaling benches/scaling.png   # + time per op against size
    python benches/compare.py --gflops        # + matmul GFLOP/s against this CPU's peak
    python benches/compare.py --op-scaling ops.csv   # + single ops (unary, binary, reductions)
    python benches/compare.py --peers         # + the same workloads in JAX, jax.jit, autograd
    python benches/compare.py --mlp-scaling   # + the [w,w,w,10] MLP step for w = 16 .. 2048
    python benches/compare.py --all           # everything, one markdown report (BENCHMARKS.md)

Each round runs every library once per workload, alternating which goes first; the reported
figure is the median over rounds. A ratio rustgrad/torch below 1 means rustgrad is faster (for
time and for memory alike). Only the PyTorch-compatible API is used, so one workload definition
serves both libraries.

Sections besides the workload table:

* ``--peak-memory``: each library runs the 784-512-10 training loop (relu, cross-entropy,
  manual SGD) in a fresh subprocess that imports only that library. Reported: the process peak
  RSS (import included; Linux ``VmHWM``, which is ``ru_maxrss`` without the parent's peak that
  Linux carries over ``exec``; ``getrusage`` ``ru_maxrss`` where there is no ``/proc``) and the
  growth of that peak over the RSS measured right after the import, before the model and data
  are made (so the growth holds the parameters, the batch, activations, gradients and allocator
  caching of the loop).
* ``--scaling PATH.png``: time of one ``(x * w).sum().backward()`` (then ``x.grad = None``) on
  float32 vectors of 1 to 16M elements (powers of 4): one elementwise op forward and backward
  plus the ``sum`` that makes it a scalar loss, i.e. two graph nodes. Each sample repeats the
  call enough times to last a while, so tiny sizes are not clock-resolution noise. Written as a
  log-log PNG plot and a CSV of the same numbers next to it (``PATH.csv``).
* ``--gflops``: forward matmul ``a @ b`` on NxN float32 (no autograd), 2*N^3 FLOP per call,
  against an *estimate* of this machine's float32 peak: physical cores * GHz (``/proc/cpuinfo``)
  * 32 FLOP/cycle (two 256-bit FMA units: 2 units * 8 lanes * 2 FLOP per FMA).

* ``--op-scaling PATH.csv``: one op (``tanh``, ``exp``, ``relu``, ``x * 0.01``, ``x * y``,
  ``x + y``, ``sum``, ``amax``) on float32 vectors of 1 to 16M elements under ``no_grad``; the
  table gives rustgrad/torch per op and size, the CSV the times.
* ``--peers``: the workloads of ``benches/peers.py`` (a 100-op tiny chain, MLP steps at batch
  64, a 4M-element chain with ``tanh``, a 1024x1024 product, a Hessian-vector product) in every
  engine that imports: rustgrad, PyTorch, JAX op by op and under ``jax.jit``, HIPS autograd
  (``pip install -r benches/requirements-peers.txt``; absent engines are skipped and named),
  with each engine's first call (``jax.jit`` compiles there) in a second table.
* ``--mlp-scaling``: the ``[w, w, w, 10]`` MLP training step, batch 64, for w = 16 .. 2048, in
  the same engines.

``--size tiny`` runs every section at toy sizes (the plot goes to a temporary directory unless
``--scaling`` names a path) so that CI exercises all code paths in a few seconds.
"""

import argparse
import csv
import importlib
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import peers

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_PLOT = os.path.join("benches", "scaling.png")
DEFAULT_OP_SCALING = os.path.join("benches", "op_scaling.csv")

SIZES = {
    "default": {
        "chain_ops": 200,
        "chain_reps": 20,
        "mlp_steps": 20,
        "big_mlp_batch": 256,
        "big_mlp_steps": 5,
        "lenet_batch": 64,
        "lenet_steps": 5,
        "mm_n": 1024,
        "mm_reps": 3,
        "ew_n": 4 * 1024 * 1024,
        "ew_reps": 3,
        "peak_batch": 256,
        "peak_steps": 50,
        "scaling_sizes": [4**k for k in range(13)],  # 1 .. 16,777,216
        "scaling_sample_s": 0.05,
        "gflops_n": [256, 1024, 2048],
        "gflops_sample_s": 0.2,
        "lstm_batch": 32,  # issue 12's LSTM step: hidden 128, batch 32, sequence 32
        "lstm_seq": 32,
        "lstm_hidden": 128,
        "lstm_steps": 5,
        "peer_batch": 64,  # issue 14's outside workloads: batch-64 training steps
        "peer_widths": [256, 1024, 2048],
        "peer_ew_n": 4 * 1024 * 1024,
        "peer_mm_n": 1024,
        "peer_sample_s": 0.2,
        "mlp_batch": 32,
        "mlp_scaling_widths": [2**k for k in range(4, 12)],  # 16 .. 2048
        "op_scaling_sizes": [4**k for k in range(13)],
    },
    "tiny": {
        "chain_ops": 20,
        "chain_reps": 2,
        "mlp_steps": 2,
        "big_mlp_batch": 8,
        "big_mlp_steps": 1,
        "lenet_batch": 4,
        "lenet_steps": 1,
        "mm_n": 32,
        "mm_reps": 1,
        "ew_n": 4096,
        "ew_reps": 1,
        "peak_batch": 8,
        "peak_steps": 2,
        "scaling_sizes": [1, 64, 4096],
        "scaling_sample_s": 0.0005,
        "gflops_n": [32, 64],
        "gflops_sample_s": 0.001,
        "lstm_batch": 4,
        "lstm_seq": 4,
        "lstm_hidden": 8,
        "lstm_steps": 1,
        "peer_batch": 4,
        "peer_widths": [16],
        "peer_ew_n": 4096,
        "peer_mm_n": 32,
        "peer_sample_s": 0.001,
        "mlp_batch": 4,
        "mlp_scaling_widths": [16, 32],
        "op_scaling_sizes": [1, 4096],
    },
}


class Workload:
    """``setup(lib, size)`` returns ``run()``; one call of ``run`` is timed as ``reps`` units."""

    def __init__(self, name, unit, scale, setup, reps_key, units_per_run):
        self.name = name
        self.unit = unit  # label of the reported figure
        self.scale = scale  # seconds -> unit
        self.setup = setup
        self.reps_key = reps_key
        self.units_per_run = units_per_run  # size -> how many units one run() performs


def _chain(lib, size):
    return peers._torch_chain(lib, size["chain_ops"])


def _mlp(lib, size):
    lib.manual_seed(0)
    dims = [2, 16, 16, 1]
    params = []
    for d_in, d_out in zip(dims[:-1], dims[1:]):
        params.append((lib.randn(d_in, d_out) * 0.5).requires_grad_())
        params.append((lib.randn(d_out) * 0.1).requires_grad_())
    w1, b1, w2, b2, w3, b3 = params
    inputs = lib.randn(32, 2)
    targets = lib.randn(32, 1)
    lr = 0.01

    def run():
        h = (inputs @ w1 + b1).tanh()
        h = (h @ w2 + b2).relu()
        out = h @ w3 + b3
        loss = ((out - targets) ** 2).mean()
        loss.backward()
        with lib.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None

    def steps():
        for _ in range(size["mlp_steps"]):
            run()

    return steps


def _mnist_mlp_step(lib, batch):
    """One training step of a 784-512-10 MLP: relu, cross-entropy, manual SGD under no_grad."""
    functional = importlib.import_module(lib.__name__ + ".nn.functional")
    lib.manual_seed(0)
    w1 = (lib.randn(784, 512) * 784**-0.5).requires_grad_()
    b1 = lib.zeros(512).requires_grad_()
    w2 = (lib.randn(512, 10) * 512**-0.5).requires_grad_()
    b2 = lib.zeros(10).requires_grad_()
    params = [w1, b1, w2, b2]
    inputs = lib.randn(batch, 784)
    targets = lib.randn(batch, 10).argmax(dim=1)  # int64 class indices in [0, 10)
    lr = 0.05

    def step():
        h = (inputs @ w1 + b1).relu()
        loss = functional.cross_entropy(h @ w2 + b2, targets)
        loss.backward()
        with lib.no_grad():
            for p in params:
                p -= lr * p.grad
                p.grad = None

    return step


def _big_mlp(lib, size):
    step = _mnist_mlp_step(lib, size["big_mlp_batch"])

    def steps():
        for _ in range(size["big_mlp_steps"]):
            step()

    return steps


def _lenet(lib, size):
    """LeNet-sized CNN training steps: conv(1->6, 5) -> relu -> maxpool 2 -> conv(6->16, 5) ->
    relu -> maxpool 2 -> linear(256->120) -> relu -> linear(120->10), cross-entropy, SGD."""
    nn = importlib.import_module(lib.__name__ + ".nn")
    lib.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 10),
    )  # fmt: skip
    opt = lib.optim.SGD(model.parameters(), lr=0.01)
    inputs = lib.randn(size["lenet_batch"], 1, 28, 28)
    targets = lib.randn(size["lenet_batch"], 10).argmax(dim=1)
    loss_fn = nn.CrossEntropyLoss()

    def steps():
        for _ in range(size["lenet_steps"]):
            opt.zero_grad()
            loss_fn(model(inputs), targets).backward()
            opt.step()

    return steps


def _matmul(lib, size):
    return peers._torch_matmul(lib, size["mm_n"])


def _elementwise(lib, size):
    lib.manual_seed(0)
    n = size["ew_n"]
    x = lib.randn(n).requires_grad_()
    w = lib.randn(n) * 0.1

    def run():
        (x * w + 1.0).exp().sum().backward()
        x.grad = None

    return run


def _lstm(lib, size):
    """LSTM training steps: ``nn.LSTM(H, H)`` over ``(seq, batch, H)``, a linear head on the
    last output, MSE, manual SGD under no_grad."""
    lib.manual_seed(0)
    hidden, batch, seq = size["lstm_hidden"], size["lstm_batch"], size["lstm_seq"]
    lstm = lib.nn.LSTM(hidden, hidden)
    head = lib.nn.Linear(hidden, 1)
    params = list(lstm.parameters()) + list(head.parameters())
    inputs = lib.randn(seq, batch, hidden)
    targets = lib.randn(batch, 1)

    def steps():
        for _ in range(size["lstm_steps"]):
            out, _ = lstm(inputs)
            loss = ((head(out[-1]) - targets) ** 2).mean()
            loss.backward()
            with lib.no_grad():
                for p in params:
                    p -= 0.01 * p.grad
                    p.grad = None

    return steps


WORKLOADS = [
    Workload(
        "chain of tiny ops (3 elems), fwd+bwd",
        "us/op",
        1e6,
        _chain,
        "chain_reps",
        lambda s: s["chain_ops"],
    ),
    Workload(
        "MLP step 2-16-16-1, batch 32, SGD", "us/step", 1e6, _mlp, None, lambda s: s["mlp_steps"]
    ),
    Workload(
        "MLP step 784-512-10, batch B, relu, cross-entropy, SGD",
        "ms/step",
        1e3,
        _big_mlp,
        None,
        lambda s: s["big_mlp_steps"],
    ),
    Workload(
        "LSTM step, hidden 128, batch 32, seq 32, SGD",
        "ms/step",
        1e3,
        _lstm,
        None,
        lambda s: s["lstm_steps"],
    ),
    Workload(
        "LeNet CNN step 1x28x28, batch B, conv/maxpool/linear, SGD",
        "ms/step",
        1e3,
        _lenet,
        None,
        lambda s: s["lenet_steps"],
    ),
    Workload("matmul NxN float32, fwd+bwd", "ms", 1e3, _matmul, "mm_reps", lambda s: 1),
    Workload(
        "elementwise mul/add/exp/sum, fwd+bwd", "ms", 1e3, _elementwise, "ew_reps", lambda s: 1
    ),
]


def _time_once(run, reps):
    start = time.perf_counter()
    for _ in range(reps):
        run()
    return time.perf_counter() - start


def _alternate(runs, reps, rounds):
    """``{lib: median seconds per call}``: each round times every library, alternating order.

    ``runs`` maps a library name to a warmed-up callable, ``reps`` to calls per sample.
    """
    samples = {name: [] for name in runs}
    order = list(runs)
    for r in range(rounds):
        for name in order if r % 2 == 0 else reversed(order):
            samples[name].append(_time_once(runs[name], reps[name]) / reps[name])
    return {name: statistics.median(s) for name, s in samples.items()}


def _calibrate(run, sample_s):
    """Calls of ``run`` per sample so that a sample lasts about ``sample_s`` seconds."""
    run()  # warm-up: first-call costs, allocator, thread pools
    once = min(_time_once(run, 1) for _ in range(3))
    return max(1, min(1_000_000, round(sample_s / max(once, 1e-9))))


def measure(libs, size, rounds):
    """``{workload name: {lib name: median seconds per unit}}``."""
    results = {}
    for wl in WORKLOADS:
        runs = {}
        for name, lib in libs.items():
            runs[name] = wl.setup(lib, size)
            runs[name]()  # warm-up: first-call costs, allocator, thread pools
        reps = size[wl.reps_key] if wl.reps_key else 1
        units = wl.units_per_run(size)
        per_call = _alternate(runs, {name: reps for name in libs}, rounds)
        results[wl.name] = {name: t / units for name, t in per_call.items()}
    return results


def _label(wl, size):
    name = wl.name
    if wl.setup is _matmul:
        name = name.replace("NxN", f"{size['mm_n']}x{size['mm_n']}")
    if wl.setup is _chain:
        name += f", {size['chain_ops']} ops"
    if wl.setup is _elementwise:
        name += f", {size['ew_n']:,} float32"
    if wl.setup is _big_mlp:
        name = name.replace("batch B", f"batch {size['big_mlp_batch']}")
    return name


def _fmt(value):
    """Three significant digits, without scientific notation."""
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _print_table(header, rows, markdown):
    """First column left-aligned, the others right-aligned."""
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
        for row in [header] + rows:
            cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
            print("  ".join(cells))


def _ratio_header(names):
    return [f"{names[0]}/{names[1]}"] if len(names) == 2 else []


def _ratio(values, names):
    """``names[0] / names[1]`` as a cell, when there are two libraries."""
    if len(names) != 2:
        return []
    return [f"{values[names[0]] / values[names[1]]:.2f}" if values[names[1]] else "-"]


def report(results, libs, size, markdown):
    names = list(libs)
    header = ["workload"] + names + _ratio_header(names)
    rows = []
    for wl in WORKLOADS:
        times = results[wl.name]
        row = [_label(wl, size)] + [f"{_fmt(times[n] * wl.scale)} {wl.unit}" for n in names]
        rows.append(row + _ratio(times, names))
    _print_table(header, rows, markdown)


# ---------------------------------------------------------------- peak memory (subprocesses)


def _peak_rss_bytes():
    """The process's peak resident set so far.

    ``VmHWM`` from ``/proc/self/status`` where there is one: Linux carries ``ru_maxrss`` over
    ``exec`` (``getrusage`` reports the larger of the parent's peak at spawn time and the
    child's own), so a child started from this benchmark process would report the parent's
    peak. ``VmHWM`` belongs to the child's own address space. Elsewhere ``ru_maxrss`` (KiB on
    Linux, bytes on macOS).
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _rss_bytes():
    """The current resident set (Linux ``/proc/self/statm``; elsewhere the peak so far)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return _peak_rss_bytes()


def _peak_child(name, size):
    """Runs in a fresh interpreter: import one library, run the loop, print a JSON line."""
    lib = importlib.import_module(name)
    importlib.import_module(name + ".nn.functional")
    after_import = _rss_bytes()
    step = _mnist_mlp_step(lib, size["peak_batch"])
    for _ in range(size["peak_steps"]):
        step()
    print(json.dumps({"after_import": after_import, "peak": _peak_rss_bytes()}))
    return 0


def measure_peak_memory(names, size_name, rounds):
    """``{lib: {"peak": bytes, "after_import": bytes, "growth": bytes}}``, medians over rounds.

    Every round starts one fresh subprocess per library, alternating which goes first.
    """
    samples = {name: [] for name in names}
    for r in range(rounds):
        for name in names if r % 2 == 0 else list(reversed(names)):
            cmd = [sys.executable, os.path.abspath(__file__), "--size", size_name]
            proc = subprocess.run(
                cmd + ["--peak-child", name],
                check=False,
                capture_output=True,
                text=True,
                timeout=600,
            )
            lines = proc.stdout.strip().splitlines()
            if proc.returncode != 0 or not lines:
                sys.exit(f"peak-memory child for {name} failed:\n{proc.stdout}{proc.stderr}")
            samples[name].append(json.loads(lines[-1]))
    out = {}
    for name, runs in samples.items():
        peak = statistics.median(s["peak"] for s in runs)
        after_import = statistics.median(s["after_import"] for s in runs)
        growth = statistics.median(s["peak"] - s["after_import"] for s in runs)
        out[name] = {"peak": peak, "after_import": after_import, "growth": growth}
    return out


def report_peak_memory(mem, names, size, rounds, markdown):
    mib = 1024 * 1024
    print(
        f"Peak resident memory, 784-512-10 training loop (relu, cross-entropy, SGD), "
        f"batch {size['peak_batch']}, {size['peak_steps']} steps, one fresh process per "
        f"library, median of {rounds} run(s). Peak = the process's peak RSS (VmHWM, i.e. "
        f"ru_maxrss of the child alone; import included); growth = peak minus the RSS right after import, before setup."
    )
    print()
    header = ["measure"] + names + _ratio_header(names)
    rows = []
    for key, label in [
        ("peak", "process peak RSS"),
        ("growth", "peak growth over post-import RSS"),
        ("after_import", "RSS after import"),
    ]:
        values = {n: mem[n][key] for n in names}
        rows.append([label] + [f"{values[n] / mib:.1f} MiB" for n in names] + _ratio(values, names))
    _print_table(header, rows, markdown)


# ---------------------------------------------------------------- scaling


def _scaling_setup(lib, n):
    lib.manual_seed(0)
    x = lib.randn(n).requires_grad_()
    w = lib.randn(n)

    def run():
        (x * w).sum().backward()
        x.grad = None

    return run


def measure_scaling(libs, size, rounds):
    """``[(numel, {lib: median seconds per (x * w).sum().backward()})]``."""
    points = []
    for n in size["scaling_sizes"]:
        runs = {name: _scaling_setup(lib, n) for name, lib in libs.items()}
        reps = {name: _calibrate(run, size["scaling_sample_s"]) for name, run in runs.items()}
        points.append((n, _alternate(runs, reps, rounds)))
        del runs  # free the large tensors before the next size
    return points


def write_scaling(points, names, png_path):
    """Writes ``png_path`` (log-log plot) and the same numbers as CSV next to it."""
    png_path = os.path.abspath(png_path)
    os.makedirs(os.path.dirname(png_path), exist_ok=True)
    csv_path = os.path.splitext(png_path)[0] + ".csv"
    with open(csv_path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            ["numel"]
            + [f"{n}_us" for n in names]
            + [f"{n}_ns_per_elem" for n in names]
            + ([f"{names[0]}/{names[1]}"] if len(names) == 2 else [])
        )
        for numel, times in points:
            writer.writerow(
                [numel]
                + [f"{times[n] * 1e6:.4g}" for n in names]
                + [f"{times[n] * 1e9 / numel:.4g}" for n in names]
                + ([f"{times[names[0]] / times[names[1]]:.4g}"] if len(names) == 2 else [])
            )

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    sizes = [numel for numel, _ in points]
    two = len(names) == 2
    fig, axes = plt.subplots(
        2 if two else 1,
        1,
        figsize=(7, 6.5 if two else 4.5),
        sharex=True,
        squeeze=False,
        gridspec_kw={"height_ratios": [3, 1]} if two else None,
    )
    ax = axes[0][0]
    for name in names:
        ax.loglog(sizes, [t[name] * 1e6 for _, t in points], marker="o", label=name)
    ax.set_ylabel("µs per (x * w).sum().backward()")
    ax.set_title("Time per elementwise op (forward + backward) against size, float32")
    ax.grid(True, which="major", alpha=0.4)
    ax.legend()
    if two:
        ratio_ax = axes[1][0]
        ratio_ax.loglog(
            sizes, [t[names[0]] / t[names[1]] for _, t in points], marker="o", color="black"
        )
        ratio_ax.axhline(1.0, color="grey", linestyle="--", linewidth=1)
        ratio_ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        ratio_ax.set_ylabel(f"{names[0]}/{names[1]}")
        ratio_ax.grid(True, alpha=0.4)
    axes[-1][0].set_xlabel("elements per tensor")
    fig.tight_layout()
    fig.savefig(png_path, dpi=110)
    plt.close(fig)
    return png_path, csv_path


def report_scaling(points, names, rounds, png_path, csv_path, markdown):
    print(
        f"Time of one `(x * w).sum().backward()` on float32 vectors (a mul and a sum, forward "
        f"and backward), median of {rounds} alternating round(s), each sample repeated to last "
        f"a while. Plot: `{_display_path(png_path)}`, data: `{_display_path(csv_path)}`."
    )
    print()
    if markdown:
        print(f"![time per op against size]({_display_path(png_path)})")
        print()
    header = ["elements"] + [f"{n} (us)" for n in names] + _ratio_header(names)
    rows = [
        [f"{numel:,}"] + [_fmt(t[n] * 1e6) for n in names] + _ratio(t, names) for numel, t in points
    ]
    _print_table(header, rows, markdown)


def _display_path(path):
    """Relative to the repository root when inside it (as BENCHMARKS.md would link it)."""
    rel = os.path.relpath(path, ROOT)
    return path if rel.startswith("..") else rel


# ---------------------------------------------------------------- GFLOP/s


def cpu_peak():
    """An estimate of float32 peak FLOP/s from /proc/cpuinfo, and how it was computed."""
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
    except OSError:
        info = ""
    allowed = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    logical = len(allowed) if allowed else (os.cpu_count() or 1)
    cores, mhz = set(), []
    model, flags = "unknown CPU", set()
    for block in info.strip().split("\n\n"):
        fields = {}
        for line in block.splitlines():
            key, _, value = line.partition(":")
            fields[key.strip()] = value.strip()
        if "processor" not in fields:
            continue
        if allowed is not None and int(fields["processor"]) not in allowed:
            continue
        cores.add((fields.get("physical id"), fields.get("core id", fields["processor"])))
        if "cpu MHz" in fields:
            mhz.append(float(fields["cpu MHz"]))
        model = fields.get("model name", model)
        flags = set(fields.get("flags", "").split()) or flags
    n_cores = len(cores) or logical
    nominal = re.search(r"@\s*([\d.]+)\s*GHz", model)
    if nominal:
        ghz, ghz_src = float(nominal.group(1)), "nominal GHz in the model name"
    elif mhz:
        ghz, ghz_src = max(mhz) / 1000, "'cpu MHz' in /proc/cpuinfo"
    else:
        ghz, ghz_src = 0.0, "no frequency found"
    flop_per_cycle = 32  # 2 FMA units * 8 float32 lanes (256-bit) * 2 FLOP per FMA
    peak = n_cores * ghz * 1e9 * flop_per_cycle
    isa = [f for f in ("avx2", "fma", "avx512f") if f in flags]
    note = (
        f"Estimated peak (an estimate, not a measurement): {n_cores} physical core(s) "
        f"({logical} logical CPU(s) available) x {ghz:.3f} GHz ({ghz_src}) x {flop_per_cycle} "
        f"float32 FLOP/cycle (two 256-bit FMA units: 2 x 8 lanes x 2 FLOP) = "
        f"{peak / 1e9:.1f} GFLOP/s. CPU: {model}; flags: {', '.join(isa) or 'no AVX2/FMA'}. "
        f"Turbo clocks can exceed the reported frequency, and a core with 512-bit FMA units "
        f"could do up to twice the FLOP/cycle assumed."
    )
    if "avx2" not in flags or "fma" not in flags:
        note += " AVX2/FMA not reported by this CPU: the estimate does not apply as is."
    return peak, note


def _matmul_fwd(lib, n):
    lib.manual_seed(0)
    a = lib.randn(n, n)
    b = lib.randn(n, n)

    def run():
        a @ b

    return run


def measure_gflops(libs, size, rounds):
    """``[(n, {lib: median seconds per a @ b})]`` for the NxN float32 forward matmul."""
    points = []
    for n in size["gflops_n"]:
        runs = {name: _matmul_fwd(lib, n) for name, lib in libs.items()}
        reps = {name: _calibrate(run, size["gflops_sample_s"]) for name, run in runs.items()}
        points.append((n, _alternate(runs, reps, rounds)))
        del runs
    return points


def report_gflops(points, names, rounds, peak, note, markdown):
    print(
        f"Matmul forward `a @ b`, NxN float32, no autograd, 2*N^3 FLOP per call, median of "
        f"{rounds} alternating round(s)."
        + (f" The ratio compares times (below 1: {names[0]} faster)." if len(names) == 2 else "")
    )
    print()
    header = ["N"] + [f"{n} GFLOP/s" for n in names] + [f"{n} % of peak" for n in names]
    header += [f"{names[0]}/{names[1]} time"] if len(names) == 2 else []
    rows = []
    for n, times in points:
        gflops = {name: 2 * n**3 / t / 1e9 for name, t in times.items()}
        row = [str(n)] + [_fmt(gflops[name]) for name in names]
        row += [f"{100 * gflops[name] * 1e9 / peak:.0f}%" if peak else "-" for name in names]
        rows.append(row + _ratio(times, names))
    _print_table(header, rows, markdown)
    print()
    print(note)


# ---------------------------------------------------------------- peers, MLP and op scaling


def measure_peers(handles, rows, size, rounds):
    """``{row name: ({engine: median seconds per run}, {engine: seconds of the first run})}``.

    The first run of each engine is timed alone (JAX's ``jit`` traces and compiles there);
    the medians come from calibrated samples of the later runs, engines alternating.
    """
    results = {}
    for wl in rows:
        runs, first = {}, {}
        for name, handle in handles.items():
            runs[name] = wl.setup(name, handle, size)
            first[name] = _time_once(runs[name], 1)
        reps = {name: _calibrate(run, size["peer_sample_s"]) for name, run in runs.items()}
        results[wl.name] = (_alternate(runs, reps, rounds), first)
        del runs
    return results


def _peer_ratio_names(names):
    return [n for n in names if n != "torch"] if "torch" in names else []


def report_peers(results, rows, names, size, markdown, first_calls=True):
    others = _peer_ratio_names(names)
    header = ["workload"] + names + [f"{n}/torch" for n in others]
    table = []
    for wl in rows:
        times, _ = results[wl.name]
        row = [wl.label(size)] + [f"{_fmt(times[n] * wl.scale)} {wl.unit}" for n in names]
        table.append(row + [f"{times[n] / times['torch']:.2f}" for n in others])
    _print_table(header, table, markdown)
    if not first_calls:
        return
    print()
    print("First call of each workload (JAX's jit traces and compiles there), ms:")
    print()
    header = ["workload"] + names
    table = [[wl.label(size)] + [_fmt(results[wl.name][1][n] * 1e3) for n in names] for wl in rows]
    _print_table(header, table, markdown)


OP_SCALING_OPS = {
    "tanh": lambda x, y: x.tanh(),
    "exp": lambda x, y: x.exp(),
    "expm1": lambda x, y: x.expm1(),
    "sigmoid": lambda x, y: x.sigmoid(),
    "erf": lambda x, y: x.erf(),
    "sin": lambda x, y: x.sin(),
    "relu": lambda x, y: x.relu(),
    "x * 0.01": lambda x, y: x * 0.01,
    "x * y": lambda x, y: x * y,
    "x + y": lambda x, y: x + y,
    "sum": lambda x, y: x.sum(),
    "amax": lambda x, y: x.amax(),
}


def _op_setup(lib, n, op):
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal(n).astype("float32"))
    y = lib.tensor(rng.standard_normal(n).astype("float32"))
    fn = OP_SCALING_OPS[op]

    def run():
        with lib.no_grad():
            fn(x, y)

    return run


def measure_op_scaling(libs, size, rounds):
    """``[(numel, {op: {lib: median seconds per call}})]``, no autograd, float32 vectors."""
    points = []
    for n in size["op_scaling_sizes"]:
        per_op = {}
        for op in OP_SCALING_OPS:
            runs = {name: _op_setup(lib, n, op) for name, lib in libs.items()}
            reps = {name: _calibrate(run, size["scaling_sample_s"]) for name, run in runs.items()}
            per_op[op] = _alternate(runs, reps, rounds)
            del runs
        points.append((n, per_op))
    return points


def report_op_scaling(points, names, rounds, csv_path, markdown):
    print(
        f"One op on float32 vectors under `no_grad` (a new result each call), median of {rounds} "
        f"alternating round(s); cells are {names[0]}/{names[1]} time (below 1: {names[0]} "
        f"faster). Times: `{_display_path(csv_path)}`."
    )
    print()
    ops = list(OP_SCALING_OPS)
    header = ["elements"] + [f"`{op}`" for op in ops]
    rows = [
        [f"{numel:,}"] + [_ratio(per_op[op], names)[0] for op in ops] for numel, per_op in points
    ]
    _print_table(header, rows, markdown)


def write_op_scaling(points, names, csv_path):
    with open(csv_path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["numel", "op"] + [f"{n}_us" for n in names])
        for numel, per_op in points:
            for op, times in per_op.items():
                writer.writerow([numel, op] + [f"{times[n] * 1e6:.4g}" for n in names])


# ---------------------------------------------------------------- driver


def _load(names):
    libs = {}
    for name in names:
        try:
            libs[name] = importlib.import_module(name)
        except ImportError as exc:
            if name == "torch":
                print("torch is not installed: reporting rustgrad alone", file=sys.stderr)
                continue
            sys.exit(f"cannot import {name}: {exc} (build and install it first: pip install .)")
    return libs


def _section(title, markdown):
    print()
    print(f"### {title}" if markdown else f"== {title}")
    print()


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", choices=sorted(SIZES), default="default")
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="rounds per workload (default 5; 1 with --size tiny)",
    )
    parser.add_argument("--markdown", action="store_true", help="print markdown tables")
    parser.add_argument(
        "--libs",
        default="rustgrad,torch",
        help="comma-separated libraries to run (default: rustgrad,torch)",
    )
    parser.add_argument(
        "--peak-memory",
        action="store_true",
        help="also report peak RSS of a 784-512-10 training loop, one fresh process per library",
    )
    parser.add_argument(
        "--scaling",
        metavar="PATH.png",
        help="also time (x * w).sum().backward() against size; write a PNG and PATH.csv",
    )
    parser.add_argument(
        "--gflops", action="store_true", help="also report matmul GFLOP/s against the CPU peak"
    )
    parser.add_argument(
        "--peers",
        action="store_true",
        help="also run the peers table: rustgrad, torch, jax, jax.jit, autograd (those installed)",
    )
    parser.add_argument(
        "--engines",
        default=",".join(peers.ENGINES),
        help="engines of --peers and --mlp-scaling (default: all of them that import)",
    )
    parser.add_argument(
        "--mlp-scaling",
        action="store_true",
        help="also time the [w,w,w,10] MLP step, batch 64, for w = 16 .. 2048 in every engine",
    )
    parser.add_argument(
        "--op-scaling",
        metavar="PATH.csv",
        help="also time single ops (unary, binary, reductions) from 1 to 16M elements",
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help="every section (--op-scaling to benches/op_scaling.csv), as markdown",
    )
    parser.add_argument("--peak-child", help=argparse.SUPPRESS)  # internal: one library
    args = parser.parse_args(argv)
    size = SIZES[args.size]
    if args.peak_child:
        return _peak_child(args.peak_child, size)
    rounds = args.rounds or (1 if args.size == "tiny" else 5)
    libs = _load([n.strip() for n in args.libs.split(",") if n.strip()])
    if not libs:
        sys.exit("nothing to benchmark")
    names = list(libs)

    tiny = args.size == "tiny"
    # --size tiny alone is the CI smoke run: every section, so none of them can rot.
    chosen = args.peak_memory or args.scaling or args.gflops or args.peers or args.mlp_scaling
    every = args.all or (tiny and not (chosen or args.op_scaling))
    do_peak = args.peak_memory or every
    do_gflops = args.gflops or every
    do_peers = args.peers or every
    do_mlp_scaling = args.mlp_scaling or every
    op_scaling_path = args.op_scaling
    if every and not op_scaling_path:
        op_scaling_path = os.path.join(ROOT, DEFAULT_OP_SCALING)
    scaling_path, scratch = args.scaling, None
    if every and not scaling_path:
        if tiny:  # never overwrite the real plot with toy numbers
            scratch = tempfile.mkdtemp(prefix="rustgrad-bench-")
            scaling_path = os.path.join(scratch, "scaling.png")
        else:
            scaling_path = os.path.join(ROOT, DEFAULT_PLOT)
    markdown = args.markdown or args.all
    sections = do_peak or scaling_path or do_gflops or do_peers or do_mlp_scaling
    sections = sections or op_scaling_path

    versions = ", ".join(f"{n} {getattr(m, '__version__', '?')}" for n, m in libs.items())
    extra = ""
    if "torch" in libs:
        extra = f", torch threads {libs['torch'].get_num_threads()}"
    print(
        f"# {versions}; Python {platform.python_version()}; {platform.machine()}{extra}; "
        f"size {args.size}, {rounds} round(s), median per unit"
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if load > 0.5:
        print(
            f"warning: load average {load:.2f} before the start: other processes are using the "
            f"CPUs, so timings (PyTorch's threaded kernels above all) are unreliable",
            file=sys.stderr,
        )
    if args.all:
        print()
        print(f"Command: `python benches/compare.py {' '.join(argv or sys.argv[1:])}`")
    try:
        if sections:
            _section("Workloads, side by side", markdown)
        report(measure(libs, size, rounds), libs, size, markdown)
        if do_peak:
            _section("Peak memory", markdown)
            mem = measure_peak_memory(names, args.size, rounds)
            report_peak_memory(mem, names, size, rounds, markdown)
        if scaling_path:
            _section("Time per op against tensor size", markdown)
            points = measure_scaling(libs, size, rounds)
            png, csv_path = write_scaling(points, names, scaling_path)
            if scratch:
                assert os.path.getsize(png) > 0 and os.path.getsize(csv_path) > 0
            report_scaling(points, names, rounds, png, csv_path, markdown)
        if do_gflops:
            _section("Matmul GFLOP/s", markdown)
            peak, note = cpu_peak()
            report_gflops(measure_gflops(libs, size, rounds), names, rounds, peak, note, markdown)
        if op_scaling_path:
            if scratch:
                op_scaling_path = os.path.join(scratch, "op_scaling.csv")
            _section("Single ops against tensor size", markdown)
            points = measure_op_scaling(libs, size, rounds)
            write_op_scaling(points, names, op_scaling_path)
            report_op_scaling(points, names, rounds, op_scaling_path, markdown)
        if do_peers or do_mlp_scaling:
            handles, missing = peers.load([e.strip() for e in args.engines.split(",") if e])
            engines = list(handles)
            for name, why in missing.items():
                print(f"note: engine {name} skipped: {why}", file=sys.stderr)
            versions = ", ".join(f"{n} {peers.version(n, h)}" for n, h in handles.items())
        if do_peers:
            _section("Peers: the same workloads in every engine", markdown)
            print(
                f"Engines: {versions}{'; not installed: ' + ', '.join(missing) if missing else ''}. "
                f"Median of {rounds} alternating round(s); `engine/torch` below 1 means faster "
                f"than PyTorch. Definitions: `benches/peers.py`."
            )
            print()
            rows = peers.workloads(size)
            report_peers(measure_peers(handles, rows, size, rounds), rows, engines, size, markdown)
        if do_mlp_scaling:
            _section(f"MLP [w,w,w,10] step, batch {size['peer_batch']}, against w", markdown)
            rows = [peers.wide_mlp(w) for w in size["mlp_scaling_widths"]]
            results = measure_peers(handles, rows, size, rounds)
            report_peers(results, rows, engines, size, markdown, first_calls=False)
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
