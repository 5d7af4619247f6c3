"""``rustgrad.Size``: the shape tuple, printed as PyTorch prints ``torch.Size``."""


class Size(tuple):
    """A tuple of ints describing a tensor's shape."""

    def __repr__(self):
        from rustgrad._dropin import prefix

        return f"{prefix()}.Size({list(self)})"

    # Slices, concatenation and repetition stay shapes, as with torch.Size.
    def __getitem__(self, index):
        item = super().__getitem__(index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other):
        if not isinstance(other, tuple):
            from rustgrad._dropin import prefix

            raise TypeError(
                f"can only concatenate tuple (not {type(other).__name__}) to {prefix()}.Size"
            )
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple(other) + tuple(self))

    def __mul__(self, times):
        return Size(tuple(self) * times)

    __rmul__ = __mul__

    def numel(self) -> int:
        """Number of elements of a tensor of this shape (product of the sizes)."""
        n = 1
        for d in self:
            n *= d
        return n
