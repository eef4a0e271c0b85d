/*
 * pipeline.c -- runs the text pipeline over one document:
 *
 *   UTF-8 repair -> redaction -> normalization -> segmentation ->
 *   language -> stopwords, stemming -> negation scope -> features
 *
 * Everything a document needs lives in the pipeline's arena, which is reset
 * at the start of each run, so steady-state tagging does not touch malloc.
 *
 * Redacted PII travels through normalization and segmentation as one
 * private-use code point (U+E000 + kind): NFKC leaves private-use
 * characters alone and the segmenter makes each one a placeholder token, so
 * "<email>" can never be split, case folded or stemmed.
 */
#include "pipeline.h"

#include "hash.h"

#include <stdlib.h>

#define PUA_BASE 0xE000u

/* Numbers up to this many digits are kept as features ("404", "2024");
 * longer ones are ids, amounts or order numbers and become "<num>", which
 * keeps the vocabulary from filling up with one-off digits. */
#define MAX_NUMBER_DIGITS 4

fm_status fmi_pipeline_opts_resolve(const fm_pipeline_opts *in,
                                    fm_pipeline_opts *out, fm_error *err) {
  fm_pipeline_opts def = FM_PIPELINE_OPTS_INIT;
  if (in) {
    if (in->size < sizeof(size_t) || in->size > sizeof(fm_pipeline_opts))
      return fmi_fail(err, FM_EINVAL,
                      "fm_pipeline_opts.size is %zu, expected %zu", in->size,
                      sizeof(fm_pipeline_opts));
    /* Fields past the caller's size keep their defaults: an older caller's
     * smaller struct stays valid as the struct grows. */
    memcpy(&def, in, in->size);
    def.size = sizeof def;
  }
  if (def.max_doc_bytes == 0) def.max_doc_bytes = FM_MAX_DOC_BYTES_DEFAULT;
  if (def.char_ngram_min == 0) def.char_ngram_min = 2;
  if (def.char_ngram_max == 0) def.char_ngram_max = 5;
  if (def.char_ngram_min > def.char_ngram_max || def.char_ngram_max > 16)
    return fmi_fail(err, FM_EINVAL,
                    "character n-gram range %u-%u is invalid (1 <= min <= "
                    "max <= 16)",
                    def.char_ngram_min, def.char_ngram_max);
  if (def.max_doc_bytes > ((size_t)1 << 30))
    return fmi_fail(err, FM_EINVAL, "max_doc_bytes over 1 GiB");
  def.stages &= FM_STAGES_DEFAULT | FM_STAGE_CHARGRAMS;
  *out = def;
  fmi_ok(err);
  return FM_OK;
}

fm_status fmi_pipeline_init(fmi_pipeline *p, const fm_pipeline_opts *opts,
                            fm_error *err) {
  fm_status st;
  memset(p, 0, sizeof *p);
  p->chargram_text = true;
  st = fmi_pipeline_opts_resolve(opts, &p->opts, err);
  if (st != FM_OK) return st;
  /* The cap bounds one document's working memory: tokens, features and
   * their texts for the worst case of one-letter words, plus the text
   * copies. */
  fmi_arena_init(&p->arena, 96 * p->opts.max_doc_bytes + ((size_t)1 << 20));
  if (p->opts.stages & FM_STAGE_REDACT) {
    st = fmi_redactor_new(&p->redactor, err);
    if (st != FM_OK) goto fail;
  }
  st = fmi_normalizer_new(&p->normalizer, err);
  if (st != FM_OK) goto fail;
  st = fmi_segmenter_new(&p->segmenter, err);
  if (st != FM_OK) goto fail;
  st = fmi_stemmers_new(&p->stemmers, err);
  if (st != FM_OK) goto fail;
  st = fmi_words_new(&p->words, err);
  if (st != FM_OK) goto fail;
  return FM_OK;
fail:
  fmi_pipeline_destroy(p);
  return st;
}

void fmi_pipeline_destroy(fmi_pipeline *p) {
  fmi_redactor_free(p->redactor);
  fmi_normalizer_free(p->normalizer);
  fmi_segmenter_free(p->segmenter);
  fmi_stemmers_free(p->stemmers);
  fmi_words_free(p->words);
  fmi_arena_free(&p->arena);
  fmi_free(p->ft);
  memset(p, 0, sizeof *p);
}

/* ---- redaction ------------------------------------------------------------
 * Builds both texts from the spans: `shown` with "<email>" for callers and
 * reports, `work` with one private-use code point per span for the rest of
 * the pipeline. */
