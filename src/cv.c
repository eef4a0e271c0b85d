/*
 * cv.c -- scoring held-out folds without training K models.
 *
 * Counts add, so the model of "every document but fold k" is the full
 * counts minus fold k's: copy the masses and document frequencies,
 * subtract the fold, recompute what the index builder derives (idf, kept
 * features, class totals, constants) with the same formulas (model.h),
 * and score the fold's documents. Alpha auto, calibration and
 * `feedmine eval --folds` all use this; what they measure is what a model
 * trained on the other folds would do (up to float rounding of the stored
 * weights).
 */
#include "model.h"

#include <stdlib.h>

/* The alpha grid of --alpha auto. Small values matter with TF-IDF and
 * length normalization, where a document's whole mass is a few units.
 * With --variant auto each variant gets the four values that were ever
 * chosen on the evaluation datasets, so the grid still fits one pass. */
static const double alpha_grid[] = {0.003, 0.01, 0.03, 0.1, 0.3, 1.0};
#define N_GRID (sizeof alpha_grid / sizeof alpha_grid[0])
static const double alpha_grid_both[] = {0.01, 0.03, 0.1, 0.3};
#define N_GRID_BOTH (sizeof alpha_grid_both / sizeof alpha_grid_both[0])
/* A grid pass keeps the weights of all alphas of a posting side by side,
 * padded to 8 floats, so one posting is two 4-wide multiply-adds. */
#define GRID_STRIDE 8

#if defined(__GNUC__)
typedef float fmi_v4f __attribute__((vector_size(16)));
#endif

typedef struct cv_work {
  const fmi_settings *set;
  const fmi_counts *c;
  const fmi_docs *d;
  size_t C, F, H, A;
  double alphas[FMI_MAX_GRID], log_alpha[FMI_MAX_GRID];
  unsigned variants[FMI_MAX_GRID]; /* fm_nb_variant of each grid entry */
  unsigned priors;                 /* fm_priors of w->prior */
  bool any_cnb;
  uint64_t *df, *mass, *cdocs;
  uint64_t n_docs;
  double *idf;     /* 0 = not in the index */
  double *ncls;    /* idf-weighted class totals */
  double *nhead;   /* per head */
  size_t *cls_head;
  double vocab;
  double *prior;   /* -inf for classes without documents */
  double *prior_u; /* uniform priors, the same way (priors auto) */
  double *cnst;    /* A * C */
  double *acc;     /* A * C */
  double *scores;  /* A * C */
  /* Weights of the current training set, computed the first time a
   * feature is met after work_prepare (stamp == gen): each query document
   * then costs multiply-adds only, and the logs are paid once per fold. */
  float *delta;    /* postings * (A == 1 ? 1 : GRID_STRIDE) */
  float *accf;     /* C * GRID_STRIDE, the sums of a grid pass */
  uint32_t *stamp; /* per feature */
  uint32_t gen;
} cv_work;

static void work_free(cv_work *w) {
  fmi_free(w->df);
  fmi_free(w->mass);
  fmi_free(w->cdocs);
  fmi_free(w->idf);
  fmi_free(w->ncls);
  fmi_free(w->nhead);
  fmi_free(w->cls_head);
  fmi_free(w->prior);
  fmi_free(w->prior_u);
  fmi_free(w->cnst);
  fmi_free(w->acc);
  fmi_free(w->scores);
  fmi_free(w->delta);
  fmi_free(w->accf);
  fmi_free(w->stamp);
}

