/*
 * calibrate.c -- turning naive Bayes scores into probabilities one can act
 * on, and the needs_review threshold.
 *
 * Naive Bayes scores are sums of many correlated log-ratios, so a softmax
 * of them is far too sure of itself. Two one- or two-parameter maps are
 * fit on held-out scores (out-of-fold at training time, or documents given
 * to `feedmine calibrate`):
 *   - temperature: softmax(score / T), T by maximum likelihood (Newton on
 *     1/T, where the negative log-likelihood is convex);
 *   - Platt: sigmoid(a * z + b) for the top label's probability, z its
 *     logit under the plain softmax, the other labels rescaled.
 * Each is fit on one half of the items and its ECE measured on the other
 * half, both ways; the lower cross-fitted ECE wins and is refit on all,
 * except that a Platt fit which would tie the top label with the runner-up
 * on any item is refused (see platt_clamps).
 */
#include "model.h"
#include "classify.h"
#include "pipeline.h"

#include <stdlib.h>

size_t fmi_calib_probs(const fmi_calib *c, const double *s, size_t n,
                       double *prob) {
  size_t i, b = 0;
  double mx, scale = 1, sum = 0;
  if (n == 0) return 0;
  for (i = 1; i < n; i++)
    if (s[i] > s[b]) b = i;
  mx = s[b];
  if (!(mx > -INFINITY) || !isfinite(mx)) {
    /* No usable score (a crafted model, or no label with documents). */
    for (i = 0; i < n; i++) prob[i] = 1.0 / (double)n;
    return b;
  }
  if (c && c->method == FM_CALIB_TEMPERATURE) scale = 1.0 / c->temperature;
  for (i = 0; i < n; i++) {
    double e = s[i] > -INFINITY ? exp((s[i] - mx) * scale) : 0;
    prob[i] = e;
    sum += e;
  }
  for (i = 0; i < n; i++) prob[i] /= sum;
  if (c && c->method == FM_CALIB_PLATT && n > 1) {
    double rest = 0, second = 0, z, pb, lb, r;
    for (i = 0; i < n; i++)
      if (i != b) {
        rest += prob[i];
        if (prob[i] > second) second = prob[i];
      }
    /* logit of the top probability, computed without 1 - p cancelling */
    z = rest > 0 ? log(prob[b]) - log(rest) : 50;
    if (z > 50) z = 50;
    pb = 1.0 / (1.0 + exp(-(c->platt_a * z + c->platt_b)));
    if (rest > 0) {
      /* Never let the rescaled runner-up overtake the top label. */
      lb = second / (rest + second);
      if (pb < lb) pb = lb;
      r = (1 - pb) / rest;
      for (i = 0; i < n; i++)
        if (i != b) prob[i] *= r;
      prob[b] = pb;
    }
  }
  return b;
}

double fmi_ece(const double *conf, const unsigned char *correct, size_t n) {
  double cnt[FM_ECE_BINS] = {0}, sc[FM_ECE_BINS] = {0}, sa[FM_ECE_BINS] = {0};
  double e = 0;
  size_t i;
  if (n == 0) return 0;
  for (i = 0; i < n; i++) {
    int bin = (int)(conf[i] * FM_ECE_BINS);
    if (bin >= FM_ECE_BINS) bin = FM_ECE_BINS - 1;
    if (bin < 0) bin = 0;
    cnt[bin]++;
    sc[bin] += conf[i];
    sa[bin] += correct[i];
  }
  for (i = 0; i < FM_ECE_BINS; i++)
    if (cnt[i] > 0) e += fabs(sa[i] - sc[i]) / (double)n;
  return e;
}

fm_status fmi_calib_items_add(fmi_calib_items *it, const double *scores,
                              size_t truth) {
  if (it->n == it->cap) {
    size_t nc = it->cap ? it->cap * 2 : 256, bytes;
    double *s;
    size_t *t;
    if (fmi_mul_overflows(nc, it->n_labels * sizeof *s, &bytes))
      return FM_ENOMEM;
    s = fmi_realloc(it->scores, bytes ? bytes : 1);
    if (!s) return FM_ENOMEM;
    it->scores = s;
    t = fmi_realloc(it->truth, nc * sizeof *t);
    if (!t) return FM_ENOMEM;
    it->truth = t;
    it->cap = nc;
  }
  memcpy(it->scores + it->n * it->n_labels, scores,
         it->n_labels * sizeof *scores);
  it->truth[it->n++] = truth;
  return FM_OK;
}

