/*
 * train.c -- fm_trainer: runs the pipeline over labeled documents and adds
 * their fixed-point feature mass to the counts.
 *
 * Per-document transforms (sublinear tf, L2 length normalization of the
 * document's own tf vector) depend only on the document, so they are
 * applied before adding; corpus-level ones (idf, smoothing, min_count) wait
 * for the scoring index. Labels, features and sources are numbered in
 * arrival order while adding and sorted when the counts are finalized, so
 * the model does not depend on the order of the documents.
 */
#include "model.h"
#include "pipeline.h"

#include <stdlib.h>

/* u64 -> u32 open-addressing map; value 0 = empty slot. A key and its
 * value share a slot (one cache miss per probe, not two): a corpus has
 * hundreds of thousands of features, each looked up once per document it
 * occurs in. */
typedef struct u64slot {
  uint64_t key;
  uint32_t val;
} u64slot;
typedef struct u64map {
  u64slot *slots;
  size_t cap, n;
} u64map;

static inline size_t mix(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  return (size_t)k;
}

static void map_free(u64map *m) {
  fmi_free(m->slots);
  memset(m, 0, sizeof *m);
}

static bool map_grow(u64map *m) {
  size_t ncap = m->cap ? m->cap * 2 : 1024, i;
  u64slot *t = fmi_calloc(ncap, sizeof *t);
  if (!t) return false;
  for (i = 0; i < m->cap; i++)
    if (m->slots[i].val) {
      size_t j = mix(m->slots[i].key) & (ncap - 1);
      while (t[j].val) j = (j + 1) & (ncap - 1);
      t[j] = m->slots[i];
    }
  fmi_free(m->slots);
  m->slots = t;
  m->cap = ncap;
  return true;
}

/* The slot of `key`: its value, or 0 where it would go. NULL on ENOMEM. */
static uint32_t *map_slot(u64map *m, uint64_t key) {
  size_t i;
  if ((m->n + 1) * 4 > m->cap * 3 && !map_grow(m)) return NULL;
  i = mix(key) & (m->cap - 1);
  while (m->slots[i].val && m->slots[i].key != key) i = (i + 1) & (m->cap - 1);
  m->slots[i].key = key;
  return &m->slots[i].val;
}

/* How many features ahead their slots are fetched: the lookups are
 * independent, so several cache misses can be in flight at once. */
#define MAP_PREFETCH_AHEAD 8

static inline void map_prefetch(const u64map *m, uint64_t key) {
  if (m->cap) FMI_PREFETCH(&m->slots[mix(key) & (m->cap - 1)], 1, 3);
}

typedef struct given_prior {
  size_t head;
  char *label;
  double p;
} given_prior;

struct fm_trainer {
  fmi_settings set;
  fmi_pipeline pipe;
  size_t n_heads;
  fmi_buf pool;          /* names and feature strings */
  uint32_t *head_name;   /* pool offsets */
  /* classes, in arrival order */
  size_t n_cls, cap_cls;
  uint32_t *cls_head, *cls_name;
  uint64_t *cls_docs, *cls_mass;
  u64map cls_map;        /* hash(head, name) -> class + 1 (collisions probe on) */
  /* sources per head: pool offsets, arrival order */
  uint32_t **src;
  size_t *n_src, *cap_src;
  /* features, in arrival order */
  size_t n_feat, cap_feat;
  uint64_t *feat_id, *df;
  uint32_t *feat_str, *feat_len;
  u64map feat_map;       /* id -> feature + 1 */
  /* documents */
  size_t n_docs, cap_docs, n_ent, cap_ent;
  size_t *doc_off;
  uint32_t *doc_label;   /* n_docs * n_heads */
  uint64_t *doc_hash;
  uint32_t *ent_feat;
  uint64_t *ent_mass;
  /* per-document scratch */
  double *w;
  uint32_t *fidx;
  uint32_t *dcls;
  size_t w_cap;
  given_prior *priors;
  size_t n_priors;
  bool allow_empty_heads; /* corrections may label some heads only */
};

static fm_status intern(fm_trainer *tr, const char *s, size_t n,
                        uint32_t *off) {
  if (tr->pool.len > UINT32_MAX - n - 1) return FM_ETOOBIG;
  *off = (uint32_t)tr->pool.len;
  if (fmi_buf_append(&tr->pool, s, n) != FM_OK ||
      fmi_buf_putc(&tr->pool, 0) != FM_OK)
    return FM_ENOMEM;
  return FM_OK;
}

