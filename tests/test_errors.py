"""Bad input gets PyTorch's exception types and messages, and never a Rust panic.

Every check goes through ``conftest.raises``, which first rejects ``PanicException``.
"""

import pytest
import rustgrad as rg
from conftest import raises

# ---------------------------------------------------------------- autograd misuse


def test_backward_without_grad_fn():
    t = rg.tensor([1.0, 2.0])
    with raises(
        RuntimeError, "element 0 of tensors does not require grad and does not have a grad_fn"
    ):
        t.sum().backward()


def test_backward_on_rebuilt_variable_from_data():
    # The lecture's broken graph: a Variable rebuilt from .data has no history.
    from rustgrad.autograd import Variable

    x = Variable(rg.tensor([1.0, 2.0, 3.0]), requires_grad=True)
    s = (x + x).sum()
    rebuilt = Variable(s.data)
    with raises(
        RuntimeError, "element 0 of tensors does not require grad and does not have a grad_fn"
    ):
        rebuilt.backward()


def test_grad_without_grad_fn():
    x = rg.tensor([1.0], requires_grad=True)
    with raises(
        RuntimeError, "element 0 of tensors does not require grad and does not have a grad_fn"
    ):
        rg.autograd.grad(rg.tensor(1.0), x)


def test_implicit_grad_for_non_scalar():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    with raises(RuntimeError, "grad can be implicitly created only for scalar outputs"):
        (x * 2).backward()
    with raises(RuntimeError, "grad can be implicitly created only for scalar outputs"):
        rg.autograd.grad(x * 2, x)


def test_backward_gradient_shape_mismatch():
    x = rg.randn(2, 3, requires_grad=True)
    with raises(RuntimeError, "Mismatch in shape"):
        (x * 2).backward(rg.ones(3))


def test_second_backward():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with raises(RuntimeError, "Trying to backward through the graph a second time"):
        y.backward()


def test_grad_unused_input():
    x = rg.tensor([1.0], requires_grad=True)
    u = rg.tensor([1.0], requires_grad=True)
    with raises(RuntimeError, "Set allow_unused=True if this is the desired behavior"):
        rg.autograd.grad((x * 2).sum(), [x, u])


def test_grad_input_not_requiring_grad():
    x = rg.tensor([1.0], requires_grad=True)
    c = rg.tensor([1.0])
    with raises(RuntimeError, "One of the differentiated Tensors does not require grad"):
        rg.autograd.grad((x * 2).sum(), [x, c])


def test_requires_grad_on_non_leaf():
    x = rg.tensor([1.0], requires_grad=True)
    with raises(RuntimeError, "you can only change requires_grad flags of leaf variables"):
        (x * 2).requires_grad = False


def test_requires_grad_on_integer_tensor():
    with raises(
        RuntimeError, "Only Tensors of floating point and complex dtype can require gradients"
    ):
        rg.tensor([1, 2], requires_grad=True)


def test_inplace_on_leaf():
    w = rg.tensor([1.0], requires_grad=True)
    with raises(
        RuntimeError, "a leaf Variable that requires grad is being used in an in-place operation."
    ):
        w.add_(1)


def test_numpy_of_tensor_requiring_grad():
    with raises(RuntimeError, "Can't call numpy() on Tensor that requires grad"):
        rg.tensor([1.0], requires_grad=True).numpy()


# ---------------------------------------------------------------- shapes


@pytest.mark.parametrize(
    "op",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a * b,
        lambda a, b: a / b,
        lambda a, b: a**b,
        lambda a, b: a < b,
    ],
    ids=["add", "sub", "mul", "div", "pow", "lt"],
)
def test_broadcast_mismatch(op):
    a, b = rg.ones(2, 3), rg.ones(4, 3)
    with raises(
        RuntimeError,
        "The size of tensor a (2) must match the size of tensor b (4) at non-singleton dimension 0",
    ):
        op(a, b)
    with raises(
        RuntimeError,
        "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1",
    ):
        op(rg.ones(2, 3), rg.ones(2, 4))


