/*
 * redact.c -- finds PII (emails, URLs, phone numbers, payment cards, IBANs,
 * IP addresses) in UTF-8 text. The only file that uses PCRE2.
 *
 * Speed comes from not running a regular expression over ordinary prose at
 * all. A byte loop looks for the few characters every kind of PII must
 * contain -- '@' (email), "://" or "www." (URL), a digit, '+' or '(' (phone,
 * card, IBAN, IPv4), ':' (IPv6) -- and only there runs the pattern of the
 * kinds that can start at that point, anchored and over a bounded window.
 * Each pattern is compiled with PCRE2_ANCHORED because the JIT does not
 * support anchoring as a match-time option (it would silently fall back to
 * the interpreter). An attempt costs well under a microsecond, and the
 * bounded window caps what any attempt can read, so the scan stays linear
 * in the text whatever it holds.
 *
 * What a regular expression cannot say is checked in C after the match:
 * the Luhn digit of cards, the mod-97 check and per-country length of
 * IBANs, the digit counts of phone numbers, trailing punctuation of URLs.
 *
 * Candidates are collected unordered (an email or IPv6 address is found
 * from its '@' or ':' and starts before it), then sorted and made
 * non-overlapping: the earlier start wins, then the longer span.
 */
#include "redact.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdlib.h>

/* ---- patterns -------------------------------------------------------------
 * All are compiled with PCRE2_UTF | PCRE2_ANCHORED | PCRE2_EXTENDED (so
 * spaces in the source are layout; a literal space is written [ ]). \d is
 * ASCII-only because PCRE2_UCP is off: Arabic-Indic digits are not PII
 * digits here. */

/* A number that is PII does not continue a word, a ticket id (#123), an
 * amount ($, £, ¥, ₪, €, ₽), a path, a decimal fraction (3.14159265) or a
 * number with thousands separators (1,299); after "digit," it may start
 * when it is not a group of three ("054-1234567,03-1234567"). */
#define NUM_BEFORE                                                          \
  "(?<![A-Za-z0-9_#$@/\\\\\\x{A3}\\x{A5}\\x{20AA}\\x{20AC}\\x{20BD}])"      \
  "(?<!\\d\\.)(?!(?<=\\d,)\\d{3}(?!\\d))"
/* ... and is not followed by a word, an '@' (then it is an email's local
 * part) or by more digits after a joiner (1234-5678 goes on). */
#define NUM_AFTER "(?![A-Za-z0-9_@])(?![-./:]?\\d)"

static const char RE_EMAIL[] =
    "[A-Za-z0-9_%+-]+ (?:\\.[A-Za-z0-9_%+-]+)*"
    "@"
    "(?:[\\p{L}\\p{N}] (?:[\\p{L}\\p{N}-]{0,61}[\\p{L}\\p{N}])? \\.){1,8}"
    "(?:[A-Za-z]{2,24} | xn--[A-Za-z0-9-]{1,59} | \\p{Cyrillic}{2,24})"
    "(?![A-Za-z0-9_-])";

/* The body stops at whitespace, quotes, angle brackets and at the
 * punctuation and scripts that, in text without spaces (Thai, CJK, Korean
 * particles), follow a URL directly: U+00A0, guillemets, U+2000-206F
 * (spaces, dashes, quotes, ellipsis), CJK symbols and ideographs, Hangul,
 * full-width forms, Thai/Lao, Myanmar, Khmer, and U+FFFD. Trailing
 * sentence punctuation is trimmed in C. */
static const char RE_URL[] =
    "(?i: (?:https?|ftp):// | www\\. )"
    "[\\p{L}\\p{N}\\[]"
    "[^\\s\\x00-\\x1F\\x7F<>\"'`{}|\\\\^"
    "\\x{A0}\\x{AB}\\x{BB}\\x{2000}-\\x{206F}\\x{3000}-\\x{9FFF}"
    "\\x{AC00}-\\x{D7AF}\\x{F900}-\\x{FAFF}\\x{FE30}-\\x{FE4F}"
    "\\x{FF00}-\\x{FFEF}\\x{FFFD}\\x{0E00}-\\x{0EFF}\\x{1000}-\\x{109F}"
    "\\x{1780}-\\x{17FF}]*";

/* Four shapes, told apart by the named group that matched; their digit
 * counts are checked in C. A date prefix (01.05.2024, 2024-05-01) is never
 * a phone, even with a time after it. */
