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

/* rapl_config_load_yaml, also returning in *stamp the identity of the file
 * that was actually read (from fstat on the open descriptor), or, when it
 * could not be opened, present = false and the errno. */
int rapl_config_load_yaml_stamp(const char *path, struct rapl_config *cfg,
                                struct rapl_file_stamp *stamp, char *err,
                                size_t errlen);

#endif
