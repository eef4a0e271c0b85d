/* test_agg.c -- fm_agg: adding items, merging (the aggregate of A and B
 * equals the merge of the aggregates of A and B, byte for byte, in any
 * order and grouping), bounded reservoirs and phrase tables, the
 * serialized format and its validation, periods, allocation failures. */
#include "testutil.h"

#include <stdlib.h>

#include "agg.h"
#include "agg_fixture.h"

static char *ser(const fm_agg *a, size_t *len) {
  char *d = NULL;
  fm_error err;
  assert_int_equal(fm_agg_serialize(a, &d, len, &err), FM_OK);
  return d;
}

static void assert_same(const fm_agg *x, const fm_agg *y) {
  size_t lx, ly;
  char *dx = ser(x, &lx), *dy = ser(y, &ly);
  if (lx != ly || memcmp(dx, dy, lx)) {
    size_t i = 0;
    while (i < lx && i < ly && dx[i] == dy[i]) i++;
    fprintf(stderr, "aggregates differ at byte %zu:\n  %.120s\n  %.120s\n", i,
            dx + (i > 40 ? i - 40 : 0), dy + (i > 40 ? i - 40 : 0));
    fail();
  }
  fm_free(dx);
  fm_free(dy);
}

static void assert_same_report(const fm_agg *x, const fm_agg *y) {
  fm_report_opts ro = FM_REPORT_OPTS_INIT;
  char *dx, *dy;
  size_t lx, ly;
  fm_error err;
  ro.format = FM_REPORT_JSON;
  assert_int_equal(fm_report_write_memory(x, &ro, &dx, &lx, &err), FM_OK);
  assert_int_equal(fm_report_write_memory(y, &ro, &dy, &ly, &err), FM_OK);
  assert_int_equal(lx, ly);
  assert_memory_equal(dx, dy, lx);
  fm_free(dx);
  fm_free(dy);
}

static fm_agg *agg_with(const fm_agg_opts *o, size_t mod, size_t rem) {
  fm_agg *a = NULL;
  fm_error err;
  assert_int_equal(fm_agg_new(o, &a, &err), FM_OK);
  assert_int_equal(fx_add_range(a, 0, FX_N, mod, rem, &err), FM_OK);
  return a;
}

static void check_merge_laws(const fm_agg_opts *o) {
  fm_agg *all = agg_with(o, 0, 0);
  fm_agg *a = agg_with(o, 3, 0), *b = agg_with(o, 3, 1), *c = agg_with(o, 3, 2);
  fm_agg *ab_c = agg_with(o, 3, 0), *a_bc = agg_with(o, 3, 0);
  fm_agg *bc = agg_with(o, 3, 1), *cba = agg_with(o, 3, 2);
  fm_agg *empty = NULL;
  fm_error err;
  /* (A + B) + C */
  assert_int_equal(fm_agg_merge(ab_c, b, &err), FM_OK);
  assert_int_equal(fm_agg_merge(ab_c, c, &err), FM_OK);
  /* A + (B + C) */
  assert_int_equal(fm_agg_merge(bc, c, &err), FM_OK);
  assert_int_equal(fm_agg_merge(a_bc, bc, &err), FM_OK);
  /* C + B + A */
  assert_int_equal(fm_agg_merge(cba, b, &err), FM_OK);
  assert_int_equal(fm_agg_merge(cba, a, &err), FM_OK);
  assert_same(all, ab_c);
  assert_same(all, a_bc);
  assert_same(all, cba);
  assert_same_report(all, cba);
  /* merging an empty aggregate changes nothing */
  assert_int_equal(fm_agg_new(o, &empty, &err), FM_OK);
  assert_int_equal(fm_agg_merge(cba, empty, &err), FM_OK);
  assert_same(all, cba);
  fm_agg_free(empty);
  fm_agg_free(all);
  fm_agg_free(a);
  fm_agg_free(b);
  fm_agg_free(c);
  fm_agg_free(ab_c);
  fm_agg_free(a_bc);
  fm_agg_free(bc);
  fm_agg_free(cba);
}

static void test_merge_is_union(void **state) {
  fm_agg_opts o = fx_opts();
  fm_agg *all, *even, *odd;
  fm_error err;
  (void)state;
  all = agg_with(&o, 0, 0);
  even = agg_with(&o, 2, 0);
  odd = agg_with(&o, 2, 1);
  assert_int_equal(fm_agg_merge(even, odd, &err), FM_OK);
  assert_same(all, even);
  assert_same_report(all, even);
  fm_agg_free(all);
  fm_agg_free(even);
  fm_agg_free(odd);
  check_merge_laws(&o);
}

/* Tiny reservoirs and a phrase cap that forces sampling: merging must stay
 * exact because what is kept depends on the items, not on their order. */
static void test_merge_exact_when_bounded(void **state) {
  fm_agg_opts o = fx_opts();
  fm_agg *all;
  fm_agg_stats st;
  fm_error err;
  (void)state;
  o.exemplars = 2;
  o.review_items = 3;
  o.max_phrases = 16;
  all = agg_with(&o, 0, 0);
  memset(&st, 0, sizeof st);
  st.size = sizeof st;
  assert_int_equal(fm_agg_stats_get(all, &st, &err), FM_OK);
  assert_true(st.phrase_sampling > 0);
  assert_true(st.phrases <= 16);
  assert_int_equal(st.items, 31);
  assert_int_equal(st.previous_items, 14);
  assert_int_equal(st.outside, 1);
  assert_int_equal(st.undated, 1);
  assert_int_equal(st.accounts, 6);
  fm_agg_free(all);
  check_merge_laws(&o);
}

