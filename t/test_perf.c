/* The perf_event power PMU backend without a simulator: the parsers on the
 * kernel's own strings, the refusal messages, discovery on fixture trees laid
 * out as arch/x86/events/rapl.c lays out sysfs (t/data/perf, made by
 * t/data/make-perf-fixtures.sh) with perf_event_open replaced through
 * rapl_perf_set_open, and selection between powercap, perf and the MSRs. */
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
#include "perf.h"
#include "rapl_config.h"
#include "rapl_log.h"
#include "reader.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define KERNEL_SCALE "2.3283064365386962890625e-10"
#define FIXTURE_TYPE 23 /* t/data/perf/two-socket's sys/devices/power/type */
#define EV_CORES 0x01
#define EV_PKG 0x02
#define EV_RAM 0x03
#define EV_GPU 0x04
#define EV_PSYS 0x05

static const struct rapl_backend *const B = &rapl_backend_perf;

/* ------------------------------------------------- the fake perf_event_open */

struct call {
  struct perf_event_attr attr;
  pid_t pid;
  int cpu, group_fd, fd;
  unsigned long flags;
};

static struct call calls[64];
static size_t n_calls;
static int refuse_errno; /* 0: every open succeeds */
static int refuse_cpu;   /* -1: refuse on every CPU, else only on this one */
static uint64_t enodev_config; /* 0: none; else this event fails ENODEV */

/* What a zone's descriptor reads: the event and the CPU it was opened for,
 * so that a test can tell that each zone holds its own event's descriptor. */
static uint64_t identity(uint64_t config, int cpu) {
  return config << 32 | (uint64_t)(unsigned)cpu;
}

static int fake_open(struct perf_event_attr *attr, pid_t pid, int cpu,
                     int group_fd, unsigned long flags) {
  struct call *c = &calls[n_calls < 64 ? n_calls++ : 63];
  c->attr = *attr;
  c->pid = pid;
  c->cpu = cpu;
  c->group_fd = group_fd;
  c->flags = flags;
  c->fd = -1;
  if (enodev_config != 0 && attr->config == enodev_config) {
    errno = ENODEV;
    return -1;
  }
  if (refuse_errno != 0 && (refuse_cpu < 0 || refuse_cpu == cpu)) {
    errno = refuse_errno;
    return -1;
  }
  int fd = memfd_create("perf-event", MFD_CLOEXEC);
  uint64_t v = identity(attr->config, cpu);
  if (fd < 0 || write(fd, &v, sizeof(v)) != sizeof(v) ||
      lseek(fd, 0, SEEK_SET) != 0)
    abort();
  c->fd = fd;
  return fd;
}

static void fake_reset(void) {
  n_calls = 0;
  enodev_config = 0;
  refuse_errno = 0;
  refuse_cpu = -1;
}

/* ---------------------------------------------------------------- helpers */

struct found {
  struct rapl_config cfg;
  char *root; /* a private copy, or NULL for the shipped tree */
  struct rapl_zone_set set;
  char why[RAPL_MSG_MAX];
  int n;
};

static void use_tree(struct found *f, const char *fixture, bool copy) {
  memset(f, 0, sizeof(*f));
  if (copy) {
    f->root = fixture_copy(fixture);
    fixture_config(&f->cfg, f->root);
  } else {
    char root[4096];
    snprintf(root, sizeof(root), "%s", fixture_path(fixture));
    fixture_config(&f->cfg, root);
  }
}

static int discover(struct found *f) {
  fake_reset();
  fixture_logs_reset();
  f->why[0] = '\0';
  f->n = B->probe(&f->cfg, f->why, sizeof(f->why));
  if (f->n == 0)
    f->n = B->open(&f->cfg, &f->set, f->why, sizeof(f->why));
  if (f->n < 0)
    assert_int_equal(f->set.n, 0);
  else
    assert_int_equal((size_t)f->n, f->set.n);
  return f->n;
}

static void release(struct found *f) {
  rapl_zone_set_clear(&f->set, B->close);
  if (f->root != NULL)
    fixture_remove(f->root);
  f->root = NULL;
}

/* Rewrites a file of the copy's PMU directory. */
static void pmu_write(const struct found *f, const char *name,
                      const char *text) {
  char rel[256];
  snprintf(rel, sizeof(rel), "sys/devices/power/%s", name);
  fixture_write(f->root, rel, text);
}

static void pmu_remove(const struct found *f, const char *name) {
  char path[4096];
  snprintf(path, sizeof(path), "%s/sys/devices/power/%s", f->root, name);
  assert_int_equal(unlink(path), 0);
}

static const struct rapl_zone *
find(const struct found *f, enum rapl_zone_kind kind, const char *instance) {
  const struct rapl_zone *hit = NULL;
  for (size_t i = 0; i < f->set.n; i++) {
    const struct rapl_zone *z = &f->set.zones[i];
    if (z->kind == kind && strcmp(z->instance, instance) == 0) {
      assert_null(hit); /* never the same zone twice */
      hit = z;
    }
  }
  return hit;
}

static const struct call *call_for(uint64_t config, int cpu) {
  const struct call *hit = NULL;
  for (size_t i = 0; i < n_calls; i++)
    if (calls[i].attr.config == config && calls[i].cpu == cpu) {
      assert_null(hit); /* one open per (event, CPU) */
      hit = &calls[i];
    }
  return hit;
}

/* The zone exists, reads from the descriptor opened for (config, cpu) and
 * says so in its source. */
