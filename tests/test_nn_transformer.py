"""nn.TransformerEncoderLayer/Encoder/DecoderLayer/Decoder/Transformer against PyTorch: state
dicts load both ways, reprs, eval-mode outputs and input/parameter gradients in float64 (with
causal, float and key-padding masks, batch_first, norm_first, gelu, bias=False), the causal
mask helper, errors, and a tiny training loop in train mode."""

import warnings

import pytest
import rustgrad as rg
from conftest import assert_close, raises
from layers_util import load_from_torch, load_into_torch, to_rg
from rustgrad import nn

torch = pytest.importorskip("torch")

D, H, FF = 8, 2, 16


def _pair(make_t, make_r):
    """A PyTorch module (float64, eval) and ours with its weights."""
    torch.manual_seed(0)
    theirs = make_t().double().eval()
    ours = make_r().double().eval()
    load_from_torch(ours, theirs)
    return theirs, ours


def _check(theirs, ours, inputs, kwargs_t, kwargs_r):
    ts = [torch.randn(*s, dtype=torch.float64, requires_grad=True) for s in inputs]
    rs = [to_rg(t).requires_grad_() for t in ts]
    out_t = theirs(*ts, **kwargs_t)
    out_r = ours(*rs, **kwargs_r)
    assert_close(out_r, out_t.detach(), rtol=1e-9, atol=1e-11)
    g = torch.randn(out_t.shape, dtype=torch.float64)
    out_t.backward(g)
    out_r.backward(to_rg(g))
    for a, b in zip(rs, ts):
        assert_close(a.grad, b.grad, rtol=1e-8, atol=1e-10)
    params_t = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert_close(p.grad, params_t[name].grad, rtol=1e-8, atol=1e-10)


def _masks(seq, batch, name_mask, name_pad):
    causal = torch.nn.Transformer.generate_square_subsequent_mask(seq, dtype=torch.float64)
    pad = torch.zeros(batch, seq, dtype=torch.bool)
    pad[0, -2:] = True
    float_mask = torch.randn(seq, seq, dtype=torch.float64)
    cases = [
        {},
        {name_mask: causal},
        {name_mask: causal.isinf()},  # bool causal mask
        {name_mask: float_mask},
        {name_pad: pad},
        {name_mask: causal, name_pad: pad},
    ]
    return cases


def _to_rg_kwargs(kw):
    return {k: to_rg(v) if hasattr(v, "numpy") else v for k, v in kw.items()}


LAYER_OPTIONS = [
    {},
    {"batch_first": True},
    {"norm_first": True},
    {"activation": "gelu"},
    {"bias": False},
    {"layer_norm_eps": 1e-3, "dim_feedforward": 5},
]
IDS = ["default", "batch_first", "norm_first", "gelu", "no_bias", "eps_ff"]


@pytest.mark.parametrize("opts", LAYER_OPTIONS, ids=IDS)
@pytest.mark.parametrize("mask_case", range(6))
def test_encoder_layer_matches_torch(opts, mask_case):
    opts = {"dim_feedforward": FF, **opts}
    theirs, ours = _pair(
        lambda: torch.nn.TransformerEncoderLayer(D, H, **opts),
        lambda: nn.TransformerEncoderLayer(D, H, **opts),
    )
    seq, batch = 5, 3
    kw = _masks(seq, batch, "src_mask", "src_key_padding_mask")[mask_case]
    shape = (batch, seq, D) if opts.get("batch_first") else (seq, batch, D)
    _check(theirs, ours, [shape], kw, _to_rg_kwargs(kw))


@pytest.mark.parametrize("mask_case", range(6))
def test_encoder_matches_torch(mask_case):
    def make(lib):
        layer = lib.TransformerEncoderLayer(D, H, FF, batch_first=True)
        return lib.TransformerEncoder(layer, 2, norm=lib.LayerNorm(D), enable_nested_tensor=False)

    theirs, ours = _pair(lambda: make(torch.nn), lambda: make(nn))
    kw = _masks(5, 3, "mask", "src_key_padding_mask")[mask_case]
    _check(theirs, ours, [(3, 5, D)], kw, _to_rg_kwargs(kw))


def test_encoder_is_causal_and_unbatched():
    def make(lib):
        return lib.TransformerEncoder(lib.TransformerEncoderLayer(D, H, FF), 2, enable_nested_tensor=False)  # fmt: skip

    theirs, ours = _pair(lambda: make(torch.nn), lambda: make(nn))
    mask = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    kw = {"mask": mask, "is_causal": True}
    _check(theirs, ours, [(4, 2, D)], kw, _to_rg_kwargs(kw))
    _check(theirs, ours, [(4, D)], {}, {})


