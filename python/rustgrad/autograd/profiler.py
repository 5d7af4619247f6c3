"""``rustgrad.autograd.profiler``: ``profile`` and ``record_function``, as
``torch.autograd.profiler``.

While a ``profile`` block is active every call into the core (an op, a view, a copy, a
backward pass) is recorded with its start and duration under PyTorch's name for it: the
binding called as an ATen operator (``aten::mul``, ``aten::sum``, ``aten::matmul``, ...), a
backward pass as ``backward``, and each ``record_function`` block under its own name. Self time is a
call's time less that of the calls inside it (same thread). ``key_averages().table()`` prints
PyTorch's table (CPU columns); ``export_chrome_trace`` writes the Chrome trace JSON.

When no profiler is active, recording costs one relaxed atomic load per call into the core.
"""

import functools
import json
import threading
from collections import OrderedDict

from rustgrad import _core

__all__ = ["EventList", "FunctionEvent", "FunctionEventAvg", "profile", "record_function"]

_active = threading.local()
_lock = threading.Lock()
_profilers = []  # the active profilers, outermost first


def _format_time(time_us):
    if time_us >= 1e6:
        return f"{time_us / 1e6:.3f}s"
    if time_us >= 1e3:
        return f"{time_us / 1e3:.3f}ms"
    return f"{time_us:.3f}us"


def _format_time_share(time_us, total_time_us):
    if total_time_us == 0:
        return "NaN"
    return f"{time_us * 100.0 / total_time_us:.2f}%"


def _op_name(binding):
    """PyTorch's event name for a call into the core: ``__mul__``/``__rmul__`` as
    ``aten::mul``, ``__imul__`` as ``aten::mul_``, a backward pass as ``backward``."""
    if binding in _NOT_OPERATORS:
        return binding
    if binding.startswith("__") and binding.endswith("__"):
        core = binding[2:-2]
        if core.startswith("i") and core[1:] in _INPLACE:
            binding = core[1:] + "_"
        elif core.startswith("r") and core[1:] in _REFLECTED:
            binding = core[1:]
        else:
            binding = core
    return "aten::" + binding


def _time_str(attr):
    """A property formatting the time ``attr`` as PyTorch does (``12.345us``)."""
    return property(lambda self: _format_time(getattr(self, attr)), doc=f"``{attr}``, formatted.")


_NOT_OPERATORS = {"backward"}
_REFLECTED = {"add", "sub", "mul", "truediv", "pow", "matmul", "and", "or", "xor"}
_INPLACE = {"add", "sub", "mul", "truediv"}


class FunctionEvent:
    """One recorded call: ``name``, start and end (microseconds on the profiler's clock),
    ``cpu_time_total`` and ``self_cpu_time_total`` (microseconds)."""

    def __init__(self, id, name, thread, start_us, end_us, is_user_annotation=False):
        self.id = id
        self.name = name
        self.key = name
        self.thread = thread
        self.time_range_start = start_us
        self.time_range_end = end_us
        self.cpu_children = []
        self.cpu_parent = None
        self.count = 1
        self.is_async = False
        self.is_user_annotation = is_user_annotation
        self.node_id = -1

    @property
    def cpu_time_total(self):
        """Microseconds from start to end."""
        return self.time_range_end - self.time_range_start

    @property
    def self_cpu_time_total(self):
        """Microseconds not spent in the calls inside this one."""
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    @property
    def cpu_time(self):
        """The same as ``cpu_time_total`` (one call)."""
        return self.cpu_time_total

    cpu_time_str = _time_str("cpu_time")
    cpu_time_total_str = _time_str("cpu_time_total")
    self_cpu_time_total_str = _time_str("self_cpu_time_total")

    def __repr__(self):
        return (
            f"<FunctionEvent id={self.id} name={self.name} "
            f"cpu_time={self.cpu_time_str} self_cpu_time={self.self_cpu_time_total_str}>"
        )


class FunctionEventAvg:
    """The events of one name together: ``count``, ``cpu_time_total``,
    ``self_cpu_time_total`` and the average ``cpu_time`` (microseconds)."""

    def __init__(self, key):
        self.key = key
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.is_async = False
        self.is_user_annotation = False
        self.node_id = -1
        self.cpu_parent = None

    def add(self, other):
        """Count ``other`` (an event or an average) in."""
        self.count += other.count
        self.cpu_time_total += other.cpu_time_total
        self.self_cpu_time_total += other.self_cpu_time_total
        self.is_user_annotation = other.is_user_annotation
        return self

    __iadd__ = add

    @property
    def cpu_time(self):
        """Average microseconds per call."""
        return 0.0 if self.count == 0 else self.cpu_time_total / self.count

    cpu_time_str = _time_str("cpu_time")
    cpu_time_total_str = _time_str("cpu_time_total")
    self_cpu_time_total_str = _time_str("self_cpu_time_total")

    def __repr__(self):
        return (
            f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total_str} "
            f"cpu_time={self.cpu_time_str} >"
        )


