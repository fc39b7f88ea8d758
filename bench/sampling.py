"""Sampling profilers side by side: `make bench` runs this through
`bench/run.py --sampling`.

Each workload times itself (bench/sampling.py --target runs its main()
until about --seconds have passed, then prints its own elapsed wall time
and CPU time), so a sampler's start-up is not counted in the slowdown.
Each round runs every tool once, interleaved: plain, py-spy record
--nonblocking at 100 Hz and 1 kHz, Austin 3 (`austin-dist<4`) at 1 ms and
100 us, pyprof record at 100 Hz, 1 kHz and 10 kHz.  Columns:

  slowdown     the target's self-timed time per call of the workload's
               main() / plain's (median of rounds)
  CPU/1k       the sampler's own CPU seconds per 1,000 samples: the tool's
               rusage (it waits for the target, so that includes it) minus
               the CPU the target reports for itself; the tool's start-up
               is included (pyprof's is a Python start-up)
  taken        samples (py-spy: counts in its raw output; Austin: sample
               lines; pyprof: its summary) / rate x target elapsed

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
WORKLOADS = ["julia", "calls", "mixed"]


def target_main(path, seconds):
    """Run the workload's main() repeatedly for about `seconds`."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("workload", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cpu0, t0 = time.process_time(), time.perf_counter()
    runs = 0
    while runs == 0 or time.perf_counter() - t0 < seconds:
        module.main()
        runs += 1
    elapsed = time.perf_counter() - t0
    print("SELF elapsed %.6f cpu %.6f runs %d"
          % (elapsed, time.process_time(), runs), file=sys.stderr)


def tools(python, out):
    bindir = os.path.dirname(python)
    spy = os.path.join(bindir, "py-spy")
    austin = os.path.join(bindir, "austin")
    t = {"plain": (None, lambda argv: argv)}
    if os.path.exists(spy):
        for hz in (100, 1000):
            t["py-spy %d Hz" % hz] = (hz, lambda argv, hz=hz: [
                spy, "record", "--nonblocking", "-r", str(hz), "-f", "raw",
                "-o", out, "--"] + argv)
    if os.path.exists(austin):
        for us, label in ((1000, "1 ms"), (100, "100 us")):
            t["austin %s" % label] = (1e6 / us, lambda argv, us=us: [
                austin, "-i", "%dus" % us, "-o", out] + argv)
    for hz in (100, 1000, 10000):
        t["pyprof %d Hz" % hz] = (hz, lambda argv, hz=hz: [
            python, "-m", "pyprof", "record", "-r", str(hz), "-o", out,
            "--"] + argv)
    return t


def count_samples(tool, out, stderr):
    if tool.startswith("pyprof"):
        m = re.search(r"pyprof record: (\d+) samples", stderr)
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


def run_once(python, workload, seconds, tool, argv_of, out):
    if os.path.exists(out):
        os.remove(out)
    argv = argv_of([python, os.path.abspath(__file__), "--target",
                    workload, "--seconds", str(seconds)])
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    stderr = proc.stderr.read()
    proc.stderr.close()
    proc.returncode = status
    m = re.search(r"SELF elapsed ([\d.]+) cpu ([\d.]+) runs (\d+)", stderr)
    if m is None:
        return {"error": stderr.strip().splitlines()[-1:] or ["no output"]}
    elapsed, target_cpu = float(m.group(1)), float(m.group(2))
    tool_cpu = usage.ru_utime + usage.ru_stime
    return {"elapsed": elapsed, "per_run": elapsed / int(m.group(3)),
            "sampler_cpu": max(tool_cpu - target_cpu, 0),
            "samples": count_samples(tool, out, stderr)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", help=argparse.SUPPRESS)
    ap.add_argument("--python", nargs="+", default=[sys.executable])
    ap.add_argument("--workloads", nargs="+", default=WORKLOADS)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=2.0,
                    help="self-timed length of each run (default 2)")
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
            table = tools(py, out)
            for w in args.workloads:
                cell = results.setdefault("%s %s" % (version, w), {})
                for r in range(args.rounds):
                    for name, (rate, argv_of) in table.items():
                        res = run_once(py, w, args.seconds, name, argv_of,
                                       out)
                        res["rate"] = rate
                        cell.setdefault(name, []).append(res)
                        print("%s %s round %d %-14s %s" % (version, w, r,
                              name, json.dumps(res)), file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print_table(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


def print_table(results):
    print("%-14s %-14s %9s %8s %8s" % ("python/work", "tool", "slowdown",
                                       "CPU/1k", "taken"))
    for key, cell in results.items():
        plain = [r["per_run"] for r in cell.get("plain", []) if "elapsed" in r]
        base = statistics.median(plain) if plain else None
        for name, runs in cell.items():
            ok = [r for r in runs if "elapsed" in r]
            if not ok:
                print("%-14s %-14s %s" % (key, name, runs[0].get("error")))
                continue
            slow = statistics.median(r["per_run"] for r in ok) / base
            if name == "plain":
                print("%-14s %-14s %9s %8s %8s" % (key, name, "1.00", "-",
                                                   "-"))
                continue
            per = [r["sampler_cpu"] / r["samples"] * 1000 for r in ok
                   if r.get("samples")]
            taken = [r["samples"] / (r["rate"] * r["elapsed"]) for r in ok
                     if r.get("samples") is not None]
            print("%-14s %-14s %8.3fx %7.3fs %7.1f%%" % (
                key, name, slow,
                statistics.median(per) if per else float("nan"),
                100 * statistics.median(taken) if taken else float("nan")))


if __name__ == "__main__":
    sys.exit(main())
