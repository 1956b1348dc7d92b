#!/bin/bash
# End to end: what collectd sees when RAPL is missing or goes away.
#
# Run 1, no powercap and the MSRs off, with a YAML ConfigFile: only the first
#   read fails (one "read-function ... failed" notice, so collectd never backs
#   off); the backend gauges and count-zones still come at every interval
#   (all 0); an edit of the file that turns the MSRs on is applied at the
#   next read, within 2.5 s at Interval 1 (before, collectd's back-off made
#   it 7 intervals late and growing), and count-zones then says how many
#   zones the MSRs deliver, at every read: MSRMinInterval at its default (1 s)
#   with Interval 1 holds back none of collectd's slightly early reads.
# Run 2, powercap that vanishes mid-run (driver unloaded), the MSRs off:
#   while zones are read, backend-powercap is 1 and count-zones the number of
#   zones; once every zone is gone, backend-powercap is 0 and count-zones 0
#   (before, backend-powercap stayed 1 while nothing was reported). Every
#   value of one read carries one timestamp.

# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

e2e_setup

# ---------------------------------------------------------------- run 1
e2e_sim_start -n nopc-mnt two-socket-intel.spec "powercap off"
NOPC_MNT=$E2E_MNT
YAML="$E2E_TMP/rapl_energy.yaml"
yaml() { # msr.enabled
  cat >"$YAML.new" <<EOF
host:
  sysfs: $NOPC_MNT/sys
  procfs: $NOPC_MNT/proc
msr:
  enabled: $1
  devicePath: $NOPC_MNT/dev/cpu/%d/msr
EOF
  # Only root may write it: the file switches the MSRs.
  chmod 600 "$YAML.new"
  mv -f "$YAML.new" "$YAML"
}
yaml false
e2e_write_conf "$E2E_TMP/nopc.conf" <<EOF
  ConfigFile "$YAML"
EOF

# ---------------------------------------------------------------- run 2
e2e_sim_start -n gone-mnt two-socket-intel.spec
e2e_sim_zones all
ZONES=("${E2E_ZONES[@]}")
e2e_write_conf "$E2E_TMP/gone.conf" <<'EOF'
  SysfsPath "@MNT@/sys"
EOF

e2e_say "run 1 and run 2 side by side"
e2e_collectd_start "$E2E_TMP/nopc.conf"
e2e_collectd_start "$E2E_TMP/gone.conf"

e2e_say "run 1: 8 reads without RAPL"
e2e_use "$E2E_TMP/nopc.conf"
e2e_wait_values 8 "$E2E_TIMEOUT" /gauge/backend-powercap
t_edit=$(e2e_now)
yaml true
e2e_say "run 1: the file now enables the MSRs"
e2e_wait_logged 8 "$E2E_TIMEOUT" package-0/energy/package
e2e_collectd_stop
e2e_log_show 'rapl|failed' 12
n_failed=$(e2e_log_text <"$E2E_LOG" | grep -ciE 'read-function of plugin .rapl_energy. failed')
e2e_assert "only the first read without RAPL failed (failure notices: $n_failed)" \
  test "$n_failed" -eq 1
e2e_py faults "$E2E_LOG" --edit "$t_edit" --within 2.5 --backend msr
e2e_check_rc=$?
[ "$e2e_check_rc" -eq 99 ] && e2e_error "rapl_check.py faults could not read $E2E_LOG"
if [ "$e2e_check_rc" -eq 0 ]; then
  e2e_ok "run 1: gauges every read, the edit applied at once"
else
  e2e_fail "run 1: gauges every read, the edit applied at once"
fi

e2e_say "run 2: 4 reads, then every powercap zone vanishes"
e2e_use "$E2E_TMP/gone.conf"
e2e_wait_logged 4 "$E2E_TIMEOUT" package-0/energy/package
t_gone=$(e2e_now)
e2e_ctl "hide sys/class/powercap"
e2e_ctl "hide sys/devices/virtual/powercap"
e2e_wait_values 4 "$E2E_TIMEOUT" /count/zones
e2e_collectd_stop
e2e_log_show 'rapl|powercap' 12
rc=0
e2e_py faults "$E2E_LOG" --gone "$t_gone" --zones "${#ZONES[@]}" \
  --backend powercap || rc=$?
[ "$rc" -eq 99 ] && e2e_error "rapl_check.py faults could not read $E2E_LOG"
if [ "$rc" -eq 0 ]; then
  e2e_ok "run 2: truthful gauges and zone count, one timestamp per read"
else
  e2e_fail "run 2: truthful gauges and zone count, one timestamp per read"
fi

e2e_finish
