"""Matrix-product throughput, rustgrad against PyTorch and NumPy (OpenBLAS), side by side.

Usage: python benches/matmul.py [--rounds N]
Square and skinny float32 shapes (batch-64 training products: 64 x k @ k x n); forward only,
no autograd. Prints GFLOP/s (best of each round's median, rounds alternating between the
libraries so that machine load hits all three alike) as a Markdown table.
"""

import argparse
import time

import numpy as np

SHAPES = [
    (256, 256, 256),
    (1024, 1024, 1024),
    (2048, 2048, 2048),
    (64, 784, 512),
    (64, 512, 10),
    (64, 1024, 1024),
    (64, 2048, 2048),
    (256, 1024, 1024),
    (16, 4096, 4096),
]


def gflops(f, flop):
    reps = max(3, int(2e9 / flop))
    f()
    t = time.perf_counter()
    for _ in range(reps):
        f()
    return flop * reps / (time.perf_counter() - t) / 1e9


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    import rustgrad

    libs = {"rustgrad": (rustgrad.from_numpy, rustgrad.matmul)}
    try:
        import torch

        libs["torch"] = (torch.from_numpy, torch.matmul)
    except ImportError:
        pass
    libs["numpy"] = (lambda a: a, np.matmul)
    rng = np.random.default_rng(0)
    print(
        "| m x k @ k x n | " + " | ".join(f"{n} GFLOP/s" for n in libs) + " | rustgrad/torch time |"
    )
    print("|---|" + "---:|" * (len(libs) + 1))
    for m, k, n in SHAPES:
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        operands = {name: (wrap(a), wrap(b)) for name, (wrap, _) in libs.items()}
        best = dict.fromkeys(libs, 0.0)
        for _ in range(args.rounds):
            for name, (_, mm) in libs.items():
                x, y = operands[name]
                # Let the previous library's worker threads (OpenBLAS, OpenMP) stop spinning:
                # they would take a core from this one's.
                time.sleep(0.3)
                best[name] = max(
                    best[name], gflops(lambda mm=mm, x=x, y=y: mm(x, y), 2 * m * k * n)
                )
        ratio = f"{best['torch'] / best['rustgrad']:.2f}" if "torch" in best else "-"
        cells = " | ".join(f"{best[name]:.0f}" for name in libs)
        print(f"| {m} x {k} @ {k} x {n} | {cells} | {ratio} |", flush=True)


if __name__ == "__main__":
    main()