static void assert_zone(const struct found *f, enum rapl_zone_kind kind,
                        const char *instance, uint64_t config, int cpu,
                        const char *event) {
  const struct rapl_zone *z = find(f, kind, instance);
  if (z == NULL)
    fail_msg("no zone %s/%s", instance, rapl_zone_kind_name(kind));
  const struct call *c = call_for(config, cpu);
  assert_non_null(c);
  assert_int_equal(z->n_counters, 1);
  assert_int_equal(z->counters[0].fd, c->fd);
  uint64_t raw = 0;
  assert_int_equal(B->read(z, &raw), 0);
  assert_int_equal(raw, identity(config, cpu));
  char source[128];
  snprintf(source, sizeof(source), "perf event power/%s/ on CPU %d", event,
           cpu);
  assert_string_equal(z->source, source);
  /* The fixture is INTEL_SKYLAKE_X, where the perf driver counts the
   * 15.3 uJ DRAM unit (rapl_defaults_hsw_server's 15300 nJ) as 2^-16 J. */
  double want = kind == RAPL_ZONE_DRAM
                    ? ldexp(1.0, -32) * 15.3e-6 / ldexp(1.0, -16)
                    : ldexp(1.0, -32);
  if (fabs(z->joules_per_unit - want) > want * 1e-12)
    fail_msg("%s/%s: %.17g J per count, want %.17g", instance,
             rapl_zone_kind_name(kind), z->joules_per_unit, want);
  assert_true(z->range == UINT64_MAX);
}

/* Every descriptor the fake handed out is closed again. */
static void assert_all_closed(void) {
  for (size_t i = 0; i < n_calls; i++)
    if (calls[i].fd >= 0 && fcntl(calls[i].fd, F_GETFD) != -1)
      fail_msg("descriptor %d (config 0x%llx, CPU %d) left open", calls[i].fd,
               (unsigned long long)calls[i].attr.config, calls[i].cpu);
}

static int setup(void **state) {
  (void)state;
  rapl_perf_set_open(fake_open);
  fixture_capture_logs();
  fake_reset();
  return 0;
}

static int teardown(void **state) {
  (void)state;
  rapl_perf_set_open(NULL);
  return 0;
}

/* ------------------------------------------------------------ the parsers */

static void scale_kernel_strings(void **state) {
  (void)state;
  double v = 0;
  /* The kernel's text is 2^-32 written out in full: exact, not close. */
  assert_int_equal(rapl_perf_parse_scale(KERNEL_SCALE "\n", &v), 0);
  assert_true(v == ldexp(1.0, -32));
  v = 0;
  assert_int_equal(rapl_perf_parse_scale(KERNEL_SCALE, &v), 0);
  assert_true(v == ldexp(1.0, -32));
  /* other exponents the PMU could state */
  assert_int_equal(rapl_perf_parse_scale("1.52587890625e-05\n", &v), 0);
  assert_true(v == ldexp(1.0, -16));
  assert_int_equal(rapl_perf_parse_scale("1\n", &v), 0);
  assert_true(v == 1.0);
}

/* Whether the process's numbers are now written with a decimal comma. */
static bool decimal_comma(void) {
  return strcmp(localeconv()->decimal_point, ",") == 0;
}

static void scale_under_decimal_comma_locale(void **state) {
  (void)state;
  static const char *const names[] = {"de_DE.UTF-8", "de_DE.utf8", "de_DE"};
  const char *got = NULL;
  for (size_t i = 0; i < 3 && got == NULL; i++)
    got = setlocale(LC_NUMERIC, names[i]);
  if (got == NULL || !decimal_comma()) {
    setlocale(LC_NUMERIC, "C");
    print_message("skipped: no de_DE locale installed (locale -a), so the "
                  "decimal-comma case is not tested here\n");
    skip();
  }
  /* The locale bites: the C library's own strtod stops at the point. */
  char *end;
  double plain = strtod(KERNEL_SCALE, &end);
  assert_true(*end == '.' && plain == 2.0);
  double v = 0;
  int rc = rapl_perf_parse_scale(KERNEL_SCALE "\n", &v);
  int rc_comma = rapl_perf_parse_scale("2,3283064365386962890625e-10\n", &v);
  double v2 = 0;
  rapl_perf_parse_scale(KERNEL_SCALE, &v2);
  setlocale(LC_NUMERIC, "C");
  assert_int_equal(rc, 0);
  assert_true(v2 == ldexp(1.0, -32));
  /* The kernel never writes a comma: it is garbage, whatever the locale. */
  assert_int_equal(rc_comma, -EBADMSG);
}

static void scale_rejects(void **state) {
  (void)state;
  static const char *const bad[] = {
      "",           "\n",    "-1",          "0",        "nan",
      "inf",        "1e999", "2.5e-10x",    " 2e-10",   "0\n",
      "-2.5e-10\n", "NAN\n", "2.5e-10\n\n", "1e-400\n",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    double v = 42.0;
    int rc = rapl_perf_parse_scale(bad[i], &v);
    if (rc != -EBADMSG)
      fail_msg("\"%s\" gave %d, want -EBADMSG", bad[i], rc);
    assert_true(v == 42.0); /* nothing written */
  }
}

