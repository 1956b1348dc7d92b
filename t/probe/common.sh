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

# probe ARGS...: runs the probe (under env "${P_ENV[@]}" and the command
# prefix "${P_WRAP[@]}", e.g. setpriv, when set); P_RC, $T_TMP/out, $T_TMP/err.
P_ENV=()
P_WRAP=()
probe() {
  P_ARGS="${P_WRAP[*]}${P_WRAP[*]:+ }$*"
  P_RC=0
  env "${P_ENV[@]}" "${P_WRAP[@]}" "$PROBE" "$@" >"$T_TMP/out" 2>"$T_TMP/err" || P_RC=$?
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

# watts_match WHAT: the --watch --json samples against WATTS, a Python dict
# {(socket, zone): watts} of what the simulator draws. Real time: a reading
# can be off by a preemption between the counter's read and its timestamp,
# so each is judged for being neither zero nor a spike (10%), and their
# average over the whole run for accuracy (2%).
watts_match() {
  local w='W[(z["socket"], z["zone"])]'
  json_is "$1: every reading within 10%, every zone in each" \
    "[W := $WATTS] and all(abs(z[\"watts\"] - $w) <= 0.1 * $w for s in d[\"samples\"] for z in s[\"zones\"]) and all(len(s[\"zones\"]) == len(W) for s in d[\"samples\"])"
  json_is "$1: the average over the run within 2%" \
    "[W := $WATTS] and (len(d[\"samples\"]) < 2 or all(abs((z[\"energy_j\"] - f[\"energy_j\"]) / (d[\"samples\"][-1][\"t\"] - d[\"samples\"][0][\"t\"]) - $w) <= 0.02 * $w for f, z in zip(d[\"samples\"][0][\"zones\"], d[\"samples\"][-1][\"zones\"])))"
}

# --- the simulator (t/sim/raplsim, FUSE) --------------------------------

SIM="$abs_top_builddir/t/sim/raplsim"
MNT=
SIM_PID=

# Skips unless the simulator can mount here; call before t_setup.
sim_require() {
  if [ "$(id -u)" -ne 0 ]; then
    t_skip "not root: the FUSE simulator needs root (mount). These tests did NOT run."
  fi
  [ -c /dev/fuse ] || t_skip "/dev/fuse is missing: the simulator cannot mount. These tests did NOT run."
  command -v fusermount3 >/dev/null || t_error "fusermount3 not found (apt-get install fuse3)"
  [ -x "$SIM" ] || t_error "simulator not built: $SIM (run make check)"
  T_CLEANUP=sim_stop
}

sim_stop() {
  [ -n "$MNT" ] && mountpoint -q "$MNT" && fusermount3 -u "$MNT"
  if [ -n "$SIM_PID" ]; then
    wait "$SIM_PID" 2>/dev/null
    SIM_PID=
  fi
  return 0
}

# sim_start SPEC-TEXT: mounts a simulator on a spec given as text; ARGS
# points the probe at it.
sim_start() {
  sim_stop
  printf '%s\n' "$1" >"$T_TMP/machine.spec"
  MNT="$T_TMP/mnt"
  mkdir -p "$MNT"
  "$SIM" -f "$T_TMP/machine.spec" "$MNT" >"$T_TMP/sim.log" 2>&1 &
  SIM_PID=$!
  for _ in $(seq 50); do
    [ -d "$MNT/sys" ] && break
    sleep 0.1
  done
  [ -d "$MNT/sys" ] || { cat "$T_TMP/sim.log"; t_error "the simulator did not mount"; }
  # shellcheck disable=SC2034 # for the scripts that source this file
  ARGS=(--sysfs "$MNT/sys" --procfs "$MNT/proc"
    --msr-device-path "$MNT/dev/cpu/%d/msr")
}

ctl() { printf '%s\n' "$@" >"$MNT/ctl" || t_error "simulator ctl $* failed"; }
