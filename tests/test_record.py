"""pyprof record: sampling a program from outside.

Oracles: `pyprof run`'s tottime (each function's share of the samples must
be within 2 percentage points of its share of the deterministic profile,
for every function above 5%), py-spy sampling the same process at the same
time (the top functions agree), go tool pprof reading the pprof output,
pstats reading the recording file.  Targets: a sibling process started by
the test (not by pyprof), children started by pyprof, every CPython found
(pyenv 3.10-3.13) and 3.14/3.15 in the sid chroot when it exists."""
import glob
import math
import os
import pstats
import re
import shutil
import subprocess
import sys
import time

import pytest

from conftest import ROOT, run_pyprof

# Two functions burning CPU 70/30, with few calls (so pyprof run's
# per-call cost does not move the split), for SECONDS of wall time.
SPLIT = """
import sys, time

def burn_a(n):
    s = 0
    for i in range(n):
        s += i * i
    return s

def burn_b(n):
    s = 0
    for i in range(n):
        s += i * i
    return s

def main(seconds):
    t = time.perf_counter()
    while time.perf_counter() - t < seconds:
        burn_a(70000)
        burn_b(30000)

main(float(sys.argv[1]) if len(sys.argv) > 1 else 3.0)
"""

# A sibling that lets any process read it (as ptrace_scope 1 requires of
# a non-child when not root), says it is ready, then burns CPU.
SIBLING = """
import ctypes, sys, time
try:
    ctypes.CDLL(None).prctl(0x59616d61, ctypes.c_ulong(-1), 0, 0, 0)
except Exception:
    pass
def spin_here(n):
    s = 0
    for i in range(n):
        s += i
    return s
def main():
    print("ready", flush=True)
    t = time.perf_counter()
    while time.perf_counter() - t < float(sys.argv[1]):
        spin_here(50000)
main()
"""

# The same, timing its own calls: prints burn_a's true share of the two.
SPLIT_TIMED = SPLIT.replace("""        burn_a(70000)
        burn_b(30000)
""", """        t0 = time.perf_counter()
        burn_a(70000)
        t1 = time.perf_counter()
        burn_b(30000)
        t2 = time.perf_counter()
        shares[0] += t1 - t0
        shares[1] += t2 - t1
    print("true share %.4f" % (shares[0] / sum(shares)), file=sys.stderr)
    print("timed share %.4f" % (sum(shares) / (time.perf_counter() - t)),
          file=sys.stderr)
""").replace("def main(seconds):", "def main(seconds):\n    shares = [0.0, 0.0]")

SUMMARY = re.compile(r"pyprof record: (\d+) samples? in ([\d.]+) s from (\d+) "
                     r"process(?:es)? at ([\d.]+) Hz: (\d+) of (\d+) expected")


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def summary(stderr):
    m = SUMMARY.search(stderr)
    assert m, stderr
    return {"samples": int(m.group(1)), "processes": int(m.group(3)),
            "taken": int(m.group(5)), "expected": int(m.group(6))}


def own_shares(path, filename=None):
    """{function name: share of samples as innermost frame} of a recording,
    read with pstats (cc = own samples); with `filename`, shares among the
    samples whose innermost frame is in that file."""
    st = pstats.Stats(str(path)).stats
    own = {key: v[0] for key, v in st.items()
           if filename is None or key[0] == str(filename)}
    total = sum(own.values()) or 1
    return {key[2]: n / total for key, n in own.items()
            if key[0] != "~"}, st


def tottime_shares(path, filename, seconds=False):
    """{function name: share of tottime} of the functions of `filename` in
    a deterministic profile, the time of C functions given to their Python
    callers (a sampler sees only Python frames); with `seconds`, the
    seconds themselves."""
    st = pstats.Stats(str(path)).stats
    tt = {key: v[2] for key, v in st.items() if key[0] != "~"}
    for key, (cc, nc, t, ct, callers) in st.items():
        if key[0] == "~":
            for caller, edge in callers.items():
                if caller in tt:
                    tt[caller] += edge[2]
    mine = {key[2]: t for key, t in tt.items() if key[0] == str(filename)}
    if seconds:
        return mine
    total = sum(mine.values())
    return {name: t / total for name, t in mine.items()}


