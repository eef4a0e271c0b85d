#!/usr/bin/env bash
# Measures the default model and prints the tables of models/README.md:
#  1. accuracy and macro-F1 per head and per language on the held-out rows
#     of corpora/labeled (split=test, every 5th row), which the model never
#     trained on;
#  2. calibration on those rows (ECE, needs_review share, accuracy of the
#     items not flagged);
#  3. sentiment accuracy on real, public datasets the model never saw
#     (../shared/datasets: Hebrew Facebook comments, Thai social media),
#     next to the majority-class baseline.
#
# usage: tools/eval_default_model.sh [-f FEEDMINE] [-m MODEL] [-d DATASETS]
#   -f FEEDMINE  the feedmine binary (default: build/feedmine, else on PATH)
#   -m MODEL     measure MODEL (default: train one now from the split=train
#                rows with tools/build_default_model.sh, so the numbers
#                describe the corpora as they are)
#   -d DATASETS  the shared datasets folder (default: ../shared/datasets
#                next to the checkout); table 3 is skipped when missing
#   --cv [OPTS]  instead: 5-fold cross-validation on the split=train rows
#                only (fold = row number mod 5), per language, with the
#                training options OPTS (one string; default: the default
#                model's). How models/README.md compares configurations
#                language by language without looking at the test rows.
set -euo pipefail
export LC_ALL=C

