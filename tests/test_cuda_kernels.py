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
    # The images build.rs embedded come from the same program text: the same NVRTC makes the
    # same size (another version, as on a machine with another toolkit, may not).
    embedded = {s: len(img) for s, a, img in _core._cuda_embedded_cubins() if a == arch}
    built, loaded = _core._cuda_nvrtc_versions()
    assert bool(embedded) == (built != (0, 0))
    if embedded and built == loaded:
        assert embedded == compiled, f"embedded CUBINs for {arch} differ from NVRTC's"


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


# ----- CUBINs embedded when the wheel is built (build.rs) -----------------------------------

EMBEDDED_ARCHS = ["sm_80", "sm_86", "sm_89", "sm_90", "sm_100", "sm_120"]
EM_CUDA = 190


def _is_emulator_build():
    return rustgrad.cuda.is_available() and "emulator" in rustgrad.cuda.get_device_name()


def _embedded():
    images = _core._cuda_embedded_cubins()
    if not images:
        if _is_emulator_build():
            pytest.skip("the emulator build embeds no CUBINs")
        # A release build made with NVRTC at hand embeds them; a debug build does not.
        _skip_or_fail("this build embeds no CUBINs (built without NVRTC, or in debug)")
    return images


def cubin_arch(image):
    """The ``sm_XX`` an NVIDIA CUBIN (ELF, machine EM_CUDA) was built for, from its ELF
    header's ``e_flags``: the SM version in bits 0-7 (ELF ABI version 7, CUDA < 12.8) or in
    bits 8-15 (ABI version 8, CUDA 12.8 and later)."""
    assert image[:4] == b"\x7fELF", "not an ELF file"
    assert image[4] == 2 and image[5] == 1, "not a 64-bit little-endian ELF"
    machine = int.from_bytes(image[18:20], "little")
    assert machine == EM_CUDA, f"e_machine {machine}, not EM_CUDA"
    flags = int.from_bytes(image[48:52], "little")
    abi_version = image[8]
    sm = (flags >> 8) & 0xFF if abi_version >= 8 else flags & 0xFF
    return f"sm_{sm}"


def test_embedded_cubins_cover_every_source_and_architecture():
    images = _embedded()
    have = {(source, arch) for source, arch, _ in images}
    sources = _core._cuda_kernel_sources()
    assert have == {(s, a) for s in sources for a in EMBEDDED_ARCHS}
    for source, arch, image in images:
        assert cubin_arch(image) == arch, f"{source} for {arch}: the image says {cubin_arch(image)}"
    # Each image holds its source's kernels (their names are in the ELF's string table).
    by_key = {(s, a): img for s, a, img in images}
    for arch in EMBEDDED_ARCHS:
        assert b"sum_rows_f32" in by_key[("reduce.cu", arch)]
        assert b"unary_f64" in by_key[("elementwise.cu", arch)]
        assert b"optim_step_f32" in by_key[("optim.cu", arch)]


@pytest.mark.parametrize(
    "device_arch, expected",
    [
        ("sm_80", "sm_80"),
        ("sm_86", "sm_86"),
        ("sm_87", "sm_86"),  # Orin: the newest image of its major at or below it
        ("sm_89", "sm_89"),
        ("sm_90", "sm_90"),
        ("sm_100", "sm_100"),
        ("sm_103", "sm_100"),
        ("sm_120", "sm_120"),
        ("sm_121", "sm_120"),
        ("sm_75", None),  # Turing: NVRTC at run time
        ("sm_110", None),
    ],
)
def test_embedded_lookup_by_compute_capability(device_arch, expected):
    _embedded()
    for source in _core._cuda_kernel_sources():
        assert _core._cuda_embedded_arch_for(source, device_arch) == expected
