#!/bin/bash
# The Debian package, for real, on this machine:
#  1. a clean copy of the source tree (what git tracks, or the release
#     tarball's tree) configured with the defaults installs where Debian's
#     collectd looks, and uninstalls without a trace; without cmocka and
#     fuse3 the plugin still builds and make check fails naming them;
#  2. `dpkg-buildpackage -us -uc -b` builds it; lintian reports no error and
#     no warning that an override does not justify; the .deb holds the
#     plugin (stripped), the probe, the drop-in (a conffile), the man pages,
#     the README and the example YAML file, and depends on the collectd
#     minor release of the headers;
#  3. dpkg -i installs it; collectd-core's daemon, started in the foreground
#     with Debian's own /etc/collectd/collectd.conf (from the collectd
#     package) plus the packaged drop-in, loads /usr/lib/collectd/
#     rapl_energy.so and reports the simulated machine's watts; /sys is the
#     simulator's in a private mount namespace, so neither file is changed;
#  4. on a machine without RAPL, the same configuration starts, the other
#     plugins keep reporting and the plugin logs one clear line;
#  5. dpkg --purge leaves nothing the package installed.
#
# Needs root, /dev/fuse, dpkg-dev, debhelper, lintian, collectd and
# util-linux (unshare), as scripts/install-deps installs. Skipped inside a
# package build (RAPL_PACKAGE_TEST=skip, set by debian/rules).

# shellcheck source=../probe/common.sh
. "$(dirname "$0")/../probe/common.sh"
PKG=collectd-rapl-energy
SIM="$abs_top_builddir/t/sim/raplsim"
MNT=
SIM_PID=
CD_PID=
INSTALLED=

if [ "${RAPL_PACKAGE_TEST:-}" = skip ]; then
  t_skip "inside a package build: this test builds, installs and purges the package itself. It did NOT run."
fi
if [ "$(id -u)" -ne 0 ]; then
  t_skip "not root: installing a package and mounting FUSE need root. This test did NOT run."
fi
[ -c /dev/fuse ] || t_skip "/dev/fuse is missing: the simulator cannot mount. This test did NOT run."
need() { command -v "$1" >/dev/null || t_error "$1 not found (apt-get install $2)"; }
need dpkg-buildpackage dpkg-dev
need dh debhelper
need lintian lintian
need unshare util-linux
need fusermount3 fuse3
need readelf binutils
[ -x /usr/sbin/collectd ] || t_error "/usr/sbin/collectd not found (apt-get install collectd-core)"
[ -f /etc/collectd/collectd.conf ] ||
  t_error "/etc/collectd/collectd.conf not found: it comes with the collectd package (apt-get install collectd)"
[ -x "$SIM" ] || t_error "simulator not built: $SIM (run make check)"
# One package test at a time on a machine: another checkout's would install
# and purge the same package under this one.
need flock util-linux
LOCK=/run/lock/rapl-energy-package-test.lock
exec 9>"$LOCK" || t_error "cannot open $LOCK"
if ! flock -n 9; then
  echo "$T_NAME: waiting for another package test to finish ($LOCK)"
  flock -w 900 9 || t_error "another package test held $LOCK for 15 minutes"
fi
if dpkg-query -W -f='${db:Status-Status}' "$PKG" 2>/dev/null | grep -q installed; then
  t_skip "$PKG is installed on this machine, and this test installs and purges it: purge it first (apt-get purge $PKG). This test did NOT run."
fi

# dpkg ARGS..., output in $T_TMP/dpkg.log; while another dpkg or apt holds
# the lock (an install on this machine, a trigger), waits for it, up to five
# minutes.
dpkg_locked() {
  local i
  for i in $(seq 300); do
    dpkg "$@" >"$T_TMP/dpkg.log" 2>&1 && return 0
    grep -qi 'lock' "$T_TMP/dpkg.log" || return 1
    [ "$i" -eq 1 ] && t_say "dpkg $*: waiting for the dpkg lock"
    sleep 1
  done
  return 1
}

purge() { dpkg_locked --purge "$PKG"; }