static fm_status work_init(cv_work *w, const fmi_settings *set,
                           const fmi_counts *c, const fmi_docs *d,
                           fm_error *err) {
  size_t P = c->post_off[c->n_feat], h, k;
  memset(w, 0, sizeof *w);
  w->set = set;
  w->c = c;
  w->d = d;
  w->C = c->n_classes;
  w->F = c->n_feat;
  w->H = c->n_heads;
  w->df = fmi_malloc((w->F + 1) * sizeof *w->df);
  w->mass = fmi_malloc((P + 1) * sizeof *w->mass);
  w->cdocs = fmi_malloc((w->C + 1) * sizeof *w->cdocs);
  w->idf = fmi_malloc((w->F + 1) * sizeof *w->idf);
  w->ncls = fmi_malloc((w->C + 1) * sizeof *w->ncls);
  w->nhead = fmi_malloc((w->H + 1) * sizeof *w->nhead);
  w->cls_head = fmi_malloc((w->C + 1) * sizeof *w->cls_head);
  w->prior = fmi_malloc((w->C + 1) * sizeof *w->prior);
  w->prior_u = fmi_malloc((w->C + 1) * sizeof *w->prior_u);
  w->priors = set->priors;
  w->cnst = fmi_malloc((FMI_MAX_GRID * w->C + 1) * sizeof *w->cnst);
  w->acc = fmi_malloc((FMI_MAX_GRID * w->C + 1) * sizeof *w->acc);
  w->scores = fmi_malloc((FMI_MAX_GRID * w->C + 1) * sizeof *w->scores);
  w->stamp = fmi_calloc(w->F + 1, sizeof *w->stamp);
  w->delta = P + 1 <= SIZE_MAX / sizeof(float) / FMI_MAX_GRID
                 ? fmi_malloc((P + 1) *
                              (set->alpha_requested < 0 ||
                                       (set->flags & FMI_SETF_VARIANT_AUTO)
                                   ? GRID_STRIDE
                                   : 1) *
                              sizeof *w->delta)
                 : NULL;
  w->accf = fmi_malloc((GRID_STRIDE * w->C + 1) * sizeof *w->accf);
  if (!w->stamp || !w->delta || !w->accf || !w->df || !w->mass || !w->cdocs || !w->idf || !w->ncls || !w->nhead ||
      !w->cls_head || !w->prior || !w->prior_u || !w->cnst || !w->acc || !w->scores) {
    work_free(w);
    return fmi_fail(err, FM_ENOMEM, "out of memory for cross-validation");
  }
  for (h = 0; h < w->H; h++)
    for (k = c->head_first[h]; k < c->head_first[h + 1]; k++)
      w->cls_head[k] = h;
  return FM_OK;
}

/* The grid: n entries of (variant, alpha); variants NULL = the settings'
 * variant for all. */
static void set_alphas(cv_work *w, const double *alphas,
                       const unsigned *variants, size_t n) {
  size_t a;
  w->A = n;
  w->gen++; /* cached weights were for other alphas */
  w->any_cnb = false;
  for (a = 0; a < n; a++) {
    w->alphas[a] = alphas[a];
    w->log_alpha[a] = log(alphas[a]);
    w->variants[a] = variants ? variants[a] : w->set->variant;
    if (w->variants[a] == FM_NB_COMPLEMENT) w->any_cnb = true;
  }
}

/* The posting of class `cls` in feature f's list, or SIZE_MAX. */
static size_t find_posting(const fmi_counts *c, size_t f, uint32_t cls) {
  size_t lo = c->post_off[f], hi = c->post_off[f + 1];
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (c->post_class[mid] < cls)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < c->post_off[f + 1] && c->post_class[lo] == cls ? lo : SIZE_MAX;
}

#define CV_AHEAD 8

/* Statistics of the model trained on every document with excluded[d] == 0. */
static void work_prepare(cv_work *w, const unsigned char *excluded) {
  const fmi_counts *c = w->c;
  const fmi_docs *d = w->d;
  size_t P = c->post_off[w->F], i, e, h, k, f;
  uint64_t min_df = w->set->min_count ? w->set->min_count : 1;
  double n_kept = 0, idf_tab[FMI_IDF_TABLE];
  memcpy(w->df, c->df, w->F * sizeof *w->df);
  memcpy(w->mass, c->post_mass, P * sizeof *w->mass);
  memcpy(w->cdocs, c->class_docs, w->C * sizeof *w->cdocs);
  w->n_docs = c->n_docs;
  for (i = 0; excluded && i < d->n; i++) {
    if (!excluded[i]) continue;
    w->n_docs--;
    for (h = 0; h < w->H; h++) {
      uint32_t cl = d->label[i * w->H + h];
      if (cl != UINT32_MAX) w->cdocs[cl]--;
    }
    for (e = d->off[i]; e < d->off[i + 1]; e++) {
      /* Random accesses into tables of megabytes, independent from one
       * entry to the next: fetched ahead in two steps (the list bounds,
       * then the list and its masses) so several misses overlap. */
      if (e + 2 * CV_AHEAD < d->off[i + 1]) {
        FMI_PREFETCH(&c->post_off[d->feat[e + 2 * CV_AHEAD]], 0, 3);
        FMI_PREFETCH(&w->df[d->feat[e + 2 * CV_AHEAD]], 1, 3);
      }
      if (e + CV_AHEAD < d->off[i + 1]) {
        size_t o = c->post_off[d->feat[e + CV_AHEAD]];
        FMI_PREFETCH(&c->post_class[o], 0, 3);
        FMI_PREFETCH(&w->mass[o], 1, 3);
      }
      f = d->feat[e];
      w->df[f]--;
      for (h = 0; h < w->H; h++) {
        uint32_t cl = d->label[i * w->H + h];
        size_t p;
        if (cl == UINT32_MAX) continue;
        p = find_posting(c, f, cl);
        if (p != SIZE_MAX) w->mass[p] -= d->mass[e];
      }
    }
  }
  w->gen++;
  memset(w->ncls, 0, w->C * sizeof *w->ncls);
  fmi_idf_fill(w->n_docs, idf_tab);
  for (f = 0; f < w->F; f++) {
    double idf;
    if (w->df[f] < min_df) {
      w->idf[f] = 0;
      continue;
    }
    n_kept++;
    idf = w->set->tfidf ? fmi_idf_from(idf_tab, w->n_docs, w->df[f]) : 1.0;
    w->idf[f] = idf;
    for (k = c->post_off[f]; k < c->post_off[f + 1]; k++)
      w->ncls[c->post_class[k]] += idf * (double)w->mass[k] / FMI_MASS_ONE;
  }
  w->vocab = n_kept;
  for (h = 0; h < w->H; h++) {
    size_t a = c->head_first[h], b = c->head_first[h + 1];
    w->nhead[h] = 0;
    for (k = a; k < b; k++) w->nhead[h] += w->ncls[k];
    fmi_log_priors(w->priors, w->cdocs + a, c->class_prior + a, b - a,
                   w->prior + a);
    fmi_log_priors(FM_PRIORS_UNIFORM, w->cdocs + a, c->class_prior + a,
                   b - a, w->prior_u + a);
    for (k = a; k < b; k++)
      if (w->cdocs[k] == 0) w->prior[k] = w->prior_u[k] = -INFINITY;
  }
  for (i = 0; i < w->A; i++)
    for (k = 0; k < w->C; k++)
      w->cnst[i * w->C + k] =
          fmi_nb_const(w->variants[i], w->ncls[k], w->nhead[w->cls_head[k]],
                       w->alphas[i], w->vocab);
}

