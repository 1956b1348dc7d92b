#!/bin/bash
# End to end (issue 12): the perf_event power PMU backend with the real
# collectd. The simulator serves the PMU's sysfs files and one count file per
# (CPU, event); collectd runs with the perf_event_open seam's LD_PRELOAD
# module (t/.libs/libraplperf.so), which maps each event it opens onto those
# files. Four runs, each on its own simulator, side by side:
#
#  a. powercap absent, the perf PMU present (two-socket-intel-perf.spec):
#     every zone reported, with the identifiers the simulator's zones have
#     under powercap; no power value 0 or a spike; averages within 0.5% of
#     the simulated watts; energy bounded by the simulator's own readings
#     before and after; meta rapl_backend "perf"; backend-perf 1 and the
#     other gauges 0 at every read; count-zones the number of zones.
#  b. the cpumask CPU of package 1 goes offline mid-run (ctl offline; the
#     simulator's descriptors on it then fail with ENODEV): one error line
#     per zone read on that CPU, naming it, none repeated; the zones reopen
#     on the package's next CPU; no power value 0 or a spike at any time,
#     package 1's values resume, package 0 and psys read on without a gap.
#  c. the PMU vanishes (its sysfs directory and every count) and comes back:
#     the outage logged once, count-zones 0 and every backend gauge 0 while
#     it lasts, no value invented, values resume through perf.
#  d. powercap and perf over the same zones (two-socket-intel-both.spec):
#     powercap is selected and backend-perf stays 0; powercap hidden: perf
#     takes over at the next read, and its power values come from the read
#     after (one read without values), the energy total going on from where
#     it was, short of at most the interval powercap vanished in; powercap
#     shown: powercap again, with a value at every read and no energy lost
#     across the switch back. The zones are the same identifiers through
#     both backends.

# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

perf_conf() { # FILE
  e2e_write_conf "$1" <<'EOF'
  SysfsPath "@MNT@/sys"
  ProcfsPath "@MNT@/proc"
EOF
}

