/* The perf backend's steady-state read path: one read(2) per zone (perf
 * descriptors refuse pread), no perf_event_open, no open, no allocation.
 * Linked with -Wl,--wrap for those calls, like t/test_read_path.c, so every
 * call the reader core, the backend and the seam make is counted; the
 * simulator serves the counts in its own process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "call_count.h"
#include "fixture.h"
#include "perf.h"
#include "perf_shim.h"
#include "reader.h"
#include "sim_harness.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define N_ZONES 7 /* t/sim/specs/two-socket-intel-perf.spec */

static int n_perf_open;

static const char *perf_root;

static int open_in_sim(struct perf_event_attr *attr, pid_t pid, int cpu,
                       int group_fd, unsigned long flags) {
  n_perf_open += call_counting;
  return sim_perf_event_open(perf_root, attr, pid, cpu, group_fd, flags);
}

static int samples, with_power;
static void count_sample(const struct rapl_sample *s, void *ud) {
  (void)ud;
  samples++;
  with_power += s->has_power;
}

/* Reads ms apart after the first (which selects, opens and baselines):
 * each makes one read per zone and nothing else. */
static void assert_steady(int64_t ms) {
  struct sim sim;
  struct rapl_config cfg;
  sim_start(&sim, sim_spec_file("two-socket-intel-perf.spec", ""));
  perf_root = sim.mnt;
  rapl_perf_set_open(open_in_sim);
  sim_config(&sim, &cfg);
  struct rapl_reader *r = rapl_reader_create(&cfg);
  sim_attach(&sim, r);
  n_perf_open = 0;
  call_count_start(); /* the first read: discovery, which is not free */
  assert_int_equal(rapl_reader_read(r, count_sample, NULL), N_ZONES);
  call_counting = false;
  assert_int_equal(n_perf_open, N_ZONES);
  assert_string_equal(rapl_reader_backend(r)->name, "perf");
  for (int i = 0; i < 5; i++) {
    sim_advance_ms(&sim, ms);
    n_perf_open = 0;
    samples = with_power = 0;
    call_count_start();
    int n = rapl_reader_read(r, count_sample, NULL);
    call_counting = false;
    assert_int_equal(n, N_ZONES);
    assert_int_equal(with_power, N_ZONES);
    assert_int_equal(calls.read, N_ZONES);
    assert_int_equal(calls.pread, 0);
    assert_int_equal(n_perf_open, 0);
    assert_int_equal(calls.open, 0);
    assert_int_equal(calls.alloc, 0);
  }
  rapl_reader_destroy(r);
  rapl_perf_set_open(NULL);
  sim_stop(&sim);
}

/* Faster than discovery is ever retried. */
static void perf_steady_state(void **state) {
  (void)state;
  assert_steady(20);
}

/* At collectd's usual Interval the reader looks once a second whether
 * powercap, ahead of perf, reads again; where it does not exist that is a
 * stat, and still no open. */
static void perf_steady_state_once_a_second(void **state) {
  (void)state;
  assert_steady(1000);
}

/* powercap present but its energy_uj denied (a collectd that is not root
 * reads perf through CAP_PERFMON): the attempts to take powercap back cost
 * opens, so they back off, doubling from 2 s to 64 s; every read between
 * them makes one read per zone and nothing else; and powercap, once
 * readable, is taken back at the next attempt. */
static void denied_powercap_backs_off(void **state) {
  (void)state;
  static const char *const zones[] = {
      "0", "0/intel-rapl:0:0", "0/intel-rapl:0:1",
      "1", "1/intel-rapl:1:0", "1/intel-rapl:1:1",
      "2"};
  static const int attempts[] = {1, 3, 7, 15, 31, 63, 127, 191};
  struct sim sim;
  struct rapl_config cfg;
  sim_start(&sim, sim_spec_file("two-socket-intel-both.spec", ""));
  for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++)
    sim_ctl(&sim,
            "deny sys/devices/virtual/powercap/intel-rapl/intel-rapl:%s/"
            "energy_uj",
            zones[z]);
  perf_root = sim.mnt;
  rapl_perf_set_open(open_in_sim);
  sim_config(&sim, &cfg);
  struct rapl_reader *r = rapl_reader_create(&cfg);
  sim_attach(&sim, r);
  assert_int_equal(rapl_reader_read(r, count_sample, NULL), N_ZONES);
  assert_string_equal(rapl_reader_backend(r)->name, "perf");
  size_t next = 0;
  for (int t = 1; t <= 200; t++) {
    if (t == 150) /* readable from now on: taken back at t = 191 */
      for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++)
        sim_ctl(&sim,
                "allow sys/devices/virtual/powercap/intel-rapl/"
                "intel-rapl:%s/energy_uj",
                zones[z]);
    sim_advance_ms(&sim, 1000);
    n_perf_open = 0;
    call_count_start();
    int n = rapl_reader_read(r, count_sample, NULL);
    call_counting = false;
    assert_int_equal(n, N_ZONES);
    bool attempt =
        next < sizeof(attempts) / sizeof(attempts[0]) && t == attempts[next];
    if (!attempt && strcmp(rapl_reader_backend(r)->name, "perf") == 0) {
      if (calls.open != 0)
        fail_msg("t = %d s: %ld opens while perf serves between attempts", t,
                 calls.open);
      assert_int_equal(calls.read, N_ZONES);
      assert_int_equal(calls.alloc, 0);
    } else if (attempt) {
      if (calls.open == 0)
        fail_msg("t = %d s: no attempt to open powercap", t);
      next++;
    }
    assert_string_equal(rapl_reader_backend(r)->name,
                        t >= 191 ? "powercap" : "perf");
  }
  rapl_reader_destroy(r);
  rapl_perf_set_open(NULL);
  sim_stop(&sim);
}

int main(void) {
  fixture_capture_logs();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(perf_steady_state, sim_teardown),
      cmocka_unit_test_teardown(perf_steady_state_once_a_second, sim_teardown),
      cmocka_unit_test_teardown(denied_powercap_backs_off, sim_teardown),
  };
  return sim_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
