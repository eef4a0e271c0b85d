/*
 * fuzz_config.c -- any bytes through the batch configuration parser. A
 * parse either fails with a message naming a line, or gives a
 * configuration whose required parts are all there.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feedmine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fm_batch_config *c = NULL;
  fm_error err;
  fm_status st = fm_batch_config_parse((const char *)data, size, "fuzz.ini",
                                       "/base", &c, &err);
  if (st == FM_OK) {
    size_t i;
    if (!c->store || !c->model || !c->output || !c->n_sources) abort();
    for (i = 0; i < c->n_sources; i++)
      if (!c->sources[i].n_paths || !c->sources[i].type) abort();
    for (i = 0; i < c->n_reports; i++)
      if (!c->reports[i].period_days || !c->reports[i].n_formats) abort();
    fm_batch_config_free(c);
  } else if (st != FM_EPARSE && st != FM_ENOMEM) {
    abort();
  } else if (strlen(err.msg) >= sizeof err.msg ||
             strncmp(err.msg, "fuzz.ini", 8) != 0) {
    abort();
  }
  return 0;
}
