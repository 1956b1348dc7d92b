/* Wrap arithmetic and the energy/power state machine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "energy_counter.h"

#include <math.h>

#define RANGE 262143328850ULL /* a real max_energy_range_uj (61 uJ unit) */
#define SEC 1000000000LL

static void delta_forward(void **state) {
  (void)state;
  uint64_t d = 0;
  assert_int_equal(rapl_counter_delta(100, 350, RANGE, &d), 0);
  assert_int_equal(d, 250);
}

static void delta_one_wrap(void **state) {
  (void)state;
  uint64_t d = 0;
  assert_int_equal(rapl_counter_delta(RANGE - 1000, 500, RANGE, &d), 1);
  assert_int_equal(d, 1500);
}

static void delta_exact_boundary(void **state) {
  (void)state;
  uint64_t d = 0;
  /* Reaching the range itself is still forward... */
  assert_int_equal(rapl_counter_delta(RANGE - 10, RANGE, RANGE, &d), 0);
  assert_int_equal(d, 10);
  /* ...and the range is the modulus: from it, 0 is no energy at all. */
  assert_int_equal(rapl_counter_delta(RANGE, 0, RANGE, &d), 1);
  assert_int_equal(d, 0);
  assert_int_equal(rapl_counter_delta(RANGE - 10, 0, RANGE, &d), 1);
  assert_int_equal(d, 10);
  /* 32-bit MSR counters: range 2^32. */
  assert_int_equal(rapl_counter_delta(0xFFFFFFF0ULL, 0x10, 1ULL << 32, &d), 1);
  assert_int_equal(d, 0x20);
}

static void delta_outside_range(void **state) {
  (void)state;
  uint64_t d = 77;
  assert_int_equal(rapl_counter_delta(10, RANGE + 1, RANGE, &d), -1);
  assert_int_equal(rapl_counter_delta(RANGE + 1, 10, RANGE, &d), -1);
  assert_int_equal(d, 77);
}

static void update_baseline_then_power(void **state) {
  (void)state;
  uint64_t prev[1];
  struct rapl_energy_state s;
  double w = -1;
  rapl_energy_init(&s, prev, 1, 1e-6);

  uint64_t raw = 5000000;
  assert_int_equal(rapl_energy_update(&s, &raw, RANGE, 10 * SEC, &w),
                   RAPL_ENERGY_BASELINE);
  assert_true(rapl_energy_total_j(&s) == 0.0);

  raw += 45500000; /* 45.5 J in 1 s */
  assert_int_equal(rapl_energy_update(&s, &raw, RANGE, 11 * SEC, &w),
                   RAPL_ENERGY_OK);
  assert_float_equal(w, 45.5, 1e-9);
  assert_float_equal(rapl_energy_total_j(&s), 45.5, 1e-9);

  raw += 91000000; /* 91 J in 2 s */
  assert_int_equal(rapl_energy_update(&s, &raw, RANGE, 13 * SEC, &w),
                   RAPL_ENERGY_OK);
  assert_float_equal(w, 45.5, 1e-9);
  assert_float_equal(rapl_energy_total_j(&s), 136.5, 1e-9);
}

static void update_across_wrap(void **state) {
  (void)state;
  uint64_t prev[1];
  struct rapl_energy_state s;
  double w = 0;
  rapl_energy_init(&s, prev, 1, 1e-6);
  uint64_t raw = RANGE - 100000000; /* 100 J before the wrap */
  rapl_energy_update(&s, &raw, RANGE, 0, &w);
  raw = 200000000; /* 300 J later, after the wrap */
  assert_int_equal(rapl_energy_update(&s, &raw, RANGE, 2 * SEC, &w),
                   RAPL_ENERGY_OK);
  assert_float_equal(w, 150.0, 1e-6);
  assert_float_equal(rapl_energy_total_j(&s), 300.0, 1e-6);
}

static void update_reset_is_not_a_spike(void **state) {
  (void)state;
  uint64_t prev[1];
  struct rapl_energy_state s;
  double w = -1;
  rapl_energy_init(&s, prev, 1, 1e-6);
  uint64_t raw = 100000000000ULL; /* 100 kJ, mid-range */
  rapl_energy_update(&s, &raw, RANGE, 0, &w);
  raw += 50000000;
  rapl_energy_update(&s, &raw, RANGE, SEC, &w);
  double before = rapl_energy_total_j(&s);

  /* Back to almost zero: as a wrap this would be 162 kJ in 1 s. */
  raw = 1000;
  w = -1;
  assert_int_equal(rapl_energy_update(&s, &raw, RANGE, 2 * SEC, &w),
                   RAPL_ENERGY_RESET);
  assert_true(w == -1);
  assert_true(rapl_energy_total_j(&s) == before);

  /* The reset reading is the new baseline. */
  raw += 30000000;
  assert_int_equal(rapl_energy_update(&s, &raw, RANGE, 3 * SEC, &w),
                   RAPL_ENERGY_OK);
  assert_float_equal(w, 30.0, 1e-9);
  assert_float_equal(rapl_energy_total_j(&s), before + 30.0, 1e-9);
}

