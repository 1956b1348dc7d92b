/* The reader against the simulator on its virtual clock: time moves only
 * when the test advances it, so power comes out exact to the counter's unit
 * whatever the machine's load, and files vanish, fail and come back the way
 * the kernel's do. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "energy_counter.h"
#include "fixture.h"
#include "reader.h"
#include "seen.h"
#include "sim_harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PKG0_UJ "sys/devices/virtual/powercap/intel-rapl/intel-rapl:0/energy_uj"

/* Power on the virtual clock is exact but for the counters' rounding: one
 * unit at each end of an interval of several hundred ms. */
#define REL_TOL 1e-4
/* The ESU 14 unit of the spec below, and the DRAM unit it overrides. */
#define UNIT_J (1.0 / 16384)
#define DRAM_UNIT_J 15.3e-6

static const char two_socket_spec[] =
    "vendor intel\nfamily 6\nmodel 85\nesu 14\n"
    "cpu 0 package 0 core 0\ncpu 1 package 0 core 1\n"
    "cpu 2 package 1 core 0\ncpu 3 package 1 core 1\n"
    "zone package package 0 watts 45.5\n"
    "zone core package 0 watts 20\n"
    "zone dram package 0 watts 7.5 unit_uj 15.3\n"
    "zone package package 1 watts 61.25\n"
    "zone core package 1 watts 30\n"
    "zone dram package 1 watts 9 unit_uj 15.3\n";

static const struct expect two_socket_watts[] = {
    {"package-0", RAPL_ZONE_PACKAGE, 45.5, UNIT_J},
    {"package-0", RAPL_ZONE_CORE, 20, UNIT_J},
    {"package-0", RAPL_ZONE_DRAM, 7.5, DRAM_UNIT_J},
    {"package-1", RAPL_ZONE_PACKAGE, 61.25, UNIT_J},
    {"package-1", RAPL_ZONE_CORE, 30, UNIT_J},
    {"package-1", RAPL_ZONE_DRAM, 9, DRAM_UNIT_J},
};

static void assert_watts(const struct seen *seen, const struct expect *e,
                         size_t n) {
  for (size_t i = 0; i < n; i++) {
    const struct rapl_sample *s = must_find(seen, &e[i]);
    assert_true(s->has_power);
    if (fabs(s->power_w - e[i].watts) > e[i].watts * REL_TOL)
      fail_msg("%s/%s: %.6f W, simulated %.6f W", e[i].instance,
               rapl_zone_kind_name(e[i].kind), s->power_w, e[i].watts);
  }
}

/* The energy a zone reported equals what the simulator drew over the seconds
 * between two reads, to one counter unit (plus the microjoule that powercap's
 * text rounds away at each end). */
static void assert_energy(const struct seen *seen, const struct expect *e,
                          size_t n, double seconds) {
  for (size_t i = 0; i < n; i++) {
    const struct rapl_sample *s = must_find(seen, &e[i]);
    double want = e[i].watts * seconds;
    if (fabs(s->energy_j - want) > e[i].unit_j + 2e-6)
      fail_msg("%s/%s: %.9f J reported, %.9f J simulated over %.9f s "
               "(off by %.3g units)",
               e[i].instance, rapl_zone_kind_name(e[i].kind), s->energy_j, want,
               seconds, (s->energy_j - want) / e[i].unit_j);
  }
}

static struct rapl_reader *reader_on(struct sim *sim,
                                     const struct rapl_config *cfg) {
  struct rapl_reader *r = rapl_reader_create(cfg);
  assert_non_null(r);
  sim_attach(sim, r);
  return r;
}

static void powercap_power_matches_simulation(void **state) {
  (void)state;
  struct sim sim;
  struct rapl_config cfg;
  struct seen seen;
  sim_start(&sim, two_socket_spec);
  sim_config(&sim, &cfg);
  struct rapl_reader *r = reader_on(&sim, &cfg);
  sim_advance_ms(&sim, 123); /* not at the counters' origin */
  assert_int_equal(read_now(r, &seen), 6);
  for (int round = 1; round <= 3; round++) {
    sim_advance_ms(&sim, 400);
    assert_int_equal(read_now(r, &seen), 6);
    assert_watts(&seen, two_socket_watts, 6);
    assert_energy(&seen, two_socket_watts, 6, 0.4 * round);
  }
  rapl_reader_destroy(r);
  sim_stop(&sim);
}

/* A zone that vanishes and returns (a driver reload) reads the same
 * counter: the outage is accounted as one long interval, its power the
 * energy over the whole gap, and only the first failure and the recovery
 * are logged. */
