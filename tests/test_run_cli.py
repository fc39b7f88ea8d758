"""`pyprof run` and the runner under it, against oracles nobody here wrote.

- The program must see what it sees under plain `python` (sys.argv,
  sys.path[0], __name__, __file__, __spec__, ...), exit with the same
  status and print the same traceback: every such test runs the program
  both ways and compares.
- The profile must hold the functions and call counts (total and
  primitive) that `python -m cProfile -o` records for the same program.

The runner's behaviour is also reachable through `pyprof time`, which
needs no profiler; those cases run even before the engine and the pstats
writer are built.  Tests that need them skip until then, and only then.
"""
import json
import os
import pstats
import re
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import pyprof

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CONSOLE_SCRIPT = os.path.join(os.path.dirname(sys.executable), "pyprof")
LAUNCHERS = {
    "python -m pyprof": [sys.executable, "-m", "pyprof"],
    "pyprof": [CONSOLE_SCRIPT],
}


def _engine_missing():
    try:
        pyprof.Profile()
    except NotImplementedError as exc:
        return "engine not built yet (%s)" % exc
    return None


def _pipeline_missing():
    """Why a profile cannot be exported, written and printed yet, if so."""
    reason = _engine_missing()
    if reason:
        return reason
    for name in ("stats.c", "pstats_file.c", "report.c"):
        path = os.path.join(ROOT, "src", "core", name)
        if os.path.exists(path):
            with open(path) as source:
                if "placeholder" in source.readline():
                    return "src/core/%s is still a placeholder" % name
    return None


needs_engine = pytest.mark.skipif(_engine_missing() is not None,
                                  reason=str(_engine_missing()))
needs_pipeline = pytest.mark.skipif(_pipeline_missing() is not None,
                                    reason=str(_pipeline_missing()))


def write(directory, name, source, encoding="utf-8"):
    path = os.path.join(str(directory), name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding=encoding) as f:
        f.write(textwrap.dedent(source))
    return path


def run(cmd, cwd, **kwargs):
    kwargs.setdefault("timeout", 300)
    return subprocess.run(cmd, cwd=str(cwd), capture_output=True, text=True,
                          **kwargs)


def python(args, cwd):
    return run([sys.executable, *args], cwd)


def pyprof_cmd(launcher, command, args, tmp_path):
    """The pyprof command line that runs `args` (a program as python takes
    it) once or a few times with the program's stdout kept clean: `time`
    runs it twice (-n 1 -r 1), `run` writes its profile to a file."""
    base = LAUNCHERS[launcher]
    if command == "time":
        return [*base, "time", "-n", "1", "-r", "1", *args]
    return [*base, "run", "-o", str(tmp_path / "out.prof"), *args]


@pytest.fixture(params=sorted(LAUNCHERS))
def launcher(request):
    if request.param == "pyprof" and not os.path.exists(CONSOLE_SCRIPT):
        pytest.skip("no pyprof console script next to %s" % sys.executable)
    return request.param


@pytest.fixture(params=["time", pytest.param("run", marks=needs_pipeline)])
def command(request):
    return request.param


# --------------------------------------------------------------------------
# What the program sees

OBSERVE = """\
    import json, pickle, sys

    class Point:
        pass

    spec = globals().get("__spec__")
    loader = globals().get("__loader__")
    print(json.dumps({
        "argv": sys.argv,
        "path0": sys.path[0],
        "name": __name__,
        "file": globals().get("__file__", "<absent>"),
        "spec": None if spec is None else [spec.name, spec.origin],
        "cached": globals().get("__cached__", "<absent>"),
        "package": globals().get("__package__", "<absent>"),
        "doc": globals().get("__doc__", "<absent>"),
        "keys": list(globals()),
        "loader": loader.__name__ if isinstance(loader, type)
                  else type(loader).__name__,
        "builtins": type(__builtins__).__name__,
        "main_is_this_module": sys.modules["__main__"].__dict__ is globals(),
        "pickle_round_trip": type(pickle.loads(pickle.dumps(Point()))).__name__,
    }))
"""


