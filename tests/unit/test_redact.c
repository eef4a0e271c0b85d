/*
 * test_redact.c -- PII redaction: each kind in several formats and
 * scripts, the numbers that must stay (dates, times, versions, prices,
 * ticket ids, Luhn- and mod-97-invalid numbers), the span contract, big
 * inputs, and allocation failures. Every case runs twice, through the JIT
 * and through the interpreter, which must agree.
 */
#include "testutil.h"

#include "redact.h"

#include <stdio.h>
#include <stdlib.h>

static const char *const KIND[FMI_PII__COUNT] = {"email", "url",  "phone",
                                                 "card",  "iban", "ip"};

typedef struct fixture {
  fmi_redactor *jit, *interp;
  fmi_arena arena;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  fm_error err;
  assert_non_null(f);
  assert_int_equal(fmi_redactor_new(&f->jit, &err), FM_OK);
  assert_int_equal(fmi_redactor_new_interpreted(&f->interp, &err), FM_OK);
  fmi_arena_init(&f->arena, 0);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  fmi_redactor_free(f->jit);
  fmi_redactor_free(f->interp);
  fmi_arena_free(&f->arena);
  free(f);
  return 0;
}

/* Checks the span contract and renders the spans as "kind=text|..." */
static void render(const char *text, size_t len, const fmi_span *sp,
                   size_t n, char *out, size_t cap) {
  size_t i, used = 0;
  out[0] = 0;
  for (i = 0; i < n; i++) {
    int w;
    assert_true(sp[i].start < sp[i].end);
    assert_true(sp[i].end <= len);
    assert_true((unsigned)sp[i].kind < FMI_PII__COUNT);
    if (i) assert_true(sp[i].start >= sp[i - 1].end);
    /* Bounds on character boundaries: the caller splices placeholders. */
    assert_true(((unsigned char)text[sp[i].start] & 0xC0u) != 0x80u);
    assert_true(sp[i].end == len ||
                ((unsigned char)text[sp[i].end] & 0xC0u) != 0x80u);
    w = snprintf(out + used, cap - used, "%s%s=%.*s", i ? "|" : "",
                 KIND[sp[i].kind], (int)(sp[i].end - sp[i].start),
                 text + sp[i].start);
    assert_true(w >= 0 && (size_t)w < cap - used);
    used += (size_t)w;
  }
}

/* The spans of `text` as "kind=text|kind=text", the same through the JIT
 * and the interpreter. Returns a static buffer. */
static const char *found(fixture *f, const char *text) {
  static char a[4096], b[4096];
  fmi_span *sp;
  size_t n, len = strlen(text);
  fm_error err;
  assert_int_equal(
      fmi_redact_find(f->jit, text, len, &f->arena, &sp, &n, &err), FM_OK);
  render(text, len, sp, n, a, sizeof a);
  fmi_arena_reset(&f->arena);
  assert_int_equal(
      fmi_redact_find(f->interp, text, len, &f->arena, &sp, &n, &err),
      FM_OK);
  render(text, len, sp, n, b, sizeof b);
  fmi_arena_reset(&f->arena);
  assert_string_equal(a, b);
  return a;
}

#define EXPECT(text, want) assert_string_equal(found(f, text), want)

/* The scan skips eight bytes at a time while none can start PII: each
 * kind, and text without PII, after 0..17 bytes of prose (ASCII and
 * Hebrew), so the trigger falls at every position of a block. */