def same_run_counts(tmp_path, prog, *args):
    """Sample `pyprof run PROG` while it profiles deterministically: both
    see the same execution.  Returns ({function: own samples among PROG's
    functions}, {function: tottime seconds, C time given to the caller},
    record's stderr)."""
    rec = tmp_path / "same.pyprof"
    pst = tmp_path / "same.pstats"
    proc = run_pyprof("record", "--rate", "2000", "-o", str(rec), "--",
                      sys.executable, "-m", "pyprof", "run", "-o", str(pst),
                      str(prog), *args)
    assert proc.returncode == 0, proc.stderr
    st = pstats.Stats(str(rec)).stats
    counts = {key[2]: v[0] for key, v in st.items() if key[0] == str(prog)}
    return counts, tottime_shares(pst, prog, seconds=True), proc.stderr


def pooled_shares(runs):
    """(sampled shares, tottime shares) of the sums over several
    same_run_counts runs."""
    counts, times = {}, {}
    for run_counts, run_times in runs:
        for name, n in run_counts.items():
            counts[name] = counts.get(name, 0) + n
        for name, t in run_times.items():
            times[name] = times.get(name, 0.0) + t
    n, t = sum(counts.values()) or 1, sum(times.values()) or 1.0
    return ({k: v / n for k, v in counts.items()},
            {k: v / t for k, v in times.items()})


def same_run_shares(tmp_path, prog, *args):
    """(sampled shares, tottime shares, record's stderr) of one
    same_run_counts run."""
    counts, times, stderr = same_run_counts(tmp_path, prog, *args)
    return pooled_shares([(counts, times)]) + (stderr,)


def shares_agree(sampled, truth):
    """Every function above 5% of the time: within 2 percentage points."""
    return all(abs(sampled.get(name, 0) - share) <= 0.02
               for name, share in truth.items() if share > 0.05)


def check_shares(sampled, truth):
    """Every function above 5% of the time: within 2 percentage points."""
    assert max(truth.values()) > 0.5
    for name, share in truth.items():
        if share > 0.05:
            assert sampled.get(name, 0) == pytest.approx(share, abs=0.02), (
                name, sampled, truth)


def test_child_split_matches_tottime(tmp_path):
    """burn_a's share of the samples is within 2 points of its share of
    tottime.  2 points is 3 standard errors of a 70% share at 4,700
    independent samples; on a loaded machine (load 9-14) the sampler wakes
    up late and takes the missed rounds back to back, several samples of
    one moment, so the samples are fewer *and* not independent, and the
    test failed once.  A run that misses is then pooled with a second one
    (the counts and the tottimes of both): twice the samples, the same 2
    points.  A sampler biased by more than 2 points still fails."""
    prog = write(tmp_path, "split.py", SPLIT)
    runs = []
    for attempt in range(2):
        counts, times, stderr = same_run_counts(tmp_path, prog, "8")
        assert summary(stderr)["samples"] > 2000, stderr
        runs.append((counts, times))
        sampled, truth = pooled_shares(runs)
        assert truth["burn_a"] == pytest.approx(0.7, abs=0.06)
        if shares_agree(sampled, truth):
            break
    check_shares(sampled, truth)


def test_recording_frames(tmp_path):
    prog = write(tmp_path, "split.py", SPLIT)
    rec = tmp_path / "split.pyprof"
    proc = run_pyprof("record", "-o", str(rec), str(prog), "1")
    assert proc.returncode == 0, proc.stderr
    info = summary(proc.stderr)
    shares, st = own_shares(rec, prog)
    assert shares["burn_a"] > shares["burn_b"] > 0.1
    # Process and thread frames are the outermost: every sample has them.
    procs = [k for k in st if k[0] == "~" and k[2].startswith("<process ")]
    threads = [k for k in st if k[0] == "~" and k[2].startswith("<thread ")]
    assert len(procs) == 1 and len(threads) == 1
    assert st[procs[0]][1] == info["samples"] == st[threads[0]][1]
    assert "split.py" in procs[0][2]


def test_julia_set_shares_match_tottime(tmp_path):
    julia = os.path.join(ROOT, "examples", "julia_set.py")
    sampled, truth, _ = same_run_shares(tmp_path, julia)
    check_shares(sampled, truth)


def start_sibling(tmp_path, seconds, python=sys.executable):
    prog = write(tmp_path, "sibling.py", SIBLING)
    sib = subprocess.Popen([python, str(prog), str(seconds)],
                           stdout=subprocess.PIPE, text=True)
    assert sib.stdout.readline().strip() == "ready"
    return sib


