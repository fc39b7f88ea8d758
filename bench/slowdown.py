"""A sampler's slowdown of its target, resolved to well under 1%:
`bench/run.py --slowdown` runs this.

bench/sampling.py compares whole runs of separate target processes, and on
a shared 2-core VM two plain runs of the same workload differ by 5-30%: a
1% goal cannot be seen through that.  Here one target process runs for
the whole bench and each tool is attached to it and detached again, in
turns, many times; the slowdown is the same units of work timed while a
tool is attached against while none is, in the same process, minutes
apart at most.  Process-to-process differences (address layout, which
core, the page cache) cancel; what is left is the noise of the machine,
which the control row measures: "control" attaches nothing in its turn,
so its ratio is 1 plus that noise.

The target runs its workload's units (a workload's units(): small pieces
of its main(), 10-40 ms each) in a loop and logs each unit's start and
end (CLOCK_MONOTONIC, as this harness sees it).  The harness cycles:
nothing for --window seconds, then a tool for --window seconds (it is
started, given --settle seconds to attach, and stopped with SIGINT, the
way a user ends py-spy, Austin or pyprof record), then nothing, then the
next tool, ...  A unit counts for a tool when it ran entirely inside that
tool's attached time; for "off" when entirely inside a quiet time.  A
tool's slowdown, per unit kind, is the median of its units' times over
the median of the quiet units' times of the two quiet windows around it,
weighted by the kind's share of the quiet time: one ratio per cycle.  The
slowdown is the median of a tool's cycles, "spread" their lowest and
highest.
"""
import argparse
import importlib.util
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = ["julia", "calls"]


def load_units(name):
    """The workload's units (a list of (label, callable)), or its main()."""
    path = os.path.join(HERE, "workloads", name + ".py")
    spec = importlib.util.spec_from_file_location("workload", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if hasattr(module, "units"):
        return module.units()
    return [("main", module.main)]


def target_main(name, log_path):
    """Run the units in turns until stdin closes (the harness is done),
    then write "kind start end" per unit to log_path."""
    import ctypes
    import threading
    try:    # let a sibling sampler read us under Yama ptrace_scope 1
        ctypes.CDLL(None).prctl(0x59616d61, ctypes.c_ulong(-1), 0, 0, 0)
    except Exception:
        pass
    units = load_units(name)
    done = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), done.set()),
                     daemon=True).start()
    clock = time.monotonic
    log = []
    print("READY", file=sys.stderr, flush=True)
    while not done.is_set():
        for kind, (_, fn) in enumerate(units):
            t0 = clock()
            fn()
            log.append((kind, t0, clock()))
    with open(log_path, "w") as f:
        for kind, t0, t1 in log:
            f.write("%d %.9f %.9f\n" % (kind, t0, t1))


def tools(python, out):
    """{name: argv of the tool attaching to a pid (None: the control)}."""
    bindir = os.path.dirname(python)
    spy = os.path.join(bindir, "py-spy")
    austin = os.path.join(bindir, "austin")
    t = {"control": None}
    for hz in (1000, 10000):
        t["pyprof %d Hz" % hz] = lambda pid, hz=hz: [
            python, "-m", "pyprof", "record", "-r", str(hz), "-o", out,
            "--pid", str(pid)]
    if os.path.exists(spy):
        t["py-spy 1000 Hz"] = lambda pid: [
            spy, "record", "--nonblocking", "-r", "1000", "-f", "raw",
            "-o", out, "--pid", str(pid)]
    if os.path.exists(austin):
        t["austin 1 ms"] = lambda pid: [austin, "-i", "1000us", "-o", out,
                                        "-p", str(pid)]
    return t


def attach_once(argv, window, settle):
    """Run one tool for `window` seconds; return the (start, end) of its
    attached time, or None when it failed."""
    if argv is None:
        t0 = time.monotonic()
        time.sleep(window)
        return (t0 + settle, time.monotonic())
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    t0 = time.monotonic()
    time.sleep(window)
    t1 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None
    return (t0 + settle, t1)


