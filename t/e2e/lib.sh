# shellcheck shell=bash
# End-to-end test library: the real collectd daemon (Debian's collectd-core)
# loads the freshly built rapl_energy plugin and reads a RAPL tree served by
# the FUSE simulator t/sim/raplsim. Sourced by t/e2e/*.sh.
#
# Exit codes follow automake's simple test driver: 0 pass, 1 fail, 77 skip
# (only when not root or /dev/fuse is missing), 99 hard error (something the
# test needs is broken or missing).
#
# Environment (set by `make check`, defaults for running a script by hand):
#   abs_top_srcdir, abs_top_builddir   default: this script's ../..
#   COLLECTD                           default: /usr/sbin/collectd
#   E2E_KEEP=1                         keep the temporary directory
# Needs: collectd-core, libyajl2 (write_log), fuse3 (fusermount3), python3.

set -u

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
abs_top_srcdir=${abs_top_srcdir:-$(cd "$E2E_DIR/../.." && pwd)}
abs_top_builddir=${abs_top_builddir:-$abs_top_srcdir}
COLLECTD=${COLLECTD:-/usr/sbin/collectd}
STOCK_PLUGINDIR=${STOCK_PLUGINDIR:-/usr/lib/collectd}
PYTHON=${PYTHON:-python3}
E2E_CHECK="$E2E_DIR/rapl_check.py"
E2E_NAME=$(basename "$0" .sh)

E2E_TMP=
E2E_MNT=
E2E_LOG=
SIM_PID=
CD_PID=
E2E_FAILS=0
E2E_PASSES=0

e2e_say() { printf '%s: %s\n' "$E2E_NAME" "$*"; }

# Hard error: the test could not run. Exits 99.
e2e_error() {
  printf '%s: ERROR: %s\n' "$E2E_NAME" "$*" >&2
  printf '%s: ERROR: %s\n' "$E2E_NAME" "$*"
  exit 99
}

e2e_skip() {
  printf '%s: *** SKIP *** %s\n' "$E2E_NAME" "$*" >&2
  printf '%s: *** SKIP *** %s\n' "$E2E_NAME" "$*"
  exit 77
}

e2e_ok() {
  E2E_PASSES=$((E2E_PASSES + 1))
  printf '  ok   - %s\n' "$*"
}

e2e_fail() {
  E2E_FAILS=$((E2E_FAILS + 1))
  printf '  FAIL - %s\n' "$*"
}

# e2e_assert DESCRIPTION COMMAND...: passes when COMMAND succeeds.
e2e_assert() {
  local what=$1
  shift
  if "$@"; then e2e_ok "$what"; else e2e_fail "$what"; fi
}

# e2e_check SUBCOMMAND ARGS...: runs rapl_check.py on the current log; its
# failures count as one failed assertion here, a 99 is a hard error.
e2e_check() {
  local rc=0
  "$PYTHON" "$E2E_CHECK" "$1" "$E2E_LOG" "${@:2}" || rc=$?
  case $rc in
  0) E2E_PASSES=$((E2E_PASSES + 1)) ;;
  99) e2e_error "rapl_check.py $1 could not read $E2E_LOG" ;;
  *) E2E_FAILS=$((E2E_FAILS + 1)) ;;
  esac
  return 0
}

# e2e_finish: exit 0 when every assertion passed, 1 otherwise.
e2e_finish() {
  e2e_say "$E2E_PASSES check(s) passed, $E2E_FAILS failed"
  if [ "$E2E_FAILS" -ne 0 ]; then
    e2e_dump
    exit 1
  fi
  exit 0
}

# Prints the logs of the last run, for the test's .log file.
e2e_dump() {
  local f
  for f in "$E2E_LOG" "$E2E_TMP/collectd.out" "$E2E_TMP/sim.log"; do
    if [ -z "$f" ] || [ ! -s "$f" ]; then continue; fi
    echo "----- $f: non-JSON lines, then the last 20 JSON lines -----"
    grep -v '^\[{"values"' "$f" | tail -n 150
    grep '^\[{"values"' "$f" | tail -n 20
  done
  echo "-----"
}

