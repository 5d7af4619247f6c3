"""Run one corpus program with fixed seeds, under PyTorch or under rustgrad's drop-in runner.

    python tests/corpus/_boot.py torch PROGRAM [ARGS...]      # as `python PROGRAM ARGS...`
    python tests/corpus/_boot.py rustgrad PROGRAM [ARGS...]   # as `python -m rustgrad run PROGRAM ARGS...`

The seeds make each backend's run repeatable; the two random streams still differ, which is what
the manifest's ``skeleton`` and ``loss`` modes allow for.
"""

import random
import runpy
import sys

import numpy as np


def main() -> int:
    backend, program, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    random.seed(0)
    np.random.seed(0)
    if backend == "rustgrad":
        import rustgrad
        from rustgrad._dropin import run_script

        rustgrad.manual_seed(0)
        return run_script(program, args)
    import torch

    torch.manual_seed(0)
    sys.argv = [program, *args]
    sys.path[0] = str(__import__("pathlib").Path(program).resolve().parent)
    runpy.run_path(program, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
