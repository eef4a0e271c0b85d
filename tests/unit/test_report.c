/* test_report.c -- the four report writers over the fixed sample of
 * agg_fixture.h: golden files (tests/data/report/fixture.*; regenerate
 * with FM_UPDATE_GOLDEN=1 after a deliberate change), the numbers checked
 * by hand, escaping of customer text (HTML, Markdown) and formula
 * neutralization (CSV). */
#include "testutil.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "agg_fixture.h"

static fm_agg *fixture_agg(void) {
  fm_agg_opts o = fx_opts();
  fm_agg *a = NULL;
  fm_error err;
  assert_int_equal(fm_agg_new(&o, &a, &err), FM_OK);
  assert_int_equal(fx_add_range(a, 0, FX_N, 0, 0, &err), FM_OK);
  return a;
}

static char *render(const fm_agg *a, fm_report_format f, size_t *len) {
  fm_report_opts ro = FM_REPORT_OPTS_INIT;
  char *data = NULL;
  fm_error err;
  ro.format = f;
  ro.title = "Fixture <report> & \"friends\"";
  assert_int_equal(fm_report_write_memory(a, &ro, &data, len, &err), FM_OK);
  assert_non_null(data);
  return data;
}

static void golden(const char *name, const char *data, size_t len) {
  char rel[256];
  const char *path;
  snprintf(rel, sizeof rel, "tests/data/report/%s", name);
  path = tu_src_path(rel);
  if (getenv("FM_UPDATE_GOLDEN") && !strcmp(getenv("FM_UPDATE_GOLDEN"), "1")) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
    return;
  }
  {
    size_t glen;
    char *want = tu_read_file(rel, &glen);
    if (glen != len || memcmp(want, data, len) != 0) {
      fprintf(stderr, "%s differs from the golden file (%zu vs %zu bytes); "
              "rerun with FM_UPDATE_GOLDEN=1 after a deliberate change\n",
              rel, len, glen);
      fail();
    }
    free(want);
  }
}

static void test_golden_all_formats(void **state) {
  static const struct {
    fm_report_format f;
    const char *name;
  } fmts[] = {{FM_REPORT_MARKDOWN, "fixture.md"},
              {FM_REPORT_HTML, "fixture.html"},
              {FM_REPORT_JSON, "fixture.json"},
              {FM_REPORT_CSV, "fixture.csv"}};
  fm_agg *a = fixture_agg();
  size_t i;
  (void)state;
  for (i = 0; i < 4; i++) {
    size_t len;
    char *d = render(a, fmts[i].f, &len);
    golden(fmts[i].name, d, len);
    fm_free(d);
  }
  fm_agg_free(a);
}


static json_t *report_json(const fm_agg *a) {
  size_t len;
  char *d = render(a, FM_REPORT_JSON, &len);
  json_error_t je;
  json_t *j = json_loadb(d, len, 0, &je);
  if (!j) fprintf(stderr, "report JSON: %s at %d:%d\n", je.text, je.line,
                  je.column);
  assert_non_null(j);
  fm_free(d);
  return j;
}

static double num(json_t *o, const char *path) {
  json_t *v = json_object_get(o, path);
  assert_true(json_is_number(v));
  return json_number_value(v);
}

/* Two-sided exact binomial p-value with p = 1/2, summed term by term: an
 * independent check of the incomplete-beta route the library takes. */
static double binom_p(unsigned x, unsigned y) {
  unsigned n = x + y, k;
  double lo = 0, hi = 0, c = 1, scale = pow(0.5, n);
  for (k = 0; k <= n; k++) {
    if (k <= x) lo += c * scale;
    if (k >= x) hi += c * scale;
    c = c * (double)(n - k) / (double)(k + 1);
  }
  return fmin(1.0, 2 * fmin(lo, hi));
}

/* The numbers of the fixture, worked out by hand (see agg_fixture.h):
 *   NPS: promoters 10, 9, 9, 10 (4), passives 8, 7 (2), detractors
 *   3, 0, 5, 6 (4) of 10 answers: (4 - 4) / 10 = 0.0.
 *   billing: respondents 3, 0, 5, 9: NPS (1 - 3) / 4 = -50; the other six
 *   (10, 8, 6, 9, 7, 10): (3 - 1) / 6 = 33.3, so impact 0 - 33.3 = -33.3.
 *   performance: 10, 8, 6: NPS 0; the other seven: (3 - 3) / 7 = 0; 0.
 *   reporting: 9, 7, 10: NPS 66.7; the other seven (2 - 4) / 7 = -28.6;
 *   impact +28.6.
 *   billing 20 vs 5: p = 2 * P(X >= 20 | n = 25) = 2 * 68406 / 2^25 =
 *   0.004077: rising. performance 6 vs 4: p = 2 * 386 / 1024 = 0.753906:
 *   not significant.
 *   billing priority: weights 14 tickets + 3 detractors x 1.5 + 1 other
 *   NPS + churn 3 + lost deal 2 = 24.5; negative 12 / 20; accounts with
 *   revenue acme 1000, globex 500, initech 200, hooli 800 (vandelay's 5000
 *   is a lost deal's value, not account revenue): 2500 over 4 accounts,
 *   625 per account, against the median 500 of the period's accounts
 *   (200, 300, 500, 800, 1000): 24.5 x 1.6 x (1 + log10(1 + 625 / 500))
 *   = 53.006. */
