#!/bin/bash
# rapl-energy-probe and the perf_event power PMU backend, on the simulator
# (t/sim/raplsim with "perf") through the perf_event_open seam's LD_PRELOAD
# module (t/.libs/libraplperf.so): perf chosen where powercap is missing, its
# zones with the identifiers powercap gives on the same machine, their
# source (event and CPU) and scale; perf not used where powercap reads, off
# with PerfEnabled false (and the remedy), refused by perf_event_paranoid
# without CAP_PERFMON/CAP_SYS_ADMIN or by a policy (the reason passed
# through, the remedy); the backends' policy data in the JSON; live watts
# through perf.

# shellcheck source=common.sh source-path=SCRIPTDIR
. "$(dirname "$0")/common.sh"
sim_require
command -v setpriv >/dev/null || t_error "setpriv not found (apt-get install util-linux)"
PRELOAD="$abs_top_builddir/t/.libs/libraplperf.so"
[ -f "$PRELOAD" ] || t_error "$PRELOAD is not built (run make check)"
t_setup

SPECS="$abs_top_srcdir/t/sim/specs"
# What the perf spec's machine draws, zone by zone (the spec's own lines).
WATTS='{("package-0","package"): 45.5, ("package-0","core"): 20,
 ("package-0","dram"): 7.5, ("package-1","package"): 61.25,
 ("package-1","core"): 30, ("package-1","dram"): 9, ("platform","psys"): 120}'
perf_start() {
  sim_start "$(cat "$SPECS/$1")"
  P_ENV=(LD_PRELOAD="$PRELOAD" RAPLSIM_PERF_ROOT="$MNT")
  PMU="$MNT/sys/bus/event_source/devices/power"
}
# The probe without CAP_PERFMON and CAP_SYS_ADMIN, as a daemon started
# without them: the perf_event_open seam checks the effective set as the
# kernel does.
without_caps() { P_WRAP=(setpriv --inh-caps=-all "--bounding-set=-sys_admin,-perfmon" --); }
with_caps() { P_WRAP=(); }

perf_start two-socket-intel-perf.spec
t_say "no powercap, the perf PMU: perf is chosen"
probe "${ARGS[@]}"
rc_is 0
out_has '^backend: perf, 7 zone\(s\)$'
out_has '^  powercap  rejected: no powercap directory '
out_has '^  perf      selected: reads 7 zone\(s\)$'
out_has '^  msr       not used: MSREnabled is false \(the default\); true would allow the MSR backend'
# The unit is the PMU's .scale (2^-32 J), the range the 64-bit count's.
out_has '^package-0 +package +0\.232831 nJ +4\.29497e\+09 J +2000 W \(default\) +ok +perf event power/energy-pkg/ on CPU 0$'
out_has '^package-1 +package +0\.232831 nJ .* ok +perf event power/energy-pkg/ on CPU 4$'
out_has '^package-1 +core +.* ok +perf event power/energy-cores/ on CPU 4$'
out_has '^package-0 +dram +.* ok +perf event power/energy-ram/ on CPU 0$'
out_has '^platform +psys +0\.232831 nJ .* 20000 W \(default\) +ok +perf event power/energy-psys/ on CPU 0$'
err_empty

t_say "the same as JSON: source from the PMU's cpumask, unit from its .scale"
probe "${ARGS[@]}" --json
rc_is 0
cpumask=$(cat "$PMU/cpumask")
scale=$(cat "$PMU/events/energy-pkg.scale")
t_say "the simulator's PMU: cpumask $cpumask, energy-pkg.scale $scale"
json_is "backend perf" 'd["backend"] == "perf" and d["why"] is None'
json_is "every zone's unit is the .scale file's value, exactly, but dram's" \
  "len(d['zones']) == 7 and all(z['unit_j'] == float('$scale') for z in d['zones'] if z['zone'] != 'dram')"
# The simulated machine is INTEL_SKYLAKE_X: the perf driver counts its fixed
# 15.3 uJ DRAM unit as 2^-16 J, and the plugin scales it back.
json_is "dram's unit is .scale x 15.3 uJ / 2^-16 J (the kernel's HSW DRAM quirk)" \
  "all(abs(z['unit_j'] - float('$scale') * 15.3e-6 * 65536) < 1e-24 for z in d['zones'] if z['zone'] == 'dram')"
