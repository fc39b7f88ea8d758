#!/usr/bin/env python3
"""How long `pyprof view` and the browser take on a big profile.

The issue's bar: a profile of 100,000 functions renders in under 2 s.  This
writes a synthetic cProfile-style pstats file of N functions (a random call
tree, cumulative times consistent), times `pyprof view` on it, then loads
the report in headless Chromium (the DevTools client of tests/test_view.py)
ROUNDS times and reports the time from navigation to the page's
data-ready mark, plus switching to the sunburst and sorting the table.

    python bench/view_render.py [--functions N] [--rounds R]
"""
import argparse
import marshal
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
from test_view import Browser  # noqa: E402


def synthetic_profile(path, n):
    rng = random.Random(1)
    keys = [("big.py", 1, "root")]
    parent = {}
    tt = {keys[0]: 0.001}
    for i in range(n - 1):
        key = ("mod%d.py" % (i % 100), i + 2, "f%d" % i)
        parent[key] = keys[rng.randrange(len(keys))] if i > 10 else keys[0]
        tt[key] = rng.random() * 0.01
        keys.append(key)
    ct = dict(tt)
    for key in reversed(keys):
        if key in parent:
            ct[parent[key]] += ct[key]
    stats = {k: (1, 1, tt[k], ct[k],
                 {parent[k]: (1, 1, tt[k], ct[k])} if k in parent else {})
             for k in keys}
    with open(path, "wb") as f:
        f.write(marshal.dumps(stats))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--functions", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    d = tempfile.mkdtemp(prefix="pyprof-view-bench-")
    prof, html = os.path.join(d, "big.pstats"), os.path.join(d, "big.html")
    synthetic_profile(prof, args.functions)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pyprof", "view", prof, "-o", html],
                   check=True, capture_output=True)
    print("pyprof view (%d functions): %.2f s, report %.1f MB"
          % (args.functions, time.perf_counter() - t0,
             os.path.getsize(html) / 1e6))
    b = Browser()
    try:
        loads = []
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            b.open(html)
            assert b.js("document.body.getAttribute('data-ready')") == "1"
            loads.append(time.perf_counter() - t0)
        rects = b.js("document.querySelectorAll('#icicle rect').length")
        t0 = time.perf_counter()
        b.click("#show-sunburst")
        sunburst = time.perf_counter() - t0
        t0 = time.perf_counter()
        b.click('#stats th[data-key="tt"]')
        sort = time.perf_counter() - t0
    finally:
        b.close()
    print("load + first render: median %.2f s, max %.2f s over %d rounds "
          "(%d boxes drawn)" % (statistics.median(loads), max(loads),
                                len(loads), rects))
    print("switch to sunburst: %.2f s; sort the table: %.2f s"
          % (sunburst, sort))


if __name__ == "__main__":
    main()