static const char RE_PHONE[] =
    NUM_BEFORE
    "(?! \\d{1,2}([-./])\\d{1,2}\\g{-1}\\d{2,4}(?!\\d)"
    "  | \\d{4}([-./])\\d{1,2}\\g{-1}\\d{1,2}(?!\\d) )"
    "(?:"
    /* +972-54-123-4567, +7 912 345-67-89, +44 (0)20 7946 0958 */
    "  (?<intl> \\+[1-9]\\d{0,2} (?:[-. ]?\\(\\d{1,4}\\))?"
    "           (?:[-. ]?\\d{1,5}){1,6} )"
    /* 415-555-0134, (415) 555-0134, 1-800-555-0199 */
    "| (?<nanp> (?:1[-. ])? (?:\\([2-9]\\d\\d\\)[ ]? | [2-9]\\d\\d[-. ])"
    "           \\d{3}[-. ]\\d{4} )"
    /* 8 (495) 123-45-67, 8-800-555-35-35, 89123456789 */
    "| (?<ru>   8[- ]? (?:\\(\\d{3,5}\\)[ ]? | \\d{3}[- ]?)"
    "           \\d{2,3}[- ]?\\d{2}[- ]?\\d{2} )"
    /* trunk prefix 0: 050-1234567, 03-1234567, 06 12 34 56 78,
     * 030/1234567, (03) 1234567 */
    "| (?<trunk> (?:\\(0\\d{1,4}\\)[ ]? | 0\\d{1,4}[-. /]?)"
    "           \\d{1,8} (?:[-. ]\\d{1,8}){0,4} )"
    ")" NUM_AFTER;

/* 13-19 digits: solid, or grouped 4-4-4-4(-3), 4-6-5, 4-6-4 with one
 * separator. The Luhn digit is checked in C. */
static const char RE_CARD[] =
    NUM_BEFORE
    "(?: \\d{13,19}"
    "  | \\d{4}([ -]) (?: \\d{4}\\1\\d{4}\\1\\d{1,4}(?:\\1\\d{1,3})?"
    "                  | \\d{6}\\1\\d{4,5} ) )" NUM_AFTER;

/* Country code, check digits, then the BBAN solid or in groups of four.
 * A trailing word caught as a last group is cut off in C by the
 * country's length. */
static const char RE_IBAN[] =
    "(?<![A-Za-z0-9_])"
    "[A-Za-z]{2}\\d{2}"
    "(?: (?:[ ][A-Za-z0-9]{4})+ (?:[ ][A-Za-z0-9]{1,3})?"
    "  | [A-Za-z0-9]{11,30} )"
    "(?![A-Za-z0-9_])";

#define OCTET "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)"
#define IPV4 OCTET "(?:\\." OCTET "){3}"

/* Not a version number ("v1.2.3.4", "version 10.2.13.4"). */
static const char RE_IPV4[] =
    "(?<![A-Za-z0-9_.])"
    "(?<![Vv]ersion[ ])(?<![Vv]er\\.[ ])(?<![Vv]er[ ])(?<![Vv]\\.[ ])"
    IPV4 "(?![0-9A-Za-z_])(?!\\.\\d)";

/* Full and "::"-compressed forms, and IPv4 embedded at the end. "::" alone
 * is not matched (it is punctuation far more often than an address), nor
 * times (10:30:45) or MAC addresses, which have neither 8 groups nor "::".
 * The end assertions make PCRE2 backtrack into the alternative that spans
 * the whole address. */
#define H "[0-9A-Fa-f]{1,4}"
static const char RE_IPV6[] =
    "(?<![A-Za-z0-9_:.])"
    "(?: (?:" H ":){7}" H
    "  | (?:" H ":){1,7}:"
    "  | (?:" H ":){1,6}:" H
    "  | (?:" H ":){1,5}(?::" H "){1,2}"
    "  | (?:" H ":){1,4}(?::" H "){1,3}"
    "  | (?:" H ":){1,3}(?::" H "){1,4}"
    "  | (?:" H ":){1,2}(?::" H "){1,5}"
    "  | " H ":(?::" H "){1,6}"
    "  | :(?::" H "){1,7}"
    "  | ::(?:[Ff]{4}(?::0{1,4})?:)?" IPV4
    "  | (?:" H ":){1,4}:" IPV4
    "  | (?:" H ":){6}" IPV4 " )"
    "(?![A-Za-z0-9_:])(?!\\.\\d)";
#undef H

enum { RE_EMAIL_I, RE_URL_I, RE_PHONE_I, RE_CARD_I, RE_IBAN_I, RE_IPV4_I,
       RE_IPV6_I, RE__COUNT };

static const char *const PATTERNS[RE__COUNT] = {
    RE_EMAIL, RE_URL, RE_PHONE, RE_CARD, RE_IBAN, RE_IPV4, RE_IPV6};
static const char *const PATTERN_NAMES[RE__COUNT] = {
    "email", "url", "phone", "card", "iban", "ipv4", "ipv6"};

