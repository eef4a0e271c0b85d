#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing, builds, runs ctest;
# then builds again with AddressSanitizer + UBSan and runs the suite there.
# Usage: tools/test.sh [--quick]   (--quick skips the sanitizer pass)
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh --test
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFEEDMINE_TESTS=ON >/dev/null
cmake --build build -j"$jobs"
status=0
ctest --test-dir build -j"$jobs" --output-on-failure || status=1
if [ "${1:-}" != "--quick" ]; then
  echo "== AddressSanitizer + UBSan =="
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DFEEDMINE_SANITIZE=address >/dev/null
  cmake --build build-asan -j"$jobs"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan -j"$jobs" --output-on-failure || status=1
fi
exit $status
