"""The connectionist temporal classification loss (``ctc_loss``), as ``torch.nn.functional``'s.

One node, PyTorch's ``CtcLossBackward0``, over ``log_probs``: the forward runs the alpha
recursion of Graves et al. (2006) in log space, the backward the beta recursion and PyTorch's
gradient formula, ``(exp(log_probs) - occupancy) * grad_out`` (the occupancy of each class at
each step: the gradient with respect to the scores below a ``log_softmax``, as PyTorch's kernel
gives it, not the one with respect to ``log_probs`` themselves). Both are tensor ops vectorised
over the batch and the extended target positions (the labels with a blank around each): one
step per time step. The values and gradients are computed in ``log_probs``' dtype, as PyTorch's
CPU kernel. PyTorch does not differentiate the backward: a second derivative raises its error.
The reduction and ``zero_infinity``'s mask are ordinary ops after the node, as in PyTorch.
"""

import operator

import numpy as np

from rustgrad import _core, _native

__all__ = ["ctc_loss"]

_NEG = float("-inf")
_SIGNATURES = (
    " * (Tensor log_probs, Tensor targets, tuple of ints input_lengths, tuple of ints "
    "target_lengths, int blank = 0, int reduction = at::Reduction::Mean, bool zero_infinity = "
    "False)\n"
    " * (Tensor log_probs, Tensor targets, Tensor input_lengths, Tensor target_lengths, int "
    "blank = 0, int reduction = at::Reduction::Mean, bool zero_infinity = False)\n"
)


def _type_name(x):
    if isinstance(x, _core.Tensor):
        return "Tensor"
    kind = type(x)
    return (
        kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    )


def _invalid_arguments(*args):
    got = ", ".join(_type_name(a) for a in args)
    return TypeError(
        f"ctc_loss() received an invalid combination of arguments - got ({got}), but expected "
        f"one of:\n{_SIGNATURES}"
    )


def _int_tuple(x):
    """The ints of a tuple or list (``operator.index``: no bools, floats or tensors), or None."""
    if not isinstance(x, (tuple, list)):
        return None
    out = []
    for v in x:
        if isinstance(v, (bool, _core.Tensor)):
            return None
        try:
            out.append(operator.index(v))
        except TypeError:
            return None
    return out


_INTEGRAL = ("uint8", "int8", "int16", "int32", "int64")


def _lengths(log_probs, targets, input_lengths, target_lengths, blank, zero_infinity):
    """The two lengths as lists of ints: both tuples/lists of ints, or both integral tensors
    (PyTorch's two signatures; anything else is its TypeError)."""
    args = (log_probs, targets, input_lengths, target_lengths, blank, 1, zero_infinity)
    if not isinstance(log_probs, _core.Tensor) or not isinstance(targets, _core.Tensor):
        raise _invalid_arguments(*args)
    if isinstance(blank, bool) or not isinstance(zero_infinity, bool):
        raise _invalid_arguments(*args)
    try:
        operator.index(blank)
    except TypeError:
        raise _invalid_arguments(*args) from None
    if isinstance(input_lengths, _core.Tensor) and isinstance(target_lengths, _core.Tensor):
        for name, t in (("input_lengths", input_lengths), ("target_lengths", target_lengths)):
            if str(t.dtype).rsplit(".", 1)[-1] not in _INTEGRAL:
                raise RuntimeError(f"{name} must be integral")
        return (
            [int(v) for v in input_lengths.reshape(-1).tolist()],
            [int(v) for v in target_lengths.reshape(-1).tolist()],
        )
    il, tl = _int_tuple(input_lengths), _int_tuple(target_lengths)
    if il is None or tl is None:
        raise _invalid_arguments(*args)
    return il, tl


