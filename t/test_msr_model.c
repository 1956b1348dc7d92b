/* CPU model detection, register layouts, energy units, the quirk table and
 * the capability check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "capability.h"
#include "msr_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char err[256];

/* cmocka 1.1 compares floats only in single precision. */
#define assert_double_equal(a, b, eps)                                         \
  do {                                                                         \
    double a_ = (a), b_ = (b);                                                 \
    if (!(fabs(a_ - b_) <= (eps)))                                             \
      fail_msg("%s = %.17g, expected %.17g", #a, a_, b_);                      \
  } while (0)

static const char *cpuinfo_dir(const char *name) {
  static char path[1024];
  const char *d = getenv("abs_top_srcdir");
  snprintf(path, sizeof(path), "%s/t/data/msr/%s", d && *d ? d : ".", name);
  return path;
}

static void test_cpuinfo_files(void **state) {
  (void)state;
  static const struct {
    const char *dir;
    enum rapl_cpu_vendor vendor;
    unsigned family, model;
  } rows[] = {
      {"intel-skx", RAPL_VENDOR_INTEL, 6, 0x55},
      {"intel-spr", RAPL_VENDOR_INTEL, 6, 0x8F},
      {"intel-adl", RAPL_VENDOR_INTEL, 6, 0x97},
      {"amd-zen3", RAPL_VENDOR_AMD, 0x19, 1},
      {"hygon", RAPL_VENDOR_HYGON, 0x18, 0},
      {"amd-fam16", RAPL_VENDOR_AMD, 0x16, 0x30},
      {"via", RAPL_VENDOR_UNKNOWN, 6, 15},
  };
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    struct rapl_cpu_model m;
    assert_int_equal(
        rapl_cpu_model_read(cpuinfo_dir(rows[i].dir), &m, err, sizeof(err)), 0);
    assert_int_equal(m.vendor, rows[i].vendor);
    assert_int_equal(m.family, rows[i].family);
    assert_int_equal(m.model, rows[i].model);
  }
  struct rapl_cpu_model m;
  /* "model name" is not "model"; a later processor's model does not count */
  assert_int_equal(
      rapl_cpu_model_read(cpuinfo_dir("no-model"), &m, err, sizeof(err)), -1);
  assert_non_null(strstr(err, "no model line"));
  assert_int_equal(
      rapl_cpu_model_read(cpuinfo_dir("missing"), &m, err, sizeof(err)), -1);
  assert_non_null(strstr(err, "cpuinfo"));
}

static void test_cpuinfo_text(void **state) {
  (void)state;
  struct rapl_cpu_model m;
  assert_int_equal(rapl_cpu_model_parse("model name : Foo 85\nvendor_id: "
                                        "GenuineIntel\ncpu family:6\nmodel "
                                        "\t: 106\n",
                                        &m, err, sizeof(err)),
                   0);
  assert_int_equal(m.model, 0x6A);
  assert_int_equal(m.family, 6);
  assert_string_equal(m.vendor_id, "GenuineIntel");
  assert_int_equal(rapl_cpu_model_parse("vendor_id: GenuineIntel\ncpu "
                                        "family: 6\nmodel: 8x5\n",
                                        &m, err, sizeof(err)),
                   -1);
  assert_non_null(strstr(err, "bad model"));
  assert_int_equal(rapl_cpu_model_parse("", &m, err, sizeof(err)), -1);
  assert_non_null(strstr(err, "vendor_id"));
}

