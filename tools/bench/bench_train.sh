#!/usr/bin/env bash
# bench_train.sh -- training time of `feedmine train` on every dataset of
# ../shared/datasets (train.csv, head `label`), with the configuration
# bench_accuracy.sh's 5-fold CV chose for it (RESULTS.md, "feedmine
# configurations chosen"), least CPU time (user + system) of RUNS runs and
# the peak RSS of that run; with a second binary, the same for it in the
# same minutes (runs interleaved), for before/after comparisons. The
# models of the two are compared byte for byte. Prints a Markdown table.
#
#   tools/bench/bench_train.sh FEEDMINE [BASELINE_FEEDMINE] [RUNS]
set -euo pipefail
fm=${1:?usage: bench_train.sh FEEDMINE [BASELINE_FEEDMINE] [RUNS]}
base=${2:-}
runs=${3:-3}
src=$(cd "$(dirname "$0")/../.." && pwd)
data="$src/../shared/datasets"
[ -d "$data" ] || { echo "bench_train: no datasets at $data; skipped" >&2; exit 0; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
declare -A opts=([banking77]="--chargrams 2-5" [hebrew_sentiment]="--no-redact"
                 [wisesight_sentiment_th]="" [support_tickets_multilang]="--no-stem"
                 [sms_spam]="--no-stem")
# least CPU seconds and its peak RSS (MB) of $runs trainings, into $2.best
train() { # BIN TAG DATASET
  local c m
  /usr/bin/time -f "%U %S %M" -o "$tmp/t" "$1" train -q -i "$data/$3/train.csv" \
    --label label -o "$tmp/$2.fmm" ${opts[$3]}
  c=$(awk '{ printf "%.2f", $1 + $2 }' "$tmp/t")
  m=$(awk '{ printf "%.0f", $3 / 1024 }' "$tmp/t")
  if [ ! -f "$tmp/$2.best" ] || awk -v c="$c" '{ exit !(c < $1) }' "$tmp/$2.best"; then
    echo "$c $m" > "$tmp/$2.best"
  fi
}
echo "uname: $(uname -srvm)"
echo "nproc $(nproc); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "feedmine: $("$fm" --version 2>&1 | head -1)${base:+; baseline: $("$base" --version 2>&1 | head -1)}"
echo
if [ -n "$base" ]; then
  echo "| dataset | options | CPU (s) | peak RSS (MB) | baseline CPU (s) | baseline RSS (MB) | same model bytes |"
  echo "|---|---|---:|---:|---:|---:|---|"
else
  echo "| dataset | options | CPU (s) | peak RSS (MB) |"
  echo "|---|---|---:|---:|"
fi
for ds in banking77 hebrew_sentiment sms_spam support_tickets_multilang wisesight_sentiment_th; do
  [ -f "$data/$ds/train.csv" ] || { echo "| $ds | (missing) |"; continue; }
  rm -f "$tmp"/*.best
  for _ in $(seq "$runs"); do
    train "$fm" new "$ds"
    [ -z "$base" ] || train "$base" old "$ds"
  done
  read -r c m < "$tmp/new.best"
  o=${opts[$ds]:-(defaults)}
  if [ -n "$base" ]; then
    read -r bc bm < "$tmp/old.best"
    cmp -s "$tmp/new.fmm" "$tmp/old.fmm" && same=yes || same=no
    echo "| $ds | \`$o\` | $c | $m | $bc | $bm | $same |"
  else
    echo "| $ds | \`$o\` | $c | $m |"
  fi
done
echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
