/*
 * agg.c -- fm_agg: adding tagged items and merging aggregates.
 *
 * Every update is an integer +, a min or max, a set union or an offer to a
 * "k best" reservoir, so the result does not depend on the order in which
 * items arrive or aggregates merge (see agg.h). The keyphrase tables are
 * bounded by sampling phrases by a hash of their stems (agg.h, README):
 * whether a phrase is kept depends on the phrase and on the sampling step
 * only, and the step is the smallest that makes the whole input's phrases
 * fit, which is the same whichever way the input was split.
 */
#include "agg.h"
#include "hash.h"

#include <math.h>
#include <stdlib.h>

const char *const fmi_agg_source_names[FMI_N_SRC] = {
    "ticket", "nps", "churn", "lost_deal", "other"};

/* One n-gram of the item being added. */
typedef struct fmi_agg_gram {
  uint64_t hash;
  uint32_t start;
  uint32_t n;
} fmi_agg_gram;

#define DAY 86400
#define MAX_PERIOD_DAYS 3660
#define MAX_TIME ((int64_t)253402300800) /* 10000-01-01 */
#define DEF_EXEMPLARS 48
#define DEF_REVIEW 20
#define DEF_MAX_PHRASES 262144
#define MAX_KEPT 10000
#define MAX_LANG 16
#define MAX_ACCOUNT 200
#define MAX_ID 200

/* ---- small helpers ------------------------------------------------------ */

void fmi_agg_format_day(int64_t day, char *out) {
  /* Howard Hinnant's civil_from_days. */
  int64_t z = day + 719468, era, doe, yoe, y, doy, mp, d, m;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = z - era * 146097;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = yoe + era * 400;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) y++;
  if (y < 0 || y > 9999) {
    memcpy(out, "0000-00-00", 11);
    return;
  }
  out[0] = (char)('0' + y / 1000);
  out[1] = (char)('0' + y / 100 % 10);
  out[2] = (char)('0' + y / 10 % 10);
  out[3] = (char)('0' + y % 10);
  out[4] = '-';
  out[5] = (char)('0' + m / 10);
  out[6] = (char)('0' + m % 10);
  out[7] = '-';
  out[8] = (char)('0' + d / 10);
  out[9] = (char)('0' + d % 10);
  out[10] = 0;
}

/* Revenue sums saturate instead of overflowing (a crafted aggregate could
 * hold huge values; signed overflow is undefined). Saturation is still
 * associative and commutative for non-negative terms. */
static int64_t sat_add(int64_t x, int64_t y) {
  return x > INT64_MAX - y ? INT64_MAX : x + y;
}

static size_t next_pow2(size_t n) {
  size_t c = 16;
  while (c < n) c <<= 1;
  return c;
}

/* Grows an array to hold at least `need` elements. */
static bool grow(void **p, size_t *cap, size_t need, size_t elem) {
  size_t nc, bytes;
  void *q;
  if (need <= *cap) return true;
  nc = *cap ? *cap : 8;
  while (nc < need) {
    if (nc > SIZE_MAX / 2) return false;
    nc *= 2;
  }
  if (fmi_mul_overflows(nc, elem, &bytes)) return false;
  q = fmi_realloc(*p, bytes);
  if (!q) return false;
  *p = q;
  *cap = nc;
  return true;
}

/* A copy of `s` (n bytes) as valid UTF-8, at most `max` bytes cut at a
 * character boundary; *cut says whether it was shortened. NULL on ENOMEM. */
static char *dup_utf8(const char *s, size_t n, size_t max, int *cut) {
  char *tmp, *out;
  size_t len, bytes;
  if (cut) *cut = 0;
  if (n > max * 4 + 4) n = max * 4 + 4; /* sanitizing more is wasted */
  if (fmi_mul_overflows(n, 3, &bytes)) return NULL;
  tmp = fmi_malloc(bytes + 1);
  if (!tmp) return NULL;
  fmi_utf8_sanitize(s, n, tmp, &len);
  if (len > max) {
    len = max;
    while (len > 0 && ((unsigned char)tmp[len] & 0xC0) == 0x80) len--;
    if (cut) *cut = 1;
  }
  out = fmi_strndup(tmp, len);
  fmi_free(tmp);
  return out;
}

/* Whether s[0..n) is valid UTF-8 (without control characters unless
 * `controls`): names and phrase words go into the JSON form as they are,
 * and it must read back; phrase words are joined with blanks and line
 * breaks, so they may hold none. */
static bool clean_utf8(const char *s, size_t n, bool controls) {
  size_t i = 0;
  /* ASCII first, a compare a byte: nearly all words and names are */
  while (i < n) {
    unsigned char b = (unsigned char)s[i];
    if (b >= 0x80) break;
    if (!controls && (b < 0x20 || b == 0x7F)) return false;
    i++;
  }
  while (i < n) {
    uint32_t cp;
    unsigned char b = (unsigned char)s[i];
    size_t len = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3
               : (b & 0xF8) == 0xF0 ? 4 : 0;
    size_t k;
    if (!len || i + len > n) return false;
    for (k = 1; k < len; k++)
      if (((unsigned char)s[i + k] & 0xC0) != 0x80) return false;
    fmi_utf8_decode((const unsigned char *)s + i, n - i, &cp);
    if ((!controls && (cp < 0x20 || cp == 0x7F)) ||
        (cp >= 0xD800 && cp <= 0xDFFF) ||
        cp > 0x10FFFF || (len == 2 && cp < 0x80) ||
        (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000))
      return false;
    i += len;
  }
  return true;
}

/* Whether s[0..n) is all ASCII. A C string (no NUL inside) that is
 * passes fmi_utf8_sanitize unchanged. */
static bool ascii(const char *s, size_t n) {
  size_t i;
  unsigned char any = 0;
  for (i = 0; i < n; i++) any |= (unsigned char)s[i];
  return any < 0x80;
}

static unsigned source_index(const char *s) {
  unsigned i;
  if (!s) return FMI_SRC_OTHER;
  for (i = 0; i < FMI_SRC_OTHER; i++)
    if (!strcmp(s, fmi_agg_source_names[i])) return i;
  return FMI_SRC_OTHER;
}

/* Language codes are normalized to lower-case [a-z0-9-_], at most
 * MAX_LANG bytes; anything else is "und". They end up in reports, so
 * nothing outside that alphabet may pass. */
static size_t norm_lang(const char *in, char *out) {
  size_t i, n = 0;
  if (!in || !in[0]) goto und;
  for (i = 0; in[i]; i++) {
    char c = in[i];
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_'))
      goto und;
    if (n >= MAX_LANG) goto und;
    out[n++] = c;
  }
  out[n] = 0;
  return n;
und:
  memcpy(out, "und", 4);
  return 3;
}

/* ---- indexes ------------------------------------------------------------ */

static bool index_grow(fmi_agg_index *ix, size_t n_entries) {
  size_t cap;
  if (ix->cap && n_entries * 2 < ix->cap) return true;
  cap = next_pow2(n_entries * 2 + 2);
  if (cap > UINT32_MAX) return false;
  fmi_free(ix->slots);
  ix->slots = fmi_calloc(cap, sizeof *ix->slots);
  ix->cap = ix->slots ? cap : 0;
  return ix->slots != NULL;
}

static uint64_t req_key(uint64_t hash, uint32_t area) {
  return hash ^ ((uint64_t)(area + 1) * 0x9E3779B97F4A7C15ull);
}

static void index_put(fmi_agg_index *ix, uint64_t key, size_t pos) {
  size_t m = ix->cap - 1, i = (size_t)key & m;
  while (ix->slots[i]) i = (i + 1) & m;
  ix->slots[i] = (uint32_t)(pos + 1);
}

/* Rebuilds an index for n entries whose keys come from key_of. */
static bool index_rebuild(fmi_agg_index *ix, size_t n,
                          uint64_t (*key_of)(const void *, size_t),
                          const void *entries) {
  size_t i;
  fmi_free(ix->slots);
  ix->slots = NULL;
  ix->cap = 0;
  if (!index_grow(ix, n)) return false;
  for (i = 0; i < n; i++) index_put(ix, key_of(entries, i), i);
  return true;
}

static uint64_t key_phrase(const void *e, size_t i) {
  return ((const fmi_agg_phrase *)e)[i].hash;
}
static uint64_t key_req(const void *e, size_t i) {
  const fmi_agg_req *r = (const fmi_agg_req *)e + i;
  return req_key(r->hash, r->area);
}
static uint64_t key_account(const void *e, size_t i) {
  return ((const fmi_agg_account *)e)[i].hash;
}

static bool index_room(fmi_agg_index *ix, size_t n,
                       uint64_t (*key_of)(const void *, size_t),
                       const void *entries);

/* ---- creation ------------------------------------------------------------ */

long fmi_agg_label_index(const fm_agg *a, size_t h, const char *label) {
  size_t i;
  for (i = 0; i < a->heads[h].n_labels; i++)
    if (!strcmp(a->heads[h].labels[i], label)) return (long)i;
  return -1;
}

static long head_index(const fm_agg *a, const char *name) {
  size_t i;
  for (i = 0; i < a->n_heads; i++)
    if (!strcmp(a->heads[i].name, name)) return (long)i;
  return -1;
}

static void kept_free(fmi_agg_kept *k) {
  fmi_free(k->text);
  fmi_free(k->terms);
  fmi_free(k->id);
  fmi_free(k->account);
  fmi_free(k->lang);
  fmi_free(k->tags);
  fmi_free(k->ppm);
  memset(k, 0, sizeof *k);
}

