"""``Measurement`` (the result of ``Timer.timeit``) and what it prints with."""

from __future__ import annotations

import dataclasses
import math
import statistics
import textwrap


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    """What was timed: the statement, its setup and the labels that title the measurement."""

    stmt: str
    setup: str
    global_setup: str = ""
    label: str | None = None
    sub_label: str | None = None
    description: str | None = None
    env: str | None = None
    num_threads: int = 1

    @property
    def title(self) -> str:
        """The label if there is one, else the statement (indented when it spans lines)."""
        suffix = f": {self.sub_label}" if self.sub_label else ""
        if self.label is not None:
            return self.label + suffix
        if "\n" not in self.stmt:
            return self.stmt + suffix
        sub = f" ({self.sub_label})" if self.sub_label else ""
        return f"stmt:{sub}\n{textwrap.indent(self.stmt, '  ')}"

    def setup_str(self) -> str:
        """The setup's line(s) of the repr; empty for ``"pass"``."""
        if self.setup == "pass" or not self.setup:
            return ""
        if "\n" in self.setup:
            return f"setup:\n{textwrap.indent(self.setup, '  ')}"
        return f"setup: {self.setup}"

    def summarize(self) -> str:
        """The task's lines of a measurement's repr: title, description, setup."""
        sections = [self.title, self.description or "", self.setup_str()]
        return "\n".join(f"{s}\n" if "\n" in s else s for s in sections if s)


def select_unit(t: float) -> tuple[str, float]:
    """The unit ("ns", "us", "ms" or "s") that puts ``t`` seconds at 1 to 1000, and its scale."""
    unit = {-3: "ns", -2: "us", -1: "ms"}.get(int(math.log10(t) // 3), "s")
    return unit, {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[unit]


@dataclasses.dataclass
class Measurement:
    """Times of ``number_per_run`` runs of a task (``raw_times``), in seconds."""

    number_per_run: int
    raw_times: list[float]
    task_spec: TaskSpec
    metadata: dict | None = None

    @property
    def times(self) -> list[float]:
        """Seconds per run, one per measurement."""
        return [t / self.number_per_run for t in self.raw_times]

    @property
    def mean(self) -> float:
        """Mean seconds per run."""
        return statistics.fmean(self.times)

    @property
    def median(self) -> float:
        """Median seconds per run."""
        return statistics.median(self.times)

    @property
    def title(self) -> str:
        """The task's title (its label, or the statement)."""
        return self.task_spec.title

    @property
    def stmt(self) -> str:
        """The statement timed."""
        return self.task_spec.stmt

    def __repr__(self) -> str:
        from rustgrad._dropin import prefix

        # PyTorch prints the object's own default repr first, with its module path.
        head = f"<{prefix()}.utils.benchmark.utils.common.Measurement object at {hex(id(self))}>"
        n = len(self.times)
        unit, scale = select_unit(self.median)
        threads = self.task_spec.num_threads
        lines = [head, self.task_spec.summarize()]
        lines.append(f"  {'Median: ' if n > 1 else ''}{self.median / scale:.2f} {unit}")
        if n >= 4:
            q1, _, q3 = statistics.quantiles(self.times, n=4, method="inclusive")
            lines.append(
                f"  IQR:    {(q3 - q1) / scale:.2f} {unit} ({q1 / scale:.2f} to {q3 / scale:.2f})"
            )
        lines.append(
            f"  {n} measurement{'s' if n > 1 else ''}, {self.number_per_run} runs "
            f"{'per measurement,' if n > 1 else ','} {threads} thread{'s' if threads > 1 else ''}"
        )
        return "\n".join(lines)