/* How far past its start a match may look. Bounding the subject bounds a
 * failed attempt whatever follows (a megabyte without spaces). Every
 * real PII item is far shorter; a URL longer than its window is redacted
 * up to the window. */
#define WIN_NUMBER 64
#define WIN_EMAIL 320
#define WIN_URL 65536
/* Backward reach from '@' over a local part, and from ':' over an IPv6
 * address (39 characters at most). */
#define EMAIL_LOCAL_MAX 64
#define IPV6_MAX 45
/* How much of a run of digits and separators is measured at once. */
#define CLUSTER_MAX 64

enum { PHONE_INTL, PHONE_NANP, PHONE_RU, PHONE_TRUNK, PHONE__COUNT };
static const char *const PHONE_GROUPS[PHONE__COUNT] = {"intl", "nanp", "ru",
                                                       "trunk"};

/* Invariants: every code is compiled (JIT-compiled when the JIT works);
 * md has room for the groups of every pattern; spans[0..nspans) is the
 * scratch of the current call only, cap >= nspans. */
struct fmi_redactor {
  pcre2_general_context *gctx;
  pcre2_compile_context *cctx;
  pcre2_code *re[RE__COUNT];
  pcre2_match_data *md;
  uint32_t phone_group[PHONE__COUNT];
  fmi_span *spans;
  size_t nspans, cap;
};

static const char *const PLACEHOLDERS[FMI_PII__COUNT] = {
    "<email>", "<url>", "<phone>", "<card>", "<iban>", "<ip>"};

const char *fmi_pii_placeholder(fmi_pii_kind kind) {
  if ((unsigned)kind >= FMI_PII__COUNT) return "<pii>";
  return PLACEHOLDERS[kind];
}

/* ---- PCRE2 allocation goes through fmi_malloc (fault injection) --------- */
static void *pcre_alloc(size_t n, void *data) {
  (void)data;
  return fmi_malloc(n);
}
static void pcre_release(void *p, void *data) {
  (void)data;
  fmi_free(p);
}

void fmi_redactor_free(fmi_redactor *r) {
  int i;
  if (!r) return;
  pcre2_match_data_free(r->md);
  for (i = 0; i < RE__COUNT; i++) pcre2_code_free(r->re[i]);
  pcre2_compile_context_free(r->cctx);
  pcre2_general_context_free(r->gctx);
  fmi_free(r->spans);
  fmi_free(r);
}

static fm_status redactor_new(fmi_redactor **out, bool jit, fm_error *err) {
  fmi_redactor *r;
  fm_status st = FM_ENOMEM;
  int i, k;
  *out = NULL;
  r = fmi_calloc(1, sizeof *r);
  if (!r) goto fail;
  r->gctx = pcre2_general_context_create(pcre_alloc, pcre_release, NULL);
  if (!r->gctx) goto fail;
  r->cctx = pcre2_compile_context_create(r->gctx);
  if (!r->cctx) goto fail;
  for (i = 0; i < RE__COUNT; i++) {
    int code;
    PCRE2_SIZE off;
    r->re[i] = pcre2_compile((PCRE2_SPTR)PATTERNS[i], PCRE2_ZERO_TERMINATED,
                             PCRE2_UTF | PCRE2_ANCHORED | PCRE2_EXTENDED,
                             &code, &off, r->cctx);
    if (!r->re[i]) {
      PCRE2_UCHAR msg[120];
      if (code == PCRE2_ERROR_HEAP_FAILED) goto fail;
      if (pcre2_get_error_message(code, msg, sizeof msg) < 0) msg[0] = 0;
      st = fmi_fail(err, FM_EREGEX,
                    "redact: the %s pattern does not compile at offset %zu: "
                    "%s",
                    PATTERN_NAMES[i], (size_t)off, (const char *)msg);
      goto fail;
    }
    /* Any JIT failure -- no JIT in this PCRE2 build, no executable memory
     * (SELinux, W^X), or no memory -- leaves the pattern to the
     * interpreter, which pcre2_match uses by itself: slower, never wrong. */
    if (jit) (void)pcre2_jit_compile(r->re[i], PCRE2_JIT_COMPLETE);
  }
  for (k = 0; k < PHONE__COUNT; k++) {
    int n = pcre2_substring_number_from_name(
        r->re[RE_PHONE_I], (PCRE2_SPTR)PHONE_GROUPS[k]);
    if (n <= 0) {
      st = fmi_fail(err, FM_EREGEX, "redact: phone group %s is missing",
                    PHONE_GROUPS[k]);
      goto fail;
    }
    r->phone_group[k] = (uint32_t)n;
  }
  /* The phone pattern has the most groups (7); 16 pairs leave room. */
  r->md = pcre2_match_data_create(16, r->gctx);
  if (!r->md) goto fail;
  r->cap = 64;
  r->spans = fmi_malloc(r->cap * sizeof *r->spans);
  if (!r->spans) goto fail;
  *out = r;
  return FM_OK;
fail:
  if (st == FM_ENOMEM)
    fmi_fail(err, FM_ENOMEM, "redact: out of memory compiling patterns");
  fmi_redactor_free(r);
  return st;
}

