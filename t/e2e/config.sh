#!/bin/bash
# End to end: how the real collectd hands the <Plugin rapl_energy> block to
# the plugin, on a simulated two-socket Intel machine.
#
# Asserts:
#  1. Zone "package" and Zone "DRAM" on two lines report package and dram,
#     and nothing else: repeated Zone lines add up.
#  2. a second <Plugin rapl_energy> block makes collectd -T exit non-zero,
#     with one error that lists the options of both blocks.

# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

e2e_setup
e2e_sim_start two-socket-intel.spec
e2e_sim_zones package dram
FILTERED=("${E2E_ZONES[@]}")
e2e_say "expected zones with Zone \"package\" + Zone \"DRAM\": ${FILTERED[*]}"

# 1: two Zone lines.
e2e_say "run 1: Zone \"package\" and Zone \"DRAM\" on separate lines"
E2E_LOG="$E2E_TMP/zones.log"
e2e_write_conf "$E2E_TMP/zones.conf" <<'EOF'
  SysfsPath "@MNT@/sys"
  Zone "package"
  Zone "DRAM"
EOF
e2e_collectd_run "$E2E_TMP/zones.conf" 3.5
e2e_check zones --exact --backend powercap --min-reads 3 "${FILTERED[@]}"
e2e_check absent --type-instance core --type-instance psys \
  --type-instance uncore
e2e_assert "no [error] line in the collectd log" e2e_log_lacks '\[error\]'

# 2: a second block.
e2e_say "run 2: collectd -T with a second <Plugin rapl_energy> block"
E2E_LOG="$E2E_TMP/two-blocks.log"
e2e_write_conf "$E2E_TMP/two-blocks.conf" <<'EOF'
  SysfsPath "@MNT@/sys"
  Zone "package"
EOF
cat >>"$E2E_TMP/two-blocks.conf" <<'EOF'
<Plugin rapl_energy>
  MSREnabled true
</Plugin>
EOF
e2e_collectd_test "$E2E_TMP/two-blocks.conf"
e2e_log_show 'error' 5
e2e_assert "collectd -T exits non-zero (got $E2E_RC)" \
  test "$E2E_RC" -ne 0 -a "$E2E_RC" -ne 124
e2e_assert "one error names the second block and both blocks' options" \
  test "$(e2e_log_text <"$E2E_LOG" | grep -ciE '\[error\].*a second <Plugin rapl_energy> block \(with MSREnabled\) after the first \(with SysfsPath, Zone\)')" -eq 1

e2e_finish
