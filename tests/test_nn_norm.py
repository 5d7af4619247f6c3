"""Embedding, lazy modules, BatchNorm/LayerNorm/GroupNorm and channel dropout against PyTorch:
names, shapes, initialisation, repr, state dicts both ways, forward/backward values, gradcheck
in float64, errors, and CPU vs CUDA."""

import math
import warnings

import numpy as np
import pytest
import rustgrad as rg
import rustgrad.nn.functional as F
from conftest import DEVICES, assert_close, raises
from layers_util import load_from_torch, load_into_torch, to_rg
from rustgrad import nn

torch = pytest.importorskip("torch")


def _compare_module(ours, theirs, x, device="cpu", rtol=1e-10, atol=1e-12):
    """Forward and backward (input and parameter gradients) of ``ours`` vs ``theirs``."""
    xt = x.clone().requires_grad_(x.is_floating_point())
    xr = to_rg(x, device).requires_grad_(x.is_floating_point())
    yt, yr = theirs(xt), ours(xr)
    assert_close(yr.cpu(), yt, rtol=rtol, atol=atol)
    gt = torch.randn(yt.shape, dtype=yt.dtype)
    yt.backward(gt)
    yr.backward(to_rg(gt, device))
    if x.is_floating_point():
        assert_close(xr.grad.cpu(), xt.grad, rtol=rtol, atol=atol)
    ours_p = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        if p.grad is None:
            assert ours_p[name].grad is None or not ours_p[name].grad.abs().sum().item()
        else:
            assert_close(ours_p[name].grad.cpu(), p.grad, rtol=rtol, atol=atol)


# ----- Embedding ------------------------------------------------------------------------------


def test_embedding_names_init_repr():
    m = nn.Embedding(10, 3, padding_idx=2)
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    assert m.weight.shape == (10, 3)
    assert m.weight[2].abs().sum().item() == 0
    assert repr(m) == repr(torch.nn.Embedding(10, 3, padding_idx=2))
    for kw in [{}, {"max_norm": 1.0}, {"norm_type": 1.0}, {"padding_idx": -1}]:
        assert repr(nn.Embedding(5, 4, **kw)) == repr(torch.nn.Embedding(5, 4, **kw))
    # N(0, 1) entries, as PyTorch draws them
    big = nn.Embedding(1000, 100).weight
    assert abs(big.mean().item()) < 0.01 and abs(big.std().item() - 1) < 0.01


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("padding_idx", [None, 0, -1])
def test_embedding_matches_torch(device, padding_idx):
    theirs = torch.nn.Embedding(7, 4, padding_idx=padding_idx).double()
    ours = load_from_torch(
        nn.Embedding(7, 4, padding_idx=padding_idx).to(device).double(), theirs, device
    )
    idx = torch.tensor([[0, 6, 3], [6, 6, 1]])
    _compare_module(ours, theirs, idx, device)
    # the padding row gets no gradient
    if padding_idx is not None:
        assert ours.weight.grad[padding_idx].abs().sum().item() == 0


def test_embedding_state_dict_to_torch_and_from_pretrained():
    ours = nn.Embedding(6, 2)
    theirs = load_into_torch(torch.nn.Embedding(6, 2), ours)
    idx = [1, 5, 5]
    assert_close(ours(rg.tensor(idx)), theirs(torch.tensor(idx)))
    w = rg.randn(4, 3, dtype=rg.float64)
    frozen = nn.Embedding.from_pretrained(w)
    assert not frozen.weight.requires_grad and repr(frozen) == "Embedding(4, 3)"
    assert_close(frozen(rg.tensor([3, 0])), w.index_select(0, rg.tensor([3, 0])))
    assert nn.Embedding.from_pretrained(w, freeze=False).weight.requires_grad


