#!/usr/bin/python3
"""feedmine past one machine, on Dask distributed.

Tagging is a map and aggregates merge, so the single-machine commands
scale out unchanged: this script only hands them to Dask (Debian's
python3-distributed), it schedules nothing itself.

  dask_report.py report -m MODEL --source TYPE=GLOB [--source ...] -o OUT ...
      map:    on each worker, `feedmine tag` tags one input file (a
              partition) into a tagged JSON Lines file kept on that worker,
              then `feedmine report --save-agg` rolls it up into a partial
              aggregate for the common period;
      reduce: partial aggregates are merged pairwise (`feedmine report
              --agg A --agg B --save-agg AB`), in a tree;
      end:    `feedmine report --agg ALL -o OUT` writes the report, the same
              bytes as `feedmine tag` + `feedmine report` on one machine.
      The period ends with the last day of data present (as `feedmine
      report` does) unless --until is given: a first, cheap map step then
      reads each partition's last date from a probe aggregate.

  dask_report.py train --input GLOB --label HEAD=COL ... -o MODEL [-- OPTS]
      map:    `feedmine train` on each shard (one input file), without
              calibration and with a fixed --alpha, so shards merge;
      reduce: `feedmine model merge`, pairwise in a tree. The result has
              the same bytes as training on all the files at once.

Cluster: --scheduler ADDRESS to use a running one (workers must see the
input files, the model and the feedmine binary at the same paths: a shared
file system), or --workers N (default 2) for a local cluster of N
processes. Partitions are input files: split a big export (per day, as
exports usually are) to spread it.
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile


class FeedmineError(RuntimeError):
    pass


def run(cmd, ok=(0,)):
    """Runs a feedmine command; exit 1 (some rows rejected) is allowed
    where the caller says so."""
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if p.returncode not in ok:
        raise FeedmineError('%s: exit %d: %s' % (' '.join(cmd), p.returncode,
                                                 p.stderr.decode('utf-8', 'replace').strip()))
    return p.returncode


# ---- tasks (run on the workers) ---------------------------------------------

def tag_partition(fm, model, stype, path, maps, date_format, tmp_root):
    """Map, step 1: tags one file into a worker-local folder. Returns the
    worker's address (later steps on this partition run there), the
    folder, and the exit status (1 = some rows rejected)."""
    from distributed import get_worker
    d = tempfile.mkdtemp(prefix='fm-part-', dir=tmp_root)
    out = os.path.join(d, 'tagged.jsonl')
    cmd = [fm, 'tag', '-m', model, '--source', stype, '-q', '-o', out,
           '--rejects', os.path.join(d, 'rejects.jsonl')]
    for m in maps:
        cmd += ['--map', m]
    if date_format:
        cmd += ['--date-format', date_format]
    status = run(cmd + [path], ok=(0, 1))
    return {'worker': get_worker().address, 'dir': d, 'status': status,
            'type': stype, 'path': path}


def last_date(fm, model, part):
    """Map, step 2 (only without --until): the partition's last date,
    from a probe aggregate of an empty period (dates are kept for all
    items, in the period or not)."""
    probe = os.path.join(part['dir'], 'probe.agg')
    run([fm, 'report', '-m', model, '--source', '%s=%s' % (part['type'],
         os.path.join(part['dir'], 'tagged.jsonl')),
         '--until', '1970-01-01', '--period', '1d', '--compare', 'none',
         '--save-agg', probe, '-q'], ok=(0, 1))
    with open(probe, encoding='utf-8') as f:
        dates = json.load(f).get('dates')
    return dates['last'] if dates else None


def aggregate(fm, model, part, period_args):
    """Map, step 3: the partition's aggregate for the common period, as
    bytes; the worker-local folder is removed. The model gives every
    partition the same heads and labels (learned from the tags, they would
    differ between partitions and the parts would not merge); the tags
    themselves are read from the tagged file, not computed again."""
    try:
        agg = os.path.join(part['dir'], 'part.agg')
        run([fm, 'report', '-m', model, '--source', '%s=%s' % (part['type'],
             os.path.join(part['dir'], 'tagged.jsonl')),
             '--save-agg', agg, '-q'] + period_args, ok=(0, 1))
        with open(agg, 'rb') as f:
            return f.read()
    finally:
        shutil.rmtree(part['dir'], ignore_errors=True)


def merge_aggs(fm, a, b):
    """Reduce: two aggregates into one (merging is exact, associative and
    commutative, so the tree's shape never shows)."""
    d = tempfile.mkdtemp(prefix='fm-merge-')
    try:
        pa, pb, out = (os.path.join(d, n) for n in ('a.agg', 'b.agg', 'ab.agg'))
        with open(pa, 'wb') as f:
            f.write(a)
        with open(pb, 'wb') as f:
            f.write(b)
        run([fm, 'report', '--agg', pa, '--agg', pb, '--save-agg', out, '-q'])
        with open(out, 'rb') as f:
            return f.read()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def train_shard(fm, path, train_args):
    """Map: one shard's model, as bytes."""
    d = tempfile.mkdtemp(prefix='fm-train-')
    try:
        out = os.path.join(d, 'shard.fmm')
        run([fm, 'train', '-i', path, '-q', '-o', out] + train_args, ok=(0, 1))
        with open(out, 'rb') as f:
            return f.read()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def merge_models(fm, a, b):
    """Reduce: `feedmine model merge` adds the counts of two models."""
    d = tempfile.mkdtemp(prefix='fm-mmerge-')
    try:
        pa, pb, out = (os.path.join(d, n) for n in ('a.fmm', 'b.fmm', 'ab.fmm'))
        with open(pa, 'wb') as f:
            f.write(a)
        with open(pb, 'wb') as f:
            f.write(b)
        run([fm, 'model', 'merge', '-o', out, pa, pb])
        with open(out, 'rb') as f:
            return f.read()
    finally:
        shutil.rmtree(d, ignore_errors=True)


# ---- the driver ------------------------------------------------------------------

def tree_reduce(client, fn, fm, futures):
    """Pairwise merges in rounds until one remains; every merge is a task
    on the cluster."""
    while len(futures) > 1:
        nxt = [client.submit(fn, fm, futures[i], futures[i + 1], pure=False)
               for i in range(0, len(futures) - 1, 2)]
        if len(futures) % 2:
            nxt.append(futures[-1])
        futures = nxt
    return futures[0]


def expand(patterns):
    files = []
    for p in patterns:
        hits = sorted(glob.glob(p))
        if not hits:
            raise FeedmineError('no file matches %s' % p)
        files += [os.path.abspath(h) for h in hits]
    return files


def connect(args):
    from distributed import Client, LocalCluster
    if args.scheduler:
        return Client(args.scheduler), None
    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1,
                           processes=True, dashboard_address=None)
    return Client(cluster), cluster


