/* The live reload state machine (issue 4): one stat per poll, re-parse only
 * on change, last good configuration kept across bad edits, one log line
 * per distinct problem. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "config_watch.h"
#include "rapl_log.h"
#include "zone_kind.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define T0 1700000000 /* mtimes are set explicitly: no clock granularity */

struct captured {
  int count;
  int errors;
  int infos;
  int levels[32];
  char messages[32][1100];
};

static struct captured logs;
static char dir[256];
static char path[512];

static void capture(int level, const char *message, void *ud) {
  (void)ud;
  if (level == RAPL_LOG_ERR)
    logs.errors++;
  if (level == RAPL_LOG_INFO)
    logs.infos++;
  if (logs.count < 32) {
    logs.levels[logs.count] = level;
    snprintf(logs.messages[logs.count], sizeof(logs.messages[0]), "%s",
             message);
  }
  logs.count++;
}

static const char *last_log(void) {
  assert_true(logs.count > 0 && logs.count <= 32);
  return logs.messages[logs.count - 1];
}

static void set_mtime(const char *p, time_t sec, long nsec) {
  struct timespec ts[2] = {{sec, nsec}, {sec, nsec}};
  assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
}

/* Rewrites the file in place (same inode), sets its mode (whatever the
 * umask) and its mtime. */
static void write_mode(const char *p, const char *content, mode_t mode,
                       time_t mtime) {
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  assert_int_equal(fputs(content, f) >= 0, 1);
  assert_int_equal(fclose(f), 0);
  assert_int_equal(chmod(p, mode), 0);
  set_mtime(p, mtime, 0);
}

static void write_at(const char *p, const char *content, time_t mtime) {
  write_mode(p, content, 0600, mtime);
}

static void base_config(struct rapl_config *cfg) {
  rapl_config_defaults(cfg);
  cfg->msr_min_interval = 5.0; /* as if set in collectd.conf */
  strcpy(cfg->sysfs_path, "/cd/sys");
}

static const char good_off[] = "msr:\n  enabled: false\n";
static const char good_on[] = "msr:\n  enabled: true\n";
static const char good_on_forced[] = "msr:\n  enabled: true\n  force: on\n";
static const char bad_quoted[] = "msr:\n  enabled: \"on\"\n";
static const char bad_syntax[] = "msr:\n  enabled: true\n force: on\n";

static void start(struct rapl_config_watch *w, const char *content) {
  struct rapl_config base;
  char err[2048] = "";
  base_config(&base);
  write_at(path, content, T0);
  if (rapl_config_watch_init(w, path, &base, err, sizeof(err)) != 0) {
    print_error("init: %s\n", err);
    fail();
  }
  memset(&logs, 0, sizeof(logs));
}

static int setup(void **state) {
  (void)state;
  memset(&logs, 0, sizeof(logs));
  rapl_log_set_sink(capture, NULL);
  unlink(path);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  rapl_log_set_sink(NULL, NULL);
  unlink(path);
  return 0;
}

/* -------------------------------------------------------------- startup */

static void test_init_loads_on_top_of_base(void **state) {
  (void)state;
  struct rapl_config_watch w;
  start(&w, "msr: {enabled: true}\nrapl: {zones: [dram]}\n");
  const struct rapl_config *cur = rapl_config_watch_current(&w);
  assert_true(cur->msr_enabled);
  assert_int_equal(cur->zone_mask, RAPL_ZONE_MASK(RAPL_ZONE_DRAM));
  assert_true(cur->msr_min_interval == 5.0); /* from the base */
  assert_string_equal(cur->sysfs_path, "/cd/sys");
  assert_null(rapl_config_watch_last_error(&w));
  assert_int_equal(w.parses, 1);
  rapl_config_watch_destroy(&w);
}

/* A missing or bad file at startup is an error, so that `collectd -T`
 * fails. */