def run_cell(python, workload, names, argv_of, args):
    """One target process: cycles of quiet, tool, quiet, next tool...
    Returns (units log, [(name, cycle, (start, end))], [quiet spans])."""
    fd, log_path = tempfile.mkstemp(prefix="pyprof-slowdown-")
    os.close(fd)
    target = subprocess.Popen(
        [python, os.path.abspath(__file__), "--target", workload,
         "--log", log_path], stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    attached, quiet = [], []
    try:
        if target.stderr.readline().strip() != "READY":
            raise RuntimeError("the target did not start: %s"
                               % target.stderr.read().strip())
        time.sleep(args.settle)      # the first units warm up
        for cycle in range(args.cycles):
            for name in names:
                q0 = time.monotonic()
                time.sleep(args.window)
                quiet.append((q0 + args.settle, time.monotonic()))
                span = attach_once(argv_of[name] and argv_of[name](target.pid),
                                   args.window, args.settle)
                if span:
                    attached.append((name, cycle, span))
        q0 = time.monotonic()
        time.sleep(args.window)
        quiet.append((q0 + args.settle, time.monotonic()))
    finally:
        target.stdin.close()
        target.wait()
    with open(log_path) as f:
        units = [(int(k), float(a), float(b))
                 for k, a, b in (line.split() for line in f)]
    os.remove(log_path)
    return units, attached, quiet


def inside(units, span):
    return [(k, b - a) for k, a, b in units if a >= span[0] and b <= span[1]]


def ratio(on, off):
    """Time-weighted ratio of the per-kind medians of on over off."""
    kinds = {k for k, _ in on} & {k for k, _ in off}
    num = den = 0.0
    for k in kinds:
        base = statistics.median(d for kk, d in off if kk == k)
        mine = statistics.median(d for kk, d in on if kk == k)
        share = sum(d for kk, d in off if kk == k)
        num += share * mine / base
        den += share
    return num / den if den else None


def summarize(units, attached, quiet):
    """{tool: (median of the cycles' ratios, lowest, highest, units
    timed attached)}."""
    rows = {}
    names = sorted({name for name, _, _ in attached},
                   key=lambda n: [a[0] for a in attached].index(n))
    for name in names:
        on_all, per_cycle = [], []
        for tool, cycle, span in attached:
            if tool != name:
                continue
            on = inside(units, span)
            # the quiet windows just before and just after this one
            near = [q for q in quiet if q[1] <= span[0]][-1:] \
                + [q for q in quiet if q[0] >= span[1]][:1]
            off = [u for q in near for u in inside(units, q)]
            r = ratio(on, off)
            if r is not None:
                per_cycle.append(r)
            on_all += on
        rows[name] = (statistics.median(per_cycle) if per_cycle else None,
                      min(per_cycle, default=None),
                      max(per_cycle, default=None), len(on_all))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", help=argparse.SUPPRESS)
    ap.add_argument("--log", help=argparse.SUPPRESS)
    ap.add_argument("--python", nargs="+", default=[sys.executable])
    ap.add_argument("--workloads", nargs="+", default=WORKLOADS)
    ap.add_argument("--cycles", type=int, default=6,
                    help="turns of every tool (default 6)")
    ap.add_argument("--window", type=float, default=1.5,
                    help="seconds of each quiet and each attached time "
                         "(default 1.5)")
    ap.add_argument("--settle", type=float, default=0.3,
                    help="seconds at the start of a window not counted: "
                         "the tool's start-up and attach (default 0.3)")
    args = ap.parse_args(argv)
    if args.target:
        target_main(args.target, args.log)
        return 0
    tmp = tempfile.mkdtemp(prefix="pyprof-slowdown-")
    out = os.path.join(tmp, "out")
    print("%-14s %-16s %10s %18s %7s" % ("python/work", "tool", "slowdown",
                                         "spread (cycles)", "units"))
    try:
        for py in args.python:
            version = subprocess.run(
                [py, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True, text=True).stdout.strip()
            argv_of = tools(py, out)
            names = list(argv_of)
            for w in args.workloads:
                units, attached, quiet = run_cell(py, w, names, argv_of, args)
                for name, (slow, low, high, n) in summarize(
                        units, attached, quiet).items():
                    key = "%s %s" % (version, w)
                    if slow is None:
                        print("%-14s %-16s %10s" % (key, name, "n/a"))
                        continue
                    print("%-14s %-16s %9.4fx %8.4f - %.4f %7d"
                          % (key, name, slow, low, high, n), flush=True)
    finally:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