/* Grows parallel arrays to hold `need` elements. */
static bool grow(void **arrs[], const size_t *sizes, size_t n_arrs,
                 size_t *cap, size_t need) {
  size_t ncap = *cap ? *cap : 64, i;
  if (need <= *cap) return true;
  while (ncap < need) ncap *= 2;
  for (i = 0; i < n_arrs; i++) {
    void *p = fmi_realloc(*arrs[i], ncap * sizes[i]);
    if (!p) return false;
    *arrs[i] = p;
  }
  *cap = ncap;
  return true;
}

void fm_trainer_free(fm_trainer *tr) {
  size_t h, i;
  if (!tr) return;
  fmi_pipeline_destroy(&tr->pipe);
  fmi_buf_free(&tr->pool);
  fmi_free(tr->head_name);
  fmi_free(tr->cls_head);
  fmi_free(tr->cls_name);
  fmi_free(tr->cls_docs);
  fmi_free(tr->cls_mass);
  map_free(&tr->cls_map);
  if (tr->src)
    for (h = 0; h < tr->n_heads; h++) fmi_free(tr->src[h]);
  fmi_free(tr->src);
  fmi_free(tr->n_src);
  fmi_free(tr->cap_src);
  fmi_free(tr->feat_id);
  fmi_free(tr->df);
  fmi_free(tr->feat_str);
  fmi_free(tr->feat_len);
  map_free(&tr->feat_map);
  fmi_free(tr->doc_off);
  fmi_free(tr->doc_label);
  fmi_free(tr->doc_hash);
  fmi_free(tr->ent_feat);
  fmi_free(tr->ent_mass);
  fmi_free(tr->w);
  fmi_free(tr->fidx);
  fmi_free(tr->dcls);
  for (i = 0; i < tr->n_priors; i++) fmi_free(tr->priors[i].label);
  fmi_free(tr->priors);
  fmi_free(tr);
}

void fm_free(void *p) { fmi_free(p); }

static fm_status trainer_create(const char *const *heads, size_t n_heads,
                                const fmi_settings *set, fm_trainer **out,
                                fm_error *err) {
  fm_trainer *tr;
  fm_status st;
  size_t h, g;
  *out = NULL;
  if (!heads || n_heads == 0 || n_heads > 4096)
    return fmi_fail(err, FM_EINVAL, "a trainer needs 1 to 4096 heads");
  for (h = 0; h < n_heads; h++) {
    if (!heads[h] || !heads[h][0])
      return fmi_fail(err, FM_EINVAL, "head %zu has no name", h + 1);
    for (g = 0; g < h; g++)
      if (!strcmp(heads[g], heads[h]))
        return fmi_fail(err, FM_EINVAL, "head '%s' is named twice",
                        heads[h]);
  }
  tr = fmi_calloc(1, sizeof *tr);
  if (!tr) return fmi_fail(err, FM_ENOMEM, "out of memory");
  tr->set = *set;
  tr->n_heads = n_heads;
  tr->head_name = fmi_calloc(n_heads, sizeof *tr->head_name);
  tr->src = fmi_calloc(n_heads, sizeof *tr->src);
  tr->n_src = fmi_calloc(n_heads, sizeof *tr->n_src);
  tr->cap_src = fmi_calloc(n_heads, sizeof *tr->cap_src);
  tr->dcls = fmi_calloc(n_heads, sizeof *tr->dcls);
  tr->doc_off = fmi_calloc(1, sizeof *tr->doc_off);
  if (!tr->head_name || !tr->src || !tr->n_src || !tr->cap_src ||
      !tr->dcls || !tr->doc_off)
    goto nomem;
  tr->cap_docs = 0;
  for (h = 0; h < n_heads; h++)
    if (intern(tr, heads[h], strlen(heads[h]), &tr->head_name[h]) != FM_OK)
      goto nomem;
  st = fmi_pipeline_init(&tr->pipe, &set->pipe, err);
  if (st != FM_OK) {
    /* The pipeline cleaned itself up; the rest is ours. */
    fm_trainer_free(tr);
    return st;
  }
  *out = tr;
  return FM_OK;
nomem:
  /* fmi_pipeline_destroy on a zeroed pipeline is a no-op. */
  fm_trainer_free(tr);
  return fmi_fail(err, FM_ENOMEM, "out of memory");
}

fm_status fm_trainer_new(const char *const *heads, size_t n_heads,
                         const fm_train_opts *opts, fm_trainer **out,
                         fm_error *err) {
  fmi_settings set;
  fm_status st;
  if (!out) return fmi_fail(err, FM_EINVAL, "out is NULL");
  *out = NULL;
  st = fmi_settings_from_opts(opts, &set, err);
  if (st != FM_OK) return st;
  return trainer_create(heads, n_heads, &set, out, err);
}

