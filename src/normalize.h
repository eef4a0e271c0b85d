/*
 * normalize.h -- NFKC + case folding (ICU), Hebrew/Arabic diacritic
 * stripping, Arabic letter unification. ICU is used only here and in
 * segment.c.
 */
#ifndef FM_NORMALIZE_H
#define FM_NORMALIZE_H

#include "internal.h"

/* Per-tagger state: a per-code-point cache filled on first use, output and
 * UTF-16 scratch buffers, reused across documents (no allocation at steady
 * state). One thread at a time. */
typedef struct fmi_normalizer fmi_normalizer;

/* Errors: FM_ENOMEM, FM_EUNICODE. */
fm_status fmi_normalizer_new(fmi_normalizer **out, fm_error *err);
void fmi_normalizer_free(fmi_normalizer *n);

/* Normalizes valid UTF-8 `in` into a NUL-terminated string in `arena`:
 * NFKC_Casefold; Hebrew points and cantillation (U+0591..U+05C7 marks)
 * removed; Arabic harakat (U+064B..U+065F, U+0670) and tatweel (U+0640)
 * removed; alef variants (U+0622 U+0623 U+0625 U+0671) -> U+0627, alef
 * maqsura U+0649 -> yeh U+064A, teh marbuta U+0629 -> heh U+0647.
 * Two departures from NFKC_Casefold, both so that words stay words:
 * Thai SARA AM (U+0E33) and Lao AM (U+0EB3) stay composed (and a
 * decomposed NIKHAHIT + SARA AA is composed), since ICU's dictionaries
 * spell words with them; and an emoji sequence keeps its ZWJs, variation
 * selectors and tags, which NFKC_Casefold would delete, so that a family
 * or a flag stays one emoji. Private-use code points (U+E000..U+F8FF, used
 * for redaction placeholders) pass through unchanged. Most text never
 * reaches ICU: ASCII, and characters whose result is cached per code
 * point, take a fast path; only combining sequences that are not already
 * normalized go through ICU. The output may be longer than the input
 * (U+FDFA becomes 18 characters). Borrows `in`; *out lives in the arena.
 * Errors: FM_ENOMEM/FM_ETOOBIG (arena), FM_EUNICODE (invalid UTF-8 on the
 * slow path, ICU failure). */
fm_status fmi_normalize(fmi_normalizer *n, const char *in, size_t len,
                        fmi_arena *arena, char **out, size_t *out_len,
                        fm_error *err);

/* "Unicode X, ICU Y" into buf (NUL-terminated, truncated to cap); returns
 * its length. Recorded in models. Thread-safe. */
size_t fmi_unicode_version(char *buf, size_t cap);

#endif
