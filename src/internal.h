/*
 * internal.h -- what the library's files share and the public header does
 * not show. Names here are fmi_*; everything else in a .c file is static.
 *
 * Each dependency stays behind one seam: ICU only in normalize.c and
 * segment.c, PCRE2 only in redact.c, libstemmer only in stem.c, SQLite only
 * in store.c, libcsv/jansson only in the readers and writers. Module
 * interfaces live in src/<module>.h.
 */
#ifndef FM_INTERNAL_H
#define FM_INTERNAL_H

#include "feedmine.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* FMI_PREFETCH(p, rw, locality): a hint for loops bound by random reads
 * of large tables (rw 1 when the line is about to be written; locality 0
 * to 3 as GCC's); nothing where the compiler has no such builtin. */
#if defined(__GNUC__)
#define FMI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define FMI_LIKELY(x) __builtin_expect(!!(x), 1)
#define FMI_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define FMI_PREFETCH(p, rw, locality) __builtin_prefetch((p), (rw), (locality))
#else
#define FMI_PRINTF(a, b)
#define FMI_LIKELY(x) (x)
#define FMI_UNLIKELY(x) (x)
#define FMI_PREFETCH(p, rw, locality) ((void)(p))
#endif

/* ---- allocation -------------------------------------------------------
 * Every allocation of the library goes through these, so the test build
 * (FMI_FAULT_INJECTION) can fail the k-th one and prove that each failure
 * returns FM_ENOMEM with nothing leaked. Sizes are checked for overflow by
 * the callers with fmi_mul_overflows(). */
void *fmi_malloc(size_t n);
void *fmi_calloc(size_t count, size_t n);
void *fmi_realloc(void *p, size_t n);
void fmi_free(void *p);
char *fmi_strndup(const char *s, size_t n);

static inline bool fmi_mul_overflows(size_t a, size_t b, size_t *out) {
  return __builtin_mul_overflow(a, b, out);
}
static inline bool fmi_add_overflows(size_t a, size_t b, size_t *out) {
  return __builtin_add_overflow(a, b, out);
}

#ifdef FMI_FAULT_INJECTION
/* Test hooks (only in the fault-injection build of the static library):
 * fail every allocation after `n` more succeed; -1 switches failures off.
 * Returns how many allocations were made since the last call. Not thread
 * safe; tests use it from one thread. */
void fmi_fault_fail_after(long n);
long fmi_fault_alloc_count(void);
#endif

/* ---- errors ------------------------------------------------------------ */
/* Fills `err` (may be NULL) and returns `code`. */
fm_status fmi_fail(fm_error *err, fm_status code, const char *fmt, ...)
    FMI_PRINTF(3, 4);
fm_status fmi_fail_at(fm_error *err, fm_status code, uint64_t line,
                      uint64_t column, const char *fmt, ...)
    FMI_PRINTF(5, 6);
/* Sets err to FM_OK with an empty message. */
void fmi_ok(fm_error *err);

/* ---- growable byte buffer ---------------------------------------------
 * Invariant: data is NUL-terminated whenever len > 0 or cap > 0. */
typedef struct fmi_buf {
  char *data;
  size_t len, cap;
} fmi_buf;

fm_status fmi_buf_reserve(fmi_buf *b, size_t extra);
fm_status fmi_buf_append(fmi_buf *b, const void *p, size_t n);
fm_status fmi_buf_putc(fmi_buf *b, char c);
fm_status fmi_buf_printf(fmi_buf *b, const char *fmt, ...) FMI_PRINTF(2, 3);
void fmi_buf_free(fmi_buf *b);
static inline void fmi_buf_clear(fmi_buf *b) {
  b->len = 0;
  if (b->data) b->data[0] = 0;
}

/* ---- arena ------------------------------------------------------------
 * A bump allocator for per-document data (tokens, normalized text, stems,
 * features), reset between documents. Memory is kept across resets up to
 * `keep` bytes so steady-state tagging does not call malloc. A cap bounds
 * what one document may take: past it fmi_arena_alloc returns NULL and the
 * caller reports FM_ETOOBIG (fmi_arena_over_cap tells it from ENOMEM). */
typedef struct fmi_arena_chunk fmi_arena_chunk;
typedef struct fmi_arena {
  fmi_arena_chunk *head; /* current chunk; older ones follow */
  size_t used_total;     /* bytes handed out since the last reset */
  size_t cap;            /* 0 = no cap */
  bool over_cap;         /* the last failure was the cap, not malloc */
} fmi_arena;

void fmi_arena_init(fmi_arena *a, size_t cap);
/* 8-byte aligned; NULL on failure (see over_cap). */
void *fmi_arena_alloc(fmi_arena *a, size_t n);
void *fmi_arena_memdup(fmi_arena *a, const void *p, size_t n); /* +NUL */
void fmi_arena_reset(fmi_arena *a);
void fmi_arena_free(fmi_arena *a);
static inline fm_status fmi_arena_status(const fmi_arena *a) {
  return a->over_cap ? FM_ETOOBIG : FM_ENOMEM;
}

/* ---- little-endian decoding (model files are untrusted bytes) --------- */
static inline uint16_t fmi_le16(const unsigned char *p) {
  return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t fmi_le32(const unsigned char *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
         ((uint32_t)p[3] << 24);
}
static inline uint64_t fmi_le64(const unsigned char *p) {
  return (uint64_t)fmi_le32(p) | ((uint64_t)fmi_le32(p + 4) << 32);
}
static inline void fmi_put_le16(unsigned char *p, uint16_t v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
}
static inline void fmi_put_le32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
  p[2] = (unsigned char)(v >> 16);
  p[3] = (unsigned char)(v >> 24);
}
static inline void fmi_put_le64(unsigned char *p, uint64_t v) {
  fmi_put_le32(p, (uint32_t)v);
  fmi_put_le32(p + 4, (uint32_t)(v >> 32));
}

/* ---- hashing (xxHash XXH3, stable across machines) -------------------- */
uint64_t fmi_hash64(const void *p, size_t n);

/* ---- C-locale number formatting (byte-stable output) ------------------
 * Formats `v` with `digits` decimals, '.' as separator, no locale; "-0"
 * never appears. Returns the length written (always NUL-terminated;
 * cap >= 32 is enough for any finite value with digits <= 6). */
size_t fmi_fmt_double(char *out, size_t cap, double v, int digits);

/* ---- UTF-8 ------------------------------------------------------------ */
/* Decodes one code point of valid UTF-8 at s (n > 0 bytes left); returns
 * its length. Only for text already checked by fmi_utf8_sanitize. */
static inline size_t fmi_utf8_decode(const unsigned char *s, size_t n,
                                     uint32_t *cp) {
  unsigned c = s[0];
  if (c < 0x80 || n < 2) { *cp = c; return 1; }
  if (c < 0xE0) { *cp = ((c & 0x1Fu) << 6) | (s[1] & 0x3Fu); return 2; }
  if (c < 0xF0 || n < 4) {
    if (n < 3) { *cp = 0xFFFD; return n; }
    *cp = ((c & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu);
    return 3;
  }
  *cp = ((c & 0x07u) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) |
        (s[3] & 0x3Fu);
  return 4;
}
/* Encodes cp (a valid scalar value) into out (>= 4 bytes); returns length. */
size_t fmi_utf8_encode(uint32_t cp, char *out);

/* Copies `in` to `out` (capacity >= 3 * n + 1) as valid UTF-8: every
 * invalid, overlong, surrogate or truncated sequence becomes U+FFFD (one
 * per maximal invalid subpart, as Unicode recommends), NUL becomes a space.
 * Returns the number of replacements; *out_len gets the output length. */
size_t fmi_utf8_sanitize(const char *in, size_t n, char *out,
                         size_t *out_len);

#endif /* FM_INTERNAL_H */
