#!/bin/bash
# rapl-energy-probe on the simulated machines (t/sim/raplsim, FUSE): the
# backend it names and why each other one was rejected (missing directory,
# permission, missing capability, msr module not loaded, unsupported CPU
# model) with the remedy, the zones with source, unit, range and bound, and
# live watts that match what the simulator draws, as text and as JSON.
# Exit statuses 0 (a backend works) and 1 (none works).

# shellcheck source=common.sh source-path=SCRIPTDIR
. "$(dirname "$0")/common.sh"
sim_require
command -v setpriv >/dev/null || t_error "setpriv not found (apt-get install util-linux)"
t_setup

INTEL_SPEC='vendor intel
family 6
model 85
esu 14
cpu 0 package 0 core 0
cpu 1 package 0 core 1
cpu 2 package 1 core 0
cpu 3 package 1 core 1
zone package package 0 watts 45.5 limit_w 150
zone core    package 0 watts 20
zone dram    package 0 watts 7.5 unit_uj 15.3
zone package package 1 watts 61.25
zone core    package 1 watts 30
zone dram    package 1 watts 9 unit_uj 15.3
zone psys watts 120'
# What the simulator draws, zone by zone, for the live watts.
WATTS='{("package-0","package"): 45.5, ("package-0","core"): 20,
 ("package-0","dram"): 7.5, ("package-1","package"): 61.25,
 ("package-1","core"): 30, ("package-1","dram"): 9, ("platform","psys"): 120}'
sim_start "$INTEL_SPEC"
t_say "powercap reads: chosen; the MSRs would read too but are not enabled"
probe "${ARGS[@]}"
rc_is 0
out_has '^backend: powercap, 7 zone\(s\)$'
out_has '^  msr       not used: MSREnabled is false \(the default\)'
out_has '^            it would read 7 zone\(s\)$'
out_has '^package-0 +package +1 uJ +262144 J +450 W \(3 x 150 W stated\) +ok +.*/mnt/sys/class/powercap/intel-rapl:0/energy_uj$'
out_has '^package-1 +package +1 uJ +262144 J +2000 W \(default\) +ok '
out_has '^package-0 +dram +1 uJ +65713 J +2000 W \(default\) +ok '
out_has '^platform +psys +1 uJ +262144 J +20000 W \(default\) +ok '

t_say "live watts, as text and as JSON"
probe "${ARGS[@]}" --watch 2
rc_is 0
out_has '^live watts every 1 s for 2 s'
out_has '^1\.0 s, powercap$'
out_has '^2\.0 s, powercap$'
out_has '^SOCKET +ZONE +WATTS +JOULES$'
out_has '^package-1 +package +[0-9]+\.[0-9]{2} +[0-9]+\.[0-9]{3}$'
probe "${ARGS[@]}" --watch 2 --interval 0.5 --json
rc_is 0
json_is "four samples, half a second apart" '[s["t"] for s in d["samples"]] == [0.5, 1.0, 1.5, 2.0] and all(s["backend"] == "powercap" for s in d["samples"])'
watts_match "the simulator's watts"
json_is "energy grows" 'd["samples"][-1]["zones"][0]["energy_j"] > d["samples"][0]["zones"][0]["energy_j"] > 0'

t_say "MSRForce: the MSRs, with registers, the model's units and the thermal spec power as the bound"
probe "${ARGS[@]}" --msr-force
rc_is 0
out_has '^backend: msr, 7 zone\(s\)$'
out_has '^  powercap  not used: MSRForce is true'
out_has '^package-0 +package +61\.0352 uJ +262144 J +450 W \(3 x 150 W stated\) +ok +.*/mnt/dev/cpu/0/msr register 0x611$'
out_has '^package-1 +dram +15\.3 uJ +65713 J +2000 W \(default\) +ok +.*/mnt/dev/cpu/2/msr register 0x619$'
out_has '^platform +psys +61\.0352 uJ .* register 0x64d$'
probe "${ARGS[@]}" --msr-force --watch 2 --json
rc_is 0
json_is "backend msr" 'd["backend"] == "msr" and all(s["backend"] == "msr" for s in d["samples"])'
watts_match "the simulator's watts through the MSRs"

