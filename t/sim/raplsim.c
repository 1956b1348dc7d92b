/*
 * raplsim: a FUSE filesystem that simulates a machine's RAPL interfaces.
 *
 * It serves, under its mount point, the parts of sysfs, procfs and /dev that
 * a RAPL reader looks at: sys/class/powercap and sys/devices/virtual/powercap
 * (zones, energy_uj, max_energy_range_uj), sys/devices/system/cpu (online
 * list and topology), proc/cpuinfo and dev/cpu/N/msr.  Every counter is
 * computed at read time, like the kernel reads the hardware: energy(t) =
 * start_j + watts * (t - t0), the 32-bit counter is floor(energy / unit) mod
 * 2^32.  t is CLOCK_MONOTONIC, or with "clock virtual" a clock that stands
 * still until a test advances it, so that unit tests compute power exactly
 * whatever the machine's load.  A control file, ctl, hides files, makes opens
 * or reads fail, changes the power or the energy of a zone, takes cpus offline
 * and moves the virtual clock.  With "perf" it also serves the perf_event
 * power PMU's sysfs files and, under perf/, one count file per cpu and event
 * that a test's perf_event_open seam (t/perf_shim.c) opens instead.
 *
 * usage: raplsim [-f] [-d] [-s] [-o OPTS] SPECFILE MOUNTPOINT
 * See t/sim/README for the spec format and the control commands.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#define FUSE_USE_VERSION 31

#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ spec model */

enum vendor { V_INTEL, V_AMD };
enum zkind { Z_PACKAGE, Z_CORE, Z_UNCORE, Z_DRAM, Z_PSYS, Z_NKINDS };
static const char *const zkind_names[Z_NKINDS] = {"package", "core", "uncore",
                                                  "dram", "psys"};

struct node;

struct cpu {
  int id, package, die, core;
  bool online;
  /* dev/cpu/N and perf/cpuN: present only while the cpu is online */
  struct node *msr_dir, *perf_dir;
};

struct zone {
  enum zkind kind;
  int package, die, core; /* package and core: -1 when not given */
  int line;
  double watts, start_j;
  double unit_uj; /* per-zone unit override when unit_set */
  bool unit_set, max_set;
  unsigned long long max_uj;
  double acc_j, t_ref; /* energy at t_ref; energy(t) = acc + watts*(t-ref) */
  double limit_w;      /* a stated power limit (constraint_0), 0: none */
};

#define MAX_CPUS 4096
#define MAX_ZONES 1024
#define MAX_MMIO 16

static struct {
  enum vendor vendor;
  int family, model, esu;
  bool family_set, model_set, nodieid, no_powercap, kernel_math;
  bool perf;     /* the perf_event power PMU exists */
  int perf_type; /* its type: not a real PMU's, so a stray open fails */
  long paranoid; /* proc/sys/kernel/perf_event_paranoid */
  /* Virtual clock: now is vnow_ns; every open of a file under sys/ or dev/
   * costs open_cost_ns, as discovery costs real time on a real machine. */
  bool virtual_clock;
  int64_t vnow_ns, open_cost_ns;
  struct cpu cpus[MAX_CPUS];
  int ncpus;
  struct zone zones[MAX_ZONES];
  int nzones;
  int mmio[MAX_MMIO]; /* packages duplicated as intel-rapl-mmio:K */
  int mmio_line[MAX_MMIO];
  int nmmio;
} S = {.esu = 14, .perf_type = 1000, .paranoid = 2};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* ------------------------------------------------------------ spec parser */

static const char *spec_path;

__attribute__((noreturn, format(printf, 2, 3))) static void
spec_error(int line, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "raplsim: %s:%d: ", spec_path, line);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(2);
}

static bool to_int(const char *s, int *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (!*s || *end || errno || v < 0 || v > INT_MAX)
    return false;
  *out = (int)v;
  return true;
}

/* perf_event_paranoid is a signed sysctl: -1 allows everything. */
static bool to_long(const char *s, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (!*s || *end || errno || v < INT_MIN || v > INT_MAX)
    return false;
  *out = v;
  return true;
}

static bool to_double(const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (!*s || *end || errno || !isfinite(v))
    return false;
  *out = v;
  return true;
}

static bool to_u64(const char *s, unsigned long long *out) {
  char *end;
  errno = 0;
  if (*s < '0' || *s > '9')
    return false;
  *out = strtoull(s, &end, 10);
  return !*end && !errno;
}

static int need_int(int line, const char *what, const char *s) {
  int v = 0;
  if (!s || !to_int(s, &v))
    spec_error(line, "%s needs a non-negative integer", what);
  return v;
}

static double need_double(int line, const char *what, const char *s) {
  double v = 0;
  if (!s || !to_double(s, &v))
    spec_error(line, "%s needs a number", what);
  return v;
}

static void parse_cpu(int line, char **tok, int nt) {
  if (S.ncpus == MAX_CPUS)
    spec_error(line, "too many cpus");
  struct cpu c = {.id = need_int(line, "cpu", nt > 1 ? tok[1] : NULL),
                  .online = true};
  for (int i = 2; i < nt; i++) {
    if (!strcmp(tok[i], "offline")) {
      c.online = false;
      continue;
    }
    const char *v = i + 1 < nt ? tok[i + 1] : NULL;
    if (!strcmp(tok[i], "package"))
      c.package = need_int(line, "package", v);
    else if (!strcmp(tok[i], "die"))
      c.die = need_int(line, "die", v);
    else if (!strcmp(tok[i], "core"))
      c.core = need_int(line, "core", v);
    else
      spec_error(line, "unknown cpu attribute '%s'", tok[i]);
    i++;
  }
  for (int i = 0; i < S.ncpus; i++)
    if (S.cpus[i].id == c.id)
      spec_error(line, "cpu %d given twice", c.id);
  S.cpus[S.ncpus++] = c;
}

static int kind_of(const char *s) {
  for (int k = 0; k < Z_NKINDS; k++)
    if (!strcmp(s, zkind_names[k]))
      return k;
  return -1;
}