def test_inplace_broadcast_mismatch():
    with raises(RuntimeError, "output with shape [3] doesn't match the broadcast shape [2, 3]"):
        rg.ones(3).add_(rg.ones(2, 3))


def test_matmul_shape_mismatch():
    with raises(RuntimeError, "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"):
        rg.ones(2, 3) @ rg.ones(4, 5)
    with raises(RuntimeError, "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"):
        rg.mm(rg.ones(2, 3), rg.ones(4, 5))
    with raises(RuntimeError, "size mismatch, got input (2), mat (2x3), vec (4)"):
        rg.ones(2, 3) @ rg.ones(4)
    with raises(RuntimeError):
        rg.ones(3) @ rg.ones(4)
    with raises(RuntimeError):
        rg.ones(2, 2, 3) @ rg.ones(3, 4, 5)


def test_view_invalid_size():
    x = rg.ones(2, 3)
    with raises(RuntimeError, "shape '[4, 4]' is invalid for input of size 6"):
        x.view(4, 4)
    with raises(RuntimeError, "shape '[-1, 4]' is invalid for input of size 6"):
        x.view(-1, 4)
    with raises(RuntimeError, "shape '[4, 4]' is invalid for input of size 6"):
        x.reshape(4, 4)
    with raises(RuntimeError, "only one dimension can be inferred"):
        x.view(-1, -1)


def test_view_incompatible_strides():
    with raises(RuntimeError, "view size is not compatible with input tensor's size and stride"):
        rg.ones(2, 3).t().view(6)


def test_expand_mismatch():
    with raises(
        RuntimeError,
        "The expanded size of the tensor (4) must match the existing size (2) "
        "at non-singleton dimension 0",
    ):
        rg.ones(2, 3).expand(4, 3)


def test_expand_without_sizes_or_with_a_new_leading_minus_one():
    with raises(TypeError, 'expand() missing 1 required positional arguments: "size"'):
        rg.ones(2).expand()
    with raises(
        RuntimeError,
        "The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension 0",
    ):
        rg.ones(2).expand(-1, 2)
    assert rg.tensor(1.0).expand(()).shape == ()


def test_module_reshape_and_permute_take_one_sequence():
    x = rg.ones(3, 4)
    with raises(TypeError, "reshape() takes 2 positional arguments but 3 were given"):
        rg.reshape(x, 6, 2)
    with raises(TypeError, "reshape(): argument 'shape' (position 2) must be tuple of ints"):
        rg.reshape(x, -1)
    with raises(TypeError, "permute() takes 2 positional arguments but 3 were given"):
        rg.permute(x, 1, 0)
    assert rg.reshape(x, [6, 2]).shape == (6, 2)
    assert rg.reshape(x, shape=(12,)).shape == (12,)
    assert rg.permute(x, (1, 0)).shape == (4, 3)


def test_cat_stack_mismatch():
    with raises(RuntimeError, "Sizes of tensors must match except in dimension 0"):
        rg.cat([rg.ones(2, 3), rg.ones(2, 4)])
    with raises(RuntimeError, "stack expects each tensor to be equal size"):
        rg.stack([rg.ones(2, 3), rg.ones(2, 4)])


def test_where_mismatch():
    cond = rg.ones(2) > 0
    with raises(RuntimeError, "The size of tensor a (2) must match the size of tensor b (3)"):
        rg.where(cond, rg.ones(3), rg.ones(3))


# ---------------------------------------------------------------- dims and indices


