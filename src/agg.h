/*
 * agg.h -- the state behind fm_agg, shared by agg.c (add, merge),
 * agg_json.c (serialize, deserialize) and report.c (the numbers the
 * writers print).
 *
 * Invariant that makes merging exact: every field is an integer, a string
 * or a set, and each is combined by +, min, max, union or "k best by a
 * total order" -- operations that are associative and commutative. No
 * floating-point value is stored; probabilities are millionths, revenue is
 * cents, dates of phrases are days since 1970-01-01.
 */
#ifndef FM_AGG_H
#define FM_AGG_H

#include "internal.h"

/* Sources are a fixed set, so every per-source counter is an array. */
enum {
  FMI_SRC_TICKET,
  FMI_SRC_NPS,
  FMI_SRC_CHURN,
  FMI_SRC_LOST_DEAL,
  FMI_SRC_OTHER,
  FMI_N_SRC
};
extern const char *const fmi_agg_source_names[FMI_N_SRC];

/* Windows: the period and the one before it. */
enum { FMI_CUR = 0, FMI_PREV = 1, FMI_N_WIN = 2 };

/* NPS tallies. */
enum { FMI_NPS_DETRACTOR, FMI_NPS_PASSIVE, FMI_NPS_PROMOTER, FMI_N_NPS };

#define FMI_AGG_MAX_AREAS 64   /* an account's areas are a 64-bit mask */
#define FMI_ACC_K 16           /* bottom-k account hashes per phrase */
#define FMI_TEXT_KEEP 480      /* bytes of a verbatim kept */
#define FMI_TERMS_KEEP 1600    /* bytes of an exemplar's stems kept */
#define FMI_PHRASE_MAX_BYTES 240 /* longer n-grams are not counted */

typedef struct fmi_agg_headdef {
  char *name;
  char **labels;
  size_t n_labels;
  size_t base; /* index of its first label in the flat label arrays */
} fmi_agg_headdef;

/* Per language counters. review[w * n_heads + h]: items whose head h
 * needs review. */
typedef struct fmi_agg_lang {
  char *lang;
  uint64_t items[FMI_N_WIN][FMI_N_SRC];
  uint64_t review_any[FMI_N_WIN];
  uint64_t *review;
} fmi_agg_lang;

/* One product area in one window. kinds/sents point into flat arrays of
 * the aggregate. */
typedef struct fmi_agg_area {
  uint64_t count;
  uint64_t sources[FMI_N_SRC];
  uint64_t nps[FMI_N_NPS];
} fmi_agg_area;

/* One churn_reason label in one window; areas[] points into a flat array
 * (n_area entries). */
typedef struct fmi_agg_reason {
  uint64_t sources[FMI_N_SRC];
  int64_t revenue_cents[FMI_N_SRC]; /* by source: churned MRR and lost
                                       deal value are different money */
  uint64_t revenue_items[FMI_N_SRC];
} fmi_agg_reason;

/* Accounts: one entry per distinct name. The revenue is the one of the
 * latest-dated item that gave one (ties: the larger), a max over
 * (date, cents) pairs, so it merges exactly. */
typedef struct fmi_agg_account {
  char *name;
  uint64_t hash;
  int64_t revenue_cents; /* valid with has_revenue */
  int64_t revenue_date;
  int has_revenue;
  unsigned active;       /* bit w: seen in window w */
  uint64_t areas[FMI_N_WIN]; /* bit a: mentioned area a in window w */
} fmi_agg_account;

/* A keyphrase (1 to 3 words) and its document counts in both windows.
 * Keyed by the hash of its stems; `surface` is the smallest (bytewise) of
 * the surface forms seen -- a min, so merge order does not matter. */
typedef struct fmi_agg_phrase {
  uint64_t hash;
  char *stems;      /* owned; words joined by one blank */
  char *surface;    /* owned */
  size_t surface_len; /* strlen(surface): compared for every occurrence */
  uint64_t df[FMI_N_WIN];
  int64_t first_day; /* earliest day an item held it */
  unsigned order;    /* 1, 2 or 3 words */
} fmi_agg_phrase;