static void parse_zone(int line, char **tok, int nt) {
  if (S.nzones == MAX_ZONES)
    spec_error(line, "too many zones");
  int kind = nt > 1 ? kind_of(tok[1]) : -1;
  if (kind < 0)
    spec_error(line, "zone needs a kind: package, core, uncore, dram, psys");
  struct zone z = {.kind = kind, .package = -1, .core = -1, .line = line};
  bool have_watts = false;
  for (int i = 2; i < nt; i += 2) {
    const char *k = tok[i], *v = i + 1 < nt ? tok[i + 1] : NULL;
    if (!strcmp(k, "package"))
      z.package = need_int(line, k, v);
    else if (!strcmp(k, "die"))
      z.die = need_int(line, k, v);
    else if (!strcmp(k, "core"))
      z.core = need_int(line, k, v);
    else if (!strcmp(k, "watts")) {
      z.watts = need_double(line, k, v);
      have_watts = true;
    } else if (!strcmp(k, "unit_uj")) {
      z.unit_uj = need_double(line, k, v);
      z.unit_set = true;
    } else if (!strcmp(k, "limit_w"))
      z.limit_w = need_double(line, k, v);
    else if (!strcmp(k, "start_j"))
      z.start_j = need_double(line, k, v);
    else if (!strcmp(k, "max_energy_range_uj")) {
      if (!v || !to_u64(v, &z.max_uj))
        spec_error(line, "max_energy_range_uj needs an unsigned integer");
      z.max_set = true;
    } else
      spec_error(line, "unknown zone attribute '%s'", k);
  }
  if (!have_watts || z.watts < 0)
    spec_error(line, "zone needs 'watts W' with W >= 0");
  if (z.unit_set && !(z.unit_uj > 0))
    spec_error(line, "unit_uj must be positive");
  if (kind == Z_PSYS && (z.package >= 0 || z.die || z.core >= 0))
    spec_error(line, "psys is a platform zone: no package, die or core");
  if (kind != Z_PSYS && z.package < 0)
    z.package = 0;
  if (kind != Z_CORE && z.core >= 0)
    spec_error(line, "only core zones take 'core'");
  S.zones[S.nzones++] = z;
}

static bool same_zone(const struct zone *a, const struct zone *b) {
  return a->kind == b->kind && a->package == b->package && a->die == b->die &&
         a->core == b->core;
}

static int cmp_cpu(const void *a, const void *b) {
  return ((const struct cpu *)a)->id - ((const struct cpu *)b)->id;
}

static void parse_spec(const char *path) {
  spec_path = path;
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "raplsim: %s: %s\n", path, strerror(errno));
    exit(2);
  }
  char *buf = NULL, *tok[64], *save;
  size_t cap = 0;
  int line = 0;
  while (getline(&buf, &cap, f) >= 0) {
    line++;
    char *hash = strchr(buf, '#');
    if (hash)
      *hash = '\0';
    int nt = 0;
    for (char *t = strtok_r(buf, " \t\r\n", &save); t;
         t = strtok_r(NULL, " \t\r\n", &save)) {
      if (nt == 64)
        spec_error(line, "too many words");
      tok[nt++] = t;
    }
    if (!nt)
      continue;
    const char *d = tok[0], *arg = nt > 1 ? tok[1] : NULL;
    if (!strcmp(d, "vendor") && nt == 2 && !strcmp(arg, "intel"))
      S.vendor = V_INTEL;
    else if (!strcmp(d, "vendor") && nt == 2 && !strcmp(arg, "amd"))
      S.vendor = V_AMD;
    else if (!strcmp(d, "vendor"))
      spec_error(line, "vendor is intel or amd");
    else if (!strcmp(d, "family") && nt == 2) {
      S.family = need_int(line, d, arg);
      S.family_set = true;
    } else if (!strcmp(d, "model") && nt == 2) {
      S.model = need_int(line, d, arg);
      S.model_set = true;
    } else if (!strcmp(d, "esu") && nt == 2) {
      S.esu = need_int(line, d, arg);
      if (S.esu > 31)
        spec_error(line, "esu is a 5-bit field (0..31)");
    } else if (!strcmp(d, "cpu"))
      parse_cpu(line, tok, nt);
    else if (!strcmp(d, "zone"))
      parse_zone(line, tok, nt);
    else if (!strcmp(d, "nodieid") && nt == 1)
      S.nodieid = true;
    else if (!strcmp(d, "powercap") && nt == 2 &&
             (!strcmp(arg, "off") || !strcmp(arg, "on")))
      S.no_powercap = !strcmp(arg, "off");
    else if (!strcmp(d, "mmio") && nt == 3 && !strcmp(arg, "package")) {
      if (S.nmmio == MAX_MMIO)
        spec_error(line, "too many mmio lines");
      S.mmio_line[S.nmmio] = line;
      S.mmio[S.nmmio++] = need_int(line, "mmio package", tok[2]);
    } else if (!strcmp(d, "clock") && nt == 2 &&
               (!strcmp(arg, "virtual") || !strcmp(arg, "real")))
      S.virtual_clock = !strcmp(arg, "virtual");
    else if (!strcmp(d, "perf") &&
             (nt == 1 || (nt == 3 && !strcmp(arg, "type")))) {
      S.perf = true;
      if (nt == 3)
        S.perf_type = need_int(line, "perf type", tok[2]);
    } else if (!strcmp(d, "paranoid") && nt == 2) {
      if (!to_long(arg, &S.paranoid))
        spec_error(line, "paranoid needs an integer");
    } else if (!strcmp(d, "uj_math") && nt == 2 &&
               (!strcmp(arg, "exact") || !strcmp(arg, "kernel")))
      S.kernel_math = !strcmp(arg, "kernel");
    else
      spec_error(line, "unknown directive or wrong arguments: '%s'", d);
  }
  free(buf);
  fclose(f);

  if (!S.family_set)
    S.family = S.vendor == V_AMD ? 25 : 6;
  if (!S.model_set)
    S.model = S.vendor == V_AMD ? 1 : 85;
  int npsys = 0;
  for (int i = 0; i < S.nzones; i++) {
    struct zone *z = &S.zones[i];
    if (z->kind == Z_PSYS && ++npsys > 1)
      spec_error(z->line, "only one psys zone is supported");
    if (S.vendor == V_AMD && z->kind != Z_PACKAGE && z->kind != Z_CORE)
      spec_error(z->line, "AMD has only package and core energy registers");
    for (int j = 0; j < i; j++)
      if (same_zone(z, &S.zones[j]))
        spec_error(z->line, "same zone as line %d", S.zones[j].line);
  }
  for (int m = 0; m < S.nmmio; m++) {
    bool found = false;
    for (int i = 0; i < S.nzones; i++)
      found |= S.zones[i].kind == Z_PACKAGE && S.zones[i].package == S.mmio[m];
    if (!found)
      spec_error(S.mmio_line[m], "mmio package %d has no package zone",
                 S.mmio[m]);
  }
  qsort(S.cpus, S.ncpus, sizeof(S.cpus[0]), cmp_cpu);
}

/* ------------------------------------------------------------ zone model */

