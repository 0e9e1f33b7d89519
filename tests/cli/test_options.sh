# A single-valued option given twice is an error naming it (exit 2, one line), in every
# subcommand; --module stays repeatable.
. "$(dirname "$0")/lib.sh"

X=$DATA/x_1234.npy
M='AvgPool1d(2)'
expect_error 2 "lucidc: --input: given more than once ('$X' and '$TMP/b.npy'); it takes one value" \
    run --module "$M" --input "$X" --input "$TMP/b.npy"
expect_error 2 "lucidc: --input: given more than once ('$X' and '$X'); it takes one value" \
    run --module "$M" --input "$X" --input="$X"
expect_error 2 "lucidc: --out: given more than once ('$TMP/a.npy' and '$TMP/b.npy'); it takes one value" \
    run --module "$M" --input "$X" --out "$TMP/a.npy" --out "$TMP/b.npy"
[ ! -e "$TMP/a.npy" ] && [ ! -e "$TMP/b.npy" ] || fail "a repeated --out wrote a file"
expect_error 2 "lucidc: --engine: given more than once ('jit' and 'interp'); it takes one value" \
    run --module "$M" --input "$X" --engine jit --engine interp
expect_error 2 "lucidc: --threads: given more than once ('1' and '2'); it takes one value" \
    run --module "$M" --input "$X" --threads 1 --threads 2
expect_error 2 "lucidc: --grad-out: given more than once *" \
    run --module "$M" --input "$X" --grad-out "$DATA/seed_11.npy" --grad-out "$DATA/seed_11.npy" --grad-in "$TMP/g.npy"
expect_error 2 "lucidc: --grad-in: given more than once *" \
    run --module "$M" --input "$X" --grad-out "$DATA/seed_11.npy" --grad-in "$TMP/g.npy" --grad-in "$TMP/h.npy"
printf 'AvgPool1d(2)\n' >"$TMP/m.txt"
expect_error 2 "lucidc: --model: given more than once *" run --model "$TMP/m.txt" --model "$TMP/m.txt" --input "$X"
expect_error 2 "lucidc: --shape: given more than once ('1,1,8' and '1,1,16'); it takes one value" \
    dump --module "$M" --shape 1,1,8 --shape 1,1,16
expect_error 2 "lucidc: --dtype: given more than once *" dump --module "$M" --dtype f32 --dtype f64
expect_error 2 "lucidc: --stage: given more than once *" dump --module "$M" --stage built --stage cse
expect_error 2 "lucidc: --format: given more than once *" dump --module "$M" --format dot --format text
expect_error 2 "lucidc: -o: given more than once *" dump --module "$M" -o "$TMP/d1" -o "$TMP/d2"
expect_error 2 "lucidc: --engine: given more than once *" check --engine jit --engine interp "$TMP"

# --module repeats: two modules chain.
expect_ok run --module "$M" --module "$M" --input "$DATA/ones_1x8x16.npy" --engine interp
expect_out_line "model    AvgPool1d(kernel_size=2, stride=2, padding=0, ceil_mode=False, count_include_pad=True) -> AvgPool1d(kernel_size=2, stride=2, padding=0, ceil_mode=False, count_include_pad=True)"

finish