def cmd_report(args, client):
    fm = args.feedmine
    model = os.path.abspath(args.model)
    parts = []
    for spec in args.source:
        stype, sep, pattern = spec.partition('=')
        if not sep or not stype or not pattern:
            raise FeedmineError('--source wants TYPE=GLOB, got %r' % spec)
        maps = [m.split(':', 1)[1] for m in args.map
                if ':' in m.split('=', 1)[0] and m.split(':', 1)[0] == stype]
        maps += [m for m in args.map if ':' not in m.split('=', 1)[0]]
        for path in expand([pattern]):
            parts.append((stype, path, maps))
    tagged = [client.submit(tag_partition, fm, model, t, p, m,
                            args.date_format, args.tmp, pure=False)
              for t, p, m in parts]
    tagged = client.gather(tagged)
    rejected = sum(1 for t in tagged if t['status'] == 1)
    period = ['--period', args.period, '--compare', args.compare]
    for w in args.weight:
        period += ['--weight', w]
    if args.accounts:
        period += ['--accounts', os.path.abspath(args.accounts)]
    until = args.until
    if not until:
        lasts = client.gather([client.submit(last_date, fm, model, t, pure=False,
                                             workers=[t['worker']])
                               for t in tagged])
        lasts = [x for x in lasts if x is not None]
        if lasts:
            import datetime
            until = datetime.datetime.fromtimestamp(
                max(lasts), datetime.timezone.utc).strftime('%Y-%m-%d')
    if until:
        period += ['--until', until]
    aggs = [client.submit(aggregate, fm, model, t, period, pure=False,
                          workers=[t['worker']]) for t in tagged]
    total = tree_reduce(client, merge_aggs, fm, aggs).result()
    d = tempfile.mkdtemp(prefix='fm-final-')
    try:
        final = os.path.join(d, 'all.agg')
        with open(final, 'wb') as f:
            f.write(total)
        cmd = [fm, 'report', '--agg', final, '-q']
        for o in args.output:
            cmd += ['-o', o]
        if args.title:
            cmd += ['--title', args.title]
        run(cmd)
        if args.save_agg:
            shutil.copyfile(final, args.save_agg)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    print('dask_report: %d partitions on %d workers, period until %s: %s'
          % (len(parts), len(client.scheduler_info()['workers']),
             until or '(none)', ', '.join(args.output)))
    return 1 if rejected else 0


