"""The op table's entries for the elementwise math and activations of issue 11 (``tan`` ...
``logaddexp``, ``%``, ``//``, ``lerp``; ``F.gelu`` ... ``F.logsigmoid``), and the in-place
variants of the older unary ops. ``opinfo.py`` appends ``ELEMENTWISE_OPS`` to ``OP_DB``, so
every test the table drives (gradcheck, gradgradcheck, PyTorch parity and graphs, variants,
in place, CUDA against the CPU) runs these too.

Domains: samples of the ops defined on part of the line are drawn inside it (``mapped``:
``asin``/``acos``/``atanh``/``erfinv`` in (-0.9, 0.9), ``acosh`` above 1.1, logarithms and
``rsqrt`` positive), so that gradients are finite; the edges (inf, NaN, +-0, +-1) are checked
against PyTorch in ``test_elementwise.py``.
"""

import operator

import numpy as np
from opinfo import (
    ALL,
    FLOATS,
    NUMERIC,
    OP_DB,
    Arg,
    OpInfo,
    S,
    Variant,
    binary_samples,
    function,
    functional,
    method,
    operator_,
    reflected_samples,
    skip,
    unary_samples,
)


def mapped(gen, f):
    """``gen``'s samples with ``f`` applied to the values of every floating tensor (integer
    and bool ones are left as drawn: their results, inf or NaN outside a domain included, are
    compared with PyTorch's as they are)."""

    def out(g):
        for sample in gen(g):
            for a in sample.tensors():
                if a.dtype in FLOATS:
                    a.value = np.asarray(f(a.value.astype(np.float64))).astype(a.dtype)
            yield sample

    return out


def no_grad(gen):
    """``gen``'s samples with no tensor requiring grad (ops PyTorch does not differentiate:
    its backward raises, which ``test_elementwise.py`` checks)."""

    def out(g):
        for sample in gen(g):
            for a in sample.tensors():
                a.requires_grad = False
            yield sample

    return out


def inside_unit(v):
    return 0.9 * np.tanh(v)


def above_one(v):
    return 1.1 + np.abs(v)


def away_from_poles(v):
    return 0.3 + 2.0 * np.abs(v)


def polygamma_samples(g):
    for n, sample in zip([0, 1, 2, 3, 1, 2, 4, 0, 1, 3], unary_samples()(g)):
        yield S(*sample.args, n)


def mvlgamma_samples(g):
    for p, sample in zip([1, 2, 3, 1, 4, 2, 1, 3, 2, 5], unary_samples()(g)):
        yield S(*sample.args, p=p)


def _math_entry(name, domain=None, kind="n", dtypes=ALL, inplace=True, **kw):
    """A unary math function: method, functional form, in-place method."""
    gen = unary_samples(kind)
    if domain is not None:
        gen = mapped(gen, domain)
    return OpInfo(
        name,
        [method(name), function(name)],
        gen,
        dtypes=dtypes,
        inplace_variants=[method(f"{name}_")] if inplace else [],
        libm=True,
        **kw,
    )


def _underivable_inplace(name, domain):
    """``x.name_()`` where PyTorch does not differentiate the in-place form (its backward
    raises, checked in ``test_elementwise.py``): values only, on a clone."""
    return OpInfo(
        f"{name}_",
        [Variant(f"x.clone().{name}_()", lambda mod, x: getattr(x.clone(), f"{name}_")())],
        no_grad(mapped(unary_samples(), domain)),
        differentiable=False,
        inplace_variants=[method(f"{name}_")],
        libm=True,
    )


def rounding_samples(g):
    """Values with fractional parts of every size (and ties, for ``round``)."""
    yield from mapped(unary_samples(), lambda v: 3.0 * v)(g)
    if g.dtype in FLOATS:
        ties = Arg(np.array([0.5, 1.5, 2.5, -0.5, -2.5, 2.4999, -0.0], dtype=g.dtype))
        yield S(ties, skips={"gradcheck": JUMPS, "gradgradcheck": JUMPS})


JUMPS = "finite differences straddle the jumps at the ties"


def round_samples(g):
    yield from rounding_samples(g)
    if g.dtype in FLOATS:
        for d in (2, -1, 1):
            yield S(g.t((2, 3), "n"), decimals=d)
        yield S(g.t((3, 4), "n", "transposed"), decimals=3)


