/*
 * classify.c -- fm_tagger_tag: the pipeline's features scored against the
 * model's index, calibrated, ranked and explained.
 *
 * Scoring is sparse (model.h has the formulas): per document feature one
 * hash probe and one pass over the (class, delta) postings of that
 * feature; per class one multiply-add for the length term. Unknown
 * features cost one probe and nothing else. Everything mutable lives in
 * the tagger's scratch, so one model serves any number of threads.
 */
#include "classify.h"
#include "model.h"
#include "tagger.h"

#include <stdlib.h>

/* The explanation item that stands for all character n-grams. */
#define FMI_EXPLAIN_CHARGRAMS "c:*"

typedef struct contrib {
  double w;
  const char *text;
} contrib;

struct fmi_scratch {
  const fm_model *model;
  size_t C, H;
  double tf[FMI_TF_TABLE]; /* fmi_tf_fill's */
  double *acc, *scores, *prob;
  float *accf;      /* dense blocks' sums */
  double *x;        /* per document feature: weight (0 = not in index) */
  uint32_t *rows;   /* per document feature: vocabulary row (UINT32_MAX:
                       not in the index) */
  uint32_t *blocks; /* per document feature: its block of postings */
  size_t feat_cap;
  fm_head_result *heads;
  fm_label_prob *top;
  size_t top_cap;
  fm_explain_item *explain;
  size_t explain_cap;
  contrib *con;
  size_t con_cap;
  fm_result res;
};

fm_status fmi_scratch_new(const fm_model *m, fmi_scratch **out) {
  fmi_scratch *s = fmi_calloc(1, sizeof *s);
  *out = NULL;
  if (!s) return FM_ENOMEM;
  s->model = m;
  s->C = m->n_classes;
  s->H = m->n_heads;
  fmi_tf_fill(m->set.sublinear, s->tf);
  s->acc = fmi_calloc(s->C + 1, sizeof *s->acc);
  s->accf = fmi_calloc(s->C + 4, sizeof *s->accf);
  s->scores = fmi_calloc(s->C + 1, sizeof *s->scores);
  s->prob = fmi_calloc(s->C + 1, sizeof *s->prob);
  s->heads = fmi_calloc(s->H + 1, sizeof *s->heads);
  if (!s->acc || !s->accf || !s->scores || !s->prob || !s->heads) {
    fmi_scratch_free(s);
    return FM_ENOMEM;
  }
  *out = s;
  return FM_OK;
}

void fmi_scratch_free(fmi_scratch *s) {
  if (!s) return;
  fmi_free(s->acc);
  fmi_free(s->accf);
  fmi_free(s->scores);
  fmi_free(s->prob);
  fmi_free(s->x);
  fmi_free(s->rows);
  fmi_free(s->blocks);
  fmi_free(s->heads);
  fmi_free(s->top);
  fmi_free(s->explain);
  fmi_free(s->con);
  fmi_free(s);
}

static bool reserve(void **p, size_t *cap, size_t need, size_t elem) {
  size_t nc = *cap ? *cap : 64, bytes;
  void *q;
  if (need <= *cap) return true;
  while (nc < need) nc *= 2;
  if (fmi_mul_overflows(nc, elem, &bytes)) return false;
  q = fmi_realloc(*p, bytes);
  if (!q) return false;
  *p = q;
  *cap = nc;
  return true;
}

/* Dense blocks (features seen in most classes: in a 1 KB ticket, about
 * half the features and most of the work) are added four floats at a
 * time into a float accumulator; the sum of a few hundred terms keeps
 * about six significant digits, plenty for ranking and probabilities. */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
typedef float fmi_v8f __attribute__((vector_size(32)));
typedef float fmi_v4f __attribute__((vector_size(16)));
/* Eight floats at a time: one AVX2 operation where the CPU has it (GCC's
 * target_clones picks the body at load time through an ifunc, so only
 * where GCC and glibc provide them), two SSE ones otherwise. Every lane
 * is the same multiply then add, never fused, whatever the width: the
 * sums are the same to the bit. Not under ThreadSanitizer: the ifunc
 * resolver runs before TSan's runtime is up, and every program crashed at
 * load. */
#if defined(__x86_64__) && defined(__gnu_linux__) && !defined(__clang__) && \
    defined(__has_attribute) && !defined(__SANITIZE_THREAD__)
