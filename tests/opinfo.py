"""The op table: one ``OpInfo`` per op, in the style of PyTorch's
``torch/testing/_internal/common_methods_invocations.py`` (small, and our own).

An ``OpInfo`` names an op, the ways to call it (``variants``: a method, an operator, the
functional form in ``rustgrad`` or ``rustgrad.nn.functional``; the first is the one the tests
call; ``inplace_variants``: ``add_``, ``+=``, ...), the dtypes it supports (those PyTorch
supports it for), whether it is differentiable, and a generator of ``SampleInput``s per dtype.

A sample's tensors are NumPy values (``Arg``) with a layout: contiguous, the transpose of a
contiguous buffer, a stepped slice, an offset view (``base[1:]``), or an expanded (stride-0)
view. Each test turns them into tensors of whichever library it runs (rustgrad on a device,
or the reference PyTorch), so the same values go through both. Every op's samples cover, for
each supported dtype, 0-d, size-0 and size-1 tensors, non-contiguous and offset views, and
broadcasting for ops that broadcast (``test_ops.test_samples_cover_the_cases`` checks this).

The tests driven by this table:

- ``tests/test_ops.py``: gradcheck and gradgradcheck (float64), PyTorch parity (values,
  dtypes, gradients for a random upstream gradient, the ``grad_fn`` graph), the variants
  against each other, in-place variants against PyTorch, and the coverage test: every public
  ``Tensor`` method and functional form is an entry here or a listed non-op.
- ``tests/test_cuda.py``: each sample on the CUDA device against the CPU.

Known failures are listed per op (``expects``): strict xfails, each naming the rustgrad bug it
shows, and skips with the reason.
"""

import dataclasses
import functools
import operator
import zlib
from collections.abc import Callable

import numpy as np
import pytest
from conftest import draw_input

FLOATS = ("float32", "float64")
NUMERIC = (*FLOATS, "int64")
ALL = (*NUMERIC, "bool")

# The tests an OpInfo drives (the names used in ``Expect.tests``).
TESTS = (
    "gradcheck",
    "gradgradcheck",
    "parity",
    "parity_graph",
    "variants",
    "inplace",
    "device",
    "device_inplace",
)


# ================================================================= sample inputs


@dataclasses.dataclass(eq=False)
class Arg:
    """A tensor argument: its values (NumPy, which fixes the dtype), and its layout.

    ``layout``: "contiguous"; "transposed" (the last two dims of a contiguous buffer swapped);
    "stepped" (every other element of a buffer twice as long in the last dim); "offset"
    (``base[1:]`` of a buffer with one more row; a 0-d value is ``base[1]``); "expanded"
    (``base.expand(shape)`` of a buffer with size 1 in dim 0: the values are equal along it).
    Floating values become leaves that require grad unless ``requires_grad`` is False.
    ``on_cpu``: the tensor stays on the CPU whatever the device of the test (PyTorch lets 0-d
    CPU tensors mix with tensors on any device; ``copy_`` reads from any device).

    Arg objects compare by identity: one Arg used twice in a sample is one tensor.
    """

    value: np.ndarray
    layout: str = "contiguous"
    requires_grad: bool = True
    on_cpu: bool = False

    @property
    def dtype(self):
        return self.value.dtype.name

    @property
    def shape(self):
        return self.value.shape

    @property
    def grad(self):
        """Whether the tensor is a leaf that requires grad."""
        return self.requires_grad and self.dtype in FLOATS and not self.on_cpu

    def make(self, mod, device, grad=True):
        """The tensor in ``mod`` (rustgrad or torch) on ``device``, with this layout (a leaf
        that requires grad when ``self.grad`` and ``grad``)."""
        v = self.value
        junk = _junk(v)
        if self.layout == "contiguous":
            base, view = v, None
        elif self.layout == "transposed":
            base, view = np.swapaxes(v, -1, -2), lambda b: b.transpose(-1, -2)
        elif self.layout == "stepped":
            base = np.stack([v, np.broadcast_to(junk, v.shape)], axis=-1).reshape(
                *v.shape[:-1], 2 * v.shape[-1]
            )
            view = lambda b: b[..., ::2]
        elif self.layout == "offset":
            if v.ndim == 0:
                base, view = np.stack([junk, v]), lambda b: b[1]
            else:
                pad = np.broadcast_to(junk, (1, *v.shape[1:]))
                base, view = np.concatenate([pad, v]), lambda b: b[1:]
        elif self.layout == "expanded":
            base, view = v[:1], lambda b: b.expand(*v.shape)
        else:
            raise ValueError(self.layout)
        t = mod.tensor(np.array(base, order="C"))  # (ascontiguousarray makes 0-d 1-d)
        if not self.on_cpu and device != "cpu":
            t = t.to(device)
        if view is not None:
            t = view(t)
        if self.grad and grad:
            t = t.detach().requires_grad_()
        return t

    def describe(self):
        text = "x".join(str(s) for s in self.shape) if self.shape else "0d"
        tags = {
            "contiguous": "",
            "transposed": ".T",
            "stepped": ".step",
            "offset": ".off",
            "expanded": ".exp",
        }
        text += tags[self.layout]
        if self.on_cpu:
            text += ".cpu"
        return text


def _junk(v):
    """A filler for the parts of a buffer outside the view (wrong reads show up as wrong
    values: 7 is far from every sample value; for bool, True, or the opposite of a 0-d
    value)."""
    if v.dtype == np.bool_:
        return ~v if v.ndim == 0 else np.asarray(True)
    return np.asarray(7, dtype=v.dtype)


@dataclasses.dataclass(frozen=True)
class DType:
    """A dtype argument (``sum(dtype=...)``, ``to(dtype)``): the library's dtype object."""

    name: str


@dataclasses.dataclass
class SampleInput:
    """``op(*args, **kwargs)``: ``args`` and ``kwargs`` hold ``Arg``s (also inside lists and
    tuples, e.g. ``cat``'s list or an index tuple), ``DType``s and plain Python values.

    ``skips``: test name -> why that test does not run this sample.
    """

    args: tuple
    kwargs: dict = dataclasses.field(default_factory=dict)
    skips: dict = dataclasses.field(default_factory=dict)
    name: str = ""

    def tensors(self):
        """Every ``Arg``, once each, in order of appearance."""
        seen = {}
        _walk((self.args, self.kwargs), lambda a: seen.setdefault(id(a), a))
        return list(seen.values())

    def grad_args(self):
        return [a for a in self.tensors() if a.grad]

    def describe(self):
        parts = [_describe(a) for a in self.args]
        parts += [f"{k}={_describe(v)}" for k, v in self.kwargs.items()]
        return ",".join(parts)


def _walk(obj, visit):
    if isinstance(obj, Arg):
        visit(obj)
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            _walk(item, visit)
    elif isinstance(obj, dict):
        for item in obj.values():
            _walk(item, visit)


def _describe(obj):
    if isinstance(obj, Arg):
        return obj.describe()
    if isinstance(obj, DType):
        return obj.name
    if isinstance(obj, list):
        return "[" + ";".join(_describe(o) for o in obj) + "]"
    if isinstance(obj, tuple):
        return "(" + ";".join(_describe(o) for o in obj) + ")"
    if isinstance(obj, slice):
        return ":".join("" if v is None else str(v) for v in (obj.start, obj.stop, obj.step))
    if obj is Ellipsis:
        return "..."
    return repr(obj)


def materialize(obj, mod, device, memo, grad=True):
    """``obj`` with every ``Arg`` made a tensor (one per Arg object, kept in ``memo``); no
    leaf requires grad unless ``grad``."""
    if isinstance(obj, Arg):
        if id(obj) not in memo:
            memo[id(obj)] = obj.make(mod, device, grad)
        return memo[id(obj)]
    if isinstance(obj, DType):
        return getattr(mod, obj.name)
    if isinstance(obj, list):
        return [materialize(o, mod, device, memo, grad) for o in obj]
    if isinstance(obj, tuple):
        return tuple(materialize(o, mod, device, memo, grad) for o in obj)
    if isinstance(obj, dict):
        return {k: materialize(v, mod, device, memo, grad) for k, v in obj.items()}
    return obj


class _Gen:
    """Draws the values of one op's samples for one dtype (seeded by both, so a sample's
    values do not depend on which tests run)."""

    def __init__(self, op_name, dtype):
        self.dtype = dtype
        self.rng = np.random.default_rng(zlib.crc32(f"{op_name}/{dtype}".encode()))

    def values(self, shape, kind="n", dtype=None):
        """Values by kind (see ``conftest.draw_input``): "n" any, "p" positive, "z" away from
        0 and +-0.5. Integers: "n"/"z" in [-5, 5] ("z" without 0), "p" in [1, 5]; bools:
        random, all True for "p"."""
        dtype = dtype or self.dtype
        if dtype in FLOATS:
            return np.asarray(draw_input(self.rng, kind, shape)).astype(dtype)
        if dtype == "int64":
            if kind == "p":
                return self.rng.integers(1, 6, shape).astype(np.int64)
            vals = self.rng.integers(-5, 6, shape).astype(np.int64)
            if kind == "z":
                vals = np.where(vals == 0, 3, vals)
            return vals
        if dtype == "bool":
            if kind == "p":
                return np.ones(shape, dtype=bool)
            return np.asarray(self.rng.random(shape) < 0.5)
        raise ValueError(dtype)

    def t(self, shape, kind="n", layout="contiguous", dtype=None, **kw):
        """An ``Arg`` of ``shape`` with values of ``kind``, in ``layout``."""
        if layout == "expanded":
            vals = np.broadcast_to(self.values((1, *shape[1:]), kind, dtype), shape).copy()
        else:
            vals = self.values(shape, kind, dtype)
        return Arg(vals, layout, **kw)

    def tied(self, other, frac=0.4):
        """An ``Arg`` of ``other``'s shape and dtype equal to it in about ``frac`` of the
        places (so comparisons and maximum see ties)."""
        fresh = self.values(other.shape, "n", other.dtype)
        same = self.rng.random(other.shape) < frac
        return Arg(np.where(same, other.value, fresh))


def S(*args, skips=None, **kwargs):
    """Shorthand for a ``SampleInput``."""
    return SampleInput(args, kwargs, skips=dict(skips or {}))


# ================================================================= variants and OpInfo


@dataclasses.dataclass
class Variant:
    """One way to call an op: ``fn(mod, *args, **kwargs)`` with ``mod`` the library
    (``rustgrad`` or ``torch``); ``covers`` the public names it calls (for the coverage
    test: ``Tensor.<name>``, ``rustgrad.<name>``, ``rustgrad.nn.functional.<name>``).
    ``kwargs``: False for operators, which take no keyword arguments (samples with keyword
    arguments skip them)."""

    name: str
    fn: Callable
    covers: tuple = ()
    kwargs: bool = True
    only: Callable = None  # a predicate on the samples it can take

    def accepts(self, sample):
        if sample.kwargs and not self.kwargs:
            return False
        return self.only is None or self.only(sample)


def method(name):
    return Variant(
        f"x.{name}", lambda mod, x, *a, **k: getattr(x, name)(*a, **k), (f"Tensor.{name}",)
    )


def function(name):
    return Variant(
        f"rustgrad.{name}", lambda mod, *a, **k: getattr(mod, name)(*a, **k), (f"rustgrad.{name}",)
    )


def function_of_sizes(name):
    """``rustgrad.<name>(x, sizes)``: the module function takes its sizes as one sequence
    (separate ints are PyTorch's TypeError), so samples with separate ints skip it."""
    return dataclasses.replace(
        function(name),
        only=lambda s: len(s.args) == 2 and isinstance(s.args[1], (tuple, list)),
    )


def functional(name):
    return Variant(
        f"F.{name}",
        lambda mod, *a, **k: getattr(mod.nn.functional, name)(*a, **k),
        (f"rustgrad.nn.functional.{name}",),
    )


def operator_(dunder, fn):
    """An operator (``fn`` from the ``operator`` module or a lambda) calling ``dunder``."""
    return Variant(dunder, lambda mod, *a: fn(*a), (f"Tensor.{dunder}",), kwargs=False)


