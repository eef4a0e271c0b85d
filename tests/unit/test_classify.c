/*
 * test_classify.c -- tagging through the library: results, explanations,
 * heads skipped by source, calibration after the fact, learning
 * corrections, threads sharing one model, allocation failures.
 */
#include "testutil.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "classify.h"
#include "model.h"

static const char *words[3][8] = {
  {"invoice", "charged", "refund", "billing", "payment", "price", "card",
   "receipt"},
  {"password", "login", "locked", "reset", "account", "email", "username",
   "signin"},
  {"crash", "error", "slow", "freezes", "broken", "bug", "timeout",
   "exception"}};
static const char *areas[3] = {"billing", "access", "bugs"};

/* Text number i: mostly words of its area, now and then another's. */
static void text_of(size_t i, char *buf, size_t cap, size_t *area) {
  uint64_t h = fmi_hash64(&i, sizeof i);
  size_t a = i % 3, k, n = 3 + (size_t)(h % 5);
  buf[0] = 0;
  for (k = 0; k < n; k++) {
    size_t which = (h >> (5 * k + 3)) % 7 == 0 ? (a + 1) % 3 : a;
    const char *w = words[which][(h >> (3 * k + 1)) % 8];
    if (strlen(buf) + strlen(w) + 2 >= cap) break;
    if (k) strcat(buf, " ");
    strcat(buf, w);
  }
  *area = a;
}

static void train_corpus(fm_trainer *tr, size_t n, size_t offset) {
  size_t i;
  for (i = offset; i < offset + n; i++) {
    char text[256];
    size_t a;
    const char *labels[2];
    fm_error err;
    text_of(i, text, sizeof text, &a);
    labels[0] = areas[a];
    /* churn_reason only on churn rows */
    labels[1] = i % 4 == 0 ? (a == 0 ? "price" : "quality") : NULL;
    assert_int_equal(fm_trainer_add(tr, text, strlen(text), "en",
                                    i % 4 == 0 ? "churn" : "ticket", labels,
                                    &err),
                     FM_OK);
  }
}

static fm_model *model_of(fm_train_opts *o, void **bytes) {
  const char *heads[] = {"area", "churn_reason"};
  fm_trainer *tr;
  fm_model *m;
  size_t len;
  fm_error err;
  assert_int_equal(fm_trainer_new(heads, 2, o, &tr, &err), FM_OK);
  train_corpus(tr, 600, 0);
  assert_int_equal(fm_trainer_write_memory(tr, bytes, &len, &err), FM_OK);
  fm_trainer_free(tr);
  assert_int_equal(fm_model_open_memory(*bytes, len, &m, &err), FM_OK);
  return m;
}