static int64_t now_ns(void) {
  if (S.virtual_clock)
    return S.vnow_ns;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double now_s(void) { return (double)now_ns() / 1e9; }

static double zone_unit_uj(const struct zone *z) {
  return z->unit_set ? z->unit_uj : ldexp(1e6, -S.esu);
}

static double zone_energy(const struct zone *z, double t) {
  return z->acc_j + z->watts * (t - z->t_ref);
}

/* Re-base the zone at t, so that a change of watts keeps energy continuous. */
static void zone_settle(struct zone *z, double t) {
  z->acc_j = zone_energy(z, t);
  z->t_ref = t;
}

static uint32_t zone_raw(const struct zone *z, double t) {
  double units = floor(zone_energy(z, t) * 1e6 / zone_unit_uj(z));
  double r = fmod(units, 4294967296.0);
  return (uint32_t)(r < 0 ? r + 4294967296.0 : r);
}

/* The kernel (intel_rapl_common.c) keeps the unit in nJ, truncated. */
static unsigned long long zone_unit_nj(const struct zone *z) {
  return z->unit_set ? (unsigned long long)llround(z->unit_uj * 1000)
                     : 1000000000ULL >> S.esu;
}

static unsigned long long zone_uj(const struct zone *z, uint32_t raw) {
  if (S.kernel_math)
    return raw * zone_unit_nj(z) / 1000;
  return (unsigned long long)((double)raw * zone_unit_uj(z));
}

static unsigned long long zone_max_uj(const struct zone *z) {
  if (z->max_set)
    return z->max_uj;
  if (S.kernel_math)
    return 0xFFFFFFFFULL * zone_unit_nj(z) / 1000;
  return (unsigned long long)(4294967295.0 * zone_unit_uj(z));
}

static void zone_key(const struct zone *z, char *buf, size_t n) {
  int o = snprintf(buf, n, "%s", zkind_names[z->kind]);
  if (z->package >= 0)
    o += snprintf(buf + o, n - o, ":%d", z->package);
  if (z->die > 0)
    o += snprintf(buf + o, n - o, ":die%d", z->die);
  if (z->core >= 0)
    snprintf(buf + o, n - o, ":core%d", z->core);
}

/* die < 0: any die.  core: exact (-1 is a zone without core=). */
static struct zone *find_zone(int kind, int package, int die, int core) {
  for (int i = 0; i < S.nzones; i++) {
    struct zone *z = &S.zones[i];
    if ((int)z->kind == kind && z->package == package &&
        (die < 0 || z->die == die) && z->core == core)
      return z;
  }
  return NULL;
}

/* "package:0", "package:0:die1", "core:0:core3", "psys". */
static struct zone *zone_by_key(const char *key) {
  char buf[64], *save;
  if (strlen(key) >= sizeof(buf))
    return NULL;
  strcpy(buf, key);
  char *t = strtok_r(buf, ":", &save);
  int kind = t ? kind_of(t) : -1, package = kind == Z_PSYS ? -1 : 0, die = 0,
      core = -1;
  if (kind < 0)
    return NULL;
  while ((t = strtok_r(NULL, ":", &save))) {
    if (!strncmp(t, "die", 3) && to_int(t + 3, &die))
      continue;
    if (!strncmp(t, "core", 4) && to_int(t + 4, &core))
      continue;
    if (!to_int(t, &package))
      return NULL;
  }
  return find_zone(kind, package, die, core);
}

/* AMD's powercap exposes one core zone per package: the lowest core's. */
static struct zone *amd_core_zone(int package) {
  struct zone *best = NULL;
  for (int i = 0; i < S.nzones; i++) {
    struct zone *z = &S.zones[i];
    if (z->kind == Z_CORE && z->package == package &&
        (!best || z->core < best->core))
      best = z;
  }
  return best;
}

/* The counter one MSR of one CPU reads, or NULL (EIO). */
static struct zone *msr_zone(const struct cpu *c, uint64_t reg) {
  struct zone *z = NULL;
  int kind = -1;
  if (S.vendor == V_AMD) {
    if (reg == 0xC001029B)
      return find_zone(Z_PACKAGE, c->package, -1, -1);
    if (reg == 0xC001029A)
      return find_zone(Z_CORE, c->package, -1, c->core);
    return NULL;
  }
  switch (reg) {
  case 0x611:
    return find_zone(Z_PACKAGE, c->package, c->die, -1);
  case 0x64D:
    return find_zone(Z_PSYS, -1, 0, -1);
  case 0x639:
    kind = Z_CORE;
    break;
  case 0x641:
    kind = Z_UNCORE;
    break;
  case 0x619:
    kind = Z_DRAM;
    break;
  default:
    return NULL;
  }
  if (kind == Z_CORE)
    z = find_zone(kind, c->package, c->die, c->core);
  return z ? z : find_zone(kind, c->package, c->die, -1);
}

static int msr_read(const struct cpu *c, uint64_t reg, uint64_t *val) {
  uint64_t unit_reg = S.vendor == V_AMD ? 0xC0010299 : 0x606;
  if (reg == unit_reg) {
    *val = ((uint64_t)S.esu << 8) | 0x3 | (0xAu << 16);
    return 0;
  }
  /* MSR_PKG_POWER_INFO / MSR_DRAM_POWER_INFO: bits 14:0 the thermal spec
   * power in the 1/8 W power unit above; only where the spec states one. */
  if (S.vendor == V_INTEL && (reg == 0x614 || reg == 0x61C)) {
    struct zone *info = msr_zone(c, reg == 0x614 ? 0x611 : 0x619);
    if (!info || info->limit_w <= 0)
      return -EIO;
    *val = (uint64_t)llround(info->limit_w * 8) & 0x7fff;
    return 0;
  }
  struct zone *z = msr_zone(c, reg);
  /* Only package 0 is wired to the platform's sensor; the others read 0. */
  if (reg == 0x64D && S.vendor == V_INTEL && (c->package || c->die) && z) {
    *val = 0;
    return 0;
  }
  if (!z)
    return -EIO;
  *val = zone_raw(z, now_s());
  return 0;
}

/* ------------------------------------------------------------ perf PMU */

/* The kernel's rapl.c events, in its order; config is the event= number. */
static const struct perf_event_def {
  const char *name;
  int config;
  enum zkind kind;
  uint64_t msr; /* the register the kernel reads for it (Intel) */
} perf_events[] = {
    {"energy-cores", 0x01, Z_CORE, 0x639},
    {"energy-pkg", 0x02, Z_PACKAGE, 0x611},
    {"energy-ram", 0x03, Z_DRAM, 0x619},
    {"energy-gpu", 0x04, Z_UNCORE, 0x641},
    {"energy-psys", 0x05, Z_PSYS, 0x64D},
};
#define N_PERF_EVENTS (int)(sizeof(perf_events) / sizeof(perf_events[0]))

static bool perf_has_event(int ev) {
  /* AMD's rapl PMU counts only the package (its per-core counter is not
   * exposed through perf). */
  if (S.vendor == V_AMD && perf_events[ev].kind != Z_PACKAGE)
    return false;
  for (int i = 0; i < S.nzones; i++)
    if (S.zones[i].kind == perf_events[ev].kind)
      return true;
  return false;
}

/* The kernel accumulates the 32-bit counter's deltas in 64 bits, shifted to
 * its fixed 2^-32 J scale: count = raw64 << (32 - esu).  A DRAM unit that is
 * not a power of two is the server models' fixed 15.3 uJ, which the perf
 * driver takes as 2^-16 J (RAPL_UNIT_QUIRK_INTEL_HSW): raw64 << 16, as on
 * the real machine. Any other such unit is rounded to its energy. */
static uint64_t perf_count(const struct cpu *c, int ev, double t) {
  struct zone *z;
  if (S.vendor == V_AMD)
    z = find_zone(Z_PACKAGE, c->package, -1, -1);
  else
    z = msr_zone(c, perf_events[ev].msr);
  /* Only package 0 is wired to the platform's sensor, as for MSR 0x64D. */
  if (!z || (z->kind == Z_PSYS && (c->package || c->die)))
    return 0;
  double unit_j = zone_unit_uj(z) / 1e6;
  double raw = floor(zone_energy(z, t) / unit_j);
  int exp;
  double mant = frexp(unit_j, &exp);
  int bits = 1 - exp; /* unit_j == 2^-bits when mant == 0.5 */
  if (mant == 0.5 && bits >= 0 && bits <= 32)
    return (uint64_t)(int64_t)raw << (32 - bits);
  if (z->kind == Z_DRAM)
    return (uint64_t)(int64_t)raw << 16;
  return (uint64_t)llround(raw * unit_j * 4294967296.0);
}

/* ------------------------------------------------------------ path tree */

enum ntype { N_DIR, N_LINK, N_TEXT, N_MSR, N_PERF, N_CTL };
enum gen {
  G_STATIC,
  G_ENERGY,
  G_MAXRANGE,
  G_CPUINFO,
  G_SIM,
  G_CLOCK,
  G_CPULIST,  /* arg: 0 all cpus, 1 online, 2 offline */
  G_ONLINE,   /* cpuN/online */
  G_CPUMASK,  /* the power PMU's cpumask */
  G_PARANOID, /* perf_event_paranoid */
};

struct node {
  char *name;
  enum ntype type;
  enum gen gen;
  mode_t mode;
  struct node *parent, *child, *last, *next;
  char *text; /* static contents, or a symlink's target */
  struct zone *zone;
  const struct cpu *cpu;
  const struct cpu *gate; /* a directory shown only while gate is online */
  int arg;                /* G_CPULIST's list; N_PERF's event */
  bool link_gated;        /* a link that vanishes with its target */
  bool hidden, denied;
  int fail; /* errno returned by reads, 0: none */
};

static struct node *root;

static void *xmalloc(size_t n) {
  void *p = calloc(1, n);
  if (!p) {
    perror("raplsim");
    exit(1);
  }
  return p;
}

static char *xstrdup(const char *s) {
  char *p = strdup(s);
  if (!p) {
    perror("raplsim");
    exit(1);
  }
  return p;
}

static struct node *child_of(const struct node *dir, const char *name) {
  for (struct node *c = dir->child; c; c = c->next)
    if (!strcmp(c->name, name))
      return c;
  return NULL;
}

static struct node *node_add(struct node *dir, const char *name,
                             enum ntype type, mode_t mode) {
  struct node *n = xmalloc(sizeof(*n));
  n->name = xstrdup(name);
  n->type = type;
  n->mode = mode;
  n->parent = dir;
  if (dir) {
    if (dir->last)
      dir->last->next = n;
    else
      dir->child = n;
    dir->last = n;
  }
  return n;
}

/* mkdir -p below the root. */
static struct node *dir_path(const char *path) {
  char *copy = xstrdup(path), *save;
  struct node *cur = root;
  for (char *t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save))
    cur = child_of(cur, t) ? child_of(cur, t) : node_add(cur, t, N_DIR, 0755);
  free(copy);
  return cur;
}

