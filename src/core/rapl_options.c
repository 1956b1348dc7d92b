#include "rapl_options.h"

#include "rapl_log.h"
#include "zone_kind.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const struct rapl_option rapl_options[RAPL_OPT_COUNT] = {
    {
        .id = RAPL_OPT_SYSFS_PATH,
        .collectd_key = "SysfsPath",
        .yaml = {{"host", "sysfs"}, {"rapl_energy", "sysfsPath"}},
        .flag = "sysfs",
        .type = RAPL_OPT_PATH,
        .value_name = "PATH",
        .default_text = "/sys",
        .help = "sysfs: powercap under PATH/class/powercap, the CPU topology "
                "under PATH/devices/system/cpu",
    },
    {
        .id = RAPL_OPT_PROCFS_PATH,
        .collectd_key = "ProcfsPath",
        .yaml = {{"host", "procfs"}, {"rapl_energy", "procfsPath"}},
        .flag = "procfs",
        .type = RAPL_OPT_PATH,
        .value_name = "PATH",
        .default_text = "/proc",
        .help = "procfs: PATH/cpuinfo gives the CPU vendor, family and model",
    },
    {
        .id = RAPL_OPT_ZONE,
        .collectd_key = "Zone",
        .yaml = {{"rapl", "zones"}, {"rapl_energy", "zones"}},
        .flag = "zone",
        .type = RAPL_OPT_ZONES,
        .value_name = "ZONE",
        .default_text = "all",
        .help = "report only these zones (package, core, uncore, dram, psys); "
                "repeated, they add up",
        .repeatable = true,
    },
    {
        .id = RAPL_OPT_REPORT_POWER,
        .collectd_key = "ReportPower",
        .yaml = {{"rapl_energy", "reportPower"}},
        .type = RAPL_OPT_BOOL,
        .value_name = "BOOL",
        .default_text = "true",
        .help = "dispatch power-<zone> (W, average over the interval)",
    },
    {
        .id = RAPL_OPT_REPORT_ENERGY,
        .collectd_key = "ReportEnergy",
        .yaml = {{"rapl_energy", "reportEnergy"}},
        .type = RAPL_OPT_BOOL,
        .value_name = "BOOL",
        .default_text = "true",
        .help = "dispatch energy-<zone> (J since the plugin started)",
    },
    {
        .id = RAPL_OPT_PERF_ENABLED,
        .collectd_key = "PerfEnabled",
        .yaml = {{"rapl_energy", "perfEnabled"}},
        .flag = "perf",
        .type = RAPL_OPT_BOOL,
        .value_name = "BOOL",
        .default_text = "true",
        .help = "allow the perf_event power PMU backend where powercap cannot "
                "read",
    },
    {
        .id = RAPL_OPT_MSR_ENABLED,
        .collectd_key = "MSREnabled",
        .yaml = {{"msr", "enabled"}, {"rapl_energy", "msrEnabled"}},
        .flag = "msr",
        .type = RAPL_OPT_BOOL,
        .value_name = "BOOL",
        .default_text = "false",
        .help = "allow the MSR backend where neither powercap nor perf can "
                "read (bypasses the PLATYPUS mitigation)",
        .msr_switch = true,
    },
    {
        .id = RAPL_OPT_MSR_FORCE,
        .collectd_key = "MSRForce",
        .yaml = {{"msr", "force"}, {"rapl_energy", "msrForce"}},
        .flag = "msr-force",
        .type = RAPL_OPT_BOOL,
        .value_name = "BOOL",
        .default_text = "false",
        .help = "use the MSR backend even where powercap or perf works",
        .msr_switch = true,
    },
    {
        .id = RAPL_OPT_MSR_DEVICE_PATH,
        .collectd_key = "MSRDevicePath",
        .yaml = {{"msr", "devicePath"}, {"rapl_energy", "msrDevicePath"}},
        .flag = "msr-device-path",
        .type = RAPL_OPT_TEMPLATE,
        .value_name = "TEMPLATE",
        .default_text = "/dev/cpu/%d/msr",
        .help = "the MSR device of CPU %d: absolute, exactly one %d",
    },
    {
        .id = RAPL_OPT_MSR_MIN_INTERVAL,
        .collectd_key = "MSRMinInterval",
        .yaml = {{"rapl_energy", "msrMinInterval"}},
        .flag = "msr-min-interval",
        .type = RAPL_OPT_SECONDS,
        .value_name = "SECONDS",
        .default_text = "1",
        .help = "never read the MSRs more often than this",
        .min = 0.0,
        .max = 3600.0,
    },
    {
        .id = RAPL_OPT_CONFIG_FILE,
        .collectd_key = "ConfigFile",
        .flag = "config",
        .type = RAPL_OPT_PATH,
        .value_name = "FILE",
        .default_text = "none",
        .help = "a Kepler-style YAML file applied on top, reloaded when it "
                "changes",
    },
};

const char *const rapl_yaml_sections[] = {"host", "rapl", "msr",
                                          RAPL_YAML_PLUGIN_SECTION, NULL};