static void test_tag_and_explain(void **state) {
  fm_train_opts o = FM_TRAIN_OPTS_INIT;
  fm_tag_opts to = FM_TAG_OPTS_INIT;
  void *bytes;
  fm_model *m;
  fm_tagger *t;
  const fm_result *r;
  fm_error err;
  const char *text = "I was charged twice, please refund the invoice";
  double sum = 0, prior_diff;
  size_t i, best, second;
  (void)state;
  o.calibrate = 0; /* raw softmax: log-odds are exact score gaps */
  o.alpha = 0.1;
  m = model_of(&o, &bytes);
  assert_int_equal(fm_tagger_new(m, NULL, &t, &err), FM_OK);
  to.flags = FM_TAG_EXPLAIN;
  to.explain_k = 1000;
  to.top_k = 2;
  assert_int_equal(fm_tagger_tag(t, text, strlen(text), "en", &to, &r, &err),
                   FM_OK);
  assert_int_equal(r->n_heads, 2);
  assert_string_equal(r->heads[0].head, "area");
  assert_string_equal(r->heads[0].label_name, "billing");
  assert_int_equal(r->heads[0].n_top, 2);
  assert_true(r->heads[0].top[0].prob >= r->heads[0].top[1].prob);
  assert_true(r->heads[0].prob > 0.5 && r->heads[0].prob <= 1);
  assert_int_equal(r->heads[0].needs_review, r->heads[0].prob < 0.5);
  /* Strongest first. */
  assert_true(r->heads[0].n_explain > 2);
  for (i = 1; i < r->heads[0].n_explain; i++)
    assert_true(fabs(r->heads[0].explain[i - 1].weight) >=
                fabs(r->heads[0].explain[i].weight));
  /* All contributions plus the prior gap are the log-odds between the
   * chosen label and the runner-up. */
  for (i = 0; i < r->heads[0].n_explain; i++)
    sum += r->heads[0].explain[i].weight;
  best = r->heads[0].top[0].label;
  second = r->heads[0].top[1].label;
  prior_diff = m->prior[best] - m->prior[second];
  assert_true(fabs(sum + prior_diff - log(r->heads[0].top[0].prob /
                                          r->heads[0].top[1].prob)) < 1e-4);
  /* The explanation names model features; "refund" pulls toward
   * billing; character n-grams come as one item. */
  {
    int found = 0, chars = 0;
    for (i = 0; i < r->heads[0].n_explain; i++) {
      if (!strcmp(r->heads[0].explain[i].feature, "refund")) {
        found = 1;
        assert_true(r->heads[0].explain[i].weight > 0);
      }
      chars += !strcmp(r->heads[0].explain[i].feature, "c:*");
    }
    assert_true(found);
    assert_int_equal(chars, 1);
  }
  fm_tagger_free(t);
  fm_model_close(m);
  fm_free(bytes);
}

static void test_source_skips_heads(void **state) {
  fm_train_opts o = FM_TRAIN_OPTS_INIT;
  fm_tag_opts to = FM_TAG_OPTS_INIT;
  void *bytes;
  fm_model *m;
  fm_tagger *t;
  const fm_result *r;
  fm_error err;
  const char *text = "too expensive, the price went up";
  (void)state;
  o.calibrate = 0;
  o.alpha = 0.1;
  m = model_of(&o, &bytes);
  assert_int_equal(fm_tagger_new(m, NULL, &t, &err), FM_OK);
  to.source = "ticket";
  assert_int_equal(fm_tagger_tag(t, text, strlen(text), NULL, &to, &r, &err),
                   FM_OK);
  assert_non_null(r->heads[0].label_name);
  assert_null(r->heads[1].label_name);
  assert_int_equal(r->heads[1].n_top, 0);
  assert_int_equal(r->heads[1].label, SIZE_MAX);
  to.source = "churn";
  assert_int_equal(fm_tagger_tag(t, text, strlen(text), NULL, &to, &r, &err),
                   FM_OK);
  assert_string_equal(r->heads[1].label_name, "price");
  assert_int_equal(fm_tagger_tag(t, text, strlen(text), NULL, NULL, &r, &err),
                   FM_OK);
  assert_non_null(r->heads[1].label_name);
  fm_tagger_free(t);
  /* A tagger without a model only analyzes. */
  assert_int_equal(fm_tagger_new(NULL, NULL, &t, &err), FM_OK);
  assert_int_equal(fm_tagger_tag(t, text, strlen(text), NULL, NULL, &r, &err),
                   FM_EINVAL);
  fm_tagger_free(t);
  fm_model_close(m);
  fm_free(bytes);
}

