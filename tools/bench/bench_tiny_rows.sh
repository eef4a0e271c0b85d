#!/usr/bin/env bash
# bench_tiny_rows.sh -- the "10 million tiny rows" row of the README's bad
# input matrix: N rows of `id,ok` (default 10,000,000) generated on the
# fly and piped into `feedmine tag` (nothing stored), timed, with peak RSS,
# and checked: every row tagged, in input order. CI runs the same check
# on 1,000,000 rows (tests/cli/bad_big); this is the full size, measured
# once and recorded in tools/bench/RESULTS.md.
#
#   tools/bench/bench_tiny_rows.sh BUILD_DIR [ROWS] [JOBS]
set -euo pipefail
export LC_ALL=C # awk counts bytes
build=$(cd "${1:?usage: bench_tiny_rows.sh BUILD_DIR [ROWS] [JOBS]}" && pwd)
rows=${2:-10000000}
jobs=${3:-1}
fm=$build/feedmine
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
"$fm" train -q -i "$src/tests/data/tag/train.csv" --label area --label kind \
  --label churn_reason --source-column source -o m.fmm
start=$(date +%s.%N)
# the output is checked as it streams out, never stored
check=$(awk -v n="$rows" 'BEGIN { print "id,text"; for (i = 1; i <= n; i++) print i ",ok" }' |
  { /usr/bin/time -f '%M' -o rss.txt \
      "$fm" tag -m m.fmm --lang en -q -j "$jobs" --input-format csv -; echo $? > status.txt; } |
  awk -v n="$rows" -F'"' '{ b += length($0) + 1 } $4 != NR { bad++ }
    END { printf "%s, output %.0f MB", (NR == n && !bad) ? "all tagged, in order" : "LOST: " NR " of " n, b / 1e6 }')
end=$(date +%s.%N)
awk -v r="$rows" -v s="$start" -v e="$end" -v rss="$(tail -1 rss.txt)" -v j="$jobs" \
  -v st="$(cat status.txt)" -v c="$check" 'BEGIN {
  t = e - s
  printf "tiny rows: %d rows, -j %d, exit %d, %.1f s, %.0f rows/s, peak RSS %.1f MB, %s\n",
    r, j, st, t, r / t, rss / 1024, c }'