static void test_hand_checked_numbers(void **state) {
  fm_agg *a = fixture_agg();
  json_t *j = report_json(a), *sum, *areas, *bill, *perf, *rep, *nps, *reasons;
  (void)state;
  sum = json_object_get(j, "summary");
  assert_int_equal(num(sum, "items"), 31);
  assert_int_equal(num(sum, "previous_items"), 14);
  nps = json_object_get(sum, "nps");
  assert_true(fabs(num(nps, "score") - 0.0) < 1e-9);
  assert_int_equal(num(nps, "respondents"), 10);
  assert_int_equal(num(nps, "promoters"), 4);
  assert_int_equal(num(nps, "passives"), 2);
  assert_int_equal(num(nps, "detractors"), 4);
  assert_true(json_is_null(json_object_get(sum, "previous_nps")));
  assert_int_equal(num(sum, "accounts"), 6);
  assert_true(fabs(num(json_object_get(j, "method"), "median_account_revenue") -
                   500.0) < 1e-9);
  assert_int_equal(num(json_object_get(j, "data"), "outside"), 1);
  assert_int_equal(num(json_object_get(j, "data"), "undated"), 1);

  areas = json_object_get(j, "areas");
  assert_int_equal(json_array_size(areas), 4);
  bill = json_array_get(areas, 0);
  perf = json_array_get(areas, 1);
  rep = json_array_get(areas, 2);
  assert_string_equal(json_string_value(json_object_get(bill, "area")),
                      "billing");
  assert_string_equal(json_string_value(json_object_get(perf, "area")),
                      "performance");
  assert_string_equal(json_string_value(json_object_get(rep, "area")),
                      "reporting");
  assert_int_equal(num(bill, "items"), 20);
  assert_int_equal(num(bill, "previous_items"), 5);
  assert_int_equal(num(perf, "items"), 6);
  assert_int_equal(num(perf, "previous_items"), 4);
  assert_int_equal(num(rep, "items"), 5);
  /* NPS of mentioners and impact */
  assert_true(fabs(num(json_object_get(bill, "nps"), "score") + 50.0) < 1e-9);
  assert_true(fabs(num(bill, "nps_impact") + 33.3) < 1e-9);
  assert_true(fabs(num(json_object_get(perf, "nps"), "score")) < 1e-9);
  assert_true(fabs(num(perf, "nps_impact")) < 1e-9);
  assert_true(fabs(num(json_object_get(rep, "nps"), "score") - 66.7) < 1e-9);
  assert_true(fabs(num(rep, "nps_impact") - 28.6) < 1e-9);
  /* a significant and a non-significant change */
  assert_true(fabs(num(bill, "p_value") - 2.0 * 68406 / 33554432) < 1e-6);
  assert_true(fabs(num(bill, "p_value") - binom_p(20, 5)) < 1e-6);
  assert_string_equal(json_string_value(json_object_get(bill, "trend")),
                      "rising");
  assert_true(fabs(num(perf, "p_value") - 772.0 / 1024) < 1e-6);
  assert_true(fabs(num(perf, "p_value") - binom_p(6, 4)) < 1e-6);
  assert_string_equal(json_string_value(json_object_get(perf, "trend")),
                      "none");
  assert_true(fabs(num(rep, "p_value") - 1.0) < 1e-9);
  /* priority */
  assert_true(fabs(num(bill, "weighted_items") - 24.5) < 1e-9);
  assert_true(fabs(num(bill, "negative_share") - 0.6) < 1e-9);
  assert_true(fabs(num(bill, "priority") -
                   24.5 * 1.6 * (1 + log10(1 + 625.0 / 500))) < 5e-4);
  assert_true(fabs(num(bill, "revenue") - 2500.0) < 1e-9);
  assert_int_equal(num(bill, "accounts"), 5);
  assert_int_equal(num(bill, "accounts_with_revenue"), 4);
  /* the top requirement of billing and its verbatims, one per account */
  {
    json_t *req = json_array_get(json_object_get(bill, "requirements"), 0);
    json_t *vs = json_object_get(req, "verbatims");
    assert_string_equal(json_string_value(json_object_get(req, "phrase")),
                        "invoice pdf");
    assert_int_equal(num(req, "items"), 6);
    assert_int_equal(num(req, "accounts"), 3);
    assert_int_equal(json_array_size(vs), 3);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(vs, 0), "account")),
        "acme");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(vs, 1), "account")),
        "initech");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(vs, 2), "account")),
        "globex");
  }
  /* churn and lost-deal reasons by revenue: churned MRR first */
  reasons = json_object_get(j, "reasons");
  assert_string_equal(
      json_string_value(json_object_get(json_array_get(reasons, 0), "reason")),
      "price");
  assert_true(fabs(num(json_object_get(json_array_get(reasons, 0),
                                       "revenue_by_source"), "churn") -
                   800.0) < 1e-9);
  assert_true(fabs(num(json_object_get(json_array_get(reasons, 1),
                                       "revenue_by_source"), "lost_deal") -
                   5000.0) < 1e-9);
  /* review queue: the least certain item first */
  {
    json_t *items = json_object_get(json_object_get(j, "review"), "items");
    assert_int_equal(json_array_size(items), 20);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(items, 0), "text")),
        "Chart totals are wrong.");
  }
  json_decref(j);
  fm_agg_free(a);
}

