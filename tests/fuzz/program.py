"""Random programs: generation (with the reference PyTorch as the oracle) and rendering.

A program is a list of ``Stmt``: one line of Python written against a module bound to the name
``torch`` (rustgrad or PyTorch), the op it exercises (``tag``, the key of mismatch signatures),
and the variables whose values are compared after it runs. Generation runs each candidate line
in PyTorch at once to learn the shapes and dtypes of what it made, so later lines use them
sensibly; a line PyTorch rejects is kept now and then as an error case (the exception types
must agree) and its variable is never used again.

Cases the README lists under "Deliberate differences from PyTorch" are not generated: several
tensor indices on non-adjacent dimensions, writes through an expanded view, and gradients
through a view whose base another view modified in place (variables that may see such stale
history are marked ``stale`` and kept out of the gradient checks; rustgrad now remakes such
views from their base as PyTorch does, checked by tests/test_inplace.py, so this exclusion can
be lifted).

Only names rustgrad has are generated (``Tensor.prod``, ``all``, ``any``, ``select``,
``narrow``, ``exp_`` and the like, ``torch.as_tensor`` and ``torch.maximum`` do not exist in
rustgrad; ``tests/test_ops.py``'s coverage test lists its surface); a missing name would only
report AttributeError in every program that draws it.
"""

import dataclasses
import math

import numpy as np

DTYPES = ("float32", "float64", "int64", "bool")
FLOATS = ("float32", "float64")


@dataclasses.dataclass
class Stmt:
    code: str
    tag: str
    check: tuple = ()  # variables compared after the line ran ("*": every live tensor)

    def to_json(self):
        return [self.code, self.tag, list(self.check)]

    @classmethod
    def from_json(cls, item):
        return cls(item[0], item[1], tuple(item[2]))


@dataclasses.dataclass
class Var:
    name: str
    shape: tuple
    dtype: str
    requires_grad: bool
    leaf: bool
    base: str  # the variable owning the storage (itself for a fresh tensor)
    stale: bool = False
    expanded: bool = False  # overlapping memory: no in-place writes (README)


def render(program, header=True):
    """The program as a standalone script (for PyTorch; ``import rustgrad as torch`` runs it
    in rustgrad)."""
    lines = ["import math", "import numpy as np", "import torch  # or: import rustgrad as torch"]
    lines = lines + [""] if header else []
    return "\n".join(lines + [s.code for s in program])


# ----------------------------------------------------------------- literals


def _fmt_float(x):
    if math.isnan(x):
        return "math.nan"
    if math.isinf(x):
        return "math.inf" if x > 0 else "-math.inf"
    return repr(float(x))


def literal(values, dtype):
    """A nested Python list literal of ``values`` (an ndarray)."""
    if values.ndim == 0:
        v = values.item()
        if dtype == "bool":
            return repr(bool(v))
        if dtype == "int64":
            return repr(int(v))
        return _fmt_float(v)
    return "[" + ", ".join(literal(v, dtype) for v in values) + "]"