fm_status fmi_redactor_new(fmi_redactor **out, fm_error *err) {
  return redactor_new(out, true, err);
}

#ifdef FMI_FAULT_INJECTION
fm_status fmi_redactor_new_interpreted(fmi_redactor **out, fm_error *err) {
  return redactor_new(out, false, err);
}
#endif

/* ---- matching ------------------------------------------------------------ */

/* What one fmi_redact_find call works on. */
typedef struct scan {
  fmi_redactor *r;
  const unsigned char *t;
  size_t len;
  int rc; /* of the last pcre2_match: groups >= rc are unset */
  fm_error *err;
} scan;

static bool is_digit(unsigned c) { return c - '0' < 10u; }
static bool is_alpha(unsigned c) { return (c | 0x20u) - 'a' < 26u; }
static bool is_word(unsigned c) {
  return is_digit(c) || is_alpha(c) || c == '_';
}
static bool is_hex(unsigned c) {
  return is_digit(c) || (c | 0x20u) - 'a' < 6u;
}

/* Runs pattern `which` anchored at `at` over at most `win` bytes of text.
 * *end gets the end of the match, or stays untouched. */
static fm_status run(scan *sc, int which, size_t at, size_t win,
                     bool *matched, size_t *end) {
  size_t lim = sc->len - at > win ? at + win : sc->len;
  int rc;
  /* The window must end on a character boundary: with NO_UTF_CHECK a cut
   * sequence would be undefined behaviour. */
  while (lim > at && lim < sc->len && (sc->t[lim] & 0xC0u) == 0x80u) lim--;
  rc = pcre2_match(sc->r->re[which], (PCRE2_SPTR)sc->t, lim, at,
                   PCRE2_NO_UTF_CHECK, sc->r->md, NULL);
  sc->rc = rc;
  *matched = false;
  if (rc > 0) {
    *matched = true;
    *end = pcre2_get_ovector_pointer(sc->r->md)[1];
    return FM_OK;
  }
  if (rc == PCRE2_ERROR_NOMATCH) return FM_OK;
  if (rc == PCRE2_ERROR_NOMEMORY)
    return fmi_fail(sc->err, FM_ENOMEM, "redact: out of memory matching");
  {
    PCRE2_UCHAR msg[120];
    if (pcre2_get_error_message(rc, msg, sizeof msg) < 0) msg[0] = 0;
    return fmi_fail(sc->err, FM_EREGEX,
                    "redact: %s pattern failed at byte %zu: %s",
                    PATTERN_NAMES[which], at, (const char *)msg);
  }
}

static fm_status add(scan *sc, size_t s, size_t e, fmi_pii_kind kind) {
  fmi_redactor *r = sc->r;
  if (r->nspans == r->cap) {
    size_t cap, bytes;
    fmi_span *p;
    if (fmi_mul_overflows(r->cap, 2, &cap) ||
        fmi_mul_overflows(cap, sizeof *p, &bytes))
      return fmi_fail(sc->err, FM_ENOMEM, "redact: too many spans");
    p = fmi_realloc(r->spans, bytes);
    if (!p) return fmi_fail(sc->err, FM_ENOMEM, "redact: out of memory");
    r->spans = p;
    r->cap = cap;
  }
  r->spans[r->nspans].start = s;
  r->spans[r->nspans].end = e;
  r->spans[r->nspans].kind = kind;
  r->nspans++;
  return FM_OK;
}

/* ---- checks a pattern cannot make ---------------------------------------- */

static bool luhn_ok(const unsigned char *t, size_t s, size_t e) {
  unsigned sum = 0;
  bool dbl = false;
  size_t i;
  for (i = e; i > s; i--) {
    unsigned c = t[i - 1];
    if (!is_digit(c)) continue;
    c -= '0';
    if (dbl) c = c * 2 > 9 ? c * 2 - 9 : c * 2;
    sum += c;
    dbl = !dbl;
  }
  return sum % 10 == 0;
}

/* IBAN lengths by country (ISO 13616 registry). An IBAN of a country not
 * listed is not recognised: the length check is what keeps product codes
 * that happen to pass mod 97 (one in 97) from being redacted. */
