/*
 * test_train.c -- training, scoring math, merge, cross-validation,
 * calibration and evaluation, on synthetic feature vectors (so the
 * numbers can be worked out by hand) and on text.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "classify.h"
#include "model.h"

/* "good:2 fun" -> features good x2, fun x1 (ids are XXH3 of the text, as
 * the pipeline makes them). */
static size_t feats_of(const char *spec, fm_feature *out, char store[][32]) {
  size_t n = 0;
  const char *p = spec;
  while (*p) {
    size_t len = 0;
    unsigned count = 1;
    while (*p == ' ') p++;
    if (!*p) break;
    while (p[len] && p[len] != ' ' && p[len] != ':') len++;
    memcpy(store[n], p, len);
    store[n][len] = 0;
    p += len;
    if (*p == ':') {
      count = (unsigned)strtoul(p + 1, (char **)&p, 10);
    }
    out[n].id = fmi_hash64(store[n], len);
    out[n].text = store[n];
    out[n].len = len;
    out[n].count = count;
    out[n].kind = FM_FEATURE_UNIGRAM;
    n++;
  }
  return n;
}

static void add(fm_trainer *tr, const char *spec, const char *label) {
  fm_feature f[32];
  char store[32][32];
  size_t n = feats_of(spec, f, store);
  const char *labels[4] = {NULL, NULL, NULL, NULL};
  fm_error err;
  labels[0] = label;
  assert_int_equal(fmi_trainer_add_features(tr, f, n, fmi_hash64(spec, strlen(spec)),
                                            NULL, labels, &err),
                   FM_OK);
}

static fm_train_opts plain_opts(fm_nb_variant v) {
  fm_train_opts o = FM_TRAIN_OPTS_INIT;
  o.variant = v;
  o.priors = FM_PRIORS_LEARNED;
  o.alpha = 1;
  o.tfidf = 0;
  o.sublinear_tf = 0;
  o.length_norm = 0;
  o.calibrate = 0;
  return o;
}

static fm_model *build(fm_trainer *tr, void **bytes, size_t *len) {
  fm_model *m = NULL;
  fm_error err;
  assert_int_equal(fm_trainer_write_memory(tr, bytes, len, &err), FM_OK);
  assert_int_equal(fm_model_open_memory(*bytes, *len, &m, &err), FM_OK);
  return m;
}

/* Probabilities of one synthetic query, in label order. */
static void probs_of(const fm_model *m, const char *spec, double *prob) {
  fm_feature f[32];
  char store[32][32];
  fm_analysis an;
  fmi_scratch *s;
  const double *scores;
  fm_error err;
  memset(&an, 0, sizeof an);
  an.features = f;
  an.n_features = feats_of(spec, f, store);
  assert_int_equal(fmi_scratch_new(m, &s), FM_OK);
  assert_int_equal(fmi_score(m, s, &an, &scores, &err), FM_OK);
  fmi_calib_probs(&m->calib[0], scores, fm_model_label_count(m, 0), prob);
  fmi_scratch_free(s);
}

/* The tiny corpus, worked by hand (alpha = 1, raw counts, learned priors):
 *   pos: "good:2 fun", "good"     -> good 3, fun 1; N = 4; 2 docs
 *   neg: "bad:2 fun"              -> bad 2, fun 1;  N = 3; 1 doc
 *   meh: "fun:2"                  -> fun 2;         N = 2; 1 doc
 * |V| = 3 (bad, fun, good). Query "good fun". */
static void tiny(fm_trainer *tr) {
  add(tr, "good:2 fun", "pos");
  add(tr, "good", "pos");
  add(tr, "bad:2 fun", "neg");
  add(tr, "fun:2", "meh");
}

