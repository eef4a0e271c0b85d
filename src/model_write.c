/*
 * model_write.c -- builds a model file from counts: the derived scoring
 * index, the serialization of every section (layout in model.c), the
 * checksum, and the atomic write.
 *
 * Everything here is a pure function of (settings, counts, calibration):
 * strings are laid out in a canonical order, the hash table is filled in
 * id order, padding is zero. That is what makes training deterministic and
 * merge(train(A), train(B)) byte-identical to train(A u B).
 */
#include "model.h"
#include "lang.h"
#include "normalize.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define PRODUCER "feedmine " FEEDMINE_VERSION

/* A section being built: bytes plus a sticky failure. */
typedef struct sec {
  unsigned char *p;
  size_t len, cap;
  bool failed;
} sec;

static unsigned char *sec_grow(sec *s, size_t n) {
  size_t need;
  if (s->failed) return NULL;
  if (fmi_add_overflows(s->len, n, &need)) goto fail;
  if (need > s->cap) {
    size_t cap = s->cap ? s->cap : 256;
    unsigned char *q;
    while (cap < need) {
      if (cap > SIZE_MAX / 2) goto fail;
      cap *= 2;
    }
    q = fmi_realloc(s->p, cap);
    if (!q) goto fail;
    s->p = q;
    s->cap = cap;
  }
  s->len = need;
  return s->p + need - n;
fail:
  s->failed = true;
  return NULL;
}
static void put32(sec *s, uint32_t v) {
  unsigned char *p = sec_grow(s, 4);
  if (p) fmi_put_le32(p, v);
}
static void put64(sec *s, uint64_t v) {
  unsigned char *p = sec_grow(s, 8);
  if (p) fmi_put_le64(p, v);
}
static void putf64(sec *s, double v) {
  unsigned char *p = sec_grow(s, 8);
  if (p) fmi_put_lef64(p, v);
}
static void putvar(sec *s, uint64_t v) {
  unsigned char tmp[10];
  size_t n = fmi_varint_put(tmp, v);
  unsigned char *p = sec_grow(s, n);
  if (p) memcpy(p, tmp, n);
}
/* Appends a string to the pool section; records (offset, length). */
static void put_str(sec *pool, sec *s, const char *str, size_t n) {
  size_t off = pool->len;
  unsigned char *p;
  if (off > UINT32_MAX - n - 1) {
    pool->failed = true;
    return;
  }
  p = sec_grow(pool, n + 1);
  if (p) {
    if (n) memcpy(p, str, n);
    p[n] = 0;
  }
  put32(s, (uint32_t)off);
  put32(s, (uint32_t)n);
}

/* ---- the derived scoring index -------------------------------------------- */

void fmi_log_priors(unsigned mode, const uint64_t *docs, const double *given,
                    size_t n, double *out) {
  double given_sum = 0, rest_docs = 0;
  size_t i, n_rest = 0;
  for (i = 0; i < n; i++) {
    if (given && given[i] >= 0) {
      given_sum += given[i];
    } else {
      rest_docs += (double)docs[i];
      n_rest++;
    }
  }
  for (i = 0; i < n; i++) {
    double p;
    if (given && given[i] >= 0) {
      p = given[i];
    } else {
      double rest = given_sum < 1 ? 1 - given_sum : 0;
      if (mode == FM_PRIORS_UNIFORM || rest_docs <= 0)
        p = rest / (double)n_rest;
      else
        p = rest * (double)docs[i] / rest_docs;
    }
    /* A prior of zero would veto the label whatever the text says. */
    out[i] = log(p > 1e-12 ? p : 1e-12);
  }
}

/* The index as built: per kept feature a block of 8-byte units, a header
 * (u32 count, f32 idf) and then either (u32 class, f32 delta) per posting
 * or, for a feature seen in at least half the classes (FMI_BLOCK_DENSE in
 * the count), one f32 delta per class: common features then cost a
 * sequential pass instead of scattered updates. The slot of a feature
 * holds its vocabulary row and the unit its block starts at, so a lookup
 * touches the slot and the block and nothing else. */
