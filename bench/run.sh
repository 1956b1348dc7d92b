#!/bin/sh
# make bench: rapl_bench's table (the reader library against the pread floor
# and a naive reader; the perf backend on the FUSE simulator, next to
# powercap and msr there), perf reads one by one against one group read on
# software events (rapl_bench --perf-group), then, when collectd and
# prometheus-node-exporter are both installed, the whole daemons on the same
# trees: CPU per scrape of node_exporter (only its rapl collector) against
# CPU per read cycle of collectd with the plugin minus collectd without it.
# Every ratio is taken within this one run.
#
# Environment: abs_top_builddir (default .), COLLECTD (default
# /usr/sbin/collectd), NODE_EXPORTER (default prometheus-node-exporter),
# BENCH_CYCLES (rapl_bench's timed cycles, default 2000), BENCH_SECONDS
# (seconds collectd runs per configuration, default 10), BENCH_SCRAPES
# (scrapes of node_exporter per tree, default 1000), RAPL_BENCH_DIR (where
# the trees go; default /dev/shm, else TMPDIR, else /tmp).
set -eu
b=${abs_top_builddir:-.}
"$b/bench/rapl_bench" --cycles "${BENCH_CYCLES:-2000}"
# What a perf group read would save the perf backend, on real perf events.
"$b/bench/rapl_bench" --perf-group

# The daemons' trees go where rapl_bench puts its own (tmpfs, like sysfs).
dir=${RAPL_BENCH_DIR:-}
if [ -z "$dir" ]; then
  if [ -w /dev/shm ]; then dir=/dev/shm; else dir=${TMPDIR:-/tmp}; fi
fi
tmp=$(mktemp -d "$dir/rapl_bench_run-XXXXXX")
pids=
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
# stop PID...: ends daemons this script started and forgets them, so that
# cleanup never signals a number the system has since given to another.
stop() {
  kill "$@" 2>/dev/null || true
  wait "$@" 2>/dev/null || true
  for p in "$@"; do pids=$(echo " $pids " | sed "s/ $p / /g"); done
}

# Every system call of each counted cycle, counted by strace.
if command -v strace >/dev/null; then
  echo
  sh "$(dirname "$0")/strace_check.sh"
fi

COLLECTD=${COLLECTD:-/usr/sbin/collectd}
NODE_EXPORTER=${NODE_EXPORTER:-$(command -v prometheus-node-exporter || true)}
so="$b/.libs/rapl_energy.so"
if [ -z "$NODE_EXPORTER" ] || [ ! -x "$COLLECTD" ] || [ ! -f "$so" ] ||
  ! command -v curl >/dev/null; then
  echo
  echo "daemons: skipped (needs collectd, prometheus-node-exporter, curl" \
    "and $so)"
  exit 0
fi

SECONDS_PER=${BENCH_SECONDS:-10}
SCRAPES=${BENCH_SCRAPES:-1000}
# collectd reads this often; a read at 128 zones takes a few ms, well inside.
INTERVAL=0.01
# zone ROOT ID NAME: one intel-rapl zone in the kernel's layout (hex ids,
# class/powercap symlinks into devices/virtual/powercap).
zone() {
  case $2 in
  *:*) rel="intel-rapl:${2%%:*}/intel-rapl:$2" ;;
  *) rel="intel-rapl:$2" ;;
  esac
  d="$1/sys/devices/virtual/powercap/intel-rapl/$rel"
  mkdir -p "$d"
  printf '%s\n' "$3" >"$d/name"
  printf '1000000\n' >"$d/energy_uj"
  printf '262143328850\n' >"$d/max_energy_range_uj"
  printf '1\n' >"$d/enabled"
  ln -s "../../devices/virtual/powercap/intel-rapl/$rel" \
    "$1/sys/class/powercap/intel-rapl:$2"
}

