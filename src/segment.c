/*
 * segment.c -- word segmentation.
 *
 * Scripts written with spaces take a fast path: the word rules of UAX #29
 * as ICU 72 tailors them (root locale word.txt), applied to ICU's own
 * Word_Break property values, without running a break iterator. ICU's
 * tailorings that matter here: '@' is a letter (e-mail addresses and
 * handles stay whole), ':' is not MidLetter ("a:b" breaks), CJK and Hangul
 * syllables form runs of their own, and complex-context scripts (Thai,
 * Lao, Khmer, Myanmar) count as letters. A few quirks of ICU's chained
 * rules are followed too (see scan_word), so that the words are ICU's:
 * the unit tests and a differential run over the datasets and millions of
 * random strings compare the two.
 *
 * Dictionary scripts go to ICU's word break iterator. As soon as the fast
 * path meets a dictionary character it drops what it produced since the
 * last whitespace and hands ICU the text from there to the end of the last
 * whitespace-delimited span that still holds dictionary characters:
 * whitespace is a word boundary in every rule, so ICU's boundaries inside
 * are the ones it would find in the whole text, and a Thai document costs
 * one ICU call, not one per phrase. ICU's word segments become words and
 * numbers; its other segments (spaces, punctuation, emoji) go back through
 * the fast path.
 *
 * Character classes come from ICU property lookups, cached per segmenter
 * (there is no global state to share them through) in a table of the BMP:
 * the two-byte range up to U+07FF is filled when the segmenter is made,
 * the rest 256 code points at a time on first use. Supplementary code
 * points are looked up each time.
 */
#include "segment.h"

#include "redact.h"

#include <unicode/ubrk.h>
#include <unicode/uchar.h>
#include <unicode/uscript.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

/* Word-break classes of the fast path. */
enum {
  C_OTHER = 0, /* punctuation, symbols: one token each */
  C_WS,        /* whitespace: separates, never a token */
  C_NL,        /* line breaks: a zero-width sentence end */
  C_EXT,       /* Extend, Format: belongs to what precedes */
  C_ZWJ,
  C_RI,        /* regional indicator: pairs are flags */
  C_EP,        /* Extended_Pictographic */
  C_PUA,       /* redaction placeholder */
  C_AL,        /* ALetter (with '@' and complex-context letters) */
  C_HL,        /* Hebrew_Letter */
  C_NU,        /* Numeric */
  C_EX,        /* ExtendNumLet */
  C_KA,        /* Katakana */
  C_KK,        /* Han, Hiragana */
  C_HS,        /* Hangul syllable */
  C_ML,        /* MidLetter */
  C_MN,        /* MidNum */
  C_MNL,       /* MidNumLet */
  C_SQ,        /* Single_Quote */
  C_DQ,        /* Double_Quote */
  C_DICT       /* any dictionary character, when dictionaries are used */
};

enum { F_SENT = 1 << 0 };

#define SCRIPT_NONE 0xFF /* Common, Inherited: the word's script is
                            decided by another of its characters */

/* cls[0]: class without dictionaries; cls[1]: with (C_DICT for the
 * dictionary characters). */
typedef struct sentry {
  uint8_t cls[2];
  uint8_t flags;
  uint8_t script;
} sentry;

/* Invariants: table[cp] is valid for every cp whose block (cp >> 8) has
 * its bit set in `filled`. segs[0..nsegs) is the result being built. */
struct fmi_segmenter {
  UBreakIterator *bi;
  sentry *table; /* 65536 entries */
  uint64_t filled[4];
  /* ASCII characters that continue a word after a letter or digit:
   * AW_LATIN, AW_DIGIT, AW_AT ('@', a letter to ICU 72 but no script). */
  uint8_t ascii_word[256];
  /* What an ASCII character after a word means for the fast path:
   * END_STOP, the word ends (space, most punctuation); END_MID, it ends
   * unless a letter or digit follows (. , ; " and END_SQ for '); 0, the
   * general path must decide. */
  uint8_t ascii_end[256];
  bool swar; /* ascii_word holds exactly [A-Za-z0-9@] (so ICU 72 says) */
  bool nl_open; /* a line-break mark was pushed and no token since */
  UChar *u16;
  size_t u16_cap;
  fmi_seg *segs;
  size_t nsegs, segs_cap;
};