def reflected(dunder):
    """``b.__rop__(a)``, i.e. ``a op b`` through the reflected operator of the tensor ``b``."""
    return Variant(
        dunder,
        lambda mod, a, b: getattr(b, dunder)(a),
        (f"Tensor.{dunder}",),
        kwargs=False,
        only=lambda s: len(s.args) == 2 and isinstance(s.args[1], Arg),
    )


def on_clone(name):
    """The in-place method ``name`` applied to a clone: an out-of-place op (the reference
    for ops that only exist in place)."""
    return Variant(
        f"x.clone().{name}",
        lambda mod, x, *a, **k: getattr(x.clone(), name)(*a, **k),
        (f"Tensor.{name}",),
    )


@dataclasses.dataclass
class Expect:
    """A known skip or (strict) expected failure of some tests of an op.

    ``tests``: names from ``TESTS``; ``dtypes``: the sample dtypes it applies to; ``samples``:
    the sample names (``SampleInput.name``) or a predicate on the sample; ``devices``: the
    device types (each: all when None); ``reason``: why, and for an xfail, the rustgrad bug
    it shows.
    """

    kind: str  # "xfail" or "skip"
    tests: tuple
    reason: str
    dtypes: tuple = None
    samples: object = None
    devices: tuple = None

    def applies(self, test, dtype, sample, device):
        if test not in self.tests:
            return False
        if self.dtypes is not None and dtype not in self.dtypes:
            return False
        if self.devices is not None and device not in self.devices:
            return False
        if self.samples is None:
            return True
        if callable(self.samples):
            return self.samples(sample)
        return sample.name in self.samples


def xfail(tests, reason, dtypes=None, samples=None, devices=None):
    return Expect("xfail", tuple(tests), reason, dtypes, samples, devices)


def skip(tests, reason, dtypes=None, samples=None, devices=None):
    return Expect("skip", tuple(tests), reason, dtypes, samples, devices)


@dataclasses.dataclass
class OpInfo:
    """One op. ``variants[0]`` is the one gradcheck, parity and the device test call; the
    others must agree with it exactly. ``inplace_variants`` are checked against PyTorch's
    in-place op (an ``on_clone`` primary makes an in-place-only op testable out of place).

    ``dtypes``: the dtypes the op supports, those PyTorch supports it for (rustgrad accepts
    some more, e.g. ``-x`` of a bool tensor, where PyTorch raises); samples are made for each, and may mix in others (an
    int64 index, a float64 operand). ``differentiable``: gradients are defined (float
    inputs). ``graph``: how much of PyTorch's ``grad_fn`` graph rustgrad builds too: "full"
    (every node), "name" (the output's node), "none" (``graph_reason`` says why: rustgrad
    composes the op from others, or PyTorch's graph is an implementation detail), or a
    function of the sample giving one of these.
    ``broadcasts``: samples must include broadcasting. ``libm``: the op calls math library
    functions (exp, log, pow, ...), which the CPU and CUDA may round differently even for
    integer inputs. ``exempt``: sample cases (see ``sample_cases``) the op cannot
    have, with why. ``expects``: known skips and xfails.
    """

    name: str
    variants: list
    sample_inputs: Callable
    dtypes: tuple = FLOATS
    differentiable: bool = True
    inplace_variants: list = dataclasses.field(default_factory=list)
    graph: str = "full"
    graph_reason: str = ""
    broadcasts: bool = False
    libm: bool = False
    exempt: dict = dataclasses.field(default_factory=dict)
    expects: list = dataclasses.field(default_factory=list)

    @property
    def primary(self):
        return self.variants[0]

    def graph_of(self, sample):
        return self.graph(sample) if callable(self.graph) else self.graph

    def samples(self, dtype):
        """The samples for ``dtype``, named (unique within the op and dtype)."""
        out, names = [], {}
        for sample in self.sample_inputs(_Gen(self.name, dtype)):
            base = sample.name or sample.describe()
            count = names.get(base, 0)
            names[base] = count + 1
            sample.name = base if count == 0 else f"{base}#{count}"
            out.append(sample)
        return out

    def covers(self):
        return {name for v in self.variants + self.inplace_variants for name in v.covers}


# ================================================================= sample generators


def unary_samples(kind="n", **kwargs):
    """One tensor, every case: 0-d (contiguous and an offset view), size 0, size 1, 2-d, the
    transposed, stepped, offset and expanded layouts, and 3-d transposed."""

    def gen(g):
        for shape, layout in [
            ((), "contiguous"),
            ((), "offset"),
            ((0, 3), "contiguous"),
            ((1,), "contiguous"),
            ((2, 3), "contiguous"),
            ((3, 4), "transposed"),
            ((2, 3), "stepped"),
            ((3, 2), "offset"),
            ((3, 2, 2), "expanded"),
            ((2, 3, 2), "transposed"),
        ]:
            yield S(g.t(shape, kind, layout), **kwargs)

    return gen


BROADCAST_PAIRS = [
    ((2, 3), (2, 3)),
    ((2, 3), (3,)),
    ((3,), (2, 3)),
    ((2, 1), (1, 3)),
    ((4, 1, 3), (2, 1)),
    ((2, 3), ()),
    ((), (2, 3)),
    ((), ()),
    ((1,), (2, 3)),
    ((0, 3), (3,)),
    ((2, 0), (2, 1)),
]


def binary_samples(
    ka="n",
    kb="n",
    scalars=(2.5, 2),
    kwargs=(),
    mixed=ALL,
    ties=False,
    big_int=False,
    compact=False,
):
    """Two tensors with broadcasting (``BROADCAST_PAIRS``), non-contiguous and offset views
    (also broadcast), one tensor twice, Python scalars, a 0-d CPU tensor (which may go with
    a tensor on any device), and an operand of each other dtype in ``mixed`` (type
    promotion). ``kwargs``: extra keyword arguments, one sample each (float ones only for
    floating tensors: PyTorch rejects a float ``alpha`` for integer ones). ``ties``: a sample
    with equal elements in both operands. ``big_int``: int64 operands around 2**53 with a 0-d
    CPU one (exact integers, not through a float64 on the way to a device). ``compact``: fewer
    shapes (for families of ops that share their kernels, e.g. comparisons)."""

    def gen(g):
        for sa, sb in COMPACT_PAIRS if compact else BROADCAST_PAIRS:
            yield S(g.t(sa, ka), g.t(sb, kb))
        yield S(g.t((2, 3), ka, "transposed"), g.t((2, 3), kb, "stepped"))
        yield S(g.t((2, 3), ka, "stepped"), g.t((2, 3), kb, "transposed"))
        yield S(g.t((3, 4), ka, "offset"), g.t((4,), kb, "offset"))
        yield S(g.t((3, 4), ka, "transposed"), g.t((4,), kb, "stepped"))
        yield S(g.t((2, 3), ka, "stepped"), g.t((3, 2, 3), kb, "expanded"))
        if not compact:
            yield S(g.t((3, 2, 3), ka, "expanded"), g.t((2, 3), kb, "stepped"))
            yield S(g.t((), ka, "offset"), g.t((2, 2), kb, "transposed"))
            yield S(g.t((2, 2), ka, "transposed"), g.t((), kb, "offset"))
        same = g.t((2, 3), "p" if "p" in (ka, kb) else ka)
        yield S(same, same)
        for s in scalars:
            yield S(g.t((2, 3), ka), s)
        yield S(g.t((2, 3), ka), g.t((), kb, on_cpu=True))
        for kw in kwargs:
            if g.dtype in FLOATS or not any(isinstance(v, float) for v in kw.values()):
                yield S(g.t((2, 3), ka), g.t((3,), kb), **kw)
        if big_int and g.dtype == "int64":
            near = Arg(2**53 + g.rng.integers(0, 3, (2, 3)))
            yield S(near, Arg(np.asarray(2**53 + 1), on_cpu=True))
        if ties:
            a = g.t((3, 4), ka)
            yield S(a, g.tied(a), skips={"gradcheck": TIES, "gradgradcheck": TIES})
        for other in mixed:
            if other != g.dtype:
                yield S(g.t((2, 3), ka), g.t((3,), kb, dtype=other))

    return gen


COMPACT_PAIRS = [
    ((2, 3), (2, 3)),
    ((2, 3), (3,)),
    ((2, 1), (1, 3)),
    ((2, 3), ()),
    ((), ()),
    ((1,), (2, 3)),
    ((0, 3), (3,)),
]

TIES = "not differentiable at ties (finite differences straddle a kink)"


def reflected_samples(kind="n", scalars=(2.5, 2)):
    """``scalar op tensor``: the tensor first in ``args`` (0-d, size 0, size 1, views)."""

    def gen(g):
        for shape, layout in [
            ((), "contiguous"),
            ((), "offset"),
            ((0, 3), "contiguous"),
            ((1,), "contiguous"),
            ((2, 3), "contiguous"),
            ((3, 4), "transposed"),
            ((2, 3), "stepped"),
            ((3, 2), "offset"),
        ]:
            yield S(g.t(shape, kind, layout), scalars[len(shape) % len(scalars)])
        for s in scalars:
            yield S(g.t((2, 3), kind), s)

    return gen


def reduction_samples(cases, kind="n", empty_kwargs=({}, {"dim": 0}, {"dim": 1})):
    """A (2, 3, 4) tensor with each of ``cases`` (``(args, kwargs)``); 0-d, size 0 (with each
    of ``empty_kwargs``), size 1, and the views with a dim and with all dims."""

    def gen(g):
        for args, kw in cases:
            yield S(g.t((2, 3, 4), kind), *args, **kw)
        yield S(g.t((), kind))
        yield S(g.t((), kind, "offset"), dim=0)
        for kw in empty_kwargs:
            yield S(g.t((0, 3), kind), **kw)
        yield S(g.t((1,), kind))
        yield S(g.t((1, 1), kind), dim=1)
        for layout, shape in [
            ("transposed", (3, 4)),
            ("stepped", (3, 4)),
            ("offset", (3, 4)),
            ("expanded", (3, 2, 2)),
        ]:
            yield S(g.t(shape, kind, layout))
            yield S(g.t(shape, kind, layout), dim=1)
            yield S(g.t(shape, kind, layout), dim=0, keepdim=True)

    return gen


# sum and mean: the dims positional and by keyword, negative, tuples, keepdim
REDUCE_CASES = [
    ((), {}),
    ((0,), {}),
    ((1,), {}),
    ((-1,), {}),
    ((-3,), {}),
    (((0, 2),), {}),
    (((-1, 0),), {}),
    (((0, -1),), {"keepdim": True}),
    ((), {"dim": 1}),
    ((), {"dim": 2}),
    ((), {"dim": 1, "keepdim": True}),
    ((), {"dim": (0, 1), "keepdim": True}),
    ((-2,), {"keepdim": True}),
]


def sum_samples(g):
    yield from reduction_samples(REDUCE_CASES)(g)
    for dt in ALL:
        # sum(dtype=...): every dtype into float64, and each into its own
        if dt in ("float64", g.dtype):
            yield S(g.t((2, 3)), dim=1, dtype=DType(dt))
    yield S(g.t((2, 3), "n", "transposed"), dtype=DType("float64"))


def max_min_samples(g):
    """Without dim (the element), with dim (values and indices); no empty input without a
    dim (PyTorch raises)."""
    gen = reduction_samples(
        [((), {})]
        + [((), {"dim": d, "keepdim": k}) for d in (0, 1, -1, 2) for k in (False, True)]
        + [((1,), {}), ((-1, True), {})],
        empty_kwargs=({"dim": 1}, {"dim": -1, "keepdim": True}),
    )
    for sample in gen(g):
        expanded = any(a.layout == "expanded" for a in sample.tensors())
        if expanded and sample.kwargs.get("dim") in (None, 0):
            # equal values along the expanded dim 0: ties
            sample.skips.update(gradcheck=TIES, gradgradcheck=TIES)
        yield sample


