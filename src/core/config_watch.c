#include "config_watch.h"

#include "rapl_log.h"
#include "zone_kind.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void describe_config(const struct rapl_config *cfg, char *out,
                            size_t outlen) {
  char zones[64] = "";
  size_t o = 0;
  for (int k = 0; k < RAPL_ZONE_KIND_COUNT; k++) {
    if (!(cfg->zone_mask & RAPL_ZONE_MASK(k)))
      continue;
    int n = snprintf(zones + o, sizeof(zones) - o, "%s%s", o ? "," : "",
                     rapl_zone_kind_name((enum rapl_zone_kind)k));
    if (n < 0 || (size_t)n >= sizeof(zones) - o)
      break;
    o += (size_t)n;
  }
  snprintf(out, outlen,
           "msr.enabled=%s msr.force=%s msr.devicePath=%s "
           "msrMinInterval=%g perfEnabled=%s zones=%s sysfs=%s procfs=%s "
           "reportPower=%s reportEnergy=%s",
           cfg->msr_enabled ? "true" : "false",
           cfg->msr_force ? "true" : "false", cfg->msr_device_path,
           cfg->msr_min_interval, cfg->perf_enabled ? "true" : "false", zones,
           cfg->sysfs_path, cfg->procfs_path,
           cfg->report_power ? "true" : "false",
           cfg->report_energy ? "true" : "false");
}

/* Says once per reason that the file's MSR switches are withheld; forgets
 * the reason when a read of the file applies them again. */
static void note_withheld(struct rapl_config_watch *w,
                          const struct rapl_yaml_file_info *info) {
  char key[sizeof(w->withheld)];
  if (info->withheld[0] == '\0') {
    w->withheld[0] = '\0';
    return;
  }
  /* Without positions: an edit elsewhere in the file that moves the lines
   * is not news. */
  snprintf(key, sizeof(key), "%s|%s", info->why, info->withheld_keys);
  if (strcmp(key, w->withheld) == 0)
    return;
  snprintf(w->withheld, sizeof(w->withheld), "%s", key);
  rapl_log(RAPL_LOG_WARNING,
           "%s: not applying %s: %s. Only a file that no one but root or "
           "collectd's user can change may switch the MSRs on or off "
           "(reading them bypasses the kernel's PLATYPUS mitigation, "
           "CVE-2020-8694/8695). The file's other settings apply; the "
           "switches apply at the first read after the permissions are "
           "fixed",
           w->path, info->withheld, info->why);
}

int rapl_config_watch_init(struct rapl_config_watch *w, const char *path,
                           const struct rapl_config *base, char *err,
                           size_t errlen) {
  struct rapl_config cfg;
  struct rapl_yaml_file_info info;
  memset(w, 0, sizeof(*w));
  if (rapl_config_set_path(w->path, "ConfigFile", path, err, errlen) != 0)
    return -1;
  w->base = *base;
  w->current = *base;
  cfg = *base;
  w->parses++;
  int rc = rapl_config_load_yaml_file(w->path, &cfg, &info, err, errlen);
  w->seen = info.stamp;
  if (rc != 0)
    return -1;
  note_withheld(w, &info);
  w->current = cfg;
  return 0;
}

/* Logs a bad state once: the same message is not repeated until the file
 * was good again. */
static void note_error(struct rapl_config_watch *w, const char *msg) {
  if (strcmp(msg, w->last_error) == 0)
    return;
  snprintf(w->last_error, sizeof(w->last_error), "%s", msg);
  rapl_log(RAPL_LOG_ERR, "%s; keeping the last good configuration", msg);
}

int rapl_config_watch_poll(struct rapl_config_watch *w,
                           struct rapl_config *out) {
  struct rapl_file_stamp now;
  struct stat st;
  if (stat(w->path, &st) == 0) {
    rapl_file_stamp_from_stat(&st, &now);
  } else {
    memset(&now, 0, sizeof(now));
    now.error = errno;
  }
  if (rapl_file_stamp_equal(&now, &w->seen)) {
    char why[RAPL_PATH_MAX + 128];
    if (!now.present || w->withheld[0] == '\0' ||
        !rapl_config_file_trusted(w->path, &st, geteuid(), why, sizeof(why)))
      return 0;
    /* The permissions were fixed above the file: read it again. */
  }

  if (!now.present) {
    char msg[RAPL_CONFIG_WATCH_ERRLEN];
    w->seen = now;
    snprintf(msg, sizeof(msg), "%s: cannot open: %s", w->path,
             strerror(now.error));
    note_error(w, msg);
    return 0;
  }

  struct rapl_config next = w->base;
  struct rapl_yaml_file_info info;
  char err[RAPL_CONFIG_WATCH_ERRLEN];
  w->parses++;
  int rc = rapl_config_load_yaml_file(w->path, &next, &info, err, sizeof(err));
  const struct rapl_file_stamp read_stamp = info.stamp;
  /* Remember the state that was actually read (it may be newer than what
   * stat() saw a moment ago), so that it is not parsed again; when it could
   * not even be opened (EACCES, or gone since the stat), what stat() saw,
   * so that the next attempt waits for a change. */
  w->seen = read_stamp.present ? read_stamp : now;
  if (rc != 0) {
    note_error(w, err);
    return 0;
  }

  note_withheld(w, &info);
  bool was_bad = w->last_error[0] != '\0';
  w->last_error[0] = '\0';
  if (rapl_config_same(&next, &w->current)) {
    if (was_bad)
      rapl_log(RAPL_LOG_INFO,
               "%s is valid again; the configuration is unchanged", w->path);
    else
      rapl_log(RAPL_LOG_DEBUG, "%s re-read; the configuration is unchanged",
               w->path);
    return 0;
  }
  char summary[4 * RAPL_PATH_MAX];
  describe_config(&next, summary, sizeof(summary));
  rapl_log(RAPL_LOG_INFO, "%s reloaded: %s", w->path, summary);
  w->current = next;
  *out = next;
  return 1;
}

const struct rapl_config *
rapl_config_watch_current(const struct rapl_config_watch *w) {
  return &w->current;
}

const char *rapl_config_watch_last_error(const struct rapl_config_watch *w) {
  return w->last_error[0] != '\0' ? w->last_error : NULL;
}

void rapl_config_watch_destroy(struct rapl_config_watch *w) {
  memset(w, 0, sizeof(*w));
}
