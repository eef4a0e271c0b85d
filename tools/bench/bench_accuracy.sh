#!/usr/bin/env bash
# bench_accuracy.sh -- feedmine against fastText and scikit-learn on every
# dataset in ../shared/datasets, one run, one thread: accuracy, macro-F1,
# training time, tagging throughput, model size, peak memory; plus an
# ablation of feedmine's pipeline stages. Writes the section "Accuracy and
# speed vs peers" of tools/bench/RESULTS.md (issue 4).
#
#   tools/bench/bench_accuracy.sh [BUILD_DIR] [WORK_DIR]
#
# BUILD_DIR holds the feedmine binary (default: build). WORK_DIR keeps the
# converted files, models and raw results (default: a fresh temporary
# folder). Needs fasttext (Debian package) and /usr/bin/python3 with
# scikit-learn. Environment: DATASETS="banking77 sms_spam" runs a subset;
# ABLATION=0 skips the ablation; RESULTS=path writes elsewhere.
#
# feedmine's "best" row is the configuration with the highest mean of
# accuracy and macro-F1 in `feedmine eval --folds 5` on train.csv alone;
# test.csv is only used to report. The "defaults" row is `feedmine train`
# with no options. fastText trains on a shuffled copy of train.csv (some
# files are sorted by label, which SGD training suffers from).
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
work=${2:-$(mktemp -d /tmp/bench_accuracy.XXXXXX)}
data="$src/../shared/datasets"
results_md=${RESULTS:-$src/tools/bench/RESULTS.md}
helper="$src/tools/bench/bench_accuracy.py"
py=/usr/bin/python3
fm="$build/feedmine"
lat="$build/tools/bench/bench_latency"

if [ ! -d "$data" ]; then
  echo "bench_accuracy: no datasets at $data (../shared/datasets); skipping"
  exit 0
fi
[ -x "$fm" ] || { echo "bench_accuracy: no $fm: build the feedmine target" >&2; exit 2; }
[ -x "$lat" ] || { echo "bench_accuracy: no $lat: build the bench_latency target" >&2; exit 2; }
command -v fasttext >/dev/null || { echo "bench_accuracy: fasttext not installed (apt-get install fasttext)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench_accuracy: /usr/bin/time missing (apt-get install time)" >&2; exit 2; }
$py -c 'import sklearn' 2>/dev/null || { echo "bench_accuracy: scikit-learn missing (apt-get install python3-sklearn)" >&2; exit 2; }

datasets=${DATASETS:-"banking77 hebrew_sentiment wisesight_sentiment_th support_tickets_multilang sms_spam"}
# Candidate configurations for "best": each a string of extra train options
# ("" = defaults). Kept small so the whole run stays well under an hour.
candidates=("" "--chargrams 2-5" "--chargrams 1-5" "--no-stem" "--no-redact")
# Ablation: one stage changed from the defaults at a time.
ablation=("defaults|"
          "stemming off|--no-stem"
          "stopwords removed|--stopwords"
          "negation off|--no-negation"
          "bigrams off|--no-bigrams"
          "character n-grams off|--no-chargrams"
          "TF-IDF off|--no-tfidf"
          "length normalization off|--no-length-norm")

mkdir -p "$work"
results="$work/results.jsonl"
: > "$results"
echo "bench_accuracy: work folder $work" >&2

# ---- machine line, versions ----------------------------------------------
{
  echo "uname: $(uname -a)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), nproc $(nproc)"
  echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "feedmine: $("$fm" --version 2>&1 | head -1) (git $(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo '?'))"
  echo "fastText: Debian $(dpkg-query -W -f '${Version}' fasttext 2>/dev/null || echo '?')"
  echo "python: $($py -c 'import sys; print(sys.version.split()[0])'), scikit-learn $($py -c 'import sklearn; print(sklearn.__version__)')"
} > "$work/machine.txt"

# timed OUT_PREFIX CMD... : runs CMD under /usr/bin/time -v; stdout to
# OUT_PREFIX.out; sets T_WALL, T_CPU (user + system), T_RSS (bytes).
timed() {
  local pre=$1
  shift
  if ! /usr/bin/time -v -o "$pre.time" "$@" > "$pre.out" 2> "$pre.err"; then
    echo "bench_accuracy: failed: $*" >&2
    tail -5 "$pre.err" >&2
    return 1
  fi
  T_WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$pre.time")
  T_CPU=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u+s}' "$pre.time")
  T_RSS=$(awk -F': ' '/Maximum resident set size/ {print $2*1024}' "$pre.time")
}

json_get() { $py -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["heads"]["label"][sys.argv[2]])' "$1" "$2"; }

