/* test_pipeline.c -- the whole text pipeline through the public API. */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static fm_tagger *new_tagger(unsigned stages) {
  fm_pipeline_opts o = FM_PIPELINE_OPTS_INIT;
  fm_tagger *t = NULL;
  fm_error err;
  o.stages = stages;
  assert_int_equal(fm_tagger_new(NULL, &o, &t, &err), FM_OK);
  return t;
}

static const fm_analysis *run(fm_tagger *t, const char *s, const char *lang) {
  const fm_analysis *a = NULL;
  fm_error err;
  fm_status st = fm_tagger_analyze(t, s, strlen(s), lang, &a, &err);
  if (st != FM_OK) fail_msg("analyze failed: %s", err.msg);
  return a;
}

/* Appends "|text" (no bar first) to buf of cap bytes at *n, when it fits. */
static void join_add(char *buf, size_t cap, size_t *n, const char *t,
                     size_t len) {
  if (*n + len + 2 >= cap) return;
  if (*n) buf[(*n)++] = '|';
  memcpy(buf + *n, t, len);
  *n += len;
  buf[*n] = 0;
}

/* All features as "f1|f2|..." (bigrams keep their blank). One buffer per
 * thread: the threads test digests on two threads at once (TSan). */
static char *features(const fm_analysis *a) {
  static _Thread_local char buf[8192];
  size_t i, n = 0;
  buf[0] = 0;
  for (i = 0; i < a->n_features; i++)
    join_add(buf, sizeof buf, &n, a->features[i].text, a->features[i].len);
  return buf;
}

static int has_feature(const fm_analysis *a, const char *f) {
  size_t i;
  for (i = 0; i < a->n_features; i++)
    if (a->features[i].len == strlen(f) &&
        !memcmp(a->features[i].text, f, a->features[i].len))
      return (int)a->features[i].count;
  return 0;
}

static void test_negation_scope(void **state) {
  fm_tagger *t = new_tagger(FM_STAGES_DEFAULT & ~FM_STAGE_STEM);
  const fm_analysis *a;
  (void)state;
  a = run(t, "The export is not fast and reliable, but support was good.", "en");
  /* "fast" and "reliable" are in scope up to the comma; "good" is not */
  assert_true(has_feature(a, "!fast"));
  assert_true(has_feature(a, "!reliable"));
  assert_true(has_feature(a, "good"));
  assert_false(has_feature(a, "!good"));
  assert_false(has_feature(a, "fast"));
  a = run(t, "good", "en");
  assert_true(has_feature(a, "good"));
  a = run(t, "not good", "en");
  assert_true(has_feature(a, "!good"));
  assert_false(has_feature(a, "good"));
  fm_tagger_free(t);
}

static void test_negation_off(void **state) {
  fm_tagger *t = new_tagger(FM_STAGES_DEFAULT & ~(FM_STAGE_STEM | FM_STAGE_NEGATION));
  const fm_analysis *a = run(t, "not good", "en");
  (void)state;
  assert_true(has_feature(a, "good"));
  assert_false(has_feature(a, "!good"));
  fm_tagger_free(t);
}

static void test_bigrams_stop_at_full_stop(void **state) {
  fm_tagger *t = new_tagger(FM_STAGES_DEFAULT & ~FM_STAGE_STEM);
  const fm_analysis *a;
  (void)state;
  a = run(t, "Search broken. Billing page slow", "en");
  assert_true(has_feature(a, "search broken"));
  assert_true(has_feature(a, "billing page"));
  assert_true(has_feature(a, "page slow"));
  assert_false(has_feature(a, "broken billing"));
  /* a line break ends a sentence too */
  a = run(t, "search broken\nbilling slow", "en");
  assert_false(has_feature(a, "broken billing"));
  fm_tagger_free(t);
}

static void test_stopwords_and_stems(void **state) {
  fm_tagger *t = new_tagger(FM_STAGES_DEFAULT);
  const fm_analysis *a;
  (void)state;
  a = run(t, "The reports are loading very slowly", "en");
  assert_string_equal(a->lang, "en");
  assert_int_equal(a->lang_given, 1);
  assert_false(has_feature(a, "the"));
  assert_true(has_feature(a, "report"));
  assert_true(has_feature(a, "load"));
  fm_tagger_free(t);
}

