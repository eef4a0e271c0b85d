#!/usr/bin/env python3
"""Writes the rows of the labeled corpora that belong to one split.

Usage: corpus_split.py --split train|test [--lang XX] [-o OUT] FILE...

Reads corpora/labeled/<lang>.csv files (format: corpora/FORMAT.md) and
writes one CSV with their common header and the rows whose `split` column
matches (and whose `lang` matches, with --lang), files in byte order of
their names and rows in file order, so the same corpora always give the
same bytes (the default model's determinism starts here). Standard
library only.
"""
import argparse
import csv
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", required=True, choices=("train", "test"))
    ap.add_argument("--lang")
    ap.add_argument("-o", "--output", default="-")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()

    out = (sys.stdout if args.output == "-"
           else open(args.output, "w", newline="", encoding="utf-8"))
    writer = csv.writer(out, lineterminator="\n")
    header = None
    rows = 0
    for path in sorted(args.files, key=lambda p: p.encode("utf-8")):
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            h = next(reader)
            if header is None:
                header = h
                writer.writerow(header)
                split_col, lang_col = h.index("split"), h.index("lang")
            elif h != header:
                sys.exit("%s: header differs from the first file's" % path)
            for line, row in enumerate(reader, start=2):
                if len(row) != len(header):
                    sys.exit("%s: record %d has %d fields, expected %d"
                             % (path, line, len(row), len(header)))
                if row[split_col] not in ("train", "test"):
                    sys.exit("%s: record %d: split is %r, not train or test"
                             % (path, line, row[split_col]))
                if row[split_col] != args.split:
                    continue
                if args.lang and row[lang_col] != args.lang:
                    continue
                writer.writerow(row)
                rows += 1
    if out is not sys.stdout:
        out.close()
    if rows == 0:
        sys.exit("no %s rows%s" % (args.split,
                                   " for " + args.lang if args.lang else ""))


if __name__ == "__main__":
    main()
