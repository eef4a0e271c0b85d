#!/usr/bin/env bash
# Installs the built project into a temporary prefix and builds a tiny
# consumer against it twice -- with find_package(feedmine) and with
# pkg-config -- then tags one ticket with each.
# Usage: consumer_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
# a small model to tag with
printf 'text,area\n"invoice charged twice",billing\n"refund for the seats",billing\n"app crashes on login",mobile\n"the ios app freezes",mobile\n' >"$tmp/train.csv"
"$tmp/prefix/bin/feedmine" train -q -i "$tmp/train.csv" --text text --label area \
  --no-calibration -o "$tmp/m.fmm" 2>/dev/null || \
  "$tmp/prefix/bin/feedmine" train -i "$tmp/train.csv" --text text --label area \
  --no-calibration -o "$tmp/m.fmm" >/dev/null
cmake -S "$src/tests/consumer" -B "$tmp/cm" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/cm" >/dev/null
out1=$(LD_LIBRARY_PATH="$tmp/prefix/lib:$tmp/prefix/lib64:$tmp/prefix/lib/x86_64-linux-gnu" "$tmp/cm/consumer" "$tmp/m.fmm")
pcdir=$(dirname "$(find "$tmp/prefix" -name feedmine.pc | head -1)")
export PKG_CONFIG_PATH="$pcdir"
cc -o "$tmp/consumer_pc" "$src/tests/consumer/main.c" $(pkg-config --cflags --libs feedmine)
out2=$(LD_LIBRARY_PATH="$(pkg-config --variable=libdir feedmine)" "$tmp/consumer_pc" "$tmp/m.fmm")
echo "find_package: $out1"
echo "pkg-config:   $out2"
[ "$out1" = "area=billing" ] && [ "$out2" = "area=billing" ]
