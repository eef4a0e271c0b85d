/*
 * test_normalize.c -- NFKC_Casefold and the Hebrew/Arabic rules, exact
 * output strings: ligatures and full-width forms, case folding in Latin,
 * Greek, Cyrillic and Turkish, niqqud and cantillation, harakat, tatweel,
 * alef/yeh/teh marbuta unification, Thai SARA AM, emoji sequences and
 * redaction placeholders left alone, the ICU slow path (decomposed input,
 * out-of-order marks), empty and punctuation-only text, a 5 MiB text, the
 * arena cap, no allocation at steady state, and allocation failures.
 */
#include "testutil.h"

#include "normalize.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct fixture {
  fmi_normalizer *n;
  fmi_arena arena;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  fm_error err;
  assert_non_null(f);
  assert_int_equal(fmi_normalizer_new(&f->n, &err), FM_OK);
  fmi_arena_init(&f->arena, 0);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  fmi_normalizer_free(f->n);
  fmi_arena_free(&f->arena);
  free(f);
  return 0;
}

static const char *norm(fixture *f, const char *in) {
  char *out = NULL;
  size_t len = 99;
  fm_error err;
  assert_int_equal(fmi_normalize(f->n, in, strlen(in), &f->arena, &out, &len,
                                 &err),
                   FM_OK);
  assert_non_null(out);
  assert_int_equal(strlen(out), len);
  return out;
}

#define NORM(in, want) assert_string_equal(norm(f, in), want)

static void test_ascii(void **state) {
  fixture *f = *state;
  NORM("Hello WORLD, it's 10:30 AM!", "hello world, it's 10:30 am!");
  NORM("ABCDEFGHIJKLMNOPQRSTUVWXYZ @[`{ 0123456789",
       "abcdefghijklmnopqrstuvwxyz @[`{ 0123456789");
  NORM("x", "x");
  NORM("Q", "q");
}

static void test_empty_and_punctuation(void **state) {
  fixture *f = *state;
  NORM("", "");
  NORM("?!...,;:-- ()[]", "?!...,;:-- ()[]");
  NORM("¿¡«»—…", "¿¡«»—...");
}

static void test_nfkc(void **state) {
  fixture *f = *state;
  NORM("ﬁle ﬂow ﬃ", "file flow ffi");
  NORM("ＡＢＣ ａｂｃ １２３", "abc abc 123");
  NORM("Straße STRASSE ẞ", "strasse strasse ss");
  NORM("½ ² ™ №", "1⁄2 2 tm no");
  NORM("Ⅻ ㎏ ℌ", "xii kg h");
  /* Soft hyphen and zero-width joiner inside a word are default
   * ignorable: gone. */
  NORM("in\xC2\xAD" "credible ab\xE2\x80\x8D" "c", "incredible abc");
}

static void test_case_folding(void **state) {
  fixture *f = *state;
  NORM("ΣΊΣΥΦΟΣ Ὀδυσσεύς", "σίσυφοσ ὀδυσσεύσ");
  NORM("ПРИВЕТ, Ёлка! ІЇЄҐ", "привет, ёлка! іїєґ");
  /* Turkish dotted capital I folds to i + combining dot above (the
   * language-independent folding); dotless ı stays. */
  NORM("İSTANBUL ıi", "i\xCC\x87stanbul ıi");
  NORM("Café MÜNCHEN Naïve ÅNGSTRÖM", "café münchen naïve ångström");
  NORM("ǅemal ǈ", "džemal lj");
}

static void test_hebrew(void **state) {
  fixture *f = *state;
  /* Points (niqqud), including shin/sin dots and dagesh. */
  NORM("שָׁלוֹם עוֹלָם", "שלום עולם");
  NORM("בְּרֵאשִׁית בָּרָא", "בראשית ברא");
  /* Cantillation (tipcha U+0596, etnahta U+0591) goes too. */
  NORM("בְּרֵאשִׁ֖ית בָּרָ֑א", "בראשית ברא");
  /* Maqaf, geresh and gershayim are punctuation: kept. */
  NORM("בֵּית־סֵפֶר צה״ל ג׳ירפה", "בית־ספר צה״ל ג׳ירפה");
  /* Presentation forms decompose and lose their points. */
  NORM("\xEF\xAC\xAA\xEF\xAC\xB1", "שב"); /* U+FB2A U+FB31 */
  /* Points in an order that is not canonical: the ICU path, same result. */
  NORM("ש\xD7\x81\xD6\xB8", "ש");
}

