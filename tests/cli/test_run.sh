# lucidc run end to end: outputs pinned against hand-computed .npy files (the worked
# examples of docs/semantics.md), both engines, f32/f64, rank 2/3, the summary, and every error path of run.
. "$(dirname "$0")/lib.sh"

# AvgPool1d(2) on [1, 2, 3, 4] -> [1.5, 3.5]; seed [1, 1] -> grad [0.5, 0.5, 0.5, 0.5].
for engine in interp jit; do
    expect_ok run --module 'AvgPool1d(2)' --input "$DATA/x_1234.npy" --out "$TMP/y.npy" \
        --grad-out "$DATA/seed_11.npy" --grad-in "$TMP/gx.npy" --engine "$engine"
    same_file "$TMP/y.npy" "$DATA/avg_k2_y.npy"
    same_file "$TMP/gx.npy" "$DATA/avg_k2_gx.npy"
    expect_out_line "engine   $engine"
    expect_out_line "output   f32 [1,1,2] -> $TMP/y.npy"
    expect_out_line "grad     seed $DATA/seed_11.npy [1,1,2] -> $TMP/gx.npy [1,1,4]"
    # Reading files is timed apart from building the graph.
    expect_out_match '^time     read [0-9.]+ ms, build [0-9.]+ ms, compile [0-9.]+ ms, run [0-9.]+ ms, write [0-9.]+ ms$'
    grep -q 'not available' "$TMP/out" && fail "run's summary says something is not available"
    rm -f "$TMP/y.npy" "$TMP/gx.npy"
done
expect_out_match '^kernels  [0-9]+$'

# float64 in, float64 out: [1, 2, 3], k=2, s=1, p=1 -> [0.5, 1.5, 2.5, 1.5]; without
# count_include_pad -> [1.0, 1.5, 2.5, 3.0], grad of ones [1.5, 1.0, 1.5].
for engine in interp jit; do
    expect_ok run --module 'AvgPool1d(2, 1, 1)' --input "$DATA/x_123_f64.npy" --out "$TMP/y.npy" --engine "$engine"
    same_file "$TMP/y.npy" "$DATA/avg_pad_y_f64.npy"
    expect_ok run --module 'nn.AvgPool1d(kernel_size=2, stride=1, padding=1, count_include_pad=False)' \
        --input "$DATA/x_123_f64.npy" --out "$TMP/y.npy" --grad-out "$DATA/ones4_f64.npy" \
        --grad-in "$TMP/gx.npy" --engine "$engine"
    same_file "$TMP/y.npy" "$DATA/avg_pad_nocip_y_f64.npy"
    same_file "$TMP/gx.npy" "$DATA/avg_pad_nocip_gx_f64.npy"
    expect_out_line "output   f64 [1,1,4] -> $TMP/y.npy"
done

# Rank 2 (C, L) stays rank 2: LPPool1d(2, 2) on [1, -2, 3, -4, 5] -> [sqrt(5), 5].
expect_ok run --module 'LPPool1d(2, 2)' --input "$DATA/x_lp_rank2.npy" --out "$TMP/y2.npy" --engine interp
same_file "$TMP/y2.npy" "$DATA/lp_rank2_y.npy"
expect_ok run --module 'LPPool1d(2, 2)' --input "$DATA/x_lp_rank2.npy" --out "$TMP/y2.npy"
same_file "$TMP/y2.npy" "$DATA/lp_rank2_y.npy"
# ones (1, 8, 16), p=2, k=4 -> every value 2, for every thread count; --threads wins over
# LUCID_NUM_THREADS (even an invalid one, which then goes unreported).
for threads in 1 2 3; do
    LUCID_NUM_THREADS=junk expect_ok run --module 'LPPool1d(2, 4)' --input "$DATA/ones_1x8x16.npy" --out "$TMP/y3.npy" --threads "$threads"
    same_file "$TMP/y3.npy" "$DATA/twos_1x8x4.npy"
    expect_out_line "threads  $threads"
done