static void test_multinomial_by_hand(void **state) {
  const char *heads[] = {"h"};
  fm_train_opts o = plain_opts(FM_NB_MULTINOMIAL);
  fm_trainer *tr;
  fm_model *m;
  void *bytes;
  size_t len;
  double p[3];
  fm_error err;
  (void)state;
  assert_int_equal(fm_trainer_new(heads, 1, &o, &tr, &err), FM_OK);
  tiny(tr);
  m = build(tr, &bytes, &len);
  /* Labels sort by name: meh, neg, pos. */
  assert_string_equal(fm_model_label_name(m, 0, 0), "meh");
  assert_string_equal(fm_model_label_name(m, 0, 2), "pos");
  /* P(c) * prod_w ((n_wc + 1) / (N_c + 3)):
   *   pos: 1/2 * 4/7 * 2/7 = 4/49
   *   neg: 1/4 * 1/6 * 2/6 = 1/72
   *   meh: 1/4 * 1/5 * 3/5 = 3/100
   * normalized: pos 7200/11071 = 0.650348, neg 0.110649, meh 0.239003 */
  probs_of(m, "good fun", p);
  assert_true(fabs(p[2] - 7200.0 / 11071) < 1e-6);
  assert_true(fabs(p[1] - 0.1106494444946256) < 1e-6);
  assert_true(fabs(p[0] - 0.2390028001083913) < 1e-6);
  /* An unknown feature changes nothing. */
  {
    double q[3];
    probs_of(m, "good fun zzz:5", q);
    assert_true(fabs(q[2] - p[2]) < 1e-9 && fabs(q[0] - p[0]) < 1e-9);
  }
  fm_model_close(m);
  fm_free(bytes);
  fm_trainer_free(tr);
}

static void test_complement_by_hand(void **state) {
  const char *heads[] = {"h"};
  fm_train_opts o = plain_opts(FM_NB_COMPLEMENT);
  fm_trainer *tr;
  fm_model *m;
  void *bytes;
  size_t len;
  double p[3];
  fm_error err;
  (void)state;
  assert_int_equal(fm_trainer_new(heads, 1, &o, &tr, &err), FM_OK);
  tiny(tr);
  m = build(tr, &bytes, &len);
  /* Complement counts (all N = 9; good 3, fun 4, bad 2):
   *   pos: good 0, fun 3, N 5 -> (0+1)/8, (3+1)/8
   *   neg: good 3, fun 3, N 6 -> 4/9, 4/9
   *   meh: good 3, fun 2, N 7 -> 4/10, 3/10
   * score = log prior - sum log complement:
   *   pos: log(1/2 * 8 * 2)        = log 8
   *   neg: log(1/4 * 81/16)        = log(81/64)
   *   meh: log(1/4 * 100/12)       = log(25/12)
   * normalized: pos 1536/2179 = 0.704911, neg 0.111519, meh 0.183570 */
  probs_of(m, "good fun", p);
  assert_true(fabs(p[2] - 1536.0 / 2179) < 1e-6);
  assert_true(fabs(p[1] - 0.1115190454336852) < 1e-6);
  assert_true(fabs(p[0] - 0.1835704451583295) < 1e-6);
  fm_model_close(m);
  fm_free(bytes);
  fm_trainer_free(tr);
}

/* A larger synthetic corpus: docs drawn from per-class word lists. */
static void corpus(fm_trainer *tr, size_t from, size_t to, int shuffle) {
  static const char *words[3][6] = {
    {"bill", "charge", "refund", "invoice", "card", "price"},
    {"login", "password", "reset", "locked", "account", "email"},
    {"slow", "crash", "error", "bug", "freeze", "load"}};
  static const char *labels[3] = {"billing", "access", "bug"};
  size_t i;
  for (i = from; i < to; i++) {
    size_t d = shuffle ? (i * 7919) % to : i, c = d % 3, k;
    char spec[256] = "";
    uint64_t h = fmi_hash64(&d, sizeof d);
    for (k = 0; k < 4; k++) {
      const char *w = (h >> (8 * k)) % 5 == 0 ? words[(c + 1) % 3][(h >> (4 * k)) % 6]
                                             : words[c][(h >> (3 * k)) % 6];
      strcat(spec, w);
      strcat(spec, k == 1 ? ":2 " : " ");
    }
    strcat(spec, "common");
    add(tr, spec, labels[c]);
  }
}

