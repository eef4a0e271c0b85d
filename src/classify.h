/*
 * classify.h -- per-tagger scoring scratch (it hangs off fm_tagger.score)
 * and the raw scoring shared by tagging and fm_calibrator.
 */
#ifndef FM_CLASSIFY_H
#define FM_CLASSIFY_H

#include "internal.h"

typedef struct fmi_scratch fmi_scratch;

/* Scratch sized for `model`. Errors: FM_ENOMEM. One thread at a time. */
fm_status fmi_scratch_new(const fm_model *model, fmi_scratch **out);
void fmi_scratch_free(fmi_scratch *s);

/* Raw naive Bayes scores of every class of every head (heads' classes
 * contiguous, in model order) for an analyzed document; *scores is owned
 * by the scratch until its next use. Errors: FM_EMODEL (inconsistent
 * index in a crafted file), FM_ENOMEM. */
fm_status fmi_score(const fm_model *model, fmi_scratch *s,
                    const fm_analysis *an, const double **scores,
                    fm_error *err);

#endif
