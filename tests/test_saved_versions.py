"""Saved tensors are version-checked as PyTorch's: a differential sweep over the op table
(``tests/opinfo.py``'s ``OP_DB``, with the entries of ``opinfo_more.py`` and the others).

PyTorch's backward node of each op saves some tensors (its inputs, its result, its indices:
``derivatives.yaml``), and overwriting one in place before backward makes backward raise "one
of the variables needed for gradient computation has been modified by an inplace operation"
(rustgrad states PyTorch's rule for its composites in ``python/rustgrad/_saved.py``). For every
differentiable op and its first float64 sample with gradients:

- ``test_outputs_saved_as_torch``: the op on leaves that require grad, then one output at a
  time overwritten in place (``y.mul_(1)``: its values kept, its version bumped; indices
  included, which ``sort`` and the like save), then backward from the sum of every output;
- ``test_inputs_saved_as_torch``: the op on copies of its tensors (clones of the leaves, so not
  leaves themselves; copies of the index and mask tensors), then one copy at a time
  overwritten in place, then backward.

rustgrad must raise where PyTorch raises, and only there. The outcome compared is "ok",
"modified" (backward raised that error), or the type of another error (e.g. writing into a
view of a leaf).
"""

import math

import pytest
import rustgrad as rg
from opinfo import OP_DB, call, flatten_outputs

torch = pytest.importorskip("torch")

MODIFIED = "modified by an inplace operation"

# Where PyTorch's own outcome is not one to copy, (op, check) -> why (skipped).
_UNSAFE_VIEW = (
    "PyTorch's {} multiplies _unsafe_view's of its inputs, which share their memory but not "
    "their version counter: an in-place change goes unnoticed (and backward reads the new "
    "values); rustgrad's product saves views of the inputs, so it raises"
)
ODD = {
    ("kron", "input 0"): _UNSAFE_VIEW.format("kron"),
    ("kron", "input 1"): _UNSAFE_VIEW.format("kron"),
    ("kron", "grad 0 input 1"): _UNSAFE_VIEW.format("kron"),
    ("kron", "grad 1 input 0"): _UNSAFE_VIEW.format("kron"),
    ("take_along_dim", "input 1"): (
        "PyTorch's take_along_dim gathers with a broadcast of the indices that does not share "
        "their version counter (an in-place change goes unnoticed), though its gather saves "
        "the index; rustgrad's gather saves the indices themselves, so it raises"
    ),
}

# rustgrad's known differences outside the Python composites, (op, check) -> why (strict
# xfails: fixing one makes its test pass, and then this entry must go).
_MULTI_VIEW = (
    "view semantics, not a saved tensor: PyTorch's outputs of a function returning several "
    "views refuse backward once their base was written in place; rustgrad's are plain views"
)
_UNSAFE_PIECES = (
    "PyTorch's unsafe_split pieces are not views to autograd, so writing one of a leaf that "
    "requires grad is allowed; rustgrad's are views, and refuse it as a view of that leaf"
)
GAPS = {
    **{(op, "input 0"): _MULTI_VIEW for op in ("split", "split_with_sizes", "chunk", "unbind")},
    **{
        (op, f"output {k}"): _UNSAFE_PIECES
        for op in ("unsafe_split", "unsafe_split_with_sizes", "unsafe_chunk")
        for k in (0, 1)
    },
}


def _first_sample(op):
    if not op.differentiable or "float64" not in op.dtypes:
        return None
    return next((s for s in op.samples("float64") if s.grad_args()), None)


CASES = [(op, s) for op in OP_DB if (s := _first_sample(op)) is not None]


def _overwrite(t):
    """``t`` written in place with its own values (its version goes up)."""
    if t.dtype in (rg.bool, torch.bool):
        t.logical_and_(t)
    else:
        t.mul_(1)


def _outcome(step):
    try:
        step()
    except Exception as err:  # noqa: BLE001 (the outcome is compared)
        return "modified" if MODIFIED in str(err) else type(err).__name__
    return "ok"


def _overwrite_then_backward(mod, target, outputs):
    written = _outcome(lambda: _overwrite(target))
    if written != "ok":
        return f"in place: {written}"
    roots = [o.sum() for o in outputs if o.requires_grad]
    return _outcome(lambda: mod.autograd.backward(roots) if roots else None)


def output_outcome(op, sample, mod, k):
    result, _ = call(op.primary, sample, mod, "cpu")
    outputs = flatten_outputs(result)
    return _overwrite_then_backward(mod, outputs[k], outputs)


def input_outcome(op, sample, mod, k):
    _, memo = call(op.primary, sample, mod, "cpu")  # the leaves and other tensors, to copy
    copies = {key: t.clone() for key, t in memo.items()}
    result, _ = call(op.primary, sample, mod, "cpu", copies)
    target = copies[id(sample.tensors()[k])]
    return _overwrite_then_backward(mod, target, flatten_outputs(result))


