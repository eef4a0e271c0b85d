/*
 * segment.h -- word segmentation. Scripts written with spaces go through a
 * fast path with the same word boundaries as ICU's word break iterator on
 * the test texts; dictionary scripts (Thai, Lao, Khmer, Myanmar, Chinese,
 * Japanese) go through ICU's word break iterator. ICU is used only here and
 * in normalize.c.
 */
#ifndef FM_SEGMENT_H
#define FM_SEGMENT_H

#include "internal.h"

/* Script of a token, for language identification. */
typedef enum fmi_script {
  FMI_SCRIPT_OTHER = 0,
  FMI_SCRIPT_LATIN,
  FMI_SCRIPT_CYRILLIC,
  FMI_SCRIPT_GREEK,
  FMI_SCRIPT_HEBREW,
  FMI_SCRIPT_ARABIC,
  FMI_SCRIPT_THAI,
  FMI_SCRIPT_LAO,
  FMI_SCRIPT_KHMER,
  FMI_SCRIPT_MYANMAR,
  FMI_SCRIPT_HAN,
  FMI_SCRIPT_KANA,   /* hiragana or katakana */
  FMI_SCRIPT_HANGUL,
  FMI_SCRIPT_DEVANAGARI,
  FMI_SCRIPT_ARMENIAN,
  FMI_SCRIPT_GEORGIAN,
  FMI_SCRIPT__COUNT
} fmi_script;

/* A segment of the normalized text. Whitespace is never a token.
 * Words keep inner apostrophes and periods as UAX #29 does ("don't",
 * "e.g"); numbers keep inner , . : ("3.14", "1,000"); each punctuation
 * character is its own token; an emoji sequence (with ZWJ, modifiers,
 * variation selectors) is one token; a private-use code point U+E000+k is
 * one FM_TOKEN_PLACEHOLDER token with pii kind k. */
typedef struct fmi_seg {
  uint32_t start, end;   /* byte offsets into the text */
  uint8_t kind;          /* fm_token_kind */
  uint8_t script;        /* fmi_script of the first letter (words) */
  uint8_t sentence_end;  /* punctuation . ! ? ; … and their CJK/Arabic/Thai
                            forms (؟ ። 。 ！ ？ etc.), and newlines */
  uint8_t pii;           /* placeholder: fmi_pii_kind */
} fmi_seg;

/* Per-tagger state: a cloned ICU word break iterator and UTF-16 scratch.
 * One thread at a time. */
typedef struct fmi_segmenter fmi_segmenter;

fm_status fmi_segmenter_new(fmi_segmenter **out, fm_error *err);
void fmi_segmenter_free(fmi_segmenter *s);

/* Segments valid UTF-8 `text` (already normalized). `use_dict` false:
 * dictionary-script runs are split per ICU's rules without dictionary (one
 * token per run of the script). Newlines count as sentence ends: a
 * zero-width segment {start=end=offset of the newline, kind=FM_TOKEN_PUNCT,
 * sentence_end=1} is emitted for each run of line breaks so bigrams and
 * negation stop there. The array lives in `arena`. Errors:
 * FM_ENOMEM/FM_ETOOBIG, FM_EUNICODE. */
fm_status fmi_segment(fmi_segmenter *s, const char *text, size_t len,
                      bool use_dict, fmi_arena *arena, fmi_seg **segs,
                      size_t *n, fm_error *err);

/* Segments with ICU's word break iterator only (no fast path), for the
 * benchmark and the tests that compare the two. Words only (rule status
 * other than UBRK_WORD_NONE), as byte offsets. */
fm_status fmi_segment_icu_only(fmi_segmenter *s, const char *text,
                               size_t len, fmi_arena *arena, fmi_seg **segs,
                               size_t *n, fm_error *err);

#endif