static void test_serialize_roundtrip(void **state) {
  fm_agg_opts o = fx_opts();
  fm_agg *a = agg_with(&o, 0, 0), *b = NULL, *half = agg_with(&o, 2, 0);
  fm_agg *other = NULL;
  char *d;
  size_t len;
  fm_error err;
  (void)state;
  d = ser(a, &len);
  assert_true(len > 1000);
  assert_memory_equal(d, "{\"format\":\"feedmine-aggregate\",\"version\":1,", 42);
  assert_int_equal(fm_agg_deserialize(d, len, &b, &err), FM_OK);
  assert_same(a, b);
  assert_same_report(a, b);
  fm_free(d);
  fm_agg_free(b);
  /* a deserialized part merges like the original */
  d = ser(half, &len);
  assert_int_equal(fm_agg_deserialize(d, len, &other, &err), FM_OK);
  fm_free(d);
  fm_agg_free(half);
  half = agg_with(&o, 2, 1);
  assert_int_equal(fm_agg_merge(other, half, &err), FM_OK);
  assert_same(a, other);
  fm_agg_free(a);
  fm_agg_free(half);
  fm_agg_free(other);
}

/* Replaces the first occurrence of `from` in the serialized fixture with
 * `to` and returns the deserializer's status and message. */
static fm_status tamper(const char *from, const char *to, fm_error *err) {
  fm_agg_opts o = fx_opts();
  fm_agg *a = agg_with(&o, 0, 0), *b = NULL;
  size_t len, nf = strlen(from), nt = strlen(to), off;
  char *d = NULL, *p, *e;
  fm_status st;
  assert_int_equal(fm_agg_serialize(a, &d, &len, err), FM_OK);
  p = strstr(d, from);
  assert_non_null(p);
  off = (size_t)(p - d);
  e = malloc(len - nf + nt + 1);
  memcpy(e, d, off);
  memcpy(e + off, to, nt);
  memcpy(e + off + nt, d + off + nf, len - off - nf);
  st = fm_agg_deserialize(e, len - nf + nt, &b, err);
  if (st == FM_OK) fm_agg_free(b);
  else assert_null(b);
  free(e);
  fm_free(d);
  fm_agg_free(a);
  return st;
}

static void test_deserialize_rejects(void **state) {
  fm_agg *b = NULL;
  fm_error err;
  (void)state;
  assert_int_equal(fm_agg_deserialize("", 0, &b, &err), FM_EPARSE);
  assert_int_equal(fm_agg_deserialize("{\"format\":", 10, &b, &err), FM_EPARSE);
  assert_int_equal(err.line, 1);
  assert_int_equal(fm_agg_deserialize("[1,2]", 5, &b, &err), FM_EPARSE);
  {
    const char *j = "{\"format\":\"x\",\"version\":1}";
    assert_int_equal(fm_agg_deserialize(j, strlen(j), &b, &err), FM_EPARSE);
  }
  assert_non_null(strstr(err.msg, "not a feedmine aggregate"));
  assert_null(b);
  assert_int_equal(tamper("\"version\":1", "\"version\":2", &err), FM_EVERSION);
  assert_non_null(strstr(err.msg, "version 2"));
  assert_int_equal(tamper("\"undated\":1", "\"undated\":-1", &err), FM_EPARSE);
  assert_non_null(strstr(err.msg, "undated"));
  assert_int_equal(tamper(",1,\"invoice\",\"invoice\",", ",1,\"invoices\",\"invoice\",",
                          &err), FM_EPARSE);
  assert_non_null(strstr(err.msg, "hash"));
  assert_int_equal(tamper("\"items\":[", "\"itemz\":[", &err), FM_EPARSE);
  assert_non_null(strstr(err.msg, "missing \"items\""));
  assert_int_equal(tamper("[\"acme\",3,", "[\"acme\",4,", &err), FM_EPARSE);
  assert_int_equal(tamper("\"phrase_sampling\":[0,0,0]", "\"phrase_sampling\":[0,0,1]",
                          &err), FM_EPARSE); /* phrases no longer kept */
  assert_int_equal(tamper("\"compare\":\"previous\"", "\"compare\":\"year\"", &err),
                   FM_EPARSE);
  assert_int_equal(tamper("\"labels\":[\"billing\"", "\"labels\":[\"performance\"", &err),
                   FM_EPARSE); /* a label named twice */
  assert_int_equal(tamper("\"phrases\":[\n[", "\"phrases\":[\n[1e400,", &err),
                   FM_EPARSE);
  assert_int_equal(tamper("{\"key\":", "{\"key\":\"1\",\"k\":", &err), FM_EPARSE);
  /* duplicate keys are refused by the parser */
  assert_int_equal(tamper("\"undated\":1", "\"undated\":1,\"undated\":1", &err),
                   FM_EPARSE);
}

static void test_add_errors(void **state) {
  fm_agg_opts o = fx_opts();
  fm_agg *a = NULL;
  fm_agg_item it = FM_AGG_ITEM_INIT;
  fm_agg_tag t[2] = {{"area", "billing", 0.5, 0}, {"area", "search", 0.5, 0}};
  fm_error err;
  (void)state;
  assert_int_equal(fm_agg_new(&o, &a, &err), FM_OK);
  it.has_date = 1;
  it.date = FX_SINCE;
  it.tags = &t[1];
  it.n_tags = 1;
  assert_int_equal(fm_agg_add(a, &it, &err), FM_ENOTFOUND);
  assert_string_equal(err.msg, "head 'area' has no label 'search'");
  it.tags = t;
  it.n_tags = 1;
  t[0].prob = 1.5;
  assert_int_equal(fm_agg_add(a, &it, &err), FM_EINVAL);
  t[0].prob = 0.5;
  it.has_score = 1;
  it.score = 11;
  assert_int_equal(fm_agg_add(a, &it, &err), FM_EINVAL);
  it.has_score = 0;
  t[1].label = "billing";
  it.n_tags = 2;
  assert_int_equal(fm_agg_add(a, &it, &err), FM_EINVAL);
  assert_string_equal(err.msg, "head 'area' is tagged twice");
  it.n_tags = 1;
  it.size = 3;
  assert_int_equal(fm_agg_add(a, &it, &err), FM_EINVAL);
  it.size = sizeof it;
  /* unknown heads are ignored; an item with no tags is still counted */
  t[0].head = "mood";
  assert_int_equal(fm_agg_add(a, &it, &err), FM_OK);
  fm_agg_free(a);
}

