/* RAPL through the kernel's perf_event power PMU (arch/x86/events/rapl.c):
 * kernel-mediated like powercap, so no PLATYPUS exposure as with raw MSRs,
 * and present where powercap is not (kernels without intel_rapl, AMD parts
 * the powercap driver does not cover yet, containers that hide
 * /sys/class/powercap). The kernel accumulates the 32-bit hardware counter
 * into a 64-bit count of 2^-32 J (events/<name>.scale), which no interval
 * can wrap. */
#define _GNU_SOURCE
#include "perf.h"

#include "backend.h"
#include "capability.h"
#include "cpu_topology.h"
#include "cpulist.h"
#include "msr_model.h"
#include "rapl_log.h"
#include "rapl_options.h"
#include "scan_log.h"
#include "sysfs_file.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <linux/perf_event.h>
#include <locale.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* One socket per CPU in cpumask: far more than any machine has. */
#define MAX_MASK_CPUS 1024

/* The kernel's event names (rapl.c's rapl_events_*), in the order zones are
 * reported by the other backends. */
static const struct {
  const char *event;
  enum rapl_zone_kind kind;
} perf_events[] = {
    {"energy-pkg", RAPL_ZONE_PACKAGE}, {"energy-cores", RAPL_ZONE_CORE},
    {"energy-gpu", RAPL_ZONE_UNCORE},  {"energy-ram", RAPL_ZONE_DRAM},
    {"energy-psys", RAPL_ZONE_PSYS},
};

/* arch/x86/events/rapl.c, rapl_model_match[]: the rows that point at
 * model_hsx or model_knl, whose .unit_quirk RAPL_UNIT_QUIRK_INTEL_HSW makes
 * rapl_check_hw_unit() set rapl_pkg_hw_unit[PERF_RAPL_RAM] = 16. Checked
 * against t/data/kernel-perf-rapl-models.txt by t/test_perf.c. */
const struct rapl_perf_quirk_row rapl_perf_dram_quirk_models[] = {
    {RAPL_IFM(6, 0x3F), "INTEL_HASWELL_X", "model_hsx"},
    {RAPL_IFM(6, 0x4F), "INTEL_BROADWELL_X", "model_hsx"},
    {RAPL_IFM(6, 0x56), "INTEL_BROADWELL_D", "model_hsx"},
    {RAPL_IFM(6, 0x57), "INTEL_XEON_PHI_KNL", "model_knl"},
    {RAPL_IFM(6, 0x85), "INTEL_XEON_PHI_KNM", "model_knl"},
    {RAPL_IFM(6, 0x55), "INTEL_SKYLAKE_X", "model_hsx"},
    {RAPL_IFM(6, 0x6C), "INTEL_ICELAKE_D", "model_hsx"},
    {RAPL_IFM(6, 0x6A), "INTEL_ICELAKE_X", "model_hsx"},
};
const size_t rapl_perf_dram_quirk_models_len =
    sizeof(rapl_perf_dram_quirk_models) /
    sizeof(rapl_perf_dram_quirk_models[0]);

double rapl_perf_dram_factor(const struct rapl_cpu_model *m, int *quirk_only) {
  *quirk_only = 0;
  for (size_t i = 0; i < rapl_perf_dram_quirk_models_len; i++) {
    unsigned vfm = rapl_perf_dram_quirk_models[i].vfm;
    if (m->vendor != RAPL_VFM_VENDOR(vfm) ||
        m->family != RAPL_VFM_FAMILY(vfm) || m->model != RAPL_VFM_MODEL(vfm))
      continue;
    const struct rapl_model_row *row = rapl_msr_model_find(m);
    if (row == NULL || row->dram_j <= 0) {
      *quirk_only = 1;
      return 1.0;
    }
    return row->dram_j / ldexp(1.0, -16);
  }
  return 1.0;
}

static int system_perf_event_open(struct perf_event_attr *attr, pid_t pid,
                                  int cpu, int group_fd, unsigned long flags) {
  return (int)syscall(SYS_perf_event_open, attr, pid, cpu, group_fd, flags);
}

static rapl_perf_open_fn perf_open_fn = system_perf_event_open;

void rapl_perf_set_open(rapl_perf_open_fn fn) {
  perf_open_fn = fn ? fn : system_perf_event_open;
}

static struct rapl_scan_log scan_log;

static void pmu_dir(const struct rapl_config *cfg, char *out, size_t len) {
  snprintf(out, len, "%s/bus/event_source/devices/power", cfg->sysfs_path);
}

