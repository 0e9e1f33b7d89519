# lucidc dump end to end: stage selection and order, ";; stage NAME" on stdout, -o DIR file
# names NN-NAME.EXT, --format dot, the text IR round trip through --ir, and the error paths.
. "$(dirname "$0")/lib.sh"

M='AvgPool1d(3, 1, 1)'
L='LPPool1d(2, 4)'

# Default: the graph as built, printed under ";; stage built".
expect_ok dump --module "$M" --module "$L" --shape 2,3,16
[ "$(head -n 1 "$TMP/out")" = ';; stage built' ] || fail "dump does not start with ';; stage built': $(head -n 3 "$TMP/out")"
expect_out_line '  %0 = input "x" : f32[2,3,16]'
expect_out_match '^  %[0-9]+ = pow\(%[0-9]+\) .*: f32\[2,3,4\] name="1\.LPPool1d\.root"$'
expect_out_match '^  output %7$'
[ "$(grep -c '^;; stage' "$TMP/out")" = 1 ] || fail "default dump printed more than one stage"
# graph is an alias of built; C,L shapes and f64 work.
expect_ok dump --module "$L" --shape 3,16 --dtype f64 --stage graph
expect_out_line ';; stage built'
expect_out_line '  %0 = input "x" : f64[3,16]'

# --stage all without --backward: every available stage but autodiff, in pipeline order.
expect_ok dump --module "$M" --module "$L" --shape 1,2,64 --stage all
grep '^;; stage' "$TMP/out" >"$TMP/stages"
printf ';; stage %s\n' built simplify cse dce fuse plan llvm llvm-opt asm remarks time >"$TMP/want"
same_file "$TMP/stages" "$TMP/want"
expect_out_match '^kernel 0: '
expect_out_match '^define i32 @lc_kernel_0'
expect_out_match 'vectoriz'
expect_out_match '^codegen +[0-9.]+ ms'
# With --backward, autodiff comes right after built; a list prints in pipeline order.
expect_ok dump --module "$L" --shape 1,2,16 --backward --stage time,autodiff,built
grep '^;; stage' "$TMP/out" >"$TMP/stages"
printf ';; stage %s\n' built autodiff time >"$TMP/want"
same_file "$TMP/stages" "$TMP/want"
expect_out_match '^  %[0-9]+ = input "grad\.LPPool1d\.root" : f32\[1,2,4\]$'
expect_out_match '^  %[0-9]+ = fold\(.*name="grad\.x"$'

# -o DIR: one file per stage, NN = position in this run's pipeline, EXT by kind.
expect_ok dump --module "$M" --module "$L" --shape 1,2,64 --backward --stage all -o "$TMP/d"
(cd "$TMP/d" && ls) >"$TMP/files"
printf '%s\n' 00-built.ir 01-autodiff.ir 02-simplify.ir 03-cse.ir 04-dce.ir 05-fuse.txt 06-plan.txt \
    07-llvm.ll 08-llvm-opt.ll 09-asm.s 10-remarks.txt 11-time.txt >"$TMP/want"
