"""``set_printoptions`` (and ``_tensor_str.get_printoptions``): tensors print as PyTorch's do
under each option."""

import numpy as np
import pytest
import rustgrad
from rustgrad._tensor_str import get_printoptions

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _default_options():
    yield
    rustgrad.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


VALUES = {
    "fractions": lambda: np.random.default_rng(0).standard_normal((3, 5)),
    "int_valued": lambda: np.array([[1.0, -20.0, 300.0], [4.0, 5.0, 6.0]]),
    "wide_range": lambda: np.array([1e-6, 1.0, 2.5e5]),
    "tiny": lambda: np.array([[1e-5, 2e-5], [3e-5, 0.0]]),
    "large": lambda: np.arange(2000.0).reshape(40, 50) / 7,
    "long_row": lambda: np.linspace(-3, 3, 31),
    "scalar": lambda: np.array(0.123456),
    "ints": lambda: np.arange(-5, 1500),
}

OPTIONS = [
    {},
    {"precision": 2},
    {"precision": 7, "linewidth": 120},
    {"sci_mode": True},
    {"sci_mode": False},
    {"precision": 3, "sci_mode": True},
    {"threshold": 10, "edgeitems": 1},
    {"edgeitems": 5},
    {"linewidth": 40},
    {"profile": "short"},
    {"profile": "full"},
    {"profile": "short", "precision": 5},
]


@pytest.mark.parametrize("options", OPTIONS, ids=str)
@pytest.mark.parametrize("name", list(VALUES))
def test_repr_under_options_is_pytorch_s(name, options):
    v = VALUES[name]()
    dtype = np.float32 if v.dtype.kind == "f" else v.dtype
    rustgrad.set_printoptions(**options)
    torch.set_printoptions(**options)
    ours = repr(rustgrad.tensor(v.astype(dtype))).replace("rustgrad.", "torch.")
    assert ours == repr(torch.tensor(v.astype(dtype)))


@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_get_printoptions_is_pytorch_s(options):
    rustgrad.set_printoptions(**options)
    torch.set_printoptions(**options)
    assert get_printoptions() == torch._tensor_str.get_printoptions()


def test_a_call_without_sci_mode_restores_automatic():
    for mod in (rustgrad, torch):
        mod.set_printoptions(sci_mode=False)
        mod.set_printoptions(precision=3)
    assert get_printoptions()["sci_mode"] is None
    ours = repr(rustgrad.tensor([1e-6, 1.0])).replace("rustgrad.", "torch.")
    assert ours == repr(torch.tensor([1e-6, 1.0]))


def test_constants_are_pytorch_s():
    for name in ("inf", "pi", "e", "newaxis"):
        assert getattr(rustgrad, name) == getattr(torch, name)
    assert np.isnan(rustgrad.nan) and np.isnan(torch.nan)
    x = rustgrad.arange(3.0)
    assert x[rustgrad.newaxis].shape == (1, 3)
    assert x.masked_fill(x > 0, -rustgrad.inf).tolist() == [0.0, -np.inf, -np.inf]


@pytest.mark.parametrize("threshold", [5, 1000])
@pytest.mark.parametrize(
    "shape", [(5, 6), (3,), (10,), (2, 5), (0,), (), (2, 0)], ids=lambda s: str(s)
)
def test_no_edge_items_print_the_size_as_torch(shape, threshold):
    """With ``edgeitems=0`` PyTorch adds the size to every non-empty tensor's repr, and a
    summarized one shows only ``[...]``."""
    texts = []
    for lib in (torch, rustgrad):
        lib.set_printoptions(threshold=threshold, edgeitems=0)
        t = lib.arange(float(np.prod(shape, dtype=int))).reshape(shape)
        texts.append(repr(t))
    assert texts[1] == texts[0]
