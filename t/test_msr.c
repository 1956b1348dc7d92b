/* The MSR backend on fixture devices: sparse regular files for Intel (its
 * registers are at least 8 apart, so each value sits at offset = index), and
 * the FUSE simulator t/sim/raplsim for AMD, whose registers are consecutive,
 * and for faults a regular file cannot show (ENXIO, ENODEV). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "backend.h"
#include "capability.h"
#include "fixture.h"
#include "msr_model.h"
#include "rapl_config.h"
#include "rapl_log.h"
#include "reader.h"
#include "sim_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const struct rapl_backend *const B = &rapl_backend_msr;

/* ------------------------------------------------------------- helpers */

static char tmp[256];    /* per-test scratch directory */
static char logs[16384]; /* rapl_log messages of the current test */
static struct rapl_config cfg;
static struct rapl_zone_set set;
static char why[1024];

static void capture(int level, const char *message, void *ud) {
  (void)ud;
  size_t used = strlen(logs);
  snprintf(logs + used, sizeof(logs) - used, "[%d] %s\n", level, message);
}

static const char *dir_of(const char *var) {
  const char *d = getenv(var);
  return d && *d ? d : ".";
}

static const char *topology(const char *name) {
  static char path[1024];
  snprintf(path, sizeof(path), "%s/t/data/topology/%s",
           dir_of("abs_top_srcdir"), name);
  return path;
}

static const char *cpuinfo(const char *name) {
  static char path[1024];
  snprintf(path, sizeof(path), "%s/t/data/msr/%s", dir_of("abs_top_srcdir"),
           name);
  return path;
}

static void mkdirs(const char *path) {
  char buf[1024];
  snprintf(buf, sizeof(buf), "%s", path);
  for (char *p = buf + 1; *p; p++) {
    if (*p == '/') {
      *p = '\0';
      mkdir(buf, 0755);
      *p = '/';
    }
  }
  mkdir(buf, 0755);
}

