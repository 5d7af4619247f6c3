"""The tests driven by the op table ``tests/opinfo.py`` (``OP_DB``), one per op x dtype x
sample (x device):

- ``test_gradcheck`` / ``test_gradgradcheck`` (on each device of ``conftest.DEVICES``; the
  CUDA entry carries the ``cuda`` marker): float64 gradients, and gradients of gradients,
  against finite differences.
- ``test_parity``: forward values, dtypes and gradients (for a random upstream gradient)
  against the reference PyTorch, in every supported dtype; ``test_parity_graph``: the
  ``grad_fn`` graph (node names, ``AccumulateGrad`` for leaves) is PyTorch's.
- ``test_variants``: every way to call an op (method, operator, functional form) gives exactly
  what the first one gives.
- ``test_inplace``: each in-place variant against PyTorch's, on the sample's own views (or
  the error PyTorch raises there), then with gradients through a clone.
- ``test_every_op_has_an_entry``: each public ``Tensor`` method and functional form is an
  ``OpInfo`` entry or a listed non-op; ``test_samples_cover_the_cases``: each op's samples
  cover 0-d, size 0, size 1, non-contiguous and offset views and broadcasting.

Parity, graphs, variants and in-place run on the CPU; the same samples on the CUDA device are
compared with the CPU in ``test_cuda.py`` (``test_op_matches_cpu``,
``test_inplace_matches_cpu``; in that file so that the threaded-emulator run covers them).
"""

import inspect
import re

import numpy as np
import pytest
import rustgrad as rg
import rustgrad.nn.functional as F
from conftest import DEVICES, assert_not_panic, graph_signature, node_name
from opinfo import (
    ALL,
    FLOATS,
    OP_DB,
    TESTS,
    Arg,
    assert_same_values,
    call,
    dtype_name,
    flatten_outputs,
    gradcheck_function,
    inplace_on_views,
    inplace_with_grad,
    numpy_of,
    op_params,
    run,
    tolerance,
    variant_params,
)
from rustgrad import _ops_aten_nn, _tensor_attrs
from rustgrad.autograd import gradcheck, gradgradcheck
from rustgrad.autograd.gradcheck import GradcheckError


@pytest.fixture(autouse=True)
def _seed():
    # gradgradcheck draws its grad_outputs from rustgrad's generator
    rg.manual_seed(0)


def _differentiable(op, sample):
    return op.differentiable and bool(sample.grad_args())


def _dtype(t):
    return dtype_name(t.dtype)


# ================================================================= gradients vs finite differences


@pytest.mark.parametrize(
    "op, dtype, sample, device",
    op_params("gradcheck", ("float64",), _differentiable, DEVICES),
)
def test_gradcheck(op, dtype, sample, device):
    fn, leaves = gradcheck_function(op.primary, sample, rg, device)
    for t in leaves:
        assert t.dtype == rg.float64 and t.device.type == device and t.is_leaf
    outputs = fn(*leaves)
    for out in outputs if isinstance(outputs, tuple) else (outputs,):
        assert out.device.type == device
    assert gradcheck(fn, tuple(leaves), eps=1e-6, atol=1e-5)


@pytest.mark.parametrize(
    "op, dtype, sample, device",
    op_params("gradgradcheck", ("float64",), _differentiable, DEVICES),
)
def test_gradgradcheck(op, dtype, sample, device):
    fn, leaves = gradcheck_function(op.primary, sample, rg, device)
    try:
        assert gradgradcheck(fn, tuple(leaves), eps=1e-6, atol=1e-5)
    except GradcheckError as err:
        # Reductions over empty tensors: the second derivative with respect to grad_output is
        # NaN (zeros times 1/0), as in PyTorch, which refuses it the same way.
        if str(err) != "backward not multiplied by grad_output":
            raise
        torch = pytest.importorskip("torch")
        tfn, tleaves = gradcheck_function(op.primary, sample, torch, "cpu")
        ours = _second_order_of_zero_grads(rg, fn, leaves)
        theirs = _second_order_of_zero_grads(torch, tfn, tleaves)
        assert [o is None for o in ours] == [t is None for t in theirs]
        for o, t in zip(ours, theirs):
            if o is not None:
                np.testing.assert_array_equal(o, t)


