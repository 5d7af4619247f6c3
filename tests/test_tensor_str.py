"""The text form of tensors: PyTorch's layout, with ``rustgrad.`` dtype names.

Two halves: ``_str`` applied to *torch* tensors must reproduce ``repr(torch_tensor)`` exactly
(``_str`` only reads ``tolist``, ``dtype``, ``shape``, ``grad_fn``, ``requires_grad`` and
``device``, so it works on them), and ``repr`` of rustgrad tensors gives the expected strings.
"""

import math
import random

import numpy as np
import pytest
import rustgrad
from rustgrad._tensor_str import _str


def _torch():
    return pytest.importorskip("torch")


def _as_torch_repr(t):
    return _str(t).replace("rustgrad.", "torch.")


# name -> builder(torch) for the torch-comparison half
TORCH_CASES = {
    "scalar_int_valued": lambda tc: tc.tensor(21.0),
    "scalar_fraction_f64": lambda tc: tc.tensor(0.5, dtype=tc.float64),
    "scalar_int": lambda tc: tc.tensor(3),
    "scalar_bool": lambda tc: tc.tensor(True),
    "vector_int_valued": lambda tc: tc.tensor([5.0, 7.0, 9.0]),
    "vector_fraction": lambda tc: tc.tensor([0.5, 2.0, -3.25]),
    "negative_zero": lambda tc: tc.tensor([0.0, -0.0]),
    "ints": lambda tc: tc.tensor([1, -22, 333]),
    "int32": lambda tc: tc.tensor([1, -2], dtype=tc.int32),
    "bools": lambda tc: tc.tensor([[True, False], [False, False]]),
    "float64_matrix": lambda tc: tc.ones(2, 2, dtype=tc.float64),
    "empty": lambda tc: tc.tensor([]),
    "empty_2d": lambda tc: tc.zeros(0, 3),
    "empty_3d_f64": lambda tc: tc.zeros(3, 0, 1, dtype=tc.float64),
    "empty_int": lambda tc: tc.zeros(0, dtype=tc.int64),
    "empty_bool": lambda tc: tc.zeros(2, 0, dtype=tc.bool),
    "nan_inf_only": lambda tc: tc.tensor([float("nan"), float("inf"), -float("inf"), 0.0]),
    "nan_inf_mixed": lambda tc: tc.tensor([float("nan"), 1.5, -float("inf")]),
    "sci_small": lambda tc: tc.tensor([1e-5, 1.0]),
    "sci_large": lambda tc: tc.tensor([1e9, 1.0]),
    "sci_int_valued": lambda tc: tc.tensor([1e9, 2e9]),
    "ratio_1001": lambda tc: tc.tensor([1.0, 1001.0]),
    "ratio_1000": lambda tc: tc.tensor([1.0, 1000.0]),
    "min_1e-4": lambda tc: tc.tensor([1e-4, 0.1]),
    "wide_f64": lambda tc: tc.tensor([-1e20, 3.3e-20], dtype=tc.float64),
    "long_line_wraps": lambda tc: tc.arange(40.0) / 3,
    "summarized_ints": lambda tc: tc.arange(2000),
    "summarized_floats": lambda tc: tc.arange(1001.0),
    "not_summarized_1000": lambda tc: tc.arange(1000.0),
    "summarized_matrix": lambda tc: tc.arange(10**6).reshape(1000, 1000),
    "summarized_3d": lambda tc: tc.arange(11.0**3).reshape(11, 11, 11) * 1e6,
    "3d_ints": lambda tc: tc.arange(24).reshape(2, 3, 4),
    "4d_fractions": lambda tc: tc.arange(120.0).reshape(2, 3, 4, 5) / 7,
    "singleton_4d": lambda tc: tc.ones(1, 1, 1, 1),
    "float16": lambda tc: tc.tensor([1.5, 2.0], dtype=tc.float16),
    "transposed": lambda tc: tc.arange(12.0).reshape(3, 4).t(),
    "strided_slice": lambda tc: tc.arange(40.0).reshape(4, 10)[:, ::3],
    "leaf_requires_grad": lambda tc: tc.tensor([1.0, 2.0, 3.0], requires_grad=True),
    "add_backward": lambda tc: tc.tensor([1.0, 2.0, 3.0], requires_grad=True) + 4,
    "sum_backward": lambda tc: tc.tensor([1.0, 2.0, 3.0], requires_grad=True).sum(),
    "grad_fn_f64_scalar": lambda tc: tc.tensor(3.5, dtype=tc.float64, requires_grad=True) * 2,
    "suffix_wraps": lambda tc: tc.arange(18.0).requires_grad_() * 1.5,
    "suffix_wraps_f64": lambda tc: tc.tensor(
        [1.0000001234e10, 12.0], dtype=tc.float64, requires_grad=True
    ),
    "big_grad_matrix": lambda tc: (
        tc.linspace(-3, 3, 900, dtype=tc.float64).reshape(30, 30).requires_grad_()
    ),
    "view_backward": lambda tc: (tc.ones(30, 30, requires_grad=True) * 2).view(900),
    "empty_requires_grad": lambda tc: tc.zeros(0, 3, dtype=tc.float64, requires_grad=True),
}


@pytest.mark.parametrize("name", sorted(TORCH_CASES))
def test_matches_torch_repr(name):
    tc = _torch()
    t = TORCH_CASES[name](tc)
    assert _as_torch_repr(t) == repr(t)