/* All tokens' texts as "t1|t2|...". */
static char *token_texts(const fm_analysis *a) {
  static char buf[1024];
  size_t i, n = 0;
  buf[0] = 0;
  for (i = 0; i < a->n_tokens; i++)
    join_add(buf, sizeof buf, &n, a->tokens[i].text, a->tokens[i].len);
  return buf;
}

/* "l'application" and "application" are one word to count and stem: the
 * elided article is dropped in French, Italian and Catalan, with either
 * apostrophe, and only there. */
static void test_elision(void **state) {
  fm_tagger *t = new_tagger(FM_STAGES_DEFAULT | FM_STAGE_STOPWORDS);
  const fm_analysis *a;
  (void)state;
  a = run(t, "L'application plante, j'ai un problème d\u2019accès "
             "jusqu'à aujourd'hui", "fr");
  assert_string_equal(token_texts(a),
                      "application|plante|,|ai|un|problème|accès|à|"
                      "aujourd'hui");
  assert_true(has_feature(a, "appliqu"));
  assert_true(has_feature(a, "acces"));
  assert_false(has_feature(a, "l'appliqu"));
  /* the token's offsets are the word's, after the apostrophe */
  assert_int_equal(a->tokens[0].start, 2);
  assert_int_equal(a->tokens[0].end, 13);
  assert_memory_equal(a->normalized + a->tokens[6].start, "accès", 6);
  a = run(t, "l' d' qu'", "fr"); /* nothing after the apostrophe */
  assert_string_equal(token_texts(a), "l|'|d|'|qu|'");
  a = run(t, "dell'applicazione, l\u2019utente e un'ora", "it");
  assert_string_equal(token_texts(a), "applicazione|,|utente|e|ora");
  a = run(t, "l'aplicació d'avui", "ca");
  assert_string_equal(token_texts(a), "aplicació|avui");
  a = run(t, "l'application d'accès", "en"); /* not an eliding language */
  assert_string_equal(token_texts(a), "l'application|d'accès");
  fm_tagger_free(t);
}

static void test_redaction_placeholder_token(void **state) {
  fm_tagger *t = new_tagger(FM_STAGES_DEFAULT);
  const fm_analysis *a;
  size_t i;
  int seen = 0;
  (void)state;
  a = run(t, "Write to Jane.Doe@Example.com about INVOICE 7", NULL);
  assert_int_equal(a->pii_count, 1);
  assert_non_null(strstr(a->redacted, "Write to <email> about INVOICE 7"));
  for (i = 0; i < a->n_tokens; i++)
    if (a->tokens[i].kind == FM_TOKEN_PLACEHOLDER) {
      assert_int_equal(a->tokens[i].len, 7);
      assert_memory_equal(a->tokens[i].text, "<email>", 7);
      seen++;
    }
  assert_int_equal(seen, 1);
  assert_true(has_feature(a, "<email>"));
  assert_null(strstr(features(a), "example"));
  /* a private-use character in the input is not a placeholder */
  a = run(t, "odd \xEE\x80\x80 char", "en");
  assert_int_equal(a->pii_count, 0);
  assert_false(has_feature(a, "<email>"));
  fm_tagger_free(t);
}

static void test_numbers(void **state) {
  fm_tagger *t = new_tagger(FM_STAGES_DEFAULT & ~FM_STAGE_REDACT);
  const fm_analysis *a = run(t, "error 500 on order 123456789", "en");
  (void)state;
  assert_true(has_feature(a, "500"));
  assert_true(has_feature(a, "<num>"));
  assert_false(has_feature(a, "123456789"));
  fm_tagger_free(t);
}

static void test_edge_texts(void **state) {
  fm_tagger *t = new_tagger(FM_STAGES_DEFAULT | FM_STAGE_CHARGRAMS);
  const fm_analysis *a;
  fm_error err;
  (void)state;
  a = run(t, "", NULL);
  assert_int_equal(a->n_features, 0);
  assert_string_equal(a->lang, "und");
  a = run(t, "?!... ,;:", NULL);
  /* no word features; character n-grams of the chunks ("!!!" counts) */
  for (size_t i = 0; i < a->n_features; i++)
    assert_int_equal(a->features[i].kind, FM_FEATURE_CHARGRAM);
  assert_true(has_feature(a, "c:?!"));
  /* NUL bytes are spaces, invalid bytes are counted */
  assert_int_equal(fm_tagger_analyze(t, "bad\0byte\xff", 9, "en", &a, &err), FM_OK);
  assert_int_equal(a->invalid_utf8, 1);
  assert_true(has_feature(a, "bad"));
  assert_true(has_feature(a, "byte"));
  fm_tagger_free(t);
}