#if __has_attribute(target_clones)
#define FMI_DENSE_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef FMI_DENSE_CLONES
#define FMI_DENSE_CLONES
#endif
FMI_DENSE_CLONES
static void add_dense(float *acc, const unsigned char *p, size_t n, float x) {
  fmi_v8f xv8 = {x, x, x, x, x, x, x, x};
  fmi_v4f xv = {x, x, x, x};
  size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    fmi_v8f d, a, t;
    memcpy(&d, p + 4 * k, sizeof d); /* unaligned, little-endian on disk */
    memcpy(&a, acc + k, sizeof a);
    t = xv8 * d;
    a += t;
    memcpy(acc + k, &a, sizeof a);
  }
  for (; k + 4 <= n; k += 4) {
    fmi_v4f d, a, t;
    memcpy(&d, p + 4 * k, sizeof d);
    memcpy(&a, acc + k, sizeof a);
    t = xv * d;
    a += t;
    memcpy(acc + k, &a, sizeof a);
  }
  for (; k < n; k++) {
    float t = x * fmi_lef32(p + 4 * k);
    acc[k] += t;
  }
}
#else
static void add_dense(float *acc, const unsigned char *p, size_t n, float x) {
  size_t k;
  for (k = 0; k < n; k++) acc[k] += x * fmi_lef32(p + 4 * k);
}
#endif

/* How many features ahead the slot and block of a feature are prefetched:
 * a 1 KB ticket has over a thousand features, each a random access into a
 * table of megabytes, so the loop is bound by memory latency unless
 * several misses are in flight at once. */
#define PREFETCH_AHEAD 16

fm_status fmi_score(const fm_model *m, fmi_scratch *s, const fm_analysis *an,
                    const double **scores, fm_error *err) {
  size_t i, C = m->n_classes, nf = an->n_features;
  double T = 0;
  const fm_feature *ft = an->features;
  if (nf > s->feat_cap) {
    size_t cap = s->feat_cap, cap2 = s->feat_cap, cap3 = s->feat_cap;
    if (!reserve((void **)&s->x, &cap, nf, sizeof *s->x) ||
        !reserve((void **)&s->rows, &cap2, nf, sizeof *s->rows) ||
        !reserve((void **)&s->blocks, &cap3, nf, sizeof *s->blocks))
      return fmi_fail(err, FM_ENOMEM, "out of memory scoring");
    s->feat_cap = cap < cap2 ? cap : cap2;
    if (cap3 < s->feat_cap) s->feat_cap = cap3;
  }
  memset(s->acc, 0, C * sizeof *s->acc);
  memset(s->accf, 0, C * sizeof *s->accf);
  /* The same per-document weights as training (train.c); test_classify
   * checks the scores against fmi_doc_weights without the table. */
  fmi_doc_weights(&m->set, s->tf, ft, nf, s->x);
  /* Three stages in flight: prefetch the slot of feature i, look up
   * feature i - A and prefetch its block, add up the block of feature
   * i - 2A. */
  for (i = 0; i < nf + 2 * PREFETCH_AHEAD; i++) {
    size_t j;
    if (i < nf) FMI_PREFETCH(m->slots + 16 * (ft[i].id & m->slot_mask), 0, 0);
    if (i >= PREFETCH_AHEAD && (j = i - PREFETCH_AHEAD) < nf) {
      uint32_t row, block;
      if (fmi_model_lookup(m, ft[j].id, &row, &block)) {
        s->rows[j] = row;
        s->blocks[j] = block;
        if (block < m->n_units)
          FMI_PREFETCH(m->postings + 8 * (size_t)block, 0, 0);
      } else {
        s->rows[j] = UINT32_MAX;
      }
    }
    if (i >= 2 * PREFETCH_AHEAD && (j = i - 2 * PREFETCH_AHEAD) < nf) {
      const unsigned char *p;
      uint32_t n, k;
      float idf;
      bool dense;
      double x;
      if (s->rows[j] == UINT32_MAX) {
        s->x[j] = 0;
        continue;
      }
      if (!fmi_model_block(m, s->blocks[j], &p, &n, &dense, &idf))
        return fmi_fail(err, FM_EMODEL, "corrupt model: posting block");
      x = s->x[j] * (double)idf;
      s->x[j] = x;
      T += x;
      if (dense) {
        add_dense(s->accf, p, C, (float)x);
        continue;
      }
      for (k = 0; k < n; k++, p += 8) {
        uint32_t cls = fmi_le32(p);
        if (FMI_UNLIKELY(cls >= C))
          return fmi_fail(err, FM_EMODEL, "corrupt model: posting label");
        s->acc[cls] += x * (double)fmi_lef32(p + 4);
      }
    }
  }
  for (i = 0; i < C; i++)
    s->scores[i] =
        m->prior[i] + m->cnst[i] * T + (s->acc[i] + (double)s->accf[i]);
  *scores = s->scores;
  return FM_OK;
}

