/* Zone discovery and reading on powercap trees laid out like the kernel's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "backend.h"
#include "fixture.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct found {
  struct rapl_zone_set set;
  char why[1024];
  int n;
};

static void discover_cfg(struct found *f, const struct rapl_config *cfg) {
  memset(f, 0, sizeof(*f));
  f->n = rapl_backend_powercap.probe(cfg, f->why, sizeof(f->why));
  if (f->n == 0)
    f->n = rapl_backend_powercap.open(cfg, &f->set, f->why, sizeof(f->why));
}

static void discover(struct found *f, const char *fixture) {
  struct rapl_config cfg;
  char root[4096];
  snprintf(root, sizeof(root), "%s", fixture_path(fixture));
  fixture_config(&cfg, root);
  discover_cfg(f, &cfg);
}

static void release(struct found *f) {
  rapl_zone_set_clear(&f->set, rapl_backend_powercap.close);
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

static uint64_t read_zone(const struct rapl_zone *z) {
  uint64_t raw = 0;
  assert_int_equal(rapl_backend_powercap.read(z, &raw), 0);
  return raw;
}

static void one_socket(void **state) {
  (void)state;
  struct found f;
  discover(&f, "powercap/one-socket");
  assert_int_equal(f.n, 4);
  const struct rapl_zone *pkg = find(&f, RAPL_ZONE_PACKAGE, "package-0");
  const struct rapl_zone *dram = find(&f, RAPL_ZONE_DRAM, "package-0");
  assert_non_null(pkg);
  assert_non_null(find(&f, RAPL_ZONE_CORE, "package-0"));
  assert_non_null(find(&f, RAPL_ZONE_UNCORE, "package-0"));
  assert_non_null(dram);
  assert_int_equal(pkg->range, 262143328850ULL);
  assert_int_equal(dram->range, 65712999613ULL); /* read, not computed */
  assert_true(pkg->joules_per_unit == 1e-6);
  assert_int_equal(pkg->n_counters, 1);
  assert_int_equal(read_zone(pkg), 1000000);
  assert_int_equal(read_zone(dram), 200000);
  assert_non_null(strstr(pkg->source, "intel-rapl:0/energy_uj"));
  /* Reading twice re-reads at offset 0. */
  assert_int_equal(read_zone(pkg), 1000000);
  release(&f);
}

static void two_sockets_and_psys(void **state) {
  (void)state;
  struct found f;
  discover(&f, "powercap/two-socket");
  assert_int_equal(f.n, 7);
  assert_int_equal(read_zone(find(&f, RAPL_ZONE_PACKAGE, "package-0")),
                   1000000);
  assert_int_equal(read_zone(find(&f, RAPL_ZONE_PACKAGE, "package-1")),
                   2000000);
  assert_int_equal(read_zone(find(&f, RAPL_ZONE_CORE, "package-1")), 600000);
  assert_int_equal(read_zone(find(&f, RAPL_ZONE_DRAM, "package-1")), 80000);
  assert_int_equal(read_zone(find(&f, RAPL_ZONE_PSYS, "platform")), 9000000);
  release(&f);
}

/* Each counter's range is logged once at discovery, one line per kind and
 * range. */
static void ranges_logged_once(void **state) {
  (void)state;
  struct found f;
  fixture_capture_logs();
  discover(&f, "powercap/one-socket"); /* a different scan before */
  release(&f);
  fixture_logs_reset();
  discover(&f, "powercap/two-socket");
  assert_int_equal(
      fixture_log_count("[6] powercap: package-0/dram, package-1/dram: energy "
                        "in uJ, wrapping at 65712999613 uJ "
                        "(max_energy_range_uj)\n"),
      1);
  assert_int_equal(fixture_log_count("[6] powercap: package-0/package, "
                                     "package-1/package: energy in uJ, "
                                     "wrapping at 262143328850 uJ"),
                   1);
  assert_int_equal(fixture_log_count("[6] powercap: platform/psys: energy in "
                                     "uJ, wrapping at 262143328850 uJ"),
                   1);
  assert_int_equal(fixture_log_count("[6] powercap: "), 4);
  release(&f);
  fixture_logs_reset();
  discover(&f, "powercap/two-socket");
  assert_string_equal(fixture_logs(), "");
  release(&f);
}

static void multi_die(void **state) {
  (void)state;
  struct found f;
  discover(&f, "powercap/multi-die");
  assert_int_equal(f.n, 4);
  assert_int_equal(read_zone(find(&f, RAPL_ZONE_PACKAGE, "package-0-die-0")),
                   1000);
  assert_int_equal(read_zone(find(&f, RAPL_ZONE_PACKAGE, "package-0-die-1")),
                   2000);
  assert_int_equal(read_zone(find(&f, RAPL_ZONE_DRAM, "package-0-die-1")), 200);
  release(&f);
}

