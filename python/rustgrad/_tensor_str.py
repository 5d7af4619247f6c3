"""Text form of a tensor, laid out the way PyTorch lays it out.

``_core.Tensor.__repr__`` and ``__str__`` call :func:`_str`. The rules follow PyTorch's print
options (by default precision 4, threshold 1000, edgeitems 3, linewidth 80, automatic scientific
notation; :func:`set_printoptions` changes them), so that ``repr(rustgrad.tensor(...))`` reads exactly as ``repr(torch.tensor(...))``
with ``rustgrad.`` in place of ``torch.`` in dtype names.

The module works on the nested Python lists of ``t.tolist()`` and touches only ``tolist``,
``dtype``, ``shape``, ``grad_fn``, ``requires_grad`` and ``device`` of the tensor, so it can be
checked against PyTorch by formatting ``torch`` tensors with it.
"""

import math

from rustgrad._core import get_default_dtype

PRECISION = 4
THRESHOLD = 1000
EDGEITEMS = 3
LINEWIDTH = 80
SCI_MODE = None  # None: chosen per tensor; True/False: forced (set_printoptions(sci_mode=))

# set_printoptions(profile=...): (precision, threshold, edgeitems, linewidth), as PyTorch's
_PROFILES = {
    "default": (4, 1000, 3, 80),
    "short": (2, 1000, 2, 80),
    "full": (4, math.inf, 3, 80),
}


def set_printoptions(
    precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None
) -> None:
    """Set how tensors print, as ``torch.set_printoptions``: digits after the point
    (``precision``), the element count above which a tensor is summarized (``threshold``), the
    items kept at each end of a summarized dimension (``edgeitems``), the line width
    (``linewidth``), a ``profile`` (``"default"``, ``"short"`` or ``"full"``) that the other
    arguments override, and ``sci_mode`` (True/False forces scientific notation on or off; None,
    which every call without it restores, chooses per tensor)."""
    global PRECISION, THRESHOLD, EDGEITEMS, LINEWIDTH, SCI_MODE
    if profile is not None and profile in _PROFILES:
        PRECISION, THRESHOLD, EDGEITEMS, LINEWIDTH = _PROFILES[profile]
    if precision is not None:
        PRECISION = precision
    if threshold is not None:
        THRESHOLD = threshold
    if edgeitems is not None:
        EDGEITEMS = edgeitems
    if linewidth is not None:
        LINEWIDTH = linewidth
    SCI_MODE = sci_mode  # as PyTorch: a call without sci_mode goes back to automatic


def get_printoptions() -> dict:
    """The current print options, as ``torch._tensor_str.get_printoptions``."""
    return {
        "precision": PRECISION,
        "threshold": THRESHOLD,
        "edgeitems": EDGEITEMS,
        "linewidth": LINEWIDTH,
        "sci_mode": SCI_MODE,
    }


_FLOAT_NAMES = ("float16", "bfloat16", "float32", "float64")
# dtypes whose name is left out of the repr of a non-empty tensor, beside the default dtype
_IMPLIED_NAMES = ("int64", "bool")


def _dtype_name(dtype) -> str:
    """'float32' for 'rustgrad.float32' (or 'torch.float32')."""
    return str(dtype).rsplit(".", 1)[-1]


def _flatten(data, dim, out):
    if dim == 0:
        out.append(data)
    else:
        for item in data:
            _flatten(item, dim - 1, out)
    return out


def _summarized(data, dim):
    """The elements that remain visible when the tensor is summarized, as nested lists."""
    if dim == 0:
        return data
    if len(data) > 2 * EDGEITEMS:
        data = data[:EDGEITEMS] + data[-EDGEITEMS:]
    if dim == 1:
        return data
    return [_summarized(row, dim - 1) for row in data]


class _Formatter:
    """Chooses one element format (integer-like, fixed or scientific) and one width."""

    def __init__(self, values, floating):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        if not floating:
            for value in values:
                self.max_width = max(self.max_width, len(f"{value}"))
            return
        finite = [float(v) for v in values if v != 0 and math.isfinite(v)]
        if not finite:
            return
        magnitudes = [abs(v) for v in finite]
        lo, hi = min(magnitudes), max(magnitudes)
        self.int_mode = all(v == math.ceil(v) for v in finite)
        if SCI_MODE is None:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        else:
            self.sci_mode = SCI_MODE
        if self.sci_mode:
            widths = (len(f"{v:.{PRECISION}e}") for v in finite)
        elif self.int_mode:
            # integer-valued floats print as "3." : one more character than "3"
            widths = (len(f"{v:.0f}") + 1 for v in finite)
        else:
            widths = (len(f"{v:.{PRECISION}f}") for v in finite)
        self.max_width = max(self.max_width, *widths)

    def format(self, value) -> str:
        if not self.floating:
            text = f"{value}"
        elif self.sci_mode:
            text = f"{value:{self.max_width}.{PRECISION}e}"
        elif self.int_mode:
            text = f"{value:.0f}"
            if math.isfinite(value):
                text += "."
        else:
            text = f"{value:.{PRECISION}f}"
        return text.rjust(self.max_width)


