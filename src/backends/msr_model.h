/* What the backends need to know about the CPU: vendor, family and model
 * from <procfs>/cpuinfo, the RAPL register addresses per vendor, and the one
 * model table (energy units per model, as the kernel's drivers have them).
 * Also the message helper both backends format their reasons with. */
#ifndef RAPL_MSR_MODEL_H
#define RAPL_MSR_MODEL_H

#include "rapl_log.h"
#include "zone_kind.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rapl_cpu_vendor {
  RAPL_VENDOR_UNKNOWN,
  RAPL_VENDOR_INTEL,
  RAPL_VENDOR_AMD,
  RAPL_VENDOR_HYGON
};

struct rapl_cpu_model {
  enum rapl_cpu_vendor vendor;
  char vendor_id[32]; /* as cpuinfo spells it, for messages */
  unsigned family;
  unsigned model;
};

/* Parses the first processor's vendor_id, "cpu family" and "model" (decimal)
 * from cpuinfo text. Returns 0, or -1 with err filled. */
int rapl_cpu_model_parse(const char *text, struct rapl_cpu_model *m, char *err,
                         size_t errlen);

/* Reads <procfs>/cpuinfo and parses it. */
int rapl_cpu_model_read(const char *procfs, struct rapl_cpu_model *m, char *err,
                        size_t errlen);

/* Intel */
#define RAPL_MSR_INTEL_POWER_UNIT 0x606u
#define RAPL_MSR_INTEL_PKG_ENERGY 0x611u
#define RAPL_MSR_INTEL_DRAM_ENERGY 0x619u
#define RAPL_MSR_INTEL_PP0_ENERGY 0x639u
#define RAPL_MSR_INTEL_PP1_ENERGY 0x641u
#define RAPL_MSR_INTEL_PLATFORM_ENERGY 0x64Du
/* AMD family 17h/19h/1Ah, Hygon 18h */
#define RAPL_MSR_AMD_POWER_UNIT 0xC0010299u
#define RAPL_MSR_AMD_CORE_ENERGY 0xC001029Au
#define RAPL_MSR_AMD_PKG_ENERGY 0xC001029Bu

struct rapl_msr_layout {
  uint64_t unit;                       /* energy unit register */
  uint64_t reg[RAPL_ZONE_KIND_COUNT];  /* 0: the vendor has no such register */
  bool per_core[RAPL_ZONE_KIND_COUNT]; /* one counter per physical core */
  bool per_package; /* sockets are packages: die_id is ignored (AMD) */
};

/* The register layout for this CPU; -1 with err when the MSR backend does
 * not know the vendor or family. */
int rapl_msr_layout_for(const struct rapl_cpu_model *m,
                        struct rapl_msr_layout *layout, char *err,
                        size_t errlen);

/* How bits 12:8 (ESU) of the unit register turn into joules per count. */
enum rapl_esu_rule {
  /* 1/2^ESU J: the architectural rule (the kernel's rapl_check_unit_core). */
  RAPL_ESU_FRACTION,
  /* 2^ESU uJ: Silvermont and Airmont Atoms (rapl_check_unit_atom). */
  RAPL_ESU_ATOM_MICRO,
};

/* A CPU model as the kernel names it (arch/x86/include/asm/intel-family.h):
 * vendor in bits 23:16, family in 15:8, model in 7:0. */
#define RAPL_VFM(vendor, family, model)                                        \
  (((unsigned)(vendor) << 16) | ((unsigned)(family) << 8) | (unsigned)(model))
#define RAPL_IFM(family, model) RAPL_VFM(RAPL_VENDOR_INTEL, family, model)
#define RAPL_VFM_VENDOR(vfm) ((enum rapl_cpu_vendor)((vfm) >> 16))
#define RAPL_VFM_FAMILY(vfm) (((vfm) >> 8) & 0xffu)
#define RAPL_VFM_MODEL(vfm) ((vfm)&0xffu)

/* One row of the model table: what the kernel knows about a model's energy
 * units. dram_j and psys_j are fixed units that replace the unit register's
 * for that domain; 0 when the register's rule applies. */
struct rapl_model_row {
  unsigned vfm;
  bool any_model;     /* every model of the family (AMD, Hygon) */
  const char *name;   /* the kernel's constant, e.g. "INTEL_HASWELL_X" */
  const char *source; /* the kernel struct the units come from */
  enum rapl_esu_rule esu_rule;
  double dram_j;
  double psys_j;
};

/* The table, for tests that hold it against a transcription of the kernel's;
 * the backend uses rapl_msr_model_find. */
extern const struct rapl_model_row rapl_model_table[];
extern const size_t rapl_model_table_len;

/* The row for this CPU, or NULL when the kernel's table does not list it. */
const struct rapl_model_row *
rapl_msr_model_find(const struct rapl_cpu_model *m);

/* 1/2^ESU joules, ESU being bits 12:8 of the unit register. */
double rapl_msr_energy_unit(uint64_t unit_reg);

/* Joules per counter unit for a zone: the model's fixed unit where it has one
 * for this kind, else the unit register read by the model's rule (the
 * architectural 1/2^ESU J for models the table does not list). */
double rapl_msr_zone_unit(const struct rapl_cpu_model *m,
                          enum rapl_zone_kind kind, uint64_t unit_reg);

/* Like rapl_msr_zone_unit, and says in text where the unit comes from, for
 * the log: "1/2^14 J from the unit register, INTEL_SKYLAKE_X,
 * rapl_defaults_hsw_server". */
double rapl_msr_zone_unit_explain(const struct rapl_cpu_model *m,
                                  enum rapl_zone_kind kind, uint64_t unit_reg,
                                  char *text, size_t textlen);

/* A unit as the log shows it: "61.035 uJ", "15.3 uJ", "1 J". */
void rapl_format_joules(double joules, char *out, size_t outlen);

#endif
