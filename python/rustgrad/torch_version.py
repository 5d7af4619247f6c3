"""``torch.torch_version``: ``TorchVersion``, the version string that compares as a version.

Under the drop-in runner ``torch.__version__`` is the PyTorch release whose API rustgrad
follows (``TORCH_API_VERSION``, with the local label ``+rustgrad``), so that the version checks
programs make (``torch.__version__ >= "2.0"``, ``version.parse(torch.__version__)``) take the
branches written for it; ``rustgrad.__version__`` is rustgrad's own.
"""

import re

__all__ = ["TORCH_API_VERSION", "TorchVersion"]

TORCH_API_VERSION = "2.13.0"


def _release(value) -> tuple:
    """The release numbers of a version string or tuple (``"2.13.0+cpu"`` -> (2, 13, 0))."""
    if isinstance(value, (tuple, list)):
        return tuple(int(v) for v in value)
    match = re.match(r"\s*v?(\d+(?:\.\d+)*)", str(value))
    if match is None:
        raise ValueError(f"Invalid version: {value!r}")
    return tuple(int(v) for v in match.group(1).split("."))


def _padded(a: tuple, b: tuple) -> tuple:
    n = max(len(a), len(b))
    return a + (0,) * (n - len(a)), b + (0,) * (n - len(b))


class TorchVersion(str):
    """A version string that compares with strings and tuples by release numbers, as
    PyTorch's (``TorchVersion("2.13.0+cpu") >= "2.0"`` and ``>= (2, 0)`` are True)."""

    def _cmp(self, other, op):
        try:
            a, b = _padded(_release(self), _release(other))
        except (TypeError, ValueError):
            return NotImplemented
        return op(a, b)

    def __lt__(self, other):
        return self._cmp(other, lambda a, b: a < b)

    def __le__(self, other):
        return self._cmp(other, lambda a, b: a <= b)

    def __gt__(self, other):
        return self._cmp(other, lambda a, b: a > b)

    def __ge__(self, other):
        return self._cmp(other, lambda a, b: a >= b)

    def __eq__(self, other):
        if isinstance(other, str) and str.__eq__(self, other):
            return True
        result = self._cmp(other, lambda a, b: a == b)
        return False if result is NotImplemented else result

    __hash__ = str.__hash__
