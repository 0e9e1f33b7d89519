# lucidc run --params / --grad-params / --seed with parameter files: every error is exit 2 with one line naming the
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

# The seed model Conv1d(1, 1, 3, padding=1) -> AvgPool1d(2, 2) -> Linear(2, 1) with PyTorch's
# weights (tests/data/params/seed_model, made with PyTorch 1.13): y, dx and every parameter's
# gradient as PyTorch computed them, on both engines.
S=$HERE/../data/params/seed_model
mkdir -p "$TMP/sp"
cp "$S/0.weight.npy" "$S/0.bias.npy" "$S/2.weight.npy" "$S/2.bias.npy" "$TMP/sp/"
for engine in jit interp; do
    rm -rf "$TMP/sg"
    expect_ok run --model "$S/model.txt" --input "$S/input.npy" --params "$TMP/sp" --out "$TMP/sy.npy" \
        --grad-out "$S/grad_out.npy" --grad-in "$TMP/sgx.npy" --grad-params "$TMP/sg" --engine $engine
    expect_out_line "params   4 tensors from $TMP/sp"
    expect_out_line "grads    4 parameter gradients -> $TMP/sg"
    [ "$(ls "$TMP/sg" | tr '\n' ' ')" = "0.bias.npy 0.weight.npy 2.bias.npy 2.weight.npy " ] ||
        fail "--grad-params wrote: $(ls "$TMP/sg")"
    for pair in "sy.npy expected_out.npy" "sgx.npy expected_grad_in.npy" \
        "sg/0.weight.npy expected_grad_0.weight.npy" "sg/0.bias.npy expected_grad_0.bias.npy" \
        "sg/2.weight.npy expected_grad_2.weight.npy" "sg/2.bias.npy expected_grad_2.bias.npy"; do
        set -- $pair
        /usr/bin/python3 - "$TMP/$1" "$S/$2" <<'PY' || fail "$engine: $1 differs from PyTorch's $2"
import sys, numpy as np
got, want = np.load(sys.argv[1]), np.load(sys.argv[2])
assert got.dtype == np.float32 and got.shape == want.shape, (got.dtype, got.shape, want.shape)
assert np.allclose(got, want, rtol=1e-4, atol=1e-6), (got, want)
PY
    done
done

# Every way a --params directory can be wrong, each named
cp "$DATA/ones4_f64.npy" "$TMP/sp/9.weight.npy"
expect_error 2 "lucidc: --params: $TMP/sp/9.weight.npy: not a parameter of the model (its parameter files: 0.weight.npy, 0.bias.npy, 2.weight.npy, 2.bias.npy)" \
    run --model "$S/model.txt" --input "$S/input.npy" --params "$TMP/sp"
rm "$TMP/sp/9.weight.npy"
rm "$TMP/sp/2.bias.npy"
expect_error 2 "lucidc: --params: $TMP/sp/2.bias.npy: missing (the model's parameter 2.bias)" \
    run --model "$S/model.txt" --input "$S/input.npy" --params "$TMP/sp" --out "$TMP/never.npy"
[ ! -e "$TMP/never.npy" ] || fail "a refused --params run wrote --out"
cp "$S/2.bias.npy" "$TMP/sp/"
cp "$S/2.weight.npy" "$TMP/sp/0.weight.npy"
expect_error 2 "lucidc: --params: $TMP/sp/0.weight.npy: shape [1,2] does not match the parameter's shape [1,1,3]" \
    run --model "$S/model.txt" --input "$S/input.npy" --params "$TMP/sp"
cp "$S/0.weight.npy" "$TMP/sp/"
cp "$DATA/ones4_f64.npy" "$TMP/sp/0.bias.npy"
expect_error 2 "lucidc: --params: $TMP/sp/0.bias.npy: dtype f64 does not match the input's dtype f32" \
    run --model "$S/model.txt" --input "$S/input.npy" --params "$TMP/sp"
cp "$DATA/truncated.npy" "$TMP/sp/0.bias.npy"
expect_error 2 "lucidc: --params: $TMP/sp/0.bias.npy: *" \
    run --model "$S/model.txt" --input "$S/input.npy" --params "$TMP/sp"
cp "$S/0.bias.npy" "$TMP/sp/"
expect_error 2 "lucidc: --grad-params: $TMP/sp is the --params directory: the gradients would replace the parameters" \
    run --model "$S/model.txt" --input "$S/input.npy" --params "$TMP/sp" --grad-out "$S/grad_out.npy" \
    --grad-in "$TMP/gx.npy" --grad-params "$TMP/sp"

# Names are positional even for one --module: Linear(4, 2) alone reads 0.weight.npy, 0.bias.npy
mkdir -p "$TMP/lp"
expect_error 2 "lucidc: --params: $TMP/lp/0.weight.npy: missing (the model's parameter 0.weight)" \
    run --module 'Linear(4, 2)' --input "$DATA/x_1234.npy" --params "$TMP/lp"

# Default init from --seed: Lucid's U(-1/sqrt(fan_in), 1/sqrt(fan_in)) from SplitMix64, weight
# then bias, each rounded to float32, recomputed here in Python: y = W x + b for Linear(4, 2)
# on x = [1, 2, 3, 4] (rank 1 and 3 both taken).
for seed in 0 7 18446744073709551615; do
    expect_ok run --module 'Linear(4, 2)' --input "$DATA/x_1234.npy" --seed $seed --out "$TMP/ly.npy"
    expect_out_line "params   2 tensors, drawn from --seed $seed"
    /usr/bin/python3 - "$TMP/ly.npy" $seed <<'PY' || fail "Linear(4, 2) with --seed $seed: not Lucid's default init"
import sys, numpy as np
M = (1 << 64) - 1
seed, k = int(sys.argv[2]), 0
def u01():
    global k
    k += 1
    z = (seed + k * 0x9E3779B97F4A7C15) & M
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    z ^= z >> 31
    return (z >> 11) * 2.0 ** -53
b = 1 / np.sqrt(4.0)
W = np.array([np.float32(-b + 2 * b * u01()) for _ in range(8)], dtype=np.float64).reshape(2, 4)
bias = np.array([np.float32(-b + 2 * b * u01()) for _ in range(2)], dtype=np.float64)
want = W @ np.array([1.0, 2, 3, 4]) + bias
got = np.load(sys.argv[1]).reshape(-1)
assert np.allclose(got, want, rtol=1e-5, atol=1e-6), (got, want)
PY
done
expect_ok run --module 'Linear(4, 2)' --input "$DATA/x_1234.npy" --out "$TMP/ly_default.npy"
expect_ok run --module 'Linear(4, 2)' --input "$DATA/x_1234.npy" --seed 0 --out "$TMP/ly0.npy"
same_file "$TMP/ly_default.npy" "$TMP/ly0.npy"

finish
