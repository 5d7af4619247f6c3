"""In-place arithmetic on a parameter, side by side with PyTorch (CPU, float32): the updates a
hand-written optimizer does (``p -= lr * g``, ``p.add_(g, alpha=-lr)``, ``mul_``, ``addcmul_``,
``addcdiv_``, ``copy_``, ``zero_``, ``fill_``) and one ``optim.Adam``/``SGD`` step, at 1K, 64K,
1M and 4M elements. Median microseconds per call.

    python benches/inplace.py [--sizes 1024 65536 ...]
"""

import argparse
import statistics
import time

import numpy as np
import rustgrad


def _cases(lib, n):
    rng = np.random.default_rng(0)
    p = lib.tensor(rng.standard_normal(n).astype(np.float32))
    g = lib.tensor(rng.standard_normal(n).astype(np.float32))
    d = lib.tensor(rng.random(n).astype(np.float32) + 1.0)
    lr = 1e-3

    def isub():
        nonlocal p
        p -= lr * g

    q = lib.tensor(rng.standard_normal(n).astype(np.float32), requires_grad=True)
    q.grad = g
    sgd = lib.optim.SGD([q], lr=lr, momentum=0.9)
    r = lib.tensor(rng.standard_normal(n).astype(np.float32), requires_grad=True)
    r.grad = g
    adam = (
        lib.optim.Adam([r], lr=lr) if lib is rustgrad else lib.optim.Adam([r], lr=lr, foreach=False)
    )
    return {
        "p -= lr * g": isub,
        "p.add_(g, alpha=-lr)": lambda: p.add_(g, alpha=-lr),
        "p.mul_(0.999)": lambda: p.mul_(0.999),
        "p.addcmul_(g, g, value=lr)": lambda: p.addcmul_(g, g, value=lr),
        "p.addcdiv_(g, d, value=-lr)": lambda: p.addcdiv_(g, d, value=-lr),
        "p.copy_(g)": lambda: p.copy_(g),
        "p.zero_()": lambda: p.zero_(),
        "p.fill_(0.5)": lambda: p.fill_(0.5),
        "SGD(momentum).step()": sgd.step,
        "Adam.step()": adam.step,
    }


def _time(f, budget=0.2):
    f()
    times = []
    end = time.perf_counter() + budget
    while time.perf_counter() < end or len(times) < 5:
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1024, 65536, 1 << 20, 1 << 22])
    args = ap.parse_args()
    import torch

    libs = {"rustgrad": rustgrad, "torch": torch}
    print("| op | n | rustgrad us | torch us | ratio |")
    print("|---|---|---|---|---|")
    for n in args.sizes:
        cases = {name: _cases(lib, n) for name, lib in libs.items()}
        with rustgrad.no_grad(), torch.no_grad():
            for op in cases["rustgrad"]:
                theirs = _time(cases["torch"][op])
                try:
                    ours = _time(cases["rustgrad"][op])
                except AttributeError:  # a method rustgrad does not have yet
                    print(f"| {op} | {n} | missing | {theirs:.1f} | |")
                    continue
                print(f"| {op} | {n} | {ours:.1f} | {theirs:.1f} | {ours / theirs:.2f} |")


if __name__ == "__main__":
    main()
