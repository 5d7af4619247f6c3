#!/usr/bin/env bash
# Build the portable release wheel into dist/: abi3 (CPython 3.9+), x86-64, manylinux_2_28
# (glibc 2.28+: RHEL/Rocky 8, Ubuntu 20.04 and later). Zig links against glibc 2.28's symbols
# whatever this machine's glibc is, and maturin checks the result against the manylinux policy
# (auditwheel's rules); `auditwheel show` then prints the tag the wheel really satisfies.
# Also builds the source distribution (`--sdist`). Usage: bash scripts/build_wheel.sh [--sdist]
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q --disable-pip-version-check "maturin>=1.9.4,<2" "ziglang>=0.13" auditwheel
# cargo-zigbuild (inside maturin) runs `python -m ziglang`: name the interpreter that has it.
export CARGO_ZIGBUILD_PYTHON_PATH="${CARGO_ZIGBUILD_PYTHON_PATH:-$(command -v python)}"
rm -f dist/rustgrad-*.whl
maturin build --release --zig --compatibility manylinux_2_28 --out dist
wheel=$(ls dist/rustgrad-*.whl)
python -m auditwheel show "$wheel"
if [ "${1:-}" = --sdist ]; then
  rm -f dist/rustgrad-*.tar.gz
  maturin sdist --out dist
fi
echo "$wheel"