int rapl_perf_parse_scale(const char *text, double *out) {
  /* The decimal point is the kernel's, not the locale's. */
  locale_t c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
  if (c == (locale_t)0)
    return -ENOMEM;
  size_t len = strlen(text);
  if (len > 0 && text[len - 1] == '\n')
    len--;
  char *end = NULL;
  double v = len > 0 && isdigit((unsigned char)text[0])
                 ? strtod_l(text, &end, c)
                 : NAN;
  freelocale(c);
  if (end != text + len || !isfinite(v) || v <= 0.0)
    return -EBADMSG;
  *out = v;
  return 0;
}

int rapl_perf_parse_event(const char *text, uint64_t *config) {
  static const char prefix[] = "event=0x";
  size_t len = strlen(text);
  if (len > 0 && text[len - 1] == '\n')
    len--;
  size_t p = sizeof(prefix) - 1;
  if (len <= p || len > p + 16 || strncmp(text, prefix, p) != 0)
    return -EBADMSG;
  uint64_t v = 0;
  for (; p < len; p++) {
    int ch = tolower((unsigned char)text[p]);
    if (!isxdigit(ch))
      return -EBADMSG;
    v = v << 4 | (uint64_t)(isdigit(ch) ? ch - '0' : ch - 'a' + 10);
  }
  *config = v;
  return 0;
}

void rapl_perf_refusal(char *out, size_t outlen, const char *event, int cpu,
                       int err, const char *paranoid_path, int paranoid,
                       int perfmon, int sys_admin) {
  char level[96];
  if (paranoid == RAPL_PERF_PARANOID_UNKNOWN)
    rapl_msg(level, sizeof(level), "cannot be read");
  else
    rapl_msg(level, sizeof(level), "is %d", paranoid);
  if (perfmon == 1 || sys_admin == 1 ||
      (paranoid != RAPL_PERF_PARANOID_UNKNOWN && paranoid <= 0)) {
    rapl_msg(out, outlen,
             "perf_event_open refused power/%s/ on CPU %d (%s) although "
             "%s %s and this process %s CAP_PERFMON and %s CAP_SYS_ADMIN: "
             "a security module (SELinux, AppArmor) or a seccomp filter "
             "refuses perf events",
             event, cpu, strerror(err), paranoid_path, level,
             perfmon == 1 ? "has" : "lacks", sys_admin == 1 ? "has" : "lacks");
    return;
  }
  rapl_msg(out, outlen,
           "perf_event_open refused power/%s/ on CPU %d (%s): system-wide "
           "events need %s at most 0 (it %s), or CAP_PERFMON (Linux 5.8 and "
           "later) or CAP_SYS_ADMIN, and %s",
           event, cpu, strerror(err), paranoid_path, level,
           perfmon == 0 && sys_admin == 0
               ? "this process has neither capability"
               : "capget(2) could not tell whether this process has them");
}

static int perf_probe(const struct rapl_config *cfg, char *why, size_t whylen) {
  char dir[RAPL_PATH_MAX + 64];
  struct stat st;
  pmu_dir(cfg, dir, sizeof(dir));
  if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
    return 0;
  if (errno == EACCES)
    rapl_msg(why, whylen, "permission denied reading %s", dir);
  else
    rapl_msg(why, whylen,
             "no perf power PMU %s (kernel without the RAPL perf driver, a "
             "CPU it does not support, or a container that hides it)",
             dir);
  return -1;
}

/* What discovery learns of the PMU once per scan. */
struct pmu {
  char dir[RAPL_PATH_MAX + 64];
  uint32_t type;
  int cpus[MAX_MASK_CPUS];
  size_t n_cpus;
};

static int read_pmu_file(const struct pmu *pmu, const char *name, char *out,
                         size_t len, char *why, size_t whylen) {
  char path[RAPL_PATH_MAX + 128];
  int rc = rapl_path_join(path, sizeof(path), pmu->dir, name) != 0
               ? -ENAMETOOLONG
               : rapl_sysfs_read_string(path, out, len);
  if (rc < 0 && why != NULL)
    rapl_msg(why, whylen, "cannot read %s: %s", path,
             rc == -EBADMSG ? "empty" : strerror(-rc));
  return rc;
}

