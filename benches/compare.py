"""Side-by-side micro benchmark: the same workloads in rustgrad and PyTorch, in one process.

    python benches/compare.py                 # default sizes, 5 rounds
    python benches/compare.py --markdown      # a table for BENCHMARKS.md
    python benches/compare.py --size tiny     # CI smoke run: tiny sizes, 1 round

Each round runs every library once per workload, alternating which goes first; the reported
figure is the median over rounds. A ratio rustgrad/torch below 1 means rustgrad is faster.
Only the PyTorch-compatible API is used, so one workload definition serves both libraries.
"""

import argparse
import importlib
import platform
import statistics
import sys
import time

SIZES = {
    "default": {
        "chain_ops": 200,
        "chain_reps": 20,
        "mlp_steps": 20,
        "mm_n": 1024,
        "mm_reps": 3,
        "ew_n": 4 * 1024 * 1024,
        "ew_reps": 3,
    },
    "tiny": {
        "chain_ops": 20,
        "chain_reps": 2,
        "mlp_steps": 2,
        "mm_n": 32,
        "mm_reps": 1,
        "ew_n": 4096,
        "ew_reps": 1,
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
    n_ops = size["chain_ops"]
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = lib.tensor([1.0001, 0.9999, 1.0002])
    b = lib.tensor([0.001, -0.002, 0.003])

    def run():
        y = x
        for i in range(n_ops):
            y = y * w if i % 2 == 0 else y + b
        y.sum().backward()
        x.grad = None

    return run


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


def _matmul(lib, size):
    lib.manual_seed(0)
    n = size["mm_n"]
    a = lib.randn(n, n).requires_grad_()
    b = lib.randn(n, n).requires_grad_()

    def run():
        (a @ b).sum().backward()
        a.grad = None
        b.grad = None

    return run


def _elementwise(lib, size):
    lib.manual_seed(0)
    n = size["ew_n"]
    x = lib.randn(n).requires_grad_()
    w = lib.randn(n) * 0.1

    def run():
        (x * w + 1.0).exp().sum().backward()
        x.grad = None

    return run


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


def measure(libs, size, rounds):
    """``{workload name: {lib name: median seconds per unit}}``."""
    results = {}
    for wl in WORKLOADS:
        runs = {}
        for name, lib in libs.items():
            runs[name] = wl.setup(lib, size)
            runs[name]()  # warm-up: first-call costs, allocator, thread pools
        reps = size[wl.reps_key] if wl.reps_key else 1
        units = wl.units_per_run(size) * reps
        samples = {name: [] for name in libs}
        order = list(libs)
        for r in range(rounds):
            for name in order if r % 2 == 0 else reversed(order):
                samples[name].append(_time_once(runs[name], reps) / units)
        results[wl.name] = {name: statistics.median(s) for name, s in samples.items()}
    return results


def _label(wl, size):
    name = wl.name
    if wl.setup is _matmul:
        name = name.replace("NxN", f"{size['mm_n']}x{size['mm_n']}")
    if wl.setup is _chain:
        name += f", {size['chain_ops']} ops"
    if wl.setup is _elementwise:
        name += f", {size['ew_n']:,} float32"
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


def report(results, libs, size, markdown):
    names = list(libs)
    header = ["workload"] + names
    if len(names) == 2:
        header.append(f"{names[0]}/{names[1]}")
    rows = []
    for wl in WORKLOADS:
        times = results[wl.name]
        row = [_label(wl, size)] + [f"{_fmt(times[n] * wl.scale)} {wl.unit}" for n in names]
        if len(names) == 2:
            row.append(f"{times[names[0]] / times[names[1]]:.2f}")
        rows.append(row)
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="default")
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="rounds per workload (default 5; 1 with --size tiny)",
    )
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    parser.add_argument(
        "--libs",
        default="rustgrad,torch",
        help="comma-separated libraries to run (default: rustgrad,torch)",
    )
    args = parser.parse_args(argv)
    rounds = args.rounds or (1 if args.size == "tiny" else 5)
    size = SIZES[args.size]
    libs = _load([n.strip() for n in args.libs.split(",") if n.strip()])
    if not libs:
        sys.exit("nothing to benchmark")

    versions = ", ".join(f"{n} {getattr(m, '__version__', '?')}" for n, m in libs.items())
    extra = ""
    if "torch" in libs:
        extra = f", torch threads {libs['torch'].get_num_threads()}"
    print(
        f"# {versions}; Python {platform.python_version()}; {platform.machine()}{extra}; "
        f"size {args.size}, {rounds} round(s), median per unit"
    )
    results = measure(libs, size, rounds)
    report(results, libs, size, args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
