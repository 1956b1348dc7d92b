/* What the MSR backend needs to know about the CPU: vendor, family and model
 * from <procfs>/cpuinfo, the RAPL register addresses per vendor, and the one
 * table of model quirks (fixed energy units). */
#ifndef RAPL_MSR_MODEL_H
#define RAPL_MSR_MODEL_H

#include "zone_kind.h"

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

/* 1/2^ESU joules, ESU being bits 12:8 of the unit register. */
double rapl_msr_energy_unit(uint64_t unit_reg);

/* Joules per counter unit for a zone: the quirk table's fixed unit where this
 * model has one for this zone, else rapl_msr_energy_unit(unit_reg). */
double rapl_msr_zone_unit(const struct rapl_cpu_model *m,
                          enum rapl_zone_kind kind, uint64_t unit_reg);

#endif
