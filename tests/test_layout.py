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
    # written into fresh row-major buffers whatever the input's layout
    "repeat_ones": lambda lib, x: x["transposed"].repeat(1, 1),
    "tile_ones": lambda lib, x: x["transposed"].unsqueeze(0).tile((1, 1, 1)),
    "repeat": lambda lib, x: x["transposed"].repeat(2, 1),
    "logsigmoid": lambda lib, x: lib.nn.functional.logsigmoid(x["transposed"]),
    # LAPACK's column-major solutions
    "solve": lambda lib, x: lib.linalg.solve(
        x["contiguous"][:4] + 4 * lib.eye(4), x["transposed"][:4, :3]
    ),
    "solve_batch": lambda lib, x: lib.linalg.solve(
        (x["contiguous"][:4] + 4 * lib.eye(4)).expand(2, 4, 4), x["transposed"][:4, :3]
    ),
    "solve_vector": lambda lib, x: lib.linalg.solve(
        x["contiguous"][:4] + 4 * lib.eye(4), x["row"][:4]
    ),
    "solve_right": lambda lib, x: lib.linalg.solve(
        x["contiguous"][:4] + 4 * lib.eye(4), x["transposed"][:3, :4], left=False
    ),
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
    "group_norm": lambda lib, x: _F(lib).group_norm(x["channels_last"], 3),
    "group_norm_transposed": lambda lib, x: _F(lib).group_norm(x["transposed"], 1),
    "group_norm_affine": lambda lib, x: _F(lib).group_norm(
        x["transposed"], 2, lib.ones(8)[::2] * 2, lib.ones(4)
    ),
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


def _argsort_msort_out_cases(lib):
    """``argsort(x, stable=..., out=...)`` and ``msort(x, out=...)``: (call, out), made alike
    in both libraries."""
    x, z, e, i64 = lib.tensor(_X), lib.zeros, lib.empty, lib.int64
    return {
        "argsort: an empty out takes a transposed input's strides": (
            lambda o: lib.argsort(x.t(), stable=True, out=o),
            e(0, dtype=i64),
        ),
        "argsort: an out of another shape is resized with a warning": (
            lambda o: lib.argsort(x, stable=True, dim=0, descending=True, out=o),
            z(5, dtype=i64),
        ),
        "argsort: a transposed out of its shape keeps its strides": (
            lambda o: lib.argsort(x, stable=False, out=o),
            z(4, 3, dtype=i64).t(),
        ),
        "argsort: dense strides of a stepped input": (
            lambda o: lib.argsort(x[:, ::2].t(), stable=True, out=o),
            e(0, dtype=i64),
        ),
        "argsort: a 0-d input": (
            lambda o: lib.argsort(lib.tensor(2.0), stable=True, out=o),
            z(3, dtype=i64),
        ),
        "argsort: out=None": (lambda o: lib.argsort(x, stable=True, out=o), None),
        "msort: an empty out takes a transposed input's strides": (
            lambda o: lib.msort(x.t(), out=o),
            e(0),
        ),
        "msort: an out of another shape is resized with a warning": (
            lambda o: lib.msort(x, out=o),
            z(5),
        ),
        "msort: a transposed out of its shape keeps its strides": (
            lambda o: lib.msort(x, out=o),
            z(4, 3).t(),
        ),
        "msort: integers": (lambda o: lib.msort(x.long(), out=o), e(0, dtype=i64)),
        "msort: the input itself as out": (lambda o: lib.msort(x, out=x), x),
    }


@pytest.mark.parametrize("name", list(_argsort_msort_out_cases(rg)))
def test_argsort_and_msort_into_out_as_torch(name):
    """``argsort(..., stable=..., out=)`` (PyTorch's ``argsort.stable_out``) and
    ``msort(..., out=)`` write into and return ``out``: its values, shape, strides (kept at
    the right shape, else sort's layout), version and resize warning as PyTorch's."""
    results = []
    for lib in (torch, rg):
        call, out = _argsort_msort_out_cases(lib)[name]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = call(out)
        assert out is None or result is out
        results.append(
            (result.tolist(), tuple(result.shape), result.stride(), str(result.dtype)[-5:])
            + (result._version, [(str(w.message)[:40], w.filename) for w in caught])
        )
    assert results[1] == results[0]


