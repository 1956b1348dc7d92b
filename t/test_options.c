/* The option table (src/core/rapl_options.c) is what the <Plugin
 * rapl_energy> parser, the YAML loader and rapl-energy-probe read: each of
 * its options must work the same way in all three, and its defaults must be
 * the defaults. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "collectd_config.h"
#include "config_yaml.h"
#include "fixture.h"
#include "rapl_options.h"
#include "zone_kind.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static void ids_are_indices_and_names_unique(void **state) {
  (void)state;
  for (size_t i = 0; i < RAPL_OPT_COUNT; i++) {
    const struct rapl_option *o = &rapl_options[i];
    assert_int_equal(o->id, i);
    assert_non_null(o->collectd_key);
    assert_non_null(o->value_name);
    assert_non_null(o->default_text);
    assert_non_null(o->help);
    assert_null(strchr(o->help, '\n'));
    assert_ptr_equal(rapl_option_by_collectd_key(o->collectd_key), o);
    if (o->flag != NULL)
      assert_ptr_equal(rapl_option_by_flag(o->flag), o);
    for (size_t k = 0; k < RAPL_OPTION_YAML_MAX && o->yaml[k].section; k++) {
      bool known = false;
      for (size_t s = 0; rapl_yaml_sections[s]; s++)
        known |= strcmp(rapl_yaml_sections[s], o->yaml[k].section) == 0;
      assert_true(known);
      assert_ptr_equal(rapl_option_by_yaml_key(o->yaml[k].section,
                                               o->yaml[k].key,
                                               strlen(o->yaml[k].key)),
                       o);
    }
    for (size_t j = 0; j < i; j++) {
      assert_int_not_equal(
          strcasecmp(o->collectd_key, rapl_options[j].collectd_key), 0);
      if (o->flag && rapl_options[j].flag)
        assert_string_not_equal(o->flag, rapl_options[j].flag);
    }
  }
}

/* default_text, applied the way the probe applies an argument, gives the
 * built-in defaults, and the defaults print as default_text. */
static void defaults_are_the_defaults(void **state) {
  (void)state;
  struct rapl_config defaults, cfg;
  char err[512], text[256];
  rapl_config_defaults(&defaults);
  memset(&cfg, 0, sizeof(cfg));
  for (size_t i = 0; i < RAPL_OPT_COUNT; i++) {
    const struct rapl_option *o = &rapl_options[i];
    rapl_option_format(o, &defaults, text, sizeof(text));
    assert_string_equal(text, o->default_text);
    if (o->id == RAPL_OPT_CONFIG_FILE)
      continue; /* none: not part of a rapl_config */
    if (rapl_option_set_arg(o, &cfg, o->collectd_key, o->default_text, err,
                            sizeof(err)) != 0)
      fail_msg("%s: %s", o->collectd_key, err);
  }
  assert_true(rapl_config_same(&cfg, &defaults));
}

/* A value other than the default, for each type, and how it prints. */
static void sample(const struct rapl_option *o, const char **arg,
                   const char **shown) {
  switch (o->type) {
  case RAPL_OPT_PATH:
    *arg = *shown = "/host/x";
    return;
  case RAPL_OPT_TEMPLATE:
    *arg = *shown = "/host/dev/cpu%d/msr";
    return;
  case RAPL_OPT_ZONES:
    *arg = *shown = "dram";
    return;
  case RAPL_OPT_SECONDS:
    *arg = *shown = "7";
    return;
  case RAPL_OPT_BOOL:
    *arg = *shown = strcmp(o->default_text, "true") == 0 ? "false" : "true";
    return;
  }
}

static void expect_option(const struct rapl_option *o,
                          const struct rapl_config *cfg, const char *shown,
                          const char *front_end) {
  char text[256];
  struct rapl_config defaults, masked;
  rapl_option_format(o, cfg, text, sizeof(text));
  if (strcmp(text, shown) != 0)
    fail_msg("%s through %s: found %s, expected %s", o->collectd_key, front_end,
             text, shown);
  /* Nothing else moved: putting the default back restores the defaults. */
  rapl_config_defaults(&defaults);
  masked = *cfg;
  char err[256];
  assert_int_equal(rapl_option_set_arg(o, &masked, o->collectd_key,
                                       o->default_text, err, sizeof(err)),
                   0);
  if (!rapl_config_same(&masked, &defaults))
    fail_msg("%s through %s changed another option", o->collectd_key,
             front_end);
}

static void collectd_block(const struct rapl_option *o, const char *arg,
                           struct rapl_config *cfg, char *file) {
  oconfig_value_t value;
  oconfig_item_t item, root;
  struct rapl_collectd_blocks blocks = {0};
  bool b;
  memset(&value, 0, sizeof(value));
  memset(&item, 0, sizeof(item));
  memset(&root, 0, sizeof(root));
  if (o->type == RAPL_OPT_BOOL && rapl_option_parse_bool_word(arg, &b)) {
    value.type = OCONFIG_TYPE_BOOLEAN;
    value.value.boolean = b;
  } else if (o->type == RAPL_OPT_SECONDS) {
    value.type = OCONFIG_TYPE_NUMBER;
    value.value.number = 7;
  } else {
    value.type = OCONFIG_TYPE_STRING;
    value.value.string = (char *)arg;
  }
  item.key = (char *)o->collectd_key;
  item.values = &value;
  item.values_num = 1;
  item.parent = &root;
  root.key = "Plugin";
  root.children = &item;
  root.children_num = 1;
  rapl_config_defaults(cfg);
  fixture_logs_reset();
  if (rapl_collectd_config(&root, &blocks, cfg, file, RAPL_PATH_MAX) != 0)
    fail_msg("%s \"%s\": %s", o->collectd_key, arg, fixture_logs());
}

