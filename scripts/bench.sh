#!/usr/bin/env bash
# Install the benchmark anchors if missing (PyTorch, NumPy, oneDNN), build, and run
# lucid-bench; arguments go to lucid-bench (e.g. --json bench.json). See bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --bench
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target lucid-bench
exec build/bench/lucid-bench "$@"
