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


# ----- prune, parametrize, parametrizations, spectral_norm -----------------------------------

rg_prune = rg_utils.prune
rg_parametrize = rg_utils.parametrize
rg_parametrizations = rg_utils.parametrizations
t_prune = pytest.importorskip("torch.nn.utils.prune")
t_parametrize = pytest.importorskip("torch.nn.utils.parametrize")
t_parametrizations = pytest.importorskip("torch.nn.utils.parametrizations")

LIBS = (
    (rustgrad, rg_prune, rg_parametrize, rg_parametrizations),
    (torch, t_prune, t_parametrize, t_parametrizations),
)


def _np(t):
    return t.detach().numpy()


def _error(fn, *args):
    """``(type name, message)`` of what ``fn(*args)`` raises (the library's name read as
    ``torch``: ``torch.Size`` in messages), or ``("ok", result)``."""
    try:
        return "ok", fn(*args)
    except Exception as e:  # noqa: BLE001 (any exception is compared with PyTorch's)
        return type(e).__name__, str(e).replace("rustgrad", "torch")


def _module_pair(make, seed=0):
    """A float64 module of each library with the same (PyTorch-initialised) values."""
    torch.manual_seed(seed)
    theirs = make(torch).double()
    ours = make(rustgrad).double()
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def _hook_names(module):
    return [type(h).__name__ for h in module._forward_pre_hooks.values()]


PRUNE_STEPS = {
    "l1_fraction": [("l1_unstructured", {"amount": 0.3})],
    "l1_int_twice": [("l1_unstructured", {"amount": 20}), ("l1_unstructured", {"amount": 0.25})],
    "ln2_then_l1": [
        ("ln_structured", {"amount": 1, "n": 2, "dim": 0}),
        ("l1_unstructured", {"amount": 0.4}),
    ],
    "l1_then_ln1": [
        ("l1_unstructured", {"amount": 30}),
        ("ln_structured", {"amount": 0.5, "n": 1, "dim": 1}),
    ],
    "ln_inf_last_dim_twice": [
        ("ln_structured", {"amount": 1, "n": float("inf"), "dim": -1}),
        ("ln_structured", {"amount": 1, "n": float("-inf"), "dim": -1}),
    ],
    "ln3_zero_amount": [("ln_structured", {"amount": 0, "n": 3, "dim": 2})],
    "identity_then_l1": [("identity", {}), ("l1_unstructured", {"amount": 0.5})],
}


