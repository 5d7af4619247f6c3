"""Writes ``python/rustgrad/_torch_names.py``: PyTorch's public names per namespace.

The drop-in layer uses the list to tell a PyTorch name that rustgrad lacks (NotImplementedError,
and a line in ``python -m rustgrad check``) from a name PyTorch lacks too (AttributeError, as
PyTorch raises). Run with the reference PyTorch installed: ``python scripts/torch_names.py``.
"""

import importlib
import pathlib
import pprint

import torch

NAMESPACES = [
    "torch",
    "torch.nn",
    "torch.nn.functional",
    "torch.nn.init",
    "torch.nn.utils",
    "torch.optim",
    "torch.optim.lr_scheduler",
    "torch.autograd",
    "torch.autograd.functional",
    "torch.cuda",
    "torch.utils",
    "torch.utils.data",
    "torch.linalg",
    "torch.backends",
    "torch.testing",
    "torch.special",
    "torch.distributions",
    "torch.utils.checkpoint",
]


def public(obj):
    return sorted(n for n in dir(obj) if not n.startswith("_"))


def main():
    names = {}
    for ns in NAMESPACES:
        names[ns] = public(importlib.import_module(ns))
    names["torch.Tensor"] = sorted(
        n for n in dir(torch.Tensor) if not n.startswith("_") or n.startswith("__")
    )
    out = pathlib.Path(__file__).resolve().parent.parent / "python/rustgrad/_torch_names.py"
    body = pprint.pformat(names, width=99, compact=True)
    out.write_text(
        f'"""PyTorch {torch.__version__.split("+")[0]}\'s public names per namespace '
        '(written by scripts/torch_names.py)."""\n\n'
        f"NAMES: dict[str, list[str]] = {body}\n"
    )
    print(out, sum(map(len, names.values())))


if __name__ == "__main__":
    main()