static void test_skip_blocks(void **state) {
  fixture *f = *state;
  static const struct {
    const char *pii, *want;
  } cases[] = {
      {"dana@example.com", "email=dana@example.com"},
      {"https://x.org/a", "url=https://x.org/a"},
      {"www.example.com", "url=www.example.com"},
      {"+972-54-123-4567", "phone=+972-54-123-4567"},
      {"(415) 555-0134", "phone=(415) 555-0134"},
      {"4111 1111 1111 1111", "card=4111 1111 1111 1111"},
      {"GB82 WEST 1234 5698 7654 32", "iban=GB82 WEST 1234 5698 7654 32"},
      {"192.168.1.20", "ip=192.168.1.20"},
      {"fe80::1", "ip=fe80::1"},
      {"no pii here at all", ""},
      {"order 2024 costs 30", ""},
  };
  static const char *const prose[] = {"the quick brown fox jumps ",
                                      "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D "
                                      "\xD7\xA2\xD7\x95\xD7\x9C\xD7\x9D "};
  char text[256], want[256];
  size_t c, p, k;
  for (p = 0; p < 2; p++)
    for (c = 0; c < sizeof cases / sizeof cases[0]; c++)
      for (k = 0; k <= 17; k++) {
        size_t n = 0;
        /* k bytes of prose, cut back to a character boundary, and a space */
        memcpy(text, prose[p], k);
        n = k;
        while (n > 0 && ((unsigned char)text[n - 1] & 0xC0u) == 0xC0u) n--;
        while (n > 0 && ((unsigned char)text[n] & 0xC0u) == 0x80u &&
               n < k)
          n++;
        text[n++] = ' ';
        snprintf(text + n, sizeof text - n, "%s and the rest of the text",
                 cases[c].pii);
        snprintf(want, sizeof want, "%s", cases[c].want);
        EXPECT(text, want);
      }
}

static void test_placeholders(void **state) {
  (void)state;
  assert_string_equal(fmi_pii_placeholder(FMI_PII_EMAIL), "<email>");
  assert_string_equal(fmi_pii_placeholder(FMI_PII_URL), "<url>");
  assert_string_equal(fmi_pii_placeholder(FMI_PII_PHONE), "<phone>");
  assert_string_equal(fmi_pii_placeholder(FMI_PII_CARD), "<card>");
  assert_string_equal(fmi_pii_placeholder(FMI_PII_IBAN), "<iban>");
  assert_string_equal(fmi_pii_placeholder(FMI_PII_IP), "<ip>");
}

static void test_exact_offsets(void **state) {
  fixture *f = *state;
  const char *text = "Call 054-1234567 or mail a@b.io, thanks";
  fmi_span *sp;
  size_t n;
  fm_error err;
  assert_int_equal(fmi_redact_find(f->jit, text, strlen(text), &f->arena,
                                   &sp, &n, &err),
                   FM_OK);
  assert_int_equal(n, 2);
  assert_int_equal(sp[0].start, 5);
  assert_int_equal(sp[0].end, 16);
  assert_int_equal(sp[0].kind, FMI_PII_PHONE);
  assert_int_equal(sp[1].start, 25);
  assert_int_equal(sp[1].end, 31);
  assert_int_equal(sp[1].kind, FMI_PII_EMAIL);
  fmi_arena_reset(&f->arena);
}

static void test_emails(void **state) {
  fixture *f = *state;
  EXPECT("Write to john.smith+tag@example.co.uk today",
         "email=john.smith+tag@example.co.uk");
  EXPECT("First.Last@Sub.Example.COM.", "email=First.Last@Sub.Example.COM");
  EXPECT("user@example.com's inbox", "email=user@example.com");
  /* Hebrew "to" with a hyphen before the address. */
  EXPECT("כתבו ל-dana@example.co.il בבקשה", "email=dana@example.co.il");
  EXPECT("راسلنا على info@shop.ae شكرا", "email=info@shop.ae");
  EXPECT("пишите на ivan@пример.рф", "email=ivan@пример.рф");
  /* Thai has no spaces around it. */
  EXPECT("ติดต่อjohn@example.comครับ", "email=john@example.com");
  EXPECT("mailto:john@example.com", "email=john@example.com");
  EXPECT("@mention a@b user@localhost a@b.c x@.com", "");
}

