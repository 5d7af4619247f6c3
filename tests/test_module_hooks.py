"""Module hooks (forward, forward pre, full backward, full backward pre) and the module API
(apply, named_modules, named_buffers, non-persistent buffers, requires_grad_, dtype moves),
checked against PyTorch running the same code."""

import pytest
import rustgrad as rg
from conftest import assert_close, raises
from layers_util import load_from_torch, to_rg

torch = pytest.importorskip("torch")


def _run_hooks(lib, x_np, log):
    """The same program for both libraries: every kind of hook on a small net."""
    lib.manual_seed(0)
    net = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2))
    lin = net[0]
    handles = [
        lin.register_forward_pre_hook(lambda m, args: log.append(("pre", tuple(args[0].shape)))),
        lin.register_forward_pre_hook(
            lambda m, args, kwargs: ((args[0] * 2,), kwargs), with_kwargs=True
        ),
        lin.register_forward_hook(lambda m, args, out: out + 1),
        lin.register_forward_hook(
            lambda m, args, kwargs, out: log.append(("fwd_kw", sorted(kwargs))), with_kwargs=True
        ),
        net[2].register_full_backward_pre_hook(
            lambda m, go: log.append(("bpre", [tuple(g.shape) for g in go]))
        ),
        net[2].register_full_backward_hook(
            lambda m, gi, go: log.append(("bwd", [g.numpy().round(10).tolist() for g in gi]))
        ),
        lin.register_full_backward_hook(
            lambda m, gi, go: log.append(("bwd_lin", [g is None for g in gi]))
        ),
        net[1].register_full_backward_hook(lambda m, gi, go: (gi[0] * 3,)),
    ]
    return net, handles


def _hooked_run(lib, inp, weights_from=None):
    """The hooked net's log and parameter gradients; hooks removed afterwards leave no trace."""
    log = []
    net, handles = _run_hooks(lib, inp, log)
    net = net.double()
    if weights_from is not None:
        load_from_torch(net, weights_from)
    net(inp).pow(2).sum().backward()
    grads = [p.grad.clone() for p in net.parameters()]
    entries = list(log)
    for h in handles:
        h.remove()
    log.clear()
    net(inp).sum().backward()
    assert log == []
    return net, entries, grads


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
def test_hooks_match_torch():
    x = torch.randn(5, 3, dtype=torch.float64)
    theirs, log_t, grads_t = _hooked_run(torch, x)
    _, log_r, grads_r = _hooked_run(rg, to_rg(x), weights_from=theirs)
    assert _loose_equal(log_r, log_t)
    for a, b in zip(grads_r, grads_t):
        assert_close(a, b, rtol=1e-12)


