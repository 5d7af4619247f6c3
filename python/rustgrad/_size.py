"""``rustgrad.Size``: the shape tuple, printed as PyTorch prints ``torch.Size``."""

import functools


def check_non_negative(shape) -> None:
    """PyTorch's RuntimeError for the first negative size in ``shape`` (a creation's shape)."""
    negative = next((n for n in shape if n < 0), None)
    if negative is not None:
        raise RuntimeError(
            f"Trying to create tensor with negative dimension {negative}: {list(shape)}"
        )


class Size(tuple):
    """A tuple of ints describing a tensor's shape."""

    def __new__(cls, sizes=()):
        """The sizes as ints (bools, NumPy ints and 0-d integer tensors too), refusing other
        items with PyTorch's words."""
        items = []
        for i, v in enumerate(sizes):
            if not hasattr(v, "__index__"):
                from rustgrad._dropin import prefix

                raise TypeError(
                    f"{prefix()}.Size() takes an iterable of 'int' (item {i} is "
                    f"'{type(v).__name__}')"
                )
            items.append(v.__index__())
        return super().__new__(cls, items)

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


# The engine's constructor of the shapes it reports (`Tensor.shape`): its sizes are ints
# already, so it skips the checks.
_from_ints = functools.partial(tuple.__new__, Size)
