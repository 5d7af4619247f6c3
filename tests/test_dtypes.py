"""The dtypes of issue 11 point 4 (uint8, int8, int16, int32, float16, bfloat16) beside
bool/int64/float32/float64: the dtype objects, casts, creation, NumPy round trips, printing,
legacy types, pickling, PyTorch's promotion table and the arithmetic on them, each compared
with the reference PyTorch (same values, same dtype, same exception type and message)."""

import io
import math
import pickle

import numpy as np
import pytest
import rustgrad as rg

torch = pytest.importorskip("torch")

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64"]
NAMES += ["float16", "bfloat16", "float32", "float64"]
NEW = ["uint8", "int8", "int16", "int32", "float16", "bfloat16"]
ALIASES = ["short", "int", "half", "long", "double", "float"]


def _dt(m, name):
    return getattr(m, name)


def _plain(r):
    """A result in a form both libraries give alike: values, dtype names, no module prefix."""
    if isinstance(r, (rg.Tensor, torch.Tensor)):
        return (str(r.dtype).split(".")[-1], tuple(r.shape), _values(r))
    if isinstance(r, (rg.dtype, torch.dtype)):
        return str(r).split(".")[-1]
    if isinstance(r, str):
        return r.replace("torch.", "").replace("rustgrad.", "")
    if isinstance(r, (list, tuple)):
        return type(r)(_plain(x) for x in r)
    return r


def _values(t):
    """Element values, NaN-aware (bfloat16 through float32: NumPy has no bfloat16)."""
    if t.dtype in (torch.bfloat16, rg.bfloat16):
        t = t.float()
    v = t.tolist()
    flat = np.asarray(v, dtype=object).ravel().tolist()
    return [("nan" if isinstance(x, float) and math.isnan(x) else x) for x in flat]


def _outcome(f):
    try:
        r = f()
    except Exception as e:  # noqa: BLE001 (the exception type and message are compared)
        return type(e).__name__, _plain(str(e))
    return _plain(r)


def _same(case):
    assert _outcome(lambda: case(rg)) == _outcome(lambda: case(torch))


# ----- dtype objects --------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES + ALIASES)
def test_dtype_attributes_match_pytorch(name):
    def case(m):
        d = _dt(m, name)
        return (str(d), d.is_floating_point, d.itemsize, d.is_signed)

    _same(case)


@pytest.mark.parametrize("name", NAMES)
def test_finfo_iinfo_match_pytorch(name):
    def case(m):
        d = _dt(m, name)
        if d.is_floating_point:
            f = m.finfo(d)
            return (f.bits, f.eps, f.max, f.min, f.tiny, f.smallest_normal, f.resolution, f.dtype)
        if name == "bool":
            return "skip"  # PyTorch's iinfo refuses bool with its own message; not mirrored
        i = m.iinfo(d)
        return (i.bits, i.max, i.min, i.dtype)

    _same(case)


def test_finfo_default_and_errors():
    assert rg.finfo().dtype == torch.finfo().dtype == "float32"
    with pytest.raises(TypeError):
        rg.finfo(rg.int32)
    with pytest.raises(TypeError):
        rg.iinfo(rg.float16)


# ----- creation, casts ------------------------------------------------------------------------

DATA = [[0, 1, -1, 127], [-128, 255, 300, -3]]
FDATA = [0.0, 1.5, -2.25, 65504.0, 1e-3, 3.0e38, -7.0, 0.1]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "make",
    [
        "tensor_ints",
        "tensor_floats",
        "zeros",
        "ones",
        "full",
        "arange",
        "empty_shape",
        "zeros_like",
    ],
)
def test_creation_with_dtype(name, make):
    def case(m):
        d = _dt(m, name)
        if make == "tensor_ints":
            return m.tensor(DATA, dtype=d)
        if make == "tensor_floats":
            return m.tensor([0.0, 1.5, -2.25, 100.75], dtype=d)
        if make == "zeros":
            return m.zeros(2, 3, dtype=d)
        if make == "ones":
            return m.ones(3, dtype=d)
        if make == "full":
            return m.full((2,), 7, dtype=d)
        if make == "arange":
            return m.arange(5, dtype=d)
        if make == "empty_shape":
            return m.zeros(0, 2, dtype=d).shape
        return m.zeros_like(m.ones(2, 2), dtype=d)

    _same(case)