def _loose_equal(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a[0] == b[0]
        if a[0] == "bwd":
            for ga, gb in zip(a[1], b[1]):
                assert_close(rg.tensor(ga), torch.tensor(gb), rtol=1e-9)
        else:
            assert a == b, (a, b)
    return True


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
def test_backward_hook_input_requires_grad():
    for lib in (torch, rg):
        m = lib.nn.Linear(2, 2)
        seen = []
        m.register_full_backward_hook(
            lambda mod, gi, go, seen=seen: seen.append((len(gi), gi[0] is None, len(go)))
        )
        m(lib.randn(3, 2)).sum().backward()
        x = lib.randn(3, 2, requires_grad=True)
        m(x).sum().backward()
        assert seen == [(1, True, 1), (1, False, 1)]


def test_forward_hook_always_call_and_prepend():
    for lib in (torch, rg):
        order = []

        class Boom(lib.nn.Module):
            def forward(self, x):
                raise ValueError("boom")

        m = Boom()
        m.register_forward_hook(lambda *a, order=order: order.append("always"), always_call=True)
        m.register_forward_hook(lambda *a, order=order: order.append("never"))
        with pytest.raises(ValueError):
            m(lib.ones(1))
        assert order == ["always"]
        lin = lib.nn.Identity()
        lin.register_forward_hook(lambda m, a, o, order=order: order.append("second"))
        lin.register_forward_hook(lambda m, a, o, order=order: order.append("first"), prepend=True)
        lin(lib.ones(1))
        assert order[-2:] == ["first", "second"]


def test_module_api_matches_torch():
    results = []
    for lib in (torch, rg):
        block = lib.nn.Linear(2, 2)
        net = lib.nn.Sequential(block, lib.nn.ReLU(), block, lib.nn.BatchNorm1d(2))
        net.register_buffer("scratch", lib.zeros(1), persistent=False)
        names = [n for n, _ in net.named_modules()]
        all_names = [n for n, _ in net.named_modules(remove_duplicate=False)]
        prefixed = [n for n, _ in net.named_modules(prefix="model")]
        buffers = [n for n, _ in net.named_buffers()]
        keys = list(net.state_dict())
        visited = []
        net.apply(lambda m, visited=visited: visited.append(type(m).__name__))
        net.requires_grad_(False)
        frozen = [p.requires_grad for p in net.parameters()]
        dtypes = [str(p.dtype).split(".")[-1] for p in net.double().parameters()]
        results.append((names, all_names, prefixed, buffers, keys, visited, frozen, dtypes))
    assert results[0] == results[1]


def test_half_is_a_clear_error_until_float16_exists():
    m = rg.nn.Linear(2, 2)
    if hasattr(rg, "float16"):
        assert m.half().weight.dtype == rg.float16
    else:
        with raises(NotImplementedError, "float16"):
            m.half()


def test_full_backward_hook_warning_points_at_the_users_line():
    """The warning that hooks fire on outputs only names the caller's ``backward()`` line,
    as PyTorch's does, not a line inside rustgrad."""
    lin = rg.nn.Linear(3, 2)
    lin.register_full_backward_hook(lambda m, gi, go: None)
    with pytest.warns(UserWarning, match="Full backward hook is firing") as record:
        lin(rg.randn(4, 3)).sum().backward()
    assert record[0].filename == __file__


def _always_called(lib, raiser):
    log = []

    class Boom(lib.nn.Linear):
        def forward(self, x):
            if raiser == "forward":
                raise ZeroDivisionError
            return super().forward(x)

    m = Boom(2, 2)
    m.register_forward_hook(lambda mod, args, out: log.append(out is None), always_call=True)
    if raiser == "pre_hook":
        m.register_forward_pre_hook(lambda *a: 1 / 0)
    if raiser == "later_hook":
        m.register_forward_hook(lambda *a: 1 / 0)
    try:
        m(lib.ones(2))
    except ZeroDivisionError:
        log.append("raised")
    return log


@pytest.mark.parametrize("raiser", ["pre_hook", "forward", "later_hook"])
def test_always_call_forward_hook_runs_once_whatever_raised_as_torch(raiser):
    assert _always_called(rg, raiser) == _always_called(torch, raiser)


def test_named_parameters_keeps_duplicates_when_asked_as_torch():
    results = []
    for lib in (torch, rg):
        shared = lib.nn.Linear(2, 2)
        model = lib.nn.Sequential(shared, shared)
        results.append(
            (
                [n for n, _ in model.named_parameters(remove_duplicate=False)],
                [n for n, _ in model.named_parameters()],
                [n for n, _ in model.named_buffers(remove_duplicate=False)],
            )
        )
    assert results[1] == results[0]


def test_load_state_dict_assign_makes_the_loaded_tensor_the_parameter_as_torch():
    results = []
    for lib in (torch, rg):
        m = lib.nn.Linear(2, 2)
        old = m.weight
        loaded = {
            "weight": lib.ones(2, 2, dtype=lib.float64),
            "bias": lib.zeros(2, dtype=lib.float64),
        }
        m.load_state_dict(loaded, assign=True)
        results.append(
            (
                old is m.weight,
                str(m.weight.dtype).split(".")[-1],
                m.weight.requires_grad,
                type(m.weight).__name__,
                [n for n, _ in m.named_parameters()],
            )
        )
    assert results[1] == results[0]


def _state_dict_hooks_program(lib):
    """State-dict and load-state-dict hooks of every kind, and what they saw, in order."""
    log = []
    net = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Sequential(lib.nn.Linear(2, 1)))
    net[0].register_state_dict_pre_hook(lambda m, prefix, keep: log.append(("pre", prefix, keep)))
    net.register_state_dict_pre_hook(lambda m, prefix, keep: log.append(("root pre", prefix)))

    def post(m, sd, prefix, meta):
        log.append(("post", prefix, sorted(sd), meta["version"]))
        sd[prefix + "extra"] = lib.zeros(1)

    net[1].register_state_dict_post_hook(post)
    legacy = net._register_state_dict_hook(lambda m, sd, prefix, meta: {"only": lib.ones(1)})
    log.append(("keys", sorted(net.state_dict(keep_vars=True))))
    legacy.remove()
    sd = net.state_dict()
    log.append(("keys", sorted(sd), sorted(sd._metadata)))

    def load_post(m, incompatible):
        log.append(("load post", type(m).__name__, list(incompatible.unexpected_keys)))
        incompatible.unexpected_keys.clear()  # (strict loading then passes)

    net.register_load_state_dict_post_hook(load_post)
    net[1].register_load_state_dict_post_hook(load_post)
    log.append(("loaded", tuple(net.load_state_dict(sd))))
    return log