class EventList(list):
    """A list of events, with PyTorch's summaries."""

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0):
        """One :class:`FunctionEventAvg` per event name, in first-seen order."""
        stats = OrderedDict()
        for evt in self:
            stats.setdefault(evt.key, FunctionEventAvg(evt.key)).add(evt)
        return EventList(stats.values())

    @property
    def self_cpu_time_total(self):
        """Self time of all events, in microseconds."""
        return sum(e.self_cpu_time_total for e in self)

    def total_average(self):
        """All events together, as one ``FunctionEventAvg`` named ``Total``."""
        total = FunctionEventAvg("Total")
        for evt in self:
            total.count += evt.count
            total.cpu_time_total += evt.cpu_time_total
            total.self_cpu_time_total += evt.self_cpu_time_total
        return total

    def table(
        self,
        sort_by=None,
        row_limit=100,
        max_src_column_width=75,
        max_name_column_width=55,
        max_shapes_column_width=80,
        header=None,
        top_level_events_only=False,
        time_unit=None,
    ):
        """PyTorch's text table: name, self/total CPU time and share, average, calls."""
        return _build_table(
            self,
            sort_by,
            header,
            row_limit,
            max_name_column_width,
            top_level_events_only,
            time_unit,
        )

    def __str__(self):
        return self.table()

    def export_chrome_trace(self, path):
        """Write the events as a Chrome trace (``chrome://tracing``, Perfetto)."""
        trace = [
            {
                "name": e.name,
                "ph": "X",
                "ts": e.time_range_start,
                "dur": e.cpu_time_total,
                "tid": e.thread,
                "pid": "CPU functions",
                "cat": "user_annotation" if e.is_user_annotation else "cpu_op",
                "args": {},
            }
            for e in self
        ]
        with open(path, "w") as f:
            json.dump({"traceEvents": trace, "displayTimeUnit": "ms"}, f)


_SORT_KEYS = {
    "cpu_time": "cpu_time",
    "cpu_time_total": "cpu_time_total",
    "self_cpu_time_total": "self_cpu_time_total",
    "count": "count",
}


def _build_table(
    events, sort_by, header, row_limit, max_name_column_width, top_level_only, time_unit
):
    if len(events) == 0:
        return ""
    if sort_by is not None:
        if sort_by not in _SORT_KEYS:
            raise AttributeError(f"'FunctionEventAvg' object has no attribute '{sort_by}'")
        events = EventList(
            sorted(events, key=lambda e: getattr(e, _SORT_KEYS[sort_by]), reverse=True)
        )
    name_width = max(len(e.key) for e in events) + 4
    if max_name_column_width is not None:
        name_width = min(name_width, max_name_column_width)
    headers = [
        "Name",
        "Self CPU %",
        "Self CPU",
        "CPU total %",
        "CPU total",
        "CPU time avg",
        "# of Calls",
    ]
    widths = [name_width] + [12] * (len(headers) - 1)
    row_format = "".join("{: >" + str(w) + "}  " for w in widths)
    header_sep = "".join("-" * w + "  " for w in widths)
    line_length = sum(w + 2 for w in widths) - 2
    sum_self = sum(e.self_cpu_time_total for e in events)

    def unit(time_us, default):
        if time_unit == "s":
            return f"{time_us / 1e6:.3f}s"
        if time_unit == "ms":
            return f"{time_us / 1e3:.3f}ms"
        if time_unit == "us":
            return f"{time_us:.3f}us"
        return default

    out = []
    if header is not None:
        out += ["=" * line_length, header]
    if top_level_only:
        out += ["=" * line_length, "This report only display top-level ops statistics"]
    out += [header_sep, row_format.format(*headers), header_sep]
    shown = 0
    for e in events:
        if shown == row_limit:
            break
        if top_level_only and e.cpu_parent is not None:
            continue
        shown += 1
        name = e.key
        if max_name_column_width is not None and len(name) >= max_name_column_width - 3:
            name = name[: max_name_column_width - 3] + "..."
        out.append(
            row_format.format(
                name,
                _format_time_share(e.self_cpu_time_total, sum_self),
                unit(e.self_cpu_time_total, e.self_cpu_time_total_str),
                _format_time_share(e.cpu_time_total, sum_self),
                unit(e.cpu_time_total, e.cpu_time_total_str),
                unit(e.cpu_time, e.cpu_time_str),
                e.count,
            )
        )
    out += [header_sep, f"Self CPU time total: {_format_time(sum_self)}"]
    return "\n".join(out) + "\n"


