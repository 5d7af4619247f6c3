"""Draw the lecture's graph (z = x + y; s = z.sum()) for the docs (training page): docs/lecture_graph.svg.

Usage: python scripts/lecture_graph.py [OUTPUT]   (needs Graphviz's `dot`; .png works too)
"""

import sys
from pathlib import Path

import rustgrad
from rustgrad.autograd import Variable


def main(path):
    x = Variable(rustgrad.Tensor([1, 2, 3]), requires_grad=True)
    y = Variable(rustgrad.Tensor([4, 5, 6]), requires_grad=True)
    z = x + y
    s = z.sum()
    out = rustgrad.viz.render(s, path, params={"x": x, "y": y, "s": s})
    print(f"wrote {out}")


if __name__ == "__main__":
    default = Path(__file__).resolve().parent.parent / "docs" / "lecture_graph.svg"
    main(sys.argv[1] if len(sys.argv) > 1 else default)
