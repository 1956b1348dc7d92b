/* The plugin's options, once: the collectd key, the YAML keys, the probe
 * command's flag, the type, the default and a line of help. The
 * <Plugin rapl_energy> parser, the YAML loader and rapl-energy-probe all
 * read this table, so an option added here exists in all three and the
 * three cannot come to disagree. */
#ifndef RAPL_OPTIONS_H
#define RAPL_OPTIONS_H

#include "rapl_config.h"

#include <stdbool.h>
#include <stddef.h>

enum rapl_option_id {
  RAPL_OPT_SYSFS_PATH,
  RAPL_OPT_PROCFS_PATH,
  RAPL_OPT_ZONE,
  RAPL_OPT_REPORT_POWER,
  RAPL_OPT_REPORT_ENERGY,
  RAPL_OPT_PERF_ENABLED,
  RAPL_OPT_MSR_ENABLED,
  RAPL_OPT_MSR_FORCE,
  RAPL_OPT_MSR_DEVICE_PATH,
  RAPL_OPT_MSR_MIN_INTERVAL,
  RAPL_OPT_CONFIG_FILE,
  RAPL_OPT_COUNT
};

enum rapl_option_type {
  RAPL_OPT_PATH,     /* an absolute path */
  RAPL_OPT_ZONES,    /* zone names, case-insensitive */
  RAPL_OPT_BOOL,     /* true/false, yes/no, on/off */
  RAPL_OPT_TEMPLATE, /* an absolute path with exactly one %d */
  RAPL_OPT_SECONDS   /* a number of seconds within [min, max] */
};

/* Where a YAML key lives: "host" and "sysfs" for host.sysfs. */
struct rapl_yaml_key {
  const char *section;
  const char *key;
};

#define RAPL_OPTION_YAML_MAX 2

struct rapl_option {
  enum rapl_option_id id;
  const char *collectd_key; /* matched case-insensitively, as collectd does */
  /* Kepler's spelling first, then the plugin's own; section NULL past the
   * last. ConfigFile has none: a file cannot name another. */
  struct rapl_yaml_key yaml[RAPL_OPTION_YAML_MAX];
  const char *flag; /* the probe's long option without "--", or NULL */
  enum rapl_option_type type;
  const char *value_name;   /* in help: "PATH", "ZONE", "BOOL", ... */
  const char *default_text; /* as the documentation shows it */
  const char *help;         /* one line */
  bool repeatable;          /* repeated lines add up instead of clashing */
  /* Reading the MSRs bypasses the kernel's PLATYPUS mitigation: a YAML file
   * that others could write does not get to set this option. */
  bool msr_switch;
  double min, max; /* RAPL_OPT_SECONDS only */
};

extern const struct rapl_option rapl_options[RAPL_OPT_COUNT];

/* The YAML sections that hold options, Kepler's first; NULL-terminated. */
extern const char *const rapl_yaml_sections[];
/* The plugin's own section: where it and a Kepler section set the same
 * option, its value wins. */
#define RAPL_YAML_PLUGIN_SECTION "rapl_energy"

/* Case-insensitive, like collectd's own keys; NULL when unknown. */
const struct rapl_option *rapl_option_by_collectd_key(const char *key);
/* The option a YAML key in `section` names (case-sensitive, as Kepler's
 * keys are); NULL when none. */
const struct rapl_option *rapl_option_by_yaml_key(const char *section,
                                                  const char *key, size_t len);
const struct rapl_option *rapl_option_by_flag(const char *flag);

/* "SysfsPath, ProcfsPath, ..." and "sysfs, procfs" (one section's keys):
 * for messages that list what is accepted. */
void rapl_option_list_collectd(char *out, size_t outlen);
void rapl_option_list_yaml(const char *section, char *out, size_t outlen);

/* Setters: validate, store into cfg and return 0, or return -1 with a
 * message in err that starts with `name` (how the option was spelled where
 * it was written), leaving cfg as it was. ConfigFile is not part of a
 * rapl_config: for it, rapl_option_set_text checks the path and stores
 * nothing. */
void rapl_option_set_bool(const struct rapl_option *o, struct rapl_config *cfg,
                          bool value);
bool rapl_option_get_bool(const struct rapl_option *o,
                          const struct rapl_config *cfg);
/* A RAPL_OPT_SECONDS option's value in cfg; 0 for any other option. */
double rapl_option_get_seconds(const struct rapl_option *o,
                               const struct rapl_config *cfg);
int rapl_option_set_text(const struct rapl_option *o, struct rapl_config *cfg,
                         const char *name, const char *value, char *err,
                         size_t errlen);
int rapl_option_set_seconds(const struct rapl_option *o,
                            struct rapl_config *cfg, const char *name,
                            double value, char *err, size_t errlen);

/* The word forms every front end accepts for a boolean (any case). */
bool rapl_option_parse_bool_word(const char *word, bool *out);

/* Applies a command-line argument of any type: a boolean word, a path, a
 * number, or zone names separated by commas ("all" for every zone). Zones
 * replace the selection; the caller adds repeated flags up. */
int rapl_option_set_arg(const struct rapl_option *o, struct rapl_config *cfg,
                        const char *name, const char *arg, char *err,
                        size_t errlen);

/* The option's value in cfg as text ("/sys", "package, dram", "true", "1"),
 * in the form default_text uses. */
void rapl_option_format(const struct rapl_option *o,
                        const struct rapl_config *cfg, char *out,
                        size_t outlen);

#endif