__attribute__((format(printf, 3, 4))) static struct node *
add_static(struct node *dir, const char *name, const char *fmt, ...) {
  struct node *n = node_add(dir, name, N_TEXT, 0444);
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&n->text, fmt, ap) < 0) {
    perror("raplsim");
    exit(1);
  }
  va_end(ap);
  return n;
}

static void add_link(struct node *dir, const char *name, const char *target) {
  node_add(dir, name, N_LINK, 0777)->text = xstrdup(target);
}

static struct node *resolve_from(struct node *cur, const char *path,
                                 bool follow_last, int depth);

static struct node *follow(struct node *link, int depth) {
  if (depth > 40)
    return NULL;
  return resolve_from(link->parent, link->text, true, depth + 1);
}

/* Walk a path; symlinks are followed in the middle, and at the end if asked.
 */
static struct node *resolve_from(struct node *cur, const char *path,
                                 bool follow_last, int depth) {
  char *copy = xstrdup(path), *save;
  if (*path == '/')
    cur = root;
  for (char *t = strtok_r(copy, "/", &save); t && cur;
       t = strtok_r(NULL, "/", &save)) {
    if (cur->type == N_LINK)
      cur = follow(cur, depth);
    if (!cur || cur->type != N_DIR)
      cur = NULL;
    else if (!strcmp(t, ".."))
      cur = cur->parent ? cur->parent : cur;
    else if (strcmp(t, "."))
      cur = child_of(cur, t);
  }
  free(copy);
  if (cur && follow_last && cur->type == N_LINK)
    cur = follow(cur, depth);
  return cur;
}

/* The node itself, not its ancestors: not hidden, its cpu online and, for a
 * gated link, its target there. */
static bool shown(const struct node *n) {
  if (n->hidden || (n->gate && !n->gate->online))
    return false;
  if (n->type == N_LINK && n->link_gated) {
    struct node *t = follow((struct node *)n, 0);
    for (; t; t = t->parent)
      if (t->hidden)
        return false;
  }
  return true;
}

static bool visible(const struct node *n) {
  for (; n; n = n->parent)
    if (!shown(n))
      return false;
  return true;
}

/* A path from the kernel: symlink free, each component must be visible. */
static struct node *lookup(const char *path) {
  struct node *n = resolve_from(root, path, false, 0);
  return n && visible(n) ? n : NULL;
}

static bool is_below(const struct node *n, const struct node *top) {
  for (; n; n = n->parent)
    if (n == top)
      return true;
  return false;
}

/* ------------------------------------------------------------ tree builder */

static bool multi_die(void) {
  for (int i = 0; i < S.ncpus; i++)
    if (S.cpus[i].die > 0)
      return true;
  for (int i = 0; i < S.nzones; i++)
    if (S.zones[i].die > 0)
      return true;
  return false;
}

static void package_name(const struct zone *z, char *buf, size_t n) {
  if (S.vendor == V_INTEL && multi_die())
    snprintf(buf, n, "package-%d-die-%d", z->package, z->die);
  else
    snprintf(buf, n, "package-%d", z->package);
}

static struct node *add_zone_dir(struct node *parent, const char *dirname,
                                 struct zone *z, const char *name) {
  struct node *d = node_add(parent, dirname, N_DIR, 0755);
  add_static(d, "name", "%s\n", name);
  struct node *e = node_add(d, "energy_uj", N_TEXT, 0400);
  e->gen = G_ENERGY;
  e->zone = z;
  struct node *m = node_add(d, "max_energy_range_uj", N_TEXT, 0444);
  m->gen = G_MAXRANGE;
  m->zone = z;
  add_static(d, "enabled", "1\n");
  if (z->limit_w > 0) {
    add_static(d, "constraint_0_name", "long_term\n");
    add_static(d, "constraint_0_power_limit_uw", "%llu\n",
               (unsigned long long)llround(z->limit_w * 1e6));
    add_static(d, "constraint_0_time_window_us", "999424\n");
  }
  return d;
}

