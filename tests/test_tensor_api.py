"""The tensor class's Python surface: creation, attributes, conversions, views, CUDA queries."""

import re

import numpy as np
import pytest
import rustgrad as rg
from conftest import assert_close, node_name, raises
from rustgrad.autograd import Variable

# ---------------------------------------------------------------- creation


def test_tensor_from_lists_and_scalars():
    t = rg.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert t.dtype == rg.float32
    assert t.shape == (2, 2)
    assert t.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert rg.tensor([1, 2, 3]).dtype == rg.int64
    assert rg.tensor([True, False]).dtype == rg.bool
    assert rg.tensor([1, 2.5]).dtype == rg.float32
    s = rg.tensor(3.5)
    assert s.shape == () and s.dim() == 0 and s.item() == 3.5
    assert rg.tensor([]).shape == (0,)


def test_tensor_dtype_and_requires_grad_arguments():
    t = rg.tensor([1, 2], dtype=rg.float64, requires_grad=True)
    assert t.dtype == rg.float64
    assert t.requires_grad and t.is_leaf and t.grad is None and t.grad_fn is None
    assert rg.tensor([1.5, 2.5], dtype=rg.int64).tolist() == [1, 2]
    assert rg.tensor([1.0], device="cpu").device.type == "cpu"


def test_tensor_from_numpy_keeps_dtype_and_copies():
    for np_dtype, dt in [(np.float32, rg.float32), (np.float64, rg.float64), (np.int64, rg.int64)]:
        a = np.arange(6, dtype=np_dtype).reshape(2, 3)
        t = rg.tensor(a)
        assert t.dtype == dt and t.shape == (2, 3)
        assert_close(t, a)
        a[0, 0] = 100  # rg.tensor copies
        assert t[0, 0].item() == 0
    assert rg.tensor(np.array([True, False])).dtype == rg.bool
    # A non-contiguous array is read in logical order.
    a = np.arange(12.0).reshape(3, 4).T
    assert_close(rg.tensor(a), a)


def test_legacy_tensor_constructor():
    t = rg.Tensor([1, 2, 3])
    assert t.dtype == rg.float32
    assert t.tolist() == [1.0, 2.0, 3.0]
    assert isinstance(t, rg.Tensor)
    assert isinstance(rg.tensor([1.0]), rg.Tensor)


@pytest.mark.parametrize("fn,value", [(rg.zeros, 0.0), (rg.ones, 1.0)])
def test_zeros_ones(fn, value):
    for t in (fn(2, 3), fn((2, 3)), fn([2, 3])):
        assert t.shape == (2, 3) and t.dtype == rg.float32
        assert_close(t, np.full((2, 3), value, dtype=np.float32))
    t = fn(4, dtype=rg.float64, requires_grad=True)
    assert t.dtype == rg.float64 and t.requires_grad and t.is_leaf
    assert fn(()).shape == ()


def test_full():
    t = rg.full((2, 3), 1.5)
    assert t.dtype == rg.float32
    assert_close(t, np.full((2, 3), 1.5, dtype=np.float32))
    assert rg.full((2,), 2.0, dtype=rg.float64).dtype == rg.float64


def test_zeros_like_ones_like():
    base = rg.randn(2, 3, dtype=rg.float64, requires_grad=True)
    z = rg.zeros_like(base)
    o = rg.ones_like(base)
    assert z.shape == o.shape == (2, 3)
    assert z.dtype == o.dtype == rg.float64
    assert not z.requires_grad and z.grad_fn is None
    assert_close(z, np.zeros((2, 3)))
    assert_close(o, np.ones((2, 3)))
    assert rg.zeros_like(base, dtype=rg.float32).dtype == rg.float32


def test_arange():
    a = rg.arange(5)
    assert a.dtype == rg.int64 and a.tolist() == [0, 1, 2, 3, 4]
    assert rg.arange(1, 10, 3).tolist() == [1, 4, 7]
    f = rg.arange(0, 1, 0.25)
    assert f.dtype == rg.float32 and f.tolist() == [0.0, 0.25, 0.5, 0.75]
    assert rg.arange(3, dtype=rg.float64).dtype == rg.float64
    assert rg.arange(5, 0, -2).tolist() == [5, 3, 1]


