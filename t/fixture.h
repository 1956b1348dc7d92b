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

/* Records every rapl_log message; fixture_logs_reset starts over. */
void fixture_capture_logs(void);
void fixture_logs_reset(void);
int fixture_log_count(const char *needle);
const char *fixture_logs(void);

#endif