void fmi_calib_items_free(fmi_calib_items *it) {
  fmi_free(it->scores);
  fmi_free(it->truth);
  memset(it, 0, sizeof *it);
}

/* Per-item quantities every fit and measurement needs, computed once:
 * the top label, whether it is right, the scores shifted so the top one is
 * 0, the top label's logit z under the plain softmax and the least
 * probability Platt may give it (see fmi_calib_probs). */
typedef struct prep {
  size_t n, L;
  double *d;          /* n * L shifted scores (-inf stays -inf) */
  size_t *truth;
  unsigned char *ok;
  double *z, *lb;
} prep;

static void prep_free(prep *p) {
  fmi_free(p->d);
  fmi_free(p->truth);
  fmi_free(p->ok);
  fmi_free(p->z);
  fmi_free(p->lb);
}

static bool prep_init(prep *p, const fmi_calib_items *it) {
  size_t i, k, L = it->n_labels, n = it->n;
  memset(p, 0, sizeof *p);
  p->n = n;
  p->L = L;
  p->d = fmi_malloc((n * L + 1) * sizeof *p->d);
  p->truth = fmi_malloc((n + 1) * sizeof *p->truth);
  p->ok = fmi_malloc(n + 1);
  p->z = fmi_malloc((n + 1) * sizeof *p->z);
  p->lb = fmi_malloc((n + 1) * sizeof *p->lb);
  if (!p->d || !p->truth || !p->ok || !p->z || !p->lb) {
    prep_free(p);
    return false;
  }
  for (i = 0; i < n; i++) {
    const double *s = it->scores + i * L;
    double *d = p->d + i * L, rest = 0, second = 0;
    size_t b = 0;
    for (k = 1; k < L; k++)
      if (s[k] > s[b]) b = k;
    for (k = 0; k < L; k++) {
      d[k] = s[b] > -INFINITY && s[k] > -INFINITY ? s[k] - s[b] : -INFINITY;
      if (k != b && d[k] > -INFINITY) {
        double e = exp(d[k]);
        rest += e;
        if (e > second) second = e;
      }
    }
    p->truth[i] = it->truth[i];
    p->ok[i] = b == it->truth[i];
    p->z[i] = rest > 0 ? -log(rest) : 50;
    if (p->z[i] > 50) p->z[i] = 50;
    p->lb[i] = rest > 0 ? second / (rest + second) : 0;
  }
  return true;
}

/* Items are split in halves by a hash of their position (0, 1; 2 = all),
 * not by parity: held-out items arrive in fold and document order, which
 * may be anything but random. */
static bool pick(size_t i, int part) {
  return part == 2 ||
         (int)(((uint64_t)i * 0x9E3779B97F4A7C15ULL) >> 63) == part;
}

/* Maximum likelihood temperature: Newton on beta = 1/T (the negative
 * log-likelihood is convex in beta), kept inside a bracket that the
 * gradient's sign narrows, so it cannot diverge. */
static double fit_temperature(const prep *p, int part) {
  double beta = 1, lo = 1e-4, hi = 1e4;
  size_t L = p->L, i, k;
  int iter;
  for (iter = 0; iter < 60; iter++) {
    double g = 0, hss = 0, nb;
    for (i = 0; i < p->n; i++) {
      const double *d = p->d + i * L;
      double z = 0, m1 = 0, m2 = 0;
      if (!pick(i, part) || p->truth[i] >= L) continue;
      if (!(d[p->truth[i]] > -INFINITY)) continue;
      for (k = 0; k < L; k++) {
        double e;
        if (!(d[k] > -INFINITY)) continue;
        e = exp(beta * d[k]);
        z += e;
        m1 += e * d[k];
        m2 += e * d[k] * d[k];
      }
      m1 /= z;
      m2 /= z;
      g += m1 - d[p->truth[i]];
      hss += m2 - m1 * m1;
    }
    if (g > 0)
      hi = beta;
    else
      lo = beta;
    nb = hss > 0 ? beta - g / hss : -1;
    if (!(nb > lo && nb < hi)) nb = sqrt(lo * hi);
    if (fabs(nb - beta) <= 1e-6 * beta) {
      beta = nb;
      break;
    }
    beta = nb;
  }
  return 1.0 / beta;
}