/* A keyphrase inside one area's feature requests and complaints of the
 * period, with the bottom-k hashes of the accounts that used it (exact up
 * to FMI_ACC_K accounts, an estimate past that). */
typedef struct fmi_agg_req {
  uint64_t hash;
  uint32_t area;
  uint16_t n_acc;
  uint16_t order;
  uint64_t df;
  uint32_t acc[FMI_ACC_K]; /* ascending */
} fmi_agg_req;

/* A kept item: an exemplar of an area or a review-queue entry. `key` is
 * the confidence in millionths (exemplars: higher is better; review:
 * lower is better). tags[h] = label index + 1 (0 = untagged) and ppm[h]
 * its probability. */
typedef struct fmi_agg_kept {
  uint32_t key;
  uint64_t text_hash;
  char *text;        /* at most FMI_TEXT_KEEP bytes, cut at a character */
  int truncated;
  char *terms;       /* exemplars: "\n" + stems, ' ' between words, '\n'
                        at breaks; NULL for review entries */
  char *id, *account, *lang;
  unsigned source;
  int64_t date;
  uint32_t *tags;    /* n_heads */
  uint32_t *ppm;     /* n_heads */
} fmi_agg_kept;

/* The k best of a set under fmi_kept_cmp, at most one per text hash;
 * sorted best first. */
typedef struct fmi_agg_reservoir {
  fmi_agg_kept *items;
  size_t n, cap;
  int lower_is_better;
} fmi_agg_reservoir;

/* Open addressing index: slots hold entry index + 1 (0 = empty). */
typedef struct fmi_agg_index {
  uint32_t *slots;
  size_t cap; /* power of two, or 0 */
} fmi_agg_index;

/* An item's keyphrase candidates, worked out by the first aggregate the
 * item is added to through fmi_agg_add_shared and reused by the others
 * (they depend on the tokens only). Zero-initialize; set ready = 0 before
 * each new item; fmi_agg_grams_free at the end. */
typedef struct fmi_agg_grams {
  struct fmi_agg_gram *grams;
  size_t n_grams, cap_grams;
  struct fmi_agg_gram *tmp;
  size_t cap_tmp;
  unsigned char *cls;
  size_t cap_cls;
  int ready;
} fmi_agg_grams;

struct fm_agg {
  /* options (compared by fm_agg_merge) */
  fmi_agg_headdef *heads;
  size_t n_heads, n_labels; /* labels of all heads */
  long h_area, h_sent, h_kind, h_reason; /* -1 when absent */
  long l_negative;          /* label of h_sent, or -1 */
  long l_request, l_complaint; /* labels of h_kind, or -1 */
  size_t n_area, n_reason;
  int64_t since, until, prev_since;
  int compare;
  int64_t weight_milli[FMI_N_SRC + 1]; /* by source; [FMI_N_SRC] = NPS
                                          detractor */
  size_t k_exemplars, k_review, max_phrases;
  int64_t slot_secs;
  size_t n_slots; /* per window */

  /* counts */
  uint64_t undated, outside;
  int64_t first_date, last_date; /* of dated items; valid with any_date */
  int any_date;
  uint64_t items[FMI_N_WIN][FMI_N_SRC];
  uint64_t nps[FMI_N_WIN][FMI_N_NPS];
  uint64_t *label_count;  /* [w][n_labels] */
  uint64_t *label_review; /* [w][n_labels] */
  fmi_agg_lang *langs;    /* sorted by name */
  size_t n_langs, cap_langs;
  fmi_agg_area *areas;    /* [w][n_area] */
  uint64_t *area_kinds;   /* [w][n_area][kind labels] */
  uint64_t *area_sents;   /* [w][n_area][sentiment labels] */
  uint64_t *slots;        /* [n_area + 1][2 * n_slots]: previous window's
                             slots, then the period's; row n_area = all */
  fmi_agg_reason *reasons;/* [w][n_reason] */
  uint64_t *reason_areas; /* [w][n_reason][n_area] */