static void short_outage_is_bridged(void **state) {
  (void)state;
  struct sim sim;
  struct rapl_config cfg;
  struct seen seen;
  sim_start(&sim, two_socket_spec);
  sim_config(&sim, &cfg);
  fixture_capture_logs();
  struct rapl_reader *r = reader_on(&sim, &cfg);
  read_now(r, &seen);
  sim_advance_ms(&sim, 200);
  read_now(r, &seen);

  sim_ctl(&sim, "hide %s", PKG0_UJ); /* like a driver unload */
  for (int i = 0; i < 30; i++) {
    sim_advance_ms(&sim, 600);
    assert_int_equal(read_now(r, &seen), 5);
    assert_null(find(&seen, "package-0", RAPL_ZONE_PACKAGE));
  }
  assert_int_equal(fixture_log_count("values are withheld"), 1);
  assert_int_equal(fixture_log_count("No such device"), 1);
  assert_int_equal(fixture_log_count("readable again"), 0);

  sim_ctl(&sim, "show %s", PKG0_UJ);
  sim_advance_ms(&sim, 1000); /* rescans run at most once a second */
  assert_int_equal(read_now(r, &seen), 6);
  assert_watts(&seen, two_socket_watts, 6); /* over the 19 s gap, too */
  assert_energy(&seen, two_socket_watts, 6, 19.2);
  assert_int_equal(fixture_log_count("readable again"), 1);
  assert_int_equal(fixture_log_count("not counted"), 0);
  rapl_reader_destroy(r);
  sim_stop(&sim);
}

/* An outage longer than one counter range at the plausibility bound cannot
 * tell how often the counter wrapped: re-baselined, the seconds logged. */
static void long_outage_rebaselines(void **state) {
  (void)state;
  struct sim sim;
  struct rapl_config cfg;
  struct seen seen;
  /* 2^32 units of 1/16384 J at the 2000 W default: 131.072 s. */
  sim_start(&sim, "vendor intel\nesu 14\ncpu 0 package 0\n"
                  "zone package package 0 watts 45.5\n");
  sim_config(&sim, &cfg);
  fixture_capture_logs();
  struct rapl_reader *r = reader_on(&sim, &cfg);
  read_now(r, &seen);
  sim_advance_ms(&sim, 1000);
  read_now(r, &seen);
  double before = seen.s[0].energy_j;
  sim_ctl(&sim, "hide %s", PKG0_UJ);
  sim_advance_ms(&sim, 1000);
  assert_int_equal(read_now(r, &seen), -1); /* its only zone: none left */
  sim_ctl(&sim, "show %s", PKG0_UJ);
  sim_advance_ms(&sim, 130500); /* 131.5 s since the last reading */
  assert_int_equal(read_now(r, &seen), 1);
  assert_false(seen.s[0].has_power);
  assert_true(seen.s[0].energy_j == before);
  assert_int_equal(fixture_log_count("131.500 s, longer than"), 1);
  assert_int_equal(fixture_log_count("not counted"), 1);
  sim_advance_ms(&sim, 1000);
  assert_int_equal(read_now(r, &seen), 1);
  assert_true(fabs(seen.s[0].power_w - 45.5) <= 45.5 * REL_TOL);
  rapl_reader_destroy(r);
  sim_stop(&sim);
}

/* EIO from a file that still opens: the failure is logged once, the zone is
 * "back" only when a read succeeds. */
static void failing_reads_log_once(void **state) {
  (void)state;
  struct sim sim;
  struct rapl_config cfg;
  struct seen seen;
  sim_start(&sim, two_socket_spec);
  sim_config(&sim, &cfg);
  fixture_capture_logs();
  struct rapl_reader *r = reader_on(&sim, &cfg);
  read_now(r, &seen);
  sim_ctl(&sim, "fail %s 5", PKG0_UJ);
  for (int i = 0; i < 20; i++) {
    sim_advance_ms(&sim, 1000);
    assert_int_equal(read_now(r, &seen), 5);
  }
  assert_int_equal(fixture_log_count("Input/output error"), 1);
  assert_int_equal(fixture_log_count("readable again"), 0);
  sim_ctl(&sim, "unfail %s", PKG0_UJ);
  sim_advance_ms(&sim, 1000);
  assert_int_equal(read_now(r, &seen), 6);
  assert_watts(&seen, two_socket_watts, 6);
  assert_int_equal(fixture_log_count("readable again"), 1);
  rapl_reader_destroy(r);
  sim_stop(&sim);
}

/* A zone that cannot be opened at discovery is picked up once it can. */
static void zone_unreadable_at_discovery_is_retried(void **state) {
  (void)state;
  struct sim sim;
  struct rapl_config cfg;
  struct seen seen;
  sim_start(&sim, two_socket_spec);
  sim_config(&sim, &cfg);
  sim_ctl(&sim, "deny %s", PKG0_UJ);
  fixture_capture_logs();
  struct rapl_reader *r = reader_on(&sim, &cfg);
  assert_int_equal(read_now(r, &seen), 5);
  for (int i = 0; i < 5; i++) {
    sim_advance_ms(&sim, 1000);
    assert_int_equal(read_now(r, &seen), 5);
  }
  assert_int_equal(fixture_log_count("permission denied"), 1);
  sim_ctl(&sim, "allow %s", PKG0_UJ);
  sim_advance_ms(&sim, 1000);
  read_now(r, &seen);
  sim_advance_ms(&sim, 1000);
  assert_int_equal(read_now(r, &seen), 6);
  assert_watts(&seen, two_socket_watts, 6);
  assert_int_equal(fixture_log_count("could not be opened before"), 1);
  rapl_reader_destroy(r);
  sim_stop(&sim);
}