def _argsort_msort_refusals(lib):
    """Calls of argsort and msort with ``out=`` that PyTorch refuses, made alike in both."""
    x, e, i32, i64 = lib.ones(3), lib.empty, lib.int32, lib.int64
    o = e(0, dtype=i64)
    return {
        "argsort: out without stable": lambda: lib.argsort(x, out=o),
        "argsort: out=None without stable": lambda: lib.argsort(x, out=None),
        "argsort: out and a keyword without stable": lambda: lib.argsort(x, descending=True, out=o),
        "argsort: out and dim without stable": lambda: lib.argsort(x, dim=0, out=o),
        "argsort: out and two keywords without stable": lambda: lib.argsort(
            x, out=o, dim=0, descending=False
        ),
        "argsort: out and a positional dim": lambda: lib.argsort(x, 0, out=o),
        "argsort: out and two positionals": lambda: lib.argsort(x, 0, True, out=o),
        "argsort: input by keyword": lambda: lib.argsort(input=x, out=o),
        "argsort: stable=None with out": lambda: lib.argsort(x, stable=None, out=o),
        "argsort: an int stable with out": lambda: lib.argsort(x, stable=1, out=o),
        "argsort: stable=None": lambda: lib.argsort(x, stable=None),
        "argsort: a float dim": lambda: lib.argsort(x, stable=True, out=o, dim=0.5),
        "argsort: an unknown keyword": lambda: lib.argsort(x, stable=True, out=o, foo=1),
        "argsort: descending=None": lambda: lib.argsort(x, stable=True, out=o, descending=None),
        "argsort: a tuple out": lambda: lib.argsort(x, stable=True, out=(o,)),
        "argsort: float indices": lambda: lib.argsort(x, stable=True, out=e(0)),
        "argsort: int32 indices": lambda: lib.argsort(x, stable=True, out=e(0, dtype=i32)),
        "argsort: an input that requires grad": lambda: lib.argsort(
            lib.ones(3, requires_grad=True), stable=True, out=e(0)
        ),
        "msort: long values of floats": lambda: lib.msort(x, out=o),
        "msort: double values of floats": lambda: lib.msort(x, out=e(0, dtype=lib.float64)),
        "msort: an input that requires grad": lambda: lib.msort(
            lib.ones(3, requires_grad=True), out=o
        ),
        "msort: an out that requires grad": lambda: lib.msort(x, out=e(0, requires_grad=True)),
        "msort: a tuple out": lambda: lib.msort(x, out=(e(0),)),
        "msort: two positionals": lambda: lib.msort(x, 0),
    }


@pytest.mark.parametrize("name", list(_argsort_msort_refusals(rg)))
def test_argsort_and_msort_into_out_refuse_as_torch(name):
    """PyTorch's errors in its words: argsort takes ``out=`` only in its overload with
    ``stable`` (a bool), else its "invalid combination of arguments" (the overloads, the
    keywords in its order and its "didn't match" lines); the exact dtype of the out; the
    autograd refusal names ``sort()`` (both sort into the out)."""
    with pytest.raises(Exception) as theirs:
        _argsort_msort_refusals(torch)[name]()
    with raises(type(theirs.value), str(theirs.value)):
        _argsort_msort_refusals(rg)[name]()


@pytest.mark.parametrize("stable", ["omitted", None, False, True])
def test_sort_records_the_node_of_the_overload_taken_as_torch(stable):
    """PyTorch's ``sort`` overload with ``stable`` (taken whenever it is given, even as None)
    records ``SortBackward1``; without it ``SortBackward0`` (msort's too); function and
    method alike."""
    names = []
    for lib in (torch, rg):
        x = lib.tensor(_X, requires_grad=True)
        kw = {} if stable == "omitted" else {"stable": stable}
        nodes = [
            lib.sort(x, **kw)[0],
            lib.sort(x, dim=0, descending=True, **kw).values,
            x.sort(**kw).values,
            x.sort(dim=0, **kw)[0],
        ]
        names.append([v.grad_fn.name() for v in nodes] + [lib.msort(x).grad_fn.name()])
    assert names[1] == names[0]