static void event_parse(void **state) {
  (void)state;
  uint64_t c = 99;
  assert_int_equal(rapl_perf_parse_event("event=0x02\n", &c), 0);
  assert_int_equal(c, 2);
  assert_int_equal(rapl_perf_parse_event("event=0x1f", &c), 0);
  assert_int_equal(c, 31);
  assert_int_equal(rapl_perf_parse_event("event=0xffffffffffffffff\n", &c), 0);
  assert_true(c == UINT64_MAX); /* 16 hex digits: the most that fit */

  static const char *const bad[] = {
      "event=2",     "event=0x",
      "event=0x\n",  "event=0x02,umask=0x1",
      "config=0x02", "event=0x10000000000000000", /* 17 digits */
      "event=0x0g",  "",
      "\n",          "event=0x02 ",
      "event=0x-2",  " event=0x02",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    c = 77;
    int rc = rapl_perf_parse_event(bad[i], &c);
    if (rc != -EBADMSG)
      fail_msg("\"%s\" gave %d, want -EBADMSG", bad[i], rc);
    assert_int_equal(c, 77);
  }
}

/* ---------------------------------------------------- the refusal message */

#define PARANOID_PATH "/proc/sys/kernel/perf_event_paranoid"

static void refusal_no_grant(void **state) {
  (void)state;
  char m[RAPL_MSG_MAX];
  rapl_perf_refusal(m, sizeof(m), "energy-pkg", 0, EACCES, PARANOID_PATH, 2, 0,
                    0);
  assert_contains(m, "power/energy-pkg/ on CPU 0");
  assert_contains(m, strerror(EACCES));
  assert_contains(m, PARANOID_PATH " at most 0 (it is 2)");
  assert_contains(m, "CAP_PERFMON");
  assert_contains(m, "CAP_SYS_ADMIN");
  assert_contains(m, "this process has neither capability");
  assert_lacks(m, "security module");
  assert_lacks(m, "...");

  /* paranoid 1 is as strict for system-wide events */
  rapl_perf_refusal(m, sizeof(m), "energy-ram", 4, EACCES, PARANOID_PATH, 1, 0,
                    0);
  assert_contains(m, "power/energy-ram/ on CPU 4");
  assert_contains(m, "(it is 1)");
  assert_contains(m, "has neither capability");
}

static void refusal_paranoid_unknown(void **state) {
  (void)state;
  char m[RAPL_MSG_MAX];
  rapl_perf_refusal(m, sizeof(m), "energy-pkg", 0, EACCES, PARANOID_PATH,
                    RAPL_PERF_PARANOID_UNKNOWN, 0, 0);
  assert_contains(m, PARANOID_PATH " at most 0 (it cannot be read)");
  assert_contains(m, "CAP_PERFMON");
  assert_contains(m, "CAP_SYS_ADMIN");
  assert_contains(m, "has neither capability");
  assert_lacks(m, "security module");
  assert_lacks(m, "-1000");

  /* capget failed: the message does not claim to know */
  rapl_perf_refusal(m, sizeof(m), "energy-pkg", 0, EPERM, PARANOID_PATH, 2, -1,
                    -1);
  assert_contains(m, strerror(EPERM));
  assert_contains(m, "capget(2) could not tell whether this process has them");
  assert_lacks(m, "has neither");
}

static void refusal_security_module(void **state) {
  (void)state;
  char m[RAPL_MSG_MAX];
  /* paranoid allows everyone, yet the kernel said no: not a missing grant */
  rapl_perf_refusal(m, sizeof(m), "energy-psys", 0, EACCES, PARANOID_PATH, -1,
                    0, 0);
  assert_contains(m, "power/energy-psys/ on CPU 0");
  assert_contains(m, PARANOID_PATH " is -1");
  assert_contains(m, "lacks CAP_PERFMON");
  assert_contains(m, "lacks CAP_SYS_ADMIN");
  assert_contains(m, "security module");
  assert_contains(m, "seccomp");
  assert_lacks(m, "at most 0");

  rapl_perf_refusal(m, sizeof(m), "energy-pkg", 2, EACCES, PARANOID_PATH, 0, 0,
                    0);
  assert_contains(m, "is 0");
  assert_contains(m, "security module");
}

static void refusal_with_a_capability(void **state) {
  (void)state;
  char m[RAPL_MSG_MAX];
  rapl_perf_refusal(m, sizeof(m), "energy-pkg", 0, EACCES, PARANOID_PATH, 2, 0,
                    1);
  assert_contains(m, "is 2");
  assert_contains(m, "lacks CAP_PERFMON");
  assert_contains(m, "has CAP_SYS_ADMIN");
  assert_contains(m, "security module");
  assert_lacks(m, "neither");

  rapl_perf_refusal(m, sizeof(m), "energy-pkg", 0, EPERM, PARANOID_PATH, 3, 1,
                    0);
  assert_contains(m, "has CAP_PERFMON");
  assert_contains(m, "lacks CAP_SYS_ADMIN");
  assert_contains(m, "security module");
}

/* ------------------------------------------------------------- discovery */