static struct node *add_control_type(const char *type) {
  char path[128], target[128];
  snprintf(path, sizeof(path), "sys/devices/virtual/powercap/%s", type);
  struct node *ct = dir_path(path);
  add_static(ct, "enabled", "1\n");
  add_static(ct, "uevent", "%s", "");
  snprintf(target, sizeof(target), "../../devices/virtual/powercap/%s", type);
  add_link(dir_path("sys/class/powercap"), type, target);
  return ct;
}

/* A zone directory below ct (and below parent_dir if a sub-zone), with its
 * class/powercap symlink. */
static struct node *add_zone(struct node *ct, struct node *parent_dir,
                             const char *dirname, struct zone *z,
                             const char *name) {
  char target[256];
  struct node *d = add_zone_dir(parent_dir ? parent_dir : ct, dirname, z, name);
  if (parent_dir)
    snprintf(target, sizeof(target), "../../devices/virtual/powercap/%s/%s/%s",
             ct->name, parent_dir->name, dirname);
  else
    snprintf(target, sizeof(target), "../../devices/virtual/powercap/%s/%s",
             ct->name, dirname);
  add_link(dir_path("sys/class/powercap"), dirname, target);
  return d;
}

static bool is_subzone_of(const struct zone *s, const struct zone *pkg) {
  if (S.vendor == V_AMD)
    return s == amd_core_zone(pkg->package);
  return (s->kind == Z_CORE || s->kind == Z_UNCORE || s->kind == Z_DRAM) &&
         s->package == pkg->package && s->die == pkg->die;
}

static void build_powercap(void) {
  struct node *ct = add_control_type("intel-rapl");
  char dn[64], name[64];
  int id = 0;
  for (int i = 0; i < S.nzones; i++) {
    struct zone *pkg = &S.zones[i];
    if (pkg->kind != Z_PACKAGE)
      continue;
    snprintf(dn, sizeof(dn), "intel-rapl:%x", id);
    package_name(pkg, name, sizeof(name));
    struct node *pd = add_zone(ct, NULL, dn, pkg, name);
    int sub = 0;
    for (int j = 0; j < S.nzones; j++) {
      struct zone *s = &S.zones[j];
      if (!is_subzone_of(s, pkg))
        continue;
      snprintf(dn, sizeof(dn), "intel-rapl:%x:%x", id, sub++);
      add_zone(ct, pd, dn, s, zkind_names[s->kind]);
    }
    id++;
  }
  struct zone *psys = find_zone(Z_PSYS, -1, 0, -1);
  if (psys) {
    snprintf(dn, sizeof(dn), "intel-rapl:%x", id);
    add_zone(ct, NULL, dn, psys, "psys");
  }
  if (!S.nmmio)
    return;
  ct = add_control_type("intel-rapl-mmio");
  for (int m = 0; m < S.nmmio; m++) {
    struct zone *pkg = find_zone(Z_PACKAGE, S.mmio[m], 0, -1);
    if (!pkg)
      pkg = find_zone(Z_PACKAGE, S.mmio[m], -1, -1);
    snprintf(dn, sizeof(dn), "intel-rapl-mmio:%x", m);
    package_name(pkg, name, sizeof(name));
    add_zone(ct, NULL, dn, pkg, name);
  }
}

/* cpulist format, "0-3,8,10-11\n", of the cpus whose sel[] (indexed like
 * S.cpus) is true. */
static void print_cpulist(FILE *f, const bool *sel) {
  bool first = true;
  for (int i = 0; i < S.ncpus; i++) {
    if (!sel[i])
      continue;
    int j = i;
    while (j + 1 < S.ncpus && S.cpus[j + 1].id == S.cpus[j].id + 1 &&
           sel[j + 1])
      j++;
    fprintf(f, first ? "%d" : ",%d", S.cpus[i].id);
    if (j > i)
      fprintf(f, "-%d", S.cpus[j].id);
    first = false;
    i = j;
  }
  fputc('\n', f);
}

/* which: 0 all, 1 online, 2 offline. */
static void print_cpus(FILE *f, int which) {
  static bool sel[MAX_CPUS];
  for (int i = 0; i < S.ncpus; i++)
    sel[i] = which == 0 || S.cpus[i].online == (which == 1);
  print_cpulist(f, sel);
}

/* The rapl PMU counts per package (per die on multi-die machines) and reads
 * each on one cpu of it: the lowest online one, moving on hotplug. */
static void print_cpumask(FILE *f) {
  static bool sel[MAX_CPUS];
  bool dies = multi_die();
  for (int i = 0; i < S.ncpus; i++) {
    const struct cpu *c = &S.cpus[i];
    sel[i] = c->online;
    for (int j = 0; j < i && sel[i]; j++)
      if (S.cpus[j].online && S.cpus[j].package == c->package &&
          (!dies || S.cpus[j].die == c->die))
        sel[i] = false;
  }
  print_cpulist(f, sel);
}

static void build_cpus(void) {
  struct node *cpud = dir_path("sys/devices/system/cpu");
  /* present is possible: the simulator has no hot-added cpus */
  static const char *const lists[] = {"possible", "online", "offline",
                                      "present"};
  for (int w = 0; w < 4; w++) {
    struct node *l = node_add(cpud, lists[w], N_TEXT, 0444);
    l->gen = G_CPULIST;
    l->arg = w % 3;
  }
  /* The kernel's X86_VENDOR_* numbers: Intel 0, AMD 2. */
  add_static(cpud, "modalias", "cpu:type:x86,ven%04Xfam%04Xmod%04X:feature:\n",
             S.vendor == V_AMD ? 2 : 0, S.family, S.model);
  char name[32];
  for (int i = 0; i < S.ncpus; i++) {
    struct cpu *c = &S.cpus[i];
    snprintf(name, sizeof(name), "cpu%d", c->id);
    struct node *cn = node_add(cpud, name, N_DIR, 0755);
    if (c->id != 0) { /* the boot CPU is not hotpluggable */
      struct node *on = node_add(cn, "online", N_TEXT, 0444);
      on->gen = G_ONLINE;
      on->cpu = c;
    }
    struct node *topo = node_add(cn, "topology", N_DIR, 0755);
    add_static(topo, "physical_package_id", "%d\n", c->package);
    if (!S.nodieid)
      add_static(topo, "die_id", "%d\n", c->die);
    add_static(topo, "core_id", "%d\n", c->core);
    snprintf(name, sizeof(name), "dev/cpu/%d", c->id);
    c->msr_dir = dir_path(name);
    c->msr_dir->gate = c;
    node_add(c->msr_dir, "msr", N_MSR, 0600)->cpu = c;
  }
  node_add(dir_path("proc"), "cpuinfo", N_TEXT, 0444)->gen = G_CPUINFO;
}

