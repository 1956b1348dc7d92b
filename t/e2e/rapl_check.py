#!/usr/bin/env python3
"""Checks on the values collectd's write_log plugin (Format JSON) logged.

write_log in collectd 5.12 logs each value list through plugin_log at INFO:
"write_log values:\\n[{...}]", so with the logfile plugin every JSON array
sits on a line of its own. This script extracts those value lists and asserts
on them; each subcommand prints what it measured and exits 0 (pass), 1 (an
assertion failed) or 99 (the log could not be read). Only the standard library
is used, so python3-minimal is enough.

ZONE arguments are "plugin_instance/type_instance=watts", for example
"package-0/package=45.5" or "platform/psys=120".

The daemon runs on real time on a machine that may be loaded, so a single
interval is never held to the precision of the plugin: see "judging" below
for what is judged on single values, on averages over several seconds, and
against the simulator's own energy readings.
"""

import argparse
import json
import math
import sys

PLUGIN = "rapl_energy"
BACKENDS = ("powercap", "perf", "msr")


class Rec:
    __slots__ = ("time", "plugin", "pi", "type", "ti", "value", "meta", "line")

    def __init__(self, d, line):
        self.time = float(d.get("time", 0))
        self.plugin = d.get("plugin", "")
        self.pi = d.get("plugin_instance", "")
        self.type = d.get("type", "")
        self.ti = d.get("type_instance", "")
        vals = d.get("values") or [None]
        self.value = vals[0]
        self.meta = d.get("meta") or {}
        self.line = line

    def key(self):
        return "%s/%s" % (self.pi, self.ti)

    def __repr__(self):
        return "%.3f %s/%s/%s/%s=%r meta=%r (log line %d)" % (
            self.time, self.plugin, self.pi, self.type, self.ti, self.value,
            self.meta, self.line)


def parse(path):
    recs = []
    dec = json.JSONDecoder()
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
    except OSError as e:
        print("ERROR: cannot read %s: %s" % (path, e))
        sys.exit(99)
    for n, line in enumerate(lines, 1):
        i = line.find('[{"values"')
        if i < 0:
            continue
        try:
            arr, _ = dec.raw_decode(line[i:])
        except ValueError as e:
            print("ERROR: log line %d is not valid JSON (%s): %s" %
                  (n, e, line.rstrip()[:300]))
            sys.exit(99)
        for d in arr:
            recs.append(Rec(d, n))
    return recs


def ours(recs, types=None):
    return [r for r in recs if r.plugin == PLUGIN and
            (types is None or r.type in types)]


def parse_zone(s):
    try:
        key, w = s.split("=", 1)
        pi, ti = key.split("/", 1)
        return pi, ti, float(w)
    except ValueError:
        print("ERROR: bad zone argument %r (want INSTANCE/ZONE=WATTS)" % s)
        sys.exit(99)


class Result:
    def __init__(self):
        self.failed = 0
        self.passed = 0

    def ok(self, cond, msg):
        if cond:
            self.passed += 1
            print("  ok   - " + msg)
        else:
            self.failed += 1
            print("  FAIL - " + msg)
        return cond

    def done(self):
        print("  %d assertion(s) passed, %d failed" % (self.passed, self.failed))
        return 1 if self.failed else 0


def rel(a, b):
    if b == 0:
        return math.inf if a != 0 else 0.0
    return abs(a - b) / abs(b)


def isnum(v):
    return isinstance(v, (int, float)) and math.isfinite(v)


def cmd_dump(args):
    for r in ours(parse(args.log)):
        print("%.3f\t%s\t%s\t%s\t%r\t%s" % (r.time, r.pi, r.type, r.ti,
                                            r.value, json.dumps(r.meta)))
    return 0


# ---------------------------------------------------------------- judging
#
# A power value is energy over the plugin's own interval, stamped when the
# zone was read; the simulator computes the counter when it serves the read.
# On a loaded machine the read thread can wait tens of milliseconds between
# the two, which is a few percent of a 1 s interval and says nothing about
# the plugin. So a single value is only judged for being neither zero nor a
# spike (POWER_TOL); accuracy is judged on averages over segments of at
# least MIN_SPAN seconds of collectd's timestamps, where the same delay is a
# fraction of AVG_TOL; and the energy is bounded above by what the simulator
# itself counted while collectd ran.

POWER_TOL = 0.10
AVG_TOL = 0.005
MIN_SPAN = 5.0
# The shell notes the time just before it writes a `watts` command, and a
# read in flight may have been served just before or after it: intervals
# that end or begin this close to a change are not judged either.
CHANGE_MARGIN = 0.2


class Read:
    """One read of one zone at collectd's time t: energy e and power p, None
    where that read dispatched none."""
    __slots__ = ("t", "e", "p")

    def __init__(self, t, e, p):
        self.t, self.e, self.p = t, e, p


def merge_reads(energy, power):
    """Pairs each power value with the energy value of the same read (both
    are dispatched one after the other in the same callback)."""
    reads = [Read(r.time, r.value, None) for r in energy]
    for pv in power:
        near = [rd for rd in reads
                if rd.p is None and abs(rd.t - pv.time) < 0.25]
        if near:
            min(near, key=lambda rd: abs(rd.t - pv.time)).p = pv.value
        else:
            reads.append(Read(pv.time, None, pv.value))
    reads.sort(key=lambda rd: rd.t)
    return reads


