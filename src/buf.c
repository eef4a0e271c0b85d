/*
 * buf.c -- growable byte buffer and per-document arena.
 */
#include "internal.h"

#include <stdio.h>

fm_status fmi_buf_reserve(fmi_buf *b, size_t extra) {
  size_t need, cap;
  char *p;
  if (fmi_add_overflows(b->len, extra, &need) ||
      fmi_add_overflows(need, 1, &need))
    return FM_ENOMEM;
  if (need <= b->cap) return FM_OK;
  cap = b->cap ? b->cap : 64;
  while (cap < need) {
    if (cap > SIZE_MAX / 2) { cap = need; break; }
    cap *= 2;
  }
  p = fmi_realloc(b->data, cap);
  if (!p) return FM_ENOMEM;
  b->data = p;
  b->cap = cap;
  return FM_OK;
}

fm_status fmi_buf_append(fmi_buf *b, const void *p, size_t n) {
  if (fmi_buf_reserve(b, n) != FM_OK) return FM_ENOMEM;
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = 0;
  return FM_OK;
}

fm_status fmi_buf_putc(fmi_buf *b, char c) { return fmi_buf_append(b, &c, 1); }

fm_status fmi_buf_printf(fmi_buf *b, const char *fmt, ...) {
  va_list ap;
  int n;
  char small[256];
  va_start(ap, fmt);
  n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) return FM_EINVAL;
  if ((size_t)n < sizeof small) return fmi_buf_append(b, small, (size_t)n);
  if (fmi_buf_reserve(b, (size_t)n) != FM_OK) return FM_ENOMEM;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return FM_OK;
}

void fmi_buf_free(fmi_buf *b) {
  fmi_free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

/* ---- arena ---------------------------------------------------------------
 * Chunks form a list, newest first. A reset keeps only the largest chunk so
 * the next document of similar size needs no malloc at all. */
struct fmi_arena_chunk {
  fmi_arena_chunk *next;
  size_t size, used;
  /* data follows, 8-byte aligned by the header's size */
  max_align_t data[];
};

#define ARENA_MIN_CHUNK ((size_t)16 << 10)

void fmi_arena_init(fmi_arena *a, size_t cap) {
  a->head = NULL;
  a->used_total = 0;
  a->cap = cap;
  a->over_cap = false;
}

void *fmi_arena_alloc(fmi_arena *a, size_t n) {
  fmi_arena_chunk *c = a->head;
  size_t need = (n + 7u) & ~(size_t)7u;
  void *p;
  if (need < n) { a->over_cap = false; return NULL; }
  if (a->cap && (need > a->cap || a->used_total > a->cap - need)) {
    a->over_cap = true;
    return NULL;
  }
  if (!c || c->size - c->used < need) {
    size_t size = c ? c->size * 2 : ARENA_MIN_CHUNK, total;
    if (size < need) size = need;
    if (fmi_add_overflows(size, sizeof(fmi_arena_chunk), &total)) {
      a->over_cap = false;
      return NULL;
    }
    c = fmi_malloc(total);
    if (!c) { a->over_cap = false; return NULL; }
    c->size = size;
    c->used = 0;
    c->next = a->head;
    a->head = c;
  }
  p = (char *)c->data + c->used;
  c->used += need;
  a->used_total += need;
  return p;
}

void *fmi_arena_memdup(fmi_arena *a, const void *p, size_t n) {
  char *d;
  if (n == SIZE_MAX) return NULL;
  d = fmi_arena_alloc(a, n + 1);
  if (!d) return NULL;
  if (n) memcpy(d, p, n);
  d[n] = 0;
  return d;
}

void fmi_arena_reset(fmi_arena *a) {
  fmi_arena_chunk *c = a->head, *keep = NULL, *next;
  for (; c; c = next) {
    next = c->next;
    if (!keep || c->size > keep->size) {
      if (keep) fmi_free(keep);
      keep = c;
    } else {
      fmi_free(c);
    }
  }
  if (keep) {
    keep->used = 0;
    keep->next = NULL;
  }
  a->head = keep;
  a->used_total = 0;
  a->over_cap = false;
}

void fmi_arena_free(fmi_arena *a) {
  fmi_arena_chunk *c = a->head, *next;
  for (; c; c = next) {
    next = c->next;
    fmi_free(c);
  }
  a->head = NULL;
  a->used_total = 0;
}