def test_embedding_gradcheck_and_max_norm():
    w = rg.randn(5, 3, dtype=rg.float64, requires_grad=True)
    idx = rg.tensor([[1, 4], [4, 0]])
    # (not with padding_idx: its row is deliberately left out of the gradient, as in PyTorch)
    assert rg.autograd.gradcheck(lambda w: F.embedding(idx, w), (w,))
    assert rg.autograd.gradgradcheck(lambda w: F.embedding(idx, w) ** 2, (w,))
    wt = torch.randn(5, 3, dtype=torch.float64) * 3
    wr = to_rg(wt)
    out_t = torch.nn.functional.embedding(torch.tensor([1, 1, 3]), wt, max_norm=1.5)
    out_r = F.embedding(rg.tensor([1, 1, 3]), wr, max_norm=1.5)
    assert_close(out_r, out_t)
    assert_close(wr, wt)  # rows renormalised in place, the others untouched


def test_embedding_errors():
    m = nn.Embedding(3, 2)
    with raises(IndexError, "index out of range in self"):
        m(rg.tensor([3]))
    with raises(RuntimeError, "Expected tensor for argument #1 'indices'"):
        m(rg.tensor([1.0]))
    with raises(AssertionError, "Padding_idx must be within num_embeddings"):
        nn.Embedding(3, 2, padding_idx=3)


# ----- lazy modules ---------------------------------------------------------------------------


def test_lazy_linear_materialises_at_first_call():
    m = nn.LazyLinear(4)
    assert (
        repr(m)
        == repr(torch.nn.LazyLinear(4))
        == "LazyLinear(in_features=0, out_features=4, bias=True)"
    )
    assert m.has_uninitialized_params()
    assert isinstance(m.weight, nn.UninitializedParameter)
    y = m(rg.randn(2, 5))
    assert y.shape == (2, 4)
    assert type(m) is nn.Linear and type(m.weight) is nn.Parameter
    assert m.weight.shape == (4, 5) and m.bias.shape == (4,)
    assert repr(m) == "Linear(in_features=5, out_features=4, bias=True)"
    bound = 1 / np.sqrt(5)
    assert m.weight.abs().max().item() <= bound and m.bias.abs().max().item() <= bound
    y.sum().backward()
    assert m.weight.grad.shape == (4, 5)
    theirs = load_into_torch(torch.nn.Linear(5, 4).double(), m.double())
    x = torch.randn(3, 5, dtype=torch.float64)
    assert_close(m(to_rg(x)), theirs(x))


def test_lazy_linear_in_sequential_without_bias():
    model = nn.Sequential(nn.LazyLinear(3, bias=False), nn.ReLU(), nn.LazyLinear(1))
    model(rg.randn(2, 7))
    assert [tuple(p.shape) for p in model.parameters()] == [(3, 7), (1, 3), (1,)]
    assert not any(isinstance(p, nn.UninitializedParameter) for p in model.parameters())


# ----- normalisation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda nn: nn.LayerNorm(4),
        lambda nn: nn.LayerNorm((3, 4), eps=1e-3, elementwise_affine=False),
        lambda nn: nn.LayerNorm(4, bias=False),
        lambda nn: nn.GroupNorm(2, 6),
        lambda nn: nn.GroupNorm(3, 6, affine=False),
        lambda nn: nn.BatchNorm1d(3),
        lambda nn: nn.BatchNorm2d(3, momentum=None),
        lambda nn: nn.BatchNorm2d(3, affine=False, track_running_stats=False),
    ],
)
def test_norm_layers_repr_and_state_dict_keys(make):
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (k, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
        assert tuple(a.shape) == tuple(b.shape), k
        assert_close(a, b)  # the initial values are deterministic (ones, zeros, counters)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda nn: nn.LayerNorm(4), (2, 3, 4)),
        (lambda nn: nn.LayerNorm((3, 4)), (2, 3, 4)),
        (lambda nn: nn.GroupNorm(2, 6), (2, 6, 5)),
        (lambda nn: nn.GroupNorm(3, 6), (2, 6, 2, 3)),
    ],
)
def test_layer_and_group_norm_match_torch(device, make, shape):
    theirs = make(torch.nn).double()
    with torch.no_grad():
        for p in theirs.parameters():
            p.normal_()
    ours = load_from_torch(make(nn).to(device).double(), theirs, device)
    _compare_module(ours, theirs, torch.randn(shape, dtype=torch.float64), device)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize(
    "cls, shape",
    [("BatchNorm1d", (5, 3)), ("BatchNorm1d", (4, 3, 6)), ("BatchNorm2d", (4, 3, 2, 5))],
)
def test_batch_norm_training_and_eval_match_torch(device, momentum, cls, shape):
    theirs = getattr(torch.nn, cls)(3, momentum=momentum).double()
    with torch.no_grad():
        theirs.weight.normal_()
        theirs.bias.normal_()
    ours = load_from_torch(
        getattr(nn, cls)(3, momentum=momentum).to(device).double(), theirs, device
    )
    for _ in range(3):  # running statistics over several batches
        _compare_module(ours, theirs, torch.randn(shape, dtype=torch.float64) * 2 + 1, device)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        assert_close(getattr(ours, name).cpu(), getattr(theirs, name), rtol=1e-12)
    ours.eval()
    theirs.eval()
    _compare_module(ours, theirs, torch.randn(shape, dtype=torch.float64), device)
    load_into_torch(theirs, ours)  # and back


