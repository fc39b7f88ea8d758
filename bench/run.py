#!/usr/bin/env python3
"""Overhead benchmark: each workload plain, under cProfile, under pyprof.

What is timed, and why this way
-------------------------------
Primary table ("in-process"): every run is a fresh subprocess
`python -c DRIVER ...` (DRIVER is below).  The driver compiles the workload
file, imports and constructs the tool (untimed), then times with
time.perf_counter() exactly:

    tool start (e.g. prof.enable())  ->  exec(workload as __main__)  ->  tool stop

The tool's output step (dump_stats) runs after the timer and is timed on its
own ("dump" in the details table).  The plain run goes through the very same
driver with empty start/stop, so the only difference between the columns is
the tool.  This measures the workload's own wall time, with no interpreter
start-up and no import of the tool in it: it is the honest number for "how
much slower does my code run under the profiler".  (Timing whole processes
and subtracting a measured start-up was rejected: start-up jitter on this
2-core machine is of the same order as the differences we care about, and
the subtraction hides it.)

Secondary table ("whole process", --whole-rounds, default 3, 0 to skip): the
same workloads run the way a user runs them, `python W.py`,
`python -m cProfile -o F W.py`, `python -m pyprof run -o F W.py`, timed
from this process around subprocess.run().  It includes interpreter
start-up, the tool's import, the CLI's own work and writing the output file;
a CLI that is slow outside the hooks shows up here and not in the first table.

Runs are interleaved round-robin (round 1: W1 plain, W1 cProfile, W1 pyprof,
W2 plain, ...; round 2: ...) so slow drift of the machine (thermal, other
jobs) spreads over all tools instead of biasing one.  One untimed warm-up
plain run per workload comes first.  Every subprocess gets PYTHONHASHSEED=0.
We report medians, and ratios = tool median / plain median (lower is better,
1.00 = free).

A run that fails (non-zero exit, timeout, no output file) prints its stderr;
that cell becomes "n/a (error: ...)", the remaining rounds of that
(python, workload, tool) are skipped, the bench carries on, and run.py exits
with status 1 at the end.

Adding a tool is one entry in TOOLS below.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOAD_DIR = os.path.join(HERE, "workloads")
DEFAULT_WORKLOADS = ["julia", "calls", "alloc", "mixed"]

# ---------------------------------------------------------------------------
# Tools: name -> how to run a workload under it.
#
#   setup   Python source run in the driver before the timer (imports,
#           constructing the profiler).  OUT is the output file path.
#   start   source run inside the timer, just before the workload.
#   stop    source run inside the timer, just after the workload.
#   finish  source run after the timer (writing results), timed as "dump".
#   argv    function (python, workload_path, out_path) -> argv of the way a
#           user runs the workload under the tool, for the whole-process
#           table; None to leave the tool out of that table.
#   output  True if a successful run must leave a non-empty file at OUT.
#
# "plain" is the baseline and is always run.  Examples of future entries:
#   "kernprof": setup="import builtins, line_profiler; "
#                     "prof = line_profiler.LineProfiler(); builtins.profile = prof",
#               start="prof.enable_by_count()", stop="prof.disable_by_count()",
#               finish="prof.dump_stats(OUT)",
#               argv=lambda py, w, out: [py, "-m", "kernprof", "-l", "-o", out, w]
# ---------------------------------------------------------------------------
# Line profilers need the function to profile: each workload's hottest
# function (by tottime), decorated with @profile in a copy of the workload
# made at bench time (tools with decorate=True run the copy, and the
# `profile` builtin is theirs).  A workload given as NAME:FUNC decorates
# FUNC instead, e.g. julia:create_inputs (called once: shows what the line
# profiler costs the code it does not profile).
HOT = {"julia": "calc_point_val", "calls": "call_loop",
       "alloc": "small_objects", "mixed": "gen_log"}

# The null hooks (bench/nullhook.c) are compiled per Python at bench time
# into the directory named by $PYPROF_BENCH_NULLHOOK.
NULLHOOK_IMPORT = ("import os, sys; sys.path.insert(0, "
                   "os.environ['PYPROF_BENCH_NULLHOOK']); "
                   "import _pyprof_nullhook as nullhook; ")

# null-profile's hooks (bench/nullhook.c), on and off.
NULL_PROFILE_SETUP = (
    "import sys\n"
    "if sys.version_info >= (3, 12):\n"
    "    M = sys.monitoring; E = M.events; M.use_tool_id(5, 'null')\n"
    "    NULL_EVENTS = (E.PY_START | E.PY_RESUME | E.PY_THROW | E.PY_RETURN"
    " | E.PY_YIELD | E.PY_UNWIND | E.CALL | E.C_RETURN | E.C_RAISE)\n"
    "    for bit in range(18):\n"
    "        if NULL_EVENTS & (1 << bit):\n"
    "            M.register_callback(5, 1 << bit, nullhook.line_callback)\n"
    "    def null_profile_on(): M.set_events(5, NULL_EVENTS)\n"
    "    def null_profile_off(): M.set_events(5, 0)\n"
    "else:\n"
    "    null_profile_on = nullhook.setprofile\n"
    "    null_profile_off = nullhook.unsetprofile\n")
# How a null hook's whole-process form runs the script (as `python W.py`
# does), between two statements that turn the hook on and off.
NULL_RUN = (
    "import runpy; path = sys.argv[1]; sys.argv = sys.argv[1:]\n"
    "import os; sys.path[0] = os.path.dirname(os.path.abspath(path))\n"
    "%s\n"
    "try:\n"
    "    runpy.run_path(path, run_name='__main__')\n"
    "finally:\n"
    "    %s\n")

# null-monitoring's hook: LINE on each @profile function's code only.
NULL_LINES_SETUP = (
    "import builtins; M = sys.monitoring; M.use_tool_id(5, 'null'); "
    "M.register_callback(5, M.events.LINE, nullhook.line_callback); "
    "builtins.profile = lambda f: (M.set_local_events("
    "5, f.__code__, M.events.LINE), f)[1]\n")

TOOLS = {
    "plain": dict(
        setup="", start="", stop="", finish="", output=False,
        argv=lambda py, w, out: [py, w],
    ),
    "cProfile": dict(
        setup="import cProfile; prof = cProfile.Profile()",
        start="prof.enable()", stop="prof.disable()",
        finish="prof.dump_stats(OUT)", output=True,
        argv=lambda py, w, out: [py, "-m", "cProfile", "-o", out, w],
    ),
    "pyprof": dict(
        setup="import pyprof; prof = pyprof.Profile()",
        start="prof.enable()", stop="prof.disable()",
        finish="prof.dump_stats(OUT)", output=True,
        argv=lambda py, w, out: [py, "-m", "pyprof", "run", "-o", out, w],
    ),
    # The floor of a function profiler: below 3.12 a C profile function
    # that only returns; from 3.12 a do-nothing C callback for each
    # sys.monitoring event pyprof run (and cProfile) uses.
    "null-profile": dict(
        setup=NULLHOOK_IMPORT + NULL_PROFILE_SETUP,
        start="null_profile_on()", stop="null_profile_off()",
        finish="", output=False,
        argv=lambda py, w, out: [py, "-c", NULLHOOK_IMPORT
                                 + NULL_PROFILE_SETUP + NULL_RUN % (
                                     "null_profile_on()",
                                     "null_profile_off()"), w],
    ),
    # The floor below 3.12: a C trace function that only returns.
    "null-settrace": dict(
        setup=NULLHOOK_IMPORT + "import builtins; builtins.profile = lambda f: f",
        start="nullhook.settrace()", stop="nullhook.unsettrace()",
        finish="", output=False, decorate=True, argv=None,
    ),
    # The floor from 3.12: sys.monitoring LINE on the decorated function
    # only, with a C callback that only returns.
    "null-monitoring": dict(
        setup=NULLHOOK_IMPORT + NULL_LINES_SETUP,
        start="", stop="", finish="", output=False, decorate=True,
        argv=lambda py, w, out: [py, "-c", NULLHOOK_IMPORT + NULL_LINES_SETUP
                                 + NULL_RUN % ("pass", "pass"), w],
        requires=(3, 12),
    ),
    "kernprof": dict(
        setup="import builtins, line_profiler; "
              "prof = line_profiler.LineProfiler(); builtins.profile = prof",
        start="prof.enable_by_count()", stop="prof.disable_by_count()",
        finish="prof.dump_stats(OUT)", output=True, decorate=True,
        argv=lambda py, w, out: [py, "-m", "kernprof", "-l", "-o", out, w],
    ),
    "pyprof-lines": dict(
        setup="import builtins, pyprof; prof = pyprof.LineProfiler(); "
              "builtins.profile = pyprof.profile",
        start="prof.enable()", stop="prof.disable()",
        finish="prof.dump_stats(OUT)", output=True, decorate=True,
        argv=lambda py, w, out: [py, "-m", "pyprof", "lines", "-o", out, w],
    ),
    # Memory tools (`make bench-memory`).  They run the way users run them,
    # whole process only (inproc=False): memory_profiler and mprof are
    # command lines, and @profile must be in the source (the julia_jset,
    # julia_calc and alloc_mem workloads carry it).  `timeout` bounds the
    # slow ones: memory_profiler reads RSS from Python on every line.
    "memory_profiler": dict(
        inproc=False, output=True, timeout=90,
        argv=lambda py, w, out: [py, "-m", "memory_profiler", "-o", out, w],
    ),
    "pyprof_memory": dict(
        inproc=False, output=True,
        argv=lambda py, w, out: [py, "-m", "pyprof", "memory", "-o", out, w],
    ),
    "mprof": dict(
        inproc=False, output=True, timeout=90,
        argv=lambda py, w, out: [os.path.join(os.path.dirname(py), "mprof"),
                                 "run", "--python", "-o", out, w],
    ),
    "pyprof_mprof": dict(
        inproc=False, output=True,
        argv=lambda py, w, out: [py, "-m", "pyprof", "mprof", "run", "-o",
                                 out, w],
    ),
    "tracemalloc": dict(
        setup="import tracemalloc", start="tracemalloc.start()",
        stop="snap = tracemalloc.take_snapshot(); tracemalloc.stop()",
        finish="snap.dump(OUT)", output=True,
        argv=lambda py, w, out: [
            py, "-X", "tracemalloc", "-c",
            "import runpy, sys, tracemalloc; sys.argv = [%r]; "
            "runpy.run_path(%r, run_name='__main__'); "
            "tracemalloc.take_snapshot().dump(%r)" % (w, w, out)],
    ),
}
# memray records every allocation to a file; with
# --trace-python-allocators pymalloc's too (what pyprof's hooks see).
for _name, _flags in (("memray", []),
                      ("memray_python", ["--trace-python-allocators"])):
    TOOLS[_name] = dict(
        inproc=False, output=True,
        argv=lambda py, w, out, flags=_flags: [
            py, "-m", "memray", "run", "-q", "-f", *flags, "-o", out, w])
# The floor of an allocation hook: bench/nullhook.c's pass-through
# wrappers on the three domains, then the workload as `python W.py` runs it.
TOOLS["null-alloc-hook"] = dict(
    inproc=False, output=False,
    argv=lambda py, w, out: [
        py, "-c", NULLHOOK_IMPORT + "nullhook.hook_allocators(); "
        "import runpy; sys.argv = [%r]; sys.path[0] = os.path.dirname(%r); "
        "runpy.run_path(%r, run_name='__main__')" % (w, w, w)])
MEMORY_TOOLS = ["memory_profiler", "pyprof_memory", "mprof", "pyprof_mprof",
                "tracemalloc", "memray", "memray_python", "null-alloc-hook"]
MEMORY_WORKLOADS = ["julia_jset", "julia_calc", "alloc_mem"]

# The in-process driver: argv = spec-json workload-path out-path result-path.
# It runs the workload the way `python W.py` does (as __main__, sys.argv and
# sys.path[0] set to the script's) and writes its timings as JSON.
DRIVER = r"""
import json, os, sys, time
spec = json.loads(sys.argv[1])
path, OUT, result_path = sys.argv[2], sys.argv[3], sys.argv[4]
with open(path, "rb") as f:
    code = compile(f.read(), path, "exec")
