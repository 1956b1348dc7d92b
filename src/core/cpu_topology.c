#include "cpu_topology.h"

#include "cpulist.h"
#include "rapl_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads a small text file into buf; returns bytes read or -errno. */
static int read_small(const char *path, char *buf, size_t len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  size_t got = 0;
  while (got + 1 < len) {
    ssize_t r = read(fd, buf + got, len - 1 - got);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      int e = errno;
      close(fd);
      return -e;
    }
    if (r == 0)
      break;
    got += (size_t)r;
  }
  close(fd);
  buf[got] = '\0';
  return (int)got;
}

int rapl_topology_read_online(const char *sysfs, int **cpus, size_t *n,
                              char *err, size_t errlen) {
  char path[RAPL_PATH_MAX + 64];
  char text[8192];
  char why[128];

  *cpus = NULL;
  *n = 0;
  snprintf(path, sizeof(path), "%s/devices/system/cpu/online", sysfs);
  int r = read_small(path, text, sizeof(text));
  if (r < 0) {
    snprintf(err, errlen, "cannot read %s: %s", path, strerror(-r));
    return -1;
  }
  if ((size_t)r + 1 >= sizeof(text)) {
    snprintf(err, errlen, "%s: CPU list too long", path);
    return -1;
  }
  int *list = malloc(RAPL_CPU_LIMIT * sizeof(*list));
  if (list == NULL) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  size_t count;
  if (rapl_cpulist_parse(text, list, RAPL_CPU_LIMIT, &count, why, sizeof(why)) <
      0) {
    snprintf(err, errlen, "%s: %s", path, why);
    free(list);
    return -1;
  }
  if (count == 0) {
    snprintf(err, errlen, "%s lists no online CPU", path);
    free(list);
    return -1;
  }
  int *shrunk = realloc(list, count * sizeof(*list));
  *cpus = shrunk ? shrunk : list;
  *n = count;
  return 0;
}

/* Reads a non-negative decimal id from cpuN/topology/<name>; 1 when the file
 * is absent, 0 when read, -1 on error. */
static int read_id(const char *sysfs, int cpu, const char *name, int *value,
                   char *err, size_t errlen) {
  char path[RAPL_PATH_MAX + 96];
  char text[64];
  snprintf(path, sizeof(path), "%s/devices/system/cpu/cpu%d/topology/%s", sysfs,
           cpu, name);
  int r = read_small(path, text, sizeof(text));
  if (r == -ENOENT)
    return 1;
  if (r < 0) {
    snprintf(err, errlen, "cannot read %s: %s", path, strerror(-r));
    return -1;
  }
  /* The kernel prints "%d\n"; accept exactly that (die_id may be -1 on
   * some kernels for unknown; treat negative values as 0). */
  const char *p = text;
  int neg = 0;
  long v = 0;
  if (*p == '-') {
    neg = 1;
    p++;
  }
  if (*p < '0' || *p > '9')
    goto bad;
  while (*p >= '0' && *p <= '9') {
    v = v * 10 + (*p - '0');
    if (v > 0x7fffffffL)
      goto bad;
    p++;
  }
  if (*p == '\n')
    p++;
  if (*p != '\0')
    goto bad;
  *value = neg ? 0 : (int)v;
  return 0;
bad:
  snprintf(err, errlen, "%s: expected a number, found \"%.20s\"", path, text);
  return -1;
}

struct cpu_info {
  int cpu, package, die, core;
};

static int cmp_cpu_info(const void *a, const void *b) {
  const struct cpu_info *x = a, *y = b;
  if (x->package != y->package)
    return x->package < y->package ? -1 : 1;
  if (x->die != y->die)
    return x->die < y->die ? -1 : 1;
  return x->cpu < y->cpu ? -1 : (x->cpu > y->cpu);
}