/* delta of (block, class), 0 when the block has no posting for it. */
static double delta_of(const fm_model *m, uint32_t block, size_t cls) {
  const unsigned char *p;
  uint32_t n, k;
  float idf;
  bool dense;
  if (!fmi_model_block(m, block, &p, &n, &dense, &idf)) return 0;
  if (dense) return cls < m->n_classes ? (double)fmi_lef32(p + 4 * cls) : 0;
  for (k = 0; k < n; k++, p += 8) {
    uint32_t c = fmi_le32(p);
    if (c == cls) return (double)fmi_lef32(p + 4);
    if (c > cls) break; /* classes ascend */
  }
  return 0;
}

static int cmp_contrib(const void *a, const void *b) {
  const contrib *x = a, *y = b;
  double ax = fabs(x->w), ay = fabs(y->w);
  int r;
  if (ax != ay) return ax > ay ? -1 : 1;
  r = strcmp(x->text, y->text);
  if (r) return r;
  return x->w > y->w ? -1 : x->w < y->w;
}

static bool source_ok(const fm_model *m, size_t h, const char *source) {
  size_t i;
  if (!source || !source[0] || m->src_first[h + 1] == m->src_first[h])
    return true;
  for (i = m->src_first[h]; i < m->src_first[h + 1]; i++)
    if (!strcmp(m->src_names[i], source)) return true;
  return false;
}