static double logloss(double f, double t) {
  /* t * log(1 + e^-f) + (1 - t) * log(1 + e^f), stably */
  double lp = f > 0 ? log1p(exp(-f)) : -f + log1p(exp(f));
  return lp + (1 - t) * f;
}

/* Platt scaling of the top label's logit, by Newton's method with Platt's
 * smoothed targets (which keep a separable set finite). */
static void fit_platt(const prep *p, int part, double *pa, double *pb) {
  size_t i, n_pos = 0, n_neg = 0;
  double a = 0, b, t_pos, t_neg, loss_prev = 0;
  int iter;
  for (i = 0; i < p->n; i++)
    if (pick(i, part)) {
      if (p->ok[i])
        n_pos++;
      else
        n_neg++;
    }
  t_pos = ((double)n_pos + 1) / ((double)n_pos + 2);
  t_neg = 1 / ((double)n_neg + 2);
  b = log(((double)n_pos + 1) / ((double)n_neg + 1));
  for (i = 0; i < p->n; i++)
    if (pick(i, part)) loss_prev += logloss(a * p->z[i] + b, p->ok[i] ? t_pos : t_neg);
  for (iter = 0; iter < 100; iter++) {
    double ga = 0, gb = 0, haa = 1e-9, hab = 0, hbb = 1e-9, det, da, db;
    double step, loss = 0;
    for (i = 0; i < p->n; i++) {
      double z = p->z[i], q, t;
      if (!pick(i, part)) continue;
      t = p->ok[i] ? t_pos : t_neg;
      q = 1 / (1 + exp(-(a * z + b)));
      ga += (q - t) * z;
      gb += q - t;
      haa += q * (1 - q) * z * z;
      hab += q * (1 - q) * z;
      hbb += q * (1 - q);
    }
    det = haa * hbb - hab * hab;
    if (!(det > 0)) break;
    da = (hbb * ga - hab * gb) / det;
    db = (haa * gb - hab * ga) / det;
    for (step = 1; step > 1e-6; step /= 2) {
      double na = a - step * da, nb = b - step * db;
      loss = 0;
      for (i = 0; i < p->n; i++)
        if (pick(i, part))
          loss += logloss(na * p->z[i] + nb, p->ok[i] ? t_pos : t_neg);
      if (loss <= loss_prev) {
        a = na;
        b = nb;
        break;
      }
    }
    if (step <= 1e-6 || loss_prev - loss < 1e-10 * (1 + fabs(loss))) break;
    loss_prev = loss;
  }
  if (a < 0) a = 0; /* more confident scores never mean less probable */
  *pa = a;
  *pb = b;
}

/* The top label's probability under `c` for item i (what fmi_calib_probs
 * gives it). */
static double top_prob(const prep *p, const fmi_calib *c, size_t i) {
  const double *d = p->d + i * p->L;
  double scale = c->method == FM_CALIB_TEMPERATURE ? 1 / c->temperature : 1;
  double sum = 0, q;
  size_t k;
  if (c->method == FM_CALIB_PLATT && p->L > 1 && p->lb[i] > 0) {
    q = 1 / (1 + exp(-(c->platt_a * p->z[i] + c->platt_b)));
    return q < p->lb[i] ? p->lb[i] : q;
  }
  for (k = 0; k < p->L; k++)
    if (d[k] > -INFINITY) sum += exp(d[k] * scale);
  return sum > 0 ? 1 / sum : 1.0 / (double)p->L;
}

static double measure(const prep *p, const fmi_calib *c, int part,
                      double *conf, unsigned char *ok, size_t *n_out) {
  size_t i, n = 0;
  for (i = 0; i < p->n; i++) {
    if (!pick(i, part)) continue;
    conf[n] = top_prob(p, c, i);
    ok[n] = p->ok[i];
    n++;
  }
  *n_out = n;
  return fmi_ece(conf, ok, n);
}

/* How many items Platt scaling under `c` would have to clamp to a tie with
 * the runner-up (the sigmoid puts the top label below the rescaled second
 * one). Scaling one label's logit cannot keep a multi-class distribution
 * coherent there, so a Platt fit that clamps is never chosen. */
static size_t platt_clamps(const prep *p, const fmi_calib *c) {
  size_t i, k = 0;
  for (i = 0; i < p->n; i++)
    if (p->L > 1 && p->lb[i] > 0 &&
        1 / (1 + exp(-(c->platt_a * p->z[i] + c->platt_b))) < p->lb[i])
      k++;
  return k;
}