@pytest.mark.parametrize("steps", list(PRUNE_STEPS), ids=list(PRUNE_STEPS))
def test_prune_deterministic_methods_as_pytorch(steps):
    """L1 and Ln pruning (alone and iterated through a PruningContainer) pick PyTorch's
    entries and channels; names, hooks, forward values, gradients and ``remove`` agree."""
    ours, theirs = _module_pair(lambda lib: lib.nn.Conv2d(3, 4, 3))
    for fn, kwargs in PRUNE_STEPS[steps]:
        getattr(rg_prune, fn)(ours, "weight", **kwargs)
        getattr(t_prune, fn)(theirs, "weight", **kwargs)
        assert ours.weight_mask.tolist() == theirs.weight_mask.tolist()
        assert ours.weight_mask.dtype == rustgrad.float64
        assert _hook_names(ours) == _hook_names(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert rg_prune.is_pruned(ours) and t_prune.is_pruned(theirs)

    x = np.random.default_rng(1).standard_normal((2, 3, 5, 5))
    out_ours, out_theirs = ours(rustgrad.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(_np(out_ours), _np(out_theirs), rtol=1e-12, atol=1e-12)
    (out_ours**2).sum().backward()
    (out_theirs**2).sum().backward()
    np.testing.assert_allclose(
        _np(ours.weight_orig.grad), _np(theirs.weight_orig.grad), rtol=1e-10, atol=1e-12
    )
    assert (_np(ours.weight_orig.grad)[_np(ours.weight_mask) == 0] == 0).all()

    rg_prune.remove(ours, "weight")
    t_prune.remove(theirs, "weight")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.weight.tolist() == theirs.weight.tolist()
    assert isinstance(ours.weight, rustgrad.nn.Parameter) and not rg_prune.is_pruned(ours)


def test_prune_random_methods_share_pytorchs_stream():
    """With the same seed, random pruning draws PyTorch's numbers: the same entries and
    channels; the counts are the asked amounts."""
    masks = []
    for lib, prune, _, _ in LIBS:
        lib.manual_seed(7)
        model = lib.nn.Sequential(lib.nn.Linear(6, 5), lib.nn.Linear(5, 4))
        prune.random_unstructured(model[0], "weight", amount=0.4)
        prune.random_structured(model[0], "weight", amount=2, dim=1)
        prune.random_structured(model[1], "weight", amount=0.5, dim=0)
        prune.random_unstructured(model[1], "bias", amount=3)
        masks.append([b.tolist() for _, b in model.named_buffers()])
        assert int((model[1].bias_mask == 0).sum()) == 3
        assert (model[1].weight_mask.sum(1) == 0).sum().item() == 2
        assert (model[0].weight_mask.sum(0) == 0).sum().item() >= 2
    assert masks[0] == masks[1]


def test_global_unstructured_and_custom_masks_as_pytorch():
    """``global_unstructured`` ranks several tensors together (on top of earlier masks, with
    ``importance_scores``); ``custom_from_mask``, ``Identity`` and ``prune()`` as PyTorch's."""
    results = []
    rng = np.random.default_rng(3)
    scores = rng.standard_normal((4, 3))
    custom = (rng.standard_normal(4) > 0).astype(np.float64)
    loose = rng.standard_normal((3, 4))
    for lib, prune, _, _ in LIBS:
        torch.manual_seed(2)
        ref = torch.nn.Sequential(torch.nn.Linear(5, 3), torch.nn.Linear(3, 4)).double()
        model = ref if lib is torch else lib.nn.Sequential(lib.nn.Linear(5, 3), lib.nn.Linear(3, 4))
        if lib is not torch:
            model.double().load_state_dict(ref.state_dict())
        prune.l1_unstructured(model[0], "weight", amount=4)
        prune.global_unstructured(
            [(model[0], "weight"), (model[1], "weight"), (model[1], "bias")],
            pruning_method=prune.L1Unstructured,
            importance_scores={(model[1], "weight"): lib.tensor(scores)},
            amount=0.4,
        )
        prune.custom_from_mask(model[0], "bias", mask=lib.tensor(custom[:3]))
        prune.identity(model[1], "bias")
        method = prune.L1Unstructured(amount=5)
        pruned = method.prune(lib.tensor(loose), importance_scores=lib.tensor(loose[::-1].copy()))
        results.append(
            (
                [(n, b.tolist()) for n, b in model.named_buffers()],
                [_hook_names(m) for m in model],
                list(model.state_dict()),
                pruned.tolist(),
            )
        )
    assert results[0] == results[1]


def test_prune_classes_and_container_as_pytorch():
    """The methods' ``apply`` returns what is hooked (a container once combined), PruningContainer
    holds the methods in order, and ``compute_mask`` on its own gives PyTorch's masks."""
    seen = []
    t = np.random.default_rng(4).standard_normal((4, 5))
    for lib, prune, _, _ in LIBS:
        module = lib.nn.Linear(5, 4)
        first = prune.L1Unstructured.apply(module, "weight", amount=3)
        second = prune.LnStructured.apply(module, "weight", amount=1, n=2, dim=0)
        third = prune.RandomUnstructured.apply(module, "weight", amount=0)
        ones = lib.ones(4, 5, dtype=lib.float64)
        seen.append(
            (
                type(first).__name__,
                type(second).__name__,
                third is second,
                [type(m).__name__ for m in second],
                len(second),
                second[0] is first,
                prune.LnStructured(2, n=1, dim=-1).compute_mask(lib.tensor(t), ones).tolist(),
                prune.L1Unstructured(0.5).compute_mask(lib.tensor(t), ones).tolist(),
                prune.CustomFromMask(lib.tensor(t > 0)).compute_mask(lib.tensor(t), ones).tolist(),
            )
        )
    assert seen[0] == seen[1]


def _prune_error_cases():
    def roll_back(lib, prune):
        module = lib.nn.Linear(2, 2)
        with pytest.raises(ValueError):
            prune.l1_unstructured(module, "weight", amount=5)
        return list(module.state_dict()), len(module._forward_pre_hooks)

    def container_type(lib, prune):
        module = lib.nn.Linear(2, 3)
        container = prune.PruningContainer(prune.L1Unstructured.apply(module, "weight", amount=1))
        container.add_pruning_method(3)

    return {
        "negative": lambda lib, prune: prune.L1Unstructured(amount=-1),
        "fraction_above_one": lambda lib, prune: prune.RandomUnstructured(amount=1.5),
        "not_a_number": lambda lib, prune: prune.LnStructured(amount="a", n=2),
        "too_many": lambda lib, prune: prune.l1_unstructured(lib.nn.Linear(2, 2), "weight", 5),
        "roll_back": roll_back,
        "structured_1d": lambda lib, prune: prune.ln_structured(
            lib.nn.Linear(2, 3), "bias", amount=1, n=2, dim=0
        ),
        "bad_dim": lambda lib, prune: prune.random_structured(
            lib.nn.Linear(2, 3), "weight", amount=1, dim=2
        ),
        "remove_unpruned": lambda lib, prune: prune.remove(lib.nn.Linear(2, 3), "weight"),
        "global_structured": lambda lib, prune: prune.global_unstructured(
            [(lib.nn.Linear(2, 3), "weight")], prune.LnStructured, amount=1, n=1, dim=0
        ),
        "global_scores": lambda lib, prune: prune.global_unstructured(
            [(lib.nn.Linear(2, 3), "weight")], prune.L1Unstructured, importance_scores=[1], amount=1
        ),
        "global_not_iterable": lambda lib, prune: prune.global_unstructured(
            3, prune.L1Unstructured, amount=1
        ),
        "scores_shape": lambda lib, prune: prune.l1_unstructured(
            lib.nn.Linear(2, 3), "weight", amount=2, importance_scores=lib.ones(3, 3)
        ),
        "container_type": container_type,
        "missing_name": lambda lib, prune: prune.identity(lib.nn.Linear(2, 3), "nope"),
    }


@pytest.mark.parametrize("case", list(_prune_error_cases()))
def test_prune_errors_as_pytorch(case):
    fn = _prune_error_cases()[case]
    ours = _error(fn, rustgrad, rg_prune)
    theirs = _error(fn, torch, t_prune)
    assert ours == theirs


def _parametrizations(lib):
    class Symmetric(lib.nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).mT

    class Skew(lib.nn.Module):
        def forward(self, X):
            A = X.triu(1)
            return A - A.mT

        def right_inverse(self, Z):
            return Z.triu(1)

    class Scale(lib.nn.Module):
        def forward(self, X):
            return 2 * X

        def right_inverse(self, Z):
            return Z / 2

    class Split(lib.nn.Module):
        # Two originals: original0 * exp(original1).
        def forward(self, a, b):
            return a * b.exp()

        def right_inverse(self, Z):
            return Z, lib.zeros_like(Z)

    return Symmetric, Skew, Scale, Split


def test_parametrize_chain_assign_cache_and_remove_as_pytorch():
    """A chain of parametrizations: PyTorch's class swap, repr, names, originals (through
    ``right_inverse``), values, gradients, assignment, caching and removal."""
    ours, theirs = _module_pair(lambda lib: lib.nn.Linear(4, 4))
    pairs = ((rustgrad, rg_parametrize, ours), (torch, t_parametrize, theirs))
    for lib, P, m in pairs:
        _, Skew, Scale, _ = _parametrizations(lib)
        weight = m.weight
        assert P.register_parametrization(m, "weight", Skew()) is m
        assert m.parametrizations.weight.original is weight  # the same tensor, new values
        P.register_parametrization(m, "weight", Scale())
    assert repr(ours) == repr(theirs) and type(ours).__name__ == "ParametrizedLinear"
    assert rg_parametrize.type_before_parametrizations(ours) is rustgrad.nn.Linear
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    for name in (None, "weight", "bias"):
        assert rg_parametrize.is_parametrized(ours, name) == t_parametrize.is_parametrized(
            theirs, name
        )
    np.testing.assert_allclose(_np(ours.weight), _np(theirs.weight), rtol=1e-15)
    np.testing.assert_allclose(
        _np(ours.parametrizations.weight.original),
        _np(theirs.parametrizations.weight.original),
        rtol=1e-15,
    )

    x = np.random.default_rng(0).standard_normal((3, 4))
    outs = [m(lib.tensor(x)) for lib, _, m in pairs]
    np.testing.assert_allclose(_np(outs[0]), _np(outs[1]), rtol=1e-12)
    for out in outs:
        (out**2).sum().backward()
    np.testing.assert_allclose(
        _np(ours.parametrizations.weight.original.grad),
        _np(theirs.parametrizations.weight.original.grad),
        rtol=1e-12,
    )

    z = np.random.default_rng(1).standard_normal((4, 4))
    for lib, P, m in pairs:
        original = m.parametrizations.weight.original
        m.weight = lib.tensor(z)
        assert m.parametrizations.weight.original is original
        assert (m.weight is m.weight) is False
        with P.cached():
            assert m.weight is m.weight
    np.testing.assert_allclose(
        _np(ours.parametrizations.weight.original),
        _np(theirs.parametrizations.weight.original),
        rtol=1e-15,
    )
    for lib, P, m in pairs:
        original = m.parametrizations.weight.original
        P.remove_parametrizations(m, "weight", leave_parametrized=False)
        assert m.weight is original and type(m) is lib.nn.Linear
        assert not hasattr(m, "parametrizations")
    assert ours.weight.tolist() == theirs.weight.tolist()
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_parametrize_several_originals_buffers_and_state_dicts_as_pytorch():
    """``right_inverse`` returning two tensors gives ``original0``/``original1``; buffers
    can be parametrized; a PyTorch state dict loads into the parametrized module."""
    ours, theirs = _module_pair(
        lambda lib: lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.BatchNorm1d(2))
    )
    for lib, P, m in ((rustgrad, rg_parametrize, ours), (torch, t_parametrize, theirs)):
        _, _, Scale, Split = _parametrizations(lib)
        P.register_parametrization(m[0], "weight", Split())
        P.register_parametrization(m[0], "weight", Scale())
        P.register_parametrization(m[1], "running_mean", Scale())
        assert m[0].parametrizations.weight.original1.requires_grad
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    with torch.no_grad():
        theirs[0].parametrizations.weight.original1.normal_()
        theirs[1].parametrizations.running_mean.original.normal_()
    ours.load_state_dict(theirs.state_dict())
    ours.eval()
    theirs.eval()
    x = np.random.default_rng(2).standard_normal((4, 3))
    out_ours, out_theirs = ours(rustgrad.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(_np(out_ours), _np(out_theirs), rtol=1e-12)
    out_ours.sum().backward()
    out_theirs.sum().backward()
    for i in (0, 1):
        np.testing.assert_allclose(
            _np(getattr(ours[0].parametrizations.weight, f"original{i}").grad),
            _np(getattr(theirs[0].parametrizations.weight, f"original{i}").grad),
            rtol=1e-12,
        )
    for P, m in ((rg_parametrize, ours), (t_parametrize, theirs)):
        with pytest.raises(ValueError, match="Cannot leave unparametrized"):
            P.remove_parametrizations(m[0], "weight", leave_parametrized=False)
        P.remove_parametrizations(m[0], "weight")
        P.remove_parametrizations(m[1], "running_mean")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert isinstance(ours[0].weight, rustgrad.nn.Parameter)
    np.testing.assert_allclose(_np(ours[0].weight), _np(theirs[0].weight), rtol=1e-12)
    np.testing.assert_allclose(_np(ours[1].running_mean), _np(theirs[1].running_mean), rtol=1e-12)


def test_parametrize_copies_and_transfers():
    """A parametrized module deep-copies (its own parametrized class) but refuses pickling;
    ``transfer_parametrizations_and_params`` carries the chain and originals over."""
    import copy
    import pickle

    results = []
    for lib, P in ((rustgrad, rg_parametrize), (torch, t_parametrize)):
        _, Skew, _, _ = _parametrizations(lib)
        lib.manual_seed(0)
        m = P.register_parametrization(lib.nn.Linear(3, 3), "weight", Skew())
        twin = copy.deepcopy(m)
        assert twin.parametrizations.weight.original is not m.parametrizations.weight.original
        with pytest.raises(RuntimeError, match="only supported through state_dict"):
            pickle.dumps(m)
        other = P.transfer_parametrizations_and_params(m, lib.nn.Linear(3, 3))
        results.append(
            (type(twin).__name__, list(twin.state_dict()), repr(other), other.weight.tolist())
        )
        assert other.weight.tolist() == m.weight.tolist()
    assert results[0][:3] == results[1][:3]


def _parametrize_error_cases():
    def change(kind, chained):
        def case(lib, P):
            class Bad(lib.nn.Module):
                def forward(self, X):
                    return X[:1] if kind == "shape" else X.double()

            m = lib.nn.Linear(2, 2)
            if chained:
                P.register_parametrization(m, "weight", lib.nn.Identity())
            P.register_parametrization(m, "weight", Bad())

        return case

    def bad_inverse(lib, P):
        class Inv(lib.nn.Module):
            def forward(self, X):
                return X

            def right_inverse(self, Z):
                return Z.double()

        P.register_parametrization(lib.nn.Linear(2, 2), "weight", Inv())

    def assign_without_inverse(lib, P):
        m = P.register_parametrization(lib.nn.Linear(2, 2), "weight", _parametrizations(lib)[0]())
        m.weight = lib.ones(2, 2)

    def assign_parameter(lib, P):
        m = P.register_parametrization(lib.nn.Linear(2, 2), "weight", lib.nn.Identity())
        m.weight = lib.nn.Parameter(lib.ones(2, 2))

    return {
        "missing": lambda lib, P: P.register_parametrization(
            lib.nn.Linear(2, 2), "foo", lib.nn.Identity()
        ),
        "shape": change("shape", False),
        "dtype": change("dtype", False),
        "chained_shape": change("shape", True),
        "chained_dtype": change("dtype", True),
        "inverse_dtype": bad_inverse,
        "remove_unparametrized": lambda lib, P: P.remove_parametrizations(
            lib.nn.Linear(2, 2), "weight"
        ),
        "assign_without_inverse": assign_without_inverse,
        "assign_parameter": assign_parameter,
    }


@pytest.mark.parametrize("case", list(_parametrize_error_cases()))
def test_parametrize_errors_as_pytorch(case):
    fn = _parametrize_error_cases()[case]
    assert _error(fn, rustgrad, rg_parametrize) == _error(fn, torch, t_parametrize)


def _compare_parametrized(ours, theirs, x, names, rtol=1e-12, atol=1e-13):
    """Same weight, forward value and gradients of the ``names`` originals."""
    np.testing.assert_allclose(_np(ours.weight), _np(theirs.weight), rtol=rtol, atol=atol)
    out_ours, out_theirs = ours(rustgrad.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(_np(out_ours), _np(out_theirs), rtol=rtol, atol=atol)
    (out_ours**2).sum().backward()
    (out_theirs**2).sum().backward()
    for name in names:
        grad_ours = ours.parametrizations.weight.get_parameter(name).grad
        grad_theirs = theirs.parametrizations.weight.get_parameter(name).grad
        np.testing.assert_allclose(_np(grad_ours), _np(grad_theirs), rtol=rtol, atol=atol)


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5)])
@pytest.mark.parametrize("orthogonal_map", [None, "matrix_exp", "cayley", "householder"])
@pytest.mark.parametrize("use_trivialization", [True, False])
def test_orthogonal_as_pytorch(shape, orthogonal_map, use_trivialization):
    """``orthogonal``: PyTorch's map choice, originals, ``base``, orthonormal weight, values
    and gradients (also once the original has moved away from its initial value)."""
    ours, theirs = _module_pair(lambda lib: lib.nn.Linear(shape[1], shape[0]))
    for lib, Ps, m in ((rustgrad, rg_parametrizations, ours), (torch, t_parametrizations, theirs)):
        lib.manual_seed(1)
        Ps.orthogonal(m, orthogonal_map=orthogonal_map, use_trivialization=use_trivialization)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    assert ours.parametrizations.weight[0].orthogonal_map.name == (
        theirs.parametrizations.weight[0].orthogonal_map.name
    )
    w = _np(ours.weight)
    gram = w.T @ w if shape[0] >= shape[1] else w @ w.T
    np.testing.assert_allclose(gram, np.eye(min(shape)), atol=1e-12)
    x = np.random.default_rng(0).standard_normal((2, shape[1]))
    _compare_parametrized(ours, theirs, x, ["original"])

    with torch.no_grad():
        original = theirs.parametrizations.weight.original
        original.add_(0.5 * torch.randn(original.shape, dtype=torch.float64))
    ours.load_state_dict(theirs.state_dict())
    for m in (ours, theirs):
        m.zero_grad()
    _compare_parametrized(ours, theirs, x, ["original"])