@pytest.mark.parametrize(
    "fn,msg",
    [
        (lambda x: x.sum(dim=5), "expected to be in range of [-2, 1], but got 5"),
        (lambda x: x.sum(-3), "expected to be in range of [-2, 1], but got -3"),
        (lambda x: x.mean(2), "expected to be in range of [-2, 1], but got 2"),
        (lambda x: x.sum((0, 2)), "expected to be in range of [-2, 1], but got 2"),
        (lambda x: x.max(dim=2), "expected to be in range of [-2, 1], but got 2"),
        (lambda x: x.argmax(dim=-3), "expected to be in range of [-2, 1], but got -3"),
        (lambda x: x.softmax(2), "expected to be in range of [-2, 1], but got 2"),
        (lambda x: x.log_softmax(-3), "expected to be in range of [-2, 1], but got -3"),
        (lambda x: x.unsqueeze(4), "expected to be in range of [-3, 2], but got 4"),
        (lambda x: x.squeeze(3), "expected to be in range of [-2, 1], but got 3"),
        (lambda x: x.transpose(0, 2), "expected to be in range of [-2, 1], but got 2"),
        (lambda x: x.flatten(0, 2), "expected to be in range of [-2, 1], but got 2"),
        (lambda x: rg.cat([x, x], 2), "expected to be in range of [-2, 1], but got 2"),
        (lambda x: rg.stack([x, x], 4), "expected to be in range of [-3, 2], but got 4"),
        (lambda x: x.size(2), "expected to be in range of [-2, 1], but got 2"),
    ],
    ids=[
        "sum",
        "sum_neg",
        "mean",
        "sum_tuple",
        "max",
        "argmax",
        "softmax",
        "log_softmax",
        "unsqueeze",
        "squeeze",
        "transpose",
        "flatten",
        "cat",
        "stack",
        "size",
    ],
)
def test_bad_dim(fn, msg):
    x = rg.ones(2, 3)
    with raises(IndexError, "Dimension out of range (" + msg + ")"):
        fn(x)


@pytest.mark.parametrize(
    "index,msg",
    [
        (5, "index 5 is out of bounds for dimension 0 with size 2"),
        (-3, "index -3 is out of bounds for dimension 0 with size 2"),
        ((slice(None), 3), "index 3 is out of bounds for dimension 1 with size 3"),
        ((0, -4), "index -4 is out of bounds for dimension 1 with size 3"),
        ([0, 5], "index 5 is out of bounds for dimension 0 with size 2"),
        ((0, 0, 0), "too many indices for tensor of dimension 2"),
    ],
    ids=["int", "neg_int", "second_dim", "neg_second", "list", "too_many"],
)
def test_index_out_of_range(index, msg):
    x = rg.ones(2, 3)
    with raises(IndexError, msg):
        x[index]


def test_index_tensor_out_of_range():
    with raises(IndexError, "index 5 is out of bounds for dimension 0 with size 2"):
        rg.ones(2, 3)[rg.tensor([0, 5])]


def test_setitem_out_of_range():
    x = rg.ones(2, 3)
    with raises(IndexError, "index 2 is out of bounds for dimension 0 with size 2"):
        x[2] = 0.0


def test_iterating_or_len_of_zero_dim():
    with raises(TypeError, "len() of a 0-d tensor"):
        len(rg.tensor(1.0))
    with raises(TypeError):
        iter(rg.tensor(1.0))


def test_item_of_many_elements():
    with raises(RuntimeError, "a Tensor with 6 elements cannot be converted to Scalar"):
        rg.ones(2, 3).item()


def test_permute_errors():
    with raises(RuntimeError, "duplicate dims are not allowed"):
        rg.ones(2, 3).permute(0, 0)
    with raises(RuntimeError):
        rg.ones(2, 3).permute(0)


def test_clamp_without_bounds():
    with raises(RuntimeError, "At least one of 'min' or 'max' must not be None"):
        rg.ones(2).clamp()


def test_reduction_of_empty_tensor():
    with raises(RuntimeError, "Expected reduction dim to be specified for input.numel() == 0"):
        rg.zeros(0).max()


# ---------------------------------------------------------------- construction


