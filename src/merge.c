/*
 * merge.c -- fm_model_merge: models trained with the same settings become
 * one by adding their counts; the index is rebuilt from the sum. Because
 * the writer is a pure function of (settings, counts), merging shards is
 * byte-identical to training on their union.
 */
#include "model.h"

static fm_status merge_bytes(const fm_model *const *models, size_t n,
                             unsigned flags, unsigned char **out,
                             size_t *out_len, fm_error *err) {
  fmi_counts *cs = NULL, merged;
  const fmi_counts **ptrs = NULL;
  fmi_settings set;
  size_t i, h, decoded = 0, best = 0;
  bool same_alpha = true;
  fm_status st;
  fmi_calib *calib = NULL;
  *out = NULL;
  *out_len = 0;
  if (!models || n == 0) return fmi_fail(err, FM_EINVAL, "no models to merge");
  for (i = 0; i < n; i++)
    if (!models[i]) return fmi_fail(err, FM_EINVAL, "model %zu is NULL", i + 1);
  for (i = 1; i < n; i++) {
    st = fmi_settings_compatible(&models[0]->set, &models[i]->set, err);
    if (st != FM_OK) {
      char msg[sizeof err->msg];
      if (!err) return st;
      memcpy(msg, err->msg, sizeof msg);
      return fmi_fail(err, st, "model 1 and model %zu: %s", i + 1, msg);
    }
  }
  cs = fmi_calloc(n, sizeof *cs);
  ptrs = fmi_calloc(n, sizeof *ptrs);
  if (!cs || !ptrs) {
    st = fmi_fail(err, FM_ENOMEM, "out of memory merging models");
    goto done;
  }
  for (i = 0; i < n; i++) {
    st = fmi_model_counts(models[i], &cs[i], err);
    if (st != FM_OK) goto done;
    decoded++;
    ptrs[i] = &cs[i];
  }
  st = fmi_counts_merge(ptrs, n, &merged, err);
  if (st != FM_OK) goto done;
  set = models[0]->set;
  set.n_docs = merged.n_docs;
  set.n_grid = 0;
  /* Alpha: common when equal; otherwise the best-informed model's. */
  for (i = 1; i < n; i++) {
    if (models[i]->set.alpha != models[0]->set.alpha) same_alpha = false;
    if (models[i]->set.n_docs > models[best]->set.n_docs ||
        (models[i]->set.n_docs == models[best]->set.n_docs &&
         models[i]->set.alpha < models[best]->set.alpha))
      best = i;
  }
  set.alpha = same_alpha ? models[0]->set.alpha : models[best]->set.alpha;
  /* So are a variant and priors mode chosen by cross-validation. */
  set.variant = models[best]->set.variant;
  set.priors = models[best]->set.priors;
  calib = fmi_calloc(merged.n_heads, sizeof *calib);
  if (!calib) {
    fmi_counts_free(&merged);
    st = fmi_fail(err, FM_ENOMEM, "out of memory merging models");
    goto done;
  }
  for (h = 0; h < merged.n_heads; h++) {
    if (flags & FM_MERGE_KEEP_CALIBRATION)
      calib[h] = models[0]->calib[h];
    else
      fmi_calib_for_settings(&set, &calib[h]);
  }
  st = fmi_model_build(&set, &merged, calib, out, out_len, err);
  fmi_counts_free(&merged);
done:
  for (i = 0; i < decoded; i++) fmi_counts_free(&cs[i]);
  fmi_free(cs);
  fmi_free(ptrs);
  fmi_free(calib);
  return st;
}

fm_status fm_model_merge_memory(const fm_model *const *models, size_t n,
                                unsigned flags, void **data, size_t *len,
                                fm_error *err) {
  unsigned char *bytes;
  fm_status st;
  if (!data || !len) return fmi_fail(err, FM_EINVAL, "bad arguments");
  st = merge_bytes(models, n, flags, &bytes, len, err);
  *data = st == FM_OK ? bytes : NULL;
  return st;
}

fm_status fm_model_merge(const fm_model *const *models, size_t n,
                         unsigned flags, const char *path, fm_error *err) {
  unsigned char *bytes;
  size_t len;
  fm_status st;
  if (!path) return fmi_fail(err, FM_EINVAL, "path is NULL");
  st = merge_bytes(models, n, flags, &bytes, &len, err);
  if (st != FM_OK) return st;
  st = fmi_write_file_atomic(path, bytes, len, err);
  fmi_free(bytes);
  return st;
}