static void test_new_errors(void **state) {
  fm_agg_opts o = fx_opts();
  fm_agg *a = NULL;
  fm_error err;
  static const char *const many[65] = {
      "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "b0", "b1",
      "b2", "b3", "b4", "b5", "b6", "b7", "b8", "b9", "c0", "c1", "c2", "c3",
      "c4", "c5", "c6", "c7", "c8", "c9", "d0", "d1", "d2", "d3", "d4", "d5",
      "d6", "d7", "d8", "d9", "e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7",
      "e8", "e9", "f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9",
      "g0", "g1", "g2", "g3", "g4"};
  fm_agg_head h[2] = {{"area", many, 65}, {"area", fx_area, 4}};
  (void)state;
  o.until = o.since;
  assert_int_equal(fm_agg_new(&o, &a, &err), FM_EINVAL);
  assert_null(a);
  o = fx_opts();
  o.until = o.since + (int64_t)4000 * 86400;
  assert_int_equal(fm_agg_new(&o, &a, &err), FM_EINVAL);
  o = fx_opts();
  o.heads = h;
  o.n_heads = 1;
  assert_int_equal(fm_agg_new(&o, &a, &err), FM_EINVAL);
  assert_non_null(strstr(err.msg, "65 labels"));
  o.heads = h;
  o.n_heads = 2;
  h[0].n_labels = 3;
  assert_int_equal(fm_agg_new(&o, &a, &err), FM_EINVAL);
  assert_string_equal(err.msg, "head 'area' is named twice");
  {
    static const char *const bad_utf8[] = {"ok", "\xC3("};
    fm_agg_head hb = {"area", bad_utf8, 2};
    o = fx_opts();
    o.heads = &hb;
    o.n_heads = 1;
    assert_int_equal(fm_agg_new(&o, &a, &err), FM_EINVAL);
    assert_non_null(strstr(err.msg, "not UTF-8"));
  }
  o = fx_opts();
  o.weight_churn = -1;
  assert_int_equal(fm_agg_new(&o, &a, &err), FM_EINVAL);
  o = fx_opts();
  o.size = 2;
  assert_int_equal(fm_agg_new(&o, &a, &err), FM_EINVAL);
}

static void test_merge_mismatch(void **state) {
  fm_agg_opts o = fx_opts();
  fm_agg *a = NULL, *b = NULL;
  fm_error err;
  (void)state;
  assert_int_equal(fm_agg_new(&o, &a, &err), FM_OK);
  o.until += 86400;
  assert_int_equal(fm_agg_new(&o, &b, &err), FM_OK);
  assert_int_equal(fm_agg_merge(a, b, &err), FM_EMISMATCH);
  assert_string_equal(err.msg, "aggregates cover different periods");
  assert_int_equal(fm_agg_merge(a, a, &err), FM_EINVAL);
  fm_agg_free(b);
  o = fx_opts();
  o.weight_ticket = 2;
  assert_int_equal(fm_agg_new(&o, &b, &err), FM_OK);
  assert_int_equal(fm_agg_merge(a, b, &err), FM_EMISMATCH);
  fm_agg_free(a);
  fm_agg_free(b);
}

static void test_period_last(void **state) {
  int64_t since, until;
  fm_error err;
  (void)state;
  /* data up to 2024-03-30 14:00 UTC: the last 30 days end that day */
  assert_int_equal(fm_period_last("30d", FX_SINCE + 29 * 86400 + 14 * 3600,
                                  &since, &until, &err), FM_OK);
  assert_int_equal(since, FX_SINCE);
  assert_int_equal(until, FX_UNTIL);
  assert_int_equal(fm_period_last("quarter", FX_UNTIL - 1, &since, &until,
                                  &err), FM_OK);
  assert_int_equal(until - since, 91 * 86400);
  assert_int_equal(fm_period_last("2w", FX_UNTIL - 1, &since, &until, &err),
                   FM_OK);
  assert_int_equal(until - since, 14 * 86400);
  assert_int_equal(fm_period_last("30", 0, &since, &until, &err), FM_EINVAL);
  assert_int_equal(fm_period_last("7x", 0, &since, &until, &err), FM_EINVAL);
  assert_int_equal(fm_period_last("0d", 0, &since, &until, &err), FM_EINVAL);
  assert_int_equal(fm_period_last("-7d", 0, &since, &until, &err), FM_EINVAL);
  assert_non_null(strstr(err.msg, "'-7d'"));
}

/* Memory does not grow with the number of items: 30,000 items of which
 * every one is a distinct text leave the reservoirs at their capacity and
 * the phrase tables under their cap. */