def one_grad_input_outcome(op, sample, mod, j, k):
    """As ``input_outcome``, with only input ``j`` needing its gradient: a node saves what
    the formulas of the inputs that need gradients read (PyTorch's generated nodes save each
    tensor only under ``should_compute_output``), so writing another input (``k``) that only
    an unneeded gradient reads is no error."""
    _, memo = call(op.primary, sample, mod, "cpu")
    keys = [id(a) for a in sample.tensors()]
    copies = {key: t.clone() if key == keys[j] else t.detach().clone() for key, t in memo.items()}
    result, _ = call(op.primary, sample, mod, "cpu", copies)
    return _overwrite_then_backward(mod, copies[keys[k]], flatten_outputs(result))


def _params(checks):
    params = []
    for op, sample in CASES:
        for check in checks(op, sample):
            key = (op.name, check)
            marks = []
            if key in ODD:
                marks.append(pytest.mark.skip(reason=ODD[key]))
            if key in GAPS:
                marks.append(pytest.mark.xfail(strict=True, reason=GAPS[key]))
            params.append(
                pytest.param(op, sample, check, id=f"{op.name}-{sample.name}-{check}", marks=marks)
            )
    return params


def _outputs(op, sample):
    result, _ = call(op.primary, sample, torch, "cpu")
    return [f"output {k}" for k in range(len(flatten_outputs(result)))]


def _inputs(op, sample):
    return [f"input {k}" for k in range(len(sample.tensors()))]


@pytest.mark.parametrize("op, sample, check", _params(_outputs))
def test_outputs_saved_as_torch(op, sample, check):
    k = int(check.split()[1])
    assert output_outcome(op, sample, rg, k) == output_outcome(op, sample, torch, k)


@pytest.mark.parametrize("op, sample, check", _params(_inputs))
def test_inputs_saved_as_torch(op, sample, check):
    k = int(check.split()[1])
    assert input_outcome(op, sample, rg, k) == input_outcome(op, sample, torch, k)


def _one_grad_pairs(op, sample):
    tensors = sample.tensors()
    grads = [j for j, a in enumerate(tensors) if a.grad]
    if len(grads) < 2:
        return []
    return [f"grad {j} input {k}" for j in grads for k in range(len(tensors)) if k != j]


@pytest.mark.parametrize("op, sample, check", _params(_one_grad_pairs))
def test_inputs_saved_with_one_grad_as_torch(op, sample, check):
    j, k = int(check.split()[1]), int(check.split()[3])
    got = one_grad_input_outcome(op, sample, rg, j, k)
    assert got == one_grad_input_outcome(op, sample, torch, j, k)


def test_exception_lists_are_current():
    """Every listed case is one the sweep runs."""
    ran = {
        (op.name, c)
        for op, s in CASES
        for c in _outputs(op, s) + _inputs(op, s) + _one_grad_pairs(op, s)
    }
    assert not (set(ODD) | set(GAPS)) - ran


def _backward_outcome(out):
    """ "ok", or the tensor that PyTorch's version error names ("[torch.LongTensor [2]]")."""
    try:
        out.sum().backward()
    except RuntimeError as e:
        assert MODIFIED in str(e)
        return str(e).split("[", 1)[1].split("]", 1)[0]
    return "ok"


@pytest.mark.parametrize(
    "a,b,dims",
    [
        ((2, 3), (3, 2), ([1, 0], [0, 1])),  # (inner product of permuted views: mul and sum)
        ((2, 1, 3), (3, 1, 2), ([0, 2], [2, 0])),
        ((2, 3), (2, 3), 2),  # (inner product of flat views: dot)
        ((3, 2), (3, 4), ([0], [0])),
        ((2, 3, 4), (4, 3, 5), ([2, 1], [0, 1])),  # (a copy of the permuted input)
    ],
)
@pytest.mark.parametrize("written", [0, 1])
def test_tensordot_saves_views_or_copies_as_torch(a, b, dims, written):
    """Which of tensordot's inputs backward reads (a view, or a copy made by its reshape)
    decides whether writing that input afterwards makes backward raise."""
    outcomes = []
    for lib in (torch, rg):
        x = lib.arange(float(a[0] * a[1] * (a[2] if len(a) > 2 else 1))).reshape(a)
        y = lib.ones(b, requires_grad=True) * 2
        x.requires_grad_()
        inputs = [x * 1, y]
        out = lib.tensordot(*inputs, dims)
        inputs[written].add_(1)
        outcomes.append(_backward_outcome(out))
    assert outcomes[1] == outcomes[0]


@pytest.mark.parametrize("weights", ["fweights", "aweights"])
def test_cov_saves_its_weights_as_torch(weights):
    """cov multiplies by the weights themselves (not a converted copy), so writing them in
    place before backward raises, as in PyTorch."""
    outcomes = []
    for lib in (torch, rg):
        x = lib.arange(8.0, dtype=lib.float64).reshape(2, 4).requires_grad_()
        w = lib.tensor([1, 2, 1, 3]) if weights == "fweights" else lib.tensor([0.5, 1.0, 2.0, 1.0], dtype=lib.float64)  # fmt: skip
        out = lib.cov(x, **{weights: w})
        w.zero_()
        outcomes.append(_backward_outcome(out))
    assert outcomes[1] == outcomes[0]


_MASK = [[True, False, True], [False, True, True], [True, True, False]]