def _check_arguments(log_probs, targets, il, tl, blank):
    """PyTorch's checks (``ctc_loss_allocate_outputs``), in its order and words; returns the
    offset of each sample's labels in the (flattened) targets and the target stride."""
    where = " (while checking arguments for ctc_loss_allocate_outputs)"
    if log_probs.dim() != 3:
        raise RuntimeError(
            f"Expected 3-dimensional tensor, but got {log_probs.dim()}-dimensional tensor for "
            f"argument #1 'log_probs'{where}"
        )
    if not 1 <= targets.dim() <= 2:
        raise RuntimeError(
            f"Expected 1 to 2 dimensions, but got {targets.dim()}-dimensional tensor for "
            f"argument #2 'targets'{where}"
        )
    _, batch, classes = log_probs.shape
    if not 0 <= blank < classes:
        raise RuntimeError("blank must be in label range")
    if len(il) != batch:
        raise RuntimeError("input_lengths must be of size batch_size")
    if len(tl) != batch:
        raise RuntimeError("target_lengths must be of size batch_size")
    for n in tl:
        if n < 0:
            raise RuntimeError(
                f"Expected target_lengths to have value at least 0, but got value {n}{where}"
            )
    if targets.dim() == 1:
        if targets.shape[0] != sum(tl):
            raise RuntimeError(
                f"Expected tensor to have size {sum(tl)} at dimension 0, but got size "
                f"{targets.shape[0]} for argument #2 'targets'{where}"
            )
    else:
        if targets.shape[0] != batch:
            raise RuntimeError(
                f"Expected tensor to have size {batch} at dimension 0, but got size "
                f"{targets.shape[0]} for argument #2 'targets'{where}"
            )
        longest = max(tl, default=0)
        if targets.shape[1] < longest:
            raise RuntimeError(
                f"Expected tensor to have size at least {longest} at dimension 1, but got size "
                f"{targets.shape[1]} for argument #2 'targets'{where}"
            )
    most = log_probs.shape[0]
    for n in il:
        if n < 0:
            raise RuntimeError(
                f"Expected input_lengths to have value at least 0, but got value {n}{where}"
            )
        if n > most:
            raise RuntimeError(
                f"Expected input_lengths to have value at most {most}, but got value {n}{where}"
            )


def _extended_labels(targets, tl, blank, classes):
    """The extended targets ``(N, 2 * S + 1)`` (a blank before, between and after the labels;
    blanks past a sample's ``2 * target_length + 1`` positions) as a numpy array, and whether
    the skip transition from ``s - 2`` to ``s`` is allowed (``s >= 2``, different labels)."""
    lengths = np.asarray(tl, dtype=np.int64)
    longest = int(lengths.max(initial=0))
    values = targets.detach().cpu()
    if values.is_floating_point() or str(values.dtype).rsplit(".", 1)[-1] == "bool":
        values = values.to(_core.int64)  # (PyTorch's targets.to(kLong): truncated)
    values = np.asarray(values.numpy(), dtype=np.int64)
    used = np.arange(longest)[None, :] < lengths[:, None]
    if values.ndim == 1:
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        index = np.where(used, offsets[:, None] + np.arange(longest)[None, :], 0)
        labels = values[index] if values.size else np.zeros(index.shape, np.int64)
    else:
        labels = values[:, :longest]
    labels = np.where(used, labels, blank)
    bad = (labels < 0) | (labels >= classes)
    if bad.any():
        # (PyTorch's kernel reads past log_probs' classes here; refused instead)
        raise IndexError(
            f"ctc_loss: target label {int(labels[bad][0])} is out of range for {classes} classes"
        )
    ext = np.full((len(tl), 2 * longest + 1), blank, dtype=np.int64)
    ext[:, 1::2] = labels
    skip = np.zeros(ext.shape, dtype=bool)
    skip[:, 2:] = ext[:, 2:] != ext[:, :-2]
    return ext, skip


def _logsumexp3(a, b, c):
    """``log(exp(a) + exp(b) + exp(c))`` elementwise as PyTorch's kernel computes it: shifted by
    the largest (0 where all are ``-inf``)."""
    import rustgrad

    m = rustgrad.maximum(rustgrad.maximum(a, b), c)
    m = _core.where(m == _NEG, 0.0, m)
    return ((a - m).exp() + (b - m).exp() + (c - m).exp()).log() + m