static int read_pmu(const struct rapl_config *cfg, struct pmu *pmu, char *why,
                    size_t whylen) {
  char text[8192];
  char err[RAPL_MSG_MAX];
  uint64_t type;
  pmu_dir(cfg, pmu->dir, sizeof(pmu->dir));
  if (read_pmu_file(pmu, "type", text, sizeof(text), why, whylen) < 0)
    return -1;
  if (rapl_parse_u64(text, strlen(text), &type) != 0 || type > UINT32_MAX) {
    rapl_msg(why, whylen, "%s/type: expected a PMU type number, found \"%s\"",
             pmu->dir, text);
    return -1;
  }
  pmu->type = (uint32_t)type;
  /* The kernel prints an empty mask as a bare newline, which is not a
   * file that cannot be read. */
  int rc = read_pmu_file(pmu, "cpumask", text, sizeof(text), why, whylen);
  if (rc == -EBADMSG)
    text[0] = '\0';
  else if (rc < 0)
    return -1;
  if (rapl_cpulist_parse(text, pmu->cpus, MAX_MASK_CPUS, &pmu->n_cpus, err,
                         sizeof(err)) != 0) {
    rapl_msg(why, whylen, "%s/cpumask: %s", pmu->dir, err);
    return -1;
  }
  if (pmu->n_cpus == 0) {
    rapl_msg(why, whylen, "%s/cpumask is empty: no CPU counts RAPL events",
             pmu->dir);
    return -1;
  }
  return 0;
}

/* The event's config and joules per count from events/<name>,
 * events/<name>.scale and events/<name>.unit. 1 when the PMU does not offer
 * the event, 0 when it does, -1 (logged) when its files are not as the
 * kernel writes them. */
static int left_out(const struct pmu *pmu, const char *name, int rc,
                    const char *expected) {
  rapl_scan_log(&scan_log, RAPL_LOG_ERR,
                "perf: %s/%s: %s; the event is left out", pmu->dir, name,
                rc < 0 ? strerror(-rc) : expected);
  return -1;
}

static int read_event(const struct pmu *pmu, const char *event,
                      uint64_t *config, double *scale) {
  char name[64], text[256];
  snprintf(name, sizeof(name), "events/%s", event);
  int rc = read_pmu_file(pmu, name, text, sizeof(text), NULL, 0);
  if (rc == -ENOENT)
    return 1;
  if (rc < 0 || rapl_perf_parse_event(text, config) != 0)
    return left_out(pmu, name, rc, "not \"event=0x<hex>\"");
  snprintf(name, sizeof(name), "events/%s.scale", event);
  rc = read_pmu_file(pmu, name, text, sizeof(text), NULL, 0);
  if (rc < 0 || rapl_perf_parse_scale(text, scale) != 0)
    return left_out(pmu, name, rc, "not a positive decimal");
  snprintf(name, sizeof(name), "events/%s.unit", event);
  rc = read_pmu_file(pmu, name, text, sizeof(text), NULL, 0);
  if (rc < 0 || strcmp(text, "Joules") != 0)
    return left_out(pmu, name, rc, "not \"Joules\"");
  return 0;
}

static const struct rapl_socket *socket_of(const struct rapl_topology *topo,
                                           int cpu) {
  for (size_t s = 0; s < topo->n_sockets; s++)
    for (size_t i = 0; i < topo->sockets[s].n_cpus; i++)
      if (topo->sockets[s].cpus[i] == cpu)
        return &topo->sockets[s];
  return NULL;
}

static int paranoid_level(const struct rapl_config *cfg, char *path,
                          size_t len) {
  char text[32], *end = NULL;
  snprintf(path, len, "%s/sys/kernel/perf_event_paranoid", cfg->procfs_path);
  if (rapl_sysfs_read_string(path, text, sizeof(text)) != 0)
    return RAPL_PERF_PARANOID_UNKNOWN;
  /* The kernel prints a signed int: -1 is common. */
  long v = strtol(text, &end, 10);
  return end != text && *end == '\0' && v > RAPL_PERF_PARANOID_UNKNOWN &&
                 v <= 1000
             ? (int)v
             : RAPL_PERF_PARANOID_UNKNOWN;
}

static void refused(const struct rapl_config *cfg, const char *event, int cpu,
                    int err, char *why, size_t whylen) {
  char path[RAPL_PATH_MAX + 64], ignored[RAPL_MSG_MAX];
  int paranoid = paranoid_level(cfg, path, sizeof(path));
  int perfmon = rapl_cap_effective(RAPL_CAP_PERFMON, ignored, sizeof(ignored));
  int admin = rapl_cap_effective(RAPL_CAP_SYS_ADMIN, ignored, sizeof(ignored));
  rapl_perf_refusal(why, whylen, event, cpu, err, path, paranoid, perfmon,
                    admin);
}

