/* The reader on the perf backend, against the simulator's power PMU on its
 * virtual clock: perf_event_open goes through rapl_perf_set_open to
 * sim_perf_event_open (t/perf_shim.c), which opens the simulator's count
 * files. Power comes out exact to the hardware unit whatever the machine's
 * load; CPUs go offline, the PMU vanishes, reads fail and counts go back
 * the way the kernel's do. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "backend.h"
#include "capability.h"
#include "fixture.h"
#include "perf.h"
#include "perf_shim.h"
#include "rapl_log.h"
#include "reader.h"
#include "seen.h"
#include "sim_harness.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REL_TOL 1e-4
#define UNIT_J (1.0 / 16384) /* the specs' esu 14 */
#define DRAM_UNIT_J 15.3e-6
/* capability.h's numbers, for capset in a child */

/* t/sim/specs/two-socket-intel-{perf,both}.spec */
static const struct expect spec_watts[] = {
    {"package-0", RAPL_ZONE_PACKAGE, 45.5, UNIT_J},
    {"package-0", RAPL_ZONE_CORE, 20, UNIT_J},
    {"package-0", RAPL_ZONE_DRAM, 7.5, DRAM_UNIT_J},
    {"package-1", RAPL_ZONE_PACKAGE, 61.25, UNIT_J},
    {"package-1", RAPL_ZONE_CORE, 30, UNIT_J},
    {"package-1", RAPL_ZONE_DRAM, 9, DRAM_UNIT_J},
    {"platform", RAPL_ZONE_PSYS, 120, UNIT_J},
};
#define N_ZONES 7

/* ------------------------------------------------------------- the seam */

static const char *perf_root;

static int open_in_sim(struct perf_event_attr *attr, pid_t pid, int cpu,
                       int group_fd, unsigned long flags) {
  return sim_perf_event_open(perf_root, attr, pid, cpu, group_fd, flags);
}

/* A simulator on a shipped spec, the seam pointed at it, logs captured. */
static void start(struct sim *sim, struct rapl_config *cfg, const char *name,
                  const char *extra) {
  sim_start(sim, sim_spec_file(name, extra));
  perf_root = sim->mnt;
  rapl_perf_set_open(open_in_sim);
  sim_config(sim, cfg);
  fixture_capture_logs();
}

static int teardown(void **state) {
  rapl_perf_set_open(NULL);
  perf_root = NULL;
  return sim_teardown(state);
}

/* ------------------------------------------------------------- samples */

static void assert_watts_of(const struct seen *seen, const struct expect *e) {
  const struct rapl_sample *s = must_find(seen, e);
  if (!s->has_power)
    fail_msg("%s/%s: no power", e->instance, rapl_zone_kind_name(e->kind));
  if (fabs(s->power_w - e->watts) > e->watts * REL_TOL)
    fail_msg("%s/%s: %.6f W, simulated %.6f W", e->instance,
             rapl_zone_kind_name(e->kind), s->power_w, e->watts);
}

static void assert_watts(const struct seen *seen) {
  for (size_t i = 0; i < N_ZONES; i++)
    assert_watts_of(seen, &spec_watts[i]);
}

static bool on_package(const struct expect *e, const char *instance) {
  return !strcmp(e->instance, instance);
}

/* The sample's energy minus base equals the simulated watts over seconds,
 * to tol. */
static void assert_energy_of(const struct seen *seen, const struct expect *e,
                             double base, double seconds, double tol) {
  double got = must_find(seen, e)->energy_j - base;
  double want = e->watts * seconds;
  if (fabs(got - want) > tol)
    fail_msg("%s/%s: %.9f J reported, %.9f J simulated over %.9f s (off by "
             "%.3g units)",
             e->instance, rapl_zone_kind_name(e->kind), got, want, seconds,
             (got - want) / e->unit_j);
}

static struct rapl_reader *reader_on(struct sim *sim,
                                     const struct rapl_config *cfg) {
  struct rapl_reader *r = rapl_reader_create(cfg);
  assert_non_null(r);
  sim_attach(sim, r);
  return r;
}

