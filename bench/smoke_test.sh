#!/usr/bin/env bash
# Smoke test of lucid-bench (not a timing test): on a tiny shape it runs, exits 0, prints its
# table, and writes JSON records of exactly the form bench/README.md gives; bad options exit 2.
#   bench/smoke_test.sh path/to/lucid-bench ["lucid-bench X.Y.Z (LLVM N)"]
# With the second argument, --version must print exactly that.
set -euo pipefail
bench=${1:?usage: smoke_test.sh path/to/lucid-bench [VERSION_LINE]}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

if [ -n "${2:-}" ]; then
  version=$("$bench" --version)
  [ "$version" = "$2" ] || fail "--version printed '$version', expected '$2'"
fi

export LUCID_BENCH_BUDGET_MS=5
set +e
"$bench" --shape 1,1,4 --shape 2,3,8 --case avg_k3s1p1 --case lp2.5_k4s4 --impl floor,memcpy,interp,jit \
  --threads 1 --json "$tmp/out.json" >"$tmp/stdout" 2>"$tmp/stderr"
rc=$?
set -e
[ "$rc" -eq 0 ] || { cat "$tmp/stderr" >&2; fail "lucid-bench exited with $rc"; }
grep -q "WRONG RESULT" "$tmp/stderr" && fail "a result disagreed with the reference: $(cat "$tmp/stderr")"
grep -q "avg_k3s1p1  AvgPool1d(kernel_size=3, stride=1, padding=1" "$tmp/stdout" || fail "no table on stdout"
[ -f "$tmp/out.json" ] || fail "no JSON file"
ls "$tmp" | grep -q '\.tmp\.' && fail "temporary JSON file left behind"

# Every line is one record of the pinned form (a subset of JSON, keys in order).
num='-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?'
meas="^\{\"case\": \"(avg_k3s1p1|lp2\.5_k4s4)\", \"op\": \"(AvgPool1d|LPPool1d)\", \"params\": \"[A-Za-z0-9_=.,() ]+\", \"shape\": \[[0-9]+, [0-9]+, [0-9]+\], \"pass\": \"(fwd|fwdbwd)\", \"impl\": \"(floor|memcpy|jit|interp)\", \"threads\": 1, \"median_ms\": $num, \"min_ms\": $num, \"bytes\": [0-9]+, \"gbps\": $num, \"peak_extra_bytes\": [0-9]+(, \"variant\": \"[a-z0-9-]+\")?\}$"
comp="^\{\"case\": \"compile\", \"pipeline\": \"(avg_k3s1p1|lp2\.5_k4s4)\", \"pass\": \"(fwd|fwdbwd)\", \"impl\": \"jit-(cold|cached)\", \"median_ms\": $num\}$"
bad=$(grep -Ev "$meas" "$tmp/out.json" | grep -Ev "$comp" || true)
[ -z "$bad" ] || fail "malformed JSON record(s): $bad"
# The floor names its winning variant; no other record has one.
bad=$(grep '"impl": "floor"' "$tmp/out.json" | grep -v '"variant": ' || true)
[ -z "$bad" ] || fail "floor record(s) without a variant: $bad"
bad=$(grep -v '"impl": "floor"' "$tmp/out.json" | grep '"variant": ' || true)
[ -z "$bad" ] || fail "variant on a record other than the floor: $bad"

# Rows that must be there: floor, memcpy and interp for every case, shape and pass (2 x 2 x 2 each);
# jit too unless the library has no JIT (then stderr says so).
count() { grep -c "\"impl\": \"$1\"" "$tmp/out.json" || true; }
[ "$(count floor)" -eq 8 ] || fail "expected 8 floor rows, got $(count floor)"
[ "$(count interp)" -eq 8 ] || fail "expected 8 interp rows, got $(count interp)"
[ "$(count memcpy)" -eq 8 ] || fail "expected 8 memcpy rows, got $(count memcpy)"
if grep -q "jit: rows skipped" "$tmp/stderr"; then
  echo "note: $(grep "jit: rows skipped" "$tmp/stderr")"
else
  [ "$(count jit)" -eq 8 ] || fail "expected 8 jit rows, got $(count jit)"
  [ "$(count jit-cold)" -eq 4 ] || fail "expected 4 jit-cold records, got $(count jit-cold)"
  [ "$(count jit-cached)" -eq 4 ] || fail "expected 4 jit-cached records, got $(count jit-cached)"