def test_linspace():
    t = rg.linspace(0, 1, 5)
    assert t.dtype == rg.float32
    assert_close(t, np.linspace(0, 1, 5), rtol=1e-6)
    assert_close(rg.linspace(-2, 2, 9, dtype=rg.float64), np.linspace(-2, 2, 9), rtol=1e-12)


def test_eye():
    assert_close(rg.eye(3), np.eye(3))
    assert_close(rg.eye(2, 3), np.eye(2, 3))
    assert rg.eye(2, dtype=rg.float64).dtype == rg.float64


def test_rand_randn_seeded():
    rg.manual_seed(123)
    a = rg.randn(4, 5)
    b = rg.rand(3)
    rg.manual_seed(123)
    a2 = rg.randn(4, 5)
    b2 = rg.rand(3)
    assert a.tolist() == a2.tolist() and b.tolist() == b2.tolist()
    rg.manual_seed(124)
    assert rg.randn(4, 5).tolist() != a.tolist()
    assert a.dtype == rg.float32 and b.dtype == rg.float32
    assert rg.randn(2, dtype=rg.float64).dtype == rg.float64
    assert rg.randn((2, 3)).shape == (2, 3)
    u = rg.rand(10000, dtype=rg.float64).numpy()
    assert u.min() >= 0.0 and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.02
    n = rg.randn(10000, dtype=rg.float64).numpy()
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1.0) < 0.05


def test_from_numpy_shares_memory():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    t = rg.from_numpy(a)
    assert t.dtype == rg.float64
    a[0, 1] = 20.0
    assert t[0, 1].item() == 20.0
    with rg.no_grad():
        t[1, 0] = 30.0
    assert a[1, 0] == 30.0
    assert rg.from_numpy(np.zeros(3, dtype=np.float32)).dtype == rg.float32


# ---------------------------------------------------------------- attributes


def test_data_shares_storage_and_is_settable():
    x = rg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    d = x.data
    assert not d.requires_grad and d.grad_fn is None
    d[0] = 10.0
    assert x[0].item() == 10.0
    x.data = rg.tensor([4.0, 5.0, 6.0])
    assert x.tolist() == [4.0, 5.0, 6.0]
    assert x.requires_grad and x.is_leaf
    (x * x).sum().backward()
    assert_close(x.grad, [8.0, 10.0, 12.0])


def test_variable_is_the_tensor_class():
    x = Variable(rg.tensor([1.0, 2.0, 3.0]), requires_grad=True)
    assert isinstance(x, rg.Tensor) and isinstance(x, Variable)
    assert x.requires_grad and x.is_leaf
    z = x * 2
    w = Variable(z.data)
    assert w.grad_fn is None and not w.requires_grad
    assert w.tolist() == [2.0, 4.0, 6.0]


def test_grad_settable():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    assert x.grad is None
    x.grad = rg.tensor([0.5, 0.5])
    assert x.grad.tolist() == [0.5, 0.5]
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.5, 3.5]
    x.grad = None
    assert x.grad is None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_assigned_grad_is_the_same_object():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    g = rg.tensor([0.5, 0.5])
    x.grad = g
    assert x.grad is g
    (x * 3).sum().backward()  # (accumulated into g itself, as PyTorch's AccumulateGrad)
    assert x.grad is g and g.tolist() == [3.5, 3.5]


def test_requires_grad_settable():
    x = rg.tensor([1.0, 2.0])
    assert x.requires_grad is False
    x.requires_grad = True
    assert x.requires_grad and x.is_leaf
    assert (x * 2).requires_grad
    x.requires_grad = False
    assert not (x * 2).requires_grad
    y = rg.tensor([1.0])
    assert y.requires_grad_() is y and y.requires_grad
    assert y.requires_grad_(False) is y and not y.requires_grad


def test_is_leaf():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    c = rg.tensor([1.0, 2.0])
    assert x.is_leaf and c.is_leaf
    assert not (x * 2).is_leaf
    assert (c * 2).is_leaf  # no history: a tensor that doesn't require grad is a leaf
    assert x.detach().is_leaf


def test_retain_grad():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    (y * y).sum().backward()
    assert_close(y.grad, [6.0, 12.0])
    assert_close(x.grad, [18.0, 36.0])


def test_detach_shares_storage():
    x = rg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    d[1] = 0.0
    assert y.tolist() == [2.0, 0.0, 6.0]


