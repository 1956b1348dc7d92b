#!/bin/bash
# The example of collectd-rapl_energy(5) that sums the sockets' power with
# collectd's aggregation plugin, taken from the man page as it is and run in
# the real collectd on the simulated two-socket machine: the sum arrives as
# the page says (host/rapl_energy-node/power-package) and is the sum of
# the simulator's 45.5 and 61.25 W.

# shellcheck source=../probe/common.sh
. "$(dirname "$0")/../probe/common.sh"
SIM="$abs_top_builddir/t/sim/raplsim"
COLLECTD=${COLLECTD:-/usr/sbin/collectd}
PAGE="$abs_top_srcdir/doc/collectd-rapl_energy.5"
MNT=
SIM_PID=
CD_PID=

if [ "$(id -u)" -ne 0 ]; then
  t_skip "not root: the FUSE simulator needs root (mount). This test did NOT run."
fi
[ -c /dev/fuse ] || t_skip "/dev/fuse is missing: the simulator cannot mount. This test did NOT run."
[ -x "$COLLECTD" ] || t_error "collectd not found at $COLLECTD (apt-get install collectd-core)"
[ -f /usr/lib/collectd/aggregation.so ] || t_error "/usr/lib/collectd/aggregation.so missing (collectd-core)"
[ -x "$SIM" ] || t_error "simulator not built: $SIM (run make check)"
so="$abs_top_builddir/.libs/rapl_energy.so"
[ -e "$so" ] || t_error "plugin not built: $so (run make)"

stop_all() {
  if [ -n "$CD_PID" ] && kill -0 "$CD_PID" 2>/dev/null; then
    kill -TERM "$CD_PID"
    wait "$CD_PID" 2>/dev/null
  fi
  [ -n "$MNT" ] && mountpoint -q "$MNT" && fusermount3 -u "$MNT"
  [ -n "$SIM_PID" ] && wait "$SIM_PID" 2>/dev/null
  return 0
}
T_CLEANUP=stop_all
t_setup

# The example: from "LoadPlugin aggregation" to the end of its .nf block,
# with the man page's escapes undone.
sed -n '/^LoadPlugin aggregation$/,/^\.fi$/p' "$PAGE" | sed '/^\.fi$/d; s/\\-/-/g' \
  >"$T_TMP/aggregation.conf"
grep -q '</Plugin>' "$T_TMP/aggregation.conf" ||
  t_error "no aggregation example in $PAGE"
sed 's/^/    example: /' "$T_TMP/aggregation.conf"
identifier=$(sed -n 's/^\.I host\/\(rapl_energy\\-node\/power\\-package\)$/\1/p' "$PAGE" | sed 's/\\-/-/g')
[ -n "$identifier" ] || t_error "the page names no identifier for the sum"

MNT="$T_TMP/mnt"
mkdir -p "$MNT" "$T_TMP/plugins"
"$SIM" -f "$abs_top_srcdir/t/sim/specs/two-socket-intel.spec" "$MNT" >"$T_TMP/sim.log" 2>&1 &
SIM_PID=$!
for _ in $(seq 50); do
  [ -d "$MNT/sys" ] && break
  sleep 0.1
done
[ -d "$MNT/sys" ] || t_error "the simulator did not mount"
cp -L "$so" "$T_TMP/plugins/" # collectd refuses a plugin that is a symlink
cat >"$T_TMP/collectd.conf" <<CONF
Hostname "doc"
FQDNLookup false
Interval 1
BaseDir "$T_TMP"
PluginDir "/usr/lib/collectd"
LoadPlugin logfile
<Plugin logfile>
  File "$T_TMP/collectd.log"
</Plugin>
LoadPlugin csv
<Plugin csv>
  DataDir "$T_TMP/csv"
</Plugin>
Include "$T_TMP/aggregation.conf"
PluginDir "$T_TMP/plugins"
LoadPlugin rapl_energy
<Plugin rapl_energy>
  SysfsPath "$MNT/sys"
</Plugin>
CONF
"$COLLECTD" -f -C "$T_TMP/collectd.conf" >"$T_TMP/collectd.out" 2>&1 &
CD_PID=$!
file=
for _ in $(seq 100); do
  file=$(ls "$T_TMP/csv/doc/$identifier"-* 2>/dev/null | head -n 1)
  [ -n "$file" ] && [ "$(grep -c '^[0-9]' "$file")" -ge 2 ] && break
  sleep 0.1
done
if [ -n "$file" ]; then t_ok "the sum arrives as $identifier"; else
  T_FAILS=$((T_FAILS + 1))
  echo "  FAIL - the sum arrives as $identifier"
  ls -R "$T_TMP/csv" | head -n 20
  cat "$T_TMP/collectd.log" "$T_TMP/collectd.out"
fi
sum=$(tail -n 1 "$file" 2>/dev/null | cut -d, -f2)
# Real time, one value: within 10%, the sum of the two and not one socket.
if awk -v v="$sum" 'BEGIN { exit !(v != "" && v >= 106.75 * 0.9 && v <= 106.75 * 1.1) }'; then
  t_ok "it is $sum W: 45.5 + 61.25 W within 10%"
else
  T_FAILS=$((T_FAILS + 1))
  echo "  FAIL - it is '$sum' W, not 45.5 + 61.25 W within 10%"
fi
if ! grep -qi 'aggregation plugin:' "$T_TMP/collectd.log"; then
  t_ok "the aggregation plugin took the example without a complaint"
else
  T_FAILS=$((T_FAILS + 1))
  echo "  FAIL - the aggregation plugin complained:"
  grep -i 'aggregation plugin:' "$T_TMP/collectd.log"
fi
t_finish
