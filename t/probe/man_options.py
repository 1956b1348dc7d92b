#!/usr/bin/env python3
"""Holds the man pages' option lists to the option table.

Usage: man_options.py OPTIONS.json collectd-rapl_energy.5 rapl-energy-probe.1

OPTIONS.json is `rapl-energy-probe --options --json`, which prints the table
in src/core/rapl_options.c. Each difference is printed; the exit status is
the number of differences (capped at 1).
"""
import json
import re
import sys

problems = []


def problem(msg):
    problems.append(msg)
    print("  FAIL - " + msg)


def plain(line):
    """The text of a man(7) source line: no macro name, fonts, escapes."""
    line = re.sub(r"^\.(BI|BR|IR|RB|RI|B|I)\s+", "", line)
    line = re.sub(r"\\f[BIRP]", "", line)
    line = line.replace("\\-", "-").replace("\\(bu", "*").replace("\\&", "")
    return line.replace('"', "")


def sections(path):
    out, name = {}, None
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith(".SH "):
            name = line[4:].strip().strip('"')
            out[name] = []
        elif name is not None:
            out[name].append(line)
    return out


def entries(lines, stop=None):
    """The .TP entries of a section: (tag, text of the body)."""
    result, i = [], 0
    while i < len(lines):
        if stop is not None and lines[i].startswith(stop):
            break
        if lines[i] == ".TP" and i + 1 < len(lines):
            tag = plain(lines[i + 1])
            body, j = [], i + 2
            while j < len(lines) and lines[j] not in (".TP", ".PP") and \
                    not (stop and lines[j].startswith(stop)):
                body.append(plain(lines[j]))
                j += 1
            result.append((tag, " ".join(body)))
            i = j
        else:
            i += 1
    return result


def field(text, name):
    m = re.search(r"\b" + name + r": (.*?)(?:\.(?: |$)| \(|$)", text)
    return m.group(1) if m else None


table = json.load(open(sys.argv[1]))
page5 = sections(sys.argv[2])
page1 = sections(sys.argv[3])

# collectd-rapl_energy(5), OPTIONS: every option, in the table's order, with
# its YAML keys, flag and default.
found = entries(page5.get("OPTIONS", []))
keys = [tag.split()[0] for tag, _ in found]
want = [o["collectd"] for o in table]
if keys != want:
    problem("collectd-rapl_energy(5) OPTIONS lists %s; the table has %s"
            % (keys, want))
for (tag, text), o in zip(found, table):
    k = o["collectd"]
    yaml = field(text, "YAML")
    if yaml != (", ".join(o["yaml"]) or "none"):
        problem("collectd-rapl_energy(5) %s: YAML: %s; the table: %s"
                % (k, yaml, ", ".join(o["yaml"]) or "none"))
    flag = field(text, "Flag")
    if flag != (o["flag"] or "none"):
        problem("collectd-rapl_energy(5) %s: Flag: %s; the table: %s"
                % (k, flag, o["flag"] or "none"))
    default = field(text, "Default")
    if default != o["default"]:
        problem("collectd-rapl_energy(5) %s: Default: %s; the table: %s"
                % (k, default, o["default"]))
    print("  ok   - collectd-rapl_energy(5) %s: YAML %s, flag %s, default %s"
          % (k, yaml, flag, default))

# collectd-rapl_energy(5), YAML CONFIGURATION: each section's keys.
by_section = {}
for o in table:
    for y in o["yaml"]:
        section, key = y.split(".", 1)
        by_section.setdefault(section, []).append(key)
listed = {tag.strip(): [k.strip() for k in text.split(",")]
          for tag, text in entries(page5.get("YAML CONFIGURATION", []))}
for section, keys in by_section.items():
    if sorted(listed.get(section, [])) != sorted(keys):
        problem("collectd-rapl_energy(5) YAML CONFIGURATION: %s lists %s; "
                "the table has %s" % (section, listed.get(section), keys))
    else:
        print("  ok   - collectd-rapl_energy(5) YAML section %s: %s"
              % (section, ", ".join(keys)))
for section in listed:
    if section not in by_section:
        problem("collectd-rapl_energy(5) YAML CONFIGURATION lists a section "
                "%s that the table does not have" % section)

# rapl-energy-probe(1), OPTIONS: the plugin's options before "The probe's own
# options", each with its collectd key and default.
found = entries(page1.get("OPTIONS", []), stop="The probe's own options")
flags = [re.split(r"[ \[]", tag)[0] for tag, _ in found]
want = [o["flag"] for o in table if o["flag"]]
if flags != want:
    problem("rapl-energy-probe(1) OPTIONS lists %s; the table has %s"
            % (flags, want))
with_flag = [o for o in table if o["flag"]]
for (tag, text), o in zip(found, with_flag):
    if not text.startswith(o["collectd"] + ":"):
        problem("rapl-energy-probe(1) %s: does not start with %s:"
                % (o["flag"], o["collectd"]))
    default = field(text, "Default")
    if default != o["default"]:
        problem("rapl-energy-probe(1) %s: Default: %s; the table: %s"
                % (o["flag"], default, o["default"]))
    print("  ok   - rapl-energy-probe(1) %s: %s, default %s"
          % (o["flag"], o["collectd"], default))

sys.exit(1 if problems else 0)
