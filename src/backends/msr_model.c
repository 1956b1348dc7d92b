#include "msr_model.h"

#include "sysfs_file.h"

#include "rapl_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Model numbers, named as arch/x86/include/asm/intel-family.h names them. */
enum {
  INTEL_SANDYBRIDGE = RAPL_IFM(6, 0x2A),
  INTEL_SANDYBRIDGE_X = RAPL_IFM(6, 0x2D),
  INTEL_IVYBRIDGE = RAPL_IFM(6, 0x3A),
  INTEL_IVYBRIDGE_X = RAPL_IFM(6, 0x3E),
  INTEL_HASWELL = RAPL_IFM(6, 0x3C),
  INTEL_HASWELL_X = RAPL_IFM(6, 0x3F),
  INTEL_HASWELL_L = RAPL_IFM(6, 0x45),
  INTEL_HASWELL_G = RAPL_IFM(6, 0x46),
  INTEL_BROADWELL = RAPL_IFM(6, 0x3D),
  INTEL_BROADWELL_G = RAPL_IFM(6, 0x47),
  INTEL_BROADWELL_X = RAPL_IFM(6, 0x4F),
  INTEL_BROADWELL_D = RAPL_IFM(6, 0x56),
  INTEL_SKYLAKE_L = RAPL_IFM(6, 0x4E),
  INTEL_SKYLAKE = RAPL_IFM(6, 0x5E),
  INTEL_SKYLAKE_X = RAPL_IFM(6, 0x55), /* also Cascade Lake, Cooper Lake */
  INTEL_KABYLAKE_L = RAPL_IFM(6, 0x8E),
  INTEL_KABYLAKE = RAPL_IFM(6, 0x9E),
  INTEL_COMETLAKE = RAPL_IFM(6, 0xA5),
  INTEL_COMETLAKE_L = RAPL_IFM(6, 0xA6),
  INTEL_CANNONLAKE_L = RAPL_IFM(6, 0x66),
  INTEL_ICELAKE_X = RAPL_IFM(6, 0x6A),
  INTEL_ICELAKE_D = RAPL_IFM(6, 0x6C),
  INTEL_ICELAKE = RAPL_IFM(6, 0x7D),
  INTEL_ICELAKE_L = RAPL_IFM(6, 0x7E),
  INTEL_ICELAKE_NNPI = RAPL_IFM(6, 0x9D),
  INTEL_ROCKETLAKE = RAPL_IFM(6, 0xA7),
  INTEL_TIGERLAKE_L = RAPL_IFM(6, 0x8C),
  INTEL_TIGERLAKE = RAPL_IFM(6, 0x8D),
  INTEL_SAPPHIRERAPIDS_X = RAPL_IFM(6, 0x8F),
  INTEL_EMERALDRAPIDS_X = RAPL_IFM(6, 0xCF),
  INTEL_GRANITERAPIDS_X = RAPL_IFM(6, 0xAD),
  INTEL_GRANITERAPIDS_D = RAPL_IFM(6, 0xAE),
  INTEL_BARTLETTLAKE = RAPL_IFM(6, 0xD7),
  INTEL_LAKEFIELD = RAPL_IFM(6, 0x8A),
  INTEL_ALDERLAKE = RAPL_IFM(6, 0x97),
  INTEL_ALDERLAKE_L = RAPL_IFM(6, 0x9A),
  INTEL_RAPTORLAKE = RAPL_IFM(6, 0xB7),
  INTEL_RAPTORLAKE_P = RAPL_IFM(6, 0xBA),
  INTEL_RAPTORLAKE_S = RAPL_IFM(6, 0xBF),
  INTEL_METEORLAKE = RAPL_IFM(6, 0xAC),
  INTEL_METEORLAKE_L = RAPL_IFM(6, 0xAA),
  INTEL_ARROWLAKE_H = RAPL_IFM(6, 0xC5),
  INTEL_ARROWLAKE = RAPL_IFM(6, 0xC6),
  INTEL_ARROWLAKE_U = RAPL_IFM(6, 0xB5),
  INTEL_LUNARLAKE_M = RAPL_IFM(6, 0xBD),
  INTEL_PANTHERLAKE_L = RAPL_IFM(6, 0xCC),
  INTEL_WILDCATLAKE_L = RAPL_IFM(6, 0xD5),
  INTEL_NOVALAKE = RAPL_IFM(18, 0x01),
  INTEL_NOVALAKE_L = RAPL_IFM(18, 0x03),
  INTEL_ATOM_SILVERMONT = RAPL_IFM(6, 0x37),
  INTEL_ATOM_SILVERMONT_D = RAPL_IFM(6, 0x4D),
  INTEL_ATOM_SILVERMONT_MID = RAPL_IFM(6, 0x4A),
  INTEL_ATOM_SILVERMONT_MID2 = RAPL_IFM(6, 0x5A), /* was ATOM_AIRMONT_MID */
  INTEL_ATOM_AIRMONT = RAPL_IFM(6, 0x4C),
  INTEL_ATOM_GOLDMONT = RAPL_IFM(6, 0x5C),
  INTEL_ATOM_GOLDMONT_D = RAPL_IFM(6, 0x5F),
  INTEL_ATOM_GOLDMONT_PLUS = RAPL_IFM(6, 0x7A),
  INTEL_ATOM_TREMONT_D = RAPL_IFM(6, 0x86),
  INTEL_ATOM_TREMONT = RAPL_IFM(6, 0x96),
  INTEL_ATOM_TREMONT_L = RAPL_IFM(6, 0x9C),
  INTEL_ATOM_GRACEMONT = RAPL_IFM(6, 0xBE),
  INTEL_ATOM_CRESTMONT_X = RAPL_IFM(6, 0xAF),
  INTEL_ATOM_CRESTMONT = RAPL_IFM(6, 0xB6),
  INTEL_ATOM_DARKMONT_X = RAPL_IFM(6, 0xDD),
  INTEL_XEON_PHI_KNL = RAPL_IFM(6, 0x57),
  INTEL_XEON_PHI_KNM = RAPL_IFM(6, 0x85),
};

