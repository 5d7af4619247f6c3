"""Tensor-level edge cases an outside tester found, run side by side with PyTorch: each
snippet runs on both libraries, and the outcome must agree — the value (dtype, shape and
elements) or the exception (type and words)."""

import io

import numpy as np
import pytest
import rustgrad as rg

torch = pytest.importorskip("torch")


def _outcome(snippet, lib):
    try:
        out = snippet(lib)
    except Exception as err:  # noqa: BLE001 (the outcome is compared)
        return ("raised", type(err).__name__, str(err).replace("rustgrad", "torch"))
    outs = out if isinstance(out, tuple) else (out,)
    values = []
    for o in outs:
        if isinstance(o, (rg.Tensor, torch.Tensor)):
            dtype = str(o.dtype).split(".")[-1]
            o = o.detach().cpu()
            o = o.float() if dtype == "bfloat16" else o  # (NumPy has no bfloat16)
            values.append((dtype, tuple(o.shape), o.numpy().tolist()))
        else:
            values.append(o)
    return ("value", values)


def _u8(m, values):
    return m.tensor(values, dtype=m.uint8)


def _masked_write(m, x, value):
    x[x == 0] = m.tensor(value)
    return x


SNIPPETS = {
    # reductions and dims
    "all-empty-dims": lambda m: m.all(m.tensor([[1.0, 0.0], [2.0, 3.0]]), dim=[]),
    "any-empty-dims": lambda m: m.any(m.tensor([[1.0, 0.0], [2.0, 3.0]]), dim=[]),
    "all-empty-dims-uint8": lambda m: m.all(m.zeros(2, 3, dtype=m.uint8), dim=[]),
    "all-empty-dims-size-0": lambda m: m.all(m.zeros(0, 3), dim=[]),
    "sum-repeated-dim-0d": lambda m: m.tensor(1.0).sum((0, 0)),
    "mean-repeated-dim-0d": lambda m: m.tensor(1.0).mean((0, -1)),
    "count-nonzero-repeated-dim-0d": lambda m: m.tensor(1.0).count_nonzero((0, 0)),
    "squeeze-repeated-dim": lambda m: m.zeros(1, 3).squeeze((0, -2)),
    "cummax-dim-1-of-0d": lambda m: m.tensor(5.0).cummax(1),
    "cummin-dim-0-of-0d": lambda m: m.tensor(5.0).cummin(-1),
    "logcumsumexp-dim-1-of-0d": lambda m: m.tensor(5.0).logcumsumexp(1),
    "flatten-dim-1-of-0d": lambda m: m.tensor(5.0).flatten(1),
    "flatten-dims-0-1-of-0d": lambda m: m.flatten(m.tensor(5.0), 0, 1),
    "roll-dim-of-0d": lambda m: m.tensor(5.0).roll(1, 0),
    "roll-no-dim-of-0d": lambda m: m.tensor(5.0).roll(1),
    "roll-unaligned-empty": lambda m: m.zeros(2, 0, 3).roll((1,), (0, 1)),
    "repeat-negative-0d": lambda m: m.tensor(5.0).repeat(-1, 1, 1),
    "repeat-negative": lambda m: m.ones(2).repeat(-1),
    "quantile-empty-dim": lambda m: m.quantile(m.zeros(0, 3), m.tensor([0.5]), dim=1),
    "nanquantile-empty": lambda m: m.nanquantile(m.zeros(0), 0.5),
    "quantile-half": lambda m: m.quantile(m.tensor([1.0, 2.0], dtype=m.float16), 0.5),
    "quantile-interpolation": lambda m: m.quantile(m.ones(3), 0.5, interpolation="x"),
    # creation
    "arange-end-keyword": lambda m: m.arange(end=3),
    "linspace-uint8-negative-start": lambda m: m.linspace(-1, 1, 7, dtype=m.uint8),
    "linspace-int8": lambda m: m.linspace(-100, 100, 9, dtype=m.int8),
    "linspace-int64": lambda m: m.linspace(-3, 10, 6, dtype=m.int64),
    "linspace-int32-float-bounds": lambda m: m.linspace(-2.7, 9.9, 5, dtype=m.int32),
    "linspace-bool": lambda m: m.linspace(0, 1, 5, dtype=m.bool),
    "arange-to-nan": lambda m: m.arange(0, float("nan")),
    "arange-to-inf": lambda m: m.arange(0, float("inf")),
    "arange-from-minus-inf": lambda m: m.arange(float("-inf"), 0),
    "arange-nan-step": lambda m: m.arange(0, 5, float("nan")),
    "tensor-int-beyond-int64-as-float64": lambda m: m.tensor(2**63, dtype=m.float64),
    "tensor-ints-beyond-int64-as-float32": lambda m: m.tensor([2**64, 1], dtype=m.float32),
    "tensor-int-beyond-int64-as-bool": lambda m: m.tensor(2**63, dtype=m.bool),
    "tensor-int-beyond-int64": lambda m: m.tensor([2**63]),
    "tensor-int-beyond-int64-as-int32": lambda m: m.tensor([2**63], dtype=m.int32),
    "randint-past-uint8": lambda m: m.randint(0, 300, (2,), dtype=m.uint8),
    "randint-below-uint8": lambda m: m.randint(-1, 5, (2,), dtype=m.uint8),
    "randint-past-half": lambda m: m.randint(0, 70000, (2,), dtype=m.float16),
    "random_-past-int8": lambda m: m.zeros(2, dtype=m.int8).random_(0, 129),
    "random_-past-bool": lambda m: m.zeros(2, dtype=m.bool).random_(0, 3),
    "randint-int8-edge": lambda m: m.randint(-128, 128, (0,), dtype=m.int8),
    # indexing and conversion
    "index-0d-with-int": lambda m: m.tensor(1.0)[0],
    "index-0d-with-slice": lambda m: m.tensor(1.0)[:1],
    "index-0d-with-two": lambda m: m.tensor(1.0)[None, 0],
    "slice-step-zero": lambda m: m.ones(3)[::0],
    "slice-step-negative": lambda m: m.ones(3)[::-1],
    "size-minus-1-of-0d": lambda m: m.tensor(1.0).size(-1),
    "size-1-of-0d": lambda m: m.tensor(1.0).size(1),
    "stride-minus-1-of-0d": lambda m: m.tensor(1.0).stride(-1),
    "slice-beyond-int64": lambda m: m.arange(3.0)[-(2**70) : 2**70],
    "slice-start-beyond-int64": lambda m: m.arange(3.0)[2**64 :],
    "contains-matrix": lambda m: 3 in m.arange(6.0).reshape(2, 3),
    "contains-0d": lambda m: 3 in m.tensor(3),
    "contains-missing": lambda m: 7 in m.arange(6),
    "contains-str": lambda m: "a" in m.ones(2),
    "to-python-float": lambda m: m.ones(2).to(float),
    "to-python-int": lambda m: m.ones(2).to(int),
    "to-python-bool": lambda m: m.ones(2).to(bool),
    "to-python-float-keyword": lambda m: m.ones(2, dtype=m.int32).to(dtype=float),
    "attribute-typo": lambda m: m.ones(2).sizee,
    "operand-none": lambda m: m.ones(2) + None,
    "no-round-method": lambda m: round(m.ones(2), 1.5),
    # what kind of tensor
    "layout": lambda m: repr(m.ones(2).layout).replace("rustgrad", "torch"),
    "is-kinds": lambda m: [
        getattr(m.ones(2), k)
        for k in (
            "is_sparse",
            "is_quantized",
            "is_nested",
            "is_mkldnn",
            "is_mps",
            "is_xpu",
            "is_sparse_csr",
        )
    ],
    "is_shared": lambda m: m.ones(2).is_shared(),
    "output_nr-of-a-leaf": lambda m: m.ones(2, requires_grad=True).output_nr,
    "typename-tensor": lambda m: m.typename(m.ones(1, dtype=m.int32)).replace("rustgrad", "torch"),
    "typename-number": lambda m: m.typename(3),
    "typename-class": lambda m: m.typename(int),
    "broadcast-two-mismatches": lambda m: m.ones(2, 3) + m.ones(3, 2),
    "broadcast-three-dims": lambda m: m.ones(1, 2, 3) + m.ones(4, 5, 3),
    # PyTorch's words
    "min-empty-dim": lambda m: m.zeros(0, 3).min(0),
    "argmin-empty-dim": lambda m: m.zeros(0, 3).argmin(0),
    "argmax-empty-dim": lambda m: m.zeros(3, 0).argmax(-1),
    "max-empty-dim-wrapped": lambda m: m.zeros(3, 0).max(-1),
    "amin-empty-dim-as-given": lambda m: m.zeros(3, 0).amin(-1),
    "amax-empty-dim-as-given": lambda m: m.amax(m.zeros(2, 0), dim=-1),
    "norm-of-bool": lambda m: m.tensor([True]).norm(),
    "nanmean-of-uint8": lambda m: m.zeros(2, dtype=m.uint8).nanmean(),
    "logcumsumexp-of-int32": lambda m: m.ones(2, dtype=m.int32).logcumsumexp(0),
    "var_mean-of-int": lambda m: m.var_mean(m.ones(2, dtype=m.int64)),
    "std_mean-of-int": lambda m: m.std_mean(m.ones(2, dtype=m.int64)),
    "narrow-negative-length": lambda m: m.zeros(3).narrow(0, 1, -1),
    "split-negative-size": lambda m: m.zeros(3).split(-1),
    "movedim-repeated-source": lambda m: m.zeros(2, 3).movedim((0, 0), (0, 1)),
    "movedim-repeated-destination": lambda m: m.zeros(2, 3).movedim((0, 1), (1, 1)),
    "take-from-empty": lambda m: m.zeros(0).take(m.tensor([0])),
    "allclose-other-dtypes": lambda m: m.allclose(m.ones(1), m.ones(1, dtype=m.float64)),
    "H-of-3d": lambda m: m.zeros(2, 3, 4).H,
    "H-of-1d": lambda m: m.zeros(3).H,
    "index_copy-out-of-bounds": lambda m: m.zeros(3).index_copy(0, m.tensor([5]), m.ones(1)),
    "index_fill-out-of-bounds": lambda m: m.zeros(3).index_fill(0, m.tensor([5]), 1.0),
    "type-python-float": lambda m: m.ones(2).type(float),
    # promotion and dtype checks
    "where-int-tensor-inf": lambda m: m.where(
        m.tensor([1, 5, 3]) > 2, m.tensor([1, 5, 3]), float("inf")
    ),
    "where-huge-float-int8": lambda m: m.where(
        m.tensor([1, 5, 3]) > 2, 1e10, m.tensor([1, 5, 3], dtype=m.int8)
    ),
    "where-int-overflow-int8": lambda m: m.where(
        m.tensor([1, 5, 3]) > 2, m.tensor([1, 5, 3], dtype=m.int8), 300
    ),
    "div-trunc-0d-other-int-dtype": lambda m: m.div(
        _u8(m, [3, 250, 7]), m.tensor(-3), rounding_mode="trunc"
    ),
    "div-trunc-0d-uint8-divisor": lambda m: m.div(
        m.tensor([3, -2, 7], dtype=m.int8), m.tensor(200, dtype=m.uint8), rounding_mode="trunc"
    ),
    "copysign-int-half": lambda m: m.copysign(m.tensor([1, 2]), m.tensor([-1.0], dtype=m.float16)),
    "copysign-int-double": lambda m: m.copysign(m.tensor([1, 2]), m.tensor(-1.0, dtype=m.float64)),
    "copysign-wide-int-double": lambda m: m.copysign(
        m.tensor([2**40 + 1]), m.tensor(-1.0, dtype=m.float64)
    ),
    "copysign-bfloat16": lambda m: m.copysign(m.tensor([1.0], dtype=m.bfloat16), -1.0),
    "copysign-int-bfloat16": lambda m: m.copysign(
        m.tensor([1, 2]), m.tensor([-1.0], dtype=m.bfloat16)
    ),
    "signbit-bfloat16": lambda m: m.tensor([1.0, -0.0, -2.0], dtype=m.bfloat16).signbit(),
    "clamp_-int32-float-bound": lambda m: m.tensor([3, -2, 7], dtype=m.int32).clamp_(max=2.5),
    "clamp_-uint8-float-bound": lambda m: _u8(m, [3, 2, 7]).clamp_(min=0.5),
    "clamp_-int8-int-bounds": lambda m: m.tensor([3, -2, 7], dtype=m.int8).clamp_(-1, 2),
    "index_add-other-dtype": lambda m: m.zeros(3, dtype=m.float64).index_add(
        0, m.tensor([0]), m.ones(1)
    ),
    "index_add_-other-dtype": lambda m: m.zeros(3, dtype=m.float64).index_add_(
        0, m.tensor([0]), m.ones(1)
    ),
    "index_put-accumulate-other-dtype": lambda m: m.zeros(3, dtype=m.int32).index_put(
        (m.tensor([0]),), m.tensor([1]), accumulate=True
    ),
    "setitem-mask-0d-value-overflow": lambda m: m.zeros(3, dtype=m.uint8).__setitem__(
        m.tensor([True, False, True]), m.tensor(1e6)
    ),
    "setitem-mask-0d-value-fits": lambda m: _masked_write(m, m.zeros(3, dtype=m.uint8), 7.9),
    "masked_fill-0d-value-overflow": lambda m: _u8(m, [3, 2, 7]).masked_fill_(
        m.tensor([True, False, True]), m.tensor(-3.0)
    ),
    "masked_fill-0d-value-other-dtype": lambda m: m.zeros(3).masked_fill(
        m.tensor([True, False, True]), m.tensor(2.5, dtype=m.float64)
    ),
    "masked_fill-int32-mask": lambda m: m.zeros(3).masked_fill(
        m.tensor([1, 0, 1], dtype=m.int32), 1.0
    ),
}