static int cmp_conf_desc(const void *a, const void *b) {
  const double *x = a, *y = b;
  return x[0] > y[0] ? -1 : x[0] < y[0];
}

fm_status fmi_calib_fit(const fmi_calib_items *it, unsigned review,
                        double review_value, bool fit, fmi_calib *out,
                        fm_error *err) {
  size_t n = it->n, i, m, correct = 0;
  double *conf = fmi_malloc((n + 1) * sizeof *conf);
  double *pairs = fmi_malloc((2 * n + 1) * sizeof *pairs);
  unsigned char *ok = fmi_malloc(n + 1);
  fmi_calib none, c;
  prep p;
  if (!conf || !pairs || !ok || !prep_init(&p, it)) {
    fmi_free(conf);
    fmi_free(pairs);
    fmi_free(ok);
    return fmi_fail(err, FM_ENOMEM, "out of memory fitting calibration");
  }
  fmi_calib_default(&none);
  c = none;
  c.n_items = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
  c.ece_raw = measure(&p, &none, 2, conf, ok, &m);
  for (i = 0; i < m; i++) correct += ok[i];
  c.accuracy = n ? (double)correct / (double)n : 0;
  c.ece_cal = c.ece_raw;
  if (fit && n >= 2) {
    fmi_calib t[2], pl[2];
    double ece_t, ece_p;
    int half;
    for (half = 0; half < 2; half++) {
      t[half] = pl[half] = none;
      t[half].method = FM_CALIB_TEMPERATURE;
      t[half].temperature = fit_temperature(&p, half);
      pl[half].method = FM_CALIB_PLATT;
      fit_platt(&p, half, &pl[half].platt_a, &pl[half].platt_b);
    }
    /* fit on one half, measure on the other */
    ece_t = (measure(&p, &t[0], 1, conf, ok, &m) +
             measure(&p, &t[1], 0, conf, ok, &m)) / 2;
    ece_p = (measure(&p, &pl[0], 1, conf, ok, &m) +
             measure(&p, &pl[1], 0, conf, ok, &m)) / 2;
    c.method = FM_CALIB_PLATT;
    fit_platt(&p, 2, &c.platt_a, &c.platt_b);
    if (ece_p < ece_t && platt_clamps(&p, &pl[0]) == 0 &&
        platt_clamps(&p, &pl[1]) == 0 && platt_clamps(&p, &c) == 0) {
      c.ece_cal = ece_p;
    } else {
      c.platt_a = none.platt_a;
      c.platt_b = none.platt_b;
      c.method = FM_CALIB_TEMPERATURE;
      c.temperature = fit_temperature(&p, 2);
      c.ece_cal = ece_t;
    }
  }
  /* The review threshold, on the final probabilities. */
  if (review == FM_REVIEW_FIXED) {
    c.threshold = review_value;
  } else if (!fit) {
    c.threshold = 0.5;
  } else {
    size_t k, best_k = 0;
    double hits = 0;
    measure(&p, &c, 2, conf, ok, &m);
    for (i = 0; i < m; i++) {
      pairs[2 * i] = conf[i];
      pairs[2 * i + 1] = ok[i];
    }
    qsort(pairs, m, 2 * sizeof *pairs, cmp_conf_desc);
    /* The longest prefix (cut between distinct probabilities) whose
     * accuracy reaches the target. */
    for (k = 1; k <= m; k++) {
      hits += pairs[2 * (k - 1) + 1];
      if (k < m && pairs[2 * k] == pairs[2 * (k - 1)]) continue;
      if (hits >= review_value * (double)k) best_k = k;
    }
    c.threshold = best_k ? pairs[2 * (best_k - 1)] : 1.0;
  }
  *out = c;
  prep_free(&p);
  fmi_free(conf);
  fmi_free(pairs);
  fmi_free(ok);
  return FM_OK;
}

/* ---- fm_calibrator ----------------------------------------------------------- */

struct fm_calibrator {
  const fm_model *model;
  fmi_pipeline pipe;
  fmi_scratch *scratch;
  fmi_calib_items *items;
  unsigned review;
  double review_value;
};

