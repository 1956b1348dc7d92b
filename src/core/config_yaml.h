/* Kepler-compatible YAML configuration (issue 4), read with libyaml's event
 * API: aliases are never expanded, the file's size and nesting are bounded,
 * and nothing read from the file is ever used as a format string.
 *
 * Recognised keys (everything is applied on top of the caller's config, so
 * precedence is: built-in defaults < collectd.conf block < this file):
 *
 *   host:        sysfs, procfs                       (Kepler)
 *   rapl:        zones                                (Kepler)
 *   msr:         enabled, force, devicePath           (Kepler MSR design)
 *   rapl_energy: sysfsPath, procfsPath, zones, msrEnabled, msrForce,
 *                msrDevicePath, msrMinInterval, reportPower, reportEnergy
 *
 * Any other top-level section (log, web, exporter, dev, kube, ...) is
 * skipped whatever its shape. Inside the four sections above an unknown key
 * is an error. When a setting appears both in a Kepler section and in
 * rapl_energy:, the rapl_energy: value wins whatever the order. */
#ifndef RAPL_CONFIG_YAML_H
#define RAPL_CONFIG_YAML_H

#include "rapl_config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define RAPL_YAML_MAX_BYTES (1024 * 1024) /* larger files are rejected */
#define RAPL_YAML_MAX_DEPTH 32            /* nested mappings/sequences */

/* Parses the file at `path` and applies it on top of *cfg. Returns 0, or -1
 * with *cfg untouched and a message in err of the form
 *   <path>:<line>:<column>: <key>: expected <what>, found <what>
 * (line and column 1-based; position and key omitted where there is none,
 * e.g. for a file that cannot be opened). */
int rapl_config_load_yaml(const char *path, struct rapl_config *cfg, char *err,
                          size_t errlen);

/* Same, from memory; `name` is only used in messages. `buf` need not be
 * NUL-terminated. Larger than RAPL_YAML_MAX_BYTES is rejected. */
int rapl_config_load_yaml_buffer(const char *name, const char *buf, size_t len,
                                 struct rapl_config *cfg, char *err,
                                 size_t errlen);

/* What live reload compares to notice a changed file. The change time is
 * there because configuration management tools put the mtime back after an
 * edit (touch -r, rsync -t), which no process can do to the ctime; it also
 * changes with chmod and chown, which decide whether the file may switch the
 * MSRs on. */
struct rapl_file_stamp {
  bool present; /* false: the file could not be stat()ed (errno kept) */
  int error;
  int64_t mtime_ns;
  int64_t ctime_ns;
  int64_t size;
  uint64_t ino;
  uint64_t dev;
};

struct stat;
void rapl_file_stamp_from_stat(const struct stat *st,
                               struct rapl_file_stamp *stamp);
bool rapl_file_stamp_equal(const struct rapl_file_stamp *a,
                           const struct rapl_file_stamp *b);

/* What loading a file found besides its settings. */
struct rapl_yaml_file_info {
  /* The file that was actually read (fstat on the open descriptor), or, when
   * it could not be opened, present = false and the errno. */
  struct rapl_file_stamp stamp;
  /* Why someone other than root or collectd's user could have written the
   * file ("" when no one could), e.g. "the directory /etc/collectd is
   * writable by its group (mode 0775)". */
  char why[RAPL_PATH_MAX + 128];
  /* The MSR switches such a file set and that were not applied, where they
   * differ from what is in effect, e.g. "msr.enabled: true (line 2, column
   * 12)"; "" when none. */
  char withheld[512];
  char withheld_keys[256]; /* the same without positions */
};

/* rapl_config_load_yaml, also filling *info (may be NULL).
 *
 * The MSRs bypass the kernel's PLATYPUS mitigation (CVE-2020-8694/8695), so
 * a file that someone other than root or the effective user could have
 * written does not switch them on or off: msr.enabled, msr.force and their
 * rapl_energy: spellings keep the value from *cfg, and everything else in
 * the file applies. See rapl_config_file_trusted. */
int rapl_config_load_yaml_file(const char *path, struct rapl_config *cfg,
                               struct rapl_yaml_file_info *info, char *err,
                               size_t errlen);

/* Whether no one but root and `euid` can have written the file at `path`
 * whose (f)stat is *st, in the manner of sshd's StrictModes: the file, every
 * directory on the way to it (as written and, through symbolic links, as
 * resolved) must be owned by root or euid and not be writable by group or
 * others, and so must any symbolic link on the way. A directory with the
 * sticky bit (/tmp) may be writable by others: they cannot replace an entry
 * there that is not theirs. Returns true, or false with the first reason
 * found in why. */
bool rapl_config_file_trusted(const char *path, const struct stat *st,
                              uid_t euid, char *why, size_t whylen);

#endif
