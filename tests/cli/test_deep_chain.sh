# Long chains in text IR go through every pass, fuse included, in time linear in the chain:
# 100,000 nodes of abs (each read by the next and by the backward's sign) and of mul(%i-1, %0)
# (whose backward reads every link of the forward chain), forward and backward, to the fuse
# and plan stages; the abs chain also through codegen. Only completion is checked here (ctest's
# timeout bounds it); test_deep_chain pins values and the kernels' bounds.
. "$(dirname "$0")/lib.sh"

# A scale test: under a wrapper (the valgrind pass runs lucidc under memcheck) 100,000-node
# graphs take far longer than the suite allows; memory errors on these paths are the plain
# and sanitizer runs' to find (ctest runs this script against the ASan build too).
skip_under_wrapper "a 100,000-node chain under it is too slow"

N=100000
# chain FILE OP: %i = OP(%i-1) (abs) or mul(%i-1, %0), f64[1,1,4].
chain() {
    awk -v n="$N" -v op="$2" 'BEGIN {
        print "graph {"; print "  %0 = input \"x\" : f64[1,1,4]"
        for (i = 1; i <= n; i++)
            if (op == "abs") printf "  %%%d = abs(%%%d) : f64[1,1,4]\n", i, i - 1
            else printf "  %%%d = mul(%%%d, %%0) : f64[1,1,4]\n", i, i - 1
        printf "  output %%%d\n}\n", n }' >"$1"
}
chain "$TMP/abs.ir" abs
chain "$TMP/mul.ir" mul

for ir in abs mul; do
    if expect_ok dump --ir "$TMP/$ir.ir" --backward --stage fuse,plan; then
        grep -q '^;; fused: [0-9]* kernels$' "$TMP/out" || fail "$ir chain: no fuse stage: $(head -c 300 "$TMP/out")"
        grep -q '^;; stage plan$' "$TMP/out" || fail "$ir chain: no plan stage"
    fi
done
# compiled: codegen reads fuse's bound on the inline depth (a kernel's expression is at most
# LC_INLINE_DEPTH_MAX nodes deep), so its recursion stays bounded too
if expect_ok dump --ir "$TMP/abs.ir" --backward --stage time; then
    grep -q '^codegen ' "$TMP/out" || fail "abs chain: not compiled: $(head -c 300 "$TMP/out")"
fi
finish