# A model file (comments, a call over several lines) equals the same --module list.
cat >"$TMP/model.txt" <<'MODEL'
# smooth, then pool
AvgPool1d(kernel_size=3, stride=1, padding=1)   # keeps the length
nn.LPPool1d(
    2,      # norm_type
    4,      # kernel_size
)
MODEL
expect_ok run --model "$TMP/model.txt" --input "$DATA/ones_1x8x16.npy" --out "$TMP/m1.npy" \
    --grad-out "$DATA/twos_1x8x4.npy" --grad-in "$TMP/g1.npy"
expect_out_line "model    AvgPool1d(kernel_size=3, stride=1, padding=1, ceil_mode=False, count_include_pad=True) -> LPPool1d(norm_type=2, kernel_size=4, stride=4, ceil_mode=False)"
expect_ok run --module 'AvgPool1d(3, 1, 1)' --module 'LPPool1d(2, 4)' --input "$DATA/ones_1x8x16.npy" \
    --out "$TMP/m2.npy" --grad-out "$DATA/twos_1x8x4.npy" --grad-in "$TMP/g2.npy"
same_file "$TMP/m1.npy" "$TMP/m2.npy"
same_file "$TMP/g1.npy" "$TMP/g2.npy"
# The JIT agrees with the interpreter within the conformance tolerance: the interpreter's
# results become a case directory that `check --engine jit` verifies.
X3=$CONFORMANCE/torch/s03_lp_random/input.npy
mkdir -p "$TMP/case"
cp "$X3" "$TMP/case/input.npy"
expect_ok run --module 'LPPool1d(3, 5, 2, True)' --input "$X3" --out "$TMP/case/expected_out.npy" --engine interp
expect_ok run --module 'LPPool1d(3, 5, 2, True)' --input "$X3" --out "$TMP/case/grad_out.npy" --engine interp
expect_ok run --module 'LPPool1d(3, 5, 2, True)' --input "$X3" --out "$TMP/y_interp.npy" \
    --grad-out "$TMP/case/grad_out.npy" --grad-in "$TMP/case/expected_grad_in.npy" --engine interp
cat >"$TMP/case/case.json" <<'CASE'
{"name": "jit_vs_interp", "op": "LPPool1d",
 "params": {"norm_type": 3, "kernel_size": 5, "stride": 2, "ceil_mode": true},
 "tolerance": {"rtol": 1e-4, "atol": 1e-6}}
CASE
expect_ok check --engine jit "$TMP/case"
expect_out_match '^PASS jit_vs_interp '
expect_out_line '1 passed, 0 failed, 0 skipped'

# Without --out nothing is written, the summary still prints.
(cd "$TMP" && mkdir -p quiet && cd quiet && "$LUCIDC" run --module 'AvgPool1d(2)' --input "$DATA/x_1234.npy" >../quiet.out 2>&1) \
    || fail "run without --out failed: $(cat "$TMP/quiet.out")"
[ -z "$(ls -A "$TMP/quiet")" ] || fail "run without --out wrote files: $(ls -A "$TMP/quiet")"
grep -qxF "output   f32 [1,1,2] -> (not written: no --out)" "$TMP/quiet.out" || fail "summary without --out: $(cat "$TMP/quiet.out")"
# --opt=value works like --opt value.
expect_ok run --module='AvgPool1d(2)' --input="$DATA/x_1234.npy" --out="$TMP/eq.npy" --engine=interp
same_file "$TMP/eq.npy" "$DATA/avg_k2_y.npy"

