#include "fixture.h"

#include "rapl_log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char path_buf[4096];
static char log_buf[65536];

const char *fixture_path(const char *rel) {
  const char *top = getenv("abs_top_srcdir");
  snprintf(path_buf, sizeof(path_buf), "%s/t/data/%s", top ? top : ".", rel);
  return path_buf;
}

static void run(const char *cmd) {
  if (system(cmd) != 0) {
    fprintf(stderr, "fixture: command failed: %s\n", cmd);
    abort();
  }
}

int fixture_mkdtemp(char *out, size_t len, const char *prefix) {
  const char *tmp = getenv("TMPDIR");
  int n =
      snprintf(out, len, "%s/%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", prefix);
  if (n < 0 || (size_t)n >= len || mkdtemp(out) == NULL)
    return -1;
  return 0;
}

char *fixture_copy(const char *rel) {
  char tmpl[2048];
  char cmd[8192];
  if (fixture_mkdtemp(tmpl, sizeof(tmpl), "rapl-test") != 0)
    abort();
  snprintf(cmd, sizeof(cmd), "cp -a '%s'/. '%s'/", fixture_path(rel), tmpl);
  run(cmd);
  return strdup(tmpl);
}

void fixture_remove(char *root) {
  char cmd[4200];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
  run(cmd);
  free(root);
}

void fixture_write(const char *root, const char *rel, const char *text) {
  char path[4096];
  snprintf(path, sizeof(path), "%s/%s", root, rel);
  int fd = open(path, O_WRONLY | O_TRUNC);
  if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
    fprintf(stderr, "fixture: cannot write %s: %s\n", path, strerror(errno));
    abort();
  }
  close(fd);
}

void fixture_config(struct rapl_config *cfg, const char *root) {
  rapl_config_defaults(cfg);
  snprintf(cfg->sysfs_path, sizeof(cfg->sysfs_path), "%s/sys", root);
  snprintf(cfg->procfs_path, sizeof(cfg->procfs_path), "%s/proc", root);
}

static void capture(int level, const char *message, void *ud) {
  (void)ud;
  size_t used = strlen(log_buf);
  snprintf(log_buf + used, sizeof(log_buf) - used, "[%d] %s\n", level, message);
}

void fixture_capture_logs(void) {
  log_buf[0] = '\0';
  rapl_log_set_sink(capture, NULL);
}

void fixture_logs_reset(void) { log_buf[0] = '\0'; }

int fixture_log_count(const char *needle) {
  int n = 0;
  for (const char *p = strstr(log_buf, needle); p; p = strstr(p + 1, needle))
    n++;
  return n;
}

const char *fixture_logs(void) { return log_buf; }

int fixture_without_caps(const int *caps, size_t n, int (*fn)(void *ud, int fd),
                         void *ud, char *out, size_t outlen) {
  int p[2];
  if (pipe(p) != 0)
    return -1;
  pid_t pid = fork();
  if (pid < 0) {
    close(p[0]);
    close(p[1]);
    return -1;
  }
  if (pid == 0) {
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    close(p[0]);
    if (syscall(SYS_capget, &hdr, data) != 0)
      _exit(100);
    for (size_t i = 0; i < n; i++)
      data[caps[i] / 32].effective &= ~(UINT32_C(1) << (caps[i] % 32));
    if (syscall(SYS_capset, &hdr, data) != 0)
      _exit(101);
    _exit(fn(ud, p[1]));
  }
  close(p[1]);
  size_t got = 0;
  ssize_t k;
  while (got + 1 < outlen && (k = read(p[0], out + got, outlen - 1 - got)) > 0)
    got += (size_t)k;
  out[got] = '\0';
  close(p[0]);
  int status;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
    return -1;
  return WEXITSTATUS(status);
}
