/* Option validation shared by collectd.conf and the YAML file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rapl_config.h"
#include "zone_kind.h"

#include <string.h>

static void defaults(void **state) {
  (void)state;
  struct rapl_config c;
  rapl_config_defaults(&c);
  assert_string_equal(c.sysfs_path, "/sys");
  assert_string_equal(c.procfs_path, "/proc");
  assert_string_equal(c.msr_device_path, "/dev/cpu/%d/msr");
  assert_int_equal(c.zone_mask, RAPL_ZONE_MASK_ALL);
  assert_true(c.report_power && c.report_energy);
  assert_false(c.msr_enabled || c.msr_force);
  assert_true(c.msr_min_interval == 1.0);
}

static void zones_case_insensitive(void **state) {
  (void)state;
  struct rapl_config c;
  char err[256];
  const char *names[] = {"Package", "DRAM", "psys"};
  rapl_config_defaults(&c);
  assert_int_equal(rapl_config_set_zones(&c, names, 3, err, sizeof(err)), 0);
  assert_int_equal(c.zone_mask, RAPL_ZONE_MASK(RAPL_ZONE_PACKAGE) |
                                    RAPL_ZONE_MASK(RAPL_ZONE_DRAM) |
                                    RAPL_ZONE_MASK(RAPL_ZONE_PSYS));
}

static void zones_unknown_or_empty(void **state) {
  (void)state;
  struct rapl_config c;
  char err[256];
  const char *names[] = {"package", "gpu"};
  rapl_config_defaults(&c);
  assert_int_equal(rapl_config_set_zones(&c, names, 2, err, sizeof(err)), -1);
  assert_non_null(strstr(err, "\"gpu\""));
  assert_int_equal(c.zone_mask, RAPL_ZONE_MASK_ALL);
  assert_int_equal(rapl_config_set_zones(&c, names, 0, err, sizeof(err)), -1);
  assert_non_null(strstr(err, "found none"));
}

static void paths_must_be_absolute(void **state) {
  (void)state;
  char dst[RAPL_PATH_MAX] = "/sys";
  char err[256];
  assert_int_equal(
      rapl_config_set_path(dst, "SysfsPath", "host/sys", err, sizeof(err)), -1);
  assert_non_null(strstr(err, "SysfsPath"));
  assert_non_null(strstr(err, "relative path \"host/sys\""));
  assert_int_equal(rapl_config_set_path(dst, "SysfsPath", "", err, sizeof(err)),
                   -1);
  assert_string_equal(dst, "/sys");
  assert_int_equal(
      rapl_config_set_path(dst, "SysfsPath", "/host/sys", err, sizeof(err)), 0);
  assert_string_equal(dst, "/host/sys");
}

static void msr_template_rules(void **state) {
  (void)state;
  char err[256];
  const char *bad[] = {"/dev/cpu/%s/msr",
                       "/dev/cpu/%n/msr",
                       "/dev/cpu/%%d/msr",
                       "/dev/cpu/%d/%d/msr",
                       "/dev/cpu/0/msr",
                       "dev/cpu/%d/msr",
                       "",
                       "/dev/cpu/%d/msr%",
                       "/dev/cpu/%5d/msr",
                       "/dev/cpu/%x/msr",
                       "/dev/cpu/%ld/msr"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    err[0] = '\0';
    assert_false(rapl_msr_template_valid(bad[i], err, sizeof(err)));
    assert_non_null(strstr(err, "MSRDevicePath"));
  }
  assert_true(rapl_msr_template_valid("/dev/cpu/%d/msr", err, sizeof(err)));
  assert_true(
      rapl_msr_template_valid("/host/dev/cpu/%d/msr", err, sizeof(err)));
}

static void msr_template_expansion(void **state) {
  (void)state;
  char out[64];
  assert_int_equal(
      rapl_msr_template_expand("/dev/cpu/%d/msr", 1023, out, sizeof(out)), 0);
  assert_string_equal(out, "/dev/cpu/1023/msr");
  assert_int_equal(rapl_msr_template_expand("/x/%d", 17, out, 5), -1);
}

static void min_interval_bounds(void **state) {
  (void)state;
  struct rapl_config c;
  char err[256];
  rapl_config_defaults(&c);
  assert_int_equal(rapl_config_set_msr_min_interval(&c, -1, err, sizeof(err)),
                   -1);
  assert_non_null(strstr(err, "MSRMinInterval"));
  assert_int_equal(
      rapl_config_set_msr_min_interval(&c, 0.0 / 0.0, err, sizeof(err)), -1);
  assert_int_equal(rapl_config_set_msr_min_interval(&c, 2.5, err, sizeof(err)),
                   0);
  assert_true(c.msr_min_interval == 2.5);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(defaults),
      cmocka_unit_test(zones_case_insensitive),
      cmocka_unit_test(zones_unknown_or_empty),
      cmocka_unit_test(paths_must_be_absolute),
      cmocka_unit_test(msr_template_rules),
      cmocka_unit_test(msr_template_expansion),
      cmocka_unit_test(min_interval_bounds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