static void reservoir_free(fmi_agg_reservoir *r) {
  size_t i;
  if (!r) return;
  for (i = 0; i < r->n; i++) kept_free(&r->items[i]);
  fmi_free(r->items);
  r->items = NULL;
  r->n = 0;
}

void fm_agg_free(fm_agg *a) {
  size_t i, j;
  if (!a) return;
  if (a->heads) {
    for (i = 0; i < a->n_heads; i++) {
      fmi_free(a->heads[i].name);
      if (a->heads[i].labels)
        for (j = 0; j < a->heads[i].n_labels; j++)
          fmi_free(a->heads[i].labels[j]);
      fmi_free(a->heads[i].labels);
    }
    fmi_free(a->heads);
  }
  fmi_free(a->label_count);
  fmi_free(a->label_review);
  for (i = 0; i < a->n_langs; i++) {
    fmi_free(a->langs[i].lang);
    fmi_free(a->langs[i].review);
  }
  fmi_free(a->langs);
  fmi_free(a->areas);
  fmi_free(a->area_kinds);
  fmi_free(a->area_sents);
  fmi_free(a->slots);
  fmi_free(a->reasons);
  fmi_free(a->reason_areas);
  for (i = 0; i < a->n_accounts; i++) fmi_free(a->accounts[i].name);
  fmi_free(a->accounts);
  fmi_free(a->account_index.slots);
  for (i = 0; i < a->n_phrases; i++) {
    fmi_free(a->phrases[i].stems);
    fmi_free(a->phrases[i].surface);
  }
  fmi_free(a->phrases);
  fmi_free(a->phrase_index.slots);
  fmi_free(a->reqs);
  fmi_free(a->req_index.slots);
  if (a->exemplars) {
    for (i = 0; i < a->n_area; i++) reservoir_free(&a->exemplars[i]);
    fmi_free(a->exemplars);
  }
  reservoir_free(&a->review);
  fmi_free(a->t_label);
  fmi_free(a->t_ppm);
  fmi_free(a->t_review);
  fmi_agg_grams_free(&a->grams);
  fmi_buf_free(&a->scratch);
  fmi_free(a);
}

static fm_status weight_milli(double w, const char *name, int64_t *out,
                              fm_error *err) {
  if (!isfinite(w) || w < 0 || w > 1000)
    return fmi_fail(err, FM_EINVAL,
                    "weight of %s must be between 0 and 1000", name);
  *out = (int64_t)llround(w * 1000.0);
  return FM_OK;
}

static void *calloc_n(size_t a, size_t b, size_t c, size_t elem) {
  size_t n;
  if (fmi_mul_overflows(a, b, &n) || fmi_mul_overflows(n, c, &n))
    return NULL;
  return fmi_calloc(n ? n : 1, elem);
}

fm_status fmi_agg_create(const fm_agg_opts *in, fm_agg **out,
                         fm_error *err) {
  fm_agg_opts o = FM_AGG_OPTS_INIT;
  fm_agg *a = NULL;
  fm_status st;
  size_t i, j, k, n_kind, n_sent;
  int64_t len;
  *out = NULL;
  if (!in) return fmi_fail(err, FM_EINVAL, "fm_agg_opts is NULL");
  if (in->size < sizeof(size_t) || in->size > sizeof o)
    return fmi_fail(err, FM_EINVAL, "fm_agg_opts.size is %zu, expected %zu",
                    in->size, sizeof o);
  memcpy(&o, in, in->size);
  o.size = sizeof o;
  if (!o.heads || o.n_heads == 0 || o.n_heads > 64)
    return fmi_fail(err, FM_EINVAL, "an aggregate needs 1 to 64 heads");
  for (i = 0; i < o.n_heads; i++) {
    const fm_agg_head *h = &o.heads[i];
    if (!h->name || !h->name[0] || strlen(h->name) > 64 ||
        !clean_utf8(h->name, strlen(h->name), true))
      return fmi_fail(err, FM_EINVAL, "head %zu has no name (or one over "
                      "64 bytes, or not UTF-8 text)", i);
    for (j = 0; j < i; j++)
      if (!strcmp(o.heads[j].name, h->name))
        return fmi_fail(err, FM_EINVAL, "head '%s' is named twice", h->name);
    if (!h->labels || h->n_labels == 0 || h->n_labels > 4096)
      return fmi_fail(err, FM_EINVAL, "head '%s' needs 1 to 4096 labels",
                      h->name);
    for (j = 0; j < h->n_labels; j++) {
      if (!h->labels[j] || !h->labels[j][0] || strlen(h->labels[j]) > 64 ||
          !clean_utf8(h->labels[j], strlen(h->labels[j]), true))
        return fmi_fail(err, FM_EINVAL, "head '%s': label %zu is empty (or "
                        "over 64 bytes, or not UTF-8 text)", h->name, j);
      for (k = 0; k < j; k++)
        if (!strcmp(h->labels[k], h->labels[j]))
          return fmi_fail(err, FM_EINVAL, "head '%s': label '%s' is named "
                          "twice", h->name, h->labels[j]);
    }
    if (!strcmp(h->name, "area") && h->n_labels > FMI_AGG_MAX_AREAS)
      return fmi_fail(err, FM_EINVAL, "head 'area' has %zu labels; at most "
                      "%d are supported", h->n_labels, FMI_AGG_MAX_AREAS);
  }
  if (o.since < 0 || o.until > MAX_TIME || o.until <= o.since)
    return fmi_fail(err, FM_EINVAL, "the period must be 1970-01-01 to "
                    "9999-12-31 with since before until");
  len = o.until - o.since;
  if (len > (int64_t)MAX_PERIOD_DAYS * DAY)
    return fmi_fail(err, FM_EINVAL, "the period is longer than %d days",
                    MAX_PERIOD_DAYS);
  if (o.compare != FM_COMPARE_NONE && o.compare != FM_COMPARE_PREVIOUS)
    return fmi_fail(err, FM_EINVAL, "unknown compare mode %d",
                    (int)o.compare);
  if (o.exemplars > MAX_KEPT || o.review_items > MAX_KEPT)
    return fmi_fail(err, FM_EINVAL, "exemplars and review_items are at "
                    "most %d", MAX_KEPT);
  if (o.max_phrases != 0 && (o.max_phrases < 16 || o.max_phrases > 1u << 30))
    return fmi_fail(err, FM_EINVAL, "max_phrases must be 16 to 2^30");

  a = fmi_calloc(1, sizeof *a);
  if (!a) return fmi_fail(err, FM_ENOMEM, "out of memory");
  if ((st = weight_milli(o.weight_ticket, "ticket",
                         &a->weight_milli[FMI_SRC_TICKET], err)) ||
      (st = weight_milli(o.weight_nps, "nps", &a->weight_milli[FMI_SRC_NPS],
                         err)) ||
      (st = weight_milli(o.weight_churn, "churn",
                         &a->weight_milli[FMI_SRC_CHURN], err)) ||
      (st = weight_milli(o.weight_lost_deal, "lost_deal",
                         &a->weight_milli[FMI_SRC_LOST_DEAL], err)) ||
      (st = weight_milli(o.weight_other, "other",
                         &a->weight_milli[FMI_SRC_OTHER], err)) ||
      (st = weight_milli(o.weight_nps_detractor, "nps detractors",
                         &a->weight_milli[FMI_N_SRC], err)))
    goto fail;
  st = FM_ENOMEM;
  a->heads = fmi_calloc(o.n_heads, sizeof *a->heads);
  if (!a->heads) goto nomem;
  a->n_heads = o.n_heads;
  for (i = 0; i < o.n_heads; i++) {
    fmi_agg_headdef *h = &a->heads[i];
    h->name = fmi_strndup(o.heads[i].name, strlen(o.heads[i].name));
    h->labels = fmi_calloc(o.heads[i].n_labels, sizeof *h->labels);
    if (!h->name || !h->labels) goto nomem;
    h->n_labels = o.heads[i].n_labels;
    h->base = a->n_labels;
    a->n_labels += h->n_labels;
    for (j = 0; j < h->n_labels; j++) {
      h->labels[j] =
          fmi_strndup(o.heads[i].labels[j], strlen(o.heads[i].labels[j]));
      if (!h->labels[j]) goto nomem;
    }
  }
  a->h_area = head_index(a, "area");
  a->h_sent = head_index(a, "sentiment");
  a->h_kind = head_index(a, "kind");
  a->h_reason = head_index(a, "churn_reason");
  a->l_negative =
      a->h_sent >= 0 ? fmi_agg_label_index(a, (size_t)a->h_sent, "negative")
                     : -1;
  a->l_request = a->h_kind >= 0 ? fmi_agg_label_index(a, (size_t)a->h_kind,
                                                      "feature_request")
                                : -1;
  a->l_complaint =
      a->h_kind >= 0 ? fmi_agg_label_index(a, (size_t)a->h_kind, "complaint")
                     : -1;
  a->n_area = a->h_area >= 0 ? a->heads[a->h_area].n_labels : 0;
  a->n_reason = a->h_reason >= 0 ? a->heads[a->h_reason].n_labels : 0;
  n_kind = a->h_kind >= 0 ? a->heads[a->h_kind].n_labels : 0;
  n_sent = a->h_sent >= 0 ? a->heads[a->h_sent].n_labels : 0;

  a->since = o.since;
  a->until = o.until;
  a->compare = o.compare == FM_COMPARE_PREVIOUS;
  a->prev_since = a->compare ? o.since - len : o.since;
  a->k_exemplars = o.exemplars ? o.exemplars : DEF_EXEMPLARS;
  a->k_review = o.review_items ? o.review_items : DEF_REVIEW;
  a->max_phrases = o.max_phrases ? o.max_phrases : DEF_MAX_PHRASES;
  a->cap_order[1] = a->max_phrases / 4;
  a->cap_order[2] = (a->max_phrases - a->cap_order[1]) / 2;
  a->cap_order[3] = a->max_phrases - a->cap_order[1] - a->cap_order[2];
  /* Sparklines: daily points for a month, weekly for up to a year,
   * 30-day points beyond. */
  a->slot_secs = len <= 45 * DAY ? DAY : len <= 400 * DAY ? 7 * DAY
                                                          : 30 * DAY;
  a->n_slots = (size_t)((len + a->slot_secs - 1) / a->slot_secs);

  a->label_count = calloc_n(FMI_N_WIN, a->n_labels, 1, sizeof(uint64_t));
  a->label_review = calloc_n(FMI_N_WIN, a->n_labels, 1, sizeof(uint64_t));
  a->areas = calloc_n(FMI_N_WIN, a->n_area, 1, sizeof *a->areas);
  a->area_kinds = calloc_n(FMI_N_WIN, a->n_area, n_kind, sizeof(uint64_t));
  a->area_sents = calloc_n(FMI_N_WIN, a->n_area, n_sent, sizeof(uint64_t));
  a->slots = calloc_n(a->n_area + 1, 2, a->n_slots, sizeof(uint64_t));
  a->reasons = calloc_n(FMI_N_WIN, a->n_reason, 1, sizeof *a->reasons);
  a->reason_areas =
      calloc_n(FMI_N_WIN, a->n_reason, a->n_area, sizeof(uint64_t));
  a->exemplars = calloc_n(a->n_area, 1, 1, sizeof *a->exemplars);
  a->t_label = calloc_n(a->n_heads, 1, 1, sizeof *a->t_label);
  a->t_ppm = calloc_n(a->n_heads, 1, 1, sizeof *a->t_ppm);
  a->t_review = calloc_n(a->n_heads, 1, 1, 1);
  if (!a->label_count || !a->label_review || !a->areas || !a->area_kinds ||
      !a->area_sents || !a->slots || !a->reasons || !a->reason_areas ||
      !a->exemplars || !a->t_label || !a->t_ppm || !a->t_review)
    goto nomem;
  for (i = 0; i < a->n_area; i++) a->exemplars[i].cap = a->k_exemplars;
  a->review.cap = a->k_review;
  a->review.lower_is_better = 1;
  *out = a;
  fmi_ok(err);
  return FM_OK;
nomem:
  st = fmi_fail(err, FM_ENOMEM, "out of memory");
fail:
  fm_agg_free(a);
  return st;
}

