"""``embedding_bag``: sums, means or maxima of bags of embedding rows, without the
intermediate ``(bags, bag_size, dim)`` tensor of ``embedding`` followed by a reduction.

The bags are worked out on the host from the integer indices and offsets (no gradient flows
through them); the rows are looked up by ``embedding`` (which gives the ``padding_idx`` row
no gradient and scales by frequency with ``scale_grad_by_freq``) and reduced per bag by
``index_add`` (sum, mean) or a max over a padded ``(bags, longest, dim)`` block (max). The
whole is recorded as PyTorch's ``EmbeddingBagBackward0``.
"""

import warnings

import numpy as np

from rustgrad import _core
from rustgrad.nn._conv_functional import _recorded_as

_MODES = ("sum", "mean", "max")


def _type_name(t):
    """``torch.FloatTensor`` and the like (as PyTorch's messages name a tensor's type)."""
    return t.type()


def _check_indices(t, arg, name):
    if t.dtype not in (_core.int64, _core.int32):
        raise RuntimeError(
            f"Expected tensor for argument #{arg} '{name}' to have one of the following scalar "
            f"types: Long, Int; but got {_type_name(t)} instead (while checking arguments "
            "for embedding_bag)"
        )


def _bags(input, offsets, include_last_offset, padding_idx, num_weights, mode):
    """The host-side plan: the number of bags, and for each kept position (in order) its
    bag; positions equal to ``padding_idx`` or past the last bag are not kept."""
    idx = input.detach().cpu().numpy().astype(np.int64).reshape(-1)
    off = offsets.detach().cpu().numpy().astype(np.int64).reshape(-1)
    m = idx.size
    if include_last_offset and off.size < 1:
        raise RuntimeError("include_last_offset: number of offset should be at least 1")
    if off.size and off[0] != 0:
        # (PyTorch's message prints offsets[0] as a 0-d tensor)
        raise RuntimeError(
            "offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start "
            f"from position 0. However, got {off[0]}\n[ {offsets.type()}{{}} ]"
        )
    if off.size and off[-1] > m:
        raise RuntimeError(
            f"offsets[-1] can not be greater than input's length {m} but got offsets[-1] of "
            f"{off[-1]}"
        )
    bad = (idx < 0) | (idx >= num_weights)
    if bad.any():
        at = int(np.argmax(bad))
        if mode == "max":
            raise RuntimeError(
                "embedding_bag: Expected idx >= 0 && idx < num_embeddings but found idx to be "
                f"{idx[at]}"
            )
        raise RuntimeError(
            f"Index {at} of input takes value {idx[at]} which is not in the valid range "
            f"[0, {num_weights})"
        )
    bags = off.size - 1 if include_last_offset else off.size
    ends = np.append(off[1:], m)[:bags]
    starts = off[:bags]
    if (ends < starts).any():
        raise RuntimeError(
            "Expected i < index_size to be true, but got false.  (Could this error message be "
            "improved?  If so, please report an enhancement request to PyTorch.)"
        )
    positions = np.arange(m)
    bag_of = np.searchsorted(starts, positions, side="right") - 1
    keep = (bag_of >= 0) & (positions < (ends[-1] if bags else 0))
    if padding_idx is not None:
        keep &= idx != padding_idx
    return bags, positions[keep], bag_of[keep]


