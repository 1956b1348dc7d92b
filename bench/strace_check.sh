#!/bin/sh
# The counted cycles of rapl_bench under strace: every system call between
# the markers of --mark, libc's own included, must be one pread per counter
# (and one stat for the configuration-file check). The -Wl,--wrap counters
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
# configuration-file check.
awk '/^getppid\(/ { w = 1; c = 0; next }
  /^getsid\(/ { w = 0; print c; next }
  w { c++ }' "$tmp/trace" >"$tmp/windows"
awk 'BEGIN { n = 0 }
  NR == FNR { g = int((NR - 1) / 16)
    if (!(g in hi) || $1 > hi[g]) hi[g] = $1
    if (!(g in lo) || $1 < lo[g]) lo[g] = $1
    next }
  /^config-file check/ { name[n] = "config-file check"; want[n++] = 1; next }
  seen && NF > 3 { name[n] = substr($0, 1, 20); split(substr($0, 21), f, " ")
    want[n++] = f[2] }
  /^tree / { seen = 1 }
  END { bad = n == 0 || !(n - 1 in hi) || n in hi
    for (i = 0; i < n; i++) {
      ok = lo[i] == want[i] && hi[i] == want[i]
      bad += !ok
      printf "%-20s %5d calls per cycle (expected %d)%s\n", name[i], hi[i],
        want[i], ok ? "" : "  MISS"
    }
    exit bad != 0 }' "$tmp/windows" "$tmp/counted" || {
  echo "FAILED: strace counted system calls other than one pread per counter"
  exit 1
}
