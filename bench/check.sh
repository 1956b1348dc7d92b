#!/bin/sh
# make check's guard on the read path: calls per counter per cycle and
# allocations per cycle, counted, never timed, so a loaded machine passes.
exec "${abs_top_builddir:-.}/bench/rapl_bench" --counted
