#include "scan_log.h"

#include "rapl_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static uint64_t fnv1a(const char *s) {
  uint64_t h = UINT64_C(0xcbf29ce484222325);
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * UINT64_C(0x100000001b3);
  return h;
}

void rapl_scan_log_begin(struct rapl_scan_log *l) { l->n_cur = 0; }

void rapl_scan_log(struct rapl_scan_log *l, int level, const char *fmt, ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  uint64_t h = fnv1a(msg);
  if (l->n_cur < RAPL_SCAN_LOG_MEMORY)
    l->cur[l->n_cur++] = h;
  for (size_t i = 0; i < l->n_prev; i++)
    if (l->prev[i] == h)
      return;
  rapl_log(level, "%s", msg);
}

void rapl_scan_log_end(struct rapl_scan_log *l) {
  memcpy(l->prev, l->cur, l->n_cur * sizeof(l->cur[0]));
  l->n_prev = l->n_cur;
}