def _nest(events):
    """Sets each event's parent and children from the time ranges (per thread)."""
    by_thread = {}
    for e in events:
        by_thread.setdefault(e.thread, []).append(e)
    for evs in by_thread.values():
        evs.sort(key=lambda e: (e.time_range_start, -e.time_range_end))
        stack = []
        for e in evs:
            while stack and stack[-1].time_range_end < e.time_range_end:
                stack.pop()
            if stack:
                e.cpu_parent = stack[-1]
                stack[-1].cpu_children.append(e)
            stack.append(e)


class profile:
    """Record every op run inside the block (``with profile() as prof:``); then
    ``prof.key_averages().table(sort_by="cpu_time_total", row_limit=10)``,
    ``prof.function_events``, ``prof.export_chrome_trace(path)``. ``use_cuda``,
    ``record_shapes``, ``profile_memory`` and ``with_stack`` are accepted and add nothing."""

    def __init__(
        self,
        enabled=True,
        *,
        use_cuda=False,
        use_device=None,
        record_shapes=False,
        with_flops=False,
        profile_memory=False,
        with_stack=False,
        with_modules=False,
        use_kineto=False,
        use_cpu=True,
        experimental_config=None,
        acc_events=False,
        custom_trace_id_callback=None,
    ):
        self.enabled = enabled
        self.entered = False
        self.function_events = None
        self._user = []

    def __enter__(self):
        if not self.enabled:
            return self
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        self.entered = True
        with _lock:
            if not _profilers:
                _core._profiler_enable(True)
            _profilers.append(self)
        return self

    def __exit__(self, *exc):
        if not self.enabled:
            return False
        with _lock:
            _profilers.remove(self)
            raw = _core._profiler_events()
            if not _profilers:
                _core._profiler_enable(False)
            else:  # an outer profiler keeps recording; hand it what was taken here too
                _profilers[-1]._pending = getattr(_profilers[-1], "_pending", []) + raw
        raw = getattr(self, "_pending", []) + raw
        events = [
            FunctionEvent(i, _op_name(name), thread, start / 1e3, (start + dur) / 1e3)
            for i, (name, start, dur, thread) in enumerate(raw)
        ]
        events += [
            FunctionEvent(len(events) + i, name, thread, start / 1e3, end / 1e3, True)
            for i, (name, thread, start, end) in enumerate(self._user)
        ]
        events.sort(key=lambda e: (e.time_range_start, -e.time_range_end))
        _nest(events)
        self.function_events = EventList(events)
        return False

    def _check_finished(self):
        if self.function_events is None:
            raise RuntimeError("Profiler didn't finish running")

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0):
        """The recorded events averaged by name (an ``EventList``)."""
        self._check_finished()
        return self.function_events.key_averages()

    def table(self, sort_by=None, row_limit=100, **kwargs):
        """The table of every recorded event (not averaged), as ``EventList.table``."""
        self._check_finished()
        return self.function_events.table(sort_by=sort_by, row_limit=row_limit, **kwargs)

    def export_chrome_trace(self, path):
        """Write the recorded events as a Chrome trace."""
        self._check_finished()
        self.function_events.export_chrome_trace(path)

    @property
    def self_cpu_time_total(self):
        """Self time of all recorded events, in microseconds."""
        self._check_finished()
        return self.function_events.self_cpu_time_total

    def total_average(self):
        """All recorded events as one average."""
        self._check_finished()
        return self.function_events.total_average()

    def __str__(self):
        return self.table()


class record_function:
    """Label a block (or, as a decorator, each call of a function) in the profiler's record;
    free when no profiler is active."""

    def __init__(self, name, args=None):
        self.name = name
        self.args = args
        self._start = None

    def __enter__(self):
        if _profilers:
            self._start = _core._profiler_now()
        return self

    def __exit__(self, *exc):
        if self._start is not None and _profilers:
            end = _core._profiler_now()
            _profilers[-1]._user.append((self.name, _core._profiler_thread(), self._start, end))
        self._start = None
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with record_function(self.name):
                return func(*args, **kwargs)

        return wrapper