/* A reader on the perf spec that has baselined and read once a second
 * later: every zone with power, the state the fault tests start from. */
static struct rapl_reader *reading(struct sim *sim, struct rapl_config *cfg,
                                   struct seen *seen) {
  start(sim, cfg, "two-socket-intel-perf.spec", "");
  struct rapl_reader *r = reader_on(sim, cfg);
  read_now(r, seen);
  sim_advance_ms(sim, 1000);
  assert_int_equal(read_now(r, seen), N_ZONES);
  return r;
}

/* Each expected zone's energy total in seen, in spec_watts order. */
static void energies(const struct seen *seen, double out[N_ZONES]) {
  for (size_t i = 0; i < N_ZONES; i++)
    out[i] = must_find(seen, &spec_watts[i])->energy_j;
}

static void assert_backend(const struct rapl_reader *r, const char *name) {
  const struct rapl_backend *b = rapl_reader_backend(r);
  if (b == NULL || strcmp(b->name, name) != 0)
    fail_msg("backend %s, want %s", b ? b->name : "none", name);
}

/* ---------------------------------------------------------------- tests */

/* No powercap: the reader reads through perf, exact to the hardware unit. */
static void perf_power_matches_simulation(void **state) {
  (void)state;
  struct sim sim;
  struct rapl_config cfg;
  struct seen seen;
  start(&sim, &cfg, "two-socket-intel-perf.spec", "");
  struct rapl_reader *r = reader_on(&sim, &cfg);
  sim_advance_ms(&sim, 123); /* not at the counters' origin */
  assert_int_equal(read_now(r, &seen), N_ZONES);
  assert_backend(r, "perf");
  for (int i = 0; i < seen.n; i++)
    assert_false(seen.s[i].has_power); /* the baseline */
  for (int round = 1; round <= 3; round++) {
    sim_advance_ms(&sim, 400);
    assert_int_equal(read_now(r, &seen), N_ZONES);
    assert_watts(&seen);
    for (size_t i = 0; i < N_ZONES; i++)
      assert_energy_of(&seen, &spec_watts[i], 0, 0.4 * round,
                       spec_watts[i].unit_j);
  }
  assert_int_equal(fixture_log_count("backend perf selected, 7 zone(s): "
                                     "powercap is unavailable: no powercap "
                                     "directory"),
                   1);
  assert_int_equal(fixture_log_count("perf event power/energy-psys/ on CPU 0"),
                   1);
  rapl_reader_destroy(r);
  sim_stop(&sim);
}

static size_t find_zone(const struct rapl_zone_set *set,
                        const struct rapl_zone *z) {
  for (size_t i = 0; i < set->n; i++)
    if (set->zones[i].kind == z->kind &&
        !strcmp(set->zones[i].instance, z->instance))
      return i;
  fail_msg("%s/%s missing", z->instance, rapl_zone_kind_name(z->kind));
  return 0;
}

/* Both backends on one machine: the same (instance, kind) pairs, and the
 * same energy over the same interval, so a dashboard survives a switch. */
