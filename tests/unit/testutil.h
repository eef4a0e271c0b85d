/* testutil.h -- small helpers shared by the unit tests. */
#ifndef FM_TESTUTIL_H
#define FM_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "internal.h"

/* Reads a whole file into a malloc'd NUL-terminated buffer (test aborts on
 * failure). Paths relative to the source tree when not absolute. */
char *tu_read_file(const char *path, size_t *len);
/* Absolute path of a file in the source tree (static buffer per call). */
const char *tu_src_path(const char *rel);
/* Path of the shared datasets, or NULL when absent. */
const char *tu_datasets_dir(void);

#endif
