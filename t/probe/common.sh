# shellcheck shell=bash
# Helpers for the tests of rapl-energy-probe (t/probe/*.sh). Exit codes
# follow automake's test driver: 0 pass, 1 fail, 77 skip, 99 hard error.
#
# Environment (set by `make check`; defaults for running a script by hand):
#   abs_top_srcdir, abs_top_builddir   default: this script's ../..

set -u

T_NAME=$(basename "$0" .sh)
T_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
abs_top_srcdir=${abs_top_srcdir:-$(cd "$T_DIR/../.." && pwd)}
abs_top_builddir=${abs_top_builddir:-$abs_top_srcdir}
PROBE="$abs_top_builddir/rapl-energy-probe"
DATA="$abs_top_srcdir/t/data"
PYTHON=${PYTHON:-python3}
T_FAILS=0
T_PASSES=0
T_TMP=

t_say() { printf '%s: %s\n' "$T_NAME" "$*"; }

# To stdout and stderr: make check keeps both in the test's log, a person
# running the script sees stderr. (Not tee /dev/stderr: where stderr is the
# log file, reopening it would truncate the log.)
t_error() {
  printf '%s: ERROR: %s\n' "$T_NAME" "$*"
  printf '%s: ERROR: %s\n' "$T_NAME" "$*" >&2
  exit 99
}

t_skip() {
  printf '%s: *** SKIP *** %s\n' "$T_NAME" "$*"
  printf '%s: *** SKIP *** %s\n' "$T_NAME" "$*" >&2
  exit 77
}

t_ok() {
  T_PASSES=$((T_PASSES + 1))
  printf '  ok   - %s\n' "$*"
}

t_fail() {
  T_FAILS=$((T_FAILS + 1))
  printf '  FAIL - %s\n' "$*"
  printf '    (%s)\n' "probe $P_ARGS: exit $P_RC"
  sed 's/^/    stdout: /' "$T_TMP/out" | head -n 40
  sed 's/^/    stderr: /' "$T_TMP/err" | head -n 20
}

t_finish() {
  t_say "$T_PASSES check(s) passed, $T_FAILS failed"
  [ "$T_FAILS" -eq 0 ] || exit 1
  exit 0
}

t_cleanup() {
  local rc=$?
  trap - EXIT
  [ -n "${T_CLEANUP:-}" ] && eval "$T_CLEANUP"
  [ -n "$T_TMP" ] && rm -rf "$T_TMP"
  exit "$rc"
}

t_setup() {
  [ -x "$PROBE" ] || t_error "$PROBE is not built (run make)"
  command -v "$PYTHON" >/dev/null ||
    t_error "$PYTHON not found (apt-get install python3)"
  T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/rapl-$T_NAME.XXXXXX") ||
    t_error "mktemp failed"
  trap t_cleanup EXIT
  trap 'exit 99' INT TERM HUP
}

# probe ARGS...: runs the probe; P_RC, $T_TMP/out, $T_TMP/err.
probe() {
  P_ARGS="$*"
  P_RC=0
  "$PROBE" "$@" >"$T_TMP/out" 2>"$T_TMP/err" || P_RC=$?
  t_say "rapl-energy-probe $P_ARGS: exit $P_RC"
}

# Assertions on the last run of the probe.
rc_is() {
  if [ "$P_RC" -eq "$1" ]; then t_ok "exit status $1"; else t_fail "exit status $1 (got $P_RC)"; fi
}
out_has() {
  if grep -qE -- "$1" "$T_TMP/out"; then t_ok "stdout matches: $1"; else t_fail "stdout matches: $1"; fi
}
out_lacks() {
  if ! grep -qE -- "$1" "$T_TMP/out"; then t_ok "stdout lacks: $1"; else t_fail "stdout lacks: $1"; fi
}
err_has() {
  if grep -qE -- "$1" "$T_TMP/err"; then t_ok "stderr matches: $1"; else t_fail "stderr matches: $1"; fi
}
err_empty() {
  if [ ! -s "$T_TMP/err" ]; then t_ok "stderr is empty"; else t_fail "stderr is empty"; fi
}
# json_is DESCRIPTION PYTHON-EXPRESSION: true of d, stdout parsed as JSON.
json_is() {
  if "$PYTHON" - "$T_TMP/out" "$2" <<'PY'; then t_ok "json: $1"; else t_fail "json: $1 ($2)"; fi
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except ValueError as e:
    print("    not JSON:", e)
    sys.exit(1)
sys.exit(0 if eval(sys.argv[2], {"d": d, "abs": abs}) else 1)
PY
}