static void test_arabic(void **state) {
  fixture *f = *state;
  NORM("أَهْلاً وَسَهْلاً بِكُمْ", "اهلا وسهلا بكم");
  NORM("إلى مدرسة مستشفى آمن ٱلله", "الي مدرسه مستشفي امن الله");
  NORM("مرحـــبا بالعـالم", "مرحبا بالعالم");
  NORM("هٰذا", "هذا");
  /* Presentation forms: lam-alef ligature, the ﷺ honorific. */
  NORM("\xEF\xBB\xBB", "لا"); /* U+FEFB */
  NORM("\xEF\xB7\xBA", "صلي الله عليه وسلم"); /* U+FDFA */
  /* Decomposed alef + hamza: composed by NFKC, then unified. */
  NORM("\xD8\xA7\xD9\x94\xD9\x84", "ال");
  /* Waw and yeh with hamza are not in the unified set: composed, kept. */
  NORM("\xD9\x88\xD9\x94 \xD9\x8A\xD9\x94", "ؤ ئ");
  /* Digits and punctuation are left alone. */
  NORM("٣٫١٤ ١٬٠٠٠، ؟", "٣٫١٤ ١٬٠٠٠، ؟");
}

static void test_thai(void **state) {
  fixture *f = *state;
  NORM("น้ำท่วม ทำงาน", "น้ำท่วม ทำงาน");
  /* NIKHAHIT + SARA AA, as NFKC would write SARA AM: composed back. */
  NORM("\xE0\xB8\x97\xE0\xB9\x8D\xE0\xB8\xB2", "ทำ");
  NORM("ລາວ ຄຳ", "ລາວ ຄຳ");
}

static void test_untouched(void **state) {
  fixture *f = *state;
  /* Redaction placeholders: private use, unchanged. */
  NORM("mail \xEE\x80\x80 call \xEE\x80\x82 \xEF\xA3\xBF",
       "mail \xEE\x80\x80 call \xEE\x80\x82 \xEF\xA3\xBF");
  /* Emoji sequences keep their joiners, selectors, modifiers, tags. */
  NORM("👨‍👩‍👧 ❤️ 👍🏽 🇺🇸 🏴󠁧󠁢󠁳󠁣󠁴󠁿", "👨‍👩‍👧 ❤️ 👍🏽 🇺🇸 🏴󠁧󠁢󠁳󠁣󠁴󠁿");
  /* A keycap starts with a digit, no pictograph: its selector goes. */
  NORM("1\xEF\xB8\x8F\xE2\x83\xA3", "1\xE2\x83\xA3");
  NORM("GREAT👍🏽APP", "great👍🏽app");
}

static void test_slow_path(void **state) {
  fixture *f = *state;
  /* Decomposed accents (as some systems type them) compose. */
  NORM("Cafe\xCC\x81 E\xCC\x81TE\xCC\x81", "café été");
  NORM("=\xCC\xB8 <\xCC\xB8", "≠ ≮");
  /* Hangul jamo compose into syllables. */
  NORM("\xE1\x84\x92\xE1\x85\xA1\xE1\x86\xAB", "한");
  /* Mathematical letters (supplementary plane). */
  NORM("\xF0\x9D\x90\x80\xF0\x9D\x90\x81", "ab");
}

/* Splitting at a space changes nothing, so a long text must give the
 * concatenation of its pieces; the output may grow (U+FDFA). */
static void test_big_text(void **state) {
  fixture *f = *state;
  static const char *const pieces[] = {
      "The APP crashes when I upload a PDF. ",
      "Die Größe der Datei ist zu GROSS. ",
      "שָׁלוֹם, המערכת לא עובדת! ",
      "أَهْلاً، التطبيـــق لا يعمل. ",
      "ระบบล่มบ่อยมาก น้ำ ",
      "Cafe\xCC\x81 ﬁne ＡＢＣ 👨‍👩‍👧 ",
      "\xEF\xB7\xBA ",
      "ПРИВЕТ ΣΊΣΥΦΟΣ İ ",
  };
  size_t np = sizeof pieces / sizeof *pieces, i, len = 0, cap = 5u << 20;
  char *big = malloc(cap + 256), *want = malloc(3 * cap);
  size_t wl = 0;
  const char *normed[8];
  char *out;
  size_t out_len;
  fm_error err;
  assert_non_null(big);
  assert_non_null(want);
  for (i = 0; i < np; i++) {
    normed[i] = norm(f, pieces[i]);
    normed[i] = strdup(normed[i]);
  }
  for (i = 0; len < cap; i = (i + 1) % np) {
    size_t pl = strlen(pieces[i]), nl = strlen(normed[i]);
    memcpy(big + len, pieces[i], pl);
    len += pl;
    memcpy(want + wl, normed[i], nl);
    wl += nl;
  }
  fmi_arena_reset(&f->arena);
  assert_int_equal(fmi_normalize(f->n, big, len, &f->arena, &out, &out_len,
                                 &err),
                   FM_OK);
  assert_int_equal(out_len, wl);
  assert_memory_equal(out, want, wl);
  for (i = 0; i < np; i++) free((void *)normed[i]);
  free(big);
  free(want);
}

