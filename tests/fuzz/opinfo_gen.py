"""Statements from the op table (``tests/opinfo.py``'s ``OP_DB``): an op, one of its variants
(method, operator, function, functional, in-place) and one of its samples, whose tensor
arguments become fresh variables in the sample's layout (transposed, stepped, offset,
expanded views of a literal buffer). The table knows every op's argument conventions (index
keys, ``alpha``, targets of losses, ``dtype=``), so the fuzzer reaches what its own
generators do not, and the results join the program's variables for later statements.
"""

import numpy as np
import opinfo

from .program import literal

_OPS = list(opinfo.OP_DB)
# ops whose result may share its first argument's storage
_VIEWS = {
    "view",
    "reshape",
    "flatten",
    "squeeze",
    "unsqueeze",
    "t",
    "T",
    "transpose",
    "permute",
    "expand",
    "expand_as",
    "getitem",
    "contiguous",
    "detach",
    "view_as",
    "select",
    "narrow",
}


def _base(arg):
    """The buffer literal of an ``opinfo.Arg`` and the view expression on it."""
    v = arg.value
    junk = opinfo._junk(v)
    if arg.layout == "contiguous":
        return v, ""
    if arg.layout == "transposed":
        return np.swapaxes(v, -1, -2), ".transpose(-1, -2)"
    if arg.layout == "stepped":
        pad = np.broadcast_to(junk, v.shape)
        return np.stack([v, pad], axis=-1).reshape(*v.shape[:-1], 2 * v.shape[-1]), "[..., ::2]"
    if arg.layout == "offset":
        if v.ndim == 0:
            return np.stack([junk, v]), "[1]"
        return np.concatenate([np.broadcast_to(junk, (1, *v.shape[1:])), v]), "[1:]"
    if arg.layout == "expanded":
        return v[:1], f".expand({', '.join(map(str, v.shape))})"
    raise ValueError(arg.layout)


def _render(obj, names):
    if isinstance(obj, opinfo.Arg):
        return names[id(obj)]
    if isinstance(obj, opinfo.DType):
        return f"torch.{obj.name}"
    if isinstance(obj, list):
        return "[" + ", ".join(_render(o, names) for o in obj) + "]"
    if isinstance(obj, tuple):
        inner = ", ".join(_render(o, names) for o in obj)
        return f"({inner},)" if len(obj) == 1 else f"({inner})"
    if isinstance(obj, slice):
        return f"slice({obj.start!r}, {obj.stop!r}, {obj.step!r})"
    if obj is Ellipsis:
        return "..."
    if isinstance(obj, float):
        return repr(obj) if np.isfinite(obj) else f"float({str(obj)!r})"
    return repr(obj)


_DUNDER = {
    "__add__": "+",
    "__sub__": "-",
    "__mul__": "*",
    "__truediv__": "/",
    "__pow__": "**",
    "__matmul__": "@",
    "__eq__": "==",
    "__ne__": "!=",
    "__lt__": "<",
    "__le__": "<=",
    "__gt__": ">",
    "__ge__": ">=",
    "__and__": "&",
    "__or__": "|",
    "__xor__": "^",
}
_IDUNDER = {"__iadd__": "+=", "__isub__": "-=", "__imul__": "*=", "__itruediv__": "/="}
_UNARY_DUNDER = {"__neg__": "-", "__pos__": "+", "__invert__": "~", "__abs__": "abs"}


