/* Live reload of the YAML configuration file (issue 4), independent of
 * collectd: the glue calls rapl_config_watch_poll at each read and applies
 * what it returns.
 *
 * - A changed file is noticed by one stat() per poll, comparing mtime and
 *   ctime (ns), size, inode and device with the file last read; unchanged
 *   means no re-parse and no allocation.
 * - A changed file is parsed on top of `base` (defaults + collectd.conf
 *   block), so a key deleted from the file falls back to the collectd.conf
 *   value.
 * - A bad state (syntax error, wrong type, file missing while an editor
 *   saves it) keeps the last good configuration and is logged once at ERR;
 *   the same error text is not logged again until a good file was read.
 * - MSR switches in a file that others could have written are not applied
 *   (rapl_config_load_yaml_file); that is logged once at WARNING per reason,
 *   and while it lasts each poll looks again at the permissions, since
 *   fixing a directory's changes nothing in the file's stamp.
 *
 * Not thread-safe: the caller serialises calls (collectd runs one read
 * callback at a time). */
#ifndef RAPL_CONFIG_WATCH_H
#define RAPL_CONFIG_WATCH_H

#include "config_yaml.h"
#include "rapl_config.h"

#include <stdbool.h>
#include <stddef.h>

#define RAPL_CONFIG_WATCH_ERRLEN (RAPL_PATH_MAX + 1024)

/* Fields are private; the struct is public so it can be embedded without an
 * allocation. */
struct rapl_config_watch {
  char path[RAPL_PATH_MAX];
  struct rapl_config base;     /* defaults + collectd.conf block */
  struct rapl_config current;  /* last good: base + the file */
  struct rapl_file_stamp seen; /* the file state last parsed (or missing) */
  char last_error[RAPL_CONFIG_WATCH_ERRLEN]; /* "" when the file is good */
  /* Why the file's MSR switches were last withheld, and which; "" while
   * they are applied. */
  char withheld[RAPL_CONFIG_WATCH_ERRLEN];
  unsigned long parses; /* times the file was parsed (for tests) */
};

/* Loads `path` (which must be absolute) on top of *base. A missing or bad
 * file is an error: returns -1 with the message in err, so that the config
 * callback fails and `collectd -T` exits non-zero. */
int rapl_config_watch_init(struct rapl_config_watch *w, const char *path,
                           const struct rapl_config *base, char *err,
                           size_t errlen);

/* Returns 1 and copies the new configuration into *out when the file
 * changed and its effective configuration differs from the current one
 * (logged at INFO); 0 otherwise (unchanged, identical, or bad: *out is not
 * touched). */
int rapl_config_watch_poll(struct rapl_config_watch *w,
                           struct rapl_config *out);

/* The last good configuration. */
const struct rapl_config *
rapl_config_watch_current(const struct rapl_config_watch *w);

/* The error of the file's last seen state, or NULL when it was good. */
const char *rapl_config_watch_last_error(const struct rapl_config_watch *w);

void rapl_config_watch_destroy(struct rapl_config_watch *w);

#endif