struct scan {
  const struct rapl_config *cfg;
  struct rapl_zone_set *out;
  char why[RAPL_MSG_MAX]; /* the first reason a counter did not open */
  bool refused;           /* perf_event_open said no for lack of privilege */
  bool oom;
};

static void add_zone(struct scan *sc, const struct pmu *pmu, const char *event,
                     enum rapl_zone_kind kind, uint64_t config, double scale,
                     int cpu, const char *instance) {
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.type = pmu->type;
  attr.size = sizeof(attr);
  attr.config = config;
  int fd = perf_open_fn(&attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    sc->out->n_skipped++;
    if (err == EACCES || err == EPERM) {
      /* The refusal is the answer, whatever failed before it. */
      if (!sc->refused)
        refused(sc->cfg, event, cpu, err, sc->why, sizeof(sc->why));
      sc->refused = true;
      return;
    }
    /* This zone's own reason: the first one is also the scan's. */
    char msg[RAPL_MSG_MAX];
    rapl_msg(msg, sizeof(msg),
             "perf_event_open of power/%s/ (type %u, config 0x%llx) on CPU "
             "%d failed: %s",
             event, pmu->type, (unsigned long long)config, cpu, strerror(err));
    if (!sc->why[0])
      rapl_msg(sc->why, sizeof(sc->why), "%s", msg);
    rapl_scan_log(&scan_log, RAPL_LOG_ERR, "perf: %s/%s: %s; left out",
                  instance, rapl_zone_kind_name(kind), msg);
    return;
  }
  struct rapl_zone *z = rapl_zone_set_add(sc->out);
  if (z == NULL || rapl_zone_alloc_counters(z, 1) != 0) {
    if (z != NULL)
      sc->out->n--;
    close(fd);
    sc->oom = true;
    return;
  }
  z->kind = kind;
  snprintf(z->instance, sizeof(z->instance), "%s", instance);
  snprintf(z->source, sizeof(z->source), "perf event power/%s/ on CPU %d",
           event, cpu);
  z->joules_per_unit = scale;
  z->range = UINT64_MAX; /* 64-bit kernel count: never wraps in practice */
  z->counters[0].fd = fd;
  z->counters[0].offset = 0;
}

/* Names as the powercap backend names the same counters, so that dashboards
 * survive a switch: "package-P" ("package-P-die-D" on multi-die machines),
 * and "platform" for psys, counted by the boot CPU's package only (the
 * other packages' psys counters read 0 on every machine we know). */
static bool zone_instance(const struct rapl_topology *topo,
                          const struct rapl_socket *sock,
                          enum rapl_zone_kind kind, char *out, size_t len) {
  if (kind == RAPL_ZONE_PSYS) {
    if (sock->package != socket_of(topo, topo->online[0])->package ||
        sock->die != socket_of(topo, topo->online[0])->die)
      return false;
    snprintf(out, len, "platform");
  } else if (rapl_topology_max_dies(topo) > 1)
    snprintf(out, len, "package-%d-die-%d", sock->package, sock->die);
  else
    snprintf(out, len, "package-%d", sock->package);
  return true;
}

/* energy-ram's correction for this CPU (rapl_perf_dram_factor), said once
 * per stretch, so that an operator comparing with powercap or perf stat
 * knows why the numbers differ. */
static double dram_factor(const struct rapl_config *cfg,
                          const struct pmu *pmu) {
  struct rapl_cpu_model m;
  char err[RAPL_MSG_MAX];
  int quirk_only;
  if (rapl_cpu_model_read(cfg->procfs_path, &m, err, sizeof(err)) < 0) {
    rapl_scan_log(&scan_log, RAPL_LOG_NOTICE,
                  "perf: %s; energy-ram taken at its .scale, which on the "
                  "server models with a fixed 15.3 uJ DRAM unit reads 0.27%% "
                  "low",
                  err);
    return 1.0;
  }
  double f = rapl_perf_dram_factor(&m, &quirk_only);
  if (quirk_only)
    rapl_scan_log(&scan_log, RAPL_LOG_NOTICE,
                  "perf: %s/events/energy-ram: the kernel's perf driver counts "
                  "DRAM in 2^-16 J on this CPU (family %u model 0x%x) where "
                  "its powercap driver uses the unit register; taken at its "
                  ".scale, so dram may differ from powercap's",
                  pmu->dir, m.family, m.model);
  else if (f != 1.0)
    rapl_scan_log(&scan_log, RAPL_LOG_INFO,
                  "perf: %s/events/energy-ram: the kernel's perf driver counts "
                  "the fixed DRAM unit of family %u model 0x%x (%g uJ) as "
                  "2^-16 J (RAPL_UNIT_QUIRK_INTEL_HSW); counts are scaled by "
                  "%.6f to the joules powercap and the MSRs report",
                  pmu->dir, m.family, m.model, f * ldexp(1.0, -16) * 1e6, f);
  return f;
}