def test_pid_of_a_sibling(tmp_path):
    sib = start_sibling(tmp_path, 30)
    try:
        out = tmp_path / "sib.pb.gz"
        proc = run_pyprof("record", "--pid", str(sib.pid), "--duration", "1",
                          "-o", str(out))
        assert proc.returncode == 0, proc.stderr
        info = summary(proc.stderr)
        # expected = rate x the recording's elapsed time: --duration 1 ends
        # it after 1 s, plus the last round's lateness on a loaded machine
        # (104 seen at load 12)
        assert info["samples"] >= 50 and 100 <= info["expected"] <= 115
        assert sib.poll() is None           # still running, untouched
        if shutil.which("go"):
            top = subprocess.run(["go", "tool", "pprof", "-top", str(out)],
                                 capture_output=True, text=True,
                                 env=dict(os.environ, HOME="/tmp"))
            assert "spin_here" in top.stdout, top.stdout + top.stderr
            lines = subprocess.run(["go", "tool", "pprof", "-top", "-lines",
                                    str(out)], capture_output=True,
                                   text=True, env=dict(os.environ,
                                                       HOME="/tmp"))
            # spin_here's loop lines are 9-10 of the sibling.
            assert re.search(r"spin_here \S+sibling\.py:(9|10)\b",
                             lines.stdout), lines.stdout
    finally:
        sib.kill()
        sib.wait()


def test_keeps_the_rate_at_1khz(tmp_path):
    """At 1 kHz a sampler woken up late (the machine is loaded) takes the
    missed deadlines back to back: at least 95% of the 2,000 expected
    rounds of a 2 s recording of a sibling are taken (41-73% were, and
    50% in this test, when late deadlines were skipped), and the summary
    counts the rest as missed: taken + missed never exceeds what the rate
    asked for.  A stall longer than the 20 ms backlog (seen at load 14 on
    2 cores) is dropped by design, so the best of two recordings counts."""
    sib = start_sibling(tmp_path, 30)
    try:
        best = 0.0
        for attempt in range(2):
            proc = run_pyprof("record", "--pid", str(sib.pid), "--rate",
                              "1000", "--duration", "2", "-o",
                              str(tmp_path / "rate.pyprof"))
            assert proc.returncode == 0, proc.stderr
            info = summary(proc.stderr)
            assert 1990 <= info["expected"] <= 2000, proc.stderr
            missed = re.search(r"(\d+) missed", proc.stderr)
            assert missed, proc.stderr
            assert (info["taken"] + int(missed.group(1))
                    <= info["expected"] + 1), proc.stderr
            best = max(best, info["taken"] / info["expected"])
            if best >= 0.95:
                break
        assert best >= 0.95, proc.stderr
    finally:
        sib.kill()
        sib.wait()


DEEP = """\
import ctypes, sys, time
try:    # let a sibling sampler read us under Yama ptrace_scope 1
    ctypes.CDLL(None).prctl(0x59616d61, ctypes.c_ulong(-1), 0, 0, 0)
except Exception:
    pass
sys.setrecursionlimit(5000)

def down(n):
    return 0 if n == 0 else 1 + down(n - 1)

print("ready", flush=True)
end = time.time() + float(sys.argv[1])
while time.time() < end:
    down(700)
"""


def test_deep_churning_stack_keeps_its_samples(tmp_path):
    """A stack that grows to 700 frames and unwinds again a few thousand
    times a second (bench/workloads/calls.py's down()) changes while it
    is read: such samples were dropped as errors, 3-4% of the rounds at
    1 kHz on a quiet machine.  Now a sample is read in one go (the last
    sample's memory, snapshot.h) and one that is torn anyway is read
    again at once: at most 1% of the rounds may fail, and the deep
    stacks are there (a sample of the whole recursion)."""
    prog = write(tmp_path, "deep.py", DEEP)
    sib = subprocess.Popen([sys.executable, str(prog), "30"],
                           stdout=subprocess.PIPE, text=True)
    try:
        assert sib.stdout.readline().strip() == "ready"
        rec = tmp_path / "deep.pyprof"
        proc = run_pyprof("record", "--pid", str(sib.pid), "--rate", "1000",
                          "--duration", "2", "-o", str(rec))
        assert proc.returncode == 0, proc.stderr
        info = summary(proc.stderr)
        errors = int(re.search(r"(\d+) errors?", proc.stderr).group(1))
        assert info["taken"] > 500, proc.stderr
        assert errors <= 0.01 * info["taken"], proc.stderr
        assert info["samples"] >= 0.99 * info["taken"], proc.stderr
        # the one thread always runs: every round is a sample or an error
        # (a stack read as memory the target had just unmapped and mapped
        # again, all zeros, was a quietly empty sample: 0.1-1.7% of them)
        assert info["samples"] + errors == info["taken"], proc.stderr
        st = pstats.Stats(str(rec)).stats
        calls = [v[1] for key, v in st.items() if key[2] == "down"]
        # nc of a recursive function: the samples it is on the stack in,
        # each counted once per frame (a sample 700 deep adds 700)
        assert calls and max(calls) > 100 * len(calls), calls
    finally:
        sib.kill()
        sib.wait()