def cmd_train(args, client):
    fm = args.feedmine
    files = expand(args.input)
    train_args = []
    for lab in args.label:
        train_args += ['--label', lab]
    for flag, val in (('--text', args.text), ('--source-column', args.source_column),
                      ('--lang-column', args.lang_column), ('--alpha', args.alpha)):
        if val:
            train_args += [flag, val]
    train_args += ['--no-calibration'] + args.rest
    shards = [client.submit(train_shard, fm, p, train_args, pure=False)
              for p in files]
    model = tree_reduce(client, merge_models, fm, shards).result()
    tmp = args.output + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(model)
    os.replace(tmp, args.output)
    print('dask_report: %d shards merged into %s' % (len(files), args.output))
    return 0


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split('\n\n', 1)[1])
    ap.add_argument('--feedmine', default=shutil.which('feedmine') or 'feedmine',
                    help='the feedmine binary (default: from PATH)')
    ap.add_argument('--scheduler', help='address of a running Dask scheduler')
    ap.add_argument('--workers', type=int, default=2,
                    help='local cluster size without --scheduler (default 2)')
    ap.add_argument('--tmp', help='worker-local folder for tagged partitions')
    sub = ap.add_subparsers(dest='cmd', required=True)
    r = sub.add_parser('report', help='tag partitions and write one report')
    r.add_argument('-m', '--model', required=True)
    r.add_argument('--source', action='append', required=True,
                   metavar='TYPE=GLOB', help='input files of a source (repeatable)')
    r.add_argument('--map', action='append', default=[],
                   metavar='[TYPE:]FIELD=COLUMN')
    r.add_argument('--date-format', choices=['mdy', 'dmy'])
    r.add_argument('--accounts')
    r.add_argument('--period', default='30d')
    r.add_argument('--until', help='last day of the period (YYYY-MM-DD)')
    r.add_argument('--compare', default='previous', choices=['previous', 'none'])
    r.add_argument('--weight', action='append', default=[], metavar='SOURCE=W')
    r.add_argument('--title')
    r.add_argument('-o', '--output', action='append', required=True,
                   help='report file; format from the extension (repeatable)')
    r.add_argument('--save-agg', help='also keep the merged aggregate')
    t = sub.add_parser('train', help='train on shards and merge the models')
    t.add_argument('--input', action='append', required=True, metavar='GLOB')
    t.add_argument('--label', action='append', required=True, metavar='HEAD=COL')
    t.add_argument('--text')
    t.add_argument('--source-column')
    t.add_argument('--lang-column')
    t.add_argument('--alpha', default='0.1',
                   help='fixed smoothing (shards must agree; default 0.1)')
    t.add_argument('-o', '--output', required=True)
    t.add_argument('rest', nargs='*', help='more feedmine train options, after --')
    args = ap.parse_args(argv)
    if os.sep in args.feedmine:
        args.feedmine = os.path.abspath(args.feedmine)
    try:
        client, cluster = connect(args)
    except ImportError:
        print('dask_report: needs Dask distributed (Debian: apt-get install '
              'python3-distributed)', file=sys.stderr)
        return 3
    try:
        return cmd_report(args, client) if args.cmd == 'report' else cmd_train(args, client)
    except FeedmineError as e:
        print('dask_report: %s' % e, file=sys.stderr)
        return 3
    finally:
        client.close()
        if cluster:
            cluster.close()


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