  fmi_agg_account *accounts;
  size_t n_accounts, cap_accounts;
  fmi_agg_index account_index;

  /* Phrase sampling, per phrase length n (index 1-3; 0 unused): a phrase
   * is kept when the top sampling[n] bits of its hash are 0. n_order[n]
   * counts the entries (phrases and requirement entries) of length n,
   * which may not pass cap_order[n]. */
  unsigned sampling[4];
  size_t n_order[4], cap_order[4];
  fmi_agg_phrase *phrases;
  size_t n_phrases, cap_phrases;
  fmi_agg_index phrase_index;
  fmi_agg_req *reqs;
  size_t n_reqs, cap_reqs;
  fmi_agg_index req_index;

  fmi_agg_reservoir *exemplars; /* n_area */
  fmi_agg_reservoir review;

  /* scratch for one item (not state) */
  long *t_label;          /* n_heads: label index or -1 */
  uint32_t *t_ppm;
  unsigned char *t_review;
  fmi_agg_grams grams;    /* fm_agg_add's: the item's own */
  fmi_buf scratch;
};

/* ---- agg.c ------------------------------------------------------------- */
/* An empty aggregate with these options (validated). */
fm_status fmi_agg_create(const fm_agg_opts *opts, fm_agg **out,
                         fm_error *err);
/* Index of a label of head h, or -1. */
long fmi_agg_label_index(const fm_agg *a, size_t h, const char *label);
/* Whether a phrase of `order` (1-3) words with this hash is kept at the
 * aggregate's sampling step for that length. */
int fmi_agg_phrase_kept(const fm_agg *a, uint64_t hash, unsigned order);
/* Raises the sampling steps until each length fits its share of
 * max_phrases. */
fm_status fmi_agg_fit_phrases(fm_agg *a, fm_error *err);

/* Finders and inserters used by merge and deserialize. The returned
 * pointers stay valid until the next insertion into the same table. */
fmi_agg_lang *fmi_agg_lang_get(fm_agg *a, const char *lang, size_t len,
                               fm_status *st);
fmi_agg_account *fmi_agg_account_get(fm_agg *a, const char *name,
                                     size_t len, fm_status *st);
fmi_agg_phrase *fmi_agg_phrase_find(const fm_agg *a, uint64_t hash);
fmi_agg_phrase *fmi_agg_phrase_add(fm_agg *a, uint64_t hash,
                                   const char *stems, size_t stems_len,
                                   const char *surface, size_t surface_len,
                                   unsigned order, fm_status *st);
fmi_agg_req *fmi_agg_req_get(fm_agg *a, uint32_t area, uint64_t hash,
                             unsigned order, fm_status *st);
void fmi_agg_req_add_account(fmi_agg_req *r, uint32_t acc);
/* Offers a copy of `k` (deep) to the reservoir. */
fm_status fmi_agg_reservoir_offer(fm_agg *a, fmi_agg_reservoir *r,
                                  const fmi_agg_kept *k);
int fmi_agg_kept_cmp(const fm_agg *a, const fmi_agg_kept *x,
                     const fmi_agg_kept *y, int lower_is_better);
/* Sets a surface form to the smaller of the two. */
fm_status fmi_agg_phrase_surface_min(fmi_agg_phrase *p, const char *s,
                                     size_t n);

void fmi_agg_grams_free(fmi_agg_grams *g);
/* fm_agg_add with the item's grams shared with other aggregates: the same
 * result as fm_agg_add, for less work when an item goes to several. */
fm_status fmi_agg_add_shared(fm_agg *a, const fm_agg_item *item,
                             fmi_agg_grams *grams, fm_error *err);

/* Days since 1970-01-01 of a Unix time (floor). */
static inline int64_t fmi_agg_day(int64_t t) {
  return t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
}
/* "YYYY-MM-DD" of a day number into out (>= 11 bytes). */
void fmi_agg_format_day(int64_t day, char *out);

#endif
