#!/bin/sh
# Regenerates t/data/powercap/*: sysfs trees laid out as the kernel lays them
# out (class/powercap symlinks into devices/virtual/powercap/<control>/...).
# The trees are committed; this script documents how they were made.
set -eu
cd "$(dirname "$0")"
rm -rf powercap
mkdir powercap

# control ROOT CONTROL: the control-type directory and its class symlink.
control() {
  d="$1/sys/devices/virtual/powercap/$2"
  mkdir -p "$d" "$1/sys/class/powercap"
  printf '1\n' >"$d/enabled"
  : >"$d/uevent"
  ln -s "../../devices/virtual/powercap/$2" "$1/sys/class/powercap/$2"
}

# zone ROOT CONTROL ID NAME ENERGY RANGE: ID is "0" or "0:1" (hex parts).
zone() {
  root=$1 ctl=$2 id=$3 name=$4 energy=$5 range=$6
  case $id in
  *:*) rel="$ctl:${id%%:*}/$ctl:$id" ;;
  *) rel="$ctl:$id" ;;
  esac
  d="$root/sys/devices/virtual/powercap/$ctl/$rel"
  mkdir -p "$d"
  printf '%s\n' "$name" >"$d/name"
  printf '%s\n' "$energy" >"$d/energy_uj"
  printf '%s\n' "$range" >"$d/max_energy_range_uj"
  printf '1\n' >"$d/enabled"
  chmod 0400 "$d/energy_uj"
  ln -s "../../devices/virtual/powercap/$ctl/$rel" "$root/sys/class/powercap/$ctl:$id"
}

R=262143328850
D=65712999613 # a 15.3 uJ DRAM unit's range

t=powercap/one-socket
control $t intel-rapl
zone $t intel-rapl 0 package-0 1000000 $R
zone $t intel-rapl 0:0 core 400000 $R
zone $t intel-rapl 0:1 uncore 30000 $R
zone $t intel-rapl 0:2 dram 200000 $D

t=powercap/two-socket
control $t intel-rapl
zone $t intel-rapl 0 package-0 1000000 $R
zone $t intel-rapl 0:0 core 500000 $R
zone $t intel-rapl 0:1 dram 70000 $D
zone $t intel-rapl 1 package-1 2000000 $R
zone $t intel-rapl 1:0 core 600000 $R
zone $t intel-rapl 1:1 dram 80000 $D
zone $t intel-rapl 2 psys 9000000 $R

t=powercap/multi-die
control $t intel-rapl
zone $t intel-rapl 0 package-0-die-0 1000 $R
zone $t intel-rapl 0:0 dram 100 $D
zone $t intel-rapl 1 package-0-die-1 2000 $R
zone $t intel-rapl 1:0 dram 200 $D

# Twelve packages: ids 0..b. Directory order (alphabetical) is not numeric.
t=powercap/hex-ids
control $t intel-rapl
for i in 0 1 2 3 4 5 6 7 8 9 10 11; do
  zone $t intel-rapl "$(printf '%x' $i)" "package-$i" $((i * 1000)) $R
done
zone $t intel-rapl a:0 dram 123 $D

t=powercap/mmio-duplicate
control $t intel-rapl
control $t intel-rapl-mmio
zone $t intel-rapl 0 package-0 1000 $R
zone $t intel-rapl 0:0 core 500 $R
zone $t intel-rapl-mmio 0 package-0 1005 $R

t=powercap/mmio-only
control $t intel-rapl-mmio
zone $t intel-rapl-mmio 0 package-0 1005 $R

t=powercap/enabled-0
control $t intel-rapl
zone $t intel-rapl 0 package-0 777 $R
zone $t intel-rapl 0:0 dram 111 $D
printf '0\n' >$t/sys/devices/virtual/powercap/intel-rapl/intel-rapl:0/enabled
printf '0\n' >$t/sys/devices/virtual/powercap/intel-rapl/intel-rapl:0/intel-rapl:0:0/enabled

t=powercap/psys-only
control $t intel-rapl
zone $t intel-rapl 0 psys 5000 $R
zone $t intel-rapl 1 psys-1 6000 $R

# Broken zones beside one good package: each must be skipped or withheld with
# a message naming the file, never turned into a value.
t=powercap/missing-files
control $t intel-rapl
zone $t intel-rapl 0 package-0 1000 $R
zone $t intel-rapl 1 package-1 2000 $R
zone $t intel-rapl 2 package-2 3000 $R
zone $t intel-rapl 3 package-3 4000 $R
b=$t/sys/devices/virtual/powercap/intel-rapl
rm $b/intel-rapl:1/energy_uj
rm $b/intel-rapl:2/max_energy_range_uj
rm $b/intel-rapl:3/name

t=powercap/garbage
control $t intel-rapl
zone $t intel-rapl 0 package-0 1000 $R
zone $t intel-rapl 1 package-1 abc $R
zone $t intel-rapl 2 package-2 "" $R
zone $t intel-rapl 3 package-3 -5 $R
zone $t intel-rapl 4 package-4 99999999999999999999999 $R
zone $t intel-rapl 5 package-5 12 garbage
zone $t intel-rapl 6 package-6 12 0
zone $t intel-rapl 7 package-7 300000000000 $R
zone $t intel-rapl 8 banana 12 $R

# AMD: the kernel shows each package and one "core" zone, which reads the
# per-core counter of one CPU of the package. The vendor comes from the
# tree's cpu modalias (X86_VENDOR_AMD is 2), or from cpuinfo without one.
A=65532610987 # (2^32 - 1) x 15258 nJ / 1000: ESU 16 in the kernel's arithmetic
t=powercap/amd-zen
control $t intel-rapl
zone $t intel-rapl 0 package-0 5500000 $A
zone $t intel-rapl 0:0 core 300000 $A
zone $t intel-rapl 1 package-1 6600000 $A
zone $t intel-rapl 1:0 core 400000 $A
mkdir -p $t/sys/devices/system/cpu
printf 'cpu:type:x86,ven0002fam0019mod0001:feature:,0000,0001\n' \
  >$t/sys/devices/system/cpu/modalias

t=powercap/amd-cpuinfo
control $t intel-rapl
zone $t intel-rapl 0 package-0 5500000 $A
zone $t intel-rapl 0:0 core 300000 $A
mkdir -p $t/proc
printf 'processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 23\nmodel\t\t: 49\n\n' \
  >$t/proc/cpuinfo

# Intel with a modalias: the core zone is the package's cores, reported.
t=powercap/intel-modalias
control $t intel-rapl
zone $t intel-rapl 0 package-0 1000000 $R
zone $t intel-rapl 0:0 core 400000 $R
mkdir -p $t/sys/devices/system/cpu
printf 'cpu:type:x86,ven0000fam0006mod0055:feature:,0000,0001\n' \
  >$t/sys/devices/system/cpu/modalias

t=powercap/empty
mkdir -p $t/sys/class/powercap
control $t intel-rapl

mkdir -p powercap/absent/sys
: >powercap/absent/sys/.keep # git keeps no empty directory