def _second_order_of_zero_grads(lib, fn, leaves):
    """Gradients of the first derivative (at grad_outputs of ones) for zero output grads."""
    outputs = fn(*leaves)
    outputs = [
        o for o in (outputs if isinstance(outputs, tuple) else (outputs,)) if o.requires_grad
    ]
    grad_outputs = [lib.ones_like(o, requires_grad=True) for o in outputs]
    first = lib.autograd.grad(outputs, leaves, grad_outputs, create_graph=True, allow_unused=True)
    first = [f for f in first if f is not None and f.requires_grad]
    second = lib.autograd.grad(
        first, list(leaves) + grad_outputs, [lib.zeros_like(f) for f in first], allow_unused=True
    )
    return [None if g is None else g.detach().cpu().numpy() for g in second]


# ================================================================= PyTorch parity


@pytest.mark.parametrize("op, dtype, sample, device", op_params("parity"))
def test_parity(op, dtype, sample, device):
    torch = pytest.importorskip("torch")
    ours = run(op.primary, sample, rg, device)
    theirs = run(op.primary, sample, torch, "cpu")
    assert len(ours.outputs) == len(theirs.outputs)
    for r, t in zip(ours.outputs, theirs.outputs):
        assert tuple(r.shape) == tuple(t.shape)
        assert _dtype(r) == _dtype(t)
        assert r.requires_grad == t.requires_grad
        assert_same_values(r, t, tolerance(sample, _dtype(t)))
    for r, t in zip(ours.leaves, theirs.leaves):
        assert (r.grad is None) == (t.grad is None)
        if t.grad is not None:
            assert _dtype(r.grad) == _dtype(t.grad)
            assert_same_values(r.grad, t.grad, tolerance(sample, _dtype(t.grad)))


@pytest.mark.parametrize(
    "op, dtype, sample, device",
    op_params("parity_graph", FLOATS, lambda op, s: op.graph_of(s) != "none"),
)
def test_parity_graph(op, dtype, sample, device):
    torch = pytest.importorskip("torch")
    ours = run(op.primary, sample, rg, device, backward=False)
    theirs = run(op.primary, sample, torch, "cpu", backward=False)
    for r, t in zip(ours.outputs, theirs.outputs):
        assert node_name(r.grad_fn) == node_name(t.grad_fn)
        if op.graph_of(sample) == "full":
            assert graph_signature(r.grad_fn) == graph_signature(t.grad_fn)


# ================================================================= variants


@pytest.mark.parametrize("op, variant, sample, device", variant_params("variants", "variants"))
def test_variants(op, variant, sample, device):
    first = run(op.primary, sample, rg, device)
    other = run(variant, sample, rg, device)
    assert len(first.outputs) == len(other.outputs)
    for a, b in zip(first.outputs, other.outputs):
        assert a.dtype == b.dtype and a.device == b.device
        np.testing.assert_array_equal(numpy_of(b), numpy_of(a))
        assert node_name(b.grad_fn) == node_name(a.grad_fn)
    for a, b in zip(first.leaves, other.leaves):
        assert (a.grad is None) == (b.grad is None)
        if a.grad is not None:
            np.testing.assert_array_equal(numpy_of(b.grad), numpy_of(a.grad))


# ================================================================= in-place variants


def check_same_error(ours, theirs):
    """The reference refused the in-place op (a dtype it cannot cast to, a broadcast into a
    smaller tensor, overlapping memory): so must rustgrad, with the same type of exception
    and no panic."""
    assert isinstance(ours, BaseException), f"{theirs!r} expected, rustgrad did not raise"
    assert_not_panic(ours)
    assert isinstance(ours, type(theirs)), f"{ours!r}, expected {theirs!r}"


def inplace_grads_checked(op, sample):
    first = sample.args[0]
    return op.differentiable and isinstance(first, Arg) and first.grad


