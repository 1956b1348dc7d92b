/* Turns wrapping hardware counters into a monotonic energy total. Pure
 * arithmetic on caller-owned state, so it can be tested without any I/O. */
#ifndef RAPL_ENERGY_COUNTER_H
#define RAPL_ENERGY_COUNTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* No socket's zone draws this much: a step implying more is a reset, not
 * energy. The largest sockets shipping today are rated around 500 W. It is
 * the default where the hardware states no limit of its own. */
#define RAPL_MAX_PLAUSIBLE_WATTS 2000.0
/* psys covers the whole platform: a large server's can come near 2000 W. */
#define RAPL_MAX_PLAUSIBLE_PSYS_WATTS 20000.0
/* Where the hardware states a power (TDP, a power limit, a maximum), a real
 * reading stays below this multiple of the largest such figure; a counter
 * reset implying more is caught even close to the counter's range. */
#define RAPL_STATED_POWER_MARGIN 3.0

/* Units advanced from prev to cur on a counter that wraps modulo range.
 * Returns 0 (forward), 1 (wrapped once) or -1 when either value lies outside
 * [0, range], which no real counter produces. */
int rapl_counter_delta(uint64_t prev, uint64_t cur, uint64_t range,
                       uint64_t *delta);

enum rapl_energy_status {
  RAPL_ENERGY_BASELINE, /* first reading since (re)start: energy, no power */
  RAPL_ENERGY_OK,       /* energy and power over the elapsed time */
  RAPL_ENERGY_RESET,    /* counter went back (or leapt) beyond any wrap: */
                        /* re-baselined, energy unchanged, no power */
  RAPL_ENERGY_INVALID   /* a value outside the counter's range: ignored */
};

/* Accumulated units are folded into joules at this many: exact in a double
 * (2^53), reached after days at most, so the fold costs nothing. */
#define RAPL_ENERGY_FOLD_UNITS (UINT64_C(1) << 52)

struct rapl_energy_state {
  size_t n;            /* counters summed into this zone */
  uint64_t *prev;      /* last raw value of each counter */
  bool baselined;      /* prev and last_ns hold a reading */
  int64_t last_ns;     /* monotonic time of that reading */
  uint64_t units;      /* accumulated since the current baseline epoch */
  double epoch_base_j; /* joules accumulated before this epoch */
  double unit_j;       /* joules per unit in this epoch */
  double max_watts;    /* plausibility bound: above it a step is a reset */
};

/* prev must point at n slots owned by the caller. The bound starts at
 * RAPL_MAX_PLAUSIBLE_WATTS. */
void rapl_energy_init(struct rapl_energy_state *s, uint64_t *prev, size_t n,
                      double unit_j);
void rapl_energy_set_bound(struct rapl_energy_state *s, double max_watts);

/* Seconds a gap between two readings may last for the counter to tell how
 * often it wrapped: one full range at the plausibility bound. */
double rapl_energy_unambiguous_s(const struct rapl_energy_state *s,
                                 uint64_t range);

/* Starts a new epoch (new counters or new unit) keeping the total. */
void rapl_energy_rebase(struct rapl_energy_state *s, uint64_t *prev, size_t n,
                        double unit_j);

/* Feeds one reading of all counters taken at now_ns. */
enum rapl_energy_status rapl_energy_update(struct rapl_energy_state *s,
                                           const uint64_t *raw, uint64_t range,
                                           int64_t now_ns, double *power_w);

/* Joules since the state was initialised. */
double rapl_energy_total_j(const struct rapl_energy_state *s);

#endif
