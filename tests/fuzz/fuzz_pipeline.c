/*
 * fuzz_pipeline.c -- any bytes through the whole text pipeline. The first
 * two bytes choose the stages and the caller's language, so every option
 * combination is reachable; the rest is the text.
 */
#include <stdint.h>
#include <string.h>

#include "feedmine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const langs[] = {NULL, "en", "de", "he", "ar", "th",
                                    "ru", "xx-YY", "", "fr", "ja", "und"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fm_pipeline_opts o = FM_PIPELINE_OPTS_INIT;
  fm_tagger *t = NULL;
  const fm_analysis *a;
  fm_error err;
  size_t i;
  if (size < 2) return 0;
  o.stages = (unsigned)data[0] | ((unsigned)(data[1] & 1) << 8);
  o.char_ngram_min = 1 + (data[1] >> 5) % 3;
  o.char_ngram_max = o.char_ngram_min + (data[1] >> 3) % 3;
  /* odd sizes get a small cap, so the size-cap path is reached too */
  o.max_doc_bytes = (size & 1) ? 300 : 1 << 16;
  if (fm_tagger_new(NULL, &o, &t, &err) != FM_OK) return 0;
  if (fm_tagger_analyze(t, (const char *)data + 2, size - 2,
                        langs[(data[1] >> 1) % (sizeof langs / sizeof *langs)],
                        &a, &err) == FM_OK) {
    /* every token and feature must lie in valid memory */
    volatile unsigned sink = 0;
    for (i = 0; i < a->n_tokens; i++)
      if (a->tokens[i].len) sink += (unsigned char)a->tokens[i].text[a->tokens[i].len - 1];
    for (i = 0; i < a->n_features; i++)
      if (a->features[i].len) sink += (unsigned char)a->features[i].text[0];
    if (a->redacted_len) sink += (unsigned char)a->redacted[a->redacted_len - 1];
    (void)sink;
  }
  fm_tagger_free(t);
  return 0;
}
