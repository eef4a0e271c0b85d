/*
 * stopwords_data.h -- the stopword lists compiled from
 * corpora/stopwords/<lang>.txt (see tools/cmake/gen_stopwords.cmake).
 * Each list is sorted in strcmp order, for bsearch.
 */
#ifndef FM_STOPWORDS_DATA_H
#define FM_STOPWORDS_DATA_H
#include <stddef.h>

typedef struct fmi_stoplist {
  const char *lang;
  const char *const *words;
  size_t n;
} fmi_stoplist;

/* Sorted by lang; terminated by {NULL, NULL, 0}. */
extern const fmi_stoplist fmi_stoplists[];
extern const size_t fmi_stoplist_count;

#endif
