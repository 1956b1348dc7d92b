#include "reader.h"

#include "energy_counter.h"
#include "rapl_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum zone_state {
  ZONE_OPEN,
  ZONE_LOST,   /* failed while in use: rescanned until it comes back */
  ZONE_RETIRED /* not offered by the current backend: kept for its total */
};

struct tracked_zone {
  struct rapl_zone zone; /* handles valid while ZONE_OPEN */
  enum zone_state state;
  struct rapl_energy_state energy;
  uint64_t *prev;
  uint64_t *raw;
  size_t buf_len;
  bool invalid_logged;
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
  int64_t last_read_ns;
  bool have_read;
  bool platypus_warned; /* once per stretch of MSR use */
  rapl_clock_fn clock;
  void *clock_ud;
  char last_error[1400];
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

const struct rapl_backend *rapl_select_backend(const struct rapl_config *cfg,
                                               struct rapl_zone_set *out,
                                               char *why, size_t whylen) {
  char powercap_why[512] = "no zone found";
  char msr_why[512] = "no zone found";

  if (cfg->msr_force) {
    if (try_backend(&rapl_backend_msr, cfg, out, msr_why, sizeof(msr_why)))
      return &rapl_backend_msr;
    snprintf(why, whylen,
             "MSRForce is set but the MSR backend cannot read RAPL: %s",
             msr_why);
    return NULL;
  }
  if (try_backend(&rapl_backend_powercap, cfg, out, powercap_why,
                  sizeof(powercap_why)))
    return &rapl_backend_powercap;
  if (!cfg->msr_enabled) {
    snprintf(why, whylen,
             "powercap is unavailable: %s. The MSR fallback is disabled: set "
             "\"MSREnabled true\" to allow it, after reading the README's "
             "section \"Security\" (PLATYPUS, CVE-2020-8694/8695)",
             powercap_why);
    return NULL;
  }
  if (try_backend(&rapl_backend_msr, cfg, out, msr_why, sizeof(msr_why)))
    return &rapl_backend_msr;
  snprintf(why, whylen,
           "powercap is unavailable (%s) and the MSR fallback failed too (%s)",
           powercap_why, msr_why);
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

/* Takes ownership of a freshly opened zone: a zone seen before continues its
 * energy total on the new counters, a new one starts at zero. Returns the
 * zone now reading z, or NULL when z was closed instead. */
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
    rapl_log(RAPL_LOG_INFO, "%s: reading zone %s/%s from %s", r->backend->name,
             z->instance, rapl_zone_kind_name(z->kind), z->source);
  } else {
    if (size_buffers(t, z->n_counters) != 0) {
      r->backend->close(z);
      return NULL;
    }
    if (t->state == ZONE_LOST) {
      rapl_log(RAPL_LOG_NOTICE,
               "%s: zone %s/%s is readable again from %s; re-baselined, "
               "values resume at the next read",
               r->backend->name, z->instance, rapl_zone_kind_name(z->kind),
               z->source);
      r->n_lost--;
    }
    rapl_energy_rebase(&t->energy, t->prev, z->n_counters, z->joules_per_unit);
  }
  t->zone = *z;
  t->state = ZONE_OPEN;
  t->invalid_logged = false;
  return t;
}

static void adopt_set(struct rapl_reader *r, struct rapl_zone_set *set) {
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
                     size_t n_zones) {
  r->backend = b;
  r->last_error[0] = '\0';
  if (b != &rapl_backend_msr)
    r->platypus_warned = false;
  else if (!r->platypus_warned)
    rapl_log(RAPL_LOG_WARNING,
             "using the MSR backend: raw RAPL MSR access exposes the PLATYPUS "
             "side channel (CVE-2020-8694/8695), which lets a reader of these "
             "counters infer other processes' activity; see the README's "
             "section \"Security\"");
  r->platypus_warned = b == &rapl_backend_msr;
  rapl_log(RAPL_LOG_INFO, "backend %s selected, %zu zone(s)", b->name, n_zones);
}

static void activate(struct rapl_reader *r, const struct rapl_backend *b,
                     struct rapl_zone_set *set) {
  announce(r, b, set->n);
  adopt_set(r, set);
}

static bool select_and_open(struct rapl_reader *r) {
  struct rapl_zone_set set = {0};
  char why[1024];
  const struct rapl_backend *b =
      rapl_select_backend(&r->cfg, &set, why, sizeof(why));
  if (b == NULL) {
    report_error_once(r, why);
    return false;
  }
  activate(r, b, &set);
  return true;
}

static void rescan(struct rapl_reader *r) {
  struct rapl_zone_set set = {0};
  char why[512];
  if (r->backend->open(&r->cfg, &set, why, sizeof(why)) > 0)
    adopt_set(r, &set);
  else
    rapl_zone_set_clear(&set, r->backend->close);
}