static void hex_zone_ids(void **state) {
  (void)state;
  struct found f;
  discover(&f, "powercap/hex-ids");
  assert_int_equal(f.n, 13);
  for (int i = 0; i < 12; i++) {
    char instance[32];
    snprintf(instance, sizeof(instance), "package-%d", i);
    const struct rapl_zone *z = find(&f, RAPL_ZONE_PACKAGE, instance);
    assert_non_null(z);
    /* Each package's counter is its own, whatever the directory order. */
    assert_int_equal(read_zone(z), (uint64_t)i * 1000);
  }
  const struct rapl_zone *dram = find(&f, RAPL_ZONE_DRAM, "package-10");
  assert_non_null(dram);
  assert_non_null(strstr(dram->source, "intel-rapl:a:0/energy_uj"));
  assert_int_equal(read_zone(dram), 123);
  release(&f);
}

static void mmio_duplicate_counted_once(void **state) {
  (void)state;
  struct found f;
  discover(&f, "powercap/mmio-duplicate");
  assert_int_equal(f.n, 2);
  const struct rapl_zone *pkg = find(&f, RAPL_ZONE_PACKAGE, "package-0");
  assert_non_null(pkg);
  assert_null(strstr(pkg->source, "intel-rapl-mmio:"));
  assert_int_equal(read_zone(pkg), 1000);
  release(&f);
}

static void mmio_alone_is_reported(void **state) {
  (void)state;
  struct found f;
  discover(&f, "powercap/mmio-only");
  assert_int_equal(f.n, 1);
  const struct rapl_zone *pkg = find(&f, RAPL_ZONE_PACKAGE, "package-0");
  assert_non_null(strstr(pkg->source, "intel-rapl-mmio:0/energy_uj"));
  assert_int_equal(read_zone(pkg), 1005);
  release(&f);
}

static void enabled_0_is_still_measured(void **state) {
  (void)state;
  struct found f;
  discover(&f, "powercap/enabled-0");
  assert_int_equal(f.n, 2);
  assert_int_equal(read_zone(find(&f, RAPL_ZONE_PACKAGE, "package-0")), 777);
  assert_int_equal(read_zone(find(&f, RAPL_ZONE_DRAM, "package-0")), 111);
  release(&f);
}

static void psys_zones_are_platform(void **state) {
  (void)state;
  struct found f;
  discover(&f, "powercap/psys-only");
  assert_int_equal(f.n, 2);
  assert_int_equal(read_zone(find(&f, RAPL_ZONE_PSYS, "platform")), 5000);
  assert_int_equal(read_zone(find(&f, RAPL_ZONE_PSYS, "platform-1")), 6000);
  release(&f);
}

/* On AMD the kernel's core zone is one core's counter; core means every core
 * of the package (Intel's PP0, the MSR backend's sum), so it is not reported
 * as core. The vendor comes from the tree's cpu modalias, else cpuinfo. */
static void amd_single_core_zone_is_not_core(void **state) {
  (void)state;
  struct found f;
  fixture_capture_logs();
  discover(&f, "powercap/amd-zen");
  assert_int_equal(f.n, 2);
  assert_int_equal(read_zone(find(&f, RAPL_ZONE_PACKAGE, "package-0")),
                   5500000);
  assert_int_equal(read_zone(find(&f, RAPL_ZONE_PACKAGE, "package-1")),
                   6600000);
  assert_null(find(&f, RAPL_ZONE_CORE, "package-0"));
  assert_null(find(&f, RAPL_ZONE_CORE, "package-1"));
  assert_int_equal(
      fixture_log_count("[5] powercap: package-0/core, package-1/core not "
                        "reported: on AMD the kernel's core zone counts one "
                        "core of the package, and core means all of them"),
      1);
  release(&f);

  /* without a modalias: cpuinfo under ProcfsPath says AMD */
  discover(&f, "powercap/amd-cpuinfo");
  assert_int_equal(f.n, 1);
  assert_null(find(&f, RAPL_ZONE_CORE, "package-0"));
  release(&f);

  /* only core asked for: the reason says why there is none */
  struct rapl_config cfg;
  char root[4096], err[256];
  const char *core[] = {"core"};
  snprintf(root, sizeof(root), "%s", fixture_path("powercap/amd-zen"));
  fixture_config(&cfg, root);
  assert_int_equal(rapl_config_set_zones(&cfg, core, 1, err, sizeof(err)), 0);
  discover_cfg(&f, &cfg);
  assert_int_equal(f.n, -1);
  assert_non_null(strstr(f.why, "package-0/core, package-1/core not reported: "
                                "on AMD"));

  /* Intel: the core zone is the package's cores */
  discover(&f, "powercap/intel-modalias");
  assert_int_equal(f.n, 2);
  assert_int_equal(read_zone(find(&f, RAPL_ZONE_CORE, "package-0")), 400000);
  release(&f);
}