sys.argv = [path]
sys.path[0] = os.path.dirname(path)
g = {"__name__": "__main__", "__file__": path, "__package__": None,
     "__cached__": None, "__builtins__": __builtins__}
ns = {"OUT": OUT}
start = compile(spec["start"], "<tool start>", "exec")
stop = compile(spec["stop"], "<tool stop>", "exec")
exec(compile(spec["setup"], "<tool setup>", "exec"), ns)
c0 = time.process_time()
t0 = time.perf_counter()
exec(start, ns)
try:
    exec(code, g)
except SystemExit as e:     # sys.exit(0) / sys.exit() end a script normally
    if e.code not in (None, 0):
        raise
exec(stop, ns)
t1 = time.perf_counter()
c1 = time.process_time()
exec(compile(spec["finish"], "<tool finish>", "exec"), ns)
t2 = time.perf_counter()
with open(result_path, "w") as f:
    json.dump({"run": t1 - t0, "cpu": c1 - c0, "dump": t2 - t1}, f)
"""


class RunError(Exception):
    pass


# Where this run's bench/nullhook.c builds go (one per Python), set by
# bench_python before it runs anything.
NULLHOOK_DIR = None


def build_nullhook(python, directory):
    """Compile bench/nullhook.c for `python` into `directory`; returns None,
    or an error message."""
    probe = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()"
         "['include']); print(sysconfig.get_config_var('EXT_SUFFIX'))"],
        capture_output=True, text=True)
    if probe.returncode != 0:
        return probe.stderr.strip() or "cannot query the Python"
    include, suffix = probe.stdout.split()
    os.makedirs(directory, exist_ok=True)
    cc = os.environ.get("CC", "cc")
    p = subprocess.run([cc, "-O2", "-shared", "-fPIC", "-I" + include,
                        os.path.join(HERE, "nullhook.c"), "-o",
                        os.path.join(directory, "_pyprof_nullhook" + suffix)],
                       capture_output=True, text=True)
    return None if p.returncode == 0 else (p.stderr.strip() or "cc failed")


def decorate_copy(path, func, directory):
    """A copy of workload `path` with @profile on `def func(`; its path."""
    with open(path) as f:
        source = f.read()
    marker = "\ndef %s(" % func
    if marker not in source:
        raise RunError("no function %s in %s" % (func, path))
    source = source.replace(marker, "\n@profile" + marker, 1)
    os.makedirs(directory, exist_ok=True)
    out = os.path.join(directory, os.path.basename(path))
    with open(out, "w") as f:
        f.write(source)
    return out


def subprocess_env():
    env = dict(os.environ)
    env["PYTHONHASHSEED"] = "0"
    if NULLHOOK_DIR:
        env["PYPROF_BENCH_NULLHOOK"] = NULLHOOK_DIR
    for k in ("PYTHONPROFILEIMPORTTIME", "PYTHONTRACEMALLOC", "PYTHONDEVMODE"):
        env.pop(k, None)
    return env


def check_output(tool, out):
    if TOOLS[tool]["output"] and not (os.path.exists(out) and os.path.getsize(out) > 0):
        raise RunError("exit status 0 but no output file written at %s" % out)


# Peak RSS (KiB) of the last process run_proc waited for, from wait4: the
# memory a tool adds is its peak minus plain's.
LAST_MAXRSS = [0]


def run_proc(argv, timeout):
    """Run argv; returns (seconds, stderr).  Waits with os.wait4 so the
    process's own peak RSS is known (LAST_MAXRSS)."""
    with tempfile.TemporaryFile() as err:
        try:
            t0 = time.perf_counter()
            p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err,
                                 env=subprocess_env())
        except OSError as e:
            raise RunError("could not start: %s" % e)
        expired = threading.Event()

        def kill():
            expired.set()
            p.kill()
        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(p.pid, 0)
        finally:
            timer.cancel()
        dt = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    if expired.is_set():
        raise RunError("timed out after %ss" % timeout)
    LAST_MAXRSS[0] = usage.ru_maxrss
    if p.returncode != 0:
        raise RunError("exit status %d\n%s" % (p.returncode, stderr))
    return dt, stderr


