/*
 * model.h -- what the naive Bayes files share: the training settings, the
 * counts (the mergeable truth), the opened model, the scoring math used by
 * both the index builder and cross-validation, and the calibration maps.
 *
 * Files: model.c (open, validate, accessors, decoding counts),
 * model_write.c (scoring index, serialization, atomic write), counts.c
 * (count tables: build, sort, merge), train.c (fm_trainer), cv.c (fold
 * scoring for alpha auto, calibration and cross-validation), calibrate.c
 * (temperature / Platt / review threshold; fm_calibrator), classify.c
 * (fm_tagger_tag), eval.c (fm_eval), merge.c (fm_model_merge).
 */
#ifndef FM_MODEL_H
#define FM_MODEL_H

#include <math.h>

#include "internal.h"
#include "model_format.h"

/* ---- settings ------------------------------------------------------------
 * Everything training decided besides the counts. `alpha` is the value
 * used; `alpha_requested` < 0 records that it was chosen automatically. */
#define FMI_SETF_IDF_QUERY 1u /* the tagged document is idf-weighted too */
/* Length normalization puts word features (uni- and bigrams) and character
 * n-grams at length 1 each, as two TF-IDF vectorizers side by side do:
 * normalized together, the several times more numerous character n-grams
 * drown the words (banking77: 0.857 -> 0.870 with the same features).
 * Models without it normalize the document as one vector. */
#define FMI_SETF_SPLIT_NORM 2u
/* The variant and the priors mode were chosen by cross-validation (with
 * alpha; fmi_cv_fit): `variant` and `priors` hold the choice. */
#define FMI_SETF_VARIANT_AUTO 4u
#define FMI_SETF_PRIORS_AUTO 8u
/* Bits that record how a setting was chosen, not how the model scores. */
#define FMI_SETF_CHOICE_BITS (FMI_SETF_VARIANT_AUTO | FMI_SETF_PRIORS_AUTO)

typedef struct fmi_settings {
  fm_pipeline_opts pipe; /* resolved */
  unsigned variant;      /* fm_nb_variant */
  double alpha, alpha_requested;
  unsigned tfidf, sublinear, length_norm, min_count;
  unsigned priors;       /* fm_priors */
  unsigned calibrate, folds;
  unsigned review;       /* fm_review_policy */
  double review_value;
  unsigned flags;        /* FMI_SETF_* */
  uint64_t n_docs;
  size_t n_grid;
  double grid_alpha[FMI_MAX_GRID], grid_score[FMI_MAX_GRID];
} fmi_settings;

/* Converts public options (NULL = defaults) into settings, validating. */
fm_status fmi_settings_from_opts(const fm_train_opts *opts, fmi_settings *s,
                                 fm_error *err);
void fmi_settings_to_opts(const fmi_settings *s, fm_train_opts *out);
/* FM_OK when two settings produce compatible counts (mergeable);
 * otherwise FM_EMISMATCH naming the first difference. */
fm_status fmi_settings_compatible(const fmi_settings *a,
                                  const fmi_settings *b, fm_error *err);

/* ---- calibration of one head --------------------------------------------- */
typedef struct fmi_calib {
  unsigned method;        /* fm_calibration */
  uint32_t n_items;
  double temperature, platt_a, platt_b, threshold;
  double ece_raw, ece_cal, accuracy;
} fmi_calib;

void fmi_calib_default(fmi_calib *c);

/* Probabilities from raw scores of one head (n >= 1): fills prob[] and
 * returns the index of the best label (ties: the lower index). Platt only
 * changes the spread, never the order. */
size_t fmi_calib_probs(const fmi_calib *c, const double *scores, size_t n,
                       double *prob);

/* Held-out items of one head for fitting: raw scores (n_labels each) and
 * the true label (or SIZE_MAX when the label is unknown to the model). */
typedef struct fmi_calib_items {
  size_t n_labels;
  size_t n, cap;
  double *scores; /* n * n_labels */
  size_t *truth;
} fmi_calib_items;

fm_status fmi_calib_items_add(fmi_calib_items *it, const double *scores,
                              size_t truth);
