"""``utils.checkpoint``: a checkpointed block gives the gradients of the plain block (the same
values bit for bit, dropout included: the random state is replayed), in both variants, and
PyTorch's warnings and errors."""

import warnings

import numpy as np
import pytest
import rustgrad as rg
from rustgrad.utils.checkpoint import checkpoint, checkpoint_sequential

from tests.conftest import raises

torch = pytest.importorskip("torch")
tcheckpoint = pytest.importorskip("torch.utils.checkpoint")

RNG = np.random.default_rng(5)
X = RNG.standard_normal((6, 4))


def _block(lib, dropout):
    lib.manual_seed(3)
    return lib.nn.Sequential(
        lib.nn.Linear(4, 8), lib.nn.Tanh(), lib.nn.Dropout(dropout), lib.nn.Linear(8, 3)
    ).double()


def _grads(lib, block, x, run):
    lib.manual_seed(11)  # the dropout masks
    out = run(block, x)
    (out * out).sum().backward()
    return (
        [out.detach().numpy()]
        + [p.grad.numpy() for p in block.parameters()]
        + ([x.grad.numpy()] if x.requires_grad else [])
    )


@pytest.mark.parametrize("reentrant", [False, True])
@pytest.mark.parametrize("dropout", [0.0, 0.5])
def test_checkpointed_block_gives_the_plain_gradients(reentrant, dropout):
    for x_grad in [True, False] if not reentrant else [True]:
        x = rg.tensor(X, requires_grad=x_grad)
        plain = _grads(rg, _block(rg, dropout), x, lambda b, x: b(x))
        x = rg.tensor(X, requires_grad=x_grad)
        ours = _grads(
            rg, _block(rg, dropout), x, lambda b, x: checkpoint(b, x, use_reentrant=reentrant)
        )
        assert len(plain) == len(ours)
        for a, b in zip(plain, ours):
            np.testing.assert_array_equal(a, b)
    if dropout == 0.0:  # against PyTorch too (its dropout masks are its own)
        x = torch.tensor(X, requires_grad=True)
        theirs = _grads(
            torch,
            _block(torch, dropout),
            x,
            lambda b, x: tcheckpoint.checkpoint(b, x, use_reentrant=reentrant),
        )
        x = rg.tensor(X, requires_grad=True)
        block = _block(rg, 0.0)
        for p_ours, p_theirs in zip(block.parameters(), _block(torch, 0.0).parameters()):
            p_ours.data = rg.tensor(p_theirs.detach().numpy())
        lib_run = _grads(rg, block, x, lambda b, x: checkpoint(b, x, use_reentrant=reentrant))
        for a, b in zip(lib_run, theirs):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_non_reentrant_keeps_no_saved_tensor_and_recomputes_once():
    packed, runs = [], []

    def f(x):
        runs.append(1)
        return (x.exp() * x).sin()

    x = rg.tensor(X, requires_grad=True)
    with rg.autograd.graph.saved_tensors_hooks(lambda t: packed.append(t) or t, lambda t: t):
        y = checkpoint(f, x, use_reentrant=False)
    assert packed == []  # the checkpoint packed them first: nothing reached the outer hooks
    assert len(runs) == 1
    (g,) = rg.autograd.grad(y.sum(), x)  # autograd.grad works through this variant
    assert len(runs) == 2
    expected = np.cos(np.exp(X) * X) * (np.exp(X) * X + np.exp(X))
    np.testing.assert_allclose(g.numpy(), expected, rtol=1e-12)


def test_non_reentrant_double_backward():
    x = rg.tensor(X, requires_grad=True)
    y = checkpoint(lambda x: (x**3).sum(), x, use_reentrant=False)
    (g,) = rg.autograd.grad(y, x, create_graph=True)
    (gg,) = rg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), 6 * X, rtol=1e-12)


def test_a_recomputation_that_saves_otherwise_is_refused():
    calls = []

    def f(x):
        calls.append(1)
        return x.exp() if len(calls) == 1 else x.exp().exp()

    y = checkpoint(f, rg.tensor(X, requires_grad=True), use_reentrant=False)
    with raises(rg.utils.checkpoint.CheckpointError, "A different number of tensors was saved"):
        y.sum().backward()


def test_checkpoint_sequential_matches_plain_and_torch():
    def model(lib):
        lib.manual_seed(0)
        return lib.nn.Sequential(*[lib.nn.Linear(4, 4) for _ in range(5)], lib.nn.Tanh()).double()

    ours, theirs = model(rg), model(torch)
    for a, b in zip(ours.parameters(), theirs.parameters()):
        a.data = rg.tensor(b.detach().numpy())
    x, tx = rg.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    checkpoint_sequential(ours, 3, x, use_reentrant=False).sum().backward()
    tcheckpoint.checkpoint_sequential(theirs, 3, tx, use_reentrant=False).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    for a, b in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)


def _messages(lib, ck, case):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            case(lib, ck)
        except Exception as e:  # noqa: BLE001 (the comparison is of the exception itself)
            return [str(w.message) for w in caught], (type(e).__name__, str(e))
    return [str(w.message) for w in caught], None


def _grad_through_reentrant(lib, ck):
    x = lib.tensor(X, requires_grad=True)
    lib.autograd.grad(ck.checkpoint(lambda x: x.exp(), x, use_reentrant=True).sum(), x)


WARNINGS_AND_ERRORS = {
    "no_use_reentrant": lambda lib, ck: ck.checkpoint(lambda x: x * 2, lib.ones(2)),
    "no_input_requires_grad": lambda lib, ck: ck.checkpoint(
        lambda x: x * 2, lib.ones(2), use_reentrant=True
    ),
    "reentrant_kwargs": lambda lib, ck: ck.checkpoint(
        lambda x, k: x * k, lib.ones(2), use_reentrant=True, k=2
    ),
    "reentrant_debug": lambda lib, ck: ck.checkpoint(
        lambda x: x, lib.ones(2), use_reentrant=True, debug=True
    ),
    "bad_determinism_check": lambda lib, ck: ck.checkpoint(
        lambda x: x, lib.ones(2), use_reentrant=False, determinism_check="all"
    ),
    "grad_through_reentrant": _grad_through_reentrant,
    "sequential_kwargs": lambda lib, ck: ck.checkpoint_sequential(
        [lambda x: x], 1, lib.ones(2), use_reentrant=False, k=1
    ),
}


@pytest.mark.parametrize("name", sorted(WARNINGS_AND_ERRORS))
def test_warnings_and_errors_match_torch(name):
    case = WARNINGS_AND_ERRORS[name]
    assert _messages(rg, rg.utils.checkpoint, case) == _messages(torch, tcheckpoint, case)


@pytest.mark.parametrize("use_reentrant", [False, True])
def test_input_written_in_place_after_the_forward_is_a_version_error_as_torch(use_reentrant):
    from conftest import outcome

    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 1
        y = lib.utils.checkpoint.checkpoint(lib.exp, h, use_reentrant=use_reentrant)
        h.mul_(3)
        y.sum().backward()
        return x.grad.tolist()

    assert outcome(run, rg) == outcome(run, pytest.importorskip("torch"))
