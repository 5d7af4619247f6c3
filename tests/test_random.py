"""Creation and randomness: Generator (its own state in Rust), the samplers and their
distributions (statistical checks at fixed seeds), ``size=``, default dtype and device, legacy
tensor types. On the CPU the streams are PyTorch's: every sampler, seeded alike, gives
PyTorch's values bit for bit and leaves the generator where PyTorch leaves it (the section
"PyTorch's stream"); shapes, dtypes and errors are compared with PyTorch."""

import math

import numpy as np
import pytest
import rustgrad as rg

torch = pytest.importorskip("torch")


def vals(t):
    return np.asarray(t.tolist(), dtype=np.float64)


# ----- Generator -----------------------------------------------------------------------------


def test_generator_same_seed_same_stream_and_independent_of_the_default():
    g = rg.Generator().manual_seed(7)
    a = rg.rand(1000, generator=g)
    rg.manual_seed(7)
    rg.rand(5)  # the default generator moves; g does not depend on it
    g.manual_seed(7)
    b = rg.rand(1000, generator=g)
    assert a.tolist() == b.tolist()
    assert g.initial_seed() == 7
    assert rg.Generator().initial_seed() == torch.Generator().initial_seed()
    assert str(rg.Generator().device) == str(torch.Generator().device) == "cpu"


def test_generator_state_round_trips():
    g = rg.Generator().manual_seed(3)
    rg.randn(10, generator=g)
    state = g.get_state()
    first = rg.randn(20, generator=g).tolist()
    g.set_state(state)
    assert rg.randn(20, generator=g).tolist() == first
    other = rg.Generator().set_state(state)
    assert rg.randn(20, generator=other).tolist() == first
    for bad, kind in (
        (rg.zeros(5056, dtype=rg.uint8), RuntimeError),  # not a valid mt19937 state
        (rg.zeros(50, dtype=rg.uint8), RuntimeError),
        (rg.ones(3), TypeError),
    ):
        with pytest.raises(kind) as ours:
            g.set_state(bad)
        with pytest.raises(kind) as theirs:
            torch.Generator().set_state(torch.tensor(bad.numpy()))
        assert str(ours.value) == str(theirs.value)


def test_generator_state_is_pytorchs_byte_for_byte():
    """``get_rng_state`` holds PyTorch's ``CPUGeneratorImplState`` bytes (with a cached normal
    sample too), and a state from either library continues the other's stream."""
    for lib in (rg, torch):
        lib.manual_seed(11)
        lib.randn(3)  # leaves the second Box-Muller sample cached
    ours, theirs = rg.get_rng_state(), torch.get_rng_state()
    assert ours.dtype == rg.uint8 and ours.numpy().tobytes() == theirs.numpy().tobytes()
    torch.manual_seed(5)
    torch.rand(700)  # past a twist of the engine
    rg.set_rng_state(rg.tensor(torch.get_rng_state().numpy()))
    assert rg.randn(5).tolist() == torch.randn(5).tolist()


def test_default_generator_functions():
    assert rg.manual_seed(5) is rg.default_generator
    assert rg.initial_seed() == 5
    state = rg.get_rng_state()
    x = rg.rand(4).tolist()
    rg.set_rng_state(state)
    assert rg.rand(4).tolist() == x
    s = rg.seed()
    assert rg.initial_seed() == s and 0 <= s < 2**63
    with rg.random.fork_rng():
        rg.rand(3)
    # Seeds as PyTorch reads them: negative wraps, beyond 2**64 overflows, floats refused.
    rg.manual_seed(-1)
    assert rg.initial_seed() == 2**64 - 1 == torch.manual_seed(-1).initial_seed()
    with pytest.raises(ValueError, match="Overflow when unpacking long long"):
        rg.manual_seed(2**64)
    # The seeds each reads as PyTorch: manual_seed calls int() first; Generator.manual_seed
    # takes Python ints only, with PyTorch's errors.
    for seed in (np.int64(3), np.int32(3), True, 2.0, "3", None, 1.5, [1]):
        for name in ("module", "generator"):
            outcomes = []
            for lib in (rg, torch):
                call = lib.manual_seed if name == "module" else lib.Generator().manual_seed
                try:
                    call(seed)
                    outcomes.append(("ok", lib.initial_seed() if name == "module" else None))
                except Exception as e:  # noqa: BLE001 (the types are compared)
                    outcomes.append((type(e).__name__, str(e)))
            assert outcomes[0] == outcomes[1], (seed, name, outcomes)


