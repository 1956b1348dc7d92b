#include "seen.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "zone_kind.h"

#include <stdio.h>
#include <string.h>

static void collect(const struct rapl_sample *sample, void *ud) {
  struct seen *seen = ud;
  if (seen->n == (int)(sizeof(seen->s) / sizeof(seen->s[0])))
    fail_msg("more than %d samples in one read", seen->n);
  snprintf(seen->instances[seen->n], sizeof(seen->instances[0]), "%s",
           sample->instance);
  seen->s[seen->n] = *sample;
  seen->s[seen->n].instance = seen->instances[seen->n];
  seen->n++;
}

int read_now(struct rapl_reader *r, struct seen *seen) {
  memset(seen, 0, sizeof(*seen));
  return rapl_reader_read(r, collect, seen);
}

const struct rapl_sample *find(const struct seen *seen, const char *instance,
                               enum rapl_zone_kind kind) {
  for (int i = 0; i < seen->n; i++)
    if (seen->s[i].kind == kind && !strcmp(seen->s[i].instance, instance))
      return &seen->s[i];
  return NULL;
}

const struct rapl_sample *must_find(const struct seen *seen,
                                    const struct expect *e) {
  const struct rapl_sample *s = find(seen, e->instance, e->kind);
  if (s == NULL)
    fail_msg("no sample for %s/%s", e->instance, rapl_zone_kind_name(e->kind));
  return s;
}
