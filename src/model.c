/*
 * model.c -- opening a model file: mmap, validation, accessors.
 *
 * The file is untrusted input. Layout (all integers little-endian, every
 * section 8-byte aligned, no pointers or size_t on disk):
 *
 *   header, 64 bytes
 *     0  magic "\x89FMM\r\n\x1a\n"
 *     8  u16 format major, u16 minor     12 u32 header bytes (64)
 *     16 u64 file size                   24 u64 checksum
 *     32 u32 section count               36 u32 zero
 *     40 u64 section table offset (64)   48 16 zero bytes
 *   section table: per section { u32 id, u32 flags, u64 offset, u64 length },
 *     ids strictly increasing, sections in the same order, not overlapping
 *   STRINGS   NUL-terminated strings; others refer to them by (u32 offset,
 *             u32 length)
 *   SETTINGS  pipeline options, training options, alpha (used and
 *             requested), document count, producer, alpha grid
 *   HEADS     heads (name, class range, source range), classes (name,
 *             documents, mass, given prior), sources
 *   VOCAB     u64 n, then per feature (ascending id) { u64 id, u32 string
 *             offset, u32 length }
 *   COUNTS    u64 n, then per feature varints: df, postings, and per
 *             posting the class gap and the mass (fixed point, 2^16)
 *   INDEX     derived at write time from the counts: u64 capacity, u32 max
 *             probe, u32 classes, u64 postings, u64 rows, u64 kept, u64
 *             units; f64 prior and f64 constant per class; open-addressing
 *             slots { u64 id, u32 row + 1 (0 empty), u32 block }; blocks
 *             of 8-byte units, one per kept feature: { u32 n, f32 idf }
 *             then n postings { u32 class, f32 delta } or, when dense, one
 *             f32 delta per class (model.h, FMI_BLOCK_DENSE)
 *   CALIB     (optional) per head: method, temperature, Platt a and b,
 *             review threshold, held-out diagnostics
 *
 * The checksum is XXH3-64 over the header's first 24 bytes followed by
 * the XXH3-64 of bytes 32..end, so every byte but the checksum itself is
 * covered. Open costs one pass for the checksum and O(labels) decoding;
 * per-feature data (slots, postings, vocabulary, counts) is checked where
 * it is used, so a crafted file whose checksum matches still cannot make a
 * read go out of bounds.
 */
#include "model.h"
#include "pipeline.h"

#ifdef FM_HAVE_XXH3_DISPATCH
#define XXH_DISPATCH_DISABLE_REPLACE
#include <xxh_x86dispatch.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- settings <-> options ------------------------------------------------- */

fm_status fmi_settings_from_opts(const fm_train_opts *opts, fmi_settings *s,
                                 fm_error *err) {
  fm_train_opts o = FM_TRAIN_OPTS_INIT;
  fm_status st;
  if (opts) {
    if (opts->size < sizeof(size_t) || opts->size > sizeof o)
      return fmi_fail(err, FM_EINVAL,
                      "fm_train_opts.size is %zu, expected %zu", opts->size,
                      sizeof o);
    /* Fields past an older caller's size keep their defaults. */
    memcpy(&o, opts, opts->size);
  }
  memset(s, 0, sizeof *s);
  st = fmi_pipeline_opts_resolve(&o.pipeline, &s->pipe, err);
  if (st != FM_OK) return st;
  if (o.variant != FM_NB_MULTINOMIAL && o.variant != FM_NB_COMPLEMENT &&
      o.variant != FM_NB_AUTO)
    return fmi_fail(err, FM_EINVAL, "unknown naive Bayes variant %d",
                    (int)o.variant);
  if (!(o.alpha < 0) && !(o.alpha > 0 && o.alpha <= 1e6))
    return fmi_fail(err, FM_EINVAL,
                    "alpha must be > 0 (or negative for auto)");
  if (o.priors != FM_PRIORS_LEARNED && o.priors != FM_PRIORS_UNIFORM &&
      o.priors != FM_PRIORS_AUTO)
    return fmi_fail(err, FM_EINVAL, "unknown priors mode %d", (int)o.priors);
  if (o.review != FM_REVIEW_TARGET_ACCURACY && o.review != FM_REVIEW_FIXED)
    return fmi_fail(err, FM_EINVAL, "unknown review policy %d",
                    (int)o.review);
  if (o.folds == 0) o.folds = 5;
  if (o.folds < 2 || o.folds > 100)
    return fmi_fail(err, FM_EINVAL, "folds must be 2..100, not %u", o.folds);
  if (!(o.review_value > 0))
    o.review_value = o.review == FM_REVIEW_FIXED ? 0.5 : 0.9;
  if (o.review_value > 1)
    return fmi_fail(err, FM_EINVAL, "review value %g is over 1",
                    o.review_value);
  /* auto: multinomial and learned priors until cross-validation chooses */
  s->variant = o.variant == FM_NB_AUTO ? FM_NB_MULTINOMIAL : (unsigned)o.variant;
  s->alpha_requested = o.alpha < 0 ? -1.0 : o.alpha;
  s->alpha = o.alpha < 0 ? 0.1 : o.alpha;
  s->tfidf = o.tfidf ? 1 : 0;
  s->sublinear = o.sublinear_tf ? 1 : 0;
  s->length_norm = o.length_norm ? 1 : 0;
  s->min_count = o.min_count;
  s->priors = o.priors == FM_PRIORS_AUTO ? FM_PRIORS_LEARNED : (unsigned)o.priors;
  s->calibrate = o.calibrate ? 1 : 0;
  s->folds = o.folds;
  s->review = (unsigned)o.review;
  s->review_value = o.review_value;
  /* idf weights the class counts only, not the tagged document: on
   * banking77 (5-fold CV) weighting both sides lost 0.7 points. */
  s->flags = FMI_SETF_SPLIT_NORM;
  /* The variant and priors are chosen with alpha: with a fixed alpha,
   * auto means multinomial and learned priors, so a model trained with a
   * fixed alpha and no calibration stays a pure function of its counts
   * (shards merge to the same bytes as training on everything). */
  if (o.variant == FM_NB_AUTO && o.alpha < 0)
    s->flags |= FMI_SETF_VARIANT_AUTO;
  if (o.priors == FM_PRIORS_AUTO && o.alpha < 0)
    s->flags |= FMI_SETF_PRIORS_AUTO;
  return FM_OK;
}