static void test_merge_is_training_on_union(void **state) {
  const char *heads[] = {"h"};
  fm_train_opts o = FM_TRAIN_OPTS_INIT; /* tf-idf, sublinear, L2 on */
  fm_trainer *all, *a, *b, *shuffled;
  fm_model *ma, *mb;
  void *ball, *ba, *bb, *bm, *bs, *bm2;
  size_t lall, la, lb, lm, ls, lm2;
  const fm_model *both[2], *rev[2];
  fm_error err;
  (void)state;
  /* every choice fixed: what cross-validation would choose depends on
   * the documents a shard has */
  o.alpha = 0.1;
  o.variant = FM_NB_MULTINOMIAL;
  o.priors = FM_PRIORS_LEARNED;
  o.calibrate = 0;
  assert_int_equal(fm_trainer_new(heads, 1, &o, &all, &err), FM_OK);
  assert_int_equal(fm_trainer_new(heads, 1, &o, &a, &err), FM_OK);
  assert_int_equal(fm_trainer_new(heads, 1, &o, &b, &err), FM_OK);
  assert_int_equal(fm_trainer_new(heads, 1, &o, &shuffled, &err), FM_OK);
  corpus(all, 0, 300, 0);
  corpus(a, 0, 170, 0);
  corpus(b, 170, 300, 0);
  corpus(shuffled, 0, 300, 1);
  assert_int_equal(fm_trainer_write_memory(all, &ball, &lall, &err), FM_OK);
  assert_int_equal(fm_trainer_write_memory(shuffled, &bs, &ls, &err), FM_OK);
  /* Document order does not matter. */
  assert_int_equal(ls, lall);
  assert_memory_equal(bs, ball, lall);
  ma = build(a, &ba, &la);
  mb = build(b, &bb, &lb);
  both[0] = ma;
  both[1] = mb;
  rev[0] = mb;
  rev[1] = ma;
  assert_int_equal(fm_model_merge_memory(both, 2, 0, &bm, &lm, &err), FM_OK);
  assert_int_equal(fm_model_merge_memory(rev, 2, 0, &bm2, &lm2, &err), FM_OK);
  /* Byte-identical, whatever the merge order. */
  assert_int_equal(lm, lall);
  assert_memory_equal(bm, ball, lall);
  assert_int_equal(lm2, lall);
  assert_memory_equal(bm2, ball, lall);
  fm_model_close(ma);
  fm_model_close(mb);
  fm_free(ball);
  fm_free(ba);
  fm_free(bb);
  fm_free(bm);
  fm_free(bm2);
  fm_free(bs);
  fm_trainer_free(all);
  fm_trainer_free(a);
  fm_trainer_free(b);
  fm_trainer_free(shuffled);
}

static void test_merge_refuses_other_settings(void **state) {
  const char *heads[] = {"h"}, *other[] = {"x"};
  fm_train_opts o = plain_opts(FM_NB_MULTINOMIAL), o2 = o;
  fm_trainer *a, *b, *c;
  fm_model *ma, *mb, *mc;
  void *ba, *bb, *bc, *out;
  size_t la, lb, lc, lo;
  const fm_model *pair[2];
  fm_error err;
  (void)state;
  o2.tfidf = 1;
  assert_int_equal(fm_trainer_new(heads, 1, &o, &a, &err), FM_OK);
  assert_int_equal(fm_trainer_new(heads, 1, &o2, &b, &err), FM_OK);
  assert_int_equal(fm_trainer_new(other, 1, &o, &c, &err), FM_OK);
  tiny(a);
  tiny(b);
  add(c, "good", "x");
  ma = build(a, &ba, &la);
  mb = build(b, &bb, &lb);
  mc = build(c, &bc, &lc);
  pair[0] = ma;
  pair[1] = mb;
  assert_int_equal(fm_model_merge_memory(pair, 2, 0, &out, &lo, &err),
                   FM_EMISMATCH);
  assert_non_null(strstr(err.msg, "TF-IDF"));
  pair[1] = mc;
  assert_int_equal(fm_model_merge_memory(pair, 2, 0, &out, &lo, &err),
                   FM_EMISMATCH);
  assert_non_null(strstr(err.msg, "'h'"));
  fm_model_close(ma);
  fm_model_close(mb);
  fm_model_close(mc);
  fm_free(ba);
  fm_free(bb);
  fm_free(bc);
  fm_trainer_free(a);
  fm_trainer_free(b);
  fm_trainer_free(c);
}

