#include "sim_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fixture.h"
#include "reader.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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
 * and sim_teardown (or a signal) must still unmount what it left. */
static struct sim *running[8];
static bool skipped;

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

/* Only async-signal-safe calls: a signal handler uses it too. */
static void remove_dir(const struct sim *s) {
  static const char *const files[] = {"spec", "raplsim.log"};
  char path[sizeof(s->dir) + 32];
  for (size_t i = 0; i < 2; i++) {
    size_t n = strlen(s->dir);
    memcpy(path, s->dir, n);
    path[n] = '/';
    memcpy(path + n + 1, files[i], strlen(files[i]) + 1);
    unlink(path);
  }
  rmdir(s->mnt);
  rmdir(s->dir);
}

/* A test killed by SIGTERM (make's timeout), SIGINT or SIGHUP still removes
 * its mounts: the simulator unmounts itself on SIGTERM. SIGKILL cannot be
 * caught; there the simulator's parent-death signal does the same. */
static void on_signal(int sig) {
  for (size_t i = 0; i < sizeof(running) / sizeof(running[0]); i++) {
    struct sim *s = running[i];
    if (s == NULL)
      continue;
    int status;
    kill(s->pid, SIGTERM);
    waitpid(s->pid, &status, 0);
    remove_dir(s);
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

static void catch_signals(void) {
  static bool done;
  if (done)
    return;
  done = true;
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  signal(SIGHUP, on_signal);
}

static void sim_binary(char *out, size_t len) {
  const char *top = getenv("abs_top_builddir");
  snprintf(out, len, "%s/t/sim/raplsim", top ? top : ".");
}

/* Why this process cannot run the simulator, or NULL when it can. */
static const char *fuse_unavailable(void) {
  if (geteuid() != 0)
    return "not root: mounting the FUSE simulator and reading its MSR "
           "devices need root";
  if (access("/dev/fuse", R_OK | W_OK) != 0)
    return "/dev/fuse is missing or not accessible";
  return NULL;
}

void sim_need_root(void) {
  if (geteuid() == 0)
    return;
  skipped = true;
  print_message("SKIP: not root: the MSR backend needs CAP_SYS_RAWIO\n");
  skip();
}

void sim_start(struct sim *s, const char *spec_text) {
  char spec[sizeof(s->dir) + 8], bin[4096];
  memset(s, 0, sizeof(*s));
  s->clock_fd = -1;
  const char *why = fuse_unavailable();
  if (why != NULL) {
    skipped = true;
    print_message("SKIP: %s; the simulator tests did NOT run\n", why);
    skip();
  }
  catch_signals();
  if (fixture_mkdtemp(s->dir, sizeof(s->dir), "rapl-sim") != 0)
    fail_msg("cannot make a temporary directory: %s", strerror(errno));
  snprintf(spec, sizeof(spec), "%s/spec", s->dir);
  snprintf(s->mnt, sizeof(s->mnt), "%s/mnt", s->dir);
  FILE *f = fopen(spec, "w");
  if (f == NULL || fputs(spec_text, f) < 0 ||
      fputs("\nclock virtual\n", f) < 0 || fclose(f) != 0)
    fail_msg("cannot write %s", spec);
  if (mkdir(s->mnt, 0755) != 0)
    fail_msg("mkdir %s: %s", s->mnt, strerror(errno));
  sim_binary(bin, sizeof(bin));
  s->pid = fork();
  if (s->pid == 0) {
    /* Its output must not hold the test's stdout open after a failure. */
    char log[sizeof(s->dir) + 16];
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
  char probe[sizeof(s->mnt) + 16];
  snprintf(probe, sizeof(probe), "%s/clock", s->mnt);
  for (int i = 0; i < 200; i++) {
    int status;
    s->clock_fd = open(probe, O_RDONLY | O_CLOEXEC);
    if (s->clock_fd >= 0) {
      /* The machine has been up a while: the MSR backend takes a register
       * that reads 0 for one the CPU does not implement. */
      sim_advance_ms(s, 1000);
      return;
    }
    if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
      track(s, false);
      remove_dir(s);
      fail_msg("%s exited (status %d) before mounting %s; is fuse3 "
               "installed?",
               bin, status, s->mnt);
    }
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  sim_stop(s);
  fail_msg("%s did not mount its tree within 10 s", bin);
}

void sim_ctl(struct sim *s, const char *fmt, ...) {
  char cmd[512], path[sizeof(s->mnt) + 8];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(cmd, sizeof(cmd) - 1, fmt, ap);
  va_end(ap);
  if (n < 0 || n >= (int)sizeof(cmd) - 1)
    fail_msg("simulator command too long: %.60s...", cmd);
  cmd[n++] = '\n';
  snprintf(path, sizeof(path), "%s/ctl", s->mnt);
  int fd = open(path, O_WRONLY);
  if (fd < 0 || write(fd, cmd, (size_t)n) != n)
    fail_msg("simulator refused \"%.*s\": %s", n - 1, cmd, strerror(errno));
  close(fd);
}

void sim_advance_ns(struct sim *s, int64_t ns) {
  assert_true(ns >= 0);
  sim_ctl(s, "advance %" PRId64 ".%09" PRId64, ns / 1000000000,
          ns % 1000000000);
  s->now_ns += ns;
}

void sim_advance_ms(struct sim *s, int64_t ms) {
  sim_advance_ns(s, ms * 1000000);
}

void sim_open_cost_ns(struct sim *s, int64_t ns) {
  sim_ctl(s, "opencost %" PRId64 ".%09" PRId64, ns / 1000000000,
          ns % 1000000000);
  s->open_costs = ns > 0;
}

int64_t sim_clock(void *ud) {
  struct sim *s = ud;
  /* Without open costs only sim_advance moves the clock, so the mirror is
   * exact and asking costs no system call (test_read_path counts them). */
  if (!s->open_costs)
    return s->now_ns;
  char buf[64];
  long long ns;
  ssize_t n = pread(s->clock_fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0)
    fail_msg("cannot read the simulator's clock: %s", strerror(errno));
  buf[n] = '\0';
  if (sscanf(buf, "virtual %lld", &ns) != 1)
    fail_msg("the simulator's clock says \"%s\"", buf);
  s->now_ns = ns;
  return ns;
}

void sim_attach(struct sim *s, struct rapl_reader *r) {
  rapl_reader_set_clock(r, sim_clock, s);
}

void sim_stop(struct sim *s) {
  char cmd[sizeof(s->mnt) + 64];
  int status;
  track(s, false);
  if (s->clock_fd >= 0)
    close(s->clock_fd);
  s->clock_fd = -1;
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

int sim_exit_status(int cmocka_failed) {
  if (cmocka_failed == 0 && skipped) {
    const char *why = fuse_unavailable();
    fprintf(stderr, "SKIP: %s; some tests did NOT run\n",
            why ? why : "see the skipped tests above");
    return 77;
  }
  return cmocka_failed;
}

const char *sim_spec_file(const char *name, const char *extra) {
  static char spec[16384];
  char path[1024];
  const char *top = getenv("abs_top_srcdir");
  snprintf(path, sizeof(path), "%s/t/sim/specs/%s", top && *top ? top : ".",
           name);
  FILE *f = fopen(path, "r");
  if (f == NULL)
    fail_msg("%s: %s", path, strerror(errno));
  size_t n = fread(spec, 1, sizeof(spec) - 1, f);
  fclose(f);
  spec[n] = '\0';
  strncat(spec, extra, sizeof(spec) - n - 1);
  return spec;
}
