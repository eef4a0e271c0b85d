/*
 * test_model.c -- the model file: layout, validation on open, refusal of
 * every truncation and byte flip, versions, crafted files that pass the
 * checksum, allocation failures.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "classify.h"
#include "model.h"

static void add(fm_trainer *tr, const char *words, const char *l1,
                const char *l2) {
  fm_feature f[16];
  char store[16][24];
  const char *labels[2];
  size_t n = 0;
  const char *p = words;
  fm_error err;
  while (*p) {
    size_t len = 0;
    while (p[len] && p[len] != ' ') len++;
    memcpy(store[n], p, len);
    store[n][len] = 0;
    f[n].id = fmi_hash64(p, len);
    f[n].text = store[n];
    f[n].len = len;
    f[n].count = 1 + (uint32_t)(len % 3);
    f[n].kind = FM_FEATURE_UNIGRAM;
    n++;
    p += len;
    while (*p == ' ') p++;
  }
  labels[0] = l1;
  labels[1] = l2;
  assert_int_equal(fmi_trainer_add_features(tr, f, n,
                                            fmi_hash64(words, strlen(words)),
                                            l2 ? "churn" : "ticket", labels,
                                            &err),
                   FM_OK);
}

/* A small two-head model with calibration (so every section is there). */
static unsigned char *small_model(size_t *len) {
  const char *heads[] = {"area", "churn_reason"};
  fm_train_opts o = FM_TRAIN_OPTS_INIT;
  fm_trainer *tr;
  fm_error err;
  void *bytes;
  int i;
  o.folds = 2;
  assert_int_equal(fm_trainer_new(heads, 2, &o, &tr, &err), FM_OK);
  for (i = 0; i < 3; i++) {
    add(tr, "invoice charge refund", "billing", NULL);
    add(tr, "password login locked", "access", NULL);
    add(tr, "too expensive price invoice", "billing", "price");
    add(tr, "crash error slow", "bugs", "quality");
    add(tr, "login error", "access", NULL);
  }
  assert_int_equal(fm_trainer_write_memory(tr, &bytes, len, &err), FM_OK);
  fm_trainer_free(tr);
  return bytes;
}

static void refresh_checksum(unsigned char *b, size_t len) {
  fmi_put_le64(b + FMI_HDR_CHECKSUM, fmi_model_checksum(b, len));
}

static void test_open_and_accessors(void **state) {
  size_t len;
  unsigned char *b = small_model(&len);
  fm_model *m;
  fm_error err;
  fm_pipeline_opts po;
  (void)state;
  assert_int_equal(len % 8, 0);
  assert_memory_equal(b, "\x89" "FMM\r\n\x1a\n", 8);
  assert_int_equal(fm_model_open_memory(b, len, &m, &err), FM_OK);
  assert_int_equal(fm_model_head_count(m), 2);
  assert_string_equal(fm_model_head_name(m, 1), "churn_reason");
  assert_int_equal(fm_model_head_index(m, "area"), 0);
  assert_int_equal(fm_model_head_index(m, "nope"), -1);
  assert_int_equal(fm_model_label_count(m, 0), 3);
  assert_string_equal(fm_model_label_name(m, 0, 0), "access");
  assert_string_equal(fm_model_label_name(m, 0, 2), "bugs");
  assert_null(fm_model_label_name(m, 0, 3));
  assert_null(fm_model_head_name(m, 2));
  assert_int_equal(fm_model_label_docs(m, 0, 1), 6);
  /* churn_reason was only labeled on churn rows */
  assert_string_equal(fm_model_head_source(m, 1, 0), "churn");
  assert_null(fm_model_head_source(m, 1, 1));
  assert_string_equal(fm_model_head_source(m, 0, 0), "churn");
  assert_string_equal(fm_model_head_source(m, 0, 1), "ticket");
  assert_int_equal(strlen(fm_model_id(m)), 16);
  fm_model_pipeline_opts(m, &po);
  assert_true(po.stages & FM_STAGE_CHARGRAMS);
  assert_int_equal(po.char_ngram_max, 5);
  fm_model_close(m);
  fm_model_close(NULL);
  free(b);
}