void fmi_settings_to_opts(const fmi_settings *s, fm_train_opts *out) {
  fm_train_opts o = FM_TRAIN_OPTS_INIT;
  o.pipeline = s->pipe;
  o.variant = (s->flags & FMI_SETF_VARIANT_AUTO) ? FM_NB_AUTO
                                                 : (fm_nb_variant)s->variant;
  o.alpha = s->alpha_requested;
  o.tfidf = (int)s->tfidf;
  o.sublinear_tf = (int)s->sublinear;
  o.length_norm = (int)s->length_norm;
  o.min_count = s->min_count;
  o.priors = (s->flags & FMI_SETF_PRIORS_AUTO) ? FM_PRIORS_AUTO
                                              : (fm_priors)s->priors;
  o.calibrate = (int)s->calibrate;
  o.folds = s->folds;
  o.review = (fm_review_policy)s->review;
  o.review_value = s->review_value;
  *out = o;
}

fm_status fmi_settings_compatible(const fmi_settings *a,
                                  const fmi_settings *b, fm_error *err) {
#define DIFF(field, what)                                                   \
  if (a->field != b->field)                                                 \
    return fmi_fail(err, FM_EMISMATCH, "models differ in %s", what)
  DIFF(pipe.stages, "pipeline stages");
  DIFF(pipe.char_ngram_min, "character n-gram range");
  DIFF(pipe.char_ngram_max, "character n-gram range");
  DIFF(pipe.max_doc_bytes, "maximum document size");
  /* A variant or priors mode chosen by cross-validation may differ
   * between shards like alpha may: the merge takes the best-informed
   * model's (merge.c). */
  if (!((a->flags | b->flags) & FMI_SETF_VARIANT_AUTO))
    DIFF(variant, "naive Bayes variant");
  DIFF(tfidf, "TF-IDF");
  DIFF(sublinear, "sublinear tf");
  DIFF(length_norm, "length normalization");
  DIFF(min_count, "minimum feature count");
  if (!((a->flags | b->flags) & FMI_SETF_PRIORS_AUTO)) DIFF(priors, "priors");
#undef DIFF
  if ((a->flags & ~FMI_SETF_CHOICE_BITS) != (b->flags & ~FMI_SETF_CHOICE_BITS))
    return fmi_fail(err, FM_EMISMATCH, "models differ in %s", "scoring flags");
  return FM_OK;
}

/* ---- validation helpers ----------------------------------------------------- */

/* fmi_model_checksum, the same value, with the pass over the whole file
 * through libxxhash's run-time dispatch (AVX2/AVX-512 where the CPU has
 * them) when it was built with it: XXH3's vector code selected at build
 * time is SSE2 here, and on an 88 MB model that pass is most of the open
 * (7.8 -> 4.5 ms on this machine's AMD EPYC). Model files are written
 * by model_write.c with the portable path: the hash is the same. */
static uint64_t open_checksum(const unsigned char *f, size_t len) {
#ifdef FM_HAVE_XXH3_DISPATCH
  unsigned char tail[32];
  memcpy(tail, f, 24);
  fmi_put_le64(tail + 24, (uint64_t)XXH3_64bits_dispatch(f + 32, len - 32));
  return fmi_hash64(tail, 32);
#else
  return fmi_model_checksum(f, len);
#endif
}

static fm_status bad(fm_error *err, const char *what) {
  return fmi_fail(err, FM_EMODEL, "corrupt model: %s", what);
}

/* A string reference (offset, length) into the pool, checked. */
static const char *pool_str(const fm_model *m, const unsigned char *ref) {
  uint64_t off = fmi_le32(ref), len = fmi_le32(ref + 4);
  if (off + len >= m->pool_len || m->pool[off + len] != 0) return NULL;
  return (const char *)m->pool + off;
}

const char *fmi_model_feature_text(const fm_model *m, size_t row) {
  if (row >= m->n_vocab) return NULL;
  return pool_str(m, m->vocab + 8 + FMI_VOCAB_REC_BYTES * row + 8);
}

