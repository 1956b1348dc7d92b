# shellcheck shell=bash
# Helpers for the end-to-end tests that forward rapl_energy's values to real
# servers (a central collectd, carbon-cache, InfluxDB, write_prometheus).
# Sourced after lib.sh. Every server runs in the foreground on 127.0.0.1, on
# a free port, with its files under $E2E_TMP, and is stopped on every exit
# path: srv_start registers it, and the EXIT trap set here stops the servers
# before lib.sh's e2e_cleanup stops collectd and the simulators.

declare -A SRV_PIDS=()
# srv_judge_points reads a pipeline: run the last command of a pipeline in
# this shell, so that its passes and failures count.
shopt -s lastpipe

# srv_free_port tcp|udp: prints a port on 127.0.0.1 that nothing listens on.
srv_free_port() {
  "$PYTHON" -S -c '
import socket, sys
kind = socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM
s = socket.socket(socket.AF_INET, kind)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()' "$1" || e2e_error "cannot find a free $1 port"
}

# srv_start NAME COMMAND...: runs COMMAND in the background (its output in
# $E2E_TMP/NAME.out) and remembers it for srv_stop and the cleanup.
srv_start() {
  local name=$1
  shift
  "$@" >"$E2E_TMP/$name.out" 2>&1 &
  SRV_PIDS[$name]=$!
  e2e_say "server $name started (pid $!): $*"
}

# srv_stop NAME: SIGTERM (then SIGKILL), waits for it.
srv_stop() {
  local pid=${SRV_PIDS[$1]:-}
  [ -n "$pid" ] || return 0
  e2e_stop_pid "$pid"
  unset "SRV_PIDS[$1]"
}

# srv_alive NAME: true while server NAME runs.
srv_alive() { [ -n "${SRV_PIDS[$1]:-}" ] && kill -0 "${SRV_PIDS[$1]}" 2>/dev/null; }

# srv_wait_tcp NAME PORT: waits until server NAME accepts connections on
# 127.0.0.1:PORT; a hard error when it exits or E2E_TIMEOUT passes first.
srv_wait_tcp() {
  local deadline
  deadline=$(_e2e_deadline)
  until "$PYTHON" -S -c '
import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$2" 2>/dev/null; do
    if ! srv_alive "$1"; then
      tail -n 40 "$E2E_TMP/$1.out"
      e2e_error "server $1 exited before listening on port $2"
    fi
    _e2e_expired "$deadline" && {
      tail -n 40 "$E2E_TMP/$1.out"
      e2e_error "server $1 did not listen on port $2 within $E2E_TIMEOUT s"
    }
    sleep 0.1
  done
}

_srv_cleanup() {
  local rc=$? name
  for name in "${!SRV_PIDS[@]}"; do
    e2e_stop_pid "${SRV_PIDS[$name]}"
  done
  (exit "$rc")
  e2e_cleanup
}

# srv_setup: e2e_setup, then the trap that stops the servers first.
srv_setup() {
  e2e_setup
  trap _srv_cleanup EXIT
}

# srv_copy_bounds FROM_CONF TO_CONF: the simulator readings taken around the
# edge collectd on FROM_CONF also bound the energy TO_CONF's log shows.
srv_copy_bounds() {
  local f=${1%.conf} t=${2%.conf} s
  for s in sim-start sim-stop; do
    [ -s "$f.$s" ] && cp "$f.$s" "$t.$s"
  done
  return 0
}

# srv_central_conf CONF: a collectd.conf without rapl_energy, logging what it
# receives with write_log (JSON) to CONF's .log, like e2e_write_conf's; stdin
# is added at the end (the receiving plugins).
srv_central_conf() {
  e2e_conf_head "$1" central
  cat >>"$1"
}

# srv_judge_points WHAT WATTS SKIP < "time value" lines: asserts every value
# after the first SKIP within 10% of WATTS and their time-weighted mean (each
# value weighted by the time since the previous point) within 0.5%, over 5 s
# or more -- the judge of rapl_check.py, for values a server computed.
srv_judge_points() {
  local what=$1 watts=$2 skip=$3 out
  out=$(awk -v w="$watts" -v skip="$skip" '
    { n++; t[n] = $1; v[n] = $2 }
    END {
      bad = 0; num = 0; den = 0; used = 0
      for (i = skip + 1; i <= n; i++) {
        if (v[i] < 0.9 * w || v[i] > 1.1 * w) { bad++; list = list " " v[i] }
        if (i > 1 && i > skip + 1) { num += v[i] * (t[i] - t[i-1]); den += t[i] - t[i-1] }
        used++
      }
      mean = den > 0 ? num / den : 0
      printf "%d points (first %d skipped), %d off by more than 10%%%s; mean %.4f W over %.3f s (%+.3f%%)\n", \
        n, skip, bad, list, mean, den, (mean - w) / w * 100
      ok = used >= 3 && bad == 0 && den >= 5 && mean >= w * 0.995 && mean <= w * 1.005
      exit ok ? 0 : 1
    }')
  local rc=$?
  e2e_say "$what: $out"
  if [ "$rc" -eq 0 ]; then
    e2e_ok "$what: every value within 10% of $watts W, the mean over 5 s or more within 0.5%"
  else
    e2e_fail "$what: every value within 10% of $watts W, the mean over 5 s or more within 0.5%"
  fi
}