static uint8_t map_script(UScriptCode sc) {
  switch (sc) {
  case USCRIPT_COMMON: case USCRIPT_INHERITED: case USCRIPT_INVALID_CODE:
  case USCRIPT_UNKNOWN:
    return SCRIPT_NONE;
  case USCRIPT_LATIN: return FMI_SCRIPT_LATIN;
  case USCRIPT_CYRILLIC: return FMI_SCRIPT_CYRILLIC;
  case USCRIPT_GREEK: return FMI_SCRIPT_GREEK;
  case USCRIPT_HEBREW: return FMI_SCRIPT_HEBREW;
  case USCRIPT_ARABIC: return FMI_SCRIPT_ARABIC;
  case USCRIPT_THAI: return FMI_SCRIPT_THAI;
  case USCRIPT_LAO: return FMI_SCRIPT_LAO;
  case USCRIPT_KHMER: return FMI_SCRIPT_KHMER;
  case USCRIPT_MYANMAR: return FMI_SCRIPT_MYANMAR;
  case USCRIPT_HAN: return FMI_SCRIPT_HAN;
  case USCRIPT_HIRAGANA: case USCRIPT_KATAKANA:
  case USCRIPT_KATAKANA_OR_HIRAGANA:
    return FMI_SCRIPT_KANA;
  case USCRIPT_HANGUL: return FMI_SCRIPT_HANGUL;
  case USCRIPT_DEVANAGARI: return FMI_SCRIPT_DEVANAGARI;
  case USCRIPT_ARMENIAN: return FMI_SCRIPT_ARMENIAN;
  case USCRIPT_GEORGIAN: return FMI_SCRIPT_GEORGIAN;
  default: return FMI_SCRIPT_OTHER;
  }
}

static bool is_sentence_end(uint32_t cp) {
  /* Sentence_Terminal covers . ! ? and their forms in other scripts
   * (؟ ۔ । 。 ！ ？ ።); semicolons and the ellipsis end clauses that
   * bigrams and negation should not cross either. */
  switch (cp) {
  case ';': case 0x037E: case 0x061B: case 0x2026: case 0xFE54: case 0xFF1B:
    return true;
  default:
    return u_hasBinaryProperty((UChar32)cp, UCHAR_S_TERM) != 0;
  }
}

static sentry compute_entry(uint32_t cp) {
  UErrorCode st = U_ZERO_ERROR;
  UChar32 c = (UChar32)cp;
  int wb = u_getIntPropertyValue(c, UCHAR_WORD_BREAK);
  int lb = u_getIntPropertyValue(c, UCHAR_LINE_BREAK);
  UScriptCode sc = uscript_getScript(c, &st);
  uint8_t cls;
  bool dict;
  sentry e;

  switch (wb) {
  case U_WB_CR: case U_WB_LF: case U_WB_NEWLINE: cls = C_NL; break;
  case U_WB_EXTEND: case U_WB_FORMAT: cls = C_EXT; break;
  case U_WB_ZWJ: cls = C_ZWJ; break;
  case U_WB_REGIONAL_INDICATOR: cls = C_RI; break;
  case U_WB_KATAKANA: cls = C_KA; break;
  case U_WB_HEBREW_LETTER: cls = C_HL; break;
  case U_WB_ALETTER: cls = C_AL; break;
  case U_WB_SINGLE_QUOTE: cls = C_SQ; break;
  case U_WB_DOUBLE_QUOTE: cls = C_DQ; break;
  case U_WB_MIDNUMLET: cls = C_MNL; break;
  case U_WB_MIDLETTER:
    /* ICU 72 took the colons out of MidLetter. */
    cls = (cp == ':' || cp == 0xFE55 || cp == 0xFF1A) ? C_OTHER : C_ML;
    break;
  case U_WB_MIDNUM: cls = C_MN; break;
  case U_WB_NUMERIC: cls = C_NU; break;
  case U_WB_EXTENDNUMLET: cls = C_EX; break;
  case U_WB_WSEGSPACE: cls = C_WS; break;
  default:
    if (cp == '@') cls = C_AL; /* ICU 72: keeps e-mail addresses whole */
    /* ZERO WIDTH SPACE separates words where spaces are not written. */
    else if (u_isUWhiteSpace(c) || cp == 0x200B) cls = C_WS;
    else if (u_hasBinaryProperty(c, UCHAR_EXTENDED_PICTOGRAPHIC)) cls = C_EP;
    else if (cp >= 0xE000 && cp < 0xE000 + FMI_PII__COUNT) cls = C_PUA;
    else cls = C_OTHER;
    break;
  }
  if (cls != C_EXT && cls != C_ZWJ) {
    if (sc == USCRIPT_HAN || sc == USCRIPT_HIRAGANA) cls = C_KK;
    else if (cp >= 0xAC00 && cp <= 0xD7A3) cls = C_HS;
    else if (lb == U_LB_COMPLEX_CONTEXT) cls = C_AL;
  }
  dict = lb == U_LB_COMPLEX_CONTEXT || cls == C_KK || cls == C_KA ||
         cls == C_HS;
  e.cls[0] = cls;
  e.cls[1] = dict ? C_DICT : cls;
  e.flags = is_sentence_end(cp) ? F_SENT : 0;
  e.script = map_script(sc);
  return e;
}

#if defined(__GNUC__)
#define FMI_COLD __attribute__((noinline, cold))
#define FMI_INLINE inline __attribute__((always_inline))
#else
#define FMI_COLD
#define FMI_INLINE inline
#endif

static FMI_COLD void fill_block(fmi_segmenter *g, uint32_t hi) {
  uint32_t i, base = hi << 8;
  for (i = 0; i < 256; i++) g->table[base + i] = compute_entry(base + i);
  g->filled[hi >> 6] |= UINT64_C(1) << (hi & 63);
}

