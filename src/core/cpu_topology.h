/* The online CPUs grouped the way RAPL counters are scoped: by socket, a
 * (physical_package_id, die_id) pair, and within a socket by physical core.
 * Read from <sysfs>/devices/system/cpu. */
#ifndef RAPL_CPU_TOPOLOGY_H
#define RAPL_CPU_TOPOLOGY_H

#include <stddef.h>

struct rapl_core {
  int core_id;
  size_t n_cpus;
  int *cpus; /* online threads of this core, ascending */
};

struct rapl_socket {
  int package;
  int die; /* 0 when the kernel has no die_id */
  size_t n_cpus;
  int *cpus; /* online CPUs of this socket, ascending */
  size_t n_cores;
  struct rapl_core *cores; /* distinct core_id, ordered by first CPU */
};

struct rapl_topology {
  size_t n_online;
  int *online; /* ascending */
  size_t n_sockets;
  struct rapl_socket *sockets; /* ordered by (package, die) */
};

/* Reads the online list and each online CPU's topology files. Returns 0, or
 * -1 with the reason in err (nothing to free then). A missing die_id counts
 * as die 0. */
int rapl_topology_read(const char *sysfs, struct rapl_topology *topo, char *err,
                       size_t errlen);

/* Reads only <sysfs>/devices/system/cpu/online into a malloc'd array. */
int rapl_topology_read_online(const char *sysfs, int **cpus, size_t *n,
                              char *err, size_t errlen);

void rapl_topology_free(struct rapl_topology *topo);

/* The largest number of dies found in one package (at least 1 when there is
 * a socket). */
size_t rapl_topology_max_dies(const struct rapl_topology *topo);

#endif
