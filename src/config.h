/*
 * config.h -- the batch configuration module (config.c). Its interface is
 * public (fm_batch_config_* in feedmine.h); inih stays inside config.c.
 */
#ifndef FM_CONFIG_H
#define FM_CONFIG_H

#include "internal.h"

#endif
