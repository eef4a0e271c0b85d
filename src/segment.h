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
 * Words are ICU's: they keep inner apostrophes and periods as UAX #29 does
 * ("don't", "e.g", "o'clock"), Hebrew geresh and gershayim (צה"ל), "_"
 * ("foo_bar"), and in ICU 72 '@' ("jo@x.com", "@user"); numbers keep inner
 * , . ' ("3.14", "1,000"); ':' splits ("10:30" is two numbers, as in ICU
 * 72). Each punctuation or symbol character (with its marks) is its own
 * PUNCT token; an emoji sequence (with ZWJ, modifiers, variation
 * selectors, a flag's two regional indicators) is one EMOJI token; a
 * private-use code point U+E000+k (k < FMI_PII__COUNT) is one
 * FM_TOKEN_PLACEHOLDER token with pii kind k. A mark with nothing to
 * attach to (after a space) is dropped. Where ICU calls a stretch no word
 * (a lone "_", a letter joined to an emoji by ZWJ) it is PUNCT or EMOJI
 * here too. */
typedef struct fmi_seg {
  uint32_t start, end;   /* byte offsets into the text */
  uint8_t kind;          /* fm_token_kind; a word with a letter in it is a
                            WORD ("mp3", "3rd"), digits with separators a
                            NUMBER ("1,000"), whatever ICU's status says */
  uint8_t script;        /* fmi_script of the first letter (words; numbers:
                            of their digits, OTHER for ASCII digits) */
  uint8_t sentence_end;  /* punctuation with Sentence_Terminal (. ! ? and
                            their forms: ؟ ۔ । 。 ！ ？ ։ ။ ።), ; ؛ …,
                            and newlines; Thai writes none */
  uint8_t pii;           /* placeholder: fmi_pii_kind */
} fmi_seg;

/* Per-tagger state: an ICU word break iterator (root locale), a character
 * class table filled from ICU's properties on first use, UTF-16 and
 * segment scratch reused across documents. Creating one costs about
 * 0.1 ms. One thread at a time. */
typedef struct fmi_segmenter fmi_segmenter;

fm_status fmi_segmenter_new(fmi_segmenter **out, fm_error *err);
void fmi_segmenter_free(fmi_segmenter *s);

/* Segments valid UTF-8 `text` (normally already normalized). `use_dict`
 * true: dictionary-script text (Thai, Lao, Khmer, Myanmar, Han, kana,
 * Hangul syllables) is split by ICU's word break iterator with its
 * dictionaries, and every word is the one ICU gives. false: ICU's rules
 * without dictionaries, so a run of such a script is one token. Newlines
 * count as sentence ends: a zero-width segment {start=end=offset of the
 * newline, kind=FM_TOKEN_PUNCT, sentence_end=1} is emitted for each run of
 * line breaks (with any whitespace between them) so bigrams and negation
 * stop there. Borrows `text`; the array lives in `arena` (*segs NULL when
 * *n is 0). Errors: FM_ENOMEM/FM_ETOOBIG, FM_EUNICODE. */
fm_status fmi_segment(fmi_segmenter *s, const char *text, size_t len,
                      bool use_dict, fmi_arena *arena, fmi_seg **segs,
                      size_t *n, fm_error *err);

/* Segments with ICU's word break iterator only (no fast path), for the
 * benchmark and the tests that compare the two. Words only (rule status
 * other than UBRK_WORD_NONE), as byte offsets, with kind and script as
 * fmi_segment() gives them; sentence_end and pii are 0. Same ownership and
 * errors as fmi_segment(). */
fm_status fmi_segment_icu_only(fmi_segmenter *s, const char *text,
                               size_t len, fmi_arena *arena, fmi_seg **segs,
                               size_t *n, fm_error *err);

#endif
