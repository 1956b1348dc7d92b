#!/bin/sh
# Regenerates t/data/perf/*: the kernel's perf_event power PMU as
# arch/x86/events/rapl.c lays it out in sysfs (devices/power, reached through
# the bus/event_source/devices/power symlink), the CPU topology beside it,
# and the procfs files the fallbacks read. The trees are committed; this
# script documents how they were made. Faults (bad type, cpumask, scale,
# unit) are written by the tests into private copies.
set -eu
cd "$(dirname "$0")"
rm -rf perf
mkdir perf

# pmu ROOT TYPE CPUMASK EVENT...: EVENT is name=0xNN.
pmu() {
  root=$1 type=$2 mask=$3
  shift 3
  d="$root/sys/devices/power"
  mkdir -p "$d/events" "$d/format" "$root/sys/bus/event_source/devices"
  printf '%s\n' "$type" >"$d/type"
  printf '%s\n' "$mask" >"$d/cpumask"
  printf 'config:0-7\n' >"$d/format/event"
  : >"$d/uevent"
  for ev in "$@"; do
    name=${ev%%=*}
    printf 'event=%s\n' "${ev#*=}" >"$d/events/$name"
    # 2^-32 J, exactly as the kernel prints it
    printf '2.3283064365386962890625e-10\n' >"$d/events/$name.scale"
    printf 'Joules\n' >"$d/events/$name.unit"
  done
  ln -s ../../../devices/power "$root/sys/bus/event_source/devices/power"
}

# cpu ROOT CPU PACKAGE DIE CORE
cpu() {
  d="$1/sys/devices/system/cpu/cpu$2/topology"
  mkdir -p "$d"
  printf '%s\n' "$3" >"$d/physical_package_id"
  printf '%s\n' "$4" >"$d/die_id"
  printf '%s\n' "$5" >"$d/core_id"
}

# procfs ROOT PARANOID NCPUS: perf_event_paranoid and an Intel Skylake-SP
# cpuinfo (model 85), which the MSR fallback reads.
procfs() {
  mkdir -p "$1/proc/sys/kernel"
  printf '%s\n' "$2" >"$1/proc/sys/kernel/perf_event_paranoid"
  i=0
  while [ $i -lt "$3" ]; do
    printf 'processor\t: %d\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n' $i
    printf 'model\t\t: 85\nmodel name\t: Intel(R) Xeon(R) Gold 6130 CPU\n\n'
    i=$((i + 1))
  done >"$1/proc/cpuinfo"
}

ALL="energy-cores=0x01 energy-pkg=0x02 energy-ram=0x03 energy-gpu=0x04 energy-psys=0x05"

# Two packages of four CPUs (0-3, 4-7); the PMU reads on the first of each.
# Type 23: a dynamic PMU number, distinct from every event's config.
t=perf/two-socket
pmu $t 23 0,4 $ALL
for c in 0 1 2 3; do cpu $t $c 0 0 $c; done
for c in 4 5 6 7; do cpu $t $c 1 0 $((c - 4)); done
printf '0-7\n' >$t/sys/devices/system/cpu/online
procfs $t 2 8

# One package of two dies (CPUs 0-1 and 2-3): one CPU per die in cpumask.
t=perf/multi-die
pmu $t 9 0,2 energy-pkg=0x02 energy-ram=0x03
cpu $t 0 0 0 0
cpu $t 1 0 0 1
cpu $t 2 0 1 0
cpu $t 3 0 1 1
printf '0-3\n' >$t/sys/devices/system/cpu/online
procfs $t 2 4