fm_status fm_trainer_new_like(const fm_model *m, fm_trainer **out,
                              fm_error *err) {
  fmi_settings set;
  fm_status st;
  if (!out) return fmi_fail(err, FM_EINVAL, "out is NULL");
  *out = NULL;
  if (!m) return fmi_fail(err, FM_EINVAL, "model is NULL");
  set = m->set;
  /* Corrections use the model's alpha as is: a handful of documents is no
   * ground for choosing one. */
  set.alpha_requested = set.alpha;
  set.flags &= ~FMI_SETF_CHOICE_BITS; /* the variant and priors too */
  set.n_grid = 0;
  set.n_docs = 0;
  st = trainer_create(m->head_names, m->n_heads, &set, out, err);
  if (st == FM_OK) (*out)->allow_empty_heads = true;
  return st;
}

uint64_t fm_trainer_doc_count(const fm_trainer *tr) {
  return tr ? tr->n_docs : 0;
}

/* Finds or adds the class (head, label). */
static fm_status class_of(fm_trainer *tr, size_t head, const char *label,
                          uint32_t *out) {
  size_t n = strlen(label), i;
  uint64_t key = fmi_hash64(label, n) ^ (0x9E3779B97F4A7C15ULL * (head + 1));
  if ((tr->cls_map.n + 1) * 4 > tr->cls_map.cap * 3 &&
      !map_grow(&tr->cls_map))
    return FM_ENOMEM;
  /* Probe past entries whose key collides but whose name differs. */
  i = mix(key) & (tr->cls_map.cap - 1);
  while (tr->cls_map.slots[i].val) {
    uint32_t c = tr->cls_map.slots[i].val - 1;
    if (tr->cls_map.slots[i].key == key && tr->cls_head[c] == head &&
        !strcmp(tr->pool.data + tr->cls_name[c], label)) {
      *out = c;
      return FM_OK;
    }
    i = (i + 1) & (tr->cls_map.cap - 1);
  }
  {
    void **arrs[] = {(void **)&tr->cls_head, (void **)&tr->cls_name,
                     (void **)&tr->cls_docs, (void **)&tr->cls_mass};
    const size_t sizes[] = {sizeof *tr->cls_head, sizeof *tr->cls_name,
                            sizeof *tr->cls_docs, sizeof *tr->cls_mass};
    uint32_t off;
    fm_status st;
    if (tr->n_cls >= UINT32_MAX - 1) return FM_ETOOBIG;
    if (!grow(arrs, sizes, 4, &tr->cap_cls, tr->n_cls + 1)) return FM_ENOMEM;
    st = intern(tr, label, n, &off);
    if (st != FM_OK) return st;
    tr->cls_head[tr->n_cls] = (uint32_t)head;
    tr->cls_name[tr->n_cls] = off;
    tr->cls_docs[tr->n_cls] = 0;
    tr->cls_mass[tr->n_cls] = 0;
    tr->cls_map.slots[i].key = key;
    tr->cls_map.slots[i].val = (uint32_t)(tr->n_cls + 1);
    tr->cls_map.n++;
    *out = (uint32_t)tr->n_cls++;
  }
  return FM_OK;
}

static fm_status note_source(fm_trainer *tr, size_t head, const char *src) {
  size_t i, n = strlen(src);
  uint32_t off;
  fm_status st;
  for (i = 0; i < tr->n_src[head]; i++)
    if (!strcmp(tr->pool.data + tr->src[head][i], src)) return FM_OK;
  if (tr->n_src[head] == tr->cap_src[head]) {
    size_t nc = tr->cap_src[head] ? tr->cap_src[head] * 2 : 4;
    uint32_t *p = fmi_realloc(tr->src[head], nc * sizeof *p);
    if (!p) return FM_ENOMEM;
    tr->src[head] = p;
    tr->cap_src[head] = nc;
  }
  st = intern(tr, src, n, &off);
  if (st != FM_OK) return st;
  tr->src[head][tr->n_src[head]++] = off;
  return FM_OK;
}

/* The state changes of one document are made only after everything that
 * can fail for it has succeeded, or undone: a failed add leaves the counts
 * as they were (vocabulary entries it created stay, with df 0, and are
 * dropped when the counts are finalized). */