/* The weights of feature f's postings for every alpha (see model.h;
 * float, as the index stores them). */
static void compute_deltas(cv_work *w, size_t f) {
  const fmi_counts *c = w->c;
  size_t A = w->A, k = c->post_off[f], b = c->post_off[f + 1], a;
  size_t stride = A == 1 ? 1 : GRID_STRIDE;
  double idf = w->idf[f];
  bool cnb = w->any_cnb;
  while (k < b) {
    size_t j = k, hh = w->cls_head[c->post_class[k]];
    double n_wh = 0;
    if (cnb) {
      while (j < b && w->cls_head[c->post_class[j]] == hh)
        n_wh += idf * (double)w->mass[j++] / FMI_MASS_ONE;
    } else {
      j = b;
    }
    for (; k < j; k++) {
      float *dst = w->delta + k * stride;
      for (a = A; a < stride; a++) dst[a] = 0;
      double n_wc = idf * (double)w->mass[k] / FMI_MASS_ONE;
      if (!w->mass[k]) {
        for (a = 0; a < A; a++) dst[a] = 0;
      } else if (cnb) {
        for (a = 0; a < A; a++)
          dst[a] = w->variants[a] == FM_NB_COMPLEMENT
                       ? (float)fmi_nb_delta(FM_NB_COMPLEMENT, n_wc, n_wh,
                                             w->alphas[a])
                       : (float)(log(n_wc + w->alphas[a]) - w->log_alpha[a]);
      } else {
        /* fmi_nb_delta's multinomial case, with log a hoisted */
        for (a = 0; a < A; a++)
          dst[a] = (float)(log(n_wc + w->alphas[a]) - w->log_alpha[a]);
      }
    }
  }
  w->stamp[f] = w->gen;
}

