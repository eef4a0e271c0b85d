#!/usr/bin/env bash
# bench_tag.sh -- `feedmine tag` throughput and peak memory on N ticket-like
# rows (default 1,000,000) generated from ../shared/datasets texts, with
# -j 1 and -j 2, against fastText's `predict` on the same texts.
#
#   tools/bench/bench_tag.sh BUILD_DIR [ROWS] [WORKDIR]
#
# The rows are built from support_tickets_multilang (subject + body, cut to
# 400 bytes so one row is about as long as a real ticket's first lines),
# each with an id, a date, an account and a plan, and written as a CSV
# export with quoted multi-line texts. A model is trained on the dataset's
# train split (head `queue`); fastText (FT_MODEL=path to reuse a tuned
# model, else `fasttext supervised` with wordNgrams 2, 25 epochs) on the same
# texts. Model load is excluded where measurable: each tool also runs on
# 1,000 rows and that time is subtracted. Results: one line per run; copy
# them into tools/bench/RESULTS.md.
set -euo pipefail
build=$(cd "${1:?usage: bench_tag.sh BUILD_DIR [ROWS] [WORKDIR]}" && pwd)
rows=${2:-1000000}
work=${3:-$(mktemp -d)}
src=$(cd "$(dirname "$0")/../.." && pwd)
data="$src/../shared/datasets/support_tickets_multilang"
fm="$build/feedmine"
[ -x "$fm" ] || { echo "no $fm: build the feedmine target first" >&2; exit 2; }
[ -f "$data/train.csv" ] || { echo "no dataset at $data" >&2; exit 2; }
mkdir -p "$work"
cd "$work"

python3 - "$data/train.csv" "$rows" <<'EOF'
import csv, sys
src, rows = sys.argv[1], int(sys.argv[2])
texts = []
with open(src, newline='', encoding='utf-8') as f:
    for r in csv.DictReader(f):
        t = r['text'].replace('\\n', '\n')
        b = t.encode('utf-8')[:400].decode('utf-8', 'ignore')
        texts.append(b)
plans = ['free', 'team', 'pro', 'enterprise']
with open('rows.csv', 'w', newline='', encoding='utf-8') as out, \
     open('rows.txt', 'w', encoding='utf-8') as txt, \
     open('small.csv', 'w', newline='', encoding='utf-8') as sm, \
     open('small.txt', 'w', encoding='utf-8') as smt:
    w = csv.writer(out, lineterminator='\n')
    ws = csv.writer(sm, lineterminator='\n')
    hdr = ['ticket_id', 'created_at', 'account', 'plan', 'text']
    w.writerow(hdr); ws.writerow(hdr)
    for i in range(rows):
        t = texts[i % len(texts)]
        row = [i, '2024-%02d-%02dT%02d:%02d:00Z' % (i % 12 + 1, i % 28 + 1, i % 24, i % 60),
               'Account %d' % (i % 5000), plans[i % 4], t]
        w.writerow(row)
        flat = ' '.join(t.split())
        txt.write(flat + '\n')
        if i < 1000:
            ws.writerow(row); smt.write(flat + '\n')
EOF
bytes=$(stat -c %s rows.csv)

if [ ! -f m.fmm ]; then
  "$fm" train -i "$data/train.csv" --text text --label queue=label -o m.fmm -q
fi
if command -v fasttext >/dev/null; then
  if [ -n "${FT_MODEL:-}" ]; then
    ft=$FT_MODEL
  else
    python3 - "$data/train.csv" <<'EOF'
import csv, sys
with open(sys.argv[1], newline='', encoding='utf-8') as f, open('ft_train.txt', 'w') as o:
    for r in csv.DictReader(f):
        o.write('__label__%s %s\n' % (r['label'].replace(' ', '_'), ' '.join(r['text'].split())))
EOF
    fasttext supervised -input ft_train.txt -output ft -epoch 25 -wordNgrams 2 -verbose 0
    ft=ft.bin
  fi
fi

# seconds and peak RSS (kB) of a command
measure() {
  /usr/bin/time -f '%e %M' -o time.txt "$@" >/dev/null 2>err.txt || {
    st=$?; [ $st = 1 ] || { cat err.txt >&2; exit $st; }; }
  cat time.txt
}

report() { # label seconds small_seconds rss
  python3 - "$@" "$rows" "$bytes" <<'EOF'
import sys
label, s, small, rss, rows, nbytes = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
net = max(s - small, 1e-9)
print('%-22s %9.0f rows/s %7.1f MB/s  (%.2f s, %.2f s load+1k rows subtracted)  peak RSS %d MB'
      % (label, rows / net, nbytes / net / 1e6, s, small, rss // 1024))
EOF
}

echo "rows: $rows, CSV: $((bytes / 1000000)) MB, model: $(stat -c %s m.fmm) bytes"
for j in 1 2; do
  read -r small _ < <(measure "$fm" tag -m m.fmm -q -j $j small.csv -o out_small.jsonl)
  read -r s rss < <(measure "$fm" tag -m m.fmm -q -j $j rows.csv -o out.jsonl)
  report "feedmine tag -j $j" "$s" "$small" "$rss"
done
if [ -n "${ft:-}" ]; then
  read -r small _ < <(measure fasttext predict "$ft" small.txt)
  read -r s rss < <(measure fasttext predict "$ft" rows.txt)
  report "fasttext predict" "$s" "$small" "$rss"
fi