static const struct { char cc[3]; unsigned char len; } IBAN_LEN[] = {
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20},
    {"BE", 16}, {"BG", 22}, {"BH", 22}, {"BI", 27}, {"BR", 29}, {"BY", 28},
    {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24}, {"DE", 22}, {"DJ", 27},
    {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18},
    {"FK", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22}, {"GE", 22}, {"GI", 23},
    {"GL", 18}, {"GR", 27}, {"GT", 28}, {"HR", 21}, {"HU", 28}, {"IE", 22},
    {"IL", 23}, {"IQ", 23}, {"IS", 26}, {"IT", 27}, {"JO", 30}, {"KW", 30},
    {"KZ", 20}, {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20}, {"LU", 20},
    {"LV", 21}, {"LY", 25}, {"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19},
    {"MN", 20}, {"MR", 27}, {"MT", 31}, {"MU", 30}, {"NI", 28}, {"NL", 18},
    {"NO", 15}, {"OM", 23}, {"PK", 24}, {"PL", 28}, {"PS", 29}, {"PT", 25},
    {"QA", 29}, {"RO", 24}, {"RS", 22}, {"RU", 33}, {"SA", 24}, {"SC", 31},
    {"SD", 18}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"SO", 23},
    {"ST", 25}, {"SV", 28}, {"TL", 23}, {"TN", 24}, {"TR", 26}, {"UA", 29},
    {"VA", 22}, {"VG", 24}, {"XK", 20}, {"YE", 30},
};

static unsigned iban_length(unsigned a, unsigned b) {
  size_t i;
  a &= ~0x20u;
  b &= ~0x20u;
  for (i = 0; i < sizeof IBAN_LEN / sizeof IBAN_LEN[0]; i++)
    if ((unsigned char)IBAN_LEN[i].cc[0] == a &&
        (unsigned char)IBAN_LEN[i].cc[1] == b)
      return IBAN_LEN[i].len;
  return 0;
}

/* The IBAN in [s, *e): cuts *e to the country's length, which must end a
 * group, and checks mod 97 (ISO 7064) over the rearranged characters. */
static bool iban_ok(const unsigned char *t, size_t s, size_t *e) {
  unsigned want = iban_length(t[s], t[s + 1]), have = 0, rem = 0, pass;
  size_t i, end = s;
  if (!want) return false;
  for (i = s; i < *e && have < want; i++)
    if (t[i] != ' ') have++, end = i + 1;
  if (have < want || (end < *e && t[end] != ' ')) return false;
  /* The first four characters go last; letters count as 10..35. */
  for (pass = 0; pass < 2; pass++) {
    size_t from = pass ? s : s + 4, to = pass ? s + 4 : end;
    for (i = from; i < to; i++) {
      unsigned c = t[i];
      if (c == ' ') continue;
      if (is_digit(c))
        rem = (rem * 10 + (c - '0')) % 97;
      else
        rem = (rem * 100 + ((c | 0x20u) - 'a' + 10)) % 97;
    }
  }
  *e = end;
  return rem == 1;
}

/* Digits of a phone number; the trunk "0" that some countries show in
 * brackets after the country code (+44 (0)20 ...) is not dialled. */
static unsigned phone_digits(const unsigned char *t, size_t s, size_t e) {
  unsigned n = 0;
  size_t i;
  for (i = s; i < e; i++) {
    if (t[i] == '(' && e - i >= 3 && t[i + 1] == '0' && t[i + 2] == ')')
      i += 2;
    else
      n += is_digit(t[i]);
  }
  return n;
}

/* Digit counts (with the country code) where a country fixes them, so a
 * number after the phone is not taken in ("+1 415 555 0134 10 times");
 * other countries get E.164's 8..15. Country codes are prefix-free. */
static const struct { char cc[4]; unsigned char lo, hi; } CC_DIGITS[] = {
    {"1", 11, 11}, {"7", 11, 11}, {"33", 11, 11}, {"44", 11, 12},
    {"972", 11, 12},
};

/* Checks the digit count of the phone shape that matched [s, *e); a phone
 * longer than its shape allows may have caught a following number
 * ("+972 54 123 4567 2024"), which is cut off at a space. */
