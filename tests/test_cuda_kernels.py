"""Every CUDA kernel source compiles with NVRTC, for Hopper (sm_90) and Ampere (sm_80).

Compiling needs only libnvrtc (the ``nvidia-cuda-nvrtc`` pip package), not a GPU, so this runs
in CI. Where libnvrtc cannot be loaded the tests skip, unless ``RUSTGRAD_REQUIRE_NVRTC=1``
(set by ``scripts/test.sh``), which turns the skip into a failure.
"""

import glob
import importlib.metadata
import os

import pytest
import rustgrad
from rustgrad import _core

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNEL_DIR = os.path.join(ROOT, "src", "backend", "cuda", "kernels")
ARCHS = ["sm_90", "sm_80"]
REQUIRE_NVRTC = os.environ.get("RUSTGRAD_REQUIRE_NVRTC") == "1"


def _skip_or_fail(reason):
    if REQUIRE_NVRTC:
        pytest.fail(f"RUSTGRAD_REQUIRE_NVRTC=1 but {reason}")
    pytest.skip(reason)


def _compile(arch):
    """``{source name: cubin bytes}``, or skip (fail when required) without libnvrtc."""
    try:
        compiled = _core._cuda_compile_kernels(arch)
    except RuntimeError as err:
        if "libnvrtc" in str(err):  # the library is missing (a compile error shows its log)
            _skip_or_fail(f"libnvrtc cannot be loaded: {err}")
        raise
    return dict(compiled)


def test_kernel_sources_are_the_files_in_the_repo():
    sources = _core._cuda_kernel_sources()
    assert sources, "no kernel sources compiled into the extension"
    assert len(set(sources)) == len(sources)
    assert all(name.endswith(".cu") for name in sources)
    if not os.path.isdir(KERNEL_DIR):
        pytest.skip("the repository's kernel folder is not beside the tests")
    on_disk = sorted(os.path.basename(p) for p in glob.glob(os.path.join(KERNEL_DIR, "*.cu")))
    assert sorted(sources) == on_disk


@pytest.mark.parametrize("arch", ARCHS)
def test_every_kernel_compiles_to_cubin(arch):
    compiled = _compile(arch)
    assert sorted(compiled) == sorted(_core._cuda_kernel_sources())
    for name, size in compiled.items():
        assert isinstance(size, int) and size > 0, f"{name}: empty CUBIN for {arch}"


def test_unknown_architecture_is_an_error():
    with pytest.raises(RuntimeError) as info:
        _core._cuda_compile_kernels("sm_1")
    if "libnvrtc" in str(info.value):
        _skip_or_fail(f"libnvrtc cannot be loaded: {info.value}")


def test_nvrtc_pip_package_is_on_the_search_path():
    """When ``nvidia-cuda-nvrtc`` is installed, its lib folder is among the folders
    ``rustgrad.cuda`` hands to the extension."""
    # CUDA 13's wheel has no suffix; CUDA 12's is nvidia-cuda-nvrtc-cu12.
    for name in ("nvidia-cuda-nvrtc", "nvidia-cuda-nvrtc-cu13", "nvidia-cuda-nvrtc-cu12"):
        try:
            files = importlib.metadata.files(name) or []
            break
        except importlib.metadata.PackageNotFoundError:
            continue
    else:
        _skip_or_fail("the nvidia-cuda-nvrtc pip package is not installed")
    libs = [f for f in files if os.path.basename(str(f)).startswith("libnvrtc.so")]
    assert libs, f"{name} holds no libnvrtc.so*"
    folders = {os.path.dirname(os.path.abspath(str(f.locate()))) for f in libs}
    assert folders & set(rustgrad.cuda._library_dirs())