/* A counter reset to 0 close to the range looks like a wrap: a 40 W package
 * 2949 J short of its range, reset, read 10 s later, shows 294.9 W under the
 * default 2000 W bound. The power the zone states (50 W: a powercap limit,
 * or the MSRs' thermal spec power) bounds it to 150 W: the reset is caught. */
static void reset_near_range_is_caught_by_the_stated_limit(void **state) {
  (void)state;
  /* 0: no limit stated; 1: powercap's constraint; 2: MSR_PKG_POWER_INFO */
  for (int stated = 0; stated < 3; stated++) {
    struct sim sim;
    struct rapl_config cfg;
    struct seen seen;
    char spec[256];
    snprintf(spec, sizeof(spec),
             "vendor intel\nesu 14\ncpu 0 package 0\n"
             "zone package package 0 watts 40%s\n",
             stated ? " limit_w 50" : "");
    sim_start(&sim, spec);
    sim_config(&sim, &cfg);
    cfg.msr_force = stated == 2;
    cfg.msr_min_interval = 0;
    fixture_capture_logs();
    sim_ctl(&sim, "set package:0 %.6f", 4294967296.0 * UNIT_J - 2949);
    struct rapl_reader *r = reader_on(&sim, &cfg);
    read_now(r, &seen);
    sim_advance_ms(&sim, 10000);
    sim_ctl(&sim, "set package:0 0");
    read_now(r, &seen);
    double total = seen.s[0].energy_j;
    if (stated) {
      assert_false(seen.s[0].has_power);
      assert_true(total == 0.0); /* nothing invented */
      assert_int_equal(fixture_log_count("up to 150 W"), 1);
    } else {
      /* The window that remains without a stated limit (README). */
      assert_true(seen.s[0].has_power);
      assert_true(fabs(seen.s[0].power_w - 294.9) < 0.01);
    }
    rapl_reader_destroy(r);
    sim_stop(&sim);
  }
}

/* A package counter that stands still is frozen, not idle: its power is
 * withheld after a whole second, logged once, and resumes when it moves. A
 * core zone at 0 W is idle and still reported. */
static void frozen_package_withholds_power(void **state) {
  (void)state;
  struct sim sim;
  struct rapl_config cfg;
  struct seen seen;
  sim_start(&sim, two_socket_spec);
  sim_config(&sim, &cfg);
  fixture_capture_logs();
  struct rapl_reader *r = reader_on(&sim, &cfg);
  read_now(r, &seen);
  sim_ctl(&sim, "watts package:0 0");
  sim_ctl(&sim, "watts core:0 0");
  sim_advance_ms(&sim, 500);
  read_now(r, &seen); /* half a second: not yet */
  assert_true(find(&seen, "package-0", RAPL_ZONE_PACKAGE)->has_power);
  for (int i = 0; i < 5; i++) {
    sim_advance_ms(&sim, 500);
    assert_int_equal(read_now(r, &seen), 6);
    assert_false(find(&seen, "package-0", RAPL_ZONE_PACKAGE)->has_power);
    const struct rapl_sample *core = find(&seen, "package-0", RAPL_ZONE_CORE);
    assert_true(core->has_power);
    assert_true(core->power_w == 0.0);
  }
  assert_int_equal(fixture_log_count("has not moved"), 1);
  sim_ctl(&sim, "watts package:0 45.5");
  sim_advance_ms(&sim, 500);
  read_now(r, &seen);
  const struct rapl_sample *pkg = find(&seen, "package-0", RAPL_ZONE_PACKAGE);
  assert_true(pkg->has_power);
  assert_true(fabs(pkg->power_w - 45.5) <= 45.5 * REL_TOL);
  assert_int_equal(fixture_log_count("moves again"), 1);
  rapl_reader_destroy(r);
  sim_stop(&sim);
}

/* A large server's platform can draw more than a socket's 2000 W default:
 * its psys readings are energy, not resets. */
static void psys_above_the_socket_bound_is_energy(void **state) {
  (void)state;
  struct sim sim;
  struct rapl_config cfg;
  struct seen seen;
  sim_start(&sim, "vendor intel\nesu 14\ncpu 0 package 0\n"
                  "zone package package 0 watts 350\nzone psys watts 2600\n");
  sim_config(&sim, &cfg);
  fixture_capture_logs();
  struct rapl_reader *r = reader_on(&sim, &cfg);
  assert_int_equal(read_now(r, &seen), 2);
  for (int i = 0; i < 3; i++) {
    sim_advance_ms(&sim, 1000);
    assert_int_equal(read_now(r, &seen), 2);
    const struct rapl_sample *psys = find(&seen, "platform", RAPL_ZONE_PSYS);
    assert_non_null(psys);
    assert_true(psys->has_power);
    assert_true(fabs(psys->power_w - 2600) <= 2600 * REL_TOL);
  }
  assert_int_equal(fixture_log_count("reset"), 0);
  rapl_reader_destroy(r);
  sim_stop(&sim);
}

