# SIGKILL while lucidc writes a large --out: the process cannot clean up, yet the final name
# never holds a partial file. Each result is written in full to a temporary name beside it,
# synced, and only then renamed, so after the kill y.npy is either absent (and the temporary
# is what is left, removed by the next run) or the whole result. The kill lands at several
# points: as soon as the temporary has its first bytes, and at staggered delays.
. "$(dirname "$0")/lib.sh"

skip_under_wrapper "the kill must reach lucidc itself"

# x: f32 (1, 4, 4M) of ones, 64 MiB of data; AvgPool1d(1) returns it as it is.
npy_ones() { # FILE SHAPE-TEXT ELEMENTS
    local dict="{'descr': '<f4', 'fortran_order': False, 'shape': ($2), }"
    local pad=$(( 63 - (10 + ${#dict}) % 64 ))
    local header
    header="$dict$(printf '%*s' "$pad" '')"
    local len=$(( ${#header} + 1 ))
    { printf '\223NUMPY\001\000'; printf "\\$(printf '%03o' $((len & 255)))\\$(printf '%03o' $((len >> 8)))";
      printf '%s\n' "$header"; head -c $(( $3 * 4 )) /dev/zero | tr '\000' '\001'; } >"$1"
}
X=$TMP/x.npy
npy_ones "$X" '1, 4, 4194304' $((4 * 4194304))
M='AvgPool1d(1)'
expect_ok run --module "$M" --input "$X" --out "$TMP/want.npy" --engine interp || finish
cmp -s "$TMP/want.npy" "$X" || fail "AvgPool1d(1) did not return its input"

mid_write=0
for delay in first 0.05 0.1 0.2 0.4 0.8; do
    rm -rf "$TMP/k"
    mkdir -p "$TMP/k"
    "$LUCIDC" run --module "$M" --input "$X" --out "$TMP/k/y.npy" --engine interp >/dev/null 2>&1 &
    pid=$!
    if [ "$delay" = first ]; then
        # busy-wait for the temporary's first bytes, then kill at once
        for _ in $(seq 200000); do
            [ -s "$TMP/k/y.npy.tmp-$pid-0" ] && break
            kill -0 "$pid" 2>/dev/null || break
        done
    else
        sleep "$delay"
    fi
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    CHECKS=$((CHECKS + 1))
    if [ -e "$TMP/k/y.npy" ]; then
        cmp -s "$TMP/k/y.npy" "$TMP/want.npy" || fail "killed after $delay: y.npy is there but not whole ($(stat -c %s "$TMP/k/y.npy") bytes of $(stat -c %s "$TMP/want.npy"))"
    fi
    tmp=$TMP/k/y.npy.tmp-$pid-0
    if [ -e "$tmp" ]; then
        [ -e "$TMP/k/y.npy" ] && fail "killed after $delay: both y.npy and its temporary exist"
        [ "$(stat -c %s "$tmp")" -lt "$(stat -c %s "$TMP/want.npy")" ] && mid_write=$((mid_write + 1))
        # the next run writing y.npy removes the dead process's temporary
        expect_ok run --module "$M" --input "$X" --out "$TMP/k/y.npy" --engine interp
        same_file "$TMP/k/y.npy" "$TMP/want.npy"
        [ "$(ls -A "$TMP/k")" = y.npy ] || fail "after the next run $TMP/k holds: $(ls -A "$TMP/k")"
    fi
done
# the first-bytes kill lands inside the write unless the whole 64 MiB went out between two
# polls; a machine that fast proves nothing here, so say so rather than pass silently
[ "$mid_write" -gt 0 ] || echo "note: no kill landed inside the write (the file was always whole or absent)" >&2
echo "note: $mid_write of 6 kills landed inside the write" >&2
finish
