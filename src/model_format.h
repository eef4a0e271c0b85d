/*
 * model_format.h -- constants of the on-disk model format (see model.c for
 * the layout).
 */
#ifndef FM_MODEL_FORMAT_H
#define FM_MODEL_FORMAT_H

#define FMI_MODEL_FORMAT_MAJOR 1
#define FMI_MODEL_FORMAT_MINOR 0

#endif
