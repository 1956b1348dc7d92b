/* The reader against the live simulator: counters advance in real time, and
 * files vanish, fail and come back the way the kernel's do. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fixture.h"
#include "reader.h"
#include "sim_harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PKG0_UJ "sys/devices/virtual/powercap/intel-rapl/intel-rapl:0/energy_uj"

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

struct expect {
  const char *instance;
  enum rapl_zone_kind kind;
  double watts;
};

static const struct expect two_socket_watts[] = {
    {"package-0", RAPL_ZONE_PACKAGE, 45.5},
    {"package-0", RAPL_ZONE_CORE, 20},
    {"package-0", RAPL_ZONE_DRAM, 7.5},
    {"package-1", RAPL_ZONE_PACKAGE, 61.25},
    {"package-1", RAPL_ZONE_CORE, 30},
    {"package-1", RAPL_ZONE_DRAM, 9},
};

struct seen {
  int n;
  struct rapl_sample s[32];
  char instances[32][64];
};

static void collect(const struct rapl_sample *sample, void *ud) {
  struct seen *seen = ud;
  snprintf(seen->instances[seen->n], 64, "%s", sample->instance);
  seen->s[seen->n] = *sample;
  seen->s[seen->n].instance = seen->instances[seen->n];
  seen->n++;
}

static void pause_ms(int ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int read_now(struct rapl_reader *r, struct seen *seen) {
  memset(seen, 0, sizeof(*seen));
  return rapl_reader_read(r, collect, seen);
}

static const struct rapl_sample *
find(const struct seen *seen, const char *instance, enum rapl_zone_kind kind) {
  for (int i = 0; i < seen->n; i++)
    if (seen->s[i].kind == kind && !strcmp(seen->s[i].instance, instance))
      return &seen->s[i];
  return NULL;
}

static void assert_watts(const struct seen *seen, const struct expect *e,
                         size_t n) {
  for (size_t i = 0; i < n; i++) {
    const struct rapl_sample *s = find(seen, e[i].instance, e[i].kind);
    if (s == NULL)
      fail_msg("no sample for %s/%s", e[i].instance,
               rapl_zone_kind_name(e[i].kind));
    assert_true(s->has_power);
    if (fabs(s->power_w - e[i].watts) > e[i].watts * 0.01)
      fail_msg("%s/%s: %.4f W, simulated %.4f W", e[i].instance,
               rapl_zone_kind_name(e[i].kind), s->power_w, e[i].watts);
  }
}

static void powercap_power_matches_simulation(void **state) {
  (void)state;
  struct sim sim;
  struct rapl_config cfg;
  struct seen seen;
  sim_start(&sim, two_socket_spec);
  sim_config(&sim, &cfg);
  struct rapl_reader *r = rapl_reader_create(&cfg);
  assert_int_equal(read_now(r, &seen), 6);
  for (int round = 0; round < 3; round++) {
    pause_ms(400);
    assert_int_equal(read_now(r, &seen), 6);
    assert_watts(&seen, two_socket_watts, 6);
  }
  rapl_reader_destroy(r);
  sim_stop(&sim);
}

static void vanished_zone_is_withheld_and_rediscovered(void **state) {
  (void)state;
  struct sim sim;
  struct rapl_config cfg;
  struct seen seen;
  sim_start(&sim, two_socket_spec);
  sim_config(&sim, &cfg);
  fixture_capture_logs();
  struct rapl_reader *r = rapl_reader_create(&cfg);
  read_now(r, &seen);
  pause_ms(200);
  read_now(r, &seen);
  double energy_before = find(&seen, "package-0", RAPL_ZONE_PACKAGE)->energy_j;

  sim_ctl(&sim, "hide %s", PKG0_UJ); /* like a driver unload */
  for (int i = 0; i < 3; i++) {
    pause_ms(100);
    assert_int_equal(read_now(r, &seen), 5);
    assert_null(find(&seen, "package-0", RAPL_ZONE_PACKAGE));
  }
  assert_int_equal(fixture_log_count("values are withheld"), 1);
  assert_int_equal(fixture_log_count("No such device"), 1);

  sim_ctl(&sim, "show %s", PKG0_UJ);
  pause_ms(100);
  assert_int_equal(read_now(r, &seen), 6);
  const struct rapl_sample *back = find(&seen, "package-0", RAPL_ZONE_PACKAGE);
  assert_non_null(back);
  assert_false(back->has_power); /* re-baselined: no spike over the gap */
  assert_true(back->energy_j == energy_before); /* the total carries on */
  assert_int_equal(fixture_log_count("readable again"), 1);
  pause_ms(300);
  read_now(r, &seen);
  assert_watts(&seen, two_socket_watts, 6);
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
  struct rapl_reader *rp = rapl_reader_create(&pc);
  struct rapl_reader *rm = rapl_reader_create(&msr);
  read_now(rp, &a);
  read_now(rm, &b);
  assert_string_equal(rapl_reader_backend(rm)->name, "msr");
  pause_ms(1000);
  assert_int_equal(read_now(rp, &a), 6);
  assert_int_equal(read_now(rm, &b), 6);
  assert_watts(&a, two_socket_watts, 6);
  assert_watts(&b, two_socket_watts, 6);
  for (int i = 0; i < a.n; i++) {
    const struct rapl_sample *m = find(&b, a.s[i].instance, a.s[i].kind);
    assert_non_null(m);
    assert_true(fabs(m->power_w - a.s[i].power_w) < a.s[i].power_w * 0.01);
  }
  rapl_reader_destroy(rp);
  rapl_reader_destroy(rm);
  sim_stop(&sim);
}

