"""``rustgrad.func``: function transforms (``grad``, ``grad_and_value``, ``vjp``, ``jvp``,
``jacrev``, ``jacfwd``, ``hessian``, ``vmap``), as ``torch.func``.

How they are built (values, shapes, errors as PyTorch's):

- ``grad``/``vjp``/``jacrev`` run ``func`` on fresh differentiable handles of the inputs and
  call ``autograd.grad`` (with ``create_graph`` when nested in another transform or when an
  input requires grad, so transforms compose and results stay differentiable).
- ``jvp`` and ``jacfwd`` use the double-backward trick on reverse mode (same values as
  forward mode).
- ``vmap`` runs ``func`` once per sample (a Python loop over the mapped dimension) and stacks
  the results at ``out_dims``: PyTorch's results for any ``func`` rustgrad can run, at the
  cost of one call per sample. ``randomness`` is accepted; each sample draws its own numbers
  (PyTorch's ``"different"``).

Known differences: at the outermost transform, results are differentiable with respect to the
inputs that require grad, not with respect to tensors that ``func`` closes over.
"""

import functools
import threading

import rustgrad as torch
from rustgrad import _core

Tensor = _core.Tensor

__all__ = [
    "functional_call",
    "grad",
    "grad_and_value",
    "hessian",
    "jacfwd",
    "jacrev",
    "jvp",
    "vjp",
    "vmap",
]

_state = threading.local()


class _Level:
    """One transform being applied (the nesting depth says whether to keep graphs)."""

    def __enter__(self):
        _state.depth = getattr(_state, "depth", 0) + 1
        # (transforms work under no_grad and inference_mode too, as PyTorch's)
        self._modes = [torch.inference_mode(False), torch.enable_grad()]
        for mode in self._modes:
            mode.__enter__()
        return self

    def __exit__(self, *exc):
        for mode in reversed(self._modes):
            mode.__exit__(*exc)
        _state.depth -= 1
        return False


def _nested():
    """Whether a transform is being applied around this call (checked before entering
    one's own level)."""
    return getattr(_state, "depth", 0) > 0


# ----- pytrees (tuples, lists, dicts of tensors) --------------------------------------------


def _flatten(tree):
    """The leaves of ``tree`` and a function that rebuilds it from new leaves."""
    if isinstance(tree, (tuple, list)):
        parts = [_flatten(t) for t in tree]
        leaves = [x for ls, _ in parts for x in ls]

        kind = type(tree)

        def build(new, kind=kind, parts=parts):
            out, at = [], 0
            for ls, b in parts:
                out.append(b(new[at : at + len(ls)]))
                at += len(ls)
            return kind(*out) if hasattr(kind, "_fields") else kind(out)

        return leaves, build
    if isinstance(tree, dict):
        keys = list(tree)
        leaves, build_values = _flatten([tree[k] for k in keys])
        return leaves, lambda new: dict(zip(keys, build_values(new)))
    return [tree], lambda new: new[0]


def _tree_map(f, tree):
    leaves, build = _flatten(tree)
    return build([f(x) for x in leaves])


# ----- shared steps ----------------------------------------------------------------------------


def _argnums_tuple(argnums, n_args):
    """``argnums`` as a tuple of non-negative positions, with PyTorch's checks."""
    many = isinstance(argnums, tuple)
    nums = argnums if many else (argnums,)
    if many and not nums:
        raise RuntimeError("argnums must be non-empty")
    for a in nums:
        if not isinstance(a, int):
            raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")  # noqa: TRY004  (PyTorch raises these types)
        if not -n_args <= a < n_args:
            raise RuntimeError(f"Got argnum={a}, but only {n_args} positional inputs")
    nums = tuple(a % n_args for a in nums)
    if len(set(nums)) != len(nums):
        raise RuntimeError(f"argnums elements must be unique, got {argnums}")
    return nums


def _handle(x):
    """A differentiable handle of ``x``: a view of it when it requires grad (so gradients
    reach it too), else a fresh leaf."""
    if not isinstance(x, Tensor):
        return x
    if x.requires_grad:
        return x.view_as(x)
    if x.is_inference():  # (made in inference mode: a normal copy can be saved for backward)
        return x.clone().requires_grad_(True)
    return x.detach().requires_grad_(True)


def _differentiable_args(args, argnums):
    """``args`` with those at ``argnums`` replaced by handles; and those handles."""
    args = list(args)
    diff = []
    for i in argnums:
        args[i] = _tree_map(_handle, args[i])
        diff.append(args[i])
    return args, diff