static void test_chargrams(void **state) {
  fm_pipeline_opts o = FM_PIPELINE_OPTS_INIT;
  fm_tagger *t = NULL;
  const fm_analysis *a;
  fm_error err;
  (void)state;
  o.stages = FM_STAGES_DEFAULT | FM_STAGE_CHARGRAMS;
  o.char_ngram_min = 2;
  o.char_ngram_max = 3;
  assert_int_equal(fm_tagger_new(NULL, &o, &t, &err), FM_OK);
  a = run(t, "Sync", "en");
  assert_true(has_feature(a, "c:_s"));
  assert_true(has_feature(a, "c:yn"));
  assert_true(has_feature(a, "c:nc_"));
  assert_true(has_feature(a, "c:_sy"));
  assert_false(has_feature(a, "c:sync"));
  /* n-grams come from blank-delimited chunks: punctuation, symbols and
   * digits inside a chunk count, across the word tokens */
  a = run(t, "Win £100 now!", "en");
  assert_true(has_feature(a, "c:_£1"));
  assert_true(has_feature(a, "c:00_"));
  assert_true(has_feature(a, "c:w!_"));
  assert_false(has_feature(a, "c:n_£")); /* "Win", "£100": two chunks */
  /* a PII placeholder makes no n-grams */
  a = run(t, "mail jo@example.com", "en");
  assert_true(has_feature(a, "<email>"));
  for (size_t i = 0; i < a->n_features; i++)
    assert_null(memchr(a->features[i].text, 0xEE, a->features[i].len));
  fm_tagger_free(t);
}

/* The host of a redacted URL is a feature, with its character n-grams;
 * the path never is. */
static void test_url_host(void **state) {
  fm_pipeline_opts o = FM_PIPELINE_OPTS_INIT;
  fm_tagger *t = NULL;
  const fm_analysis *a;
  fm_error err;
  (void)state;
  o.stages = FM_STAGES_DEFAULT | FM_STAGE_CHARGRAMS;
  o.char_ngram_min = 3;
  o.char_ngram_max = 3;
  assert_int_equal(fm_tagger_new(NULL, &o, &t, &err), FM_OK);
  a = run(t, "watch https://www.YouTube.com/watch?v=secret and "
             "http://user@example.org:8080/private", "en");
  assert_int_equal(a->pii_count, 2);
  assert_true(has_feature(a, "url:youtube.com"));
  assert_true(has_feature(a, "url:example.org"));
  assert_true(has_feature(a, "c:_yo"));
  assert_true(has_feature(a, "c:org"));
  assert_false(has_feature(a, "secret"));
  assert_false(has_feature(a, "c:sec"));
  assert_false(has_feature(a, "private"));
  assert_false(has_feature(a, "user"));
  fm_tagger_free(t);
  /* no redaction, no host feature: the URL is text */
  t = new_tagger(FM_STAGES_DEFAULT & ~FM_STAGE_REDACT);
  a = run(t, "https://www.youtube.com/watch", "en");
  assert_false(has_feature(a, "url:youtube.com"));
  fm_tagger_free(t);
}

static void test_size_cap(void **state) {
  size_t n = 5u << 20, i;
  char *big = malloc(n);
  fm_tagger *t = new_tagger(FM_STAGES_DEFAULT);
  fm_pipeline_opts o = FM_PIPELINE_OPTS_INIT;
  const fm_analysis *a;
  fm_error err;
  (void)state;
  for (i = 0; i < n; i++) big[i] = (i % 7 == 6) ? ' ' : (char)('a' + i % 5);
  assert_int_equal(fm_tagger_analyze(t, big, n, NULL, &a, &err), FM_ETOOBIG);
  assert_non_null(strstr(err.msg, "limit"));
  fm_tagger_free(t);
  /* with a cap above it, a 5 MiB text goes through */
  o.max_doc_bytes = 8u << 20;
  assert_int_equal(fm_tagger_new(NULL, &o, &t, &err), FM_OK);
  assert_int_equal(fm_tagger_analyze(t, big, n, "en", &a, &err), FM_OK);
  assert_true(a->n_tokens > 700000);
  fm_tagger_free(t);
  free(big);
}

