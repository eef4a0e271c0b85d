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
      cmocka_unit_test(test_merge_exact_when_bounded),
      cmocka_unit_test(test_serialize_roundtrip),
      cmocka_unit_test(test_deserialize_rejects),
      cmocka_unit_test(test_add_errors),
      cmocka_unit_test(test_new_errors),
      cmocka_unit_test(test_merge_mismatch),
      cmocka_unit_test(test_period_last),
      cmocka_unit_test(test_bounded_memory),
      cmocka_unit_test(test_alloc_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
