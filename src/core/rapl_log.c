#include "rapl_log.h"

#include <stdarg.h>
#include <stdio.h>

static void stderr_sink(int level, const char *message, void *ud) {
  (void)ud;
  fprintf(stderr, "rapl_energy[%d]: %s\n", level, message);
}

static rapl_log_sink current_sink = stderr_sink;
static void *current_ud;

void rapl_log_set_sink(rapl_log_sink sink, void *ud) {
  current_sink = sink ? sink : stderr_sink;
  current_ud = sink ? ud : NULL;
}

void rapl_log(int level, const char *fmt, ...) {
  char message[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof(message), fmt, ap);
  va_end(ap);
  current_sink(level, message, current_ud);
}