src=$(cd "$(dirname "$0")/.." && pwd)
. "$src/tools/default_model_lib.sh"
feedmine=""
model=""
datasets=$src/../shared/datasets
cv=0
cv_options=""
while [ $# -gt 0 ]; do
  case "$1" in
    -f) feedmine=${2:?-f needs a path}; shift 2 ;;
    -m) model=${2:?-m needs a path}; shift 2 ;;
    -d) datasets=${2:?-d needs a path}; shift 2 ;;
    --cv) cv=1; shift
          if [ $# -gt 0 ] && [ "${1:0:2}" = "--" ]; then cv_options=$1; shift; fi ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "eval_default_model.sh: unknown argument '$1' (see --help)" >&2
       exit 2 ;;
  esac
done
default_model_tools eval_default_model.sh

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ $cv = 1 ]; then
  [ -n "$cv_options" ] ||
    cv_options=$("$src/tools/build_default_model.sh" --print-options | tr '\n' ' ')
  "$python" "$src/tools/corpus_split.py" --split train -o "$tmp/train.csv" \
    "$src"/corpora/labeled/*.csv
  "$python" - "$feedmine" "$tmp" "$cv_options" <<'EOF'
import collections, csv, json, subprocess, sys
feedmine, tmp, options = sys.argv[1], sys.argv[2], sys.argv[3].split()
common = ["--text", "text", "--source-column", "source", "--lang-column", "lang"]
with open(tmp + "/train.csv", newline="", encoding="utf-8") as f:
    rows = list(csv.reader(f))
header, rows = rows[0], rows[1:]
lang_col = header.index("lang")
heads = ["area", "sentiment", "kind"]
right = collections.defaultdict(collections.Counter)
items = collections.Counter()
def write(path, part):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(part)
for k in range(5):
    write(tmp + "/cv-train.csv", [r for i, r in enumerate(rows) if i % 5 != k])
    subprocess.run([feedmine, "train", "-q", "-i", tmp + "/cv-train.csv",
                    "--label", "area", "--label", "sentiment", "--label", "kind",
                    "--label", "churn_reason", "-o", tmp + "/cv.fmm"]
                   + common + options, check=True)
    held = [r for i, r in enumerate(rows) if i % 5 == k]
    for lang in sorted(set(r[lang_col] for r in held)):
        part = [r for r in held if r[lang_col] == lang]
        write(tmp + "/cv-test.csv", part)
        out = subprocess.run([feedmine, "eval", "-m", tmp + "/cv.fmm", "-i",
                              tmp + "/cv-test.csv", "--json"] + common,
                             check=True, capture_output=True, text=True).stdout
        h = json.loads(out)["heads"]
        items[lang] += len(part)
        for head in heads:
            right[lang][head] += round(h[head]["accuracy"] * h[head]["items"])
print("5-fold cross-validation on the train rows, accuracy per language;")
print("options: " + " ".join(options))
print()
print("| head | " + " | ".join(sorted(items)) + " |")
print("|---|" + "---:|" * len(items))
for head in heads:
    print("| %s | %s |" % (head, " | ".join("%.2f" % (right[l][head] / items[l])
                                            for l in sorted(items))))
EOF
  exit 0
fi

if [ -z "$model" ]; then
  model=$tmp/default.fmm
  "$src/tools/build_default_model.sh" -f "$feedmine" -o "$model"
fi

langs=$(cd "$src/corpora/labeled" && ls *.csv | sed 's/\.csv$//')
mkdir -p "$tmp/json"
eval_file() { # NAME FILE [eval options...]
  local name=$1 file=$2; shift 2
  "$feedmine" eval -m "$model" -i "$file" --text text --json "$@" \
    >"$tmp/json/$name.json"
}
for lang in $langs all; do
  args=(--split test -o "$tmp/test-$lang.csv")
  [ "$lang" = all ] || args+=(--lang "$lang")
  "$python" "$src/tools/corpus_split.py" "${args[@]}" "$src"/corpora/labeled/*.csv
  eval_file "corpus-$lang" "$tmp/test-$lang.csv" \
    --source-column source --lang-column lang
done

# Real data: map the datasets' labels onto ours. Hebrew "off-topic" (the
# paper's "off-topic/neutral") and Thai "neu" become neutral; Thai "q"
# (questions, which carry no opinion) becomes neutral too.
have_real=0
for ds in hebrew_sentiment:he wisesight_sentiment_th:th; do
  name=${ds%%:*} lang=${ds##*:}
  [ -f "$datasets/$name/test.csv" ] || continue
  have_real=1
  "$python" - "$datasets/$name/test.csv" "$tmp/$name.csv" <<'EOF'
import csv, sys
to_ours = {"pos": "positive", "neg": "negative", "neu": "neutral",
           "off-topic": "neutral", "q": "neutral"}
with open(sys.argv[1], newline="", encoding="utf-8") as fi, \
     open(sys.argv[2], "w", newline="", encoding="utf-8") as fo:
    w = csv.writer(fo, lineterminator="\n")
    w.writerow(["text", "sentiment", "label"])
    for row in csv.DictReader(fi):
        w.writerow([row["text"], to_ours[row["label"]], row["label"]])
EOF
  eval_file "real-$name" "$tmp/$name.csv" --label sentiment --lang "$lang"
done

"$python" - "$tmp" "$langs" "$have_real" <<'EOF'
import collections, csv, json, sys
tmp, langs, have_real = sys.argv[1], sys.argv[2].split(), sys.argv[3] == "1"
heads = ["area", "sentiment", "kind", "churn_reason"]
def load(name):
    with open("%s/json/%s.json" % (tmp, name)) as f:
        return json.load(f)["heads"]

print("Held-out rows of corpora/labeled (split=test): accuracy / macro-F1 (items)")
print()
print("| lang | " + " | ".join(heads) + " |")
print("|---|" + "---:|" * len(heads))
for lang in langs + ["all"]:
    h = load("corpus-" + lang)
    cells = []
    for head in heads:
        if head in h and h[head]["items"]:
            cells.append("%.3f / %.3f (%d)" % (h[head]["accuracy"],
                         h[head]["macro_f1"], h[head]["items"]))
        else:
            cells.append("-")
    print("| %s | %s |" % ("**all**" if lang == "all" else lang, " | ".join(cells)))

print()
print("Calibration on all held-out rows (ECE over 15 bins; needs_review below the")
print("head's threshold, and the accuracy of the items not flagged)")
print()
print("| head | accuracy | ECE | needs_review | accuracy of the rest |")
print("|---|---:|---:|---:|---:|")
h = load("corpus-all")
for head in heads:
    x = h[head]
    print("| %s | %.3f | %.3f | %d of %d (%.0f%%) | %.3f |" % (head, x["accuracy"],
          x["ece"], x["needs_review"], x["items"],
          100.0 * x["needs_review"] / x["items"], x["accuracy_confident"]))

if not have_real:
    sys.exit(0)
print()
print("Sentiment on real data, no training on it (labels mapped: pos -> positive,")
print("neg -> negative; neu, off-topic and q -> neutral)")
print()
print("| dataset | items | majority baseline | accuracy | macro-F1 | recall negative / neutral / positive | predicted negative / neutral / positive |")
print("|---|---:|---:|---:|---:|---:|---:|")
for name in ("hebrew_sentiment", "wisesight_sentiment_th"):
    try:
        x = load("real-" + name)["sentiment"]
    except FileNotFoundError:
        continue
    with open("%s/%s.csv" % (tmp, name), newline="", encoding="utf-8") as f:
        gold = collections.Counter(r["sentiment"] for r in csv.DictReader(f))
    top, n = gold.most_common(1)[0]
    labs = ["negative", "neutral", "positive"]
    L = x["labels"]
    print("| %s | %d | %.3f (%s) | %.3f | %.3f | %s | %s |" % (name, x["items"],
          n / sum(gold.values()), top, x["accuracy"], x["macro_f1"],
          " / ".join("%.2f" % L[l]["recall"] for l in labs),
          " / ".join("%d" % L[l]["predicted"] for l in labs)))
EOF
