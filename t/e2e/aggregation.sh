#!/bin/bash
# End to end: node totals with collectd's aggregation plugin on the edge, as
# contrib/collectd.conf.d/rapl_energy-aggregation.conf configures it (that
# very file is included, before rapl_energy is loaded, as Debian's
# collectd.conf.d order includes it: "rapl_energy-aggregation.conf" sorts
# before "rapl_energy.conf").
#
# Asserts: e2e/rapl_energy-node/power-package comes at every interval (one
# value per read of the plugin after the first, none missing) and every one
# of them is the sum of the two sockets' package power (45.5 + 61.25 =
# 106.75 W) within 10% -- a double-counted or missing socket is 43% off --
# and their average over 5 s or more within 0.5%; core, dram and psys are
# not summed in; no other aggregate appears.
#
# Why ReadThreads 1 (in the contrib file): the aggregation plugin sums what
# arrived since its last read. With several read threads its read races the
# plugin's, which is due at the same time (both are scheduled from when they
# were loaded, a millisecond apart): sums of 152.25 W (a socket counted
# twice), 61.25 W (one socket) and 213.5 W, and intervals without a value,
# were seen in 4 of 18 intervals on an idle machine. With one read thread
# and the aggregation loaded first, its read always runs just before the
# plugin's and sums the previous read's values, once each.

# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

e2e_setup
[ -f "$STOCK_PLUGINDIR/aggregation.so" ] || e2e_error "$STOCK_PLUGINDIR/aggregation.so missing (collectd-core)"
AGG="$abs_top_srcdir/contrib/collectd.conf.d/rapl_energy-aggregation.conf"
[ -f "$AGG" ] || e2e_error "$AGG missing"
e2e_sim_start two-socket-intel.spec
e2e_sim_zones package
total=$(printf '%s\n' "${E2E_ZONES[@]}" | awk -F= '{ s += $2 } END { printf "%.6g", s }')
e2e_say "package zones ${E2E_ZONES[*]}: node total $total W"

e2e_write_conf "$E2E_TMP/edge.conf" <<'EOF'
  SysfsPath "@MNT@/sys"
EOF
# The contrib file goes before `LoadPlugin rapl_energy`, with the stock
# plugin directory.
sed -i "s|^PluginDir \"$E2E_PLUGINDIR\"|PluginDir \"$STOCK_PLUGINDIR\"\nInclude \"$AGG\"\n&|" \
  "$E2E_TMP/edge.conf"
grep -q "^Include \"$AGG\"" "$E2E_TMP/edge.conf" || e2e_error "cannot include $AGG"

e2e_collectd_start "$E2E_TMP/edge.conf"
e2e_wait_logged 10 "$E2E_TIMEOUT" node/power/package
e2e_assert "collectd is still running" e2e_alive
e2e_collectd_stop
e2e_assert "no [error] line in the collectd log" e2e_log_lacks '\[error\]'

p0=$(grep -c "$(_e2e_values_re package-0/power/package)" "$E2E_LOG")
node=$(grep -c "$(_e2e_values_re node/power/package)" "$E2E_LOG")
e2e_say "power values: package-0 $p0, node $node"
# The aggregate lags one read: the last read's values are summed at the
# next one, which the stop may cut off.
e2e_assert "a node value at every read after the first ($node for $p0 power values)" \
  test "$node" -ge $((p0 - 1)) -a "$node" -le "$p0"
e2e_check steady --average --min-power 8 --no-gap "node/package=$total"
e2e_assert "only rapl_energy-node/power-package is aggregated" \
  test "$(grep -c '"aggregation:created"' "$E2E_LOG")" -eq "$node"
e2e_finish
