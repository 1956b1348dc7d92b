/* The MSR backend: RAPL energy counters read from /dev/cpu/N/msr (the msr
 * module), one counter per socket, for hosts without powercap. Opt-in; the
 * reader core decides when to use it and warns about PLATYPUS. This file only
 * finds the counters and reads them. */
#include "backend.h"
#include "capability.h"
#include "cpu_topology.h"
#include "msr_model.h"
#include "rapl_log.h"
#include "rapl_options.h"
#include "scan_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MSR_RANGE (UINT64_C(1) << 32)
#define MSR_MASK UINT64_C(0xffffffff)

/* One 8-byte read of register `reg`: 0, or -errno (a short read is EIO). */
static int read_reg(int fd, uint64_t reg, uint64_t *value) {
  ssize_t r;
  do
    r = pread(fd, value, sizeof(*value), (off_t)reg);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return -errno;
  if (r != (ssize_t)sizeof(*value))
    return -EIO;
  return 0;
}

/* Opens cpu's device read-only: fd, or -errno (-ENAMETOOLONG when the path
 * does not fit). The path is built only by rapl_msr_template_expand. */
static int open_dev(const struct rapl_config *cfg, int cpu, char *path,
                    size_t pathlen) {
  if (rapl_msr_template_expand(cfg->msr_device_path, cpu, path, pathlen) < 0) {
    snprintf(path, pathlen, "%s", cfg->msr_device_path);
    return -ENAMETOOLONG;
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

static const char *hint_for(int err) {
  switch (err) {
  case ENOENT:
    return " (is the msr module loaded? modprobe msr)";
  case EPERM:
  case EACCES:
    return " (reading MSRs needs CAP_SYS_RAWIO)";
  default:
    return "";
  }
}

static int msr_probe(const struct rapl_config *cfg, char *why, size_t whylen) {
  char err[RAPL_MSG_MAX];
  char path[RAPL_PATH_MAX];
  int *cpus = NULL;
  size_t n = 0;
  struct stat st;

  if (!rapl_msr_template_valid(cfg->msr_device_path, err, sizeof(err))) {
    rapl_msg(why, whylen, "%s", err);
    return -1;
  }
  int cap = rapl_cap_effective(RAPL_CAP_SYS_RAWIO, err, sizeof(err));
  if (cap < 0) {
    rapl_msg(why, whylen, "cannot check the CAP_SYS_RAWIO capability: %s", err);
    return -1;
  }
  if (cap == 0) {
    rapl_msg(why, whylen,
             "reading MSRs needs the CAP_SYS_RAWIO capability, which this "
             "process lacks (run collectd as root or grant it "
             "CAP_SYS_RAWIO)");
    return -1;
  }
  if (rapl_topology_read_online(cfg->sysfs_path, &cpus, &n, err, sizeof(err)) <
      0) {
    rapl_msg(why, whylen, "%s", err);
    return -1;
  }
  int first = cpus[0];
  free(cpus);
  if (rapl_msr_template_expand(cfg->msr_device_path, first, path,
                               sizeof(path)) < 0) {
    rapl_msg(why, whylen, "MSRDevicePath: expanded path too long");
    return -1;
  }
  if (stat(path, &st) != 0) {
    int e = errno;
    if (e == ENOENT)
      rapl_msg(why, whylen,
               "no MSR device %s for CPU %d: load the msr kernel module "
               "(modprobe msr)",
               path, first);
    else
      rapl_msg(why, whylen, "MSR device %s: %s", path, strerror(e));
    return -1;
  }
  return 0;
}

/* Open-time messages, logged once while the same problem lasts. */
static struct rapl_scan_log scan_log;

/* Open-time state shared by the helpers below. */
struct opener {
  const struct rapl_config *cfg;
  const struct rapl_cpu_model *model;
  const struct rapl_msr_layout *layout;
  struct rapl_zone_set *out;
  char why[RAPL_MSG_MAX]; /* first reason a zone or socket was not found */
  int oom;
};

static void note(struct opener *op, const char *msg) {
  op->out->n_skipped++;
  if (op->why[0] == '\0')
    rapl_msg(op->why, sizeof(op->why), "%s", msg);
}

/* Removes the last zone of the set, closing what it holds. */
static void drop_last(struct rapl_zone_set *out) {
  rapl_zone_close_fds(&out->zones[out->n - 1]);
  out->n--;
}

static struct rapl_zone *new_zone(struct opener *op, enum rapl_zone_kind kind,
                                  const char *instance, uint64_t unit_reg,
                                  size_t n_counters) {
  struct rapl_zone *zone = rapl_zone_set_add(op->out);
  if (zone == NULL) {
    op->oom = 1;
    return NULL;
  }
  zone->kind = kind;
  snprintf(zone->instance, sizeof(zone->instance), "%s", instance);
  zone->joules_per_unit = rapl_msr_zone_unit(op->model, kind, unit_reg);
  zone->range = MSR_RANGE;
  if (rapl_zone_alloc_counters(zone, n_counters) < 0) {
    op->out->n--;
    op->oom = 1;
    return NULL;
  }
  return zone;
}

/* The power Intel states for a package or DRAM domain: the thermal spec
 * power in MSR_PKG_POWER_INFO (0x614) or MSR_DRAM_POWER_INFO (0x61C), bits
 * 14:0, in the power unit of 0x606 bits 3:0 (1/2^PU W); 0 where absent. It
 * tightens the reader's plausibility bound, as powercap's constraints do. */
static double stated_watts(const struct opener *op, int fd,
                           enum rapl_zone_kind kind, uint64_t unit_reg) {
  uint64_t info;
  uint64_t reg = kind == RAPL_ZONE_PACKAGE ? 0x614
                 : kind == RAPL_ZONE_DRAM  ? 0x61C
                                           : 0;
  if (op->model->vendor != RAPL_VENDOR_INTEL || reg == 0 ||
      read_reg(fd, reg, &info) != 0)
    return 0;
  return (double)(info & 0x7fff) / (double)(1u << (unit_reg & 0xf));
}

/* A zone with one counter on `cpu`'s device, given its own descriptor. */
static void add_single(struct opener *op, enum rapl_zone_kind kind,
                       const char *instance, int cpu, uint64_t reg,
                       uint64_t unit_reg) {
  char path[RAPL_PATH_MAX];
  struct rapl_zone *zone = new_zone(op, kind, instance, unit_reg, 1);
  if (zone == NULL)
    return;
  int fd = open_dev(op->cfg, cpu, path, sizeof(path));
  if (fd < 0) {
    char msg[RAPL_MSG_MAX];
    rapl_msg(msg, sizeof(msg), "%s %s: cannot reopen %s: %s", instance,
             rapl_zone_kind_name(kind), path, strerror(-fd));
    rapl_scan_log(&scan_log, RAPL_LOG_ERR, "%s", msg);
    note(op, msg);
    drop_last(op->out);
    return;
  }
  zone->counters[0].fd = fd;
  zone->counters[0].offset = reg;
  zone->stated_watts = stated_watts(op, fd, kind, unit_reg);
  snprintf(zone->source, sizeof(zone->source), "%s", path);
}

/* "/dev/cpu/{0,2,4}/msr" for messages: the template with the CPU list in
 * braces where %d was. */
static void describe_cpus(const char *tmpl, const int *cpus, size_t n,
                          char *out, size_t outlen) {
  const char *mark = strstr(tmpl, "%d");
  char list[256];
  size_t used = 0;
  list[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    char num[16];
    int len = snprintf(num, sizeof(num), "%s%d", i ? "," : "", cpus[i]);
    if (used + (size_t)len + 4 >= sizeof(list)) {
      memcpy(list + used, ",...", 5);
      break;
    }
    memcpy(list + used, num, (size_t)len + 1);
    used += (size_t)len;
  }
  if (mark == NULL) {
    rapl_msg(out, outlen, "%s", tmpl);
    return;
  }
  rapl_msg(out, outlen, "%.*s{%s}%s", (int)(mark - tmpl), tmpl, list, mark + 2);
}

/* AMD's core zone: one counter per physical core of the package, each on the
 * device of an online thread of that core that reads. */
static void add_per_core(struct opener *op, enum rapl_zone_kind kind,
                         const char *instance,
                         const struct rapl_socket *sockets, size_t n_sockets,
                         uint64_t reg, uint64_t unit_reg) {
  size_t n_cores = 0;
  for (size_t s = 0; s < n_sockets; s++)
    n_cores += sockets[s].n_cores;
  int *chosen = calloc(n_cores ? n_cores : 1, sizeof(*chosen));
  if (chosen == NULL) {
    op->oom = 1;
    return;
  }
  struct rapl_zone *zone = new_zone(op, kind, instance, unit_reg, n_cores);
  if (zone == NULL) {
    free(chosen);
    return;
  }
  size_t k = 0;
  for (size_t s = 0; s < n_sockets; s++) {
    for (size_t c = 0; c < sockets[s].n_cores; c++, k++) {
      const struct rapl_core *core = &sockets[s].cores[c];
      char path[RAPL_PATH_MAX];
      int last_err = 0, last_cpu = -1;
      for (size_t t = 0; t < core->n_cpus; t++) {
        uint64_t v;
        int fd = open_dev(op->cfg, core->cpus[t], path, sizeof(path));
        int r = fd < 0 ? fd : read_reg(fd, reg, &v);
        if (r == 0) {
          zone->counters[k].fd = fd;
          zone->counters[k].offset = reg;
          chosen[k] = core->cpus[t];
          break;
        }
        if (fd >= 0)
          close(fd);
        last_err = -r;
        last_cpu = core->cpus[t];
      }
      if (zone->counters[k].fd < 0) {
        char msg[RAPL_MSG_MAX];
        rapl_msg(msg, sizeof(msg),
                 "%s %s: no readable MSR device for physical core %d (cpu %d: "
                 "%s); the zone is left out",
                 instance, rapl_zone_kind_name(kind), core->core_id, last_cpu,
                 strerror(last_err));
        rapl_scan_log(&scan_log, RAPL_LOG_ERR, "%s", msg);
        note(op, msg);
        drop_last(op->out);
        free(chosen);
        return;
      }
    }
  }
  describe_cpus(op->cfg->msr_device_path, chosen, n_cores, zone->source,
                sizeof(zone->source));
  free(chosen);
}

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return x < y ? -1 : (x > y);
}

/* Finds the socket's first online CPU whose device opens and whose unit
 * register reads; returns its descriptor (and cpu, unit value), or -1. */
static int choose_cpu(struct opener *op, const char *instance, const int *cpus,
                      size_t n, int *cpu_out, uint64_t *unit_out) {
  char path[RAPL_PATH_MAX];
  char first_path[RAPL_PATH_MAX] = "";
  int first_err = 0, first_cpu = -1;

  for (size_t i = 0; i < n; i++) {
    int fd = open_dev(op->cfg, cpus[i], path, sizeof(path));
    int r = fd < 0 ? fd : read_reg(fd, op->layout->unit, unit_out);
    if (r == 0) {
      if (i > 0)
        rapl_scan_log(&scan_log, RAPL_LOG_WARNING,
                      "cpu %d device %s failed (%s), using cpu %d for %s",
                      first_cpu, first_path, strerror(first_err), cpus[i],
                      instance);
      *cpu_out = cpus[i];
      return fd;
    }
    if (fd >= 0)
      close(fd);
    if (i == 0) {
      first_err = -r;
      first_cpu = cpus[i];
      snprintf(first_path, sizeof(first_path), "%s", path);
    }
  }
  char msg[RAPL_MSG_MAX];
  if (first_err == EIO)
    rapl_msg(msg, sizeof(msg),
             "%s: the RAPL unit register 0x%llx does not read on any online "
             "CPU (cpu %d %s: %s); this CPU or hypervisor does not expose "
             "RAPL through MSRs",
             instance, (unsigned long long)op->layout->unit, first_cpu,
             first_path, strerror(first_err));
  else
    rapl_msg(msg, sizeof(msg),
             "%s: no online CPU's MSR device is readable (cpu %d %s: %s%s)",
             instance, first_cpu, first_path, strerror(first_err),
             hint_for(first_err));
  rapl_scan_log(&scan_log, RAPL_LOG_ERR, "%s", msg);
  note(op, msg);
  return -1;
}

/* Where the zones of one socket group start in the set, and the unit
 * register their units were derived from. */
struct unit_mark {
  size_t first;
  uint64_t unit_reg;
};

static uint64_t unit_reg_of(const struct unit_mark *marks, size_t n_marks,
                            size_t zone) {
  uint64_t unit = 0;
  for (size_t i = 0; i < n_marks && marks[i].first <= zone; i++)
    unit = marks[i].unit_reg;
  return unit;
}

/* Logs each zone's energy unit and where it comes from, one line per kind
 * and unit ("msr: package-0/dram, package-1/dram: energy unit 15.3 uJ (fixed
 * for dram on INTEL_SKYLAKE_X, rapl_defaults_hsw_server)"): a wrong unit is
 * a wrong value, and this line is how an operator checks it. Through the scan
 * log, so once while it stays the same. */
static void log_units(const struct opener *op, size_t n0,
                      const struct unit_mark *marks, size_t n_marks) {
  const struct rapl_zone_set *set = op->out;
  const int level =
      rapl_msr_model_find(op->model) != NULL ? RAPL_LOG_INFO : RAPL_LOG_NOTICE;
  for (size_t i = n0; i < set->n; i++) {
    char text[256], other[256], list[512], unit[32];
    const struct rapl_zone *z = &set->zones[i];
    double j = rapl_msr_zone_unit_explain(
        op->model, z->kind, unit_reg_of(marks, n_marks, i), text, sizeof(text));
    bool done = false;
    for (size_t k = n0; k < i && !done; k++) {
      double jk = rapl_msr_zone_unit_explain(op->model, set->zones[k].kind,
                                             unit_reg_of(marks, n_marks, k),
                                             other, sizeof(other));
      done = set->zones[k].kind == z->kind && jk == j && !strcmp(text, other);
    }
    if (done)
      continue; /* logged with the first zone of its kind and unit */
    size_t used = 0;
    list[0] = '\0';
    for (size_t k = i; k < set->n && used + 1 < sizeof(list); k++) {
      const struct rapl_zone *zk = &set->zones[k];
      double jk = rapl_msr_zone_unit_explain(op->model, zk->kind,
                                             unit_reg_of(marks, n_marks, k),
                                             other, sizeof(other));
      if (zk->kind != z->kind || jk != j || strcmp(text, other) != 0)
        continue;
      rapl_msg(list + used, sizeof(list) - used, "%s%s/%s", used ? ", " : "",
               zk->instance, rapl_zone_kind_name(zk->kind));
      used += strlen(list + used);
    }
    rapl_format_joules(j, unit, sizeof(unit));
    rapl_scan_log(&scan_log, level, "msr: %s: energy unit %s (%s)", list, unit,
                  text);
  }
}

/* Whether `reg` exists: it reads on the chosen device and is not zero. */
static int reg_present(int fd, uint64_t reg) {
  uint64_t v;
  return read_reg(fd, reg, &v) == 0 && (v & MSR_MASK) != 0;
}

static int msr_open(const struct rapl_config *cfg, struct rapl_zone_set *out,
                    char *why, size_t whylen) {
  static const enum rapl_zone_kind socket_kinds[] = {
      RAPL_ZONE_PACKAGE, RAPL_ZONE_CORE, RAPL_ZONE_UNCORE, RAPL_ZONE_DRAM};
  struct rapl_cpu_model model;
  struct rapl_msr_layout layout;
  struct rapl_topology topo;
  struct opener op;
  char err[RAPL_MSG_MAX];
  const size_t n0 = out->n;

  if (!rapl_msr_template_valid(cfg->msr_device_path, err, sizeof(err)) ||
      rapl_cpu_model_read(cfg->procfs_path, &model, err, sizeof(err)) < 0 ||
      rapl_msr_layout_for(&model, &layout, err, sizeof(err)) < 0 ||
      rapl_topology_read(cfg->sysfs_path, &topo, err, sizeof(err)) < 0) {
    rapl_msg(why, whylen, "%s", err);
    return -1;
  }
  memset(&op, 0, sizeof(op));
  op.cfg = cfg;
  op.model = &model;
  op.layout = &layout;
  op.out = out;

  int *cpus = malloc(topo.n_online * sizeof(*cpus));
  struct unit_mark *marks = calloc(topo.n_sockets + 1, sizeof(*marks));
  size_t n_marks = 0;
  if (cpus == NULL || marks == NULL) {
    free(cpus);
    free(marks);
    rapl_topology_free(&topo);
    rapl_msg(why, whylen, "out of memory");
    return -1;
  }
  const int with_die = !layout.per_package && rapl_topology_max_dies(&topo) > 1;
  rapl_scan_log_begin(&scan_log);

  for (size_t s = 0; s < topo.n_sockets && !op.oom;) {
    /* A group: one socket, or for per-package layouts all dies of one
     * package. */
    size_t e = s + 1;
    if (layout.per_package)
      while (e < topo.n_sockets &&
             topo.sockets[e].package == topo.sockets[s].package)
        e++;
    size_t n = 0;
    for (size_t i = s; i < e; i++) {
      memcpy(cpus + n, topo.sockets[i].cpus,
             topo.sockets[i].n_cpus * sizeof(*cpus));
      n += topo.sockets[i].n_cpus;
    }
    qsort(cpus, n, sizeof(*cpus), cmp_int);

    char instance[RAPL_INSTANCE_MAX];
    if (with_die)
      snprintf(instance, sizeof(instance), "package-%d-die-%d",
               topo.sockets[s].package, topo.sockets[s].die);
    else
      snprintf(instance, sizeof(instance), "package-%d",
               topo.sockets[s].package);

    int cpu;
    uint64_t unit;
    int fd = choose_cpu(&op, instance, cpus, n, &cpu, &unit);
    if (fd >= 0) {
      marks[n_marks].first = out->n;
      marks[n_marks++].unit_reg = unit;
      for (size_t k = 0;
           k < sizeof(socket_kinds) / sizeof(socket_kinds[0]) && !op.oom; k++) {
        enum rapl_zone_kind kind = socket_kinds[k];
        uint64_t reg = layout.reg[kind];
        if (!(cfg->zone_mask & RAPL_ZONE_MASK(kind)) || reg == 0 ||
            !reg_present(fd, reg))
          continue;
        if (layout.per_core[kind])
          add_per_core(&op, kind, instance, &topo.sockets[s], e - s, reg, unit);
        else
          add_single(&op, kind, instance, cpu, reg, unit);
      }
      /* Only the package wired to the platform's power sensor counts psys,
       * and on Sapphire Rapids that need not be package 0: like the kernel,
       * look on every socket and keep the counters that read. Named as the
       * kernel names them, so that a switch keeps the identifiers: "psys"
       * for the boot CPU's package (the kernel's logical package 0),
       * "psys-<physical package>" for the others. */
      uint64_t reg = layout.reg[RAPL_ZONE_PSYS];
      if (!op.oom && (cfg->zone_mask & RAPL_ZONE_MASK(RAPL_ZONE_PSYS)) &&
          reg != 0 && reg_present(fd, reg)) {
        char platform[RAPL_INSTANCE_MAX];
        if (cpus[0] == topo.online[0])
          snprintf(platform, sizeof(platform), "platform");
        else
          snprintf(platform, sizeof(platform), "platform-%d",
                   topo.sockets[s].package);
        if (!rapl_zone_set_has(out, RAPL_ZONE_PSYS, platform))
          add_single(&op, RAPL_ZONE_PSYS, platform, cpu, reg, unit);
      }
      close(fd);
    }
    s = e;
  }
  if (!op.oom)
    log_units(&op, n0, marks, n_marks);
  rapl_scan_log_end(&scan_log);
  free(cpus);
  free(marks);
  rapl_topology_free(&topo);

  if (op.oom) {
    while (out->n > n0)
      drop_last(out);
    rapl_msg(why, whylen, "out of memory");
    return -1;
  }
  if (out->n == n0) {
    if (op.why[0])
      rapl_msg(why, whylen, "%s", op.why);
    else
      rapl_msg(why, whylen,
               "no RAPL energy register of the configured zones reads "
               "through %s (%s family %u model 0x%x)",
               cfg->msr_device_path, model.vendor_id, model.family,
               model.model);
    return -1;
  }
  return (int)(out->n - n0);
}

static int msr_read(const struct rapl_zone *zone, uint64_t *raw) {
  for (size_t i = 0; i < zone->n_counters; i++) {
    uint64_t v;
    int r = read_reg(zone->counters[i].fd, zone->counters[i].offset, &v);
    if (r < 0)
      return r;
    raw[i] = v & MSR_MASK;
  }
  return 0;
}

static void msr_close(struct rapl_zone *zone) { rapl_zone_close_fds(zone); }

const struct rapl_backend rapl_backend_msr = {
    .name = "msr",
    /* Opt-in: raw MSR access bypasses the kernel's PLATYPUS mitigation. */
    .enabled_by = &rapl_options[RAPL_OPT_MSR_ENABLED],
    .enable_advice = "set \"MSREnabled true\" to allow it, after reading "
                     "SECURITY in collectd-rapl_energy(5) (PLATYPUS, "
                     "CVE-2020-8694/8695)",
    .forced_by = &rapl_options[RAPL_OPT_MSR_FORCE],
    .min_interval = &rapl_options[RAPL_OPT_MSR_MIN_INTERVAL],
    .selected_warning =
        "raw RAPL MSR access exposes the PLATYPUS side channel "
        "(CVE-2020-8694/8695), which lets a reader of these counters infer "
        "other processes' activity; see SECURITY in collectd-rapl_energy(5)",
    .probe = msr_probe,
    .open = msr_open,
    .read = msr_read,
    .close = msr_close,
};