static void missing_files_skip_the_zone(void **state) {
  (void)state;
  struct found f;
  fixture_capture_logs();
  discover(&f, "powercap/missing-files");
  /* package-1 lacks energy_uj, package-2 max_energy_range_uj, package-3
   * its name: only package-0 can be measured, and each file is named. */
  assert_int_equal(f.n, 1);
  assert_int_equal(read_zone(find(&f, RAPL_ZONE_PACKAGE, "package-0")), 1000);
  assert_int_equal(fixture_log_count("intel-rapl:1/energy_uj: No such file"),
                   1);
  assert_int_equal(
      fixture_log_count("intel-rapl:2/max_energy_range_uj: No such file"), 1);
  assert_int_equal(fixture_log_count("intel-rapl:3/name: No such file"), 1);
  release(&f);
  /* A second scan with the same problems says nothing new. */
  discover(&f, "powercap/missing-files");
  assert_int_equal(fixture_log_count("that zone is not reported"), 3);
  release(&f);
}

static void garbage_is_never_a_value(void **state) {
  (void)state;
  struct found f;
  uint64_t raw = 4242;
  fixture_capture_logs();
  discover(&f, "powercap/garbage");
  /* package-5 (range "garbage") and package-6 (range 0) cannot be counters;
   * "banana" is no zone name. */
  assert_null(find(&f, RAPL_ZONE_PACKAGE, "package-5"));
  assert_null(find(&f, RAPL_ZONE_PACKAGE, "package-6"));
  assert_non_null(strstr(fixture_logs(), "intel-rapl:5/max_energy_range_uj: "
                                         "not a decimal number"));
  assert_non_null(strstr(fixture_logs(), "intel-rapl:6/max_energy_range_uj: "
                                         "a range of 0"));
  assert_int_equal(f.n, 6);
  assert_int_equal(read_zone(find(&f, RAPL_ZONE_PACKAGE, "package-0")), 1000);
  /* "abc", "", "-5" and a number beyond 64 bits. */
  const char *bad[] = {"package-1", "package-2", "package-3", "package-4"};
  for (size_t i = 0; i < 4; i++) {
    const struct rapl_zone *z = find(&f, RAPL_ZONE_PACKAGE, bad[i]);
    assert_non_null(z);
    assert_int_equal(rapl_backend_powercap.read(z, &raw), -EBADMSG);
    assert_int_equal(raw, 4242);
  }
  /* Above the range is parsed; the reader refuses it (test_reader). */
  assert_int_equal(read_zone(find(&f, RAPL_ZONE_PACKAGE, "package-7")),
                   300000000000ULL);
  release(&f);
}

static void zone_filter(void **state) {
  (void)state;
  struct found f;
  struct rapl_config cfg;
  const char *names[] = {"PACKAGE", "Dram"};
  char err[256];
  char root[4096];
  snprintf(root, sizeof(root), "%s", fixture_path("powercap/two-socket"));
  fixture_config(&cfg, root);
  assert_int_equal(rapl_config_set_zones(&cfg, names, 2, err, sizeof(err)), 0);
  discover_cfg(&f, &cfg);
  assert_int_equal(f.n, 4);
  for (size_t i = 0; i < f.set.n; i++)
    assert_true(f.set.zones[i].kind == RAPL_ZONE_PACKAGE ||
                f.set.zones[i].kind == RAPL_ZONE_DRAM);
  release(&f);

  const char *uncore[] = {"uncore"};
  rapl_config_set_zones(&cfg, uncore, 1, err, sizeof(err));
  discover_cfg(&f, &cfg);
  assert_int_equal(f.n, -1);
  assert_non_null(strstr(f.why, "none of a kind the Zone option selects"));
}

static void no_powercap_directory(void **state) {
  (void)state;
  struct found f;
  discover(&f, "powercap/absent");
  assert_int_equal(f.n, -1);
  assert_non_null(strstr(f.why, "no powercap directory"));
  assert_non_null(strstr(f.why, "powercap/absent/sys/class/powercap"));
}

/* A reason cut to the caller's buffer says it was cut. */
static void cut_reason_ends_with_dots(void **state) {
  (void)state;
  struct rapl_config cfg;
  char root[4096], why[40];
  snprintf(root, sizeof(root), "%s", fixture_path("powercap/absent"));
  fixture_config(&cfg, root);
  assert_int_equal(rapl_backend_powercap.probe(&cfg, why, sizeof(why)), -1);
  assert_int_equal(strlen(why), sizeof(why) - 1);
  assert_string_equal(why + sizeof(why) - 4, "...");
  assert_true(strncmp(why, "no powercap directory ", 22) == 0);
}

