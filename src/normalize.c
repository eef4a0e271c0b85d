/*
 * normalize.c -- NFKC_Casefold with ICU, then Hebrew/Arabic diacritic
 * stripping and Arabic letter unification.
 *
 * Most text never reaches ICU. Normalization splits at every code point
 * that has a normalization boundary before it (ICU's hasBoundaryBefore), so
 * each "segment" -- a starter plus the combining marks after it -- can be
 * normalized on its own. A segment takes the fast path when either
 *   - it is one code point: its NFKC_Casefold result, after stripping and
 *     unification, is cached per code point (so "A" -> "a", "Ж" -> "ж",
 *     "ß" -> "ss", "ﬁ" -> "fi", "أ" -> "ا"), or
 *   - every code point in it passes ICU's quick check (unchanged, never
 *     composes with what precedes it) and the marks that survive stripping
 *     are in canonical order: then the text is already normalized, and
 *     stripping the removed marks commutes with canonical reordering (a
 *     stable sort), while no composition can happen.
 * Runs of code points that stay themselves (lowercase text in most
 * scripts, with its spaces and punctuation) are found character by
 * character and copied whole; ASCII is lowercased 8 bytes at a time.
 * Everything else (decomposed accents, out-of-order marks, Hangul jamo,
 * supplementary characters with a folding) goes through
 * unorm2_normalize() one segment at a time. A differential run against
 * unorm2_normalize() over whole strings of tricky characters agreed.
 *
 * Emoji sequences keep their ZERO WIDTH JOINERs and variation selectors,
 * which NFKC_Casefold would delete (they are default-ignorable): a family
 * emoji should stay one token, not three. Thai SARA AM stays composed (see
 * merge_am). Private-use code points are left alone by NFKC_Casefold
 * itself, so redaction placeholders survive.
 */
#include "normalize.h"

#include <stdio.h>

#include <unicode/uchar.h>
#include <unicode/uversion.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

/* Per-code-point cache entry. `out` is the code point's own
 * NFKC_Casefold result with stripping and unification applied, valid when
 * NE_CACHED is set (results longer than fit are never cached). */
enum {
  NE_BB = 1 << 0,     /* normalization boundary before the code point */
  NE_QCYES = 1 << 1,  /* quick check YES: unchanged, no backward composition */
  NE_STRIP = 1 << 2,  /* a mark we delete that composes with nothing */
  NE_CACHED = 1 << 3, /* `out` holds the single-code-point result */
  NE_EP = 1 << 4,     /* Extended_Pictographic */
  NE_AA = 1 << 5,     /* Thai/Lao SARA AA: may merge into SARA AM */
  NE_SAME = 1 << 6,   /* a starter that stays itself: copy the input */
  NE_SAMEMARK = 1 << 7 /* a mark that stays itself when in order */
};

typedef struct nentry {
  char out[13]; /* first, so that copying 16 bytes from it stays inside */
  uint8_t flags;
  uint8_t ccc;
  uint8_t len;
} nentry;

/* Invariants: blocks[hi] is NULL or 256 filled entries for U+hi00..U+hiFF;
 * `out` has `out_cap` bytes. The UTF-16 buffers only serve the slow path. */
struct fmi_normalizer {
  const UNormalizer2 *nf;
  nentry *blocks[256];
  /* Bit cp set: U+cp (below U+0800) is a starter that stays itself:
   * ASCII but A-Z from the start, the rest as blocks are filled. */
  uint8_t same2[256];
  UChar *u16in, *u16out;
  size_t u16in_cap, u16out_cap; /* in UChars */
  char *out;
  size_t out_cap;
};

/* What stays of a code point of NFKC_Casefold output: itself, a unified
 * letter, or 0 (deleted). */
static uint32_t post_map(uint32_t c) {
  if (c < 0x0591) return c;
  if (c <= 0x05C7) {
    /* Hebrew points and cantillation; the punctuation among them (maqaf,
     * paseq, sof pasuq, nun hafukha) stays. */
    if (c <= 0x05BD || c == 0x05BF || c == 0x05C1 || c == 0x05C2 ||
        c == 0x05C4 || c == 0x05C5 || c == 0x05C7)
      return 0;
    return c;
  }
  if (c < 0x0622 || c > 0x0671) return c;
  switch (c) {
  case 0x0622: case 0x0623: case 0x0625: case 0x0671: return 0x0627;
  case 0x0649: return 0x064A;
  case 0x0629: return 0x0647;
  case 0x0640: case 0x0670: return 0;
  default: break;
  }
  if (c >= 0x064B && c <= 0x065F) return 0;
  return c;
}

