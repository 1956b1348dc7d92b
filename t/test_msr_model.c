/* CPU model detection, register layouts, energy units (the model table held
 * against a transcription of the kernel's), messages and the capability
 * check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "capability.h"
#include "msr_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char err[256];

/* cmocka 1.1 compares floats only in single precision. */
#define assert_double_equal(a, b, eps)                                         \
  do {                                                                         \
    double a_ = (a), b_ = (b);                                                 \
    if (!(fabs(a_ - b_) <= (eps)))                                             \
      fail_msg("%s = %.17g, expected %.17g", #a, a_, b_);                      \
  } while (0)

static const char *cpuinfo_dir(const char *name) {
  static char path[1024];
  const char *d = getenv("abs_top_srcdir");
  snprintf(path, sizeof(path), "%s/t/data/msr/%s", d && *d ? d : ".", name);
  return path;
}

static void test_cpuinfo_files(void **state) {
  (void)state;
  static const struct {
    const char *dir;
    enum rapl_cpu_vendor vendor;
    unsigned family, model;
  } rows[] = {
      {"intel-skx", RAPL_VENDOR_INTEL, 6, 0x55},
      {"intel-spr", RAPL_VENDOR_INTEL, 6, 0x8F},
      {"intel-adl", RAPL_VENDOR_INTEL, 6, 0x97},
      {"amd-zen3", RAPL_VENDOR_AMD, 0x19, 1},
      {"hygon", RAPL_VENDOR_HYGON, 0x18, 0},
      {"amd-fam16", RAPL_VENDOR_AMD, 0x16, 0x30},
      {"via", RAPL_VENDOR_UNKNOWN, 6, 15},
  };
  for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
    struct rapl_cpu_model m;
    assert_int_equal(
        rapl_cpu_model_read(cpuinfo_dir(rows[i].dir), &m, err, sizeof(err)), 0);
    assert_int_equal(m.vendor, rows[i].vendor);
    assert_int_equal(m.family, rows[i].family);
    assert_int_equal(m.model, rows[i].model);
  }
  struct rapl_cpu_model m;
  /* "model name" is not "model"; a later processor's model does not count */
  assert_int_equal(
      rapl_cpu_model_read(cpuinfo_dir("no-model"), &m, err, sizeof(err)), -1);
  assert_non_null(strstr(err, "no model line"));
  assert_int_equal(
      rapl_cpu_model_read(cpuinfo_dir("missing"), &m, err, sizeof(err)), -1);
  assert_non_null(strstr(err, "cpuinfo"));
}

static void test_cpuinfo_text(void **state) {
  (void)state;
  struct rapl_cpu_model m;
  assert_int_equal(rapl_cpu_model_parse("model name : Foo 85\nvendor_id: "
                                        "GenuineIntel\ncpu family:6\nmodel "
                                        "\t: 106\n",
                                        &m, err, sizeof(err)),
                   0);
  assert_int_equal(m.model, 0x6A);
  assert_int_equal(m.family, 6);
  assert_string_equal(m.vendor_id, "GenuineIntel");
  assert_int_equal(rapl_cpu_model_parse("vendor_id: GenuineIntel\ncpu "
                                        "family: 6\nmodel: 8x5\n",
                                        &m, err, sizeof(err)),
                   -1);
  assert_non_null(strstr(err, "bad model"));
  assert_int_equal(rapl_cpu_model_parse("", &m, err, sizeof(err)), -1);
  assert_non_null(strstr(err, "vendor_id"));
}