void fmi_calib_items_free(fmi_calib_items *it);
/* Fits temperature and Platt scaling, keeps whichever has the lower ECE
 * on cross-fitted halves, and sets the review threshold per policy.
 * `fit` false only measures (method none, threshold by policy).
 * Errors: FM_ENOMEM. */
fm_status fmi_calib_fit(const fmi_calib_items *it, unsigned review,
                        double review_value, bool fit, fmi_calib *out,
                        fm_error *err);

/* ECE over (confidence, correct) pairs with FM_ECE_BINS equal bins. */
double fmi_ece(const double *conf, const unsigned char *correct, size_t n);

/* ---- counts --------------------------------------------------------------
 * The truth a model keeps. Invariants: classes are grouped by head
 * (head_first[h] .. head_first[h+1]) and sorted by name (bytes) within a
 * head; features are sorted by id, strictly increasing; each feature's
 * postings are sorted by class, with mass > 0. Strings live in `pool`,
 * NUL-terminated, referenced by offset. Sources of a head sorted, unique. */
typedef struct fmi_counts {
  fmi_buf pool;
  size_t n_heads;
  uint32_t *head_name;   /* pool offsets */
  size_t *head_first;    /* n_heads + 1 */
  size_t *src_first;     /* n_heads + 1 */
  uint32_t *src_name;    /* pool offsets, n_src */
  size_t n_src;
  size_t n_classes;
  uint32_t *class_name;  /* pool offsets */
  uint64_t *class_docs, *class_mass;
  double *class_prior;   /* given prior, or < 0 */
  size_t n_feat;
  uint64_t *feat_id;
  uint32_t *feat_str, *feat_len; /* pool offset and length */
  uint64_t *df;
  size_t *post_off;      /* n_feat + 1 */
  uint32_t *post_class;
  uint64_t *post_mass;
  uint64_t n_docs;
} fmi_counts;

void fmi_counts_free(fmi_counts *c);
static inline const char *fmi_counts_str(const fmi_counts *c, uint32_t off) {
  return c->pool.data + off;
}
/* Appends a NUL-terminated copy of s[0..n) to the pool. */
fm_status fmi_counts_intern(fmi_counts *c, const char *s, size_t n,
                            uint32_t *off);
/* Adds `n` count tables with identical head names into `out` (fresh):
 * labels and sources are unioned, features merged by id. `prior_check`
 * refuses different given priors. Errors: FM_EMISMATCH, FM_ENOMEM. */
fm_status fmi_counts_merge(const fmi_counts *const *in, size_t n,
                           fmi_counts *out, fm_error *err);

/* ---- training documents (kept for cross-validation) -----------------------
 * Each document's features as (feature index into the counts, mass) and
 * its class per head. `hash` is the hash of the text: equal texts always
 * land in the same fold, so duplicates cannot leak across folds. */
typedef struct fmi_docs {
  size_t n, n_heads;
  size_t *off;     /* n + 1 */
  uint32_t *feat;
  uint64_t *mass;
  uint32_t *label; /* n * n_heads; UINT32_MAX = none */
  uint64_t *hash;
} fmi_docs;

void fmi_docs_free(fmi_docs *d);

/* fm_trainer_add after the pipeline: adds one document's features (the
 * test suite feeds synthetic ones). `doc_hash` identifies the text for
 * fold assignment. */
fm_status fmi_trainer_add_features(fm_trainer *tr, const fm_feature *feats,
                                   size_t nf, uint64_t doc_hash,
                                   const char *source,
                                   const char *const *labels, fm_error *err);

/* What fitting on held-out folds decides. */
typedef struct fmi_fit {
  double alpha;
  unsigned variant, priors; /* chosen (or the settings') */
  size_t n_grid;
  double grid_alpha[FMI_MAX_GRID], grid_score[FMI_MAX_GRID];
  fmi_calib *calib; /* n_heads, caller-allocated */
} fmi_fit;

/* Calibration a model gets without fitting: none, threshold by policy. */
void fmi_calib_for_settings(const fmi_settings *s, fmi_calib *c);

/* Chooses alpha (auto) and fits calibration (when on) by K-fold
 * cross-validation over the documents not `excluded` (NULL = none), with
 * counts of the excluded documents subtracted, so the result is what a
 * model trained on the remaining documents would decide. */
