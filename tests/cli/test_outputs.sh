# lucidc run's outputs: nothing is written until everything has succeeded; targets that are
# not regular files (symlink: written through; character device: in place; directory, FIFO:
# refused); temporaries removed on failure and on SIGTERM/SIGINT, and a SIGKILL's leftovers
# removed by the next run that writes the same file.
. "$(dirname "$0")/lib.sh"

X=$DATA/ones_1x8x16.npy
G=$DATA/twos_1x8x4.npy
WANT_Y=$DATA/twos_1x8x4.npy
M='LPPool1d(2, 4)'
mkdir -p "$TMP/o"
setup_devices
# leftovers DIR: files other than the listed ones.
only() {
    local dir=$1
    shift
    local want have
    want=$(printf '%s\n' "$@" | sort)
    have=$(ls -A "$dir" | sort)
    [ "$have" = "$want" ] || fail "$dir holds '$(echo $have)', want '$(echo $want)'"
}

# --grad-in into a missing directory: exit 2 before --out exists.
expect_error 2 "lucidc: --grad-in: $TMP/o/nodir/gx.npy: directory '$TMP/o/nodir' does not exist" \
    run --module "$M" --input "$X" --out "$TMP/o/y.npy" --grad-out "$G" --grad-in "$TMP/o/nodir/gx.npy"
only "$TMP/o"
# ... and an existing --out stays as it was.
printf 'old' >"$TMP/o/y.npy"
expect_error 2 "lucidc: --grad-in: *" \
    run --module "$M" --input "$X" --out "$TMP/o/y.npy" --grad-out "$G" --grad-in "$TMP/o/nodir/gx.npy"
[ "$(cat "$TMP/o/y.npy")" = old ] || fail "a failing run changed the existing --out"
only "$TMP/o" y.npy
rm -f "$TMP/o/y.npy"

# An output whose directory cannot take a new file leaves no earlier output: a path under a
# regular file, /proc (which refuses new files even to root), and, where the test does not run
# as root, a directory without write permission.
touch "$TMP/plain"
expect_error 2 "lucidc: --grad-in: $TMP/plain/gx.npy: Not a directory" \
    run --module "$M" --input "$X" --out "$TMP/o/y.npy" --grad-out "$G" --grad-in "$TMP/plain/gx.npy"
only "$TMP/o"
if [ -d /proc/self ]; then
    expect_error 2 "lucidc: --grad-in: /proc/gx.npy: cannot write: *" \
        run --module "$M" --input "$X" --out "$TMP/o/y.npy" --grad-out "$G" --grad-in /proc/gx.npy
    only "$TMP/o"
fi
if [ "$(id -u)" != 0 ]; then
    mkdir "$TMP/ro" && chmod 555 "$TMP/ro"
    expect_error 2 "lucidc: --grad-in: $TMP/ro/gx.npy: *" \
        run --module "$M" --input "$X" --out "$TMP/o/y.npy" --grad-out "$G" --grad-in "$TMP/ro/gx.npy"
    only "$TMP/o"
    only "$TMP/ro"
fi

# A later output that fails while being written (a full device) leaves no earlier file.
if [ -n "$DEV" ]; then
    expect_error 2 "lucidc: --grad-in: $DEV/full: cannot write: No space left on device" \
        run --module "$M" --input "$X" --out "$TMP/o/y.npy" --grad-out "$G" --grad-in "$DEV/full"
    only "$TMP/o"
    [ -c "$DEV/full" ] || fail "$DEV/full is no longer a character device"
fi

# A symlink: the file it points to is replaced, the link stays (also through a relative link
# into another directory, where the temporary is made).
mkdir -p "$TMP/o/real"
printf 'old' >"$TMP/o/real/target.npy"
chmod 640 "$TMP/o/real/target.npy"
ln -s real/target.npy "$TMP/o/link.npy"
expect_ok run --module "$M" --input "$X" --out "$TMP/o/link.npy"
[ -L "$TMP/o/link.npy" ] || fail "--out replaced the symlink"
same_file "$TMP/o/real/target.npy" "$WANT_Y"
[ "$(stat -c %a "$TMP/o/real/target.npy")" = 640 ] || fail "--out changed the target's permissions"
only "$TMP/o" link.npy real
only "$TMP/o/real" target.npy
# A symlink to a file that does not exist yet is refused, as cp does.
ln -s real/absent.npy "$TMP/o/dangling.npy"
expect_error 2 "lucidc: --out: $TMP/o/dangling.npy: is a dangling symlink; not writing through it" \
    run --module "$M" --input "$X" --out "$TMP/o/dangling.npy"
rm -f "$TMP/o/dangling.npy"