def _out_inputs(lib):
    """Operands of every layout kind for ``out=``, made alike in both libraries."""
    base = lib.tensor(np.arange(1, 121, dtype=np.float32).reshape(2, 3, 4, 5) / 150)
    m = base[0, 0]  # (4, 5)
    return {
        "contiguous": m * 1,
        "transposed": m.t(),  # (5, 4), strides (1, 5)
        "stepped": base[0, :, ::2].reshape(3, 2, 5)[:, :, ::2],  # not dense
        "expanded": base[0, 0, :1].expand(4, 5),
        "channels_last": base.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2),
        "permuted_3d": base[0].permute(2, 0, 1),
    }


# (op, a function of the operands): ``layout`` names the operand kind; binary cases pair two
_OUT_UNARY = {
    "exp": lambda lib, x, out: lib.exp(x, out=out),
    "neg": lambda lib, x, out: lib.neg(x, out=out),
    "sigmoid": lambda lib, x, out: lib.sigmoid(x, out=out),
    "tan": lambda lib, x, out: lib.tan(x, out=out),
    "round_decimals": lambda lib, x, out: lib.round(x, decimals=1, out=out),
    "clamp": lambda lib, x, out: lib.clamp(x, 0.2, 0.5, out=out),
    "pow_number": lambda lib, x, out: lib.pow(x, 2, out=out),
    "mul_number": lambda lib, x, out: lib.mul(x, 3, out=out),
    "div_floor": lambda lib, x, out: lib.div(x, 0.3, rounding_mode="floor", out=out),
    "polygamma": lambda lib, x, out: lib.polygamma(1, x, out=out),
    "logit": lambda lib, x, out: lib.logit(x, out=out),
    "xlogy_number": lambda lib, x, out: lib.xlogy(x, 2.0, out=out),
    "special_entr": lambda lib, x, out: lib.special.entr(x, out=out),
    "special_expit": lambda lib, x, out: lib.special.expit(x, out=out),
    # composites and reductions: row-major
    "mvlgamma": lambda lib, x, out: lib.mvlgamma(x + 2, 2, out=out),
    "special_ndtr": lambda lib, x, out: lib.special.ndtr(x, out=out),
    "special_logsumexp": lambda lib, x, out: lib.special.logsumexp(x, 0, out=out),
}


def _write_out(lib, call, out_kind, shape):
    """``call(out)`` for an out of ``out_kind``: its result and warnings, as comparable data."""
    if out_kind == "empty":
        out = lib.empty(0)
    elif out_kind == "another shape":
        out = lib.zeros(7)
    else:  # the result's shape, dims reversed in memory (not contiguous)
        out = lib.zeros(*reversed(shape)).permute(*reversed(range(len(shape))))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call(out)
    assert result is out
    return (
        np.round(result.numpy(), 5).tolist(),
        tuple(result.shape),
        result.stride(),
        result._version,
        [(str(w.message)[:40], w.filename) for w in caught],
    )


@pytest.mark.parametrize("out_kind", ["empty", "another shape", "its shape, not contiguous"])
@pytest.mark.parametrize("layout", list(_out_inputs(rg)))
@pytest.mark.parametrize("op", list(_OUT_UNARY))
def test_out_of_an_elementwise_op_is_laid_out_as_torch(op, layout, out_kind):
    """A resized ``out=`` takes the layout PyTorch's TensorIterator gives the op's result (the
    input's memory order: a transposed or channels-last input gives a transposed or
    channels-last out; dense strides for a stepped one, row-major for an expanded one);
    composites and reductions give row-major; an out of the result's shape keeps its own
    strides and the values are written through them."""
    results = []
    for lib in (torch, rg):
        x = _out_inputs(lib)[layout]
        shape = tuple(_OUT_UNARY[op](lib, x, None).shape)
        call = lambda o, lib=lib, x=x: _OUT_UNARY[op](lib, x, o)
        results.append(_write_out(lib, call, out_kind, shape))
    assert results[1] == results[0]