fm_status fm_agg_new(const fm_agg_opts *opts, fm_agg **out, fm_error *err) {
  if (!out) return fmi_fail(err, FM_EINVAL, "out is NULL");
  return fmi_agg_create(opts, out, err);
}

/* ---- periods ---------------------------------------------------------- */

fm_status fm_period_last(const char *spec, int64_t last, int64_t *since,
                         int64_t *until, fm_error *err) {
  long days = 0;
  char *end;
  if (!spec || !since || !until)
    return fmi_fail(err, FM_EINVAL, "spec, since or until is NULL");
  if (!strcmp(spec, "quarter")) {
    days = 91;
  } else {
    long n = strtol(spec, &end, 10);
    if (end != spec && spec[0] >= '0' && spec[0] <= '9' && n > 0 &&
        n <= MAX_PERIOD_DAYS && (end[0] == 'd' || end[0] == 'w') &&
        end[1] == 0)
      days = end[0] == 'w' ? n * 7 : n;
  }
  if (days <= 0 || days > MAX_PERIOD_DAYS)
    return fmi_fail(err, FM_EINVAL, "period '%.40s' is not 7d, 30d, quarter, "
                    "Nd or Nw (1 to %d days)", spec, MAX_PERIOD_DAYS);
  if (last < 0 || last >= MAX_TIME)
    return fmi_fail(err, FM_EINVAL, "the latest date is out of range");
  *until = (fmi_agg_day(last) + 1) * DAY;
  *since = *until - (int64_t)days * DAY;
  if (*since < 0) *since = 0;
  fmi_ok(err);
  return FM_OK;
}

/* ---- tables ------------------------------------------------------------- */

