/* libFuzzer target for the YAML configuration loader (issue 4). Built and
 * run by t/fuzz/run.sh (`make fuzz`), not by `make check`; `make check`
 * replays the seed corpus in t/data/fuzz/config_yaml through the loader. */
#include "config_yaml.h"
#include "zone_kind.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void require(int cond) {
  if (!cond)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct rapl_config cfg, before;
  char err[512];
  rapl_config_defaults(&cfg);
  memcpy(&before, &cfg, sizeof(cfg));
  memset(err, 0x55, sizeof(err));
  int rc = rapl_config_load_yaml_buffer("fuzz.yaml", (const char *)data, size,
                                        &cfg, err, sizeof(err));
  require(memchr(err, '\0', sizeof(err)) != NULL);
  if (rc != 0) {
    /* A failed load names the input and leaves the configuration alone. */
    require(rc == -1);
    require(strncmp(err, "fuzz.yaml", 9) == 0);
    require(memcmp(&cfg, &before, sizeof(cfg)) == 0);
    return 0;
  }
  /* A successful load leaves a configuration the setters would accept. */
  require(memchr(cfg.sysfs_path, '\0', sizeof(cfg.sysfs_path)) != NULL);
  require(memchr(cfg.procfs_path, '\0', sizeof(cfg.procfs_path)) != NULL);
  require(cfg.sysfs_path[0] == '/' && cfg.procfs_path[0] == '/');
  require(rapl_msr_template_valid(cfg.msr_device_path, err, sizeof(err)));
  require(cfg.zone_mask != 0 && (cfg.zone_mask & ~RAPL_ZONE_MASK_ALL) == 0);
  require(cfg.msr_min_interval >= 0.0 && cfg.msr_min_interval <= 3600.0);
  return 0;
}