class Watts:
    """A zone's simulated watts over time: base, then each (time, watts)
    change."""

    def __init__(self, base, changes=()):
        self.base = base
        self.changes = sorted(changes)

    def at(self, t):
        w = self.base
        for c, cw in self.changes:
            if c <= t:
                w = cw
        return w

    def straddles(self, t0, t1):
        return any(t0 - CHANGE_MARGIN < c < t1 + CHANGE_MARGIN
                   for c, _ in self.changes)

    def __str__(self):
        return "%.3f W%s" % (self.base, "".join(
            ", %.3f W from %.3f" % (w, c) for c, w in self.changes))


def sim_zone_key(simkey):
    """The collectd identifier (plugin_instance/type_instance) of a zone of
    the simulator's `sim` file: per-core zones (AMD) map to their socket's
    core zone."""
    parts = simkey.split(":")
    kind = parts[0]
    pkg = die = None
    for p in parts[1:]:
        if p.startswith("die"):
            die = int(p[3:])
        elif not p.startswith("core"):
            pkg = int(p)
    if kind == "psys":
        return "platform/psys"
    pi = "package-%d" % pkg
    if die:
        pi += "-die-%d" % die
    return "%s/%s" % (pi, kind)


def read_sim(path):
    """{collectd key: [watts, energy_j, unit_j, counters]} from a `sim` file,
    summed over the simulator zones that make up each collectd zone."""
    out = {}
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        print("ERROR: cannot read %s: %s" % (path, e))
        sys.exit(99)
    for line in lines:
        tok = line.split()
        if len(tok) < 3 or tok[1] != "watts":
            continue
        f = dict(zip(tok[1::2], tok[2::2]))
        z = out.setdefault(sim_zone_key(tok[0]), [0.0, 0.0, 0.0, 0])
        z[0] += float(f["watts"])
        z[1] += float(f.get("energy_j", "nan"))
        z[2] += float(f.get("unit_uj", "0")) * 1e-6
        z[3] += 1
    return out


class SimBound:
    """The energy the simulator counted between a reading just before
    collectd started and one just after it stopped: collectd cannot have
    counted more, save one counter unit of quantisation per counter (and the
    micro-joule rounding of the `sim` file). A ctl `set` or `jump` while
    collectd runs would move the bound: tests make those before starting."""

    def __init__(self, before, after):
        self.before = read_sim(before) if before else {}
        self.after = read_sim(after) if after else {}

    def limit(self, key):
        if key not in self.before or key not in self.after:
            return None
        b, a = self.before[key], self.after[key]
        return a[1] - b[1], a[2] + 3e-6 * a[3]


def fmt_reads(rs):
    return [(round(r.t, 3), r.p if r.p is not None else r.e) for r in rs]


def judge(res, key, watts, reads, opt, sim):
    """Asserts on one zone's reads; see the comment above POWER_TOL."""
    has_e = any(r.e is not None for r in reads)
    has_p = any(r.p is not None for r in reads)

    # Every power value: neither zero nor a spike, against the watts of its
    # own interval; an interval a watts change falls in is not judged.
    bad, skipped = [], []
    for i, r in enumerate(reads):
        if r.p is None:
            continue
        t0 = reads[i - 1].t if i > 0 else r.t - opt.interval
        if isnum(r.p) and watts.straddles(t0, r.t):
            skipped.append(r)
        elif not isnum(r.p) or rel(r.p, watts.at(r.t)) > opt.power_tol:
            bad.append(r)
    pv = [r.p for r in reads if r.p is not None and isnum(r.p)]
    if pv:
        print("    power: min %.4f max %.4f W%s" %
              (min(pv), max(pv), "; not judged (a watts change): %s" %
               fmt_reads(skipped) if skipped else ""))
    res.ok(not bad, "%s: every power value within %.0f%% of %s (no 0, no "
           "spike)%s" % (key, opt.power_tol * 100, watts,
                         "" if not bad else "; outside: %s" % fmt_reads(bad)))

    if has_e:
        ev = [r for r in reads if r.e is not None]
        mono = all(isnum(a.e) and isnum(b.e) and b.e >= a.e
                   for a, b in zip(ev, ev[1:]))
        res.ok(mono and isnum(ev[0].e),
               "%s: energy never decreases: %s" %
               (key, " ".join("%.3f" % r.e if isnum(r.e) else repr(r.e)
                              for r in ev)))
        if not mono or not all(isnum(r.e) for r in ev):
            return
        acc = ev[-1].e - ev[0].e
        lim = sim.limit(key) if sim else None
        if lim is None:
            res.ok(acc >= 0, "%s: energy accumulated %.6f J >= 0" % (key, acc))
        else:
            simd, tol = lim
            res.ok(0 <= acc <= simd + tol,
                   "%s: energy accumulated from the first to the last read, "
                   "%.6f J, is >= 0 and <= the %.6f J the simulator counted "
                   "while collectd ran (+ %.6f J quantisation)" %
                   (key, acc, simd, tol))

    if opt.energy_rate is not None and has_e:
        # Energy between consecutive reads grows at the simulated watts: no
        # jump (double counting) and no loss (a switch that drops energy).
        badrate = []
        for a, b in zip(reads, reads[1:]):
            if a.e is None or b.e is None or b.t <= a.t or \
                    watts.straddles(a.t, b.t):
                continue
            rate = (b.e - a.e) / (b.t - a.t)
            if rel(rate, watts.at(b.t)) > opt.energy_rate:
                badrate.append((round(b.t, 3), round(rate, 3)))
        res.ok(not badrate,
               "%s: energy grows at %s +- %.0f%% between every two reads%s" %
               (key, watts, opt.energy_rate * 100,
                "" if not badrate else " (off: %s)" % badrate[:5]))

    if opt.average:
        judge_segments(res, key, watts, reads, has_e, has_p, opt)
    if opt.whole:
        judge_whole(res, key, watts, reads, has_e, has_p, opt)


