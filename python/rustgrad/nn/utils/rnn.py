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