static void test_layouts(void **state) {
  (void)state;
  struct rapl_msr_layout l;
  struct rapl_cpu_model intel = {RAPL_VENDOR_INTEL, "GenuineIntel", 6, 0x55};
  assert_int_equal(rapl_msr_layout_for(&intel, &l, err, sizeof(err)), 0);
  assert_int_equal(l.unit, 0x606);
  assert_int_equal(l.reg[RAPL_ZONE_PACKAGE], 0x611);
  assert_int_equal(l.reg[RAPL_ZONE_CORE], 0x639);
  assert_int_equal(l.reg[RAPL_ZONE_UNCORE], 0x641);
  assert_int_equal(l.reg[RAPL_ZONE_DRAM], 0x619);
  assert_int_equal(l.reg[RAPL_ZONE_PSYS], 0x64D);
  assert_false(l.per_core[RAPL_ZONE_CORE]);
  assert_false(l.per_package);

  static const struct rapl_cpu_model amds[] = {
      {RAPL_VENDOR_AMD, "AuthenticAMD", 0x17, 0x31},
      {RAPL_VENDOR_AMD, "AuthenticAMD", 0x19, 0x01},
      {RAPL_VENDOR_AMD, "AuthenticAMD", 0x1A, 0x11},
      {RAPL_VENDOR_HYGON, "HygonGenuine", 0x18, 0x00},
  };
  for (size_t i = 0; i < sizeof(amds) / sizeof(amds[0]); i++) {
    assert_int_equal(rapl_msr_layout_for(&amds[i], &l, err, sizeof(err)), 0);
    assert_int_equal(l.unit, 0xC0010299u);
    assert_int_equal(l.reg[RAPL_ZONE_PACKAGE], 0xC001029Bu);
    assert_int_equal(l.reg[RAPL_ZONE_CORE], 0xC001029Au);
    assert_true(l.per_core[RAPL_ZONE_CORE]);
    assert_true(l.per_package);
    assert_int_equal(l.reg[RAPL_ZONE_UNCORE], 0);
    assert_int_equal(l.reg[RAPL_ZONE_DRAM], 0);
    assert_int_equal(l.reg[RAPL_ZONE_PSYS], 0);
  }
  static const struct rapl_cpu_model unsupported[] = {
      {RAPL_VENDOR_AMD, "AuthenticAMD", 0x16, 0x30},
      {RAPL_VENDOR_AMD, "AuthenticAMD", 0x18, 0x00},
      {RAPL_VENDOR_HYGON, "HygonGenuine", 0x19, 0x00},
      {RAPL_VENDOR_UNKNOWN, "CentaurHauls", 6, 15},
  };
  for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
    err[0] = '\0';
    assert_int_equal(rapl_msr_layout_for(&unsupported[i], &l, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, unsupported[i].vendor_id));
  }
}

static void test_unit_decoding(void **state) {
  (void)state;
  /* A typical Intel client value 0x000A0E03: ESU 14 -> 61.035 uJ */
  assert_double_equal(rapl_msr_energy_unit(0x000A0E03), 1.0 / 16384, 0);
  assert_double_equal(rapl_msr_energy_unit(0x000A0E03) * 1e6, 61.035, 1e-3);
  /* ESU 16 -> 15.259 uJ (AMD 0x000A1003) */
  assert_double_equal(rapl_msr_energy_unit(0x000A1003), 1.0 / 65536, 0);
  assert_double_equal(rapl_msr_energy_unit(0x000A1003) * 1e6, 15.259, 1e-3);
  /* only bits 12:8 count */
  assert_double_equal(rapl_msr_energy_unit(0xFFFFFFFFFFFFE0FFull), 1.0, 0);
  assert_double_equal(rapl_msr_energy_unit(0x1F00), ldexp(1.0, -31), 0);
}

/* ------------------------------------- the kernel's table, transcribed */

/* t/data/kernel-rapl-models.txt: "defaults" rows give a kernel struct's unit
 * rule and fixed units (nJ); "model" rows the models that use it. */
struct kdefaults {
  char name[64];
  bool atom;
  double dram_nj, psys_nj;
};
struct kmodel {
  char source[32], vendor[16], name[64], defaults[64];
  unsigned family;
  int model; /* -1: every model of the family */
  int line;
};

#define MAX_KROWS 128
static struct kdefaults kdef[MAX_KROWS];
static struct kmodel kmod[MAX_KROWS];
static size_t n_kdef, n_kmod;

