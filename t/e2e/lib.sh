# shellcheck shell=bash
# End-to-end test library: the real collectd daemon (Debian's collectd-core)
# loads the freshly built rapl_energy plugin and reads a RAPL tree served by
# the FUSE simulator t/sim/raplsim. Sourced by t/e2e/*.sh.
#
# Exit codes follow automake's simple test driver: 0 pass, 1 fail, 77 skip
# (only when not root or /dev/fuse is missing), 99 hard error (something the
# test needs is broken or missing).
#
# Nothing here sleeps for a fixed time: every wait polls the collectd log for
# what it waits for, up to E2E_TIMEOUT seconds, and a wait that times out
# fails the test saying what it waited for. Several simulators and several
# collectd daemons may run at once (one per configuration file), so that one
# script checks several configurations in the time of one run.
#
# Environment (set by `make check`, defaults for running a script by hand):
#   abs_top_srcdir, abs_top_builddir   default: this script's ../..
#   COLLECTD                           default: /usr/sbin/collectd
#   E2E_TIMEOUT                        seconds a wait may take; default 30
#   E2E_NICE                           prefix for collectd and the simulator;
#                                      default "nice -n -10", "" for none
#   E2E_KEEP=1                         keep the temporary directory
#   TMPDIR                             where the temporary directory goes
# Needs: collectd-core, libyajl2 (write_log), fuse3 (fusermount3), python3.

set -u

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
abs_top_srcdir=${abs_top_srcdir:-$(cd "$E2E_DIR/../.." && pwd)}
abs_top_builddir=${abs_top_builddir:-$abs_top_srcdir}
COLLECTD=${COLLECTD:-/usr/sbin/collectd}
STOCK_PLUGINDIR=${STOCK_PLUGINDIR:-/usr/lib/collectd}
PYTHON=${PYTHON:-python3}
E2E_TIMEOUT=${E2E_TIMEOUT:-30}
# The plugin stamps all the values of a read with the time the read began,
# then reads zone after zone through the simulator; on a loaded machine each
# of those round trips can wait for a CPU, and the later zones' counters are
# read tens of milliseconds after their timestamp, which averages over 6 s
# see as half a percent of energy. The daemon under test and the simulator
# sleep nearly all the time: a higher priority lets them run when they wake,
# and leaves the load itself alone. (GNU nice still runs the command where
# it may not raise the priority.)
E2E_NICE=${E2E_NICE-nice -n -10}
E2E_CHECK="$E2E_DIR/rapl_check.py"
E2E_NAME=$(basename "$0" .sh)
E2E_START=$(date +%s%3N)

E2E_TMP=
E2E_FAILS=0
E2E_PASSES=0
# The current simulator (its mount point) and the current collectd (its log,
# pid): the ones e2e_ctl, e2e_check and the waits act on.
E2E_MNT=
E2E_LOG=
CD_PID=
# Every simulator and collectd started, by name, so that cleanup stops them
# all whatever the exit path.
declare -A E2E_SIM_PIDS=() E2E_CD_PIDS=() E2E_CD_MNT=()
# NAME=VALUE pairs for the environment of the next collectd started (see
# e2e_perf_preload); empty: collectd gets the test's environment.
E2E_CD_ENV=()

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

# e2e_abort MESSAGE: a failure after which the rest of the script cannot
# mean anything (a wait that timed out): fail, dump the logs, exit 1.
e2e_abort() {
  e2e_fail "$*"
  printf '%s: FAIL: %s\n' "$E2E_NAME" "$*" >&2
  e2e_finish
}

# e2e_assert DESCRIPTION COMMAND...: passes when COMMAND succeeds.
e2e_assert() {
  local what=$1
  shift
  if "$@"; then e2e_ok "$what"; else e2e_fail "$what"; fi
}

# e2e_check SUBCOMMAND ARGS...: runs rapl_check.py on the current log; its
# failures count as one failed assertion here, a 99 is a hard error. The
# zones and steady checks also get the simulator's readings from just before
# collectd started and just after it stopped, which bound the energy.
e2e_check() {
  local rc=0 sim=() base=${E2E_LOG%.log}
  case $1 in
  zones | steady)
    if [ -s "$base.sim-start" ] && [ -s "$base.sim-stop" ]; then
      sim=(--sim-before "$base.sim-start" --sim-after "$base.sim-stop")
    fi
    ;;
  esac
  e2e_py "$1" "$E2E_LOG" "${@:2}" "${sim[@]}" || rc=$?
  case $rc in
  0) E2E_PASSES=$((E2E_PASSES + 1)) ;;
  99) e2e_error "rapl_check.py $1 could not read $E2E_LOG" ;;
  *) E2E_FAILS=$((E2E_FAILS + 1)) ;;
  esac
  return 0
}

