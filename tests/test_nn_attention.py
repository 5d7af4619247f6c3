"""F.scaled_dot_product_attention and nn.MultiheadAttention against PyTorch (masks, causal,
scale, batch_first, kdim/vdim, padding masks, head weights), gradcheck in float64, CPU vs CUDA,
and a small transformer block that trains."""

import numpy as np
import pytest
import rustgrad as rg
import rustgrad.nn.functional as F
from conftest import DEVICES, assert_close, raises
from layers_util import load_from_torch, load_into_torch, to_rg
from rustgrad import nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _masks():
    bool_mask = torch.rand(4, 6) > 0.3
    bool_mask[:, 0] = True  # every row attends somewhere
    return [
        {},
        {"is_causal": True},
        {"attn_mask": bool_mask},
        {"attn_mask": torch.randn(4, 6, dtype=torch.float64)},
        {"scale": 0.3},
    ]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kw", _masks(), ids=["plain", "causal", "bool", "float", "scale"])
def test_sdpa_matches_torch(device, kw):
    q = torch.randn(2, 3, 4, 5, dtype=torch.float64, requires_grad=True)
    k = torch.randn(2, 3, 6, 5, dtype=torch.float64, requires_grad=True)
    v = torch.randn(2, 3, 6, 7, dtype=torch.float64, requires_grad=True)
    rkw = {n: to_rg(m, device) if hasattr(m, "numpy") else m for n, m in kw.items()}
    qr, kr, vr = (to_rg(t, device).requires_grad_() for t in (q, k, v))
    out_t = TF.scaled_dot_product_attention(q, k, v, **kw)
    out_r = F.scaled_dot_product_attention(qr, kr, vr, **rkw)
    assert_close(out_r.cpu(), out_t, rtol=1e-10, atol=1e-12)
    g = torch.randn(out_t.shape, dtype=torch.float64)
    out_t.backward(g)
    out_r.backward(to_rg(g, device))
    for a, b in ((qr, q), (kr, k), (vr, v)):
        assert_close(a.grad.cpu(), b.grad, rtol=1e-9, atol=1e-12)


def test_sdpa_gradcheck_and_errors():
    q, k, v = (rg.randn(2, 3, 4, dtype=rg.float64, requires_grad=True) for _ in range(3))
    mask = rg.randn(3, 3, dtype=rg.float64)
    assert rg.autograd.gradcheck(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, mask), (q, k, v)
    )
    assert rg.autograd.gradgradcheck(
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), (q, k, v)
    )
    with raises(RuntimeError, "Explicit attn_mask should not be set when is_causal=True"):
        F.scaled_dot_product_attention(q, k, v, mask, is_causal=True)


def test_sdpa_dropout_only_scales_kept_weights():
    q = k = rg.zeros(1, 50, 4)
    v = rg.ones(1, 50, 4)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    # uniform weights 1/50 each, kept ones scaled by 2: every output is (kept count) * 2 / 50
    counts = (out[0, :, 0] * 25).round()
    assert_close(out[0, :, 0], counts / 25, rtol=1e-5)
    assert 10 < counts.mean().item() < 40