/* Customer text never becomes markup: the XSS verbatim shows as text. */
static void test_html_escapes_customer_text(void **state) {
  fm_agg *a = fixture_agg();
  size_t len;
  char *d = render(a, FM_REPORT_HTML, &len), *p;
  size_t svgs = 0;
  (void)state;
  assert_null(strstr(d, "<script"));
  assert_null(strstr(d, "<img"));
  assert_null(strstr(d, "onerror=\""));
  assert_null(strstr(d, "href=\"javascript"));
  assert_null(strstr(d, "Fixture <report>"));
  assert_non_null(strstr(d, "<title>Fixture &lt;report&gt; &amp; &quot;friends&quot;</title>"));
  assert_non_null(strstr(d, "invoice PDF please &lt;script&gt;document.title="
                            "&#39;pwned&#39;&lt;/script&gt; &quot;&gt;&lt;img "
                            "src=x onerror=&quot;"));
  assert_non_null(strstr(d, "javascript:alert(1)"));
  assert_non_null(strstr(d, "Content-Security-Policy\" content=\"default-src 'none'"));
  assert_non_null(strstr(d, "<meta name=\"viewport\""));
  assert_non_null(strstr(d, "@media print"));
  for (p = d; (p = strstr(p, "<svg")) != NULL; p++) svgs++;
  assert_true(svgs >= 6); /* priority, impact, reasons, sparklines */
  /* nothing to fetch: the only URLs are the SVG namespace name and the
   * customer's text */
  {
    size_t urls = 0, allowed = 0;
    for (p = d; (p = strstr(p, "://")) != NULL; p++) urls++;
    for (p = d; (p = strstr(p, "http://www.w3.org/2000/svg")) != NULL; p++)
      allowed++;
    for (p = d; (p = strstr(p, "http://evil.example")) != NULL; p++)
      allowed++;
    assert_int_equal(urls, allowed);
  }
  assert_null(strstr(d, "src=\""));
  fm_free(d);
  fm_agg_free(a);
}

static void test_markdown_escapes(void **state) {
  fm_agg *a = fixture_agg();
  size_t len;
  char *d = render(a, FM_REPORT_MARKDOWN, &len);
  const char *p;
  (void)state;
  /* every '<' that could open a tag is escaped */
  for (p = d; (p = strchr(p, '<')) != NULL; p++)
    if (p[1] != ' ') assert_true(p > d && p[-1] == '\\');
  assert_non_null(strstr(d, "# Fixture \\<report\\> \\& \"friends\""));
  assert_non_null(strstr(d, "\\<script\\>document.title"));
  assert_non_null(strstr(d, "| 1 | billing | 53.0 | 20 | 5 | **rising**"));
  fm_free(d);
  fm_agg_free(a);
}

/* No text cell of the CSV starts a formula. */
static void check_csv_cells(const char *d) {
  const char *p = d;
  while ((p = strchr(p, '"')) != NULL) {
    /* an opening quote: at the start of a line or after a comma */
    if (p == d || p[-1] == ',' || p[-1] == '\n') {
      assert_true(strchr("=+-@\t\r", p[1]) == NULL || p[1] == 0);
      p++;
      while (*p && !(*p == '"' && p[1] != '"')) p += *p == '"' ? 2 : 1;
      if (*p) p++;
    } else {
      p++;
    }
  }
}

