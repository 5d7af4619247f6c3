"""Creation and randomness: Generator (its own state in Rust), the samplers and their
distributions (statistical checks at fixed seeds), ``size=``, default dtype and device, legacy
tensor types. The streams are rustgrad's own (not PyTorch's values); shapes, dtypes and errors
are compared with PyTorch."""

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
    with pytest.raises(RuntimeError):
        g.set_state(rg.zeros(5, dtype=rg.int64))  # an all-zero xoshiro state
    with pytest.raises(RuntimeError):
        g.set_state(rg.ones(3))


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
    with pytest.raises(RuntimeError, match="Overflow"):
        rg.manual_seed(2**64)
    with pytest.raises(TypeError):
        rg.Generator().manual_seed(1.5)


def test_generator_device_must_match():
    g = rg.Generator()
    with pytest.raises((RuntimeError, Exception)):
        rg.rand(2, generator=g, device="cuda")


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