def segments(watts, reads, has_e, has_p):
    """Splits reads into stretches over which the plugin measured without a
    break: a read without power (a baseline: the start, a reset, a zone
    that came back) starts a new one, and so does the read after an
    interval a watts change falls in."""
    segs = []
    for i, r in enumerate(reads):
        cont = (segs and (r.p is not None or not has_p) and
                (r.e is not None or not has_e) and
                not watts.straddles(reads[i - 1].t, r.t))
        if cont:
            segs[-1].append(r)
        else:
            segs.append([r])
    return segs


def averages(seg, has_e, has_p):
    """(span, time-weighted mean power, energy / time) of a segment; the
    first read is only its starting point."""
    span = seg[-1].t - seg[0].t
    pmean = eavg = None
    if span > 0 and has_p:
        pmean = sum(b.p * (b.t - a.t) for a, b in zip(seg, seg[1:])) / span
    if span > 0 and has_e:
        eavg = (seg[-1].e - seg[0].e) / span
    return span, pmean, eavg


def dev(v, w):
    return "%+.3f%%" % ((v - w) / w * 100) if w else "n/a"


def is_baseline(r, reads, has_p):
    """A read that only starts a measurement: no power where power is
    reported, else the first read of the run."""
    return r.p is None if has_p else r is reads[0]


def from_first_rate(seg, reads, has_e, has_p, w):
    """A stretch to average over, without the interval after its baseline.
    The plugin stamps every value of a read with the time the read began, and
    a baseline read is the one that discovers zones (opens the backend,
    logs): its counters are read later than its timestamp says, by as long
    as a loaded machine makes discovery take, and counting that interval
    would read the delay as missing energy."""
    if len(seg) < 2 or not is_baseline(seg[0], reads, has_p):
        return seg
    a, b = seg[0], seg[1]
    if has_e and w and isnum(a.e) and isnum(b.e) and b.t > a.t:
        print("    baseline %.3f: its timestamp is %.1f ms ahead of its "
              "counters (the interval after it is not averaged)" %
              (a.t, (w * (b.t - a.t) - (b.e - a.e)) / w * 1000))
    return seg[1:]


def judge_segments(res, key, watts, reads, has_e, has_p, opt):
    long_enough = []
    for seg in segments(watts, reads, has_e, has_p):
        seg = from_first_rate(seg, reads, has_e, has_p, watts.at(seg[-1].t))
        if len(seg) < 2:
            continue
        span, pmean, eavg = averages(seg, has_e, has_p)
        w = watts.at(seg[-1].t)
        print("    segment %.3f..%.3f (%.3f s, %d intervals) at %.3f W:%s%s" %
              (seg[0].t, seg[-1].t, span, len(seg) - 1, w,
               "" if pmean is None else
               " mean power %.4f W (%s)" % (pmean, dev(pmean, w)),
               "" if eavg is None else
               " energy/time %.4f W (%s)" % (eavg, dev(eavg, w))))
        if span >= opt.min_span:
            long_enough.append((seg, span, pmean, eavg, w))
    res.ok(long_enough, "%s: at least one segment of %.1f s or more to "
           "average over (got %d)" % (key, opt.min_span, len(long_enough)))
    for seg, span, pmean, eavg, w in long_enough:
        where = "%s: over %.3f..%.3f (%.3f s)" % (key, seg[0].t, seg[-1].t,
                                                  span)
        if pmean is not None:
            res.ok(rel(pmean, w) <= opt.avg_tol,
                   "%s the time-weighted mean power %.4f W is within %.1f%% "
                   "of %.3f W (%s)" % (where, pmean, opt.avg_tol * 100, w,
                                       dev(pmean, w)))
        if eavg is not None:
            # With power reported, the mean above judges accuracy and this
            # bounds the energy from below (none lost); without power, it is
            # the only measure and is judged both ways.
            if pmean is not None:
                ok = eavg >= w * (1 - opt.avg_tol)
                how = "at least watts x seconds - %.1f%%"
            else:
                ok = rel(eavg, w) <= opt.avg_tol
                how = "within %.1f%% of watts x seconds"
            res.ok(ok, "%s the energy, %.4f J, is %s (%.4f J; %s)" %
                   (where, eavg * span, how % (opt.avg_tol * 100), w * span,
                    dev(eavg, w)))


