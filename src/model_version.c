/*
 * model_version.c -- the model file format version this build writes.
 * Major changes are incompatible (refused on open with FM_EVERSION); minor
 * changes add optional sections an older minor reader may skip.
 */
#include "internal.h"
#include "model_format.h"

int fm_model_format_version(void) {
  return FMI_MODEL_FORMAT_MAJOR * 1000 + FMI_MODEL_FORMAT_MINOR;
}
