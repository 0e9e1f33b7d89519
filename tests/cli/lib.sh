# Helpers for the lucidc end-to-end tests (sourced by tests/cli/test_*.sh, which ctest runs as
# `bash script <path-to-lucidc>`; exit 0 = pass). Not a test itself.
set -u
LUCIDC=${1:?usage: test_X.sh path/to/lucidc}
case $LUCIDC in /*) ;; *) LUCIDC=$PWD/$LUCIDC ;; esac
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DATA=$HERE/../data/cli
CONFORMANCE=$HERE/../conformance
TMP=$(mktemp -d "${TMPDIR:-/tmp}/lucidc-test.XXXXXX")
FAILS=0
# A script that ends without calling finish still fails if anything failed (exit status 1).
on_exit() {
    local rc=$?
    rm -rf "$TMP"
    if [ "$rc" -eq 0 ] && [ "$FAILS" -ne 0 ]; then
        echo "$FAILS failures (the script ended without finish)" >&2
        exit 1
    fi
    exit "$rc"
}
trap on_exit EXIT
CHECKS=0

fail() {
    echo "FAIL: $*" >&2
    FAILS=$((FAILS + 1))
}

# skip_under_wrapper [--sanitizer] WHY: exit 77 (ctest's skip) when $LUCIDC is a wrapper script
# (the valgrind pass runs lucidc under memcheck through one) or, with --sanitizer, a sanitizer
# build; WHY says what does not hold there.
skip_under_wrapper() {
    local sanitizer=false
    if [ "$1" = --sanitizer ]; then sanitizer=true; shift; fi
    if [ "$(head -c 2 "$LUCIDC")" = '#!' ]; then
        echo "skip: $LUCIDC is a wrapper script; $1" >&2
        exit 77
    fi
    if $sanitizer && ldd "$LUCIDC" 2>/dev/null | grep -qE 'lib(asan|tsan|hwasan)'; then
        echo "skip: $LUCIDC is a sanitizer build; $1" >&2
        exit 77
    fi
}

# run_lucidc ARGS...: runs lucidc, stdout in $TMP/out, stderr in $TMP/err, status in $RC.
run_lucidc() {
    "$LUCIDC" "$@" >"$TMP/out" 2>"$TMP/err"
    RC=$?
    CHECKS=$((CHECKS + 1))
}

# expect_ok ARGS...: exit 0 and nothing on stderr.
expect_ok() {
    run_lucidc "$@"
    if [ "$RC" -ne 0 ]; then fail "lucidc $* exited $RC: $(cat "$TMP/err")"; return 1; fi
    if [ -s "$TMP/err" ]; then fail "lucidc $* wrote to stderr: $(cat "$TMP/err")"; return 1; fi
    return 0
}

# repeated_context TEXT: the context TEXT gives twice in a row ("interp: interp: ...", at the
# start or after a ": "), or nothing.
repeated_context() {
    local re='(^|: )([^:]+): \2: '
    [[ "$1" =~ $re ]] && echo "${BASH_REMATCH[2]}"
}

# expect_error CODE PATTERN ARGS...: exit CODE and exactly one stderr line equal to PATTERN,
# where * matches anything (used only for text the library words, e.g. .npy reasons).
expect_error() {
    local code=$1 pattern=$2
    shift 2
    run_lucidc "$@"
    if [ "$RC" -ne "$code" ]; then fail "lucidc $* exited $RC, want $code (stderr: $(cat "$TMP/err"))"; return 1; fi
    local lines
    lines=$(wc -l <"$TMP/err")
    if [ "$lines" -ne 1 ]; then fail "lucidc $*: $lines stderr lines, want 1: $(cat "$TMP/err")"; return 1; fi
    local err pat
    err=$(cat "$TMP/err")
    # Only * is a wildcard: [ ] ? are literal (shapes print as [1,1,2]).
    pat=${pattern//\[/\\[}
    pat=${pat//\]/\\]}
    pat=${pat//\?/\\?}
    # shellcheck disable=SC2053
    if [[ "$err" != $pat ]]; then fail "lucidc $*: stderr\n  got  '$err'\n  want '$pattern'"; return 1; fi
    local twice
    twice=$(repeated_context "$err")
    if [ -n "$twice" ]; then fail "lucidc $*: stderr gives '$twice' twice: '$err'"; return 1; fi
    return 0
}

# expect_out_has TEXT: $TMP/out holds TEXT as a whole line (fixed string).
expect_out_line() {
    grep -qxF -- "$1" "$TMP/out" || fail "stdout lacks the line '$1'; it was: $(head -c 600 "$TMP/out")"
}

# expect_out_match REGEX: some stdout line matches the extended regex.
expect_out_match() {
    grep -qE -- "$1" "$TMP/out" || fail "stdout has no line matching /$1/; it was: $(head -c 600 "$TMP/out")"
}

# same_file A B: byte-identical.
same_file() {
    cmp -s "$1" "$2" || fail "$1 and $2 differ"
}

# setup_devices: DEV names a directory holding null, full (character devices) and stdout (a
# link to the process's stdout), or is empty when none can be had safely. As root, a lucidc
# that wrongly replaced its --out target would replace the system's /dev/null, so private
# nodes of the same devices are made in $TMP; without root, /dev itself is safe to use.
setup_devices() {
    DEV=/dev
    [ "$(id -u)" = 0 ] || return 0
    DEV=$TMP/dev
    mkdir -p "$DEV"
    if ! mknod -m 666 "$DEV/null" c 1 3 2>/dev/null || ! mknod -m 666 "$DEV/full" c 1 7 2>/dev/null; then
        echo "note: cannot make device nodes as root here; device checks skipped" >&2
        DEV=
        return 0
    fi
    ln -s /proc/self/fd/1 "$DEV/stdout"
}

finish() {
    if [ "$FAILS" -ne 0 ]; then
        echo "$FAILS failures in $CHECKS lucidc runs" >&2
        exit 1
    fi
    echo "ok: $CHECKS lucidc runs checked"
    exit 0
}
