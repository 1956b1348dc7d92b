#include "sysfs_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int rapl_parse_u64(const char *text, size_t len, uint64_t *out) {
  uint64_t value = 0;
  size_t i = 0;
  if (len > 0 && text[len - 1] == '\n')
    len--;
  if (len == 0)
    return -EBADMSG;
  for (; i < len; i++) {
    unsigned digit = (unsigned char)text[i] - '0';
    if (digit > 9)
      return -EBADMSG;
    if (value > (UINT64_MAX - digit) / 10)
      return -EBADMSG;
    value = value * 10 + digit;
  }
  *out = value;
  return 0;
}

int rapl_sysfs_pread_u64(int fd, uint64_t *out) {
  char buf[32];
  ssize_t n = pread(fd, buf, sizeof(buf), 0);
  if (n < 0)
    return -errno;
  if ((size_t)n == sizeof(buf))
    return -EBADMSG; /* longer than any 64-bit number */
  return rapl_parse_u64(buf, (size_t)n, out);
}

int rapl_sysfs_read_u64(const char *path, uint64_t *out) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  int rc = rapl_sysfs_pread_u64(fd, out);
  close(fd);
  return rc;
}

int rapl_sysfs_read_string(const char *path, char *out, size_t len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  ssize_t n = pread(fd, out, len - 1, 0);
  int err = errno;
  close(fd);
  if (n < 0)
    return -err;
  while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
    n--;
  out[n] = '\0';
  return n > 0 ? 0 : -EBADMSG;
}

const char *rapl_sysfs_strerror(int rc) {
  if (rc == -EBADMSG)
    return "not a decimal number in the kernel's format";
  return strerror(-rc);
}

int rapl_path_join(char *out, size_t len, const char *dir, const char *name) {
  int n = snprintf(out, len, "%s/%s", dir, name);
  return n < 0 || (size_t)n >= len ? -1 : 0;
}

int rapl_read_all(int fd, char *buf, size_t cap, size_t *got) {
  *got = 0;
  while (*got < cap) {
    ssize_t n = read(fd, buf + *got, cap - *got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -errno;
    if (n == 0)
      break;
    *got += (size_t)n;
  }
  return 0;
}
