"""Activation layers: ``ReLU``, ``Tanh``, ``Sigmoid``, ``Softmax``, ``LogSoftmax``, and those of
issue 11 (``GELU``, ``SiLU``, ``Mish``, ``ELU``, ``SELU``, ``LeakyReLU``, ``Hardtanh``, ``ReLU6``,
``Softplus``, ``LogSigmoid``), with PyTorch's ``repr``."""

from rustgrad.nn import functional as F
from rustgrad.nn.modules.module import Module

__all__ = [
    "ELU",
    "GELU",
    "SELU",
    "Hardtanh",
    "LeakyReLU",
    "LogSigmoid",
    "LogSoftmax",
    "Mish",
    "RReLU",
    "ReLU",
    "ReLU6",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "Tanh",
]


class ReLU(Module):
    """``max(x, 0)`` elementwise; any shape."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        """``max(input, 0)`` elementwise (same shape; in place when ``inplace``)."""
        return F.relu(input, inplace=self.inplace)

    def extra_repr(self):
        """``"inplace=True"`` when set, else nothing."""
        return "inplace=True" if self.inplace else ""


class Tanh(Module):
    """Hyperbolic tangent elementwise; any shape."""

    def forward(self, input):
        """``tanh(input)`` elementwise (same shape)."""
        return F.tanh(input)


class Sigmoid(Module):
    """``1 / (1 + exp(-x))`` elementwise; any shape."""

    def forward(self, input):
        """``1 / (1 + exp(-input))`` elementwise (same shape)."""
        return F.sigmoid(input)


class Softmax(Module):
    """Softmax along ``dim``; same shape as the input."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        """Softmax of ``input`` along ``self.dim`` (same shape)."""
        return F.softmax(input, self.dim)

    def extra_repr(self):
        """``"dim=..."``."""
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """Log-softmax along ``dim``; same shape as the input."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        """Log-softmax of ``input`` along ``self.dim`` (same shape)."""
        return F.log_softmax(input, self.dim)

    def extra_repr(self):
        """``"dim=..."``."""
        return f"dim={self.dim}"


# ----- activations of issue 11 ---------------------------------------------------------------


def _inplace_repr(inplace, lead=""):
    """``extra_repr`` text for an ``inplace`` flag after ``lead`` (PyTorch's wording)."""
    if not inplace:
        return lead
    return f"{lead}, inplace=True" if lead else "inplace=True"


class GELU(Module):
    """GELU, exact (``approximate="none"``) or its tanh approximation; any shape."""

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        """``gelu(input)`` elementwise (same shape)."""
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        """``"approximate='none'"`` or ``"approximate='tanh'"``."""
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """``x * sigmoid(x)`` elementwise; any shape."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        """``silu(input)`` elementwise (same shape)."""
        return F.silu(input, inplace=self.inplace)

    def extra_repr(self):
        """``"inplace=True"`` when set, else nothing."""
        return _inplace_repr(self.inplace)


class Mish(Module):
    """``x * tanh(softplus(x))`` elementwise; any shape."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        """``mish(input)`` elementwise (same shape)."""
        return F.mish(input, inplace=self.inplace)

    def extra_repr(self):
        """``"inplace=True"`` when set, else nothing."""
        return _inplace_repr(self.inplace)


class ELU(Module):
    """``x`` where positive, else ``alpha * (exp(x) - 1)``; any shape."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        """``elu(input, alpha)`` elementwise (same shape)."""
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self):
        """``"alpha=..."`` (and ``", inplace=True"``)."""
        return _inplace_repr(self.inplace, f"alpha={self.alpha}")


class SELU(Module):
    """Self-normalising ELU; any shape."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        """``selu(input)`` elementwise (same shape)."""
        return F.selu(input, self.inplace)

    def extra_repr(self):
        """``"inplace=True"`` when set, else nothing."""
        return _inplace_repr(self.inplace)


class RReLU(Module):
    """Randomized leaky ReLU: non-positive inputs scaled by a ``U(lower, upper)`` draw each
    in training mode, by ``(lower + upper) / 2`` in evaluation."""

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        self.lower = lower
        self.upper = upper
        self.inplace = inplace

    def forward(self, input):
        """``rrelu(input, lower, upper, training)`` elementwise (same shape)."""
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self):
        """``"lower=..., upper=..."`` (and ``", inplace=True"``)."""
        return _inplace_repr(self.inplace, f"lower={self.lower}, upper={self.upper}")


class LeakyReLU(Module):
    """``x`` where positive, else ``negative_slope * x``; any shape."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        """``leaky_relu(input, negative_slope)`` elementwise (same shape)."""
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self):
        """``"negative_slope=..."`` (and ``", inplace=True"``)."""
        return _inplace_repr(self.inplace, f"negative_slope={self.negative_slope}")


class Hardtanh(Module):
    """``x`` clamped into ``[min_val, max_val]``; any shape."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace
        assert self.max_val > self.min_val, f"max_val ({self.max_val}) must be greater than min_val ({self.min_val})"  # fmt: skip

    def forward(self, input):
        """``hardtanh(input, min_val, max_val)`` elementwise (same shape)."""
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        """``"min_val=..., max_val=..."`` (and ``", inplace=True"``)."""
        return _inplace_repr(self.inplace, f"min_val={self.min_val}, max_val={self.max_val}")


class ReLU6(Hardtanh):
    """``min(max(x, 0), 6)``; any shape."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        """``"inplace=True"`` when set, else nothing."""
        return _inplace_repr(self.inplace)


class Softplus(Module):
    """``log(1 + exp(beta * x)) / beta`` (``x`` above ``threshold / beta``); any shape."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input):
        """``softplus(input, beta, threshold)`` elementwise (same shape)."""
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        """``"beta=..., threshold=..."``."""
        return f"beta={self.beta}, threshold={self.threshold}"


class LogSigmoid(Module):
    """``log(sigmoid(x))``; any shape."""

    def forward(self, input):
        """``logsigmoid(input)`` elementwise (same shape)."""
        return F.logsigmoid(input)


# ----- layers branch: multi-head attention -----------------------------------------------------

import math

from rustgrad import _core


class MultiheadAttention(Module):
    """Multi-head attention as ``torch.nn.MultiheadAttention``: the query/key/value projections
    in ``in_proj_weight`` ``(3*E, E)`` (or ``q/k/v_proj_weight`` when ``kdim``/``vdim`` differ
    from ``embed_dim``), the output projection ``out_proj``; returns ``(output, weights)``."""

    def __init__(
        self,
        embed_dim,
        num_heads,
        dropout=0.0,
        bias=True,
        add_bias_kv=False,
        add_zero_attn=False,
        kdim=None,
        vdim=None,
        batch_first=False,
        device=None,
        dtype=None,
    ):
        from rustgrad.nn.modules.linear import NonDynamicallyQuantizableLinear
        from rustgrad.nn.parameter import Parameter

        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} "
                f"and num_heads={num_heads} instead"
            )
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        assert self.head_dim * num_heads == self.embed_dim, (
            "embed_dim must be divisible by num_heads"
        )
        make = lambda *shape: Parameter(_core.zeros(shape, dtype=dtype, device=device))
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = make(embed_dim, embed_dim)
            self.k_proj_weight = make(embed_dim, self.kdim)
            self.v_proj_weight = make(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = make(3 * embed_dim, embed_dim)
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = make(3 * embed_dim)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(
            embed_dim, embed_dim, bias=bias, device=device, dtype=dtype
        )
        if add_bias_kv:
            # A learned key and value appended to every sequence (after the projections).
            self.bias_k = make(1, 1, embed_dim)
            self.bias_v = make(1, 1, embed_dim)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        from rustgrad.nn import init

        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(
        self,
        query,
        key,
        value,
        key_padding_mask=None,
        need_weights=True,
        attn_mask=None,
        average_attn_weights=True,
        is_causal=False,
    ):
        """``(attn_output, attn_weights)``; ``query`` ``(L, N, E)`` (``(N, L, E)`` with
        ``batch_first``, ``(L, E)`` unbatched). In ``key_padding_mask`` ``(N, S)`` and a bool
        ``attn_mask`` ``(L, S)`` or ``(N*heads, L, S)``, True marks a position not attended
        to; a float mask is added to the scores. ``attn_weights`` are averaged over heads
        unless ``average_attn_weights=False``, None unless ``need_weights``."""
        for mask, name in ((key_padding_mask, "key_padding_mask"), (attn_mask, "attn_mask")):
            if mask is not None and mask.dtype != _core.bool_ and not mask.is_floating_point():
                raise AssertionError(f"only bool and floating types of {name} are supported")
        batched = query.dim() == 3
        if not batched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        length, batch, embed = query.shape
        source = key.size(0)
        if embed != self.embed_dim:
            raise AssertionError(
                f"was expecting embedding dimension of {self.embed_dim}, but got {embed}"
            )
        heads, head_dim = self.num_heads, self.head_dim
        e = self.embed_dim
        b = self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:e], b[e : 2 * e], b[2 * e :])
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            wq, wk, wv = w[:e], w[e : 2 * e], w[2 * e :]
        else:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        q = F.linear(query, wq, bq)
        k = F.linear(key, wk, bk)
        v = F.linear(value, wv, bv)
        if is_causal and attn_mask is None:
            attn_mask = _core.ones((length, source), dtype=_core.bool_, device=query.device)
            attn_mask = attn_mask.triu(1)
        if attn_mask is not None:
            if attn_mask.dim() == 2:
                if tuple(attn_mask.shape) != (length, source):
                    raise RuntimeError(
                        f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}, but should "
                        f"be {(length, source)}."
                    )
                attn_mask = attn_mask.unsqueeze(0)
            elif tuple(attn_mask.shape) != (batch * heads, length, source):
                raise RuntimeError(
                    f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but should be "
                    f"{(batch * heads, length, source)}."
                )

        def attend_one_more(attn_mask, key_padding_mask):
            # A key appended to every sequence is attended to by every query.
            pad = lambda m: None if m is None else F.pad(m, (0, 1))
            return pad(attn_mask), pad(key_padding_mask), source + 1

        if self.bias_k is not None and self.bias_v is not None:
            k = _core.cat([k, self.bias_k.repeat(1, batch, 1)])
            v = _core.cat([v, self.bias_v.repeat(1, batch, 1)])
            attn_mask, key_padding_mask, source = attend_one_more(attn_mask, key_padding_mask)
        # (L, N, E) -> (N, heads, L, head_dim)
        q = q.reshape(length, batch * heads, head_dim).transpose(0, 1)
        k = k.reshape(source, batch * heads, head_dim).transpose(0, 1)
        v = v.reshape(source, batch * heads, head_dim).transpose(0, 1)
        if self.add_zero_attn:
            zeros = _core.zeros((batch * heads, 1, head_dim), dtype=k.dtype, device=k.device)
            k, v = _core.cat([k, zeros], 1), _core.cat([v, zeros], 1)
            attn_mask, key_padding_mask, source = attend_one_more(attn_mask, key_padding_mask)
        scores = (q * (1.0 / math.sqrt(head_dim))) @ k.transpose(1, 2)  # (N*heads, L, S)
        if attn_mask is not None:
            if attn_mask.dtype == _core.bool_:
                scores = scores.masked_fill(attn_mask, float("-inf"))
            else:
                scores = scores + attn_mask
        if key_padding_mask is not None:
            scores = scores.reshape(batch, heads, length, source)
            pad = key_padding_mask.reshape(batch, 1, 1, source)
            if pad.dtype == _core.bool_:
                scores = scores.masked_fill(pad, float("-inf"))
            else:
                scores = scores + pad
            scores = scores.reshape(batch * heads, length, source)
        if need_weights or (attn_mask is None and key_padding_mask is None):
            weights = scores.softmax(-1)
        else:
            # PyTorch runs scaled_dot_product_attention then, whose safe softmax gives a
            # query with every key masked zero weights (not NaN)
            unseen = (scores == float("-inf")).all(-1, keepdim=True)
            weights = scores.masked_fill(unseen, 0.0).softmax(-1).masked_fill(unseen, 0.0)
        dropped = F.dropout(weights, self.dropout, self.training) if self.dropout > 0 else weights
        out = dropped @ v  # (N*heads, L, head_dim)
        out = out.transpose(0, 1).reshape(length * batch, e)
        out = self.out_proj(out).reshape(length, batch, e)
        if not batched:
            out = out.squeeze(1)
        elif self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        # (the weights returned are the dropped ones, as PyTorch's)
        weights = dropped.reshape(batch, heads, length, source)
        if average_attn_weights:
            weights = weights.mean(1)
        if not batched:
            weights = weights.squeeze(0)
        return out, weights