fm_status fmi_trainer_add_features(fm_trainer *tr, const fm_feature *feats,
                                   size_t nf, uint64_t doc_hash,
                                   const char *source,
                                   const char *const *labels, fm_error *err) {
  size_t i, h;
  uint64_t doc_mass = 0;
  fm_status st;
  if (nf > tr->w_cap) {
    size_t nc = tr->w_cap ? tr->w_cap : 256;
    double *w;
    uint32_t *fi;
    while (nc < nf) nc *= 2;
    w = fmi_realloc(tr->w, nc * sizeof *w);
    if (!w) goto nomem;
    tr->w = w;
    fi = fmi_realloc(tr->fidx, nc * sizeof *fi);
    if (!fi) goto nomem;
    tr->fidx = fi;
    tr->w_cap = nc;
  }
  /* Labels first: unknown ones become classes (harmless if we fail
   * later: a class with no documents is dropped at finalize). */
  for (h = 0; h < tr->n_heads; h++) {
    tr->dcls[h] = UINT32_MAX;
    if (labels && labels[h] && labels[h][0]) {
      st = class_of(tr, h, labels[h], &tr->dcls[h]);
      if (st != FM_OK) goto fail_st;
    }
  }
  fmi_doc_weights(&tr->set, NULL, feats, nf, tr->w);
  /* Features: find or add, without touching counts yet. */
  for (i = 0; i < nf && i < MAP_PREFETCH_AHEAD; i++)
    map_prefetch(&tr->feat_map, feats[i].id);
  for (i = 0; i < nf; i++) {
    const fm_feature *f = &feats[i];
    uint32_t *slot;
    if (i + MAP_PREFETCH_AHEAD < nf)
      map_prefetch(&tr->feat_map, feats[i + MAP_PREFETCH_AHEAD].id);
    slot = map_slot(&tr->feat_map, f->id);
    if (!slot) goto nomem;
    if (!*slot) {
      void **arrs[] = {(void **)&tr->feat_id, (void **)&tr->df,
                       (void **)&tr->feat_str, (void **)&tr->feat_len};
      const size_t sizes[] = {sizeof *tr->feat_id, sizeof *tr->df,
                              sizeof *tr->feat_str, sizeof *tr->feat_len};
      uint32_t off;
      if (tr->n_feat >= UINT32_MAX - 1) {
        st = fmi_fail(err, FM_ETOOBIG, "over 2^32 distinct features");
        goto fail_quiet;
      }
      if (!grow(arrs, sizes, 4, &tr->cap_feat, tr->n_feat + 1)) goto nomem;
      st = intern(tr, f->text, f->len, &off);
      if (st != FM_OK) goto fail_st;
      tr->feat_id[tr->n_feat] = f->id;
      tr->df[tr->n_feat] = 0;
      tr->feat_str[tr->n_feat] = off;
      tr->feat_len[tr->n_feat] = (uint32_t)f->len;
      *slot = (uint32_t)++tr->n_feat;
      tr->feat_map.n++;
    }
    tr->fidx[i] = *slot - 1;
  }
  /* Room for the document and its entries. */
  {
    void **arrs[] = {(void **)&tr->doc_off, (void **)&tr->doc_hash};
    const size_t sizes[] = {sizeof *tr->doc_off, sizeof *tr->doc_hash};
    size_t cap = tr->cap_docs;
    void **earrs[] = {(void **)&tr->ent_feat, (void **)&tr->ent_mass};
    const size_t esizes[] = {sizeof *tr->ent_feat, sizeof *tr->ent_mass};
    if (!grow(arrs, sizes, 2, &cap, tr->n_docs + 2)) goto nomem;
    if (cap != tr->cap_docs) {
      uint32_t *l = fmi_realloc(tr->doc_label,
                                cap * tr->n_heads * sizeof *tr->doc_label);
      if (!l) goto nomem; /* cap_docs unchanged: retried next time */
      tr->doc_label = l;
      tr->cap_docs = cap;
    }
    if (!grow(earrs, esizes, 2, &tr->cap_ent, tr->n_ent + nf)) goto nomem;
  }
  for (h = 0; h < tr->n_heads; h++)
    if (tr->dcls[h] != UINT32_MAX && source && source[0]) {
      st = note_source(tr, h, source);
      if (st != FM_OK) goto fail_st;
    }
  /* Commit: nothing below fails. */
  for (i = 0; i < nf; i++) {
    uint64_t m = (uint64_t)llround(tr->w[i] * FMI_MASS_ONE);
    if (m == 0) m = 1; /* every feature seen keeps a posting */
    tr->df[tr->fidx[i]]++;
    tr->ent_feat[tr->n_ent + i] = tr->fidx[i];
    tr->ent_mass[tr->n_ent + i] = m;
    doc_mass += m;
  }
  for (h = 0; h < tr->n_heads; h++) {
    tr->doc_label[tr->n_docs * tr->n_heads + h] = tr->dcls[h];
    if (tr->dcls[h] != UINT32_MAX) {
      tr->cls_docs[tr->dcls[h]]++;
      tr->cls_mass[tr->dcls[h]] += doc_mass;
    }
  }
  tr->doc_hash[tr->n_docs] = doc_hash;
  tr->n_ent += nf;
  tr->n_docs++;
  tr->doc_off[tr->n_docs] = tr->n_ent;
  return FM_OK;
nomem:
  return fmi_fail(err, FM_ENOMEM, "out of memory adding a document");
fail_st:
  return fmi_fail(err, st, st == FM_ETOOBIG ? "model strings over 4 GiB"
                                            : "out of memory adding a document");
fail_quiet:
  return st;
}