def _out_pairs(lib):
    """Pairs of broadcastable operands of different layouts, made alike in both libraries."""
    x = _out_inputs(lib)
    c, t = x["contiguous"][:, :4] + 0.5, x["transposed"][:4] + 0.5  # (4, 4) each
    cl = x["channels_last"] + 0.5
    return {
        "transposed, contiguous": (t, c),
        "contiguous, transposed": (c, t),
        "transposed, transposed": (t, t * 2),
        "row, transposed": (c[0], t),
        "transposed, column": (t, c[:, :1]),
        "column, row": (c[:, :1], c[0]),
        "transposed column, row": (c[:1].t(), c[0]),
        "channels_last, contiguous": (cl, cl.contiguous()),
        "contiguous, channels_last": (cl.contiguous(), cl),
        "channels_last, per channel": (cl, c[0, :3].reshape(3, 1, 1)),
        "per width, channels_last": (x["contiguous"][0], cl),
        "0-d, transposed": (lib.tensor(0.5), t),
        "number, transposed": (0.5, t),
        "expanded, transposed": (c[:1].expand(4, 4), t),
        "stepped, transposed": (c[:, ::2].repeat(1, 2)[:, :4], t),
        "permuted 3-d": (
            x["permuted_3d"] + 0.5,
            x["permuted_3d"].transpose(0, 1).contiguous().transpose(0, 1) + 1,
        ),
    }


_OUT_BINARY = {
    "add": lambda lib, a, b, out: (
        lib.add(a, b, out=out) if isinstance(a, lib.Tensor) else lib.add(b, a, out=out)
    ),
    "mul": lambda lib, a, b, out: (
        lib.mul(b, a, out=out) if not isinstance(a, lib.Tensor) else lib.mul(a, b, out=out)
    ),
    "atan2": lambda lib, a, b, out: lib.atan2(*_tensors(lib, a, b), out=out),
    "maximum": lambda lib, a, b, out: lib.maximum(*_tensors(lib, a, b), out=out),
    "pow": lambda lib, a, b, out: lib.pow(*_tensors(lib, a, b), out=out),
    "lerp_tensor_weight": lambda lib, a, b, out: lib.lerp(
        *_tensors(lib, a, b), lib.tensor(0.25), out=out
    ),
    "xlogy": lambda lib, a, b, out: lib.xlogy(a, b, out=out),
    "clamp_tensor_bounds": lambda lib, a, b, out: lib.clamp(*_tensors(lib, a, b), out=out),
}


def _tensors(lib, a, b):
    return [v if isinstance(v, lib.Tensor) else lib.tensor(v) for v in (a, b)]


@pytest.mark.parametrize("out_kind", ["empty", "another shape"])
@pytest.mark.parametrize("pair", list(_out_pairs(rg)))
@pytest.mark.parametrize("op", list(_OUT_BINARY))
def test_out_of_a_broadcasting_op_is_laid_out_as_torch(op, pair, out_kind):
    """A resized ``out=`` of a binary (or ternary) op takes the strides PyTorch computes from
    the operands' memory order: the first operand that orders two dims decides, a broadcast
    dim has no say, a number is a 0-d operand."""
    results = []
    for lib in (torch, rg):
        a, b = _out_pairs(lib)[pair]
        shape = tuple(_OUT_BINARY[op](lib, a, b, None).shape)
        call = lambda o, lib=lib, a=a, b=b: _OUT_BINARY[op](lib, a, b, o)
        results.append(_write_out(lib, call, out_kind, shape))
    assert results[1] == results[0]


@pytest.mark.parametrize("op", ["mm", "matmul", "matmul_batched"])
def test_out_of_a_matrix_product_is_row_major_as_torch(op):
    results = []
    for lib in (torch, rg):
        t = lib.tensor(np.arange(12, dtype=np.float32).reshape(4, 3)).t()  # (3, 4), transposed
        calls = {
            "mm": lambda o, lib=lib, t=t: lib.mm(t, t.t(), out=o),
            "matmul": lambda o, lib=lib, t=t: lib.matmul(t.t(), t, out=o),
            "matmul_batched": lambda o, lib=lib, t=t: lib.matmul(t.expand(2, 3, 4), t.t(), out=o),
        }
        results.append(_write_out(lib, calls[op], "empty", None))
    assert results[1] == results[0]


def _random_operand(rng, shape):
    """A torch tensor of ``shape``: permuted, stepped, expanded, channels-last, with size-1
    dims at odd strides, or row-major."""
    n, kind = len(shape), rng.integers(6)
    if kind == 1 and n:
        perm = rng.permutation(n)
        inverse = np.argsort(perm)
        return torch.empty([shape[p] for p in perm]).permute(*inverse.tolist())
    if kind == 2 and n:
        d = rng.integers(n)
        wide = list(shape)
        wide[d] *= 2
        return torch.empty(wide)[tuple(slice(None, None, 2) if i == d else slice(None) for i in range(n))]  # fmt: skip
    if kind == 3 and n:
        return torch.empty([1 if rng.random() < 0.5 else s for s in shape]).expand(*shape)
    if kind == 4 and n == 4:
        return torch.empty(shape).contiguous(memory_format=torch.channels_last)
    if kind == 5 and n:
        strides = list(torch.empty(shape).stride())
        strides = [int(rng.choice([0, 1, 7])) if s == 1 else st for s, st in zip(shape, strides)]  # fmt: skip
        return torch.empty_strided(shape, strides)
    return torch.empty(shape)


