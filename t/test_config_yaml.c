/* The YAML configuration loader (issue 4): Kepler's files, every error
 * class with its position, hostile input, precedence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "config_yaml.h"
#include "zone_kind.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ZM(k) RAPL_ZONE_MASK(RAPL_ZONE_##k)

static char fixture_dir[1024];
static char tmp_dir[256];

static const char *fixture(const char *name) {
  static char path[1200];
  snprintf(path, sizeof(path), "%s/%s", fixture_dir, name);
  return path;
}

static const char *tmp_file(const char *name) {
  static char path[512];
  snprintf(path, sizeof(path), "%s/%s", tmp_dir, name);
  return path;
}

static void write_file(const char *path, const char *data, size_t len) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  assert_int_equal(fclose(f), 0);
}

/* A configuration as the collectd.conf block could leave it: nothing at its
 * default. */
static void collectd_block(struct rapl_config *cfg) {
  rapl_config_defaults(cfg);
  strcpy(cfg->sysfs_path, "/cd/sys");
  strcpy(cfg->procfs_path, "/cd/proc");
  cfg->zone_mask = ZM(PACKAGE);
  cfg->report_power = false;
  cfg->msr_enabled = true;
  cfg->msr_force = true;
  strcpy(cfg->msr_device_path, "/cd/cpu/%d/msr");
  cfg->msr_min_interval = 5.0;
}

/* Loads a private copy (mode 0600, in a directory of this process's own):
 * whoever owns the source tree must not decide whether the fixture's MSR
 * switches apply. */
static int load_ok(const char *name, struct rapl_config *cfg) {
  char err[2048] = "";
  char *data = NULL;
  size_t len = 0;
  FILE *in = fopen(fixture(name), "rb");
  assert_non_null(in);
  FILE *mem = open_memstream(&data, &len);
  assert_non_null(mem);
  int ch;
  while ((ch = getc(in)) != EOF)
    putc(ch, mem);
  assert_int_equal(fclose(in), 0);
  assert_int_equal(fclose(mem), 0);
  const char *copy = tmp_file("copy.yaml");
  write_file(copy, data, len);
  free(data);
  assert_int_equal(chmod(copy, 0600), 0);
  int rc = rapl_config_load_yaml(copy, cfg, err, sizeof(err));
  unlink(copy);
  if (rc != 0)
    print_error("unexpected error: %s\n", err);
  return rc;
}

/* Loads a fixture that must fail; checks that the message starts with
 * "<path>:<line>:<col>: <key>: " (or "<path>: " when line is 0, without the
 * key when key is NULL), contains `fragment`, and that the configuration
 * was left alone. */
static void expect_error(const char *name, int line, int col, const char *key,
                         const char *fragment) {
  struct rapl_config cfg, before;
  char err[2048] = "";
  char prefix[2048];
  collectd_block(&cfg);
  memcpy(&before, &cfg, sizeof(cfg));
  const char *path = fixture(name);
  assert_int_equal(rapl_config_load_yaml(path, &cfg, err, sizeof(err)), -1);
  if (line > 0 && key != NULL)
    snprintf(prefix, sizeof(prefix), "%s:%d:%d: %s: ", path, line, col, key);
  else if (line > 0)
    snprintf(prefix, sizeof(prefix), "%s:%d:%d: ", path, line, col);
  else
    snprintf(prefix, sizeof(prefix), "%s: ", path);
  if (strncmp(err, prefix, strlen(prefix)) != 0 ||
      strstr(err, fragment) == NULL) {
    print_error("fixture %s\n  got:      %s\n  expected: %s...%s...\n", name,
                err, prefix, fragment);
    fail();
  }
  assert_memory_equal(&cfg, &before, sizeof(cfg));
}

/* ------------------------------------------------------------ good files */

static void test_kepler_example(void **state) {
  (void)state;
  struct rapl_config cfg;
  rapl_config_defaults(&cfg);
  assert_int_equal(load_ok("kepler_example.yaml", &cfg), 0);
  assert_string_equal(cfg.sysfs_path, "/sys");
  assert_string_equal(cfg.procfs_path, "/proc");
  assert_int_equal(cfg.zone_mask, ZM(PACKAGE) | ZM(DRAM));
  assert_false(cfg.msr_enabled);
  assert_false(cfg.msr_force);
  assert_string_equal(cfg.msr_device_path, "/dev/cpu/%d/msr");
  assert_true(cfg.msr_min_interval == 1.0);
  assert_true(cfg.report_power);
  assert_true(cfg.report_energy);
}