def test_mha_names_repr_init():
    ours, theirs = nn.MultiheadAttention(8, 2), torch.nn.MultiheadAttention(8, 2)
    assert repr(ours) == repr(theirs)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in theirs.named_parameters()
    ]
    assert ours.in_proj_bias.abs().sum().item() == 0 and ours.out_proj.bias.abs().sum().item() == 0
    bound = (6 / (8 + 24)) ** 0.5  # xavier_uniform_ on (3E, E)
    assert ours.in_proj_weight.abs().max().item() <= bound
    load_into_torch(theirs, ours)
    ours_kv = nn.MultiheadAttention(8, 2, kdim=3, vdim=5, bias=False)
    theirs_kv = torch.nn.MultiheadAttention(8, 2, kdim=3, vdim=5, bias=False)
    assert list(ours_kv.state_dict()) == list(theirs_kv.state_dict())
    assert ours_kv.in_proj_weight is None
    # The learned key and value: PyTorch's names, shapes, order and xavier-normal draws.
    torch.manual_seed(3)
    theirs_b = torch.nn.MultiheadAttention(8, 2, add_bias_kv=True, add_zero_attn=True)
    rg.manual_seed(3)
    ours_b = nn.MultiheadAttention(8, 2, add_bias_kv=True, add_zero_attn=True)
    assert repr(ours_b) == repr(theirs_b)
    for (name_r, p_r), (name_t, p_t) in zip(ours_b.named_parameters(), theirs_b.named_parameters()):  # fmt: skip
        assert name_r == name_t
        assert_close(p_r, p_t.detach())


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(
    "ctor, call",
    [
        ({}, {}),
        ({"batch_first": True}, {"need_weights": False}),
        ({"kdim": 3, "vdim": 5}, {"average_attn_weights": False}),
        ({}, {"key_padding_mask": "pad"}),
        ({}, {"attn_mask": "bool"}),
        ({"bias": False}, {"attn_mask": "float", "key_padding_mask": "pad"}),
        ({}, {"is_causal": True, "attn_mask": "causal"}),
        ({"add_bias_kv": True}, {"attn_mask": "bool", "key_padding_mask": "pad"}),
        ({"add_zero_attn": True, "batch_first": True}, {"attn_mask": "float"}),
        (
            {"add_bias_kv": True, "add_zero_attn": True, "kdim": 3, "vdim": 5},
            {"key_padding_mask": "pad", "average_attn_weights": False},
        ),
    ],
)
def test_mha_matches_torch(device, ctor, call):
    theirs = torch.nn.MultiheadAttention(8, 2, **ctor).double()
    ours = load_from_torch(nn.MultiheadAttention(8, 2, **ctor).to(device).double(), theirs, device)
    kdim, vdim = ctor.get("kdim", 8), ctor.get("vdim", 8)
    batch_first = ctor.get("batch_first", False)
    lq, ls, n = 3, 4, 2
    shape = (
        (lambda length, e: (n, length, e)) if batch_first else (lambda length, e: (length, n, e))
    )
    q = torch.randn(shape(lq, 8), dtype=torch.float64, requires_grad=True)
    k = torch.randn(shape(ls, kdim), dtype=torch.float64, requires_grad=True)
    v = torch.randn(shape(ls, vdim), dtype=torch.float64, requires_grad=True)
    masks = {
        "pad": torch.tensor([[False, False, True, False], [False, True, True, False]]),
        "bool": torch.tensor([[False, True, False, False]] * lq),
        "float": torch.randn(lq, ls, dtype=torch.float64),
        "causal": torch.ones(lq, ls, dtype=torch.bool).triu(1),
    }
    call_t = {
        key: masks.get(val, val) if isinstance(val, str) else val for key, val in call.items()
    }
    call_r = {
        key: to_rg(val, device) if hasattr(val, "numpy") else val for key, val in call_t.items()
    }
    qr, kr, vr = (to_rg(t, device).requires_grad_() for t in (q, k, v))
    out_t, w_t = theirs(q, k, v, **call_t)
    out_r, w_r = ours(qr, kr, vr, **call_r)
    assert_close(out_r.cpu(), out_t, rtol=1e-10, atol=1e-12)
    if w_t is None:
        assert w_r is None
    else:
        assert_close(w_r.cpu(), w_t, rtol=1e-10, atol=1e-12)
    g = torch.randn(out_t.shape, dtype=torch.float64)
    out_t.backward(g)
    out_r.backward(to_rg(g, device))
    for a, b in ((qr, q), (kr, k), (vr, v)):
        assert_close(a.grad.cpu(), b.grad, rtol=1e-9, atol=1e-12)
    ours_p = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        assert_close(ours_p[name].grad.cpu(), p.grad, rtol=1e-9, atol=1e-12)


def test_mha_unbatched_gradcheck_and_errors():
    m = nn.MultiheadAttention(4, 2).double()
    x = rg.randn(3, 4, dtype=rg.float64, requires_grad=True)
    assert rg.autograd.gradcheck(lambda x: m(x, x, x)[0], (x,))
    with raises(AssertionError, "was expecting embedding dimension of 4, but got 3"):
        m(rg.randn(3, 1, 3), rg.randn(3, 1, 3), rg.randn(3, 1, 3))
    with raises(AssertionError, "embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(5, 2)
    with raises(RuntimeError, "The shape of the 2D attn_mask is (2, 2), but should be (3, 3)."):
        m(x.unsqueeze(1), x.unsqueeze(1), x.unsqueeze(1), attn_mask=rg.zeros(2, 2))


class Block(nn.Module):
    """A pre-norm transformer block: attention and an MLP, each with a residual."""

    def __init__(self, d, heads):
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x, mask):
        h = self.ln1(x)
        x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        return x + self.mlp(self.ln2(x))