static void no_zones(void **state) {
  (void)state;
  struct found f;
  discover(&f, "powercap/empty");
  assert_int_equal(f.n, -1);
  assert_non_null(strstr(f.why, "no RAPL zone"));
}

/* Discovery as an unprivileged user (root reads through any mode); returns
 * the number of zones, with the reason and the logs in why. */
static int discover_as_nobody(const char *root, char *why, size_t len) {
  int pipefd[2];
  assert_int_equal(pipe(pipefd), 0);
  pid_t pid = fork();
  if (pid == 0) {
    struct found f;
    struct rapl_config cfg;
    close(pipefd[0]);
    if (setgid(65534) != 0 || setuid(65534) != 0)
      _exit(99);
    fixture_capture_logs();
    fixture_config(&cfg, root);
    discover_cfg(&f, &cfg);
    dprintf(pipefd[1], "%s\n%s", f.why, fixture_logs());
    _exit(f.n < 0 ? 0 : f.n);
  }
  close(pipefd[1]);
  ssize_t got = read(pipefd[0], why, len - 1);
  why[got > 0 ? got : 0] = '\0';
  int status = 0;
  waitpid(pid, &status, 0);
  close(pipefd[0]);
  assert_true(WIFEXITED(status));
  assert_int_not_equal(WEXITSTATUS(status), 99);
  return WEXITSTATUS(status);
}

static void chmod_energy(const char *root, const char *mode) {
  char cmd[4400];
  snprintf(cmd, sizeof(cmd),
           "find '%s'/sys/devices -name energy_uj -exec chmod %s {} +", root,
           mode);
  assert_int_equal(system(cmd), 0);
}

static void permission_denied_names_file_and_privilege(void **state) {
  (void)state;
  char *root = fixture_copy("powercap/one-socket");
  char why[8192];
  assert_int_equal(chmod(root, 0755), 0);

  /* Like Linux >= 5.10: every energy_uj 0400 root. */
  chmod_energy(root, "0400");
  assert_int_equal(discover_as_nobody(root, why, sizeof(why)), 0);
  assert_non_null(strstr(why, "permission denied opening"));
  assert_non_null(strstr(why, "/energy_uj"));
  assert_non_null(strstr(why, "CAP_DAC_READ_SEARCH"));

  /* One zone denied: the others are still measured, the denied one named. */
  chmod_energy(root, "0444");
  char pkg[4400];
  snprintf(pkg, sizeof(pkg),
           "%s/sys/devices/virtual/powercap/intel-rapl/intel-rapl:0/energy_uj",
           root);
  assert_int_equal(chmod(pkg, 0400), 0);
  assert_int_equal(discover_as_nobody(root, why, sizeof(why)), 3);
  assert_non_null(strstr(why, "intel-rapl:0/energy_uj"));
  assert_non_null(strstr(why, "that zone is not reported"));
  fixture_remove(root);
}

static void value_rewritten_in_place_is_seen(void **state) {
  (void)state;
  char *root = fixture_copy("powercap/one-socket");
  struct found f;
  struct rapl_config cfg;
  fixture_config(&cfg, root);
  discover_cfg(&f, &cfg);
  const struct rapl_zone *pkg = find(&f, RAPL_ZONE_PACKAGE, "package-0");
  assert_int_equal(read_zone(pkg), 1000000);
  fixture_write(
      root, "sys/devices/virtual/powercap/intel-rapl/intel-rapl:0/energy_uj",
      "98765432109\n");
  assert_int_equal(read_zone(pkg), 98765432109ULL);
  release(&f);
  fixture_remove(root);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(one_socket),
      cmocka_unit_test(two_sockets_and_psys),
      cmocka_unit_test(ranges_logged_once),
      cmocka_unit_test(multi_die),
      cmocka_unit_test(hex_zone_ids),
      cmocka_unit_test(mmio_duplicate_counted_once),
      cmocka_unit_test(mmio_alone_is_reported),
      cmocka_unit_test(enabled_0_is_still_measured),
      cmocka_unit_test(psys_zones_are_platform),
      cmocka_unit_test(amd_single_core_zone_is_not_core),
      cmocka_unit_test(missing_files_skip_the_zone),
      cmocka_unit_test(garbage_is_never_a_value),
      cmocka_unit_test(zone_filter),
      cmocka_unit_test(no_powercap_directory),
      cmocka_unit_test(no_zones),
      cmocka_unit_test(cut_reason_ends_with_dots),
      cmocka_unit_test(permission_denied_names_file_and_privilege),
      cmocka_unit_test(value_rewritten_in_place_is_seen),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
