#include "energy_counter.h"

#include <string.h>

int rapl_counter_delta(uint64_t prev, uint64_t cur, uint64_t range,
                       uint64_t *delta) {
  if (prev > range || cur > range)
    return -1;
  if (cur >= prev) {
    *delta = cur - prev;
    return 0;
  }
  /* range is the counter's modulus: after range comes 0 again. */
  *delta = (range - prev) + cur;
  return 1;
}

void rapl_energy_init(struct rapl_energy_state *s, uint64_t *prev, size_t n,
                      double unit_j) {
  memset(s, 0, sizeof(*s));
  s->prev = prev;
  s->n = n;
  s->unit_j = unit_j;
  s->max_watts = RAPL_MAX_PLAUSIBLE_WATTS;
}

void rapl_energy_set_bound(struct rapl_energy_state *s, double max_watts) {
  s->max_watts = max_watts;
}

double rapl_energy_unambiguous_s(const struct rapl_energy_state *s,
                                 uint64_t range) {
  return (double)range * s->unit_j / s->max_watts;
}

void rapl_energy_rebase(struct rapl_energy_state *s, uint64_t *prev, size_t n,
                        double unit_j) {
  s->epoch_base_j = rapl_energy_total_j(s);
  s->units = 0;
  s->prev = prev;
  s->n = n;
  s->unit_j = unit_j;
  s->baselined = false;
}

double rapl_energy_total_j(const struct rapl_energy_state *s) {
  return s->epoch_base_j + (double)s->units * s->unit_j;
}

static void take_baseline(struct rapl_energy_state *s, const uint64_t *raw,
                          int64_t now_ns) {
  memcpy(s->prev, raw, s->n * sizeof(*raw));
  s->last_ns = now_ns;
  s->baselined = true;
}

enum rapl_energy_status rapl_energy_update(struct rapl_energy_state *s,
                                           const uint64_t *raw, uint64_t range,
                                           int64_t now_ns, double *power_w) {
  uint64_t sum = 0;
  for (size_t i = 0; i < s->n; i++) {
    if (raw[i] > range)
      return RAPL_ENERGY_INVALID;
  }
  if (!s->baselined) {
    take_baseline(s, raw, now_ns);
    return RAPL_ENERGY_BASELINE;
  }
  for (size_t i = 0; i < s->n; i++) {
    uint64_t delta;
    rapl_counter_delta(s->prev[i], raw[i], range, &delta);
    sum += delta;
  }
  double seconds = (double)(now_ns - s->last_ns) / 1e9;
  double joules = (double)sum * s->unit_j;
  if (seconds <= 0.0) {
    /* A clock that did not advance gives no rate; start over quietly. */
    take_baseline(s, raw, now_ns);
    return RAPL_ENERGY_BASELINE;
  }
  if (joules / seconds > s->max_watts) {
    /* Only a counter reset (driver reload, CPU hot-plug, firmware) makes a
     * step this large; reporting it would be a spike. */
    take_baseline(s, raw, now_ns);
    return RAPL_ENERGY_RESET;
  }
  s->units += sum;
  if (s->units >= RAPL_ENERGY_FOLD_UNITS) {
    /* 64-bit counters in fine units (perf counts 2^-32 J) would overflow
     * the sum within weeks: the joules move into the base while the units
     * are still exact in a double. */
    s->epoch_base_j += (double)s->units * s->unit_j;
    s->units = 0;
  }
  take_baseline(s, raw, now_ns);
  *power_w = joules / seconds;
  return RAPL_ENERGY_OK;
}