static FMI_COLD sentry lookup_supplementary(uint32_t cp) {
  return compute_entry(cp);
}

/* Entry of the code point at p (p < end); its length in *l. */
static FMI_INLINE sentry get(fmi_segmenter *g, const unsigned char *s,
                             size_t end, size_t p, size_t *l) {
  unsigned b = s[p];
  uint32_t cp, hi;
  if (b < 0x80) {
    *l = 1;
    return g->table[b];
  }
  if (b < 0xE0 && p + 1 < end) { /* 2 bytes: filled when created */
    *l = 2;
    return g->table[((b & 0x1Fu) << 6) | (s[p + 1] & 0x3Fu)];
  } else {
    *l = fmi_utf8_decode(s + p, end - p, &cp);
    if (cp >= 0x10000) return lookup_supplementary(cp);
  }
  hi = cp >> 8;
  if (FMI_UNLIKELY(!((g->filled[hi >> 6] >> (hi & 63)) & 1)))
    fill_block(g, hi);
  return g->table[cp];
}

/* Class of the code point at p (p < end), its length in *l. */
static inline uint8_t cls_at(fmi_segmenter *g, const unsigned char *s,
                             size_t end, size_t p, int d, size_t *l,
                             sentry *out) {
  sentry e = get(g, s, end, p, l);
  if (out) *out = e;
  return e.cls[d];
}

enum { AW_LATIN = 1, AW_DIGIT = 2, AW_AT = 4 };
enum { END_STOP = 1, END_MID = 2, END_SQ = 3 };

#define ONES UINT64_C(0x0101010101010101)
#define HIGH UINT64_C(0x8080808080808080)

/* High bit of each byte of x (bytes below 0x80) set where lo <= byte <= hi;
 * no sum crosses a byte. */
static inline uint64_t swar_range(uint64_t x, unsigned lo, unsigned hi) {
  return (x + ONES * (0x80u - lo)) & ~(x + ONES * (0x7Fu - hi)) & HIGH;
}

/* Which of 8 bytes are ASCII letters, digits, '@' (high bit of each byte;
 * bytes of non-ASCII characters are none of them). */
static inline void ascii_classes(uint64_t x, uint64_t *let, uint64_t *dig,
                                 uint64_t *at) {
  uint64_t ascii = ~x & HIGH, x7 = x & ~HIGH;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  ascii = __builtin_bswap64(ascii);
  x7 = __builtin_bswap64(x7);
#endif
  *let = swar_range(x7 | ONES * 0x20u, 'a', 'z') & ascii;
  *dig = swar_range(x7, '0', '9') & ascii;
  *at = ~((x7 ^ ONES * (unsigned)'@') + ONES * 0x7Fu) & ascii;
}

/* Past the Extend, Format and ZWJ characters at p (rule WB4). */
static FMI_INLINE size_t skip_ext(fmi_segmenter *g,
                                  const unsigned char *s, size_t end,
                                  size_t p, int d) {
  while (p < end && s[p] >= 0x80) { /* no ASCII character is Extend */
    size_t l;
    uint8_t c = cls_at(g, s, end, p, d, &l, NULL);
    if (c != C_EXT && c != C_ZWJ) break;
    p += l;
  }
  return p;
}

/* Whether a word of the fast path ends at q for sure: at the end, before
 * a stop, or before a Mid character (up to `mid_max`) that no letter or
 * digit follows. */
static inline bool word_ends(const fmi_segmenter *g, const unsigned char *s,
                             size_t end, size_t q, unsigned mid_max) {
  unsigned k;
  if (q == end) return true;
  k = g->ascii_end[s[q]];
  if (k == END_STOP) return true;
  if (k == 0 || k > mid_max) return false;
  return q + 1 == end || (s[q + 1] < 0x80 && !g->ascii_word[s[q + 1]]);
}

static fm_status grow_segs(fmi_segmenter *g) {
  size_t cap = g->segs_cap ? g->segs_cap * 2 : 256, bytes;
  fmi_seg *p;
  if (fmi_mul_overflows(cap, sizeof *p, &bytes)) return FM_ENOMEM;
  p = fmi_realloc(g->segs, bytes);
  if (!p) return FM_ENOMEM;
  g->segs = p;
  g->segs_cap = cap;
  return FM_OK;
}

static inline fm_status push(fmi_segmenter *g, size_t start, size_t end,
                             uint8_t kind, uint8_t script,
                             uint8_t sentence_end, uint8_t pii) {
  size_t n = g->nsegs;
  if (FMI_UNLIKELY(n == g->segs_cap) && grow_segs(g) != FM_OK)
    return FM_ENOMEM;
  g->nl_open = false;
  g->nsegs = n + 1;
  /* One aggregate store: byte-sized member stores would alias every field
   * of *g and force reloads. */
  g->segs[n] = (fmi_seg){(uint32_t)start, (uint32_t)end, kind, script,
                         sentence_end, pii};
  return FM_OK;
}

static inline bool is_ahl(uint8_t c) { return c == C_AL || c == C_HL; }

/* May a word whose last character has class `last` go on with `next`
 * (rules WB5, 8, 9, 10, 13, 13a, 13b and ICU's CJK/Hangul chaining)? */
