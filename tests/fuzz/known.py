"""Known rustgrad bugs the fuzzer finds, by class: an id, the class of issue 10 it belongs to
("NEW: ..." where the issue does not name it), a pattern over what ``runner.compare`` reports
(``signature :: detail :: the op tags of the program``), and a minimal reproducer.

The CI slice (``test_fuzz.py``) fails on a mismatch no class matches, and on a class whose
reproducer no longer shows it (a fixed bug: remove its entry), like a strict xfail. Deliberate
differences are not here: they are in the README ("Deliberate differences from PyTorch") and
the generator does not produce them. The first matching class wins (order matters).
"""

import dataclasses
import re


@dataclasses.dataclass
class Known:
    id: str
    issue_class: str
    pattern: str
    stmts: list  # the reproducer: [code, tag, checked names] per statement


def key(signature, detail, stmts):
    """What the patterns match: the mismatch and the op tags of its (shrunk) program."""
    return f"{signature} :: {detail} :: " + " ".join(s.tag for s in stmts)


def classify(signature, detail, stmts):
    """The id of the first known class matching a mismatch, or None."""
    k = key(signature, detail, stmts)
    for known in KNOWN:
        if re.search(known.pattern, k):
            return known.id
    return None


KNOWN = [
    Known(
        "einsum-view",
        "NEW: einsum with a repeated index ('ii->i') is a view of its input in PyTorch (the diagonal), so an in-place op on it refuses a view of a leaf; rustgrad's einsum result is not marked as a view",
        "^no-exception\\|inplace\\.\\w+ :: .*a view of a leaf Variable .*opinfo\\.einsum",
        [
            ["v2 = torch.ones(3, 3, dtype=torch.float64).requires_grad_()", "create.ones", ["v2"]],
            ["v3 = torch.einsum('ii->i', v2)", "opinfo.einsum", ["v3"]],
            ["v3 += 3.0", "inplace.iadd", []],
        ],
    ),
    Known(
        "error-check-order",
        "NEW: another exception type than PyTorch for the same error (ValueError for int ** -1; RuntimeError where PyTorch raises NotImplementedError for an unsupported dtype), or when an op has two errors (setitem index vs leaf check)",
        "^exception-type\\|",
        [
            ["v1 = torch.tensor([], requires_grad=True)", "create.tensor_infer", ["v1"]],
            ["v1[torch.tensor([])] = False", "inplace.setitem", []],
        ],
    ),
    Known(
        "index-bounds-empty",
        "NEW: an out-of-range index list into a size-0 tensor raises IndexError; PyTorch returns the empty result",
        "^exception\\|view\\.index :: raised IndexError: index -?\\d+ is out of bounds",
        [
            ["v1 = torch.ones(3, 1, 0)", "create.ones", ["v1"]],
            ["v2 = v1[:, [0, 1, 1]]", "view.index", ["v2"]],
        ],
    ),
    Known(
        "elementwise-layout",
        "NEW: elementwise results are always contiguous; PyTorch keeps a non-contiguous input's strides, so a later view()/flatten() aliases (or fails) differently",
        "^(no-exception\\|view\\.(reshape|view) :: .*view size is not compatible|value\\|inplace\\.[a-z_]+ :: v\\d+@: value|value\\|convert\\.is_contiguous ::)",
        [
            ["v9 = torch.ones(2, 3, dtype=torch.float32).t()", "create.ones", ["v9"]],
            ["v10 = v9.sqrt()", "unary.sqrt", ["v10"]],
            ["v16 = v10.view(-1)", "view.reshape", ["v16"]],
        ],
    ),
    Known(
        "float32-rounding-compared",
        "NOT a bug: float32 rounding (a mean's summation order) amplified by an exact comparison",
        "^value\\|[a-z_.]+\\.(eq|ne|lt|le|gt|ge) ::",
        [
            [
                "v2 = torch.tensor([[[1.92, 1.48, -3.0, 0.87], [-3.74, 1.29, 0.13, -0.12]], [[0.31, -0.62, 4.97, -0.41], [-0.33, 3.25, -0.95, -0.09]]])",
                "create.tensor",
                ["v2"],
            ],
            ["v4 = v2.mean()", "reduce.mean", ["v4"]],
            ["v10 = v4.eq(v2)", "binary.eq", ["v10"]],
        ],
    ),
    Known(
        "torch-int-setitem-requires-grad",
        "NOT a rustgrad bug: PyTorch marks an int64 tensor as requiring grad after x[...] = v with a float v that requires grad; an integer tensor never requires grad in rustgrad (README, Deliberate differences)",
        "^requires_grad\\|inplace\\.setitem\\|requires_grad False!=True",
        [
            [
                "v1 = torch.tensor(-2.56, dtype=torch.float64, requires_grad=True)",
                "create.tensor",
                ["v1"],
            ],
            [
                "v7 = torch.tensor([[-4, -2, 0], [-2, -2, -4], [-3, -1, 1], [2, -1, -2]], dtype=torch.int64)",
                "create.tensor",
                ["v7"],
            ],
            ["v7[...] = v1", "inplace.setitem", ["v7"]],
        ],
    ),
    Known(
        "torch-bool-scalar-pow-backward-assert",
        "NOT a rustgrad bug: PyTorch's backward of a Python bool raised to a tensor power "
        "(False ** x) fails an internal assert (unknown ivalue tag 4); rustgrad computes it",
        "^no-exception\\|grad\\.[a-z]+ :: .*INTERNAL ASSERT FAILED.*unknown ivalue tag",
        [
            [
                "v6 = torch.tensor([[-0.13]], dtype=torch.float64, requires_grad=True)",
                "create.tensor",
                ["v6"],
            ],
            ["v7 = False ** v6", "binary.pow_scalar_base", ["v7"]],
            ["v7.sum().backward()", "grad.backward", []],
        ],
    ),
    Known(
        "create-graph-input-not-recorded",
        "NEW: under create_graph, whether a first-order gradient requires grad differs for ops whose PyTorch backward reads the input although the gradient does not depend on it (nll_loss/cross_entropy, F.pad's replicate/reflect/circular modes): rustgrad's composite backward does not record the input",
        "^requires_grad\\|grad\\.first\\|",
        [
            [
                "v4 = torch.tensor([[7.0, 7.0, 7.0], [-0.29296778250582856, -1.9420944110121747, -2.2022825381675837], [-1.501628138521429, -1.1653342256328894, -0.7648270784921151], [-0.47446252308788395, -2.859660618362892, -1.137896699301668], [-2.8019507185507653, -0.0925812154226815, -3.585122464829454]], dtype=torch.float64)[1:].detach().requires_grad_()",
                "create.opinfo",
                ["v4"],
            ],
            ["v5 = torch.tensor([1, 0, 2, 2], dtype=torch.int64)", "create.opinfo", ["v5"]],
            [
                "v6 = torch.nn.functional.nll_loss(v4, v5, reduction='sum')",
                "opinfo.nn.functional.nll_loss",
                ["v6"],
            ],
            ["v7 = v4.sum(-1, dtype=torch.float64)", "reduce.sum.dim", ["v7"]],
            [
                "loss = (v4 * torch.tensor([[0.76, -1.05, 1.19], [0.65, -3.0, -0.3], [2.23, -2.85, -1.19], [-0.35, 2.54, 1.89]], dtype=torch.float64)).sum() + (v6 * torch.tensor(1.5, dtype=torch.float64)).sum() + (v7 * torch.tensor([-1.27, -0.7, -3.0, 0.39], dtype=torch.float64)).sum()",
                "grad.loss",
                [],
            ],
            [
                "g1 = torch.autograd.grad(loss, [v4], create_graph=True, allow_unused=True)",
                "grad.first",
                ["g1"],
            ],
        ],
    ),
    Known(
        "second-order-div-softmax-nan",
        "NEW: second-order gradient values through div and softmax with NaN inputs differ",
        "^grad\\|grad\\.second :: .*(?=.*binary\\.div)(?=.*unary\\.softmax)",
        [
            [
                "v1 = torch.tensor(np.array([[0.0, -3.02, 2.25], [-1.95, -0.0, -1.09], [math.nan, -1.91, -1.38]], dtype=np.float64), requires_grad=True)",
                "create.tensor_numpy",
                ["v1"],
            ],
            [
                "v2 = torch.from_numpy(np.array([[-0.41], [1.62], [-1.26]], dtype=np.float32))",
                "create.from_numpy_numpy",
                ["v2"],
            ],
            [
                "v3 = torch.tensor([[1.88, math.nan, -0.66], [2.42, 0.5, -0.6], [-0.12, -3.97, 2.89]], dtype=torch.float64, requires_grad=True)",
                "create.tensor",
                ["v3"],
            ],
            ["v7 = torch.div(v2, v1)", "binary.div", ["v7"]],
            ["v14 = v3.softmax(-2)", "unary.softmax", ["v14"]],
            [
                "loss = (v3 * torch.tensor([[-0.75, -2.61, 3.0], [0.5, 0.5, 0.92], [-3.0, -0.5, 1.57]], dtype=torch.float64)).sum() + (v7 * torch.tensor([[0.0, -3.0, 1.89], [1.83, 1.84, 0.83], [1.04, -3.0, 2.3]], dtype=torch.float64)).sum() + (v14 * torch.tensor([[0.78, 3.0, 3.0], [-0.09, -1.71, 0.81], [1.1, 1.74, -1.45]], dtype=torch.float64)).sum()",
                "grad.loss",
                [],
            ],
            [
                "g1 = torch.autograd.grad(loss, [v1, v3], create_graph=True, allow_unused=True)",
                "grad.first",
                ["g1"],
            ],
            [
                "gg = sum(((g * g).sum() for g in g1 if g is not None and g.requires_grad), torch.zeros(()))",
                "grad.gg",
                ["gg"],
            ],
            ["g2 = torch.autograd.grad(gg, [v1, v3], allow_unused=True)", "grad.second", ["g2"]],
        ],
    ),
    # ----- found once the issue-11 ops (tests/opinfo_ops.py) joined the op table -----
    Known(
        "second-order-div-nan",
        "NEW: second-order gradient values through div with NaN and zero inputs differ (the "
        "div-softmax class above without the softmax)",
        "^grad\\|grad\\.second :: .*(?=.*binary\\.div)",
        [
            [
                "v1 = torch.tensor(np.array([[0.0, -3.02, 2.25], [-1.95, -0.0, -1.09], [math.nan, -1.91, -1.38]], dtype=np.float64), requires_grad=True)",
                "create.tensor_numpy",
                ["v1"],
            ],
            [
                "v2 = torch.from_numpy(np.array([[-0.41], [1.62], [-1.26]], dtype=np.float32))",
                "create.from_numpy_numpy",
                ["v2"],
            ],
            ["v7 = torch.div(v2, v1)", "binary.div", ["v7"]],
            [
                "loss = (v7 * torch.tensor([[2.75, -0.0, -3.0], [1.82, 0.6, -0.37], [-1.1, -0.09, -3.0]], dtype=torch.float64)).sum()",
                "grad.loss",
                [],
            ],
            [
                "g1 = torch.autograd.grad(loss, [v1], create_graph=True, allow_unused=True)",
                "grad.first",
                ["g1"],
            ],
            [
                "gg = sum(((g * g).sum() for g in g1 if g is not None and g.requires_grad), torch.zeros(()))",
                "grad.gg",
                ["gg"],
            ],
            ["g2 = torch.autograd.grad(gg, [v1], allow_unused=True)", "grad.second", ["g2"]],
        ],
    ),
    Known(
        "composite-saves-no-result",
        "NEW: ops composed of others (norm, std, median, gather, index_select, ... in "
        "python/rustgrad/_ops.py; the losses of nn.functional) do not save their own result, "
        "their index or their weight-like operands, so overwriting one in place before "
        "backward is not caught as in PyTorch",
        "^no-exception\\|grad\\.(first|backward) :: .*modified by an inplace operation.*"
        "opinfo\\.(norm|std|var|median|nanmedian|logsumexp|prod|cum(sum|prod)|kthvalue|topk|sort|"
        "gather|scatter(_add)?|index_(select|add)|masked_(fill|select)|nn\\.functional\\.[a-z_]+)",
        [
            [
                "v8 = torch.tensor([[7.0, 7.0], [-1.920556902885437, 1.0332731008529663], [0.28573498129844666, -0.26664701104164124], [0.2696954607963562, 0.8432942032814026]], dtype=torch.float32)[1:].detach().requires_grad_()",
                "create.opinfo",
                ["v8"],
            ],
            ["v9 = v8.norm(1)", "opinfo.norm", ["v9"]],
            ["v9.zero_()", "inplace.zero_", ["v9"]],
            ["loss = (v9 * torch.tensor(1.5, dtype=torch.float32)).sum()", "grad.loss", []],
            [
                "g1 = torch.autograd.grad(loss, [v8], create_graph=True, allow_unused=True)",
                "grad.first",
                ["g1"],
            ],
        ],
    ),
    Known(
        "nonfinite-to-int64",
        "NEW: NaN, infinities and out-of-range floats cast to int64 (.long(), .to(torch.int64), "
        "copy_ into an int64 tensor) saturate in rustgrad; PyTorch on x86 gives INT64_MIN "
        "(the CPU's cvttsd2si result)",
        "^value\\|(unary\\.(long|to)|inplace\\.copy_) ::",
        [
            ["v1 = torch.tensor([math.inf, -0.5, math.nan])", "create.tensor", ["v1"]],
            ["v2 = v1.long()", "unary.long", ["v2"]],
        ],
    ),
]
