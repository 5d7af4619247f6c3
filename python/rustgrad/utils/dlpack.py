"""``torch.utils.dlpack``: DLPack capsules to and from rustgrad tensors (CPU, zero-copy)."""

from rustgrad._interop import from_dlpack, to_dlpack

__all__ = ["from_dlpack", "to_dlpack"]
