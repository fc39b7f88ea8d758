"""`pyprof mprof`: the .dat file is checked with memory_profiler's own
reader (mprof.read_mprofile_file, what `mprof plot` uses), memory against
the process's real RSS, the SVG with an XML parser."""
import glob
import os
import signal
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

import pytest

from conftest import run_pyprof

mprof = pytest.importorskip("mprof")

# Under AddressSanitizer (make test-asan) freed memory sits in ASan's
# quarantine, so RSS never drops, and RLIMIT_AS cannot hold its shadow.
UNDER_ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")

SVG = "{http://www.w3.org/2000/svg}"


def write(tmp_path, name, source):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return str(path)


GROW = """
    import sys, time
    @profile
    def grow():
        a = bytearray(150 * 1024 * 1024)
        for i in range(0, len(a), 4096):    # touch every page: RSS grows
            a[i] = 1
        time.sleep(0.4)
        inner()
        del a
        time.sleep(0.3)

    @profile
    def inner():
        time.sleep(0.1)

    grow()
    sys.exit(3)
"""


def only_dat(tmp_path):
    files = glob.glob(str(tmp_path / "mprofile_*.dat"))
    assert len(files) == 1, files
    assert len(os.path.basename(files[0])) == len("mprofile_") + 14 + 4
    return files[0]


def test_run_writes_mprof_format(tmp_path):
    script = write(tmp_path, "grow.py", GROW)
    # -E and --python as mprof users pass them: the exit status is the
    # program's anyway, and the program always runs as Python.
    r = run_pyprof("mprof", "run", "-E", "--python", "--interval", "0.05",
                   script, "arg 1", cwd=tmp_path)
    assert r.returncode == 3, r.stderr     # the program's own exit status
    data = mprof.read_mprofile_file(only_dat(tmp_path))
    assert data["cmd_line"].strip() == \
        "%s %s 'arg 1'" % (sys.executable, script)
    mem, ts = data["mem_usage"], data["timestamp"]
    assert len(mem) >= 10
    assert ts == sorted(ts)
    # 150 MiB touched, then freed.
    assert max(mem) - mem[0] > 140
    if not UNDER_ASAN:
        assert mem[-1] < max(mem) - 140
    funcs = data["func_timestamp"]
    (grow,) = funcs["__main__.grow"]
    (inner,) = funcs["__main__.inner"]
    t_start, t_end, m_start, m_end, level = grow
    assert level == 0 and inner[4] == 1     # mprof counts from 0
    assert t_start < inner[0] < inner[1] < t_end
    assert t_end - t_start >= 0.8
    assert inner[2] - m_start > 140      # inner runs while a is alive
    if not UNDER_ASAN:
        assert m_end < inner[2] - 140
    # The samples cover the call.
    assert ts[0] <= t_start and ts[-1] >= t_end


