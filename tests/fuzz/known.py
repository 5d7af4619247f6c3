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
        "torch-empty-matmul-skips-dtype-check",
        "NOT a rustgrad bug: PyTorch's batched matmul with a size-0 operand returns an empty result without checking the dtypes (bool @ int64 gives an empty int64 tensor); rustgrad raises PyTorch's own dtype error, as PyTorch does for the same operands at any other size",
        "^exception\\|matmul\\.matmul :: raised RuntimeError: expected m1 and m2 to have the same dtype",
        [
            ["v2 = torch.zeros(0, 2, dtype=torch.bool)", "create.zeros", ["v2"]],
            [
                "v9 = torch.tensor([[[5, 1], [4, -1]]], dtype=torch.int64)",
                "create.tensor",
                ["v9"],
            ],
            ["v10 = v2 @ v9", "matmul.matmul", ["v10"]],
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
        "float32-rounding-conv-transpose",
        "NOT a bug: float32 rounding of a first-order conv_transpose2d weight gradient (sums of "
        "hundreds of products with cancellation): rustgrad's error against the float64 run "
        "(1.1e-2 at elements of up to 790) is PyTorch's own (1.07e-2), at a few elements the "
        "farther of the two",
        "^grad\\|grad\\.(backward :: v\\d+\\.grad|first :: g1): value :: .*opinfo\\.nn\\.functional\\.conv_transpose2d",
        [
            [
                "v2 = torch.tensor([[[[-0.6922562718391418, -1.465039610862732, -1.6686127185821533, 0.44800910353660583], [1.1224368810653687, 0.1289086490869522, 1.5371485948562622, 0.1255205124616623], [1.7012022733688354, 2.2115957736968994, -0.6619444489479065, -0.8028650879859924]], [[-0.5790205597877502, -1.2110567092895508, -0.8715775012969971, -0.7020053267478943], [-0.9734253883361816, -1.7402442693710327, -0.8231439590454102, -0.5822176337242126], [-0.9200420379638672, 0.49966102838516235, 0.6611858606338501, -1.2824770212173462]], [[-1.057816982269287, -0.4172884523868561, -0.8414916396141052, -1.2040183544158936], [0.4482649862766266, -1.224936842918396, -1.7127031087875366, 0.23021863400936127], [0.3588470220565796, 0.17657214403152466, 0.6850308775901794, 1.0748920440673828]]], [[[-0.29350587725639343, 1.7093136310577393, -2.2286767959594727, -1.398084282875061], [0.28684598207473755, -2.4586679935455322, 0.2387976199388504, -1.9559919834136963], [-0.25129878520965576, -1.6771000623703003, 0.5375798940658569, 0.4214940369129181]], [[-0.02637508139014244, -0.4544086456298828, 1.4267445802688599, 2.3987858295440674], [-0.3971623182296753, 0.5021901726722717, -0.16020908951759338, -0.19000332057476044], [-0.7186822295188904, 0.08261660486459732, 0.17194968461990356, -2.0284743309020996]], [[1.493715763092041, -0.7247190475463867, -0.6377174854278564, -0.653523325920105], [-0.5037940144538879, -0.14899323880672455, 0.4541794955730438, 0.7037919163703918], [-0.05283021926879883, 1.2902722358703613, 0.2688502371311188, 0.04486922547221184]]]], dtype=torch.float32)",
                "create.opinfo",
                ["v2"],
            ],
            [
                "v3 = torch.tensor([[[[1.836470127105713, -1.2561064958572388, 1.403145432472229], [-0.9890177845954895, 1.0176829099655151, -0.7068985104560852], [-0.09785669296979904, -0.0995415672659874, -0.10137805342674255]], [[1.3265905380249023, -1.5756853818893433, -0.794243335723877], [1.7656126022338867, -1.2199903726577759, -0.8226372599601746], [-0.057172901928424835, 0.5568915605545044, -0.48001423478126526]]], [[[0.4793548882007599, -0.7104133367538452, -2.9204959869384766], [1.7335422039031982, -0.9064794182777405, 0.4652600586414337], [-0.4214111268520355, -0.029021481052041054, 1.1695489883422852]], [[0.7266684174537659, -0.34183067083358765, 0.7477989792823792], [0.11671711504459381, 0.5846071243286133, 0.2429925501346588], [0.5891197919845581, -1.4517418146133423, 1.8102248907089233]]], [[[-0.5178313851356506, -1.0535387992858887, 1.1555325984954834], [0.6621825695037842, 1.4051223993301392, -1.8810577392578125], [-0.24715955555438995, -1.3126980066299438, 1.6898788213729858]], [[1.3227787017822266, 0.24686427414417267, -0.47746801376342773], [-1.545026183128357, -1.9226070642471313, 1.1933188438415527], [-1.973473072052002, -1.283967137336731, 0.7863591313362122]]]], dtype=torch.float32).detach().requires_grad_()",
                "create.opinfo",
                ["v3"],
            ],
            [
                "v4 = torch.tensor([1.209119439125061, -0.5459545850753784], dtype=torch.float32).detach().requires_grad_()",
                "create.opinfo",
                ["v4"],
            ],
            [
                "v5 = torch.nn.functional.conv_transpose2d(v2, v3, v4)",
                "opinfo.nn.functional.conv_transpose2d",
                ["v5"],
            ],
            ["v8 = v5.log()", "unary.log", ["v8"]],
            ["v10 = v3.tanh()", "unary.tanh", ["v10"]],
            [
                "loss = (v5 * torch.tensor([[[[3.0, 1.5, -3.0, 2.34, 0.75, -3.0], [0.19, -3.0, -1.19, -1.57, 3.0, -0.78], [-0.77, 3.0, -0.75, 0.62, -0.31, -3.0], [-2.25, 0.68, -1.15, 0.89, 1.18, -1.5], [1.52, -0.14, -0.41, -0.09, -0.32, -0.87]], [[-0.01, -2.17, 0.29, 2.11, 1.34, -0.98], [-0.08, -3.0, -3.0, -0.21, -1.17, 0.66], [-0.53, 1.32, 3.0, -0.01, -0.39, 1.98], [-0.24, -0.03, 0.99, -0.66, 2.49, -0.84], [-0.78, 1.8, 0.41, -0.83, 0.38, 0.16]]], [[[-2.08, 1.46, 3.0, -2.74, 2.12, -1.68], [-0.91, 0.62, -2.53, -0.51, 1.84, -0.97], [-0.5, 0.94, 1.58, 1.75, 0.77, 1.46], [2.69, 0.04, 1.8, 2.76, 1.6, -0.39], [-2.23, 0.56, -3.0, -0.55, 0.71, -0.89]], [[-0.36, 0.03, 3.0, -2.06, 2.17, -0.5], [0.87, 1.56, 0.73, 0.89, -0.86, 0.9], [3.0, -1.77, -0.04, 1.31, 2.14, 3.0], [0.89, -3.0, -0.37, -2.39, -1.08, 1.01], [-1.49, -0.02, -2.3, -2.51, 1.93, 3.0]]]], dtype=torch.float32)).sum() + (v8 * torch.tensor([[[[2.24, 0.94, -0.8, -3.0, -2.17, 2.43], [-0.81, -0.44, 0.55, -0.25, -3.0, 0.54], [-0.64, 3.0, -1.1, -0.3, 0.05, -3.0], [-1.64, -1.56, 1.27, -1.13, 0.6, 0.38], [1.43, -1.31, 3.0, -1.5, 2.33, 2.97]], [[-0.17, 1.06, 1.75, -1.25, -1.94, -0.03], [-3.0, -1.14, -2.54, -0.73, 2.24, 2.28], [-0.34, -2.59, -2.0, 1.09, -3.0, 1.4], [-2.09, 2.67, 3.0, 1.17, 3.0, 1.1], [2.83, -3.0, 1.64, -0.26, 1.48, -1.06]]], [[[-1.74, 0.04, 1.47, -1.77, -2.76, -0.37], [3.0, 3.0, 3.0, -0.69, -3.0, -1.29], [-0.96, 3.0, -0.23, -3.0, -0.33, -0.13], [-0.15, -0.86, -0.07, 3.0, -1.45, -0.41], [-1.14, 2.0, -2.52, 0.04, 1.05, -3.0]], [[0.7, 0.83, 1.44, 2.23, -0.23, -3.0], [0.07, 2.27, 1.47, -1.96, -1.36, 0.92], [-0.3, 0.65, 0.61, 3.0, 1.13, 1.42], [3.0, 2.79, -1.57, -0.24, 1.22, 1.3], [2.94, 3.0, -0.77, 1.96, -1.5, -2.35]]]], dtype=torch.float32)).sum() + (v10 * torch.tensor([[[[-0.2, 3.0, -2.14], [-3.0, -3.0, -1.05], [0.46, -0.69, 0.21]], [[0.91, 3.0, -1.77], [-0.58, 0.34, -1.63], [3.0, -1.57, 2.47]]], [[[-3.0, -1.43, 0.94], [-0.68, 0.27, -1.76], [1.59, -0.02, 1.67]], [[-3.0, 0.14, 1.99], [0.86, 0.89, -0.06], [-0.39, 2.18, -2.11]]], [[[-3.0, 2.05, -0.57], [0.56, 2.35, -0.48], [-3.0, 2.27, -0.81]], [[0.66, -3.0, 1.78], [-0.45, -2.73, -2.53], [1.11, 0.29, 0.58]]]], dtype=torch.float32)).sum()",
                "grad.loss",
                [],
            ],
            ["loss.backward()", "grad.backward", ["v3.grad", "v4.grad"]],
        ],
    ),
    Known(
        "float32-rounding-pinverse",
        "NOT a bug: float32 rounding of pinverse's gradient (an SVD-based pseudo-inverse of a small matrix, differentiated; rustgrad's SVD is not LAPACK's): 3e-5 on elements of 26 (1.3e-6 of them)",
        "^grad\\|grad\\.(first :: g1|backward :: v\\d+\\.grad): value :: .*opinfo\\.pinverse",
        [
            [
                "v1 = torch.tensor(-0.23, dtype=torch.float32, requires_grad=True)",
                "create.tensor",
                ["v1"],
            ],
            [
                "v6 = torch.tensor([[0.18273770809173584, 7.0, 0.6607658863067627, 7.0], [0.01102971937507391, 7.0, -1.0251177549362183, 7.0]], dtype=torch.float32)[..., ::2].detach().requires_grad_()",
                "create.opinfo",
                ["v6"],
            ],
            ["v7 = v6.pinverse()", "opinfo.pinverse", ["v7"]],
            ["v7[None] = np.float32(2)", "inplace.setitem", []],
            [
                "v8 = torch.tensor([[-1.7227907180786133, 1.2036564350128174, 0.37179577350616455], [1.0169484615325928, 0.18270333111286163, -1.349477767944336], [1.477731466293335, -0.5651945471763611, -0.8254778981208801], [-1.349396824836731, -1.9069817066192627, 0.6254003643989563]], dtype=torch.float32).transpose(-1, -2).detach().requires_grad_()",
                "create.opinfo",
                ["v8"],
            ],
            ["v9 = v8.std()", "opinfo.std", ["v9"]],
            [
                "loss = (v7 * torch.tensor([[1.27, -0.49], [-1.49, -0.97]], dtype=torch.float32)).sum() + (v8 * torch.tensor([[0.16, -2.66, -0.04, -1.02], [-3.0, 3.0, -0.14, -0.86], [-0.47, -2.06, 0.5, 2.03]], dtype=torch.float32)).sum() + (v9 * torch.tensor(1.5, dtype=torch.float32)).sum()",
                "grad.loss",
                [],
            ],
            [
                "g1 = torch.autograd.grad(loss, [v1, v6, v8], create_graph=True, allow_unused=True)",
                "grad.first",
                ["g1"],
            ],
        ],
    ),
    Known(
        "gradient-sum-order-at-a-pole",
        "NOT a bug: several gradients of one tensor that cancel exactly (coefficients -1.35 + 3.0 - 1.87 + 0.22) are added in another order than PyTorch's (PyTorch's setitem records an ExpandBackward0 node for the broadcast value, which changes when its contribution arrives): one sum is 0, the other -2.8e-17, and a division by zero downstream turns them into NaN and -inf",
        "^grad\\|grad\\.first :: g1: value :: .*binary\\.div.*inplace\\.setitem",
        [
            [
                "v2 = torch.tensor([[-4.79], [2.93], [-0.17], [4.33]], dtype=torch.float64, requires_grad=True)",
                "create.tensor",
                ["v2"],
            ],
            ["v3 = torch.full((1,), 0, dtype=torch.int64)", "create.full", ["v3"]],
            ["v4 = v2 / v3", "binary.div", ["v4"]],
            ["v6 = torch.stack([v4, v2], -3)", "join.stack", ["v6"]],
            ["v9 = v4.to(torch.float64)", "unary.to", ["v9"]],
            ["v6[1:] = v9", "inplace.setitem", ["v6"]],
            [
                "loss = (v4 * torch.tensor([[-1.35], [0.6], [-2.63], [-0.74]], dtype=torch.float64)).sum() + (v6 * torch.tensor([[[3.0], [1.0], [1.64], [3.0]], [[0.22], [0.41], [0.1], [1.86]]], dtype=torch.float64)).sum() + (v9 * torch.tensor([[-1.87], [-1.28], [-3.0], [-3.0]], dtype=torch.float64)).sum()",
                "grad.loss",
                [],
            ],
            [
                "g1 = torch.autograd.grad(loss, [v2], create_graph=True, allow_unused=True)",
                "grad.first",
                ["g1"],
            ],
        ],
    ),
    Known(
        "torch-logcumsumexp-second-order-past-inf",
        "NOT a rustgrad bug: with an infinite first-order gradient at one element (1/x at x = -0), the second-order gradient of logcumsumexp couples that element to the rest of its row, so the row is inf/NaN in exact arithmetic (rustgrad: NaN); PyTorch's backward formula (exp of reversed logcumsumexps) drops the coupling and gives finite values beside the pole",
        "^grad\\|grad\\.second :: g2: value :: .*opinfo\\.logcumsumexp",
        [
            [
                "v1 = torch.tensor([[[0.65, 2.34, 2.6], [4.03, 0.9, 2.56], [0.03, -3.88, 0.59], [-1.1, 1.68, 1.28]], [[-0.14, -0.0, -0.41], [-2.08, 1.12, 1.49], [1.49, 1.08, -0.67], [-0.07, -2.72, -1.57]], [[-0.41, -1.3, 1.32], [0.5, 0.79, 0.78], [-0.78, -3.41, -2.94], [-1.82, 1.16, 0.56]], [[2.05, 1.85, 0.26], [-2.68, 3.11, 3.07], [-0.53, 2.26, -6.99], [2.98, 0.64, 2.03]]], dtype=torch.float64)",
                "create.tensor",
                ["v1"],
            ],
            ["v2 = v1.cos()", "unary.cos", ["v2"]],
            ["v4 = v2.sqrt()", "unary.sqrt", ["v4"]],
            [
                "v6 = torch.tensor([[2.0, 2.0, -0.0, -1.0, 1.0, 2.0], [1.0, -1.0, 1.0, 2.0, 1.0, 1.0]], dtype=torch.float64).detach().requires_grad_()",
                "create.opinfo",
                ["v6"],
            ],
            ["v7 = torch.logcumsumexp(v6, 1)", "opinfo.logcumsumexp", ["v7"]],
            [
                "v8 = torch.tensor([[0.8463276624679565, 2.3768863677978516, 0.08556504547595978], [-0.768855631351471, -0.20257653295993805, 1.8599780797958374]], dtype=torch.float32).detach().requires_grad_()",
                "create.opinfo",
                ["v8"],
            ],
            ["v11 = -v7", "unary.neg", ["v11"]],
            ["v13 = v6 ** -1", "binary.pow", ["v13"]],
            ["v16 = v4.cos()", "unary.cos", ["v16"]],
            [
                "loss = (v11 * torch.tensor([[0.11, -1.39, 1.65, -0.5, -2.3, -2.54], [1.16, -2.34, -0.92, 1.06, 1.92, -0.27]], dtype=torch.float64)).sum() + (v13 * torch.tensor([[1.52, -3.0, 0.96, -1.17, -3.0, 0.27], [3.0, 0.23, 0.17, 0.31, 1.25, 0.97]], dtype=torch.float64)).sum() + (v16 * torch.tensor([[[-1.85, -1.39, 1.51], [3.0, 1.6, 1.01], [1.26, 0.4, 1.05], [-1.39, -0.57, 2.0]], [[2.6, 2.26, -0.03], [-2.92, -0.85, -0.19], [-1.32, -2.17, 1.0], [0.61, -1.77, 2.32]], [[0.55, -1.71, 1.57], [-2.29, 1.88, 1.77], [0.95, -1.29, -0.38], [2.12, 0.34, 1.64]], [[-1.35, -0.99, -2.89], [3.0, -1.25, 0.91], [2.22, 1.68, -0.49], [-1.02, -3.0, 1.2]]], dtype=torch.float64)).sum()",
                "grad.loss",
                [],
            ],
            [
                "g1 = torch.autograd.grad(loss, [v6, v8], create_graph=True, allow_unused=True)",
                "grad.first",
                ["g1"],
            ],
            [
                "gg = sum(((g * g).sum() for g in g1 if g is not None and g.requires_grad), torch.zeros(()))",
                "grad.gg",
                ["gg"],
            ],
            ["g2 = torch.autograd.grad(gg, [v6, v8], allow_unused=True)", "grad.second", ["g2"]],
        ],
    ),
    Known(
        "float32-rounding-second-order-conv",
        "NOT a bug: float32 rounding of a second-order conv2d/conv3d/conv_transpose2d gradient "
        "(sums of hundreds of products): rustgrad's largest error against the float64 run is "
        "below PyTorch's (6.3e-5 against 1.3e-4), but at a few elements it is the farther of "
        "the two (conv_transpose2d: 8.1e-5 against 4.1e-5 at one element of 510, 1.6e-7 of it)",
        "^grad\\|grad\\.second :: g2: value :: .*opinfo\\.nn\\.functional\\.conv(_transpose)?[23]d",
        [
            [
                "v6 = torch.tensor([[[[-1.5478299856185913, 0.05059126392006874, 0.5918319225311279, -1.3066974878311157, 1.1326634883880615], [0.24503353238105774, 0.1968839317560196, 0.7131112217903137, -0.03324482962489128, -1.2015361785888672], [-2.0434458255767822, 1.0537465810775757, -0.6901268362998962, -0.7744380831718445, 0.11501852422952652], [-1.8921743631362915, 0.5697159171104431, 0.3420211374759674, 1.0260528326034546, -0.517789363861084], [0.3310169577598572, -1.0194835662841797, -0.9702240228652954, 0.6105808615684509, 1.176095962524414]], [[-0.3103824555873871, 1.2361477613449097, 1.059173822402954, -0.9892553687095642, 1.3159328699111938], [-0.25686222314834595, -0.5680859684944153, 0.1472427248954773, 2.364881753921509, -1.7431793212890625], [-0.6337128281593323, -0.09341754764318466, -0.34193071722984314, -0.7152085900306702, 0.7361690998077393], [0.8084036707878113, -1.6016879081726074, 1.3657090663909912, 0.178577721118927, 0.08917692303657532], [-0.2825440764427185, 1.2971326112747192, 0.7703073024749756, 0.9433459043502808, 0.12289868295192719]], [[-0.3326108157634735, -0.7550784349441528, -1.4759986400604248, 0.7140494585037231, -0.6562883257865906], [0.5150009393692017, 0.3526499569416046, -0.7391788363456726, 1.8626452684402466, 1.7159955501556396], [-0.12088234722614288, -0.891322135925293, 1.4947638511657715, -1.116616129875183, 0.33986321091651917], [-0.17302648723125458, 0.16967613995075226, 0.5041911602020264, 1.1665652990341187, -0.3010091781616211], [0.7410624623298645, -0.15110225975513458, 0.40848293900489807, -1.0410494804382324, -1.0222234725952148]]], [[[0.28577691316604614, 1.4452954530715942, -0.43535470962524414, -1.6504241228103638, -1.0483921766281128], [0.6444343328475952, -1.4535845518112183, 0.5653238892555237, -0.8474375605583191, -0.5462485551834106], [0.834097146987915, -1.057579517364502, -0.38096752762794495, 2.9236485958099365, -1.0854960680007935], [0.6904383897781372, 0.5662746429443359, 0.012253179214894772, -1.1801623106002808, 1.1474287509918213], [1.3097693920135498, -0.40947070717811584, -1.3222342729568481, -1.1355925798416138, 0.6759467720985413]], [[-0.717793345451355, 0.09092561155557632, 1.6458581686019897, -0.0809977650642395, -0.35179802775382996], [0.22777366638183594, -0.8938285708427429, 0.5764975547790527, -1.1100764274597168, 0.2316867709159851], [1.5065308809280396, 1.980034589767456, 1.2638695240020752, -0.5433474779129028, 0.5739651322364807], [0.2700156271457672, -1.389154314994812, -0.29703500866889954, 1.8215211629867554, 1.3213027715682983], [0.12672746181488037, 0.45029327273368835, 1.5167211294174194, 0.31494033336639404, 0.6571387648582458]], [[-1.7099703550338745, 0.08076532930135727, 1.2127876281738281, 0.022205064073204994, 0.059331510215997696], [-0.763241171836853, -0.6829950213432312, 0.8644630312919617, 0.7313442826271057, 0.3404836654663086], [-0.09031375497579575, 1.2668274641036987, 0.7130301594734192, 1.3677133321762085, -1.400899052619934], [1.744125485420227, -2.093762159347534, 0.03704961761832237, -0.48912981152534485, 0.32952237129211426], [1.2983949184417725, -0.11857248842716217, -1.0512381792068481, 0.7280660271644592, 1.2970945835113525]]]], dtype=torch.float32).detach().requires_grad_()",
                "create.opinfo",
                ["v6"],
            ],
            [
                "v7 = torch.tensor([[[[-0.9469373226165771, -0.5145860314369202, 0.4004628658294678], [-0.2815638780593872, -0.45235827565193176, 0.056036077439785004], [-0.4096510708332062, 0.4947989583015442, 0.4711211025714874]], [[0.900934636592865, -0.23969684541225433, -0.9622277617454529], [-0.338080495595932, -0.40235191583633423, -0.161254420876503], [-0.8020896315574646, 0.5263876914978027, -0.807488739490509]], [[1.8955682516098022, 1.4800605773925781, -0.20191556215286255], [1.0716801881790161, -0.7554003596305847, 1.6109057664871216], [-0.7822315096855164, -0.7186065912246704, 0.1531069278717041]]], [[[0.27298176288604736, -0.4145098924636841, -1.0481500625610352], [0.20466092228889465, -1.7367066144943237, -0.21750500798225403], [0.18959589302539825, -1.8777756690979004, 0.3187435567378998]], [[-1.0682648420333862, -0.048198822885751724, -0.4676218628883362], [-0.3840392827987671, 0.023235779255628586, 0.3582915663719177], [-0.09025594592094421, 0.06816578656435013, -1.7181512117385864]], [[2.3816275596618652, 0.9927195310592651, -0.016732241958379745], [0.960645318031311, -1.1176012754440308, 0.7337016463279724], [0.9715167284011841, 0.006173401605337858, -0.4626266658306122]]], [[[1.3072624206542969, 2.2939908504486084, 1.126208782196045], [0.05943750590085983, -1.4420033693313599, 0.334243506193161], [1.229883074760437, -2.002009868621826, -1.6890069246292114]], [[-0.28802794218063354, -2.2496230602264404, 0.625055730342865], [-0.6197248101234436, 0.4012611508369446, 2.3681578636169434], [0.550571858882904, -1.1340408325195312, -0.5900676846504211]], [[1.5950368642807007, -0.38437432050704956, -0.6824743151664734], [1.5893055200576782, -1.7855548858642578, 0.13713009655475616], [-1.1901533603668213, -1.7023565769195557, -0.8066530823707581]]], [[[-0.12900912761688232, 0.07396212965250015, 1.2356301546096802], [-0.06330017745494843, -0.47163859009742737, -0.5522521138191223], [-0.28580135107040405, -0.0799151137471199, 0.014146769419312477]], [[-0.4575406312942505, 1.3343768119812012, -0.27837225794792175], [1.2450772523880005, -1.5505552291870117, -0.4678005576133728], [-0.7753682732582092, -0.7553650140762329, -0.6024195551872253]], [[-0.25969481468200684, 1.6531213521957397, -1.2980396747589111], [1.141345500946045, -0.8747621178627014, -0.4692024290561676], [-0.5405563116073608, 0.5585765838623047, 2.5454208850860596]]]], dtype=torch.float32).detach().requires_grad_()",
                "create.opinfo",
                ["v7"],
            ],
            [
                "v8 = torch.tensor([-1.1750239133834839, 0.013858960941433907, -1.4245672225952148, 0.3209785223007202], dtype=torch.float32)",
                "create.opinfo",
                ["v8"],
            ],
            ["v9 = torch.nn.functional.conv2d(v6, v7, v8)", "opinfo.nn.functional.conv2d", ["v9"]],
            ["v12 = v9.transpose(-2, -3)", "view.transpose", ["v12"]],
            [
                "loss = (v7 * torch.tensor([[[[-3.0, -0.98, 0.11], [3.0, 1.5, 3.0], [-0.9, -0.08, 1.4]], [[0.01, -1.55, 0.72], [1.9, -3.0, 1.07], [0.19, -0.61, -0.93]], [[0.45, 1.45, -3.0], [1.13, 1.36, 0.36], [0.41, 0.65, -0.72]]], [[[3.0, 1.54, 0.32], [0.13, 3.0, 2.02], [-3.0, 0.01, 1.17]], [[-0.06, -0.81, 2.56], [-1.4, 0.69, -1.19], [1.21, -3.0, 0.55]], [[-1.95, -1.69, 0.76], [1.39, -0.72, 0.05], [0.41, -0.51, -0.04]]], [[[1.41, 0.85, -1.13], [-1.73, -0.63, 0.7], [-1.64, 0.99, 1.04]], [[-3.0, 1.66, 2.58], [1.29, 0.13, 0.14], [-1.85, -0.9, -3.0]], [[-1.16, 0.99, -2.9], [-2.66, 0.83, 1.12], [-0.31, -3.0, -0.05]]], [[[0.57, -1.87, -1.36], [-2.46, -3.0, 0.77], [-2.9, -1.83, 0.75]], [[-0.34, 3.0, -2.47], [0.12, -3.0, -0.45], [3.0, 3.0, -0.11]], [[0.67, -1.51, 0.66], [-0.72, -3.0, 1.61], [1.71, 2.13, 1.78]]]], dtype=torch.float32)).sum() + (v9 * torch.tensor([[[[2.27, 3.0, -0.72], [-2.23, -1.58, -0.04], [2.38, 1.85, 0.24]], [[-1.58, -1.48, -1.94], [-1.62, -1.41, 0.96], [3.0, -1.73, 2.9]], [[-1.92, 1.41, -2.31], [0.11, -0.56, 3.0], [1.6, -1.51, -1.95]], [[-3.0, 1.45, 2.23], [-2.45, 3.0, -1.01], [2.56, 0.23, 0.79]]], [[[-3.0, 1.96, -0.25], [-0.31, 2.0, 2.45], [0.79, -0.2, 0.93]], [[3.0, 0.49, 1.92], [3.0, -1.52, -1.26], [-0.7, 0.18, -0.93]], [[-0.12, 0.92, 1.63], [3.0, 0.97, 1.15], [0.32, -3.0, -2.0]], [[-1.09, 0.97, 1.89], [-1.58, 2.52, 0.36], [3.0, 0.49, 2.28]]]], dtype=torch.float32)).sum() + (v12 * torch.tensor([[[[-0.4, -2.96, 1.8], [-0.82, -1.97, -0.55], [-2.96, -1.79, 1.65], [3.0, 1.06, 0.73]], [[0.64, -1.39, -0.49], [2.54, -0.83, 0.94], [0.98, -1.57, -2.39], [1.11, 3.0, -2.82]], [[-1.04, 0.07, -0.72], [-2.63, -0.73, -1.14], [0.41, -0.31, 2.61], [0.86, 1.04, -0.1]]], [[[-1.38, -1.77, 3.0], [0.24, 0.28, -0.82], [-2.48, 1.81, -1.69], [-1.55, 1.31, 3.0]], [[2.72, -2.24, -2.05], [-0.45, -1.42, -3.0], [-2.2, -1.65, -1.12], [0.72, 3.0, 0.91]], [[2.52, -1.06, -1.3], [-0.24, -1.1, 3.0], [-2.74, -2.71, -2.03], [-2.19, -0.4, -2.57]]]], dtype=torch.float32)).sum()",
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
            ["g2 = torch.autograd.grad(gg, [v6, v7], allow_unused=True)", "grad.second", ["g2"]],
        ],
    ),
    Known(
        "torch-block-diag-empty-first-block-grad",
        "NOT a rustgrad bug: with an empty 1-D first block (a 1x0 row), PyTorch's block_diag "
        "backward reads the next block's gradient one row too high; rustgrad's is the correct "
        "one (checked by hand: the forward puts that block at rows 1-2, both libraries agree); "
        "under create_graph PyTorch's gradient of that empty block is a constant",
        "^(grad\\|grad\\.(first|backward) :: (g1|v\\d+\\.grad): value|requires_grad\\|grad\\.first\\|requires_grad True!=False) :: .*opinfo\\.block_diag",
        [
            [
                "v1 = torch.tensor([1.11, 0.74], dtype=torch.float32, requires_grad=True)",
                "create.tensor",
                ["v1"],
            ],
            [
                "v5 = torch.tensor([[[0.25]], [[-3.21]], [[-3.02]]], dtype=torch.float64, requires_grad=True)",
                "create.tensor",
                ["v5"],
            ],
            ["v6 = torch.tensor([], dtype=torch.float32)", "create.opinfo", ["v6"]],
            [
                "v7 = torch.tensor([[-1.2152583599090576, 7.0], [-1.0526305437088013, 7.0]], dtype=torch.float32)[..., ::2].detach().requires_grad_()",
                "create.opinfo",
                ["v7"],
            ],
            ["v8 = torch.block_diag(v6, v7)", "opinfo.block_diag", ["v8"]],
            [
                "loss = (v5 * torch.tensor([[[-2.93]], [[0.62]], [[-2.47]]], dtype=torch.float64)).sum() + (v7 * torch.tensor([[-1.12], [3.0]], dtype=torch.float32)).sum() + (v8 * torch.tensor([[-3.0], [-1.19], [-2.94]], dtype=torch.float32)).sum()",
                "grad.loss",
                [],
            ],
            [
                "g1 = torch.autograd.grad(loss, [v1, v5, v7], create_graph=True, allow_unused=True)",
                "grad.first",
                ["g1"],
            ],
        ],
    ),
    Known(
        "torch-cdist-no-second-order",
        "NOT a rustgrad bug: PyTorch does not differentiate cdist twice (NotImplementedError for "
        "_cdist_backward); rustgrad's cdist is a composite of differentiable ops and does",
        "^no-exception\\|grad\\.second :: .*derivative for '_cdist_backward' is not implemented",
        [
            [
                "v1 = torch.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=torch.float64, requires_grad=True)",
                "create.tensor",
                ["v1"],
            ],
            ["v2 = torch.cdist(v1, v1 * 2)", "opinfo.cdist", ["v2"]],
            ["loss = v2.sum()", "grad.loss", []],
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
        "torch-bool-operand-negated-in-backward",
        "NOT a rustgrad bug: PyTorch's backward of atan2 with a bool first operand negates it "
        "(its formula for the other operand's gradient reads ``-self``) and raises that bool "
        "tensors cannot be negated, though the bool operand needs no gradient; rustgrad "
        "computes the float operand's gradient",
        "^no-exception\\|grad\\.[a-z]+ :: .*Negation, the `-` operator, on a bool tensor",
        [
            ["v1 = torch.tensor([False, True], dtype=torch.bool)", "create.opinfo", ["v1"]],
            [
                "v2 = torch.tensor([0.5, -1.25], dtype=torch.float64, requires_grad=True)",
                "create.opinfo",
                ["v2"],
            ],
            ["v3 = v1.atan2(v2)", "opinfo.atan2", ["v3"]],
            ["v3.sum().backward()", "grad.backward", []],
        ],
    ),
    Known(
        "torch-kron-input-change-unchecked",
        "NOT a rustgrad bug: PyTorch's kron saves a reshaped view of an input that needs no "
        "gradient without its version, so writing that input in place before backward "
        "silently gives the other input a gradient from the new values; rustgrad raises the "
        "version error",
        "^exception\\|grad\\.[a-z]+ :: raised RuntimeError: one of the variables needed for "
        "gradient computation has been modified by an inplace operation.*opinfo\\.kron",
        [
            ["v1 = torch.tensor([[1.0, 2.0], [3.0, 4.0]])", "create.opinfo", ["v1"]],
            ["v2 = torch.tensor([0.5, -1.5], requires_grad=True)", "create.opinfo", ["v2"]],
            ["v3 = v1.kron(v2)", "opinfo.kron", ["v3"]],
            ["v1.add_(1.0)", "inplace.add_", ["v1"]],
            ["v3.sum().backward()", "grad.backward", ["v2.grad"]],
        ],
    ),
    Known(
        "torch-det-1x1-constant-gradient",
        "NOT a bug: under create_graph PyTorch's gradient of det of a 1x1 matrix (the constant "
        "1) does not require grad; rustgrad's det backward (det * inverse transpose) records "
        "it on the input; the values agree",
        "^requires_grad\\|grad\\.first\\|requires_grad True!=False :: .*opinfo\\.(linalg\\.)?det",
        [
            [
                "v1 = torch.tensor([[1.459]], dtype=torch.float64, requires_grad=True)",
                "create.opinfo",
                ["v1"],
            ],
            ["v2 = v1.det()", "opinfo.det", ["v2"]],
            [
                "g1 = torch.autograd.grad(v2, [v1], create_graph=True, allow_unused=True)",
                "grad.first",
                ["g1"],
            ],
        ],
    ),
    Known(
        "torch-nan-second-order-logit-eps",
        "NOT a rustgrad bug: logit(x, eps) is constant outside [eps, 1 - eps], so its second "
        "derivative there is 0 (rustgrad); PyTorch's backward takes a where over g / (x (1 - x)), "
        "infinite at 0 and 1, and gives NaN at second order there",
        "^grad\\|grad\\.second :: g2: value :: .*opinfo\\.logit",
        [
            [
                "v1 = torch.tensor([0.0, 0.5, 1.0], dtype=torch.float32).detach().requires_grad_()",
                "create.opinfo",
                ["v1"],
            ],
            ["v2 = v1.logit(0.05)", "opinfo.logit", ["v2"]],
            [
                "loss = (v2 * torch.tensor([1.0, 2.0, 3.0], dtype=torch.float32)).sum()",
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
        "float32-rounding-second-order-grid-sample",
        "NOT a bug: float32 rounding of a second-order grid_sample gradient (bicubic: sums of "
        "sixteen weighted taps per point, differentiated twice): within a few 1e-7 of the "
        "largest element, different roundings of the same formula",
        "^grad\\|grad\\.second :: g2: value :: .*opinfo\\.nn\\.functional\\.grid_sample",
        [
            [
                "v3 = torch.tensor([[[[1.9124044179916382, -0.7603479027748108, 0.6842482089996338], [-0.5731819868087769, 0.7943690419197083, -0.3739801049232483], [-1.1319553852081299, 0.363224059343338, 0.6388135552406311], [0.08020346611738205, 0.4475744366645813, -1.2135984897613525]], [[0.20456871390342712, 0.3194483816623688, 0.18888410925865173], [-0.6636435985565186, -0.013826369307935238, 0.14638890326023102], [-0.5984951853752136, -0.764239490032196, 1.171650767326355], [-0.45106059312820435, -1.6258268356323242, 0.6354225873947144]]]], dtype=torch.float32).detach().requires_grad_()",
                "create.opinfo",
                ["v3"],
            ],
            [
                "v4 = torch.tensor([[[[1.5638866424560547, -1.4361903667449951], [1.3598829507827759, -0.6390306949615479]], [[-0.2263159155845642, 0.6951211094856262], [-1.603244423866272, 0.9869492053985596]], [[1.600475549697876, -0.2339659184217453], [1.6007394790649414, 0.9021226167678833]]]], dtype=torch.float32).detach().requires_grad_()",
                "create.opinfo",
                ["v4"],
            ],
            [
                "v5 = torch.nn.functional.grid_sample(v3, v4, 'bicubic', 'reflection', False)",
                "opinfo.nn.functional.grid_sample",
                ["v5"],
            ],
            [
                "v7 = torch.tensor([[[0.96, -3.06, -4.07], [-0.22, -0.47, 0.89], [0.21, -0.28, 2.09]], [[0.41, 0.05, -0.14], [3.17, 2.1, -2.0], [-0.61, -0.25, 0.84]], [[2.54, -1.4, -0.26], [1.79, 0.96, 0.13], [-5.2, 0.68, 0.56]], [[-0.24, 2.31, 1.2], [1.45, 3.44, 0.58], [0.98, 2.63, 1.8]]], dtype=torch.float32, requires_grad=True)",
                "create.tensor",
                ["v7"],
            ],
            [
                "loss = (v4 * torch.tensor([[[[1.57, -0.39], [2.63, 2.32]], [[2.7, 0.48], [1.45, 0.15]], [[-2.4, -2.19], [0.0, 0.33]]]], dtype=torch.float32)).sum() + (v5 * torch.tensor([[[[2.72, 1.37], [-2.64, 2.37], [-1.9, 0.51]], [[1.03, -0.35], [2.09, -0.6], [1.14, -2.21]]]], dtype=torch.float32)).sum() + (v7 * torch.tensor([[[-0.3, 3.0, -1.48], [-1.92, -1.57, 0.09], [1.45, -3.0, 0.51]], [[-1.41, 0.79, -0.83], [1.73, 0.13, 1.44], [-0.53, -1.92, -0.07]], [[3.0, -2.59, -0.01], [2.9, -1.41, 2.59], [-1.86, -1.46, 1.38]], [[0.79, -1.14, -0.99], [-2.02, -0.15, 0.74], [0.16, 1.76, 0.99]]], dtype=torch.float32)).sum()",
                "grad.loss",
                [],
            ],
            [
                "g1 = torch.autograd.grad(loss, [v3, v4, v7], create_graph=True, allow_unused=True)",
                "grad.first",
                ["g1"],
            ],
            [
                "gg = sum(((g * g).sum() for g in g1 if g is not None and g.requires_grad), torch.zeros(()))",
                "grad.gg",
                ["gg"],
            ],
            [
                "g2 = torch.autograd.grad(gg, [v3, v4, v7], allow_unused=True)",
                "grad.second",
                ["g2"],
            ],
        ],
    ),
    Known(
        "float32-rounding-second-order-norms",
        "NOT a bug: float32 rounding of second-order group_norm, batch_norm and mish gradients "
        "(a variance "
        "of a few elements, differentiated twice; also the sum of squares of the first-order "
        "gradients, whose elements are each nearer the float64 run than PyTorch's but whose "
        "errors add up): in float64 both libraries agree to 1e-9, and rustgrad's float32 "
        "result is the nearer of the two to it (batch_norm divided by its weight: noise of 1e-4 "
        "from both where the float64 value is 0)",
        "^grad\\|grad\\.(second :: g2|gg :: gg): value :: .*opinfo\\.nn\\.functional\\.(group_norm|mish|batch_norm)",
        [
            [
                "v2 = torch.tensor([[[0.76, -0.8], [-1.69, -2.75]], [[-3.72, 1.15], [0.19, 1.81]], [[2.04, -1.06], [-4.48, 1.1]]], dtype=torch.float32, requires_grad=True)",
                "create.tensor",
                ["v2"],
            ],
            [
                "v5 = torch.full((1,), 4.78, dtype=torch.float64, requires_grad=True)",
                "create.full",
                ["v5"],
            ],
            [
                "v9 = torch.tensor([[[-1.63], [0.98]], [[-3.28], [-0.74]], [[-1.07], [0.17]]], dtype=torch.float32, requires_grad=True)",
                "create.tensor",
                ["v9"],
            ],
            [
                "v14 = torch.tensor([[-0.2957465350627899, 0.4360887110233307, 0.760940670967102], [-1.9413065910339355, 0.13767705857753754, -0.05155967175960541], [-0.3957526981830597, -0.9452784657478333, -1.3743155002593994], [-0.424834668636322, 0.242771178483963, -0.4185788333415985]], dtype=torch.float32).transpose(-1, -2).detach().requires_grad_()",
                "create.opinfo",
                ["v14"],
            ],
            [
                "v15 = torch.tensor([0.23463194072246552, 7.0, 0.24024182558059692, 7.0, 0.15208886563777924, 7.0, -0.8448010087013245, 7.0], dtype=torch.float32)[..., ::2]",
                "create.opinfo",
                ["v15"],
            ],
            [
                "v16 = torch.tensor([-1.1018972396850586, 0.8886208534240723, -0.611046314239502, -0.5265518426895142], dtype=torch.float32).detach().requires_grad_()",
                "create.opinfo",
                ["v16"],
            ],
            [
                "v17 = torch.nn.functional.group_norm(v14, 2, v15, v16)",
                "opinfo.nn.functional.group_norm",
                ["v17"],
            ],
            [
                "loss = (v14 * torch.tensor([[0.5, 3.0, -1.48, 3.0], [3.0, -1.96, 1.29, 0.29], [2.55, 1.81, 1.19, -0.11]], dtype=torch.float32)).sum() + (v16 * torch.tensor([-0.74, -1.26, -1.17, 0.79], dtype=torch.float32)).sum() + (v17 * torch.tensor([[0.56, 2.38, -1.4, 3.0], [-1.34, 1.65, -1.59, 0.18], [2.38, -1.51, 3.0, -0.14]], dtype=torch.float32)).sum()",
                "grad.loss",
                [],
            ],
            [
                "g1 = torch.autograd.grad(loss, [v2, v5, v9, v14, v16], create_graph=True, allow_unused=True)",
                "grad.first",
                ["g1"],
            ],
            [
                "gg = sum(((g * g).sum() for g in g1 if g is not None and g.requires_grad), torch.zeros(()))",
                "grad.gg",
                ["gg"],
            ],
            [
                "g2 = torch.autograd.grad(gg, [v2, v5, v9, v14, v16], allow_unused=True)",
                "grad.second",
                ["g2"],
            ],
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
        "torch-nan-second-order-normalize-zero",
        "NOT a rustgrad bug: at an all-zero row F.normalize divides by the clamped eps, a "
        "linear map, so the second derivative is 0 (rustgrad); PyTorch's norm backward at "
        "zero gives NaN at second order",
        "^grad\\|grad\\.second :: g2: value :: .*opinfo\\.nn\\.functional\\.normalize",
        [
            [
                "v2 = torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], dtype=torch.float64).detach().requires_grad_()",
                "create.opinfo",
                ["v2"],
            ],
            ["v3 = torch.nn.functional.normalize(v2)", "opinfo.nn.functional.normalize", ["v3"]],
            [
                "loss = (v3 * torch.tensor([[1.53, -0.65, -2.55], [0.76, -0.46, 1.77]], dtype=torch.float64)).sum()",
                "grad.loss",
                [],
            ],
            [
                "g1 = torch.autograd.grad(loss, [v2], create_graph=True, allow_unused=True)",
                "grad.first",
                ["g1"],
            ],
            [
                "gg = sum(((g * g).sum() for g in g1 if g is not None and g.requires_grad), torch.zeros(()))",
                "grad.gg",
                ["gg"],
            ],
            ["g2 = torch.autograd.grad(gg, [v2], allow_unused=True)", "grad.second", ["g2"]],
        ],
    ),
    Known(
        "float32-rounding-second-order-det",
        "NOT a bug: float32 rounding of a second-order det gradient (rustgrad's backward is "
        "PyTorch's formula written with differentiable ops, whose roundings differ): at a few "
        "elements rustgrad is the farther of the two from the float64 run, by 1e-4 of 270",
        "^grad\\|grad\\.second :: g2: value :: .*opinfo\\.det",
        [
            [
                "v2 = torch.tensor([[[2.3684492111206055, -2.324683427810669, 1.9823126792907715], [0.6731606721878052, 1.6872138977050781, 0.19298554956912994], [1.0228670835494995, 0.7641345858573914, 3.5948312282562256]], [[1.612317681312561, 1.8844058513641357, 0.6210683584213257], [-0.27158698439598083, 4.089443206787109, -0.07552970200777054], [0.46537742018699646, -1.1268551349639893, 1.8716391324996948]]], dtype=torch.float32).transpose(-1, -2).detach().requires_grad_()",
                "create.opinfo",
                ["v2"],
            ],
            ["v3 = torch.det(v2)", "opinfo.det", ["v3"]],
            ["v7 = v2[:, :, 1::1]", "index.slice", ["v7"]],
            [
                "loss = (v2 * torch.tensor([[[-2.79, -1.23, -3.0], [2.68, 2.12, -2.46], [-3.0, 2.55, -1.56]], [[2.57, -0.52, -0.07], [-1.94, 1.38, 0.59], [-2.02, 3.0, 1.42]]], dtype=torch.float32)).sum() + (v3 * torch.tensor([-1.94, -1.05], dtype=torch.float32)).sum() + (v7 * torch.tensor([[[-2.63, 1.01], [-1.57, 1.75], [0.84, 1.86]], [[0.98, -2.16], [-3.0, 0.06], [-2.15, 0.31]]], dtype=torch.float32)).sum()",
                "grad.loss",
                [],
            ],
            [
                "g1 = torch.autograd.grad(loss, [v2], create_graph=True, allow_unused=True)",
                "grad.first",
                ["g1"],
            ],
            [
                "gg = sum(((g * g).sum() for g in g1 if g is not None and g.requires_grad), torch.zeros(()))",
                "grad.gg",
                ["gg"],
            ],
            ["g2 = torch.autograd.grad(gg, [v2], allow_unused=True)", "grad.second", ["g2"]],
        ],
    ),
    Known(
        "float32-rounding-second-order-softmax-division",
        "NOT a bug: float32 rounding of a second-order gradient through a division by a "
        "softmax (1 / p**3 terms reach 1e5): rustgrad and PyTorch differ by 2e-7 of the "
        "largest element, each within 1e-2 of the float64 run at some element",
        "^grad\\|grad\\.second :: g2: value :: .*opinfo\\.softmax.*binary\\.div",
        [
            [
                "v4 = torch.tensor([[7.0, 7.0, 7.0, 7.0], [0.7286935065906481, 1.178337923817099, -0.6161655669195637, -1.0330012435235012], [0.006823528936467278, -0.8407696379353962, 0.46206325853525576, 1.3139281813165307], [0.41646551209340604, 0.8314460798707217, 0.45993431937474405, 0.3073501981394022]], dtype=torch.float64)[1:].detach().requires_grad_()",
                "create.opinfo",
                ["v4"],
            ],
            [
                "v5 = torch.tensor([[1.2848798696672372, 1.0857355140005482, -0.006007843394213533, 0.3643858581933718]], dtype=torch.float64).expand(3, 4).detach().requires_grad_()",
                "create.opinfo",
                ["v5"],
            ],
            [
                "v8 = torch.tensor([[[-0.19218432903289795, -1.7434462308883667, -0.7480319142341614, 0.01510526705533266], [1.5836578607559204, -0.20127160847187042, -0.02047106623649597, 0.16263240575790405], [1.4733363389968872, 0.011954814195632935, -0.4451981484889984, 0.04962170496582985]], [[1.4791064262390137, -1.4249480962753296, 0.8574668169021606, 0.828590452671051], [0.8095905780792236, 2.5706565380096436, 0.1978262960910797, -1.6660810708999634], [1.10068941116333, -0.07859393954277039, 0.20031775534152985, 1.3265258073806763]]], dtype=torch.float32).detach().requires_grad_()",
                "create.opinfo",
                ["v8"],
            ],
            ["v9 = torch.nn.functional.softmax(v8, dim=-1)", "opinfo.softmax", ["v9"]],
            [
                "v13 = torch.tensor([2.44, 0.76, 2.77, 0.29], dtype=torch.float32, requires_grad=True)",
                "create.tensor",
                ["v13"],
            ],
            ["v15 = torch.where(v8.bool(), v8, v9)", "where", ["v15"]],
            ["v16 = v5 / v9", "binary.div", ["v16"]],
            [
                "loss = (v13 * torch.tensor([-0.55, -2.71, 1.83, 0.79], dtype=torch.float32)).sum() + (v15 * torch.tensor([[[1.93, 3.0, -1.49, 1.82], [-2.13, -0.56, 1.38, 1.14], [-0.53, -2.11, -2.47, -0.23]], [[-0.78, -1.74, -0.5, 0.42], [-1.45, 1.47, -0.73, 0.74], [2.96, 3.0, 1.47, -1.25]]], dtype=torch.float32)).sum() + (v16 * torch.tensor([[[0.98, 0.62, 1.5, 0.13], [-0.9, 0.93, -3.0, 0.43], [1.14, 0.71, -1.92, -0.36]], [[3.0, 1.41, 3.0, 1.78], [0.11, 3.0, -0.85, 2.2], [3.0, -1.2, -1.16, 2.56]]], dtype=torch.float64)).sum()",
                "grad.loss",
                [],
            ],
            [
                "g1 = torch.autograd.grad(loss, [v4, v5, v8, v13], create_graph=True, allow_unused=True)",
                "grad.first",
                ["g1"],
            ],
            [
                "gg = sum(((g * g).sum() for g in g1 if g is not None and g.requires_grad), torch.zeros(()))",
                "grad.gg",
                ["gg"],
            ],
            [
                "g2 = torch.autograd.grad(gg, [v4, v5, v8, v13], allow_unused=True)",
                "grad.second",
                ["g2"],
            ],
        ],
    ),
    Known(
        "torch-crash-second-order-bool-product",
        "NOT a rustgrad bug: PyTorch 2.13 itself crashes (a segmentation fault) differentiating "
        "twice a product of a bool tensor with a float one built from an expanded tensor; "
        "rustgrad runs the program (nothing to compare it with)",
        "^reference-crash\\(rc=-11\\)\\|grad\\.second",
        [
            ["v1 = torch.tensor([[[False, True, False]]])", "create.tensor_infer", ["v1"]],
            [
                "v3 = torch.tensor([-4.61341331722811], dtype=torch.float64).detach().requires_grad_()",
                "create.opinfo",
                ["v3"],
            ],
            [
                "v5 = torch.tensor([[[-1.1955944299697876, -1.2473256587982178, 0.8866057991981506], [1.8617382049560547, 0.6250994801521301, -1.5256301164627075]]], dtype=torch.float32).expand(2, 2, 3).detach().requires_grad_()",
                "create.opinfo",
                ["v5"],
            ],
            [
                "v6 = torch.tensor([[[3.480214834213257, 0.7357798218727112, -1.4702651500701904]], [[-0.39407405257225037, -1.7267093658447266, -0.6031271815299988]]], dtype=torch.float32).detach().requires_grad_()",
                "create.opinfo",
                ["v6"],
            ],
            ["v7 = torch.cat([v5, v6], 1)", "opinfo.cat", ["v7"]],
            ["v9 = v1.mul(v7)", "binary.mul", ["v9"]],
            ["v12 = v5.clone()", "view.clone", ["v12"]],
            ["v13 = v9.abs()", "unary.abs", ["v13"]],
            [
                "loss = (v9 * torch.tensor([[[-1.4, 0.12, 1.83], [-1.16, 1.72, 0.73], [-0.76, -1.8, 0.29]], [[-3.0, -0.64, -0.23], [-0.45, -3.0, -0.19], [0.91, -3.0, 0.72]]], dtype=torch.float32)).sum() + (v12 * torch.tensor([[[-1.43, 1.76, -2.17], [-1.87, -1.57, -0.5]], [[-0.41, -0.8, 0.69], [1.61, 3.0, -1.09]]], dtype=torch.float32)).sum() + (v13 * torch.tensor([[[0.46, 2.1, -0.08], [-1.58, 1.08, 0.32], [2.57, 3.0, 2.55]], [[0.94, -2.81, 0.8], [1.2, -1.76, -2.14], [0.52, -0.48, -2.41]]], dtype=torch.float32)).sum()",
                "grad.loss",
                [],
            ],
            [
                "g1 = torch.autograd.grad(loss, [v3, v5, v6], create_graph=True, allow_unused=True)",
                "grad.first",
                ["g1"],
            ],
            [
                "gg = sum(((g * g).sum() for g in g1 if g is not None and g.requires_grad), torch.zeros(()))",
                "grad.gg",
                ["gg"],
            ],
            [
                "g2 = torch.autograd.grad(gg, [v3, v5, v6], allow_unused=True)",
                "grad.second",
                ["g2"],
            ],
        ],
    ),
    Known(
        "float32-rounding-second-order-cosine-similarity",
        "NOT a bug: float32 rounding of a second-order cosine_similarity gradient (a quotient of norms differentiated twice): within 3e-7 of the largest element, and noise of 1e-5 where the float64 value is 0",
        "^grad\\|grad\\.second :: g2: value :: .*opinfo\\.nn\\.functional\\.cosine_similarity",
        [
            [
                "v11 = torch.tensor([[[0.055890411138534546, -0.32492443919181824, 1.8999186754226685, -0.8646413683891296]], [[-0.08474759012460709, 0.469387024641037, -0.5711281299591064, -1.087185025215149]]], dtype=torch.float32).detach().requires_grad_()",
                "create.opinfo",
                ["v11"],
            ],
            [
                "v12 = torch.tensor([[0.18698903918266296], [-1.6284639835357666], [0.7592002153396606]], dtype=torch.float32).detach().requires_grad_()",
                "create.opinfo",
                ["v12"],
            ],
            [
                "v13 = torch.nn.functional.cosine_similarity(v11, v12, 2)",
                "opinfo.nn.functional.cosine_similarity",
                ["v13"],
            ],
            [
                "loss = (v11 * torch.tensor([[[1.46, -0.18, -1.17, 2.49]], [[1.21, 2.43, -0.61, 3.0]]], dtype=torch.float32)).sum() + (v12 * torch.tensor([[3.0], [1.11], [-1.24]], dtype=torch.float32)).sum() + (v13 * torch.tensor([[1.84, 1.06, 3.0], [-3.0, -1.01, -2.99]], dtype=torch.float32)).sum()",
                "grad.loss",
                [],
            ],
            [
                "g1 = torch.autograd.grad(loss, [v11, v12], create_graph=True, allow_unused=True)",
                "grad.first",
                ["g1"],
            ],
            [
                "gg = sum(((g * g).sum() for g in g1 if g is not None and g.requires_grad), torch.zeros(()))",
                "grad.gg",
                ["gg"],
            ],
            ["g2 = torch.autograd.grad(gg, [v11, v12], allow_unused=True)", "grad.second", ["g2"]],
        ],
    ),
    Known(
        "torch-norm-no-weight-second-order",
        "NOT a rustgrad bug: PyTorch's double backward of batch_norm (training) and layer_norm with a bias but no weight raises 'Expected a proper Tensor but got None ... for argument #1 'other'' (its formula multiplies by the missing weight); rustgrad differentiates it",
        "^no-exception\\|grad\\.second :: ran \\(PyTorch raised RuntimeError\\): Expected a proper Tensor but got None .*opinfo\\.nn\\.functional\\.(batch|layer)_norm",
        [
            [
                "v1 = torch.tensor([[[1.02]], [[-0.48]], [[-1.82]]], dtype=torch.float32, requires_grad=True)",
                "create.tensor",
                ["v1"],
            ],
            [
                "v2 = torch.tensor([[[[-1.1688265800476074, 0.5698581337928772], [-1.5292232036590576, 0.10940796136856079]], [[-0.23877421021461487, 0.6930677890777588], [-1.280721664428711, -1.7766590118408203]]], [[[0.9314489364624023, 0.1631874293088913], [2.323245048522949, 1.7087289094924927]], [[-0.1046781837940216, -0.6742535829544067], [0.5289267897605896, 0.1343018263578415]]], [[[0.04931611195206642, -0.3345806896686554], [-0.988094687461853, 0.2603682279586792]], [[0.3743169605731964, 0.014509444124996662], [0.2251482605934143, -1.439427137374878]]]], dtype=torch.float32).detach().requires_grad_()",
                "create.opinfo",
                ["v2"],
            ],
            [
                "v3 = torch.tensor([0.614339292049408, -1.0246188640594482], dtype=torch.float32)",
                "create.opinfo",
                ["v3"],
            ],
            [
                "v4 = torch.tensor([0.7618615627288818, 3.2597784996032715], dtype=torch.float32)",
                "create.opinfo",
                ["v4"],
            ],
            [
                "v5 = torch.tensor([0.2725694477558136, 0.3763238787651062], dtype=torch.float32).detach().requires_grad_()",
                "create.opinfo",
                ["v5"],
            ],
            [
                "v6 = torch.nn.functional.batch_norm(v2, v3, v4, None, v5, True, 0.3)",
                "opinfo.nn.functional.batch_norm",
                ["v6"],
            ],
            [
                "loss = (v2 * torch.tensor([[[[3.0, -1.21], [1.32, -1.48]], [[1.06, -0.98], [0.65, 3.0]]], [[[3.0, -1.4], [2.09, -2.3]], [[-2.54, 1.92], [0.32, -0.62]]], [[[0.18, 1.28], [-1.5, 0.71]], [[-1.92, -0.78], [0.05, 2.12]]]], dtype=torch.float32)).sum() + (v5 * torch.tensor([2.21, 0.84], dtype=torch.float32)).sum() + (v6 * torch.tensor([[[[0.95, -1.06], [0.93, 3.0]], [[2.17, 1.05], [-2.56, -0.48]]], [[[0.19, 1.0], [0.04, -0.74]], [[0.09, 1.02], [2.63, 0.6]]], [[[2.27, -1.25], [-1.74, -1.31]], [[-1.0, 1.43], [-0.07, -0.95]]]], dtype=torch.float32)).sum()",
                "grad.loss",
                [],
            ],
            [
                "g1 = torch.autograd.grad(loss, [v1, v2, v5], create_graph=True, allow_unused=True)",
                "grad.first",
                ["g1"],
            ],
            [
                "gg = sum(((g * g).sum() for g in g1 if g is not None and g.requires_grad), torch.zeros(()))",
                "grad.gg",
                ["gg"],
            ],
            [
                "g2 = torch.autograd.grad(gg, [v1, v2, v5], allow_unused=True)",
                "grad.second",
                ["g2"],
            ],
        ],
    ),
    Known(
        "torch-stale-view-taken-for-a-leaf",
        "NOT a rustgrad bug: a view taken before its base came to require grad (``v2 = v1[..]; "
        "v1.copy_(requires_grad_tensor)``): PyTorch's in-place check reads the view's history "
        "before regenerating it and refuses ``v2.zero_()`` as a write into a leaf, although "
        "``v2.is_leaf`` is False (reading ``v2.grad_fn`` first makes it pass); rustgrad writes "
        "through the view into the base's history",
        "^no-exception\\|inplace\\.[a-z_]+ :: ran \\(PyTorch raised RuntimeError\\): a leaf Variable "
        "that requires grad is being used in an in-place operation.* view\\.[a-z_]+ .*inplace\\.copy_ .*inplace\\.",
        [
            ["v1 = torch.tensor([1.5], dtype=torch.float32)", "create.tensor", ["v1"]],
            ["v2 = v1[0:1:3]", "view.slice", ["v2"]],
            [
                "v5 = torch.tensor([0.02], dtype=torch.float32, requires_grad=True)",
                "create.tensor",
                ["v5"],
            ],
            ["v1.copy_(v5)", "inplace.copy_", ["v1", "v2@"]],
            ["v2.zero_()", "inplace.zero_", []],
        ],
    ),
    Known(
        "float32-rounding-group-norm-small-groups",
        "NOT a bug: float32 rounding of group_norm's first-order gradient over groups of two elements (the variance of a pair cancels): rustgrad's and PyTorch's errors against the float64 run are both about 1e-4 of 2.1, at different elements (rustgrad's backward reuses the forward's statistics, PyTorch's recomputes them)",
        "^grad\\|grad\\.(first|backward) :: (g1|v\\d+\\.grad): value :: .*opinfo\\.nn\\.functional\\.group_norm",
        [
            ["v2 = torch.full((4,), True, dtype=torch.bool)", "create.full", ["v2"]],
            [
                "v9 = torch.tensor([[-0.2957465350627899, 0.4360887110233307, 0.760940670967102], [-1.9413065910339355, 0.13767705857753754, -0.05155967175960541], [-0.3957526981830597, -0.9452784657478333, -1.3743155002593994], [-0.424834668636322, 0.242771178483963, -0.4185788333415985]], dtype=torch.float32).transpose(-1, -2).detach().requires_grad_()",
                "create.opinfo",
                ["v9"],
            ],
            [
                "v10 = torch.tensor([0.23463194072246552, 7.0, 0.24024182558059692, 7.0, 0.15208886563777924, 7.0, -0.8448010087013245, 7.0], dtype=torch.float32)[..., ::2].detach().requires_grad_()",
                "create.opinfo",
                ["v10"],
            ],
            [
                "v11 = torch.tensor([-1.1018972396850586, 0.8886208534240723, -0.611046314239502, -0.5265518426895142], dtype=torch.float32).detach().requires_grad_()",
                "create.opinfo",
                ["v11"],
            ],
            [
                "v12 = torch.nn.functional.group_norm(v9, 2, v10, v11)",
                "opinfo.nn.functional.group_norm",
                ["v12"],
            ],
            ["v13 = torch.stack([v10, v2, v11, v10], 1)", "join.stack", ["v13"]],
            [
                "loss = (v11 * torch.tensor([-0.48, -3.0, -0.08, 1.58], dtype=torch.float32)).sum() + (v12 * torch.tensor([[-0.8, -0.03, -0.9, 1.83], [-3.0, -1.09, 1.02, -2.31], [-1.29, -0.44, 0.64, 1.39]], dtype=torch.float32)).sum() + (v13 * torch.tensor([[0.73, -1.11, -0.98, 3.0], [1.84, 1.53, -2.4, 1.81], [-1.28, -0.63, 1.6, -0.41], [-2.76, -0.72, -0.81, -2.53]], dtype=torch.float32)).sum()",
                "grad.loss",
                [],
            ],
            ["loss.backward()", "grad.backward", ["v9.grad", "v10.grad", "v11.grad"]],
        ],
    ),
    Known(
        "float32-rounding-quotient-cancellation",
        "NOT a bug: float32 rounding of the gradient of x / x (written in place over a where of x): 1 / x - (x / x) / x cancels, so both libraries are 2e-5 off the float64 run, at different elements",
        "^grad\\|grad\\.first :: g1: value :: .*where inplace\\.div_",
        [
            [
                "v2 = torch.tensor([[[7.0, 7.0, 7.0, 7.0, 7.0, 7.0], [7.0, 7.0, 7.0, 7.0, 7.0, 7.0], [7.0, 7.0, 7.0, 7.0, 7.0, 7.0], [7.0, 7.0, 7.0, 7.0, 7.0, 7.0], [7.0, 7.0, 7.0, 7.0, 7.0, 7.0]], [[-0.7332230806350708, 1.099419355392456, -0.5975372195243835, 0.4047388434410095, -0.06431703269481659, -0.2613561749458313], [0.5643084049224854, 0.11886326223611832, 0.8237990140914917, 1.3522857427597046, -0.053497981280088425, 0.9189375638961792], [-0.10257737338542938, 0.9682731628417969, -0.09486366808414459, -1.1995198726654053, 1.1954541206359863, -0.19226033985614777], [-0.4088694453239441, -1.110137939453125, -1.0153814554214478, 0.058161474764347076, -1.5743821859359741, -1.7439216375350952], [0.24720348417758942, -1.6142991781234741, 0.009731298312544823, 0.5290213227272034, 0.9000904560089111, 0.7605355381965637]], [[-0.9089235067367554, 1.2152198553085327, -0.6061068177223206, 1.017383098602295, 0.7174602746963501, 0.2203201949596405], [0.19874180853366852, 0.04770160838961601, -0.2599532902240753, 1.4242531061172485, -0.9985092878341675, -0.18380871415138245], [-0.6762779355049133, 0.539499819278717, 0.6062508821487427, -1.2025480270385742, -0.8236710429191589, 0.7061880230903625], [-0.5961231589317322, 0.9090635776519775, -0.7388031482696533, -0.085805743932724, -1.0645874738693237, -0.42472004890441895], [0.010538131929934025, -0.7662090063095093, -0.524452805519104, -1.9874032735824585, 1.1944102048873901, -0.45740675926208496]]], dtype=torch.float32)[1:].detach().requires_grad_()",
                "create.opinfo",
                ["v2"],
            ],
            [
                "v3 = torch.nn.functional.adaptive_avg_pool2d(v2, (4, None))",
                "opinfo.nn.functional.adaptive_avg_pool2d",
                ["v3"],
            ],
            [
                "v4 = torch.tensor([[[False, True, False, True, True, True], [False, False, True, True, True, False], [True, True, True, False, False, True], [True, False, True, False, True, True], [False, True, False, False, True, False]]], dtype=torch.bool)",
                "create.tensor",
                ["v4"],
            ],
            ["v5 = torch.where(v2.bool(), v2, v4)", "where", ["v5"]],
            ["v5.div_(v2)", "inplace.div_", ["v5"]],
            [
                "loss = (v2 * torch.tensor([[[3.0, -0.21, 1.31, 1.01, 0.0, 0.5], [0.08, 1.37, 0.96, 0.3, 0.0, 0.83], [3.0, -0.27, -1.23, -0.62, 1.2, -2.82], [-0.0, 2.5, 1.31, -0.89, 1.35, -1.6], [-1.46, -1.36, 0.25, -0.78, -2.41, 0.58]], [[-0.17, 3.0, 0.11, -3.0, -0.59, -0.0], [3.0, -0.23, 2.31, -0.0, 3.0, 0.31], [0.5, -0.3, -3.0, -0.0, 3.0, -0.63], [1.78, 1.17, -0.0, -1.51, 0.33, 1.72], [0.83, -0.0, 2.05, -0.0, 3.0, 1.98]]], dtype=torch.float32)).sum() + (v3 * torch.tensor([[[-0.95, -0.51, -2.26, 0.7, 0.78, -1.19], [3.0, 1.95, 0.5, -1.6, 1.92, -0.09], [1.59, 0.92, -0.6, 0.0, 0.62, 2.7], [-1.58, 1.38, 0.5, 1.45, -0.78, 3.0]], [[-3.0, 3.0, 0.4, -0.58, 1.29, 3.0], [2.93, -1.49, 1.15, -0.75, 1.28, 3.0], [3.0, -0.23, 0.17, 0.5, 0.09, 0.49], [2.04, 0.0, -3.0, 3.0, -1.26, -0.0]]], dtype=torch.float32)).sum() + (v5 * torch.tensor([[[0.23, -3.0, -2.02, -0.0, 1.17, 0.5], [-1.84, 0.0, -2.45, -0.32, 3.0, 0.47], [1.45, 1.02, -2.9, -1.25, -2.21, -1.87], [-0.05, 2.92, -0.0, -3.0, 0.0, -0.04], [-3.0, 0.92, 0.2, 3.0, 0.5, -0.95]], [[-0.18, 0.35, -2.86, -0.87, -1.43, 3.0], [-2.44, -1.64, 3.0, 0.5, -0.49, -3.0], [1.56, 0.53, 0.59, 1.62, 0.5, -2.53], [-2.05, 2.17, -2.74, -0.0, -1.3, 3.0], [3.0, 1.68, 1.1, -3.0, 2.01, -3.0]]], dtype=torch.float32)).sum()",
                "grad.loss",
                [],
            ],
            [
                "g1 = torch.autograd.grad(loss, [v2], create_graph=True, allow_unused=True)",
                "grad.first",
                ["g1"],
            ],
        ],
    ),
    Known(
        "float32-rounding-second-order-sinc",
        "NOT a bug: float32 rounding of sinc's second derivative (its formula cancels near each integer): within 1e-5 of the largest element, at a few elements rustgrad the farther of the two from the float64 run",
        "^grad\\|grad\\.second :: g2: value :: .*opinfo\\.sinc",
        [
            [
                "v2 = torch.tensor([[0.567901074886322, -0.7155038118362427, -0.03501621633768082], [-1.4200116395950317, -0.9213109612464905, 1.168247103691101], [1.1163161993026733, -0.11243219673633575, 1.1835353374481201], [-0.029556427150964737, 0.6399763226509094, 1.4280529022216797]], dtype=torch.float32).transpose(-1, -2).detach().requires_grad_()",
                "create.opinfo",
                ["v2"],
            ],
            ["v3 = torch.sinc(v2)", "opinfo.sinc", ["v3"]],
            ["v6 = v3[torch.tensor([-3], dtype=torch.int64)]", "view.index", ["v6"]],
            [
                "loss = (v2 * torch.tensor([[1.02, 3.0, -1.84, 0.33], [0.61, 0.75, -0.9, -1.62], [3.0, -0.94, 0.09, 1.89]], dtype=torch.float32)).sum() + (v3 * torch.tensor([[2.9, -0.71, 0.46, 2.68], [1.33, 1.74, 0.96, 2.01], [3.0, -3.0, -2.97, 1.54]], dtype=torch.float32)).sum() + (v6 * torch.tensor([[0.63, 1.36, 0.83, -0.0]], dtype=torch.float32)).sum()",
                "grad.loss",
                [],
            ],
            [
                "g1 = torch.autograd.grad(loss, [v2], create_graph=True, allow_unused=True)",
                "grad.first",
                ["g1"],
            ],
            [
                "gg = sum(((g * g).sum() for g in g1 if g is not None and g.requires_grad), torch.zeros(()))",
                "grad.gg",
                ["gg"],
            ],
            ["g2 = torch.autograd.grad(gg, [v2], allow_unused=True)", "grad.second", ["g2"]],
        ],
    ),
    Known(
        "torch-in-place-comparison-requires-grad",
        "NOT a bug: an in-place comparison (``b.lt_(x)``) into a tensor that does not require "
        "grad, with an operand that does: PyTorch marks the result as requiring grad (a node "
        "whose gradients are all zeros, even on a bool tensor); rustgrad writes the values "
        "without history (the gradient is zero either way)",
        "^requires_grad\\|opinfo\\.(eq|ne|lt|le|gt|ge|greater|less|greater_equal|less_equal|not_equal)\\|",
        [
            [
                "v14 = torch.tensor([[False, False, True], [False, False, True]], dtype=torch.bool)",
                "create.tensor",
                ["v14"],
            ],
            [
                "v15 = torch.tensor([1.0848495249450139, -1.7003925753699394, -0.27907186782699384], dtype=torch.float64).detach().requires_grad_()",
                "create.opinfo",
                ["v15"],
            ],
            ["v16 = v14.less_(v15)", "opinfo.lt", ["v16"]],
        ],
    ),
]
