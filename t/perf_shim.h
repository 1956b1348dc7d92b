/* The tests' perf_event_open: the power PMU of a raplsim mount. The kernel's
 * perf_event_open cannot be faked by a filesystem, so the perf backend calls
 * it through a seam and the tests put this function there; the preload
 * t/perf_preload.c does the same for the real collectd daemon. It checks the
 * arguments and the caller's privilege as the kernel's perf_event_open and
 * rapl_pmu_event_init do, failing with the same errno, then opens the
 * simulator's count file root/perf/cpuN/<event>, whose reads behave like
 * reads of the event's descriptor. */
#ifndef RAPL_TEST_PERF_SHIM_H
#define RAPL_TEST_PERF_SHIM_H

#include <linux/perf_event.h>
#include <sys/types.h>

/* root: the simulator's mount point (NULL: no simulator, ENOENT). Returns a
 * descriptor, or -1 with errno set. */
int sim_perf_event_open(const char *root, const struct perf_event_attr *attr,
                        pid_t pid, int cpu, int group_fd, unsigned long flags);

#endif
