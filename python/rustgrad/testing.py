"""``torch.testing``: ``assert_close`` (and the deprecated ``assert_allclose``), with PyTorch's
default tolerances and messages."""

import collections.abc
import math
import numbers

import numpy as np

from rustgrad import _core

__all__ = ["assert_allclose", "assert_close"]

Tensor = _core.Tensor

# (rtol, atol) by dtype, as PyTorch's defaults; exact for integers and bools
_TOLERANCES = {
    "float16": (1e-3, 1e-5),
    "bfloat16": (1.6e-2, 1e-5),
    "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7),
}


class _Mismatch(Exception):
    """A failed comparison: its message, and the error type PyTorch raises for it."""

    def __init__(self, message, kind=AssertionError):
        super().__init__(message)
        self.kind = kind


def _name(dtype) -> str:
    return str(dtype).rsplit(".", 1)[-1]


def _default_tolerances(*dtypes):
    pairs = [_TOLERANCES.get(_name(d), (0.0, 0.0)) for d in dtypes]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def assert_close(
    actual,
    expected,
    *,
    allow_subclasses=True,
    rtol=None,
    atol=None,
    equal_nan=False,
    check_device=True,
    check_dtype=True,
    check_layout=True,
    check_stride=False,
    msg=None,
):
    """Raises AssertionError unless ``actual`` and ``expected`` are close: tensors (same
    shape, and by default dtype and device) elementwise within ``atol + rtol * |expected|``,
    numbers likewise, sequences and mappings item by item. Without ``rtol``/``atol`` the
    tolerances are the dtypes' defaults (exact for integers)."""
    if (rtol is None) != (atol is None):
        missing = "rtol" if rtol is None else "atol"
        raise ValueError(
            f"Both 'rtol' and 'atol' must be either specified or omitted, but got no {missing}."
        )
    options = {
        "rtol": rtol,
        "atol": atol,
        "equal_nan": equal_nan,
        "check_device": check_device,
        "check_dtype": check_dtype,
        "check_stride": check_stride,
    }
    try:
        _compare(actual, expected, [], options)
    except _Mismatch as failure:
        message = str(failure)
        if msg is not None:
            message = msg(message) if callable(msg) else msg
        raise failure.kind(message) from None


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    """The deprecated form: ``assert_close`` without the dtype and device checks, NaN equal
    to NaN by default."""
    import warnings

    warnings.warn(
        "`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed in a "
        "future release. Please use `torch.testing.assert_close()` instead.",
        FutureWarning,
        stacklevel=2,
    )
    if not isinstance(actual, Tensor):
        actual = _core.tensor(actual)
    if not isinstance(expected, Tensor):
        expected = _core.tensor(expected, dtype=actual.dtype)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=True, check_dtype=False, msg=msg or None)  # fmt: skip


def _is_number(x) -> bool:
    return isinstance(x, (numbers.Number, np.number, np.bool_)) and not isinstance(x, Tensor)


def _compare(actual, expected, path, options):
    try:
        if isinstance(actual, np.ndarray) and isinstance(expected, np.ndarray):
            actual, expected = _core.tensor(actual), _core.tensor(expected)
        if isinstance(actual, Tensor) and isinstance(expected, Tensor):
            return _compare_tensors(actual, expected, options)
        if _is_number(actual) and _is_number(expected):
            return _compare_numbers(actual, expected, options)
        if actual is None and expected is None:
            return None
    except _Mismatch as failure:
        if path:
            where = "".join(f"[{p!r}]" for p in path)
            raise _Mismatch(f"{failure}\n\nThe failure occurred for item {where}", failure.kind) from None  # fmt: skip
        raise
    if isinstance(actual, collections.abc.Mapping) and isinstance(expected, collections.abc.Mapping):  # fmt: skip
        if set(actual) != set(expected):
            missing = sorted(map(repr, set(expected) - set(actual)))
            extra = sorted(map(repr, set(actual) - set(expected)))
            lines = ["The keys of the mappings do not match:"]
            if missing:
                lines.append(f"Missing keys in the actual mapping: {', '.join(missing)}")
            if extra:
                lines.append(f"Additional keys in the actual mapping: {', '.join(extra)}")
            raise _Mismatch("\n".join(lines) + "\n")
        for key in expected:
            _compare(actual[key], expected[key], [*path, key], options)
        return None
    sequences = (collections.abc.Sequence,)
    if (
        isinstance(actual, sequences)
        and isinstance(expected, sequences)
        and not isinstance(actual, str)
        and not isinstance(expected, str)
    ):
        if len(actual) != len(expected):
            raise _Mismatch(f"The length of the sequences mismatch: {len(actual)} != {len(expected)}")  # fmt: skip
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, [*path, i], options)
        return None
    raise _Mismatch(
        f"No comparison pair was able to handle inputs of type {type(actual)} and "
        f"{type(expected)}.",
        TypeError,
    )