static void identifiers_match_powercap(void **state) {
  (void)state;
  struct sim sim;
  struct rapl_config cfg;
  struct rapl_zone_set pc = {0}, pf = {0};
  char why[RAPL_MSG_MAX];
  start(&sim, &cfg, "two-socket-intel-both.spec", "");
  assert_int_equal(rapl_backend_powercap.probe(&cfg, why, sizeof(why)), 0);
  assert_int_equal(rapl_backend_powercap.open(&cfg, &pc, why, sizeof(why)),
                   N_ZONES);
  assert_int_equal(rapl_backend_perf.probe(&cfg, why, sizeof(why)), 0);
  assert_int_equal(rapl_backend_perf.open(&cfg, &pf, why, sizeof(why)),
                   N_ZONES);
  for (size_t i = 0; i < pc.n; i++)
    find_zone(&pf, &pc.zones[i]);
  for (size_t i = 0; i < pf.n; i++)
    find_zone(&pc, &pf.zones[i]);

  uint64_t pc0[N_ZONES], pf0[N_ZONES], pc1, pf1;
  sim_advance_ms(&sim, 777);
  for (size_t i = 0; i < N_ZONES; i++) {
    size_t j = find_zone(&pf, &pc.zones[i]);
    assert_int_equal(rapl_backend_powercap.read(&pc.zones[i], &pc0[i]), 0);
    assert_int_equal(rapl_backend_perf.read(&pf.zones[j], &pf0[j]), 0);
  }
  sim_advance_ms(&sim, 2500);
  for (size_t i = 0; i < N_ZONES; i++) {
    const struct rapl_zone *a = &pc.zones[i];
    size_t j = find_zone(&pf, a);
    const struct rapl_zone *b = &pf.zones[j];
    assert_int_equal(rapl_backend_powercap.read(a, &pc1), 0);
    assert_int_equal(rapl_backend_perf.read(b, &pf1), 0);
    double w_pc = (double)(pc1 - pc0[i]) * a->joules_per_unit / 2.5;
    double w_pf = (double)(pf1 - pf0[j]) * b->joules_per_unit / 2.5;
    if (!(w_pc > 0) || fabs(w_pf - w_pc) > w_pc * 1e-3)
      fail_msg("%s/%s: powercap %.6f W, perf %.6f W", a->instance,
               rapl_zone_kind_name(a->kind), w_pc, w_pf);
  }
  rapl_zone_set_clear(&pc, rapl_backend_powercap.close);
  rapl_zone_set_clear(&pf, rapl_backend_perf.close);
  sim_stop(&sim);
}

/* A CPU of cpumask goes offline: the kernel moves the events' CPU and the
 * old descriptors read ENODEV. The package's zones fail (logged once each),
 * are reopened on the new CPU at the next rescan and re-baselined: the
 * first reading after the reopen has no power and the energy total it had,
 * the next ones the right watts. */
static void offline_cpu_moves_the_zones(void **state) {
  (void)state;
  struct sim sim;
  struct rapl_config cfg;
  struct seen seen;
  struct rapl_reader *r = reading(&sim, &cfg, &seen);
  double before[N_ZONES];
  energies(&seen, before);

  sim_ctl(&sim, "offline 4");
  for (int k = 0; k < 2; k++) { /* one read fails, the next rescans */
    sim_advance_ms(&sim, 1000);
    int n = read_now(r, &seen);
    if (k == 0) {
      assert_int_equal(n, 4);
      assert_null(find(&seen, "package-1", RAPL_ZONE_PACKAGE));
      for (size_t i = 0; i < N_ZONES; i++)
        if (on_package(&spec_watts[i], "package-0"))
          assert_watts_of(&seen, &spec_watts[i]);
    }
  }
  /* reopened on CPU 5, its first reading is a baseline */
  assert_int_equal(seen.n, N_ZONES);
  for (size_t i = 0; i < N_ZONES; i++) {
    const struct expect *e = &spec_watts[i];
    const struct rapl_sample *s = must_find(&seen, e);
    if (on_package(e, "package-1")) {
      assert_false(s->has_power);
      assert_true(s->energy_j == before[i]); /* nothing invented */
    } else
      assert_watts_of(&seen, e);
  }
  assert_int_equal(fixture_log_count("values are withheld"), 3);
  assert_int_equal(
      fixture_log_count("perf: reading zone package-1/package from perf event "
                        "power/energy-pkg/ on CPU 4 failed (No such device)"),
      1);
  assert_int_equal(fixture_log_count("zone package-1/package now reads a "
                                     "reopened counter that starts from zero "
                                     "(perf event power/energy-pkg/ on CPU 5)"),
                   1);
  assert_int_equal(fixture_log_count("re-baselined"), 3);
  for (int k = 1; k <= 3; k++) {
    sim_advance_ms(&sim, 1000);
    assert_int_equal(read_now(r, &seen), N_ZONES);
    assert_watts(&seen);
    /* counted again from the reopen on, the outage not */
    for (size_t i = 0; i < N_ZONES; i++)
      if (on_package(&spec_watts[i], "package-1"))
        assert_energy_of(&seen, &spec_watts[i], before[i], k,
                         spec_watts[i].unit_j);
  }
  assert_int_equal(fixture_log_count("values are withheld"), 3);
  assert_int_equal(fixture_log_count("jumped"), 0);
  rapl_reader_destroy(r);
  sim_stop(&sim);
}