def test_orthogonal_batches_assignment_and_errors_as_pytorch():
    """A batch of matrices, assigning an orthogonal matrix (kept exactly), float32, and
    PyTorch's errors."""
    rng = np.random.default_rng(5)
    batch = rng.standard_normal((2, 4, 3))
    q = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    results = []
    for lib, Ps in ((rustgrad, rg_parametrizations), (torch, t_parametrizations)):
        lib.manual_seed(0)
        holder = lib.nn.Module()
        holder.weight = lib.nn.Parameter(lib.tensor(batch))
        for orthogonal_map in ("householder", "cayley"):
            m = lib.nn.Module()
            m.weight = lib.nn.Parameter(lib.tensor(batch))
            Ps.orthogonal(m, orthogonal_map=orthogonal_map, use_trivialization=False)
            results.append(_np(m.weight))
        square = Ps.orthogonal(lib.nn.Linear(3, 3, bias=False))
        square.weight = lib.tensor(q, dtype=lib.float32)
        results.append(_np(square.weight))
        with pytest.raises(ValueError) as info:
            Ps.orthogonal(lib.nn.Linear(3, 3), orthogonal_map="qr")
        results.append(str(info.value))
        with pytest.raises(ValueError) as info:
            square.weight = lib.ones(2, 3)
        results.append(str(info.value).replace("rustgrad", "torch"))
        with pytest.raises(NotImplementedError) as info:
            Ps.orthogonal(
                lib.nn.Linear(3, 3), "weight", "cayley", use_trivialization=False
            ).weight = lib.eye(3)
        results.append(str(info.value))
    half = len(results) // 2
    for a, b in zip(results[:half], results[half:]):
        if isinstance(a, str):
            assert a == b
        else:
            np.testing.assert_allclose(a, b, rtol=1e-5 if a.dtype == np.float32 else 1e-12)
    np.testing.assert_allclose(results[2], q, atol=1e-6)


