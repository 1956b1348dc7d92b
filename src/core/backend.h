/* The contract every RAPL source implements. A backend finds zones and reads
 * raw counters; wrap, units over time, selection and reporting belong to the
 * reader core, so a backend stays a few hundred lines of I/O. */
#ifndef RAPL_BACKEND_H
#define RAPL_BACKEND_H

#include "rapl_config.h"
#include "zone_kind.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RAPL_INSTANCE_MAX 64

/* One hardware counter: a descriptor kept open and the offset of the one
 * pread that samples it (0 for sysfs, the register index for an MSR). */
struct rapl_counter {
  int fd;
  uint64_t offset;
};

/* A zone is what collectd sees as one (plugin_instance, type_instance) pair.
 * Most zones have one counter; AMD's per-socket core zone sums one counter per
 * physical core. All counters of a zone share unit and range. */
struct rapl_zone {
  enum rapl_zone_kind kind;
  char instance[RAPL_INSTANCE_MAX]; /* "package-0", "package-0-die-1", ... */
  char source[RAPL_PATH_MAX];       /* named in messages: a file or device */
  double joules_per_unit;
  uint64_t range; /* counters wrap modulo this many units */
  /* The largest power the hardware states for this zone (TDP, a power
   * limit, a maximum) in watts, 0 when it states none: it tightens the
   * plausibility bound that tells a counter reset from energy. */
  double stated_watts;
  size_t n_counters;
  struct rapl_counter *counters;
};

struct rapl_zone_set {
  struct rapl_zone *zones;
  size_t n;
  size_t cap;
  /* Zones found but not opened (a file absent or denied, a device that did
   * not read): the reader scans again, now and then, until they open. */
  size_t n_skipped;
};

/* Appends a zeroed zone; NULL when out of memory. */
struct rapl_zone *rapl_zone_set_add(struct rapl_zone_set *set);
/* Whether set already holds the zone (kind, instance). */
bool rapl_zone_set_has(const struct rapl_zone_set *set,
                       enum rapl_zone_kind kind, const char *instance);
/* Allocates zone->counters for n counters with fd -1. */
int rapl_zone_alloc_counters(struct rapl_zone *zone, size_t n);
/* Closes every descriptor and frees the set's memory. */
void rapl_zone_set_clear(struct rapl_zone_set *set,
                         void (*close_zone)(struct rapl_zone *));
/* Closes a zone's descriptors and frees its counters. */
void rapl_zone_close_fds(struct rapl_zone *zone);

struct rapl_option;

/* A backend's description: its I/O, and the policy the reader core applies
 * to every backend alike, as data, so that adding a backend adds a
 * description and an entry in rapl_backends[] and changes no core logic. */
struct rapl_backend {
  const char *name;
  /* A boolean option that must be true for selection to consider this
   * backend; NULL: always considered. */
  const struct rapl_option *enabled_by;
  /* Said when enabled_by is false and no backend read: how, and after what,
   * to turn it on. */
  const char *enable_advice;
  /* A boolean option that, when true, makes this the only backend tried. */
  const struct rapl_option *forced_by;
  /* A seconds option: reads closer together than this are held back (with
   * RAPL_EARLY_SLACK); NULL: no minimum. */
  const struct rapl_option *min_interval;
  /* Logged as a warning when this backend starts serving; NULL: none. */
  const char *selected_warning;
  /* Every open starts its counters from zero (perf events do): a zone
   * reopened after an outage has a new counter, never bridged across the
   * gap. */
  bool counts_from_open;
  /* Cheap check whether this backend can work here: 0, or -1 with the reason
   * (missing directory, missing privilege, ...) in why. */
  int (*probe)(const struct rapl_config *cfg, char *why, size_t whylen);
  /* Finds and opens every zone it can read, filtered by cfg->zone_mask;
   * returns how many were added to out, or -1 with why filled when none. */
  int (*open)(const struct rapl_config *cfg, struct rapl_zone_set *out,
              char *why, size_t whylen);
  /* Samples all counters of a zone, one pread (or read) each, into
   * raw[n_counters].
   * Returns 0, -EBADMSG when a counter holds something that is not a value
   * (the zone stays open, the reading is withheld), or another negative errno
   * when the zone cannot be read (it is closed and rediscovered later).
   * Never opens, allocates or logs. */
  int (*read)(const struct rapl_zone *zone, uint64_t *raw);
  /* Releases what open acquired for this zone. */
  void (*close)(struct rapl_zone *zone);
};

extern const struct rapl_backend rapl_backend_powercap;
extern const struct rapl_backend rapl_backend_perf;
extern const struct rapl_backend rapl_backend_msr;

/* Every backend the plugin knows, in order of preference; NULL-terminated. */
extern const struct rapl_backend *const rapl_backends[];

#endif
