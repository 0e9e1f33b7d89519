# lucidc check end to end: the conformance cases of tests/conformance (torch: all 23 pass, forward and
# backward, and the max pools' indices, on both engines; onnx: the 1-D cases pass, the rest are skipped with a reason),
# the per-case line format, exit codes, and malformed or failing cases.
. "$(dirname "$0")/lib.sh"

C=$CONFORMANCE
for engine in jit interp; do
    expect_ok check --engine "$engine" "$C/torch"
    expect_out_line '23 passed, 0 failed, 0 skipped'
    [ "$(grep -c '^PASS ' "$TMP/out")" = 23 ] || fail "torch ($engine): not 23 PASS lines"
    expect_out_match '^PASS m16_max2d_nan_windows [0-9.e+-]+ [0-9.e+-]+$'
    expect_out_match '^PASS s01_lp_ceil_partial_last_window [0-9.e+-]+ [0-9.e+-]+$'
done
# The default engine is the JIT; one case directory works too.
expect_ok check "$C/torch/s03_lp_random"
expect_out_line '1 passed, 0 failed, 0 skipped'

expect_ok check "$C/onnx"
expect_out_line '4 passed, 0 failed, 21 skipped'
for c in test_AvgPool1d test_AvgPool1d_stride test_averagepool_1d_default test_lppool_1d_default; do
    expect_out_match "^PASS $c [0-9.e+-]+ [0-9.e+-]+$"
done
expect_out_line 'SKIP test_averagepool_2d_dilations - - 2-D case: the modules are 1-D'
# Both directories at once, and the shared root searched recursively.
expect_ok check "$C/torch" "$C/onnx"
expect_out_line '27 passed, 0 failed, 21 skipped'
expect_ok check "$C"
expect_out_line '27 passed, 0 failed, 21 skipped'

# A 1-D ONNX case with dilation or per_axis_1d null is skipped with the reason.
mkdir -p "$TMP/skips/dil" "$TMP/skips/null"
cp "$C/onnx/test_AvgPool1d/"*.npy "$TMP/skips/dil/"
cp "$C/onnx/test_AvgPool1d/"*.npy "$TMP/skips/null/"
sed 's/"dilations": \[1\]/"dilations": [2]/' "$C/onnx/test_AvgPool1d/case.json" >"$TMP/skips/dil/case.json"
sed -e '/"per_axis_1d": \[/,/^  \]/d' -e 's/"notes":/"per_axis_1d": null, "notes":/' "$C/onnx/test_AvgPool1d/case.json" >"$TMP/skips/null/case.json"
run_lucidc check "$TMP/skips"
[ "$RC" = 1 ] || fail "all skipped must exit 1 (none ran), got $RC"
expect_out_line 'SKIP dil - - dilation: the modules have none'
expect_out_match '^SKIP null - - per_axis_1d is null: '
expect_out_line '0 passed, 0 failed, 2 skipped'

