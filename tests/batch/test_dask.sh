#!/usr/bin/env bash
# tools/dask_report.py on a local Dask cluster of 2 worker processes: the
# report from partitions tagged and aggregated on the workers and merged in
# a tree equals, byte for byte, `feedmine tag` + `feedmine report` on one
# machine; models trained on shards and merged equal one model trained on
# everything. Skipped (exit 77) when Dask distributed is not installed.
#
# usage: test_dask.sh FEEDMINE_BINARY SOURCE_DIR
set -u
FM=$1
SRC=$2
PY=
for p in /usr/bin/python3 python3; do
  if "$p" -c 'import distributed' 2>/dev/null; then PY=$p; break; fi
done
if [ -z "$PY" ]; then
  echo "SKIP: Dask distributed is not installed (apt-get install python3-distributed)"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export LC_ALL=C.UTF-8
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$FM" train -q -i "$SRC/corpora/labeled/en.csv" --label area=area \
  --label sentiment=sentiment --label kind=kind \
  --label churn_reason=churn_reason --source-column source \
  --cal-folds 3 --alpha 0.1 -o model.fmm || { echo "cannot train"; exit 1; }

# partitions: the sample exports cut into several files per source
"$PY" - "$SRC/corpora/samples" <<'EOF'
import csv, os, sys
src = sys.argv[1]
def split(name, stype, n):
    with open(os.path.join(src, name), newline='', encoding='utf-8') as f:
        r = csv.DictReader(f)
        fields, rows = r.fieldnames, list(r)
    os.makedirs('parts', exist_ok=True)
    for k in range(n):
        with open('parts/%s-%d.csv' % (stype, k), 'w', newline='', encoding='utf-8') as o:
            w = csv.DictWriter(o, fieldnames=fields, lineterminator='\n')
            w.writeheader()
            w.writerows(rows[k * len(rows) // n:(k + 1) * len(rows) // n])
split('tickets.csv', 'ticket', 5)
split('nps.csv', 'nps', 3)
split('churn.csv', 'churn', 2)
split('lost_deals.csv', 'lost_deal', 1)
EOF

# one machine: tag each source, report on the tagged files
for t in ticket nps churn lost_deal; do
  maps=()
  [ $t = ticket ] && maps=(--map text=subject+description --map account=organization)
  [ $t = lost_deal ] && maps=(--map text=loss_reason)
  "$FM" tag -q -m model.fmm --source $t "${maps[@]}" parts/$t-*.csv -o one-$t.jsonl
  [ $? -le 1 ] || bad "feedmine tag $t"
done
"$FM" report -q -m model.fmm --source ticket=one-ticket.jsonl --source nps=one-nps.jsonl \
  --source churn=one-churn.jsonl --source lost_deal=one-lost_deal.jsonl \
  --accounts "$SRC/corpora/samples/accounts.csv" \
  -o one.md -o one.json -o one.html -o one.csv
[ $? -le 1 ] || bad "single-machine report"

# the cluster
"$PY" "$SRC/tools/dask_report.py" --feedmine "$FM" --workers 2 report \
  -m model.fmm --source 'ticket=parts/ticket-*.csv' --source 'nps=parts/nps-*.csv' \
  --source 'churn=parts/churn-*.csv' --source 'lost_deal=parts/lost_deal-*.csv' \
  --map ticket:text=subject+description --map ticket:account=organization \
  --map lost_deal:text=loss_reason --accounts "$SRC/corpora/samples/accounts.csv" \
  -o dask.md -o dask.json -o dask.html -o dask.csv >dask.out 2>dask.err
st=$?
[ $st -le 1 ] || { bad "dask_report.py report: exit $st"; tail -20 dask.err; }
grep -q "11 partitions on 2 workers" dask.out || { bad "not 11 partitions on 2 workers"; cat dask.out; }
for f in md json html csv; do
  if cmp -s one.$f dask.$f; then echo "ok: report.$f identical"; else
    bad "report.$f differs between one machine and the cluster"
    diff one.$f dask.$f | head -10
  fi
done

# models: shards trained on the workers and merged = one model on everything
"$PY" - "$SRC/corpora/labeled/en.csv" <<'EOF'
import csv, os, sys
with open(sys.argv[1], newline='', encoding='utf-8') as f:
    r = csv.DictReader(f)
    fields, rows = r.fieldnames, list(r)
os.makedirs('shards', exist_ok=True)
for k in range(3):
    with open('shards/en-%d.csv' % k, 'w', newline='', encoding='utf-8') as o:
        w = csv.DictWriter(o, fieldnames=fields, lineterminator='\n')
        w.writeheader()
        w.writerows(rows[k * len(rows) // 3:(k + 1) * len(rows) // 3])
with open('shards-all.csv', 'w', newline='', encoding='utf-8') as o:
    w = csv.DictWriter(o, fieldnames=fields, lineterminator='\n')
    w.writeheader()
    w.writerows(rows)
EOF
"$FM" train -q -i shards-all.csv --label area=area --label sentiment=sentiment \
  --source-column source --alpha 0.1 --no-calibration -o all.fmm || bad "train all"
"$PY" "$SRC/tools/dask_report.py" --feedmine "$FM" --workers 2 train \
  --input 'shards/en-*.csv' --label area=area --label sentiment=sentiment \
  --source-column source --alpha 0.1 -o merged.fmm >train.out 2>train.err ||
  { bad "dask_report.py train"; tail -20 train.err; }
if cmp -s all.fmm merged.fmm; then echo "ok: merged shard models identical to one model"; else
  bad "merged shard models differ from the model trained on everything"; fi

[ $fails = 0 ] && echo "dask: all identical"
[ $fails = 0 ]