static void test_kepler_full(void **state) {
  (void)state;
  struct rapl_config cfg;
  rapl_config_defaults(&cfg);
  assert_int_equal(load_ok("kepler_full.yaml", &cfg), 0);
  assert_string_equal(cfg.sysfs_path, "/host/sys");
  assert_string_equal(cfg.procfs_path, "/host/proc");
  assert_int_equal(cfg.zone_mask, ZM(PACKAGE) | ZM(CORE) | ZM(DRAM));
  assert_true(cfg.msr_enabled);
  assert_false(cfg.msr_force);
  assert_string_equal(cfg.msr_device_path, "/host/dev/cpu/%d/msr");
  assert_true(cfg.msr_min_interval == 2.5);
  assert_true(cfg.report_power);
  assert_false(cfg.report_energy);
}

static void test_plugin_section(void **state) {
  (void)state;
  struct rapl_config cfg;
  rapl_config_defaults(&cfg);
  assert_int_equal(load_ok("plugin_section.yaml", &cfg), 0);
  assert_string_equal(cfg.sysfs_path, "/srv/sys");
  assert_string_equal(cfg.procfs_path, "/srv/proc");
  assert_int_equal(cfg.zone_mask, ZM(PSYS) | ZM(UNCORE));
  assert_true(cfg.msr_enabled);
  assert_true(cfg.msr_force);
  assert_string_equal(cfg.msr_device_path, "/dev/cpu/%d/msr_safe");
  assert_true(cfg.msr_min_interval == 0.5);
  assert_false(cfg.report_power);
  assert_true(cfg.report_energy);
}

static void test_plugin_section_wins(void **state) {
  (void)state;
  struct rapl_config cfg;
  rapl_config_defaults(&cfg);
  assert_int_equal(load_ok("plugin_wins.yaml", &cfg), 0);
  assert_string_equal(cfg.sysfs_path, "/plugin/sys"); /* rapl_energy wins */
  assert_string_equal(cfg.procfs_path, "/kepler/proc");
  assert_false(cfg.msr_enabled); /* rapl_energy wins */
  assert_true(cfg.msr_force);
}

/* Defaults < collectd.conf block < file: what the file does not name keeps
 * the collectd.conf value, which itself replaced the default. */
static void test_precedence(void **state) {
  (void)state;
  struct rapl_config cfg;
  collectd_block(&cfg);
  assert_int_equal(load_ok("kepler_example.yaml", &cfg), 0);
  /* named by the file: the file wins */
  assert_string_equal(cfg.sysfs_path, "/sys");
  assert_string_equal(cfg.procfs_path, "/proc");
  assert_int_equal(cfg.zone_mask, ZM(PACKAGE) | ZM(DRAM));
  assert_false(cfg.msr_enabled);
  assert_false(cfg.msr_force);
  assert_string_equal(cfg.msr_device_path, "/dev/cpu/%d/msr");
  /* not in the file: the collectd block's values survive */
  assert_true(cfg.msr_min_interval == 5.0);
  assert_false(cfg.report_power);
  /* in neither: the default */
  assert_true(cfg.report_energy);
}

static void test_sets_nothing(void **state) {
  (void)state;
  static const char *const names[] = {"empty_mapping.yaml",
                                      "null_sections.yaml"};
  for (size_t i = 0; i < 2; i++) {
    struct rapl_config cfg, before;
    collectd_block(&cfg);
    memcpy(&before, &cfg, sizeof(cfg));
    assert_int_equal(load_ok(names[i], &cfg), 0);
    assert_memory_equal(&cfg, &before, sizeof(cfg));
  }
}

static void test_empty_zone_list_means_all(void **state) {
  (void)state;
  struct rapl_config cfg;
  collectd_block(&cfg);
  assert_int_equal(load_ok("zones_empty.yaml", &cfg), 0);
  assert_int_equal(cfg.zone_mask, RAPL_ZONE_MASK_ALL);
}

/* A "billion laughs" in an ignored section is skipped without expansion
 * (the test would run out of memory otherwise); an anchor on a value is
 * harmless. */
static void test_anchors_in_ignored_sections(void **state) {
  (void)state;
  struct rapl_config cfg;
  rapl_config_defaults(&cfg);
  assert_int_equal(load_ok("anchors_ignored.yaml", &cfg), 0);
  assert_true(cfg.msr_enabled);
}

/* ---------------------------------------------------------------- booleans */

static int load_string(const char *yaml, struct rapl_config *cfg, char *err,
                       size_t errlen) {
  return rapl_config_load_yaml_buffer("inline.yaml", yaml, strlen(yaml), cfg,
                                      err, errlen);
}

