#!/bin/bash
# rapl-energy-probe on the fixture trees (t/data/powercap, t/data/yaml): the
# exit status (0 a backend works, 1 none, 2 usage or configuration error)
# and the messages, without FUSE or privileges.

# shellcheck source=common.sh source-path=SCRIPTDIR
. "$(dirname "$0")/common.sh"
t_setup
PC="$DATA/powercap"
# The vendor decides whether powercap's core zone counts (AMD: one core):
# an Intel cpuinfo, not this machine's.
INTEL="$DATA/msr/intel-skx"

t_say "a two-socket powercap tree"
probe --sysfs "$PC/two-socket/sys" --procfs "$INTEL"
rc_is 0
out_has '^backend: powercap, 7 zone\(s\)$'
out_has '^  powercap  selected: reads 7 zone\(s\)$'
out_has '^  msr       rejected: MSREnabled is false \(the default\)'
out_has 'it could not read either: cannot read .*/devices/system/cpu/online'
out_has '^package-0 +core +1 uJ +262143 J +2000 W \(default\) +ok '
out_has '^package-0 +package +1 uJ +262143 J +2000 W \(default\) +ok +.*/two-socket/sys/class/powercap/intel-rapl:0/energy_uj$'
out_has '^package-1 +dram +1 uJ +65713 J +2000 W \(default\) +ok '
out_has '^platform +psys +1 uJ +262143 J +20000 W \(default\) +ok '
out_has 'read at least every 13 s \(RANGE / BOUND'
err_empty

t_say "the same as JSON"
probe --sysfs "$PC/two-socket/sys" --procfs "$INTEL" --json
rc_is 0
json_is "backend powercap" 'd["backend"] == "powercap" and d["why"] is None'
json_is "7 zones with source, unit, range and bound" \
  'len(d["zones"]) == 7 and all(z["unit_j"] == 1e-6 and z["bound_w"] in (2000, 20000) and z["source"].endswith("/energy_uj") and z["read"] == "ok" for z in d["zones"])'
json_is "dram range and read gap" \
  '[round(z["range_j"]) for z in d["zones"] if z["zone"] == "dram"] == [65713, 65713] and abs(min(z["max_read_gap_s"] for z in d["zones"]) - 13.107) < 0.01'
json_is "msr rejected by policy, with the reason it would not read either" \
  'd["backends"][2]["name"] == "msr" and d["backends"][2]["verdict"] == "rejected" and d["backends"][2]["policy"].startswith("MSREnabled is false") and "cpu/online" in d["backends"][2]["reason"]'
json_is "the configuration" 'd["config"]["SysfsPath"].endswith("/two-socket/sys") and d["config"]["MSREnabled"] is False and d["config"]["Zone"] == "all"'

t_say "zones that hold garbage: found, but the first read withholds them"
probe --sysfs "$PC/garbage/sys"
rc_is 0
out_has '^package-1 +package .* not a value '
out_has '^package-7 +package .* above range '
err_has 'error: powercap: .*intel-rapl:6/max_energy_range_uj: a range of 0 cannot be a counter.s; that zone is not reported'

t_say "no powercap directory"
probe --sysfs "$PC/absent/sys"
rc_is 1
out_has '^backend: none: powercap is unavailable: no powercap directory .*/absent/sys/class/powercap'
out_has '^  powercap  rejected: no powercap directory'
out_has "^            remedy: load the kernel's RAPL driver \(modprobe intel_rapl_msr"
out_lacks '^SOCKET'

t_say "no zone in powercap; the MSR fallback allowed but without a CPU tree"
probe --sysfs "$PC/empty/sys" --msr
rc_is 1
out_has '^backend: none: powercap is unavailable: no RAPL zone \(intel-rapl:\*\) under .*; perf is unavailable: no perf power PMU .*; msr is unavailable: '
out_has '^            remedy: the kernel.s RAPL driver registered no zone'
out_has '^  msr       rejected: cannot read .*/devices/system/cpu/online'

t_say "a Zone filter that selects nothing here"
probe --sysfs "$PC/two-socket/sys" --procfs "$INTEL" --zone uncore
rc_is 1
out_has 'rejected: 7 RAPL zone\(s\) under .*, none of a kind the Zone option selects'
out_has 'remedy: widen Zone \(--zone\)'

t_say "AMD: the kernel's core zone is one core"
probe --sysfs "$PC/amd-cpuinfo/sys" --procfs "$PC/amd-cpuinfo/proc" --zone core --json
rc_is 1
json_is "powercap rejected with the AMD core reason and remedy" \
  '"counts one core of the package" in d["backends"][0]["reason"] and "MSR backend only" in d["backends"][0]["remedy"]'

t_say "repeated --zone flags add up, as Zone lines do"
probe --sysfs "$PC/two-socket/sys" --procfs "$INTEL" --zone package --zone psys --json
rc_is 0
json_is "package and psys" 'sorted(set(z["zone"] for z in d["zones"])) == ["package", "psys"] and d["config"]["Zone"] == "package, psys"'

