/* Maps the <Plugin rapl_energy> block onto struct rapl_config. Uses only
 * liboconfig's structures, so it is unit-tested without a daemon. */
#ifndef RAPL_COLLECTD_CONFIG_H
#define RAPL_COLLECTD_CONFIG_H

#include "rapl_config.h"

#include "liboconfig/oconfig.h"

/* Applies every child of ci on top of *cfg. config_file receives the
 * ConfigFile option ("" when absent). Returns 0, or -1 after logging an error
 * that names the offending key; *cfg is unchanged on error. */
int rapl_collectd_config(const oconfig_item_t *ci, struct rapl_config *cfg,
                         char *config_file, size_t config_file_len);

#endif