static bool phone_ok(const unsigned char *t, size_t s, size_t *e, int shape) {
  static const unsigned char LO[PHONE__COUNT] = {8, 10, 11, 9};
  static const unsigned char HI[PHONE__COUNT] = {15, 11, 11, 11};
  unsigned lo = LO[shape], hi = HI[shape], digits;
  size_t i, end = *e;
  bool dot = false, other = false;
  if (shape == PHONE_INTL) {
    for (i = 0; i < sizeof CC_DIGITS / sizeof CC_DIGITS[0]; i++) {
      size_t n = strlen(CC_DIGITS[i].cc);
      if (end - s > n && memcmp(t + s + 1, CC_DIGITS[i].cc, n) == 0) {
        lo = CC_DIGITS[i].lo;
        hi = CC_DIGITS[i].hi;
        break;
      }
    }
  }
  digits = phone_digits(t, s, end);
  while (digits > hi) {
    size_t cut = end;
    while (cut > s && t[cut - 1] != ' ') cut--;
    if (cut <= s + 1) return false;
    end = cut - 1;
    digits = phone_digits(t, s, end);
  }
  if (digits < lo) return false;
  /* 01.05.2024 10 is a date and an hour, not a phone: dots do not mix
   * with other separators in local numbers. */
  if (shape == PHONE_TRUNK || shape == PHONE_NANP) {
    for (i = s; i < end; i++) {
      if (t[i] == '.') dot = true;
      else if (t[i] == ' ' || t[i] == '-' || t[i] == '/') other = true;
    }
    if (dot && other) return false;
  }
  *e = end;
  return true;
}

/* Drops sentence punctuation after a URL, and a closing bracket that
 * opened before it: "(see https://x.org/a_(b))." keeps "a_(b)". Text in
 * another script glued to the URL ("watch?v=aMSsd653OZkזה") is not part
 * of it, while a path in that script after a delimiter
 * (".../wiki/עברית") is: non-ASCII right after an ASCII letter or digit
 * ends the URL. */
static size_t url_trim(const unsigned char *t, size_t s, size_t e) {
  size_t i;
  for (i = s + 1; i < e; i++)
    if (t[i] >= 0xC0u && (is_digit(t[i - 1]) || is_alpha(t[i - 1]))) {
      e = i;
      break;
    }
  for (;;) {
    unsigned c = t[e - 1];
    if (c == '.' || c == ',' || c == ';' || c == ':' || c == '!' ||
        c == '?' || c == '*') {
      e--;
      continue;
    }
    if (c == ')' || c == ']') {
      unsigned open = c == ')' ? '(' : '[';
      long depth = 0;
      for (i = s; i < e; i++) {
        if (t[i] == open) depth++;
        else if (t[i] == c) depth--;
      }
      if (depth < 0) {
        e--;
        continue;
      }
    }
    return e;
  }
}

/* ---- candidates ------------------------------------------------------------ */

/* The run of digits and separators from s (which may open with '+' or
 * '('): separators are runs of at most two of " -./()" between digits.
 * Counts digits and dots in the first CLUSTER_MAX bytes. */
static size_t cluster(const unsigned char *t, size_t len, size_t s,
                      unsigned *digits, unsigned *dots) {
  size_t i = s, lim = len - s > CLUSTER_MAX ? s + CLUSTER_MAX : len;
  *digits = *dots = 0;
  if (t[i] == '+') i++;
  while (i < lim) {
    size_t j = i;
    unsigned d = 0;
    if (is_digit(t[i])) {
      ++*digits;
      i++;
      continue;
    }
    while (j < lim && j - i < 2 &&
           (t[j] == ' ' || t[j] == '-' || t[j] == '.' || t[j] == '/' ||
            t[j] == '(' || t[j] == ')'))
      d += t[j++] == '.';
    if (j == i || j >= lim || !is_digit(t[j])) break;
    *dots += d;
    i = j;
  }
  return i;
}

/* A number glued after two letters that open an IBAN: "GB82...", at a
 * word start, country code known. */
static bool iban_start(const unsigned char *t, size_t len, size_t s) {
  return s >= 2 && is_alpha(t[s - 2]) && is_alpha(t[s - 1]) &&
         (s == 2 || !is_word(t[s - 3])) && s + 1 < len &&
         is_digit(t[s + 1]) && iban_length(t[s - 2], t[s - 1]) != 0;
}

