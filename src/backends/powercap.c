/* RAPL through the kernel's powercap sysfs (drivers/powercap/intel_rapl_*).
 * Zones are found by their `name` file, never by directory order, and each
 * zone's energy_uj stays open: sysfs regenerates it on every pread at 0. */
#include "backend.h"
#include "msr_model.h"
#include "rapl_log.h"
#include "scan_log.h"
#include "sysfs_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONTROL_RAPL "intel-rapl"
#define CONTROL_MMIO "intel-rapl-mmio"

static void powercap_dir(const struct rapl_config *cfg, char *out, size_t len) {
  snprintf(out, len, "%s/class/powercap", cfg->sysfs_path);
}

static int powercap_probe(const struct rapl_config *cfg, char *why,
                          size_t whylen) {
  char dir[RAPL_PATH_MAX + 32];
  struct stat st;
  powercap_dir(cfg, dir, sizeof(dir));
  if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
    return 0;
  if (errno == EACCES)
    rapl_msg(why, whylen,
             "permission denied reading %s: run collectd as root or grant "
             "it CAP_DAC_READ_SEARCH",
             dir);
  else
    rapl_msg(why, whylen,
             "no powercap directory %s (kernel without CONFIG_POWERCAP and "
             "intel_rapl, or a container that hides it)",
             dir);
  return -1;
}

/* Accepts "<control>:<hex>" and "<control>:<hex>:<hex>", the forms the kernel
 * names zones with ("%s:%x"). Sets *depth to 1 or 2. */
static bool parse_zone_dirname(const char *name, const char *control,
                               int *depth) {
  size_t clen = strlen(control);
  if (strncmp(name, control, clen) != 0 || name[clen] != ':')
    return false;
  const char *p = name + clen;
  int parts = 0;
  while (*p == ':') {
    p++;
    const char *start = p;
    while ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))
      p++;
    if (p == start || p - start > 8)
      return false;
    parts++;
  }
  if (*p != '\0' || parts > 2)
    return false;
  *depth = parts;
  return true;
}

static int read_name(const char *zone_dir, char *out, size_t len) {
  char path[RAPL_PATH_MAX + 300];
  if (rapl_path_join(path, sizeof(path), zone_dir, "name") != 0)
    return -ENAMETOOLONG;
  return rapl_sysfs_read_string(path, out, len);
}

/* Kind and plugin_instance from the zone's name; false for names this plugin
 * does not report. parent_name is the package zone's name for sub-zones. */
static bool classify(const char *name, const char *parent_name, int depth,
                     enum rapl_zone_kind *kind, char *instance, size_t len) {
  if (depth == 1) {
    unsigned pkg, die;
    char tail;
    if (sscanf(name, "package-%u%c", &pkg, &tail) == 1 ||
        sscanf(name, "package-%u-die-%u%c", &pkg, &die, &tail) == 2) {
      *kind = RAPL_ZONE_PACKAGE;
      snprintf(instance, len, "%s", name);
      return true;
    }
    if (strcmp(name, "psys") == 0) {
      *kind = RAPL_ZONE_PSYS;
      snprintf(instance, len, "platform");
      return true;
    }
    if (sscanf(name, "psys-%u%c", &pkg, &tail) == 1) {
      *kind = RAPL_ZONE_PSYS;
      snprintf(instance, len, "platform-%u", pkg);
      return true;
    }
    return false;
  }
  if (parent_name == NULL || strncmp(parent_name, "package-", 8) != 0)
    return false;
  if (strcmp(name, "core") == 0)
    *kind = RAPL_ZONE_CORE;
  else if (strcmp(name, "uncore") == 0)
    *kind = RAPL_ZONE_UNCORE;
  else if (strcmp(name, "dram") == 0)
    *kind = RAPL_ZONE_DRAM;
  else
    return false;
  snprintf(instance, len, "%s", parent_name);
  return true;
}

#define MAX_SKIPPED 8

/* One discovery pass. Zones that cannot be measured are left out with a
 * reason; the reasons are logged when other zones work, and explain the
 * failure when none does. */
