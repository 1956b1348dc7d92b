#include "collectd_config.h"

#include "rapl_log.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Every value a message quotes is bounded (rapl_config_quote), so that a
 * message always fits whole. */
#define CONFIG_ERROR_MAX 1024
#define SHOWN 128

static const char *type_word(int type) {
  switch (type) {
  case OCONFIG_TYPE_STRING:
    return "a string";
  case OCONFIG_TYPE_NUMBER:
    return "a number";
  case OCONFIG_TYPE_BOOLEAN:
    return "a boolean";
  }
  return "an unknown value";
}

static int one_value(const oconfig_item_t *item, int type, char *err,
                     size_t errlen) {
  if (item->values_num != 1) {
    snprintf(err, errlen, "%s: expected exactly one value, found %d", item->key,
             item->values_num);
    return -1;
  }
  if (item->values[0].type != type) {
    snprintf(err, errlen, "%s: expected %s, found %s", item->key,
             type_word(type), type_word(item->values[0].type));
    return -1;
  }
  return 0;
}

static int get_bool(const oconfig_item_t *item, bool *out, char *err,
                    size_t errlen) {
  if (item->values_num == 1 && item->values[0].type == OCONFIG_TYPE_STRING) {
    /* collectd's own options accept the quoted forms too. */
    const char *s = item->values[0].value.string;
    if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") ||
        !strcasecmp(s, "on")) {
      *out = true;
      return 0;
    }
    if (!strcasecmp(s, "false") || !strcasecmp(s, "no") ||
        !strcasecmp(s, "off")) {
      *out = false;
      return 0;
    }
    char q[RAPL_QUOTE_LEN(SHOWN)];
    rapl_config_quote(s, strlen(s), SHOWN, q, sizeof(q));
    snprintf(err, errlen, "%s: expected a boolean, found %s", item->key, q);
    return -1;
  }
  if (one_value(item, OCONFIG_TYPE_BOOLEAN, err, errlen) != 0)
    return -1;
  *out = item->values[0].value.boolean != 0;
  return 0;
}

static int get_string(const oconfig_item_t *item, const char **out, char *err,
                      size_t errlen) {
  if (one_value(item, OCONFIG_TYPE_STRING, err, errlen) != 0)
    return -1;
  *out = item->values[0].value.string;
  return 0;
}

/* Every Zone line adds to the selection, as repeated options do in other
 * collectd plugins; only the first replaces the default of all zones. */
static int add_zones(const oconfig_item_t *item, struct rapl_config *cfg,
                     bool *zone_seen, char *err, size_t errlen) {
  const char *names[16];
  unsigned before = cfg->zone_mask;
  if (item->values_num < 1 || item->values_num > 16) {
    snprintf(err, errlen, "Zone: expected 1 to 16 zone names, found %d",
             item->values_num);
    return -1;
  }
  for (int i = 0; i < item->values_num; i++) {
    if (item->values[i].type != OCONFIG_TYPE_STRING) {
      snprintf(err, errlen, "Zone: expected zone names as strings, found %s",
               type_word(item->values[i].type));
      return -1;
    }
    names[i] = item->values[i].value.string;
  }
  if (rapl_config_set_zones(cfg, names, (size_t)item->values_num, err,
                            errlen) != 0)
    return -1;
  if (*zone_seen)
    cfg->zone_mask |= before;
  *zone_seen = true;
  return 0;
}

static int apply_item(const oconfig_item_t *item, struct rapl_config *cfg,
                      bool *zone_seen, char *config_file,
                      size_t config_file_len, char *err, size_t errlen) {
  const char *s;
  const char *key = item->key;

  if (!strcasecmp(key, "SysfsPath") || !strcasecmp(key, "ProcfsPath")) {
    char *dst =
        !strcasecmp(key, "SysfsPath") ? cfg->sysfs_path : cfg->procfs_path;
    if (get_string(item, &s, err, errlen) != 0)
      return -1;
    return rapl_config_set_path(dst, key, s, err, errlen);
  }
  if (!strcasecmp(key, "Zone"))
    return add_zones(item, cfg, zone_seen, err, errlen);
  if (!strcasecmp(key, "ReportPower"))
    return get_bool(item, &cfg->report_power, err, errlen);
  if (!strcasecmp(key, "ReportEnergy"))
    return get_bool(item, &cfg->report_energy, err, errlen);
  if (!strcasecmp(key, "MSREnabled"))
    return get_bool(item, &cfg->msr_enabled, err, errlen);
  if (!strcasecmp(key, "MSRForce"))
    return get_bool(item, &cfg->msr_force, err, errlen);
  if (!strcasecmp(key, "MSRDevicePath")) {
    if (get_string(item, &s, err, errlen) != 0)
      return -1;
    return rapl_config_set_msr_device_path(cfg, s, err, errlen);
  }
  if (!strcasecmp(key, "MSRMinInterval")) {
    if (one_value(item, OCONFIG_TYPE_NUMBER, err, errlen) != 0)
      return -1;
    return rapl_config_set_msr_min_interval(cfg, item->values[0].value.number,
                                            err, errlen);
  }
  if (!strcasecmp(key, "ConfigFile")) {
    if (get_string(item, &s, err, errlen) != 0)
      return -1;
    char path[RAPL_PATH_MAX];
    if (rapl_config_set_path(path, key, s, err, errlen) != 0)
      return -1;
    snprintf(config_file, config_file_len, "%s", path);
    return 0;
  }
  char q[RAPL_QUOTE_LEN(SHOWN)];
  rapl_config_quote(key, strlen(key), SHOWN, q, sizeof(q));
  snprintf(err, errlen,
           "unknown option %s in <Plugin rapl_energy> (known: SysfsPath, "
           "ProcfsPath, Zone, ReportPower, ReportEnergy, MSREnabled, "
           "MSRForce, MSRDevicePath, MSRMinInterval, ConfigFile)",
           q);
  return -1;
}