@pytest.mark.parametrize("dim", [0, 1, None, -1])
def test_parametrized_weight_norm_as_pytorch(dim):
    """New-style ``weight_norm``: ``original0``/``original1`` of PyTorch's shapes, values,
    gradients, removal; a state dict of the old ``weight_norm`` loads into it."""
    ours, theirs = _module_pair(lambda lib: lib.nn.Conv1d(2, 3, 2))
    rg_parametrizations.weight_norm(ours, dim=dim)
    t_parametrizations.weight_norm(theirs, dim=dim)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()
    ]
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(0).standard_normal((2, 2, 5))
    _compare_parametrized(ours, theirs, x, ["original0", "original1"])

    with pytest.warns(FutureWarning):
        old = torch.nn.utils.weight_norm(torch.nn.Conv1d(2, 3, 2).double(), dim=dim)
    with torch.no_grad():
        old.weight_g.mul_(1.5)
    assert ours.load_state_dict(old.state_dict()).missing_keys == []
    old(torch.tensor(x))  # (its weight is recomputed by the forward pre-hook)
    np.testing.assert_allclose(_np(ours.weight), _np(old.weight), rtol=1e-12)

    rg_parametrize.remove_parametrizations(ours, "weight")
    t_parametrize.remove_parametrizations(theirs, "weight")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert isinstance(ours.weight, rustgrad.nn.Parameter) and type(ours) is rustgrad.nn.Conv1d