def modulo_samples(g):
    """Divisors away from 0 (the dividend too: one sample divides a tensor by itself);
    Python numbers (also floats with an integer tensor). A zero dividend and integer division
    by zero: ``test_elementwise.py``."""
    return binary_samples("z", "z", scalars=(2.5, 2, -1.5, -3), mixed=NUMERIC)(g)


def lerp_samples(g):
    """Weights below and above 0.5 (PyTorch computes from ``end`` for ``|weight| >= 0.5``)."""
    t = g.t
    for w in (0.3, 0.5, 0.75, 1.0, -0.2, 2):
        yield S(t((2, 3)), t((2, 3)), w)
    yield S(t((2, 3)), t((2, 3)), t((2, 3)))
    yield S(t((2, 3)), t((3,)), t((2, 1)))
    yield S(t((3,)), t((2, 3)), 0.6)
    yield S(t(()), t((2, 3)), t(()))
    yield S(t((), "n", "offset"), t(()), 0.25)
    yield S(t((0, 3)), t((3,)), 0.5)
    yield S(t((1,)), t((1,)), t((1,)))
    yield S(t((3, 4), "n", "transposed"), t((3, 4), "n", "stepped"), t((4,), "n", "offset"))
    yield S(t((3, 2, 2), "n", "expanded"), t((2, 2)), 0.9)


def _activation(name, extra=(), inplace=None, samples=None, dtypes=FLOATS, **kw):
    """An activation of ``torch.nn.functional``; ``extra``: keyword sets, one sample each;
    ``inplace``: its in-place variants."""
    base = samples or unary_samples("z")

    def gen(g):
        yield from base(g)
        for kwargs in extra:
            yield S(g.t((3, 4), "z"), **kwargs)
            yield S(g.t((3, 4), "z", "transposed"), **kwargs)

    return OpInfo(
        f"nn.functional.{name}",
        [functional(name)],
        gen,
        dtypes=dtypes,
        inplace_variants=list(inplace or []),
        libm=True,
        **kw,
    )


def _inplace_kw(name):
    """``F.name(x, inplace=True)``."""
    return Variant(
        f"F.{name}(inplace=True)",
        lambda mod, x, **k: getattr(mod.nn.functional, name)(x, inplace=True, **k),
    )


def _first_needs_grad(sample):
    # (on an expanded view both refuse the write: overlapping memory)
    return sample.args[0].grad and sample.args[0].layout != "expanded"


def _big_beta_x(v):
    """Values where ``beta * x`` passes the threshold for some and not others."""
    return 4.0 * v


