/*
 * tagger.c -- fm_tagger: one thread's pipeline state, bound to a model or
 * not. Tagging itself (scores, calibration, explanation) is in classify.c.
 */
#include "tagger.h"
#include "classify.h"

fm_status fm_tagger_new(const fm_model *model, const fm_pipeline_opts *opts,
                        fm_tagger **out, fm_error *err) {
  fm_tagger *t;
  fm_pipeline_opts mopts;
  fm_status st;
  if (!out) return fmi_fail(err, FM_EINVAL, "out is NULL");
  *out = NULL;
  if (model && opts)
    return fmi_fail(err, FM_EINVAL,
                    "a tagger with a model uses the model's pipeline "
                    "options: pass opts = NULL");
  t = fmi_calloc(1, sizeof *t);
  if (!t) return fmi_fail(err, FM_ENOMEM, "out of memory");
  t->model = model;
  if (model) {
    fm_model_pipeline_opts(model, &mopts);
    opts = &mopts;
  }
  st = fmi_pipeline_init(&t->pipe, opts, err);
  if (st != FM_OK) {
    fmi_free(t);
    return st;
  }
  *out = t;
  return FM_OK;
}

void fm_tagger_free(fm_tagger *t) {
  if (!t) return;
  fmi_pipeline_destroy(&t->pipe);
  fmi_scratch_free(t->score);
  fmi_free(t);
}

fm_status fm_tagger_analyze(fm_tagger *t, const char *text, size_t len,
                            const char *lang, const fm_analysis **out,
                            fm_error *err) {
  fm_status st;
  if (!t || !out) return fmi_fail(err, FM_EINVAL, "tagger or out is NULL");
  *out = NULL;
  st = fmi_pipeline_run(&t->pipe, text, len, lang, err);
  if (st != FM_OK) return st;
  *out = &t->pipe.an;
  return FM_OK;
}
