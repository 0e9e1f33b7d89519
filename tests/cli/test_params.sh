# lucidc run with the modules that have parameters: the seed model (Conv1d -> AvgPool1d ->
# Linear) forward and backward on both engines, parameters drawn from --seed (the same seed
# gives the same output, another seed another), Linear on any rank, and the errors.
. "$(dirname "$0")/lib.sh"

SEED_MODEL=(--module 'Conv1d(1, 1, 3, stride=1, padding=1)' --module 'AvgPool1d(2, 2)' --module 'Linear(2, 1)')
X=$DATA/x_1234.npy
for engine in interp jit; do
    for seed in 0 7; do
        expect_ok run "${SEED_MODEL[@]}" --input "$X" --out "$TMP/y_${engine}_$seed.npy" \
            --grad-out "$DATA/seed_1.npy" --grad-in "$TMP/gx_${engine}_$seed.npy" --seed "$seed" --engine "$engine"
        expect_out_line "params   4 tensors, drawn from --seed $seed"
        expect_out_line "output   f32 [1,1,1] -> $TMP/y_${engine}_$seed.npy"
        expect_out_line "grad     seed $DATA/seed_1.npy [1,1,1] -> $TMP/gx_${engine}_$seed.npy [1,1,4]"
    done
    cmp -s "$TMP/y_${engine}_0.npy" "$TMP/y_${engine}_7.npy" && fail "$engine: seeds 0 and 7 gave the same output"
done
# No --seed is seed 0.
expect_ok run "${SEED_MODEL[@]}" --input "$X" --out "$TMP/y_default.npy" --engine interp
same_file "$TMP/y_default.npy" "$TMP/y_interp_0.npy"
expect_ok run "${SEED_MODEL[@]}" --input "$X" --out "$TMP/y_again.npy" --seed 7 --engine interp
same_file "$TMP/y_again.npy" "$TMP/y_interp_7.npy"

# Linear takes the features on the last axis of any rank; ReLU any rank.
expect_ok run --module 'Linear(4, 3)' --module 'ReLU()' --input "$X" --out "$TMP/y.npy"
expect_out_line "output   f32 [1,1,3] -> $TMP/y.npy"

expect_error 2 "lucidc: --seed: expected an integer between 0 and 18446744073709551615, got '-1'" \
    run "${SEED_MODEL[@]}" --input "$X" --seed -1
expect_error 2 "lucidc: --module: MSELoss(reduction='mean') takes 2 inputs (input, target): a loss is a module of the C and Python APIs, not a layer of a model spec" \
    run --module 'MSELoss()' --input "$X"
expect_error 2 "lucidc: --input: $X: Linear: the input's last axis must have in_features = 3 elements, got 4 (input shape [1,1,4])" \
    run --module 'Linear(3, 2)' --input "$X"
expect_error 2 "lucidc: --module 1: Conv1d: groups must divide in_channels, got 3 and 4" \
    run --module 'Conv1d(4, 2, 3, groups=3)' --input "$X"
expect_error 2 "lucidc: --module 1: Conv1d: padding='same' needs stride 1, got stride 2" \
    run --module "Conv1d(1, 2, 3, stride=2, padding='same')" --input "$X"

finish
