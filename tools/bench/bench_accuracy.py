#!/usr/bin/python3
"""Helpers of tools/bench/bench_accuracy.sh (standard library + scikit-learn).

  bench_accuracy.py prep DATASET_DIR WORK     texts and fastText files
  bench_accuracy.py sklearn NAME DATASET_DIR  one scikit-learn row (JSON)
  bench_accuracy.py pred-metrics TRUTH PRED   accuracy / macro-F1 of labels
                                              (one per line; fastText's
                                              __label__ prefix removed)
  bench_accuracy.py main-row METRICS INFO TOOL DATASET TRAIN_CPU TRAIN_WALL
                    TAG_CPU TINY_CPU RSS MODEL_BYTES OPTIONS
                                              one feedmine or fastText row
                                              (JSON); METRICS is feedmine's
                                              eval --json or pred-metrics'
  bench_accuracy.py report RESULTS.jsonl RESULTS.md MACHINE.txt

Every dataset folder has train.csv and test.csv with columns text, label,
lang (shared/datasets/README.md). Metrics are computed the way
scikit-learn's accuracy_score and f1_score(average="macro") do (macro-F1
over the labels present in the truth or the predictions).
"""
import csv
import json
import os
import pickle
import random
import sys
import time


def read_rows(path):
    with open(path, newline='', encoding='utf-8') as f:
        return list(csv.DictReader(f))


def flat(text):
    """One line of text: fastText and `feedmine tag` read one per line."""
    return ' '.join(text.split())


def metrics(truth, pred):
    labels = sorted(set(truth) | set(pred))
    n = len(truth)
    correct = sum(1 for t, p in zip(truth, pred) if t == p)
    f1s = []
    for lab in labels:
        tp = sum(1 for t, p in zip(truth, pred) if t == lab and p == lab)
        fp = sum(1 for t, p in zip(truth, pred) if t != lab and p == lab)
        fn = sum(1 for t, p in zip(truth, pred) if t == lab and p != lab)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return correct / n if n else 0.0, sum(f1s) / len(f1s) if f1s else 0.0


def cmd_prep(ds_dir, work):
    """Writes, for fastText, a shuffled training file (some datasets are
    sorted by label, which SGD training suffers from) and the test texts;
    for every tool, the test texts one per line, a 10-row CSV and text
    file for timing model load, and the test labels."""
    os.makedirs(work, exist_ok=True)
    train = read_rows(os.path.join(ds_dir, 'train.csv'))
    test = read_rows(os.path.join(ds_dir, 'test.csv'))
    order = list(range(len(train)))
    random.Random(42).shuffle(order)

    def ft_line(r):
        return '__label__%s %s\n' % (r['label'].replace(' ', '_'),
                                     flat(r['text']))
    with open(os.path.join(work, 'ft_train.txt'), 'w', encoding='utf-8') as f:
        for i in order:
            f.write(ft_line(train[i]))
    with open(os.path.join(work, 'test_lines.txt'), 'w',
              encoding='utf-8') as f:
        for r in test:
            f.write(flat(r['text']) + '\n')
    # Throughput is timed on the test texts repeated to at least 20,000
    # (a few thousand short texts take a few CPU ticks).
    reps = max(1, -(-20000 // max(1, len(test))))
    with open(os.path.join(work, 'speed_lines.txt'), 'w',
              encoding='utf-8') as f:
        for _ in range(reps):
            for r in test:
                f.write(flat(r['text']) + '\n')
    with open(os.path.join(work, 'speed.csv'), 'w', newline='',
              encoding='utf-8') as f:
        w = csv.writer(f)
        w.writerow(['text', 'label', 'lang'])
        for _ in range(reps):
            for r in test:
                w.writerow([r['text'], r['label'], r['lang']])
    with open(os.path.join(work, 'tiny_lines.txt'), 'w',
              encoding='utf-8') as f:
        for r in test[:10]:
            f.write(flat(r['text']) + '\n')
    with open(os.path.join(work, 'tiny.csv'), 'w', newline='',
              encoding='utf-8') as f:
        w = csv.writer(f)
        w.writerow(['text', 'label', 'lang'])
        for r in test[:10]:
            w.writerow([r['text'], r['label'], r['lang']])
    with open(os.path.join(work, 'test_labels.txt'), 'w',
              encoding='utf-8') as f:
        for r in test:
            f.write(r['label'] + '\n')
    info = {
        'train_rows': len(train),
        'test_rows': len(test),
        'test_bytes': sum(len(r['text'].encode('utf-8')) for r in test),
        'train_bytes': sum(len(r['text'].encode('utf-8')) for r in train),
        'labels': len(set(r['label'] for r in train)),
        'speed_rows': reps * len(test),
        'speed_bytes': reps * sum(len(r['text'].encode('utf-8'))
                                  for r in test),
    }
    with open(os.path.join(work, 'info.json'), 'w') as f:
        json.dump(info, f)


SKLEARN_CONFIGS = {
    # name: (description, factory)
    'sk_mnb': 'CountVectorizer() + MultinomialNB()',
    'sk_cnb': 'TfidfVectorizer(ngram_range=(1,2)) + ComplementNB(alpha=0.3)',
    'sk_svc': 'TfidfVectorizer(ngram_range=(1,2)) + LinearSVC()',
}


def sklearn_pipeline(name):
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
    from sklearn.naive_bayes import ComplementNB, MultinomialNB
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC
    if name == 'sk_mnb':
        return make_pipeline(CountVectorizer(), MultinomialNB())
    if name == 'sk_cnb':
        # alpha 0.3 reproduces the table (the default 1.0 is lower)
        return make_pipeline(TfidfVectorizer(ngram_range=(1, 2)),
                             ComplementNB(alpha=0.3))
    if name == 'sk_svc':
        return make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), LinearSVC())
    raise SystemExit('unknown sklearn config ' + name)