def arg_reduction_samples(g):
    gen = reduction_samples(
        [((), {}), ((0,), {}), ((), {"dim": 1}), ((-1,), {}), ((), {"dim": 2, "keepdim": True})],
        empty_kwargs=({"dim": 1}, {"dim": -1, "keepdim": True}),
    )
    yield from gen(g)


def softmax_samples(g):
    for dim in (0, 1, -1):
        yield S(g.t((3, 4)), dim)
    yield S(g.t((2, 3, 4)), 1)
    yield S(g.t((2, 3, 4)), dim=0)
    yield S(g.t((2, 3, 4)), dim=-1)
    yield S(g.t((4, 2)), dim=0)
    yield S(g.t((), "n"), 0)
    yield S(g.t((), "n", "offset"), -1)
    yield S(g.t((0, 3)), 1)
    yield S(g.t((0, 3)), 0)
    yield S(g.t((1,)), 0)
    yield S(g.t((3, 1)), 1)
    yield S(g.t((3, 4), "n", "transposed"), -1)
    yield S(g.t((3, 4), "n", "transposed"), 0)
    yield S(g.t((2, 5), "n", "stepped"), 1)
    yield S(g.t((3, 4), "n", "offset"), 1)
    yield S(g.t((3, 2, 2), "n", "expanded"), 0)
    # large logits: stable (no overflow to inf)
    big = g.t((2, 5))
    big.value = big.value * 300.0
    yield S(big, -1)
    big1 = g.t((2, 5), "n", "transposed")
    big1.value = big1.value * 300.0
    yield S(big1, 1)


MATMUL_PAIRS = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3, 4)),
    ((5, 2, 3), (5, 3, 4)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((5, 2, 3), (3,)),
    ((3,), (5, 3, 4)),
    ((0, 3), (3, 4)),
    ((2, 0), (0, 3)),
    ((2, 3), (3, 0)),
    ((1,), (1,)),
    ((1, 1), (1, 3)),
]

TOO_BIG = "too many elements for finite differences (the other tests run it)"


def matmul_samples(g):
    for sa, sb in MATMUL_PAIRS:
        yield S(g.t(sa), g.t(sb))
    yield S(g.t((2, 3), "n", "transposed"), g.t((3, 4), "n", "stepped"))
    yield S(g.t((3, 2), "n", "transposed"), g.t((2, 4), "n", "transposed"))
    yield S(g.t((5, 2, 3), "n", "transposed"), g.t((5, 3, 4)))
    yield S(g.t((2, 3), "n", "offset"), g.t((3,), "n", "offset"))
    yield S(g.t((3, 2, 3), "n", "expanded"), g.t((3, 3, 4)))
    yield S(g.t((3,), "n", "stepped"), g.t((3, 2), "n", "offset"))
    skips = {"gradcheck": TOO_BIG, "gradgradcheck": TOO_BIG}
    yield S(g.t((33, 65)), g.t((65, 17)), skips=skips)


def mm_samples(g):
    for sa, sb in [((2, 3), (3, 4)), ((1, 1), (1, 3)), ((0, 3), (3, 2)), ((2, 0), (0, 3))]:
        yield S(g.t(sa), g.t(sb))
    yield S(g.t((2, 3), "n", "transposed"), g.t((3, 4), "n", "stepped"))
    yield S(g.t((3, 2), "n", "offset"), g.t((2, 2), "n", "transposed"))
    yield S(g.t((3, 3), "n", "expanded"), g.t((3, 2), "n", "offset"))


def dot_samples(g):
    for n in (3, 1, 0):
        yield S(g.t((n,)), g.t((n,)))
    yield S(g.t((4,), "n", "stepped"), g.t((4,), "n", "offset"))
    a = g.t((3,))
    yield S(a, a)


def where_samples(g):
    def cond(shape, layout="contiguous"):
        return g.t(shape, "n", layout, dtype="bool")

    yield S(cond((2, 3)), g.t((2, 3)), g.t((2, 3)))
    yield S(cond((4, 1)), g.t((1, 3)), g.t((4, 3)))
    yield S(cond((3,)), g.t((2, 3)), g.t((3,)))
    yield S(cond((2, 3)), g.t((2, 3)), 0.0)
    yield S(cond((2, 3)), 1.5, g.t((3,)))
    yield S(cond((2, 3)), g.t((2, 3)), 2)
    yield S(cond(()), g.t(()), g.t(()))
    yield S(cond((2, 3)), g.t((), "n", "offset"), g.t((2, 3)))
    yield S(cond((0, 3)), g.t((0, 3)), g.t((3,)))
    yield S(cond((1,)), g.t((1,)), g.t((2, 1)))
    yield S(cond((3, 4), "offset"), g.t((3, 4), "n", "transposed"), g.t((3, 4), "n", "stepped"))
    yield S(cond((2, 3), "transposed"), g.t((3, 2, 3), "n", "expanded"), g.t((3,), "n", "offset"))
    yield S(cond((2, 3)), g.t((2, 3)), g.t((), on_cpu=True))
    # the condition read from the first operand's values
    a = g.t((3, 4), "z")
    yield S(Arg(a.value > 0), a, g.t((3, 4)))
    for other in ALL:
        if other != g.dtype:
            yield S(cond((2, 3)), g.t((2, 3)), g.t((3,), dtype=other))


def cat_samples(g):
    shapes = {0: [(1, 3), (2, 3), (4, 3)], 1: [(2, 1), (2, 3), (2, 2)], -1: [(2, 2), (2, 1)]}
    for dim, ss in shapes.items():
        yield S([g.t(s) for s in ss], dim)
        yield S(tuple(g.t(s) for s in ss), dim=dim)
    yield S([g.t((2, 3)), g.t((1, 3))])
    yield S([g.t((3,)), g.t((0,)), g.t((2,))])
    yield S([g.t((0, 3)), g.t((2, 3))], 0)
    yield S([g.t((0, 3)), g.t((0, 3))], 1)
    yield S([g.t((1,))])
    yield S([g.t((2, 3), "n", "transposed"), g.t((2, 4), "n", "stepped")], -1)
    yield S([g.t((3, 2), "n", "offset"), g.t((3, 4), "n", "transposed")], 1)
    yield S([g.t((2, 2, 3), "n", "expanded"), g.t((2, 1, 3))], 1)
    a = g.t((2, 3))
    yield S([a, g.t((2, 3)), a])
    for other in ALL:
        if other != g.dtype:
            yield S([g.t((2, 3)), g.t((1, 3), dtype=other)])


def stack_samples(g):
    for dim in (0, 1, 2, -1):
        yield S([g.t((2, 3)) for _ in range(3)], dim)
    yield S((g.t((2, 3)), g.t((2, 3))), dim=1)
    yield S([g.t(()), g.t(()), g.t((), "n", "offset")])
    yield S([g.t((0, 3)), g.t((0, 3))], 1)
    yield S([g.t((1,))])
    yield S([g.t((3, 2), "n", "transposed"), g.t((3, 2), "n", "stepped")], -1)
    yield S([g.t((2, 3), "n", "offset"), g.t((2, 3), "n", "expanded")], 0)
    a = g.t((2, 3))
    yield S([a, a], 2)
    for other in ALL:
        if other != g.dtype:
            yield S([g.t((2, 3)), g.t((2, 3), dtype=other)])


def clamp_samples(g):
    kw_sets = [
        ((-0.5, 0.5), {}),
        ((), {"min": -0.5, "max": 0.5}),
        ((), {"min": -0.5}),
        ((), {"max": 0.5}),
        ((-0.5,), {}),
        ((None, 0.5), {}),
        ((), {"min": 0}),
    ]
    for args, kw in kw_sets:
        yield S(g.t((3, 4), "z"), *args, **kw)
    for shape, layout in [
        ((), "contiguous"),
        ((), "offset"),
        ((0, 3), "contiguous"),
        ((1,), "contiguous"),
        ((3, 4), "transposed"),
        ((2, 3), "stepped"),
        ((3, 2), "offset"),
        ((3, 2, 2), "expanded"),
    ]:
        yield S(g.t(shape, "z", layout), -0.5, 0.5)
    # integer bounds: no promotion for an integer tensor
    yield S(g.t((2, 3), "z"), -2, 2)
    if g.dtype != "bool":  # tensor bounds (broadcast to the input's shape)
        yield S(g.t((2, 3), "z"), g.t((3,), "z"), g.t((2, 1), "z", "stepped"))
        yield S(g.t((3, 2), "z", "transposed"), min=g.t((), "z"))
        yield S(g.t((2, 2), "z"), None, g.t((2, 2), "z", "offset"))


def pow_samples(g):
    """Tensor exponents (positive bases) with broadcasting, and Python exponents."""
    base, expo = "p", ("p" if g.dtype == "int64" else "n")  # no negative integer powers
    yield from binary_samples(base, expo, scalars=(), mixed=())(g)
    for e in (2, 3, 0, 1):
        yield S(g.t((2, 3), "n"), e)
    for e in (2.5, -1.5, 0.5, 2.0):
        yield S(g.t((2, 3), "p"), e)
    yield S(g.t((3, 4), "n", "transposed"), 2)
    yield S(g.t((), "p", "offset"), 0.5)
    yield S(g.t((0, 3), "p"), 2.5)
    for other in NUMERIC:
        if other != g.dtype:
            yield S(g.t((2, 3), "p"), g.t((3,), "p", dtype=other))


def view_samples(g):
    yield S(g.t((2, 3, 4)), 6, 4)
    yield S(g.t((2, 3, 4)), -1, 2)
    yield S(g.t((2, 3, 4)), (4, 6))
    yield S(g.t((2, 3, 4)), [24])
    yield S(g.t(()), 1)
    yield S(g.t((), "n", "offset"), ())
    yield S(g.t((1,)), ())
    yield S(g.t((0, 3)), 3, 0)
    yield S(g.t((0, 3)), -1)
    yield S(g.t((3, 4), "n", "offset"), 2, 6)
    # non-contiguous inputs: only views that keep the strides compatible
    yield S(g.t((2, 3), "n", "stepped"), 2, 3, 1)
    yield S(g.t((3, 4), "n", "transposed"), 1, 3, 4)
    yield S(g.t((3, 2, 2), "n", "expanded"), 3, 1, 2, 2)


def reshape_samples(g):
    yield S(g.t((2, 3, 4)), 4, 6)
    yield S(g.t((2, 3, 4)), 3, -1)
    yield S(g.t((2, 3, 4)), (24,))
    yield S(g.t(()), (1, 1))
    yield S(g.t((), "n", "offset"), [])
    yield S(g.t((1,)), ())
    yield S(g.t((0, 3)), 3, 0, 1)
    yield S(g.t((3, 4), "n", "transposed"), -1)
    yield S(g.t((2, 6), "n", "stepped"), 3, 4)
    yield S(g.t((3, 4), "n", "offset"), 4, 3)
    yield S(g.t((3, 2, 2), "n", "expanded"), 6, 2)


def flatten_samples(g):
    yield S(g.t((2, 3, 4)))
    yield S(g.t((2, 3, 4)), 1)
    yield S(g.t((2, 3, 4)), 0, 1)
    yield S(g.t((2, 3, 4)), start_dim=-2, end_dim=-1)
    yield S(g.t(()))
    yield S(g.t((), "n", "offset"))
    yield S(g.t((1,)))
    yield S(g.t((0, 3)))
    yield S(g.t((3, 4), "n", "transposed"))
    yield S(g.t((2, 4, 3), "n", "transposed"), 1)
    yield S(g.t((3, 4), "n", "stepped"))
    yield S(g.t((3, 4), "n", "offset"))
    yield S(g.t((3, 2, 2), "n", "expanded"), 0, 1)


def squeeze_samples(g):
    yield S(g.t((1, 3, 1, 2)))
    yield S(g.t((1, 3, 1, 2)), 2)
    yield S(g.t((1, 3, 1, 2)), -4)
    yield S(g.t((1, 3, 1, 2)), 1)
    yield S(g.t((1, 3, 1, 2)), (0, 2))
    yield S(g.t(()))
    yield S(g.t((), "n", "offset"), 0)
    yield S(g.t((1,)))
    yield S(g.t((0, 1)))
    yield S(g.t((0, 1)), 0)
    yield S(g.t((1, 4), "n", "transposed"))
    yield S(g.t((3, 1), "n", "stepped"), 1)
    yield S(g.t((1, 3), "n", "offset"), 0)
    yield S(g.t((3, 1, 2), "n", "expanded"))