/* NFKC splits Thai SARA AM (U+0E33) into NIKHAHIT + SARA AA, and Lao AM
 * (U+0EB3) likewise, but ICU's Thai and Lao dictionaries spell words with
 * the composed letter: "ทำงาน" is one dictionary word, "ทํางาน" is not.
 * So the pair is put back together after normalization, in both
 * directions the same way: decomposed input ends up composed too. Returns
 * true when the SARA AA at `c` merged into the 3 bytes before buf + len. */
static bool merge_am(char *buf, size_t len, uint32_t c) {
  unsigned char *b = (unsigned char *)buf + len - 3;
  if (len < 3 || b[0] != 0xE0) return false;
  if (c == 0x0E32 && b[1] == 0xB9 && b[2] == 0x8D) {
    b[1] = 0xB8;
    b[2] = 0xB3;
    return true;
  }
  if (c == 0x0EB2 && b[1] == 0xBB && b[2] == 0x8D) {
    b[1] = 0xBA;
    b[2] = 0xB3;
    return true;
  }
  return false;
}

static void fill_entry(const UNormalizer2 *nf, uint32_t cp, nentry *e) {
  UChar in[2], res[32];
  int32_t il = 0, rl, i = 0;
  UErrorCode st = U_ZERO_ERROR;
  size_t len = 0;
  memset(e, 0, sizeof *e);
  if (cp >= 0xD800 && cp <= 0xDFFF) return; /* never in valid UTF-8 */
  U16_APPEND_UNSAFE(in, il, cp);
  e->ccc = u_getCombiningClass((UChar32)cp);
  if (unorm2_hasBoundaryBefore(nf, (UChar32)cp)) e->flags |= NE_BB;
  if (unorm2_quickCheck(nf, in, il, &st) == UNORM_YES && U_SUCCESS(st))
    e->flags |= NE_QCYES;
  if (u_hasBinaryProperty((UChar32)cp, UCHAR_EXTENDED_PICTOGRAPHIC))
    e->flags |= NE_EP;
  /* U+0653..U+0655 compose with alef, waw, yeh: normalization must see
   * them, so they are not stripped ahead of it. */
  if (post_map(cp) == 0 && (e->flags & NE_QCYES) &&
      !(cp >= 0x0653 && cp <= 0x0655))
    e->flags |= NE_STRIP;
  st = U_ZERO_ERROR;
  rl = unorm2_normalize(nf, in, il, res, 32, &st);
  if (U_FAILURE(st)) return;
  while (i < rl) {
    UChar32 c;
    uint32_t m;
    char tmp[4];
    size_t k;
    U16_NEXT(res, i, rl, c);
    m = post_map((uint32_t)c);
    if (!m || merge_am(e->out, len, m)) continue;
    k = fmi_utf8_encode(m, tmp);
    if (len + k > sizeof e->out) return;
    memcpy(e->out + len, tmp, k);
    len += k;
  }
  e->len = (uint8_t)len;
  e->flags |= NE_CACHED;
  if (cp == 0x0E32 || cp == 0x0EB2) e->flags |= NE_AA;
  {
    char self[4];
    size_t k = fmi_utf8_encode(cp, self);
    if ((e->flags & (NE_EP | NE_AA)) == 0 && len == k &&
        memcmp(self, e->out, k) == 0) {
      if (e->flags & NE_BB) e->flags |= NE_SAME;
      else if (e->flags & NE_QCYES) e->flags |= NE_SAMEMARK;
    }
  }
}

/* The entry of BMP code point cp, filling its block on first use; NULL
 * when that allocation fails. */
#if defined(__GNUC__)
__attribute__((noinline, cold))
#endif
static nentry *fill_block(fmi_normalizer *n, uint32_t cp) {
  uint32_t i, base = cp & ~0xFFu;
  nentry *b = fmi_malloc(256 * sizeof *b);
  if (!b) return NULL;
  for (i = 0; i < 256; i++) {
    fill_entry(n->nf, base + i, &b[i]);
    if (base + i < 0x800 && (b[i].flags & NE_SAME))
      n->same2[(base + i) >> 3] |= (uint8_t)(1u << ((base + i) & 7));
  }
  n->blocks[cp >> 8] = b;
  return b;
}

