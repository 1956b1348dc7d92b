/* LD_PRELOAD for the end-to-end tests: the real collectd daemon's
 * perf_event_open goes to the simulator's power PMU at $RAPLSIM_PERF_ROOT
 * (t/perf_shim.c). The perf backend calls syscall(SYS_perf_event_open, ...),
 * glibc having no wrapper, so syscall itself is interposed; every other
 * system call goes on to glibc's. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "perf_shim.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/syscall.h>

typedef long (*syscall_fn)(long, ...);

long syscall(long number, ...) {
  va_list ap;
  long a[6];
  va_start(ap, number);
  /* glibc's syscall takes six longs whatever the call: so does this one */
  for (int i = 0; i < 6; i++)
    a[i] = va_arg(ap, long);
  va_end(ap);
  if (number == SYS_perf_event_open)
    /* the kernel's int arguments are the low halves of those registers */
    return sim_perf_event_open(
        getenv("RAPLSIM_PERF_ROOT"), (const struct perf_event_attr *)a[0],
        (pid_t)a[1], (int)a[2], (int)a[3], (unsigned long)a[4]);
  static syscall_fn real;
  if (real == NULL)
    real = (syscall_fn)dlsym(RTLD_NEXT, "syscall");
  if (real == NULL) {
    errno = ENOSYS;
    return -1;
  }
  return real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