def cmd_sklearn(name, ds_dir):
    import warnings
    warnings.filterwarnings('ignore')
    train = read_rows(os.path.join(ds_dir, 'train.csv'))
    test = read_rows(os.path.join(ds_dir, 'test.csv'))
    xtr = [r['text'] for r in train]
    ytr = [r['label'] for r in train]
    xte = [r['text'] for r in test]
    yte = [r['label'] for r in test]
    p = sklearn_pipeline(name)
    c0 = time.process_time()
    t0 = time.perf_counter()
    p.fit(xtr, ytr)
    train_wall = time.perf_counter() - t0
    train_cpu = time.process_time() - c0
    c0 = time.process_time()
    t0 = time.perf_counter()
    pred = list(p.predict(xte))
    tag_wall = time.perf_counter() - t0
    tag_cpu = time.process_time() - c0
    acc, f1 = metrics(yte, pred)
    print(json.dumps({
        'accuracy': acc, 'macro_f1': f1,
        'train_wall': train_wall, 'train_cpu': train_cpu,
        'tag_wall': tag_wall, 'tag_cpu': tag_cpu,
        'model_bytes': len(pickle.dumps(p, protocol=pickle.HIGHEST_PROTOCOL)),
    }))


def cmd_pred_metrics(truth_path, pred_path):
    """Labels one per line in both files; fastText's have __label__."""
    with open(truth_path, encoding='utf-8') as f:
        truth = [l.rstrip('\n').replace(' ', '_') for l in f]
    with open(pred_path, encoding='utf-8') as f:
        pred = [l.strip().split(' ')[0].replace('__label__', '', 1)
                for l in f]
    if len(pred) != len(truth):
        raise SystemExit('%s: %d predictions for %d texts'
                         % (pred_path, len(pred), len(truth)))
    acc, f1 = metrics(truth, pred)
    print(json.dumps({'accuracy': acc, 'macro_f1': f1}))