@pytest.mark.parametrize(
    ("make", "name", "dim"),
    [
        (lambda lib: lib.nn.Linear(5, 3), "weight", None),
        (lambda lib: lib.nn.Linear(5, 3), "weight", 1),
        (lambda lib: lib.nn.Conv2d(2, 4, 2), "weight", None),
        (lambda lib: lib.nn.Conv2d(2, 4, 2), "weight", -1),
        (lambda lib: lib.nn.Linear(5, 3), "bias", None),
    ],
)
def test_parametrized_spectral_norm_as_pytorch(make, name, dim):
    """New-style ``spectral_norm``: the same random start (seeded), power iterations in
    training, none in eval, PyTorch's values, gradients, buffers and removal."""
    ours, theirs = _module_pair(make)
    for lib, Ps, m in ((rustgrad, rg_parametrizations, ours), (torch, t_parametrizations, theirs)):
        lib.manual_seed(3)
        Ps.spectral_norm(m, name, n_power_iterations=2, dim=dim)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(_np(ours.state_dict()[key]), _np(value), rtol=1e-12)
    rng = np.random.default_rng(1)
    for step in range(4):
        if step == 3:
            ours.eval()
            theirs.eval()
        target = rng.standard_normal(tuple(theirs.parametrizations[name].original.shape))
        w_ours, w_theirs = getattr(ours, name), getattr(theirs, name)
        np.testing.assert_allclose(_np(w_ours), _np(w_theirs), rtol=1e-12, atol=1e-14)
        (w_ours * rustgrad.tensor(target)).sum().backward()
        (w_theirs * torch.tensor(target)).sum().backward()
        np.testing.assert_allclose(
            _np(ours.parametrizations[name].original.grad),
            _np(theirs.parametrizations[name].original.grad),
            rtol=1e-10,
            atol=1e-12,
        )
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(_np(ours.state_dict()[key]), _np(value), rtol=1e-12)
    rg_parametrize.remove_parametrizations(ours, name)
    t_parametrize.remove_parametrizations(theirs, name)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_allclose(_np(getattr(ours, name)), _np(getattr(theirs, name)), rtol=1e-12)


