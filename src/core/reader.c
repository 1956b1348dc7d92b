#include "reader.h"

#include "energy_counter.h"
#include "rapl_log.h"
#include "rapl_options.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Discovery (a backend, zones lost or skipped, the preferred backend back)
 * is retried at most this often; reads that collectd delivers up to
 * RAPL_EARLY_SLACK early still count as that far apart. */
#define RETRY_NS INT64_C(1000000000)
/* A package or psys counter that stands still this long is frozen. */
#define STILL_NS INT64_C(1000000000)
#define RETRY_SLACK_NS ((int64_t)(RETRY_NS * RAPL_EARLY_SLACK))
/* The longest wait between attempts to open a backend ahead of the one in
 * use that is present but does not open. */
#define AHEAD_BACKOFF_MAX_NS (64 * RETRY_NS)

enum zone_state {
  ZONE_OPEN,
  ZONE_LOST,   /* failed while in use: rescanned until it comes back */
  ZONE_RETIRED /* not offered by the current backend: kept for its total */
};

struct tracked_zone {
  struct rapl_zone zone;              /* handles valid while ZONE_OPEN */
  const struct rapl_backend *backend; /* the one that opened zone */
  enum zone_state state;
  struct rapl_energy_state energy;
  uint64_t *prev;
  uint64_t *raw;
  size_t buf_len;
  /* Back from an outage on the same counter: the next reading is accounted
   * across the gap if the gap is short enough to be unambiguous. */
  bool bridging;
  int64_t still_since_ns; /* start of a stretch without movement, or -1 */
  /* Each problem is logged once per stretch, and its end once. */
  bool invalid_logged;
  bool failure_logged;
  bool reset_logged;
  bool still_logged;
};

struct rapl_reader {
  struct rapl_config cfg;
  struct rapl_config pending_cfg;
  bool pending;
  const struct rapl_backend *backend;
  struct tracked_zone *zones;
  size_t n_zones;
  size_t cap_zones;
  size_t n_lost;
  bool incomplete; /* the backend's last scan skipped zones */
  int64_t last_read_ns;
  bool have_read;
  int64_t last_discovery_ns;
  bool have_discovered;
  bool failing;    /* in a stretch of reads that no backend served */
  bool rescanning; /* adopting what a rescan found */
  /* Attempts to open a present backend ahead of the one in use that failed
   * back off: the last attempt, and the wait after it (0: none). */
  int64_t ahead_tried_ns;
  int64_t ahead_backoff_ns;
  /* The backend whose selected_warning was logged last: once per stretch of
   * its use. */
  const struct rapl_backend *warned;
  rapl_clock_fn clock;
  void *clock_ud;
  char last_error[RAPL_MSG_MAX];
};