def test_batch_norm_without_running_stats_uses_batch_stats_in_eval():
    theirs = torch.nn.BatchNorm1d(3, track_running_stats=False).double().eval()
    ours = nn.BatchNorm1d(3, track_running_stats=False).double().eval()
    _compare_module(ours, theirs, torch.randn(4, 3, dtype=torch.float64))


def test_norm_gradcheck_float64():
    x = rg.randn(4, 6, 3, dtype=rg.float64, requires_grad=True)
    w = rg.randn(6, dtype=rg.float64, requires_grad=True)
    b = rg.randn(6, dtype=rg.float64, requires_grad=True)
    w3 = rg.randn(3, dtype=rg.float64, requires_grad=True)
    fns = [
        lambda x, w, b: F.layer_norm(x, (3,), w3, None),
        lambda x, w, b: F.group_norm(x, 3, w, b),
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
    ]
    for fn in fns:
        assert rg.autograd.gradcheck(fn, (x, w, b))
        assert rg.autograd.gradgradcheck(fn, (x, w, b))


def test_norm_errors_match_torch():
    with raises(
        RuntimeError,
        "Given normalized_shape=[4], expected input with shape [*, 4], but got input of size[2, 3]",
    ):
        nn.LayerNorm(4)(rg.randn(2, 3))
    with raises(ValueError, "num_channels (6) must be divisible by num_groups (4)"):
        nn.GroupNorm(4, 6)
    with raises(
        ValueError, "Expected more than 1 value per channel when training, got input size [1, 2]"
    ):
        F.group_norm(rg.randn(1, 2), 2)
    with raises(ValueError, "expected 4D input (got 3D input)"):
        nn.BatchNorm2d(3)(rg.randn(2, 3, 4))
    with raises(ValueError, "expected 2D or 3D input (got 4D input)"):
        nn.BatchNorm1d(3)(rg.randn(2, 3, 4, 4))
    with raises(
        ValueError,
        "Expected more than 1 value per channel when training, got input size torch.Size([1, 3])",
    ):
        nn.BatchNorm1d(3)(rg.randn(1, 3))


# ----- channel dropout ------------------------------------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
def test_dropout2d_zeroes_whole_channels(device):
    m = nn.Dropout2d(0.5)
    assert repr(m) == repr(torch.nn.Dropout2d(0.5))
    x = rg.ones(8, 16, 3, 3, device=device)
    y = m(x).cpu()
    per_channel = y.reshape(8, 16, 9)
    values = set(np.unique(per_channel.numpy()).tolist())
    assert values <= {0.0, 2.0}
    # each channel is all kept or all dropped
    assert (per_channel.amax(2) == per_channel.amin(2)).all().item()
    assert 0.3 < (per_channel[:, :, 0] == 0).double().mean().item() < 0.7
    m.eval()
    assert m(x) is x