static fm_status redact(fmi_pipeline *p, const char *s, size_t n,
                        const char **shown, size_t *shown_len,
                        const char **work, size_t *work_len, fm_error *err) {
  fmi_span *spans = NULL;
  size_t ns = 0, i, at = 0, cap_shown, cap_work, o1 = 0, o2 = 0;
  char *a, *b;
  fm_status st;
  p->an.pii_count = 0;
  p->pii = NULL;
  p->n_pii = 0;
  p->pii_text = s;
  if (!p->redactor) goto unchanged;
  st = fmi_redact_find(p->redactor, s, n, &p->arena, &spans, &ns, err);
  if (st != FM_OK) return st;
  if (ns == 0) goto unchanged;
  /* Placeholders are at most 8 bytes ("<email>" is 7) and the private-use
   * character 3, so each span grows the text by at most 8. */
  cap_shown = n + 8 * ns + 1;
  cap_work = n + 1;
  a = fmi_arena_alloc(&p->arena, cap_shown);
  b = fmi_arena_alloc(&p->arena, cap_work + 3 * ns);
  if (!a || !b) return fmi_fail(err, fmi_arena_status(&p->arena),
                                "document needs too much working memory");
  for (i = 0; i < ns; i++) {
    const char *ph = fmi_pii_placeholder(spans[i].kind);
    size_t phl = strlen(ph), gap = spans[i].start - at;
    memcpy(a + o1, s + at, gap);
    memcpy(b + o2, s + at, gap);
    o1 += gap;
    o2 += gap;
    memcpy(a + o1, ph, phl);
    o1 += phl;
    /* Spaces around the code point keep it from gluing to a word when the
     * PII touched letters ("mail:jo@x.com"). */
    b[o2++] = ' ';
    o2 += fmi_utf8_encode(PUA_BASE + (uint32_t)spans[i].kind, b + o2);
    b[o2++] = ' ';
    at = spans[i].end;
  }
  memcpy(a + o1, s + at, n - at);
  memcpy(b + o2, s + at, n - at);
  o1 += n - at;
  o2 += n - at;
  a[o1] = b[o2] = 0;
  *shown = a;
  *shown_len = o1;
  *work = b;
  *work_len = o2;
  p->an.pii_count = ns;
  p->pii = spans;
  p->n_pii = ns;
  return FM_OK;
unchanged:
  *shown = *work = s;
  *shown_len = *work_len = n;
  return FM_OK;
}

/* ---- feature counting -------------------------------------------------------
 * Open addressing on the 64-bit id; the table only grows, so after the first
 * few documents no allocation happens here. */
static fm_status ft_prepare(fmi_pipeline *p, size_t want) {
  size_t cap = 64;
  /* want bounds the distinct features; 1.5x to 3x that many slots keeps
   * probes short, and a table no larger than the document needs stays in
   * cache (a 1 KB ticket: 8192 slots, 128 KB) */
  while (cap < want + want / 2) {
    if (cap > SIZE_MAX / 4) return FM_ENOMEM;
    cap *= 2;
  }
  if (cap > p->ft_cap) {
    struct fmi_ft_slot *t = fmi_calloc(cap, sizeof *t);
    if (!t) return FM_ENOMEM;
    fmi_free(p->ft);
    p->ft = t;
    p->ft_cap = cap;
    p->ft_gen = 0;
  }
  p->ft_mask = cap - 1;
  if (++p->ft_gen == 0) { /* stamps wrapped: clear them once */
    size_t i;
    for (i = 0; i < p->ft_cap; i++) p->ft[i].stamp = 0;
    p->ft_gen = 1;
  }
  return FM_OK;
}

typedef struct feat_acc {
  fmi_pipeline *p;
  fm_feature *feats; /* cap + 1 entries: see feat_flush */
  size_t n, cap;
  /* Character n-gram ids hashed but not yet counted (tagging only):
   * hashing a chunk's n-grams apart from probing the table lets the
   * hashes of several n-grams overlap and the table slots be prefetched. */
  uint64_t *pend;
  size_t n_pend, pend_cap;
} feat_acc;

static inline size_t ft_home(const fmi_pipeline *p, uint64_t id) {
  return (size_t)(id ^ (id >> 29)) & p->ft_mask;
}

/* Counts one feature whose id is known. `text` is copied into the arena
 * when the feature is new and `copy` is set, used as is (it outlives the
 * run) when `copy` is false, and may be NULL for a feature without text. */
static fm_status feat_add_id(feat_acc *fa, uint64_t id, const char *text,
                             size_t len, fm_feature_kind kind, bool copy) {
  fmi_pipeline *p = fa->p;
  size_t mask = p->ft_mask, h = ft_home(p, id);
  const uint32_t gen = p->ft_gen;
  struct fmi_ft_slot *sl;
  while ((sl = &p->ft[h])->stamp == gen) {
    if (sl->key == id) {
      fa->feats[sl->val - 1].count++;
      return FM_OK;
    }
    h = (h + 1) & mask;
  }
  if (fa->n == fa->cap) return FM_ETOOBIG; /* sized up front; cannot happen */
  {
    fm_feature *f = &fa->feats[fa->n];
    if (text && copy) {
      char *c = fmi_arena_memdup(&p->arena, text, len);
      if (!c) return fmi_arena_status(&p->arena);
      text = c;
    }
    f->text = text;
    f->len = text ? len : 0;
    f->id = id;
    f->count = 1;
    f->kind = kind;
  }
  sl->key = id;
  sl->val = (uint32_t)(++fa->n);
  sl->stamp = gen;
  return FM_OK;
}