# A character device is written in place: /dev/null works and stays a device.
if [ -n "$DEV" ]; then
    expect_ok run --module "$M" --input "$X" --out "$DEV/null" --grad-out "$G" --grad-in "$DEV/null"
    [ -c "$DEV/null" ] || fail "$DEV/null is no longer a character device"
    expect_out_line "output   f32 [1,8,4] -> $DEV/null"
    # Also through a symlink to the device.
    ln -s "$DEV/null" "$TMP/o/null_link"
    expect_ok run --module "$M" --input "$X" --out "$TMP/o/null_link"
    [ -L "$TMP/o/null_link" ] && [ -c "$DEV/null" ] || fail "--out through a link to a device replaced something"
    rm -f "$TMP/o/null_link"
fi

# A directory or a FIFO is refused, at once (no hang waiting for a reader).
expect_error 2 "lucidc: --out: $TMP/o/real: is a directory, expected a file name" \
    run --module "$M" --input "$X" --out "$TMP/o/real"
mkfifo "$TMP/o/fifo"
timeout 20 "$LUCIDC" run --module "$M" --input "$X" --out "$TMP/o/fifo" >"$TMP/out" 2>"$TMP/err"
rc=$?
[ "$rc" = 2 ] || fail "--out FIFO: exit $rc, want 2 (124 = hung): $(cat "$TMP/err")"
grep -qxF "lucidc: --out: $TMP/o/fifo: is a FIFO; write to a regular file, a character device or - (stdout)" "$TMP/err" \
    || fail "--out FIFO message: $(cat "$TMP/err")"
[ -p "$TMP/o/fifo" ] || fail "the FIFO was replaced"
rm -f "$TMP/o/fifo"
only "$TMP/o" link.npy real

# The signal checks send signals to the lucidc process and look for files named after its
# PID, so they need lucidc itself, not a wrapper script around it (the valgrind pass of
# scripts/test.sh runs a wrapper; the plain and sanitizer builds run them).
if [ "$(head -c 2 "$LUCIDC")" != '#!' ]; then
    # Interrupted while its temporaries exist (LUCIDC_TEST_HOLD_MS holds them before the rename):
    # SIGTERM and SIGINT remove them and the process dies by the signal; nothing else is left.
    for sig in TERM INT; do
        mkdir -p "$TMP/s"
        # set -m: a background job of a non-interactive shell would otherwise ignore SIGINT.
        set -m
        LUCIDC_TEST_HOLD_MS=20000 "$LUCIDC" run --module "$M" --input "$X" --out "$TMP/s/y.npy" \
            --grad-out "$G" --grad-in "$TMP/s/gx.npy" >/dev/null 2>"$TMP/err" &
        pid=$!
        set +m
        for _ in $(seq 200); do
            [ "$(ls "$TMP/s" | grep -c '\.tmp-')" = 2 ] && break
            sleep 0.05
        done
        [ "$(ls "$TMP/s" | grep -c "\.tmp-$pid-")" = 2 ] || fail "no temporaries to interrupt: $(ls -A "$TMP/s")"
        kill -"$sig" "$pid"
        wait "$pid"
        rc=$?
        want=$((128 + $(kill -l "$sig")))
        [ "$rc" = "$want" ] || fail "SIG$sig: exit $rc, want $want: $(cat "$TMP/err")"
        only "$TMP/s"
        rm -rf "$TMP/s"
    done

    # SIGKILL cannot be caught: its temporaries stay, and the next run writing the same files
    # removes them (and only those of dead processes: a live one's stays).
    mkdir -p "$TMP/k"
    LUCIDC_TEST_HOLD_MS=20000 "$LUCIDC" run --module "$M" --input "$X" --out "$TMP/k/y.npy" >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 200); do
        [ -e "$TMP/k/y.npy.tmp-$pid-0" ] && break
        sleep 0.05
    done
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null
    [ -e "$TMP/k/y.npy.tmp-$pid-0" ] || fail "no SIGKILL leftover to clean: $(ls -A "$TMP/k")"
    sleep 1000 &
    alive=$!
    printf 'live' >"$TMP/k/y.npy.tmp-$alive-0"
    printf 'other' >"$TMP/k/z.npy.tmp-999999999-0"
    expect_ok run --module "$M" --input "$X" --out "$TMP/k/y.npy"
    same_file "$TMP/k/y.npy" "$WANT_Y"
    only "$TMP/k" y.npy "y.npy.tmp-$alive-0" z.npy.tmp-999999999-0
    kill "$alive"

else
    echo "note: $LUCIDC is a wrapper script; the signal checks are skipped" >&2
fi

# The hook is checked like any other input.
mkdir -p "$TMP/k"
LUCIDC_TEST_HOLD_MS=soon expect_error 2 "lucidc: LUCIDC_TEST_HOLD_MS: expected milliseconds between 0 and 60000, got 'soon'" \
    run --module "$M" --input "$X" --out "$TMP/k/w.npy"
[ ! -e "$TMP/k/w.npy" ] || fail "a bad LUCIDC_TEST_HOLD_MS still wrote --out"

finish