def test_ragged_list():
    with raises(ValueError, "expected sequence of length 2 at dim 1 (got 1)"):
        rg.tensor([[1, 2], [3]])
    with raises(ValueError, "expected sequence of length 3 at dim 1 (got 2)"):
        rg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0]])


def test_non_numeric_data():
    with raises(ValueError):
        rg.tensor(["a"])
    with raises(TypeError):
        rg.tensor("a")
    with raises(TypeError):
        rg.tensor([1, "a"])


def test_impossible_allocation():
    for make in (rg.zeros, rg.ones, rg.randn):
        with raises((RuntimeError, MemoryError)):
            make(10**12, 10**12)
    with raises((RuntimeError, MemoryError)):
        rg.full((10**12, 10**12), 1.0)


def test_negative_dimension():
    with raises(RuntimeError, "Dimension size must be non-negative"):
        rg.zeros(-1)


def test_cat_empty_list():
    with raises(ValueError, "expected a non-empty list of Tensors"):
        rg.cat([])


# ---------------------------------------------------------------- which check comes first
# An input with two faults gets the error PyTorch checks first (found by the fuzzer: the
# exception type differed). Each case runs in both libraries; type and message must agree.

_E = lambda m: m.tensor([], dtype=m.float64).requires_grad_()
_LEAF = lambda m: m.tensor([1.0, 2.0], requires_grad=True)
_FIRST_CHECK = {
    "diagonal of 1-D: dims wrapped first": lambda m: m.diagonal(_E(m), offset=7),
    "baddbmm: batch sizes read first": lambda m: m.tensor(0.5).baddbmm(m.ones(3), m.ones(3)),
    "baddbmm: input expanded first": lambda m: m.ones(2).baddbmm(
        m.ones(1, 2, 2, 3), m.ones(2, 3, 4)
    ),
    "addbmm: batch sizes read first": lambda m: m.ones(2, 2).addbmm(m.ones(2, 3), m.ones(3, 4)),
    "kthvalue of an empty dim": lambda m: _E(m).kthvalue(1, -1),
    "median of an empty dim": lambda m: _E(m).median(0),
    "bool @ float batched: the kernel's dtype": lambda m: (
        m.zeros(3, 4, dtype=m.bool) @ m.ones(2, 4, 2, dtype=m.float64)
    ),
    "sdpa of 1-D inputs": lambda m: m.nn.functional.scaled_dot_product_attention(
        _E(m), _E(m), _E(m)
    ),
    "arange int64 with a step truncated to 0": lambda m: m.arange(0, 1, 0.25, dtype=m.int64),
    "bitwise broadcast": lambda m: m.tensor([], dtype=m.int64) & m.tensor([1, 3, -2]),
    # in place into a leaf that requires grad: the leaf check precedes the op's own
    "cumsum_ leaf before dim": lambda m: _LEAF(m).cumsum_(dim=3),
    "cumprod_ leaf before dim": lambda m: _E(m).cumprod_(dim=1),
    "transpose_ leaf before dim": lambda m: _LEAF(m).transpose_(0, 3),
    "unsqueeze_ leaf before dim": lambda m: _LEAF(m).unsqueeze_(5),
    "t_ leaf before rank": lambda m: m.ones(2, 2, 2, requires_grad=True).t_(),
    "index_fill_ leaf before dim": lambda m: _LEAF(m).index_fill_(3, m.tensor([0]), 1.0),
    "masked_fill_ leaf before shape": lambda m: _LEAF(m).masked_fill_(m.ones(3, dtype=m.bool), 1.0),
    "scatter_ leaf before dim": lambda m: _LEAF(m).scatter_(3, m.tensor([0]), 1.0),
    "tril_ leaf before rank": lambda m: _LEAF(m).tril_(),
    "copy_ leaf before shape": lambda m: _LEAF(m).copy_(m.ones(3)),
    "div_ leaf before rounding mode": lambda m: _LEAF(m).div_(m.ones(2), rounding_mode="bad"),
    "view of a leaf before shape": lambda m: _LEAF(m)[:1].copy_(m.ones(3)),
    "setitem: leaf before index dtype": lambda m: _LEAF(m).__setitem__(m.tensor([0.0]), 1.0),
    "setitem: index dtype before value dtype": lambda m: m.zeros(2).__setitem__(
        m.tensor([]), m.tensor(1.0, dtype=m.float64)
    ),
    "setitem: too many indices before dtype": lambda m: m.zeros(2).__setitem__(
        (m.tensor([0]), m.tensor([0.0])), m.tensor(1.0, dtype=m.float64)
    ),
    "setitem: basic indexing before leaf": lambda m: _LEAF(m)[0].__setitem__((0, 0), -2.5),
    "setitem: int out of range before leaf": lambda m: m.tensor(
        [], dtype=m.float64, requires_grad=True
    ).__setitem__(-1, m.tensor(0)),
    "setitem: leaf before tensor index bounds": lambda m: m.zeros(
        2, requires_grad=True
    ).__setitem__(m.tensor([5]), 1.0),
    "scatter_reduce_ leaf before dim": lambda m: m.tensor(
        [], dtype=m.float64, requires_grad=True
    ).scatter_reduce_(1, m.tensor([], dtype=m.int64), m.tensor([], dtype=m.float64), "mean"),
    "cumsum in bool": lambda m: m.tensor([1, 2]).cumsum(0, dtype=m.bool),
    "cumprod in bool": lambda m: m.tensor([1.5]).cumprod(0, dtype=m.bool),
}