const struct rapl_option *rapl_option_by_collectd_key(const char *key) {
  for (size_t i = 0; i < RAPL_OPT_COUNT; i++)
    if (strcasecmp(key, rapl_options[i].collectd_key) == 0)
      return &rapl_options[i];
  return NULL;
}

const struct rapl_option *rapl_option_by_yaml_key(const char *section,
                                                  const char *key, size_t len) {
  for (size_t i = 0; i < RAPL_OPT_COUNT; i++) {
    const struct rapl_option *o = &rapl_options[i];
    for (size_t k = 0; k < RAPL_OPTION_YAML_MAX && o->yaml[k].section; k++)
      if (strcmp(o->yaml[k].section, section) == 0 &&
          strlen(o->yaml[k].key) == len &&
          memcmp(o->yaml[k].key, key, len) == 0)
        return o;
  }
  return NULL;
}

const struct rapl_option *rapl_option_by_flag(const char *flag) {
  for (size_t i = 0; i < RAPL_OPT_COUNT; i++)
    if (rapl_options[i].flag && strcmp(flag, rapl_options[i].flag) == 0)
      return &rapl_options[i];
  return NULL;
}

/* Appends ", word" (or "word" first); the lists are short and the buffers
 * sized for them, so a list that does not fit is cut at a whole word. */
static void append_word(char *out, size_t outlen, size_t *o, const char *w) {
  int n = snprintf(out + *o, outlen - *o, "%s%s", *o ? ", " : "", w);
  if (n > 0 && (size_t)n < outlen - *o)
    *o += (size_t)n;
  else
    out[*o] = '\0';
}

void rapl_option_list_collectd(char *out, size_t outlen) {
  size_t o = 0;
  out[0] = '\0';
  for (size_t i = 0; i < RAPL_OPT_COUNT; i++)
    append_word(out, outlen, &o, rapl_options[i].collectd_key);
}

void rapl_option_list_yaml(const char *section, char *out, size_t outlen) {
  size_t o = 0;
  out[0] = '\0';
  for (size_t i = 0; i < RAPL_OPT_COUNT; i++) {
    const struct rapl_option *opt = &rapl_options[i];
    for (size_t k = 0; k < RAPL_OPTION_YAML_MAX && opt->yaml[k].section; k++)
      if (strcmp(opt->yaml[k].section, section) == 0)
        append_word(out, outlen, &o, opt->yaml[k].key);
  }
}

static bool *bool_field(const struct rapl_option *o, struct rapl_config *cfg) {
  switch (o->id) {
  case RAPL_OPT_REPORT_POWER:
    return &cfg->report_power;
  case RAPL_OPT_REPORT_ENERGY:
    return &cfg->report_energy;
  case RAPL_OPT_PERF_ENABLED:
    return &cfg->perf_enabled;
  case RAPL_OPT_MSR_ENABLED:
    return &cfg->msr_enabled;
  case RAPL_OPT_MSR_FORCE:
    return &cfg->msr_force;
  default:
    return NULL;
  }
}

void rapl_option_set_bool(const struct rapl_option *o, struct rapl_config *cfg,
                          bool value) {
  bool *dst = bool_field(o, cfg);
  if (dst != NULL)
    *dst = value;
}

bool rapl_option_get_bool(const struct rapl_option *o,
                          const struct rapl_config *cfg) {
  bool *src = bool_field(o, (struct rapl_config *)cfg);
  return src != NULL && *src;
}

/* rapl_config's setters name the collectd option; messages name the option
 * as it was written. */
static void rename_message(char *err, size_t errlen, const char *from,
                           const char *to) {
  size_t n = strlen(from);
  if (strcmp(from, to) == 0 || strncmp(err, from, n) != 0 || err[n] != ':')
    return;
  char rest[RAPL_MSG_MAX];
  rapl_msg(rest, sizeof(rest), "%s", err + n);
  rapl_msg(err, errlen, "%s%s", to, rest);
}

int rapl_option_set_text(const struct rapl_option *o, struct rapl_config *cfg,
                         const char *name, const char *value, char *err,
                         size_t errlen) {
  char scratch[RAPL_PATH_MAX];
  switch (o->id) {
  case RAPL_OPT_SYSFS_PATH:
    return rapl_config_set_path(cfg->sysfs_path, name, value, err, errlen);
  case RAPL_OPT_PROCFS_PATH:
    return rapl_config_set_path(cfg->procfs_path, name, value, err, errlen);
  case RAPL_OPT_CONFIG_FILE:
    return rapl_config_set_path(scratch, name, value, err, errlen);
  case RAPL_OPT_MSR_DEVICE_PATH:
    if (rapl_config_set_msr_device_path(cfg, value, err, errlen) == 0)
      return 0;
    rename_message(err, errlen, o->collectd_key, name);
    return -1;
  default:
    snprintf(err, errlen, "%s: expected %s", name, o->value_name);
    return -1;
  }
}

double rapl_option_get_seconds(const struct rapl_option *o,
                               const struct rapl_config *cfg) {
  return o->id == RAPL_OPT_MSR_MIN_INTERVAL ? cfg->msr_min_interval : 0.0;
}