t_say "missing capability: no CAP_SYS_RAWIO"
probe_nocap() {
  P_ARGS="(without CAP_SYS_RAWIO) $*"
  P_RC=0
  setpriv --bounding-set -sys_rawio --inh-caps -sys_rawio -- \
    "$PROBE" "$@" >"$T_TMP/out" 2>"$T_TMP/err" || P_RC=$?
  t_say "rapl-energy-probe $P_ARGS: exit $P_RC"
}
probe_nocap "${ARGS[@]}" --msr-force
rc_is 1
out_has '^backend: none: MSRForce is set but the msr backend cannot read RAPL: reading MSRs needs the CAP_SYS_RAWIO capability, which this process lacks'
out_has '^  msr       rejected: reading MSRs needs the CAP_SYS_RAWIO capability'
out_has '^            remedy: run collectd as root, or grant it CAP_SYS_RAWIO \(systemd: AmbientCapabilities=CAP_SYS_RAWIO'
out_has '^  powercap  not used: MSRForce is true'
out_has '^            remedy: set MSRForce false \(drop --msr-force\): powercap reads here$'

t_say "permission: energy_uj denied"
for z in intel-rapl:0 intel-rapl:0/intel-rapl:0:0 intel-rapl:0/intel-rapl:0:1 \
  intel-rapl:1 intel-rapl:1/intel-rapl:1:0 intel-rapl:1/intel-rapl:1:1 \
  intel-rapl:2; do
  ctl "deny sys/devices/virtual/powercap/intel-rapl/$z/energy_uj"
done
probe "${ARGS[@]}"
rc_is 1
out_has '^  powercap  rejected: permission denied opening .*/energy_uj: energy_uj is readable by root only since Linux 5.10 \(PLATYPUS\)'
out_has '^            remedy: run collectd \(and this probe\) as root, or grant CAP_DAC_READ_SEARCH'
out_has '^            remedy: set "MSREnabled true" to allow it, after reading SECURITY in collectd-rapl_energy\(5\) .*\(--msr\)$'
probe "${ARGS[@]}" --msr
rc_is 0
out_has '^backend: msr, 7 zone\(s\)$'
out_has '^  powercap  rejected: permission denied opening'

t_say "missing directory: powercap hidden"
sim_start "$INTEL_SPEC"
ctl "hide sys/class/powercap"
probe "${ARGS[@]}" --json
rc_is 1
json_is "no backend, and why" 'd["backend"] is None and d["why"].startswith("powercap is unavailable: no powercap directory") and "msr is disabled (MSREnabled is false)" in d["why"]'
json_is "powercap rejected with the remedy" 'd["backends"][0]["verdict"] == "rejected" and "intel_rapl_msr" in d["backends"][0]["remedy"] and "--sysfs" in d["backends"][0]["remedy"]'
json_is "the MSRs would read but are not enabled" 'd["backends"][2]["verdict"] == "not used" and d["backends"][2]["works"] and d["backends"][2]["zones"] == 7 and d["backends"][2]["remedy"].startswith("set \"MSREnabled true\" to allow it") and d["backends"][2]["remedy"].endswith("(--msr)")'
json_is "no zones" 'd["zones"] == []'

t_say "msr module not loaded: no device"
probe "${ARGS[@]}" --msr --msr-device-path "$T_TMP/none/cpu/%d/msr"
rc_is 1
out_has "^  msr       rejected: no MSR device $T_TMP/none/cpu/0/msr for CPU 0: load the msr kernel module \\(modprobe msr\\)$"
out_has '^            remedy: modprobe msr, and list msr in /etc/modules-load.d/'

t_say "unsupported CPU model"
probe "${ARGS[@]}" --msr --procfs "$DATA/msr/amd-fam16"
rc_is 1
out_has '^  msr       rejected: AuthenticAMD CPU family 22 \(0x16\) has no RAPL MSRs known to this plugin'
out_has '^            remedy: the MSRs of this CPU family are unknown to the plugin: use powercap$'
probe "${ARGS[@]}" --msr --procfs "$DATA/msr/via"
rc_is 1
out_has 'rejected: CPU vendor "CentaurHauls" is not supported by the MSR backend'

t_say "the MSR fallback where powercap is missing"
probe "${ARGS[@]}" --msr --watch 1 --json
rc_is 0
json_is "msr selected, powercap rejected" 'd["backend"] == "msr" and d["backends"][0]["verdict"] == "rejected" and len(d["samples"]) == 1'
watts_match "the simulator's watts through the fallback"

t_say "AMD: core is the sum of one counter per physical core"
sim_start "$(cat "$abs_top_srcdir/t/sim/specs/amd-zen.spec")"
probe "${ARGS[@]}" --msr-force --json
rc_is 0
json_is "package and core, core summed over 4 cores" \
  '[(z["zone"], z["counters"]) for z in d["zones"]] == [("package", 1), ("core", 4)] and d["zones"][1]["source"].endswith("register 0xc001029a (summed)") and abs(d["zones"][0]["unit_j"] - 2**-16) < 1e-12'

t_finish
