# lucidc run --indices: a max pool's indices (PyTorch's return_indices) as an int64 .npy on both
# engines, pinned by hand on small inputs; the bad paths (return_indices=True in a spec, a model
# that is not one max pool, the file named twice) each fail in one line and write nothing.
# (PyTorch's indices on many shapes: test_maxpool_torch.sh and the conformance cases.)
. "$(dirname "$0")/lib.sh"

# The last N int64 values of a .npy file, one per line.
tail_i64() { tail -c $((8 * $2)) "$1" | od -An -v -t d8 | tr -s ' ' '\n' | sed '/^$/d'; }

for engine in jit interp; do
    # [1 2 3 4], MaxPool1d(2): windows [1 2] and [3 4] -> positions 1 and 3
    expect_ok run --module 'MaxPool1d(2)' --input "$DATA/x_1234.npy" --indices "$TMP/i.npy" --engine "$engine"
    expect_out_line "indices  int64 [1,1,2] -> $TMP/i.npy"
    grep -aq "'descr': '<i8', 'fortran_order': False, 'shape': (1, 1, 2), }" "$TMP/i.npy" || fail "$engine: not an int64 (1, 1, 2) header"
    [ "$(tail_i64 "$TMP/i.npy" 2 | tr '\n' ' ')" = "1 3 " ] || fail "$engine: indices $(tail_i64 "$TMP/i.npy" 2)"
    # a float64 input, padding: windows [pad 1] [2 3] -> 0 and 2; on stdout, summary on stderr
    run_lucidc run --module 'MaxPool1d(2, padding=1)' --input "$DATA/x_123_f64.npy" --indices - --engine "$engine"
    [ "$RC" = 0 ] || fail "$engine: --indices - exited $RC: $(cat "$TMP/err")"
    [ "$(tail_i64 "$TMP/out" 2 | tr '\n' ' ')" = "0 2 " ] || fail "$engine: stdout indices $(tail_i64 "$TMP/out" 2)"
    grep -q '^indices  int64 \[1,1,2\] -> (stdout)$' "$TMP/err" || fail "$engine: summary not on stderr"
    # 2-D, (1, 1, 2, 4) of ones: every window ties, the first element wins: 0, 2 (h*W + w)
    expect_ok run --module 'MaxPool2d(2)' --input "$DATA/rank4.npy" --out "$TMP/y.npy" --indices "$TMP/i2.npy" --engine "$engine"
    [ "$(tail_i64 "$TMP/i2.npy" 2 | tr '\n' ' ')" = "0 2 " ] || fail "$engine: 2-D indices $(tail_i64 "$TMP/i2.npy" 2)"
done
# a window of padding alone: -1 (its output is -inf)
expect_ok run --module 'MaxPool1d(2, 1, padding=1, dilation=4)' --input "$DATA/x_123_f64.npy" --indices "$TMP/i3.npy"
[ "$(tail_i64 "$TMP/i3.npy" 1)" = "-1" ] || fail "padding-only window: $(tail_i64 "$TMP/i3.npy" 1)"

# Bad paths: one line, exit 2, no file left.
rm -f "$TMP/bad.npy"
expect_error 2 "lucidc: --module: MaxPool2d: return_indices=True is not accepted by lucidc (a layer passes one tensor on; 'lucidc run --indices FILE' writes a max pool's indices)" \
    run --module 'MaxPool2d(2, return_indices=True)' --input "$DATA/rank4.npy" --indices "$TMP/bad.npy"
printf 'AvgPool1d(1)\nMaxPool1d(2, return_indices=True)\n' >"$TMP/model.txt"
expect_error 2 "lucidc: --model: MaxPool1d: return_indices=True is not accepted by lucidc (a layer passes one tensor on; 'lucidc run --indices FILE' writes a max pool's indices)" \
    run --model "$TMP/model.txt" --input "$DATA/x_1234.npy"
expect_error 2 "lucidc: --module: MaxPool1d: return_indices=True is not accepted by lucidc (a layer passes one tensor on; 'lucidc run --indices FILE' writes a max pool's indices)" \
    dump --module 'MaxPool1d(2, return_indices=True)' --shape 1,1,4
expect_error 2 "lucidc: --indices: the model must be one MaxPool1d or MaxPool2d" \
    run --module 'AvgPool1d(2)' --input "$DATA/x_1234.npy" --indices "$TMP/bad.npy"
expect_error 2 "lucidc: --indices: the model must be one MaxPool1d or MaxPool2d" \
    run --module 'MaxPool1d(2)' --module 'ReLU()' --input "$DATA/x_1234.npy" --indices "$TMP/bad.npy"
expect_error 2 "lucidc: --indices: '$TMP/bad.npy' is also the --out file" \
    run --module 'MaxPool1d(2)' --input "$DATA/x_1234.npy" --out "$TMP/bad.npy" --indices "$TMP/bad.npy"
expect_error 2 "lucidc: --indices: '-' is also the --out file" \
    run --module 'MaxPool1d(2)' --input "$DATA/x_1234.npy" --out - --indices -
# the input fails the pool: nothing is written, the indices included
expect_error 2 "lucidc: --input: $DATA/rank4.npy: MaxPool1d: input must have rank 2 (C, L) or 3 (N, C, L), got rank 4" \
    run --module 'MaxPool1d(2)' --input "$DATA/rank4.npy" --out "$TMP/bad_y.npy" --indices "$TMP/bad.npy"
[ -e "$TMP/bad.npy" ] || [ -e "$TMP/bad_y.npy" ] && fail "a failed run left a file"
ls "$TMP" | grep -q 'tmp-' && fail "a failed run left a temporary"
finish
