#!/usr/bin/env python3
"""make check: rapl_check.py judges synthetic write_log logs as it should.

The end-to-end tests are only as good as their judge, and a judge that lets
everything pass looks exactly like a healthy plugin. Each case writes a log
(and the simulator's `sim` readings) the way collectd and raplsim would, with
the kinds of scheduling delay a loaded machine adds, or with one defect, and
asserts whether rapl_check.py passes it. Needs neither root nor collectd, so
it also runs where the end-to-end tests skip.
"""

import os
import subprocess
import sys
import tempfile

CHECK = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                     "rapl_check.py")
T0 = 1796000000.0
W = 45.5
ZONE = "package-0/package=%g" % W


def line(t, typ, value, pi="package-0", ti="package", backend="powercap"):
    return ('[{"values":[%r],"dstypes":["gauge"],"dsnames":["value"],'
            '"time":%.3f,"interval":1.000,"host":"e2e","plugin":"rapl_energy",'
            '"plugin_instance":"%s","type":"%s","type_instance":"%s",'
            '"meta":{"rapl_backend":"%s"}}]\n' %
            (value, t, pi, typ, ti, backend))


def run_log(n=8, lag=None, power=None, energy=None, watts=None):
    """Lines of n reads 1 s apart. lag(i): seconds between the simulator
    serving read i and collectd's timestamp; watts(t): the simulated power;
    power/energy(i, value): lets a case spoil one value."""
    lag = lag or (lambda i: 0.0)
    watts = watts or (lambda t: W)
    out, e, prev, prev_t = [], 0.0, None, None
    for i in range(n):
        served = T0 + i
        t = served + lag(i)
        if prev is not None:
            step = integrate(watts, prev, served)
            e += step
        ev = energy(i, e) if energy else e
        out.append(line(t, "energy", ev))
        if prev is not None:
            # The worst case: the plugin's own stamp carries the whole delay.
            pv = step / (t - prev_t)
            out.append(line(t, "power", power(i, pv) if power else pv))
        out.append(line(t, "gauge", 1, pi="", ti="backend-powercap"))
        prev, prev_t = served, t
    return out


def integrate(watts, a, b, steps=1000):
    h = (b - a) / steps
    return sum(watts(a + (k + 0.5) * h) for k in range(steps)) * h


def sim_file(energy_j):
    return ("package:0 watts %f energy_j %f raw 0 unit_uj 61.035156 "
            "energy_uj 0\n" % (W, energy_j))


class Case:
    def __init__(self, tmp):
        self.tmp = tmp
        self.failed = 0
        self.n = 0

    def expect(self, name, want_pass, lines, cmd="zones", args=(),
               sim=(0.0, W * 7.2)):
        self.n += 1
        d = os.path.join(self.tmp, "case%d" % self.n)
        os.mkdir(d)
        log = os.path.join(d, "collectd.log")
        with open(log, "w", encoding="utf-8") as f:
            f.write("[2026-01-01 00:00:00] [info] write_log values:\n")
            f.writelines(lines)
        argv = [sys.executable, "-S", CHECK, cmd, log] + list(args) + [ZONE]
        if sim is not None:
            for tag, e in zip(("before", "after"), sim):
                p = os.path.join(d, "sim-" + tag)
                with open(p, "w", encoding="utf-8") as f:
                    f.write(sim_file(e))
                argv += ["--sim-" + tag, p]
        r = subprocess.run(argv, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, check=False)
        passed = r.returncode == 0
        if r.returncode not in (0, 1) or passed != want_pass:
            self.failed += 1
            print("not ok %d - %s: rapl_check.py %s (exit %d), expected it to "
                  "%s\n%s" % (self.n, name, "passed" if passed else "failed",
                              r.returncode, "pass" if want_pass else "fail",
                              r.stdout))
        else:
            print("ok %d - %s: %s" % (self.n, name,
                                      "passes" if want_pass else "fails"))