static void discovery_two_socket(void **state) {
  (void)state;
  struct found f;
  use_tree(&f, "perf/two-socket", false);
  assert_int_equal(discover(&f), 9);
  /* one open per (event, CPU of cpumask 0,4); psys on the boot package only */
  assert_int_equal(n_calls, 9);
  for (size_t i = 0; i < n_calls; i++) {
    const struct call *c = &calls[i];
    assert_int_equal(c->attr.type, FIXTURE_TYPE);
    assert_int_equal(c->attr.size, sizeof(struct perf_event_attr));
    assert_int_equal(c->pid, -1);
    assert_int_equal(c->group_fd, -1);
    assert_int_equal(c->flags, PERF_FLAG_FD_CLOEXEC);
    assert_true(c->cpu == 0 || c->cpu == 4);
    /* a counting event that counts from the open: not disabled, not
     * sampling, nothing excluded (the PMU refuses exclusions) */
    assert_int_equal(c->attr.disabled, 0);
    assert_int_equal(c->attr.sample_period, 0);
    assert_int_equal(c->attr.exclude_user | c->attr.exclude_kernel |
                         c->attr.exclude_hv | c->attr.exclude_idle,
                     0);
    assert_int_equal(c->attr.inherit, 0);
  }
  assert_zone(&f, RAPL_ZONE_PACKAGE, "package-0", EV_PKG, 0, "energy-pkg");
  assert_zone(&f, RAPL_ZONE_PACKAGE, "package-1", EV_PKG, 4, "energy-pkg");
  assert_zone(&f, RAPL_ZONE_CORE, "package-0", EV_CORES, 0, "energy-cores");
  assert_zone(&f, RAPL_ZONE_CORE, "package-1", EV_CORES, 4, "energy-cores");
  assert_zone(&f, RAPL_ZONE_UNCORE, "package-0", EV_GPU, 0, "energy-gpu");
  assert_zone(&f, RAPL_ZONE_UNCORE, "package-1", EV_GPU, 4, "energy-gpu");
  assert_zone(&f, RAPL_ZONE_DRAM, "package-0", EV_RAM, 0, "energy-ram");
  assert_zone(&f, RAPL_ZONE_DRAM, "package-1", EV_RAM, 4, "energy-ram");
  assert_zone(&f, RAPL_ZONE_PSYS, "platform", EV_PSYS, 0, "energy-psys");
  assert_null(call_for(EV_PSYS, 4));
  for (size_t i = 0; i < f.set.n; i++)
    assert_int_equal(fcntl(f.set.zones[i].counters[0].fd, F_GETFD) & FD_CLOEXEC,
                     FD_CLOEXEC);
  assert_int_equal(f.set.n_skipped, 0);
  /* A healthy PMU says one thing only: the DRAM correction, once. */
  assert_int_equal(fixture_log_count("\n"), 1);
  assert_int_equal(fixture_log_count("energy-ram: the kernel's perf driver "
                                     "counts the fixed DRAM unit of family 6 "
                                     "model 0x55 (15.3 uJ) as 2^-16 J"),
                   1);
  release(&f);
  assert_all_closed();
}

static void discovery_multi_die(void **state) {
  (void)state;
  struct found f;
  use_tree(&f, "perf/multi-die", false);
  assert_int_equal(discover(&f), 4);
  assert_int_equal(n_calls, 4);
  for (size_t i = 0; i < n_calls; i++)
    assert_int_equal(calls[i].attr.type, 9);
  /* powercap's names for the same counters */
  assert_zone(&f, RAPL_ZONE_PACKAGE, "package-0-die-0", EV_PKG, 0,
              "energy-pkg");
  assert_zone(&f, RAPL_ZONE_PACKAGE, "package-0-die-1", EV_PKG, 2,
              "energy-pkg");
  assert_zone(&f, RAPL_ZONE_DRAM, "package-0-die-0", EV_RAM, 0, "energy-ram");
  assert_zone(&f, RAPL_ZONE_DRAM, "package-0-die-1", EV_RAM, 2, "energy-ram");
  release(&f);
}

static void discovery_zone_mask(void **state) {
  (void)state;
  struct found f;
  use_tree(&f, "perf/two-socket", false);
  f.cfg.zone_mask =
      RAPL_ZONE_MASK(RAPL_ZONE_PACKAGE) | RAPL_ZONE_MASK(RAPL_ZONE_PSYS);
  assert_int_equal(discover(&f), 3);
  /* filtered zones are not even opened */
  assert_int_equal(n_calls, 3);
  assert_non_null(call_for(EV_PKG, 0));
  assert_non_null(call_for(EV_PKG, 4));
  assert_non_null(call_for(EV_PSYS, 0));
  assert_non_null(find(&f, RAPL_ZONE_PSYS, "platform"));
  release(&f);

  use_tree(&f, "perf/two-socket", false);
  f.cfg.zone_mask = RAPL_ZONE_MASK(RAPL_ZONE_DRAM);
  assert_int_equal(discover(&f), 2);
  assert_int_equal(n_calls, 2);
  assert_non_null(find(&f, RAPL_ZONE_DRAM, "package-1"));
  release(&f);

  /* a mask the PMU has no event for */
  use_tree(&f, "perf/multi-die", false);
  f.cfg.zone_mask = RAPL_ZONE_MASK(RAPL_ZONE_CORE);
  assert_int_equal(discover(&f), -1);
  assert_int_equal(n_calls, 0);
  assert_contains(f.why, "/events offers no energy event of the configured "
                         "zones");
  release(&f);
}

static void discovery_no_pmu(void **state) {
  (void)state;
  struct found f;
  use_tree(&f, "perf/two-socket", true);
  char link[4096];
  snprintf(link, sizeof(link), "%s/sys/bus/event_source/devices/power", f.root);
  assert_int_equal(unlink(link), 0);
  assert_int_equal(discover(&f), -1);
  assert_int_equal(n_calls, 0);
  assert_contains(f.why, "/sys/bus/event_source/devices/power");
  assert_contains(f.why, "no perf power PMU");
  release(&f);
}