@pytest.mark.cuda
def test_generators_and_samplers_on_cuda():
    g = rg.Generator(device="cuda").manual_seed(1)
    assert str(g.device) == "cuda:0"
    a = rg.rand(5, generator=g, device="cuda")
    assert a.device.type == "cuda"
    g.manual_seed(1)
    assert rg.randn(5, generator=g, device="cuda").device.type == "cuda"
    g.manual_seed(1)
    assert rg.rand(5, generator=g, device="cuda").tolist() == a.tolist()
    with pytest.raises(
        RuntimeError, match="Expected a 'cuda' device type for generator but found 'cpu'"
    ):
        rg.rand(2, generator=rg.Generator(), device="cuda")
    with pytest.raises(
        RuntimeError, match="Expected a 'cpu' device type for generator but found 'cuda'"
    ):
        rg.rand(2, generator=g)
    x = rg.randint(0, 5, (1000,), device="cuda")
    assert x.device.type == "cuda" and x.dtype is rg.int64
    assert set(vals(x).astype(int).tolist()) == {0, 1, 2, 3, 4}
    assert sorted(vals(rg.randperm(10, device="cuda")).astype(int).tolist()) == list(range(10))
    p = rg.rand(100, device="cuda")
    for out in (rg.bernoulli(p), rg.multinomial(p, 3), rg.normal(0.0, 1.0, (3,), device="cuda"),
                rg.normal(p, 1.0), rg.rand_like(p), rg.randn_like(p), rg.randint_like(p, 3),
                rg.zeros(3, device="cuda").uniform_(), rg.zeros(3, device="cuda").normal_(),
                rg.zeros(3, device="cuda").random_(4), rg.zeros(3, device="cuda").bernoulli_(),
                rg.zeros(3, device="cuda").exponential_()):  # fmt: skip
        assert out.device.type == "cuda"
    try:
        rg.set_default_device("cuda")
        assert rg.zeros(2).device.type == "cuda" and rg.rand(2).device.type == "cuda"
        assert rg.tensor([1.0]).device.type == "cuda"
        assert rg.zeros_like(rg.zeros(1, device="cpu")).device.type == "cpu"
    finally:
        rg.set_default_device(None)
    assert rg.zeros(2).device.type == "cpu"


# ----- size=, *_like, empty ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["rand", "randn", "zeros", "ones", "empty"])
def test_size_keyword(name):
    ours = getattr(rg, name)(size=(2, 3))
    theirs = getattr(torch, name)(size=(2, 3))
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]


@pytest.mark.parametrize(
    "name,args",
    [("zeros_like", ()), ("ones_like", ()), ("empty_like", ()), ("rand_like", ()),
     ("randn_like", ()), ("full_like", (2.5,)), ("randint_like", (3, 9))],
)  # fmt: skip
def test_like_functions_keep_shape_dtype_device(name, args):
    x = rg.zeros(2, 3, dtype=rg.float64)
    tx = torch.zeros(2, 3, dtype=torch.float64)
    ours, theirs = getattr(rg, name)(x, *args), getattr(torch, name)(tx, *args)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
    assert str(ours.device) == str(theirs.device)


# ----- distributions -------------------------------------------------------------------------


def test_rand_and_randn_moments():
    g = rg.Generator().manual_seed(0)
    u = vals(rg.rand(200_000, generator=g, dtype=rg.float64))
    z = vals(rg.randn(200_000, generator=g, dtype=rg.float64))
    assert u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
    assert abs(z.mean()) < 0.01 and abs(z.var() - 1) < 0.02


def chi_square(counts, expected):
    return float(((counts - expected) ** 2 / expected).sum())


