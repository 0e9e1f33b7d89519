# lucidc --help and -h: the usage on stdout, exit 0, for the top level and every subcommand,
# wherever the flag stands among the options (but not as an option's value); unknown options
# and subcommands: one stderr line, exit 2.
. "$(dirname "$0")/lib.sh"

for flag in --help -h help; do
    expect_ok "$flag"
    expect_out_match '^usage: lucidc <command>'
done
for cmd in run dump check demo; do
    for flag in --help -h; do
        expect_ok "$cmd" "$flag"
        expect_out_match "^usage: lucidc $cmd"
    done
    expect_ok help "$cmd"
    expect_out_match "^usage: lucidc $cmd"
    cp "$TMP/out" "$TMP/help_$cmd"
done
# Each subcommand has its own text, naming its options.
grep -q -- '--grad-in' "$TMP/help_run" || fail "run --help does not describe --grad-in"
grep -q -- '--stage' "$TMP/help_dump" || fail "dump --help does not describe --stage"
grep -q -- '--engine' "$TMP/help_check" || fail "check --help does not describe --engine"
# run's text says what happens to outputs that are not regular files.
grep -q 'symlink' "$TMP/help_run" || fail "run --help does not say how a symlinked --out is written"
grep -q 'FIFO' "$TMP/help_run" || fail "run --help does not say that a FIFO --out is refused"

# Among other options, even ones that would fail: help wins, nothing runs.
expect_ok run --module 'AvgPool1d(2)' --input "$TMP/none.npy" --help
expect_out_match '^usage: lucidc run'
expect_ok dump --module 'AvgPool1d(2)' --backward -h
expect_out_match '^usage: lucidc dump'
expect_ok check --engine interp "$TMP/nowhere" --help
expect_out_match '^usage: lucidc check'
# As the value of an option it is that value, not a request for help.
expect_error 2 "lucidc: --engine: expected jit or interp, got '--help'" run --module 'AvgPool1d(2)' --input "$DATA/x_1234.npy" --engine --help
expect_error 2 "lucidc: check: *" check -- --help

# Unknown options and commands: exit 2, one line.
expect_error 2 "lucidc: unknown option '--bogus' (commands: run, dump, check, demo; see lucidc --help)" --bogus
expect_error 2 "lucidc: unknown command 'frob' (commands: run, dump, check, demo; see lucidc --help)" frob
expect_error 2 "lucidc: help: unknown command 'frob' (commands: run, dump, check, demo)" help frob
expect_error 2 "lucidc: run: unknown option '--bogus'" run --bogus
expect_error 2 "lucidc: dump: unknown option '--bogus'" dump --module 'AvgPool1d(2)' --bogus
expect_error 2 "lucidc: check: unknown option '--bogus'" check --bogus
expect_error 2 "lucidc: demo: *'--bogus'" demo --bogus

finish
