"""The layout (strides) of results against PyTorch's: elementwise results follow the operands'
strides (TensorIterator's order), ``clone()``, dtype conversions and ``flip`` keep the input's
layout (``preserve_format``), ``contiguous()`` is row-major. A result's strides decide whether a
later ``view`` aliases it or fails, so they are observable."""

import math
import warnings

import numpy as np
import pytest
import rustgrad as rg
from conftest import raises

torch = pytest.importorskip("torch")


def _inputs(lib):
    """Operands of every layout kind, built the same way in both libraries."""
    base = lib.tensor(np.arange(120, dtype=np.float32).reshape(2, 3, 4, 5) / 7 - 8)
    return {
        "transposed": base[0, 0].t(),  # (5, 4), strides (1, 5)
        "sliced_t": base[0, 0][:, ::2].t(),  # not dense
        "channels_last": base.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2),
        "expanded_t": base[0, 0, :1].expand(3, 5).t(),
        "row": base[0, 0, 0],
        "contiguous": base[0, 0].t().contiguous(),
    }


CASES = {
    "sqrt": lambda lib, x: x["transposed"].abs().sqrt(),
    "neg": lambda lib, x: -x["sliced_t"],
    "add_contiguous_first": lambda lib, x: x["contiguous"] + x["transposed"],
    "add_transposed_first": lambda lib, x: x["transposed"] + x["contiguous"],
    "add_broadcast_first": lambda lib, x: x["row"][:4] + x["transposed"],
    "mul_scalar": lambda lib, x: x["channels_last"] * 2,
    "relu": lambda lib, x: x["channels_last"].relu(),
    "compare": lambda lib, x: x["transposed"] > 0,
    "where": lambda lib, x: lib.where(x["transposed"] > 0, x["transposed"], 0.0),
    "clamp": lambda lib, x: x["transposed"].clamp(-1, 1),
    "pow": lambda lib, x: x["sliced_t"] ** 2,
    "expanded": lambda lib, x: x["expanded_t"].exp(),
    "double": lambda lib, x: x["transposed"].double(),
    "double_not_dense": lambda lib, x: x["sliced_t"].double(),
    "half_channels_last": lambda lib, x: x["channels_last"].half(),
    "clone": lambda lib, x: x["transposed"].clone(),
    "clone_not_dense": lambda lib, x: x["sliced_t"].clone(),
    "clone_contiguous_format": lambda lib, x: x["transposed"].clone(
        memory_format=lib.contiguous_format
    ),
    "contiguous": lambda lib, x: x["transposed"].contiguous(),
    "flip": lambda lib, x: x["transposed"].flip(0),
    "rot90": lambda lib, x: x["transposed"].rot90(),
    "rot90_twice": lambda lib, x: x["transposed"].rot90(2),
    "sum_keepdim": lambda lib, x: x["channels_last"].sum(1, keepdim=True) * 1,
    "pad_nothing": lambda lib, x: lib.nn.functional.pad(x["transposed"], (0, 0)),
    "zeros_like": lambda lib, x: lib.zeros_like(x["transposed"]),
    "full_like_channels_last": lambda lib, x: lib.full_like(x["channels_last"], 2.0),
    "cumsum": lambda lib, x: x["transposed"].cumsum(0),
    "cumprod_one": lambda lib, x: x["transposed"][:1].cumprod(0),
    "inverse": lambda lib, x: lib.inverse(x["contiguous"][:4] + 4 * lib.eye(4)),
    "torch_clone": lambda lib, x: lib.clone(x["transposed"]),
    # results of other dtypes, written as PyTorch's kernels walk the input
    "sign_bool": lambda lib, x: lib.sign(x["transposed"] > 0),
    "isinf_int": lambda lib, x: lib.isinf(x["transposed"].long()),
    "isfinite_int": lambda lib, x: lib.isfinite(x["transposed"].long()),
    "isreal": lambda lib, x: lib.isreal(x["transposed"]),
    "signbit": lambda lib, x: lib.signbit(x["transposed"]),
    "bitwise_not_int": lambda lib, x: lib.bitwise_not(x["transposed"].long()),
    "flip_expanded": lambda lib, x: x["expanded_t"].flip(1),
    "flip_expanded_bool": lambda lib, x: (x["row"][:1] > 0).expand(3, 2, 2).flip(0),
    "isneginf_int": lambda lib, x: lib.isneginf(x["transposed"].long()),
    "isposinf_int": lambda lib, x: lib.isposinf(x["transposed"].long()),
}