@pytest.mark.parametrize("src", NAMES)
@pytest.mark.parametrize("dst", NAMES)
def test_cast_every_pair(src, dst):
    # Values every source type holds exactly; integer targets wrap as PyTorch's casts.
    data = [0, 1, 2, 100, 127] if src in ("bool",) else [0, 1, -1, 100, 127, 126]
    if src == "uint8":
        data = [0, 1, 255, 100, 127, 200]

    def case(m):
        return m.tensor(data).to(_dt(m, src)).to(_dt(m, dst))

    _same(case)


@pytest.mark.parametrize("dst", NEW)
def test_int64_into_narrow_types_wraps(dst):
    _same(lambda m: m.tensor([300, -1, 128, -129, 2**40 + 5, 65537]).to(_dt(m, dst)))


@pytest.mark.parametrize("src", ["float32", "float64", "float16"])
@pytest.mark.parametrize("dst", ["int64", "int32", "int16", "int8", "uint8"])
def test_float_out_of_range_into_integers_as_torch_on_x86(src, dst):
    """NaN, infinities and values past the target's range: int64 converts at 64 bits, the
    narrower types at 32 bits and then wrap (PyTorch's x86 results, not saturation)."""
    data = [np.nan, np.inf, -np.inf, 1e30, -1e30, 3e9, -3e9, 300.7, -300.7, 70000.5, 1.5, -1.5]
    data += [2.0**63, -(2.0**63), 2.0**31, -(2.0**31), -(2.0**31) - 0.5]
    _same(lambda m: m.tensor(data, dtype=m.float64).to(_dt(m, src)).to(_dt(m, dst)))
    # copy_ into an integer tensor takes the same conversion
    _same(lambda m: m.zeros(len(data), dtype=_dt(m, dst)).copy_(m.tensor(data, dtype=_dt(m, src))))  # fmt: skip


@pytest.mark.parametrize("dst", ["float16", "bfloat16"])
def test_float_rounding_into_half_types(dst):
    _same(lambda m: m.tensor(FDATA, dtype=m.float64).to(_dt(m, dst)))
    _same(lambda m: m.tensor(FDATA).to(_dt(m, dst)).to(m.float64))


@pytest.mark.parametrize("method", ["int", "short", "half", "bfloat16", "char", "byte", "long"])
def test_cast_methods(method):
    _same(lambda m: getattr(m.tensor([1.5, -2.0, 3.0]), method)())


def test_cast_method_returns_self_when_same_dtype():
    t = rg.tensor([1, 2], dtype=rg.int32)
    assert t.int() is t


@pytest.mark.parametrize(
    "arg",
    [
        "torch.IntTensor",
        "torch.ShortTensor",
        "torch.ByteTensor",
        "torch.CharTensor",
        "torch.HalfTensor",
        "torch.BFloat16Tensor",
        "torch.DoubleTensor",
        "int16",
        "bad",
    ],
)
def test_type_with_a_name_or_dtype(arg):
    def case(m):
        t = m.tensor([1.5, 2.5])
        if arg == "int16":
            return t.type(m.int16)
        return t.type(arg)

    _same(case)


@pytest.mark.parametrize("name", NAMES)
def test_type_without_argument_is_the_legacy_name(name):
    _same(lambda m: m.tensor([1, 0]).to(_dt(m, name)).type())


@pytest.mark.parametrize(
    "legacy",
    ["IntTensor", "ShortTensor", "CharTensor", "ByteTensor", "HalfTensor", "BFloat16Tensor"],
)
def test_legacy_types(legacy):
    def case(m):
        cls = getattr(m, legacy)
        t = cls([1, 2])
        return (t, cls(2, 3).shape, isinstance(t, cls), isinstance(m.zeros(1), cls))

    _same(case)