def test_summary_of_a_short_recording(tmp_path):
    """A recording samples at its start and at each deadline until the
    one whose sample finds the target gone: the round at the start is one
    of those expected, so a recording the target's exit ends never takes
    more rounds than expected (a 20 ms one said "2 of 1 expected sampling
    rounds (100.0%)": rate x duration left that round out).  Every round
    due is taken or counted missed."""
    for seconds in ("0.02", "0.3"):
        proc = run_pyprof("record", "--rate", "100", "-o",
                          str(tmp_path / "short.pyprof"), "-c",
                          "import time; time.sleep(%s)" % seconds)
        assert proc.returncode == 0, proc.stderr
        info = summary(proc.stderr)
        missed = int(re.search(r"(\d+) missed", proc.stderr).group(1))
        assert info["taken"] + missed == info["expected"], proc.stderr
        share = float(re.search(r"expected sampling rounds \(([\d.]+)%",
                                proc.stderr).group(1))
        assert abs(share - 100.0 * info["taken"] / info["expected"]) < 0.06
        # at most the deadlines of D seconds at 100 Hz plus the start's
        # (D printed to 10 ms); fewer when the sampler was descheduled
        # after the last round (it ends the recording)
        duration = float(SUMMARY.search(proc.stderr).group(2))
        assert info["expected"] <= duration * 100 + 2, proc.stderr



def test_summary_of_one_sample(tmp_path):
    """One round (1 Hz for half a second, of a busy sibling): "1 sample",
    or, when that round failed, "1 error" -- not "1 samples"."""
    prog = write(tmp_path, "deep.py", DEEP)
    sib = subprocess.Popen([sys.executable, str(prog), "10"],
                           stdout=subprocess.PIPE, text=True)
    try:
        assert sib.stdout.readline().strip() == "ready"
        proc = run_pyprof("record", "--pid", str(sib.pid), "--rate", "1",
                          "--duration", "0.5", "-o",
                          str(tmp_path / "one.pyprof"))
        assert proc.returncode == 0, proc.stderr
        info = summary(proc.stderr)
        assert info["taken"] == 1, proc.stderr
        if info["samples"] == 1:
            assert ": 1 sample in " in proc.stderr, proc.stderr
            assert ", 0 errors, " in proc.stderr, proc.stderr
        else:
            assert ": 0 samples in " in proc.stderr, proc.stderr
            assert ", 1 error, " in proc.stderr, proc.stderr
    finally:
        sib.kill()
        sib.wait()


def test_a_clean_start_and_exit_are_not_errors(tmp_path):
    """A child recorded at 10 kHz is sampled before its runtime is
    initialized and while it finalizes at exit: those rounds are its start
    and its exit, not failed samples (before, 3 of 10 such recordings
    said "1 errors")."""
    prog = write(tmp_path, "busy.py", "import time\nt = time.time()\n"
                 "while time.time() - t < 0.2:\n    pass\n")
    for _ in range(8):
        proc = run_pyprof("record", "--rate", "10000", "-o",
                          str(tmp_path / "busy.pyprof"), str(prog))
        assert proc.returncode == 0, proc.stderr
        assert summary(proc.stderr)["samples"] > 0, proc.stderr
        assert ", 0 errors, " in proc.stderr, proc.stderr

