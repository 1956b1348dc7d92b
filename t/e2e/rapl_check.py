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
"""

import argparse
import json
import math
import sys

PLUGIN = "rapl_energy"
BACKENDS = ("powercap", "msr")


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


def cmd_zones(args):
    """Power within tolerance of the simulated watts, energy 0 at the first
    read and growing as watts x elapsed, meta data naming the backend, and no
    zone other than the expected ones."""
    recs = parse(args.log)
    res = Result()
    pe = ours(recs, ("power", "energy"))
    zones = [parse_zone(z) for z in args.zone]
    expected = {"%s/%s" % (pi, ti) for pi, ti, _ in zones}
    seen = {r.key() for r in pe}
    print("rapl_energy power/energy value lists in the log: %d" % len(pe))
    if args.exact:
        res.ok(seen == expected,
               "zones reported %s == expected %s" % (sorted(seen),
                                                     sorted(expected)))
    for pi, ti, watts in zones:
        key = "%s/%s" % (pi, ti)
        power = sorted((r for r in pe if r.key() == key and r.type == "power"),
                       key=lambda r: r.time)
        energy = sorted((r for r in pe if r.key() == key and r.type == "energy"),
                        key=lambda r: r.time)
        print("zone %s (simulated %.3f W): %d power, %d energy values" %
              (key, watts, len(power), len(energy)))
        if not res.ok(len(energy) >= args.min_reads,
                      "%s: at least %d reads (energy values), got %d" %
                      (key, args.min_reads, len(energy))):
            continue
        # First read: energy 0 and no power.
        first = energy[0]
        res.ok(first.value == 0,
               "%s: first energy value is 0 (got %r at %.3f)" %
               (key, first.value, first.time))
        early = [r for r in power if r.time <= first.time]
        res.ok(not early,
               "%s: no power value at or before the first read (%.3f); found %s"
               % (key, first.time, [(round(r.time, 3), r.value) for r in early]))
        # Power.
        pv = [r.value for r in power]
        bad = [r for r in power if not isnum(r.value) or
               rel(r.value, watts) > args.power_tol]
        res.ok(len(power) >= len(energy) - 1,
               "%s: a power value for every read after the first (%d power, "
               "%d reads)" % (key, len(power), len(energy)))
        if all(isnum(v) for v in pv) and pv:
            worst = max(rel(v, watts) for v in pv)
            print("    power: min %.4f max %.4f mean %.4f W, worst deviation "
                  "%.3f%%" % (min(pv), max(pv), sum(pv) / len(pv), worst * 100))
        res.ok(not bad, "%s: every power value within %.1f%% of %.3f W%s" %
               (key, args.power_tol * 100, watts,
                "" if not bad else "; outside: %s" %
                [(round(r.time, 3), r.value) for r in bad]))
        # Energy.
        ev = [r.value for r in energy]
        mono = all(isnum(a) and isnum(b) and b >= a for a, b in zip(ev, ev[1:]))
        res.ok(mono, "%s: energy monotonic: %s" %
               (key, " ".join("%.3f" % v if isnum(v) else repr(v)
                              for v in ev)))
        elapsed = energy[-1].time - first.time
        exp = watts * elapsed
        last = energy[-1].value
        if isnum(last):
            print("    energy: last %.3f J after %.3f s, expected %.3f J "
                  "(deviation %.3f%%)" % (last, elapsed, exp,
                                          rel(last, exp) * 100))
        res.ok(isnum(last) and elapsed > 0 and rel(last, exp) <= args.energy_tol,
               "%s: last energy within %.1f%% of watts x elapsed" %
               (key, args.energy_tol * 100))
        # Meta data.
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
    """For fault and reload runs: every power value of the zones within
    tolerance at all times (no 0, no spike), energy never goes backwards, and
    per-zone report of the gaps between power values."""
    recs = parse(args.log)
    res = Result()
    pe = ours(recs, ("power", "energy"))
    for pi, ti, watts in (parse_zone(z) for z in args.zone):
        key = "%s/%s" % (pi, ti)
        power = sorted((r for r in pe if r.key() == key and r.type == "power"
                        and r.time >= args.since), key=lambda r: r.time)
        energy = sorted((r for r in pe if r.key() == key and r.type == "energy"
                         and r.time >= args.since), key=lambda r: r.time)
        print("zone %s (simulated %.3f W): %d power, %d energy values%s" %
              (key, watts, len(power), len(energy),
               " since %.3f" % args.since if args.since else ""))
        res.ok(len(power) >= args.min_power,
               "%s: at least %d power values (got %d)" %
               (key, args.min_power, len(power)))
        bad = [r for r in power if not isnum(r.value) or
               rel(r.value, watts) > args.power_tol]
        if power and all(isnum(r.value) for r in power):
            pv = [r.value for r in power]
            print("    power: min %.4f max %.4f W" % (min(pv), max(pv)))
        res.ok(not bad, "%s: every power value within %.1f%% of %.3f W%s" %
               (key, args.power_tol * 100, watts, "" if not bad else
                "; outside: %s" % [(round(r.time, 3), r.value) for r in bad]))
        ev = [r.value for r in energy]
        res.ok(all(isnum(a) and isnum(b) and b >= a for a, b in zip(ev, ev[1:])),
               "%s: energy never goes backwards" % key)
        if args.energy_rate is not None:
            # Energy between consecutive reads grows at the simulated watts:
            # no jump (double counting) and no loss across a switch.
            badrate = [(round(b.time, 3), round((b.value - a.value) /
                                                (b.time - a.time), 3))
                       for a, b in zip(energy, energy[1:])
                       if isnum(a.value) and isnum(b.value) and
                       b.time > a.time and
                       rel((b.value - a.value) / (b.time - a.time), watts)
                       > args.energy_rate]
            res.ok(not badrate,
                   "%s: energy grows at %.3f W +- %.1f%% between every two "
                   "reads%s" % (key, watts, args.energy_rate * 100,
                                "" if not badrate else
                                " (off: %s)" % badrate[:5]))
        gaps = [(round(a.time, 3), round(b.time - a.time, 3))
                for a, b in zip(power, power[1:])
                if b.time - a.time > 1.5 * args.interval]
        print("    gaps between power values over %.1f s: %s" %
              (1.5 * args.interval, gaps or "none"))
        if args.no_gap:
            res.ok(not gaps, "%s: no gap between consecutive power values" % key)
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
    if args.gauge_after is not None:
        t, b = args.gauge_after
        g = [r for r in ours(parse(args.log), ("gauge",))
             if r.time >= float(t) and r.ti.startswith("backend-")]
        wrong = [r for r in g if r.value != (1 if r.ti == "backend-" + b else 0)]
        res.ok(g and not wrong,
               "backend gauges from %s on show %r active%s" %
               (t, b, "" if not wrong else " (wrong: %s)" % wrong[:3]))
    return res.done()


def cmd_simzones(args):
    """Turns the simulator's `sim` file into ZONE arguments: the collectd
    identifiers the plugin must report and the simulated watts. Per-core
    zones (AMD) are summed into their socket's core zone."""
    out = {}
    try:
        with open(args.simfile, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        print("ERROR: cannot read %s: %s" % (args.simfile, e), file=sys.stderr)
        return 99
    for line in lines:
        tok = line.split()
        if len(tok) < 3 or tok[1] != "watts":
            continue
        parts = tok[0].split(":")
        kind, watts = parts[0], float(tok[2])
        pkg = die = None
        for p in parts[1:]:
            if p.startswith("die"):
                die = int(p[3:])
            elif p.startswith("core"):
                pass
            else:
                pkg = int(p)
        if kind == "psys":
            pi = "platform"
        else:
            pi = "package-%d" % pkg
            if die:
                pi += "-die-%d" % die
        key = "%s/%s" % (pi, kind)
        out[key] = out.get(key, 0.0) + watts
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


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("dump")
    s.add_argument("log")
    s.set_defaults(fn=cmd_dump)

    s = sub.add_parser("zones")
    s.add_argument("log")
    s.add_argument("zone", nargs="+")
    s.add_argument("--backend")
    s.add_argument("--power-tol", type=float, default=0.01)
    s.add_argument("--energy-tol", type=float, default=0.02)
    s.add_argument("--min-reads", type=int, default=4)
    s.add_argument("--exact", action="store_true",
                   help="also assert no other zone is reported")
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
    s.add_argument("--power-tol", type=float, default=0.01)
    s.add_argument("--interval", type=float, default=1.0)
    s.add_argument("--min-power", type=int, default=3)
    s.add_argument("--no-gap", action="store_true")
    s.add_argument("--energy-rate", type=float, metavar="TOL",
                   help="assert each energy step / seconds is within TOL "
                   "of the watts")
    s.add_argument("--since", type=float, default=0.0,
                   help="only values from this time on (epoch seconds)")
    s.add_argument("--window", type=float, nargs=2,
                   help="assert no power value in [LO, HI] (epoch seconds)")
    s.set_defaults(fn=cmd_steady)

    s = sub.add_parser("backends")
    s.add_argument("log")
    s.add_argument("--before", nargs=2, metavar=("TIME", "BACKEND"))
    s.add_argument("--after", nargs=2, metavar=("TIME", "BACKEND"))
    s.add_argument("--gauge-after", nargs=2, metavar=("TIME", "BACKEND"))
    s.set_defaults(fn=cmd_backends)

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
