#include "backend.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct rapl_zone *rapl_zone_set_add(struct rapl_zone_set *set) {
  if (set->n == set->cap) {
    size_t cap = set->cap ? set->cap * 2 : 8;
    struct rapl_zone *zones = realloc(set->zones, cap * sizeof(*zones));
    if (zones == NULL)
      return NULL;
    set->zones = zones;
    set->cap = cap;
  }
  struct rapl_zone *zone = &set->zones[set->n++];
  memset(zone, 0, sizeof(*zone));
  return zone;
}

bool rapl_zone_set_has(const struct rapl_zone_set *set,
                       enum rapl_zone_kind kind, const char *instance) {
  for (size_t i = 0; i < set->n; i++)
    if (set->zones[i].kind == kind &&
        strcmp(set->zones[i].instance, instance) == 0)
      return true;
  return false;
}

int rapl_zone_alloc_counters(struct rapl_zone *zone, size_t n) {
  zone->counters = calloc(n, sizeof(*zone->counters));
  if (zone->counters == NULL)
    return -1;
  for (size_t i = 0; i < n; i++)
    zone->counters[i].fd = -1;
  zone->n_counters = n;
  return 0;
}

void rapl_zone_close_fds(struct rapl_zone *zone) {
  for (size_t i = 0; i < zone->n_counters; i++) {
    if (zone->counters[i].fd >= 0)
      close(zone->counters[i].fd);
  }
  free(zone->counters);
  zone->counters = NULL;
  zone->n_counters = 0;
}

void rapl_zone_set_clear(struct rapl_zone_set *set,
                         void (*close_zone)(struct rapl_zone *)) {
  for (size_t i = 0; i < set->n; i++)
    close_zone(&set->zones[i]);
  free(set->zones);
  memset(set, 0, sizeof(*set));
}