static void model_free_parts(fm_model *m) {
  fmi_free(m->head_names);
  fmi_free(m->head_first);
  fmi_free(m->src_first);
  fmi_free(m->src_names);
  fmi_free(m->class_names);
  fmi_free(m->class_docs);
  fmi_free(m->class_mass);
  fmi_free(m->class_prior);
  fmi_free(m->head_docs);
  fmi_free(m->calib);
  fmi_free(m->prior);
  fmi_free(m->cnst);
}

static fm_status parse_settings(fm_model *m, const unsigned char *p,
                                size_t len, fm_error *err) {
  fmi_settings *s = &m->set;
  size_t i;
  if (len < FMI_SETTINGS_BYTES) return bad(err, "settings section too short");
  memset(s, 0, sizeof *s);
  s->pipe.size = sizeof s->pipe;
  s->pipe.stages = fmi_le32(p);
  s->pipe.char_ngram_min = fmi_le32(p + 4);
  s->pipe.char_ngram_max = fmi_le32(p + 8);
  s->variant = fmi_le32(p + 12);
  s->pipe.max_doc_bytes = (size_t)fmi_le64(p + 16);
  s->alpha = fmi_lef64(p + 24);
  s->alpha_requested = fmi_lef64(p + 32);
  s->tfidf = fmi_le32(p + 40);
  s->sublinear = fmi_le32(p + 44);
  s->length_norm = fmi_le32(p + 48);
  s->min_count = fmi_le32(p + 52);
  s->priors = fmi_le32(p + 56);
  s->calibrate = fmi_le32(p + 60);
  s->folds = fmi_le32(p + 64);
  s->review = fmi_le32(p + 68);
  s->review_value = fmi_lef64(p + 72);
  if (fmi_le32(p + 80) != FMI_MASS_SHIFT)
    return bad(err, "unknown fixed-point scale");
  s->n_grid = fmi_le32(p + 84);
  s->n_docs = fmi_le64(p + 88);
  m->producer = pool_str(m, p + 96);
  m->unicode_version = pool_str(m, p + 104);
  m->stemmers = pool_str(m, p + 112);
  s->flags = fmi_le32(p + 120);
  if (!m->producer || !m->unicode_version || !m->stemmers)
    return bad(err, "settings strings out of bounds");
  if (s->variant > FM_NB_COMPLEMENT || s->priors > FM_PRIORS_UNIFORM ||
      s->review > FM_REVIEW_FIXED || !(s->alpha > 0) ||
      s->pipe.char_ngram_min > s->pipe.char_ngram_max ||
      s->pipe.char_ngram_max > 16 || s->pipe.char_ngram_min == 0 ||
      s->pipe.max_doc_bytes == 0 || s->pipe.max_doc_bytes > ((size_t)1 << 30))
    return bad(err, "settings out of range");
  if (s->n_grid > FMI_MAX_GRID || len != FMI_SETTINGS_BYTES + 16 * s->n_grid)
    return bad(err, "settings section size");
  for (i = 0; i < s->n_grid; i++) {
    s->grid_alpha[i] = fmi_lef64(p + FMI_SETTINGS_BYTES + 16 * i);
    s->grid_score[i] = fmi_lef64(p + FMI_SETTINGS_BYTES + 16 * i + 8);
  }
  return FM_OK;
}