__all__ += ["MultiheadAttention"]


# ----- more activations: hard/soft shrinkage, thresholds, gating, learnable slopes -----------


class Hardswish(Module):
    """``x * relu6(x + 3) / 6`` elementwise; any shape."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        """``hardswish(input)`` elementwise (same shape; in place when ``inplace``)."""
        return F.hardswish(input, self.inplace)


class Hardsigmoid(Module):
    """``relu6(x + 3) / 6`` elementwise; any shape."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        """``hardsigmoid(input)`` elementwise (same shape; in place when ``inplace``)."""
        return F.hardsigmoid(input, self.inplace)


class Softsign(Module):
    """``x / (1 + |x|)`` elementwise; any shape."""

    def forward(self, input):
        """``softsign(input)`` elementwise (same shape)."""
        return F.softsign(input)


class Tanhshrink(Module):
    """``x - tanh(x)`` elementwise; any shape."""

    def forward(self, input):
        """``tanhshrink(input)`` elementwise (same shape)."""
        return F.tanhshrink(input)


class Softshrink(Module):
    """``x -+ lambd`` outside ``[-lambd, lambd]``, 0 inside; any shape."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        """``softshrink(input, lambd)`` elementwise (same shape)."""
        return F.softshrink(input, self.lambd)

    def extra_repr(self):
        """``lambd`` alone (PyTorch's wording)."""
        return str(self.lambd)


class Hardshrink(Module):
    """``x`` outside ``[-lambd, lambd]``, 0 inside; any shape."""

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        """``hardshrink(input, lambd)`` elementwise (same shape)."""
        return F.hardshrink(input, self.lambd)

    def extra_repr(self):
        """``lambd`` alone (PyTorch's wording)."""
        return f"{self.lambd}"


class Threshold(Module):
    """``value`` where ``x <= threshold``, else ``x``; any shape."""

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input):
        """``threshold(input, threshold, value)`` elementwise (same shape)."""
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self):
        """``"threshold=..., value=..."`` (and ``", inplace=True"``)."""
        return _inplace_repr(self.inplace, f"threshold={self.threshold}, value={self.value}")