def cmd_main_row(args):
    """A tool timed by the script: tagging time is the speed texts' CPU
    minus the 10-text run's (the model load)."""
    m = json.load(open(args[0]))
    m = m.get('heads', {}).get('label', m)  # feedmine eval --json
    info = json.load(open(args[1]))
    tool, ds = args[2], args[3]
    tr_cpu, tr_wall, tag_cpu, tiny_cpu, rss, size = map(float, args[4:10])
    t = max(tag_cpu - tiny_cpu, 1e-3)
    print(json.dumps({'kind': 'main', 'tool': tool, 'dataset': ds,
                      'options': args[10], 'accuracy': m['accuracy'],
                      'macro_f1': m['macro_f1'], 'train_cpu': tr_cpu,
                      'train_wall': tr_wall,
                      'tag_docs_s': (info['speed_rows'] - 10) / t,
                      'tag_mb_s': info['speed_bytes'] / 1e6 / t,
                      'load_s': tiny_cpu, 'peak_rss': rss,
                      'model_bytes': size}))


# ---- report -------------------------------------------------------------

DATASETS = ['banking77', 'hebrew_sentiment', 'wisesight_sentiment_th',
            'support_tickets_multilang', 'sms_spam']
SHORT = {'banking77': 'banking77', 'hebrew_sentiment': 'hebrew',
         'wisesight_sentiment_th': 'wisesight_th',
         'support_tickets_multilang': 'tickets', 'sms_spam': 'sms_spam'}
TOOL_ORDER = ['fm_best', 'fm_default', 'ft_tuned', 'ft_char', 'sk_mnb',
              'sk_cnb', 'sk_svc']
TOOL_NAME = {
    'fm_best': 'feedmine, best by 5-fold CV',
    'fm_default': 'feedmine, defaults',
    'ft_tuned': 'fastText ep25 lr.5 bigrams dim50',
    'ft_char': 'fastText same + char 2-5',
    'sk_mnb': 'sklearn MNB counts',
    'sk_cnb': 'sklearn CNB tf-idf 1-2g',
    'sk_svc': 'sklearn LinearSVC tf-idf 1-2g',
}


def fmt_bytes(n):
    if n is None:
        return '–'
    if n >= 1e6:
        return '%.1f MB' % (n / 1e6)
    return '%.0f KB' % (n / 1e3)


def fmt_rate(n):
    if n is None:
        return '–'
    return '{:,.0f}'.format(n)


def fmt_s(x):
    if x is None:
        return '–'
    return '%.2f s' % x if x < 10 else '%.1f s' % x


