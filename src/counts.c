/*
 * counts.c -- the count tables a model keeps, and their merge. Counts are
 * unsigned fixed-point integers, so adding them is exact, associative and
 * commutative: merging shards gives the same numbers as training on their
 * union, in any order.
 */
#include "model.h"

#include <stdlib.h>

void fmi_counts_free(fmi_counts *c) {
  if (!c) return;
  fmi_buf_free(&c->pool);
  fmi_free(c->head_name);
  fmi_free(c->head_first);
  fmi_free(c->src_first);
  fmi_free(c->src_name);
  fmi_free(c->class_name);
  fmi_free(c->class_docs);
  fmi_free(c->class_mass);
  fmi_free(c->class_prior);
  fmi_free(c->feat_id);
  fmi_free(c->feat_str);
  fmi_free(c->feat_len);
  fmi_free(c->df);
  fmi_free(c->post_off);
  fmi_free(c->post_class);
  fmi_free(c->post_mass);
  memset(c, 0, sizeof *c);
}

/* Byte order of (s, n) strings; a proper prefix sorts first. */
static int strcmp_n(const char *a, size_t an, const char *b, size_t bn) {
  int r = memcmp(a, b, an < bn ? an : bn);
  if (r) return r;
  return an < bn ? -1 : an > bn;
}

typedef struct name_ref {
  const char *s;
  size_t in;  /* input index */
  size_t idx; /* index within that input */
} name_ref;

static int cmp_name_ref(const void *a, const void *b) {
  const name_ref *x = a, *y = b;
  int r = strcmp(x->s, y->s);
  if (r) return r;
  if (x->in != y->in) return x->in < y->in ? -1 : 1;
  return 0;
}

static int cmp_class_mass(const void *a, const void *b) {
  const uint64_t *x = a, *y = b; /* pairs: class, mass */
  return x[0] < y[0] ? -1 : x[0] > y[0];
}