static fm_status parse_heads(fm_model *m, const unsigned char *p, size_t len,
                             fm_error *err) {
  uint64_t nh, nc, ns, need;
  size_t h, k;
  const unsigned char *hr, *cr, *sr;
  if (len < 16) return bad(err, "heads section too short");
  nh = fmi_le32(p);
  nc = fmi_le32(p + 4);
  ns = fmi_le32(p + 8);
  need = 16 + nh * FMI_HEAD_REC_BYTES + nc * FMI_CLASS_REC_BYTES +
         ns * FMI_SRC_REC_BYTES;
  if (nh == 0 || nh > 4096 || nc > (1u << 24) || ns > (1u << 20) ||
      need != len)
    return bad(err, "heads section size");
  m->n_heads = (size_t)nh;
  m->n_classes = (size_t)nc;
  m->n_src = (size_t)ns;
  m->head_names = fmi_calloc(nh, sizeof *m->head_names);
  m->head_first = fmi_calloc(nh + 1, sizeof *m->head_first);
  m->src_first = fmi_calloc(nh + 1, sizeof *m->src_first);
  m->head_docs = fmi_calloc(nh, sizeof *m->head_docs);
  m->src_names = fmi_calloc(ns + 1, sizeof *m->src_names);
  m->class_names = fmi_calloc(nc + 1, sizeof *m->class_names);
  m->class_docs = fmi_calloc(nc + 1, sizeof *m->class_docs);
  m->class_mass = fmi_calloc(nc + 1, sizeof *m->class_mass);
  m->class_prior = fmi_calloc(nc + 1, sizeof *m->class_prior);
  if (!m->head_names || !m->head_first || !m->src_first || !m->head_docs ||
      !m->src_names || !m->class_names || !m->class_docs || !m->class_mass ||
      !m->class_prior)
    return fmi_fail(err, FM_ENOMEM, "out of memory opening the model");
  hr = p + 16;
  cr = hr + nh * FMI_HEAD_REC_BYTES;
  sr = cr + nc * FMI_CLASS_REC_BYTES;
  for (k = 0; k < nc; k++) {
    const unsigned char *r = cr + FMI_CLASS_REC_BYTES * k;
    m->class_names[k] = pool_str(m, r);
    m->class_docs[k] = fmi_le64(r + 8);
    m->class_mass[k] = fmi_le64(r + 16);
    m->class_prior[k] = fmi_lef64(r + 24);
    if (!m->class_names[k] || !m->class_names[k][0])
      return bad(err, "label name");
    if (!(m->class_prior[k] < 0 || m->class_prior[k] <= 1))
      return bad(err, "label prior");
  }
  for (k = 0; k < ns; k++) {
    m->src_names[k] = pool_str(m, sr + FMI_SRC_REC_BYTES * k);
    if (!m->src_names[k]) return bad(err, "source name");
  }
  for (h = 0; h < nh; h++) {
    const unsigned char *r = hr + FMI_HEAD_REC_BYTES * h;
    uint64_t first = fmi_le32(r + 8), n = fmi_le32(r + 12);
    uint64_t sfirst = fmi_le32(r + 16), sn = fmi_le32(r + 20);
    m->head_names[h] = pool_str(m, r);
    if (!m->head_names[h] || !m->head_names[h][0])
      return bad(err, "head name");
    /* Class and source ranges tile [0, n) in head order. */
    /* A head may have no label yet (a model of corrections that label
     * other heads only); it is never tagged. */
    if (first != m->head_first[h] || first + n > nc ||
        sfirst != m->src_first[h] || sfirst + sn > ns)
      return bad(err, "head label ranges");
    m->head_first[h + 1] = (size_t)(first + n);
    m->src_first[h + 1] = (size_t)(sfirst + sn);
    for (k = (size_t)first; k < first + n; k++) {
      m->head_docs[h] += m->class_docs[k];
      /* Sorted and unique, so label lookups can bisect. */
      if (k > first && strcmp(m->class_names[k - 1], m->class_names[k]) >= 0)
        return bad(err, "labels not sorted");
    }
  }
  if (m->head_first[nh] != nc || m->src_first[nh] != ns)
    return bad(err, "head label ranges");
  return FM_OK;
}

static fm_status parse_vocab(fm_model *m, const unsigned char *p, size_t len,
                             fm_error *err) {
  uint64_t n;
  if (len < 8) return bad(err, "vocabulary section too short");
  n = fmi_le64(p);
  if (n > (len - 8) / FMI_VOCAB_REC_BYTES ||
      8 + n * FMI_VOCAB_REC_BYTES != len || n >= UINT32_MAX)
    return bad(err, "vocabulary section size");
  m->vocab = p;
  m->n_vocab = (size_t)n;
  return FM_OK;
}

static fm_status parse_index(fm_model *m, const unsigned char *p, size_t len,
                             fm_error *err) {
  uint64_t cap, n_post, n_rows, n_kept, n_units, need, C;
  size_t k;
  if (len < FMI_INDEX_HDR_BYTES) return bad(err, "index section too short");
  cap = fmi_le64(p);
  m->max_probe = fmi_le32(p + 8);
  C = fmi_le32(p + 12);
  n_post = fmi_le64(p + 16);
  n_rows = fmi_le64(p + 24);
  n_kept = fmi_le64(p + 32);
  n_units = fmi_le64(p + 40);
  if (cap < 16 || cap > ((uint64_t)1 << 40) || (cap & (cap - 1)) ||
      m->max_probe >= cap || C != m->n_classes || n_rows != m->n_vocab ||
      n_kept > n_rows || n_units > UINT32_MAX || n_units < n_kept ||
      n_kept > cap || (len - FMI_INDEX_HDR_BYTES) / 8 < n_units)
    return bad(err, "index header");
  /* header, 2 f64 per class, slots, blocks (a header unit per kept
   * feature and a unit per posting) */
  need = FMI_INDEX_HDR_BYTES + 16 * C + cap * FMI_SLOT_BYTES +
         n_units * FMI_POSTING_BYTES;
  if (need != len) return bad(err, "index section size");
  m->prior = fmi_calloc(C + 1, sizeof *m->prior);
  m->cnst = fmi_calloc(C + 1, sizeof *m->cnst);
  if (!m->prior || !m->cnst)
    return fmi_fail(err, FM_ENOMEM, "out of memory opening the model");
  for (k = 0; k < C; k++) {
    m->prior[k] = fmi_lef64(p + FMI_INDEX_HDR_BYTES + 8 * k);
    m->cnst[k] = fmi_lef64(p + FMI_INDEX_HDR_BYTES + 8 * (C + k));
  }
  m->slots = p + FMI_INDEX_HDR_BYTES + 16 * C;
  m->slot_mask = cap - 1;
  m->postings = m->slots + cap * FMI_SLOT_BYTES;
  m->n_units = n_units;
  m->n_post = n_post;
  m->n_index_feat = n_kept;
  return FM_OK;
}

void fmi_calib_default(fmi_calib *c) {
  memset(c, 0, sizeof *c);
  c->method = FM_CALIB_NONE;
  c->temperature = 1;
  c->platt_a = 1;
  c->threshold = 0.5;
}

