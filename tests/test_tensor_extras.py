"""Logical operators, deepcopy, `empty`, and optimizer steps on non-contiguous parameters."""

import copy

import numpy as np
import pytest
import rustgrad as rg


def test_logical_operators_on_bool_tensors():
    a = rg.tensor([True, False, True, False])
    b = rg.tensor([True, True, False, False])
    assert (a & b).tolist() == [True, False, False, False]
    assert (a | b).tolist() == [True, True, True, False]
    assert (a ^ b).tolist() == [False, True, True, False]
    assert (~a).tolist() == [False, True, False, True]
    assert (a & True).tolist() == a.tolist()
    assert (False | a).tolist() == a.tolist()
    x = rg.tensor([1.0, -2.0, 3.0])
    assert ((x > 0) & (x < 2)).tolist() == [True, False, False]


def test_bitwise_operators_on_integers_reject_floats():
    # integers take PyTorch's bitwise ops (tests/test_tensor_new_bitwise.py); floats refuse
    assert (rg.tensor([1, 2]) & rg.tensor([1, 0])).tolist() == [1, 0]
    with pytest.raises(TypeError):
        ~rg.tensor([1.0])
    with pytest.raises(NotImplementedError):
        rg.tensor([1.0]) & rg.tensor([1.0])


def test_deepcopy_copies_data_requires_grad_and_grad():
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    y = copy.deepcopy(x)
    assert y is not x and y.requires_grad and y.is_leaf
    assert y.tolist() == x.tolist() and y.grad.tolist() == [3.0, 3.0]
    with rg.no_grad():
        y.add_(1.0)
    assert x.tolist() == [1.0, 2.0], "the copy must not share storage"
    model = rg.nn.Sequential(rg.nn.Linear(2, 3), rg.nn.ReLU())
    clone = copy.deepcopy(model)
    np.testing.assert_array_equal(
        clone[0].weight.detach().numpy(), model[0].weight.detach().numpy()
    )
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(x * 2)


def test_empty_has_the_requested_shape():
    e = rg.empty(2, 3, dtype=rg.float64)
    assert e.shape == (2, 3) and e.dtype == rg.float64


def test_sgd_and_adam_step_non_contiguous_parameters():
    base = rg.arange(12.0, dtype=rg.float64).view(4, 3)
    for opt_cls, kwargs in (
        (rg.optim.SGD, {"lr": 0.1, "momentum": 0.9}),
        (rg.optim.Adam, {"lr": 0.1}),
    ):
        p = base.clone().t().requires_grad_()  # a transposed, non-contiguous leaf
        assert not p.is_contiguous()
        q = p.detach().contiguous().requires_grad_()
        g = rg.arange(12.0, dtype=rg.float64).view(3, 4) / 10
        p.grad, q.grad = g.clone(), g.clone()
        opt_p, opt_q = opt_cls([p], **kwargs), opt_cls([q], **kwargs)
        for _ in range(3):
            opt_p.step()
            opt_q.step()
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-15)


@pytest.mark.parametrize(
    "key",
    [
        lambda m: (m.tensor([0, 2, 2]), m.tensor([1, 0, 1])),
        lambda m: (slice(None), m.tensor([[0], [1]]), m.tensor([2, 0, 2])),
        lambda m: ([1, 0], [3, 3]),
        # A bool mask beside another tensor index stands for its nonzero() coordinates.
        lambda m: (m.tensor([True, False, True]), m.tensor([1, 3])),
        lambda m: (m.tensor([0, 2]), m.tensor([True, False, True, False])),
        lambda m: (
            m.tensor([[True, False, True, False]] * 2 + [[False] * 4]),
            m.tensor([4, 0, 1, 2]),
        ),
        lambda m: (slice(None), m.tensor([False, True, True, False]), m.tensor([[0], [3]])),
    ],
    ids=[
        "two-vectors",
        "slice-then-broadcast-pair",
        "two-lists",
        "mask-then-index",
        "index-then-mask",
        "2d-mask-then-index",
        "slice-mask-broadcast",
    ],
)
def test_several_tensor_indices_match_torch(key):
    torch = pytest.importorskip("torch")
    data = np.random.default_rng(0).standard_normal((3, 4, 5))
    x = rg.tensor(data, requires_grad=True)
    t = torch.tensor(data, requires_grad=True)
    y, u = x[key(rg)], t[key(torch)]
    assert tuple(y.shape) == tuple(u.shape)
    np.testing.assert_allclose(y.detach().numpy(), u.detach().numpy())
    w = np.random.default_rng(1).standard_normal(tuple(u.shape))
    (y * rg.tensor(w)).sum().backward()
    (u * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy())  # repeated indices add up


def test_setitem_with_two_tensor_indices():
    x = rg.zeros(3, 4)
    x[rg.tensor([0, 2]), rg.tensor([1, 3])] = rg.tensor([5.0, 7.0])
    assert x.tolist() == [[0, 5, 0, 0], [0, 0, 0, 0], [0, 0, 0, 7]]
    # separated by a slice: the indexed dims go to the front (tests/test_indexing.py)
    assert tuple(rg.zeros(3, 4, 5)[rg.tensor([0]), :, rg.tensor([1])].shape) == (1, 4)
    y = rg.zeros(3, 4)
    y[rg.tensor([True, False, True]), rg.tensor([1, 3])] = rg.tensor([5.0, 7.0])
    assert y.tolist() == x.tolist()


def test_mask_beside_an_index_checks_its_shape_as_torch():
    torch = pytest.importorskip("torch")
    messages = []
    for m in (rg, torch):
        with pytest.raises(IndexError) as info:
            m.zeros(3, 4)[m.tensor([True, False]), m.tensor([1])]
        messages.append(str(info.value))
        with pytest.raises(IndexError) as info:
            m.zeros(3, 4, 5)[:, m.ones(4, 3, dtype=m.bool)]
        messages.append(str(info.value))
    assert messages[:2] == messages[2:]
