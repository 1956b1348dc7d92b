#include "cpulist.h"

#include <stdio.h>
#include <string.h>

/* Reads a decimal number below RAPL_CPU_LIMIT at *p; advances *p. */
static int parse_number(const char **p, long *value, char *err, size_t errlen) {
  const char *s = *p;
  long v = 0;
  if (*s < '0' || *s > '9') {
    snprintf(err, errlen, "expected a CPU number at \"%.16s\"", s);
    return -1;
  }
  while (*s >= '0' && *s <= '9') {
    v = v * 10 + (*s - '0');
    if (v >= RAPL_CPU_LIMIT) {
      snprintf(err, errlen, "CPU number too large (limit %d)",
               RAPL_CPU_LIMIT - 1);
      return -1;
    }
    s++;
  }
  *value = v;
  *p = s;
  return 0;
}

int rapl_cpulist_parse(const char *text, int *cpus, size_t max, size_t *n,
                       char *err, size_t errlen) {
  const char *p = text;
  size_t count = 0;
  long next_min = 0; /* entries must be strictly ascending */

  *n = 0;
  if (text == NULL) {
    snprintf(err, errlen, "no CPU list");
    return -1;
  }
  if (p[0] == '\0' || (p[0] == '\n' && p[1] == '\0'))
    return 0;
  for (;;) {
    long lo, hi;
    if (parse_number(&p, &lo, err, errlen) < 0)
      return -1;
    hi = lo;
    if (*p == '-') {
      p++;
      if (parse_number(&p, &hi, err, errlen) < 0)
        return -1;
      if (hi < lo) {
        snprintf(err, errlen, "reversed CPU range %ld-%ld", lo, hi);
        return -1;
      }
    }
    if (lo < next_min) {
      snprintf(err, errlen,
               "CPU %ld out of order or repeated (lists are ascending)", lo);
      return -1;
    }
    if ((size_t)(hi - lo) + 1 > max - count) {
      snprintf(err, errlen, "more than %zu CPUs listed", max);
      return -1;
    }
    for (long c = lo; c <= hi; c++)
      cpus[count++] = (int)c;
    next_min = hi + 1;
    if (*p == ',') {
      p++;
      continue;
    }
    if (*p == '\n' && p[1] == '\0')
      break;
    if (*p == '\0')
      break;
    snprintf(err, errlen, "unexpected character 0x%02x in CPU list",
             (unsigned char)*p);
    return -1;
  }
  *n = count;
  return 0;
}
