/*
 * store.h -- what the batch files share about the store (store.c). The
 * store's interface is public (fm_store_* in feedmine.h); SQLite stays
 * inside store.c.
 */
#ifndef FM_STORE_H
#define FM_STORE_H

#include "internal.h"

/* The application id in the SQLite header ("FMST"): a store is recognised
 * by it, and another application's database refused. */
#define FMI_STORE_APP_ID 0x464D5354

/* One row of the models table, borrowed for the duration of the callback.
 * The callback returns FM_OK to go on. */
typedef fm_status (*fmi_store_model_fn)(void *user, const char *id,
                                        const char *path,
                                        const char *summary);
/* Calls fn for every model, by id. */
fm_status fmi_store_models(fm_store *store, fmi_store_model_fn fn,
                           void *user, fm_error *err);

/* The path the store was opened with (owned by the store). */
const char *fmi_store_path(const fm_store *store);

/* The newest item date; *has is 0 when no item has a date. */
fm_status fmi_store_last_date(fm_store *store, int64_t *last, int *has,
                              fm_error *err);

/* The id of the current model (fm_store_use_model), or "". */
const char *fmi_store_current_model(const fm_store *store);

#endif