def judge_whole(res, key, watts, reads, has_e, has_p, opt):
    """The whole run as one measurement, breaks and all: nothing may be lost
    anywhere (across a backend switch, say)."""
    w = watts.at(reads[-1].t)
    reads = from_first_rate(reads, reads, has_e, has_p, w)
    span = reads[-1].t - reads[0].t
    if watts.changes or span < opt.min_span:
        res.ok(False, "%s: the whole run (%.3f s) is long enough (%.1f s) and "
               "at constant watts to average over" % (key, span, opt.min_span))
        return
    where = "%s: over the whole run %.3f..%.3f (%.3f s)" % (
        key, reads[0].t, reads[-1].t, span)
    if has_e:
        e = [r for r in reads if r.e is not None]
        eavg = (e[-1].e - e[0].e) / (e[-1].t - e[0].t)
        res.ok(rel(eavg, w) <= opt.avg_tol,
               "%s energy / time %.4f W is within %.1f%% of %.3f W (%s)" %
               (where, eavg, opt.avg_tol * 100, w, dev(eavg, w)))
    if has_p:
        num = den = 0.0
        for a, b in zip(reads, reads[1:]):
            if b.p is not None:
                num += b.p * (b.t - a.t)
                den += b.t - a.t
        res.ok(den > 0 and rel(num / den, w) <= opt.avg_tol,
               "%s the time-weighted mean power %s is within %.1f%% of "
               "%.3f W (%s)" % (where, "%.4f W" % (num / den) if den else "-",
                                opt.avg_tol * 100, w,
                                dev(num / den, w) if den else "-"))
        if has_e and den > 0:
            # Both averages carry the same scheduling delay at the ends of
            # the run, so their difference isolates energy the power values
            # account for and the total lacks (or counts twice). Reported,
            # not judged: the tolerance it would need is the product's call.
            short = num - (e[-1].e - e[0].e) * den / (e[-1].t - e[0].t)
            print("    %s: energy total vs the power values: %+.4f J, %.1f ms "
                  "at the simulated watts" % (key, -short, -short / w * 1000))


def watts_changes(args):
    """{key: [(time, watts)]} from --watts-from TIME ZONE=WATTS."""
    out = {}
    for t, z in args.watts_from or ():
        pi, ti, w = parse_zone(z)
        out.setdefault("%s/%s" % (pi, ti), []).append((float(t), w))
    return out


def zone_values(pe, key, since=0.0):
    power = sorted((r for r in pe if r.key() == key and r.type == "power"
                    and r.time >= since), key=lambda r: r.time)
    energy = sorted((r for r in pe if r.key() == key and r.type == "energy"
                     and r.time >= since), key=lambda r: r.time)
    return power, energy


def cmd_zones(args):
    """Exactly the expected zones; per zone: energy 0 and no power at the
    first read, a power value at every later read, every power value
    neither 0 nor a spike, accuracy on averages over segments of several
    seconds, energy never decreasing and bounded by the simulator's, meta
    data naming the backend."""
    recs = parse(args.log)
    res = Result()
    pe = ours(recs, ("power", "energy"))
    zones = [parse_zone(z) for z in args.zone]
    changes = watts_changes(args)
    sim = SimBound(args.sim_before, args.sim_after)
    args.average, args.whole, args.energy_rate = True, False, None
    expected = {"%s/%s" % (pi, ti) for pi, ti, _ in zones}
    seen = {r.key() for r in pe}
    print("rapl_energy power/energy value lists in the log: %d" % len(pe))
    if args.exact:
        res.ok(seen == expected,
               "zones reported %s == expected %s" % (sorted(seen),
                                                     sorted(expected)))
    for pi, ti, w in zones:
        key = "%s/%s" % (pi, ti)
        watts = Watts(w, changes.get(key, ()))
        power, energy = zone_values(pe, key)
        print("zone %s (simulated %s): %d power, %d energy values" %
              (key, watts, len(power), len(energy)))
        if not res.ok(len(energy) >= args.min_reads,
                      "%s: at least %d reads (energy values), got %d" %
                      (key, args.min_reads, len(energy))):
            continue
        # First read: a baseline, energy 0 and no power.
        first = energy[0]
        res.ok(first.value == 0,
               "%s: first energy value is 0 (got %r at %.3f)" %
               (key, first.value, first.time))
        early = [r for r in power if r.time <= first.time]
        res.ok(not early,
               "%s: no power value at or before the first read (%.3f); found %s"
               % (key, first.time, [(round(r.time, 3), r.value) for r in early]))
        res.ok(len(power) >= len(energy) - 1,
               "%s: a power value for every read after the first (%d power, "
               "%d reads)" % (key, len(power), len(energy)))
        if args.wrap_at is not None:
            res.ok(first.time < args.wrap_at < energy[-1].time,
                   "%s: the counter wrapped (at %.3f) between the first read "
                   "(%.3f) and the last (%.3f)" %
                   (key, args.wrap_at, first.time, energy[-1].time))
        judge(res, key, watts, merge_reads(energy, power), args, sim)
        if args.backend:
            wrong = [r for r in power + energy
                     if r.meta.get("rapl_backend") != args.backend]
            res.ok(not wrong,
                   "%s: meta rapl_backend == %r on all %d power/energy values%s"
                   % (key, args.backend, len(power) + len(energy),
                      "" if not wrong else "; wrong: %s" %
                      [(r.type, round(r.time, 3), r.meta) for r in wrong[:5]]))
    return res.done()