static void load_transcription(void) {
  const char *top = getenv("abs_top_srcdir");
  char path[1024], line[512];
  snprintf(path, sizeof(path), "%s/t/data/kernel-rapl-models.txt",
           top && *top ? top : ".");
  FILE *f = fopen(path, "r");
  if (f == NULL)
    fail_msg("cannot open %s", path);
  n_kdef = n_kmod = 0;
  for (int ln = 1; fgets(line, sizeof(line), f); ln++) {
    char *hash = strchr(line, '#');
    if (hash)
      *hash = '\0';
    char *tok[8];
    int n = 0;
    for (char *save, *t = strtok_r(line, " \t\n", &save); t && n < 8;
         t = strtok_r(NULL, " \t\n", &save))
      tok[n++] = t;
    if (n == 0)
      continue;
    if (strcmp(tok[0], "defaults") == 0 && n == 5) {
      struct kdefaults *d = &kdef[n_kdef++];
      snprintf(d->name, sizeof(d->name), "%s", tok[1]);
      if (strcmp(tok[2], "atom") != 0 && strcmp(tok[2], "core") != 0)
        fail_msg("line %d: unit rule %s", ln, tok[2]);
      d->atom = strcmp(tok[2], "atom") == 0;
      d->dram_nj = strtod(tok[3], NULL);
      d->psys_nj = strtod(tok[4], NULL);
    } else if (strcmp(tok[0], "model") == 0 && n == 7) {
      struct kmodel *k = &kmod[n_kmod++];
      snprintf(k->source, sizeof(k->source), "%s", tok[1]);
      snprintf(k->vendor, sizeof(k->vendor), "%s", tok[2]);
      k->family = (unsigned)strtoul(tok[3], NULL, 0);
      k->model = strcmp(tok[4], "*") == 0 ? -1 : (int)strtol(tok[4], NULL, 0);
      snprintf(k->name, sizeof(k->name), "%s", tok[5]);
      snprintf(k->defaults, sizeof(k->defaults), "%s", tok[6]);
      k->line = ln;
    } else {
      fail_msg("%s:%d: not a defaults or model row", path, ln);
    }
    assert_true(n_kdef < MAX_KROWS && n_kmod < MAX_KROWS);
  }
  fclose(f);
  assert_true(n_kdef >= 8);
  assert_true(n_kmod >= 60);
}

static const struct kdefaults *kdefaults_of(const struct kmodel *k) {
  for (size_t i = 0; i < n_kdef; i++)
    if (strcmp(kdef[i].name, k->defaults) == 0)
      return &kdef[i];
  fail_msg("line %d: no defaults row %s", k->line, k->defaults);
  return NULL;
}

static struct rapl_cpu_model cpu_of(const struct kmodel *k, unsigned model) {
  struct rapl_cpu_model m = {RAPL_VENDOR_UNKNOWN, "", k->family, model};
  if (strcmp(k->vendor, "intel") == 0) {
    m.vendor = RAPL_VENDOR_INTEL;
    strcpy(m.vendor_id, "GenuineIntel");
  } else if (strcmp(k->vendor, "amd") == 0) {
    m.vendor = RAPL_VENDOR_AMD;
    strcpy(m.vendor_id, "AuthenticAMD");
  } else if (strcmp(k->vendor, "hygon") == 0) {
    m.vendor = RAPL_VENDOR_HYGON;
    strcpy(m.vendor_id, "HygonGenuine");
  } else {
    fail_msg("line %d: vendor %s", k->line, k->vendor);
  }
  return m;
}

/* What the kernel computes for this domain: the struct's fixed unit, else
 * its rule applied to ESU (see the file's header). */
static double kernel_unit(const struct kdefaults *d, enum rapl_zone_kind kind,
                          unsigned esu) {
  if (kind == RAPL_ZONE_DRAM && d->dram_nj > 0)
    return d->dram_nj * 1e-9;
  if (kind == RAPL_ZONE_PSYS && d->psys_nj > 0)
    return d->psys_nj * 1e-9;
  return d->atom ? ldexp(1e-6, (int)esu) : ldexp(1.0, -(int)esu);
}