/* Every CPU of a package offline: the kernel drops the package from
 * cpumask, its zones are lost (logged once) and looked for once a second
 * without a word more; one CPU back online brings them back from a new
 * baseline. */
static void offline_package_returns_with_a_cpu(void **state) {
  (void)state;
  struct sim sim;
  struct rapl_config cfg;
  struct seen seen;
  struct rapl_reader *r = reading(&sim, &cfg, &seen);
  double before = must_find(&seen, &spec_watts[3])->energy_j;
  for (int cpu = 4; cpu < 8; cpu++)
    sim_ctl(&sim, "offline %d", cpu);
  for (int k = 0; k < 10; k++) {
    sim_advance_ms(&sim, 1000);
    assert_int_equal(read_now(r, &seen), 4);
    assert_null(find(&seen, "package-1", RAPL_ZONE_PACKAGE));
    assert_watts_of(&seen, &spec_watts[0]);
  }
  assert_int_equal(fixture_log_count("values are withheld"), 3);
  sim_ctl(&sim, "online 6");
  sim_advance_ms(&sim, 1000);
  assert_int_equal(read_now(r, &seen), N_ZONES);
  const struct rapl_sample *s = must_find(&seen, &spec_watts[3]);
  assert_false(s->has_power);
  assert_true(s->energy_j == before);
  assert_int_equal(fixture_log_count("(perf event power/energy-pkg/ on CPU "
                                     "6)"),
                   1);
  sim_advance_ms(&sim, 1000);
  assert_int_equal(read_now(r, &seen), N_ZONES);
  assert_watts(&seen);
  assert_energy_of(&seen, &spec_watts[3], before, 1.0, UNIT_J);
  assert_int_equal(fixture_log_count("values are withheld"), 3);
  rapl_reader_destroy(r);
  sim_stop(&sim);
}

/* The PMU's sysfs directory hidden (a container remount) takes nothing from
 * events already open: they count on, and nothing is logged. */
static void hidden_pmu_keeps_open_events(void **state) {
  (void)state;
  struct sim sim;
  struct rapl_config cfg;
  struct seen seen;
  start(&sim, &cfg, "two-socket-intel-perf.spec", "");
  struct rapl_reader *r = reader_on(&sim, &cfg);
  read_now(r, &seen);
  sim_ctl(&sim, "hide sys/devices/power");
  for (int k = 0; k < 3; k++) {
    sim_advance_ms(&sim, 1000);
    assert_int_equal(read_now(r, &seen), N_ZONES);
    assert_watts(&seen);
  }
  assert_int_equal(fixture_log_count("failed"), 0);
  rapl_reader_destroy(r);
  sim_stop(&sim);
}

/* The PMU gone with its events (hidden, and every open count dead): every
 * zone is lost, logged once, nothing is dispatched for them while it is
 * gone, and after it returns the zones carry on from a new baseline. */
