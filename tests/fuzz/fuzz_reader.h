/*
 * fuzz_reader.h -- the body of the two reader fuzz targets (fuzz_csv.c,
 * fuzz_jsonl.c), which differ only in the format, the file name and the
 * text map: any bytes through the reader as a stream (fmemopen), with a
 * small field cap so the size-cap (and, for CSV, resync) paths are
 * reached. The first byte picks options: delimiter, date order, a map.
 */
#ifndef FM_FUZZ_READER_H
#define FM_FUZZ_READER_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "feedmine.h"

static int fuzz_reader(const uint8_t *data, size_t size, fm_format format,
                       const char *name, const char *text_map) {
  static const char delims[4] = {0, ',', ';', '\t'};
  const char *const maps[] = {text_map, "date=d", "score=s", "revenue=r"};
  fm_reader_opts o = FM_READER_OPTS_INIT;
  fm_reader *r = NULL;
  fm_error err;
  FILE *f;
  unsigned flags = size ? data[0] : 0;
  size_t i;
  if (size) {
    data++;
    size--;
  }
  o.format = format;
  o.delimiter = delims[flags & 3];
  o.date_order = (fm_date_order)((flags >> 2) % 3);
  o.max_field_bytes = (flags & 0x20) ? 64 : 0;
  if (flags & 0x40) {
    o.map = maps;
    o.n_map = 4;
  }
  f = fmemopen(size ? (void *)data : (void *)"", size ? size : 1, "rb");
  if (!f) return 0;
  if (fm_reader_open_file(f, name, &o, &r, &err) == FM_OK) {
    for (i = 0; i < 1000000; i++) {
      const fm_record *rec;
      fm_status st = fm_reader_next(r, &rec, &err);
      size_t len;
      if (st == FM_OK) {
        fm_field fld;
        size_t k, n = fm_record_field_count(rec);
        for (k = 0; k < n; k++)
          if (fm_record_field_at(rec, k, &fld) && fld.len != strlen(fld.value))
            fld.len = 0; /* values may hold NULs: only touch the bytes */
        fm_record_field(rec, "text", &len);
      } else if (st == FM_EPARSE) {
        fm_reader_raw(r, &len, NULL);
      } else {
        break;
      }
    }
    fm_reader_free(r);
  }
  fclose(f);
  return 0;
}

#endif