def unsqueeze_samples(g):
    for dim in (0, 1, -1, 2):
        yield S(g.t((2, 3)), dim)
    yield S(g.t(()), 0)
    yield S(g.t((), "n", "offset"), -1)
    yield S(g.t((1,)), 1)
    yield S(g.t((0, 3)), 1)
    yield S(g.t((3, 4), "n", "transposed"), 1)
    yield S(g.t((3, 4), "n", "stepped"), -1)
    yield S(g.t((3, 4), "n", "offset"), 0)
    yield S(g.t((3, 2, 2), "n", "expanded"), 1)


def t_samples(g):
    """At most 2 dims (``t()``)."""
    yield S(g.t((2, 3)))
    yield S(g.t((3,)))
    yield S(g.t(()))
    yield S(g.t((), "n", "offset"))
    yield S(g.t((1,)))
    yield S(g.t((0, 3)))
    yield S(g.t((3, 4), "n", "transposed"))
    yield S(g.t((3, 4), "n", "stepped"))
    yield S(g.t((3, 4), "n", "offset"))
    yield S(g.t((3, 2), "n", "expanded"))


def T_samples(g):
    """2 dims (PyTorch deprecates ``x.T`` for others)."""
    yield S(g.t((2, 3)))
    yield S(g.t((1, 1)))
    yield S(g.t((0, 3)))
    yield S(g.t((3, 4), "n", "transposed"))
    yield S(g.t((3, 4), "n", "stepped"))
    yield S(g.t((3, 4), "n", "offset"))
    yield S(g.t((3, 2), "n", "expanded"))


def transpose_samples(g):
    yield S(g.t((2, 3, 4)), 0, 2)
    yield S(g.t((2, 3, 4)), -1, -2)
    yield S(g.t((2, 3)), 1, 0)
    yield S(g.t((2, 3)), 1, 1)
    yield S(g.t(()), 0, -1)
    yield S(g.t((), "n", "offset"), 0, 0)
    yield S(g.t((1,)), 0, 0)
    yield S(g.t((0, 3)), 0, 1)
    yield S(g.t((3, 4), "n", "transposed"), 0, 1)
    yield S(g.t((3, 4), "n", "stepped"), 0, 1)
    yield S(g.t((3, 4), "n", "offset"), 1, 0)
    yield S(g.t((3, 2, 2), "n", "expanded"), 0, 2)


def permute_samples(g):
    yield S(g.t((2, 3, 4)), 2, 0, 1)
    yield S(g.t((2, 3, 4)), (1, 2, 0))
    yield S(g.t((2, 3, 4)), [-1, 0, 1])
    yield S(g.t(()), [])
    yield S(g.t((), "n", "offset"), ())
    yield S(g.t((1,)), 0)
    yield S(g.t((0, 3)), 1, 0)
    yield S(g.t((3, 4), "n", "transposed"), 1, 0)
    yield S(g.t((3, 4), "n", "stepped"), 1, 0)
    yield S(g.t((3, 4), "n", "offset"), 1, 0)
    yield S(g.t((3, 2, 2), "n", "expanded"), 2, 0, 1)


def expand_samples(g):
    yield S(g.t((2, 3)), 4, 2, 3)
    yield S(g.t((2, 1)), 2, 3)
    yield S(g.t((2, 1)), -1, 5)
    yield S(g.t((2, 1)), (3, 2, 4))
    yield S(g.t(()), 3, 2)
    yield S(g.t((), "n", "offset"), [2])
    yield S(g.t(()), ())
    yield S(g.t((1,)), 4)
    yield S(g.t((1,)), 0)
    yield S(g.t((0, 1)), 2, 0, 3)
    yield S(g.t((3, 1), "n", "transposed"), 2, 3, 4)
    yield S(g.t((3, 1), "n", "stepped"), 3, 2)
    yield S(g.t((1, 3), "n", "offset"), 2, 3)
    yield S(g.t((3, 2), "n", "expanded"), 2, 3, 2)


def like_samples(pairs):
    """``op(x, other)`` with ``other`` only giving a shape (no grad)."""

    def gen(g):
        for sx, layout, so in pairs:
            yield S(g.t(sx, "n", layout), Arg(g.values(so), requires_grad=False))

    return gen


# Indexing: keys hold Python ints, slices, None, Ellipsis, lists and index tensors.
def _idx(values, on_cpu=False):
    return Arg(np.asarray(values, dtype=np.int64), on_cpu=on_cpu)


def getitem_samples(g):
    x = lambda layout="contiguous", shape=(4, 5): g.t(shape, "n", layout)
    for key in [
        1,
        -1,
        (1, 2),
        (-1, 2),
        slice(1, 3),
        slice(None, None, 2),
        (slice(1, None, 2), slice(None, None, 3)),
        (slice(None), slice(2, None)),
        (slice(-2, None), slice(None, -1)),
        (Ellipsis, 1),
        (1, Ellipsis),
        None,
        (slice(None), None, slice(1, None)),
        [0, 2, 3],
        [0, 2, 0, 0],
        (slice(None), [4, 1, 4]),
        (slice(1, None), [0, 0, 2]),
        slice(2, 2),
        slice(3, 4),
    ]:
        yield S(x(), key)
    yield S(x(), _idx([3, 1, 3, 3]))
    yield S(x(), _idx([-1, 0, -1]))
    yield S(x(), _idx([2, 0, 2], on_cpu=True))  # indices on the CPU, data on any device
    yield S(x(), (_idx([0, 1, 3]), _idx([2, 0, 4])))
    yield S(x(), _idx([]))
    mask = g.t((4, 5), "n", dtype="bool")
    yield S(x(), mask)
    yield S(x(), Arg(np.array([True, False, True, True])))
    yield S(g.t((2, 3, 4)), (1, slice(None), slice(None, None, 2)))
    yield S(g.t((2, 3, 4)), (Ellipsis, None, 0))
    yield S(g.t(()), ())
    yield S(g.t(()), None)
    yield S(g.t((), "n", "offset"), Ellipsis)
    yield S(g.t((1,)), 0)
    yield S(g.t((0, 3)), (slice(None), 1))
    yield S(x("transposed"), (slice(1, None), slice(None, None, 2)))
    yield S(x("transposed"), _idx([1, 1, 0]))
    yield S(x("stepped"), [0, 0, 3])
    yield S(x("offset"), (slice(None), -1))
    yield S(x("offset"), Arg(g.values((4, 5), dtype="bool")))
    yield S(g.t((3, 2, 2), "n", "expanded"), (slice(None), 1))


def setitem_samples(g):
    """``x[key] = value`` on a clone of ``x`` (PyTorch's ``CopySlices``)."""
    v = g.t
    yield S(v((3, 4)), 1, v((4,)))
    yield S(v((3, 4)), (slice(None), 2), v((3,)))
    yield S(v((3, 4)), (slice(1, 3), slice(0, 2)), v((2, 2)))
    yield S(v((3, 4)), slice(None, None, 2), v((2, 4)))
    yield S(v((3, 4)), slice(1, None), v((4,)))
    yield S(v((3, 4)), (0, 3), v(()))
    yield S(v((3, 4)), (1, slice(1, None)), 5.0)
    yield S(v((3, 4)), (slice(None), 0), 2)
    yield S(v((3, 4)), _idx([0, 2]), v((2, 4)))
    yield S(v((3, 4)), (_idx([0, 2]), _idx([1, 3])), -1.0)
    yield S(v((3, 4)), v((3, 4), dtype="bool"), 0.0)
    yield S(v((3, 4)), v((3, 4), dtype="bool"), v(()))
    yield S(v((3, 4)), v((3, 4), dtype="bool"), 7)
    yield S(v((3, 4)), (1, 2), v((), "n", "offset"))
    yield S(v((3, 4)), 0, v((), on_cpu=True))
    yield S(v(()), (), v(()))
    yield S(v(()), Ellipsis, 1.5)
    yield S(v((1,)), 0, v((1,)))
    yield S(v((0, 3)), slice(None), v((3,)))
    yield S(v((3, 4)), slice(1, 1), v((4,)))
    yield S(v((3, 4), "n", "transposed"), (slice(None), 1), v((3,), "n", "stepped"))
    yield S(v((3, 4), "n", "stepped"), 2, v((4,), "n", "offset"))
    yield S(
        v((3, 4), "n", "offset"), (slice(None), slice(None, None, 2)), v((3, 2), "n", "transposed")
    )
    for other in ALL:
        if other != g.dtype:
            yield S(v((3, 4)), 1, v((4,), dtype=other))


def fill_samples(g):
    for shape, layout in [
        ((2, 3), "contiguous"),
        ((), "contiguous"),
        ((), "offset"),
        ((0, 3), "contiguous"),
        ((1,), "contiguous"),
        ((3, 4), "transposed"),
        ((2, 3), "stepped"),
        ((3, 2), "offset"),
    ]:
        yield S(g.t(shape, "n", layout), 2.5)
    yield S(g.t((2, 3)), 2)
    yield S(g.t((2, 3)), True)
    yield S(g.t((2, 3)), g.t(()))
    yield S(g.t((3, 4), "n", "transposed"), g.t((), "n", "offset"))
    yield S(g.t((2, 3)), g.t((), on_cpu=True))


def copy_samples(g):
    v = g.t
    yield S(v((3, 4)), v((3, 4)))
    yield S(v((3, 4)), v((4,)))
    yield S(v((3, 4)), v(()))
    yield S(v((3, 4)), v((3, 1), "n", "offset"))
    yield S(v(()), v(()))
    yield S(v(()), v((), "n", "offset"))
    yield S(v((0, 3)), v((3,)))
    yield S(v((1,)), v((1,)))
    yield S(v((3, 4), "n", "transposed"), v((3, 4)))
    yield S(v((3, 4)), v((3, 4), "n", "transposed"))
    yield S(v((3, 4), "n", "stepped"), v((3, 4), "n", "offset"))
    yield S(v((3, 4), "n", "offset"), v((4,), "n", "stepped"))
    yield S(v((3, 4)), v((3, 4), "n", "expanded"))
    yield S(v((3, 4)), v((3, 4), on_cpu=True))
    for other in ALL:
        if other != g.dtype:
            yield S(v((3, 4)), v((3, 4), dtype=other))


def linear_samples(g):
    v = g.t
    yield S(v((4, 3)), v((2, 3)), v((2,)))
    yield S(v((4, 3)), v((2, 3)))
    yield S(v((4, 3)), v((2, 3)), None)
    yield S(v((3,)), v((2, 3)), v((2,)))
    yield S(v((2, 4, 3)), v((2, 3)), v((2,)))
    yield S(v((0, 3)), v((2, 3)), v((2,)))
    yield S(v((1, 1)), v((1, 1)), v((1,)))
    yield S(v((4, 3), "n", "transposed"), v((2, 3), "n", "stepped"), v((2,), "n", "offset"))
    yield S(v((4, 3), "n", "offset"), v((2, 3), "n", "transposed"), v((), "n"))
    yield S(v((4, 3), "n", "expanded"), v((2, 3)), v((2,)))


def mse_samples(g):
    v = g.t
    for reduction in ("mean", "sum", "none"):
        yield S(v((2, 3)), v((2, 3)), reduction=reduction)
    yield S(v(()), v(()))
    yield S(v((), "n", "offset"), v(()), reduction="sum")
    yield S(v((0, 3)), v((0, 3)), reduction="sum")
    yield S(v((0, 3)), v((0, 3)))
    yield S(v((1,)), v((1,)))
    yield S(v((3, 4), "n", "transposed"), v((3, 4), "n", "stepped"))
    yield S(v((3, 4), "n", "offset"), v((3, 4), "n", "expanded"), reduction="none")
    yield S(v((2, 3)), Arg(g.values((2, 3)), requires_grad=False))


def _targets(values):
    return Arg(np.asarray(values, dtype=np.int64))