def test_every_call_of_a_hot_function_is_recorded(tmp_path):
    """FUNC lines are queued by the program and written by the sampler's
    thread: many thousands of calls, from two threads, across many samples
    and queue drains, each reach the file once, whole and in order."""
    script = write(tmp_path, "hot.py", """
        import threading
        @profile
        def f(i):
            return g(i) + 1
        @profile
        def g(i):
            return i * 2
        @profile
        def h(i):
            return [i] * 100
        t = threading.Thread(target=lambda: [h(i) for i in range(5000)])
        t.start()
        t.join()
        total = sum(f(i) for i in range(12000))
        assert total == 12000 * 11999 + 12000
    """)
    r = run_pyprof("mprof", "run", "-T", "0.005", script, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    path = only_dat(tmp_path)
    lines = open(path).read().splitlines()
    assert all(len(line.split()) == 7 for line in lines
               if line.startswith("FUNC"))
    funcs = mprof.read_mprofile_file(path)["func_timestamp"]
    assert sorted(funcs) == ["__main__.f", "__main__.g", "__main__.h"]
    f, g, h = funcs["__main__.f"], funcs["__main__.g"], funcs["__main__.h"]
    assert (len(f), len(g), len(h)) == (12000, 12000, 5000)
    assert {c[4] for c in f} == {0} and {c[4] for c in g} == {1}
    assert {c[4] for c in h} == {0}
    for outer, inner in zip(f, g):      # each g inside its own f
        assert outer[0] <= inner[0] <= inner[1] <= outer[1]
    for calls in (f, g, h):
        assert all(c[2] > 1 and c[3] > 1 for c in calls)   # MiB of RSS
        starts = [c[0] for c in calls]
        assert starts == sorted(starts)


NESTED = """
    import time
    @profile
    def outer():
        inner()
        inner()
    @profile(precision=3)
    def inner():
        time.sleep(0.01)
    outer()
    with profile.timestamp("block"):
        inner()
        with profile.timestamp():
            outer()
"""


def test_func_records_match_mprof(tmp_path):
    """The same FUNC records as memory_profiler's own `mprof run` writes:
    `@profile`, `@profile(precision=...)`, `profile.timestamp(name)`
    blocks named ".name", levels counted from 0 with blocks included."""
    script = write(tmp_path, "nested.py", NESTED)
    theirs = subprocess.run([sys.executable, "-m", "mprof", "run", "-o",
                             str(tmp_path / "theirs.dat"), script],
                            capture_output=True, text=True, cwd=tmp_path,
                            timeout=120)
    assert theirs.returncode == 0, theirs.stderr
    r = run_pyprof("mprof", "run", "-o", "ours.dat", script, cwd=tmp_path)
    assert r.returncode == 0, r.stderr

    def records(name):
        funcs = mprof.read_mprofile_file(str(tmp_path / name))
        return sorted((f, c[4]) for f, calls in
                      funcs["func_timestamp"].items() for c in calls)
    expected = records("theirs.dat")
    assert (".block", 0) in expected and ("__main__.inner", 3) in expected
    assert records("ours.dat") == expected
    # Each record's interval lies inside the next-outer one's.
    calls = mprof.read_mprofile_file(str(tmp_path / "ours.dat"))
    flat = sorted((c[0], -c[1], c[4]) for cs in
                  calls["func_timestamp"].values() for c in cs)
    stack = []
    for start, neg_end, level in flat:
        while stack and stack[-1] <= start:
            stack.pop()
        assert level == len(stack)
        stack.append(-neg_end)


def test_profile_refuses_what_mprof_refuses(tmp_path):
    script = write(tmp_path, "bad.py", """
        try:
            profile(3)
        except ValueError as e:
            print("ValueError", e)
        try:
            profile.timestamp(3)
        except TypeError:
            print("TypeError")
    """)
    r = run_pyprof("mprof", "run", "-o", "x.dat", script, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:2] == ["ValueError Value must be callable",
                                        "TypeError"]


PROFILES = {
    "mprofile_20261126010000.dat":
        "CMDLINE python a.py\nMEM 10.0 100.0\nCHLD 0 5.5 100.0\n"
        "MEM 50.25 100.1\nCHLD 1 7.0 100.1\nCHLD 0 9.125 100.2\n"
        "MEM 20.0 100.2\nFUNC __main__.f 10.0 100.05 50.0 100.15 0\n"
        "FUNC __main__.g 10.0 100.15 20.0 100.25 0\n",
    "mprofile_20261126020000.dat":
        "CMDLINE python b.py\nMEM 3.5 200.0\nMEM 4.0625 200.1\n",
}


def mprof_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "mprof", *args],
                          capture_output=True, text=True, cwd=cwd,
                          timeout=120)


@pytest.mark.parametrize("args", [[], ["0"], ["-1", "0", "0"],
                                  ["--func", "__main__.g", "0"],
                                  ["--func", "nope", "0"],
                                  ["mprofile_20261126020000.dat"]])
def test_peak_prints_what_mprof_prints(tmp_path, args):
    for name, text in PROFILES.items():
        (tmp_path / name).write_text(text)
    theirs = mprof_cli("peak", *args, cwd=tmp_path)
    assert theirs.returncode == 0, theirs.stderr
    ours = run_pyprof("mprof", "peak", *args, cwd=tmp_path)
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == theirs.stdout


