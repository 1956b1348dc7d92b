/* The read path's cost against the system-call floor and a naive reader, on
 * trees this program generates and on the FUSE simulator (t/sim/raplsim),
 * the only place the perf backend can be read without a RAPL PMU. Linked with
 * -Wl,--wrap for every libc entry point the reader library can reach a system
 * call or the heap through, so the counted figures (calls per counter per
 * cycle, allocations per cycle) are exact and independent of machine load; only
 * they can fail the run. Timings are printed, never judged: a loaded machine
 * must not fail it. */
#define _GNU_SOURCE
#include "backend.h"
#include "call_count.h"
#include "config_watch.h"
#include "perf.h"
#include "perf_shim.h"
#include "rapl_log.h"
#include "reader.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/magic.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* --mark brackets each counted window with two system calls the reader never
 * makes, so that strace can count every call in between, libc's own
 * included, which the wrappers cannot see (bench/run.sh does). */
static bool mark;

static void count_start(void) {
  if (mark)
    syscall(SYS_getppid);
  call_count_start();
}
static void count_stop(void) {
  call_counting = false;
  if (mark)
    syscall(SYS_getsid, 0);
}

/* ------------------------------------------------------------ helpers */

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what) {
  fprintf(stderr, "rapl_bench: %s: %s\n", what, strerror(errno));
  exit(2);
}

/* Like mkdir -p, from the deepest existing directory down: generating the
 * trees makes thousands of files, and a mkdir per component each is most of
 * the set-up time. */
static void mkdirs(const char *path) {
  if (mkdir(path, 0755) == 0 || errno == EEXIST)
    return;
  if (errno != ENOENT)
    die(path);
  char parent[RAPL_PATH_MAX];
  snprintf(parent, sizeof(parent), "%s", path);
  char *slash = strrchr(parent, '/');
  if (slash == NULL || slash == parent)
    die(path);
  *slash = '\0';
  mkdirs(parent);
  if (mkdir(path, 0755) != 0 && errno != EEXIST)
    die(path);
}

