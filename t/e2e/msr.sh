#!/bin/bash
# End to end (issue 3): the MSR fallback backend with the real collectd, on
# simulated machines whose powercap tree is absent and whose /dev/cpu/N/msr
# devices are served by the simulator. The runs that need a simulator of
# their own get one, and they all run side by side.
#
# Asserts:
#  1. two-socket Intel, powercap absent + MSREnabled true: every zone
#     reported, no power value 0 or a spike, averages within 0.5% of the
#     simulated watts, energy as for powercap, meta rapl_backend "msr", gauges
#     backend-msr=1 / backend-powercap=0, and one WARNING that names
#     PLATYPUS; every 32-bit counter wraps in the middle of the run.
#  2. powercap absent + MSREnabled false: an error that names MSREnabled,
#     collectd still running, no value dispatched.
#  3. the msr device of CPU 0 hidden and shown again mid-run: log lines about
#     the failure and the recovery, and no power value 0 or a spike at any
#     time, energy never backwards. Then every msr device of package 0
#     hidden: package 0 withheld (no value while hidden), package 1
#     unaffected (no gap, averages within 0.5%), package 0 back afterwards.
#  4. MSRDevicePath templates with %s, two %d, %%d, %n or a relative path
#     are configuration errors: collectd -T exits non-zero, naming the key.
#  5. AMD family 19h (amd-zen.spec) over MSR: package and the socket's core
#     zone (the sum of the per-core counters) judged as in 1, meta "msr".

# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

msr_conf() { # FILE MSREnabled
  e2e_write_conf "$1" <<EOF
  SysfsPath "@MNT@/sys"
  ProcfsPath "@MNT@/proc"
  MSREnabled $2
  MSRDevicePath "@MNT@/dev/cpu/%d/msr"
  # Below the 1 s Interval, as the README asks: at 1 s, collectd's
  # scheduling jitter would hold back every other read.
  MSRMinInterval 0.5
EOF
}

e2e_setup

e2e_sim_start -n fault-mnt two-socket-intel.spec "powercap off"
msr_conf "$E2E_TMP/fault.conf" true
pkg0_cpus=()
for d in "$E2E_MNT"/sys/devices/system/cpu/cpu[0-9]*; do
  [ "$(cat "$d/topology/physical_package_id" 2>/dev/null)" = 0 ] &&
    pkg0_cpus+=("${d##*/cpu}")
done
e2e_say "CPUs of package 0: ${pkg0_cpus[*]}"
[ "${#pkg0_cpus[@]}" -ge 2 ] || e2e_error "package 0 needs two CPUs in the spec"

e2e_sim_start -n amd-mnt amd-zen.spec "powercap off"
e2e_sim_show
# The socket's core zone is the sum of the per-core counters (MSR 0xC001029A
# of one CPU per physical core).
e2e_sim_zones all
AMD_ZONES=("${E2E_ZONES[@]}")
e2e_say "expected AMD zones: ${AMD_ZONES[*]}"
msr_conf "$E2E_TMP/amd.conf" true

e2e_sim_start two-socket-intel.spec "powercap off"
e2e_say "simulator state:"
e2e_sim_show
[ -e "$E2E_MNT/dev/cpu/0/msr" ] || e2e_error "simulator serves no $E2E_MNT/dev/cpu/0/msr"
# The simulated watts (two-socket-intel.spec: package 45.5/61.25 W, core
# 20/30 W, dram 7.5/9 W, psys 120 W), from the simulator.
e2e_sim_zones all
ZONES=("${E2E_ZONES[@]}")
e2e_say "expected zones: ${ZONES[*]}"
msr_conf "$E2E_TMP/msr.conf" true
msr_conf "$E2E_TMP/disabled.conf" false

# Run 3 takes longest: it starts first.
e2e_collectd_start "$E2E_TMP/fault.conf"
# Every 32-bit counter wraps 3 s from now, in the middle of run 1.
e2e_sim_near_wrap 3
e2e_collectd_start "$E2E_TMP/msr.conf"
e2e_collectd_start "$E2E_TMP/disabled.conf"
e2e_collectd_start "$E2E_TMP/amd.conf"

# ---------------------------------------------------------------- 4
e2e_say "run 4: MSRDevicePath templates that must be refused"
for tmpl in "@MNT@/dev/cpu/%s/msr" "@MNT@/dev/cpu/%d/%d" "@MNT@/dev/cpu/%%d/msr" \
  "dev/cpu/%d/msr" "@MNT@/dev/cpu/%n%d/msr"; do
  e2e_write_conf "$E2E_TMP/template.conf" <<EOF
  SysfsPath "@MNT@/sys"
  MSREnabled true
  MSRDevicePath "$tmpl"
EOF
  e2e_collectd_test "$E2E_TMP/template.conf"
  e2e_log_show 'MSRDevicePath' 2
  e2e_assert "MSRDevicePath \"$tmpl\": collectd -T exits non-zero (got $E2E_RC)" \
    test "$E2E_RC" -ne 0 -a "$E2E_RC" -ne 124
  e2e_assert "MSRDevicePath \"$tmpl\": the error names MSRDevicePath" \
    e2e_log_has '\[error\].*MSRDevicePath'
done