/* Repeated resets: one warning per zone per stretch. */
static void reset_warning_once_per_stretch(void **state) {
  (void)state;
  struct sim sim;
  struct rapl_config cfg;
  struct seen seen;
  sim_start(&sim, two_socket_spec);
  sim_config(&sim, &cfg);
  fixture_capture_logs();
  struct rapl_reader *r = reader_on(&sim, &cfg);
  read_now(r, &seen);
  for (int i = 0; i < 5; i++) {
    sim_advance_ms(&sim, 1000);
    sim_ctl(&sim, "jump package:0 5000");
    read_now(r, &seen);
    assert_false(find(&seen, "package-0", RAPL_ZONE_PACKAGE)->has_power);
  }
  assert_int_equal(fixture_log_count("a reset"), 1);
  sim_advance_ms(&sim, 1000);
  read_now(r, &seen);
  sim_advance_ms(&sim, 1000);
  sim_ctl(&sim, "jump package:0 5000");
  read_now(r, &seen);
  assert_int_equal(fixture_log_count("a reset"), 2); /* a new stretch */
  rapl_reader_destroy(r);
  sim_stop(&sim);
}

/* No RAPL for a while, then it appears: discovery is retried at most once a
 * second (a read up to 25% early counts), the first read of the stretch
 * fails and later ones do not, and the zones are found without waiting for
 * collectd's back-off. */
static void discovery_retried_once_a_second(void **state) {
  (void)state;
  struct sim sim;
  struct rapl_config cfg;
  struct seen seen;
  sim_start(&sim, two_socket_spec);
  sim_config(&sim, &cfg);
  sim_ctl(&sim, "hide sys/class/powercap");
  sim_open_cost_ns(&sim, 1000); /* to see when discovery runs */
  fixture_capture_logs();
  struct rapl_reader *r = reader_on(&sim, &cfg);
  assert_int_equal(read_now(r, &seen), -1);
  int64_t t = sim_clock(&sim);
  sim_advance_ms(&sim, 300);
  assert_int_equal(read_now(r, &seen), 0);
  assert_true(sim_clock(&sim) == t + 300000000); /* nothing was opened */
  sim_ctl(&sim, "show sys/class/powercap");
  sim_advance_ms(&sim, 300);
  assert_int_equal(read_now(r, &seen), 0); /* 0.6 s: not yet */
  sim_advance_ms(&sim, 300);
  assert_int_equal(read_now(r, &seen), 6); /* 0.9 s: found */
  assert_int_equal(fixture_log_count("powercap is unavailable"), 1);
  rapl_reader_destroy(r);
  sim_stop(&sim);
}

/* Every powercap zone lost (module unloaded) with MSREnabled: the MSRs take
 * over in the same read; when powercap is back, it is taken back, with the
 * energy continuous across that switch. */
static void fallback_to_msr_and_back(void **state) {
  (void)state;
  struct sim sim;
  struct rapl_config cfg;
  struct seen seen;
  sim_start(&sim, two_socket_spec);
  sim_config(&sim, &cfg);
  cfg.msr_enabled = true;
  cfg.msr_min_interval = 0;
  fixture_capture_logs();
  struct rapl_reader *r = reader_on(&sim, &cfg);
  read_now(r, &seen);
  sim_advance_ms(&sim, 1000);
  assert_int_equal(read_now(r, &seen), 6);
  sim_ctl(&sim, "hide sys/class/powercap");
  sim_ctl(&sim, "hide sys/devices/virtual/powercap");
  sim_advance_ms(&sim, 1000);
  assert_int_equal(read_now(r, &seen), 0); /* lost; MSRs baselined */
  assert_string_equal(rapl_reader_backend(r)->name, "msr");
  assert_int_equal(fixture_log_count("every zone of powercap was lost"), 2);
  assert_int_equal(fixture_log_count("backend msr selected"), 1);
  assert_int_equal(fixture_log_count("exposes the PLATYPUS side channel"), 1);
  sim_advance_ms(&sim, 1000);
  assert_int_equal(read_now(r, &seen), 6);
  assert_watts(&seen, two_socket_watts, 6);
  double before[6];
  for (size_t i = 0; i < 6; i++)
    before[i] = must_find(&seen, &two_socket_watts[i])->energy_j;
  int64_t t0 = sim_clock(&sim);

  sim_ctl(&sim, "show sys/class/powercap");
  sim_ctl(&sim, "show sys/devices/virtual/powercap");
  sim_advance_ms(&sim, 1000);
  assert_int_equal(read_now(r, &seen), 6); /* msr, then handed over */
  assert_string_equal(rapl_reader_backend(r)->name, "powercap");
  assert_int_equal(
      fixture_log_count("selected, 6 zone(s): the preferred backend"), 1);
  sim_advance_ms(&sim, 1000);
  assert_int_equal(read_now(r, &seen), 6);
  assert_watts(&seen, two_socket_watts, 6);
  double seconds = (double)(sim_clock(&sim) - t0) / 1e9;
  for (size_t i = 0; i < 6; i++) {
    const struct expect *e = &two_socket_watts[i];
    double got = must_find(&seen, e)->energy_j - before[i];
    assert_true(fabs(got - e->watts * seconds) <= 2 * (e->unit_j + 2e-6));
  }
  rapl_reader_destroy(r);
  sim_stop(&sim);
}