static void build_perf(void) {
  struct node *pmu = dir_path("sys/devices/power");
  add_static(pmu, "type", "%d\n", S.perf_type);
  node_add(pmu, "cpumask", N_TEXT, 0444)->gen = G_CPUMASK;
  struct node *events = node_add(pmu, "events", N_DIR, 0755);
  char name[64];
  for (int e = 0; e < N_PERF_EVENTS; e++) {
    if (!perf_has_event(e))
      continue;
    add_static(events, perf_events[e].name, "event=0x%02x\n",
               perf_events[e].config);
    snprintf(name, sizeof(name), "%s.scale", perf_events[e].name);
    add_static(events, name, "2.3283064365386962890625e-10\n");
    snprintf(name, sizeof(name), "%s.unit", perf_events[e].name);
    add_static(events, name, "Joules\n");
  }
  add_static(node_add(pmu, "format", N_DIR, 0755), "event", "config:0-7\n");
  /* hiding the PMU hides it by the bus too, as unregistering it does */
  struct node *bus = dir_path("sys/bus/event_source/devices");
  add_link(bus, "power", "../../../devices/power");
  child_of(bus, "power")->link_gated = true;
  for (int i = 0; i < S.ncpus; i++) {
    struct cpu *c = &S.cpus[i];
    snprintf(name, sizeof(name), "perf/cpu%d", c->id);
    c->perf_dir = dir_path(name);
    c->perf_dir->gate = c;
    for (int e = 0; e < N_PERF_EVENTS; e++) {
      if (!perf_has_event(e))
        continue;
      struct node *n = node_add(c->perf_dir, perf_events[e].name, N_PERF, 0400);
      n->cpu = c;
      n->arg = e;
    }
  }
}

static void build_tree(void) {
  root = node_add(NULL, "", N_DIR, 0755);
  dir_path("sys/class");
  dir_path("sys/devices/virtual");
  dir_path("dev/cpu");
  build_cpus();
  if (!S.no_powercap)
    build_powercap();
  if (S.perf)
    build_perf();
  node_add(dir_path("proc/sys/kernel"), "perf_event_paranoid", N_TEXT, 0644)
      ->gen = G_PARANOID;
  node_add(root, "ctl", N_CTL, 0200);
  node_add(root, "sim", N_TEXT, 0444)->gen = G_SIM;
  node_add(root, "clock", N_TEXT, 0444)->gen = G_CLOCK;
}

/* ------------------------------------------------------------ contents */

static char *generate(const struct node *n, size_t *len) {
  char *buf = NULL, key[64];
  FILE *f = open_memstream(&buf, len);
  double t = now_s();
  if (!f)
    return NULL;
  switch (n->gen) {
  case G_STATIC:
    fputs(n->text, f);
    break;
  case G_ENERGY:
    fprintf(f, "%llu\n", zone_uj(n->zone, zone_raw(n->zone, t)));
    break;
  case G_MAXRANGE:
    fprintf(f, "%llu\n", zone_max_uj(n->zone));
    break;
  case G_CPUINFO:
    for (int i = 0; i < S.ncpus; i++) {
      const struct cpu *c = &S.cpus[i];
      if (!c->online)
        continue;
      fprintf(f,
              "processor\t: %d\nvendor_id\t: %s\ncpu family\t: %d\n"
              "model\t\t: %d\nmodel name\t: Simulated RAPL CPU\n"
              "physical id\t: %d\ncore id\t\t: %d\n\n",
              c->id, S.vendor == V_AMD ? "AuthenticAMD" : "GenuineIntel",
              S.family, S.model, c->package, c->core);
    }
    break;
  case G_SIM:
    for (int i = 0; i < S.nzones; i++) {
      const struct zone *z = &S.zones[i];
      uint32_t raw = zone_raw(z, t);
      zone_key(z, key, sizeof(key));
      fprintf(f,
              "%s watts %.6f energy_j %.6f raw %u unit_uj %.6f "
              "energy_uj %llu\n",
              key, z->watts, zone_energy(z, t), raw, zone_unit_uj(z),
              zone_uj(z, raw));
    }
    break;
  case G_CLOCK:
    fprintf(f, "%s %lld\n", S.virtual_clock ? "virtual" : "real",
            (long long)now_ns());
    break;
  case G_CPULIST:
    print_cpus(f, n->arg);
    break;
  case G_ONLINE:
    fprintf(f, "%d\n", n->cpu->online);
    break;
  case G_CPUMASK:
    print_cpumask(f);
    break;
  case G_PARANOID:
    fprintf(f, "%ld\n", S.paranoid);
    break;
  }
  fclose(f);
  return buf;
}

/* ------------------------------------------------------------ open files */

struct handle {
  struct node *node;
  bool dead; /* its file was hidden while open: reads fail with ENODEV */
  uint64_t perf_base; /* N_PERF: the count at open, as an event counts from
                         its creation */
  char *buf; /* text generated by the last read at offset 0 (sysfs-like) */
  size_t len;
  struct handle *prev, *next;
};

static struct handle *handles;

static void kill_handles(const struct node *top) {
  for (struct handle *h = handles; h; h = h->next)
    if (is_below(h->node, top))
      h->dead = true;
}

/* ------------------------------------------------------------ control */

/* Decimal seconds, as written in a ctl command, to whole nanoseconds. */
static bool to_ns(const char *s, int64_t *ns) {
  double v;
  if (!to_double(s, &v) || v < 0 || v > 1e9)
    return false;
  *ns = llround(v * 1e9);
  return true;
}

static int clock_command(const char *cmd, const char *arg) {
  int64_t ns;
  if (!S.virtual_clock || !to_ns(arg, &ns))
    return -EINVAL;
  if (!strcmp(cmd, "advance"))
    S.vnow_ns += ns;
  else
    S.open_cost_ns = ns;
  return 0;
}

/* Hotplug: the cpu's devices and perf files go; what was open on them stays
 * dead when it comes back, as the kernel's msr and perf files do. */
static int cpu_command(const char *cmd, const char *arg) {
  int id;
  if (!to_int(arg, &id))
    return -EINVAL;
  for (int i = 0; i < S.ncpus; i++) {
    struct cpu *c = &S.cpus[i];
    if (c->id != id)
      continue;
    c->online = !strcmp(cmd, "online");
    if (!c->online) {
      kill_handles(c->msr_dir);
      if (c->perf_dir)
        kill_handles(c->perf_dir);
    }
    return 0;
  }
  return -ENOENT;
}

