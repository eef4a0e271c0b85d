#!/usr/bin/env python3
"""Writes src/langid_profiles.h: character trigram log-likelihood ratios
for the languages fmi_langid tells apart within one script (Latin: en de es
fr pt it nl; Cyrillic: ru uk).

Training text is the project's own: corpora/langid/<lang>.txt and the
`text` column of the train rows of corpora/labeled/<lang>.csv. Never feed it
../shared/datasets -- that is where accuracy is measured.

Words are taken as runs of letters (with inner apostrophes), normalized as
the pipeline does (NFKC + case fold, U+2019 -> '), padded with one space on
each side; every trigram of code points is counted. The table keeps, per
language, its TOP most frequent trigrams; for each kept trigram it stores
per language round(SCALE * (log p_l - mean over the group)), clamped to
int8, with additive smoothing ALPHA. The runtime looks trigrams up in an
open-addressing table keyed by the three code points packed into 64 bits
(cp0 << 42 | cp1 << 21 | cp2) and hashed with a Fibonacci multiply; the C
code repeats the same hash.

It also writes the word table behind fmi_is_stopword, fmi_is_negator and
the word evidence of identification: the stopwords
(corpora/stopwords/<lang>.txt) and negators (the neg_<lang> tables of
src/langid.c) of en de es fr pt it nl ru uk he ar th, each word with bit
masks of the languages that list it, in an open-addressing table keyed by
a multiply-xorshift hash of the word's bytes taken eight at a time (see
word_hash; src/langid.c repeats it). One probe per word replaces a binary search per
language (identification asks nine languages about every word; the
pipeline asks about every token). test_lang checks the table against the
compiled lists, so editing a list without rerunning this script fails the
tests.

Usage: python3 tools/langid/gen_profiles.py [--check]
  --check  exit 1 if src/langid_profiles.h is not up to date.
"""
import csv
import math
import os
import re
import sys
import unicodedata

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LANGS = ["en", "de", "es", "fr", "pt", "it", "nl", "ru", "uk"]
# The word table covers every language with a stopword or negator list;
# the scored languages come first, so their bits are the same in both.
WORD_LANGS = LANGS + ["he", "ar", "th"]
GROUPS = {"latin": LANGS[:7], "cyrillic": LANGS[7:]}
TOP = 400
ALPHA = 0.5
SCALE = 8.0       # units of 1/8 nat
HASH_BITS = 13    # table slots = 8192
WORD_BITS = 12    # word table slots = 4096
MULT = 0x9E3779B97F4A7C15


def normalize(s):
    s = unicodedata.normalize("NFKC", s)
    s = unicodedata.normalize("NFKC", s.casefold())
    return s.replace("\u2019", "'")


def words(s):
    w = []
    for ch in s + " ":
        if unicodedata.category(ch)[0] in "LM":
            w.append(ch)
        elif ch == "'" and w:
            w.append(ch)
        else:
            while w and w[-1] == "'":
                w.pop()
            if w:
                yield "".join(w)
            w = []


def trigrams(word):
    p = " " + word + " "
    for i in range(len(p) - 2):
        yield p[i:i + 3]


