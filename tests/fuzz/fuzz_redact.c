/*
 * fuzz_redact.c -- arbitrary bytes through UTF-8 repair and redaction.
 * Checks the span contract (in bounds, sorted, non-overlapping, on
 * character boundaries) and that the JIT and the interpreter agree.
 */
#include "internal.h"
#include "redact.h"

#include <stdint.h>
#include <stdlib.h>

static void check(const char *text, size_t len, const fmi_span *sp,
                  size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    if (sp[i].start >= sp[i].end || sp[i].end > len ||
        (unsigned)sp[i].kind >= FMI_PII__COUNT)
      abort();
    if (i && sp[i].start < sp[i - 1].end) abort();
    if (((unsigned char)text[sp[i].start] & 0xC0u) == 0x80u) abort();
    if (sp[i].end < len && ((unsigned char)text[sp[i].end] & 0xC0u) == 0x80u)
      abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* Compiled once per process, as a tagger would keep them. */
  static fmi_redactor *jit, *interp;
  static fmi_arena arena;
  char *clean;
  size_t clean_len, n1, n2, i;
  fmi_span *s1, *s2;
  if (!jit) {
    if (fmi_redactor_new(&jit, NULL) != FM_OK ||
        fmi_redactor_new_interpreted(&interp, NULL) != FM_OK)
      abort();
    fmi_arena_init(&arena, 0);
  }
  if (size > ((size_t)1 << 24)) return 0;
  clean = malloc(3 * size + 1);
  if (!clean) return 0;
  fmi_utf8_sanitize((const char *)data, size, clean, &clean_len);
  if (fmi_redact_find(jit, clean, clean_len, &arena, &s1, &n1, NULL) !=
          FM_OK ||
      fmi_redact_find(interp, clean, clean_len, &arena, &s2, &n2, NULL) !=
          FM_OK)
    abort();
  check(clean, clean_len, s1, n1);
  if (n1 != n2) abort();
  for (i = 0; i < n1; i++) /* field by field: the struct has padding */
    if (s1[i].start != s2[i].start || s1[i].end != s2[i].end ||
        s1[i].kind != s2[i].kind)
      abort();
  fmi_arena_reset(&arena);
  free(clean);
  return 0;
}