def test_dropout1d_shapes_and_errors():
    y = nn.Dropout1d(0.5)(rg.ones(4, 10, 7))
    flat = y.reshape(40, 7)
    assert (flat.amax(1) == flat.amin(1)).all().item()
    y = F.dropout1d(rg.ones(10, 7), 0.5)  # unbatched (C, L)
    assert (y.amax(1) == y.amin(1)).all().item()
    with raises(RuntimeError, "dropout1d: Expected 2D or 3D input"):
        F.dropout1d(rg.ones(2, 3, 4, 5))


def test_a_lazy_module_loads_a_state_dict_before_its_first_call():
    # PyTorch's _lazy_load_hook: the uninitialised parameters take the checkpoint's shapes,
    # the module stays lazy (in_features=0) until it is called.
    trained = nn.Sequential(nn.LazyLinear(5), nn.ReLU(), nn.LazyLinear(2))
    x = rg.randn(3, 4)
    want = trained(x)
    fresh = nn.Sequential(nn.LazyLinear(5), nn.ReLU(), nn.LazyLinear(2))
    fresh.load_state_dict(trained.state_dict())
    reference = torch.nn.Sequential(torch.nn.LazyLinear(5), torch.nn.ReLU(), torch.nn.LazyLinear(2))
    reference.load_state_dict({k: torch.tensor(v.numpy()) for k, v in trained.state_dict().items()})
    assert repr(fresh) == repr(reference).replace("torch.", "rustgrad.")
    assert_close(fresh(x), want, rtol=0, atol=0)
    reference(torch.tensor(x.numpy()))
    assert repr(fresh) == repr(reference)  # both plain Linear(in_features=0, ...) now


@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 3, 0)])
def test_batch_norm_of_an_empty_batch_as_torch(shape, training):
    results = []
    for lib in (rg, torch):
        x = lib.zeros(*shape, dtype=lib.float64).requires_grad_()
        w = lib.ones(3, dtype=lib.float64).requires_grad_()
        b = lib.zeros(3, dtype=lib.float64).requires_grad_()
        rm, rv = lib.zeros(3, dtype=lib.float64), lib.ones(3, dtype=lib.float64)
        out = lib.nn.functional.batch_norm(x, rm, rv, w, b, training)
        out.sum().backward()
        results.append(
            (tuple(out.shape), rm.tolist(), rv.tolist(), w.grad.tolist(), b.grad.tolist())
        )
    assert results[0] == results[1]


@pytest.mark.filterwarnings("ignore:dropout2d")
@pytest.mark.parametrize("shape", [(2, 6), (2, 3, 4), (2, 3, 2, 2), (1, 2, 2, 2, 2)])
def test_dropout2d_reads_any_input_as_n_c_star_as_pytorch(shape):
    """PyTorch's ``feature_dropout``: one draw per (N, C) pair whatever the rank (a 2-D input
    is dropped element by element), the same draws (the CPU streams are PyTorch's)."""
    rg.manual_seed(5)
    torch.manual_seed(5)
    ours = F.dropout2d(rg.ones(*shape), 0.4)
    theirs = torch.nn.functional.dropout2d(torch.ones(*shape), 0.4)
    assert ours.tolist() == theirs.tolist()
    with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"):
        F.dropout2d(rg.ones(3), 0.5)
    with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"):
        torch.nn.functional.dropout2d(torch.ones(3), 0.5)


# ----- batch norm as one node -----------------------------------------------------------------


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_is_one_node_with_pytorchs_gradients(training, affine):
    """``NativeBatchNormBackward0`` as PyTorch names it; gradients to input, weight and bias
    equal PyTorch's, and pass gradcheck and gradgradcheck (the backward recomputes the batch
    statistics in differentiable ops)."""
    gen = np.random.default_rng(3)
    x = gen.standard_normal((4, 3, 5))
    w, b = gen.standard_normal(3), gen.standard_normal(3)
    rm, rv = gen.standard_normal(3), gen.random(3) + 0.5
    ins = [rg.tensor(x, requires_grad=True)]
    tins = [torch.tensor(x, requires_grad=True)]
    if affine:
        ins += [rg.tensor(w, requires_grad=True), rg.tensor(b, requires_grad=True)]
        tins += [torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)]

    def ours(x, *wb):
        return F.batch_norm(x, rg.tensor(rm), rg.tensor(rv), *wb, training=training)

    def theirs(x, *wb):
        return torch.nn.functional.batch_norm(
            x, torch.tensor(rm), torch.tensor(rv), *wb, training=training
        )

    out, tout = ours(*ins), theirs(*tins)
    assert out.grad_fn.name() == tout.grad_fn.name() == "NativeBatchNormBackward0"
    g = gen.standard_normal(out.shape)
    for a, e in zip(
        rg.autograd.grad(out, ins, rg.tensor(g)), torch.autograd.grad(tout, tins, torch.tensor(g))
    ):
        assert_close(a, e, rtol=1e-10, atol=1e-12)
    assert rg.autograd.gradcheck(ours, tuple(ins))
    assert rg.autograd.gradgradcheck(ours, tuple(ins))
    with rg.no_grad():
        assert ours(*ins).grad_fn is None


