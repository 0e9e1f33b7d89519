#!/usr/bin/env bash
# Build and run every test, three ways (so that no bad input crashes, leaks or corrupts):
#   1. build/       warnings as errors; the whole ctest suite (which includes the fuzz corpus
#                   replays, tests/fuzz/);
#   2. build-asan/  -DLUCID_SANITIZE=ON (AddressSanitizer + UndefinedBehaviorSanitizer, leaks
#                   included); the whole suite again but for most reruns of a test under
#                   another setting (label "rerun", below);
#   3. valgrind memcheck over the command-line tests (tests/cli/test_*.sh) that run
#                   kernels, against build/lucidc: no invalid access, no bytes definitely or
#                   possibly lost (memcheck's default leak kinds: the pool's threads and the
#                   JITs the compile cache holds are freed at exit, see pool.c and cache.c).
#                   memcheck is the only check that sees the JIT's own loads and stores (ASan
#                   instruments Lucid's C, not the code LLVM emits at run time). The tests of
#                   options, usage text, environment variables and dump text (VG_SKIP below)
#                   run only in steps 1 and 2: they run the same kernels as the others, and
#                   every lucidc start under memcheck costs seconds (libLLVM's start-up), so
#                   they were a third of this step's time and kept .ci/run past 30 minutes;
#   4. build-tsan/  clang -fsanitize=thread (LUCID_SANITIZE_THREAD), four tests: test_concurrency
#                   (one program run from 8 threads while others compile, clear the cache and
#                   change the thread count), test_fixup_lazy (runs that flag a window at
#                   once, compiling the fix-up form once), test_thread_pool (jobs posted to
#                   workers that spin, sleep or are being replaced) and test_tier (runs from
#                   several threads while a background compile swaps the code under them,
#                   programs freed during it); any data race fails them.
#                   Only the library, the test support code and those tests are built (about
#                   2 minutes).
# Step 3 needs only build/lucidc, and valgrind runs one thread, so it starts as soon as build/
# is built and runs beside the two ctest runs and the ASan build. For time (.ci/run must stay
# under 30 minutes on 2 cores) memcheck's uninitialised-value tracking is off and the runs
# share an on-disk compile cache that the same tests fill first without valgrind (a few
# seconds; compiling under memcheck took most of this step's 45 minutes of one core): the
# kernels then run under memcheck as loaded from the cache. For the cache's keys to match, both
# runs name the target (LUCID_CPU=x86-64-v3 and its features, where the host has AVX2 and a
# test names no CPU itself): under valgrind LLVM sees another CPU (valgrind's CPUID reports
# fewer features, and never AVX-512), so the host's own keys never matched. Lucid's compile
# path itself runs under ASan in step 2, and so does the interpreter, whose runs
# (`--engine interp`) this step leaves to run natively: every lucidc start costs ~3 s under
# memcheck (libLLVM's static initialisers), and they were half of some tests' starts.
# LUCID_TEST_QUICK=1 runs step 1 only. Step times are printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=$(nproc)
times=()
t0=$SECONDS
start=$SECONDS
vg_pid=
lap() { times+=("$(printf '%-34s %4ds (at %ds)' "$1" $((SECONDS - start)) $((SECONDS - t0)))"); start=$SECONDS; }
finish() {
  if [ -n "$vg_pid" ]; then pkill -P "$vg_pid" 2>/dev/null; kill "$vg_pid" 2>/dev/null; fi
  printf 'test.sh: %s\n' "${times[@]}"
}
trap finish EXIT

scripts/build.sh -DLUCID_WERROR=ON
lap "build (gcc, -Werror)"
if [ "${LUCID_TEST_QUICK:-0}" = 1 ]; then
  ctest --test-dir build --output-on-failure -j"$jobs"
  lap "ctest build/"
  exit 0
fi

# 3, in the background: the command-line tests take the lucidc to run as their first argument,
# so they get a wrapper that runs build/lucidc under memcheck and keeps a log of every run that
# had an error (valgrind's exit 99, whatever lucidc itself returned). The child that checks a
# LUCID_CPU (src/codegen/target.c) is not reported on: for a refused CPU it ends inside LLVM's
# fatal-error path by design, with everything it made still allocated.
vg=$root/build/valgrind
rm -rf "$vg"
mkdir -p "$vg/cache" "$vg/warm"
pin=
if grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo && grep -qw bmi2 /proc/cpuinfo &&
   grep -qw movbe /proc/cpuinfo && grep -qw f16c /proc/cpuinfo; then
  pin='if [ -z "${LUCID_CPU+set}" ]; then
  export LUCID_CPU=x86-64-v3 LUCID_CPU_FEATURES=+avx,+avx2,+fma,+f16c,+bmi,+bmi2,+lzcnt,+movbe
fi'
fi
# the native run that fills the cache first: the same environment, no valgrind
cat >"$vg/warm/lucidc" <<WRAPPER
#!/usr/bin/env bash
$pin
LUCID_CACHE_DIR="\${LUCID_CACHE_DIR-$vg/cache}" exec "$root/build/lucidc" "\$@"
WRAPPER
chmod +x "$vg/warm/lucidc"
cat >"$vg/lucidc" <<WRAPPER
#!/usr/bin/env bash
$pin
# the interpreter is Lucid's C alone, which step 2 runs under ASan: natively here
case " \$* " in *" --engine interp "* | *" --engine=interp "*) exec "$vg/warm/lucidc" "\$@" ;; esac
log=\$(mktemp "$vg/run.XXXXXX")
LUCID_CACHE_DIR="\${LUCID_CACHE_DIR-$vg/cache}" \\
valgrind --quiet --error-exitcode=99 --leak-check=full --undef-value-errors=no \\
  --child-silent-after-fork=yes --log-file="\$log.log" \\
  "$root/build/lucidc" "\$@"