@pytest.mark.parametrize("op, variant, sample, device", variant_params("inplace", "inplace"))
def test_inplace(op, variant, sample, device):
    torch = pytest.importorskip("torch")
    theirs = inplace_on_views(variant, sample, torch, "cpu")
    ours = inplace_on_views(variant, sample, rg, device)
    if isinstance(theirs, Exception):
        check_same_error(ours, theirs)
        return
    assert not isinstance(ours, BaseException), f"PyTorch did not raise: {ours!r}"
    target, result, version = ours
    assert result is target
    assert target._version > version
    assert _dtype(target) == _dtype(theirs[0])
    assert_same_values(target, theirs[0], tolerance(sample, _dtype(target)))
    # the out-of-place op gives the same values (exactly, where it keeps the dtype)
    expected = flatten_outputs(call(op.primary, sample, rg, device, grad=False)[0])[0]
    if expected.dtype == target.dtype:
        np.testing.assert_array_equal(numpy_of(target), numpy_of(expected))

    if not inplace_grads_checked(op, sample):
        return
    try:
        t_out, t_leaves = inplace_with_grad(variant, sample, torch, "cpu")
    except RuntimeError as err:  # (a refused backward: in-place celu with alpha < 0)
        with pytest.raises(RuntimeError, match=re.escape(str(err))):
            inplace_with_grad(variant, sample, rg, device)
        return
    out, leaves = inplace_with_grad(variant, sample, rg, device)
    if op.graph_of(sample) != "none" and not op.primary.name.startswith("x.clone()"):
        # (for the ops that exist only in place, test_parity_graph checks this node)
        assert node_name(out.grad_fn) == node_name(t_out.grad_fn)
    for r, t in zip(leaves, t_leaves):
        assert (r.grad is None) == (t.grad is None)
        if t.grad is not None:
            assert_same_values(r.grad, t.grad, tolerance(sample, _dtype(t.grad)))


# ================================================================= coverage of the public API

# Public names that are not ops (each with why); everything else public must have an entry.
TENSOR_NON_OPS = {
    # constructors taking self's dtype/device, and in-place forms (test_tensor_new_bitwise)
    **{
        f"new_{n}": "constructor (test_tensor_new_bitwise)"
        for n in ("zeros", "ones", "empty", "full", "tensor")
    },
    "new_empty_strided": "constructor (test_layout)",
    **{
        n: "in-place bitwise op (test_tensor_new_bitwise)"
        for n in (
            "bitwise_and_",
            "bitwise_or_",
            "bitwise_xor_",
            "bitwise_not_",
            "__iand__",
            "__ior__",
            "__ixor__",
            "bitwise_left_shift_",
            "bitwise_right_shift_",
            "__ilshift__",
            "__irshift__",
        )
    },
    **{
        n: "in-place view change (test_tensor_new_bitwise, test_inplace)"
        for n in ("unsqueeze_", "squeeze_", "t_", "transpose_", "swapaxes_", "swapdims_")
    },
    # autograd bookkeeping (tested in test_autograd_engine, test_hooks, test_inplace)
    "backward": "runs the engine",
    "data": "the same data without history",
    "detach": "no history, shares data",
    "detach_": "drops history in place",
    "grad": "attribute",
    "grad_fn": "attribute",
    "is_leaf": "attribute",
    "requires_grad": "attribute",
    "requires_grad_": "sets an attribute",
    "retain_grad": "sets an attribute",
    "retains_grad": "attribute",
    "register_hook": "registers a hook",
    # metadata queries (test_tensor_api)
    "device": "query",
    "dim": "query",
    "dtype": "query",
    "element_size": "query",
    "is_contiguous": "query",
    "is_pinned": "query (test_data)",
    "pin_memory": "a host copy or PyTorch's error (test_data)",
    "is_cuda": "query",
    "is_floating_point": "query",
    "ndim": "query",
    "nelement": "query",
    "numel": "query",
    "shape": "query",
    "size": "query",
    "stride": "query",
    "data_ptr": "query",
    # to Python and NumPy (test_tensor_api, test_tensor_extras)
    "item": "conversion to a Python number",
    "tolist": "conversion to lists",
    "numpy": "conversion to NumPy",
    "__array__": "conversion to NumPy",
    "__array_priority__": "tells NumPy to defer to the tensor (test_parity_torch)",
    "__bool__": "conversion to a Python bool",
    "__float__": "conversion to a Python float",
    "__int__": "conversion to a Python int",
    "__index__": "conversion to a Python index",
    "__len__": "size of dim 0",
    "__iter__": "iterates over dim 0 (getitem with an int)",
    # device copies (test_cuda)
    "cpu": "device copy",
    "cuda": "device copy",
    # the Python object protocol
    "__deepcopy__": "copy module support",
    "__delitem__": "raises, as PyTorch does",
    "__doc__": "docstring",
    "__hash__": "identity hash",
    "__module__": "class machinery",
    "__new__": "constructor (test_tensor_api)",
    "__repr__": "printing (test_tensor_str)",
    "__str__": "printing (test_tensor_str)",
    # autograd extras (test_inference_mode)
    "is_inference": "query",
}