@pytest.fixture
def observe_tree(tmp_path):
    write(tmp_path, "prog/observe.py", OBSERVE)
    write(tmp_path, "pkg/__init__.py", "")
    write(tmp_path, "pkg/observe.py", OBSERVE)
    return tmp_path


PROGRAMS = {
    "script": ["prog/observe.py", "a", "-b", "--c=d"],
    "script, unnormalised path": ["./prog/../prog/observe.py", "x"],
    "module": ["-m", "pkg.observe", "y", "-m", "z"],
    "code": ["-c", textwrap.dedent(OBSERVE), "q", "-c"],
}


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_program_sees_what_python_shows(program, launcher, command,
                                        observe_tree):
    args = PROGRAMS[program]
    expected = python(args, observe_tree)
    assert expected.returncode == 0, expected.stderr
    got = run(pyprof_cmd(launcher, command, args, observe_tree), observe_tree)
    assert got.returncode == 0, got.stderr
    first_run = got.stdout.splitlines()[0]
    assert json.loads(first_run) == json.loads(expected.stdout)


def test_absolute_script_path(observe_tree):
    script = str(observe_tree / "prog" / "observe.py")
    expected = python([script], observe_tree)
    got = run(pyprof_cmd("python -m pyprof", "time", [script], observe_tree),
              observe_tree)
    assert json.loads(got.stdout.splitlines()[0]) == json.loads(expected.stdout)


def test_isolated_mode_adds_no_program_directory(observe_tree):
    """Under -I python puts no script directory on sys.path; nor do we."""
    script = str(observe_tree / "prog" / "observe.py")
    expected = run([sys.executable, "-I", script], observe_tree)
    got = run([sys.executable, "-I", "-m", "pyprof", "time", "-n", "1", "-r",
               "1", script], observe_tree)
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout.splitlines()[0]) == json.loads(expected.stdout)
    assert json.loads(expected.stdout)["path0"] != str(observe_tree / "prog")


def test_symlinked_script_puts_its_real_directory_on_sys_path(observe_tree):
    os.makedirs(observe_tree / "links")
    os.symlink(observe_tree / "prog" / "observe.py",
               observe_tree / "links" / "link.py")
    args = ["links/link.py"]
    expected = json.loads(python(args, observe_tree).stdout)
    got = run(pyprof_cmd("python -m pyprof", "time", args, observe_tree),
              observe_tree)
    assert json.loads(got.stdout.splitlines()[0]) == expected
    assert expected["path0"] == str(observe_tree / "prog")


def test_directory_with_main_runs_like_python(tmp_path):
    write(tmp_path, "app/__main__.py", """\
        import sys
        print(sys.argv, sys.path[0], __name__, __spec__.name)
    """)
    expected = python(["app", "1"], tmp_path)
    got = run(pyprof_cmd("python -m pyprof", "time", ["app", "1"], tmp_path),
              tmp_path)
    assert got.returncode == 0, got.stderr
    assert got.stdout.splitlines()[0] == expected.stdout.strip()


def test_every_run_starts_from_the_same_state(tmp_path):
    """`time` runs the program repeatedly: sys.argv, sys.path and __main__
    must be put back after each run."""
    prog = write(tmp_path, "state.py", """\
        import sys
        print(len(sys.path), sys.argv, globals().get("seen", "fresh"))
        seen = True
        sys.path.insert(0, "/nowhere")
        sys.argv.append("more")
    """)
    got = run([*LAUNCHERS["python -m pyprof"], "time", "-n", "3", "-r", "2",
               prog, "arg"], tmp_path)
    assert got.returncode == 0, got.stderr
    lines = [line for line in got.stdout.splitlines() if "fresh" in line]
    assert len(lines) == 1 + 3 * 2
    assert len(set(lines)) == 1
    expected = python([prog, "arg"], tmp_path).stdout.strip()
    assert lines[0] == expected


