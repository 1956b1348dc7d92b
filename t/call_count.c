/* Counts the C library calls a code path makes, for the read-path tests
 * and the benchmark. A program links this file with -Wl,--wrap for each
 * function below (CALL_COUNT_WRAP in Makefile.am), so that every call the
 * reader core and the backends make goes through a counter; the counters
 * move only while call_counting is true. */
#include "call_count.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool call_counting;
struct call_counts calls;

void call_count_start(void) {
  memset(&calls, 0, sizeof(calls));
  call_counting = true;
}

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
char *__real_realpath(const char *path, char *resolved);
int __real_open(const char *path, int flags, ...);
int __real_close(int fd);
ssize_t __real_pread(int fd, void *buf, size_t n, off_t off);
ssize_t __real_read(int fd, void *buf, size_t n);
int __real_stat(const char *path, struct stat *st);
int __real_lstat(const char *path, struct stat *st);
int __real_fstat(int fd, struct stat *st);
int __real_scandir(const char *dir, struct dirent ***list,
                   int (*filter)(const struct dirent *),
                   int (*compar)(const struct dirent **,
                                 const struct dirent **));
DIR *__real_opendir(const char *path);
int __real_access(const char *path, int mode);
FILE *__real_fopen(const char *path, const char *mode);
ssize_t __real_readlink(const char *path, char *buf, size_t len);
struct dirent *__real_readdir(DIR *d);
int __real_closedir(DIR *d);

void *__wrap_malloc(size_t size) {
  calls.alloc += call_counting;
  return __real_malloc(size);
}
void *__wrap_calloc(size_t n, size_t size) {
  calls.alloc += call_counting;
  return __real_calloc(n, size);
}
void *__wrap_realloc(void *p, size_t size) {
  calls.alloc += call_counting;
  return __real_realloc(p, size);
}
/* realpath(path, NULL) allocates and makes several calls: counted as one of
 * each, which is enough to fail a read path that uses it. */
char *__wrap_realpath(const char *path, char *resolved) {
  calls.sys += call_counting;
  calls.alloc += call_counting && resolved == NULL;
  return __real_realpath(path, resolved);
}
int __wrap_open(const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  int mode = va_arg(ap, int);
  va_end(ap);
  calls.sys += call_counting;
  calls.open += call_counting;
  return __real_open(path, flags, mode);
}
int __wrap_close(int fd) {
  calls.sys += call_counting;
  return __real_close(fd);
}
ssize_t __wrap_pread(int fd, void *buf, size_t n, off_t off) {
  calls.sys += call_counting;
  calls.pread += call_counting;
  return __real_pread(fd, buf, n, off);
}
ssize_t __wrap_read(int fd, void *buf, size_t n) {
  calls.sys += call_counting;
  calls.read += call_counting;
  return __real_read(fd, buf, n);
}
int __wrap_stat(const char *path, struct stat *st) {
  calls.sys += call_counting;
  return __real_stat(path, st);
}
int __wrap_lstat(const char *path, struct stat *st) {
  calls.sys += call_counting;
  return __real_lstat(path, st);
}
int __wrap_fstat(int fd, struct stat *st) {
  calls.sys += call_counting;
  return __real_fstat(fd, st);
}
/* scandir: at least an open, a getdents and a close, and allocations. */
int __wrap_scandir(const char *dir, struct dirent ***list,
                   int (*filter)(const struct dirent *),
                   int (*compar)(const struct dirent **,
                                 const struct dirent **)) {
  calls.sys += 3 * call_counting;
  calls.open += call_counting;
  calls.alloc += call_counting;
  return __real_scandir(dir, list, filter, compar);
}
DIR *__wrap_opendir(const char *path) {
  calls.sys += call_counting;
  calls.open += call_counting;
  calls.alloc += call_counting;
  return __real_opendir(path);
}
/* One getdents serves many entries; call_counting each entry overstates the
 * naive reader's calls a little, which only flatters ours less. */
struct dirent *__wrap_readdir(DIR *d) {
  calls.sys += call_counting;
  return __real_readdir(d);
}
int __wrap_closedir(DIR *d) {
  calls.sys += call_counting;
  return __real_closedir(d);
}

int __wrap_access(const char *path, int mode) {
  calls.sys += call_counting;
  return __real_access(path, mode);
}
FILE *__wrap_fopen(const char *path, const char *mode) {
  calls.sys += call_counting;
  calls.open += call_counting;
  calls.alloc += call_counting;
  return __real_fopen(path, mode);
}
ssize_t __wrap_readlink(const char *path, char *buf, size_t len) {
  calls.sys += call_counting;
  return __real_readlink(path, buf, len);
}