static void test_auto_alpha_and_calibration(void **state) {
  const char *heads[] = {"h"};
  fm_train_opts o = FM_TRAIN_OPTS_INIT;
  fm_trainer *tr, *tr2;
  fm_model *m;
  void *bytes, *bytes2;
  size_t len, len2;
  fm_model_info info;
  fm_head_info hi;
  fm_error err;
  (void)state;
  assert_int_equal(fm_trainer_new(heads, 1, &o, &tr, &err), FM_OK);
  assert_int_equal(fm_trainer_new(heads, 1, &o, &tr2, &err), FM_OK);
  corpus(tr, 0, 600, 0);
  corpus(tr2, 0, 600, 1);
  m = build(tr, &bytes, &len);
  /* Folds depend on the texts, not their order: same bytes. */
  assert_int_equal(fm_trainer_write_memory(tr2, &bytes2, &len2, &err), FM_OK);
  assert_int_equal(len2, len);
  assert_memory_equal(bytes2, bytes, len);
  info.size = sizeof info;
  assert_int_equal(fm_model_info_get(m, &info, &err), FM_OK);
  /* variant auto: the chosen variant's four alphas */
  assert_int_equal(info.n_alpha_grid, 4);
  assert_true(info.opts.alpha < 0);
  assert_int_equal(info.opts.variant, FM_NB_AUTO);
  assert_true(info.variant == FM_NB_MULTINOMIAL ||
              info.variant == FM_NB_COMPLEMENT);
  assert_true(info.alpha >= 0.01 && info.alpha <= 0.3);
  hi.size = sizeof hi;
  assert_int_equal(fm_model_head_info(m, 0, &hi, &err), FM_OK);
  assert_int_equal(hi.held_out, 600);
  assert_true(hi.calibration == FM_CALIB_TEMPERATURE ||
              hi.calibration == FM_CALIB_PLATT);
  assert_true(hi.held_out_accuracy > 0.8);
  assert_true(hi.threshold > 0 && hi.threshold <= 1);
  fm_model_close(m);
  fm_free(bytes);
  fm_free(bytes2);
  fm_trainer_free(tr);
  fm_trainer_free(tr2);
}

/* The variant and priors are chosen with alpha: with a fixed alpha, auto
 * means multinomial and learned priors, and nothing is fit on folds. */
static void test_auto_choices_follow_alpha(void **state) {
  const char *heads[] = {"h"};
  fm_train_opts o = FM_TRAIN_OPTS_INIT;
  fm_trainer *tr;
  fm_model *m;
  void *bytes;
  size_t len;
  fm_model_info info;
  fm_error err;
  (void)state;
  assert_int_equal(o.variant, FM_NB_AUTO);
  assert_int_equal(o.priors, FM_PRIORS_AUTO);
  o.alpha = 0.1;
  o.calibrate = 0;
  assert_int_equal(fm_trainer_new(heads, 1, &o, &tr, &err), FM_OK);
  corpus(tr, 0, 300, 0);
  m = build(tr, &bytes, &len);
  info.size = sizeof info;
  assert_int_equal(fm_model_info_get(m, &info, &err), FM_OK);
  assert_int_equal(info.opts.variant, FM_NB_MULTINOMIAL);
  assert_int_equal(info.variant, FM_NB_MULTINOMIAL);
  assert_int_equal(info.opts.priors, FM_PRIORS_LEARNED);
  assert_int_equal(info.priors, FM_PRIORS_LEARNED);
  assert_int_equal(info.n_alpha_grid, 0);
  fm_model_close(m);
  fm_free(bytes);
  fm_trainer_free(tr);
}

static void test_cross_validation(void **state) {
  const char *heads[] = {"h"};
  fm_train_opts o = FM_TRAIN_OPTS_INIT;
  fm_trainer *tr;
  fm_eval *ev;
  const fm_head_metrics *hm;
  fm_error err;
  size_t i;
  uint64_t support = 0;
  (void)state;
  o.alpha = 0.1;
  assert_int_equal(fm_trainer_new(heads, 1, &o, &tr, &err), FM_OK);
  corpus(tr, 0, 300, 0);
  assert_int_equal(fm_eval_new(heads, 1, NULL, &ev, &err), FM_OK);
  assert_int_equal(fm_trainer_cross_validate(tr, 1, ev, &err), FM_EINVAL);
  assert_int_equal(fm_trainer_cross_validate(tr, 5, ev, &err), FM_OK);
  assert_int_equal(fm_eval_head(ev, 0, &hm, &err), FM_OK);
  /* Every document is tested exactly once. */
  assert_int_equal(hm->n, 300);
  for (i = 0; i < hm->n_labels; i++) support += hm->labels[i].support;
  assert_int_equal(support, 300);
  assert_true(hm->accuracy > 0.8);
  assert_true(hm->ece >= 0 && hm->ece < 0.5);
  fm_eval_free(ev);
  fm_trainer_free(tr);
}

