"""RNN, LSTM, GRU, their cells and packed sequences against PyTorch: parameter names, shapes,
initialisation, repr, state dicts both ways, outputs/states/gradients, gradcheck in float64,
errors, and CPU vs CUDA."""

import math

import numpy as np
import pytest
import rustgrad as rg
from conftest import DEVICES, assert_close, raises
from layers_util import load_from_torch, load_into_torch, to_rg
from rustgrad import nn
from rustgrad.nn.utils import rnn as rnn_utils

torch = pytest.importorskip("torch")

CONFIGS = [
    ("LSTM", {}),
    ("GRU", {}),
    ("RNN", {}),
    ("RNN", {"nonlinearity": "relu"}),
    ("LSTM", {"num_layers": 2, "bidirectional": True, "batch_first": True}),
    ("GRU", {"num_layers": 2, "bidirectional": True}),
    ("RNN", {"num_layers": 3, "bias": False}),
    ("LSTM", {"bias": False, "bidirectional": True}),
    ("LSTM", {"proj_size": 3}),
    ("LSTM", {"proj_size": 2, "num_layers": 2, "bidirectional": True, "batch_first": True}),
]


def _pair(cls, kw, device="cpu", sizes=(5, 7)):
    theirs = getattr(torch.nn, cls)(*sizes, **kw).double()
    ours = load_from_torch(getattr(nn, cls)(*sizes, **kw).to(device).double(), theirs, device)
    return ours, theirs


def _flat(out):
    """Tensors of an RNN's ``(output, state)`` in order."""
    if hasattr(out, "batch_sizes"):  # a PackedSequence: its data
        return [out.data]
    if isinstance(out, (tuple, list)):
        return [t for part in out for t in _flat(part)]
    return [out]


def _compare(ours, theirs, args_t, args_r):
    out_t, out_r = _flat(theirs(*args_t)), _flat(ours(*args_r))
    assert len(out_t) == len(out_r)
    for a, b in zip(out_r, out_t):
        assert_close(a.cpu(), b, rtol=1e-10, atol=1e-12)
    weights = [torch.randn(t.shape, dtype=t.dtype) for t in out_t]
    sum(
        ((t * w).sum() for t, w in zip(out_t, weights)), torch.zeros((), dtype=torch.float64)
    ).backward()
    total = None
    for r, w in zip(out_r, weights):
        term = (r * to_rg(w, r.device)).sum()
        total = term if total is None else total + term
    total.backward()
    ours_p = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        assert_close(ours_p[name].grad.cpu(), p.grad, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("cls, kw", CONFIGS)
def test_names_shapes_repr_and_init(cls, kw):
    ours, theirs = getattr(nn, cls)(5, 7, **kw), getattr(torch.nn, cls)(5, 7, **kw)
    assert repr(ours) == repr(theirs)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in theirs.named_parameters()
    ]
    bound = 1 / math.sqrt(7)
    for p in ours.parameters():
        assert p.abs().max().item() <= bound
    rg.manual_seed(0)
    big = getattr(nn, cls)(4, 100, **kw)
    b = 0.1
    for p in big.parameters():
        # U(-b, b): mean 0, variance b^2 / 3; bounds at 5 standard errors for p.numel() draws
        n = p.numel()
        assert abs(p.mean().item()) < 5 * b / math.sqrt(3 * n)
        assert abs(p.pow(2).mean().item() - b * b / 3) < 5 * math.sqrt(4 * b**4 / 45 / n)
    load_into_torch(theirs, ours)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("cls, kw", CONFIGS)
def test_forward_backward_match_torch(device, cls, kw):
    ours, theirs = _pair(cls, kw, device)
    x = torch.randn(4, 3, 5, dtype=torch.float64)
    _compare(ours, theirs, (x,), (to_rg(x, device),))