struct scan {
  const struct rapl_config *cfg;
  struct rapl_zone_set *out;
  char skipped[MAX_SKIPPED][RAPL_MSG_MAX];
  size_t n_skipped;
  int seen; /* zones of a kind this plugin reports, before the filter */
  bool oom;
  int vendor;         /* enum rapl_cpu_vendor once known, -1 before */
  char amd_core[512]; /* the AMD core zones left out, for the log */
  int n_amd_core;
};

__attribute__((format(printf, 2, 3))) static void
skip_zone(struct scan *sc, const char *fmt, ...) {
  va_list ap;
  if (sc->n_skipped == MAX_SKIPPED)
    return;
  va_start(ap, fmt);
  rapl_vmsg(sc->skipped[sc->n_skipped++], sizeof(sc->skipped[0]), fmt, ap);
  va_end(ap);
}

/* The largest power a zone's constraints state (power limits and maxima, in
 * uW), in watts; 0 when none is readable. Firmware that leaves a limit
 * "unlimited" states a huge one: the reader only ever tightens its bound
 * with this. */
static double stated_watts(const char *zone_dir) {
  static const char *const files[] = {"power_limit_uw", "max_power_uw"};
  char name[64], path[RAPL_PATH_MAX + 300];
  uint64_t uw, most = 0;
  /* The kernel numbers a zone's constraints from 0 without holes. */
  for (int c = 0; c < 8; c++) {
    int present = 0;
    for (size_t f = 0; f < 2; f++) {
      snprintf(name, sizeof(name), "constraint_%d_%s", c, files[f]);
      if (rapl_path_join(path, sizeof(path), zone_dir, name) != 0)
        return 0;
      int rc = rapl_sysfs_read_u64(path, &uw);
      present |= rc != -ENOENT;
      if (rc == 0 && uw > most)
        most = uw;
    }
    if (!present)
      break;
  }
  return (double)most / 1e6;
}

/* The CPU vendor, from the same sysfs tree as the zones where it can:
 * <sysfs>/devices/system/cpu/modalias ("cpu:type:x86,ven0002fam0019..."; the
 * kernel's X86_VENDOR_* numbers), else <procfs>/cpuinfo. Unknown when
 * neither reads. */
static enum rapl_cpu_vendor host_vendor(const struct rapl_config *cfg) {
  char path[RAPL_PATH_MAX + 64], alias[64];
  unsigned ven, fam, mod;
  snprintf(path, sizeof(path), "%s/devices/system/cpu/modalias",
           cfg->sysfs_path);
  if (rapl_sysfs_read_string(path, alias, sizeof(alias)) == 0 &&
      sscanf(alias, "cpu:type:x86,ven%4xfam%4xmod%4x", &ven, &fam, &mod) == 3) {
    switch (ven) {
    case 0:
      return RAPL_VENDOR_INTEL;
    case 2:
      return RAPL_VENDOR_AMD;
    case 9:
      return RAPL_VENDOR_HYGON;
    default:
      return RAPL_VENDOR_UNKNOWN;
    }
  }
  struct rapl_cpu_model m;
  char err[RAPL_MSG_MAX];
  if (rapl_cpu_model_read(cfg->procfs_path, &m, err, sizeof(err)) == 0)
    return m.vendor;
  return RAPL_VENDOR_UNKNOWN;
}

/* On AMD and Hygon the kernel's core zone reads MSR 0xC001029A on one CPU of
 * the package: one core's energy, where `core` means every core of the
 * package (Intel's PP0, and the MSR backend's sum over the per-core
 * counters). The same name must not carry two quantities, so that zone is
 * not reported as core. */
static bool amd_single_core(struct scan *sc, enum rapl_zone_kind kind,
                            const char *instance) {
  if (kind != RAPL_ZONE_CORE)
    return false;
  if (sc->vendor < 0)
    sc->vendor = (int)host_vendor(sc->cfg);
  if (sc->vendor != RAPL_VENDOR_AMD && sc->vendor != RAPL_VENDOR_HYGON)
    return false;
  size_t used = strlen(sc->amd_core);
  if (used + 1 < sizeof(sc->amd_core))
    rapl_msg(sc->amd_core + used, sizeof(sc->amd_core) - used, "%s%s/core",
             used ? ", " : "", instance);
  sc->n_amd_core++;
  return true;
}

/* Opens energy_uj and reads max_energy_range_uj: 0, or -1 when the zone was
 * skipped (with its reason recorded). */