static void test_calibrate_and_learn(void **state) {
  fm_train_opts o = FM_TRAIN_OPTS_INIT;
  const char *heads[] = {"area", "churn_reason"};
  void *bytes, *cbytes;
  fm_model *m, *cm, *corr, *learned;
  fm_calibrator *cal;
  fm_trainer *tr;
  fm_head_info hi;
  fm_error err;
  char path[] = "/tmp/fm_test_cal_XXXXXX";
  size_t i, clen;
  int fd;
  (void)state;
  o.calibrate = 0;
  o.alpha = 0.1;
  m = model_of(&o, &bytes);
  hi.size = sizeof hi;
  assert_int_equal(fm_model_head_info(m, 0, &hi, &err), FM_OK);
  assert_int_equal(hi.calibration, FM_CALIB_NONE);
  assert_true(hi.threshold == 0.5);
  assert_int_equal(fm_calibrator_new(m, FM_REVIEW_TARGET_ACCURACY, 0, &cal,
                                     &err),
                   FM_OK);
  for (i = 1000; i < 1400; i++) {
    char text[256];
    size_t a;
    const char *labels[2] = {NULL, NULL};
    text_of(i, text, sizeof text, &a);
    labels[0] = areas[a];
    assert_int_equal(fm_calibrator_add(cal, text, strlen(text), "en", labels,
                                       &err),
                     FM_OK);
  }
  fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  assert_int_equal(fm_calibrator_write(cal, path, &err), FM_OK);
  fm_calibrator_free(cal);
  assert_int_equal(fm_model_open(path, &cm, &err), FM_OK);
  assert_int_equal(fm_model_head_info(cm, 0, &hi, &err), FM_OK);
  assert_true(hi.calibration != FM_CALIB_NONE);
  assert_int_equal(hi.held_out, 400);
  /* churn_reason had no labels: its calibration is unchanged */
  assert_int_equal(fm_model_head_info(cm, 1, &hi, &err), FM_OK);
  assert_int_equal(hi.calibration, FM_CALIB_NONE);
  /* Learning corrections: a new label appears, calibration is kept. */
  assert_int_equal(fm_trainer_new_like(cm, &tr, &err), FM_OK);
  for (i = 0; i < 5; i++) {
    const char *labels[2] = {"security", NULL};
    const char *text = "phishing attack two factor security breach";
    assert_int_equal(fm_trainer_add(tr, text, strlen(text), "en", NULL,
                                    labels, &err),
                     FM_OK);
  }
  assert_int_equal(fm_trainer_write_memory(tr, &cbytes, &clen, &err), FM_OK);
  fm_trainer_free(tr);
  assert_int_equal(fm_model_open_memory(cbytes, clen, &corr, &err), FM_OK);
  {
    const fm_model *both[2];
    void *lb;
    size_t ll;
    fm_head_info h2;
    h2.size = sizeof h2;
    both[0] = cm;
    both[1] = corr;
    assert_int_equal(fm_model_merge_memory(both, 2, FM_MERGE_KEEP_CALIBRATION,
                                           &lb, &ll, &err),
                     FM_OK);
    assert_int_equal(fm_model_open_memory(lb, ll, &learned, &err), FM_OK);
    assert_int_equal(fm_model_label_count(learned, 0), 4);
    assert_string_equal(fm_model_label_name(learned, 0, 3), "security");
    assert_int_equal(fm_model_head_info(learned, 0, &h2, &err), FM_OK);
    assert_int_equal(fm_model_head_info(cm, 0, &hi, &err), FM_OK);
    assert_int_equal(h2.calibration, hi.calibration);
    assert_true(h2.threshold == hi.threshold);
    {
      fm_model_info a, b;
      a.size = b.size = sizeof a;
      fm_model_info_get(cm, &a, &err);
      fm_model_info_get(learned, &b, &err);
      assert_int_equal(b.documents, a.documents + 5);
      assert_true(b.alpha == a.alpha);
    }
    fm_model_close(learned);
    fm_free(lb);
  }
  fm_model_close(corr);
  fm_free(cbytes);
  fm_model_close(cm);
  unlink(path);
  fm_model_close(m);
  fm_free(bytes);
  (void)heads;
}

/* ---- threads ------------------------------------------------------------- */

#define N_TEXTS 10000
#define N_THREADS 8

typedef struct tagged {
  size_t label[2];
  double prob[2];
  int review[2];
} tagged;

typedef struct job {
  fm_tagger *t;
  size_t first, step;
  tagged *out;
  int ok;
} job;

static int tag_range(fm_tagger *t, size_t first, size_t step, tagged *out) {
  fm_error err;
  size_t i, h;
  for (i = first; i < N_TEXTS; i += step) {
    char text[256];
    size_t a;
    const fm_result *r;
    text_of(i + 50000, text, sizeof text, &a);
    if (fm_tagger_tag(t, text, strlen(text), NULL, NULL, &r, &err) != FM_OK)
      return 0;
    for (h = 0; h < 2; h++) {
      out[i].label[h] = r->heads[h].label;
      out[i].prob[h] = r->heads[h].prob;
      out[i].review[h] = r->heads[h].needs_review;
    }
  }
  return 1;
}