def run_inproc(python, tool, workload, tmp, timeout):
    spec = {k: TOOLS[tool][k] for k in ("setup", "start", "stop", "finish")}
    out = os.path.join(tmp, "%s.inproc.out" % tool)
    res = os.path.join(tmp, "result.json")
    for f in (out, res):
        if os.path.exists(f):
            os.unlink(f)
    run_proc([python, "-c", DRIVER, json.dumps(spec), workload, out, res], timeout)
    check_output(tool, out)
    try:
        with open(res) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise RunError("exit status 0 but the driver reported no timings: %s" % e)


# --instructions: whole processes run under valgrind's cachegrind, and a
# run's cost is the instructions it executed (every thread of the process:
# memray's own threads count), not seconds: deterministic, so a shared
# machine's load does not move it.  Set by main.
INSTRUCTIONS = [False]


def count_instructions(argv, timeout, tmp):
    """Run argv under cachegrind; returns the instructions executed."""
    counts = os.path.join(tmp, "cachegrind.out")
    if os.path.exists(counts):
        os.unlink(counts)
    run_proc(["valgrind", "--tool=cachegrind", "--cache-sim=no",
              "--branch-sim=no", "--cachegrind-out-file=" + counts, *argv],
             timeout)
    with open(counts) as f:
        for line in f:
            if line.startswith("summary:"):
                return int(line.split()[1])
    raise RunError("cachegrind wrote no summary")