@pytest.mark.parametrize("name", NAMES)
def test_element_size(name):
    _same(lambda m: m.zeros(2, dtype=_dt(m, name)).element_size())


# ----- NumPy ----------------------------------------------------------------------------------

NP = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


@pytest.mark.parametrize("name", NP)
def test_numpy_round_trip_keeps_the_dtype(name):
    def case(m):
        a = np.array([[1, 0, 3], [4, 5, 0]]).astype(name)
        t = m.from_numpy(a)
        shared = t.numpy() is not None and np.shares_memory(t.numpy(), a)
        copy = m.tensor(a)
        return (t, shared, str(t.numpy().dtype), copy, str(copy.numpy().dtype))

    _same(case)


@pytest.mark.parametrize("name", NP)
def test_from_numpy_shares_memory(name):
    a = np.array([1, 0, 3]).astype(name)
    t = rg.from_numpy(a)
    a[1] = 1
    assert t.tolist() == torch.from_numpy(a).tolist()


def test_bfloat16_numpy_raises_pytorchs_type_error():
    _same(lambda m: m.ones(2, dtype=m.bfloat16).numpy())


# ----- printing -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "data", [[1, 2], [[1, 0], [3, 4]], [0.5, 1.25, -3.0], [1e-4, 12345.0], [], 3, [65504.0, 1e-8]]
)
def test_repr_matches_pytorch(name, data):
    def case(m):
        return repr(m.tensor(data).to(_dt(m, name)))

    _same(case)


# ----- pickling, save/load --------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_pickle_and_save_keep_the_dtype(name):
    t = rg.tensor([1, 0, 3]).to(_dt(rg, name))
    u = pickle.loads(pickle.dumps(t))
    assert u.dtype is t.dtype and _values(u) == _values(t)
    assert pickle.loads(pickle.dumps(t.dtype)) is t.dtype
    buf = io.BytesIO()
    rg.save({"t": t}, buf)  # PyTorch's format: every dtype, bfloat16 included
    buf.seek(0)
    v = rg.load(buf)["t"]
    assert v.dtype is t.dtype and _values(v) == _values(t)


# ----- type promotion -------------------------------------------------------------------------


@pytest.mark.parametrize("a", NAMES)
@pytest.mark.parametrize("b", NAMES)
def test_promotion_of_every_pair_for_add(a, b):
    def case(m):
        x = m.tensor([1, 0, 1]).to(_dt(m, a))
        y = m.tensor([1, 1, 0]).to(_dt(m, b))
        return (x + y, m.promote_types(_dt(m, a), _dt(m, b)) if hasattr(m, "promote_types") else 0)

    r, t = _outcome(lambda: case(rg)), _outcome(lambda: case(torch))
    assert r[0] == t[0]


@pytest.mark.parametrize("a", NAMES)
@pytest.mark.parametrize("b", NAMES)
def test_promotion_with_a_0d_tensor(a, b):
    _same(lambda m: m.tensor([1, 0, 1]).to(_dt(m, a)) + m.tensor(1).to(_dt(m, b)))


@pytest.mark.parametrize("a", NAMES)
@pytest.mark.parametrize("scalar", [True, 2, -1, 2.5])
def test_promotion_with_a_python_scalar(a, scalar):
    _same(lambda m: m.tensor([1, 0, 1]).to(_dt(m, a)) + scalar)
    _same(lambda m: scalar + m.tensor([1, 0, 1]).to(_dt(m, a)))