def test_state_dict_hooks_as_torch():
    assert _state_dict_hooks_program(rg) == _state_dict_hooks_program(torch)


def test_state_dict_hook_errors_as_torch():
    def post_returning(lib):
        net = lib.nn.Linear(1, 1)
        net.register_state_dict_post_hook(lambda m, sd, prefix, meta: {})
        net.state_dict()

    def legacy_after_public(lib):
        net = lib.nn.Linear(1, 1)
        hook = lambda m, sd, prefix, meta: None
        net.register_state_dict_post_hook(hook)
        net._register_state_dict_hook(hook)

    def load_post_returning(lib):
        net = lib.nn.Linear(1, 1)
        net.register_load_state_dict_post_hook(lambda m, keys: keys)
        net.load_state_dict(net.state_dict())

    def both_backward_hook_kinds(lib):
        net = lib.nn.Linear(1, 1)
        net.register_backward_hook(lambda m, gi, go: None)
        net.register_full_backward_hook(lambda m, gi, go: None)

    for program in (post_returning, legacy_after_public, load_post_returning, both_backward_hook_kinds):  # fmt: skip
        with pytest.raises(Exception) as ours:
            program(rg)
        with pytest.raises(Exception) as theirs:
            program(torch)
        assert (type(ours.value), str(ours.value)) == (type(theirs.value), str(theirs.value))


def test_legacy_backward_hook_sees_grad_output_as_torch():
    def run(lib):
        lib.manual_seed(0)
        net = lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.Tanh())
        seen = []
        net[1].register_backward_hook(lambda m, gi, go: seen.append((gi[0].tolist(), go[0].tolist())))  # fmt: skip
        x = lib.tensor([[0.5, -1.0, 2.0]])
        with lib.no_grad():
            net[0].weight.copy_(lib.tensor([[0.1, 0.2, 0.3], [-0.3, 0.2, 0.1]]))
            net[0].bias.zero_()
        net(x).sum().backward()
        return seen

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = run(rg), run(torch)
    assert len(ours) == len(theirs) == 1
    for a, b in zip(ours[0], theirs[0]):
        assert_close(rg.tensor(a), torch.tensor(b).numpy(), atol=1e-6)


@pytest.mark.parametrize(
    "program",
    [
        lambda lib, net: type(net.get_submodule("1.0")).__name__,
        lambda lib, net: net.get_submodule("1.0.weight"),
        lambda lib, net: net.get_submodule("1.x"),
        lambda lib, net: net.get_buffer("2.running_mean").shape,
        lambda lib, net: net.get_buffer("2.weight"),
        lambda lib, net: net.get_buffer("2.nothing"),
        lambda lib, net: net.get_parameter("2.running_var"),
        lambda lib, net: net.get_parameter("0.weight").shape,
        lambda lib, net: net.set_submodule("", lib.nn.ReLU()),
        lambda lib, net: net.set_submodule("0", 5),
        lambda lib, net: net.set_submodule("1.0.weight", lib.nn.ReLU()),
        lambda lib, net: net.set_submodule("1.new", lib.nn.ReLU(), strict=True),
        lambda lib, net: (net.set_submodule("1.new", lib.nn.ReLU()), str(net))[1],
        lambda lib, net: (net.set_submodule("1.0", lib.nn.Tanh(), strict=True), str(net))[1],
        lambda lib, net: net.set_submodule("nope.x", lib.nn.ReLU()),
        lambda lib, net: (net.call_super_init, net.dump_patches),
    ],
)
def test_submodule_paths_as_torch(program):
    from conftest import outcome

    def run(lib):
        net = lib.nn.Sequential(
            lib.nn.Linear(2, 2), lib.nn.Sequential(lib.nn.Linear(2, 2)), lib.nn.BatchNorm1d(2)
        )
        result = program(lib, net)
        return tuple(result) if hasattr(result, "__len__") and not isinstance(result, str) else result  # fmt: skip

    assert outcome(run, rg) == outcome(run, torch)