fmi_agg_lang *fmi_agg_lang_get(fm_agg *a, const char *lang, size_t len,
                               fm_status *st) {
  size_t lo = 0, hi = a->n_langs;
  fmi_agg_lang *l;
  *st = FM_OK;
  while (lo < hi) { /* sorted by name, bytewise */
    size_t mid = (lo + hi) / 2;
    int c = strncmp(a->langs[mid].lang, lang, len);
    if (c == 0 && a->langs[mid].lang[len] != 0) c = 1;
    if (c == 0) return &a->langs[mid];
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  if (!grow((void **)&a->langs, &a->cap_langs, a->n_langs + 1,
            sizeof *a->langs))
    goto nomem;
  memmove(&a->langs[lo + 1], &a->langs[lo],
          (a->n_langs - lo) * sizeof *a->langs);
  l = &a->langs[lo];
  memset(l, 0, sizeof *l);
  a->n_langs++;
  l->lang = fmi_strndup(lang, len);
  l->review = calloc_n(FMI_N_WIN, a->n_heads, 1, sizeof(uint64_t));
  if (!l->lang || !l->review) {
    fmi_free(l->lang);
    fmi_free(l->review);
    a->n_langs--;
    memmove(&a->langs[lo], &a->langs[lo + 1],
            (a->n_langs - lo) * sizeof *a->langs);
    goto nomem;
  }
  return l;
nomem:
  *st = FM_ENOMEM;
  return NULL;
}

fmi_agg_account *fmi_agg_account_get(fm_agg *a, const char *name, size_t len,
                                     fm_status *st) {
  uint64_t h = fmi_hash64(name, len);
  fmi_agg_account *e;
  *st = FM_OK;
  if (a->account_index.cap) {
    size_t m = a->account_index.cap - 1, i = (size_t)h & m;
    uint32_t s;
    while ((s = a->account_index.slots[i]) != 0) {
      e = &a->accounts[s - 1];
      if (e->hash == h && !strncmp(e->name, name, len) && !e->name[len])
        return e;
      i = (i + 1) & m;
    }
  }
  if (!grow((void **)&a->accounts, &a->cap_accounts, a->n_accounts + 1,
            sizeof *a->accounts) ||
      !index_room(&a->account_index, a->n_accounts, key_account, a->accounts))
    goto nomem;
  e = &a->accounts[a->n_accounts];
  memset(e, 0, sizeof *e);
  e->name = fmi_strndup(name, len);
  if (!e->name) goto nomem;
  e->hash = h;
  index_put(&a->account_index, h, a->n_accounts);
  a->n_accounts++;
  return e;
nomem:
  *st = FM_ENOMEM;
  return NULL;
}

fmi_agg_phrase *fmi_agg_phrase_find(const fm_agg *a, uint64_t hash) {
  size_t m, i;
  uint32_t s;
  if (!a->phrase_index.cap) return NULL;
  m = a->phrase_index.cap - 1;
  i = (size_t)hash & m;
  while ((s = a->phrase_index.slots[i]) != 0) {
    if (a->phrases[s - 1].hash == hash) return &a->phrases[s - 1];
    i = (i + 1) & m;
  }
  return NULL;
}

/* Makes room in an index for one more entry, rebuilding it larger when
 * needed. */
static bool index_room(fmi_agg_index *ix, size_t n,
                       uint64_t (*key_of)(const void *, size_t),
                       const void *entries) {
  fmi_agg_index nx = {NULL, 0};
  size_t i;
  if (ix->cap && (n + 1) * 2 < ix->cap) return true;
  if (!index_grow(&nx, n + 1)) return false;
  for (i = 0; i < n; i++) index_put(&nx, key_of(entries, i), i);
  fmi_free(ix->slots);
  *ix = nx;
  return true;
}

fmi_agg_phrase *fmi_agg_phrase_add(fm_agg *a, uint64_t hash,
                                   const char *stems, size_t stems_len,
                                   const char *surface, size_t surface_len,
                                   unsigned order, fm_status *st) {
  fmi_agg_phrase *p;
  *st = FM_OK;
  if (!grow((void **)&a->phrases, &a->cap_phrases, a->n_phrases + 1,
            sizeof *a->phrases) ||
      !index_room(&a->phrase_index, a->n_phrases, key_phrase, a->phrases))
    goto nomem;
  p = &a->phrases[a->n_phrases];
  memset(p, 0, sizeof *p);
  p->stems = fmi_strndup(stems, stems_len);
  p->surface = fmi_strndup(surface, surface_len);
  if (!p->stems || !p->surface) {
    fmi_free(p->stems);
    fmi_free(p->surface);
    goto nomem;
  }
  p->surface_len = surface_len;
  p->hash = hash;
  p->order = order;
  p->first_day = INT64_MAX;
  index_put(&a->phrase_index, hash, a->n_phrases);
  a->n_phrases++;
  a->n_order[order]++;
  return p;
nomem:
  *st = FM_ENOMEM;
  return NULL;
}

fm_status fmi_agg_phrase_surface_min(fmi_agg_phrase *p, const char *s,
                                     size_t n) {
  size_t cur = p->surface_len;
  int c = memcmp(s, p->surface, n < cur ? n : cur);
  char *d;
  if (c > 0 || (c == 0 && n >= cur)) return FM_OK;
  d = fmi_strndup(s, n);
  if (!d) return FM_ENOMEM;
  fmi_free(p->surface);
  p->surface = d;
  p->surface_len = n;
  return FM_OK;
}

fmi_agg_req *fmi_agg_req_get(fm_agg *a, uint32_t area, uint64_t hash,
                             unsigned order, fm_status *st) {
  uint64_t key = req_key(hash, area);
  fmi_agg_req *r;
  *st = FM_OK;
  if (a->req_index.cap) {
    size_t m = a->req_index.cap - 1, i = (size_t)key & m;
    uint32_t s;
    while ((s = a->req_index.slots[i]) != 0) {
      r = &a->reqs[s - 1];
      if (r->hash == hash && r->area == area) return r;
      i = (i + 1) & m;
    }
  }
  if (!grow((void **)&a->reqs, &a->cap_reqs, a->n_reqs + 1, sizeof *a->reqs) ||
      !index_room(&a->req_index, a->n_reqs, key_req, a->reqs)) {
    *st = FM_ENOMEM;
    return NULL;
  }
  r = &a->reqs[a->n_reqs];
  memset(r, 0, sizeof *r);
  r->hash = hash;
  r->area = area;
  r->order = (uint16_t)order;
  index_put(&a->req_index, key, a->n_reqs);
  a->n_reqs++;
  a->n_order[order]++;
  return r;
}

void fmi_agg_req_add_account(fmi_agg_req *r, uint32_t acc) {
  size_t i = 0, n = r->n_acc;
  while (i < n && r->acc[i] < acc) i++;
  if (i < n && r->acc[i] == acc) return;
  if (i >= FMI_ACC_K) return; /* larger than the k smallest kept */
  if (n == FMI_ACC_K) n--;    /* the largest falls out */
  memmove(&r->acc[i + 1], &r->acc[i], (n - i) * sizeof r->acc[0]);
  r->acc[i] = acc;
  r->n_acc = (uint16_t)(n + 1);
}

/* ---- phrase sampling ------------------------------------------------------
 * Each phrase length has its own share of max_phrases (unigrams a quarter,
 * bigrams and trigrams three eighths each) and its own step s: a phrase
 * of that length is kept when the top s bits of its hash are zero. The
 * step only grows, so a phrase dropped stays dropped, and the final step
 * is the smallest that makes all of the input's phrases of that length
 * fit -- the same however the input was split and merged. Real text has
 * far fewer distinct words than word pairs and triples, so unigrams are
 * the last to be sampled, if ever. */
int fmi_agg_phrase_kept(const fm_agg *a, uint64_t hash, unsigned order) {
  unsigned j = a->sampling[order >= 1 && order <= 3 ? order : 3];
  if (j == 0) return 1;
  if (j >= 64) return hash == 0;
  return (hash >> (64 - j)) == 0;
}

static fm_status purge_phrases(fm_agg *a) {
  size_t i, n = 0;
  memset(a->n_order, 0, sizeof a->n_order);
  for (i = 0; i < a->n_phrases; i++) {
    fmi_agg_phrase *p = &a->phrases[i];
    if (fmi_agg_phrase_kept(a, p->hash, p->order)) {
      a->phrases[n++] = *p;
      a->n_order[p->order]++;
    } else {
      fmi_free(p->stems);
      fmi_free(p->surface);
    }
  }
  a->n_phrases = n;
  n = 0;
  for (i = 0; i < a->n_reqs; i++)
    if (fmi_agg_phrase_kept(a, a->reqs[i].hash, a->reqs[i].order)) {
      a->reqs[n++] = a->reqs[i];
      a->n_order[a->reqs[i].order]++;
    }
  a->n_reqs = n;
  if (!index_rebuild(&a->phrase_index, a->n_phrases, key_phrase,
                     a->phrases) ||
      !index_rebuild(&a->req_index, a->n_reqs, key_req, a->reqs))
    return FM_ENOMEM;
  return FM_OK;
}

fm_status fmi_agg_fit_phrases(fm_agg *a, fm_error *err) {
  unsigned n;
  for (n = 1; n <= 3; n++)
    while (a->n_order[n] > a->cap_order[n]) {
      a->sampling[n]++;
      if (purge_phrases(a) != FM_OK)
        return fmi_fail(err, FM_ENOMEM, "out of memory");
    }
  return FM_OK;
}

static bool over_cap(const fm_agg *a) {
  return a->n_order[1] > a->cap_order[1] || a->n_order[2] > a->cap_order[2] ||
         a->n_order[3] > a->cap_order[3];
}

/* ---- reservoirs ------------------------------------------------------------ */

static int cmp_str(const char *x, const char *y) {
  return strcmp(x ? x : "", y ? y : "");
}

/* A total order on kept items: the key first (the reservoir's direction),
 * then the text hash, then every other field, so that which items are
 * kept never depends on arrival order. */
int fmi_agg_kept_cmp(const fm_agg *a, const fmi_agg_kept *x,
                     const fmi_agg_kept *y, int lower_is_better) {
  int c;
  size_t h;
  if (x->key != y->key)
    return (x->key < y->key) == (lower_is_better != 0) ? -1 : 1;
  if (x->text_hash != y->text_hash) return x->text_hash < y->text_hash ? -1 : 1;
  if ((c = cmp_str(x->text, y->text)) != 0) return c;
  if ((c = cmp_str(x->id, y->id)) != 0) return c;
  if ((c = cmp_str(x->account, y->account)) != 0) return c;
  if ((c = cmp_str(x->lang, y->lang)) != 0) return c;
  if ((c = cmp_str(x->terms, y->terms)) != 0) return c;
  if (x->truncated != y->truncated) return x->truncated < y->truncated ? -1 : 1;
  if (x->source != y->source) return x->source < y->source ? -1 : 1;
  if (x->date != y->date) return x->date < y->date ? -1 : 1;
  for (h = 0; h < a->n_heads; h++) {
    if (x->tags[h] != y->tags[h]) return x->tags[h] < y->tags[h] ? -1 : 1;
    if (x->ppm[h] != y->ppm[h]) return x->ppm[h] < y->ppm[h] ? -1 : 1;
  }
  return 0;
}

static fm_status kept_copy(const fm_agg *a, fmi_agg_kept *d,
                           const fmi_agg_kept *s) {
  memset(d, 0, sizeof *d);
  d->key = s->key;
  d->text_hash = s->text_hash;
  d->truncated = s->truncated;
  d->source = s->source;
  d->date = s->date;
  d->text = fmi_strndup(s->text, strlen(s->text));
  d->terms = s->terms ? fmi_strndup(s->terms, strlen(s->terms)) : NULL;
  d->id = fmi_strndup(s->id ? s->id : "", s->id ? strlen(s->id) : 0);
  d->account = fmi_strndup(s->account ? s->account : "",
                           s->account ? strlen(s->account) : 0);
  d->lang = fmi_strndup(s->lang, strlen(s->lang));
  d->tags = fmi_calloc(a->n_heads, sizeof *d->tags);
  d->ppm = fmi_calloc(a->n_heads, sizeof *d->ppm);
  if (!d->text || (s->terms && !d->terms) || !d->id || !d->account ||
      !d->lang || !d->tags || !d->ppm) {
    kept_free(d);
    return FM_ENOMEM;
  }
  memcpy(d->tags, s->tags, a->n_heads * sizeof *d->tags);
  memcpy(d->ppm, s->ppm, a->n_heads * sizeof *d->ppm);
  return FM_OK;
}

/* Keeps the `cap` best items, at most one per text hash (the best of
 * them). This is a function of the set offered, whatever the order: an
 * item of a hash whose best was dropped can only be worse than every item
 * kept at that time, and the worst kept item only gets better. */
fm_status fmi_agg_reservoir_offer(fm_agg *a, fmi_agg_reservoir *r,
                                  const fmi_agg_kept *k) {
  size_t i, pos;
  fmi_agg_kept copy;
  int lib = r->lower_is_better;
  if (r->cap == 0) return FM_OK;
  if (r->n == r->cap && fmi_agg_kept_cmp(a, k, &r->items[r->n - 1], lib) >= 0)
    return FM_OK;
  for (i = 0; i < r->n; i++)
    if (r->items[i].text_hash == k->text_hash) break;
  if (i < r->n) {
    if (fmi_agg_kept_cmp(a, k, &r->items[i], lib) >= 0) return FM_OK;
    kept_free(&r->items[i]);
    memmove(&r->items[i], &r->items[i + 1], (r->n - i - 1) * sizeof *r->items);
    r->n--;
  }
  if (!r->items) {
    r->items = fmi_calloc(r->cap, sizeof *r->items);
    if (!r->items) return FM_ENOMEM;
  }
  if (kept_copy(a, &copy, k) != FM_OK) return FM_ENOMEM;
  pos = r->n;
  while (pos > 0 && fmi_agg_kept_cmp(a, k, &r->items[pos - 1], lib) < 0) pos--;
  if (r->n == r->cap) {
    kept_free(&r->items[r->n - 1]);
    r->n--;
  }
  memmove(&r->items[pos + 1], &r->items[pos], (r->n - pos) * sizeof *r->items);
  r->items[pos] = copy;
  r->n++;
  return FM_OK;
}

/* ---- adding an item ------------------------------------------------------ */

enum { TK_BREAK, TK_STOP, TK_NEGATOR, TK_WORD, TK_NUMBER };

static int token_class(const fm_token *t) {
  const char *s = t->stem_len ? t->stem : t->text;
  size_t n = t->stem_len ? t->stem_len : t->len;
  if (n == 0 || !s || !t->text || !clean_utf8(s, n, false) ||
      ((s != t->text || n != t->len) && !clean_utf8(t->text, t->len, false)))
    return TK_BREAK;
  switch (t->kind) {
  case FM_TOKEN_WORD:
    /* (a line break is a control character, refused above) */
    if (memchr(s, ' ', n)) return TK_BREAK;
    if (t->flags & FM_TOKEN_NEGATOR) return TK_NEGATOR;
    if (t->flags & FM_TOKEN_STOPWORD) return TK_STOP;
    if (n == 1 && (unsigned char)s[0] < 0x80) return TK_STOP;
    return TK_WORD;
  case FM_TOKEN_NUMBER:
    if (s[0] == '<') return TK_BREAK; /* "<num>": an id or amount */
    return TK_NUMBER;
  default:
    return TK_BREAK;
  }
}

static void tok_stem(const fm_token *t, const char **s, size_t *n) {
  if (t->stem_len) {
    *s = t->stem;
    *n = t->stem_len;
  } else {
    *s = t->text;
    *n = t->len;
  }
}

/* Joins the stems (or texts) of tokens [i, i+n) with one blank. */
static fm_status join_tokens(fmi_buf *b, const fm_token *t, size_t i,
                             size_t n, int surface) {
  size_t k;
  fmi_buf_clear(b);
  for (k = 0; k < n; k++) {
    const char *s;
    size_t len;
    if (surface) {
      s = t[i + k].text;
      len = t[i + k].len;
    } else {
      tok_stem(&t[i + k], &s, &len);
    }
    if (k && fmi_buf_putc(b, ' ') != FM_OK) return FM_ENOMEM;
    if (fmi_buf_append(b, s, len) != FM_OK) return FM_ENOMEM;
  }
  if (fmi_buf_putc(b, 0) != FM_OK) return FM_ENOMEM;
  b->len--;
  return FM_OK;
}

/* A phrase starts with a content word, a number or (for two or three
 * words) a negator, ends with a content word or number, and holds at
 * least one content word: never only stopwords, numbers or placeholders. */
static bool gram_ok(const int *cls, size_t n) {
  size_t k;
  bool word = false;
  if (n == 1) return cls[0] == TK_WORD;
  if (!(cls[0] == TK_WORD || cls[0] == TK_NUMBER || cls[0] == TK_NEGATOR))
    return false;
  if (!(cls[n - 1] == TK_WORD || cls[n - 1] == TK_NUMBER)) return false;
  for (k = 0; k < n; k++)
    if (cls[k] == TK_WORD) word = true;
  return word;
}

/* The order of an item's grams: by hash, then position (then length,
 * which only two grams at one position with one hash could need). */
static inline bool gram_less(const fmi_agg_gram *x, const fmi_agg_gram *y) {
  if (x->hash != y->hash) return x->hash < y->hash;
  if (x->start != y->start) return x->start < y->start;
  return x->n < y->n;
}

/* Sorts grams by gram_less: an item has a few hundred, where qsort's
 * calls through a comparator cost more than the comparisons. Insertion
 * sort for short runs under a quicksort on the middle element's key. */
static void sort_grams(fmi_agg_gram *g, size_t n) {
  while (n > 24) {
    size_t i = 0, j = n - 1;
    fmi_agg_gram pivot = g[n / 2], t;
    for (;;) {
      while (gram_less(&g[i], &pivot)) i++;
      while (gram_less(&pivot, &g[j])) j--;
      if (i >= j) break;
      t = g[i];
      g[i] = g[j];
      g[j] = t;
      i++;
      j--;
    }
    /* [0, j] and [j+1, n): recurse into the smaller, loop on the larger */
    if (j + 1 < n - j - 1) {
      sort_grams(g, j + 1);
      g += j + 1;
      n -= j + 1;
    } else {
      sort_grams(g + j + 1, n - j - 1);
      n = j + 1;
    }
  }
  {
    size_t i, k;
    for (i = 1; i < n; i++) {
      fmi_agg_gram t = g[i];
      for (k = i; k > 0 && gram_less(&t, &g[k - 1]); k--) g[k] = g[k - 1];
      g[k] = t;
    }
  }
}

/* Sorts in[0..n) by gram_less into out: scattered by the top byte of the
 * hash (one pass, no comparisons), then each bucket -- a gram or two for
 * an item of a few hundred -- sorted on its own. */
static void radix_sort_grams(fmi_agg_gram *out, const fmi_agg_gram *in,
                             size_t n) {
  size_t start[257], at[256], i, b;
  if (n <= 32) {
    memcpy(out, in, n * sizeof *in);
    sort_grams(out, n);
    return;
  }
  memset(start, 0, sizeof start);
  for (i = 0; i < n; i++) start[(in[i].hash >> 56) + 1]++;
  for (b = 0; b < 256; b++) start[b + 1] += start[b];
  memcpy(at, start, sizeof at);
  for (i = 0; i < n; i++) out[at[in[i].hash >> 56]++] = in[i];
  for (b = 0; b < 256; b++)
    if (start[b + 1] - start[b] > 1)
      sort_grams(out + start[b], start[b + 1] - start[b]);
}

static uint32_t account_hash32(const char *s, size_t n) {
  uint64_t h = fmi_hash64(s, n);
  return (uint32_t)(h ^ (h >> 32));
}

/* Bytewise order of the surface of tokens [i, i+n) (texts joined by one
 * blank) against s[0..len), as memcmp then shorter first: < 0 when the
 * tokens' surface is the smaller. Compares in place, without joining. */
static int surface_cmp(const fm_token *t, size_t i, size_t n, const char *s,
                       size_t len) {
  size_t k, at = 0;
  for (k = 0; k < n; k++) {
    const char *x = t[i + k].text;
    size_t xl = t[i + k].len, m;
    int c;
    if (k) {
      if (at == len) return 1; /* longer, equal so far */
      if (s[at] != ' ') return ' ' < (unsigned char)s[at] ? -1 : 1;
      at++;
    }
    m = xl < len - at ? xl : len - at;
    if ((c = memcmp(x, s + at, m)) != 0) return c;
    if (m < xl) return 1; /* s ended inside this token */
    at += m;
  }
  return at < len ? -1 : 0;
}

/* The phrase table is megabytes of index, entries and surface strings,
 * and an item's grams land all over it: with the grams known up front, a
 * gram's index slot, entry and surface are fetched a few grams ahead in
 * three stages, so that several misses are in flight at once. These are
 * hints only: an entry added or moved meanwhile is looked up for real. */
#define PHRASE_AHEAD 4

/* The address to fetch for a gram at a stage (0: its slot; 1: its entry;
 * 2: the entry's surface), or NULL. The prefetch itself is issued by the
 * caller: GCC's IPA mod/ref analysis takes a function whose only effect
 * is a prefetch for one without effects and drops its calls. */
static inline const void *phrase_line(const fm_agg *a, const fmi_agg_gram *gr,
                                      int stage) {
  size_t m = a->phrase_index.cap - 1;
  uint64_t hash = gr->hash;
  uint32_t slot;
  if (!a->phrase_index.cap || !fmi_agg_phrase_kept(a, hash, gr->n))
    return NULL;
  if (stage == 0) return &a->phrase_index.slots[hash & m];
  slot = a->phrase_index.slots[hash & m];
  if (!slot) return NULL;
  if (stage == 1) return &a->phrases[slot - 1];
  return a->phrases[slot - 1].hash == hash ? a->phrases[slot - 1].surface
                                           : NULL;
}

#define PREFETCH_PHRASE(a, gr, stage)                                       \
  do {                                                                      \
    const void *line_ = phrase_line((a), (gr), (stage));                    \
    if (line_) FMI_PREFETCH(line_, 0, 3);                                   \
  } while (0)

/* An item's candidate phrases: the n-grams (1 to 3 tokens) that may be
 * keyphrases, sorted by gram_less. They depend on the tokens only, not on
 * the aggregate. Each token's class is worked out once (a token is in up
 * to three grams), and each start's grams are built by appending to the
 * previous one: the key of "a b c" is the key of "a b", a blank and "c". */
static bool find_grams(const fm_token *toks, size_t n_tok, fmi_agg_grams *g) {
  size_t i, n_grams = 0;
  unsigned char *cls;
  if (!grow((void **)&g->cls, &g->cap_cls, n_tok, 1)) return false;
  cls = g->cls;
  for (i = 0; i < n_tok; i++) cls[i] = (unsigned char)token_class(&toks[i]);
  for (i = 0; i < n_tok; i++) {
    char key[FMI_PHRASE_MAX_BYTES];
    size_t n, len = 0;
    for (n = 1; n <= 3 && i + n <= n_tok; n++) {
      int c3[3];
      const char *s;
      size_t sl, k;
      if (cls[i + n - 1] == TK_BREAK) break;
      tok_stem(&toks[i + n - 1], &s, &sl);
      /* Longer from here on, so no longer gram of this start is kept
       * either (a gram past the limit is never counted). */
      if (len + (n > 1) + sl > FMI_PHRASE_MAX_BYTES) break;
      if (n > 1) key[len++] = ' ';
      memcpy(key + len, s, sl);
      len += sl;
      for (k = 0; k < n; k++) c3[k] = cls[i + k];
      if (!gram_ok(c3, n)) continue;
      if (n_grams == g->cap_tmp &&
          !grow((void **)&g->tmp, &g->cap_tmp, n_grams + 1, sizeof *g->tmp))
        return false;
      g->tmp[n_grams].hash = fmi_hash64_inline(key, len);
      g->tmp[n_grams].start = (uint32_t)i;
      g->tmp[n_grams].n = (uint32_t)n;
      n_grams++;
    }
  }
  if (!grow((void **)&g->grams, &g->cap_grams, n_grams, sizeof *g->grams))
    return false;
  radix_sort_grams(g->grams, g->tmp, n_grams);
  g->n_grams = n_grams;
  g->ready = 1;
  return true;
}

void fmi_agg_grams_free(fmi_agg_grams *g) {
  if (!g) return;
  fmi_free(g->grams);
  fmi_free(g->tmp);
  fmi_free(g->cls);
  memset(g, 0, sizeof *g);
}

/* Counts an item's phrases. `ig` holds the item's grams, or receives
 * them when not ready. */
static fm_status add_phrases(fm_agg *a, const fm_token *toks, size_t n_tok,
                             unsigned w, int64_t day, long area, int req,
                             const char *account, size_t account_len,
                             fmi_agg_grams *ig, fm_error *err) {
  size_t n_grams, g;
  const fmi_agg_gram *grams;
  fm_status st;
  fmi_buf *b = &a->scratch;
  uint32_t acc = 0;
  if (account_len) acc = account_hash32(account, account_len);
  if (!ig->ready && !find_grams(toks, n_tok, ig)) goto nomem;
  grams = ig->grams;
  n_grams = ig->n_grams;
  for (g = 0; g < n_grams && g < 3 * PHRASE_AHEAD; g++)
    PREFETCH_PHRASE(a, &grams[g], 0);
  for (g = 0; g < n_grams && g < 2 * PHRASE_AHEAD; g++)
    PREFETCH_PHRASE(a, &grams[g], 1);
  for (g = 0; g < n_grams && g < PHRASE_AHEAD; g++)
    PREFETCH_PHRASE(a, &grams[g], 2);
  for (g = 0; g < n_grams; g++) {
    const fmi_agg_gram *gr = &grams[g];
    fmi_agg_phrase *p;
    int dup = g > 0 && grams[g - 1].hash == gr->hash;
    if (g + 3 * PHRASE_AHEAD < n_grams)
      PREFETCH_PHRASE(a, &grams[g + 3 * PHRASE_AHEAD], 0);
    if (g + 2 * PHRASE_AHEAD < n_grams)
      PREFETCH_PHRASE(a, &grams[g + 2 * PHRASE_AHEAD], 1);
    if (g + PHRASE_AHEAD < n_grams)
      PREFETCH_PHRASE(a, &grams[g + PHRASE_AHEAD], 2);
    if (!fmi_agg_phrase_kept(a, gr->hash, gr->n)) continue;
    p = fmi_agg_phrase_find(a, gr->hash);
    if (!p) {
      char *stems;
      size_t sl;
      if (join_tokens(b, toks, gr->start, gr->n, 0) != FM_OK) goto nomem;
      sl = b->len;
      stems = fmi_strndup(b->data, sl);
      if (!stems) goto nomem;
      if (join_tokens(b, toks, gr->start, gr->n, 1) != FM_OK) {
        fmi_free(stems);
        goto nomem;
      }
      p = fmi_agg_phrase_add(a, gr->hash, stems, sl, b->data, b->len, gr->n,
                             &st);
      fmi_free(stems);
      if (!p) goto nomem;
    } else if (surface_cmp(toks, gr->start, gr->n, p->surface,
                           p->surface_len) < 0) {
      if (join_tokens(b, toks, gr->start, gr->n, 1) != FM_OK) goto nomem;
      if (fmi_agg_phrase_surface_min(p, b->data, b->len) != FM_OK) goto nomem;
    }
    if (dup) continue; /* document frequency: once per item */
    p->df[w]++;
    if (day < p->first_day) p->first_day = day;
    if (req) {
      fmi_agg_req *r =
          fmi_agg_req_get(a, (uint32_t)area, gr->hash, gr->n, &st);
      if (!r) goto nomem;
      r->df++;
      if (account_len) fmi_agg_req_add_account(r, acc);
    }
    if (over_cap(a)) {
      st = fmi_agg_fit_phrases(a, err);
      if (st != FM_OK) return st;
    }
  }
  return FM_OK;
nomem:
  return fmi_fail(err, FM_ENOMEM, "out of memory");
}

/* The stems of an item with breaks, for finding phrases in exemplars:
 * "\nw1 w2\nw3\n". Cut at a token boundary past FMI_TERMS_KEEP bytes. */
static char *build_terms(fmi_buf *b, const fm_token *toks, size_t n_tok) {
  size_t i;
  fmi_buf_clear(b);
  if (fmi_buf_putc(b, '\n') != FM_OK) return NULL;
  for (i = 0; i < n_tok; i++) {
    const char *s;
    size_t n;
    if (token_class(&toks[i]) == TK_BREAK) {
      if (b->data[b->len - 1] != '\n' && fmi_buf_putc(b, '\n') != FM_OK)
        return NULL;
      continue;
    }
    tok_stem(&toks[i], &s, &n);
    if (b->len + n + 2 > FMI_TERMS_KEEP) break;
    if (b->data[b->len - 1] != '\n' && fmi_buf_putc(b, ' ') != FM_OK)
      return NULL;
    if (fmi_buf_append(b, s, n) != FM_OK) return NULL;
  }
  if (b->data[b->len - 1] != '\n' && fmi_buf_putc(b, '\n') != FM_OK)
    return NULL;
  return fmi_strndup(b->data, b->len);
}

static fm_status offer_item(fm_agg *a, fmi_agg_reservoir *r, uint32_t key,
                            const fm_agg_item *it, unsigned src,
                            const char *lang, int with_terms,
                            fm_error *err) {
  fmi_agg_kept k;
  fm_status st = FM_ENOMEM;
  size_t h;
  const char *text = it->text ? it->text : "";
  memset(&k, 0, sizeof k);
  k.key = key;
  /* Cheap rejection before any copy or hash: a full reservoir whose worst
   * item beats this key by the key alone. */
  if (r->cap == 0) return FM_OK;
  if (r->n == r->cap) {
    const fmi_agg_kept *worst = &r->items[r->n - 1];
    if (worst->key != key &&
        ((worst->key < key) == (r->lower_is_better != 0)))
      return FM_OK;
  }
  k.text_hash = fmi_hash64(text, it->text ? it->text_len : 0);
  k.text = dup_utf8(text, it->text ? it->text_len : 0, FMI_TEXT_KEEP,
                    &k.truncated);
  k.id = dup_utf8(it->id ? it->id : "", it->id ? strlen(it->id) : 0, MAX_ID,
                  NULL);
  k.account = dup_utf8(it->account ? it->account : "",
                       it->account ? strlen(it->account) : 0, MAX_ACCOUNT,
                       NULL);
  k.lang = fmi_strndup(lang, strlen(lang));
  k.tags = fmi_calloc(a->n_heads, sizeof *k.tags);
  k.ppm = fmi_calloc(a->n_heads, sizeof *k.ppm);
  if (!k.text || !k.id || !k.account || !k.lang || !k.tags || !k.ppm)
    goto done;
  if (with_terms) {
    k.terms = build_terms(&a->scratch, it->tokens, it->tokens ? it->n_tokens : 0);
    if (!k.terms) goto done;
  }
  k.source = src;
  k.date = it->date;
  for (h = 0; h < a->n_heads; h++) {
    k.tags[h] = a->t_label[h] >= 0 ? (uint32_t)a->t_label[h] + 1 : 0;
    k.ppm[h] = a->t_label[h] >= 0 ? a->t_ppm[h] : 0;
  }
  st = fmi_agg_reservoir_offer(a, r, &k);
done:
  kept_free(&k);
  if (st != FM_OK) return fmi_fail(err, FM_ENOMEM, "out of memory");
  return FM_OK;
}

static fm_status add_item(fm_agg *a, const fm_agg_item *in,
                          fmi_agg_grams *ig, fm_error *err) {
  fm_agg_item it = FM_AGG_ITEM_INIT;
  size_t i, h;
  unsigned src, w;
  char lang[MAX_LANG + 1];
  size_t lang_len, account_len;
  fmi_agg_lang *l;
  fm_status st;
  long area = -1;
  int any_review = 0, req = 0, tagged = 0;
  uint32_t min_ppm = 1000000;
  if (!a || !in) return fmi_fail(err, FM_EINVAL, "aggregate or item is NULL");
  if (in->size < sizeof(size_t) || in->size > sizeof it)
    return fmi_fail(err, FM_EINVAL, "fm_agg_item.size is %zu, expected %zu",
                    in->size, sizeof it);
  memcpy(&it, in, in->size);
  if (it.n_tags && !it.tags)
    return fmi_fail(err, FM_EINVAL, "item has n_tags but no tags");
  if (it.has_score && (!isfinite(it.score) || it.score < 0 || it.score > 10))
    return fmi_fail(err, FM_EINVAL, "NPS score must be 0 to 10");
  if (it.has_revenue &&
      (!isfinite(it.revenue) || it.revenue < 0 || it.revenue > 1e15))
    return fmi_fail(err, FM_EINVAL, "revenue must be 0 to 10^15");
  if (it.n_tokens && !it.tokens)
    return fmi_fail(err, FM_EINVAL, "item has n_tokens but no tokens");
  for (h = 0; h < a->n_heads; h++) a->t_label[h] = -1;
  for (i = 0; i < it.n_tags; i++) {
    const fm_agg_tag *t = &it.tags[i];
    long hi, li;
    if (!t->head || !t->label) continue;
    hi = head_index(a, t->head);
    if (hi < 0) continue;
    if (!isfinite(t->prob) || t->prob < 0 || t->prob > 1)
      return fmi_fail(err, FM_EINVAL, "probability of head '%s' is not in "
                      "[0, 1]", t->head);
    if (a->t_label[hi] >= 0)
      return fmi_fail(err, FM_EINVAL, "head '%s' is tagged twice", t->head);
    li = fmi_agg_label_index(a, (size_t)hi, t->label);
    if (li < 0)
      return fmi_fail(err, FM_ENOTFOUND, "head '%s' has no label '%.64s'",
                      t->head, t->label);
    a->t_label[hi] = li;
    a->t_ppm[hi] = (uint32_t)llround(t->prob * 1e6);
    a->t_review[hi] = t->needs_review != 0;
  }
  if (!it.has_date) {
    a->undated++;
    fmi_ok(err);
    return FM_OK;
  }
  if (it.date < 0 || it.date >= MAX_TIME)
    return fmi_fail(err, FM_EINVAL, "date out of range");
  if (!a->any_date || it.date < a->first_date) a->first_date = it.date;
  if (!a->any_date || it.date > a->last_date) a->last_date = it.date;
  a->any_date = 1;
  if (it.date >= a->since && it.date < a->until) {
    w = FMI_CUR;
  } else if (a->compare && it.date >= a->prev_since && it.date < a->since) {
    w = FMI_PREV;
  } else {
    a->outside++;
    fmi_ok(err);
    return FM_OK;
  }
  src = source_index(it.source);
  lang_len = norm_lang(it.lang, lang);
  account_len = it.account ? strlen(it.account) : 0;

  /* plain counters */
  a->items[w][src]++;
  for (h = 0; h < a->n_heads; h++) {
    long li = a->t_label[h];
    if (li < 0) continue;
    tagged = 1;
    a->label_count[w * a->n_labels + a->heads[h].base + (size_t)li]++;
    if (a->t_review[h]) {
      a->label_review[w * a->n_labels + a->heads[h].base + (size_t)li]++;
      any_review = 1;
    }
    if (a->t_ppm[h] < min_ppm) min_ppm = a->t_ppm[h];
  }
  l = fmi_agg_lang_get(a, lang, lang_len, &st);
  if (!l) return fmi_fail(err, FM_ENOMEM, "out of memory");
  l->items[w][src]++;
  if (any_review) l->review_any[w]++;
  for (h = 0; h < a->n_heads; h++)
    if (a->t_label[h] >= 0 && a->t_review[h]) l->review[w * a->n_heads + h]++;
  {
    int nps = -1;
    if (src == FMI_SRC_NPS && it.has_score)
      nps = it.score < 7 ? FMI_NPS_DETRACTOR
            : it.score < 9 ? FMI_NPS_PASSIVE : FMI_NPS_PROMOTER;
    if (nps >= 0) a->nps[w][nps]++;
    if (a->h_area >= 0) area = a->t_label[a->h_area];
    if (area >= 0) {
      fmi_agg_area *ar = &a->areas[w * a->n_area + (size_t)area];
      size_t slot;
      ar->count++;
      ar->sources[src]++;
      if (nps >= 0) ar->nps[nps]++;
      if (a->h_kind >= 0 && a->t_label[a->h_kind] >= 0) {
        size_t nk = a->heads[a->h_kind].n_labels;
        a->area_kinds[(w * a->n_area + (size_t)area) * nk +
                      (size_t)a->t_label[a->h_kind]]++;
      }
      if (a->h_sent >= 0 && a->t_label[a->h_sent] >= 0) {
        size_t ns = a->heads[a->h_sent].n_labels;
        a->area_sents[(w * a->n_area + (size_t)area) * ns +
                      (size_t)a->t_label[a->h_sent]]++;
      }
      slot = (size_t)((it.date - (w == FMI_CUR ? a->since : a->prev_since)) /
                      a->slot_secs);
      if (slot >= a->n_slots) slot = a->n_slots - 1;
      slot += w == FMI_CUR ? a->n_slots : 0;
      a->slots[(size_t)area * 2 * a->n_slots + slot]++;
    }
    {
      size_t slot = (size_t)((it.date - (w == FMI_CUR ? a->since
                                                      : a->prev_since)) /
                             a->slot_secs);
      if (slot >= a->n_slots) slot = a->n_slots - 1;
      slot += w == FMI_CUR ? a->n_slots : 0;
      a->slots[a->n_area * 2 * a->n_slots + slot]++;
    }
  }
  if (a->h_reason >= 0 && a->t_label[a->h_reason] >= 0) {
    size_t r = (size_t)a->t_label[a->h_reason];
    fmi_agg_reason *re = &a->reasons[w * a->n_reason + r];
    re->sources[src]++;
    if (it.has_revenue) {
      re->revenue_cents[src] = sat_add(re->revenue_cents[src],
                                       (int64_t)llround(it.revenue * 100.0));
      re->revenue_items[src]++;
    }
    if (area >= 0)
      a->reason_areas[(w * a->n_reason + r) * a->n_area + (size_t)area]++;
  }
  if (account_len) {
    fmi_agg_account *ac;
    if (account_len <= MAX_ACCOUNT && ascii(it.account, account_len)) {
      /* what dup_utf8 would give: the name as it is */
      ac = fmi_agg_account_get(a, it.account, account_len, &st);
    } else {
      char *acc = dup_utf8(it.account, account_len, MAX_ACCOUNT, NULL);
      if (!acc) return fmi_fail(err, FM_ENOMEM, "out of memory");
      ac = fmi_agg_account_get(a, acc, strlen(acc), &st);
      fmi_free(acc);
    }
    if (!ac) return fmi_fail(err, FM_ENOMEM, "out of memory");
    ac->active |= 1u << w;
    if (area >= 0) ac->areas[w] |= (uint64_t)1 << area;
    /* A lost deal's amount is the deal's value, not what the account
     * pays: it does not set the account's revenue. */
    if (it.has_revenue && src != FMI_SRC_LOST_DEAL) {
      int64_t cents = (int64_t)llround(it.revenue * 100.0);
      if (!ac->has_revenue || it.date > ac->revenue_date ||
          (it.date == ac->revenue_date && cents > ac->revenue_cents)) {
        ac->has_revenue = 1;
        ac->revenue_date = it.date;
        ac->revenue_cents = cents;
      }
    }
  }
  req = w == FMI_CUR && area >= 0 && a->h_kind >= 0 &&
        a->t_label[a->h_kind] >= 0 &&
        (a->t_label[a->h_kind] == a->l_request ||
         a->t_label[a->h_kind] == a->l_complaint);
  if (it.tokens && it.n_tokens) {
    st = add_phrases(a, it.tokens, it.n_tokens, w, fmi_agg_day(it.date), area,
                     req, it.account, account_len, ig, err);
    if (st != FM_OK) return st;
  }
  if (req) {
    /* Clearest first: both the area and the kind confidently tagged. */
    uint64_t conf = (uint64_t)a->t_ppm[a->h_area] * a->t_ppm[a->h_kind];
    st = offer_item(a, &a->exemplars[area], (uint32_t)(conf / 1000000), &it,
                    src, lang, 1, err);
    if (st != FM_OK) return st;
  }
  if (w == FMI_CUR && tagged) {
    st = offer_item(a, &a->review, min_ppm, &it, src, lang, 0, err);
    if (st != FM_OK) return st;
  }
  fmi_ok(err);
  return FM_OK;
}

fm_status fm_agg_add(fm_agg *a, const fm_agg_item *in, fm_error *err) {
  a->grams.ready = 0; /* an item of its own */
  return add_item(a, in, &a->grams, err);
}

fm_status fmi_agg_add_shared(fm_agg *a, const fm_agg_item *item,
                             fmi_agg_grams *grams, fm_error *err) {
  return add_item(a, item, grams, err);
}

void fm_agg_item_from_result(fm_agg_item *item, const fm_result *res,
                             fm_agg_tag *tags) {
  size_t i, n = 0;
  if (!item || !res) return;
  for (i = 0; i < res->n_heads; i++) {
    const fm_head_result *r = &res->heads[i];
    if (!r->label_name) continue; /* skipped for this source */
    tags[n].head = r->head;
    tags[n].label = r->label_name;
    tags[n].prob = r->prob;
    tags[n].needs_review = r->needs_review;
    n++;
  }
  item->tags = tags;
  item->n_tags = n;
  if (res->analysis) {
    item->lang = res->analysis->lang;
    item->text = res->analysis->redacted;
    item->text_len = res->analysis->redacted_len;
    item->tokens = res->analysis->tokens;
    item->n_tokens = res->analysis->n_tokens;
  }
}

/* ---- merging ------------------------------------------------------------ */

static fm_status check_same(const fm_agg *x, const fm_agg *y, fm_error *err) {
  size_t h, l;
  if (x->n_heads != y->n_heads)
    return fmi_fail(err, FM_EMISMATCH, "aggregates have %zu and %zu heads",
                    x->n_heads, y->n_heads);
  for (h = 0; h < x->n_heads; h++) {
    if (strcmp(x->heads[h].name, y->heads[h].name))
      return fmi_fail(err, FM_EMISMATCH, "head %zu is '%s' in one aggregate "
                      "and '%s' in the other", h, x->heads[h].name,
                      y->heads[h].name);
    if (x->heads[h].n_labels != y->heads[h].n_labels)
      return fmi_fail(err, FM_EMISMATCH, "head '%s' has %zu and %zu labels",
                      x->heads[h].name, x->heads[h].n_labels,
                      y->heads[h].n_labels);
    for (l = 0; l < x->heads[h].n_labels; l++)
      if (strcmp(x->heads[h].labels[l], y->heads[h].labels[l]))
        return fmi_fail(err, FM_EMISMATCH, "head '%s': label %zu is '%s' "
                        "and '%s'", x->heads[h].name, l,
                        x->heads[h].labels[l], y->heads[h].labels[l]);
  }
  if (x->since != y->since || x->until != y->until || x->compare != y->compare)
    return fmi_fail(err, FM_EMISMATCH, "aggregates cover different periods");
  if (memcmp(x->weight_milli, y->weight_milli, sizeof x->weight_milli))
    return fmi_fail(err, FM_EMISMATCH, "aggregates have different source "
                    "weights");
  if (x->k_exemplars != y->k_exemplars || x->k_review != y->k_review ||
      x->max_phrases != y->max_phrases)
    return fmi_fail(err, FM_EMISMATCH, "aggregates keep different numbers "
                    "of exemplars, review items or phrases");
  return FM_OK;
}

static void add_u64(uint64_t *d, const uint64_t *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) d[i] += s[i];
}

