"""``torch.backends``, as far as scripts touch it on a machine without those backends:
``cudnn`` and ``mps`` report themselves unavailable, and their flags can be set (and are
ignored: rustgrad's CUDA kernels are its own, and results are deterministic for a seed)."""

from types import SimpleNamespace

__all__ = ["cuda", "cudnn", "mps"]


def _unavailable() -> bool:
    return False


# cuDNN is not used by rustgrad: unavailable; `benchmark`/`deterministic` may be set.
cudnn = SimpleNamespace(
    is_available=_unavailable,
    enabled=True,
    benchmark=False,
    deterministic=False,
    allow_tf32=True,
)

# Apple's Metal backend does not exist here.
mps = SimpleNamespace(is_available=_unavailable, is_built=_unavailable)

# The CUDA backend's TF32 switches (rustgrad computes float32 matmuls in float32).
cuda = SimpleNamespace(
    matmul=SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True)
)