/* Options that hold one value: a second line for one of them is refused,
 * as a duplicate key is in the YAML file, because one of the two would be
 * ignored without a word. Zone is not here: its lines add up. */
static const char *const single_options[] = {
    "SysfsPath",     "ProcfsPath",     "ReportPower",
    "ReportEnergy",  "MSREnabled",     "MSRForce",
    "MSRDevicePath", "MSRMinInterval", "ConfigFile",
};

static int refuse_repeat(const char *key, unsigned *seen, char *err,
                         size_t errlen) {
  for (size_t i = 0; i < sizeof(single_options) / sizeof(single_options[0]);
       i++) {
    if (strcasecmp(key, single_options[i]) != 0)
      continue;
    if (*seen & (1u << i)) {
      snprintf(err, errlen,
               "%s: given more than once in <Plugin rapl_energy>; keep one "
               "(only Zone may be repeated: its lines add up)",
               single_options[i]);
      return -1;
    }
    *seen |= 1u << i;
  }
  return 0;
}

/* The options a block sets, each once, in the order written: all that can
 * tell the operator which block is which. Ends in "..." when cut short. */
static void block_keys(const oconfig_item_t *ci, char *out, size_t outlen) {
  size_t o = 0;
  bool cut = false;
  out[0] = '\0';
  for (int i = 0; i < ci->children_num && !cut; i++) {
    const char *key = ci->children[i].key;
    bool again = false;
    for (int j = 0; j < i && !again; j++)
      again = strcasecmp(ci->children[j].key, key) == 0;
    if (again)
      continue;
    /* Always leave room for ", ..." and the NUL. */
    size_t need = (o ? 2 : 0) + strlen(key);
    if (o + need + 6 > outlen) {
      cut = true;
      break;
    }
    o += (size_t)snprintf(out + o, outlen - o, "%s%s", o ? ", " : "", key);
  }
  if (cut)
    snprintf(out + o, outlen - o, "%s...", o ? ", " : "");
  else if (o == 0)
    snprintf(out, outlen, "no options");
}

int rapl_collectd_config(const oconfig_item_t *ci,
                         struct rapl_collectd_blocks *blocks,
                         struct rapl_config *cfg, char *config_file,
                         size_t config_file_len) {
  if (blocks->count++ > 0) {
    char keys[sizeof(blocks->first_keys)];
    block_keys(ci, keys, sizeof(keys));
    rapl_log(RAPL_LOG_ERR,
             "configuration: a second <Plugin rapl_energy> block (with %s) "
             "after the first (with %s): collectd hands each block over on "
             "its own and this plugin has one configuration; put every "
             "option into one block (the drop-in collectd.conf.d/"
             "rapl_energy.conf has one)",
             keys, blocks->first_keys);
    return -1;
  }
  block_keys(ci, blocks->first_keys, sizeof(blocks->first_keys));
  struct rapl_config next = *cfg;
  char file[RAPL_PATH_MAX];
  char err[CONFIG_ERROR_MAX];
  bool zone_seen = false;
  unsigned options_seen = 0;
  snprintf(file, sizeof(file), "%s", config_file);
  for (int i = 0; i < ci->children_num; i++) {
    const oconfig_item_t *item = &ci->children[i];
    if (item->children_num > 0) {
      rapl_log(RAPL_LOG_ERR,
               "configuration: %s: expected a value, found a "
               "block",
               item->key);
      return -1;
    }
    if (refuse_repeat(item->key, &options_seen, err, sizeof(err)) != 0 ||
        apply_item(item, &next, &zone_seen, file, sizeof(file), err,
                   sizeof(err)) != 0) {
      rapl_log(RAPL_LOG_ERR, "configuration: %s", err);
      return -1;
    }
  }
  if (rapl_config_check(&next, err, sizeof(err)) != 0) {
    rapl_log(RAPL_LOG_ERR, "configuration: %s", err);
    return -1;
  }
  *cfg = next;
  snprintf(config_file, config_file_len, "%s", file);
  return 0;
}
