/*
 * stem.c -- Snowball stemming through libstemmer, the only file that uses
 * it. One stemmer per language, created on first use and kept by the
 * tagger's fmi_stemmers (libstemmer's stemmers are not thread-safe; a
 * tagger belongs to one thread at a time), with a cache of recent stems in
 * front of them.
 *
 * libstemmer allocates with malloc, not fmi_malloc, so the fault-injection
 * build cannot fail its allocations; its NULL returns still become
 * FM_ENOMEM here.
 */
#include "lang.h"

#include "hash.h"

#include <limits.h>
#include <libstemmer.h>

/* ISO 639-1 code -> Snowball algorithm name, for every algorithm of
 * libstemmer 2.2. Languages missing here (Hebrew, Thai, Ukrainian, ...)
 * get no stemming. An algorithm this libstemmer build lacks is skipped at
 * run time (fmi_has_stemmer asks sb_stemmer_list()). */
typedef struct stem_algo {
  const char *code;
  const char *name;
} stem_algo;

static const stem_algo algos[] = {
    {"ar", "arabic"},     {"ca", "catalan"},   {"da", "danish"},
    {"de", "german"},     {"el", "greek"},     {"en", "english"},
    {"es", "spanish"},    {"eu", "basque"},    {"fi", "finnish"},
    {"fr", "french"},     {"ga", "irish"},     {"hi", "hindi"},
    {"hu", "hungarian"},  {"hy", "armenian"},  {"id", "indonesian"},
    {"it", "italian"},    {"lt", "lithuanian"}, {"nb", "norwegian"},
    {"ne", "nepali"},     {"nl", "dutch"},     {"nn", "norwegian"},
    {"no", "norwegian"},  {"pt", "portuguese"}, {"ro", "romanian"},
    {"ru", "russian"},    {"sr", "serbian"},   {"sv", "swedish"},
    {"ta", "tamil"},      {"tr", "turkish"},   {"yi", "yiddish"},
};
#define N_ALGOS (sizeof algos / sizeof algos[0])

/* A cache of recent stems. Word frequencies follow Zipf's law, so most
 * words of a document were stemmed moments ago; a hit costs a hash and a
 * compare where Snowball costs ~100-200 ns (Arabic: over 1 us). Two-way
 * (a pair of slots per hash, the more recently used first): direct-mapped,
 * the words of a vocabulary that share a slot kept evicting each other,
 * 7% misses on a 300-word one. Words longer than CACHE_WORD bytes bypass
 * it. */
#define CACHE_SLOTS 16384 /* power of two: 2^CACHE_BITS */
#define CACHE_BITS 14
#define CACHE_WORD 24

typedef struct cache_slot {
  uint8_t algo; /* index into algos + 1; 0 = empty */
  uint8_t wlen, slen;
  char word[CACHE_WORD];
  char stem[CACHE_WORD];
} cache_slot;

struct fmi_stemmers {
  struct sb_stemmer *st[N_ALGOS];
  bool missing[N_ALGOS]; /* this libstemmer build lacks the algorithm */
  cache_slot cache[CACHE_SLOTS];
};

static unsigned cache_index(int idx, const char *w, size_t n) {
  uint64_t h = fmi_hash64_inline(w, n) ^ ((uint64_t)idx << 56);
  h *= 0x9E3779B97F4A7C15ull;
  return (unsigned)(h >> (64 - CACHE_BITS)) & ~1u; /* a pair of slots */
}

/* Index of lang in algos, or -1. A switch rather than a walk of the list:
 * this runs for every word. */