static void test_boolean_spellings(void **state) {
  (void)state;
  static const struct {
    const char *word;
    bool value;
  } words[] = {
      {"true", true},   {"True", true}, {"TRUE", true},   {"tRuE", true},
      {"yes", true},    {"Yes", true},  {"YES", true},    {"on", true},
      {"On", true},     {"ON", true},   {"false", false}, {"False", false},
      {"FALSE", false}, {"no", false},  {"No", false},    {"NO", false},
      {"off", false},   {"Off", false}, {"OFF", false},   {"oFf", false},
  };
  for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
    char yaml[256], err[1024] = "";
    struct rapl_config cfg;
    rapl_config_defaults(&cfg);
    cfg.msr_enabled = !words[i].value;
    cfg.report_energy = !words[i].value;
    snprintf(yaml, sizeof(yaml),
             "msr:\n  enabled: %s\nrapl_energy: {reportEnergy: %s}\n",
             words[i].word, words[i].word);
    if (load_string(yaml, &cfg, err, sizeof(err)) != 0) {
      print_error("%s: %s\n", words[i].word, err);
      fail();
    }
    assert_int_equal(cfg.msr_enabled, words[i].value);
    assert_int_equal(cfg.report_energy, words[i].value);
  }
}

static void test_boolean_rejections(void **state) {
  (void)state;
  static const struct {
    const char *word;
    const char *message;
  } bad[] = {
      {"\"true\"", "inline.yaml:2:12: msr.enabled: expected a boolean, found "
                   "the string \"true\""},
      {"'yes'", "inline.yaml:2:12: msr.enabled: expected a boolean, found the "
                "string \"yes\""},
      {"\"false\"", "found the string \"false\""},
      {"1", "expected a boolean, found the number \"1\""},
      {"0", "expected a boolean, found the number \"0\""},
      {"y", "expected a boolean, found the string \"y\""},
      {"enabled", "found the string \"enabled\""},
      {"truee", "found the string \"truee\""},
      {"", "expected a boolean, found an empty value"},
      {"~", "expected a boolean, found null"},
      {"{}", "expected a boolean, found a mapping"},
      {"[on]", "expected a boolean, found a list"},
      {"!!bool true", "explicit tags are not supported"},
      {"! true", "explicit tags are not supported"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    char yaml[256], err[1024] = "";
    struct rapl_config cfg;
    rapl_config_defaults(&cfg);
    snprintf(yaml, sizeof(yaml), "msr:\n  enabled: %s\n", bad[i].word);
    assert_int_equal(load_string(yaml, &cfg, err, sizeof(err)), -1);
    if (strstr(err, bad[i].message) == NULL ||
        strncmp(err, "inline.yaml:2:", 14) != 0 ||
        strstr(err, ": msr.enabled: ") == NULL) {
      print_error("%s\n  got:      %s\n  expected: %s\n", bad[i].word, err,
                  bad[i].message);
      fail();
    }
  }
}

/* ------------------------------------------------------------------ errors */

static void test_type_errors(void **state) {
  (void)state;
  expect_error("err_bool_quoted.yaml", 3, 12, "msr.enabled",
               "expected a boolean, found the string \"true\"");
  expect_error("err_bool_word.yaml", 3, 10, "msr.force",
               "expected a boolean, found the string \"maybe\"");
  expect_error("err_bool_number.yaml", 2, 16, "rapl_energy.reportPower",
               "expected a boolean, found the number \"1\"");
  expect_error("err_list_for_scalar.yaml", 2, 12, "msr.enabled",
               "expected a boolean, found a list");
  expect_error("err_map_for_scalar.yaml", 3, 5, "host.sysfs",
               "expected an absolute path, found a mapping");
  expect_error("err_map_for_list.yaml", 3, 5, "rapl.zones",
               "expected a list of zone names (package, core, uncore, dram, "
               "psys), found a mapping");
  expect_error("err_scalar_for_list.yaml", 2, 10, "rapl.zones",
               "expected a list of zone names (package, core, uncore, dram, "
               "psys), found the string \"package\"");
  expect_error("err_nested_zone.yaml", 4, 7, "rapl_energy.zones[1]",
               "expected a zone name (package, core, uncore, dram or psys), "
               "found a list");
  expect_error("err_unknown_zone.yaml", 2, 20, "rapl.zones[1]",
               "unknown zone \"gpu\"");
  expect_error("err_nothing_reported.yaml", 0, 0, NULL,
               "ReportPower and ReportEnergy are both false");
  expect_error("err_number_quoted.yaml", 2, 19, "rapl_energy.msrMinInterval",
               "expected a number of seconds, found the string \"2\"");
  expect_error("err_number_word.yaml", 2, 19, "rapl_energy.msrMinInterval",
               "expected a number of seconds, found the string \"2s\"");
  expect_error("err_number_range.yaml", 2, 19, "rapl_energy.msrMinInterval",
               "expected seconds between 0 and 3600, found -1");
  expect_error("err_section_scalar.yaml", 1, 6, "msr",
               "expected a mapping of msr settings, found the boolean "
               "\"off\"");
  expect_error("err_section_list.yaml", 2, 3, "host",
               "expected a mapping of host settings, found a list");
}

static void test_path_errors(void **state) {
  (void)state;
  expect_error("err_relative_path.yaml", 3, 11, "host.procfs",
               "expected an absolute path, found the relative path \"proc\"");
  expect_error("err_empty_path.yaml", 2, 14, "rapl_energy.sysfsPath",
               "expected an absolute path, found an empty value");
  expect_error("err_control_path.yaml", 2, 10, "host.sysfs",
               "found the string \"/sys\\x0ax\" which contains a control "
               "character");
  expect_error("err_nul_path.yaml", 2, 10, "host.sysfs",
               "found the string \"/sys\\x00/class\" which contains a control "
               "character");
  expect_error("err_devpath_empty.yaml", 3, 15, "msr.devicePath",
               "expected a path template, found an empty value");
  expect_error("err_devpath_null.yaml", 2, 14, "msr.devicePath",
               "found an empty value");
  expect_error("err_devpath_conversion.yaml", 2, 15, "msr.devicePath",
               "\"/dev/cpu/%s/msr\" may contain only one %d");
  expect_error("err_devpath_two.yaml", 2, 18, "rapl_energy.msrDevicePath",
               "must contain exactly one %d (the CPU number), found 2");
  expect_error("err_devpath_relative.yaml", 2, 15, "msr.devicePath",
               "expected an absolute path, found \"dev/cpu/%d/msr\"");
}

static void test_key_errors(void **state) {
  (void)state;
  expect_error("err_unknown_key.yaml", 3, 3, "msr",
               "unknown key \"enable\" (msr accepts enabled, force, "
               "devicePath)");
  expect_error("err_unknown_key_case.yaml", 2, 3, "rapl_energy",
               "unknown key \"MSRMinInterval\" (keys are case-sensitive: did "
               "you mean \"msrMinInterval\"?)");
  expect_error("err_kepler_key_elsewhere.yaml", 3, 3, "host",
               "unknown key \"level\"");
  expect_error("err_section_case.yaml", 1, 1, NULL,
               "unknown section \"Host\" (section names are case-sensitive: "
               "did you mean \"host\"?)");
  expect_error("err_dup_key.yaml", 4, 3, "msr.enabled",
               "duplicate key (first at line 2, column 3)");
  expect_error("err_dup_section.yaml", 5, 1, "msr",
               "duplicate section (first at line 1, column 1)");
  expect_error("err_complex_key.yaml", 1, 3, NULL,
               "expected a section name, found a list");
}

static void test_syntax_errors(void **state) {
  (void)state;
  expect_error("err_syntax.yaml", 3, 2, NULL,
               "YAML syntax error: did not find expected key");
  expect_error("err_syntax_flow.yaml", 3, 1, "rapl.zones",
               "YAML syntax error: did not find expected ',' or ']'");
  expect_error("err_tab.yaml", 2, 1, "msr", "YAML syntax error");
  expect_error("err_utf8.yaml", 2, 14, NULL,
               "invalid YAML input: invalid leading UTF-8 octet");
  expect_error("err_tag.yaml", 2, 12, "msr.enabled",
               "explicit tags are not supported, found the tag "
               "\"tag:yaml.org,2002:bool\"");
}

static void test_alias_errors(void **state) {
  (void)state;
  expect_error("err_alias.yaml", 4, 12, "msr.enabled",
               "aliases are not supported, found an alias to the anchor "
               "\"yes\"");
  expect_error("err_alias_section.yaml", 3, 7, "host",
               "aliases are not supported");
}

/* Decision: a file without settings must say so with {}; an empty file, a
 * file of comments only (what a truncating editor leaves for a moment) or
 * an empty document is refused, and live reload keeps the last good
 * configuration. */
static void test_not_a_mapping(void **state) {
  (void)state;
  expect_error("err_empty.yaml", 0, 0, NULL,
               "expected a mapping at the top level, found an empty file");
  expect_error("err_comments_only.yaml", 0, 0, NULL,
               "expected a mapping at the top level, found an empty file");
  expect_error("err_null_document.yaml", 2, 1, NULL,
               "expected a mapping at the top level, found an empty "
               "document");
  expect_error("err_not_mapping_scalar.yaml", 1, 1, NULL,
               "expected a mapping at the top level, found the string "
               "\"msr.enabled=true\"");
  expect_error("err_not_mapping_list.yaml", 1, 1, NULL,
               "expected a mapping at the top level, found a list");
  expect_error("err_multi_doc.yaml", 3, 1, NULL,
               "expected a single YAML document, found a second one");
}

/* ----------------------------------------------------------- hostile input */

static void test_depth_limit(void **state) {
  (void)state;
  char err[1024];
  struct rapl_config cfg;
  expect_error("err_depth.yaml", 3, 36, NULL, "nesting deeper than 32 levels");
  /* The top-level mapping is level 1: 31 lists more is exactly 32. */
  for (int lists = 30; lists <= 32; lists++) {
    char yaml[256];
    int n = snprintf(yaml, sizeof(yaml), "web: ");
    for (int i = 0; i < lists; i++)
      yaml[n++] = '[';
    for (int i = 0; i < lists; i++)
      yaml[n++] = ']';
    yaml[n] = '\0';
    rapl_config_defaults(&cfg);
    int rc = load_string(yaml, &cfg, err, sizeof(err));
    if (lists + 1 <= RAPL_YAML_MAX_DEPTH) {
      assert_int_equal(rc, 0);
    } else {
      assert_int_equal(rc, -1);
      assert_string_equal(err, "inline.yaml:1:37: nesting deeper than 32 "
                               "levels is not accepted");
    }
  }
  /* Nesting under a section the plugin reads counts the same way. */
  rapl_config_defaults(&cfg);
  assert_int_equal(load_string("msr:\n  enabled: [[[[[[[[[[[[[[[[[[[[[[[[[[["
                               "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
                               "]]]]",
                               &cfg, err, sizeof(err)),
                   -1);
  assert_non_null(strstr(err, "expected a boolean, found a list"));
}

/* Exactly 1 MiB loads; one byte more is refused before it is read. */
static void test_size_limit(void **state) {
  (void)state;
  static const char head[] = "rapl_energy:\n  reportPower: false\n";
  size_t size = RAPL_YAML_MAX_BYTES;
  char *big = malloc(size + 2);
  char err[1024];
  struct rapl_config cfg, before;
  assert_non_null(big);
  memcpy(big, head, sizeof(head) - 1);
  memset(big + sizeof(head) - 1, '#', size - (sizeof(head) - 1));
  big[sizeof(head) - 1] = '#';
  big[size - 1] = '\n';
  write_file(tmp_file("limit.yaml"), big, size);
  rapl_config_defaults(&cfg);
  assert_int_equal(
      rapl_config_load_yaml(tmp_file("limit.yaml"), &cfg, err, sizeof(err)), 0);
  assert_false(cfg.report_power);

  big[size - 1] = '#';
  big[size] = '\n';
  write_file(tmp_file("over.yaml"), big, size + 1);
  rapl_config_defaults(&cfg);
  memcpy(&before, &cfg, sizeof(cfg));
  assert_int_equal(
      rapl_config_load_yaml(tmp_file("over.yaml"), &cfg, err, sizeof(err)), -1);
  assert_non_null(strstr(err, "over.yaml: the file is 1048577 bytes, larger "
                              "than the limit of 1048576 bytes (1 MiB)"));
  assert_memory_equal(&cfg, &before, sizeof(cfg));

  assert_int_equal(rapl_config_load_yaml_buffer("big", big, size + 1, &cfg, err,
                                                sizeof(err)),
                   -1);
  assert_non_null(strstr(err, "big: the file is 1048577 bytes"));
  free(big);
}

static void test_unreadable_files(void **state) {
  (void)state;
  char err[1024];
  struct rapl_config cfg;
  rapl_config_defaults(&cfg);
  assert_int_equal(
      rapl_config_load_yaml(tmp_file("missing.yaml"), &cfg, err, sizeof(err)),
      -1);
  assert_non_null(strstr(err, "missing.yaml: cannot open: No such file"));
  assert_int_equal(rapl_config_load_yaml(tmp_dir, &cfg, err, sizeof(err)), -1);
  assert_non_null(strstr(err, ": not a regular file"));
  /* A FIFO must neither hang the reader nor be read. */
  assert_int_equal(mkfifo(tmp_file("fifo.yaml"), 0600), 0);
  assert_int_equal(
      rapl_config_load_yaml(tmp_file("fifo.yaml"), &cfg, err, sizeof(err)), -1);
  assert_non_null(strstr(err, "fifo.yaml: not a regular file"));
}

/* Nothing from the file reaches a format string; long values are cut. */
static void test_hostile_text(void **state) {
  (void)state;
  char err[1024];
  struct rapl_config cfg;
  rapl_config_defaults(&cfg);
  assert_int_equal(
      load_string("msr:\n  \"%s%n%n%x\": 1\n", &cfg, err, sizeof(err)), -1);
  assert_non_null(strstr(err, "unknown key \"%s%n%n%x\""));
  assert_int_equal(
      load_string("msr:\n  devicePath: /dev/%n/%d\n", &cfg, err, sizeof(err)),
      -1);
  assert_non_null(strstr(err, "\"/dev/%n/%d\" may contain only one %d"));
  assert_int_equal(
      load_string("host:\n  sysfs: \"%s%s%s\"\n", &cfg, err, sizeof(err)), -1);
  assert_non_null(strstr(err, "found the relative path \"%s%s%s\""));

  char yaml[1200];
  int n = snprintf(yaml, sizeof(yaml), "msr:\n  ");
  memset(yaml + n, 'k', 1000);
  snprintf(yaml + n + 1000, sizeof(yaml) - (size_t)n - 1000, ": 1\n");
  assert_int_equal(load_string(yaml, &cfg, err, sizeof(err)), -1);
  assert_non_null(strstr(err, "kkkk\"... (msr accepts"));
  assert_true(strlen(err) < 300);

  /* A long value in a setter's message (path, template, zone name) is cut
   * visibly and the message keeps its end. */
  static const char *const long_keys[] = {
      "host:\n  sysfs: ", "msr:\n  devicePath: /dev/cpu/", "rapl:\n  zones: [",
      NULL};
  static const char *const endings[] = {"\"...",
                                        "\"... must contain exactly one %d "
                                        "(the CPU number), found 0",
                                        "\"... (expected package, core, "
                                        "uncore, dram or psys)"};
  for (int k = 0; long_keys[k] != NULL; k++) {
    char text[2100];
    n = snprintf(text, sizeof(text), "%s", long_keys[k]);
    memset(text + n, 'q', 900);
    snprintf(text + n + 900, sizeof(text) - (size_t)n - 900, "%s\n",
             k == 2 ? "]" : "");
    char big_err[2048];
    assert_int_equal(load_string(text, &cfg, big_err, sizeof(big_err)), -1);
    size_t elen = strlen(big_err), flen = strlen(endings[k]);
    if (elen < flen || strcmp(big_err + elen - flen, endings[k]) != 0)
      fail_msg("message does not end in \"%s\": %s", endings[k], big_err);
  }

  /* A message buffer too small or absent is not overrun. */
  char tiny[16];
  assert_int_equal(load_string(yaml, &cfg, tiny, sizeof(tiny)), -1);
  assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
  assert_int_equal(load_string(yaml, &cfg, NULL, 0), -1);
}

/* ------------------------------------------------------------------ trust */

static const char trust_yaml[] = "msr:\n"
                                 "  enabled: true\n"
                                 "  force: true\n"
                                 "rapl_energy:\n"
                                 "  reportPower: false\n"
                                 "host:\n"
                                 "  sysfs: /file/sys\n";

/* chown needs root; without it those checks are said to be left out. */
static bool as_root(const char *what) {
  if (geteuid() == 0)
    return true;
  print_message("not root: the checks of %s did not run\n", what);
  return false;
}

/* Loads `path` on top of the defaults; returns the info. */
static void load_info(const char *path, struct rapl_config *cfg,
                      struct rapl_yaml_file_info *info) {
  char err[2048] = "";
  rapl_config_defaults(cfg);
  if (rapl_config_load_yaml_file(path, cfg, info, err, sizeof(err)) != 0) {
    print_error("unexpected error: %s\n", err);
    fail();
  }
}

/* Loads a file that others could have written: the MSR switches keep their
 * value, every other key applies, and the reason names what is wrong. */
static void expect_withheld(const char *path, const char *why) {
  struct rapl_config cfg;
  struct rapl_yaml_file_info info;
  load_info(path, &cfg, &info);
  assert_false(cfg.msr_enabled);
  assert_false(cfg.msr_force);
  assert_false(cfg.report_power);
  assert_string_equal(cfg.sysfs_path, "/file/sys");
  if (strcmp(info.why, why) != 0)
    fail_msg("why: \"%s\", expected \"%s\"", info.why, why);
  assert_string_equal(info.withheld, "msr.enabled: true (line 2, column 12) "
                                     "and msr.force: true (line 3, column 10)");
  assert_string_equal(info.withheld_keys,
                      "msr.enabled: true and msr.force: true");
}

static void expect_applied(const char *path) {
  struct rapl_config cfg;
  struct rapl_yaml_file_info info;
  load_info(path, &cfg, &info);
  if (info.why[0] != '\0')
    fail_msg("%s: unexpectedly not trusted: %s", path, info.why);
  assert_true(cfg.msr_enabled);
  assert_true(cfg.msr_force);
  assert_false(cfg.report_power);
  assert_string_equal(info.withheld, "");
}

/* Like sshd's StrictModes: the file and every directory above it belong to
 * root (or collectd's user) and no one else can write them. */
static void test_msr_switches_need_a_trusted_file(void **state) {
  (void)state;
  char dir[512], file[600], msg[1200];
  snprintf(dir, sizeof(dir), "%s/conf", tmp_dir);
  snprintf(file, sizeof(file), "%s/rapl_energy.yaml", dir);
  assert_int_equal(mkdir(dir, 0755), 0);
  assert_int_equal(chmod(dir, 0755), 0);
  write_file(file, trust_yaml, strlen(trust_yaml));
  assert_int_equal(chmod(file, 0644), 0);
  expect_applied(file);

  assert_int_equal(chmod(file, 0664), 0);
  expect_withheld(file, "the file is writable by its group (mode 0664)");
  assert_int_equal(chmod(file, 0646), 0);
  expect_withheld(file, "the file is writable by everyone (mode 0646)");
  assert_int_equal(chmod(file, 0600), 0);
  if (as_root("ownership of the file and its directory")) {
    assert_int_equal(chown(file, 65534, 0), 0);
    expect_withheld(file, "the file is owned by uid 65534, not root");
    assert_int_equal(chown(file, 0, 0), 0);
    expect_applied(file);
    assert_int_equal(chown(dir, 65534, 0), 0);
    snprintf(msg, sizeof(msg),
             "the directory %s is owned by uid 65534, not root", dir);
    expect_withheld(file, msg);
    assert_int_equal(chown(dir, 0, 0), 0);
  }

  /* The directory: someone who can write it can replace the file. */
  assert_int_equal(chmod(dir, 0775), 0);
  snprintf(msg, sizeof(msg),
           "the directory %s is writable by its group (mode 0775)", dir);
  expect_withheld(file, msg);
  assert_int_equal(chmod(dir, 0755), 0);
  /* Sticky, like /tmp: others cannot replace an entry that is not theirs. */
  assert_int_equal(chmod(dir, 01777), 0);
  expect_applied(file);
  assert_int_equal(chmod(dir, 0777), 0);
  snprintf(msg, sizeof(msg),
           "the directory %s is writable by everyone (mode 0777)", dir);
  expect_withheld(file, msg);
  assert_int_equal(chmod(dir, 0755), 0);

  unlink(file);
  rmdir(dir);
}

/* Symbolic links: the link itself, and the directories of the file it leads
 * to, count as well as the path as written. */
static void test_trust_through_symlinks(void **state) {
  (void)state;
  char good[512], bad[512], file[600], link[600], msg[1200];
  snprintf(good, sizeof(good), "%s/good", tmp_dir);
  snprintf(bad, sizeof(bad), "%s/bad", tmp_dir);
  assert_int_equal(mkdir(good, 0755), 0);
  assert_int_equal(mkdir(bad, 0755), 0);
  assert_int_equal(chmod(bad, 0777), 0);
  snprintf(file, sizeof(file), "%s/target.yaml", bad);
  snprintf(link, sizeof(link), "%s/rapl_energy.yaml", good);
  write_file(file, trust_yaml, strlen(trust_yaml));
  assert_int_equal(chmod(file, 0644), 0);
  assert_int_equal(symlink(file, link), 0);
  snprintf(msg, sizeof(msg),
           "the directory %s is writable by everyone (mode 0777)", bad);
  expect_withheld(link, msg);
  assert_int_equal(chmod(bad, 0755), 0);
  expect_applied(link);
  if (as_root("ownership of the link")) {
    assert_int_equal(lchown(link, 65534, 65534), 0);
    snprintf(msg, sizeof(msg),
             "the symbolic link %s is owned by uid 65534, not root", link);
    expect_withheld(link, msg);
  }

  unlink(link);
  unlink(file);
  rmdir(good);
  rmdir(bad);
}

/* collectd's own user may own the file too (here uid 1000 stands for it). */
static void test_trust_for_another_euid(void **state) {
  (void)state;
  char file[600], why[1200];
  struct stat st;
  if (!as_root("ownership by collectd's user"))
    return;
  snprintf(file, sizeof(file), "%s/euid.yaml", tmp_dir);
  write_file(file, trust_yaml, strlen(trust_yaml));
  assert_int_equal(chmod(file, 0600), 0);
  assert_int_equal(chown(file, 1000, 1000), 0);
  assert_int_equal(stat(file, &st), 0);
  assert_true(rapl_config_file_trusted(file, &st, 1000, why, sizeof(why)));
  assert_false(rapl_config_file_trusted(file, &st, 0, why, sizeof(why)));
  assert_string_equal(why, "the file is owned by uid 1000, not root");
  assert_int_equal(chown(file, 65534, 65534), 0);
  assert_int_equal(stat(file, &st), 0);
  assert_false(rapl_config_file_trusted(file, &st, 1000, why, sizeof(why)));
  assert_string_equal(why, "the file is owned by uid 65534, neither root nor "
                           "uid 1000 (collectd's user)");
  unlink(file);
}

/* Only the switches that would change something are reported; their
 * rapl_energy: spelling is withheld as well, and wins as it always does. */
static void test_withheld_where_it_matters(void **state) {
  (void)state;
  char file[600];
  struct rapl_config cfg;
  struct rapl_yaml_file_info info;
  char err[2048] = "";
  static const char yaml[] = "msr:\n"
                             "  enabled: true\n"
                             "  force: true\n"
                             "rapl_energy:\n"
                             "  msrForce: false\n";
  snprintf(file, sizeof(file), "%s/where.yaml", tmp_dir);
  write_file(file, yaml, strlen(yaml));
  assert_int_equal(chmod(file, 0666), 0);
  rapl_config_defaults(&cfg);
  cfg.msr_enabled = true; /* from collectd.conf: the file agrees */
  cfg.msr_force = true;   /* the file says false */
  assert_int_equal(
      rapl_config_load_yaml_file(file, &cfg, &info, err, sizeof(err)), 0);
  assert_true(cfg.msr_enabled);
  assert_true(cfg.msr_force);
  assert_string_equal(info.why, "the file is writable by everyone (mode 0666)");
  assert_string_equal(info.withheld,
                      "rapl_energy.msrForce: false (line 5, column 13)");

  /* The file agrees on both: nothing withheld, nothing to say. */
  rapl_config_defaults(&cfg);
  cfg.msr_enabled = true;
  assert_int_equal(
      rapl_config_load_yaml_file(file, &cfg, &info, err, sizeof(err)), 0);
  assert_string_equal(info.withheld, "");
  assert_string_equal(info.withheld_keys, "");
  assert_true(info.why[0] != '\0');
  unlink(file);
}

/* The fuzzer's seeds (and any crash it found, kept as a seed) go through
 * the loader at every `make check`. */
static void test_fuzz_seeds(void **state) {
  (void)state;
  char dir[1200];
  snprintf(dir, sizeof(dir), "%s/../fuzz/config_yaml", fixture_dir);
  DIR *d = opendir(dir);
  assert_non_null(d);
  int files = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    char path[1600], err[1024] = "";
    if (e->d_name[0] == '.')
      continue;
    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
    struct rapl_config cfg;
    rapl_config_defaults(&cfg);
    if (rapl_config_load_yaml(path, &cfg, err, sizeof(err)) != 0)
      assert_true(err[0] != '\0');
    files++;
  }
  closedir(d);
  assert_true(files >= 5);
}

