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
python -m pip install -q --disable-pip-version-check "maturin>=1.9.4,<2" "numpy>=1.21" "pytest>=7" \
  ruff scikit-learn tqdm matplotlib safetensors

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
ruff check python tests benches examples scripts

echo "== cargo test"
cargo test

echo "== cargo bench --no-run"
cargo bench --no-run

echo "== build and install the extension"
maturin develop --release

echo "== pytest"
python -m pytest tests

echo "== side-by-side benchmark (tiny)"
python benches/compare.py --size tiny