static void discovery_bad_type(void **state) {
  (void)state;
  static const char *const bad[] = {"power\n", "-1\n", "4294967296\n", "\n",
                                    "0x17\n"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct found f;
    use_tree(&f, "perf/two-socket", true);
    pmu_write(&f, "type", bad[i]);
    assert_int_equal(discover(&f), -1);
    assert_int_equal(n_calls, 0);
    assert_contains(f.why, "/bus/event_source/devices/power/type");
    release(&f);
  }
  struct found f;
  use_tree(&f, "perf/two-socket", true);
  pmu_remove(&f, "type");
  assert_int_equal(discover(&f), -1);
  assert_contains(f.why, "cannot read ");
  assert_contains(f.why, "/power/type: ");
  assert_contains(f.why, strerror(ENOENT));
  release(&f);
}

static void discovery_bad_cpumask(void **state) {
  (void)state;
  static const char *const bad[] = {"zero\n", "0-\n", "4-2\n", "0,,4\n"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct found f;
    use_tree(&f, "perf/two-socket", true);
    pmu_write(&f, "cpumask", bad[i]);
    assert_int_equal(discover(&f), -1);
    assert_int_equal(n_calls, 0);
    assert_contains(f.why, "/bus/event_source/devices/power/cpumask");
    release(&f);
  }
}

static void discovery_empty_cpumask(void **state) {
  (void)state;
  /* The kernel prints an empty mask as a bare newline. */
  struct found f;
  use_tree(&f, "perf/two-socket", true);
  pmu_write(&f, "cpumask", "\n");
  assert_int_equal(discover(&f), -1);
  assert_int_equal(n_calls, 0);
  assert_contains(f.why, "/bus/event_source/devices/power/cpumask is empty");
  assert_lacks(f.why, "cannot read");
  release(&f);
}

static void discovery_cpumask_names_offline_cpu(void **state) {
  (void)state;
  /* CPU 9 is not online: the kernel is about to move the event */
  struct found f;
  use_tree(&f, "perf/two-socket", true);
  pmu_write(&f, "cpumask", "0,9\n");
  f.cfg.zone_mask = RAPL_ZONE_MASK(RAPL_ZONE_PACKAGE);
  assert_int_equal(discover(&f), 1);
  assert_non_null(find(&f, RAPL_ZONE_PACKAGE, "package-0"));
  assert_int_equal(n_calls, 1);
  assert_null(call_for(EV_PKG, 9));
  assert_true(f.set.n_skipped > 0); /* so the reader looks again */
  assert_int_equal(fixture_log_count("cpumask names CPU 9, which is not "
                                     "online"),
                   1);
  release(&f);
}

/* A malformed event file leaves that event out, says which file, and keeps
 * the others. */
static void expect_left_out(const char *file, const char *text,
                            const char *reason, uint64_t config) {
  struct found f;
  use_tree(&f, "perf/two-socket", true);
  if (text != NULL)
    pmu_write(&f, file, text);
  else
    pmu_remove(&f, file);
  assert_int_equal(discover(&f), 9 - (config == EV_PSYS ? 1 : 2));
  assert_null(call_for(config, 0));
  assert_null(call_for(config, 4));
  assert_non_null(call_for(config == EV_PKG ? EV_RAM : EV_PKG, 0));
  char needle[256];
  snprintf(needle, sizeof(needle), "/power/%s: %s; the event is left out", file,
           reason);
  if (fixture_log_count(needle) != 1)
    fail_msg("want one \"%s\" in:\n%s", needle, fixture_logs());
  /* logged once: the next scan of the same tree says nothing new */
  struct rapl_zone_set again = {0};
  assert_true(B->open(&f.cfg, &again, f.why, sizeof(f.why)) > 0);
  rapl_zone_set_clear(&again, B->close);
  assert_int_equal(fixture_log_count(needle), 1);
  release(&f);
}

static void discovery_bad_event_files(void **state) {
  (void)state;
  expect_left_out("events/energy-pkg.scale", "abc\n", "not a positive decimal",
                  EV_PKG);
  expect_left_out("events/energy-ram.scale", "0\n", "not a positive decimal",
                  EV_RAM);
  expect_left_out("events/energy-cores.scale", "2,5e-10\n",
                  "not a positive decimal", EV_CORES);
  expect_left_out("events/energy-pkg.unit", "Watts\n", "not \"Joules\"",
                  EV_PKG);
  expect_left_out("events/energy-psys.unit", "joules\n", "not \"Joules\"",
                  EV_PSYS);
  expect_left_out("events/energy-gpu.unit", NULL, strerror(ENOENT), EV_GPU);
  expect_left_out("events/energy-ram.scale", NULL, strerror(ENOENT), EV_RAM);
  expect_left_out("events/energy-pkg", "event=0x02,umask=0x1\n",
                  "not \"event=0x<hex>\"", EV_PKG);
  expect_left_out("events/energy-cores", "event=1\n", "not \"event=0x<hex>\"",
                  EV_CORES);
}