@pytest.mark.parametrize("opts", LAYER_OPTIONS, ids=IDS)
def test_decoder_layer_matches_torch(opts):
    opts = {"dim_feedforward": FF, **opts}
    theirs, ours = _pair(
        lambda: torch.nn.TransformerDecoderLayer(D, H, **opts),
        lambda: nn.TransformerDecoderLayer(D, H, **opts),
    )
    bf = opts.get("batch_first")
    tgt, mem = ((3, 4, D), (3, 6, D)) if bf else ((4, 3, D), (6, 3, D))
    pad = torch.zeros(3, 6, dtype=torch.bool)
    pad[1, :2] = True
    causal = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    for kw in ({}, {"tgt_mask": causal, "memory_key_padding_mask": pad, "tgt_is_causal": True}):
        theirs.zero_grad()
        ours.zero_grad()
        _check(theirs, ours, [tgt, mem], kw, _to_rg_kwargs(kw))


def test_decoder_matches_torch():
    def make(lib):
        layer = lib.TransformerDecoderLayer(D, H, FF)
        return lib.TransformerDecoder(layer, 2, norm=lib.LayerNorm(D))

    theirs, ours = _pair(lambda: make(torch.nn), lambda: make(nn))
    causal = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    mem_mask = torch.randn(4, 6, dtype=torch.float64)
    kw = {"tgt_mask": causal, "memory_mask": mem_mask}
    _check(theirs, ours, [(4, 2, D), (6, 2, D)], kw, _to_rg_kwargs(kw))


@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_matches_torch(batch_first):
    def make(lib):
        return lib.Transformer(D, H, 2, 1, FF, batch_first=batch_first)

    theirs, ours = _pair(lambda: make(torch.nn), lambda: make(nn))
    src, tgt = ((2, 6, D), (2, 4, D)) if batch_first else ((6, 2, D), (4, 2, D))
    tgt_mask = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    pad = torch.zeros(2, 6, dtype=torch.bool)
    pad[0, -1] = True
    kw = {"tgt_mask": tgt_mask, "src_key_padding_mask": pad, "memory_key_padding_mask": pad}
    _check(theirs, ours, [src, tgt], kw, _to_rg_kwargs(kw))


