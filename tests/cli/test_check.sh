# lucidc check end to end: the conformance cases of tests/conformance (torch: all 23 pass, forward and
# backward, and the max pools' indices, on both engines; torch2d: all 9 likewise; onnx: all 25 pass on
# both engines, built with ONNX's rules),
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
# AvgPool2d and LPPool2d against PyTorch (torch2d/, made by its make_cases.py): forward and
# backward on both engines; a flipped count_include_pad or another p must fail.
for engine in jit interp; do
    expect_ok check --engine "$engine" "$C/torch2d"
    expect_out_line '9 passed, 0 failed, 0 skipped'
    expect_out_match '^PASS a01_avg_ceil_rect_pad_no_cip [0-9.e+-]+ [0-9.e+-]+$'
    expect_out_match '^PASS l00_lp_ceil_partial_both_axes [0-9.e+-]+ [0-9.e+-]+$'
done
mkdir -p "$TMP/flip/cip" "$TMP/flip/p"
cp "$C/torch2d/a01_avg_ceil_rect_pad_no_cip/"*.npy "$TMP/flip/cip/"
sed 's/"count_include_pad": false/"count_include_pad": true/' "$C/torch2d/a01_avg_ceil_rect_pad_no_cip/case.json" >"$TMP/flip/cip/case.json"
cp "$C/torch2d/l03_lp_p4_rank3/"*.npy "$TMP/flip/p/"
sed 's/"norm_type": 4/"norm_type": 3/' "$C/torch2d/l03_lp_p4_rank3/case.json" >"$TMP/flip/p/case.json"
run_lucidc check "$TMP/flip"
[ "$RC" = 1 ] || fail "mutated torch2d cases must fail, got $RC"
expect_out_match '^FAIL a01_avg_ceil_rect_pad_no_cip [0-9.e+-]+ [0-9.e+-]+ output: '
expect_out_match '^FAIL l03_lp_p4_rank3 [0-9.e+-]+ [0-9.e+-]+ output: '
expect_out_line '0 passed, 2 failed, 0 skipped'

# The default engine is the JIT; one case directory works too.
expect_ok check "$C/torch/s03_lp_random"
expect_out_line '1 passed, 0 failed, 0 skipped'

# ONNX cases are op graphs built with ONNX's rules: all 25 run, on both engines.
for engine in jit interp; do
    expect_ok check --engine "$engine" "$C/onnx"
    expect_out_line '25 passed, 0 failed, 0 skipped'
    [ "$(grep -c '^PASS ' "$TMP/out")" = 25 ] || fail "onnx ($engine): not 25 PASS lines"
    for c in test_AvgPool1d test_averagepool_2d_dilations test_averagepool_2d_pads \
             test_averagepool_2d_ceil_last_window_starts_on_pad test_averagepool_2d_same_lower \
             test_lppool_2d_dilations test_lppool_2d_pads test_lppool_2d_same_upper; do
        expect_out_match "^PASS $c [0-9.e+-]+ [0-9.e+-]+$"
    done
done
# Both directories at once, and the shared root searched recursively.
expect_ok check "$C/torch" "$C/onnx"
expect_out_line '48 passed, 0 failed, 0 skipped'
expect_ok check "$C"
expect_out_line '57 passed, 0 failed, 0 skipped'