rc=\$?
if [ \$rc -eq 99 ]; then printf 'command: lucidc %s\n' "\$*" >>"\$log.log"; else rm -f "\$log.log"; fi
rm -f "\$log"
exit \$rc
WRAPPER
chmod +x "$vg/lucidc"
VG_SKIP=" test_help test_options test_env test_dump "
VG_FIRST="test_maxpool_torch"
# Each test's exit code goes to a file, and the pass waits for all of them at once: `wait PID`
# on a test that ended long before can fail with "not a child of this shell", because bash
# forgets an ended child's status when it forks another process that gets the same pid, and a
# CI run goes round the 32768 pids several times.
valgrind_pass() {
  local names=() failed=0 t
  # The cache first, one test after another (their own failures show in the pass below).
  for t in $(ls -S tests/cli/test_*.sh); do
    case "$VG_SKIP" in *" $(basename "$t" .sh) "*) continue ;; esac
    bash "$t" "$vg/warm/lucidc" >/dev/null 2>&1 || true
  done
  # Longest first, so the two slots finish close together: by size, but for the tests that
  # run many short lucidc commands from a helper script (each start costs ~3 s under memcheck,
  # libLLVM's static initialisers), which are short files.
  for t in $(for n in $VG_FIRST; do echo "tests/cli/$n.sh"; done; ls -S tests/cli/test_*.sh); do
    local name
    name=$(basename "$t" .sh)
    case "$VG_SKIP" in *" $name "*) continue ;; esac
    case " ${names[*]} " in *" $name "*) continue ;; esac # a VG_FIRST test, met again by size
    (
      rc=0
      bash "$t" "$vg/lucidc" >"$vg/$name.out" 2>&1 || rc=$?
      echo "$rc" >"$vg/$name.rc"
    ) &
    names+=("$name")
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do sleep 0.2; done
  done
  wait
  for name in "${names[@]}"; do
    local rc
    rc=$(cat "$vg/$name.rc" 2>/dev/null || echo "no exit code")
    # 77 is a test that skips itself (test_self_contained outside a git checkout).
    if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
      echo "valgrind pass: $name failed ($rc):"
      cat "$vg/$name.out"
      failed=1
    fi
  done
  for log in "$vg"/run.*.log; do
    [ -e "$log" ] || continue
    echo "valgrind pass: memcheck errors ($log):"
    cat "$log"
    failed=1
  done
  return $failed
}
( rc=0; valgrind_pass >"$vg/summary.txt" 2>&1 || rc=$?; echo "$rc" >"$vg/status" ) &
vg_pid=$!

ctest --test-dir build --output-on-failure -j"$jobs"
lap "ctest build/"

# 2. Sanitizers. A failed huge allocation must come back as NULL (the limits tests check the
# library reports it), not abort the process.
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLUCID_WERROR=ON -DLUCID_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
lap "build-asan (ASan + UBSan)"
# The reruns of a test under another setting (label "rerun", tests/CMakeLists.txt) are skipped
# here: what they change is the code LLVM emits, which ASan does not instrument (valgrind and
# step 1 run it), and they were a quarter of this step's time, which kept .ci/run near 30
# minutes. One rerun of each setting is left unlabelled, so its C paths still run under ASan.
ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1:strict_string_checks=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs" --label-exclude rerun
lap "ctest build-asan/"

# 4. ThreadSanitizer (clang: scripts/setup.sh --ci installs it). No suppressions are needed:
# libLLVM is not instrumented, so TSan sees only Lucid's own accesses (and every lock).
if ! command -v clang >/dev/null; then
  echo "test.sh: clang is missing for the ThreadSanitizer step (run scripts/setup.sh --ci)" >&2
  exit 1
fi
CC=clang cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLUCID_WERROR=ON \
  -DLUCID_SANITIZE_THREAD=ON >/dev/null
cmake --build build-tsan -j"$jobs" --target test_concurrency test_fixup_lazy test_thread_pool test_tier
lap "build-tsan (TSan, four tests)"
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 build-tsan/tests/test_concurrency
# concurrent runs whose first flagged window compiles the fix-up form: once, under one lock
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 build-tsan/tests/test_fixup_lazy
# the pool's spinning hand-off: jobs posted while workers spin, sleep or are replaced
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 build-tsan/tests/test_thread_pool
# a background compile of the optimized tier publishing its code while runs start
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 build-tsan/tests/test_tier
lap "test_concurrency, test_fixup_lazy, test_thread_pool and test_tier under TSan"

wait # the valgrind pass, this shell's one background job (its status in a file, as above)
vg_pid=
vg_status=$(cat "$vg/status" 2>/dev/null || echo "no exit code")
lap "valgrind over tests/cli (rest)"
if [ "$vg_status" != 0 ]; then
  cat "$vg/summary.txt" >&2
  echo "test.sh: the valgrind pass failed" >&2
  exit 1
fi
echo "test.sh: all passed (build/, build-asan/, valgrind over tests/cli)"