def _random_tensor(tc, rng, gen):
    nd = rng.randint(0, 4)
    shape = [rng.randint(1, 5 if nd > 2 else 12) for _ in range(nd)]
    kind = rng.choice(["f32", "f64", "int", "bool", "int_valued", "special"])
    scale = 10 ** rng.uniform(-12, 12)
    if kind in ("f32", "f64"):
        t = tc.randn(shape, generator=gen, dtype=tc.float64) * scale
        if rng.random() < 0.3:
            t = t.abs()
        return t.float() if kind == "f32" else t
    if kind == "int":
        hi = 10 ** rng.randint(0, 12)
        return tc.randint(-hi, hi + 1, shape, generator=gen)
    if kind == "bool":
        return tc.rand(shape, generator=gen) > 0.5
    if kind == "int_valued":
        factor = rng.choice([1, 10**6, 10**9])
        return tc.randint(-1000, 1000, shape, generator=gen).float() * factor
    t = tc.randn(shape, generator=gen) * scale
    flat = t.view(-1)
    for i in range(flat.numel()):
        r = rng.random()
        if r < 0.1:
            flat[i] = float("nan")
        elif r < 0.2:
            flat[i] = rng.choice([float("inf"), -float("inf"), 0.0])
    return t


def test_matches_torch_repr_random():
    tc = _torch()
    rng = random.Random(0)
    gen = tc.Generator().manual_seed(0)
    for _ in range(300):
        t = _random_tensor(tc, rng, gen)
        if rng.random() < 0.2 and t.dtype.is_floating_point:
            t = t.requires_grad_() if rng.random() < 0.5 else t.requires_grad_() * 1
        assert _as_torch_repr(t) == repr(t)


class _FakeDevice:
    def __init__(self, text):
        self.type = text.split(":")[0]
        self._text = text

    def __str__(self):
        return self._text


class _FakeCudaTensor:
    """The attributes ``_str`` reads, for a tensor living on a GPU."""

    def __init__(self, values, dtype="rustgrad.float32", shape=None, requires_grad=False):
        self._values = values
        self.dtype = dtype
        self.shape = shape if shape is not None else (len(values),)
        self.grad_fn = None
        self.requires_grad = requires_grad
        self.is_leaf = True
        self.device = _FakeDevice("cuda:0")

    def tolist(self):
        return self._values


def test_device_suffix():
    assert _str(_FakeCudaTensor([1.0, 2.0])) == "tensor([1., 2.], device='cuda:0')"
    assert (
        _str(_FakeCudaTensor([1.0, 2.5], dtype="rustgrad.float64", requires_grad=True))
        == "tensor([1.0000, 2.5000], device='cuda:0', dtype=rustgrad.float64,\n"
        "       requires_grad=True)"
    )
    assert _str(_FakeCudaTensor([], shape=(0,))) == "tensor([], device='cuda:0')"


# --- rustgrad's own tensors -------------------------------------------------------------------

EXPECTED = [
    (lambda: rustgrad.tensor([1.0, 2.0, 3.0]), "tensor([1., 2., 3.])"),
    (lambda: rustgrad.tensor([0.5, 2.0]), "tensor([0.5000, 2.0000])"),
    (lambda: rustgrad.tensor(21.0), "tensor(21.)"),
    (lambda: rustgrad.tensor([1, 2, 3]), "tensor([1, 2, 3])"),
    (lambda: rustgrad.tensor([True, False]), "tensor([ True, False])"),
    (
        lambda: rustgrad.tensor([1.0, 2.0], dtype=rustgrad.float64),
        "tensor([1., 2.], dtype=rustgrad.float64)",
    ),
    (lambda: rustgrad.tensor([1e-5, 1.0]), "tensor([1.0000e-05, 1.0000e+00])"),
    (lambda: rustgrad.ones(2, 2), "tensor([[1., 1.],\n        [1., 1.]])"),
    (lambda: rustgrad.tensor([]), "tensor([])"),
    (lambda: rustgrad.zeros(0, 3), "tensor([], size=(0, 3))"),
    (
        lambda: rustgrad.tensor(list(range(2000))),
        "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])",
    ),
    (
        lambda: rustgrad.tensor([1.0, 2.0, 3.0], requires_grad=True),
        "tensor([1., 2., 3.], requires_grad=True)",
    ),
    (
        lambda: (
            rustgrad.tensor([1.0, 2.0, 3.0], requires_grad=True) + rustgrad.tensor([4.0, 5.0, 6.0])
        ),
        "tensor([5., 7., 9.], grad_fn=<AddBackward0>)",
    ),
    (
        lambda: (rustgrad.tensor([1.0, 2.0, 3.0], requires_grad=True) * 2).sum(),
        "tensor(12., grad_fn=<SumBackward0>)",
    ),
    (
        lambda: rustgrad.tensor([[1.5, -2.0]], dtype=rustgrad.float64, requires_grad=True),
        "tensor([[ 1.5000, -2.0000]], dtype=rustgrad.float64, requires_grad=True)",
    ),
]


@pytest.mark.parametrize("build, expected", EXPECTED, ids=[e for _, e in EXPECTED])
def test_rustgrad_repr(build, expected):
    t = build()
    assert repr(t) == expected
    assert str(t) == expected


NUMPY_CASES = [
    np.arange(6, dtype=np.float32).reshape(2, 3) / 3,
    np.linspace(-1e6, 1e-3, 7),
    np.array([[1, -2], [3, 4]], dtype=np.int64),
    np.array([True, False, True]),
    np.random.default_rng(0).standard_normal((4, 5, 6)),
    np.arange(3000, dtype=np.float64).reshape(3, 1000) * 1e-7,
    np.array([math.nan, 2.0, math.inf], dtype=np.float32),
]


@pytest.mark.parametrize("index", range(len(NUMPY_CASES)))
def test_rustgrad_repr_matches_torch_from_numpy(index):
    tc = _torch()
    array = NUMPY_CASES[index]
    expected = repr(tc.tensor(array)).replace("torch.", "rustgrad.")
    assert repr(rustgrad.tensor(array)) == expected