def run_whole(python, tool, workload, tmp, timeout):
    out = os.path.join(tmp, "%s.whole.out" % tool)
    if os.path.exists(out):
        os.unlink(out)
    argv = TOOLS[tool]["argv"](python, workload, out)
    if INSTRUCTIONS[0]:
        cost = count_instructions(argv, timeout, tmp)
    else:
        cost, _ = run_proc(argv, TOOLS[tool].get("timeout", timeout))
    check_output(tool, out)
    return cost, LAST_MAXRSS[0]


def short_error(msg):
    """The most telling line of a failure, for a table cell."""
    lines = [l.strip() for l in msg.strip().splitlines() if l.strip()]
    line = lines[-1] if lines else "failed"
    line = line.replace("|", "\\|")
    return line if len(line) <= 90 else line[:87] + "..."


def python_label(python):
    try:
        p = subprocess.run([python, "-c", "import sys, platform; print(platform.python_version())"],
                           capture_output=True, text=True, timeout=30)
        if p.returncode == 0:
            return p.stdout.strip()
    except OSError:
        pass
    return python


def split_workload(name):
    """NAME or NAME:FUNC -> (NAME, the function line profilers decorate)."""
    if ":" in name:
        name, func = name.rsplit(":", 1)
        return name, func
    return name, HOT.get(name)