static void put(const char *path, const char *fmt, ...) {
  FILE *f = fopen(path, "w");
  if (f == NULL && errno == ENOENT) {
    char dir[RAPL_PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    *strrchr(dir, '/') = '\0';
    mkdirs(dir);
    f = fopen(path, "w");
  }
  if (f == NULL)
    die(path);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(f, fmt, ap);
  va_end(ap);
  if (fclose(f) != 0)
    die(path);
}

static void link_to(const char *target, const char *path) {
  if (symlink(target, path) != 0)
    die(path);
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Sorts v in place; returns the q-quantile (nearest rank). */
static int64_t quantile(int64_t *v, int n, double q) {
  qsort(v, (size_t)n, sizeof(*v), cmp_i64);
  int i = (int)(q * n);
  return v[i >= n ? n - 1 : i];
}

static void quiet(int level, const char *message, void *ud) {
  (void)level, (void)message, (void)ud;
}

/* ------------------------------------------------------------ trees */

/* What the floor reads: each counter's file and offset, as the backend
 * does, without the reader around it. */
struct floor_file {
  char path[RAPL_PATH_MAX];
  off_t offset;
  size_t len;
  bool use_read; /* a perf count: read(2), as perf descriptors refuse pread */
};

struct tree {
  char name[64];
  char root[256];
  int sockets;
  const char *backend; /* the one the reader must select */
  bool sim;            /* served by raplsim, mounted on mnt while measured */
  char mnt[320];
  pid_t sim_pid;
  int zone_ctrs; /* counters of the largest zone: a sample reads them all */
  struct floor_file *files;
  int n_files;
};

static bool is(const struct tree *t, const char *backend) {
  return strcmp(t->backend, backend) == 0;
}

static void add_file(struct tree *t, const char *path, off_t off, size_t len) {
  t->files = realloc(t->files, (size_t)(t->n_files + 1) * sizeof(*t->files));
  if (t->files == NULL)
    die("realloc");
  struct floor_file *f = &t->files[t->n_files++];
  snprintf(f->path, sizeof(f->path), "%s", path);
  f->offset = off;
  f->len = len;
  f->use_read = false;
}

#define RANGE "262143328850"

/* ZONE: "0" or "0:1" (hex parts), as the kernel names intel-rapl:<id>. */
static void pc_zone(struct tree *t, const char *id, const char *name,
                    unsigned long long uj) {
  char rel[256], d[RAPL_PATH_MAX], p[RAPL_PATH_MAX + 64];
  const char *colon = strchr(id, ':');
  if (colon)
    snprintf(rel, sizeof(rel), "intel-rapl:%.*s/intel-rapl:%s",
             (int)(colon - id), id, id);
  else
    snprintf(rel, sizeof(rel), "intel-rapl:%s", id);
  snprintf(d, sizeof(d), "%s/sys/devices/virtual/powercap/intel-rapl/%s",
           t->root, rel);
  mkdirs(d);
  snprintf(p, sizeof(p), "%s/name", d);
  put(p, "%s\n", name);
  snprintf(p, sizeof(p), "%s/max_energy_range_uj", d);
  put(p, RANGE "\n");
  snprintf(p, sizeof(p), "%s/enabled", d);
  put(p, "1\n");
  snprintf(p, sizeof(p), "%s/energy_uj", d);
  put(p, "%llu\n", uj);
  add_file(t, p, 0, 32);
  char target[512];
  snprintf(target, sizeof(target),
           "../../devices/virtual/powercap/intel-rapl/%s", rel);
  snprintf(p, sizeof(p), "%s/sys/class/powercap/intel-rapl:%s", t->root, id);
  link_to(target, p);
}

/* Powercap in the kernel's layout: per socket package, core and dram, plus
 * one psys; ids in hex, so 32 sockets run to intel-rapl:1f. */
static void make_powercap(struct tree *t) {
  char p[RAPL_PATH_MAX + 64];
  snprintf(p, sizeof(p), "%s/sys/devices/virtual/powercap/intel-rapl/enabled",
           t->root);
  put(p, "1\n");
  snprintf(p, sizeof(p), "%s/sys/class/powercap", t->root);
  mkdirs(p);
  snprintf(p, sizeof(p), "%s/sys/class/powercap/intel-rapl", t->root);
  link_to("../../devices/virtual/powercap/intel-rapl", p);
  snprintf(p, sizeof(p), "%s/sys/devices/system/cpu/modalias", t->root);
  put(p, "cpu:type:x86,ven0000fam0006mod0055:feature:,0000,0001\n");
  char id[32], name[32];
  for (int s = 0; s < t->sockets; s++) {
    snprintf(id, sizeof(id), "%x", s);
    snprintf(name, sizeof(name), "package-%d", s);
    pc_zone(t, id, name, 1000000ULL * (unsigned)(s + 1));
    snprintf(id, sizeof(id), "%x:0", s);
    pc_zone(t, id, "core", 400000ULL * (unsigned)(s + 1));
    snprintf(id, sizeof(id), "%x:1", s);
    pc_zone(t, id, "dram", 200000ULL * (unsigned)(s + 1));
  }
  snprintf(id, sizeof(id), "%x", t->sockets);
  pc_zone(t, id, "psys", 9000000);
}

static void topo_cpu(const char *root, int cpu, int pkg, int core) {
  char p[RAPL_PATH_MAX + 128];
  snprintf(p, sizeof(p),
           "%s/sys/devices/system/cpu/cpu%d/topology/"
           "physical_package_id",
           root, cpu);
  put(p, "%d\n", pkg);
  snprintf(p, sizeof(p), "%s/sys/devices/system/cpu/cpu%d/topology/die_id",
           root, cpu);
  put(p, "0\n");
  snprintf(p, sizeof(p), "%s/sys/devices/system/cpu/cpu%d/topology/core_id",
           root, cpu);
  put(p, "%d\n", core);
}

static void msr_dev(const char *root, int cpu, off_t off, const void *data,
                    size_t len, char *path, size_t pathlen) {
  char d[320];
  snprintf(d, sizeof(d), "%s/dev/cpu/%d", root, cpu);
  mkdirs(d);
  snprintf(path, pathlen, "%s/msr", d);
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (fd < 0)
    die(path);
  /* O_APPEND would ignore the offset: reopen for positioned writes. */
  close(fd);
  fd = open(path, O_WRONLY);
  if (fd < 0 || pwrite(fd, data, len, off) != (ssize_t)len)
    die(path);
  close(fd);
}

/* Intel MSR devices as sparse files (a value at offset = register): two
 * CPUs per socket, every RAPL register present so that no zone is skipped
 * and rescanned. */
static void make_msr_intel(struct tree *t) {
  int ncpu = 2 * t->sockets;
  char p[RAPL_PATH_MAX + 64], dev[RAPL_PATH_MAX + 64];
  snprintf(p, sizeof(p), "%s/sys/devices/system/cpu/online", t->root);
  put(p, "0-%d\n", ncpu - 1);
  snprintf(p, sizeof(p), "%s/proc/cpuinfo", t->root);
  put(p, "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n"
         "model\t\t: 85\n\n");
  static const uint64_t regs[] = {0x606, 0x611, 0x619, 0x639, 0x641, 0x64D};
  for (int cpu = 0; cpu < ncpu; cpu++) {
    topo_cpu(t->root, cpu, cpu / 2, cpu % 2);
    for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
      uint64_t v = i == 0 ? UINT64_C(0x000A0E03) : 0x1000 + (uint64_t)cpu;
      msr_dev(t->root, cpu, (off_t)regs[i], &v, 8, dev, sizeof(dev));
    }
    /* The backend reads the first CPU of each socket. */
    if (cpu % 2 == 0)
      for (size_t i = 1; i < sizeof(regs) / sizeof(regs[0]); i++)
        add_file(t, dev, (off_t)regs[i], 8);
  }
}

/* AMD: 2 sockets x 64 cores, one thread each; the core zone of a socket
 * sums 64 per-core counters. Its registers are consecutive, so in a sparse
 * file they overlap: the values are nonsense but constant, and a read costs
 * what it costs. */
static void make_msr_amd(struct tree *t) {
  int ncpu = 64 * t->sockets;
  char p[RAPL_PATH_MAX + 64], dev[RAPL_PATH_MAX + 64];
  snprintf(p, sizeof(p), "%s/sys/devices/system/cpu/online", t->root);
  put(p, "0-%d\n", ncpu - 1);
  snprintf(p, sizeof(p), "%s/proc/cpuinfo", t->root);
  put(p, "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\n"
         "model\t\t: 1\n\n");
  for (int cpu = 0; cpu < ncpu; cpu++) {
    topo_cpu(t->root, cpu, cpu / 64, cpu % 64);
    uint8_t bytes[16] = {0x03, 0x10, 0x0A, 0};
    msr_dev(t->root, cpu, 0xC0010299, bytes, sizeof(bytes), dev, sizeof(dev));
    add_file(t, dev, 0xC001029A, 8);
    if (cpu % 64 == 0)
      add_file(t, dev, 0xC001029B, 8);
  }
  t->zone_ctrs = 64;
}

/* ------------------------------------------------------------ simulator */

/* The perf backend needs perf_event_open, which no tree of files can
 * answer: its trees are raplsim mounts, and the backend's seam maps each
 * event onto the simulator's count file, as the tests do. The seam's own
 * calls count as opens, so that a read path that reopened would show. */
static const char *perf_root;

static int bench_perf_open(struct perf_event_attr *attr, pid_t pid, int cpu,
                           int group_fd, unsigned long flags) {
  calls.sys += call_counting;
  calls.open += call_counting;
  return sim_perf_event_open(perf_root, attr, pid, cpu, group_fd, flags);
}

static char raplsim[RAPL_PATH_MAX];

/* Why the simulator trees cannot run here, or NULL. */
static const char *sim_unavailable(const char *argv0) {
  const char *top = getenv("abs_top_builddir");
  if (top != NULL && *top)
    snprintf(raplsim, sizeof(raplsim), "%s/t/sim/raplsim", top);
  else {
    const char *slash = strrchr(argv0, '/');
    snprintf(raplsim, sizeof(raplsim), "%.*s/../t/sim/raplsim",
             slash ? (int)(slash - argv0) : 1, slash ? argv0 : ".");
  }
  if (geteuid() != 0)
    return "needs root to mount FUSE";
  if (access("/dev/fuse", R_OK | W_OK) != 0)
    return "/dev/fuse is missing";
  if (access(raplsim, X_OK) != 0)
    return "t/sim/raplsim is not built (make check builds it)";
  return NULL;
}

/* Two CPUs per socket; package, core and dram per socket and one psys,
 * which all three backends read: 3 x sockets + 1 zones. The virtual clock
 * stands still, so a cycle costs what a read costs and nothing else. */
static void sim_spec(const struct tree *t, const char *path) {
  FILE *f = fopen(path, "w");
  if (f == NULL)
    die(path);
  if (!is(t, "powercap"))
    fprintf(f, "powercap off\n");
  if (is(t, "perf"))
    fprintf(f, "perf\n");
  fprintf(f, "vendor intel\nfamily 6\nmodel 85\nesu 14\nclock virtual\n");
  for (int s = 0; s < t->sockets; s++)
    fprintf(f,
            "cpu %d package %d die 0 core 0\ncpu %d package %d die 0 core 1\n",
            2 * s, s, 2 * s + 1, s);
  for (int s = 0; s < t->sockets; s++)
    fprintf(f,
            "zone package package %d watts 40\nzone core package %d watts "
            "20\nzone dram package %d watts 8\n",
            s, s, s);
  fprintf(f, "zone psys watts 120\n");
  if (fclose(f) != 0)
    die(path);
}

static void sim_ctl(const struct tree *t, const char *cmd) {
  char path[sizeof(t->mnt) + 8];
  snprintf(path, sizeof(path), "%s/ctl", t->mnt);
  int fd = open(path, O_WRONLY);
  if (fd < 0 || write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd))
    die(path);
  close(fd);
}

