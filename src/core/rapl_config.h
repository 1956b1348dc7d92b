/* The plugin's options, independent of where they were written (collectd.conf
 * or a YAML file). Fixed-size fields keep a configuration copyable and
 * comparable, which live reload relies on. */
#ifndef RAPL_CONFIG_H
#define RAPL_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#define RAPL_PATH_MAX 1024

struct rapl_config {
  char sysfs_path[RAPL_PATH_MAX]; /* powercap lives under <sysfs>/class/powercap
                                   */
  char procfs_path[RAPL_PATH_MAX]; /* cpuinfo lives under <procfs>/cpuinfo */
  unsigned zone_mask;              /* RAPL_ZONE_MASK bits to report */
  bool report_power;
  bool report_energy;
  bool perf_enabled;
  bool msr_enabled;
  bool msr_force;
  char msr_device_path[RAPL_PATH_MAX]; /* template with exactly one %d */
  double msr_min_interval;             /* seconds */
};

void rapl_config_defaults(struct rapl_config *cfg);

/* Quotes `s` (`n` bytes) for a message, so that a value of any length
 * leaves the rest of the message whole: in double quotes, with control
 * bytes, quotes and backslashes escaped, and past `shown_max` bytes cut on a
 * character boundary and followed by "..." after the closing quote. Needs
 * outlen >= 8, and 4 * shown_max + 8 to show shown_max bytes whatever they
 * are. */
#define RAPL_QUOTE_LEN(shown_max) (4 * (shown_max) + 8)
void rapl_config_quote(const char *s, size_t n, size_t shown_max, char *out,
                       size_t outlen);

/* Setters validate and return 0, or -1 with a message in err that names what
 * was wrong (the caller adds where it came from). */
int rapl_config_set_path(char *dst, const char *key, const char *value,
                         char *err, size_t errlen);
int rapl_config_set_zones(struct rapl_config *cfg, const char *const *names,
                          size_t n, char *err, size_t errlen);
int rapl_config_set_msr_device_path(struct rapl_config *cfg, const char *value,
                                    char *err, size_t errlen);
int rapl_config_set_msr_min_interval(struct rapl_config *cfg, double seconds,
                                     char *err, size_t errlen);

/* Whether two configurations read the same zones through the same backend
 * (paths, zone filter, MSR switches): if so, a change between them reopens
 * nothing. */
bool rapl_config_same_selection(const struct rapl_config *a,
                                const struct rapl_config *b);
/* Whether every option is the same. */
bool rapl_config_same(const struct rapl_config *a, const struct rapl_config *b);

/* Checks what no single option can: 0, or -1 with the reason in err. */
int rapl_config_check(const struct rapl_config *cfg, char *err, size_t errlen);

/* True when `tmpl` is an absolute path with exactly one "%d" and no other
 * conversion; the only form the MSR backend will ever expand. */
bool rapl_msr_template_valid(const char *tmpl, char *err, size_t errlen);

/* Expands a template that rapl_msr_template_valid accepted, without passing
 * it to any printf-family function as a format. */
int rapl_msr_template_expand(const char *tmpl, int cpu, char *out,
                             size_t outlen);

#endif
