#!/bin/bash
# End to end: InfluxDB 1.x. collectd reads the simulated two-socket Intel
# machine and sends with the network plugin to InfluxDB's collectd input
# (Debian's influxdb, started in the foreground with a private configuration
# on free 127.0.0.1 ports, `typesdb` pointing at collectd's types.db); the
# values are queried back over InfluxDB's HTTP API.
#
# Asserts: every value lands in the measurement rapl_energy_value with the
# tags host=e2e, instance=<socket> (the plugin instance, not the host),
# type=power|energy|gauge|count and type_instance=<zone>; read back per
# socket and zone, they pass the judge of powercap.sh (each power value
# within 10% of the simulated watts, averages over 5 s or more within 0.5%,
# energy never decreasing and bounded by the simulator's readings); the
# backend values and count-zones (backend-powercap 1, backend-msr 0,
# zones 7); the README's queries: the mean power of one socket (WHERE
# instance='package-1' AND type_instance='package'), the node's power (sum of
# the package zones per GROUP BY time(1s)), and non_negative_derivative(value,
# 1s) of energy giving the watts, each value within 10% and the mean within
# 0.5%.

# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
# shellcheck source=servers.sh source-path=SCRIPTDIR
. "$(dirname "$0")/servers.sh"

srv_setup
command -v influxd >/dev/null || e2e_error "influxd not found (apt-get install influxdb)"
TYPESDB=${TYPESDB:-/usr/share/collectd/types.db}
[ -f "$TYPESDB" ] || e2e_error "$TYPESDB missing (collectd-core)"
[ -f "$STOCK_PLUGINDIR/network.so" ] || e2e_error "$STOCK_PLUGINDIR/network.so missing (collectd-core)"
e2e_sim_start two-socket-intel.spec
e2e_sim_zones all
ZONES=("${E2E_ZONES[@]}")

HTTP=$(srv_free_port tcp)
RPC=$(srv_free_port tcp)
UDP=$(srv_free_port udp)
IDIR="$E2E_TMP/influxdb"
mkdir -p "$IDIR"
cat >"$IDIR/influxdb.conf" <<EOF
reporting-disabled = true
bind-address = "127.0.0.1:$RPC"
[meta]
  dir = "$IDIR/meta"
[data]
  dir = "$IDIR/data"
  wal-dir = "$IDIR/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:$HTTP"
  log-enabled = false
[continuous_queries]
  enabled = false
[subscriber]
  enabled = false
[[collectd]]
  enabled = true
  bind-address = "127.0.0.1:$UDP"
  database = "collectd"
  typesdb = "$TYPESDB"
  batch-size = 100
  batch-timeout = "200ms"
EOF
srv_start influxd influxd -config "$IDIR/influxdb.conf"
srv_wait_tcp influxd "$HTTP"
URL="http://127.0.0.1:$HTTP"
q() { "$PYTHON" -S "$E2E_DIR/srv_fetch.py" influxq "$URL" collectd "$1"; }

e2e_write_conf "$E2E_TMP/edge.conf" <<'EOF'
  SysfsPath "@MNT@/sys"
EOF
cat >>"$E2E_TMP/edge.conf" <<EOF
PluginDir "$STOCK_PLUGINDIR"
LoadPlugin network
<Plugin network>
  Server "127.0.0.1" "$UDP"
</Plugin>
EOF
e2e_collectd_start "$E2E_TMP/edge.conf"
e2e_wait_logged 11 "$E2E_TIMEOUT" package-1/power/package
e2e_assert "collectd is still running" e2e_alive
e2e_collectd_stop
reads=$(grep -c '"type":"count","type_instance":"zones"' "$E2E_LOG")
srv_copy_bounds "$E2E_TMP/edge.conf" "$E2E_TMP/influx.conf"

