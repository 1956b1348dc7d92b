#!/bin/sh
# make bench: the benchmark table, then node_exporter against collectd when
# both are installed.
set -eu
b="${abs_top_builddir:-.}"
"$b/bench/rapl_bench" --cycles "${BENCH_CYCLES:-2000}"