static void test_layouts(void **state) {
  (void)state;
  struct rapl_msr_layout l;
  struct rapl_cpu_model intel = {RAPL_VENDOR_INTEL, "GenuineIntel", 6, 0x55};
  assert_int_equal(rapl_msr_layout_for(&intel, &l, err, sizeof(err)), 0);
  assert_int_equal(l.unit, 0x606);
  assert_int_equal(l.reg[RAPL_ZONE_PACKAGE], 0x611);
  assert_int_equal(l.reg[RAPL_ZONE_CORE], 0x639);
  assert_int_equal(l.reg[RAPL_ZONE_UNCORE], 0x641);
  assert_int_equal(l.reg[RAPL_ZONE_DRAM], 0x619);
  assert_int_equal(l.reg[RAPL_ZONE_PSYS], 0x64D);
  assert_false(l.per_core[RAPL_ZONE_CORE]);
  assert_false(l.per_package);

  static const struct rapl_cpu_model amds[] = {
      {RAPL_VENDOR_AMD, "AuthenticAMD", 0x17, 0x31},
      {RAPL_VENDOR_AMD, "AuthenticAMD", 0x19, 0x01},
      {RAPL_VENDOR_AMD, "AuthenticAMD", 0x1A, 0x11},
      {RAPL_VENDOR_HYGON, "HygonGenuine", 0x18, 0x00},
  };
  for (size_t i = 0; i < sizeof(amds) / sizeof(amds[0]); i++) {
    assert_int_equal(rapl_msr_layout_for(&amds[i], &l, err, sizeof(err)), 0);
    assert_int_equal(l.unit, 0xC0010299u);
    assert_int_equal(l.reg[RAPL_ZONE_PACKAGE], 0xC001029Bu);
    assert_int_equal(l.reg[RAPL_ZONE_CORE], 0xC001029Au);
    assert_true(l.per_core[RAPL_ZONE_CORE]);
    assert_true(l.per_package);
    assert_int_equal(l.reg[RAPL_ZONE_UNCORE], 0);
    assert_int_equal(l.reg[RAPL_ZONE_DRAM], 0);
    assert_int_equal(l.reg[RAPL_ZONE_PSYS], 0);
  }
  static const struct rapl_cpu_model unsupported[] = {
      {RAPL_VENDOR_AMD, "AuthenticAMD", 0x16, 0x30},
      {RAPL_VENDOR_AMD, "AuthenticAMD", 0x18, 0x00},
      {RAPL_VENDOR_HYGON, "HygonGenuine", 0x19, 0x00},
      {RAPL_VENDOR_UNKNOWN, "CentaurHauls", 6, 15},
  };
  for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
    err[0] = '\0';
    assert_int_equal(rapl_msr_layout_for(&unsupported[i], &l, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, unsupported[i].vendor_id));
  }
}

static void test_unit_decoding(void **state) {
  (void)state;
  /* A typical Intel client value 0x000A0E03: ESU 14 -> 61.035 uJ */
  assert_double_equal(rapl_msr_energy_unit(0x000A0E03), 1.0 / 16384, 0);
  assert_double_equal(rapl_msr_energy_unit(0x000A0E03) * 1e6, 61.035, 1e-3);
  /* ESU 16 -> 15.259 uJ (AMD 0x000A1003) */
  assert_double_equal(rapl_msr_energy_unit(0x000A1003), 1.0 / 65536, 0);
  assert_double_equal(rapl_msr_energy_unit(0x000A1003) * 1e6, 15.259, 1e-3);
  /* only bits 12:8 count */
  assert_double_equal(rapl_msr_energy_unit(0xFFFFFFFFFFFFE0FFull), 1.0, 0);
  assert_double_equal(rapl_msr_energy_unit(0x1F00), ldexp(1.0, -31), 0);
}