static inline bool joins(uint8_t last, uint8_t next) {
  switch (last) {
  case C_AL: case C_HL:
    return is_ahl(next) || next == C_NU || next == C_EX;
  case C_NU:
    return next == C_NU || is_ahl(next) || next == C_EX;
  case C_EX:
    return is_ahl(next) || next == C_NU || next == C_KA || next == C_EX;
  case C_KA:
    return next == C_KA || next == C_EX || next == C_KK;
  case C_KK:
    return next == C_KK || next == C_KA;
  case C_HS:
    return next == C_HS;
  default:
    return false;
  }
}

/* Rules WB6/7, 7b/7c, 11/12: last MID next2 stays one word. */
static inline bool joins_across(uint8_t last, uint8_t mid, uint8_t next2) {
  if (is_ahl(last))
    return ((mid == C_ML || mid == C_MNL || mid == C_SQ) && is_ahl(next2)) ||
           (last == C_HL && mid == C_DQ && next2 == C_HL);
  if (last == C_NU)
    return (mid == C_MN || mid == C_MNL || mid == C_SQ) && next2 == C_NU;
  return false;
}

/* End of an emoji sequence whose first pictograph ends at q: modifiers,
 * variation selectors, tags, keycaps (all Extend) and ZWJ + pictograph. */
static size_t scan_emoji(fmi_segmenter *g, const unsigned char *s,
                         size_t end, size_t q, int d) {
  while (q < end) {
    size_t l;
    uint8_t c = cls_at(g, s, end, q, d, &l, NULL);
    if (c == C_EXT) {
      q += l;
    } else if (c == C_ZWJ) {
      q += l;
      if (q < end && cls_at(g, s, end, q, d, &l, NULL) == C_EP) q += l;
    } else {
      break;
    }
  }
  return q;
}

/* The word starting at p (class c0, length l0): its end, kind, script.
 * Marks (WB4) are taken as they come; qc is the end of the last character
 * that is not one. */
static FMI_INLINE size_t scan_word(fmi_segmenter *g,
                                   const unsigned char *s, size_t end,
                                   size_t p, size_t l0, uint8_t c0,
                                   sentry e0, int d, uint8_t *kind,
                                   uint8_t *script) {
  size_t qc = p + l0, q = qc;
  uint8_t last = c0;
  bool letter = c0 != C_NU && c0 != C_EX, number = c0 == C_NU;
  bool single = true;
  uint8_t sc = letter ? e0.script : SCRIPT_NONE;
  uint8_t num_sc = number ? e0.script : SCRIPT_NONE;

  while (q < end) {
    size_t l, q1, l2;
    sentry e, e2;
    uint8_t cn;
    unsigned b = s[q];
    if (b < 0x80) {
      unsigned k = g->ascii_word[b];
      if (k && (last == C_AL || last == C_HL || last == C_NU)) {
        /* The common case, ASCII letters and digits after a letter or
         * digit: they always join (WB5, 8, 9, 10) and take no marks. */
        unsigned acc = 0;
        do {
          acc |= k;
          last = k == AW_DIGIT ? C_NU : C_AL;
          if (++q == end || s[q] >= 0x80) break;
          k = g->ascii_word[s[q]];
        } while (k);
        qc = q;
        single = false;
        if (acc & (AW_LATIN | AW_AT)) {
          letter = true;
          if (sc == SCRIPT_NONE && (acc & AW_LATIN)) sc = FMI_SCRIPT_LATIN;
        }
        if (acc & AW_DIGIT) number = true;
        continue;
      }
      e = g->table[b];
      l = 1;
    } else if (b < 0xE0 && q + 1 < end && (last == C_AL || last == C_HL)) {
      /* Letters of 2-byte scripts (Greek, Cyrillic, Hebrew, Arabic)
       * after a letter, and their marks. */
      e = g->table[((b & 0x1Fu) << 6) | (s[q + 1] & 0x3Fu)];
      l = 2;
      cn = e.cls[d];
      if (cn == C_AL || cn == C_HL) {
        q += 2;
        qc = q;
        last = cn;
        single = false;
        if (sc == SCRIPT_NONE) sc = e.script;
        continue;
      }
    } else {
      e = get(g, s, end, q, &l);
    }
    cn = e.cls[d];
    if (cn == C_EXT || cn == C_ZWJ) {
      q += l;
      continue;
    }
    if (joins(last, cn)) {
      q += l;
    } else if (cn >= C_ML && cn <= C_DQ) {
      q1 = skip_ext(g, s, end, q + l, d);
      if (q1 < end && (e2 = get(g, s, end, q1, &l2),
                       joins_across(last, cn, e2.cls[d]))) {
        q = q1 + l2;
        cn = e2.cls[d];
        e = e2;
      } else {
        if (last == C_HL && cn == C_SQ) { /* WB7a: צ' */
          qc = q + l;
          q = q1;
          last = C_SQ;
        }
        break;
      }
    } else {
      break;
    }
    qc = q;
    single = false;
    last = cn;
    if (cn == C_NU) {
      number = true;
      if (num_sc == SCRIPT_NONE) num_sc = e.script;
    } else if (cn != C_EX) {
      letter = true;
      if (sc == SCRIPT_NONE) sc = e.script;
    }
  }
  *script = FMI_SCRIPT_OTHER;
  if (q > qc) {
    /* Two quirks of ICU's chained rules, followed so that the words stay
     * ICU's: a ZWJ at the end of a word glues the pictograph after it on
     * (WB3c), and the whole is no word; and a word ending in ExtendNumLet
     * or a Hebrew geresh apostrophe plus marks ("a_\u0301") is no word
     * either. */
    size_t l;
    if (q - qc >= 3 && s[q - 3] == 0xE2 && s[q - 2] == 0x80 &&
        s[q - 1] == 0x8D && q < end &&
        cls_at(g, s, end, q, d, &l, NULL) == C_EP) {
      *kind = FM_TOKEN_EMOJI;
      return scan_emoji(g, s, end, q + l, d);
    }
    if (last == C_EX || last == C_SQ) {
      *kind = FM_TOKEN_PUNCT;
      return q;
    }
  }
  if (letter) {
    *kind = FM_TOKEN_WORD;
  } else if (number) {
    *kind = FM_TOKEN_NUMBER;
    sc = num_sc;
  } else {
    /* ICU: a lone '_' is not a word, "__" is. */
    *kind = single ? FM_TOKEN_PUNCT : FM_TOKEN_WORD;
  }
  *script = sc == SCRIPT_NONE ? FMI_SCRIPT_OTHER : sc;
  return q;
}

