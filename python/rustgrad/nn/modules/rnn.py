"""Recurrent layers: ``nn.RNN``, ``nn.LSTM``, ``nn.GRU`` and their one-step cells.

The input projection of every time step is one matmul (``(T*B, I) @ W_ih^T``); each step then
costs one small ``(B, H) @ W_hh^T`` and the gate activations, applied to whole gate blocks at
once. Packed sequences run padded with a per-step mask that freezes finished sequences' states,
which also starts the reverse direction of each sequence at its own last element.
"""

import functools
import math

from rustgrad import _core
from rustgrad.nn import functional as F
from rustgrad.nn import init
from rustgrad.nn.modules.module import Module
from rustgrad.nn.parameter import Parameter
from rustgrad.nn.utils.rnn import PackedSequence, _pack, pad_packed_sequence

__all__ = ["GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNBase", "RNNCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _lstm_step(gates, h, c, hidden):
    # i, f, o through one sigmoid call (PyTorch's gate order is i, f, g, o).
    sig = gates.sigmoid()
    i, f, o = sig[:, :hidden], sig[:, hidden : 2 * hidden], sig[:, 3 * hidden :]
    g = gates[:, 2 * hidden : 3 * hidden].tanh()
    c = f * c + i * g
    return o * c.tanh(), c


def _gru_step(gi, gh, h, hidden):
    # r, z from one sigmoid; n = tanh(gi_n + r * gh_n) (PyTorch's gate order is r, z, n).
    rz = (gi[:, : 2 * hidden] + gh[:, : 2 * hidden]).sigmoid()
    r, z = rz[:, :hidden], rz[:, hidden:]
    n = (gi[:, 2 * hidden :] + r * gh[:, 2 * hidden :]).tanh()
    return n + z * (h - n)


class RNNBase(Module):
    """What ``RNN``, ``LSTM`` and ``GRU`` share: the parameters ``weight_ih_l{k}[_reverse]``,
    ``weight_hh_l{k}[_reverse]``, ``bias_ih_l{k}[_reverse]``, ``bias_hh_l{k}[_reverse]``, all
    drawn from ``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``."""

    def __init__(
        self,
        mode,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        proj_size=0,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if (
            not isinstance(dropout, (int, float))
            or not 0 <= dropout <= 1
            or isinstance(dropout, bool)
        ):
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an "
                "element being zeroed"
            )
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if not isinstance(proj_size, int) or isinstance(proj_size, bool) or proj_size < 0:
            raise ValueError(
                "proj_size should be a positive integer or zero to disable projections"
            )
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        # With a projection, the hidden state (output and recurrent input) is `proj_size` wide.
        real_hidden = proj_size or hidden_size
        self._flat_weights_names = []
        for layer in range(num_layers):
            for direction in range(directions):
                layer_input = input_size if layer == 0 else real_hidden * directions
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = [
                    ("weight_ih", (gate_size, layer_input)),
                    ("weight_hh", (gate_size, real_hidden)),
                ]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size:
                    shapes += [("weight_hr", (proj_size, hidden_size))]
                for name, shape in shapes:
                    param = Parameter(_core.zeros(shape, dtype=dtype, device=device))
                    setattr(self, name + suffix, param)
                    self._flat_weights_names.append(name + suffix)
        self.reset_parameters()

    def reset_parameters(self):
        """Every weight and bias from ``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    @property
    def _flat_weights(self):
        return [getattr(self, name) for name in self._flat_weights_names]

    def extra_repr(self):
        """``"10, 20, num_layers=2, batch_first=True"`` (options only when not the default)."""
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    def _weights(self, layer, direction):
        suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
        get = lambda name: getattr(self, name + suffix, None)
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh"), get("weight_hr")

    def _direction(self, x, state, layer, direction, mask):
        """Run one direction of one layer over time-major ``x``; ``state`` is ``h`` or
        ``(h, c)``; returns the outputs ``(T, B, H)`` and the final state."""
        w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(layer, direction)
        steps, batch = x.size(0), x.size(1)
        hidden = self.hidden_size
        # All time steps' input projections in one matmul.
        if self.mode == "GRU" or b_ih is None:
            proj = F.linear(x.reshape(steps * batch, x.size(2)), w_ih, b_ih)
        else:
            proj = F.linear(x.reshape(steps * batch, x.size(2)), w_ih, b_ih + b_hh)
        proj = proj.reshape(steps, batch, proj.size(1))
        fused = mask is None and w_hr is None and x.dtype == _core.float32 and x.is_cpu
        if self.mode == "LSTM" and fused:
            # The whole layer in one kernel call, as PyTorch's oneDNN layer for this case.
            h, c = state
            out, c_n = _mkldnn_rnn_layer().apply(proj, h, c, w_hh, direction == 1)
            return out, (out[0] if direction == 1 else out[-1], c_n)
        w_hh_t = w_hh.t()
        order = range(steps - 1, -1, -1) if direction == 1 else range(steps)
        outputs = [None] * steps
        if self.mode == "LSTM":
            h, c = state
        else:
            h = state
        for t in order:
            if self.mode == "LSTM":
                h_new, c_new = _lstm_step(proj[t] + h @ w_hh_t, h, c, hidden)
                if w_hr is not None:
                    h_new = h_new @ w_hr.t()
            elif self.mode == "GRU":
                gh = h @ w_hh_t if b_hh is None else b_hh.addmm(h, w_hh_t)
                h_new = _gru_step(proj[t], gh, h, hidden)
            else:
                pre = proj[t] + h @ w_hh_t
                h_new = pre.tanh() if self.mode == "RNN_TANH" else pre.relu()
            if mask is not None:
                keep = mask[t]
                h_new = _core.where(keep, h_new, h)
                if self.mode == "LSTM":
                    c_new = _core.where(keep, c_new, c)
                outputs[t] = h_new * keep.to(h_new.dtype)
            else:
                outputs[t] = h_new
            h = h_new
            if self.mode == "LSTM":
                c = c_new
        final = (h, c) if self.mode == "LSTM" else h
        return _core.stack(outputs, 0), final

    def _check_input(self, input, batched):
        expected = 3 if batched else 2
        if input.dim() != expected:
            raise ValueError(
                f"{self._get_name()}: Expected input to be 2D or 3D, got {input.dim()}D instead"
            )
        if input.size(-1) != self.input_size:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                f"got {input.size(-1)}"
            )

    def _between_layers(self, layer_input, lengths, packed):
        """The dropout between layers. A packed input's is drawn over its packed data
        ``(sum(lengths), H)``, as PyTorch's kernel draws it (the random stream then follows
        PyTorch's), and padded back."""
        if packed is None:
            return F.dropout(layer_input, self.dropout, True)
        data = _pack(layer_input, lengths, packed.sorted_indices)
        dropped = F.dropout(data.data, self.dropout, True)
        padded, _ = pad_packed_sequence(
            PackedSequence(dropped, data.batch_sizes, data.sorted_indices, data.unsorted_indices),
            total_length=layer_input.size(0),
        )
        return padded

    def _check_hidden(self, hx, expected, what="hidden"):
        if tuple(hx.shape) != tuple(expected):
            got = list(hx.shape)
            raise RuntimeError(f"Expected {what} size {tuple(expected)}, got {got}")

    def forward(self, input, hx=None):
        """``(output, h_n)`` (``(output, (h_n, c_n))`` for LSTM); ``input`` ``(T, B, I)``,
        ``(B, T, I)`` with ``batch_first``, ``(T, I)`` unbatched, or a ``PackedSequence``."""
        packed = isinstance(input, PackedSequence)
        mask = lengths = None
        if packed:
            source = input
            input, lengths = pad_packed_sequence(input)
            lengths = lengths.tolist()
            steps = input.size(0)
            positions = _core.arange(steps, device=input.device).unsqueeze(1)
            limit = _core.tensor(lengths, device=input.device).unsqueeze(0)
            mask = (positions < limit).unsqueeze(2)
            batched = True
        else:
            batched = input.dim() == 3
            if input.dim() not in (2, 3):
                raise ValueError(
                    f"{self._get_name()}: Expected input to be 2D or 3D, got {input.dim()}D "
                    "tensor instead"
                )
            if not batched:
                input = input.unsqueeze(1)
            elif self.batch_first:
                input = input.transpose(0, 1)
        if input.size(-1) != self.input_size:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                f"got {input.size(-1)}"
            )
        if input.size(0) == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        directions = 2 if self.bidirectional else 1
        batch = input.size(1)
        cell_shape = (self.num_layers * directions, batch, self.hidden_size)
        shape = (*cell_shape[:2], self.proj_size or self.hidden_size)
        if hx is None:
            zeros = lambda shape: _core.zeros(shape, dtype=input.dtype, device=input.device)
            hx = (zeros(shape), zeros(cell_shape)) if self.mode == "LSTM" else zeros(shape)
        else:
            if self.mode == "LSTM":
                hx = tuple(hx)
                if not batched:
                    hx = tuple(h.unsqueeze(1) for h in hx)
                self._check_hidden(hx[0], shape, "hidden[0]")
                self._check_hidden(hx[1], cell_shape, "hidden[1]")
            else:
                if not batched:
                    hx = hx.unsqueeze(1)
                self._check_hidden(hx, shape)
        layer_input = input
        finals_h, finals_c = [], []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(directions):
                index = layer * directions + direction
                if self.mode == "LSTM":
                    state = (hx[0][index], hx[1][index])
                else:
                    state = hx[index]
                out, final = self._direction(layer_input, state, layer, direction, mask)
                outs.append(out)
                if self.mode == "LSTM":
                    finals_h.append(final[0])
                    finals_c.append(final[1])
                else:
                    finals_h.append(final)
            layer_input = outs[0] if directions == 1 else _core.cat(outs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = self._between_layers(layer_input, lengths, source if packed else None)  # fmt: skip
        output = layer_input
        h_n = _core.stack(finals_h, 0)
        c_n = _core.stack(finals_c, 0) if self.mode == "LSTM" else None
        if packed:
            output = _pack(output, lengths, source.sorted_indices)
        elif not batched:
            output = output.squeeze(1)
            h_n = h_n.squeeze(1)
            c_n = c_n.squeeze(1) if c_n is not None else None
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, ((h_n, c_n) if self.mode == "LSTM" else h_n)


def _lstm_layer_backward_composite(proj, h0, c0, w_hh, d_out, d_cn, reverse):
    """The gradients of one LSTM layer's inputs, written with differentiable ops (for
    ``create_graph=True``): the forward recomputed step by step, then the steps' backward in
    reverse, each gate's gradient by hand."""
    hidden = h0.size(1)
    steps = proj.size(0)
    order = list(range(steps - 1, -1, -1)) if reverse else list(range(steps))
    h, c = h0, c0
    h_prev, c_prev, acts = {}, {}, {}
    for t in order:
        h_prev[t], c_prev[t] = h, c
        gates = proj[t] + h @ w_hh.t()
        sig = gates.sigmoid()
        i, f, o = sig[:, :hidden], sig[:, hidden : 2 * hidden], sig[:, 3 * hidden :]
        g = gates[:, 2 * hidden : 3 * hidden].tanh()
        c = f * c + i * g
        tc = c.tanh()
        h = o * tc
        acts[t] = (i, f, g, o, tc)
    dh, dc = _core.zeros(h0.shape, dtype=h0.dtype, device=h0.device), d_cn
    d_gates = [None] * steps
    d_w = None
    for t in reversed(order):
        i, f, g, o, tc = acts[t]
        d_h = dh + d_out[t]
        d_c = dc + d_h * o * (1 - tc * tc)
        d_gates[t] = _core.cat(
            [
                d_c * g * i * (1 - i),
                d_c * c_prev[t] * f * (1 - f),
                d_c * i * (1 - g * g),
                d_h * tc * o * (1 - o),
            ],
            1,
        )
        dc = d_c * f
        dh = d_gates[t] @ w_hh
        step_w = d_gates[t].t() @ h_prev[t]
        d_w = step_w if d_w is None else d_w + step_w
    if d_w is None:
        d_w = _core.zeros(w_hh.shape, dtype=w_hh.dtype, device=w_hh.device)
    if not steps:
        return _core.zeros(proj.shape, dtype=proj.dtype, device=proj.device), dh, dc, d_w
    return _core.stack(d_gates, 0), dh, dc, d_w


@functools.cache
def _mkldnn_rnn_layer():
    """One LSTM layer over a whole sequence as one node, named as PyTorch names it for a
    float32 CPU LSTM, which runs each layer as one oneDNN call (``MkldnnRnnLayerBackward0``).
    Forward and backward are one kernel call each; with ``create_graph=True`` the backward is
    written with differentiable ops instead, so second derivatives flow through it."""
    from rustgrad.autograd.function import Function

    class MkldnnRnnLayer(Function):
        @staticmethod
        def forward(ctx, proj, h0, c0, w_hh, reverse):
            """``(out, c_n)``: every step's hidden state and the last cell state."""
            out, c_n, cells, gates = _core._lstm_layer(proj, h0, c0, w_hh, reverse)
            ctx.reverse = reverse
            # The weight as it is now, apart from the saved variable: `module.double()`
            # between forward and backward swaps a parameter's data, not what this step used.
            ctx.w_hh_now = w_hh.detach()
            ctx.save_for_backward(proj, h0, c0, w_hh, out, cells, gates)
            return out, c_n

        @staticmethod
        def backward(ctx, d_out, d_cn):
            """The gradients of the projection, the initial states and ``w_hh``."""
            proj, h0, c0, w_hh, out, cells, gates = ctx.saved_tensors
            if _core.is_grad_enabled():
                grads = _lstm_layer_backward_composite(proj, h0, c0, w_hh, d_out, d_cn, ctx.reverse)
            else:
                grads = _core._lstm_layer_backward(
                    d_out, d_cn, h0, c0, ctx.w_hh_now, out, cells, gates, ctx.reverse
                )
            return (*grads, None)

    MkldnnRnnLayer._backward_name = "MkldnnRnnLayerBackward0"
    return MkldnnRnnLayer


class RNN(RNNBase):
    """Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or ``relu``)."""

    def __init__(self, *args, **kwargs):
        nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if len(args) > 3:
            nonlinearity = args[3]
            args = args[:3] + args[4:]
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(
                f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        self.nonlinearity = nonlinearity
        super().__init__(mode, *args, **kwargs)

    def __setattr__(self, name, value):
        # nonlinearity is set before Module.__init__ runs.
        if name == "nonlinearity":
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)


class LSTM(RNNBase):
    """Long short-term memory: gates ``i, f, g, o`` (PyTorch's order) in ``weight_ih_l{k}``
    ``(4*hidden_size, input)``; returns ``(output, (h_n, c_n))``."""

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit: gates ``r, z, n`` (PyTorch's order) in ``weight_ih_l{k}``
    ``(3*hidden_size, input)``."""

    def __init__(self, *args, **kwargs):
        super().__init__("GRU", *args, **kwargs)


class _CellBase(Module):
    def __init__(self, input_size, hidden_size, bias, gates, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        make = lambda *shape: Parameter(_core.zeros(shape, dtype=dtype, device=device))
        self.weight_ih = make(gates * hidden_size, input_size)
        self.weight_hh = make(gates * hidden_size, hidden_size)
        if bias:
            self.bias_ih = make(gates * hidden_size)
            self.bias_hh = make(gates * hidden_size)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Every weight and bias from ``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self):
        """``"10, 20"`` (and ``bias=False``, ``nonlinearity=relu`` when set)."""
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input, hx, count):
        if input.dim() not in (1, 2):
            raise ValueError(
                f"{self._get_name()}: Expected input to be 1D or 2D, got {input.dim()}D instead"
            )
        if hx is not None and any(h.dim() != input.dim() for h in (hx if count == 2 else (hx,))):
            raise RuntimeError(
                f"{self._get_name()}: Expected hidden to be {input.dim()}D, got a different "
                "number of dims instead"
            )
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if hx is None:
            zeros = _core.zeros(
                (input.size(0), self.hidden_size), dtype=input.dtype, device=input.device
            )
            hx = (zeros, zeros) if count == 2 else zeros
        elif not batched:
            hx = tuple(h.unsqueeze(0) for h in hx) if count == 2 else hx.unsqueeze(0)
        # (PyTorch's check_rnn_cell_forward_input / _hidden)
        if input.size(1) != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} expected {self.input_size}")  # fmt: skip
        for i, h in enumerate(hx if count == 2 else (hx,)):
            if h.size(0) != input.size(0):
                raise RuntimeError(f"Input batch size {input.size(0)} doesn't match hidden{i} batch size {h.size(0)}")  # fmt: skip
            if h.size(1) != self.hidden_size:
                raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got {h.size(1)}, expected {self.hidden_size}")  # fmt: skip
        return input, hx, batched

    def _gates(self, input, h):
        gi = F.linear(input, self.weight_ih, self.bias_ih)
        gh = F.linear(h, self.weight_hh, self.bias_hh)
        return gi, gh


class RNNCell(_CellBase):
    """One step of :class:`RNN`: ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)``."""

    def __init__(
        self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None
    ):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        """The next hidden state."""
        input, hx, batched = self._prepare(input, hx, 1)
        gi, gh = self._gates(input, hx)
        h = (gi + gh).tanh() if self.nonlinearity == "tanh" else (gi + gh).relu()
        return h if batched else h.squeeze(0)


class LSTMCell(_CellBase):
    """One step of :class:`LSTM`: returns ``(h', c')``."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        """``(h', c')``."""
        input, (h, c), batched = self._prepare(input, hx, 2)
        gi, gh = self._gates(input, h)
        h, c = _lstm_step(gi + gh, h, c, self.hidden_size)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(_CellBase):
    """One step of :class:`GRU`."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        """The next hidden state."""
        input, hx, batched = self._prepare(input, hx, 1)
        gi, gh = self._gates(input, hx)
        h = _gru_step(gi, gh, hx, self.hidden_size)
        return h if batched else h.squeeze(0)
