/* cpulist parsing and CPU topology from fixture sysfs trees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cpu_topology.h"
#include "cpulist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char err[256];

static const char *srcdir(void) {
  const char *d = getenv("abs_top_srcdir");
  return d && *d ? d : ".";
}

static const char *topo_path(const char *name) {
  static char path[1024];
  snprintf(path, sizeof(path), "%s/t/data/topology/%s", srcdir(), name);
  return path;
}

static int parse(const char *text, int *cpus, size_t max, size_t *n) {
  err[0] = '\0';
  return rapl_cpulist_parse(text, cpus, max, n, err, sizeof(err));
}

static void test_cpulist_ranges_and_holes(void **state) {
  (void)state;
  int cpus[32];
  size_t n = 99;
  assert_int_equal(parse("0-3,8,10-11\n", cpus, 32, &n), 0);
  int want[] = {0, 1, 2, 3, 8, 10, 11};
  assert_int_equal(n, 7);
  assert_memory_equal(cpus, want, sizeof(want));

  assert_int_equal(parse("5", cpus, 32, &n), 0);
  assert_int_equal(n, 1);
  assert_int_equal(cpus[0], 5);

  assert_int_equal(parse("1-2,5,7\n", cpus, 32, &n), 0);
  assert_int_equal(n, 4);
  assert_int_equal(cpus[0], 1);
  assert_int_equal(cpus[3], 7);

  /* a one-CPU range */
  assert_int_equal(parse("4-4\n", cpus, 32, &n), 0);
  assert_int_equal(n, 1);
  assert_int_equal(cpus[0], 4);
}

static void test_cpulist_empty(void **state) {
  (void)state;
  int cpus[4];
  size_t n = 99;
  assert_int_equal(parse("", cpus, 4, &n), 0);
  assert_int_equal(n, 0);
  n = 99;
  assert_int_equal(parse("\n", cpus, 4, &n), 0);
  assert_int_equal(n, 0);
}

static void test_cpulist_garbage(void **state) {
  (void)state;
  static const char *const bad[] = {
      "0-3x\n", "a",   "0,",  ",0",    "0-",     "-1",  "0--3",
      "3-1",    "0 1", " 0",  "0\n\n", "0\n1",   "4,2", "0-3,2",
      "1,1",    "+1",  "0x1", "1;2",   "0-3,,5", "\t0", "0-3\n ",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    int cpus[16];
    size_t n = 99;
    if (parse(bad[i], cpus, 16, &n) != -1)
      fail_msg("\"%s\" was accepted", bad[i]);
    assert_true(err[0] != '\0');
    assert_int_equal(n, 0);
  }
  int cpus[4];
  size_t n;
  assert_int_equal(rapl_cpulist_parse(NULL, cpus, 4, &n, err, sizeof(err)), -1);
}

static void test_cpulist_overflow(void **state) {
  (void)state;
  int cpus[8];
  size_t n;
  /* more CPUs than room */
  assert_int_equal(parse("0-8", cpus, 8, &n), -1);
  assert_non_null(strstr(err, "more than 8"));
  assert_int_equal(parse("0-7", cpus, 8, &n), 0);
  assert_int_equal(n, 8);
  assert_int_equal(parse("0-3,5-9", cpus, 8, &n), -1);
  /* numbers past the limit, including ones that overflow an int */
  assert_int_equal(parse("65536", cpus, 8, &n), -1);
  assert_non_null(strstr(err, "too large"));
  assert_int_equal(parse("65535", cpus, 8, &n), 0);
  assert_int_equal(cpus[0], 65535);
  assert_int_equal(parse("99999999999999999999", cpus, 8, &n), -1);
  assert_int_equal(parse("0-4294967296", cpus, 8, &n), -1);
}

static struct rapl_topology topo;

static int read_topo(const char *name) {
  err[0] = '\0';
  return rapl_topology_read(topo_path(name), &topo, err, sizeof(err));
}

