#!/bin/bash
# End to end: write_prometheus. collectd reads the simulated two-socket Intel
# machine and serves /metrics with write_prometheus on 127.0.0.1 (a free
# port); the test scrapes it every 0.2 s (t/e2e/srv_fetch.py prom) for the
# whole run. write_prometheus needs libprotobuf-c1 and libmicrohttpd12,
# which Debian's collectd-core does not pull in (scripts/install-deps
# installs them).
#
# Asserts: the series and labels are collectd_rapl_energy_power and
# collectd_rapl_energy_energy{rapl_energy="<socket>",type="<zone>",
# instance="e2e"} for every zone, collectd_rapl_energy_gauge{rapl_energy=
# "backend-powercap"} 1 and {rapl_energy="backend-msr"} 0, and
# collectd_rapl_energy_count{rapl_energy="zones"} 7 (without a plugin
# instance write_prometheus puts the type instance in the plugin's label);
# the scraped values, with write_prometheus's timestamps, pass the judge of
# powercap.sh (each power value within 10% of the simulated watts, averages
# over 5 s or more within 0.5%, energy never decreasing and bounded by the
# simulator's readings); `promtool check metrics` (Debian's prometheus) finds
# nothing but the two naming complaints the README explains.

# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"
# shellcheck source=servers.sh source-path=SCRIPTDIR
. "$(dirname "$0")/servers.sh"

srv_setup
[ -f "$STOCK_PLUGINDIR/write_prometheus.so" ] ||
  e2e_error "$STOCK_PLUGINDIR/write_prometheus.so missing (collectd-core)"
for lib in libprotobuf-c.so.1 libmicrohttpd.so.12; do
  ldconfig -p | grep -q "$lib" ||
    e2e_error "$lib missing: write_prometheus needs it (apt-get install libprotobuf-c1 libmicrohttpd12)"
done
e2e_sim_start two-socket-intel.spec
e2e_sim_zones all
ZONES=("${E2E_ZONES[@]}")
PORT=$(srv_free_port tcp)
URL="http://127.0.0.1:$PORT/metrics"

e2e_write_conf "$E2E_TMP/edge.conf" <<'EOF'
  SysfsPath "@MNT@/sys"
EOF
cat >>"$E2E_TMP/edge.conf" <<EOF
PluginDir "$STOCK_PLUGINDIR"
LoadPlugin write_prometheus
<Plugin write_prometheus>
  Host "127.0.0.1"
  Port "$PORT"
</Plugin>
EOF
e2e_collectd_start "$E2E_TMP/edge.conf"
EDGE_PID=$CD_PID
srv_start prom-scrape "$PYTHON" -S "$E2E_DIR/srv_fetch.py" prom "$URL" "$E2E_TMP/prom.log"
# The scraped values are what the judge reads; the waits watch them.
E2E_LOG="$E2E_TMP/prom.log"
CD_PID=$EDGE_PID
e2e_wait_logged 10 "$E2E_TIMEOUT" package-1/power/package
e2e_wait_logged 10 "$E2E_TIMEOUT" platform/power/psys

e2e_say "one scrape of $URL:"
if curl -sf "$URL" >"$E2E_TMP/metrics.txt" 2>/dev/null ||
  "$PYTHON" -S -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())' \
    "$URL" >"$E2E_TMP/metrics.txt"; then
  grep -v '^# HELP' "$E2E_TMP/metrics.txt" | sed 's/^/    /'
else
  e2e_fail "cannot fetch $URL"
fi
srv_stop prom-scrape
e2e_use "$E2E_TMP/edge.conf"
e2e_assert "collectd is still running" e2e_alive
e2e_collectd_stop
srv_copy_bounds "$E2E_TMP/edge.conf" "$E2E_TMP/prom.conf"
E2E_LOG="$E2E_TMP/prom.log"
CD_PID=

m="$E2E_TMP/metrics.txt"
has() { grep -qE "^$1$" "$m"; }
for z in "${ZONES[@]}"; do
  pi=${z%%/*} ti=${z#*/} ti=${ti%%=*}
  for ty in power energy; do
    e2e_assert "series collectd_rapl_energy_$ty{rapl_energy=\"$pi\",type=\"$ti\",instance=\"e2e\"}" \
      has "collectd_rapl_energy_$ty\\{rapl_energy=\"$pi\",type=\"$ti\",instance=\"e2e\"\\} [0-9.e+-]+ [0-9]+"
  done
done
e2e_assert 'collectd_rapl_energy_gauge{rapl_energy="backend-powercap",instance="e2e"} 1' \
  has 'collectd_rapl_energy_gauge\{rapl_energy="backend-powercap",instance="e2e"\} 1 [0-9]+'
e2e_assert 'collectd_rapl_energy_gauge{rapl_energy="backend-msr",instance="e2e"} 0' \
  has 'collectd_rapl_energy_gauge\{rapl_energy="backend-msr",instance="e2e"\} 0 [0-9]+'
e2e_assert 'collectd_rapl_energy_count{rapl_energy="zones",instance="e2e"} 7' \
  has 'collectd_rapl_energy_count\{rapl_energy="zones",instance="e2e"\} 7 [0-9]+'
e2e_assert "no rapl_energy series beyond power, energy, gauge and count" \
  test -z "$(grep -E '^collectd_rapl_energy_' "$m" | grep -vE '^collectd_rapl_energy_(power|energy|gauge|count)\{')"

e2e_say "the scraped values, judged"
e2e_check zones --exact "${ZONES[@]}"
e2e_check gauges --active powercap --min 5

if command -v promtool >/dev/null; then
  promtool check metrics <"$m" >"$E2E_TMP/promtool.out" 2>&1
  sed 's/^/    promtool: /' "$E2E_TMP/promtool.out"
  e2e_assert "promtool check metrics: only the two naming complaints the README explains" \
    test -z "$(grep -vE '^collectd_rapl_energy_count non-histogram and non-summary metrics should not have "_count" suffix$|^collectd_rapl_energy_gauge metric name should not include type .gauge.$' "$E2E_TMP/promtool.out")"
else
  e2e_say "promtool not found (Debian package prometheus): not checked"
fi
e2e_finish
