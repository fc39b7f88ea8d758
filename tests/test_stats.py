"""`pyprof stats` against CPython's own pstats, the oracle.

Profiles are made here by cProfile (on whichever CPython runs the suite)
from real programs: a recursive one, the stdlib's json.tool, and programs
whose files share base names so that --strip-dirs has to merge functions
and callers.  For each, `pyprof stats ...` must print exactly what
`pstats.Stats(*files)[.strip_dirs()].sort_stats(*keys).print_xxx(...)`
prints, header lines included.  Broken and foreign files must give exit
status 2 and one line on stderr; pstats is asked to confirm that each of
them really is unreadable.
"""
import io
import marshal
import os
import pickle
import pstats
import shutil
import subprocess
import sys
import textwrap

import pytest

CORPUS = os.path.join(os.path.dirname(__file__), os.pardir, "fuzz", "corpus")

RECURSIVE = """\
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

def is_even(n):
    return True if n == 0 else is_odd(n - 1)

def is_odd(n):
    return False if n == 0 else is_even(n - 1)

def größe(xs):
    return sorted(xs, key=lambda x: (len(str(x)), -x))

def walk(depth):
    yield depth
    if depth:
        yield from walk(depth - 1)
        yield from walk(depth - 1)

class Node:
    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return "Node(%r)" % (self.value,)

print(fib(16), is_even(60), größe(range(40))[:3], sum(walk(6)),
      [Node(i) for i in range(3)])
"""

# Two packages with a util.py each: main's callers of `target` strip to
# the same util.py:1(call), and so do the two `call` functions.
UTIL = """\
def call(f, n):
    return [f(i) for i in range(n)]
"""

MAIN = """\
from pkg1 import util as u1
from pkg2 import util as u2

def target(i):
    return i * 2

print(sum(u1.call(target, 30)), sum(u2.call(target, 70)))
"""

WORK = """\
def work(n):
    return sum(helper(i) for i in range(n))

def helper(i):
    return i * i

print(work({n}))
"""


def cprofile(out, *args, cwd=None):
    subprocess.run([sys.executable, "-m", "cProfile", "-o", str(out), *args],
                   check=True, cwd=cwd, stdout=subprocess.DEVNULL)
    return str(out)


@pytest.fixture(scope="module")
def profiles(tmp_path_factory):
    root = tmp_path_factory.mktemp("profiles")
    made = {}

    prog_dir = root / "prog_é"
    prog_dir.mkdir()
    (prog_dir / "recursive.py").write_text(RECURSIVE, encoding="utf-8")
    made["recursive"] = cprofile(root / "recursive.prof",
                                 str(prog_dir / "recursive.py"))

    data = root / "in.json"
    data.write_text('[{"a": [1, 2.5, {"b": null}], "c": "d\\u00e9"}]')
    made["json"] = cprofile(root / "json.prof", "-m", "json.tool", str(data),
                            str(root / "out.json"))

    pkg_root = root / "pkgs"
    for pkg in ("pkg1", "pkg2"):
        (pkg_root / pkg).mkdir(parents=True)
        (pkg_root / pkg / "__init__.py").write_text("")
        (pkg_root / pkg / "util.py").write_text(UTIL)
    (pkg_root / "main.py").write_text(MAIN)
    made["packages"] = cprofile(root / "packages.prof", "main.py",
                                cwd=pkg_root)

    for name, n in (("a", 50), ("b", 90)):
        (root / name).mkdir()
        (root / name / "work.py").write_text(WORK.format(n=n))
        made["work_" + name] = cprofile(root / ("work_%s.prof" % name),
                                        str(root / name / "work.py"))
    return made


def oracle(files, keys=(), amounts=(), strip=False, report="stats"):
    """What pstats prints for these files and options."""
    out = io.StringIO()
    stats = pstats.Stats(*files, stream=out)
    if strip:
        stats.strip_dirs()
    if keys:
        stats.sort_stats(*keys)
    getattr(stats, "print_" + report)(*amounts)
    return out.getvalue()


def pyprof_stats(*args):
    """Run `python -m pyprof stats ARGS`; (status, stdout, stderr)."""
    proc = subprocess.run([sys.executable, "-m", "pyprof", "stats", *args],
                          capture_output=True)
    return (proc.returncode, proc.stdout.decode("utf-8"),
            proc.stderr.decode("utf-8"))