@pytest.mark.parametrize(
    "key",
    [
        lambda lib: lib.tensor([0, 2]),
        lambda lib: lib.tensor(_MASK),
        lambda lib: (lib.tensor([0, 2]), lib.tensor([1, 1])),
        lambda lib: (lib.tensor([True, False, True]), lib.tensor([1, 2])),
        lambda lib: (slice(None), lib.tensor([2, 0], dtype=lib.int32)),
        lambda lib: (lib.tensor([1]), slice(1, None)),
    ],
)
def test_index_tensors_saved_as_torch(key):
    """``x[indices]`` saves its index tensors (PyTorch's IndexBackward0), so writing one in
    place before backward raises, naming it as PyTorch does (a bool mask is "CPUBoolType")."""
    outcomes = []
    for lib in (torch, rg):
        x = lib.arange(9.0, dtype=lib.float64).reshape(3, 3).requires_grad_()
        k = key(lib)
        out = x[k]
        for t in k if isinstance(k, tuple) else (k,):
            if isinstance(t, lib.Tensor):
                t.fill_(0)
        outcomes.append(_backward_outcome(out))
    assert outcomes[1] == outcomes[0]


@pytest.mark.parametrize("dtype", ["bool", "bfloat16", "float16", "uint8", "int32", "float32"])
def test_version_error_names_the_tensor_as_torch(dtype):
    outcomes = []
    for lib in (torch, rg):
        x = lib.ones(2, requires_grad=True)
        m = lib.ones(2, dtype=getattr(lib, dtype))
        out = x * m
        m.fill_(0)
        outcomes.append(_backward_outcome(out))
    assert outcomes[1] == outcomes[0]


@pytest.mark.parametrize("op", ["hypot_", "pow_", "exp_", "sigmoid_", "tanh_", "sqrt_", "rsqrt_", "reciprocal_", "relu_", "abs_", "expm1_"])  # fmt: skip
def test_in_place_results_saved_as_torch(op):
    """An in-place op that saves its result saves the tensor it wrote (PyTorch's are one): a
    later write into it, here through a view, makes backward raise."""
    outcomes = []
    for lib in (torch, rg):
        leaf = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        other = lib.tensor([0.5, 1.5, 2.5], dtype=lib.float64, requires_grad=True)
        x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64) * leaf
        y = getattr(x, op)(*([other] if op in ("hypot_", "pow_") else []))
        x[1:].add_(1)
        outcomes.append(_backward_outcome(y * y))
    assert outcomes[1] == outcomes[0]


@pytest.mark.parametrize("op", ["addcdiv", "addcmul"])
@pytest.mark.parametrize("needs", [0, 1, 2])
@pytest.mark.parametrize("written", [1, 2])
def test_addc_saves_as_torch(op, needs, written):
    """addcdiv saves tensor2 whichever argument needs a gradient (both formulas read it),
    tensor1 only for tensor2's; addcmul each tensor for the other's gradient."""
    outcomes = []
    for lib in (torch, rg):
        args = [lib.tensor(v, dtype=lib.float64, requires_grad=k == needs) for k, v in enumerate((0.3, -0.9, -0.5))]  # fmt: skip
        args = [a * 1 for a in args]
        out = getattr(lib, op)(*args, value=2)
        with lib.no_grad():
            args[written].add_(1)
        outcomes.append(_backward_outcome(out))
    assert outcomes[1] == outcomes[0]


@pytest.mark.parametrize(
    "a,b,dims",
    [
        ((1,), (1, 2), 1),
        ((2, 1), (1, 3), 1),
        ((1,), (1, 2, 2), 1),
        ((3,), (1, 2), 1),
        ((2, 1), (3, 4), ([1], [0])),
    ],
)
def test_tensordot_sums_broadcast_dims_as_torch(a, b, dims):
    """A contracted dim of size 1 on one side broadcasts: PyTorch sums the other side's right
    away (a new tensor, so writing the original afterwards does not make backward raise)."""
    outcomes = []
    for lib in (torch, rg):
        x = lib.arange(float(math.prod(a)), dtype=lib.float64).reshape(a) * 1
        y = lib.ones(b, dtype=lib.float64, requires_grad=True)
        out = lib.tensordot(x, y, dims)
        values = out.tolist()
        x.add_(1)
        outcomes.append((values, _backward_outcome(out)))
    assert outcomes[1] == outcomes[0]


@pytest.mark.parametrize("contiguous", [True, False])
def test_group_norm_saves_a_contiguous_copy_as_torch(contiguous):
    """group_norm's kernel takes (and its node saves) the input in its suggested memory
    format: a transposed input is copied first, so writing it afterwards is no error; a
    contiguous one is saved itself, and writing it raises."""
    outcomes = []
    for lib in (torch, rg):
        base = lib.arange(24.0).reshape(4, 6).sin()
        x = base if contiguous else base.t()
        w = lib.ones(x.shape[1], requires_grad=True)
        out = lib.nn.functional.group_norm(x, 2, w)
        base.add_(1)
        outcomes.append(_backward_outcome(out))
    assert outcomes[1] == outcomes[0]