# feedmine_row TOOL DATASET DIR OPTS: trains, evaluates, times tagging.
feedmine_row() {
  local tool=$1 ds=$2 d=$3 opts=$4 w="$work/$2/$1"
  mkdir -p "$w"
  # shellcheck disable=SC2086
  timed "$w/train" "$fm" train -q -i "$d/train.csv" --label label -o "$w/m.fmm" $opts
  local tr_cpu=$T_CPU tr_wall=$T_WALL
  "$fm" eval -m "$w/m.fmm" -i "$d/test.csv" --label label --json > "$w/eval.json"
  timed "$w/tag" "$fm" tag -m "$w/m.fmm" -j 1 -q "$work/$ds/speed.csv"
  local tag_cpu=$T_CPU tag_rss=$T_RSS
  timed "$w/tiny" "$fm" tag -m "$w/m.fmm" -j 1 -q "$work/$ds/tiny.csv"
  local tiny_cpu=$T_CPU
  $py "$helper" main-row "$w/eval.json" "$work/$ds/info.json" "$tool" "$ds" "$tr_cpu" "$tr_wall" \
      "$tag_cpu" "$tiny_cpu" "$tag_rss" "$(stat -c %s "$w/m.fmm")" "$opts" >> "$results"
}

# fasttext_row TOOL DATASET EXTRA_OPTS
fasttext_row() {
  local tool=$1 ds=$2 opts=$3 w="$work/$2/$1"
  mkdir -p "$w"
  # shellcheck disable=SC2086
  timed "$w/train" fasttext supervised -input "$work/$ds/ft_train.txt" -output "$w/m" \
    -epoch 25 -lr 0.5 -wordNgrams 2 -dim 50 -thread 1 -verbose 0 $opts
  local tr_cpu=$T_CPU tr_wall=$T_WALL
  fasttext predict "$w/m.bin" "$work/$ds/test_lines.txt" > "$w/pred.txt"
  timed "$w/tag" fasttext predict "$w/m.bin" "$work/$ds/speed_lines.txt"
  local tag_cpu=$T_CPU tag_rss=$T_RSS
  timed "$w/tiny" fasttext predict "$w/m.bin" "$work/$ds/tiny_lines.txt"
  local tiny_cpu=$T_CPU
  $py "$helper" pred-metrics "$work/$ds/test_labels.txt" "$w/pred.txt" > "$w/metrics.json"
  $py "$helper" main-row "$w/metrics.json" "$work/$ds/info.json" "$tool" "$ds" "$tr_cpu" "$tr_wall" \
      "$tag_cpu" "$tiny_cpu" "$tag_rss" "$(stat -c %s "$w/m.bin")" "$opts" >> "$results"
}

# sklearn_row TOOL DATASET DIR
sklearn_row() {
  local tool=$1 ds=$2 d=$3 w="$work/$2/$1"
  mkdir -p "$w"
  timed "$w/run" $py "$helper" sklearn "$tool" "$d"
  $py - "$w/run.out" "$work/$ds/info.json" "$tool" "$ds" "$T_RSS" >> "$results" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
info = json.load(open(sys.argv[2]))
t = max(m['tag_cpu'], 1e-3)
print(json.dumps({'kind': 'main', 'tool': sys.argv[3], 'dataset': sys.argv[4],
                  'accuracy': m['accuracy'], 'macro_f1': m['macro_f1'],
                  'train_cpu': m['train_cpu'], 'train_wall': m['train_wall'],
                  'tag_docs_s': info['test_rows'] / t,
                  'tag_mb_s': info['test_bytes'] / 1e6 / t,
                  'load_s': None, 'peak_rss': float(sys.argv[5]),
                  'model_bytes': m['model_bytes']}))
EOF
}

