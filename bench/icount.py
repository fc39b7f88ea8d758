#!/usr/bin/env python3
"""Instruction counts of whole runs under callgrind: what a tool costs,
free of the noise of a shared machine.

    python bench/icount.py [--python PY ...] [--workloads calls mixed]
                           [--tools null-profile cProfile pyprof]

Each (python, workload, tool) runs once, the way a user runs it (run.py's
`argv` of the tool: `python W.py`, `python -m cProfile -o F W.py`,
`python -m pyprof run -o F W.py`, the null-profile floor) under
`valgrind --tool=callgrind`, and the instructions it executed (callgrind's
"Collected") are printed with ratios to plain and to the floor.  Counts are
deterministic to a fraction of a percent (PYTHONHASHSEED=0), so one run
each is enough.  They count instructions, not cycles: a clock read (rdtsc,
a vDSO clock_gettime) is a few instructions here whatever it costs.

A tool written `pyprof@NAME` is pyprof run from another build, given as
--build NAME=DIR (DIR goes first on PYTHONPATH: a tree built with
`setup.py build_ext --inplace`, its python/ directory), so builds of two
commits compare on one interpreter.

Under valgrind a run is ~50x slower: calls.py takes minutes per tool, so
the workloads `calls/3` and `calls/10` run a third and a tenth of
calls.py's main() (every loop count divided, the same mix of calls).  --json FILE writes the
counts.  The environment is passed through
.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import run as bench

COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


# calls.py's main() scaled down: calls/3 runs every loop a third as many
# times; calls/10 a tenth (Ackermann: one A(2, 165), a tenth of three
# A(2, 300)'s calls).  The same mix of calls either way.
CALLS_SCALED = """\
import sys
sys.path.insert(0, %(dir)r)
from calls import DEPTH, fib, down, ack, call_loop, c_calls
sys.setrecursionlimit(max(sys.getrecursionlimit(), DEPTH + 200))
for _ in range(%(fib)d):
    fib(25)
for _ in range(%(down)d):
    down(DEPTH)
ack(2, %(ack)d)
call_loop(%(loop)d)
c_calls(%(c)d)
"""
SCALES = {"calls/3": dict(fib=3, down=400, ack=300, loop=800_000 // 3,
                          c=500_000 // 3),
          "calls/10": dict(fib=1, down=120, ack=165, loop=80_000,
                           c=50_000)}


def workload_path(name, tmp):
    if name not in SCALES:
        return bench.resolve_workload(name)
    path = os.path.join(tmp, name.replace("/", "_") + ".py")
    with open(path, "w") as f:
        f.write(CALLS_SCALED % dict(SCALES[name], dir=bench.WORKLOAD_DIR))
    return path


def count(argv, env):
    """Instructions callgrind counted for argv, or raises RuntimeError."""
    p = subprocess.run(["valgrind", "--tool=callgrind",
                        "--callgrind-out-file=/dev/null"] + argv,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True, env=env)
    found = COLLECTED.findall(p.stderr)
    if p.returncode != 0 or not found:
        raise RuntimeError("exit %d: %s" % (p.returncode, p.stderr[-2000:]))
    return int(found[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--python", nargs="+", default=[sys.executable])
    ap.add_argument("--workloads", nargs="+", default=["calls"])
    ap.add_argument("--tools", nargs="+",
                    default=["null-profile", "cProfile", "pyprof"])
    ap.add_argument("--build", action="append", default=[],
                    metavar="NAME=DIR", help="a build of pyprof for pyprof@NAME")
    ap.add_argument("--json", metavar="FILE")
    ap.add_argument("--no-plain", action="store_true",
                    help="counts only, no plain run and no ratios")
    args = ap.parse_args(argv)
    builds = dict(b.split("=", 1) for b in args.build)
    tools = ["plain"] + [t for t in args.tools if t != "plain"]
    if args.no_plain:
        tools.remove("plain")
    results = []
    with tempfile.TemporaryDirectory(prefix="pyprof-icount-") as tmp:
        for py in args.python:
            label = bench.python_label(py)
            bench.NULLHOOK_DIR = os.path.join(tmp, "nullhook-%s" % label)
            if "null-profile" in tools:
                error = bench.build_nullhook(py, bench.NULLHOOK_DIR)
                if error:
                    sys.exit("nullhook.c did not build: %s" % error)
            env = bench.subprocess_env()
            for w in args.workloads:
                path = workload_path(w, tmp)
                out = os.path.join(tmp, "out")
                counts = {}
                for t in tools:
                    tool, _, build = t.partition("@")
                    tool_env = dict(env)
                    if build:
                        tool_env["PYTHONPATH"] = os.pathsep.join(
                            [builds[build]] + [p for p in [env.get(
                                "PYTHONPATH")] if p])
                    counts[t] = count(
                        bench.TOOLS[tool]["argv"](py, path, out), tool_env)
                    print("%s %s %s %d" % (label, w, t, counts[t]),
                          file=sys.stderr, flush=True)
                results.append({"python": label, "workload": w,
                                "counts": counts})
    if args.no_plain:
        for r in results:
            print(r["python"], r["workload"], r["counts"])
        results = []
    floor = "null-profile" if "null-profile" in tools else None
    ref = "cProfile" if "cProfile" in tools else None
    mine = [t for t in tools if t.partition("@")[0] == "pyprof"]
    head = ["python", "workload"] + ["%s (10^9)" % t for t in tools]
    head += ["%s / plain" % t for t in tools[1:]]
    head += ["%s / %s" % (t, b) for t in mine for b in (floor, ref) if b]
    head += ["%s added / %s added" % (t, floor) for t in mine if floor]
    print("| " + " | ".join(head) + " |")
    for r in results:
        c = r["counts"]
        cells = [r["python"], r["workload"]]
        cells += ["%.3f" % (c[t] / 1e9) for t in tools]
        cells += ["%.3f" % (c[t] / c["plain"]) for t in tools[1:]]
        cells += ["%.3f" % (c[t] / c[b]) for t in mine for b in (floor, ref)
                  if b]
        cells += ["%.3f" % ((c[t] - c["plain"]) / (c[floor] - c["plain"]))
                  for t in mine if floor]
        print("| " + " | ".join(cells) + " |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