def resolve_workload(name):
    name = split_workload(name)[0]
    if os.path.sep in name or name.endswith(".py"):
        return os.path.abspath(name)
    return os.path.join(WORKLOAD_DIR, name + ".py")


def bench_python(python, label, workloads, tools, args, tmp, failures):
    """Runs everything for one interpreter; returns {workload: {tool: {...}}}."""
    data = {w: {t: {"run": [], "dump": [], "cpu": [], "whole": [], "maxrss": [],
                    "error": None, "whole_error": None} for t in tools} for w in workloads}
    for w in workloads:
        for t in tools:
            if not TOOLS[t].get("inproc", True):
                data[w][t]["error"] = "whole process only"
    paths = {w: resolve_workload(w) for w in workloads}
    global NULLHOOK_DIR
    NULLHOOK_DIR = os.path.join(tmp, "nullhook-%d" % abs(hash(python)))
    nullhook_error = None
    if any(t.startswith("null-") for t in tools):
        nullhook_error = build_nullhook(python, NULLHOOK_DIR)
    version = tuple(int(x) for x in label.split(".")[:2]) \
        if label[:1].isdigit() else (0, 0)
    decorated = {}
    for w in workloads:
        func = split_workload(w)[1]
        if func is None:
            continue
        try:
            decorated[w] = decorate_copy(paths[w], func,
                                         os.path.join(tmp, "decorated", w.replace(":", "-")))
        except (OSError, RunError) as e:
            decorated[w] = None
            print("!! %s: %s" % (w, e), file=sys.stderr)
    for w in workloads:
        for t in tools:
            spec = TOOLS[t]
            why = None
            if spec.get("requires") and version < spec["requires"]:
                why = "needs Python %d.%d+" % spec["requires"]
            elif spec.get("decorate") and not decorated.get(w):
                why = "no function to decorate"
            elif t.startswith("null-") and nullhook_error:
                why = "nullhook.c did not build"
            if why:
                data[w][t]["error"] = data[w][t]["whole_error"] = why

    def path_for(w, t):
        return decorated[w] if TOOLS[t].get("decorate") else paths[w]

    def record_failure(w, t, kind, e):
        key = "error" if kind == "in-process" else "whole_error"
        data[w][t][key] = short_error(str(e))
        failures.append((label, w, t, kind))
        print("\n!! %s %s %s (%s) failed: %s" % (label, w, t, kind, str(e).rstrip()),
              file=sys.stderr)

    for w in workloads:
        if INSTRUCTIONS[0]:
            break       # no in-process runs, no warm-up: counts do not drift
        try:
            run_inproc(python, "plain", paths[w], tmp, args.timeout)  # warm-up
        except RunError as e:
            record_failure(w, "plain", "in-process", e)
    for r in range(args.rounds):
        print("[%s] round %d/%d:" % (label, r + 1, args.rounds), end="", file=sys.stderr,
              flush=True)
        for w in workloads:
            print(" " + w, end="", file=sys.stderr, flush=True)
            for t in tools:
                d = data[w][t]
                if (d["error"] is None and TOOLS[t].get("inproc", True)
                        and not INSTRUCTIONS[0]):
                    try:
                        res = run_inproc(python, t, path_for(w, t), tmp, args.timeout)
                        for k in ("run", "dump", "cpu"):
                            d[k].append(res[k])
                    except RunError as e:
                        record_failure(w, t, "in-process", e)
                if r < args.whole_rounds and TOOLS[t]["argv"] and d["whole_error"] is None:
                    try:
                        dt, maxrss = run_whole(python, t, path_for(w, t), tmp, args.timeout)
                        d["whole"].append(dt)
                        d["maxrss"].append(maxrss)
                    except RunError as e:
                        record_failure(w, t, "whole-process", e)
        print(file=sys.stderr, flush=True)
    return data