class Gen:
    """Generates one program from a seed."""

    def __init__(self, seed, torch, max_stmts=14):
        self.rng = np.random.default_rng(seed)
        self.torch = torch
        self.ns = {"torch": torch, "np": np, "math": math}
        self.vars = {}
        self.stmts = []
        self.count = 0
        self.max_stmts = max_stmts
        self.specials = self.rng.random() < 0.15  # nan/inf/-0.0 in this program's values

    # --- helpers
    def choice(self, seq):
        return seq[int(self.rng.integers(len(seq)))]

    def coin(self, p=0.5):
        return bool(self.rng.random() < p)

    def fresh(self):
        self.count += 1
        return f"v{self.count}"

    def shape(self, max_dims=3):
        r = self.rng.random()
        if r < 0.12:
            return ()
        ndim = int(self.rng.integers(1, max_dims + 1))
        sizes = []
        for _ in range(ndim):
            q = self.rng.random()
            sizes.append(0 if q < 0.06 else 1 if q < 0.3 else int(self.rng.integers(2, 5)))
        return tuple(sizes)

    def values(self, shape, dtype):
        if dtype == "bool":
            return self.rng.random(shape) < 0.5
        if dtype == "int64":
            return self.rng.integers(-5, 6, shape).astype(np.int64)
        v = np.round(self.rng.standard_normal(shape) * 2, 2)
        if self.specials and v.size:
            mask = self.rng.random(shape) < 0.2
            v = np.where(mask, self.rng.choice([np.nan, np.inf, -np.inf, -0.0, 0.0], shape), v)
        return np.asarray(v, dtype=np.float64)

    def emit(self, code, tag, var=None, check=None, keep_error=0.25, info=None):
        """Run ``code`` in PyTorch; keep it (and record ``var``'s description) when it ran,
        keep it with probability ``keep_error`` when it raised. ``info``: a function of the
        made value to the Var's extra fields."""
        try:
            exec(code, self.ns)  # noqa: S102 (generated code: the point of a fuzzer)
        except Exception:  # noqa: BLE001 (an error case)
            if self.coin(keep_error):
                self.stmts.append(Stmt(code, tag, (var,) if var else ()))
            if var:
                self.ns.pop(var, None)
            return None
        if check is None:
            check = (var,) if var else ()
        self.stmts.append(Stmt(code, tag, tuple(check)))
        if var is None:
            return True
        value = self.ns.get(var)
        if isinstance(value, self.torch.Tensor):
            v = Var(
                var,
                tuple(value.shape),
                str(value.dtype).rsplit(".", 1)[-1],
                value.requires_grad,
                value.is_leaf,
                var,
            )
            if info:
                for k, val in info(v).items():
                    setattr(v, k, val)
            if v.stale:  # made from a view with earlier history (README): values only
                self.stmts[-1].check = tuple(c + "@" if c == var else c for c in check)
            self.vars[var] = v
            return v
        return True

    def pick(self, pred=None):
        cands = [v for v in self.vars.values() if pred is None or pred(v)]
        return self.choice(cands) if cands else None

    def dt(self, name):
        return f"torch.{name}"

    # --- statements
    def create(self):
        dtype = self.choice(DTYPES)
        shape = self.shape()
        name = self.fresh()
        vals = self.values(shape, dtype)
        r = self.rng.random()
        grad = dtype in FLOATS and self.coin(0.7)
        rg = ", requires_grad=True" if grad else ""
        tag = "create.tensor"
        if r < 0.4:
            code = f"{name} = torch.tensor({literal(vals, dtype)}, dtype={self.dt(dtype)}{rg})"
        elif r < 0.5:  # dtype inferred from the Python values
            code = (
                f"{name} = torch.tensor({literal(vals, dtype)}{rg if dtype == 'float32' else ''})"
            )
            tag = "create.tensor_infer"
        elif r < 0.6:
            npd = {"bool": "np.bool_"}.get(dtype, f"np.{dtype}")
            fn = self.choice(["torch.tensor", "torch.from_numpy"])
            code = f"{name} = {fn}(np.array({literal(vals, dtype)}, dtype={npd}))"
            tag = f"create.{fn.split('.')[1]}_numpy"
            if grad and fn == "torch.tensor":
                code = code[:-1] + ", requires_grad=True)"
        elif r < 0.66:  # NumPy and Python scalars, mixed
            sc = self.choice(
                [
                    "np.float64(1.5)",
                    "np.float32(-2.25)",
                    "np.int64(3)",
                    "np.bool_(True)",
                    "2",
                    "0.5",
                ]
            )
            code = f"{name} = torch.tensor([{sc}, {literal(self.values((), dtype), dtype)}])"
            tag = "create.tensor_npscalar"
        else:
            kind = self.choice(["zeros", "ones", "full", "arange", "linspace", "eye", "like"])
            tag = f"create.{kind}"
            sh = ", ".join(map(str, shape)) or ""
            if kind in ("zeros", "ones"):
                code = f"{name} = torch.{kind}({sh}{', ' if sh else ''}dtype={self.dt(dtype)}{rg})"
                if not sh:
                    code = f"{name} = torch.{kind}((), dtype={self.dt(dtype)}{rg})"
            elif kind == "full":
                fill = literal(self.values((), dtype), dtype)
                code = f"{name} = torch.full({shape!r}, {fill}, dtype={self.dt(dtype)}{rg})"
            elif kind == "arange":
                a = self.choice(["5", "2.5", "1, 7, 2", "0, 1, 0.25", "-3, 3", "4, 0, -1", "0"])
                dt = self.choice(["", f", dtype={self.dt(dtype)}"])
                code = f"{name} = torch.arange({a}{dt})"
            elif kind == "linspace":
                steps = int(self.rng.integers(0, 6))
                code = f"{name} = torch.linspace(-1, 2, {steps}{rg})"
            elif kind == "eye":
                n, m = int(self.rng.integers(0, 4)), int(self.rng.integers(0, 4))
                code = f"{name} = torch.eye({n}, {m}, dtype={self.dt(dtype)})"
            else:
                src = self.pick()
                if src is None:
                    return
                fn = self.choice(["zeros_like", "ones_like"])
                code = f"{name} = torch.{fn}({src.name})"
                tag = f"create.{fn}"
        self.emit(code, tag, name)

    def view(self):
        x = self.pick()
        if x is None:
            return
        name = self.fresh()
        nd = len(x.shape)
        ops = ["contiguous", "clone", "detach", "reshape", "flatten", "unsqueeze", "getitem"]
        if nd >= 2:
            ops += ["transpose", "t", "permute"] * 2
        if nd >= 1:
            ops += ["slice", "expand", "squeeze", "index", "mask"] * 2
            ops += ["unbind", "split", "chunk"]
        if nd == 0:
            ops += ["expand", "getitem"]
        op = self.choice(ops)
        d = int(self.rng.integers(-nd, nd)) if nd else 0
        if op == "transpose":
            code = f"{x.name}.transpose({d}, {int(self.rng.integers(-nd, nd))})"
        elif op == "t":
            code = f"{x.name}.t()"
        elif op == "permute":
            code = f"{x.name}.permute({', '.join(map(str, self.rng.permutation(nd)))})"
        elif op == "slice":
            size = x.shape[d]
            start = int(self.rng.integers(-1, size + 1)) if size else 0
            step = self.choice([1, 2, 3])
            stop = self.choice(["", str(size), str(int(self.rng.integers(0, size + 2)))])
            idx = ", ".join([":"] * (d % nd) + [f"{start}:{stop}:{step}"])
            code = f"{x.name}[{idx}]"
        elif op in ("unbind", "split", "chunk"):
            # one of several views one call returns (PyTorch refuses in-place writes to them)
            size = x.shape[d]
            k = self.choice([0, -1]) if size else 0
            if op == "unbind":
                code = f"{x.name}.unbind({d})[{k}]"
            elif op == "chunk":
                code = f"{x.name}.chunk({self.choice([1, 2, 3])}, {d})[{k}]"
            elif self.coin() and size:
                cut = int(self.rng.integers(0, size + 1))
                code = f"{x.name}.split([{cut}, {size - cut}], {d})[{k}]"
            else:
                code = f"{x.name}.split({self.choice([1, 2, 3])}, {d})[{k}]"
        elif op == "expand":
            new = [
                s if s != 1 or not self.coin() else int(self.rng.integers(0, 4)) for s in x.shape
            ]
            if self.coin(0.3):
                new = [int(self.rng.integers(1, 3))] + new
            if self.coin(0.3):
                new = [-1 if self.coin() else s for s in new]
            code = f"{x.name}.expand({', '.join(map(str, new))})" if new else f"{x.name}.expand()"
        elif op == "squeeze":
            code = f"{x.name}.squeeze({d})" if self.coin() else f"{x.name}.squeeze()"
        elif op == "unsqueeze":
            code = f"{x.name}.unsqueeze({int(self.rng.integers(-nd - 1, nd + 1))})"
        elif op == "reshape":
            code = f"{x.name}.{self.choice(['reshape', 'view'])}(-1)"
            if nd >= 2 and self.coin():
                code = f"{x.name}.{self.choice(['reshape', 'view'])}({x.shape[0]}, -1)"
        elif op == "flatten":
            code = f"{x.name}.flatten()"
        elif op == "index":
            size = x.shape[0] if nd else 0
            idx = (
                [int(self.rng.integers(-size, size)) for _ in range(int(self.rng.integers(0, 4)))]
                if size
                else []
            )
            code = f"{x.name}[torch.tensor({idx!r}, dtype=torch.int64)]"
            if self.coin(0.3) and nd >= 2:
                code = f"{x.name}[:, {idx!r}]" if idx else f"{x.name}[{idx!r}]"
        elif op == "mask":
            mask = literal(self.rng.random(x.shape) < 0.5, "bool")
            code = f"{x.name}[torch.tensor({mask}, dtype=torch.bool)]"
        elif op == "getitem":
            key = self.choice(["...", ":", "None", "()", "..., None", "0", "-1", "1:", "::2"])
            code = f"{x.name}[{key}]"
        else:
            code = f"{x.name}.{op}()"
        grad_view = op not in ("clone", "contiguous", "detach", "index", "mask")

        def info(v, x=x, op=op, grad_view=grad_view):
            out = {"stale": x.stale}
            if op in ("detach",) or (grad_view and op not in ("reshape", "flatten")):
                out["base"] = x.base
            if op in ("reshape", "flatten"):
                out["base"] = x.base  # (may alias: conservatively the same storage)
            out["expanded"] = x.expanded or op == "expand"
            return out

        self.emit(f"{name} = {code}", f"view.{op}", name, info=info)

    UNARY = (
        "exp",
        "log",
        "sqrt",
        "tanh",
        "sin",
        "cos",
        "sigmoid",
        "neg",
        "abs",
        "relu",
        "logical_not",
        "float",
        "double",
        "long",
        "bool",
        "clone",
        "positive",
    )

    def unary(self):
        x = self.pick()
        if x is None:
            return
        name = self.fresh()
        op = self.choice([*self.UNARY, "softmax", "log_softmax", "clamp", "pow", "to", "F.relu"])
        nd = len(x.shape)
        if op in ("softmax", "log_softmax"):
            d = int(self.rng.integers(-max(nd, 1), max(nd, 1)))
            code = f"{x.name}.{op}({d})"
        elif op == "clamp":
            lo = self.choice(["-1", "-0.5", "None", "0", "min=-2"])
            hi = self.choice(["1", "2.5", "None", "0", "max=3"])
            if lo.startswith("min"):
                code = f"{x.name}.clamp({lo})"
            elif hi.startswith("max"):
                code = f"{x.name}.clamp({hi})"
            else:
                code = f"{x.name}.clamp({lo}, {hi})"
        elif op == "pow":
            code = f"{x.name}.pow({self.choice(['2', '3', '0.5', '-1', '-0.5', '0', '2.0'])})"
        elif op == "to":
            code = f"{x.name}.to({self.dt(self.choice(DTYPES))})"
        elif op == "F.relu":
            code = f"torch.nn.functional.relu({x.name})"
        elif op == "positive":
            code = f"+{x.name}"
        elif op == "neg" and self.coin():
            code = f"-{x.name}"
        else:
            code = (
                f"{x.name}.{op}()"
                if self.coin(0.7)
                or op in ("float", "double", "long", "bool", "clone", "logical_not")
                else f"torch.{op}({x.name})"
            )
        self.emit(f"{name} = {code}", f"unary.{op}", name, info=lambda v: {"stale": x.stale})

    BINARY = {  # noqa: RUF012 (a constant)
        "add": "+",
        "sub": "-",
        "mul": "*",
        "div": "/",
        "pow": "**",
        "eq": "==",
        "ne": "!=",
        "lt": "<",
        "le": "<=",
        "gt": ">",
        "ge": ">=",
        "maximum": None,
        "minimum": None,
        "and": "&",
        "or": "|",
        "xor": "^",
        "matmul": "@",
    }

    def scalar(self):
        return self.choice(
            [
                "2",
                "-1",
                "0",
                "0.5",
                "-2.5",
                "True",
                "False",
                "np.float64(1.5)",
                "np.float32(2)",
                "np.int64(-3)",
                "3.0",
                "1e-3",
            ]
        )

    def other_operand(self, x):
        """A variable broadcastable with ``x`` if one exists, else a new tensor."""

        def ok(v):
            a, b = v.shape[::-1], x.shape[::-1]
            return all(p == q or p == 1 or q == 1 for p, q in zip(a, b))

        y = self.pick(lambda v: v.name != x.name and ok(v)) if self.coin(0.6) else None
        if y is not None:
            return y.name, y.stale
        # a fresh operand: same shape, or broadcasting against it
        shape = list(x.shape)
        if shape and self.coin(0.4):
            shape = shape[int(self.rng.integers(0, len(shape) + 1)) :]
        if shape and self.coin(0.3):
            shape[int(self.rng.integers(len(shape)))] = 1
        dtype = x.dtype if self.coin(0.6) else self.choice(DTYPES)
        name = self.fresh()
        grad = ", requires_grad=True" if dtype in FLOATS and self.coin(0.5) else ""
        vals = self.values(tuple(shape), dtype)
        self.emit(
            f"{name} = torch.tensor({literal(vals, dtype)}, dtype={self.dt(dtype)}{grad})",
            "create.tensor",
            name,
        )
        return name, False

    def binary(self):
        x = self.pick()
        if x is None:
            return
        op = self.choice(list(self.BINARY))
        sym = self.BINARY[op]
        if op in ("and", "or", "xor") and x.dtype != "bool":
            return  # bool-only in rustgrad: README, "Deliberate differences from PyTorch"
        if op == "matmul":
            return self.matmul(x)
        if op in ("and", "or", "xor"):  # bool operands only (README)
            y = self.pick(lambda v: v.dtype == "bool")
            other, stale = (
                (y.name, y.stale) if y and self.coin() else (self.choice(["True", "False"]), False)
            )
        elif self.coin(0.3) and op not in ("maximum", "minimum"):
            other, stale = self.scalar(), False
        else:
            other, stale = self.other_operand(x)
        name = self.fresh()
        r = self.rng.random()
        if sym and r < 0.45:
            code = f"{x.name} {sym} {other}"
            if self.coin(0.2):
                code = f"{other} {sym} {x.name}"
        elif op in ("and", "or", "xor"):
            code = f"{x.name}.__{op}__({other})"
        elif r < 0.8 or op in ("maximum", "minimum"):
            alpha = ""
            if op in ("add", "sub") and self.coin(0.3):
                alpha = f", alpha={self.choice(['2', '-1', '0.5'])}"
            code = f"{x.name}.{op}({other}{alpha})"
        elif op in ("maximum", "minimum"):
            code = f"{x.name}.{op}({other})"
        else:
            code = f"torch.{op}({x.name}, {other})"
        self.emit(
            f"{name} = {code}", f"binary.{op}", name, info=lambda v: {"stale": x.stale or stale}
        )

    def matmul(self, x):
        nd = len(x.shape)
        if nd == 0:
            shape = (2,)
        else:
            k = x.shape[-1]
            shape = self.choice(
                [(k,), (k, int(self.rng.integers(0, 4))), (int(self.rng.integers(1, 3)), k, 2)]
            )
        dtype = x.dtype if self.coin(0.8) else self.choice(DTYPES)
        y = self.fresh()
        grad = ", requires_grad=True" if dtype in FLOATS and self.coin(0.5) else ""
        self.emit(
            f"{y} = torch.tensor({literal(self.values(shape, dtype), dtype)}, "
            f"dtype={self.dt(dtype)}{grad})",
            "create.tensor",
            y,
        )
        name = self.fresh()
        tag, form = self.choice(
            [
                ("matmul", "{x} @ {y}"),
                ("matmul", "{x}.matmul({y})"),
                ("matmul", "torch.matmul({x}, {y})"),
                ("mm", "{x}.mm({y})"),
                ("dot", "{x}.dot({y})"),
                ("rmatmul", "{y} @ {x}"),
            ]
        )
        code = form.format(x=x.name, y=y)
        self.emit(
            f"{name} = {code}",
            f"matmul.{tag}",
            name,
            info=lambda v: {"stale": x.stale},
        )

    def reduce(self):
        x = self.pick()
        if x is None:
            return
        name = self.fresh()
        nd = len(x.shape)
        op = self.choice(["sum", "mean", "max", "min", "argmax", "argmin"])
        args = []
        if self.coin(0.6):
            args.append(str(int(self.rng.integers(-max(nd, 1), max(nd, 1)))))
            if self.coin(0.4):
                args.append("keepdim=True")
        if op in ("sum", "mean") and self.coin(0.2):
            args.append(f"dtype={self.dt(self.choice(DTYPES))}")
        code = f"{x.name}.{op}({', '.join(args)})"
        tag = f"reduce.{op}" + (".dim" if args and args[0][0] in "-0123456789" else "")
        self.emit(f"{name} = {code}", tag, name, info=lambda v: {"stale": x.stale})

    def join(self):
        x = self.pick()
        if x is None:
            return
        others = [v for v in self.vars.values() if v.shape == x.shape and v.name != x.name]
        parts = [x.name] + [v.name for v in others[: int(self.rng.integers(0, 3))]]
        if self.coin(0.3):
            parts.append(self.choice([v.name for v in self.vars.values()]))
        fn = self.choice(["cat", "stack"])
        nd = len(x.shape) + (fn == "stack")
        d = int(self.rng.integers(-max(nd, 1), max(nd, 1)))
        name = self.fresh()
        stale = any(self.vars[p].stale for p in parts)
        self.emit(
            f"{name} = torch.{fn}([{', '.join(parts)}], {d})",
            f"join.{fn}",
            name,
            info=lambda v: {"stale": stale},
        )

    def where(self):
        x = self.pick()
        if x is None:
            return
        other, stale = self.other_operand(x) if self.coin(0.7) else (self.scalar(), False)
        name = self.fresh()
        cond = self.choice([f"{x.name} > 0", f"{x.name} != {x.name}", f"{x.name}.bool()"])
        self.emit(
            f"{name} = torch.where({cond}, {x.name}, {other})",
            "where",
            name,
            info=lambda v: {"stale": x.stale or stale},
        )

    def convert(self):
        x = self.pick()
        if x is None:
            return
        name = self.fresh()
        op = self.choice(
            [
                "item",
                "tolist",
                "int",
                "float",
                "bool",
                "shape",
                "numpy",
                "len",
                "dim",
                "numel",
                "is_contiguous",
            ]
        )
        code = {
            "int": f"int({x.name})",
            "float": f"float({x.name})",
            "bool": f"bool({x.name})",
            "shape": f"tuple({x.name}.shape)",
            "numpy": f"{x.name}.detach().numpy().tolist()",
            "len": f"len({x.name})",
            "dim": f"{x.name}.dim()",
            "numel": f"{x.name}.numel()",
            "is_contiguous": f"{x.name}.is_contiguous()",
        }.get(op, f"{x.name}.{op}()")
        self.emit(f"{name} = {code}", f"convert.{op}", name)

    def inplace(self):
        """An in-place op or a setitem, on a tensor that may be a view (never a leaf that
        requires grad, unless as an error case; never an expanded view: README)."""
        x = self.pick(lambda v: not v.expanded)
        if x is None:
            return
        nd = len(x.shape)
        op = self.choice(
            [
                "add_",
                "mul_",
                "sub_",
                "div_",
                "clamp_",
                "zero_",
                "fill_",
                "copy_",
                "setitem",
                "setitem",
                "iadd",
            ]
        )
        if op in ("add_", "mul_", "sub_", "div_", "copy_"):
            other = self.scalar() if self.coin(0.4) and op != "copy_" else self.other_operand(x)[0]
            code = f"{x.name}.{op}({other})"
        elif op == "clamp_":
            code = f"{x.name}.clamp_({self.choice(['-1', '0', '-0.5'])}, {self.choice(['1', '0.5', '2'])})"
        elif op == "fill_":
            code = f"{x.name}.fill_({self.scalar()})"
        elif op == "iadd":
            code = f"{x.name} += {self.other_operand(x)[0] if self.coin() else self.scalar()}"
        elif op == "setitem":
            key = (
                self.choice(["...", "0", "-1", ":", "1:", "::2", "0, 0", "None"])
                if nd
                else self.choice(["...", "()"])
            )
            if self.coin(0.2) and nd:
                mask = literal(self.rng.random(x.shape) < 0.5, "bool")
                key = f"torch.tensor({mask})"
            val = (
                self.scalar()
                if self.coin(0.5)
                else self.pick(lambda v: len(v.shape) <= max(nd - 1, 0))
            )
            val = val.name if isinstance(val, Var) else val
            code = f"{x.name}[{key}] = {val}"
        else:
            code = f"{x.name}.{op}()"
        # every tensor sharing x's storage may change: compare them all (the other views by
        # value only, "@": they keep their earlier history, README)
        aliases = tuple(
            v.name if v.name == x.name else v.name + "@"
            for v in self.vars.values()
            if v.base == x.base
        )
        if self.emit(code, f"inplace.{op}", None, check=aliases, keep_error=0.4):
            for v in self.vars.values():
                if v.base == x.base and v.name != x.name:
                    v.stale = True  # other views keep their earlier history (README)

    def grads(self):
        """First- and second-order gradients of a weighted sum of the float results."""
        roots = [
            v for v in self.vars.values() if v.dtype in FLOATS and v.requires_grad and not v.stale
        ]
        leaves = [v for v in self.vars.values() if v.leaf and v.requires_grad and v.dtype in FLOATS]
        if not roots or not leaves:
            return
        terms = []
        for v in roots[-3:]:
            w = (
                literal(self.values(v.shape, "float64").clip(-3, 3), "float64")
                if v.shape
                else "1.5"
            )
            w = w.replace("math.nan", "0.5").replace("math.inf", "1.0")
            terms.append(f"({v.name} * torch.tensor({w}, dtype={self.dt(v.dtype)})).sum()")
        lv = ", ".join(v.name for v in leaves)
        # (the loss itself is not compared: a float32 sum's rounding depends on the order of
        # summation; the gradients and every tensor before it are compared)
        self.emit(f"loss = {' + '.join(terms)}", "grad.loss", "loss", check=())
        if "loss" not in self.ns:
            return
        if self.coin(0.25):
            self.emit(
                "loss.backward()",
                "grad.backward",
                None,
                check=tuple(f"{v.name}.grad" for v in leaves),
                keep_error=1.0,
            )
            return
        self.emit(
            f"g1 = torch.autograd.grad(loss, [{lv}], create_graph=True, allow_unused=True)",
            "grad.first",
            "g1",
            keep_error=1.0,
        )
        if "g1" not in self.ns:
            return
        self.emit(
            "gg = sum(((g * g).sum() for g in g1 if g is not None and g.requires_grad), "
            "torch.zeros(()))",
            "grad.gg",
            "gg",
        )
        if getattr(self.ns.get("gg"), "requires_grad", False):
            self.emit(
                f"g2 = torch.autograd.grad(gg, [{lv}], allow_unused=True)",
                "grad.second",
                "g2",
                keep_error=1.0,
            )

    def opinfo(self):
        """A call from the op table, ``tests/opinfo.py`` (see ``opinfo_gen``)."""
        from .opinfo_gen import opinfo_statement  # (it imports this module)

        opinfo_statement(self)

    def generate(self):
        for _ in range(int(self.rng.integers(1, 3))):
            self.create()
        kinds = [
            self.create,
            self.view,
            self.view,
            self.unary,
            self.binary,
            self.binary,
            self.reduce,
            self.join,
            self.where,
            self.convert,
            self.inplace,
            self.inplace,
            self.opinfo,
            self.opinfo,
        ]
        n = int(self.rng.integers(3, self.max_stmts))
        for _ in range(n):
            self.choice(kinds)()
        self.grads()
        return self.stmts


def generate(seed, torch):
    """The program of ``seed`` (deterministic for one PyTorch version)."""
    with torch.random.fork_rng() if hasattr(torch, "random") else _null():
        return Gen(seed, torch).generate()


class _null:
    def __enter__(self):
        return None

    def __exit__(self, *a):
        return False