e2e_cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  if [ -n "$CD_PID" ] && kill -0 "$CD_PID" 2>/dev/null; then
    kill -TERM "$CD_PID" 2>/dev/null
    e2e_wait_pid "$CD_PID" 10 || kill -KILL "$CD_PID" 2>/dev/null
    wait "$CD_PID" 2>/dev/null
  fi
  e2e_sim_stop
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ "$E2E_FAILS" -eq 0 ] &&
    [ -n "$E2E_TMP" ]; then
    e2e_dump
  fi
  if [ -n "$E2E_TMP" ] && [ -d "$E2E_TMP" ]; then
    if [ "${E2E_KEEP:-0}" = 1 ]; then
      echo "$E2E_NAME: kept $E2E_TMP"
    elif [ -n "$E2E_MNT" ] && mountpoint -q "$E2E_MNT" 2>/dev/null; then
      echo "$E2E_NAME: $E2E_MNT is still mounted; not removing $E2E_TMP"
    else
      rm -rf "$E2E_TMP"
    fi
  fi
  exit "$rc"
}

# e2e_wait_pid PID SECONDS: waits for PID to exit; 1 if it is still there.
e2e_wait_pid() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  return 1
}

# e2e_setup: checks prerequisites, makes the temporary directory and finds
# the plugin and the simulator. Sets E2E_TMP, E2E_PLUGINDIR, E2E_SIM.
e2e_setup() {
  if [ "$(id -u)" -ne 0 ]; then
    e2e_skip "not root: the FUSE simulator needs root (mount) and reading" \
      "energy counters needs privilege. These end-to-end tests did NOT run."
  fi
  if [ ! -c /dev/fuse ]; then
    e2e_skip "/dev/fuse is missing: the FUSE simulator cannot mount." \
      "These end-to-end tests did NOT run."
  fi
  command -v fusermount3 >/dev/null || e2e_error "fusermount3 not found (apt-get install fuse3)"
  [ -x "$COLLECTD" ] || e2e_error "collectd not found at '$COLLECTD' (apt-get install collectd-core)"
  command -v "$PYTHON" >/dev/null || e2e_error "$PYTHON not found (apt-get install python3-minimal)"
  local p
  for p in logfile write_log; do
    [ -f "$STOCK_PLUGINDIR/$p.so" ] || e2e_error "$STOCK_PLUGINDIR/$p.so missing (collectd-core)"
  done

  E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/rapl-e2e-$E2E_NAME.XXXXXX") ||
    e2e_error "mktemp failed"
  trap e2e_cleanup EXIT
  trap 'exit 99' INT TERM HUP
  E2E_LOG="$E2E_TMP/collectd.log"

  local so="$abs_top_builddir/.libs/rapl_energy.so"
  [ -e "$so" ] || e2e_error "plugin not built: $so missing (run make)"
  if [ -L "$so" ] || [ ! -f "$so" ]; then
    # collectd's loader refuses a plugin file that is a symlink.
    mkdir -p "$E2E_TMP/plugins"
    cp -L "$so" "$E2E_TMP/plugins/rapl_energy.so" || e2e_error "cannot copy $so"
    E2E_PLUGINDIR="$E2E_TMP/plugins"
  else
    E2E_PLUGINDIR="$abs_top_builddir/.libs"
  fi
  E2E_SIM="$abs_top_builddir/t/sim/raplsim"
  [ -x "$E2E_SIM" ] || e2e_error "simulator not built: $E2E_SIM missing (run make check)"
  e2e_say "collectd $COLLECTD, plugin dir $E2E_PLUGINDIR, simulator $E2E_SIM, tmp $E2E_TMP"
}

# e2e_spec NAME: sets E2E_SPEC to the path of a simulator spec: NAME itself
# if it is a file, else t/e2e/specs/NAME or t/sim/specs/NAME.
e2e_spec() {
  local d
  E2E_SPEC=
  for d in "" "$E2E_DIR/specs/" "$abs_top_srcdir/t/sim/specs/"; do
    if [ -f "$d$1" ]; then
      E2E_SPEC="$d$1"
      return 0
    fi
  done
  e2e_error "simulator spec $1 not found (looked in $E2E_DIR/specs and $abs_top_srcdir/t/sim/specs)"
}

# e2e_sim_zones all|KIND...: sets the array E2E_ZONES to the ZONE=watts
# arguments of rapl_check.py for the running simulator (its `sim` file): all
# zones or only those of the given kinds.
e2e_sim_zones() {
  local out k only=()
  if [ "$1" != all ]; then
    for k in "$@"; do only+=(--only "$k"); done
  fi
  out=$("$PYTHON" "$E2E_CHECK" simzones "$E2E_MNT/sim" "${only[@]}") ||
    e2e_error "cannot read the simulator's zones from $E2E_MNT/sim"
  read -ra E2E_ZONES <<<"$out"
  [ "${#E2E_ZONES[@]}" -gt 0 ] || e2e_error "the simulator lists no zone"
}

