/* The simulator's perf_event power PMU and the tests' perf_event_open seam
 * (t/perf_shim.c, t/perf_preload.c): the sysfs files as the kernel's
 * arch/x86/events/rapl.c writes them, counts that read like an event's
 * descriptor, and the errors the kernel gives. The perf backend's tests
 * stand on these. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "perf_shim.h"
#include "sim_harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PERF_TYPE 1000
#define EV_CORES 0x01
#define EV_PKG 0x02
#define EV_RAM 0x03
#define EV_PSYS 0x05
/* The PMU's fixed scale: one count is 2^-32 J. */
#define SCALE (1.0 / 4294967296.0)
#define UNIT_J (1.0 / 16384) /* the spec's esu 14 */
#define DRAM_UNIT_J 15.3e-6

/* Within one counter unit: the events count whole hardware units. */
#define assert_near(got, want, tol)                                            \
  do {                                                                         \
    double got_ = (got), want_ = (want);                                       \
    if (fabs(got_ - want_) > (tol))                                            \
      fail_msg("%s = %.9f, want %.9f within %g", #got, got_, want_,            \
               (double)(tol));                                                 \
  } while (0)

static const char *dir_of(const char *var) {
  const char *d = getenv(var);
  return d && *d ? d : ".";
}

static char *slurp(const struct sim *s, const char *rel) {
  static char buf[4096];
  char path[1024];
  snprintf(path, sizeof(path), "%s/%s", s->mnt, rel);
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return NULL;
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  buf[n < 0 ? 0 : n] = '\0';
  return buf;
}

static void expect_text(const struct sim *s, const char *rel,
                        const char *text) {
  const char *got = slurp(s, rel);
  if (got == NULL)
    fail_msg("%s: %s", rel, strerror(errno));
  assert_string_equal(got, text);
}

static bool exists(const struct sim *s, const char *rel) {
  char path[1024];
  snprintf(path, sizeof(path), "%s/%s", s->mnt, rel);
  return access(path, F_OK) == 0;
}

static struct perf_event_attr attr_of(uint32_t type, uint64_t config) {
  struct perf_event_attr a;
  memset(&a, 0, sizeof(a));
  a.size = sizeof(a);
  a.type = type;
  a.config = config;
  return a;
}

