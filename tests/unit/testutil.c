#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

const char *tu_src_path(const char *rel) {
  static char buf[4096];
  if (rel[0] == '/') return rel;
  snprintf(buf, sizeof buf, "%s/%s", FM_SOURCE_DIR, rel);
  return buf;
}

char *tu_read_file(const char *path, size_t *len) {
  FILE *f = fopen(tu_src_path(path), "rb");
  char *data;
  long n;
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  data = malloc((size_t)n + 1);
  assert_non_null(data);
  assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
  data[n] = 0;
  fclose(f);
  if (len) *len = (size_t)n;
  return data;
}

const char *tu_datasets_dir(void) {
  static char buf[4096];
  struct stat st;
  snprintf(buf, sizeof buf, "%s/../shared/datasets", FM_SOURCE_DIR);
  if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode)) return buf;
  return NULL;
}
