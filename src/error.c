/*
 * error.c -- status texts, error detail, versions.
 */
#include "internal.h"

#include <stdio.h>

int fm_version_number(void) { return FEEDMINE_VERSION_NUMBER; }
const char *fm_version(void) { return FEEDMINE_VERSION; }

const char *fm_strerror(fm_status code) {
  switch (code) {
  case FM_OK: return "no error";
  case FM_ENOMEM: return "out of memory";
  case FM_EINVAL: return "invalid argument";
  case FM_ETOOBIG: return "input too large";
  case FM_EIO: return "input/output error";
  case FM_EMODEL: return "not a valid feedmine model";
  case FM_EVERSION: return "unsupported model format version";
  case FM_EPARSE: return "malformed input";
  case FM_EUNICODE: return "Unicode library error";
  case FM_EREGEX: return "regular expression error";
  case FM_EMISMATCH: return "incompatible settings";
  case FM_ENOTFOUND: return "not found";
  case FM_ESTORE: return "store error";
  case FM_EBUSY: return "store is locked by another job";
  case FM_ECANCELLED: return "cancelled";
  case FM_EEOF: return "end of input";
  }
  return "unknown error";
}

static void fill(fm_error *err, fm_status code, uint64_t line,
                 uint64_t column, const char *fmt, va_list ap) {
  if (!err) return;
  err->code = code;
  err->line = line;
  err->column = column;
  if (fmt) {
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    if (n < 0) err->msg[0] = 0;
  } else {
    snprintf(err->msg, sizeof err->msg, "%s", fm_strerror(code));
  }
}

fm_status fmi_fail(fm_error *err, fm_status code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fill(err, code, 0, 0, fmt, ap);
  va_end(ap);
  return code;
}

fm_status fmi_fail_at(fm_error *err, fm_status code, uint64_t line,
                      uint64_t column, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fill(err, code, line, column, fmt, ap);
  va_end(ap);
  return code;
}

void fmi_ok(fm_error *err) {
  if (!err) return;
  err->code = FM_OK;
  err->line = err->column = 0;
  err->msg[0] = 0;
}
