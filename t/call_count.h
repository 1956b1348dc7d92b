/* Counted C library calls (t/call_count.c): what a read path costs, told
 * by counting rather than timing, so that a loaded machine passes. */
#ifndef RAPL_CALL_COUNT_H
#define RAPL_CALL_COUNT_H

#include <stdbool.h>

struct call_counts {
  long alloc; /* malloc, calloc, realloc, and calls that allocate */
  long sys;   /* every call that enters the kernel (scandir as three) */
  long read;  /* read(2) */
  long pread; /* pread(2) */
  long open;  /* open, fopen, opendir, scandir */
};

extern bool call_counting;
extern struct call_counts calls;

/* Zeroes the counters and starts counting; call_counting = false stops. */
void call_count_start(void);

#endif
