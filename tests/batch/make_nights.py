#!/usr/bin/env python3
"""Writes two nights of exports for the batch end-to-end test from the
bundled samples: night 1 has the first tickets and NPS answers; night 2
overlaps it (rows exported again unchanged), adds newer rows, edits the
text of one ticket from night 1 (same id, new text) and changes only the
priority of another (a column feedmine does not read: still unchanged).
NPS answers have ids; churn reasons are written without an id column so
they are keyed by content.

usage: make_nights.py SAMPLES_DIR OUT_DIR
"""
import csv
import os
import sys

samples, out = sys.argv[1], sys.argv[2]


def rows(name):
    with open(os.path.join(samples, name), newline='', encoding='utf-8') as f:
        r = csv.DictReader(f)
        return r.fieldnames, list(r)


def write(path, fields, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', newline='', encoding='utf-8') as f:
        w = csv.DictWriter(f, fieldnames=fields, lineterminator='\n')
        w.writeheader()
        w.writerows(data)


tf, tickets = rows('tickets.csv')
nf, nps = rows('nps.csv')
cf, churn = rows('churn.csv')
tickets.sort(key=lambda r: r['created_at'])
nps.sort(key=lambda r: r['submitted_at'])
churn.sort(key=lambda r: r['closed_at'])
cf = [c for c in cf if c != 'id']
for c in churn:
    del c['id']

n1 = [dict(r) for r in tickets[:180]]
n2 = [dict(r) for r in tickets[150:330]]
edited = n2[5]                      # ticket 155: seen on night 1
edited['description'] = ('UPDATE from the customer: the export to CSV now '
                         'fails with error 500 every time, urgent.')
n2[6]['priority'] = 'urgent'        # ticket 156: an unread column only
write(os.path.join(out, 'night1', 'tickets.csv'), tf, n1)
write(os.path.join(out, 'night2', 'tickets.csv'), tf, n2)
write(os.path.join(out, 'night1', 'nps.csv'), nf, nps[:60])
write(os.path.join(out, 'night2', 'nps.csv'), nf, nps[40:120])
write(os.path.join(out, 'night1', 'churn.csv'), cf, churn[:20])
write(os.path.join(out, 'night2', 'churn.csv'), cf, churn[:35])
print(edited['ticket_id'])