typedef struct index_build {
  double *prior, *cnst; /* n_classes */
  unsigned char *slots; /* cap * 16 */
  uint64_t cap;
  uint32_t max_probe;
  uint32_t *block;      /* n_feat: first unit of the feature's block */
  unsigned char *units; /* n_units * 8, little-endian as on disk */
  size_t n_post, n_kept, n_units;
} index_build;

static void index_free(index_build *ix) {
  fmi_free(ix->prior);
  fmi_free(ix->cnst);
  fmi_free(ix->slots);
  fmi_free(ix->block);
  fmi_free(ix->units);
}

static fm_status build_index(const fmi_settings *set, const fmi_counts *c,
                             index_build *ix, fm_error *err) {
  size_t C = c->n_classes, F = c->n_feat, w, h, k, n_post = 0, n_kept = 0;
  size_t n_units = 0, u;
  uint64_t min_df = set->min_count ? set->min_count : 1;
  double *n_c = NULL, *idf = NULL, *n_wc = NULL, idf_tab[FMI_IDF_TABLE];
  size_t slot_bytes;
  memset(ix, 0, sizeof *ix);
  n_c = fmi_calloc(C ? C : 1, sizeof *n_c);
  idf = fmi_calloc(F ? F : 1, sizeof *idf);
  n_wc = fmi_calloc(C ? C : 1, sizeof *n_wc);
  ix->prior = fmi_calloc(C ? C : 1, sizeof *ix->prior);
  ix->cnst = fmi_calloc(C ? C : 1, sizeof *ix->cnst);
  ix->block = fmi_calloc(F + 1, sizeof *ix->block);
  if (!n_c || !idf || !n_wc || !ix->prior || !ix->cnst || !ix->block)
    goto nomem;
  /* Corpus statistics: idf, kept features, idf-weighted class totals. */
  fmi_idf_fill(c->n_docs, idf_tab);
  for (w = 0; w < F; w++) {
    if (c->df[w] < min_df) continue;
    n_kept++;
    idf[w] = set->tfidf ? fmi_idf_from(idf_tab, c->n_docs, c->df[w]) : 1.0;
    for (k = c->post_off[w]; k < c->post_off[w + 1]; k++)
      n_c[c->post_class[k]] += idf[w] * (double)c->post_mass[k] / FMI_MASS_ONE;
    n_post += c->post_off[w + 1] - c->post_off[w];
    n_units += 1 + fmi_block_units(c->post_off[w + 1] - c->post_off[w], C);
  }
  if (n_units > UINT32_MAX) {
    fmi_free(n_c);
    fmi_free(idf);
    fmi_free(n_wc);
    index_free(ix);
    memset(ix, 0, sizeof *ix);
    return fmi_fail(err, FM_ETOOBIG,
                    "model has %zu weights; the format holds 2^32", n_post);
  }
  for (h = 0; h < c->n_heads; h++) {
    size_t a = c->head_first[h], b = c->head_first[h + 1];
    double n_h = 0;
    for (k = a; k < b; k++) n_h += n_c[k];
    for (k = a; k < b; k++)
      ix->cnst[k] =
          fmi_nb_const(set->variant, n_c[k], n_h, set->alpha, (double)n_kept);
    fmi_log_priors(set->priors, c->class_docs + a, c->class_prior + a, b - a,
                   ix->prior + a);
  }
  ix->n_units = n_units;
  ix->units = fmi_calloc(n_units + 1, 8);
  if (!ix->units) goto nomem;
  /* Blocks: a header, then the weights of the (feature, class) pairs
   * seen, sparse in class order or dense. */
  u = 0;
  for (w = 0; w < F; w++) {
    size_t a = c->post_off[w], b = c->post_off[w + 1];
    bool dense = fmi_block_dense(b - a, C);
    unsigned char *hdr;
    ix->block[w] = (uint32_t)u;
    if (c->df[w] < min_df) continue;
    hdr = ix->units + 8 * u++;
    fmi_put_le32(hdr, (uint32_t)(b - a) | (dense ? FMI_BLOCK_DENSE : 0));
    fmi_put_lef32(hdr + 4,
                  (set->flags & FMI_SETF_IDF_QUERY) ? (float)idf[w] : 1.0f);
    for (k = a; k < b; k++) n_wc[c->post_class[k]] =
        idf[w] * (double)c->post_mass[k] / FMI_MASS_ONE;
    k = a;
    while (k < b) {
      /* The head of this run of postings, for the complement's n_w. */
      size_t cls = c->post_class[k], j = k, hh = 0;
      double n_wh = 0;
      while (hh + 1 < c->n_heads && c->head_first[hh + 1] <= cls) hh++;
      while (j < b && c->post_class[j] < c->head_first[hh + 1])
        n_wh += n_wc[c->post_class[j++]];
      for (; k < j; k++) {
        float d = (float)fmi_nb_delta(set->variant, n_wc[c->post_class[k]],
                                      n_wh, set->alpha);
        if (dense) {
          fmi_put_lef32(ix->units + 8 * u + 4 * (size_t)c->post_class[k], d);
        } else {
          fmi_put_le32(ix->units + 8 * (u + k - a), c->post_class[k]);
          fmi_put_lef32(ix->units + 8 * (u + k - a) + 4, d);
        }
      }
    }
    u += fmi_block_units(b - a, C);
  }
  ix->n_post = n_post;
  ix->n_kept = n_kept;
  /* Open addressing, linear probing, load <= 3/4, filled in id order. */
  ix->cap = 16;
  while (ix->cap * 3 < (uint64_t)n_kept * 4) ix->cap *= 2;
  if (fmi_mul_overflows((size_t)ix->cap, 16, &slot_bytes)) goto nomem;
  ix->slots = fmi_calloc((size_t)ix->cap, 16);
  if (!ix->slots) goto nomem;
  for (w = 0; w < F; w++) {
    uint64_t i, probe = 0;
    if (c->df[w] < min_df) continue;
    i = c->feat_id[w] & (ix->cap - 1);
    while (fmi_le32(ix->slots + 16 * i + 8) != 0) {
      i = (i + 1) & (ix->cap - 1);
      probe++;
    }
    if (probe > ix->max_probe) ix->max_probe = (uint32_t)probe;
    fmi_put_le64(ix->slots + 16 * i, c->feat_id[w]);
    fmi_put_le32(ix->slots + 16 * i + 8, (uint32_t)(w + 1));
    fmi_put_le32(ix->slots + 16 * i + 12, ix->block[w]);
  }
  fmi_free(n_c);
  fmi_free(idf);
  fmi_free(n_wc);
  return FM_OK;
nomem:
  fmi_free(n_c);
  fmi_free(idf);
  fmi_free(n_wc);
  index_free(ix);
  memset(ix, 0, sizeof *ix);
  return fmi_fail(err, FM_ENOMEM, "out of memory building the model index");
}