fm_status fmi_cv_fit(const fmi_settings *set, const fmi_counts *c,
                     const fmi_docs *d, const unsigned char *excluded,
                     fmi_fit *out, fm_error *err);
/* Makes `name` a label of the evaluation's head (labels are listed in the
 * order they become known). Errors: FM_EINVAL, FM_ENOMEM. */
fm_status fmi_eval_add_label(fm_eval *ev, size_t head, const char *name);

/* Stratified K-fold cross-validation into `ev`. */
fm_status fmi_cv_crossval(const fmi_settings *set, const fmi_counts *c,
                          const fmi_docs *d, unsigned folds, fm_eval *ev,
                          fm_error *err);

/* ---- the scoring math ----------------------------------------------------
 * One place for the formulas, used when the index is built and when folds
 * are scored, so cross-validation measures exactly what the model does.
 *
 * Multinomial: log P(w|c) = log(n_wc + a) - log(N_c + a|V|). Scores drop
 * log a (the same for every class), so
 *   score_c = prior_c + const_c * T + sum_{w seen in c} x_w * delta_wc,
 *   const_c = -log(N_c + a|V|),  delta_wc = log(n_wc + a) - log a,
 * where T is the document's total weight over features of the index.
 * Complement: score_c = -sum_w x_w log((n_w - n_wc + a) / (N - N_c +
 * a|V|)) with n_w, N summed over the head's classes; the part of
 * -log(n_w + a) that does not depend on c is dropped (softmax is
 * shift-invariant), leaving
 *   const_c = log(N - N_c + a|V|),
 *   delta_wc = log(n_w + a) - log(n_w - n_wc + a).
 * Masses here are in real units (already divided by 2^16, idf-weighted). */
static inline double fmi_nb_const(unsigned variant, double n_c, double n_h,
                                  double alpha, double vocab) {
  if (variant == FM_NB_COMPLEMENT) return log(n_h - n_c + alpha * vocab);
  return -log(n_c + alpha * vocab);
}
static inline double fmi_nb_delta(unsigned variant, double n_wc, double n_wh,
                                  double alpha) {
  if (variant == FM_NB_COMPLEMENT) {
    double rest = n_wh - n_wc;
    if (rest < 0) rest = 0; /* rounding of the idf-weighted sums */
    return log(n_wh + alpha) - log(rest + alpha);
  }
  return log(n_wc + alpha) - log(alpha);
}
/* Smoothed idf as scikit-learn's: ln((1 + n) / (1 + df)) + 1. */
static inline double fmi_idf(uint64_t n_docs, uint64_t df) {
  return log((1.0 + (double)n_docs) / (1.0 + (double)df)) + 1.0;
}
/* fmi_idf of every df below FMI_IDF_TABLE for one corpus size: most
 * features occur in a handful of documents, and a log per feature (per
 * fold, in cross-validation) was a visible share of training. The same
 * doubles as fmi_idf. */
#define FMI_IDF_TABLE 256
static inline void fmi_idf_fill(uint64_t n_docs, double *tab) {
  uint64_t df;
  for (df = 0; df < FMI_IDF_TABLE; df++) tab[df] = fmi_idf(n_docs, df);
}
static inline double fmi_idf_from(const double *tab, uint64_t n_docs,
                                  uint64_t df) {
  return df < FMI_IDF_TABLE ? tab[df] : fmi_idf(n_docs, df);
}
/* Document weight of a count before length normalization. */
static inline double fmi_tf(unsigned sublinear, uint32_t count) {
  if (count == 1) return 1.0; /* most features: no log */
  return sublinear ? 1.0 + log((double)count) : (double)count;
}
/* fmi_tf of every count below FMI_TF_TABLE, for a tagger to fill once:
 * the same doubles without a log and a branch per feature (a third of a
 * ticket's features occur more than once). */
#define FMI_TF_TABLE 64
static inline void fmi_tf_fill(unsigned sublinear, double *tab) {
  uint32_t c;
  tab[0] = 0; /* no feature is in a document 0 times (and log 0 is -inf) */
  for (c = 1; c < FMI_TF_TABLE; c++) tab[c] = fmi_tf(sublinear, c);
}
/* A document's feature weights before idf, the same in training, folds
 * and tagging: tf transform (from tf_tab, fmi_tf_fill's, for small
 * counts when given), then length normalization (per kind with
 * FMI_SETF_SPLIT_NORM). */
