/*
 * eval.c -- accuracy, per-label precision/recall/F1, confusion matrices and
 * expected calibration error, accumulated from predictions. Everything is
 * kept as counts so evaluations of folds merge by adding.
 */
#include "model.h"

#include <stdlib.h>

typedef struct eval_head {
  char *name;
  size_t n_labels, cap;
  char **labels;
  uint64_t *conf;      /* cap x cap, row = truth */
  uint64_t n, correct, review, confident, confident_ok;
  uint64_t bin_n[FM_ECE_BINS];
  double bin_conf[FM_ECE_BINS], bin_ok[FM_ECE_BINS];
  fm_label_metrics *lm;
  size_t lm_cap;
  fm_head_metrics hm;
} eval_head;

struct fm_eval {
  size_t n_heads;
  eval_head *heads;
};

static void head_free(eval_head *h) {
  size_t i;
  fmi_free(h->name);
  for (i = 0; i < h->n_labels; i++) fmi_free(h->labels[i]);
  fmi_free(h->labels);
  fmi_free(h->conf);
  fmi_free(h->lm);
}

void fm_eval_free(fm_eval *ev) {
  size_t h;
  if (!ev) return;
  for (h = 0; ev->heads && h < ev->n_heads; h++) head_free(&ev->heads[h]);
  fmi_free(ev->heads);
  fmi_free(ev);
}

/* Index of a label, added when new; SIZE_MAX on ENOMEM. Linear: heads have
 * tens to hundreds of labels, and this is not the tagging path. */
static size_t label_index(eval_head *h, const char *name) {
  size_t i;
  for (i = 0; i < h->n_labels; i++)
    if (!strcmp(h->labels[i], name)) return i;
  if (h->n_labels == h->cap) {
    size_t nc = h->cap ? h->cap * 2 : 16, r, bytes;
    char **l;
    uint64_t *c;
    if (fmi_mul_overflows(nc, nc * sizeof *c, &bytes)) return SIZE_MAX;
    l = fmi_realloc(h->labels, nc * sizeof *l);
    if (!l) return SIZE_MAX;
    h->labels = l;
    c = fmi_calloc(nc * nc, sizeof *c);
    if (!c) return SIZE_MAX;
    for (r = 0; r < h->n_labels; r++)
      memcpy(c + r * nc, h->conf + r * h->cap, h->n_labels * sizeof *c);
    fmi_free(h->conf);
    h->conf = c;
    h->cap = nc;
  }
  h->labels[h->n_labels] = fmi_strndup(name, strlen(name));
  if (!h->labels[h->n_labels]) return SIZE_MAX;
  return h->n_labels++;
}

fm_status fm_eval_new(const char *const *heads, size_t n_heads,
                      const fm_model *model, fm_eval **out, fm_error *err) {
  fm_eval *ev;
  size_t h, k;
  if (!out) return fmi_fail(err, FM_EINVAL, "out is NULL");
  *out = NULL;
  if (!heads || n_heads == 0)
    return fmi_fail(err, FM_EINVAL, "an evaluation needs heads");
  ev = fmi_calloc(1, sizeof *ev);
  if (!ev) return fmi_fail(err, FM_ENOMEM, "out of memory");
  ev->heads = fmi_calloc(n_heads, sizeof *ev->heads);
  if (!ev->heads) goto nomem;
  ev->n_heads = n_heads;
  for (h = 0; h < n_heads; h++) {
    long mh;
    if (!heads[h]) {
      fm_eval_free(ev);
      return fmi_fail(err, FM_EINVAL, "head %zu has no name", h + 1);
    }
    ev->heads[h].name = fmi_strndup(heads[h], strlen(heads[h]));
    if (!ev->heads[h].name) goto nomem;
    mh = model ? fm_model_head_index(model, heads[h]) : -1;
    if (mh >= 0)
      for (k = 0; k < fm_model_label_count(model, (size_t)mh); k++)
        if (label_index(&ev->heads[h],
                        fm_model_label_name(model, (size_t)mh, k)) == SIZE_MAX)
          goto nomem;
  }
  *out = ev;
  return FM_OK;
nomem:
  fm_eval_free(ev);
  return fmi_fail(err, FM_ENOMEM, "out of memory");
}

size_t fm_eval_head_count(const fm_eval *ev) { return ev ? ev->n_heads : 0; }

fm_status fmi_eval_add_label(fm_eval *ev, size_t head, const char *name) {
  if (!ev || head >= ev->n_heads) return FM_EINVAL;
  return label_index(&ev->heads[head], name) == SIZE_MAX ? FM_ENOMEM : FM_OK;
}

fm_status fm_eval_add(fm_eval *ev, size_t head, const char *truth,
                      const char *predicted, double prob, int needs_review,
                      fm_error *err) {
  eval_head *h;
  size_t t, p;
  int bin;
  if (!ev || head >= ev->n_heads)
    return fmi_fail(err, FM_EINVAL, "no head %zu", head);
  if (!truth || !truth[0] || !predicted) return FM_OK;
  h = &ev->heads[head];
  t = label_index(h, truth);
  p = t == SIZE_MAX ? SIZE_MAX : label_index(h, predicted);
  if (p == SIZE_MAX) return fmi_fail(err, FM_ENOMEM, "out of memory");
  if (!(prob >= 0)) prob = 0;
  if (prob > 1) prob = 1;
  h->conf[t * h->cap + p]++;
  h->n++;
  h->correct += t == p;
  if (needs_review) {
    h->review++;
  } else {
    h->confident++;
    h->confident_ok += t == p;
  }
  bin = (int)(prob * FM_ECE_BINS);
  if (bin >= FM_ECE_BINS) bin = FM_ECE_BINS - 1;
  h->bin_n[bin]++;
  h->bin_conf[bin] += prob;
  h->bin_ok[bin] += t == p;
  return FM_OK;
}