/* ---- threads ------------------------------------------------------------- */
static const char *thread_texts[] = {
  "The dashboard doesn't load since Monday",
  "Die Suche findet keine Tickets mehr",
  "ระบบล่มบ่อยมาก ไม่สามารถส่งออกรายงานได้",
  "האפליקציה לא נטענת כבר יומיים",
  "التطبيق لا يعمل منذ التحديث الأخير",
  "Приложение не загружается с утра",
};
#define NTEXTS (sizeof thread_texts / sizeof thread_texts[0])

static void digest(const fm_analysis *a, char *out, size_t cap) {
  snprintf(out, cap, "%s|%zu|%s", a->lang, a->n_features, features(a));
}

typedef struct { int offset; char results[NTEXTS][2048]; } job;

static void *worker(void *arg) {
  job *j = arg;
  fm_tagger *t = NULL;
  fm_error err;
  int r, k;
  if (fm_tagger_new(NULL, NULL, &t, &err) != FM_OK) return NULL;
  for (r = 0; r < 50; r++)
    for (k = 0; k < (int)NTEXTS; k++) {
      int idx = (k + j->offset) % (int)NTEXTS;
      const fm_analysis *a;
      if (fm_tagger_analyze(t, thread_texts[idx], strlen(thread_texts[idx]),
                            NULL, &a, &err) == FM_OK)
        digest(a, j->results[idx], sizeof j->results[idx]);
    }
  fm_tagger_free(t);
  return NULL;
}

static void test_two_threads_same_as_one(void **state) {
  static job serial, j1, j2;
  pthread_t a, b;
  size_t i;
  (void)state;
  serial.offset = 0;
  worker(&serial);
  j1.offset = 1;
  j2.offset = 3;
  assert_int_equal(pthread_create(&a, NULL, worker, &j1), 0);
  assert_int_equal(pthread_create(&b, NULL, worker, &j2), 0);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  for (i = 0; i < NTEXTS; i++) {
    assert_true(strlen(serial.results[i]) > 5);
    assert_string_equal(serial.results[i], j1.results[i]);
    assert_string_equal(serial.results[i], j2.results[i]);
  }
}

/* ---- allocation failures --------------------------------------------------- */
static void test_alloc_failure_loop(void **state) {
  long k;
  (void)state;
  for (k = 0; k < 100000; k++) {
    fm_tagger *t = NULL;
    const fm_analysis *a;
    fm_error err;
    fm_status st;
    fmi_fault_fail_after(k);
    st = fm_tagger_new(NULL, NULL, &t, &err);
    if (st == FM_OK) {
      static const char text[] = "Jane (jane@example.com) says: the app "
                                 "isn't syncing, ระบบล่ม";
      st = fm_tagger_analyze(t, text, sizeof text - 1, NULL, &a, &err);
    }
    fmi_fault_fail_after(-1);
    if (st != FM_OK) {
      assert_int_equal(st, FM_ENOMEM);
      if (t) {
        /* the tagger survives a failed document and works again */
        assert_int_equal(fm_tagger_analyze(t, "ok then", 7, "en", &a, &err), FM_OK);
      }
      fm_tagger_free(t);
      continue;
    }
    fm_tagger_free(t);
    break;
  }
  assert_true(k > 3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_negation_scope),
    cmocka_unit_test(test_negation_off),
    cmocka_unit_test(test_bigrams_stop_at_full_stop),
    cmocka_unit_test(test_stopwords_and_stems),
    cmocka_unit_test(test_elision),
    cmocka_unit_test(test_redaction_placeholder_token),
    cmocka_unit_test(test_numbers),
    cmocka_unit_test(test_edge_texts),
    cmocka_unit_test(test_chargrams),
    cmocka_unit_test(test_url_host),
    cmocka_unit_test(test_size_cap),
    cmocka_unit_test(test_two_threads_same_as_one),
    cmocka_unit_test(test_alloc_failure_loop),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
