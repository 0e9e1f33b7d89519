#!/usr/bin/env bash
# Build the libFuzzer targets (tests/fuzz/fuzz_*.c) with clang, ASan and UBSan in build-fuzz/
# and run each for a bounded time, outside CI:
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]      (default 60 s, every target)
# FUZZ_FLAGS adds libFuzzer flags (e.g. "-fork=2 -ignore_crashes=1" to go on past a crash);
# LUCID_FUZZ_NO_JIT=1 makes the pipeline target check the interpreter alone.
# FUZZ_SANITIZE=undefined builds a campaign variant in build-fuzz-ubsan/ with UBSan alone (no
# ASan, so no leak or memory-error detection: the ctest replays in the ASan build check those
# for every input kept in tests/fuzz/corpus/). The pipeline target compiles with LLVM on nearly
# every new case, and ASan's allocator makes LLVM's many small allocations about 1.5-2x
# dearer (tests/fuzz/README.md has the figures); the corpus and findings stay in build-fuzz/.
# The compiles' disk cache is build-fuzz/objcache/ unless LUCID_CACHE_DIR names another.
# New interesting inputs go to build-fuzz/corpus/<target>/ (the seeds in tests/fuzz/corpus/
# are read, never written). A crash leaves build-fuzz/findings/<target>/crash-*; copy it into
# tests/fuzz/corpus/<target>/ once fixed, so ctest replays it from then on. Every target's
# executions and findings are summarized at the end (and in build-fuzz/fuzz-summary.txt).
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true

cc=$(command -v clang-14 || command -v clang || true)
if [ -z "$cc" ]; then
  echo "fuzz.sh: needs clang with libFuzzer (scripts/setup.sh --ci installs clang and libclang-rt-14-dev)" >&2
  exit 2
fi
case "${FUZZ_SANITIZE:-address}" in
  address) bin=build-fuzz san="-fsanitize=address,undefined" ;;
  undefined) bin=build-fuzz-ubsan san="-fsanitize=undefined" ;;
  *) echo "fuzz.sh: FUZZ_SANITIZE must be address or undefined, got '$FUZZ_SANITIZE'" >&2; exit 2 ;;
esac
san="$san -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cmake -S . -B "$bin" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DLUCID_FUZZ=ON -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link $san" \
  -DCMAKE_EXE_LINKER_FLAGS="$san" >/dev/null || exit 2

if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for f in tests/fuzz/fuzz_*.c; do t=$(basename "$f" .c); targets+=("${t#fuzz_}"); done
fi
cmake --build "$bin" -j"$(nproc)" --target "${targets[@]/#/fuzz_}" >/dev/null || exit 2

# A module allocates the parameters its spec asks for and draws each one (Conv1d(99999992, 6, 9):
# 21.6 GB; Conv1d(999992, 6, 9): 216 MB, 28 s under ASan on a loaded machine), which a machine
# may well give; past 64 MB the ASan allocator refuses, as a machine without the memory would
# (a clean NOMEM), instead of the run hitting -rss_limit_mb or -timeout as a finding. The
# targets' own tensors stay far below it (fuzz_capi skips parameter counts past 2^22).
export ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1:max_allocation_size_mb=64
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# Compiled kernels check every load against its buffer and trap (a crash finding) when one reads
# outside: an elided bounds check that can fail is otherwise seldom visible in the values.
export LUCID_CHECK_BOUNDS=${LUCID_CHECK_BOUNDS:-1}
export LUCID_FUZZ_STATS=${LUCID_FUZZ_STATS:-1} # the pipeline target counts its JIT cases (summed below)
# The on-disk compile cache: a pipeline the fuzzer draws again after the in-memory cache let it
# go is linked from its object instead of optimized and emitted again (tests/fuzz/README.md has
# what that bought the pipeline target); the cache's own code is fuzzed on the way.
mkdir -p build-fuzz/objcache
export LUCID_CACHE_DIR=${LUCID_CACHE_DIR:-$PWD/build-fuzz/objcache}
summary=build-fuzz/fuzz-summary.txt
: > "$summary"
status=0
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$t" "build-fuzz/findings/$t"
  log="build-fuzz/fuzz-$t.log"
  stamp="build-fuzz/.started-$t"; touch "$stamp" # findings newer than it are this run's
  started=$SECONDS
  echo "fuzz.sh: $t for ${seconds}s (log $log)"
  # model_spec parses each spec twice and builds its module both times: Conv1d(1, 5, 2222222)
  # draws 11M parameters per build, which under ASan on a loaded machine passed the 20 s
  # timeout (in the allocator's quarantine, not in Lucid). Parameters are the capi and params
  # targets' business; this one fuzzes the parser, so a module past 24 MB is refused (NOMEM; libFuzzer itself allocates 21 MB at once).
  asan=$ASAN_OPTIONS
  [ "$t" = model_spec ] && asan=${asan/max_allocation_size_mb=64/max_allocation_size_mb=24}
  # -rss_limit_mb: the targets run only small graphs; a big allocation is a finding.
  ASAN_OPTIONS=$asan "$bin"/tests/fuzz/fuzz_"$t" "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t" \
    -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -malloc_limit_mb=2000000000 -max_len=4096 \
    -artifact_prefix="build-fuzz/findings/$t/" -print_final_stats=1 ${FUZZ_FLAGS:-} >"$log" 2>&1
  rc=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  # this run's findings only (earlier runs' stay in the folder until copied or removed), and the
  # time it really ran (SIGINT stops it early)
  crashes=$(find "build-fuzz/findings/$t" -type f -newer "$stamp" | wc -l)
  elapsed=$((SECONDS - started))
  # The pipeline target's last LUCID_FUZZ_STATS line (it prints one every 256 cases and at exit;
  # with -fork the children's lines do not reach the log: run without -fork to count).
  jit=$(grep -o '^pipeline: [0-9]* cases compared on the JIT; [0-9]* compiles' "$log" | tail -1 |
        awk '{printf " (%d cases compared on the JIT, %d compiles)", $2, $8}')
  line="$t: ${runs:-?} executions${jit} in ${elapsed}s (of ${seconds}s), exit $rc, $crashes new finding(s) in build-fuzz/findings/$t"
  echo "$line" | tee -a "$summary"
  [ "$rc" -ne 0 ] && status=1
done
exit $status