def test_options_after_the_program_belong_to_it(tmp_path):
    prog = write(tmp_path, "args.py", "import sys; print(sys.argv[1:])\n")
    got = run([*LAUNCHERS["python -m pyprof"], "time", "-n", "1", "-r", "1",
               prog, "-n", "5", "-q", "--help"], tmp_path)
    assert got.returncode == 0, got.stderr
    assert got.stdout.splitlines()[0] == "['-n', '5', '-q', '--help']"


def test_encoding_cookie_is_honoured(tmp_path, command):
    prog = write(tmp_path, "latin.py", """\
        # -*- coding: latin-1 -*-
        word = "café"
        print(ascii(word), len(word))
    """, encoding="latin-1")
    expected = python([prog], tmp_path)
    assert expected.stdout == "'caf\\xe9' 4\n"
    got = run(pyprof_cmd("python -m pyprof", command, [prog], tmp_path),
              tmp_path)
    assert got.returncode == 0, got.stderr
    assert got.stdout.splitlines()[0] == expected.stdout.strip()


# --------------------------------------------------------------------------
# How the program ends

ENDINGS = {
    "returns": "x = 1\n",
    "sys.exit(3)": "import sys\nsys.exit(3)\n",
    "sys.exit()": "import sys\nsys.exit()\n",
    "sys.exit(message)": "import sys\nsys.exit('giving up: no input')\n",
    "raises": """\
        def inner():
            raise ValueError("bad value")

        def outer():
            inner()

        outer()
    """,
    "syntax error": "def broken(:\n    pass\n",
    "exception chain": """\
        try:
            {}["missing"]
        except KeyError as exc:
            raise RuntimeError("lookup failed") from exc
    """,
}


@pytest.mark.parametrize("ending", sorted(ENDINGS))
def test_exit_status_and_stderr_match_python(ending, command, tmp_path):
    prog = write(tmp_path, "ending.py", ENDINGS[ending])
    expected = python([prog], tmp_path)
    got = run(pyprof_cmd("python -m pyprof", command, [prog], tmp_path),
              tmp_path)
    assert got.returncode == expected.returncode
    # Python's own message (traceback, SystemExit text) comes first and
    # unchanged; pyprof may add one line of its own after it.
    assert got.stderr.startswith(expected.stderr)
    extra = got.stderr[len(expected.stderr):]
    assert extra.count("\n") <= 1, extra


def test_missing_script_is_one_line_and_status_2(launcher, tmp_path):
    for cmd in (["time"], ["run"]):
        if cmd == ["run"] and _engine_missing():
            continue
        got = run([*LAUNCHERS[launcher], *cmd, "nosuch.py"], tmp_path)
        assert got.returncode == 2 == python(["nosuch.py"], tmp_path).returncode
        assert got.stderr == ("pyprof: can't open file 'nosuch.py': "
                              "[Errno 2] No such file or directory\n")
        assert got.stdout == ""


@pytest.mark.parametrize("cmd", [["time"], ["run"], ["lines"], ["memory"],
                                 ["heap"], ["record"], ["mprof", "run"]])
def test_missing_module_prints_what_python_prints(cmd, tmp_path):
    """`pyprof CMD -m nosuchmod` prints what `python -m nosuchmod` prints
    with the same interpreter ("/path/python: No module named nosuchmod"),
    exit status 1, and nothing else."""
    if cmd != ["time"] and _engine_missing():
        pytest.skip("no engine")
    expected = python(["-m", "nosuch_module_xyz"], tmp_path)
    assert expected.stderr == (sys.executable
                               + ": No module named nosuch_module_xyz\n")
    for launcher in LAUNCHERS:
        got = run([*LAUNCHERS[launcher], *cmd, "-m", "nosuch_module_xyz"],
                  tmp_path)
        assert got.returncode == expected.returncode == 1, got.stderr
        assert got.stderr == expected.stderr, launcher
        assert got.stdout == ""