@pytest.mark.parametrize("case", list(_FIRST_CHECK), ids=list(_FIRST_CHECK))
def test_first_failing_check_is_pytorchs(case):
    torch = pytest.importorskip("torch")
    make = _FIRST_CHECK[case]
    with pytest.raises(Exception) as theirs:
        make(torch)
    with raises(type(theirs.value), str(theirs.value)):
        make(rg)


@pytest.mark.parametrize(
    "index",
    [
        lambda m: m.ones(3, 1, 0)[:, [0, 1, 1]],  # no result element: nothing checked
        lambda m: m.ones(2, 0)[[5]],
        lambda m: m.ones(3, 0)[[0, 7], :],
        lambda m: m.ones(3, 0)[m.tensor([0, 7])],
        lambda m: m.eye(3, 0).unsqueeze(1).argmax(-2, keepdim=True)[:, [-3, -2, -1]],
        lambda m: m.ones(0, 1)[[5]],  # an indexed dim of size 0: PyTorch's one early check
        lambda m: m.ones(3, 0)[m.tensor([0, 7]), m.tensor([0, 0])],
        lambda m: m.ones(3, 4)[m.tensor([0, 7])],  # elements to read: checked as before
    ],
)
def test_index_bounds_checked_per_result_element_as_pytorch(index):
    torch = pytest.importorskip("torch")
    try:
        want = tuple(index(torch).shape)
    except IndexError as e:
        with raises(IndexError, str(e).split(" for ")[0] if "size 0" not in str(e) else str(e)):
            index(rg)
        return
    assert tuple(index(rg).shape) == want
    # and writing through such an index is as quiet
    x = index(rg)
    assert x.numel() == 0