def _vector_str(data, indent, summarize, formatter):
    per_line = max(1, (LINEWIDTH - indent) // (formatter.max_width + 2))
    if summarize and len(data) > 2 * EDGEITEMS:
        items = (
            [formatter.format(v) for v in data[:EDGEITEMS]]
            + [" ..."]
            + [formatter.format(v) for v in data[-EDGEITEMS:]]
        )
    else:
        items = [formatter.format(v) for v in data]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(data, dim, indent, summarize, formatter):
    if dim == 0:
        return formatter.format(data)
    if dim == 1:
        return _vector_str(data, indent, summarize, formatter)
    if summarize and len(data) > 2 * EDGEITEMS:
        parts = (
            [
                _nested_str(row, dim - 1, indent + 1, summarize, formatter)
                for row in data[:EDGEITEMS]
            ]
            + ["..."]
            + [
                _nested_str(row, dim - 1, indent + 1, summarize, formatter)
                for row in data[-EDGEITEMS:]
            ]
        )
    else:
        parts = [_nested_str(row, dim - 1, indent + 1, summarize, formatter) for row in data]
    return "[" + ("," + "\n" * (dim - 1) + " " * (indent + 1)).join(parts) + "]"


def _add_suffixes(text, suffixes, indent):
    pieces = [text]
    # PyTorch's measure of the last line (it counts two characters more than the line has)
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > LINEWIDTH:
            pieces.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            pieces.append(", " + suffix)
            last_line_len += len(suffix) + 2
    pieces.append(")")
    return "".join(pieces)


def _grad_fn_name(grad_fn) -> str:
    name = grad_fn.name() if hasattr(grad_fn, "name") else type(grad_fn).__name__
    return name.rsplit("::", 1)[-1]


def _contents(data, shape, floating):
    """The bracketed element text of a non-empty tensor."""
    dim = len(shape)
    numel = math.prod(shape)
    summarize = numel > THRESHOLD
    visible = _summarized(data, dim) if summarize else data
    formatter = _Formatter(_flatten(visible, dim, []), floating)
    return _nested_str(data, dim, len("tensor("), summarize, formatter)


def _str(t) -> str:
    """``tensor([...], dtype=..., grad_fn=<...>)`` for ``t``, as PyTorch prints it."""
    prefix = "tensor("
    indent = len(prefix)
    shape = tuple(int(s) for s in t.shape)
    dtype_text = str(t.dtype)
    name = _dtype_name(t.dtype)
    suffixes = []

    device = t.device
    if getattr(device, "type", str(device)) != "cpu":
        suffixes.append(f"device='{device}'")

    if getattr(device, "type", None) == "meta":
        # No values to print, as PyTorch: the size (and dtype unless the default) instead.
        suffixes.append(f"size={shape}")
        if t.dtype != get_default_dtype():
            suffixes.append(f"dtype={dtype_text}")
        text = "..."
    elif math.prod(shape) == 0:
        if len(shape) != 1:
            suffixes.append(f"size={shape}")
        if name != _dtype_name(get_default_dtype()):
            suffixes.append(f"dtype={dtype_text}")
        text = "[]"
    else:
        if not EDGEITEMS:  # (no items shown at the ends: PyTorch gives the size instead)
            suffixes.append(f"size={shape}")
        if name not in _IMPLIED_NAMES and name != _dtype_name(get_default_dtype()):
            suffixes.append(f"dtype={dtype_text}")
        if not EDGEITEMS and math.prod(shape) > THRESHOLD:
            text = "[...]"
        else:
            text = _contents(t.tolist(), shape, name in _FLOAT_NAMES)

    grad_fn = t.grad_fn
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{_grad_fn_name(grad_fn)}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")

    return _add_suffixes(prefix + text, suffixes, indent)