def med(xs):
    return statistics.median(xs) if xs else None


def ratio_cell(d, base, key, err_key):
    if d[err_key]:
        return "n/a (error: %s)" % d[err_key]
    m = med(d[key])
    if m is None or not base:
        return "n/a"
    return "%.2f" % (m / base)


def print_tables(results, tools, whole_rounds):
    others = [t for t in tools if t != "plain"]

    def header(first):
        cols = ["python", "workload", first] + ["%s ×" % t for t in others]
        print("| " + " | ".join(cols) + " |")
        print("|" + "---|" * len(cols))

    if INSTRUCTIONS[0]:
        print_whole(results, tools, others)
        return
    print("### Overhead, in-process (workload wall time only; tool median / plain median)\n")
    header("plain s")
    for label, data in results:
        for w, row in data.items():
            p = row["plain"]
            base = None if p["error"] else med(p["run"])
            cells = [label, w, "n/a (error: %s)" % p["error"] if p["error"] else "%.3f" % base]
            cells += [ratio_cell(row[t], base, "run", "error") for t in others]
            print("| " + " | ".join(cells) + " |")

    print("\n### Details, in-process: median [min–max] seconds of the workload, + median time of writing the output\n")
    cols = ["python", "workload"] + ["%s s" % t for t in tools]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for label, data in results:
        for w, row in data.items():
            cells = [label, w]
            for t in tools:
                d = row[t]
                if d["error"]:
                    cells.append("n/a")
                elif not d["run"]:
                    cells.append("n/a")
                else:
                    c = "%.3f [%.3f–%.3f]" % (med(d["run"]), min(d["run"]), max(d["run"]))
                    if TOOLS[t]["output"]:
                        c += " + dump %.1f ms" % (1000 * med(d["dump"]))
                    cells.append(c)
            print("| " + " | ".join(cells) + " |")

    if "kernprof" in tools and "pyprof-lines" in tools:
        print("\n### pyprof lines vs kernprof -l, in-process (goal: at most 0.40)\n")
        print("share = pyprof-lines ratio / kernprof ratio; extra-cost share = "
              "(pyprof-lines ratio - 1) / (kernprof ratio - 1), the part of "
              "kernprof's added time pyprof adds.  Where kernprof costs less "
              "than 2.5x, a share of 0.40 would need a ratio below 1.\n")
        print("| python | workload | kernprof × | pyprof-lines × | share | extra-cost share |")
        print("|---|---|---|---|---|---|")
        for label, data in results:
            for w, row in data.items():
                p = row["plain"]
                base = None if p["error"] else med(p["run"])
                k, l = row["kernprof"], row["pyprof-lines"]
                if base and not k["error"] and not l["error"] and k["run"] and l["run"]:
                    rk, rl = med(k["run"]) / base, med(l["run"]) / base
                    extra = "%.2f" % ((rl - 1) / (rk - 1)) if rk > 1 else "n/a"
                    print("| %s | %s | %.2f | %.2f | %.2f | %s |"
                          % (label, w, rk, rl, rl / rk, extra))

    floors = [(t, f) for t, f in (("pyprof", "null-profile"),
                                  ("pyprof-lines", "null-monitoring"))
              if t in tools and f in tools]
    if floors:
        print("\n### pyprof against the floor of its hook, in-process (tool "
              "median / floor median; goal: at most 1.10)\n")
        print("The floor is the same sys.monitoring events (below 3.12 the "
              "same profile or trace hook) with a C callback that does "
              "nothing: what any profiler built on that hook pays.\n")
        print("| python | workload | " + " | ".join(
            "%s / %s" % tf for tf in floors) + " |")
        print("|---|---|" + "---|" * len(floors))
        for label, data in results:
            for w, row in data.items():
                cells = [label, w]
                for t, f in floors:
                    a, b = row[t], row[f]
                    ok = not a["error"] and not b["error"] and a["run"] and b["run"]
                    cells.append("%.3f" % (med(a["run"]) / med(b["run"]))
                                 if ok else "n/a")
                print("| " + " | ".join(cells) + " |")

    if whole_rounds > 0:
        print_whole(results, tools, others)


