/* The <Plugin rapl_energy> block, built as liboconfig would build it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "collectd_config.h"
#include "fixture.h"
#include "zone_kind.h"

#include <string.h>

#define MAX_ITEMS 8

struct block {
  oconfig_item_t root;
  oconfig_item_t items[MAX_ITEMS];
  oconfig_value_t values[MAX_ITEMS][4];
};

static void start(struct block *b) {
  memset(b, 0, sizeof(*b));
  b->root.key = "Plugin";
  b->root.children = b->items;
}

static oconfig_item_t *add(struct block *b, const char *key) {
  oconfig_item_t *it = &b->items[b->root.children_num];
  it->key = (char *)key;
  it->values = b->values[b->root.children_num];
  it->parent = &b->root;
  b->root.children_num++;
  return it;
}

static void add_string(struct block *b, const char *key, const char *s) {
  oconfig_item_t *it = add(b, key);
  it->values[0].type = OCONFIG_TYPE_STRING;
  it->values[0].value.string = (char *)s;
  it->values_num = 1;
}

static void add_bool(struct block *b, const char *key, int v) {
  oconfig_item_t *it = add(b, key);
  it->values[0].type = OCONFIG_TYPE_BOOLEAN;
  it->values[0].value.boolean = v;
  it->values_num = 1;
}

static void add_number(struct block *b, const char *key, double v) {
  oconfig_item_t *it = add(b, key);
  it->values[0].type = OCONFIG_TYPE_NUMBER;
  it->values[0].value.number = v;
  it->values_num = 1;
}

static void add_zone_line(struct block *b, const char *a, const char *c) {
  oconfig_item_t *it = add(b, "Zone");
  it->values[0].type = OCONFIG_TYPE_STRING;
  it->values[0].value.string = (char *)a;
  it->values_num = 1;
  if (c != NULL) {
    it->values[1].type = OCONFIG_TYPE_STRING;
    it->values[1].value.string = (char *)c;
    it->values_num = 2;
  }
}

static int apply(struct block *b, struct rapl_config *cfg, char *file) {
  struct rapl_collectd_blocks blocks = {0};
  fixture_logs_reset();
  return rapl_collectd_config(&b->root, &blocks, cfg, file, RAPL_PATH_MAX);
}

static void every_key(void **state) {
  (void)state;
  struct block b;
  struct rapl_config cfg;
  char file[RAPL_PATH_MAX] = "";
  rapl_config_defaults(&cfg);
  start(&b);
  add_string(&b, "SysfsPath", "/host/sys");
  add_string(&b, "procfspath", "/host/proc");
  oconfig_item_t *zone = add(&b, "Zone");
  zone->values[0].type = OCONFIG_TYPE_STRING;
  zone->values[0].value.string = "package";
  zone->values[1].type = OCONFIG_TYPE_STRING;
  zone->values[1].value.string = "DRAM";
  zone->values_num = 2;
  add_bool(&b, "ReportPower", 0);
  add_string(&b, "MSREnabled", "yes"); /* collectd accepts quoted forms */
  add_string(&b, "MSRDevicePath", "/host/dev/cpu/%d/msr");
  add_number(&b, "MSRMinInterval", 5);
  add_string(&b, "ConfigFile", "/etc/collectd/rapl_energy.yaml");
  assert_int_equal(apply(&b, &cfg, file), 0);
  assert_string_equal(cfg.sysfs_path, "/host/sys");
  assert_string_equal(cfg.procfs_path, "/host/proc");
  assert_int_equal(cfg.zone_mask, RAPL_ZONE_MASK(RAPL_ZONE_PACKAGE) |
                                      RAPL_ZONE_MASK(RAPL_ZONE_DRAM));
  assert_false(cfg.report_power);
  assert_true(cfg.report_energy);
  assert_true(cfg.msr_enabled);
  assert_false(cfg.msr_force);
  assert_string_equal(cfg.msr_device_path, "/host/dev/cpu/%d/msr");
  assert_true(cfg.msr_min_interval == 5.0);
  assert_string_equal(file, "/etc/collectd/rapl_energy.yaml");
}

/* Zone "package" then Zone "dram" means both, as repeated options do in
 * every other collectd plugin; the first line replaces the default (all
 * zones), it does not add to it. */
