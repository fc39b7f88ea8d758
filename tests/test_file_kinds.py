"""Every command that takes a file recognises each kind pyprof writes: it
reads it, or says in one line which command does -- never "bad marshal
data".  `pyprof view` draws a .lprof (ours or kernprof's) as it draws the
line profile's JSON, with line_profiler's own reading of the pickle as the
oracle for the hits on the page."""
import json
import os
import pickle
import re
import shutil
import subprocess
import sys

import pytest

from conftest import run_pyprof

PROGRAM = """
import builtins
profile = getattr(builtins, "profile", lambda f: f)

@profile
def work(n):
    total = 0
    for i in range(n):
        total += i
    return total

work(3000)
work(2000)
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("kinds")
    script = d / "prog.py"
    script.write_text(PROGRAM)
    made = {}

    def make(name, *args):
        r = run_pyprof(*args, cwd=d)
        assert r.returncode == 0, r.stderr
        made[name] = str(d / name)

    make("prog.pstats", "run", "-o", "prog.pstats", "prog.py")
    make("prog.lprof", "lines", "-o", "prog.lprof", "prog.py")
    make("prog.json", "lines", "-o", "prog.json", "prog.py")
    make("mem.json", "memory", "-o", "mem.json", "prog.py")
    make("prog.dat", "mprof", "run", "-o", "prog.dat", "prog.py")
    r = subprocess.run([sys.executable, "-m", "cProfile", "-o", "c.pstats",
                        "prog.py"], cwd=d, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    made["c.pstats"] = str(d / "c.pstats")
    kernprof = shutil.which("kernprof",
                            path=os.path.dirname(sys.executable))
    if kernprof is not None:
        r = subprocess.run([kernprof, "-l", "-o", "kern.lprof", "prog.py"],
                           cwd=d, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        made["kern.lprof"] = str(d / "kern.lprof")
    (d / "empty.dat").write_bytes(b"")
    made["empty.dat"] = str(d / "empty.dat")
    made["dir"] = str(d)
    return made


# Which commands read which kinds; any other pairing must be one line
# naming the command that reads it.
READS = {
    "stats": {"prog.pstats", "c.pstats"},
    "export": {"prog.pstats", "c.pstats"},
    "view": {"prog.pstats", "c.pstats", "prog.lprof", "kern.lprof",
             "prog.json", "mem.json", "prog.dat"},
    "mprof-peak": {"prog.dat"},
    "mprof-plot": {"prog.dat"},
}
KINDS = ["prog.pstats", "c.pstats", "prog.lprof", "kern.lprof", "prog.json",
         "mem.json", "prog.dat"]


def invoke(command, path, out_dir):
    if command == "stats":
        return run_pyprof("stats", path)
    if command == "export":
        return run_pyprof("export", path, "--format", "collapsed", "-o",
                          str(out_dir / "out.txt"))
    if command == "view":
        return run_pyprof("view", path, "-o", str(out_dir / "out.html"))
    if command == "mprof-peak":
        return run_pyprof("mprof", "peak", path)
    return run_pyprof("mprof", "plot", path, "-o", str(out_dir / "p.svg"))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("command", sorted(READS))
def test_each_command_reads_or_names_the_reader(files, tmp_path, command,
                                                kind):
    if kind not in files:
        pytest.skip("kernprof is not installed")
    r = invoke(command, files[kind], tmp_path)
    if kind in READS[command]:
        assert r.returncode == 0, r.stderr
        return
    # mprof's own status for a file it cannot use is 1; pyprof's is 2.
    assert r.returncode == (1 if command.startswith("mprof") else 2), \
        r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "marshal" not in lines[0] and "NaN" not in r.stdout
    assert (files[kind] + ": a") in lines[0], lines[0]
    assert "use `pyprof view" in lines[0] or "use `pyprof stats" in lines[0]


def page_data(html):
    m = re.search(r'<script type="application/json" id="profile-data">'
                  r'(.*?)</script>', html, re.S)
    return json.loads(m.group(1))


@pytest.mark.parametrize("kind", ["prog.lprof", "kern.lprof"])
def test_view_draws_an_lprof_with_line_profilers_hits(files, tmp_path, kind):
    if kind not in files:
        pytest.skip("kernprof is not installed")
    with open(files[kind], "rb") as f:
        stats = pickle.load(f)              # line_profiler's own reading
    want = {}
    for (filename, first, name), entries in stats.timings.items():
        for lineno, hits, _time in entries:
            want[(name, lineno)] = want.get((name, lineno), 0) + hits
    report = tmp_path / "lprof.html"
    r = run_pyprof("view", files[kind], "-o", str(report),
                   cwd=files["dir"])
    assert r.returncode == 0, r.stderr
    data = page_data(report.read_text())
    got = {(f["name"], line[0]): line[1]
           for f in data["functions"] for line in f["lines"] if line[1]}
    assert got == want and want
    assert data["functions"][0]["source"][0] == "@profile"


def test_view_of_lprof_matches_view_of_its_json(files, tmp_path):
    """The same recording as .lprof and as JSON draws the same lines: the
    JSON is read back from the .lprof's own numbers here (`pyprof lines`
    has no way to write both from one run)."""
    with open(files["prog.lprof"], "rb") as f:
        stats = pickle.load(f)
    doc = {"unit": "ns", "await": "excluded", "functions": []}
    for (filename, first, name), entries in stats.timings.items():
        by_line = {lineno: (hits, t) for lineno, hits, t in entries}
        last = max(by_line)
        doc["functions"].append({
            "file": filename, "name": name, "first_line": first,
            "total_ns": sum(t for _, t in by_line.values()),
            "lines": [{"line": n, "hits": by_line.get(n, (0, 0))[0],
                       "time_ns": by_line.get(n, (0, 0))[1]}
                      for n in range(first, last + 1)]})
    as_json = tmp_path / "same.json"
    as_json.write_text(json.dumps(doc))
    shutil.copy(files["prog.lprof"], tmp_path / "same.lprof")
    pages = []
    for name in ("same.json", "same.lprof"):
        r = run_pyprof("view", name, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert "same.lines.html" in r.stderr
        pages.append(page_data((tmp_path / "same.lines.html").read_text()))
    assert pages[0]["functions"] == pages[1]["functions"]


@pytest.mark.parametrize("damage", [b"", b"\x80\x02", b"\x80\x02cos\nsystem\n"
                                    b"X\x02\x00\x00\x00ls\x85R.",
                                    b"\x80\x05\x95\x00\x00\x00\x00\x00\x00"
                                    b"\x00\x00N."])
def test_view_refuses_a_damaged_or_foreign_pickle(tmp_path, damage):
    bad = tmp_path / "bad.lprof"
    bad.write_bytes(damage)
    r = run_pyprof("view", str(bad), "-o", str(tmp_path / "bad.html"))
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path / "bad.html").exists()


def test_a_directory_is_named_the_same_way_everywhere(files):
    for args in (["stats", files["dir"]], ["view", files["dir"]],
                 ["export", files["dir"], "--format", "collapsed"],
                 ["mprof", "peak", files["dir"]]):
        r = run_pyprof(*args)
        assert r.returncode == (1 if args[0] == "mprof" else 2), \
            (args, r.stderr)
        assert r.stderr.strip().endswith(files["dir"] + ": Is a directory"), \
            r.stderr


def test_mprof_peak_of_an_empty_dat_is_an_error(files):
    r = run_pyprof("mprof", "peak", files["empty.dat"])
    assert r.returncode == 1                      # mprof peak's own status
    assert "NaN" not in r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "no memory samples" in lines[0], r.stderr


def test_mprof_plot_writes_what_the_extension_says(files, tmp_path):
    svg = tmp_path / "plot.svg"
    html = tmp_path / "plot.html"
    for out in (svg, html):
        r = run_pyprof("mprof", "plot", files["prog.dat"], "-o", str(out))
        assert r.returncode == 0, r.stderr
    assert svg.read_text().startswith("<?xml") and "<svg" in svg.read_text()
    assert html.read_text().lstrip().lower().startswith("<!doctype html")
    png = tmp_path / "plot.png"
    r = run_pyprof("mprof", "plot", files["prog.dat"], "-o", str(png))
    assert r.returncode == 2 and not png.exists()
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and ".svg" in lines[0] and ".html" in lines[0]