static void test_urls(void **state) {
  fixture *f = *state;
  EXPECT("see https://example.com/path?q=1&x=2.",
         "url=https://example.com/path?q=1&x=2");
  EXPECT("(www.example.org/a_(b))", "url=www.example.org/a_(b)");
  EXPECT("get ftp://files.example.net/pub/file.txt, then",
         "url=ftp://files.example.net/pub/file.txt");
  EXPECT("HTTP://EXAMPLE.COM!", "url=HTTP://EXAMPLE.COM");
  EXPECT("[link](https://x.com/a) **https://y.com**",
         "url=https://x.com/a|url=https://y.com");
  EXPECT("«https://x.ru/путь» and \"https://q.com\"",
         "url=https://x.ru/путь|url=https://q.com");
  EXPECT("ראו https://he.wikipedia.org/wiki/עברית עכשיו",
         "url=https://he.wikipedia.org/wiki/עברית");
  /* Hebrew, Thai and Chinese glued to the end are not the URL's. */
  EXPECT("https://www.youtube.com/watch?v=aMSsd653OZkזה",
         "url=https://www.youtube.com/watch?v=aMSsd653OZk");
  EXPECT("ดูที่https://example.com/aขอบคุณ", "url=https://example.com/a");
  EXPECT("请访问https://example.cn/x。谢谢", "url=https://example.cn/x");
  /* An email inside a URL belongs to the URL (earlier start). */
  EXPECT("https://example.com/?to=a@b.com", "url=https://example.com/?to=a@b.com");
  EXPECT("http:// www awww.com xhttp://a.com", "");
}

static void test_phones(void **state) {
  fixture *f = *state;
  /* Israeli */
  EXPECT("Call 050-1234567 or 054-123-4567 or 03-1234567",
         "phone=050-1234567|phone=054-123-4567|phone=03-1234567");
  EXPECT("+972-54-123-4567", "phone=+972-54-123-4567");
  EXPECT("התקשרו ל-050-1234567 מחר", "phone=050-1234567");
  EXPECT("tel:+972541234567, (03) 1234567",
         "phone=+972541234567|phone=(03) 1234567");
  EXPECT("054-1234567,03-1234567", "phone=054-1234567|phone=03-1234567");
  /* Russian */
  EXPECT("+7 912 345-67-89, 8 (495) 123-45-67, 8-800-555-35-35",
         "phone=+7 912 345-67-89|phone=8 (495) 123-45-67|"
         "phone=8-800-555-35-35");
  EXPECT("звоните 89123456789 или +7 (912) 345-67-89",
         "phone=89123456789|phone=+7 (912) 345-67-89");
  /* US */
  EXPECT("US 415-555-0134 and (415) 555-0134 and 1-800-555-0199",
         "phone=415-555-0134|phone=(415) 555-0134|phone=1-800-555-0199");
  EXPECT("+1 (415) 555-0134", "phone=+1 (415) 555-0134");
  /* European */
  EXPECT("+49 30 1234567 or 06 12 34 56 78",
         "phone=+49 30 1234567|phone=06 12 34 56 78");
  EXPECT("+44 (0)20 7946 0958, 020 7946 0958, 030/1234567",
         "phone=+44 (0)20 7946 0958|phone=020 7946 0958|phone=030/1234567");
  EXPECT("+33 6 12 34 56 78", "phone=+33 6 12 34 56 78");
  /* Arabic and Thai text around them. */
  EXPECT("اتصل على +971 50 123 4567 شكرا", "phone=+971 50 123 4567");
  EXPECT("โทร0812345678ครับ", "phone=0812345678");
  EXPECT("โทร 094.414.9266", "phone=094.414.9266");
  /* A number after the phone is not taken in. */
  EXPECT("+972 54 123 4567 2024", "phone=+972 54 123 4567");
  EXPECT("+1 415 555 0134 10 times", "phone=+1 415 555 0134");
  EXPECT("2024 054-1234567", "phone=054-1234567");
}