# The zones of package 1 (or 0) among ZONE=watts arguments.
of_package() { # N ZONE...
  local n=$1 z
  shift
  for z in "$@"; do
    case $z in package-"$n"/*) printf '%s\n' "$z" ;; esac
  done
}

e2e_setup

# ---------------------------------------------------------------- setup
e2e_sim_start -n both-mnt two-socket-intel-both.spec
e2e_sim_zones all
BOTH_ZONES=("${E2E_ZONES[@]}")
perf_conf "$E2E_TMP/both.conf"
e2e_perf_preload
e2e_collectd_start "$E2E_TMP/both.conf"

e2e_sim_start -n offline-mnt two-socket-intel-perf.spec
OFFLINE_MASK=$(cat "$E2E_MNT/sys/bus/event_source/devices/power/cpumask")
e2e_say "the PMU's cpumask: $OFFLINE_MASK"
OFFLINE_CPU=${OFFLINE_MASK#*,}
[ "$OFFLINE_CPU" != "$OFFLINE_MASK" ] || e2e_error "cpumask $OFFLINE_MASK names one CPU; the spec needs two packages"
perf_conf "$E2E_TMP/offline.conf"
e2e_perf_preload
e2e_collectd_start "$E2E_TMP/offline.conf"

e2e_sim_start -n gone-mnt two-socket-intel-perf.spec
perf_conf "$E2E_TMP/gone.conf"
e2e_perf_preload
e2e_collectd_start "$E2E_TMP/gone.conf"

e2e_sim_start two-socket-intel-perf.spec
e2e_say "simulator state:"
e2e_sim_show
[ -d "$E2E_MNT/sys/bus/event_source/devices/power" ] ||
  e2e_error "the perf spec serves no $E2E_MNT/sys/bus/event_source/devices/power"
[ ! -e "$E2E_MNT/sys/class/powercap" ] ||
  e2e_error "the perf spec serves $E2E_MNT/sys/class/powercap"
e2e_sim_zones all
ZONES=("${E2E_ZONES[@]}")
e2e_say "expected zones: ${ZONES[*]}"
perf_conf "$E2E_TMP/perf.conf"
e2e_perf_preload
e2e_collectd_start "$E2E_TMP/perf.conf"
e2e_perf_preload off

# ---------------------------------------------------------------- a
e2e_say "run a: powercap absent, perf reads"
e2e_use "$E2E_TMP/perf.conf"
e2e_wait_logged 8 "$E2E_TIMEOUT" package-0/energy/package
e2e_collectd_stop
e2e_log_show 'rapl|perf' 12
e2e_check zones --exact --backend perf "${ZONES[@]}"
e2e_check gauges --active perf --min 5
e2e_check faults --backend perf --zones "${#ZONES[@]}"
e2e_assert "no [error] or [warning] line from the plugin" \
  e2e_log_lacks '\[(error|warning)\] rapl_energy'

# ---------------------------------------------------------------- b
e2e_say "run b: CPU $OFFLINE_CPU (package 1's in cpumask) goes offline"
e2e_use "$E2E_TMP/offline.conf"
e2e_sim_use offline-mnt
e2e_wait_logged 7 "$E2E_TIMEOUT" package-1/power/package
mark=$(e2e_log_mark)
e2e_ctl "offline $OFFLINE_CPU"
t_off=$(e2e_now)
e2e_say "cpumask now $(cat "$E2E_MNT/sys/bus/event_source/devices/power/cpumask")"
e2e_wait_for '\[(error|warning)\] rapl_energy' "$E2E_TIMEOUT" "$mark"
e2e_wait_values 7 "$E2E_TIMEOUT" package-1/power/package
e2e_assert "collectd is still running" e2e_alive
e2e_collectd_stop
e2e_say "log after CPU $OFFLINE_CPU went offline:"
e2e_log_since "$mark" 'rapl|perf' | sed 's/^/    log: /' | head -20
mapfile -t P0 < <(of_package 0 "${ZONES[@]}")
mapfile -t P1 < <(of_package 1 "${ZONES[@]}")
# One line per zone that read on that CPU, each naming its zone and CPU,
# and nothing about the zones read elsewhere.
n=$(e2e_log_since "$mark" '\[(error|warning)\] rapl_energy' | grep -c .)
e2e_assert "one error line per zone of package 1 (${#P1[@]}), got $n" \
  test "$n" -eq "${#P1[@]}"
n=$(e2e_log_since "$mark" "\\[(error|warning)\\] rapl_energy: perf: reading zone package-1/[a-z]+ from perf event power/energy-[a-z]+/ on CPU $OFFLINE_CPU failed" | grep -c .)
e2e_assert "each names a zone of package 1 and CPU $OFFLINE_CPU (got $n)" \
  test "$n" -eq "${#P1[@]}"
e2e_assert "no error or warning line repeats" e2e_log_once "$mark"
e2e_assert "the zones moved to the new cpumask CPU" \
  e2e_log_since_has "$mark" "package-1/package is readable again from perf event power/energy-pkg/ on CPU [0-9]+"
# No value 0 or a spike at any time; package 0 and psys, on CPU 0, read on
# without a gap.
e2e_check steady --min-power 10 --no-gap --average --whole "${P0[@]}" platform/psys=120
e2e_check steady --min-power 10 --average "${P1[@]}"
e2e_check steady --since "$(e2e_add "$t_off" 2.5)" --min-power 4 --no-gap "${P1[@]}"
e2e_check backends --after 0 perf

# ---------------------------------------------------------------- c
e2e_say "run c: the PMU vanishes and comes back"
e2e_use "$E2E_TMP/gone.conf"
e2e_sim_use gone-mnt
e2e_wait_logged 3 "$E2E_TIMEOUT" package-0/power/package
mark=$(e2e_log_mark)
e2e_ctl "hide sys/devices/power"
e2e_ctl "hide perf"
t_hide=$(e2e_now)
e2e_wait_for '\[(error|warning)\] rapl_energy' "$E2E_TIMEOUT" "$mark"
# Reads while it is gone, each of which could log again.
e2e_wait_values 4 "$E2E_TIMEOUT" /count/zones
e2e_ctl "show perf"
e2e_ctl "show sys/devices/power"
t_show=$(e2e_now)
e2e_wait_values 7 "$E2E_TIMEOUT" package-0/power/package
e2e_assert "collectd is still running" e2e_alive
e2e_collectd_stop
e2e_say "log after the PMU vanished:"
e2e_log_since "$mark" 'rapl|perf' | sed 's/^/    log: /' | head -20
e2e_assert "the outage is logged" \
  e2e_log_since_has "$mark" '\[(error|warning)\] rapl_energy.*(perf|power)'
e2e_assert "each error or warning about it is logged once" e2e_log_once "$mark"
e2e_check faults --backend perf --gone "$t_hide" --zones "${#ZONES[@]}" \
  --back "$t_show"
e2e_check steady --min-power 8 --window "$(e2e_add "$t_hide" 1.1)" \
  "$(e2e_add "$t_show" -0.1)" "${ZONES[@]}"
e2e_check steady --since "$(e2e_add "$t_show" 2.5)" --min-power 4 --no-gap \
  "${ZONES[@]}"

# ---------------------------------------------------------------- d
e2e_say "run d: powercap and perf: powercap first, perf while it is hidden"
e2e_use "$E2E_TMP/both.conf"
e2e_sim_use both-mnt
e2e_wait_logged 7 "$E2E_TIMEOUT" package-0/power/package
mark=$(e2e_log_mark)
e2e_ctl "hide sys/class/powercap"
e2e_ctl "hide sys/devices/virtual/powercap"
t_hide=$(e2e_now)
e2e_wait_for 'backend perf' "$E2E_TIMEOUT" "$mark"
e2e_wait_values 7 "$E2E_TIMEOUT" package-0/power/package
e2e_ctl "show sys/devices/virtual/powercap"
e2e_ctl "show sys/class/powercap"
t_show=$(e2e_now)
e2e_wait_for 'backend powercap' "$E2E_TIMEOUT" "$mark"
e2e_wait_values 7 "$E2E_TIMEOUT" package-0/power/package
e2e_assert "collectd is still running" e2e_alive
e2e_collectd_stop
e2e_say "log after powercap was hidden:"
e2e_log_since "$mark" 'rapl|perf|powercap' | sed 's/^/    log: /' | head -20
t_perf=$(e2e_add "$t_hide" 1.5)
t_back=$(e2e_add "$t_show" 2.5)
e2e_check backends --before "$t_hide" powercap --during "$t_perf" "$t_show" perf \
  --after "$t_back" powercap --gauge-after "$t_back" powercap
# Each read's gauges and count-zones name the backend its zones came from:
# backend-perf 0 while powercap reads.
e2e_check faults --backend powercap
# No value 0 or a spike at any time, energy never backwards and bounded by
# the simulator's; averages within 0.5% through powercap before it
# vanished, and from perf's first power value on.
e2e_check steady --min-power 5 --average --until "$t_hide" "${BOTH_ZONES[@]}"
e2e_check steady --min-power 10 --average --since "$(e2e_add "$t_hide" 1.5)" \
  "${BOTH_ZONES[@]}"
# The read that finds powercap gone opens perf and takes its baseline, and
# reports nothing; perf's power comes at the next read, and the energy of
# the interval powercap vanished in is all that is not counted.
e2e_check steady --min-power 20 --max-gap 2.5 --max-loss 1.5 "${BOTH_ZONES[@]}"
# From perf's first power value on, through the switch back to powercap:
# a value at every read, and every step of the energy total at the watts.
e2e_check steady --since "$(e2e_add "$t_hide" 2.5)" --min-power 10 --no-gap \
  --energy-rate 0.10 "${BOTH_ZONES[@]}"
e2e_check identifiers --backend powercap --backend perf "${BOTH_ZONES[@]}"

e2e_finish
