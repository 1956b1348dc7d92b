/* The reader over real powercap trees: baseline, power, wrap, reset, bad
 * values, selection errors and reconfiguration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fixture.h"
#include "reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEC 1000000000LL
#define PKG0 "sys/devices/virtual/powercap/intel-rapl/intel-rapl:0/energy_uj"
#define PKG1 "sys/devices/virtual/powercap/intel-rapl/intel-rapl:1/energy_uj"
#define DRAM0                                                                  \
  "sys/devices/virtual/powercap/intel-rapl/intel-rapl:0/intel-rapl:0:1/"       \
  "energy_uj"
#define RANGE 262143328850ULL

struct seen {
  int n;
  struct {
    char instance[64];
    enum rapl_zone_kind kind;
    double energy, power;
    bool has_power;
  } s[32];
};

static void collect(const struct rapl_sample *sample, void *ud) {
  struct seen *seen = ud;
  assert_true(seen->n < 32);
  snprintf(seen->s[seen->n].instance, 64, "%s", sample->instance);
  seen->s[seen->n].kind = sample->kind;
  seen->s[seen->n].energy = sample->energy_j;
  seen->s[seen->n].power = sample->power_w;
  seen->s[seen->n].has_power = sample->has_power;
  seen->n++;
}

static int64_t fake_now;

static int64_t fake_clock(void *ud) {
  (void)ud;
  return fake_now;
}

static int read_at(struct rapl_reader *r, int64_t t, struct seen *seen) {
  memset(seen, 0, sizeof(*seen));
  fake_now = t;
  rapl_reader_set_clock(r, fake_clock, NULL);
  return rapl_reader_read(r, collect, seen);
}

/* Index of a zone's sample, or -1 when it was withheld. */
static int sample_of(const struct seen *seen, const char *instance,
                     enum rapl_zone_kind kind) {
  for (int i = 0; i < seen->n; i++)
    if (seen->s[i].kind == kind && !strcmp(seen->s[i].instance, instance))
      return i;
  return -1;
}

static void write_uj(const char *root, const char *rel, uint64_t uj) {
  char text[32];
  snprintf(text, sizeof(text), "%llu\n", (unsigned long long)uj);
  fixture_write(root, rel, text);
}

struct ctx {
  char *root;
  struct rapl_config cfg;
  struct rapl_reader *r;
};

static int setup(void **state) {
  struct ctx *c = calloc(1, sizeof(*c));
  c->root = fixture_copy("powercap/two-socket");
  fixture_config(&c->cfg, c->root);
  c->r = rapl_reader_create(&c->cfg);
  fixture_capture_logs();
  *state = c;
  return 0;
}

static int teardown(void **state) {
  struct ctx *c = *state;
  rapl_reader_destroy(c->r);
  fixture_remove(c->root);
  free(c);
  return 0;
}

static void first_read_is_a_baseline(void **state) {
  struct ctx *c = *state;
  struct seen seen;
  assert_int_equal(read_at(c->r, 100 * SEC, &seen), 7);
  for (int i = 0; i < seen.n; i++) {
    assert_false(seen.s[i].has_power);
    assert_true(seen.s[i].energy == 0.0);
  }
  assert_string_equal(rapl_reader_backend(c->r)->name, "powercap");
  assert_int_equal(fixture_log_count("backend powercap selected"), 1);
}

static void power_is_energy_over_time(void **state) {
  struct ctx *c = *state;
  struct seen seen;
  read_at(c->r, 100 * SEC, &seen);
  write_uj(c->root, PKG0, 1000000 + 91000000); /* 91 J in 2 s */
  write_uj(c->root, PKG1, 2000000 + 122500000);
  assert_int_equal(read_at(c->r, 102 * SEC, &seen), 7);
  int p0 = sample_of(&seen, "package-0", RAPL_ZONE_PACKAGE);
  int p1 = sample_of(&seen, "package-1", RAPL_ZONE_PACKAGE);
  int d0 = sample_of(&seen, "package-0", RAPL_ZONE_DRAM);
  assert_true(seen.s[p0].has_power);
  assert_float_equal(seen.s[p0].power, 45.5, 1e-9);
  assert_float_equal(seen.s[p0].energy, 91.0, 1e-9);
  assert_float_equal(seen.s[p1].power, 61.25, 1e-9);
  assert_true(seen.s[d0].has_power);
  assert_float_equal(seen.s[d0].power, 0.0, 1e-9); /* unchanged counter */
}