SPINNER = """\
    import time

    def tick(n):
        return sum(range(n))

    print("ready", flush=True)
    while True:
        tick(100)
        time.sleep(0.001)
"""


def interrupt(cmd, cwd):
    """Start cmd, wait for the program's "ready", send SIGINT."""
    proc = subprocess.Popen(cmd, cwd=str(cwd), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "ready\n"
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode, out, err


def test_ctrl_c_exits_130_with_python_s_message(launcher, tmp_path):
    prog = write(tmp_path, "spin.py", SPINNER)
    status, out, err = interrupt(
        [*LAUNCHERS[launcher], "time", "-n", "1", "-r", "1", prog], tmp_path)
    assert status == 130
    assert err.startswith("Traceback (most recent call last):\n")
    assert err.rstrip().endswith("KeyboardInterrupt")


@needs_pipeline
def test_ctrl_c_still_writes_the_profile(launcher, tmp_path):
    prog = write(tmp_path, "spin.py", SPINNER)
    out_file = tmp_path / "spin.prof"
    status, out, err = interrupt(
        [*LAUNCHERS[launcher], "run", "-o", str(out_file), prog], tmp_path)
    assert status == 130, err
    assert err.rstrip().endswith("pyprof: wrote %s" % out_file)
    assert "KeyboardInterrupt" in err
    stats = pstats.Stats(str(out_file)).stats
    ticks = [value for key, value in stats.items()
             if key[0] == prog and key[2] == "tick"]
    assert len(ticks) == 1 and ticks[0][1] >= 1


# --------------------------------------------------------------------------
# The profile, against python -m cProfile -o

# Frames that belong to a profiler's own machinery rather than the program.
def profiler_own(key):
    filename, _, name = key
    return (filename == "<string>" or "runpy" in filename
            or filename.endswith(("cProfile.py", "profile.py"))
            or "'disable'" in name or "'enable'" in name)


def profile_counts(path, keep=lambda filename: True):
    """{(file, line, name): (primitive calls, total calls)} of the Python
    functions in a pstats file, without profilers' own frames."""
    stats = pstats.Stats(str(path)).stats
    return {key: value[:2] for key, value in stats.items()
            if key[0] != "~" and not profiler_own(key) and keep(key[0])}


def profile_both(args, tmp_path, keep=lambda filename: True):
    """Profile args with cProfile and pyprof; both exit statuses and counts."""
    ours, theirs = tmp_path / "pyprof.prof", tmp_path / "cprofile.prof"
    expected = python(["-m", "cProfile", "-o", str(theirs), *args], tmp_path)
    got = run([*LAUNCHERS["python -m pyprof"], "run", "-o", str(ours), *args],
              tmp_path)
    assert got.stderr.endswith("pyprof: wrote %s\n" % ours), got.stderr
    assert got.stdout == expected.stdout
    return (got.returncode, profile_counts(ours, keep),
            expected.returncode, profile_counts(theirs, keep))


RECURSIVE = """\
    def fib(n):
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    def is_even(n):
        return True if n == 0 else is_odd(n - 1)

    def is_odd(n):
        return False if n == 0 else is_even(n - 1)

    class Tree:
        def __init__(self, depth):
            self.children = [Tree(depth - 1) for _ in range(2)] if depth else []

        def size(self):
            return 1 + sum(child.size() for child in self.children)

    print(fib(15), is_even(21), Tree(6).size(), sorted([3, 1, 2], key=abs))
"""

GENERATORS = """\
    def numbers(n):
        for i in range(n):
            yield i

    def pairs(n):
        yield from zip(numbers(n), numbers(n))

    def total():
        return sum(numbers(100)) + sum(a * b for a, b in pairs(30))

    for _ in range(3):
        print(total(), [x * 2 for x in numbers(5)])
"""


@needs_pipeline
@pytest.mark.parametrize("source", [RECURSIVE, GENERATORS],
                         ids=["recursion", "generators"])
def test_counts_equal_cprofile(source, tmp_path):
    prog = write(tmp_path, "prog.py", source)
    ours_status, ours, theirs_status, theirs = profile_both([prog], tmp_path)
    assert ours_status == theirs_status == 0
    assert ours == theirs
    assert (prog, 1, "<module>") in ours


@needs_pipeline
def test_counts_equal_cprofile_for_a_stdlib_test_module(tmp_path):
    """`-m unittest test.test_colorsys`: the test module, the module it tests
    and unittest itself, all imported and run inside the profile."""
    def keep(filename):
        parts = filename.replace(os.sep, "/")
        return (parts.endswith(("/colorsys.py", "/test_colorsys.py"))
                or "/unittest/" in parts)

    ours_status, ours, theirs_status, theirs = profile_both(
        ["-m", "unittest", "test.test_colorsys"], tmp_path, keep)
    assert ours_status == theirs_status == 0
    assert ours == theirs
    assert any(key[2] == "rgb_to_hsv" and key[0].endswith("colorsys.py")
               for key in ours)


THREADS = """\
    import threading

    def square(x):
        return x * x

    def crunch(n):
        return sum(square(i) for i in range(n))

    def worker():
        for _ in range(50):
            crunch(10)

    def main_only():
        return crunch(5)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    for _ in range(7):
        main_only()
"""


@needs_pipeline
def test_threads_main_thread_equals_cprofile_and_worker_is_counted(tmp_path):
    prog = write(tmp_path, "threads.py", THREADS)

    def in_program(filename):
        return filename == prog

    ours_status, ours, theirs_status, theirs = profile_both(
        [prog], tmp_path, in_program)
    assert ours_status == theirs_status == 0
    # cProfile follows only the main thread before 3.12; compare what runs
    # in the main thread alone.
    shared = {"square", "crunch", "<genexpr>", "worker"}
    assert ({k: v for k, v in ours.items() if k[2] not in shared}
            == {k: v for k, v in theirs.items() if k[2] not in shared})
    by_name = {key[2]: value for key, value in ours.items()}
    assert by_name["worker"] == (1, 1)
    assert by_name["crunch"] == (57, 57)        # 50 in the worker, 7 in main
    assert by_name["square"] == (535, 535)      # 500 + 35
    assert by_name["main_only"] == (7, 7)


@needs_pipeline
@pytest.mark.parametrize("ending,status", [("sys.exit(3)", 3), ("raises", 1),
                                           ("sys.exit(message)", 1)])
def test_profile_written_however_the_program_ends(ending, status, tmp_path):
    prog = write(tmp_path, "ending.py", "def work():\n    return 1\n\nwork()\n"
                 + textwrap.dedent(ENDINGS[ending]))
    out_file = tmp_path / "ending.prof"
    got = run([*LAUNCHERS["python -m pyprof"], "run", "-o", str(out_file),
               prog], tmp_path)
    assert got.returncode == status
    assert got.stderr.endswith("pyprof: wrote %s\n" % out_file)
    assert profile_counts(out_file)[(prog, 1, "work")] == (1, 1)


@needs_pipeline
def test_relative_outfile_survives_chdir(tmp_path):
    os.makedirs(tmp_path / "elsewhere")
    prog = write(tmp_path, "wander.py",
                 "import os\nos.chdir('elsewhere')\n")
    got = run([*LAUNCHERS["python -m pyprof"], "run", "-o", "here.prof", prog],
              tmp_path)
    assert got.returncode == 0, got.stderr
    assert got.stderr == "pyprof: wrote here.prof\n"
    assert os.path.exists(tmp_path / "here.prof")
    assert not os.path.exists(tmp_path / "elsewhere" / "here.prof")


TABLE_ROW = re.compile(r"^\s*(?P<ncalls>\d+(?:/\d+)?)\s+[\d.]+\s+[\d.]+\s+"
                       r"[\d.]+\s+[\d.]+\s+(?P<where>.*)$")


def table(stdout):
    """The ncalls column of a cProfile table, keyed by its last column, and
    the 'Ordered by' line."""
    rows = {}
    order = None
    for line in stdout.splitlines():
        match = TABLE_ROW.match(line)
        if match:
            rows[match["where"]] = match["ncalls"]
        elif line.strip().startswith("Ordered by:"):
            order = line.strip()
    return order, rows


@needs_pipeline
@pytest.mark.parametrize("sort", ["calls", "cumulative", "tottime"])
def test_printed_table_matches_cprofile(sort, tmp_path):
    prog = write(tmp_path, "prog.py", RECURSIVE)
    expected = python(["-m", "cProfile", "-s", sort, prog], tmp_path)
    got = run([*LAUNCHERS["python -m pyprof"], "run", "-s", sort, prog],
              tmp_path)
    assert got.returncode == expected.returncode == 0, got.stderr
    assert got.stderr == ""
    order, rows = table(got.stdout)
    expected_order, expected_rows = table(expected.stdout)
    assert order == expected_order
    program_rows = {where: n for where, n in expected_rows.items()
                    if where.startswith("prog.py:")}
    assert program_rows and {where: rows.get(where)
                             for where in program_rows} == program_rows
    assert got.stdout.splitlines()[0] == expected.stdout.splitlines()[0]


@needs_pipeline
def test_default_table_is_ordered_as_cprofile_orders_it(tmp_path):
    prog = write(tmp_path, "prog.py", RECURSIVE)
    got = run([*LAUNCHERS["python -m pyprof"], "run", prog], tmp_path)
    assert got.returncode == 0, got.stderr
    order, rows = table(got.stdout)
    expected = run([sys.executable, "-m", "cProfile", prog], tmp_path)
    assert order == table(expected.stdout)[0]  # stdname on 3.10, cumulative after
    assert rows["prog.py:1(fib)"] == "1973/1"
    # strip_dirs() by default; --full-paths keeps directories.
    full = run([*LAUNCHERS["python -m pyprof"], "run", "--full-paths", prog],
               tmp_path)
    assert table(full.stdout)[1]["%s:1(fib)" % prog] == "1973/1"


@needs_pipeline
def test_invalid_sort_key_fails_before_running(tmp_path):
    prog = write(tmp_path, "marker.py", "open('ran', 'w').close()\n")
    got = run([*LAUNCHERS["python -m pyprof"], "run", "-s", "bogus", prog],
              tmp_path)
    assert got.returncode == 2
    assert "bogus" in got.stderr and len(got.stderr.splitlines()) == 1
    assert not os.path.exists(tmp_path / "ran")


def test_usage_errors_exit_2(tmp_path):
    for args in (["run"], ["run", "-o"], ["run", "--clock", "sundial", "x.py"],
                 ["run", "--limit", "-3", "x.py"], ["time", "-r", "0", "x.py"],
                 ["time", "--bogus", "x.py"], ["run", "-m"]):
        got = run([*LAUNCHERS["python -m pyprof"], *args], tmp_path)
        assert got.returncode == 2, args
        assert got.stderr.startswith("pyprof"), (args, got.stderr)
        assert got.stdout == ""
        # a bound is a number a person typed (issue #13 item 9: -r 0 was
        # refused with a bound of 922337203685477580)
        assert not re.search(r"\d{10,}", got.stderr), (args, got.stderr)


def test_help(tmp_path):
    for command in ("run", "time"):
        got = run([*LAUNCHERS["python -m pyprof"], command, "--help"],
                  tmp_path)
        assert got.returncode == 0
        assert got.stdout.startswith("usage: pyprof %s " % command)