def _call(variant, args, kwargs):
    """Source for ``variant(*args, **kwargs)`` (rendered arguments), or None when the variant
    is not one the fuzzer can write as source."""
    name = variant.name
    qual = variant.fn.__qualname__
    kw = ", ".join(f"{k}={v}" for k, v in kwargs.items())
    allargs = ", ".join([*args, kw] if kw else args)
    rest = ", ".join([*args[1:], kw] if kw else args[1:])
    if "reflected" in qual and len(args) == 2:  # b.__rop__(a)
        return f"{args[1]}.{name}({args[0]})"
    if name.startswith("x.clone()."):
        return f"{args[0]}.clone().{name[len('x.clone().') :]}({rest})"
    if name.startswith("x.") and name[2:].isidentifier():
        return f"{args[0]}.{name[2:]}({rest})"
    if name.startswith("rustgrad.") and name[9:].isidentifier():
        return f"torch.{name[9:]}({allargs})"
    if name.startswith("F.") and name[2:].isidentifier():
        return f"torch.nn.functional.{name[2:]}({allargs})"
    if name in _DUNDER and len(args) == 2 and not kw:
        return f"{args[0]} {_DUNDER[name]} {args[1]}"
    if name in _UNARY_DUNDER and len(args) == 1:
        sym = _UNARY_DUNDER[name]
        return f"abs({args[0]})" if sym == "abs" else f"{sym}{args[0]}"
    if name == "x.T":
        return f"{args[0]}.T"
    if name == "x[key]" and len(args) == 2:
        return f"{args[0]}[{args[1]}]"
    if name == "x.max(other)":
        return f"{args[0]}.max({args[1]})"
    if name == "x.min(other)":
        return f"{args[0]}.min({args[1]})"
    return None


def opinfo_statement(gen):
    """Add one op-table call (with its argument variables) to ``gen``'s program."""
    op = gen.choice(_OPS)
    dtype = gen.choice(list(op.dtypes))
    samples = op.samples(dtype)
    if not samples:
        return
    sample = gen.choice(samples)
    variants = [v for v in op.variants + op.inplace_variants if v.accepts(sample)]
    if not variants:
        return
    variant = gen.choice(variants)
    first = sample.args[0] if sample.args else None
    writes = variant in op.inplace_variants or variant.name in ("x[key] = v",)
    if writes and isinstance(first, opinfo.Arg) and first.layout == "expanded":
        return  # writing through an expanded view: README, "Deliberate differences"
    names = {}
    for arg in sample.tensors():
        base, view = _base(arg)
        name = gen.fresh()
        dt = arg.value.dtype.name
        grad = ".detach().requires_grad_()" if arg.grad and gen.coin(0.8) else ""
        code = (
            f"{name} = torch.tensor({literal(np.asarray(base), dt)}, dtype=torch.{dt}){view}{grad}"
        )
        expanded = arg.layout == "expanded"
        if not gen.emit(code, "create.opinfo", name, info=lambda v, e=expanded: {"expanded": e}):
            return
        names[id(arg)] = name
    args = [_render(a, names) for a in sample.args]
    kwargs = {k: _render(v, names) for k, v in sample.kwargs.items()}
    if variant.name in ("x.clone()[key] = v", "x[key] = v") and len(args) == 3:
        target = args[0]
        if variant.name.startswith("x.clone()"):
            target = gen.fresh()
            gen.emit(f"{target} = {args[0]}.clone()", "view.clone", target)
        gen.emit(
            f"{target}[{args[1]}] = {args[2]}",
            f"opinfo.{op.name}",
            None,
            check=(target,),
            keep_error=1.0,
        )
        return
    if variant.name in _IDUNDER and len(args) == 2:
        gen.emit(
            f"{args[0]} {_IDUNDER[variant.name]} {args[1]}",
            f"opinfo.{op.name}",
            None,
            check=(args[0],),
            keep_error=1.0,
        )
        return
    call = _call(variant, args, kwargs)
    if call is None:
        return
    out = gen.fresh()
    # (a view of an expanded argument overlaps itself too: no in-place writes to it, README)
    expanded = op.name in ("expand", "expand_as") or any(
        gen.vars[n].expanded for n in names.values()
    )
    first_var = gen.vars.get(names.get(id(first))) if isinstance(first, opinfo.Arg) else None

    def info(v):
        out = {"expanded": expanded}
        if first_var is not None and op.name in _VIEWS:  # shares the first argument's storage
            out["base"], out["stale"] = first_var.base, first_var.stale
        return out

    gen.emit(f"{out} = {call}", f"opinfo.{op.name}", out, keep_error=1.0, info=info)