static inline const nentry *bmp_entry(fmi_normalizer *n, uint32_t cp) {
  nentry *b = n->blocks[cp >> 8];
  if (FMI_UNLIKELY(!b) && !(b = fill_block(n, cp))) return NULL;
  return &b[cp & 0xFF];
}

/* Entry of any code point; supplementary ones are rare enough to compute
 * each time into *tmp. */
static inline const nentry *entry(fmi_normalizer *n, uint32_t cp,
                                  nentry *tmp) {
  if (cp < 0x10000) return bmp_entry(n, cp);
  fill_entry(n->nf, cp, tmp);
  return tmp;
}

fm_status fmi_normalizer_new(fmi_normalizer **out, fm_error *err) {
  UErrorCode st = U_ZERO_ERROR;
  fmi_normalizer *n;
  unsigned c;
  const UNormalizer2 *nf = unorm2_getNFKCCasefoldInstance(&st);
  *out = NULL;
  if (U_FAILURE(st))
    return fmi_fail(err, FM_EUNICODE,
                    "normalizer: ICU NFKC_Casefold data unavailable (%s)",
                    u_errorName(st));
  n = fmi_calloc(1, sizeof *n);
  if (!n) return fmi_fail(err, FM_ENOMEM, "normalizer: out of memory");
  n->nf = nf;
  for (c = 0; c < 0x80; c++)
    if (!(c >= 'A' && c <= 'Z'))
      n->same2[c >> 3] |= (uint8_t)(1u << (c & 7));
  *out = n;
  return FM_OK;
}

void fmi_normalizer_free(fmi_normalizer *n) {
  size_t i;
  if (!n) return;
  for (i = 0; i < 256; i++) fmi_free(n->blocks[i]);
  fmi_free(n->u16in);
  fmi_free(n->u16out);
  fmi_free(n->out);
  fmi_free(n);
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem) {
  size_t c = *cap ? *cap : 256, bytes;
  void *q;
  if (need <= *cap) return true;
  while (c < need) {
    if (c > SIZE_MAX / 4) { c = need; break; }
    c *= 2;
  }
  if (fmi_mul_overflows(c, elem, &bytes)) return false;
  q = fmi_realloc(*p, bytes);
  if (!q) return false;
  *p = q;
  *cap = c;
  return true;
}

static bool out_reserve(fmi_normalizer *n, size_t need) {
  return grow((void **)&n->out, &n->out_cap, need, 1);
}

/* Normalizes in[a, b) with ICU and appends the result at n->out + *o,
 * keeping room for `rest` more bytes after it. */
static fm_status slow_path(fmi_normalizer *n, const char *in, size_t a,
                           size_t b, size_t *o, size_t rest, fm_error *err) {
  UErrorCode st = U_ZERO_ERROR;
  int32_t ul = 0, nl, i = 0;
  size_t oi = *o, need;
  if (b - a > (size_t)INT32_MAX / 8)
    return fmi_fail(err, FM_ETOOBIG, "normalize: text over 256 MiB");
  if (!grow((void **)&n->u16in, &n->u16in_cap, b - a + 1, sizeof(UChar)))
    return fmi_fail(err, FM_ENOMEM, "normalize: out of memory");
  u_strFromUTF8(n->u16in, (int32_t)n->u16in_cap, &ul, in + a,
                (int32_t)(b - a), &st);
  if (U_FAILURE(st))
    return fmi_fail(err, FM_EUNICODE,
                    "normalize: invalid UTF-8 near byte %zu (%s)", a,
                    u_errorName(st));
  if (!grow((void **)&n->u16out, &n->u16out_cap, (size_t)ul * 2 + 16,
            sizeof(UChar)))
    return fmi_fail(err, FM_ENOMEM, "normalize: out of memory");
  nl = unorm2_normalize(n->nf, n->u16in, ul, n->u16out,
                        (int32_t)n->u16out_cap, &st);
  if (st == U_BUFFER_OVERFLOW_ERROR) {
    st = U_ZERO_ERROR;
    if (!grow((void **)&n->u16out, &n->u16out_cap, (size_t)nl + 1,
              sizeof(UChar)))
      return fmi_fail(err, FM_ENOMEM, "normalize: out of memory");
    nl = unorm2_normalize(n->nf, n->u16in, ul, n->u16out,
                          (int32_t)n->u16out_cap, &st);
  }
  if (U_FAILURE(st))
    return fmi_fail(err, FM_EUNICODE, "normalize: ICU failed near byte %zu "
                    "(%s)", a, u_errorName(st));
  /* A UTF-16 unit never needs more than 3 bytes of UTF-8. */
  if (fmi_mul_overflows((size_t)nl, 3, &need) ||
      fmi_add_overflows(need, oi + rest + 16, &need) || !out_reserve(n, need))
    return fmi_fail(err, FM_ENOMEM, "normalize: out of memory");
  while (i < nl) {
    UChar32 c;
    uint32_t m;
    U16_NEXT(n->u16out, i, nl, c);
    m = post_map((uint32_t)c);
    if (m && !merge_am(n->out, oi, m)) oi += fmi_utf8_encode(m, n->out + oi);
  }
  *o = oi;
  return FM_OK;
}

