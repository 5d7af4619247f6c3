"""Integers stay exact (never through float64), out-of-range values raise as in PyTorch, and
integer-valued arguments keep PyTorch's dtypes. Compared with the reference PyTorch."""

import math
import warnings

import numpy as np
import pytest
import rustgrad as rg

torch = pytest.importorskip("torch")

BIG = 2**53 + 1  # the first integer float64 cannot hold


def _cases(m):
    return {
        "tensor(list)": lambda: m.tensor([BIG, -BIG]).tolist(),
        "tensor(int)": lambda: m.tensor(BIG).item(),
        "item": lambda: m.tensor([BIG]).item(),
        "int()": lambda: int(m.tensor(BIG)),
        "index": lambda: [0] * 3 + [m.tensor(BIG).__index__()],
        "arithmetic": lambda: (m.tensor([2**62 + 1]) - 2**62).tolist(),
        "comparison": lambda: (m.tensor([BIG]) == 2**53).tolist(),
        "sum": lambda: m.tensor([2**53, 1]).sum().item(),
        "max": lambda: m.tensor([BIG, 2**53]).max().item(),
        "full": lambda: m.full((2,), BIG).tolist(),
        "full_like": lambda: m.full_like(m.zeros(2, dtype=m.int64), BIG).tolist(),
        "fill_": lambda: m.zeros(2, dtype=m.int64).fill_(BIG).tolist(),
        "where": lambda: m.where(m.tensor([True, False]), BIG, 0).tolist(),
        "int64 beyond 2**63": lambda: m.tensor([2**63]),
        "int64 below -2**63": lambda: m.tensor([-(2**63) - 1]),
        "nan into int64": lambda: m.tensor([math.nan], dtype=m.int64),
        "inf into int64": lambda: m.tensor([math.inf], dtype=m.int64),
        "float into int64 truncates": lambda: m.tensor([2.7, -2.7], dtype=m.int64).tolist(),
        "numpy float64 elements": lambda: str(m.tensor([np.float64(1.5), 2.0]).dtype),
        "numpy float32 elements": lambda: str(m.tensor([np.float32(1.5), 2.0]).dtype),
        "numpy int64 elements": lambda: str(m.tensor([np.int64(3), 2]).dtype),
        "numpy bool elements": lambda: str(m.tensor([np.bool_(True), False]).dtype),
        "arange(2.5, int64)": lambda: m.arange(2.5, dtype=m.int64).tolist(),
        "arange(-0.5, 3.5, int64)": lambda: m.arange(-0.5, 3.5, dtype=m.int64).tolist(),
        "arange(10, 0, -3)": lambda: m.arange(10, 0, -3).tolist(),
        "arange(0, 1, 0.3)": lambda: m.arange(0, 1, 0.3).tolist(),
        "arange big": lambda: m.arange(BIG, BIG + 2).tolist(),
        "sum(dtype=int64) casts first": lambda: m.tensor([1.5, 2.5]).sum(dtype=m.int64).item(),
        "mean(dtype=float64) of ints": lambda: m.tensor([1, 2]).mean(dtype=m.float64).item(),
        "copy_ into int64 records nothing": lambda: (
            m.zeros(2, dtype=m.int64).copy_(m.tensor([1.5, 2.5], requires_grad=True)).requires_grad
        ),
    }


def _outcome(f):
    try:
        r = f()
    except Exception as e:  # noqa: BLE001 (the exception type and message are compared)
        return type(e).__name__, str(e)
    return r.replace("torch.", "").replace("rustgrad.", "") if isinstance(r, str) else r


@pytest.mark.parametrize("case", list(_cases(torch)))
def test_integers_match_torch(case):
    assert _outcome(_cases(rg)[case]) == _outcome(_cases(torch)[case])


_FILL_VALUES = [300, -255, -256, 255.5, -0.5, -3, np.int64(-3), -128.9, -129.0, 127.9, 2**31, 1e30, float("nan"), float("inf"), 70000, 65519.0, 1e300, True, 3.5e38, -(2**63), 2**63 - 1]  # fmt: skip