def nll_samples(g, logits=False):
    """``input`` (log-probabilities, or logits for cross-entropy) and int64 class targets."""
    v = g.t

    def inp(shape, layout="contiguous"):
        arg = v(shape, "n", layout)
        if not logits:  # log-probabilities along dim 1 (dim 0 for 1-d)
            dim = 0 if len(shape) == 1 else 1
            vals = arg.value - np.log(np.exp(arg.value).sum(axis=dim, keepdims=True))
            arg.value = vals.astype(arg.dtype)
        return arg

    def weight(c):
        return Arg(g.values((c,), "p"), requires_grad=False)

    yield S(inp((3, 4)), _targets([1, 1, 0]))
    yield S(inp((4, 3)), _targets([0, 2, 1, 2]), reduction="sum")
    yield S(inp((4, 3)), _targets([0, 2, 1, 2]), reduction="none")
    yield S(inp((4, 3)), _targets([0, -100, 1, 2]), weight=weight(3))
    yield S(inp((4, 3)), _targets([0, 2, 1, 2]), ignore_index=2, reduction="sum")
    yield S(inp((4, 3)), _targets([0, 2, 1, 1]), weight=weight(3), reduction="none")
    yield S(inp((2, 3, 2)), _targets([[0, 2], [1, 1]]))
    yield S(inp((3,)), _targets(2))
    yield S(inp((1, 1)), _targets([0]))
    yield S(inp((0, 3)), _targets(np.zeros(0)), reduction="sum")
    yield S(inp((4, 3), "transposed"), _targets([2, 0, 1, 1]))
    yield S(inp((4, 3), "offset"), _targets([1, 0, 2, 2]), reduction="sum")
    yield S(inp((4, 6), "stepped"), _targets([5, 0, 2, 1]), weight=weight(6))
    if logits:
        yield S(inp((4, 3)), _targets([0, 2, 1, 2]), label_smoothing=0.1)
        yield S(
            inp((4, 3)),
            _targets([0, -100, 1, 2]),
            weight=weight(3),
            label_smoothing=0.1,
        )
        yield S(inp((4, 3)), _targets([0, 2, 1, 2]), reduction="sum", label_smoothing=0.2)
        probs = g.values((4, 3), "p")
        probs = Arg((probs / probs.sum(1, keepdims=True)).astype(g.dtype), requires_grad=False)
        yield S(inp((4, 3)), probs)
        yield S(inp((4, 3)), probs, reduction="none", label_smoothing=0.1)


# ----- the losses and tensor utilities of issue 12 (composites of the ops above)


def _pair_loss_samples(**options):
    """``(input, target)`` of one shape, every layout case, each reduction; ``options`` are
    keyword variants (beta, delta, ...) added to some samples."""

    def samples(g):
        v = g.t
        for reduction in ("mean", "sum", "none"):
            yield S(v((2, 3)), v((2, 3)), reduction=reduction)
        for key, values in options.items():
            for value in values:
                yield S(v((3, 2)), v((3, 2)), **{key: value})
        yield S(v(()), v(()))
        yield S(v((), "n", "offset"), v(()), reduction="sum")
        yield S(v((0, 3)), v((0, 3)), reduction="sum")
        yield S(v((1,)), v((1,)))
        yield S(v((3, 4), "n", "transposed"), v((3, 4), "n", "stepped"))
        yield S(v((3, 4), "n", "offset"), v((3, 4), "n", "expanded"), reduction="none")

    return samples


def _probabilities(g, shape, layout="contiguous", grad=True):
    """An ``Arg`` of values in (0.05, 0.95), away from the clamped ends of BCE's logs."""
    values = g.rng.uniform(0.05, 0.95, shape).astype(g.dtype)
    if layout == "expanded":
        values = np.broadcast_to(values[:1], shape).copy()
    return Arg(values, layout, requires_grad=grad)


def bce_samples(g):
    p = functools.partial(_probabilities, g)
    for reduction in ("mean", "sum", "none"):
        yield S(p((2, 3)), p((2, 3)), reduction=reduction)
    yield S(p((3, 2)), p((3, 2)), weight=p((3, 2), grad=False))
    yield S(p(()), p(()))
    yield S(p((), "offset"), p(()), reduction="sum")
    yield S(p((0, 3)), p((0, 3)), reduction="sum")
    yield S(p((1,)), p((1,)))
    yield S(p((3, 4), "transposed"), p((3, 4), "stepped"))
    yield S(p((3, 4), "offset"), p((3, 4), "expanded"), reduction="none")


def bce_logits_samples(g):
    v, p = g.t, functools.partial(_probabilities, g)
    for reduction in ("mean", "sum", "none"):
        yield S(v((2, 3)), p((2, 3)), reduction=reduction)
    yield S(
        v((3, 2)),
        p((3, 2)),
        weight=p((3, 2), grad=False),
        pos_weight=g.t((2,), "p", requires_grad=False),
    )
    yield S(v((3, 2)), p((3, 2)), pos_weight=g.t((3, 2), "p", requires_grad=False), reduction="sum")
    yield S(v(()), p(()))
    yield S(v((), "n", "offset"), p(()), reduction="sum")
    yield S(v((0, 3)), p((0, 3)), reduction="sum")
    yield S(v((1,)), p((1,)))
    yield S(v((3, 4), "n", "transposed"), p((3, 4), "stepped"))
    yield S(v((3, 4), "n", "offset"), p((3, 4), "expanded"), reduction="none")


def kl_div_samples(g):
    v, p = g.t, functools.partial(_probabilities, g)
    for reduction in ("batchmean", "sum", "none"):
        yield S(v((2, 3)), p((2, 3)), reduction=reduction)
        yield S(v((2, 3)), v((2, 3)), reduction=reduction, log_target=True)
    zero = np.array([[0.0, 0.5], [0.25, 0.0]], dtype=g.dtype)
    yield S(v((2, 2)), Arg(zero, requires_grad=False), reduction="sum")
    yield S(v(()), p(()), reduction="sum")
    yield S(v((), "n", "offset"), p(()), reduction="sum")
    yield S(v((0, 3)), p((0, 3)), reduction="sum")
    yield S(v((1,)), p((1,)), reduction="batchmean")
    yield S(v((3, 4), "n", "transposed"), p((3, 4), "stepped"), reduction="sum")
    yield S(v((3, 4), "n", "offset"), p((3, 4), "expanded"), reduction="none")


def _signs(values):
    return Arg(np.asarray(values), requires_grad=False)


def cosine_embedding_samples(g):
    v = g.t
    for reduction in ("mean", "sum", "none"):
        yield S(v((3, 4), "z"), v((3, 4), "z"), _signs([1.0, -1.0, 1.0]), reduction=reduction)
    yield S(v((3, 4), "z"), v((3, 4), "z"), _signs([-1.0, -1.0, 1.0]), margin=0.2)
    yield S(v((4,), "z"), v((4,), "z"), _signs(-1.0), margin=-0.5)
    yield S(v((1, 3), "z"), v((1, 3), "z"), _signs([1.0]))
    yield S(v((0, 3)), v((0, 3)), _signs(np.zeros(0)), reduction="sum")
    yield S(v((4, 3), "z", "transposed"), v((4, 3), "z", "offset"), _signs([1.0, -1, -1, 1]))
    yield S(v((4, 3), "z", "stepped"), v((4, 3), "z", "expanded"), _signs([-1.0, 1, -1, 1]))


def margin_ranking_samples(g):
    v = g.t
    for reduction in ("mean", "sum", "none"):
        yield S(v((5,)), v((5,)), _signs([1.0, -1, 1, -1, 1]), reduction=reduction)
    yield S(v((5,)), v((5,)), _signs([1.0, -1, -1, -1, 1]), margin=0.3)
    yield S(v(()), v(()), _signs(1.0))
    yield S(v((), "n", "offset"), v(()), _signs(-1.0), reduction="sum")
    yield S(v((0,)), v((0,)), _signs(np.zeros(0)), reduction="sum")
    yield S(v((1,)), v((1,)), _signs([-1.0]))
    yield S(v((2, 3), "n", "transposed"), v((2, 3), "n", "stepped"), _signs(np.ones((2, 3))))


def one_hot_samples(g):
    yield S(_targets([0, 3, 1]))
    yield S(_targets([[0, 3], [1, 1]]), 5)
    yield S(_targets(2), 4)
    yield S(_targets([2]))
    yield S(_targets(np.zeros(0)), 3)
    yield S(Arg(np.array([[1, 2], [0, 1]], dtype=np.int64), "transposed"))
    yield S(Arg(np.array([0, 2, 1, 1], dtype=np.int64), "offset"), 3)


def pad_samples(g):
    v = g.t
    yield S(v((2, 3)), (1, 2))
    yield S(v((2, 3)), (1, 1, 2, 0), value=-1.5)
    yield S(v((2, 3, 4)), (-1, 1, 0, -1))
    yield S(v(()), ())
    yield S(v((0, 3)), (1, 1))
    yield S(v((1,)), (2, 0))
    yield S(v((3, 4), "n", "transposed"), (1, 1))
    yield S(v((3, 4), "n", "offset"), (0, 2))
    for mode in ("reflect", "replicate", "circular"):
        yield S(v((2, 5)), (2, 1), mode=mode)
        yield S(v((1, 3, 4), "n", "stepped"), (1, 2, 2, 1), mode=mode)
        yield S(v((2, 2, 3, 3)), (1, 1, 1, 2, 1, 0), mode=mode)


def normalize_samples(g):
    v = g.t
    yield S(v((3, 4), "z"))
    yield S(v((3, 4), "z"), 1.0, 0)
    yield S(v((2, 3, 2), "z"), 3.0, -1)
    yield S(v((4,), "z"), dim=0)
    yield S(v((1, 1), "z"))
    yield S(v((0, 3)))
    yield S(v((3, 4), "z", "transposed"), dim=0)
    yield S(v((3, 4), "z", "offset"))
    # Zero rows are divided by eps; finite differences across the kink at 0 are meaningless
    # there (PyTorch's gradcheck fails the same way), values and gradients match PyTorch.
    kink = "the norm's kink at 0: finite differences cross it"
    yield S(Arg(np.zeros((2, 3), dtype=g.dtype)), skips={"gradcheck": kink, "gradgradcheck": kink})


def cross_entropy_samples(g):
    yield from nll_samples(g, logits=True)


def comparison_samples(g):
    yield from binary_samples(scalars=(0.5, 2), ties=True, big_int=True, compact=True)(g)


def shift_samples(g):
    """Shifts of integers: the binary samples (counts from small signed values, some negative)
    and counts at and past the width (64), which give 0 or the sign."""
    yield from binary_samples(scalars=(2, 70, -1), mixed=())(g)
    yield S(Arg(np.array([1, -8, 3, 5, -1, 7])), Arg(np.array([1, 2, 64, -1, 63, 0])))


def logical_samples(g):
    a = g.t((2, 3))
    yield from binary_samples(scalars=(True, False), mixed=())(g)
    yield S(a, g.tied(a))


# ================================================================= the table


def _unary_entry(name, kind="n", F=False, **kw):
    """A math library function (exp, log, ...): a method and the functional forms."""
    variants = [method(name), function(name)]
    if F:
        variants.append(functional(name))
    return OpInfo(name, variants, unary_samples(kind), libm=True, **kw)


def _setitem(mod, x, key, value):
    y = x.clone()
    y[key] = value
    return y


def _setitem_(mod, x, key, value):
    x[key] = value
    return x


def _relu_inplace(mod, x):
    return mod.nn.functional.relu(x, inplace=True)


def _cast(name, dtype):
    return OpInfo(
        name,
        [
            method(name),
            Variant(f"x.to({dtype})", lambda mod, x: x.to(getattr(mod, dtype)), ("Tensor.to",)),
            Variant(f"x.to(dtype={dtype})", lambda mod, x: x.to(dtype=getattr(mod, dtype))),
        ],
        unary_samples(),
        dtypes=ALL,
        differentiable=dtype in FLOATS,
    )


