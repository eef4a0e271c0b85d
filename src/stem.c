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

/* A direct-mapped cache of recent stems. Word frequencies follow Zipf's
 * law, so most words of a document were stemmed moments ago; a hit costs a
 * hash and a compare where Snowball costs ~100-200 ns. Words longer than
 * CACHE_WORD bytes bypass it. */
#define CACHE_SLOTS 8192 /* power of two: 2^CACHE_BITS */
#define CACHE_BITS 13
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
  uint64_t h = ((uint64_t)n << 8 | (unsigned)idx) * 0x9E3779B97F4A7C15ull;
  size_t i;
  for (i = 0; i < n; i++) h = (h ^ (unsigned char)w[i]) * 0x100000001B3ull;
  h ^= h >> 29;
  h *= 0xFF51AFD7ED558CCDull;
  return (unsigned)(h >> (64 - CACHE_BITS));
}

static int algo_index(const char *lang) {
  size_t i;
  if (!lang || !lang[0] || !lang[1] || lang[2]) return -1;
  for (i = 0; i < N_ALGOS; i++)
    if (algos[i].code[0] == lang[0] && algos[i].code[1] == lang[1])
      return (int)i;
  return -1;
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
    c = &s->cache[cache_index(idx, w, n)];
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
