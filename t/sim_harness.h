/* Runs t/sim/raplsim for a test: a FUSE mount whose counters advance in real
 * time, whose files can vanish, fail or be denied on command, like the
 * kernel's. */
#ifndef RAPL_TEST_SIM_HARNESS_H
#define RAPL_TEST_SIM_HARNESS_H

#include "rapl_config.h"

#include <sys/types.h>

struct sim {
  char dir[64];  /* temporary directory holding the spec and the mount */
  char mnt[128]; /* the mount: mnt/sys, mnt/proc, mnt/dev/cpu/N/msr */
  pid_t pid;
};

/* Mounts a simulator on spec_text; fails the test when it cannot. */
void sim_start(struct sim *s, const char *spec_text);
/* Sends one control command ("hide PATH", "watts package:0 30", ...). */
void sim_ctl(struct sim *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sim_stop(struct sim *s);
/* cmocka teardown: stops every simulator a failed test left mounted. */
int sim_teardown(void **state);
/* Defaults pointed at the mount, MSR device template included. */
void sim_config(const struct sim *s, struct rapl_config *cfg);

#endif