# InfluxDB writes the collectd input's points in batches: wait until the
# last read's count-zones is there.
got_all() {
  [ "$(q "SELECT count(\"value\") FROM \"rapl_energy_value\" WHERE \"type\" = 'count'" |
    awk '{ print $2 }')" = "$reads" ]
}
e2e_poll "$E2E_TIMEOUT" "InfluxDB to hold all $reads reads" got_all

e2e_say "series in InfluxDB:"
"$PYTHON" -S -c '
import json, sys, urllib.parse, urllib.request
u = sys.argv[1] + "/query?" + urllib.parse.urlencode({"db": "collectd", "q": "SHOW SERIES"})
for s in json.load(urllib.request.urlopen(u))["results"][0]["series"]:
    for v in s["values"]:
        print(v[0])' "$URL" >"$E2E_TMP/series.txt" || e2e_fail "SHOW SERIES failed"
sed 's/^/    /' "$E2E_TMP/series.txt"
for z in "${ZONES[@]}"; do
  pi=${z%%/*} ti=${z#*/} ti=${ti%%=*}
  for ty in power energy; do
    e2e_assert "series rapl_energy_value,host=e2e,instance=$pi,type=$ty,type_instance=$ti" \
      grep -qx "rapl_energy_value,host=e2e,instance=$pi,type=$ty,type_instance=$ti" "$E2E_TMP/series.txt"
  done
done
for s in type=gauge,type_instance=backend-msr type=gauge,type_instance=backend-powercap \
  type=count,type_instance=zones; do
  e2e_assert "series rapl_energy_value,host=e2e,$s (no instance tag)" \
    grep -qx "rapl_energy_value,host=e2e,$s" "$E2E_TMP/series.txt"
done
e2e_assert "no other measurement for rapl_energy" \
  test -z "$(grep '^rapl_energy' "$E2E_TMP/series.txt" | grep -v '^rapl_energy_value,')"

e2e_say "every point, read back per socket and zone, judged"
"$PYTHON" -S "$E2E_DIR/srv_fetch.py" influx "$URL" collectd "$E2E_TMP/influx.log" ||
  e2e_fail "cannot read the points back"
E2E_LOG="$E2E_TMP/influx.log"
CD_PID=
e2e_check zones --exact "${ZONES[@]}"
e2e_check gauges --active powercap --min 5
e2e_assert "count-zones is 7 at every read ($reads)" test "$(q "SELECT \"value\" FROM \"rapl_energy_value\" WHERE \"type\" = 'count' AND \"type_instance\" = 'zones' AND \"value\" = 7" | grep -c .)" -eq "$reads"

e2e_say "the README's queries"
q "SELECT \"value\" FROM \"rapl_energy_value\" WHERE \"host\" = 'e2e' AND \"type\" = 'power' AND \"instance\" = 'package-1' AND \"type_instance\" = 'package'" |
  srv_judge_points "power of socket package-1" 61.25 1
total=$(printf '%s\n' "${ZONES[@]}" | awk -F'[/=]' '$2 == "package" { s += $3 } END { print s }')
# Each read's values share one timestamp, so GROUP BY time(1s) puts each
# read in one bucket; the first and last buckets may be partial.
q "SELECT sum(\"value\") FROM \"rapl_energy_value\" WHERE \"host\" = 'e2e' AND \"type\" = 'power' AND \"type_instance\" = 'package' AND time > now() - 5m GROUP BY time(1s) fill(none)" |
  sed '1d;$d' | srv_judge_points "power of the node (sum of the package zones per second)" "$total" 0
for z in package-0/package=45.5 platform/psys=120; do
  pi=${z%%/*} ti=${z#*/} ti=${ti%%=*} w=${z#*=}
  # The interval after the baseline is not judged (see rapl_check.py).
  q "SELECT non_negative_derivative(\"value\", 1s) FROM \"rapl_energy_value\" WHERE \"host\" = 'e2e' AND \"type\" = 'energy' AND \"instance\" = '$pi' AND \"type_instance\" = '$ti'" |
    srv_judge_points "non_negative_derivative(value, 1s) of $pi energy-$ti" "$w" 1
done
# Energy over a range: the sum of non_negative_difference, the joules
# between the first and the last read (no restart in between).
want=$(grep "$(_e2e_values_re package-1/energy/package)" "$E2E_TMP/edge.log" |
  grep -o '"values":\[[0-9.e+-]*' | cut -d[ -f2 | sed -n '1p;$p' | awk 'NR == 1 { a = $1 } END { print $1 - a }')
got=$(q "SELECT sum(\"j\") FROM (SELECT non_negative_difference(\"value\") AS \"j\" FROM \"rapl_energy_value\" WHERE \"host\" = 'e2e' AND \"type\" = 'energy' AND \"instance\" = 'package-1' AND \"type_instance\" = 'package' AND time > now() - 5m)" | awk '{ print $2 }')
e2e_assert "energy over the run: sum(non_negative_difference) = $got J, collectd's last - first = $want J" \
  awk -v a="${got:-0}" -v b="$want" 'BEGIN { exit !(b > 0 && a - b < 1e-6 * b && b - a < 1e-6 * b) }'
# A wider GROUP BY time sums several reads: average per socket first.
q "SELECT sum(\"p\") FROM (SELECT mean(\"value\") AS \"p\" FROM \"rapl_energy_value\" WHERE \"host\" = 'e2e' AND \"type\" = 'power' AND \"type_instance\" = 'package' AND time > now() - 5m GROUP BY time(2s), \"instance\" fill(none)) GROUP BY time(2s) fill(none)" |
  sed '1d;$d' | awk '{ print NR * 2, $2 }' | srv_judge_points "power of the node over 2 s buckets (a subquery averages per socket)" "$total" 0
e2e_finish
