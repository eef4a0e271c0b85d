/* test_core.c -- UTF-8 repair, arena, buffers, number formatting. */
#include "testutil.h"

#include <stdlib.h>

static void sanitize(const char *in, size_t n, const char *want,
                     size_t want_repl) {
  char *out = malloc(3 * n + 1);
  size_t len, repl = fmi_utf8_sanitize(in, n, out, &len);
  assert_int_equal(repl, want_repl);
  assert_int_equal(len, strlen(want));
  assert_memory_equal(out, want, len);
  free(out);
}

#define FFFD "\xEF\xBF\xBD"

static void test_utf8_valid_passes(void **state) {
  (void)state;
  sanitize("plain ascii", 11, "plain ascii", 0);
  sanitize("\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D", 8, "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D", 0);
  sanitize("\xF0\x9F\x91\x8D", 4, "\xF0\x9F\x91\x8D", 0); /* 👍 */
  sanitize("", 0, "", 0);
}

static void test_utf8_invalid(void **state) {
  (void)state;
  /* a lone continuation byte and a stray lead byte */
  sanitize("a\x80" "b", 3, "a" FFFD "b", 1);
  sanitize("a\xC3", 2, "a" FFFD, 1);
  /* overlong encodings of '/' are refused byte by byte (C0 and AF are each
   * a maximal invalid subpart) */
  sanitize("\xC0\xAF", 2, FFFD FFFD, 2);
  sanitize("\xE0\x80\xAF", 3, FFFD FFFD FFFD, 3);
  /* UTF-16 surrogates encoded in UTF-8 (CESU) are not scalar values */
  sanitize("\xED\xA0\x80", 3, FFFD FFFD FFFD, 3);
  /* past U+10FFFF */
  sanitize("\xF4\x90\x80\x80", 4, FFFD FFFD FFFD FFFD, 4);
  /* a truncated 3-byte sequence is one maximal subpart */
  sanitize("\xE2\x82z", 3, FFFD "z", 1);
  sanitize("\xFF\xFE", 2, FFFD FFFD, 2);
}

static void test_utf8_nul_is_space(void **state) {
  (void)state;
  sanitize("a\0b\0", 4, "a b ", 0);
}

/* The eight-byte paths (ASCII; ASCII and two-byte letters) and the
 * two-byte one: every special byte sequence at every offset of a run of
 * ASCII, of Hebrew, and of both, so it falls inside, at the edge of and
 * past an eight-byte block. */
static void test_utf8_fast_paths(void **state) {
  static const struct {
    const char *in, *out;
    size_t in_len;
    size_t repl;
  } cases[] = {
      {"\0", " ", 1, 0},
      {"\xC3\xA9", "\xC3\xA9", 2, 0},         /* é */
      {"\xD7\xA9", "\xD7\xA9", 2, 0},         /* ש */
      {"\xC3", FFFD, 1, 1},                   /* cut lead byte */
      {"\xC3" "A", FFFD "A", 2, 1},           /* lead, no continuation */
      {"\xC1\xBF", FFFD FFFD, 2, 2},          /* overlong */
      {"\xC0\x80", FFFD FFFD, 2, 2},          /* overlong NUL */
      {"\xDF\xBF", "\xDF\xBF", 2, 0},         /* U+07FF */
      {"\xD7\xD7", FFFD FFFD, 2, 2},          /* two leads */
      {"\x80", FFFD, 1, 1},
      {"\xBF\xBF", FFFD FFFD, 2, 2},
      {"\x7F", "\x7F", 1, 0},
      {"\xE2\x80\x99", "\xE2\x80\x99", 3, 0},
      {"\xE2\x80", FFFD, 2, 1},
      {"\xF0\x9F\x91\x8D", "\xF0\x9F\x91\x8D", 4, 0},
      {"\xFF", FFFD, 1, 1},
      {"\xE0\xB8\x81", "\xE0\xB8\x81", 3, 0},   /* ก */
      {"\xE0\x80\xAF", FFFD FFFD FFFD, 3, 3}, /* overlong */
      {"\xE0\x9F\xBF", FFFD FFFD FFFD, 3, 3}, /* overlong */
      {"\xED\x9F\xBF", "\xED\x9F\xBF", 3, 0},   /* U+D7FF */
      {"\xED\xA0\x80", FFFD FFFD FFFD, 3, 3}, /* surrogate */
      {"\xEF\xBF\xBF", "\xEF\xBF\xBF", 3, 0},   /* U+FFFF */
      {"\xE0\xB8", FFFD, 2, 1},                /* cut */
      {"\xE0\xB8" "a", FFFD "a", 3, 1},
  };
  static const char *const fill[] = {"a", "\xD7\xA9", "\xD7\xA9 ",
                                     "\xE0\xB8\x81", "\xE0\xB8\x81 "};
  char in[256], want[256];
  size_t c, f, pre, post, k;
  (void)state;
  for (f = 0; f < sizeof fill / sizeof fill[0]; f++)
    for (c = 0; c < sizeof cases / sizeof cases[0]; c++)
      for (pre = 0; pre <= 17; pre++)
        for (post = 0; post <= 17; post++) {
          size_t n = 0, w = 0, fl = strlen(fill[f]),
                 ol = strlen(cases[c].out);
          for (k = 0; k < pre; k++) {
            memcpy(in + n, fill[f], fl);
            memcpy(want + w, fill[f], fl);
            n += fl;
            w += fl;
          }
          memcpy(in + n, cases[c].in, cases[c].in_len);
          n += cases[c].in_len;
          memcpy(want + w, cases[c].out, ol);
          w += ol;
          for (k = 0; k < post; k++) {
            memcpy(in + n, fill[f], fl);
            memcpy(want + w, fill[f], fl);
            n += fl;
            w += fl;
          }
          want[w] = 0;
          sanitize(in, n, want, cases[c].repl);
        }
}