# ONNX's rules, case by case: auto_pad resolves the pads itself (a case without them runs, one
# whose pads disagree with the rule fails); per_axis_1d is not read; p, ndim, op and auto_pad are
# judged; count_include_pad matters. (ONNX cases have no name: the directory's is printed.)
mko() { mkdir -p "$TMP/onnx/$1" && cp "$C/onnx/$2/"*.npy "$TMP/onnx/$1/"; }
mko a_same_lower_no_pads test_averagepool_2d_same_lower
sed 's/"pads": \[1, 1, 0, 0\],//' "$C/onnx/test_averagepool_2d_same_lower/case.json" >"$TMP/onnx/a_same_lower_no_pads/case.json"
mko b_same_upper_wrong_pads test_lppool_2d_same_upper
sed 's/"pads": \[0, 0, 1, 1\]/"pads": [1, 1, 0, 0]/' "$C/onnx/test_lppool_2d_same_upper/case.json" >"$TMP/onnx/b_same_upper_wrong_pads/case.json"
mko c_no_per_axis test_averagepool_2d_strides
sed -e '/"per_axis_1d": \[/,/^  \]/d' -e 's/"notes":/"per_axis_1d": null, "notes":/' "$C/onnx/test_averagepool_2d_strides/case.json" >"$TMP/onnx/c_no_per_axis/case.json"
mko d_bad_p test_lppool_2d_default
sed 's/"p": 4/"p": -1/' "$C/onnx/test_lppool_2d_default/case.json" >"$TMP/onnx/d_bad_p/case.json"
mko e_ndim3 test_averagepool_2d_default
sed 's/"ndim": 2/"ndim": 3/' "$C/onnx/test_averagepool_2d_default/case.json" >"$TMP/onnx/e_ndim3/case.json"
mko f_max_pool test_averagepool_2d_default
sed 's/"op": "avg_pool"/"op": "max_pool"/' "$C/onnx/test_averagepool_2d_default/case.json" >"$TMP/onnx/f_max_pool/case.json"
mko g_cip_flipped test_averagepool_2d_pads
sed 's/"count_include_pad": false/"count_include_pad": true/' "$C/onnx/test_averagepool_2d_pads/case.json" >"$TMP/onnx/g_cip_flipped/case.json"
mko h_bad_auto_pad test_averagepool_2d_same_upper
sed 's/"auto_pad": "SAME_UPPER"/"auto_pad": "SAME"/' "$C/onnx/test_averagepool_2d_same_upper/case.json" >"$TMP/onnx/h_bad_auto_pad/case.json"
mko i_huge_dilation test_averagepool_2d_same_upper
sed -e 's/"dilations": \[1, 1\]/"dilations": [9000000000000000, 1]/' -e 's/"kernel": \[2, 2\]/"kernel": [9000000000000000, 2]/' "$C/onnx/test_averagepool_2d_same_upper/case.json" >"$TMP/onnx/i_huge_dilation/case.json"
mko j_huge_kernel test_averagepool_2d_default
sed 's/"kernel": \[2, 2\]/"kernel": [9000000000000000, 2]/' "$C/onnx/test_averagepool_2d_default/case.json" >"$TMP/onnx/j_huge_kernel/case.json"
run_lucidc check "$TMP/onnx"
[ "$RC" = 1 ] || fail "failing ONNX cases must exit 1, got $RC"
expect_out_match '^PASS a_same_lower_no_pads [0-9.e+-]+ [0-9.e+-]+$'
expect_out_line 'FAIL b_same_upper_wrong_pads - - case.json: pads of axis 0 are (1, 0), but SAME_UPPER resolves to (0, 1)'
expect_out_match '^PASS c_no_per_axis [0-9.e+-]+ [0-9.e+-]+$'
expect_out_line 'FAIL d_bad_p - - case.json: LpPool: p must be finite and > 0, got -1'
expect_out_line 'FAIL e_ndim3 - - case.json: ndim must be 1 or 2'
expect_out_line "FAIL f_max_pool - - case.json: unknown op 'max_pool' (expected avg_pool or lp_pool)"
expect_out_match '^FAIL g_cip_flipped [0-9.e+-]+ [0-9.e+-]+ output: [0-9]+ of 2700 elements outside tolerance'
expect_out_line "FAIL h_bad_auto_pad - - case.json: auto_pad must be NOTSET, VALID, SAME_UPPER or SAME_LOWER, got 'SAME'"
expect_out_line 'FAIL i_huge_dilation - - case.json: SAME_UPPER padding overflows'
expect_out_line 'FAIL j_huge_kernel - - case.json: AveragePool: input height 32 with padding 0 is shorter than kernel_size 9000000000000000 (output height would be < 1)'
expect_out_line '2 passed, 8 failed, 0 skipped'

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
