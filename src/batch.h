/*
 * batch.h -- what the nightly job's files share (batch.c runs the job,
 * batch_json.c writes its JSON). jansson stays in batch_json.c.
 */
#ifndef FM_BATCH_H
#define FM_BATCH_H

#include "internal.h"

#include <stdio.h>

/* One line of the runs log. Borrowed strings. */
typedef struct fmi_run_record {
  int64_t run_id;
  const char *start, *end; /* ISO 8601 UTC */
  const char *status;      /* "ok", "partial", "failed" */
  double seconds;
  const char *model_id;
  const fm_batch_stats *stats;
  const char *const *failed; /* names of the sources that failed */
  size_t n_failed;
} fmi_run_record;

/* The runs log line as compact JSON, fmi_malloc'd into *out (release with
 * fmi_free). Errors: FM_ENOMEM. */
fm_status fmi_batch_run_json(const fmi_run_record *r, char **out,
                             fm_error *err);

/* One rejected row as a JSON line on `out`: source, file, line, reason,
 * the raw bytes (repaired to valid UTF-8) and whether they were cut.
 * Errors: FM_EIO, FM_ENOMEM. */
fm_status fmi_batch_reject_line(FILE *out, const char *source,
                                const char *file, uint64_t line,
                                const char *reason, const char *raw,
                                size_t raw_len, int truncated,
                                fm_error *err);

#endif
