"""Sampling profilers side by side: `make bench` runs this through
`bench/run.py --sampling`.

Each workload times itself (bench/sampling.py --target runs its main()
until about --seconds have passed, then prints its own elapsed wall time
and CPU time), so a sampler's start-up is not counted in the slowdown.
Every tool attaches to the running target (--pid / -p), which starts its
timed loop 0.4 s later, and stops when the target exits: the tool's
rusage (os.wait4) is then its own CPU alone.
Each round runs every tool once, interleaved: plain, py-spy record
--nonblocking at 100 Hz and 1 kHz, Austin 3 (`austin-dist<4`) at 1 ms and
100 us, pyprof record at 100 Hz, 1 kHz and 10 kHz, and the floor
(bench/floorsampler.c, built here with cc: one process_vm_readv of 2 KiB
per period plus the sleep, nothing interpreted) at 1 kHz and 10 kHz.
Columns:

  slowdown     the target's self-timed time per call of the workload's
               main() / plain's (median of rounds)
  CPU/1k       the sampler's own CPU seconds per 1,000 samples: the tool's
               rusage (it waits for the target, so that includes it) minus
               the CPU the target reports for itself; the tool's start-up
               is included (pyprof's is a Python start-up)
  taken        samples (py-spy: counts in its raw output; Austin: sample
               lines; pyprof: its summary) / rate x target elapsed

--together attaches every tool (not plain) at once to one running target,
for --short and then --seconds whole seconds: each tool's marg/1k comes
from the same moments and the same load as the others' (on a shared
machine the load changes more between two sequential runs than the tools
differ), at the price of the tools competing for the CPUs; no slowdown.

The machine this runs on may be shared: use few rounds and read ratios.
"""
import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = ["julia", "calls"]


