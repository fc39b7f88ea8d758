"""Every command's output file is written through its path, as cProfile's
dump_stats and kernprof write theirs: a symlink is written through, a hard
link and the file's mode survive, a FIFO's reader gets the bytes, a device
stays a device, and a full device is a one-line error with a non-zero exit.

The devices are nodes this test creates in its own temporary directory
(copies of /dev/null and /dev/full): the machine's own are never touched.
"""
import os
import stat
import sys
import threading

import pytest

from conftest import profile_program, run_pyprof

PROGRAM = """
import builtins
profile = getattr(builtins, "profile", lambda f: f)

@profile
def work(n):
    total = 0
    data = [i * 2 for i in range(n)]
    for x in data:
        total += x
    return total

print(work(20000))
"""


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A script, a pstats file and an mprof .dat for the commands to read."""
    root = tmp_path_factory.mktemp("inputs")
    script, pstats_file = profile_program(root, PROGRAM)
    dat = root / "prog.dat"
    r = run_pyprof("mprof", "run", "-o", str(dat), str(script))
    assert r.returncode == 0, r.stderr
    return {"script": str(script), "pstats": str(pstats_file),
            "dat": str(dat)}


# Each command, given the output path; and what its output starts with.
COMMANDS = {
    "run": (lambda i, o: ["run", "-o", o, i["script"]], b"{"),
    "lines": (lambda i, o: ["lines", "-o", o, i["script"]], b"\x80"),
    "memory": (lambda i, o: ["memory", "-o", o, i["script"]], b"{"),
    "stats": (lambda i, o: ["stats", i["pstats"], "-o", o], b"{"),
    "view": (lambda i, o: ["view", i["pstats"], "-o", o], b"<!DOCTYPE"),
    "view-flamegraph": (lambda i, o: ["view", i["pstats"], "--flamegraph",
                                      o], b"<?xml"),
    "export": (lambda i, o: ["export", i["pstats"], "--format",
                             "speedscope", "-o", o], b"{"),
    "mprof-run": (lambda i, o: ["mprof", "run", "-o", o, i["script"]],
                  b"CMDLINE"),
    "mprof-plot": (lambda i, o: ["mprof", "plot", i["dat"], "-o", o],
                   b"<?xml"),
}


def command(name, inputs, out):
    make, head = COMMANDS[name]
    return make(inputs, str(out)), head


def device(tmp_path, name, minor):
    """A character device node like /dev/null (minor 3) or /dev/full (7),
    made here, so that no test ever writes near the machine's own."""
    path = tmp_path / name
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, minor))
    except PermissionError:
        pytest.skip("creating device nodes needs root")
    return path


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_symlink_is_written_through(tmp_path, inputs, name):
    target = tmp_path / "real.out"
    target.write_bytes(b"old")
    link = tmp_path / "link.out"
    link.symlink_to(target)
    args, head = command(name, inputs, link)
    r = run_pyprof(*args, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert link.is_symlink()
    assert target.read_bytes().startswith(head)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_hard_link_and_mode_survive(tmp_path, inputs, name):
    out = tmp_path / "prof.out"
    out.write_bytes(b"old")
    out.chmod(0o600)
    twin = tmp_path / "twin.out"
    os.link(out, twin)
    args, head = command(name, inputs, out)
    r = run_pyprof(*args, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.stat().st_nlink == 2
    assert os.path.samefile(out, twin)
    assert twin.read_bytes().startswith(head)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_null_device_stays_a_device(tmp_path, inputs, name):
    null = device(tmp_path, "null", 3)
    args, _ = command(name, inputs, null)
    r = run_pyprof(*args, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    st = os.lstat(null)
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3)
    assert sorted(os.listdir(tmp_path)) == ["null"]   # no stray temp file


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_full_device_is_an_error(tmp_path, inputs, name):
    full = device(tmp_path, "full", 7)
    args, _ = command(name, inputs, full)
    r = run_pyprof(*args, cwd=tmp_path)
    assert r.returncode != 0, r.stderr
    errors = [line for line in r.stderr.splitlines()
              if "No space left on device" in line]
    assert len(errors) == 1, r.stderr
    assert str(full) in errors[0] and errors[0].startswith("pyprof")
    assert "wrote" not in r.stderr
    st = os.lstat(full)
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 7)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_fifo_reader_gets_the_output(tmp_path, inputs, name):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []

    def reader():
        with open(fifo, "rb") as f:
            got.append(f.read())

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    args, head = command(name, inputs, fifo)
    r = run_pyprof(*args, cwd=tmp_path, timeout=120)
    if thread.is_alive():           # nothing opened the FIFO: unblock it
        # Non-blocking: the reader may have just read and be finishing, and
        # a blocking open with no reader left would wait for ever.
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:             # ENXIO: no reader any more
            pass
    thread.join(10)
    assert r.returncode == 0, r.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert got and got[0].startswith(head), got


def test_api_dump_stats_writes_through(tmp_path):
    """Profile.dump_stats and LineProfiler.dump_stats use the same writer."""
    import pyprof
    target = tmp_path / "real.pstats"
    target.write_bytes(b"")
    target.chmod(0o600)
    link = tmp_path / "link.pstats"
    link.symlink_to(target)
    with pyprof.Profile() as prof:
        sum(range(100))
    prof.dump_stats(str(link))
    assert link.is_symlink() and target.read_bytes()[:1] == b"{"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    full = device(tmp_path, "full", 7)
    with pytest.raises(OSError, match="No space left"):
        prof.dump_stats(str(full))
    lp = pyprof.LineProfiler()
    with pytest.raises(OSError, match="No space left"):
        lp.dump_stats(str(full))
    assert stat.S_ISCHR(os.lstat(full).st_mode)


# -- The output path is checked before the program runs -------------------

SLOW_PROGRAM = """
import builtins, pathlib, sys
profile = getattr(builtins, "profile", lambda f: f)

@profile
def work():
    return sum(range(1000))

pathlib.Path(sys.argv[1]).write_text("ran")
work()
"""

RUNNERS = {
    "run": ["run"], "lines": ["lines"], "memory": ["memory"],
    "mprof-run": ["mprof", "run"],
}


def unwritable(tmp_path, kind):
    if kind == "missing-directory":
        return tmp_path / "no" / "such" / "dir" / "out.prof", \
            "No such file or directory"
    if kind == "directory":
        (tmp_path / "adir").mkdir()
        return tmp_path / "adir", "Is a directory"
    if os.geteuid() == 0:
        pytest.skip("root writes into a read-only directory")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    return ro / "out.prof", "Permission denied"


@pytest.mark.parametrize("kind", ["missing-directory", "directory",
                                  "read-only-directory"])
@pytest.mark.parametrize("name", sorted(RUNNERS))
def test_unwritable_output_refused_before_the_run(tmp_path, name, kind):
    script = tmp_path / "prog.py"
    script.write_text(SLOW_PROGRAM)
    marker = tmp_path / "ran"
    out, reason = unwritable(tmp_path, kind)
    r = run_pyprof(*RUNNERS[name], "-o", str(out), str(script), str(marker),
                   cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert not marker.exists(), "the program ran although -o was unwritable"
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("pyprof ") and str(out) in lines[0]
    assert reason in lines[0], lines[0]


@pytest.mark.parametrize("name", sorted(RUNNERS))
def test_check_neither_truncates_nor_leaves_a_file(tmp_path, name):
    """The early check opens an existing file without truncating it and
    removes a file it had to create: a program that is not found leaves
    the old profile as it was, and no empty file behind."""
    kept = tmp_path / "kept.out"
    kept.write_bytes(b"an older profile")
    fresh = tmp_path / "fresh.out"
    for out in (kept, fresh):
        r = run_pyprof(*RUNNERS[name], "-o", str(out),
                       str(tmp_path / "nosuch.py"), cwd=tmp_path)
        assert r.returncode == 2, r.stderr
    assert kept.read_bytes() == b"an older profile"
    assert not fresh.exists()


# -- pyprof view's default report names -----------------------------------

def test_view_default_names_never_collide(tmp_path, inputs):
    """prog.pstats, prog.json (lines), mem.json and prog.dat side by side:
    each kind of report gets its own default name, and each is named on
    stderr."""
    import shutil
    shutil.copy(inputs["pstats"], tmp_path / "prog.pstats")
    shutil.copy(inputs["dat"], tmp_path / "prog.dat")
    r = run_pyprof("lines", "-o", str(tmp_path / "prog.json"),
                   inputs["script"])
    assert r.returncode == 0, r.stderr
    r = run_pyprof("memory", "-o", str(tmp_path / "prog.mem"),
                   inputs["script"])
    assert r.returncode == 0, r.stderr
    (tmp_path / "prog.mem").rename(tmp_path / "prog.mem.json")
    expected = {"prog.pstats": "prog.html", "prog.json": "prog.lines.html",
                "prog.mem.json": "prog.mem.memory.html",
                "prog.dat": "prog.mprof.html"}
    for source, report in expected.items():
        r = run_pyprof("view", source, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert report in r.stderr and "wrote" in r.stderr, r.stderr
    pages = {report: (tmp_path / report).read_text()
             for report in expected.values()}
    assert len(set(pages.values())) == 4
    assert "prog.pstats" in pages["prog.html"]
    assert "prog.dat" in pages["prog.mprof.html"]


# -- -o's format follows its extension, one rule for every command --------

def test_txt_is_the_printed_table_for_lines_and_memory(tmp_path, inputs):
    for command, header in (("lines", "Timer unit:"),
                            ("memory", "Filename:")):
        out = tmp_path / (command + ".txt")
        r = run_pyprof(command, "-o", str(out), inputs["script"])
        assert r.returncode == 0, r.stderr
        assert header in out.read_text().splitlines()[0], command


@pytest.mark.parametrize("command", ["lines", "memory"])
def test_image_extension_refused_before_the_run(tmp_path, command):
    script = tmp_path / "prog.py"
    script.write_text(SLOW_PROGRAM)
    marker = tmp_path / "ran"
    out = tmp_path / "prof.png"
    r = run_pyprof(command, "-o", str(out), str(script), str(marker))
    assert r.returncode == 2, r.stderr
    assert not marker.exists() and not out.exists()
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and ".txt" in lines[0] and "png" in lines[0]


# -- run, stats, view and export follow the same rule -----------------------

def loads_as_pstats(path):
    """pstats.Stats (the oracle) reads the file; its function count."""
    import pstats
    return len(pstats.Stats(str(path)).stats)


@pytest.mark.parametrize("name", ["out.prof", "out.pstats", "profile.out",
                                  "prof", "run.PROF", "x.cprofile"])
def test_run_keeps_cprofiles_names_as_pstats(tmp_path, inputs, name):
    """What cProfile users type after -o is never refused: a pstats file
    that pstats.Stats reads."""
    out = tmp_path / name
    r = run_pyprof("run", "-o", str(out), inputs["script"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert loads_as_pstats(out) > 0


def test_run_writes_what_the_extension_says(tmp_path, inputs):
    import gzip
    import json
    import pstats
    outs = {}
    for ext in (".html", ".svg", ".pb.gz", ".speedscope.json", ".trace.json",
                ".collapsed", ".txt"):
        out = tmp_path / ("prog" + ext)
        r = run_pyprof("run", "-o", str(out), inputs["script"], cwd=tmp_path)
        assert r.returncode == 0, (ext, r.stderr)
        # the program's own output, and no table
        assert r.stdout == "%d\n" % sum(i * 2 for i in range(20000)), ext
        outs[ext] = out.read_bytes()
    assert outs[".html"].startswith(b"<!DOCTYPE html")
    assert b"work" in outs[".html"]
    assert outs[".svg"].startswith(b"<?xml") and b"<svg" in outs[".svg"]
    assert gzip.decompress(outs[".pb.gz"])          # a gzip stream
    speedscope = json.loads(outs[".speedscope.json"])
    assert "speedscope" in speedscope["$schema"]
    trace = json.loads(outs[".trace.json"])
    assert trace["traceEvents"]
    stacks = outs[".collapsed"].decode().splitlines()
    assert any(line.rsplit(" ", 1)[0].split(";")[-1].startswith("work (")
               for line in stacks), stacks
    assert all(line.rsplit(" ", 1)[1].isdigit() for line in stacks)
    table = outs[".txt"].decode()
    assert "ncalls" in table and "(work)" in table
    # the same table the command prints without -o
    printed = run_pyprof("run", inputs["script"], cwd=tmp_path).stdout
    header = [l for l in printed.splitlines() if "ncalls" in l]
    assert header and header[0] in table


@pytest.mark.parametrize("args", [
    ["run", "-o", "{out}.png", "{script}", "{marker}"],
    ["run", "-o", "{out}.json", "{script}", "{marker}"],
    ["run", "-o", "{out}.lprof", "{script}", "{marker}"],
    ["stats", "{pstats}", "-o", "{out}.html"],
    ["stats", "{pstats}", "-o", "{out}.svg"],
    ["view", "{pstats}", "-o", "{out}.png"],
    ["view", "{pstats}", "--flamegraph", "{out}.html"],
    ["export", "{pstats}", "--format", "speedscope", "-o", "{out}.svg"],
    ["export", "{pstats}", "--format", "speedscope", "-o", "{out}.pb.gz"],
    ["export", "{pstats}", "--format", "pprof", "-o", "{out}.json"],
    ["lines", "-o", "{out}.pstats", "{script}", "{marker}"],
    ["record", "-o", "{out}.png", "{script}", "{marker}"],
    ["record", "-o", "{out}.svg", "{script}", "{marker}"],
    ["record", "-o", "{out}.json", "{script}", "{marker}"],
    ["record", "-f", "pprof", "-o", "{out}.html", "{script}", "{marker}"],
])
def test_extension_of_another_format_is_refused(tmp_path, inputs, args):
    """One line naming what the command writes, exit 2, no file written,
    and nothing run."""
    script = tmp_path / "prog.py"
    script.write_text(SLOW_PROGRAM)
    marker = tmp_path / "ran"
    out = tmp_path / "prof"
    argv = [a.format(out=out, script=script, marker=marker,
                     pstats=inputs["pstats"]) for a in args]
    r = run_pyprof(*argv, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert not marker.exists()
    assert os.listdir(tmp_path) == ["prog.py"], os.listdir(tmp_path)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("pyprof " + args[0]), lines[0]
    assert "writes" in lines[0] or "names" in lines[0], lines[0]


def test_stats_txt_is_the_printed_report(tmp_path, inputs):
    out = tmp_path / "merged.txt"
    r = run_pyprof("stats", inputs["pstats"], "--limit", "5", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    printed = run_pyprof("stats", inputs["pstats"], "--limit", "5")
    assert out.read_text() == printed.stdout


def test_view_svg_output_is_the_flame_graph(tmp_path, inputs):
    out = tmp_path / "flame.svg"
    r = run_pyprof("view", inputs["pstats"], "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert out.read_bytes().startswith(b"<?xml")
    assert os.listdir(tmp_path) == ["flame.svg"]


def test_export_format_follows_the_extension(tmp_path, inputs):
    import gzip
    import json
    for name, check in (
            ("p.speedscope.json",
             lambda b: "speedscope" in json.loads(b)["$schema"]),
            ("p.trace.json", lambda b: "traceEvents" in json.loads(b)),
            ("p.folded", lambda b: b.split(b"\n")[0].rsplit(b" ", 1)[1]
             .isdigit()),
            ("callgrind.out.1", lambda b: b.startswith(b"# callgrind")
             or b"events:" in b),
            ("p.pb.gz", lambda b: len(gzip.decompress(b)) > 0)):
        out = tmp_path / name
        r = run_pyprof("export", inputs["pstats"], "-o", str(out))
        assert r.returncode == 0, (name, r.stderr)
        assert check(out.read_bytes()), name
    # a name that names no format needs --format, as before
    r = run_pyprof("export", inputs["pstats"], "-o", str(tmp_path / "p.out"))
    assert r.returncode == 2 and "--format" in r.stderr
    r = run_pyprof("export", inputs["pstats"], "--format", "speedscope",
                   "-o", str(tmp_path / "p.json"))
    assert r.returncode == 0, r.stderr