def test_randint_is_uniform_over_its_range():
    rg.manual_seed(1)
    x = rg.randint(3, 13, (100_000,))
    t = torch.randint(3, 13, (4,))
    assert x.dtype is rg.int64 and t.dtype == torch.int64
    v = vals(x).astype(int)
    assert v.min() == 3 and v.max() == 12
    counts = np.bincount(v - 3, minlength=10)
    # 9 degrees of freedom: 27.9 is the 0.999 quantile.
    assert chi_square(counts, 10_000) < 27.9
    assert tuple(rg.randint(5, size=(2, 3)).shape) == (2, 3)
    assert rg.randint(0, 2, (3,), dtype=rg.float32).dtype is rg.float32
    with pytest.raises(RuntimeError, match="from=5 >= to=3"):
        rg.randint(5, 3, (2,))


def test_randperm_is_a_permutation_and_uniform():
    rg.manual_seed(2)
    for n in (0, 1, 7, 1000):
        p = vals(rg.randperm(n)).astype(int)
        assert sorted(p.tolist()) == list(range(n))
    # Where element 0 lands over many permutations of 4: uniform over 4 places.
    g = rg.Generator().manual_seed(9)
    firsts = np.bincount([vals(rg.randperm(4, generator=g)).astype(int).tolist().index(0)
                          for _ in range(4000)], minlength=4)  # fmt: skip
    assert chi_square(firsts, 1000) < 16.3  # 3 dof, 0.999
    assert rg.randperm(3).dtype is rg.int64


def test_normal_overloads():
    rg.manual_seed(3)
    a = rg.normal(2.0, 3.0, (100_000,))
    v = vals(a)
    assert abs(v.mean() - 2) < 0.05 and abs(v.std() - 3) < 0.05
    assert a.dtype is rg.float32 == rg.get_default_dtype()
    mean = rg.tensor([0.0, 10.0, -5.0], dtype=rg.float64)
    std = rg.tensor([1.0, 0.0, 2.0], dtype=rg.float64)
    b = rg.normal(mean, std)
    assert b.dtype is rg.float64 and tuple(b.shape) == (3,)
    assert vals(b)[1] == 10.0  # std 0 gives the mean
    assert tuple(rg.normal(mean, 1.0).shape) == (3,)
    assert tuple(rg.normal(1.0, std).shape) == (3,)
    with pytest.raises(RuntimeError, match="normal expects std >= 0.0"):
        rg.normal(0.0, -1.0, (2,))


def test_normal_of_tensors_requires_grad_with_zero_gradient_as_pytorch():
    m = rg.zeros(3, requires_grad=True)
    tm = torch.zeros(3, requires_grad=True)
    out, tout = rg.normal(m, 1.0), torch.normal(tm, 1.0)
    assert out.requires_grad == tout.requires_grad
    out.sum().backward()
    tout.sum().backward()
    assert m.grad.tolist() == tm.grad.tolist()


def test_bernoulli_edges_and_mean():
    rg.manual_seed(4)
    p = rg.tensor([0.0, 1.0, 0.0, 1.0])
    assert rg.bernoulli(p).tolist() == [0.0, 1.0, 0.0, 1.0]
    x = rg.bernoulli(rg.full((100_000,), 0.3))
    assert x.dtype is rg.float32
    assert abs(vals(x).mean() - 0.3) < 0.01
    assert abs(vals(rg.bernoulli(rg.zeros(50_000), 0.7)).mean() - 0.7) < 0.01
    with pytest.raises(RuntimeError, match="p_in >= 0 && p_in <= 1"):
        rg.bernoulli(rg.tensor([1.5]))


def test_multinomial_with_replacement_matches_the_weights():
    rg.manual_seed(5)
    w = rg.tensor([1.0, 0.0, 3.0, 6.0])
    s = rg.multinomial(w, 100_000, replacement=True)
    assert s.dtype is rg.int64 and tuple(s.shape) == (100_000,)
    counts = np.bincount(vals(s).astype(int), minlength=4)
    assert counts[1] == 0
    nz = counts[[0, 2, 3]]
    assert chi_square(nz, np.array([0.1, 0.3, 0.6]) * 100_000) < 13.8  # 2 dof, 0.999


