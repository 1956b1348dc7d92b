/* Whether this process holds a capability: the msr driver checks
 * CAP_SYS_RAWIO at open, perf_event_open wants CAP_PERFMON or CAP_SYS_ADMIN
 * for system-wide events. Asked of the kernel with capget(2); no libcap. */
#ifndef RAPL_CAPABILITY_H
#define RAPL_CAPABILITY_H

#include <stddef.h>

/* include/uapi/linux/capability.h; CAP_PERFMON is Linux 5.8's. */
#define RAPL_CAP_SYS_RAWIO 17
#define RAPL_CAP_SYS_ADMIN 21
#define RAPL_CAP_PERFMON 38

/* 1 when `cap` is in this thread's effective set, 0 when not, -1 with err
 * filled when the kernel could not be asked. */
int rapl_cap_effective(int cap, char *err, size_t errlen);

/* Same from the text of /proc/<pid>/status (its CapEff line). */
int rapl_cap_effective_in_status(const char *status_text, int cap, char *err,
                                 size_t errlen);

#endif
