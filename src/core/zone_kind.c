#include "zone_kind.h"

#include <strings.h>

static const char *const kind_names[RAPL_ZONE_KIND_COUNT] = {
    [RAPL_ZONE_PACKAGE] = "package", [RAPL_ZONE_CORE] = "core",
    [RAPL_ZONE_UNCORE] = "uncore",   [RAPL_ZONE_DRAM] = "dram",
    [RAPL_ZONE_PSYS] = "psys",
};

const char *rapl_zone_kind_name(enum rapl_zone_kind kind) {
  if ((unsigned)kind >= RAPL_ZONE_KIND_COUNT)
    return "unknown";
  return kind_names[kind];
}

bool rapl_zone_kind_parse(const char *name, enum rapl_zone_kind *kind) {
  for (int k = 0; k < RAPL_ZONE_KIND_COUNT; k++) {
    if (strcasecmp(name, kind_names[k]) == 0) {
      *kind = (enum rapl_zone_kind)k;
      return true;
    }
  }
  return false;
}
