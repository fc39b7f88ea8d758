#!/usr/bin/env python3
"""Instruction counts of whole runs under callgrind: what a tool costs,
free of the noise of a shared machine.

    python bench/icount.py [--python PY ...] [--workloads calls mixed]
                           [--tools null-profile cProfile pyprof
                                    null-monitoring pyprof-lines]

Each (python, workload, tool) runs once, the way a user runs it (run.py's
`argv` of the tool: `python W.py`, `python -m cProfile -o F W.py`,
`python -m pyprof run -o F W.py`, the null-profile floor; line profilers,
`python -m pyprof lines -o F W.py` and its null-monitoring floor, on the
copy with @profile on the workload's hot function) under
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
calls.py's main() (every loop count divided, the same mix of calls), and
`julia/4` a quarter of julia.py's points.  --json FILE writes the counts.
The environment is passed through.
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


# julia.py on a smaller grid: julia/4 computes a quarter of its points
# (width 50 instead of 100: the same per-point work, a quarter as many).
JULIA_WIDTHS = {"julia/4": 50}


def workload_path(name, tmp):
    if name in JULIA_WIDTHS:
        with open(bench.resolve_workload("julia")) as f:
            source = f.read()
        source = source.replace("width = 100", "width = %d"
                                % JULIA_WIDTHS[name])
        source = source.replace("    assert (len(out)", "    # (len(out)")
        path = os.path.join(tmp, name.replace("/", "_") + ".py")
        with open(path, "w") as f:
            f.write(source)
        return path
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


# Each pyprof tool's floor (its hook doing nothing) and the tool it
# replaces.
FLOORS = {"pyprof": "null-profile", "pyprof-lines": "null-monitoring"}
REFERENCES = {"pyprof": "cProfile", "pyprof-lines": "kernprof"}


def print_table(results, tools):
    """A markdown row per (python, workload): counts, ratios to plain, and
    each pyprof tool's ratio to its floor (also of the instructions added
    over plain) and to the tool it replaces, where those ran."""
    def pairs(c):
        for t in tools:
            base = t.partition("@")[0]
            for other in (FLOORS.get(base), REFERENCES.get(base)):
                if other in c and t in c:
                    yield t, other
    heads = {}
    for r in results:
        for t, other in pairs(r["counts"]):
            heads.setdefault("%s / %s" % (t, other), None)
            if other == FLOORS.get(t.partition("@")[0]) and "plain" in r["counts"]:
                heads.setdefault("%s added / %s added" % (t, other), None)
    print("| python | workload | " + " | ".join(
        ["%s (10^9)" % t for t in tools] + ["%s / plain" % t for t in tools
                                            if t != "plain"] + list(heads))
          + " |")
    for r in results:
        c = r["counts"]
        cells = {}
        for t, other in pairs(c):
            cells["%s / %s" % (t, other)] = "%.3f" % (c[t] / c[other])
            if "plain" in c and other == FLOORS.get(t.partition("@")[0]):
                cells["%s added / %s added" % (t, other)] = "%.3f" % (
                    (c[t] - c["plain"]) / (c[other] - c["plain"]))
        row = [r["python"], r["workload"]]
        row += ["%.3f" % (c[t] / 1e9) if t in c else "-" for t in tools]
        row += ["%.3f" % (c[t] / c["plain"]) if t in c and "plain" in c
                else "-" for t in tools if t != "plain"]
        row += [cells.get(h, "-") for h in heads]
        print("| " + " | ".join(row) + " |")


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
            if any(t.startswith("null-") for t in tools):
                error = bench.build_nullhook(py, bench.NULLHOOK_DIR)
                if error:
                    sys.exit("nullhook.c did not build: %s" % error)
            env = bench.subprocess_env()
            for w in args.workloads:
                path = workload_path(w, tmp)
                out = os.path.join(tmp, "out")
                counts = {}
                decorated = None
                for t in tools:
                    tool, _, build = t.partition("@")
                    spec = bench.TOOLS[tool]
                    version = tuple(int(x) for x in label.split(".")[:2])
                    if version < spec.get("requires", (0, 0)):
                        continue
                    tool_path = path
                    if spec.get("decorate"):
                        # Line profilers: the copy with @profile on the
                        # workload's hottest function, as run.py runs them
                        # (a workload without one: the tool is left out).
                        try:
                            decorated = decorated or bench.decorate_copy(
                                path, bench.split_workload(w)[1]
                                or bench.HOT.get(w.split("/")[0], "?"),
                                os.path.join(tmp, "decorated",
                                             w.replace("/", "_")))
                        except bench.RunError as e:
                            print("%s %s %s: %s" % (label, w, t, e),
                                  file=sys.stderr)
                            continue
                        tool_path = decorated
                    tool_env = dict(env)
                    if build:
                        tool_env["PYTHONPATH"] = os.pathsep.join(
                            [builds[build]] + [p for p in [env.get(
                                "PYTHONPATH")] if p])
                    counts[t] = count(
                        bench.TOOLS[tool]["argv"](py, tool_path, out),
                        tool_env)
                    print("%s %s %s %d" % (label, w, t, counts[t]),
                          file=sys.stderr, flush=True)
                results.append({"python": label, "workload": w,
                                "counts": counts})
    if args.no_plain:
        for r in results:
            print(r["python"], r["workload"], r["counts"])
        results = []
    print_table(results, tools)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
