/*
 * normalize.h -- NFKC + case folding (ICU), Hebrew/Arabic diacritic
 * stripping, Arabic letter unification. ICU is used only here and in
 * segment.c.
 */
#ifndef FM_NORMALIZE_H
#define FM_NORMALIZE_H

#include "internal.h"

/* Per-tagger state (UTF-16 scratch buffers). One thread at a time. */
typedef struct fmi_normalizer fmi_normalizer;

/* Errors: FM_ENOMEM, FM_EUNICODE. */
fm_status fmi_normalizer_new(fmi_normalizer **out, fm_error *err);
void fmi_normalizer_free(fmi_normalizer *n);

/* Normalizes valid UTF-8 `in` into a NUL-terminated string in `arena`:
 * NFKC_Casefold; Hebrew points and cantillation (U+0591..U+05C7 marks)
 * removed; Arabic harakat (U+064B..U+065F, U+0670) and tatweel (U+0640)
 * removed; alef variants (U+0622 U+0623 U+0625 U+0671) -> U+0627, alef
 * maqsura U+0649 -> yeh U+064A, teh marbuta U+0629 -> heh U+0647.
 * Private-use code points (U+E000..U+F8FF, used for redaction
 * placeholders) pass through unchanged. ASCII takes a fast path that does
 * not call ICU. Errors: FM_ENOMEM/FM_ETOOBIG (arena), FM_EUNICODE. */
fm_status fmi_normalize(fmi_normalizer *n, const char *in, size_t len,
                        fmi_arena *arena, char **out, size_t *out_len,
                        fm_error *err);

#endif