static void test_bounded_memory(void **state) {
  fm_agg_opts o = fx_opts();
  fm_agg *a = NULL;
  fm_agg_stats st;
  fm_error err;
  size_t i;
  uint64_t bytes_10k = 0;
  (void)state;
  o.max_phrases = 4096;
  assert_int_equal(fm_agg_new(&o, &a, &err), FM_OK);
  for (i = 0; i < 30000; i++) {
    char text[128];
    fm_agg_item it;
    fm_agg_tag tags[4];
    fx_toks toks;
    fx_item_fill(i % 30, &it, tags, &toks);
    snprintf(text, sizeof text, "word%zu and thing%zu asked for feature%zu",
             i, i % 977, i % 31);
    it.text = text;
    it.text_len = strlen(text);
    fx_tokenize(text, &toks);
    it.n_tokens = toks.n;
    it.account = NULL;
    assert_int_equal(fm_agg_add(a, &it, &err), FM_OK);
    if (i == 9999) {
      memset(&st, 0, sizeof st);
      st.size = sizeof st;
      assert_int_equal(fm_agg_stats_get(a, &st, &err), FM_OK);
      bytes_10k = st.bytes;
    }
  }
  memset(&st, 0, sizeof st);
  st.size = sizeof st;
  assert_int_equal(fm_agg_stats_get(a, &st, &err), FM_OK);
  assert_true(st.phrases <= 4096);
  assert_true(st.phrase_sampling > 0);
  assert_int_equal(a->review.n, 20);
  for (i = 0; i < a->n_area; i++) assert_true(a->exemplars[i].n <= 48);
  /* three times the items, not three times the memory */
  assert_true(st.bytes < bytes_10k * 3 / 2);
  fm_agg_free(a);
}

/* Every allocation failure returns FM_ENOMEM and leaks nothing (ASan). */
/* The shared-grams path under allocation failures: every failure is
 * FM_ENOMEM and leaks nothing (ASan), and the run that succeeds gives
 * fm_agg_add's aggregate. */
static void test_shared_alloc_failures(void **state) {
  fm_agg_opts o = fx_opts(), o2 = fx_opts();
  fm_agg *ref = agg_with(&o, 0, 0);
  long k;
  int done;
  (void)state;
  o2.since = FX_UNTIL - 7 * FX_DAY;
  for (k = 0, done = 0; !done; k++) {
    fm_agg *c = NULL, *d = NULL;
    fmi_agg_grams shared;
    fm_error err;
    fm_status st;
    size_t i;
    memset(&shared, 0, sizeof shared);
    fmi_fault_fail_after(k);
    st = fm_agg_new(&o, &c, &err);
    if (st == FM_OK) st = fm_agg_new(&o2, &d, &err);
    for (i = 0; i < FX_N && st == FM_OK; i++) {
      fm_agg_item it;
      fm_agg_tag tags[4];
      fx_toks toks;
      fx_item_fill(i, &it, tags, &toks);
      it.id = fx_id(i);
      shared.ready = 0;
      st = fmi_agg_add_shared(d, &it, &shared, &err);
      if (st == FM_OK) st = fmi_agg_add_shared(c, &it, &shared, &err);
    }
    fmi_fault_fail_after(-1);
    if (st == FM_OK) {
      done = 1;
      assert_same(ref, c);
    } else {
      assert_int_equal(st, FM_ENOMEM);
    }
    fmi_agg_grams_free(&shared);
    fm_agg_free(c);
    fm_agg_free(d);
    assert_true(k < 100000);
  }
  fm_agg_free(ref);
}

static void test_alloc_failures(void **state) {
  fm_agg_opts o = fx_opts();
  fm_agg *ref = agg_with(&o, 0, 0);
  size_t rlen;
  char *rdata = ser(ref, &rlen);
  long k;
  int done;
  (void)state;
  for (k = 0, done = 0; !done; k++) {
    fm_agg *a = NULL, *b = NULL, *c = NULL;
    char *d = NULL, *r = NULL;
    size_t len;
    fm_error err;
    fm_status st;
    fm_report_opts ro = FM_REPORT_OPTS_INIT;
    fmi_fault_fail_after(k);
    st = fm_agg_new(&o, &a, &err);
    if (st == FM_OK) st = fx_add_range(a, 0, FX_N, 2, 0, &err);
    if (st == FM_OK) st = fm_agg_new(&o, &b, &err);
    if (st == FM_OK) st = fx_add_range(b, 0, FX_N, 2, 1, &err);
    if (st == FM_OK) st = fm_agg_merge(a, b, &err);
    if (st == FM_OK) st = fm_agg_serialize(a, &d, &len, &err);
    if (st == FM_OK) st = fm_agg_deserialize(rdata, rlen, &c, &err);
    if (st == FM_OK) {
      ro.format = (fm_report_format)(k % 4);
      st = fm_report_write_memory(c, &ro, &r, &len, &err);
    }
    fmi_fault_fail_after(-1);
    if (st == FM_OK) {
      done = 1;
      assert_int_equal(len > 0, 1);
    } else {
      assert_int_equal(st, FM_ENOMEM);
    }
    fm_free(d);
    fm_free(r);
    fm_agg_free(a);
    fm_agg_free(b);
    fm_agg_free(c);
    assert_true(k < 100000);
  }
  /* all four writers ran to the end at least once under failures above;
   * make sure each also fails cleanly on its own */
  for (k = 0; k < 4; k++) {
    long j;
    for (j = 0;; j++) {
      fm_report_opts ro = FM_REPORT_OPTS_INIT;
      char *r = NULL;
      size_t len;
      fm_error err;
      fm_status st;
      ro.format = (fm_report_format)k;
      fmi_fault_fail_after(j);
      st = fm_report_write_memory(ref, &ro, &r, &len, &err);
      fmi_fault_fail_after(-1);
      fm_free(r);
      if (st == FM_OK) break;
      assert_int_equal(st, FM_ENOMEM);
    }
  }
  fm_free(rdata);
  fm_agg_free(ref);
}

/* Which n-grams become phrases: never only stopwords, numbers or
 * placeholders, never across punctuation, placeholders or emoji; a
 * negator may open a phrase ("not working"). */