def _keeps_graph(args):
    """Whether results must stay differentiable: nested in a transform, or an input requires
    grad."""
    if _nested():
        return True
    leaves, _ = _flatten(list(args))
    return any(isinstance(x, Tensor) and x.requires_grad for x in leaves)


def _finish(tree, keep):
    return tree if keep else _tree_map(lambda t: t.detach() if isinstance(t, Tensor) else t, tree)


def _grads(outputs, inputs, grad_outputs, keep):
    """``autograd.grad`` with zeros for unused inputs (retaining the graph for more calls)."""
    got = torch.autograd.grad(
        outputs, inputs, grad_outputs, retain_graph=True, create_graph=keep, allow_unused=True
    )
    return [torch.zeros_like(x) if g is None else g for g, x in zip(got, inputs)]


# ----- grad ------------------------------------------------------------------------------------


def grad_and_value(func, argnums=0, has_aux=False):
    """``func``'s gradient (with respect to the args at ``argnums``) and value, as a
    function: returns ``(grad, value)``, or ``(grad, (value, aux))`` with ``has_aux``."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nums = _argnums_tuple(argnums, len(args))
        keep = _keeps_graph(args)
        with _Level():
            new_args, diff = _differentiable_args(args, nums)
            output = func(*new_args, **kwargs)
            aux = None
            if has_aux:
                if not (isinstance(output, tuple) and len(output) == 2):
                    raise RuntimeError(
                        "grad_and_value(f)(*args): output of function f should be a tuple: "
                        "(output, aux) if has_aux is True"
                    )
                output, aux = output
            if not isinstance(output, Tensor):
                raise RuntimeError(  # noqa: TRY004  (PyTorch raises these types)
                    "grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got "
                    f"{type(output)}"
                )
            if output.dim() != 0:
                raise RuntimeError(
                    "grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, "
                    f"got tensor with {output.dim()} dims. Maybe you wanted to use the vjp or "
                    "jacrev APIs instead?"
                )
            leaves, build = _flatten(diff)
            if output.requires_grad:
                g = _grads([output], leaves, None, keep)
            else:
                g = [torch.zeros_like(x) for x in leaves]
            g = build(g)
            g = g[0] if isinstance(argnums, int) else tuple(g)
        g, output = _finish(g, keep), _finish(output, keep)
        if has_aux:
            return g, (output, _finish(aux, keep))
        return g, output

    return wrapper


def grad(func, argnums=0, has_aux=False):
    """``func``'s gradient with respect to the args at ``argnums`` (``func`` returns a 0-d
    tensor), as a function; with ``has_aux`` it returns ``(grad, aux)``."""
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapper


# ----- vjp, jvp ----------------------------------------------------------------------------------


def _check_tensor_outputs(output, api):
    leaves, _ = _flatten(output)
    for x in leaves:
        if not isinstance(x, Tensor):
            raise RuntimeError(  # noqa: TRY004  (PyTorch raises these types)
                f"{api}: Expected f to be a function that has non-empty output (got output = "
                f"{output})"
                if not leaves
                else f"{api}: Expected f(*primals) to return only tensors, got unsupported type "
                f"{type(x)}"
            )


def vjp(func, *primals, has_aux=False):
    """``(func(*primals), vjp_fn)``; ``vjp_fn(cotangents)`` gives one gradient per primal (a
    tuple). With ``has_aux``: ``(output, vjp_fn, aux)``."""
    keep = _keeps_graph(primals)
    with _Level():
        args, diff = _differentiable_args(primals, range(len(primals)))
        output = func(*args)
        aux = None
        if has_aux:
            if not (isinstance(output, tuple) and len(output) == 2):
                raise RuntimeError(
                    "vjp(f, *primals): output of function f should be a tuple: (output, aux) "
                    "if has_aux is True"
                )
            output, aux = output
        _check_tensor_outputs(output, "vjp(f, *primals)")
    out_leaves, _ = _flatten(output)
    in_leaves, build = _flatten(diff)

    def vjp_fn(cotangents):
        cot_leaves, _ = _flatten(cotangents)
        if len(cot_leaves) != len(out_leaves):
            raise RuntimeError(
                "Expected pytree structure of cotangents to be the same as pytree structure "
                f"of outputs to the function. cotangents: {len(cot_leaves)} tensors, primal "
                f"output: {len(out_leaves)} tensors"
            )
        for i, (c, o) in enumerate(zip(cot_leaves, out_leaves)):
            if tuple(c.shape) != tuple(o.shape):
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {c.shape} and "
                    f"output[{i}] has a shape of {o.shape}."
                )
        with _Level():
            pairs = [(o, c) for o, c in zip(out_leaves, cot_leaves) if o.requires_grad]
            if pairs:
                g = _grads([o for o, _ in pairs], in_leaves, [c for _, c in pairs], keep)
            else:
                g = [torch.zeros_like(x) for x in in_leaves]
        return _finish(tuple(build(g)), keep)

    output = _finish(output, keep)
    if has_aux:
        return output, vjp_fn, _finish(aux, keep)
    return output, vjp_fn


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """``(func(*primals), J @ tangents)``: the output and its directional derivative."""
    if not isinstance(primals, tuple):
        raise RuntimeError(  # noqa: TRY004  (PyTorch raises these types)
            "jvp(f, primals, tangents): Expected primals to be a tuple. E.g. it should be valid "
            "to call f(*primals)."
        )
    if not isinstance(tangents, tuple):
        raise RuntimeError(  # noqa: TRY004  (PyTorch raises these types)
            "jvp(f, primals, tangents): Expected tangents to be a tuple. E.g. it should be "
            "valid to call f(*primals)."
        )
    p_leaves, _ = _flatten(primals)
    t_leaves, _ = _flatten(tangents)
    if len(p_leaves) != len(t_leaves):
        raise RuntimeError(
            "jvp(f, primals, tangents): Expected primals and tangents to have the same python "
            f"structure. For example, if primals is a tuple of 3 tensors, tangents also must "
            f"be. Got primals with structure {len(p_leaves)} tensors and tangents with "
            f"structure {len(t_leaves)} tensors"
        )
    for p, t in zip(p_leaves, t_leaves):
        if tuple(p.shape) != tuple(t.shape):
            raise RuntimeError(
                "Trying to set a forward gradient that has a different size than that of the "
                f"original Tensor, this is not supported. Tensor is of size {list(p.shape)} "
                f"while the given forward gradient is of size {list(t.shape)}."
            )
    keep = _keeps_graph(primals + tangents)
    with _Level():
        args, diff = _differentiable_args(primals, range(len(primals)))
        output = func(*args)
        aux = None
        if has_aux:
            if not (isinstance(output, tuple) and len(output) == 2):
                raise RuntimeError(
                    "jvp(f, primals, tangents): output of function f should be a tuple: "
                    "(output, aux) if has_aux is True"
                )
            output, aux = output
        _check_tensor_outputs(output, "jvp(f, primals, tangents)")
        out_leaves, build_out = _flatten(output)
        in_leaves, _ = _flatten(diff)
        # The double-backward trick: J^T u is linear in u, so d(J^T u)/du applied to v is J v.
        us = [torch.zeros_like(o, requires_grad=True) for o in out_leaves]
        pairs = [(o, u) for o, u in zip(out_leaves, us) if o.requires_grad]
        if pairs:
            jtu = torch.autograd.grad(
                [o for o, _ in pairs],
                in_leaves,
                [u for _, u in pairs],
                create_graph=True,
                allow_unused=True,
            )
            used = [(g, v) for g, v in zip(jtu, t_leaves) if g is not None and g.requires_grad]
        else:
            used = []
        if used:
            jv = _grads([g for g, _ in used], us, [v for _, v in used], keep)
        else:
            jv = [torch.zeros_like(o) for o in out_leaves]
    output, jv = _finish(output, keep), _finish(build_out(jv), keep)
    if has_aux:
        return output, jv, _finish(aux, keep)
    return output, jv


# ----- jacobians ---------------------------------------------------------------------------------


def _jacobian(func, argnums, has_aux, api):
    @functools.wraps(func)
    def wrapper(*args):
        nums = _argnums_tuple(argnums, len(args))
        keep = _keeps_graph(args)
        with _Level():
            new_args, diff = _differentiable_args(args, nums)
            output = func(*new_args)
            aux = None
            if has_aux:
                if not (isinstance(output, tuple) and len(output) == 2):
                    raise RuntimeError(
                        f"{api}(f, ...)(*args): output of function f should be a tuple: "
                        "(output, aux) if has_aux is True"
                    )
                output, aux = output
            _check_tensor_outputs(output, f"{api}(f, ...)(*args)")
            out_leaves, build_out = _flatten(output)
            in_leaves, build_in = _flatten(diff)
            jacs = []
            for o in out_leaves:
                rows = [[] for _ in in_leaves]
                flat = o.reshape(-1)
                for j in range(o.numel()):
                    if o.requires_grad:
                        g = _grads([flat[j]], in_leaves, None, keep)
                    else:
                        g = [torch.zeros_like(x) for x in in_leaves]
                    for row, gj in zip(rows, g):
                        row.append(gj)
                per_input = []
                for row, x in zip(rows, in_leaves):
                    shape = tuple(o.shape) + tuple(x.shape)
                    if row:
                        per_input.append(torch.stack(row, dim=0).reshape(shape))
                    else:
                        per_input.append(torch.zeros(shape, dtype=x.dtype, device=x.device))
                tree = build_in(per_input)
                jacs.append(tree[0] if isinstance(argnums, int) else tuple(tree))
            result = _finish(build_out(jacs), keep)
        if has_aux:
            return result, _finish(aux, keep)
        return result

    return wrapper


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """The Jacobian of ``func`` with respect to the args at ``argnums``, as a function
    (reverse mode, one row per output element): ``output.shape + input.shape`` per pair."""
    return _jacobian(func, argnums, has_aux, "jacrev")


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """The Jacobian of ``func`` (same result as :func:`jacrev`; computed by reverse mode
    here)."""
    return _jacobian(func, argnums, has_aux, "jacfwd")


def hessian(func, argnums=0):
    """The Hessian of a scalar ``func`` with respect to the args at ``argnums``, as a
    function: ``jacfwd(jacrev(func, argnums), argnums)``."""
    return jacfwd(jacrev(func, argnums), argnums)


# ----- vmap --------------------------------------------------------------------------------------


def _fn_name(func):
    return getattr(func, "__name__", repr(func))


def _broadcast_in_dims(in_dims, args, func):
    """One in_dim per leaf of ``args`` (``in_dims`` an int/None, or a tree like ``args``)."""
    if isinstance(in_dims, int):
        leaves, _ = _flatten(list(args))
        return [in_dims] * len(leaves)
    if not isinstance(in_dims, tuple):
        raise ValueError(  # noqa: TRY004  (PyTorch raises these types)
            f"vmap({_fn_name(func)}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` to "
            "be int or a (potentially nested) tuple matching the structure of inputs, got: "
            f"{type(in_dims)}."
        )
    if len(in_dims) != len(args):
        raise ValueError(
            f"vmap({_fn_name(func)}, in_dims={in_dims}, ...)(<inputs>): in_dims is not "
            "compatible with the structure of `inputs`. in_dims has "
            f"{len(in_dims)} entries but inputs has {len(args)}."
        )
    dims = []
    for d, a in zip(in_dims, args):
        n = len(_flatten(a)[0])
        if isinstance(d, int) or d is None:
            dims.extend([d] * n)
        else:
            sub, _ = _flatten(d)
            if len(sub) != n:
                raise ValueError(
                    f"vmap({_fn_name(func)}, in_dims={in_dims}, ...)(<inputs>): in_dims is not "
                    "compatible with the structure of `inputs`."
                )
            dims.extend(sub)
    return dims


def _take(x, dim, i):
    """``x.select(dim, i)``."""
    return x[(slice(None),) * dim + (i,)]


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """``func`` mapped over a dimension of its inputs (``in_dims``: an int, None for not
    mapped, or a tuple per argument), the results stacked at ``out_dims``."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        leaves, build = _flatten(list(args))
        dims = _broadcast_in_dims(in_dims, args, func)
        sizes = []
        norm = []
        for x, d in zip(leaves, dims):
            if d is None:
                norm.append(None)
                continue
            if not isinstance(x, Tensor):
                raise ValueError(  # noqa: TRY004  (PyTorch raises these types)
                    f"vmap({_fn_name(func)}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} "
                    f"for an input but the input is of type {type(x)}. We cannot vmap over "
                    "non-Tensor arguments, please use None as the respective in_dim"
                )
            n = x.dim()
            if not -n <= d < n:
                raise ValueError(
                    f"vmap({_fn_name(func)}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} "
                    f"for some input, but that input is a Tensor of dimensionality {n} so "
                    f"expected in_dim to satisfy -{n} <= in_dim < {n}."
                )
            d %= n
            norm.append(d)
            sizes.append(int(x.shape[d]))
        if not sizes:
            raise ValueError(
                f"vmap({_fn_name(func)}, in_dims={in_dims}, ...)(<inputs>): at least one input "
                f"must be mapped over (got in_dims={in_dims})"
            )
        if len(set(sizes)) != 1:
            raise ValueError(
                "vmap: Expected all tensors to have the same size in the mapped dimension, got "
                f"sizes {sizes} for the mapped dimension"
            )
        if sizes[0] == 0:
            # (PyTorch calls func once on an empty batch: here on zeros of a sample's shape,
            # whose results are then cut to none)
            sample = [x if d is None else _take(torch.zeros(tuple(x.shape[:d]) + (1,) + tuple(x.shape[d + 1 :]), dtype=x.dtype, device=x.device), d, 0) for x, d in zip(leaves, norm)]  # fmt: skip
            return _stack_outputs([func(*build(sample), **kwargs)], out_dims, func, empty=True)
        results = []
        for i in range(sizes[0]):
            sample = [x if d is None else _take(x, d, i) for x, d in zip(leaves, norm)]
            results.append(func(*build(sample), **kwargs))
        return _stack_outputs(results, out_dims, func)

    return wrapper


