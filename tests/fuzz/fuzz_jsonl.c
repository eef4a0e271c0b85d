/*
 * fuzz_jsonl.c -- any bytes through the JSON Lines reader (fuzz_reader.h),
 * with a small field cap so the size-cap paths are reached.
 */
#include "fuzz_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fuzz_reader(data, size, FM_FORMAT_JSONL, "fuzz.jsonl", "text=a+b.c");
}
