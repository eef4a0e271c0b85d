/*
 * out.c -- the writers' output buffer (out.h).
 */
#include "out.h"

#include <stdio.h>

void fmi_out_raw(fmi_out *o, const char *s, size_t n) {
  if (o->failed || n == 0) return;
  if (fmi_buf_append(&o->b, s, n) != FM_OK) o->failed = true;
}

void fmi_out_s(fmi_out *o, const char *s) { fmi_out_raw(o, s, strlen(s)); }

void fmi_out_c(fmi_out *o, char c) { fmi_out_raw(o, &c, 1); }

void fmi_out_printf(fmi_out *o, const char *fmt, ...) {
  va_list ap;
  char small[256];
  int n;
  if (o->failed) return;
  va_start(ap, fmt);
  n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) {
    o->failed = true;
    return;
  }
  if ((size_t)n < sizeof small) {
    fmi_out_raw(o, small, (size_t)n);
    return;
  }
  if (fmi_buf_reserve(&o->b, (size_t)n + 1) != FM_OK) {
    o->failed = true;
    return;
  }
  va_start(ap, fmt);
  vsnprintf(o->b.data + o->b.len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  o->b.len += (size_t)n;
}

void fmi_out_u64(fmi_out *o, uint64_t v) {
  char tmp[24];
  size_t k = sizeof tmp;
  do {
    tmp[--k] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  fmi_out_raw(o, tmp + k, sizeof tmp - k);
}

void fmi_out_i64(fmi_out *o, int64_t v) {
  if (v < 0) {
    fmi_out_c(o, '-');
    fmi_out_u64(o, (uint64_t)0 - (uint64_t)v);
  } else {
    fmi_out_u64(o, (uint64_t)v);
  }
}

void fmi_out_dbl(fmi_out *o, double v, int digits) {
  char tmp[64];
  size_t n = fmi_fmt_double(tmp, sizeof tmp, v, digits);
  fmi_out_raw(o, tmp, n);
}

void fmi_out_json_str(fmi_out *o, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  size_t i, run = 0;
  fmi_out_c(o, '"');
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    const char *esc = NULL;
    char u[7];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    fmi_out_raw(o, s + run, i - run);
    run = i + 1;
    switch (c) {
    case '"': esc = "\\\""; break;
    case '\\': esc = "\\\\"; break;
    case '\n': esc = "\\n"; break;
    case '\r': esc = "\\r"; break;
    case '\t': esc = "\\t"; break;
    default:
      u[0] = '\\';
      u[1] = 'u';
      u[2] = '0';
      u[3] = '0';
      u[4] = hex[c >> 4];
      u[5] = hex[c & 15];
      u[6] = 0;
      esc = u;
    }
    fmi_out_s(o, esc);
  }
  fmi_out_raw(o, s + run, n - run);
  fmi_out_c(o, '"');
}

void fmi_out_json_cstr(fmi_out *o, const char *s) {
  fmi_out_json_str(o, s ? s : "", s ? strlen(s) : 0);
}

void fmi_out_json_u64s(fmi_out *o, const uint64_t *v, size_t n) {
  size_t i;
  fmi_out_c(o, '[');
  for (i = 0; i < n; i++) {
    if (i) fmi_out_c(o, ',');
    fmi_out_u64(o, v[i]);
  }
  fmi_out_c(o, ']');
}

void fmi_out_hex64(fmi_out *o, uint64_t v) {
  static const char hex[] = "0123456789abcdef";
  char tmp[16];
  int i;
  for (i = 15; i >= 0; i--) {
    tmp[i] = hex[v & 15];
    v >>= 4;
  }
  fmi_out_raw(o, tmp, 16);
}

void fmi_out_free(fmi_out *o) {
  fmi_buf_free(&o->b);
  o->failed = false;
}
