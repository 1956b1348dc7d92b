#include "capability.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int rapl_cap_effective(int cap, char *err, size_t errlen) {
  struct __user_cap_header_struct header;
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

  if (cap < 0 || cap >= 32 * _LINUX_CAPABILITY_U32S_3) {
    snprintf(err, errlen, "capability %d out of range", cap);
    return -1;
  }
  memset(&header, 0, sizeof(header));
  memset(data, 0, sizeof(data));
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0; /* this thread */
  if (syscall(SYS_capget, &header, data) != 0) {
    snprintf(err, errlen, "capget: %s", strerror(errno));
    return -1;
  }
  return (data[cap / 32].effective >> (cap % 32)) & 1u ? 1 : 0;
}

int rapl_cap_effective_in_status(const char *status_text, int cap, char *err,
                                 size_t errlen) {
  const char *line = status_text;
  if (cap < 0 || cap >= 64) {
    snprintf(err, errlen, "capability %d out of range", cap);
    return -1;
  }
  while (line && *line) {
    if (strncmp(line, "CapEff:", 7) == 0) {
      const char *p = line + 7;
      uint64_t mask = 0;
      int digits = 0;
      while (*p == ' ' || *p == '\t')
        p++;
      for (; *p && *p != '\n'; p++) {
        int d;
        if (*p >= '0' && *p <= '9')
          d = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
          d = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F')
          d = *p - 'A' + 10;
        else
          break;
        if (++digits > 16)
          break;
        mask = (mask << 4) | (uint64_t)d;
      }
      if (digits == 0 || digits > 16 || (*p != '\n' && *p != '\0')) {
        snprintf(err, errlen, "malformed CapEff line");
        return -1;
      }
      return (mask >> cap) & 1u ? 1 : 0;
    }
    line = strchr(line, '\n');
    if (line)
      line++;
  }
  snprintf(err, errlen, "no CapEff line");
  return -1;
}
