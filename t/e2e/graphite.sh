#!/bin/bash
# End to end: Graphite. collectd reads the simulated two-socket Intel
# machine and sends with write_graphite (TCP, plaintext) to a real
# carbon-cache (Debian's graphite-carbon, in the foreground with a private
# configuration and storage directory, on free 127.0.0.1 ports, 1 s
# retention); the stored whisper series are read back with python3-whisper.
#
# Two write_graphite nodes: the default paths, and SeparateInstances true
# under the prefix "sep.". The host name is edge.example.com, which
# write_graphite writes as edge_example_com (dots would split the path).
#
# Asserts: the whisper files are edge_example_com/rapl_energy-<socket>/
# power-<zone>.wsp and energy-<zone>.wsp for every zone, rapl_energy/
# gauge-backend-powercap.wsp, gauge-backend-msr.wsp and count-zones.wsp, and
# with SeparateInstances sep/edge_example_com/rapl_energy/<socket>/power/
# <zone>.wsp; the stored values pass the judge of powercap.sh (each power
# value within 10% of the simulated watts, averages over 5 s or more within
# 0.5%, energy never decreasing and bounded by the simulator's readings);
# backend-powercap 1, backend-msr 0, count-zones 7.

# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
# shellcheck source=servers.sh source-path=SCRIPTDIR
. "$(dirname "$0")/servers.sh"

srv_setup
command -v carbon-cache >/dev/null || e2e_error "carbon-cache not found (apt-get install graphite-carbon)"
# python3-whisper is Debian's: the system interpreter has it where a
# version manager's python3 (pyenv) may not.
GPY=
for py in "$PYTHON" /usr/bin/python3; do
  if "$py" -c 'import whisper' 2>/dev/null; then
    GPY=$py
    break
  fi
done
[ -n "$GPY" ] || e2e_error "python3 whisper module missing (apt-get install python3-whisper)"
[ -f "$STOCK_PLUGINDIR/write_graphite.so" ] || e2e_error "$STOCK_PLUGINDIR/write_graphite.so missing (collectd-core)"
e2e_sim_start two-socket-intel.spec
e2e_sim_zones all
ZONES=("${E2E_ZONES[@]}")

LINE=$(srv_free_port tcp)
PICKLE=$(srv_free_port tcp)
QUERY=$(srv_free_port tcp)
G="$E2E_TMP/carbon"
W="$G/storage/whisper"
mkdir -p "$G/conf" "$G/log" "$G/run" "$W" "$G/storage/lists"
cat >"$G/conf/carbon.conf" <<EOF
[cache]
STORAGE_DIR = $G/storage/
LOCAL_DATA_DIR = $W/
WHITELISTS_DIR = $G/storage/lists/
CONF_DIR = $G/conf/
LOG_DIR = $G/log/
PID_DIR = $G/run/
ENABLE_LOGROTATION = False
USER =
MAX_CACHE_SIZE = inf
MAX_UPDATES_PER_SECOND = 100000
MAX_CREATES_PER_MINUTE = inf
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = $LINE
ENABLE_UDP_LISTENER = False
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = $PICKLE
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = $QUERY
LOG_LISTENER_CONNECTIONS = False
LOG_UPDATES = False
LOG_CREATES = False
WHISPER_AUTOFLUSH = True
CARBON_METRIC_INTERVAL = 0
EOF
cat >"$G/conf/storage-schemas.conf" <<EOF
[everything]
pattern = .*
retentions = 1s:1h
EOF
cat >"$G/conf/storage-aggregation.conf" <<EOF
[default]
pattern = .*
xFilesFactor = 0
aggregationMethod = average
EOF
srv_start carbon carbon-cache --config="$G/conf/carbon.conf" \
  --pidfile="$G/run/carbon.pid" --logdir="$G/log" --nodaemon start
srv_wait_tcp carbon "$LINE"

e2e_write_conf "$E2E_TMP/edge.conf" <<'EOF'
  SysfsPath "@MNT@/sys"
EOF
sed -i 's/^Hostname "e2e"$/Hostname "edge.example.com"/' "$E2E_TMP/edge.conf"
cat >>"$E2E_TMP/edge.conf" <<EOF
PluginDir "$STOCK_PLUGINDIR"
LoadPlugin write_graphite
<Plugin write_graphite>
  <Node "default">
    Host "127.0.0.1"
    Port "$LINE"
    Protocol "tcp"
  </Node>
  <Node "separate">
    Host "127.0.0.1"
    Port "$LINE"
    Protocol "tcp"
    Prefix "sep."
    SeparateInstances true
  </Node>
</Plugin>
EOF
e2e_collectd_start "$E2E_TMP/edge.conf"
e2e_wait_logged 11 "$E2E_TIMEOUT" package-1/power/package
e2e_assert "collectd is still running" e2e_alive
e2e_collectd_stop
srv_copy_bounds "$E2E_TMP/edge.conf" "$E2E_TMP/graphite.conf"
reads=$(grep -c '"type":"count","type_instance":"zones"' "$E2E_LOG")

# carbon writes what it received to whisper in its own time: wait until
# every read's count-zones (the last value of each read) is stored.
H="$W/edge_example_com"
stored() {
  "$GPY" -c '
import sys, time, whisper
(s, e, st), v = whisper.fetch(sys.argv[1], 0, time.time() + 60)
print(len([x for x in v if x is not None]))' "$H/rapl_energy/count-zones.wsp" 2>/dev/null
}
all_stored() { [ "$(stored)" = "$reads" ]; }
e2e_poll "$E2E_TIMEOUT" "carbon to store all $reads reads in whisper" all_stored

e2e_say "whisper files:"
(cd "$W" && find . -name '*.wsp' | sort | sed 's/^/    /')
for z in "${ZONES[@]}"; do
  pi=${z%%/*} ti=${z#*/} ti=${ti%%=*}
  for ty in power energy; do
    e2e_assert "edge_example_com.rapl_energy-$pi.$ty-$ti" test -s "$H/rapl_energy-$pi/$ty-$ti.wsp"
    e2e_assert "SeparateInstances: sep.edge_example_com.rapl_energy.$pi.$ty.$ti" \
      test -s "$W/sep/edge_example_com/rapl_energy/$pi/$ty/$ti.wsp"
  done
done
for f in gauge-backend-powercap gauge-backend-msr count-zones; do
  e2e_assert "edge_example_com.rapl_energy.$f" test -s "$H/rapl_energy/$f.wsp"
done

e2e_say "the stored series, judged"
"$GPY" "$E2E_DIR/srv_fetch.py" whisper "$W" "$E2E_TMP/graphite.log" ||
  e2e_fail "cannot read the whisper files"
E2E_LOG="$E2E_TMP/graphite.log"
CD_PID=
e2e_check zones --exact "${ZONES[@]}"
e2e_check gauges --active powercap --min 5
e2e_assert "count-zones is 7 at every read ($reads)" \
  test "$(grep '"type":"count","type_instance":"zones"' "$E2E_LOG" | grep -c '"values":\[7\.0\]')" -eq "$reads"
e2e_finish