/* Counts the pending character n-gram ids in order, as feat_add_id would
 * one by one, but without a branch on whether each is new (about half
 * are, at random): the next free feature is written either way and the
 * count goes to the feature the slot names. feats has room for that one
 * write past cap. */
#define FT_PREFETCH_AHEAD 8
static fm_status feat_flush(feat_acc *fa) {
  fmi_pipeline *p = fa->p;
  const size_t mask = p->ft_mask, np = fa->n_pend;
  const uint32_t gen = p->ft_gen;
  const uint64_t *ids = fa->pend;
  struct fmi_ft_slot *ft = p->ft;
  fm_feature *feats = fa->feats;
  size_t n = fa->n, j;
  for (j = 0; j < np; j++) {
    uint64_t id = ids[j];
    size_t h = ft_home(p, id);
    struct fmi_ft_slot *sl;
    uint32_t idx;
    bool hit;
    fm_feature *f;
    if (j + FT_PREFETCH_AHEAD < np)
      FMI_PREFETCH(&ft[ft_home(p, ids[j + FT_PREFETCH_AHEAD])], 1, 3);
    while ((sl = &ft[h])->stamp == gen && sl->key != id) h = (h + 1) & mask;
    hit = sl->stamp == gen;
    if (FMI_UNLIKELY(!hit && n == fa->cap)) {
      fa->n = n;
      return FM_ETOOBIG; /* sized up front; cannot happen */
    }
    f = &feats[n];
    f->id = id;
    f->text = NULL;
    f->len = 0;
    f->count = 0;
    f->kind = FM_FEATURE_CHARGRAM;
    idx = hit ? sl->val : (uint32_t)(n + 1);
    n += !hit;
    sl->key = id;
    sl->val = idx;
    sl->stamp = gen;
    feats[idx - 1].count++;
  }
  fa->n = n;
  fa->n_pend = 0;
  return FM_OK;
}

/* Counts the feature `text`; copy as for feat_add_id. */
static fm_status feat_add_text(feat_acc *fa, const char *text, size_t len,
                               fm_feature_kind kind, bool copy) {
  if (fa->n_pend) { /* features keep their order of first appearance */
    fm_status st = feat_flush(fa);
    if (st != FM_OK) return st;
  }
  return feat_add_id(fa, fmi_hash64_inline(text, len), text, len, kind,
                     copy);
}

static fm_status feat_add(feat_acc *fa, const char *text, size_t len,
                          fm_feature_kind kind) {
  return feat_add_text(fa, text, len, kind,
                       kind != FM_FEATURE_CHARGRAM || fa->p->chargram_text);
}

/* XXH3-64 (the same value as fmi_hash64) of the len bytes at s with the
 * first two read as "c:": the character n-gram's id hashed where the
 * n-gram lies, without writing the prefix into the buffer first (a store
 * that the hash's wider loads would then wait on). The formulas are
 * XXH3's for 4 to 16 bytes, its output frozen since xxHash 0.8.0; other
 * lengths return false and are hashed from a copy. test_pipeline checks
 * every length against fmi_hash64. */
#if defined(XXH_VERSION_NUMBER) && XXH_VERSION_NUMBER >= 800
#define CHARGRAM_PREFIX 0x3a63u /* "c:" read little-endian */
static inline bool chargram_id_inplace(const unsigned char *s, size_t len,
                                       uint64_t *id) {
  const xxh_u8 *k = XXH3_kSecret;
  if (len >= 4 && len <= 8) {
    xxh_u32 in1 = (XXH_readLE32(s) & ~(xxh_u32)0xFFFF) | CHARGRAM_PREFIX;
    xxh_u32 in2;
    if (len >= 6)
      in2 = XXH_readLE32(s + len - 4);
    else if (len == 5)
      in2 = (XXH_readLE32(s + 1) & ~(xxh_u32)0xFF) | (CHARGRAM_PREFIX >> 8);
    else
      in2 = in1;
    {
      xxh_u64 bitflip = XXH_readLE64(k + 8) ^ XXH_readLE64(k + 16);
      xxh_u64 in64 = in2 + ((xxh_u64)in1 << 32);
      *id = XXH3_rrmxmx(in64 ^ bitflip, len);
    }
    return true;
  }
  if (len >= 9 && len <= 16) {
    xxh_u64 bf1 = XXH_readLE64(k + 24) ^ XXH_readLE64(k + 32);
    xxh_u64 bf2 = XXH_readLE64(k + 40) ^ XXH_readLE64(k + 48);
    xxh_u64 lo = (XXH_readLE64(s) & ~(xxh_u64)0xFFFF) | CHARGRAM_PREFIX;
    xxh_u64 hi = len == 9 ? (XXH_readLE64(s + 1) & ~(xxh_u64)0xFF) |
                                (CHARGRAM_PREFIX >> 8)
                          : XXH_readLE64(s + len - 8);
    lo ^= bf1;
    hi ^= bf2;
    *id = XXH3_avalanche(len + XXH_swap64(lo) + hi +
                         XXH3_mul128_fold64(lo, hi));
    return true;
  }
  return false;
}
#else
static inline bool chargram_id_inplace(const unsigned char *s, size_t len,
                                       uint64_t *id) {
  (void)s;
  (void)len;
  (void)id;
  return false;
}
#endif