static void test_cards(void **state) {
  fixture *f = *state;
  EXPECT("card 4111 1111 1111 1111 ok", "card=4111 1111 1111 1111");
  EXPECT("card 4111-1111-1111-1111 ok", "card=4111-1111-1111-1111");
  EXPECT("amex 378282246310005, 3782 822463 10005",
         "card=378282246310005|card=3782 822463 10005");
  EXPECT("mc 5555555555554444.", "card=5555555555554444");
  EXPECT("visa13 4222222222222", "card=4222222222222");
  EXPECT("כרטיס 4012 8888 8888 1881 תודה", "card=4012 8888 8888 1881");
  /* Luhn fails: an order number, and not a phone either. */
  EXPECT("order 4111111111111112 shipped", "");
  EXPECT("order 1234567812345678 shipped", "");
  EXPECT("order 0123456789012345 shipped", "");
  EXPECT("ref 1234 5678 9012 3456", "");
  /* Digits before '@' are an email's, not a card. */
  EXPECT("4111111111111111@x.com", "email=4111111111111111@x.com");
}

static void test_ibans(void **state) {
  fixture *f = *state;
  EXPECT("pay GB82 WEST 1234 5698 7654 32 now",
         "iban=GB82 WEST 1234 5698 7654 32");
  EXPECT("DE89370400440532013000", "iban=DE89370400440532013000");
  EXPECT("DE89 3704 0044 0532 0130 00 and",
         "iban=DE89 3704 0044 0532 0130 00");
  EXPECT("FR14 2004 1010 0505 0001 3M02 606",
         "iban=FR14 2004 1010 0505 0001 3M02 606");
  EXPECT("חשבון IL62 0108 0000 0009 9999 999",
         "iban=IL62 0108 0000 0009 9999 999");
  EXPECT("IBAN: NL91ABNA0417164300, thanks", "iban=NL91ABNA0417164300");
  /* A following word caught as a group is cut at the country's length. */
  EXPECT("BE68 5390 0754 7034 that", "iban=BE68 5390 0754 7034");
  /* Wrong check digits, wrong length, unknown country. */
  EXPECT("GB83 WEST 1234 5698 7654 32 bad", "");
  EXPECT("DE89 3704 0044 0532 0130 0", "");
  EXPECT("QQ82 WEST 1234 5698 7654 32", "");
}

static void test_ips(void **state) {
  fixture *f = *state;
  EXPECT("ip 192.168.1.1 and 10.0.0.255:8080",
         "ip=192.168.1.1|ip=10.0.0.255");
  EXPECT("2001:db8::1 and fe80::1ff:fe23:4567:890a",
         "ip=2001:db8::1|ip=fe80::1ff:fe23:4567:890a");
  EXPECT("2001:0db8:85a3:0000:0000:8a2e:0370:7334 ::1",
         "ip=2001:0db8:85a3:0000:0000:8a2e:0370:7334|ip=::1");
  EXPECT("::ffff:192.0.2.128", "ip=::ffff:192.0.2.128");
  EXPECT("השרת 10.1.2.3 נפל", "ip=10.1.2.3");
  EXPECT("256.1.1.1 1.2.3.4.5 10:30 10:30:45 std::vector a::b:: ::", "");
  EXPECT("00:1A:2B:3C:4D:5E 2024-05-01T10:30:00Z", "");
}

static void test_not_pii(void **state) {
  fixture *f = *state;
  EXPECT("on 2024-05-01, 01.05.2024, 01/05/2024 10:30, 2024/05/01", "");
  EXPECT("31.12.2023 23:59 and 05-01-2024 12:30 and 2019-2024", "");
  EXPECT("v2.3.1, version 1.2.3.4, Version 10.2.13.4, v1.2.3.4", "");
  EXPECT("1,299.00 $1,299.00 €1.299,00 1 299,00 ₽ 12,345,678", "");
  EXPECT("ticket #12345, #1234567890 and order 12345678", "");
  EXPECT("in 2024 we sold 3 items for 1 000 000 at 12:30:45", "");
  EXPECT("ISBN 978-3-16-148410-0, pi 3.14159265, 32.0853, 34.7818", "");
  EXPECT("A320neo x86_64 mp3 1Z999AA10123456784 ID 123456789", "");
  EXPECT("1 2 3 4 5 6 7 8 9 10 11 12 13 14 15", "");
}

