"""``python -m rustgrad``: the two lectures' demos; ``run`` and ``check`` for PyTorch scripts.

``python -m rustgrad run script.py [args]`` runs an unmodified PyTorch script with rustgrad as
``torch`` (``rustgrad._dropin.run_script``); ``python -m rustgrad check script.py ...`` lists the
PyTorch names a script uses that rustgrad lacks, without running it (``rustgrad._check``).
With no arguments:

1. Replay the computational-graphs lecture on rustgrad, cell by cell.
2. Its sequel, a linear model: train ``nn.Linear(1, 1)`` with ``MSELoss`` and ``SGD`` on a small
   embedded data set (``rustgrad._linear_demo``), showing progress, then draw the graph behind
   the loss with ``rustgrad.viz`` (``rustgrad_graph.svg`` in the current directory).
"""

import sys

GRAPH_PATH = "rustgrad_graph.svg"


def train_linear_model() -> None:
    """Part 2: train the linear model and write the picture of its loss's graph."""
    import rustgrad
    from rustgrad import _linear_demo, nn

    print()
    print("Next lecture: a linear model, y = w * x + b, fitted by gradient descent")
    print("(nn.Linear(1, 1), nn.MSELoss(), optim.SGD(lr=0.1), 100 epochs on 12 points)")
    rustgrad.manual_seed(0)
    model, history, x, y = _linear_demo.train(epochs=100)
    w, b = model.linear.weight.item(), model.linear.bias.item()
    print(f"Loss {history[0]:.4f} -> {history[-1]:.4f}; learned y = {w:.3f} x + {b:.3f}")

    loss = nn.MSELoss()(model(x), y)
    params = {f"model.{name}": p for name, p in model.named_parameters()}
    try:
        from rustgrad import viz

        path = viz.render(loss, GRAPH_PATH, params=params)
    except (ImportError, AttributeError) as err:
        print(f"No graph picture: rustgrad.viz is not available ({err}).")
    except RuntimeError as err:
        print(f"No graph picture: {err}")
    else:
        print(f"The computational graph of the loss was written to {path}")


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
    train_linear_model()
    return 0


USAGE = """usage: python -m rustgrad                       the lectures' demos
       python -m rustgrad run SCRIPT.py [ARGS...]  run a PyTorch script on rustgrad
       python -m rustgrad check SCRIPT.py...       list the PyTorch names it uses that rustgrad lacks
"""


def cli(argv: list[str]) -> int:
    if not argv:
        return main()
    if argv[0] == "run" and len(argv) >= 2:
        from rustgrad._dropin import run_script

        return run_script(argv[1], argv[2:])
    if argv[0] == "check" and len(argv) >= 2:
        from rustgrad._check import main as check

        return check(argv[1:])
    sys.stderr.write(USAGE)
    return 2


if __name__ == "__main__":
    sys.exit(cli(sys.argv[1:]))
