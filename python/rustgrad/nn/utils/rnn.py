"""Batching sequences of different lengths, as ``torch.nn.utils.rnn``."""

import rustgrad

__all__ = ["pad_sequence"]


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shapes ``(L_i, *)`` into ``(L, B, *)`` (or ``(B, L, *)`` with
    ``batch_first``), ``L`` the longest, shorter ones padded with ``padding_value`` on
    ``padding_side``. Differentiable in the sequences."""
    if padding_side not in ("left", "right"):
        raise ValueError(
            f"Expected padding_side to be one of left or right, but got {padding_side}."
        )
    if isinstance(sequences, rustgrad.Tensor):
        sequences = sequences.unbind(0)
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    longest = max(s.size(0) for s in sequences)
    padded = []
    for s in sequences:
        missing = longest - s.size(0)
        if missing:
            pad = rustgrad.full(
                (missing, *s.shape[1:]), padding_value, dtype=s.dtype, device=s.device
            )
            parts = [s, pad] if padding_side == "right" else [pad, s]
            s = rustgrad.cat(parts, 0)
        padded.append(s)
    return rustgrad.stack(padded, 0 if batch_first else 1)


# ----- layers branch: packed sequences ---------------------------------------------------------

from collections import namedtuple

__all__ += ["PackedSequence", "pack_padded_sequence", "pack_sequence", "pad_packed_sequence"]


class PackedSequence(
    namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])
):
    """Sequences of different lengths stored time step by time step: ``data`` holds, for each
    step, the rows of the sequences still running (longest first), ``batch_sizes`` how many."""

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _invert(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """``data`` moved/cast (the index tensors follow the device)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        move = lambda t: None if t is None else t.to(data.device)
        return type(self)(
            data, self.batch_sizes, move(self.sorted_indices), move(self.unsorted_indices)
        )


def _invert(permutation):
    out = rustgrad.empty_like(permutation)
    out[permutation] = rustgrad.arange(permutation.numel(), device=permutation.device)
    return out


def _pack(padded, lengths, sorted_indices):
    """Pack time-major ``padded`` (B in original order) given ``lengths`` (a list, original
    order) and the longest-first order ``sorted_indices`` (None when already sorted)."""
    order = list(range(len(lengths))) if sorted_indices is None else sorted_indices.tolist()
    sorted_lengths = [lengths[i] for i in order]
    if sorted_indices is not None:
        padded = padded.index_select(1, sorted_indices.to(padded.device))
    batch_sizes = [sum(1 for n in sorted_lengths if n > t) for t in range(sorted_lengths[0])]
    data = rustgrad.cat([padded[t, :size] for t, size in enumerate(batch_sizes)], 0)
    return PackedSequence(data, rustgrad.tensor(batch_sizes, dtype=rustgrad.int64), sorted_indices)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``) whose sequences
    have ``lengths``; with ``enforce_sorted`` the lengths must be decreasing."""
    if isinstance(lengths, rustgrad.Tensor):
        lengths = lengths.tolist()
    lengths = [int(n) for n in lengths]
    if batch_first:
        input = input.transpose(0, 1)
    if any(n <= 0 for n in lengths):
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in "
            "'lengths' that is <= 0"
        )
    if len(lengths) != input.size(1):
        raise RuntimeError(
            f"Expected `len(lengths)` to be equal to batch_size, but got {len(lengths)} "
            f"(batch_size={input.size(1)})"
        )
    if enforce_sorted:
        if any(a < b for a, b in zip(lengths, lengths[1:])):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability."
            )
        sorted_indices = None
    else:
        sorted_indices = rustgrad.tensor(
            sorted(range(len(lengths)), key=lambda i: -lengths[i]), dtype=rustgrad.int64
        )
    return _pack(input, lengths, sorted_indices)


def _lengths(batch_sizes):
    sizes = batch_sizes.tolist()
    return [sum(1 for s in sizes if s > b) for b in range(sizes[0])]


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Undo :func:`pack_padded_sequence`: ``(padded, lengths)``, the batch in its original
    order, padded to the longest length (or ``total_length``)."""
    data, batch_sizes = sequence.data, sequence.batch_sizes
    sizes = batch_sizes.tolist()
    width = sizes[0]
    steps = len(sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being "
                f"{steps}"
            )
        steps = total_length
    rows, start = [], 0
    for size in sizes:
        row = data[start : start + size]
        start += size
        if size < width:
            fill = rustgrad.full(
                (width - size, *data.shape[1:]), padding_value, dtype=data.dtype, device=data.device
            )
            row = rustgrad.cat([row, fill], 0)
        rows.append(row)
    for _ in range(steps - len(sizes)):
        rows.append(
            rustgrad.full(
                (width, *data.shape[1:]), padding_value, dtype=data.dtype, device=data.device
            )
        )
    padded = rustgrad.stack(rows, 0)
    lengths = _lengths(batch_sizes)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices.to(padded.device))
        lengths = [lengths[i] for i in sequence.unsorted_indices.tolist()]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, rustgrad.tensor(lengths, dtype=rustgrad.int64)


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of ``(L_i, *)`` tensors (longest first unless ``enforce_sorted=False``)."""
    lengths = [s.size(0) for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)