NAMESPACE_NON_OPS = {
    # creation (test_parity_torch, test_cuda, test_tensor_api)
    "arange": "creation",
    "empty": "creation",
    "empty_strided": "creation (test_layout)",
    "eye": "creation",
    "from_numpy": "creation",
    "full": "creation",
    "full_like": "creation",
    "linspace": "creation",
    "logspace": "creation (test_dropin)",
    "ones": "creation",
    "ones_like": "creation",
    "rand": "creation (random)",
    "randn": "creation (random)",
    "tensor": "creation",
    "zeros": "creation",
    "zeros_like": "creation",
    # classes, state and files
    "Tensor": "the class",
    "device": "the class",
    "dtype": "the class",
    "detach": "no history (Tensor.detach)",
    "detach_": "drops history in place (Tensor.detach_)",
    "numel": "query (Tensor.numel)",
    "manual_seed": "generator state",
    "is_grad_enabled": "grad mode",
    "is_anomaly_enabled": "anomaly mode (test_anomaly)",
    "is_anomaly_check_nan_enabled": "anomaly mode (test_anomaly)",
    "set_grad_enabled": "grad mode",
    "no_grad": "grad mode",
    "enable_grad": "grad mode",
    "load": "files (test_serialization)",
    "save": "files (test_serialization)",
    # autograd extras (test_inference_mode)
    "inference_mode": "grad mode",
    "is_inference": "query (Tensor.is_inference)",
    "is_inference_mode_enabled": "grad mode",
}

FUNCTIONAL_NON_OPS = {
    "dropout": "random (test_nn, test_cuda.test_dropout_on_device)",
    "adaptive_max_pool1d_with_indices": "adaptive_max_pool1d's (values, indices) (test_nn_lazy_pool)",
    "adaptive_max_pool2d_with_indices": "adaptive_max_pool2d's (values, indices) (test_nn_lazy_pool)",
    "Tensor": "the class (imported there)",
}