# e2e_finish: exit 0 when every assertion passed, 1 otherwise.
e2e_finish() {
  local ms=$(($(date +%s%3N) - E2E_START))
  e2e_say "$E2E_PASSES check(s) passed, $E2E_FAILS failed," \
    "in $((ms / 1000)).$(printf '%03d' $((ms % 1000))) s"
  if [ "$E2E_FAILS" -ne 0 ]; then
    e2e_dump
    exit 1
  fi
  exit 0
}

# Prints the logs of every run, for the test's .log file.
e2e_dump() {
  local f
  [ -n "$E2E_TMP" ] && [ -d "$E2E_TMP" ] || return 0
  for f in "$E2E_TMP"/*.log "$E2E_TMP"/*.out; do
    [ -s "$f" ] || continue
    echo "----- $f: non-JSON lines, then the last 20 JSON lines -----"
    grep -v '^\[{"values"' "$f" | tail -n 150
    grep '^\[{"values"' "$f" | tail -n 20
  done
  echo "-----"
}

e2e_cleanup() {
  local rc=$? name
  trap - EXIT INT TERM HUP
  for name in "${!E2E_CD_PIDS[@]}"; do
    e2e_stop_pid "${E2E_CD_PIDS[$name]}"
  done
  for name in "${!E2E_SIM_PIDS[@]}"; do
    e2e_sim_stop "$name"
  done
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ "$E2E_FAILS" -eq 0 ]; then
    e2e_dump
  fi
  if [ -n "$E2E_TMP" ] && [ -d "$E2E_TMP" ]; then
    if [ "${E2E_KEEP:-0}" = 1 ]; then
      echo "$E2E_NAME: kept $E2E_TMP"
    elif e2e_mounted_under "$E2E_TMP"; then
      echo "$E2E_NAME: something is still mounted under $E2E_TMP; not removing it"
    else
      rm -rf "$E2E_TMP"
    fi
  fi
  exit "$rc"
}

# e2e_mounted_under DIR: true when a file system is mounted below DIR (rm -rf
# must not walk into a simulator that did not go away).
e2e_mounted_under() {
  local d
  for d in "$1"/*/; do
    mountpoint -q "$d" 2>/dev/null && return 0
  done
  return 1
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

# e2e_stop_pid PID: SIGTERM, then SIGKILL after 10 s; reaps it.
e2e_stop_pid() {
  kill -0 "$1" 2>/dev/null || {
    wait "$1" 2>/dev/null
    return 0
  }
  kill -TERM "$1" 2>/dev/null
  e2e_wait_pid "$1" 10 || kill -KILL "$1" 2>/dev/null
  wait "$1" 2>/dev/null
  return 0
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
  # A version manager's shim (pyenv) costs a tenth of a second or more per
  # call, and the checks make dozens: resolve the interpreter once.
  local exe
  exe=$("$PYTHON" -c 'import sys; print(sys.executable)' 2>/dev/null) &&
    [ -x "$exe" ] && PYTHON=$exe
  local p
  for p in logfile write_log; do
    [ -f "$STOCK_PLUGINDIR/$p.so" ] || e2e_error "$STOCK_PLUGINDIR/$p.so missing (collectd-core)"
  done

  E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/rapl-e2e-$E2E_NAME.XXXXXX") ||
    e2e_error "mktemp failed"
  trap e2e_cleanup EXIT
  trap 'exit 99' INT TERM HUP

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

# _e2e_deadline: the time E2E_TIMEOUT (or $1) seconds from now, in
# microseconds, for _e2e_expired.
_e2e_deadline() { echo $(($(date +%s%6N) + ${1:-$E2E_TIMEOUT} * 1000000)); }
_e2e_expired() { [ "$(date +%s%6N)" -ge "$1" ]; }

# e2e_poll TIMEOUT WHAT COMMAND...: runs COMMAND every 0.1 s until it
# succeeds. Fails the test (e2e_abort) when TIMEOUT seconds pass first, or
# when the current collectd exits in the meantime, saying it waited for WHAT.
e2e_poll() {
  local timeout=$1 what=$2 deadline
  shift 2
  deadline=$(_e2e_deadline "$timeout")
  while ! "$@"; do
    if [ -n "$CD_PID" ] && ! kill -0 "$CD_PID" 2>/dev/null; then
      "$@" && return 0
      e2e_abort "collectd ($E2E_LOG) exited while waiting for $what"
    fi
    _e2e_expired "$deadline" &&
      e2e_abort "timed out after ${timeout} s waiting for $what (log $E2E_LOG)"
    sleep 0.1
  done
}

# e2e_wait_for REGEX [TIMEOUT [MARK]]: waits until a log line after line MARK
# (default 0, see e2e_log_mark) of the current collectd matches REGEX.
e2e_wait_for() {
  e2e_poll "${2:-$E2E_TIMEOUT}" "a log line matching '$1'" \
    e2e_log_since_has "${3:-0}" "$1"
}

# _e2e_values_re SELECTOR: the regular expression of write_log's JSON for
# the rapl_energy value lists that SELECTOR names: PLUGIN_INSTANCE/TYPE/
# TYPE_INSTANCE, an empty field matching anything ("" matches every one).
_e2e_values_re() {
  local pi ti ty
  IFS=/ read -r pi ty ti <<<"$1"
  printf '"plugin":"rapl_energy","plugin_instance":"%s","type":"%s","type_instance":"%s"' \
    "${pi:-[^\"]*}" "${ty:-[^\"]*}" "${ti:-[^\"]*}"
}

# e2e_count_values [SELECTOR]: how many value lists the current collectd
# logged that SELECTOR matches (see _e2e_values_re).
e2e_count_values() {
  grep -cE -- "$(_e2e_values_re "${1:-}")" "$E2E_LOG" 2>/dev/null
}

_e2e_count_at_least() { [ "$(e2e_count_values "$1")" -ge "$2" ]; }

# e2e_wait_values N [TIMEOUT [SELECTOR]]: waits until the current collectd
# has logged N more value lists matching SELECTOR than it had at the call,
# e.g. `e2e_wait_values 7 30 package-0/energy/package` for seven more reads
# of that zone.
e2e_wait_values() {
  local want
  want=$(($(e2e_count_values "${3:-}") + $1))
  e2e_poll "${2:-$E2E_TIMEOUT}" "$1 more value list(s) '${3:-any}'" \
    _e2e_count_at_least "${3:-}" "$want"
}

# e2e_wait_logged N [TIMEOUT [SELECTOR]]: waits until the current collectd
# has logged N value lists matching SELECTOR in all: N reads of a zone since
# it started, however long the script took to get here.
e2e_wait_logged() {
  e2e_poll "${2:-$E2E_TIMEOUT}" "$1 value list(s) '${3:-any}' in all" \
    _e2e_count_at_least "${3:-}" "$1"
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
# arguments of rapl_check.py for the current simulator (its `sim` file): all
# zones or only those of the given kinds.
e2e_sim_zones() {
  local out k only=()
  if [ "$1" != all ]; then
    for k in "$@"; do only+=(--only "$k"); done
  fi
  out=$(e2e_py simzones "$E2E_MNT/sim" "${only[@]}") ||
    e2e_error "cannot read the simulator's zones from $E2E_MNT/sim"
  read -ra E2E_ZONES <<<"$out"
  [ "${#E2E_ZONES[@]}" -gt 0 ] || e2e_error "the simulator lists no zone"
}

# e2e_sim_start [-n NAME] SPEC [DIRECTIVE...]: mounts a simulator on spec
# SPEC (see e2e_spec) at $E2E_TMP/NAME (default mnt), with the given
# directives (such as "powercap off") appended to a copy of the spec, and
# makes it the current one (E2E_MNT).
e2e_sim_start() {
  local name=mnt spec pid
  if [ "$1" = -n ]; then
    name=$2
    shift 2
  fi
  [ -z "${E2E_SIM_PIDS[$name]:-}" ] || e2e_error "simulator $name is already running"
  e2e_spec "$1"
  spec=$E2E_SPEC
  shift
  if [ "$#" -gt 0 ]; then
    spec="$E2E_TMP/$name-$(basename "$spec" .spec)-variant.spec"
    { cat "$E2E_SPEC"; printf '%s\n' "# added by $E2E_NAME" "$@"; } >"$spec"
  fi
  mkdir -p "$E2E_TMP/$name"
  $E2E_NICE "$E2E_SIM" -f "$spec" "$E2E_TMP/$name" >"$E2E_TMP/$name-sim.out" 2>&1 &
  pid=$!
  E2E_SIM_PIDS[$name]=$pid
  E2E_MNT="$E2E_TMP/$name"
  local deadline
  deadline=$(_e2e_deadline)
  until [ -d "$E2E_MNT/sys" ]; do
    if ! kill -0 "$pid" 2>/dev/null || _e2e_expired "$deadline"; then
      cat "$E2E_TMP/$name-sim.out"
      e2e_error "simulator did not mount $E2E_MNT within $E2E_TIMEOUT s (spec $spec)"
    fi
    sleep 0.1
  done
  e2e_say "simulator $name up on $E2E_MNT (spec $(basename "$E2E_SPEC")${1:+ + $*}, pid $pid)"
}

# e2e_sim_use NAME: makes simulator NAME the current one.
e2e_sim_use() {
  [ -n "${E2E_SIM_PIDS[$1]:-}" ] || e2e_error "no simulator named $1"
  E2E_MNT="$E2E_TMP/$1"
}

# e2e_sim_stop [NAME]: unmounts simulator NAME (default: the current one)
# and waits for it to exit.
e2e_sim_stop() {
  local name=${1:-${E2E_MNT##*/}} mnt pid
  [ -n "$E2E_TMP" ] && [ -n "$name" ] || return 0
  mnt="$E2E_TMP/$name"
  pid=${E2E_SIM_PIDS[$name]:-}
  if mountpoint -q "$mnt" 2>/dev/null; then
    fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -u -z "$mnt" 2>/dev/null
  fi
  if [ -n "$pid" ]; then
    if ! e2e_wait_pid "$pid" 5; then
      kill -TERM "$pid" 2>/dev/null
      e2e_wait_pid "$pid" 2 || kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    unset "E2E_SIM_PIDS[$name]"
  fi
  return 0
}

# e2e_ctl COMMAND...: sends one command to the current simulator's ctl file.
e2e_ctl() {
  e2e_say "sim ctl: $*"
  printf '%s\n' "$*" >"$E2E_MNT/ctl" || e2e_error "simulator ctl '$*' failed"
}

# e2e_sim_show: prints the current simulator's `sim` file, for the log.
e2e_sim_show() { sed 's/^/    sim: /' "$E2E_MNT/sim"; }

# e2e_sim_near_wrap SECONDS: sets every simulated zone's energy so that its
# 32-bit counter wraps SECONDS from now; E2E_WRAP_AT is that time (epoch
# seconds), for the checks that the wrap fell inside the measured run.
e2e_sim_near_wrap() {
  local cmds
  cmds=$(e2e_py nearwrap "$E2E_MNT/sim" "$1") ||
    e2e_error "cannot compute the wrap points"
  printf '%s\n' "$cmds" | sed 's/^/    sim ctl: /'
  E2E_WRAP_AT=$(e2e_add "$(e2e_now)" "$1")
  printf '%s\n' "$cmds" >"$E2E_MNT/ctl" || e2e_error "simulator ctl set failed"
  e2e_say "every counter wraps in $1 s (at $E2E_WRAP_AT):"
  grep -o '^[^ ]* .* raw [0-9]*' "$E2E_MNT/sim" | awk '{print "    sim: " $1 " raw " $NF}'
}

# e2e_conf_head FILE HOSTNAME: the part of every test's collectd.conf before
# its plugins: Interval 1, the daemon's files named after FILE (FILE.log,
# .pid), the log with write_log's JSON values in it.
e2e_conf_head() {
  local base=${1%.conf}
  cat >"$1" <<EOF
# generated by t/e2e/lib.sh
Hostname "$2"
FQDNLookup false
Interval 1
BaseDir "$E2E_TMP"
PIDFile "$base.pid"

PluginDir "$STOCK_PLUGINDIR"
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "$base.log"
  Timestamp true
  PrintSeverity true
</Plugin>
LoadPlugin write_log
<Plugin write_log>
  Format JSON
</Plugin>
EOF
}

# e2e_write_conf FILE: writes a collectd.conf for the current simulator; stdin
# is the body of the <Plugin rapl_energy> block (the paths may use @MNT@ for
# the mount point). The daemon's files are named after FILE: FILE.log (the
# log, E2E_LOG once started), .out, .pid, .sim-start and .sim-stop.
e2e_write_conf() {
  local conf=$1 base=${1%.conf} body
  body=$(sed "s|@MNT@|$E2E_MNT|g")
  E2E_CD_MNT[$base]=$E2E_MNT
  e2e_conf_head "$conf" e2e
  cat >>"$conf" <<EOF

PluginDir "$E2E_PLUGINDIR"
LoadPlugin rapl_energy
<Plugin rapl_energy>
$body
</Plugin>
EOF
}

# _e2e_sim_snapshot BASE SUFFIX: saves the `sim` file of the simulator BASE's
# configuration reads, as BASE.SUFFIX: the energy the simulator counted.
_e2e_sim_snapshot() {
  local mnt=${E2E_CD_MNT[$1]:-}
  [ -n "$mnt" ] && [ -e "$mnt/sim" ] || return 0
  cat "$mnt/sim" >"$1.$2" || e2e_error "cannot read $mnt/sim"
}

# e2e_collectd_start CONF: runs collectd -f on CONF in the background and
# makes it the current one (E2E_LOG, CD_PID); returns once collectd has
# initialised. The simulator's counters are saved just before, to bound the
# energy collectd may report.
e2e_collectd_start() {
  local base=${1%.conf} pid
  [ -z "${E2E_CD_PIDS[$base]:-}" ] || e2e_error "collectd on $1 is already running"
  E2E_LOG="$base.log"
  : >"$E2E_LOG"
  _e2e_sim_snapshot "$base" sim-start
  $E2E_NICE env "${E2E_CD_ENV[@]}" "$COLLECTD" -f -C "$1" >>"$base.out" 2>&1 &
  pid=$!
  E2E_CD_PIDS[$base]=$pid
  CD_PID=$pid
  local deadline
  deadline=$(_e2e_deadline)
  until grep -q 'Initialization complete' "$E2E_LOG" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      local rc=0
      wait "$pid" || rc=$?
      unset "E2E_CD_PIDS[$base]"
      CD_PID=
      e2e_error "collectd on $(basename "$1") exited at startup with status $rc"
    fi
    _e2e_expired "$deadline" &&
      e2e_error "collectd on $(basename "$1") did not initialise within $E2E_TIMEOUT s"
    sleep 0.1
  done
  e2e_say "collectd started on $(basename "$1") (pid $pid)"
}

# e2e_perf_preload [off]: the collectd daemons started from now on get the
# perf_event_open seam's LD_PRELOAD module (t/.libs/libraplperf.so), which
# serves perf events from the current simulator's perf/ files; "off": no
# preload for the next ones.
e2e_perf_preload() {
  local so="$abs_top_builddir/t/.libs/libraplperf.so"
  if [ "${1:-}" = off ]; then
    E2E_CD_ENV=()
    return 0
  fi
  [ -f "$so" ] || e2e_error "$so is not built (run make check)"
  E2E_CD_ENV=(LD_PRELOAD="$so" RAPLSIM_PERF_ROOT="$E2E_MNT")
}

# e2e_use CONF: makes the collectd started on CONF (running or stopped) the
# current one: e2e_check, e2e_log_* and the waits look at its log.
e2e_use() {
  local base=${1%.conf}
  E2E_LOG="$base.log"
  CD_PID=${E2E_CD_PIDS[$base]:-}
}

# e2e_alive: true while the current collectd runs.
e2e_alive() { [ -n "$CD_PID" ] && kill -0 "$CD_PID" 2>/dev/null; }

# e2e_collectd_stop: SIGTERM to the current collectd, waits, saves the
# simulator's counters; returns collectd's exit status.
e2e_collectd_stop() {
  local base=${E2E_LOG%.log} rc=0 pid
  pid=${E2E_CD_PIDS[$base]:-}
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null
  if ! e2e_wait_pid "$pid" 10; then
    e2e_say "collectd did not stop within 10 s of SIGTERM; killing it"
    kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" || rc=$?
  unset "E2E_CD_PIDS[$base]"
  CD_PID=
  _e2e_sim_snapshot "$base" sim-stop
  e2e_say "collectd on $(basename "$base").conf stopped, exit status $rc;" \
    "$(grep -c '^\[{"values"' "$E2E_LOG") value lists logged"
  return "$rc"
}

# e2e_collectd_test CONF: runs `collectd -T -C CONF` (config, init, one read,
# exit); sets E2E_RC to its exit status (124: it hung for 30 s) and E2E_LOG
# to its log.
e2e_collectd_test() {
  E2E_RC=0
  E2E_LOG="${1%.conf}.log"
  CD_PID=
  : >"$E2E_LOG"
  timeout 30 "$COLLECTD" -T -C "$1" >>"${1%.conf}.out" 2>&1 || E2E_RC=$?
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

# e2e_now: epoch seconds with fraction, the clock of collectd's timestamps.
e2e_now() { date +%s.%N; }

# e2e_add SECONDS DELTA: SECONDS + DELTA, for times to hand to rapl_check.py.
e2e_add() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", a + b }'; }

# e2e_py SUBCOMMAND ARGS...: runs rapl_check.py. It needs nothing beyond the
# standard library, so -S spares it the site-packages start-up.
e2e_py() { "$PYTHON" -S "$E2E_CHECK" "$@"; }