@pytest.mark.parametrize(
    ("make", "dim"),
    [(lambda lib: lib.nn.Linear(5, 3), None), (lambda lib: lib.nn.Conv2d(2, 4, 2), 1)],
)
def test_spectral_norm_hook_as_pytorch(make, dim):
    """The hook-based ``spectral_norm``: PyTorch's names, random start, values and gradients
    over training steps and in eval, state dicts both ways (an old one without ``weight_v``
    too), ``remove_spectral_norm`` and its errors."""
    ours, theirs = _module_pair(make)
    for lib, m in ((rustgrad, ours), (torch, theirs)):
        lib.manual_seed(4)
        assert lib.nn.utils.spectral_norm(m, n_power_iterations=2, dim=dim) is m
        with pytest.raises(RuntimeError, match="Cannot register two spectral_norm hooks"):
            lib.nn.utils.spectral_norm(m)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    np.testing.assert_allclose(_np(ours.weight), _np(theirs.weight), rtol=1e-12)
    shape = tuple(theirs.weight_orig.shape)
    x = np.random.default_rng(2).standard_normal((2, 5) if len(shape) == 2 else (2, 2, 4, 4))
    for step in range(3):
        if step == 2:
            ours.eval()
            theirs.eval()
        out_ours, out_theirs = ours(rustgrad.tensor(x)), theirs(torch.tensor(x))
        np.testing.assert_allclose(_np(out_ours), _np(out_theirs), rtol=1e-12, atol=1e-13)
        (out_ours**2).sum().backward()
        (out_theirs**2).sum().backward()
        np.testing.assert_allclose(
            _np(ours.weight_orig.grad), _np(theirs.weight_orig.grad), rtol=1e-10, atol=1e-12
        )
        np.testing.assert_allclose(_np(ours.weight_u), _np(theirs.weight_u), rtol=1e-12)

    fresh = rustgrad.nn.utils.spectral_norm(make(rustgrad).double(), dim=dim)
    assert not fresh.load_state_dict(theirs.state_dict()).missing_keys
    old = {k: v for k, v in theirs.state_dict().items() if k != "weight_v"}
    old["weight"] = theirs.weight.detach()
    old = type(theirs.state_dict())(old)
    old._metadata = {"": {"spectral_norm": {"weight.version": 0}}}
    reference = torch.nn.utils.spectral_norm(make(torch).double(), dim=dim)
    reference.load_state_dict(old)
    fresh.load_state_dict(old)
    np.testing.assert_allclose(_np(fresh.weight_v), _np(reference.weight_v), rtol=1e-8)

    rustgrad.nn.utils.remove_spectral_norm(ours)
    torch.nn.utils.remove_spectral_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_allclose(_np(ours.weight), _np(theirs.weight), rtol=1e-12)
    messages = []
    for lib, m in ((rustgrad, ours), (torch, theirs)):
        with pytest.raises(ValueError) as info:
            lib.nn.utils.remove_spectral_norm(m)
        messages.append(str(info.value))
        with pytest.raises(ValueError) as info:
            lib.nn.utils.spectral_norm(lib.nn.Linear(2, 2), n_power_iterations=0)
        messages.append(str(info.value))
    assert messages[:2] == messages[2:]