json_is "each package's zones are opened on its CPU in cpumask" \
  "all(z['source'] == 'perf event power/energy-%s/ on CPU %s' % ({'package': 'pkg', 'core': 'cores', 'dram': 'ram', 'psys': 'psys'}[z['zone']], '$cpumask'.split(',')[0 if z['socket'] in ('package-0', 'platform') else 1]) for z in d['zones'])"
json_is "a 64-bit count: range 2^64-1 units, one counter per zone" \
  'all(z["range_units"] == 2**64 - 1 and z["counters"] == 1 and z["read"] == "ok" for z in d["zones"])'
json_is "the backends' policy data: perf governed by PerfEnabled, msr by MSREnabled, MSRForce and MSRMinInterval" \
  '[(b["name"], b["enabled_by"], b["enabled"], b["forced_by"], b["min_interval_s"]) for b in d["backends"]] == [("powercap", None, True, None, None), ("perf", "PerfEnabled", True, None, None), ("msr", "MSREnabled", False, "MSRForce", 1)]'
json_is "perf selected, powercap rejected with its remedy" \
  'd["backends"][1]["verdict"] == "selected" and d["backends"][1]["zones"] == 7 and d["backends"][0]["verdict"] == "rejected" and "--sysfs" in d["backends"][0]["remedy"]'

t_say "live watts through perf"
probe "${ARGS[@]}" --watch 2 --interval 0.5 --json
rc_is 0
json_is "four samples, all through perf" '[s["t"] for s in d["samples"]] == [0.5, 1.0, 1.5, 2.0] and all(s["backend"] == "perf" for s in d["samples"])'
watts_match "the simulator's watts through perf"

t_say "the MSRs enabled too: perf still first, the MSRs only where it cannot read"
probe "${ARGS[@]}" --msr
rc_is 0
out_has '^backend: perf, 7 zone\(s\)$'
out_has '^  msr       not used: perf reads, and msr serves only where the backends before it cannot \(MSRForce is false\)$'
out_has '^            it would read 7 zone\(s\)$'

t_say "MSRForce: the MSRs even where perf reads"
probe "${ARGS[@]}" --msr-force --watch 1 --interval 0.5
rc_is 0
out_has '^backend: msr, 7 zone\(s\)$'
out_has '^  perf      not used: MSRForce is true: the msr backend is used even where perf works$'
err_has 'the msr backend is read at most every 1 s \(MSRMinInterval, --msr-min-interval\): readings in between show no zone'

t_say "PerfEnabled false: perf is off, and nothing else reads"
probe "${ARGS[@]}" --perf=false
rc_is 1
out_has '^backend: none: powercap is unavailable: .*; perf is disabled \(PerfEnabled is false\): set "PerfEnabled true" to allow it; msr is disabled'
out_has '^  perf      not used: PerfEnabled is false; true would allow the perf_event power PMU backend where powercap cannot read$'
out_has '^            it would read 7 zone\(s\)$'
out_has '^            remedy: set "PerfEnabled true" to allow it \(--perf\)$'
probe "${ARGS[@]}" --perf=false --json
rc_is 1
json_is "perf: not used, would read, disabled, with the remedy" \
  'd["backend"] is None and d["backends"][1]["verdict"] == "not used" and d["backends"][1]["works"] and d["backends"][1]["zones"] == 7 and d["backends"][1]["enabled"] is False and d["backends"][1]["remedy"] == "set \"PerfEnabled true\" to allow it (--perf)" and d["config"]["PerfEnabled"] is False'

t_say "PerfEnabled false with the MSRs enabled: the MSRs read, and perf would be preferred"
probe "${ARGS[@]}" --perf=false --msr
rc_is 0
out_has '^backend: msr, 7 zone\(s\)$'
out_has '^  perf      not used: PerfEnabled is false'
out_has '^            remedy: set "PerfEnabled true" to allow it \(--perf\)$'

t_say "PerfEnabled false from a YAML file (rapl_energy.perfEnabled)"
printf 'rapl_energy:\n  perfEnabled: false\n' >"$T_TMP/perf.yaml"
probe --config "$T_TMP/perf.yaml" --json
rc_is 0
json_is "valid, PerfEnabled false" 'd["valid"] and d["config"]["PerfEnabled"] is False'