static inline void fmi_doc_weights(const fmi_settings *s,
                                   const double *tf_tab,
                                   const fm_feature *f, size_t n,
                                   double *x) {
  double ss[2] = {0, 0}, norm[2] = {1, 1};
  bool split = (s->flags & FMI_SETF_SPLIT_NORM) != 0;
  size_t i;
  for (i = 0; i < n; i++) {
    uint32_t c = f[i].count;
    x[i] = tf_tab && c < FMI_TF_TABLE ? tf_tab[c] : fmi_tf(s->sublinear, c);
    ss[split && f[i].kind == FM_FEATURE_CHARGRAM] += x[i] * x[i];
  }
  if (!s->length_norm) return;
  if (ss[0] > 0) norm[0] = sqrt(ss[0]);
  if (ss[1] > 0) norm[1] = sqrt(ss[1]);
  for (i = 0; i < n; i++)
    x[i] /= norm[split && f[i].kind == FM_FEATURE_CHARGRAM];
}
/* Log priors of one head's classes into out[]: given priors where set,
 * the rest of the mass by documents (learned) or evenly (uniform). */
void fmi_log_priors(unsigned mode, const uint64_t *docs, const double *given,
                    size_t n, double *out);

/* ---- the opened model ------------------------------------------------------ */
struct fm_model {
  const unsigned char *base;
  size_t size;
  void *map;          /* mmap'd region (NULL for open_memory) */
  size_t map_len;
  int minor;
  char id[17];
  uint64_t checksum;
  fmi_settings set;
  const char *producer, *unicode_version, *stemmers;
  size_t n_heads, n_classes, n_src;
  const char **head_names;
  size_t *head_first;    /* n_heads + 1 */
  size_t *src_first;     /* n_heads + 1 */
  const char **src_names;
  const char **class_names;
  uint64_t *class_docs, *class_mass;
  double *class_prior;   /* given, or < 0 */
  uint64_t *head_docs;
  fmi_calib *calib;      /* n_heads */
  double *prior, *cnst;  /* index: per class */
  /* sections, bounds-checked at open; entries checked when used */
  const unsigned char *pool;
  size_t pool_len;
  const unsigned char *vocab;
  size_t n_vocab;
  const unsigned char *counts;
  size_t counts_len;
  const unsigned char *slots;
  uint64_t slot_mask;
  uint32_t max_probe;
  const unsigned char *postings; /* blocks of 8-byte units */
  uint64_t n_units, n_post;
  uint64_t n_index_feat;
  /* raw sections for a writer that copies them (calibrate) */
  size_t n_sections;
  uint32_t sec_id[FMI_MAX_SECTIONS], sec_flags[FMI_MAX_SECTIONS];
  uint64_t sec_off[FMI_MAX_SECTIONS], sec_len[FMI_MAX_SECTIONS];
};

static inline float fmi_lef32(const unsigned char *p) {
  uint32_t u = fmi_le32(p);
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}
static inline double fmi_lef64(const unsigned char *p) {
  uint64_t u = fmi_le64(p);
  double d;
  memcpy(&d, &u, sizeof d);
  return d;
}
static inline void fmi_put_lef32(unsigned char *p, float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  fmi_put_le32(p, u);
}
static inline void fmi_put_lef64(unsigned char *p, double d) {
  uint64_t u;
  memcpy(&u, &d, sizeof u);
  fmi_put_le64(p, u);
}

/* Looks a feature id up in the index: its vocabulary row and the unit
 * where its block of postings starts, or false when the model does not
 * score it. Bounded by max_probe, so a crafted table cannot loop. */