fm_status fm_trainer_add(fm_trainer *tr, const char *text, size_t len,
                         const char *lang, const char *source,
                         const char *const *labels, fm_error *err) {
  fm_status st;
  if (!tr || (!text && len)) return fmi_fail(err, FM_EINVAL, "bad arguments");
  if (!text) text = "";
  st = fmi_pipeline_run(&tr->pipe, text, len, lang, err);
  if (st != FM_OK) return st;
  return fmi_trainer_add_features(tr, tr->pipe.an.features,
                                  tr->pipe.an.n_features,
                                  fmi_hash64(text, len), source, labels, err);
}

fm_status fm_trainer_set_prior(fm_trainer *tr, const char *head,
                               const char *label, double p, fm_error *err) {
  size_t h, i;
  given_prior *np;
  char *l;
  if (!tr || !head || !label || !label[0])
    return fmi_fail(err, FM_EINVAL, "bad arguments");
  if (!(p > 0 && p < 1))
    return fmi_fail(err, FM_EINVAL, "prior of '%s' must be in (0, 1)",
                    label);
  for (h = 0; h < tr->n_heads; h++)
    if (!strcmp(tr->pool.data + tr->head_name[h], head)) break;
  if (h == tr->n_heads)
    return fmi_fail(err, FM_ENOTFOUND, "no head '%s'", head);
  for (i = 0; i < tr->n_priors; i++)
    if (tr->priors[i].head == h && !strcmp(tr->priors[i].label, label)) {
      tr->priors[i].p = p;
      return FM_OK;
    }
  l = fmi_strndup(label, strlen(label));
  np = fmi_realloc(tr->priors, (tr->n_priors + 1) * sizeof *np);
  if (!l || !np) {
    fmi_free(l);
    if (np) tr->priors = np;
    return fmi_fail(err, FM_ENOMEM, "out of memory");
  }
  tr->priors = np;
  np[tr->n_priors].head = h;
  np[tr->n_priors].label = l;
  np[tr->n_priors].p = p;
  tr->n_priors++;
  return FM_OK;
}

/* ---- finalizing: sorted counts and documents ------------------------------ */

void fmi_docs_free(fmi_docs *d) {
  if (!d) return;
  fmi_free(d->off);
  fmi_free(d->feat);
  fmi_free(d->mass);
  fmi_free(d->label);
  fmi_free(d->hash);
  memset(d, 0, sizeof *d);
}

typedef struct sort_ctx_item {
  uint64_t key;
  const char *name;
  uint32_t idx;
} sort_item;

static int cmp_by_name(const void *a, const void *b) {
  const sort_item *x = a, *y = b;
  if (x->key != y->key) return x->key < y->key ? -1 : 1; /* head */
  return strcmp(x->name, y->name);
}
static int cmp_by_key(const void *a, const void *b) {
  const sort_item *x = a, *y = b;
  return x->key < y->key ? -1 : x->key > y->key;
}
static int cmp_src(const void *a, const void *b) {
  const sort_item *x = a, *y = b;
  return strcmp(x->name, y->name);
}

