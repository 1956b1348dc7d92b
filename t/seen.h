/* What one read of a reader passed to its callback, kept for the tests to
 * look up by zone. */
#ifndef RAPL_TEST_SEEN_H
#define RAPL_TEST_SEEN_H

#include "reader.h"

/* A zone a test expects, with what the simulator draws on it. */
struct expect {
  const char *instance;
  enum rapl_zone_kind kind;
  double watts;
  double unit_j;
};

struct seen {
  int n;
  struct rapl_sample s[32];
  char instances[32][64];
};

/* rapl_reader_read into seen (emptied first); its return value. */
int read_now(struct rapl_reader *r, struct seen *seen);
/* The sample of (instance, kind), or NULL. */
const struct rapl_sample *find(const struct seen *seen, const char *instance,
                               enum rapl_zone_kind kind);
/* The sample of e's zone; fails the test when there is none. */
const struct rapl_sample *must_find(const struct seen *seen,
                                    const struct expect *e);

#endif