fm_status fm_calibrator_new(const fm_model *model, fm_review_policy review,
                            double review_value, fm_calibrator **out,
                            fm_error *err) {
  fm_calibrator *c;
  fm_status st;
  size_t h;
  if (!out) return fmi_fail(err, FM_EINVAL, "out is NULL");
  *out = NULL;
  if (!model) return fmi_fail(err, FM_EINVAL, "model is NULL");
  if (review != FM_REVIEW_TARGET_ACCURACY && review != FM_REVIEW_FIXED)
    return fmi_fail(err, FM_EINVAL, "unknown review policy");
  if (!(review_value > 0))
    review_value = review == FM_REVIEW_FIXED ? 0.5 : 0.9;
  if (review_value > 1)
    return fmi_fail(err, FM_EINVAL, "review value over 1");
  c = fmi_calloc(1, sizeof *c);
  if (!c) return fmi_fail(err, FM_ENOMEM, "out of memory");
  c->model = model;
  c->review = review;
  c->review_value = review_value;
  c->items = fmi_calloc(model->n_heads, sizeof *c->items);
  if (!c->items) {
    fmi_free(c);
    return fmi_fail(err, FM_ENOMEM, "out of memory");
  }
  for (h = 0; h < model->n_heads; h++)
    c->items[h].n_labels = model->head_first[h + 1] - model->head_first[h];
  st = fmi_pipeline_init(&c->pipe, &model->set.pipe, err);
  if (st != FM_OK) {
    fmi_free(c->items);
    fmi_free(c);
    return st;
  }
  st = fmi_scratch_new(model, &c->scratch);
  if (st != FM_OK) {
    fm_calibrator_free(c);
    return fmi_fail(err, st, "out of memory");
  }
  *out = c;
  return FM_OK;
}

void fm_calibrator_free(fm_calibrator *c) {
  size_t h;
  if (!c) return;
  fmi_pipeline_destroy(&c->pipe);
  fmi_scratch_free(c->scratch);
  for (h = 0; h < c->model->n_heads; h++) fmi_calib_items_free(&c->items[h]);
  fmi_free(c->items);
  fmi_free(c);
}

fm_status fm_calibrator_add(fm_calibrator *c, const char *text, size_t len,
                            const char *lang, const char *const *labels,
                            fm_error *err) {
  const double *scores;
  const fm_model *m;
  size_t h;
  fm_status st;
  if (!c || (!text && len)) return fmi_fail(err, FM_EINVAL, "bad arguments");
  if (!labels) return FM_OK;
  m = c->model;
  st = fmi_pipeline_run(&c->pipe, text ? text : "", len, lang, err);
  if (st != FM_OK) return st;
  st = fmi_score(m, c->scratch, &c->pipe.an, &scores, err);
  if (st != FM_OK) return st;
  for (h = 0; h < m->n_heads; h++) {
    size_t f0 = m->head_first[h], n = m->head_first[h + 1] - f0;
    size_t truth = SIZE_MAX, lo = 0, hi = n;
    if (!labels[h] || !labels[h][0] || n == 0) continue;
    while (lo < hi) { /* labels are sorted */
      size_t mid = lo + (hi - lo) / 2;
      int r = strcmp(m->class_names[f0 + mid], labels[h]);
      if (r == 0) {
        truth = mid;
        break;
      }
      if (r < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
    if (fmi_calib_items_add(&c->items[h], scores + f0, truth) != FM_OK)
      return fmi_fail(err, FM_ENOMEM, "out of memory");
  }
  return FM_OK;
}

fm_status fm_calibrator_write(fm_calibrator *c, const char *path,
                              fm_error *err) {
  const fm_model *m;
  fmi_calib *calib;
  unsigned char *bytes = NULL;
  size_t len = 0, h;
  fm_status st = FM_OK;
  if (!c || !path) return fmi_fail(err, FM_EINVAL, "bad arguments");
  m = c->model;
  calib = fmi_calloc(m->n_heads, sizeof *calib);
  if (!calib) return fmi_fail(err, FM_ENOMEM, "out of memory");
  for (h = 0; h < m->n_heads && st == FM_OK; h++) {
    calib[h] = m->calib[h];
    if (c->items[h].n)
      st = fmi_calib_fit(&c->items[h], c->review, c->review_value, true,
                         &calib[h], err);
  }
  if (st == FM_OK) st = fmi_model_recalibrate(m, calib, &bytes, &len, err);
  if (st == FM_OK) st = fmi_write_file_atomic(path, bytes, len, err);
  fmi_free(bytes);
  fmi_free(calib);
  return st;
}