# ---- errors: exit 2, one line "lucidc: <where>: <what>" ----
X=$DATA/x_1234.npy
expect_error 2 'lucidc: --module 1: LPPool1d: norm_type must be finite and > 0, got -1' run --module 'LPPool1d(-1, 2)' --input "$X"
expect_error 2 'lucidc: --module 2: LPPool1d: norm_type must be finite and > 0, got inf' run --module 'AvgPool1d(2)' --module 'LPPool1d(norm_type=inf, kernel_size=2)' --input "$X"
expect_error 2 'lucidc: --module 1: col 23: AvgPool1d: kernel_size must be an integer, got 3.0' run --module 'AvgPool1d(kernel_size=3.0)' --input "$X"
expect_error 2 'lucidc: --module 1: col 1: unknown module '"'"'MinPool1d'"'"' (known: AvgPool1d, LPPool1d, MaxPool1d, MaxPool2d, AvgPool2d, LPPool2d, Linear, ReLU, MSELoss, Conv1d)' run --module 'MinPool1d(2)' --input "$X"
expect_error 2 'lucidc: --module 1: col 11: AvgPool1d: missing required argument kernel_size' run --module 'AvgPool1d()' --input "$X"
printf 'AvgPool1d(2)\nLPPool1d(2,\n  kernel_size=3.0)\n' >"$TMP/bad_model.txt"
expect_error 2 "lucidc: $TMP/bad_model.txt:3:15: LPPool1d: kernel_size must be an integer, got 3.0" run --model "$TMP/bad_model.txt" --input "$X"
printf 'AvgPool1d(2)\n  LPPool1d(0, 2)\n' >"$TMP/bad_value.txt"
expect_error 2 "lucidc: $TMP/bad_value.txt:2:3: LPPool1d: norm_type must be finite and > 0, got 0" run --model "$TMP/bad_value.txt" --input "$X"
printf '# nothing here\n' >"$TMP/empty.txt"
expect_error 2 "lucidc: $TMP/empty.txt: no module calls (the model is empty)" run --model "$TMP/empty.txt" --input "$X"
printf 'AvgPool1d(2)\0' >"$TMP/nul.txt"
expect_error 2 "lucidc: --model: $TMP/nul.txt: contains a NUL byte; expected text" run --model "$TMP/nul.txt" --input "$X"
expect_error 2 "lucidc: --model: $TMP/none.txt: cannot open: No such file or directory" run --model "$TMP/none.txt" --input "$X"
expect_error 2 "lucidc: --model: $TMP: is a directory, expected a file" run --model "$TMP" --input "$X"
expect_error 2 'lucidc: --module: cannot be combined with --model (give one or the other)' run --model "$TMP/model.txt" --module 'AvgPool1d(2)' --input "$X"
expect_error 2 'lucidc: --model: cannot be combined with --module (give one or the other)' run --module 'AvgPool1d(2)' --model "$TMP/model.txt" --input "$X"
expect_error 2 'lucidc: run: no model: give --model FILE or --module SPEC' run --input "$X"
expect_error 2 'lucidc: run: --input X.npy is required' run --module 'AvgPool1d(2)'
expect_error 2 'lucidc: --input: missing value' run --module 'AvgPool1d(2)' --input
expect_error 2 "lucidc: --input: $TMP/none.npy: cannot open for reading: No such file or directory" run --module 'AvgPool1d(2)' --input "$TMP/none.npy"
expect_error 2 "lucidc: --input: $DATA/not_npy.npy: not a .npy file*" run --module 'AvgPool1d(2)' --input "$DATA/not_npy.npy"
expect_error 2 "lucidc: --input: $DATA/int32.npy: descr '<i4' *" run --module 'AvgPool1d(2)' --input "$DATA/int32.npy"
expect_error 2 "lucidc: --input: $DATA/bigendian.npy: descr '>f4' is big-endian*" run --module 'AvgPool1d(2)' --input "$DATA/bigendian.npy"
expect_error 2 "lucidc: --input: $DATA/truncated.npy: data are truncated*" run --module 'AvgPool1d(2)' --input "$DATA/truncated.npy"
expect_error 2 "lucidc: --input: $DATA/rank1.npy: AvgPool1d: input must have rank 2 (C, L) or 3 (N, C, L), got rank 1" run --module 'AvgPool1d(2)' --input "$DATA/rank1.npy"
expect_error 2 "lucidc: --input: $DATA/rank4.npy: AvgPool1d: input must have rank 2 (C, L) or 3 (N, C, L), got rank 4" run --module 'AvgPool1d(2)' --input "$DATA/rank4.npy"
expect_error 2 "lucidc: --input: $X: AvgPool1d: input length 4 *kernel_size 8*" run --module 'AvgPool1d(8)' --input "$X"
expect_error 2 'lucidc: --grad-out: needs --grad-in GX.npy (where the gradient goes)' run --module 'AvgPool1d(2)' --input "$X" --grad-out "$DATA/seed_11.npy"
expect_error 2 'lucidc: --grad-in: needs --grad-out G.npy (the seed gradient)' run --module 'AvgPool1d(2)' --input "$X" --grad-in "$TMP/gx.npy"
expect_error 2 "lucidc: --grad-out: $DATA/seed_wrong_shape.npy: shape [1,1,3] does not match the output's shape [1,1,2]" run --module 'AvgPool1d(2)' --input "$X" --grad-out "$DATA/seed_wrong_shape.npy" --grad-in "$TMP/gx.npy"
expect_error 2 "lucidc: --grad-out: $DATA/seed_f64.npy: dtype f64 does not match the output's dtype f32" run --module 'AvgPool1d(2)' --input "$X" --grad-out "$DATA/seed_f64.npy" --grad-in "$TMP/gx.npy"
expect_error 2 "lucidc: --grad-out: $DATA/not_npy.npy: not a .npy file*" run --module 'AvgPool1d(2)' --input "$X" --grad-out "$DATA/not_npy.npy" --grad-in "$TMP/gx.npy"
expect_error 2 "lucidc: --grad-in: '$TMP/same.npy' is also the --out file" run --module 'AvgPool1d(2)' --input "$X" --out "$TMP/same.npy" --grad-out "$DATA/seed_11.npy" --grad-in "$TMP/same.npy"
expect_error 2 "lucidc: --engine: expected jit or interp, got 'fast'" run --module 'AvgPool1d(2)' --input "$X" --engine fast
expect_error 2 "lucidc: --threads: expected an integer between 1 and 1024, got '0'" run --module 'AvgPool1d(2)' --input "$X" --threads 0
expect_error 2 "lucidc: --threads: expected an integer between 1 and 1024, got 'two'" run --module 'AvgPool1d(2)' --input "$X" --threads two
expect_error 2 "lucidc: run: unknown option '--bogus'" run --module 'AvgPool1d(2)' --input "$X" --bogus
expect_error 2 "lucidc: run: unexpected argument 'extra'" run --module 'AvgPool1d(2)' --input "$X" extra
expect_error 2 "lucidc: unknown command 'frob' (commands: run, dump, check, demo; see lucidc --help)" frob
expect_error 2 'lucidc: no command (run, dump, check, demo; see lucidc --help)'
expect_ok --help
expect_out_match '^usage: lucidc <command>'

