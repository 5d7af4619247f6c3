"""Side-by-side timing of large elementwise ops (issue 11, point 8: transcendental functions
on large tensors within 1.2x of PyTorch): 4M float32 elements, forward, and forward+backward.

    python benches/elementwise.py              # median of 7 rounds per op
    python benches/elementwise.py --n 1048576 --rounds 3

Each round times every op once in each library, alternating which goes first. A ratio
rustgrad/torch below 1 means rustgrad is faster. Both libraries use every core (PyTorch's
intra-op threads, rustgrad's rayon pool).
"""

import argparse
import statistics
import time

import numpy as np
import rustgrad as rg
import rustgrad.nn.functional as rF
import torch
import torch.nn.functional as tF

OPS = {
    "tanh": (lambda m, F, x: x.tanh()),
    "exp": (lambda m, F, x: x.exp()),
    "sin": (lambda m, F, x: x.sin()),
    "gelu": (lambda m, F, x: F.gelu(x)),
    "silu": (lambda m, F, x: F.silu(x)),
    "erf": (lambda m, F, x: x.erf()),
    "log1p": (lambda m, F, x: x.abs().log1p()),
}


def _time(fn, reps=3):
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=4 * 1024 * 1024)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    data = np.random.default_rng(0).standard_normal(args.n).astype(np.float32)
    libs = {
        "rustgrad": (rg, rF, rg.tensor(data)),
        "torch": (torch, tF, torch.tensor(data)),
    }
    print(f"{args.n} float32 elements, median of {args.rounds} rounds (best of 3 calls each)")
    print(f"{'op':<8} {'pass':<8} {'rustgrad ms':>12} {'torch ms':>10} {'ratio':>7}")
    for name, op in OPS.items():
        for mode in ("fwd", "fwd+bwd"):
            times = {k: [] for k in libs}
            for r in range(args.rounds):
                order = list(libs) if r % 2 == 0 else list(libs)[::-1]
                for lib in order:
                    mod, F, x = libs[lib]
                    if mode == "fwd":
                        fn = lambda mod=mod, F=F, x=x, op=op: op(mod, F, x)
                    else:
                        leaf = x.detach().requires_grad_()
                        g = mod.ones_like(x)

                        def fn(mod=mod, F=F, leaf=leaf, g=g, op=op):
                            leaf.grad = None
                            op(mod, F, leaf).backward(g)

                    times[lib].append(_time(fn))
            ours, theirs = (statistics.median(times[k]) * 1e3 for k in ("rustgrad", "torch"))
            print(f"{name:<8} {mode:<8} {ours:>12.2f} {theirs:>10.2f} {ours / theirs:>7.2f}")


if __name__ == "__main__":
    main()