/* Character n-grams of each whitespace-delimited chunk of the normalized
 * text, sklearn's "char_wb" style: the chunk is padded with an edge mark
 * on each side ("_word,_"; '_' rather than a blank keeps feature texts
 * free of spaces) and every run of min..max code points becomes "c:" +
 * the run. Chunks rather than segmented words, so punctuation, digits and
 * symbols inside a chunk count ("£100", "?", "!!!": worth 0.5 points of
 * accuracy on sms_spam), and in scripts written without spaces the
 * n-grams span word boundaries, as fastText's subwords do. */
#define CHARGRAM_MAX_CHUNK 128 /* code points; longer chunks (base64,
                                  hashes, run-on text) add noise */
static inline bool chunk_space(unsigned char c) {
  return c == ' ' || (c >= '\t' && c <= '\r'); /* \t \n \v \f \r */
}

/* Bytes of the chunk texts that add_chargrams will use, with their edge
 * marks: bounds the number of n-grams (span times this). */
static size_t chargram_bytes(const char *s, size_t n) {
  size_t i, total = 0;
  bool after_space = true;
  /* each chunk's bytes, and 2 where one starts: no branch per byte */
  for (i = 0; i < n; i++) {
    bool sp = chunk_space((unsigned char)s[i]);
    total += (size_t)!sp + 2 * (size_t)(after_space && !sp);
    after_space = sp;
  }
  return total;
}

static bool is_placeholder_chunk(const unsigned char *w, size_t len) {
  uint32_t cp;
  return len == 3 && fmi_utf8_decode(w, len, &cp) == 3 &&
         cp >= PUA_BASE && cp < PUA_BASE + FMI_PII__COUNT;
}

static fm_status add_chunk_chargrams(feat_acc *fa, const unsigned char *w,
                                     size_t len) {
  const fm_pipeline_opts *o = &fa->p->opts;
  /* "??_" + chunk + "_": the n-gram at padded offset a is hashed in place
   * as "c:" + n-gram, the two bytes before it borrowed for the prefix */
  char buf[4 * CHARGRAM_MAX_CHUNK + 8];
  size_t starts[CHARGRAM_MAX_CHUNK + 3], nc = 0, i, k;
  /* tagging: ids only, counted in batches (feat_flush) */
  const bool fast = !fa->p->chargram_text && fa->pend_cap > 0;
  fm_status st = FM_OK;
  if (len > 4 * CHARGRAM_MAX_CHUNK || is_placeholder_chunk(w, len))
    return FM_OK;
  /* starts[] are offsets into "_" + w + "_" */
  starts[nc++] = 0;
  for (i = 0; i < len;) {
    uint32_t cp;
    if (nc > CHARGRAM_MAX_CHUNK) return FM_OK;
    starts[nc++] = 1 + i;
    i += w[i] < 0x80 ? 1 : fmi_utf8_decode(w + i, len - i, &cp);
  }
  starts[nc++] = 1 + len;
  starts[nc] = 2 + len; /* end of the last code point */
  buf[0] = buf[1] = 0; /* read (and masked off) by chargram_id_inplace */
  buf[2] = '_';
  memcpy(buf + 3, w, len);
  buf[3 + len] = '_';
  for (k = o->char_ngram_min; k <= o->char_ngram_max; k++) {
    for (i = 0; i + k <= nc; i++) {
      size_t a = starts[i], b = starts[i + k];
      char s0, s1;
      if (k == 1 && (i == 0 || i == nc - 1)) continue; /* a lone edge mark */
      if (fast) {
        uint64_t id;
        if (fa->n_pend == fa->pend_cap) {
          st = feat_flush(fa);
          if (st != FM_OK) return st;
        }
        if (chargram_id_inplace((const unsigned char *)buf + a, b - a + 2,
                                &id)) {
          fa->pend[fa->n_pend++] = id;
          continue;
        }
      }
      s0 = buf[a];
      s1 = buf[a + 1];
      buf[a] = 'c';
      buf[a + 1] = ':';
      if (fast)
        fa->pend[fa->n_pend++] = fmi_hash64_inline(buf + a, b - a + 2);
      else
        st = feat_add(fa, buf + a, b - a + 2, FM_FEATURE_CHARGRAM);
      buf[a] = s0;
      buf[a + 1] = s1;
      if (st != FM_OK) return st;
    }
  }
  return FM_OK;
}

