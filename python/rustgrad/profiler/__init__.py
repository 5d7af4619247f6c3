"""``rustgrad.profiler``: ``profile`` and ``record_function``, as ``torch.profiler`` (CPU
only; see ``rustgrad.autograd.profiler`` for what is recorded)."""

import enum

from rustgrad.autograd.profiler import profile as _autograd_profile
from rustgrad.autograd.profiler import record_function

__all__ = ["ProfilerActivity", "profile", "record_function", "schedule"]


class ProfilerActivity(enum.Enum):
    """What to record: rustgrad records CPU calls (CUDA is accepted, adds nothing)."""

    CPU = 0
    CUDA = 1


def schedule(*, wait, warmup, active, repeat=0, skip_first=0):
    """Accepted for PyTorch compatibility: ``profile`` records the whole block."""
    return


class profile(_autograd_profile):
    """``torch.profiler.profile``: record the block's ops; ``key_averages()``, ``table``,
    ``export_chrome_trace`` as :class:`rustgrad.autograd.profiler.profile`. ``step()`` is a
    no-op."""

    def __init__(
        self,
        *,
        activities=None,
        schedule=None,
        on_trace_ready=None,
        record_shapes=False,
        profile_memory=False,
        with_stack=False,
        with_flops=False,
        with_modules=False,
        experimental_config=None,
        execution_trace_observer=None,
        acc_events=False,
        use_cuda=None,
        custom_trace_id_callback=None,
    ):
        super().__init__(enabled=True)
        self._on_trace_ready = on_trace_ready

    def __exit__(self, *exc):
        super().__exit__(*exc)
        if self._on_trace_ready is not None:
            self._on_trace_ready(self)
        return False

    def step(self):
        """Marks a training step (recorded as one block here)."""

    def start(self):
        """Start recording (as entering the ``with`` block)."""
        self.__enter__()

    def stop(self):
        """Stop recording (as leaving the ``with`` block)."""
        self.__exit__(None, None, None)

    def events(self):
        """The recorded events (an ``EventList``)."""
        return self.function_events