def _random_operands(rng):
    """A random broadcast shape's operands: a torch tensor of that shape, then up to two
    tensors broadcasting to it or Python numbers."""
    n = int(rng.choice([0, 1, 2, 3, 4, 4, 5]))
    shape = tuple(int(rng.choice([0, 1, 2, 3]) if rng.random() < 0.2 else rng.choice([1, 2, 3, 4])) for _ in range(n))  # fmt: skip
    ops = [_random_operand(rng, shape)]
    for _ in range(int(rng.integers(0, 3))):
        if rng.random() < 0.2:
            ops.append(2.0)
        else:
            k = int(rng.integers(0, n + 1))
            ops.append(_random_operand(rng, tuple(1 if rng.random() < 0.25 else s for s in shape[n - k :])))  # fmt: skip
    return ops


def _ours(ops):
    """``ops`` (torch tensors and numbers) as rustgrad operands of the same layouts."""
    return [
        rg.empty_strided(tuple(o.shape), o.stride()).fill_(1.5)
        if isinstance(o, torch.Tensor)
        else o
        for o in ops
    ]


def test_iterator_strides_follow_torch_over_random_layouts():
    """``_iterator_strides`` (TensorIterator's output layout, behind every resized ``out=``
    of an elementwise op) against the strides of PyTorch's own results, over seeded random
    operands: permuted, stepped, expanded, channels-last, empty, with size-1 dims at odd
    strides, numbers among them."""
    from rustgrad._memory_format import _iterator_strides

    rng = np.random.default_rng(7)
    checked = 0
    for _ in range(400):
        ops = _random_operands(rng)
        if len(ops) == 3 and not isinstance(ops[2], float):
            expected = torch.addcmul(*[o if isinstance(o, torch.Tensor) else torch.tensor(o) for o in ops])  # fmt: skip
        elif len(ops) >= 2:
            expected = torch.add(ops[0], ops[1])
            ops = ops[:2]
        else:
            expected = ops[0].exp()
        ours = _ours(ops)
        if len(ops) == 3:
            ours = [o if isinstance(o, rg.Tensor) else rg.tensor(o) for o in ours]
        assert _iterator_strides(tuple(expected.shape), ours) == expected.stride(), [
            (tuple(o.shape), o.stride()) if isinstance(o, torch.Tensor) else o for o in ops
        ]
        checked += 1
    assert checked == 400


@pytest.mark.parametrize(
    "op",
    [
        lambda lib, a, b: a + b,
        lambda lib, a, b: a * b,
        lambda lib, a, b: lib.maximum(a, b) if isinstance(b, lib.Tensor) else a.clamp(max=b),
        lambda lib, a, b: a < b,
        lambda lib, a, b: lib.where(a > 0, a, b),
        lambda lib, a, b: a.exp(),
        lambda lib, a, b: lib.nn.functional.relu(a),
    ],
    ids=["add", "mul", "maximum", "lt", "where", "exp", "relu"],
)
def test_elementwise_results_have_torchs_exact_strides(op):
    """The core's elementwise results take TensorIterator's layout to the last stride, those
    of size-1 dims included (a channels-last ``(2, 1, 4, 5)`` tensor times 1 keeps ``(20, 1, 5,
    1)``; plus itself is row-major), over seeded random operands."""
    rng = np.random.default_rng(11)
    for _ in range(300):
        ops = _random_operands(rng)[:2]
        if len(ops) == 1:
            ops.append(0.5)
        expected = op(torch, *ops)
        got = op(rg, *_ours(ops))
        assert (tuple(got.shape), got.stride()) == (tuple(expected.shape), expected.stride()), [
            (tuple(o.shape), o.stride()) if isinstance(o, torch.Tensor) else o for o in ops
        ]
    for lib in (rg, torch):
        t = lib.ones(2, 1, 4, 5).to(memory_format=lib.channels_last)
        assert t.stride() == (20, 1, 5, 1)
        assert (t * 1).stride() == (20, 1, 5, 1)
        assert (t + t).stride() == (20, 20, 5, 1)


