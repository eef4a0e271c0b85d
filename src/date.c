/*
 * date.c -- the values of an export's standard fields: dates, scores and
 * money amounts, parsed by hand so the result never depends on the C
 * locale (strtod and strptime do) or on the time zone of the machine.
 */
#include "reader.h"

#include <math.h>

/* Latest representable instant: 9999-12-31T23:59:59Z. */
#define MAX_UNIX 253402300799LL

static bool is_blank(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
         c == '\v';
}

static void trim(const char **s, size_t *n) {
  const char *p = *s;
  size_t len = *n;
  while (len && is_blank((unsigned char)p[0])) { p++; len--; }
  while (len && is_blank((unsigned char)p[len - 1])) len--;
  *s = p;
  *n = len;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Reads exactly `w` digits (or 1..w with w_min) at *i. */
static bool digits(const char *s, size_t n, size_t *i, size_t w_min,
                   size_t w_max, int *out) {
  size_t k = 0;
  int v = 0;
  while (*i + k < n && k < w_max && is_digit(s[*i + k])) {
    v = v * 10 + (s[*i + k] - '0');
    k++;
  }
  if (k < w_min) return false;
  *i += k;
  *out = v;
  return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  int64_t era;
  unsigned yoe, doy, doe;
  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = (unsigned)(y - era * 400);
  doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

static bool valid_ymd(int y, int m, int d) {
  static const int mdays[12] = {31, 28, 31, 30, 31, 30,
                                31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (m < 1 || m > 12 || d < 1) return false;
  return d <= mdays[m - 1] + (m == 2 && leap);
}

static bool ci_eq(const char *s, size_t n, const char *lit) {
  size_t i;
  for (i = 0; i < n; i++) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if (!lit[i] || c != lit[i]) return false;
  }
  return lit[n] == 0;
}

/* Optional time of day at s[*i]: "HH:MM[:SS[.frac]]" with an optional
 * AM/PM and, when `zone`, a zone (Z, +HH, +HHMM, +HH:MM). Fills seconds
 * since midnight and the offset east of UTC in seconds. */
static int parse_time(const char *s, size_t n, size_t *i, bool zone,
                      int64_t *secs, int64_t *offset) {
  int hh, mm, ss = 0;
  size_t j = *i;
  if (!digits(s, n, &j, 1, 2, &hh) || j >= n || s[j] != ':') return 1;
  j++;
  if (!digits(s, n, &j, 2, 2, &mm)) return 1;
  if (j < n && s[j] == ':') {
    j++;
    if (!digits(s, n, &j, 2, 2, &ss)) return 1;
    if (j < n && (s[j] == '.' || s[j] == ',')) {
      j++;
      if (j >= n || !is_digit(s[j])) return 1;
      while (j < n && is_digit(s[j])) j++; /* fractions are dropped */
    }
  }
  {
    /* "3:45 PM" */
    size_t k = j;
    while (k < n && s[k] == ' ') k++;
    if (k + 2 <= n && (ci_eq(s + k, 2, "am") || ci_eq(s + k, 2, "pm"))) {
      bool pm = s[k] == 'p' || s[k] == 'P';
      if (hh < 1 || hh > 12) return 1;
      hh = hh % 12 + (pm ? 12 : 0);
      j = k + 2;
    }
  }
  if (hh > 23 || mm > 59 || ss > 60) return 1;
  if (ss == 60) ss = 59; /* a leap second is the second before */
  *offset = 0;
  if (zone && j < n) {
    if (s[j] == 'Z' || s[j] == 'z') {
      j++;
    } else if (s[j] == '+' || s[j] == '-') {
      int sign = s[j] == '-' ? -1 : 1, oh, om = 0;
      j++;
      if (!digits(s, n, &j, 2, 2, &oh)) return 1;
      if (j < n && s[j] == ':') j++;
      if (j < n && is_digit(s[j]) && !digits(s, n, &j, 2, 2, &om)) return 1;
      if (oh > 23 || om > 59) return 1;
      *offset = sign * (oh * 3600 + om * 60);
    }
  }
  *secs = hh * 3600 + mm * 60 + ss;
  *i = j;
  return 0;
}

static int finish(int y, int m, int d, int64_t secs, int64_t offset,
                  int64_t *out) {
  int64_t t;
  if (!valid_ymd(y, m, d)) return 1;
  if (y < 1970 || y > 9999) return 2;
  t = days_from_civil(y, (unsigned)m, (unsigned)d) * 86400 + secs - offset;
  if (t < 0 || t > MAX_UNIX) return 2;
  *out = t;
  return 0;
}

/* After the date part: end, or a blank/'T' and a time. */
static int date_tail(const char *s, size_t n, size_t i, bool iso,
                     int64_t *secs, int64_t *offset) {
  *secs = 0;
  *offset = 0;
  if (i == n) return 0;
  if (s[i] == ' ' || (iso && (s[i] == 'T' || s[i] == 't'))) {
    i++;
    while (i < n && s[i] == ' ' && !iso) i++;
    if (parse_time(s, n, &i, iso, secs, offset) != 0) return 1;
    return i == n ? 0 : 1;
  }
  return 1;
}

int fmi_parse_date(const char *s, size_t n, fm_date_order order,
                   int64_t *out) {
  size_t i = 0, k;
  int a, b, y, rc;
  int64_t secs, offset;
  trim(&s, &n);
  if (n == 0) return 1;

  /* Unix seconds: digits with an optional fraction. */
  for (k = 0; k < n && is_digit(s[k]); k++) {}
  if (k > 0 && (k == n || (s[k] == '.' && k + 1 < n))) {
    size_t j = k;
    int64_t v = 0;
    if (j < n) {
      for (j = k + 1; j < n && is_digit(s[j]); j++) {}
      if (j != n) goto not_unix;
    }
    if (k > 12) return 2;
    for (j = 0; j < k; j++) v = v * 10 + (s[j] - '0');
    if (v > MAX_UNIX) return 2;
    *out = v;
    return 0;
  }
not_unix:
  if (!digits(s, n, &i, 1, 4, &a) || i >= n) return 1;
  if (i == 4 && s[i] == '-') { /* ISO 8601 */
    int m, d;
    i++;
    if (!digits(s, n, &i, 2, 2, &m) || i >= n || s[i] != '-') return 1;
    i++;
    if (!digits(s, n, &i, 2, 2, &d)) return 1;
    if ((rc = date_tail(s, n, i, true, &secs, &offset)) != 0) return rc;
    return finish(a, m, d, secs, offset, out);
  }
  if (i <= 2 && s[i] == '.') { /* DD.MM.YYYY */
    i++;
    if (!digits(s, n, &i, 1, 2, &b) || i >= n || s[i] != '.') return 1;
    i++;
    if (!digits(s, n, &i, 4, 4, &y)) return 1;
    if ((rc = date_tail(s, n, i, false, &secs, &offset)) != 0) return rc;
    return finish(y, b, a, secs, offset, out);
  }
  if (i <= 2 && s[i] == '/') { /* MM/DD/YYYY or DD/MM/YYYY */
    i++;
    if (!digits(s, n, &i, 1, 2, &b) || i >= n || s[i] != '/') return 1;
    i++;
    if (!digits(s, n, &i, 4, 4, &y)) return 1;
    if ((rc = date_tail(s, n, i, false, &secs, &offset)) != 0) return rc;
    if (order == FM_DATE_DMY || (order == FM_DATE_AUTO && a > 12))
      return finish(y, b, a, secs, offset, out);
    return finish(y, a, b, secs, offset, out);
  }
  return 1;
}

/* ---- numbers ---------------------------------------------------------------
 * Digits are accumulated as an integer and scaled once, so a value with at
 * most 15 significant digits converts exactly as strtod would in the C
 * locale. */
static double pow10i(int k) {
  double p = 1.0;
  while (k-- > 0) p *= 10.0;
  return p;
}

/* s holds digits and at most one '.'; nothing else. */
static int digits_value(const char *s, size_t n, double *out) {
  uint64_t mant = 0;
  int frac = 0, seen_dot = 0, nd = 0, drop = 0;
  size_t i;
  double v;
  for (i = 0; i < n; i++) {
    if (s[i] == '.') {
      if (seen_dot) return 1;
      seen_dot = 1;
      continue;
    }
    if (!is_digit(s[i])) return 1;
    nd++;
    if (mant < UINT64_C(1000000000000000000)) {
      mant = mant * 10 + (uint64_t)(s[i] - '0');
      if (seen_dot) frac++;
    } else if (!seen_dot) {
      drop++; /* beyond 19 digits: keep the magnitude */
    }
  }
  if (nd == 0) return 1;
  v = (double)mant;
  if (drop) {
    if (drop > 300) return 2;
    v *= pow10i(drop);
  }
  if (frac) v /= pow10i(frac);
  if (!isfinite(v)) return 2;
  *out = v;
  return 0;
}

int fmi_parse_score(const char *s, size_t n, double *out) {
  char tmp[64];
  size_t i, k = 0;
  bool neg = false;
  int rc;
  trim(&s, &n);
  if (n == 0) return 1;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    s++;
    n--;
  }
  if (n == 0 || n >= sizeof tmp) return n == 0 ? 1 : 2;
  for (i = 0; i < n; i++) tmp[k++] = s[i] == ',' ? '.' : s[i];
  if ((rc = digits_value(tmp, k, out)) != 0) return rc;
  if (neg) *out = -*out;
  return 0;
}

/* Length of a blank at s (ASCII blank, or U+00A0, U+2009, U+202F as UTF-8),
 * 0 if none. */
static size_t blank_len(const unsigned char *s, size_t n) {
  if (n && (s[0] == ' ' || s[0] == '\t')) return 1;
  if (n >= 2 && s[0] == 0xC2 && s[1] == 0xA0) return 2;
  if (n >= 3 && s[0] == 0xE2 && s[1] == 0x80 &&
      (s[2] == 0x89 || s[2] == 0xAF))
    return 3;
  return 0;
}

static bool is_alpha(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A currency around the number: blanks, '$', any non-ASCII symbol, at most
 * one 3-letter code. */
static bool currency_ok(const unsigned char *s, size_t n) {
  size_t i = 0, letters_runs = 0;
  while (i < n) {
    size_t b = blank_len(s + i, n - i);
    if (b) { i += b; continue; }
    if (s[i] == '$' || s[i] >= 0x80) { i++; continue; }
    if (is_alpha(s[i])) {
      size_t k = 0;
      while (i + k < n && is_alpha(s[i + k])) k++;
      if (k != 3 || ++letters_runs > 1) return false;
      i += k;
      continue;
    }
    return false;
  }
  return true;
}

int fmi_parse_money(const char *str, size_t n, double *out) {
  const unsigned char *s;
  size_t first, last = 0, i, k = 0, ndot = 0, ncomma = 0;
  size_t post_start;
  char tmp[64];
  char dec = 0;
  bool neg = false, paren = false;
  int rc;
  trim(&str, &n);
  s = (const unsigned char *)str;
  if (n == 0) return 1;
  first = n;
  for (i = 0; i < n; i++)
    if (is_digit((char)s[i])) {
      if (first == n) first = i;
      last = i;
    }
  if (first == n) return 1;
  /* ".50" is too ambiguous to guess. */
  if (first && (s[first - 1] == '.' || s[first - 1] == ',')) return 1;
  {
    /* One sign or an opening parenthesis in the prefix; the rest is
     * currency. */
    unsigned char pre[64] = {0};
    size_t np = 0;
    if (first >= sizeof pre) return 1;
    for (i = 0; i < first; i++) {
      if (s[i] == '-' || s[i] == '+' || s[i] == '(') {
        if (neg || paren) return 1;
        neg = s[i] == '-';
        paren = s[i] == '(';
        if (s[i] == '+') paren = false;
      } else {
        pre[np++] = s[i];
      }
    }
    if (!currency_ok(pre, np)) return 1;
  }
  post_start = last + 1;
  {
    size_t end = n;
    if (paren) {
      if (end == post_start || s[end - 1] != ')') return 1;
      end--;
      neg = true;
    }
    if (!currency_ok(s + post_start, end - post_start)) return 1;
  }
  /* The number itself: digits, marks and group blanks. */
  for (i = first; i < post_start;) {
    size_t b = blank_len(s + i, post_start - i);
    if (b) { i += b; continue; }
    if (s[i] == '\'') { i++; continue; }
    if (s[i] == '.') ndot++;
    else if (s[i] == ',') ncomma++;
    else if (!is_digit((char)s[i])) return 1;
    i++;
  }
  if (ndot && ncomma) {
    size_t lastdot = 0, lastcomma = 0;
    for (i = first; i < post_start; i++) {
      if (s[i] == '.') lastdot = i;
      if (s[i] == ',') lastcomma = i;
    }
    dec = lastdot > lastcomma ? '.' : ',';
    if ((dec == '.' ? ndot : ncomma) != 1) return 1;
  } else if (ndot + ncomma == 1) {
    char mark = ndot ? '.' : ',';
    size_t pos = first, after = 0;
    while (s[pos] != (unsigned char)mark) pos++;
    for (i = pos + 1; i < post_start && is_digit((char)s[i]); i++) after++;
    dec = (after == 3 && i == post_start) ? 0 : mark;
  }
  for (i = first; i < post_start;) {
    size_t b = blank_len(s + i, post_start - i);
    if (b) { i += b; continue; }
    if (k + 1 >= sizeof tmp) return 2;
    if (is_digit((char)s[i])) tmp[k++] = (char)s[i];
    else if (dec && s[i] == (unsigned char)dec) tmp[k++] = '.';
    i++;
  }
  if ((rc = digits_value(tmp, k, out)) != 0) return rc;
  if (neg) *out = -*out;
  return 0;
}