def _fill_outcomes(lib, dtype, value, n):
    def assign():
        x = lib.zeros(n, dtype=dtype)
        x[:] = value
        return x

    out = []
    for fill in (
        lambda: lib.zeros(n, dtype=dtype).fill_(value),
        lambda: lib.full((n,), value, dtype=dtype),
        assign,
    ):
        try:
            out.append(fill().tolist())
        except RuntimeError as e:
            out.append(str(e))
    return out


@pytest.mark.parametrize("n", [1, 3])
@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64", "bool"])  # fmt: skip
def test_fill_values_checked_as_torch(dtype, n):
    """fill_/full/x[:] = v convert the number as PyTorch's checked_convert: "value cannot be
    converted to type uint8_t without overflow" outside the type's range (a float before
    truncation), negative integers down to -255 wrapping into uint8, a half type's single
    element unchecked."""
    for value in _FILL_VALUES:
        ours = _fill_outcomes(rg, getattr(rg, dtype), value, n)
        theirs = _fill_outcomes(torch, getattr(torch, dtype), value, n)
        assert str(ours) == str(theirs), value


@pytest.mark.parametrize(
    "key",
    [
        lambda lib: lib.tensor([2, 0, 2], dtype=lib.int32),
        lambda lib: (slice(None), lib.tensor([2, 0], dtype=lib.int32)),
        lambda lib: (lib.tensor([1, 0], dtype=lib.int32), lib.tensor([2, 2])),
        lambda lib: lib.tensor([1, 0, 1], dtype=lib.uint8),  # (a mask, as PyTorch reads it)
        lambda lib: lib.tensor([2, 0], dtype=lib.int16),  # (refused)
    ],
)
def test_index_dtypes_as_torch(key):
    """Indices may be int64, int32, uint8 (a mask) or bool; values and gradients as PyTorch."""
    outcomes = []
    for lib in (torch, rg):
        x = lib.arange(9.0, dtype=lib.float64).reshape(3, 3).requires_grad_()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # (PyTorch's uint8 deprecation)
                y = x[key(lib)]
            (g,) = lib.autograd.grad((y * y).sum(), [x])
            outcomes.append((y.tolist(), g.tolist()))
        except IndexError as e:
            outcomes.append(str(e))
    assert outcomes[1] == outcomes[0]


@pytest.mark.parametrize(
    "clamp",
    [
        lambda lib, x: x.clamp(-1, 1),  # uint8: -1 wraps to 255, so the upper bound wins
        lambda lib, x: x.clone().clamp_(-1, 1),
        lambda lib, x: x.clamp(min=-3),
        lambda lib, x: x.clamp(max=-3),
        lambda lib, x: x.clip(-1, 1),
        lambda lib, x: x.clamp(2, 300),  # out of uint8's range
        lambda lib, x: x.to(lib.int8).clamp(-200, 100),
        lambda lib, x: x.long().clamp(-(2**40), 7),
        lambda lib, x: x.int().clamp(0.5, 6.5),  # a float bound: a float result
    ],
)
def test_integer_clamp_bounds_convert_as_torch(clamp):
    def run(lib):
        x = lib.tensor([0, 1, 5, 200], dtype=lib.uint8)
        try:
            out = clamp(lib, x)
        except RuntimeError as exc:
            return "RuntimeError", str(exc)
        return str(out.dtype).split(".")[-1], out.tolist()

    assert run(rg) == run(torch)


QUOTIENTS = {
    "uint8_by_negative": lambda lib: lib.tensor([3, 2], dtype=lib.uint8) / -3,
    "int8_by_too_large": lambda lib: lib.tensor([3], dtype=lib.int8) / 300,
    "int32_by_huge": lambda lib: lib.tensor([3], dtype=lib.int32) / 2**40,
    "int32_div_method": lambda lib: lib.tensor([3], dtype=lib.int32).div(2**40),
    "bool_by_int": lambda lib: lib.tensor([True, False]) / 3,
    "true_divide": lambda lib: lib.true_divide(lib.tensor([7], dtype=lib.int16), 70000),
    "uint8_trunc_by_negative": lambda lib: lib.tensor([3], dtype=lib.uint8).div(
        -3, rounding_mode="trunc"
    ),
    "int8_floor_by_negative": lambda lib: lib.tensor([7, -7], dtype=lib.int8).div(
        -2, rounding_mode="floor"
    ),
    "int64_trunc_by_negative": lambda lib: lib.tensor([7, -7]).div(-2, rounding_mode="trunc"),
}


