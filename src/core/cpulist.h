/* The kernel's cpulist format, as in /sys/devices/system/cpu/online:
 * comma-separated CPU numbers and inclusive ranges, ascending, e.g.
 * "0-3,8,10-11\n". */
#ifndef RAPL_CPULIST_H
#define RAPL_CPULIST_H

#include <stddef.h>

/* CPU numbers at or above this are refused (the kernel's NR_CPUS limit is
 * 8192 on x86). */
#define RAPL_CPU_LIMIT 65536

/* Parses `text` strictly: digits, '-' and ',' only, ranges not reversed,
 * entries strictly ascending and not overlapping, one optional trailing
 * newline. An empty list ("" or "\n", as the kernel prints an empty mask)
 * is valid and yields no CPU. Writes at most `max` CPU numbers, ascending, to
 * cpus and their count to *n. Returns 0, or -1 with the reason in err
 * (garbage, a number at or above RAPL_CPU_LIMIT, more than `max` CPUs). */
int rapl_cpulist_parse(const char *text, int *cpus, size_t max, size_t *n,
                       char *err, size_t errlen);

#endif
