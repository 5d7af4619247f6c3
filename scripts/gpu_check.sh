#!/usr/bin/env bash
# The one command for a lent GPU machine (CUDA driver, PyTorch, pytest, NumPy and the nvidia-*
# pip packages; no Rust, no network): install the abi3 wheel built here, check the interpreter
# and the libraries it maps (scripts/gpu_preflight.py), make first contact with the GPU
# (scripts/gpu_smoke.py, also under compute-sanitizer memcheck and racecheck where installed),
# run the `cuda` tests with RUSTGRAD_REQUIRE_CUDA=1 (a CUDA skip is a failure) and the CUDA
# kernel-compile tests, rerun the first failing test alone with CUDA_LAUNCH_BLOCKING=1, then the
# side-by-side benchmark against the installed PyTorch, which prints one table. Each step has
# its own timeout; under 10 minutes in all, typically 3-4.
#
# Here:   maturin build --release -o dist        (dist/ is ignored by git: carry it)
# There:  bash scripts/gpu_check.sh              (PYTHON=... picks another interpreter;
#                                                 GPU_CHECK_SANITIZER=0 skips compute-sanitizer)
#
# With $OUT set, everything printed is also written to $OUT/gpu_check.log, with the test
# results ($OUT/pytest.xml) and the benchmark table ($OUT/gpu_bench.md, $OUT/gpu_bench.csv).
# The summary line is written on its own to $OUT/gpu_check_summary.txt (without $OUT, to
# ${TMPDIR:-/tmp}/rustgrad_gpu_check_summary.txt), so it survives a lost tail of the log.
# Exit status: 3 when the pre-flight fails (nothing is tested), else the first failure among
# the smoke run, the cuda tests and the kernel-compile tests (0 when all passed); the benchmark
# runs whatever they gave.
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
summary_file=${out:-${TMPDIR:-/tmp}}
summary_file=${summary_file%/}/$([ -n "$out" ] && echo gpu_check_summary.txt || echo rustgrad_gpu_check_summary.txt)
summary() {
  echo "== summary"
  echo "$1"
  echo "$1" >"$summary_file"
  echo "(also in $summary_file)"
}

echo "== install the wheel"
if [ "${GPU_CHECK_INSTALLED:-0}" = 1 ]; then
  # Tests of this script: use the rustgrad already installed.
  echo "(GPU_CHECK_INSTALLED=1: the installed rustgrad)"
else
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
fi

echo "== the device"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true

echo "== pre-flight"
if ! "$py" scripts/gpu_preflight.py --require-cuda; then
  summary "pre-flight failed (see above): nothing was tested; $((SECONDS - start)) s"
  exit 3
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
export RUSTGRAD_REQUIRE_CUDA=1
log_dir=$(mktemp -d)

set +e
echo "== the CUDA tests selected"
selected=$(timeout -k 5 60 "$py" -m pytest tests -m cuda --collect-only -q -p no:cacheprovider \
  2>/dev/null | grep -c '::')
echo "$selected tests selected by -m cuda"

echo "== smoke run"
timeout -k 5 60 "$py" scripts/gpu_smoke.py
smoke_rc=$?
sanitizer="not installed"
if [ "${GPU_CHECK_SANITIZER:-1}" != 0 ] && command -v compute-sanitizer >/dev/null; then
  sanitizer=""
  for tool in memcheck racecheck; do
    echo "== compute-sanitizer --tool $tool (smoke run)"
    timeout -k 5 90 compute-sanitizer --tool "$tool" --error-exitcode 9 "$py" scripts/gpu_smoke.py
    rc=$?
    sanitizer="$sanitizer$tool exit $rc "
    [ "$smoke_rc" -eq 0 ] && [ "$rc" -ne 0 ] && smoke_rc=$rc
  done
fi

echo "== pytest -m cuda (RUSTGRAD_REQUIRE_CUDA=1)"
timeout -k 10 170 "$py" -m pytest tests -m cuda -q -p no:cacheprovider \
  --continue-on-collection-errors --maxfail=30 -rfE ${per_test[@]+"${per_test[@]}"} \
  ${junit[@]+"${junit[@]}"} | tee "$log_dir/cuda.log"
cuda_rc=${PIPESTATUS[0]}
first=$(grep -m 1 -oE '^(FAILED|ERROR) [^ ]+' "$log_dir/cuda.log" | cut -d' ' -f2)
if [ -n "$first" ]; then
  # Kernel launches are asynchronous: alone and blocking, the error names the launch that failed.
  echo "== the first failure again, alone, with CUDA_LAUNCH_BLOCKING=1: $first"
  CUDA_LAUNCH_BLOCKING=1 timeout -k 5 60 "$py" -m pytest "$first" -q -p no:cacheprovider -rfE
fi

# Uncached NVRTC compiles take seconds of CPU each (two architectures, every source): room.
echo "== kernel compilation and the tests that need no GPU (NVRTC required)"
RUSTGRAD_REQUIRE_NVRTC=1 timeout -k 5 120 "$py" -m pytest tests/test_cuda_kernels.py \
  tests/test_cuda.py -m "not cuda" -q -p no:cacheprovider -rfE ${per_test[@]+"${per_test[@]}"}
kernels_rc=$?

echo "== benchmark against PyTorch"
timeout -k 5 80 "$py" benches/gpu_bench.py ${out:+--out "$out"}
bench_rc=$?
set -e
rm -rf "$log_dir"

summary "selected cuda tests: $selected; smoke: exit $smoke_rc (sanitizer: ${sanitizer% }); \
pytest -m cuda: exit $cuda_rc${first:+ (first failure: $first)}; kernel/no-GPU tests: exit \
$kernels_rc; benchmark: exit $bench_rc (124: timed out); $((SECONDS - start)) s in all"
for rc in "$smoke_rc" "$cuda_rc" "$kernels_rc"; do
  if [ "$rc" -ne 0 ]; then
    exit "$rc"
  fi
done
exit 0
