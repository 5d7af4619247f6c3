"""Indexing (``x[key]``, ``x[key] = v``) against PyTorch: which key forms mean what.

Each case runs the same key on both libraries and compares the result's shape and values,
the written tensor, and the gradient through the read (float64).
"""

import warnings

import numpy as np
import pytest
import rustgrad as rg
from conftest import assert_close

torch = pytest.importorskip("torch")

# Keys written against a library ``lib`` (index tensors must be that library's).
KEYS = {
    # several tensor indices separated by a slice, an int, None or `...`: the indexed dims go
    # to the front (PyTorch's rule for non-adjacent advanced indices)
    "lists_around_a_slice": lambda lib: ([0, 2], slice(None), [1, 3]),
    "lists_adjacent_after_a_slice": lambda lib: (slice(None), [0, 1], [1, 2]),
    "list_slice_list": lambda lib: ([0], slice(1, 3), [1]),
    "lists_around_an_int": lambda lib: ([0, 2], 1, [1, 3]),
    "lists_around_none": lambda lib: ([0, 1], None, [1, 2]),
    "lists_around_ellipsis": lambda lib: ([0, 2], Ellipsis, [1, 3]),
    "mask_then_list": lambda lib: (lib.tensor([True, False, True]), slice(None), [1, 2]),
    "broadcast_lists_after_a_slice": lambda lib: (slice(1, None), [[0], [1]], [1, 2]),
    "none_then_separated_lists": lambda lib: (None, [0, 1], slice(None), [1, 2]),
    "tensors_around_a_step": lambda lib: (
        lib.tensor([2, 0]),
        slice(None, None, 2),
        lib.tensor([4, 1]),
    ),
}


def _data(lib):
    return lib.arange(60, dtype=lib.float64).reshape(3, 4, 5)


@pytest.mark.parametrize("case", sorted(KEYS))
def test_separated_tensor_indices_read_as_torch(case):
    results = []
    for lib in (torch, rg):
        leaf = _data(lib).requires_grad_()
        out = leaf[KEYS[case](lib)]
        weight = lib.arange(out.numel(), dtype=lib.float64).reshape(tuple(out.shape))
        (out * weight).sum().backward()
        results.append((tuple(out.shape), out.detach().numpy(), leaf.grad.numpy()))
    (shape, values, grad), (want_shape, want_values, want_grad) = results
    assert shape == want_shape
    assert_close(values, want_values, rtol=0)
    assert_close(grad, want_grad, rtol=0)


@pytest.mark.parametrize("case", sorted(KEYS))
def test_separated_tensor_indices_write_as_torch(case):
    results = []
    for lib in (torch, rg):
        leaf = lib.zeros(3, 4, 5, dtype=lib.float64, requires_grad=True)
        x = leaf * 1
        shape = tuple(x[KEYS[case](lib)].shape)
        value = lib.arange(1, 1 + int(np.prod(shape)), dtype=lib.float64).reshape(shape)
        x[KEYS[case](lib)] = value
        (x * _data(lib)).sum().backward()
        results.append((x.detach().numpy(), leaf.grad.numpy()))
    assert_close(results[1][0], results[0][0], rtol=0)
    assert_close(results[1][1], results[0][1], rtol=0)


LIST_KEYS = {
    "nested_lists": lambda lib: [[0, 1], [1, 2]],
    "tensors": lambda lib: [lib.tensor(1), lib.tensor(2)],
    "int_and_slice": lambda lib: [0, slice(None)],
    "array_and_int": lambda lib: [np.array([0, 1]), 1],
    "int_and_none": lambda lib: [1, None],
    "int_and_ellipsis": lambda lib: [Ellipsis, 1],
}


@pytest.mark.parametrize("case", sorted(LIST_KEYS))
def test_list_key_holding_sequences_is_a_tuple_as_torch(case):
    """NumPy's old rule, which PyTorch keeps with a deprecation warning: a list key holding a
    sequence, a tensor, a slice, None or ``...`` is the tuple of its items."""
    results = []
    for lib in (torch, rg):
        x = _data(lib)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = x[LIST_KEYS[case](lib)]
            warned = len(caught)
            x[LIST_KEYS[case](lib)] = -1.0
        results.append((tuple(out.shape), out.numpy(), x.numpy(), warned))
    (shape, values, written, warned), (want_shape, want_values, want_written, want_warned) = results
    assert (shape, warned) == (want_shape, want_warned)
    assert_close(values, want_values, rtol=0)
    assert_close(written, want_written, rtol=0)


def test_list_of_ints_stays_one_index():
    for key in ([0, 1], [True, False, True], range(2)):
        assert tuple(_data(rg)[key].shape) == tuple(_data(torch)[key].shape)


BOOL_KEYS = {
    "true": lambda lib: True,
    "false": lambda lib: False,
    "tensor_true": lambda lib: lib.tensor(True),
    "true_then_int": lambda lib: (True, 0),
    "int_then_true": lambda lib: (0, True),
    "true_slice_list": lambda lib: (True, slice(None), [0, 1]),
    "none_then_true": lambda lib: (None, True),
    "false_then_slice": lambda lib: (False, slice(1, None)),
}


@pytest.mark.parametrize("case", sorted(BOOL_KEYS))
def test_bool_scalar_key_is_advanced_indexing_as_torch(case):
    """PyTorch reads a bool (or 0-d bool tensor) in a key as a new axis indexed by ``[0]`` or
    ``[]``: advanced indexing, so the result is a copy (``IndexBackward0``)."""
    from conftest import node_name

    results = []
    for lib in (torch, rg):
        leaf = lib.arange(6, dtype=lib.float64).reshape(2, 3).requires_grad_()
        x = leaf * 1
        out = x[BOOL_KEYS[case](lib)]
        name = node_name(out.grad_fn)
        weight = lib.arange(out.numel(), dtype=lib.float64).reshape(tuple(out.shape))
        (out * weight).sum().backward()
        plain = lib.arange(6.0).reshape(2, 3)
        picked = plain[BOOL_KEYS[case](lib)]
        picked.add_(100)  # a copy: the source keeps its values
        results.append((tuple(out.shape), name, out.tolist(), leaf.grad.tolist(), plain.tolist()))
    assert results[1] == results[0]
