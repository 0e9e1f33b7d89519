#!/usr/bin/env bash
# Build the libFuzzer targets (tests/fuzz/fuzz_*.c) with clang, ASan and UBSan in build-fuzz/
# and run each for a bounded time, outside CI:
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]      (default 60 s, every target)
# FUZZ_FLAGS adds libFuzzer flags (e.g. "-fork=2 -ignore_crashes=1" to go on past a crash);
# LUCID_FUZZ_NO_JIT=1 makes the pipeline target check the interpreter alone.
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
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DLUCID_FUZZ=ON -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link $san" \
  -DCMAKE_EXE_LINKER_FLAGS="$san" >/dev/null || exit 2

if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for f in tests/fuzz/fuzz_*.c; do t=$(basename "$f" .c); targets+=("${t#fuzz_}"); done
fi
cmake --build build-fuzz -j"$(nproc)" --target "${targets[@]/#/fuzz_}" >/dev/null || exit 2

export ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
summary=build-fuzz/fuzz-summary.txt
: > "$summary"
status=0
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$t" "build-fuzz/findings/$t"
  log="build-fuzz/fuzz-$t.log"
  echo "fuzz.sh: $t for ${seconds}s (log $log)"
  # -rss_limit_mb: the targets run only small graphs; a big allocation is a finding.
  build-fuzz/tests/fuzz/fuzz_"$t" "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t" \
    -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -malloc_limit_mb=2000000000 -max_len=4096 \
    -artifact_prefix="build-fuzz/findings/$t/" -print_final_stats=1 ${FUZZ_FLAGS:-} >"$log" 2>&1
  rc=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  crashes=$(find "build-fuzz/findings/$t" -type f | wc -l)
  line="$t: ${runs:-?} executions in ${seconds}s, exit $rc, $crashes finding(s) in build-fuzz/findings/$t"
  echo "$line" | tee -a "$summary"
  [ "$rc" -ne 0 ] && status=1
done
exit $status
