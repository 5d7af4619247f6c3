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


def _forward_jacobians(func, inputs, wrt, out_index):
    """Same layout as :func:`_numerical_jacobians`, from forward-mode AD: one one-hot tangent
    per input element."""
    fwad = _rg.autograd.forward_ad
    jacobians = []
    for i in wrt:
        x = inputs[i]
        shape = tuple(int(s) for s in x.shape)
        rows = None
        for j in range(_numel(x)):
            one_hot = np.zeros(shape, dtype=np.float64)
            one_hot.reshape(-1)[j] = 1.0
            with fwad.dual_level():
                dual = fwad.make_dual(x, _rg.tensor(one_hot, dtype=x.dtype, device=x.device))
                outs = _outputs_of(func, inputs[:i] + (dual,) + inputs[i + 1 :])
                tangents = [fwad.unpack_dual(outs[k]).tangent for k in out_index]
            if rows is None:
                rows = [np.zeros((_numel(x), _numel(outs[k]))) for k in out_index]
            for col, t in enumerate(tangents):
                if t is not None:
                    rows[col][j] = _to_numpy(t).reshape(-1)
        if rows is None:  # an empty input: no tangent to push, the outputs give the widths
            outs = _outputs_of(func, inputs)
            rows = [np.zeros((0, _numel(outs[k]))) for k in out_index]
        jacobians.append(rows)
    return jacobians


def _compare(analytical, numerical, wrt, out_index, atol, rtol, mode):
    """The first mismatch's message (PyTorch's words), or None."""
    for row, i in enumerate(wrt):
        for col, k in enumerate(out_index):
            a, n = analytical[row][col], numerical[row][col]
            if a.shape != n.shape or not np.allclose(a, n, rtol=rtol, atol=atol):
                prefix = "" if mode == "backward" else "Forward AD: "
                return (
                    f"{prefix}Jacobian mismatch for output {k} with respect to input {i},\n"
                    f"numerical:{_show(n)}\nanalytical:{_show(a)}\n"
                )
    return None


def _backward_mul_by_grad_output(inputs, wrt, outputs, out_index):
    """Zero output gradients must give exactly zero input gradients (PyTorch's check; it
    covers PyTorch's undefined-gradient check too, undefined gradients being zeros here)."""
    outs = [outputs[k] for k in out_index]
    grads = _rg.autograd.grad(
        outs,
        [inputs[i] for i in wrt],
        [_rg.zeros_like(o) for o in outs],
        retain_graph=True,
        allow_unused=True,
    )
    return all(g is None or bool((g == 0).all()) for g in grads)


def _check_batched_grad(inputs, wrt, outputs, out_index, atol, rtol):
    """Backward vmapped over two random output gradients agrees with one pass per gradient."""
    diff_inputs = [inputs[i] for i in wrt]
    for k in out_index:
        out = outputs[k]
        cotangents = _rg.stack([_random_grad_output(out).detach() for _ in range(2)])

        def vjp(v, out=out):
            grads = _rg.autograd.grad([out], diff_inputs, [v], retain_graph=True, allow_unused=True)
            return tuple(_rg.zeros_like(x) if g is None else g for x, g in zip(diff_inputs, grads))

        batched = _rg.func.vmap(vjp)(cotangents)
        for b in range(2):
            for x_index, (whole, one) in enumerate(zip(batched, vjp(cotangents[b]))):
                if not np.allclose(_to_numpy(whole[b]), _to_numpy(one), rtol=rtol, atol=atol):
                    return (
                        f"For output {k} and input {wrt[x_index]}: batched gradient "
                        "computation gave a different result than one gradient at a time"
                    )
    return None


