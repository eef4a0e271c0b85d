#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing, builds, runs ctest;
# then builds again with AddressSanitizer + UBSan and runs the suite there,
# runs the multi-threaded tests under ThreadSanitizer, every fuzz target
# for 60 s (libFuzzer, two at a time), the CLI golden tests under valgrind,
# and cppcheck on src/.
# Usage: tools/test.sh [--quick]   (--quick: the first build and ctest only)
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh --test
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFEEDMINE_TESTS=ON >/dev/null
cmake --build build -j"$jobs"
status=0
# Each pass's ctest summary is kept and printed again at the end, so the
# log of a whole run ends with the test runners' own result lines.
sums=$(mktemp); trap 'rm -f "$sums"' EXIT
run_ctest() { # NAME ctest-args...: runs ctest, keeps its summary lines
  local name=$1 rc=0; shift
  ctest "$@" --output-on-failure 2>&1 | tee "$sums.cur" || rc=1
  { echo "$name: $(grep -E '^[0-9]+% tests passed' "$sums.cur" || echo 'no ctest summary')"
    sed -n '/^The following tests FAILED:/,$p' "$sums.cur" | grep -E '^\s+[0-9]+ - ' || true
  } >>"$sums"
  rm -f "$sums.cur"
  return $rc
}
run_ctest "build (RelWithDebInfo)" --test-dir build -j"$jobs" || status=1
if [ "${1:-}" != "--quick" ]; then
  echo "== AddressSanitizer + UBSan =="
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DFEEDMINE_SANITIZE=address >/dev/null
  cmake --build build-asan -j"$jobs"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_ctest "ASan + UBSan" --test-dir build-asan -j"$jobs" || status=1

  echo "== ThreadSanitizer: the multi-threaded tests (label threads) =="
  # No suppressions: the dependencies' own locks (ICU, SQLite) are
  # pthread mutexes, which TSan intercepts.
  cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFEEDMINE_SANITIZE=thread >/dev/null
  cmake --build build-tsan -j"$jobs" --target feedmine test_pipeline test_classify
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    run_ctest "TSan (label threads)" --test-dir build-tsan -L threads -j"$jobs" || status=1

  echo "== libFuzzer: every target for 60 s (ASan + UBSan) =="
  tools/fuzz.sh -t 60 -j "$jobs" --no-merge || { status=1; echo "libFuzzer: a target failed (table above)" >>"$sums"; }

  echo "== cppcheck on src/ (warning, portability, performance) =="
  cppcheck --enable=warning,portability,performance --std=c11 --quiet \
    --error-exitcode=1 --suppress=missingIncludeSystem -I include -I src \
    -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DFM_BUILDING_LIBRARY src/ ||
    { status=1; echo "cppcheck: findings (above)" >>"$sums"; }

  echo "== valgrind --leak-check=full over the CLI golden tests =="
  # Leaks are definite or indirect ones: a command that stops on a fatal
  # error or a signal exits while its worker threads still hold memory
  # ("possibly lost"), by design. FM_TEST_LIGHT=1 scales the bad-input
  # cases down (rows, model cuts) to valgrind's pace.
  vg=$PWD/build/valgrind
  rm -rf "$vg" && mkdir -p "$vg"
  FEEDMINE_WRAPPER="valgrind -q --leak-check=full --error-exitcode=1 --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect --log-file=$vg/%p.log" \
  FM_TEST_LIGHT=1 \
    run_ctest "valgrind (cli.*)" --test-dir build -R '^cli\.' -j"$jobs" || status=1
  if [ -n "$(find "$vg" -name '*.log' -size +0)" ]; then
    echo "valgrind found errors:"; find "$vg" -name '*.log' -size +0 -exec cat {} +
    echo "valgrind: errors or leaks (above)" >>"$sums"
    status=1
  fi
fi
echo "== summary =="
cat "$sums"
exit $status