static void vanished_pmu_loses_zones_until_it_returns(void **state) {
  (void)state;
  struct sim sim;
  struct rapl_config cfg;
  struct seen seen;
  struct rapl_reader *r = reading(&sim, &cfg, &seen);
  double before[N_ZONES];
  energies(&seen, before);

  sim_ctl(&sim, "hide sys/devices/power");
  sim_ctl(&sim, "hide perf");
  sim_advance_ms(&sim, 1000);
  assert_int_equal(read_now(r, &seen), -1); /* the stretch's first read */
  assert_int_equal(seen.n, 0);
  assert_null(rapl_reader_backend(r));
  for (int k = 0; k < 5; k++) {
    sim_advance_ms(&sim, 1000);
    assert_int_equal(read_now(r, &seen), 0);
    assert_int_equal(seen.n, 0);
  }
  assert_int_equal(fixture_log_count("values are withheld"), N_ZONES);
  assert_int_equal(fixture_log_count("every zone of perf was lost"), 1);
  assert_int_equal(fixture_log_count("perf is unavailable: no perf power PMU"),
                   1);

  sim_ctl(&sim, "show sys/devices/power");
  sim_ctl(&sim, "show perf");
  sim_advance_ms(&sim, 1000);
  assert_int_equal(read_now(r, &seen), N_ZONES);
  assert_backend(r, "perf");
  for (size_t i = 0; i < N_ZONES; i++) {
    const struct rapl_sample *s = must_find(&seen, &spec_watts[i]);
    assert_false(s->has_power);
    assert_true(s->energy_j == before[i]);
  }
  sim_advance_ms(&sim, 1000);
  assert_int_equal(read_now(r, &seen), N_ZONES);
  assert_watts(&seen);
  for (size_t i = 0; i < N_ZONES; i++)
    assert_energy_of(&seen, &spec_watts[i], before[i], 1.0,
                     spec_watts[i].unit_j);
  assert_int_equal(fixture_log_count("backend perf selected"), 2);
  assert_int_equal(fixture_log_count("re-baselined"), N_ZONES);
  assert_int_equal(fixture_log_count("jumped"), 0); /* a reopen, no reset */
  rapl_reader_destroy(r);
  sim_stop(&sim);
}

/* Reads of one event fail: withheld, logged once, back when they work. */
static void failing_event_logs_once(void **state) {
  (void)state;
  struct sim sim;
  struct rapl_config cfg;
  struct seen seen;
  struct rapl_reader *r = reading(&sim, &cfg, &seen);
  sim_ctl(&sim, "fail perf/cpu0/energy-pkg 5");
  for (int k = 0; k < 10; k++) {
    sim_advance_ms(&sim, 1000);
    assert_int_equal(read_now(r, &seen), N_ZONES - 1);
    assert_null(find(&seen, "package-0", RAPL_ZONE_PACKAGE));
  }
  assert_int_equal(fixture_log_count("package-0/package from perf event "
                                     "power/energy-pkg/ on CPU 0 failed "
                                     "(Input/output error)"),
                   1);
  assert_int_equal(fixture_log_count("readable again"), 0);
  double before = 0;
  sim_ctl(&sim, "unfail perf/cpu0/energy-pkg");
  sim_advance_ms(&sim, 1000);
  assert_int_equal(read_now(r, &seen), N_ZONES);
  const struct rapl_sample *s = must_find(&seen, &spec_watts[0]);
  assert_false(s->has_power); /* a new event, a new baseline */
  before = s->energy_j;
  assert_int_equal(fixture_log_count("readable again"), 1);
  sim_advance_ms(&sim, 1000);
  assert_int_equal(read_now(r, &seen), N_ZONES);
  assert_watts(&seen);
  assert_energy_of(&seen, &spec_watts[0], before, 1.0, UNIT_J);
  assert_int_equal(fixture_log_count("jumped"), 0); /* a reopen, no reset */
  assert_int_equal(fixture_log_count("has not moved"), 0);
  rapl_reader_destroy(r);
  sim_stop(&sim);
}

/* A count that goes back (set package:0 0 below what was counted) is a
 * reset: no power that read, the total kept, the right watts after. */
static void count_going_back_is_a_reset(void **state) {
  (void)state;
  struct sim sim;
  struct rapl_config cfg;
  struct seen seen;
  struct rapl_reader *r = reading(&sim, &cfg, &seen);
  double before = must_find(&seen, &spec_watts[0])->energy_j;
  sim_ctl(&sim, "set package:0 0");
  sim_advance_ms(&sim, 1000);
  assert_int_equal(read_now(r, &seen), N_ZONES);
  const struct rapl_sample *s = must_find(&seen, &spec_watts[0]);
  assert_false(s->has_power);
  assert_true(s->energy_j == before);
  for (size_t i = 1; i < N_ZONES; i++)
    assert_watts_of(&seen, &spec_watts[i]);
  assert_int_equal(fixture_log_count("package-0/package: the counter in perf "
                                     "event power/energy-pkg/ on CPU 0 jumped"),
                   1);
  sim_advance_ms(&sim, 1000);
  assert_int_equal(read_now(r, &seen), N_ZONES);
  assert_watts(&seen);
  assert_energy_of(&seen, &spec_watts[0], before, 1.0, UNIT_J);
  rapl_reader_destroy(r);
  sim_stop(&sim);
}

