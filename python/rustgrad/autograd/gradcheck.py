"""``gradcheck``: compare backward's gradients with finite differences, as PyTorch's does.

The numerical Jacobian comes from central differences, ``(f(x + eps) - f(x - eps)) / (2 eps)``,
one input element at a time; the analytical Jacobian comes from the backward engine, one output
element at a time (``autograd.grad`` with a one-hot ``grad_outputs``). Both are laid out as
PyTorch lays them out: one matrix per (input, output) pair, with a row per input element and a
column per output element.

The function under test is called with the original inputs for the analytical pass. For the
numerical pass it receives perturbed *copies* of the inputs that require grad: those copies are
contiguous even where an original input is a non-contiguous view, and they are distinct tensors,
so a function that relies on two inputs aliasing one storage is not supported.
"""

import warnings

import numpy as np

import rustgrad as _rg


class GradcheckError(RuntimeError):
    """Raised by :func:`gradcheck` when the analytical and numerical gradients disagree."""


def _as_tuple(x):
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _is_tensor(x):
    return isinstance(x, _rg.Tensor)


def _dtype_name(t):
    return str(t.dtype).rsplit(".", 1)[-1]


def _is_float(t):
    return _dtype_name(t) in ("float16", "bfloat16", "float32", "float64")


def _to_numpy(t):
    """A C-contiguous float64 copy of ``t``'s values (copied to the host first)."""
    return np.array(t.detach().cpu().numpy(), dtype=np.float64, order="C", copy=True)


def _numel(t):
    n = 1
    for s in t.shape:
        n *= int(s)
    return n


def _outputs_of(func, args):
    return _as_tuple(func(*args))


def _numerical_jacobians(func, inputs, wrt, out_index, out_numels, eps):
    """``jac[i][k]``: (numel of input ``wrt[i]``) x (numel of output ``out_index[k]``)."""
    jacobians = []
    for i in wrt:
        x = inputs[i]
        base = _to_numpy(x)
        flat = base.reshape(-1)
        jac = [np.zeros((flat.size, n)) for n in out_numels]

        def evaluate(values, i=i, x=x):
            copy = _rg.tensor(values, dtype=x.dtype, device=x.device, requires_grad=x.requires_grad)
            args = inputs[:i] + (copy,) + inputs[i + 1 :]
            outs = _outputs_of(func, args)
            return [_to_numpy(outs[k]).reshape(-1) for k in out_index]

        for j in range(flat.size):
            orig = flat[j]
            flat[j] = orig + eps
            plus = evaluate(base.copy())
            flat[j] = orig - eps
            minus = evaluate(base.copy())
            flat[j] = orig
            for k, (p, m) in enumerate(zip(plus, minus)):
                jac[k][j] = (p - m) / (2 * eps)
        jacobians.append(jac)
    return jacobians


def _analytical_jacobians(inputs, wrt, outputs, out_index):
    """Same layout as :func:`_numerical_jacobians`, from the backward engine."""
    diff_inputs = [inputs[i] for i in wrt]
    jacobians = [
        [np.zeros((_numel(inputs[i]), _numel(outputs[k]))) for k in out_index] for i in wrt
    ]
    for col, k in enumerate(out_index):
        out = outputs[k]
        shape = tuple(int(s) for s in out.shape)
        for m in range(_numel(out)):
            one_hot = np.zeros(shape, dtype=np.float64)
            one_hot.reshape(-1)[m] = 1.0
            grad_output = _rg.tensor(one_hot, dtype=out.dtype, device=out.device)
            grads = _rg.autograd.grad(
                [out],
                diff_inputs,
                grad_outputs=[grad_output],
                retain_graph=True,
                allow_unused=True,
            )
            for row, (x, g) in enumerate(zip(diff_inputs, grads)):
                if g is None:
                    continue
                if tuple(g.shape) != tuple(x.shape):
                    raise GradcheckError(
                        f"Gradient has incorrect size: expected {tuple(x.shape)}, "
                        f"got {tuple(g.shape)} (input {wrt[row]}, output {k})"
                    )
                jacobians[row][col][:, m] = _to_numpy(g).reshape(-1)
    return jacobians


def _show(matrix):
    return repr(_rg.tensor(matrix, dtype=_rg.float64))


def _fail(message, raise_exception):
    if raise_exception:
        raise GradcheckError(message)
    return False