def _same_output(a, b):
    """Whether two samples' outputs are one unbatched output (the same object, or equal
    tensors)."""
    if a is b:
        return True
    both = isinstance(a, Tensor) and isinstance(b, Tensor)
    return both and a.shape == b.shape and bool(torch.equal(a, b))


def _stack_outputs(results, out_dims, func, empty=False):
    first, build = _flatten(results[0])
    per = [_flatten(r)[0] for r in results]
    if isinstance(out_dims, int) or out_dims is None:
        odims = [out_dims] * len(first)
    else:
        odims, _ = _flatten(out_dims)
        if len(odims) != len(first):
            raise ValueError(
                f"vmap({_fn_name(func)}, ..., out_dims={out_dims})(<inputs>): out_dims is not "
                "compatible with the structure of `outputs`."
            )
    out = []
    for k, d in enumerate(odims):
        column = [p[k] for p in per]
        if d is None:
            # (an output that differs between samples is a batched one, which PyTorch
            # refuses to return unbatched)
            first = column[0]
            if empty or not all(_same_output(c, first) for c in column[1:]):
                raise ValueError(
                    f"vmap({_fn_name(func)}, ...): `{_fn_name(func)}` can not return a "
                    "BatchedTensor when out_dim is None"
                )
            out.append(first)
            continue
        if not isinstance(column[0], Tensor):
            raise ValueError(  # noqa: TRY004  (PyTorch raises these types)
                f"vmap({_fn_name(func)}, ...): `{_fn_name(func)}` must only return Tensors, got "
                f"type {type(column[0])}. Did you mean to set out_dims= to None for output?"
            )
        n = column[0].dim() + 1
        if not -n <= d < n:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})"
            )
        stacked = torch.stack(column, dim=d % n)
        out.append(stacked.narrow(d % n, 0, 0) if empty else stacked)
    return build(out)