static int open_event(const struct sim *s, uint64_t config, int cpu) {
  struct perf_event_attr a = attr_of(PERF_TYPE, config);
  return sim_perf_event_open(s->mnt, &a, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

/* The errno of a failed open; 0 when it opened. */
static int open_errno(const struct sim *s, const struct perf_event_attr *a,
                      pid_t pid, int cpu, int group_fd) {
  int fd = sim_perf_event_open(s->mnt, a, pid, cpu, group_fd, 0);
  if (fd >= 0) {
    close(fd);
    return 0;
  }
  return errno;
}

static uint64_t count_of(int fd) {
  unsigned char b[8];
  ssize_t n = read(fd, b, sizeof(b));
  if (n != 8)
    fail_msg("read of a count: %zd (%s)", n, strerror(errno));
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = v << 8 | b[i];
  return v;
}

/* The events/ directory, sorted, one name a line. */
static void list_events(const struct sim *s, char *out, size_t len) {
  char path[1024];
  struct dirent **names;
  snprintf(path, sizeof(path), "%s/sys/devices/power/events", s->mnt);
  int n = scandir(path, &names, NULL, alphasort);
  assert_true(n >= 0);
  out[0] = '\0';
  for (int i = 0; i < n; i++) {
    if (names[i]->d_name[0] != '.') {
      strncat(out, names[i]->d_name, len - strlen(out) - 1);
      strncat(out, "\n", len - strlen(out) - 1);
    }
    free(names[i]);
  }
  free(names);
}

/* ---------------------------------------------------------------- tests */

static void sysfs_files_are_the_kernels(void **state) {
  (void)state;
  struct sim s;
  char events[1024], link[256], path[1024];
  sim_start(&s, sim_spec_file("two-socket-intel-perf.spec", ""));
  expect_text(&s, "sys/devices/power/type", "1000\n");
  expect_text(&s, "sys/devices/power/cpumask", "0,4\n");
  expect_text(&s, "sys/devices/power/format/event", "config:0-7\n");
  list_events(&s, events, sizeof(events));
  assert_string_equal(events, "energy-cores\nenergy-cores.scale\n"
                              "energy-cores.unit\nenergy-pkg\n"
                              "energy-pkg.scale\nenergy-pkg.unit\n"
                              "energy-psys\nenergy-psys.scale\n"
                              "energy-psys.unit\nenergy-ram\n"
                              "energy-ram.scale\nenergy-ram.unit\n");
  expect_text(&s, "sys/devices/power/events/energy-cores", "event=0x01\n");
  expect_text(&s, "sys/devices/power/events/energy-pkg", "event=0x02\n");
  expect_text(&s, "sys/devices/power/events/energy-ram", "event=0x03\n");
  expect_text(&s, "sys/devices/power/events/energy-psys", "event=0x05\n");
  expect_text(&s, "sys/devices/power/events/energy-pkg.scale",
              "2.3283064365386962890625e-10\n");
  expect_text(&s, "sys/devices/power/events/energy-ram.unit", "Joules\n");
  snprintf(path, sizeof(path), "%s/sys/bus/event_source/devices/power", s.mnt);
  ssize_t n = readlink(path, link, sizeof(link) - 1);
  assert_true(n > 0);
  link[n] = '\0';
  assert_string_equal(link, "../../../devices/power");
  expect_text(&s, "sys/bus/event_source/devices/power/type", "1000\n");
  expect_text(&s, "proc/sys/kernel/perf_event_paranoid", "2\n");
  assert_true(exists(&s, "perf/cpu7/energy-psys"));
  assert_false(exists(&s, "sys/class/powercap")); /* powercap off */

  /* hiding the PMU hides it by the bus too */
  sim_ctl(&s, "hide sys/devices/power");
  assert_false(exists(&s, "sys/bus/event_source/devices/power/type"));
  struct perf_event_attr a = attr_of(PERF_TYPE, EV_PKG);
  assert_int_equal(open_errno(&s, &a, -1, 0, -1), ENOENT);
  sim_ctl(&s, "show sys/devices/power");
  assert_int_equal(open_errno(&s, &a, -1, 0, -1), 0);
  sim_stop(&s);
}

static void amd_and_no_perf(void **state) {
  (void)state;
  struct sim s;
  char events[1024];
  sim_start(&s, sim_spec_file("amd-zen.spec", "perf type 12\nparanoid -1\n"));
  list_events(&s, events, sizeof(events));
  assert_string_equal(events,
                      "energy-pkg\nenergy-pkg.scale\nenergy-pkg.unit\n");
  expect_text(&s, "sys/devices/power/type", "12\n");
  expect_text(&s, "sys/devices/power/cpumask", "0\n");
  expect_text(&s, "proc/sys/kernel/perf_event_paranoid", "-1\n");
  sim_stop(&s);

  /* without "perf" none of it exists; the sysctl does */
  sim_start(&s, sim_spec_file("two-socket-intel.spec", ""));
  assert_false(exists(&s, "sys/devices/power"));
  assert_false(exists(&s, "sys/bus"));
  assert_false(exists(&s, "perf"));
  expect_text(&s, "proc/sys/kernel/perf_event_paranoid", "2\n");
  struct perf_event_attr a = attr_of(PERF_TYPE, EV_PKG);
  assert_int_equal(open_errno(&s, &a, -1, 0, -1), ENOENT);
  sim_stop(&s);
}

static void cpumask_follows_hotplug(void **state) {
  (void)state;
  struct sim s;
  sim_start(&s, sim_spec_file("two-socket-intel-both.spec", ""));
  expect_text(&s, "sys/devices/power/cpumask", "0,4\n");
  sim_ctl(&s, "offline 0");
  sim_ctl(&s, "offline 4");
  expect_text(&s, "sys/devices/power/cpumask", "1,5\n");
  expect_text(&s, "sys/devices/system/cpu/online", "1-3,5-7\n");
  expect_text(&s, "sys/devices/system/cpu/offline", "0,4\n");
  expect_text(&s, "sys/devices/system/cpu/cpu4/online", "0\n");
  assert_false(exists(&s, "perf/cpu4"));
  assert_false(exists(&s, "dev/cpu/4/msr"));
  assert_true(strstr(slurp(&s, "proc/cpuinfo"), "processor\t: 4\n") == NULL);
  for (int cpu = 5; cpu < 8; cpu++)
    sim_ctl(&s, "offline %d", cpu);
  expect_text(&s, "sys/devices/power/cpumask", "1\n");
  sim_ctl(&s, "online 6");
  sim_ctl(&s, "online 0");
  expect_text(&s, "sys/devices/power/cpumask", "0,6\n");
  expect_text(&s, "sys/devices/system/cpu/cpu6/online", "1\n");
  assert_true(exists(&s, "perf/cpu6/energy-pkg"));
  assert_true(exists(&s, "dev/cpu/6/msr"));
  sim_stop(&s);

  /* multi-die: one cpu per (package, die) */
  sim_start(&s, "cpu 0 package 0 die 0\ncpu 1 package 0 die 1\n"
                "cpu 2 package 0 die 1\ncpu 3 package 1 die 0\n"
                "zone package package 0 die 0 watts 1\n"
                "zone package package 0 die 1 watts 2\n"
                "zone package package 1 watts 3\nperf\n");
  expect_text(&s, "sys/devices/power/cpumask", "0-1,3\n");
  sim_ctl(&s, "offline 1");
  expect_text(&s, "sys/devices/power/cpumask", "0,2-3\n");
  sim_stop(&s);
}

static void counts_advance_at_the_simulated_watts(void **state) {
  (void)state;
  struct sim s;
  sim_start(&s, sim_spec_file("two-socket-intel-perf.spec", ""));
  int pkg1 = open_event(&s, EV_PKG, 4);
  assert_true(pkg1 >= 0);
  assert_true(fcntl(pkg1, F_GETFD) & FD_CLOEXEC);
  int ram0 = open_event(&s, EV_RAM, 1);
  int psys0 = open_event(&s, EV_PSYS, 3), psys1 = open_event(&s, EV_PSYS, 7);
  int cores0 = open_event(&s, EV_CORES, 2);
  assert_true(ram0 >= 0 && psys0 >= 0 && psys1 >= 0 && cores0 >= 0);
  /* counting starts at the open; the clock stands still */
  assert_int_equal(count_of(pkg1), 0);

  sim_advance_ms(&s, 1000);
  uint64_t c1 = count_of(pkg1);
  assert_near(c1 * SCALE, 61.25, UNIT_J);
  /* The kernel's RAPL_UNIT_QUIRK_INTEL_HSW on this model (0x55): each
   * 15.3 uJ DRAM unit counts as 2^-16 J, 0.27% low. */
  assert_near(count_of(ram0) * SCALE, 7.5 * ldexp(1.0, -16) / DRAM_UNIT_J,
              ldexp(1.0, -16));
  assert_near(count_of(psys0) * SCALE, 120, UNIT_J);
  assert_int_equal(count_of(psys1), 0); /* psys is package 0's */
  assert_near(count_of(cores0) * SCALE, 20, UNIT_J);
  /* reads on one descriptor move its offset and stay fresh */
  sim_advance_ms(&s, 2000);
  uint64_t c2 = count_of(pkg1);
  assert_near((c2 - c1) * SCALE, 122.5, UNIT_J);
  assert_int_equal(lseek(pkg1, 0, SEEK_CUR), 24);
  for (int i = 0; i < 100; i++)
    assert_int_equal(count_of(pkg1), c2);
  uint64_t v;
  assert_int_equal(pread(pkg1, &v, 8, (off_t)1 << 40), 8);
  assert_int_equal(v, c2);
  /* perf_read: a buffer shorter than the count */
  assert_int_equal(read(pkg1, &v, 4), -1);
  assert_int_equal(errno, ENOSPC);
  /* the count is the kernel's: raw64 << (32 - esu), no 32-bit wrap */
  assert_int_equal(c2 % (UINT64_C(1) << 18), 0);

  /* a new open counts from zero */
  int again = open_event(&s, EV_PKG, 5);
  assert_true(again >= 0);
  assert_int_equal(count_of(again), 0);
  sim_ctl(&s, "watts package:1 10");
  sim_advance_ms(&s, 500);
  assert_near(count_of(again) * SCALE, 5, UNIT_J);
  assert_near(count_of(pkg1) * SCALE, 61.25 * 3 + 5, UNIT_J);
  sim_ctl(&s, "jump package:1 100");
  assert_near(count_of(again) * SCALE, 105, UNIT_J);

  /* the generic faults */
  sim_ctl(&s, "fail perf/cpu4/energy-pkg 5");
  assert_int_equal(read(pkg1, &v, 8), -1);
  assert_int_equal(errno, EIO);
  sim_ctl(&s, "unfail perf/cpu4/energy-pkg");
  assert_int_equal(read(pkg1, &v, 8), 8);
  sim_ctl(&s, "deny perf/cpu0/energy-pkg");
  struct perf_event_attr a = attr_of(PERF_TYPE, EV_PKG);
  assert_int_equal(open_errno(&s, &a, -1, 0, -1), EACCES);
  sim_ctl(&s, "allow perf/cpu0/energy-pkg");
  assert_int_equal(open_errno(&s, &a, -1, 0, -1), 0);
  int fds[] = {pkg1, ram0, psys0, psys1, cores0, again};
  for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
    close(fds[i]);
  sim_stop(&s);
}

static void offline_kills_descriptors(void **state) {
  (void)state;
  struct sim s;
  uint64_t v;
  sim_start(&s, sim_spec_file("two-socket-intel-perf.spec", ""));
  int fd = open_event(&s, EV_PKG, 5);
  assert_true(fd >= 0);
  sim_ctl(&s, "offline 5");
  assert_int_equal(read(fd, &v, 8), -1);
  assert_int_equal(errno, ENODEV);
  struct perf_event_attr a = attr_of(PERF_TYPE, EV_PKG);
  assert_int_equal(open_errno(&s, &a, -1, 5, -1), ENODEV);
  sim_ctl(&s, "online 5");
  assert_int_equal(read(fd, &v, 8), -1);
  assert_int_equal(errno, ENODEV);
  close(fd);
  fd = open_event(&s, EV_PKG, 5);
  assert_true(fd >= 0);
  assert_int_equal(count_of(fd), 0);
  close(fd);
  assert_int_equal(open_errno(&s, &a, -1, 64, -1), ENODEV); /* no cpu 64 */
  sim_stop(&s);
}

/* In a child without CAP_SYS_ADMIN and CAP_PERFMON in its effective set:
 * 0 when the open failed with want (0: opened), else 1. */
static int unprivileged_open(const struct sim *s, int want) {
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &hdr, data) != 0)
      _exit(2);
    data[0].effective &= ~(UINT32_C(1) << 21);        /* CAP_SYS_ADMIN */
    data[1].effective &= ~(UINT32_C(1) << (38 - 32)); /* CAP_PERFMON */
    if (syscall(SYS_capset, &hdr, data) != 0)
      _exit(3);
    struct perf_event_attr a = attr_of(PERF_TYPE, EV_PKG);
    _exit(open_errno(s, &a, -1, 0, -1) == want ? 0 : 1);
  }
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  return WEXITSTATUS(status);
}

