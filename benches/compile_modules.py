"""``rustgrad.compile`` on training steps written the tutorial way (``nn.Sequential``,
``F.cross_entropy``, an optimizer object), against eager rustgrad and PyTorch: best of 5
samples of 300 steps, batch 64, float32, PyTorch on 2 threads.

    python benches/compile_modules.py
"""

import time

import rustgrad as rg

WIDTHS = [(2, 16, 16, 2), (32, 64, 64, 10), (784, 512, 10)]


def bench(lib, compiled, widths, opt_name, batch=64, steps=300):
    """Seconds per step (best of 5 samples) and the compiled function's stats."""
    lib.manual_seed(0)
    layers = []
    for a, b in zip(widths, widths[1:]):
        layers += [lib.nn.Linear(a, b), lib.nn.ReLU()]
    model = lib.nn.Sequential(*layers[:-1])
    make = lib.optim.Adam if opt_name == "Adam" else lib.optim.SGD
    opt = make(model.parameters(), lr=1e-3)
    x, t = lib.randn(batch, widths[0]), lib.randint(0, widths[-1], (batch,))

    def step(x, t):
        opt.zero_grad()
        loss = lib.nn.functional.cross_entropy(model(x), t)
        loss.backward()
        opt.step()
        return loss

    fn = rg.compile(step) if compiled else step
    for _ in range(10):
        fn(x, t)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(steps):
            fn(x, t)
        best = min(best, (time.perf_counter() - start) / steps)
    return best, rg.compiler._stats(fn) if compiled else None


def main():
    import torch

    torch.set_num_threads(2)
    print("| widths, optimizer | eager | compiled | PyTorch | replays |")
    print("|---|---:|---:|---:|---:|")
    for widths in WIDTHS:
        for opt in ("SGD", "Adam"):
            eager, _ = bench(rg, False, widths, opt)
            compiled, stats = bench(rg, True, widths, opt)
            theirs, _ = bench(torch, False, widths, opt)
            name = "-".join(map(str, widths))
            print(
                f"| {name}, {opt} | {eager * 1e6:.1f} us | {compiled * 1e6:.1f} us "
                f"| {theirs * 1e6:.1f} us | {stats['replays']} |"
            )


if __name__ == "__main__":
    main()