def test_to_with_copy_always_copies_in_the_inputs_format():
    for lib in (rg, torch):
        x = lib.arange(3.0).reshape(3, 1).expand(3, 4)
        for y in (x.to(lib.float32, copy=True), x.to(copy=True), x.to("cpu", copy=True), x.to(x, copy=True), x.to(lib.float32, False, True)):  # fmt: skip
            assert y.stride() == (4, 1)
            y[0, 0] = 100.0
            assert y[0].tolist() == [100.0, 0.0, 0.0, 0.0] and x[0, 0].item() == 0.0
        t = lib.ones(2, 3).t()
        assert t.to(copy=True).stride() == (1, 3)
        assert t.to(copy=True).data_ptr() != t.data_ptr()
        assert t.to(lib.float32).data_ptr() == t.data_ptr()  # (no copy asked: itself)


def test_copies_preserve_the_exact_strides_as_torch():
    """``clone()`` and ``.to(dtype)`` (``preserve_format``) keep a dense tensor's very strides,
    size-1 dims' included, and lay out any other dense in the order of its strides."""
    rng = np.random.default_rng(13)
    for _ in range(300):
        theirs = _random_operands(rng)[0]
        ours = _ours([theirs])[0]
        for copy in (lambda t: t.clone(), lambda t: t.double(), lambda t: t.to(torch.int32 if isinstance(t, torch.Tensor) else rg.int32)):  # fmt: skip
            assert copy(ours).stride() == copy(theirs).stride(), (tuple(theirs.shape), theirs.stride())  # fmt: skip


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


_EMPTY_FORMAT_SHAPES = [
    ("channels_last", (2, 0, 3, 4)),
    ("channels_last", (0, 3, 4, 5)),
    ("channels_last", (2, 3, 0, 4)),
    ("channels_last", (2, 3, 4, 0)),
    ("channels_last", (0, 0, 0, 0)),
    ("channels_last", (1, 0, 1, 1)),
    ("channels_last", (2, 3, 1, 0)),
    ("channels_last_3d", (2, 0, 3, 4, 5)),
    ("channels_last_3d", (0, 3, 4, 5, 6)),
    ("channels_last_3d", (2, 3, 4, 5, 0)),
]


@pytest.mark.parametrize(("fmt", "shape"), _EMPTY_FORMAT_SHAPES)
def test_channels_last_strides_of_empty_shapes_as_torch(fmt, shape):
    """PyTorch's channels-last strides multiply the sizes as they are, so a dim of size 0
    zeroes the strides outside it (``empty(2, 0, 3, 4, memory_format=channels_last)`` has
    strides (0, 1, 0, 0)), unlike row-major strides (which count it as 1): ``empty``, the
    ``*_like`` functions, ``contiguous``/``to``/``clone`` of a row-major empty tensor (and of
    one of another layout with ``preserve_format``), and ``is_contiguous``'s check of them."""
    results = []
    for lib in (torch, rg):
        f = getattr(lib, fmt)
        x, made = lib.empty(shape), lib.empty(shape, memory_format=f)
        other = lib.empty_strided(shape, tuple(reversed(lib.empty(tuple(reversed(shape))).stride())))  # fmt: skip
        tensors = [
            made,
            lib.empty(shape, memory_format=f, dtype=lib.float64, requires_grad=True),
            lib.empty_like(x, memory_format=f),
            lib.zeros_like(x, memory_format=f),
            lib.ones_like(x, memory_format=f),
            lib.full_like(x, 2.0, memory_format=f),
            lib.empty_like(made),  # (preserve_format: an empty tensor's strides exactly)
            lib.empty_like(other, memory_format=lib.preserve_format),
            x.contiguous(memory_format=f),
            x.to(memory_format=f),
            x.to(lib.float64, memory_format=f),
            x.clone(memory_format=f),
            other.clone(memory_format=lib.preserve_format),
            other.to(lib.float64, memory_format=lib.preserve_format),
            made.contiguous(),
        ]
        results.append(
            [(t.stride(), str(t.dtype)[-7:], t.requires_grad) for t in tensors]
            + [
                x.is_contiguous(memory_format=f),
                made.is_contiguous(memory_format=f),
                made.is_contiguous(),
                made.contiguous(memory_format=f) is made,
            ]
        )
    assert results[1] == results[0]