/* One read of a reader on cfg, in a child whose effective set lacks
 * CAP_SYS_ADMIN and CAP_PERFMON. Returns the backend's name (or "none")
 * and what was logged, through a pipe. */
struct child_read {
  const struct sim *sim;
  const struct rapl_config *cfg;
};

static int read_in_child(void *ud, int fd) {
  const struct child_read *c = ud;
  fixture_logs_reset();
  struct rapl_reader *r = rapl_reader_create(c->cfg);
  rapl_reader_set_clock(r, sim_clock, (void *)c->sim);
  struct seen seen;
  read_now(r, &seen);
  const struct rapl_backend *b = rapl_reader_backend(r);
  char head[64];
  snprintf(head, sizeof(head), "%s %d\n", b ? b->name : "none", seen.n);
  if (write(fd, head, strlen(head)) < 0 ||
      write(fd, fixture_logs(), strlen(fixture_logs())) < 0)
    return 4;
  rapl_reader_destroy(r);
  return 0;
}

static void unprivileged_read(const struct sim *sim,
                              const struct rapl_config *cfg, char *out,
                              size_t len) {
  static const int caps[] = {RAPL_CAP_SYS_ADMIN, RAPL_CAP_PERFMON};
  struct child_read c = {sim, cfg};
  assert_int_equal(fixture_without_caps(caps, 2, read_in_child, &c, out, len),
                   0);
}

/* perf_event_paranoid 2 and neither capability: perf refuses; the MSRs take
 * over where enabled, else the error names the missing grants. With
 * paranoid 0 perf needs no capability. */
static void refused_without_privilege(void **state) {
  (void)state;
  sim_need_root(); /* to drop capabilities, and for the MSRs */
  struct sim sim;
  struct rapl_config cfg;
  char out[16384];
  start(&sim, &cfg, "two-socket-intel-perf.spec", "");
  unprivileged_read(&sim, &cfg, out, sizeof(out));
  assert_contains(out, "none 0\n");
  assert_contains(out, "perf is unavailable: perf_event_open refused "
                       "power/energy-pkg/ on CPU 0 (Permission denied)");
  assert_contains(out, "/proc/sys/kernel/perf_event_paranoid at most 0 (it "
                       "is 2)");
  assert_contains(out, "this process has neither capability");
  assert_contains(out, "msr is disabled (MSREnabled is false)");

  cfg.msr_enabled = true;
  cfg.msr_min_interval = 0;
  unprivileged_read(&sim, &cfg, out, sizeof(out));
  assert_contains(out, "msr 7\n");
  /* The fallback's announcement says why perf was passed over. */
  assert_contains(out, "backend msr selected, 7 zone(s): powercap is "
                       "unavailable: no powercap directory");
  assert_contains(out, "; perf is unavailable: perf_event_open refused "
                       "power/energy-pkg/ on CPU 0 (Permission denied)");

  cfg.msr_enabled = false;
  sim_ctl(&sim, "paranoid 0");
  unprivileged_read(&sim, &cfg, out, sizeof(out));
  assert_contains(out, "perf 7\n");
  sim_stop(&sim);
}

/* A security module's refusal (deny): as root with paranoid 2 the grants
 * are there, and the message says what else refuses. */
static void refused_by_a_security_module(void **state) {
  (void)state;
  sim_need_root();
  struct sim sim;
  struct rapl_config cfg;
  struct seen seen;
  start(&sim, &cfg, "two-socket-intel-perf.spec", "");
  sim_ctl(&sim, "deny perf/cpu0/energy-pkg");
  struct rapl_reader *r = reader_on(&sim, &cfg);
  assert_int_equal(read_now(r, &seen), -1);
  assert_int_equal(seen.n, 0);
  assert_int_equal(fixture_log_count("perf is unavailable: perf_event_open "
                                     "refused power/energy-pkg/ on CPU 0"),
                   1);
  assert_int_equal(fixture_log_count("a security module"), 1);
  rapl_reader_destroy(r);

  cfg.msr_enabled = true;
  cfg.msr_min_interval = 0;
  fixture_logs_reset();
  r = reader_on(&sim, &cfg);
  read_now(r, &seen);
  assert_backend(r, "msr");
  sim_advance_ms(&sim, 1000);
  assert_int_equal(read_now(r, &seen), N_ZONES);
  assert_watts(&seen);
  rapl_reader_destroy(r);
  sim_stop(&sim);
}