class CELU(Module):
    """``x`` where positive, else ``alpha * (exp(x / alpha) - 1)``; any shape."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        """``celu(input, alpha)`` elementwise (same shape)."""
        return F.celu(input, self.alpha, self.inplace)

    def extra_repr(self):
        """``"alpha=..."`` (and ``", inplace=True"``)."""
        return _inplace_repr(self.inplace, f"alpha={self.alpha}")


class GLU(Module):
    """Gated linear unit ``a * sigmoid(b)`` of the halves of the input along ``dim``: that dim
    halves in size."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        """``glu(input, dim)``: ``input``'s shape with ``dim`` halved."""
        return F.glu(input, self.dim)

    def extra_repr(self):
        """``"dim=..."``."""
        return f"dim={self.dim}"


class Softmin(Module):
    """Softmin (softmax of ``-x``) along ``dim``; same shape as the input."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        """Softmin of ``input`` along ``self.dim`` (same shape)."""
        return F.softmin(input, self.dim, _stacklevel=5)

    def extra_repr(self):
        """``"dim=..."``."""
        return f"dim={self.dim}"


class PReLU(Module):
    """``x`` where positive, else ``weight * x``, with a learnable ``weight`` of
    ``num_parameters`` slopes (1, or one per channel: dim 1 of the input), all ``init`` at
    first."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        from rustgrad.nn.parameter import Parameter

        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(_core.zeros((num_parameters,), dtype=dtype, device=device))
        self.reset_parameters()

    def reset_parameters(self):
        """Set every slope to ``init``."""
        from rustgrad.nn import init

        init.constant_(self.weight, self.init)

    def forward(self, input):
        """``prelu(input, weight)`` elementwise (same shape)."""
        return F.prelu(input, self.weight)

    def extra_repr(self):
        """``"num_parameters=..."``."""
        return f"num_parameters={self.num_parameters}"


__all__ += [
    "CELU",
    "GLU",
    "Hardshrink",
    "Hardsigmoid",
    "Hardswish",
    "PReLU",
    "Softmin",
    "Softshrink",
    "Softsign",
    "Tanhshrink",
    "Threshold",
]


class Softmax2d(Module):
    """Softmax over the channels of ``(N, C, H, W)`` or ``(C, H, W)`` (dim ``-3``)."""

    def forward(self, input):
        """Softmax of ``input`` along dim ``-3``."""
        if input.dim() not in (3, 4):
            raise ValueError(
                f"Softmax2d: expected input to be 3D or 4D, got {input.dim()}D instead"
            )
        return F.softmax(input, -3)


__all__ += ["Softmax2d"]
