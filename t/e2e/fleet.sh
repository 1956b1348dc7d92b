#!/bin/bash
# End to end: a collectd fleet. An edge collectd reads the simulated
# two-socket Intel machine with rapl_energy and sends with the network plugin
# (UDP, 127.0.0.1, a free port) to a central collectd that listens with the
# network plugin and writes with write_log (JSON) and csv.
#
# Asserts on what the central collectd wrote: every zone arrives under the
# edge's host name and identifiers (host e2e, plugin rapl_energy, the socket
# as plugin_instance, power/energy-<zone>), with the edge's timestamps; the
# judge of powercap.sh holds on the received values (each power value within
# 10% of the simulated watts, averages over 5 s or more within 0.5%, energy
# never decreasing and bounded by the simulator's readings); the backend
# gauges (backend-powercap 1, backend-msr 0) and count-zones (7) arrive every
# interval; every value list the edge logged arrives; the meta data
# rapl_backend does not (the network plugin drops it, which is why the
# gauges exist); the csv files carry the same identifiers.

# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
# shellcheck source=servers.sh source-path=SCRIPTDIR
. "$(dirname "$0")/servers.sh"

srv_setup
for p in network csv; do
  [ -f "$STOCK_PLUGINDIR/$p.so" ] || e2e_error "$STOCK_PLUGINDIR/$p.so missing (collectd-core)"
done
e2e_sim_start two-socket-intel.spec
e2e_sim_zones all
ZONES=("${E2E_ZONES[@]}")
[ "${#ZONES[@]}" -eq 7 ] || e2e_error "two-socket-intel.spec should have 7 zones"
PORT=$(srv_free_port udp)

srv_central_conf "$E2E_TMP/central.conf" <<EOF
LoadPlugin network
<Plugin network>
  Listen "127.0.0.1" "$PORT"
</Plugin>
LoadPlugin csv
<Plugin csv>
  DataDir "$E2E_TMP/csv"
  StoreRates false
</Plugin>
EOF
e2e_write_conf "$E2E_TMP/edge.conf" <<'EOF'
  SysfsPath "@MNT@/sys"
EOF
cat >>"$E2E_TMP/edge.conf" <<EOF
PluginDir "$STOCK_PLUGINDIR"
LoadPlugin network
<Plugin network>
  Server "127.0.0.1" "$PORT"
</Plugin>
EOF

e2e_say "central collectd listening on 127.0.0.1:$PORT/udp, edge sending to it"
e2e_collectd_start "$E2E_TMP/central.conf"
e2e_collectd_start "$E2E_TMP/edge.conf"
# Nine reads received: the baseline, the first interval (not averaged), then
# seven power values over 6 s.
e2e_use "$E2E_TMP/central.conf"
e2e_wait_logged 9 "$E2E_TIMEOUT" package-1/power/package
e2e_wait_logged 9 "$E2E_TIMEOUT" platform/energy/psys
e2e_use "$E2E_TMP/edge.conf"
e2e_assert "the edge collectd is still running" e2e_alive
e2e_collectd_stop
sent=$(grep -c '"plugin":"rapl_energy"' "$E2E_LOG")
reads=$(grep -c '"type":"count","type_instance":"zones"' "$E2E_LOG")
e2e_use "$E2E_TMP/central.conf"
e2e_assert "the central collectd is still running" e2e_alive
# The network plugin's receive thread may still dispatch the last packet.
e2e_wait_logged "$reads" "$E2E_TIMEOUT" /count/zones
e2e_collectd_stop
srv_copy_bounds "$E2E_TMP/edge.conf" "$E2E_TMP/central.conf"

e2e_say "what the central collectd received"
e2e_check zones --exact "${ZONES[@]}"
e2e_check gauges --active powercap --min 5
n=$(grep -c '"host":"e2e","plugin":"rapl_energy"' "$E2E_LOG")
m=$(grep -c '"plugin":"rapl_energy"' "$E2E_LOG")
e2e_assert "every received value list has the edge's host name e2e ($n of $m)" \
  test "$n" -eq "$m" -a "$m" -gt 0
e2e_assert "every value list the edge logged arrived ($m of $sent)" test "$m" -eq "$sent"
e2e_assert "the meta data rapl_backend does not arrive (the network plugin drops it)" \
  test "$(grep -c 'rapl_backend' "$E2E_LOG")" -eq 0
e2e_say "count-zones received: $(grep '"type":"count","type_instance":"zones"' "$E2E_LOG" |
  grep -o '"values":\[[^]]*\]' | sort | uniq -c | tr -s ' \n' ' ')"
e2e_assert "count-zones arrives at every read ($reads) and says 7" \
  test "$(grep '"type":"count","type_instance":"zones"' "$E2E_LOG" |
    grep -c '"values":\[7\]')" -eq "$reads"

e2e_say "the csv files"
find "$E2E_TMP/csv" -type f | sed "s|^$E2E_TMP/|    csv: |" | sort
for f in rapl_energy-package-0/power-package rapl_energy-package-1/energy-dram \
  rapl_energy-platform/power-psys rapl_energy/gauge-backend-powercap \
  rapl_energy/count-zones; do
  e2e_assert "csv: e2e/$f-<date> has values" \
    test -n "$(find "$E2E_TMP/csv/e2e/${f%%/*}" -name "${f#*/}-*" -size +60c 2>/dev/null)"
done
e2e_finish
