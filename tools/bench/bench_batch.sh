#!/usr/bin/env bash
# bench_batch.sh -- one nightly `feedmine batch` run that ingests, tags and
# reports N new ticket-like rows (default 1,000,000) into an empty store,
# against `feedmine tag -j J` on the same input alone: wall time and peak
# RSS of each, and the ratio (target: batch within 1.5x of tag).
#
#   tools/bench/bench_batch.sh BUILD_DIR [ROWS] [WORKDIR]
#
# Environment: JOBS (threads for both, default 2); SPREAD=days over which
# the rows' dates are spread (default 365: a year of history arriving at
# once; the reports' 30-day window then holds about 1/12 of the rows.
# SPREAD=30 puts every row inside the window, the worst case for the
# reports, which analyse every row of their window again for phrases).
#
# The rows are built as in bench_tag.sh from support_tickets_multilang
# (subject + body cut to 400 bytes, an id, a date, an account, a plan), as
# one CSV export. The model is trained on the dataset's train split (head
# `area`, from the queue labels, so the reports have areas to rank). The batch job writes two reports (30d: md + json; 7d: md) and
# keeps the default batch size (5,000 rows per transaction). The same job
# without reports (ingest, tag, store: what the store costs over `feedmine
# tag`) and a second run over the same export (everything unchanged, so
# mostly the reports) are timed too. Results: one
# line per run; copy them into tools/bench/RESULTS.md.
set -euo pipefail
build=$(cd "${1:?usage: bench_batch.sh BUILD_DIR [ROWS] [WORKDIR]}" && pwd)
rows=${2:-1000000}
work=${3:-$(mktemp -d)}
jobs=${JOBS:-2}
spread=${SPREAD:-365}
src=$(cd "$(dirname "$0")/../.." && pwd)
data="$src/../shared/datasets/support_tickets_multilang"
fm="$build/feedmine"
[ -x "$fm" ] || { echo "no $fm: build the feedmine target first" >&2; exit 2; }
[ -f "$data/train.csv" ] || { echo "no dataset at $data" >&2; exit 2; }
mkdir -p "$work"
cd "$work"

if [ ! -f "rows-$rows-$spread.csv" ]; then
  python3 - "$data/train.csv" "$rows" "$spread" "rows-$rows-$spread.csv" <<'EOF'
import csv, sys, datetime
src, rows, spread, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
texts = []
with open(src, newline='', encoding='utf-8') as f:
    for r in csv.DictReader(f):
        t = r['text'].replace('\\n', '\n')
        texts.append(t.encode('utf-8')[:400].decode('utf-8', 'ignore'))
plans = ['free', 'team', 'pro', 'enterprise']
end = datetime.datetime(2024, 12, 31, 23, 0, 0)
with open(out, 'w', newline='', encoding='utf-8') as o:
    w = csv.writer(o, lineterminator='\n')
    w.writerow(['ticket_id', 'created_at', 'account', 'plan', 'text'])
    for i in range(rows):
        # oldest first, as an export of the backlog would be
        d = end - datetime.timedelta(seconds=(rows - 1 - i) * spread * 86400 // rows)
        w.writerow([i, d.strftime('%Y-%m-%dT%H:%M:%SZ'), 'Account %d' % (i % 5000),
                    plans[i % 4], texts[i % len(texts)]])
EOF
fi
input="$work/rows-$rows-$spread.csv"
bytes=$(stat -c %s "$input")
if [ ! -f m.fmm ]; then
  "$fm" train -i "$data/train.csv" --text text --label area=label -o m.fmm -q
fi

# wall seconds, peak RSS (kB) and CPU seconds (user + system) of a command;
# CPU time tells more than wall time on a busy machine
measure() {
  /usr/bin/time -f '%e %M %U %S' -o time.txt "$@" >out.txt 2>err.txt || {
    st=$?; [ $st = 1 ] || { cat err.txt >&2; exit $st; }; }
  # GNU time adds "Command exited with non-zero status N" first then
  read -r e m u s < <(tail -n 1 time.txt)
  echo "$e $m $(python3 -c "print('%.1f' % ($u + $s))")"
}

rm -rf job && mkdir -p job
cat >job/job.ini <<EOF
[store]
path = state.db
[model]
path = $work/m.fmm
[output]
dir = out
[source ticket]
path = $input
[report monthly]
period = 30d
formats = md json
[report weekly]
period = 7d
formats = md
EOF

# the same job without reports: what the store itself costs
rm -rf job0 && mkdir -p job0
sed '/^\[report/,$d' job/job.ini >job0/job.ini

read -r t_tag m_tag c_tag < <(measure "$fm" tag -m m.fmm -j "$jobs" -q --source ticket "$input" -o tagged.jsonl)
read -r t_store m_store c_store < <(measure "$fm" batch -c job0/job.ini -j "$jobs")
sum_store=$(cat out.txt)
read -r t_batch m_batch c_batch < <(measure "$fm" batch -c job/job.ini -j "$jobs")
sum_batch=$(cat out.txt)
summary1=$(cd job && "$fm" store stats state.db | sed -n 's/^items: *//p')
read -r t_rerun m_rerun c_rerun < <(measure "$fm" batch -c job/job.ini -j "$jobs")
sum_rerun=$(cat out.txt)
db=$(stat -c %s job/state.db)
ratio=$(python3 -c "print('%.2f' % ($t_batch / $t_tag))")
cratio=$(python3 -c "print('%.2f' % ($c_batch / $c_tag))")
sratio=$(python3 -c "print('%.2f' % ($t_store / $t_tag))")
scratio=$(python3 -c "print('%.2f' % ($c_store / $c_tag))")
printf 'rows %d (%d MB), dates over %d days, -j %d, %s\n' "$rows" $((bytes >> 20)) "$spread" "$jobs" "$(nproc) cores"
printf '  feedmine tag -j %d:        %7.1f s wall  %7.1f s CPU  peak RSS %4d MB\n' "$jobs" "$t_tag" "$c_tag" $((m_tag >> 10))
printf '  feedmine batch, no reports:%6.1f s wall  %7.1f s CPU  peak RSS %4d MB  (%.2fx tag wall, %.2fx CPU)\n' \
  "$t_store" "$c_store" $((m_store >> 10)) "$sratio" "$scratio"
printf '  feedmine batch (new):     %7.1f s wall  %7.1f s CPU  peak RSS %4d MB  (%.2fx tag wall, %.2fx CPU; store %d MB, %s items)\n' \
  "$t_batch" "$c_batch" $((m_batch >> 10)) "$ratio" "$cratio" $((db >> 20)) "$summary1"
printf '  feedmine batch (re-run):  %7.1f s wall  %7.1f s CPU  peak RSS %4d MB  (everything unchanged)\n' \
  "$t_rerun" "$c_rerun" $((m_rerun >> 10))
# what the two reports add to the night's run (with reports minus without)
printf '  reports alone:            %7.1f s wall  %7.1f s CPU  (batch new minus batch without reports)\n' \
  "$(python3 -c "print('%.1f' % ($t_batch - $t_store))")" \
  "$(python3 -c "print('%.1f' % ($c_batch - $c_store))")"
printf '  %s\n  %s\n  %s\n' "$sum_store" "$sum_batch" "$sum_rerun"
