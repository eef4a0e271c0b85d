/*
 * utf8.c -- UTF-8 repair. Customer text arrives as any bytes; everything
 * after this step may assume valid UTF-8 without NUL.
 */
#include "internal.h"

size_t fmi_utf8_encode(uint32_t cp, char *out) {
  unsigned char *o = (unsigned char *)out;
  if (cp < 0x80) { o[0] = (unsigned char)cp; return 1; }
  if (cp < 0x800) {
    o[0] = (unsigned char)(0xC0 | (cp >> 6));
    o[1] = (unsigned char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (unsigned char)(0xE0 | (cp >> 12));
    o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (unsigned char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (unsigned char)(0xF0 | (cp >> 18));
  o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (unsigned char)(0x80 | (cp & 0x3F));
  return 4;
}

/* Length of the valid sequence at s, or 0 with *bad = bytes of the maximal
 * invalid subpart (at least 1), following Unicode's "U+FFFD substitution of
 * maximal subparts" (Table 3-7 of the standard): overlongs, surrogates and
 * values past U+10FFFF are refused at the byte where they become certain. */
static size_t valid_len(const unsigned char *s, size_t n, size_t *bad) {
  unsigned c = s[0];
  unsigned lo = 0x80, hi = 0xBF;
  size_t need, i;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) need = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    need = 3;
    if (c == 0xE0) lo = 0xA0;       /* overlong */
    else if (c == 0xED) hi = 0x9F;  /* surrogates */
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 4;
    if (c == 0xF0) lo = 0x90;       /* overlong */
    else if (c == 0xF4) hi = 0x8F;  /* > U+10FFFF */
  } else {
    *bad = 1;
    return 0;
  }
  for (i = 1; i < need; i++) {
    unsigned b;
    if (i >= n) { *bad = i; return 0; }
    b = s[i];
    if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) {
      *bad = i;
      return 0;
    }
  }
  return need;
}

size_t fmi_utf8_sanitize(const char *in, size_t n, char *out,
                         size_t *out_len) {
  const unsigned char *s = (const unsigned char *)in;
  size_t i = 0, o = 0, repl = 0;
  while (i < n) {
    unsigned c = s[i];
    if (c < 0x80) {
      /* ASCII, the common case: eight bytes at a time while none is NUL
       * or past 0x7F, then byte by byte */
      while (n - i >= 8) {
        uint64_t v;
        memcpy(&v, s + i, 8);
        if ((v | ((v - 0x0101010101010101ull) & ~v)) &
            0x8080808080808080ull)
          break;
        memcpy(out + o, &v, 8);
        i += 8;
        o += 8;
      }
      /* what stopped it (a NUL, another sequence, the end) is handled
       * below, as after the two-byte run */
    }
    /* eight bytes of two-byte letters (Greek, Cyrillic, Hebrew, Arabic)
     * and ASCII at a time, while they hold no NUL and no other sequence
     * and every sequence ends inside them */
    while (n - i >= 8) {
      uint64_t v = fmi_le64(s + i), lead, cont, last;
      const uint64_t H = 0x8080808080808080ull;
      size_t k;
      cont = v & ~(v << 1) & H;            /* 10xxxxxx */
      lead = v & (v << 1) & ~(v << 2) & H; /* 110xxxxx */
      /* a lead in the last byte: the block is the seven before it (else
       * text with an odd number of bytes before its letters would never
       * fit a block) */
      last = lead & 0x8000000000000000ull;
      lead ^= last;
      if ((v & (v << 1) & (v << 2) & H) || /* 111xxxxx */
          ((v - 0x0101010101010101ull) & ~v & H) || /* a NUL */
          (lead << 8) != cont ||
          /* C0 and C1 (overlong): 1100000x */
          (((v & 0x1E1E1E1E1E1E1E1Eull) + 0x7F7F7F7F7F7F7F7Full) & lead) !=
              lead)
        break;
      /* all eight written (out has room), the last again next time */
      memcpy(out + o, s + i, 8);
      k = last ? 7 : 8;
      i += k;
      o += k;
    }
    if (i == n) break;
    c = s[i];
    if (c < 0x80) {
      out[o++] = c ? (char)c : ' ';
      i++;
      continue;
    }
    /* two-byte letters (Latin accents, Greek, Cyrillic, Hebrew, Arabic) */
    if (c >= 0xC2 && c <= 0xDF && n - i >= 2 && (s[i + 1] & 0xC0u) == 0x80u) {
      out[o++] = (char)c;
      out[o++] = (char)s[i + 1];
      i += 2;
      continue;
    }
    /* three-byte letters (Thai, CJK, Devanagari, U+2019 ...): not an
     * overlong (E0 80-9F) nor a surrogate (ED A0-BF) */
    if (c >= 0xE0 && c <= 0xEF && n - i >= 3 &&
        (s[i + 1] & 0xC0u) == 0x80u && (s[i + 2] & 0xC0u) == 0x80u &&
        (c != 0xE0 || s[i + 1] >= 0xA0) && (c != 0xED || s[i + 1] <= 0x9F)) {
      out[o++] = (char)c;
      out[o++] = (char)s[i + 1];
      out[o++] = (char)s[i + 2];
      i += 3;
      continue;
    }
    {
      size_t bad = 0, k = valid_len(s + i, n - i, &bad);
      if (k) {
        memcpy(out + o, s + i, k);
        o += k;
        i += k;
      } else {
        out[o++] = (char)0xEF;
        out[o++] = (char)0xBF;
        out[o++] = (char)0xBD;
        repl++;
        i += bad;
      }
    }
  }
  out[o] = 0;
  *out_len = o;
  return repl;
}