static void test_topology_two_sockets(void **state) {
  (void)state;
  assert_int_equal(read_topo("two-socket"), 0);
  assert_int_equal(topo.n_online, 8);
  assert_int_equal(topo.n_sockets, 2);
  assert_int_equal(rapl_topology_max_dies(&topo), 1);
  /* siblings are numbered apart and the sockets interleave */
  int want0[] = {0, 1, 4, 5}, want1[] = {2, 3, 6, 7};
  const struct rapl_socket *s0 = &topo.sockets[0], *s1 = &topo.sockets[1];
  assert_int_equal(s0->package, 0);
  assert_int_equal(s0->die, 0);
  assert_int_equal(s0->n_cpus, 4);
  assert_memory_equal(s0->cpus, want0, sizeof(want0));
  assert_int_equal(s1->package, 1);
  assert_int_equal(s1->n_cpus, 4);
  assert_memory_equal(s1->cpus, want1, sizeof(want1));
  /* two physical cores per socket, two threads each */
  assert_int_equal(s0->n_cores, 2);
  assert_int_equal(s0->cores[0].core_id, 0);
  assert_int_equal(s0->cores[0].n_cpus, 2);
  assert_int_equal(s0->cores[0].cpus[0], 0);
  assert_int_equal(s0->cores[0].cpus[1], 4);
  assert_int_equal(s0->cores[1].core_id, 1);
  assert_int_equal(s0->cores[1].cpus[0], 1);
  assert_int_equal(s1->n_cores, 2);
  assert_int_equal(s1->cores[0].cpus[0], 2);
  assert_int_equal(s1->cores[1].cpus[1], 7);
  rapl_topology_free(&topo);
  assert_int_equal(topo.n_sockets, 0);
  assert_null(topo.sockets);
}

static void test_topology_multi_die(void **state) {
  (void)state;
  assert_int_equal(read_topo("multi-die"), 0);
  assert_int_equal(topo.n_sockets, 4);
  assert_int_equal(rapl_topology_max_dies(&topo), 2);
  static const int want[4][3] = {
      {0, 0, 0}, {0, 1, 2}, {1, 0, 4}, {1, 1, 6}}; /* package, die, cpu */
  for (size_t i = 0; i < 4; i++) {
    assert_int_equal(topo.sockets[i].package, want[i][0]);
    assert_int_equal(topo.sockets[i].die, want[i][1]);
    assert_int_equal(topo.sockets[i].n_cpus, 2);
    assert_int_equal(topo.sockets[i].cpus[0], want[i][2]);
    assert_int_equal(topo.sockets[i].n_cores, 1);
  }
  rapl_topology_free(&topo);
}

static void test_topology_missing_die_id(void **state) {
  (void)state;
  assert_int_equal(read_topo("no-die"), 0);
  assert_int_equal(topo.n_sockets, 1);
  assert_int_equal(topo.sockets[0].die, 0);
  assert_int_equal(topo.sockets[0].n_cpus, 2);
  assert_int_equal(topo.sockets[0].n_cores, 2);
  assert_int_equal(rapl_topology_max_dies(&topo), 1);
  rapl_topology_free(&topo);
}

static void test_topology_holes(void **state) {
  (void)state;
  assert_int_equal(read_topo("holes"), 0);
  int online[] = {1, 2, 5, 7};
  assert_int_equal(topo.n_online, 4);
  assert_memory_equal(topo.online, online, sizeof(online));
  assert_int_equal(topo.n_sockets, 2);
  /* cpu0 is offline though its topology files are there: never chosen */
  assert_int_equal(topo.sockets[0].n_cpus, 2);
  assert_int_equal(topo.sockets[0].cpus[0], 1);
  assert_int_equal(topo.sockets[0].cpus[1], 2);
  assert_int_equal(topo.sockets[1].cpus[0], 5);
  assert_int_equal(topo.sockets[1].cpus[1], 7);
  rapl_topology_free(&topo);
}

static void test_topology_errors(void **state) {
  (void)state;
  assert_int_equal(read_topo("bad-online"), -1);
  assert_non_null(strstr(err, "online"));
  assert_null(topo.sockets);
  assert_int_equal(read_topo("no-package"), -1);
  assert_non_null(strstr(err, "physical_package_id"));
  assert_int_equal(read_topo("bad-core-id"), -1);
  assert_non_null(strstr(err, "core_id"));
  assert_int_equal(read_topo("does-not-exist"), -1);
  assert_non_null(strstr(err, "cannot read"));

  int *cpus;
  size_t n;
  assert_int_equal(rapl_topology_read_online(topo_path("holes"), &cpus, &n, err,
                                             sizeof(err)),
                   0);
  assert_int_equal(n, 4);
  assert_int_equal(cpus[0], 1);
  free(cpus);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cpulist_ranges_and_holes),
      cmocka_unit_test(test_cpulist_empty),
      cmocka_unit_test(test_cpulist_garbage),
      cmocka_unit_test(test_cpulist_overflow),
      cmocka_unit_test(test_topology_two_sockets),
      cmocka_unit_test(test_topology_multi_die),
      cmocka_unit_test(test_topology_missing_die_id),
      cmocka_unit_test(test_topology_holes),
      cmocka_unit_test(test_topology_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