/* Scores document `doc` for every alpha into w->scores (A x C). */
static void work_score(cv_work *w, size_t doc) {
  const fmi_counts *c = w->c;
  const fmi_docs *d = w->d;
  size_t A = w->A, C = w->C, e, a, k;
  double T = 0;
  bool idf_q = (w->set->flags & FMI_SETF_IDF_QUERY) != 0;
  if (A == 1)
    memset(w->acc, 0, C * sizeof *w->acc);
  else
    memset(w->accf, 0, GRID_STRIDE * C * sizeof *w->accf);
  for (e = d->off[doc]; e < d->off[doc + 1]; e++) {
    size_t f = d->feat[e], b = c->post_off[f + 1];
    double idf = w->idf[f], x;
    if (idf == 0) continue;
    if (w->stamp[f] != w->gen) compute_deltas(w, f);
    x = (double)d->mass[e] / FMI_MASS_ONE * (idf_q ? idf : 1.0);
    T += x;
    if (A == 1) {
      for (k = c->post_off[f]; k < b; k++)
        w->acc[c->post_class[k]] += x * w->delta[k];
    } else {
      /* [class][alpha] in floats: the grid only ranks alphas and feeds
       * calibration, where six significant digits are plenty */
      float xf = (float)x;
      for (k = c->post_off[f]; k < b; k++) {
        const float *dl = w->delta + k * GRID_STRIDE;
        float *acc = w->accf + (size_t)c->post_class[k] * GRID_STRIDE;
#if defined(__GNUC__)
        fmi_v4f xv = {xf, xf, xf, xf}, d0, d1, a0, a1;
        memcpy(&d0, dl, sizeof d0);
        memcpy(&d1, dl + 4, sizeof d1);
        memcpy(&a0, acc, sizeof a0);
        memcpy(&a1, acc + 4, sizeof a1);
        a0 += xv * d0;
        a1 += xv * d1;
        memcpy(acc, &a0, sizeof a0);
        memcpy(acc + 4, &a1, sizeof a1);
#else
        for (a = 0; a < GRID_STRIDE; a++) acc[a] += xf * dl[a];
#endif
      }
    }
  }
  if (A == 1) {
    for (k = 0; k < C; k++)
      w->scores[k] = w->prior[k] + w->cnst[k] * T + w->acc[k];
  } else {
    for (a = 0; a < A; a++)
      for (k = 0; k < C; k++)
        w->scores[a * C + k] = w->prior[k] + w->cnst[a * C + k] * T +
                               (double)w->accf[k * GRID_STRIDE + a];
  }
}

/* ---- fold assignment -------------------------------------------------------- */

typedef struct fold_item {
  uint32_t group;
  uint64_t key;
  size_t doc;
} fold_item;

static int cmp_fold_item(const void *a, const void *b) {
  const fold_item *x = a, *y = b;
  if (x->group != y->group) return x->group < y->group ? -1 : 1;
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  return x->doc < y->doc ? -1 : x->doc > y->doc;
}

/* Stratified by the first head's class: within a class, documents in
 * hash order are dealt round-robin; equal texts form one run and share a
 * fold. Deterministic and independent of document order. Documents with
 * excluded[d] set get fold UINT32_MAX. */
static fm_status assign_folds(const fmi_docs *d, const unsigned char *excluded,
                              unsigned K, uint64_t seed, uint32_t *fold,
                              size_t *n_in, fm_error *err) {
  fold_item *it = fmi_malloc((d->n + 1) * sizeof *it);
  size_t i, n = 0, run = 0;
  if (!it) return fmi_fail(err, FM_ENOMEM, "out of memory assigning folds");
  for (i = 0; i < d->n; i++) {
    unsigned char buf[16];
    fold[i] = UINT32_MAX;
    if (excluded && excluded[i]) continue;
    fmi_put_le64(buf, d->hash[i]);
    fmi_put_le64(buf + 8, seed);
    it[n].group = d->label[i * d->n_heads];
    it[n].key = fmi_hash64(buf, sizeof buf);
    it[n].doc = i;
    n++;
  }
  qsort(it, n, sizeof *it, cmp_fold_item);
  for (i = 0; i < n; i++) {
    if (i > 0 && (it[i].group != it[i - 1].group ||
                  d->hash[it[i].doc] != d->hash[it[i - 1].doc]))
      run++;
    fold[it[i].doc] = (uint32_t)(run % K);
  }
  fmi_free(it);
  *n_in = n;
  return FM_OK;
}

static size_t best_of(const double *s, size_t n) {
  size_t i, b = 0;
  for (i = 1; i < n; i++)
    if (s[i] > s[b]) b = i;
  return b;
}

static bool has_label(const fmi_docs *d, size_t doc) {
  size_t h;
  for (h = 0; h < d->n_heads; h++)
    if (d->label[doc * d->n_heads + h] != UINT32_MAX) return true;
  return false;
}

/* Documents in an order that does not depend on the order they were
 * added: by text hash, then labels (equal texts with equal labels score
 * the same, so their relative order cannot matter). Held-out items are
 * collected in this order, which keeps calibration order-independent. */
typedef struct order_item {
  const fmi_docs *d;
  size_t doc;
} order_item;

static int cmp_order(const void *a, const void *b) {
  const order_item *x = a, *y = b;
  const fmi_docs *d = x->d;
  size_t h;
  if (d->hash[x->doc] != d->hash[y->doc])
    return d->hash[x->doc] < d->hash[y->doc] ? -1 : 1;
  for (h = 0; h < d->n_heads; h++) {
    uint32_t p = d->label[x->doc * d->n_heads + h];
    uint32_t q = d->label[y->doc * d->n_heads + h];
    if (p != q) return p < q ? -1 : 1;
  }
  return 0;
}