static int ctl_command(char **tok, int nt) {
  const char *cmd = tok[0];
  if (!strcmp(cmd, "online") || !strcmp(cmd, "offline"))
    return nt == 2 ? cpu_command(cmd, tok[1]) : -EINVAL;
  if (!strcmp(cmd, "paranoid"))
    return nt == 2 && to_long(tok[1], &S.paranoid) ? 0 : -EINVAL;
  if (!strcmp(cmd, "advance") || !strcmp(cmd, "opencost"))
    return nt == 2 ? clock_command(cmd, tok[1]) : -EINVAL;
  if (nt >= 2 &&
      (!strcmp(cmd, "watts") || !strcmp(cmd, "jump") || !strcmp(cmd, "set"))) {
    struct zone *z = zone_by_key(tok[1]);
    double v;
    if (nt != 3 || !to_double(tok[2], &v))
      return -EINVAL;
    if (!z)
      return -ENOENT;
    if (!strcmp(cmd, "watts") && v < 0)
      return -EINVAL;
    zone_settle(z, now_s());
    if (!strcmp(cmd, "watts"))
      z->watts = v;
    else if (!strcmp(cmd, "jump"))
      z->acc_j += v;
    else
      z->acc_j = v;
    return 0;
  }
  static const char *const path_cmds[] = {"hide",  "show",   "deny",
                                          "allow", "unfail", "fail"};
  int which = -1;
  for (int i = 0; i < 6; i++)
    if (!strcmp(cmd, path_cmds[i]))
      which = i;
  if (which < 0 || nt != (which == 5 ? 3 : 2))
    return -EINVAL;
  struct node *n = resolve_from(root, tok[1], false, 0);
  int err = 0;
  if (which == 5 && (!to_int(tok[2], &err) || err < 1 || err > 4095))
    return -EINVAL;
  if (!n)
    return -ENOENT;
  switch (which) {
  case 0:
    if (n == root || n->type == N_CTL)
      return -EINVAL;
    n->hidden = true;
    kill_handles(n);
    break;
  case 1:
    n->hidden = false;
    break;
  case 2:
  case 3:
    n->denied = which == 2;
    break;
  default:
    n->fail = err;
  }
  return 0;
}

/* One or more newline-terminated commands; the first failure is returned. */
static int ctl_write(const char *data, size_t size) {
  char *copy = strndup(data, size), *save, *tok[4], *tsave;
  int rc = 0;
  if (!copy)
    return -ENOMEM;
  for (char *line = strtok_r(copy, "\n", &save); line && !rc;
       line = strtok_r(NULL, "\n", &save)) {
    int nt = 0;
    for (char *t = strtok_r(line, " \t\r", &tsave); t;
         t = strtok_r(NULL, " \t\r", &tsave)) {
      if (nt == 4) {
        rc = -EINVAL;
        break;
      }
      tok[nt++] = t;
    }
    if (nt && !rc)
      rc = ctl_command(tok, nt);
  }
  free(copy);
  return rc;
}

/* ------------------------------------------------------------ FUSE ops */

static struct timespec start_rt;

static void *sim_init(struct fuse_conn_info *conn, struct fuse_config *cfg) {
  (void)conn;
  cfg->entry_timeout = 0;
  cfg->attr_timeout = 0;
  cfg->negative_timeout = 0;
  cfg->direct_io = 1;
  cfg->kernel_cache = 0;
  cfg->auto_cache = 0;
  pthread_mutex_lock(&lock);
  double t0 = now_s();
  clock_gettime(CLOCK_REALTIME, &start_rt);
  for (int i = 0; i < S.nzones; i++) {
    S.zones[i].acc_j = S.zones[i].start_j;
    S.zones[i].t_ref = t0;
  }
  pthread_mutex_unlock(&lock);
  return NULL;
}

static int sim_getattr(const char *path, struct stat *st,
                       struct fuse_file_info *fi) {
  (void)fi;
  memset(st, 0, sizeof(*st));
  pthread_mutex_lock(&lock);
  struct node *n = lookup(path);
  if (!n) {
    pthread_mutex_unlock(&lock);
    return -ENOENT;
  }
  st->st_uid = getuid();
  st->st_gid = getgid();
  st->st_atim = st->st_mtim = st->st_ctim = start_rt;
  st->st_nlink = 1;
  switch (n->type) {
  case N_DIR:
    st->st_mode = S_IFDIR | n->mode;
    st->st_nlink = 2;
    for (struct node *c = n->child; c; c = c->next)
      st->st_nlink += c->type == N_DIR;
    break;
  case N_LINK:
    st->st_mode = S_IFLNK | 0777;
    st->st_size = strlen(n->text);
    break;
  case N_TEXT: /* sysfs attributes report 4096; procfs files 0 */
    st->st_mode = S_IFREG | n->mode;
    st->st_size = n->gen == G_CPUINFO || n->gen == G_SIM || n->gen == G_PARANOID
                      ? 0
                      : 4096;
    break;
  case N_PERF: /* every read returns 8 fresh bytes whatever the offset, so
                  the offset of read(2) on one descriptor must never end */
    st->st_mode = S_IFREG | n->mode;
    st->st_size = (off_t)1 << 62;
    break;
  case N_MSR: /* the offset is the register index: cover them all */
    st->st_mode = S_IFREG | n->mode;
    st->st_size = (off_t)1 << 32;
    break;
  case N_CTL:
    st->st_mode = S_IFREG | n->mode;
    break;
  }
  pthread_mutex_unlock(&lock);
  return 0;
}

