#!/bin/bash
# Times one lucid-bench case with the process's stack at each of 256 places in its 4 KiB page:
# address randomization off (setarch -R), and an environment variable of 0, 16, 32, ... 4080
# bytes, which moves the main thread's stack by that much (the stack keeps a 16-byte
# alignment, so a coarser step would see only some alignments: at 32 it missed every slow
# place). About 4 s a place: 17 minutes for the page; LUCID_STACK_SWEEP_FROM and _TO (bytes)
# take a part of it. A kernel whose run depends on where its frame falls in a page (4 KiB
# aliasing between its spills and its constants) shows it as rows far from the others; with
# the runtime's frame placement (src/runtime/program.c, call_at_page_top) every row should be
# alike.
#
# usage: bench/stack_sweep.sh [LUCID_BENCH] [CASE] [SHAPE]
#   default: build/bench/lucid-bench lp3_k4s4 16,64,65536; 1 thread, LUCID_BENCH_BUDGET_MS=30
set -euo pipefail
bench=${1:-build/bench/lucid-bench}
case_name=${2:-lp3_k4s4}
shape=${3:-16,64,65536}
command -v setarch > /dev/null || { echo "stack_sweep.sh: needs setarch (util-linux)" >&2; exit 2; }
[ -x "$bench" ] || { echo "stack_sweep.sh: no lucid-bench at $bench (build first)" >&2; exit 2; }
echo "env bytes   jit median (ms) per pass, 1 thread: $case_name at ($shape)"
for n in $(seq "${LUCID_STACK_SWEEP_FROM:-0}" 16 "${LUCID_STACK_SWEEP_TO:-4095}"); do
    pad=$(printf '%*s' "$n" '')
    times=$(LUCID_STACK_SWEEP_PAD="$pad" LUCID_BENCH_BUDGET_MS=${LUCID_BENCH_BUDGET_MS:-30} setarch -R \
        "$bench" --shape "$shape" --case "$case_name" --impl jit --threads 1 2>&1 |
        awk '/^ +shape/ {pass = $5} /^ +jit / {printf "%s %s  ", pass, $2 " " $3}')
    printf '%9d   %s\n' "$n" "$times"
done