def test_load_state_dict_pre_hook_as_pytorch():
    """``register_load_state_dict_pre_hook`` runs before the keys are matched, with the
    module's prefix, and may rename keys (the caller's dict is left alone)."""
    seen = []
    for lib in (rustgrad, torch):
        calls = []

        def hook(module, state_dict, prefix, *rest, calls=calls):
            calls.append((type(module).__name__, prefix))
            state_dict[prefix + "weight"] = state_dict.pop(prefix + "w")

        model = lib.nn.Sequential(lib.nn.Linear(2, 2, bias=False))
        model[0].register_load_state_dict_pre_hook(hook)
        given = {"0.w": lib.ones(2, 2)}
        result = model.load_state_dict(given)
        seen.append((calls, list(given), model[0].weight.tolist(), str(result)))
    assert seen[0] == seen[1]


def test_prune_and_parametrize_run_as_pytorch_scripts(tmp_path):
    """A PyTorch script importing ``torch.nn.utils.prune``, ``parametrize`` and
    ``parametrizations`` prints the same under ``python -m rustgrad run``."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        """
        import torch
        import torch.nn as nn
        import torch.nn.utils.prune as prune
        from torch.nn.utils import parametrize
        from torch.nn.utils.parametrizations import orthogonal, spectral_norm, weight_norm

        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3))
        prune.l1_unstructured(model[0], "weight", amount=0.5)
        prune.ln_structured(model[0], "weight", amount=2, n=2, dim=0)
        prune.random_unstructured(model[2], "bias", amount=1)
        print(list(model.state_dict()), prune.is_pruned(model))
        print(model[0].weight_mask)
        prune.remove(model[0], "weight")
        print(list(model.state_dict()), model[0].weight.eq(0).sum().item())


        class Symmetric(nn.Module):
            def forward(self, X):
                return X.triu() + X.triu(1).transpose(-1, -2)


        layer = parametrize.register_parametrization(nn.Linear(3, 3), "weight", Symmetric())
        print(layer)
        print(parametrize.is_parametrized(layer), torch.equal(layer.weight, layer.weight.T))
        orth = orthogonal(nn.Linear(5, 3))
        print(orth, torch.allclose(orth.weight @ orth.weight.T, torch.eye(3), atol=1e-5))
        print(list(spectral_norm(nn.Linear(4, 4)).state_dict()))
        wn = weight_norm(nn.Linear(4, 2))
        print([(k, v.shape) for k, v in wn.state_dict().items()])
        parametrize.remove_parametrizations(wn, "weight")
        print(type(wn).__name__, list(wn.state_dict()))
        """
    )
    (tmp_path / "prog.py").write_text(script)
    runs = [
        subprocess.run(
            [sys.executable, *args, "prog.py"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        for args in (["-m", "rustgrad", "run"], [])
    ]
    assert runs[0].returncode == 0, runs[0].stderr
    assert runs[1].returncode == 0, runs[1].stderr
    assert runs[0].stdout.splitlines() == runs[1].stdout.splitlines()