static void open_errors_are_the_kernels(void **state) {
  (void)state;
  struct sim s;
  sim_start(&s, sim_spec_file("two-socket-intel-perf.spec", ""));
  struct perf_event_attr a = attr_of(PERF_TYPE, EV_PKG);
  assert_int_equal(open_errno(&s, &a, -1, 0, -1), 0);
  assert_int_equal(open_errno(&s, &a, -1, -1, -1), EINVAL);      /* no cpu */
  assert_int_equal(open_errno(&s, &a, getpid(), 0, -1), EINVAL); /* a task */
  assert_int_equal(open_errno(&s, &a, -1, 0, 0), EINVAL);        /* a group */
  a = attr_of(PERF_TYPE + 1, EV_PKG);
  assert_int_equal(open_errno(&s, &a, -1, 0, -1), ENOENT);
  a = attr_of(PERF_TYPE, 0x04); /* energy-gpu: no uncore zone here */
  assert_int_equal(open_errno(&s, &a, -1, 0, -1), EINVAL);
  a = attr_of(PERF_TYPE, 0x100 | EV_PKG); /* beyond config:0-7 */
  assert_int_equal(open_errno(&s, &a, -1, 0, -1), EINVAL);
  a = attr_of(PERF_TYPE, EV_PKG);
  a.size = 0;
  assert_int_equal(open_errno(&s, &a, -1, 0, -1), EINVAL);
  a.size = sizeof(a) + 8;
  assert_int_equal(open_errno(&s, &a, -1, 0, -1), E2BIG);
  assert_int_equal(sim_perf_event_open(NULL, &a, -1, 0, -1, 0), -1);
  assert_int_equal(errno, E2BIG);

  /* privilege: perf_event_paranoid > 0 wants CAP_PERFMON or CAP_SYS_ADMIN */
  assert_int_equal(unprivileged_open(&s, EACCES), 0);
  sim_ctl(&s, "paranoid 0");
  expect_text(&s, "proc/sys/kernel/perf_event_paranoid", "0\n");
  assert_int_equal(unprivileged_open(&s, 0), 0);
  sim_ctl(&s, "paranoid 1");
  assert_int_equal(unprivileged_open(&s, EACCES), 0);
  sim_stop(&s);
}