def test_shape_size_dim():
    x = rg.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4)
    assert tuple(x.shape) == (2, 3, 4)
    assert x.shape[1] == 3 and len(x.shape) == 3
    assert x.size() == (2, 3, 4)
    assert x.size(1) == 3 and x.size(-1) == 4
    assert x.dim() == 3 and x.ndim == 3
    assert x.numel() == 24
    assert rg.numel(x) == 24
    s = rg.tensor(1.0)
    assert s.shape == () and s.dim() == 0 and s.numel() == 1


def test_size_slices_and_sums_stay_sizes_as_torch():
    torch = pytest.importorskip("torch")
    cases = [
        lambda lib: lib.zeros(2, 3, 4).shape[1:],
        lambda lib: lib.Size([2, 3])[::-1],
        lambda lib: lib.Size([2, 3]) + (4,),
        lambda lib: (1,) + lib.Size([2, 3]),
        lambda lib: lib.Size([2, 3]) * 2,
        lambda lib: 2 * lib.Size([2]),
        lambda lib: lib.Size([2, 3]) + lib.Size([4]),
        lambda lib: lib.Size([2, 3])[0],
    ]
    for case in cases:
        ours, theirs = case(rg), case(torch)
        assert type(ours).__name__ == type(theirs).__name__ and ours == theirs
        assert repr(ours).replace("rustgrad.", "torch.") == repr(theirs)
    with pytest.raises(TypeError) as theirs:
        torch.Size([2]) + [1]
    with raises(TypeError, str(theirs.value).replace("torch.", "rustgrad.")):
        rg.Size([2]) + [1]


def test_broadcast_tensors_returns_inputs_already_of_the_shape():
    a = rg.ones(2, requires_grad=True)
    x, _ = rg.broadcast_tensors(a, rg.ones(2))
    assert x is a and x.is_leaf
    x, _ = rg.broadcast_tensors(a, rg.ones(3, 2))
    assert x is not a and node_name(x.grad_fn) == "ExpandBackward0" and tuple(x.shape) == (3, 2)


def test_dtype_device():
    x = rg.ones(2)
    assert x.dtype == rg.float32 and x.dtype != rg.float64
    assert rg.float == rg.float32 and rg.double == rg.float64 and rg.long == rg.int64
    assert x.device.type == "cpu"
    assert str(x.device) == "cpu"
    assert x.is_cuda is False


def test_item_tolist():
    t = rg.tensor([1.5, 2.0])
    v = t[0].item()
    assert v == 1.5 and isinstance(v, float)
    i = rg.tensor(3).item()
    assert i == 3 and isinstance(i, int)
    b = rg.tensor(True).item()
    assert b is True
    assert rg.tensor([[1.0]]).item() == 1.0
    assert t.tolist() == [1.5, 2.0]
    assert rg.tensor(2.0).tolist() == 2.0
    assert rg.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert rg.tensor([True, False]).tolist() == [True, False]


def test_numpy_shares_memory():
    t = rg.tensor([1.0, 2.0, 3.0])
    a = t.numpy()
    assert isinstance(a, np.ndarray) and a.dtype == np.float32
    a[0] = 5.0
    assert t[0].item() == 5.0
    t.mul_(2)
    assert a.tolist() == [10.0, 4.0, 6.0]
    # A view's array sees the base's strides.
    m = rg.arange(6, dtype=rg.float64).view(2, 3)
    assert_close(m.t().numpy(), np.arange(6.0).reshape(2, 3).T)
    assert rg.tensor([1, 2]).numpy().dtype == np.int64
    assert rg.tensor([True]).numpy().dtype == np.bool_


def test_array_protocol():
    t = rg.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=rg.float64)
    a = np.asarray(t)
    assert a.dtype == np.float64 and a.shape == (2, 2)
    assert_close(a, [[1.0, 2.0], [3.0, 4.0]])
    assert np.array(rg.tensor([1, 2])).dtype == np.int64
    assert_close(np.exp(rg.tensor([0.0, 1.0])), np.exp([0.0, 1.0]), rtol=1e-6)


def test_len_iter():
    x = rg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    assert len(x) == 3
    rows = list(x)
    assert len(rows) == 3 and all(isinstance(r, rg.Tensor) for r in rows)
    assert [r.tolist() for r in rows] == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    assert [v.item() for v in rg.tensor([7.0, 8.0])] == [7.0, 8.0]