def cmd_gauges(args):
    """type gauge, type_instance backend-<name>: 1 for the active backend, 0
    for the others, every interval."""
    recs = parse(args.log)
    res = Result()
    g = [r for r in ours(recs, ("gauge",)) if r.ti.startswith("backend-")]
    reads = {round(r.time, 1) for r in ours(recs, ("energy",))}
    print("backend gauges in the log: %d; reads with energy values: %d" %
          (len(g), len(reads)))
    for b in BACKENDS:
        want = 1 if b == args.active else 0
        gb = [r for r in g if r.ti == "backend-" + b]
        vals = sorted({r.value for r in gb}, key=repr)
        print("    backend-%s: %d values, distinct values %s, plugin_instance %s,"
              " meta %s" % (b, len(gb), vals, sorted({r.pi for r in gb}),
                            sorted({json.dumps(r.meta) for r in gb})))
        res.ok(len(gb) >= args.min,
               "gauge backend-%s present at least %d times (got %d)" %
               (b, args.min, len(gb)))
        res.ok((gb or not args.min) and all(r.value == want for r in gb),
               "gauge backend-%s is always %d" % (b, want))
        res.ok(all(r.pi == "" for r in gb),
               "gauge backend-%s has an empty plugin_instance" % b)
    others = sorted({r.ti for r in g} - {"backend-" + b for b in BACKENDS})
    res.ok(not others, "no unknown backend gauges (%s)" % others)
    return res.done()


def cmd_absent(args):
    """No rapl_energy value of the given types (and type_instances)."""
    recs = parse(args.log)
    res = Result()
    types = args.type or ["power", "energy"]
    found = [r for r in ours(recs, types)
             if (not args.type_instance or r.ti in args.type_instance) and
             (not args.plugin_instance or r.pi in args.plugin_instance)]
    what = "types %s" % types
    if args.plugin_instance:
        what += " with plugin_instance in %s" % args.plugin_instance
    if args.type_instance:
        what += " with type_instance in %s" % args.type_instance
    res.ok(not found, "no rapl_energy value of %s (found %d%s)" %
           (what, len(found), "" if not found else ": %s" % found[:3]))
    return res.done()


def cmd_count(args):
    recs = ours(parse(args.log), args.type or None)
    if args.type_instance:
        recs = [r for r in recs if r.ti in args.type_instance]
    print(len(recs))
    return 0


def cmd_first(args):
    """Prints the time of the first rapl_energy value of a type ("none")."""
    t = [r.time for r in ours(parse(args.log), (args.type,))]
    print("%.3f" % min(t) if t else "none")
    return 0


def cmd_steady(args):
    """For runs with faults, reloads or only one of power and energy: every
    value neither 0 nor a spike at all times, energy never backwards and
    bounded by the simulator's; optionally averages (--average, --whole),
    the energy step rate, gaps and windows without values."""
    recs = parse(args.log)
    res = Result()
    pe = ours(recs, ("power", "energy"))
    changes = watts_changes(args)
    sim = SimBound(args.sim_before, args.sim_after)
    for pi, ti, w in (parse_zone(z) for z in args.zone):
        key = "%s/%s" % (pi, ti)
        watts = Watts(w, changes.get(key, ()))
        power, energy = zone_values(pe, key, args.since)
        if args.until is not None:
            power = [r for r in power if r.time < args.until]
            energy = [r for r in energy if r.time < args.until]
        print("zone %s (simulated %s): %d power, %d energy values%s%s" %
              (key, watts, len(power), len(energy),
               " since %.3f" % args.since if args.since else "",
               " until %.3f" % args.until if args.until is not None else ""))
        res.ok(len(power) >= args.min_power,
               "%s: at least %d power values (got %d)" %
               (key, args.min_power, len(power)))
        reads = merge_reads(energy, power)
        if not reads:
            continue
        judge(res, key, watts, reads, args, sim)
        gaps = [(round(a.time, 3), round(b.time - a.time, 3))
                for a, b in zip(power, power[1:])
                if b.time - a.time > 1.5 * args.interval]
        print("    gaps between power values over %.1f s: %s" %
              (1.5 * args.interval, gaps or "none"))
        if args.no_gap:
            res.ok(not gaps, "%s: no gap between consecutive power values" % key)
        if args.max_gap is not None:
            long_gaps = [g for g in gaps if g[1] > args.max_gap]
            res.ok(not long_gaps, "%s: no gap between consecutive power values "
                   "longer than %.1f s%s" % (key, args.max_gap, "" if not
                                            long_gaps else " (%s)" % long_gaps))
        if args.max_loss is not None:
            # Energy a fault may lose (the interval a counter vanished in)
            # is bounded: every step is at least the watts over its time
            # less max_loss seconds of them.
            ev = [r for r in reads if r.e is not None and isnum(r.e)]
            lost = [(round(b.t, 3), round(watts.at(b.t) * (b.t - a.t) -
                                          (b.e - a.e), 3))
                    for a, b in zip(ev, ev[1:])
                    if b.e - a.e < watts.at(b.t) * (b.t - a.t - args.max_loss)]
            res.ok(len(ev) >= 2 and not lost,
                   "%s: no step of the energy total lacks more than %.1f s at "
                   "the simulated watts%s" % (key, args.max_loss, "" if not
                                              lost else " (%s J)" % lost[:5]))
        if args.window:
            lo, hi = args.window
            inw = [r for r in power if lo <= r.time <= hi]
            res.ok(not inw, "%s: no power value between %.3f and %.3f (got %s)"
                   % (key, lo, hi, [(round(r.time, 3), r.value) for r in inw]))
    return res.done()