@pytest.mark.parametrize("name", list(SNIPPETS))
def test_edge_case_as_torch(name):
    snippet = SNIPPETS[name]
    assert _outcome(snippet, rg) == _outcome(snippet, torch)


def test_assigned_grad_keeps_receiving_gradients_as_torch():
    grads = []
    for m in (rg, torch):
        x = m.ones(2, requires_grad=True)
        g = m.full((2,), 2.0)
        x.grad = g
        (x * 3).sum().backward()
        grads.append((x.grad is g, g.tolist()))
    assert grads[0] == grads[1]


def test_chunks_of_an_empty_dim_are_views_of_one_call():
    """chunk of an empty dim is PyTorch's split_with_sizes: writing the base makes its pieces
    refuse use, as any split's."""
    outcomes = []
    for m in (rg, torch):
        base = m.zeros(0).requires_grad_().clone()
        pieces = base.chunk(3)
        base.add_(1)
        outcomes.append((len(pieces), _outcome(lambda m, p=pieces[0]: p * 1, m)[:2]))
    assert outcomes[0] == outcomes[1]


def test_load_reads_the_checkpoint_at_the_position_as_torch():
    for m in (rg, torch):
        buf = io.BytesIO()
        m.save(m.ones(2), buf)
        first_end = buf.tell()
        m.save(m.zeros(3), buf)
        buf.seek(0)
        assert m.load(buf).tolist() == [1.0, 1.0]
        if m is rg:  # (PyTorch's position after a load is its reader's, not the archive's end)
            assert buf.tell() == first_end
            assert m.load(buf).tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("record", [b"PK\x05\x06", b"PK\x05\x06\x00\x00\x00\x00"])