/* Nothing at all readable any more: the stretch's first read fails, the
 * next ones do not; the reason is logged once. */
static void all_lost_without_fallback(void **state) {
  (void)state;
  struct sim sim;
  struct rapl_config cfg;
  struct seen seen;
  sim_start(&sim, two_socket_spec);
  sim_config(&sim, &cfg);
  fixture_capture_logs();
  struct rapl_reader *r = reader_on(&sim, &cfg);
  read_now(r, &seen);
  sim_ctl(&sim, "hide sys/class/powercap");
  sim_ctl(&sim, "hide sys/devices/virtual/powercap");
  sim_advance_ms(&sim, 1000);
  assert_int_equal(read_now(r, &seen), -1);
  assert_null(rapl_reader_backend(r));
  for (int i = 0; i < 5; i++) {
    sim_advance_ms(&sim, 1000);
    assert_int_equal(read_now(r, &seen), 0);
  }
  assert_int_equal(fixture_log_count("powercap is unavailable"), 1);
  rapl_reader_destroy(r);
  sim_stop(&sim);
}

static void msr_reports_the_same_watts_as_powercap(void **state) {
  (void)state;
  struct sim sim;
  struct rapl_config pc, msr;
  struct seen a, b;
  sim_start(&sim, two_socket_spec);
  sim_config(&sim, &pc);
  msr = pc;
  msr.msr_force = true;
  struct rapl_reader *rp = reader_on(&sim, &pc);
  struct rapl_reader *rm = reader_on(&sim, &msr);
  read_now(rp, &a);
  read_now(rm, &b);
  assert_string_equal(rapl_reader_backend(rm)->name, "msr");
  sim_advance_ms(&sim, 1000);
  assert_int_equal(read_now(rp, &a), 6);
  assert_int_equal(read_now(rm, &b), 6);
  assert_watts(&a, two_socket_watts, 6);
  assert_watts(&b, two_socket_watts, 6);
  assert_energy(&a, two_socket_watts, 6, 1.0);
  assert_energy(&b, two_socket_watts, 6, 1.0);
  rapl_reader_destroy(rp);
  rapl_reader_destroy(rm);
  sim_stop(&sim);
}

/* MSRMinInterval holds reads back for that long less RAPL_EARLY_SLACK (25%),
 * which lets collectd's slightly early reads through, and no less. */
static void msr_min_interval_boundary(void **state) {
  (void)state;
  struct sim sim;
  struct rapl_config cfg;
  struct seen seen;
  sim_start(&sim, two_socket_spec);
  sim_config(&sim, &cfg);
  cfg.msr_force = true;
  cfg.msr_min_interval = 0.5;
  struct rapl_reader *r = reader_on(&sim, &cfg);
  assert_int_equal(read_now(r, &seen), 6);
  sim_advance_ms(&sim, 150);
  assert_int_equal(read_now(r, &seen), 0);
  sim_advance_ns(&sim, 224999999); /* 1 ns short of 0.375 s */
  assert_int_equal(read_now(r, &seen), 0);
  sim_advance_ns(&sim, 1);
  assert_int_equal(read_now(r, &seen), 6);
  assert_watts(&seen, two_socket_watts, 6); /* over the whole 0.375 s */
  assert_energy(&seen, two_socket_watts, 6, 0.375);
  rapl_reader_destroy(r);
  sim_stop(&sim);
}

static void msr_device_failure_moves_to_another_cpu(void **state) {
  (void)state;
  struct sim sim;
  struct rapl_config cfg;
  struct seen seen;
  sim_start(&sim, two_socket_spec);
  sim_config(&sim, &cfg);
  cfg.msr_force = true;
  cfg.msr_min_interval = 0;
  fixture_capture_logs();
  struct rapl_reader *r = reader_on(&sim, &cfg);
  read_now(r, &seen);
  sim_advance_ms(&sim, 200);
  read_now(r, &seen);
  fixture_logs_reset();

  sim_ctl(&sim, "fail dev/cpu/0/msr 6"); /* ENXIO: CPU 0 went offline */
  sim_advance_ms(&sim, 100);
  assert_int_equal(read_now(r, &seen), 3); /* package-1 only */
  assert_null(find(&seen, "package-0", RAPL_ZONE_PACKAGE));
  assert_int_equal(fixture_log_count("values are withheld"), 3);
  sim_advance_ms(&sim, 1000);
  /* rediscovered on CPU 1: the same socket's counter, so the outage is
   * bridged and the power is exact over it */
  assert_int_equal(read_now(r, &seen), 6);
  assert_watts(&seen, two_socket_watts, 6);
  assert_energy(&seen, two_socket_watts, 6, 1.3);
  assert_int_equal(fixture_log_count("readable again"), 3);
  assert_non_null(strstr(fixture_logs(), "/dev/cpu/1/msr"));
  rapl_reader_destroy(r);
  sim_stop(&sim);
}