fm_status fm_eval_add_result(fm_eval *ev, const fm_result *res,
                             const char *const *truth, fm_error *err) {
  size_t i, h;
  if (!ev || !res) return fmi_fail(err, FM_EINVAL, "bad arguments");
  if (!truth) return FM_OK;
  for (i = 0; i < res->n_heads; i++) {
    const fm_head_result *r = &res->heads[i];
    fm_status st;
    for (h = 0; h < ev->n_heads; h++)
      if (!strcmp(ev->heads[h].name, r->head)) break;
    if (h == ev->n_heads) continue;
    st = fm_eval_add(ev, h, truth[i], r->label_name, r->prob,
                     r->needs_review, err);
    if (st != FM_OK) return st;
  }
  return FM_OK;
}

fm_status fm_eval_merge(fm_eval *into, const fm_eval *from, fm_error *err) {
  size_t h, i, j, b;
  if (!into || !from || into->n_heads != from->n_heads)
    return fmi_fail(err, FM_EINVAL, "evaluations have different heads");
  for (h = 0; h < from->n_heads; h++)
    if (strcmp(into->heads[h].name, from->heads[h].name))
      return fmi_fail(err, FM_EINVAL, "evaluations have different heads");
  for (h = 0; h < from->n_heads; h++) {
    eval_head *a = &into->heads[h];
    const eval_head *f = &from->heads[h];
    for (i = 0; i < f->n_labels; i++) {
      size_t ti = label_index(a, f->labels[i]);
      if (ti == SIZE_MAX) return fmi_fail(err, FM_ENOMEM, "out of memory");
      for (j = 0; j < f->n_labels; j++) {
        size_t pj = label_index(a, f->labels[j]);
        if (pj == SIZE_MAX) return fmi_fail(err, FM_ENOMEM, "out of memory");
        a->conf[ti * a->cap + pj] += f->conf[i * f->cap + j];
      }
    }
    a->n += f->n;
    a->correct += f->correct;
    a->review += f->review;
    a->confident += f->confident;
    a->confident_ok += f->confident_ok;
    for (b = 0; b < FM_ECE_BINS; b++) {
      a->bin_n[b] += f->bin_n[b];
      a->bin_conf[b] += f->bin_conf[b];
      a->bin_ok[b] += f->bin_ok[b];
    }
  }
  return FM_OK;
}

fm_status fm_eval_head(fm_eval *ev, size_t head, const fm_head_metrics **out,
                       fm_error *err) {
  eval_head *h;
  fm_head_metrics *m;
  size_t i, j, L, n_macro = 0, b;
  double macro = 0, weighted = 0;
  if (!ev || !out || head >= ev->n_heads)
    return fmi_fail(err, FM_EINVAL, "no head %zu", head);
  h = &ev->heads[head];
  L = h->n_labels;
  if (L > h->lm_cap) {
    fm_label_metrics *lm = fmi_realloc(h->lm, L * sizeof *lm);
    if (!lm) return fmi_fail(err, FM_ENOMEM, "out of memory");
    h->lm = lm;
    h->lm_cap = L;
  }
  for (i = 0; i < L; i++) {
    fm_label_metrics *l = &h->lm[i];
    uint64_t tp = h->conf[i * h->cap + i];
    l->label = h->labels[i];
    l->support = l->predicted = 0;
    for (j = 0; j < L; j++) {
      l->support += h->conf[i * h->cap + j];
      l->predicted += h->conf[j * h->cap + i];
    }
    l->precision = l->predicted ? (double)tp / (double)l->predicted : 0;
    l->recall = l->support ? (double)tp / (double)l->support : 0;
    l->f1 = l->precision + l->recall > 0
                ? 2 * l->precision * l->recall / (l->precision + l->recall)
                : 0;
    /* Like scikit-learn: labels present in the truth or the predictions. */
    if (l->support || l->predicted) {
      macro += l->f1;
      n_macro++;
    }
    weighted += l->f1 * (double)l->support;
  }
  m = &h->hm;
  memset(m, 0, sizeof *m);
  m->head = h->name;
  m->n = h->n;
  m->correct = h->correct;
  m->accuracy = h->n ? (double)h->correct / (double)h->n : 0;
  m->macro_f1 = n_macro ? macro / (double)n_macro : 0;
  m->weighted_f1 = h->n ? weighted / (double)h->n : 0;
  m->needs_review = h->review;
  m->accuracy_confident =
      h->confident ? (double)h->confident_ok / (double)h->confident : 0;
  m->n_labels = L;
  m->labels = h->lm;
  for (b = 0; b < FM_ECE_BINS; b++) {
    m->bin_count[b] = h->bin_n[b];
    m->bin_confidence[b] = h->bin_n[b] ? h->bin_conf[b] / (double)h->bin_n[b] : 0;
    m->bin_accuracy[b] = h->bin_n[b] ? h->bin_ok[b] / (double)h->bin_n[b] : 0;
    if (h->n)
      m->ece += (double)h->bin_n[b] / (double)h->n *
                fabs(m->bin_accuracy[b] - m->bin_confidence[b]);
  }
  m->confusion = h->conf;
  m->confusion_stride = h->cap;
  *out = m;
  return FM_OK;
}