def cmd_backends(args):
    """Which backend the meta data names over time: prints the sequence, and
    asserts values before --before have backend A and values from --after on
    have backend B."""
    recs = ours(parse(args.log), ("power", "energy"))
    res = Result()
    seq = []
    for r in sorted(recs, key=lambda r: r.time):
        b = r.meta.get("rapl_backend")
        if not seq or seq[-1][1] != b:
            seq.append((round(r.time, 3), b))
    print("rapl_backend over time: %s" % seq)
    if args.before is not None:
        t, b = args.before
        wrong = [r for r in recs if r.time < float(t) and
                 r.meta.get("rapl_backend") != b]
        res.ok(not wrong, "every value before %s has rapl_backend %r%s" %
               (t, b, "" if not wrong else " (wrong: %s)" % wrong[:3]))
    if args.after is not None:
        t, b = args.after
        after = [r for r in recs if r.time >= float(t)]
        wrong = [r for r in after if r.meta.get("rapl_backend") != b]
        res.ok(after and not wrong,
               "every value (%d) from %s on has rapl_backend %r%s" %
               (len(after), t, b,
                "" if not wrong else " (wrong: %s)" % wrong[:3]))
    for t0, t1, b in args.during or ():
        during = [r for r in recs if float(t0) <= r.time < float(t1)]
        wrong = [r for r in during if r.meta.get("rapl_backend") != b]
        res.ok(during and not wrong,
               "every value (%d) from %s to %s has rapl_backend %r%s" %
               (len(during), t0, t1, b,
                "" if not wrong else " (wrong: %s)" % wrong[:3]))
    if args.gauge_after is not None:
        t, b = args.gauge_after
        g = [r for r in ours(parse(args.log), ("gauge",))
             if r.time >= float(t) and r.ti.startswith("backend-")]
        wrong = [r for r in g if r.value != (1 if r.ti == "backend-" + b else 0)]
        res.ok(g and not wrong,
               "backend gauges from %s on show %r active%s" %
               (t, b, "" if not wrong else " (wrong: %s)" % wrong[:3]))
    return res.done()