static int open_zone(struct scan *sc, const char *zone_dir,
                     struct rapl_zone *z) {
  char path[RAPL_PATH_MAX + 300];
  uint64_t range;

  if (rapl_path_join(path, sizeof(path), zone_dir, "max_energy_range_uj") ||
      rapl_path_join(z->source, sizeof(z->source), zone_dir, "energy_uj")) {
    skip_zone(sc, "%s: path too long", zone_dir);
    return -1;
  }
  int rc = rapl_sysfs_read_u64(path, &range);
  if (rc != 0 || range == 0) {
    skip_zone(sc, "%s: %s", path,
              rc == 0 ? "a range of 0 cannot be a counter's"
                      : rapl_sysfs_strerror(rc));
    return -1;
  }
  int fd = open(z->source, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == EACCES || err == EPERM)
      skip_zone(sc,
                "permission denied opening %s: energy_uj is readable by root "
                "only since Linux 5.10 (PLATYPUS); run collectd as root or "
                "grant it CAP_DAC_READ_SEARCH",
                z->source);
    else
      skip_zone(sc, "%s: %s", z->source, strerror(err));
    return -1;
  }
  if (rapl_zone_alloc_counters(z, 1) != 0) {
    close(fd);
    sc->oom = true;
    return -1;
  }
  z->counters[0].fd = fd;
  z->counters[0].offset = 0;
  z->range = range;
  z->joules_per_unit = 1e-6;
  z->stated_watts = stated_watts(zone_dir);
  return 0;
}

static void scan_zone(struct scan *sc, const char *base, const char *dname,
                      int depth) {
  char zone_dir[RAPL_PATH_MAX + 300], name[64], parent_name[64];
  enum rapl_zone_kind kind;
  char instance[RAPL_INSTANCE_MAX];
  int rc;

  snprintf(zone_dir, sizeof(zone_dir), "%s/%s", base, dname);
  if ((rc = read_name(zone_dir, name, sizeof(name))) != 0) {
    skip_zone(sc, "%s/name: %s", zone_dir, rapl_sysfs_strerror(rc));
    return;
  }
  parent_name[0] = '\0';
  if (depth == 2) {
    char parent_dir[RAPL_PATH_MAX + 300];
    snprintf(parent_dir, sizeof(parent_dir), "%s/%.*s", base,
             (int)(strrchr(dname, ':') - dname), dname);
    if ((rc = read_name(parent_dir, parent_name, sizeof(parent_name))) != 0) {
      skip_zone(sc, "%s/name: %s", parent_dir, rapl_sysfs_strerror(rc));
      return;
    }
  }
  /* Names this plugin does not report (future domains) are not an error. */
  if (!classify(name, parent_name, depth, &kind, instance, sizeof(instance)))
    return;
  sc->seen++;
  if (!(sc->cfg->zone_mask & RAPL_ZONE_MASK(kind)) ||
      rapl_zone_set_has(sc->out, kind, instance) ||
      amd_single_core(sc, kind, instance))
    return;
  struct rapl_zone *z = rapl_zone_set_add(sc->out);
  if (z == NULL) {
    sc->oom = true;
    return;
  }
  z->kind = kind;
  snprintf(z->instance, sizeof(z->instance), "%s", instance);
  if (open_zone(sc, zone_dir, z) != 0)
    sc->out->n--; /* the zone was never handed out */
}

static void scan_control(struct scan *sc, const char *control) {
  char base[RAPL_PATH_MAX + 32];
  struct dirent **entries = NULL;
  int depth;
  powercap_dir(sc->cfg, base, sizeof(base));
  int n = scandir(base, &entries, NULL, alphasort);
  if (n < 0)
    skip_zone(sc, "cannot list %s: %s", base, strerror(errno));
  for (int i = 0; i < n; i++) {
    if (!sc->oom && parse_zone_dirname(entries[i]->d_name, control, &depth))
      scan_zone(sc, base, entries[i]->d_name, depth);
    free(entries[i]);
  }
  free(entries);
}

/* Skipped zones are logged once while the same problem lasts: the reader
 * calls open() again at every read while a zone is lost. */
static struct rapl_scan_log scan_log;

static void powercap_close(struct rapl_zone *z) { rapl_zone_close_fds(z); }

