/* Runs t/sim/raplsim for a unit test: a FUSE mount whose files vanish, fail
 * or are denied on command, like the kernel's, and whose counters advance on
 * a virtual clock that only the test moves. Power computed by the reader on
 * that clock is exact to the counter's unit, however busy the machine is. */
#ifndef RAPL_TEST_SIM_HARNESS_H
#define RAPL_TEST_SIM_HARNESS_H

#include "rapl_config.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct rapl_reader;

struct sim {
  char dir[512]; /* temporary directory holding the spec and the mount */
  char mnt[600]; /* the mount: mnt/sys, mnt/proc, mnt/dev/cpu/N/msr */
  pid_t pid;
  int64_t now_ns;  /* the simulator's virtual time, mirrored */
  bool open_costs; /* opens advance the clock: ask the simulator */
  int clock_fd;    /* mnt/clock, kept open */
};

/* Mounts a simulator on spec_text, its clock standing still at 1 s. When
 * this process cannot mount FUSE (not root, no /dev/fuse) the test is
 * skipped with the reason; see sim_exit_status. Fails the test when the
 * simulator itself fails. */
void sim_start(struct sim *s, const char *spec_text);
/* The text of t/sim/specs/NAME (under $abs_top_srcdir) with extra appended,
 * so that tests run on the specs the project ships; a static buffer that
 * the next call reuses. Fails the test when the file cannot be read. */
const char *sim_spec_file(const char *name, const char *extra);
/* Sends one control command ("hide PATH", "watts package:0 30", ...). */
void sim_ctl(struct sim *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Moves the simulated time forward; the counters follow. */
void sim_advance_ns(struct sim *s, int64_t ns);
void sim_advance_ms(struct sim *s, int64_t ms);
/* From now on every open of a file under sys/, dev/ or proc/ costs ns of
 * simulated time, as discovery costs time on a real machine. */
void sim_open_cost_ns(struct sim *s, int64_t ns);
/* The simulator's time in ns; a rapl_clock_fn with ud = the struct sim. */
int64_t sim_clock(void *sim);
/* Points the reader's clock at the simulator's. */
void sim_attach(struct sim *s, struct rapl_reader *r);
void sim_stop(struct sim *s);
/* cmocka teardown: stops every simulator a failed test left mounted. */
int sim_teardown(void **state);
/* Defaults pointed at the mount, MSR device template included. */
void sim_config(const struct sim *s, struct rapl_config *cfg);
/* Skips the calling test, saying why, when this process is not root: the
 * MSR backend's probe checks CAP_SYS_RAWIO before anything else. */
void sim_need_root(void);
/* What main returns: cmocka's result, or 77 (automake's SKIP) when every
 * test passed but some could not run for want of FUSE. */
int sim_exit_status(int cmocka_failed);

#endif