# ----- arithmetic on the new dtypes -----------------------------------------------------------


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32"])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "neg", "abs"])
def test_integer_arithmetic_wraps(name, op):
    def case(m):
        info = np.iinfo(name)
        x = m.tensor([info.max, info.min, 100, 0]).to(_dt(m, name))
        y = m.tensor([1, -1, 100, 5]).to(_dt(m, name))
        if op == "neg":
            return -x
        if op == "abs":
            return x.abs()
        return getattr(x, op)(y)

    _same(case)


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32"])
@pytest.mark.parametrize("op", ["floordiv", "mod", "truediv"])
def test_integer_division_rules(name, op):
    def case(m):
        a = [7, -7, 7, -7, 0] if name != "uint8" else [7, 200, 9, 13, 0]
        b = [2, 2, -2, -2, 3] if name != "uint8" else [2, 3, 4, 5, 3]
        x, y = m.tensor(a).to(_dt(m, name)), m.tensor(b).to(_dt(m, name))
        return {"floordiv": x // y, "mod": x % y, "truediv": x / y}[op]

    _same(case)


@pytest.mark.parametrize("name", ["float16", "bfloat16"])
@pytest.mark.parametrize(
    "op", ["add", "mul", "div", "exp", "sin", "sqrt", "tanh", "sigmoid", "pow", "relu", "neg"]
)
def test_half_types_compute_in_float32_and_round_back(name, op):
    def case(m):
        x = m.tensor([0.1, 1.7, 2.3, 0.33, 5.5]).to(_dt(m, name))
        y = m.tensor([3.1, -0.7, 1.9, 0.2, 1.1]).to(_dt(m, name))
        if op in ("add", "mul", "div"):
            return getattr(x, op)(y)
        if op == "pow":
            return x**2.5
        if op == "neg":
            return -x
        return getattr(x, op)()

    _same(case)


_HALF_SCALAR_CASES = {
    # PyTorch's kernels read a scalar second operand of mul/div (and floor/trunc division)
    # unrounded, in float32; the other ops, and the power of pow, round it to the half type.
    "mul": lambda x, s, m: x * s,
    "rmul": lambda x, s, m: s * x,
    "div": lambda x, s, m: x / s,
    "rdiv": lambda x, s, m: s / x,
    "mul_": lambda x, s, m: x.clone().mul_(s),
    "div_": lambda x, s, m: x.clone().div_(s),
    "floordiv": lambda x, s, m: x // s,
    "trunc": lambda x, s, m: m.div(x, s, rounding_mode="trunc"),
    "floor": lambda x, s, m: x.div(s, rounding_mode="floor"),
    "mul_0d_float32": lambda x, s, m: x * m.tensor(s),
    "mul_0d_float64": lambda x, s, m: x * m.tensor(s, dtype=m.float64),
    "0d_half_times_number": lambda x, s, m: x[3] * s,
    "add": lambda x, s, m: x + s,
    "rsub": lambda x, s, m: s - x,
    "lt": lambda x, s, m: x < s,
    "pow": lambda x, s, m: x ** (s % 3),
    "rpow": lambda x, s, m: (s % 3) ** x,
    "remainder": lambda x, s, m: x % s,
    "where": lambda x, s, m: m.where(x > 2, x, s),
}


@pytest.mark.parametrize("name", ["float16", "bfloat16"])
@pytest.mark.parametrize("scalar", [0.1, 1.7, 3.3333, 7, 4097])
@pytest.mark.parametrize("op", sorted(_HALF_SCALAR_CASES))
def test_half_types_with_a_python_number_round_as_pytorch(name, scalar, op):
    # 2,048 values between 0.5 and 4.5: a rounded scalar changes about a third of products.
    values = np.random.default_rng(0).uniform(0.5, 4.5, 2048).astype(np.float32)
    _same(lambda m: _HALF_SCALAR_CASES[op](m.tensor(values).to(_dt(m, name)), scalar, m))


@pytest.mark.parametrize("name", ["float16", "bfloat16"])
@pytest.mark.parametrize("op", ["mul", "div", "rdiv", "pow"])
def test_half_gradients_through_a_python_number_match_pytorch(name, op):
    f = {"mul": lambda x: x * 1.7, "div": lambda x: x / 1.7, "rdiv": lambda x: 1.7 / x,
         "pow": lambda x: x**1.7}[op]  # fmt: skip
    values = np.random.default_rng(1).uniform(0.5, 4.5, 512).astype(np.float32)
    g = np.random.default_rng(2).uniform(0, 1, 512).astype(np.float32)

    def case(m):
        x = m.tensor(values).to(_dt(m, name)).requires_grad_()
        f(x).backward(m.tensor(g).to(_dt(m, name)))
        return x.grad

    _same(case)


def test_division_rounding_modes_match_pytorch():
    def case(m):
        a = m.tensor([7.0, -7.0, 7.5, -7.5, 0.0, 1.0, -1.0], requires_grad=True)
        ints = m.tensor([7, -7, 7, -7, 0, 6, -6])
        out = []
        for mode in ("trunc", "floor"):
            out += [m.div(a, 2, rounding_mode=mode), a.div(m.tensor(-2.0), rounding_mode=mode)]
            out += [m.div(ints, 2, rounding_mode=mode), ints.div(-4, rounding_mode=mode)]
            out += [m.div(ints, m.tensor([2, 2, -2, -2, 3, 4, 4]), rounding_mode=mode)]
            out += [m.div(a.detach(), 0, rounding_mode=mode), a.div(2, rounding_mode=None)]
            y = a.div(3, rounding_mode=mode)
            (grad,) = m.autograd.grad(y.sum(), a)
            out += [y.grad_fn.name(), grad]
            z = ints.clone()
            z.div_(3, rounding_mode=mode)
            out.append(z)
        return out

    _same(case)
    for bad in (
        lambda m: m.div(m.ones(2), 2, rounding_mode="round"),
        lambda m: m.div(m.tensor([7]), 0, rounding_mode="trunc"),
        lambda m: m.tensor([True]).div(m.tensor([True]), rounding_mode="floor"),
        lambda m: m.tensor([5]).div_(2),
    ):
        _same(bad)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("red", ["sum", "sum_dim", "max", "min", "argmax", "mean", "prod"])
def test_reductions(name, red):
    def case(m):
        x = m.tensor([[1, 0, 3], [4, 5, 1]]).to(_dt(m, name))
        if red == "sum_dim":
            return x.sum(1)
        return getattr(x, red)()

    _same(case)


@pytest.mark.parametrize("name", NAMES)
def test_comparisons_where_cat_stack_index(name):
    def case(m):
        d = _dt(m, name)
        x = m.tensor([[1, 0, 3], [4, 5, 1]]).to(d)
        y = m.tensor([[1, 1, 0], [4, 0, 2]]).to(d)
        return [
            x == y,
            x < y,
            x >= y,
            m.where(x > y, x, y),
            m.cat([x, y]),
            m.stack([x, y], 1),
            x[1],
            x[:, [2, 0]],
            x.t().contiguous(),
            x.gather(1, m.tensor([[0, 0], [2, 1]])),
            x.index_select(0, m.tensor([1, 1, 0])),
            x.flatten(),
        ]

    _same(case)


@pytest.mark.parametrize("name", ["float16", "bfloat16", "int8", "uint8", "int16", "int32"])
def test_matmul(name):
    def case(m):
        d = _dt(m, name)
        x = m.tensor([[1.0, 2.0, 0.5], [3.0, 0.25, 1.0]]).to(d)
        y = m.tensor([[1.0, 0.0], [2.0, 1.0], [4.0, 3.0]]).to(d)
        return x @ y

    _same(case)


@pytest.mark.parametrize("name", ["float16", "bfloat16"])
def test_half_autograd_keeps_the_dtype(name):
    def case(m):
        x = m.tensor([0.5, 1.5, -2.0]).to(_dt(m, name)).requires_grad_()
        (x.exp() * x).sum().backward()
        return x.grad

    _same(case)


@pytest.mark.parametrize("name", ["float16", "bfloat16"])
def test_half_index_adjoints_with_fewer_rows_than_the_result(name):
    """``scatter_add`` and the gradient of advanced indexing add rows into a larger result:
    the half-type path widened as many source rows as the result has (a view out of bounds)."""

    def case(m):
        d = _dt(m, name)
        index = m.tensor([[0, 3, 5, 5], [8, 1, 1, 2]])
        added = m.zeros(2, 9, dtype=d).scatter_add(1, index, m.ones(2, 4, dtype=d) * 1.5)
        x = m.tensor([0.5, 1.5, -2.0, 4.0, 3.0]).to(d).requires_grad_()
        (x[m.tensor([4, 0, 4])] * m.tensor([1.0, 2.0, 3.0]).to(d)).sum().backward()
        return [added, x.grad]

    _same(case)


@pytest.mark.parametrize("name", NEW)
def test_setitem_fill_copy(name):
    def case(m):
        x = m.zeros(4, dtype=_dt(m, name))
        x[1] = 3
        x[2:] = m.tensor([5, 7])
        x.fill_(2) if False else None
        y = m.ones(4, dtype=_dt(m, name))
        y.copy_(x * 2)
        return [x, y]

    _same(case)


NUMBER_FIRST = {
    "add": lambda lib: lib.add(3, lib.tensor([1, 2])),
    "add_float_to_int": lambda lib: lib.add(3.5, lib.tensor([1, 2])),
    "add_alpha": lambda lib: lib.add(3, lib.tensor([1.0, 2.0]), alpha=2),
    "sub_alpha": lambda lib: lib.sub(3, lib.tensor([1.0, 2.0]), alpha=2),
    "subtract": lambda lib: lib.subtract(3, lib.tensor([1, 2])),
    "mul_uint8": lambda lib: lib.mul(2, lib.tensor([1, 2], dtype=lib.uint8)),
    "multiply_bool": lambda lib: lib.multiply(True, lib.tensor([1.5, 2.0])),
    "div": lambda lib: lib.div(7, lib.tensor([2, 4])),
    "div_floor": lambda lib: lib.div(7, lib.tensor([2, -4]), rounding_mode="floor"),
    "divide_float16": lambda lib: lib.divide(1.5, lib.tensor([2.0, 4.0], dtype=lib.float16)),
    "true_divide": lambda lib: lib.true_divide(3, lib.tensor([2, 5])),
    "pow": lambda lib: lib.pow(2, lib.tensor([1, 2])),
    "pow_float": lambda lib: lib.pow(2.5, lib.tensor([1, 2])),
    "remainder": lambda lib: lib.remainder(-3, lib.tensor([2, 5])),
    "floor_divide": lambda lib: lib.floor_divide(-3, lib.tensor([2, 5])),
}


@pytest.mark.parametrize("case", sorted(NUMBER_FIRST))
def test_number_as_the_first_operand_of_a_function_as_torch(case):
    """PyTorch reads a number passed as ``input`` of these functions as a wrapped 0-d
    tensor: the result's dtype and values are those of ``number op tensor``."""
    theirs, ours = NUMBER_FIRST[case](torch), NUMBER_FIRST[case](rg)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("default", ["float64", "float16", "bfloat16"])
def test_default_dtype_is_the_float_of_promotion_and_printing_as_torch(default):
    results = []
    for lib in (torch, rg):
        lib.set_default_dtype(getattr(lib, default))
        try:
            made = [
                lib.get_default_dtype(),
                lib.tensor([1.5]).dtype,
                lib.zeros(1).dtype,
                (lib.tensor([1, 2]) / 2).dtype,
                lib.tensor([4]).sqrt().dtype,
                (lib.tensor([1]) * 1.5).dtype,
                lib.tensor([1]).clamp(0.5).dtype,
                (lib.tensor([2]) ** 0.5).dtype,
            ]
            printed = [
                repr(lib.tensor([1.0, 2.0])),
                repr(lib.tensor([1.0, 2.0], dtype=lib.float32)),
                repr(lib.tensor([], dtype=lib.float32)),
                repr(lib.tensor([])),
            ]
        finally:
            lib.set_default_dtype(lib.float32)
        results.append(
            (
                [str(d).split(".")[-1] for d in made],
                [p.replace(lib.__name__ + ".", "") for p in printed],
            )
        )
    assert results[1] == results[0]
