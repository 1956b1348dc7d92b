#!/bin/bash
# End to end: powercap is absent (the simulator serves the CPU topology but no
# class/powercap) and the MSR fallback is not enabled.
#
# Asserts: collectd starts and is still running after several reads without
# powercap; the log has an error that says powercap is unavailable and names
# the path it looked at, logged once; collectd suspends the failing read
# callback (its back-off notice); no rapl_energy power or energy value is
# dispatched;
# `collectd -T` (init and one read) exits non-zero. Meanwhile, on a second
# simulator, powercap appears while collectd runs after a failed read, and
# values start to flow without a restart, checked as in powercap.sh (zones,
# no 0 or spike, averages within 0.5% of the simulated watts).

# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

e2e_setup
e2e_sim_start two-socket-intel.spec "powercap off"
e2e_say "simulator state:"
e2e_sim_show
if [ -e "$E2E_MNT/sys/class/powercap" ]; then
  e2e_error "'powercap off' still serves $E2E_MNT/sys/class/powercap"
fi
e2e_write_conf "$E2E_TMP/nopc.conf" <<'EOF'
  SysfsPath "@MNT@/sys"
EOF
e2e_write_conf "$E2E_TMP/nopc-T.conf" <<'EOF'
  SysfsPath "@MNT@/sys"
EOF

# A simulator with powercap whose class/powercap directory is hidden (ENOENT)
# until collectd has failed a read.
e2e_sim_start -n appear-mnt two-socket-intel.spec
e2e_ctl "hide sys/class/powercap"
e2e_sim_zones all
ZONES=("${E2E_ZONES[@]}")
e2e_write_conf "$E2E_TMP/appear.conf" <<'EOF'
  SysfsPath "@MNT@/sys"
EOF

e2e_say "run 1 (without powercap) and run 3 (powercap appears) side by side"
e2e_collectd_start "$E2E_TMP/nopc.conf"
e2e_collectd_start "$E2E_TMP/appear.conf"
FAILED_READ="read-function of plugin .rapl_energy. failed"
e2e_wait_for "$FAILED_READ"
e2e_ctl "show sys/class/powercap"
t_show=$(e2e_now)

e2e_say "run 2: collectd -T (init and one read) without powercap"
e2e_collectd_test "$E2E_TMP/nopc-T.conf"
rc=$E2E_RC
e2e_log_show 'error|rapl|powercap' 10
e2e_assert "collectd -T exits non-zero (got $rc) when the read fails" \
  test "$rc" -ne 0 -a "$rc" -ne 124
e2e_assert "collectd -T logged that a read callback failed" \
  e2e_log_has 'one or more plugin (read|init) callbacks failed'

e2e_say "run 1: collectd without powercap, for two reads after the first"
e2e_use "$E2E_TMP/nopc.conf"
e2e_wait_for "$FAILED_READ"
# The backend gauges come at every read, failed or not.
e2e_wait_values 2 "$E2E_TIMEOUT" /gauge/backend-powercap
e2e_assert "collectd is still running after three reads without powercap" e2e_alive
e2e_collectd_stop
e2e_say "rapl_energy / powercap lines in the log:"
e2e_log_show 'rapl|powercap' 20
e2e_assert "an error line mentions powercap" \
  e2e_log_has '\[error\].*powercap'
e2e_assert "an error line names the path under SysfsPath ($E2E_TMP/mnt/sys)" \
  e2e_log_has "\\[error\\].*$E2E_TMP/mnt/sys"
e2e_assert "the error says powercap is unavailable (unavailable|not available|no such|missing|not found|absent)" \
  e2e_log_has '\[error\].*powercap.*(unavailable|not available|no such|missing|not found|absent|does not exist)'
e2e_assert "the error is logged once, not at every failed read" e2e_log_once 0
e2e_assert "collectd suspended the failing read callback (back-off notice)" \
  e2e_log_has "$FAILED_READ"
e2e_log_show "$FAILED_READ" 5
e2e_check absent
# No backend is active: every backend gauge, if any is dispatched, is 0.
e2e_check gauges --active none --min 0

e2e_say "run 3: powercap appeared while collectd ran"
e2e_use "$E2E_TMP/appear.conf"
# collectd suspends a failing read callback for 2 s, then reads again at
# the interval: the read after the tree appears establishes the baseline;
# seven more give 6 s to average over.
e2e_wait_logged 8 "$E2E_TIMEOUT" package-0/energy/package
e2e_assert "collectd is still running" e2e_alive
e2e_collectd_stop
e2e_log_show 'rapl|powercap' 20
e2e_assert "collectd suspended the read callback while powercap was hidden" \
  e2e_log_has "$FAILED_READ"
e2e_check zones --exact --backend powercap "${ZONES[@]}"
first=$(e2e_py first "$E2E_LOG" --type power)
if [ "$first" != none ]; then
  first=$(e2e_add "$first" "-$t_show")
fi
e2e_say "first power value $first s after powercap appeared"

e2e_finish