static fm_status parse_calib(fm_model *m, const unsigned char *p, size_t len,
                             fm_error *err) {
  size_t h;
  if (!p) return FM_OK; /* absent: defaults, already set */
  if (len < 8 || fmi_le32(p) != m->n_heads ||
      len != 8 + (uint64_t)m->n_heads * FMI_CALIB_REC_BYTES)
    return bad(err, "calibration section size");
  for (h = 0; h < m->n_heads; h++) {
    const unsigned char *r = p + 8 + FMI_CALIB_REC_BYTES * h;
    fmi_calib *c = &m->calib[h];
    c->method = fmi_le32(r);
    c->n_items = fmi_le32(r + 4);
    c->temperature = fmi_lef64(r + 8);
    c->platt_a = fmi_lef64(r + 16);
    c->platt_b = fmi_lef64(r + 24);
    c->threshold = fmi_lef64(r + 32);
    c->ece_raw = fmi_lef64(r + 40);
    c->ece_cal = fmi_lef64(r + 48);
    c->accuracy = fmi_lef64(r + 56);
    if (c->method > FM_CALIB_PLATT || !(c->temperature > 0) ||
        !(c->temperature < 1e9) || !isfinite(c->platt_a) ||
        !isfinite(c->platt_b) || !(c->threshold >= 0 && c->threshold <= 1))
      return bad(err, "calibration values");
  }
  return FM_OK;
}

static fm_status parse(fm_model *m, fm_error *err) {
  const unsigned char *b = m->base;
  uint64_t n = m->size, nsec, table, prev_end, sum;
  int major, minor;
  size_t i;
  const unsigned char *sp[8] = {0};
  uint64_t sl[8] = {0};
  fm_status st;
  if (n < FMI_MAGIC_BYTES || memcmp(b, FMI_MAGIC, FMI_MAGIC_BYTES) != 0) {
    if (n >= 4 && memcmp(b + 1, "FMM", 3) == 0)
      return fmi_fail(err, FM_EMODEL,
                      "corrupt model: damaged magic (text-mode transfer?)");
    return fmi_fail(err, FM_EMODEL, "not a feedmine model");
  }
  if (n < FMI_HDR_BYTES)
    return fmi_fail(err, FM_EMODEL,
                    "truncated model: %llu bytes, the header alone is %d",
                    (unsigned long long)n, FMI_HDR_BYTES);
  major = fmi_le16(b + FMI_HDR_MAJOR);
  minor = fmi_le16(b + FMI_HDR_MINOR);
  if (major != FMI_MODEL_FORMAT_MAJOR)
    return fmi_fail(err, FM_EVERSION,
                    "model format %d.%d is %s than this feedmine reads "
                    "(format %d, up to %d.%d)",
                    major, minor,
                    major > FMI_MODEL_FORMAT_MAJOR ? "newer" : "older",
                    FMI_MODEL_FORMAT_MAJOR, FMI_MODEL_FORMAT_MAJOR,
                    FMI_MODEL_FORMAT_MINOR);
  if (fmi_le64(b + FMI_HDR_FILESIZE) != n)
    return fmi_fail(err, FM_EMODEL,
                    "truncated or padded model: header says %llu bytes, "
                    "found %llu",
                    (unsigned long long)fmi_le64(b + FMI_HDR_FILESIZE),
                    (unsigned long long)n);
  sum = open_checksum(b, (size_t)n);
  if (sum != fmi_le64(b + FMI_HDR_CHECKSUM))
    return fmi_fail(err, FM_EMODEL, "corrupt model: checksum mismatch");
  m->checksum = sum;
  m->minor = minor;
  if (fmi_le32(b + FMI_HDR_HDRBYTES) != FMI_HDR_BYTES ||
      fmi_le32(b + 36) != 0 || fmi_le64(b + 48) != 0 || fmi_le64(b + 56) != 0)
    return bad(err, "header fields");
  nsec = fmi_le32(b + FMI_HDR_NSECTIONS);
  table = fmi_le64(b + FMI_HDR_TABLE);
  if (nsec == 0 || nsec > FMI_MAX_SECTIONS || table != FMI_HDR_BYTES ||
      table + nsec * FMI_SECTION_ENTRY_BYTES > n)
    return bad(err, "section table");
  prev_end = table + nsec * FMI_SECTION_ENTRY_BYTES;
  for (i = 0; i < nsec; i++) {
    const unsigned char *e = b + table + i * FMI_SECTION_ENTRY_BYTES;
    uint32_t id = fmi_le32(e), flags = fmi_le32(e + 4);
    uint64_t off = fmi_le64(e + 8), len = fmi_le64(e + 16);
    if ((i > 0 && id <= m->sec_id[i - 1]) || off % 8 || off < prev_end ||
        off > n || len > n - off)
      return bad(err, "section table entry");
    prev_end = off + len;
    m->sec_id[i] = id;
    m->sec_flags[i] = flags;
    m->sec_off[i] = off;
    m->sec_len[i] = len;
    if (id >= FMI_SEC_STRINGS && id <= FMI_SEC_CALIB) {
      sp[id] = b + off;
      sl[id] = len;
    } else if (flags & FMI_SECF_REQUIRED) {
      return fmi_fail(err, FM_EVERSION,
                      "model format %d.%d needs section %u, which this "
                      "build (format %d.%d) does not know",
                      major, minor, id, FMI_MODEL_FORMAT_MAJOR,
                      FMI_MODEL_FORMAT_MINOR);
    }
  }
  m->n_sections = (size_t)nsec;
  for (i = FMI_SEC_STRINGS; i < FMI_SEC_CALIB; i++)
    if (!sp[i]) return bad(err, "a required section is missing");
  m->pool = sp[FMI_SEC_STRINGS];
  m->pool_len = (size_t)sl[FMI_SEC_STRINGS];
  st = parse_settings(m, sp[FMI_SEC_SETTINGS], (size_t)sl[FMI_SEC_SETTINGS],
                      err);
  if (st == FM_OK)
    st = parse_heads(m, sp[FMI_SEC_HEADS], (size_t)sl[FMI_SEC_HEADS], err);
  if (st == FM_OK)
    st = parse_vocab(m, sp[FMI_SEC_VOCAB], (size_t)sl[FMI_SEC_VOCAB], err);
  if (st == FM_OK) {
    m->counts = sp[FMI_SEC_COUNTS];
    m->counts_len = (size_t)sl[FMI_SEC_COUNTS];
    if (m->counts_len < 8 || fmi_le64(m->counts) != m->n_vocab)
      st = bad(err, "counts section");
  }
  if (st == FM_OK)
    st = parse_index(m, sp[FMI_SEC_INDEX], (size_t)sl[FMI_SEC_INDEX], err);
  if (st == FM_OK) {
    m->calib = fmi_calloc(m->n_heads, sizeof *m->calib);
    if (!m->calib)
      return fmi_fail(err, FM_ENOMEM, "out of memory opening the model");
    for (i = 0; i < m->n_heads; i++) fmi_calib_default(&m->calib[i]);
    st = parse_calib(m, sp[FMI_SEC_CALIB], (size_t)sl[FMI_SEC_CALIB], err);
  }
  if (st != FM_OK) return st;
  snprintf(m->id, sizeof m->id, "%016llx", (unsigned long long)sum);
  return FM_OK;
}

