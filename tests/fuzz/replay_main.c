/*
 * replay_main.c -- stands in for libFuzzer when the build has no fuzzer:
 * runs LLVMFuzzerTestOneInput over every file of the saved corpus folders
 * (or files) given on the command line, so each input ever found stays a
 * regression test under ctest.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  uint8_t *buf;
  long n;
  if (!f) { fprintf(stderr, "replay: cannot open %s\n", path); return 1; }
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc(n > 0 ? (size_t)n : 1);
  if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
    fprintf(stderr, "replay: cannot read %s\n", path);
    fclose(f);
    free(buf);
    return 1;
  }
  fclose(f);
  LLVMFuzzerTestOneInput(buf, (size_t)n);
  free(buf);
  return 0;
}

int main(int argc, char **argv) {
  int i, files = 0, bad = 0;
  for (i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      fprintf(stderr, "replay: no such corpus %s\n", argv[i]);
      return 1;
    }
    if (S_ISDIR(st.st_mode)) {
      struct dirent **list;
      int n = scandir(argv[i], &list, NULL, alphasort), k;
      for (k = 0; k < n; k++) {
        char path[4096];
        if (list[k]->d_name[0] != '.') {
          snprintf(path, sizeof path, "%s/%s", argv[i], list[k]->d_name);
          bad += run_file(path);
          files++;
        }
        free(list[k]);
      }
      free(list);
    } else {
      bad += run_file(argv[i]);
      files++;
    }
  }
  printf("replayed %d inputs\n", files);
  return bad ? 1 : 0;
}