@pytest.mark.parametrize("cls, kw", CONFIGS)
def test_initial_state_and_unbatched(cls, kw):
    ours, theirs = _pair(cls, kw)
    layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    batch = 4 if kw.get("batch_first") else 3
    h0 = torch.randn(layers, batch, kw.get("proj_size") or 7, dtype=torch.float64)
    c0 = torch.randn(layers, batch, 7, dtype=torch.float64)
    state_t = (h0, c0) if cls == "LSTM" else h0
    state_r = tuple(to_rg(s) for s in state_t) if cls == "LSTM" else to_rg(state_t)
    x = torch.randn(4, 3, 5, dtype=torch.float64)
    _compare(ours, theirs, (x, state_t), (to_rg(x), state_r))
    ours.zero_grad()
    theirs.zero_grad()
    _compare(ours, theirs, (x[:, 0],), (to_rg(x[:, 0]),))  # unbatched (T, I)


@pytest.mark.parametrize("cls, kw", CONFIGS)
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_packed_sequences_match_torch(cls, kw, enforce_sorted):
    kw = {k: v for k, v in kw.items() if k != "batch_first"}
    ours, theirs = _pair(cls, kw)
    lengths = [5, 3, 3, 1] if enforce_sorted else [3, 5, 1, 3]
    x = torch.randn(5, 4, 5, dtype=torch.float64)
    packed_t = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=enforce_sorted)
    packed_r = rnn_utils.pack_padded_sequence(to_rg(x), lengths, enforce_sorted=enforce_sorted)
    for a, b in zip(packed_r, packed_t):
        if b is None:
            assert a is None
        else:
            assert_close(a, b)
    _compare(ours, theirs, (packed_t,), (packed_r,))
    out_t, _ = theirs(packed_t)
    out_r, _ = ours(packed_r)
    for batch_first in (False, True):
        pt, lt = torch.nn.utils.rnn.pad_packed_sequence(
            out_t, batch_first=batch_first, total_length=6
        )
        pr, lr = rnn_utils.pad_packed_sequence(out_r, batch_first=batch_first, total_length=6)
        assert_close(pr, pt, rtol=1e-10, atol=1e-12)
        assert_close(lr, lt)


def test_pack_sequence_and_errors():
    seqs = [torch.randn(n, 2, dtype=torch.float64) for n in (4, 2, 1)]
    a = rnn_utils.pack_sequence([to_rg(s) for s in seqs])
    b = torch.nn.utils.rnn.pack_sequence(seqs)
    assert_close(a.data, b.data)
    assert_close(a.batch_sizes, b.batch_sizes)
    with raises(RuntimeError, "`lengths` array must be sorted in decreasing order"):
        rnn_utils.pack_padded_sequence(rg.zeros(3, 2, 1), [1, 3])
    with raises(RuntimeError, "Length of all samples has to be greater than 0"):
        rnn_utils.pack_padded_sequence(rg.zeros(3, 2, 1), [3, 0])


def test_gradcheck_float64():
    for cls in ("LSTM", "GRU", "RNN"):
        m = getattr(nn, cls)(2, 3, bidirectional=True).double()
        x = rg.randn(3, 2, 2, dtype=rg.float64, requires_grad=True)
        h = rg.randn(2, 2, 3, dtype=rg.float64, requires_grad=True)

        def fn(x, h, m=m, cls=cls):
            state = (h, h * 0.5) if cls == "LSTM" else h
            out, _ = m(x, state)
            return out

        assert rg.autograd.gradcheck(fn, (x, h))
        assert rg.autograd.gradgradcheck(fn, (x, h))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(
    "cls, kw",
    [
        ("LSTMCell", {}),
        ("GRUCell", {}),
        ("RNNCell", {}),
        ("RNNCell", {"nonlinearity": "relu", "bias": False}),
    ],
)
def test_cells_match_torch(device, cls, kw):
    theirs = getattr(torch.nn, cls)(5, 7, **kw).double()
    ours = getattr(nn, cls)(5, 7, **kw)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    load_from_torch(ours.to(device).double(), theirs, device)
    x = torch.randn(3, 5, dtype=torch.float64)
    h = torch.randn(3, 7, dtype=torch.float64)
    state_t = (h, torch.randn_like(h)) if cls == "LSTMCell" else h
    state_r = (
        tuple(to_rg(s, device) for s in state_t) if cls == "LSTMCell" else to_rg(state_t, device)
    )
    _compare(ours, theirs, (x, state_t), (to_rg(x, device), state_r))
    _compare(ours, theirs, (x[0],), (to_rg(x[0], device),))  # unbatched, zero state