static size_t *canonical_order(const fmi_docs *d) {
  order_item *it = fmi_malloc((d->n + 1) * sizeof *it);
  size_t *order = fmi_malloc((d->n + 1) * sizeof *order), i;
  if (!it || !order) {
    fmi_free(it);
    fmi_free(order);
    return NULL;
  }
  for (i = 0; i < d->n; i++) {
    it[i].d = d;
    it[i].doc = i;
  }
  qsort(it, d->n, sizeof *it, cmp_order);
  for (i = 0; i < d->n; i++) order[i] = it[i].doc;
  fmi_free(it);
  return order;
}

/* A head can be scored when some class has documents. */
static bool head_alive(const cv_work *w, size_t h) {
  size_t k;
  for (k = w->c->head_first[h]; k < w->c->head_first[h + 1]; k++)
    if (w->cdocs[k]) return true;
  return false;
}

/* What one (grid entry, prior mode) gets right on the held-out folds:
 * per head documents and correct ones, per class true positives, false
 * positives and false negatives. */
typedef struct grid_tally {
  uint64_t *n_ok, *n_all; /* [entry][mode][head] */
  uint64_t *tp, *fp, *fn; /* [entry][mode][class] */
} grid_tally;

#define N_MODES 2 /* prior modes tried: the settings' (learned) and uniform */

/* Choosing among a few settings and fitting two calibration parameters
 * need a few thousand held-out documents, not all of them: beyond this
 * many, a fixed pseudo-random sample (by text hash, so independent of the
 * order, and equal texts together) is scored. Every held-out document is
 * still scored by a model of all the other folds' documents. */
#define FIT_MAX_HELD_OUT 5000

static bool fit_sampled(const fmi_docs *d, size_t doc, size_t n_in) {
  uint64_t h = d->hash[doc] * 0x9E3779B97F4A7C15ULL;
  if (n_in <= FIT_MAX_HELD_OUT) return true;
  return (h >> 32) * (uint64_t)n_in >> 32 < FIT_MAX_HELD_OUT;
}

/* The choice criterion: mean over heads of (accuracy + macro-F1) / 2.
 * Accuracy alone favours the big labels (smoothing that drowns a rare
 * label still wins on accuracy); the mean keeps both. Macro-F1 over the
 * head's labels present in the truth or the predictions. */
static double grid_score(const grid_tally *t, const fmi_counts *c, size_t H,
                         size_t em) {
  double sum = 0;
  size_t h, k, nh = 0, C = c->n_classes;
  for (h = 0; h < H; h++) {
    double f1 = 0;
    size_t nl = 0;
    if (!t->n_all[em * H + h]) continue;
    for (k = c->head_first[h]; k < c->head_first[h + 1]; k++) {
      uint64_t tp = t->tp[em * C + k], fp = t->fp[em * C + k],
               fn = t->fn[em * C + k];
      if (tp + fp + fn == 0) continue;
      f1 += 2.0 * (double)tp / (double)(2 * tp + fp + fn);
      nl++;
    }
    sum += ((double)t->n_ok[em * H + h] / (double)t->n_all[em * H + h] +
            (nl ? f1 / (double)nl : 0)) / 2;
    nh++;
  }
  return nh ? sum / (double)nh : 0;
}

