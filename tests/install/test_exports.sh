#!/usr/bin/env bash
# liblucid.so exports the public API and nothing else: every dynamic symbol it defines is an
# lc_ function declared with LC_API in the installed headers, every such declaration is
# exported, and an internal function that the static archive holds (lc_fuse) is not.
#   test_exports.sh LIBLUCID.so LIBLUCID_INTERNAL.a HEADER_DIR...
set -euo pipefail
lib=$1 internal=$2
shift 2

fail() { echo "test_exports: $*" >&2; exit 1; }

# The linker's own markers of the data segment's end, present in every shared object.
linker_symbols='^(__bss_start|_edata|_end|_init|_fini)$'
exported=$(nm -D --defined-only "$lib" | awk '{print $NF}' | grep -Ev "$linker_symbols" | sort)
[ -n "$exported" ] || fail "$lib exports nothing"

# Declared names: "LC_API <type> lc_name(" in the public headers (a name may follow a '*').
headers=()
for dir in "$@"; do headers+=("$dir"/*.h); done
declared=$(cat "${headers[@]}" | grep -oE '^LC_API [^(]*[ *]lc_[a-z0-9_]+\(' \
           | grep -oE 'lc_[a-z0-9_]+\($' | tr -d '(' | sort -u)
[ "$(echo "$declared" | wc -l)" -ge 50 ] || fail "found only $(echo "$declared" | wc -l) LC_API declarations"

bad=0
extra=$(comm -23 <(echo "$exported") <(echo "$declared"))
if [ -n "$extra" ]; then
  echo "test_exports: exported but not declared with LC_API in the public headers:" >&2
  echo "$extra" | sed 's/^/  /' >&2
  bad=1
fi
missing=$(comm -13 <(echo "$exported") <(echo "$declared"))
if [ -n "$missing" ]; then
  echo "test_exports: declared with LC_API but not exported:" >&2
  echo "$missing" | sed 's/^/  /' >&2
  bad=1
fi

# The archive has the internal functions, the shared library hides them.
internal_fuse=$(nm --defined-only "$internal" | awk '$2 == "T" && $3 == "lc_fuse"')
[ -n "$internal_fuse" ] || fail "$internal has no lc_fuse (is the check still meaningful?)"
if echo "$exported" | grep -qx 'lc_fuse'; then
  fail "$lib exports the internal lc_fuse"
fi
[ $bad -eq 0 ] || exit 1
echo "test_exports: $(echo "$exported" | wc -l) symbols, all public"