static void *thread_main(void *p) {
  job *j = p;
  j->ok = tag_range(j->t, j->first, j->step, j->out);
  return NULL;
}

/* Taggers are created and warmed up (scratch sized by a long text) in the
 * main thread: the fault-injection allocator of the test build counts
 * allocations in a plain global, which is not for concurrent use. Tagging
 * itself then runs in the threads. */
static fm_tagger *warm_tagger(const fm_model *m) {
  fm_tagger *t;
  fm_error err;
  const fm_result *r;
  char text[2048] = "";
  size_t i;
  assert_int_equal(fm_tagger_new(m, NULL, &t, &err), FM_OK);
  for (i = 0; i < 60; i++) {
    strcat(text, words[i % 3][i % 8]);
    strcat(text, " ");
  }
  assert_int_equal(fm_tagger_tag(t, text, strlen(text), NULL, NULL, &r, &err),
                   FM_OK);
  return t;
}

static void test_threads_match_serial(void **state) {
  fm_train_opts o = FM_TRAIN_OPTS_INIT;
  void *bytes;
  fm_model *m;
  tagged *serial = calloc(N_TEXTS, sizeof *serial);
  tagged *par = calloc(N_TEXTS, sizeof *par);
  pthread_t th[N_THREADS];
  job jobs[N_THREADS];
  fm_tagger *t;
  size_t i;
  (void)state;
  o.folds = 3;
  m = model_of(&o, &bytes);
  t = warm_tagger(m);
  assert_true(tag_range(t, 0, 1, serial));
  fm_tagger_free(t);
  for (i = 0; i < N_THREADS; i++) {
    jobs[i].t = warm_tagger(m);
    jobs[i].first = i;
    jobs[i].step = N_THREADS;
    jobs[i].out = par;
    jobs[i].ok = 0;
  }
  for (i = 0; i < N_THREADS; i++)
    assert_int_equal(pthread_create(&th[i], NULL, thread_main, &jobs[i]), 0);
  for (i = 0; i < N_THREADS; i++) {
    assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_true(jobs[i].ok);
    fm_tagger_free(jobs[i].t);
  }
  /* Exactly the same, bit for bit. */
  assert_memory_equal(serial, par, N_TEXTS * sizeof *serial);
  free(serial);
  free(par);
  fm_model_close(m);
  fm_free(bytes);
}

/* Tagging hashes character n-grams where they lie and counts them in
 * batches (pipeline.c, feat_flush); fm_tagger_analyze builds each "c:"
 * text and hashes it. Both must give the same features in the same order:
 * every n-gram length the in-place hash handles (4 to 16 bytes with the
 * prefix) and those it leaves to the copy (3, over 16), in several
 * scripts, with negation, a URL host and repeated n-grams. */