static void test_every_truncation_refused(void **state) {
  size_t len, n;
  unsigned char *b = small_model(&len), *copy = malloc(len);
  (void)state;
  for (n = 0; n < len; n++) {
    fm_model *m = (fm_model *)1;
    fm_error err;
    fm_status st;
    memcpy(copy, b, n);
    st = fm_model_open_memory(copy, n, &m, &err);
    assert_int_equal(st, FM_EMODEL);
    assert_null(m);
    if (n >= 8 && n < FMI_HDR_BYTES) assert_non_null(strstr(err.msg, "truncated"));
    if (n >= FMI_HDR_BYTES) assert_non_null(strstr(err.msg, "header says"));
  }
  free(copy);
  free(b);
}

static void test_every_byte_flip_refused(void **state) {
  static const unsigned char flips[] = {0x01, 0x80, 0xff, 0x10};
  size_t len, i, k;
  unsigned char *b = small_model(&len), *copy = malloc(len);
  (void)state;
  for (i = 0; i < len; i++)
    for (k = 0; k < sizeof flips; k++) {
      fm_model *m = NULL;
      fm_error err;
      fm_status st;
      memcpy(copy, b, len);
      copy[i] ^= flips[k];
      st = fm_model_open_memory(copy, len, &m, &err);
      assert_true(st == FM_EMODEL || st == FM_EVERSION);
      assert_null(m);
    }
  free(copy);
  free(b);
}

static void test_versions(void **state) {
  size_t len;
  unsigned char *b = small_model(&len);
  fm_model *m = NULL;
  fm_error err;
  (void)state;
  /* A newer major: refused before the checksum, naming both versions. */
  fmi_put_le16(b + FMI_HDR_MAJOR, 2);
  fmi_put_le16(b + FMI_HDR_MINOR, 3);
  assert_int_equal(fm_model_open_memory(b, len, &m, &err), FM_EVERSION);
  assert_non_null(strstr(err.msg, "2.3"));
  assert_non_null(strstr(err.msg, "1.0"));
  assert_non_null(strstr(err.msg, "newer"));
  /* A newer minor of our major opens (it may only add optional sections). */
  fmi_put_le16(b + FMI_HDR_MAJOR, FMI_MODEL_FORMAT_MAJOR);
  fmi_put_le16(b + FMI_HDR_MINOR, FMI_MODEL_FORMAT_MINOR + 4);
  refresh_checksum(b, len);
  assert_int_equal(fm_model_open_memory(b, len, &m, &err), FM_OK);
  fm_model_close(m);
  free(b);
}

static size_t section_entry(const unsigned char *b, uint32_t id) {
  uint32_t n = fmi_le32(b + FMI_HDR_NSECTIONS), i;
  for (i = 0; i < n; i++)
    if (fmi_le32(b + FMI_HDR_BYTES + i * FMI_SECTION_ENTRY_BYTES) == id)
      return FMI_HDR_BYTES + i * FMI_SECTION_ENTRY_BYTES;
  fail();
  return 0;
}

static void test_unknown_sections(void **state) {
  size_t len, e;
  unsigned char *b = small_model(&len);
  fm_model *m = NULL;
  fm_head_info hi;
  fm_error err;
  (void)state;
  /* Calibration is the last section: renumber it to an unknown id. */
  e = section_entry(b, FMI_SEC_CALIB);
  fmi_put_le32(b + e, 99);
  refresh_checksum(b, len);
  /* optional: skipped, the model opens uncalibrated */
  assert_int_equal(fm_model_open_memory(b, len, &m, &err), FM_OK);
  hi.size = sizeof hi;
  assert_int_equal(fm_model_head_info(m, 0, &hi, &err), FM_OK);
  assert_int_equal(hi.calibration, FM_CALIB_NONE);
  fm_model_close(m);
  /* required: refused as a version this build cannot read */
  fmi_put_le32(b + e + 4, FMI_SECF_REQUIRED);
  refresh_checksum(b, len);
  assert_int_equal(fm_model_open_memory(b, len, &m, &err), FM_EVERSION);
  assert_non_null(strstr(err.msg, "section 99"));
  free(b);
}