static void test_arena_cap(void **state) {
  fmi_arena a;
  void *p;
  (void)state;
  fmi_arena_init(&a, 1000);
  p = fmi_arena_alloc(&a, 600);
  assert_non_null(p);
  assert_int_equal((uintptr_t)p % 8, 0);
  assert_null(fmi_arena_alloc(&a, 600));
  assert_true(a.over_cap);
  assert_int_equal(fmi_arena_status(&a), FM_ETOOBIG);
  fmi_arena_reset(&a);
  assert_non_null(fmi_arena_alloc(&a, 600));
  fmi_arena_free(&a);
}

static void test_arena_grows_and_keeps(void **state) {
  fmi_arena a;
  int i;
  (void)state;
  fmi_arena_init(&a, 0);
  for (i = 0; i < 100; i++) {
    char *s = fmi_arena_memdup(&a, "hello", 5);
    assert_string_equal(s, "hello");
    assert_non_null(fmi_arena_alloc(&a, 10000));
  }
  fmi_arena_reset(&a);
  assert_int_equal(a.used_total, 0);
  /* the kept chunk serves the next document without growing */
  assert_non_null(fmi_arena_alloc(&a, 10000));
  fmi_arena_free(&a);
}

static void test_buf(void **state) {
  fmi_buf b = {0};
  int i;
  (void)state;
  for (i = 0; i < 1000; i++) assert_int_equal(fmi_buf_printf(&b, "%d,", i), FM_OK);
  assert_int_equal(strncmp(b.data, "0,1,2,", 6), 0);
  assert_int_equal(b.data[b.len], 0);
  fmi_buf_free(&b);
}

static void fmt(double v, int d, const char *want) {
  char out[64];
  fmi_fmt_double(out, sizeof out, v, d);
  assert_string_equal(out, want);
}

static void test_fmt_double(void **state) {
  (void)state;
  fmt(0.5, 2, "0.50");
  fmt(-0.0001, 2, "0.00");
  fmt(-1.25, 1, "-1.3");
  fmt(123456.789, 3, "123456.789");
  fmt(0.0, 0, "0");
  fmt(99.995, 2, "100.00");
}

static void test_strerror_total(void **state) {
  int i;
  (void)state;
  for (i = 0; i < 40; i++) assert_non_null(fm_strerror((fm_status)i));
  assert_string_equal(fm_strerror(FM_ETOOBIG), "input too large");
  assert_int_equal(fm_version_number(), FEEDMINE_VERSION_NUMBER);
}

static void test_alloc_fault_injection(void **state) {
  void *p;
  (void)state;
  fmi_fault_fail_after(1);
  p = fmi_malloc(10);
  assert_non_null(p);
  fmi_free(p);
  assert_null(fmi_malloc(10));
  fmi_fault_fail_after(-1);
  p = fmi_malloc(10);
  assert_non_null(p);
  fmi_free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_utf8_valid_passes),
    cmocka_unit_test(test_utf8_invalid),
    cmocka_unit_test(test_utf8_nul_is_space),
    cmocka_unit_test(test_utf8_fast_paths),
    cmocka_unit_test(test_arena_cap),
    cmocka_unit_test(test_arena_grows_and_keeps),
    cmocka_unit_test(test_buf),
    cmocka_unit_test(test_fmt_double),
    cmocka_unit_test(test_strerror_total),
    cmocka_unit_test(test_alloc_fault_injection),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