def test_errors_match_torch():
    with raises(RuntimeError, "input.size(-1) must be equal to input_size. Expected 5, got 4"):
        nn.LSTM(5, 7)(rg.randn(3, 2, 4))
    with raises(ValueError, "LSTM: Expected input to be 2D or 3D, got 4D"):
        nn.LSTM(5, 7)(rg.randn(3, 2, 4, 5))
    with raises(RuntimeError, "Expected hidden size (1, 2, 7), got [1, 3, 7]"):
        nn.GRU(5, 7)(rg.randn(3, 2, 5), rg.zeros(1, 3, 7))
    with raises(RuntimeError, "Expected hidden[0] size (1, 2, 7), got [1, 3, 7]"):
        nn.LSTM(5, 7)(rg.randn(3, 2, 5), (rg.zeros(1, 3, 7), rg.zeros(1, 2, 7)))
    with raises(ValueError, "dropout should be a number in range [0, 1]"):
        nn.LSTM(5, 7, dropout=2)
    with raises(RuntimeError, "Expected hidden[1] size (1, 2, 7), got [1, 2, 3]"):
        nn.LSTM(5, 7, proj_size=3)(rg.randn(3, 2, 5), (rg.zeros(1, 2, 3), rg.zeros(1, 2, 3)))
    with raises(ValueError, "proj_size has to be smaller than hidden_size"):
        nn.LSTM(5, 7, proj_size=7)
    with raises(ValueError, "proj_size should be a positive integer or zero"):
        nn.LSTM(5, 7, proj_size=-1)
    with raises(ValueError, "proj_size argument is only supported for LSTM, not RNN or GRU"):
        nn.GRU(5, 7, proj_size=3)
    with raises(ValueError, "Unknown nonlinearity 'gelu'. Select from 'tanh' or 'relu'."):
        nn.RNN(5, 7, nonlinearity="gelu")


def test_dropout_between_layers_only_in_training():
    m = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    assert repr(m) == repr(torch.nn.LSTM(3, 4, num_layers=2, dropout=0.5))
    x = rg.randn(5, 2, 3)
    m.eval()
    a, _ = m(x)
    b, _ = m(x)
    assert_close(a, b)
    m.train()
    outs = [m(x)[0] for _ in range(4)]
    assert any((o - outs[0]).abs().max().item() > 0 for o in outs[1:])


def test_lstm_trains():
    rg.manual_seed(0)
    model = nn.LSTM(1, 8, batch_first=True)
    head = nn.Linear(8, 1)
    params = list(model.parameters()) + list(head.parameters())
    opt = rg.optim.Adam(params, lr=0.05)
    x = rg.linspace(0, 6, 20).sin().reshape(1, 20, 1).repeat(4, 1, 1)
    losses = []
    for _ in range(60):
        out, _ = model(x[:, :-1])
        loss = ((head(out) - x[:, 1:]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0]


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"num_layers": 2}, {"bidirectional": True}, {"batch_first": True}, {"dtype": "double"}],
)
def test_lstm_output_node_is_named_as_pytorch(kwargs):
    """PyTorch runs a float32 CPU LSTM layer as one oneDNN call (``MkldnnRnnLayerBackward0``);
    ours is one node of that name too, whose gradient is the stacked steps' (checked against
    the same LSTM in float64)."""
    kwargs = dict(kwargs)
    double = kwargs.pop("dtype", None) == "double"
    rg.manual_seed(0)
    ours = nn.LSTM(3, 4, **kwargs)
    theirs = torch.nn.LSTM(3, 4, **kwargs)
    if double:
        ours, theirs = ours.double(), theirs.double()
    x = rg.randn(5, 2, 3, dtype=rg.float64 if double else rg.float32, requires_grad=True)
    out, _ = ours(x)
    tout, _ = theirs(torch.tensor(x.detach().numpy()))
    assert out.grad_fn.name() == tout.grad_fn.name()
    wide = ours.double()
    xd = x.detach().double().requires_grad_()
    (g32,) = rg.autograd.grad(out.pow(2).sum(), x)
    (g64,) = rg.autograd.grad(wide(xd)[0].pow(2).sum(), xd)
    assert_close(g32.double(), g64, rtol=1e-4, atol=1e-6)


# ----- the fused float32 CPU LSTM layer (one kernel call forward and backward) ---------------