for ds in $datasets; do
  d="$data/$ds"
  if [ ! -f "$d/train.csv" ] || [ ! -f "$d/test.csv" ]; then
    echo "bench_accuracy: $ds: no train.csv/test.csv; skipped" >&2
    continue
  fi
  echo "bench_accuracy: $ds" >&2
  mkdir -p "$work/$ds"
  $py "$helper" prep "$d" "$work/$ds"

  # feedmine: choose the best candidate by 5-fold CV on train.csv only.
  best="" best_score=-1 cand_json="["
  for c in "${candidates[@]}"; do
    # shellcheck disable=SC2086
    "$fm" eval --folds 5 -i "$d/train.csv" --label label --json $c > "$work/$ds/cv.json"
    a=$(json_get "$work/$ds/cv.json" accuracy)
    f=$(json_get "$work/$ds/cv.json" macro_f1)
    cand_json="$cand_json[\"$c\", $a, $f],"
    if $py -c "import sys; sys.exit(0 if ($a + $f) / 2 > $best_score + 1e-9 else 1)"; then
      best=$c
      best_score=$($py -c "print(($a + $f) / 2)")
    fi
  done
  cand_json="${cand_json%,}]"
  $py -c 'import json,sys; print(json.dumps({"kind": "choice", "dataset": sys.argv[1], "chosen": sys.argv[2], "candidates": json.loads(sys.argv[3])}))' \
    "$ds" "$best" "$cand_json" >> "$results"

  feedmine_row fm_best "$ds" "$d" "$best"
  feedmine_row fm_default "$ds" "$d" ""
  # The library path: model open and 1 KB tickets made of the test texts
  # (bench_latency.c), with the defaults' model; language identified.
  "$lat" "$work/$ds/fm_default/m.fmm" "$work/$ds/test_lines.txt" 10000 1024 \
    > "$work/$ds/latency.txt"
  $py -c 'import json,sys
r = [l for l in open(sys.argv[1]) if l.startswith("RESULT ")][0]
d = {k: float(v) for k, v in (kv.split("=") for kv in r.split()[1:])}
d.update({"kind": "latency", "dataset": sys.argv[2]})
print(json.dumps(d))' "$work/$ds/latency.txt" "$ds" >> "$results"
  fasttext_row ft_tuned "$ds" ""
  fasttext_row ft_char "$ds" "-minn 2 -maxn 5"
  for t in sk_mnb sk_cnb sk_svc; do sklearn_row $t "$ds" "$d"; done

  if [ "${ABLATION:-1}" != 0 ]; then
    for v in "${ablation[@]}"; do
      name=${v%%|*} opts=${v#*|} w="$work/$ds/ablation"
      mkdir -p "$w"
      # shellcheck disable=SC2086
      "$fm" train -q -i "$d/train.csv" --label label -o "$w/m.fmm" $opts
      "$fm" eval -m "$w/m.fmm" -i "$d/test.csv" --label label --json > "$w/eval.json"
      $py -c 'import json,sys; h=json.load(open(sys.argv[1]))["heads"]["label"]; print(json.dumps({"kind": "ablation", "dataset": sys.argv[2], "variant": sys.argv[3], "options": sys.argv[4], "accuracy": h["accuracy"], "macro_f1": h["macro_f1"]}))' \
        "$w/eval.json" "$ds" "$name" "$opts" >> "$results"
    done
  fi
done

# ---- the exact commands ---------------------------------------------------
{
  for c in \
    'feedmine eval --folds 5 -i $D/train.csv --label label --json OPTS   # for each candidate OPTS: "" "--chargrams 2-5" "--chargrams 1-5" "--no-stem" "--no-redact"' \
    'feedmine train -q -i $D/train.csv --label label -o $W/m.fmm [OPTS]   # OPTS: the chosen candidate (best) or none (defaults)' \
    'feedmine eval -m $W/m.fmm -i $D/test.csv --label label --json' \
    'feedmine tag -m $W/m.fmm -j 1 -q $W/speed.csv > /dev/null           # test.csv repeated to >= 20,000 rows, minus the same on its first 10 rows' \
    'fasttext supervised -input $W/ft_train.txt -output $W/m -epoch 25 -lr 0.5 -wordNgrams 2 -dim 50 -thread 1 [-minn 2 -maxn 5]' \
    'fasttext predict $W/m.bin $W/test_lines.txt > pred.txt; fasttext predict $W/m.bin $W/speed_lines.txt  # the same texts, timed, minus the first 10 lines' \
    'bench_latency $W/fm_default/m.fmm $W/test_lines.txt 10000 1024       # model open; 10,000 tickets of 1 KB joined from the test texts' \
    'python3 tools/bench/bench_accuracy.py sklearn sk_mnb|sk_cnb|sk_svc $D  # CountVectorizer()+MultinomialNB(); TfidfVectorizer(ngram_range=(1,2))+ComplementNB(alpha=0.3); TfidfVectorizer(ngram_range=(1,2))+LinearSVC()' \
    'every command under /usr/bin/time -v (CPU time = user + system; peak RSS)'; do
    $py -c 'import json,sys; print(json.dumps({"kind": "command", "text": sys.argv[1]}))' "$c"
  done
} >> "$results"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$work/machine.txt"

$py "$helper" report "$results" "$results_md" "$work/machine.txt"
echo "bench_accuracy: wrote the section 'Accuracy and speed vs peers' of $results_md" >&2