static void discovery_open_fails_on_one_cpu(void **state) {
  (void)state;
  struct found f;
  use_tree(&f, "perf/two-socket", false);
  f.cfg.zone_mask = RAPL_ZONE_MASK(RAPL_ZONE_PACKAGE);
  fake_reset();
  fixture_logs_reset();
  refuse_errno = ENODEV;
  refuse_cpu = 4;
  f.n = B->open(&f.cfg, &f.set, f.why, sizeof(f.why));
  assert_int_equal(f.n, 1);
  assert_non_null(find(&f, RAPL_ZONE_PACKAGE, "package-0"));
  assert_null(find(&f, RAPL_ZONE_PACKAGE, "package-1"));
  assert_int_equal(f.set.n_skipped, 1);
  const char *want = "perf: package-1/package: perf_event_open of "
                     "power/energy-pkg/ (type 23, config 0x2) on CPU 4 "
                     "failed: ";
  assert_int_equal(fixture_log_count(want), 1);
  assert_contains(fixture_logs(), strerror(ENODEV));
  release(&f);

  /* every zone left out is logged with its own event, and once: the
   * package's line is not repeated by this second scan */
  use_tree(&f, "perf/two-socket", false);
  fake_reset();
  refuse_errno = ENODEV;
  refuse_cpu = 4;
  f.n = B->open(&f.cfg, &f.set, f.why, sizeof(f.why));
  assert_int_equal(f.n, 5); /* package-0's four and platform */
  assert_int_equal(f.set.n_skipped, 4);
  static const char *const lines[] = {
      "perf: package-1/package: perf_event_open of power/energy-pkg/ (type "
      "23, config 0x2) on CPU 4 failed: ",
      "perf: package-1/core: perf_event_open of power/energy-cores/ (type 23, "
      "config 0x1) on CPU 4 failed: ",
      "perf: package-1/uncore: perf_event_open of power/energy-gpu/ (type 23, "
      "config 0x4) on CPU 4 failed: ",
      "perf: package-1/dram: perf_event_open of power/energy-ram/ (type 23, "
      "config 0x3) on CPU 4 failed: ",
  };
  for (size_t i = 0; i < 4; i++)
    if (fixture_log_count(lines[i]) != 1)
      fail_msg("want one \"%s\" in:\n%s", lines[i], fixture_logs());
  release(&f);
}

/* Refused half-way: nothing is kept, no descriptor leaks, the reason is the
 * refusal's. */
static void discovery_refused(void **state) {
  (void)state;
  struct found f;
  use_tree(&f, "perf/two-socket", false);
  fake_reset();
  fixture_logs_reset();
  refuse_errno = EACCES;
  refuse_cpu = 4;
  f.n = B->open(&f.cfg, &f.set, f.why, sizeof(f.why));
  assert_int_equal(f.n, -1);
  assert_int_equal(f.set.n, 0);
  assert_true(n_calls >= 2);
  assert_non_null(call_for(EV_PKG, 0));
  assert_all_closed();
  assert_contains(f.why, "perf_event_open refused power/energy-pkg/ on CPU 4");
  assert_contains(f.why, "/proc/sys/kernel/perf_event_paranoid");
  /* a refusal is the backend's answer, not a zone's fault to log */
  assert_int_equal(fixture_log_count("left out"), 0);
  release(&f);

  /* refused after another event failed otherwise: still refused */
  use_tree(&f, "perf/two-socket", false);
  fake_reset();
  enodev_config = EV_CORES;
  refuse_errno = EACCES;
  refuse_cpu = 4;
  f.n = B->open(&f.cfg, &f.set, f.why, sizeof(f.why));
  assert_int_equal(f.n, -1);
  assert_int_equal(f.set.n, 0);
  assert_all_closed();
  assert_contains(f.why, "perf_event_open refused power/energy-pkg/ on CPU 4");
  release(&f);

  enodev_config = EV_PKG; /* the first event fails ENODEV on both CPUs */
  use_tree(&f, "perf/two-socket", false);
  n_calls = 0;
  f.n = B->open(&f.cfg, &f.set, f.why, sizeof(f.why));
  assert_int_equal(f.n, -1);
  assert_int_equal(f.set.n, 0);
  assert_all_closed();
  assert_contains(f.why,
                  "perf_event_open refused power/energy-cores/ on CPU 4");
  release(&f);
}

/* ------------------------------------------------------------- selection */

struct reg {
  uint64_t index, value;
};

/* Sparse MSR device files for the fixture's eight CPUs, as t/test_msr.c
 * makes them: each register's value at offset = its index. */
static void make_msr_devs(const char *dir) {
  static const struct reg regs[] = {
      {0x606, UINT64_C(0x000A0E03)}, /* ESU 14 */
      {0x611, UINT64_C(0x1000)},
      {0x619, UINT64_C(0x200)},
      {0x639, UINT64_C(0x300)},
  };
  for (int cpu = 0; cpu < 8; cpu++) {
    char path[4200];
    snprintf(path, sizeof(path), "%s/dev/cpu/%d", dir, cpu);
    char cmd[4300];
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
    assert_int_equal(system(cmd), 0);
    strncat(path, "/msr", sizeof(path) - strlen(path) - 1);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
      assert_int_equal(pwrite(fd, &regs[i].value, 8, (off_t)regs[i].index), 8);
    close(fd);
  }
}

static void use_msr(struct found *f) {
  make_msr_devs(f->root);
  f->cfg.msr_enabled = true;
  snprintf(f->cfg.msr_device_path, sizeof(f->cfg.msr_device_path),
           "%s/dev/cpu/%%d/msr", f->root);
}

static void need_rawio(void) {
  char err[256];
  if (rapl_cap_effective(RAPL_CAP_SYS_RAWIO, err, sizeof(err)) != 1) {
    print_message("skipped: the MSR fallback needs CAP_SYS_RAWIO, which this "
                  "process lacks\n");
    skip();
  }
}

static const struct rapl_backend *select_in(struct found *f) {
  fake_reset();
  fixture_logs_reset();
  f->why[0] = '\0';
  return rapl_select_backend(&f->cfg, &f->set, f->why, sizeof(f->why));
}