static void test_tag_features_match_analyze(void **state) {
  static const char *texts[] = {
    "I was charged twice, please refund the invoice!! not happy at all",
    "Login broken: see https://www.Example.com:8080/x?y=1 and "
    "mail jo@example.com, supercalifragilisticexpialidocious a b c",
    "Не могу войти в аккаунт, пароль не подходит \xe2\x82\xac" "100",
    "\xe0\xb8\xa3\xe0\xb8\xb0\xe0\xb8\x9a\xe0\xb8\x9a\xe0\xb8\x8a\xe0\xb9"
    "\x89\xe0\xb8\xb2\xe0\xb8\xa1\xe0\xb8\xb2\xe0\xb8\x81 ok \xf0\x9f\x98"
    "\x80\xf0\x9f\x98\x80 \xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97",
    "aaaa aaaa aaaa bb bb x 12345678 2024 ???",
    "",
  };
  static const unsigned ranges[][2] = {{3, 5}, {1, 8}, {2, 16}};
  size_t r, i, j;
  (void)state;
  for (r = 0; r < sizeof ranges / sizeof *ranges; r++) {
    fm_train_opts o = FM_TRAIN_OPTS_INIT;
    void *bytes;
    fm_model *m;
    fm_tagger *t;
    fm_error err;
    o.calibrate = 0;
    o.alpha = 0.1;
    o.pipeline.stages |= FM_STAGE_CHARGRAMS;
    o.pipeline.char_ngram_min = ranges[r][0];
    o.pipeline.char_ngram_max = ranges[r][1];
    m = model_of(&o, &bytes);
    assert_int_equal(fm_tagger_new(m, NULL, &t, &err), FM_OK);
    for (i = 0; i < sizeof texts / sizeof *texts; i++) {
      const fm_result *res;
      const fm_analysis *an;
      fm_feature *by_tag;
      size_t n, chars = 0;
      assert_int_equal(fm_tagger_tag(t, texts[i], strlen(texts[i]), NULL,
                                     NULL, &res, &err),
                       FM_OK);
      n = res->analysis->n_features;
      by_tag = malloc((n + 1) * sizeof *by_tag);
      assert_non_null(by_tag);
      memcpy(by_tag, res->analysis->features, n * sizeof *by_tag);
      assert_int_equal(fm_tagger_analyze(t, texts[i], strlen(texts[i]), NULL,
                                         &an, &err),
                       FM_OK);
      assert_int_equal(an->n_features, n);
      for (j = 0; j < n; j++) {
        const fm_feature *a = &an->features[j];
        assert_true(by_tag[j].id == a->id);
        assert_int_equal(by_tag[j].count, a->count);
        assert_int_equal(by_tag[j].kind, a->kind);
        assert_true(a->id == fmi_hash64(a->text, a->len));
        if (a->kind == FM_FEATURE_CHARGRAM) {
          assert_null(by_tag[j].text);
          assert_memory_equal(a->text, "c:", 2);
          chars++;
        } else { /* (its text was in the arena that analyze reused) */
          assert_non_null(by_tag[j].text);
          assert_int_equal(by_tag[j].len, a->len);
        }
      }
      if (i + 1 < sizeof texts / sizeof *texts) assert_true(chars > 10);
      free(by_tag);
    }
    fm_tagger_free(t);
    fm_model_close(m);
    fm_free(bytes);
  }
}

/* fmi_score adds dense blocks eight and four floats at a time (with AVX2
 * where the CPU has it) and sparse ones posting by posting; its scores
 * must equal, to the bit, the plain loop model.h describes: per feature
 * in order, x * delta added in float for dense blocks and in double for
 * sparse ones. 19 classes, so dense rows take the 8-wide, 4-wide and
 * one-by-one steps; words shared by every class make dense blocks. */