def cmd_report(results_path, md_path, machine_path):
    rows = []
    with open(results_path, encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    with open(machine_path, encoding='utf-8') as f:
        machine = f.read().strip()
    main = [r for r in rows if r.get('kind') == 'main']
    abl = [r for r in rows if r.get('kind') == 'ablation']
    best_cfg = [r for r in rows if r.get('kind') == 'choice']
    cmds = [r for r in rows if r.get('kind') == 'command']
    lats = {r['dataset']: r for r in rows if r.get('kind') == 'latency'}
    out = []
    out.append('## Accuracy and speed vs peers')
    out.append('')
    out.append('Written by `tools/bench/bench_accuracy.sh` (do not edit by '
               'hand; rerun it). Each tool is trained on `train.csv` and '
               'evaluated on `test.csv` of every dataset in '
               '`../shared/datasets`, one thread, same machine, one run. '
               'feedmine\'s "best" configuration is chosen by `feedmine eval '
               '--folds 5` on `train.csv` alone (never by looking at '
               '`test.csv`); "defaults" is `feedmine train` without '
               'options.')
    out.append('')
    out.append('```')
    out.append(machine)
    out.append('```')
    out.append('')
    out.append('Accuracy / macro-F1 on test.csv:')
    out.append('')
    hdr = '| tool | ' + ' | '.join(SHORT[d] for d in DATASETS) + ' |'
    out.append(hdr)
    out.append('|---|' + '---|' * len(DATASETS))
    by = {(r['tool'], r['dataset']): r for r in main}
    for t in TOOL_ORDER:
        cells = []
        for d in DATASETS:
            r = by.get((t, d))
            cells.append('%.3f / %.3f' % (r['accuracy'], r['macro_f1'])
                         if r else '–')
        out.append('| %s | %s |' % (TOOL_NAME[t], ' | '.join(cells)))
    out.append('')
    out.append('Speed and size (training: CPU time, user + system, of the '
               'training command or call; tagging: texts of test.csv per '
               'second of CPU time on one thread and MB/s of their raw '
               'UTF-8 text, model load excluded by subtracting a 10-text '
               'run; peak RSS of the tagging process, from `/usr/bin/time '
               '-v`; for scikit-learn the fit and predict calls are timed '
               'inside Python, its model size is the pickle and its RSS the '
               'whole Python process, training included):')
    out.append('')
    out.append('| dataset | tool | train | tag texts/s | tag MB/s | load | '
               'model | tag peak RSS |')
    out.append('|---|---|---|---|---|---|---|---|')
    for d in DATASETS:
        for t in TOOL_ORDER:
            r = by.get((t, d))
            if not r:
                continue
            out.append('| %s | %s | %s | %s | %s | %s | %s | %s |' % (
                SHORT[d], TOOL_NAME[t], fmt_s(r.get('train_cpu')),
                fmt_rate(r.get('tag_docs_s')),
                '%.1f' % r['tag_mb_s'] if r.get('tag_mb_s') else '–',
                fmt_s(r.get('load_s')) if r.get('load_s') is not None
                else '–',
                fmt_bytes(r.get('model_bytes')),
                fmt_bytes(r.get('peak_rss')) if r.get('peak_rss') else '–'))
    out.append('')
    # targets
    out.append('Targets (issue 4), checked on this run:')
    out.append('')
    out.append('| dataset | best feedmine | best fastText / sklearn NB row '
               '| LinearSVC − 1 pt | accuracy | train vs fastText | tag vs '
               'fastText | model | tag RSS |')
    out.append('|---|---|---|---|---|---|---|---|---|')
    for d in DATASETS:
        fm = by.get(('fm_best', d))
        if not fm:
            continue
        peers = [by.get((t, d)) for t in ('ft_tuned', 'ft_char', 'sk_mnb',
                                          'sk_cnb')]
        peers = [p for p in peers if p]
        svc = by.get(('sk_svc', d))
        pa = max([p['accuracy'] for p in peers] or [0])
        pf = max([p['macro_f1'] for p in peers] or [0])
        need_a = max(pa, svc['accuracy'] - 0.01 if svc else 0)
        need_f = max(pf, svc['macro_f1'] - 0.01 if svc else 0)
        ok = fm['accuracy'] >= need_a - 5e-4 and fm['macro_f1'] >= need_f - 5e-4
        fts = [by.get((t, d)) for t in ('ft_tuned', 'ft_char')]
        fts = [f for f in fts if f]

        def ratio(key, better_low):
            vals = [f.get(key) for f in fts if f.get(key)]
            if not vals or not fm.get(key):
                return '–'
            ref = min(vals) if better_low else max(vals)
            return '%.1fx' % (ref / fm[key] if better_low else fm[key] / ref)
        out.append('| %s | %.3f / %.3f | %.3f / %.3f | %s | %s | %s | %s | '
                   '%s | %s |' % (
                       SHORT[d], fm['accuracy'], fm['macro_f1'], pa, pf,
                       '%.3f / %.3f' % (svc['accuracy'] - 0.01,
                                        svc['macro_f1'] - 0.01)
                       if svc else '–',
                       'met' if ok else '**not met**',
                       ratio('train_cpu', True), ratio('tag_docs_s', False),
                       ratio('model_bytes', True), ratio('peak_rss', True)))
    out.append('')
    out.append('"train vs fastText": how many times faster feedmine\'s best '
               'configuration trains than the faster fastText row (target '
               '≥ 10x); "tag": texts/s over the faster fastText predict '
               '(target ≥ 4x); "model" and "tag RSS": how many times smaller '
               'than the smaller fastText (target ≥ 4x).')
    out.append('')
    if lats:
        out.append('Through the library (`bench_latency`, defaults\' model of '
                   'each dataset, 10,000 tickets of ~1 KB joined from its test '
                   'texts, language identified; wall-clock and the calling '
                   'thread\'s CPU time; targets: open ≤ 5 ms, p99 ≤ 50 µs):')
        out.append('')
        out.append('| dataset | open | p50 wall | p99 wall | p50 CPU | '
                   'p99 CPU | max CPU |')
        out.append('|---|---|---|---|---|---|---|')
        for d in DATASETS:
            r = lats.get(d)
            if not r:
                continue
            out.append('| %s | %.2f ms | %.0f µs | %.0f µs | %.0f µs | '
                       '%.0f µs | %.0f µs |' % (
                           SHORT[d], r['open_ms'], r['wall_p50_us'],
                           r['wall_p99_us'], r['cpu_p50_us'], r['cpu_p99_us'],
                           r['cpu_max_us']))
        out.append('')
    if best_cfg:
        out.append('feedmine configurations chosen by 5-fold CV on '
                   'train.csv (mean of accuracy and macro-F1):')
        out.append('')
        out.append('| dataset | chosen | CV accuracy / macro-F1 of each '
                   'candidate |')
        out.append('|---|---|---|')
        for r in best_cfg:
            out.append('| %s | `%s` | %s |' % (
                SHORT[r['dataset']], r['chosen'] or '(defaults)',
                '; '.join('`%s` %.3f / %.3f' % (c or '(defaults)', a, f)
                          for c, a, f in r['candidates'])))
        out.append('')
    if abl:
        out.append('### Ablation: feedmine with one pipeline stage '
                   'switched in turn')
        out.append('')
        out.append('Defaults, then one option changed; accuracy / macro-F1 '
                   'on test.csv, and the change against the defaults in '
                   'points (accuracy / macro-F1).')
        out.append('')
        variants = []
        for r in abl:
            if r['variant'] not in variants:
                variants.append(r['variant'])
        ab = {(r['variant'], r['dataset']): r for r in abl}
        out.append('| change | ' + ' | '.join(SHORT[d] for d in DATASETS) +
                   ' |')
        out.append('|---|' + '---|' * len(DATASETS))
        for v in variants:
            cells = []
            for d in DATASETS:
                r = ab.get((v, d))
                base = ab.get(('defaults', d))
                if not r:
                    cells.append('–')
                elif v == 'defaults' or not base:
                    cells.append('%.3f / %.3f' % (r['accuracy'],
                                                  r['macro_f1']))
                else:
                    cells.append('%+.1f / %+.1f' % (
                        100 * (r['accuracy'] - base['accuracy']),
                        100 * (r['macro_f1'] - base['macro_f1'])))
            out.append('| %s | %s |' % (v, ' | '.join(cells)))
        out.append('')
    if cmds:
        out.append('Commands (per dataset `$D`, work folder `$W`):')
        out.append('')
        out.append('```')
        for r in cmds:
            out.append(r['text'])
        out.append('```')
        out.append('')
    section = '\n'.join(out) + '\n'
    try:
        with open(md_path, encoding='utf-8') as f:
            old = f.read()
    except FileNotFoundError:
        old = '# Benchmark results\n'
    start = old.find('## Accuracy and speed vs peers')
    if start >= 0:
        nxt = old.find('\n## ', start + 1)
        new = old[:start] + section + (old[nxt + 1:] if nxt >= 0 else '')
    else:
        new = old.rstrip('\n') + '\n\n' + section
    tmp = md_path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        f.write(new)
    os.replace(tmp, md_path)


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    cmd = argv[1]
    if cmd == 'prep':
        cmd_prep(argv[2], argv[3])
    elif cmd == 'sklearn':
        cmd_sklearn(argv[2], argv[3])
    elif cmd == 'pred-metrics':
        cmd_pred_metrics(argv[2], argv[3])
    elif cmd == 'main-row':
        cmd_main_row(argv[2:13])
    elif cmd == 'report':
        cmd_report(argv[2], argv[3], argv[4])
    else:
        raise SystemExit(__doc__)


if __name__ == '__main__':
    main(sys.argv)
