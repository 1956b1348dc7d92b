/* A signal that interrupts a counter's pread is not a fault of the zone: both
 * backends read again instead of reporting the zone lost. pread is wrapped
 * (-Wl,--wrap=pread) so that the next reads fail with EINTR on demand. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "backend.h"
#include "fixture.h"
#include "rapl_config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int eintr_left; /* preads still to fail with EINTR */
static int n_pread;

ssize_t __real_pread(int fd, void *buf, size_t n, off_t off);
ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t off) {
  n_pread++;
  if (eintr_left > 0) {
    eintr_left--;
    errno = EINTR;
    return -1;
  }
  return __real_pread(fd, buf, n, off);
}

static void powercap_retries(void **state) {
  (void)state;
  struct rapl_config cfg;
  struct rapl_zone_set set = {0};
  char root[4096], why[512];
  snprintf(root, sizeof(root), "%s", fixture_path("powercap/one-socket"));
  fixture_config(&cfg, root);
  assert_int_equal(rapl_backend_powercap.open(&cfg, &set, why, sizeof(why)), 4);
  const struct rapl_zone *pkg = NULL;
  for (size_t i = 0; i < set.n; i++)
    if (set.zones[i].kind == RAPL_ZONE_PACKAGE)
      pkg = &set.zones[i];
  assert_non_null(pkg);
  uint64_t raw = 0;
  eintr_left = 3;
  n_pread = 0;
  assert_int_equal(rapl_backend_powercap.read(pkg, &raw), 0);
  assert_int_equal(raw, 1000000);
  assert_int_equal(n_pread, 4);
  rapl_zone_set_clear(&set, rapl_backend_powercap.close);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

/* The MSR backend did this before; it stays so. */
static void msr_retries(void **state) {
  (void)state;
  char tmp[256], path[512];
  assert_int_equal(fixture_mkdtemp(tmp, sizeof(tmp), "test_eintr"), 0);
  struct rapl_config cfg;
  rapl_config_defaults(&cfg);
  cfg.msr_enabled = true;
  snprintf(cfg.sysfs_path, sizeof(cfg.sysfs_path), "%s",
           fixture_path("topology/no-die"));
  snprintf(cfg.procfs_path, sizeof(cfg.procfs_path), "%s",
           fixture_path("msr/intel-adl"));
  snprintf(cfg.msr_device_path, sizeof(cfg.msr_device_path),
           "%s/dev/cpu/%%d/msr", tmp);
  for (int cpu = 0; cpu < 2; cpu++) {
    snprintf(path, sizeof(path), "%s/dev", tmp);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/dev/cpu", tmp);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/dev/cpu/%d", tmp, cpu);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/dev/cpu/%d/msr", tmp, cpu);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    uint64_t unit = 0x000A0E03, pkg = 4242;
    assert_int_equal(pwrite(fd, &unit, 8, 0x606), 8);
    assert_int_equal(pwrite(fd, &pkg, 8, 0x611), 8);
    close(fd);
  }
  struct rapl_zone_set set = {0};
  char why[512];
  assert_int_equal(rapl_backend_msr.open(&cfg, &set, why, sizeof(why)), 1);
  uint64_t raw = 0;
  eintr_left = 2;
  n_pread = 0;
  assert_int_equal(rapl_backend_msr.read(&set.zones[0], &raw), 0);
  assert_int_equal(raw, 4242);
  assert_int_equal(n_pread, 3);
  rapl_zone_set_clear(&set, rapl_backend_msr.close);
  nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void) {
  fixture_capture_logs();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(powercap_retries),
      cmocka_unit_test(msr_retries),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
