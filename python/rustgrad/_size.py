"""``rustgrad.Size``: the shape tuple, printed as PyTorch prints ``torch.Size``."""


class Size(tuple):
    """A tuple of ints describing a tensor's shape."""

    def __repr__(self):
        from rustgrad._dropin import prefix

        return f"{prefix()}.Size({list(self)})"

    def numel(self) -> int:
        """Number of elements of a tensor of this shape (product of the sizes)."""
        n = 1
        for d in self:
            n *= d
        return n