def test_multinomial_without_replacement():
    rg.manual_seed(6)
    w = rg.tensor([[1.0, 2.0, 3.0, 4.0], [0.0, 5.0, 5.0, 0.0]])
    s = rg.multinomial(w, 2)
    assert tuple(s.shape) == (2, 2)
    for row in s.tolist():
        assert len(set(row)) == 2
    assert sorted(s.tolist()[1]) == [1, 2]
    # The first draw follows the weights: P(first = i) = w_i / sum(w).
    g = rg.Generator().manual_seed(1)
    firsts = vals(rg.multinomial(rg.tensor([1.0, 2.0, 3.0, 4.0]).expand(20_000, 4)
                                 .contiguous(), 3, generator=g))[:, 0].astype(int)  # fmt: skip
    counts = np.bincount(firsts, minlength=4)
    assert chi_square(counts, np.array([0.1, 0.2, 0.3, 0.4]) * 20_000) < 16.3
    with pytest.raises(RuntimeError, match="without replacement"):
        rg.multinomial(rg.tensor([1.0, 1.0]), 3)
    with pytest.raises(RuntimeError, match="element < 0"):
        rg.multinomial(rg.tensor([-1.0, 1.0]), 1, True)
    with pytest.raises(RuntimeError, match="sum of probabilities <= 0"):
        rg.multinomial(rg.tensor([0.0, 0.0]), 1, True)


# ----- in-place samplers ---------------------------------------------------------------------


def test_in_place_samplers():
    rg.manual_seed(7)
    x = rg.zeros(50_000, dtype=rg.float64)
    assert x.uniform_(2, 5) is x
    v = vals(x)
    assert v.min() >= 2 and v.max() < 5 and abs(v.mean() - 3.5) < 0.02
    v = vals(x.normal_(1.0, 2.0))
    assert abs(v.mean() - 1) < 0.05 and abs(v.std() - 2) < 0.05
    v = vals(x.exponential_(2.0))
    assert v.min() >= 0 and abs(v.mean() - 0.5) < 0.01
    v = vals(x.bernoulli_(0.25))
    assert set(np.unique(v)) <= {0.0, 1.0} and abs(v.mean() - 0.25) < 0.01
    v = vals(x.random_(3, 7))
    assert set(np.unique(v)) == {3.0, 4.0, 5.0, 6.0}
    v = vals(x.random_(4))
    assert set(np.unique(v)) == {0.0, 1.0, 2.0, 3.0}
    v = vals(rg.zeros(1000).random_())
    assert v.min() >= 0 and v.max() <= 2**24
    g = rg.Generator().manual_seed(1)
    a = rg.zeros(5).uniform_(generator=g).tolist()
    g.manual_seed(1)
    assert rg.zeros(5).uniform_(generator=g).tolist() == a


def test_in_place_sampler_on_a_leaf_that_requires_grad_raises_as_pytorch():
    x = rg.zeros(2, requires_grad=True)
    tx = torch.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError) as theirs:
        tx.uniform_()
    with pytest.raises(RuntimeError) as ours:
        x.uniform_()
    assert str(ours.value) == str(theirs.value)
    with rg.no_grad():
        x.uniform_()


# ----- defaults and legacy types --------------------------------------------------------------


def test_set_default_dtype():
    try:
        rg.set_default_dtype(rg.float64)
        assert rg.get_default_dtype() is rg.float64
        for make in (lambda: rg.tensor(1.5), lambda: rg.ones(2), lambda: rg.rand(2),
                     lambda: rg.Tensor(2), lambda: rg.arange(3) * 1.5, lambda: rg.full((2,), 1.5),
                     lambda: rg.normal(0.0, 1.0, (2,))):  # fmt: skip
            assert make().dtype is rg.float64
        assert rg.tensor(1).dtype is rg.int64
        with pytest.raises(TypeError):
            rg.set_default_dtype(rg.int64)
    finally:
        rg.set_default_dtype(rg.float32)
    assert rg.tensor(1.5).dtype is rg.float32


def test_set_default_device_cpu():
    rg.set_default_device("cpu")
    assert str(rg.get_default_device()) == "cpu"
    assert rg.zeros(2).device.type == "cpu"
    rg.set_default_device(None)