fi
# Minimal bytes of (1,1,4) lp2.5_k4s4 fwd: x 4 floats + y 1 float = 20.
grep -q '"case": "lp2.5_k4s4".*"shape": \[1, 1, 4\], "pass": "fwd", "impl": "floor".*"bytes": 20,' "$tmp/out.json" \
  || fail "wrong minimal bytes for lp2.5_k4s4 (1,1,4) fwd"
grep -q '"case": "lp2.5_k4s4".*"shape": \[1, 1, 4\], "pass": "fwd", "impl": "memcpy".*"bytes": 20,' "$tmp/out.json" \
  || fail "memcpy row of lp2.5_k4s4 (1,1,4) fwd does not count the same 20 bytes"

# A case that does not fit one of the shapes is skipped there, with a line saying why.
set +e
"$bench" --shape 1,1,4 --shape 1,1,64 --case avg_k64s64 --impl floor --threads 1 \
  --json "$tmp/skip.json" >/dev/null 2>"$tmp/skip.err"
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "a case that fits only one shape: exit $rc ($(cat "$tmp/skip.err"))"
grep -q "avg_k64s64 on --shape 1,1,4: skipped: AvgPool1d" "$tmp/skip.err" || fail "no skip line: $(cat "$tmp/skip.err")"
[ "$(grep -c '"impl": "floor"' "$tmp/skip.json")" -eq 2 ] || fail "expected 2 floor rows for (1,1,64)"

# The floor's variants over rows of many lines that end mid-line, on one and two threads: the
# lockstep rows (floor.c, lock_row) walk each stream's head, lines and tail apart, and the
# sanitizer builds run this too. Every variant is timed, so every one runs.
set +e
"$bench" --shape 2,3,1000 --shape 3,2,4099 --case avg_k3s1p1 --case lp2_k4s4 --impl floor --threads 1,2 \
  >/dev/null 2>"$tmp/rows.err"
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "the floor on longer rows: exit $rc ($(cat "$tmp/rows.err"))"

# The model cases: the seed model through the JIT (cheap to compile) and the convolution case
# through oneDNN, with the FMA loop as their floor; every pass, results checked, GFLOP/s in the
# records. The convolution case does not fit (1,1,4): skipped there.
# (The convolution's compiles take seconds, so its JIT rows are left to real runs.)
set +e
"$bench" --shape 1,1,4 --case seed_model --impl floor,jit --threads 1 --json "$tmp/model.json" \
  >"$tmp/model.out" 2>"$tmp/model.err" &&
"$bench" --shape 1,1,4 --shape 2,16,8 --case conv16x32_k3_avg2 --impl floor,onednn-conv --threads 1 \
  --json "$tmp/conv.json" >>"$tmp/model.out" 2>>"$tmp/model.err"
rc=$?
set -e
[ "$rc" -eq 0 ] || { cat "$tmp/model.err" >&2; fail "model cases: lucid-bench exited with $rc"; }
cat "$tmp/conv.json" >>"$tmp/model.json"
grep -q "WRONG RESULT" "$tmp/model.err" && fail "a model result disagreed with the reference: $(cat "$tmp/model.err")"
grep -q "conv16x32_k3_avg2 on --shape 1,1,4: skipped: Conv1d" "$tmp/model.err" || fail "no skip line for the conv case"
mrec="^\{\"case\": \"(seed_model|conv16x32_k3_avg2)\", \"op\": \"Sequential\(Conv1d, AvgPool1d(, Linear)?\)\", \"params\": \"Sequential\( \(0\): Conv1d\([^\"]+\)\", \"shape\": \[[0-9]+, [0-9]+, [0-9]+\], \"pass\": \"(fwd|fwdbwd|train)\", \"impl\": \"(floor|jit|onednn-conv)\", \"threads\": 1, \"median_ms\": $num, \"min_ms\": $num, \"bytes\": [0-9]+, \"gbps\": $num, \"peak_extra_bytes\": [0-9]+, \"gflops\": $num(, \"variant\": \"fma-(zmm|ymm|scalar)\")?\}$"
mcomp="^\{\"case\": \"compile\", \"pipeline\": \"seed_model\", \"pass\": \"(fwd|fwdbwd|train)\", \"impl\": \"jit-(cold|cached)\", \"median_ms\": $num\}$"
bad=$(grep -Ev "$mrec" "$tmp/model.json" | grep -Ev "$mcomp" || true)
[ -z "$bad" ] || fail "malformed model record(s): $bad"
mcount() { grep "\"case\": \"$1\"" "$tmp/model.json" | grep -c "\"impl\": \"$2\"" || true; }
[ "$(mcount seed_model floor)" -eq 3 ] || fail "expected 3 seed_model floor rows (fwd, fwdbwd, train)"
[ "$(mcount conv16x32_k3_avg2 floor)" -eq 3 ] || fail "expected 3 conv16x32_k3_avg2 floor rows"
if ! grep -q "jit: rows skipped" "$tmp/model.err"; then
  [ "$(mcount seed_model jit)" -eq 3 ] || fail "expected 3 seed_model jit rows, got $(mcount seed_model jit)"
