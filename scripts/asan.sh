#!/usr/bin/env bash
# The Rust unit tests (the CPU kernels, layouts, the arena, the property tests) built with
# AddressSanitizer: an out-of-bounds access or use-after-free in the unsafe kernel code aborts
# the test run with a report. Needs nightly Rust (`rustup toolchain install nightly`); the
# standard library itself is not instrumented. Not part of scripts/test.sh (a separate build of
# every dependency); run it after changing unsafe code. Usage: bash scripts/asan.sh [filter]
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTFLAGS="-Zsanitizer=address"
export RUSTDOCFLAGS="-Zsanitizer=address"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"  # leaks: the arena and PyO3 keep globals
cargo +nightly test --lib --target x86_64-unknown-linux-gnu --target-dir target/asan "$@"
