#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""workers_agree: cep run gives the same matches for any number of workers.

Usage: workers_agree.py CEP GEN PATTERNS ABC_YAML

Generates the benchmark workloads (tests/bench/gen, seeded) at a size a test
can afford, runs each through `cep run --workers N` for N = 1, 2 and 4, and
checks that every N gives the same output, byte for byte: the same
matches in the same order (cep run publishes through an ordered sink).
Each workload must produce matches, so the check cannot pass by finding
nothing.
"""
import collections
import json
import os
import subprocess
import sys
import tempfile

WORKERS = (1, 2, 4)


def run(cep, patterns, events, out, workers):
    subprocess.run([cep, "run", "--quiet", "-p", patterns, "-i", events,
                    "-o", out, "--workers", str(workers)], check=True)
    with open(out, encoding="utf-8") as f:
        return f.read().splitlines()


def by_key(lines):
    keys = collections.defaultdict(list)
    for line in lines:
        m = json.loads(line)
        keys[(m["pattern"], json.dumps(m.get("key")))].append(line)
    return keys


def check(name, results, least):
    base = results[WORKERS[0]]
    if len(base) < least:
        return ["%s: %d matches, expected at least %d" % (name, len(base), least)]
    errors = []
    for w in WORKERS[1:]:
        if results[w] == base:
            continue
        if sorted(results[w]) != sorted(base):
            what = "other matches (%d lines against %d)" % (len(results[w]),
                                                          len(base))
        elif by_key(results[w]) != by_key(base):
            what = "the same matches, some key's in another order"
        else:
            what = "the same matches, keys interleaved otherwise"
        errors.append("%s: %d workers give %s" % (name, w, what))
    return errors


def main():
    cep, gen, patterns, abc = sys.argv[1:5]
    workloads = (
        # name, generator arguments, rules, least number of matches
        ("abc", ["abc", "-n", "100000"], abc, 1000),
        ("fraud", ["fraud", "-n", "300000"], patterns, 3),
        ("network", ["network", "-n", "300000"], patterns, 3),
    )
    errors = []
    failed = 0
    with tempfile.TemporaryDirectory(prefix="cep-workers-") as tmp:
        for name, args, rules, least in workloads:
            events = os.path.join(tmp, name + ".msgpack")
            subprocess.run([gen] + args + ["-s", "7", "-o", events],
                           check=True, stdout=subprocess.DEVNULL)
            results = {}
            for w in WORKERS:
                out = os.path.join(tmp, "%s.%d.jsonl" % (name, w))
                results[w] = run(cep, rules, events, out, w)
            found = check(name, results, least)
            print("%s: %d matches, %s" % (name, len(results[1]),
                                           "differ" if found else "agree"))
            errors += found
            failed += bool(found)
    for e in errors:
        print("error: " + e)
    print("%d passed, %d failed" % (len(workloads) - failed, failed))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