/* Whether cp continues an emoji sequence after a pictograph: variation
 * selectors, skin tones, tag characters, the keycap mark. */
static bool emoji_continuer(uint32_t cp) {
  return (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0x20E3 ||
         (cp >= 0x1F3FB && cp <= 0x1F3FF) || (cp >= 0xE0020 && cp <= 0xE007F);
}

/* End of the emoji sequence starting at p (a pictograph), or p when no
 * continuation follows (then the pictograph is normalized like any other
 * code point). */
static fm_status emoji_end(fmi_normalizer *n, const unsigned char *s,
                           size_t len, size_t p, size_t *end) {
  uint32_t cp;
  size_t q = p + fmi_utf8_decode(s + p, len - p, &cp), l;
  bool any = false;
  while (q < len) {
    l = fmi_utf8_decode(s + q, len - q, &cp);
    if (emoji_continuer(cp)) {
      q += l;
      any = true;
    } else if (cp == 0x200D && q + l < len) {
      nentry tmp;
      const nentry *e;
      uint32_t c2;
      size_t l2 = fmi_utf8_decode(s + q + l, len - q - l, &c2);
      e = entry(n, c2, &tmp);
      if (!e) return FM_ENOMEM;
      if (!(e->flags & NE_EP)) break;
      q += l + l2;
      any = true;
    } else {
      break;
    }
  }
  *end = any ? q : p;
  return FM_OK;
}

#define ASCII_MASK UINT64_C(0x8080808080808080)

fm_status fmi_normalize(fmi_normalizer *n, const char *in, size_t len,
                        fmi_arena *arena, char **out, size_t *out_len,
                        fm_error *err) {
  const unsigned char *s = (const unsigned char *)in;
  size_t p = 0, oi = 0;
  /* The open segment: where it starts in the input and output, whether
   * every code point in it passed the quick check, and the combining class
   * of its last kept mark. seg_in == SIZE_MAX: no segment may be extended
   * (after an emoji sequence or a slow segment). */
  size_t seg_in = SIZE_MAX, seg_out = 0;
  bool seg_ok = false;
  uint8_t last_ccc = 0;
  fm_status rc;
  char *o;

  *out = NULL;
  *out_len = 0;
  if (len > SIZE_MAX / 2 - 64 || !out_reserve(n, len + 64))
    return fmi_fail(err, FM_ENOMEM, "normalize: out of memory");
  o = n->out;

  /* Invariant at the top of the loop: out_cap >= oi + (len - p) + 16, so
   * an ASCII run (which never grows) always fits. */
  while (p < len) {
    uint32_t cp;
    size_t l;
    nentry tmp;
    const nentry *e;

    if (s[p] < 0x80) {
      size_t q = p;
      while (q + 8 <= len) {
        uint64_t x, a, z;
        memcpy(&x, s + q, 8);
        if (x & ASCII_MASK) break;
        /* Per byte: high bit of a set from 'A' up, of z from 'Z'+1 up;
         * no carries since every byte is below 0x80. */
        a = x + UINT64_C(0x3F3F3F3F3F3F3F3F);
        z = x + UINT64_C(0x2525252525252525);
        x |= ((a ^ z) & ASCII_MASK) >> 2;
        memcpy(o + oi, &x, 8);
        q += 8;
        oi += 8;
      }
      while (q < len && s[q] < 0x80) {
        unsigned c = s[q++];
        o[oi++] = (char)(c - 'A' < 26u ? c | 0x20 : c);
      }
      seg_in = q - 1;
      seg_out = oi - 1;
      seg_ok = !(s[q - 1] - (unsigned)'A' < 26u);
      last_ccc = 0;
      p = q;
      continue;
    }

    {
      /* The bulk of text in other scripts than Latin: characters that
       * stay themselves, marks in canonical order (Thai tone marks), and
       * the ASCII spaces and punctuation between words. Only the end of
       * the run is found character by character; the run is copied at
       * once. lastp: where the run's last segment starts. */
      size_t run = p, lastp = p;
      uint8_t ccc = last_ccc;
      for (;;) {
        unsigned b = s[p];
        if (b < 0x80) {
          if (b - (unsigned)'A' < 26u) break;
          lastp = p++;
          ccc = 0;
        } else if (b < 0xE0) {
          if (p + 1 >= len) break;
          cp = ((b & 0x1Fu) << 6) | (s[p + 1] & 0x3Fu);
          if (!((n->same2[cp >> 3] >> (cp & 7)) & 1u)) break;
          lastp = p;
          p += 2;
          ccc = 0;
        } else {
          const nentry *blk, *e3;
          if (b >= 0xF0 || p + 2 >= len) break;
          cp = ((b & 0x0Fu) << 12) | ((s[p + 1] & 0x3Fu) << 6) |
               (s[p + 2] & 0x3Fu);
          blk = n->blocks[cp >> 8];
          if (!blk) break;
          e3 = &blk[cp & 0xFF];
          if (e3->flags & NE_SAME) {
            lastp = p;
            ccc = 0;
          } else if ((e3->flags & NE_SAMEMARK) && p > run &&
                     (e3->ccc == 0 || e3->ccc >= ccc)) {
            ccc = e3->ccc;
          } else {
            break;
          }
          p += 3;
        }
        if (p >= len) break;
      }
      if (p > run) {
        memcpy(o + oi, s + run, p - run);
        seg_in = lastp;
        seg_out = oi + (lastp - run);
        seg_ok = true;
        last_ccc = ccc;
        oi += p - run;
        continue;
      }
    }

    if (s[p] < 0xE0 && p + 1 < len) {
      /* Text in 2-byte characters (Greek, Cyrillic, Hebrew, Arabic) with
       * single ASCII spaces and punctuation between words: one loop for
       * both, so that the switch between them costs no misprediction. */
      unsigned b = s[p];
      for (;;) {
        if (b < 0x80) {
          uint64_t x;
          if (p + 8 <= len && (memcpy(&x, s + p, 8), !(x & ASCII_MASK)))
            break; /* a long ASCII run: the 8-byte loop above */
          seg_in = p;
          seg_out = oi;
          seg_ok = !(b - (unsigned)'A' < 26u);
          last_ccc = 0;
          o[oi++] = (char)(seg_ok ? b : b | 0x20);
          p++;
        } else {
          const nentry *blk;
          if (b >= 0xE0 || p + 1 >= len) break;
          cp = ((b & 0x1Fu) << 6) | (s[p + 1] & 0x3Fu);
          blk = n->blocks[cp >> 8];
          if (!blk || oi + 32 + (len - p) > n->out_cap) break;
          e = &blk[cp & 0xFF];
          if ((e->flags & (NE_BB | NE_CACHED | NE_EP | NE_AA)) !=
              (NE_BB | NE_CACHED))
            break;
          seg_in = p;
          seg_out = oi;
          seg_ok = (e->flags & NE_QCYES) != 0;
          last_ccc = 0;
          memcpy(o + oi, e, 16);
          oi += e->len;
          p += 2;
        }
        if (p >= len) break;
        b = s[p];
      }
      if (p >= len || s[p] < 0x80) continue;
    }

    l = fmi_utf8_decode(s + p, len - p, &cp);
    e = entry(n, cp, &tmp);
    if (!e) goto nomem;
    if (oi + 32 + (len - p) > n->out_cap) {
      if (!out_reserve(n, oi + 64 + (len - p))) goto nomem;
      o = n->out;
    }

    if ((e->flags & (NE_EP | NE_QCYES)) == (NE_EP | NE_QCYES)) {
      size_t end;
      if (emoji_end(n, s, len, p, &end) != FM_OK) goto nomem;
      if (end > p) {
        memcpy(o + oi, s + p, end - p); /* never longer than the input */
        oi += end - p;
        p = end;
        seg_in = SIZE_MAX;
        continue;
      }
    }

    if (FMI_LIKELY((e->flags & (NE_BB | NE_CACHED | NE_EP | NE_AA)) ==
                   (NE_BB | NE_CACHED))) {
      /* The common case: a starter with its result cached. Copying a
       * fixed 16 bytes is cheaper than a copy of e->len; the slack is
       * there (out_cap >= oi + 32). */
      seg_in = p;
      seg_out = oi;
      seg_ok = (e->flags & NE_QCYES) != 0;
      last_ccc = 0;
      memcpy(o + oi, e, 16);
      oi += e->len;
      p += l;
      continue;
    }

    if (e->flags & NE_BB) {
      seg_in = p;
      seg_out = oi;
      seg_ok = (e->flags & NE_QCYES) != 0;
      last_ccc = 0;
      if (FMI_LIKELY(e->flags & NE_CACHED)) {
        if (FMI_UNLIKELY(e->flags & NE_AA) && merge_am(o, oi, cp)) {
          /* The merged letter belongs to the previous segment: a mark
           * after it must not rewind over it. */
          seg_in = SIZE_MAX;
          p += l;
          continue;
        }
        memcpy(o + oi, e->out, e->len);
        oi += e->len;
        p += l;
        continue;
      }
    } else if (seg_in != SIZE_MAX && seg_ok &&
               (e->flags & (NE_QCYES | NE_CACHED)) ==
                   (NE_QCYES | NE_CACHED) &&
               ((e->flags & NE_STRIP) || e->ccc == 0 || e->ccc >= last_ccc)) {
      memcpy(o + oi, e, 16);
      oi += e->len;
      if (!(e->flags & NE_STRIP)) last_ccc = e->ccc;
      p += l;
      continue;
    }

    /* Slow: redo the whole segment with ICU, up to the next boundary. */
    {
      size_t a = p, b = p + l;
      if (seg_in != SIZE_MAX) {
        a = seg_in;
        oi = seg_out;
      }
      while (b < len) {
        uint32_t c2;
        size_t l2;
        const nentry *e2;
        if (s[b] < 0x80) break; /* ASCII always has a boundary before */
        l2 = fmi_utf8_decode(s + b, len - b, &c2);
        e2 = entry(n, c2, &tmp);
        if (!e2) goto nomem;
        if (e2->flags & NE_BB) break;
        b += l2;
      }
      rc = slow_path(n, in, a, b, &oi, len - b, err);
      if (rc != FM_OK) return rc;
      o = n->out;
      p = b;
      seg_in = SIZE_MAX;
    }
  }

  *out = fmi_arena_memdup(arena, o, oi);
  if (!*out)
    return fmi_fail(err, fmi_arena_status(arena),
                    "normalize: no room for %zu bytes of normalized text", oi);
  *out_len = oi;
  return FM_OK;

nomem:
  return fmi_fail(err, FM_ENOMEM, "normalize: out of memory");
}

/* What decides the tokens a model was trained on: a different Unicode or
 * ICU version can move word boundaries and case folding. */
size_t fmi_unicode_version(char *buf, size_t cap) {
  UVersionInfo uv, iv;
  char us[U_MAX_VERSION_STRING_LENGTH], is[U_MAX_VERSION_STRING_LENGTH];
  int n;
  u_getUnicodeVersion(uv);
  u_getVersion(iv);
  u_versionToString(uv, us);
  u_versionToString(iv, is);
  n = snprintf(buf, cap, "Unicode %s, ICU %s", us, is);
  if (n < 0) n = 0;
  return (size_t)n < cap ? (size_t)n : cap ? cap - 1 : 0;
}