static void test_empty_and_punctuation(void **state) {
  fixture *f = *state;
  fmi_span *sp = (fmi_span *)1;
  size_t n = 99;
  fm_error err;
  assert_int_equal(fmi_redact_find(f->jit, "", 0, &f->arena, &sp, &n, &err),
                   FM_OK);
  assert_int_equal(n, 0);
  assert_null(sp);
  EXPECT("!!!...???,,,;;;::::@@@+++((())) -- // :// www. @.", "");
  EXPECT("+", "");
  EXPECT("@", "");
  EXPECT(":", "");
  EXPECT("9", "");
}

/* One line with every kind once, in order, among text in four scripts and
 * numbers that must stay. */
static const char LINE[] =
    "Hello, write to a.b@example.com or call +972-54-123-4567; card "
    "4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, ip 10.0.0.1 "
    "and 2001:db8::1, see https://example.com/x. Order 1234567812345678 "
    "on 2024-05-01 at 10:30, v2.3.1, $1,299.00, #12345. שלום עולם, "
    "مرحبا بالعالم, สวัสดีครับ\n";
static const fmi_pii_kind LINE_KINDS[] = {
    FMI_PII_EMAIL, FMI_PII_PHONE, FMI_PII_CARD, FMI_PII_IBAN,
    FMI_PII_IP,    FMI_PII_IP,    FMI_PII_URL};
#define LINE_SPANS (sizeof LINE_KINDS / sizeof LINE_KINDS[0])

static void test_five_mib(void **state) {
  fixture *f = *state;
  size_t line = strlen(LINE), reps = (5u << 20) / line + 1, i, n;
  char *text = malloc(reps * line + 1);
  fmi_span *sp;
  fm_error err;
  assert_non_null(text);
  for (i = 0; i < reps; i++) memcpy(text + i * line, LINE, line);
  text[reps * line] = 0;
  assert_int_equal(fmi_redact_find(f->jit, text, reps * line, &f->arena,
                                   &sp, &n, &err),
                   FM_OK);
  assert_int_equal(n, reps * LINE_SPANS);
  for (i = 0; i < n; i++) {
    assert_int_equal(sp[i].kind, LINE_KINDS[i % LINE_SPANS]);
    if (i) assert_true(sp[i].start >= sp[i - 1].end);
  }
  assert_int_equal(sp[n - 1].end - sp[n - 1].start,
                   strlen("https://example.com/x"));
  fmi_arena_reset(&f->arena);
  free(text);
}

/* Five MiB without a space, made of what triggers a look: every attempt
 * is bounded, so this ends quickly and finds what it should. */
static void test_five_mib_hostile(void **state) {
  fixture *f = *state;
  static const char *const unit[] = {"1:", "a@", "9 ", "+1", "www.", "0-",
                                     "ab12", "::"};
  size_t u, len = 5u << 20, i, n;
  char *text = malloc(len + 1);
  fmi_span *sp;
  fm_error err;
  assert_non_null(text);
  for (u = 0; u < sizeof unit / sizeof unit[0]; u++) {
    size_t ul = strlen(unit[u]);
    for (i = 0; i < len; i++) text[i] = unit[u][i % ul];
    text[len] = 0;
    assert_int_equal(
        fmi_redact_find(f->jit, text, len, &f->arena, &sp, &n, &err), FM_OK);
    if (u == 4) {
      /* www.www.www... is one URL as long as the URL window allows (64
       * KiB, less the final '.', trimmed as sentence punctuation). */
      assert_int_equal(n, 1);
      assert_int_equal(sp[0].kind, FMI_PII_URL);
      assert_int_equal(sp[0].end, 65535);
    } else {
      assert_int_equal(n, 0);
    }
    fmi_arena_reset(&f->arena);
  }
  free(text);
}

