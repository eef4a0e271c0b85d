/*
 * tagger.h -- the per-thread working state behind fm_tagger.
 */
#ifndef FM_TAGGER_H
#define FM_TAGGER_H

#include "pipeline.h"

struct fm_tagger {
  const fm_model *model; /* borrowed; NULL for an analysis-only tagger */
  fmi_pipeline pipe;
  /* Scoring scratch (classify.c) follows; owned by the tagger. */
  void *score;
};

#endif
