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
        "torch-pow-bool-backward",
        "NOT a rustgrad bug: PyTorch's backward raises where rustgrad computes (x ** bool_tensor subtracts from a bool; bool_scalar ** tensor and some int paths hit INTERNAL ASSERTs). Kept so the slice notices when PyTorch changes",
        "^no-exception\\|grad\\.[a-z]+ :: .*(Subtraction, the `-` operator, with a bool tensor|INTERNAL ASSERT FAILED)",
        [
            [
                "v1 = torch.tensor([1.37, 1.48], dtype=torch.float64, requires_grad=True)",
                "create.tensor",
                ["v1"],
            ],
            ["v9 = torch.tensor([False, True], dtype=torch.bool)", "create.tensor", ["v9"]],
            ["v10 = v1.pow(v9)", "binary.pow", ["v10"]],
            [
                "g1 = torch.autograd.grad(v10.sum(), [v1], create_graph=True, allow_unused=True)",
                "grad.first",
                ["g1"],
            ],
        ],
    ),
    Known(
        "int64-via-float64",
        "Integers: int64 passes through float64 (tensor([2**53 + 1]) is 2**53)",
        "^value\\|create\\.",
        [["v1 = torch.tensor([9007199254740993], dtype=torch.int64)", "create.tensor", ["v1"]]],
    ),
    Known(
        "setitem-value-shape",
        "Other: x[i] = v with v of shape [1] (or [1, N]) into an element (a row [N]) raises",
        "^exception\\|[a-z]+\\.setitem :: .*shape mismatch: value tensor of shape",
        [
            ["v4 = torch.tensor([1.0], dtype=torch.float32)", "create.tensor", ["v4"]],
            ["v5 = torch.tensor([-0.5], dtype=torch.float32)", "create.tensor", ["v5"]],
            ["v4[0] = v5", "inplace.setitem", ["v4"]],
        ],
    ),
    Known(
        "function-varargs",
        "NEW: torch.reshape(x, 6, 2) and torch.permute(x, 1, 0) accept sizes as separate arguments (PyTorch: TypeError, a tuple is needed)",
        "^no-exception\\|[a-z]+\\.(reshape|permute) :: .*(takes 2 positional arguments|must be tuple of ints)",
        [
            ["v1 = torch.ones(3, 4)", "create.ones", ["v1"]],
            ["v2 = torch.reshape(v1, 6, 2)", "view.reshape", ["v2"]],
        ],
    ),
    Known(
        "numpy-scalar-operand",
        "NEW: NumPy scalars as operands (np.int64/np.float32 beside a tensor: TypeError, or NumPy takes over and returns an array or calls numpy() on a tensor that requires grad)",
        "^(exception|exception-type|kind|no-exception)\\|(?!grad)[a-z_.]+[^ ]* :: .*(unsupported operand type: Tensor and '(int64|float32|float64|bool)'|kind (py|other)!=tensor|Can't call numpy\\(\\) on Tensor that requires grad|can't assign a numpy)",
        [
            ["v1 = torch.tensor([])", "create.tensor_infer", ["v1"]],
            ["v3 = v1.mul(np.int64(-3))", "binary.mul", ["v3"]],
        ],
    ),
    Known(
        "numpy-scalar-list",
        "Promotion (tensor([np.float64(1.5), 2.0]) is float64) / NEW: np.bool_ in a list of ints accepted",
        "^(dtype|no-exception)\\|create\\.tensor_npscalar",
        [["v6 = torch.tensor([np.bool_(True), -5])", "create.tensor_npscalar", ["v6"]]],
    ),
    Known(
        "bool-arith-stays-bool",
        "Promotion: bool+bool stays bool (and b.add_(b) works)",
        "^(dtype\\|[a-z_.]+\\|dtype (int64|float32)!=bool|exception\\|[a-z]+\\.[a-z_]+ :: raised RuntimeError: result type Long can't be cast to the desired output type Bool)",
        [
            ["v1 = torch.ones(0, dtype=torch.bool)", "create.ones", ["v1"]],
            ["v9 = v1 + False", "binary.add", ["v9"]],
        ],
    ),
    Known(
        "int-alpha",
        "Promotion: int_t.add(10, alpha=2) is int64",
        "^(dtype\\|[a-z]+\\.(add|sub)\\|dtype float32!=int64|exception\\|[a-z_.]+\\.(add|sub)_? :: raised RuntimeError: result type Float can't be cast to the desired output type Long)",
        [
            [
                "v1 = torch.tensor([[[-2]], [[4]], [[1]], [[-5]]], dtype=torch.int64)",
                "create.tensor",
                ["v1"],
            ],
            ["v6 = v1.sub(-1, alpha=-1)", "binary.sub", ["v6"]],
        ],
    ),
    Known(
        "rpow-int",
        "Promotion: 2 ** int_tensor is int64",
        "^dtype\\|[a-z]+\\.r?pow\\|dtype float32!=int64",
        [
            [
                "v1 = torch.tensor([[[-1, -5]], [[3, 5]], [[0, -5]]], dtype=torch.int64)",
                "create.tensor",
                ["v1"],
            ],
            ["v5 = -1 ** v1", "binary.pow", ["v5"]],
        ],
    ),
    Known(
        "where-scalar-promotion",
        "NEW: torch.where(cond, int_tensor, float scalar) stays int64 (PyTorch: float32)",
        "^dtype\\|where\\|dtype int64!=float32",
        [
            ["v6 = torch.tensor([3, -2, -3, 1], dtype=torch.int64)", "create.tensor", ["v6"]],
            ["v10 = torch.where(v6.bool(), v6, np.float32(2))", "where", ["v10"]],
        ],
    ),
    Known(
        "clamp-int-float-bounds",
        "Promotion: int clamp with float bounds is float (clamp_ must raise)",
        "^(dtype\\|[a-z]+\\.clamp\\|dtype int64!=float32|no-exception\\|[a-z]+\\.clamp_? :: .*result type Float can't be cast)",
        [
            ["v2 = torch.arange(1, 7, 2)", "create.arange", ["v2"]],
            ["v2.clamp_(-1, 0.5)", "inplace.clamp_", []],
        ],
    ),
    Known(
        "create-graph-relu-abs",
        "autograd.grad(create_graph=True) through relu/abs: gradients that do not require grad",
        "^requires_grad\\|grad\\.first\\|requires_grad False!=True",
        [
            ["v1 = torch.tensor([], requires_grad=True)", "create.tensor_infer", ["v1"]],
            ["v3 = v1.relu()", "unary.relu", ["v3"]],
            [
                "loss = (v1 * torch.tensor([], dtype=torch.float32)).sum() + (v3 * torch.tensor([], dtype=torch.float32)).sum()",
                "grad.loss",
                ["loss"],
            ],
            [
                "g1 = torch.autograd.grad(loss, [v1], create_graph=True, allow_unused=True)",
                "grad.first",
                ["g1"],
            ],
        ],
    ),
    Known(
        "mean-dtype",
        "NEW: mean(dtype=) is missing (TypeError: unexpected keyword argument)",
        "^(exception|exception-type)\\|[a-z]+\\.mean[^ ]* :: .*unexpected keyword argument 'dtype'",
        [
            ["v1 = torch.full((2, 2), False, dtype=torch.bool)", "create.full", ["v1"]],
            ["v3 = v1.mean(dtype=torch.float32)", "reduce.mean", ["v3"]],
        ],
    ),
    Known(
        "expand-args",
        "NEW: expand() accepts sizes PyTorch refuses (no sizes at all; -1 for a new leading dim)",
        "^no-exception\\|[a-z]+\\.expand :: ",
        [
            ["v1 = torch.tensor(1)", "create.tensor_infer", ["v1"]],
            ["v4 = v1.expand()", "view.expand", ["v4"]],
        ],
    ),
    Known(
        "zero-size-panic",
        "Zero-size tensors at an offset panic (stack/cat/setitem of size-0 views)",
        "^panic\\|.* :: range start index \\d+ out of range for slice of length 0",
        [
            ["v3 = torch.tensor([])", "create.tensor_infer", ["v3"]],
            ["v5 = torch.stack([v3, v3], -2)", "join.stack", ["v5"]],
        ],
    ),
    Known(
        "missing-dtype-checks",
        "NEW: ops PyTorch refuses for bool/int64 inputs run in rustgrad (bool -, unary -, +, relu, abs, pow, matmul/dot; argmax/argmin of bool; softmax of int; sum(dtype=int) of a tensor requiring grad)",
        "^(no-exception\\|[A-Za-z_.]+ :: ran \\(PyTorch raised (RuntimeError|NotImplementedError)\\): .*(bool|Bool|Long|`\\+` operator|Autograd not support dtype|alpha must not be a floating point)|dtype\\|[a-z]+\\.(log_)?softmax\\|dtype float32!=(int64|bool)|exception-type\\|[a-z]+\\.arg(max|min)[^|]*\\|IndexError!=RuntimeError|exception-type\\|binary\\.sub\\|TypeError!=RuntimeError :: .*Subtraction)",
        [
            ["v1 = torch.tensor([0.5, -1])", "create.tensor_npscalar", ["v1"]],
            ["v1.sub_(True)", "inplace.sub_", []],
        ],
    ),
    Known(
        "int-negative-power",
        "Integers: int ** -1 must raise",
        "^no-exception\\|[a-z]+\\.r?pow :: .*Integers to negative integer powers",
        [
            ["v1 = torch.full((3, 1, 1), -2, dtype=torch.int64)", "create.full", ["v1"]],
            ["v4 = v1.pow(-1)", "unary.pow", ["v4"]],
        ],
    ),
    Known(
        "arange-int",
        "Promotion: arange(2.5, dtype=int64) has 2 elements (and a step that truncates to 0 raises)",
        "^(shape|no-exception)\\|create\\.arange",
        [["v13 = torch.arange(2.5, dtype=torch.int64)", "create.arange", ["v13"]]],
    ),
    Known(
        "is-contiguous-empty",
        "NEW: is_contiguous() of a size-0 tensor with a size>1 dim is False (PyTorch: True)",
        "^value\\|convert\\.is_contiguous",
        [
            ["v1 = torch.tensor([[[], []], [[], []]], dtype=torch.int64)", "create.tensor", ["v1"]],
            ["v3 = v1.is_contiguous()", "convert.is_contiguous", ["v3"]],
        ],
    ),
    Known(
        "copy-into-int-requires-grad",
        "Promotion: copying into an int (or bool) tensor never sets requires_grad",
        "^requires_grad\\|[a-z]+\\.(copy_|setitem)\\|requires_grad True!=False",
        [
            [
                "v1 = torch.from_numpy(np.array([[True]], dtype=np.bool_))",
                "create.from_numpy_numpy",
                ["v1"],
            ],
            [
                "v2 = torch.tensor([[1.88]], dtype=torch.float64, requires_grad=True)",
                "create.tensor",
                ["v2"],
            ],
            ["v1.copy_(v2)", "inplace.copy_", ["v1"]],
        ],
    ),
    Known(
        "float-to-int-nonfinite",
        "NEW: casting NaN/inf (or huge) floats to int64 gives other values than PyTorch (copy_, .long(), .to(int64), sum(dtype=int64)), and int(tensor(nan)) does not raise",
        "^(value\\|(inplace\\.(copy_|setitem)|unary\\.(long|to)|reduce\\.sum(\\.dim)?)|no-exception\\|convert\\.int :: .*NaN)",
        [
            ["v1 = torch.linspace(-1, 2, 0, requires_grad=True)", "create.linspace", ["v1"]],
            ["v2 = v1.mean()", "reduce.mean", ["v2"]],
            ["v3 = torch.sin(v2)", "unary.sin", ["v3"]],
            ["v13 = int(v3)", "convert.int", ["v13"]],
        ],
    ),
    Known(
        "masked-grad-pow",
        "Masked gradients leak NaN/inf where PyTorch gives 0: 0**x",
        "^grad\\|grad\\.[a-z]+ :: .* :: .*binary\\.pow",
        [
            ["v2 = torch.tensor([np.bool_(True), False])", "create.tensor_npscalar", ["v2"]],
            [
                "v5 = torch.tensor([1.8, -2.02], dtype=torch.float32, requires_grad=True)",
                "create.tensor",
                ["v5"],
            ],
            ["v6 = torch.pow(v2, v5)", "binary.pow", ["v6"]],
            [
                "loss = (v5 * torch.tensor([-0.36, -2.24], dtype=torch.float32)).sum() + (v6 * torch.tensor([1.2, -0.15], dtype=torch.float32)).sum()",
                "grad.loss",
                ["loss"],
            ],
            [
                "g1 = torch.autograd.grad(loss, [v5], create_graph=True, allow_unused=True)",
                "grad.first",
                ["g1"],
            ],
        ],
    ),
    Known(
        "nan-semantics",
        "NaN semantics: relu(nan) is nan; max/min (and other ops') gradients at NaN/inf",
        "^(value\\|[a-z_.]+\\.((F\\.)?relu|(log_)?softmax)|grad\\|grad\\.(backward|first|second) :: )",
        [
            [
                "v1 = torch.tensor([[[-0.0]], [[4.7]], [[math.nan]], [[-2.44]]], dtype=torch.float64, requires_grad=True)",
                "create.tensor",
                ["v1"],
            ],
            ["v3 = torch.cat([v1], 0)", "join.cat", ["v3"]],
            ["v5 = torch.stack([v1, v3], 0)", "join.stack", ["v5"]],
            ["v15 = torch.relu(v5)", "unary.relu", ["v15"]],
        ],
    ),
    Known(
        "pow-nonfinite",
        "NEW: pow of -inf by a negative fractional exponent (and such libm edge values) differs: (-inf)**-0.5 is 0 in PyTorch",
        "^value\\|[a-z_.]+\\.r?pow",
        [
            [
                "v1 = torch.tensor(np.array([[-0.75, -2.41, math.inf, -2.08], [-math.inf, -0.51, 1.04, 1.43], [math.inf, 1.3, -1.03, 0.13], [-0.98, -0.87, -math.inf, -1.75]], dtype=np.float64), requires_grad=True)",
                "create.tensor_numpy",
                ["v1"],
            ],
            ["v6 = v1.pow(-0.5)", "unary.pow", ["v6"]],
        ],
    ),
    Known(
        "create-graph-extra-requires-grad",
        "NEW: autograd.grad(create_graph=True) returns gradients that require grad where PyTorch's do not (through fill_)",
        "^requires_grad\\|grad\\.first\\|requires_grad True!=False",
        [
            [
                "v1 = torch.tensor([[2.12, -0.42], [2.4, -4.94], [-2.19, 0.97], [-0.5, 3.11]], dtype=torch.float32, requires_grad=True)",
                "create.tensor",
                ["v1"],
            ],
            ["v2 = torch.stack([v1, v1], -3)", "join.stack", ["v2"]],
            ["v2.fill_(0.5)", "inplace.fill_", ["v2"]],
            ["v3 = v2.squeeze()", "view.squeeze", ["v3"]],
            ["v4 = v3.softmax(0)", "unary.softmax", ["v4"]],
            [
                "loss = (v2 * torch.tensor([[[-0.67, 2.57], [-1.27, -1.9], [1.63, 0.31], [-2.43, 1.3]], [[-3.0, 2.76], [0.03, 0.27], [3.0, -3.0], [1.49, 0.44]]], dtype=torch.float32)).sum() + (v3 * torch.tensor([[[0.17, 3.0], [-1.06, 3.0], [-2.53, -1.34], [0.93, -0.8]], [[1.85, -1.76], [-0.99, -2.51], [3.0, 1.31], [3.0, 0.23]]], dtype=torch.float32)).sum() + (v4 * torch.tensor([[[3.0, 1.0], [0.68, -0.56], [-0.55, -0.51], [0.64, 2.58]], [[1.51, 2.94], [-0.13, -1.05], [-0.51, -3.0], [-0.67, 1.02]]], dtype=torch.float32)).sum()",
                "grad.loss",
                ["loss"],
            ],
            [
                "g1 = torch.autograd.grad(loss, [v1], create_graph=True, allow_unused=True)",
                "grad.first",
                ["g1"],
            ],
        ],
    ),
    Known(
        "internal-overlap",
        "NEW: an in-place write whose source overlaps its destination in part (x.unsqueeze(0) += x, x.copy_(x.squeeze())) runs; PyTorch raises",
        "^no-exception\\|inplace\\.[a-z_]+ :: .*refer to a single memory location",
        [
            [
                "v1 = torch.tensor(np.array([-2.5], dtype=np.float32))",
                "create.tensor_numpy",
                ["v1"],
            ],
            ["v3 = v1.squeeze(-1)", "view.squeeze", ["v3"]],
            ["v1.copy_(v3)", "inplace.copy_", []],
        ],
    ),
    Known(
        "contiguous-alias",
        "Aliasing: contiguous() of a contiguous tensor returns a copy, not self (an in-place op on it misses the leaf check; .grad of it is None)",
        "^(no-exception\\|inplace\\.[a-z_]+ :: .*a leaf Variable that requires grad|kind\\|grad\\.[a-z]+ :: .*kind py!=tensor)",
        [
            [
                "v1 = torch.tensor([[[], [], [], []], [[], [], [], []]], dtype=torch.float64, requires_grad=True)",
                "create.tensor",
                ["v1"],
            ],
            ["v3 = v1.contiguous()", "view.contiguous", ["v3"]],
            ["v3.div_(v1)", "inplace.div_", []],
        ],
    ),
    Known(
        "cat-legacy-empty",
        "Other: cat with a legacy empty 1-D tensor",
        "^exception\\|[a-z]+\\.cat :: .*(same number of dimensions|Dimension out of range)",
        [
            [
                "v2 = torch.tensor([[[2.11, -1.89, -1.92, 1.16], [0.9, -0.09, -0.11, -0.27]], [[-3.07, 2.57, 0.66, -0.08], [0.4, 0.02, 0.85, 0.06]], [[-3.66, 0.97, -2.35, -1.01], [-1.39, -0.45, -3.51, -0.9]], [[-3.02, -2.31, -2.9, -1.53], [-0.65, 1.79, 1.67, 0.43]]], dtype=torch.float32)",
                "create.tensor",
                ["v2"],
            ],
            ["v4 = torch.tensor([], dtype=torch.bool)", "create.tensor", ["v4"]],
            ["v7 = torch.cat([v2, v4], -2)", "join.cat", ["v7"]],
        ],
    ),
    Known(
        "inplace-saved-output",
        "NEW: an in-place write to an op's saved output (pow's result) is not detected; PyTorch raises 'modified by an inplace operation'",
        "^no-exception\\|grad\\.(first|backward) :: .*modified by an inplace operation",
        [
            ["v1 = torch.tensor(1.1, dtype=torch.float64)", "create.tensor", ["v1"]],
            [
                "v9 = torch.tensor(-2.33, dtype=torch.float64, requires_grad=True)",
                "create.tensor",
                ["v9"],
            ],
            ["v10 = v1 ** v9", "binary.pow", ["v10"]],
            ["v10.fill_(-3)", "inplace.fill_", ["v10"]],
            ["loss = (v10 * torch.tensor(1.5, dtype=torch.float64)).sum()", "grad.loss", ["loss"]],
            [
                "g1 = torch.autograd.grad(loss, [v9], create_graph=True, allow_unused=True)",
                "grad.first",
                ["g1"],
            ],
        ],
    ),
    Known(
        "spurious-inplace-error",
        "Spurious 'modified by an inplace operation'",
        "^exception\\|grad\\.[a-z]+ :: .*modified by an inplace operation",
        [
            [
                "v1 = torch.ones(4, 2, dtype=torch.float32, requires_grad=True)",
                "create.ones",
                ["v1"],
            ],
            ["v3 = v1.detach()", "view.detach", ["v3"]],
            ["v4 = v1.mul(False)", "binary.mul", ["v4"]],
            ["v3 += -2.5", "inplace.iadd", ["v1", "v3", "v6"]],
            ["v8 = v4.view(-1)", "view.reshape", ["v8"]],
            [
                "loss = (v4 * torch.tensor([[-3.0, 0.79], [1.04, -0.56], [-2.78, -2.16], [1.33, -0.27]], dtype=torch.float32)).sum() + (v8 * torch.tensor([0.54, -1.44, 0.66, -3.0, -1.08, -2.33, -0.29, 3.0], dtype=torch.float32)).sum()",
                "grad.loss",
                ["loss"],
            ],
            ["loss.backward()", "grad.backward", ["v1.grad"]],
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
        "fill-tensor-grad",
        "NEW: x.fill_(t) with a 0-d tensor t that requires grad drops t's gradient (the result does not require grad)",
        "^requires_grad\\|[a-z]+\\.fill_\\|requires_grad False!=True",
        [
            ["v9 = torch.zeros(2, 3, dtype=torch.float64)", "create.zeros", ["v9"]],
            [
                "v10 = torch.tensor(-0.7, dtype=torch.float64, requires_grad=True)",
                "create.tensor",
                ["v10"],
            ],
            ["v11 = v9.clone().fill_(v10)", "opinfo.fill_", ["v11"]],
        ],
    ),
    Known(
        "elementwise-layout",
        "NEW: elementwise results are always contiguous; PyTorch keeps a non-contiguous input's strides, so a later view()/flatten() aliases (or fails) differently",
        "^(no-exception\\|view\\.(reshape|view) :: .*view size is not compatible|value\\|inplace\\.[a-z_]+ :: v\\d+@: value)",
        [
            ["v9 = torch.ones(2, 3, dtype=torch.float32).t()", "create.ones", ["v9"]],
            ["v10 = v9.sqrt()", "unary.sqrt", ["v10"]],
            ["v16 = v10.view(-1)", "view.reshape", ["v16"]],
        ],
    ),
    Known(
        "second-order-unused",
        "NEW: a second-order autograd.grad(..., allow_unused=True) returns a tensor for an input PyTorch reports unused (None)",
        "^kind\\|grad\\.second :: g2: kind tensor!=py",
        [
            [
                "v2 = torch.tensor([[-1.3566654518961707, -0.6072853365930857, 0.09701636841131098], [1.1381290177562453, 0.49246573813312516, 1.4997356845111938]], dtype=torch.float64).detach().requires_grad_()",
                "create.opinfo",
                ["v2"],
            ],
            ["v3 = v2.clone().fill_(True)", "opinfo.fill_", ["v3"]],
            ["v4 = torch.cat([v3], 0)", "join.cat", ["v4"]],
            [
                "v6 = torch.tensor([-1.43, 1.55, -3.67], dtype=torch.float64, requires_grad=True)",
                "create.tensor",
                ["v6"],
            ],
            ["v7 = v4.matmul(v6)", "matmul.matmul", ["v7"]],
            ["v8 = v2[:, 0::1]", "view.slice", ["v8"]],
            ["v18 = torch.relu(v2)", "unary.relu", ["v18"]],
            [
                "loss = (v7 * torch.tensor([0.38, 3.0], dtype=torch.float64)).sum() + (v8 * torch.tensor([[0.8, -0.67, -0.43], [-0.35, 2.71, -1.13]], dtype=torch.float64)).sum() + (v18 * torch.tensor([[-1.69, -0.77, -3.0], [0.36, 1.11, -1.07]], dtype=torch.float64)).sum()",
                "grad.loss",
                [],
            ],
            [
                "g1 = torch.autograd.grad(loss, [v2, v6], create_graph=True, allow_unused=True)",
                "grad.first",
                ["g1"],
            ],
            [
                "gg = sum(((g * g).sum() for g in g1 if g is not None and g.requires_grad), torch.zeros(()))",
                "grad.gg",
                ["gg"],
            ],
            ["g2 = torch.autograd.grad(gg, [v2, v6], allow_unused=True)", "grad.second", ["g2"]],
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
]
