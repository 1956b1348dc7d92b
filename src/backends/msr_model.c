#include "msr_model.h"

#include "sysfs_file.h"

#include "rapl_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The one quirk table: zones whose unit is fixed by the model rather than
 * read from the unit register. Same rows as the kernel's powercap driver
 * (drivers/powercap/intel_rapl_common.c: rapl_defaults_hsw_server and
 * rapl_defaults_spr_server, dram 15.3 uJ, psys 1 J). */
static const struct rapl_quirk {
  enum rapl_cpu_vendor vendor;
  unsigned family;
  unsigned model;
  enum rapl_zone_kind kind;
  double joules_per_unit;
} quirks[] = {
    {RAPL_VENDOR_INTEL, 6, 0x3F, RAPL_ZONE_DRAM, 15.3e-6}, /* HASWELL_X */
    {RAPL_VENDOR_INTEL, 6, 0x4F, RAPL_ZONE_DRAM, 15.3e-6}, /* BROADWELL_X */
    {RAPL_VENDOR_INTEL, 6, 0x55, RAPL_ZONE_DRAM, 15.3e-6}, /* SKYLAKE_X */
    {RAPL_VENDOR_INTEL, 6, 0x6A, RAPL_ZONE_DRAM, 15.3e-6}, /* ICELAKE_X */
    {RAPL_VENDOR_INTEL, 6, 0x6C, RAPL_ZONE_DRAM, 15.3e-6}, /* ICELAKE_D */
    {RAPL_VENDOR_INTEL, 6, 0x57, RAPL_ZONE_DRAM, 15.3e-6}, /* XEON_PHI_KNL */
    {RAPL_VENDOR_INTEL, 6, 0x85, RAPL_ZONE_DRAM, 15.3e-6}, /* XEON_PHI_KNM */
    {RAPL_VENDOR_INTEL, 6, 0x8F, RAPL_ZONE_PSYS, 1.0}, /* SAPPHIRERAPIDS_X */
    {RAPL_VENDOR_INTEL, 6, 0xCF, RAPL_ZONE_PSYS, 1.0}, /* EMERALDRAPIDS_X */
};

static void trim(char *s) {
  size_t len = strlen(s);
  while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' ||
                     s[len - 1] == '\n' || s[len - 1] == '\r'))
    s[--len] = '\0';
  size_t lead = strspn(s, " \t");
  if (lead)
    memmove(s, s + lead, len - lead + 1);
}

static int parse_uint(const char *s, unsigned *out) {
  unsigned long v = 0;
  if (*s < '0' || *s > '9')
    return -1;
  for (; *s >= '0' && *s <= '9'; s++) {
    v = v * 10 + (unsigned long)(*s - '0');
    if (v > 0xffffu)
      return -1;
  }
  if (*s != '\0')
    return -1;
  *out = (unsigned)v;
  return 0;
}

int rapl_cpu_model_parse(const char *text, struct rapl_cpu_model *m, char *err,
                         size_t errlen) {
  bool have_vendor = false, have_family = false, have_model = false;
  const char *line = text;

  memset(m, 0, sizeof(*m));
  while (*line && !(have_vendor && have_family && have_model)) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    char buf[256];
    if (len == 0 && (have_vendor || have_family || have_model))
      break; /* end of the first processor's block */
    if (len < sizeof(buf)) {
      memcpy(buf, line, len);
      buf[len] = '\0';
      char *colon = strchr(buf, ':');
      if (colon) {
        *colon = '\0';
        char *value = colon + 1;
        trim(buf);
        trim(value);
        if (strcmp(buf, "vendor_id") == 0) {
          snprintf(m->vendor_id, sizeof(m->vendor_id), "%s", value);
          have_vendor = true;
        } else if (strcmp(buf, "cpu family") == 0) {
          if (parse_uint(value, &m->family) < 0) {
            snprintf(err, errlen, "cpuinfo: bad cpu family \"%.20s\"", value);
            return -1;
          }
          have_family = true;
        } else if (strcmp(buf, "model") == 0) {
          if (parse_uint(value, &m->model) < 0) {
            snprintf(err, errlen, "cpuinfo: bad model \"%.20s\"", value);
            return -1;
          }
          have_model = true;
        }
      }
    }
    if (!end)
      break;
    line = end + 1;
  }
  if (!have_vendor || !have_family || !have_model) {
    snprintf(err, errlen, "cpuinfo: no %s line",
             !have_vendor ? "vendor_id"
                          : (!have_family ? "\"cpu family\"" : "model"));
    return -1;
  }
  if (strcmp(m->vendor_id, "GenuineIntel") == 0)
    m->vendor = RAPL_VENDOR_INTEL;
  else if (strcmp(m->vendor_id, "AuthenticAMD") == 0)
    m->vendor = RAPL_VENDOR_AMD;
  else if (strcmp(m->vendor_id, "HygonGenuine") == 0)
    m->vendor = RAPL_VENDOR_HYGON;
  else
    m->vendor = RAPL_VENDOR_UNKNOWN;
  return 0;
}