/* s is a digit, or '+'/'(' before a digit. */
static fm_status on_number(scan *sc, size_t s, size_t *next) {
  const unsigned char *t = sc->t;
  size_t len = sc->len, e, end = 0, j;
  unsigned digits, dots;
  bool m;
  fm_status st;
  if (s > 0 && is_word(t[s - 1])) {
    /* Glued to a word (A320, x86, mp3): only an IBAN starts like that. */
    if (is_digit(t[s]) && iban_start(t, len, s)) {
      if ((st = run(sc, RE_IBAN_I, s - 2, WIN_NUMBER, &m, &end)) != FM_OK)
        return st;
      if (m && iban_ok(t, s - 2, &end)) {
        *next = end;
        return add(sc, s - 2, end, FMI_PII_IBAN);
      }
    }
    for (j = s + 1; j < len && is_word(t[j]);) j++;
    *next = j;
    return FM_OK;
  }
  e = cluster(t, len, s, &digits, &dots);
  /* The common case in prose: a year, an amount, a count. */
  if (digits < 7 && (dots < 3 || digits < 4)) {
    *next = e;
    return FM_OK;
  }
  if (is_digit(t[s]) && dots >= 3) {
    if ((st = run(sc, RE_IPV4_I, s, WIN_NUMBER, &m, &end)) != FM_OK)
      return st;
    if (m) {
      *next = end;
      return add(sc, s, end, FMI_PII_IP);
    }
  }
  if (is_digit(t[s]) && digits >= 13) {
    if ((st = run(sc, RE_CARD_I, s, WIN_NUMBER, &m, &end)) != FM_OK)
      return st;
    if (m) {
      /* Card-shaped but failing Luhn (an order number): no PII, and not
       * a phone either. */
      *next = end;
      return luhn_ok(t, s, end) ? add(sc, s, end, FMI_PII_CARD) : FM_OK;
    }
  }
  if (digits >= 7) {
    if ((st = run(sc, RE_PHONE_I, s, WIN_NUMBER, &m, &end)) != FM_OK)
      return st;
    if (m) {
      PCRE2_SIZE *ov = pcre2_get_ovector_pointer(sc->r->md);
      int k;
      for (k = 0; k < PHONE__COUNT; k++)
        if (sc->r->phone_group[k] < (uint32_t)sc->rc &&
            ov[2 * sc->r->phone_group[k]] != PCRE2_UNSET)
          break;
      if (k < PHONE__COUNT && phone_ok(t, s, &end, k)) {
        *next = end;
        return add(sc, s, end, FMI_PII_PHONE);
      }
    }
  }
  /* Nothing starts here; something may start after the next space
   * ("2024 054-1234567"). */
  for (j = s + 1; j < e; j++)
    if (t[j - 1] == ' ' && (is_digit(t[j]) || t[j] == '(')) break;
  *next = j;
  return FM_OK;
}

static fm_status on_at(scan *sc, size_t at, size_t *next) {
  const unsigned char *t = sc->t;
  size_t s = at, floor = at > EMAIL_LOCAL_MAX ? at - EMAIL_LOCAL_MAX : 0,
         end = 0;
  bool m;
  fm_status st;
  *next = at + 1;
  while (s > floor && (is_word(t[s - 1]) || t[s - 1] == '.' ||
                       t[s - 1] == '%' || t[s - 1] == '+' ||
                       t[s - 1] == '-'))
    s--;
  if (s > 0 && s == floor && is_word(t[s - 1])) return FM_OK; /* too long */
  /* A local part opens with a letter or digit: "ל-dana@x.il" is Hebrew
   * "to" and a hyphen before the address. */
  while (s < at && !is_word(t[s])) s++;
  if (s == at) return FM_OK; /* "@name" */
  if ((st = run(sc, RE_EMAIL_I, s, WIN_EMAIL, &m, &end)) != FM_OK) return st;
  if (!m) return FM_OK;
  *next = end;
  return add(sc, s, end, FMI_PII_EMAIL);
}

static bool ci_eq(const unsigned char *p, const char *lower, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if ((p[i] | 0x20u) != (unsigned char)lower[i]) return false;
  return true;
}

static fm_status url_at(scan *sc, size_t s, size_t *next) {
  size_t end = 0;
  bool m;
  fm_status st = run(sc, RE_URL_I, s, WIN_URL, &m, &end);
  if (st != FM_OK || !m) return st;
  end = url_trim(sc->t, s, end);
  *next = end;
  return add(sc, s, end, FMI_PII_URL);
}

static fm_status on_colon(scan *sc, size_t i, size_t *next) {
  const unsigned char *t = sc->t;
  size_t len = sc->len, s, end = 0, j;
  bool m;
  fm_status st;
  *next = i + 1;
  if (len - i > 2 && t[i + 1] == '/' && t[i + 2] == '/') {
    *next = i + 3;
    if (i >= 5 && ci_eq(t + i - 5, "https", 5)) s = i - 5;
    else if (i >= 4 && ci_eq(t + i - 4, "http", 4)) s = i - 4;
    else if (i >= 3 && ci_eq(t + i - 3, "ftp", 3)) s = i - 3;
    else return FM_OK;
    if (s > 0 && is_word(t[s - 1])) return FM_OK;
    return url_at(sc, s, next);
  }
  /* An IPv6 address has "::" or hex:hex; "Note: x" and "a:" have not. */
  if (!(i + 1 < len && (t[i + 1] == ':' ||
                        (i > 0 && is_hex(t[i - 1]) && is_hex(t[i + 1])))))
    return FM_OK;
  for (s = i; s > 0 && i - s < IPV6_MAX && (is_hex(t[s - 1]) || t[s - 1] == ':');)
    s--;
  if ((st = run(sc, RE_IPV6_I, s, WIN_NUMBER, &m, &end)) != FM_OK) return st;
  if (m) {
    *next = end;
    return add(sc, s, end, FMI_PII_IP);
  }
  /* Every later ':' of this run would back up to the same start: go past
   * the last one, but not past the number after it ("Tel:0541234567"). */
  for (j = i + 1; j < len && (is_hex(t[j]) || t[j] == ':'); j++)
    if (t[j] == ':') *next = j + 1;
  return FM_OK;
}

