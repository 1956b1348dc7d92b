#!/bin/sh
# The counted cycles of rapl_bench under strace: every system call between
# the markers of --mark, libc's own included, must be one pread per counter
# (perf: one read per counter, and the one stat a cycle of the look for
# powercap; no open), and one stat for the configuration-file check. The -Wl,--wrap counters
# see only the libc functions they wrap; this sees the kernel's side. A
# count, not a time: machine load cannot change it. Exits 77 without strace.
set -eu
b=${abs_top_builddir:-.}
command -v strace >/dev/null || {
  echo "strace_check: strace is not installed (apt-get install strace)"
  exit 77
}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rapl_bench_strace-XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
"$b/bench/rapl_bench" --counted >"$tmp/counted"
strace -o "$tmp/trace" "$b/bench/rapl_bench" --counted --mark >/dev/null
echo "strace: system calls per counted cycle (every call between markers)"
# Each tree has 16 windows, in the table's order, then 16 of the
# configuration-file check. Per window: every call, then the reads, the
# preads and the stats among them.
awk '/^getppid\(/ { w = 1; c = r = p = s = 0; next }
  /^getsid\(/ { w = 0; print c, r, p, s; next }
  w { c++
    if (/^read\(/) r++
    else if (/^pread(64)?\(/) p++
    else if (/^(newfstatat|fstatat64|stat|stat64|statx)\(/) s++ }' \
  "$tmp/trace" >"$tmp/windows"
# A tree's row wants one pread per counter and nothing else; a perf row
# one read per counter (perf descriptors refuse pread) and one stat a cycle
# (the reader looks for powercap, the backend ahead of perf, once a read).
awk 'BEGIN { n = 0 }
  NR == FNR { g = int((NR - 1) / 16)
    sig = $1 " " $2 " " $3 " " $4
    if (!(g in first)) first[g] = sig
    else if (first[g] != sig) varies[g] = 1
    next }
  /^config-file check/ { name[n] = "config-file check"; perf[n] = -1
    want[n++] = 1; next }
  seen && NF > 3 { name[n] = substr($0, 1, 24); split(substr($0, 25), f, " ")
    perf[n] = name[n] ~ /perf/; want[n++] = f[2] }
  /^tree / { seen = 1 }
  END { bad = n == 0 || !(n - 1 in first) || n in first
    for (i = 0; i < n; i++) {
      split(first[i], v, " ")
      if (perf[i] == 1) {
        ok = v[1] == want[i] + 1 && v[2] == want[i] && v[4] == 1
        what = sprintf("%d reads + %d stat (expected %d + 1)", v[2], v[4],
          want[i])
      } else if (perf[i] == 0) {
        ok = v[1] == want[i] && v[3] == want[i]
        what = sprintf("%d preads (expected %d)", v[3], want[i])
      } else {
        ok = v[1] == 1 && v[4] == 1
        what = sprintf("%d stat (expected 1)", v[4])
      }
      ok = ok && !(i in varies)
      bad += !ok
      printf "%-24s %5d calls per cycle: %s%s\n", name[i], v[1], what,
        ok ? "" : "  MISS"
    }
    exit bad != 0 }' "$tmp/windows" "$tmp/counted" || {
  echo "FAILED: strace counted system calls other than one pread per counter" \
    "(perf: one read per counter and the stat of the powercap probe)"
  exit 1
}