static void test_csv_neutralizes_formulas(void **state) {
  fm_agg *a = fixture_agg();
  size_t len;
  char *d = render(a, FM_REPORT_CSV, &len);
  static const char *const evil[] = {"=1+1", "@x", "+y", "-z", "\tq", "\rr",
                                     "ok"};
  fm_agg_head h[1] = {{"area", evil, 7}};
  fm_agg_opts o = fx_opts();
  fm_agg *b = NULL;
  fm_error err;
  fm_agg_item it = FM_AGG_ITEM_INIT;
  fm_agg_tag t = {"area", "=1+1", 0.9, 0};
  (void)state;
  assert_non_null(strstr(d, ",\"'@SUM(1+1) the price went up again\"\r\n"));
  check_csv_cells(d);
  assert_memory_equal(d, "rank,area,dimension,label,items,", 32);
  fm_free(d);
  o.heads = h;
  o.n_heads = 1;
  assert_int_equal(fm_agg_new(&o, &b, &err), FM_OK);
  it.has_date = 1;
  it.date = FX_SINCE;
  it.tags = &t;
  it.n_tags = 1;
  it.text = "=cmd|' /C calc'!A0";
  it.text_len = strlen(it.text);
  assert_int_equal(fm_agg_add(b, &it, &err), FM_OK);
  d = render(b, FM_REPORT_CSV, &len);
  check_csv_cells(d);
  assert_non_null(strstr(d, "1,\"'=1+1\",\"all\""));
  assert_non_null(strstr(d, ",\"'@x\",\"all\""));
  assert_non_null(strstr(d, ",\"'-z\",\"all\""));
  assert_non_null(strstr(d, ",\"'\tq\",\"all\""));
  fm_free(d);
  fm_agg_free(b);
  fm_agg_free(a);
}

/* Whether `w` occurs in `s` as a word of its own (not inside one). */
static bool has_word(const char *s, const char *w) {
  size_t n = strlen(w);
  const char *p;
  for (p = s; (p = strstr(p, w)) != NULL; p++) {
    bool left = p == s || !((p[-1] | 32) >= 'a' && (p[-1] | 32) <= 'z');
    bool right = !((p[n] | 32) >= 'a' && (p[n] | 32) <= 'z');
    if (left && right) return true;
  }
  return false;
}

/* Without a previous period and with no items at all, every writer still
 * writes a whole report (no division by zero, no trend columns). */
static void test_empty_and_no_compare(void **state) {
  fm_agg_opts o = fx_opts();
  fm_agg *a = NULL;
  fm_error err;
  int f;
  (void)state;
  o.compare = FM_COMPARE_NONE;
  assert_int_equal(fm_agg_new(&o, &a, &err), FM_OK);
  for (f = 0; f < 4; f++) {
    size_t len;
    char *d = render(a, (fm_report_format)f, &len);
    assert_true(len > 100);
    assert_false(has_word(d, "nan"));
    assert_false(has_word(d, "inf"));
    if (f == FM_REPORT_MARKDOWN) {
      assert_null(strstr(d, "previous period"));
      assert_non_null(strstr(d, "Data from - to -"));
    }
    fm_free(d);
  }
  assert_int_equal(fx_add_range(a, 0, FX_N, 0, 0, &err), FM_OK);
  {
    size_t len;
    char *d = render(a, FM_REPORT_MARKDOWN, &len);
    assert_null(strstr(d, "Emerging"));
    assert_null(strstr(d, "| trend |"));
    fm_free(d);
  }
  fm_agg_free(a);
}

static void test_report_opts(void **state) {
  fm_agg *a = fixture_agg();
  fm_report_opts ro = FM_REPORT_OPTS_INIT;
  char *d = NULL;
  size_t len;
  fm_error err;
  (void)state;
  ro.format = (fm_report_format)7;
  assert_int_equal(fm_report_write_memory(a, &ro, &d, &len, &err), FM_EINVAL);
  assert_null(d);
  ro.format = FM_REPORT_JSON;
  ro.alpha = 0.7;
  assert_int_equal(fm_report_write_memory(a, &ro, &d, &len, &err), FM_EINVAL);
  ro.alpha = 0.001; /* billing's p = 0.0041 is no longer significant */
  ro.generated_at = FX_UNTIL;
  assert_int_equal(fm_report_write_memory(a, &ro, &d, &len, &err), FM_OK);
  assert_non_null(strstr(d, "\"generated\":\"2024-03-31\""));
  assert_null(strstr(d, "\"trend\":\"rising\""));
  fm_free(d);
  fm_agg_free(a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_golden_all_formats),
      cmocka_unit_test(test_hand_checked_numbers),
      cmocka_unit_test(test_html_escapes_customer_text),
      cmocka_unit_test(test_markdown_escapes),
      cmocka_unit_test(test_csv_neutralizes_formulas),
      cmocka_unit_test(test_empty_and_no_compare),
      cmocka_unit_test(test_report_opts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