same_file "$TMP/files" "$TMP/want"
for f in "$TMP"/d/*; do [ -s "$f" ] || fail "$f is empty"; done
grep -q 'vectorized loop' "$TMP/d/10-remarks.txt" || fail "no vectorized loop in the remarks"
grep -q '^define i32 @lc_kernel_0' "$TMP/d/07-llvm.ll" || fail "llvm stage lacks the kernel"
expect_ok dump --module "$L" --shape 1,2,64 --stage plan,built --format dot -o "$TMP/dot"
(cd "$TMP/dot" && ls) >"$TMP/files"
printf '%s\n' 00-built.dot 05-plan.txt >"$TMP/want"
same_file "$TMP/files" "$TMP/want"
grep -q '^digraph ' "$TMP/dot/00-built.dot" || fail "--format dot did not write Graphviz"
expect_ok dump --module "$L" --shape 1,2,64 --format dot
expect_out_match '^digraph '

# --format dot on stdout is one DOT stream: "// stage NAME" comments, each graph stage a whole
# digraph, the other stages' text commented out; Graphviz reads all of it when installed.
expect_ok dump --module "$M" --module "$L" --shape 1,2,16 --backward --stage all --format dot
grep '^// stage' "$TMP/out" >"$TMP/stages"
printf '// stage %s\n' built autodiff simplify cse dce fuse plan llvm llvm-opt asm remarks time >"$TMP/want"
same_file "$TMP/stages" "$TMP/want"
[ "$(grep -c '^digraph ' "$TMP/out")" = 5 ] || fail "--format dot: want 5 digraphs (one per graph stage)"
grep -q '^// kernel 0: ' "$TMP/out" || fail "--format dot: the fuse stage is not a comment"
grep -q '^;;' "$TMP/out" && fail "--format dot: a ';;' line is not DOT"
if command -v dot >/dev/null 2>&1; then
    cp "$TMP/out" "$TMP/all.dot"
    dot -Tsvg "$TMP/all.dot" >"$TMP/all.svg" 2>"$TMP/dot.err" || fail "dot rejects the stream: $(cat "$TMP/dot.err")"
    [ "$(grep -c '<svg' "$TMP/all.svg")" = 5 ] || fail "dot did not draw 5 graphs"
fi

# The walk ends at the last stage asked for: up to plan, LLVM never starts, so a CPU name it
# would have to complain about is never read.
LUCID_CPU=bogus-cpu expect_ok dump --module "$L" --shape 1,2,16 --stage built,plan
# time: every stage that ran, with the driver's milliseconds, and codegen's steps.
expect_ok dump --module "$L" --shape 1,2,16 --stage time
for stage in built simplify cse dce fuse plan llvm llvm-opt asm link codegen total; do
    expect_out_match "^$stage +[0-9.]+ ms"
done
grep -q '^autodiff ' "$TMP/out" && fail "time lists autodiff without --backward"

# Round trip: a graph stage read back with --ir prints the same text.
expect_ok dump --module "$M" --module "$L" --shape 2,3,32 --backward --stage built,autodiff,simplify -o "$TMP/rt1"
expect_ok dump --ir "$TMP/rt1/00-built.ir" --stage built -o "$TMP/rt2"
same_file "$TMP/rt1/00-built.ir" "$TMP/rt2/00-built.ir"
expect_ok dump --ir "$TMP/rt1/01-autodiff.ir" --stage built,simplify -o "$TMP/rt3"
same_file "$TMP/rt1/01-autodiff.ir" "$TMP/rt3/00-built.ir"
same_file "$TMP/rt1/02-simplify.ir" "$TMP/rt3/01-simplify.ir"
# ... and --ir --backward differentiates what it read.
expect_ok dump --ir "$TMP/rt1/00-built.ir" --backward --stage autodiff -o "$TMP/rt4"
same_file "$TMP/rt1/01-autodiff.ir" "$TMP/rt4/01-autodiff.ir"
# Stdout form of the same stage is the file's text under its header.
expect_ok dump --ir "$TMP/rt1/00-built.ir"
{ echo ';; stage built'; cat "$TMP/rt1/00-built.ir"; } >"$TMP/want"
same_file "$TMP/out" "$TMP/want"
# Writing files twice replaces them whole (temporary name, then rename): no leftovers.
expect_ok dump --ir "$TMP/rt1/00-built.ir" --stage built -o "$TMP/rt2"
[ "$(ls -A "$TMP/rt2")" = 00-built.ir ] || fail "dump -o left extra files: $(ls -A "$TMP/rt2")"

# ---- errors ----
expect_error 2 "lucidc: --stage: unknown stage 'frob' (stages: built, autodiff, simplify, cse, dce, fuse, plan, llvm, llvm-opt, asm, remarks, time, all; graph = built)" dump --module "$L" --stage frob
expect_error 2 'lucidc: --stage: stage autodiff needs --backward' dump --module "$L" --stage autodiff
expect_error 2 "lucidc: --stage: expected a comma-separated list of stage names or 'all', got 'built,'" dump --module "$L" --stage built,
expect_error 2 'lucidc: --stage: missing value' dump --module "$L" --stage
expect_error 2 "lucidc: --shape: expected 1 to 6 positive integers D0,D1,..., got '1,2,3,4,5,6,7'" dump --module "$L" --shape 1,2,3,4,5,6,7
expect_error 2 "lucidc: --shape: expected 1 to 6 positive integers D0,D1,..., got '0,16'" dump --module "$L" --shape 0,16
expect_error 2 "lucidc: --shape: expected 1 to 6 positive integers D0,D1,..., got '1,,4'" dump --module "$L" --shape 1,,4
expect_error 2 "lucidc: --shape: expected 1 to 6 positive integers D0,D1,..., got '1,x,4'" dump --module "$L" --shape 1,x,4
# Any rank passes the parser; the first module checks the rank it takes.
expect_error 2 "lucidc: --shape 1,2,3,4: LPPool1d: input must have rank 2 (C, L) or 3 (N, C, L), got rank 4" dump --module "$L" --shape 1,2,3,4
expect_error 2 "lucidc: --shape 16: LPPool1d: input must have rank 2 (C, L) or 3 (N, C, L), got rank 1" dump --module "$L" --shape 16
# The 2-D pools dump on (N, C, H, W) and (C, H, W) inputs.
expect_ok dump --module 'MaxPool2d(3, 2, 1)' --shape 2,3,16,16 --stage fuse
expect_out_match 'max'
expect_ok dump --module 'AvgPool2d(2)' --shape 3,8,8 --stage plan
expect_ok dump --module 'LPPool2d(2, (2, 3))' --shape 1,2,8,9 --backward --stage fuse
expect_error 2 'lucidc: --shape 1,1,3: LPPool1d: input length 3 *' dump --module "$L" --shape 1,1,3
expect_error 2 "lucidc: --dtype: expected f32 or f64, got 'f16'" dump --module "$L" --dtype f16
expect_error 2 "lucidc: --format: expected text or dot, got 'svg'" dump --module "$L" --format svg
expect_error 2 'lucidc: dump: no model: give --model FILE, --module SPEC or --ir FILE' dump --shape 1,2,16
expect_error 2 'lucidc: --ir: cannot be combined with --model or --module (give one)' dump --ir "$TMP/rt1/00-built.ir" --module "$L"
expect_error 2 'lucidc: --shape: not used with --ir (the IR holds its shapes)' dump --ir "$TMP/rt1/00-built.ir" --shape 1,2,16
expect_error 2 'lucidc: --dtype: not used with --ir (the IR holds its dtypes)' dump --ir "$TMP/rt1/00-built.ir" --dtype f64
expect_error 2 "lucidc: --ir: $TMP/none.ir: cannot open: No such file or directory" dump --ir "$TMP/none.ir"
printf 'graph {\n  %%0 = input "x" : f32[1,2,8]\n  %%1 = frob(%%0)\n}\n' >"$TMP/bad.ir"
expect_error 2 "lucidc: --ir: $TMP/bad.ir:3:8: *" dump --ir "$TMP/bad.ir"
printf 'graph {\n  %%0 = input "x" : f32[1,2,8]\n}\n' >"$TMP/noout.ir"
expect_error 2 "lucidc: --ir: $TMP/noout.ir: the graph has no outputs" dump --ir "$TMP/noout.ir"
printf 'x' >"$TMP/afile"
expect_error 2 "lucidc: -o: $TMP/afile: exists and is not a directory" dump --module "$L" -o "$TMP/afile"
expect_error 2 "lucidc: dump: unknown option '--bogus'" dump --module "$L" --bogus
expect_error 2 'lucidc: --module 1: col 10: LPPool1d: norm_type must be a number, got True' dump --module 'LPPool1d(True, 2)'
[ ! -e "$TMP/never" ] || fail "unexpected"
expect_error 2 "lucidc: --stage: unknown stage 'frob' *" dump --module "$L" --stage frob -o "$TMP/never"
[ ! -e "$TMP/never" ] || fail "a failing dump created its -o directory"

finish