fm_status fm_agg_merge(fm_agg *into, const fm_agg *from, fm_error *err) {
  fm_status st;
  size_t i, w, n_kind, n_sent;
  if (!into || !from) return fmi_fail(err, FM_EINVAL, "aggregate is NULL");
  if (into == from)
    return fmi_fail(err, FM_EINVAL, "cannot merge an aggregate into itself");
  if ((st = check_same(into, from, err)) != FM_OK) return st;
  n_kind = into->h_kind >= 0 ? into->heads[into->h_kind].n_labels : 0;
  n_sent = into->h_sent >= 0 ? into->heads[into->h_sent].n_labels : 0;
  into->undated += from->undated;
  into->outside += from->outside;
  if (from->any_date) {
    if (!into->any_date || from->first_date < into->first_date)
      into->first_date = from->first_date;
    if (!into->any_date || from->last_date > into->last_date)
      into->last_date = from->last_date;
    into->any_date = 1;
  }
  add_u64(&into->items[0][0], &from->items[0][0], FMI_N_WIN * FMI_N_SRC);
  add_u64(&into->nps[0][0], &from->nps[0][0], FMI_N_WIN * FMI_N_NPS);
  add_u64(into->label_count, from->label_count, FMI_N_WIN * into->n_labels);
  add_u64(into->label_review, from->label_review, FMI_N_WIN * into->n_labels);
  for (i = 0; i < FMI_N_WIN * into->n_area; i++) {
    into->areas[i].count += from->areas[i].count;
    add_u64(into->areas[i].sources, from->areas[i].sources, FMI_N_SRC);
    add_u64(into->areas[i].nps, from->areas[i].nps, FMI_N_NPS);
  }
  add_u64(into->area_kinds, from->area_kinds, FMI_N_WIN * into->n_area * n_kind);
  add_u64(into->area_sents, from->area_sents, FMI_N_WIN * into->n_area * n_sent);
  add_u64(into->slots, from->slots, (into->n_area + 1) * 2 * into->n_slots);
  for (i = 0; i < FMI_N_WIN * into->n_reason; i++) {
    add_u64(into->reasons[i].sources, from->reasons[i].sources, FMI_N_SRC);
    size_t s;
    for (s = 0; s < FMI_N_SRC; s++) {
      into->reasons[i].revenue_cents[s] = sat_add(
          into->reasons[i].revenue_cents[s], from->reasons[i].revenue_cents[s]);
      into->reasons[i].revenue_items[s] += from->reasons[i].revenue_items[s];
    }
  }
  add_u64(into->reason_areas, from->reason_areas,
          FMI_N_WIN * into->n_reason * into->n_area);
  for (i = 0; i < from->n_langs; i++) {
    const fmi_agg_lang *fl = &from->langs[i];
    fmi_agg_lang *l = fmi_agg_lang_get(into, fl->lang, strlen(fl->lang), &st);
    if (!l) goto nomem;
    add_u64(&l->items[0][0], &fl->items[0][0], FMI_N_WIN * FMI_N_SRC);
    for (w = 0; w < FMI_N_WIN; w++) l->review_any[w] += fl->review_any[w];
    add_u64(l->review, fl->review, FMI_N_WIN * into->n_heads);
  }
  for (i = 0; i < from->n_accounts; i++) {
    const fmi_agg_account *fa = &from->accounts[i];
    fmi_agg_account *ac =
        fmi_agg_account_get(into, fa->name, strlen(fa->name), &st);
    if (!ac) goto nomem;
    ac->active |= fa->active;
    for (w = 0; w < FMI_N_WIN; w++) ac->areas[w] |= fa->areas[w];
    if (fa->has_revenue &&
        (!ac->has_revenue || fa->revenue_date > ac->revenue_date ||
         (fa->revenue_date == ac->revenue_date &&
          fa->revenue_cents > ac->revenue_cents))) {
      ac->has_revenue = 1;
      ac->revenue_date = fa->revenue_date;
      ac->revenue_cents = fa->revenue_cents;
    }
  }
  {
    unsigned n, raised = 0;
    for (n = 1; n <= 3; n++)
      if (from->sampling[n] > into->sampling[n]) {
        into->sampling[n] = from->sampling[n];
        raised = 1;
      }
    if (raised && purge_phrases(into) != FM_OK) goto nomem;
  }
  for (i = 0; i < from->n_phrases; i++) {
    const fmi_agg_phrase *fp = &from->phrases[i];
    fmi_agg_phrase *p;
    if (!fmi_agg_phrase_kept(into, fp->hash, fp->order)) continue;
    p = fmi_agg_phrase_find(into, fp->hash);
    if (!p) {
      p = fmi_agg_phrase_add(into, fp->hash, fp->stems, strlen(fp->stems),
                             fp->surface, fp->surface_len, fp->order, &st);
      if (!p) goto nomem;
    } else if (fmi_agg_phrase_surface_min(p, fp->surface,
                                          fp->surface_len) != FM_OK) {
      goto nomem;
    }
    for (w = 0; w < FMI_N_WIN; w++) p->df[w] += fp->df[w];
    if (fp->first_day < p->first_day) p->first_day = fp->first_day;
  }
  for (i = 0; i < from->n_reqs; i++) {
    const fmi_agg_req *fr = &from->reqs[i];
    fmi_agg_req *r;
    size_t k;
    if (!fmi_agg_phrase_kept(into, fr->hash, fr->order)) continue;
    r = fmi_agg_req_get(into, fr->area, fr->hash, fr->order, &st);
    if (!r) goto nomem;
    r->df += fr->df;
    for (k = 0; k < fr->n_acc; k++) fmi_agg_req_add_account(r, fr->acc[k]);
  }
  if ((st = fmi_agg_fit_phrases(into, err)) != FM_OK) return st;
  for (i = 0; i < into->n_area; i++) {
    size_t k;
    for (k = 0; k < from->exemplars[i].n; k++)
      if (fmi_agg_reservoir_offer(into, &into->exemplars[i],
                                  &from->exemplars[i].items[k]) != FM_OK)
        goto nomem;
  }
  for (i = 0; i < from->review.n; i++)
    if (fmi_agg_reservoir_offer(into, &into->review, &from->review.items[i]) !=
        FM_OK)
      goto nomem;
  fmi_ok(err);
  return FM_OK;
nomem:
  return fmi_fail(err, FM_ENOMEM, "out of memory");
}

