"""Named results of reductions that return values and indices, as ``torch.return_types``."""

from collections import namedtuple


def _structseq(name, fields):
    """A named tuple printed as PyTorch prints its ``torch.return_types`` (one field a line)."""
    base = namedtuple(name, fields)

    def __repr__(self):
        from rustgrad._dropin import prefix

        items = ",\n".join(f"{f}={v!r}" for f, v in zip(self._fields, self))
        return f"{prefix()}.return_types.{name}(\n{items})"

    return type(name, (base,), {"__slots__": (), "__repr__": __repr__, "__module__": __name__})


max = _structseq("max", ["values", "indices"])  # PyTorch's names (shadow the builtins)
min = _structseq("min", ["values", "indices"])