static int algo_index(const char *lang) {
  int i;
  if (!lang || !lang[0] || !lang[1] || lang[2]) return -1;
#define C2(a, b) ((unsigned)(unsigned char)(a) << 8 | (unsigned char)(b))
  switch (C2(lang[0], lang[1])) {
  case C2('a', 'r'): i = 0; break;
  case C2('c', 'a'): i = 1; break;
  case C2('d', 'a'): i = 2; break;
  case C2('d', 'e'): i = 3; break;
  case C2('e', 'l'): i = 4; break;
  case C2('e', 'n'): i = 5; break;
  case C2('e', 's'): i = 6; break;
  case C2('e', 'u'): i = 7; break;
  case C2('f', 'i'): i = 8; break;
  case C2('f', 'r'): i = 9; break;
  case C2('g', 'a'): i = 10; break;
  case C2('h', 'i'): i = 11; break;
  case C2('h', 'u'): i = 12; break;
  case C2('h', 'y'): i = 13; break;
  case C2('i', 'd'): i = 14; break;
  case C2('i', 't'): i = 15; break;
  case C2('l', 't'): i = 16; break;
  case C2('n', 'b'): i = 17; break;
  case C2('n', 'e'): i = 18; break;
  case C2('n', 'l'): i = 19; break;
  case C2('n', 'n'): i = 20; break;
  case C2('n', 'o'): i = 21; break;
  case C2('p', 't'): i = 22; break;
  case C2('r', 'o'): i = 23; break;
  case C2('r', 'u'): i = 24; break;
  case C2('s', 'r'): i = 25; break;
  case C2('s', 'v'): i = 26; break;
  case C2('t', 'a'): i = 27; break;
  case C2('t', 'r'): i = 28; break;
  case C2('y', 'i'): i = 29; break;
  default: return -1;
  }
#undef C2
  /* the switch must follow the list's order */
  return algos[i].code[0] == lang[0] && algos[i].code[1] == lang[1] ? i : -1;
}

static bool algo_built(int idx) {
  const char **l;
  for (l = sb_stemmer_list(); *l; l++)
    if (strcmp(*l, algos[idx].name) == 0) return true;
  return false;
}

int fmi_has_stemmer(const char *lang) {
  int idx = algo_index(lang);
  return idx >= 0 && algo_built(idx);
}

fm_status fmi_stemmers_new(fmi_stemmers **out, fm_error *err) {
  fmi_stemmers *s = fmi_calloc(1, sizeof *s);
  *out = NULL;
  if (!s) return fmi_fail(err, FM_ENOMEM, "out of memory creating stemmers");
  *out = s;
  return FM_OK;
}

void fmi_stemmers_free(fmi_stemmers *s) {
  size_t i;
  if (!s) return;
  for (i = 0; i < N_ALGOS; i++)
    if (s->st[i]) sb_stemmer_delete(s->st[i]);
  fmi_free(s);
}

fm_status fmi_stem(fmi_stemmers *s, const char *lang, const char *w,
                   size_t n, const char **out, size_t *out_len,
                   fm_error *err) {
  int idx;
  const sb_symbol *r;
  cache_slot *c = NULL;

  *out = w;
  *out_len = n;
  idx = algo_index(lang);
  if (idx < 0 || s->missing[idx] || n == 0 || n > INT_MAX) return FM_OK;
  if (!s->st[idx]) {
    if (!algo_built(idx)) {
      s->missing[idx] = true;
      return FM_OK;
    }
    s->st[idx] = sb_stemmer_new(algos[idx].name, "UTF_8");
    if (!s->st[idx])
      return fmi_fail(err, FM_ENOMEM, "out of memory creating the %s stemmer",
                      algos[idx].name);
  }
  if (n <= CACHE_WORD) {
    cache_slot *c1;
    c = &s->cache[cache_index(idx, w, n)];
    c1 = c + 1;
    if (c1->algo == idx + 1 && c1->wlen == n &&
        memcmp(c1->word, w, n) == 0) {
      cache_slot tmp = *c; /* the more recent goes first */
      *c = *c1;
      *c1 = tmp;
    }
    if (c->algo == idx + 1 && c->wlen == n && memcmp(c->word, w, n) == 0) {
      *out = c->stem;
      *out_len = c->slen;
      return FM_OK;
    }
  }
  r = sb_stemmer_stem(s->st[idx], (const sb_symbol *)w, (int)n);
  if (!r)
    return fmi_fail(err, FM_ENOMEM, "out of memory stemming a %s word",
                    algos[idx].name);
  *out = (const char *)r;
  *out_len = (size_t)sb_stemmer_length(s->st[idx]);
  if (c && *out_len <= CACHE_WORD) {
    c[1] = c[0]; /* the older of the pair goes */
    c->algo = (uint8_t)(idx + 1);
    c->wlen = (uint8_t)n;
    c->slen = (uint8_t)*out_len;
    memcpy(c->word, w, n);
    memcpy(c->stem, r, *out_len);
  }
  return FM_OK;
}

size_t fmi_stemmer_names(char *buf, size_t cap) {
  const char **l;
  size_t n = 0;
  if (cap == 0) return 0;
  buf[0] = 0;
  for (l = sb_stemmer_list(); *l; l++) {
    size_t k = strlen(*l);
    if (n + k + 2 >= cap) break;
    if (n) buf[n++] = ',';
    memcpy(buf + n, *l, k);
    n += k;
    buf[n] = 0;
  }
  return n;
}