def _lstm_values(lib, state_dict, x, hx, kwargs, create_graph, double=False):
    """Outputs, first-order gradients of every input and parameter and (with
    ``create_graph``) the gradients of their squared norm, as NumPy arrays; in float64 with
    ``double``."""
    m = lib.nn.LSTM(x.shape[-1], 5, **kwargs)
    m.load_state_dict({k: lib.tensor(v) for k, v in state_dict.items()})
    cast = (lambda t: t.double()) if double else (lambda t: t)
    if double:
        m = m.double()
    xt = cast(lib.tensor(x)).requires_grad_()
    states = None if hx is None else tuple(cast(lib.tensor(a)).requires_grad_() for a in hx)
    out, (h, c) = m(xt, states)
    loss = (out**2).sum() + (h * 1.5).sum() + (c**3).sum()
    leaves = [xt, *m.parameters(), *(states or ())]
    grads = lib.autograd.grad(loss, leaves, create_graph=create_graph)
    values = [out, h, c, *grads]
    if create_graph:
        norm = sum((g**2).sum() for g in grads)
        values += lib.autograd.grad(norm, leaves, allow_unused=True)
    return [None if v is None else v.detach().numpy() for v in values], out.grad_fn


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("given_state", [False, True])
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"num_layers": 2}, {"bidirectional": True}, {"batch_first": True, "num_layers": 2}],
)
def test_fused_lstm_layer_matches_torch(kwargs, given_state, create_graph, seed):
    """A float32 CPU LSTM runs each layer as one fused node; values, gradients and second
    derivatives (through the differentiable form of its backward) are PyTorch's float64
    ones to float32 rounding: within 5e-5 of (|value| + 1), where PyTorch's own float32 LSTM
    strays by up to 3e-5 (seen over 30 seeds)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    theirs = torch.nn.LSTM(3, 5, **kwargs)
    state_dict = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    x = rng.standard_normal((4, 6, 3)).astype(np.float32)
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    batch = 4 if kwargs.get("batch_first") else 6
    hx = None
    if given_state:
        hx = [rng.standard_normal((layers, batch, 5)).astype(np.float32) for _ in range(2)]
    ours, node = _lstm_values(rg, state_dict, x, hx, kwargs, create_graph)
    ref, _ = _lstm_values(torch, state_dict, x, hx, kwargs, create_graph, double=True)
    if not kwargs:
        assert node.name() == "MkldnnRnnLayerBackward0"
    for a, b in zip(ours, ref):
        assert (a is None) == (b is None)
        if b is not None:
            assert a.dtype == np.float32
            assert np.all(np.abs(a - b) <= 5e-5 * (np.abs(b) + 1))


@pytest.mark.parametrize("reverse", [False, True])
def test_fused_lstm_layer_gradcheck_and_both_backward_forms_agree(reverse):
    """The fused layer in float64: gradcheck of its kernel backward, gradgradcheck through its
    differentiable backward, and the two backward forms equal to rounding."""
    from rustgrad.nn.modules.rnn import _lstm_layer_backward_composite, _mkldnn_rnn_layer

    layer = _mkldnn_rnn_layer()
    g = rg.Generator().manual_seed(1)
    steps, batch, hidden = 3, 2, 3
    shapes = [(steps, batch, 4 * hidden), (batch, hidden), (batch, hidden), (4 * hidden, hidden)]
    inputs = [rg.randn(*s, generator=g, dtype=rg.float64).mul(0.7).requires_grad_() for s in shapes]

    def run(*args):
        return layer.apply(*args, reverse)

    assert rg.autograd.gradcheck(run, inputs)
    assert rg.autograd.gradgradcheck(run, inputs)
    proj, h0, c0, w_hh = (t.detach() for t in inputs)
    out, c_n, cells, gates = rg._core._lstm_layer(proj, h0, c0, w_hh, reverse)
    d_out, d_cn = rg.randn(*out.shape, dtype=rg.float64), rg.randn(*c_n.shape, dtype=rg.float64)
    fused = rg._core._lstm_layer_backward(d_out, d_cn, h0, c0, w_hh, out, cells, gates, reverse)
    composite = _lstm_layer_backward_composite(proj, h0, c0, w_hh, d_out, d_cn, reverse)
    for a, b in zip(fused, composite):
        assert_close(a, b, rtol=1e-12, atol=1e-13)


def test_fused_lstm_layer_splits_the_batch_over_threads():
    """A batch large enough for the fused layer to run its rows on several threads (an uneven
    split, 17 + 16 rows) gives PyTorch's values and gradients."""
    torch.manual_seed(2)
    rng = np.random.default_rng(2)
    theirs = torch.nn.LSTM(8, 48, bidirectional=True)
    ours = nn.LSTM(8, 48, bidirectional=True)
    ours.load_state_dict({k: rg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    x = rng.standard_normal((5, 33, 8)).astype(np.float32)
    xr, xt = rg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (out_r, (h_r, c_r)), (out_t, (h_t, c_t)) = ours(xr), theirs(xt)
    for o, h, c in ((out_r, h_r, c_r), (out_t, h_t, c_t)):
        (o.tanh().sum() + h.sum() + (c * c).sum()).backward()
    np.testing.assert_allclose(out_r.detach().numpy(), out_t.detach().numpy(), atol=2e-6)
    np.testing.assert_allclose(xr.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(
            p.grad.numpy(), q.grad.numpy(), rtol=1e-4, atol=1e-4, err_msg=name
        )


@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
def test_empty_batch_and_empty_sequence_as_pytorch(cls):
    """A batch of 0 gives empty outputs and gradients; a sequence of length 0 is PyTorch's
    error."""
    for lib in (rg, torch):
        m = getattr(lib.nn, cls)(3, 4, num_layers=2, bidirectional=True)
        x = lib.zeros(3, 0, 3, requires_grad=True)
        out, _ = m(x)
        out.sum().backward()
        assert tuple(out.shape) == (3, 0, 8) and tuple(x.grad.shape) == (3, 0, 3)
        assert float(m.weight_hh_l0.grad.abs().sum()) == 0.0
    with raises(RuntimeError, "Expected sequence length to be larger than 0 in RNN"):
        getattr(nn, cls)(3, 4)(rg.zeros(0, 2, 3))


@pytest.mark.parametrize(
    "program",
    [
        lambda lib: lib.nn.LSTMCell(3, 4)(lib.ones(2, 5)),
        lambda lib: lib.nn.GRUCell(3, 4)(lib.ones(2, 5)),
        lambda lib: lib.nn.RNNCell(3, 4)(lib.ones(5)),
        lambda lib: lib.nn.LSTMCell(3, 4)(lib.ones(2, 3), (lib.ones(2, 5), lib.ones(2, 4))),
        lambda lib: lib.nn.LSTMCell(3, 4)(lib.ones(2, 3), (lib.ones(2, 4), lib.ones(2, 5))),
        lambda lib: lib.nn.LSTMCell(3, 4)(lib.ones(2, 3), (lib.ones(3, 4), lib.ones(2, 4))),
        lambda lib: lib.nn.GRUCell(3, 4)(lib.ones(2, 3), lib.ones(3, 4)),
        lambda lib: lib.nn.RNNCell(3, 4)(lib.ones(3), lib.ones(5)),
    ],
)
def test_cell_argument_errors_as_torch(program):
    from conftest import outcome

    def run(lib):
        return tuple(program(lib).shape)

    assert outcome(run, rg) == outcome(run, torch)


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
def test_dropout_between_layers_of_a_packed_input_draws_torchs_stream(mode):
    """PyTorch draws the dropout between layers of a packed input over its packed data
    (sum(lengths), H): outputs, final states and the random stream afterwards are PyTorch's."""
    results = []
    for lib in (rg, torch):
        lib.manual_seed(0)
        rnn = getattr(lib.nn, mode)(4, 5, num_layers=3, dropout=0.3, batch_first=True, bidirectional=mode == "GRU")  # fmt: skip
        x = lib.randn(3, 6, 4)
        packed = lib.nn.utils.rnn.pack_padded_sequence(x, lib.tensor([6, 2, 4]), batch_first=True, enforce_sorted=False)  # fmt: skip
        out, h = rnn(packed)
        h = h[0] if mode == "LSTM" else h
        results.append((out.data.detach().numpy(), h.detach().numpy(), lib.rand(3).numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