def _ctc(log_probs, targets, il, tl, blank, zero_infinity):
    """The per-sample negative log-likelihoods ``(N,)`` of ``log_probs (T, N, C)``: one node
    ``CtcLossBackward0``."""
    steps, batch, classes = log_probs.shape
    dev, dtype = log_probs.device, log_probs.dtype
    ext_np, skip_np = _extended_labels(targets, tl, blank, classes)
    width = ext_np.shape[1]
    il_np, tl_np = np.asarray(il, dtype=np.int64), np.asarray(tl, dtype=np.int64)
    used = int(il_np.max(initial=0))  # (the steps past every sample's length are not read)
    samples = np.arange(batch)
    positions = np.arange(width)[None, :]
    last_label = np.maximum(2 * tl_np - 1, 0)
    first_np = (positions == 0) | ((positions == 1) & (tl_np[:, None] > 0))
    last_np = (positions == 2 * tl_np[:, None]) | (
        (positions == last_label[:, None]) & (tl_np[:, None] > 0)
    )

    def tensor(a, dtype=None):
        return _core.tensor(np.ascontiguousarray(a), dtype=dtype, device=dev)

    def additive(mask):  # 0 where allowed, -inf where not
        return tensor(np.where(mask, 0.0, _NEG), dtype)

    # log p_t(l'_s) as one index_select: sample n's class c at n * C + c
    flat_ext = tensor((samples[:, None] * classes + ext_np).reshape(-1))
    skip_np_back = np.zeros_like(skip_np)  # (the skip from s + 2 back to s)
    skip_np_back[:, :-2] = skip_np[:, 2:]
    skip, skip_back = additive(skip_np), additive(skip_np_back)
    valid = tensor(positions < 2 * tl_np[:, None] + 1)
    two = _core.full((batch, 2), _NEG, dtype=dtype, device=dev)
    state = {}

    def emissions(x):
        rows = x[:used].reshape(used, batch * classes)
        return rows.index_select(1, flat_ext).reshape(used, batch, width)

    def forward():
        ll = _core.zeros((batch,), dtype=dtype, device=dev)
        if used:
            em = emissions(log_probs)
            alpha = _core.where(tensor(first_np), em[0], _NEG)
            alphas = [alpha]
            for t in range(1, used):
                # from s, s - 1 and (different labels) s - 2: a state padded by two -inf
                padded = _core.cat([two, alpha], 1)
                a3 = padded[:, :-2] + skip
                alpha = _logsumexp3(padded[:, 2:], padded[:, 1:-1], a3) + em[t]
                alpha = _core.where(valid, alpha, _NEG)
                alphas.append(alpha)
            alphas = _core.stack(alphas)
            state["em"], state["alpha"] = em, alphas
            # the last blank and the last label at each sample's last step
            at_last = np.maximum(il_np - 1, 0) * batch + samples
            final = alphas.reshape(used * batch, width).index_select(0, tensor(at_last))
            final = final.reshape(-1)
            l1 = final.index_select(0, tensor(samples * width + 2 * tl_np))
            l2 = final.index_select(0, tensor(samples * width + last_label))
            l2 = _core.where(tensor(tl_np > 0), l2, _NEG)
            m = _core.where(l1 > l2, l1, l2)
            m = _core.where(m == _NEG, 0.0, m)
            ll = ((l1 - m).exp() + (l2 - m).exp()).log() + m
        # a sample without steps: likelihood 1 if its target is empty, else 0
        ll = _core.where(tensor(il_np == 0), _core.where(tensor(tl_np == 0), 0.0, _NEG), ll)
        return -ll

    def backward(grad, saved_input, _targets, nll):
        """PyTorch's ``_ctc_loss_backward``: ``(exp(lp) - sum over s with l'_s == c of
        exp(log alpha + log beta + nll - lp)) * grad_out`` over the steps of each sample, 0
        after them (and for the losses ``zero_infinity`` zeroes)."""
        x = saved_input.detach()
        nll = nll.detach()
        out = _core.zeros((steps, batch, classes), dtype=dtype, device=dev)
        if not used:
            return (_native.underivable("_ctc_loss_backward", out, [saved_input]),)
        em, alphas = state["em"], state["alpha"]
        # beta starts at each sample's last step from its last blank and last label
        starts = tensor((np.arange(used)[:, None, None] == il_np[None, :, None] - 1) & last_np)
        betas = [None] * used
        beta = _core.where(starts[used - 1], em[used - 1], _NEG)
        betas[used - 1] = beta
        for t in range(used - 2, -1, -1):
            # from s, s + 1 and (different labels) s + 2: a state padded by two -inf; -inf
            # stays -inf past a sample's positions and (until its start) steps
            padded = _core.cat([beta, two], 1)
            b3 = padded[:, 2:] + skip_back
            beta = _logsumexp3(padded[:, :-2], padded[:, 1:-1], b3) + em[t]
            beta = _core.where(starts[t], em[t], beta)
            betas[t] = beta
        betas = _core.stack(betas)
        terms = ((alphas + betas) + nll.reshape(1, batch, 1) - em).exp()
        # (PyTorch's kernel, at a sample's last step, assigns the last label's term over the
        # last blank's rather than adding them: they differ only if that label is the blank)
        overwritten = (
            (np.arange(used)[:, None, None] == il_np[None, :, None] - 1)
            & (positions[None] == 2 * tl_np[None, :, None])
            & ((tl_np > 0) & (ext_np[samples, last_label] == blank))[None, :, None]
        )
        if overwritten.any():
            terms = _core.where(tensor(overwritten), 0.0, terms)
        # the terms summed per class: (N, T, 2S+1) @ one-hot (N, 2S+1, C)
        one_hot = np.zeros((batch, width, classes))
        one_hot[samples[:, None], np.arange(width)[None, :], ext_np] = 1.0
        occupancy = (terms.permute(1, 0, 2) @ tensor(one_hot, dtype)).permute(1, 0, 2)
        g = (x[:used].exp() - occupancy) * grad.reshape(1, batch, 1)
        within = tensor((np.arange(used)[:, None] < il_np[None, :])[:, :, None])
        infinite = (nll == float("inf")).reshape(1, batch, 1)
        # an impossible alignment: PyTorch's nan (-inf + inf) over the sample's steps, or 0
        # with zero_infinity
        g = _core.where(within & infinite, 0.0 if zero_infinity else float("nan"), g)
        g = _core.where(within, g, 0.0)
        out = _core.cat([g, out[used:]], 0) if used < steps else g
        return (_native.underivable("_ctc_loss_backward", out, [saved_input]),)

    long_targets = targets if targets.dtype == _core.int64 else targets.to(_core.int64)
    saved = [log_probs, long_targets, _native.RESULT]
    return _native.record("CtcLossBackward0", [log_probs], forward, saved, backward)


