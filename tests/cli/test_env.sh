# The environment (docs/environment.md): every unusable value gives exactly one line on
# stderr in Lucid's words, the default is used, and the run succeeds with the same output as
# a run without the variable. Each case is its own process, as the values are read once.
. "$(dirname "$0")/lib.sh"

X=$DATA/x_1234.npy
M='LPPool1d(2, 2)'
expect_ok run --module "$M" --input "$X" --out "$TMP/ref.npy"

# env_case VAR=VALUE EXPECTED-STDERR-LINE: lucidc run with VAR set, exit 0, that one line
# (only * is a wildcard), the reference output.
env_case() {
    local assign=$1 want=$2
    rm -f "$TMP/y.npy"
    run_lucidc_env "$assign" run --module "$M" --input "$X" --out "$TMP/y.npy"
    if [ "$RC" -ne 0 ]; then fail "$assign: lucidc exited $RC: $(cat "$TMP/err")"; return; fi
    local pat=${want//\[/\\[}
    pat=${pat//\]/\\]}
    pat=${pat//\?/\\?}
    # shellcheck disable=SC2053
    if [[ "$(cat "$TMP/err")" != $pat ]]; then
        fail "$assign: stderr\n  got  '$(cat "$TMP/err")'\n  want '$want'"
        return
    fi
    same_file "$TMP/y.npy" "$TMP/ref.npy"
}
run_lucidc_env() {
    local assign=$1
    shift
    env "$assign" "$LUCIDC" "$@" >"$TMP/out" 2>"$TMP/err"
    RC=$?
    CHECKS=$((CHECKS + 1))
}

T=$(uname -m)
if [ "$T" = x86_64 ]; then
    triple=x86_64-pc-linux-gnu
    # LLVM warned six times and then aborted on both before (exit 134).
    env_case LUCID_CPU=bogus-cpu 'lucid: LUCID_CPU=bogus-cpu is not a CPU that LLVM knows; using the host CPU'
    env_case LUCID_CPU=i386 "lucid: LUCID_CPU=i386 cannot compile code for $triple (64-bit code requested on a subtarget that doesn't support it!); using the host CPU"
    env_case 'LUCID_CPU_FEATURES=garbage!!' 'lucid: LUCID_CPU_FEATURES=garbage!! is not a feature list like "+avx2,-avx512f"; using the host CPU'
    env_case 'LUCID_CPU_FEATURES=+avx2,,+fma' 'lucid: LUCID_CPU_FEATURES=+avx2,,+fma is not a feature list like "+avx2,-avx512f"; using the host CPU'
    env_case LUCID_CPU_FEATURES=+sse2,+bogus-feature "lucid: LUCID_CPU_FEATURES=+sse2,+bogus-feature: bogus-feature is not a feature that LLVM knows for $triple; using the host CPU"
    # Soft-float calls nobody provides: a JIT session error before.
    env_case LUCID_CPU_FEATURES=-sse,-sse2,-x87 "lucid: LUCID_CPU_FEATURES=-sse,-sse2,-x87 cannot compile code for $triple (Symbols not found: [ *]); using the host CPU"
    # Usable values: silent.
    env_case LUCID_CPU=x86-64 ''
    env_case LUCID_CPU_FEATURES=+sse2,-avx ''
fi

# A host that owns LLVM: Lucid leaves LLVM's options and fatal-error handler alone, same output.
env_case LUCID_NO_LLVM_OPTIONS=1 ''

# LUCID_NUM_THREADS: one line, every core used.
cores=$(nproc)
for v in 0 -3 abc 1e9 2000; do
    env_case "LUCID_NUM_THREADS=$v" "lucid: LUCID_NUM_THREADS must be an integer between 1 and 1024, got \"$v\"; using $cores"
done

# LUCID_COMPILE_THREADS: a program's kernels compile on up to that many threads, and the code
# is the same whatever the count: a two-kernel program's assembly and IR with 1, 2 and 3 threads
# against the default's. An invalid value: one line, the default (the cores, at most 16).
two_kernels=(--module 'AvgPool1d(3, 1, 1)' --module 'LPPool1d(2, 4)' --backward --shape 2,3,64)
"$LUCIDC" dump "${two_kernels[@]}" --stage llvm,asm >"$TMP/code-ref" 2>"$TMP/err" ||
    fail "dump of two kernels: $(cat "$TMP/err")"
[ "$(grep -c '^define i32 @lc_kernel_' "$TMP/code-ref")" -eq 2 ] || fail "the dump has not two kernels"
for v in 1 2 3; do
    run_lucidc_env "LUCID_COMPILE_THREADS=$v" dump "${two_kernels[@]}" --stage llvm,asm
    if [ "$RC" -ne 0 ] || [ -s "$TMP/err" ]; then fail "LUCID_COMPILE_THREADS=$v: exit $RC: $(cat "$TMP/err")"; fi
    cmp -s "$TMP/out" "$TMP/code-ref" || fail "LUCID_COMPILE_THREADS=$v: the code differs from the default's"
done
compile_cores=$((cores < 16 ? cores : 16))
for v in 0 17 two -1; do
    env_case "LUCID_COMPILE_THREADS=$v" "lucid: LUCID_COMPILE_THREADS must be an integer between 1 and 16, got \"$v\"; using $compile_cores"
done

# LUCID_CHECK_BOUNDS: 1 checks every load against its buffer at run time (the same values),
# 0 or empty does not; anything else is one line and no checks.
env_case LUCID_CHECK_BOUNDS=1 ''
env_case LUCID_CHECK_BOUNDS=0 ''
for v in 2 yes; do
    env_case "LUCID_CHECK_BOUNDS=$v" "lucid: LUCID_CHECK_BOUNDS must be 0 or 1, got \"$v\"; loads stay unchecked"
done
run_lucidc_env LUCID_CHECK_BOUNDS=1 dump --module "$M" --shape 1,1,64 --stage llvm
grep -q 'bounds.trap' "$TMP/out" || fail "LUCID_CHECK_BOUNDS=1: the kernel has no bounds trap"
run_lucidc_env LUCID_CHECK_BOUNDS=0 dump --module "$M" --shape 1,1,64 --stage llvm
grep -q 'bounds.trap' "$TMP/out" && fail "LUCID_CHECK_BOUNDS=0: the kernel has a bounds trap"

# LUCID_TIERED: 0 compiles optimized at once, 1 (or empty) tiers; anything else is one line
# and tiers (the same values either way).
env_case LUCID_TIERED=0 ''
env_case LUCID_TIERED=1 ''
for v in 2 yes; do
    env_case "LUCID_TIERED=$v" "lucid: LUCID_TIERED must be 0 or 1, got \"$v\"; using 1"
done

# LUCID_CACHE_DIR: a file, a missing directory: one line, the cache off.
: >"$TMP/plain"
env_case "LUCID_CACHE_DIR=$TMP/plain" "lucid: LUCID_CACHE_DIR=$TMP/plain is not a directory; the disk cache is off"
env_case "LUCID_CACHE_DIR=$TMP/missing" "lucid: LUCID_CACHE_DIR=$TMP/missing does not exist; the disk cache is off"
[ -e "$TMP/missing" ] && fail "LUCID_CACHE_DIR=$TMP/missing was created"
if [ "$(id -u)" -ne 0 ]; then # root may write anywhere
    mkdir "$TMP/ro" && chmod 555 "$TMP/ro"
    env_case "LUCID_CACHE_DIR=$TMP/ro" "lucid: LUCID_CACHE_DIR=$TMP/ro is not a directory this process can write; the disk cache is off"
fi
# A FIFO at an entry's path: no hang (opening it blocked forever before), the entry recompiled.
mkdir "$TMP/cache"
env_case "LUCID_CACHE_DIR=$TMP/cache" ''
entry=$(ls "$TMP/cache"/*.lobj 2>/dev/null | head -n 1)
if [ -z "$entry" ]; then
    fail "no cache entry in $TMP/cache"
else
    rm "$entry" && mkfifo "$entry"
    rm -f "$TMP/y.npy"
    LUCID_CACHE_DIR=$TMP/cache timeout 240 "$LUCIDC" run --module "$M" --input "$X" --out "$TMP/y.npy" >"$TMP/out" 2>"$TMP/err"
    RC=$?
    CHECKS=$((CHECKS + 1))
    if [ "$RC" -ne 0 ]; then fail "FIFO cache entry: exited $RC (124: hung): $(cat "$TMP/err")"; fi
    [ -s "$TMP/err" ] && fail "FIFO cache entry: stderr: $(cat "$TMP/err")"
    same_file "$TMP/y.npy" "$TMP/ref.npy"
fi

finish