@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "LongTensor", "BoolTensor"])
def test_legacy_tensor_types(name):
    ours, theirs = getattr(rg, name), getattr(torch, name)
    a, ta = ours(2, 3), theirs(2, 3)
    assert tuple(a.shape) == tuple(ta.shape)
    assert str(a.dtype).split(".")[1] == str(ta.dtype).split(".")[1]
    b, tb = ours([1, 0]), theirs([1, 0])
    assert b.tolist() == tb.tolist()
    assert type(b) is rg.Tensor
    for dtype in ("float32", "float64", "int64", "bool"):
        x, tx = rg.zeros(1, dtype=getattr(rg, dtype)), torch.zeros(1, dtype=getattr(torch, dtype))
        assert isinstance(x, ours) == isinstance(tx, theirs)


def test_tensor_constructor_forms():
    assert tuple(rg.Tensor(2, 3).shape) == tuple(torch.Tensor(2, 3).shape)
    assert rg.Tensor([1, 2]).tolist() == torch.Tensor([1, 2]).tolist()
    assert rg.Tensor([1, 2]).dtype is rg.float32


def test_generator_is_not_reseeded_global_state():
    # Two generators interleaved give the streams they give alone.
    g1, g2 = rg.Generator().manual_seed(1), rg.Generator().manual_seed(2)
    a1 = rg.rand(3, generator=g1).tolist()
    a2 = rg.rand(3, generator=g2).tolist()
    b1 = rg.rand(3, generator=g1).tolist()
    h1 = rg.Generator().manual_seed(1)
    assert rg.rand(6, generator=h1).tolist() == a1 + b1
    assert a1 != a2
    assert math.isfinite(sum(a1))


@pytest.mark.parametrize(
    "name", ["uniform_", "normal_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
             "kaiming_normal_"],
)  # fmt: skip
def test_nn_init_takes_a_generator(name):
    init = getattr(rg.nn.init, name)
    g = rg.Generator().manual_seed(11)
    a = init(rg.zeros(4, 3), generator=g).tolist()
    rg.rand(10)  # the default generator moving changes nothing
    g.manual_seed(11)
    assert init(rg.zeros(4, 3), generator=g).tolist() == a
    # PyTorch's nn.init takes generator= under the same name.
    getattr(torch.nn.init, name)(torch.zeros(4, 3), generator=torch.Generator())


# ----- PyTorch's stream ------------------------------------------------------------------------


def _same(a, b) -> bool:
    """Bit-equal values (NaN nowhere), of equal shapes."""
    a = a if isinstance(a, (list, tuple)) else [a]
    b = b if isinstance(b, (list, tuple)) else [b]
    return len(a) == len(b) and all(
        tuple(x.shape) == tuple(y.shape)
        and np.array_equal(x.detach().double().numpy(), y.detach().double().numpy())
        for x, y in zip(a, b)
    )