def gradcheck(func, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Check ``func``'s backward against finite differences; True when they agree.

    Args:
        func: called as ``func(*inputs)``; returns a tensor or a tuple of tensors. Outputs that
            do not require grad (e.g. integer indices) are not checked.
        inputs: a tensor or a tuple of tensors (other values are passed through untouched).
            Every floating tensor with ``requires_grad=True`` is checked; use float64 ones,
            since float32 differences are too coarse for the default tolerances.
        eps: the finite-difference step.
        atol, rtol: an analytical entry ``a`` passes against the numerical ``n`` when
            ``|a - n| <= atol + rtol * |n|``.
        raise_exception: raise :class:`GradcheckError` on a mismatch instead of returning False.
    """
    inputs = _as_tuple(inputs)
    wrt = [i for i, x in enumerate(inputs) if _is_tensor(x) and x.requires_grad]
    if not wrt:
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, "
            "but none of them have requires_grad=True."
        )
    for i in wrt:
        if _dtype_name(inputs[i]) != "float64":
            warnings.warn(
                f"Input #{i} requires gradient and is not a double precision floating point. "
                "This check will likely fail if all the inputs are not of double precision "
                "floating point.",
                stacklevel=2,
            )

    outputs = _outputs_of(func, inputs)
    out_index = [
        k for k, o in enumerate(outputs) if _is_tensor(o) and _is_float(o) and o.requires_grad
    ]

    if not out_index:
        # Nothing differentiable came out: then the function must not depend on its inputs.
        float_outs = [k for k, o in enumerate(outputs) if _is_tensor(o) and _is_float(o)]
        numerical = _numerical_jacobians(
            func, inputs, wrt, float_outs, [_numel(outputs[k]) for k in float_outs], eps
        )
        for row in numerical:
            for jac in row:
                if not np.allclose(jac, 0.0, rtol=0.0, atol=atol):
                    return _fail(
                        "Numerical gradient for function expected to be zero",
                        raise_exception,
                    )
        return True

    out_numels = [_numel(outputs[k]) for k in out_index]
    analytical = _analytical_jacobians(inputs, wrt, outputs, out_index)
    numerical = _numerical_jacobians(func, inputs, wrt, out_index, out_numels, eps)

    for row, i in enumerate(wrt):
        for col, k in enumerate(out_index):
            a, n = analytical[row][col], numerical[row][col]
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                return _fail(
                    f"Jacobian mismatch for output {k} with respect to input {i},\n"
                    f"numerical:{_show(n)}\nanalytical:{_show(a)}\n",
                    raise_exception,
                )
    return True


def _random_grad_output(out):
    """Uniform values in [-1, 1) of ``out``'s shape and dtype: a leaf that requires grad."""
    shape = tuple(int(s) for s in out.shape)
    values = _rg.rand(shape, dtype=out.dtype, device=out.device) * 2.0 - 1.0
    return values.detach().requires_grad_()


def gradgradcheck(
    func,
    inputs,
    grad_outputs=None,
    eps=1e-6,
    atol=1e-5,
    rtol=1e-3,
    raise_exception=True,
):
    """Check second derivatives of ``func`` against finite differences, as PyTorch's does.

    Runs :func:`gradcheck` on the function ``(inputs, grad_outputs) -> autograd.grad(
    func(inputs), inputs, grad_outputs, create_graph=True)``: the backward pass, recorded with
    ``create_graph=True``, must itself have correct gradients, with respect to both the inputs
    and the incoming gradients.

    Args:
        func, inputs, eps, atol, rtol, raise_exception: as for :func:`gradcheck`.
        grad_outputs: one gradient per differentiable output of ``func`` (those that require
            grad), or None for random ones in ``[-1, 1)`` (drawn from rustgrad's generator, so
            ``manual_seed`` makes them repeatable) of each output's shape and dtype. Those that
            require grad are checked too.
    """
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        outputs = _outputs_of(func, inputs)
        diff_outputs = [o for o in outputs if _is_tensor(o) and o.requires_grad]
        grad_outputs = tuple(_random_grad_output(o) for o in diff_outputs)
    else:
        grad_outputs = _as_tuple(grad_outputs)
    n_in, n_out = len(inputs), len(grad_outputs)
    diff_inputs = [i for i, x in enumerate(inputs) if _is_tensor(x) and x.requires_grad]

    def first_derivative(*args):
        ins, gouts = args[:n_in], args[n_in:]
        outputs = _outputs_of(func, ins)
        outputs = [o for o in outputs if _is_tensor(o) and o.requires_grad]
        if len(outputs) != n_out:
            raise GradcheckError(
                f"gradgradcheck: func has {len(outputs)} differentiable outputs but "
                f"{n_out} grad_outputs were given"
            )
        wrt = [ins[i] for i in diff_inputs]
        grads = _rg.autograd.grad(
            outputs,
            wrt,
            grad_outputs=list(gouts),
            create_graph=True,
            allow_unused=True,
        )
        return tuple(g for g in grads if g is not None)

    # gradcheck checks exactly the inputs and grad_outputs that require grad.
    return gradcheck(
        first_derivative,
        inputs + grad_outputs,
        eps=eps,
        atol=atol,
        rtol=rtol,
        raise_exception=raise_exception,
    )


__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]
