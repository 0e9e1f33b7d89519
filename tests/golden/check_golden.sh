# Golden dumps: for each case directory here (a `model` file as `lucidc --model` reads it and
# an `args` line of dump options), the `fuse` and `plan` stages as `lucidc dump` prints them
# must equal the stored fuse.txt and plan.txt byte for byte, so a change in fusion or in the
# buffer plan shows up as a diff. After a change meant to alter them, regenerate with
#   LUCID_UPDATE_GOLDEN=1 ctest --test-dir build -R golden
# and review the diff (git diff tests/golden) before committing it.
# usage: check_golden.sh LUCIDC
set -u
LUCIDC=$1
# The same dumps on every host: a named CPU makes fuse take nothing from the host (its cache
# size, its vendor, whether it has mask registers: docs/environment.md, LUCID_CPU), and these
# stages compile nothing for it.
export LUCID_CPU=x86-64 LUCID_CPU_FEATURES=
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failed=0
cases=0
for dir in "$HERE"/*/; do
    dir=${dir%/}
    name=$(basename "$dir")
    [ -f "$dir/model" ] && [ -f "$dir/args" ] || continue
    cases=$((cases + 1))
    # shellcheck disable=SC2046 # args holds several options, split on purpose
    if ! "$LUCIDC" dump --model "$dir/model" $(cat "$dir/args") --stage fuse,plan -o "$TMP/$name" \
        >"$TMP/$name.log" 2>&1; then
        echo "FAIL $name: lucidc dump failed:"
        cat "$TMP/$name.log"
        failed=$((failed + 1))
        continue
    fi
    for stage in fuse plan; do
        got=$(ls "$TMP/$name"/*-"$stage".txt)
        if [ "${LUCID_UPDATE_GOLDEN:-}" = 1 ]; then
            cp "$got" "$dir/$stage.txt"
            echo "updated $name/$stage.txt"
        elif [ ! -f "$dir/$stage.txt" ]; then
            echo "FAIL $name: no $stage.txt (make it with LUCID_UPDATE_GOLDEN=1)"
            failed=$((failed + 1))
        elif ! diff -u "$dir/$stage.txt" "$got" >"$TMP/$name.$stage.diff"; then
            echo "FAIL $name: $stage stage differs from $name/$stage.txt:"
            cat "$TMP/$name.$stage.diff"
            failed=$((failed + 1))
        fi
    done
done
[ "$cases" -gt 0 ] || { echo "FAIL: no golden case found under $HERE"; exit 1; }
echo "$cases golden cases, $failed differences"
[ "$failed" = 0 ]
