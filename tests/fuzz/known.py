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
        "conv-float32-second-order-rounding",
        "NEW (rounding, not a wrong formula): float32 second derivatives through conv2d / "
        "conv_transpose2d sum many products in another order than PyTorch's kernels; in the "
        "reproducer one of 126 values differs by 2 ulp (-528.4283 against -528.4284), beyond "
        "the float32 tolerance",
        "^grad\\|grad\\.second :: g2: value :: .*opinfo\\.nn\\.functional\\.conv",
        [
            [
                "v6 = torch.tensor([[[[-0.6922562718391418, -1.465039610862732, -1.6686127185821533, 0.44800910353660583], [1.1224368810653687, 0.1289086490869522, 1.5371485948562622, 0.1255205124616623], [1.7012022733688354, 2.2115957736968994, -0.6619444489479065, -0.8028650879859924]], [[-0.5790205597877502, -1.2110567092895508, -0.8715775012969971, -0.7020053267478943], [-0.9734253883361816, -1.7402442693710327, -0.8231439590454102, -0.5822176337242126], [-0.9200420379638672, 0.49966102838516235, 0.6611858606338501, -1.2824770212173462]], [[-1.057816982269287, -0.4172884523868561, -0.8414916396141052, -1.2040183544158936], [0.4482649862766266, -1.224936842918396, -1.7127031087875366, 0.23021863400936127], [0.3588470220565796, 0.17657214403152466, 0.6850308775901794, 1.0748920440673828]]], [[[-0.29350587725639343, 1.7093136310577393, -2.2286767959594727, -1.398084282875061], [0.28684598207473755, -2.4586679935455322, 0.2387976199388504, -1.9559919834136963], [-0.25129878520965576, -1.6771000623703003, 0.5375798940658569, 0.4214940369129181]], [[-0.02637508139014244, -0.4544086456298828, 1.4267445802688599, 2.3987858295440674], [-0.3971623182296753, 0.5021901726722717, -0.16020908951759338, -0.19000332057476044], [-0.7186822295188904, 0.08261660486459732, 0.17194968461990356, -2.0284743309020996]], [[1.493715763092041, -0.7247190475463867, -0.6377174854278564, -0.653523325920105], [-0.5037940144538879, -0.14899323880672455, 0.4541794955730438, 0.7037919163703918], [-0.05283021926879883, 1.2902722358703613, 0.2688502371311188, 0.04486922547221184]]]], dtype=torch.float32).detach().requires_grad_()",
                "create.opinfo",
                ["v6"],
            ],
            [
                "v7 = torch.tensor([[[[1.836470127105713, -1.2561064958572388, 1.403145432472229], [-0.9890177845954895, 1.0176829099655151, -0.7068985104560852], [-0.09785669296979904, -0.0995415672659874, -0.10137805342674255]], [[1.3265905380249023, -1.5756853818893433, -0.794243335723877], [1.7656126022338867, -1.2199903726577759, -0.8226372599601746], [-0.057172901928424835, 0.5568915605545044, -0.48001423478126526]]], [[[0.4793548882007599, -0.7104133367538452, -2.9204959869384766], [1.7335422039031982, -0.9064794182777405, 0.4652600586414337], [-0.4214111268520355, -0.029021481052041054, 1.1695489883422852]], [[0.7266684174537659, -0.34183067083358765, 0.7477989792823792], [0.11671711504459381, 0.5846071243286133, 0.2429925501346588], [0.5891197919845581, -1.4517418146133423, 1.8102248907089233]]], [[[-0.5178313851356506, -1.0535387992858887, 1.1555325984954834], [0.6621825695037842, 1.4051223993301392, -1.8810577392578125], [-0.24715955555438995, -1.3126980066299438, 1.6898788213729858]], [[1.3227787017822266, 0.24686427414417267, -0.47746801376342773], [-1.545026183128357, -1.9226070642471313, 1.1933188438415527], [-1.973473072052002, -1.283967137336731, 0.7863591313362122]]]], dtype=torch.float32).detach().requires_grad_()",
                "create.opinfo",
                ["v7"],
            ],
            [
                "v8 = torch.tensor([1.209119439125061, -0.5459545850753784], dtype=torch.float32)",
                "create.opinfo",
                ["v8"],
            ],
            [
                "v9 = torch.nn.functional.conv_transpose2d(v6, v7, v8)",
                "opinfo.nn.functional.conv_transpose2d",
                ["v9"],
            ],
            [
                "v12 = v7.pow(2.0)",
                "unary.pow",
                ["v12"],
            ],
            [
                "loss = (v7 * torch.tensor([[[[-3.0, -0.55, -3.0], [1.68, 2.14, 3.0], [2.16, 1.6, -3.0]], [[0.98, -1.43, 1.44], [0.49, 2.97, -0.87], [3.0, 3.0, -1.83]]], [[[2.1, -1.87, 1.37], [0.08, 3.0, -3.0], [1.77, -0.86, -0.56]], [[0.02, 1.07, 2.92], [-3.0, 0.19, 0.95], [-0.03, -2.47, 0.14]]], [[[-0.51, -2.88, -3.0], [-3.0, -0.98, 0.11], [3.0, 1.5, 3.0]], [[-0.9, -0.08, 1.4], [0.01, -1.55, 0.72], [1.9, -3.0, 1.07]]]], dtype=torch.float32)).sum() + (v9 * torch.tensor([[[[0.19, -0.61, -0.93, 0.45, 1.45, -3.0], [1.13, 1.36, 0.36, 0.41, 0.65, -0.72], [3.0, 1.54, 0.32, 0.13, 3.0, 2.02], [-3.0, 0.01, 1.17, -0.06, -0.81, 2.56], [-1.4, 0.69, -1.19, 1.21, -3.0, 0.55]], [[-1.95, -1.69, 0.76, 1.39, -0.72, 0.05], [0.41, -0.51, -0.04, 1.41, 0.85, -1.13], [-1.73, -0.63, 0.7, -1.64, 0.99, 1.04], [-3.0, 1.66, 2.58, 1.29, 0.13, 0.14], [-1.85, -0.9, -3.0, -1.16, 0.99, -2.9]]], [[[-2.66, 0.83, 1.12, -0.31, -3.0, -0.05], [0.57, -1.87, -1.36, -2.46, -3.0, 0.77], [-2.9, -1.83, 0.75, -0.34, 3.0, -2.47], [0.12, -3.0, -0.45, 3.0, 3.0, -0.11], [0.67, -1.51, 0.66, -0.72, -3.0, 1.61]], [[1.71, 2.13, 1.78, 2.27, 3.0, -0.72], [-2.23, -1.58, -0.04, 2.38, 1.85, 0.24], [-1.58, -1.48, -1.94, -1.62, -1.41, 0.96], [3.0, -1.73, 2.9, -1.92, 1.41, -2.31], [0.11, -0.56, 3.0, 1.6, -1.51, -1.95]]]], dtype=torch.float32)).sum() + (v12 * torch.tensor([[[[-3.0, 1.45, 2.23], [-2.45, 3.0, -1.01], [2.56, 0.23, 0.79]], [[-3.0, 1.96, -0.25], [-0.31, 2.0, 2.45], [0.79, -0.2, 0.93]]], [[[3.0, 0.49, 1.92], [3.0, -1.52, -1.26], [-0.7, 0.18, -0.93]], [[-0.12, 0.92, 1.63], [3.0, 0.97, 1.15], [0.32, -3.0, -2.0]]], [[[-1.09, 0.97, 1.89], [-1.58, 2.52, 0.36], [3.0, 0.49, 2.28]], [[-0.4, -2.96, 1.8], [-0.82, -1.97, -0.55], [-2.96, -1.79, 1.65]]]], dtype=torch.float32)).sum()",
                "grad.loss",
                [],
            ],
            [
                "g1 = torch.autograd.grad(loss, [v6, v7], create_graph=True, allow_unused=True)",
                "grad.first",
                ["g1"],
            ],
            [
                "gg = sum(((g * g).sum() for g in g1 if g is not None and g.requires_grad), torch.zeros(()))",
                "grad.gg",
                ["gg"],
            ],
            [
                "g2 = torch.autograd.grad(gg, [v6, v7], allow_unused=True)",
                "grad.second",
                ["g2"],
            ],
        ],
    ),
    Known(
        "norm-float32-second-order-rounding",
        "NEW (rounding, not a wrong formula): float32 second derivatives of norm(p < 1), whose "
        "|x|^(p - 2) terms cancel, differ from PyTorch's beyond the float32 tolerance; in the "
        "reproducer rustgrad's 25.72229 is the nearer to the float64 value 25.7222908 "
        "(PyTorch: 25.722198)",
        "^grad\\|grad\\.second :: g2: value :: .*opinfo\\.norm",
        [
            [
                "v10 = torch.tensor([[1.1512922048568726, -1.8495584726333618, -0.24084815382957458, -0.6771700382232666], [-0.3835388720035553, 0.34273141622543335, 1.2286616563796997, 0.21288824081420898], [0.4934249520301819, 0.3887732923030853, -0.07445841282606125, -0.866351306438446]], dtype=torch.float32).detach().requires_grad_()",
                "create.opinfo",
                ["v10"],
            ],
            ["v11 = v10.norm(0.5, 1)", "opinfo.norm", ["v11"]],
            [
                "loss = (v10 * torch.tensor([[-0.43, -2.12, 2.35, -2.34], [-0.17, 1.23, 0.78, -0.88], [-0.16, -0.9, 2.88, 0.43]], dtype=torch.float32)).sum() + (v11 * torch.tensor([-0.71, -3.0, -0.55], dtype=torch.float32)).sum()",
                "grad.loss",
                [],
            ],
            [
                "g1 = torch.autograd.grad(loss, [v10], create_graph=True, allow_unused=True)",
                "grad.first",
                ["g1"],
            ],
            [
                "gg = sum(((g * g).sum() for g in g1 if g is not None and g.requires_grad), torch.zeros(()))",
                "grad.gg",
                ["gg"],
            ],
            ["g2 = torch.autograd.grad(gg, [v10], allow_unused=True)", "grad.second", ["g2"]],
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
        "expand-args",
        "NEW: expand() accepts sizes PyTorch refuses (no sizes at all; -1 for a new leading dim)",
        "^no-exception\\|[a-z]+\\.expand :: ",
        [
            ["v1 = torch.tensor(1)", "create.tensor_infer", ["v1"]],
            ["v4 = v1.expand()", "view.expand", ["v4"]],
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
        "cumprod-dtype-second-order",
        "NEW: second-order gradient values of cumprod(dtype=float64) of a float32 input differ "
        "from PyTorch's (first order and values agree)",
        "^grad\\|grad\\.second :: .*opinfo\\.cumprod",
        [
            [
                "v6 = torch.tensor([[-0.9686419367790222, -1.288686752319336, -0.0010351930977776647], [-0.9726478457450867, 0.6605782508850098, 0.18506111204624176]], dtype=torch.float32).detach().requires_grad_()",
                "create.opinfo",
                ["v6"],
            ],
            ["v7 = torch.cumprod(v6, dim=1, dtype=torch.float64)", "opinfo.cumprod", ["v7"]],
            [
                "loss = (v6 * torch.tensor([[-2.2, -1.4, 0.45], [-1.92, 0.56, -2.78]], dtype=torch.float32)).sum() + (v7 * torch.tensor([[-0.36, -3.0, -1.55], [-1.14, -0.1, -0.63]], dtype=torch.float64)).sum()",
                "grad.loss",
                [],
            ],
            [
                "g1 = torch.autograd.grad(loss, [v6], create_graph=True, allow_unused=True)",
                "grad.first",
                ["g1"],
            ],
            [
                "gg = sum(((g * g).sum() for g in g1 if g is not None and g.requires_grad), torch.zeros(()))",
                "grad.gg",
                ["gg"],
            ],
            ["g2 = torch.autograd.grad(gg, [v6], allow_unused=True)", "grad.second", ["g2"]],
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
