/* Logging for the reader core. The core never knows who listens: the collectd
 * glue routes messages into plugin_log, tests capture them, tools print them.
 */
#ifndef RAPL_LOG_H
#define RAPL_LOG_H

#include <stdarg.h>
#include <stddef.h>

/* Same numbers as syslog's, which collectd uses too. */
enum rapl_log_level {
  RAPL_LOG_ERR = 3,
  RAPL_LOG_WARNING = 4,
  RAPL_LOG_NOTICE = 5,
  RAPL_LOG_INFO = 6,
  RAPL_LOG_DEBUG = 7
};

/* One size for the messages the core and the backends compose: as large as
 * the longest line a scan log keeps, so that a message is cut at most once,
 * where the caller's buffer is smaller. */
#define RAPL_MSG_MAX 2048
/* The longest message a sink is given, in bytes. collectd's plugin_log keeps
 * 1023 bytes, "rapl_energy: " included; a longer message is cut here, on a
 * character boundary, and ends in RAPL_LOG_CUT so that the cut shows. */
#define RAPL_LOG_MAX 1000
#define RAPL_LOG_CUT "... [message cut]"

typedef void (*rapl_log_sink)(int level, const char *message, void *ud);

/* NULL restores the default sink, which writes to stderr. */
void rapl_log_set_sink(rapl_log_sink sink, void *ud);

/* Messages longer than RAPL_LOG_MAX end in RAPL_LOG_CUT rather than being
 * cut silently. */
void rapl_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* vsnprintf into a fixed buffer that ends with "..." when the text did not
 * fit, so that a cut message never passes for a whole one. Returns out. */
char *rapl_msg(char *out, size_t outlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
char *rapl_vmsg(char *out, size_t outlen, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#endif