/* Every counter wraps between two reads: power and energy stay exact. With
 * MSRs the modulus is 2^32 units; powercap's max_energy_range_uj is
 * (2^32 - 1) units, so a wrap there may lose the one unit the kernel's
 * range leaves out, and no more. */
static void counters_wrap_between_reads(void **state) {
  (void)state;
  for (int use_msr = 0; use_msr < 2; use_msr++) {
    struct sim sim;
    struct rapl_config cfg;
    struct seen seen;
    sim_start(&sim, two_socket_spec);
    sim_config(&sim, &cfg);
    cfg.msr_force = use_msr;
    cfg.msr_min_interval = 0;
    /* Each counter wraps 100 ms from now. */
    for (size_t i = 0; i < 6; i++) {
      const struct expect *e = &two_socket_watts[i];
      sim_ctl(&sim, "set %s:%c %.9f", rapl_zone_kind_name(e->kind),
              e->instance[8], 4294967296.0 * e->unit_j - e->watts * 0.1);
    }
    struct rapl_reader *r = reader_on(&sim, &cfg);
    assert_int_equal(read_now(r, &seen), 6);
    sim_advance_ms(&sim, 300);
    assert_int_equal(read_now(r, &seen), 6);
    assert_watts(&seen, two_socket_watts, 6);
    assert_energy(&seen, two_socket_watts, 6, 0.3);
    rapl_reader_destroy(r);
    sim_stop(&sim);
  }
}

/* The last unit before the wrap and the first after it are one unit apart. */
static void msr_wrap_boundary_is_one_unit(void **state) {
  (void)state;
  struct sim sim;
  struct rapl_config cfg;
  struct seen seen;
  sim_start(&sim, "vendor intel\nesu 14\ncpu 0 package 0\n"
                  "zone package package 0 watts 16.384\n");
  sim_config(&sim, &cfg);
  cfg.msr_force = true;
  cfg.msr_min_interval = 0;
  /* Half a unit short of 2^32 units: the counter reads 0xffffffff; at
   * 16.384 W one unit (1/16384 J) takes 1/268435.456 s = 3725.29 ns. */
  sim_ctl(&sim, "set package:0 %.12f", (4294967296.0 - 0.5) * UNIT_J);
  struct rapl_reader *r = reader_on(&sim, &cfg);
  assert_int_equal(read_now(r, &seen), 1);
  sim_advance_ns(&sim, 3725); /* 0.99999 units later: now 2^32 - 0.5 + ... */
  assert_int_equal(read_now(r, &seen), 1);
  assert_true(seen.s[0].energy_j == UNIT_J); /* wrapped: exactly one unit */
  rapl_reader_destroy(r);
  sim_stop(&sim);
}

/* A step implying up to RAPL_MAX_PLAUSIBLE_WATTS is energy; beyond it, a
 * reset that is withheld rather than reported as a spike. */
static void plausibility_bound(void **state) {
  (void)state;
  struct sim sim;
  struct rapl_config cfg;
  struct seen seen;
  sim_start(&sim, "vendor intel\nesu 14\ncpu 0 package 0\n"
                  "zone package package 0 watts 45.5\n");
  sim_config(&sim, &cfg);
  fixture_capture_logs();
  struct rapl_reader *r = reader_on(&sim, &cfg);
  assert_int_equal(read_now(r, &seen), 1);
  /* Over one second, 45.5 W drawn plus a jump to just below the bound (two
   * units of margin for the counter's rounding). */
  double below = RAPL_MAX_PLAUSIBLE_WATTS - 45.5 - 2 * UNIT_J;
  sim_ctl(&sim, "jump package:0 %.9f", below);
  sim_advance_ms(&sim, 1000);
  assert_int_equal(read_now(r, &seen), 1);
  assert_true(seen.s[0].has_power);
  assert_true(fabs(seen.s[0].power_w -
                   (RAPL_MAX_PLAUSIBLE_WATTS - 2 * UNIT_J)) <= 2 * UNIT_J);
  double total = seen.s[0].energy_j;
  assert_int_equal(fixture_log_count("reset"), 0);
  /* Two units beyond it: a reset; the total does not move. */
  sim_ctl(&sim, "jump package:0 %.9f", below + 4 * UNIT_J);
  sim_advance_ms(&sim, 1000);
  assert_int_equal(read_now(r, &seen), 1);
  assert_false(seen.s[0].has_power);
  assert_true(seen.s[0].energy_j == total);
  assert_int_equal(fixture_log_count("a reset"), 1);
  sim_advance_ms(&sim, 1000);
  assert_int_equal(read_now(r, &seen), 1);
  assert_true(fabs(seen.s[0].power_w - 45.5) <= 45.5 * REL_TOL);
  rapl_reader_destroy(r);
  sim_stop(&sim);
}

/* Reads at 300 ms steps through a sequence of configurations, each switched
 * to at the read after it is given, while every open costs 2 ms of simulated
 * time (discovery is not free on a real machine): the energy totals stay
 * equal to what the simulator drew, to one counter unit per switch. */