def cmd_faults(args):
    """Per read (one count/zones value each): every value of the read has the
    read's timestamp, count/zones is the number of zones whose energy came,
    and backend-<name> is 1 only for the backend those zones came from.
    --edit T --within S: the reads before T had no zones yet came every
    interval (no back-off), and one with zones of --backend came by T + S.
    --gone T --zones N: reads before T had N zones of --backend, reads from
    T + 1.5 s on have none and every backend gauge at 0."""
    recs = ours(parse(args.log))
    res = Result()
    counts = sorted((r for r in recs if r.type == "count" and r.ti == "zones"),
                    key=lambda r: r.time)
    res.ok(len(counts) >= 3, "count/zones came at %d reads" % len(counts))
    times = {r.time for r in counts}
    stray = [r for r in recs if r.time not in times]
    res.ok(not stray, "every value carries the timestamp of its read%s" %
           ("" if not stray else " (not: %s)" % stray[:3]))
    untrue = []
    for c in counts:
        at = [r for r in recs if r.time == c.time]
        energy = [r for r in at if r.type == "energy"]
        sources = {r.meta.get("rapl_backend") for r in energy}
        if c.value != len(energy) or len(sources) > 1:
            untrue.append("%.3f: count %r, %d energy values from %s" %
                          (c.time, c.value, len(energy), sorted(sources)))
        for g in (r for r in at if r.ti.startswith("backend-")):
            want = 1 if g.ti[len("backend-"):] in sources else 0
            if g.value != want:
                untrue.append("%.3f: %s=%r with zones from %s" %
                              (c.time, g.ti, g.value, sorted(sources)))
        n_gauges = len([r for r in at if r.ti.startswith("backend-")])
        if n_gauges != len(BACKENDS):
            untrue.append("%.3f: %d backend gauges" % (c.time, n_gauges))
    res.ok(not untrue, "count/zones and the backend gauges tell the truth "
           "at every read%s" % ("" if not untrue else ": %s" % untrue[:4]))
    if args.edit is not None:
        before = [c for c in counts if c.time < args.edit]
        # collectd suspends the callback once after the failed first read
        # (2 s at Interval 1); it must not back off again after that.
        gaps = [round(b.time - a.time, 3)
                for a, b in zip(before[1:], before[2:]) if b.time - a.time > 1.5]
        res.ok(len(before) >= 5 and not gaps and
               all(c.value == 0 for c in before),
               "%d reads without zones before the edit, none more than 1.5 s "
               "apart after the first%s" %
               (len(before), "" if not gaps else " (gaps %s)" % gaps))
        first = [c for c in counts if c.time >= args.edit and c.value > 0]
        late = first[0].time - args.edit if first else math.inf
        res.ok(late <= args.within,
               "the first read with zones came %.3f s after the edit (at most "
               "%.1f s)" % (late, args.within))
        if first:
            src = {r.meta.get("rapl_backend") for r in recs
                   if r.time == first[0].time and r.type == "energy"}
            res.ok(src == {args.backend}, "its zones came from %s" % sorted(src))
            later = [c.value for c in counts if c.time > first[0].time]
            res.ok(len(later) >= 5 and all(v == first[0].value for v in later),
                   "every later read reported all %r zones: %s" %
                   (first[0].value, later))
    if args.zones is not None and args.gone is None:
        off = [(round(c.time, 3), c.value) for c in counts
               if c.value != args.zones]
        src = {r.meta.get("rapl_backend") for r in recs if r.type == "energy"}
        res.ok(not off and src == {args.backend},
               "every read reported %d zones (%s) of %s" %
               (args.zones, "all" if not off else "not: %s" % off[:5],
                sorted(src)))
    if args.gone is not None:
        before = [c for c in counts if c.time < args.gone]
        after = [c for c in counts if c.time >= args.gone + 1.5 and
                 (args.back is None or c.time < args.back)]
        res.ok(len(before) >= 3 and
               all(c.value == args.zones for c in before[1:]),
               "before the zones vanished: count/zones %s (want %d)" %
               ([c.value for c in before], args.zones))
        g = [r for r in recs if r.ti == "backend-" + args.backend]
        res.ok(all(r.value == 1 for r in g if r.time in
                   {c.time for c in before}),
               "backend-%s was 1 while its zones were read" % args.backend)
        dead = [r for r in recs if r.ti.startswith("backend-") and
                r.time >= args.gone + 1.5 and r.value != 0 and
                (args.back is None or r.time < args.back)]
        res.ok(len(after) >= 2 and all(c.value == 0 for c in after) and
               not dead,
               "after the zones vanished: count/zones %s, no backend gauge 1%s"
               % ([c.value for c in after],
                  "" if not dead else " (but %s)" % dead[:3]))
    if args.back is not None:
        # Rediscovery runs at most once a second, and the read after it
        # is the new counters' baseline.
        back = [c for c in counts if c.time >= args.back + args.within]
        src = {r.meta.get("rapl_backend") for r in recs
               if r.type == "energy" and r.time >= args.back + args.within}
        res.ok(len(back) >= 3 and all(c.value == args.zones for c in back)
               and src == {args.backend},
               "from %.1f s after the zones came back: count/zones %s (want "
               "%d), from %s" % (args.within, [c.value for c in back],
                                 args.zones, sorted(src)))
        g = [r for r in recs if r.ti == "backend-" + args.backend and
             r.time >= args.back + args.within]
        res.ok(g and all(r.value == 1 for r in g),
               "backend-%s is 1 again" % args.backend)
    return res.done()


def cmd_identifiers(args):
    """The zones each backend reported: for every --backend, the identifiers
    of the power and energy values whose meta names it are exactly the
    expected ones, so that a switch between backends keeps the series."""
    recs = ours(parse(args.log), ("power", "energy"))
    res = Result()
    expected = {"%s/%s" % (pi, ti) for pi, ti, _ in map(parse_zone, args.zone)}
    for b in args.backend:
        seen = {r.key() for r in recs if r.meta.get("rapl_backend") == b}
        res.ok(seen == expected, "through %s: zones %s == expected %s" %
               (b, sorted(seen), sorted(expected)))
    return res.done()


def cmd_simzones(args):
    """Turns the simulator's `sim` file into ZONE arguments: the collectd
    identifiers the plugin must report and the simulated watts. Per-core
    zones (AMD) are summed into their socket's core zone."""
    out = {k: v[0] for k, v in read_sim(args.simfile).items()}
    if args.only:
        only = {k.lower() for k in args.only}
        out = {k: v for k, v in out.items() if k.split("/")[1] in only}
    print(" ".join("%s=%.6g" % kv for kv in out.items()))
    return 0


