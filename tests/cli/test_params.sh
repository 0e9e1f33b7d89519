# lucidc run --params / --grad-params / --seed: every error is exit 2 with one line naming the
# option and the file; a parameter-free model takes an empty --params directory and writes no
# gradient file; nothing is written when a run fails.
. "$(dirname "$0")/lib.sh"

X=$DATA/x_1234.npy
G=$DATA/seed_11.npy
M='AvgPool1d(2)'

# --grad-params needs --grad-out (and with it --grad-in)
expect_error 2 "lucidc: --grad-params: needs --grad-out G.npy (the seed gradient)" \
    run --module "$M" --input "$X" --grad-params "$TMP/gp"
[ ! -e "$TMP/gp" ] || fail "a refused --grad-params made its directory"

# --grad-params must not be the --params directory, nor a file
mkdir -p "$TMP/p"
expect_error 2 "lucidc: --grad-params: $TMP/p is the --params directory: the gradients would replace the parameters" \
    run --module "$M" --input "$X" --params "$TMP/p" --grad-out "$G" --grad-in "$TMP/gx.npy" --grad-params "$TMP/p"
expect_error 2 "lucidc: --grad-params: $TMP/p/. is the --params directory: the gradients would replace the parameters" \
    run --module "$M" --input "$X" --params "$TMP/p" --grad-out "$G" --grad-in "$TMP/gx.npy" --grad-params "$TMP/p/."
: >"$TMP/afile"
expect_error 2 "lucidc: --grad-params: $TMP/afile: exists and is not a directory" \
    run --module "$M" --input "$X" --grad-out "$G" --grad-in "$TMP/gx.npy" --grad-params "$TMP/afile"
[ ! -e "$TMP/gx.npy" ] || fail "a refused run wrote --grad-in"

# --params: a directory that cannot be opened; an extra .npy (a pool has no parameters)
expect_error 2 "lucidc: --params: $TMP/nowhere: cannot open the directory: No such file or directory" \
    run --module "$M" --input "$X" --params "$TMP/nowhere"
cp "$X" "$TMP/p/0.weight.npy"
expect_error 2 "lucidc: --params: $TMP/p/0.weight.npy: not a parameter of the model (its parameter files: none)" \
    run --module "$M" --input "$X" --params "$TMP/p" --out "$TMP/y.npy"
[ ! -e "$TMP/y.npy" ] || fail "a refused --params run wrote --out"
rm "$TMP/p/0.weight.npy"

# --seed: digits only, 0 .. 2^64 - 1, once
for bad in -1 abc 1.5 18446744073709551616 '' ' 1' +3; do
    expect_error 2 "lucidc: --seed: expected an integer between 0 and 18446744073709551615, got '$bad'" \
        run --module "$M" --input "$X" --seed "$bad"
done
expect_error 2 "lucidc: --seed: given more than once ('1' and '2'); it takes one value" \
    run --module "$M" --input "$X" --seed 1 --seed 2

# A parameter-free model: an empty --params directory (other files ignored), any seed, and
# --grad-params makes its directory and writes nothing; y and dx are as without them.
expect_ok run --module "$M" --input "$X" --out "$TMP/y0.npy" --grad-out "$G" --grad-in "$TMP/gx0.npy"
echo notes >"$TMP/p/README.txt"
expect_ok run --module "$M" --input "$X" --out "$TMP/y1.npy" --grad-out "$G" --grad-in "$TMP/gx1.npy" \
    --params "$TMP/p" --grad-params "$TMP/gp" --seed 18446744073709551615
same_file "$TMP/y0.npy" "$TMP/y1.npy"
same_file "$TMP/gx0.npy" "$TMP/gx1.npy"
[ -d "$TMP/gp" ] || fail "--grad-params did not make its directory"
[ -z "$(ls -A "$TMP/gp")" ] || fail "--grad-params wrote files for a model without parameters: $(ls "$TMP/gp")"

finish
