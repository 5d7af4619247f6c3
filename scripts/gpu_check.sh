#!/usr/bin/env bash
# The one command for a lent GPU machine (CUDA driver, PyTorch, pytest, NumPy and the nvidia-*
# pip packages; no Rust, no network): install the abi3 wheel built here, run the `cuda` tests
# and the CUDA kernel-compile tests, then the side-by-side benchmark against the installed
# PyTorch, which prints one table. Bounded to under 5 minutes in all.
#
# Here:   maturin build --release -o dist        (dist/ is ignored by git: carry it)
# There:  bash scripts/gpu_check.sh              (PYTHON=... picks another interpreter)
#
# With $OUT set, everything printed is also written to $OUT/gpu_check.log, with the test
# results ($OUT/pytest.xml) and the benchmark table ($OUT/gpu_bench.md, $OUT/gpu_bench.csv).
# The exit status is the tests' (0 when all passed); the benchmark runs whatever they gave.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-python3}
out=${OUT:-}
export PYTHONUNBUFFERED=1
if [ -n "$out" ]; then
  mkdir -p "$out"
  exec > >(tee -a "$out/gpu_check.log") 2>&1
fi
start=$SECONDS

echo "== install the wheel"
wheel=$(ls -t dist/rustgrad-*.whl 2>/dev/null | head -n 1 || true)
if [ -z "$wheel" ]; then
  echo "no dist/rustgrad-*.whl: build it first (maturin build --release -o dist) and carry dist/"
  exit 2
fi
echo "$wheel"
if ! "$py" -m pip install -q --no-deps --force-reinstall --no-index --no-compile "$wheel"; then
  # An interpreter that pip may not write to: install beside it instead.
  site=$(mktemp -d)
  "$py" -m pip install -q --no-deps --no-index --no-compile --target "$site" "$wheel"
  export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
fi

echo "== the device"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
if ! "$py" - <<'PY'
import rustgrad
import rustgrad.cuda as cuda

print(f"rustgrad {rustgrad.__version__} from {rustgrad.__file__}")
print(f"rustgrad.cuda.is_available(): {cuda.is_available()}, devices: {cuda.device_count()}")
if cuda.is_available():
    print(f"rustgrad.cuda.get_device_name(): {cuda.get_device_name()}")
else:
    print(f"why not: {rustgrad._core._cuda_unavailable_reason()}")
print("library folders:", *cuda._library_dirs(), sep="\n  ")
PY
then
  echo "(rustgrad.cuda could not be queried: the tests below say more)"
fi

# pytest-timeout, where installed, stops a single hung test; `timeout` bounds each run.
per_test=()
if "$py" -c "import pytest_timeout" 2>/dev/null; then
  per_test=(--timeout=60)
fi
junit=()
if [ -n "$out" ]; then
  junit=(--junitxml "$out/pytest.xml")
fi

echo "== pytest -m cuda"
set +e
timeout -k 10 170 "$py" -m pytest tests -m cuda -q -p no:cacheprovider \
  --continue-on-collection-errors --maxfail=30 -rfE ${per_test[@]+"${per_test[@]}"} \
  ${junit[@]+"${junit[@]}"}
cuda_rc=$?

echo "== kernel compilation and the tests that need no GPU (NVRTC required)"
RUSTGRAD_REQUIRE_NVRTC=1 timeout -k 5 40 "$py" -m pytest tests/test_cuda_kernels.py \
  tests/test_cuda.py -m "not cuda" -q -p no:cacheprovider -rfE ${per_test[@]+"${per_test[@]}"}
kernels_rc=$?

echo "== benchmark against PyTorch"
timeout -k 5 80 "$py" benches/gpu_bench.py ${out:+--out "$out"}
bench_rc=$?
set -e

echo "== summary"
echo "pytest -m cuda: exit $cuda_rc; kernel/no-GPU tests: exit $kernels_rc;" \
  "benchmark: exit $bench_rc (124: timed out); $((SECONDS - start)) s in all"
if [ "$cuda_rc" -ne 0 ]; then
  exit "$cuda_rc"
fi
exit "$kernels_rc"