static fm_status finalize(fm_trainer *tr, fmi_counts *c, fmi_docs *d,
                          fm_error *err) {
  size_t C = 0, F = 0, h, k, i, P = 0;
  sort_item *items = NULL;
  uint32_t *cls_new = NULL, *feat_new = NULL;
  size_t *count = NULL;
  memset(c, 0, sizeof *c);
  memset(d, 0, sizeof *d);
  /* Classes with documents, sorted by (head, name). */
  items = fmi_malloc((tr->n_cls + tr->n_feat + 1) * sizeof *items);
  cls_new = fmi_malloc((tr->n_cls + 1) * sizeof *cls_new);
  feat_new = fmi_malloc((tr->n_feat + 1) * sizeof *feat_new);
  if (!items || !cls_new || !feat_new) goto nomem;
  for (k = 0; k < tr->n_cls; k++) {
    cls_new[k] = UINT32_MAX;
    if (!tr->cls_docs[k]) continue;
    items[C].key = tr->cls_head[k];
    items[C].name = tr->pool.data + tr->cls_name[k];
    items[C].idx = (uint32_t)k;
    C++;
  }
  qsort(items, C, sizeof *items, cmp_by_name);
  c->n_heads = tr->n_heads;
  c->n_classes = C;
  c->n_docs = tr->n_docs;
  c->head_name = fmi_calloc(tr->n_heads, sizeof *c->head_name);
  c->head_first = fmi_calloc(tr->n_heads + 1, sizeof *c->head_first);
  c->src_first = fmi_calloc(tr->n_heads + 1, sizeof *c->src_first);
  c->class_name = fmi_calloc(C + 1, sizeof *c->class_name);
  c->class_docs = fmi_calloc(C + 1, sizeof *c->class_docs);
  c->class_mass = fmi_calloc(C + 1, sizeof *c->class_mass);
  c->class_prior = fmi_calloc(C + 1, sizeof *c->class_prior);
  if (!c->head_name || !c->head_first || !c->src_first || !c->class_name ||
      !c->class_docs || !c->class_mass || !c->class_prior)
    goto nomem;
  for (h = 0; h < tr->n_heads; h++) {
    const char *s = tr->pool.data + tr->head_name[h];
    if (fmi_counts_intern(c, s, strlen(s), &c->head_name[h]) != FM_OK)
      goto nomem;
  }
  for (k = 0; k < C; k++) {
    uint32_t o = items[k].idx;
    cls_new[o] = (uint32_t)k;
    if (fmi_counts_intern(c, items[k].name, strlen(items[k].name),
                          &c->class_name[k]) != FM_OK)
      goto nomem;
    c->class_docs[k] = tr->cls_docs[o];
    c->class_mass[k] = tr->cls_mass[o];
    c->class_prior[k] = -1;
    for (i = 0; i < tr->n_priors; i++)
      if (tr->priors[i].head == items[k].key &&
          !strcmp(tr->priors[i].label, items[k].name))
        c->class_prior[k] = tr->priors[i].p;
    c->head_first[items[k].key + 1] = k + 1;
  }
  for (h = 0; h < tr->n_heads; h++) {
    if (c->head_first[h + 1] < c->head_first[h])
      c->head_first[h + 1] = c->head_first[h];
    if (c->head_first[h + 1] == c->head_first[h] && !tr->allow_empty_heads) {
      fm_status st = fmi_fail(err, FM_EINVAL,
                              "head '%s' has no labeled document",
                              tr->pool.data + tr->head_name[h]);
      fmi_free(items);
      fmi_free(cls_new);
      fmi_free(feat_new);
      fmi_counts_free(c);
      return st;
    }
  }
  /* Sources, sorted per head. */
  for (h = 0; h < tr->n_heads; h++) c->n_src += tr->n_src[h];
  c->src_name = fmi_calloc(c->n_src + 1, sizeof *c->src_name);
  if (!c->src_name) goto nomem;
  c->n_src = 0;
  for (h = 0; h < tr->n_heads; h++) {
    size_t n = tr->n_src[h];
    for (i = 0; i < n; i++) items[i].name = tr->pool.data + tr->src[h][i];
    qsort(items, n, sizeof *items, cmp_src);
    for (i = 0; i < n; i++)
      if (fmi_counts_intern(c, items[i].name, strlen(items[i].name),
                            &c->src_name[c->n_src++]) != FM_OK)
        goto nomem;
    c->src_first[h + 1] = c->n_src;
  }
  /* Features seen in a committed document, sorted by id. */
  for (k = 0; k < tr->n_feat; k++) {
    feat_new[k] = UINT32_MAX;
    if (!tr->df[k]) continue;
    items[F].key = tr->feat_id[k];
    items[F].idx = (uint32_t)k;
    F++;
  }
  qsort(items, F, sizeof *items, cmp_by_key);
  c->n_feat = F;
  c->feat_id = fmi_calloc(F + 1, sizeof *c->feat_id);
  c->feat_str = fmi_calloc(F + 1, sizeof *c->feat_str);
  c->feat_len = fmi_calloc(F + 1, sizeof *c->feat_len);
  c->df = fmi_calloc(F + 1, sizeof *c->df);
  c->post_off = fmi_calloc(F + 1, sizeof *c->post_off);
  count = fmi_calloc(F + 1, sizeof *count);
  if (!c->feat_id || !c->feat_str || !c->feat_len || !c->df ||
      !c->post_off || !count)
    goto nomem;
  for (k = 0; k < F; k++) {
    uint32_t o = items[k].idx;
    feat_new[o] = (uint32_t)k;
    c->feat_id[k] = tr->feat_id[o];
    c->feat_len[k] = tr->feat_len[o];
    c->df[k] = tr->df[o];
    if (fmi_counts_intern(c, tr->pool.data + tr->feat_str[o], tr->feat_len[o],
                          &c->feat_str[k]) != FM_OK)
      goto nomem;
  }
  /* Postings: every committed document's entries summed per (feature,
   * class). The entries are bucketed by feature (df counts them), then
   * each feature's are added up per class in a dense accumulator; adding
   * them up here, once, costs far less than a hash probe per entry and
   * head while the documents arrive. Sums of integers: the order they are
   * added in cannot change them. */
  {
    uint64_t *acc = NULL, *bmass = NULL;
    uint32_t *bdoc = NULL, *touched = NULL;
    size_t *fill = NULL;
    size_t H = tr->n_heads, cap_post = 0, e, j;
    for (k = 0; k < F; k++) count[k + 1] = count[k] + tr->df[items[k].idx];
    acc = fmi_calloc(C + 1, sizeof *acc);
    touched = fmi_malloc((C + 1) * sizeof *touched);
    fill = fmi_malloc((F + 1) * sizeof *fill);
    bdoc = fmi_malloc((count[F] + 1) * sizeof *bdoc);
    bmass = fmi_malloc((count[F] + 1) * sizeof *bmass);
    if (!fmi_mul_overflows(count[F], H, &cap_post)) {
      if (cap_post > (size_t)F * C) cap_post = (size_t)F * C;
      c->post_class = fmi_malloc((cap_post + 1) * sizeof *c->post_class);
      c->post_mass = fmi_malloc((cap_post + 1) * sizeof *c->post_mass);
    }
    if (!acc || !touched || !fill || !bdoc || !bmass || !c->post_class ||
        !c->post_mass) {
      fmi_free(acc);
      fmi_free(touched);
      fmi_free(fill);
      fmi_free(bdoc);
      fmi_free(bmass);
      goto nomem;
    }
    for (k = 0; k < F; k++) fill[k] = count[k];
    for (i = 0; i < tr->n_docs; i++)
      for (e = tr->doc_off[i]; e < tr->doc_off[i + 1]; e++) {
        uint32_t f = feat_new[tr->ent_feat[e]];
        bdoc[fill[f]] = (uint32_t)i;
        bmass[fill[f]++] = tr->ent_mass[e];
      }
    P = 0;
    for (k = 0; k < F; k++) {
      size_t nt = 0, x, y;
      c->post_off[k] = P;
      for (j = count[k]; j < count[k + 1]; j++) {
        const uint32_t *lab = tr->doc_label + (size_t)bdoc[j] * H;
        for (h = 0; h < H; h++) {
          uint32_t cl = lab[h] == UINT32_MAX ? UINT32_MAX : cls_new[lab[h]];
          if (cl == UINT32_MAX) continue;
          if (!acc[cl]) touched[nt++] = cl;
          acc[cl] += bmass[j];
        }
      }
      for (x = 1; x < nt; x++) { /* insertion sort: lists are short */
        uint32_t cl = touched[x];
        for (y = x; y > 0 && touched[y - 1] > cl; y--)
          touched[y] = touched[y - 1];
        touched[y] = cl;
      }
      for (x = 0; x < nt; x++) {
        c->post_class[P] = touched[x];
        c->post_mass[P++] = acc[touched[x]];
        acc[touched[x]] = 0;
      }
    }
    c->post_off[F] = P;
    if (P < cap_post) { /* the bound was loose: give the rest back */
      uint32_t *pc = fmi_realloc(c->post_class, (P + 1) * sizeof *pc);
      uint64_t *pm;
      if (pc) c->post_class = pc;
      pm = fmi_realloc(c->post_mass, (P + 1) * sizeof *pm);
      if (pm) c->post_mass = pm;
    }
    fmi_free(acc);
    fmi_free(touched);
    fmi_free(fill);
    fmi_free(bdoc);
    fmi_free(bmass);
  }
  /* Documents, renumbered. */
  if (d) {
    d->n = tr->n_docs;
    d->n_heads = tr->n_heads;
    d->off = fmi_malloc((tr->n_docs + 1) * sizeof *d->off);
    d->feat = fmi_malloc((tr->n_ent + 1) * sizeof *d->feat);
    d->mass = fmi_malloc((tr->n_ent + 1) * sizeof *d->mass);
    d->label = fmi_malloc((tr->n_docs * tr->n_heads + 1) * sizeof *d->label);
    d->hash = fmi_malloc((tr->n_docs + 1) * sizeof *d->hash);
    if (!d->off || !d->feat || !d->mass || !d->label || !d->hash) goto nomem;
    memcpy(d->off, tr->doc_off, (tr->n_docs + 1) * sizeof *d->off);
    for (i = 0; i < tr->n_ent; i++) {
      d->feat[i] = feat_new[tr->ent_feat[i]];
      d->mass[i] = tr->ent_mass[i];
    }
    for (i = 0; i < tr->n_docs * tr->n_heads; i++)
      d->label[i] = tr->doc_label[i] == UINT32_MAX
                        ? UINT32_MAX
                        : cls_new[tr->doc_label[i]];
    if (tr->n_docs) memcpy(d->hash, tr->doc_hash, tr->n_docs * sizeof *d->hash);
  }
  fmi_free(items);
  fmi_free(cls_new);
  fmi_free(feat_new);
  fmi_free(count);
  return FM_OK;
nomem:
  fmi_free(items);
  fmi_free(cls_new);
  fmi_free(feat_new);
  fmi_free(count);
  fmi_counts_free(c);
  fmi_docs_free(d);
  return fmi_fail(err, FM_ENOMEM, "out of memory finalizing the counts");
}