def test_load_finds_the_archive_end_past_a_record_signature_in_the_data(record):
    # tensor bytes that spell an end-of-central-directory record (one of an empty archive,
    # with zeros) do not end the archive
    marker = np.frombuffer(record * 8, dtype=np.float32).copy()
    buf = io.BytesIO()
    rg.save({"a": rg.tensor(marker), "b": rg.arange(3)}, buf)
    rg.save(rg.ones(1), buf)
    buf.seek(0)
    loaded = rg.load(buf)
    assert loaded["a"].numpy().tobytes() == marker.tobytes()
    assert rg.load(buf).tolist() == [1.0]


def test_load_reads_pytorchs_checkpoints_one_after_another():
    buf = io.BytesIO()
    torch.save({"w": torch.ones(3)}, buf)
    torch.save(torch.arange(2), buf)
    buf.seek(0)
    assert rg.load(buf)["w"].tolist() == [1.0, 1.0, 1.0]
    assert rg.load(buf).tolist() == [0, 1]


def test_masked_fill_refuses_a_list_mask_with_a_type_error():
    for m in (rg, torch):
        with pytest.raises(TypeError, match="masked_fill"):
            m.zeros(3).masked_fill([True], 1.0)


def test_atan2_gradient_at_the_origin_as_torch():
    """PyTorch fills the reciprocal of a^2 + b^2 with 0 where it is infinite: the gradients at
    the origin are 0 (not NaN); the second derivatives there are NaN in both."""
    results = []
    for m in (rg, torch):
        a = m.tensor([0.0, 1.0, 0.0, -0.0], dtype=m.float64, requires_grad=True)
        b = m.tensor([0.0, 0.0, 2.0, -0.0], dtype=m.float64, requires_grad=True)
        first = m.autograd.grad(m.atan2(a, b).sum() * 3, [a, b], create_graph=True)
        second = m.autograd.grad(sum(g.sum() for g in first), [a, b])
        results.append([t.detach().numpy() for t in (*first, *second)])
    for ours, theirs in zip(*results):
        np.testing.assert_array_equal(ours, theirs)
        finite = ~np.isnan(theirs)  # (a NaN's sign bit means nothing)
        np.testing.assert_array_equal(np.signbit(ours[finite]), np.signbit(theirs[finite]))