# ----- the drop-in work: random samplers, creation defaults, interop and the runner -----------
# (sampled values have no finite differences: their distributions and PyTorch's very draws are
# tested in test_random; interop in test_interop; the runner in test_dropin)
_RANDOM = "random (test_random: distributions at fixed seeds, PyTorch's draws)"
_INTEROP = "interop (test_interop)"
TENSOR_NON_OPS.update(
    {
        "bernoulli_": _RANDOM,
        "cauchy_": _RANDOM,
        "exponential_": _RANDOM,
        "geometric_": _RANDOM,
        "log_normal_": _RANDOM,
        "multinomial": _RANDOM,
        "normal_": _RANDOM,
        "random_": _RANDOM,
        "uniform_": _RANDOM,
        "__dlpack__": _INTEROP,
        "__dlpack_device__": _INTEROP,
        "__format__": _INTEROP,
        "__reduce_ex__": _INTEROP,
    }
)
NAMESPACE_NON_OPS.update(
    {
        **dict.fromkeys(
            ["bernoulli", "multinomial", "normal", "rand_like", "randint", "randint_like",
             "randn_like", "randperm", "Generator", "get_rng_state", "set_rng_state", "seed",
             "initial_seed"],
            _RANDOM,
        ),
        **dict.fromkeys(
            ["empty_like", "get_default_device", "set_default_device", "get_default_dtype",
             "set_default_dtype", "BoolTensor", "DoubleTensor", "FloatTensor", "IntTensor",
             "LongTensor", "Size"],
            "creation (test_random)",
        ),
        "from_dlpack": _INTEROP,
        "install_as_torch": "the runner (test_dropin)",
        "uninstall_as_torch": "the runner (test_dropin)",
    }
)  # fmt: skip
# corpus drop-in gaps (issue 12 point 8)
NAMESPACE_NON_OPS["set_printoptions"] = "printing (test_printoptions)"
NAMESPACE_NON_OPS["broadcast_shapes"] = "shape arithmetic, no tensor (test_linalg)"
NAMESPACE_NON_OPS["tril_indices"] = "creation of indices (test_dropin)"
NAMESPACE_NON_OPS["triu_indices"] = "creation of indices (test_dropin)"
# automatic mixed precision: a context and its flags (test_amp)
NAMESPACE_NON_OPS.update(
    dict.fromkeys(
        ["autocast", "autocast_decrement_nesting", "autocast_increment_nesting",
         "clear_autocast_cache", "get_autocast_cpu_dtype", "get_autocast_dtype",
         "get_autocast_gpu_dtype", "is_autocast_cache_enabled", "is_autocast_cpu_enabled",
         "is_autocast_enabled", "set_autocast_cache_enabled", "set_autocast_dtype",
         "set_autocast_enabled"],
        "autocast state (test_amp)",
    )
)  # fmt: skip
NAMESPACE_NON_OPS["is_floating_point"] = "dtype query (Tensor.is_floating_point)"
NAMESPACE_NON_OPS["compile"] = "the compiler's API (test_compile)"
NAMESPACE_NON_OPS["vmap"] = "torch.func.vmap (test_func)"
NAMESPACE_NON_OPS["memory_format"] = "a layout's type (test_tensor_api)"
# torch-level nn kernels with ATen's signatures: calls of the nn.functional ops their OpInfo
# entries test, compared with PyTorch's own torch-level forms (test_ops_aten_nn)
NAMESPACE_NON_OPS.update(
    dict.fromkeys(
        _ops_aten_nn.FUNCTIONS,
        "ATen form of an nn.functional op (test_ops_aten_nn)",
    )
)
TENSOR_NON_OPS["storage_offset"] = "layout query (test_tensor_api)"
TENSOR_NON_OPS["__contains__"] = "`in`: (element == self).any() (test_tensor_edges_torch)"
# what kind of tensor it is: constant for rustgrad's dense tensors (test_tensor_edges_torch)
TENSOR_NON_OPS.update(
    dict.fromkeys(
        [*_tensor_attrs._NEVER, "layout", "output_nr",
         "is_shared", "share_memory_"],
        "tensor kind query (test_tensor_edges_torch)",
    )
)  # fmt: skip
NAMESPACE_NON_OPS["layout"] = "a layout's type (test_tensor_edges_torch)"
NAMESPACE_NON_OPS["typename"] = "a type's name (test_tensor_edges_torch)"
NAMESPACE_NON_OPS.update(
    dict.fromkeys(["cosine_similarity", "pairwise_distance"], "nn.functional's, in its OpInfo")
)
NAMESPACE_NON_OPS.update(
    dict.fromkeys(
        ["use_deterministic_algorithms", "are_deterministic_algorithms_enabled",
         "is_deterministic_algorithms_warn_only_enabled"],
        "a setting (test_settings)",
    )
)  # fmt: skip
NAMESPACE_NON_OPS.update(
    dict.fromkeys(
        ["get_float32_matmul_precision", "get_num_interop_threads", "get_num_threads",
         "set_float32_matmul_precision", "set_num_interop_threads", "set_num_threads"],
        "process settings (test_settings)",
    )
)  # fmt: skip