void fmi_calib_for_settings(const fmi_settings *s, fmi_calib *c) {
  fmi_calib_default(c);
  c->threshold = s->review == FM_REVIEW_FIXED ? s->review_value : 0.5;
}

fm_status fm_trainer_write_memory(fm_trainer *tr, void **data, size_t *len,
                                  fm_error *err) {
  fmi_counts c;
  fmi_docs d;
  fmi_settings set;
  fmi_fit fit;
  fm_status st;
  size_t h;
  unsigned char *bytes = NULL;
  if (!tr || !data || !len) return fmi_fail(err, FM_EINVAL, "bad arguments");
  *data = NULL;
  *len = 0;
  st = finalize(tr, &c, &d, err);
  if (st != FM_OK) return st;
  set = tr->set;
  set.n_docs = tr->n_docs;
  set.n_grid = 0;
  memset(&fit, 0, sizeof fit);
  fit.calib = fmi_calloc(tr->n_heads, sizeof *fit.calib);
  if (!fit.calib) {
    st = fmi_fail(err, FM_ENOMEM, "out of memory");
    goto done;
  }
  for (h = 0; h < tr->n_heads; h++) fmi_calib_for_settings(&set, &fit.calib[h]);
  if (set.alpha_requested < 0 || set.calibrate ||
      (set.flags & FMI_SETF_CHOICE_BITS)) {
    st = fmi_cv_fit(&set, &c, &d, NULL, &fit, err);
    if (st != FM_OK) goto done;
    set.alpha = fit.alpha;
    set.variant = fit.variant;
    set.priors = fit.priors;
    if (set.alpha_requested < 0) {
      set.n_grid = fit.n_grid;
      memcpy(set.grid_alpha, fit.grid_alpha, sizeof set.grid_alpha);
      memcpy(set.grid_score, fit.grid_score, sizeof set.grid_score);
    }
  }
  st = fmi_model_build(&set, &c, fit.calib, &bytes, len, err);
  if (st == FM_OK) *data = bytes;
done:
  fmi_free(fit.calib);
  fmi_counts_free(&c);
  fmi_docs_free(&d);
  return st;
}