static int64_t monotonic_ns(void *ud) {
  (void)ud;
  struct timespec ts;
  /* BOOTTIME keeps counting through suspend, so the first interval after a
   * resume averages over the time that really passed. */
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static bool try_backend(const struct rapl_backend *b,
                        const struct rapl_config *cfg,
                        struct rapl_zone_set *out, char *why, size_t whylen) {
  if (b->probe(cfg, why, whylen) != 0)
    return false;
  if (b->open(cfg, out, why, whylen) > 0)
    return true;
  rapl_zone_set_clear(out, b->close);
  return false;
}

static bool option_true(const struct rapl_option *o,
                        const struct rapl_config *cfg) {
  return o != NULL && rapl_option_get_bool(o, cfg);
}

/* The backend cfg insists on, or NULL. */
static const struct rapl_backend *
forced_backend(const struct rapl_config *cfg) {
  for (size_t i = 0; rapl_backends[i] != NULL; i++)
    if (option_true(rapl_backends[i]->forced_by, cfg))
      return rapl_backends[i];
  return NULL;
}

/* Whether selection under cfg may use b. */
static bool considered(const struct rapl_backend *b,
                       const struct rapl_config *cfg) {
  const struct rapl_backend *forced = forced_backend(cfg);
  if (forced != NULL)
    return b == forced;
  return b->enabled_by == NULL || option_true(b->enabled_by, cfg);
}

/* Appends "; " and a formatted part to a message that is cut, whole, at
 * its buffer's end. */
static void append_reason(char *out, size_t outlen, size_t *o, const char *fmt,
                          ...) __attribute__((format(printf, 4, 5)));
static void append_reason(char *out, size_t outlen, size_t *o, const char *fmt,
                          ...) {
  char part[RAPL_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  rapl_vmsg(part, sizeof(part), fmt, ap);
  va_end(ap);
  if (*o + 1 >= outlen)
    return;
  rapl_msg(out + *o, outlen - *o, "%s%s", *o ? "; " : "", part);
  *o += strlen(out + *o);
}

const struct rapl_backend *rapl_select_backend(const struct rapl_config *cfg,
                                               struct rapl_zone_set *out,
                                               char *why, size_t whylen) {
  char b_why[RAPL_MSG_MAX];
  size_t o = 0;
  const struct rapl_backend *forced = forced_backend(cfg);

  why[0] = '\0';
  if (forced != NULL) {
    rapl_msg(b_why, sizeof(b_why), "no zone found");
    if (try_backend(forced, cfg, out, b_why, sizeof(b_why)))
      return forced;
    rapl_msg(why, whylen, "%s is set but the %s backend cannot read RAPL: %s",
             forced->forced_by->collectd_key, forced->name, b_why);
    return NULL;
  }
  for (size_t i = 0; rapl_backends[i] != NULL; i++) {
    const struct rapl_backend *b = rapl_backends[i];
    if (!considered(b, cfg)) {
      append_reason(why, whylen, &o, "%s is disabled (%s is false)%s%s",
                    b->name, b->enabled_by->collectd_key,
                    b->enable_advice ? ": " : "",
                    b->enable_advice ? b->enable_advice : "");
      continue;
    }
    rapl_msg(b_why, sizeof(b_why), "no zone found");
    if (try_backend(b, cfg, out, b_why, sizeof(b_why)))
      return b;
    append_reason(why, whylen, &o, "%s is unavailable: %s", b->name, b_why);
  }
  return NULL;
}

struct rapl_reader *rapl_reader_create(const struct rapl_config *cfg) {
  struct rapl_reader *r = calloc(1, sizeof(*r));
  if (r != NULL) {
    r->cfg = *cfg;
    r->clock = monotonic_ns;
  }
  return r;
}

static void close_zone(struct rapl_reader *r, struct tracked_zone *t,
                       enum zone_state next) {
  if (t->state == ZONE_OPEN)
    r->backend->close(&t->zone);
  if (t->state == ZONE_LOST)
    r->n_lost--;
  if (next == ZONE_LOST)
    r->n_lost++;
  t->state = next;
}

static void retire_all(struct rapl_reader *r) {
  for (size_t i = 0; i < r->n_zones; i++)
    close_zone(r, &r->zones[i], ZONE_RETIRED);
  r->backend = NULL;
  r->incomplete = false;
}

void rapl_reader_destroy(struct rapl_reader *r) {
  if (r == NULL)
    return;
  if (r->backend != NULL)
    retire_all(r);
  for (size_t i = 0; i < r->n_zones; i++) {
    free(r->zones[i].prev);
    free(r->zones[i].raw);
  }
  free(r->zones);
  free(r);
}

void rapl_reader_reconfigure(struct rapl_reader *r,
                             const struct rapl_config *cfg) {
  r->pending_cfg = *cfg;
  r->pending = true;
}

const struct rapl_backend *rapl_reader_backend(const struct rapl_reader *r) {
  return r->backend;
}

static struct tracked_zone *find_tracked(struct rapl_reader *r,
                                         const struct rapl_zone *z) {
  for (size_t i = 0; i < r->n_zones; i++) {
    struct tracked_zone *t = &r->zones[i];
    if (t->zone.kind == z->kind && strcmp(t->zone.instance, z->instance) == 0)
      return t;
  }
  return NULL;
}

static int size_buffers(struct tracked_zone *t, size_t n) {
  if (t->buf_len >= n)
    return 0;
  uint64_t *prev = realloc(t->prev, n * sizeof(*prev));
  if (prev == NULL)
    return -1;
  t->prev = prev;
  uint64_t *raw = realloc(t->raw, n * sizeof(*raw));
  if (raw == NULL)
    return -1;
  t->raw = raw;
  t->buf_len = n;
  return 0;
}

static const char *kind_name(const struct rapl_zone *z) {
  return rapl_zone_kind_name(z->kind);
}

/* What tells a counter reset from energy for this zone: the hardware's own
 * figure where it states one, else a default no such zone reaches. */
static double plausible_watts(const struct rapl_zone *z) {
  double fallback = z->kind == RAPL_ZONE_PSYS ? RAPL_MAX_PLAUSIBLE_PSYS_WATTS
                                              : RAPL_MAX_PLAUSIBLE_WATTS;
  double stated = z->stated_watts * RAPL_STATED_POWER_MARGIN;
  return stated > 0 && stated < fallback ? stated : fallback;
}

double rapl_zone_plausible_watts(const struct rapl_zone *z) {
  return plausible_watts(z);
}

/* The same hardware counter read again: same units, same range, same number
 * of counters. Only then can a reading span an outage. */
static bool same_counter(const struct rapl_reader *r,
                         const struct tracked_zone *t,
                         const struct rapl_zone *z) {
  return t->backend == r->backend && !r->backend->counts_from_open &&
         t->energy.baselined && t->energy.unit_j == z->joules_per_unit &&
         t->zone.range == z->range && t->energy.n == z->n_counters;
}

/* Takes ownership of a freshly opened zone: a zone seen before continues its
 * energy total, across the gap when the counter is the same one, else from a
 * new baseline; a new zone starts at zero. Returns the zone now reading z,
 * or NULL when z was closed instead. */
static struct tracked_zone *adopt_zone(struct rapl_reader *r,
                                       struct rapl_zone *z) {
  struct tracked_zone *t = find_tracked(r, z);
  if (t != NULL && t->state == ZONE_OPEN) {
    r->backend->close(z); /* already reading it */
    return NULL;
  }
  if (t == NULL) {
    if (r->n_zones == r->cap_zones) {
      size_t cap = r->cap_zones ? r->cap_zones * 2 : 8;
      struct tracked_zone *zones = realloc(r->zones, cap * sizeof(*zones));
      if (zones == NULL) {
        r->backend->close(z);
        return NULL;
      }
      r->zones = zones;
      r->cap_zones = cap;
    }
    t = &r->zones[r->n_zones];
    memset(t, 0, sizeof(*t));
    if (size_buffers(t, z->n_counters) != 0) {
      free(t->prev);
      free(t->raw);
      r->backend->close(z);
      return NULL;
    }
    r->n_zones++;
    rapl_energy_init(&t->energy, t->prev, z->n_counters, z->joules_per_unit);
    rapl_log(r->rescanning ? RAPL_LOG_NOTICE : RAPL_LOG_INFO,
             "%s: reading zone %s/%s from %s%s", r->backend->name, z->instance,
             kind_name(z), z->source,
             r->rescanning ? " (it could not be opened before)" : "");
  } else {
    if (size_buffers(t, z->n_counters) != 0) {
      r->backend->close(z);
      return NULL;
    }
    if (t->state == ZONE_LOST)
      r->n_lost--;
    t->bridging = same_counter(r, t, z);
    if (!t->bridging) {
      if (t->energy.baselined)
        rapl_log(RAPL_LOG_NOTICE,
                 "%s: zone %s/%s now reads %s (%s); re-baselined, the "
                 "energy since its last reading %.3f s ago is not counted",
                 r->backend->name, z->instance, kind_name(z),
                 t->backend == r->backend && r->backend->counts_from_open
                     ? "a reopened counter that starts from zero"
                     : "a different counter",
                 z->source,
                 (double)(r->clock(r->clock_ud) - t->energy.last_ns) / 1e9);
      rapl_energy_rebase(&t->energy, t->prev, z->n_counters,
                         z->joules_per_unit);
    }
  }
  t->zone = *z;
  t->backend = r->backend;
  t->state = ZONE_OPEN;
  t->still_since_ns = -1;
  rapl_energy_set_bound(&t->energy, plausible_watts(z));
  return t;
}

static void adopt_set(struct rapl_reader *r, struct rapl_zone_set *set) {
  r->incomplete = set->n_skipped > 0;
  for (size_t i = 0; i < set->n; i++)
    adopt_zone(r, &set->zones[i]);
  free(set->zones);
  memset(set, 0, sizeof(*set));
}

static void report_error_once(struct rapl_reader *r, const char *why) {
  if (strcmp(r->last_error, why) == 0)
    return;
  snprintf(r->last_error, sizeof(r->last_error), "%s", why);
  rapl_log(RAPL_LOG_ERR, "%s", why);
}

/* Makes b the backend in use; its zones are adopted by the caller. */
static void announce(struct rapl_reader *r, const struct rapl_backend *b,
                     size_t n_zones, const char *reason) {
  r->backend = b;
  r->ahead_backoff_ns = 0;
  r->last_error[0] = '\0';
  if (b->selected_warning != NULL && r->warned != b)
    rapl_log(RAPL_LOG_WARNING, "using the %s backend: %s", b->name,
             b->selected_warning);
  r->warned = b;
  rapl_log(RAPL_LOG_INFO, "backend %s selected, %zu zone(s)%s%s", b->name,
           n_zones, reason ? ": " : "", reason ? reason : "");
}

static bool select_and_open(struct rapl_reader *r, const char *reason) {
  struct rapl_zone_set set = {0};
  char why[RAPL_MSG_MAX];
  const struct rapl_backend *b =
      rapl_select_backend(&r->cfg, &set, why, sizeof(why));
  if (b == NULL) {
    report_error_once(r, why);
    return false;
  }
  /* A fallback says why the backends ahead of it were passed over: an
   * operator should not have to guess why perf or msr serves. */
  char said[RAPL_MSG_MAX];
  if (why[0])
    rapl_msg(said, sizeof(said), "%s%s%s", reason ? reason : "",
             reason ? "; " : "", why);
  announce(r, b, set.n, why[0] ? said : reason);
  adopt_set(r, &set);
  return true;
}

/* Whether discovery may run now; if so, it counts as run. */
static bool discovery_due(struct rapl_reader *r, int64_t now_ns) {
  if (r->have_discovered &&
      now_ns - r->last_discovery_ns < RETRY_NS - RETRY_SLACK_NS)
    return false;
  r->last_discovery_ns = now_ns;
  r->have_discovered = true;
  return true;
}

static void rescan(struct rapl_reader *r) {
  struct rapl_zone_set set = {0};
  char why[RAPL_MSG_MAX];
  if (r->backend->open(&r->cfg, &set, why, sizeof(why)) > 0) {
    r->rescanning = true;
    adopt_set(r, &set);
    r->rescanning = false;
  } else
    rapl_zone_set_clear(&set, r->backend->close);
}

/* The backend's minimum interval (MSRMinInterval) with RAPL_EARLY_SLACK:
 * collectd's scheduler delivers reads a little early now and then, and a
 * read dropped for a few milliseconds would leave a whole interval without
 * values. */
static bool held_back(const struct rapl_reader *r, int64_t now_ns) {
  if (r->backend->min_interval == NULL || !r->have_read)
    return false;
  double min_ns = rapl_option_get_seconds(r->backend->min_interval, &r->cfg) *
                  1e9 * (1.0 - RAPL_EARLY_SLACK);
  return (double)(now_ns - r->last_read_ns) < min_ns;
}

/* The first failure of a stretch is logged; the zone stays lost until a
 * read succeeds, which is logged once too. */
static void zone_failed(struct rapl_reader *r, struct tracked_zone *t, int rc) {
  struct rapl_zone *z = &t->zone;
  if (!t->failure_logged)
    rapl_log(RAPL_LOG_ERR,
             "%s: reading zone %s/%s from %s failed (%s); its values are "
             "withheld until it can be read again",
             r->backend->name, z->instance, kind_name(z), z->source,
             strerror(-rc));
  t->failure_logged = true;
  close_zone(r, t, ZONE_LOST);
}

/* An outage on the same counter: accounted as one long interval where the
 * counter's range and the plausibility bound tell how often it wrapped. */
static void check_gap(struct rapl_reader *r, struct tracked_zone *t,
                      int64_t now_ns) {
  struct rapl_zone *z = &t->zone;
  double gap = (double)(now_ns - t->energy.last_ns) / 1e9;
  double limit = rapl_energy_unambiguous_s(&t->energy, z->range);
  t->bridging = false;
  if (gap <= limit)
    return;
  rapl_log(RAPL_LOG_WARNING,
           "%s: zone %s/%s was unreadable for %.3f s, longer than its counter "
           "can span unambiguously (%.0f s at %.0f W); re-baselined, the "
           "energy of those %.3f s is not counted",
           r->backend->name, z->instance, kind_name(z), gap, limit,
           t->energy.max_watts, gap);
  rapl_energy_rebase(&t->energy, t->prev, z->n_counters, z->joules_per_unit);
}

/* A package or platform cannot draw 0 W: a counter of theirs that stands
 * still for a whole second is frozen (firmware, a VM), and its power is
 * withheld rather than reported as 0 W. Subzones may idle at 0 W. */
static bool frozen(struct rapl_reader *r, struct tracked_zone *t,
                   int64_t prev_ns, int64_t now_ns, double joules) {
  struct rapl_zone *z = &t->zone;
  if (z->kind != RAPL_ZONE_PACKAGE && z->kind != RAPL_ZONE_PSYS)
    return false;
  if (joules > 0) {
    if (t->still_logged)
      rapl_log(RAPL_LOG_NOTICE, "%s: zone %s/%s: %s moves again",
               r->backend->name, z->instance, kind_name(z), z->source);
    t->still_logged = false;
    t->still_since_ns = -1;
    return false;
  }
  if (t->still_since_ns < 0)
    t->still_since_ns = prev_ns;
  if (now_ns - t->still_since_ns < STILL_NS)
    return false;
  if (!t->still_logged)
    rapl_log(RAPL_LOG_WARNING,
             "%s: zone %s/%s: %s has not moved for %.3f s, which a %s "
             "counter never does (frozen firmware or a VM's fixed value); its "
             "power is withheld until it moves",
             r->backend->name, z->instance, kind_name(z), z->source,
             (double)(now_ns - t->still_since_ns) / 1e9, kind_name(z));
  t->still_logged = true;
  return true;
}

static bool sample_zone(struct rapl_reader *r, struct tracked_zone *t,
                        struct rapl_sample *s) {
  struct rapl_zone *z = &t->zone;
  int rc = r->backend->read(z, t->raw);
  /* Time each zone at its own pread: a read thread that is preempted between
   * zones must not turn its delay into watts. */
  int64_t now_ns = r->clock(r->clock_ud);
  if (rc == -EBADMSG) {
    if (!t->invalid_logged)
      rapl_log(RAPL_LOG_ERR,
               "%s: zone %s/%s: %s does not hold a counter value; withholding "
               "the zone until it does",
               r->backend->name, z->instance, kind_name(z), z->source);
    t->invalid_logged = true;
    return false;
  }
  if (rc != 0) {
    zone_failed(r, t, rc);
    return false;
  }
  if (t->failure_logged)
    rapl_log(RAPL_LOG_NOTICE, "%s: zone %s/%s is readable again from %s",
             r->backend->name, z->instance, kind_name(z), z->source);
  t->failure_logged = false;
  if (t->bridging)
    check_gap(r, t, now_ns);
  int64_t prev_ns = t->energy.last_ns;
  double total_before = rapl_energy_total_j(&t->energy);
  double power = 0.0;
  switch (rapl_energy_update(&t->energy, t->raw, z->range, now_ns, &power)) {
  case RAPL_ENERGY_INVALID:
    if (!t->invalid_logged)
      rapl_log(RAPL_LOG_ERR,
               "%s: zone %s/%s: %s holds a value above the counter's range "
               "(%llu); withholding it",
               r->backend->name, z->instance, kind_name(z), z->source,
               (unsigned long long)z->range);
    t->invalid_logged = true;
    return false;
  case RAPL_ENERGY_RESET:
    if (!t->reset_logged)
      rapl_log(RAPL_LOG_WARNING,
               "%s: zone %s/%s: the counter in %s jumped by more than a wrap "
               "at up to %.0f W can explain (a reset); re-baselined without "
               "reporting power",
               r->backend->name, z->instance, kind_name(z), z->source,
               t->energy.max_watts);
    t->reset_logged = true;
    s->has_power = false;
    break;
  case RAPL_ENERGY_BASELINE:
    s->has_power = false;
    break;
  case RAPL_ENERGY_OK:
    t->reset_logged = false;
    s->has_power = !frozen(r, t, prev_ns, now_ns,
                           rapl_energy_total_j(&t->energy) - total_before);
    break;
  }
  t->invalid_logged = false;
  s->instance = z->instance;
  s->kind = z->kind;
  s->energy_j = rapl_energy_total_j(&t->energy);
  s->power_w = power;
  return true;
}

/* Takes the first reading of a zone that has just been (re)opened, so that
 * the next read has a rate and nothing drawn from now on goes uncounted. */
static void baseline_zone(struct rapl_reader *r, struct tracked_zone *t) {
  struct rapl_sample ignored;
  if (!t->bridging)
    sample_zone(r, t, &ignored);
}

/* Whether a backend ahead of the one in use is allowed by the
 * configuration: only then is it worth trying again. */
static bool better_allowed(const struct rapl_reader *r) {
  for (size_t i = 0; rapl_backends[i] && rapl_backends[i] != r->backend; i++)
    if (considered(rapl_backends[i], &r->cfg))
      return true;
  return false;
}

/* Opens what the pending configuration selects, before the read pass, so
 * that the time discovery takes is still measured by the old zones. Returns
 * the new backend with its zones in set, or NULL when nothing needs opening
 * (only reporting options changed) or the new configuration cannot read: then
 * the old one keeps reporting and the switch is tried again next read. */
static const struct rapl_backend *prepare_switch(struct rapl_reader *r,
                                                 struct rapl_zone_set *set) {
  if (rapl_config_same_selection(&r->cfg, &r->pending_cfg)) {
    r->cfg = r->pending_cfg;
    r->pending = false;
    return NULL;
  }
  char why[RAPL_MSG_MAX];
  const struct rapl_backend *b =
      rapl_select_backend(&r->pending_cfg, set, why, sizeof(why));
  if (b == NULL) {
    char msg[RAPL_MSG_MAX];
    rapl_msg(msg, sizeof(msg),
             "the new configuration cannot read RAPL (%s); still reading "
             "with the previous one through %s",
             why, r->backend->name);
    report_error_once(r, msg);
  }
  return b;
}

/* While a fallback serves, checks now and then whether a backend ahead of
 * it in rapl_backends[] reads again; returns the first that does, with its
 * zones in set. A backend whose probe fails costs a stat and is checked at
 * every discovery; one that is there but does not open (powercap's
 * energy_uj denied to a collectd that reads perf through CAP_PERFMON) costs
 * opens, and is tried at doubling intervals up to AHEAD_BACKOFF_MAX_NS, so
 * that such a steady state opens next to nothing. */
static const struct rapl_backend *preferred_again(struct rapl_reader *r,
                                                  struct rapl_zone_set *set,
                                                  int64_t now_ns) {
  char why[RAPL_MSG_MAX];
  bool opened_in_vain = false;
  /* Reads that come early are let through as for discovery itself. */
  if (r->ahead_backoff_ns > 0 &&
      now_ns - r->ahead_tried_ns < r->ahead_backoff_ns - RETRY_SLACK_NS)
    return NULL;
  for (size_t i = 0; rapl_backends[i] && rapl_backends[i] != r->backend; i++) {
    const struct rapl_backend *b = rapl_backends[i];
    if (!considered(b, &r->cfg) || b->probe(&r->cfg, why, sizeof(why)) != 0)
      continue;
    if (b->open(&r->cfg, set, why, sizeof(why)) > 0)
      return b;
    rapl_zone_set_clear(set, b->close);
    opened_in_vain = true;
  }
  if (opened_in_vain) {
    int64_t wait = r->ahead_backoff_ns ? 2 * r->ahead_backoff_ns : 2 * RETRY_NS;
    r->ahead_backoff_ns =
        wait < AHEAD_BACKOFF_MAX_NS ? wait : AHEAD_BACKOFF_MAX_NS;
    r->ahead_tried_ns = now_ns;
  } else
    r->ahead_backoff_ns = 0;
  return NULL;
}

/* Moves tracked zone t from the old backend to its counterpart in set, if
 * the new configuration has one, and baselines it at once: right after the
 * old counter's last reading, so at most one pread's worth of energy goes
 * unaccounted at the switch. */
static void hand_over(struct rapl_reader *r, struct tracked_zone *t,
                      const struct rapl_backend *next,
                      struct rapl_zone_set *set) {
  close_zone(r, t, ZONE_RETIRED);
  for (size_t i = 0; i < set->n; i++) {
    struct rapl_zone *z = &set->zones[i];
    if (z->kind != t->zone.kind || strcmp(z->instance, t->zone.instance) != 0)
      continue;
    if (size_buffers(t, z->n_counters) != 0)
      return; /* out of memory: rediscovered as a new zone after the switch */
    t->zone = *z;
    t->backend = next;
    set->zones[i] = set->zones[--set->n];
    t->state = ZONE_OPEN;
    t->bridging = false;
    t->still_since_ns = -1;
    rapl_energy_rebase(&t->energy, t->prev, t->zone.n_counters,
                       t->zone.joules_per_unit);
    rapl_energy_set_bound(&t->energy, plausible_watts(&t->zone));
    /* The zone already belongs to the new backend while the others of this
     * pass still read through the old one: sampling goes through
     * r->backend, so it names the new one for this zone alone. */
    const struct rapl_backend *old = r->backend;
    r->backend = next;
    baseline_zone(r, t);
    r->backend = old;
    return;
  }
}

/* Completes a switch after the read pass: zones only the new backend has
 * are adopted (a total seen before carries on) and baselined. */
static void finish_switch(struct rapl_reader *r,
                          const struct rapl_backend *next,
                          struct rapl_zone_set *set, const char *reason) {
  size_t handed_over = 0;
  for (size_t i = 0; i < r->n_zones; i++)
    handed_over += r->zones[i].state != ZONE_RETIRED;
  if (r->pending) {
    r->cfg = r->pending_cfg;
    r->pending = false;
  }
  announce(r, next, handed_over + set->n, reason);
  r->incomplete = set->n_skipped > 0;
  for (size_t i = 0; i < set->n; i++) {
    struct tracked_zone *t = adopt_zone(r, &set->zones[i]);
    if (t != NULL)
      baseline_zone(r, t);
  }
  free(set->zones);
  memset(set, 0, sizeof(*set));
}

static size_t open_zones(const struct rapl_reader *r) {
  size_t n = 0;
  for (size_t i = 0; i < r->n_zones; i++)
    n += r->zones[i].state == ZONE_OPEN;
  return n;
}

/* Every zone of the backend in use is gone (a driver unloaded, a container
 * remounted): selection runs again at once, so a fallback takes over in the
 * same read, and its zones are baselined right away. */
static void reselect(struct rapl_reader *r) {
  char reason[RAPL_MSG_MAX];
  rapl_msg(reason, sizeof(reason), "every zone of %s was lost",
           r->backend->name);
  rapl_log(RAPL_LOG_WARNING, "%s; selecting a backend again", reason);
  retire_all(r);
  r->last_discovery_ns = r->clock(r->clock_ud);
  r->have_discovered = true;
  if (!select_and_open(r, reason))
    return;
  for (size_t i = 0; i < r->n_zones; i++)
    if (r->zones[i].state == ZONE_OPEN)
      baseline_zone(r, &r->zones[i]);
}

/* -1 on the first read of a stretch that no backend serves, so that
 * `collectd -T` reports such a machine; 0 after that, so that collectd does
 * not back off and delay the retries and the backend values. */
static int no_backend(struct rapl_reader *r) {
  bool first = !r->failing;
  r->failing = true;
  return first ? -1 : 0;
}

void rapl_reader_set_clock(struct rapl_reader *r, rapl_clock_fn clock,
                           void *ud) {
  r->clock = clock ? clock : monotonic_ns;
  r->clock_ud = ud;
}

int rapl_reader_read(struct rapl_reader *r, rapl_sample_cb cb, void *ud) {
  int count = 0;
  int64_t now_ns = r->clock(r->clock_ud);

  if (r->backend == NULL) {
    if (r->pending) {
      r->cfg = r->pending_cfg;
      r->pending = false;
    }
    if (!discovery_due(r, now_ns) || !select_and_open(r, NULL))
      return no_backend(r);
  }
  r->failing = false;
  if (held_back(r, now_ns))
    return 0;
  struct rapl_zone_set incoming = {0};
  const struct rapl_backend *next = NULL;
  const char *reason = "the configuration changed";
  if (r->pending) {
    next = prepare_switch(r, &incoming);
  } else if ((r->n_lost > 0 || r->incomplete || better_allowed(r)) &&
             discovery_due(r, now_ns)) {
    next = preferred_again(r, &incoming, now_ns);
    reason = "the preferred backend reads again";
    if (next == NULL && (r->n_lost > 0 || r->incomplete))
      rescan(r);
  }
  size_t n_old = r->n_zones;
  for (size_t i = 0; i < n_old; i++) {
    struct tracked_zone *t = &r->zones[i];
    struct rapl_sample s;
    if (t->state == ZONE_OPEN && sample_zone(r, t, &s)) {
      cb(&s, ud);
      count++;
    }
    if (next != NULL)
      hand_over(r, t, next, &incoming);
  }
  r->last_read_ns = now_ns;
  r->have_read = true;
  if (next != NULL)
    finish_switch(r, next, &incoming, reason);
  else if (count == 0 && open_zones(r) == 0 && r->n_zones > 0)
    reselect(r);
  if (r->backend == NULL)
    return no_backend(r);
  return count;
}
