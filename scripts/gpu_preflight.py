"""Pre-flight for ``scripts/gpu_check.sh``: what this interpreter will test with, before any test.

    python scripts/gpu_preflight.py                  # print; exit 1 when a requirement is missing
    python scripts/gpu_preflight.py --require-cuda   # also exit 1 when rustgrad.cuda is unusable

Prints ``sys.executable``, the versions of numpy, pytest, torch (and the CUDA torch was built
for), glibc, the NVIDIA driver (asked from ``libcuda`` itself), and then, after rustgrad has
opened its CUDA libraries, every CUDA library file actually mapped into the process (from
``/proc/self/maps``): two versions of one library mapped at once is reported as a problem,
because the second one's symbols may be the ones used.
"""

import argparse
import ctypes
import importlib
import os
import platform
import re
import sys

# The CUDA libraries rustgrad opens (and the ones the driver pulls in).
CUDA_LIBS = re.compile(
    r"/lib(cuda|nvrtc|nvrtc-builtins|cublas|cublasLt|cudart|nvJitLink)\.so[.\d]*$"
)


def mapped_cuda_libraries(maps_text):
    """``{library name: [paths]}`` of the CUDA libraries in a ``/proc/<pid>/maps`` text."""
    found = {}
    for line in maps_text.splitlines():
        parts = line.split(None, 5)
        if len(parts) < 6:
            continue
        path = parts[5].strip()
        m = CUDA_LIBS.search(path)
        if m is None:
            continue
        paths = found.setdefault(m.group(1), [])
        if path not in paths:
            paths.append(path)
    return found


def mixed_libraries(found):
    """Messages for each library mapped from more than one file (resolved through links)."""
    problems = []
    for name, paths in sorted(found.items()):
        real = sorted({os.path.realpath(p) for p in paths})
        if len(real) > 1:
            problems.append(f"two copies of lib{name} are mapped: " + " and ".join(real))
    return problems


def driver_version():
    """``"13.0"`` from ``cuDriverGetVersion``, or why it cannot be asked."""
    try:
        lib = ctypes.CDLL("libcuda.so.1")
    except OSError as err:
        return None, f"libcuda.so.1 cannot be loaded ({err})"
    version = ctypes.c_int(0)
    rc = lib.cuDriverGetVersion(ctypes.byref(version))
    if rc != 0:
        return None, f"cuDriverGetVersion failed with CUDA error {rc}"
    v = version.value
    return f"{v // 1000}.{v % 1000 // 10}", None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--require-cuda", action="store_true")
    args = parser.parse_args(argv)
    problems = []

    print(f"python: {sys.executable} ({platform.python_version()})")
    print(f"glibc: {' '.join(platform.libc_ver()) or 'unknown'}")
    for name, required in (("numpy", True), ("pytest", True), ("torch", False)):
        try:
            module = importlib.import_module(name)
        except Exception as err:  # noqa: BLE001 - any import failure is what we report
            print(f"{name}: missing ({type(err).__name__}: {err})")
            if required:
                problems.append(f"{name} cannot be imported by {sys.executable}")
            continue
        line = f"{name}: {module.__version__}"
        if name == "torch":
            cuda = getattr(module.version, "cuda", None)
            ok = module.cuda.is_available()
            line += f" (built for CUDA {cuda}; torch.cuda.is_available(): {ok})"
        print(line)

    version, why = driver_version()
    print(f"NVIDIA driver (CUDA API version): {version or why}")

    try:
        import rustgrad
        import rustgrad.cuda
    except Exception as err:  # noqa: BLE001
        problems.append(f"rustgrad cannot be imported: {type(err).__name__}: {err}")
    else:
        print(f"rustgrad {rustgrad.__version__} from {rustgrad.__file__}")
        available = rustgrad.cuda.is_available()
        print(f"rustgrad.cuda.is_available(): {available}")
        if available:
            print(f"device 0: {rustgrad.cuda.get_device_name(0)}")
        else:
            reason = rustgrad._core._cuda_unavailable_reason()
            print(f"why not: {reason}")
            if args.require_cuda:
                problems.append(f"rustgrad.cuda.is_available() is False: {reason}")
        print("library folders searched first:", *rustgrad.cuda._library_dirs(), sep="\n  ")

    try:
        with open("/proc/self/maps") as f:
            found = mapped_cuda_libraries(f.read())
    except OSError:
        found = {}
        print("CUDA libraries mapped: /proc/self/maps cannot be read")
    else:
        print("CUDA libraries mapped into this process:")
        for name, paths in sorted(found.items()):
            for p in paths:
                real = os.path.realpath(p)
                print(f"  {p}" + (f" -> {real}" if real != p else ""))
        if not found:
            print("  (none)")
        problems.extend(mixed_libraries(found))

    if problems:
        print("\nPRE-FLIGHT FAILED, the tests would not be meaningful:")
        for p in problems:
            print(f"  - {p}")
        return 1
    print("pre-flight: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