def gradcheck(
    func,
    inputs,
    eps=1e-6,
    atol=1e-5,
    rtol=1e-3,
    raise_exception=True,
    *,
    nondet_tol=0.0,
    check_undefined_grad=True,
    check_grad_dtypes=False,
    check_batched_grad=False,
    check_batched_forward_grad=False,
    check_forward_ad=False,
    check_backward_ad=True,
    fast_mode=False,
    masked=None,
):
    """Check ``func``'s derivatives against finite differences; True when they agree.

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
        check_backward_ad: check the Jacobian backward gives (on by default).
        check_forward_ad: check the Jacobian forward-mode AD gives (``autograd.forward_ad``).
        check_undefined_grad: accepted; zero output gradients must always give zero input
            gradients (undefined gradients are zeros in rustgrad's engine).
        check_grad_dtypes: each gradient must have its input's dtype.
        check_batched_grad: backward under ``func.vmap`` over output gradients must agree
            with one backward per gradient.
        check_batched_forward_grad: the same for forward-mode tangents (``func.jvp`` under
            ``vmap``).
        nondet_tol, fast_mode, masked: accepted as PyTorch's. The check is always the full
            (slow-mode) comparison of every Jacobian entry, which is stricter than fast mode;
            the reentrancy check that ``nondet_tol`` loosens is not run.
    """
    del nondet_tol, fast_mode, masked, check_undefined_grad  # see the docstring
    inputs = _as_tuple(inputs)
    wrt = [i for i, x in enumerate(inputs) if _is_tensor(x) and x.requires_grad]
    if not wrt:
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, "
            "but none of them have requires_grad=True."
        )
    if not check_forward_ad and not check_backward_ad:
        raise AssertionError(
            "Expected at least one of check_forward_ad or check_backward_ad to be True"
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
    numerical = _numerical_jacobians(func, inputs, wrt, out_index, out_numels, eps)
    if check_backward_ad:
        if check_grad_dtypes:
            grads = _rg.autograd.grad(
                [outputs[k] for k in out_index],
                [inputs[i] for i in wrt],
                [_rg.ones_like(outputs[k]) for k in out_index],
                retain_graph=True,
                allow_unused=True,
            )
            for i, g in zip(wrt, grads):
                if g is not None and g.dtype != inputs[i].dtype:
                    return _fail("Gradient has dtype mismatch", raise_exception)
        analytical = _analytical_jacobians(inputs, wrt, outputs, out_index)
        message = _compare(analytical, numerical, wrt, out_index, atol, rtol, "backward")
        if message is not None:
            return _fail(message, raise_exception)
        if not _backward_mul_by_grad_output(inputs, wrt, outputs, out_index):
            return _fail("backward not multiplied by grad_output", raise_exception)
        if check_batched_grad:
            message = _check_batched_grad(inputs, wrt, outputs, out_index, atol, rtol)
            if message is not None:
                return _fail(message, raise_exception)
    if check_forward_ad:
        analytical = _forward_jacobians(func, inputs, wrt, out_index)
        message = _compare(analytical, numerical, wrt, out_index, atol, rtol, "forward")
        if message is not None:
            return _fail(message, raise_exception)
        if check_batched_forward_grad:
            message = _check_batched_forward_grad(func, inputs, wrt, out_index, atol, rtol)
            if message is not None:
                return _fail(message, raise_exception)
    return True


def _check_batched_forward_grad(func, inputs, wrt, out_index, atol, rtol):
    """``func.jvp`` vmapped over two random tangents agrees with one jvp per tangent."""
    tangents = [_rg.stack([_random_grad_output(inputs[i]).detach() for _ in range(2)]) for i in wrt]

    def jvp(*ts):
        def restricted(*xs):
            args = list(inputs)
            for i, x in zip(wrt, xs):
                args[i] = x
            outs = _outputs_of(func, tuple(args))
            return tuple(outs[k] for k in out_index)

        _, out_tangents = _rg.func.jvp(
            restricted, tuple(inputs[i].detach() for i in wrt), tuple(ts)
        )
        return out_tangents

    batched = _rg.func.vmap(jvp)(*tangents)
    for b in range(2):
        for k, (whole, one) in zip(out_index, zip(batched, jvp(*(t[b] for t in tangents)))):
            if not np.allclose(_to_numpy(whole[b]), _to_numpy(one), rtol=rtol, atol=atol):
                return (
                    f"For output {k}: batched forward gradient computation gave a different "
                    "result than one tangent at a time"
                )
    return None


def _random_grad_output(out, non_contiguous=False):
    """Uniform values in [-1, 1) of ``out``'s shape and dtype: a leaf that requires grad
    (a strided view into a longer buffer when ``non_contiguous``)."""
    shape = tuple(int(s) for s in out.shape)
    if non_contiguous and shape:
        wide = _rg.rand(shape[:-1] + (2 * shape[-1],), dtype=out.dtype, device=out.device)
        values = (wide * 2.0 - 1.0)[..., ::2]
    else:
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
    *,
    gen_non_contig_grad_outputs=False,
    nondet_tol=0.0,
    check_undefined_grad=True,
    check_grad_dtypes=False,
    check_batched_grad=False,
    check_fwd_over_rev=False,
    check_rev_over_rev=True,
    fast_mode=False,
    masked=False,
):
    """Check second derivatives of ``func`` against finite differences, as PyTorch's does.

    Runs :func:`gradcheck` on the function ``(inputs, grad_outputs) -> autograd.grad(
    func(inputs), inputs, grad_outputs, create_graph=True)``: the backward pass, recorded with
    ``create_graph=True``, must itself have correct gradients, with respect to both the inputs
    and the incoming gradients.

    Args:
        func, inputs, eps, atol, rtol, raise_exception: as for :func:`gradcheck`.
        check_rev_over_rev, check_fwd_over_rev: check the backward pass's derivatives by
            backward (on by default) and by forward-mode AD (``check_backward_ad`` and
            ``check_forward_ad`` of that :func:`gradcheck`).
        check_undefined_grad, check_grad_dtypes, check_batched_grad, nondet_tol, fast_mode,
            masked: passed on to that :func:`gradcheck`.
        gen_non_contig_grad_outputs: the random ``grad_outputs`` are made non-contiguous
            (every other element of a buffer twice as long).
        grad_outputs: one gradient per differentiable output of ``func`` (those that require
            grad), or None for random ones in ``[-1, 1)`` (drawn from rustgrad's generator, so
            ``manual_seed`` makes them repeatable) of each output's shape and dtype. Those that
            require grad are checked too.
    """
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        outputs = _outputs_of(func, inputs)
        diff_outputs = [o for o in outputs if _is_tensor(o) and o.requires_grad]
        grad_outputs = tuple(
            _random_grad_output(o, non_contiguous=gen_non_contig_grad_outputs) for o in diff_outputs
        )
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
        nondet_tol=nondet_tol,
        check_undefined_grad=check_undefined_grad,
        check_grad_dtypes=check_grad_dtypes,
        check_batched_grad=check_batched_grad,
        check_forward_ad=check_fwd_over_rev,
        check_backward_ad=check_rev_over_rev,
        fast_mode=fast_mode,
        masked=masked,
    )


__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]
