"""The GPU check's own machinery (issue 13): the ``RUSTGRAD_REQUIRE_CUDA`` switch, the
pre-flight and ``scripts/gpu_check.sh``'s failure path, which CUDA libraries are opened (a stub
``libcuda``, the unversioned NVRTC name), and the host side of the CUDA backend (the staging
ring, ``copy_``, fork after CUDA init) on whatever device is there: the emulator in CI.

Tests that need a CPU-only build (CUDA unavailable) or a device skip on the other build;
``scripts/test.sh`` runs both builds.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import rustgrad as rg
from conftest import HAS_CUDA, raises

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PREFLIGHT = os.path.join(ROOT, "scripts", "gpu_preflight.py")
cuda = pytest.mark.cuda
cpu_only = pytest.mark.skipif(HAS_CUDA, reason="CUDA is available (a device or the emulator)")


def _run(args, env=None, timeout=120, **kw):
    full_env = dict(os.environ)
    full_env.pop("RUSTGRAD_REQUIRE_CUDA", None)
    full_env.update(env or {})
    return subprocess.run(
        args,
        check=False,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        **kw,
    )


# ----- point 1: RUSTGRAD_REQUIRE_CUDA -------------------------------------------------------


def _pytest(*args, require):
    env = {"RUSTGRAD_REQUIRE_CUDA": "1"} if require else {}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    return _run(cmd, env=env, timeout=300)


@cpu_only
def test_require_cuda_turns_skips_into_failures():
    pytest.importorskip("torch")  # (the parity suite it runs skips without PyTorch)
    # A marked test and the CUDA cases of a device-parametrised suite.
    args = (
        "tests/test_cuda.py::test_creation_defaults_and_requires_grad",
        "tests/test_parity_torch.py",
        "-m",
        "cuda",
    )
    plain = _pytest(*args, require=False)
    assert plain.returncode in (0, 5), plain.stdout[-2000:]  # skipped, or none selected
    assert "error" not in plain.stdout.splitlines()[-1]
    required = _pytest(*args, require=True)
    assert required.returncode == 1, required.stdout[-2000:]
    last = required.stdout.strip().splitlines()[-1]
    assert "error" in last and "skipped" not in last, last
    assert "RUSTGRAD_REQUIRE_CUDA=1 but CUDA is not available" in required.stdout
    # The device-parametrised suite gained its CUDA cases (they are dropped without the switch).
    assert "test_parity_torch.py" in required.stdout


@cuda
def test_require_cuda_changes_nothing_when_cuda_is_there():
    res = _pytest(
        "tests/test_cuda.py::test_creation_defaults_and_requires_grad", "-m", "cuda", require=True
    )
    assert res.returncode == 0, res.stdout[-2000:]
    assert "1 passed" in res.stdout


# ----- point 2: pre-flight, smoke run, gpu_check.sh -----------------------------------------


def _load_preflight():
    spec = importlib.util.spec_from_file_location("gpu_preflight", PREFLIGHT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_preflight_reads_mapped_libraries_and_finds_two_copies():
    pf = _load_preflight()
    maps = textwrap.dedent(
        """\
        7f00-7f01 r-xp 00000000 08:01 11 /opt/venv/nvidia/cu13/lib/libnvrtc.so.13
        7f01-7f02 r--p 00001000 08:01 11 /opt/venv/nvidia/cu13/lib/libnvrtc.so.13
        7f02-7f03 r-xp 00000000 08:01 12 /usr/local/cuda/lib64/libnvrtc.so.12.4.99
        7f03-7f04 r-xp 00000000 08:01 13 /usr/lib/x86_64-linux-gnu/libcuda.so.580.65
        7f04-7f05 r-xp 00000000 08:01 14 /opt/venv/nvidia/cu13/lib/libnvrtc-builtins.so.13.5
        7f05-7f06 r-xp 00000000 08:01 15 /usr/lib/libcudart_static_helper.a.so
        7f06-7f07 rw-p 00000000 00:00 0
        """
    )
    found = pf.mapped_cuda_libraries(maps)
    assert found == {
        "nvrtc": [
            "/opt/venv/nvidia/cu13/lib/libnvrtc.so.13",
            "/usr/local/cuda/lib64/libnvrtc.so.12.4.99",
        ],
        "cuda": ["/usr/lib/x86_64-linux-gnu/libcuda.so.580.65"],
        "nvrtc-builtins": ["/opt/venv/nvidia/cu13/lib/libnvrtc-builtins.so.13.5"],
    }
    problems = pf.mixed_libraries(found)
    assert len(problems) == 1
    assert (
        "libnvrtc" in problems[0]
        and "libnvrtc.so.12.4.99" in problems[0]
        and "libnvrtc.so.13" in problems[0]
    )


def test_preflight_runs_and_fails_exactly_when_cuda_is_required_but_missing():
    res = _run([sys.executable, PREFLIGHT])
    assert res.returncode == 0, res.stdout + res.stderr
    for key in (
        "python: ",
        "glibc: ",
        "numpy: ",
        "pytest: ",
        "NVIDIA driver",
        "rustgrad.cuda.is_available(): ",
    ):
        assert key in res.stdout, key
    assert sys.executable in res.stdout
    required = _run([sys.executable, PREFLIGHT, "--require-cuda"])
    assert (required.returncode == 0) == HAS_CUDA, required.stdout
    if not HAS_CUDA:
        assert "PRE-FLIGHT FAILED" in required.stdout
        assert "rustgrad.cuda.is_available() is False" in required.stdout


def test_preflight_stops_when_a_requirement_is_missing(tmp_path):
    # An interpreter that cannot import numpy (isolated, no site-packages).
    res = _run([sys.executable, "-I", "-S", PREFLIGHT])
    assert res.returncode == 1
    assert "numpy: missing" in res.stdout and "PRE-FLIGHT FAILED" in res.stdout


@cuda
def test_smoke_script_passes():
    res = _run([sys.executable, os.path.join(ROOT, "scripts", "gpu_smoke.py")], timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    for step in (
        "context",
        "upload",
        "elementwise",
        "reduce",
        "index",
        "random",
        "optim",
        "cublas",
        "backward",
    ):
        assert f"smoke {step}: ok" in res.stdout


@cpu_only
def test_gpu_check_stops_before_the_tests_without_cuda(tmp_path):
    res = _run(
        ["bash", "scripts/gpu_check.sh"],
        env={"OUT": str(tmp_path), "GPU_CHECK_INSTALLED": "1", "PYTHON": sys.executable},
    )
    assert res.returncode == 3, res.stdout + res.stderr
    assert "== pytest" not in res.stdout
    summary = (tmp_path / "gpu_check_summary.txt").read_text()
    assert summary.startswith("pre-flight failed")
    assert "PRE-FLIGHT FAILED" in (tmp_path / "gpu_check.log").read_text()


# ----- point 3: which libraries are opened --------------------------------------------------


def _compiler():
    return shutil.which("cc") or shutil.which("gcc")


@cpu_only
@pytest.mark.skipif(_compiler() is None, reason="needs a C compiler to build a stand-in libcuda")
def test_stub_libcuda_is_named_and_a_failure_is_retried(tmp_path):
    # The toolkit's lib64/stubs/libcuda.so: it links, and cuInit says CUDA_ERROR_STUB_LIBRARY.
    src = tmp_path / "stub.c"
    src.write_text(
        "int cuInit(unsigned flags) { return 34; }\n"
        "int cuDriverGetVersion(int *v) { *v = 13000; return 34; }\n"
        'int cuGetErrorString(int e, const char **s) { *s = "stub"; return 0; }\n'
    )
    lib_dir = tmp_path / "stubs"
    lib_dir.mkdir()
    code = textwrap.dedent(
        f"""
        import subprocess, sys
        import rustgrad
        first = rustgrad._core._cuda_unavailable_reason()
        # The stub appears after a failed first attempt: the next attempt must find it.
        subprocess.run([{_compiler()!r}, "-shared", "-fPIC", "-o", {str(lib_dir / "libcuda.so")!r},
                        {str(src)!r}], check=True)
        second = rustgrad._core._cuda_unavailable_reason()
        print(first); print(second); print(rustgrad.cuda.is_available())
        """
    )
    res = _run([sys.executable, "-c", code], env={"LD_LIBRARY_PATH": str(lib_dir)})
    assert res.returncode == 0, res.stderr
    first, second, available = res.stdout.strip().splitlines()[-3:]
    assert "libcuda" in first
    assert "CUDA_ERROR_STUB_LIBRARY" in second, second
    assert str(lib_dir / "libcuda.so") in second, second
    assert available == "False"


def _pip_nvrtc():
    for d in rg.cuda._library_dirs():
        p = os.path.join(d, "libnvrtc.so.13")
        if os.path.exists(p):
            return p
    return None


_NVRTC_PROBE = textwrap.dedent(
    """
    import json, re
    import rustgrad
    try:
        rustgrad._core._cuda_compile_kernels("sm_1")  # loads NVRTC, then fails at once
    except RuntimeError:
        pass
    maps = open("/proc/self/maps").read()
    nvrtc = sorted({m for m in re.findall(r"\\S*/libnvrtc\\.so[.\\d]*", maps)})
    print(json.dumps({"notes": rustgrad._core._cuda_library_notes(), "mapped": nvrtc}))
    """
)


@pytest.mark.skipif(
    _pip_nvrtc() is None, reason="the nvidia-cuda-nvrtc pip package is not installed"
)
def test_nvrtc_lookup_order_and_no_two_copies(tmp_path):
    import json

    pip = os.path.realpath(_pip_nvrtc())
    # Alone: the pip library, no note.
    res = _run([sys.executable, "-c", _NVRTC_PROBE], env={"LD_LIBRARY_PATH": ""})
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert [os.path.realpath(p) for p in out["mapped"]] == [pip]
    assert out["notes"] == []
    # A toolkit's dev link (another file) on the search path does not displace it: only the
    # pip library is mapped (cudarc's own loader would have taken the unversioned name).
    other = tmp_path / "libnvrtc.so"
    shutil.copy(pip, other)
    res = _run([sys.executable, "-c", _NVRTC_PROBE], env={"LD_LIBRARY_PATH": str(tmp_path)})
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert [os.path.realpath(p) for p in out["mapped"]] == [pip], out
    assert out["notes"] == []
    # A copy another library of the process already loaded (as PyTorch loads its own) is the
    # one used, never a second: the note names both files.
    loaded = tmp_path / "libnvrtc.so.13"
    os.rename(other, loaded)
    probe = f"import ctypes; ctypes.CDLL({str(loaded)!r}, mode=ctypes.RTLD_GLOBAL)\n"
    res = _run([sys.executable, "-c", probe + _NVRTC_PROBE], env={"LD_LIBRARY_PATH": ""})
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["mapped"] == [str(loaded)], out
    assert len(out["notes"]) == 1, out
    assert str(loaded) in out["notes"][0] and pip in out["notes"][0]


def test_library_notes_become_warnings(monkeypatch):
    import warnings

    monkeypatch.setattr(rg._core, "_cuda_library_notes", lambda: ["two NVRTCs: /a and /b"])
    monkeypatch.setattr(rg.cuda, "_warned", set())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rg.cuda.is_available()
        rg.cuda.is_available()  # once per note
    assert [str(w.message) for w in caught] == ["two NVRTCs: /a and /b"]
    assert caught[0].category is RuntimeWarning


# ----- point 5: the host side ---------------------------------------------------------------


@cuda
def test_staged_uploads_keep_every_tensor_intact():
    # Many uploads over 256 bytes queued back to back: more than the ring's slots, so slots are
    # reused; a slot refilled before its copy ran would corrupt an earlier tensor.
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(64 + 37 * i) for i in range(24)]
    tensors = [rg.tensor(a, device="cuda") for a in arrays]
    big = rng.standard_normal((5 << 20) // 8 + 3)  # several slots' worth in one upload
    tb = rg.tensor(big, device="cuda")
    index = rg.tensor(list(range(199, -1, -1)), device="cuda")  # an index list (1.6 KB)
    for a, t in zip(arrays, tensors):
        np.testing.assert_array_equal(t.cpu().numpy(), a)
    np.testing.assert_array_equal(tb.cpu().numpy(), big)
    np.testing.assert_array_equal(index.cpu().numpy(), np.arange(199, -1, -1))
    picked = tensors[-1][list(range(199, -1, -1))].cpu().numpy()  # an index list, staged
    np.testing.assert_array_equal(picked, arrays[-1][:200][::-1])


@cuda
def test_copy_from_separate_storage_copies_once():
    n = 1 << 18
    x = rg.zeros(n, device="cuda")
    y = rg.arange(n, dtype=rg.float32, device="cuda")
    rg.cuda.synchronize()
    rg.cuda.reset_peak_memory_stats()
    before = rg.cuda.memory_allocated()
    x.copy_(y)
    # No temporary buffer at all: the elements go straight from y's storage into x's.
    assert rg.cuda.max_memory_allocated() == before
    np.testing.assert_array_equal(x.cpu().numpy(), np.arange(n, dtype=np.float32))
    # Broadcast source, still no temporary.
    rg.cuda.reset_peak_memory_stats()
    x.view(512, 512).copy_(y[:512])
    assert rg.cuda.max_memory_allocated() == before
    np.testing.assert_array_equal(x.cpu().numpy(), np.tile(np.arange(512, dtype=np.float32), 512))


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=cuda)])
def test_copy_from_an_overlapping_view_reads_the_old_values(device):
    # Dense views that overlap in part are refused, with PyTorch's words.
    x = rg.arange(10, dtype=rg.float64, device=device)
    with pytest.raises(RuntimeError, match="some elements of the input tensor and the written-to"):
        x[1:].copy_(x[:-1])
    # Strided ones PyTorch does not judge: the copy reads the old values (PyTorch's result
    # there depends on its loop order).
    x[2::2].copy_(x[0:8:2])
    np.testing.assert_array_equal(x.cpu().numpy(), [0, 1, 0, 3, 2, 5, 4, 7, 6, 9])


FORK_CHILD = textwrap.dedent(
    """
    import os, sys, threading
    import rustgrad as rg
    x = rg.ones(1000, device="cuda")
    rg.cuda.synchronize()
    results = []
    pid = os.fork()
    if pid == 0:
        msgs = []
        for attempt in (lambda: x + 1, lambda: rg.zeros(3, device="cuda"), lambda: x.cpu(),
                        lambda: rg.cuda.memory_allocated()):
            try:
                attempt()
                msgs.append("no error")
            except RuntimeError as err:
                msgs.append(str(err))
        del x  # frees the parent's block: must not touch the allocator (or hang on its lock)
        rg.cuda.manual_seed(1)
        rg.cuda.empty_cache()
        ok = all(m.startswith("Cannot re-initialize CUDA in forked subprocess") for m in msgs)
        print("child:", msgs if not ok else "ok", flush=True)
        print("message:", msgs[0], flush=True)
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    print("parent:", os.waitstatus_to_exitcode(status), float((x * 2).sum().item()))
    """
)


@cuda
def test_fork_after_cuda_init_raises_in_the_child():
    res = _run([sys.executable, "-c", FORK_CHILD], timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "child: ok" in res.stdout, res.stdout
    # PyTorch's words, in full (its users search for them).
    assert (
        "message: Cannot re-initialize CUDA in forked subprocess. To use CUDA with "
        "multiprocessing, you must use the 'spawn' start method" in res.stdout
    )
    assert "parent: 0 2000.0" in res.stdout, res.stdout


def test_no_gpu_helpers_still_raise_cleanly():
    if HAS_CUDA:
        pytest.skip("CUDA is available")
    with raises(RuntimeError):
        rg.zeros(2, device="cuda")