static void perf_close(struct rapl_zone *zone) { rapl_zone_close_fds(zone); }

static int perf_open(const struct rapl_config *cfg, struct rapl_zone_set *out,
                     char *why, size_t whylen) {
  struct pmu *pmu = malloc(sizeof(*pmu));
  struct rapl_topology topo;
  char err[RAPL_MSG_MAX];
  if (pmu == NULL) {
    rapl_msg(why, whylen, "out of memory");
    return -1;
  }
  if (read_pmu(cfg, pmu, why, whylen) != 0) {
    free(pmu);
    return -1;
  }
  if (rapl_topology_read(cfg->sysfs_path, &topo, err, sizeof(err)) != 0) {
    rapl_msg(why, whylen, "%s", err);
    free(pmu);
    return -1;
  }
  struct scan sc = {.cfg = cfg, .out = out};
  const size_t n0 = out->n;
  size_t offered = 0;
  rapl_scan_log_begin(&scan_log);
  for (size_t e = 0; e < sizeof(perf_events) / sizeof(perf_events[0]); e++) {
    uint64_t config;
    double scale;
    enum rapl_zone_kind kind = perf_events[e].kind;
    if (!(cfg->zone_mask & RAPL_ZONE_MASK(kind)) ||
        read_event(pmu, perf_events[e].event, &config, &scale) != 0)
      continue;
    offered++;
    if (kind == RAPL_ZONE_DRAM)
      scale *= dram_factor(cfg, pmu);
    for (size_t c = 0; c < pmu->n_cpus && !sc.oom && !sc.refused; c++) {
      char instance[RAPL_INSTANCE_MAX];
      const struct rapl_socket *sock = socket_of(&topo, pmu->cpus[c]);
      if (sock == NULL) {
        /* The mask names a CPU that went offline since: the kernel moves
         * the event to another CPU and rewrites the mask. */
        out->n_skipped++;
        rapl_scan_log(&scan_log, RAPL_LOG_NOTICE,
                      "perf: %s/cpumask names CPU %d, which is not online; "
                      "looking again later",
                      pmu->dir, pmu->cpus[c]);
        continue;
      }
      if (!zone_instance(&topo, sock, kind, instance, sizeof(instance)) ||
          rapl_zone_set_has(out, kind, instance))
        continue;
      add_zone(&sc, pmu, perf_events[e].event, kind, config, scale,
               pmu->cpus[c], instance);
    }
  }
  rapl_scan_log_end(&scan_log);
  rapl_topology_free(&topo);

  if (sc.oom || sc.refused) {
    while (out->n > n0) {
      out->n--;
      perf_close(&out->zones[out->n]);
    }
  }
  int rc = (int)(out->n - n0);
  if (sc.oom)
    rapl_msg(why, whylen, "out of memory");
  else if (rc == 0 && sc.why[0])
    rapl_msg(why, whylen, "%s", sc.why);
  else if (rc == 0 && offered == 0)
    rapl_msg(why, whylen,
             "%s/events offers no energy event of the configured zones",
             pmu->dir);
  else if (rc == 0)
    rapl_msg(why, whylen, "no CPU in %s/cpumask is online", pmu->dir);
  free(pmu);
  return rc > 0 ? rc : -1;
}

static int perf_read(const struct rapl_zone *zone, uint64_t *raw) {
  /* A perf descriptor refuses pread (ESPIPE): read(2) it is, and the
   * count ignores the file offset. */
  uint64_t v;
  ssize_t n;
  do
    n = read(zone->counters[0].fd, &v, sizeof(v));
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return -errno;
  if (n != (ssize_t)sizeof(v))
    return -EIO;
  raw[0] = v;
  return 0;
}

const struct rapl_backend rapl_backend_perf = {
    .name = "perf",
    .enabled_by = &rapl_options[RAPL_OPT_PERF_ENABLED],
    .enable_advice = "set \"PerfEnabled true\" to allow it",
    /* Each perf_event_open counts from zero: a reopened zone's count is a
     * new one. */
    .counts_from_open = true,
    .probe = perf_probe,
    .open = perf_open,
    .read = perf_read,
    .close = perf_close,
};