/* ---- sections ---------------------------------------------------------------- */

static void write_settings(sec *s, sec *pool, const fmi_settings *set) {
  size_t i;
  put32(s, set->pipe.stages);
  put32(s, set->pipe.char_ngram_min);
  put32(s, set->pipe.char_ngram_max);
  put32(s, set->variant);
  put64(s, (uint64_t)set->pipe.max_doc_bytes);
  putf64(s, set->alpha);
  putf64(s, set->alpha_requested);
  put32(s, set->tfidf);
  put32(s, set->sublinear);
  put32(s, set->length_norm);
  put32(s, set->min_count);
  put32(s, set->priors);
  put32(s, set->calibrate);
  put32(s, set->folds);
  put32(s, set->review);
  putf64(s, set->review_value);
  put32(s, FMI_MASS_SHIFT);
  put32(s, (uint32_t)set->n_grid);
  put64(s, set->n_docs);
  put_str(pool, s, PRODUCER, strlen(PRODUCER));
  {
    char uv[64], sn[1024];
    size_t ul = fmi_unicode_version(uv, sizeof uv);
    size_t sl = fmi_stemmer_names(sn, sizeof sn);
    put_str(pool, s, uv, ul);
    put_str(pool, s, sn, sl);
  }
  put32(s, set->flags);
  put32(s, 0);
  for (i = 0; i < set->n_grid; i++) {
    putf64(s, set->grid_alpha[i]);
    putf64(s, set->grid_score[i]);
  }
}