static void msr_min_interval_holds_reads_back(void **state) {
  (void)state;
  struct sim sim;
  struct rapl_config cfg;
  struct seen seen;
  sim_start(&sim, two_socket_spec);
  sim_config(&sim, &cfg);
  cfg.msr_force = true;
  cfg.msr_min_interval = 0.5;
  struct rapl_reader *r = rapl_reader_create(&cfg);
  assert_int_equal(read_now(r, &seen), 6);
  pause_ms(150);
  assert_int_equal(read_now(r, &seen), 0);
  pause_ms(150);
  assert_int_equal(read_now(r, &seen), 0);
  pause_ms(250);
  assert_int_equal(read_now(r, &seen), 6);
  assert_watts(&seen, two_socket_watts, 6); /* over the whole 550 ms */
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
  struct rapl_reader *r = rapl_reader_create(&cfg);
  read_now(r, &seen);
  pause_ms(200);
  read_now(r, &seen);
  fixture_logs_reset();

  sim_ctl(&sim, "fail dev/cpu/0/msr 6"); /* ENXIO: CPU 0 went offline */
  pause_ms(100);
  assert_int_equal(read_now(r, &seen), 3); /* package-1 only */
  assert_null(find(&seen, "package-0", RAPL_ZONE_PACKAGE));
  assert_int_equal(fixture_log_count("values are withheld"), 3);
  pause_ms(100);
  assert_int_equal(read_now(r, &seen), 6); /* rediscovered on CPU 1 */
  for (int i = 0; i < seen.n; i++)
    if (!strcmp(seen.s[i].instance, "package-0"))
      assert_false(seen.s[i].has_power);
  assert_int_equal(fixture_log_count("readable again"), 3);
  assert_non_null(strstr(fixture_logs(), "/dev/cpu/1/msr"));
  pause_ms(300);
  read_now(r, &seen);
  assert_watts(&seen, two_socket_watts, 6);
  rapl_reader_destroy(r);
  sim_stop(&sim);
}

static void switch_powercap_to_msr_and_back(void **state) {
  (void)state;
  struct sim sim;
  struct rapl_config pc, msr, msr_slower;
  struct seen seen;
  sim_start(&sim, two_socket_spec);
  sim_config(&sim, &pc);
  msr = pc;
  msr.msr_force = true;
  msr.msr_min_interval = 0;
  msr_slower = msr;
  msr_slower.msr_min_interval = 0.1;
  fixture_capture_logs();
  struct rapl_reader *r = rapl_reader_create(&pc);
  read_now(r, &seen);
  pause_ms(300);

  rapl_reader_reconfigure(r, &msr);
  assert_int_equal(read_now(r, &seen), 6); /* still powercap */
  assert_string_equal(rapl_reader_backend(r)->name, "msr");
  assert_watts(&seen, two_socket_watts, 6);
  pause_ms(300);
  assert_int_equal(read_now(r, &seen), 6); /* msr, with a rate already */
  assert_watts(&seen, two_socket_watts, 6);
  assert_int_equal(fixture_log_count("PLATYPUS"), 1);

  rapl_reader_reconfigure(r, &msr_slower); /* nothing to reopen */
  pause_ms(300);
  read_now(r, &seen);
  assert_watts(&seen, two_socket_watts, 6);
  assert_int_equal(fixture_log_count("backend msr selected"), 1);

  rapl_reader_reconfigure(r, &pc);
  pause_ms(300);
  read_now(r, &seen);
  assert_string_equal(rapl_reader_backend(r)->name, "powercap");
  pause_ms(300);
  read_now(r, &seen);
  assert_watts(&seen, two_socket_watts, 6);
  assert_int_equal(fixture_log_count("PLATYPUS"), 1);
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
        struct rapl_reader *r = rapl_reader_create(&cfg);
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
          assert_int_equal(fixture_log_count("PLATYPUS"),
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
      cmocka_unit_test_teardown(vanished_zone_is_withheld_and_rediscovered,
                                sim_teardown),
      cmocka_unit_test_teardown(msr_reports_the_same_watts_as_powercap,
                                sim_teardown),
      cmocka_unit_test_teardown(msr_min_interval_holds_reads_back,
                                sim_teardown),
      cmocka_unit_test_teardown(msr_device_failure_moves_to_another_cpu,
                                sim_teardown),
      cmocka_unit_test_teardown(switch_powercap_to_msr_and_back, sim_teardown),
      cmocka_unit_test_teardown(selection_matrix, sim_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