def _binary_entry(name, dunder, inplace=None, idunder=None, ka="n", kb="n", **kw):
    variants = [
        method(name),
        operator_(dunder, getattr(operator, dunder.strip("_"))),
        function(name),
    ]
    inplace_variants = []
    if inplace:
        inplace_variants.append(method(inplace))
    if idunder:
        inplace_variants.append(operator_(idunder, getattr(operator, idunder.strip("_"))))
    return OpInfo(
        name,
        variants,
        kw.pop("samples", None) or binary_samples(ka, kb),
        inplace_variants=inplace_variants,
        broadcasts=True,
        **kw,
    )


def _reflected_entry(name, dunder, fn, kind="n", scalars=(2.5, 2), **kw):
    return OpInfo(
        name,
        [Variant(dunder, lambda mod, x, s: fn(s, x), (f"Tensor.{dunder}",), kwargs=False)],
        reflected_samples(kind, scalars),
        exempt={"broadcast": "a Python scalar on the left"},
        **kw,
    )


# ----- known rustgrad bugs (strict xfails; each names what PyTorch does instead)

ALPHA_GRAPH = (
    "rustgrad records alpha as a separate MulBackward0 on the second operand; PyTorch's "
    "{0} node takes both leaves directly"
)


def _alpha(sample):
    return "alpha" in sample.kwargs


RESHAPE_ALIAS = (
    "reshaping a non-contiguous tensor that can be viewed records ViewBackward0; PyTorch "
    "records ReshapeAliasBackward0"
)


def _concatenate(mod, tensors, *args, **kwargs):
    """``concatenate``: ``cat`` whose ``dim`` is called ``axis``."""
    axis = {"axis" if n == "dim" else n: v for n, v in kwargs.items()}
    return mod.concatenate(tensors, *args, **axis)


OP_DB = [
    # ----- binary arithmetic (tensor op tensor / Python scalar), with broadcasting
    _binary_entry(
        "add",
        "__add__",
        "add_",
        "__iadd__",
        dtypes=ALL,
        samples=binary_samples(kwargs=({"alpha": 2.5}, {"alpha": -1}), big_int=True),
        expects=[
            xfail(("parity_graph",), ALPHA_GRAPH.format("AddBackward0"), FLOATS, _alpha),
        ],
    ),
    _binary_entry(
        "sub",
        "__sub__",
        "sub_",
        "__isub__",
        dtypes=NUMERIC,
        # (PyTorch has no subtraction with a bool tensor)
        samples=binary_samples(kwargs=({"alpha": -0.5}, {"alpha": 2}), mixed=NUMERIC, big_int=True),
        expects=[
            xfail(("parity_graph",), ALPHA_GRAPH.format("SubBackward0"), FLOATS, _alpha),
        ],
    ),
    _binary_entry(
        "mul",
        "__mul__",
        "mul_",
        "__imul__",
        dtypes=ALL,
    ),
    _binary_entry(
        "div",
        "__truediv__",
        "div_",
        "__itruediv__",
        dtypes=ALL,
        samples=binary_samples("n", "p", scalars=(4.0, 4)),
    ),
    _binary_entry(
        "pow",
        "__pow__",
        "pow_",
        "__ipow__",
        dtypes=NUMERIC,
        samples=pow_samples,
        libm=True,
    ),
    _reflected_entry(
        "radd",
        "__radd__",
        operator.add,
        dtypes=ALL,
        scalars=(2.5, 2, True),
    ),
    _reflected_entry("rsub", "__rsub__", operator.sub, dtypes=NUMERIC),
    _reflected_entry(
        "rmul",
        "__rmul__",
        operator.mul,
        dtypes=ALL,
        scalars=(3.0, 3, True),
    ),
    _reflected_entry(
        "rtruediv", "__rtruediv__", operator.truediv, kind="p", dtypes=ALL, scalars=(4.0, 4)
    ),
    _reflected_entry(
        "rpow",
        "__rpow__",
        operator.pow,
        dtypes=ALL,
        scalars=(2.0, 3),
        libm=True,
    ),
    OpInfo(
        "maximum",
        [
            method("maximum"),
            function("maximum"),
            Variant("x.max(other)", lambda mod, x, y: x.max(y), ("Tensor.max",)),
        ],
        binary_samples(scalars=(), mixed=(), ties=True),
        dtypes=ALL,
        broadcasts=True,
    ),
    OpInfo(
        "minimum",
        [
            method("minimum"),
            function("minimum"),
            Variant("x.min(other)", lambda mod, x, y: x.min(y), ("Tensor.min",)),
        ],
        binary_samples(scalars=(), mixed=(), ties=True),
        dtypes=ALL,
        broadcasts=True,
    ),
    # ----- matrix products
    OpInfo(
        "matmul",
        [
            method("matmul"),
            operator_("__matmul__", operator.matmul),
            function("matmul"),
            reflected("__rmatmul__"),
        ],
        matmul_samples,
        dtypes=NUMERIC,
        broadcasts=True,
        exempt={"0-d": "matmul needs operands of at least 1 dim"},
        # (full for 1-d and 2-d operands)
        graph=lambda s: "full" if all(len(a.shape) <= 2 for a in s.tensors()) else "name",
        graph_reason="the views, expands and clones PyTorch puts around a batched product are "
        "its implementation detail",
    ),
    OpInfo(
        "mm",
        [method("mm"), function("mm")],
        mm_samples,
        dtypes=NUMERIC,
        exempt={"0-d": "2-d operands only", "broadcast": "2-d operands only"},
    ),
    OpInfo(
        "dot",
        [method("dot")],
        dot_samples,
        dtypes=NUMERIC,
        exempt={"0-d": "1-d operands only", "broadcast": "1-d operands only"},
    ),
    # ----- unary, elementwise
    OpInfo(
        "neg",
        [method("neg"), operator_("__neg__", operator.neg), function("neg")],
        unary_samples(),
        dtypes=NUMERIC,
    ),
    OpInfo(
        "positive",
        [operator_("__pos__", operator.pos), method("positive"), function("positive")],
        unary_samples(),
        dtypes=NUMERIC,
    ),
    OpInfo(
        "abs",
        [method("abs"), operator_("__abs__", abs), function("abs")],
        unary_samples("z"),
        dtypes=NUMERIC,
    ),
    _unary_entry("exp", dtypes=ALL),
    _unary_entry("log", "p", dtypes=ALL),
    _unary_entry("sqrt", "p", dtypes=ALL),
    _unary_entry("tanh", F=True, dtypes=ALL),
    _unary_entry("sin", dtypes=ALL),
    _unary_entry("cos", dtypes=ALL),
    _unary_entry("sigmoid", F=True, dtypes=ALL),
    OpInfo(
        "relu",
        [method("relu"), function("relu"), functional("relu")],
        unary_samples("z"),
        dtypes=NUMERIC,
        inplace_variants=[Variant("F.relu(inplace=True)", _relu_inplace)],
    ),
    OpInfo(
        "clamp",
        [method("clamp"), method("clip"), function("clamp")],
        clamp_samples,
        dtypes=ALL,
        inplace_variants=[method("clamp_"), method("clip_")],
        exempt={"broadcast": "one tensor"},
    ),
    # ----- comparisons and logic (no gradient)
    *[
        OpInfo(
            name,
            [method(name), operator_(f"__{name}__", getattr(operator, name)), function(name)],
            comparison_samples,
            dtypes=ALL,
            differentiable=False,
            broadcasts=True,
            inplace_variants=[method(name + "_")],
        )
        for name in ("eq", "ne", "lt", "le", "gt", "ge")
    ],
    OpInfo(
        "logical_not",
        [method("logical_not"), function("logical_not")],
        unary_samples(),
        dtypes=ALL,
        differentiable=False,
        inplace_variants=[method("logical_not_")],
    ),
    OpInfo(
        "bitwise_not",
        [operator_("__invert__", operator.invert), method("bitwise_not"), function("bitwise_not")],
        unary_samples(),
        dtypes=("bool", "int64"),
        differentiable=False,
    ),
    *[
        OpInfo(
            f"bitwise_{name}",
            [
                operator_(f"__{name}__", fn),
                reflected(f"__r{name}__"),
                method(f"bitwise_{name}"),
                function(f"bitwise_{name}"),
            ],
            logical_samples,
            dtypes=("bool", "int64"),
            differentiable=False,
            broadcasts=True,
        )
        for name, fn in (("and", operator.and_), ("or", operator.or_), ("xor", operator.xor))
    ],
    *[
        OpInfo(
            f"bitwise_{side}_shift",
            [
                operator_(f"__{name}__", fn),
                reflected(f"__r{name}__"),
                method(f"bitwise_{side}_shift"),
                function(f"bitwise_{side}_shift"),
            ],
            shift_samples,
            dtypes=("int64",),
            differentiable=False,
            broadcasts=True,
        )
        for side, name, fn in (
            ("left", "lshift", operator.lshift),
            ("right", "rshift", operator.rshift),
        )
    ],
    # ----- reductions
    OpInfo(
        "sum",
        [method("sum"), function("sum")],
        sum_samples,
        dtypes=ALL,
        expects=[
            xfail(
                ("parity_graph",),
                "rustgrad bug: sum(dtype=float64) of a float32 tensor sums in float32 and then "
                "casts (ToCopyBackward0, float32 rounding); PyTorch casts first (SumBackward)",
                ("float32",),
                lambda s: s.kwargs.get("dtype") == DType("float64"),
            )
        ],
    ),
    OpInfo("mean", [method("mean"), function("mean")], reduction_samples(REDUCE_CASES)),
    *[
        OpInfo(
            name,
            [method(name), function(name)],
            max_min_samples,
            dtypes=ALL,
        )
        for name in ("max", "min")
    ],
    OpInfo(
        "argmax",
        [method("argmax"), function("argmax")],
        arg_reduction_samples,
        dtypes=NUMERIC,
        differentiable=False,
    ),
    OpInfo(
        "argmin",
        [method("argmin"), function("argmin")],
        arg_reduction_samples,
        dtypes=NUMERIC,
        differentiable=False,
    ),
    OpInfo(
        "softmax",
        [method("softmax"), function("softmax"), functional("softmax")],
        softmax_samples,
    ),
    OpInfo(
        "log_softmax",
        [method("log_softmax"), function("log_softmax"), functional("log_softmax")],
        softmax_samples,
    ),
    # ----- selection and joining
    OpInfo("where", [function("where")], where_samples, dtypes=ALL, broadcasts=True),
    OpInfo(
        "cat",
        [
            function("cat"),
            Variant("rustgrad.concatenate", _concatenate, ("rustgrad.concatenate",)),
        ],
        cat_samples,
        dtypes=ALL,
        exempt={
            "0-d": "zero-dimensional tensors cannot be concatenated",
            "broadcast": "no broadcasting",
        },
    ),
    OpInfo(
        "stack",
        [function("stack")],
        stack_samples,
        dtypes=ALL,
        exempt={"broadcast": "no broadcasting"},
    ),
    # ----- views and copies
    OpInfo("view", [method("view")], view_samples, dtypes=ALL),
    OpInfo(
        "view_as",
        [method("view_as")],
        like_samples(
            [
                ((2, 3, 4), "contiguous", (6, 4)),
                ((), "offset", (1, 1)),
                ((1,), "contiguous", ()),
                ((0, 3), "contiguous", (3, 0)),
                ((2, 3), "stepped", (2, 3, 1)),
                ((4, 3), "transposed", (4, 3)),
            ]
        ),
        dtypes=ALL,
    ),
    OpInfo(
        "reshape",
        [method("reshape"), function_of_sizes("reshape")],
        reshape_samples,
        dtypes=ALL,
        expects=[xfail(("parity_graph",), RESHAPE_ALIAS, FLOATS, ["2x6.step,3,4"])],
    ),
    OpInfo(
        "reshape_as",
        [method("reshape_as")],
        like_samples(
            [
                ((2, 3, 4), "contiguous", (6, 4)),
                ((), "offset", (1,)),
                ((1,), "contiguous", ()),
                ((0, 3), "contiguous", (3, 0)),
                ((3, 4), "transposed", (12,)),
                ((2, 6), "stepped", (3, 4)),
            ]
        ),
        dtypes=ALL,
        expects=[xfail(("parity_graph",), RESHAPE_ALIAS, FLOATS, ["2x6.step,3x4"])],
    ),
    OpInfo(
        "flatten",
        [method("flatten"), function("flatten")],
        flatten_samples,
        dtypes=ALL,
        expects=[xfail(("parity_graph",), RESHAPE_ALIAS, FLOATS, ["3x4.step"])],
    ),
    OpInfo("squeeze", [method("squeeze"), function("squeeze")], squeeze_samples, dtypes=ALL),
    OpInfo(
        "unsqueeze", [method("unsqueeze"), function("unsqueeze")], unsqueeze_samples, dtypes=ALL
    ),
    OpInfo("t", [method("t"), function("t")], t_samples, dtypes=ALL),
    OpInfo(
        "T",
        [Variant("x.T", lambda mod, x: x.T, ("Tensor.T",))],
        T_samples,
        dtypes=ALL,
        exempt={"0-d": "PyTorch deprecates x.T on tensors of other than 2 dims"},
    ),
    OpInfo(
        "transpose", [method("transpose"), function("transpose")], transpose_samples, dtypes=ALL
    ),
    OpInfo(
        "permute", [method("permute"), function_of_sizes("permute")], permute_samples, dtypes=ALL
    ),
    OpInfo("expand", [method("expand")], expand_samples, dtypes=ALL),
    OpInfo(
        "expand_as",
        [method("expand_as")],
        like_samples(
            [
                ((2, 1), "contiguous", (3, 2, 4)),
                ((), "offset", (2, 2)),
                ((1,), "contiguous", (3,)),
                ((1,), "contiguous", (0,)),
                ((3, 1), "transposed", (2, 3, 2)),
                ((3, 1), "stepped", (3, 3)),
            ]
        ),
        dtypes=ALL,
    ),
    OpInfo("contiguous", [method("contiguous")], unary_samples(), dtypes=ALL),
    OpInfo("clone", [method("clone"), function("clone")], unary_samples(), dtypes=ALL),
    dataclasses.replace(
        _cast("float", "float32"),
        expects=[
            skip(
                ("gradcheck", "gradgradcheck"),
                "a float32 result is too coarse for finite differences",
                dtypes=("float64",),
            )
        ],
    ),
    _cast("double", "float64"),
    _cast("long", "int64"),
    _cast("bool", "bool"),
    # ----- indexing
    OpInfo(
        "getitem",
        [Variant("x[key]", lambda mod, x, key: x[key], ("Tensor.__getitem__",))],
        getitem_samples,
        dtypes=ALL,
        expects=[
            xfail(
                ("parity_graph",),
                "bool-mask and paired tensor indices gather from a flattened view "
                "(IndexBackward0 over ViewBackward0, or a ViewBackward0 on top); PyTorch's "
                "IndexBackward0 takes the tensor itself",
                FLOATS,
                ["4x5,4x5", "4x5.off,4x5", "4x5,(3;3)"],
            ),
        ],
    ),
    OpInfo(
        "setitem",
        [Variant("x.clone()[key] = v", _setitem, ("Tensor.__setitem__",))],
        setitem_samples,
        dtypes=ALL,
        inplace_variants=[Variant("x[key] = v", _setitem_)],
        broadcasts=True,
        graph="name",
        graph_reason="PyTorch's views and expands of the value are its implementation detail",
        expects=[
            xfail(
                ("parity_graph",),
                "x[key] = v records CopySlices for tensor and mask keys; PyTorch records "
                "IndexPutBackward0",
                FLOATS,
                [
                    "3x4,2,2x4",
                    "3x4,(2;2),-1.0",
                    "3x4,3x4,0.0",
                    "3x4,3x4,0d",
                    "3x4,3x4,7",
                ],
            ),
        ],
    ),
    # ----- in place only (tested out of place on a clone)
    OpInfo(
        "zero_",
        [on_clone("zero_")],
        unary_samples(),
        dtypes=ALL,
        inplace_variants=[method("zero_")],
    ),
    OpInfo(
        "fill_",
        [on_clone("fill_")],
        fill_samples,
        dtypes=ALL,
        inplace_variants=[method("fill_")],
    ),
    OpInfo(
        "copy_",
        [on_clone("copy_")],
        copy_samples,
        dtypes=ALL,
        inplace_variants=[method("copy_")],
        broadcasts=True,
    ),
    # ----- nn.functional (composites of the ops above)
    OpInfo(
        "nn.functional.linear",
        [functional("linear")],
        linear_samples,
        dtypes=NUMERIC,
        broadcasts=True,
    ),
    OpInfo(
        "nn.functional.mse_loss",
        [functional("mse_loss")],
        mse_samples,
        exempt={"broadcast": "PyTorch warns on differing shapes"},
    ),
    OpInfo(
        "nn.functional.binary_cross_entropy_with_logits",
        [functional("binary_cross_entropy_with_logits")],
        bce_logits_samples,
        graph="name",
        graph_reason="PyTorch's node also lists weight and pos_weight, which get no gradient",
        libm=True,
    ),
    OpInfo(
        "nn.functional.nll_loss",
        [functional("nll_loss")],
        nll_samples,
        graph="none",
        graph_reason="rustgrad composes nll_loss; PyTorch has NllLossBackward0",
        exempt={"0-d": "input needs a class dim", "broadcast": "targets match the input"},
    ),
    OpInfo(
        "nn.functional.cross_entropy",
        [functional("cross_entropy")],
        cross_entropy_samples,
        graph="none",
        graph_reason="rustgrad composes cross_entropy; PyTorch has fused nodes",
        exempt={"0-d": "input needs a class dim", "broadcast": "targets match the input"},
    ),
    # ----- the losses and tensor utilities of issue 12 (composites; PyTorch has fused nodes)
    *(
        OpInfo(
            f"nn.functional.{name}",
            [functional(name)],
            make_samples,
            graph="none",
            graph_reason=f"rustgrad composes {name}; PyTorch has a fused node",
            exempt=exempt,
            libm=libm,
        )
        for name, make_samples, exempt, libm in (
            ("l1_loss", _pair_loss_samples(), {"broadcast": "PyTorch warns"}, False),
            (
                "smooth_l1_loss",
                _pair_loss_samples(beta=(0.5, 0.0)),
                {"broadcast": "PyTorch warns"},
                False,
            ),
            (
                "huber_loss",
                _pair_loss_samples(delta=(0.5, 2.0)),
                {"broadcast": "PyTorch warns"},
                False,
            ),
            ("binary_cross_entropy", bce_samples, {"broadcast": "PyTorch raises"}, True),
            ("kl_div", kl_div_samples, {"broadcast": "targets match the input"}, True),
            (
                "cosine_embedding_loss",
                cosine_embedding_samples,
                {},
                True,
            ),
            (
                "margin_ranking_loss",
                margin_ranking_samples,
                {"broadcast": "PyTorch requires equal dims"},
                False,
            ),
            ("pad", pad_samples, {"broadcast": "one tensor and a padding tuple"}, False),
            (
                "normalize",
                normalize_samples,
                {"0-d": "needs a dim to normalise along"},
                True,
            ),
        )
    ),
    OpInfo(
        "nn.functional.one_hot",
        [functional("one_hot")],
        one_hot_samples,
        dtypes=("int64",),
        differentiable=False,
        graph="none",
        graph_reason="no gradient",
    ),
]


