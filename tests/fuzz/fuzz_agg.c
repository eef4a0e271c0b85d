/*
 * fuzz_agg.c -- any bytes through the aggregate deserializer
 * (fm_agg_deserialize: untrusted input, e.g. partial aggregates from other
 * machines). A parse either fails with FM_EPARSE / FM_EVERSION / FM_ENOMEM
 * and a message, or gives an aggregate that serializes to a canonical form
 * that reads back to the same bytes, merges with a copy of itself, and
 * renders in all four report formats.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feedmine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fm_agg *a = NULL, *b = NULL, *c = NULL;
  fm_error err;
  char *s1 = NULL, *s2 = NULL, *r = NULL;
  size_t n1, n2, nr;
  int f;
  fm_status st = fm_agg_deserialize(data, size, &a, &err);
  if (st != FM_OK) {
    if (a) abort();
    if (st != FM_EPARSE && st != FM_EVERSION && st != FM_ENOMEM) abort();
    if (!err.msg[0] || strlen(err.msg) >= sizeof err.msg) abort();
    return 0;
  }
  if (fm_agg_serialize(a, &s1, &n1, &err) != FM_OK) abort();
  if (fm_agg_deserialize(s1, n1, &b, &err) != FM_OK) abort();
  if (fm_agg_serialize(b, &s2, &n2, &err) != FM_OK) abort();
  if (n1 != n2 || memcmp(s1, s2, n1) != 0) abort(); /* canonical */
  if (fm_agg_deserialize(s1, n1, &c, &err) != FM_OK) abort();
  st = fm_agg_merge(b, c, &err);
  if (st != FM_OK && st != FM_ENOMEM) abort();
  for (f = 0; f < 4; f++) {
    fm_report_opts ro = FM_REPORT_OPTS_INIT;
    ro.format = (fm_report_format)f;
    st = fm_report_write_memory(f % 2 ? a : b, &ro, &r, &nr, &err);
    if (st != FM_OK && st != FM_ENOMEM) abort();
    fm_free(r);
    r = NULL;
  }
  fm_free(s1);
  fm_free(s2);
  fm_agg_free(a);
  fm_agg_free(b);
  fm_agg_free(c);
  return 0;
}