static void update_forward_leap_is_a_reset(void **state) {
  (void)state;
  uint64_t prev[1];
  struct rapl_energy_state s;
  double w = -1;
  rapl_energy_init(&s, prev, 1, 1e-6);
  uint64_t raw = 0;
  rapl_energy_update(&s, &raw, RANGE, 0, &w);
  raw = 50000000000ULL; /* 50 kJ in one second */
  assert_int_equal(rapl_energy_update(&s, &raw, RANGE, SEC, &w),
                   RAPL_ENERGY_RESET);
  assert_true(rapl_energy_total_j(&s) == 0.0);
}

static void update_invalid_value_changes_nothing(void **state) {
  (void)state;
  uint64_t prev[1];
  struct rapl_energy_state s;
  double w = 0;
  rapl_energy_init(&s, prev, 1, 1e-6);
  uint64_t raw = 10;
  rapl_energy_update(&s, &raw, RANGE, 0, &w);
  raw = RANGE + 5;
  assert_int_equal(rapl_energy_update(&s, &raw, RANGE, SEC, &w),
                   RAPL_ENERGY_INVALID);
  raw = 10 + 7000000;
  assert_int_equal(rapl_energy_update(&s, &raw, RANGE, 2 * SEC, &w),
                   RAPL_ENERGY_OK);
  assert_float_equal(w, 3.5, 1e-9); /* over both seconds */
}

static void update_sums_counters_each_wrapping(void **state) {
  (void)state;
  uint64_t prev[3];
  struct rapl_energy_state s;
  const uint64_t range = 1ULL << 32;
  const double unit = 1.0 / 65536; /* ESU 16 */
  double w = 0;
  rapl_energy_init(&s, prev, 3, unit);
  uint64_t raw[3] = {0xFFFF0000ULL, 100, 0xFFFFFFFFULL};
  rapl_energy_update(&s, raw, range, 0, &w);
  raw[0] = 0x00010000;      /* wrapped: +0x20000 units = 2 J */
  raw[1] = 100 + 3 * 65536; /* +3 J */
  raw[2] = 65535;           /* wrapped: +65536 units = 1 J */
  assert_int_equal(rapl_energy_update(&s, raw, range, SEC, &w), RAPL_ENERGY_OK);
  assert_float_equal(w, 6.0, 1e-9);
}

static void rebase_keeps_total_across_units(void **state) {
  (void)state;
  uint64_t a[1], b[2];
  struct rapl_energy_state s;
  double w = 0;
  rapl_energy_init(&s, a, 1, 1e-6);
  uint64_t raw = 0;
  rapl_energy_update(&s, &raw, RANGE, 0, &w);
  raw = 10000000;
  rapl_energy_update(&s, &raw, RANGE, SEC, &w);
  assert_float_equal(rapl_energy_total_j(&s), 10.0, 1e-9);

  rapl_energy_rebase(&s, b, 2, 0.5);
  uint64_t r2[2] = {1000, 2000};
  assert_int_equal(rapl_energy_update(&s, r2, 1ULL << 32, 2 * SEC, &w),
                   RAPL_ENERGY_BASELINE);
  assert_float_equal(rapl_energy_total_j(&s), 10.0, 1e-9);
  r2[0] += 4;
  r2[1] += 6;
  rapl_energy_update(&s, r2, 1ULL << 32, 3 * SEC, &w);
  assert_float_equal(w, 5.0, 1e-9);
  assert_float_equal(rapl_energy_total_j(&s), 15.0, 1e-9);
}

static void clock_not_advancing_gives_no_rate(void **state) {
  (void)state;
  uint64_t prev[1];
  struct rapl_energy_state s;
  double w = -1;
  rapl_energy_init(&s, prev, 1, 1e-6);
  uint64_t raw = 100;
  rapl_energy_update(&s, &raw, RANGE, SEC, &w);
  raw = 200;
  assert_int_equal(rapl_energy_update(&s, &raw, RANGE, SEC, &w),
                   RAPL_ENERGY_BASELINE);
  assert_true(w == -1);
}

/* perf's counts: 64-bit, 2^-32 J each. */
#define PERF_UNIT_J (1.0 / 4294967296.0)

/* cmocka's assert_float_equal compares floats, and passes anything within
 * FLT_EPSILON relative: 0.1 J at 1 MJ. These tests need doubles. */
#define assert_double_near(got, want, tol)                                     \
  do {                                                                         \
    double got_ = (got), want_ = (want);                                       \
    if (!(fabs(got_ - want_) <= (tol)))                                        \
      fail_msg("%s = %.17g, want %.17g within %g", #got, got_, want_,          \
               (double)(tol));                                                 \
  } while (0)

