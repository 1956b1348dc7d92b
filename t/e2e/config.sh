#!/bin/bash
# End to end: how the real collectd hands the <Plugin rapl_energy> block to
# the plugin, on a simulated two-socket Intel machine.
#
# Asserts:
#  1. Zone "package" and Zone "DRAM" on two lines report package and dram,
#     and nothing else: repeated Zone lines add up (judged as in powercap.sh).
#  2. a second <Plugin rapl_energy> block makes collectd -T exit non-zero,
#     with one error that lists the options of both blocks.
#  3. a YAML file writable by its group that says msr.force: true does not
#     switch to the MSRs: powercap keeps reporting, one warning names the
#     file, the switches, the reason and PLATYPUS, and the file's other
#     settings apply (reportPower: false); after chmod 644, which changes
#     only the file's ctime, the reads come from the MSRs, and the energy
#     goes on across that switch: no step 0 or a spike, and over the whole
#     run energy / time within 0.5% of the simulated watts.
# Runs 1 and 3 run side by side, run 2 meanwhile.

# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

e2e_setup
e2e_sim_start two-socket-intel.spec
e2e_sim_zones all
ZONES=("${E2E_ZONES[@]}")
e2e_sim_zones package dram
FILTERED=("${E2E_ZONES[@]}")
e2e_say "expected zones with Zone \"package\" + Zone \"DRAM\": ${FILTERED[*]}"

e2e_write_conf "$E2E_TMP/zones.conf" <<'EOF'
  SysfsPath "@MNT@/sys"
  Zone "package"
  Zone "DRAM"
EOF

YAML="$E2E_TMP/rapl_energy.yaml"
cat >"$YAML" <<EOF
host:
  sysfs: $E2E_MNT/sys
  procfs: $E2E_MNT/proc
msr:
  enabled: true
  force: true
  devicePath: $E2E_MNT/dev/cpu/%d/msr
rapl_energy:
  msrMinInterval: 0.5
  reportPower: false
EOF
chmod 664 "$YAML"
e2e_write_conf "$E2E_TMP/trust.conf" <<EOF
  ConfigFile "$YAML"
EOF

e2e_say "run 1: Zone \"package\" and Zone \"DRAM\" on separate lines; run 3:" \
  "msr.force true in a group-writable YAML file, then chmod 644"
e2e_collectd_start "$E2E_TMP/zones.conf"
e2e_collectd_start "$E2E_TMP/trust.conf"

# 2: a second block.
e2e_say "run 2: collectd -T with a second <Plugin rapl_energy> block"
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

# 3: MSR switches in a file that others could have written.
e2e_use "$E2E_TMP/trust.conf"
warned='\[warning\].*'"$YAML"': not applying msr\.enabled: true \(line 5, column 12\) and msr\.force: true \(line 6, column 10\): the file is writable by its group \(mode 0664\).*PLATYPUS'
e2e_wait_for "$warned"
# Some reads through powercap, so that "keeps reporting" means something.
e2e_wait_logged 3 "$E2E_TIMEOUT" package-0/energy/package
t_fix=$(e2e_now)
e2e_say "chmod 644 $YAML"
chmod 644 "$YAML"
# The change is seen at the first read that starts after the chmod.
t_fixed=$(e2e_now)
e2e_wait_for 'backend msr selected'
# Reads through the MSRs, enough for the run after its baseline to span
# 5 s and more.
e2e_wait_values 4 "$E2E_TIMEOUT" package-0/energy/package
e2e_assert "collectd is still running" e2e_alive
e2e_collectd_stop
e2e_log_show 'rapl|yaml|msr' 10
t_msr=$(e2e_add "$t_fixed" 2.0)
e2e_check backends --before "$t_fix" powercap --after "$t_msr" msr \
  --gauge-after "$t_msr" msr
e2e_check absent --type power
e2e_check steady --min-power 0 --energy-rate 0.10 --whole "${ZONES[@]}"
n=$(e2e_log_text <"$E2E_LOG" | grep -cE "$warned")
e2e_assert "one warning names the file, the switches, the reason and PLATYPUS (got $n)" \
  test "$n" -eq 1
e2e_assert "no [error] line in the collectd log" e2e_log_lacks '\[error\]'

# 1: two Zone lines.
e2e_use "$E2E_TMP/zones.conf"
# Eight reads: the interval after the baseline is not averaged (see
# rapl_check.py), the other six span 6 s.
e2e_wait_logged 8 "$E2E_TIMEOUT" package-0/energy/package
e2e_collectd_stop
e2e_check zones --exact --backend powercap "${FILTERED[@]}"
e2e_check absent --type-instance core --type-instance psys \
  --type-instance uncore
e2e_assert "no [error] line in the collectd log" e2e_log_lacks '\[error\]'

e2e_finish