def test_rm_as_mprof(tmp_path):
    for name, text in PROFILES.items():
        (tmp_path / name).write_text(text)
    theirs = mprof_cli("rm", "--dry-run", "-1", "0", cwd=tmp_path)
    ours = run_pyprof("mprof", "rm", "--dry-run", "-1", "0", cwd=tmp_path)
    assert ours.returncode == 0 and ours.stdout == theirs.stdout
    # A bad name removes nothing, not even the good ones before it.
    r = run_pyprof("mprof", "rm", "0", "7", cwd=tmp_path)
    assert r.returncode == 1 and len(r.stderr.splitlines()) == 1
    assert "no profile number 7" in r.stderr
    assert len(glob.glob(str(tmp_path / "mprofile_*.dat"))) == 2
    r = run_pyprof("mprof", "rm", "0", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert [os.path.basename(f) for f in glob.glob(
        str(tmp_path / "mprofile_*.dat"))] == ["mprofile_20261126020000.dat"]
    r = run_pyprof("mprof", "rm", cwd=tmp_path)
    assert r.returncode == 2 and "must be given" in r.stderr


def test_plot_svg(tmp_path):
    script = write(tmp_path, "grow.py", GROW)
    run_pyprof("mprof", "run", "-T", "0.05", script, cwd=tmp_path)
    dat = only_dat(tmp_path)
    r = run_pyprof("mprof", "plot", "-o", "out.svg", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    root = ET.parse(tmp_path / "out.svg").getroot()
    texts = ["".join(t.itertext()) for t in root.iter(SVG + "text")]
    assert "time (in seconds)" in texts
    assert "memory used (in MiB)" in texts
    assert "__main__.grow" in texts and "__main__.inner" in texts
    peak = [t for t in texts if t.startswith("peak ")]
    data = mprof.read_mprofile_file(dat)
    assert peak == ["peak %.3f MiB at %.2f s" % (
        max(data["mem_usage"]),
        data["timestamp"][data["mem_usage"].index(max(data["mem_usage"]))]
        - data["timestamp"][0])]
    brackets = [p for p in root.iter(SVG + "path")
                if p.get("class") == "bracket"]
    assert len(brackets) == 2 * 2 + 2      # two per call, plus legend
    line = [p for p in root.iter(SVG + "polyline")
            if p.get("class") == "mem"]
    assert len(line[0].get("points").split()) == len(data["mem_usage"])
    # Without -o: next to the file.
    r = run_pyprof("mprof", "plot", dat, cwd=tmp_path)
    assert r.returncode == 0
    assert os.path.exists(dat[:-4] + ".svg")


def test_escapes_strings_in_svg(tmp_path):
    dat = tmp_path / "x.dat"
    dat.write_text("CMDLINE python '<b>&amp;\"x\".py'\n"
                   "MEM 1.0 100.0\nMEM 2.0 100.5\n"
                   "FUNC m.<f>&g 1.0 100.1 2.0 100.4 1\n")
    r = run_pyprof("mprof", "plot", str(dat), "-o", str(tmp_path / "x.svg"))
    assert r.returncode == 0, r.stderr
    root = ET.parse(tmp_path / "x.svg").getroot()
    texts = ["".join(t.itertext()) for t in root.iter(SVG + "text")]
    assert "python '<b>&amp;\"x\".py'" in texts
    assert "m.<f>&g" in texts


def test_list_and_clean(tmp_path):
    for stamp in ("20240101120000", "20231231235959"):
        (tmp_path / ("mprofile_%s.dat" % stamp)).write_text(
            "MEM 1.0 1.0\n")
    (tmp_path / "mprofile_x.dat").write_text("")
    r = run_pyprof("mprof", "list", cwd=tmp_path)
    assert r.stdout.splitlines() == [
        "0 mprofile_20231231235959.dat 23:59:59 31/12/2023",
        "1 mprofile_20240101120000.dat 12:00:00 01/01/2024"]
    r = run_pyprof("mprof", "plot", "0", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "mprofile_20231231235959.svg").exists()
    r = run_pyprof("mprof", "plot", "7", cwd=tmp_path)
    assert r.returncode == 1 and "no profile number 7" in r.stderr
    r = run_pyprof("mprof", "clean", cwd=tmp_path)
    assert r.returncode == 0
    assert sorted(os.listdir(tmp_path)) == [
        "mprofile_20231231235959.svg", "mprofile_x.dat"]


@pytest.mark.parametrize("value", ["0", "-1", "-0.5", "nan", "abc", "inf"])
def test_bad_interval_refused(tmp_path, value):
    script = write(tmp_path, "p.py", "print('ran')\n")
    r = run_pyprof("mprof", "run", "--interval", value, script,
                   cwd=tmp_path)
    assert r.returncode == 2
    assert "--interval" in r.stderr and len(r.stderr.splitlines()) == 1
    assert "ran" not in r.stdout
    assert not glob.glob(str(tmp_path / "mprofile_*.dat"))


def test_killed_program_leaves_readable_dat(tmp_path):
    script = write(tmp_path, "k.py", """
        import os, signal, time
        data = [bytearray(1 << 20) for _ in range(30)]
        time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    r = run_pyprof("mprof", "run", "-T", "0.02", script, cwd=tmp_path)
    assert r.returncode == -signal.SIGKILL
    data = mprof.read_mprofile_file(only_dat(tmp_path))
    assert len(data["mem_usage"]) >= 5
    r = run_pyprof("mprof", "plot", "-o", "k.svg", cwd=tmp_path)
    assert r.returncode == 0, r.stderr


@pytest.mark.skipif(UNDER_ASAN, reason="ASan's shadow exceeds RLIMIT_AS")
def test_memory_error_keeps_samples(tmp_path):
    script = write(tmp_path, "oom.py", """
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        keep = []
        while True:
            keep.append(bytearray(32 << 20))
    """)
    r = run_pyprof("mprof", "run", "-T", "0.02", script, cwd=tmp_path)
    assert r.returncode == 1
    assert "MemoryError" in r.stderr
    data = mprof.read_mprofile_file(only_dat(tmp_path))
    assert len(data["mem_usage"]) >= 2
    assert "wrote" in r.stderr


def test_plot_truncated_and_empty(tmp_path):
    (tmp_path / "empty.dat").write_text("")
    r = run_pyprof("mprof", "plot", "empty.dat", cwd=tmp_path)
    assert r.returncode == 1
    assert r.stderr.strip() == ("pyprof mprof plot: empty.dat has no memory "
                                "samples (the run ended or was killed "
                                "before the first one)")
    (tmp_path / "cut.dat").write_text("CMDLINE python x.py\nMEM 10.5 1.0\n"
                                      "MEM 11.5 1.1\nMEM 12.")
    r = run_pyprof("mprof", "plot", "cut.dat", cwd=tmp_path)
    assert r.returncode == 0
    assert "cut-off line" in r.stderr and "2 complete samples" in r.stderr
    (tmp_path / "bad.dat").write_text("MEM 1.0 1.0\nMEM one two\n")
    r = run_pyprof("mprof", "plot", "bad.dat", cwd=tmp_path)
    assert r.returncode == 1
    assert "line 2" in r.stderr and len(r.stderr.splitlines()) == 1
    (tmp_path / "bin.dat").write_bytes(b"\x00\x01MEM\n")
    r = run_pyprof("mprof", "plot", "bin.dat", cwd=tmp_path)
    assert r.returncode == 1 and len(r.stderr.splitlines()) == 1
    r = run_pyprof("mprof", "plot", cwd=tmp_path)
    assert r.returncode == 1 and "no mprofile_*.dat" in r.stderr


KIDS = """
    import subprocess, sys
    subprocess.run([sys.executable, "-c",
        "a = bytearray(80 << 20)\\n"
        "for i in range(0, len(a), 4096): a[i] = 1\\n"
        "import time; time.sleep(0.6)"])
"""


@pytest.mark.parametrize("flags", [["-C"], ["-M"], ["-C", "-M"]])
def test_children_as_mprof_records_them(tmp_path, flags):
    """-C sums the children into MEM (no CHLD lines, as mprof -C);
    -M writes a CHLD line per child and leaves MEM the parent's."""
    script = write(tmp_path, "kids.py", KIDS)
    r = run_pyprof("mprof", "run", *flags, "-T", "0.05", script,
                   cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    data = mprof.read_mprofile_file(only_dat(tmp_path))
    growth = max(data["mem_usage"]) - data["mem_usage"][0]
    if "-M" in flags:
        assert list(data["children"]) == ["0"]
        assert max(m for m, t in data["children"]["0"]) > 75
    else:
        assert not data["children"]
    if "-C" in flags:
        assert growth > 75
    else:
        assert growth < 40


def test_view_draws_the_timeline_as_html(tmp_path):
    """`pyprof view FILE.dat`: the same chart as `mprof plot`, in a page,
    with every string from the file still escaped."""
    script = write(tmp_path, "grow.py", GROW)
    run_pyprof("mprof", "run", "-T", "0.05", script, cwd=tmp_path)
    dat = only_dat(tmp_path)
    r = run_pyprof("view", dat, "-o", "timeline.html", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    html = (tmp_path / "timeline.html").read_text()
    assert "<?xml" not in html and html.count("<svg") == 1
    svg = html[html.index("<svg"):html.index("</svg>") + len("</svg>")]
    root = ET.fromstring(svg)
    texts = ["".join(t.itertext()) for t in root.iter(SVG + "text")]
    assert "__main__.grow" in texts and "__main__.inner" in texts
    brackets = [p for p in root.iter(SVG + "path")
                if p.get("class") == "bracket"]
    assert len(brackets) == 2 * 2 + 2      # as mprof plot draws them
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    # A crafted function name stays text in the page.
    crafted = tmp_path / "crafted.dat"
    crafted.write_text("MEM 1.0 100.0\nMEM 2.0 100.5\n"
                       "FUNC m.<script>alert(1)</script> 1.0 100.1 2.0 100.4 1\n")
    r = run_pyprof("view", str(crafted), "-o", str(tmp_path / "c.html"))
    assert r.returncode == 0, r.stderr
    page = (tmp_path / "c.html").read_text()
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # No samples: one line, exit 2 (bad input); --flamegraph makes no sense.
    empty = tmp_path / "empty.dat"
    empty.write_text("CMDLINE python x.py\n")
    r = run_pyprof("view", str(empty), "-o", str(tmp_path / "e.html"))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    r = run_pyprof("view", dat, "--flamegraph", str(tmp_path / "f.svg"))
    assert r.returncode == 2