def test_iter_keeps_graph():
    x = rg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    total = sum(v * v for v in x)
    total.backward()
    assert_close(x.grad, [2.0, 4.0, 6.0])


def test_python_number_conversions():
    assert float(rg.tensor([2.5])) == 2.5
    assert int(rg.tensor(3)) == 3
    assert bool(rg.tensor([1.0])) is True


def test_float_double_to():
    x = rg.tensor([1, 2])
    assert x.float().dtype == rg.float32
    assert x.double().dtype == rg.float64
    assert x.to(rg.float64).dtype == rg.float64
    assert x.to(rg.float64).tolist() == [1.0, 2.0]
    f = rg.tensor([1.0, 2.0])
    assert f.float() is f and f.to(rg.float32) is f


def test_dtype_conversion_is_differentiable():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = x.double()
    assert y.dtype == rg.float64 and y.requires_grad
    (y * y).sum().backward()
    assert x.grad.dtype == rg.float32
    assert_close(x.grad, [2.0, 4.0])


def test_repr():
    assert repr(rg.tensor([1.0, 2.0, 3.0])) == "tensor([1., 2., 3.])"
    assert repr(rg.tensor([1, 2, 3])) == "tensor([1, 2, 3])"
    assert repr(rg.tensor(2.0)) == "tensor(2.)"
    assert repr(rg.tensor([1.5, 2.25])) == "tensor([1.5000, 2.2500])"
    assert repr(rg.tensor([[1.0, 2.0], [3.0, 4.0]])) == "tensor([[1., 2.],\n        [3., 4.]])"
    x = rg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2., 3.], requires_grad=True)"
    z = x + rg.tensor([4.0, 5.0, 6.0])
    assert repr(z) == "tensor([5., 7., 9.], grad_fn=<AddBackward0>)"
    assert repr(z.sum()) == "tensor(21., grad_fn=<SumBackward0>)"


# ---------------------------------------------------------------- grad_fn nodes


def test_grad_fn_repr_name_next_functions():
    x = rg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = rg.tensor([4.0, 5.0, 6.0], requires_grad=True)
    z = x + y
    assert re.fullmatch(r"<AddBackward0 object at 0x[0-9a-fA-F]+>", repr(z.grad_fn))
    assert z.grad_fn.name() == "AddBackward0"
    nf = z.grad_fn.next_functions
    assert isinstance(nf, tuple) and len(nf) == 2
    (acc_x, ix), (acc_y, iy) = nf
    assert ix == 0 and iy == 0
    assert re.fullmatch(r"<AccumulateGrad object at 0x[0-9a-fA-F]+>", repr(acc_x))
    assert node_name(acc_x) == "AccumulateGrad"
    assert acc_x.next_functions == ()
    # .variable is the leaf itself: same values, same storage, same .grad after backward.
    leaf = acc_y.variable
    assert leaf.is_leaf and leaf.requires_grad and leaf.tolist() == [4.0, 5.0, 6.0]
    with rg.no_grad():
        leaf.mul_(2)
    assert y.tolist() == [8.0, 10.0, 12.0]
    (x * y).sum().backward()
    assert_close(acc_x.variable.grad, x.grad)
    assert_close(acc_x.variable.grad, [8.0, 10.0, 12.0])
    s = z.sum()
    assert s.grad_fn.name() == "SumBackward0"
    assert s.grad_fn.next_functions[0][0].name() == "AddBackward0"
    assert x.grad_fn is None


