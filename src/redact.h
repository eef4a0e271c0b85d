/*
 * redact.h -- PII redaction with PCRE2 (the only file that uses PCRE2 is
 * redact.c).
 */
#ifndef FM_REDACT_H
#define FM_REDACT_H

#include "internal.h"

typedef enum fmi_pii_kind {
  FMI_PII_EMAIL = 0,
  FMI_PII_URL,
  FMI_PII_PHONE,
  FMI_PII_CARD,  /* payment card numbers that pass the Luhn check */
  FMI_PII_IBAN,  /* IBANs that pass the ISO 13616 mod-97 check */
  FMI_PII_IP,    /* IPv4 and IPv6 addresses */
  FMI_PII__COUNT
} fmi_pii_kind;

/* "<email>", "<url>", "<phone>", "<card>", "<iban>", "<ip>" (static). */
const char *fmi_pii_placeholder(fmi_pii_kind kind);

/* A span of PII in the text it was found in: bytes [start, end). */
typedef struct fmi_span {
  size_t start, end;
  fmi_pii_kind kind;
} fmi_span;

/* Compiled patterns (JIT when available) plus match data. Per tagger:
 * holds match data, so one thread at a time. */
typedef struct fmi_redactor fmi_redactor;

/* Compiles the patterns; JIT-compiles them when PCRE2 has a working JIT
 * and silently keeps the interpreter otherwise (same results, slower).
 * Caller-owned: release with fmi_redactor_free(); on failure *out is NULL.
 * Errors: FM_ENOMEM, FM_EREGEX (a pattern failed to compile: a bug). */
fm_status fmi_redactor_new(fmi_redactor **out, fm_error *err);
void fmi_redactor_free(fmi_redactor *r); /* NULL is a no-op */

#ifdef FMI_FAULT_INJECTION
/* Test hook: a redactor that never uses the JIT, as on a PCRE2 built
 * without it, so tests and fuzzers can check both give the same spans. */
fm_status fmi_redactor_new_interpreted(fmi_redactor **out, fm_error *err);
#endif

/* Finds PII in valid UTF-8 `text` (as left by fmi_utf8_sanitize; the
 * patterns run with PCRE2_NO_UTF_CHECK): spans sorted by start, never
 * overlapping (when two overlap, the earlier start wins, then the longer).
 * Span bounds fall on character boundaries. The span array is allocated
 * in `arena` (valid until its reset); when *n is 0, *spans is NULL and
 * the arena is not touched. Besides that array, a call allocates only
 * when a document has more spans than any before it. Errors: FM_ENOMEM,
 * FM_ETOOBIG (the arena's cap), FM_EREGEX (a match error other than
 * no-match, e.g. JIT stack exhausted); then *n is 0. */
fm_status fmi_redact_find(fmi_redactor *r, const char *text, size_t len,
                          fmi_arena *arena, fmi_span **spans, size_t *n,
                          fm_error *err);

#endif