static void write_heads(sec *s, sec *pool, const fmi_counts *c) {
  size_t h, k;
  put32(s, (uint32_t)c->n_heads);
  put32(s, (uint32_t)c->n_classes);
  put32(s, (uint32_t)c->n_src);
  put32(s, 0);
  for (h = 0; h < c->n_heads; h++) {
    const char *name = fmi_counts_str(c, c->head_name[h]);
    put_str(pool, s, name, strlen(name));
    put32(s, (uint32_t)c->head_first[h]);
    put32(s, (uint32_t)(c->head_first[h + 1] - c->head_first[h]));
    put32(s, (uint32_t)c->src_first[h]);
    put32(s, (uint32_t)(c->src_first[h + 1] - c->src_first[h]));
    put64(s, 0);
  }
  for (k = 0; k < c->n_classes; k++) {
    const char *name = fmi_counts_str(c, c->class_name[k]);
    put_str(pool, s, name, strlen(name));
    put64(s, c->class_docs[k]);
    put64(s, c->class_mass[k]);
    putf64(s, c->class_prior[k] >= 0 ? c->class_prior[k] : -1.0);
  }
  for (k = 0; k < c->n_src; k++) {
    const char *name = fmi_counts_str(c, c->src_name[k]);
    put_str(pool, s, name, strlen(name));
  }
}

static void write_vocab(sec *s, sec *pool, const fmi_counts *c) {
  size_t w;
  put64(s, c->n_feat);
  for (w = 0; w < c->n_feat; w++) {
    put64(s, c->feat_id[w]);
    put_str(pool, s, fmi_counts_str(c, c->feat_str[w]), c->feat_len[w]);
  }
}

static void write_counts(sec *s, const fmi_counts *c) {
  size_t w, k;
  put64(s, c->n_feat);
  for (w = 0; w < c->n_feat; w++) {
    size_t a = c->post_off[w], b = c->post_off[w + 1];
    uint32_t prev = 0;
    putvar(s, c->df[w]);
    putvar(s, b - a);
    for (k = a; k < b; k++) {
      /* Classes ascend: store the gap (the first one absolute). */
      putvar(s, k == a ? c->post_class[k] : c->post_class[k] - prev - 1);
      putvar(s, c->post_mass[k]);
      prev = c->post_class[k];
    }
  }
}

static void write_index(sec *s, const fmi_counts *c, const index_build *ix) {
  size_t i;
  unsigned char *p;
  put64(s, ix->cap);
  put32(s, ix->max_probe);
  put32(s, (uint32_t)c->n_classes);
  put64(s, ix->n_post);
  put64(s, c->n_feat);
  put64(s, ix->n_kept);
  put64(s, ix->n_units);
  for (i = 0; i < c->n_classes; i++) putf64(s, ix->prior[i]);
  for (i = 0; i < c->n_classes; i++) putf64(s, ix->cnst[i]);
  p = sec_grow(s, (size_t)ix->cap * 16);
  if (p) memcpy(p, ix->slots, (size_t)ix->cap * 16);
  p = sec_grow(s, ix->n_units * 8);
  if (p) memcpy(p, ix->units, ix->n_units * 8);
}

static void write_calib(sec *s, const fmi_calib *calib, size_t n_heads) {
  size_t h;
  put32(s, (uint32_t)n_heads);
  put32(s, 0);
  for (h = 0; h < n_heads; h++) {
    fmi_calib d;
    const fmi_calib *k;
    if (!calib) fmi_calib_default(&d);
    k = calib ? &calib[h] : &d;
    put32(s, k->method);
    put32(s, k->n_items);
    putf64(s, k->temperature);
    putf64(s, k->platt_a);
    putf64(s, k->platt_b);
    putf64(s, k->threshold);
    putf64(s, k->ece_raw);
    putf64(s, k->ece_cal);
    putf64(s, k->accuracy);
    putf64(s, 0);
  }
}