# The reductions, scans, sorting, linear algebra, indexing and shape ops of issue 11 point 2
# (their own file; imported here, after OP_DB exists, so every test driven by the table
# covers them).
from opinfo_ops import OPS as _ISSUE11_OPS

OP_DB.extend(_ISSUE11_OPS)

from opinfo_ops_extra import OPS as _EXTRA_OPS

OP_DB.extend(_EXTRA_OPS)

# The elementwise math and activations of issue 11 (their own file; imported here, after OP_DB
# exists, so that every test driven by the table covers them).
from opinfo_elementwise import ELEMENTWISE_OPS

OP_DB.extend(ELEMENTWISE_OPS)

# ----- the casts to the dtypes of issue 11 point 4 (``Tensor.int()``, ...: rustgrad._dtypes),
# from every sample dtype. The CUDA backend has no kernels for these dtypes yet.
_NEW_DTYPE_CASTS = [
    ("int", "int32"),
    ("short", "int16"),
    ("char", "int8"),
    ("byte", "uint8"),
    ("half", "float16"),
    ("bfloat16", "bfloat16"),
]
OP_DB.extend(
    dataclasses.replace(
        _cast(name, dtype),
        expects=[skip(TESTS, "no CUDA kernels for this dtype yet", devices=("cuda",))],
    )
    for name, dtype in _NEW_DTYPE_CASTS
)


# ================================================================= running samples
# (shared by test_ops.py and test_cuda.py)

# PyTorch parity (test_ops): float64 tight, float32 loose.
PARITY_TOL = {
    "float64": {"rtol": 1e-10, "atol": 1e-12},
    "float32": {"rtol": 1e-4, "atol": 1e-5},
}
# CUDA against the CPU (test_cuda): the two backends may sum in another order and use other
# libm routines, a few ulp apart. Results of integer or bool inputs only: to rounding.
DEVICE_TOL = {
    "float64": {"rtol": 1e-10, "atol": 1e-12},
    "float32": {"rtol": 1e-5, "atol": 1e-5},
    "exact": {"rtol": 1e-15, "atol": 0.0},
}


def dtype_name(dtype):
    return str(dtype).rsplit(".", 1)[-1].replace("bool_", "bool")


def numpy_of(t):
    t = t.detach().cpu()
    if dtype_name(t.dtype) == "bfloat16":
        t = t.float()  # NumPy has no bfloat16; float32 holds every value exactly
    return np.asarray(t.numpy())


def tolerance(sample, dtype, table=PARITY_TOL, op=None):
    """float64 tolerances for a float64 result of float64 (or integer) inputs; float32 ones
    wherever float32 arithmetic is involved; ``table["exact"]`` (where there is one) for
    results of integer and bool inputs only, unless ``op`` calls math library functions."""
    floats = {a.dtype for a in sample.tensors() if a.dtype in FLOATS}
    if not floats and "exact" in table and not (op is not None and op.libm):
        return table["exact"]
    return table["float64" if dtype == "float64" and floats <= {"float64"} else "float32"]


def assert_same_values(actual, expected, tol):
    """Same shape; floating values within ``tol`` (NaN where the other has NaN), others equal."""
    a, e = numpy_of(actual), numpy_of(expected)
    assert a.shape == e.shape, f"shape {a.shape} != {e.shape}"
    if a.dtype.kind in "fc":
        np.testing.assert_allclose(a, e, **tol)
    else:
        np.testing.assert_array_equal(a, e)


def _marks(op, test, dtype, sample, device):
    marks = []
    if test in sample.skips:
        marks.append(pytest.mark.skip(reason=sample.skips[test]))
    for expect in op.expects:
        if expect.applies(test, dtype, sample, device):
            if expect.kind == "skip":
                marks.append(pytest.mark.skip(reason=expect.reason))
            else:
                marks.append(pytest.mark.xfail(strict=True, reason=expect.reason))
    return marks


def _device(dev):
    """``(name, marks)`` of an entry of ``conftest.DEVICES`` (a string or a pytest.param)."""
    if isinstance(dev, str):
        return dev, ()
    return dev.values[0], tuple(dev.marks)


def op_params(test, dtypes=None, keep=None, devices=("cpu",)):
    """``pytest.param(op, dtype, sample, device)`` for every op, dtype, sample (those
    ``keep(op, sample)`` accepts) and device, with the op's skips and xfails for ``test`` and
    the device's marks."""
    params = []
    for op in OP_DB:
        for dtype in op.dtypes:
            if dtypes is not None and dtype not in dtypes:
                continue
            for sample in op.samples(dtype):
                if keep is not None and not keep(op, sample):
                    continue
                for dev in devices:
                    device, dev_marks = _device(dev)
                    params.append(
                        pytest.param(
                            op,
                            dtype,
                            sample,
                            device,
                            id=f"{op.name}-{dtype}-{sample.name}-{device}",
                            marks=[*dev_marks, *_marks(op, test, dtype, sample, device)],
                        )
                    )
    return params


