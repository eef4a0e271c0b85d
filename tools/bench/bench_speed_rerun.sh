#!/usr/bin/env bash
# bench_speed_rerun.sh -- the speed columns of bench_accuracy.sh again,
# without retraining anything: on the WORK_DIR an earlier
# `bench_accuracy.sh BUILD WORK_DIR` left (its defaults' feedmine model,
# tuned fastText model and text files per dataset), times `feedmine tag -j 1`
# against `fasttext predict` on the same texts, repeated 5 times so that
# tagging outweighs fastText's 400 MB model load (CPU seconds, least of 3
# runs, minus the least of 3 runs on 10 texts, which is the model load),
# and runs bench_latency
# (model open, 10,000 tickets of 1 KB). For re-measuring after a speed
# change that leaves models byte-identical; prints a Markdown table.
#
#   tools/bench/bench_speed_rerun.sh BUILD_DIR WORK_DIR
set -euo pipefail
build=$(cd "${1:?usage: bench_speed_rerun.sh BUILD_DIR WORK_DIR}" && pwd)
work=${2:?usage: bench_speed_rerun.sh BUILD_DIR WORK_DIR}
fm=$build/feedmine lat=$build/tools/bench/bench_latency
[ -x "$fm" ] && [ -x "$lat" ] || { echo "bench_speed_rerun: build feedmine and bench_latency in $build" >&2; exit 2; }
command -v fasttext >/dev/null || { echo "bench_speed_rerun: fasttext not installed" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cpu() { awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u+s}' "$1"; }
rate() { /usr/bin/python3 -c "import sys; r,a,b=map(float,sys.argv[1:]); print(int((r-10)/max(a-b,1e-3)))" "$@"; }
least() { # CMD...: the least CPU seconds of 3 runs of CMD
  local best=1e9 c
  for _ in 1 2 3; do
    /usr/bin/time -v -o "$tmp/t" "$@" >/dev/null
    c=$(cpu "$tmp/t")
    best=$(/usr/bin/python3 -c "import sys; print(min(map(float, sys.argv[1:])))" "$best" "$c")
  done
  echo "$best"
}
echo "uname: $(uname -a)"
echo "nproc $(nproc); load average at start: $(cut -d' ' -f1-3 /proc/loadavg); feedmine: $("$fm" --version 2>&1 | head -1)"
echo
echo '| dataset | feedmine tag -j 1 texts/s | fastText predict texts/s | feedmine / fastText | open (CPU) | 1 KB p50 CPU | 1 KB p99 CPU |'
echo '|---|---:|---:|---:|---:|---:|---:|'
for d in "$work"/*/; do
  d=${d%/} ds=$(basename "$d")
  [ -f "$d/fm_default/m.fmm" ] && [ -f "$d/ft_tuned/m.bin" ] || continue
  rows=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['speed_rows'])" "$d/info.json")
  head -1 "$d/speed.csv" >"$tmp/speed.csv"
  for _ in 1 2 3 4 5; do
    tail -n +2 "$d/speed.csv" >>"$tmp/speed.csv"; cat "$d/speed_lines.txt" >>"$tmp/lines.txt"
  done
  rows=$((rows * 5))
  best_fm=$(rate "$rows" "$(least "$fm" tag -m "$d/fm_default/m.fmm" -j 1 -q "$tmp/speed.csv")" \
                         "$(least "$fm" tag -m "$d/fm_default/m.fmm" -j 1 -q "$d/tiny.csv")")
  best_ft=$(rate "$rows" "$(least fasttext predict "$d/ft_tuned/m.bin" "$tmp/lines.txt")" \
                         "$(least fasttext predict "$d/ft_tuned/m.bin" "$d/tiny_lines.txt")")
  rm -f "$tmp/speed.csv" "$tmp/lines.txt"
  res=$("$lat" "$d/fm_default/m.fmm" "$d/test_lines.txt" 10000 1024 | grep '^RESULT')
  g() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$res"; }
  printf '| %s | %s | %s | %.2fx | %.2f ms | %.0f µs | %.0f µs |\n' "$ds" "$best_fm" "$best_ft" \
    "$(/usr/bin/python3 -c "print($best_fm/$best_ft)")" "$(g open_cpu_ms)" "$(g cpu_p50_us)" "$(g cpu_p99_us)"
done
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