/* powercap vanishes: every zone lost, perf takes over in the same read;
 * powercap returns: taken back within a second, with the energy continuous
 * across the switch back. */
static void switch_powercap_to_perf_and_back(void **state) {
  (void)state;
  struct sim sim;
  struct rapl_config cfg;
  struct seen seen;
  start(&sim, &cfg, "two-socket-intel-both.spec", "");
  struct rapl_reader *r = reader_on(&sim, &cfg);
  read_now(r, &seen);
  assert_backend(r, "powercap");
  sim_advance_ms(&sim, 1000);
  assert_int_equal(read_now(r, &seen), N_ZONES);
  assert_watts(&seen);
  double at_powercap[N_ZONES];
  energies(&seen, at_powercap);

  sim_ctl(&sim, "hide sys/class/powercap");
  sim_ctl(&sim, "hide sys/devices/virtual/powercap");
  sim_advance_ms(&sim, 1000);
  assert_int_equal(read_now(r, &seen), 0); /* lost; perf baselined */
  assert_backend(r, "perf");
  assert_int_equal(fixture_log_count("every zone of powercap was lost"), 2);
  assert_int_equal(fixture_log_count("backend perf selected"), 1);
  sim_advance_ms(&sim, 1000);
  assert_int_equal(read_now(r, &seen), N_ZONES);
  assert_watts(&seen);
  double before[N_ZONES];
  for (size_t i = 0; i < N_ZONES; i++) {
    before[i] = must_find(&seen, &spec_watts[i])->energy_j;
    /* the second perf counted, the second of the switch not */
    assert_energy_of(&seen, &spec_watts[i], at_powercap[i], 1.0,
                     spec_watts[i].unit_j + 2e-6);
  }
  int64_t t0 = sim_clock(&sim);

  sim_ctl(&sim, "show sys/class/powercap");
  sim_ctl(&sim, "show sys/devices/virtual/powercap");
  sim_advance_ms(&sim, 1000);
  assert_int_equal(read_now(r, &seen), N_ZONES); /* perf, then handed over */
  assert_backend(r, "powercap");
  assert_int_equal(
      fixture_log_count("selected, 7 zone(s): the preferred backend"), 1);
  for (int k = 0; k < 2; k++) {
    sim_advance_ms(&sim, 1000);
    assert_int_equal(read_now(r, &seen), N_ZONES);
    assert_watts(&seen);
  }
  double seconds = (double)(sim_clock(&sim) - t0) / 1e9;
  for (size_t i = 0; i < N_ZONES; i++)
    assert_energy_of(&seen, &spec_watts[i], before[i], seconds,
                     2 * (spec_watts[i].unit_j + 2e-6));
  rapl_reader_destroy(r);
  sim_stop(&sim);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(perf_power_matches_simulation, teardown),
      cmocka_unit_test_teardown(identifiers_match_powercap, teardown),
      cmocka_unit_test_teardown(offline_cpu_moves_the_zones, teardown),
      cmocka_unit_test_teardown(offline_package_returns_with_a_cpu, teardown),
      cmocka_unit_test_teardown(hidden_pmu_keeps_open_events, teardown),
      cmocka_unit_test_teardown(vanished_pmu_loses_zones_until_it_returns,
                                teardown),
      cmocka_unit_test_teardown(failing_event_logs_once, teardown),
      cmocka_unit_test_teardown(count_going_back_is_a_reset, teardown),
      cmocka_unit_test_teardown(refused_without_privilege, teardown),
      cmocka_unit_test_teardown(refused_by_a_security_module, teardown),
      cmocka_unit_test_teardown(switch_powercap_to_perf_and_back, teardown),
  };
  return sim_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