fm_status fm_model_open_memory(const void *data, size_t len, fm_model **out,
                               fm_error *err) {
  fm_model *m;
  fm_status st;
  if (!out) return fmi_fail(err, FM_EINVAL, "out is NULL");
  *out = NULL;
  if (!data && len) return fmi_fail(err, FM_EINVAL, "data is NULL");
  m = fmi_calloc(1, sizeof *m);
  if (!m) return fmi_fail(err, FM_ENOMEM, "out of memory opening the model");
  m->base = data ? data : (const unsigned char *)"";
  m->size = len;
  st = parse(m, err);
  if (st != FM_OK) {
    model_free_parts(m);
    fmi_free(m);
    return st;
  }
  *out = m;
  fmi_ok(err);
  return FM_OK;
}

fm_status fm_model_open(const char *path, fm_model **out, fm_error *err) {
  int fd;
  struct stat sb;
  void *map;
  fm_status st;
  if (!out || !path) return fmi_fail(err, FM_EINVAL, "path or out is NULL");
  *out = NULL;
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fmi_fail(err, FM_EIO, "cannot open %s: %s", path,
                    strerror(errno));
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    close(fd);
    return fmi_fail(err, FM_EIO, "%s is not a regular file", path);
  }
  if (sb.st_size < FMI_HDR_BYTES) {
    /* Too small to map usefully; let the parser say what it is. */
    unsigned char small[FMI_HDR_BYTES];
    ssize_t r = read(fd, small, sizeof small);
    close(fd);
    return fm_model_open_memory(small, r > 0 ? (size_t)r : 0, out, err);
  }
  if ((uint64_t)sb.st_size > SIZE_MAX) {
    close(fd);
    return fmi_fail(err, FM_ETOOBIG, "%s is too large", path);
  }
  /* The checksum reads every page in order, and so maps them all for the
   * tags that follow: faulting them in on the way (read ahead for a
   * sequential pass) costs less than MAP_POPULATE's separate pass first
   * (88 MB model: 0.5 ms less). Advice is only advice: its failure is
   * ignored. */
  map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (map == MAP_FAILED)
    return fmi_fail(err, FM_EIO, "cannot map %s: %s", path, strerror(errno));
#ifdef MADV_SEQUENTIAL
  (void)madvise(map, (size_t)sb.st_size, MADV_SEQUENTIAL);
#endif
  st = fm_model_open_memory(map, (size_t)sb.st_size, out, err);
#ifdef MADV_SEQUENTIAL
  /* tagging reads at random: back to the default read-around */
  (void)madvise(map, (size_t)sb.st_size, MADV_NORMAL);
#endif
  if (st != FM_OK) {
    munmap(map, (size_t)sb.st_size);
    return st;
  }
  (*out)->map = map;
  (*out)->map_len = (size_t)sb.st_size;
  return FM_OK;
}

void fm_model_close(fm_model *m) {
  if (!m) return;
  model_free_parts(m);
  if (m->map) munmap(m->map, m->map_len);
  fmi_free(m);
}