static void zone_lines_add_up(void **state) {
  (void)state;
  struct block b;
  struct rapl_config cfg;
  char file[RAPL_PATH_MAX] = "";
  rapl_config_defaults(&cfg);
  start(&b);
  add_zone_line(&b, "package", NULL);
  add_string(&b, "SysfsPath", "/host/sys");
  add_zone_line(&b, "DRAM", "core");
  add_zone_line(&b, "package", NULL); /* again: harmless */
  assert_int_equal(apply(&b, &cfg, file), 0);
  assert_int_equal(cfg.zone_mask, RAPL_ZONE_MASK(RAPL_ZONE_PACKAGE) |
                                      RAPL_ZONE_MASK(RAPL_ZONE_DRAM) |
                                      RAPL_ZONE_MASK(RAPL_ZONE_CORE));

  rapl_config_defaults(&cfg);
  start(&b);
  add_zone_line(&b, "psys", NULL);
  assert_int_equal(apply(&b, &cfg, file), 0);
  assert_int_equal(cfg.zone_mask, RAPL_ZONE_MASK(RAPL_ZONE_PSYS));
}

/* collectd calls the callback once per <Plugin rapl_energy> block. A second
 * block is refused, naming what each holds (collectd gives no file or line),
 * and leaves the first block's configuration as it was: that configuration
 * is what the YAML file falls back to when a key is removed from it. */
static void second_block_refused(void **state) {
  (void)state;
  struct rapl_collectd_blocks blocks = {0};
  struct block b;
  struct rapl_config cfg, after_first;
  char file[RAPL_PATH_MAX] = "";
  rapl_config_defaults(&cfg);
  start(&b);
  add_string(&b, "SysfsPath", "/host/sys");
  add_number(&b, "MSRMinInterval", 5);
  add_string(&b, "ConfigFile", "/etc/collectd/rapl_energy.yaml");
  fixture_logs_reset();
  assert_int_equal(
      rapl_collectd_config(&b.root, &blocks, &cfg, file, sizeof(file)), 0);
  after_first = cfg;

  start(&b);
  add_bool(&b, "MSREnabled", 1);
  add_zone_line(&b, "dram", NULL);
  add_zone_line(&b, "core", NULL);
  add_number(&b, "MSRMinInterval", 2);
  fixture_logs_reset();
  assert_int_equal(
      rapl_collectd_config(&b.root, &blocks, &cfg, file, sizeof(file)), -1);
  const char *want = "configuration: a second <Plugin rapl_energy> block "
                     "(with MSREnabled, Zone, MSRMinInterval) after the first "
                     "(with SysfsPath, MSRMinInterval, ConfigFile): ";
  if (strstr(fixture_logs(), want) == NULL)
    fail_msg("log lacks \"%s\": %s", want, fixture_logs());
  assert_int_equal(fixture_log_count("[3] "), 1); /* at ERR */
  assert_memory_equal(&cfg, &after_first, sizeof(cfg));
  assert_string_equal(file, "/etc/collectd/rapl_energy.yaml");

  /* Empty, or even the same block again: still refused. */
  start(&b);
  fixture_logs_reset();
  assert_int_equal(
      rapl_collectd_config(&b.root, &blocks, &cfg, file, sizeof(file)), -1);
  assert_non_null(strstr(fixture_logs(), "block (with no options) after"));
  assert_memory_equal(&cfg, &after_first, sizeof(cfg));
}

/* An empty first block is named as such; a block with more options than
 * the message has room for says that the list was cut. */
static void block_lists_are_bounded(void **state) {
  (void)state;
  struct rapl_collectd_blocks blocks = {0};
  struct block b;
  struct rapl_config cfg;
  char file[RAPL_PATH_MAX] = "";
  static char long_keys[MAX_ITEMS][64];
  rapl_config_defaults(&cfg);
  start(&b);
  fixture_logs_reset();
  assert_int_equal(
      rapl_collectd_config(&b.root, &blocks, &cfg, file, sizeof(file)), 0);
  start(&b);
  for (int i = 0; i < MAX_ITEMS; i++) {
    snprintf(long_keys[i], sizeof(long_keys[i]), "UnknownOption%02d%040d", i,
             0);
    add_bool(&b, long_keys[i], 1);
  }
  assert_int_equal(
      rapl_collectd_config(&b.root, &blocks, &cfg, file, sizeof(file)), -1);
  const char *log = fixture_logs();
  assert_non_null(strstr(log, "(with UnknownOption00"));
  assert_non_null(strstr(log, ", ...) after the first (with no options): "));
  assert_non_null(strstr(log, "put every option into one block"));
}

static void expect_error(void (*build)(struct block *), const char *needle) {
  struct block b;
  struct rapl_config cfg, before;
  char file[RAPL_PATH_MAX] = "";
  rapl_config_defaults(&cfg);
  before = cfg;
  start(&b);
  build(&b);
  assert_int_equal(apply(&b, &cfg, file), -1);
  if (strstr(fixture_logs(), needle) == NULL)
    fail_msg("log lacks \"%s\": %s", needle, fixture_logs());
  assert_memory_equal(&cfg, &before, sizeof(cfg)); /* nothing half-applied */
  assert_string_equal(file, "");
}

