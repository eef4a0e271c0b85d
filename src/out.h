/*
 * out.h -- a growable output buffer with a sticky failure flag, used by
 * the aggregate serializer and the report writers: they write many small
 * pieces and check for ENOMEM once at the end.
 */
#ifndef FM_OUT_H
#define FM_OUT_H

#include "internal.h"

typedef struct fmi_out {
  fmi_buf b;
  bool failed; /* an allocation failed; later writes are ignored */
} fmi_out;

void fmi_out_raw(fmi_out *o, const char *s, size_t n);
void fmi_out_s(fmi_out *o, const char *s);
void fmi_out_c(fmi_out *o, char c);
void fmi_out_printf(fmi_out *o, const char *fmt, ...) FMI_PRINTF(2, 3);
void fmi_out_u64(fmi_out *o, uint64_t v);
void fmi_out_i64(fmi_out *o, int64_t v);
/* `digits` decimals, C locale, never "-0" (fmi_fmt_double). */
void fmi_out_dbl(fmi_out *o, double v, int digits);
/* A JSON string with quotes: '"', '\\' and control characters escaped,
 * everything else (valid UTF-8 expected) as is. */
void fmi_out_json_str(fmi_out *o, const char *s, size_t n);
void fmi_out_json_cstr(fmi_out *o, const char *s);
/* A JSON array of n integers: "[1,2,3]". */
void fmi_out_json_u64s(fmi_out *o, const uint64_t *v, size_t n);
/* 16 lower-case hex digits. */
void fmi_out_hex64(fmi_out *o, uint64_t v);
void fmi_out_free(fmi_out *o);

#endif
