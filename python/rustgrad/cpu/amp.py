"""``torch.cpu.amp``: the deprecated CPU spellings of ``torch.amp`` (a FutureWarning each)."""

from rustgrad import _core
from rustgrad.amp._deprecated import spellings

__all__ = ["GradScaler", "autocast"]


autocast, GradScaler = spellings("cpu", _core.bfloat16, __name__)
