# lucidc under `ulimit -v` (an address-space limit): from the smallest limit it starts at up
# to one that fits the whole run, every run exits 0, 1 or 2 and never by a signal; a failure
# prints one `lucidc:` line and writes no output file, and a success writes the same bytes as
# a run without a limit. Lucid's own allocations fail with a status; LLVM cannot, so a
# compile first checks that it has room (codegen's headroom) and the JIT's outputs are taken
# before it compiles. Below the start-up floor the dynamic loader itself cannot map libLLVM
# and its dependencies (exit 127, before any code of Lucid runs): that is measured here and
# not swept. Sanitizer builds reserve terabytes of shadow memory and valgrind runs its own
# allocator, so neither can run under `ulimit -v`: the test skips itself there (exit 77).
. "$(dirname "$0")/lib.sh"

skip_under_wrapper --sanitizer "ulimit -v does not apply"

# x: f32 (4, 16, 16384), 4 MiB of zeros after its header; seed: AvgPool1d(2)'s output shape.
npy_zeros() { # FILE SHAPE-TEXT ELEMENTS
    local dict="{'descr': '<f4', 'fortran_order': False, 'shape': ($2), }"
    local pad=$(( 63 - (10 + ${#dict}) % 64 ))
    local header
    header="$dict$(printf '%*s' "$pad" '')"
    local len=$(( ${#header} + 1 ))
    { printf '\223NUMPY\001\000'; printf "\\$(printf '%03o' $((len & 255)))\\$(printf '%03o' $((len >> 8)))";
      printf '%s\n' "$header"; head -c $(( $3 * 4 )) /dev/zero; } >"$1"
}
X=$TMP/x.npy
G=$TMP/g.npy
npy_zeros "$X" '4, 16, 16384' $((4 * 16 * 16384))
npy_zeros "$G" '4, 16, 8192' $((4 * 16 * 8192))
M='AvgPool1d(2)'

# What a run gives with no limit.
for engine in jit interp; do
    expect_ok run --module "$M" --input "$X" --grad-out "$G" --out "$TMP/y_$engine.npy" \
        --grad-in "$TMP/gx_$engine.npy" --engine "$engine"
done

# The smallest limit (KiB) at which `lucidc --version` starts, to 1 MiB.
starts() { ( (ulimit -v "$1" && exec "$LUCIDC" --version) >/dev/null 2>&1; rc=$?; exit $rc ) 2>/dev/null; }
lo=16384 hi=4194304
starts "$hi" || { fail "lucidc does not start even under ulimit -v $hi"; finish; }
while [ $((hi - lo)) -gt 1024 ]; do
    mid=$(((lo + hi) / 2))
    if starts "$mid"; then hi=$mid; else lo=$mid; fi
done
floor=$hi
echo "note: lucidc starts from ulimit -v $floor KiB" >&2

# sweep ENGINE FROM STEP TO (KiB above the floor): runs at floor + FROM, + STEP, ... up to TO.
sweep() {
    local engine=$1 from=$2 step=$3 span=$4 limit rc lines twice ok=0 clean=0
    for ((limit = floor + from; limit <= floor + span; limit += step)); do
        rm -f "$TMP/y.npy" "$TMP/gx.npy"
        (ulimit -v "$limit" && exec "$LUCIDC" run --module "$M" --input "$X" --grad-out "$G" \
            --out "$TMP/y.npy" --grad-in "$TMP/gx.npy" --engine "$engine") >/dev/null 2>"$TMP/err"
        rc=$?
        CHECKS=$((CHECKS + 1))
        case $rc in
        0)
            ok=$((ok + 1))
            same_file "$TMP/y.npy" "$TMP/y_$engine.npy"
            same_file "$TMP/gx.npy" "$TMP/gx_$engine.npy"
            ;;
        1 | 2)
            clean=$((clean + 1))
            lines=$(wc -l <"$TMP/err")
            [ "$lines" = 1 ] && grep -q '^lucidc: ' "$TMP/err" ||
                fail "$engine under ulimit -v $limit: exit $rc with $lines stderr lines: $(head -c 400 "$TMP/err")"
            twice=$(repeated_context "$(cat "$TMP/err")")
            [ -z "$twice" ] || fail "$engine under ulimit -v $limit: '$twice' twice in: $(cat "$TMP/err")"
            [ ! -e "$TMP/y.npy" ] && [ ! -e "$TMP/gx.npy" ] ||
                fail "$engine under ulimit -v $limit: exit $rc but an output was written"
            ;;
        *) fail "$engine under ulimit -v $limit: exit $rc: $(head -c 400 "$TMP/err")" ;;
        esac
    done
    echo "note: $engine: $ok runs succeeded, $clean failed cleanly (limits $((floor + from))..$((floor + span)) KiB)" >&2
    SWEPT_OK=$((SWEPT_OK + ok))
    SWEPT_CLEAN=$((SWEPT_CLEAN + clean))
}
# The JIT's run needs x, y, seed and dx (12 MiB) and the compile's headroom (32 MiB) beyond
# the floor, and LLVM's own window (where a compile without the headroom check ended the
# process) is 2 to 3 MiB wide: 1 MiB steps up to 48 MiB, then coarser. The interpreter holds
# each value in 16 bytes (its wide exponent).
for engine in jit interp; do
    SWEPT_OK=0 SWEPT_CLEAN=0
    if [ $engine = jit ]; then
        sweep jit 0 1024 $((48 * 1024))
        sweep jit $((52 * 1024)) 4096 $((96 * 1024))
    else
        sweep interp 0 16384 $((256 * 1024))
    fi
    [ "$SWEPT_OK" -gt 0 ] || fail "$engine: no run fitted under the largest limit"
    [ "$SWEPT_CLEAN" -gt 0 ] || fail "$engine: every run fitted from the floor on: the sweep tests nothing"
done
finish