static void test_init_errors(void **state) {
  (void)state;
  struct rapl_config_watch w;
  struct rapl_config base;
  char err[2048];
  base_config(&base);
  assert_int_equal(rapl_config_watch_init(&w, path, &base, err, sizeof(err)),
                   -1);
  assert_non_null(strstr(err, ": cannot open: No such file or directory"));
  assert_int_equal(strncmp(err, path, strlen(path)), 0);

  write_at(path, bad_quoted, T0);
  assert_int_equal(rapl_config_watch_init(&w, path, &base, err, sizeof(err)),
                   -1);
  assert_non_null(strstr(err, ":2:12: msr.enabled: expected a boolean, found "
                              "the string \"on\""));

  assert_int_equal(
      rapl_config_watch_init(&w, "rapl_energy.yaml", &base, err, sizeof(err)),
      -1);
  assert_string_equal(err, "ConfigFile: expected an absolute path, found the "
                           "relative path \"rapl_energy.yaml\"");
  assert_int_equal(logs.count, 0); /* the caller reports init errors */
}

/* ------------------------------------------------------------- polling */

/* Unchanged (mtime, ctime, size, inode): no parse, however often polled. */
static void test_unchanged_file_is_not_parsed(void **state) {
  (void)state;
  struct rapl_config_watch w;
  struct rapl_config out, sentinel;
  start(&w, good_on);
  memset(&out, 0x5a, sizeof(out));
  memcpy(&sentinel, &out, sizeof(out));
  for (int i = 0; i < 5; i++)
    assert_int_equal(rapl_config_watch_poll(&w, &out), 0);
  assert_int_equal(w.parses, 1);
  assert_int_equal(logs.count, 0);
  assert_memory_equal(&out, &sentinel, sizeof(out));
}

/* The change time moves on with every write and chmod and the kernel's clock
 * tick; sleeping past a tick (at most 10 ms) makes the test independent of
 * how close together its writes fall. */
static void next_ctime_tick(void) {
  struct timespec pause = {0, 20 * 1000 * 1000};
  nanosleep(&pause, NULL);
}

/* Configuration management puts the mtime back after an edit (touch -r,
 * rsync -t): same size, same inode, same mtime, other content. The change
 * time, which no process can set back, gives the edit away. */