def cli_args(files, keys=(), amounts=(), strip=False, report="stats"):
    args = list(files)
    for key in keys:
        args += ["--sort", str(key)]
    if strip:
        args.append("--strip-dirs")
    amounts = list(amounts)
    if report != "stats":
        args += ["--" + report, amounts.pop(0)]
    for amount in amounts:
        args += ["--limit", repr(amount)]
    return args


def check_same(files, **options):
    want = oracle(files, **options)
    status, got, err = pyprof_stats(*cli_args(files, **options))
    assert (status, err) == (0, "")
    assert got == want


SORTS = [
    (),
    ("cumulative",),
    ("tottime", "name"),
    ("calls",),
    ("pcalls", "stdname"),
    ("filename", "line"),
    ("nfl",),
    ("stdname",),
    ("module", "ncalls", "cumtime"),
    ("cumu",),          # unique abbreviations, as pstats expands them
    ("tot", "li"),
    (-1,), (0,), (1,), (2,),    # the old profiler's integer codes
]


@pytest.mark.parametrize("keys", SORTS, ids=repr)
@pytest.mark.parametrize("name", ["recursive", "json"])
def test_print_stats_sorted(profiles, name, keys):
    check_same([profiles[name]], keys=keys)


@pytest.mark.parametrize("amounts", [(0,), (1,), (7,), (10000,), (-3,),
                                     (0.25,), (0.0,), (0.999,), (1.5,)],
                         ids=repr)
def test_print_stats_limit(profiles, amounts):
    check_same([profiles["json"]], keys=("time",), amounts=amounts)


@pytest.mark.parametrize("keys", [(), ("cumulative",), ("name", "line")],
                         ids=repr)
@pytest.mark.parametrize("name", ["recursive", "json", "packages"])
def test_strip_dirs(profiles, name, keys):
    check_same([profiles[name]], keys=keys, strip=True)


def test_strip_dirs_collisions(profiles):
    """Same base names in several directories: pstats sums colliding
    functions, and within one function keeps only the last of callers that
    collide; the callers report shows both effects."""
    files = [profiles["packages"], profiles["work_a"], profiles["work_b"]]
    before = pstats.Stats(*files).stats
    stripped = pstats.Stats(*files).strip_dirs().stats
    assert [f[2] for f in before].count("call") == 2
    assert [f[2] for f in stripped].count("call") == 1
    assert [f[2] for f in stripped].count("helper") == 1
    # target() is called 30 times via pkg1 and 70 via pkg2; its two callers
    # strip to one name and pstats keeps whichever edge cProfile listed
    # last (which one differs between CPython versions), unsummed.
    (target,) = [v for f, v in stripped.items() if f[2] == "target"]
    assert target[1] == 100
    assert sum(edge[0] for edge in target[4].values()) in (30, 70)
    check_same(files, keys=("stdname",), strip=True)
    check_same(files, keys=("stdname",), strip=True, report="callers",
               amounts=("util|work|target",))
    check_same(files, keys=("cumulative",), strip=True, report="callees",
               amounts=("call",))


def test_merge_several_files(profiles):
    """pstats.Stats(a, b, c) reads a, then c, then b: row order of ties and
    the header lines follow that."""
    files = [profiles["work_a"], profiles["recursive"], profiles["work_b"],
             profiles["json"]]
    for keys in [(), ("calls",), ("filename",)]:
        check_same(files, keys=keys)
    check_same(files, keys=("pcalls",), amounts=(12,))
    check_same([profiles["recursive"]] * 3, keys=("tottime",))


@pytest.mark.parametrize("report", ["callers", "callees"])
@pytest.mark.parametrize("pattern,keys,limit", [
    ("fib|is_even", ("cumulative",), None),
    (r"\(walk\)", ("name",), None),
    ("größe", (), None),
    (".", ("stdname",), 5),
    ("json", ("time",), 0.5),
    ("no-such-function", ("calls",), None),
    ("(", ("calls",), 3),           # invalid in both re and POSIX ERE
], ids=repr)
def test_callers_and_callees(profiles, report, pattern, keys, limit):
    amounts = (pattern,) if limit is None else (pattern, limit)
    files = [profiles["recursive"], profiles["json"]]
    check_same(files, keys=keys, report=report, amounts=amounts)


def test_cprofile_files_from_every_python():
    """The committed seeds were written by CPython 3.10-3.13 (and by marshal
    versions 0-3); this Python's pstats is the oracle for all of them."""
    names = sorted(os.listdir(CORPUS))
    assert any("3.10" in n for n in names) and any("3.13" in n for n in names)
    for name in names:
        path = os.path.join(CORPUS, name)
        check_same([path], keys=("cumulative", "name"))
        check_same([path], keys=("nfl",), report="callers", amounts=(".",))


