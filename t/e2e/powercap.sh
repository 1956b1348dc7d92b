#!/bin/bash
# End to end: the real collectd loads the built rapl_energy plugin and reads a
# simulated two-socket Intel powercap tree for several intervals.
#
# Asserts, per socket and zone (package/core/dram per socket, psys on
# "platform"): exactly these zones are reported; the first read dispatches
# energy 0 and no power; every later read has a power value, none of them 0
# or a spike (within 10% of the simulated watts); over the whole run (6 s or
# more of collectd's timestamps) the mean power is within 0.5% of the
# simulated watts and the energy at least watts x seconds - 0.5%; energy
# never decreases and is no more than the simulator counted while collectd
# ran; meta data rapl_backend is "powercap" on every power/energy value; the
# gauges backend-powercap=1 and backend-msr=0 come every interval. Every
# counter wraps (2^32 units, max_energy_range_uj) in the middle of the run.
# Beside it, other collectd daemons on the same simulator: Zone "package"
# "DRAM" (case-insensitive) reports only package and dram; ReportEnergy false
# gives power only, ReportPower false energy only. On a second simulator, an
# energy_uj file that cannot be opened (EACCES) gives one error naming the
# file and the privilege, and that zone is withheld while the others are
# reported. Last, an unknown key makes collectd -T fail, naming the key.

# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

e2e_setup
e2e_sim_start two-socket-intel.spec
e2e_say "simulator state:"
e2e_sim_show

# The simulated watts, from the simulator (two-socket-intel.spec: package
# 45.5/61.25 W, core 20/30 W, dram 7.5/9 W, psys 120 W).
e2e_sim_zones all
ZONES=("${E2E_ZONES[@]}")
e2e_sim_zones package dram
FILTERED=("${E2E_ZONES[@]}")
e2e_say "expected zones: ${ZONES[*]}"
[ "${#ZONES[@]}" -eq 7 ] || e2e_error "two-socket-intel.spec should have 7 zones"

e2e_write_conf "$E2E_TMP/all.conf" <<'EOF'
  SysfsPath "@MNT@/sys"
  ReportPower true
  ReportEnergy true
EOF
e2e_write_conf "$E2E_TMP/filter.conf" <<'EOF'
  SysfsPath "@MNT@/sys"
  Zone "package" "DRAM"
EOF
e2e_write_conf "$E2E_TMP/power-only.conf" <<'EOF'
  SysfsPath "@MNT@/sys"
  ReportEnergy false
EOF
e2e_write_conf "$E2E_TMP/energy-only.conf" <<'EOF'
  SysfsPath "@MNT@/sys"
  ReportPower false
EOF

# EACCES is a property of the simulated tree, so that run gets a simulator
# of its own and runs at the same time as the others.
e2e_sim_start -n denied-mnt two-socket-intel.spec
denied="sys/devices/virtual/powercap/intel-rapl/intel-rapl:1/energy_uj"
e2e_ctl "deny $denied"
e2e_write_conf "$E2E_TMP/denied.conf" <<'EOF'
  SysfsPath "@MNT@/sys"
EOF

e2e_say "all zones, ReportEnergy false, ReportPower false, Zone \"package\" \"DRAM\"" \
  "and package-1 unreadable (EACCES, as for non-root since Linux 5.10), side by side"
e2e_sim_use mnt
# Every 32-bit counter wraps 3 s from now: after the first read of the run
# with all zones, and well before its seventh.
e2e_sim_near_wrap 3
e2e_collectd_start "$E2E_TMP/all.conf"
e2e_collectd_start "$E2E_TMP/filter.conf"
e2e_collectd_start "$E2E_TMP/power-only.conf"
e2e_collectd_start "$E2E_TMP/energy-only.conf"
e2e_collectd_start "$E2E_TMP/denied.conf"

# Eight reads: the interval after the baseline is not averaged (see
# rapl_check.py), the other six span 6 s. Without energy, seven power values
# span 6 s.
for run in all filter energy-only; do
  e2e_use "$E2E_TMP/$run.conf"
  e2e_wait_logged 8 "$E2E_TIMEOUT" package-0/energy/package
done
e2e_use "$E2E_TMP/power-only.conf"
e2e_wait_logged 7 "$E2E_TIMEOUT" package-0/power/package
for run in all filter power-only energy-only; do
  e2e_use "$E2E_TMP/$run.conf"
  e2e_assert "collectd ($run) is still running" e2e_alive
  e2e_collectd_stop
done
# With a zone left out, the plugin looks for it again about every second,
# before it reads the counters but after it took the read's timestamp: on a
# loaded machine the timestamps of those reads run up to some 40 ms ahead of
# their counters, a measurement error that only a longer run makes small
# next to 0.5%.
e2e_use "$E2E_TMP/denied.conf"
e2e_wait_logged 14 "$E2E_TIMEOUT" package-0/energy/package
e2e_assert "collectd (denied) is still running" e2e_alive
e2e_collectd_stop

e2e_say "all zones, Interval 1, counters wrap mid-run"
e2e_use "$E2E_TMP/all.conf"
e2e_check zones --exact --backend powercap --wrap-at "$E2E_WRAP_AT" "${ZONES[@]}"
e2e_check gauges --active powercap --min 5
e2e_assert "no [error] line in the collectd log" e2e_log_lacks '\[error\]'
e2e_log_show 'rapl_energy|rapl|powercap' 20

e2e_say "Zone \"package\" \"DRAM\""
e2e_use "$E2E_TMP/filter.conf"
e2e_check zones --exact --backend powercap "${FILTERED[@]}"
e2e_check absent --type-instance core --type-instance psys \
  --type-instance uncore
e2e_check gauges --active powercap --min 2

e2e_say "ReportEnergy false (power only)"
e2e_use "$E2E_TMP/power-only.conf"
e2e_check absent --type energy
e2e_check steady --average --min-power 6 "${ZONES[@]}"

e2e_say "ReportPower false (energy only)"
e2e_use "$E2E_TMP/energy-only.conf"
e2e_check absent --type power
n=$(e2e_py count "$E2E_LOG" --type energy)
e2e_assert "energy values dispatched without power (got $n, want >= $((3 * ${#ZONES[@]})))" \
  test "$n" -ge $((3 * ${#ZONES[@]}))
e2e_check steady --average --min-power 0 "${ZONES[@]}"
e2e_check gauges --active powercap --min 3

e2e_say "energy_uj of package-1 not readable (EACCES)"
e2e_use "$E2E_TMP/denied.conf"
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
e2e_check steady --average --min-power 12 "${readable[@]}"

e2e_say "an unknown key in the <Plugin rapl_energy> block"
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