def main():
    with tempfile.TemporaryDirectory(prefix="rapl-check-test.") as tmp:
        c = Case(tmp)
        c.expect("exact values", True, run_log())
        # 30 ms on some reads and none on others: single intervals off by up
        # to 6%, which is scheduling, not the plugin.
        c.expect("scheduling delays of up to 30 ms", True,
                 run_log(lag=lambda i: (0.0, 0.03, 0.0, 0.025, 0.01, 0.03, 0.0,
                                        0.005)[i]))
        # The plugin stamps a read when it begins, and the first one spends
        # its first 40 ms discovering zones.
        c.expect("a baseline stamped 40 ms before its counters", True,
                 run_log(lag=lambda i: -0.04 if i == 0 else 0.0))
        c.expect("a zero power value", False,
                 run_log(power=lambda i, v: 0.0 if i == 4 else v))
        c.expect("a power spike", False,
                 run_log(power=lambda i, v: v * 1.5 if i == 4 else v))
        c.expect("power 1% high throughout", False,
                 run_log(power=lambda i, v: v * 1.01))
        c.expect("energy 1% low throughout (some of it lost)", False,
                 run_log(energy=lambda i, e: e * 0.99))
        energy_only = [ln for ln in run_log(energy=lambda i, e: e * 1.01)
                       if '"type":"power"' not in ln]
        c.expect("energy 1% high throughout, no power reported", False,
                 energy_only, cmd="steady", args=("--average", "--min-power",
                                                  "0"), sim=(0.0, 1e6))
        c.expect("more energy than the simulator counted", False,
                 run_log(), sim=(0.0, W * 6.9))
        c.expect("energy going backwards", False,
                 run_log(energy=lambda i, e: e - 50.0 if i == 5 else e))
        c.expect("too short to average over (4 s)", False, run_log(n=5),
                 cmd="steady", args=("--average",))
        c.expect("the first read reports power", False,
                 [line(T0 - 1, "power", W)] + run_log())
        # The watts change half way through an interval: that interval's
        # power is between the two, and is not judged.
        change = T0 + 7.5

        def step(t):
            return W if t < change else 60.0
        c.expect("a watts change, declared", True,
                 run_log(n=16, watts=step),
                 args=("--watts-from", "%.3f" % change,
                       "package-0/package=60"), sim=(0.0, 1e6))
        c.expect("a watts change, undeclared", False,
                 run_log(n=16, watts=step), sim=(0.0, 1e6))
        # A backend switch that drops 60 ms of energy over 8 s: every step but
        # one is right, the whole run is not.
        c.expect("energy lost at a switch, judged --whole", False,
                 run_log(n=9, energy=lambda i, e: e - W * 0.06 if i >= 4
                         else e),
                 cmd="steady", args=("--whole", "--no-gap"),
                 sim=(0.0, W * 8.2))
        c.expect("no energy lost, judged --whole", True, run_log(n=9),
                 cmd="steady", args=("--whole", "--no-gap"),
                 sim=(0.0, W * 8.2))
        # A fallback after a counter vanished (perf.sh): the read that
        # finds it gone reports nothing, and one interval's energy is lost.
        lose1 = run_log(n=9, energy=lambda i, e: e - W if i >= 5 else e)
        skip4 = [ln for ln in lose1 if '"time":%.3f,' % (T0 + 4) not in ln]
        c.expect("one read without values, one interval's energy lost: "
                 "--max-gap 2.5 --max-loss 1.5", True, skip4, cmd="steady",
                 args=("--max-gap", "2.5", "--max-loss", "1.5",
                       "--min-power", "0"), sim=(0.0, W * 8.2))
        c.expect("two intervals' energy lost: --max-loss 1.5", False,
                 [ln for ln in run_log(n=9, energy=lambda i, e: e - 2 * W
                                       if i >= 5 else e)
                  if '"time":%.3f,' % (T0 + 4) not in ln],
                 cmd="steady", args=("--max-loss", "1.5", "--min-power", "0"),
                 sim=(0.0, W * 8.2))
        c.expect("two reads without values: --max-gap 2.5", False,
                 [ln for ln in skip4 if '"time":%.3f,' % (T0 + 5) not in ln],
                 cmd="steady", args=("--max-gap", "2.5", "--min-power", "0"),
                 sim=(0.0, W * 8.2))
        c.expect("energy going backwards after --until", True,
                 run_log(energy=lambda i, e: e - 50.0 if i >= 6 else e),
                 cmd="steady", args=("--until", "%.3f" % (T0 + 5.5)))

        def backend_from(lines, t, b):
            return [ln.replace('"rapl_backend":"powercap"',
                               '"rapl_backend":"%s"' % b)
                    if float(ln.split('"time":')[1].split(",")[0]) >= t
                    else ln for ln in lines]
        c.expect("the same zones through powercap and perf", True,
                 backend_from(run_log(), T0 + 4, "perf"), cmd="identifiers",
                 args=("--backend", "powercap", "--backend", "perf"),
                 sim=None)
        c.expect("perf names the zone differently", False,
                 [ln.replace('"plugin_instance":"package-0"',
                             '"plugin_instance":"package-0-die-0"')
                  if '"perf"' in ln else ln
                  for ln in backend_from(run_log(), T0 + 4, "perf")],
                 cmd="identifiers",
                 args=("--backend", "powercap", "--backend", "perf"),
                 sim=None)
        c.expect("no value through perf at all", False, run_log(),
                 cmd="identifiers",
                 args=("--backend", "powercap", "--backend", "perf"),
                 sim=None)
        print("1..%d" % c.n)
        return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