int rapl_cpu_model_read(const char *procfs, struct rapl_cpu_model *m, char *err,
                        size_t errlen) {
  char path[RAPL_PATH_MAX + 16];
  /* The first processor's block is near the start; 64 KiB is plenty even
   * with very long flags lines. */
  enum { CPUINFO_MAX = 65536 };
  snprintf(path, sizeof(path), "%s/cpuinfo", procfs);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
    return -1;
  }
  char *text = malloc(CPUINFO_MAX);
  if (text == NULL) {
    close(fd);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  size_t got = 0;
  int rc = rapl_read_all(fd, text, CPUINFO_MAX - 1, &got);
  if (rc < 0) {
    snprintf(err, errlen, "cannot read %s: %s", path, strerror(-rc));
    free(text);
    close(fd);
    return -1;
  }
  close(fd);
  text[got] = '\0';
  char why[160];
  rc = rapl_cpu_model_parse(text, m, why, sizeof(why));
  free(text);
  if (rc < 0)
    snprintf(err, errlen, "%s: %s", path, why);
  return rc;
}

int rapl_msr_layout_for(const struct rapl_cpu_model *m,
                        struct rapl_msr_layout *layout, char *err,
                        size_t errlen) {
  memset(layout, 0, sizeof(*layout));
  switch (m->vendor) {
  case RAPL_VENDOR_INTEL:
    /* Every RAPL-capable Intel CPU uses these; a CPU without RAPL fails the
     * unit register read, which the backend reports. */
    layout->unit = RAPL_MSR_INTEL_POWER_UNIT;
    layout->reg[RAPL_ZONE_PACKAGE] = RAPL_MSR_INTEL_PKG_ENERGY;
    layout->reg[RAPL_ZONE_CORE] = RAPL_MSR_INTEL_PP0_ENERGY;
    layout->reg[RAPL_ZONE_UNCORE] = RAPL_MSR_INTEL_PP1_ENERGY;
    layout->reg[RAPL_ZONE_DRAM] = RAPL_MSR_INTEL_DRAM_ENERGY;
    layout->reg[RAPL_ZONE_PSYS] = RAPL_MSR_INTEL_PLATFORM_ENERGY;
    return 0;
  case RAPL_VENDOR_AMD:
  case RAPL_VENDOR_HYGON:
    /* AMD Zen (17h), Zen 3/4 (19h), Zen 5 (1Ah); Hygon Dhyana (18h). */
    if ((m->vendor == RAPL_VENDOR_AMD &&
         (m->family == 0x17 || m->family == 0x19 || m->family == 0x1A)) ||
        (m->vendor == RAPL_VENDOR_HYGON && m->family == 0x18)) {
      layout->unit = RAPL_MSR_AMD_POWER_UNIT;
      layout->reg[RAPL_ZONE_PACKAGE] = RAPL_MSR_AMD_PKG_ENERGY;
      layout->reg[RAPL_ZONE_CORE] = RAPL_MSR_AMD_CORE_ENERGY;
      layout->per_core[RAPL_ZONE_CORE] = true;
      layout->per_package = true;
      return 0;
    }
    snprintf(err, errlen,
             "%s CPU family %u (0x%x) has no RAPL MSRs known to this plugin "
             "(supported: AMD families 17h, 19h and 1Ah, Hygon 18h)",
             m->vendor_id, m->family, m->family);
    return -1;
  case RAPL_VENDOR_UNKNOWN:
  default:
    snprintf(err, errlen,
             "CPU vendor \"%s\" is not supported by the MSR backend (Intel, "
             "AMD and Hygon are)",
             m->vendor_id);
    return -1;
  }
}

double rapl_msr_energy_unit(uint64_t unit_reg) {
  unsigned esu = (unsigned)((unit_reg >> 8) & 0x1f);
  return 1.0 / (double)(1ull << esu);
}

double rapl_msr_zone_unit(const struct rapl_cpu_model *m,
                          enum rapl_zone_kind kind, uint64_t unit_reg) {
  for (size_t i = 0; i < sizeof(quirks) / sizeof(quirks[0]); i++) {
    const struct rapl_quirk *q = &quirks[i];
    if (q->vendor == m->vendor && q->family == m->family &&
        q->model == m->model && q->kind == kind)
      return q->joules_per_unit;
  }
  return rapl_msr_energy_unit(unit_reg);
}