stop_all() {
  if [ -n "$CD_PID" ] && kill -0 "$CD_PID" 2>/dev/null; then
    kill -TERM "$CD_PID"
    wait "$CD_PID" 2>/dev/null
  fi
  CD_PID=
  if [ -n "$MNT" ] && mountpoint -q "$MNT"; then
    fusermount3 -u "$MNT" || fusermount3 -u -z "$MNT"
  fi
  [ -n "$SIM_PID" ] && wait "$SIM_PID" 2>/dev/null
  SIM_PID=
  if [ -n "$INSTALLED" ]; then
    purge >/dev/null 2>&1 ||
      echo "$T_NAME: WARNING: $PKG is still installed: dpkg --purge $PKG"
    INSTALLED=
  fi
  return 0
}
T_CLEANUP=stop_all
t_setup

check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then t_ok "$what"; else
    T_FAILS=$((T_FAILS + 1))
    echo "  FAIL - $what"
  fi
}

# --------------------------------------------------- a clean source tree
SRC="$T_TMP/src/rapl-energy"
mkdir -p "$SRC"
# The top of a git work tree (not a tree inside one, as make distcheck's).
if [ "$(git -C "$abs_top_srcdir" rev-parse --show-toplevel 2>/dev/null)" = \
  "$(cd "$abs_top_srcdir" && pwd -P)" ]; then
  # What git tracks and what it would add, with uncommitted changes, but
  # none of the build outputs it ignores.
  (cd "$abs_top_srcdir" && git ls-files -z --cached --others --exclude-standard |
    xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
    tar --null -T - -cf -) | tar -xf - -C "$SRC" || t_error "cannot copy the source tree"
  t_say "source: the git work tree of $abs_top_srcdir"
else
  cp -a "$abs_top_srcdir/." "$SRC" || t_error "cannot copy the source tree"
  chmod -R u+w "$SRC"
  [ -f "$SRC/Makefile" ] && make -C "$SRC" distclean >/dev/null 2>&1
  t_say "source: a copy of $abs_top_srcdir"
fi
[ -d "$SRC/debian" ] || t_error "$SRC has no debian/ directory"

# ------------------------------------------ 1. make install, the defaults
t_say "./configure with the defaults, make install, make uninstall"
DEFAULT="$T_TMP/default"
cp -a "$SRC" "$DEFAULT"
(cd "$DEFAULT" && autoreconf -fi && ./configure && make -j"$(nproc)" &&
  make install DESTDIR="$T_TMP/destdir") >"$T_TMP/default.log" 2>&1 ||
  { tail -n 40 "$T_TMP/default.log"; t_error "configure, make or make install failed"; }
grep -A9 'will install' "$T_TMP/default.log" | sed 's/^/    configure: /'
(cd "$T_TMP/destdir" && find . \( -type f -o -type l \) | sort) >"$T_TMP/installed"
cat >"$T_TMP/expected" <<'EOF'
./etc/collectd/collectd.conf.d/rapl_energy.conf
./usr/bin/rapl-energy-probe
./usr/lib/collectd/rapl_energy.so
./usr/share/doc/rapl_energy/README
./usr/share/doc/rapl_energy/rapl_energy.yaml
./usr/share/man/man1/rapl-energy-probe.1
./usr/share/man/man5/collectd-rapl_energy.5
EOF
check "make install puts exactly these files where Debian's collectd and man look: $(tr '\n' ' ' <"$T_TMP/expected")" \
  diff -u "$T_TMP/expected" "$T_TMP/installed"
(cd "$DEFAULT" && make uninstall DESTDIR="$T_TMP/destdir") >>"$T_TMP/default.log" 2>&1 ||
  t_error "make uninstall failed"
check "make uninstall removes every file" \
  test -z "$(find "$T_TMP/destdir" -type f -o -type l)"

t_say "without cmocka and fuse3: the plugin builds, make check fails naming them"
cat >"$T_TMP/pkg-config" <<'EOF'
#!/bin/sh
# pkg-config as on a machine without the test libraries.
for a; do case $a in cmocka* | fuse3*) exit 1 ;; esac; done
exec pkg-config "$@"
EOF
chmod +x "$T_TMP/pkg-config"
(cd "$DEFAULT" && make distclean && PKG_CONFIG="$T_TMP/pkg-config" ./configure &&
  make -j"$(nproc)") >"$T_TMP/nodeps.log" 2>&1 ||
  { tail -n 40 "$T_TMP/nodeps.log"; t_error "the build without cmocka and fuse3 failed"; }
check "configure says make check is unavailable and why" \
  grep -q 'make check        unavailable, missing: cmocka (Debian: libcmocka-dev), fuse3 (Debian: libfuse3-dev and fuse3)' "$T_TMP/nodeps.log"