static void unknown_key(struct block *b) {
  add_string(b, "SysfsPath", "/x");
  add_string(b, "ConfigFile", "/y.yaml");
  add_string(b, "SysPath", "/sys");
}
static void wrong_bool(struct block *b) { add_string(b, "MSRForce", "maybe"); }
static void number_for_bool(struct block *b) { add_number(b, "MSRForce", 1); }
static void bool_for_path(struct block *b) { add_bool(b, "SysfsPath", 1); }
static void relative_path(struct block *b) {
  add_string(b, "SysfsPath", "sys");
}
static void bad_zone(struct block *b) { add_string(b, "Zone", "gpu"); }
static void bad_template(struct block *b) {
  add_string(b, "MSRDevicePath", "/dev/cpu/%s/msr");
}
static void string_interval(struct block *b) {
  add_string(b, "MSRMinInterval", "1");
}
static void nothing_to_report(struct block *b) {
  add_bool(b, "ReportPower", 0);
  add_bool(b, "ReportEnergy", 0);
}
static void two_values(struct block *b) {
  oconfig_item_t *it = add(b, "SysfsPath");
  it->values[0].type = OCONFIG_TYPE_STRING;
  it->values[0].value.string = "/a";
  it->values[1].type = OCONFIG_TYPE_STRING;
  it->values[1].value.string = "/b";
  it->values_num = 2;
}

static void repeated_path(struct block *b) {
  add_string(b, "SysfsPath", "/a");
  add_zone_line(b, "package", NULL);
  add_string(b, "sysfspath", "/b");
}
static void repeated_bool(struct block *b) {
  add_bool(b, "MSREnabled", 1);
  add_bool(b, "MSREnabled", 0);
}

/* Values of any length: the message keeps its key and its end, and shows
 * that the value was cut. */
static char long_value[3000];
static void long_bool(struct block *b) {
  memset(long_value, 'y', sizeof(long_value) - 1);
  add_string(b, "MSRForce", long_value);
}
static void long_relative_path(struct block *b) {
  memset(long_value, 'p', sizeof(long_value) - 1);
  add_string(b, "ProcfsPath", long_value);
}
static void long_zone(struct block *b) {
  memset(long_value, 'z', sizeof(long_value) - 1);
  add_string(b, "Zone", long_value);
}
static void long_unknown_key(struct block *b) {
  memset(long_value, 'K', sizeof(long_value) - 1);
  add_bool(b, long_value, 1);
}

static void long_values_are_cut_visibly(void **state) {
  (void)state;
  expect_error(long_bool, "MSRForce: expected a boolean, found \"yyyy");
  assert_non_null(strstr(fixture_logs(), "yyyy\"...\n"));
  expect_error(long_relative_path, "ProcfsPath: expected an absolute path, "
                                   "found the relative path \"pppp");
  assert_non_null(strstr(fixture_logs(), "pppp\"...\n"));
  expect_error(long_zone, "Zone: unknown zone \"zzzz");
  assert_non_null(strstr(fixture_logs(), "zzzz\"... (expected package, core, "
                                         "uncore, dram or psys)\n"));
  expect_error(long_unknown_key, "unknown option \"KKKK");
  assert_non_null(strstr(fixture_logs(), "KKKK\"... in <Plugin rapl_energy> "
                                         "(known: SysfsPath, "));
  assert_non_null(strstr(fixture_logs(), "MSRMinInterval, ConfigFile)\n"));
  assert_true(strlen(fixture_logs()) < 1000);
}

static void errors_name_the_key(void **state) {
  (void)state;
  expect_error(unknown_key, "unknown option \"SysPath\"");
  expect_error(wrong_bool, "MSRForce: expected a boolean, found \"maybe\"");
  expect_error(number_for_bool, "MSRForce: expected a boolean, found a number");
  expect_error(bool_for_path, "SysfsPath: expected a string, found a boolean");
  expect_error(relative_path, "SysfsPath: expected an absolute path");
  expect_error(bad_zone, "unknown zone \"gpu\"");
  expect_error(bad_template, "MSRDevicePath");
  expect_error(string_interval, "MSRMinInterval: expected a number");
  expect_error(nothing_to_report, "nothing would be reported");
  expect_error(two_values, "SysfsPath: expected exactly one value, found 2");
  expect_error(repeated_path,
               "SysfsPath: given more than once in <Plugin rapl_energy>");
  expect_error(repeated_bool,
               "MSREnabled: given more than once in <Plugin rapl_energy>");
}

int main(void) {
  fixture_capture_logs();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_key),
      cmocka_unit_test(zone_lines_add_up),
      cmocka_unit_test(second_block_refused),
      cmocka_unit_test(block_lists_are_bounded),
      cmocka_unit_test(errors_name_the_key),
      cmocka_unit_test(long_values_are_cut_visibly),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