static void write_file(const char *path, const char *text) {
  char dir[1024];
  snprintf(dir, sizeof(dir), "%s", path);
  *strrchr(dir, '/') = '\0';
  mkdirs(dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  assert_int_equal(fclose(f), 0);
}

struct reg {
  uint64_t index, value;
};

#define UNIT_ESU14 UINT64_C(0x000A0E03)
#define UNIT_ESU16 UINT64_C(0x000A1003)

static void dev_path(int cpu, char *out, size_t len) {
  snprintf(out, len, "%s/dev/cpu/%d/msr", tmp, cpu);
}

/* A fixture device: a sparse file with each value at offset = index. Reads
 * past its end are short (the backend's EIO), holes read 0. */
static void make_dev(int cpu, const struct reg *regs, size_t n) {
  char path[512], dir[512];
  dev_path(cpu, path, sizeof(path));
  snprintf(dir, sizeof(dir), "%s/dev/cpu/%d", tmp, cpu);
  mkdirs(dir);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(fd >= 0);
  for (size_t i = 0; i < n; i++)
    assert_int_equal(pwrite(fd, &regs[i].value, 8, (off_t)regs[i].index), 8);
  close(fd);
}

static void set_reg(int cpu, uint64_t index, uint64_t value) {
  char path[512];
  dev_path(cpu, path, sizeof(path));
  int fd = open(path, O_WRONLY);
  assert_true(fd >= 0);
  assert_int_equal(pwrite(fd, &value, 8, (off_t)index), 8);
  close(fd);
}

/* Intel devices for cpus [0, ncpus): unit ESU 14, package and PP0 counters
 * that name the CPU, DRAM present but zero, PP1 and PSYS past the end of the
 * file (EIO). */
static void make_intel_devs(int ncpus) {
  for (int cpu = 0; cpu < ncpus; cpu++) {
    struct reg regs[] = {
        {0x606, UNIT_ESU14},
        {0x611, UINT64_C(0xABCD000000001000) + (uint64_t)cpu},
        {0x619, 0},
        {0x639, UINT64_C(0x2000) + (uint64_t)cpu},
    };
    make_dev(cpu, regs, sizeof(regs) / sizeof(regs[0]));
  }
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

static int setup(void **state) {
  (void)state;
  if (fixture_mkdtemp(tmp, sizeof(tmp), "test_msr") != 0)
    return -1;
  logs[0] = '\0';
  why[0] = '\0';
  rapl_log_set_sink(capture, NULL);
  memset(&set, 0, sizeof(set));
  rapl_config_defaults(&cfg);
  cfg.msr_enabled = true;
  snprintf(cfg.msr_device_path, sizeof(cfg.msr_device_path),
           "%s/dev/cpu/%%d/msr", tmp);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  rapl_zone_set_clear(&set, B->close);
  rapl_log_set_sink(NULL, NULL);
  nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  return 0;
}

static void use(const char *topo, const char *cpu) {
  snprintf(cfg.sysfs_path, sizeof(cfg.sysfs_path), "%s", topology(topo));
  snprintf(cfg.procfs_path, sizeof(cfg.procfs_path), "%s", cpuinfo(cpu));
}

static int open_zones(void) {
  why[0] = '\0';
  int n = B->open(&cfg, &set, why, sizeof(why));
  if (n < 0)
    assert_int_equal(set.n, 0);
  else
    assert_int_equal((size_t)n, set.n);
  return n;
}

static void close_zones(void) { rapl_zone_set_clear(&set, B->close); }

static const struct rapl_zone *find(const char *instance,
                                    enum rapl_zone_kind kind) {
  for (size_t i = 0; i < set.n; i++)
    if (set.zones[i].kind == kind && !strcmp(set.zones[i].instance, instance))
      return &set.zones[i];
  return NULL;
}

static size_t count_kind(enum rapl_zone_kind kind) {
  size_t n = 0;
  for (size_t i = 0; i < set.n; i++)
    n += set.zones[i].kind == kind;
  return n;
}

/* The zone reads from the device of `cpu`. */
static void assert_source_cpu(const struct rapl_zone *z, int cpu) {
  char path[512];
  dev_path(cpu, path, sizeof(path));
  assert_non_null(z);
  assert_string_equal(z->source, path);
}

static bool fd_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

/* Nothing above INFO was logged: no error, warning or notice. */
static void assert_only_info(void) {
  for (const char *p = logs; *p; p = strchr(p, '\n') + 1) {
    if (strncmp(p, "[6] ", 4) != 0 && strncmp(p, "[7] ", 4) != 0)
      fail_msg("unexpected message: %s", p);
    if (strchr(p, '\n') == NULL)
      break;
  }
}

/* ------------------------------------------------ template and probe */

static void test_template_validation(void **state) {
  (void)state;
  static const char *const bad[] = {
      "/dev/cpu/%s/msr",    "/dev/cpu/%n/msr",  "/dev/cpu/%%d/msr",
      "/dev/cpu/%d/%d/msr", "dev/cpu/%d/msr",   "",
      "/dev/cpu/msr",       "/dev/cpu/%d/msr%", "/dev/cpu/%5d/msr",
      "/dev/cpu/%ld/msr",   "/dev/cpu/%x/msr",  "/dev/%d%%/msr",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    char err[256] = "";
    if (rapl_msr_template_valid(bad[i], err, sizeof(err)))
      fail_msg("template \"%s\" accepted", bad[i]);
    assert_non_null(strstr(err, "MSRDevicePath"));
    /* probe and open refuse it too, with the same reason */
    use("two-socket", "intel-adl");
    snprintf(cfg.msr_device_path, sizeof(cfg.msr_device_path), "%s", bad[i]);
    assert_int_equal(B->probe(&cfg, why, sizeof(why)), -1);
    assert_non_null(strstr(why, "MSRDevicePath"));
    assert_int_equal(open_zones(), -1);
    assert_non_null(strstr(why, "MSRDevicePath"));
  }
  char err[256];
  assert_true(rapl_msr_template_valid("/dev/cpu/%d/msr", err, sizeof(err)));

  char out[64];
  assert_int_equal(
      rapl_msr_template_expand("/dev/cpu/%d/msr", 4095, out, sizeof(out)), 0);
  assert_string_equal(out, "/dev/cpu/4095/msr");
  assert_int_equal(
      rapl_msr_template_expand("/x/%d", 2147483647, out, sizeof(out)), 0);
  assert_string_equal(out, "/x/2147483647");
  /* too small a buffer is an error, never a truncated path */
  assert_int_equal(rapl_msr_template_expand("/dev/cpu/%d/msr", 4095, out, 17),
                   -1);
}

/* A CPU number with four digits, end to end: online list, topology and the
 * expanded device path. */
static void test_big_cpu_number(void **state) {
  (void)state;
  sim_need_root();
  char path[512];
  snprintf(path, sizeof(path), "%s/sys/devices/system/cpu/online", tmp);
  write_file(path, "4095\n");
  snprintf(path, sizeof(path),
           "%s/sys/devices/system/cpu/cpu4095/topology/physical_package_id",
           tmp);
  write_file(path, "3\n");
  snprintf(path, sizeof(path),
           "%s/sys/devices/system/cpu/cpu4095/topology/core_id", tmp);
  write_file(path, "17\n");
  snprintf(cfg.sysfs_path, sizeof(cfg.sysfs_path), "%s/sys", tmp);
  snprintf(cfg.procfs_path, sizeof(cfg.procfs_path), "%s",
           cpuinfo("intel-adl"));

  assert_int_equal(B->probe(&cfg, why, sizeof(why)), -1);
  assert_non_null(strstr(why, "/dev/cpu/4095/msr"));

  struct reg regs[] = {{0x606, UNIT_ESU14}, {0x611, 77}};
  make_dev(4095, regs, 2);
  assert_int_equal(B->probe(&cfg, why, sizeof(why)), 0);
  assert_int_equal(open_zones(), 1);
  assert_string_equal(set.zones[0].instance, "package-3");
  assert_source_cpu(&set.zones[0], 4095);
}

/* Reasons cut to the caller's buffer end with "...". */
static void test_cut_reason(void **state) {
  (void)state;
  sim_need_root();
  use("two-socket", "intel-adl");
  char small[48];
  assert_int_equal(B->probe(&cfg, small, sizeof(small)), -1);
  assert_int_equal(strlen(small), sizeof(small) - 1);
  assert_string_equal(small + sizeof(small) - 4, "...");
  assert_true(strncmp(small, "no MSR device ", 14) == 0);
  assert_int_equal(B->open(&cfg, &set, small, sizeof(small)), -1);
  assert_string_equal(small + sizeof(small) - 4, "...");
  assert_true(strncmp(small, "package-0: no online CPU", 24) == 0);
}

static void test_probe_missing_module(void **state) {
  (void)state;
  sim_need_root();
  use("two-socket", "intel-adl");
  /* no device at all: the msr module is not loaded */
  assert_int_equal(B->probe(&cfg, why, sizeof(why)), -1);
  assert_non_null(strstr(why, "modprobe msr"));
  assert_non_null(strstr(why, "msr kernel module"));
  /* open says so too */
  assert_int_equal(open_zones(), -1);
  assert_non_null(strstr(why, "modprobe msr"));
  assert_non_null(strstr(why, "package-0"));

  make_intel_devs(1);
  assert_int_equal(B->probe(&cfg, why, sizeof(why)), 0);

  /* the first online CPU is the one checked: cpu 1 in "holes" */
  use("holes", "intel-adl");
  assert_int_equal(B->probe(&cfg, why, sizeof(why)), -1);
  assert_non_null(strstr(why, "/dev/cpu/1/msr"));
  assert_non_null(strstr(why, "modprobe msr"));
}

/* probe in a child whose effective set lacks CAP_SYS_RAWIO: its result and
 * message come back through the pipe. */
static int probe_in_child(void *ud, int fd) {
  (void)ud;
  char msg[1100];
  if (rapl_cap_effective(RAPL_CAP_SYS_RAWIO, msg, sizeof(msg)) != 0)
    return 12;
  int rc = B->probe(&cfg, why, sizeof(why));
  /* the device itself now refuses a real open; the fixture file does not,
   * so only probe's answer is checked */
  snprintf(msg, sizeof(msg), "%d %s", rc, why);
  return write(fd, msg, strlen(msg)) < 0 ? 13 : 0;
}

static void test_probe_missing_capability(void **state) {
  (void)state;
  static const int caps[] = {RAPL_CAP_SYS_RAWIO};
  use("two-socket", "intel-adl");
  make_intel_devs(8);
  char err[128];
  if (rapl_cap_effective(RAPL_CAP_SYS_RAWIO, err, sizeof(err)) != 1)
    skip(); /* the check below needs a process that has it to drop */
  assert_int_equal(B->probe(&cfg, why, sizeof(why)), 0);

  char msg[1100];
  assert_int_equal(
      fixture_without_caps(caps, 1, probe_in_child, NULL, msg, sizeof(msg)), 0);
  assert_true(strncmp(msg, "-1 ", 3) == 0);
  assert_non_null(strstr(msg, "CAP_SYS_RAWIO"));
  assert_null(strstr(msg, "Operation not permitted"));
}

/* ------------------------------------------------ Intel discovery */

static void test_intel_two_sockets(void **state) {
  (void)state;
  use("two-socket", "intel-adl");
  make_intel_devs(8);
  assert_int_equal(open_zones(), 4);
  /* one zone per socket and kind, never per thread */
  assert_int_equal(count_kind(RAPL_ZONE_PACKAGE), 2);
  assert_int_equal(count_kind(RAPL_ZONE_CORE), 2);
  /* PP1 and PSYS read EIO, DRAM reads 0: not present */
  assert_int_equal(count_kind(RAPL_ZONE_UNCORE), 0);
  assert_int_equal(count_kind(RAPL_ZONE_PSYS), 0);
  assert_int_equal(count_kind(RAPL_ZONE_DRAM), 0);

  const struct rapl_zone *p0 = find("package-0", RAPL_ZONE_PACKAGE);
  const struct rapl_zone *p1 = find("package-1", RAPL_ZONE_PACKAGE);
  const struct rapl_zone *c0 = find("package-0", RAPL_ZONE_CORE);
  const struct rapl_zone *c1 = find("package-1", RAPL_ZONE_CORE);
  assert_non_null(c0);
  assert_non_null(c1);
  /* package 1's first CPU is cpu 2 (siblings and sockets interleave) */
  assert_source_cpu(p0, 0);
  assert_source_cpu(p1, 2);
  assert_source_cpu(c1, 2);
  for (size_t i = 0; i < set.n; i++) {
    const struct rapl_zone *z = &set.zones[i];
    assert_int_equal(z->n_counters, 1);
    assert_true(z->joules_per_unit == 1.0 / 16384);
    assert_true(z->range == UINT64_C(1) << 32);
    assert_true(fd_open(z->counters[0].fd));
    /* each zone owns its descriptor */
    for (size_t j = 0; j < i; j++)
      assert_int_not_equal(z->counters[0].fd, set.zones[j].counters[0].fd);
  }
  assert_int_equal(p0->counters[0].offset, 0x611);
  assert_int_equal(c0->counters[0].offset, 0x639);

  /* reads: one pread each, low 32 bits */
  uint64_t raw[1];
  assert_int_equal(B->read(p0, raw), 0);
  assert_int_equal(raw[0], 0x1000);
  assert_int_equal(B->read(p1, raw), 0);
  assert_int_equal(raw[0], 0x1002);
  assert_int_equal(B->read(c1, raw), 0);
  assert_int_equal(raw[0], 0x2002);
  set_reg(0, 0x611, UINT64_C(0xFFFFFFFF00000005));
  assert_int_equal(B->read(p0, raw), 0);
  assert_int_equal(raw[0], 5);
  set_reg(0, 0x611, UINT64_C(0x00000001FFFFFFFF));
  assert_int_equal(B->read(p0, raw), 0);
  assert_int_equal(raw[0], 0xFFFFFFFF);

  /* close releases the descriptors */
  int fd = p0->counters[0].fd;
  B->close(&set.zones[p0 - set.zones]);
  assert_false(fd_open(fd));
  assert_int_equal(set.zones[p0 - set.zones].n_counters, 0);
  /* nothing worth an operator's attention happened */
  assert_only_info();
}

static void test_intel_zone_mask(void **state) {
  (void)state;
  use("two-socket", "intel-adl");
  make_intel_devs(8);
  cfg.zone_mask = RAPL_ZONE_MASK(RAPL_ZONE_CORE);
  assert_int_equal(open_zones(), 2);
  assert_int_equal(count_kind(RAPL_ZONE_CORE), 2);
  close_zones();
  /* only absent zones asked for: an error that says so */
  cfg.zone_mask =
      RAPL_ZONE_MASK(RAPL_ZONE_DRAM) | RAPL_ZONE_MASK(RAPL_ZONE_UNCORE);
  assert_int_equal(open_zones(), -1);
  assert_non_null(strstr(why, "no RAPL energy register"));
}

/* Absent registers (EIO) and zero registers are skipped, present ones kept,
 * all through one device. */
static void test_intel_absent_and_zero(void **state) {
  (void)state;
  use("no-die", "intel-adl");
  for (int cpu = 0; cpu < 2; cpu++) {
    struct reg regs[] = {
        {0x606, UNIT_ESU14}, {0x611, 0},           /* package reads 0 */
        {0x619, 0x42},       {0x641, 0x100000000}, /* uncore: low bits 0 */
        {0x64D, 0x99},                             /* PP0 is a hole: 0 */
    };
    make_dev(cpu, regs, sizeof(regs) / sizeof(regs[0]));
  }
  assert_int_equal(open_zones(), 2);
  assert_non_null(find("package-0", RAPL_ZONE_DRAM));
  const struct rapl_zone *psys = find("platform", RAPL_ZONE_PSYS);
  assert_non_null(psys);
  assert_int_equal(psys->counters[0].offset, 0x64D);
  assert_true(psys->joules_per_unit == 1.0 / 16384);
  assert_null(find("package-0", RAPL_ZONE_PACKAGE));

  /* nothing readable at all but the unit */
  close_zones();
  struct reg unit_only[] = {{0x606, UNIT_ESU14}};
  make_dev(0, unit_only, 1);
  make_dev(1, unit_only, 1);
  assert_int_equal(open_zones(), -1);
  assert_non_null(strstr(why, "no RAPL energy register"));
  assert_non_null(strstr(why, "GenuineIntel"));

  /* the unit register itself absent (a VM): says RAPL is not exposed */
  struct reg none[] = {{0x600, 1}};
  make_dev(0, none, 1);
  make_dev(1, none, 1);
  assert_int_equal(open_zones(), -1);
  assert_non_null(strstr(why, "0x606"));
  assert_non_null(strstr(why, "does not expose RAPL"));
}

static void test_intel_quirk_dram(void **state) {
  (void)state;
  use("no-die", "intel-skx");
  for (int cpu = 0; cpu < 2; cpu++) {
    struct reg regs[] = {
        {0x606, UNIT_ESU16}, {0x611, 1}, {0x619, 2}, {0x639, 3}, {0x64D, 4}};
    make_dev(cpu, regs, 5);
  }
  assert_int_equal(open_zones(), 4);
  assert_true(find("package-0", RAPL_ZONE_DRAM)->joules_per_unit == 15.3e-6);
  assert_true(find("package-0", RAPL_ZONE_PACKAGE)->joules_per_unit ==
              1.0 / 65536);
  assert_true(find("package-0", RAPL_ZONE_CORE)->joules_per_unit ==
              1.0 / 65536);
  assert_true(find("platform", RAPL_ZONE_PSYS)->joules_per_unit == 1.0 / 65536);
}

/* Each zone's unit is logged once at discovery, with where it comes from:
 * one line per kind and unit. */
static void test_unit_log(void **state) {
  (void)state;
  /* a scan that finds nothing: what an earlier test logged is forgotten */
  use("no-die", "intel-skx");
  assert_int_equal(open_zones(), -1);
  logs[0] = '\0';
  for (int cpu = 0; cpu < 2; cpu++) {
    struct reg regs[] = {
        {0x606, UNIT_ESU16}, {0x611, 1}, {0x619, 2}, {0x639, 3}, {0x64D, 4}};
    make_dev(cpu, regs, 5);
  }
  assert_int_equal(open_zones(), 4);
  assert_non_null(
      strstr(logs, "[6] msr: package-0/dram: energy unit 15.3 uJ (fixed for "
                   "dram on INTEL_SKYLAKE_X, rapl_defaults_hsw_server)\n"));
  assert_non_null(strstr(logs, "[6] msr: package-0/package: energy unit "
                               "15.259 uJ (1/2^16 J from the unit register, "
                               "INTEL_SKYLAKE_X, rapl_defaults_hsw_server)\n"));
  assert_non_null(
      strstr(logs, "[6] msr: platform/psys: energy unit 15.259 uJ"));
  assert_non_null(strstr(logs, "[6] msr: package-0/core: energy unit"));
  assert_only_info();
  /* the next scan (the reader rescans while a zone is lost) says nothing */
  close_zones();
  logs[0] = '\0';
  assert_int_equal(open_zones(), 4);
  assert_string_equal(logs, "");

  /* one line for the same unit on every socket */
  close_zones();
  logs[0] = '\0';
  use("two-socket", "intel-adl");
  make_intel_devs(8);
  assert_int_equal(open_zones(), 4);
  assert_non_null(strstr(logs, "msr: package-0/package, package-1/package: "
                               "energy unit 61.035 uJ (1/2^14 J from the unit "
                               "register, INTEL_ALDERLAKE, "
                               "rapl_defaults_core)\n"));

  /* a model the table does not list: said, at NOTICE */
  close_zones();
  logs[0] = '\0';
  char procfs[512];
  snprintf(procfs, sizeof(procfs), "%s/proc", tmp);
  snprintf(cfg.procfs_path, sizeof(cfg.procfs_path), "%s", procfs);
  char path[600];
  snprintf(path, sizeof(path), "%s/cpuinfo", procfs);
  write_file(path, "vendor_id: GenuineIntel\ncpu family: 6\nmodel: 254\n");
  assert_int_equal(open_zones(), 4);
  assert_non_null(strstr(logs, "[5] msr: package-0/package, "
                               "package-1/package: energy unit 61.035 uJ "
                               "(1/2^14 J from the unit register: GenuineIntel "
                               "family 6 model 0xfe is not in the kernel's "
                               "model table, so the architectural rule)"));
}

/* PSYS: 1 J units on Sapphire Rapids, read on every socket whose counter
 * reads, as the kernel does (only the package wired to the platform's sensor
 * counts it, and that need not be package 0), and named as the kernel names
 * it: psys on the boot CPU's package is "platform", psys-1 is "platform-1".
 */
static void make_spr_devs(uint64_t psys0, uint64_t psys1) {
  for (int cpu = 0; cpu < 8; cpu++) {
    /* two-socket: cpus 0, 1, 4, 5 are package 0; 2, 3, 6, 7 package 1 */
    bool pkg1 = cpu == 2 || cpu == 3 || cpu == 6 || cpu == 7;
    struct reg regs[] = {
        {0x606, UNIT_ESU14}, {0x611, 1}, {0x64D, pkg1 ? psys1 : psys0}};
    make_dev(cpu, regs, 3);
  }
}

static void test_intel_psys_per_socket(void **state) {
  (void)state;
  use("two-socket", "intel-spr");
  /* psys counted by package 1 only: "platform-1", read through cpu 2 */
  make_spr_devs(0, 7);
  assert_int_equal(open_zones(), 3);
  assert_int_equal(count_kind(RAPL_ZONE_PSYS), 1);
  const struct rapl_zone *psys = find("platform-1", RAPL_ZONE_PSYS);
  assert_non_null(psys);
  assert_true(psys->joules_per_unit == 1.0);
  assert_source_cpu(psys, 2);
  uint64_t raw;
  assert_int_equal(B->read(psys, &raw), 0);
  assert_int_equal(raw, 7);
  assert_true(find("package-1", RAPL_ZONE_PACKAGE)->joules_per_unit ==
              1.0 / 16384);

  /* by package 0 only: "platform", through cpu 0 */
  close_zones();
  make_spr_devs(5, 0);
  assert_int_equal(open_zones(), 3);
  psys = find("platform", RAPL_ZONE_PSYS);
  assert_non_null(psys);
  assert_source_cpu(psys, 0);
  assert_int_equal(B->read(psys, &raw), 0);
  assert_int_equal(raw, 5);

  /* by both: both, each through its own socket */
  close_zones();
  make_spr_devs(5, 7);
  assert_int_equal(open_zones(), 4);
  assert_int_equal(count_kind(RAPL_ZONE_PSYS), 2);
  assert_source_cpu(find("platform", RAPL_ZONE_PSYS), 0);
  assert_source_cpu(find("platform-1", RAPL_ZONE_PSYS), 2);

  /* not asked for: left out */
  close_zones();
  cfg.zone_mask = RAPL_ZONE_MASK(RAPL_ZONE_PACKAGE);
  assert_int_equal(open_zones(), 2);
  assert_int_equal(count_kind(RAPL_ZONE_PSYS), 0);
}

static void test_intel_multi_die(void **state) {
  (void)state;
  use("multi-die", "intel-adl");
  make_intel_devs(8);
  assert_int_equal(open_zones(), 8);
  static const char *const names[] = {"package-0-die-0", "package-0-die-1",
                                      "package-1-die-0", "package-1-die-1"};
  for (int i = 0; i < 4; i++) {
    const struct rapl_zone *z = find(names[i], RAPL_ZONE_PACKAGE);
    assert_source_cpu(z, 2 * i);
    assert_non_null(find(names[i], RAPL_ZONE_CORE));
  }
  assert_null(find("package-0", RAPL_ZONE_PACKAGE));
}

/* Offline CPUs are never chosen, even with topology files and a device. */
static void test_intel_online_holes(void **state) {
  (void)state;
  use("holes", "intel-adl");
  make_intel_devs(8);
  assert_int_equal(open_zones(), 4);
  assert_source_cpu(find("package-0", RAPL_ZONE_PACKAGE), 1);
  assert_source_cpu(find("package-1", RAPL_ZONE_PACKAGE), 5);
}

/* The first CPU's device fails: the next online CPU of the same socket is
 * used, and the operator is told. */
static void test_intel_failover(void **state) {
  (void)state;
  use("two-socket", "intel-adl");
  make_intel_devs(8);
  char path[512];
  dev_path(0, path, sizeof(path));
  assert_int_equal(unlink(path), 0); /* cpu 0: no device */
  make_dev(2, NULL, 0);              /* cpu 2: unit register reads EIO */
  assert_int_equal(open_zones(), 4);
  assert_source_cpu(find("package-0", RAPL_ZONE_PACKAGE), 1);
  assert_source_cpu(find("package-0", RAPL_ZONE_CORE), 1);
  assert_source_cpu(find("package-1", RAPL_ZONE_PACKAGE), 3);
  uint64_t raw;
  assert_int_equal(B->read(find("package-1", RAPL_ZONE_PACKAGE), &raw), 0);
  assert_int_equal(raw, 0x1003);
  assert_non_null(strstr(logs, "cpu 0 device "));
  assert_non_null(strstr(logs, "/dev/cpu/0/msr failed (No such file or "
                               "directory), using cpu 1 for package-0"));
  assert_non_null(strstr(logs, "/dev/cpu/2/msr failed (Input/output error), "
                               "using cpu 3 for package-1"));

  /* the reader reopens as often as it reads while a zone is lost: the same
   * fault is not logged again by the next open */
  close_zones();
  logs[0] = '\0';
  assert_int_equal(open_zones(), 4);
  assert_source_cpu(find("package-0", RAPL_ZONE_PACKAGE), 1);
  assert_string_equal(logs, "");

  /* a socket with no working device is left out, the others stay */
  close_zones();
  logs[0] = '\0';
  for (int cpu = 0; cpu < 8; cpu++) {
    if (cpu == 0 || cpu == 1 || cpu == 4 || cpu == 5) {
      dev_path(cpu, path, sizeof(path));
      unlink(path);
    }
  }
  assert_int_equal(open_zones(), 2);
  assert_null(find("package-0", RAPL_ZONE_PACKAGE));
  assert_source_cpu(find("package-1", RAPL_ZONE_PACKAGE), 3);
  assert_non_null(strstr(logs, "package-0: no online CPU's MSR device"));
  close_zones();
  logs[0] = '\0';
  assert_int_equal(open_zones(), 2);
  assert_string_equal(logs, "");

  /* back after a restore: cpu 0 again */
  close_zones();
  make_intel_devs(8);
  assert_int_equal(open_zones(), 4);
  assert_source_cpu(find("package-0", RAPL_ZONE_PACKAGE), 0);
}

static void test_unsupported_cpu(void **state) {
  (void)state;
  make_intel_devs(8);
  use("two-socket", "via");
  assert_int_equal(open_zones(), -1);
  assert_non_null(strstr(why, "CentaurHauls"));
  use("two-socket", "amd-fam16");
  assert_int_equal(open_zones(), -1);
  assert_non_null(strstr(why, "family 22"));
  use("two-socket", "missing");
  assert_int_equal(open_zones(), -1);
  assert_non_null(strstr(why, "cpuinfo"));
  use("bad-online", "intel-adl");
  assert_int_equal(open_zones(), -1);
  assert_non_null(strstr(why, "online"));
}

static void test_read_errors(void **state) {
  (void)state;
  use("no-die", "intel-adl");
  make_intel_devs(2);
  assert_int_equal(open_zones(), 2);
  struct rapl_zone *z = &set.zones[0];
  uint64_t raw;
  /* a register past the end reads short: EIO, never a value */
  uint64_t saved = z->counters[0].offset;
  z->counters[0].offset = 0x10000;
  raw = 12345;
  assert_int_equal(B->read(z, &raw), -EIO);
  z->counters[0].offset = saved;
  int fd = z->counters[0].fd;
  z->counters[0].fd = 1000; /* not open */
  assert_int_equal(B->read(z, &raw), -EBADF);
  z->counters[0].fd = fd;
  assert_int_equal(B->read(z, &raw), 0);
}

/* ------------------------------------------------ the simulator */

/* The mount of the current simulator test (t/sim_harness). */
static struct sim sim;

/* Mounts the simulator with a spec and points cfg at it; fails the test when
 * it cannot run (no binary, no /dev/fuse). */
static void start_sim(const char *spec) {
  sim_start(&sim, spec);
  sim_config(&sim, &cfg);
  cfg.msr_enabled = true;
}

static int teardown_sim(void **state) {
  /* descriptors on the mount go first, then the mount */
  rapl_zone_set_clear(&set, B->close);
  sim_teardown(state);
  return teardown(state);
}

static const char amd_spec[] = "vendor amd\nfamily 25\nmodel 1\nesu 16\n"
                               "cpu 0 package 0 core 0\n"
                               "cpu 1 package 0 core 1\n"
                               "cpu 2 package 0 core 2\n"
                               "cpu 3 package 0 core 3\n"
                               "cpu 4 package 0 core 0\n"
                               "cpu 5 package 0 core 1\n"
                               "cpu 6 package 0 core 2\n"
                               "cpu 7 package 0 core 3\n"
                               "zone package package 0 watts 55\n"
                               "zone core package 0 core 0 watts 3\n"
                               "zone core package 0 core 1 watts 4\n"
                               "zone core package 0 core 2 watts 5\n"
                               "zone core package 0 core 3 watts 6\n";

/* Average watts of every open zone over one second of the simulator's
 * virtual clock: the sum of each zone's per-counter deltas, each modulo the
 * range, as the reader does. */
#define MAX_MEASURED 16
static double measured[MAX_MEASURED];

static void measure(void) {
  uint64_t a[MAX_MEASURED][16], b[16];
  assert_true(set.n <= MAX_MEASURED);
  for (size_t i = 0; i < set.n; i++) {
    assert_true(set.zones[i].n_counters <= 16);
    assert_int_equal(B->read(&set.zones[i], a[i]), 0);
  }
  sim_advance_ms(&sim, 1000);
  for (size_t i = 0; i < set.n; i++) {
    const struct rapl_zone *z = &set.zones[i];
    assert_int_equal(B->read(z, b), 0);
    uint64_t units = 0;
    for (size_t k = 0; k < z->n_counters; k++)
      units += (b[k] - a[i][k]) % z->range;
    measured[i] = (double)units * z->joules_per_unit / 1.0;
  }
}

/* Exact but for one counter unit at each end of the second. */
static void assert_watts(const struct rapl_zone *z, double want) {
  assert_non_null(z);
  double got = measured[z - set.zones];
  if (fabs(got - want) > 1e-4 * want)
    fail_msg("%s %s: %.3f W, expected %.3f W", z->instance,
             rapl_zone_kind_name(z->kind), got, want);
}

static void test_amd_package_and_cores(void **state) {
  (void)state;
  start_sim(amd_spec);
  assert_int_equal(B->probe(&cfg, why, sizeof(why)), 0);
  assert_int_equal(open_zones(), 2);
  const struct rapl_zone *pkg = find("package-0", RAPL_ZONE_PACKAGE);
  const struct rapl_zone *core = find("package-0", RAPL_ZONE_CORE);
  assert_non_null(pkg);
  assert_non_null(core);
  assert_int_equal(pkg->n_counters, 1);
  assert_int_equal(pkg->counters[0].offset, 0xC001029B);
  assert_true(pkg->joules_per_unit == 1.0 / 65536);
  /* one counter per physical core, not per thread */
  assert_int_equal(core->n_counters, 4);
  for (size_t i = 0; i < 4; i++) {
    assert_int_equal(core->counters[i].offset, 0xC001029A);
    for (size_t j = 0; j < i; j++)
      assert_int_not_equal(core->counters[i].fd, core->counters[j].fd);
  }
  assert_true(core->joules_per_unit == 1.0 / 65536);
  char want[700];
  snprintf(want, sizeof(want), "%s/dev/cpu/{0,1,2,3}/msr", sim.mnt);
  assert_string_equal(core->source, want);
  measure();
  assert_watts(pkg, 55);
  assert_watts(core, 3 + 4 + 5 + 6);
  assert_only_info();
}

/* Two packages of two dies each (die_id is the CCD on newer kernels): the
 * package counter is per socket, so one package zone per package. */
static void test_amd_dies_per_package(void **state) {
  (void)state;
  start_sim("vendor amd\nfamily 23\nmodel 49\nesu 16\n"
            "cpu 0 package 0 die 0 core 0\ncpu 1 package 0 die 0 core 1\n"
            "cpu 2 package 0 die 1 core 2\ncpu 3 package 0 die 1 core 3\n"
            "cpu 4 package 1 die 2 core 0\ncpu 5 package 1 die 2 core 1\n"
            "cpu 6 package 1 die 3 core 2\ncpu 7 package 1 die 3 core 3\n"
            "cpu 8 package 0 die 0 core 0\ncpu 9 package 0 die 0 core 1\n"
            "cpu 10 package 0 die 1 core 2\ncpu 11 package 0 die 1 core 3\n"
            "cpu 12 package 1 die 2 core 0\ncpu 13 package 1 die 2 core 1\n"
            "cpu 14 package 1 die 3 core 2\ncpu 15 package 1 die 3 core 3\n"
            "zone package package 0 watts 100\n"
            "zone package package 1 watts 120\n"
            "zone core package 0 core 0 watts 1\n"
            "zone core package 0 core 1 watts 2\n"
            "zone core package 0 core 2 watts 3\n"
            "zone core package 0 core 3 watts 4\n"
            "zone core package 1 core 0 watts 5\n"
            "zone core package 1 core 1 watts 6\n"
            "zone core package 1 core 2 watts 7\n"
            "zone core package 1 core 3 watts 8\n");
  assert_int_equal(open_zones(), 4);
  assert_int_equal(count_kind(RAPL_ZONE_PACKAGE), 2);
  const struct rapl_zone *c1 = find("package-1", RAPL_ZONE_CORE);
  assert_non_null(c1);
  assert_int_equal(c1->n_counters, 4);
  char want[700];
  snprintf(want, sizeof(want), "%s/dev/cpu/{4,5,6,7}/msr", sim.mnt);
  assert_string_equal(c1->source, want);
  measure();
  assert_watts(find("package-0", RAPL_ZONE_PACKAGE), 100);
  assert_watts(find("package-1", RAPL_ZONE_PACKAGE), 120);
  assert_watts(find("package-0", RAPL_ZONE_CORE), 10);
  assert_watts(c1, 26);
}

/* A device that fails mid-run (ENXIO: CPU gone; ENODEV: module unloaded):
 * reads return the error, and the next open moves to another CPU of the
 * package, and for a core to its sibling thread. */
static void test_amd_failover(void **state) {
  (void)state;
  start_sim(amd_spec);
  assert_int_equal(open_zones(), 2);
  uint64_t raw[4];
  sim_ctl(&sim, "fail dev/cpu/0/msr 6");
  assert_int_equal(B->read(find("package-0", RAPL_ZONE_PACKAGE), raw), -ENXIO);
  assert_int_equal(B->read(find("package-0", RAPL_ZONE_CORE), raw), -ENXIO);
  close_zones();
  assert_int_equal(open_zones(), 2);
  const struct rapl_zone *pkg = find("package-0", RAPL_ZONE_PACKAGE);
  const struct rapl_zone *core = find("package-0", RAPL_ZONE_CORE);
  char want[700];
  snprintf(want, sizeof(want), "%s/dev/cpu/1/msr", sim.mnt);
  assert_string_equal(pkg->source, want);
  snprintf(want, sizeof(want), "%s/dev/cpu/{4,1,2,3}/msr", sim.mnt);
  assert_string_equal(core->source, want);
  assert_int_equal(core->n_counters, 4);
  assert_non_null(strstr(logs, "/dev/cpu/0/msr failed (No such device or "
                               "address), using cpu 1 for package-0"));
  measure();
  assert_watts(pkg, 55);
  assert_watts(core, 18);

  /* hidden while open: ENODEV on read; reopen skips it (ENOENT) */
  sim_ctl(&sim, "hide dev/cpu/1/msr");
  assert_int_equal(B->read(pkg, raw), -ENODEV);
  close_zones();
  logs[0] = '\0';
  assert_int_equal(open_zones(), 2);
  snprintf(want, sizeof(want), "%s/dev/cpu/2/msr", sim.mnt);
  assert_string_equal(find("package-0", RAPL_ZONE_PACKAGE)->source, want);
  snprintf(want, sizeof(want), "%s/dev/cpu/{4,5,2,3}/msr", sim.mnt);
  assert_string_equal(find("package-0", RAPL_ZONE_CORE)->source, want);

  /* a whole core unreadable: the core zone is left out (a partial sum would
   * be wrong), the package zone stays */
  sim_ctl(&sim, "fail dev/cpu/4/msr 5");
  close_zones();
  logs[0] = '\0';
  assert_int_equal(open_zones(), 1);
  assert_non_null(find("package-0", RAPL_ZONE_PACKAGE));
  assert_non_null(strstr(logs, "physical core 0"));

  /* all back */
  sim_ctl(&sim, "unfail dev/cpu/0/msr");
  sim_ctl(&sim, "show dev/cpu/1/msr");
  sim_ctl(&sim, "unfail dev/cpu/4/msr");
  close_zones();
  assert_int_equal(open_zones(), 2);
  snprintf(want, sizeof(want), "%s/dev/cpu/0/msr", sim.mnt);
  assert_string_equal(find("package-0", RAPL_ZONE_PACKAGE)->source, want);
}

/* The simulator's two-socket Skylake-SP: the MSR backend reports the spec's
 * watts, with the DRAM quirk applied, and one platform zone. */
static void test_intel_sim_watts(void **state) {
  (void)state;
  start_sim("vendor intel\nfamily 6\nmodel 85\nesu 14\n"
            "cpu 0 package 0 die 0 core 0\ncpu 1 package 0 die 0 core 1\n"
            "cpu 2 package 1 die 0 core 0\ncpu 3 package 1 die 0 core 1\n"
            "cpu 4 package 0 die 0 core 0\ncpu 5 package 0 die 0 core 1\n"
            "cpu 6 package 1 die 0 core 0\ncpu 7 package 1 die 0 core 1\n"
            "zone package package 0 watts 45.5\n"
            "zone core package 0 watts 20\n"
            "zone dram package 0 watts 7.5 unit_uj 15.3\n"
            "zone package package 1 watts 61.25\n"
            "zone core package 1 watts 30\n"
            "zone dram package 1 watts 9 unit_uj 15.3\n"
            "zone psys watts 120\n");
  assert_int_equal(open_zones(), 7);
  assert_int_equal(count_kind(RAPL_ZONE_PACKAGE), 2);
  assert_int_equal(count_kind(RAPL_ZONE_PSYS), 1);
  assert_int_equal(count_kind(RAPL_ZONE_UNCORE), 0); /* EIO */
  assert_true(find("package-0", RAPL_ZONE_DRAM)->joules_per_unit == 15.3e-6);
  measure();
  assert_watts(find("package-0", RAPL_ZONE_PACKAGE), 45.5);
  assert_watts(find("package-1", RAPL_ZONE_PACKAGE), 61.25);
  assert_watts(find("package-1", RAPL_ZONE_CORE), 30);
  assert_watts(find("package-0", RAPL_ZONE_DRAM), 7.5);
  assert_watts(find("package-1", RAPL_ZONE_DRAM), 9);
  assert_watts(find("platform", RAPL_ZONE_PSYS), 120);
}

/* Every zone of `b` on the simulator, with its average watts over one
 * second of the simulator's clock. */
struct measured_set {
  struct rapl_zone_set set;
  double watts[MAX_MEASURED];
};

static void measure_backend(const struct rapl_backend *b,
                            struct measured_set *m) {
  uint64_t a[MAX_MEASURED][16], c[16];
  char whyb[512];
  memset(m, 0, sizeof(*m));
  assert_int_equal(b->probe(&cfg, whyb, sizeof(whyb)), 0);
  assert_true(b->open(&cfg, &m->set, whyb, sizeof(whyb)) > 0);
  assert_true(m->set.n <= MAX_MEASURED);
  for (size_t i = 0; i < m->set.n; i++)
    assert_int_equal(b->read(&m->set.zones[i], a[i]), 0);
  sim_advance_ms(&sim, 1000);
  for (size_t i = 0; i < m->set.n; i++) {
    const struct rapl_zone *z = &m->set.zones[i];
    assert_int_equal(b->read(z, c), 0);
    uint64_t units = 0;
    for (size_t k = 0; k < z->n_counters; k++)
      units += (c[k] - a[i][k] + z->range) % z->range;
    m->watts[i] = (double)units * z->joules_per_unit;
  }
}

static const double *watts_of(const struct measured_set *m,
                              const char *instance, enum rapl_zone_kind kind) {
  for (size_t i = 0; i < m->set.n; i++)
    if (m->set.zones[i].kind == kind &&
        !strcmp(m->set.zones[i].instance, instance))
      return &m->watts[i];
  return NULL;
}

/* One identifier, one meaning: every zone both backends report carries the
 * same watts. On AMD, core is every core of the package (the MSR backend's
 * sum), so powercap, whose kernel zone counts one core, does not report it. */
static void check_backends_agree(void) {
  struct measured_set pc, msr;
  measure_backend(&rapl_backend_powercap, &pc);
  measure_backend(&rapl_backend_msr, &msr);
  for (size_t i = 0; i < pc.set.n; i++) {
    const struct rapl_zone *z = &pc.set.zones[i];
    const double *w = watts_of(&msr, z->instance, z->kind);
    if (w == NULL)
      fail_msg("powercap reports %s/%s, the MSR backend does not", z->instance,
               rapl_zone_kind_name(z->kind));
    if (fabs(*w - pc.watts[i]) > 1e-3 * pc.watts[i] + 1e-3)
      fail_msg("%s/%s: powercap %.4f W, MSR %.4f W", z->instance,
               rapl_zone_kind_name(z->kind), pc.watts[i], *w);
  }
  rapl_zone_set_clear(&pc.set, rapl_backend_powercap.close);
  rapl_zone_set_clear(&msr.set, rapl_backend_msr.close);
}

static void test_amd_core_one_meaning(void **state) {
  (void)state;
  start_sim(amd_spec);
  struct measured_set pc, msr;
  measure_backend(&rapl_backend_powercap, &pc);
  assert_null(watts_of(&pc, "package-0", RAPL_ZONE_CORE));
  assert_true(fabs(*watts_of(&pc, "package-0", RAPL_ZONE_PACKAGE) - 55) < 1e-3);
  measure_backend(&rapl_backend_msr, &msr);
  assert_true(fabs(*watts_of(&msr, "package-0", RAPL_ZONE_CORE) - 18) < 1e-3);
  rapl_zone_set_clear(&pc.set, rapl_backend_powercap.close);
  rapl_zone_set_clear(&msr.set, rapl_backend_msr.close);
  check_backends_agree();
}

/* And on the two-socket Skylake-SP: units, names and psys agree. */
static void test_intel_backends_agree(void **state) {
  (void)state;
  start_sim("vendor intel\nfamily 6\nmodel 85\nesu 14\n"
            "cpu 0 package 0 core 0\ncpu 1 package 0 core 1\n"
            "cpu 2 package 1 core 0\ncpu 3 package 1 core 1\n"
            "zone package package 0 watts 45.5\n"
            "zone core package 0 watts 20\n"
            "zone dram package 0 watts 7.5 unit_uj 15.3\n"
            "zone package package 1 watts 61.25\n"
            "zone dram package 1 watts 9 unit_uj 15.3\n"
            "zone psys watts 120\n");
  check_backends_agree();
}

/* Silvermont/Airmont Atoms count 2^ESU uJ (the kernel's
 * rapl_check_unit_atom): at ESU 5 the counter steps by 32 uJ, not by
 * 1/32 J. The simulator's unit register says ESU 5, its counters count 32 uJ
 * units, as a Bay Trail's do. */
static const char atom_spec[] = "vendor intel\nfamily 6\nmodel 55\nesu 5\n"
                                "cpu 0 package 0 core 0\n"
                                "cpu 1 package 0 core 1\n"
                                "cpu 2 package 0 core 2\n"
                                "cpu 3 package 0 core 3\n"
                                "zone package package 0 watts 2.5 unit_uj 32\n"
                                "zone core package 0 watts 1.25 unit_uj 32\n";

static void test_atom_units(void **state) {
  (void)state;
  start_sim(atom_spec);
  assert_int_equal(open_zones(), 2);
  const struct rapl_zone *pkg = find("package-0", RAPL_ZONE_PACKAGE);
  const struct rapl_zone *core = find("package-0", RAPL_ZONE_CORE);
  assert_non_null(pkg);
  assert_non_null(core);
  assert_true(pkg->joules_per_unit == 32e-6);
  assert_true(core->joules_per_unit == 32e-6);
  measure();
  assert_watts(pkg, 2.5);
  assert_watts(core, 1.25);
}

struct samples {
  int n;
  struct rapl_sample s[16];
};

static void collect(const struct rapl_sample *sample, void *ud) {
  struct samples *got = ud;
  if (got->n < 16)
    got->s[got->n++] = *sample;
}

/* Through the reader: an Atom's package reports its power, never "a reset",
 * and nothing is logged about its counter. */
static void test_atom_reader_reports_power(void **state) {
  (void)state;
  start_sim(atom_spec);
  cfg.msr_force = true;
  cfg.msr_min_interval = 0;
  struct rapl_reader *r = rapl_reader_create(&cfg);
  assert_non_null(r);
  sim_attach(&sim, r);
  for (int i = 0; i < 4; i++) {
    struct samples got = {0};
    logs[0] = '\0';
    assert_int_equal(rapl_reader_read(r, collect, &got), 2);
    for (int k = 0; k < got.n; k++) {
      const struct rapl_sample *s = &got.s[k];
      double want = s->kind == RAPL_ZONE_PACKAGE ? 2.5 : 1.25;
      if (i == 0) {
        assert_false(s->has_power); /* the baseline */
        continue;
      }
      if (!s->has_power)
        fail_msg("read %d: %s/%s has no power: %s", i, s->instance,
                 rapl_zone_kind_name(s->kind), logs);
      if (fabs(s->power_w - want) > 1e-3 * want)
        fail_msg("read %d: %s/%s: %.4f W, simulated %.4f W", i, s->instance,
                 rapl_zone_kind_name(s->kind), s->power_w, want);
    }
    if (i > 0)
      assert_null(strstr(logs, "reset"));
    sim_advance_ms(&sim, 10000);
  }
  rapl_reader_destroy(r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_template_validation, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_big_cpu_number, setup, teardown),
      cmocka_unit_test_setup_teardown(test_probe_missing_module, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_cut_reason, setup, teardown),
      cmocka_unit_test_setup_teardown(test_probe_missing_capability, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_intel_two_sockets, setup, teardown),
      cmocka_unit_test_setup_teardown(test_intel_zone_mask, setup, teardown),
      cmocka_unit_test_setup_teardown(test_intel_absent_and_zero, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_intel_quirk_dram, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unit_log, setup, teardown),
      cmocka_unit_test_setup_teardown(test_intel_psys_per_socket, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_intel_multi_die, setup, teardown),
      cmocka_unit_test_setup_teardown(test_intel_online_holes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_intel_failover, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unsupported_cpu, setup, teardown),
      cmocka_unit_test_setup_teardown(test_read_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_amd_package_and_cores, setup,
                                      teardown_sim),
      cmocka_unit_test_setup_teardown(test_amd_dies_per_package, setup,
                                      teardown_sim),
      cmocka_unit_test_setup_teardown(test_amd_failover, setup, teardown_sim),
      cmocka_unit_test_setup_teardown(test_intel_sim_watts, setup,
                                      teardown_sim),
      cmocka_unit_test_setup_teardown(test_atom_units, setup, teardown_sim),
      cmocka_unit_test_setup_teardown(test_amd_core_one_meaning, setup,
                                      teardown_sim),
      cmocka_unit_test_setup_teardown(test_intel_backends_agree, setup,
                                      teardown_sim),
      cmocka_unit_test_setup_teardown(test_atom_reader_reports_power, setup,
                                      teardown_sim),
  };
  return sim_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
