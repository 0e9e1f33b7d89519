# lucidc demo (the README's first command): exit 0, the built graph's text IR, every stage
# summarized, the JIT checked against the interpreter, times and bandwidth.
. "$(dirname "$0")/lib.sh"

expect_ok demo
expect_out_line 'AvgPool1d(kernel_size=3, stride=1, padding=1)'
expect_out_line '  %0 = input "x" : f32[8,16,4096]'
expect_out_match '^  %[0-9]+ = unfold\(%0\) dim=2 size=3 step=1 pad_lo=1 pad_hi=1 : f32\[8,16,4096,3\] name="0\.AvgPool1d\.unfold"$'
expect_out_match '^  %[0-9]+ = pow\(%[0-9]+\) .*: f32\[8,16,1024\] name="1\.LPPool1d\.root"$'
for stage in built autodiff simplify cse dce fuse plan llvm llvm-opt asm remarks; do
    expect_out_match "^  $stage "
done
grep -q 'not available yet' "$TMP/out" && fail "demo lists a stage as not available"
# each stage's time for the forward and the training step, from the compile driver's hook
# (autodiff runs only in the training step)
expect_out_match '^  autodiff +- +[0-9.]+  [0-9]+ nodes'
for stage in simplify fuse llvm llvm-opt asm; do
    expect_out_match "^  $stage +[0-9.]+ +[0-9.]+  "
done
# the demo's programs are small: each compiles quick first, and then its optimized tier
# before the runs are timed (docs/pipeline.md, "Tiers"); with a disk cache (the valgrind pass
# of scripts/test.sh runs lucidc with one) or LUCID_TIERED=0 they compile optimized at once,
# and the demo says nothing of tiers
expect_out_match '^  compile forward \(every stage\) +[0-9.]+ ms +[0-9]+ kernels?(, quick tier)?$'
if grep -q ', quick tier$' "$TMP/out"; then
    expect_out_match '^  then their optimized tiers +[0-9.]+ ms, [0-9.]+ ms \(the runs below use them\)$'
else
    grep -q 'then their optimized tiers' "$TMP/out" && fail "optimized tiers without a quick one"
fi
expect_out_line 'check: JIT against the interpreter (rtol 1e-4, atol 1e-6)'
expect_out_match '^  forward y +max abs err .*: ok$'
expect_out_match '^  gradient dx +max abs err .*: ok$'
expect_out_match '^  run forward +[0-9.]+ ms +[0-9.]+ GB/s'
expect_out_match '^  run forward \+ backward +[0-9.]+ ms +[0-9.]+ GB/s'
expect_out_match '^  compile forward \+ backward +[0-9.]+ ms +[0-9]+ kernels?(, quick tier)?$'
# the training part: the seed model trained as one program, the loss falling, the JIT's
# parameters as the interpreter's
expect_out_match '^  forward, loss, backward and update compiled into one program of [0-9]+ kernels'
expect_out_match '^  step   0  loss [0-9.e+-]+ +\(interpreter [0-9.e+-]+\)$'
expect_out_match '^  step  59  loss [0-9.e+-]+ +\(interpreter [0-9.e+-]+\)$'
expect_out_match '^  60 steps in [0-9.]+ ms .*; the loss fell .*: ok$'
expect_out_match '^  trained parameters, JIT against the interpreter .*: ok$'
expect_out_line 'demo: ok'
expect_error 2 "lucidc: demo: takes no arguments, got 'now'" demo now

finish
