/*
 * util.c -- hashing and byte-stable number formatting.
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>

#include "hash.h"

uint64_t fmi_hash64(const void *p, size_t n) { return fmi_hash64_inline(p, n); }

/* Digits come from integer arithmetic, not printf, so output never depends
 * on the C locale (a process embedding us may have set LC_NUMERIC). */
size_t fmi_fmt_double(char *out, size_t cap, double v, int digits) {
  char tmp[64];
  size_t n = 0, i;
  uint64_t scale = 1, whole, frac;
  double r;
  int neg;
  if (cap == 0) return 0;
  if (digits < 0) digits = 0;
  if (digits > 9) digits = 9;
  if (isnan(v)) { snprintf(out, cap, "nan"); return strlen(out); }
  if (isinf(v)) { snprintf(out, cap, v < 0 ? "-inf" : "inf"); return strlen(out); }
  for (i = 0; i < (size_t)digits; i++) scale *= 10;
  neg = v < 0;
  r = fabs(v) * (double)scale + 0.5;
  if (r >= 1.8e19) { /* beyond uint64: plain exponent form is acceptable */
    snprintf(out, cap, "%.*e", digits, v);
    return strlen(out);
  }
  {
    uint64_t all = (uint64_t)r;
    whole = all / scale;
    frac = all % scale;
    if (all == 0) neg = 0; /* never print -0 */
  }
  if (neg) tmp[n++] = '-';
  {
    char rev[24];
    size_t k = 0;
    do { rev[k++] = (char)('0' + whole % 10); whole /= 10; } while (whole);
    while (k) tmp[n++] = rev[--k];
  }
  if (digits > 0) {
    tmp[n++] = '.';
    for (i = (size_t)digits; i-- > 0;) {
      tmp[n + i] = (char)('0' + frac % 10);
      frac /= 10;
    }
    n += (size_t)digits;
  }
  if (n >= cap) n = cap - 1;
  memcpy(out, tmp, n);
  out[n] = 0;
  return n;
}