def test_table_and_exit_status(tmp_path):
    prog = write(tmp_path, "exit3.py", SPLIT.replace(
        "main(float", "main(0.5) if 0 else None\nmain(float") +
        "\nraise SystemExit(3)\n")
    proc = run_pyprof("record", str(prog), "0.5")
    assert proc.returncode == 3, proc.stderr
    assert re.search(r"^\s+[\d.]+\s+[\d.]+\s+[\d.]+s\s+[\d.]+s\s+burn_a "
                     r"\(.*exit3\.py:4\)$", proc.stdout, re.M), proc.stdout
    proc = run_pyprof("record", "-c", "import sys; sys.exit(5)")
    assert proc.returncode == 5, proc.stderr


def test_outputs_of_a_recording(tmp_path):
    prog = write(tmp_path, "split.py", SPLIT)
    rec = tmp_path / "r.pyprof"
    proc = run_pyprof("record", "-o", str(rec), str(prog), "1")
    assert proc.returncode == 0, proc.stderr
    samples = summary(proc.stderr)["samples"]
    for fmt, check in (("speedscope", b'"$schema"'),
                       ("collapsed", b"burn_a"), ("chrome", b"traceEvents")):
        out = tmp_path / ("r." + fmt)
        proc = run_pyprof("export", str(rec), "--format", fmt, "-o",
                          str(out))
        assert proc.returncode == 0, proc.stderr
        assert check in out.read_bytes()
    # Collapsed stacks of a recording count samples, as record -o writes
    # them and as py-spy and flamegraph.pl do (not microseconds).
    counts = [int(line.rsplit(" ", 1)[1]) for line in
              (tmp_path / "r.collapsed").read_text().splitlines()]
    assert sum(counts) == samples
    html = tmp_path / "r.html"
    assert run_pyprof("view", str(rec), "-o", str(html)).returncode == 0
    assert b"burn_a" in html.read_bytes()
    # record writes the other formats directly, by extension.
    col = tmp_path / "d.collapsed"
    proc = run_pyprof("record", "-o", str(col), str(prog), "1")
    assert proc.returncode == 0, proc.stderr
    counts = [int(line.rsplit(" ", 1)[1])
              for line in col.read_text().splitlines()]
    assert sum(counts) == summary(proc.stderr)["samples"]


def test_a_program_that_ends_before_it_is_read(tmp_path):
    """A child that exits before the sampler could read it (a short
    program on a loaded machine: CI saw a failing sitecustomize's run end
    first) is the program's own exit, not "not a Python process": its exit
    status, one warning line, and the -o file still written."""
    out = tmp_path / "e.pyprof"
    proc = run_pyprof("record", "-o", str(out), "--", "sh", "-c", "exit 3")
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr == ("pyprof record: warning: no samples: the program "
                           "exited (status 3) before it could be read; "
                           f"wrote {out}\n")
    assert out.exists()
    proc = run_pyprof("record", "--", "sh", "-c", "exit 4")
    assert proc.returncode == 4, proc.stderr
    assert proc.stdout == ""


def test_bad_input(tmp_path):
    proc = run_pyprof("record", "--pid", "999999999")
    assert proc.returncode == 1
    assert proc.stderr == "pyprof record: no process with pid 999999999\n"
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        proc = run_pyprof("record", "--pid", str(sleeper.pid))
        assert proc.returncode == 1
        assert "not a Python process" in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
    finally:
        sleeper.kill()
        sleeper.wait()
    proc = run_pyprof("record", "--rate", "0", "-c", "pass")
    assert proc.returncode == 2
    proc = run_pyprof("record", "--", "/nonexistent/program")
    assert proc.returncode == 127
    assert proc.stderr == ("pyprof record: cannot run /nonexistent/program: "
                           "No such file or directory\n")


def other_pythons():
    """Every CPython found but the one running the tests: pyenv builds,
    then 3.14/3.15 in the sid chroot (run through chroot, as root)."""
    found = []
    root = subprocess.run(["pyenv", "root"], capture_output=True,
                          text=True).stdout.strip() if shutil.which(
                              "pyenv") else ""
    for exe in sorted(glob.glob(os.path.join(root, "versions", "3.1[0-3]*",
                                             "bin", "python3"))):
        if os.path.realpath(exe) != os.path.realpath(sys._base_executable
                                                     if hasattr(sys, "_base_executable")
                                                     else sys.executable):
            found.append(pytest.param([exe], id=exe.split("/")[-3]))
    for v in ("3.14", "3.15"):
        if os.path.exists("/work/sid/usr/bin/python" + v):
            found.append(pytest.param(["chroot", "/work/sid", "python" + v],
                                      id="sid-" + v))
    return found


