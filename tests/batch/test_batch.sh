#!/usr/bin/env bash
# End-to-end tests of `feedmine batch` with a temporary store: two nights
# of exports, a re-run that changes nothing, an edited ticket re-tagged,
# kill -9 at many points followed by a re-run (same store dump, same report
# bytes as an uninterrupted run), re-tagging after a model change, a
# foreign or corrupt store refused, a missing input failing one source
# only, the lock, config errors and a dry run.
#
# usage: test_batch.sh FEEDMINE_BINARY SOURCE_DIR
set -u
FM=$1
SRC=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export LC_ALL=C.UTF-8
fails=0
checks=0

ok() { checks=$((checks + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
expect_eq() { # what got want
  if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi
}
expect_grep() { # what pattern file
  if grep -q -- "$2" "$3"; then ok; else bad "$1: no '$2' in $3:"; sed 's/^/  | /' "$3" | head -20; fi
}

# ---- fixtures: a model, two nights of exports ------------------------------
"$FM" train -q -i "$SRC/corpora/labeled/en.csv" --label area=area \
  --label sentiment=sentiment --label kind=kind \
  --label churn_reason=churn_reason --source-column source \
  --cal-folds 3 --alpha 0.1 -o model.fmm || { echo "cannot train"; exit 1; }
"$FM" train -q -i "$SRC/corpora/labeled/en.csv" --label area=area \
  --label sentiment=sentiment --label kind=kind \
  --label churn_reason=churn_reason --source-column source \
  --cal-folds 3 --alpha 0.5 -o model2.fmm || { echo "cannot train"; exit 1; }
edited_id=$(python3 "$SRC/tests/batch/make_nights.py" "$SRC/corpora/samples" .) ||
  { echo "cannot make exports"; exit 1; }

# job DIR [extra config lines...]: a job folder with its config; inputs are
# read from DIR/in, which each test fills with a night's exports.
job() {
  local d=$1
  shift
  mkdir -p "$d/in" "$d/state"
  {
    echo "[store]"
    echo "path = state/fb.db"
    echo "batch_size = 40"
    echo "[model]"
    echo "path = ../${MODEL:-model.fmm}"
    echo "[output]"
    echo "dir = out"
    echo "[source ticket]"
    echo "path = in/tickets*.csv"
    echo "map = text=subject+description"
    echo "map = account=organization"
    echo "[source nps]"
    echo "path = in/nps.csv"
    echo "[source churn]"
    echo "path = in/churn.csv"
    echo "[report weekly]"
    echo "period = 7d"
    echo "formats = md, html, json, csv"
    echo "[report monthly]"
    echo "period = 30d"
    echo "formats = md json"
    echo "[accounts]"
    echo "path = $SRC/corpora/samples/accounts.csv"
    for line in "$@"; do echo "$line"; done
  } >"$d/job.ini"
}
night() { rm -f "$1"/in/*; cp night$2/* "$1/in/"; }
run() { # DIR [args...]: runs the job, status in $status, output in DIR/.out/.err
  local d=$1
  shift
  (cd "$d" && "$FM" batch -c job.ini "$@" >.out 2>.err)
  status=$?
}
dump() { "$FM" store export "$1/state/fb.db"; }
reports() { (cd "$1/out" && for f in weekly.md weekly.html weekly.json weekly.csv monthly.md monthly.json; do echo "== $f"; cat "$f"; done); }
counts() { sed -n 's/.*, \([0-9]*\) new, \([0-9]*\) edited, \([0-9]*\) updated, \([0-9]*\) unchanged, \([0-9]*\) rejected, \([0-9]*\) tagged.*/new=\1 edited=\2 updated=\3 unchanged=\4 rejected=\5 tagged=\6/p' "$1/.out"; }

# ---- the clean two nights ---------------------------------------------------
job clean
night clean 1
run clean -j 2
expect_eq "night 1 status" "$status" 0
expect_eq "night 1 counts" "$(counts clean)" "new=260 edited=0 updated=0 unchanged=0 rejected=0 tagged=260"
for f in weekly.md weekly.html weekly.json weekly.csv monthly.md monthly.json rejects.jsonl runs.jsonl; do
  [ -f clean/out/$f ] && ok || bad "night 1 wrote no $f"
done
ls -a clean/out | grep -q '\.tmp$' && bad "a temporary file left in out/" || ok
dump clean >night1.dump
# the reports from the store are the ones feedmine report writes from the
# same exports
(cd clean && "$FM" report -q -m ../model.fmm --source ticket=in/tickets.csv \
  --map ticket:text=subject+description --map ticket:account=organization \
  --source nps=in/nps.csv --source churn=in/churn.csv \
  --accounts "$SRC/corpora/samples/accounts.csv" --period 7d \
  -o ../direct.md -o ../direct.html -o ../direct.json -o ../direct.csv)
for f in md html json csv; do
  cmp -s direct.$f clean/out/weekly.$f && ok || bad "night 1 weekly.$f differs from feedmine report's"
done
night clean 2
run clean
expect_eq "night 2 status" "$status" 0
# 180 tickets: 30 seen (one edited), 150 new; 80 NPS: 20 seen, 60 new;
# 35 churn: 20 seen, 15 new
expect_eq "night 2 counts" "$(counts clean)" "new=225 edited=1 updated=0 unchanged=69 rejected=0 tagged=226"
dump clean >clean.dump
reports clean >clean.reports
expect_eq "runs log lines" "$(wc -l <clean/out/runs.jsonl)" 2
expect_grep "runs log" '"status":"ok"' clean/out/runs.jsonl
expect_eq "items in store" "$(wc -l <clean.dump)" 486 # 485 items + 1 model

# the edited ticket: new text, tagged again by the model
grep "\"key\":\"$edited_id\"" night1.dump >edited.before
grep "\"key\":\"$edited_id\"" clean.dump >edited.after
expect_grep "edited ticket text" "UPDATE from the customer" edited.after
expect_grep "edited ticket tags" '"tags":\[{"head":"area"' edited.after
cmp -s edited.before edited.after && bad "edited ticket unchanged in the store" || ok

# a re-run of night 2 changes nothing
cp clean/state/fb.db rerun.db
run clean
expect_eq "re-run status" "$status" 0
expect_eq "re-run counts" "$(counts clean)" "new=0 edited=0 updated=0 unchanged=295 rejected=0 tagged=0"
dump clean | cmp -s - clean.dump && ok || bad "re-run changed the store"
reports clean | cmp -s - clean.reports && ok || bad "re-run changed the reports"
"$FM" store stats clean/state/fb.db >stats.out
expect_grep "stats items" "^items: *485" stats.out
expect_grep "stats runs" "^runs: *3 (last: ok)" stats.out
expect_grep "stats current model" "(current)" stats.out

# ---- kill -9 at chosen points, then run again -------------------------------
# Night 1 runs clean; night 2 is killed at POINT and run again; the store
# and the reports must equal the uninterrupted run's.
crash_case() { # name point [night-of-crash]
  local d=crash_$1 point=$2 n=${3:-2}
  job "$d"
  if [ "$n" = 2 ]; then
    night "$d" 1
    run "$d"
    [ "$status" = 0 ] || bad "$d: night 1 status $status"
  fi
  night "$d" "$n"
  (cd "$d" && FEEDMINE_CRASH_AT=$point "$FM" batch -c job.ini >.out 2>.err)
  status=$?
  expect_eq "$d: killed" "$status" 137
  run "$d"
  expect_eq "$d: re-run status" "$status" 0
  if [ "$n" = 1 ]; then night "$d" 2; run "$d"; fi
  dump "$d" | cmp -s - clean.dump && ok || { bad "$d: store differs from the clean run"; dump "$d" | diff clean.dump - | head -5; }
  reports "$d" | cmp -s - clean.reports && ok || bad "$d: reports differ from the clean run"
}
crash_case before_ingest ingest:0
crash_case mid_batch ingest:97
crash_case after_commit commit:1
crash_case late_commit commit:5
crash_case last_row ingest:295
crash_case first_report report:0
crash_case mid_reports report:3
crash_case last_report report:5
crash_case after_reports done
crash_case mid_aggregate aggregate:200
crash_case night1_aggregate aggregate:40 1

# SIGTERM (systemctl stop) at chosen points: a clean stop (exit 143, no
# temporary file left, the run recorded as interrupted), then a re-run
# ends where the clean run does
term_case() { # name point
  local d=term_$1 point=$2
  job "$d"
  night "$d" 1
  run "$d"
  night "$d" 2
  (cd "$d" && FEEDMINE_CRASH_AT=$point "$FM" batch -c job.ini >.out 2>.err)
  status=$?
  expect_eq "$d: stopped" "$status" 143
  expect_grep "$d: message" "interrupted by SIGTERM: what was committed is kept" "$d/.err"
  expect_grep "$d: runs log" '"status":"interrupted"' "$d/out/runs.jsonl"
  ls -a "$d/out" "$d/state" | grep -q '\.tmp$' && bad "$d: a temporary file was left" || ok
  run "$d"
  expect_eq "$d: re-run status" "$status" 0
  dump "$d" | cmp -s - clean.dump && ok || bad "$d: store differs from the clean run"
  reports "$d" | cmp -s - clean.reports && ok || bad "$d: reports differ from the clean run"
}
term_case mid_ingest commit:2:term
term_case aggregate aggregate:120:term
term_case report report:2:term
crash_case night1_mid ingest:130 1
crash_case night1_reports report:2 1

# ---- re-tagging after a model change ----------------------------------------
job retag_clean
night retag_clean 2
run retag_clean
MODEL=model2.fmm job retag_clean
run retag_clean
expect_eq "model change without --retag" "$(counts retag_clean)" "new=0 edited=0 updated=0 unchanged=295 rejected=0 tagged=0"
run retag_clean --retag -j 2
expect_eq "--retag status" "$status" 0
expect_grep "--retag count" "295 re-tagged" retag_clean/.out
dump retag_clean >retag.dump
# every item now carries the second model's id, and the store knows both
grep -o '"model":"[0-9a-f]*","tags"' retag.dump | sort -u >retag.models
expect_eq "one tagging model after --retag" "$(wc -l <retag.models)" 1
expect_eq "items tagged by the new model" "$(grep -c "$(cat retag.models)" retag.dump)" 295
grep -q "$(grep -o '"model":"[0-9a-f]*","tags"' clean.dump | sort -u)" retag.dump && bad "old model tags left after --retag" || ok
expect_eq "models recorded" "$(grep -c '^{"model"' retag.dump)" 2
# retag = auto in the config does the same without --retag
job retag_auto
night retag_auto 2
run retag_auto
MODEL=model2.fmm job retag_auto
sed -i 's/^\[model\]$/[model]\nretag = auto/' retag_auto/job.ini
run retag_auto
expect_grep "retag = auto" "295 re-tagged" retag_auto/.out
dump retag_auto | cmp -s - retag.dump && ok || bad "retag = auto: store differs from --retag"

job retag_crash
night retag_crash 2
run retag_crash
MODEL=model2.fmm job retag_crash
(cd retag_crash && FEEDMINE_CRASH_AT=retag:80 "$FM" batch -c job.ini --retag >.out 2>.err)
expect_eq "retag killed" "$?" 137
run retag_crash --retag
dump retag_crash | cmp -s - retag.dump && ok || bad "killed re-tagging: store differs"
reports retag_crash | cmp -s - <(reports retag_clean) && ok || bad "killed re-tagging: reports differ"

# ---- a store that is not ours -------------------------------------------------
job foreign
night foreign 1
printf 'just some notes, not a database\n%.0s' $(seq 100) >foreign/state/fb.db
run foreign
expect_eq "text file as store: status" "$status" 3
expect_grep "text file as store: message" "is not a feedmine store: not an SQLite database" foreign/.err
python3 -c "import sqlite3; c = sqlite3.connect('foreign/state/other.db'); c.execute('create table crm(id)'); c.execute('pragma application_id = 42'); c.commit()"
mv foreign/state/other.db foreign/state/fb.db
run foreign
expect_eq "foreign database: status" "$status" 3
expect_grep "foreign database: message" "an SQLite database of another application (application_id 0x0000002a" foreign/.err
cp rerun.db foreign/state/fb.db
dd if=/dev/urandom of=foreign/state/fb.db bs=1 count=64 seek=0 conv=notrunc 2>/dev/null
run foreign
expect_eq "corrupt header: status" "$status" 3
expect_grep "corrupt header: message" "not a feedmine store" foreign/.err

# ---- a missing input fails its source only ------------------------------------
job missing
night missing 1
rm missing/in/nps.csv
run missing
expect_eq "missing input: status" "$status" 1
expect_grep "missing input: message" "source nps failed: .*in/nps.csv" missing/.err
expect_grep "missing input: summary" "partial: 3 sources (1 failed)" missing/.out
expect_eq "missing input: others ingested" "$(counts missing)" "new=200 edited=0 updated=0 unchanged=0 rejected=0 tagged=200"
expect_grep "missing input: runs log" '"sources_failed":\["nps"\]' missing/out/runs.jsonl
job noglob
night noglob 1
rm noglob/in/tickets.csv
run noglob
expect_eq "glob without match: status" "$status" 1
expect_grep "glob without match: message" "source ticket failed: no file matches .*in/tickets\*.csv" noglob/.err

# an accounts table that cannot be read: the reports go on without it
job noacc
sed -i "s|^path = .*accounts.csv|path = nowhere/accounts.csv|" noacc/job.ini
night noacc 1
run noacc
expect_eq "unreadable accounts table: status" "$status" 1
expect_grep "unreadable accounts table: message" "accounts table failed: .*nowhere/accounts.csv" noacc/.err
[ -f noacc/out/weekly.md ] && ok || bad "no reports without the accounts table"

# ---- rejected rows ---------------------------------------------------------------
job rejects
night rejects 1
printf 'response_id,submitted_at,score,comment\nR1,2026-09-01,9,fine\nR2,not a date,3,bad date\nR3,2026-09-02,7,\n' >rejects/in/nps.csv
run rejects
expect_eq "rejects: status" "$status" 1
expect_eq "rejects: lines" "$(wc -l <rejects/out/rejects.jsonl)" 2
expect_grep "rejects: line number" '"line":3' rejects/out/rejects.jsonl

# ---- the lock ---------------------------------------------------------------------
job lock
night lock 1
touch lock/state/fb.db.lock
# held until killed, and the job started only once the lock is taken: a
# fixed pause raced the holder's start on a loaded machine
# (the sleep itself holds the lock: killing it releases the lock and
# leaves no process behind holding the test's output open)
( exec 9>>lock/state/fb.db.lock && flock 9 && exec sleep 600 ) >/dev/null 2>&1 &
holder=$!
for i in $(seq 300); do flock -n lock/state/fb.db.lock true || break; sleep 0.1; done
run lock
expect_eq "locked store: status" "$status" 3
expect_grep "locked store: message" "is locked by another job" lock/.err
kill $holder 2>/dev/null
wait $holder 2>/dev/null
echo "pid 999999 on host gone" >lock/state/fb.db.lock
run lock
expect_eq "stale lock: status" "$status" 0
expect_grep "stale lock: message" "cleared a stale lock left by a job that died (pid 999999 on host gone)" lock/.err

# ---- configuration errors and the dry run -------------------------------------------
job cfg "[source extra]" "pth = x.csv"
run cfg
expect_eq "config error: status" "$status" 2
expect_grep "config error: message" "job.ini:25: \[source extra\] pth: unknown key" cfg/.err
job dry
night dry 2
run dry --dry-run
expect_eq "dry run: status" "$status" 0
expect_grep "dry run: summary" "dry run: 3 sources (0 failed), 295 read, would add 295 new" dry/.out
[ -e dry/state/fb.db ] && bad "dry run created the store" || ok
[ -e dry/out ] && bad "dry run wrote reports" || ok

echo "$checks checks, $fails failed"
[ $fails = 0 ]