static void test_eval_metrics(void **state) {
  const char *heads[] = {"h"};
  fm_eval *ev;
  const fm_head_metrics *m;
  fm_error err;
  (void)state;
  assert_int_equal(fm_eval_new(heads, 1, NULL, &ev, &err), FM_OK);
  /* truth a: predicted a, a, b; truth b: predicted b; truth c: a */
  fm_eval_add(ev, 0, "a", "a", 0.9, 0, &err);
  fm_eval_add(ev, 0, "a", "a", 0.8, 0, &err);
  fm_eval_add(ev, 0, "a", "b", 0.6, 1, &err);
  fm_eval_add(ev, 0, "b", "b", 0.7, 0, &err);
  fm_eval_add(ev, 0, "c", "a", 0.5, 1, &err);
  fm_eval_add(ev, 0, "", "a", 0.5, 1, &err); /* unlabeled: skipped */
  assert_int_equal(fm_eval_head(ev, 0, &m, &err), FM_OK);
  assert_int_equal(m->n, 5);
  assert_true(fabs(m->accuracy - 0.6) < 1e-12);
  /* a: P 2/3 R 2/3 F 2/3; b: P 1/2 R 1 F 2/3; c: 0 -> macro 4/9 */
  assert_string_equal(m->labels[0].label, "a");
  assert_true(fabs(m->labels[0].precision - 2.0 / 3) < 1e-12);
  assert_true(fabs(m->labels[1].f1 - 2.0 / 3) < 1e-12);
  assert_true(fabs(m->macro_f1 - 4.0 / 9) < 1e-12);
  assert_int_equal(m->confusion[0 * m->confusion_stride + 1], 1);
  assert_int_equal(m->confusion[2 * m->confusion_stride + 0], 1);
  assert_int_equal(m->needs_review, 2);
  assert_true(fabs(m->accuracy_confident - 1.0) < 1e-12);
  /* ECE, 15 bins: 0.9 (bin 13) ok; 0.8 (bin 12) ok; 0.6 (bin 9) wrong;
   * 0.7 (bin 10) ok; 0.5 (bin 7) wrong:
   * (0.1 + 0.2 + 0.6 + 0.3 + 0.5) / 5 = 0.34 */
  assert_true(fabs(m->ece - 0.34) < 1e-12);
  fm_eval_free(ev);
}

static void test_calibration_fit(void **state) {
  fmi_calib_items it;
  fmi_calib c;
  fm_error err;
  size_t i;
  (void)state;
  memset(&it, 0, sizeof it);
  it.n_labels = 2;
  /* Scores 10 apart (softmax 0.99995) but right 3 times in 4: the fit
   * must bring the top probability near 0.75. */
  for (i = 0; i < 400; i++) {
    double s[2] = {10, 0};
    assert_int_equal(fmi_calib_items_add(&it, s, i % 4 == 3 ? 1 : 0), FM_OK);
  }
  assert_int_equal(fmi_calib_fit(&it, FM_REVIEW_TARGET_ACCURACY, 0.9, true,
                                 &c, &err),
                   FM_OK);
  assert_true(c.ece_raw > 0.24);
  assert_true(c.ece_cal < 0.02);
  assert_true(fabs(c.accuracy - 0.75) < 1e-12);
  {
    double s[2] = {10, 0}, p[2];
    fmi_calib_probs(&c, s, 2, p);
    assert_true(fabs(p[0] - 0.75) < 0.02);
  }
  /* 90% is never reached: everything needs review. */
  assert_true(c.threshold == 1.0);
  fmi_calib_items_free(&it);
}