/* The LD_PRELOAD shim, as the end-to-end tests use it with collectd. */
static void preload_maps_the_syscall(void **state) {
  (void)state;
  struct sim s;
  char cmd[4096], out[256];
  sim_start(&s, sim_spec_file("two-socket-intel-perf.spec", ""));
  sim_open_cost_ns(&s, 500 * 1000 * 1000);
  const char *top = dir_of("abs_top_builddir");
  static const struct {
    const char *args, *want;
  } runs[] = {
      /* 45.5 W for the 0.5 s that the program's next open costs */
      {"1000 2 0", "count 97710505984 getpid ok\n"},
      {"1001 2 0", "errno 2\n"},
      {"1000 2 -1", "errno 22\n"},
  };
  for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
    snprintf(cmd, sizeof(cmd),
             "LD_PRELOAD='%s/t/.libs/libraplperf.so' RAPLSIM_PERF_ROOT='%s' "
             "'%s/t/perf_syscall' %s",
             top, s.mnt, top, runs[i].args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    assert_int_equal(pclose(p), 0);
    assert_string_equal(out, runs[i].want);
  }
  sim_stop(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(sysfs_files_are_the_kernels, sim_teardown),
      cmocka_unit_test_teardown(amd_and_no_perf, sim_teardown),
      cmocka_unit_test_teardown(cpumask_follows_hotplug, sim_teardown),
      cmocka_unit_test_teardown(counts_advance_at_the_simulated_watts,
                                sim_teardown),
      cmocka_unit_test_teardown(offline_kills_descriptors, sim_teardown),
      cmocka_unit_test_teardown(open_errors_are_the_kernels, sim_teardown),
      cmocka_unit_test_teardown(preload_maps_the_syscall, sim_teardown),
  };
  return sim_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
