"""``python -m rustgrad``: replay the computational-graphs lecture on rustgrad, cell by cell."""

import sys


def main() -> int:
    import rustgrad
    from rustgrad._lecture import CELLS, replay

    print(f"rustgrad {rustgrad.__version__}: the lecture 'Computational graphs', cell by cell")
    print("(its PyTorch code, run with `import rustgrad as torch`)")
    print()
    namespace = replay()
    cuda = rustgrad.cuda.is_available()
    device = namespace["x"].device
    print(
        f"Replayed {len(CELLS)} cells. CUDA available: {cuda} "
        f"({rustgrad.cuda.device_count()} device(s)); the demo ran on: {device}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