# The goal of issue #11: pyprof memory costs at most what memray
# --trace-python-allocators costs, and at most what memory_profiler costs
# where memory_profiler finishes.
GOAL_TOOLS = ("pyprof_memory", "memray_python", "memory_profiler")


def whole_ratio(row, tool):
    """tool's whole-process median / plain's, or None."""
    p, d = row["plain"], row[tool]
    if p["whole_error"] or d["whole_error"] or not p["whole"] or not d["whole"]:
        return None
    return med(d["whole"]) / med(p["whole"])


def print_goal(results, tools):
    if not all(t in tools for t in GOAL_TOOLS):
        return
    unit = "instructions" if INSTRUCTIONS[0] else "wall clock"
    print("\n### The goal (issue #11), whole process, %s: pyprof memory at most "
          "memray --trace-python-allocators, and at most memory_profiler where it "
          "finishes\n" % unit)
    print("| python | workload | pyprof memory × | memray --trace-python-allocators × "
          "| memory_profiler × | met |")
    print("|---|---|---|---|---|---|")
    for label, data in results:
        for w, row in data.items():
            r = {t: whole_ratio(row, t) for t in GOAL_TOOLS}
            cells = [label, w] + [
                "%.2f" % r[t] if r[t] is not None
                else "n/a (%s)" % (row[t]["whole_error"] or "no run")
                for t in GOAL_TOOLS]
            mine = r["pyprof_memory"]
            met = mine is not None and r["memray_python"] is not None and \
                mine <= r["memray_python"] and \
                (r["memory_profiler"] is None or mine <= r["memory_profiler"])
            print("| " + " | ".join(cells + ["yes" if met else "NO"]) + " |")