static void sim_down(struct tree *t) {
  if (t->sim_pid <= 0)
    return;
  char cmd[sizeof(t->mnt) + 64];
  int status;
  snprintf(cmd, sizeof(cmd), "fusermount3 -u '%s' 2>/dev/null", t->mnt);
  if (system(cmd) != 0)
    kill(t->sim_pid, SIGTERM);
  waitpid(t->sim_pid, &status, 0);
  t->sim_pid = 0;
}

/* Mounts the tree's simulator and lists what the floor reads: the files
 * behind each zone's counter. */
static void sim_up(struct tree *t) {
  char spec[sizeof(t->root) + 16], log[sizeof(t->root) + 16];
  snprintf(spec, sizeof(spec), "%s/spec", t->root);
  snprintf(log, sizeof(log), "%s/raplsim.log", t->root);
  snprintf(t->mnt, sizeof(t->mnt), "%s/mnt", t->root);
  sim_spec(t, spec);
  mkdirs(t->mnt);
  fflush(stdout);
  t->sim_pid = fork();
  if (t->sim_pid < 0)
    die("fork");
  if (t->sim_pid == 0) {
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      close(fd);
    }
    execl(raplsim, "raplsim", "-f", spec, t->mnt, (char *)NULL);
    _exit(127);
  }
  char probe[sizeof(t->mnt) + 16];
  snprintf(probe, sizeof(probe), "%s/clock", t->mnt);
  for (int i = 0;; i++) {
    int status;
    if (access(probe, R_OK) == 0)
      break;
    if (i == 200 || waitpid(t->sim_pid, &status, WNOHANG) == t->sim_pid) {
      sim_down(t);
      fprintf(stderr, "rapl_bench: %s did not mount %s (see %s)\n", raplsim,
              t->mnt, log);
      exit(2);
    }
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  /* A while up: the MSR backend takes a register that reads 0 for one the
   * CPU lacks. */
  sim_ctl(t, "advance 1\n");

  char p[RAPL_PATH_MAX + 64];
  if (is(t, "powercap")) {
    char class_dir[sizeof(t->mnt) + 32];
    snprintf(class_dir, sizeof(class_dir), "%s/sys/class/powercap", t->mnt);
    DIR *d = opendir(class_dir);
    if (d == NULL)
      die(class_dir);
    for (struct dirent *e; (e = readdir(d)) != NULL;)
      if (strncmp(e->d_name, "intel-rapl:", 11) == 0) {
        snprintf(p, sizeof(p), "%s/%s/energy_uj", class_dir, e->d_name);
        add_file(t, p, 0, 32);
      }
    closedir(d);
  } else {
    /* The registers and events of package, core and dram on each socket's
     * first CPU, and psys on CPU 0, as the backends choose them. */
    static const struct {
      uint32_t reg;
      const char *event;
    } ctr[] = {{0x611, "energy-pkg"},
               {0x639, "energy-cores"},
               {0x619, "energy-ram"},
               {0x64D, "energy-psys"}};
    for (int s = 0; s < t->sockets; s++)
      for (int k = 0; k < 4; k++) {
        if (k == 3 && s != 0)
          continue;
        if (is(t, "msr")) {
          snprintf(p, sizeof(p), "%s/dev/cpu/%d/msr", t->mnt, 2 * s);
          add_file(t, p, ctr[k].reg, 8);
        } else {
          snprintf(p, sizeof(p), "%s/perf/cpu%d/%s", t->mnt, 2 * s,
                   ctr[k].event);
          add_file(t, p, 0, 8);
          t->files[t->n_files - 1].use_read = true;
        }
      }
  }
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

/* ------------------------------------------------------------ measuring */

static int64_t fake_ns;
static int64_t fake_clock(void *ud) {
  (void)ud;
  return fake_ns;
}

static int n_samples;
static void on_sample(const struct rapl_sample *s, void *ud) {
  (void)s, (void)ud;
  n_samples++;
}

struct result {
  int zones, counters;
  double startup_us;
  int64_t med_ns, p99_ns; /* per cycle */
  double sys_per_counter, allocs_per_cycle;
  double reads_per_counter, preads_per_counter, opens_per_cycle;
  double others_per_cycle; /* neither read, pread nor open */
  int64_t floor_ns;        /* median per cycle */
  int64_t naive_ns;        /* median per cycle; 0 when not measured */
  double naive_sys_per_zone;
};

static int cycles = 2000;
static bool counted_only;

static void config_for(const struct tree *t, struct rapl_config *cfg) {
  const char *root = t->sim ? t->mnt : t->root;
  rapl_config_defaults(cfg);
  snprintf(cfg->sysfs_path, sizeof(cfg->sysfs_path), "%s/sys", root);
  snprintf(cfg->procfs_path, sizeof(cfg->procfs_path), "%s/proc", root);
  perf_root = t->sim ? t->mnt : NULL;
  if (is(t, "msr")) {
    cfg->msr_enabled = true;
    cfg->msr_force = true;
    cfg->msr_min_interval = 0;
    snprintf(cfg->msr_device_path, sizeof(cfg->msr_device_path),
             "%s/dev/cpu/%%d/msr", root);
  }
}

/* Files open and closed per sample, as exporters commonly do: list the
 * zones, then name, max_energy_range_uj and energy_uj of each. */
static int naive_cycle(const char *class_dir) {
  DIR *d = opendir(class_dir);
  if (d == NULL)
    return -1;
  int n = 0;
  struct dirent *e;
  static const char *const files[] = {"name", "max_energy_range_uj",
                                      "energy_uj"};
  while ((e = readdir(d)) != NULL) {
    if (strncmp(e->d_name, "intel-rapl:", 11) != 0)
      continue;
    for (int i = 0; i < 3; i++) {
      char p[RAPL_PATH_MAX + 512], buf[64];
      snprintf(p, sizeof(p), "%s/%s/%s", class_dir, e->d_name, files[i]);
      int fd = open(p, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        continue;
      ssize_t r = read(fd, buf, sizeof(buf) - 1);
      close(fd);
      if (r > 0) {
        buf[r] = '\0';
        if (i == 2)
          n += strtoull(buf, NULL, 10) != ~0ULL;
      }
    }
  }
  closedir(d);
  return n;
}

static int measure(struct tree *t, struct result *res) {
  struct rapl_config cfg;
  config_for(t, &cfg);
  memset(res, 0, sizeof(*res));
  fake_ns = 1000000000;

  int64_t t0 = now_ns();
  struct rapl_reader *r = rapl_reader_create(&cfg);
  rapl_reader_set_clock(r, fake_clock, NULL);
  int zones = rapl_reader_read(r, on_sample, NULL);
  res->startup_us = (double)(now_ns() - t0) / 1e3;
  const struct rapl_backend *b = rapl_reader_backend(r);
  if (zones <= 0 || b == NULL || strcmp(b->name, t->backend) != 0) {
    fprintf(stderr, "rapl_bench: %s: the reader found %d zones through %s\n",
            t->name, zones, b ? b->name : "no backend");
    rapl_reader_destroy(r);
    return -1;
  }
  res->zones = zones;
  res->counters = t->n_files;

  /* Counted: a few cycles are exact; more add nothing. */
  int counted = 16;
  long sys = 0, alloc = 0, reads = 0, preads = 0, opens = 0;
  for (int i = 0; i < counted; i++) {
    fake_ns += 10000000000;
    n_samples = 0;
    count_start();
    int n = rapl_reader_read(r, on_sample, NULL);
    count_stop();
    if (n != zones) {
      fprintf(stderr, "rapl_bench: %s: a read gave %d of %d zones\n", t->name,
              n, zones);
      rapl_reader_destroy(r);
      return -1;
    }
    sys += calls.sys;
    alloc += calls.alloc;
    reads += calls.read;
    preads += calls.pread;
    opens += calls.open;
  }
  res->sys_per_counter = (double)sys / counted / t->n_files;
  res->allocs_per_cycle = (double)alloc / counted;
  res->reads_per_counter = (double)reads / counted / t->n_files;
  res->preads_per_counter = (double)preads / counted / t->n_files;
  res->opens_per_cycle = (double)opens / counted;
  res->others_per_cycle = (double)(sys - reads - preads - opens) / counted;
  if (counted_only) {
    rapl_reader_destroy(r);
    return 0;
  }

  /* The floor: the same preads on descriptors held open, nothing else.
   * Its cycles alternate with the reader's, so that both see the same
   * machine: a ratio of two stretches of a busy VM would measure the VM. */
  int *fds = malloc((size_t)t->n_files * sizeof(*fds));
  int64_t *v = malloc((size_t)cycles * sizeof(*v));
  int64_t *fl = malloc((size_t)cycles * sizeof(*fl));
  if (fds == NULL || v == NULL || fl == NULL)
    die("malloc");
  for (int k = 0; k < t->n_files; k++)
    if ((fds[k] = open(t->files[k].path, O_RDONLY | O_CLOEXEC)) < 0)
      die(t->files[k].path);
  char buf[32];
  for (int i = 0; i < cycles; i++) {
    fake_ns += 10000000000;
    int64_t a = now_ns();
    rapl_reader_read(r, on_sample, NULL);
    int64_t m = now_ns();
    for (int k = 0; k < t->n_files; k++)
      if ((t->files[k].use_read
               ? read(fds[k], buf, t->files[k].len)
               : pread(fds[k], buf, t->files[k].len, t->files[k].offset)) < 0)
        die(t->files[k].use_read ? "read" : "pread");
    int64_t e = now_ns();
    v[i] = m - a;
    fl[i] = e - m;
  }
  res->p99_ns = quantile(v, cycles, 0.99);
  res->med_ns = quantile(v, cycles, 0.5);
  res->floor_ns = quantile(fl, cycles, 0.5);
  rapl_reader_destroy(r);
  for (int k = 0; k < t->n_files; k++)
    close(fds[k]);
  free(fds);
  free(fl);

  if (!t->sim && is(t, "powercap")) {
    char class_dir[RAPL_PATH_MAX + 32];
    snprintf(class_dir, sizeof(class_dir), "%s/sys/class/powercap", t->root);
    count_start();
    naive_cycle(class_dir);
    count_stop();
    res->naive_sys_per_zone = (double)calls.sys / zones;
    int nc = cycles / 10 > 50 ? cycles / 10 : 50;
    for (int i = 0; i < nc; i++) {
      int64_t a = now_ns();
      naive_cycle(class_dir);
      v[i] = now_ns() - a;
    }
    res->naive_ns = quantile(v, nc, 0.5);
  }
  free(v);
  return 0;
}

/* The per-read configuration-file check: one stat of an unchanged file. */
static int measure_config_check(const char *dir, double *ns, double *sys,
                                double *allocs) {
  char path[RAPL_PATH_MAX + 32];
  snprintf(path, sizeof(path), "%s/rapl_energy.yaml", dir);
  put(path, "report_power: true\n");
  struct rapl_config base, out;
  rapl_config_defaults(&base);
  static struct rapl_config_watch w;
  char err[RAPL_CONFIG_WATCH_ERRLEN];
  if (rapl_config_watch_init(&w, path, &base, err, sizeof(err)) != 0) {
    fprintf(stderr, "rapl_bench: config watch: %s\n", err);
    return -1;
  }
  long sys_calls = 0, alloc = 0;
  for (int i = 0; i < 16; i++) {
    count_start();
    rapl_config_watch_poll(&w, &out);
    count_stop();
    sys_calls += calls.sys;
    alloc += calls.alloc;
  }
  *sys = sys_calls / 16.0;
  *allocs = alloc / 16.0;
  *ns = 0;
  if (counted_only)
    return 0;
  int64_t *v = malloc((size_t)cycles * sizeof(*v));
  if (v == NULL)
    die("malloc");
  for (int i = 0; i < cycles; i++) {
    int64_t a = now_ns();
    rapl_config_watch_poll(&w, &out);
    v[i] = now_ns() - a;
  }
  *ns = (double)quantile(v, cycles, 0.5);
  free(v);
  return 0;
}

static void print_machine(void) {
  char model[256] = "unknown CPU", line[512];
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (f != NULL) {
    while (fgets(line, sizeof(line), f))
      if (strncmp(line, "model name", 10) == 0) {
        char *c = strchr(line, ':');
        if (c) {
          snprintf(model, sizeof(model), "%s", c + 2);
          model[strcspn(model, "\n")] = '\0';
        }
        break;
      }
    fclose(f);
  }
  struct utsname u;
  uname(&u);
  printf("machine: %s, %ld online CPUs, %s %s %s\n", model,
         sysconf(_SC_NPROCESSORS_ONLN), u.sysname, u.release, u.machine);
}

/* ------------------------------------------------------------ perf groups */

/* --perf-group: what a group leader with PERF_FORMAT_GROUP would save the
 * perf backend, measured where no RAPL PMU is: N software cpu-clock events
 * on CPU 0, read as N descriptors one read(2) each, and as one group in a
 * single read(2). What differs is the kernel's per-read path (system call,
 * perf_read's locking and copy-out, and the cross-CPU call to the event's
 * CPU when the reader is elsewhere), which is the same for any PMU; the
 * pmu->read of each event runs either way. Timed only, never judged. */
#define GROUP_N 4

static int open_sw(bool grouped, pid_t pid, int cpu, int *fds) {
  for (int k = 0; k < GROUP_N; k++) {
    struct perf_event_attr a;
    memset(&a, 0, sizeof(a));
    a.type = PERF_TYPE_SOFTWARE;
    a.size = sizeof(a);
    a.config = PERF_COUNT_SW_CPU_CLOCK;
    if (grouped && k == 0)
      a.read_format = PERF_FORMAT_GROUP;
    /* A task's own events without privilege: user time only. */
    a.exclude_kernel = a.exclude_hv = pid != -1;
    fds[k] = (int)syscall(SYS_perf_event_open, &a, pid, cpu,
                          grouped && k > 0 ? fds[0] : -1, PERF_FLAG_FD_CLOEXEC);
    if (fds[k] < 0) {
      int err = errno;
      while (k-- > 0)
        close(fds[k]);
      errno = err;
      return -1;
    }
  }
  return 0;
}

static void print_load(const char *when) {
  char text[128] = "?";
  FILE *f = fopen("/proc/loadavg", "r");
  if (f != NULL) {
    if (fgets(text, sizeof(text), f) == NULL)
      snprintf(text, sizeof(text), "?");
    fclose(f);
  }
  text[strcspn(text, "\n")] = '\0';
  printf("load average %s: %s\n", when, text);
}

static int perf_group_bench(void) {
  char text[32] = "?";
  FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
  if (f != NULL) {
    if (fgets(text, sizeof(text), f) == NULL)
      snprintf(text, sizeof(text), "?");
    fclose(f);
  }
  text[strcspn(text, "\n")] = '\0';
  printf("\nperf group read: %d cpu-clock software events, read one by one "
         "(%d descriptors, a read(2) each) or as one group (a leader with "
         "PERF_FORMAT_GROUP and %d siblings, one read(2)); "
         "perf_event_paranoid %s, euid %d\n",
         GROUP_N, GROUP_N, GROUP_N - 1, text, (int)geteuid());
  int sep[GROUP_N], grp[GROUP_N];
  pid_t pid = -1;
  int cpu = 0;
  bool system_wide = true;
  for (;;) {
    if (open_sw(false, pid, cpu, sep) == 0) {
      if (open_sw(true, pid, cpu, grp) == 0)
        break;
      for (int k = 0; k < GROUP_N; k++)
        close(sep[k]);
    }
    if (!system_wide) {
      printf("perf group read: skipped (perf_event_open: %s)\n",
             strerror(errno));
      return 0;
    }
    printf("system-wide events on CPU 0 refused (%s): per-task events of "
           "this process instead, always read locally\n",
           strerror(errno));
    system_wide = false;
    pid = 0;
    cpu = -1;
  }
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  const int n = 20000;
  int64_t *a = malloc(n * sizeof(*a)), *b = malloc(n * sizeof(*b)),
          *c = malloc(n * sizeof(*c));
  if (a == NULL || b == NULL || c == NULL)
    die("malloc");
  print_load("before");
  printf("%-34s %9s %9s %9s %9s %7s\n", "reader on", "one_read", "separate",
         "group", "saved", "group/");
  /* On the events' CPU a read is served there; elsewhere each read of an
   * active system-wide event is a cross-CPU call, unless the PMU lets any
   * CPU of the package read it (RAPL does: PERF_EV_CAP_READ_ACTIVE_PKG, or
   * the package scope of Linux 6.11 and later). */
  for (int where = 0; where < (system_wide && ncpu > 1 ? 2 : 1); where++) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(where, &set);
    bool pinned = sched_setaffinity(0, sizeof(set), &set) == 0;
    uint64_t v[1 + GROUP_N];
    for (int i = -1000; i < n; i++) {
      int64_t t0 = now_ns();
      for (int k = 0; k < GROUP_N; k++)
        if (read(sep[k], v, sizeof(uint64_t)) != sizeof(uint64_t))
          die("read");
      int64_t t1 = now_ns();
      if (read(grp[0], v, sizeof(v)) != (ssize_t)sizeof(v) || v[0] != GROUP_N)
        die("group read");
      int64_t t2 = now_ns();
      if (read(sep[0], v, sizeof(uint64_t)) != sizeof(uint64_t))
        die("read");
      int64_t t3 = now_ns();
      if (i >= 0) {
        a[i] = t1 - t0;
        b[i] = t2 - t1;
        c[i] = t3 - t2;
      }
    }
    int64_t one = quantile(c, n, 0.5), s = quantile(a, n, 0.5),
            g = quantile(b, n, 0.5);
    char label[64];
    snprintf(label, sizeof(label), "%s%s",
             !system_wide ? "any CPU (per-task events)"
             : where == 0 ? "CPU 0 (local read)"
                          : "CPU 1 (cross-CPU call per read)",
             pinned ? "" : " (not pinned)");
    printf("%-34s %9lld %9lld %9lld %9lld %6.2fx\n", label, (long long)one,
           (long long)s, (long long)g, (long long)(s - g),
           (double)s / (double)g);
  }
  print_load("after");
  printf("columns: median ns per cycle over %d alternating cycles: one_read "
         "a single event's read(2); separate %d reads; group one read of "
         "%d; saved separate minus group\n",
         n, GROUP_N, GROUP_N);
  for (int k = 0; k < GROUP_N; k++) {
    close(sep[k]);
    close(grp[k]);
  }
  free(a);
  free(b);
  free(c);
  return 0;
}

static void usage(void) {
  fprintf(stderr, "usage: rapl_bench [--counted] [--mark] [--cycles N] "
                  "[--perf-group]\n"
                  "  --counted   only the counted figures (calls and "
                  "allocations), no timing: what make check runs\n"
                  "  --mark      bracket each counted cycle with getppid and "
                  "getsid, for strace\n"
                  "  --cycles N  timed read cycles per tree (default 2000)\n"
                  "  --perf-group  only time perf reads one by one against "
                  "a group read, on software events\n");
  exit(2);
}

int main(int argc, char **argv) {
  bool perf_group = false;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--counted"))
      counted_only = true;
    else if (!strcmp(argv[i], "--mark"))
      mark = true;
    else if (!strcmp(argv[i], "--cycles") && i + 1 < argc)
      cycles = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--perf-group"))
      perf_group = true;
    else
      usage();
  }
  if (cycles < 100)
    usage();
  if (perf_group)
    return perf_group_bench();
  rapl_log_set_sink(quiet, NULL);
  rapl_perf_set_open(bench_perf_open);

  /* sysfs lives in memory: tmpfs is the closer stand-in, and it makes the
   * thousands of files of the trees in a fraction of the time a disk
   * file system takes. RAPL_BENCH_DIR, then /dev/shm, then TMPDIR. */
  const char *dir = getenv("RAPL_BENCH_DIR");
  if (dir == NULL || *dir == '\0')
    dir = access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
  char base[200];
  snprintf(base, sizeof(base), "%s/rapl_bench-XXXXXX",
           dir && *dir ? dir : "/tmp");
  if (mkdtemp(base) == NULL)
    die(base);

  /* The MSR backend checks CAP_SYS_RAWIO itself; without it (make check as
   * a user) the MSR trees are skipped, said so, and not failed. */
  bool msr_ok = geteuid() == 0;
  const char *no_sim = sim_unavailable(argv[0]);
  struct tree trees[24];
  int nt = 0;
  static const int sockets[] = {1, 2, 8, 32};
  for (int i = 0; i < 4; i++) {
    struct tree *t = &trees[nt++];
    memset(t, 0, sizeof(*t));
    t->sockets = sockets[i];
    t->backend = "powercap";
    snprintf(t->name, sizeof(t->name), "powercap %2d socket%s", sockets[i],
             sockets[i] > 1 ? "s" : "");
  }
  for (int i = 0; msr_ok && i < 4; i++) {
    struct tree *t = &trees[nt++];
    memset(t, 0, sizeof(*t));
    t->sockets = sockets[i];
    t->backend = "msr";
    snprintf(t->name, sizeof(t->name), "msr intel %2d socket%s", sockets[i],
             sockets[i] > 1 ? "s" : "");
  }
  if (msr_ok) {
    struct tree *t = &trees[nt++];
    memset(t, 0, sizeof(*t));
    t->sockets = 2;
    t->backend = "msr";
    snprintf(t->name, sizeof(t->name), "msr amd 2x64 cores");
  }
  /* The three backends on the simulator's same machine: perf is read
   * nowhere else, and FUSE's cost is in every figure of these rows. */
  static const char *const sim_backends[] = {"powercap", "msr", "perf"};
  for (int i = 0; no_sim == NULL && i < 2; i++)
    for (int k = 0; k < 3; k++) {
      struct tree *t = &trees[nt++];
      memset(t, 0, sizeof(*t));
      t->sockets = i == 0 ? 2 : 32;
      t->backend = sim_backends[k];
      t->sim = true;
      snprintf(t->name, sizeof(t->name), "sim %s %2d sockets", t->backend,
               t->sockets);
    }
  for (int i = 0; i < nt; i++) {
    struct tree *t = &trees[i];
    snprintf(t->root, sizeof(t->root), "%s/t%d", base, i);
    mkdirs(t->root);
    if (t->sim)
      continue; /* mounted when measured */
    if (is(t, "powercap"))
      make_powercap(t);
    else if (strstr(t->name, "amd"))
      make_msr_amd(t);
    else
      make_msr_intel(t);
  }

  print_machine();
  struct statfs sfs;
  printf("trees in %s (%s)\n", base,
         statfs(base, &sfs) == 0 && sfs.f_type == TMPFS_MAGIC ? "tmpfs"
                                                              : "not tmpfs");
  if (!msr_ok)
    printf("msr: skipped (needs root for CAP_SYS_RAWIO)\n");
  if (no_sim != NULL)
    printf("sim: the simulator's trees (the only ones the perf backend "
           "reads) skipped: %s\n",
           no_sim);
  printf("%s; per read cycle, one sample of every zone\n",
         counted_only ? "counted figures only"
                      : "times in ns: median and p99 per cycle, /zone");
  printf("%-24s %5s %5s %8s %8s %6s %6s %5s %5s %4s %5s %5s %9s %9s %6s %8s "
         "%6s\n",
         "tree", "zones", "ctrs", "start_us", "med/zone", "p99/zn", "sys/ct",
         "read", "pread", "open", "other", "alloc", "floor/ct", "ours/ct",
         "/floor", "naive/zn", "naive/");

  int failed = 0;
  double msr_worst = 0;
  for (int i = 0; i < nt; i++) {
    struct result res;
    struct tree *t = &trees[i];
    if (t->sim)
      sim_up(t);
    int rc = measure(t, &res);
    sim_down(t);
    if (rc != 0) {
      failed = 1;
      continue;
    }
    /* Exactly one call per counter, the backend's own (read for perf,
     * whose descriptors refuse pread; pread for the others), no open and no
     * allocation: the read path's contract in backend.h, and what makes it
     * cost the floor. Nothing else either, but for perf one call per cycle:
     * a fallback looks for the backend ahead of it once a read (at most
     * once a second), and powercap's probe is one stat. */
    bool perf = is(t, "perf");
    bool miss = res.allocs_per_cycle != 0.0 || res.opens_per_cycle != 0.0 ||
                res.others_per_cycle != (perf ? 1.0 : 0.0) ||
                res.reads_per_counter != (perf ? 1.0 : 0.0) ||
                res.preads_per_counter != (perf ? 0.0 : 1.0);
    const char *why = !miss  ? ""
                      : perf ? "  MISS (target: read 1, pread 0, open 0, "
                               "other 1, alloc 0)"
                             : "  MISS (target: read 0, pread 1, open 0, "
                               "other 0, alloc 0)";
    failed |= miss;
    if (counted_only) {
      printf(
          "%-24s %5d %5d %8s %8s %6s %6.2f %5.2f %5.2f %4.0f %5.0f %5.2f%s\n",
          t->name, res.zones, res.counters, "-", "-", "-", res.sys_per_counter,
          res.reads_per_counter, res.preads_per_counter, res.opens_per_cycle,
          res.others_per_cycle, res.allocs_per_cycle, why);
      continue;
    }
    double ours_ct = (double)res.med_ns / res.counters;
    double floor_ct = (double)res.floor_ns / res.counters;
    char naive[32] = "-", ratio[32] = "-";
    if (res.naive_ns > 0) {
      snprintf(naive, sizeof(naive), "%.0f", (double)res.naive_ns / res.zones);
      snprintf(ratio, sizeof(ratio), "%.1fx",
               (double)res.naive_ns / (double)res.med_ns);
    }
    double over = (double)res.med_ns / (double)res.floor_ns;
    printf(
        "%-24s %5d %5d %8.0f %8.0f %6.0f %6.2f %5.2f %5.2f %4.0f %5.0f %5.2f "
        "%9.0f %9.0f %5.2f%s %8s %6s%s\n",
        t->name, res.zones, res.counters, res.startup_us,
        (double)res.med_ns / res.zones, (double)res.p99_ns / res.zones,
        res.sys_per_counter, res.reads_per_counter, res.preads_per_counter,
        res.opens_per_cycle, res.others_per_cycle, res.allocs_per_cycle,
        floor_ct, ours_ct, over, over > 1.2 ? "!" : " ", naive, ratio, why);
    if (is(t, "msr") && !t->sim) {
      int zc = trees[i].zone_ctrs > 0 ? trees[i].zone_ctrs : 1;
      double per_zone = ours_ct * zc;
      if (per_zone > msr_worst)
        msr_worst = per_zone;
    }
    if (res.naive_ns > 0)
      printf("%-24s naive reader: %.1f calls per zone per cycle\n", "",
             res.naive_sys_per_zone);
  }

  double cc_ns, cc_sys, cc_alloc;
  if (measure_config_check(base, &cc_ns, &cc_sys, &cc_alloc) != 0)
    failed = 1;
  else {
    bool miss = cc_sys != 1.0 || cc_alloc != 0.0;
    failed |= miss;
    printf("config-file check per read: %.0f calls (stat), %.0f allocations",
           cc_sys, cc_alloc);
    if (!counted_only)
      printf(", %.0f ns median", cc_ns);
    printf("%s\n", miss ? "  MISS (target 1 and 0)" : "");
  }
  if (!counted_only) {
    if (msr_worst > 0)
      printf("msr: slowest sample (the largest zone's counters at the "
             "median cost per counter) %.2f us (target 100 us)%s\n",
             msr_worst / 1e3, msr_worst > 100000 ? "  SLOW (not failed)" : "");
    printf("columns: start_us discovery (create and first read); med/zone "
           "p99/zn a cycle's median and p99 over its zones; sys/ct calls per "
           "counter per cycle, of them read and pread; open and other (calls "
           "neither read, pread nor open) per cycle; alloc allocations per "
           "cycle; floor/ct a bare pread (perf: read) "
           "per counter; ours/ct the reader per counter; naive/zn and naive/ "
           "the naive reader per zone and against ours; sim rows are served "
           "by the FUSE simulator\n");
    printf("targets: pread = 1 (perf: read = 1), open = 0, other = 0 (perf: "
           "1, the stat of powercap's probe) and alloc = 0 (fail the run); "
           "ours/floor <= 1.2 (marked !, never fails)\n");
  }

  nftw(base, rm_entry, 32, FTW_DEPTH | FTW_PHYS);
  for (int i = 0; i < nt; i++)
    free(trees[i].files);
  if (failed)
    printf("FAILED: a counted figure missed its target\n");
  return failed;
}
