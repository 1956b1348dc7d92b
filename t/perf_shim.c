#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "perf_shim.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Its own numbers: older headers lack CAP_PERFMON (Linux 5.8). */
#define SHIM_CAP_SYS_ADMIN 21
#define SHIM_CAP_PERFMON 38

/* A small text file's first line; false with errno set. */
static bool read_line(const char *path, char *buf, size_t len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  ssize_t n = read(fd, buf, len - 1);
  int err = errno;
  close(fd);
  if (n < 0) {
    errno = err;
    return false;
  }
  buf[n] = '\0';
  buf[strcspn(buf, "\n")] = '\0';
  return true;
}

static bool read_long(const char *path, long *out) {
  char buf[64], *end;
  if (!read_line(path, buf, sizeof(buf)))
    return false;
  errno = 0;
  *out = strtol(buf, &end, 0);
  if (end == buf || *end || errno) {
    errno = EINVAL;
    return false;
  }
  return true;
}

/* The effective set by capget(2) itself: the tests must not need libcap. */
static bool has_cap(int cap) {
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof(data));
  if (syscall(SYS_capget, &hdr, data) != 0)
    return false;
  return data[cap / 32].effective & (UINT32_C(1) << (cap % 32));
}

/* The events/ file whose "event=0x.." is config, like perf's sysfs lookup
 * in reverse; false: the PMU has no such event (EINVAL). */
static bool event_name(const char *pmu, unsigned config, char *name,
                       size_t len) {
  char dir[2200], path[2600], text[64];
  snprintf(dir, sizeof(dir), "%s/events", pmu);
  DIR *d = opendir(dir);
  if (d == NULL)
    return false;
  bool found = false;
  for (struct dirent *e; !found && (e = readdir(d)) != NULL;) {
    unsigned ev;
    char tail;
    if (e->d_name[0] == '.' || strchr(e->d_name, '.') != NULL)
      continue; /* .scale, .unit */
    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
    if (read_line(path, text, sizeof(text)) &&
        sscanf(text, "event=%x%c", &ev, &tail) == 1 && ev == config) {
      snprintf(name, len, "%s", e->d_name);
      found = true;
    }
  }
  closedir(d);
  return found;
}

int sim_perf_event_open(const char *root, const struct perf_event_attr *attr,
                        pid_t pid, int cpu, int group_fd, unsigned long flags) {
  char pmu[2048], path[2400], name[256];
  long type, paranoid;
  if (attr == NULL) {
    errno = EFAULT;
    return -1;
  }
  /* perf_copy_attr: a size the kernel does not know is E2BIG; 0 is the
   * oldest layout, which this shim does not take */
  if (attr->size == 0 || attr->size > sizeof(*attr)) {
    errno = attr->size ? E2BIG : EINVAL;
    return -1;
  }
  if (flags & ~(unsigned long)(PERF_FLAG_FD_NO_GROUP | PERF_FLAG_FD_OUTPUT |
                               PERF_FLAG_PID_CGROUP | PERF_FLAG_FD_CLOEXEC)) {
    errno = EINVAL;
    return -1;
  }
  if (root == NULL) {
    errno = ENOENT;
    return -1;
  }
  /* No PMU of that type: perf_init_event's ENOENT. */
  snprintf(pmu, sizeof(pmu), "%s/sys/bus/event_source/devices/power", root);
  snprintf(path, sizeof(path), "%s/type", pmu);
  if (!read_long(path, &type) || attr->type != (uint32_t)type) {
    errno = ENOENT;
    return -1;
  }
  /* rapl_pmu_event_init: system-wide counting events only, on a cpu, of a
   * config it knows; sampling and exclusions it cannot do */
  if (pid != -1 || cpu < 0 || group_fd != -1 || (attr->config & ~0xffULL) ||
      attr->sample_period || attr->exclude_user || attr->exclude_kernel ||
      attr->exclude_hv || attr->exclude_idle || attr->exclude_host ||
      attr->exclude_guest ||
      !event_name(pmu, (unsigned)(attr->config & 0xff), name, sizeof(name))) {
    errno = EINVAL;
    return -1;
  }
  /* perf_allow_cpu: a system-wide event needs paranoid <= 0 or
   * CAP_PERFMON (CAP_SYS_ADMIN before Linux 5.8) */
  snprintf(path, sizeof(path), "%s/proc/sys/kernel/perf_event_paranoid", root);
  if (!read_long(path, &paranoid))
    return -1;
  if (paranoid > 0 && !has_cap(SHIM_CAP_PERFMON) &&
      !has_cap(SHIM_CAP_SYS_ADMIN)) {
    errno = EACCES;
    return -1;
  }
  snprintf(path, sizeof(path), "%s/perf/cpu%d/%s", root, cpu, name);
  int fd =
      open(path, O_RDONLY | (flags & PERF_FLAG_FD_CLOEXEC ? O_CLOEXEC : 0));
  if (fd < 0 && errno == ENOENT)
    errno = ENODEV; /* an offline or absent cpu */
  return fd;
}
