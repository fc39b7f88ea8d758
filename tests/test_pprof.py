"""pprof output (`pyprof run -o F.pb.gz`, `pyprof export --format pprof`),
read back by an independent reader, Go's `go tool pprof` (Debian's
golang-go; the CI installs it).  Its numbers are checked against cProfile
and pstats reading the same program and file."""
import cProfile
import gzip
import os
import pstats
import re
import shutil
import subprocess

import pytest

from conftest import run_pyprof

GO = shutil.which("go")
pytestmark = pytest.mark.skipif(
    GO is None and not os.environ.get("PYPROF_REQUIRE_GO"),
    reason="go tool pprof not installed (apt-get install golang-go)")

# Known call counts: leaf 30 times from work, work 3 times from main.
PROGRAM = """
def leaf(n):
    s = 0
    for i in range(n):
        s += i
    return s

def work():
    t = 0
    for _ in range(10):
        t += leaf(20000)
    return t

def main():
    for _ in range(3):
        work()

main()
"""


def go_pprof(*args):
    """`go tool pprof ARGS` (text output); GOPATH/GOCACHE in a scratch
    directory so the test leaves nothing in $HOME."""
    env = dict(os.environ, HOME=os.environ.get("TMPDIR", "/tmp"),
               GOCACHE=os.path.join(os.environ.get("TMPDIR", "/tmp"),
                                    "pyprof-gocache"))
    proc = subprocess.run([GO, "tool", "pprof", *args], capture_output=True,
                          text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def top_rows(text):
    """{function: (flat, cum)} from `go tool pprof -top` output; numbers
    as printed (no unit conversion), so use -unit=ns or counts."""
    rows = {}
    for line in text.splitlines():
        m = re.match(r"\s*([\d.]+)(\w*)\s+[\d.]+%\s+[\d.]+%\s+([\d.]+)(\w*)"
                     r"\s+[\d.]+%\s+(.+)$", line)
        if m:
            rows[m.group(5).strip()] = (float(m.group(1)), float(m.group(3)))
    return rows


@pytest.fixture(scope="module")
def program_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("pprof") / "prog.py"
    path.write_text(PROGRAM)
    return path


def test_run_writes_pprof_with_calls_and_lines(program_file, tmp_path):
    out = tmp_path / "prof.pb.gz"
    proc = run_pyprof("run", "-o", str(out), str(program_file))
    assert proc.returncode == 0, proc.stderr
    # A gzip file holding a protobuf (not a pstats dict).
    assert gzip.decompress(out.read_bytes())[:1] != b"{"
    calls = top_rows(go_pprof("-top", "-sample_index=calls", str(out)))
    # cProfile counts the same program's calls.
    prof = cProfile.Profile()
    namespace = {}
    prof.runctx(compile(PROGRAM, str(program_file), "exec"), namespace,
                namespace)
    st = pstats.Stats(prof).stats
    expected = {name: nc for (fn, line, name), (cc, nc, tt, ct, callers)
                in st.items() if fn == str(program_file)}
    for name in ("leaf", "work", "main", "<module>"):
        assert calls[name][0] == expected[name], (name, calls)
    # Each function's location carries its file and first line (newer Go
    # prints a column, 0 here: "file:2:0 s=2()" where Go 1.19 prints
    # "file:2 s=2").
    raw = go_pprof("-raw", str(out))
    for name, line in (("leaf", 2), ("work", 8), ("main", 14)):
        assert re.search(r"\b%s %s:%d(:0)? s=%d\b" % (name, re.escape(
            str(program_file)), line, line), raw), raw
    # Flat wall time is pyprof's tottime: leaf dominates.
    times = top_rows(go_pprof("-top", "-unit=ns", str(out)))
    assert times["leaf"][0] > times["work"][0]
    assert times["main"][1] >= times["work"][1] >= times["leaf"][1]


def test_export_pprof_of_cprofile_file(program_file, tmp_path):
    """A cProfile file (no exact paths): flat calls and tottime per
    function are pstats' own numbers."""
    pst = tmp_path / "c.pstats"
    subprocess.run([os.sys.executable, "-m", "cProfile", "-o", str(pst),
                    str(program_file)], check=True)
    out = tmp_path / "c.pb.gz"
    proc = run_pyprof("export", str(pst), "--format", "pprof", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "reconstructed" in proc.stderr
    st = pstats.Stats(str(pst)).stats
    calls = top_rows(go_pprof("-top", "-sample_index=calls", str(out)))
    times = top_rows(go_pprof("-top", "-unit=ns", "-nodefraction=0",
                              str(out)))
    for (fn, line, name), (cc, nc, tt, ct, callers) in st.items():
        if fn != str(program_file):
            continue
        assert calls[name][0] == nc
        assert times[name][0] == pytest.approx(tt * 1e9, rel=1e-3, abs=2e3)


def test_export_pprof_of_pyprof_file_matches_pstats(program_file, tmp_path):
    pst = tmp_path / "p.pstats"
    assert run_pyprof("run", "-o", str(pst), str(program_file)).returncode == 0
    out = tmp_path / "p.pb.gz"
    proc = run_pyprof("export", str(pst), "--format", "pprof", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    st = pstats.Stats(str(pst)).stats
    times = top_rows(go_pprof("-top", "-unit=ns", "-nodefraction=0",
                              str(out)))
    for (fn, line, name), (cc, nc, tt, ct, callers) in st.items():
        if fn == str(program_file):
            assert times[name][0] == pytest.approx(tt * 1e9, rel=1e-3,
                                                   abs=2e3)
            assert times[name][1] == pytest.approx(ct * 1e9, rel=1e-3,
                                                   abs=2e3)


# A main thread and a named one, both burning CPU.
THREADS = """
import threading, time

def burn(seconds):
    t = time.perf_counter()
    s = 0
    while time.perf_counter() - t < seconds:
        s += 1

worker = threading.Thread(target=burn, args=(1.0,), name="cruncher")
worker.start()
burn(1.0)
worker.join()
"""


def test_recording_pid_and_thread_are_labels(tmp_path):
    """pyprof record's pprof: the process and the thread of a sample are
    pprof labels (pid, thread id, thread), not frames; pyprof's own views
    keep them as the two outermost frames."""
    prog = tmp_path / "threads.py"
    prog.write_text(THREADS)
    out = tmp_path / "t.pb.gz"
    proc = run_pyprof("record", "--rate", "200", "-o", str(out), str(prog))
    assert proc.returncode == 0, proc.stderr
    tags = go_pprof("-tags", str(out))
    # " pid: Total 1.9s / 1.9s (100%): 14058 / thread: Total ... python /
    #  thread id: Total ... 1.0s (54.28%): 14058 / 855.0ms (45.72%): 14060"
    # (the thread name is the OS's, /proc/PID/task/TID/comm)
    sections = dict(re.findall(r"^ (\w[\w ]*): Total [^\n]*\n((?:.+\n)+)",
                               tags, re.M))
    assert set(sections) == {"pid", "thread", "thread id"}, tags
    pids = re.findall(r"%\): (\d+)$", sections["pid"], re.M)
    tids = re.findall(r"%\): (\d+)$", sections["thread id"], re.M)
    assert len(pids) == 1 and len(tids) == 2, tags
    assert pids[0] in tids, tags          # the main thread's id is the pid
    raw = go_pprof("-raw", str(out))
    samples = raw.split("Locations")[0]
    assert re.search(r"pid:\[%s\]" % pids[0], samples), samples
    assert re.search(r"thread id:\[\d+\]", samples), samples
    assert re.search(r"thread:\[\S+\]", samples), samples
    top = go_pprof("-top", "-nodecount=100", str(out))
    assert "burn" in top, top
    assert "<process" not in top and "<thread" not in top, top
    # the recording's own table still shows them as frames
    rec = tmp_path / "t.pyprof"
    proc = run_pyprof("record", "--rate", "200", "-o", str(rec), str(prog))
    assert proc.returncode == 0, proc.stderr
    st = run_pyprof("stats", str(rec))
    assert "{thread " in st.stdout and "{process " in st.stdout, st.stdout