def test_output_writes_what_pstats_would_dump(profiles, tmp_path):
    """--output: marshal.load of our writer's file is pstats' merged dict,
    in the same order, and pstats reads it back."""
    files = [profiles["recursive"], profiles["work_a"], profiles["packages"]]
    for strip in (False, True):
        out = tmp_path / ("merged-%d.prof" % strip)
        args = files + ["--output", str(out)] + (["--strip-dirs"] * strip)
        assert pyprof_stats(*args) == (0, "", "")
        want = pstats.Stats(*files)
        if strip:
            want.strip_dirs()
        with open(out, "rb") as f:
            got = marshal.load(f)
        assert got == want.stats
        assert list(got) == list(want.stats)
        for func, (cc, nc, tt, ct, callers) in got.items():
            assert list(callers) == list(want.stats[func][4])
        check_same([str(out)], keys=("cumulative",))
    assert not [p for p in os.listdir(tmp_path) if ".tmp" in p]


def test_output_error(profiles, tmp_path):
    status, out, err = pyprof_stats(profiles["recursive"], "--output",
                                    str(tmp_path / "no-dir" / "x.prof"))
    assert status == 1 and out == ""        # an output: exit 1 (README)
    assert err.startswith("pyprof stats: ") and err.count("\n") == 1


def broken_files(tmp_path, good):
    with open(good, "rb") as f:
        image = f.read()
    made = {
        "empty": b"",
        "truncated": image[:len(image) // 2],
        "truncated-by-one": image[:-1],
        "pickle": pickle.dumps({("a.py", 1, "f"): (1, 1, 0.0, 0.0, {})}),
        "text": b"just some text\n",
        "marshalled-list": marshal.dumps([1, 2, 3]),
        "wrong-shape-dict": marshal.dumps({1: 2}),
        "empty-dict": marshal.dumps({}),
        "code-object": marshal.dumps(compile("1", "x", "eval")),
    }
    paths = {}
    for name, data in made.items():
        path = tmp_path / (name + ".prof")
        path.write_bytes(data)
        paths[name] = str(path)
    paths["missing"] = str(tmp_path / "missing.prof")
    paths["directory"] = str(tmp_path)
    return paths


def test_broken_and_foreign_files(profiles, tmp_path):
    for name, path in broken_files(tmp_path, profiles["recursive"]).items():
        with pytest.raises(Exception):
            pstats.Stats(path, stream=io.StringIO())    # the oracle agrees
        for args in ([path], [profiles["recursive"], path, "--sort", "time"]):
            status, out, err = pyprof_stats(*args)
            assert status == 2, name
            assert out == "", name
            assert err.startswith("pyprof stats: %s: " % path), (name, err)
            assert err.endswith("\n") and err.count("\n") == 1, (name, err)


def test_bad_usage(profiles):
    good = profiles["recursive"]
    for args in ([], [good, "--sort", "cum"], [good, "--sort", "3"],
                 [good, "--limit", "many"], [good, "--callers"],
                 [good, "--bogus"], [good, "-s", "2", "-s", "time"]):
        status, out, err = pyprof_stats(*args)
        assert status == 2 and out == "", args
        assert err.startswith("pyprof"), args
    status, out, err = pyprof_stats("--help")
    assert status == 0 and "--strip-dirs" in out and err == ""


def test_profile_written_by_our_writer(tmp_path):
    """pyprof.Profile().dump_stats() goes through the C writer; pstats must
    load it and `pyprof stats` must print it as pstats does."""
    import pyprof
    try:
        profile = pyprof.Profile()
    except NotImplementedError:
        pytest.skip("pyprof.Profile is not implemented yet (engine)")

    def fib(n):
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    profile.enable()
    fib(12)
    profile.disable()
    path = str(tmp_path / "ours.prof")
    profile.dump_stats(path)
    stats = pstats.Stats(path, stream=io.StringIO())
    fibs = [v for k, v in stats.stats.items() if k[2] == "fib"]
    assert len(fibs) == 1 and fibs[0][1] == 465 and fibs[0][0] == 1
    for keys in [(), ("cumulative",), ("calls", "name")]:
        check_same([path], keys=keys)
    check_same([path], report="callers", amounts=("fib",))