/* ---- accessors ---------------------------------------------------------------- */

size_t fm_model_head_count(const fm_model *m) { return m ? m->n_heads : 0; }

const char *fm_model_head_name(const fm_model *m, size_t head) {
  return m && head < m->n_heads ? m->head_names[head] : NULL;
}

size_t fm_model_label_count(const fm_model *m, size_t head) {
  return m && head < m->n_heads ? m->head_first[head + 1] - m->head_first[head]
                                : 0;
}

const char *fm_model_label_name(const fm_model *m, size_t head,
                                size_t label) {
  if (!m || head >= m->n_heads ||
      label >= m->head_first[head + 1] - m->head_first[head])
    return NULL;
  return m->class_names[m->head_first[head] + label];
}

long fm_model_head_index(const fm_model *m, const char *name) {
  size_t h;
  if (!m || !name) return -1;
  for (h = 0; h < m->n_heads; h++)
    if (!strcmp(m->head_names[h], name)) return (long)h;
  return -1;
}

void fm_model_pipeline_opts(const fm_model *m, fm_pipeline_opts *out) {
  fm_pipeline_opts def = FM_PIPELINE_OPTS_INIT;
  if (!out) return;
  *out = m ? m->set.pipe : def;
}

const char *fm_model_id(const fm_model *m) { return m ? m->id : NULL; }

uint64_t fm_model_label_docs(const fm_model *m, size_t head, size_t label) {
  if (!m || head >= m->n_heads ||
      label >= m->head_first[head + 1] - m->head_first[head])
    return 0;
  return m->class_docs[m->head_first[head] + label];
}

const char *fm_model_head_source(const fm_model *m, size_t head, size_t i) {
  if (!m || head >= m->n_heads ||
      i >= m->src_first[head + 1] - m->src_first[head])
    return NULL;
  return m->src_names[m->src_first[head] + i];
}

fm_status fm_model_info_get(const fm_model *m, fm_model_info *out,
                            fm_error *err) {
  fm_model_info info;
  size_t i;
  if (!m || !out || out->size < sizeof(size_t) || out->size > sizeof info)
    return fmi_fail(err, FM_EINVAL, "bad model or fm_model_info.size");
  memset(&info, 0, sizeof info);
  info.size = out->size;
  info.format_version = FMI_MODEL_FORMAT_MAJOR * 1000 + m->minor;
  info.file_bytes = m->size;
  info.documents = m->set.n_docs;
  info.features = m->n_vocab;
  info.index_features = m->n_index_feat;
  info.postings = m->n_post;
  fmi_settings_to_opts(&m->set, &info.opts);
  info.alpha = m->set.alpha;
  info.variant = (fm_nb_variant)m->set.variant;
  info.priors = (fm_priors)m->set.priors;
  info.n_alpha_grid = m->set.n_grid;
  for (i = 0; i < m->set.n_grid; i++) {
    info.alpha_grid[i] = m->set.grid_alpha[i];
    info.alpha_grid_accuracy[i] = m->set.grid_score[i];
  }
  info.producer = m->producer;
  info.unicode_version = m->unicode_version;
  info.stemmers = m->stemmers;
  memcpy(out, &info, out->size);
  return FM_OK;
}

fm_status fm_model_head_info(const fm_model *m, size_t head,
                             fm_head_info *out, fm_error *err) {
  fm_head_info hi;
  const fmi_calib *c;
  if (!m || !out || head >= m->n_heads || out->size < sizeof(size_t) ||
      out->size > sizeof hi)
    return fmi_fail(err, FM_EINVAL, "bad model, head or fm_head_info.size");
  c = &m->calib[head];
  memset(&hi, 0, sizeof hi);
  hi.size = out->size;
  hi.name = m->head_names[head];
  hi.n_labels = m->head_first[head + 1] - m->head_first[head];
  hi.documents = m->head_docs[head];
  hi.n_sources = m->src_first[head + 1] - m->src_first[head];
  hi.calibration = (fm_calibration)c->method;
  hi.temperature = c->temperature;
  hi.platt_a = c->platt_a;
  hi.platt_b = c->platt_b;
  hi.threshold = c->threshold;
  hi.held_out = c->n_items;
  hi.held_out_accuracy = c->accuracy;
  hi.ece_raw = c->ece_raw;
  hi.ece = c->ece_cal;
  memcpy(out, &hi, out->size);
  return FM_OK;
}

/* ---- decoding the counts (merge, learn) ------------------------------------- */

fm_status fmi_counts_intern(fmi_counts *c, const char *s, size_t n,
                            uint32_t *off) {
  if (c->pool.len > UINT32_MAX - n - 1) return FM_ETOOBIG;
  *off = (uint32_t)c->pool.len;
  if (fmi_buf_append(&c->pool, s, n) != FM_OK) return FM_ENOMEM;
  if (fmi_buf_putc(&c->pool, 0) != FM_OK) return FM_ENOMEM;
  return FM_OK;
}