def target_main(path, seconds):
    """Say READY, wait for a line on stdin (the sampler attaches
    meanwhile), then run the workload's main() repeatedly for about
    `seconds`."""
    import ctypes
    import importlib.util
    try:    # let a sibling sampler read us under Yama ptrace_scope 1
        ctypes.CDLL(None).prctl(0x59616d61, ctypes.c_ulong(-1), 0, 0, 0)
    except Exception:
        pass
    spec = importlib.util.spec_from_file_location("workload", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    print("READY", file=sys.stderr, flush=True)
    sys.stdin.readline()
    cpu0, t0 = time.process_time(), time.perf_counter()
    runs = 0
    while runs == 0 or time.perf_counter() - t0 < seconds:
        module.main()
        runs += 1
    elapsed = time.perf_counter() - t0
    print("SELF elapsed %.6f cpu %.6f runs %d"
          % (elapsed, time.process_time(), runs), file=sys.stderr)


def tools(python, out, seconds=None):
    """{name: (rate, argv of the tool attaching to a pid)}; every tool
    stops when its target exits, or after `seconds` (whole seconds: py-spy
    and Austin take no fraction).  `out(name)` is the tool's output."""
    bindir = os.path.dirname(python)
    spy = os.path.join(bindir, "py-spy")
    austin = os.path.join(bindir, "austin")
    t = {"plain": (None, None)}
    for_s = lambda *flag: [*flag, str(seconds)] if seconds else []
    if os.path.exists(spy):
        for hz in (100, 1000):
            name = "py-spy %d Hz" % hz
            t[name] = (hz, lambda pid, hz=hz, name=name: [
                spy, "record", "--nonblocking", "-r", str(hz), "-f", "raw",
                *for_s("-d"), "-o", out(name), "--pid", str(pid)])
    if os.path.exists(austin):
        for us, label in ((1000, "1 ms"), (100, "100 us")):
            name = "austin %s" % label
            t[name] = (1e6 / us, lambda pid, us=us, name=name: [
                austin, "-i", "%dus" % us, *for_s("-x"), "-o", out(name),
                "-p", str(pid)])
    floor = build_floor(os.path.dirname(out("floor")))
    for hz in (1000, 10000) if floor else ():
        t["floor %d Hz" % hz] = (hz, lambda pid, hz=hz: [
            floor, str(pid), str(hz)] + (["1", "2048", str(seconds)]
                                         if seconds else []))
    for hz in (100, 1000, 10000):
        name = "pyprof %d Hz" % hz
        t[name] = (hz, lambda pid, hz=hz, name=name: [
            python, "-m", "pyprof", "record", "-r", str(hz), *for_s("-d"),
            "-o", out(name), "--pid", str(pid)])
    return t


def build_floor(tmp):
    """bench/floorsampler.c compiled into tmp; None without a compiler."""
    cc = shutil.which(os.environ.get("CC", "cc"))
    exe = os.path.join(tmp, "floorsampler")
    if os.path.exists(exe):
        return exe
    if cc is None or subprocess.run(
            [cc, "-O2", "-o", exe, os.path.join(HERE, "floorsampler.c")],
            capture_output=True).returncode != 0:
        return None
    return exe


def count_samples(tool, out, stderr):
    if tool.startswith("floor"):
        m = re.search(r"floor: (\d+) rounds", stderr)
        return int(m.group(1)) if m else None
    if tool.startswith("pyprof"):
        m = re.search(r"pyprof record: (\d+) samples?\b", stderr)
        return int(m.group(1)) if m else None
    if not os.path.exists(out):
        return None
    n = 0
    with open(out, errors="replace") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            if tool.startswith("py-spy"):
                n += int(line.rsplit(" ", 1)[1])
            else:
                n += 1      # Austin writes one line per sample
    return n


ATTACH_SECONDS = 0.4    # the tool's start-up and attach, before "go"


def run_once(python, workload, seconds, tool, argv_of, out):
    """Start the self-timed target, attach the tool to it, let the target
    run; the tool ends with the target.  The tool's CPU is its own
    (os.wait4 of the tool: the target is not its child)."""
    if os.path.exists(out):
        os.remove(out)
    target = subprocess.Popen(
        [python, os.path.abspath(__file__), "--target", workload,
         "--seconds", str(seconds)], stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    ready = target.stderr.readline()
    proc = None
    if ready.strip() == "READY" and argv_of is not None:
        proc = subprocess.Popen(argv_of(target.pid), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        time.sleep(ATTACH_SECONDS)
    try:
        target.stdin.write("go\n")
        target.stdin.close()
    except OSError:
        pass
    target_err = target.stderr.read()
    target.wait()
    stderr, tool_cpu = "", 0.0
    if proc is not None:
        stderr = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.stderr.close()
        proc.returncode = status
        tool_cpu = usage.ru_utime + usage.ru_stime
    m = re.search(r"SELF elapsed ([\d.]+) cpu ([\d.]+) runs (\d+)", target_err)
    if m is None:
        return {"error": (target_err + stderr).strip().splitlines()[-1:]
                or ["no output"]}
    elapsed = float(m.group(1))
    return {"elapsed": elapsed, "per_run": elapsed / int(m.group(3)),
            "sampler_cpu": tool_cpu,
            "samples": count_samples(tool, out, stderr)}


def run_together(python, workload, tables, out):
    """The tools of tables["short"] = (seconds, table), then those of
    tables["long"] (the same tools for more seconds), each set at once on one running
    target: {tool: {"rate", "short"/"long": {"sampler_cpu", "seconds",
    "samples"}}}.  The tools see the same moments and the same load."""
    target = subprocess.Popen(
        [python, os.path.abspath(__file__), "--target", workload,
         "--seconds", "1e9"], stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    res = {}
    try:
        if target.stderr.readline().strip() != "READY":
            return {}
        target.stdin.write("go\n")
        target.stdin.close()
        time.sleep(ATTACH_SECONDS)
        for length, (secs, table) in tables.items():
            procs = {name: subprocess.Popen(
                argv_of(target.pid), stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, text=True)
                for name, (rate, argv_of) in table.items()}
            for name, proc in procs.items():
                stderr = proc.stderr.read()
                _, status, usage = os.wait4(proc.pid, 0)
                proc.stderr.close()
                res.setdefault(name, {"rate": table[name][0]})[length] = {
                    "sampler_cpu": usage.ru_utime + usage.ru_stime,
                    "seconds": secs,
                    "samples": count_samples(name, out(name), stderr)}
    finally:
        target.kill()
        target.wait()
    return res


def print_together(results):
    print("%-14s %-16s %8s %8s" % ("python/work", "tool", "marg/1k",
                                   "taken"))
    for key, cell in results.items():
        marg = {}
        for name, runs in cell.items():
            ms = [m for m in (marginal(r) for r in runs) if m is not None]
            taken = [r["long"]["samples"] / (r["rate"] * r["long"]["seconds"])
                     for r in runs if r["long"].get("samples") is not None]
            if ms:
                marg[name] = statistics.median(ms)
            print("%-14s %-16s %7.4fs %7.1f%%" % (
                key, name, marg.get(name, float("nan")),
                100 * statistics.median(taken) if taken else float("nan")))
        for mine, other in VERSUS:
            if mine in marg and other in marg and marg[other] > 0:
                print("%-14s marginal CPU per sample, %s / %s: %.2f (rounds:"
                      " %s)" % (key, mine, other, marg[mine] / marg[other],
                                " ".join("%.2f" % (a / b) for a, b in zip(
                                    [marginal(r) or float("nan")
                                     for r in cell[mine]],
                                    [marginal(r) or float("nan")
                                     for r in cell[other]]))))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", help=argparse.SUPPRESS)
    ap.add_argument("--python", nargs="+", default=[sys.executable])
    ap.add_argument("--workloads", nargs="+", default=WORKLOADS)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=1.5,
                    help="self-timed length of the long runs (default 1.5)")
    ap.add_argument("--short", type=float, default=0.5,
                    help="self-timed length of the short runs, for the "
                         "CPU per sample without start-up (default 0.5)")
    ap.add_argument("--samplers", nargs="+", metavar="NAME",
                    help="only the tools whose name starts with one of these "
                         "(py-spy, austin, pyprof, floor; plain always runs)")
    ap.add_argument("--together", action="store_true",
                    help="attach every tool at once to one running target, "
                         "for --short and --seconds rounded to whole seconds "
                         "(at least 1 and 2; e.g. --short 1 --seconds 4): "
                         "the same moments and load for all; no slowdown "
                         "column")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args(argv)
    if args.target:
        target_main(os.path.join(HERE, "workloads", args.target + ".py"),
                    args.seconds)
        return 0
    tmp = tempfile.mkdtemp(prefix="pyprof-sampling-")
    out = os.path.join(tmp, "out")
    results = {}
    try:
        for py in args.python:
            version = subprocess.run(
                [py, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True, text=True).stdout.strip()
            secs = (max(1, round(args.short)),
                    max(2, round(args.seconds))) if args.together else None
            out_of = ((lambda name: out + "-" + name.replace(" ", "-"))
                      if args.together else (lambda name: out))
            table = {name: tool for name, tool in tools(
                         py, out_of, secs and secs[1]).items()
                     if name == "plain" or not args.samplers
                     or any(name.startswith(p) for p in args.samplers)}
            for w in args.workloads:
                cell = results.setdefault("%s %s" % (version, w), {})
                for r in range(args.rounds):
                    if args.together:
                        res = run_together(py, w, {
                            length: (length_secs, {n: t for n, t in tools(
                                py, out_of, length_secs).items()
                                if n in table and n != "plain"})
                            for length, length_secs in zip(
                                ("short", "long"), secs)}, out_of)
                        for name, runs in res.items():
                            cell.setdefault(name, []).append(runs)
                            print("%s %s round %d %-14s %s" % (
                                version, w, r, name, json.dumps(runs)),
                                file=sys.stderr)
                        continue
                    for name, (rate, argv_of) in table.items():
                        res = {}
                        for length, seconds in (("short", args.short),
                                                ("long", args.seconds)):
                            res[length] = run_once(py, w, seconds, name,
                                                   argv_of, out)
                        res["rate"] = rate
                        cell.setdefault(name, []).append(res)
                        print("%s %s round %d %-14s %s" % (version, w, r,
                              name, json.dumps(res)), file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    (print_together if args.together else print_table)(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


def marginal(res):
    """Sampler CPU s per 1,000 samples between the short and long run."""
    short, long_ = res.get("short", {}), res.get("long", {})
    if not (short.get("samples") and long_.get("samples")) \
            or long_["samples"] <= short["samples"]:
        return None
    return ((long_["sampler_cpu"] - short["sampler_cpu"])
            / (long_["samples"] - short["samples"]) * 1000)


def summarize(cell):
    """{tool: (slowdown, CPU/1k, marginal CPU/1k, taken)} of one cell."""
    plain = [r["long"]["per_run"] for r in cell.get("plain", [])
             if "elapsed" in r["long"]]
    base = statistics.median(plain) if plain else None
    rows = {}
    for name, runs in cell.items():
        ok = [r for r in runs if "elapsed" in r["long"]]
        if not ok or base is None:
            rows[name] = None
            continue
        slow = statistics.median(r["long"]["per_run"] for r in ok) / base
        per = [r["long"]["sampler_cpu"] / r["long"]["samples"] * 1000
               for r in ok if r["long"].get("samples")]
        marg = [m for m in (marginal(r) for r in ok) if m is not None]
        taken = [r["long"]["samples"] / (r["rate"] * r["long"]["elapsed"])
                 for r in ok if r["rate"] and r["long"].get("samples")
                 is not None]
        med = lambda xs: statistics.median(xs) if xs else float("nan")
        rows[name] = (slow, med(per), med(marg), med(taken))
    return rows


# pyprof's marginal CPU per sample against the others' at the same rate
VERSUS = [("pyprof 1000 Hz", "py-spy 1000 Hz"),
          ("pyprof 100 Hz", "py-spy 100 Hz"),
          ("pyprof 1000 Hz", "austin 1 ms"),
          ("pyprof 10000 Hz", "austin 100 us"),
          ("austin 1 ms", "floor 1000 Hz"),
          ("pyprof 1000 Hz", "floor 1000 Hz"),
          ("austin 100 us", "floor 10000 Hz"),
          ("pyprof 10000 Hz", "floor 10000 Hz")]


def print_table(results):
    print("%-14s %-16s %9s %8s %8s %8s" % ("python/work", "tool", "slowdown",
                                           "CPU/1k", "marg/1k", "taken"))
    for key, cell in results.items():
        rows = summarize(cell)
        for name, row in rows.items():
            if row is None:
                first = cell[name][0]
                print("%-14s %-16s %s" % (key, name, first["long"].get(
                    "error") or first["short"].get("error")))
            elif name == "plain":
                print("%-14s %-16s %9s %8s %8s %8s" % (key, name, "1.00",
                                                       "-", "-", "-"))
            else:
                print("%-14s %-16s %8.3fx %7.3fs %7.4fs %7.1f%%" % (
                    key, name, row[0], row[1], row[2], 100 * row[3]))
        for mine, other in VERSUS:
            if rows.get(mine) and rows.get(other):
                print("%-14s marginal CPU per sample, %s / %s: %.2f" % (
                    key, mine, other, rows[mine][2] / rows[other][2]))


if __name__ == "__main__":
    sys.exit(main())