t_say "perf_event_paranoid 2 (the simulator's default), no CAP_PERFMON or CAP_SYS_ADMIN: refused, and why"
without_caps
probe "${ARGS[@]}"
rc_is 1
out_has "^backend: none: powercap is unavailable: .*; perf is unavailable: perf_event_open refused power/energy-pkg/ on CPU 0 \\(Permission denied\\): system-wide events need $MNT/proc/sys/kernel/perf_event_paranoid at most 0 \\(it is 2\\), or CAP_PERFMON \\(Linux 5\\.8 and later\\) or CAP_SYS_ADMIN, and this process has neither capability; msr is disabled"
out_has '^  perf      rejected: perf_event_open refused power/energy-pkg/ on CPU 0 \(Permission denied\): system-wide events need'
out_has '^            remedy: grant collectd CAP_PERFMON \(Linux 5\.8 and later; systemd: AmbientCapabilities=CAP_PERFMON in a drop-in for collectd\.service\) or run it as root; do not lower kernel\.perf_event_paranoid'
probe "${ARGS[@]}" --json
json_is "rejected, not working, the reason and the remedy" \
  'd["backends"][1]["verdict"] == "rejected" and not d["backends"][1]["works"] and "(it is 2)" in d["backends"][1]["reason"] and "CAP_PERFMON" in d["backends"][1]["remedy"] and d["zones"] == []'
ctl "paranoid 1"
probe "${ARGS[@]}"
rc_is 1
out_has 'perf_event_paranoid at most 0 \(it is 1\)'
t_say "perf_event_paranoid 0: system-wide events need no capability"
ctl "paranoid 0"
probe "${ARGS[@]}"
rc_is 0
out_has '^backend: perf, 7 zone\(s\)$'
with_caps
ctl "paranoid 2"
probe "${ARGS[@]}"
rc_is 0
out_has '^backend: perf, 7 zone\(s\)$'

t_say "refused although privileged (a security module): the reason says so"
ctl "deny perf/cpu0/energy-pkg"
probe "${ARGS[@]}"
rc_is 1
out_has "^  perf      rejected: perf_event_open refused power/energy-pkg/ on CPU 0 \\(Permission denied\\) although $MNT/proc/sys/kernel/perf_event_paranoid is 2 and this process has CAP_PERFMON and has CAP_SYS_ADMIN: a security module \\(SELinux, AppArmor\\) or a seccomp filter refuses perf events$"
out_has '^            remedy: allow perf_event_open in the policy that confines collectd'
probe "${ARGS[@]}" --msr
rc_is 0
out_has '^backend: msr, 7 zone\(s\)$'
out_has '^  perf      rejected: perf_event_open refused'
ctl "allow perf/cpu0/energy-pkg"

t_say "failed opens other than a refusal: each zone's own message, and the others read"
ctl "hide perf/cpu4/energy-cores" "hide perf/cpu4/energy-ram"
probe "${ARGS[@]}"
rc_is 0
out_has '^backend: perf, 5 zone\(s\)$'
err_has 'perf: package-1/core: perf_event_open of power/energy-cores/ \(type 1000, config 0x1\) on CPU 4 failed: No such device; left out'
err_has 'perf: package-1/dram: perf_event_open of power/energy-ram/ \(type 1000, config 0x3\) on CPU 4 failed: No such device; left out'
ctl "show perf/cpu4/energy-cores" "show perf/cpu4/energy-ram"

t_say "the PMU hidden: no perf power PMU"
ctl "hide sys/devices/power"
probe "${ARGS[@]}"
rc_is 1
out_has "^  perf      rejected: no perf power PMU $MNT/sys/bus/event_source/devices/power "
out_has '^            remedy: the kernel.s RAPL perf driver \(CONFIG_PERF_EVENTS_INTEL_RAPL\)'

t_say "powercap and perf over the same zones: powercap first, perf not used"
perf_start two-socket-intel-both.spec
probe "${ARGS[@]}" --json
rc_is 0
cp "$T_TMP/out" "$T_TMP/powercap.json"
json_is "powercap selected; perf would read 7 zones, not used" \
  'd["backend"] == "powercap" and d["backends"][1]["verdict"] == "not used" and d["backends"][1]["works"] and d["backends"][1]["zones"] == 7 and d["backends"][1]["policy"] == "powercap reads, and perf serves only where the backends before it cannot" and d["backends"][1]["remedy"] is None'
ctl "hide sys/class/powercap"
probe "${ARGS[@]}" --json
rc_is 0
json_is "powercap hidden: perf, with the same socket and zone identifiers as powercap gave" \
  "d['backend'] == 'perf' and sorted((z['socket'], z['zone']) for z in d['zones']) == sorted((z['socket'], z['zone']) for z in __import__('json').load(open('$T_TMP/powercap.json'))['zones'])"

t_finish