# Failing and malformed cases count as failed; exit 1.
mk() { mkdir -p "$TMP/bad/$1" && cp "$C/torch/s02_avg_random/"*.npy "$TMP/bad/$1/" && cp "$C/torch/s02_avg_random/case.json" "$TMP/bad/$1/"; }
mk a_good
mk b_wrong_values
cp "$C/torch/s04_avg_random/expected_out.npy" "$TMP/bad/b_wrong_values/expected_out.npy" 2>/dev/null
# s04 may have another shape; make sure the values are wrong either way:
cp "$C/torch/s02_avg_random/grad_out.npy" "$TMP/bad/b_wrong_values/expected_grad_in.npy"
mk c_bad_json
printf '{"name": "c_bad_json", "op": ' >"$TMP/bad/c_bad_json/case.json"
mk d_no_input
rm "$TMP/bad/d_no_input/input.npy"
mk e_bad_param
sed 's/"kernel_size": [0-9]*/"kernel_size": 2.5/' "$C/torch/s02_avg_random/case.json" >"$TMP/bad/e_bad_param/case.json"
mk f_unknown_op
sed 's/"op": "AvgPool1d"/"op": "MinPool1d"/' "$C/torch/s02_avg_random/case.json" >"$TMP/bad/f_unknown_op/case.json"
mk g_invalid_value
sed 's/"kernel_size": [0-9]*/"kernel_size": 0/' "$C/torch/s02_avg_random/case.json" >"$TMP/bad/g_invalid_value/case.json"
mk h_bad_npy
printf 'not npy' >"$TMP/bad/h_bad_npy/expected_out.npy"
run_lucidc check "$TMP/bad"
[ "$RC" = 1 ] || fail "failing cases must exit 1, got $RC: $(cat "$TMP/err")"
[ -s "$TMP/err" ] && fail "check wrote to stderr: $(cat "$TMP/err")"
expect_out_match '^PASS s02_avg_random [0-9.e+-]+ [0-9.e+-]+$'
expect_out_match '^FAIL s02_avg_random [0-9.e+-]+ [0-9.e+-]+ (output|grad_in)'
expect_out_match '^FAIL c_bad_json - - case.json: [0-9]+:[0-9]+: '
expect_out_match '^FAIL s02_avg_random - - .*input.npy: cannot open'
expect_out_line 'FAIL s02_avg_random - - case.json: kernel_size must be an integer'
expect_out_line "FAIL s02_avg_random - - case.json: unknown op 'MinPool1d'"
expect_out_match '^FAIL s02_avg_random - - case.json: AvgPool1d: kernel_size must be >= 1, got 0$'
expect_out_match '^FAIL s02_avg_random - - .*expected_out.npy: not a .npy file'
expect_out_line '1 passed, 7 failed, 0 skipped'
[ "$(wc -l <"$TMP/out")" = 9 ] || fail "expected 8 case lines and a total: $(cat "$TMP/out")"

# A max pool's indices are compared exactly: one index off fails the case, on both engines.
mkdir -p "$TMP/idx"
cp "$C/torch/m14_max2d_ties/"* "$TMP/idx/"
/usr/bin/python3 - "$TMP/idx/expected_indices.npy" <<'PY' 2>/dev/null || printf 'no numpy\n' >"$TMP/idx/skip"
import sys
import numpy as np
a = np.load(sys.argv[1]); a[0, 0, 1, 1] += 1; np.save(sys.argv[1], a)
PY
if [ ! -e "$TMP/idx/skip" ]; then
    for engine in jit interp; do
        run_lucidc check --engine "$engine" "$TMP/idx"
        [ "$RC" = 1 ] || fail "a wrong index must fail the case ($engine), got $RC"
        expect_out_match '^FAIL m14_max2d_ties [0-9.e+-]+ [0-9.e+-]+ indices: 1 of 224 differ; first at flat index 9: got 2, want 3$'
    done
fi

# An empty directory: none ran, exit 1, and stderr says so in one line.
mkdir -p "$TMP/empty/sub"
expect_error 1 "lucidc: check: no case found under $TMP/empty" check "$TMP/empty"
expect_out_line '0 passed, 0 failed, 0 skipped'
# Beside a directory with cases, an empty one still is said and fails the check.
expect_error 1 "lucidc: check: no case found under $TMP/empty" check "$C/torch/s03_lp_random" "$TMP/empty"
expect_out_line '1 passed, 0 failed, 0 skipped'

# ---- errors: exit 2 ----
expect_error 2 'lucidc: check: give at least one case directory or directory of cases' check
expect_error 2 "lucidc: check: $TMP/none: No such file or directory" check "$TMP/none"
expect_error 2 "lucidc: check: $DATA/x_1234.npy: not a directory" check "$DATA/x_1234.npy"
expect_error 2 "lucidc: check: unknown option '--fast'" check --fast "$C/torch"
expect_error 2 "lucidc: --engine: expected jit or interp, got 'gpu'" check --engine gpu "$C/torch"

finish
