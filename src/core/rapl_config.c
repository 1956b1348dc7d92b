#include "rapl_config.h"

#include "rapl_options.h"
#include "zone_kind.h"

#include <stdio.h>
#include <string.h>

/* How much of a value a message shows: enough for any sensible path. */
#define MESSAGE_SHOWN 128

void rapl_config_quote(const char *s, size_t n, size_t shown_max, char *out,
                       size_t outlen) {
  size_t o = 0;
  if (outlen < 8) {
    if (outlen)
      out[0] = '\0';
    return;
  }
  out[o++] = '"';
  size_t i = 0;
  for (; i < n && i < shown_max; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (o + 8 >= outlen)
      break;
    if (ch == '"' || ch == '\\') {
      out[o++] = '\\';
      out[o++] = (char)ch;
    } else if (ch < 0x20 || ch == 0x7f) {
      o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", ch);
    } else {
      out[o++] = (char)ch;
    }
  }
  if (i < n) {
    /* Do not leave half a UTF-8 sequence behind. */
    while (o > 1 && ((unsigned char)out[o - 1] & 0xc0) == 0x80)
      o--;
    if (o > 1 && ((unsigned char)out[o - 1] & 0xc0) == 0xc0)
      o--;
    out[o++] = '"';
    if (o + 4 < outlen) {
      memcpy(out + o, "...", 3);
      o += 3;
    }
  } else {
    out[o++] = '"';
  }
  out[o] = '\0';
}

void rapl_config_defaults(struct rapl_config *cfg) {
  memset(cfg, 0, sizeof(*cfg));
  strcpy(cfg->sysfs_path, "/sys");
  strcpy(cfg->procfs_path, "/proc");
  cfg->zone_mask = RAPL_ZONE_MASK_ALL;
  cfg->report_power = true;
  cfg->report_energy = true;
  cfg->perf_enabled = true;
  strcpy(cfg->msr_device_path, "/dev/cpu/%d/msr");
  cfg->msr_min_interval = 1.0;
}

int rapl_config_set_path(char *dst, const char *key, const char *value,
                         char *err, size_t errlen) {
  if (value == NULL || value[0] == '\0') {
    snprintf(err, errlen, "%s: expected an absolute path, found an empty value",
             key);
    return -1;
  }
  if (value[0] != '/') {
    char q[RAPL_QUOTE_LEN(MESSAGE_SHOWN)];
    rapl_config_quote(value, strlen(value), MESSAGE_SHOWN, q, sizeof(q));
    snprintf(err, errlen,
             "%s: expected an absolute path, found the relative path %s", key,
             q);
    return -1;
  }
  if (strlen(value) >= RAPL_PATH_MAX) {
    snprintf(err, errlen, "%s: path longer than %d bytes", key,
             RAPL_PATH_MAX - 1);
    return -1;
  }
  strcpy(dst, value);
  return 0;
}

int rapl_config_set_zones(struct rapl_config *cfg, const char *const *names,
                          size_t n, char *err, size_t errlen) {
  unsigned mask = 0;
  if (n == 0) {
    snprintf(err, errlen,
             "Zone: expected at least one of package, core, uncore, dram, "
             "psys, found none");
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    enum rapl_zone_kind kind;
    if (!rapl_zone_kind_parse(names[i], &kind)) {
      char q[RAPL_QUOTE_LEN(MESSAGE_SHOWN)];
      rapl_config_quote(names[i], strlen(names[i]), MESSAGE_SHOWN, q,
                        sizeof(q));
      snprintf(err, errlen,
               "Zone: unknown zone %s (expected package, core, uncore, "
               "dram or psys)",
               q);
      return -1;
    }
    mask |= RAPL_ZONE_MASK(kind);
  }
  cfg->zone_mask = mask;
  return 0;
}

bool rapl_msr_template_valid(const char *tmpl, char *err, size_t errlen) {
  char q[RAPL_QUOTE_LEN(MESSAGE_SHOWN)];
  int conversions = 0;
  if (tmpl == NULL || tmpl[0] == '\0') {
    snprintf(err, errlen,
             "MSRDevicePath: expected a path template, found an "
             "empty value");
    return false;
  }
  rapl_config_quote(tmpl, strlen(tmpl), MESSAGE_SHOWN, q, sizeof(q));
  if (tmpl[0] != '/') {
    snprintf(err, errlen, "MSRDevicePath: expected an absolute path, found %s",
             q);
    return false;
  }
  if (strlen(tmpl) >= RAPL_PATH_MAX - 16) {
    snprintf(err, errlen, "MSRDevicePath: template longer than %d bytes",
             RAPL_PATH_MAX - 17);
    return false;
  }
  for (const char *p = tmpl; *p; p++) {
    if (*p != '%')
      continue;
    if (p[1] != 'd') {
      snprintf(err, errlen,
               "MSRDevicePath: %s may contain only one %%d (the CPU "
               "number) and no other %% sequence",
               q);
      return false;
    }
    conversions++;
    p++;
  }
  if (conversions != 1) {
    snprintf(err, errlen,
             "MSRDevicePath: %s must contain exactly one %%d (the CPU "
             "number), found %d",
             q, conversions);
    return false;
  }
  return true;
}

int rapl_msr_template_expand(const char *tmpl, int cpu, char *out,
                             size_t outlen) {
  const char *mark = strstr(tmpl, "%d");
  char number[16];
  if (mark == NULL)
    return -1;
  int nlen = snprintf(number, sizeof(number), "%d", cpu);
  size_t head = (size_t)(mark - tmpl);
  size_t tail = strlen(mark + 2);
  if (head + (size_t)nlen + tail + 1 > outlen)
    return -1;
  memcpy(out, tmpl, head);
  memcpy(out + head, number, (size_t)nlen);
  memcpy(out + head + nlen, mark + 2, tail + 1);
  return 0;
}

int rapl_config_set_msr_device_path(struct rapl_config *cfg, const char *value,
                                    char *err, size_t errlen) {
  if (!rapl_msr_template_valid(value, err, errlen))
    return -1;
  strcpy(cfg->msr_device_path, value);
  return 0;
}

int rapl_config_set_msr_min_interval(struct rapl_config *cfg, double seconds,
                                     char *err, size_t errlen) {
  const struct rapl_option *o = &rapl_options[RAPL_OPT_MSR_MIN_INTERVAL];
  return rapl_option_set_seconds(o, cfg, o->collectd_key, seconds, err, errlen);
}

int rapl_config_check(const struct rapl_config *cfg, char *err, size_t errlen) {
  if (!cfg->report_power && !cfg->report_energy) {
    snprintf(err, errlen,
             "ReportPower and ReportEnergy are both false: "
             "nothing would be reported");
    return -1;
  }
  return 0;
}

bool rapl_config_same_selection(const struct rapl_config *a,
                                const struct rapl_config *b) {
  return strcmp(a->sysfs_path, b->sysfs_path) == 0 &&
         strcmp(a->procfs_path, b->procfs_path) == 0 &&
         a->zone_mask == b->zone_mask && a->perf_enabled == b->perf_enabled &&
         a->msr_enabled == b->msr_enabled && a->msr_force == b->msr_force &&
         strcmp(a->msr_device_path, b->msr_device_path) == 0;
}

bool rapl_config_same(const struct rapl_config *a,
                      const struct rapl_config *b) {
  return rapl_config_same_selection(a, b) &&
         a->report_power == b->report_power &&
         a->report_energy == b->report_energy &&
         a->msr_min_interval == b->msr_min_interval;
}