@pytest.mark.parametrize("case", sorted(QUOTIENTS))
def test_integer_tensor_divided_by_a_python_int_as_torch(case):
    """A Python int is a wrapped number cast to the dtype the division runs in: true division
    runs in float (``uint8 / -3`` divides by -3), rounded division in the tensor's dtype."""
    theirs, ours = QUOTIENTS[case](torch), QUOTIENTS[case](rg)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


SCALAR_OVERFLOWS = {
    "uint8_power_300": lambda lib: lib.tensor([3], dtype=lib.uint8) ** 300,
    "uint8_power_256": lambda lib: lib.tensor([3], dtype=lib.uint8).pow(256),
    "uint8_power_255": lambda lib: lib.tensor([3], dtype=lib.uint8) ** 255,
    "int8_power_200": lambda lib: lib.tensor([3], dtype=lib.int8) ** 200,
    "half_power_huge": lambda lib: lib.tensor([1.5], dtype=lib.float16) ** 1e5,
    "half_power_max": lambda lib: lib.tensor([1.5], dtype=lib.float16) ** 65504.0,
    "float_power_huge": lambda lib: lib.tensor([1.5]) ** 1e39,
    "int8_alpha_300": lambda lib: lib.tensor([3], dtype=lib.int8).add(1, alpha=300),
    "uint8_alpha_negative": lambda lib: lib.tensor([3], dtype=lib.uint8).add(1, alpha=-3),
    "half_alpha_huge": lambda lib: lib.tensor([1.5], dtype=lib.float16).add(1, alpha=1e5),
    "float_alpha_huge": lambda lib: lib.tensor([1.5]).add(1, alpha=1e39),
    "int8_where_300": lambda lib: lib.where(
        lib.tensor([True]), lib.tensor([3], dtype=lib.int8), 300
    ),
    "half_where_huge": lambda lib: lib.where(
        lib.tensor([True]), lib.tensor([1.5], dtype=lib.float16), 1e5
    ),
    "float_where_huge": lambda lib: lib.where(lib.tensor([True]), lib.tensor([1.5]), 1e39),
    "uint8_plus_300": lambda lib: lib.tensor([3], dtype=lib.uint8) + 300,
}


@pytest.mark.parametrize("case", sorted(SCALAR_OVERFLOWS))
def test_scalar_arguments_out_of_the_dtypes_range_as_torch(case):
    """Where PyTorch's kernel takes a number as a scalar of the tensor's dtype (a power, an
    alpha, where's scalar), one out of its range is "value cannot be converted ... without
    overflow"; an operand number wraps, as PyTorch's."""
    from conftest import outcome

    def run(lib):
        return SCALAR_OVERFLOWS[case](lib).tolist()

    assert outcome(run, rg) == outcome(run, torch)


@pytest.mark.parametrize(
    "op",
    [
        lambda t, z: t // z,
        lambda t, z: t % z,
        lambda t, z: t.fmod(z),
        lambda t, z: t.div(z, rounding_mode="floor"),
        lambda t, z: t.div(z, rounding_mode="trunc"),
    ],
)
@pytest.mark.parametrize("divisor", ["number", "tensor", "empty"])
def test_integer_division_of_nothing_by_zero_is_empty(op, divisor):
    # an empty result divides nothing: no ZeroDivisionError (a non-empty one still raises)
    def run(lib, n):
        x = lib.arange(n)
        z = {"number": 0, "tensor": lib.zeros(1, dtype=lib.int64), "empty": lib.zeros(n, dtype=lib.int64)}[divisor]  # fmt: skip
        return op(x, z).tolist()

    assert run(rg, 0) == run(torch, 0) == []
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        run(rg, 3)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        run(torch, 3)