static void check_model(const struct kmodel *k, unsigned model) {
  struct rapl_cpu_model m = cpu_of(k, model);
  const struct kdefaults *d = kdefaults_of(k);
  const struct rapl_model_row *row = rapl_msr_model_find(&m);
  if (row == NULL)
    fail_msg("line %d: %s (family %u model 0x%x) is not in the model table",
             k->line, k->name, k->family, model);
  if (strcmp(k->name, "-") != 0 && strcmp(row->name, k->name) != 0)
    fail_msg("line %d: family %u model 0x%x is %s in the table, %s in the "
             "kernel",
             k->line, k->family, model, row->name, k->name);
  /* the row names the struct its units come from */
  const char *colon = strchr(k->defaults, ':');
  if (strstr(row->source, colon ? colon + 1 : k->defaults) == NULL)
    fail_msg("line %d: %s cites %s, the kernel %s", k->line, k->name,
             row->source, k->defaults);
  static const unsigned esus[] = {0, 5, 14, 16, 31};
  for (size_t e = 0; e < sizeof(esus) / sizeof(esus[0]); e++) {
    uint64_t reg = UINT64_C(0x000A0003) | (uint64_t)esus[e] << 8;
    for (int kind = 0; kind < RAPL_ZONE_KIND_COUNT; kind++) {
      double want = kernel_unit(d, (enum rapl_zone_kind)kind, esus[e]);
      double got = rapl_msr_zone_unit(&m, (enum rapl_zone_kind)kind, reg);
      if (!(fabs(got - want) <= 1e-12 * want))
        fail_msg("line %d: %s %s at ESU %u: %.9g J, the kernel %.9g J", k->line,
                 k->name, rapl_zone_kind_name((enum rapl_zone_kind)kind),
                 esus[e], got, want);
    }
  }
}

/* Every model of the kernel's table is known to ours, with the kernel's
 * units for every domain. */
static void test_kernel_table(void **state) {
  (void)state;
  load_transcription();
  for (size_t i = 0; i < n_kmod; i++) {
    const struct kmodel *k = &kmod[i];
    if (k->model >= 0) {
      check_model(k, (unsigned)k->model);
    } else {
      static const unsigned any[] = {0x00, 0x01, 0x31, 0x44, 0x71, 0xA0, 0xFF};
      for (size_t j = 0; j < sizeof(any) / sizeof(any[0]); j++)
        check_model(k, any[j]);
    }
  }
}

/* Every row of our table comes from the transcription: nothing invented. */
static void test_table_rows_are_transcribed(void **state) {
  (void)state;
  load_transcription();
  for (size_t i = 0; i < rapl_model_table_len; i++) {
    const struct rapl_model_row *r = &rapl_model_table[i];
    bool found = false;
    for (size_t j = 0; j < n_kmod && !found; j++) {
      const struct kmodel *k = &kmod[j];
      struct rapl_cpu_model m =
          cpu_of(k, k->model < 0 ? 0 : (unsigned)k->model);
      found = RAPL_VFM_VENDOR(r->vfm) == m.vendor &&
              RAPL_VFM_FAMILY(r->vfm) == k->family &&
              (k->model < 0 ? r->any_model
                            : !r->any_model &&
                                  RAPL_VFM_MODEL(r->vfm) == (unsigned)k->model);
    }
    if (!found)
      fail_msg("table row %s (vfm 0x%x) is not in the kernel's table", r->name,
               r->vfm);
  }
}

/* Silvermont/Airmont count 2^ESU uJ, not 1/2^ESU J: at ESU 5, 32 uJ. */
static void test_atom_units(void **state) {
  (void)state;
  static const unsigned atoms[] = {0x37, 0x4A, 0x4C, 0x5A};
  const uint64_t esu5 = 0x00000505;
  for (size_t i = 0; i < sizeof(atoms) / sizeof(atoms[0]); i++) {
    struct rapl_cpu_model m = {RAPL_VENDOR_INTEL, "GenuineIntel", 6, atoms[i]};
    for (int k = 0; k < RAPL_ZONE_KIND_COUNT; k++)
      assert_double_equal(rapl_msr_zone_unit(&m, (enum rapl_zone_kind)k, esu5),
                          32e-6, 0);
  }
  /* Goldmont and Silvermont-D (Avoton) use the architectural rule */
  struct rapl_cpu_model gmt = {RAPL_VENDOR_INTEL, "GenuineIntel", 6, 0x5C};
  assert_double_equal(rapl_msr_zone_unit(&gmt, RAPL_ZONE_PACKAGE, esu5),
                      1.0 / 32, 0);
  struct rapl_cpu_model avoton = {RAPL_VENDOR_INTEL, "GenuineIntel", 6, 0x4D};
  assert_double_equal(rapl_msr_zone_unit(&avoton, RAPL_ZONE_PACKAGE, esu5),
                      1.0 / 32, 0);
}