/* Selects again, keeping what the fake refuses. */
static const struct rapl_backend *reselect(struct found *f) {
  n_calls = 0;
  f->why[0] = '\0';
  return rapl_select_backend(&f->cfg, &f->set, f->why, sizeof(f->why));
}

static void select_perf_without_powercap(void **state) {
  (void)state;
  struct found f;
  use_tree(&f, "perf/two-socket", false);
  assert_ptr_equal(select_in(&f), &rapl_backend_perf);
  assert_int_equal(f.set.n, 9);
  assert_int_equal(n_calls, 9);
  assert_non_null(find(&f, RAPL_ZONE_PSYS, "platform"));
  rapl_zone_set_clear(&f.set, B->close);
  assert_all_closed();
  release(&f);
}

static void select_refused_falls_to_msr(void **state) {
  (void)state;
  need_rawio();
  struct found f;
  use_tree(&f, "perf/two-socket", true);
  use_msr(&f);
  fake_reset();
  refuse_errno = EACCES;
  const struct rapl_backend *b = reselect(&f);
  assert_ptr_equal(b, &rapl_backend_msr);
  assert_true(n_calls >= 1); /* perf was tried first */
  assert_non_null(find(&f, RAPL_ZONE_PACKAGE, "package-0"));
  assert_non_null(find(&f, RAPL_ZONE_PACKAGE, "package-1"));
  rapl_zone_set_clear(&f.set, rapl_backend_msr.close);
  assert_all_closed();

  /* MSREnabled false: nothing reads, and the reason is the refusal */
  f.cfg.msr_enabled = false;
  assert_null(reselect(&f));
  assert_int_equal(f.set.n, 0);
  assert_contains(f.why, "powercap is unavailable: no powercap directory");
  assert_contains(f.why, "perf is unavailable: perf_event_open refused "
                         "power/energy-pkg/ on CPU 0");
  assert_contains(f.why, "/proc/sys/kernel/perf_event_paranoid");
  assert_contains(f.why, "msr is disabled (MSREnabled is false)");
  release(&f);
}

static void select_perf_disabled(void **state) {
  (void)state;
  struct found f;
  use_tree(&f, "perf/two-socket", true);
  f.cfg.perf_enabled = false;
  assert_null(select_in(&f));
  assert_int_equal(n_calls, 0); /* not even tried */
  assert_contains(f.why, "perf is disabled (PerfEnabled is false)");
  assert_contains(f.why, "msr is disabled (MSREnabled is false)");
  assert_lacks(f.why, "perf is unavailable");

  char err[256];
  if (rapl_cap_effective(RAPL_CAP_SYS_RAWIO, err, sizeof(err)) == 1) {
    use_msr(&f);
    assert_ptr_equal(reselect(&f), &rapl_backend_msr);
    assert_int_equal(n_calls, 0);
    rapl_zone_set_clear(&f.set, rapl_backend_msr.close);
  } else
    print_message("not tested without CAP_SYS_RAWIO: PerfEnabled false with "
                  "the MSRs enabled\n");
  release(&f);
}

static void select_msr_force(void **state) {
  (void)state;
  need_rawio();
  struct found f;
  use_tree(&f, "perf/two-socket", true);
  use_msr(&f);
  f.cfg.msr_force = true;
  /* perf would read here; MSRForce still means the MSRs only */
  assert_ptr_equal(select_in(&f), &rapl_backend_msr);
  assert_int_equal(n_calls, 0);
  rapl_zone_set_clear(&f.set, rapl_backend_msr.close);

  /* and when the MSRs cannot read, perf is not the way out */
  char dev[4200];
  snprintf(dev, sizeof(dev), "rm -rf '%s/dev'", f.root);
  assert_int_equal(system(dev), 0);
  assert_null(reselect(&f));
  assert_int_equal(n_calls, 0);
  assert_contains(f.why, "MSRForce is set but the msr backend cannot read");
  release(&f);
}

/* In a child whose effective set lacks CAP_SYS_ADMIN and CAP_PERFMON, with
 * perf_event_paranoid 2: selection's reason names both missing grants. */
static int select_in_child(void *ud, int fd) {
  struct found *f = ud;
  fake_reset();
  refuse_errno = EACCES;
  const struct rapl_backend *b =
      rapl_select_backend(&f->cfg, &f->set, f->why, sizeof(f->why));
  if (write(fd, f->why, strlen(f->why)) < 0)
    return 4;
  return b == NULL ? 0 : 5;
}

static void select_refused_unprivileged(void **state) {
  (void)state;
  static const int caps[] = {RAPL_CAP_SYS_ADMIN, RAPL_CAP_PERFMON};
  struct found f;
  char got[RAPL_MSG_MAX * 2];
  use_tree(&f, "perf/two-socket", false);
  assert_int_equal(
      fixture_without_caps(caps, 2, select_in_child, &f, got, sizeof(got)), 0);
  assert_contains(got, "perf is unavailable: perf_event_open refused "
                       "power/energy-pkg/ on CPU 0");
  assert_contains(got, "/proc/sys/kernel/perf_event_paranoid at most 0 (it "
                       "is 2)");
  assert_contains(got, "CAP_PERFMON");
  assert_contains(got, "CAP_SYS_ADMIN");
  assert_contains(got, "this process has neither capability");
  assert_lacks(got, "security module");
  release(&f);
}

/* ----------------------------- the perf driver's DRAM unit, transcribed */

