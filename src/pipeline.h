/*
 * pipeline.h -- runs the text pipeline stages in order over one document
 * and yields an fm_analysis. Owned by a tagger; one thread at a time.
 */
#ifndef FM_PIPELINE_H
#define FM_PIPELINE_H

#include "internal.h"
#include "lang.h"
#include "normalize.h"
#include "redact.h"
#include "segment.h"

typedef struct fmi_pipeline {
  fm_pipeline_opts opts;     /* resolved: no zero defaults left */
  fmi_arena arena;           /* per document, reset at each run */
  fmi_redactor *redactor;    /* NULL when FM_STAGE_REDACT is off */
  fmi_normalizer *normalizer;
  fmi_segmenter *segmenter;
  fmi_stemmers *stemmers;
  fmi_words *words;          /* word cache for stopwords and langid */
  /* Feature counting table, reused across documents: a slot is in use
   * when its stamp is the current document's, so nothing is cleared
   * between documents. */
  struct fmi_ft_slot {
    uint64_t key;            /* feature id */
    uint32_t val;            /* index into the feature array + 1 */
    uint32_t stamp;
  } *ft;
  uint32_t ft_gen;
  size_t ft_cap, ft_mask;    /* allocated; used by this document */
  /* False while fm_tagger_tag runs: character n-grams then get their id
   * but no text (nothing reads it; explanations sum them as "c:*"). */
  bool chargram_text;
  fm_analysis an;            /* the last result; points into arena */
  /* The last document's PII spans (arena) in the repaired text `pii_text`:
   * the host of each URL becomes a feature. */
  const fmi_span *pii;
  size_t n_pii;
  const char *pii_text;
} fmi_pipeline;

/* Fills `out` from `in` (NULL = defaults), validating ranges. */
fm_status fmi_pipeline_opts_resolve(const fm_pipeline_opts *in,
                                    fm_pipeline_opts *out, fm_error *err);

fm_status fmi_pipeline_init(fmi_pipeline *p, const fm_pipeline_opts *opts,
                            fm_error *err);
void fmi_pipeline_destroy(fmi_pipeline *p);

/* Runs every enabled stage. With want_text false, feature texts are still
 * produced (they are hashed) but tokens keep no stem copies beyond what
 * features need. The result is p->an, valid until the next run. */
fm_status fmi_pipeline_run(fmi_pipeline *p, const char *text, size_t len,
                           const char *lang, fm_error *err);

#endif