static void test_quirks(void **state) {
  (void)state;
  const uint64_t esu14 = 0x000A0E03;
  static const unsigned dram_models[] = {0x3F, 0x4F, 0x55, 0x6A,
                                         0x6C, 0x57, 0x85};
  static const unsigned psys_models[] = {0x8F, 0xCF, 0xAD, 0xAE};
  static const enum rapl_zone_kind all[] = {RAPL_ZONE_PACKAGE, RAPL_ZONE_CORE,
                                            RAPL_ZONE_UNCORE, RAPL_ZONE_DRAM,
                                            RAPL_ZONE_PSYS};
  for (size_t i = 0; i < sizeof(dram_models) / sizeof(dram_models[0]); i++) {
    struct rapl_cpu_model m = {RAPL_VENDOR_INTEL, "GenuineIntel", 6,
                               dram_models[i]};
    for (size_t k = 0; k < 5; k++) {
      double want = all[k] == RAPL_ZONE_DRAM ? 15.3e-6 : 1.0 / 16384;
      assert_double_equal(rapl_msr_zone_unit(&m, all[k], esu14), want, 0);
    }
  }
  for (size_t i = 0; i < sizeof(psys_models) / sizeof(psys_models[0]); i++) {
    struct rapl_cpu_model m = {RAPL_VENDOR_INTEL, "GenuineIntel", 6,
                               psys_models[i]};
    for (size_t k = 0; k < 5; k++) {
      double want = all[k] == RAPL_ZONE_PSYS ? 1.0 : 1.0 / 16384;
      assert_double_equal(rapl_msr_zone_unit(&m, all[k], esu14), want, 0);
    }
  }
  /* no quirk: Alder Lake, Broadwell-DE (which only perf and turbostat treat
   * as fixed), Sierra Forest, a model the table does not list, the same
   * model number in another family, AMD */
  static const struct rapl_cpu_model plain[] = {
      {RAPL_VENDOR_INTEL, "GenuineIntel", 6, 0x97},
      {RAPL_VENDOR_INTEL, "GenuineIntel", 6, 0x56},
      {RAPL_VENDOR_INTEL, "GenuineIntel", 6, 0xAF},
      {RAPL_VENDOR_INTEL, "GenuineIntel", 6, 0xFE},
      {RAPL_VENDOR_INTEL, "GenuineIntel", 19, 0x55},
      {RAPL_VENDOR_INTEL, "GenuineIntel", 18, 0x37},
      {RAPL_VENDOR_AMD, "AuthenticAMD", 6, 0x55},
      {RAPL_VENDOR_AMD, "AuthenticAMD", 0x19, 0x8F},
      {RAPL_VENDOR_AMD, "AuthenticAMD", 6, 0x37},
  };
  for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
    for (size_t k = 0; k < 5; k++)
      assert_double_equal(rapl_msr_zone_unit(&plain[i], all[k], 0x1000),
                          1.0 / 65536, 0);
}