@pytest.mark.parametrize("python", other_pythons() or [
    pytest.param(None, marks=pytest.mark.skip("no other CPython found"))])
def test_other_versions(python, tmp_path):
    if python[0] == "chroot":
        if os.geteuid() != 0:
            pytest.skip("the sid chroot needs root")
        tmp = "/work/sid/tmp/pyprof-record-test"
        os.makedirs(tmp, exist_ok=True)
        with open(tmp + "/split.py", "w") as f:
            f.write(SPLIT_TIMED)
        prog = "/tmp/pyprof-record-test/split.py"
    else:
        prog = str(write(tmp_path, "split.py", SPLIT_TIMED))
    rec = tmp_path / "v.pyprof"
    proc = run_pyprof("record", "--rate", "1000", "-o", str(rec), "--",
                      *python, prog, "2.5")
    assert proc.returncode == 0, proc.stderr
    true_a = float(re.search(r"true share ([\d.]+)", proc.stderr).group(1))
    shares, _ = own_shares(rec, prog)
    both = shares.get("burn_a", 0) + shares.get("burn_b", 0)
    # The target's own wall-time share and the samples' share part only
    # in the rounds the sampler did not take: a target descheduled for
    # long (5% of a CPU at load 25) is sampled where it stopped, and its
    # clock agreed with the samples within 0.5 points then; a stall the
    # sampler sat out too (beyond its backlog: "missed") is in the clock
    # only (it was 7 points from the samples once at load 12).  So:
    # 2 points beside the missed rounds' share of those expected (a fixed
    # 7 points failed under load, and let a 6-point bias pass when quiet).
    # The same for the share of the two among the program's samples: the
    # rest is main's own loop, where a stall left 8% of the samples at
    # load 20 (the two were required to hold 95%).
    info = summary(proc.stderr)
    missed = int(re.search(r"(\d+) missed", proc.stderr).group(1))
    tolerance = 0.02 + missed / info["expected"]
    timed = float(re.search(r"timed share ([\d.]+)", proc.stderr).group(1))
    assert both == pytest.approx(timed, abs=tolerance), (
        shares, timed, proc.stderr)
    assert shares["burn_a"] / both == pytest.approx(true_a, abs=tolerance), (
        shares, true_a, proc.stderr)


MULTI = """
import multiprocessing, sys, time

def worker_burn(seconds):
    t = time.perf_counter()
    s = 0
    while time.perf_counter() - t < seconds:
        s += 1
    return s

if __name__ == "__main__":
    if len(sys.argv) > 1:
        multiprocessing.set_start_method(sys.argv[1])
    with multiprocessing.Pool(2) as pool:
        pool.map(worker_burn, [1.5, 1.5])
"""


@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_subprocesses(tmp_path, method):
    prog = write(tmp_path, "multi.py", MULTI)
    rec = tmp_path / "m.pyprof"
    proc = run_pyprof("record", "--subprocesses", "--rate", "200", "-o",
                      str(rec), str(prog), method)
    assert proc.returncode == 0, proc.stderr
    shares, st = own_shares(rec)
    procs = {k[2] for k in st if k[0] == "~" and k[2].startswith("<process")}
    assert len(procs) >= 3, procs
    assert shares.get("worker_burn", 0) > 0.5, shares


@pytest.mark.skipif(shutil.which("py-spy") is None
                    and not os.path.exists(os.path.join(
                        os.path.dirname(sys.executable), "py-spy")),
                    reason="py-spy not installed")