# No partial output: a failing run leaves an existing --out untouched and creates nothing.
mkdir -p "$TMP/outs"
printf 'old' >"$TMP/outs/y.npy"
expect_error 2 "lucidc: --grad-out: *" run --module 'AvgPool1d(2)' --input "$X" --out "$TMP/outs/y.npy" \
    --grad-out "$DATA/seed_wrong_shape.npy" --grad-in "$TMP/outs/gx.npy"
[ "$(cat "$TMP/outs/y.npy")" = old ] || fail "a failing run changed the existing --out file"
[ "$(ls -A "$TMP/outs")" = y.npy ] || fail "a failing run left files behind: $(ls -A "$TMP/outs")"
expect_error 2 "lucidc: --out: $TMP/nodir/y.npy: *" run --module 'AvgPool1d(2)' --input "$X" --out "$TMP/nodir/y.npy"
[ ! -e "$TMP/nodir" ] || fail "--out into a missing directory created something"
mkdir -p "$TMP/outs/adir"
expect_error 2 "lucidc: --out: $TMP/outs/adir: *" run --module 'AvgPool1d(2)' --input "$X" --out "$TMP/outs/adir"
[ "$(ls -A "$TMP/outs")" = "$(printf 'adir\ny.npy')" ] || fail "--out onto a directory left files behind: $(ls -A "$TMP/outs")"

finish