static void energy_is_continuous_across(const struct rapl_config *cfgs,
                                        size_t n_cfgs,
                                        const char *const *backends) {
  struct sim sim;
  struct seen seen;
  sim_start(&sim, two_socket_spec);
  struct rapl_config base;
  sim_config(&sim, &base);
  /* The paths depend on the mount: keep the test's switches, take its paths */
  struct rapl_config *mine = calloc(n_cfgs, sizeof(*mine));
  assert_non_null(mine);
  for (size_t i = 0; i < n_cfgs; i++) {
    mine[i] = cfgs[i];
    memcpy(mine[i].sysfs_path, base.sysfs_path, sizeof(base.sysfs_path));
    memcpy(mine[i].procfs_path, base.procfs_path, sizeof(base.procfs_path));
    if (mine[i].msr_device_path[0] == '\0')
      memcpy(mine[i].msr_device_path, base.msr_device_path,
             sizeof(base.msr_device_path));
    else { /* a relative template here is a variant below the mount */
      char tmpl[sizeof(sim.mnt) + RAPL_PATH_MAX];
      snprintf(tmpl, sizeof(tmpl), "%s/%s", sim.mnt, cfgs[i].msr_device_path);
      assert_true(strlen(tmpl) < RAPL_PATH_MAX);
      memcpy(mine[i].msr_device_path, tmpl, RAPL_PATH_MAX);
    }
  }
  fixture_capture_logs();
  struct rapl_reader *r = reader_on(&sim, &mine[0]);
  sim_open_cost_ns(&sim, 2000000);
  assert_int_equal(read_now(r, &seen), 6);
  int64_t t0 = sim_clock(&sim); /* after discovery: the baseline's time */
  assert_string_equal(rapl_reader_backend(r)->name, backends[0]);
  for (size_t i = 1; i < n_cfgs; i++) {
    rapl_reader_reconfigure(r, &mine[i]);
    sim_advance_ms(&sim, 300);
    assert_int_equal(read_now(r, &seen), 6); /* the old one, to the end */
    assert_watts(&seen, two_socket_watts, 6);
    assert_string_equal(rapl_reader_backend(r)->name, backends[i]);
    sim_advance_ms(&sim, 300);
    assert_int_equal(read_now(r, &seen), 6); /* the new one, with a rate */
    assert_watts(&seen, two_socket_watts, 6);
  }
  double seconds = (double)(sim_clock(&sim) - t0) / 1e9;
  assert_true(seconds > 0.6 * (double)(n_cfgs - 1)); /* opens did cost */
  for (size_t i = 0; i < 6; i++) {
    const struct rapl_sample *s = must_find(&seen, &two_socket_watts[i]);
    double want = two_socket_watts[i].watts * seconds;
    double unit = two_socket_watts[i].unit_j;
    if (fabs(s->energy_j - want) > (double)n_cfgs * (unit + 2e-6))
      fail_msg("%s/%s: %.9f J reported over the switches, %.9f J simulated: "
               "%.1f units lost",
               two_socket_watts[i].instance,
               rapl_zone_kind_name(two_socket_watts[i].kind), s->energy_j, want,
               (want - s->energy_j) / unit);
  }
  rapl_reader_destroy(r);
  free(mine);
  sim_stop(&sim);
}

static void switch_powercap_to_msr_and_back(void **state) {
  (void)state;
  struct rapl_config cfgs[3];
  rapl_config_defaults(&cfgs[0]);
  cfgs[1] = cfgs[0];
  cfgs[1].msr_force = true;
  cfgs[1].msr_min_interval = 0;
  cfgs[2] = cfgs[0];
  const char *const backends[] = {"powercap", "msr", "powercap"};
  energy_is_continuous_across(cfgs, 3, backends);
  assert_int_equal(fixture_log_count("exposes the PLATYPUS side channel"), 1);
  assert_int_equal(fixture_log_count("backend msr selected"), 1);
  assert_int_equal(fixture_log_count("backend powercap selected"), 2);
}

/* MSR to MSR (the device path changed, the counters did not). */
static void switch_msr_to_msr(void **state) {
  (void)state;
  struct rapl_config cfgs[3];
  rapl_config_defaults(&cfgs[0]);
  cfgs[0].msr_force = true;
  cfgs[0].msr_min_interval = 0;
  cfgs[0].msr_device_path[0] = '\0';
  cfgs[1] = cfgs[0];
  snprintf(cfgs[1].msr_device_path, sizeof(cfgs[1].msr_device_path),
           "dev/../dev/cpu/%%d/msr");
  cfgs[2] = cfgs[0];
  const char *const backends[] = {"msr", "msr", "msr"};
  energy_is_continuous_across(cfgs, 3, backends);
  assert_int_equal(fixture_log_count("exposes the PLATYPUS side channel"), 1);
}

