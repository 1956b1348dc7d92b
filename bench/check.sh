#!/bin/sh
# make check's guard on the read path: calls per counter per cycle and
# allocations per cycle, counted (by the -Wl,--wrap counters, then by strace
# when it is installed), never timed, so a loaded machine passes. The perf
# backend is counted on the FUSE simulator (root and /dev/fuse; skipped,
# said so, without): one read per zone, no pread, no open, no allocation.
set -eu
"${abs_top_builddir:-.}/bench/rapl_bench" --counted
echo
rc=0
sh "${abs_top_srcdir:-.}/bench/strace_check.sh" || rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 77 ]