static void wrap_is_energy_not_a_drop(void **state) {
  struct ctx *c = *state;
  struct seen seen;
  write_uj(c->root, PKG0, RANGE - 20000000); /* 20 J before the wrap */
  read_at(c->r, 0, &seen);
  write_uj(c->root, PKG0, 25000000); /* 45 J in total */
  read_at(c->r, SEC, &seen);
  int p0 = sample_of(&seen, "package-0", RAPL_ZONE_PACKAGE);
  assert_float_equal(seen.s[p0].power, 45.0, 1e-9);
  assert_float_equal(seen.s[p0].energy, 45.0, 1e-6);
}

static void reset_rebaselines_without_spike(void **state) {
  struct ctx *c = *state;
  struct seen seen;
  write_uj(c->root, PKG0, 100000000000ULL);
  read_at(c->r, 0, &seen);
  write_uj(c->root, PKG0, 100010000000ULL); /* 10 J */
  read_at(c->r, SEC, &seen);
  write_uj(c->root, PKG0, 5000000); /* back near zero: a reset */
  read_at(c->r, 2 * SEC, &seen);
  int p0 = sample_of(&seen, "package-0", RAPL_ZONE_PACKAGE);
  assert_true(p0 >= 0);
  assert_false(seen.s[p0].has_power);
  assert_float_equal(seen.s[p0].energy, 10.0, 1e-6);
  assert_int_equal(fixture_log_count("(a reset)"), 1);
  write_uj(c->root, PKG0, 17000000); /* 12 J after the reset */
  read_at(c->r, 3 * SEC, &seen);
  p0 = sample_of(&seen, "package-0", RAPL_ZONE_PACKAGE);
  assert_float_equal(seen.s[p0].power, 12.0, 1e-9);
  assert_float_equal(seen.s[p0].energy, 22.0, 1e-6);
}

static void garbage_withholds_and_logs_once(void **state) {
  struct ctx *c = *state;
  struct seen seen;
  read_at(c->r, 0, &seen);
  fixture_logs_reset();
  fixture_write(c->root, PKG0, "garbage\n");
  for (int i = 1; i <= 3; i++) {
    assert_int_equal(read_at(c->r, i * SEC, &seen), 6);
    assert_int_equal(sample_of(&seen, "package-0", RAPL_ZONE_PACKAGE), -1);
  }
  assert_int_equal(fixture_log_count("does not hold a counter value"), 1);
  assert_int_equal(fixture_log_count("intel-rapl:0/energy_uj"), 1);
  write_uj(c->root, PKG0, 1000000 + 40000000); /* 40 J over 4 s */
  read_at(c->r, 4 * SEC, &seen);
  int p0 = sample_of(&seen, "package-0", RAPL_ZONE_PACKAGE);
  assert_true(seen.s[p0].has_power);
  assert_float_equal(seen.s[p0].power, 10.0, 1e-9);
}

static void value_above_range_is_withheld(void **state) {
  struct ctx *c = *state;
  struct seen seen;
  read_at(c->r, 0, &seen);
  write_uj(c->root, PKG0, RANGE + 1);
  read_at(c->r, SEC, &seen);
  read_at(c->r, 2 * SEC, &seen);
  assert_int_equal(sample_of(&seen, "package-0", RAPL_ZONE_PACKAGE), -1);
  assert_int_equal(fixture_log_count("above the counter's range"), 1);
}

static void reconfigure_switches_without_gap(void **state) {
  struct ctx *c = *state;
  struct seen seen;
  struct rapl_config narrow = c->cfg;
  const char *names[] = {"package"};
  char err[128];
  rapl_config_set_zones(&narrow, names, 1, err, sizeof(err));

  read_at(c->r, 0, &seen);
  rapl_reader_reconfigure(c->r, &narrow);
  /* This read still reports the old zone set, then applies the change. */
  assert_int_equal(read_at(c->r, SEC, &seen), 7);
  write_uj(c->root, PKG0, 1000000 + 30000000);
  assert_int_equal(read_at(c->r, 2 * SEC, &seen), 2);
  int p0 = sample_of(&seen, "package-0", RAPL_ZONE_PACKAGE);
  assert_true(seen.s[p0].has_power); /* no interval without power */
  assert_true(seen.s[p0].power > 29.0 && seen.s[p0].power < 31.0);
  assert_float_equal(seen.s[p0].energy, 30.0, 1e-6); /* total carried on */
}