@pytest.mark.parametrize("mode", ["written_after", "two_forwards", "eval_written_after"])
def test_batch_norm_saves_its_running_statistics_as_torch(mode):
    """The node saves the running statistics, training or not: writing them in place before
    backward makes it raise; its own update of them does not (two forwards, then one
    backward, as in a GAN's discriminator), and their versions move as PyTorch's."""
    outcomes = []
    for lib in (torch, rg):
        lib.manual_seed(0)
        bn = lib.nn.BatchNorm1d(3)
        if mode == "eval_written_after":
            bn.eval()
        x = lib.randn(4, 3, requires_grad=True)
        y = bn(x)
        if mode == "two_forwards":
            y = y + bn(x * 2)
        else:
            with lib.no_grad():
                bn.running_mean.add_(1)
        try:
            y.pow(2).sum().backward()
            outcome = "ok"
        except RuntimeError as e:
            assert "modified by an inplace operation" in str(e)
            outcome = "raised"
        outcomes.append((outcome, bn.running_mean._version, bn.running_var._version))
    assert outcomes[1] == outcomes[0]


@pytest.mark.parametrize("norm", ["layer_norm", "group_norm"])
def test_norm_backward_infinite_gradient_as_torch(norm):
    """The input gradient is PyTorch's kernel formula (rstd * g + b * x + c over the raw input),
    so an infinite incoming gradient spreads NaN over its row as PyTorch's does."""
    results = []
    for lib in (torch, rg):
        x = lib.tensor([[1.2, 0.02, 0.4, -2.1], [-0.3, 0.2, 1.15, -1.1], [0.2, -0.5, -1.0, 0.4]], dtype=lib.float64, requires_grad=True)  # fmt: skip
        w = lib.tensor([-0.01, -0.9, -0.1, -0.7], dtype=lib.float64)
        if norm == "layer_norm":
            y = (
                F.layer_norm(x, (4,), w)
                if lib is rg
                else torch.nn.functional.layer_norm(x, (4,), w)
            )
        else:
            y = (F if lib is rg else torch.nn.functional).group_norm(x.reshape(3, 4, 1), 2, w).reshape(3, 4)  # fmt: skip
        g = lib.tensor([[-2.0, 2.0, -1.8, 0.85], [-3.3, 3.1, 0.36, math.inf], [math.inf, 0.23, 0.49, 0.0]], dtype=lib.float64)  # fmt: skip
        (gx,) = lib.autograd.grad((y * g).sum(), [x])
        results.append([[round(v, 9) if math.isfinite(v) else str(v) for v in row] for row in gx.tolist()])  # fmt: skip
    assert results[1] == results[0]


@pytest.mark.parametrize("module", ["BatchNorm1d", "BatchNorm2d", "InstanceNorm1d"])
def test_state_dict_without_num_batches_tracked_loads_as_torch(module):
    """PyTorch fills in ``num_batches_tracked`` for checkpoints without a version (older than
    its version 2), as a plain dict is."""
    results = []
    for lib in (torch, rg):
        kwargs = {"track_running_stats": True} if module.startswith("Instance") else {}
        m = getattr(lib.nn, module)(2, **kwargs)
        m.num_batches_tracked.add_(3)
        state = {k: v for k, v in m.state_dict().items() if k != "num_batches_tracked"}
        result = m.load_state_dict(dict(state))
        results.append((list(result.missing_keys), m.num_batches_tracked.item()))
    assert results[1] == results[0]


