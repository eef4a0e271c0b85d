/*
 * fuzz_csv.c -- any bytes through the CSV reader (fuzz_reader.h), with a
 * small field cap so the size-cap and resync paths are reached.
 */
#include "fuzz_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  return fuzz_reader(data, size, FM_FORMAT_CSV, "fuzz.csv", "text=a+b");
}