def texts(lang):
    path = os.path.join(ROOT, "corpora", "langid", lang + ".txt")
    with open(path, encoding="utf-8") as f:
        for line in f:
            yield line
    path = os.path.join(ROOT, "corpora", "labeled", lang + ".csv")
    if os.path.exists(path):
        with open(path, encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                # The test rows stay out, so tools/bench/langid_eval.c can
                # measure on them.
                if row.get("lang") == lang and row.get("split") == "train":
                    yield row["text"]


def key(t):
    c = [ord(x) for x in t]
    return (c[0] << 42) | (c[1] << 21) | c[2]


def slot(k):
    return ((k * MULT) & 0xFFFFFFFFFFFFFFFF) >> (64 - HASH_BITS)


M64 = 0xFFFFFFFFFFFFFFFF


def chunks(b):
    """The word's bytes as little-endian 64-bit values, the last one
    zero-padded."""
    return [int.from_bytes(b[i:i + 8].ljust(8, b"\0"), "little")
            for i in range(0, len(b), 8)]


def word_hash(b):
    h = (len(b) * MULT) & M64
    for c in chunks(b):
        h = ((h ^ c) * 0xFF51AFD7ED558CCD) & M64
        h ^= h >> 32
    return h


def word_slot(b):
    return word_hash(b) >> (64 - WORD_BITS)


def stopwords(lang):
    path = os.path.join(ROOT, "corpora", "stopwords", lang + ".txt")
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            w = line.split("#", 1)[0].strip()
            if w:
                out.append(w)
    return out


def negators(lang):
    path = os.path.join(ROOT, "src", "langid.c")
    with open(path, encoding="utf-8") as f:
        src = f.read()
    m = re.search(r"static const char \*const neg_%s\[\] = \{(.*?)\};" % lang,
                  src, re.S)
    if not m:
        sys.exit("src/langid.c has no neg_%s table" % lang)
    body = re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S)
    return re.findall(r'"((?:[^"\\]|\\.)*)"', body)


def build_words():
    words = {}
    for i, lang in enumerate(WORD_LANGS):
        for w in stopwords(lang):
            words.setdefault(w, [0, 0])[0] |= 1 << i
        for w in negators(lang):
            words.setdefault(w, [0, 0])[1] |= 1 << i
    return sorted(words.items(), key=lambda kv: kv[0].encode("utf-8"))


def build():
    counts = {}
    sources = {}
    for lang in LANGS:
        c = {}
        n = 0
        for t in texts(lang):
            n += 1
            for w in words(normalize(t)):
                for g in trigrams(w):
                    c[g] = c.get(g, 0) + 1
        counts[lang] = c
        sources[lang] = n
    entries = {}
    for group, langs in GROUPS.items():
        keep = set()
        for lang in langs:
            top = sorted(counts[lang].items(), key=lambda kv: (-kv[1], kv[0]))
            keep.update(g for g, _ in top[:TOP])
        vocab = set()
        for lang in langs:
            vocab.update(counts[lang])
        v = len(vocab)
        for g in sorted(keep):
            lp = []
            for lang in langs:
                total = sum(counts[lang].values())
                lp.append(math.log((counts[lang].get(g, 0) + ALPHA) /
                                   (total + ALPHA * v)))
            mean = sum(lp) / len(lp)
            row = entries.setdefault(g, [0] * len(LANGS))
            for lang, x in zip(langs, lp):
                q = int(round(SCALE * (x - mean)))
                row[LANGS.index(lang)] = max(-127, min(127, q))
    return entries, sources