static void test_arena_cap(void **state) {
  fixture *f = *state;
  fmi_arena small;
  fmi_span *sp;
  size_t n;
  fm_error err;
  fmi_arena_init(&small, 16);
  assert_int_equal(fmi_redact_find(f->jit, LINE, strlen(LINE), &small, &sp,
                                   &n, &err),
                   FM_ETOOBIG);
  assert_int_equal(n, 0);
  assert_int_equal(err.code, FM_ETOOBIG);
  fmi_arena_free(&small);
}

static void test_alloc_failure_new(void **state) {
  long k;
  (void)state;
  for (k = 0;; k++) {
    fmi_redactor *r = (fmi_redactor *)1;
    fm_error err;
    fm_status st;
    fmi_fault_fail_after(k);
    st = fmi_redactor_new(&r, &err);
    fmi_fault_fail_after(-1);
    if (st == FM_OK) {
      assert_non_null(r);
      fmi_redactor_free(r);
      break;
    }
    assert_int_equal(st, FM_ENOMEM);
    assert_int_equal(err.code, FM_ENOMEM);
    assert_null(r);
    assert_true(k < 100000);
  }
  assert_true(k > 3); /* contexts, patterns, match data, scratch */
}

/* Over both engines: the span scratch grows past its first capacity (200
 * emails) and the interpreter may allocate its backtracking frames. */
static void alloc_failure_find(bool jit) {
  char text[200 * 16 + 1];
  size_t i, used = 0;
  long k;
  for (i = 0; i < 200; i++)
    used += (size_t)snprintf(text + used, sizeof text - used, "u%03zu@ex.com ",
                             i);
  for (k = 0;; k++) {
    fmi_redactor *r;
    fmi_arena arena;
    fmi_span *sp;
    size_t n;
    fm_error err;
    fm_status st;
    assert_int_equal(jit ? fmi_redactor_new(&r, &err)
                         : fmi_redactor_new_interpreted(&r, &err),
                     FM_OK);
    fmi_arena_init(&arena, 0);
    fmi_fault_fail_after(k);
    st = fmi_redact_find(r, text, used, &arena, &sp, &n, &err);
    fmi_fault_fail_after(-1);
    if (st == FM_OK) {
      assert_int_equal(n, 200);
      assert_int_equal(sp[199].kind, FMI_PII_EMAIL);
    } else {
      assert_int_equal(st, FM_ENOMEM);
      assert_int_equal(n, 0);
      assert_null(sp);
    }
    /* The redactor stays usable after a failure. */
    assert_int_equal(fmi_redact_find(r, "a@b.io", 6, &arena, &sp, &n, &err),
                     FM_OK);
    assert_int_equal(n, 1);
    fmi_arena_free(&arena);
    fmi_redactor_free(r);
    if (st == FM_OK) break;
    assert_true(k < 100000);
  }
  assert_true(k >= 2); /* at least the scratch growth and the arena */
}

static void test_alloc_failure_find(void **state) {
  (void)state;
  alloc_failure_find(true);
  alloc_failure_find(false);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_placeholders),
      cmocka_unit_test_setup_teardown(test_exact_offsets, setup, teardown),
      cmocka_unit_test_setup_teardown(test_skip_blocks, setup, teardown),
      cmocka_unit_test_setup_teardown(test_emails, setup, teardown),
      cmocka_unit_test_setup_teardown(test_urls, setup, teardown),
      cmocka_unit_test_setup_teardown(test_phones, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cards, setup, teardown),
      cmocka_unit_test_setup_teardown(test_ibans, setup, teardown),
      cmocka_unit_test_setup_teardown(test_ips, setup, teardown),
      cmocka_unit_test_setup_teardown(test_not_pii, setup, teardown),
      cmocka_unit_test_setup_teardown(test_empty_and_punctuation, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_five_mib, setup, teardown),
      cmocka_unit_test_setup_teardown(test_five_mib_hostile, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_arena_cap, setup, teardown),
      cmocka_unit_test(test_alloc_failure_new),
      cmocka_unit_test(test_alloc_failure_find),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