# tree ROOT SOCKETS SUBZONES: SOCKETS packages with SUBZONES of core, dram,
# uncore each: SOCKETS x (1 + SUBZONES) zones.
tree() {
  mkdir -p "$1/sys/class/powercap" "$1/sys/devices/virtual/powercap/intel-rapl" \
    "$1/proc"
  printf '1\n' >"$1/sys/devices/virtual/powercap/intel-rapl/enabled"
  ln -s ../../devices/virtual/powercap/intel-rapl \
    "$1/sys/class/powercap/intel-rapl"
  s=0
  while [ "$s" -lt "$2" ]; do
    h=$(printf '%x' "$s")
    zone "$1" "$h" "package-$s"
    k=0
    for n in core dram uncore; do
      [ "$k" -lt "$3" ] || break
      zone "$1" "$h:$k" "$n"
      k=$((k + 1))
    done
    s=$((s + 1))
  done
}

# cpu_ns PID: CPU time of PID's threads so far, in ns. schedstat counts in
# ns where /proc/PID/stat counts in ticks (10 ms), too coarse for a cycle of
# a few hundred us; a thread that exited is not counted, and neither daemon
# ends threads while it runs steadily.
cpu_ns() { cat /proc/"$1"/task/*/schedstat | awk '{ s += $1 } END { printf "%.0f", s }'; }

# collectd_cpu ROOT WITH: CPU seconds per read cycle of collectd reading
# ROOT with the plugin (WITH=1) or without it (0). No writer is loaded and
# the PostCacheChain stops every value, so only reading and dispatching
# count.
collectd_cpu() {
  conf="$tmp/collectd-$2.conf"
  {
    printf 'Hostname "bench"\nFQDNLookup false\nInterval %s\n' "$INTERVAL"
    printf 'BaseDir "%s"\nPIDFile "%s/collectd.pid"\n' "$tmp" "$tmp"
    if [ "$2" = 1 ]; then
      printf 'PluginDir "%s"\nLoadPlugin rapl_energy\n' "$(dirname "$so")"
      printf '<Plugin rapl_energy>\n  SysfsPath "%s/sys"\n' "$1"
      printf '  ProcfsPath "%s/proc"\n</Plugin>\n' "$1"
    fi
    printf 'PostCacheChain "bench"\n<Chain "bench">\n  Target "stop"\n'
    printf '</Chain>\n'
  } >"$conf"
  "$COLLECTD" -f -C "$conf" >"$tmp/collectd-$2.out" 2>&1 &
  pid=$!
  pids="$pids $pid"
  sleep 1 # start-up and discovery are not a read cycle
  t0=$(cpu_ns "$pid")
  sleep "$SECONDS_PER"
  t1=$(cpu_ns "$pid")
  stop "$pid"
  awk -v t0="$t0" -v t1="$t1" -v s="$SECONDS_PER" -v i="$INTERVAL" \
    'BEGIN { printf "%.1f", (t1 - t0) / 1e3 / (s / i) }'
}

# node_cpu ROOT ZONES PORT: CPU microseconds per scrape of node_exporter
# with only its rapl collector on ROOT; fails when a scrape lacks a zone.
node_cpu() {
  "$NODE_EXPORTER" --path.sysfs="$1/sys" --path.procfs="$1/proc" \
    --collector.disable-defaults --collector.rapl \
    --web.listen-address="127.0.0.1:$3" --log.level=error \
    >"$tmp/node.out" 2>&1 &
  pid=$!
  pids="$pids $pid"
  url="http://127.0.0.1:$3/metrics"
  n=0
  until curl -sf -o "$tmp/scrape" "$url"; do
    n=$((n + 1))
    [ "$n" -lt 100 ] || {
      echo "node_exporter did not answer" >&2
      cat "$tmp/node.out" >&2
      exit 1
    }
    sleep 0.1
  done
  got=$(grep -c '^node_rapl_.*_joules_total' "$tmp/scrape" || true)
  [ "$got" -eq "$2" ] || {
    echo "node_exporter shows $got zones of $2" >&2
    exit 1
  }
  i=0
  while [ "$i" -lt 50 ]; do
    curl -sf -o /dev/null "$url"
    i=$((i + 1))
  done
  t0=$(cpu_ns "$pid")
  i=0
  while [ "$i" -lt "$SCRAPES" ]; do
    curl -sf -o /dev/null "$url"
    i=$((i + 1))
  done
  t1=$(cpu_ns "$pid")
  stop "$pid"
  awk -v t0="$t0" -v t1="$t1" -v n="$SCRAPES" \
    'BEGIN { printf "%.1f", (t1 - t0) / 1e3 / n }'
}

echo
echo "daemons: CPU per read cycle (collectd with the plugin minus without," \
  "Interval $INTERVAL, ${SECONDS_PER}s each) and per scrape (node_exporter" \
  "$("$NODE_EXPORTER" --version 2>&1 | awk 'NR == 1 { print $3 }'), rapl" \
  "collector only, $SCRAPES scrapes), in us"
printf '%6s %12s %12s %12s %8s\n' zones collectd node_exp "ne_calls/zn" ratio
port=19100
fit=$tmp/fit
: >"$fit"
for spec in "6 2 2" "32 8 3" "128 32 3"; do
  # shellcheck disable=SC2086 # split "zones sockets subzones" on purpose
  set -- $spec
  root="$tmp/z$1"
  tree "$root" "$2" "$3"
  base=$(collectd_cpu "$root" 0)
  with=$(collectd_cpu "$root" 1)
  cd_us=$(awk -v a="$with" -v b="$base" 'BEGIN { printf "%.1f", a - b }')
  port=$((port + 1))
  ne_us=$(node_cpu "$root" "$1" "$port")
  sc=-
  if command -v strace >/dev/null; then
    # node_exporter's file system calls per zone in one scrape, counted.
    port=$((port + 1))
    "$NODE_EXPORTER" --path.sysfs="$root/sys" --path.procfs="$root/proc" \
      --collector.disable-defaults --collector.rapl \
      --web.listen-address="127.0.0.1:$port" --log.level=error \
      >/dev/null 2>&1 &
    pid=$!
    pids="$pids $pid"
    until curl -sf -o /dev/null "http://127.0.0.1:$port/metrics"; do
      sleep 0.1
    done
    strace -f -ff -qq -o "$tmp/strace" -p "$pid" &
    spid=$!
    pids="$pids $spid"
    sleep 1
    curl -sf -o /dev/null "http://127.0.0.1:$port/metrics"
    sleep 0.5
    stop "$spid" "$pid"
    # Calls that name the tree, and calls on descriptors opened in it: the
    # socket's reads and writes, the Go runtime's futexes are not counted.
    sc=$(cat "$tmp"/strace.* | awk -v z="$1" -v r="$root" '
      { name = $0; sub(/\(.*/, "", name)
        arg = $0; sub(/^[a-z0-9_]+\(/, "", arg); sub(/[,)].*/, "", arg) }
      index($0, r) { n++
        if (name == "openat" && match($0, /= [0-9]+$/))
          fds[substr($0, RSTART + 2)] = 1
        next }
      arg in fds { n++; if (name == "close") delete fds[arg] }
      END { printf "%.1f", n / z }')
  fi
  ratio=$(awk -v a="$ne_us" -v b="$cd_us" 'BEGIN { printf "%.1fx", a / b }')
  printf '%6s %12s %12s %12s %8s\n' "$1" "$cd_us" "$ne_us" "$sc" "$ratio"
  printf '%s %s %s\n' "$1" "$cd_us" "$ne_us" >>"$fit"
done
# Least squares: cost = fixed + per_zone x zones, for each daemon.
awk '{ n++; x += $1; xx += $1 * $1; a += $2; xa += $1 * $2; c += $3; xc += $1 * $3 }
  END {
    d = n * xx - x * x
    sa = (n * xa - x * a) / d; sc = (n * xc - x * c) / d
    printf "fit, us: collectd+plugin %.0f + %.1f per zone; node_exporter %.0f + %.1f per zone\n",
      (a - sa * x) / n, sa, (c - sc * x) / n, sc
  }' "$fit"