static void test_arena_cap(void **state) {
  fixture *f = *state;
  fmi_arena small;
  char *text = malloc(100000), *out = (char *)1;
  size_t out_len = 7;
  fm_error err;
  assert_non_null(text);
  memset(text, 'A', 100000);
  fmi_arena_init(&small, 4096);
  assert_int_equal(fmi_normalize(f->n, text, 100000, &small, &out, &out_len,
                                 &err),
                   FM_ETOOBIG);
  assert_int_equal(err.code, FM_ETOOBIG);
  assert_non_null(strstr(err.msg, "normalize"));
  assert_null(out);
  assert_int_equal(out_len, 0);
  fmi_arena_free(&small);
  free(text);
}

/* Once a document of a kind has been seen, the next one allocates
 * nothing: the caches and scratch buffers stay, the arena keeps a chunk. */
static void test_steady_state(void **state) {
  fixture *f = *state;
  const char *doc = "ΣΊΣΥΦΟΣ שָׁלוֹם أَهْلاً Cafe\xCC\x81 ﬁ 👨‍👩‍👧 ทำ";
  int i;
  for (i = 0; i < 2; i++) {
    fmi_arena_reset(&f->arena);
    (void)norm(f, doc);
  }
  fmi_fault_fail_after(-1);
  fmi_arena_reset(&f->arena);
  (void)norm(f, doc);
  assert_int_equal(fmi_fault_alloc_count(), 0);
}

static void test_alloc_failures(void **state) {
  const char *doc = "ΣΊΣΥΦΟΣ שָׁלוֹם أَهْلاً Cafe\xCC\x81 ﬁ 👨‍👩‍👧 ทำ "
                    "\xEF\xB7\xBA \xF0\x9D\x90\x80";
  long k;
  (void)state;
  for (k = 0;; k++) {
    fmi_normalizer *n = NULL;
    fmi_arena arena;
    fm_error err;
    char *out = NULL;
    size_t len = 0;
    fm_status st;
    fmi_arena_init(&arena, 0);
    fmi_fault_fail_after(k);
    st = fmi_normalizer_new(&n, &err);
    if (st == FM_OK)
      st = fmi_normalize(n, doc, strlen(doc), &arena, &out, &len, &err);
    fmi_fault_fail_after(-1);
    if (st == FM_OK) {
      assert_string_equal(out, "σίσυφοσ שלום اهلا café fi 👨‍👩‍👧 ทำ "
                               "صلي الله عليه وسلم a");
    } else {
      assert_int_equal(st, FM_ENOMEM);
      assert_int_equal(err.code, FM_ENOMEM);
      assert_null(out);
      if (n == NULL) assert_non_null(strstr(err.msg, "normalizer"));
    }
    fmi_normalizer_free(n);
    fmi_arena_free(&arena);
    if (st == FM_OK) break;
  }
  assert_true(k > 3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_ascii, setup, teardown),
      cmocka_unit_test_setup_teardown(test_empty_and_punctuation, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_nfkc, setup, teardown),
      cmocka_unit_test_setup_teardown(test_case_folding, setup, teardown),
      cmocka_unit_test_setup_teardown(test_hebrew, setup, teardown),
      cmocka_unit_test_setup_teardown(test_arabic, setup, teardown),
      cmocka_unit_test_setup_teardown(test_thai, setup, teardown),
      cmocka_unit_test_setup_teardown(test_untouched, setup, teardown),
      cmocka_unit_test_setup_teardown(test_slow_path, setup, teardown),
      cmocka_unit_test_setup_teardown(test_big_text, setup, teardown),
      cmocka_unit_test_setup_teardown(test_arena_cap, setup, teardown),
      cmocka_unit_test_setup_teardown(test_steady_state, setup, teardown),
      cmocka_unit_test(test_alloc_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