fm_status fmi_cv_fit(const fmi_settings *set, const fmi_counts *c,
                     const fmi_docs *d, const unsigned char *excluded,
                     fmi_fit *out, fm_error *err) {
  cv_work w;
  uint32_t *fold = NULL;
  unsigned char *ex = NULL;
  grid_tally t;
  fmi_calib_items *items = NULL, *grid_items = NULL;
  size_t *order = NULL, oi;
  size_t n_in = 0, i, a, h, A = 0, H = c->n_heads, C = c->n_classes, best = 0;
  size_t n_modes, best_mode = 0;
  double *fold_pl = NULL, *fold_pu = NULL; /* per fold: the two priors */
  size_t *fold_end = NULL; /* per fold and head: items kept so far */
  unsigned K = set->folds, j, m;
  bool auto_alpha = set->alpha_requested < 0;
  bool auto_variant = (set->flags & FMI_SETF_VARIANT_AUTO) != 0;
  bool auto_priors = (set->flags & FMI_SETF_PRIORS_AUTO) != 0;
  double galpha[FMI_MAX_GRID];
  unsigned gvariant[FMI_MAX_GRID];
  size_t ng = 0;
  fm_status st;
  memset(&t, 0, sizeof t);
  out->alpha = set->alpha;
  out->variant = set->variant;
  out->priors = set->priors;
  out->n_grid = 0;
  for (h = 0; h < H; h++) fmi_calib_for_settings(set, &out->calib[h]);
  st = work_init(&w, set, c, d, err);
  if (st != FM_OK) return st;
  /* Scores are computed with learned priors when the mode is chosen; the
   * uniform mode is the same sums with other per-label constants. */
  if (auto_priors) w.priors = FM_PRIORS_LEARNED;
  n_modes = auto_priors ? N_MODES : 1;
  fold = fmi_malloc((d->n + 1) * sizeof *fold);
  ex = fmi_malloc(d->n + 1);
  t.n_ok = fmi_calloc(FMI_MAX_GRID * N_MODES * H, sizeof *t.n_ok);
  t.n_all = fmi_calloc(FMI_MAX_GRID * N_MODES * H, sizeof *t.n_all);
  t.tp = fmi_calloc(FMI_MAX_GRID * N_MODES * C + 1, sizeof *t.tp);
  t.fp = fmi_calloc(FMI_MAX_GRID * N_MODES * C + 1, sizeof *t.fp);
  t.fn = fmi_calloc(FMI_MAX_GRID * N_MODES * C + 1, sizeof *t.fn);
  items = fmi_calloc(H, sizeof *items);
  order = canonical_order(d);
  fold_pl = fmi_malloc((K * C + 1) * sizeof *fold_pl);
  fold_pu = fmi_malloc((K * C + 1) * sizeof *fold_pu);
  fold_end = fmi_calloc(K * H + 1, sizeof *fold_end);
  if (!fold_pl || !fold_pu || !fold_end) goto nomem;
  if (!fold || !ex || !t.n_ok || !t.n_all || !t.tp || !t.fp || !t.fn ||
      !items || !order)
    goto nomem;
  for (h = 0; h < H; h++)
    items[h].n_labels = c->head_first[h + 1] - c->head_first[h];
  st = assign_folds(d, excluded, K, 1, fold, &n_in, err);
  if (st != FM_OK) goto done;
  if (n_in < 2) goto done; /* nothing to hold out: keep the defaults */
  if (n_in < K) K = (unsigned)n_in;
  /* The grid: (variant, alpha) pairs; complement first, so that ties go
   * to multinomial, and alphas ascending, so that ties go to the larger
   * (smoother) one. */
  for (m = 0; m < 2; m++) {
    unsigned v = m == 0 ? FM_NB_COMPLEMENT : FM_NB_MULTINOMIAL;
    const double *grid = auto_variant ? alpha_grid_both : alpha_grid;
    size_t n = auto_variant ? N_GRID_BOTH : N_GRID, g;
    if (!auto_variant && v != set->variant) continue;
    if (!auto_alpha) {
      grid = &set->alpha;
      n = 1;
    }
    for (g = 0; g < n && ng < FMI_MAX_GRID; g++) {
      galpha[ng] = grid[g];
      gvariant[ng++] = v;
    }
  }
  set_alphas(&w, galpha, gvariant, ng);
  A = w.A;
  /* With several entries, the held-out scores of every entry are kept for
   * calibration when they fit in 256 MB; otherwise a second pass scores
   * the chosen one again. Kept scores carry learned priors: when uniform
   * ones are chosen, each fold's are swapped in afterwards. */
  if (set->calibrate && (A > 1 || auto_priors)) {
    size_t per_doc = 0, bytes;
    for (h = 0; h < H; h++) per_doc += c->head_first[h + 1] - c->head_first[h];
    if (!fmi_mul_overflows(per_doc * A * sizeof(double), n_in, &bytes) &&
        bytes <= ((size_t)256 << 20)) {
      grid_items = fmi_calloc(A * H, sizeof *grid_items);
      if (!grid_items) goto nomem;
      for (a = 0; a < A; a++)
        for (h = 0; h < H; h++)
          grid_items[a * H + h].n_labels = items[h].n_labels;
    }
  }
  /* Pass 1: what each grid entry and prior mode gets right, and the
   * calibration items. */
  for (j = 0; j < K; j++) {
    for (i = 0; i < d->n; i++)
      ex[i] = (excluded && excluded[i]) || fold[i] == j;
    work_prepare(&w, ex);
    memcpy(fold_pl + (size_t)j * C, w.prior, C * sizeof *fold_pl);
    memcpy(fold_pu + (size_t)j * C, w.prior_u, C * sizeof *fold_pu);
    for (oi = 0; oi < d->n; oi++) {
      i = order[oi];
      if (fold[i] != j || !has_label(d, i) || !fit_sampled(d, i, n_in))
        continue;
      work_score(&w, i);
      for (h = 0; h < H; h++) {
        uint32_t tr = d->label[i * H + h];
        size_t f0 = c->head_first[h], nl = c->head_first[h + 1] - f0, k;
        if (tr == UINT32_MAX || !head_alive(&w, h)) continue;
        for (a = 0; a < A; a++) {
          const double *sc = w.scores + a * w.C + f0;
          for (m = 0; m < n_modes; m++) {
            size_t em = a * N_MODES + m, pred = 0;
            if (m == 0) {
              pred = best_of(sc, nl) + f0;
            } else {
              /* uniform: the learned prior swapped for the uniform one */
              double bs = -INFINITY;
              for (k = 0; k < nl; k++) {
                double v = sc[k] - w.prior[f0 + k] + w.prior_u[f0 + k];
                if (k == 0 || v > bs) {
                  bs = v;
                  pred = f0 + k;
                }
              }
            }
            t.n_all[em * H + h]++;
            if (pred == tr) {
              t.n_ok[em * H + h]++;
              t.tp[em * C + tr]++;
            } else {
              t.fp[em * C + pred]++;
              t.fn[em * C + tr]++;
            }
          }
        }
        if (A == 1 && !auto_priors && set->calibrate &&
            fmi_calib_items_add(&items[h], w.scores + f0, tr - f0) != FM_OK)
          goto nomem;
        for (a = 0; grid_items && a < A; a++)
          if (fmi_calib_items_add(&grid_items[a * H + h],
                                  w.scores + a * w.C + f0, tr - f0) != FM_OK)
            goto nomem;
      }
    }
    for (h = 0; grid_items && h < H; h++)
      fold_end[(size_t)j * H + h] = grid_items[h].n;
  }
  /* The best entry and mode; ties as the grid order says, and learned
   * priors over uniform ones. */
  {
    double best_score = -1;
    for (a = 0; a < A; a++)
      for (m = (unsigned)n_modes; m-- > 0;) {
        double sc = grid_score(&t, c, H, a * N_MODES + m);
        if (sc >= best_score) {
          best_score = sc;
          best = a;
          best_mode = m;
        }
      }
    /* The grid shown with the model: the chosen variant's alphas, scored
     * in the chosen prior mode. */
    if (auto_alpha)
      for (a = 0; a < A && out->n_grid < FMI_MAX_GRID; a++)
        if (w.variants[a] == w.variants[best]) {
          out->grid_alpha[out->n_grid] = w.alphas[a];
          out->grid_score[out->n_grid++] =
              grid_score(&t, c, H, a * N_MODES + best_mode);
        }
    out->alpha = w.alphas[best];
    out->variant = w.variants[best];
    if (auto_priors)
      out->priors = best_mode == 0 ? FM_PRIORS_LEARNED : FM_PRIORS_UNIFORM;
  }
  if (grid_items) {
    for (h = 0; h < H; h++) {
      fmi_calib_items tmp = items[h];
      items[h] = grid_items[best * H + h];
      grid_items[best * H + h] = tmp;
    }
    if (out->priors == FM_PRIORS_UNIFORM && auto_priors)
      for (h = 0; h < H; h++) {
        size_t f0 = c->head_first[h], nl = items[h].n_labels, from = 0, k;
        for (j = 0; j < K; j++) {
          const double *pl = fold_pl + (size_t)j * C + f0;
          const double *pu = fold_pu + (size_t)j * C + f0;
          size_t to = fold_end[(size_t)j * H + h];
          for (i = from; i < to; i++)
            for (k = 0; k < nl; k++)
              if (isfinite(pl[k])) items[h].scores[i * nl + k] += pu[k] - pl[k];
          from = to;
        }
      }
  } else if (set->calibrate && (A > 1 || auto_priors)) {
    /* Pass 2: scores of the chosen entry and priors for calibration. */
    set_alphas(&w, &out->alpha, &out->variant, 1);
    w.priors = out->priors;
    for (j = 0; j < K; j++) {
      for (i = 0; i < d->n; i++)
        ex[i] = (excluded && excluded[i]) || fold[i] == j;
      work_prepare(&w, ex);
      for (oi = 0; oi < d->n; oi++) {
        i = order[oi];
        if (fold[i] != j || !has_label(d, i) || !fit_sampled(d, i, n_in))
          continue;
        work_score(&w, i);
        for (h = 0; h < H; h++) {
          uint32_t tr = d->label[i * H + h];
          size_t f0 = c->head_first[h];
          if (tr == UINT32_MAX || !head_alive(&w, h)) continue;
          if (fmi_calib_items_add(&items[h], w.scores + f0, tr - f0) != FM_OK)
            goto nomem;
        }
      }
    }
  }
  if (set->calibrate)
    for (h = 0; h < H; h++) {
      if (!items[h].n) continue;
      st = fmi_calib_fit(&items[h], set->review, set->review_value, true,
                         &out->calib[h], err);
      if (st != FM_OK) goto done;
    }
  st = FM_OK;
  goto done;
nomem:
  st = fmi_fail(err, FM_ENOMEM, "out of memory for cross-validation");
done:
  if (items)
    for (h = 0; h < H; h++) fmi_calib_items_free(&items[h]);
  fmi_free(items);
  if (grid_items)
    for (i = 0; i < A * H; i++) fmi_calib_items_free(&grid_items[i]);
  fmi_free(grid_items);
  fmi_free(order);
  fmi_free(fold);
  fmi_free(ex);
  fmi_free(t.n_ok);
  fmi_free(t.n_all);
  fmi_free(t.tp);
  fmi_free(t.fp);
  fmi_free(t.fn);
  fmi_free(fold_pl);
  fmi_free(fold_pu);
  fmi_free(fold_end);
  work_free(&w);
  return st;
}