# Each case is called with the library (rustgrad or torch) after manual_seed; sizes straddle
# the 16-element blocks of PyTorch's normal kernel and its other branches.
STREAM_CASES = {
    "rand": lambda T: [T.rand(5), T.rand(3, 40), T.rand(7, dtype=T.float64)],
    "rand-half": lambda T: [T.rand(40, dtype=T.float16), T.rand(9, dtype=T.bfloat16)],
    "randn-small-cached": lambda T: [T.randn(3), T.randn(2), T.randn(1, dtype=T.float64)],
    "randn-blocks": lambda T: [T.randn(16), T.randn(17), T.randn(37), T.randn(10, 100)],
    "randn-float64": lambda T: [T.randn(15, dtype=T.float64), T.randn(37, dtype=T.float64)],
    "randn-half": lambda T: [T.randn(40, dtype=T.float16), T.randn(33, dtype=T.bfloat16)],
    "normal_-mean-std": lambda T: [
        T.empty(40).normal_(0.3, 2.5),
        T.empty(40, dtype=T.float64).normal_(-1.5, 0.1),
        T.empty(5).normal_(0.3, 2.5),
        T.empty(8, 6).t().normal_(0.3, 2.5),
    ],
    "uniform_": lambda T: [
        T.empty(50).uniform_(-0.37, 0.37),
        T.empty(50, dtype=T.float64).uniform_(-7.3, 1e-3),
        T.empty(5, 3).t().uniform_(-1, 2),
    ],
    "randint": lambda T: [
        T.randint(0, 10, (20,)),
        T.randint(-(2**40), 2**40, (20,)),
        T.randint(3, 17, (20,), dtype=T.int32),
        T.randint(0, 10, (20,), dtype=T.float32),
        T.randint_like(T.zeros(2, 3), 4, 9),
    ],
    "randperm": lambda T: [T.randperm(0), T.randperm(1), T.randperm(10), T.randperm(1000)],
    "random_": lambda T: [
        T.empty(5, dtype=T.int64).random_(),
        T.empty(5).random_(),
        T.empty(5, dtype=T.float64).random_(),
        T.empty(5, dtype=T.uint8).random_(),
        T.empty(9, dtype=T.bool).random_(),
        T.empty(9).random_(7),
        T.empty(4, dtype=T.int32).random_(-3, 3),
    ],
    "bernoulli": lambda T: [
        T.bernoulli(T.full((20,), 0.3)),
        T.bernoulli(T.full((20,), 0.3, dtype=T.float64)),
        T.empty(20).bernoulli_(0.3),
        T.rand(4, 5).bernoulli_(T.rand(5)),
        T.empty(4, 4).t().bernoulli_(0.7),
    ],
    "other-samplers": lambda T: [
        T.empty(50).cauchy_(1.0, 2.0),
        T.empty(50, dtype=T.float64).cauchy_(),
        T.empty(50).geometric_(0.3),
        T.empty(6, 5, dtype=T.int64).t().geometric_(0.7),
        T.empty(50).log_normal_(0.5, 0.3),
        T.empty(20, dtype=T.float64).log_normal_(),
        T.rand(3, 5).multinomial(2),
    ],
    "activation-dropout": lambda T: [
        T.nn.functional.alpha_dropout(T.randn(40), 0.3, True),
        T.nn.functional.feature_alpha_dropout(T.randn(4, 5, 3), 0.3, True),
        T.nn.AlphaDropout(0.2)(T.randn(40)),
        T.nn.Dropout3d(0.4)(T.ones(2, 3, 2, 2, 2)),
        T.nn.functional.dropout3d(T.ones(3, 2, 2, 2), 0.4),
        T.nn.functional.rrelu(T.randn(500), training=True),
        T.nn.functional.rrelu(T.randn(300, dtype=T.float64), 0.2, 0.4, training=True),
        # (scaled in float32, then rounded once)
        T.nn.functional.rrelu(T.randn(300).to(T.bfloat16), training=True),
        T.nn.RReLU(0.1, 0.3)(T.randn(50)),
        T.nn.functional.gumbel_softmax(T.randn(4, 6), hard=True),
    ],
    "exponential_": lambda T: [
        T.empty(20).exponential_(2.0),
        T.empty(20, dtype=T.float64).exponential_(0.5),
    ],
    "multinomial": lambda T: [
        T.multinomial(T.tensor([0.1, 0.2, 0.3, 0.4]), 3),
        T.multinomial(T.tensor([[0.1, 0.2, 0.3, 0.4], [1.0, 1.0, 0.0, 2.0]]), 1),
        T.multinomial(T.rand(3, 50), 5),
        T.multinomial(T.rand(50, dtype=T.float64), 60, replacement=True),
        T.multinomial(T.tensor([[0.1, 0.2, 0.3, 0.4], [1.0, 1.0, 0.0, 2.0]]), 10, True),
        T.multinomial(T.rand(4, 3).t(), 2),
        T.multinomial(T.tensor([0.0, 1.0, 0.0]), 2),
    ],
    "normal": lambda T: [
        T.normal(T.zeros(20), T.full((20,), 2.0)),
        T.normal(T.ones(20), 2.0),
        T.normal(T.ones(5), 2.0),
        T.normal(2.0, T.rand(3, 7)),
        T.normal(1.5, 2.0, (30,)),
        T.normal(0.0, 1.0, size=(40,), dtype=T.float64),
    ],
    "like": lambda T: [T.rand_like(T.zeros(3, 4)), T.randn_like(T.zeros(30, 4))],
    # (PyTorch's empty_like keeps a transposed input's layout, and fills it in memory order)
    "like-transposed": lambda T: [
        T.rand_like(T.zeros(6, 8).t()),
        T.randn_like(T.zeros(6, 8).t()),
        T.randint_like(T.zeros(6, 8).t(), 10),
        T.randint_like(T.zeros(3), high=10),
        T.randint(low=2, high=5, size=(4,)),
    ],
    # (64-bit words from a range of 2**28 on, whatever the dtype)
    "randint-wide": lambda T: [
        T.randint(0, 2**31 - 1, (3,)),
        T.randint(0, 2**28, (5,), dtype=T.int32),
        T.empty(4, dtype=T.int32).random_(0, 2**30),
        T.empty(4, dtype=T.int64).random_(5, None),
        T.empty(4).random_(3, None),
    ],
    # (a draw that rounds up to the upper bound reads the lower one)
    "uniform-upper-bound": lambda T: [
        T.rand(20000, dtype=T.bfloat16),
        T.rand(20000, dtype=T.float16),
        T.empty(200000).uniform_(100, 101),
    ],
    "generator": lambda T: [
        T.rand(5, generator=T.Generator().manual_seed(7)),
        T.randn(50, generator=T.Generator().manual_seed(7)),
    ],
    "dropout": lambda T: [
        T.nn.functional.dropout(T.ones(40), 0.3),
        T.nn.functional.dropout(T.ones(6, 8).t(), 0.3),
        T.nn.functional.dropout(T.ones(8, dtype=T.float16), 0.3),
        T.nn.Dropout(0.2)(T.ones(50)),
        T.nn.Dropout2d(0.5)(T.ones(2, 8, 3, 3)),
    ],
    "layer-init": lambda T: list(
        T.nn.Sequential(
            T.nn.Conv1d(3, 4, 5),
            T.nn.Conv2d(2, 3, (2, 3)),
            T.nn.ConvTranspose2d(3, 2, 3),
            T.nn.Linear(3, 9),
            T.nn.GRU(3, 5, num_layers=2),
            T.nn.RNN(2, 3),
            T.nn.LSTM(3, 4, bidirectional=True),
            T.nn.Embedding(7, 3),
            T.nn.MultiheadAttention(8, 2),
            T.nn.TransformerEncoderLayer(8, 2, 16),
        ).parameters()
    ),
    "init": lambda T: [
        T.nn.init.kaiming_normal_(T.empty(5, 6)),
        T.nn.init.xavier_uniform_(T.empty(5, 6)),
        T.nn.init.xavier_normal_(T.empty(20, 30)),
        T.nn.init.kaiming_uniform_(T.empty(4, 3, 2, 2), a=0.1),
        T.nn.init.kaiming_uniform_(T.empty(7, 13, dtype=T.float64)),
        T.nn.init.trunc_normal_(T.empty(50, 40)),
        T.nn.init.trunc_normal_(T.empty(50, 40), std=0.02),
        T.nn.init.trunc_normal_(T.empty(300), mean=0.0, std=1.0, a=1.5, b=3.0),
        T.nn.init.sparse_(T.empty(10, 6), 0.3),
        T.nn.init.dirac_(T.empty(6, 3, 3, 3), 2),
        T.nn.init.dirac_(T.empty(4, 4, 5)),
    ],
    "data": lambda T: [
        T.cat(
            [
                b[0]
                for b in T.utils.data.DataLoader(
                    T.utils.data.TensorDataset(T.arange(20)), batch_size=3, shuffle=True
                )
            ]
        ),
        T.tensor(T.utils.data.random_split(range(10), [3, 7])[0].indices),
    ],
}


