"""``nn.utils`` against PyTorch's: clipped gradients, returned norms, flat vectors, padding."""

import math

import numpy as np
import pytest
import rustgrad
from rustgrad.nn import utils as rg_utils

torch = pytest.importorskip("torch")


def grads_pair(seed, shapes=((3, 4), (5,), (2, 2, 2))):
    rng = np.random.default_rng(seed)
    values = [rng.standard_normal(s) * 3 for s in shapes]
    made = []
    for lib in (rustgrad, torch):
        params = []
        for v in values:
            p = lib.zeros(v.shape, dtype=lib.float64, requires_grad=True)
            p.grad = lib.tensor(v, dtype=lib.float64)
            params.append(p)
        made.append(params)
    return made


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, 0])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_as_pytorch(norm_type, max_norm):
    ours, theirs = grads_pair(1)
    total_ours = rg_utils.clip_grad_norm_(ours, max_norm, norm_type)
    total_theirs = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert total_ours.item() == pytest.approx(total_theirs.item(), rel=1e-12)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_clip_grad_norm_nonfinite_and_empty():
    ours, theirs = grads_pair(2)
    ours[0].grad[0, 0] = float("inf")
    theirs[0].grad[0, 0] = float("inf")
    messages = []
    for lib, params in ((rg_utils, ours), (torch.nn.utils, theirs)):
        with pytest.raises(RuntimeError) as info:
            lib.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    assert rg_utils.clip_grad_norm_([rustgrad.zeros(2, requires_grad=True)], 1.0).item() == 0.0


def test_clip_grad_value_as_pytorch():
    ours, theirs = grads_pair(3)
    rg_utils.clip_grad_value_(ours, 1.25)
    torch.nn.utils.clip_grad_value_(theirs, 1.25)
    for a, b in zip(ours, theirs):
        assert a.grad.tolist() == b.grad.tolist()


def test_parameters_to_vector_and_back():
    ours, theirs = grads_pair(4)
    for lib, params in ((rustgrad, ours), (torch, theirs)):
        for i, p in enumerate(params):
            p.data = lib.full(tuple(p.shape), float(i), dtype=lib.float64)
    v_ours = rg_utils.parameters_to_vector(ours)
    v_theirs = torch.nn.utils.parameters_to_vector(theirs)
    assert v_ours.tolist() == v_theirs.tolist() and v_ours.requires_grad
    (v_ours * rustgrad.arange(v_ours.numel(), dtype=rustgrad.float64)).sum().backward()
    assert ours[1].grad.tolist() != grads_pair(4)[0][1].grad.tolist()  # gradients flowed in
    new = rustgrad.arange(v_ours.numel(), dtype=rustgrad.float64)
    rg_utils.vector_to_parameters(new, ours)
    torch.nn.utils.vector_to_parameters(torch.arange(v_theirs.numel(), dtype=torch.float64), theirs)
    assert [p.tolist() for p in ours] == [p.tolist() for p in theirs]
    with pytest.raises(TypeError, match="expected torch.Tensor"):
        rg_utils.vector_to_parameters([1.0], ours)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence_as_pytorch(batch_first, side):
    rng = np.random.default_rng(5)
    seqs = [rng.standard_normal((n, 3)) for n in (4, 1, 3)]
    ours = rg_utils.rnn.pad_sequence(
        [rustgrad.tensor(s, requires_grad=True) for s in seqs], batch_first, -1.0, side
    )
    theirs = torch.nn.utils.rnn.pad_sequence(
        [torch.tensor(s) for s in seqs], batch_first, -1.0, side
    )
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.numpy())
    ours.sum().backward()  # differentiable in the sequences


@pytest.mark.filterwarnings("ignore:`torch.nn.utils.weight_norm` is deprecated")
@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_as_pytorch(dim):
    """``weight_norm`` splits the weight into PyTorch's ``weight_g``/``weight_v`` (names,
    order, shapes, state dicts both ways), recomputes it each forward with PyTorch's values and
    gradients, and ``remove_weight_norm`` gives a plain weight back."""
    results = []
    for lib in (rustgrad, torch):
        lib.manual_seed(0)
        conv = lib.nn.utils.weight_norm(lib.nn.Conv1d(2, 3, 2).double(), dim=dim)
        x = lib.tensor(np.arange(20.0).reshape(2, 2, 5) / 7)
        out = conv(x)
        (out * out).sum().backward()
        with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks"):
            lib.nn.utils.weight_norm(conv, dim=dim)
        state = list(conv.state_dict())
        grads = [p.grad.numpy().copy() for _, p in conv.named_parameters()]
        lib.nn.utils.remove_weight_norm(conv)
        results.append((state, out.detach().numpy(), grads, [n for n, _ in conv.named_parameters()], conv.weight.detach().numpy()))  # fmt: skip
    (s_r, o_r, g_r, n_r, w_r), (s_t, o_t, g_t, n_t, w_t) = results
    assert s_r == s_t and n_r == n_t
    np.testing.assert_allclose(o_r, o_t, rtol=1e-12)
    for a, b in zip(g_r, g_t):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w_r, w_t, rtol=1e-12)