static void reload_to_unusable_config_keeps_reporting(void **state) {
  struct ctx *c = *state;
  struct seen seen;
  struct rapl_config broken = c->cfg;
  snprintf(broken.sysfs_path, sizeof(broken.sysfs_path), "%s/typo", c->root);
  read_at(c->r, 0, &seen);
  rapl_reader_reconfigure(c->r, &broken);
  for (int i = 1; i <= 3; i++) {
    write_uj(c->root, PKG0, 1000000 + (uint64_t)i * 20000000);
    assert_int_equal(read_at(c->r, i * SEC, &seen), 7);
    int p0 = sample_of(&seen, "package-0", RAPL_ZONE_PACKAGE);
    assert_true(seen.s[p0].has_power);
    assert_float_equal(seen.s[p0].power, 20.0, 1e-9);
  }
  assert_int_equal(fixture_log_count("the new configuration cannot read RAPL"),
                   1);
  assert_int_equal(fixture_log_count("typo/class/powercap"), 1);
  assert_string_equal(rapl_reader_backend(c->r)->name, "powercap");
}

static void cosmetic_change_reopens_nothing(void **state) {
  struct ctx *c = *state;
  struct seen seen;
  struct rapl_config quiet = c->cfg;
  quiet.report_power = false;
  quiet.msr_min_interval = 7;
  read_at(c->r, 0, &seen);
  rapl_reader_reconfigure(c->r, &quiet);
  read_at(c->r, SEC, &seen);
  write_uj(c->root, PKG0, 1000000 + 5000000);
  assert_int_equal(read_at(c->r, 2 * SEC, &seen), 7);
  int p0 = sample_of(&seen, "package-0", RAPL_ZONE_PACKAGE);
  assert_true(seen.s[p0].has_power); /* the counters kept their baseline */
  assert_float_equal(seen.s[p0].power, 5.0, 1e-9);
  assert_int_equal(fixture_log_count("backend powercap selected"), 1);
}

static void no_powercap_errors_once_then_recovers(void **state) {
  (void)state;
  char *root = fixture_copy("powercap/absent");
  struct rapl_config cfg;
  struct seen seen;
  fixture_config(&cfg, root);
  fixture_capture_logs();
  struct rapl_reader *r = rapl_reader_create(&cfg);
  /* Only the first read of the stretch fails: collectd would otherwise back
   * off (up to a day) and delay the recovery and the backend values. */
  assert_int_equal(read_at(r, 0, &seen), -1);
  assert_int_equal(read_at(r, SEC, &seen), 0);
  assert_int_equal(read_at(r, 2 * SEC, &seen), 0);
  assert_null(rapl_reader_backend(r));
  assert_int_equal(fixture_log_count("powercap is unavailable"), 1);
  assert_int_equal(fixture_log_count("no powercap directory"), 1);
  assert_int_equal(fixture_log_count("MSREnabled true"), 1);
  assert_int_equal(fixture_log_count("SECURITY in collectd-rapl_energy(5)"), 1);

  char cmd[8192];
  snprintf(cmd, sizeof(cmd), "cp -a '%s'/sys/. '%s'/sys/",
           fixture_path("powercap/one-socket"), root);
  assert_int_equal(system(cmd), 0);
  /* Retried at every read a second apart, or up to 25% less: found at once. */
  assert_int_equal(read_at(r, 3 * SEC - SEC / 10, &seen), 4);
  assert_string_equal(rapl_reader_backend(r)->name, "powercap");
  rapl_reader_destroy(r);
  fixture_remove(root);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(first_read_is_a_baseline, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(power_is_energy_over_time, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(wrap_is_energy_not_a_drop, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(reset_rebaselines_without_spike, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(garbage_withholds_and_logs_once, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(value_above_range_is_withheld, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(reconfigure_switches_without_gap, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(reload_to_unusable_config_keeps_reporting,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(cosmetic_change_reopens_nothing, setup,
                                      teardown),
      cmocka_unit_test(no_powercap_errors_once_then_recovers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