def cmd_nearwrap(args):
    """Prints simulator ctl commands that put every zone's 32-bit counter
    SECONDS (at its watts) before its wrap: set KEY J."""
    try:
        with open(args.simfile, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        print("ERROR: cannot read %s: %s" % (args.simfile, e), file=sys.stderr)
        return 99
    for line in lines:
        tok = line.split()
        if len(tok) < 3 or tok[1] != "watts" or "unit_uj" not in tok:
            continue
        watts = float(tok[2])
        unit_uj = float(tok[tok.index("unit_uj") + 1])
        wrap_j = 4294967296 * unit_uj / 1e6
        print("set %s %.6f" % (tok[0], wrap_j - watts * args.seconds))
    return 0


def judging_options(s):
    s.add_argument("--power-tol", type=float, default=POWER_TOL,
                   help="every power value within this of the watts "
                   "(default %(default)s)")
    s.add_argument("--avg-tol", type=float, default=AVG_TOL,
                   help="averages within this of the watts "
                   "(default %(default)s)")
    s.add_argument("--min-span", type=float, default=MIN_SPAN,
                   help="seconds a segment needs to be averaged over "
                   "(default %(default)s)")
    s.add_argument("--interval", type=float, default=1.0)
    s.add_argument("--watts-from", nargs=2, action="append",
                   metavar=("TIME", "ZONE=WATTS"),
                   help="the zone draws WATTS from TIME (epoch seconds) on")
    s.add_argument("--sim-before", metavar="SIMFILE",
                   help="the simulator's sim file just before collectd "
                   "started")
    s.add_argument("--sim-after", metavar="SIMFILE",
                   help="... and just after it stopped: bounds the energy")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("dump")
    s.add_argument("log")
    s.set_defaults(fn=cmd_dump)

    s = sub.add_parser("zones")
    s.add_argument("log")
    s.add_argument("zone", nargs="+")
    judging_options(s)
    s.add_argument("--backend")
    s.add_argument("--min-reads", type=int, default=8)
    s.add_argument("--exact", action="store_true",
                   help="also assert no other zone is reported")
    s.add_argument("--wrap-at", type=float, metavar="TIME",
                   help="assert the counters' wrap (epoch seconds) fell "
                   "between each zone's first and last read")
    s.set_defaults(fn=cmd_zones)

    s = sub.add_parser("gauges")
    s.add_argument("log")
    s.add_argument("--active", required=True,
                   help="the backend whose gauge must be 1 (none: all 0)")
    s.add_argument("--min", type=int, default=3)
    s.set_defaults(fn=cmd_gauges)

    s = sub.add_parser("absent")
    s.add_argument("log")
    s.add_argument("--type", action="append")
    s.add_argument("--type-instance", action="append")
    s.add_argument("--plugin-instance", action="append")
    s.set_defaults(fn=cmd_absent)

    s = sub.add_parser("count")
    s.add_argument("log")
    s.add_argument("--type", action="append")
    s.add_argument("--type-instance", action="append")
    s.set_defaults(fn=cmd_count)

    s = sub.add_parser("first")
    s.add_argument("log")
    s.add_argument("--type", default="power")
    s.set_defaults(fn=cmd_first)

    s = sub.add_parser("steady")
    s.add_argument("log")
    s.add_argument("zone", nargs="+")
    judging_options(s)
    s.add_argument("--min-power", type=int, default=3)
    s.add_argument("--average", action="store_true",
                   help="judge the averages over every segment without a "
                   "break of --min-span seconds or more (at least one)")
    s.add_argument("--whole", action="store_true",
                   help="judge the averages over the whole run, breaks and "
                   "all")
    s.add_argument("--no-gap", action="store_true")
    s.add_argument("--max-gap", type=float, metavar="SECONDS",
                   help="no two consecutive power values further apart")
    s.add_argument("--max-loss", type=float, metavar="SECONDS",
                   help="no energy step short of watts x time by more than "
                   "SECONDS of the watts")
    s.add_argument("--energy-rate", type=float, metavar="TOL",
                   help="assert each energy step / seconds is within TOL "
                   "of the watts")
    s.add_argument("--since", type=float, default=0.0,
                   help="only values from this time on (epoch seconds)")
    s.add_argument("--until", type=float,
                   help="only the values before this time")
    s.add_argument("--window", type=float, nargs=2,
                   help="assert no power value in [LO, HI] (epoch seconds)")
    s.set_defaults(fn=cmd_steady)

    s = sub.add_parser("backends")
    s.add_argument("log")
    s.add_argument("--before", nargs=2, metavar=("TIME", "BACKEND"))
    s.add_argument("--after", nargs=2, metavar=("TIME", "BACKEND"))
    s.add_argument("--gauge-after", nargs=2, metavar=("TIME", "BACKEND"))
    s.add_argument("--during", nargs=3, action="append",
                   metavar=("FROM", "TO", "BACKEND"))
    s.set_defaults(fn=cmd_backends)

    s = sub.add_parser("faults")
    s.add_argument("log")
    s.add_argument("--edit", type=float)
    s.add_argument("--within", type=float, default=2.5)
    s.add_argument("--gone", type=float)
    s.add_argument("--zones", type=int)
    s.add_argument("--backend", default="powercap")
    s.add_argument("--back", type=float,
                   help="with --gone: the time the zones came back")
    s.set_defaults(fn=cmd_faults)

    s = sub.add_parser("identifiers")
    s.add_argument("log")
    s.add_argument("zone", nargs="+")
    s.add_argument("--backend", action="append", required=True)
    s.set_defaults(fn=cmd_identifiers)

    s = sub.add_parser("simzones")
    s.add_argument("simfile")
    s.add_argument("--only", action="append",
                   help="keep only these zone kinds (repeatable)")
    s.set_defaults(fn=cmd_simzones)

    s = sub.add_parser("nearwrap")
    s.add_argument("simfile")
    s.add_argument("seconds", type=float)
    s.set_defaults(fn=cmd_nearwrap)

    args = p.parse_args()
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