t_say "usage errors exit 2"
for args in "--bogus" "--zone" "--zone gpu" "--msr=maybe" "extra" \
  "--msr-device-path /dev/cpu/%s/msr" "--sysfs relative/sys" \
  "--msr-min-interval 4000" "--watch 0" "--config /etc/x.yaml --watch 2"; do
  # shellcheck disable=SC2086 # the words are the arguments
  probe $args
  rc_is 2
  if grep -q "Try 'rapl-energy-probe --help'" "$T_TMP/err"; then t_ok "says how to get help"; else t_fail "says how to get help"; fi
done
probe --zone gpu
err_has '^rapl-energy-probe: --zone: unknown zone "gpu" \(expected package, core, uncore, dram or psys\)$'
probe --msr-device-path /dev/cpu/%s/msr
err_has '^rapl-energy-probe: --msr-device-path: "/dev/cpu/%s/msr" may contain only one %d'
probe --sysfs "$PC/two-socket/sys" --procfs "$INTEL" --msr=no --msr-force=off
rc_is 0

t_say "--config: the plugin's loader and messages, no counter read"
cat >"$T_TMP/good.yaml" <<YAML
host:
  sysfs: $PC/two-socket/sys
rapl:
  zones: [package, dram]
rapl_energy:
  msrMinInterval: 2
YAML
chmod 644 "$T_TMP/good.yaml"
probe --config "$T_TMP/good.yaml"
rc_is 0
out_has "^$T_TMP/good.yaml: valid; with it, the plugin's configuration is:$"
out_has '^  SysfsPath +.*/two-socket/sys$'
out_has '^  Zone +package, dram$'
out_has '^  MSRMinInterval +2$'
out_lacks '^backend'
err_empty
t_say "the flags are the collectd block: the file wins, a key it lacks falls back"
probe --config "$T_TMP/good.yaml" --procfs /host/proc --zone psys --json
rc_is 0
json_is "procfs from the flag, zones from the file" \
  'd["valid"] and d["config"]["ProcfsPath"] == "/host/proc" and d["config"]["Zone"] == "package, dram" and d["error"] is None'
t_say "a relative path is taken from the working directory"
(cd "$T_TMP" && "$PROBE" --config good.yaml >"$T_TMP/out" 2>"$T_TMP/err") && P_RC=0 || P_RC=$?
rc_is 0
out_has "^$T_TMP/good.yaml: valid"

printf 'msr:\n  enabled: "true"\n' >"$T_TMP/bad.yaml"
probe --config "$T_TMP/bad.yaml"
rc_is 2
err_has "^rapl-energy-probe: error: ConfigFile: $T_TMP/bad.yaml:2:12: msr.enabled: expected a boolean, found the string \"true\" \\(write true/false, yes/no or on/off, unquoted\\)\$"
probe --config "$T_TMP/bad.yaml" --json
rc_is 2
json_is "invalid, with the plugin's message" \
  'd["valid"] is False and d["config"] is None and d["error"].endswith("bad.yaml:2:12: msr.enabled: expected a boolean, found the string \"true\" (write true/false, yes/no or on/off, unquoted)")'

probe --config "$T_TMP/missing.yaml"
rc_is 2
err_has "ConfigFile: $T_TMP/missing.yaml: cannot open: No such file or directory"

printf 'rapl_energy:\n  reportPower: false\n  reportEnergy: false\n' >"$T_TMP/nothing.yaml"
probe --config "$T_TMP/nothing.yaml"
rc_is 2
err_has 'ReportPower and ReportEnergy are both false: nothing would be reported'

t_say "--config: MSR switches in a file others can write are withheld, with a warning"
printf 'msr:\n  enabled: true\n' >"$T_TMP/open.yaml"
chmod 666 "$T_TMP/open.yaml"
probe --config "$T_TMP/open.yaml"
rc_is 0
out_has '^  MSREnabled +false$'
err_has "warning: $T_TMP/open.yaml: not applying msr.enabled: true \\(line 2, column 12\\): the file is writable by everyone \\(mode 0666\\).*PLATYPUS"

t_say "--config: the example file that make install ships sets the defaults"
probe --config "$abs_top_srcdir/contrib/rapl_energy.yaml" --json
rc_is 0
json_is "valid, every option at its default" \
  'd["valid"] and d["config"] == {"SysfsPath": "/sys", "ProcfsPath": "/proc", "Zone": "all", "ReportPower": True, "ReportEnergy": True, "PerfEnabled": True, "MSREnabled": False, "MSRForce": False, "MSRDevicePath": "/dev/cpu/%d/msr", "MSRMinInterval": 1}'

t_say "--options lists the option table"
probe --options --json
rc_is 0
json_is "every option with its keys" \
  '[o["collectd"] for o in d] == ["SysfsPath", "ProcfsPath", "Zone", "ReportPower", "ReportEnergy", "PerfEnabled", "MSREnabled", "MSRForce", "MSRDevicePath", "MSRMinInterval", "ConfigFile"] and d[0]["yaml"] == ["host.sysfs", "rapl_energy.sysfsPath"] and d[0]["flag"] == "--sysfs" and d[10]["flag"] == "--config" and d[3]["flag"] is None'
probe --help
rc_is 0
out_has '^      --msr-force\[=BOOL\] +use the MSR backend even where powercap or perf works \(MSRForce\)$'
out_has '^Exit status: 0 a backend works, 1 none works, 2 usage or configuration error.$'
probe --version
rc_is 0
out_has '^rapl-energy-probe [0-9]'

t_finish