/* ---- statistics ------------------------------------------------------------ */

fm_status fm_agg_stats_get(const fm_agg *a, fm_agg_stats *out, fm_error *err) {
  fm_agg_stats s;
  size_t i, k, bytes;
  if (!a || !out || out->size < sizeof(size_t) || out->size > sizeof s)
    return fmi_fail(err, FM_EINVAL, "bad aggregate or fm_agg_stats.size");
  memset(&s, 0, sizeof s);
  s.size = out->size;
  s.since = a->since;
  s.until = a->until;
  s.previous_since = a->prev_since;
  for (i = 0; i < FMI_N_SRC; i++) {
    s.items += a->items[FMI_CUR][i];
    s.previous_items += a->items[FMI_PREV][i];
  }
  s.outside = a->outside;
  s.undated = a->undated;
  s.accounts = a->n_accounts;
  s.phrases = a->n_phrases + a->n_reqs;
  s.phrase_sampling = a->sampling[1];
  if (a->sampling[2] > s.phrase_sampling) s.phrase_sampling = a->sampling[2];
  if (a->sampling[3] > s.phrase_sampling) s.phrase_sampling = a->sampling[3];
  /* Heap estimate: arrays at capacity plus strings (with 16 bytes of
   * allocator overhead each). */
  bytes = sizeof *a + a->cap_phrases * sizeof *a->phrases +
          a->phrase_index.cap * 4 + a->cap_reqs * sizeof *a->reqs +
          a->req_index.cap * 4 + a->cap_accounts * sizeof *a->accounts +
          a->account_index.cap * 4 + a->grams.cap_grams * sizeof(fmi_agg_gram) +
          a->scratch.cap;
  for (i = 0; i < a->n_phrases; i++)
    bytes += strlen(a->phrases[i].stems) + a->phrases[i].surface_len + 34;
  for (i = 0; i < a->n_accounts; i++) bytes += strlen(a->accounts[i].name) + 17;
  for (i = 0; i <= a->n_area; i++) {
    const fmi_agg_reservoir *r = i < a->n_area ? &a->exemplars[i] : &a->review;
    for (k = 0; k < r->n; k++)
      bytes += strlen(r->items[k].text) +
               (r->items[k].terms ? strlen(r->items[k].terms) : 0) +
               a->n_heads * 8 + 128;
  }
  bytes += (a->n_area + 1) * 2 * a->n_slots * 8 + a->n_labels * 32;
  s.bytes = bytes;
  memcpy(out, &s, out->size);
  fmi_ok(err);
  return FM_OK;
}
