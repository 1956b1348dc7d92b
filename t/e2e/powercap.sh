#!/bin/bash
# End to end: the real collectd loads the built rapl_energy plugin and reads a
# simulated two-socket Intel powercap tree for several intervals.
#
# Asserts, per socket and zone (package/core/dram per socket, psys on
# "platform"): exactly these zones are reported; the first read dispatches
# energy 0 and no power; every later power value is within 1% of the
# simulated watts; energy grows monotonically and the last value is within 2%
# of watts x the seconds between the first and the last read; meta data
# rapl_backend is "powercap" on every power/energy value; the gauges
# backend-powercap=1 and backend-msr=0 come every interval. Every counter
# wraps (2^32 units, max_energy_range_uj) in the middle of the run. Then a second,
# shorter run with Zone "package" "DRAM" (case-insensitive) reports only
# package and dram; ReportEnergy false gives power only, ReportPower false
# energy only; an energy_uj file that cannot be opened (EACCES) gives one
# error naming the file and the privilege, and that zone is withheld;
# an unknown key makes collectd -T fail, naming the key.

# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

e2e_setup
e2e_sim_start two-socket-intel.spec
e2e_say "simulator state:"
sed 's/^/    sim: /' "$E2E_MNT/sim"

# The simulated watts, from the simulator (two-socket-intel.spec: package
# 45.5/61.25 W, core 20/30 W, dram 7.5/9 W, psys 120 W).
e2e_sim_zones all
ZONES=("${E2E_ZONES[@]}")
e2e_sim_zones package dram
FILTERED=("${E2E_ZONES[@]}")
e2e_say "expected zones: ${ZONES[*]}"
[ "${#ZONES[@]}" -eq 7 ] || e2e_error "two-socket-intel.spec should have 7 zones"

e2e_say "run 1: all zones, Interval 1, about 6 intervals, counters wrap mid-run"
# Every 32-bit counter wraps about 3 s from now, mid-run: power stays within
# 1% and energy keeps growing across the wrap.
e2e_sim_near_wrap 3
e2e_write_conf "$E2E_TMP/all.conf" <<'EOF'
  SysfsPath "@MNT@/sys"
  ReportPower true
  ReportEnergy true
EOF
e2e_collectd_run "$E2E_TMP/all.conf" 6.5
e2e_check zones --exact --backend powercap --min-reads 5 "${ZONES[@]}"
e2e_check gauges --active powercap --min 5
e2e_assert "no [error] line in the collectd log" e2e_log_lacks '\[error\]'
e2e_log_show 'rapl_energy|rapl|powercap' 20
cp "$E2E_LOG" "$E2E_TMP/all.log"

e2e_say "run 2: Zone \"package\" \"DRAM\", about 3 intervals"
e2e_write_conf "$E2E_TMP/filter.conf" <<'EOF'
  SysfsPath "@MNT@/sys"
  Zone "package" "DRAM"
EOF
e2e_collectd_run "$E2E_TMP/filter.conf" 3.5
e2e_check zones --exact --backend powercap --min-reads 3 "${FILTERED[@]}"
e2e_check absent --type-instance core --type-instance psys \
  --type-instance uncore
e2e_check gauges --active powercap --min 2

e2e_say "run 3a: ReportEnergy false (power only)"
E2E_LOG="$E2E_TMP/power-only.log"
e2e_write_conf "$E2E_TMP/power-only.conf" <<'EOF'
  SysfsPath "@MNT@/sys"
  ReportEnergy false
EOF
e2e_collectd_run "$E2E_TMP/power-only.conf" 3.5
e2e_check absent --type energy
e2e_check steady --min-power 2 "${ZONES[@]}"

e2e_say "run 3b: ReportPower false (energy only)"
E2E_LOG="$E2E_TMP/energy-only.log"
e2e_write_conf "$E2E_TMP/energy-only.conf" <<'EOF'
  SysfsPath "@MNT@/sys"
  ReportPower false
EOF
e2e_collectd_run "$E2E_TMP/energy-only.conf" 3.5
e2e_check absent --type power
n=$("$PYTHON" "$E2E_CHECK" count "$E2E_LOG" --type energy)
e2e_assert "energy values dispatched without power (got $n, want >= $((3 * ${#ZONES[@]})))" \
  test "$n" -ge $((3 * ${#ZONES[@]}))
e2e_check gauges --active powercap --min 3

e2e_say "run 5: energy_uj of package-1 not readable (EACCES, as for non-root since Linux 5.10)"
denied="sys/devices/virtual/powercap/intel-rapl/intel-rapl:1/energy_uj"
e2e_ctl "deny $denied"
E2E_LOG="$E2E_TMP/denied.log"
e2e_write_conf "$E2E_TMP/denied.conf" <<'EOF'
  SysfsPath "@MNT@/sys"
EOF
e2e_collectd_run "$E2E_TMP/denied.conf" 3.5
e2e_ctl "allow $denied"
e2e_log_show '\[(error|warning)\]' 5
e2e_assert "an error names the unreadable file intel-rapl:1/energy_uj" \
  e2e_log_has '\[error\].*intel-rapl:1/energy_uj'
e2e_assert "the error says which privilege is missing (root / CAP_DAC_READ_SEARCH)" \
  e2e_log_has '\[error\].*intel-rapl:1/energy_uj.*(root|CAP_DAC_READ_SEARCH)'
e2e_assert "that error is logged once" e2e_log_once 0
e2e_check absent --plugin-instance package-1 --type-instance package
# powercap works where at least one zone can be read: every other zone is
# still reported, at the simulated watts.
readable=()
for z in "${ZONES[@]}"; do
  case $z in package-1/package=*) ;; *) readable+=("$z") ;; esac
done
e2e_check steady --min-power 2 "${readable[@]}"

e2e_say "run 6: an unknown key in the <Plugin rapl_energy> block"
E2E_LOG="$E2E_TMP/badkey.log"
e2e_write_conf "$E2E_TMP/badkey.conf" <<'EOF'
  SysfsPath "@MNT@/sys"
  BogusKey 1
EOF
e2e_collectd_test "$E2E_TMP/badkey.conf"
e2e_log_show 'error' 5
e2e_assert "collectd -T exits non-zero on an unknown key (got $E2E_RC)" \
  test "$E2E_RC" -ne 0 -a "$E2E_RC" -ne 124
e2e_assert "the error names the key BogusKey" e2e_log_has '\[error\].*BogusKey'

e2e_finish