def test_grad_fn_class_is_named_after_its_node_as_torch():
    """``type(t.grad_fn)`` is a class of the node's name (PyTorch's ``MulBackward0``), one per
    name, a subclass of ``autograd.graph.Node``, not constructible."""
    torch = pytest.importorskip("torch")
    for lib in (rg, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        z = (y.exp() + 1).sum()
        assert type(y.grad_fn).__name__ == "MulBackward0"
        assert repr(type(y.grad_fn)) == "<class 'MulBackward0'>"
        assert type(z.grad_fn).__name__ == "SumBackward0"
        add_node = z.grad_fn.next_functions[0][0]
        assert type(add_node).__name__ == "AddBackward0"
        assert type(add_node.next_functions[0][0]).__name__ == "ExpBackward0"
        assert type((x * 3).grad_fn) is type(y.grad_fn)
        assert type(x.exp().grad_fn) is not type(y.grad_fn)
        assert isinstance(y.grad_fn, lib.autograd.graph.Node)
        with raises(TypeError, "cannot create 'MulBackward0' instances"):
            type(y.grad_fn)()
    for lib in (rg, torch):
        # the abstract class, of which AccumulateGrad counts as a subclass too
        with raises(TypeError, "Can't instantiate abstract class Node"):
            lib.autograd.graph.Node()
        x = lib.tensor([1.0], requires_grad=True)
        acc = (x * 2).grad_fn.next_functions[0][0]
        assert isinstance(acc, lib.autograd.graph.Node)
        assert issubclass(type((x * 2).grad_fn), lib.autograd.graph.Node)
        assert not isinstance(x, lib.autograd.graph.Node)
    with raises(TypeError, "cannot create 'Node' instances"):
        rg._core.Node()
    # one object per node while it lives (traversals deduplicate by id(), as torchviz does)
    for lib in (rg, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2 + x
        assert y.grad_fn is y.grad_fn
        mul = y.grad_fn.next_functions[0][0]
        assert mul is y.grad_fn.next_functions[0][0]
        acc = mul.next_functions[0][0]
        assert acc is y.grad_fn.next_functions[1][0] and acc.variable is x
        seen, stack = set(), [y.grad_fn]
        while stack:
            fn = stack.pop()
            if fn is not None and id(fn) not in seen:
                seen.add(id(fn))
                stack.extend(f for f, _ in fn.next_functions)
        assert len(seen) == 3  # Add, Mul, AccumulateGrad

    # a custom Function's node is named after it
    class Twice(rg.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    assert type(Twice.apply(rg.ones(2, requires_grad=True)).grad_fn).__name__ == "TwiceBackward"


def test_grad_fn_constant_input_is_none():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = x * rg.tensor([3.0, 4.0])
    assert y.grad_fn.name() == "MulBackward0"
    (acc, _), (const, idx) = y.grad_fn.next_functions
    assert node_name(acc) == "AccumulateGrad"
    assert const is None and idx == 0


def test_grad_fn_identity_is_stable():
    x = rg.tensor([1.0], requires_grad=True)
    y = x * 2
    z1 = y + 1
    z2 = y - 1
    n1 = z1.grad_fn.next_functions[0][0]
    n2 = z2.grad_fn.next_functions[0][0]
    assert n1.name() == n2.name() == "MulBackward0"
    assert n1 == n2 and n1 == y.grad_fn


def test_accumulate_grad_variable_is_the_same_object():
    # PyTorch hands back the very Python object of the leaf.
    x = rg.tensor([1.0], requires_grad=True)
    acc1 = (x * 2).grad_fn.next_functions[0][0]
    acc2 = (x + 1).grad_fn.next_functions[0][0]
    assert acc1.variable is x and acc2.variable is x


# ---------------------------------------------------------------- comparisons, max/min


@pytest.mark.parametrize(
    "op,expected",
    [
        (lambda a, b: a == b, [False, True, False]),
        (lambda a, b: a != b, [True, False, True]),
        (lambda a, b: a < b, [True, False, False]),
        (lambda a, b: a <= b, [True, True, False]),
        (lambda a, b: a > b, [False, False, True]),
        (lambda a, b: a >= b, [False, True, True]),
    ],
    ids=["eq", "ne", "lt", "le", "gt", "ge"],
)
def test_comparisons(op, expected):
    a = rg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = rg.tensor([2.0, 2.0, 2.0], requires_grad=True)
    for r in (op(a, b), op(a, 2.0), op(a, rg.tensor(2.0))):
        assert r.dtype == rg.bool
        assert r.tolist() == expected
        assert not r.requires_grad and r.grad_fn is None


def test_comparison_methods_and_broadcast():
    a = rg.tensor([[1.0], [3.0]])
    b = rg.tensor([1.0, 2.0, 3.0])
    assert a.gt(b).tolist() == [[False, False, False], [True, True, False]]
    assert a.eq(b).shape == (2, 3)
    assert rg.le(a, b).dtype == rg.bool
    assert (2.0 < b).tolist() == [False, False, True]


def test_max_min_with_dim():
    x = rg.tensor([[1.0, 5.0, 3.0], [7.0, 2.0, 0.0]], requires_grad=True)
    out = x.max(dim=1)
    assert out.values.tolist() == [5.0, 7.0]
    assert out.indices.tolist() == [1, 0]
    assert out.indices.dtype == rg.int64
    values, indices = x.min(0)
    assert values.tolist() == [1.0, 2.0, 0.0] and indices.tolist() == [0, 1, 1]
    assert out[0].tolist() == [5.0, 7.0] and out[1].tolist() == [1, 0]
    assert len(out) == 2
    keep = x.max(1, keepdim=True)
    assert keep.values.shape == (2, 1) and keep.indices.shape == (2, 1)
    assert values.requires_grad and not indices.requires_grad
    assert x.max().item() == 7.0 and x.min().item() == 0.0
    assert x.max().shape == ()
    out.values.sum().backward()
    assert_close(x.grad, [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])


def test_argmax_argmin():
    x = rg.tensor([[1.0, 5.0, 3.0], [7.0, 2.0, 0.0]])
    a = x.argmax()
    assert a.dtype == rg.int64 and a.shape == () and a.item() == 3
    assert x.argmin().item() == 5
    assert x.argmax(dim=1).tolist() == [1, 0]
    assert x.argmin(dim=0).tolist() == [0, 1, 1]
    assert x.argmax(1, keepdim=True).shape == (2, 1)
    assert rg.argmax(x, 0).tolist() == [1, 0, 0]
    assert rg.tensor([2.0, 2.0, 1.0]).argmax().item() == 0  # first of ties


# ---------------------------------------------------------------- views


def test_views_share_storage():
    base = rg.zeros(2, 3)
    views = [
        base.view(6),
        base.reshape(3, 2),
        base.flatten(),
        base.t(),
        base.T,
        base.transpose(0, 1),
        base.permute(1, 0),
        base.unsqueeze(0),
        base[None].squeeze(0),
        base[1],
        base[:, ::2],
        base[..., 1:],
        base[0].expand(4, 3),
    ]
    base.add_(1.0)
    for v in views:
        assert (v.numpy() == 1.0).all()
    base[1, 2] = 7.0
    assert views[0][5].item() == 7.0
    assert views[3][2, 1].item() == 7.0
    assert views[9][2].item() == 7.0
    views[10][0, 1] = -1.0  # writes through a strided view
    assert base[0, 2].item() == -1.0


@pytest.mark.parametrize(
    "view",
    [lambda b: b, lambda b: b[1], lambda b: b[1:, 2:], lambda b: b.t()[2], lambda b: b[1][3:]],
)
def test_storage_offset_as_torch(view):
    torch = pytest.importorskip("torch")
    got = view(rg.arange(20.0).reshape(4, 5)).storage_offset()
    assert got == view(torch.arange(20.0).reshape(4, 5)).storage_offset()


def test_view_modified_in_place_under_no_grad():
    x = rg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    v = x.view(4)
    with rg.no_grad():
        x.mul_(10)
    assert v.tolist() == [10.0, 20.0, 30.0, 40.0]


def test_view_errors_on_incompatible_strides():
    x = rg.zeros(2, 3)
    with raises(RuntimeError, "view size is not compatible with input tensor's size and stride"):
        x.t().view(6)
    # reshape copies instead
    assert x.t().reshape(6).shape == (6,)


def test_view_infers_minus_one():
    x = rg.arange(24).view(2, 3, 4)
    assert x.view(-1).shape == (24,)
    assert x.view(4, -1).shape == (4, 6)
    assert x.view(-1, 2, 3).shape == (4, 2, 3)
    assert x.reshape(-1, 8).shape == (3, 8)
    assert x.view(2, -1, 4).tolist() == x.tolist()


def test_view_follows_strides_not_contiguity():
    y = rg.zeros(2, 3, 4).transpose(0, 1)  # (3, 2, 4), strides (4, 12, 1)
    assert not y.is_contiguous()
    assert y.view(3, 2, 2, 2).shape == (3, 2, 2, 2)  # splitting a dim is always fine
    assert y.view(3, 2, 4, 1).shape == (3, 2, 4, 1)
    with raises(RuntimeError, "view size is not compatible"):
        y.view(3, 8)  # merges dims whose strides don't line up
    assert rg.zeros(4, 6)[:, :3].view(4, 3, 1).shape == (4, 3, 1)


def test_is_contiguous_and_contiguous():
    x = rg.arange(6.0).view(2, 3)
    assert x.is_contiguous()
    assert x.contiguous() is x
    t = x.t()
    assert not t.is_contiguous()
    c = t.contiguous()
    assert c.is_contiguous() and c.tolist() == t.tolist()
    assert c.view(6).tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    assert not x[:, ::2].is_contiguous()
    assert x[1].is_contiguous()
    assert not x[:, 0].is_contiguous()


def test_shape_ops_shapes():
    x = rg.zeros(1, 3, 1, 2)
    assert x.squeeze().shape == (3, 2)
    assert x.squeeze(0).shape == (3, 1, 2)
    assert x.squeeze(1).shape == (1, 3, 1, 2)
    assert x.unsqueeze(-1).shape == (1, 3, 1, 2, 1)
    assert x.flatten(1).shape == (1, 6)
    assert x.permute(3, 2, 1, 0).shape == (2, 1, 3, 1)
    assert x.transpose(1, 3).shape == (1, 2, 1, 3)
    assert rg.zeros(3, 1).expand(3, 4).shape == (3, 4)
    assert rg.zeros(3).expand(2, 3).shape == (2, 3)
    assert rg.zeros(3).t().shape == (3,)


def test_indexing_values():
    x = rg.arange(20).view(4, 5)
    a = np.arange(20).reshape(4, 5)
    for idx in [
        1,
        -1,
        (1, 2),
        slice(1, 3),
        (slice(None), slice(None, None, 2)),
        (Ellipsis, 1),
        (None,),
        (slice(None), None, 0),
        [0, 2, 0],
        (slice(1, None), [4, 4]),
    ]:
        assert x[idx].tolist() == a[idx].tolist(), idx
    assert x[rg.tensor([3, 0, 3])].tolist() == a[[3, 0, 3]].tolist()
    assert x[rg.tensor([-1])].tolist() == a[[-1]].tolist()


def test_ranges_and_tuples_inside_an_index_are_index_tensors_as_pytorch():
    """PyTorch takes any sequence inside the key (``x[range(n), target]`` in the "What is
    torch.nn really?" tutorial, ``x[(0, 1),]``) as an index tensor, in reads and writes."""
    torch = pytest.importorskip("torch")
    keys = [
        lambda t: (range(3), t),
        lambda t: range(2),
        lambda t: ((0, 2),),
        lambda t: (slice(None), (3, 1)),
        lambda t: ((0, 1), range(2, 4)),
    ]
    for key in keys:
        outs = []
        for lib in (rg, torch):
            x = lib.arange(12.0).view(3, 4)
            k = key(lib.tensor([1, 0, 3]))
            read = x[k].tolist()
            x[k] = -1.0
            outs.append((read, x.tolist()))
        assert outs[0] == outs[1]
    with pytest.raises(IndexError):
        rg.zeros(3)[(0.5,),]


def test_setitem_values():
    x = rg.zeros(3, 4)
    x[0] = 1.0
    x[1, 1:] = rg.tensor([2.0, 3.0, 4.0])
    x[:, 0] = rg.tensor([7.0, 8.0, 9.0])
    x[2, ::2] = 5.0
    assert x.tolist() == [
        [7.0, 1.0, 1.0, 1.0],
        [8.0, 2.0, 3.0, 4.0],
        [5.0, 0.0, 5.0, 0.0],
    ]


# ---------------------------------------------------------------- CUDA queries


# More in test_cuda.py.
@pytest.mark.skipif(rg.cuda.is_available(), reason="a CUDA device is available")
def test_cuda_queries_without_gpu():
    assert rg.cuda.is_available() is False
    assert rg.cuda.device_count() == 0


@pytest.mark.skipif(rg.cuda.is_available(), reason="a CUDA device is available")
def test_cuda_method_raises_when_unavailable():
    with raises(RuntimeError, rg._core._cuda_unavailable_reason()):
        rg.tensor([1.0]).cuda()


def test_size_takes_ints_and_refuses_other_items_as_pytorch():
    import torch

    assert rg.Size([True, np.int64(3), rg.tensor(4)]) == torch.Size([True, np.int64(3), 4])
    for bad in ([2, "a"], [2, 3.0], [None]):
        try:
            torch.Size(bad)
        except (TypeError, ValueError) as e:
            expected = e
        with raises(type(expected), str(expected).replace("torch.", "")):
            rg.Size(bad)
    assert type(rg.ones(2, 3).shape) is rg.Size and rg.ones(2, 3).shape == (2, 3)


def test_broadcast_tensors_refuses_a_list_as_pytorch():
    import torch

    with pytest.raises(TypeError) as theirs:
        torch.broadcast_tensors([torch.ones(2), torch.ones(1)])
    with raises(TypeError, str(theirs.value)):
        rg.broadcast_tensors([rg.ones(2), rg.ones(1)])


def test_where_with_the_condition_alone_gives_nonzero_indices_as_pytorch():
    torch = pytest.importorskip("torch")
    for values in ([0, 3, 0, 4], [[True, False], [False, True]], []):
        ours = rg.where(rg.tensor(values))
        theirs = torch.where(torch.tensor(values))
        assert isinstance(ours, tuple) and [t.tolist() for t in ours] == [
            t.tolist() for t in theirs
        ]


def test_memory_formats_as_pytorch():
    """``channels_last`` layouts: strides, contiguity checks, ``to``/``contiguous``/``clone``
    and ``Module.to(memory_format=...)`` as PyTorch's; values and gradients unchanged."""
    torch = pytest.importorskip("torch")
    results = []
    for lib in (rg, torch):
        x = lib.arange(48.0).reshape(2, 2, 3, 4).requires_grad_()
        y = x.contiguous(memory_format=lib.channels_last)
        z = lib.arange(120.0).reshape(1, 2, 3, 4, 5).to(memory_format=lib.channels_last_3d)
        conv = lib.nn.Conv2d(2, 3, 2).to(memory_format=lib.channels_last)
        (y * lib.arange(48.0).reshape(2, 2, 3, 4)).sum().backward()
        results.append(
            (
                y.stride(),
                y.is_contiguous(),
                y.is_contiguous(memory_format=lib.channels_last),
                x.is_contiguous(memory_format=lib.channels_last),
                y.clone().stride(),
                y.clone(memory_format=lib.contiguous_format).stride(),
                y.to(memory_format=lib.contiguous_format).stride(),
                z.stride(),
                conv.weight.stride(),
                isinstance(conv.weight, lib.nn.Parameter),
                conv.bias.stride(),
                y.tolist() == x.tolist(),
                x.grad.tolist(),
                str(lib.channels_last).split(".")[-1],
            )
        )
    assert results[0] == results[1]
    with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last format"):
        rg.ones(3).contiguous(memory_format=rg.channels_last)
    # preserve_format: PyTorch returns a contiguous tensor itself and refuses the others; the
    # check with it is the plain one
    for lib in (rg, torch):
        x = lib.ones(2, 3)
        assert x.contiguous(memory_format=lib.preserve_format) is x
        assert x.t().is_contiguous(memory_format=lib.preserve_format) is False
        with pytest.raises(RuntimeError, match="preserve memory format is unsupported"):
            x.t().contiguous(memory_format=lib.preserve_format)


AUTOGRAD_ATTRIBUTE_MISUSES = {
    "int_data_on_a_leaf_needing_grad": lambda lib: setattr(
        lib.tensor([1.0, 2.0], requires_grad=True), "data", lib.tensor([5, 6])
    ),
    "requires_grad_attribute_on_a_non_leaf": lambda lib: setattr(
        lib.ones(2, requires_grad=True) * 2, "requires_grad", True
    ),
    "requires_grad_method_on_a_non_leaf": lambda lib: (
        (lib.ones(2, requires_grad=True) * 2).requires_grad_(True).requires_grad
    ),
    "requires_grad_false_on_a_non_leaf": lambda lib: setattr(
        lib.ones(2, requires_grad=True) * 2, "requires_grad", False
    ),
    "detach_of_a_view": lambda lib: lib.ones(2, requires_grad=True)[0:1].detach_().requires_grad,
    "detach_of_a_non_view": lambda lib: (lib.ones(2, requires_grad=True) * 2).detach_().is_leaf,
}


@pytest.mark.parametrize("case", sorted(AUTOGRAD_ATTRIBUTE_MISUSES))
def test_autograd_attribute_misuse_as_torch(case):
    from conftest import outcome

    torch = pytest.importorskip("torch")
    run = AUTOGRAD_ATTRIBUTE_MISUSES[case]
    assert outcome(run, rg) == outcome(run, torch)