# ----- the dtypes of issue 11 point 4 (rustgrad._dtypes; tested in test_dtypes) -----
_DTYPES = "dtype machinery (test_dtypes)"
TENSOR_NON_OPS["type"] = _DTYPES
NAMESPACE_NON_OPS.update(
    dict.fromkeys(
        ["finfo", "iinfo", "BFloat16Tensor", "ByteTensor", "CharTensor", "HalfTensor",
         "ShortTensor"],
        _DTYPES,
    )
)  # fmt: skip


# ----- PyTorch's remaining everyday names (python/rustgrad/_ops_extra.py): queries,
# conversions and dtype arithmetic, compared with PyTorch in test_ops_extra -----
_EXTRA = "query or conversion (test_ops_extra)"
TENSOR_NON_OPS.update(
    dict.fromkeys(
        ["get_device", "imag", "is_complex", "is_conj", "is_cpu", "is_neg", "is_same_size",
         "is_signed", "itemsize", "nbytes", "ndimension", "new", "real"],
        _EXTRA,
    )
)  # fmt: skip
TENSOR_NON_OPS["is_meta"] = "query (test_meta)"
TENSOR_NON_OPS["bernoulli"] = _RANDOM
TENSOR_NON_OPS["fill_diagonal_"] = "in-place write of a constant (test_ops_extra)"
_IN_PLACE_COPY = "in place through copy_ (CopyBackwards, not PyTorch's node; test_ops_extra)"
TENSOR_NON_OPS.update(dict.fromkeys(["addmm_", "baddbmm_", "addbmm_"], _IN_PLACE_COPY))
NAMESPACE_NON_OPS.update(
    dict.fromkeys(
        ["as_tensor", "asarray", "can_cast", "imag", "is_complex", "is_conj", "is_neg",
         "is_same_size", "isin", "promote_types", "result_type", "scalar_tensor"],
        _EXTRA,
    )
)  # fmt: skip


def _public_tensor_names():
    names = set()
    own = vars(rg.Tensor)
    for name in dir(rg.Tensor):
        if name.startswith("__") and name.endswith("__"):
            if name not in own:  # inherited from object
                continue
        elif name.startswith("_"):
            continue
        names.add(f"Tensor.{name}")
    return names


def _public_functions(module, prefix):
    names = set()
    for name in set(dir(module)) | set(getattr(module, "__all__", ())):
        value = getattr(module, name)
        if name.startswith("_") or inspect.ismodule(value) or not callable(value):
            continue
        names.add(f"{prefix}.{name}")
    return names


def _non_ops():
    return (
        {f"Tensor.{n}" for n in TENSOR_NON_OPS}
        | {f"rustgrad.{n}" for n in NAMESPACE_NON_OPS}
        | {f"rustgrad.nn.functional.{n}" for n in FUNCTIONAL_NON_OPS}
    )


def _public_names():
    return (
        _public_tensor_names()
        | _public_functions(rg, "rustgrad")
        | _public_functions(F, "rustgrad.nn.functional")
    )


def test_every_op_has_an_entry():
    covered = set().union(*(op.covers() for op in OP_DB))
    missing = sorted(_public_names() - covered - _non_ops())
    assert not missing, f"public ops without an OpInfo entry in tests/opinfo.py: {missing}"


def test_non_op_lists_are_current():
    covered = set().union(*(op.covers() for op in OP_DB))
    non_ops = _non_ops()
    assert not sorted(non_ops - _public_names()), "listed non-ops that are gone"
    assert not sorted(non_ops & covered), "listed as non-ops but covered by an OpInfo entry"
    assert not sorted(covered - _public_names()), "entries that call no public name"


def test_coverage_check_catches_new_ops(monkeypatch):
    # a new method, operator or functional form without an entry shows up as missing
    monkeypatch.setattr(rg.Tensor, "frobnicate", lambda self: self, raising=False)
    monkeypatch.setattr(rg.Tensor, "__divmod__", lambda self, other: self, raising=False)
    monkeypatch.setattr(rg, "frobnicate", lambda x: x, raising=False)
    monkeypatch.setattr(F, "frobnicate", lambda x: x, raising=False)
    missing = _public_names() - _non_ops() - set().union(*(op.covers() for op in OP_DB))
    assert missing == {
        "Tensor.frobnicate",
        "Tensor.__divmod__",
        "rustgrad.frobnicate",
        "rustgrad.nn.functional.frobnicate",
    }


