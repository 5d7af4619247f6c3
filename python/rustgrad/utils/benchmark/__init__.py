"""``rustgrad.utils.benchmark``, as ``torch.utils.benchmark``: a minimal ``Timer``.

``Timer(stmt, setup, globals=...).timeit(number)`` returns a ``Measurement`` that prints as
PyTorch's does. The rest of PyTorch's module (``blocked_autorange``, ``Compare``, callgrind,
the fuzzers) is not here.
"""

from rustgrad.utils.benchmark.utils.common import Measurement, TaskSpec, select_unit
from rustgrad.utils.benchmark.utils.timer import Timer

__all__ = ["Measurement", "TaskSpec", "Timer", "select_unit"]