def print_whole(results, tools, others):
    wtools = [t for t in others if TOOLS[t]["argv"]]
    how = " vs ".join("`%s`" % " ".join(TOOLS[t]["argv"]("python", "W.py", "F"))
                      for t in ["plain"] + wtools)
    print("\n### Whole process (%s; includes start-up and writing F)\n" % how)
    unit = "plain Minstr" if INSTRUCTIONS[0] else "plain s"
    cols = ["python", "workload", unit] + ["%s ×" % t for t in wtools]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for label, data in results:
        for w, row in data.items():
            p = row["plain"]
            base = None if p["whole_error"] else med(p["whole"])
            cells = [label, w, "n/a (error: %s)" % p["whole_error"] if p["whole_error"]
                     else "%.0f" % (base / 1e6) if INSTRUCTIONS[0] else "%.3f" % base]
            cells += [ratio_cell(row[t], base, "whole", "whole_error") for t in wtools]
            print("| " + " | ".join(cells) + " |")

    print_goal(results, tools)
    if INSTRUCTIONS[0]:
        return      # valgrind's own memory would be in every peak
    print("\n### Peak RSS of the whole process (MiB, median; + what the tool adds "
          "over plain).  wait4 reports the larger of a process and the children it "
          "reaped: mprof's is its program's (a child it starts) or its own.\n")
    cols = ["python", "workload", "plain MiB"] + ["%s" % t for t in wtools]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for label, data in results:
        for w, row in data.items():
            base = med(row["plain"]["maxrss"])
            cells = [label, w, "%.1f" % (base / 1024) if base else "n/a"]
            for t in wtools:
                m = med(row[t]["maxrss"])
                cells.append("%.1f (+%.1f)" % (m / 1024, (m - base) / 1024)
                             if m and base else "n/a")
            print("| " + " | ".join(cells) + " |")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workloads", nargs="+", default=DEFAULT_WORKLOADS,
                    help="names in bench/workloads/ or paths to scripts (default: %(default)s)")
    ap.add_argument("--rounds", type=int, default=None,
                    help="in-process rounds (default 5; with --sampling 2)")
    ap.add_argument("--whole-rounds", type=int, default=3,
                    help="rounds that also time whole processes (default 3; 0 = skip)")
    ap.add_argument("--python", nargs="+", default=[sys.executable], metavar="PATH",
                    help="interpreters to bench, each with pyprof installed (default: this one)")
    ap.add_argument("--memory", action="store_true",
                    help="bench the memory tools on the memory workloads (%s on %s)"
                    % (", ".join(MEMORY_TOOLS), ", ".join(MEMORY_WORKLOADS)))
    ap.add_argument("--instructions", action="store_true",
                    help="whole processes only, each run under valgrind (cachegrind): "
                         "ratios of instructions executed, not of seconds")
    ap.add_argument("--scale", type=float, default=1.0, metavar="F",
                    help="the memory workloads do F times their work "
                         "(PYPROF_BENCH_SCALE; e.g. 0.1 with --instructions)")
    ap.add_argument("--tools", nargs="+",
                    choices=[t for t in TOOLS if t != "plain"],
                    help="tools to compare with plain (default: every line/function tool, "
                         "or with --memory every memory tool)")
    ap.add_argument("--timeout", type=float, default=300, help="seconds per run (default 300)")
    ap.add_argument("--json", metavar="FILE", help="also write every raw timing to FILE")
    ap.add_argument("--heap-objects", type=int, default=2_000_000, metavar="N",
                    help="objgraph vs pyprof show_growth() on a heap of N objects "
                         "(bench/heap_growth.py; 0 to skip)")
    ap.add_argument("--sampling", action="store_true",
                    help="sampling profilers instead (bench/sampling.py: py-spy, Austin, "
                         "pyprof record on self-timed workloads)")
    ap.add_argument("--slowdown", action="store_true",
                    help="a sampler's slowdown of one target process, attached and detached "
                         "in turns (bench/slowdown.py)")
    args, rest = ap.parse_known_args(argv)
    if args.slowdown:
        import slowdown
        return slowdown.main(["--python", *args.python]
                             + (["--workloads", *args.workloads]
                                if args.workloads != DEFAULT_WORKLOADS else [])
                             + rest)
    if args.sampling:
        import sampling
        return sampling.main(["--python", *args.python]
                             + (["--rounds", str(args.rounds)] if args.rounds else [])
                             + (["--workloads", *args.workloads]
                                if args.workloads != DEFAULT_WORKLOADS else [])
                             + rest)
    if args.rounds is None:
        args.rounds = 5
    if rest:
        ap.error("unrecognized arguments: %s" % " ".join(rest))
    if args.tools is None:
        args.tools = MEMORY_TOOLS if args.memory else [
            t for t in TOOLS if t != "plain" and t not in MEMORY_TOOLS]
    if args.memory:
        if args.workloads == DEFAULT_WORKLOADS:
            args.workloads = MEMORY_WORKLOADS
        args.whole_rounds = args.rounds
    if args.instructions:
        INSTRUCTIONS[0] = True
        args.whole_rounds = args.rounds
    if args.scale != 1.0:
        os.environ["PYPROF_BENCH_SCALE"] = repr(args.scale)
    if args.rounds < 1:
        ap.error("--rounds must be >= 1")
    args.whole_rounds = min(max(args.whole_rounds, 0), args.rounds)
    for w in args.workloads:
        if not os.path.exists(resolve_workload(w)):
            ap.error("no such workload: %s" % w)
    tools = ["plain"] + [t for t in TOOLS if t in args.tools]

    failures = []
    results = []
    tmp = tempfile.mkdtemp(prefix="pyprof-bench-")
    t_start = time.perf_counter()
    try:
        for py in args.python:
            label = python_label(py)
            results.append((label, bench_python(py, label, args.workloads, tools, args, tmp,
                                                failures)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print()
    print_tables(results, tools, args.whole_rounds)
    print("\n%d in-process rounds, %d whole-process rounds, %.0f s total. "
          "Ratios: lower is better, 1.00 = no overhead."
          % (args.rounds, args.whole_rounds, time.perf_counter() - t_start))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"pythons": [{"python": py, "version": label, "workloads": data}
                                   for py, (label, data) in zip(args.python, results)],
                       "rounds": args.rounds, "whole_rounds": args.whole_rounds}, f, indent=1)
    if args.heap_objects > 0:
        # The heap census is not an overhead ratio: objgraph and pyprof time
        # the same call on the same heap, side by side in one process.
        for py in args.python:
            print()
            done = subprocess.run([py, os.path.join(HERE, "heap_growth.py"),
                                   "--objects", str(args.heap_objects)],
                                  env=subprocess_env(), timeout=args.timeout * 4)
            if done.returncode != 0:
                failures.append((python_label(py), "heap", "show_growth",
                                 "exit %d" % done.returncode))
    if failures:
        print("\n%d failed run(s): %s" % (len(failures), "; ".join(
            "%s %s %s (%s)" % f for f in failures)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