# ================================================================= the table itself


def sample_cases(sample):
    """The cases a sample covers (see ``OpInfo.exempt``)."""
    cases = set()
    tensors = sample.tensors()
    for a in tensors:
        if a.value.ndim == 0:
            cases.add("0-d")
        if a.value.size == 0:
            cases.add("size-0")
        if a.value.size == 1 and a.value.ndim >= 1:
            cases.add("size-1")
        if a.layout in ("transposed", "stepped", "expanded"):
            cases.add("non-contiguous")
        if a.layout == "offset":
            cases.add("offset")
    if len({a.shape for a in tensors}) > 1 or any(
        isinstance(x, (int, float)) for x in sample.args[1:]
    ):
        cases.add("broadcast")
    return cases


@pytest.mark.parametrize("op", OP_DB, ids=lambda op: op.name)
def test_samples_cover_the_cases(op):
    required = {"0-d", "size-0", "size-1", "non-contiguous", "offset"}
    if op.broadcasts:
        required.add("broadcast")
    required -= set(op.exempt)
    for dtype in op.dtypes:
        samples = op.samples(dtype)
        covered = set().union(*(sample_cases(s) for s in samples))
        assert required <= covered, f"{op.name} {dtype}: no sample for {required - covered}"
        # each sample has the dtype it is listed under
        for s in samples:
            assert any(a.dtype == dtype for a in s.tensors()), s.name


def test_op_db_is_consistent():
    names = [op.name for op in OP_DB]
    assert len(names) == len(set(names))
    for op in OP_DB:
        assert op.variants and set(op.dtypes) <= set(ALL)
        for expect in op.expects:
            assert set(expect.tests) <= set(TESTS), expect
            assert expect.reason
        assert callable(op.graph) or op.graph in ("full", "name", "none")
        if op.graph != "full":
            assert op.graph_reason


# ----- nn composites tested side by side with PyTorch, with gradcheck (test_nn_modules_extra2) --
_EXTRA2 = "composite, checked against PyTorch and by gradcheck (test_nn_modules_extra2)"
FUNCTIONAL_NON_OPS.update(
    dict.fromkeys(
        [
            "avg_pool1d",
            "bilinear",
            "channel_shuffle",
            "instance_norm",
            "local_response_norm",
            "multilabel_soft_margin_loss",
            "rms_norm",
            "upsample",
            "upsample_bilinear",
            "upsample_nearest",
        ],
        _EXTRA2,
    )
)
FUNCTIONAL_NON_OPS["relu_"] = "in-place relu (test_nn_modules_extra2)"
# (their torch-level names are the same functions: torch.avg_pool1d is F.avg_pool1d)
NAMESPACE_NON_OPS.update(dict.fromkeys(["avg_pool1d", "bilinear", "channel_shuffle"], _EXTRA2))
TENSOR_NON_OPS["register_post_accumulate_grad_hook"] = "a hook (test_hooks)"
TENSOR_NON_OPS["volatile"] = "a removed flag, always False (test_autograd_engine)"
FUNCTIONAL_NON_OPS["ctc_loss"] = (
    "takes lengths and targets, not tensors to vary; its gradient is PyTorch's, the one below a "
    "log_softmax (checked against PyTorch and by gradcheck through log_softmax, test_losses)"
)


# ----- layers branch: channel dropout is random (tests/test_nn_norm.py) -----------------------
FUNCTIONAL_NON_OPS.update(
    {
        "dropout1d": "random (test_nn_norm)",
        "dropout2d": "random (test_nn_norm)",
        "dropout3d": _RANDOM,
        "alpha_dropout": _RANDOM,
        "feature_alpha_dropout": _RANDOM,
        "gumbel_softmax": _RANDOM,
        "rrelu": _RANDOM,
        "rrelu_": _RANDOM,
    }
)