static fm_status add_chargrams(feat_acc *fa, const char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    size_t a;
    fm_status st;
    while (i < n && chunk_space((unsigned char)s[i])) i++;
    a = i;
    while (i < n && !chunk_space((unsigned char)s[i])) i++;
    if (i == a) continue;
    st = add_chunk_chargrams(fa, (const unsigned char *)s + a, i - a);
    if (st != FM_OK) return st;
  }
  return FM_OK;
}

/* The host of each redacted URL as a feature ("url:youtube.com"): where a
 * link points says what a comment is about (on hebrew_sentiment the
 * off-topic class is mostly links, and redacting them whole costs 6 points
 * of macro-F1). Only the host, lowercased, without "www.", user or port:
 * paths and queries can carry personal data. */
#define URL_HOST_MAX 100
static fm_status add_url_hosts(feat_acc *fa) {
  const fmi_pipeline *p = fa->p;
  size_t i;
  for (i = 0; i < p->n_pii; i++) {
    const char *u = p->pii_text + p->pii[i].start, *end, *h, *q;
    size_t k, hl;
    char g[URL_HOST_MAX + 4];
    fm_status st;
    if (p->pii[i].kind != FMI_PII_URL) continue;
    end = u + (p->pii[i].end - p->pii[i].start);
    h = u;
    for (q = u; q + 2 < end && q < u + 12; q++) /* past "scheme://" */
      if (q[0] == ':' && q[1] == '/' && q[2] == '/') {
        h = q + 3;
        break;
      }
    for (q = h; q < end && *q != '/' && *q != '?' && *q != '#'; q++)
      if (*q == '@') h = q + 1; /* past "user@" */
    end = q;
    q = memchr(h, ':', (size_t)(end - h)); /* a port */
    if (q) end = q;
    if (end - h > 4 && (h[0] | 0x20) == 'w' && (h[1] | 0x20) == 'w' &&
        (h[2] | 0x20) == 'w' && h[3] == '.')
      h += 4;
    hl = (size_t)(end - h);
    if (hl == 0 || hl > URL_HOST_MAX) continue;
    memcpy(g, "url:", 4);
    for (k = 0; k < hl; k++)
      g[4 + k] = h[k] >= 'A' && h[k] <= 'Z' ? (char)(h[k] | 0x20) : h[k];
    st = feat_add(fa, g, 4 + hl, FM_FEATURE_UNIGRAM);
    if (st != FM_OK) return st;
    /* and its character n-grams, as if it were a chunk of the text: one
     * feature alone weighs little against a text's dozens (hebrew:
     * macro-F1 0.579 -> 0.602) */
    if (p->opts.stages & FM_STAGE_CHARGRAMS) {
      st = add_chunk_chargrams(fa, (const unsigned char *)g + 4, hl);
      if (st != FM_OK) return st;
    }
  }
  return FM_OK;
}

/* ---- the run ------------------------------------------------------------------ */

static bool token_is_feature(const fmi_pipeline *p, const fm_token *t) {
  if (t->kind == FM_TOKEN_PUNCT) return false;
  if ((p->opts.stages & FM_STAGE_STOPWORDS) && (t->flags & FM_TOKEN_STOPWORD))
    return false;
  return t->len > 0;
}

/* Elision: in French, Italian and Catalan an article, pronoun or
 * preposition loses its vowel before a vowel and is written joined to the
 * next word with an apostrophe ("l'application", "d'accès",
 * "dell'applicazione"). Word segmentation keeps the two as one word, so
 * without this "l'application" and "application" would be different
 * words, each stemmed and counted apart. The elided part is dropped, as
 * the analyzers of Lucene and Snowball's users do; these are the sets of
 * elided words they use. Lists end with NULL. */
static const char *const elided_fr[] = {"l", "m", "t", "qu", "n", "s", "j",
                                        "d", "c", "jusqu", "quoiqu",
                                        "lorsqu", "puisqu", NULL};
static const char *const elided_it[] = {
    "c",   "l",    "all", "dall", "dell", "nell", "sull", "coll",
    "pell", "gl",  "agl", "dagl", "degl", "negl", "sugl", "un",
    "m",   "t",    "s",   "v",    "d",    NULL};