/* Lays out header, table and sections; computes the checksum. */
static fm_status assemble(const uint32_t *ids, const uint32_t *flags,
                          sec *secs, size_t n, unsigned char **out,
                          size_t *out_len, fm_error *err) {
  size_t i, off = FMI_HDR_BYTES + n * FMI_SECTION_ENTRY_BYTES, total;
  size_t offs[FMI_MAX_SECTIONS];
  unsigned char *f, tail[32];
  uint64_t body;
  for (i = 0; i < n; i++) {
    if (secs[i].failed)
      return fmi_fail(err, FM_ENOMEM, "out of memory writing the model");
    off = (off + 7) & ~(size_t)7;
    offs[i] = off;
    if (fmi_add_overflows(off, secs[i].len, &off))
      return fmi_fail(err, FM_ETOOBIG, "model too large");
  }
  total = (off + 7) & ~(size_t)7;
  f = fmi_calloc(1, total);
  if (!f) return fmi_fail(err, FM_ENOMEM, "out of memory writing the model");
  memcpy(f, FMI_MAGIC, FMI_MAGIC_BYTES);
  fmi_put_le16(f + FMI_HDR_MAJOR, FMI_MODEL_FORMAT_MAJOR);
  fmi_put_le16(f + FMI_HDR_MINOR, FMI_MODEL_FORMAT_MINOR);
  fmi_put_le32(f + FMI_HDR_HDRBYTES, FMI_HDR_BYTES);
  fmi_put_le64(f + FMI_HDR_FILESIZE, total);
  fmi_put_le32(f + FMI_HDR_NSECTIONS, (uint32_t)n);
  fmi_put_le64(f + FMI_HDR_TABLE, FMI_HDR_BYTES);
  for (i = 0; i < n; i++) {
    unsigned char *e = f + FMI_HDR_BYTES + i * FMI_SECTION_ENTRY_BYTES;
    fmi_put_le32(e, ids[i]);
    fmi_put_le32(e + 4, flags[i]);
    fmi_put_le64(e + 8, offs[i]);
    fmi_put_le64(e + 16, secs[i].len);
    if (secs[i].len) memcpy(f + offs[i], secs[i].p, secs[i].len);
  }
  /* The checksum covers the header before it (so a flipped version or
   * size byte is caught too) and everything after it. */
  body = fmi_hash64(f + 32, total - 32);
  memcpy(tail, f, 24);
  fmi_put_le64(tail + 24, body);
  fmi_put_le64(f + FMI_HDR_CHECKSUM, fmi_hash64(tail, 32));
  *out = f;
  *out_len = total;
  return FM_OK;
}

uint64_t fmi_model_checksum(const unsigned char *f, size_t len) {
  unsigned char tail[32];
  memcpy(tail, f, 24);
  fmi_put_le64(tail + 24, fmi_hash64(f + 32, len - 32));
  return fmi_hash64(tail, 32);
}

fm_status fmi_model_build(const fmi_settings *set, const fmi_counts *c,
                          const fmi_calib *calib, unsigned char **out,
                          size_t *out_len, fm_error *err) {
  enum { N = 7 };
  static const uint32_t ids[N] = {FMI_SEC_STRINGS, FMI_SEC_SETTINGS,
                                  FMI_SEC_HEADS,   FMI_SEC_VOCAB,
                                  FMI_SEC_COUNTS,  FMI_SEC_INDEX,
                                  FMI_SEC_CALIB};
  static const uint32_t flags[N] = {FMI_SECF_REQUIRED, FMI_SECF_REQUIRED,
                                    FMI_SECF_REQUIRED, FMI_SECF_REQUIRED,
                                    FMI_SECF_REQUIRED, FMI_SECF_REQUIRED,
                                    0};
  sec secs[N];
  index_build ix;
  fm_status st;
  size_t i;
  *out = NULL;
  *out_len = 0;
  memset(secs, 0, sizeof secs);
  if (c->n_classes > UINT32_MAX || c->n_heads > UINT32_MAX)
    return fmi_fail(err, FM_ETOOBIG, "too many labels");
  st = build_index(set, c, &ix, err);
  if (st != FM_OK) return st;
  write_settings(&secs[1], &secs[0], set);
  write_heads(&secs[2], &secs[0], c);
  write_vocab(&secs[3], &secs[0], c);
  write_counts(&secs[4], c);
  write_index(&secs[5], c, &ix);
  write_calib(&secs[6], calib, c->n_heads);
  index_free(&ix);
  if (secs[0].failed && secs[0].len > UINT32_MAX - 4096)
    st = fmi_fail(err, FM_ETOOBIG, "model strings over 4 GiB");
  else
    st = assemble(ids, flags, secs, N, out, out_len, err);
  for (i = 0; i < N; i++) fmi_free(secs[i].p);
  return st;
}