static void every_option_in_every_front_end(void **state) {
  (void)state;
  for (size_t i = 0; i < RAPL_OPT_COUNT; i++) {
    const struct rapl_option *o = &rapl_options[i];
    const char *arg, *shown;
    struct rapl_config cfg;
    char file[RAPL_PATH_MAX] = "";
    char err[1024];
    sample(o, &arg, &shown);

    collectd_block(o, arg, &cfg, file);
    if (o->id == RAPL_OPT_CONFIG_FILE)
      assert_string_equal(file, arg);
    else
      expect_option(o, &cfg, shown, "the collectd block");

    rapl_config_defaults(&cfg);
    if (o->flag != NULL) {
      if (rapl_option_set_arg(o, &cfg, o->flag, arg, err, sizeof(err)) != 0)
        fail_msg("--%s %s: %s", o->flag, arg, err);
      if (o->id != RAPL_OPT_CONFIG_FILE)
        expect_option(o, &cfg, shown, "the probe's flag");
    }

    for (size_t k = 0; k < RAPL_OPTION_YAML_MAX && o->yaml[k].section; k++) {
      char yaml[512];
      snprintf(yaml, sizeof(yaml), "%s:\n  %s: %s%s%s\n", o->yaml[k].section,
               o->yaml[k].key, o->type == RAPL_OPT_ZONES ? "[" : "", arg,
               o->type == RAPL_OPT_ZONES ? "]" : "");
      rapl_config_defaults(&cfg);
      if (rapl_config_load_yaml_buffer("t.yaml", yaml, strlen(yaml), &cfg, err,
                                       sizeof(err)) != 0)
        fail_msg("%s", err);
      expect_option(o, &cfg, shown, o->yaml[k].key);
    }
  }
}

/* Messages that list the options come from the table too. */
static void lists(void **state) {
  (void)state;
  char out[512];
  rapl_option_list_collectd(out, sizeof(out));
  assert_string_equal(out, "SysfsPath, ProcfsPath, Zone, ReportPower, "
                           "ReportEnergy, PerfEnabled, MSREnabled, MSRForce, "
                           "MSRDevicePath, "
                           "MSRMinInterval, ConfigFile");
  rapl_option_list_yaml("msr", out, sizeof(out));
  assert_string_equal(out, "enabled, force, devicePath");
  rapl_option_list_yaml("host", out, sizeof(out));
  assert_string_equal(out, "sysfs, procfs");
}

static void probe_arguments(void **state) {
  (void)state;
  struct rapl_config cfg;
  char err[512];
  const struct rapl_option *zone = &rapl_options[RAPL_OPT_ZONE];
  const struct rapl_option *msr = &rapl_options[RAPL_OPT_MSR_ENABLED];
  const struct rapl_option *min = &rapl_options[RAPL_OPT_MSR_MIN_INTERVAL];
  const struct rapl_option *tmpl = &rapl_options[RAPL_OPT_MSR_DEVICE_PATH];
  rapl_config_defaults(&cfg);
  assert_int_equal(
      rapl_option_set_arg(zone, &cfg, "--zone", "package,DRAM", err, 512), 0);
  assert_int_equal(cfg.zone_mask, RAPL_ZONE_MASK(RAPL_ZONE_PACKAGE) |
                                      RAPL_ZONE_MASK(RAPL_ZONE_DRAM));
  assert_int_equal(rapl_option_set_arg(zone, &cfg, "--zone", "gpu", err, 512),
                   -1);
  assert_string_equal(err, "--zone: unknown zone \"gpu\" (expected package, "
                           "core, uncore, dram or psys)");
  assert_int_equal(rapl_option_set_arg(msr, &cfg, "--msr", "maybe", err, 512),
                   -1);
  assert_non_null(strstr(err, "--msr: expected a boolean"));
  assert_int_equal(
      rapl_option_set_arg(min, &cfg, "--msr-min-interval", "1x", err, 512), -1);
  assert_non_null(strstr(err, "--msr-min-interval: expected a number"));
  assert_int_equal(
      rapl_option_set_arg(min, &cfg, "--msr-min-interval", "4000", err, 512),
      -1);
  assert_string_equal(err, "--msr-min-interval: expected seconds between 0 "
                           "and 3600, found 4000");
  assert_int_equal(rapl_option_set_arg(tmpl, &cfg, "--msr-device-path",
                                       "/dev/cpu/%s", err, 512),
                   -1);
  assert_non_null(strstr(err, "--msr-device-path: \"/dev/cpu/%s\""));
  assert_string_equal(cfg.msr_device_path, "/dev/cpu/%d/msr");
}

int main(void) {
  fixture_capture_logs();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(ids_are_indices_and_names_unique),
      cmocka_unit_test(defaults_are_the_defaults),
      cmocka_unit_test(every_option_in_every_front_end),
      cmocka_unit_test(lists),
      cmocka_unit_test(probe_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