static void fold_keeps_every_unit(void **state) {
  (void)state;
  uint64_t prev[1];
  struct rapl_energy_state s;
  double w = -1;
  /* 196.6 W for 1000 s a step: the sum passes RAPL_ENERGY_FOLD_UNITS
   * (2^52 units, 1 MJ) at the sixth step, and stays below 2 MJ, where a
   * double still resolves one unit. An odd step so that the fold does not
   * fall on a round number. */
  const uint64_t step = 3 * (UINT64_C(1) << 48) + 12345;
  const int steps = 9;
  rapl_energy_init(&s, prev, 1, PERF_UNIT_J);
  uint64_t raw = UINT64_C(1) << 63; /* a count far from zero */
  assert_int_equal(rapl_energy_update(&s, &raw, UINT64_MAX, 0, &w),
                   RAPL_ENERGY_BASELINE);
  uint64_t total_units = 0;
  bool folded = false;
  for (int i = 1; i <= steps; i++) {
    double before = rapl_energy_total_j(&s);
    bool crosses = total_units < RAPL_ENERGY_FOLD_UNITS &&
                   total_units + step >= RAPL_ENERGY_FOLD_UNITS;
    raw += step;
    total_units += step;
    assert_int_equal(
        rapl_energy_update(&s, &raw, UINT64_MAX, (int64_t)i * 1000 * SEC, &w),
        RAPL_ENERGY_OK);
    double want_w = (double)step * PERF_UNIT_J / 1000.0;
    assert_double_near(w, want_w, want_w * 1e-12);
    double after = rapl_energy_total_j(&s);
    /* the step's energy, neither lost nor counted twice, to one unit */
    assert_double_near(after - before, (double)step * PERF_UNIT_J, PERF_UNIT_J);
    /* and the whole total: below 2^53 units it is exact in a double */
    assert_double_near(after, (double)total_units * PERF_UNIT_J, PERF_UNIT_J);
    if (crosses) {
      folded = true;
      assert_true(s.units < RAPL_ENERGY_FOLD_UNITS); /* it did fold */
      assert_true(s.epoch_base_j > 0.0);
    }
  }
  assert_true(folded);
  assert_true(total_units > RAPL_ENERGY_FOLD_UNITS + 2 * step);
}

static void count_going_back_is_a_reset(void **state) {
  (void)state;
  uint64_t prev[1];
  struct rapl_energy_state s;
  double w = -1;
  rapl_energy_init(&s, prev, 1, PERF_UNIT_J);
  uint64_t raw = UINT64_C(1) << 40; /* 256 J counted since the open */
  rapl_energy_update(&s, &raw, UINT64_MAX, 0, &w);
  raw += (uint64_t)(50.0 / PERF_UNIT_J); /* 50 W for 1 s */
  assert_int_equal(rapl_energy_update(&s, &raw, UINT64_MAX, SEC, &w),
                   RAPL_ENERGY_OK);
  assert_double_near(w, 50.0, 1e-9);
  double total = rapl_energy_total_j(&s);

  /* A count never wraps in 64 bits: one going back, even by one unit, is a
   * new count (a reopened event), not 2^64 units of energy. */
  const uint64_t back[] = {raw - 1, UINT64_C(1) << 39, 0};
  for (size_t i = 0; i < sizeof(back) / sizeof(back[0]); i++) {
    raw = back[i];
    w = -1;
    assert_int_equal(
        rapl_energy_update(&s, &raw, UINT64_MAX, (int64_t)(2 + i) * SEC, &w),
        RAPL_ENERGY_RESET);
    assert_true(w == -1);
    assert_true(rapl_energy_total_j(&s) == total);
  }
  /* the reset reading is the new baseline */
  raw += (uint64_t)(30.0 / PERF_UNIT_J);
  assert_int_equal(rapl_energy_update(&s, &raw, UINT64_MAX, 5 * SEC, &w),
                   RAPL_ENERGY_OK);
  assert_double_near(w, 30.0, 1e-9);
  assert_double_near(rapl_energy_total_j(&s), total + 30.0, PERF_UNIT_J);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(delta_forward),
      cmocka_unit_test(delta_one_wrap),
      cmocka_unit_test(delta_exact_boundary),
      cmocka_unit_test(delta_outside_range),
      cmocka_unit_test(update_baseline_then_power),
      cmocka_unit_test(update_across_wrap),
      cmocka_unit_test(update_reset_is_not_a_spike),
      cmocka_unit_test(update_forward_leap_is_a_reset),
      cmocka_unit_test(update_invalid_value_changes_nothing),
      cmocka_unit_test(update_sums_counters_each_wrapping),
      cmocka_unit_test(rebase_keeps_total_across_units),
      cmocka_unit_test(clock_not_advancing_gives_no_rate),
      cmocka_unit_test(fold_keeps_every_unit),
      cmocka_unit_test(count_going_back_is_a_reset),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