static void test_foreign_files(void **state) {
  fm_model *m = NULL;
  fm_error err;
  char path[] = "/tmp/fm_test_model_XXXXXX";
  int fd;
  size_t len;
  unsigned char *b = small_model(&len);
  (void)state;
  assert_int_equal(fm_model_open_memory("hello, world", 12, &m, &err),
                   FM_EMODEL);
  assert_string_equal(err.msg, "not a feedmine model");
  assert_int_equal(fm_model_open("/nonexistent/model.fmm", &m, &err), FM_EIO);
  assert_non_null(strstr(err.msg, "/nonexistent/model.fmm"));
  /* A text-mode transfer turned \r\n into \n. */
  {
    unsigned char *t = malloc(len);
    memcpy(t, b, 4);
    memcpy(t + 4, b + 5, len - 5);
    assert_int_equal(fm_model_open_memory(t, len - 1, &m, &err), FM_EMODEL);
    assert_non_null(strstr(err.msg, "text-mode"));
    free(t);
  }
  /* Through a file (mmap) */
  fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, b, len), (ssize_t)len);
  close(fd);
  assert_int_equal(fm_model_open(path, &m, &err), FM_OK);
  assert_int_equal(fm_model_head_count(m), 2);
  fm_model_close(m);
  assert_int_equal(truncate(path, (off_t)len - 8), 0);
  assert_int_equal(fm_model_open(path, &m, &err), FM_EMODEL);
  assert_int_equal(truncate(path, 10), 0);
  assert_int_equal(fm_model_open(path, &m, &err), FM_EMODEL);
  unlink(path);
  free(b);
}

/* A file whose checksum matches but whose index is damaged: tagging must
 * fail cleanly or give some answer, never read out of bounds (ASan). */
static void test_crafted_index(void **state) {
  size_t len, e, off, sec_len, i;
  unsigned char *b = small_model(&len), *copy = malloc(len);
  uint64_t seed = 42;
  (void)state;
  e = section_entry(b, FMI_SEC_INDEX);
  off = (size_t)fmi_le64(b + e + 8);
  sec_len = (size_t)fmi_le64(b + e + 16);
  for (i = 0; i < 3000; i++) {
    fm_model *m = NULL;
    fm_error err;
    size_t k, pos;
    memcpy(copy, b, len);
    for (k = 0; k < 1 + i % 4; k++) {
      seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
      pos = off + (size_t)(seed >> 33) % sec_len;
      copy[pos] = (unsigned char)(seed >> 24);
    }
    refresh_checksum(copy, len);
    if (fm_model_open_memory(copy, len, &m, &err) == FM_OK) {
      fmi_scratch *s;
      fm_feature f[3];
      fm_analysis an;
      const double *scores;
      fm_status st;
      const char *w[3] = {"invoice", "login", "crash"};
      for (k = 0; k < 3; k++) {
        f[k].id = fmi_hash64(w[k], strlen(w[k]));
        f[k].text = w[k];
        f[k].len = strlen(w[k]);
        f[k].count = 1;
        f[k].kind = FM_FEATURE_UNIGRAM;
      }
      memset(&an, 0, sizeof an);
      an.features = f;
      an.n_features = 3;
      assert_int_equal(fmi_scratch_new(m, &s), FM_OK);
      st = fmi_score(m, s, &an, &scores, &err);
      assert_true(st == FM_OK || st == FM_EMODEL);
      fmi_scratch_free(s);
      fm_model_close(m);
    }
  }
  free(copy);
  free(b);
}

static void test_alloc_failures_open(void **state) {
  size_t len;
  unsigned char *b = small_model(&len);
  long k;
  (void)state;
  for (k = 0;; k++) {
    fm_model *m = NULL;
    fm_error err;
    fm_status st;
    fmi_fault_fail_after(k);
    st = fm_model_open_memory(b, len, &m, &err);
    fmi_fault_fail_after(-1);
    assert_true(st == FM_OK || st == FM_ENOMEM);
    if (st == FM_ENOMEM) assert_null(m);
    fm_model_close(m);
    if (st == FM_OK) break;
  }
  assert_true(k > 3);
  free(b);
}

static void test_same_input_same_bytes(void **state) {
  size_t l1, l2;
  unsigned char *a = small_model(&l1), *b = small_model(&l2);
  (void)state;
  assert_int_equal(l1, l2);
  assert_memory_equal(a, b, l1);
  free(a);
  free(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_open_and_accessors),
    cmocka_unit_test(test_same_input_same_bytes),
    cmocka_unit_test(test_every_truncation_refused),
    cmocka_unit_test(test_every_byte_flip_refused),
    cmocka_unit_test(test_versions),
    cmocka_unit_test(test_unknown_sections),
    cmocka_unit_test(test_foreign_files),
    cmocka_unit_test(test_crafted_index),
    cmocka_unit_test(test_alloc_failures_open),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