fm_status fmi_model_recalibrate(const fm_model *m, const fmi_calib *calib,
                                unsigned char **out, size_t *out_len,
                                fm_error *err) {
  sec secs[FMI_MAX_SECTIONS];
  uint32_t ids[FMI_MAX_SECTIONS], flags[FMI_MAX_SECTIONS];
  size_t i, n = 0;
  bool done = false;
  fm_status st;
  memset(secs, 0, sizeof secs);
  for (i = 0; i < m->n_sections; i++) {
    ids[n] = m->sec_id[i];
    flags[n] = m->sec_flags[i];
    if (m->sec_id[i] == FMI_SEC_CALIB) {
      write_calib(&secs[n], calib, m->n_heads);
      done = true;
    } else {
      unsigned char *p = sec_grow(&secs[n], (size_t)m->sec_len[i]);
      if (p) memcpy(p, m->base + m->sec_off[i], (size_t)m->sec_len[i]);
    }
    n++;
  }
  if (!done) {
    /* Sections stay sorted by id: calibration has the highest known id,
     * but unknown optional sections of a newer minor may follow it. */
    size_t at = n;
    while (at > 0 && ids[at - 1] > FMI_SEC_CALIB) at--;
    if (n >= FMI_MAX_SECTIONS) return fmi_fail(err, FM_EMODEL, "too many sections");
    memmove(&secs[at + 1], &secs[at], (n - at) * sizeof secs[0]);
    memmove(&ids[at + 1], &ids[at], (n - at) * sizeof ids[0]);
    memmove(&flags[at + 1], &flags[at], (n - at) * sizeof flags[0]);
    memset(&secs[at], 0, sizeof secs[0]);
    ids[at] = FMI_SEC_CALIB;
    flags[at] = 0;
    write_calib(&secs[at], calib, m->n_heads);
    n++;
  }
  st = assemble(ids, flags, secs, n, out, out_len, err);
  for (i = 0; i < n; i++) fmi_free(secs[i].p);
  return st;
}

/* Writes all of data to fd; false with errno set on failure. */
static bool write_all_fd(int fd, const unsigned char *p, size_t len) {
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    len -= (size_t)w;
  }
  return true;
}

fm_status fmi_write_file_atomic(const char *path, const void *data,
                                size_t len, fm_error *err) {
  size_t n = strlen(path);
  char *tmp;
  struct stat sb;
  int fd;
  /* A device or a pipe (/dev/null, a FIFO) is written as it is: a
   * temporary renamed over it would replace the device with a file. */
  if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode)) {
    bool ok;
    fd = open(path, O_WRONLY);
    ok = fd >= 0 && write_all_fd(fd, data, len);
    if (fd >= 0 && close(fd) != 0) ok = false;
    if (!ok)
      return fmi_fail(err, FM_EIO, "cannot write %s: %s", path,
                      strerror(errno));
    return FM_OK;
  }
  tmp = fmi_malloc(n + 16);
  if (!tmp) return fmi_fail(err, FM_ENOMEM, "out of memory");
  memcpy(tmp, path, n);
  memcpy(tmp + n, ".tmp.XXXXXX", 12);
  fd = mkstemp(tmp);
  if (fd < 0) {
    fm_status st = fmi_fail(err, FM_EIO, "cannot create %s: %s", tmp,
                            strerror(errno));
    fmi_free(tmp);
    return st;
  }
  if (!write_all_fd(fd, data, len)) goto fail;
  /* mkstemp makes the file 0600; a model is not secret. */
  (void)fchmod(fd, 0644);
  if (fsync(fd) != 0) goto fail;
  if (close(fd) != 0) {
    fd = -1;
    goto fail;
  }
  fd = -1;
  if (rename(tmp, path) != 0) goto fail;
  fmi_free(tmp);
  return FM_OK;
fail:
  {
    fm_status st =
        fmi_fail(err, FM_EIO, "cannot write %s: %s", path, strerror(errno));
    if (fd >= 0) close(fd);
    unlink(tmp);
    fmi_free(tmp);
    return st;
  }
}