/* Kind and script of the word s[a, b) that ICU found: a word if it holds
 * a letter, a number if it holds digits only (ICU's own status says
 * "number" for "a1.5" and "mp3" too, by the last rule its chain took);
 * the script of its first letter, else of its first digit. */
static void word_info(fmi_segmenter *g, const unsigned char *s, size_t a,
                      size_t b, int32_t status, uint8_t *kind,
                      uint8_t *script) {
  uint8_t sc = SCRIPT_NONE, num_sc = SCRIPT_NONE;
  bool letter = false, digit = false;
  if (status >= UBRK_WORD_LETTER) {
    /* Most of ICU's words (every Thai one) begin with a letter that has
     * a script: nothing more to look at. */
    size_t l;
    sentry e = get(g, s, b, a, &l);
    uint8_t c = e.cls[0];
    if ((c == C_AL || c == C_HL || c == C_KA || c == C_KK || c == C_HS) &&
        e.script != SCRIPT_NONE) {
      *kind = FM_TOKEN_WORD;
      *script = e.script;
      return;
    }
  }
  while (a < b) {
    size_t l;
    sentry e = get(g, s, b, a, &l);
    uint8_t c = e.cls[0];
    if (c == C_NU) {
      digit = true;
      if (num_sc == SCRIPT_NONE) num_sc = e.script;
    } else if (c == C_AL || c == C_HL || c == C_KA || c == C_KK ||
               c == C_HS) {
      letter = true;
      if (sc == SCRIPT_NONE) sc = e.script;
    }
    a += l;
  }
  if (!letter && digit) sc = num_sc;
  *kind = letter || !digit ? FM_TOKEN_WORD : FM_TOKEN_NUMBER;
  *script = sc == SCRIPT_NONE ? FMI_SCRIPT_OTHER : sc;
}

static fm_status to_utf16(fmi_segmenter *g, const char *text, size_t a,
                          size_t b, int32_t *n16, fm_error *err) {
  UErrorCode st = U_ZERO_ERROR;
  if (b - a > (size_t)INT32_MAX - 1)
    return fmi_fail(err, FM_ETOOBIG, "segment: text over 2 GiB");
  if (b - a + 1 > g->u16_cap) {
    size_t cap = g->u16_cap ? g->u16_cap : 256, bytes;
    UChar *p;
    while (cap < b - a + 1) cap *= 2;
    if (fmi_mul_overflows(cap, sizeof(UChar), &bytes) ||
        !(p = fmi_realloc(g->u16, bytes)))
      return fmi_fail(err, FM_ENOMEM, "segment: out of memory");
    g->u16 = p;
    g->u16_cap = cap;
  }
  u_strFromUTF8(g->u16, (int32_t)g->u16_cap, n16, text + a, (int32_t)(b - a),
                &st);
  if (U_FAILURE(st))
    return fmi_fail(err, FM_EUNICODE,
                    "segment: invalid UTF-8 near byte %zu (%s)", a,
                    u_errorName(st));
  return FM_OK;
}