def test_same_element_through_another_stride_is_a_partial_overlap_as_torch():
    # PyTorch compares the strides of two views of the same elements, a size-1 dim's too
    torch = pytest.importorskip("torch")
    for lib in (rg, torch):
        x = lib.tensor([-2])
        with pytest.raises(RuntimeError, match="some elements of the input tensor and the written-to"):  # fmt: skip
            x.sub_(x[-1:1:3])
        z = lib.zeros(())
        with pytest.raises(RuntimeError, match="some elements of the input tensor and the written-to"):  # fmt: skip
            z.flatten().add_(z.expand(1))
        y = lib.ones(3)
        y.add_(y.unsqueeze(0).squeeze(0))  # (the same strides: a full overlap, allowed)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, v: v.cumprod_(dim=1, dtype=lib.float64),
        lambda lib, v: v.cumsum_(dim=1, dtype=lib.float64),
        lambda lib, v: v.cumprod_(1),
        lambda lib, v: v.long().cumprod_(1, dtype=lib.int32),
        lambda lib, v: v.short().cumsum_(1, dtype=lib.int32),
        lambda lib, v: v.float().masked_scatter(
            lib.tensor([True, False, True]), lib.ones(3, dtype=lib.int64)
        ),
    ],
)
def test_in_place_scan_and_masked_scatter_dtype_errors_as_torch(call):
    """The dtype refusal comes before the bool kernel's, in PyTorch's C type names."""
    torch = pytest.importorskip("torch")
    with pytest.raises(Exception) as expected:
        call(torch, torch.tensor([[True, False, True]]))
    with pytest.raises(type(expected.value)) as got:
        call(rg, rg.tensor([[True, False, True]]))
    assert str(got.value) == str(expected.value)


_POOLS = ["avg_pool1d", "max_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool2d", "avg_pool2d", "max_pool2d", "lp_pool2d", "lp_pool1d", "max_pool3d", "avg_pool3d", "adaptive_avg_pool1d", "adaptive_max_pool1d", "adaptive_avg_pool3d"]  # fmt: skip


@pytest.mark.parametrize("name", _POOLS)
@pytest.mark.parametrize("shape", [(4,), (3, 4), (0, 3, 4), (3, 0, 4), (2, 3, 4, 5, 6), (0, 2, 4, 4), (2, 0, 4, 4), (2, 3, 0, 4)])  # fmt: skip
def test_pooling_input_errors_as_torch(name, shape):
    """Each pooling function refuses a wrong rank or an empty non-batch dim with PyTorch's
    exception type and words (average pooling's IndexError below three dims included)."""
    torch = pytest.importorskip("torch")
    outcomes = []
    for lib in (torch, rg):
        args = (2.0, 2) if name.startswith("lp") else (2,)
        try:
            outcomes.append(tuple(getattr(lib.nn.functional, name)(lib.zeros(*shape), *args).shape))
        except (RuntimeError, IndexError, ValueError) as e:
            outcomes.append(f"{type(e).__name__}: {e}")
    assert outcomes[1] == outcomes[0]


@pytest.mark.parametrize("inputs", ["empty", "a_number"])
def test_grad_refuses_inputs_as_torch(inputs):
    from conftest import outcome

    torch = pytest.importorskip("torch")

    def run(lib):
        x = lib.ones(2, requires_grad=True)
        return lib.autograd.grad((x * x).sum(), [] if inputs == "empty" else [x, 3])

    theirs = outcome(run, torch)
    assert theirs[0] == "RuntimeError"
    assert outcome(run, rg) == theirs


# ---------------------------------------------------------------- PyTorch's words, side by side


def _setitem(value):
    def run(lib):
        x = lib.zeros(3)
        x[0:2] = value(lib)
        return x.tolist()

    return run


def _assign_grad(grad):
    def run(lib):
        x = lib.ones(3, requires_grad=True)
        x.grad = grad(lib)

    return run


def _in_place(method, other):
    return lambda lib: getattr(lib.tensor([1, 2]), method)(other(lib)).tolist()


def _leaf(lib):
    return lib.tensor([1.0, 2.0], requires_grad=True)


def _setitem_leaf(key):
    def run(lib):
        _leaf(lib)[key(lib)] = 5.0

    return run


def _function_of(lib, forward, backward=lambda ctx, g: g):
    class F(lib.autograd.Function):
        pass

    F.forward = staticmethod(forward)
    F.backward = staticmethod(backward)
    return F


def _hook_returning(value):
    def run(lib):
        x = _leaf(lib)
        y = x * 2
        y.register_hook(lambda g: value)
        y.sum().backward()

    return run