def c_string(w):
    return '"' + w.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(entries, sources, words):
    items = sorted(entries.items(), key=lambda kv: key(kv[0]))
    size = 1 << HASH_BITS
    if len(items) * 2 > size:
        sys.exit("too many trigrams for the hash table; raise HASH_BITS")
    table = [0] * size
    for i, (g, _) in enumerate(items):
        s = slot(key(g))
        while table[s]:
            s = (s + 1) & (size - 1)
        table[s] = i + 1
    out = []
    out.append("/* Generated by tools/langid/gen_profiles.py from corpora/langid/<lang>.txt")
    out.append(" * and corpora/labeled/<lang>.csv; texts per language:")
    out.append(" * " + ", ".join("%s %d" % (l, sources[l]) for l in LANGS) + ".")
    out.append(" * Do not edit; rerun the script. */")
    out.append("#ifndef FM_LANGID_PROFILES_H")
    out.append("#define FM_LANGID_PROFILES_H")
    out.append("#include <stdint.h>")
    out.append("")
    out.append("#define FMI_LP_NLANG %d" % len(LANGS))
    out.append("#define FMI_LP_SCALE %d /* scores are nats * SCALE */" % int(SCALE))
    out.append("#define FMI_LP_HASH_BITS %d" % HASH_BITS)
    out.append("#define FMI_LP_COUNT %d" % len(items))
    out.append("static const char *const fmi_lp_langs[FMI_LP_NLANG] = {%s};" %
               ", ".join('"%s"' % l for l in LANGS))
    out.append("")
    out.append("/* Trigram keys: cp0 << 42 | cp1 << 21 | cp2 (space pads words). */")
    out.append("static const uint64_t fmi_lp_keys[FMI_LP_COUNT] = {")
    for g, _ in items:
        out.append("  0x%xu, /* %s */" % (key(g), g.replace(" ", "_").replace("*/", "* /")))
    out.append("};")
    out.append("")
    out.append("static const int8_t fmi_lp_score[FMI_LP_COUNT][FMI_LP_NLANG] = {")
    for _, row in items:
        out.append("  {" + ", ".join("%d" % x for x in row) + "},")
    out.append("};")
    out.append("")
    out.append("/* Slot -> entry index + 1 (0 = empty); linear probing. */")
    out.append("static const uint16_t fmi_lp_slots[1u << FMI_LP_HASH_BITS] = {")
    for i in range(0, size, 16):
        out.append("  " + ", ".join(str(x) for x in table[i:i + 16]) + ",")
    out.append("};")
    out.append("")
    wsize = 1 << WORD_BITS
    if len(words) * 2 > wsize:
        sys.exit("too many words for the word table; raise WORD_BITS")
    wtable = [0] * wsize
    for i, (w, _) in enumerate(words):
        s = word_slot(w.encode("utf-8"))
        while wtable[s]:
            s = (s + 1) & (wsize - 1)
        wtable[s] = i + 1
    out.append("#define FMI_LW_NLANG %d" % len(WORD_LANGS))
    out.append("static const char *const fmi_lw_langs[FMI_LW_NLANG] = {%s};" %
               ", ".join('"%s"' % l for l in WORD_LANGS))
    out.append("")
    out.append("/* Stopwords and negators: bit i of `stop` (`neg`) set when")
    out.append(" * fmi_lw_langs[i] lists the word. */")
    out.append("typedef struct fmi_lw_entry {")
    out.append("  uint64_t head; /* first 8 bytes, little-endian, zero-padded */")
    out.append("  const char *word;")
    out.append("  uint16_t len, stop, neg;")
    out.append("} fmi_lw_entry;")
    out.append("#define FMI_LW_HASH_BITS %d" % WORD_BITS)
    out.append("#define FMI_LW_COUNT %d" % len(words))
    out.append("static const fmi_lw_entry fmi_lw_words[FMI_LW_COUNT] = {")
    for w, (st, ng) in words:
        b = w.encode("utf-8")
        out.append("  {0x%xu, %s, %d, 0x%x, 0x%x}," % (chunks(b)[0], c_string(w), len(b), st, ng))
    out.append("};")
    out.append("")
    out.append("/* Slot (top bits of the word hash) -> entry")
    out.append(" * index + 1 (0 = empty); linear probing. */")
    out.append("static const uint16_t fmi_lw_slots[1u << FMI_LW_HASH_BITS] = {")
    for i in range(0, wsize, 16):
        out.append("  " + ", ".join(str(x) for x in wtable[i:i + 16]) + ",")
    out.append("};")
    out.append("")
    out.append("#endif")
    return "\n".join(out) + "\n"


def main():
    entries, sources = build()
    text = render(entries, sources, build_words())
    path = os.path.join(ROOT, "src", "langid_profiles.h")
    if "--check" in sys.argv[1:]:
        with open(path, encoding="utf-8") as f:
            sys.exit(0 if f.read() == text else 1)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    print("wrote %s: %d trigrams" % (path, len(entries)))


if __name__ == "__main__":
    main()