/* Fixed units; the kernel writes them in nJ (15300, 1000000000). */
#define DRAM_15_3_UJ 15.3e-6
#define PSYS_1_J 1.0
/* The unit register's rules: 1/2^ESU J, 2^ESU uJ. */
#define ESU_J RAPL_ESU_FRACTION
#define ESU_UJ RAPL_ESU_ATOM_MICRO

/* Columns: model (vendor, family, model), rule for the unit register, fixed
 * DRAM unit, fixed psys unit (0: the register's), the kernel struct the
 * units come from. */
#define ROW(vfm, rule, dram, psys, source)                                     \
  { vfm, false, #vfm, source, rule, dram, psys }
#define FAMILY(vendor, family, name, rule, dram, psys, source)                 \
  { RAPL_VFM(vendor, family, 0), true, name, source, rule, dram, psys }

/* The one model table. Rows and units come from Linux:
 * - drivers/powercap/intel_rapl_common.c, rapl_ids[] and the rapl_defaults_*
 *   structs it points to (tree of January 2026): the units the powercap
 *   backend's zones are computed with, so both backends report the same
 *   quantity. Where perf or turbostat disagree (Broadwell-D DRAM), the
 *   powercap driver wins for that reason.
 * - tools/power/x86/turbostat/turbostat.c, turbostat_pdata[] and its
 *   platform_features, for models whose powercap zones come from TPMI
 *   (Granite Rapids, Sierra Forest, ...) or that the powercap driver does not
 *   list, but whose RAPL MSRs turbostat reads.
 * t/data/kernel-rapl-models.txt transcribes both; test_msr_model holds this
 * table against it. */
// clang-format off
const struct rapl_model_row rapl_model_table[] = {
    /* intel_rapl_common.c rapl_ids[] */
    ROW(INTEL_SANDYBRIDGE, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_SANDYBRIDGE_X, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_IVYBRIDGE, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_IVYBRIDGE_X, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_HASWELL, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_HASWELL_L, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_HASWELL_G, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_HASWELL_X, ESU_J, DRAM_15_3_UJ, 0, "rapl_defaults_hsw_server"),
    ROW(INTEL_BROADWELL, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_BROADWELL_G, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_BROADWELL_D, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_BROADWELL_X, ESU_J, DRAM_15_3_UJ, 0, "rapl_defaults_hsw_server"),
    ROW(INTEL_SKYLAKE, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_SKYLAKE_L, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_SKYLAKE_X, ESU_J, DRAM_15_3_UJ, 0, "rapl_defaults_hsw_server"),
    ROW(INTEL_KABYLAKE_L, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_KABYLAKE, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_CANNONLAKE_L, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_ICELAKE_L, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_ICELAKE, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_ICELAKE_NNPI, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_ICELAKE_X, ESU_J, DRAM_15_3_UJ, 0, "rapl_defaults_hsw_server"),
    ROW(INTEL_ICELAKE_D, ESU_J, DRAM_15_3_UJ, 0, "rapl_defaults_hsw_server"),
    ROW(INTEL_COMETLAKE_L, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_COMETLAKE, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_TIGERLAKE_L, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_TIGERLAKE, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_ROCKETLAKE, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_ALDERLAKE, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_ALDERLAKE_L, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_ATOM_GRACEMONT, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_RAPTORLAKE, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_RAPTORLAKE_P, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_RAPTORLAKE_S, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_BARTLETTLAKE, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_METEORLAKE, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_METEORLAKE_L, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_SAPPHIRERAPIDS_X, ESU_J, 0, PSYS_1_J, "rapl_defaults_spr_server"),
    ROW(INTEL_EMERALDRAPIDS_X, ESU_J, 0, PSYS_1_J, "rapl_defaults_spr_server"),
    ROW(INTEL_LUNARLAKE_M, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_PANTHERLAKE_L, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_WILDCATLAKE_L, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_NOVALAKE, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_NOVALAKE_L, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_ARROWLAKE_H, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_ARROWLAKE, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_ARROWLAKE_U, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_LAKEFIELD, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_ATOM_SILVERMONT, ESU_UJ, 0, 0, "rapl_defaults_byt"),
    ROW(INTEL_ATOM_AIRMONT, ESU_UJ, 0, 0, "rapl_defaults_cht"),
    ROW(INTEL_ATOM_SILVERMONT_MID, ESU_UJ, 0, 0, "rapl_defaults_tng"),
    ROW(INTEL_ATOM_SILVERMONT_MID2, ESU_UJ, 0, 0, "rapl_defaults_ann"),
    ROW(INTEL_ATOM_GOLDMONT, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_ATOM_GOLDMONT_PLUS, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_ATOM_GOLDMONT_D, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_ATOM_TREMONT, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_ATOM_TREMONT_D, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_ATOM_TREMONT_L, ESU_J, 0, 0, "rapl_defaults_core"),
    ROW(INTEL_XEON_PHI_KNL, ESU_J, DRAM_15_3_UJ, 0, "rapl_defaults_hsw_server"),
    ROW(INTEL_XEON_PHI_KNM, ESU_J, DRAM_15_3_UJ, 0, "rapl_defaults_hsw_server"),
    FAMILY(RAPL_VENDOR_AMD, 0x17, "AMD family 17h", ESU_J, 0, 0, "rapl_defaults_amd"),
    FAMILY(RAPL_VENDOR_AMD, 0x19, "AMD family 19h", ESU_J, 0, 0, "rapl_defaults_amd"),
    FAMILY(RAPL_VENDOR_AMD, 0x1A, "AMD family 1Ah", ESU_J, 0, 0, "rapl_defaults_amd"),
    FAMILY(RAPL_VENDOR_HYGON, 0x18, "Hygon family 18h", ESU_J, 0, 0, "rapl_defaults_amd"),
    /* turbostat.c turbostat_pdata[]: models rapl_ids[] does not list */
    ROW(INTEL_GRANITERAPIDS_X, ESU_J, 0, PSYS_1_J, "turbostat spr_features"),
    ROW(INTEL_GRANITERAPIDS_D, ESU_J, 0, PSYS_1_J, "turbostat spr_features"),
    ROW(INTEL_ATOM_CRESTMONT_X, ESU_J, 0, 0, "turbostat srf_features"),
    ROW(INTEL_ATOM_CRESTMONT, ESU_J, 0, 0, "turbostat grr_features"),
    ROW(INTEL_ATOM_DARKMONT_X, ESU_J, 0, 0, "turbostat srf_features"),
    ROW(INTEL_ATOM_SILVERMONT_D, ESU_J, 0, 0, "turbostat slvd_features"),
};
// clang-format on
const size_t rapl_model_table_len =
    sizeof(rapl_model_table) / sizeof(rapl_model_table[0]);

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
            rapl_msg(err, errlen, "cpuinfo: bad cpu family \"%.20s\"", value);
            return -1;
          }
          have_family = true;
        } else if (strcmp(buf, "model") == 0) {
          if (parse_uint(value, &m->model) < 0) {
            rapl_msg(err, errlen, "cpuinfo: bad model \"%.20s\"", value);
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
    rapl_msg(err, errlen, "cpuinfo: no %s line",
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
    rapl_msg(err, errlen, "cannot open %s: %s", path, strerror(errno));
    return -1;
  }
  char *text = malloc(CPUINFO_MAX);
  if (text == NULL) {
    close(fd);
    rapl_msg(err, errlen, "out of memory");
    return -1;
  }
  size_t got = 0;
  int rc = rapl_read_all(fd, text, CPUINFO_MAX - 1, &got);
  if (rc < 0) {
    rapl_msg(err, errlen, "cannot read %s: %s", path, strerror(-rc));
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
    rapl_msg(err, errlen, "%s: %s", path, why);
  return rc;
}

const struct rapl_model_row *
rapl_msr_model_find(const struct rapl_cpu_model *m) {
  for (size_t i = 0; i < rapl_model_table_len; i++) {
    const struct rapl_model_row *r = &rapl_model_table[i];
    if (RAPL_VFM_VENDOR(r->vfm) == m->vendor &&
        RAPL_VFM_FAMILY(r->vfm) == m->family &&
        (r->any_model || RAPL_VFM_MODEL(r->vfm) == m->model))
      return r;
  }
  return NULL;
}

/* "AMD families 17h, 19h, 1Ah, Hygon family 18h", from the table. */
static void amd_families(char *out, size_t outlen) {
  size_t used = 0;
  out[0] = '\0';
  for (size_t i = 0; i < rapl_model_table_len && used < outlen; i++) {
    const struct rapl_model_row *r = &rapl_model_table[i];
    if (!r->any_model)
      continue;
    int n =
        snprintf(out + used, outlen - used, "%s%s", used ? ", " : "", r->name);
    if (n < 0)
      break;
    used += (size_t)n;
  }
}

int rapl_msr_layout_for(const struct rapl_cpu_model *m,
                        struct rapl_msr_layout *layout, char *err,
                        size_t errlen) {
  char families[256];
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
    /* The AMD registers are not architectural: only the families the model
     * table lists have them. */
    if (rapl_msr_model_find(m) != NULL) {
      layout->unit = RAPL_MSR_AMD_POWER_UNIT;
      layout->reg[RAPL_ZONE_PACKAGE] = RAPL_MSR_AMD_PKG_ENERGY;
      layout->reg[RAPL_ZONE_CORE] = RAPL_MSR_AMD_CORE_ENERGY;
      layout->per_core[RAPL_ZONE_CORE] = true;
      layout->per_package = true;
      return 0;
    }
    amd_families(families, sizeof(families));
    rapl_msg(err, errlen,
             "%s CPU family %u (0x%x) has no RAPL MSRs known to this plugin "
             "(supported: %s)",
             m->vendor_id, m->family, m->family, families);
    return -1;
  case RAPL_VENDOR_UNKNOWN:
  default:
    rapl_msg(err, errlen,
             "CPU vendor \"%s\" is not supported by the MSR backend (Intel, "
             "AMD and Hygon are)",
             m->vendor_id);
    return -1;
  }
}

static unsigned esu_of(uint64_t unit_reg) {
  return (unsigned)((unit_reg >> 8) & 0x1f);
}

double rapl_msr_energy_unit(uint64_t unit_reg) {
  return 1.0 / (double)(1ull << esu_of(unit_reg));
}

double rapl_msr_zone_unit_explain(const struct rapl_cpu_model *m,
                                  enum rapl_zone_kind kind, uint64_t unit_reg,
                                  char *text, size_t textlen) {
  const struct rapl_model_row *r = rapl_msr_model_find(m);
  unsigned esu = esu_of(unit_reg);
  double j = 0;

  if (r != NULL && kind == RAPL_ZONE_DRAM && r->dram_j > 0)
    j = r->dram_j;
  else if (r != NULL && kind == RAPL_ZONE_PSYS && r->psys_j > 0)
    j = r->psys_j;
  if (j > 0) {
    rapl_msg(text, textlen, "fixed for %s on %s, %s", rapl_zone_kind_name(kind),
             r->name, r->source);
    return j;
  }
  if (r != NULL && r->esu_rule == RAPL_ESU_ATOM_MICRO) {
    rapl_msg(text, textlen, "2^%u uJ from the unit register, %s, %s", esu,
             r->name, r->source);
    return (double)(1ull << esu) * 1e-6;
  }
  if (r != NULL)
    rapl_msg(text, textlen, "1/2^%u J from the unit register, %s, %s", esu,
             r->name, r->source);
  else
    rapl_msg(text, textlen,
             "1/2^%u J from the unit register: %s family %u model 0x%x is "
             "not in the kernel's model table, so the architectural rule",
             esu, m->vendor_id, m->family, m->model);
  return rapl_msr_energy_unit(unit_reg);
}

double rapl_msr_zone_unit(const struct rapl_cpu_model *m,
                          enum rapl_zone_kind kind, uint64_t unit_reg) {
  char text[256];
  return rapl_msr_zone_unit_explain(m, kind, unit_reg, text, sizeof(text));
}

void rapl_format_joules(double joules, char *out, size_t outlen) {
  if (joules >= 1e-3)
    rapl_msg(out, outlen, "%.6g J", joules);
  else
    rapl_msg(out, outlen, "%.5g uJ", joules * 1e6);
}
