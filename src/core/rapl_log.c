#include "rapl_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

char *rapl_vmsg(char *out, size_t outlen, const char *fmt, va_list ap) {
  int n = vsnprintf(out, outlen, fmt, ap);
  if (n < 0 && outlen > 0)
    out[0] = '\0';
  else if ((size_t)n >= outlen && outlen > 3)
    memcpy(out + outlen - 4, "...", 4);
  return out;
}

char *rapl_msg(char *out, size_t outlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  rapl_vmsg(out, outlen, fmt, ap);
  va_end(ap);
  return out;
}

void rapl_log(int level, const char *fmt, ...) {
  char message[RAPL_LOG_MAX + 1];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(message, sizeof(message), fmt, ap);
  va_end(ap);
  if (n > RAPL_LOG_MAX) {
    size_t keep = RAPL_LOG_MAX - (sizeof(RAPL_LOG_CUT) - 1);
    /* Not in the middle of a UTF-8 sequence. */
    while (keep > 0 && ((unsigned char)message[keep] & 0xc0) == 0x80)
      keep--;
    memcpy(message + keep, RAPL_LOG_CUT, sizeof(RAPL_LOG_CUT));
  }
  current_sink(level, message, current_ud);
}