/* The text the backend logs says which rule gave the unit, and why. */
static void test_unit_explained(void **state) {
  (void)state;
  char text[256];
  struct rapl_cpu_model skx = {RAPL_VENDOR_INTEL, "GenuineIntel", 6, 0x55};
  assert_double_equal(rapl_msr_zone_unit_explain(&skx, RAPL_ZONE_DRAM, 0x0E00,
                                                 text, sizeof(text)),
                      15.3e-6, 0);
  assert_string_equal(text, "fixed for dram on INTEL_SKYLAKE_X, "
                            "rapl_defaults_hsw_server");
  rapl_msr_zone_unit_explain(&skx, RAPL_ZONE_PACKAGE, 0x0E00, text,
                             sizeof(text));
  assert_string_equal(text, "1/2^14 J from the unit register, "
                            "INTEL_SKYLAKE_X, rapl_defaults_hsw_server");
  struct rapl_cpu_model byt = {RAPL_VENDOR_INTEL, "GenuineIntel", 6, 0x37};
  rapl_msr_zone_unit_explain(&byt, RAPL_ZONE_CORE, 0x0505, text, sizeof(text));
  assert_string_equal(text, "2^5 uJ from the unit register, "
                            "INTEL_ATOM_SILVERMONT, rapl_defaults_byt");
  struct rapl_cpu_model unknown = {RAPL_VENDOR_INTEL, "GenuineIntel", 6, 0xFE};
  rapl_msr_zone_unit_explain(&unknown, RAPL_ZONE_PACKAGE, 0x0E00, text,
                             sizeof(text));
  assert_non_null(strstr(text, "model 0xfe is not in the kernel's model "
                               "table"));
  /* cut text says so */
  rapl_msr_zone_unit_explain(&unknown, RAPL_ZONE_PACKAGE, 0x0E00, text, 20);
  assert_string_equal(text, "1/2^14 J from th...");

  char j[32];
  rapl_format_joules(1.0 / 16384, j, sizeof(j));
  assert_string_equal(j, "61.035 uJ");
  rapl_format_joules(1.0, j, sizeof(j));
  assert_string_equal(j, "1 J");
  rapl_format_joules(32e-6, j, sizeof(j));
  assert_string_equal(j, "32 uJ");
}

static void test_msg_marks_cuts(void **state) {
  (void)state;
  char buf[8];
  assert_string_equal(rapl_msg(buf, sizeof(buf), "%s", "1234567"), "1234567");
  assert_string_equal(rapl_msg(buf, sizeof(buf), "%s", "12345678"), "1234...");
  assert_string_equal(rapl_msg(buf, 4, "%s", "abcdef"), "...");
  assert_string_equal(rapl_msg(buf, 2, "%s", "abcdef"), "a");
}

static void test_cap_status_text(void **state) {
  (void)state;
  const char *with = "Name:\tx\nCapInh:\t0000000000000000\n"
                     "CapEff:\t0000000000020000\nCapBnd:\t000001ffffffffff\n";
  const char *without = "CapEff:\t000001fffffdffff\n";
  assert_int_equal(
      rapl_cap_effective_in_status(with, RAPL_CAP_SYS_RAWIO, err, sizeof(err)),
      1);
  assert_int_equal(rapl_cap_effective_in_status(with, 16, err, sizeof(err)), 0);
  assert_int_equal(rapl_cap_effective_in_status(without, RAPL_CAP_SYS_RAWIO,
                                                err, sizeof(err)),
                   0);
  assert_int_equal(
      rapl_cap_effective_in_status("CapEff:\tzz\n", 17, err, sizeof(err)), -1);
  assert_int_equal(
      rapl_cap_effective_in_status("Name: x\n", 17, err, sizeof(err)), -1);
  assert_non_null(strstr(err, "CapEff"));
}

/* The capget answer matches /proc/self/status (test_msr drops the
 * capability in a child and checks probe's message). */
static void test_cap_effective(void **state) {
  (void)state;
  char status[8192];
  FILE *f = fopen("/proc/self/status", "r");
  assert_non_null(f);
  size_t n = fread(status, 1, sizeof(status) - 1, f);
  fclose(f);
  status[n] = '\0';
  int from_status = rapl_cap_effective_in_status(status, RAPL_CAP_SYS_RAWIO,
                                                 err, sizeof(err));
  int from_capget = rapl_cap_effective(RAPL_CAP_SYS_RAWIO, err, sizeof(err));
  assert_true(from_status == 0 || from_status == 1);
  assert_int_equal(from_capget, from_status);
  assert_int_equal(rapl_cap_effective(99, err, sizeof(err)), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cpuinfo_files),
      cmocka_unit_test(test_cpuinfo_text),
      cmocka_unit_test(test_layouts),
      cmocka_unit_test(test_unit_decoding),
      cmocka_unit_test(test_kernel_table),
      cmocka_unit_test(test_table_rows_are_transcribed),
      cmocka_unit_test(test_atom_units),
      cmocka_unit_test(test_quirks),
      cmocka_unit_test(test_unit_explained),
      cmocka_unit_test(test_msg_marks_cuts),
      cmocka_unit_test(test_cap_status_text),
      cmocka_unit_test(test_cap_effective),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