def ctc_loss(
    log_probs,
    targets,
    input_lengths,
    target_lengths,
    blank=0,
    reduction="mean",
    zero_infinity=False,
):
    """The connectionist temporal classification loss of the log-probabilities ``log_probs``
    (``(T, N, C)``, or ``(T, C)`` unbatched; a ``log_softmax`` over ``C``) against ``targets``
    (padded ``(N, S)``, or the batch's targets concatenated, ``(sum(target_lengths),)``), with
    each sample's ``input_lengths`` (``<= T``) and ``target_lengths`` (tuples of ints, or
    integer tensors). A sample's loss is ``-log`` of the total probability of its alignments
    (``inf`` where none fits; 0 with ``zero_infinity``); ``"mean"`` divides each by its target
    length (at least 1), then averages over the batch. The gradient is PyTorch's: the one with
    respect to the scores below a ``log_softmax``."""
    from rustgrad.nn.functional import _check_reduction, _dtype_name

    _check_reduction(reduction)
    il, tl = _lengths(log_probs, targets, input_lengths, target_lengths, blank, zero_infinity)
    blank = operator.index(blank)
    if log_probs.dtype not in (_core.float32, _core.float64):
        kernel = "ctc_loss_cuda" if log_probs.is_cuda else "ctc_loss_cpu"
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_dtype_name(log_probs.dtype)}\'')  # fmt: skip
    if log_probs.numel() == 0:
        raise RuntimeError("log_probs tensor must not be empty")
    batched = log_probs.dim() == 3
    lp = log_probs if batched else log_probs.unsqueeze(1)
    _check_arguments(lp, targets, il, tl, blank)
    loss = _ctc(lp, targets, il, tl, blank, zero_infinity)
    if zero_infinity:
        zero = _core.zeros((), dtype=loss.dtype, device=loss.device)
        loss = _core.where(loss == float("inf"), zero, loss)
    if reduction == "mean":
        lengths = _core.tensor(tl, dtype=loss.dtype, device=loss.device).clamp_min(1)
        return (loss / lengths).mean()
    if reduction == "sum":
        return loss.sum()
    return loss if batched else loss.squeeze(0)
