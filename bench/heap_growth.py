#!/usr/bin/env python3
"""objgraph.show_growth() vs pyprof.show_growth() on a heap of millions of
objects, side by side in one process.

The heap (--objects, default 2,000,000 tracked objects of four types:
instances, lists, tuples holding a list, dicts) is built once.  Each round
times both tools on that same heap, in alternating order (ABBA), each
starting from its own copy of the peaks recorded before the heap was
built (objgraph's), so every call reports the same growth.  Both print into a buffer;
the two outputs must be identical once runs of spaces are collapsed (only
column widths may differ).  The comparison uses limit=4, the heap's four
types: the rows below them are the few objects each tool's own call makes
(+1 or +2 of a frame, a cell...), which differ between any two tools.  Also timed: the census alone (typestats()),
and gc.collect(), which both show_growth()s run first (objgraph's
semantics: growth is counted after a full collection) and which therefore
bounds the end-to-end ratio.

Prints medians and ratios (objgraph / pyprof; higher is better for
pyprof).  Exit status 1 when the outputs differ.
"""
import argparse
import gc
import io
import re
import statistics
import sys
import time

import objgraph

import pyprof


class Record:
    __slots__ = ("key", "payload")

    def __init__(self, key):
        self.key = key
        self.payload = None


def build_heap(n):
    """n tracked objects: n/4 instances, n/4 dicts that hold one (a dict
    of atoms is not tracked), n/8 tuples that hold a list, and n/4 more
    lists."""
    records = [Record(i) for i in range(n // 4)]
    dicts = [{"record": r} for r in records]
    pairs = [(i, []) for i in range(n // 8)]
    lists = [[] for _ in range(n - 2 * (n // 4) - 2 * (n // 8))]
    return records, dicts, pairs, lists


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def normalize(text):
    return [re.sub(r" +", " ", line.strip()) for line in text.splitlines()]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--objects", type=int, default=2_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)

    # One set of starting peaks for both (objgraph's): two baselines taken
    # a moment apart can differ by a transient tuple.
    base = {}
    objgraph.growth(limit=None, peak_stats=base)
    heap = build_heap(args.objects)
    gc.collect()
    tracked = sum(n for _, n in pyprof.most_common_types(limit=None))

    times = {"objgraph": [], "pyprof": [], "objgraph typestats": [],
             "pyprof typestats": [], "gc.collect": []}
    outputs = {}

    def run(tool):
        out = io.StringIO()
        if tool == "objgraph":
            peaks = dict(base)
            t = timed(lambda: objgraph.show_growth(limit=4, peak_stats=peaks,
                                                   file=out))
        else:
            peaks = dict(base)
            t = timed(lambda: pyprof.show_growth(limit=4, peak_stats=peaks,
                                                 file=out))
        times[tool].append(t)
        outputs.setdefault(tool, out.getvalue())

    for r in range(args.rounds):
        order = ("objgraph", "pyprof") if r % 2 == 0 else \
            ("pyprof", "objgraph")
        for tool in order + tuple(reversed(order)):
            run(tool)
        times["gc.collect"].append(timed(gc.collect))
        times["objgraph typestats"].append(timed(objgraph.typestats))
        times["pyprof typestats"].append(timed(pyprof.typestats))

    med = {k: statistics.median(v) for k, v in times.items()}
    v = sys.version_info
    print("== heap census on Python %d.%d.%d: %d tracked objects "
          "(%d rounds, ABBA)" % (v[0], v[1], v[2], tracked, args.rounds))
    print("%-28s %10s %10s %8s" % ("", "objgraph", "pyprof", "ratio"))
    print("%-28s %9.3fs %9.3fs %7.1fx" % (
        "show_growth() end to end", med["objgraph"], med["pyprof"],
        med["objgraph"] / med["pyprof"]))
    print("%-28s %9.3fs %9.3fs %7.1fx" % (
        "census only (typestats())", med["objgraph typestats"],
        med["pyprof typestats"],
        med["objgraph typestats"] / med["pyprof typestats"]))
    print("%-28s %9.3fs   (inside both show_growth()s)" % (
        "gc.collect()", med["gc.collect"]))
    same = normalize(outputs["objgraph"]) == normalize(outputs["pyprof"])
    print("outputs identical apart from widths: %s" % ("yes" if same
                                                       else "NO"))
    print(outputs["pyprof"], end="")
    if not same:
        print("-- objgraph:\n" + outputs["objgraph"] + "-- pyprof:\n" +
              outputs["pyprof"])
    del heap
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
