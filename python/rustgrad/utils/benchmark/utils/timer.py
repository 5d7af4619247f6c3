"""``Timer``: times a Python statement with :mod:`timeit`, as PyTorch's does."""

from __future__ import annotations

import timeit

from rustgrad.utils.benchmark.utils.common import Measurement, TaskSpec


class Timer:
    """Times ``stmt`` (run after ``setup``, in a copy of ``globals``).

    >>> Timer("x * 2", setup="x = 3").timeit(100)  # doctest: +SKIP
    """

    def __init__(
        self,
        stmt: str = "pass",
        setup: str = "pass",
        timer=timeit.default_timer,
        globals: dict | None = None,
        label: str | None = None,
        sub_label: str | None = None,
        description: str | None = None,
        env: str | None = None,
        num_threads: int = 1,
    ) -> None:
        self._globals = dict(globals or {})
        self._task_spec = TaskSpec(
            stmt=stmt,
            setup=setup,
            label=label,
            sub_label=sub_label,
            description=description,
            env=env,
            num_threads=num_threads,
        )
        self._timer = timeit.Timer(stmt=stmt, setup=setup, timer=timer, globals=self._globals)

    def timeit(self, number: int = 1000000) -> Measurement:
        """Run the statement ``number`` times (after a short warm-up) and measure the total."""
        self._timer.timeit(number=max(number // 100, 2))  # warm-up, as PyTorch's Timer does
        return Measurement(
            number_per_run=number,
            raw_times=[self._timer.timeit(number=number)],
            task_spec=self._task_spec,
        )
