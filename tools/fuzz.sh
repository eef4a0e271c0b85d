#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang + ASan + UBSan in
# build-fuzz/ and runs each for a chosen time, with its dictionary
# (tests/fuzz/<target>.dict) and its saved corpus (tests/fuzz/corpus/<target>/)
# as seeds. New inputs found go to a scratch folder; at the end they are
# merged into the saved corpus: named files (seeds, crashes) stay,
# hash-named ones are replaced by a small set that keeps the coverage of
# old and new together (-set_cover_merge=1: -merge=1 with a greedy set
# cover, about half the files of plain -merge=1), so the corpus stays
# small. Prints, per target, executions, exec/s, coverage (cov: edges, ft:
# features, from libFuzzer's final status line) and whether it crashed.
#
# Usage: tools/fuzz.sh [-t SECONDS] [-j PARALLEL] [--nice] [--no-merge]
#                      [--no-build] [--build-only] [TARGET ...]
#   -t SECONDS    time per target (default 60)
#   -j PARALLEL   targets run at a time (default 1)
#   --nice        run the fuzzers under nice -n 19
#   --no-merge    leave the saved corpus alone (CI)
#   TARGET        short names (csv, jsonl, ...); default: every fuzz_*.c
# A crash, leak, timeout or out-of-memory input is kept in
# build-fuzz/artifacts/<target>/ and the script exits 1; once fixed, copy it
# into tests/fuzz/corpus/<target>/ so ctest replays it for good.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
secs=60 par=1 nice_cmd=() merge=1 build=1 run=1 targets=()
while [ $# -gt 0 ]; do
  case $1 in
    -t) secs=$2; shift 2 ;;
    -j) par=$2; shift 2 ;;
    --nice) nice_cmd=(nice -n 19); shift ;;
    --no-merge) merge=0; shift ;;
    --no-build) build=0; shift ;;
    --build-only) run=0; shift ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("${1#fuzz_}"); shift ;;
  esac
done
if [ ${#targets[@]} = 0 ]; then
  for f in tests/fuzz/fuzz_*.c; do
    n=$(basename "$f" .c); targets+=("${n#fuzz_}")
  done
fi

cc=$(command -v clang-14 || command -v clang || true)
cxx=$(command -v clang++-14 || command -v clang++ || true)
[ -n "$cc" ] || { echo "fuzz.sh: clang not found (apt-get install clang libfuzzer-14-dev)" >&2; exit 2; }

bdir=build-fuzz
if [ $build = 1 ]; then
  # -fsanitize=fuzzer-no-link instruments the library for coverage too:
  # the targets' own -fsanitize=fuzzer only instruments the harness file,
  # which would leave libFuzzer blind to the parsers it is meant to explore.
  CC=$cc CXX=$cxx cmake -S . -B $bdir -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DFEEDMINE_FUZZ=ON -DFEEDMINE_SANITIZE=address \
    -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link" >/dev/null
  cmake --build $bdir -j"$(nproc 2>/dev/null || echo 2)" \
    --target "${targets[@]/#/fuzz_}" >/dev/null
fi
[ $run = 1 ] || exit 0

# Leaks are findings; a report renderer is allowed some memory.
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1:${ASAN_OPTIONS:-}
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}

# Inputs up to these many bytes: models are bigger than text.
max_len() {
  case $1 in
    model) echo 65536 ;;
    agg) echo 32768 ;;
    *) echo 8192 ;;
  esac
}

run_one() {
  local t=$1 bin=$bdir/tests/fuzz_$1 work=$bdir/fuzz-work/$1
  local dict=tests/fuzz/$1.dict corpus=tests/fuzz/corpus/$1 args=() rc=0
  rm -rf "$work/new"; mkdir -p "$work/new" "$bdir/artifacts/$t" "$corpus"
  [ -f "$dict" ] && args+=(-dict="$dict")
  "${nice_cmd[@]}" "$bin" "$work/new" "$corpus" "${args[@]}" \
    -max_total_time="$secs" -max_len="$(max_len "$t")" -timeout=30 \
    -rss_limit_mb=2560 -print_final_stats=1 -print_pcs=0 \
    -artifact_prefix="$bdir/artifacts/$t/" >"$work/log" 2>&1 || rc=$?
  if [ $merge = 1 ] && [ $rc = 0 ]; then
    # Named inputs (hand-written seeds, saved crashes) always stay; the
    # hash-named ones earlier runs found are minimized again together with
    # this run's finds, so the saved corpus keeps only what adds coverage.
    rm -rf "$work/keep" "$work/pool"; mkdir -p "$work/keep" "$work/pool"
    for f in "$corpus"/*; do
      [ -f "$f" ] || continue
      if [[ $(basename "$f") =~ ^[0-9a-f]{40}$ ]]; then cp "$f" "$work/pool/"
      else cp "$f" "$work/keep/"; fi
    done
    cp "$work/new"/* "$work/pool/" 2>/dev/null || true
    if "$bin" -set_cover_merge=1 "$work/keep" "$work/pool" "${args[@]}" \
         -max_len="$(max_len "$t")" >"$work/merge.log" 2>&1; then
      find "$corpus" -maxdepth 1 -type f -regextype posix-extended \
        -regex '.*/[0-9a-f]{40}' -delete
      find "$work/keep" -maxdepth 1 -type f -regextype posix-extended \
        -regex '.*/[0-9a-f]{40}' -exec cp {} "$corpus/" \;
    else
      rc=$?
    fi
  fi
  echo $rc >"$work/rc"
}

running=0
for t in "${targets[@]}"; do
  [ -x "$bdir/tests/fuzz_$t" ] || { echo "fuzz.sh: no target fuzz_$t" >&2; exit 2; }
  mkdir -p "$bdir/fuzz-work"
  ls "tests/fuzz/corpus/$t" 2>/dev/null | wc -l >"$bdir/fuzz-work/$t.before"
  echo "fuzzing $t for ${secs}s"
  run_one "$t" &
  running=$((running + 1))
  if [ $running -ge "$par" ]; then wait -n || true; running=$((running - 1)); fi
done
wait

status=0
printf '\n%-9s %12s %9s %7s %8s %7s %s\n' target execs exec/s cov ft corpus result
for t in "${targets[@]}"; do
  work=$bdir/fuzz-work/$t log=$bdir/fuzz-work/$t/log
  rc=$(cat "$work/rc" 2>/dev/null || echo 1)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  n=$(ls "tests/fuzz/corpus/$t" | wc -l)
  added=$((n - $(cat "$bdir/fuzz-work/$t.before")))
  if [ "$rc" = 0 ]; then
    result=ok
  else
    result="FAILED (exit $rc): $(grep -m1 -E 'ERROR: |SUMMARY: |runtime error' "$log" || echo 'see log')"
    art=$(ls -t "$bdir/artifacts/$t/" 2>/dev/null | head -1)
    [ -n "$art" ] && result="$result; input $bdir/artifacts/$t/$art"
    result="$result; log $log"
    status=1
  fi
  printf '%-9s %12s %9s %7s %8s %7s %s\n' "$t" "${execs:-?}" "${eps:-?}" \
    "${cov:-?}" "${ft:-?}" "$n(+$added)" "$result"
done
exit $status