void rapl_topology_free(struct rapl_topology *topo) {
  for (size_t s = 0; s < topo->n_sockets; s++) {
    struct rapl_socket *sock = &topo->sockets[s];
    for (size_t c = 0; c < sock->n_cores; c++)
      free(sock->cores[c].cpus);
    free(sock->cores);
    free(sock->cpus);
  }
  free(topo->sockets);
  free(topo->online);
  memset(topo, 0, sizeof(*topo));
}

/* Fills one socket from info[0..n), all of the same (package, die), ordered
 * by CPU. */
static int build_socket(struct rapl_socket *sock, const struct cpu_info *info,
                        size_t n) {
  sock->package = info[0].package;
  sock->die = info[0].die;
  sock->cpus = malloc(n * sizeof(*sock->cpus));
  sock->cores = calloc(n, sizeof(*sock->cores));
  if (sock->cpus == NULL || sock->cores == NULL)
    return -1;
  sock->n_cpus = n;
  for (size_t i = 0; i < n; i++) {
    sock->cpus[i] = info[i].cpu;
    size_t c;
    for (c = 0; c < sock->n_cores; c++) {
      if (sock->cores[c].core_id == info[i].core)
        break;
    }
    struct rapl_core *core = &sock->cores[c];
    if (c == sock->n_cores) {
      core->core_id = info[i].core;
      core->cpus = malloc(n * sizeof(*core->cpus));
      if (core->cpus == NULL)
        return -1;
      sock->n_cores++;
    }
    core->cpus[core->n_cpus++] = info[i].cpu;
  }
  return 0;
}

int rapl_topology_read(const char *sysfs, struct rapl_topology *topo, char *err,
                       size_t errlen) {
  struct cpu_info *info = NULL;
  memset(topo, 0, sizeof(*topo));
  if (rapl_topology_read_online(sysfs, &topo->online, &topo->n_online, err,
                                errlen) < 0)
    return -1;
  info = calloc(topo->n_online, sizeof(*info));
  topo->sockets = calloc(topo->n_online, sizeof(*topo->sockets));
  if (info == NULL || topo->sockets == NULL)
    goto oom;
  for (size_t i = 0; i < topo->n_online; i++) {
    int cpu = topo->online[i];
    int r;
    info[i].cpu = cpu;
    r = read_id(sysfs, cpu, "physical_package_id", &info[i].package, err,
                errlen);
    if (r == 1) {
      snprintf(err, errlen,
               "%s/devices/system/cpu/cpu%d/topology/physical_package_id "
               "is missing",
               sysfs, cpu);
      goto fail;
    }
    if (r < 0)
      goto fail;
    r = read_id(sysfs, cpu, "die_id", &info[i].die, err, errlen);
    if (r < 0)
      goto fail;
    if (r == 1)
      info[i].die = 0;
    r = read_id(sysfs, cpu, "core_id", &info[i].core, err, errlen);
    if (r == 1) {
      snprintf(err, errlen,
               "%s/devices/system/cpu/cpu%d/topology/core_id is missing", sysfs,
               cpu);
      goto fail;
    }
    if (r < 0)
      goto fail;
  }
  qsort(info, topo->n_online, sizeof(*info), cmp_cpu_info);
  for (size_t i = 0; i < topo->n_online;) {
    size_t j = i + 1;
    while (j < topo->n_online && info[j].package == info[i].package &&
           info[j].die == info[i].die)
      j++;
    /* Count first so that a failing build_socket is freed with the rest. */
    struct rapl_socket *sock = &topo->sockets[topo->n_sockets++];
    if (build_socket(sock, &info[i], j - i) < 0)
      goto oom;
    i = j;
  }
  free(info);
  return 0;
oom:
  snprintf(err, errlen, "out of memory");
fail:
  free(info);
  rapl_topology_free(topo);
  return -1;
}

size_t rapl_topology_max_dies(const struct rapl_topology *topo) {
  size_t best = 0;
  for (size_t i = 0; i < topo->n_sockets;) {
    size_t j = i + 1;
    while (j < topo->n_sockets &&
           topo->sockets[j].package == topo->sockets[i].package)
      j++;
    if (j - i > best)
      best = j - i;
    i = j;
  }
  return best;
}
