/* The steady-state read path opens nothing, allocates nothing and makes one
 * pread per counter. Linked with -Wl,--wrap for those calls, so every call
 * the reader core and the backends make is counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "call_count.h"
#include "fixture.h"
#include "reader.h"
#include "sim_harness.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static int samples;
static void count_sample(const struct rapl_sample *s, void *ud) {
  (void)s;
  (void)ud;
  samples++;
}

/* A clock for the fixture trees, whose counters do not move: any advance
 * gives the reads a rate. */
static int64_t fake_now_ns;
static int64_t fake_clock(void *ud) {
  (void)ud;
  return fake_now_ns;
}

/* Three steady reads after the first (which opens and baselines), 20 ms of
 * sim (or fake) time apart. */
static void assert_steady(struct rapl_reader *r, struct sim *sim, int zones,
                          int counters) {
  assert_int_equal(rapl_reader_read(r, count_sample, NULL), zones);
  for (int i = 0; i < 3; i++) {
    if (sim != NULL)
      sim_advance_ms(sim, 20);
    fake_now_ns += 20000000;
    samples = 0;
    call_count_start();
    int n = rapl_reader_read(r, count_sample, NULL);
    call_counting = false;
    assert_int_equal(n, zones);
    assert_int_equal(calls.alloc, 0);
    assert_int_equal(calls.open, 0);
    assert_int_equal(calls.pread, counters);
  }
}

static void powercap_steady_state(void **state) {
  (void)state;
  struct rapl_config cfg;
  char root[4096];
  snprintf(root, sizeof(root), "%s", fixture_path("powercap/two-socket"));
  fixture_config(&cfg, root);
  struct rapl_reader *r = rapl_reader_create(&cfg);
  rapl_reader_set_clock(r, fake_clock, NULL);
  assert_steady(r, NULL, 7, 7);
  rapl_reader_destroy(r);
}

static const char amd_spec[] =
    "vendor amd\nfamily 25\nmodel 1\nesu 16\n"
    "cpu 0 package 0 core 0\ncpu 1 package 0 core 1\n"
    "cpu 2 package 0 core 2\ncpu 3 package 0 core 3\n"
    "cpu 4 package 0 core 0\ncpu 5 package 0 core 1\n"
    "cpu 6 package 0 core 2\ncpu 7 package 0 core 3\n"
    "zone package package 0 watts 55\n"
    "zone core package 0 core 0 watts 3\nzone core package 0 core 1 watts 4\n"
    "zone core package 0 core 2 watts 5\nzone core package 0 core 3 watts 6\n";

static void msr_steady_state(void **state) {
  (void)state;
  struct sim sim;
  struct rapl_config cfg;
  sim_start(&sim, amd_spec);
  sim_config(&sim, &cfg);
  cfg.msr_force = true;
  cfg.msr_min_interval = 0;
  struct rapl_reader *r = rapl_reader_create(&cfg);
  sim_attach(&sim, r);
  /* package (1 counter) + core (one per physical core: 4, not 8 threads) */
  assert_steady(r, &sim, 2, 5);
  rapl_reader_destroy(r);
  sim_stop(&sim);
}

int main(void) {
  fixture_capture_logs();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(powercap_steady_state),
      cmocka_unit_test_teardown(msr_steady_state, sim_teardown),
  };
  return sim_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
