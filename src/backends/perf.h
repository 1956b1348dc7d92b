/* The perf_event power PMU backend's seam and parsers, exposed for the
 * tests: perf_event_open(2) cannot be served by a filesystem, so every call
 * goes through rapl_perf_open, which a test points at its simulator. */
#ifndef RAPL_PERF_H
#define RAPL_PERF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct perf_event_attr;
struct rapl_cpu_model;

/* perf_event_open(2)'s signature: a descriptor, or -1 with errno set. */
typedef int (*rapl_perf_open_fn)(struct perf_event_attr *attr, pid_t pid,
                                 int cpu, int group_fd, unsigned long flags);

/* Replaces the system call (NULL restores it). Not thread-safe: set it
 * before the reader runs. */
void rapl_perf_set_open(rapl_perf_open_fn fn);

/* The kernel's events/<name>.scale, e.g. "2.3283064365386962890625e-10\n":
 * a finite positive decimal, whatever the process's locale. 0 or -EBADMSG. */
int rapl_perf_parse_scale(const char *text, double *out);

/* The kernel's events/<name>, "event=0x02\n", into the config value.
 * 0 or -EBADMSG (other terms, garbage, more than 64 bits). */
int rapl_perf_parse_event(const char *text, uint64_t *config);

/* Why perf_event_open refused a system-wide event with errno err (EACCES
 * or EPERM): says which of the three grants is missing. paranoid is
 * kernel.perf_event_paranoid, or RAPL_PERF_PARANOID_UNKNOWN; perfmon and
 * sys_admin are 1 when the capability is effective, 0 when not, -1 when
 * unknown. */
#define RAPL_PERF_PARANOID_UNKNOWN (-1000)
void rapl_perf_refusal(char *out, size_t outlen, const char *event, int cpu,
                       int err, const char *paranoid_path, int paranoid,
                       int perfmon, int sys_admin);

/* The models whose perf driver counts DRAM as if its unit were 2^-16 J
 * (RAPL_UNIT_QUIRK_INTEL_HSW), transcribed from arch/x86/events/rapl.c. */
struct rapl_perf_quirk_row {
  unsigned vfm;       /* RAPL_IFM(family, model) */
  const char *name;   /* the kernel's constant, e.g. "INTEL_SKYLAKE_X" */
  const char *source; /* the struct rapl_model the row points to */
};
extern const struct rapl_perf_quirk_row rapl_perf_dram_quirk_models[];
extern const size_t rapl_perf_dram_quirk_models_len;

/* What energy-ram's counts must be multiplied by, on top of .scale, to be
 * the joules powercap and the MSRs report for model m: the true DRAM unit
 * over 2^-16 J where the perf driver applies that quirk and the model has
 * a fixed DRAM unit (1.0027 for 15.3 uJ), else 1. *quirk_only is set when
 * the driver applies the quirk but powercap knows no fixed unit
 * (BROADWELL_D): the two interfaces then disagree and nothing can tell
 * which is right. */
double rapl_perf_dram_factor(const struct rapl_cpu_model *m, int *quirk_only);

#endif