@pytest.mark.parametrize("seed", [0, 1234, 2**40 + 3])
@pytest.mark.parametrize("case", list(STREAM_CASES))
def test_seeded_draws_are_pytorchs(case, seed):
    """Seeded alike, each sampler gives PyTorch's values bit for bit, and the draw after it
    agrees too (the generator moved as far as PyTorch's)."""
    rg.manual_seed(seed)
    ours = STREAM_CASES[case](rg)
    after = rg.rand(3)
    torch.manual_seed(seed)
    theirs = STREAM_CASES[case](torch)
    assert _same(ours, theirs)
    assert _same(after, torch.rand(3))


def test_large_float32_normal_draws_are_pytorchs():
    """A million float32 normals: PyTorch's vectorised log and sincos, operation for
    operation (a one-ulp slip anywhere shows here)."""
    rg.manual_seed(3)
    torch.manual_seed(3)
    assert _same(rg.randn(1_000_003), torch.randn(1_000_003))
    assert _same(rg.empty(100_000).normal_(-3.5, 0.01), torch.empty(100_000).normal_(-3.5, 0.01))


@pytest.mark.cuda
def test_a_cuda_draw_leaves_the_cpu_stream_alone():
    rg.manual_seed(2)
    torch.manual_seed(2)
    rg.randn(5, device="cuda")
    rg.empty(3, device="cuda").uniform_()
    assert _same(rg.rand(4), torch.rand(4))


