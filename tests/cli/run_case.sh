#!/usr/bin/env bash
# Runs one CLI golden case: tests/cli/<case>/cmd is a bash snippet run in a
# scratch copy of the case folder with $FEEDMINE set to the binary and $SRC
# to the source tree. Its stdout is compared with `stdout`, its stderr with
# `stderr` (when that file exists), its exit status with `status` (default
# 0). FM_UPDATE_GOLDEN=1 rewrites the expected files instead.
set -u
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
case_dir=$(cd "$2" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
wrap=
trap 'rm -rf "$work" $wrap' EXIT
cp -r "$case_dir"/. "$work"/
# FEEDMINE_WRAPPER (e.g. "valgrind --leak-check=full --error-exitcode=1")
# runs every feedmine the case starts under that command. The wrapper is
# a script outside the case folder, so cases that list their folder do
# not see it.
if [ -n "${FEEDMINE_WRAPPER:-}" ]; then
  wrap=$(mktemp -d)
  printf '#!/bin/sh\nexec %s "%s" "$@"\n' "$FEEDMINE_WRAPPER" "$bin" >"$wrap/feedmine"
  chmod +x "$wrap/feedmine"
  bin=$wrap/feedmine
fi
cd "$work"
FEEDMINE="$bin" SRC="$src" LC_ALL=C.UTF-8 bash ./cmd >"$work/.out" 2>"$work/.err"
status=$?
# Goldens never hold the checkout's own path: it differs per clone.
sed -i "s#$src#\$SRC#g" "$work/.out" "$work/.err"
if [ "${FM_UPDATE_GOLDEN:-}" = 1 ]; then
  cp "$work/.out" "$case_dir/stdout"
  [ -f "$case_dir/stderr" ] && cp "$work/.err" "$case_dir/stderr"
  echo "$status" >"$case_dir/status"
  echo "updated $case_dir"
  exit 0
fi
fail=0
want_status=0
[ -f "$case_dir/status" ] && want_status=$(cat "$case_dir/status")
if [ "$status" != "$want_status" ]; then
  echo "exit status $status, expected $want_status"; fail=1
fi
if ! diff -u "$case_dir/stdout" "$work/.out"; then
  echo "stdout differs"; fail=1
fi
if [ -f "$case_dir/stderr" ] && ! diff -u "$case_dir/stderr" "$work/.err"; then
  echo "stderr differs"; fail=1
fi
[ $fail = 0 ] || { echo "--- stderr was:"; cat "$work/.err"; }
exit $fail