int rapl_option_set_seconds(const struct rapl_option *o,
                            struct rapl_config *cfg, const char *name,
                            double value, char *err, size_t errlen) {
  if (o->id != RAPL_OPT_MSR_MIN_INTERVAL) {
    snprintf(err, errlen, "%s: expected %s", name, o->value_name);
    return -1;
  }
  if (!(value >= o->min && value <= o->max)) {
    snprintf(err, errlen, "%s: expected seconds between %g and %g, found %g",
             name, o->min, o->max, value);
    return -1;
  }
  cfg->msr_min_interval = value;
  return 0;
}

bool rapl_option_parse_bool_word(const char *word, bool *out) {
  static const char *const yes[] = {"true", "yes", "on"};
  static const char *const no[] = {"false", "no", "off"};
  for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
    if (strcasecmp(word, yes[i]) == 0) {
      *out = true;
      return true;
    }
    if (strcasecmp(word, no[i]) == 0) {
      *out = false;
      return true;
    }
  }
  return false;
}

static int set_zone_list(struct rapl_config *cfg, const char *name,
                         const char *arg, char *err, size_t errlen) {
  char buf[256];
  const char *names[RAPL_ZONE_KIND_COUNT * 4];
  size_t n = 0;
  if (strcasecmp(arg, "all") == 0) {
    cfg->zone_mask = RAPL_ZONE_MASK_ALL;
    return 0;
  }
  if (strlen(arg) >= sizeof(buf)) {
    snprintf(err, errlen, "%s: expected zone names, found %zu bytes", name,
             strlen(arg));
    return -1;
  }
  strcpy(buf, arg);
  for (char *save = NULL, *tok = strtok_r(buf, ", ", &save); tok != NULL;
       tok = strtok_r(NULL, ", ", &save)) {
    if (n == sizeof(names) / sizeof(names[0])) {
      snprintf(err, errlen, "%s: more than %zu zone names", name, n);
      return -1;
    }
    names[n++] = tok;
  }
  struct rapl_config next = *cfg;
  if (rapl_config_set_zones(&next, names, n, err, errlen) != 0) {
    rename_message(err, errlen, "Zone", name);
    return -1;
  }
  cfg->zone_mask = next.zone_mask;
  return 0;
}

int rapl_option_set_arg(const struct rapl_option *o, struct rapl_config *cfg,
                        const char *name, const char *arg, char *err,
                        size_t errlen) {
  char q[RAPL_QUOTE_LEN(64)];
  switch (o->type) {
  case RAPL_OPT_BOOL: {
    bool b;
    if (!rapl_option_parse_bool_word(arg, &b)) {
      rapl_config_quote(arg, strlen(arg), 64, q, sizeof(q));
      snprintf(err, errlen,
               "%s: expected a boolean (true/false, yes/no, on/off), found %s",
               name, q);
      return -1;
    }
    rapl_option_set_bool(o, cfg, b);
    return 0;
  }
  case RAPL_OPT_SECONDS: {
    char *end = NULL;
    double v = arg[0] ? strtod(arg, &end) : NAN;
    if (end == NULL || *end != '\0' || !isfinite(v)) {
      rapl_config_quote(arg, strlen(arg), 64, q, sizeof(q));
      snprintf(err, errlen, "%s: expected a number of seconds, found %s", name,
               q);
      return -1;
    }
    return rapl_option_set_seconds(o, cfg, name, v, err, errlen);
  }
  case RAPL_OPT_ZONES:
    return set_zone_list(cfg, name, arg, err, errlen);
  case RAPL_OPT_PATH:
  case RAPL_OPT_TEMPLATE:
    return rapl_option_set_text(o, cfg, name, arg, err, errlen);
  }
  return -1;
}

void rapl_option_format(const struct rapl_option *o,
                        const struct rapl_config *cfg, char *out,
                        size_t outlen) {
  size_t n = 0;
  out[0] = '\0';
  switch (o->id) {
  case RAPL_OPT_SYSFS_PATH:
    snprintf(out, outlen, "%s", cfg->sysfs_path);
    return;
  case RAPL_OPT_PROCFS_PATH:
    snprintf(out, outlen, "%s", cfg->procfs_path);
    return;
  case RAPL_OPT_MSR_DEVICE_PATH:
    snprintf(out, outlen, "%s", cfg->msr_device_path);
    return;
  case RAPL_OPT_MSR_MIN_INTERVAL:
    snprintf(out, outlen, "%g", cfg->msr_min_interval);
    return;
  case RAPL_OPT_CONFIG_FILE:
    snprintf(out, outlen, "none");
    return;
  case RAPL_OPT_ZONE:
    if (cfg->zone_mask == RAPL_ZONE_MASK_ALL) {
      snprintf(out, outlen, "all");
      return;
    }
    for (int k = 0; k < RAPL_ZONE_KIND_COUNT; k++)
      if (cfg->zone_mask & RAPL_ZONE_MASK(k))
        append_word(out, outlen, &n, rapl_zone_kind_name(k));
    return;
  default:
    snprintf(out, outlen, "%s",
             rapl_option_get_bool(o, cfg) ? "true" : "false");
    return;
  }
}
