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
        "error-check-order",
        "NEW: another exception type than PyTorch for the same error (ValueError for int ** -1; RuntimeError where PyTorch raises NotImplementedError for an unsupported dtype), or when an op has two errors (setitem index vs leaf check)",
        "^exception-type\\|",
        [
            ["v1 = torch.tensor([], requires_grad=True)", "create.tensor_infer", ["v1"]],
            ["v1[torch.tensor([])] = False", "inplace.setitem", []],
        ],
    ),
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
        "float32-rounding-second-order-conv",
        "NOT a bug: float32 rounding of a second-order conv2d gradient (sums of hundreds of "
        "products): rustgrad's largest error against the float64 run is below PyTorch's "
        "(6.3e-5 against 1.3e-4), but at a few elements it is the farther of the two",
        "^grad\\|grad\\.second :: g2: value :: .*opinfo\\.nn\\.functional\\.conv2d",
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
        "one (checked by hand: the forward puts that block at rows 1-2, both libraries agree)",
        "^grad\\|grad\\.(first|backward) :: (g1|v\\d+\\.grad): value :: .*opinfo\\.block_diag",
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
        "NOT a bug: float32 rounding of second-order group_norm and mish gradients (a variance "
        "of a few elements, differentiated twice): in float64 both libraries agree to 1e-9, and "
        "rustgrad's float32 result is the nearer of the two to it",
        "^grad\\|grad\\.second :: g2: value :: .*opinfo\\.nn\\.functional\\.(group_norm|mish)",
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
        "torch-embedding-bag-no-second-order",
        "NOT a rustgrad bug: PyTorch does not differentiate embedding_bag's per_sample_weights "
        "gradient again (NotImplementedError for _embedding_bag_per_sample_weights_backward); "
        "rustgrad's is a composite of differentiable ops and does",
        "^no-exception\\|grad\\.second :: .*_embedding_bag_per_sample_weights_backward",
        [
            [
                "v3 = torch.tensor([1, 2, 4, 5, 4, 3, 2, 0, 5], dtype=torch.int64)",
                "create.opinfo",
                ["v3"],
            ],
            [
                "v4 = torch.tensor([[0.6484448814054052, 1.3340531908891855, 0.0685794516994467], [0.4977213593635206, -1.2036844859100726, -0.7144690688966107], [-0.9772989198800331, 1.082235945039616, 1.3772474750242816], [0.03634017049709205, -0.18532041606789226, -0.23139241078221695], [0.41740058815496256, 0.06517892838585884, -0.9598488218662715], [-0.15112326855400152, 1.34785377764218, -0.28435149952874017]], dtype=torch.float64).detach().requires_grad_()",
                "create.opinfo",
                ["v4"],
            ],
            [
                "v5 = torch.tensor([0, 5], dtype=torch.int64)",
                "create.opinfo",
                ["v5"],
            ],
            [
                "v6 = torch.tensor([0.09136663386959405, 0.5552577104101791, -0.3219907463735509, 0.9215797698101789, 0.02166449048930228, -0.44268106550775804, -0.4362644952003878, 0.34550916264070375, -1.890928015837007], dtype=torch.float64).detach().requires_grad_()",
                "create.opinfo",
                ["v6"],
            ],
            [
                "v7 = torch.nn.functional.embedding_bag(v3, v4, v5, mode='sum', per_sample_weights=v6)",
                "opinfo.nn.functional.embedding_bag",
                ["v7"],
            ],
            [
                "v16 = v7.mean(-1)",
                "reduce.mean.dim",
                ["v16"],
            ],
            [
                "v20 = torch.tensor([[0.8131035566329956, -0.413364440202713, -2.135798454284668], [-0.34197667241096497, 0.9335713386535645, 1.4032691717147827], [-1.1971009969711304, -0.10277391970157623, -1.5280545949935913], [0.4379239082336426, -0.2840557098388672, 2.0174403190612793]], dtype=torch.float32).transpose(-1, -2).detach().requires_grad_()",
                "create.opinfo",
                ["v20"],
            ],
            [
                "v21 = v20.transpose(0, 1)",
                "opinfo.transpose",
                ["v21"],
            ],
            [
                "loss = (v16 * torch.tensor([2.36, 1.06], dtype=torch.float64)).sum() + (v20 * torch.tensor([[-2.48, 3.0, -2.9, -0.36], [-0.91, 1.29, -1.26, 1.44], [0.31, -1.73, -3.0, 1.8]], dtype=torch.float32)).sum() + (v21 * torch.tensor([[1.03, -1.47, 0.94], [3.0, 1.55, -0.34], [-1.44, 3.0, -2.28], [-2.53, -3.0, 1.53]], dtype=torch.float32)).sum()",
                "grad.loss",
                [],
            ],
            [
                "g1 = torch.autograd.grad(loss, [v4, v6, v20], create_graph=True, allow_unused=True)",
                "grad.first",
                ["g1"],
            ],
            [
                "gg = sum(((g * g).sum() for g in g1 if g is not None and g.requires_grad), torch.zeros(()))",
                "grad.gg",
                ["gg"],
            ],
            [
                "g2 = torch.autograd.grad(gg, [v4, v6, v20], allow_unused=True)",
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
        "create-graph-input-not-recorded",
        "NEW: under create_graph, whether a first-order gradient requires grad differs for ops "
        "whose PyTorch backward reads the input although the gradient does not depend on it "
        "(F.pad's reflect/replicate modes, threshold, leaky_relu, hardsigmoid): rustgrad's "
        "backward does not record the input",
        "^requires_grad\\|grad\\.first\\|requires_grad False!=True",
        [
            [
                "v5 = torch.tensor([[[0.3, -1.2, 2.0, 0.1]]], dtype=torch.float32).detach().requires_grad_()",
                "create.opinfo",
                ["v5"],
            ],
            [
                "v6 = torch.nn.functional.pad(v5, (2, 1), mode='reflect')",
                "opinfo.nn.functional.pad",
                ["v6"],
            ],
            [
                "loss = (v6 * torch.tensor([[[-1.33, 1.5, 0.32, 1.3, -0.34, 0.5, 2.0]]], dtype=torch.float32)).sum()",
                "grad.loss",
                [],
            ],
            [
                "g1 = torch.autograd.grad(loss, [v5], create_graph=True, allow_unused=True)",
                "grad.first",
                ["g1"],
            ],
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
        "composite-saves-no-result",
        "NEW: ops composed of others (norm, std, median, gather, index_select, ... in "
        "python/rustgrad/_ops.py; the losses of nn.functional) do not save their own result, "
        "their index or their weight-like operands, so overwriting one in place before "
        "backward is not caught as in PyTorch",
        "^no-exception\\|grad\\.(first|backward) :: .*modified by an inplace operation.*"
        "opinfo\\.(norm|std|var|median|nanmedian|logsumexp|prod|cum(sum|prod)|kthvalue|topk|sort|"
        "gather|scatter(_add)?|index_(select|add)|masked_(fill|select)|nn\\.functional\\.[a-z_]+|"
        "c?dist|clamp(_min|_max)?|clip|cum(max|min)|logcumsumexp|kron|tensordot|trapz|trapezoid|"
        "det|logdet|slogdet|inverse|matrix_power|pinverse|amin|amax|aminmax|take|fmax|fmin)",
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