def _attribute(name, actual, expected):
    raise _Mismatch(f"The values for attribute '{name}' do not match: {actual} != {expected}.")


def _compare_tensors(actual, expected, options):
    if tuple(actual.shape) != tuple(expected.shape):
        _attribute("shape", actual.shape, expected.shape)
    if options["check_device"] and actual.device != expected.device:
        _attribute("device", actual.device, expected.device)
    if options["check_dtype"] and actual.dtype != expected.dtype:
        _attribute("dtype", actual.dtype, expected.dtype)
    if options["check_stride"] and actual.stride() != expected.stride():
        _attribute("stride()", actual.stride(), expected.stride())
    rtol, atol = options["rtol"], options["atol"]
    if rtol is None:
        rtol, atol = _default_tolerances(actual.dtype, expected.dtype)
    a, e = _values(actual), _values(expected)
    if a.size == 0:
        return
    exact = not (actual.is_floating_point() or expected.is_floating_point())
    close = _close(a, e, rtol, atol, options["equal_nan"])
    if close.all():
        return
    if actual.ndim == 0:
        _scalars_mismatch(a.item(), e.item(), rtol, atol, exact)
    # (in the operands' dtype, as PyTorch's: float32 differences of float32 tensors)
    wide = np.int64 if exact else np.result_type(a.dtype, e.dtype, np.float32)
    abs_diff = np.abs(a.astype(wide) - e.astype(wide))
    with np.errstate(divide="ignore", invalid="ignore"):
        rel_diff = abs_diff / np.abs(e.astype(wide)) if not exact else abs_diff / np.abs(e.astype(np.float64))  # fmt: skip
    count, total = int((~close).sum()), a.size
    lines = [
        f"Tensor-likes are not {'equal' if exact else 'close'}!",
        "",
        f"Mismatched elements: {count} / {total} ({count / total:.1%})",
        _greatest("absolute", abs_diff, atol, exact, a.shape),
        _greatest("relative", rel_diff, rtol, exact, a.shape),
    ]
    raise _Mismatch("\n".join(lines))


def _greatest(kind, diff, allowed, exact, shape):
    """PyTorch's line for the largest difference (a NaN is the largest, the first one)."""
    flat = diff.reshape(-1)
    nans = np.flatnonzero(np.isnan(flat.astype(np.float64)))
    i = int(nans[0]) if nans.size else int(np.argmax(flat))
    value = int(flat[i]) if exact and kind == "absolute" else float(flat[i])
    index = tuple(int(k) for k in np.unravel_index(i, shape))
    tail = "" if exact else f" (up to {allowed} allowed)"
    return f"Greatest {kind} difference: {value} at index {index}{tail}"


def _values(t):
    t = t.detach().cpu()
    if t.dtype in (_core.bfloat16, _core.float16):
        t = t.to(_core.float32)  # (exact: their differences are computed in float32)
    return t.numpy()


def _close(a, e, rtol, atol, equal_nan):
    if a.dtype == np.bool_ or e.dtype == np.bool_:
        return a == e
    if a.dtype.kind in "iu" and e.dtype.kind in "iu" and rtol == atol == 0:
        return a.astype(np.int64) == e.astype(np.int64)
    return np.isclose(a.astype(np.float64), e.astype(np.float64), rtol=rtol, atol=atol, equal_nan=equal_nan)  # fmt: skip


def _compare_numbers(actual, expected, options):
    rtol, atol = options["rtol"], options["atol"]
    exact = not any(isinstance(x, (float, np.floating, complex)) for x in (actual, expected))
    if rtol is None:
        rtol, atol = (0.0, 0.0) if exact else _TOLERANCES["float64"]
    if exact and actual == expected:
        return
    if not exact:
        a, e = float(actual), float(expected)
        if math.isnan(a) and math.isnan(e) and options["equal_nan"]:
            return
        if abs(a - e) <= atol + rtol * abs(e) or a == e:
            return
    _scalars_mismatch(actual, expected, rtol, atol, exact)


def _scalars_mismatch(actual, expected, rtol, atol, exact):
    if isinstance(actual, (bool, np.bool_)) or isinstance(expected, (bool, np.bool_)):
        actual, expected = bool(actual), bool(expected)
    abs_diff = abs(actual - expected)
    rel_diff = abs_diff / abs(expected) if expected != 0 else math.inf if abs_diff else math.nan  # fmt: skip
    lines = [
        f"Scalars are not {'equal' if exact else 'close'}!",
        "",
        f"Expected {expected} but got {actual}.",
        f"Absolute difference: {abs_diff}" + ("" if exact else f" (up to {atol} allowed)"),
        f"Relative difference: {rel_diff}" + ("" if exact else f" (up to {rtol} allowed)"),
    ]
    raise _Mismatch("\n".join(lines))
