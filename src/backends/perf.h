/* The perf_event power PMU backend's seam and parsers, exposed for the
 * tests: perf_event_open(2) cannot be served by a filesystem, so every call
 * goes through rapl_perf_open, which a test points at its simulator. */
#ifndef RAPL_PERF_H
#define RAPL_PERF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct perf_event_attr;

/* perf_event_open(2)'s signature: a descriptor, or -1 with errno set. */
typedef int (*rapl_perf_open_fn)(struct perf_event_attr *attr, pid_t pid,
                                 int cpu, int group_fd, unsigned long flags);

/* Replaces the system call (NULL restores it). Not thread-safe: set it
 * before the reader runs. */
void rapl_perf_set_open(rapl_perf_open_fn fn);

/* The kernel's events/<name>.scale, e.g. "2.3283064365386962890625e-10\n":
 * a finite positive decimal, whatever the process's locale. 0 or -EBADMSG. */
int rapl_perf_parse_scale(const char *text, double *out);

/* The kernel's events/<name>, "event=0x02\n", into the config value.
 * 0 or -EBADMSG (other terms, garbage, more than 64 bits). */
int rapl_perf_parse_event(const char *text, uint64_t *config);

/* Why perf_event_open refused a system-wide event with errno err (EACCES
 * or EPERM): says which of the three grants is missing. paranoid is
 * kernel.perf_event_paranoid, or RAPL_PERF_PARANOID_UNKNOWN; perfmon and
 * sys_admin are 1 when the capability is effective, 0 when not, -1 when
 * unknown. */
#define RAPL_PERF_PARANOID_UNKNOWN (-1000)
void rapl_perf_refusal(char *out, size_t outlen, const char *event, int cpu,
                       int err, const char *paranoid_path, int paranoid,
                       int perfmon, int sys_admin);

#endif
