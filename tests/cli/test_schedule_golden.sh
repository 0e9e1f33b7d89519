# Golden dumps of the fused and planned stages: each tests/data/schedule/NAME.args holds a
# lucidc command line (one argument per line) and NAME.txt its exact output, so a change in
# fusion or in a kernel's schedule (loop order, blocks, unrolling, LP scaling, splitting)
# shows up as a diff. After an intended change, regenerate with LUCID_UPDATE_GOLDEN=1.
. "$(dirname "$0")/lib.sh"

GOLDEN=$HERE/../data/schedule
for args_file in "$GOLDEN"/*.args; do
    name=$(basename "$args_file" .args)
    mapfile -t args <"$args_file"
    expect_ok "${args[@]}" || continue
    if [ "${LUCID_UPDATE_GOLDEN:-}" = 1 ]; then
        cp "$TMP/out" "$GOLDEN/$name.txt"
        continue
    fi
    if ! cmp -s "$TMP/out" "$GOLDEN/$name.txt"; then
        fail "$name: the dump differs from $name.txt: $(diff "$GOLDEN/$name.txt" "$TMP/out" | head -n 20)"
    fi
done
finish
