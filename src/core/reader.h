/* The reader: picks a backend, keeps its zones open, turns their counters
 * into energy and power, and survives zones that come and go. It is what the
 * collectd plugin, the probe command, the tests and the benchmark share. */
#ifndef RAPL_READER_H
#define RAPL_READER_H

#include "backend.h"
#include "rapl_config.h"

#include <stdbool.h>
#include <stdint.h>

struct rapl_sample {
  const char *instance; /* plugin_instance: "package-0", "platform" */
  enum rapl_zone_kind kind;
  double energy_j; /* since the reader was created, monotonic */
  double power_w;  /* average since the previous sample; valid if has_power */
  bool has_power;
};

typedef void (*rapl_sample_cb)(const struct rapl_sample *sample, void *ud);

struct rapl_reader;

/* A backend's minimum interval (MSRMinInterval) and the one-second retry of
 * discovery let reads through that come up to this fraction early:
 * collectd's scheduler is not exact, and a read it delays is followed by
 * one that early; a quarter keeps such reads under load. */
#define RAPL_EARLY_SLACK 0.25

/* Never fails for lack of hardware: selection happens at the first read. */
struct rapl_reader *rapl_reader_create(const struct rapl_config *cfg);
void rapl_reader_destroy(struct rapl_reader *r);

/* Takes effect at the end of the next read: that read still reports from the
 * current backend, then the new one is opened and baselined, so the read after
 * it reports from the new backend with no gap. */
void rapl_reader_reconfigure(struct rapl_reader *r,
                             const struct rapl_config *cfg);

/* Samples every zone once, timing each at its own pread. Returns the number
 * of samples passed to cb: 0 while MSRMinInterval holds reads back or no
 * zone could be read. While no backend can read, selection is retried at
 * most once a second (RAPL_EARLY_SLACK aside), each reason logged once; the
 * first read of such a stretch returns -1 (so that a one-shot run such as
 * `collectd -T` fails), the later ones 0 (so that collectd's back-off never
 * delays the retries). When every zone of the backend in use is lost,
 * selection runs again at once; while a fallback serves, the backends ahead
 * of it are tried again once a second (at doubling intervals up to 64 s
 * where one is present but does not open) and taken back when one reads. */
int rapl_reader_read(struct rapl_reader *r, rapl_sample_cb cb, void *ud);

/* Nanoseconds on a monotonic clock; CLOCK_MONOTONIC unless a test or a replay
 * supplies its own (NULL restores it). */
typedef int64_t (*rapl_clock_fn)(void *ud);
void rapl_reader_set_clock(struct rapl_reader *r, rapl_clock_fn clock,
                           void *ud);

/* The backend in use, or NULL when none works. */
const struct rapl_backend *rapl_reader_backend(const struct rapl_reader *r);

/* The plausibility bound the reader uses for zone z: a step implying more
 * power is a counter reset, not energy (RAPL_STATED_POWER_MARGIN times the
 * power the hardware states where that is lower than the default, else the
 * default for its kind). */
double rapl_zone_plausible_watts(const struct rapl_zone *z);

/* Chooses a backend for cfg the way the reader does, opening its zones into
 * out; the probe command uses it to explain the choice. Returns the backend
 * or NULL with the reason in why; on success why says why the backends
 * ahead of the chosen one were passed over, and is empty when none was. */
const struct rapl_backend *rapl_select_backend(const struct rapl_config *cfg,
                                               struct rapl_zone_set *out,
                                               char *why, size_t whylen);

#endif
