#!/usr/bin/env bash
# Install the build tree into a temporary prefix and use it as a user would: the expected files
# are there, the installed lucidc runs, and tests/install/consumer/main.c (an LPPool1d compiled
# and run on the JIT, every value checked) builds and runs twice: with
# `cc main.c $(pkg-config --cflags --libs lucid)` and through find_package(Lucid) in CMake.
#   test_install.sh BUILD_DIR CONSUMER_DIR CMAKE C_COMPILER VERSION [EXTRA_FLAGS]
# VERSION is what `lucidc --version` must print ("lucidc 0.1.0 (LLVM 19)"); EXTRA_FLAGS go to
# the consumers' compile and link (the sanitizer build's -fsanitize=...).
set -euo pipefail
build=$1 consumer=$2 cmake=$3 cc=$4 want_version=$5 extra=${6:-}

fail() { echo "test_install: $*" >&2; exit 1; }
# Run a command with its output in LOG, shown only when it fails.
logged() { local log=$1; shift; "$@" >>"$log" 2>&1 || { cat "$log" >&2; return 1; }; }

tmp=$(mktemp -d /tmp/lucid-install-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

logged "$tmp/install.log" "$cmake" --install "$build" --prefix "$prefix" || fail "cmake --install failed"

pc=$(find "$prefix" -name lucid.pc)
[ -n "$pc" ] || fail "no lucid.pc under $prefix"
pcdir=$(dirname "$pc")
libdir=$(dirname "$pcdir")
for f in bin/lucidc include/lucid/nn.h include/lucid/program.h include/lucid/ops.def \
         include/lucid/export.h include/lucid/version.h; do
  [ -f "$prefix/$f" ] || fail "$f was not installed"
done
for f in LucidConfig.cmake LucidConfigVersion.cmake LucidTargets.cmake; do
  [ -f "$libdir/cmake/Lucid/$f" ] || fail "${libdir#"$prefix"/}/cmake/Lucid/$f was not installed"
done
# Internal headers stay out of the installed tree.
[ ! -e "$prefix/include/lucid/pool_geometry.h" ] || fail "an internal header was installed"

version=$("$prefix/bin/lucidc" --version)
[ "$version" = "$want_version" ] || fail "lucidc --version printed '$version', expected '$want_version'"

# pkg-config. A shared liblucid needs only -llucid (an rpath lets the program find it); a
# static one also needs its private libraries (LLVM, -lm, -pthread), which --static adds.
if [ -e "$libdir/liblucid.so" ]; then
  kind=shared
  flags=$(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs lucid)
  flags="$flags -Wl,-rpath,$libdir"
else
  kind=static
  flags=$(PKG_CONFIG_PATH=$pcdir pkg-config --static --cflags --libs lucid)
fi
echo "test_install: $kind liblucid; cc main.c $flags"
# shellcheck disable=SC2086 # flags and extra are lists of words
"$cc" -std=c11 -Wall -Werror $extra "$consumer/main.c" $flags -o "$tmp/app_pkgconfig" \
  || fail "the pkg-config consumer did not build"
"$tmp/app_pkgconfig" || fail "the pkg-config consumer failed"

# CMake: find_package(Lucid) and Lucid::lucid.
logged "$tmp/cmake.log" "$cmake" -S "$consumer" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$extra" -DCMAKE_EXE_LINKER_FLAGS="$extra" \
  || fail "the CMake consumer did not configure"
logged "$tmp/cmake.log" "$cmake" --build "$tmp/cmake-build" || fail "the CMake consumer did not build"
"$tmp/cmake-build/app" || fail "the CMake consumer failed"
echo "test_install: both consumers built and ran against $kind liblucid"

# The Python package, installed beside the library, finds it with nothing set.
# (Not in the sanitizer builds: a sanitized library cannot be loaded into python3.)
if [ "$kind" = shared ] && [ -z "$extra" ] && [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
  pkg=$prefix/lib/python3/dist-packages
  [ -f "$pkg/lucid_c/__init__.py" ] || fail "the Python package was not installed under lib/python3/dist-packages"
  out=$(cd "$tmp" && env -u LUCID_LIBRARY PYTHONPATH="$pkg" /usr/bin/python3 -c '
import lucid_c, lucid_c.nn as nn
from lucid_c import _lib
print(lucid_c.__version__, nn.LPPool1d(2, 4)(lucid_c.ones(1, 8, 16)).numpy().max(), _lib.lib._name)') \
    || fail "the installed Python package does not import"

  set -- $out
  [ "$2" = 2.0 ] || fail "the installed Python package computed $2, expected 2.0"
  case "$3" in "$prefix"/*) ;; *) fail "the installed Python package loaded $3, not the library under $prefix";; esac
  echo "test_install: the installed Python package loads $3"
fi