static bool msr_held_back(const struct rapl_reader *r, int64_t now_ns) {
  if (r->backend != &rapl_backend_msr || !r->have_read)
    return false;
  return (double)(now_ns - r->last_read_ns) < r->cfg.msr_min_interval * 1e9;
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
               r->backend->name, z->instance, rapl_zone_kind_name(z->kind),
               z->source);
    t->invalid_logged = true;
    return false;
  }
  if (rc != 0) {
    rapl_log(RAPL_LOG_ERR,
             "%s: reading zone %s/%s from %s failed (%s); its values are "
             "withheld until it can be read again",
             r->backend->name, z->instance, rapl_zone_kind_name(z->kind),
             z->source, strerror(-rc));
    close_zone(r, t, ZONE_LOST);
    return false;
  }
  double power = 0.0;
  switch (rapl_energy_update(&t->energy, t->raw, z->range, now_ns, &power)) {
  case RAPL_ENERGY_INVALID:
    if (!t->invalid_logged)
      rapl_log(RAPL_LOG_ERR,
               "%s: zone %s/%s: %s holds a value above the counter's range "
               "(%llu); withholding it",
               r->backend->name, z->instance, rapl_zone_kind_name(z->kind),
               z->source, (unsigned long long)z->range);
    t->invalid_logged = true;
    return false;
  case RAPL_ENERGY_RESET:
    rapl_log(RAPL_LOG_WARNING,
             "%s: zone %s/%s: the counter in %s jumped by more than a wrap "
             "can explain (a reset); re-baselined without reporting power",
             r->backend->name, z->instance, rapl_zone_kind_name(z->kind),
             z->source);
    s->has_power = false;
    break;
  case RAPL_ENERGY_BASELINE:
    s->has_power = false;
    break;
  case RAPL_ENERGY_OK:
    s->has_power = true;
    break;
  }
  t->invalid_logged = false;
  s->instance = z->instance;
  s->kind = z->kind;
  s->energy_j = rapl_energy_total_j(&t->energy);
  s->power_w = power;
  return true;
}

void rapl_reader_set_clock(struct rapl_reader *r, rapl_clock_fn clock,
                           void *ud) {
  r->clock = clock ? clock : monotonic_ns;
  r->clock_ud = ud;
}

/* Takes the first reading of a zone that has just been (re)opened, so that
 * the next read has a rate and nothing drawn from now on goes uncounted. */
static void baseline_zone(struct rapl_reader *r, struct tracked_zone *t) {
  struct rapl_sample ignored;
  sample_zone(r, t, &ignored);
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
  char why[1024], msg[1200];
  const struct rapl_backend *b =
      rapl_select_backend(&r->pending_cfg, set, why, sizeof(why));
  if (b == NULL) {
    snprintf(msg, sizeof(msg),
             "the new configuration cannot read RAPL (%s); still reading "
             "with the previous one through %s",
             why, r->backend->name);
    report_error_once(r, msg);
  }
  return b;
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
    set->zones[i] = set->zones[--set->n];
    t->state = ZONE_OPEN;
    t->invalid_logged = false;
    rapl_energy_rebase(&t->energy, t->prev, t->zone.n_counters,
                       t->zone.joules_per_unit);
    const struct rapl_backend *old = r->backend;
    r->backend = next;
    baseline_zone(r, t);
    r->backend = old;
    return;
  }
}

/* Completes a switch after the read pass: zones only the new configuration
 * has are adopted (a total seen before carries on) and baselined. */
static void finish_switch(struct rapl_reader *r,
                          const struct rapl_backend *next,
                          struct rapl_zone_set *set) {
  size_t handed_over = 0;
  for (size_t i = 0; i < r->n_zones; i++)
    handed_over += r->zones[i].state != ZONE_RETIRED;
  r->cfg = r->pending_cfg;
  r->pending = false;
  announce(r, next, handed_over + set->n);
  for (size_t i = 0; i < set->n; i++) {
    struct tracked_zone *t = adopt_zone(r, &set->zones[i]);
    if (t != NULL)
      baseline_zone(r, t);
  }
  free(set->zones);
  memset(set, 0, sizeof(*set));
}

int rapl_reader_read(struct rapl_reader *r, rapl_sample_cb cb, void *ud) {
  int count = 0;
  int64_t now_ns = r->clock(r->clock_ud);

  if (r->backend == NULL) {
    if (r->pending) {
      r->cfg = r->pending_cfg;
      r->pending = false;
    }
    if (!select_and_open(r))
      return -1;
  }
  if (msr_held_back(r, now_ns))
    return 0;
  struct rapl_zone_set incoming = {0};
  const struct rapl_backend *next =
      r->pending ? prepare_switch(r, &incoming) : NULL;
  if (next == NULL && r->n_lost > 0)
    rescan(r);
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
    finish_switch(r, next, &incoming);
  return count;
}