# Image ops keep a channels-last input's layout (PyTorch's kernels allocate their results in the
# input's suggested memory format); layer_norm and the 1-d max pooling without indices and
# without grad write row-major.
_F = lambda lib: lib.nn.functional
CASES |= {
    "conv2d": lambda lib, x: _F(lib).conv2d(x["channels_last"], lib.ones(2, 3, 2, 2)),
    "conv2d_weight": lambda lib, x: _F(lib).conv2d(
        x["channels_last"].contiguous(),
        lib.ones(2, 3, 2, 2).contiguous(memory_format=lib.channels_last),
    ),
    "conv_transpose2d": lambda lib, x: _F(lib).conv_transpose2d(
        x["channels_last"], lib.ones(3, 2, 2, 2)
    ),
    "conv1d": lambda lib, x: _F(lib).conv1d(x["channels_last"][:, :, 0], lib.ones(2, 3, 2)),
    "max_pool2d": lambda lib, x: _F(lib).max_pool2d(x["channels_last"], 2),
    "max_pool2d_indices": lambda lib, x: _F(lib).max_pool2d(
        x["channels_last"], 2, return_indices=True
    )[1],
    "avg_pool2d": lambda lib, x: _F(lib).avg_pool2d(x["channels_last"], 2, 1, 1),
    "adaptive_avg_pool2d": lambda lib, x: _F(lib).adaptive_avg_pool2d(x["channels_last"], (3, 2)),
    "adaptive_max_pool2d": lambda lib, x: _F(lib).adaptive_max_pool2d(x["channels_last"], (3, 2)),
    "interpolate": lambda lib, x: _F(lib).interpolate(x["channels_last"], scale_factor=2),
    "bilinear": lambda lib, x: _F(lib).interpolate(x["channels_last"], (5, 7), mode="bilinear"),
    "pad": lambda lib, x: _F(lib).pad(x["channels_last"], (1, 2, 0, 1)),
    "pad_reflect": lambda lib, x: _F(lib).pad(x["channels_last"], (1, 1, 1, 1), mode="reflect"),
    "pad_circular": lambda lib, x: _F(lib).pad(x["channels_last"], (1, 1, 1, 1), mode="circular"),
    "pixel_unshuffle": lambda lib, x: _F(lib).pixel_unshuffle(x["channels_last"][..., :4], 2),
    "layer_norm": lambda lib, x: _F(lib).layer_norm(x["channels_last"].sin(), (5,)),
    "max_pool1d": lambda lib, x: _F(lib).max_pool1d(x["channels_last"][:, :, 0], 2),
    "max_pool1d_grad": lambda lib, x: _F(lib).max_pool1d(
        x["channels_last"][:, :, 0].requires_grad_(), 2
    ),
    "avg_pool1d": lambda lib, x: _F(lib).avg_pool1d(x["channels_last"][:, :, 0], 2),
    "adaptive_max_pool1d": lambda lib, x: _F(lib).adaptive_max_pool1d(
        x["channels_last"][:, :, 0], 2
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_result_strides_match_torch(name):
    ours = CASES[name](rg, _inputs(rg))
    theirs = CASES[name](torch, _inputs(torch))
    assert tuple(ours.shape) == tuple(theirs.shape)
    # (strides of size-1 dims are not observable through views; PyTorch's are arbitrary)
    significant = [i for i, n in enumerate(theirs.shape) if n != 1]
    assert [ours.stride(i) for i in significant] == [theirs.stride(i) for i in significant]
    assert ours.is_contiguous() == theirs.is_contiguous()
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_view_of_a_transposed_result_fails_and_flatten_copies():
    x = rg.ones(2, 3).t()
    y = x.sqrt()
    with raises(RuntimeError, "view size is not compatible"):
        y.view(-1)
    flat = y.flatten()
    flat.sub_(1)
    assert y.sum().item() == 6  # (a copy: y is untouched, as in PyTorch)


def test_stride_of_one_dim_as_torch():
    for lib in (rg, torch):
        x = lib.ones(2, 3, 4).transpose(0, 2)
        assert (x.stride(0), x.stride(-1), x.stride(dim=1)) == (1, 12, 4)
    with raises(IndexError, "Dimension out of range (expected to be in range of [-2, 1], but got 5)"):  # fmt: skip
        rg.ones(2, 3).stride(5)
    with raises(IndexError, "Dimension specified as 0 but tensor has no dimensions"):
        rg.ones(()).stride(0)


@pytest.mark.parametrize("op", ["bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift"])  # fmt: skip
@pytest.mark.parametrize("other", ["tensor", "number"])
def test_bitwise_results_take_torch_layout(op, other):
    """Integer bitwise ops (computed on the host) write their result in the layout PyTorch's
    TensorIterator gives the operands, not row-major."""
    results = []
    for lib in (torch, rg):
        a = lib.tensor([[-3, 3, 2], [-1, 5, 3], [-2, 1, -5], [4, -1, -3]]).t()
        b = lib.tensor([-4, 7, 3, 7, 2, 7, 1, 7])[::2] if other == "tensor" else 3
        out = getattr(lib, op)(a, b)
        results.append((out.tolist(), out.stride(), out._version))
    assert results[1] == results[0]


@pytest.mark.parametrize("shape", [(2, 3), (4,), (), (2, 0), (3, 1, 2)])
def test_nonzero_layout_as_torch(shape):
    """nonzero/argwhere write the coordinates dim by dim: strides (1, n), as PyTorch's."""
    results = []
    for lib in (torch, rg):
        x = (lib.arange(float(math.prod(shape))) % 3).reshape(shape)
        out = lib.argwhere(x)
        flat = out.flatten()
        out.fill_(0)  # (a copy of the (n, ndim) result is not changed by writing it)
        results.append((flat.tolist(), tuple(out.shape), out.stride() if out.numel() else None))
    assert results[1] == results[0]


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_grid_sample_writes_row_major(mode):
    results = []
    for lib in (torch, rg):
        x = lib.arange(24.0).reshape(1, 2, 3, 4)
        grid = lib.zeros(1, 3, 2, 2)
        out = lib.nn.functional.grid_sample(x, grid, mode, "border", False)
        results.append((out.tolist(), out.stride()))
    assert results[1] == results[0]


def _sort_inputs(lib, base=None):
    """Inputs of every layout kind for sort (with ties), built the same way in both libraries
    (views of ``base``, by default a new tensor)."""
    if base is None:
        base = lib.tensor(np.arange(120, dtype=np.float64).reshape(2, 3, 4, 5) % 7 - 3)
    return {
        "contiguous": base[0, 0] * 1,
        "transposed": base[0, 0].t(),  # strides (1, 5)
        "permuted_3d": base[0].permute(2, 0, 1),
        "channels_last": base.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2),
        "sliced_t": base[0, 0][:, ::2].t(),  # not dense: dense strides in its order
        "expanded": base[0, 0, :1].expand(3, 5),  # overlapping: row-major
        "expanded_t": base[0, 0, :1].expand(3, 5).t(),
        "batch_of_one": base[:1, 0, 1:3],  # (1, 2, 5): the size-1 dim's stride is 60
        "unit_dim_t": base[0, 0, :, :1].t(),  # (1, 4), strides (1, 5)
        "long_t": base[0, 0].long().t(),
    }


@pytest.mark.parametrize("name", list(_sort_inputs(rg)))
@pytest.mark.parametrize("dim", [0, -1])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_results_keep_the_input_layout_as_torch(name, dim, descending):
    """sort/argsort/msort allocate their results with the input's strides when it is dense
    (dims of size 1 included), else dense strides in its memory order (PyTorch's
    ``infer_dense_strides``), rather than row-major."""
    results = []
    for lib in (torch, rg):
        x = _sort_inputs(lib)[name]
        values, indices = x.sort(dim=dim, descending=descending, stable=True)
        plain = lib.sort(x, dim, descending)
        args = x.argsort(dim=dim, descending=descending, stable=True)
        results.append(
            [
                (t.tolist(), tuple(t.shape), t.stride())
                for t in (values, indices, *plain, args, lib.msort(x))
            ]
        )
    assert results[1] == results[0]


@pytest.mark.parametrize("name", ["transposed", "batch_of_one", "permuted_3d"])
def test_sort_of_a_strided_input_backpropagates_as_torch(name):
    grads = []
    for lib in (torch, rg):
        leaf = lib.tensor(np.arange(120.0).reshape(2, 3, 4, 5) % 7 - 3, requires_grad=True)
        values = _sort_inputs(lib, leaf * 1)[name].sort(0, descending=True).values
        weight = lib.tensor(np.linspace(-1, 2, values.numel()).reshape(tuple(values.shape)))
        (values * weight).sum().backward()
        grads.append((values.grad_fn.name(), values.stride(), leaf.grad.tolist()))
    assert grads[1] == grads[0]


def _empty_sort_inputs(lib):
    """Empty inputs of every layout kind, built the same way in both libraries."""
    return {
        "(0,)": lib.empty(0),
        "(3, 0)": lib.empty(3, 0),
        "(0, 4) of a transpose": lib.empty(4, 0).t(),
        "(4, 0) of a transpose": lib.empty(0, 4).t(),
        "(2, 0, 3)": lib.empty(2, 0, 3),
        "(3, 2, 0) permuted": lib.empty(2, 0, 3).permute(2, 0, 1),
        "step of an empty slice": lib.empty(4)[4:][::2],  # stride 2
        "every other column": lib.empty(0, 6, 4)[:, ::2],  # (0, 3, 4), strides (24, 8, 1)
        "empty rows of a transpose": lib.empty(5, 4).t()[1:1],  # (0, 5), strides (1, 4)
        "expanded": lib.empty(3, 0).expand(2, 3, 0),  # strides (0, 1, 1)
        "a unit dim": lib.empty(0, 1, 3),
        "channels-last strides": lib.empty_strided((2, 3, 0, 4), (0, 1, 12, 3)),
        "long": lib.empty(0, 2, dtype=lib.int64).t(),
    }


@pytest.mark.parametrize("name", list(_empty_sort_inputs(rg)))
@pytest.mark.parametrize("descending", [False, True])
def test_sort_of_an_empty_input_keeps_its_strides_as_torch(name, descending):
    """An empty tensor is contiguous in PyTorch, so non-overlapping and dense whatever its
    strides: sort/argsort/msort allocate their (empty) results with its strides exactly,
    along any dim, and values still record ``SortBackward0``."""
    results = []
    for lib in (torch, rg):
        x = _empty_sort_inputs(lib)[name]
        if x.is_floating_point():
            x.requires_grad_()
        for dim in range(-1, x.dim()):
            values, indices = x.sort(dim=dim, descending=descending, stable=True)
            plain = lib.sort(x, dim, descending)
            args = lib.argsort(x, dim, descending)
            results.append(
                [
                    (tuple(t.shape), t.stride(), t.dtype == lib.int64)
                    for t in (values, indices, *plain, args, lib.msort(x))
                ]
                + [values.grad_fn and values.grad_fn.name(), indices.requires_grad]
            )
    half = len(results) // 2
    assert results[half:] == results[:half]


_X = np.array([[3, 1, 2, 1], [0, 5, -1, 5], [2, 2, 7, -3]], dtype=np.float32)


def _sort_out_cases(lib):
    """``sort(x, out=(values, indices), **keywords)``: (x, values, indices, keywords), made
    the same way in both libraries (``list``: the outs passed as a list)."""
    x, z, e, i64 = lib.tensor(_X), lib.zeros, lib.empty, lib.int64
    return {
        "outs of its shape": (x, z(3, 4), z(3, 4, dtype=i64), {}),
        "transposed outs keep their strides": (x, z(4, 3).t(), z(4, 3, dtype=i64).t(), {"dim": 0}),
        "empty outs take a transposed input's strides": (x.t(), e(0), e(0, dtype=i64), {}),
        "empty outs take dense strides of a stepped input": (
            x[:, ::2].t(),
            e(0),
            e(0, dtype=i64),
            {"dim": 1},
        ),
        "outs of another shape are resized with a warning": (
            x,
            z(5),
            z(2, 6, dtype=i64),
            {"stable": True, "descending": True},
        ),
        "a 0-d input": (lib.tensor(2.5), z(3), e(0, dtype=i64), {}),
        "an empty input": (e(0, 2).t(), z(3), e(0, dtype=i64), {"dim": 0}),
        "integers, into a list": (
            x.long(),
            e(0, dtype=i64),
            e(0, dtype=i64),
            {"stable": False, "list": True},
        ),
        "the input itself as values": (x, x, e(0, dtype=i64), {"descending": True}),
    }


@pytest.mark.parametrize("name", list(_sort_out_cases(rg)))
def test_sort_into_out_as_torch(name):
    """``sort(..., out=(values, indices))`` writes into and returns those tensors (as
    ``return_types.sort_out``), with PyTorch's values, shapes, strides (an out of the right
    shape keeps its own, a resized one takes the layout sort gives its results), versions
    and resize warnings."""
    results = []
    for lib in (torch, rg):
        x, values, indices, kwargs = _sort_out_cases(lib)[name]
        kwargs = dict(kwargs)
        out = [values, indices] if kwargs.pop("list", False) else (values, indices)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = lib.sort(x, out=out, **kwargs)
        assert result[0] is values and result.indices is indices
        results.append(
            [type(result).__name__, len(caught), (values._version, indices._version)]
            + [(t.tolist(), tuple(t.shape), t.stride(), str(t.dtype)[-5:]) for t in result]
        )
        for w in caught:
            assert str(w.message).startswith("An output with one or more elements was resized")
    assert results[1] == results[0]


def _sort_out_refusals(lib):
    """Calls of ``sort`` with ``out=`` that PyTorch refuses, made alike in both libraries."""
    x, e, i32, i64, f64 = lib.ones(3), lib.empty, lib.int32, lib.int64, lib.float64
    return {
        "int32 indices": lambda: lib.sort(x, out=(e(0), e(0, dtype=i32))),
        "float indices": lambda: lib.sort(x, 0, True, out=(e(0), e(0))),
        "double values": lambda: lib.sort(x, out=(e(0, dtype=f64), e(0, dtype=i64))),
        "long values of floats": lambda: lib.sort(
            x, stable=True, out=(e(0, dtype=i64), e(0, dtype=i32))
        ),
        "an input that requires grad": lambda: lib.sort(
            x.requires_grad_(), out=(e(0, dtype=f64), e(0))
        ),
        "an out that requires grad": lambda: lib.sort(
            x, out=(e(0, requires_grad=True), e(0, dtype=i64))
        ),
        "a dim out of range": lambda: lib.sort(x, 1, out=(e(0, dtype=i64), e(0))),
        "one out": lambda: lib.sort(x, out=(e(0),)),
        "three outs": lambda: lib.sort(x, out=(e(0),) * 3),
        "a number for indices": lambda: lib.sort(x, out=(e(0), 3)),
        "a number for values, stable": lambda: lib.sort(x, stable=True, out=(3, e(0))),
        "a tensor for out": lambda: lib.sort(x, out=e(0)),
    }


@pytest.mark.parametrize("name", list(_sort_out_refusals(rg)))
def test_sort_into_out_refuses_as_torch(name):
    """PyTorch's checks, in its order and words: the autograd refusal, the dim, then each
    out's exact dtype (values first); ``out`` must be a pair of tensors."""
    with pytest.raises(Exception) as theirs:
        _sort_out_refusals(torch)[name]()
    with raises(type(theirs.value), str(theirs.value)):
        _sort_out_refusals(rg)[name]()


def test_sort_into_out_resizes_values_before_refusing_indices_as_torch():
    """Each out is checked and resized in turn: values take their shape before the indices'
    dtype is refused; without grad mode an input that requires grad may be sorted into outs;
    the method takes no ``out=``."""
    shapes = []
    for lib in (torch, rg):
        values = lib.empty(0)
        with pytest.raises(RuntimeError, match="Expected out tensor to have dtype long int"):
            lib.sort(lib.ones(2, 3), out=(values, lib.empty(0, dtype=lib.int32)))
        x = lib.tensor([2.0, -1.0, 0.5], requires_grad=True)
        v, i = lib.empty(0), lib.empty(0, dtype=lib.int64)
        with lib.no_grad():
            lib.sort(x, out=(v, i))
        with pytest.raises(TypeError):
            x.detach().sort(out=(lib.empty(0), lib.empty(0, dtype=lib.int64)))
        shapes.append((tuple(values.shape), v.tolist(), i.tolist(), v.requires_grad))
    assert shapes[1] == shapes[0]


@pytest.mark.parametrize(
    ("size", "stride"),
    [
        ((2, 3), (1, 2)),
        ((2, 3), (3, 1)),
        ((4,), (2,)),
        ((0, 3), (5, 7)),
        ((2, 3), (0, 0)),
        ((), ()),
    ],
)
def test_empty_strided_lays_out_as_torch(size, stride):
    """The strides given, memory up to the farthest element (zeros here); arithmetic on the
    result and its gradient as on PyTorch's (whose values are unspecified: both filled
    first)."""
    ours = rg.empty_strided(size, stride, dtype=rg.float64, requires_grad=True)
    theirs = torch.empty_strided(size, stride, dtype=torch.float64, requires_grad=True)
    assert (tuple(ours.shape), ours.stride()) == (tuple(theirs.shape), theirs.stride())
    assert ours.is_leaf and ours.requires_grad and ours.dtype == rg.float64
    assert (ours.detach().numpy() == 0).all()
    with torch.no_grad():
        theirs.zero_()
    w = np.arange(1, math.prod(size) + 1, dtype=np.float64).reshape(size)
    (ours * rg.tensor(w) + 1).sum().backward()
    (theirs * torch.tensor(w) + 1).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


@pytest.mark.parametrize(
    ("size", "stride"),
    [((2, 3), (1,)), ((2, -3), (1, 2)), ((2, 3), (-1, 2)), ((2**40, 2**40), (2**40, 1))],
)
def test_empty_strided_refuses_as_torch(size, stride):
    with pytest.raises(RuntimeError) as theirs:
        torch.empty_strided(size, stride)
    with raises(RuntimeError, str(theirs.value)):
        rg.empty_strided(size, stride)


def test_new_empty_strided_takes_dtype_and_device_from_self():
    x = rg.ones(2, dtype=rg.float64)
    y = x.new_empty_strided((2, 3), (1, 2))
    assert (tuple(y.shape), y.stride(), y.dtype) == ((2, 3), (1, 2), rg.float64)
    z = x.new_empty_strided((3,), (2,), dtype=rg.int64, requires_grad=False)
    assert (z.stride(), z.dtype, z.requires_grad) == ((2,), rg.int64, False)
