/* Helpers shared by the unit tests: fixture trees, scratch copies that a test
 * may rewrite in place (the same inode, as sysfs keeps it), and a log sink
 * that records what the core said. */
#ifndef RAPL_TEST_FIXTURE_H
#define RAPL_TEST_FIXTURE_H

#include "rapl_config.h"

#include <stdbool.h>
#include <stddef.h>

/* abs_top_srcdir/t/data/<rel>, in a static buffer. */
const char *fixture_path(const char *rel);

/* Makes $TMPDIR/<prefix>-XXXXXX (/tmp without TMPDIR) into out: 0 or -1. */
int fixture_mkdtemp(char *out, size_t len, const char *prefix);

/* A private copy of t/data/<rel> in a fresh temporary directory; returns the
 * copy's root (malloc'd). fixture_remove deletes it. */
char *fixture_copy(const char *rel);
void fixture_remove(char *root);

/* Rewrites root/<rel> in place with text. */
void fixture_write(const char *root, const char *rel, const char *text);

/* Defaults with SysfsPath = root/sys and ProcfsPath = root/proc. */
void fixture_config(struct rapl_config *cfg, const char *root);

/* Runs fn(ud, fd) in a forked child whose effective capability set lacks
 * caps[0..n): what fn writes to fd arrives in out (NUL-terminated, cut to
 * outlen - 1 bytes). Returns the child's exit status, fn's return value, or
 * 100 and up when the capabilities could not be dropped; -1 when the child
 * could not be started. */
int fixture_without_caps(const int *caps, size_t n, int (*fn)(void *ud, int fd),
                         void *ud, char *out, size_t outlen);

/* For tests that include cmocka.h: a message that must (not) contain a
 * phrase, shown whole when it does not. */
#define assert_contains(haystack, needle)                                      \
  do {                                                                         \
    const char *h_ = (haystack), *n_ = (needle);                               \
    if (strstr(h_, n_) == NULL)                                                \
      fail_msg("\"%s\" does not contain \"%s\"", h_, n_);                      \
  } while (0)
#define assert_lacks(haystack, needle)                                         \
  do {                                                                         \
    const char *h_ = (haystack), *n_ = (needle);                               \
    if (strstr(h_, n_) != NULL)                                                \
      fail_msg("\"%s\" contains \"%s\"", h_, n_);                              \
  } while (0)

/* Records every rapl_log message; fixture_logs_reset starts over. */
void fixture_capture_logs(void);
void fixture_logs_reset(void);
int fixture_log_count(const char *needle);
const char *fixture_logs(void);

#endif
