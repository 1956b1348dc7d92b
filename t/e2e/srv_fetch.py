#!/usr/bin/env python3
"""Reads rapl_energy's values back from a server and writes them as
write_log JSON lines (one value list a line, as t/e2e/lib.sh's logs hold
them), so that rapl_check.py judges them as it judges collectd's own log.

  prom URL OUT          scrapes write_prometheus's /metrics every 0.2 s until
                        SIGTERM; each (series, timestamp) once
  influx URL DB OUT     queries InfluxDB 1.x's HTTP API (/query) for every
                        rapl_energy_value point, per instance (socket) and
                        type_instance (zone)
  influxq URL DB QUERY  prints `time value` of every point QUERY returns
  whisper DIR OUT       reads carbon's whisper files under DIR
                        (<host>/rapl_energy-<socket>/<type>-<zone>.wsp)

Only the standard library is used, but `whisper` needs python3-whisper.
"""

import json
import os
import re
import signal
import sys
import time
import urllib.parse
import urllib.request


def line(t, host, pi, ty, ti, v):
    d = {"values": [v], "dstypes": ["gauge"], "dsnames": ["value"],
         "time": round(t, 3), "interval": 1.0, "host": host,
         "plugin": "rapl_energy", "plugin_instance": pi, "type": ty,
         "type_instance": ti}
    return "[" + json.dumps(d, separators=(",", ":")) + "]\n"


PROM_RE = re.compile(r'^collectd_rapl_energy_(\w+)\{([^}]*)\} (\S+) (\d+)$')
LABEL_RE = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def prom_parse(text):
    """(type, labels, value, time) of every rapl_energy sample."""
    out = []
    for ln in text.splitlines():
        m = PROM_RE.match(ln)
        if not m:
            continue
        labels = dict(LABEL_RE.findall(m.group(2)))
        out.append((m.group(1), labels, float(m.group(3)),
                    int(m.group(4)) / 1000.0))
    return out


def prom_ident(ty, labels):
    """write_prometheus puts the plugin instance in the label named after
    the plugin and the type instance in `type`; a value list without plugin
    instance (the backend gauges, count-zones) has its type instance in the
    plugin's label instead."""
    if "type" in labels:
        return labels.get("rapl_energy", ""), ty, labels["type"]
    return "", ty, labels.get("rapl_energy", "")


def cmd_prom(url, out):
    seen = set()
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    with open(out, "a", encoding="utf-8") as f:
        while not stop:
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    text = r.read().decode("utf-8", "replace")
            except OSError:
                text = ""
            for ty, labels, v, t in prom_parse(text):
                key = (ty, tuple(sorted(labels.items())), t)
                if key in seen:
                    continue
                seen.add(key)
                pi, ty2, ti = prom_ident(ty, labels)
                f.write(line(t, labels.get("instance", ""), pi, ty2, ti, v))
            f.flush()
            time.sleep(0.2)
    return 0


def influx_query(url, db, q):
    u = "%s/query?%s" % (url, urllib.parse.urlencode(
        {"db": db, "q": q, "epoch": "ms"}))
    with urllib.request.urlopen(u, timeout=10) as r:
        return json.load(r)


def cmd_influx(url, db, out):
    """Every rapl_energy_value point: InfluxDB's collectd input names the
    measurement <plugin>_<dsname> and puts the plugin instance in the tag
    `instance`, the type in `type`, the type instance in `type_instance`."""
    res = influx_query(url, db, 'SELECT "value" FROM "rapl_energy_value" '
                       'GROUP BY "host", "instance", "type", "type_instance"')
    n = 0
    with open(out, "w", encoding="utf-8") as f:
        for s in res["results"][0].get("series", []):
            tags = s.get("tags", {})
            for t, v in s["values"]:
                f.write(line(t / 1000.0, tags.get("host", ""),
                             tags.get("instance", ""), tags.get("type", ""),
                             tags.get("type_instance", ""), v))
                n += 1
    print("%d points" % n)
    return 0 if n else 1


def cmd_influxq(url, db, q):
    """Prints `time value` (epoch seconds) of every point a query returns."""
    res = influx_query(url, db, q)
    r0 = res["results"][0]
    if "error" in r0:
        print("ERROR: %s" % r0["error"], file=sys.stderr)
        return 1
    for s in r0.get("series", []):
        for row in s["values"]:
            if row[1] is not None:
                print("%.3f %r" % (row[0] / 1000.0, row[1]))
    return 0


def cmd_whisper(top, out):
    import whisper  # python3-whisper
    n = 0
    with open(out, "w", encoding="utf-8") as f:
        for host in sorted(os.listdir(top)):
            for dirpath, _, files in os.walk(os.path.join(top, host)):
                rel = os.path.relpath(dirpath, os.path.join(top, host))
                plug = rel.split(os.sep)[0]
                if plug != "rapl_energy" and not plug.startswith("rapl_energy-"):
                    continue
                pi = plug[len("rapl_energy-"):] if "-" in plug else ""
                for fn in files:
                    if not fn.endswith(".wsp"):
                        continue
                    ty, _, ti = fn[:-4].partition("-")
                    path = os.path.join(dirpath, fn)
                    (start, end, step), vals = whisper.fetch(
                        path, 0, time.time() + 60)
                    for i, v in enumerate(vals):
                        if v is None:
                            continue
                        f.write(line(start + i * step, host, pi, ty, ti, v))
                        n += 1
    print("%d points" % n)
    return 0 if n else 1


def main(argv):
    try:
        if argv[1] == "prom":
            return cmd_prom(argv[2], argv[3])
        if argv[1] == "influx":
            return cmd_influx(argv[2], argv[3], argv[4])
        if argv[1] == "influxq":
            return cmd_influxq(argv[2], argv[3], argv[4])
        if argv[1] == "whisper":
            return cmd_whisper(argv[2], argv[3])
    except (IndexError, KeyError, OSError, ValueError) as e:
        print("ERROR: %s" % e, file=sys.stderr)
        return 99
    print(__doc__, file=sys.stderr)
    return 99


if __name__ == "__main__":
    sys.exit(main(sys.argv))