def functional_call(
    module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True, strict=False
):
    """``module(*args, **kwargs)`` with its parameters and buffers named in
    ``parameter_and_buffer_dicts`` (a dict, or a sequence of dicts with distinct keys, of
    dotted names to tensors) replaced by those tensors for the call, then restored (also
    when the call raises). ``strict=True``: every parameter and buffer must be given, and
    no other name. Replacing one tied tensor (``tie_weights``) replaces only that name."""
    dicts = (
        parameter_and_buffer_dicts
        if isinstance(parameter_and_buffer_dicts, (list, tuple))
        else (parameter_and_buffer_dicts,)
    )
    merged = {}
    for d in dicts:
        repeated = [key for key in d if key in merged]
        if repeated:
            raise ValueError(
                f"{repeated} appeared in multiple dictionaries; behavior of functional call is "
                "ambiguous"
            )
        merged.update(d)
    if strict:
        names = {n for n, _ in module.named_parameters()} | {n for n, _ in module.named_buffers()}
        missing, unexpected = sorted(names - set(merged)), sorted(set(merged) - names)
        if missing or unexpected:
            lines = []
            if unexpected:
                lines.append("Unexpected key(s): " + ", ".join(repr(k) for k in unexpected) + ".")
            if missing:
                lines.append("Missing key(s): " + ", ".join(repr(k) for k in missing) + ".")
            raise RuntimeError(
                f"Error(s) in reparametrizing for {type(module).__name__}:\n\t" + "\n\t".join(lines)
            )
    swapped = []  # (registry dict, name, old value or a marker for "absent")
    absent = object()
    try:
        for key, value in merged.items():
            owner = module
            *path, name = key.split(".")
            for part in path:
                owner = getattr(owner, part)
            registry = next(
                (
                    owner.__dict__[r]
                    for r in ("_parameters", "_buffers")
                    if name in owner.__dict__.get(r, ())
                ),
                None,
            )
            if registry is None:  # a name the module does not have: a plain attribute
                registry = owner.__dict__
            swapped.append((registry, name, registry.get(name, absent)))
            registry[name] = value
        if args is None:
            args = ()
        elif not isinstance(args, tuple):
            args = (args,)
        return module(*args, **(kwargs or {}))
    finally:
        for registry, name, old in reversed(swapped):
            if old is absent:
                del registry[name]
            else:
                registry[name] = old