fi
if ! grep -q "onednn-conv: rows skipped: not installed" "$tmp/model.err"; then
  [ "$(mcount conv16x32_k3_avg2 onednn-conv)" -eq 2 ] || fail "expected 2 onednn-conv rows (fwd, fwdbwd)"
fi
# FLOPs of the seed model's forward at (1,1,4): 2 x (conv 1*1*4*1*3 + linear 1*1*1*2) = 28.
grep '"case": "seed_model".*"pass": "fwd", "impl": "floor"' "$tmp/model.json" | grep -q '"variant": "fma-' \
  || fail "the model floor names no FMA variant"

# The 2-D cases on a small (N, C, H, W): every implementation's rows checked against the
# reference (exit 1 on a wrong result), oneDNN's for average and max pooling only. No jit
# rows here: they bring compile records (tens of cold compiles), and the JIT's 2-D pools are
# checked against the interpreter by the unit tests.
set +e
LUCID_BENCH_BUDGET_MS=5 "$bench" --shape 1,2,9,12 --case avg2d_k2s2 --case lp2_2d_k2s2 --case max2d_k3s2p1 \
  --impl floor,interp,onednn-ncw,onednn-blocked --threads 1 --json "$tmp/pool2d.json" >/dev/null 2>"$tmp/pool2d.err"
rc=$?
set -e
[ "$rc" -eq 0 ] || { cat "$tmp/pool2d.err" >&2; fail "2-D cases: lucid-bench exited with $rc"; }
for c in avg2d_k2s2 lp2_2d_k2s2 max2d_k3s2p1; do
  n=$(grep "\"case\": \"$c\".*\"shape\": \[1, 2, 9, 12\]" "$tmp/pool2d.json" | grep -c '"impl": "interp"' || true)
  [ "$n" -eq 2 ] || fail "$c: expected 2 interp rows (fwd, fwdbwd), got $n"
done
if ! grep -q "onednn-ncw: rows skipped: not installed" "$tmp/pool2d.err"; then
  grep -q "onednn-ncw: rows skipped: average and max pooling only (oneDNN has no LP pooling)" "$tmp/pool2d.err" \
    || fail "no line saying why LPPool2d has no oneDNN rows"
  [ "$(grep '"case": "max2d_k3s2p1"' "$tmp/pool2d.json" | grep -c '"impl": "onednn-blocked"')" -eq 2 ] \
    || fail "expected 2 onednn-blocked rows for max2d_k3s2p1"
fi

# Usage errors: exit 2 with one line naming the option.
expect_usage() {
  local want=$1; shift
  set +e
  "$bench" "$@" >/dev/null 2>"$tmp/err"
  local rc=$?
  set -e
  [ "$rc" -eq 2 ] || fail "lucid-bench $* exited $rc, expected 2"
  grep -q -- "$want" "$tmp/err" || fail "lucid-bench $*: message lacks '$want': $(cat "$tmp/err")"
}
expect_usage "unknown option" --frobnicate
expect_usage "--shape 1,2" --shape 1,2
expect_usage "--shape 0,1,4" --shape 0,1,4
expect_usage "unknown case" --case lp9
expect_usage "no case fits" --shape 1,1,4 --case avg_k64s64
expect_usage "unknown impl" --impl jit,cuda
expect_usage "--threads" --threads 0
expect_usage "needs a value" --json
expect_usage "shorter than kernel_size" --shape 1,1,2 --case lp2_k4s4 --impl floor
echo "lucid-bench smoke test passed"
