"""``torch.version``: the version and build of the library (``__version__`` is rustgrad's;
``cuda`` is None, as in PyTorch's CPU builds: rustgrad opens the CUDA libraries it finds at run
time instead of building against one)."""

from rustgrad._core import __version__

__all__ = ["__version__", "cuda", "debug", "git_version", "hip"]

cuda = None
hip = None
debug = False
git_version = "Unknown"