static void test_edit_with_mtime_put_back_is_detected(void **state) {
  (void)state;
  struct rapl_config_watch w;
  struct rapl_config out;
  struct stat before, after;
  start(&w, good_on);
  assert_int_equal(stat(path, &before), 0);
  next_ctime_tick();

  static const char same_size_off[] = "msr:\n  enabled: off \n";
  assert_int_equal(strlen(same_size_off), strlen(good_on));
  int fd = open(path, O_WRONLY);
  assert_true(fd >= 0);
  assert_int_equal(pwrite(fd, same_size_off, strlen(same_size_off), 0),
                   (ssize_t)strlen(same_size_off));
  assert_int_equal(close(fd), 0);
  set_mtime(path, before.st_mtim.tv_sec, before.st_mtim.tv_nsec);
  assert_int_equal(stat(path, &after), 0);
  assert_int_equal(after.st_ino, before.st_ino);
  assert_int_equal(after.st_size, before.st_size);
  assert_int_equal(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
  assert_int_equal(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
  assert_true(after.st_ctim.tv_sec != before.st_ctim.tv_sec ||
              after.st_ctim.tv_nsec != before.st_ctim.tv_nsec);

  assert_int_equal(rapl_config_watch_poll(&w, &out), 1);
  assert_false(out.msr_enabled);
  assert_int_equal(w.parses, 2);
  assert_int_equal(logs.infos, 1);
  assert_non_null(strstr(last_log(), " reloaded: msr.enabled=false"));
  assert_int_equal(rapl_config_watch_poll(&w, &out), 0);
  assert_int_equal(w.parses, 2);
}

static void test_good_edit_is_applied(void **state) {
  (void)state;
  struct rapl_config_watch w;
  struct rapl_config out;
  start(&w, good_on_forced);
  assert_true(rapl_config_watch_current(&w)->msr_force);

  write_at(path, good_off, T0 + 10);
  assert_int_equal(rapl_config_watch_poll(&w, &out), 1);
  assert_false(out.msr_enabled);
  assert_false(out.msr_force); /* gone from the file: back to the base */
  assert_true(out.msr_min_interval == 5.0);
  assert_true(rapl_config_same(&out, rapl_config_watch_current(&w)));
  assert_int_equal(logs.infos, 1);
  assert_int_equal(logs.errors, 0);
  assert_non_null(strstr(last_log(), " reloaded: msr.enabled=false "
                                     "msr.force=false"));
  assert_int_equal(strncmp(last_log(), path, strlen(path)), 0);

  assert_int_equal(rapl_config_watch_poll(&w, &out), 0);
  assert_int_equal(w.parses, 2);
}

/* A key removed from the file falls back to the collectd.conf value, not
 * to the file's previous value. */
static void test_removed_key_reverts_to_base(void **state) {
  (void)state;
  struct rapl_config_watch w;
  struct rapl_config out;
  start(&w, "rapl_energy: {msrMinInterval: 2, sysfsPath: /yaml/sys}\n");
  assert_true(rapl_config_watch_current(&w)->msr_min_interval == 2.0);
  write_at(path, "rapl_energy: {sysfsPath: /yaml/sys}\n", T0 + 1);
  assert_int_equal(rapl_config_watch_poll(&w, &out), 1);
  assert_true(out.msr_min_interval == 5.0);
  assert_string_equal(out.sysfs_path, "/yaml/sys");
}

/* A bad edit keeps the last good configuration and is logged once, however
 * many intervals pass and however often the same bad file is saved again;
 * a different problem is logged; the next good edit is applied. */
static void test_bad_edit_keeps_last_good_and_logs_once(void **state) {
  (void)state;
  struct rapl_config_watch w;
  struct rapl_config out;
  start(&w, good_on);

  write_at(path, bad_quoted, T0 + 10);
  for (int i = 0; i < 5; i++)
    assert_int_equal(rapl_config_watch_poll(&w, &out), 0);
  assert_int_equal(w.parses, 2);
  assert_int_equal(logs.errors, 1);
  assert_int_equal(logs.levels[0], RAPL_LOG_ERR);
  assert_non_null(strstr(logs.messages[0],
                         ":2:12: msr.enabled: expected a boolean, found the "
                         "string \"on\""));
  assert_non_null(strstr(logs.messages[0], "keeping the last good"));
  assert_non_null(strstr(rapl_config_watch_last_error(&w), "msr.enabled"));
  assert_true(rapl_config_watch_current(&w)->msr_enabled);

  /* Saved again unchanged: re-read, same error, not logged again. */
  write_at(path, bad_quoted, T0 + 20);
  assert_int_equal(rapl_config_watch_poll(&w, &out), 0);
  assert_int_equal(w.parses, 3);
  assert_int_equal(logs.errors, 1);

  /* A different problem is a distinct change. */
  write_at(path, bad_syntax, T0 + 30);
  assert_int_equal(rapl_config_watch_poll(&w, &out), 0);
  assert_int_equal(rapl_config_watch_poll(&w, &out), 0);
  assert_int_equal(logs.errors, 2);
  assert_non_null(strstr(last_log(), "YAML syntax error"));
  assert_true(rapl_config_watch_current(&w)->msr_enabled);

  /* The next good edit is applied. */
  write_at(path, good_off, T0 + 40);
  assert_int_equal(rapl_config_watch_poll(&w, &out), 1);
  assert_false(out.msr_enabled);
  assert_null(rapl_config_watch_last_error(&w));
  assert_int_equal(logs.errors, 2);
  assert_int_equal(logs.infos, 1);

  /* After a good file, the same old mistake is news again. */
  write_at(path, bad_quoted, T0 + 50);
  assert_int_equal(rapl_config_watch_poll(&w, &out), 0);
  assert_int_equal(logs.errors, 3);
}

/* An editor that removes the file and writes a new one: the gap keeps the
 * last good configuration (logged once), the new file is applied. */
static void test_missing_file_during_save(void **state) {
  (void)state;
  struct rapl_config_watch w;
  struct rapl_config out;
  start(&w, good_on);

  assert_int_equal(unlink(path), 0);
  for (int i = 0; i < 3; i++)
    assert_int_equal(rapl_config_watch_poll(&w, &out), 0);
  assert_int_equal(logs.errors, 1);
  assert_non_null(strstr(logs.messages[0], "cannot open: No such file"));
  assert_int_equal(w.parses, 1); /* nothing to parse */
  assert_true(rapl_config_watch_current(&w)->msr_enabled);

  write_at(path, good_off, T0 + 10);
  assert_int_equal(rapl_config_watch_poll(&w, &out), 1);
  assert_false(out.msr_enabled);
  assert_int_equal(logs.errors, 1);
}

/* The file comes back with the configuration it had: nothing to apply, but
 * the operator learns the error is gone. */
static void test_valid_again_without_change(void **state) {
  (void)state;
  struct rapl_config_watch w;
  struct rapl_config out;
  start(&w, good_on);
  write_at(path, bad_syntax, T0 + 10);
  assert_int_equal(rapl_config_watch_poll(&w, &out), 0);
  write_at(path,
           "# same settings, new comment\n"
           "msr: {enabled: yes}\n",
           T0 + 20);
  assert_int_equal(rapl_config_watch_poll(&w, &out), 0);
  assert_int_equal(logs.errors, 1);
  assert_int_equal(logs.infos, 1);
  assert_non_null(strstr(last_log(), "is valid again"));
  /* A plain touch of a good file: re-read, nothing applied, nothing above
   * DEBUG logged. */
  set_mtime(path, T0 + 30, 0);
  assert_int_equal(rapl_config_watch_poll(&w, &out), 0);
  assert_int_equal(logs.errors, 1);
  assert_int_equal(logs.infos, 1);
  assert_int_equal(logs.levels[logs.count - 1], RAPL_LOG_DEBUG);
  assert_int_equal(w.parses, 4);
}

/* Renamed over (what most editors and configuration managers do): same
 * size and mtime, but a new inode, is noticed. */
static void test_rename_over_is_detected(void **state) {
  (void)state;
  struct rapl_config_watch w;
  struct rapl_config out;
  struct stat before, after;
  char tmp[600];
  start(&w, good_on);
  assert_int_equal(stat(path, &before), 0);

  static const char same_size[] = "msr:\n  enabled: off \n";
  assert_int_equal(strlen(same_size), strlen(good_on));
  snprintf(tmp, sizeof(tmp), "%s.new", path);
  write_at(tmp, same_size, T0);
  set_mtime(tmp, before.st_mtim.tv_sec, before.st_mtim.tv_nsec);
  assert_int_equal(rename(tmp, path), 0);
  assert_int_equal(stat(path, &after), 0);
  assert_true(after.st_ino != before.st_ino);
  assert_int_equal(after.st_size, before.st_size);
  assert_int_equal(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
  assert_int_equal(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);

  assert_int_equal(rapl_config_watch_poll(&w, &out), 1);
  assert_false(out.msr_enabled);
}

/* Something that is not a regular file put in its place (here a FIFO, which
 * must not block the read thread): refused once, not retried every poll. */
static void test_not_a_regular_file(void **state) {
  (void)state;
  struct rapl_config_watch w;
  struct rapl_config out;
  start(&w, good_on);
  assert_int_equal(unlink(path), 0);
  assert_int_equal(mkfifo(path, 0600), 0);
  for (int i = 0; i < 3; i++)
    assert_int_equal(rapl_config_watch_poll(&w, &out), 0);
  assert_int_equal(w.parses, 2);
  assert_int_equal(logs.errors, 1);
  assert_non_null(strstr(last_log(), ": not a regular file"));
  assert_true(rapl_config_watch_current(&w)->msr_enabled);
  assert_int_equal(unlink(path), 0);
  write_at(path, good_off, T0 + 10);
  assert_int_equal(rapl_config_watch_poll(&w, &out), 1);
  assert_false(out.msr_enabled);
}

/* ------------------------------------------------------------- trust */

static int count_level(int level) {
  int n = 0;
  for (int i = 0; i < logs.count && i < 32; i++)
    n += logs.levels[i] == level;
  return n;
}

static void expect_one_warning(const char *why) {
  assert_int_equal(count_level(RAPL_LOG_WARNING), 1);
  for (int i = 0; i < logs.count && i < 32; i++) {
    if (logs.levels[i] != RAPL_LOG_WARNING)
      continue;
    const char *m = logs.messages[i];
    assert_int_equal(strncmp(m, path, strlen(path)), 0);
    if (strstr(m, why) == NULL)
      fail_msg("warning lacks \"%s\": %s", why, m);
    assert_non_null(strstr(m, ": not applying msr.enabled: true (line "));
    assert_non_null(strstr(m, "PLATYPUS"));
    assert_non_null(strstr(m, "CVE-2020-8694/8695"));
    assert_non_null(strstr(m, "other settings apply"));
  }
}

/* A file that others could have written does not switch the MSRs on; the
 * reason is said once for as long as it lasts; the file's other settings
 * apply; fixing the permissions (of the file, or of its directory, which
 * changes nothing in the file's stamp) applies the switches at the next
 * poll. */
static void test_untrusted_file_withholds_msr_switches(void **state) {
  (void)state;
  struct rapl_config_watch w;
  struct rapl_config out;
  char why[1200];
  start(&w, good_on);
  assert_true(rapl_config_watch_current(&w)->msr_enabled);

  next_ctime_tick();
  assert_int_equal(chmod(path, 0664), 0);
  assert_int_equal(rapl_config_watch_poll(&w, &out), 1);
  assert_false(out.msr_enabled);
  expect_one_warning(": the file is writable by its group (mode 0664)");
  assert_non_null(strstr(logs.messages[0], "msr.enabled: true (line 2, "
                                           "column 12)"));
  int parses = (int)w.parses;
  for (int i = 0; i < 5; i++)
    assert_int_equal(rapl_config_watch_poll(&w, &out), 0);
  assert_int_equal(w.parses, parses);
  assert_int_equal(count_level(RAPL_LOG_WARNING), 1);

  /* Edited, lines moved, still writable by the group: the other settings
   * apply, and it is the same stretch, so nothing is said again. */
  write_mode(path,
             "# moved down\nmsr:\n  enabled: true\n"
             "rapl_energy:\n  reportPower: false\n",
             0664, T0 + 10);
  assert_int_equal(rapl_config_watch_poll(&w, &out), 1);
  assert_false(out.report_power);
  assert_false(out.msr_enabled);
  assert_true(out.msr_min_interval == 5.0);
  assert_int_equal(count_level(RAPL_LOG_WARNING), 1);

  /* chmod alone changes the ctime: noticed, applied, nothing to warn. */
  next_ctime_tick();
  assert_int_equal(chmod(path, 0644), 0);
  assert_int_equal(rapl_config_watch_poll(&w, &out), 1);
  assert_true(out.msr_enabled);
  assert_false(out.report_power);
  assert_int_equal(count_level(RAPL_LOG_WARNING), 1);

  /* The directory made writable by the group: read at the file's next
   * change, withheld, and said again (a new stretch). */
  assert_int_equal(chmod(dir, 0770), 0);
  set_mtime(path, T0 + 20, 0);
  memset(&logs, 0, sizeof(logs));
  assert_int_equal(rapl_config_watch_poll(&w, &out), 1);
  assert_false(out.msr_enabled);
  snprintf(why, sizeof(why),
           ": the directory %s is writable by its group (mode 0770)", dir);
  expect_one_warning(why);

  /* The directory fixed: the file did not change, but the next poll looks
   * again and applies the switch. */
  assert_int_equal(chmod(dir, 0700), 0);
  assert_int_equal(rapl_config_watch_poll(&w, &out), 1);
  assert_true(out.msr_enabled);
  assert_int_equal(count_level(RAPL_LOG_WARNING), 1);
  parses = (int)w.parses;
  assert_int_equal(rapl_config_watch_poll(&w, &out), 0);
  assert_int_equal(w.parses, parses);
}

/* Owned by someone else (here uid 65534): the same. */
static void test_file_of_another_user(void **state) {
  (void)state;
  struct rapl_config_watch w;
  struct rapl_config out;
  if (geteuid() != 0) {
    print_message("not root: chown to another user did not run\n");
    return;
  }
  start(&w, good_on);
  next_ctime_tick();
  assert_int_equal(chown(path, 65534, 65534), 0);
  assert_int_equal(rapl_config_watch_poll(&w, &out), 1);
  assert_false(out.msr_enabled);
  expect_one_warning(": the file is owned by uid 65534, not root");
  next_ctime_tick();
  assert_int_equal(chown(path, 0, 0), 0);
  assert_int_equal(rapl_config_watch_poll(&w, &out), 1);
  assert_true(out.msr_enabled);
}

/* At startup too: the configuration loads, with the other settings, and the
 * reason is logged at once (collectd -T shows it). */
static void test_untrusted_at_startup(void **state) {
  (void)state;
  struct rapl_config_watch w;
  struct rapl_config base;
  char err[2048] = "";
  base_config(&base);
  write_mode(path, "msr: {enabled: true, force: true}\nrapl: {zones: [dram]}\n",
             0666, T0);
  assert_int_equal(rapl_config_watch_init(&w, path, &base, err, sizeof(err)),
                   0);
  const struct rapl_config *cur = rapl_config_watch_current(&w);
  assert_false(cur->msr_enabled);
  assert_false(cur->msr_force);
  assert_int_equal(cur->zone_mask, RAPL_ZONE_MASK(RAPL_ZONE_DRAM));
  expect_one_warning(": the file is writable by everyone (mode 0666)");
  assert_non_null(strstr(logs.messages[0], " and msr.force: true (line 1, "));
  assert_int_equal(logs.errors, 0);
}

/* A message longer than collectd keeps (here: a long path) is cut visibly
 * by the log, not silently by collectd. */
static void test_long_message_is_cut_visibly(void **state) {
  (void)state;
  struct rapl_config_watch w;
  struct rapl_config base;
  struct rapl_config out;
  char deep[1024], file[1100], err[2048] = "";
  size_t n = (size_t)snprintf(deep, sizeof(deep), "%s", dir);
  for (int i = 0; i < 4; i++) {
    deep[n++] = '/';
    memset(deep + n, 'd', 230);
    n += 230;
    deep[n] = '\0';
    assert_int_equal(mkdir(deep, 0700), 0);
  }
  snprintf(file, sizeof(file), "%s/r.yaml", deep);
  base_config(&base);
  write_at(file, good_on, T0);
  assert_int_equal(rapl_config_watch_init(&w, file, &base, err, sizeof(err)),
                   0);
  memset(&logs, 0, sizeof(logs));
  write_at(file, bad_quoted, T0 + 10);
  assert_int_equal(rapl_config_watch_poll(&w, &out), 0);
  assert_int_equal(logs.errors, 1);
  const char *m = last_log();
  static const char cut[] = "... [message cut]";
  assert_true(strlen(m) <= 1000);
  assert_int_equal(strcmp(m + strlen(m) - strlen(cut), cut), 0);
  assert_int_equal(strncmp(m, file, 200), 0);

  unlink(file);
  for (int i = 0; i < 4; i++) {
    assert_int_equal(rmdir(deep), 0);
    *strrchr(deep, '/') = '\0';
  }
}

static void test_config_same(void **state) {
  (void)state;
  struct rapl_config a, b;
  rapl_config_defaults(&a);
  memset(&b, 0x77, sizeof(b)); /* different padding and tails */
  rapl_config_defaults(&b);
  assert_true(rapl_config_same(&a, &b));
  b.msr_min_interval = 1.5;
  assert_false(rapl_config_same(&a, &b));
  rapl_config_defaults(&b);
  strcpy(b.msr_device_path, "/dev/cpu/%d/msr2");
  assert_false(rapl_config_same(&a, &b));
}

int main(void) {
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof(dir), "%s/test_config_watch.XXXXXX",
           tmp && tmp[0] ? tmp : "/tmp");
  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  snprintf(path, sizeof(path), "%s/rapl_energy.yaml", dir);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_init_loads_on_top_of_base, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_init_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unchanged_file_is_not_parsed, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_edit_with_mtime_put_back_is_detected,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_good_edit_is_applied, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_removed_key_reverts_to_base, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(
          test_bad_edit_keeps_last_good_and_logs_once, setup, teardown),
      cmocka_unit_test_setup_teardown(test_missing_file_during_save, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_valid_again_without_change, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_rename_over_is_detected, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_not_a_regular_file, setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_untrusted_file_withholds_msr_switches, setup, teardown),
      cmocka_unit_test_setup_teardown(test_file_of_another_user, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_untrusted_at_startup, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_long_message_is_cut_visibly, setup,
                                      teardown),
      cmocka_unit_test(test_config_same),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  rmdir(dir);
  return failed;
}
