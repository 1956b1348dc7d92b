/* Logging for a backend's open(). The reader calls open() again at every
 * read while a zone is lost, so a message is logged only when the previous
 * scan did not log it: a lasting problem is reported once, and again only
 * after it cleared and came back. One instance per backend; the reader calls
 * backends from one thread at a time. */
#ifndef RAPL_SCAN_LOG_H
#define RAPL_SCAN_LOG_H

#include <stddef.h>
#include <stdint.h>

#define RAPL_SCAN_LOG_MEMORY 32

struct rapl_scan_log {
  uint64_t prev[RAPL_SCAN_LOG_MEMORY];
  uint64_t cur[RAPL_SCAN_LOG_MEMORY];
  size_t n_prev;
  size_t n_cur;
};

void rapl_scan_log_begin(struct rapl_scan_log *l);
void rapl_scan_log(struct rapl_scan_log *l, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void rapl_scan_log_end(struct rapl_scan_log *l);

#endif