static const char *const elided_ca[] = {"d", "l", "m", "n", "s", "t", NULL};

static const char *const *elided_words(const char *lang) {
  if (!strcmp(lang, "fr")) return elided_fr;
  if (!strcmp(lang, "it")) return elided_it;
  if (!strcmp(lang, "ca")) return elided_ca;
  return NULL;
}

/* Bytes of w's elided head, apostrophe (' or U+2019) included, when w
 * begins with one of `set` and a word follows it; else 0. */
static size_t elision_len(const char *const *set, const char *w, size_t wl) {
  size_t k, ap;
  for (k = 0; k < wl && k <= 6; k++) {
    if (w[k] == '\'') {
      ap = 1;
    } else if (wl - k >= 3 && (unsigned char)w[k] == 0xE2 &&
               (unsigned char)w[k + 1] == 0x80 &&
               (unsigned char)w[k + 2] == 0x99) {
      ap = 3;
    } else {
      continue;
    }
    if (k == 0 || k + ap >= wl) return 0;
    for (; *set; set++)
      if (strlen(*set) == k && memcmp(*set, w, k) == 0) return k + ap;
    return 0;
  }
  return 0;
}

static bool is_thai_like(const char *lang) {
  return !strcmp(lang, "th") || !strcmp(lang, "lo") || !strcmp(lang, "km") ||
         !strcmp(lang, "my");
}