# e2e_sim_start SPEC [DIRECTIVE...]: mounts the simulator at $E2E_TMP/mnt
# (E2E_MNT) on spec SPEC (see e2e_spec), with the given directives (such as
# "powercap off") appended to a copy of it.
e2e_sim_start() {
  local spec i
  e2e_spec "$1"
  spec=$E2E_SPEC
  shift
  if [ "$#" -gt 0 ]; then
    spec="$E2E_TMP/$(basename "$spec" .spec)-variant.spec"
    { cat "$E2E_SPEC"; printf '%s\n' "# added by $E2E_NAME" "$@"; } >"$spec"
  fi
  E2E_MNT="$E2E_TMP/mnt"
  mkdir -p "$E2E_MNT"
  "$E2E_SIM" -f "$spec" "$E2E_MNT" >"$E2E_TMP/sim.log" 2>&1 &
  SIM_PID=$!
  for ((i = 0; i < 50; i++)); do
    [ -d "$E2E_MNT/sys" ] && break
    kill -0 "$SIM_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [ ! -d "$E2E_MNT/sys" ]; then
    cat "$E2E_TMP/sim.log"
    e2e_error "simulator did not mount $E2E_MNT within 5 s (spec $spec)"
  fi
  e2e_say "simulator up on $E2E_MNT (spec $(basename "$E2E_SPEC")${1:+ + $*}, pid $SIM_PID)"
}

e2e_sim_stop() {
  [ -n "$E2E_MNT" ] || return 0
  if mountpoint -q "$E2E_MNT" 2>/dev/null; then
    fusermount3 -u "$E2E_MNT" 2>/dev/null || fusermount3 -u -z "$E2E_MNT" 2>/dev/null
  fi
  if [ -n "$SIM_PID" ]; then
    if ! e2e_wait_pid "$SIM_PID" 5; then
      kill -TERM "$SIM_PID" 2>/dev/null
      e2e_wait_pid "$SIM_PID" 2 || kill -KILL "$SIM_PID" 2>/dev/null
    fi
    wait "$SIM_PID" 2>/dev/null
    SIM_PID=
  fi
  return 0
}

# e2e_ctl COMMAND...: sends one command to the simulator's ctl file.
e2e_ctl() {
  e2e_say "sim ctl: $*"
  printf '%s\n' "$*" >"$E2E_MNT/ctl" || e2e_error "simulator ctl '$*' failed"
}

# e2e_sim_near_wrap SECONDS: sets every simulated zone's energy so that its
# 32-bit counter wraps SECONDS from now.
e2e_sim_near_wrap() {
  local cmds
  cmds=$("$PYTHON" "$E2E_CHECK" nearwrap "$E2E_MNT/sim" "$1") ||
    e2e_error "cannot compute the wrap points"
  printf '%s\n' "$cmds" | sed 's/^/    sim ctl: /'
  printf '%s\n' "$cmds" >"$E2E_MNT/ctl" || e2e_error "simulator ctl set failed"
  e2e_say "every counter wraps in $1 s:"
  grep -o '^[^ ]* .* raw [0-9]*' "$E2E_MNT/sim" | awk '{print "    sim: " $1 " raw " $NF}'
}

# e2e_write_conf FILE: writes a collectd.conf; stdin is the body of the
# <Plugin rapl_energy> block (the paths may use @MNT@ for the mount point).
e2e_write_conf() {
  local conf=$1 body
  body=$(sed "s|@MNT@|$E2E_MNT|g")
  cat >"$conf" <<EOF
# generated by t/e2e/lib.sh
Hostname "e2e"
FQDNLookup false
Interval 1
BaseDir "$E2E_TMP"
PIDFile "$E2E_TMP/collectd.pid"

PluginDir "$STOCK_PLUGINDIR"
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "$E2E_LOG"
  Timestamp true
  PrintSeverity true
</Plugin>
LoadPlugin write_log
<Plugin write_log>
  Format JSON
</Plugin>

PluginDir "$E2E_PLUGINDIR"
LoadPlugin rapl_energy
<Plugin rapl_energy>
$body
</Plugin>
EOF
}