# ---------------------------------------------------------------- 3
e2e_say "run 3: hide and show dev/cpu/0/msr, then every msr of package 0"
e2e_use "$E2E_TMP/fault.conf"
e2e_sim_use fault-mnt
e2e_wait_logged 2 "$E2E_TIMEOUT" package-0/power/package
mark=$(e2e_log_mark)
e2e_ctl "hide dev/cpu/0/msr"
# The plugin moves package 0 to another CPU's device, re-baselined: power
# resumes at the read after.
e2e_wait_for 'readable again from .*/dev/cpu/[0-9]+/msr' "$E2E_TIMEOUT" "$mark"
e2e_wait_values 1 "$E2E_TIMEOUT" package-0/power/package
e2e_ctl "show dev/cpu/0/msr"
e2e_say "log after hiding dev/cpu/0/msr:"
e2e_log_since "$mark" 'rapl|msr' | sed 's/^/    log: /' | head -20
e2e_assert "a log line names the failing device dev/cpu/0/msr" \
  e2e_log_has '(warning|error|notice)\].*dev/cpu/0/msr'
e2e_assert "each error/warning about it is logged once" e2e_log_once "$mark"

mark=$(e2e_log_mark)
for c in "${pkg0_cpus[@]}"; do e2e_ctl "hide dev/cpu/$c/msr"; done
t_hide=$(e2e_now)
e2e_wait_for '(warning|error)\].*(package-0|dev/cpu/0/msr)' "$E2E_TIMEOUT" "$mark"
# A few reads of package 1 while package 0 is withheld.
e2e_wait_values 2 "$E2E_TIMEOUT" package-1/power/package
for c in "${pkg0_cpus[@]}"; do e2e_ctl "show dev/cpu/$c/msr"; done
t_show=$(e2e_now)
e2e_wait_for 'zone package-0/package is readable again' "$E2E_TIMEOUT" "$mark"
e2e_wait_values 2 "$E2E_TIMEOUT" package-0/power/package
e2e_assert "collectd is still running" e2e_alive
e2e_collectd_stop
e2e_say "log after hiding every msr of package 0:"
e2e_log_since "$mark" 'rapl|msr' | sed 's/^/    log: /' | head -20
e2e_assert "a log line says package 0 failed" \
  e2e_log_since_has "$mark" '(warning|error)\].*(package-0|dev/cpu/0/msr)'
e2e_assert "a log line says package 0 recovered" \
  e2e_log_since_has "$mark" '(recover|resum|again|back)'
e2e_assert "each error/warning about the outage is logged once, not every interval" \
  e2e_log_once "$mark"
# Values never out of bounds, anywhere in the run.
e2e_check steady --min-power 4 "${ZONES[@]}"
# Package 0 is withheld while its devices are hidden (one interval of slack
# on each side for a read that was already in flight); package 1 has no gap
# and its averages hold over the whole run.
e2e_check steady --min-power 4 --window "$(e2e_add "$t_hide" 1.1)" \
  "$(e2e_add "$t_show" -0.1)" package-0/package=45.5
package1=()
for z in "${ZONES[@]}"; do
  case $z in package-1/*) package1+=("$z") ;; esac
done
e2e_check steady --min-power 6 --no-gap --average --whole "${package1[@]}"
e2e_check backends --after "$t_show" msr
e2e_check steady --since "$t_show" --min-power 2 package-0/package=45.5

# ---------------------------------------------------------------- 1
e2e_say "run 1: powercap absent, MSREnabled true, counters wrap mid-run"
e2e_use "$E2E_TMP/msr.conf"
e2e_wait_logged 8 "$E2E_TIMEOUT" package-0/energy/package
e2e_collectd_stop
e2e_check zones --exact --backend msr --wrap-at "$E2E_WRAP_AT" "${ZONES[@]}"
e2e_check gauges --active msr --min 5
e2e_log_show 'rapl|msr|platypus' 20
e2e_assert "a WARNING names PLATYPUS (CVE-2020-8694/8695)" \
  e2e_log_has '\[warning\].*PLATYPUS'
e2e_assert "exactly one PLATYPUS warning" \
  test "$(grep -ciE '\[warning\].*PLATYPUS' "$E2E_LOG")" -eq 1

# ---------------------------------------------------------------- 2
e2e_say "run 2: powercap absent, MSREnabled false"
e2e_use "$E2E_TMP/disabled.conf"
e2e_wait_for '\[error\].*MSREnabled'
e2e_assert "collectd is still running after its reads failed" e2e_alive
e2e_collectd_stop
e2e_log_show 'rapl|msr|powercap' 10
e2e_assert "an error names MSREnabled" e2e_log_has '\[error\].*MSREnabled'
e2e_assert "an error says powercap is unavailable" \
  e2e_log_has '\[error\].*powercap'
e2e_check absent

# ---------------------------------------------------------------- 5
e2e_say "run 5: AMD Zen (amd-zen.spec), powercap absent, MSREnabled true"
e2e_use "$E2E_TMP/amd.conf"
e2e_wait_logged 8 "$E2E_TIMEOUT" package-0/energy/package
e2e_collectd_stop
e2e_log_show 'rapl' 12
e2e_check zones --exact --backend msr "${AMD_ZONES[@]}"
e2e_check gauges --active msr --min 3

e2e_finish