/* t/data/kernel-perf-rapl-models.txt: "struct" rows give each struct
 * rapl_model's unit quirk, "match" rows the models pointing at it. The
 * backend's quirk table must list exactly the models whose struct has the
 * HSW quirk, under the kernel's names; the correction is 15.3 uJ / 2^-16 J
 * where the powercap driver also has the fixed unit, and none elsewhere. */
static void dram_quirk_matches_the_kernel(void **state) {
  (void)state;
  const char *top = getenv("abs_top_srcdir");
  char path[1024], line[512];
  char quirk_struct[16][32];
  size_t n_quirk = 0, n_match = 0, n_hsw = 0;
  snprintf(path, sizeof(path), "%s/t/data/kernel-perf-rapl-models.txt",
           top && *top ? top : ".");
  FILE *f = fopen(path, "r");
  if (f == NULL)
    fail_msg("cannot open %s", path);
  for (int ln = 1; fgets(line, sizeof(line), f); ln++) {
    char *hash = strchr(line, '#');
    if (hash)
      *hash = '\0';
    char *tok[8];
    int n = 0;
    for (char *save, *t = strtok_r(line, " \t\n", &save); t && n < 8;
         t = strtok_r(NULL, " \t\n", &save))
      tok[n++] = t;
    if (n == 0)
      continue;
    if (strcmp(tok[0], "struct") == 0 && n == 3) {
      if (strcmp(tok[2], "hsw") == 0) {
        assert_true(n_quirk < 16);
        snprintf(quirk_struct[n_quirk++], sizeof(quirk_struct[0]), "%s",
                 tok[1]);
      }
      continue;
    }
    if (strcmp(tok[0], "match") != 0 || n != 6)
      fail_msg("%s:%d: not a struct or match row", path, ln);
    n_match++;
    bool hsw = false;
    for (size_t q = 0; q < n_quirk; q++)
      hsw |= strcmp(tok[5], quirk_struct[q]) == 0;
    struct rapl_cpu_model m = {.vendor = RAPL_VENDOR_INTEL,
                               .family = (unsigned)strtoul(tok[2], NULL, 0),
                               .model = (unsigned)strtoul(tok[3], NULL, 0)};
    const struct rapl_perf_quirk_row *row = NULL;
    for (size_t i = 0; i < rapl_perf_dram_quirk_models_len; i++)
      if (rapl_perf_dram_quirk_models[i].vfm == RAPL_IFM(m.family, m.model))
        row = &rapl_perf_dram_quirk_models[i];
    if (hsw != (row != NULL))
      fail_msg("%s:%d: %s (%s): the kernel %s the DRAM quirk, the backend "
               "%s",
               path, ln, tok[4], tok[5], hsw ? "applies" : "does not apply",
               row ? "lists it" : "does not");
    int quirk_only;
    double factor = rapl_perf_dram_factor(&m, &quirk_only);
    const struct rapl_model_row *pc = rapl_msr_model_find(&m);
    bool fixed = pc != NULL && pc->dram_j > 0;
    if (hsw) {
      n_hsw++;
      assert_string_equal(row->name, tok[4]);
      assert_string_equal(row->source, tok[5]);
      if (fixed)
        assert_true(fabs(factor - 15.3e-6 / ldexp(1.0, -16)) < 1e-12);
      else
        assert_true(factor == 1.0);
      assert_int_equal(quirk_only, !fixed);
    } else {
      assert_true(factor == 1.0);
      assert_int_equal(quirk_only, 0);
    }
  }
  fclose(f);
  assert_true(n_match >= 40);
  /* Every row of the backend's table came from a match row. */
  assert_int_equal(n_hsw, rapl_perf_dram_quirk_models_len);
  /* AMD: no quirk. */
  struct rapl_cpu_model amd = {
      .vendor = RAPL_VENDOR_AMD, .family = 0x19, .model = 0x01};
  int quirk_only;
  assert_true(rapl_perf_dram_factor(&amd, &quirk_only) == 1.0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(scale_kernel_strings),
      cmocka_unit_test(scale_under_decimal_comma_locale),
      cmocka_unit_test(scale_rejects),
      cmocka_unit_test(event_parse),
      cmocka_unit_test(dram_quirk_matches_the_kernel),
      cmocka_unit_test(refusal_no_grant),
      cmocka_unit_test(refusal_paranoid_unknown),
      cmocka_unit_test(refusal_security_module),
      cmocka_unit_test(refusal_with_a_capability),
      cmocka_unit_test_setup_teardown(discovery_two_socket, setup, teardown),
      cmocka_unit_test_setup_teardown(discovery_multi_die, setup, teardown),
      cmocka_unit_test_setup_teardown(discovery_zone_mask, setup, teardown),
      cmocka_unit_test_setup_teardown(discovery_no_pmu, setup, teardown),
      cmocka_unit_test_setup_teardown(discovery_bad_type, setup, teardown),
      cmocka_unit_test_setup_teardown(discovery_bad_cpumask, setup, teardown),
      cmocka_unit_test_setup_teardown(discovery_empty_cpumask, setup, teardown),
      cmocka_unit_test_setup_teardown(discovery_cpumask_names_offline_cpu,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(discovery_bad_event_files, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(discovery_open_fails_on_one_cpu, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(discovery_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(select_perf_without_powercap, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(select_refused_falls_to_msr, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(select_perf_disabled, setup, teardown),
      cmocka_unit_test_setup_teardown(select_msr_force, setup, teardown),
      cmocka_unit_test_setup_teardown(select_refused_unprivileged, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
