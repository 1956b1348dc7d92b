/* Maps the <Plugin rapl_energy> block onto struct rapl_config. Uses only
 * liboconfig's structures, so it is unit-tested without a daemon. */
#ifndef RAPL_COLLECTD_CONFIG_H
#define RAPL_COLLECTD_CONFIG_H

#include "rapl_config.h"

#include "liboconfig/oconfig.h"

/* What earlier calls saw. collectd calls the config callback once per
 * <Plugin rapl_energy> block and says nothing of where a block is written;
 * a second block is refused, since merging would have to guess which of two
 * values wins (and the YAML file's fallback must stay the one block). */
struct rapl_collectd_blocks {
  unsigned count;       /* blocks seen, the refused ones included */
  char first_keys[200]; /* the first block's options, to help find it */
};

/* Applies every child of ci on top of *cfg. config_file receives the
 * ConfigFile option ("" when absent). Returns 0, or -1 after logging an error
 * that names the offending key, or, for a second block, both blocks'
 * options; *cfg is unchanged on error. *blocks starts zeroed. */
int rapl_collectd_config(const oconfig_item_t *ci,
                         struct rapl_collectd_blocks *blocks,
                         struct rapl_config *cfg, char *config_file,
                         size_t config_file_len);

#endif