/* Options that reopen nothing take effect without a new baseline. */
static void reporting_change_reopens_nothing(void **state) {
  (void)state;
  struct sim sim;
  struct rapl_config cfg, slower;
  struct seen seen;
  sim_start(&sim, two_socket_spec);
  sim_config(&sim, &cfg);
  cfg.msr_force = true;
  cfg.msr_min_interval = 0;
  slower = cfg;
  slower.msr_min_interval = 0.1;
  fixture_capture_logs();
  struct rapl_reader *r = reader_on(&sim, &cfg);
  read_now(r, &seen);
  sim_advance_ms(&sim, 300);
  rapl_reader_reconfigure(r, &slower);
  read_now(r, &seen);
  assert_watts(&seen, two_socket_watts, 6);
  sim_advance_ms(&sim, 300);
  read_now(r, &seen);
  assert_watts(&seen, two_socket_watts, 6);
  assert_energy(&seen, two_socket_watts, 6, 0.6);
  assert_int_equal(fixture_log_count("backend msr selected"), 1);
  rapl_reader_destroy(r);
  sim_stop(&sim);
}

/* powercap present / absent / unreadable x MSREnabled x MSRForce. */
static void selection_matrix(void **state) {
  (void)state;
  const char *variants[] = {"present", "absent", "unreadable"};
  for (int v = 0; v < 3; v++) {
    for (int enabled = 0; enabled < 2; enabled++) {
      for (int force = 0; force < 2; force++) {
        struct sim sim;
        struct rapl_config cfg;
        struct seen seen;
        char spec[2048];
        snprintf(spec, sizeof(spec), "%s%s", two_socket_spec,
                 v == 1 ? "powercap off\n" : "");
        sim_start(&sim, spec);
        if (v == 2) {
          const char *zones[] = {"0", "0/intel-rapl:0:0", "0/intel-rapl:0:1",
                                 "1", "1/intel-rapl:1:0", "1/intel-rapl:1:1"};
          for (int z = 0; z < 6; z++)
            sim_ctl(&sim,
                    "deny sys/devices/virtual/powercap/intel-rapl/"
                    "intel-rapl:%s/energy_uj",
                    zones[z]);
        }
        sim_config(&sim, &cfg);
        cfg.msr_enabled = enabled;
        cfg.msr_force = force;
        fixture_capture_logs();
        struct rapl_reader *r = reader_on(&sim, &cfg);
        int n = read_now(r, &seen);
        const struct rapl_backend *b = rapl_reader_backend(r);
        const char *want = force     ? "msr"
                           : v == 0  ? "powercap"
                           : enabled ? "msr"
                                     : NULL;
        print_message("powercap %s, MSREnabled %d, MSRForce %d: %s\n",
                      variants[v], enabled, force, b ? b->name : "(none)");
        if (want == NULL) {
          assert_null(b);
          assert_int_equal(n, -1);
          assert_int_equal(fixture_log_count("MSREnabled true"), 1);
          assert_int_equal(fixture_log_count(v == 1 ? "no powercap directory"
                                                    : "permission denied"),
                           1);
        } else {
          assert_non_null(b);
          assert_string_equal(b->name, want);
          assert_true(n > 0);
          assert_int_equal(
              fixture_log_count("exposes the PLATYPUS side channel"),
              !strcmp(want, "msr") ? 1 : 0);
        }
        rapl_reader_destroy(r);
        sim_stop(&sim);
      }
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(powercap_power_matches_simulation,
                                sim_teardown),
      cmocka_unit_test_teardown(short_outage_is_bridged, sim_teardown),
      cmocka_unit_test_teardown(long_outage_rebaselines, sim_teardown),
      cmocka_unit_test_teardown(failing_reads_log_once, sim_teardown),
      cmocka_unit_test_teardown(zone_unreadable_at_discovery_is_retried,
                                sim_teardown),
      cmocka_unit_test_teardown(reset_near_range_is_caught_by_the_stated_limit,
                                sim_teardown),
      cmocka_unit_test_teardown(frozen_package_withholds_power, sim_teardown),
      cmocka_unit_test_teardown(reset_warning_once_per_stretch, sim_teardown),
      cmocka_unit_test_teardown(psys_above_the_socket_bound_is_energy,
                                sim_teardown),
      cmocka_unit_test_teardown(discovery_retried_once_a_second, sim_teardown),
      cmocka_unit_test_teardown(fallback_to_msr_and_back, sim_teardown),
      cmocka_unit_test_teardown(all_lost_without_fallback, sim_teardown),
      cmocka_unit_test_teardown(msr_reports_the_same_watts_as_powercap,
                                sim_teardown),
      cmocka_unit_test_teardown(msr_min_interval_boundary, sim_teardown),
      cmocka_unit_test_teardown(msr_device_failure_moves_to_another_cpu,
                                sim_teardown),
      cmocka_unit_test_teardown(counters_wrap_between_reads, sim_teardown),
      cmocka_unit_test_teardown(msr_wrap_boundary_is_one_unit, sim_teardown),
      cmocka_unit_test_teardown(plausibility_bound, sim_teardown),
      cmocka_unit_test_teardown(switch_powercap_to_msr_and_back, sim_teardown),
      cmocka_unit_test_teardown(switch_msr_to_msr, sim_teardown),
      cmocka_unit_test_teardown(reporting_change_reopens_nothing, sim_teardown),
      cmocka_unit_test_teardown(selection_matrix, sim_teardown),
  };
  return sim_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