fm_status fmi_counts_merge(const fmi_counts *const *in, size_t n,
                           fmi_counts *out, fm_error *err) {
  size_t H, h, i, k, total_cls = 0, total_src = 0, total_feat = 0, cap_post;
  size_t **remap = NULL, *pos = NULL, n_post = 0;
  name_ref *refs = NULL;
  uint64_t *tmp = NULL;
  size_t tmp_cap = 0;
  fm_status st = FM_ENOMEM;
  memset(out, 0, sizeof *out);
  if (n == 0) return fmi_fail(err, FM_EINVAL, "nothing to merge");
  H = in[0]->n_heads;
  for (i = 1; i < n; i++) {
    if (in[i]->n_heads != H)
      return fmi_fail(err, FM_EMISMATCH,
                      "models have different heads (%zu and %zu)", H,
                      in[i]->n_heads);
    for (h = 0; h < H; h++)
      if (strcmp(fmi_counts_str(in[0], in[0]->head_name[h]),
                 fmi_counts_str(in[i], in[i]->head_name[h])))
        return fmi_fail(err, FM_EMISMATCH,
                        "models have different heads: '%s' and '%s'",
                        fmi_counts_str(in[0], in[0]->head_name[h]),
                        fmi_counts_str(in[i], in[i]->head_name[h]));
  }
  for (i = 0; i < n; i++) {
    total_cls += in[i]->n_classes;
    total_src += in[i]->n_src;
    total_feat += in[i]->n_feat;
  }
  remap = fmi_calloc(n, sizeof *remap);
  pos = fmi_calloc(n, sizeof *pos);
  refs = fmi_calloc(total_cls + total_src + 1, sizeof *refs);
  out->n_heads = H;
  out->head_name = fmi_calloc(H, sizeof *out->head_name);
  out->head_first = fmi_calloc(H + 1, sizeof *out->head_first);
  out->src_first = fmi_calloc(H + 1, sizeof *out->src_first);
  out->class_name = fmi_calloc(total_cls + 1, sizeof *out->class_name);
  out->class_docs = fmi_calloc(total_cls + 1, sizeof *out->class_docs);
  out->class_mass = fmi_calloc(total_cls + 1, sizeof *out->class_mass);
  out->class_prior = fmi_calloc(total_cls + 1, sizeof *out->class_prior);
  out->src_name = fmi_calloc(total_src + 1, sizeof *out->src_name);
  if (!remap || !pos || !refs || !out->head_name || !out->head_first ||
      !out->src_first || !out->class_name || !out->class_docs ||
      !out->class_mass || !out->class_prior || !out->src_name)
    goto fail;
  for (i = 0; i < n; i++) {
    remap[i] = fmi_calloc(in[i]->n_classes + 1, sizeof **remap);
    if (!remap[i]) goto fail;
    out->n_docs += in[i]->n_docs;
  }
  for (h = 0; h < H; h++) {
    size_t nr = 0, j;
    const char *hn = fmi_counts_str(in[0], in[0]->head_name[h]);
    if (fmi_counts_intern(out, hn, strlen(hn), &out->head_name[h]) != FM_OK)
      goto fail;
    /* Labels: the sorted union; each input's index maps into it. */
    for (i = 0; i < n; i++)
      for (k = in[i]->head_first[h]; k < in[i]->head_first[h + 1]; k++) {
        refs[nr].s = fmi_counts_str(in[i], in[i]->class_name[k]);
        refs[nr].in = i;
        refs[nr].idx = k;
        nr++;
      }
    qsort(refs, nr, sizeof *refs, cmp_name_ref);
    for (j = 0; j < nr; j++) {
      const fmi_counts *src = in[refs[j].in];
      size_t c = refs[j].idx, o;
      double pr = src->class_prior[c];
      if (j == 0 || strcmp(refs[j - 1].s, refs[j].s)) {
        o = out->n_classes++;
        if (fmi_counts_intern(out, refs[j].s, strlen(refs[j].s),
                              &out->class_name[o]) != FM_OK)
          goto fail;
        out->class_prior[o] = -1;
      }
      o = out->n_classes - 1;
      remap[refs[j].in][c] = o;
      out->class_docs[o] += src->class_docs[c];
      out->class_mass[o] += src->class_mass[c];
      if (pr >= 0) {
        if (out->class_prior[o] >= 0 && out->class_prior[o] != pr) {
          st = fmi_fail(err, FM_EMISMATCH,
                        "models give label '%s' of head '%s' different "
                        "priors",
                        refs[j].s, hn);
          goto fail_quiet;
        }
        out->class_prior[o] = pr;
      }
    }
    out->head_first[h + 1] = out->n_classes;
    /* Sources: the sorted union. */
    nr = 0;
    for (i = 0; i < n; i++)
      for (k = in[i]->src_first[h]; k < in[i]->src_first[h + 1]; k++) {
        refs[nr].s = fmi_counts_str(in[i], in[i]->src_name[k]);
        refs[nr].in = i;
        refs[nr].idx = k;
        nr++;
      }
    qsort(refs, nr, sizeof *refs, cmp_name_ref);
    for (j = 0; j < nr; j++)
      if (j == 0 || strcmp(refs[j - 1].s, refs[j].s)) {
        if (fmi_counts_intern(out, refs[j].s, strlen(refs[j].s),
                              &out->src_name[out->n_src]) != FM_OK)
          goto fail;
        out->n_src++;
      }
    out->src_first[h + 1] = out->n_src;
  }
  /* Features: an n-way merge by id. */
  out->feat_id = fmi_calloc(total_feat + 1, sizeof *out->feat_id);
  out->feat_str = fmi_calloc(total_feat + 1, sizeof *out->feat_str);
  out->feat_len = fmi_calloc(total_feat + 1, sizeof *out->feat_len);
  out->df = fmi_calloc(total_feat + 1, sizeof *out->df);
  out->post_off = fmi_calloc(total_feat + 1, sizeof *out->post_off);
  cap_post = 0;
  for (i = 0; i < n; i++) cap_post += in[i]->post_off[in[i]->n_feat];
  out->post_class = fmi_calloc(cap_post + 1, sizeof *out->post_class);
  out->post_mass = fmi_calloc(cap_post + 1, sizeof *out->post_mass);
  if (!out->feat_id || !out->feat_str || !out->feat_len || !out->df ||
      !out->post_off || !out->post_class || !out->post_mass)
    goto fail;
  for (;;) {
    uint64_t id = 0;
    bool any = false;
    const char *best = NULL;
    size_t best_len = 0, nt = 0, f = out->n_feat;
    for (i = 0; i < n; i++)
      if (pos[i] < in[i]->n_feat && (!any || in[i]->feat_id[pos[i]] < id)) {
        id = in[i]->feat_id[pos[i]];
        any = true;
      }
    if (!any) break;
    for (i = 0; i < n; i++) {
      size_t w = pos[i], need;
      const char *s;
      if (w >= in[i]->n_feat || in[i]->feat_id[w] != id) continue;
      s = fmi_counts_str(in[i], in[i]->feat_str[w]);
      /* A 64-bit id collision keeps the smaller string: any order of
       * merging then agrees. */
      if (!best || strcmp_n(s, in[i]->feat_len[w], best, best_len) < 0) {
        best = s;
        best_len = in[i]->feat_len[w];
      }
      out->df[f] += in[i]->df[w];
      need = nt + 2 * (in[i]->post_off[w + 1] - in[i]->post_off[w]);
      if (need > tmp_cap) {
        size_t nc = tmp_cap ? tmp_cap * 2 : 256;
        uint64_t *t;
        while (nc < need) nc *= 2;
        t = fmi_realloc(tmp, nc * sizeof *t);
        if (!t) goto fail;
        tmp = t;
        tmp_cap = nc;
      }
      for (k = in[i]->post_off[w]; k < in[i]->post_off[w + 1]; k++) {
        tmp[nt++] = remap[i][in[i]->post_class[k]];
        tmp[nt++] = in[i]->post_mass[k];
      }
      pos[i]++;
    }
    out->feat_id[f] = id;
    out->feat_len[f] = (uint32_t)best_len;
    if (fmi_counts_intern(out, best, best_len, &out->feat_str[f]) != FM_OK)
      goto fail;
    qsort(tmp, nt / 2, 2 * sizeof *tmp, cmp_class_mass);
    for (k = 0; k < nt; k += 2) {
      if (k > 0 && tmp[k] == tmp[k - 2]) {
        out->post_mass[n_post - 1] += tmp[k + 1];
      } else {
        out->post_class[n_post] = (uint32_t)tmp[k];
        out->post_mass[n_post] = tmp[k + 1];
        n_post++;
      }
    }
    out->n_feat++;
    out->post_off[out->n_feat] = n_post;
  }
  for (i = 0; i < n; i++) fmi_free(remap[i]);
  fmi_free(remap);
  fmi_free(pos);
  fmi_free(refs);
  fmi_free(tmp);
  return FM_OK;
fail:
  st = fmi_fail(err, FM_ENOMEM, "out of memory merging counts");
fail_quiet:
  if (remap)
    for (i = 0; i < n; i++) fmi_free(remap[i]);
  fmi_free(remap);
  fmi_free(pos);
  fmi_free(refs);
  fmi_free(tmp);
  fmi_counts_free(out);
  return st;
}