fm_status fm_tagger_tag(fm_tagger *t, const char *text, size_t len,
                        const char *lang, const fm_tag_opts *opts,
                        const fm_result **out, fm_error *err) {
  fm_tag_opts o = FM_TAG_OPTS_INIT;
  const fm_model *m;
  fmi_scratch *s;
  const fm_analysis *an;
  const double *scores;
  size_t h, top_k, explain_k, n_top_total = 0, n_expl_total = 0, nf;
  fm_status st;
  if (!t || !out) return fmi_fail(err, FM_EINVAL, "tagger or out is NULL");
  *out = NULL;
  m = t->model;
  if (!m)
    return fmi_fail(err, FM_EINVAL,
                    "this tagger has no model (created for analysis only)");
  if (opts) {
    if (opts->size < sizeof(size_t) || opts->size > sizeof o)
      return fmi_fail(err, FM_EINVAL, "fm_tag_opts.size is %zu, expected %zu",
                      opts->size, sizeof o);
    memcpy(&o, opts, opts->size);
  }
  top_k = o.top_k ? o.top_k : 3;
  explain_k = o.explain_k ? o.explain_k : 8;
  s = t->score;
  if (!s) {
    if (fmi_scratch_new(m, &s) != FM_OK)
      return fmi_fail(err, FM_ENOMEM, "out of memory");
    t->score = s;
  }
  t->pipe.chargram_text = false; /* scoring needs their ids only */
  st = fmi_pipeline_run(&t->pipe, text, len, lang, err);
  t->pipe.chargram_text = true;
  if (st != FM_OK) return st;
  an = &t->pipe.an;
  nf = an->n_features;
  st = fmi_score(m, s, an, &scores, err);
  if (st != FM_OK) return st;
  /* Room for the top-k and explanation lists of every head. */
  for (h = 0; h < m->n_heads; h++) {
    size_t n = m->head_first[h + 1] - m->head_first[h];
    n_top_total += top_k < n ? top_k : n;
  }
  if (o.flags & FM_TAG_EXPLAIN) {
    size_t per = explain_k < nf ? explain_k : nf;
    if (fmi_mul_overflows(per, m->n_heads, &n_expl_total))
      return fmi_fail(err, FM_ETOOBIG, "explain_k too large");
    if (!reserve((void **)&s->con, &s->con_cap, nf + 1, sizeof *s->con))
      return fmi_fail(err, FM_ENOMEM, "out of memory");
  }
  if (!reserve((void **)&s->top, &s->top_cap, n_top_total + 1,
               sizeof *s->top) ||
      !reserve((void **)&s->explain, &s->explain_cap, n_expl_total + 1,
               sizeof *s->explain))
    return fmi_fail(err, FM_ENOMEM, "out of memory");
  n_top_total = n_expl_total = 0;
  for (h = 0; h < m->n_heads; h++) {
    fm_head_result *r = &s->heads[h];
    const fmi_calib *cal = &m->calib[h];
    size_t f0 = m->head_first[h], n = m->head_first[h + 1] - f0, k, i, b;
    size_t kk = top_k < n ? top_k : n;
    double *prob = s->prob + f0;
    fm_label_prob *top = s->top + n_top_total;
    memset(r, 0, sizeof *r);
    r->head = m->head_names[h];
    r->label = SIZE_MAX;
    if (n == 0 || !source_ok(m, h, o.source)) continue;
    b = fmi_calib_probs(cal, scores + f0, n, prob);
    /* Top-k by probability, ties to the lower index. */
    for (k = 0; k < kk; k++) {
      size_t best = SIZE_MAX;
      for (i = 0; i < n; i++) {
        size_t j;
        bool taken = false;
        for (j = 0; j < k; j++)
          if (top[j].label == i) taken = true;
        if (taken) continue;
        if (best == SIZE_MAX || prob[i] > prob[best]) best = i;
      }
      if (k == 0 && prob[b] >= prob[best]) best = b;
      top[k].label = best;
      top[k].name = m->class_names[f0 + best];
      top[k].prob = prob[best];
    }
    n_top_total += kk;
    r->label = top[0].label;
    r->label_name = top[0].name;
    r->prob = top[0].prob;
    r->needs_review = r->prob < cal->threshold;
    r->top = top;
    r->n_top = kk;
    if ((o.flags & FM_TAG_EXPLAIN) && n > 1) {
      /* Each feature's share of the score gap between the chosen label
       * and the runner-up: x * ((const_b - const_r) + delta_b - delta_r),
       * in calibrated units when a temperature is used. */
      size_t best = r->label, second = SIZE_MAX, nc = 0;
      double scale = cal->method == FM_CALIB_TEMPERATURE
                         ? 1.0 / cal->temperature : 1.0;
      double dconst;
      for (i = 0; i < n; i++)
        if (i != best && (second == SIZE_MAX || scores[f0 + i] > scores[f0 + second]))
          second = i;
      double chars = 0;
      dconst = m->cnst[f0 + best] - m->cnst[f0 + second];
      for (i = 0; i < nf; i++) {
        double w;
        const char *txt;
        if (s->rows[i] == UINT32_MAX) continue;
        w = s->x[i] * (dconst + delta_of(m, s->blocks[i], f0 + best) -
                       delta_of(m, s->blocks[i], f0 + second)) * scale;
        if (w == 0 || !isfinite(w)) continue;
        /* Character n-grams mean nothing to a reader one by one
         * ("c:_t"): they are listed as one item, their sum. */
        if (an->features[i].kind == FM_FEATURE_CHARGRAM) {
          chars += w;
          continue;
        }
        txt = fmi_model_feature_text(m, s->rows[i]);
        s->con[nc].w = w;
        s->con[nc].text = txt ? txt : an->features[i].text;
        nc++;
      }
      if (chars != 0) {
        s->con[nc].w = chars;
        s->con[nc].text = FMI_EXPLAIN_CHARGRAMS;
        nc++;
      }
      qsort(s->con, nc, sizeof *s->con, cmp_contrib);
      if (nc > explain_k) nc = explain_k;
      r->explain = s->explain + n_expl_total;
      r->n_explain = nc;
      for (i = 0; i < nc; i++) {
        s->explain[n_expl_total + i].feature = s->con[i].text;
        s->explain[n_expl_total + i].weight = s->con[i].w;
      }
      n_expl_total += nc;
    }
  }
  s->res.analysis = an;
  s->res.heads = s->heads;
  s->res.n_heads = m->n_heads;
  *out = &s->res;
  return FM_OK;
}
