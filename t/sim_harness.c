#include "sim_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Simulators still mounted: a failing assertion leaves its test by longjmp,
 * and sim_teardown must still unmount what it left. */
static struct sim *running[8];

static void track(struct sim *s, bool on) {
  for (size_t i = 0; i < sizeof(running) / sizeof(running[0]); i++) {
    if (on ? running[i] == NULL : running[i] == s) {
      running[i] = on ? s : NULL;
      return;
    }
  }
}

int sim_teardown(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof(running) / sizeof(running[0]); i++)
    if (running[i] != NULL)
      sim_stop(running[i]);
  return 0;
}

static void remove_dir(const struct sim *s) {
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
  if (system(cmd) != 0)
    fprintf(stderr, "sim harness: could not remove %s\n", s->dir);
}

static void sim_binary(char *out, size_t len) {
  const char *top = getenv("abs_top_builddir");
  snprintf(out, len, "%s/t/sim/raplsim", top ? top : ".");
}

void sim_start(struct sim *s, const char *spec_text) {
  char spec[128], bin[4096];
  memset(s, 0, sizeof(*s));
  snprintf(s->dir, sizeof(s->dir), "/tmp/rapl-sim-XXXXXX");
  if (mkdtemp(s->dir) == NULL)
    fail_msg("mkdtemp: %s", strerror(errno));
  snprintf(spec, sizeof(spec), "%s/spec", s->dir);
  snprintf(s->mnt, sizeof(s->mnt), "%s/mnt", s->dir);
  FILE *f = fopen(spec, "w");
  if (f == NULL || fputs(spec_text, f) < 0 || fclose(f) != 0)
    fail_msg("cannot write %s", spec);
  if (mkdir(s->mnt, 0755) != 0)
    fail_msg("mkdir %s: %s", s->mnt, strerror(errno));
  sim_binary(bin, sizeof(bin));
  s->pid = fork();
  if (s->pid == 0) {
    /* Its output must not hold the test's stdout open after a failure. */
    char log[128];
    snprintf(log, sizeof(log), "%s/raplsim.log", s->dir);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      close(fd);
    }
    execl(bin, "raplsim", "-f", spec, s->mnt, (char *)NULL);
    _exit(127);
  }
  track(s, true);
  char probe[256];
  snprintf(probe, sizeof(probe), "%s/sys", s->mnt);
  for (int i = 0; i < 100; i++) {
    struct stat st;
    int status;
    if (stat(probe, &st) == 0)
      return;
    if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
      track(s, false);
      remove_dir(s);
      fail_msg("%s exited (status %d) before mounting %s; is /dev/fuse "
               "there and fuse3 installed?",
               bin, status, s->mnt);
    }
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  sim_stop(s);
  fail_msg("%s did not mount its tree within 5 s", bin);
}

void sim_ctl(struct sim *s, const char *fmt, ...) {
  char cmd[512], path[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(cmd, sizeof(cmd) - 1, fmt, ap);
  va_end(ap);
  cmd[n++] = '\n';
  snprintf(path, sizeof(path), "%s/ctl", s->mnt);
  int fd = open(path, O_WRONLY);
  if (fd < 0 || write(fd, cmd, (size_t)n) != n)
    fail_msg("simulator refused \"%.*s\": %s", n - 1, cmd, strerror(errno));
  close(fd);
}

void sim_stop(struct sim *s) {
  char cmd[512];
  int status;
  track(s, false);
  snprintf(cmd, sizeof(cmd), "fusermount3 -u '%s' 2>/dev/null", s->mnt);
  if (system(cmd) != 0)
    kill(s->pid, SIGTERM);
  waitpid(s->pid, &status, 0);
  remove_dir(s);
}

void sim_config(const struct sim *s, struct rapl_config *cfg) {
  rapl_config_defaults(cfg);
  snprintf(cfg->sysfs_path, sizeof(cfg->sysfs_path), "%s/sys", s->mnt);
  snprintf(cfg->procfs_path, sizeof(cfg->procfs_path), "%s/proc", s->mnt);
  snprintf(cfg->msr_device_path, sizeof(cfg->msr_device_path),
           "%s/dev/cpu/%%d/msr", s->mnt);
}