# e2e_collectd_start CONF: runs collectd -f in the background (CD_PID) and
# waits until the logfile plugin has opened its file.
e2e_collectd_start() {
  local i
  : >"$E2E_LOG"
  "$COLLECTD" -f -C "$1" >>"$E2E_TMP/collectd.out" 2>&1 &
  CD_PID=$!
  for ((i = 0; i < 50; i++)); do
    grep -q 'Initialization complete' "$E2E_LOG" 2>/dev/null && break
    kill -0 "$CD_PID" 2>/dev/null || break
    sleep 0.1
  done
  if ! kill -0 "$CD_PID" 2>/dev/null; then
    wait "$CD_PID"
    local rc=$?
    CD_PID=
    e2e_error "collectd exited at startup with status $rc"
  fi
  # shellcheck disable=SC2034 # for the scripts that source this file
  E2E_T0=$(e2e_now)
}

# e2e_collectd_stop: SIGTERM and wait; returns collectd's exit status.
e2e_collectd_stop() {
  local rc=0
  [ -n "$CD_PID" ] || return 0
  kill -TERM "$CD_PID" 2>/dev/null
  if ! e2e_wait_pid "$CD_PID" 10; then
    e2e_say "collectd did not stop within 10 s of SIGTERM; killing it"
    kill -KILL "$CD_PID" 2>/dev/null
  fi
  wait "$CD_PID" || rc=$?
  CD_PID=
  return "$rc"
}

# e2e_collectd_run CONF SECONDS: start, let it run, stop. Log in $E2E_LOG.
e2e_collectd_run() {
  local rc=0
  e2e_collectd_start "$1"
  sleep "$2"
  kill -0 "$CD_PID" 2>/dev/null ||
    e2e_fail "collectd died before $2 s had passed"
  e2e_collectd_stop || rc=$?
  e2e_say "collectd ran ${2}s, exit status $rc; $(grep -c '^\[{"values"' "$E2E_LOG") value lists logged"
  return 0
}

# e2e_collectd_test CONF: runs `collectd -T -C CONF` (config, init, one read,
# exit); sets E2E_RC to its exit status (124: it hung for 30 s).
e2e_collectd_test() {
  E2E_RC=0
  : >"$E2E_LOG"
  timeout 30 "$COLLECTD" -T -C "$1" >>"$E2E_TMP/collectd.out" 2>&1 || E2E_RC=$?
  e2e_say "collectd -T -C $(basename "$1"): exit status $E2E_RC"
}

# e2e_log_has REGEX: grep -E on the collectd log (case-insensitive).
e2e_log_has() { e2e_log_text <"$E2E_LOG" | grep -qiE -- "$1"; }

# e2e_log_lacks REGEX: true when no line of the collectd log matches.
e2e_log_lacks() { ! e2e_log_has "$1"; }

# e2e_log_show REGEX: prints matching log lines (for the test log).
# Both skip write_log's JSON lines.
e2e_log_show() {
  e2e_log_text <"$E2E_LOG" | grep -iE -- "$1" | sed 's/^/    log: /' |
    head -n "${2:-20}"
}

# e2e_log_text: filters write_log's value lines out of stdin.
e2e_log_text() { grep -vE '^\[\{"values"|write_log values:$'; }

# e2e_log_mark: the collectd log's current line count, for e2e_log_since.
e2e_log_mark() { wc -l <"$E2E_LOG" | tr -d ' '; }

# e2e_log_since MARK REGEX: prints the log lines after line MARK that match.
e2e_log_since() {
  tail -n "+$(($1 + 1))" "$E2E_LOG" | e2e_log_text | grep -iE -- "$2"
}

# e2e_log_since_has MARK REGEX: true when a line after line MARK matches.
e2e_log_since_has() { e2e_log_since "$@" >/dev/null; }

# e2e_log_repeats MARK: prints the [error]/[warning] messages logged more than
# once after line MARK (timestamps stripped); nothing when none repeats.
e2e_log_repeats() {
  tail -n "+$(($1 + 1))" "$E2E_LOG" | e2e_log_text |
    grep -E '\[(error|warning)\]' | sed 's/^\[[^]]*\] //' | sort | uniq -cd
}

# e2e_log_once MARK: true when no [error]/[warning] message repeats after MARK.
e2e_log_once() {
  local rep
  rep=$(e2e_log_repeats "$1")
  [ -z "$rep" ] && return 0
  printf '%s\n' "$rep" | sed 's/^/    repeated: /'
  return 1
}

# e2e_now: epoch seconds with fraction.
e2e_now() { date +%s.%N; }
