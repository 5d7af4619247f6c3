"""``autograd.forward_ad`` (``dual_level``, ``make_dual``, ``unpack_dual``): tangents through
rustgrad's ops compared with PyTorch's forward AD and with ``J @ t`` from reverse-mode
jacobians (float64), and PyTorch's errors.

rustgrad computes tangents by the double-backward trick (see the module's docstring), so these
tests also pin that the trick gives forward mode's values op by op."""

import numpy as np
import pytest
import rustgrad as rg
from conftest import assert_close, raises
from rustgrad.autograd import forward_ad as fwAD
from rustgrad.autograd.functional import jacobian
from rustgrad.autograd.gradcheck import GradcheckError

torch = pytest.importorskip("torch")
tfwAD = torch.autograd.forward_ad

# One-input functions written once for both libraries (x has shape (2, 3), positive entries
# where a function needs them).
FUNCS = {
    "mul_add": lambda x: x * x + 3 * x,
    "div": lambda x: x / (x + 2.0),
    "exp_log": lambda x: x.exp() + (x + 3.0).log(),
    "sqrt_pow": lambda x: (x + 3.0).sqrt() * x**3,
    "trig": lambda x: x.sin() * x.cos(),
    "tanh_sigmoid_relu": lambda x: x.tanh() + x.sigmoid() - x.relu(),
    "abs_clamp": lambda x: x.abs() + x.clamp(min=-0.2, max=0.7),
    "maximum": lambda x: x.maximum(x.t().reshape(2, 3) * 0.5),
    "sum_mean": lambda x: x.sum(1) * x.mean(),
    "max_dim": lambda x: x.max(1)[0] + x.min(),
    "matmul": lambda x: x @ x.t(),
    "views": lambda x: x.t().reshape(6)[1:5].unsqueeze(0).expand(2, 4),
    "softmax": lambda x: x.softmax(1) + x.log_softmax(0),
    "index": lambda x: x[:, [2, 0, 1]] * x[1],
    "cat_stack": lambda x: (
        rg.cat([x, x * 2]) if isinstance(x, rg.Tensor) else torch.cat([x, x * 2])
    ),
}

X = np.array([[0.3, -0.8, 1.2], [2.0, -0.1, 0.6]])
T = np.array([[1.0, 0.5, -2.0], [0.25, 3.0, -1.0]])


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_tangent_matches_torch_and_jacobian(name):
    f = FUNCS[name]
    with fwAD.dual_level():
        y = f(fwAD.make_dual(rg.tensor(X), rg.tensor(T)))
        primal, tangent = fwAD.unpack_dual(y)
    with tfwAD.dual_level():
        ty = f(tfwAD.make_dual(torch.tensor(X), torch.tensor(T)))
        tprimal, ttangent = tfwAD.unpack_dual(ty)
    assert_close(primal, tprimal, rtol=1e-12)
    assert_close(tangent, ttangent, rtol=1e-10, atol=1e-12)
    # And J @ t from the reverse-mode jacobian.
    jac = jacobian(f, rg.tensor(X))
    jt = (jac.reshape(-1, 6) @ rg.tensor(T).reshape(6)).reshape(tuple(primal.shape))
    assert_close(tangent, jt, rtol=1e-10, atol=1e-12)


def test_two_duals_and_unrelated_tensors():
    a, b = rg.tensor(X), rg.tensor(X * 2)
    ta, tb = torch.tensor(X), torch.tensor(X * 2)
    with fwAD.dual_level(), tfwAD.dual_level():
        da = fwAD.make_dual(a, rg.tensor(T))
        db = fwAD.make_dual(b, rg.ones(2, 3))
        tda = tfwAD.make_dual(ta, torch.tensor(T))
        tdb = tfwAD.make_dual(tb, torch.ones(2, 3))
        out = fwAD.unpack_dual((da * db).exp().sum(0))
        tout = tfwAD.unpack_dual((tda * tdb).exp().sum(0))
        assert type(out).__name__ == "UnpackedDualTensor"
        assert out._fields == tout._fields == ("primal", "tangent")
        assert_close(out.tangent, tout.tangent, rtol=1e-10)
        # The dual itself unpacks to its tangent; a plain tensor has none.
        assert_close(fwAD.unpack_dual(da).tangent, T)
        assert fwAD.unpack_dual(a * 2).tangent is None
        assert tfwAD.unpack_dual(ta * 2).tangent is None
        # Depending on a dual with a zero derivative gives zeros, as PyTorch.
        z, tz = fwAD.unpack_dual(da * 0).tangent, tfwAD.unpack_dual(tda * 0).tangent
        assert_close(z, tz)
    assert fwAD.unpack_dual(a).tangent is None


def test_errors_match_torch():
    def no_level(lib):
        lib.autograd.forward_ad.make_dual(lib.ones(3), lib.ones(3))

    def bad_shape(lib):
        with lib.autograd.forward_ad.dual_level():
            lib.autograd.forward_ad.make_dual(lib.ones(3), lib.ones(2))

    def nested(lib):
        with lib.autograd.forward_ad.dual_level(), lib.autograd.forward_ad.dual_level():
            pass

    for case in (no_level, bad_shape, nested):
        with pytest.raises(Exception) as expected:
            case(torch)
        with raises(type(expected.value), str(expected.value)):
            case(rg)


