#!/bin/bash
# The man pages: collectd-rapl_energy(5) and rapl-energy-probe(1) render
# without a warning (man --warnings, lexgrog), and their option lists match
# the option table that the plugin, the YAML loader and the probe read
# (t/probe/man_options.py), which is also shown to catch a page that drifts.

# shellcheck source=common.sh source-path=SCRIPTDIR
. "$(dirname "$0")/common.sh"
command -v man >/dev/null || t_error "man not found (apt-get install man-db)"
command -v lexgrog >/dev/null || t_error "lexgrog not found (apt-get install man-db)"
command -v groff >/dev/null || t_error "groff not found (apt-get install groff-base)"
t_setup
PAGE5="$abs_top_srcdir/doc/collectd-rapl_energy.5"
PAGE1="$abs_top_srcdir/doc/rapl-energy-probe.1"

for page in "$PAGE5" "$PAGE1"; do
  name=$(basename "$page")
  if MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$page" >"$T_TMP/out" 2>"$T_TMP/err" &&
    [ ! -s "$T_TMP/err" ]; then
    t_ok "$name renders without a warning (man --warnings -l)"
  else
    T_FAILS=$((T_FAILS + 1))
    echo "  FAIL - $name renders without a warning (man --warnings -l)"
    sed 's/^/    /' "$T_TMP/err"
  fi
  if lexgrog "$page" >"$T_TMP/out" 2>&1; then
    t_ok "lexgrog: $(cat "$T_TMP/out")"
  else
    T_FAILS=$((T_FAILS + 1))
    echo "  FAIL - lexgrog $name: $(cat "$T_TMP/out")"
  fi
done

"$PROBE" --options --json >"$T_TMP/options.json" ||
  t_error "rapl-energy-probe --options --json failed"
if "$PYTHON" "$T_DIR/man_options.py" "$T_TMP/options.json" "$PAGE5" "$PAGE1"; then
  t_ok "the man pages list the options of the table"
else
  T_FAILS=$((T_FAILS + 1))
  echo "  FAIL - the man pages list the options of the table"
fi

# The check fails when a page drifts: a changed default, a renamed flag.
sed 's|^Default: /sys\.$|Default: /host/sys.|' "$PAGE5" >"$T_TMP/drift.5"
sed 's/^\.BI \\-\\-procfs/.BI \\-\\-proc/' "$PAGE1" >"$T_TMP/drift.1"
if ! "$PYTHON" "$T_DIR/man_options.py" "$T_TMP/options.json" "$T_TMP/drift.5" \
  "$PAGE1" >"$T_TMP/out" && grep -q 'SysfsPath: Default: /host/sys; the table: /sys' "$T_TMP/out"; then
  t_ok "a changed default is caught"
else
  T_FAILS=$((T_FAILS + 1))
  echo "  FAIL - a changed default is caught"
fi
if ! "$PYTHON" "$T_DIR/man_options.py" "$T_TMP/options.json" "$PAGE5" \
  "$T_TMP/drift.1" >"$T_TMP/out" && grep -q "rapl-energy-probe(1) OPTIONS lists \['--sysfs', '--proc', '--zone'" "$T_TMP/out"; then
  t_ok "a renamed flag is caught"
else
  T_FAILS=$((T_FAILS + 1))
  echo "  FAIL - a renamed flag is caught"
  cat "$T_TMP/out"
fi
t_finish
