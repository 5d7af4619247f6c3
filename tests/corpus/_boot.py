"""Run one corpus program as ``python prog.py`` would, under PyTorch or rustgrad, with fixed seeds.

python tests/corpus/_boot.py {torch|rustgrad} PROGRAM [ARGS...]
"""

import random
import runpy
import sys


def _alias_torch_to_rustgrad() -> None:
    """TEMPORARY (remove when branch `dropin` is merged): map ``torch`` and ``torch.*`` to
    ``rustgrad`` and ``rustgrad.*``. Used only when rustgrad has no ``install_as_torch``."""
    import importlib
    import importlib.abc
    import importlib.util

    import rustgrad

    class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        def find_spec(self, name, path=None, target=None):
            if name.startswith("torch."):
                return importlib.util.spec_from_loader(name, self)
            return None

        def create_module(self, spec):
            return importlib.import_module("rustgrad" + spec.name[len("torch") :])

        def exec_module(self, module):
            pass

    sys.modules["torch"] = rustgrad
    sys.meta_path.insert(0, _Alias())


def main() -> None:
    backend, program = sys.argv[1], sys.argv[2]
    if backend == "rustgrad":
        import rustgrad

        install = getattr(rustgrad, "install_as_torch", None)
        if install is not None:
            install()
        else:
            _alias_torch_to_rustgrad()
    import numpy as np
    import torch

    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    sys.argv = sys.argv[2:]
    sys.path[0] = str(__import__("pathlib").Path(program).resolve().parent)
    runpy.run_path(program, run_name="__main__")


if __name__ == "__main__":
    main()