def _dense(lib, shape, order):
    """A dense tensor of ``shape`` whose dims lie in memory in ``order`` (outermost first)."""
    base = lib.arange(float(math.prod(shape))).reshape(*[shape[d] for d in order])
    return base.permute(*sorted(range(len(order)), key=order.__getitem__))


_FORMAT_LAYOUTS = [
    ((2, 3, 4, 5), (0, 1, 2, 3)),
    ((2, 3, 4, 5), (0, 2, 3, 1)),  # channels-last
    ((2, 3, 4, 5), (3, 2, 1, 0)),
    ((2, 1, 4, 5), (0, 1, 2, 3)),  # also channels-last contiguous (C is 1)
    ((2, 1, 4, 5), (0, 2, 3, 1)),
    ((2, 3, 1, 1), (0, 2, 3, 1)),  # ambiguous: suggests row-major
    ((1, 3, 1, 1), (0, 1, 2, 3)),
    ((2, 3, 4, 5, 6), (0, 2, 3, 4, 1)),  # channels-last 3-d
    ((2, 3, 4, 5, 6), (1, 0, 2, 3, 4)),
]


@pytest.mark.parametrize("fmt", ["contiguous_format", "channels_last", "channels_last_3d"])
@pytest.mark.parametrize(("shape", "order"), _FORMAT_LAYOUTS)
def test_memory_format_conversions_as_torch(shape, order, fmt):
    """``contiguous``/``to``/``clone``/``*_like`` with a memory format: PyTorch's exact
    strides for the format (dims of size 1 included); ``to`` returns ``self`` exactly when
    ``self`` already suggests the format (a transposed or permuted tensor suggests
    ``contiguous_format``), ``contiguous`` when it already is in it; copies record one node
    (``CloneBackward0``, ``ToCopyBackward0``); rank errors in PyTorch's words."""
    results = []
    for lib in (torch, rg):
        f = getattr(lib, fmt)
        got = []
        for name, call in {
            "contiguous": lambda t, f=f: t.contiguous(memory_format=f),
            "to": lambda t, f=f: t.to(memory_format=f),
            "to_double": lambda t, f=f, lib=lib: t.to(lib.float64, memory_format=f),
            "clone": lambda t, f=f: t.clone(memory_format=f),
            "empty_like": lambda t, f=f, lib=lib: lib.empty_like(t, memory_format=f),
            "full_like": lambda t, f=f, lib=lib: lib.full_like(t, 2.0, memory_format=f),
        }.items():
            x = _dense(lib, shape, order)
            try:
                y = call(x)
            except RuntimeError as e:
                got.append((name, str(e)))
                continue
            z = call(_dense(lib, shape, order).requires_grad_())
            values = y.tolist() if "like" not in name or name == "full_like" else None
            got.append((name, y.stride(), values, y is x, z.grad_fn and z.grad_fn.name()))
        got.append(_dense(lib, shape, order).is_contiguous(memory_format=f))
        results.append(got)
    assert results[1] == results[0]


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.empty(2, 3, 4, 5, memory_format=lib.preserve_format),
        lambda lib: lib.empty(2, 3, 4, memory_format=lib.channels_last),
        lambda lib: lib.empty((2, 3, 4, 5), memory_format=lib.channels_last_3d),
        lambda lib: lib.empty(2, 3, 4, 5, memory_format="channels_last"),
        lambda lib: lib.empty(2, 3, 4, 5, memory_format=lib.channels_last, out=lib.empty(0)),
        lambda lib: lib.empty_like(lib.ones(2, 3), memory_format=lib.channels_last),
        lambda lib: lib.zeros_like(lib.ones(2, 3), memory_format=1),
        lambda lib: lib.full_like(lib.ones(2, 3, 4, 5), 1, memory_format=lib.channels_last_3d),
        lambda lib: lib.ones(2, 3).t().to(memory_format=lib.channels_last),
    ],
)
def test_memory_format_refusals_as_torch(call):
    with pytest.raises(Exception) as theirs:
        call(torch)
    with raises(type(theirs.value), str(theirs.value)):
        call(rg)
