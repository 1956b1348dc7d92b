/* Strict reading of the one-number text files the kernel exports ("%llu\n").
 * Anything else (empty, signs, garbage, overflow) is -EBADMSG, so a broken
 * file can never turn into a value. */
#ifndef RAPL_SYSFS_FILE_H
#define RAPL_SYSFS_FILE_H

#include <stddef.h>
#include <stdint.h>

int rapl_parse_u64(const char *text, size_t len, uint64_t *out);

/* One pread at offset 0 of an already open sysfs file. 0 or -errno. */
int rapl_sysfs_pread_u64(int fd, uint64_t *out);

/* open + read + close, for discovery. 0 or -errno. */
int rapl_sysfs_read_u64(const char *path, uint64_t *out);
int rapl_sysfs_read_string(const char *path, char *out, size_t len);

/* Reads from fd until end of file or cap bytes, retrying on EINTR; *got is
 * how many arrived. 0 or -errno. For files read whole (cpuinfo, YAML). */
int rapl_read_all(int fd, char *buf, size_t cap, size_t *got);

/* dir + "/" + name into out; -1 (and out untouched as a path) when it would
 * not fit, so a long SysfsPath can never silently name another file. */
int rapl_path_join(char *out, size_t len, const char *dir, const char *name);

/* Words for a code returned above: "not a number" for -EBADMSG. */
const char *rapl_sysfs_strerror(int rc);

#endif
