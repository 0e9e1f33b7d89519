#!/usr/bin/env bash
# Build with warnings as errors and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh -DLUCID_WERROR=ON
ctest --test-dir build --output-on-failure -j"$(nproc)"