/* energy_uj needs no unit (the kernel applied the model's), but the range
 * each counter wraps at is the one number that makes its readings right or
 * wrong: logged at discovery, one line per kind and range. */
static void log_ranges(const struct rapl_zone_set *set, size_t first) {
  for (size_t i = first; i < set->n; i++) {
    const struct rapl_zone *z = &set->zones[i];
    bool done = false;
    for (size_t k = first; k < i && !done; k++)
      done = set->zones[k].kind == z->kind && set->zones[k].range == z->range;
    if (done)
      continue;
    char list[512];
    size_t used = 0;
    list[0] = '\0';
    for (size_t k = i; k < set->n && used + 1 < sizeof(list); k++) {
      const struct rapl_zone *zk = &set->zones[k];
      if (zk->kind != z->kind || zk->range != z->range)
        continue;
      rapl_msg(list + used, sizeof(list) - used, "%s%s/%s", used ? ", " : "",
               zk->instance, rapl_zone_kind_name(zk->kind));
      used += strlen(list + used);
    }
    rapl_scan_log(&scan_log, RAPL_LOG_INFO,
                  "powercap: %s: energy in uJ, wrapping at %llu uJ "
                  "(max_energy_range_uj)",
                  list, (unsigned long long)z->range);
  }
}

#define AMD_CORE_WHY                                                           \
  "%s not reported: on AMD the kernel's core zone counts one core of the "     \
  "package, and core means all of them (the MSR backend reads it as the sum "  \
  "of every core's counter)"

static int powercap_open(const struct rapl_config *cfg,
                         struct rapl_zone_set *out, char *why, size_t whylen) {
  struct scan *sc = calloc(1, sizeof(*sc));
  char base[RAPL_PATH_MAX + 32];
  size_t before = out->n;

  if (sc == NULL) {
    rapl_msg(why, whylen, "out of memory");
    return -1;
  }
  sc->cfg = cfg;
  sc->out = out;
  sc->vendor = -1;
  /* intel-rapl first: an mmio zone only counts where it covers a package that
   * no intel-rapl zone does, else the same package would be counted twice. */
  scan_control(sc, CONTROL_RAPL);
  scan_control(sc, CONTROL_MMIO);
  int found = (int)(out->n - before);
  powercap_dir(cfg, base, sizeof(base));
  if (sc->oom) {
    for (size_t i = before; i < out->n; i++)
      powercap_close(&out->zones[i]);
    out->n = before;
    found = -1;
    rapl_msg(why, whylen, "out of memory");
  } else if (found == 0) {
    found = -1;
    if (sc->n_skipped > 0)
      rapl_msg(why, whylen, "%s%s", sc->skipped[0],
               sc->n_skipped > 1 ? " (and other zones like it)" : "");
    else if (sc->n_amd_core > 0)
      rapl_msg(why, whylen, AMD_CORE_WHY, sc->amd_core);
    else if (sc->seen == 0)
      rapl_msg(why, whylen, "no RAPL zone (intel-rapl:*) under %s", base);
    else
      rapl_msg(why, whylen,
               "%d RAPL zone(s) under %s, none of a kind the Zone option "
               "selects",
               sc->seen, base);
  } else {
    out->n_skipped += sc->n_skipped;
    rapl_scan_log_begin(&scan_log);
    for (size_t i = 0; i < sc->n_skipped; i++)
      rapl_scan_log(&scan_log, RAPL_LOG_ERR,
                    "powercap: %s; that zone is not reported", sc->skipped[i]);
    if (sc->n_amd_core > 0)
      rapl_scan_log(&scan_log, RAPL_LOG_NOTICE, "powercap: " AMD_CORE_WHY,
                    sc->amd_core);
    log_ranges(out, before);
    rapl_scan_log_end(&scan_log);
  }
  free(sc);
  return found;
}

static int powercap_read(const struct rapl_zone *z, uint64_t *raw) {
  int rc;
  /* A signal during the pread is no fault of the zone's: read again, or the
   * reader would close a good zone and lose a sample. */
  do
    rc = rapl_sysfs_pread_u64(z->counters[0].fd, raw);
  while (rc == -EINTR);
  return rc;
}

const struct rapl_backend rapl_backend_powercap = {
    .name = "powercap",
    .probe = powercap_probe,
    .open = powercap_open,
    .read = powercap_read,
    .close = powercap_close,
};