def test_agrees_with_py_spy(tmp_path):
    """pyprof and py-spy sample the same process at the same time."""
    py_spy = shutil.which("py-spy") or os.path.join(
        os.path.dirname(sys.executable), "py-spy")
    julia = os.path.join(ROOT, "examples", "julia_set.py")
    prog = write(tmp_path, "split.py", SPLIT)
    target = subprocess.Popen([sys.executable, str(prog), "6"])
    try:
        time.sleep(0.5)
        raw = tmp_path / "spy.txt"
        spy = subprocess.Popen([py_spy, "record", "--nonblocking", "-r",
                                "500", "-d", "4", "-f", "raw", "-o", str(raw),
                                "--pid", str(target.pid)],
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
        rec = tmp_path / "p.pyprof"
        proc = run_pyprof("record", "--pid", str(target.pid), "-r", "500",
                          "-d", "4", "-o", str(rec))
        spy_err = spy.communicate(timeout=60)[1]
        assert proc.returncode == 0, proc.stderr
        if spy.returncode != 0:
            pytest.skip("py-spy cannot sample here: " + spy_err[-200:])
    finally:
        target.kill()
        target.wait()
    spy_own = {}
    for line in raw.read_text().splitlines():
        stack, count = line.rsplit(" ", 1)
        leaf = stack.split(";")[-1].split(" (")[0]
        spy_own[leaf] = spy_own.get(leaf, 0) + int(count)
    total = sum(spy_own.values())
    shares, _ = own_shares(rec)
    ours_n = summary(proc.stderr)["samples"]
    ours = sorted(shares, key=shares.get, reverse=True)[:2]
    theirs = sorted(spy_own, key=spy_own.get, reverse=True)[:2]
    assert ours == theirs == ["burn_a", "burn_b"], (shares, spy_own)
    # Two samplers of one process estimate the same shares, each with a
    # binomial error: the tolerance is 4 standard errors of the difference
    # at the samples each really took.  The fixed 6 points this had were
    # only 2.6 standard errors at the 800 + 800 samples of 200 Hz (and
    # fewer on a loaded machine: it failed once at load 9-14); at 500 Hz
    # 4 standard errors are 5.8 points at 2,000 + 2,000 samples.
    assert ours_n >= 500 and total >= 200, (ours_n, total, proc.stderr)
    for name in ours:
        p = spy_own[name] / total
        tolerance = 4 * math.sqrt(p * (1 - p) * (1 / ours_n + 1 / total))
        assert shares[name] == pytest.approx(p, abs=tolerance), (
            name, shares, spy_own, tolerance)
    del julia


THREADS = """
import sys, threading, time

def spin_thread(seconds):
    t = time.perf_counter()
    s = 0
    while time.perf_counter() - t < seconds:
        s += 1

def sleeper(seconds):
    time.sleep(seconds)

threads = [threading.Thread(target=spin_thread, args=(1.5,)),
           threading.Thread(target=spin_thread, args=(1.5,)),
           threading.Thread(target=sleeper, args=(1.5,))]
for t in threads:
    t.start()
for t in threads:
    t.join()
"""


def thread_samples(st):
    return {k[2]: v[1] for k, v in st.items()
            if k[0] == "~" and k[2].startswith("<thread ")}


def test_idle_gil_and_blocking(tmp_path):
    """Default: the two spinning threads (not the sleeper, not the main
    thread waiting in join); --idle: all four; --gil: at most one thread
    per sampling round; --blocking: the same stacks, the target unharmed."""
    prog = write(tmp_path, "threads.py", THREADS)
    runs = {}
    for flags in ((), ("--idle",), ("--gil",), ("--blocking",)):
        rec = tmp_path / "t.pyprof"
        proc = run_pyprof("record", "-r", "200", *flags, "-o", str(rec),
                          str(prog))
        assert proc.returncode == 0, proc.stderr
        info = summary(proc.stderr)
        if info["samples"] == 0:
            assert "warning: no samples" in proc.stderr
            runs[flags] = (info, {}, {})
            continue
        shares, st = own_shares(rec)
        runs[flags] = (info, shares, thread_samples(st))
    info, shares, threads = runs[()]
    assert shares.get("spin_thread", 0) > 0.9, shares
    assert shares.get("sleeper", 0) < 0.02, shares
    info, shares, threads = runs[("--idle",)]
    assert len(threads) == 4, threads
    assert shares.get("sleeper", 0) > 0.1, shares
    info, shares, threads = runs[("--gil",)]
    if info["samples"] == 0:
        pytest.skip("the GIL holder is unknown on this version")
    assert info["samples"] <= info["taken"]
    info, shares, threads = runs[("--blocking",)]
    # Stopping the threads slows the start-up (imports) too, by a share that
    # grows with the machine's load; among the samples whose innermost frame
    # is in the program itself, the spinning threads still own the stacks,
    # and the sleeper is never stopped (which would wake it: on a busy
    # machine it then waits runnable for a CPU and looks busy).
    assert shares.get("spin_thread", 0) > 0.5, shares
    mine, _ = own_shares(rec, filename=prog)
    assert mine.get("sleeper", 0) < 0.02, mine
    assert mine.get("spin_thread", 0) > 0.95, mine
