#!/usr/bin/env bash
# Install the Debian packages Lucid needs, skipping those already installed (idempotent).
#   scripts/setup.sh           build + test dependencies
#   scripts/setup.sh --bench   also the benchmark anchors (python3-torch, numpy, oneDNN)
#   scripts/setup.sh --ci      also what the full test run uses (valgrind, clang for sanitizers,
#                              pytest, and PyTorch and oneDNN as references)
set -euo pipefail

packages=(cmake make gcc libc6-dev llvm-19-dev libcmocka-dev pkg-config)
for arg in "$@"; do
  case "$arg" in
    --bench) packages+=(python3 python3-numpy python3-torch libdnnl-dev) ;;
    --ci) packages+=(valgrind clang libclang-rt-14-dev python3 python3-numpy python3-pytest python3-torch libdnnl-dev) ;;
    *) echo "setup.sh: unknown option $arg (use --bench or --ci)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup.sh: installing ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
