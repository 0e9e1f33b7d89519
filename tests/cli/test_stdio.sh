# `-` as --input (stdin) and --out (stdout): byte-identical to the file-path results, through
# pipes (no seeking), with the summary then on stderr; the same for --grad-out / --grad-in.
. "$(dirname "$0")/lib.sh"

X=$DATA/ones_1x8x16.npy
G=$DATA/twos_1x8x4.npy
M='LPPool1d(2, 4)'
for engine in interp jit; do
    expect_ok run --module "$M" --input "$X" --out "$TMP/y.npy" --grad-out "$G" --grad-in "$TMP/gx.npy" --engine "$engine"
    # stdin from a pipe, stdout into a pipe.
    cat "$X" | "$LUCIDC" run --module "$M" --input - --out - --engine "$engine" 2>"$TMP/err" | cat >"$TMP/y_pipe.npy"
    [ "${PIPESTATUS[1]}" = 0 ] || fail "run --input - --out - ($engine) failed: $(cat "$TMP/err")"
    same_file "$TMP/y_pipe.npy" "$TMP/y.npy"
    same_file "$TMP/y_pipe.npy" "$DATA/twos_1x8x4.npy"
    # The summary went to stderr, naming stdin and stdout.
    grep -qxF "input    (stdin) f32 [1,8,16]" "$TMP/err" || fail "summary on stderr lacks the input line: $(cat "$TMP/err")"
    grep -qxF "output   f32 [1,8,4] -> (stdout)" "$TMP/err" || fail "summary on stderr lacks the output line: $(cat "$TMP/err")"
    # Redirections (stdin a regular file, stdout a regular file).
    "$LUCIDC" run --module "$M" --input - --out - --engine "$engine" <"$X" >"$TMP/y_redir.npy" 2>"$TMP/err" \
        || fail "run with redirections failed: $(cat "$TMP/err")"
    same_file "$TMP/y_redir.npy" "$TMP/y.npy"
    # The gradient: seed from stdin, GX to stdout, y to a file.
    cat "$G" | "$LUCIDC" run --module "$M" --input "$X" --out "$TMP/y2.npy" --grad-out - --grad-in - \
        --engine "$engine" 2>"$TMP/err" | cat >"$TMP/gx_pipe.npy"
    [ "${PIPESTATUS[1]}" = 0 ] || fail "run --grad-out - --grad-in - failed: $(cat "$TMP/err")"
    same_file "$TMP/gx_pipe.npy" "$TMP/gx.npy"
    same_file "$TMP/y2.npy" "$TMP/y.npy"
    grep -qxF "grad     seed (stdin) [1,8,4] -> (stdout) [1,8,16]" "$TMP/err" || fail "grad line: $(cat "$TMP/err")"
    # A path that is a pipe (process substitution): read without seeking.
    expect_ok run --module "$M" --input <(cat "$X") --out "$TMP/y3.npy" --engine "$engine"
    same_file "$TMP/y3.npy" "$TMP/y.npy"
done
# /dev/stdout is the process's stdout, written in place like -.
setup_devices
if [ -n "$DEV" ]; then
    "$LUCIDC" run --module "$M" --input "$X" --out "$DEV/stdout" 2>"$TMP/err" | cat >"$TMP/y_devstdout.npy"
    [ "${PIPESTATUS[0]}" = 0 ] || fail "run --out $DEV/stdout into a pipe failed: $(cat "$TMP/err")"
    same_file "$TMP/y_devstdout.npy" "$TMP/y.npy"
    "$LUCIDC" run --module "$M" --input "$X" --out "$DEV/stdout" >"$TMP/y_devstdout2.npy" 2>"$TMP/err" \
        || fail "run --out $DEV/stdout into a file failed: $(cat "$TMP/err")"
    same_file "$TMP/y_devstdout2.npy" "$TMP/y.npy"
    [ -L "$DEV/stdout" ] || fail "$DEV/stdout is no longer a symlink"
fi

# Errors name stdin; nothing reaches stdout.
printf 'not an array' | "$LUCIDC" run --module "$M" --input - --out - >"$TMP/o" 2>"$TMP/err"
[ $? = 2 ] || fail "bad stdin: exit $?"
grep -q '^lucidc: --input: stdin: not a .npy file' "$TMP/err" || fail "bad stdin message: $(cat "$TMP/err")"
[ ! -s "$TMP/o" ] || fail "a failed run wrote to stdout"
expect_error 2 "lucidc: --grad-out: stdin is already --input; only one of them can be -" \
    run --module "$M" --input - --grad-out - --grad-in "$TMP/g.npy" </dev/null
expect_error 2 "lucidc: --grad-in: '-' is also the --out file" \
    run --module "$M" --input "$X" --out - --grad-out "$G" --grad-in -

finish