def test_state_dicts_load_both_ways_and_reprs_match():
    cases = [
        (lambda lib: lib.TransformerEncoderLayer(D, H, FF)),
        (lambda lib: lib.TransformerEncoderLayer(D, H, FF, activation=lib.GELU(), bias=False)),
        (lambda lib: lib.TransformerDecoderLayer(D, H, FF, norm_first=True)),
        (
            lambda lib: lib.TransformerEncoder(
                lib.TransformerEncoderLayer(D, H, FF), 2, enable_nested_tensor=False
            )
        ),
        (
            lambda lib: lib.TransformerDecoder(
                lib.TransformerDecoderLayer(D, H, FF), 2, lib.LayerNorm(D)
            )
        ),
        (lambda lib: lib.Transformer(D, H, 1, 2, FF)),
    ]
    for make in cases:
        theirs, ours = make(torch.nn), make(nn)
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        for (k, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
            assert tuple(a.shape) == tuple(b.shape), k
        load_into_torch(theirs, ours)
        load_from_torch(ours, theirs)
        for a, b in zip(ours.state_dict().values(), theirs.state_dict().values()):
            assert_close(a, b)


def test_default_init_distribution():
    """Transformer re-draws every matrix by xavier_uniform_: bound sqrt(6 / (fan_in + fan_out));
    biases of the attention are zeros, LayerNorm ones/zeros."""
    model = nn.Transformer(16, 2, 1, 1, 32)
    for name, p in model.named_parameters():
        values = p.detach().numpy()
        if p.dim() > 1:
            bound = (6 / (p.shape[0] + p.shape[1])) ** 0.5
            assert abs(values).max() <= bound
            assert abs(values).max() > 0.8 * bound, name
            assert abs(values.mean()) < 0.2 * bound, name
        elif name.endswith(("in_proj_bias", "out_proj.bias")):
            assert (values == 0).all()
    layer = nn.TransformerEncoderLayer(16, 2, 32)
    bound = 1 / 16**0.5  # Linear's kaiming-uniform bias bound, 1/sqrt(fan_in)
    b = layer.linear1.bias.detach().numpy()
    assert abs(b).max() <= bound and abs(b).max() > 0.5 * bound


def test_generate_square_subsequent_mask():
    ours = nn.Transformer.generate_square_subsequent_mask(5)
    theirs = torch.nn.Transformer.generate_square_subsequent_mask(5)
    assert ours.dtype == rg.float32
    assert_close(ours, theirs)
    ours = nn.Transformer.generate_square_subsequent_mask(3, dtype=rg.float64)
    assert ours.dtype == rg.float64


def test_errors_match_torch():
    for lib, exc in ((torch.nn, RuntimeError), (nn, RuntimeError)):
        with pytest.raises(exc, match="activation should be relu/gelu, not tanh"):
            lib.TransformerEncoderLayer(D, H, activation="tanh")
    model = nn.Transformer(D, H, 1, 1, FF)
    with raises(RuntimeError, "the batch number of src and tgt must be equal"):
        model(rg.randn(5, 2, D), rg.randn(4, 3, D))
    with raises(RuntimeError, "the feature number of src and tgt must be equal to d_model"):
        model(rg.randn(5, 2, D), rg.randn(4, 2, D + 1))
    with raises(AssertionError, "embed_dim must be divisible by num_heads"):
        nn.TransformerEncoderLayer(D, 3)


def test_mask_dtype_and_embedding_errors_as_torch():
    def make(lib):
        layer = lib.TransformerEncoderLayer(D, H, FF)
        return lib.TransformerEncoder(layer, 1, enable_nested_tensor=False)

    cases = [
        ("encoder", {"src_key_padding_mask": ("long", (2, 3))}),
        ("encoder", {"mask": ("long", (3, 3))}),
        ("layer", {"src_mask": ("long", (3, 3))}),
        ("layer", {"src_key_padding_mask": ("int32", (2, 3))}),
        ("decoder", {"tgt_mask": ("long", (3, 3))}),
        ("decoder", {"memory_key_padding_mask": ("int32", (2, 3))}),
    ]
    for where, masks in cases:
        messages = []
        for lib, tensor_lib in ((torch.nn, torch), (nn, rg)):
            enc = make(lib)
            module = {"encoder": enc, "layer": enc.layers[0], "decoder": lib.TransformerDecoderLayer(D, H, FF)}[where]  # fmt: skip
            x = tensor_lib.zeros(3, 2, D)
            kw = {k: tensor_lib.zeros(*s, dtype=getattr(tensor_lib, d)) for k, (d, s) in masks.items()}  # fmt: skip
            args = (x, x) if where == "decoder" else (x,)
            with pytest.raises(AssertionError) as info:
                module(*args, **kw)
            messages.append(str(info.value))
        assert messages[0] == messages[1]
    for lib, tensor_lib in ((torch.nn, torch), (nn, rg)):
        with pytest.raises(AssertionError, match="was expecting embedding dimension of 8, but got 9"):  # fmt: skip
            make(lib)(tensor_lib.zeros(3, 2, D + 1))


def test_nested_tensor_warning_as_torch():
    for lib in (torch.nn, nn):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.TransformerEncoder(lib.TransformerEncoderLayer(D, H, FF), 2)
        messages = [str(w.message) for w in caught]
        assert any("self.use_nested_tensor is False because encoder_layer.self_attn.batch_first was not True" in m for m in messages)  # fmt: skip
    layer = nn.TransformerEncoderLayer(D, H, FF, batch_first=True)
    enc = nn.TransformerEncoder(layer, 2)
    assert enc.use_nested_tensor and enc.enable_nested_tensor


def test_layers_are_independent_copies():
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(D, H, FF), 3, enable_nested_tensor=False)  # fmt: skip
    assert len(enc.layers) == 3
    w0, w1 = enc.layers[0].linear1.weight, enc.layers[1].linear1.weight
    assert w0 is not w1
    with rg.no_grad():
        w0.add_(1.0)
    assert not bool((w0 == w1).all())


def test_train_mode_loss_decreases():
    rg.manual_seed(0)
    model = nn.Transformer(D, H, 1, 1, FF, dropout=0.1, batch_first=True)
    head = nn.Linear(D, 1)
    params = list(model.parameters()) + list(head.parameters())
    opt = rg.optim.Adam(params, lr=1e-2)
    src, tgt = rg.randn(4, 6, D), rg.randn(4, 5, D)
    target = rg.randn(4, 5, 1)
    mask = nn.Transformer.generate_square_subsequent_mask(5)
    model.train()
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = ((head(model(src, tgt, tgt_mask=mask)) - target) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