static int setup(void **state) {
  (void)state;
  const char *top = getenv("abs_top_srcdir");
  snprintf(fixture_dir, sizeof(fixture_dir), "%s/t/data/yaml",
           top && top[0] ? top : ".");
  const char *tmp = getenv("TMPDIR");
  snprintf(tmp_dir, sizeof(tmp_dir), "%s/test_config_yaml.XXXXXX",
           tmp && tmp[0] ? tmp : "/tmp");
  return mkdtemp(tmp_dir) == NULL ? -1 : 0;
}

static int teardown(void **state) {
  (void)state;
  static const char *const names[] = {"limit.yaml", "over.yaml", "fifo.yaml"};
  for (size_t i = 0; i < 3; i++)
    unlink(tmp_file(names[i]));
  return rmdir(tmp_dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kepler_example),
      cmocka_unit_test(test_kepler_full),
      cmocka_unit_test(test_plugin_section),
      cmocka_unit_test(test_plugin_section_wins),
      cmocka_unit_test(test_precedence),
      cmocka_unit_test(test_sets_nothing),
      cmocka_unit_test(test_empty_zone_list_means_all),
      cmocka_unit_test(test_anchors_in_ignored_sections),
      cmocka_unit_test(test_boolean_spellings),
      cmocka_unit_test(test_boolean_rejections),
      cmocka_unit_test(test_type_errors),
      cmocka_unit_test(test_path_errors),
      cmocka_unit_test(test_key_errors),
      cmocka_unit_test(test_syntax_errors),
      cmocka_unit_test(test_alias_errors),
      cmocka_unit_test(test_not_a_mapping),
      cmocka_unit_test(test_depth_limit),
      cmocka_unit_test(test_size_limit),
      cmocka_unit_test(test_unreadable_files),
      cmocka_unit_test(test_hostile_text),
      cmocka_unit_test(test_msr_switches_need_a_trusted_file),
      cmocka_unit_test(test_trust_through_symlinks),
      cmocka_unit_test(test_trust_for_another_euid),
      cmocka_unit_test(test_withheld_where_it_matters),
      cmocka_unit_test(test_fuzz_seeds),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
