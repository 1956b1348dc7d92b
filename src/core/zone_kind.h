/* The RAPL domains this plugin reports, named as collectd's type_instance. */
#ifndef RAPL_ZONE_KIND_H
#define RAPL_ZONE_KIND_H

#include <stdbool.h>

enum rapl_zone_kind {
  RAPL_ZONE_PACKAGE,
  RAPL_ZONE_CORE,
  RAPL_ZONE_UNCORE,
  RAPL_ZONE_DRAM,
  RAPL_ZONE_PSYS,
  RAPL_ZONE_KIND_COUNT
};

#define RAPL_ZONE_MASK(kind) (1u << (kind))
#define RAPL_ZONE_MASK_ALL ((1u << RAPL_ZONE_KIND_COUNT) - 1u)

/* "package", "core", "uncore", "dram", "psys". */
const char *rapl_zone_kind_name(enum rapl_zone_kind kind);

/* Case-insensitive; false when the name is not one of the five. */
bool rapl_zone_kind_parse(const char *name, enum rapl_zone_kind *kind);

#endif
