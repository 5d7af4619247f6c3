"""The lecture "Computational graphs in PyTorch", cell by cell, on rustgrad.

``CELLS`` holds the notebook cells the lecture walks through, as ``(title, source)`` pairs. The
sources read exactly like the lecture's PyTorch code: the only change is the first cell, which
imports ``rustgrad as torch``. :func:`replay` runs them in one shared namespace and prints each
cell's title, its code and what it printed, so the code shown is the code that ran.
"""

import contextlib
import io

# fmt: off
# One string per line of lecture code, so each cell reads as the code it runs.
CELLS = [
    (
        "Imports: rustgrad in place of PyTorch",
        (
            "import rustgrad as torch\n"
            "from rustgrad.autograd import Variable"
        ),
    ),
    (
        "Last session: reshaping a tensor with view",
        (
            "t = torch.Tensor([[1, 2, 3], [4, 5, 6]])\n"
            "print(t)\n"
            "print(t.view(3, 2))\n"
            "print(t.view(-1))"
        ),
    ),
    (
        "A Variable that tracks how it was created",
        (
            "x = Variable(torch.Tensor([1, 2, 3]), requires_grad=True)\n"
            "print(x.data)"
        ),
    ),
    (
        "A second Variable, and the sum of both",
        (
            "y = Variable(torch.Tensor([4, 5, 6]), requires_grad=True)\n"
            "z = x + y\n"
            "print(z.data)"
        ),
    ),
    (
        "z knows it was made by an addition",
        (
            "print(z)\n"
            "print(z.grad_fn)"
        ),
    ),
    (
        "Summing up the components of z",
        (
            "s = z.sum()\n"
            "print(s)"
        ),
    ),
    (
        "s knows it was made by a sum",
        (
            "print(s.grad_fn)"
        ),
    ),
    (
        "Backpropagation from s: ds/dx and ds/dy",
        (
            "s.backward(retain_graph=True)\n"
            "print(x)\n"
            "print(x.grad)\n"
            "print(y.grad)"
        ),
    ),
    (
        "backward again: the gradients accumulate",
        (
            "s.backward(retain_graph=True)\n"
            "print(x.grad)\n"
            "print(y.grad)"
        ),
    ),
    (
        "And once more",
        (
            "s.backward(retain_graph=True)\n"
            "print(x.grad)\n"
            "print(y.grad)"
        ),
    ),
    (
        "Two plain tensors of size 2x2, and their sum",
        (
            "x = torch.ones(2, 2)\n"
            "y = torch.ones(2, 2)\n"
            "z = x + y\n"
            "print(z)"
        ),
    ),
    (
        "Variables made of them: the sum records its grad_fn",
        (
            "var_x = Variable(x, requires_grad=True)\n"
            "var_y = Variable(y, requires_grad=True)\n"
            "var_z = var_x + var_y\n"
            "print(var_z.grad_fn)"
        ),
    ),
    (
        "A new Variable from var_z's data alone loses the history",
        (
            "var_z_data = var_z.data\n"
            "new_var_z = Variable(var_z_data)\n"
            "print(new_var_z.grad_fn)"
        ),
    ),
    (
        "backward() through the broken graph fails",
        (
            "try:\n"
            "    new_var_z.backward()\n"
            "except RuntimeError as error:\n"
            "    print('RuntimeError:', error)"
        ),
    ),
    (
        "CUDA: run a tensor on the GPU when one is available",
        (
            "print('CUDA available:', torch.cuda.is_available())\n"
            "x = torch.ones(2, 2)\n"
            "if torch.cuda.is_available():\n"
            "    x = x.cuda()\n"
            "print('this demo ran on:', x.device)\n"
            "print(x + x)"
        ),
    ),
]
# fmt: on


def run_cell(source, namespace):
    """Execute one cell's source in ``namespace``; return what it printed."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        exec(compile(source, "<lecture cell>", "exec"), namespace)  # noqa: S102 - the demo
    return buffer.getvalue()


def _show_code(source):
    lines = source.splitlines()
    return "\n".join(
        (">>> " if not line.startswith((" ", "except", "else", "elif", "finally")) else "... ")
        + line
        for line in lines
    )


def replay(out=print, cells=None):
    """Run the lecture's cells in order, printing title, code and output of each.

    Returns the namespace the cells ran in.
    """
    cells = CELLS if cells is None else cells
    namespace = {"__name__": "__lecture__"}
    for number, (title, source) in enumerate(cells, 1):
        out(f"--- [{number}] {title} ---")
        out(_show_code(source))
        output = run_cell(source, namespace)
        if output:
            out(output.rstrip("\n"))
        out("")
    return namespace