fm_status fm_trainer_write(fm_trainer *tr, const char *path, fm_error *err) {
  void *data;
  size_t len;
  fm_status st;
  if (!path) return fmi_fail(err, FM_EINVAL, "path is NULL");
  st = fm_trainer_write_memory(tr, &data, &len, err);
  if (st != FM_OK) return st;
  st = fmi_write_file_atomic(path, data, len, err);
  fmi_free(data);
  return st;
}

fm_status fm_trainer_cross_validate(fm_trainer *tr, unsigned folds,
                                    fm_eval *ev, fm_error *err) {
  fmi_counts c;
  fmi_docs d;
  fmi_settings set;
  fm_status st;
  if (!tr || !ev) return fmi_fail(err, FM_EINVAL, "bad arguments");
  if (folds < 2 || folds > tr->n_docs)
    return fmi_fail(err, FM_EINVAL,
                    "%u folds need at least %u documents (have %zu)", folds,
                    folds < 2 ? 2 : folds, tr->n_docs);
  st = finalize(tr, &c, &d, err);
  if (st != FM_OK) return st;
  set = tr->set;
  set.n_docs = tr->n_docs;
  st = fmi_cv_crossval(&set, &c, &d, folds, ev, err);
  fmi_counts_free(&c);
  fmi_docs_free(&d);
  return st;
}