# Refusals, with PyTorch's exception types and words.
REFUSALS = [
    lambda T: T.zeros(3, dtype=T.int64).uniform_(),
    lambda T: T.zeros(3, dtype=T.bool).uniform_(),
    lambda T: T.zeros(3, dtype=T.int64).normal_(),
    lambda T: T.zeros(3, dtype=T.int64).exponential_(),
    lambda T: T.zeros(3).uniform_(0, float("inf")),
    lambda T: T.zeros(3).uniform_(float("-inf"), 0),
    lambda T: T.zeros(3).normal_(0, float("nan")),
    lambda T: T.zeros(3).bernoulli_(1.5),
    lambda T: T.randperm(-1),
    lambda T: T.bernoulli(T.zeros(3, dtype=T.int64)),
    lambda T: T.multinomial(T.ones(3, dtype=T.int64), 1),
    lambda T: T.rand(3, dtype=T.int64),
    lambda T: T.nn.functional.rrelu(T.tensor([-1, 2]), training=True),
    lambda T: T.nn.functional.rrelu(T.ones(2, dtype=T.float16), training=True, inplace=True),
]


@pytest.mark.parametrize("case", range(len(REFUSALS)))
def test_samplers_refuse_as_pytorch(case):
    with pytest.raises(Exception) as theirs:
        REFUSALS[case](torch)
    with pytest.raises(type(theirs.value)) as ours:
        REFUSALS[case](rg)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("shape", [(6, 4), (3, 2, 4), (5, 5)])
def test_orthogonal_init_is_pytorchs(shape):
    """The same normal draws factorised: PyTorch's matrix up to QR rounding, orthogonal."""
    rg.manual_seed(3)
    torch.manual_seed(3)
    ours = rg.nn.init.orthogonal_(rg.empty(*shape), gain=2.0).numpy()
    theirs = torch.nn.init.orthogonal_(torch.empty(*shape), gain=2.0).numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-6)
    flat = ours.reshape(shape[0], -1) / 2.0
    small = flat @ flat.T if shape[0] <= flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(small, np.eye(len(small)), atol=1e-5)
    assert _same(rg.rand(3), torch.rand(3))


GRADIENT_CASES = {
    "rrelu": lambda T, x: T.nn.functional.rrelu(x, training=True),
    "gumbel-soft": lambda T, x: T.nn.functional.gumbel_softmax(x, tau=0.7),
    "gumbel-hard": lambda T, x: T.nn.functional.gumbel_softmax(x, hard=True),
    "alpha-dropout": lambda T, x: T.nn.functional.alpha_dropout(x, 0.3, True),
    "dropout3d": lambda T, x: T.nn.functional.dropout3d(x.reshape(1, 2, 3, 2, 2), 0.5),
}


@pytest.mark.parametrize("case", list(GRADIENT_CASES))
def test_random_layers_give_pytorchs_gradients(case):
    """Seeded alike, the same draws: PyTorch's outputs and input gradients (float64)."""
    results = []
    for lib in (rg, torch):
        lib.manual_seed(4)
        x = lib.randn(4, 6, dtype=lib.float64).requires_grad_()
        y = GRADIENT_CASES[case](lib, x)
        weights = lib.arange(y.numel(), dtype=lib.float64).reshape(tuple(y.shape))
        (y * weights).sum().backward()
        results.append((y.detach().numpy(), x.grad.numpy()))
    (y, g), (ty, tg) = results
    np.testing.assert_allclose(y, ty, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(g, tg, rtol=1e-12, atol=1e-14)