fm_status fmi_model_counts(const fm_model *m, fmi_counts *c, fm_error *err) {
  const unsigned char *p = m->counts + 8, *end = m->counts + m->counts_len;
  size_t h, k, w, n_post = 0, cap = 0;
  fm_status st = FM_ENOMEM;
  memset(c, 0, sizeof *c);
  c->n_heads = m->n_heads;
  c->n_classes = m->n_classes;
  c->n_src = m->n_src;
  c->n_feat = m->n_vocab;
  c->n_docs = m->set.n_docs;
  c->head_name = fmi_calloc(m->n_heads, sizeof *c->head_name);
  c->head_first = fmi_calloc(m->n_heads + 1, sizeof *c->head_first);
  c->src_first = fmi_calloc(m->n_heads + 1, sizeof *c->src_first);
  c->src_name = fmi_calloc(m->n_src + 1, sizeof *c->src_name);
  c->class_name = fmi_calloc(m->n_classes + 1, sizeof *c->class_name);
  c->class_docs = fmi_calloc(m->n_classes + 1, sizeof *c->class_docs);
  c->class_mass = fmi_calloc(m->n_classes + 1, sizeof *c->class_mass);
  c->class_prior = fmi_calloc(m->n_classes + 1, sizeof *c->class_prior);
  c->feat_id = fmi_calloc(m->n_vocab + 1, sizeof *c->feat_id);
  c->feat_str = fmi_calloc(m->n_vocab + 1, sizeof *c->feat_str);
  c->feat_len = fmi_calloc(m->n_vocab + 1, sizeof *c->feat_len);
  c->df = fmi_calloc(m->n_vocab + 1, sizeof *c->df);
  c->post_off = fmi_calloc(m->n_vocab + 1, sizeof *c->post_off);
  if (!c->head_name || !c->head_first || !c->src_first || !c->src_name ||
      !c->class_name || !c->class_docs || !c->class_mass || !c->class_prior ||
      !c->feat_id || !c->feat_str || !c->feat_len || !c->df || !c->post_off)
    goto fail;
  for (h = 0; h < m->n_heads; h++) {
    if (fmi_counts_intern(c, m->head_names[h], strlen(m->head_names[h]),
                          &c->head_name[h]) != FM_OK)
      goto fail;
    c->head_first[h + 1] = m->head_first[h + 1];
    c->src_first[h + 1] = m->src_first[h + 1];
  }
  for (k = 0; k < m->n_src; k++)
    if (fmi_counts_intern(c, m->src_names[k], strlen(m->src_names[k]),
                          &c->src_name[k]) != FM_OK)
      goto fail;
  for (k = 0; k < m->n_classes; k++) {
    if (fmi_counts_intern(c, m->class_names[k], strlen(m->class_names[k]),
                          &c->class_name[k]) != FM_OK)
      goto fail;
    c->class_docs[k] = m->class_docs[k];
    c->class_mass[k] = m->class_mass[k];
    c->class_prior[k] = m->class_prior[k];
  }
  for (w = 0; w < m->n_vocab; w++) {
    const unsigned char *r = m->vocab + 8 + FMI_VOCAB_REC_BYTES * w;
    const char *s = pool_str(m, r + 8);
    uint64_t df, np, j, cls = 0;
    size_t used;
    if (!s) {
      st = bad(err, "feature string out of bounds");
      goto fail_quiet;
    }
    c->feat_id[w] = fmi_le64(r);
    if (w > 0 && c->feat_id[w] <= c->feat_id[w - 1]) {
      st = bad(err, "vocabulary not sorted");
      goto fail_quiet;
    }
    c->feat_len[w] = fmi_le32(r + 12);
    if (fmi_counts_intern(c, s, c->feat_len[w], &c->feat_str[w]) != FM_OK)
      goto fail;
    if (!(used = fmi_varint_get(p, end, &df))) goto corrupt;
    p += used;
    if (!(used = fmi_varint_get(p, end, &np))) goto corrupt;
    p += used;
    if (np > m->n_classes || df == 0 || df > m->set.n_docs) goto corrupt;
    c->df[w] = df;
    if (n_post + np > cap) {
      size_t ncap = cap ? cap * 2 : 1024;
      uint32_t *pc;
      uint64_t *pm;
      while (ncap < n_post + np) ncap *= 2;
      pc = fmi_realloc(c->post_class, ncap * sizeof *pc);
      if (!pc) goto fail;
      c->post_class = pc;
      pm = fmi_realloc(c->post_mass, ncap * sizeof *pm);
      if (!pm) goto fail;
      c->post_mass = pm;
      cap = ncap;
    }
    for (j = 0; j < np; j++) {
      uint64_t gap, mass;
      if (!(used = fmi_varint_get(p, end, &gap))) goto corrupt;
      p += used;
      if (!(used = fmi_varint_get(p, end, &mass))) goto corrupt;
      p += used;
      cls = j == 0 ? gap : cls + gap + 1;
      if (cls >= m->n_classes || gap >= m->n_classes || mass == 0)
        goto corrupt;
      c->post_class[n_post] = (uint32_t)cls;
      c->post_mass[n_post] = mass;
      n_post++;
    }
    c->post_off[w + 1] = n_post;
  }
  if (p != end) goto corrupt;
  return FM_OK;
corrupt:
  st = bad(err, "counts section");
  goto fail_quiet;
fail:
  st = fmi_fail(err, FM_ENOMEM, "out of memory reading the model's counts");
fail_quiet:
  fmi_counts_free(c);
  return st;
}
