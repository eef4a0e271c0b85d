/*
 * fuzz_model.c -- the model loader on arbitrary bytes: fm_model_open_memory
 * must refuse or accept without reading out of bounds, and a model it
 * accepts must tag a sentence without crashing (crafted files can carry a
 * valid checksum). Each input is tried twice: as given, and with its
 * checksum recomputed, so mutations reach the section parsers and the
 * scoring index instead of stopping at the checksum. Seeds in
 * corpus/model/ are small real models.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feedmine.h"
#include "model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void try_model(const void *bytes, size_t size) {
  fm_model *m = NULL;
  fm_error err;
  if (fm_model_open_memory(bytes, size, &m, &err) != FM_OK) return;
  {
    fm_tagger *t = NULL;
    if (fm_tagger_new(m, NULL, &t, &err) == FM_OK) {
      static const char text[] =
          "I was charged twice for my invoice and the login page crashes";
      fm_tag_opts o = FM_TAG_OPTS_INIT;
      const fm_result *r;
      o.flags = FM_TAG_EXPLAIN;
      o.source = "ticket";
      (void)fm_tagger_tag(t, text, sizeof text - 1, "en", &o, &r, &err);
      fm_tagger_free(t);
    }
  }
  {
    fm_model_info info;
    size_t h;
    info.size = sizeof info;
    (void)fm_model_info_get(m, &info, &err);
    for (h = 0; h < fm_model_head_count(m); h++) {
      fm_head_info hi;
      hi.size = sizeof hi;
      (void)fm_model_head_info(m, h, &hi, &err);
    }
  }
  {
    /* Decoding the counts (merge, learn) is the other reader of the file. */
    const fm_model *one[1];
    void *out = NULL;
    size_t len;
    one[0] = m;
    if (fm_model_merge_memory(one, 1, 0, &out, &len, &err) == FM_OK)
      fm_free(out);
  }
  fm_model_close(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* The loader wants 8-byte aligned bytes; libFuzzer's may not be. */
  uint64_t *copy = calloc(size / 8 + 1, 8);
  if (!copy) return 0;
  if (size) memcpy(copy, data, size);
  try_model(copy, size);
  if (size >= FMI_HDR_BYTES) {
    unsigned char *b = (unsigned char *)copy;
    fmi_put_le64(b + FMI_HDR_CHECKSUM, fmi_model_checksum(b, size));
    try_model(copy, size);
  }
  free(copy);
  return 0;
}