def _jvp_only_functions(lib):
    """Custom Functions defining ``jvp`` and no ``backward``, written once for both libraries."""

    class ExpJvp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.result = x.exp()
            return ctx.result

        @staticmethod
        def jvp(ctx, gx):
            return gx * ctx.result

    class MulJvp(lib.autograd.Function):
        """Two inputs, a non-tensor one and two outputs."""

        @staticmethod
        def forward(ctx, x, y, k):
            ctx.x, ctx.y, ctx.k = x, y, k
            return x * y * k, x + y

        @staticmethod
        def jvp(ctx, gx, gy, gk):
            assert gk is None
            return (gx * ctx.y + ctx.x * gy) * ctx.k, gx + gy

    return ExpJvp, MulJvp


def test_custom_function_with_only_jvp_matches_torch():
    (exp_rg, mul_rg), (exp_t, mul_t) = _jvp_only_functions(rg), _jvp_only_functions(torch)
    y = X[::-1].copy()
    with fwAD.dual_level(), tfwAD.dual_level():
        dx = fwAD.make_dual(rg.tensor(X), rg.tensor(T))
        tdx = tfwAD.make_dual(torch.tensor(X), torch.tensor(T))
        # A chain through the Function and ordinary ops on both sides.
        out = fwAD.unpack_dual((exp_rg.apply(dx * 2) + dx).sin())
        tout = tfwAD.unpack_dual((exp_t.apply(tdx * 2) + tdx).sin())
        assert_close(out.primal, tout.primal, rtol=1e-12)
        assert_close(out.tangent, tout.tangent, rtol=1e-10, atol=1e-12)
        # An input without a tangent gets zeros; a non-tensor gets None.
        a, b = mul_rg.apply(dx, rg.tensor(y), 1.5)
        ta, tb = mul_t.apply(tdx, torch.tensor(y), 1.5)
        for ours, theirs in ((a, ta), (b, tb)):
            assert_close(fwAD.unpack_dual(ours).tangent, tfwAD.unpack_dual(theirs).tangent)
    # Backward through such a Function is PyTorch's error, not a silent stop.
    x = rg.tensor(X, requires_grad=True)
    tx = torch.tensor(X, requires_grad=True)
    with pytest.raises(RuntimeError) as expected:
        exp_t.apply(tx).sum().backward()
    with raises(RuntimeError, str(expected.value)):
        exp_rg.apply(x).sum().backward()
    with fwAD.dual_level():
        dual_out = exp_rg.apply(fwAD.make_dual(x, rg.tensor(T)))
        with raises(RuntimeError, str(expected.value)):
            dual_out.sum().backward()


def test_gradcheck_checks_forward_mode_of_a_jvp_only_function():
    (exp_rg, _), (exp_t, _) = _jvp_only_functions(rg), _jvp_only_functions(torch)
    opts = {"check_forward_ad": True, "check_backward_ad": False, "check_undefined_grad": False}
    x = rg.tensor(X, requires_grad=True)
    assert rg.autograd.gradcheck(exp_rg.apply, (x,), **opts)
    assert torch.autograd.gradcheck(exp_t.apply, (torch.tensor(X, requires_grad=True),), **opts)

    class WrongJvp(rg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.x = x
            return x * x

        @staticmethod
        def jvp(ctx, gx):
            return gx * ctx.x  # should be 2 * x * gx

    with raises(GradcheckError, "Forward AD: Jacobian mismatch"):
        rg.autograd.gradcheck(WrongJvp.apply, (x,), **opts)
    with raises(AssertionError, "Expected at least one of check_forward_ad or check_backward_ad"):
        rg.autograd.gradcheck(exp_rg.apply, (x,), check_backward_ad=False)


def test_jvp_reads_what_save_for_forward_kept():
    """``ctx.save_for_forward`` keeps tensors for ``jvp``, where ``ctx.saved_tensors`` reads
    them (``save_for_backward``'s stay for ``backward``), as PyTorch."""

    def product(lib):
        class Product(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, y):
                ctx.save_for_forward(x, y)
                ctx.save_for_backward(y)
                return x * y

            @staticmethod
            def jvp(ctx, tx, ty):
                x, y = ctx.saved_tensors
                return tx * y + ty * x

        return Product

    y = X[::-1].copy()
    with fwAD.dual_level(), tfwAD.dual_level():
        ours = product(rg).apply(fwAD.make_dual(rg.tensor(X), rg.tensor(T)), rg.tensor(y))
        theirs = product(torch).apply(
            tfwAD.make_dual(torch.tensor(X), torch.tensor(T)), torch.tensor(y)
        )
        assert_close(fwAD.unpack_dual(ours).tangent, tfwAD.unpack_dual(theirs).tangent)

    def saves_a_number(lib):
        class SavesNumber(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_forward(3)
                return x * 2

            @staticmethod
            def jvp(ctx, tx):
                return tx * 2

        return SavesNumber

    with pytest.raises(AssertionError) as expected:
        saves_a_number(torch).apply(torch.tensor(X))
    with raises(AssertionError, str(expected.value)):
        saves_a_number(rg).apply(rg.tensor(X))


def test_gradcheck_forward_mode_of_an_empty_input():
    x = rg.zeros(0, 3, dtype=rg.float64, requires_grad=True)
    assert rg.autograd.gradcheck(lambda x: (x * 2).sum(0), (x,), check_forward_ad=True)
    tx = torch.zeros(0, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: (x * 2).sum(0), (tx,), check_forward_ad=True)