static void test_trainer_errors(void **state) {
  const char *dup[] = {"h", "h"}, *heads[] = {"h", "k"};
  fm_train_opts o = FM_TRAIN_OPTS_INIT;
  fm_trainer *tr;
  void *bytes;
  size_t len;
  fm_error err;
  (void)state;
  assert_int_equal(fm_trainer_new(dup, 2, NULL, &tr, &err), FM_EINVAL);
  assert_null(tr);
  o.folds = 1;
  assert_int_equal(fm_trainer_new(heads, 2, &o, &tr, &err), FM_EINVAL);
  o = (fm_train_opts)FM_TRAIN_OPTS_INIT;
  o.calibrate = 0;
  o.alpha = 1;
  assert_int_equal(fm_trainer_new(heads, 2, &o, &tr, &err), FM_OK);
  add(tr, "good", "pos");
  /* head k has no labeled document */
  assert_int_equal(fm_trainer_write_memory(tr, &bytes, &len, &err), FM_EINVAL);
  assert_non_null(strstr(err.msg, "'k'"));
  assert_int_equal(fm_trainer_set_prior(tr, "nope", "x", 0.5, &err),
                   FM_ENOTFOUND);
  assert_int_equal(fm_trainer_set_prior(tr, "h", "x", 1.5, &err), FM_EINVAL);
  fm_trainer_free(tr);
}

static void test_given_prior(void **state) {
  const char *heads[] = {"h"};
  fm_train_opts o = plain_opts(FM_NB_MULTINOMIAL);
  fm_trainer *tr;
  fm_model *m;
  void *bytes;
  size_t len;
  double p[3];
  fm_error err;
  (void)state;
  assert_int_equal(fm_trainer_new(heads, 1, &o, &tr, &err), FM_OK);
  tiny(tr);
  /* pos fixed at 1/4; meh and neg share 3/4 by documents (1:1). */
  assert_int_equal(fm_trainer_set_prior(tr, "h", "pos", 0.25, &err), FM_OK);
  m = build(tr, &bytes, &len);
  /* pos: 1/4 * 8/49; neg: 3/8 * 1/18; meh: 3/8 * 3/25 */
  probs_of(m, "good fun", p);
  {
    double a = 0.25 * 8.0 / 49, b = 3.0 / 8 / 18, c = 3.0 / 8 * 3 / 25;
    assert_true(fabs(p[2] - a / (a + b + c)) < 1e-6);
  }
  fm_model_close(m);
  fm_free(bytes);
  fm_trainer_free(tr);
}

static void test_alloc_failures_train_write(void **state) {
  const char *heads[] = {"h"};
  fm_train_opts o = FM_TRAIN_OPTS_INIT;
  long k;
  (void)state;
  for (k = 0;; k++) {
    fm_trainer *tr = NULL;
    fm_status st;
    void *bytes = NULL;
    size_t len;
    fm_error err;
    fmi_fault_fail_after(k);
    st = fm_trainer_new(heads, 1, &o, &tr, &err);
    if (st == FM_OK) {
      fm_feature f[32];
      char store[32][32];
      const char *lab[1] = {"a"};
      size_t n = feats_of("alpha beta:2 gamma", f, store), i;
      for (i = 0; i < 12 && st == FM_OK; i++) {
        lab[0] = i % 3 ? "a" : "b";
        f[0].count = (uint32_t)(i + 1);
        st = fmi_trainer_add_features(tr, f, n - (i % 2), i, "ticket", lab,
                                      &err);
      }
      if (st == FM_OK) st = fm_trainer_write_memory(tr, &bytes, &len, &err);
    }
    fmi_fault_fail_after(-1);
    assert_true(st == FM_OK || st == FM_ENOMEM);
    fm_free(bytes);
    fm_trainer_free(tr);
    if (st == FM_OK) break;
  }
  assert_true(k > 10);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_multinomial_by_hand),
    cmocka_unit_test(test_complement_by_hand),
    cmocka_unit_test(test_given_prior),
    cmocka_unit_test(test_merge_is_training_on_union),
    cmocka_unit_test(test_merge_refuses_other_settings),
    cmocka_unit_test(test_auto_alpha_and_calibration),
    cmocka_unit_test(test_auto_choices_follow_alpha),
    cmocka_unit_test(test_cross_validation),
    cmocka_unit_test(test_eval_metrics),
    cmocka_unit_test(test_calibration_fit),
    cmocka_unit_test(test_trainer_errors),
    cmocka_unit_test(test_alloc_failures_train_write),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
