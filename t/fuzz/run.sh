#!/bin/sh
# Builds the libFuzzer target for the YAML configuration loader with clang
# and runs it.
#
#   t/fuzz/run.sh [SECONDS]        fuzz (default 60; also FUZZ_SECONDS)
#   t/fuzz/run.sh replay           run each seed once (what make check does)
#
# Environment: CLANG (default clang), FUZZ_BUILD (default a temporary
# directory), FUZZ_CORPUS (default $FUZZ_BUILD/corpus, seeded from
# t/data/fuzz/config_yaml), FUZZ_JOBS (parallel workers, default 1).
# Crashes are written to $FUZZ_BUILD/artifacts; add a minimised one to
# t/data/fuzz/config_yaml so that `make check` replays it.
set -eu

srcdir=${abs_top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
seconds=${1:-${FUZZ_SECONDS:-60}}
clang=${CLANG:-clang}
build=${FUZZ_BUILD:-$(mktemp -d "${TMPDIR:-/tmp}/fuzz_config_yaml.XXXXXX")}
corpus=${FUZZ_CORPUS:-$build/corpus}
jobs=${FUZZ_JOBS:-1}

if ! command -v "$clang" >/dev/null 2>&1; then
  echo "fuzz: $clang not found; install clang to fuzz" >&2
  exit 77
fi

mkdir -p "$build" "$corpus" "$build/artifacts"
probe=$build/probe.c
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }' >"$probe"
if ! "$clang" -fsanitize=fuzzer "$probe" -o "$build/probe" 2>/dev/null; then
  echo "fuzz: $clang cannot link -fsanitize=fuzzer (libFuzzer missing)" >&2
  exit 77
fi

cflags=$(pkg-config --cflags yaml-0.1)
libs=$(pkg-config --libs yaml-0.1)
# shellcheck disable=SC2086
"$clang" -std=gnu11 -g -O1 -fno-omit-frame-pointer \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$srcdir/src/core" $cflags \
  "$srcdir/t/fuzz_config_yaml.c" \
  "$srcdir/src/core/config_yaml.c" "$srcdir/src/core/rapl_config.c" \
  "$srcdir/src/core/zone_kind.c" "$srcdir/src/core/rapl_log.c" \
  "$srcdir/src/core/sysfs_file.c" \
  $libs -o "$build/fuzz_config_yaml"

seeds="$srcdir/t/data/fuzz/config_yaml"
if [ "$seconds" = replay ]; then
  echo "fuzz: replaying the $(ls "$seeds" | wc -l) seeds of $seeds"
  # Files rather than a directory: libFuzzer runs each once and exits.
  exec "$build/fuzz_config_yaml" -timeout=10 -rss_limit_mb=2048 "$seeds"/*
fi

parallel=
if [ "$jobs" -gt 1 ]; then
  parallel="-jobs=$jobs -workers=$jobs"
fi
echo "fuzz: running $build/fuzz_config_yaml for $seconds s (corpus $corpus)"
# shellcheck disable=SC2086
exec "$build/fuzz_config_yaml" \
  -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  $parallel \
  -artifact_prefix="$build/artifacts/" \
  -dict="$srcdir/t/data/fuzz/config_yaml.dict" \
  "$corpus" "$seeds"