static void test_score_matches_reference(void **state) {
  static const char *common[] = {"please", "help", "today", "thanks",
                                 "order", "account"};
  const char *heads[] = {"topic"};
  enum { NC = 19 };
  fm_train_opts o = FM_TRAIN_OPTS_INIT;
  fm_trainer *tr;
  fm_model *m;
  fm_tagger *t;
  fmi_scratch *sc;
  void *bytes;
  size_t len, i, k, docs, dense = 0, sparse = 0;
  fm_error err;
  (void)state;
  o.calibrate = 0;
  o.alpha = 0.1;
  assert_int_equal(fm_trainer_new(heads, 1, &o, &tr, &err), FM_OK);
  for (i = 0; i < 40 * NC; i++) {
    char text[256], label[16];
    const char *labels[1];
    size_t c = i % NC;
    uint64_t h = fmi_hash64(&i, sizeof i);
    snprintf(text, sizeof text, "%s %s topic%zu word%zu%c %s",
             common[h % 6], common[(h >> 8) % 6], c, c,
             (char)('a' + (h >> 16) % 3), common[(h >> 24) % 6]);
    snprintf(label, sizeof label, "c%zu", c);
    labels[0] = label;
    assert_int_equal(fm_trainer_add(tr, text, strlen(text), "en", NULL,
                                    labels, &err),
                     FM_OK);
  }
  assert_int_equal(fm_trainer_write_memory(tr, &bytes, &len, &err), FM_OK);
  fm_trainer_free(tr);
  assert_int_equal(fm_model_open_memory(bytes, len, &m, &err), FM_OK);
  assert_int_equal(m->n_classes, NC);
  assert_int_equal(fm_tagger_new(m, NULL, &t, &err), FM_OK);
  assert_int_equal(fmi_scratch_new(m, &sc), FM_OK);
  for (docs = 0; docs < 30; docs++) {
    char text[512];
    const fm_analysis *an;
    const double *scores;
    double x[256], acc[NC] = {0}, T = 0;
    float accf[NC] = {0};
    snprintf(text, sizeof text,
             "please help with my order today, topic%zu word%zub and "
             "topic%zu, thanks for the account help",
             docs % NC, (docs * 7) % NC, (docs * 5 + 3) % NC);
    assert_int_equal(fm_tagger_analyze(t, text, strlen(text), "en", &an,
                                       &err),
                     FM_OK);
    assert_true(an->n_features <= 256);
    assert_int_equal(fmi_score(m, sc, an, &scores, &err), FM_OK);
    fmi_doc_weights(&m->set, NULL, an->features, an->n_features, x);
    for (i = 0; i < an->n_features; i++) {
      uint32_t row, block, n = 0;
      const unsigned char *p = NULL;
      bool is_dense = false;
      float idf = 0;
      double xi;
      if (!fmi_model_lookup(m, an->features[i].id, &row, &block)) continue;
      assert_true(fmi_model_block(m, block, &p, &n, &is_dense, &idf));
      xi = x[i] * (double)idf;
      T += xi;
      if (is_dense) {
        dense++;
        for (k = 0; k < NC; k++) {
          float term = (float)xi * fmi_lef32(p + 4 * k);
          accf[k] += term;
        }
      } else {
        sparse++;
        for (k = 0; k < n; k++)
          acc[fmi_le32(p + 8 * k)] += xi * (double)fmi_lef32(p + 8 * k + 4);
      }
    }
    for (k = 0; k < NC; k++) {
      double want = m->prior[k] + m->cnst[k] * T + (acc[k] + (double)accf[k]);
      assert_memory_equal(&scores[k], &want, sizeof want);
    }
  }
  assert_true(dense > 30 && sparse > 30);
  fmi_scratch_free(sc);
  fm_tagger_free(t);
  fm_model_close(m);
  fm_free(bytes);
}

static void test_alloc_failures_tag(void **state) {
  fm_train_opts o = FM_TRAIN_OPTS_INIT;
  void *bytes;
  fm_model *m;
  long k;
  (void)state;
  o.calibrate = 0;
  o.alpha = 0.1;
  m = model_of(&o, &bytes);
  for (k = 0;; k++) {
    fm_tagger *t = NULL;
    fm_tag_opts to = FM_TAG_OPTS_INIT;
    const fm_result *r;
    fm_error err;
    fm_status st;
    const char *text = "refund my invoice, the login is broken";
    to.flags = FM_TAG_EXPLAIN;
    fmi_fault_fail_after(k);
    st = fm_tagger_new(m, NULL, &t, &err);
    if (st == FM_OK) st = fm_tagger_tag(t, text, strlen(text), "en", &to, &r, &err);
    if (st == FM_OK) st = fm_tagger_tag(t, text, strlen(text), "en", &to, &r, &err);
    fmi_fault_fail_after(-1);
    assert_true(st == FM_OK || st == FM_ENOMEM);
    fm_tagger_free(t);
    if (st == FM_OK) break;
  }
  assert_true(k > 3);
  fm_model_close(m);
  fm_free(bytes);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_tag_and_explain),
    cmocka_unit_test(test_source_skips_heads),
    cmocka_unit_test(test_calibrate_and_learn),
    cmocka_unit_test(test_threads_match_serial),
    cmocka_unit_test(test_alloc_failures_tag),
    cmocka_unit_test(test_tag_features_match_analyze),
    cmocka_unit_test(test_score_matches_reference),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