/* Bytes of UTF-8 that u16[i, j) takes. */
static size_t utf8_span(const UChar *u, int32_t i, int32_t j) {
  size_t n = 0;
  for (; i < j; i++) {
    UChar c = u[i];
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (U16_IS_LEAD(c) && i + 1 < j && U16_IS_TRAIL(u[i + 1])) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

static fm_status scan(fmi_segmenter *g, const char *text, size_t from,
                      size_t end, bool use_dict, bool nonword, fm_error *err);

/* Where the text that ICU should see ends, given a dictionary character
 * ending at q: the end of its whitespace-delimited span, and of the spans
 * after it while they hold dictionary characters too (one ICU call per
 * run of Thai phrases rather than per phrase). */
static size_t dict_range_end(fmi_segmenter *g, const unsigned char *s,
                             size_t end, size_t q) {
  size_t stop = q, l;
  bool dict = true, text = true; /* in the current span: any dictionary
                                    character; anything at all */
  while (q < end) {
    uint8_t c = cls_at(g, s, end, q, 1, &l, NULL);
    if (c == C_WS || c == C_NL) {
      if (text) {
        if (!dict) return stop;
        stop = q;
        dict = text = false;
      }
    } else {
      text = true;
      if (c == C_DICT) dict = true;
    }
    q += l;
  }
  return dict ? end : stop;
}

/* Segments the whitespace-free span text[a, b) with ICU's word break
 * iterator (dictionaries included). */
static fm_status icu_span(fmi_segmenter *g, const char *text, size_t a,
                          size_t b, fm_error *err) {
  const unsigned char *s = (const unsigned char *)text;
  UErrorCode st = U_ZERO_ERROR;
  int32_t n16, prev = 0, q;
  size_t p8 = a;
  fm_status rc = to_utf16(g, text, a, b, &n16, err);
  if (rc != FM_OK) return rc;
  ubrk_setText(g->bi, g->u16, n16, &st);
  if (U_FAILURE(st))
    return fmi_fail(err, FM_EUNICODE, "segment: ICU break iterator (%s)",
                    u_errorName(st));
  ubrk_first(g->bi);
  while ((q = ubrk_next(g->bi)) != UBRK_DONE) {
    size_t q8 = p8 + utf8_span(g->u16, prev, q);
    int32_t status = ubrk_getRuleStatus(g->bi);
    if (status >= UBRK_WORD_NUMBER) {
      uint8_t kind, script;
      word_info(g, s, p8, q8, status, &kind, &script);
      if (push(g, p8, q8, kind, script, 0, 0) != FM_OK)
        return fmi_fail(err, FM_ENOMEM, "segment: out of memory");
    } else {
      rc = scan(g, text, p8, q8, false, true, err);
      if (rc != FM_OK) return rc;
    }
    prev = q;
    p8 = q8;
  }
  return FM_OK;
}

/* Segments text[from, end) with the fast path; with use_dict, spans that
 * hold dictionary characters go to icu_span(). `nonword`: ICU called this
 * range no word (a Hangul syllable with a stray mark, a letter joined to an
 * emoji by ZWJ), so nothing in it becomes one. */
static FMI_INLINE fm_status scan_impl(fmi_segmenter *g, const char *text,
                                      size_t from, size_t end, const int d,
                                      bool nonword, fm_error *err) {
  const unsigned char *s = (const unsigned char *)text;
  size_t p = from, span_start = from, span_seg = g->nsegs;

  while (p < end) {
    size_t l, q = 0;
    sentry e;
    uint8_t c, kind = FM_TOKEN_PUNCT, script = FMI_SCRIPT_OTHER, sent = 0,
            pii = 0;
    fm_status rc;

    if (s[p] == ' ') {
      p++;
      span_start = p;
      span_seg = g->nsegs;
      continue;
    }
    if (g->ascii_word[s[p]] && !nonword) {
      /* An ASCII word that ends before a space or punctuation: no rule
       * beyond WB5-10 can apply, so no lookahead and no table. */
      unsigned acc = 0;
      q = p;
      if (g->swar) {
        while (q + 8 <= end) {
          uint64_t x, let, dig, at, w;
          memcpy(&x, s + q, 8);
          ascii_classes(x, &let, &dig, &at);
          w = let | dig | at;
          if (w != HIGH) {
            /* Only the bytes before the first that is no word character. */
            unsigned k = (unsigned)__builtin_ctzll(~w & HIGH) >> 3;
            uint64_t m = k ? ~UINT64_C(0) >> (64 - 8 * k) : 0;
            w = 0;
            let &= m;
            dig &= m;
            at &= m;
            q += k;
          } else {
            q += 8;
          }
          acc |= (let ? AW_LATIN : 0) | (dig ? AW_DIGIT : 0) |
                 (at ? AW_AT : 0);
          if (w != HIGH) goto ascii_done;
        }
      }
      while (q < end && g->ascii_word[s[q]]) acc |= g->ascii_word[s[q++]];
    ascii_done:
      if (word_ends(g, s, end, q, END_SQ)) {
        if (acc & (AW_LATIN | AW_AT)) {
          kind = FM_TOKEN_WORD;
          if (acc & AW_LATIN) script = FMI_SCRIPT_LATIN;
        } else {
          kind = FM_TOKEN_NUMBER;
        }
        if (push(g, p, q, kind, script, 0, 0) != FM_OK) goto nomem;
        p = q;
        continue;
      }
    }
    if ((s[p] & 0xE0) == 0xC0 && p + 1 < end && !nonword) {
      /* The same for a word of 2-byte letters and marks (Greek, Cyrillic,
       * Hebrew, Arabic): the bulk of text in those scripts. */
      sentry e0 = g->table[((s[p] & 0x1Fu) << 6) | (s[p + 1] & 0x3Fu)];
      uint8_t c0 = e0.cls[d];
      if (c0 == C_AL || c0 == C_HL) {
        q = p + 2;
        while (q + 1 < end && (s[q] & 0xE0) == 0xC0) {
          uint8_t cn =
              g->table[((s[q] & 0x1Fu) << 6) | (s[q + 1] & 0x3Fu)].cls[d];
          if (cn != C_AL && cn != C_HL && cn != C_EXT) break;
          q += 2;
        }
        /* After a Hebrew letter an apostrophe joins (WB7a). */
        if (word_ends(g, s, end, q, END_MID)) {
          script = e0.script == SCRIPT_NONE ? FMI_SCRIPT_OTHER : e0.script;
          if (push(g, p, q, FM_TOKEN_WORD, script, 0, 0) != FM_OK)
            goto nomem;
          p = q;
          continue;
        }
      }
    }
    e = get(g, s, end, p, &l);
    c = e.cls[d];
    /* Words and punctuation first: a jump table mispredicts more. */
    if (FMI_LIKELY(c >= C_AL && c <= C_HS)) {
      q = scan_word(g, s, end, p, l, c, e, d, &kind, &script);
      if (nonword) kind = FM_TOKEN_PUNCT;
      if (kind == FM_TOKEN_PUNCT) sent = (e.flags & F_SENT) != 0;
      if (push(g, p, q, kind, script, sent, pii) != FM_OK) goto nomem;
      p = q;
      continue;
    }
    if (c == C_OTHER || (c >= C_ML && c <= C_DQ)) {
      q = skip_ext(g, s, end, p + l, d);
      sent = (e.flags & F_SENT) != 0;
      if (push(g, p, q, kind, script, sent, pii) != FM_OK) goto nomem;
      p = q;
      continue;
    }
    switch (c) {
    case C_WS:
      p += l;
      span_start = p;
      span_seg = g->nsegs;
      continue;
    case C_NL:
      if (!g->nl_open && push(g, p, p, FM_TOKEN_PUNCT, FMI_SCRIPT_OTHER, 1, 0))
        goto nomem;
      g->nl_open = true;
      p += l;
      span_start = p;
      span_seg = g->nsegs;
      continue;
    case C_DICT:
      g->nsegs = span_seg;
      q = dict_range_end(g, s, end, p + l);
      rc = icu_span(g, text, span_start, q, err);
      if (rc != FM_OK) return rc;
      p = q;
      continue;
    case C_EXT: case C_ZWJ:
      /* A mark with nothing to attach to (after a space, a placeholder):
       * not a token of its own. */
      p += l;
      continue;
    case C_PUA:
      q = p + l;
      kind = FM_TOKEN_PLACEHOLDER;
      pii = (uint8_t)(text[p + 2] & 0x3F); /* U+E000 + k: EE 80 80+k */
      break;
    case C_EP:
      kind = FM_TOKEN_EMOJI;
      q = scan_emoji(g, s, end, p + l, d);
      break;
    case C_RI:
      kind = FM_TOKEN_EMOJI;
      q = p + l;
      if (q < end) {
        size_t l2;
        if (cls_at(g, s, end, q, d, &l2, NULL) == C_RI) q += l2;
      }
      q = skip_ext(g, s, end, q, d);
      break;
    case C_AL: case C_HL: case C_NU: case C_EX: case C_KA: case C_KK:
    case C_HS:
      q = scan_word(g, s, end, p, l, c, e, d, &kind, &script);
      if (nonword) kind = FM_TOKEN_PUNCT;
      if (kind == FM_TOKEN_PUNCT) sent = (e.flags & F_SENT) != 0;
      break;
    default:
      q = skip_ext(g, s, end, p + l, d);
      sent = (e.flags & F_SENT) != 0;
      break;
    }
    if (push(g, p, q, kind, script, sent, pii) != FM_OK) goto nomem;
    p = q;
  }
  return FM_OK;
nomem:
  return fmi_fail(err, FM_ENOMEM, "segment: out of memory");
}

/* Two copies, so that the class column is a constant in each. */
static fm_status scan(fmi_segmenter *g, const char *text, size_t from,
                      size_t end, bool use_dict, bool nonword, fm_error *err) {
  if (use_dict) return scan_impl(g, text, from, end, 1, nonword, err);
  return scan_impl(g, text, from, end, 0, nonword, err);
}

fm_status fmi_segmenter_new(fmi_segmenter **out, fm_error *err) {
  UErrorCode st = U_ZERO_ERROR;
  fmi_segmenter *g;
  unsigned i;
  *out = NULL;
  g = fmi_calloc(1, sizeof *g);
  if (!g) goto nomem;
  /* Zeroed pages cost nothing until a block is filled. */
  g->table = fmi_calloc(0x10000, sizeof *g->table);
  if (!g->table) goto nomem;
  /* "" is ICU's root locale: the same rules whatever the process's
   * default locale is. */
  g->bi = ubrk_open(UBRK_WORD, "", NULL, 0, &st);
  if (U_FAILURE(st)) {
    fmi_segmenter_free(g);
    return fmi_fail(err, FM_EUNICODE,
                    "segmenter: cannot open ICU word break iterator (%s)",
                    u_errorName(st));
  }
  /* Everything UTF-8 writes in two bytes (up to U+07FF: Latin, Greek,
   * Cyrillic, Armenian, Hebrew, Arabic) is filled now, so that the hot
   * loops need not check. */
  for (i = 0; i < 8; i++) fill_block(g, i);
  for (i = 0; i < 128; i++) {
    const sentry *e = &g->table[i];
    uint8_t c = e->cls[0];
    if (c == C_NU) g->ascii_word[i] = AW_DIGIT;
    else if (c == C_AL)
      g->ascii_word[i] = e->script == FMI_SCRIPT_LATIN ? AW_LATIN : AW_AT;
    g->ascii_end[i] = c == C_WS || c == C_NL || c == C_OTHER ? END_STOP
                      : c == C_SQ                             ? END_SQ
                      : c >= C_ML && c <= C_DQ                ? END_MID
                                                              : 0;
  }
  /* The 8-bytes-at-a-time word scan assumes ICU's classes for ASCII; a
   * later ICU that moved one would get the byte loop instead. */
  g->swar = true;
  for (i = 0; i < 128; i++) {
    unsigned want = (i >= 'a' && i <= 'z') || (i >= 'A' && i <= 'Z')
                        ? AW_LATIN
                    : (i >= '0' && i <= '9') ? AW_DIGIT
                    : i == '@'               ? AW_AT
                                             : 0;
    if (g->ascii_word[i] != want) g->swar = false;
  }
  *out = g;
  return FM_OK;
nomem:
  fmi_segmenter_free(g);
  return fmi_fail(err, FM_ENOMEM, "segmenter: out of memory");
}

void fmi_segmenter_free(fmi_segmenter *g) {
  if (!g) return;
  if (g->bi) ubrk_close(g->bi);
  fmi_free(g->table);
  fmi_free(g->u16);
  fmi_free(g->segs);
  fmi_free(g);
}

/* Copies the result into the arena. */
static fm_status finish(fmi_segmenter *g, fmi_arena *arena, fmi_seg **segs,
                        size_t *n, fm_error *err) {
  size_t bytes;
  if (g->nsegs == 0) return FM_OK;
  if (fmi_mul_overflows(g->nsegs, sizeof(fmi_seg), &bytes))
    return fmi_fail(err, FM_ETOOBIG, "segment: too many tokens");
  *segs = fmi_arena_alloc(arena, bytes);
  if (!*segs)
    return fmi_fail(err, fmi_arena_status(arena),
                    "segment: no room for %zu tokens", g->nsegs);
  memcpy(*segs, g->segs, bytes);
  *n = g->nsegs;
  return FM_OK;
}

fm_status fmi_segment(fmi_segmenter *g, const char *text, size_t len,
                      bool use_dict, fmi_arena *arena, fmi_seg **segs,
                      size_t *n, fm_error *err) {
  fm_status rc;
  *segs = NULL;
  *n = 0;
  if (len > UINT32_MAX)
    return fmi_fail(err, FM_ETOOBIG, "segment: text over 4 GiB");
  g->nsegs = 0;
  g->nl_open = false;
  rc = scan(g, text, 0, len, use_dict, false, err);
  if (rc != FM_OK) return rc;
  return finish(g, arena, segs, n, err);
}

fm_status fmi_segment_icu_only(fmi_segmenter *g, const char *text,
                               size_t len, fmi_arena *arena, fmi_seg **segs,
                               size_t *n, fm_error *err) {
  const unsigned char *s = (const unsigned char *)text;
  UErrorCode st = U_ZERO_ERROR;
  int32_t n16, prev = 0, q;
  size_t p8 = 0;
  fm_status rc;
  *segs = NULL;
  *n = 0;
  g->nsegs = 0;
  rc = to_utf16(g, text, 0, len, &n16, err);
  if (rc != FM_OK) return rc;
  ubrk_setText(g->bi, g->u16, n16, &st);
  if (U_FAILURE(st))
    return fmi_fail(err, FM_EUNICODE, "segment: ICU break iterator (%s)",
                    u_errorName(st));
  ubrk_first(g->bi);
  while ((q = ubrk_next(g->bi)) != UBRK_DONE) {
    size_t q8 = p8 + utf8_span(g->u16, prev, q);
    int32_t status = ubrk_getRuleStatus(g->bi);
    if (status >= UBRK_WORD_NUMBER) {
      uint8_t kind, script;
      word_info(g, s, p8, q8, status, &kind, &script);
      if (push(g, p8, q8, kind, script, 0, 0) != FM_OK)
        return fmi_fail(err, FM_ENOMEM, "segment: out of memory");
    }
    prev = q;
    p8 = q8;
  }
  return finish(g, arena, segs, n, err);
}