static int sim_readlink(const char *path, char *buf, size_t size) {
  pthread_mutex_lock(&lock);
  struct node *n = lookup(path);
  int rc = !n ? -ENOENT : n->type != N_LINK ? -EINVAL : 0;
  if (!rc && size > 0) {
    strncpy(buf, n->text, size - 1);
    buf[size - 1] = '\0';
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

static int sim_access(const char *path, int mask) {
  (void)mask;
  pthread_mutex_lock(&lock);
  struct node *n = lookup(path);
  int rc = !n ? -ENOENT : n->denied ? -EACCES : 0;
  pthread_mutex_unlock(&lock);
  return rc;
}

static int sim_opendir(const char *path, struct fuse_file_info *fi) {
  (void)fi;
  pthread_mutex_lock(&lock);
  struct node *n = lookup(path);
  int rc = !n ? -ENOENT : n->type != N_DIR ? -ENOTDIR : n->denied ? -EACCES : 0;
  pthread_mutex_unlock(&lock);
  return rc;
}

static int sim_readdir(const char *path, void *buf, fuse_fill_dir_t fill,
                       off_t off, struct fuse_file_info *fi,
                       enum fuse_readdir_flags flags) {
  (void)off, (void)fi, (void)flags;
  pthread_mutex_lock(&lock);
  struct node *n = lookup(path);
  int rc = !n ? -ENOENT : n->type != N_DIR ? -ENOTDIR : -n->fail;
  if (!rc) {
    fill(buf, ".", NULL, 0, 0);
    fill(buf, "..", NULL, 0, 0);
    for (struct node *c = n->child; c; c = c->next)
      if (shown(c))
        fill(buf, c->name, NULL, 0, 0);
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

static int sim_open(const char *path, struct fuse_file_info *fi) {
  int acc = fi->flags & O_ACCMODE, rc = 0;
  pthread_mutex_lock(&lock);
  struct node *n = lookup(path);
  if (!n)
    rc = -ENOENT;
  else if (n->type == N_DIR)
    rc = -EISDIR;
  else if (n->denied)
    rc = -EACCES;
  else if (acc != O_RDONLY && n->type != N_CTL && n->type != N_MSR)
    rc = -EACCES;
  if (!rc && n->type != N_CTL && n->gen != G_SIM && n->gen != G_CLOCK)
    S.vnow_ns += S.open_cost_ns;
  if (!rc) {
    struct handle *h = xmalloc(sizeof(*h));
    h->node = n;
    if (n->type == N_PERF)
      h->perf_base = perf_count(n->cpu, n->arg, now_s());
    h->next = handles;
    if (handles)
      handles->prev = h;
    handles = h;
    fi->fh = (uintptr_t)h;
    fi->direct_io = 1;
    fi->keep_cache = 0;
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

static int sim_read(const char *path, char *buf, size_t size, off_t off,
                    struct fuse_file_info *fi) {
  (void)path;
  struct handle *h = (struct handle *)(uintptr_t)fi->fh;
  struct node *n = h->node;
  int rc = 0;
  pthread_mutex_lock(&lock);
  if (h->dead)
    rc = -ENODEV;
  else if (n->fail)
    rc = -n->fail;
  else if (n->type == N_MSR) {
    uint64_t val;
    if (size % 8)
      rc = -EINVAL;
    else if (size && !(rc = msr_read(n->cpu, (uint64_t)off, &val))) {
      /* like arch/x86/kernel/msr.c: count/8 reads of the same register */
      for (size_t i = 0; i < size; i += 8)
        for (int b = 0; b < 8; b++)
          buf[i + b] = (char)(val >> (8 * b));
      rc = (int)size;
    }
  } else if (n->type == N_PERF) {
    /* the kernel's perf_read: a buffer shorter than the value is ENOSPC */
    if (size < 8)
      rc = -ENOSPC;
    else {
      uint64_t val = perf_count(n->cpu, n->arg, now_s()) - h->perf_base;
      for (int b = 0; b < 8; b++)
        buf[b] = (char)(val >> (8 * b));
      rc = 8;
    }
  } else if (n->type == N_TEXT) {
    if (off == 0 || !h->buf) { /* sysfs regenerates at offset 0 */
      free(h->buf);
      h->buf = generate(n, &h->len);
      if (!h->buf)
        rc = -ENOMEM;
    }
    if (!rc && (size_t)off < h->len) {
      rc = (int)(h->len - off < size ? h->len - off : size);
      memcpy(buf, h->buf + off, rc);
    }
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

static int sim_write(const char *path, const char *data, size_t size, off_t off,
                     struct fuse_file_info *fi) {
  (void)path, (void)off;
  struct handle *h = (struct handle *)(uintptr_t)fi->fh;
  int rc;
  pthread_mutex_lock(&lock);
  if (h->dead)
    rc = -ENODEV;
  else if (h->node->type == N_CTL)
    rc = ctl_write(data, size);
  else
    rc = h->node->type == N_MSR ? -EIO : -EACCES;
  pthread_mutex_unlock(&lock);
  return rc ? rc : (int)size;
}

static int sim_truncate(const char *path, off_t size,
                        struct fuse_file_info *fi) {
  (void)size, (void)fi;
  pthread_mutex_lock(&lock);
  struct node *n = lookup(path);
  int rc = !n ? -ENOENT : n->type == N_CTL ? 0 : -EACCES;
  pthread_mutex_unlock(&lock);
  return rc;
}

static int sim_release(const char *path, struct fuse_file_info *fi) {
  (void)path;
  struct handle *h = (struct handle *)(uintptr_t)fi->fh;
  pthread_mutex_lock(&lock);
  if (h->prev)
    h->prev->next = h->next;
  else
    handles = h->next;
  if (h->next)
    h->next->prev = h->prev;
  pthread_mutex_unlock(&lock);
  free(h->buf);
  free(h);
  return 0;
}

static const struct fuse_operations sim_ops = {
    .init = sim_init,
    .getattr = sim_getattr,
    .readlink = sim_readlink,
    .access = sim_access,
    .opendir = sim_opendir,
    .readdir = sim_readdir,
    .open = sim_open,
    .read = sim_read,
    .write = sim_write,
    .truncate = sim_truncate,
    .release = sim_release,
};

/* ------------------------------------------------------------ main */

static void usage(FILE *f) {
  fprintf(f, "usage: raplsim [-f] [-d] [-s] [-o OPTS] SPECFILE MOUNTPOINT\n"
             "  -f  stay in the foreground   -d  FUSE debug output\n"
             "  -s  single-threaded          -o  extra FUSE mount options\n");
}

/* fuse_main, but a stop by signal (SIGTERM, SIGINT, SIGHUP) exits 0. */
static int serve(struct fuse_args *args) {
  struct fuse_cmdline_opts opts;
  int rc = 1;
  if (fuse_parse_cmdline(args, &opts) != 0)
    return 2;
  struct fuse *f = fuse_new(args, &sim_ops, sizeof(sim_ops), NULL);
  if (!f)
    goto out;
  if (fuse_mount(f, opts.mountpoint) != 0)
    goto destroy;
  struct fuse_session *se = fuse_get_session(f);
  if (fuse_daemonize(opts.foreground) != 0 || fuse_set_signal_handlers(se) != 0)
    goto unmount;
  rc = opts.singlethread ? fuse_loop(f) : fuse_loop_mt(f, 0);
  if (rc == SIGTERM || rc == SIGINT || rc == SIGHUP || rc == -SIGTERM ||
      rc == -SIGINT || rc == -SIGHUP)
    rc = 0;
  rc = rc ? 1 : 0;
  fuse_remove_signal_handlers(se);
unmount:
  fuse_unmount(f);
destroy:
  fuse_destroy(f);
out:
  free(opts.mountpoint);
  return rc;
}

int main(int argc, char **argv) {
  struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
  const char *extra[16];
  int nextra = 0, c;
  bool fg = false, debug = false, single = false;
  while ((c = getopt(argc, argv, "+fdso:h")) != -1) {
    switch (c) {
    case 'f':
      fg = true;
      break;
    case 'd':
      debug = true;
      break;
    case 's':
      single = true;
      break;
    case 'o':
      if (nextra < 16)
        extra[nextra++] = optarg;
      break;
    case 'h':
      usage(stdout);
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  if (argc - optind != 2) {
    usage(stderr);
    return 2;
  }
  parse_spec(argv[optind]);
  build_tree();
  /* In the foreground the simulator belongs to whoever started it (a test):
   * when that dies, even by SIGKILL, SIGTERM makes FUSE unmount and exit, so
   * no mount outlives its test. */
  pid_t parent = getppid();
  if ((fg || debug) &&
      (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)) {
    fprintf(stderr, "raplsim: the process that started me is gone\n");
    return 1;
  }

  fuse_opt_add_arg(&args, argv[0]);
  fuse_opt_add_arg(&args, "-o");
  fuse_opt_add_arg(&args, "fsname=raplsim,subtype=raplsim");
  for (int i = 0; i < nextra; i++) {
    fuse_opt_add_arg(&args, "-o");
    fuse_opt_add_arg(&args, extra[i]);
  }
  if (fg)
    fuse_opt_add_arg(&args, "-f");
  if (debug)
    fuse_opt_add_arg(&args, "-d");
  if (single)
    fuse_opt_add_arg(&args, "-s");
  fuse_opt_add_arg(&args, argv[optind + 1]);
  int rc = serve(&args);
  fuse_opt_free_args(&args);
  return rc;
}