def embedding_bag(
    input,
    weight,
    offsets=None,
    max_norm=None,
    norm_type=2,
    scale_grad_by_freq=False,
    mode="mean",
    sparse=False,
    per_sample_weights=None,
    include_last_offset=False,
    padding_idx=None,
):
    """The sum, mean or max of each bag of rows of ``weight``: bags are the rows of a 2-D
    ``input``, or the runs of a 1-D ``input`` starting at ``offsets``. ``per_sample_weights``
    (``mode='sum'``) weighs each index; ``padding_idx`` entries are left out of their bag
    (an empty bag gives zeros)."""
    if weight.dtype == _core.int64 and input.is_floating_point():
        warnings.warn(
            "Argument order of nn.functional.embedding_bag was changed. Usage "
            "`embedding_bag(weight, input, ...)` is deprecated, and should now be "
            "`embedding_bag(input, weight, ...)`.",
            stacklevel=2,
        )
        weight, input = input, weight
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(
            f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not None, "
            f"then it must have the same shape as the input ({input.shape})"
        )
    if weight.dim() != 2:
        raise ValueError(
            f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.dim()}"
        )
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError(
                "if input is 2D, then offsets has to be None, as input is treated is a "
                "mini-batch of fixed length sequences. However, found offsets of type "
                f"{type(offsets)}"
            )
        if input.shape[1] == 0:
            raise RuntimeError("step must be nonzero")
        offsets = _core.arange(0, input.numel(), input.shape[1], dtype=input.dtype)
        include_last_offset = False
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")  # fmt: skip
    if mode not in _MODES:
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    if max_norm is not None:
        from rustgrad.nn.functional import _embedding_renorm_

        _embedding_renorm_(weight, input.reshape(-1), max_norm, norm_type)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only "
            f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
            "GitHub."
        )
    _check_indices(input, 1, "indices")
    _check_indices(offsets, 2, "offsets")
    if per_sample_weights is not None and per_sample_weights.dtype != weight.dtype:
        raise RuntimeError(
            f"Expected tensor for argument #1 'weight' to have the same type as tensor for "
            f"argument #1 'per_sample_weights'; but type {_type_name(weight)} does not equal "
            f"{_type_name(per_sample_weights)} (while checking arguments for embedding_bag)"
        )
    num_weights = weight.shape[0]
    if padding_idx is not None:
        if not -num_weights <= padding_idx < num_weights:
            raise RuntimeError(
                f"padding_idx must be within the number of embeddings, -{num_weights} through "
                f"{num_weights - 1}, but got {padding_idx}"
            )
        padding_idx %= num_weights
    bags, kept, bag_of = _bags(input, offsets, include_last_offset, padding_idx, num_weights, mode)
    device = weight.device
    kept_t = _core.tensor(kept, dtype=_core.int64, device=device)
    bag_t = _core.tensor(bag_of, dtype=_core.int64, device=device)
    counts = np.bincount(bag_of, minlength=bags)
    indices = input.reshape(-1).to(_core.int64)
    dim = weight.shape[1]

    def reduce(weight, psw, *_index):
        rows = _core.embedding(weight, indices, padding_idx, bool(scale_grad_by_freq))[kept_t]
        if mode == "max":
            return _bag_max(rows, bag_of, counts, bags, dim)
        if psw is not None:
            rows = rows * psw[kept_t].unsqueeze(1)
        out = _core.zeros((bags, dim), dtype=weight.dtype, device=device).index_add(0, bag_t, rows)
        if mode == "mean":
            n = _core.tensor(np.maximum(counts, 1), dtype=weight.dtype, device=device)
            out = out / n.unsqueeze(1)
        return out

    # (an absent per_sample_weights is a None input of the node, as in PyTorch's graph; the
    # indices and offsets are inputs too, saved as PyTorch's node saves them)
    return _recorded_as("EmbeddingBagBackward0", reduce, weight, per_sample_weights, indices, offsets)  # fmt: skip


def _bag_max(rows, bag_of, counts, bags, dim):
    """The elementwise max of each bag's ``rows`` (zeros for an empty bag); the gradient
    goes to the first maximal row, as PyTorch's ``max_indices``."""
    longest = int(counts.max()) if bags else 0
    if longest == 0:
        return _core.zeros((bags, dim), dtype=rows.dtype, device=rows.device) + rows.sum() * 0
    # slot of each kept position within its bag (positions come in bag order)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    slot = np.arange(bag_of.size) - starts[bag_of]
    table = np.zeros((bags, longest), np.int64)
    table[bag_of, slot] = np.arange(bag_of.size)
    filled = np.zeros((bags, longest), bool)
    filled[bag_of, slot] = True
    table_t = _core.tensor(table, device=rows.device)
    filled_t = _core.tensor(filled, device=rows.device).unsqueeze(-1)
    block = _core.where(filled_t, rows[table_t.reshape(-1)].reshape(bags, longest, dim), -float("inf"))  # fmt: skip
    nonempty = _core.tensor(counts > 0, device=rows.device).unsqueeze(-1)
    return _core.where(nonempty, block.max(1).values, 0.0)