check "the plugin and the probe are built" \
  test -f "$DEFAULT/.libs/rapl_energy.so" -a -x "$DEFAULT/rapl-energy-probe"
rc=0
(cd "$DEFAULT" && make check) >"$T_TMP/nodeps-check.log" 2>&1 || rc=$?
sed -n '/the tests need/p' "$T_TMP/nodeps-check.log" | sed 's/^/    /'
check "make check fails (exit $rc)" test "$rc" -ne 0
check "naming what is missing" grep -q '^make check: the tests need cmocka (Debian: libcmocka-dev), fuse3 (Debian: libfuse3-dev and fuse3), which configure did not find' "$T_TMP/nodeps-check.log"
check "having run and skipped no test" \
  test -z "$(grep -E '^(PASS|SKIP|FAIL):' "$T_TMP/nodeps-check.log")"
rm -rf "$DEFAULT" "$T_TMP/destdir"

# ------------------------------------------------------- 2. the package
t_say "dpkg-buildpackage -us -uc -b (DEB_BUILD_OPTIONS=nocheck: the tests are running now)"
if ! (cd "$SRC" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b) \
  >"$T_TMP/build.log" 2>&1; then
  tail -n 60 "$T_TMP/build.log"
  t_error "dpkg-buildpackage failed"
fi
DEB=$(ls "$T_TMP"/src/${PKG}_*.deb)
CHANGES=$(ls "$T_TMP"/src/rapl-energy_*.changes)
t_say "built $(basename "$DEB") ($(stat -c %s "$DEB") bytes)"

# One run shows every tag, the overridden ones too (O:); the verdict is on
# what is left: no E: and no W: line.
lintian --fail-on none --display-info --show-overrides "$CHANGES" "$DEB" \
  >"$T_TMP/lintian.log" 2>&1 ||
  t_error "lintian could not check the package: $(cat "$T_TMP/lintian.log")"
sed 's/^/    lintian: /' "$T_TMP/lintian.log"
check "lintian: no error, no warning that an override does not justify" \
  test -z "$(grep -E '^[EW]: ' "$T_TMP/lintian.log")"
if [ -f "$SRC/debian/$PKG.lintian-overrides" ]; then
  check "lintian: every override says why (a comment above it)" \
    awk '/^#/ { c = 1; next } /^[^#[:space:]]/ { if (!c) bad = 1; c = 0 }
         END { exit bad }' "$SRC/debian/$PKG.lintian-overrides"
fi

dpkg-deb -c "$DEB" | awk '{ print $6 }' | sed 's|^\./|/|' >"$T_TMP/contents"
sed 's/^/    deb: /' "$T_TMP/contents"
for f in /usr/lib/collectd/rapl_energy.so /usr/bin/rapl-energy-probe \
  /etc/collectd/collectd.conf.d/rapl_energy.conf \
  /usr/share/man/man5/collectd-rapl_energy.5.gz \
  /usr/share/man/man1/rapl-energy-probe.1.gz \
  /usr/share/doc/$PKG/README.gz /usr/share/doc/$PKG/rapl_energy.yaml \
  /usr/share/doc/$PKG/copyright; do
  check "the package holds $f" grep -qx "$f" "$T_TMP/contents"
done
check "no libtool archive" test -z "$(grep '\.la$' "$T_TMP/contents")"
check "the drop-in is a conffile" \
  sh -c "dpkg-deb -f '$DEB' Conffiles 2>/dev/null | grep -q rapl_energy.conf ||
    dpkg-deb -I '$DEB' conffiles | grep -qx /etc/collectd/collectd.conf.d/rapl_energy.conf"
abi=$(dpkg-query -W -f='${source:Upstream-Version}' collectd-dev | cut -d. -f1,2)
next=$(echo "$abi" | awk -F. '{ print $1 "." $2 + 1 }')
depends=$(dpkg-deb -f "$DEB" Depends)
t_say "Depends: $depends; Recommends: $(dpkg-deb -f "$DEB" Recommends)"
check "depends on collectd-core >= $abi and << $next~ (from collectd-dev)" \
  grep -qF "collectd-core (>= $abi), collectd-core (<< $next~)" <<<"$depends"