fm_status fmi_cv_crossval(const fmi_settings *set, const fmi_counts *c,
                          const fmi_docs *d, unsigned K, fm_eval *ev,
                          fm_error *err) {
  cv_work w;
  uint32_t *fold = NULL;
  unsigned char *ex = NULL;
  double *prob = NULL;
  fmi_fit fit;
  size_t n_in, i, h, H = c->n_heads;
  unsigned k;
  fm_status st;
  memset(&fit, 0, sizeof fit);
  if (fm_eval_head_count(ev) != H)
    return fmi_fail(err, FM_EINVAL, "the evaluation has %zu heads, not %zu",
                    fm_eval_head_count(ev), H);
  st = work_init(&w, set, c, d, err);
  if (st != FM_OK) return st;
  fold = fmi_malloc((d->n + 1) * sizeof *fold);
  ex = fmi_malloc(d->n + 1);
  prob = fmi_malloc((c->n_classes + 1) * sizeof *prob);
  fit.calib = fmi_calloc(H, sizeof *fit.calib);
  if (!fold || !ex || !prob || !fit.calib) goto nomem;
  st = assign_folds(d, NULL, K, 0, fold, &n_in, err);
  if (st != FM_OK) goto done;
  /* Labels in model order (sorted), not in the order folds meet them. */
  for (h = 0; h < H; h++)
    for (i = c->head_first[h]; i < c->head_first[h + 1]; i++)
      if (fmi_eval_add_label(ev, h, fmi_counts_str(c, c->class_name[i])) !=
          FM_OK)
        goto nomem;
  for (k = 0; k < K; k++) {
    for (i = 0; i < d->n; i++) ex[i] = fold[i] == k;
    /* Alpha and calibration from the other folds only. */
    if (set->alpha_requested < 0 || set->calibrate ||
        (set->flags & (FMI_SETF_VARIANT_AUTO | FMI_SETF_PRIORS_AUTO))) {
      st = fmi_cv_fit(set, c, d, ex, &fit, err);
      if (st != FM_OK) goto done;
    } else {
      fit.alpha = set->alpha;
      fit.variant = set->variant;
      fit.priors = set->priors;
      for (h = 0; h < H; h++) fmi_calib_for_settings(set, &fit.calib[h]);
    }
    set_alphas(&w, &fit.alpha, &fit.variant, 1);
    w.priors = fit.priors;
    work_prepare(&w, ex);
    for (i = 0; i < d->n; i++) {
      if (fold[i] != k || !has_label(d, i)) continue;
      work_score(&w, i);
      for (h = 0; h < H; h++) {
        uint32_t t = d->label[i * H + h];
        size_t f0 = c->head_first[h], nl = c->head_first[h + 1] - f0, b;
        if (t == UINT32_MAX) continue;
        if (!head_alive(&w, h)) continue;
        b = fmi_calib_probs(&fit.calib[h], w.scores + f0, nl, prob);
        st = fm_eval_add(ev, h, fmi_counts_str(c, c->class_name[t]),
                         fmi_counts_str(c, c->class_name[f0 + b]), prob[b],
                         prob[b] < fit.calib[h].threshold, err);
        if (st != FM_OK) goto done;
      }
    }
  }
  st = FM_OK;
  goto done;
nomem:
  st = fmi_fail(err, FM_ENOMEM, "out of memory for cross-validation");
done:
  fmi_free(fold);
  fmi_free(ex);
  fmi_free(prob);
  fmi_free(fit.calib);
  work_free(&w);
  return st;
}
