#!/bin/bash
# End to end (issue 4): live reload of the YAML ConfigFile with the real
# collectd, on a simulated two-socket Intel machine that has both powercap
# and the MSR devices.
#
# Asserts:
#  1. msr.force true in the YAML file: values carry meta rapl_backend "msr".
#  2. the file edited to force: false: within two intervals rapl_backend is
#     "powercap" (meta and gauges); no power value is 0 or a spike, no
#     interval shows a gap, and no energy step is 0 or a spike either; over
#     the whole run, across the switch, energy / time and the mean power are
#     within 0.5% of the simulated watts, and the energy is no more than the
#     simulator counted: nothing lost, nothing counted twice at the switch.
#  3. a broken file: the last good configuration stays (powercap, values keep
#     flowing without a gap), and exactly one error is logged for it over
#     several intervals.
#  4. a ConfigFile that does not exist: collectd -T exits non-zero and the
#     error names the file.

# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

e2e_setup
e2e_sim_start two-socket-intel.spec
e2e_say "simulator state:"
e2e_sim_show

# The simulated watts (two-socket-intel.spec: package 45.5/61.25 W, core
# 20/30 W, dram 7.5/9 W, psys 120 W), from the simulator.
e2e_sim_zones all
ZONES=("${E2E_ZONES[@]}")
e2e_say "expected zones: ${ZONES[*]}"

YAML="$E2E_TMP/rapl_energy.yaml"
yaml() { # force
  # Written beside and renamed, as editors do, so that a read never sees
  # a half-written file.
  cat >"$YAML.new" <<EOF
# Kepler-style configuration (t/e2e/reload.sh)
log:
  level: info
host:
  sysfs: $E2E_MNT/sys
  procfs: $E2E_MNT/proc
msr:
  enabled: true
  force: $1
  devicePath: $E2E_MNT/dev/cpu/%d/msr
rapl_energy:
  msrMinInterval: 0.5
EOF
  # Only root may write it, whatever the umask: the file switches the MSRs.
  chmod 600 "$YAML.new"
  mv -f "$YAML.new" "$YAML"
}

yaml true
e2e_write_conf "$E2E_TMP/reload.conf" <<EOF
  ConfigFile "$YAML"
EOF
e2e_collectd_start "$E2E_TMP/reload.conf"

# 4, while the run above reads: a ConfigFile that does not exist fails the
# config check.
e2e_say "collectd -T with a ConfigFile that does not exist"
e2e_write_conf "$E2E_TMP/missing.conf" <<EOF
  ConfigFile "$E2E_TMP/no-such-file.yaml"
EOF
e2e_collectd_test "$E2E_TMP/missing.conf"
e2e_log_show 'error' 5
e2e_assert "collectd -T exits non-zero (got $E2E_RC)" \
  test "$E2E_RC" -ne 0 -a "$E2E_RC" -ne 124
e2e_assert "the error names the missing file" \
  e2e_log_has "\\[error\\].*$E2E_TMP/no-such-file.yaml"

e2e_use "$E2E_TMP/reload.conf"
# A few reads through the MSRs first: a baseline and three intervals.
e2e_wait_logged 4 "$E2E_TIMEOUT" package-0/energy/package
t_edit=$(e2e_now)
e2e_say "editing $YAML: force: false"
yaml false
# The edit is applied at the first read that starts after the rename.
t_edited=$(e2e_now)
e2e_wait_for 'backend powercap selected'
e2e_wait_values 3 "$E2E_TIMEOUT" package-0/power/package
mark=$(e2e_log_mark)
t_broken=$(e2e_now)
e2e_say "writing a broken $YAML"
printf 'msr:\n  enabled: true\n  force: [unclosed\n' >"$YAML.new"
mv -f "$YAML.new" "$YAML"
e2e_wait_for '\[error\]' "$E2E_TIMEOUT" "$mark"
# Several more reads, each of which could log the error again.
e2e_wait_values 4 "$E2E_TIMEOUT" package-0/power/package
e2e_assert "collectd is still running" e2e_alive
e2e_collectd_stop
e2e_log_show 'rapl|yaml|msr|powercap' 30

# 1 and 2: the switch.
e2e_check backends --before "$t_edit" msr \
  --after "$(e2e_add "$t_edited" 2.0)" powercap \
  --gauge-after "$(e2e_add "$t_edited" 2.0)" powercap
e2e_check steady --no-gap --energy-rate 0.10 --whole --min-power 10 "${ZONES[@]}"

# 3: the broken file.
e2e_say "errors logged after the broken file was written:"
e2e_log_since "$mark" '\[error\]' | sed 's/^/    log: /'
n=$(e2e_log_since "$mark" '\[error\]' | grep -c .)
e2e_assert "exactly one error logged for the broken file (got $n)" test "$n" -eq 1
e2e_assert "the error names the file" e2e_log_since_has "$mark" "\\[error\\].*$YAML"
e2e_check backends --after "$t_broken" powercap
e2e_check steady --since "$t_broken" --no-gap --energy-rate 0.10 \
  --min-power 4 "${ZONES[@]}"

e2e_finish