_WORDED = {
    "setitem_leaf_int": _setitem_leaf(lambda lib: 0),
    "setitem_leaf_slice": _setitem_leaf(lambda lib: slice(None)),
    "setitem_leaf_newaxis": _setitem_leaf(lambda lib: (None,)),
    "setitem_leaf_list": _setitem_leaf(lambda lib: [0]),
    "setitem_leaf_mask": _setitem_leaf(lambda lib: lib.tensor([True, False])),
    "backward_inputs_empty": lambda lib: (_leaf(lib) * 2).sum().backward(inputs=[]),
    "backward_inputs_not_requiring_grad": lambda lib: (
        (_leaf(lib) * 2).sum().backward(inputs=[lib.ones(2)])
    ),
    "grad_unused_at_index": lambda lib: lib.autograd.grad(
        ((x := _leaf(lib)) * 2).sum(), [x, _leaf(lib)]
    ),
    "grad_outputs_fewer": lambda lib: lib.autograd.grad([(x := _leaf(lib)) * 2, x * 3], x, [None]),
    "grad_outputs_fewer_scalar": lambda lib: lib.autograd.grad(
        [(x := _leaf(lib)).sum(), x.sum()], x, [None]
    ),
    "requires_grad_set_to_int": lambda lib: setattr(lib.ones(2), "requires_grad", 1),
    "requires_grad_method_int": lambda lib: lib.ones(2).requires_grad_(1),
    "parameter_of_ints": lambda lib: lib.nn.Parameter(lib.tensor([1, 2])),
    "hook_returns_int": _hook_returning(3),
    "function_backward_returns_int": lambda lib: (
        _function_of(lib, lambda ctx, a: a * 2, lambda ctx, g: 3).apply(_leaf(lib)).sum().backward()
    ),
    "save_for_backward_int": lambda lib: _function_of(
        lib, lambda ctx, a: (ctx.save_for_backward(a, 3), a * 2)[1]
    ).apply(_leaf(lib)),
    "gcd_not_broadcastable": lambda lib: lib.gcd(
        lib.zeros(0, dtype=lib.int64), lib.ones(3, dtype=lib.int64)
    ),
    "lcm_not_broadcastable": lambda lib: lib.lcm(
        lib.ones(2, dtype=lib.int64), lib.ones(3, dtype=lib.int64)
    ),
    "gcd_of_floats": lambda lib: lib.gcd(lib.ones(2), lib.ones(2)),
    "heaviside_mixed_dtypes": lambda lib: lib.heaviside(
        lib.ones(2), lib.ones(2, dtype=lib.float64)
    ),
    "tensor_of_none": lambda lib: lib.tensor(None),
    "tensor_of_object": lambda lib: lib.tensor([object()]),
    "index_by_str": lambda lib: lib.ones(3)["a"],
    "index_past_int64": lambda lib: lib.ones(3)[2**64],
    "index_by_float": lambda lib: lib.ones(3)[1.5],
    "setitem_list": _setitem(lambda lib: [5.0, 6.0]),
    "setitem_tuple": _setitem(lambda lib: (5.0, 6.0)),
    "setitem_ndarray": _setitem(lambda lib: __import__("numpy").array([5.0, 6.0])),
    "setitem_number": _setitem(lambda lib: 5),
    "setitem_none": _setitem(lambda lib: None),
    "setitem_str": _setitem(lambda lib: "a"),
    "index_put_not_tuple": lambda lib: lib.zeros(3).index_put_(lib.tensor([0]), lib.tensor(1.0)),
    "index_put_number": lambda lib: lib.zeros(3).index_put((lib.tensor([0]),), 1.0),
    "index_put_list_element": lambda lib: lib.zeros(3).index_put(([0],), lib.tensor(1.0)),
    "iand_float": _in_place("__iand__", lambda lib: 1.5),
    "ixor_float": _in_place("bitwise_xor_", lambda lib: 1.5),
    "ilshift_float": _in_place("__ilshift__", lambda lib: 1.5),
    "ior_bool_tensor": _in_place("__ior__", lambda lib: lib.tensor([True])),
    "grad_of_another_size": _assign_grad(lambda lib: lib.zeros(2)),
    "grad_of_another_dtype": _assign_grad(lambda lib: lib.zeros(3, dtype=lib.float64)),
    "grad_not_a_tensor": _assign_grad(lambda lib: 5),
    "requires_grad_int": lambda lib: lib.tensor([1]).requires_grad_(),
    "requires_grad_attribute_int": lambda lib: setattr(lib.tensor([1]), "requires_grad", True),
    "requires_grad_keyword_int": lambda lib: lib.tensor([1], requires_grad=True),
    "bool_of_many": lambda lib: bool(lib.ones(2)),
    "bool_of_none": lambda lib: bool(lib.ones(0)),
    "zeros_negative": lambda lib: lib.zeros(2, -1),
    "ones_negative": lambda lib: lib.ones(-1),
    "empty_negative": lambda lib: lib.empty(3, -2),
    "randn_negative": lambda lib: lib.randn(-1),
    "randint_negative": lambda lib: lib.randint(3, (-1,)),
    "to_a_dtype_name": lambda lib: lib.ones(1).to("float32"),
    "to_a_bad_index": lambda lib: lib.ones(1).to("cuda:x"),
    "to_an_unknown_device": lambda lib: lib.ones(1).to("gpu"),
    "clamp_mixed_bounds": lambda lib: lib.ones(2).clamp(lib.ones(2), 3),
    "clamp_mixed_bounds_function": lambda lib: lib.clamp(lib.ones(2), 2.5, lib.ones(2)),
    "clamp_bool_tensors": lambda lib: lib.tensor([True]).clamp(
        lib.tensor([True]), lib.tensor([True])
    ),
    "clamp_in_place_broadcast": lambda lib: lib.ones(2).clamp_(lib.zeros(3, 1)),
    "clamp_in_place_cast": lambda lib: lib.tensor([1, 5]).clamp_(lib.ones(2)),
    "topk_bool": lambda lib: lib.tensor([True, False]).topk(1),
    "median_bool": lambda lib: lib.tensor([True, False]).median(),
    "median_dim_bool": lambda lib: lib.tensor([True, False]).median(0),
    "nanmedian_bool": lambda lib: lib.tensor([True, False]).nanmedian(),
    "kthvalue_bool": lambda lib: lib.tensor([True, False]).kthvalue(1),
    "trace_bool": lambda lib: lib.ones(2, 2, dtype=lib.bool).trace(),
    "cross_bool": lambda lib: lib.linalg.cross(
        lib.ones(3, dtype=lib.bool), lib.ones(3, dtype=lib.bool)
    ),
    "cross_mixed_dtypes": lambda lib: lib.linalg.cross(lib.ones(3), lib.ones(3, dtype=lib.float64)),
    "einsum_mixed_dtypes": lambda lib: lib.einsum(
        "i,i->", lib.ones(3, dtype=lib.float64), lib.ones(3)
    ),
    "einsum_third_operand": lambda lib: lib.einsum(
        "i,i,i->", lib.ones(3), lib.ones(3), lib.ones(3, dtype=lib.int64)
    ),
    "meshgrid_mixed_dtypes": lambda lib: lib.meshgrid(
        lib.ones(2), lib.ones(2, dtype=lib.int64), indexing="ij"
    ),
}


@pytest.mark.parametrize("name", sorted(_WORDED))
def test_errors_in_pytorchs_words(name):
    torch = pytest.importorskip("torch")
    from conftest import outcome

    ours, theirs = outcome(_WORDED[name], rg), outcome(_WORDED[name], torch)
    assert theirs[0] != "ok" or name in ("setitem_number", "ior_bool_tensor")
    assert ours == theirs