ELEMENTWISE_OPS = [
    # ----- one tensor: math library functions (floats; integers compute as float32)
    _math_entry("tan", lambda v: 1.2 * np.tanh(v)),
    _math_entry("asin", inside_unit),
    _math_entry("acos", inside_unit),
    _math_entry("atan"),
    _math_entry("sinh"),
    _math_entry("cosh"),
    _math_entry("asinh", inplace=False),
    _math_entry("acosh", above_one, inplace=False),
    _math_entry("atanh", inside_unit, inplace=False),
    _underivable_inplace("asinh", lambda v: v),
    _underivable_inplace("acosh", above_one),
    _underivable_inplace("atanh", inside_unit),
    _math_entry("erf"),
    _math_entry("erfc"),
    _math_entry("erfinv", inside_unit),
    # the gamma family, drawn away from the poles at 0, -1, -2, ... (finite gradients)
    _math_entry("lgamma", away_from_poles),
    _math_entry("digamma", away_from_poles),
    OpInfo(
        "polygamma",
        [
            method("polygamma"),
            Variant(
                "rustgrad.polygamma(n, x)",
                lambda mod, x, n: mod.polygamma(n, x),
                ("rustgrad.polygamma",),
            ),
        ],
        mapped(polygamma_samples, away_from_poles),
        dtypes=ALL,
        inplace_variants=[method("polygamma_")],
        libm=True,
    ),
    OpInfo(
        "mvlgamma",
        [method("mvlgamma"), function("mvlgamma")],
        mapped(mvlgamma_samples, lambda v: 2.0 + np.abs(v)),
        dtypes=NUMERIC,
        inplace_variants=[method("mvlgamma_")],
        graph="none",
        graph_reason="a composite: lgamma of shifted copies, summed (PyTorch: MvlgammaBackward0)",
        libm=True,
    ),
    _math_entry("log2", kind="p"),
    _math_entry("log10", kind="p"),
    _math_entry("log1p", kind="p"),
    _math_entry("expm1"),
    _math_entry("exp2"),
    _math_entry("rsqrt", kind="p"),
    _math_entry("reciprocal", kind="z"),
    _math_entry("square"),
    _math_entry("frac", lambda v: 3.0 * v, dtypes=FLOATS),
    # ----- one tensor: whole numbers (int64 keeps its dtype; zero gradients)
    *[
        OpInfo(
            name,
            [method(name), function(name)],
            rounding_samples,
            dtypes=NUMERIC,
            inplace_variants=[method(f"{name}_")],
        )
        for name in ("floor", "ceil", "trunc")
    ],
    OpInfo(
        "round",
        [method("round"), function("round")],
        round_samples,
        dtypes=NUMERIC,
        inplace_variants=[method("round_")],
    ),
    OpInfo(
        "sign",
        [method("sign"), function("sign")],
        unary_samples("z"),
        dtypes=ALL,
        inplace_variants=[method("sign_")],
    ),
    # ----- two tensors (or a tensor and a Python number), broadcasting
    OpInfo(
        "atan2",
        [method("atan2"), function("atan2")],
        binary_samples(scalars=()),
        dtypes=ALL,
        inplace_variants=[method("atan2_")],
        broadcasts=True,
        libm=True,
        expects=[
            skip(
                ("parity",),
                "PyTorch's own atan2 backward negates a bool first operand and raises",
                ("bool",),
                lambda s: any(a.grad for a in s.tensors()),
            )
        ],
    ),
    OpInfo(
        "hypot",
        [method("hypot"), function("hypot")],
        binary_samples("z", "z", scalars=(), mixed=FLOATS),
        inplace_variants=[method("hypot_")],
        broadcasts=True,
        libm=True,
    ),
    OpInfo(
        "logaddexp",
        [method("logaddexp"), function("logaddexp")],
        binary_samples(scalars=(), mixed=FLOATS, ties=True),
        broadcasts=True,
        libm=True,
    ),
    OpInfo(
        "fmod",
        [method("fmod"), function("fmod")],
        modulo_samples,
        dtypes=NUMERIC,
        inplace_variants=[method("fmod_")],
        broadcasts=True,
    ),
    OpInfo(
        "remainder",
        [method("remainder"), operator_("__mod__", operator.mod), function("remainder")],
        modulo_samples,
        dtypes=NUMERIC,
        inplace_variants=[method("remainder_"), operator_("__imod__", operator.imod)],
        broadcasts=True,
    ),
    OpInfo(
        "rmod",
        [Variant("__rmod__", lambda mod, x, s: s % x, ("Tensor.__rmod__",), kwargs=False)],
        no_grad(reflected_samples("z", scalars=(2.5, 7, -3))),
        dtypes=NUMERIC,
        differentiable=False,
        exempt={"broadcast": "a Python scalar on the left"},
    ),
    OpInfo(
        "floor_divide",
        [
            method("floor_divide"),
            operator_("__floordiv__", operator.floordiv),
            function("floor_divide"),
        ],
        no_grad(modulo_samples),
        dtypes=NUMERIC,
        differentiable=False,
        inplace_variants=[
            method("floor_divide_"),
            operator_("__ifloordiv__", operator.ifloordiv),
        ],
        broadcasts=True,
    ),
    OpInfo(
        "rfloordiv",
        [Variant("__rfloordiv__", lambda mod, x, s: s // x, ("Tensor.__rfloordiv__",), False)],
        no_grad(reflected_samples("z", scalars=(2.5, 7, -3))),
        dtypes=NUMERIC,
        differentiable=False,
        exempt={"broadcast": "a Python scalar on the left"},
    ),
    OpInfo(
        "lerp",
        [method("lerp"), function("lerp")],
        lerp_samples,
        inplace_variants=[method("lerp_")],
        broadcasts=True,
    ),
    # ----- activations (torch.nn.functional; selu also as torch.selu)
    _activation("gelu", extra=({"approximate": "tanh"},)),
    _activation("silu", inplace=[_inplace_kw("silu")]),
    _activation("mish", inplace=[_inplace_kw("mish")]),
    _activation(
        "softplus",
        extra=({"beta": 2.0}, {"beta": 0.5, "threshold": 1.0}, {"threshold": 0.5}),
        samples=mapped(unary_samples("z"), _big_beta_x),
    ),
    _activation(
        "elu",
        extra=({"alpha": 0.5},),
        inplace=[_inplace_kw("elu"), functional("elu_")],
    ),
    _activation(
        "leaky_relu",
        extra=({"negative_slope": 0.2},),
        inplace=[_inplace_kw("leaky_relu"), functional("leaky_relu_")],
    ),
    _activation(
        "hardtanh",
        extra=({"min_val": -0.5, "max_val": 0.8},),
        inplace=[_inplace_kw("hardtanh"), functional("hardtanh_")],
        dtypes=(*FLOATS, "int64"),
    ),
    _activation(
        "relu6",
        samples=mapped(unary_samples("z"), lambda v: 5.0 * v),
        inplace=[_inplace_kw("relu6")],
        dtypes=(*FLOATS, "int64"),
    ),
    _activation("logsigmoid"),
]

# selu: F.selu and torch.selu
ELEMENTWISE_OPS.append(
    OpInfo(
        "nn.functional.selu",
        [functional("selu"), function("selu")],
        unary_samples("z"),
        inplace_variants=[_inplace_kw("selu"), functional("selu_"), function("selu_")],
        libm=True,
    )
)

# heaviside, gcd, lcm, ldexp, logaddexp2, rsub (``_ops_aliases.py``)
ELEMENTWISE_OPS += [
    OpInfo(
        "heaviside",
        [method("heaviside"), function("heaviside")],
        no_grad(binary_samples(scalars=(), mixed=(), ties=True)),
        dtypes=ALL,
        differentiable=False,
        inplace_variants=[method("heaviside_")],
        broadcasts=True,
    ),
    *(
        OpInfo(
            name,
            [method(name), function(name)],
            binary_samples(scalars=(), mixed=()),
            dtypes=("int64",),
            differentiable=False,
            inplace_variants=[method(name + "_")],
            broadcasts=True,
        )
        for name in ("gcd", "lcm")
    ),
    OpInfo(
        "ldexp",
        [method("ldexp"), function("ldexp")],
        binary_samples(scalars=(), mixed=FLOATS),
        dtypes=NUMERIC,
        inplace_variants=[method("ldexp_")],
        broadcasts=True,
        libm=True,
    ),
    OpInfo(
        "logaddexp2",
        [method("logaddexp2"), function("logaddexp2")],
        binary_samples(scalars=(), mixed=FLOATS, ties=True),
        broadcasts=True,
        libm=True,
    ),
    OpInfo(
        "torch.rsub",
        [function("rsub")],
        binary_samples(kwargs=({"alpha": 2},), mixed=FLOATS),
        dtypes=NUMERIC,
        broadcasts=True,
        graph="none",
        graph_reason="composed of a subtraction: SubBackward0 where PyTorch records RsubBackward0/1",
    ),
]

# ``relu_`` exists only in place (tested out of place on a clone, as zero_).
ELEMENTWISE_OPS.append(
    OpInfo(
        "relu_",
        [Variant("x.clone().relu_()", lambda mod, x: x.clone().relu_(), ("Tensor.relu_",))],
        unary_samples("z"),
        dtypes=NUMERIC,
        inplace_variants=[method("relu_")],
    )
)

# The in-place forms of the older unary ops (``x.exp_()``, ...), checked against PyTorch's.
_OLDER_INPLACE = ("neg", "abs", "exp", "log", "sqrt", "tanh", "sin", "cos", "sigmoid")
for _op in OP_DB:
    if _op.name in _OLDER_INPLACE:
        _op.inplace_variants = [*_op.inplace_variants, method(f"{_op.name}_")]