/* ---- the phrase path against a plain reference ------------------------------
 * add_phrases classifies each token once, builds a start's longer grams by
 * appending to its shorter ones, sorts with its own sort, compares
 * surfaces in place and prefetches ahead. The reference below is the
 * straightforward form (classify every token of every gram, join each
 * gram anew, qsort, join every surface and compare as C strings); on
 * random items full of edge cases (broken UTF-8, controls, blanks in
 * stems, grams at the 240-byte limit, one surface per case, stems that are
 * or are not the text, sampling raised midway), both must leave the same
 * phrase and requirement tables, entry for entry and in the same order. */

static bool ref_clean(const char *s, size_t n, bool controls) {
  size_t i = 0;
  while (i < n) {
    uint32_t cp;
    unsigned char b = (unsigned char)s[i];
    size_t len = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3
               : (b & 0xF8) == 0xF0 ? 4 : 0;
    size_t k;
    if (!len || i + len > n) return false;
    for (k = 1; k < len; k++)
      if (((unsigned char)s[i + k] & 0xC0) != 0x80) return false;
    fmi_utf8_decode((const unsigned char *)s + i, n - i, &cp);
    if ((!controls && (cp < 0x20 || cp == 0x7F)) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF ||
        (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
        (len == 4 && cp < 0x10000))
      return false;
    i += len;
  }
  return true;
}

enum { R_BREAK, R_STOP, R_NEGATOR, R_WORD, R_NUMBER };

static int ref_class(const fm_token *t) {
  const char *s = t->stem_len ? t->stem : t->text;
  size_t n = t->stem_len ? t->stem_len : t->len;
  if (n == 0 || !s || !t->text || !ref_clean(s, n, false) ||
      !ref_clean(t->text, t->len, false))
    return R_BREAK;
  if (t->kind == FM_TOKEN_WORD) {
    if (memchr(s, ' ', n) || memchr(s, '\n', n)) return R_BREAK;
    if (t->flags & FM_TOKEN_NEGATOR) return R_NEGATOR;
    if (t->flags & FM_TOKEN_STOPWORD) return R_STOP;
    if (n == 1 && (unsigned char)s[0] < 0x80) return R_STOP;
    return R_WORD;
  }
  if (t->kind == FM_TOKEN_NUMBER) return s[0] == '<' ? R_BREAK : R_NUMBER;
  return R_BREAK;
}

static size_t ref_join(char *out, const fm_token *t, size_t i, size_t n,
                       int surface) {
  size_t k, len = 0;
  for (k = 0; k < n; k++) {
    const fm_token *x = &t[i + k];
    const char *s = surface ? x->text : x->stem_len ? x->stem : x->text;
    size_t l = surface ? x->len : x->stem_len ? x->stem_len : x->len;
    if (k) out[len++] = ' ';
    memcpy(out + len, s, l);
    len += l;
  }
  out[len] = 0;
  return len;
}

static bool ref_gram_ok(const int *c, size_t n) {
  size_t k;
  bool word = false;
  if (n == 1) return c[0] == R_WORD;
  if (!(c[0] == R_WORD || c[0] == R_NUMBER || c[0] == R_NEGATOR)) return false;
  if (!(c[n - 1] == R_WORD || c[n - 1] == R_NUMBER)) return false;
  for (k = 0; k < n; k++)
    if (c[k] == R_WORD) word = true;
  return word;
}

typedef struct ref_gram {
  uint64_t hash;
  uint32_t start, n;
} ref_gram;

static int ref_cmp_gram(const void *x, const void *y) {
  const ref_gram *a = x, *b = y;
  if (a->hash != b->hash) return a->hash < b->hash ? -1 : 1;
  return a->start < b->start ? -1 : a->start > b->start;
}

static void ref_add_phrases(fm_agg *a, const fm_token *toks, size_t n_tok,
                            unsigned w, int64_t day, long area, int req,
                            const char *account) {
  static char buf[8192];
  ref_gram *grams = calloc(n_tok * 3 + 1, sizeof *grams);
  size_t i, n, g, n_grams = 0;
  int cls[3];
  fm_status st;
  uint32_t acc = 0;
  fm_error err;
  assert_non_null(grams);
  if (account && account[0]) {
    uint64_t h = fmi_hash64(account, strlen(account));
    acc = (uint32_t)(h ^ (h >> 32));
  }
  for (i = 0; i < n_tok; i++)
    for (n = 1; n <= 3 && i + n <= n_tok; n++) {
      size_t len;
      cls[n - 1] = ref_class(&toks[i + n - 1]);
      if (cls[n - 1] == R_BREAK) break;
      if (!ref_gram_ok(cls, n)) continue;
      len = ref_join(buf, toks, i, n, 0);
      if (len > FMI_PHRASE_MAX_BYTES) break;
      grams[n_grams].hash = fmi_hash64(buf, len);
      grams[n_grams].start = (uint32_t)i;
      grams[n_grams].n = (uint32_t)n;
      n_grams++;
    }
  qsort(grams, n_grams, sizeof *grams, ref_cmp_gram);
  for (g = 0; g < n_grams; g++) {
    const ref_gram *gr = &grams[g];
    fmi_agg_phrase *p;
    int dup = g > 0 && grams[g - 1].hash == gr->hash;
    size_t sl;
    if (!fmi_agg_phrase_kept(a, gr->hash, gr->n)) continue;
    p = fmi_agg_phrase_find(a, gr->hash);
    if (!p) {
      char stems[FMI_PHRASE_MAX_BYTES + 1];
      size_t stl = ref_join(stems, toks, gr->start, gr->n, 0);
      sl = ref_join(buf, toks, gr->start, gr->n, 1);
      p = fmi_agg_phrase_add(a, gr->hash, stems, stl, buf, sl, gr->n, &st);
      assert_non_null(p);
    } else {
      sl = ref_join(buf, toks, gr->start, gr->n, 1);
      if (strcmp(buf, p->surface) < 0)
        assert_int_equal(fmi_agg_phrase_surface_min(p, buf, sl), FM_OK);
    }
    if (dup) continue;
    p->df[w]++;
    if (day < p->first_day) p->first_day = day;
    if (req) {
      fmi_agg_req *r = fmi_agg_req_get(a, (uint32_t)area, gr->hash, gr->n, &st);
      assert_non_null(r);
      r->df++;
      if (account && account[0]) fmi_agg_req_add_account(r, acc);
    }
    if (a->n_order[1] > a->cap_order[1] || a->n_order[2] > a->cap_order[2] ||
        a->n_order[3] > a->cap_order[3])
      assert_int_equal(fmi_agg_fit_phrases(a, &err), FM_OK);
  }
  free(grams);
}

static void assert_same_phrases(const fm_agg *x, const fm_agg *y) {
  size_t i;
  assert_memory_equal(x->sampling, y->sampling, sizeof x->sampling);
  assert_memory_equal(x->n_order, y->n_order, sizeof x->n_order);
  assert_int_equal(x->n_phrases, y->n_phrases);
  for (i = 0; i < x->n_phrases; i++) {
    const fmi_agg_phrase *p = &x->phrases[i], *q = &y->phrases[i];
    assert_true(p->hash == q->hash);
    assert_string_equal(p->stems, q->stems);
    assert_string_equal(p->surface, q->surface);
    assert_int_equal(p->surface_len, strlen(p->surface));
    assert_int_equal(q->surface_len, strlen(q->surface));
    assert_memory_equal(p->df, q->df, sizeof p->df);
    assert_true(p->first_day == q->first_day);
    assert_int_equal(p->order, q->order);
  }
  assert_int_equal(x->n_reqs, y->n_reqs);
  for (i = 0; i < x->n_reqs; i++)
    assert_memory_equal(&x->reqs[i], &y->reqs[i], sizeof x->reqs[i]);
}

static void check_phrases_vs_reference(size_t max_phrases, uint32_t seed) {
  /* texts (surface) and stems; a stem NULL means "the text itself" */
  static char long_a[121], long_b[121], long_c[200];
  static const struct {
    const char *text, *stem;
    fm_token_kind kind;
    unsigned flags;
  } pool[] = {
      {"invoice", NULL, FM_TOKEN_WORD, 0},
      {"Invoice", "invoice", FM_TOKEN_WORD, 0},
      {"INVOICES", "invoice", FM_TOKEN_WORD, 0},
      {"invoices", "invoice", FM_TOKEN_WORD, 0},
      {"Invoice!", "invoice", FM_TOKEN_WORD, 0}, /* longer surface */
      {"Invoic", "invoice", FM_TOKEN_WORD, 0},   /* a prefix of another */
      {"pdf", NULL, FM_TOKEN_WORD, 0},
      {"PDF", "pdf", FM_TOKEN_WORD, 0},
      {"export", NULL, FM_TOKEN_WORD, 0},
      {"exports", "export", FM_TOKEN_WORD, 0},
      {"the", NULL, FM_TOKEN_WORD, FM_TOKEN_STOPWORD},
      {"of", NULL, FM_TOKEN_WORD, FM_TOKEN_STOPWORD},
      {"not", NULL, FM_TOKEN_WORD, FM_TOKEN_STOPWORD | FM_TOKEN_NEGATOR},
      {"working", "work", FM_TOKEN_WORD, FM_TOKEN_NEGATED},
      {"x", NULL, FM_TOKEN_WORD, 0},
      {"\xC3\xA9", NULL, FM_TOKEN_WORD, 0},          /* one letter, not ASCII */
      {"\xC3\xBC" "ber", NULL, FM_TOKEN_WORD, 0},     /* valid UTF-8 */
      {"\xC3\x9C" "ber", "\xC3\xBC" "ber", FM_TOKEN_WORD, 0},
      {"caf\xC3", NULL, FM_TOKEN_WORD, 0},           /* cut sequence */
      {"ab\xC0\x80", NULL, FM_TOKEN_WORD, 0},        /* overlong */
      {"\xED\xA0\x80x", NULL, FM_TOKEN_WORD, 0},     /* surrogate */
      {"tab\tbed", NULL, FM_TOKEN_WORD, 0},          /* control */
      {"del\x7F", NULL, FM_TOKEN_WORD, 0},
      {"line", "li\nne", FM_TOKEN_WORD, 0},          /* break in the stem */
      {"new york", NULL, FM_TOKEN_WORD, 0},          /* blank in the stem */
      {"Stadt", "stadt", FM_TOKEN_WORD, 0},
      {"ok", "ok\x01", FM_TOKEN_WORD, 0},            /* stem bad, text good */
      {"bad\x02", "bad", FM_TOKEN_WORD, 0},          /* text bad, stem good */
      {"42", NULL, FM_TOKEN_NUMBER, 0},
      {"3.5", NULL, FM_TOKEN_NUMBER, 0},
      {"<num>", NULL, FM_TOKEN_NUMBER, 0},
      {"<email>", NULL, FM_TOKEN_PLACEHOLDER, 0},
      {",", NULL, FM_TOKEN_PUNCT, 0},
      {"\xF0\x9F\x98\xA1", NULL, FM_TOKEN_EMOJI, 0},
      {"", NULL, FM_TOKEN_WORD, 0},                  /* empty */
      {"zz", "", FM_TOKEN_WORD, 0},                  /* no stem: the text */
      {long_a, NULL, FM_TOKEN_WORD, 0},              /* 120 bytes */
      {long_b, NULL, FM_TOKEN_WORD, 0},              /* 119 bytes */
      {long_c, NULL, FM_TOKEN_WORD, 0},              /* 199 bytes */
  };
  enum { N_POOL = sizeof pool / sizeof pool[0] };
  static const char *const accounts[] = {"acme", "globex", "", NULL,
                                         "Init\xC3\xA9" "ch"};
  static char stem_copy[N_POOL][256];
  fm_agg_opts o = fx_opts(), o2;
  fm_agg *a = NULL, *b = NULL, *c = NULL, *d = NULL, *d_ref = NULL;
  fmi_agg_grams shared;
  fm_error err;
  uint32_t r = seed;
  size_t item, i;
  memset(long_a, 'a', 120);
  memset(long_b, 'b', 119);
  memset(long_c, 'c', 199);
  o.max_phrases = max_phrases;
  assert_int_equal(fm_agg_new(&o, &a, &err), FM_OK);
  assert_int_equal(fm_agg_new(&o, &b, &err), FM_OK);
  /* c and d share each item's grams (as the batch job's reports do); d
   * has another phrase bound and a 7-day period */
  o2 = o;
  o2.max_phrases = max_phrases ? 0 : 32;
  o2.since = FX_UNTIL - 7 * FX_DAY;
  assert_int_equal(fm_agg_new(&o, &c, &err), FM_OK);
  assert_int_equal(fm_agg_new(&o2, &d, &err), FM_OK);
  assert_int_equal(fm_agg_new(&o2, &d_ref, &err), FM_OK);
  memset(&shared, 0, sizeof shared);
  for (item = 0; item < 400; item++) {
    fm_token t[48];
    fm_agg_tag tags[2];
    fm_agg_item it = FM_AGG_ITEM_INIT;
    size_t n_tok;
    int req;
    long area;
    r = r * 1103515245u + 12345u;
    n_tok = (r >> 16) % 48;
    for (i = 0; i < n_tok; i++) {
      size_t k;
      r = r * 1103515245u + 12345u;
      /* common words more often, so phrases repeat across items */
      k = (r >> 16) % 4 ? (r >> 20) % 14 : (r >> 20) % N_POOL;
      memset(&t[i], 0, sizeof t[i]);
      t[i].text = pool[k].text;
      t[i].len = strlen(pool[k].text);
      if (pool[k].stem) {
        t[i].stem = pool[k].stem;
        t[i].stem_len = strlen(pool[k].stem);
      } else if ((r >> 8) & 1) {
        t[i].stem = t[i].text; /* the same pointer, as the pipeline does */
        t[i].stem_len = t[i].len;
      } else {
        snprintf(stem_copy[k], sizeof stem_copy[k], "%s", pool[k].text);
        t[i].stem = stem_copy[k]; /* equal bytes elsewhere */
        t[i].stem_len = t[i].len;
      }
      t[i].kind = pool[k].kind;
      t[i].flags = pool[k].flags;
    }
    r = r * 1103515245u + 12345u;
    tags[0].head = "area";
    tags[0].label = fx_area[(r >> 16) % 4];
    tags[0].prob = 0.9;
    tags[0].needs_review = 0;
    tags[1].head = "kind";
    tags[1].label = fx_kind[(r >> 20) % 6];
    tags[1].prob = 0.8;
    tags[1].needs_review = 0;
    it.has_date = 1;
    /* both windows; the period's requests and complaints feed reqs */
    it.date = FX_SINCE + ((int64_t)((r >> 8) % 60) - 30) * FX_DAY;
    it.account = accounts[(r >> 24) % 5];
    it.tags = tags;
    it.n_tags = 2;
    it.text = "t";
    it.text_len = 1;
    it.tokens = t;
    it.n_tokens = n_tok;
    assert_int_equal(fm_agg_add(a, &it, &err), FM_OK);
    shared.ready = 0;
    /* the shorter period first, so that some items' grams are worked
     * out by c and some by d */
    assert_int_equal(fmi_agg_add_shared(d, &it, &shared, &err), FM_OK);
    assert_int_equal(fmi_agg_add_shared(c, &it, &shared, &err), FM_OK);
    it.tokens = NULL;
    it.n_tokens = 0;
    assert_int_equal(fm_agg_add(b, &it, &err), FM_OK);
    assert_int_equal(fm_agg_add(d_ref, &it, &err), FM_OK);
    area = (long)((r >> 16) % 4);
    req = it.date >= FX_SINCE && (((r >> 20) % 6) == 1 || ((r >> 20) % 6) == 3);
    if (n_tok)
      ref_add_phrases(b, t, n_tok, it.date >= FX_SINCE ? FMI_CUR : FMI_PREV,
                      fmi_agg_day(it.date), area, req, it.account);
    if (n_tok && it.date >= o2.since - 7 * FX_DAY && it.date < o2.until) {
      int cur = it.date >= o2.since;
      ref_add_phrases(d_ref, t, n_tok, cur ? FMI_CUR : FMI_PREV,
                      fmi_agg_day(it.date), area,
                      cur && (((r >> 20) % 6) == 1 || ((r >> 20) % 6) == 3),
                      it.account);
    }
    if (item % 50 == 49) assert_same_phrases(a, b);
  }
  assert_same_phrases(a, b);
  assert_same_phrases(c, b);
  assert_same_phrases(d, d_ref);
  assert_same(a, c);
  fmi_agg_grams_free(&shared);
  fm_agg_free(c);
  fm_agg_free(d);
  fm_agg_free(d_ref);
  if (max_phrases == 0) assert_true(a->n_phrases > 100);
  else assert_true(a->sampling[2] > 0 && a->sampling[3] > 0);
  fm_agg_free(a);
  fm_agg_free(b);
}

static void test_phrases_match_reference(void **state) {
  (void)state;
  check_phrases_vs_reference(0, 1);      /* no sampling */
  check_phrases_vs_reference(0, 7);
  check_phrases_vs_reference(16, 3);     /* sampling raised as it goes */
  check_phrases_vs_reference(64, 11);
}

/* Account names: ASCII ones of up to 200 bytes are taken as they are
 * (the fast path), others go through the UTF-8 repair and the cut. */
static void test_account_names(void **state) {
  char long_name[251], want_long[201];
  const char *names[] = {"acme", long_name, "M\xC3\xBCller", "caf\xC3",
                         "x\x01y", "acme"};
  const char *want[] = {"acme", want_long, "M\xC3\xBCller",
                        "caf\xEF\xBF\xBD", "x\x01y"};
  fm_agg_opts o = fx_opts();
  fm_agg *a = NULL;
  fm_agg_item it = FM_AGG_ITEM_INIT;
  fm_error err;
  size_t i;
  (void)state;
  memset(long_name, 'n', 250);
  long_name[250] = 0;
  memset(want_long, 'n', 200);
  want_long[200] = 0;
  assert_int_equal(fm_agg_new(&o, &a, &err), FM_OK);
  it.has_date = 1;
  it.date = FX_SINCE;
  for (i = 0; i < 6; i++) {
    it.account = names[i];
    assert_int_equal(fm_agg_add(a, &it, &err), FM_OK);
  }
  assert_int_equal(a->n_accounts, 5);
  for (i = 0; i < 5; i++) assert_string_equal(a->accounts[i].name, want[i]);
  fm_agg_free(a);
}

static void test_phrase_rules(void **state) {
  static const struct {
    const char *text;
    fm_token_kind kind;
    unsigned flags;
  } toks[] = {
      {"the", FM_TOKEN_WORD, FM_TOKEN_STOPWORD},
      {"<email>", FM_TOKEN_PLACEHOLDER, 0},
      {"not", FM_TOKEN_WORD, FM_TOKEN_STOPWORD | FM_TOKEN_NEGATOR},
      {"working", FM_TOKEN_WORD, FM_TOKEN_NEGATED},
      {",", FM_TOKEN_PUNCT, 0},
      {"2024", FM_TOKEN_NUMBER, 0},
      {"error", FM_TOKEN_WORD, 0},
      {"\xF0\x9F\x98\xA1", FM_TOKEN_EMOJI, 0},
      {"and", FM_TOKEN_WORD, FM_TOKEN_STOPWORD},
      {"the", FM_TOKEN_WORD, FM_TOKEN_STOPWORD},
      {"export", FM_TOKEN_WORD, 0},
      {"of", FM_TOKEN_WORD, FM_TOKEN_STOPWORD},
      {"the", FM_TOKEN_WORD, FM_TOKEN_STOPWORD},
      {"invoices", FM_TOKEN_WORD, 0},
      {"x", FM_TOKEN_WORD, 0},
      {"<num>", FM_TOKEN_NUMBER, 0}};
  /* not: "the", "<email>", "2024", "and the", "export of the" (ends with
   * a stopword), "of the invoice" (starts with one), "x" (one letter),
   * anything with "<num>" or the emoji */
  static const char *const want[] = {"working", "not working", "error",
                                     "2024 error", "export", "invoice", NULL};
  fm_token t[16];
  fm_agg_opts o = fx_opts();
  fm_agg *a = NULL;
  fm_agg_item it = FM_AGG_ITEM_INIT;
  fm_error err;
  size_t i, n = 0;
  (void)state;
  for (i = 0; i < 16; i++) {
    memset(&t[i], 0, sizeof t[i]);
    t[i].text = t[i].stem = toks[i].text;
    t[i].len = t[i].stem_len = strlen(toks[i].text);
    if (!strcmp(toks[i].text, "invoices")) t[i].stem_len = 7; /* "invoice" */
    t[i].kind = toks[i].kind;
    t[i].flags = toks[i].flags;
  }
  assert_int_equal(fm_agg_new(&o, &a, &err), FM_OK);
  it.has_date = 1;
  it.date = FX_SINCE;
  it.text = "x";
  it.text_len = 1;
  it.tokens = t;
  it.n_tokens = 16;
  assert_int_equal(fm_agg_add(a, &it, &err), FM_OK);
  for (i = 0; want[i]; i++) {
    fmi_agg_phrase *p = fmi_agg_phrase_find(a, fmi_hash64(want[i], strlen(want[i])));
    if (!p) fprintf(stderr, "missing phrase '%s'\n", want[i]);
    assert_non_null(p);
    assert_int_equal(p->df[FMI_CUR], 1);
    n++;
  }
  if (a->n_phrases != n) {
    for (i = 0; i < a->n_phrases; i++)
      fprintf(stderr, "phrase: '%s'\n", a->phrases[i].stems);
  }
  assert_int_equal(a->n_phrases, n);
  /* the surface keeps the word as written, the key is its stem */
  assert_string_equal(fmi_agg_phrase_find(a, fmi_hash64("invoice", 7))->surface,
                      "invoices");
  fm_agg_free(a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_merge_is_union),
      cmocka_unit_test(test_phrase_rules),
      cmocka_unit_test(test_phrases_match_reference),
      cmocka_unit_test(test_account_names),
      cmocka_unit_test(test_merge_exact_when_bounded),
      cmocka_unit_test(test_serialize_roundtrip),
      cmocka_unit_test(test_deserialize_rejects),
      cmocka_unit_test(test_add_errors),
      cmocka_unit_test(test_new_errors),
      cmocka_unit_test(test_merge_mismatch),
      cmocka_unit_test(test_period_last),
      cmocka_unit_test(test_bounded_memory),
      cmocka_unit_test(test_alloc_failures),
      cmocka_unit_test(test_shared_alloc_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