def test_small_transformer_block_trains():
    rg.manual_seed(0)
    vocab, d, length = 11, 16, 8
    emb, pos = nn.Embedding(vocab, d), nn.Embedding(length, d)
    block, head = Block(d, 2), nn.Linear(d, vocab)
    params = [p for m in (emb, pos, block, head) for p in m.parameters()]
    opt = rg.optim.Adam(params, lr=0.01)
    mask = rg.ones(length, length, dtype=rg.bool).triu(1)
    # next token is (token + 1) mod vocab
    seq = rg.randint(0, vocab, (16, 1)) + rg.arange(length + 1)
    seq = seq.remainder(vocab)
    x, y = seq[:, :-1], seq[:, 1:]
    losses = []
    for _ in range(40):
        logits = head(block(emb(x) + pos(rg.arange(length)), mask))
        loss = F.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0]


def test_attention_weights_returned_in_training_are_the_dropped_ones_as_pytorch():
    """PyTorch returns the weights after dropout; with its stream, the same ones drop."""
    outs = []
    for lib in (rg, torch):
        lib.manual_seed(0)
        m = lib.nn.MultiheadAttention(4, 2, dropout=0.5)
        x = lib.randn(3, 2, 4)
        out, weights = m(x, x, x, average_attn_weights=False)
        outs.append((out.detach().numpy(), weights.detach().numpy()))
    (out, weights), (t_out, t_weights) = outs
    assert ((weights == 0) == (t_weights == 0)).all() and (weights == 0).any()
    np.testing.assert_allclose(weights, t_weights, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out, t_out, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mask_kind", ["bool", "float"])
def test_sdpa_query_with_every_key_masked_attends_to_nothing_as_torch(mask_kind):
    """PyTorch's safe softmax: a fully masked query row gives 0 (and a zero gradient)."""
    results = []
    for lib in (torch, rg):
        q = lib.arange(4, dtype=lib.float64).reshape(1, 1, 2, 2).requires_grad_()
        k = lib.ones(1, 1, 3, 2, dtype=lib.float64)
        v = lib.arange(6, dtype=lib.float64).reshape(1, 1, 3, 2).requires_grad_()
        keep = lib.tensor([[True, False, True], [False, False, False]])
        mask = (
            keep
            if mask_kind == "bool"
            else lib.zeros(2, 3, dtype=lib.float64).masked_fill(keep.logical_not(), float("-inf"))
        )
        out = lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        grads = lib.autograd.grad(out.sum(), [q, v])
        results.append([out.detach().numpy(), *(g.numpy() for g in grads)])
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def _fully_masked_mha(lib, mask_kind, need_weights):
    lib.manual_seed(0)
    mha = lib.nn.MultiheadAttention(4, 2, batch_first=True)
    with lib.no_grad():
        for i, p in enumerate(mha.parameters()):
            p.copy_(lib.linspace(-0.3, 0.2 + 0.1 * i, p.numel()).reshape(p.shape))
    x = lib.linspace(-1, 1, 24).reshape(2, 3, 4).requires_grad_()
    kw = {"need_weights": need_weights}
    if mask_kind == "key_padding":
        kw["key_padding_mask"] = lib.tensor([[False, False, True], [True, True, True]])
    else:
        kw["attn_mask"] = lib.tensor([[False, True, False], [True, True, True], [False, False, False]])  # fmt: skip
    out, _ = mha(x, x, x, **kw)
    out.sum().backward()
    return out.detach().numpy(), x.grad.numpy(), mha.in_proj_weight.grad.numpy()


@pytest.mark.parametrize("mask_kind", ["key_padding", "attn_mask"])
def test_multihead_attention_fully_masked_rows_as_torch(mask_kind):
    # without weights PyTorch runs scaled_dot_product_attention: a query with every key
    # masked attends to nothing (0), and no NaN reaches the gradients
    ours = _fully_masked_mha(rg, mask_kind, need_weights=False)
    theirs = _fully_masked_mha(torch, mask_kind, need_weights=False)
    for a, b in zip(ours, theirs):
        assert np.isfinite(a).all()
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "shapes",
    [
        ((1, 4, 3, 5), (1, 2, 3, 5), (1, 2, 3, 5)),
        ((4, 3, 5), (2, 3, 5), (1, 3, 5)),
        ((1, 4, 3, 5), (1, 3, 3, 5), (1, 3, 3, 5)),
    ],
)
def test_scaled_dot_product_attention_grouped_query_as_torch(shapes):
    from conftest import outcome

    def run(lib):
        gen = np.random.default_rng(0)
        q, k, v = (lib.tensor(gen.standard_normal(s), requires_grad=True) for s in shapes)
        out = lib.nn.functional.scaled_dot_product_attention(q, k, v, enable_gqa=True)
        out.sum().backward()
        return [t.detach().numpy().round(10).tolist() for t in (out, q.grad, k.grad, v.grad)]

    assert outcome(run, rg) == outcome(run, torch)
