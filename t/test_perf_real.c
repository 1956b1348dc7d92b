/* perf and powercap on this machine's own counters, where it has both: their
 * package energies over the same second must agree within 1%.
 *
 * This is the one test that reads real time, and it does not depend on the
 * machine's load: both backends read the same hardware counter
 * (MSR_PKG_ENERGY_STATUS, through two kernel interfaces), sampled back to
 * back at both ends of the interval, so whatever the package draws, both see
 * the same energy. What could differ is only the energy between the two
 * reads of a pair; a pair that took longer than PAIR_MAX_NS (the process was
 * preempted between them) is sampled again, so that gap stays below a
 * millisecond, under 0.1% of the second, at any power. The counter itself
 * updates about once a millisecond, another 0.1% at most.
 *
 * Elsewhere (no power PMU, or a backend that cannot read here) it says why
 * and exits 77, automake's SKIP. RAPL_TEST_SYSFS points it at another sysfs
 * tree (the simulator's, with the perf preload), to check the test itself. */
#define _GNU_SOURCE
#include "backend.h"
#include "energy_counter.h"
#include "rapl_config.h"
#include "rapl_log.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define SKIP 77
#define INTERVALS 3
#define PAIR_MAX_NS 1000000 /* 1 ms */
#define TOLERANCE 0.01

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct pair {
  const struct rapl_zone *pc, *perf;
};

/* Both counters of every pair, each pair read back to back; retried while a
 * pair takes longer than PAIR_MAX_NS. 0, or -1 when a read fails. */
static int sample(const struct pair *pairs, size_t n, uint64_t *pc,
                  uint64_t *perf) {
  for (size_t i = 0; i < n; i++) {
    for (int attempt = 0;; attempt++) {
      int64_t t0 = now_ns();
      int a = rapl_backend_powercap.read(pairs[i].pc, &pc[i]);
      int b = rapl_backend_perf.read(pairs[i].perf, &perf[i]);
      int64_t t1 = now_ns();
      if (a != 0 || b != 0) {
        printf("FAIL: reading %s: powercap %s, perf %s\n",
               pairs[i].pc->instance, a ? strerror(-a) : "ok",
               b ? strerror(-b) : "ok");
        return -1;
      }
      if (t1 - t0 <= PAIR_MAX_NS)
        break;
      if (attempt == 100) {
        printf("FAIL: no pair of reads within %d ns in 100 attempts\n",
               PAIR_MAX_NS);
        return -1;
      }
    }
  }
  return 0;
}

static void quiet(int level, const char *message, void *ud) {
  (void)ud;
  if (level <= RAPL_LOG_WARNING)
    printf("log: %s\n", message);
}

int main(void) {
  struct rapl_config cfg;
  struct rapl_zone_set pc = {0}, perf = {0};
  char why[RAPL_MSG_MAX], pmu[RAPL_PATH_MAX + 64];
  struct stat st;
  const char *sysfs = getenv("RAPL_TEST_SYSFS");

  setvbuf(stdout, NULL, _IONBF, 0);
  rapl_log_set_sink(quiet, NULL);
  rapl_config_defaults(&cfg);
  if (sysfs != NULL && *sysfs)
    snprintf(cfg.sysfs_path, sizeof(cfg.sysfs_path), "%s", sysfs);
  snprintf(pmu, sizeof(pmu), "%s/bus/event_source/devices/power",
           cfg.sysfs_path);
  if (stat(pmu, &st) != 0) {
    printf("skipped: no %s on this machine\n", pmu);
    return SKIP;
  }
  cfg.zone_mask = RAPL_ZONE_MASK(RAPL_ZONE_PACKAGE);
  if (rapl_backend_powercap.probe(&cfg, why, sizeof(why)) != 0 ||
      rapl_backend_powercap.open(&cfg, &pc, why, sizeof(why)) <= 0) {
    printf("skipped: %s exists, but powercap cannot be read here: %s\n", pmu,
           why);
    return SKIP;
  }
  if (rapl_backend_perf.probe(&cfg, why, sizeof(why)) != 0 ||
      rapl_backend_perf.open(&cfg, &perf, why, sizeof(why)) <= 0) {
    printf("skipped: %s exists, but perf cannot be read here: %s\n", pmu, why);
    rapl_zone_set_clear(&pc, rapl_backend_powercap.close);
    return SKIP;
  }

  /* The same package zones, by the same names: anything else fails. */
  struct pair pairs[64];
  size_t n = 0;
  int failed = 0;
  for (size_t i = 0; i < pc.n && n < 64; i++) {
    const struct rapl_zone *match = NULL;
    for (size_t j = 0; j < perf.n; j++)
      if (!strcmp(perf.zones[j].instance, pc.zones[i].instance))
        match = &perf.zones[j];
    if (match == NULL) {
      printf("FAIL: powercap has %s/package, perf does not\n",
             pc.zones[i].instance);
      failed = 1;
      continue;
    }
    pairs[n].pc = &pc.zones[i];
    pairs[n].perf = match;
    n++;
  }
  if (perf.n != pc.n) {
    printf("FAIL: powercap has %zu package zones, perf %zu\n", pc.n, perf.n);
    failed = 1;
  }

  uint64_t pc0[64], perf0[64], pc1[64], perf1[64];
  if (!failed && sample(pairs, n, pc0, perf0) != 0)
    failed = 1;
  for (int k = 0; k < INTERVALS && !failed; k++) {
    struct timespec second = {1, 0};
    while (nanosleep(&second, &second) != 0 && errno == EINTR)
      ;
    if (sample(pairs, n, pc1, perf1) != 0) {
      failed = 1;
      break;
    }
    for (size_t i = 0; i < n; i++) {
      uint64_t d;
      rapl_counter_delta(pc0[i], pc1[i], pairs[i].pc->range, &d);
      double e_pc = (double)d * pairs[i].pc->joules_per_unit;
      double e_perf =
          (double)(perf1[i] - perf0[i]) * pairs[i].perf->joules_per_unit;
      double rel = e_pc > 0 ? fabs(e_perf - e_pc) / e_pc : INFINITY;
      printf("%s interval %d: powercap %.6f J, perf %.6f J, %.4f%% apart\n",
             pairs[i].pc->instance, k + 1, e_pc, e_perf, rel * 100);
      if (!(rel <= TOLERANCE)) {
        printf("FAIL: %s: more than %.0f%% apart\n", pairs[i].pc->instance,
               TOLERANCE * 100);
        failed = 1;
      }
      pc0[i] = pc1[i];
      perf0[i] = perf1[i];
    }
  }
  rapl_zone_set_clear(&pc, rapl_backend_powercap.close);
  rapl_zone_set_clear(&perf, rapl_backend_perf.close);
  if (!failed)
    printf("ok: %zu package zones, %d intervals of 1 s, perf and powercap "
           "within %.0f%%\n",
           n, INTERVALS, TOLERANCE * 100);
  return failed;
}