@pytest.mark.parametrize(
    "program",
    [
        lambda lib: lib.nn.BatchNorm1d(3)(lib.ones(2, 4)),
        lambda lib: lib.nn.functional.batch_norm(lib.ones(2, 4), lib.ones(4), lib.ones(3)),
        lambda lib: lib.nn.functional.batch_norm(lib.ones(2, 4), None, None, weight=lib.ones(3)),
        lambda lib: lib.nn.functional.batch_norm(lib.ones(2, 4), lib.ones(4), None),
        lambda lib: lib.nn.functional.batch_norm(
            lib.ones(2, 4), None, None, bias=lib.ones(3), training=True
        ),
        lambda lib: lib.nn.functional.batch_norm(
            lib.ones(2, 4), lib.ones(3), lib.ones(3), training=True
        ),
        lambda lib: lib.nn.GroupNorm(2, 3),
        lambda lib: lib.nn.Hardtanh(2.0, 1.0),
        lambda lib: lib.nn.Unflatten(1, (2, 2))(lib.ones(2, 3)),
        lambda lib: lib.nn.Unflatten(-1, (2, -1))(lib.ones(2, 3)),
        lambda lib: lib.nn.functional.dropout1d(lib.ones(2, 3, 4, 4), p=-0.1),
        lambda lib: lib.nn.functional.dropout3d(lib.ones(2, 3), p=-1),
    ],
)
def test_layer_argument_errors_as_torch(program):
    from conftest import outcome

    def run(lib):
        r = program(lib)
        return tuple(r.shape) if hasattr(r, "shape") else type(r).__name__

    assert outcome(run, rg) == outcome(run, torch)


def _norm_layer(lib, layer):
    return {
        "LayerNorm": lambda: lib.nn.LayerNorm(5),
        "BatchNorm1d": lambda: lib.nn.BatchNorm1d(4),
        "GroupNorm": lambda: lib.nn.GroupNorm(2, 4),
        "InstanceNorm1d": lambda: lib.nn.InstanceNorm1d(4, affine=True),
        "RMSNorm": lambda: lib.nn.RMSNorm(5),
    }[layer]()


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("layer", ["LayerNorm", "BatchNorm1d", "GroupNorm", "InstanceNorm1d", "RMSNorm"])  # fmt: skip
def test_half_precision_input_with_float32_parameters_as_torch(layer, dtype):
    """PyTorch's norm kernels take a half-precision input with float32 parameters (as under
    autocast) and return the input's dtype; the parameters' gradients stay float32. rustgrad
    rounds once at the end, PyTorch's kernels at some intermediate steps: each result is at
    least as close to the float64 computation as PyTorch's (or within the half type's
    rounding of it)."""
    x0 = np.random.default_rng(0).standard_normal((3, 4, 5)).astype("float32")
    runs = []
    for lib, precision in ((rg, dtype), (torch, dtype), (torch, "float64")):
        mod = _norm_layer(lib, layer)
        if precision == "float64":
            mod = mod.double()
        # (the float64 run starts from the half-precision values the others see)
        x = lib.tensor(x0).to(getattr(lib, dtype)).to(getattr(lib, precision)).requires_grad_()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (PyTorch's RMSNorm warns of the mixed dtypes)
            y = mod(x)
        (y.double() * lib.arange(60.0, dtype=lib.float64).reshape(3, 4, 5).cos()).sum().backward()
        runs.append((y, x.grad, mod.weight.grad))
    eps = {"bfloat16": 2**-8, "float16": 2**-11}[dtype]
    for ours, theirs, truth in zip(*runs):
        assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
        ours, theirs = ours.double().detach().numpy(), theirs.double().detach().numpy()
        truth = truth.detach().numpy()
        scale = np.abs(truth).max()
        assert np.abs(ours - truth).max() <= max(np.abs(theirs - truth).max(), 2 * eps * scale)