def variant_params(test, which, devices=("cpu",)):
    """``pytest.param(op, variant, sample, device)`` for the other variants (``which`` =
    "variants"), the in-place ones ("inplace") or the first in-place one ("inplace[0]") of
    every op, with the samples they take."""
    params = []
    for p in op_params(test, devices=devices):
        op, _, sample, device = p.values
        variants = {
            "variants": op.variants[1:],
            "inplace": op.inplace_variants,
            "inplace[0]": op.inplace_variants[:1],
        }[which]
        for variant in variants:
            if variant.accepts(sample):
                params.append(
                    pytest.param(
                        op, variant, sample, device, id=f"{p.id}-{variant.name}", marks=p.marks
                    )
                )
    return params


@dataclasses.dataclass
class Run:
    """What a sample gave in one library on one device."""

    outputs: list  # the tensor outputs, flattened
    leaves: list  # the tensors that required grad, in ``SampleInput.grad_args`` order
    memo: dict


def flatten_outputs(result):
    if isinstance(result, (tuple, list)):
        out = []
        for r in result:
            out.extend(flatten_outputs(r))
        return out
    return [result] if result is not None else []


def call(variant, sample, mod, device, memo=None, grad=True):
    """``variant(*args, **kwargs)`` on fresh tensors (or those in ``memo``)."""
    memo = {} if memo is None else memo
    args = materialize(sample.args, mod, device, memo, grad)
    kwargs = materialize(sample.kwargs, mod, device, memo, grad)
    return variant.fn(mod, *args, **kwargs), memo


def _upstream(out, mod, device, rng):
    g = rng.standard_normal(tuple(out.shape))
    grad = mod.tensor(np.asarray(g)).to(out.dtype)
    return grad.to(device) if device != "cpu" else grad


def run(variant, sample, mod, device, backward=True, seed=0):
    """Call ``variant`` on ``sample`` in ``mod`` on ``device``; when ``backward``, backprop a
    random upstream gradient (seeded, the same for every library and device) from every
    output that requires grad."""
    result, memo = call(variant, sample, mod, device)
    outputs = flatten_outputs(result)
    leaves = [memo[id(a)] for a in sample.grad_args()]
    if backward:
        rng = np.random.default_rng(seed)
        roots = [out for out in outputs if out.requires_grad]
        if roots:
            mod.autograd.backward(roots, [_upstream(out, mod, device, rng) for out in roots])
    return Run(outputs, leaves, memo)


def gradcheck_function(variant, sample, mod, device):
    """``(fn, leaves)``: ``fn(*leaves)`` calls the op with the float64 leaves replaced by its
    arguments (as gradcheck passes perturbed copies), the other tensors fixed (float32 ones
    too: finite differences need float64)."""
    memo = {}
    for a in sample.tensors():
        if a.dtype == "float32":
            memo[id(a)] = a.make(mod, device, grad=False)
    _, memo = call(variant, sample, mod, device, memo)
    grad_args = [a for a in sample.grad_args() if a.dtype == "float64"]
    leaves = [memo[id(a)] for a in grad_args]

    def fn(*tensors):
        local = dict(memo)
        for a, t in zip(grad_args, tensors):
            local[id(a)] = t
        result, _ = call(variant, sample, mod, device, local)
        outs = flatten_outputs(result)
        return tuple(outs) if len(outs) != 1 else outs[0]

    return fn, leaves


def inplace_on_views(variant, sample, mod, device):
    """The in-place variant on the sample's own tensors (views of bigger buffers, nothing
    requiring grad): ``(self, result, version before)``, or the exception it raised."""
    memo = {}
    args = materialize(sample.args, mod, device, memo, grad=False)
    kwargs = materialize(sample.kwargs, mod, device, memo, grad=False)
    target = args[0]
    version = target._version
    try:
        result = variant.fn(mod, *args, **kwargs)
    except Exception as err:  # noqa: BLE001 (the caller compares it)
        return err
    return target, result, version


def inplace_with_grad(variant, sample, mod, device):
    """The in-place variant on a clone of the first operand (a leaf that requires grad),
    backpropagating a seeded random gradient: ``(result, leaves)``."""
    memo = {}
    args = materialize(sample.args, mod, device, memo)
    kwargs = materialize(sample.kwargs, mod, device, memo)
    out = variant.fn(mod, args[0].clone(), *args[1:], **kwargs)
    if out.requires_grad:
        out.backward(_upstream(out, mod, device, np.random.default_rng(0)))
    return out, [memo[id(a)] for a in sample.grad_args()]


# ================================================================= layers branch: nn.functional
# embedding, layer_norm, group_norm, batch_norm, scaled_dot_product_attention (composites)

_NEEDS_DIMS = {"0-d": "normalises over at least one dim"}


def layer_norm_samples(g):
    v = g.t
    yield S(v((3, 4)), (4,), v((4,)), v((4,)))
    yield S(v((2, 3, 4)), (3, 4))
    yield S(v((2, 3, 4)), (4,), None, v((4,)), 1e-3)
    yield S(v((0, 4)), (4,), v((4,)), v((4,)))
    yield S(v((1,)), (1,))
    yield S(v((3, 4), "n", "transposed"), (4,), v((4,), "n", "stepped"))
    yield S(v((3, 4), "n", "offset"), (4,), v((4,), "n", "offset"))


def group_norm_samples(g):
    v = g.t
    yield S(v((2, 4, 3)), 2, v((4,)), v((4,)))
    yield S(v((2, 6)), 3)
    yield S(v((2, 4, 2, 3)), 4, v((4,)), None, 1e-3)
    yield S(v((0, 4, 2)), 2)
    yield S(v((2, 1, 3)), 1, v((1,)), v((1,)))
    yield S(v((3, 4), "n", "transposed"), 2, v((4,), "n", "stepped"), v((4,)))
    yield S(v((3, 4), "n", "offset"), 2, v((4,)), v((4,), "n", "offset"))


def batch_norm_samples(g):
    v = g.t

    def stats(c):
        mean = Arg(g.values((c,)), requires_grad=False)
        var = Arg(np.abs(g.values((c,))) + 0.5, requires_grad=False)
        return mean, var

    yield S(v((4, 3)), None, None, v((3,)), v((3,)), True)
    yield S(v((4, 3, 2)), *stats(3), v((3,)), v((3,)), False)
    yield S(v((3, 2, 2, 2)), *stats(2), None, v((2,)), True, 0.3)
    yield S(v((0, 3)), *stats(3), v((3,)), v((3,)), False)
    yield S(v((1, 1)), *stats(1), None, None, False)
    yield S(v((3, 4), "n", "transposed"), None, None, v((4,), "n", "stepped"), None, True)
    yield S(v((4, 3), "n", "offset"), None, None, v((3,), "n", "offset"), None, True)


def embedding_samples(g):
    v = g.t

    def idx(values):
        return Arg(np.array(values, np.int64))

    padding = "padding_idx's row gets no gradient by design (finite differences see it)"
    yield S(idx([[0, 4, 2], [4, 4, 1]]), v((5, 4)))
    yield S(idx(2), v((5, 4)))
    yield S(idx(np.zeros((0,), np.int64)), v((5, 4)))
    yield S(idx([0]), v((1, 3)))
    yield S(idx([3, 0, 3]), v((4, 5), "n", "transposed"))
    yield S(idx([[1], [4]]), v((5, 3), "n", "offset"))
    yield S(
        idx([1, 0, 1, 3]),
        v((4, 2)),
        padding_idx=1,
        skips={"gradcheck": padding, "gradgradcheck": padding},
    )


def sdpa_samples(g):
    v = g.t
    keep = Arg(np.array([[True, False, True, True, False]] * 3))
    yield S(v((2, 3, 4)), v((2, 5, 4)), v((2, 5, 6)))
    yield S(v((2, 3, 4)), v((2, 5, 4)), v((2, 5, 6)), keep)
    yield S(v((3, 4)), v((5, 4)), v((5, 2)), v((3, 5)))
    yield S(v((3, 4)), v((3, 4)), v((3, 4)), is_causal=True)
    yield S(v((3, 4)), v((5, 4)), v((5, 4)), scale=0.5)
    yield S(v((0, 3, 4)), v((0, 5, 4)), v((0, 5, 4)))
    yield S(v((1, 1)), v((1, 1)), v((1, 1)))
    yield S(v((2, 4, 3), "n", "transposed"), v((2, 3, 3)), v((2, 3, 2), "n", "stepped"))
    yield S(v((3, 4), "n", "offset"), v((3, 4), "n", "offset"), v((3, 4)))


_LAYERS_OPS = [
    OpInfo(
        f"nn.functional.{name}",
        [functional(name)],
        make_samples,
        graph="none",
        graph_reason=f"rustgrad composes {name}; PyTorch has a fused node",
        exempt=exempt,
        libm=libm,
    )
    for name, make_samples, exempt, libm in (
        ("layer_norm", layer_norm_samples, _NEEDS_DIMS, True),
        ("group_norm", group_norm_samples, _NEEDS_DIMS, True),
        ("batch_norm", batch_norm_samples, _NEEDS_DIMS, True),
        ("scaled_dot_product_attention", sdpa_samples, {"0-d": "attends over matrices"}, True),
    )
]
_LAYERS_OPS.append(OpInfo("nn.functional.embedding", [functional("embedding")], embedding_samples))
OP_DB.extend(_LAYERS_OPS)
# Convolution, pooling, unfold/fold and interpolate (branch conv; their own file).
from opinfo_conv import OPS as _CONV_OPS

OP_DB.extend(_CONV_OPS)
# More activations, distances, pixel shuffles and losses of nn.functional (their own file).
from opinfo_nn_extra import OPS as _NN_EXTRA_OPS

OP_DB.extend(_NN_EXTRA_OPS)
# grid_sample/affine_grid, embedding_bag, conv_transpose1d/conv3d, scatter_reduce, histc, mode
from opinfo_more import OPS as _MORE_OPS

OP_DB.extend(_MORE_OPS)

import rustgrad as _rustgrad


def _alias_variants(op):
    """The variants of ``op`` under PyTorch's other names for it (``multiply`` for ``mul``)."""
    extra, extra_inplace = [], []
    for alias, target in _rustgrad._ALIASES.items():
        for variant in op.variants:
            if variant.name in (f"x.{target}", f"rustgrad.{target}"):
                made = (method if variant.name.startswith("x.") else function)(alias)
                if alias == "true_divide":  # (no rounding_mode: that is divide's)
                    made = dataclasses.replace(made, only=lambda s: "rounding_mode" not in s.kwargs)
                extra.append(made)
        for variant in op.inplace_variants:
            if variant.name == f"x.{target}_" and hasattr(_rustgrad.Tensor, alias + "_"):
                made = method(alias + "_")
                if alias == "true_divide":
                    made = dataclasses.replace(made, only=lambda s: "rounding_mode" not in s.kwargs)
                extra_inplace.append(made)
    op.variants.extend(extra)
    op.inplace_variants.extend(extra_inplace)


for _op in OP_DB:
    _alias_variants(_op)


# PyTorch's torch-level names of nn.functional ops (``torch.conv2d``): checked wherever the
# functional form is.
def _torch_level_variants(op):
    for name in _rustgrad._ops_aliases._FUNCTIONAL:
        if any(v.name == f"F.{name}" for v in op.variants):
            op.variants.append(function(name))


for _op in OP_DB:
    _torch_level_variants(_op)
    if _op.name == "nn.functional.hardshrink":  # (also a Tensor method)
        _op.variants.append(method("hardshrink"))

# The functional forms of in-place methods (``torch.sin_(x)``): checked wherever the method is.

for _op in OP_DB:
    for _variant in list(_op.inplace_variants):
        _name = _variant.name[2:]
        if _variant.name.startswith("x.") and _name.endswith("_") and _name in _rustgrad.__all__:
            _op.inplace_variants.append(function(_name))