fm_status fmi_pipeline_run(fmi_pipeline *p, const char *text, size_t len,
                           const char *lang, fm_error *err) {
  fm_analysis *an = &p->an;
  const unsigned stages = p->opts.stages;
  char *clean;
  const char *shown = NULL, *work = NULL, *norm;
  size_t clean_len, shown_len = 0, work_len = 0, norm_len, nseg = 0, i, ntok = 0;
  size_t max_feats, sum_stem = 0;
  fmi_seg *segs = NULL;
  uint32_t *bits = NULL; /* fmi_word_bits per segment, as far as
                            identification looked them up */
  fm_token *toks;
  fm_status st;
  feat_acc fa;

  memset(an, 0, sizeof *an);
  fmi_arena_reset(&p->arena);
  if (!text && len) return fmi_fail(err, FM_EINVAL, "text is NULL");
  if (len > p->opts.max_doc_bytes)
    return fmi_fail(err, FM_ETOOBIG,
                    "document of %zu bytes is over the %zu-byte limit", len,
                    p->opts.max_doc_bytes);

  /* 1. UTF-8 repair: at most 3 output bytes per input byte. */
  clean = fmi_arena_alloc(&p->arena, 3 * len + 1);
  if (!clean) goto arena_fail;
  an->invalid_utf8 = fmi_utf8_sanitize(text ? text : "", len, clean,
                                       &clean_len);
  /* The private-use code points that carry placeholders must not come from
   * the customer: one in the input would read as redacted PII. They become
   * U+FFFD (same length, so in place). */
  {
    char *q = clean, *end = clean + clean_len;
    while ((q = memchr(q, 0xEE, (size_t)(end - q))) != NULL) {
      if (end - q >= 3 && (unsigned char)q[1] == 0x80 &&
          (unsigned char)q[2] >= 0x80 &&
          (unsigned char)q[2] < 0x80 + FMI_PII__COUNT) {
        q[0] = (char)0xEF;
        q[1] = (char)0xBF;
        q[2] = (char)0xBD;
      }
      q++;
    }
  }

  /* 2. Redaction. */
  st = redact(p, clean, clean_len, &shown, &shown_len, &work, &work_len, err);
  if (st != FM_OK) return st;
  an->redacted = shown;
  an->redacted_len = shown_len;

  /* 3. Normalization. */
  if (stages & FM_STAGE_NORMALIZE) {
    char *o;
    st = fmi_normalize(p->normalizer, work, work_len, &p->arena, &o,
                       &norm_len, err);
    if (st != FM_OK) return st;
    norm = o;
  } else {
    norm = work;
    norm_len = work_len;
  }
  an->normalized = norm;
  an->normalized_len = norm_len;

  /* 4. Segmentation. */
  st = fmi_segment(p->segmenter, norm, norm_len,
                   (stages & FM_STAGE_DICT_SEGMENT) != 0, &p->arena, &segs,
                   &nseg, err);
  if (st != FM_OK) return st;

  /* 5. Language. A caller's code wins when it names a language; an
   * unrecognized code is not refused (exports carry odd ones) but treated
   * as absent, so the text is identified instead. */
  {
    const char *given = (lang && *lang) ? fmi_lang_canonical(lang) : NULL;
    /* "und" from an export means nobody knew: identify it ourselves. */
    if (given && !strcmp(given, "und")) given = NULL;
    if (given) {
      an->lang = given;
      an->lang_given = 1;
    } else if (stages & FM_STAGE_LANGID) {
      /* each word looked up once, for identification and stopwords:
       * identification fills in the words it reads, the token loop below
       * the rest (numbers it reads need no stopword bits) */
      bits = fmi_arena_alloc(&p->arena, (nseg ? nseg : 1) * sizeof *bits);
      if (!bits) goto arena_fail;
      for (i = 0; i < nseg; i++)
        bits[i] = segs[i].kind == FM_TOKEN_WORD ||
                          (segs[i].kind == FM_TOKEN_NUMBER &&
                           segs[i].script != FMI_SCRIPT_OTHER)
                      ? FMI_WORD_BITS_UNKNOWN
                      : 0;
      an->lang =
          fmi_langid_cached(norm, norm_len, segs, nseg, bits, p->words);
    } else {
      an->lang = "und";
    }
  }

  /* 6-7. Tokens: stopwords, stems, negation scope. */
  toks = fmi_arena_alloc(&p->arena, (nseg ? nseg : 1) * sizeof *toks);
  if (!toks) goto arena_fail;
  {
    bool negating = false, thai = is_thai_like(an->lang);
    const int li = fmi_word_lang(an->lang);
    const char *const *elide = elided_words(an->lang);
    size_t prev_end = 0;
    for (i = 0; i < nseg; i++) {
      const fmi_seg *sg = &segs[i];
      fm_token *t = &toks[ntok];
      const char *w = norm + sg->start;
      size_t wl = sg->end - sg->start;
      memset(t, 0, sizeof *t);
      t->kind = (fm_token_kind)sg->kind;
      t->start = sg->start;
      t->end = sg->end;
      if (sg->kind == FM_TOKEN_PUNCT) {
        t->text = w;
        t->len = wl;
        t->stem = w;
        t->stem_len = wl;
        if (sg->sentence_end) t->flags |= FM_TOKEN_SENTENCE_END;
        negating = false;
        ntok++;
        prev_end = sg->end;
        continue;
      }
      /* Thai writes no punctuation between clauses; a space is where a
       * clause ends, so it ends the negation scope too. */
      if (thai && negating && sg->start > prev_end &&
          memchr(norm + prev_end, ' ', sg->start - prev_end))
        negating = false;
      prev_end = sg->end;
      if (sg->kind == FM_TOKEN_PLACEHOLDER) {
        t->text = fmi_pii_placeholder((fmi_pii_kind)sg->pii);
        t->len = strlen(t->text);
        t->stem = t->text;
        t->stem_len = t->len;
        ntok++;
        continue;
      }
      t->text = w;
      t->len = wl;
      t->stem = w;
      t->stem_len = wl;
      if (sg->kind == FM_TOKEN_NUMBER) {
        size_t digits = 0, k;
        for (k = 0; k < wl; k++)
          if (w[k] >= '0' && w[k] <= '9') digits++;
        if (digits > MAX_NUMBER_DIGITS) {
          t->stem = "<num>";
          t->stem_len = 5;
        }
      } else if (sg->kind == FM_TOKEN_WORD) {
        size_t el = elide ? elision_len(elide, w, wl) : 0;
        unsigned wc;
        if (el) { /* the token is the word after the apostrophe */
          w += el;
          wl -= el;
          t->start += el;
          t->text = t->stem = w;
          t->len = t->stem_len = wl;
        }
        if (li < 0) {
          wc = fmi_word_class(an->lang, w, wl);
        } else {
          uint32_t wb = bits && !el ? bits[i] : FMI_WORD_BITS_UNKNOWN;
          if (wb == FMI_WORD_BITS_UNKNOWN) wb = fmi_words_bits(p->words, w, wl);
          wc = fmi_word_class_bits(li, wb);
        }
        if ((stages & FM_STAGE_NEGATION) && (wc & FMI_WORD_NEG)) {
          t->flags |= FM_TOKEN_NEGATOR;
          if (negating) t->flags |= FM_TOKEN_NEGATED;
          negating = true;
          ntok++;
          continue;
        }
        if (wc & FMI_WORD_STOP) t->flags |= FM_TOKEN_STOPWORD;
        if ((stages & FM_STAGE_STEM) && !(t->flags & FM_TOKEN_STOPWORD)) {
          const char *s;
          size_t sl;
          st = fmi_stem(p->stemmers, an->lang, w, wl, &s, &sl, err);
          if (st != FM_OK) return st;
          if (s != w && sl <= wl && memcmp(s, w, sl) == 0) {
            t->stem_len = sl; /* a prefix of the word: no copy */
          } else if (s != w) {
            char *c = fmi_arena_memdup(&p->arena, s, sl);
            if (!c) goto arena_fail;
            t->stem = c;
            t->stem_len = sl;
          }
        }
      }
      if (negating) t->flags |= FM_TOKEN_NEGATED;
      ntok++;
    }
  }
  an->tokens = toks;
  an->n_tokens = ntok;

  /* 8. Features. Upper bound: one unigram and one bigram per token plus
   * the character n-grams of each word. */
  max_feats = 2 * ntok + 1;
  for (i = 0; i < p->n_pii; i++) /* a host and its character n-grams */
    max_feats += 1 + (p->opts.char_ngram_max - p->opts.char_ngram_min + 1) *
                         (URL_HOST_MAX + 2);
  for (i = 0; i < ntok; i++) sum_stem += toks[i].stem_len;
  if (stages & FM_STAGE_CHARGRAMS) {
    size_t span = p->opts.char_ngram_max - p->opts.char_ngram_min + 1;
    max_feats += span * chargram_bytes(norm, norm_len);
  }
  if (max_feats > UINT32_MAX / 2) goto arena_fail;
  memset(&fa, 0, sizeof fa);
  fa.p = p;
  fa.cap = max_feats;
  fa.feats = fmi_arena_alloc(&p->arena, (max_feats + 1) * sizeof *fa.feats);
  if ((stages & FM_STAGE_CHARGRAMS) && !p->chargram_text) {
    fa.pend_cap = 1024;
    fa.pend = fmi_arena_alloc(&p->arena, fa.pend_cap * sizeof *fa.pend);
    if (!fa.pend) goto arena_fail;
  }
  if (!fa.feats) goto arena_fail;
  if (ft_prepare(p, max_feats) != FM_OK)
    return fmi_fail(err, FM_ENOMEM, "out of memory counting features");
  {
    /* Word features in two passes: their texts written one after another,
     * each NUL-terminated (they become the features' texts: nothing is
     * copied again), then hashed and counted. Hashing each text as soon as
     * it is written would wait on the bytes just stored. */
    const fm_token *prev = NULL; /* last feature token in this sentence */
    char *tb, *q;
    uint32_t *wl; /* per text: its length, a bigram's with the top bit */
    size_t nw = 0, j;
    /* a unigram "!stem", a bigram "!prev !stem", each + NUL */
    tb = fmi_arena_alloc(&p->arena, 3 * sum_stem + 8 * ntok + 1);
    wl = fmi_arena_alloc(&p->arena, (2 * ntok + 1) * sizeof *wl);
    if (!tb || !wl) goto arena_fail;
    q = tb;
    for (i = 0; i < ntok; i++) {
      const fm_token *t = &toks[i];
      char *b = q;
      if (t->kind == FM_TOKEN_PUNCT) {
        if (t->flags & FM_TOKEN_SENTENCE_END) prev = NULL;
        continue;
      }
      if (!token_is_feature(p, t)) continue;
      if (t->flags & FM_TOKEN_NEGATED) *q++ = '!';
      memcpy(q, t->stem, t->stem_len);
      q += t->stem_len;
      wl[nw++] = (uint32_t)(q - b);
      *q++ = 0;
      if ((stages & FM_STAGE_BIGRAMS) && prev) {
        b = q;
        if (prev->flags & FM_TOKEN_NEGATED) *q++ = '!';
        memcpy(q, prev->stem, prev->stem_len);
        q += prev->stem_len;
        *q++ = ' ';
        if (t->flags & FM_TOKEN_NEGATED) *q++ = '!';
        memcpy(q, t->stem, t->stem_len);
        q += t->stem_len;
        wl[nw++] = (uint32_t)(q - b) | 0x80000000u;
        *q++ = 0;
      }
      prev = t;
    }
    for (q = tb, j = 0; j < nw; j++) {
      size_t tl = wl[j] & 0x7fffffffu;
      st = feat_add_id(&fa, fmi_hash64_inline(q, tl), q, tl,
                       wl[j] >> 31 ? FM_FEATURE_BIGRAM : FM_FEATURE_UNIGRAM,
                       false);
      if (st != FM_OK) goto feat_fail;
      q += tl + 1;
    }
  }
  st = add_url_hosts(&fa);
  if (st != FM_OK) goto feat_fail;
  if (stages & FM_STAGE_CHARGRAMS) {
    st = add_chargrams(&fa, norm, norm_len);
    if (st != FM_OK) goto feat_fail;
  }
  st = feat_flush(&fa);
  if (st != FM_OK) goto feat_fail;
  an->features = fa.feats;
  an->n_features = fa.n;
  fmi_ok(err);
  return FM_OK;
feat_fail:
  return fmi_fail(err, st, st == FM_ETOOBIG
                               ? "document needs too much working memory"
                               : "out of memory");
arena_fail:
  return fmi_fail(err, fmi_arena_status(&p->arena),
                  p->arena.over_cap ? "document needs too much working memory"
                                    : "out of memory");
}