check "depends on the C library (shlibs)" grep -q 'libc6' <<<"$depends"
check "recommends collectd" test "$(dpkg-deb -f "$DEB" Recommends)" = collectd
mkdir "$T_TMP/x"
dpkg-deb -x "$DEB" "$T_TMP/x"
for f in usr/lib/collectd/rapl_energy.so usr/bin/rapl-energy-probe; do
  check "$f is stripped (no .symtab, no .debug_info)" \
    sh -c "! readelf -S '$T_TMP/x/$f' | grep -qE '\\.symtab|\\.debug_info'"
done

# ---------------------------------------------------------- 3. install
t_say "dpkg -i $(basename "$DEB")"
INSTALLED=1
dpkg_locked -i "$DEB" || { cat "$T_TMP/dpkg.log"; t_error "dpkg -i failed"; }
dpkg -L "$PKG" | sort >"$T_TMP/listed"
check "the probe runs from /usr/bin" sh -c '/usr/bin/rapl-energy-probe --version | grep -q "^rapl-energy-probe "'
check "man finds collectd-rapl_energy(5)" sh -c 'man -w collectd-rapl_energy | grep -q man5/collectd-rapl_energy.5.gz'
check "the drop-in loads the plugin" grep -qx 'LoadPlugin rapl_energy' /etc/collectd/collectd.conf.d/rapl_energy.conf
check "Debian's collectd.conf includes the drop-in directory" \
  grep -q '^<Include "/etc/collectd/collectd.conf.d">' /etc/collectd/collectd.conf

# sim_start SPEC [DIRECTIVE...]: the simulator on a spec of t/sim/specs.
sim_start() {
  local spec="$abs_top_srcdir/t/sim/specs/$1"
  shift
  if [ "$#" -gt 0 ]; then
    { cat "$spec"; printf '%s\n' "$@"; } >"$T_TMP/variant.spec"
    spec="$T_TMP/variant.spec"
  fi
  MNT="$T_TMP/mnt"
  mkdir -p "$MNT"
  "$SIM" -f "$spec" "$MNT" >"$T_TMP/sim.log" 2>&1 9>&- &
  SIM_PID=$!
  for _ in $(seq 50); do
    [ -d "$MNT/sys/devices" ] && break
    sleep 0.1
  done
  [ -d "$MNT/sys/devices" ] || { cat "$T_TMP/sim.log"; t_error "the simulator did not mount"; }
}

# collectd_start NAME: collectd -f with Debian's collectd.conf and the
# packaged drop-in, the simulator as /sys and a scratch /var/lib/collectd
# (rrdtool's files) in a private mount namespace. The wrapper adds only a
# shorter Interval, a log file and the csv writer, so that the test can see
# what collectd receives.
collectd_start() {
  RUN="$T_TMP/$1"
  mkdir -p "$RUN/varlib" "$RUN/csv"
  cat >"$RUN/collectd.conf" <<EOF
Interval 2
Include "/etc/collectd/collectd.conf"
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "$RUN/collectd.log"
  PrintSeverity true
</Plugin>
LoadPlugin csv
<Plugin csv>
  DataDir "$RUN/csv"
</Plugin>
EOF
  : >"$RUN/collectd.log"
  unshare --mount --propagation private sh -c '
    mount --bind "$1/sys" /sys && mount --bind "$2/varlib" /var/lib/collectd &&
    exec /usr/sbin/collectd -f -C "$2/collectd.conf"' sh "$MNT" "$RUN" \
    >"$RUN/collectd.out" 2>&1 9>&- &
  CD_PID=$!
  for _ in $(seq 100); do
    grep -q 'Initialization complete' "$RUN/collectd.log" && break
    kill -0 "$CD_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$CD_PID" 2>/dev/null || { cat "$RUN/collectd.out" "$RUN/collectd.log"; t_error "collectd did not start"; }
  t_say "collectd -f -C $RUN/collectd.conf: pid $CD_PID"
}

collectd_stop() {
  kill -TERM "$CD_PID"
  wait "$CD_PID"
  local rc=$?
  CD_PID=
  t_say "collectd stopped, exit status $rc"
  sed -n '/rapl_energy/p' "$RUN/collectd.log" | sed 's/^/    log: /'
  return "$rc"
}

# last_value FILE-GLOB: the last value a csv file under RUN/csv holds.
last_value() {
  local f
  f=$(find "$RUN/csv" -path "$RUN/csv/*/$1-*" 2>/dev/null | sort | tail -n 1)
  [ -n "$f" ] && tail -n 1 "$f" | cut -d, -f2
}