static inline bool fmi_model_lookup(const fm_model *m, uint64_t id,
                                    uint32_t *row, uint32_t *block) {
  uint64_t i = id & m->slot_mask;
  uint32_t probe;
  for (probe = 0; probe <= m->max_probe; probe++) {
    const unsigned char *s = m->slots + 16 * i;
    uint32_t r = fmi_le32(s + 8);
    if (r == 0) return false;
    if (fmi_le64(s) == id) {
      if (FMI_UNLIKELY(r > m->n_vocab)) return false;
      *row = r - 1;
      *block = fmi_le32(s + 12);
      return true;
    }
    i = (i + 1) & m->slot_mask;
  }
  return false;
}

/* A block's count word: the number of postings, with this bit set when
 * the block is dense (one f32 per class of the model, classes without a
 * posting 0). Dense when the feature has postings for at least half the
 * classes: it is then no larger, and faster to add. */
#define FMI_BLOCK_DENSE 0x80000000u
static inline bool fmi_block_dense(size_t n, size_t n_classes) {
  return n > 0 && n >= (n_classes + 1) / 2;
}
/* Units (8 bytes) after the header. */
static inline size_t fmi_block_units(size_t n, size_t n_classes) {
  return fmi_block_dense(n, n_classes) ? (n_classes + 1) / 2 : n;
}

/* The block at `unit`: the feature's idf and its weights, either sparse
 * (*n postings of 8 bytes: u32 class, f32 delta) or, with *dense set, one
 * f32 per class of the model; false when it does not fit the section (a
 * crafted file). */
static inline bool fmi_model_block(const fm_model *m, uint32_t unit,
                                   const unsigned char **post, uint32_t *n,
                                   bool *dense, float *idf) {
  const unsigned char *h;
  uint32_t word;
  uint64_t units;
  if (FMI_UNLIKELY(unit >= m->n_units)) return false;
  h = m->postings + 8 * (size_t)unit;
  word = fmi_le32(h);
  *dense = (word & FMI_BLOCK_DENSE) != 0;
  *n = word & ~FMI_BLOCK_DENSE;
  units = *dense ? (m->n_classes + 1) / 2 : *n;
  if (FMI_UNLIKELY(units > m->n_units - unit - 1)) return false;
  *idf = fmi_lef32(h + 4);
  *post = h + 8;
  return true;
}

/* The feature string of a vocabulary row (NULL if the file is bad). */
const char *fmi_model_feature_text(const fm_model *m, size_t row);

/* Decodes a model's counts. Errors: FM_EMODEL, FM_ENOMEM. */
fm_status fmi_model_counts(const fm_model *m, fmi_counts *out,
                           fm_error *err);

/* LEB128 varints for the counts section. Decoding fails (returns 0) on a
 * varint running past `end` or over 10 bytes. */
static inline size_t fmi_varint_put(unsigned char *p, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    p[n++] = (unsigned char)(v | 0x80);
    v >>= 7;
  }
  p[n++] = (unsigned char)v;
  return n;
}
static inline size_t fmi_varint_get(const unsigned char *p,
                                    const unsigned char *end, uint64_t *v) {
  uint64_t r = 0;
  size_t n = 0;
  while (p + n < end && n < 10) {
    unsigned char b = p[n];
    r |= (uint64_t)(b & 0x7f) << (7 * n);
    n++;
    if (!(b & 0x80)) {
      *v = r;
      return n;
    }
  }
  return 0;
}

/* The checksum stored in a model's header: XXH3 of the header bytes before
 * it and of the XXH3 of everything after it (len >= FMI_HDR_BYTES). */
uint64_t fmi_model_checksum(const unsigned char *f, size_t len);

/* ---- writing -------------------------------------------------------------- */
/* Builds a whole model file (settings, counts, derived index, calibration
 * -- NULL = uncalibrated) into a fresh buffer (fmi_malloc). */
fm_status fmi_model_build(const fmi_settings *set, const fmi_counts *c,
                          const fmi_calib *calib, unsigned char **out,
                          size_t *out_len, fm_error *err);
/* A copy of an opened model with the calibration section replaced. */
fm_status fmi_model_recalibrate(const fm_model *m, const fmi_calib *calib,
                                unsigned char **out, size_t *out_len,
                                fm_error *err);
/* Writes bytes to `path` through a temporary file in the same directory,
 * fsync'd and renamed into place. Errors: FM_EIO. */
fm_status fmi_write_file_atomic(const char *path, const void *data,
                                size_t len, fm_error *err);

#endif
