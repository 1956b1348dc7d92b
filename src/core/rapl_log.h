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

/* Room for any message the core composes: two paths and a reason. */
#define RAPL_MESSAGE_MAX 4096
/* The longest message a sink is given, in bytes. collectd's plugin_log keeps
 * 1023 bytes, "rapl_energy: " included; a longer message is cut here, on a
 * character boundary, and ends in RAPL_LOG_CUT so that the cut shows. */
#define RAPL_LOG_MAX 1000
#define RAPL_LOG_CUT "... [message cut]"

typedef void (*rapl_log_sink)(int level, const char *message, void *ud);

/* NULL restores the default sink, which writes to stderr. */
void rapl_log_set_sink(rapl_log_sink sink, void *ud);

/* Messages longer than RAPL_MESSAGE_MAX end in "..." rather than being cut
 * silently. */
void rapl_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* snprintf that ends a message that does not fit in "..."; returns out. */
char *rapl_message(char *out, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