# values FILE-GLOB: how many values the csv files under RUN/csv hold.
values() {
  find "$RUN/csv" -path "$RUN/csv/*/$1-*" -exec cat {} + 2>/dev/null |
    grep -c '^[0-9]'
}

# wait_for FILE-GLOB SECONDS [N]: until the csv files hold N values (1).
wait_for() {
  for _ in $(seq $(($2 * 10))); do
    [ "$(values "$1")" -ge "${3:-1}" ] && return 0
    sleep 0.1
  done
  return 1
}

t_say "collectd with Debian's collectd.conf and the drop-in, on the simulated two-socket machine"
sim_start two-socket-intel.spec
collectd_start run
check "power values arrive" wait_for 'rapl_energy-package-1/power-package' 20 2
check "the loaded plugin is /usr/lib/collectd/rapl_energy.so" \
  grep -q ' /usr/lib/collectd/rapl_energy.so$' "/proc/$CD_PID/maps"
# Real time: a value is judged for being the simulator's, neither zero nor a
# spike (10%); the precision is the end-to-end tests' business.
for zone in 'package-0/power-package 45.5' 'package-1/power-package 61.25' \
  'package-0/power-dram 7.5' 'platform/power-psys 120'; do
  set -- $zone
  wait_for "rapl_energy-$1" 10 2
  v=$(last_value "rapl_energy-$1")
  check "$1 = $v W, the simulator's $2 W within 10%" \
    awk -v v="$v" -v w="$2" 'BEGIN { exit !(v != "" && v >= 0.9 * w && v <= 1.1 * w) }'
done
check "gauge-backend-powercap is 1" test "$(last_value 'rapl_energy/gauge-backend-powercap')" = 1.000000
check "count-zones is 7" test "$(last_value 'rapl_energy/count-zones')" = 7.000000
check "the plugin logged no error or warning" \
  test -z "$(grep -E '\[(error|warning)\] rapl_energy' "$RUN/collectd.log")"
collectd_stop
check "collectd exited 0" test $? -eq 0
stop_sim() {
  fusermount3 -u "$MNT"
  wait "$SIM_PID"
  SIM_PID=
}
stop_sim

# ------------------------------------------------ 4. a machine without RAPL
t_say "the same on a machine without RAPL (no powercap, the MSRs not enabled)"
sim_start two-socket-intel.spec "powercap off"
collectd_start norapl
others_report() { wait_for load/load 30 3 && wait_for memory/memory-used 10 3; }
check "the other plugins keep reporting: 3 values of load and of memory" \
  others_report
check "so do this plugin's backend gauges: 3 values" \
  wait_for rapl_energy/gauge-backend-powercap 10 3
check "collectd is still running" kill -0 "$CD_PID"
n=$(grep -cE '\[(error|warning)\] rapl_energy' "$RUN/collectd.log")
check "the plugin logged one error or warning line (got $n)" test "$n" -eq 1
check "that line says powercap is unavailable and the MSR fallback disabled" \
  grep -qE '\[error\] rapl_energy: powercap is unavailable: no powercap directory /sys/class/powercap .*msr is disabled \(MSREnabled is false\)' "$RUN/collectd.log"
check "the backend gauges and the zone count still come: count-zones 0" \
  test "$(last_value 'rapl_energy/count-zones')" = 0.000000
collectd_stop
stop_sim

# ------------------------------------------------------------ 5. purge
t_say "dpkg --purge $PKG"
purge || { cat "$T_TMP/dpkg.log"; t_error "dpkg --purge failed"; }
INSTALLED=
left=
while read -r path; do
  # Directories other packages own (/usr/bin, /etc/collectd) stay.
  [ -d "$path" ] && continue
  [ -e "$path" ] || [ -L "$path" ] && left="$left $path"
done <"$T_TMP/listed"
check "nothing the package installed is left${left:+:$left}" test -z "$left"
check "no directory of its own is left" \
  sh -c '! [ -e /usr/share/doc/'"$PKG"' ] && ! [ -e /etc/collectd/collectd.conf.d/rapl_energy.conf ]'
check "dpkg no longer knows it" \
  sh -c "! dpkg-query -W -f='\${db:Status-Status}' $PKG 2>/dev/null | grep -q installed"

t_finish
