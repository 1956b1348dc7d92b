/* Run under LD_PRELOAD=t/.libs/libraplperf.so by t/test_perf_sim: opens one
 * power PMU event through syscall(SYS_perf_event_open, ...), as the perf
 * backend does, and prints what it read, or the errno.
 * usage: perf_syscall TYPE CONFIG CPU */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: perf_syscall TYPE CONFIG CPU\n");
    return 2;
  }
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.size = sizeof(attr);
  attr.type = (uint32_t)strtoul(argv[1], NULL, 0);
  attr.config = strtoull(argv[2], NULL, 0);
  int fd = (int)syscall(SYS_perf_event_open, &attr, -1, atoi(argv[3]), -1,
                        PERF_FLAG_FD_CLOEXEC);
  if (fd < 0) {
    printf("errno %d\n", errno);
    return 0;
  }
  /* Any other open of the simulator's files moves its clock when the test
   * set an open cost: the count read next is then not 0. */
  char path[4096];
  snprintf(path, sizeof(path), "%s/proc/cpuinfo", getenv("RAPLSIM_PERF_ROOT"));
  FILE *f = fopen(path, "r");
  if (f != NULL)
    fclose(f);
  uint64_t count;
  if (read(fd, &count, sizeof(count)) != (ssize_t)sizeof(count)) {
    printf("read errno %d\n", errno);
    return 1;
  }
  /* Other system calls still reach the kernel through the same symbol. */
  long pid = syscall(SYS_getpid);
  printf("count %" PRIu64 " getpid %s\n", count,
         pid == (long)getpid() ? "ok" : "wrong");
  close(fd);
  return 0;
}
