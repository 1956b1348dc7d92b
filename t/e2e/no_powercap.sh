#!/bin/bash
# End to end: powercap is absent (the simulator serves the CPU topology but no
# class/powercap) and the MSR fallback is not enabled.
#
# Asserts: collectd starts and is still running after several seconds; the log
# has an error that says powercap is unavailable and names the path it looked
# at; collectd suspends the failing read callback (its back-off notice); no
# rapl_energy power or energy value is dispatched; `collectd -T` (init and one
# read) exits non-zero. Then powercap appears while collectd runs and values
# start to flow (within 1% of the simulated watts) without a restart.

# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

e2e_setup
e2e_sim_start two-socket-intel.spec "powercap off"
e2e_say "simulator state:"
sed 's/^/    sim: /' "$E2E_MNT/sim"
if [ -e "$E2E_MNT/sys/class/powercap" ]; then
  e2e_error "'powercap off' still serves $E2E_MNT/sys/class/powercap"
fi

e2e_write_conf "$E2E_TMP/nopc.conf" <<'EOF'
  SysfsPath "@MNT@/sys"
EOF

e2e_say "run 1: collectd for 4 s without powercap"
e2e_collectd_start "$E2E_TMP/nopc.conf"
sleep 4
e2e_assert "collectd is still running after 4 s (kill -0 $CD_PID)" \
  kill -0 "$CD_PID"
e2e_collectd_stop
e2e_say "rapl_energy / powercap lines in the log:"
e2e_log_show 'rapl|powercap' 20
e2e_assert "an error line mentions powercap" \
  e2e_log_has '\[error\].*powercap'
e2e_assert "an error line names the path under SysfsPath ($E2E_MNT/sys)" \
  e2e_log_has "\\[error\\].*$E2E_MNT/sys"
e2e_assert "the error says powercap is unavailable (unavailable|not available|no such|missing|not found|absent)" \
  e2e_log_has '\[error\].*powercap.*(unavailable|not available|no such|missing|not found|absent|does not exist)'
e2e_assert "the error is logged once, not at every failed read" e2e_log_once 0
e2e_assert "collectd suspended the failing read callback (back-off notice)" \
  e2e_log_has "read-function of plugin .rapl_energy. failed"
e2e_log_show "read-function of plugin .rapl_energy." 5
e2e_check absent
# No backend is active: every backend gauge, if any is dispatched, is 0.
e2e_check gauges --active none --min 0

e2e_say "run 2: collectd -T (init and one read) without powercap"
E2E_LOG="$E2E_TMP/test-mode.log"
e2e_write_conf "$E2E_TMP/nopc-T.conf" <<'EOF'
  SysfsPath "@MNT@/sys"
EOF
e2e_collectd_test "$E2E_TMP/nopc-T.conf"
rc=$E2E_RC
e2e_log_show 'error|rapl|powercap' 10
e2e_assert "collectd -T exits non-zero (got $rc) when the read fails" \
  test "$rc" -ne 0 -a "$rc" -ne 124
e2e_assert "collectd -T logged that a read callback failed" \
  e2e_log_has 'one or more plugin (read|init) callbacks failed'

e2e_say "run 3: powercap appears while collectd runs"
# A simulator with powercap whose class/powercap directory is hidden (ENOENT)
# until collectd has failed a few reads.
e2e_sim_stop
e2e_sim_start two-socket-intel.spec
e2e_ctl "hide sys/class/powercap"
E2E_LOG="$E2E_TMP/appear.log"
e2e_write_conf "$E2E_TMP/appear.conf" <<'EOF'
  SysfsPath "@MNT@/sys"
EOF
e2e_collectd_start "$E2E_TMP/appear.conf"
sleep 2.5
e2e_ctl "show sys/class/powercap"
t_show=$(e2e_now)
# collectd doubles the suspension after each failure (1, 2, 4, 8 s, ...):
# the read after the tree appears establishes the baseline, the next one
# reports power.
sleep 9
e2e_assert "collectd is still running" kill -0 "$CD_PID"
e2e_collectd_stop
e2e_log_show 'rapl|powercap' 20
e2e_sim_zones all
e2e_check zones --exact --backend powercap --min-reads 3 "${E2E_ZONES[@]}"
first=$("$PYTHON" "$E2E_CHECK" first "$E2E_LOG" --type power)
if [ "$first" != none ]; then
  first=$("$PYTHON" -c "print('%.1f' % ($first - $t_show))")
fi
e2e_say "first power value $first s after powercap appeared"

e2e_finish