static void test_quirks(void **state) {
  (void)state;
  const uint64_t esu14 = 0x000A0E03;
  static const unsigned dram_models[] = {0x3F, 0x4F, 0x55, 0x6A,
                                         0x6C, 0x57, 0x85};
  static const unsigned psys_models[] = {0x8F, 0xCF};
  static const enum rapl_zone_kind all[] = {RAPL_ZONE_PACKAGE, RAPL_ZONE_CORE,
                                            RAPL_ZONE_UNCORE, RAPL_ZONE_DRAM,
                                            RAPL_ZONE_PSYS};
  for (size_t i = 0; i < sizeof(dram_models) / sizeof(dram_models[0]); i++) {
    struct rapl_cpu_model m = {RAPL_VENDOR_INTEL, "GenuineIntel", 6,
                               dram_models[i]};
    for (size_t k = 0; k < 5; k++) {
      double want = all[k] == RAPL_ZONE_DRAM ? 15.3e-6 : 1.0 / 16384;
      assert_double_equal(rapl_msr_zone_unit(&m, all[k], esu14), want, 0);
    }
  }
  for (size_t i = 0; i < sizeof(psys_models) / sizeof(psys_models[0]); i++) {
    struct rapl_cpu_model m = {RAPL_VENDOR_INTEL, "GenuineIntel", 6,
                               psys_models[i]};
    for (size_t k = 0; k < 5; k++) {
      double want = all[k] == RAPL_ZONE_PSYS ? 1.0 : 1.0 / 16384;
      assert_double_equal(rapl_msr_zone_unit(&m, all[k], esu14), want, 0);
    }
  }
  /* no quirk: Alder Lake, Broadwell-DE (which only turbostat treats as
   * fixed), the same model number in another family, AMD */
  static const struct rapl_cpu_model plain[] = {
      {RAPL_VENDOR_INTEL, "GenuineIntel", 6, 0x97},
      {RAPL_VENDOR_INTEL, "GenuineIntel", 6, 0x56},
      {RAPL_VENDOR_INTEL, "GenuineIntel", 19, 0x55},
      {RAPL_VENDOR_AMD, "AuthenticAMD", 6, 0x55},
      {RAPL_VENDOR_AMD, "AuthenticAMD", 0x19, 0x8F},
  };
  for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
    for (size_t k = 0; k < 5; k++)
      assert_double_equal(rapl_msr_zone_unit(&plain[i], all[k], 0x1000),
                          1.0 / 65536, 0);
}

static void test_cap_status_text(void **state) {
  (void)state;
  const char *with = "Name:\tx\nCapInh:\t0000000000000000\n"
                     "CapEff:\t0000000000020000\nCapBnd:\t000001ffffffffff\n";
  const char *without = "CapEff:\t000001fffffdffff\n";
  assert_int_equal(
      rapl_cap_effective_in_status(with, RAPL_CAP_SYS_RAWIO, err, sizeof(err)),
      1);
  assert_int_equal(rapl_cap_effective_in_status(with, 16, err, sizeof(err)), 0);
  assert_int_equal(rapl_cap_effective_in_status(without, RAPL_CAP_SYS_RAWIO,
                                                err, sizeof(err)),
                   0);
  assert_int_equal(
      rapl_cap_effective_in_status("CapEff:\tzz\n", 17, err, sizeof(err)), -1);
  assert_int_equal(
      rapl_cap_effective_in_status("Name: x\n", 17, err, sizeof(err)), -1);
  assert_non_null(strstr(err, "CapEff"));
}

/* The capget answer matches /proc/self/status (test_msr drops the
 * capability in a child and checks probe's message). */
static void test_cap_effective(void **state) {
  (void)state;
  char status[8192];
  FILE *f = fopen("/proc/self/status", "r");
  assert_non_null(f);
  size_t n = fread(status, 1, sizeof(status) - 1, f);
  fclose(f);
  status[n] = '\0';
  int from_status = rapl_cap_effective_in_status(status, RAPL_CAP_SYS_RAWIO,
                                                 err, sizeof(err));
  int from_capget = rapl_cap_effective(RAPL_CAP_SYS_RAWIO, err, sizeof(err));
  assert_true(from_status == 0 || from_status == 1);
  assert_int_equal(from_capget, from_status);
  assert_int_equal(rapl_cap_effective(99, err, sizeof(err)), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cpuinfo_files),
      cmocka_unit_test(test_cpuinfo_text),
      cmocka_unit_test(test_layouts),
      cmocka_unit_test(test_unit_decoding),
      cmocka_unit_test(test_quirks),
      cmocka_unit_test(test_cap_status_text),
      cmocka_unit_test(test_cap_effective),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