static fm_status on_w(scan *sc, size_t i, size_t *next) {
  const unsigned char *t = sc->t;
  *next = i + 1;
  if (sc->len - i < 5 || !ci_eq(t + i + 1, "ww.", 3)) return FM_OK;
  if (i > 0 && (is_word(t[i - 1]) || t[i - 1] == '.' || t[i - 1] == '@' ||
                t[i - 1] == '-' || t[i - 1] == '/'))
    return FM_OK;
  return url_at(sc, i, next);
}

/* Bytes that can start a candidate. */
enum { T_NONE, T_DIGIT, T_PLUS_PAREN, T_AT, T_COLON, T_W };
static const unsigned char TRIGGER[256] = {
    ['0'] = T_DIGIT, ['1'] = T_DIGIT, ['2'] = T_DIGIT, ['3'] = T_DIGIT,
    ['4'] = T_DIGIT, ['5'] = T_DIGIT, ['6'] = T_DIGIT, ['7'] = T_DIGIT,
    ['8'] = T_DIGIT, ['9'] = T_DIGIT, ['+'] = T_PLUS_PAREN,
    ['('] = T_PLUS_PAREN, ['@'] = T_AT, [':'] = T_COLON, ['w'] = T_W,
    ['W'] = T_W,
};

static int span_cmp(const void *a, const void *b) {
  const fmi_span *x = a, *y = b;
  if (x->start != y->start) return x->start < y->start ? -1 : 1;
  if (x->end != y->end) return x->end > y->end ? -1 : 1;
  return (int)x->kind - (int)y->kind;
}

fm_status fmi_redact_find(fmi_redactor *r, const char *text, size_t len,
                          fmi_arena *arena, fmi_span **spans, size_t *n,
                          fm_error *err) {
  scan sc;
  size_t i = 0, k, kept;
  fm_status st = FM_OK;
  fmi_span *out;
  *spans = NULL;
  *n = 0;
  sc.r = r;
  sc.t = (const unsigned char *)text;
  sc.len = len;
  sc.rc = 0;
  sc.err = err;
  r->nspans = 0;
  while (i < len) {
    size_t next;
    unsigned c;
    /* most text has no trigger: eight table lookups, one branch */
    while (len - i >= 8 &&
           !(TRIGGER[sc.t[i]] | TRIGGER[sc.t[i + 1]] | TRIGGER[sc.t[i + 2]] |
             TRIGGER[sc.t[i + 3]] | TRIGGER[sc.t[i + 4]] |
             TRIGGER[sc.t[i + 5]] | TRIGGER[sc.t[i + 6]] |
             TRIGGER[sc.t[i + 7]]))
      i += 8;
    while (i < len && !TRIGGER[sc.t[i]]) i++;
    if (i >= len) break;
    c = sc.t[i];
    switch (TRIGGER[c]) {
    case T_DIGIT:
      st = on_number(&sc, i, &next);
      break;
    case T_PLUS_PAREN:
      next = i + 1;
      if (i + 1 < len && is_digit(sc.t[i + 1])) st = on_number(&sc, i, &next);
      break;
    case T_AT:
      st = on_at(&sc, i, &next);
      break;
    case T_COLON:
      st = on_colon(&sc, i, &next);
      break;
    default:
      st = on_w(&sc, i, &next);
      break;
    }
    if (st != FM_OK) goto fail;
    i = next > i ? next : i + 1;
  }
  if (r->nspans == 0) return FM_OK;
  qsort(r->spans, r->nspans, sizeof *r->spans, span_cmp);
  for (k = 1, kept = 1; k < r->nspans; k++)
    if (r->spans[k].start >= r->spans[kept - 1].end)
      r->spans[kept++] = r->spans[k];
  out = fmi_arena_alloc(arena, kept * sizeof *out);
  if (!out) {
    st = fmi_fail(err, fmi_arena_status(arena),
                  "redact: no room for %zu spans in the document arena",
                  kept);
    goto fail;
  }
  memcpy(out, r->spans, kept * sizeof *out);
  *spans = out;
  *n = kept;
  r->nspans = 0;
  return FM_OK;
fail:
  r->nspans = 0;
  return st;
}
