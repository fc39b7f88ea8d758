"""`pyprof lines`, pyprof.LineProfiler and pyprof.profile.

Oracles nobody here wrote:
  - hits per line: a sys.settrace line counter (tests/lines_oracle.py) run
    on the same deterministic program, for every construct
    (tests/programs/lines_cases.py) and the blog's Julia set;
  - the layout: line_profiler itself (`python -m line_profiler`) printing
    our .lprof must print the very table `pyprof lines` printed;
  - time: sleeps of known length (a sleeping line cannot take less).
"""
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap

import pytest

import pyprof
from conftest import PROGRAMS, ROOT, run_pyprof

HERE = os.path.dirname(os.path.abspath(__file__))
ORACLE = os.path.join(HERE, "lines_oracle.py")
CASES = os.path.join(PROGRAMS, "lines_cases.py")
JULIA = os.path.join(ROOT, "examples", "julia_set.py")

try:
    import line_profiler  # noqa: F401
    HAVE_LINE_PROFILER = True
except ImportError:
    HAVE_LINE_PROFILER = False


def write(directory, name, source):
    path = os.path.join(str(directory), name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(textwrap.dedent(source))
    return path


def oracle_hits(script, tmp_path):
    out = os.path.join(str(tmp_path), "oracle.json")
    subprocess.run([sys.executable, ORACLE, out, script], check=True,
                   capture_output=True, timeout=600)
    with open(out) as f:
        raw = json.load(f)
    return {(os.path.realpath(k.rsplit(":", 1)[0]), int(k.rsplit(":", 1)[1])): v
            for k, v in raw.items()}


def lines_json(tmp_path, *args, check=True):
    """`pyprof lines -o F.json ARGS`, counting every iteration of
    comprehensions, as the settrace oracle sees them."""
    out = os.path.join(str(tmp_path), "lines.json")
    proc = run_pyprof("lines", "--comprehension-lines", "-o", out, *args)
    if check:
        assert proc.returncode == 0, proc.stderr
    with open(out) as f:
        return json.load(f), proc


def hits_of(data):
    hits = {}
    for func in data["functions"]:
        for line in func["lines"]:
            if line["hits"]:
                key = (os.path.realpath(func["file"]), line["line"])
                hits[key] = hits.get(key, 0) + line["hits"]
    return hits


def function(data, name):
    found = [f for f in data["functions"] if f["name"] == name]
    assert len(found) == 1, [f["name"] for f in data["functions"]]
    return found[0]


def line_of(path, text):
    """The 1-based number of the first line of `path` containing text."""
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if text in line:
                return number
    raise AssertionError(text)


@pytest.fixture
def julia(tmp_path):
    """The blog's Julia set with @profile on calc_point_val, unmodified
    otherwise (kernprof's workflow)."""
    with open(JULIA) as f:
        source = f.read()
    source = source.replace("def calc_point_val(",
                            "@profile\ndef calc_point_val(")
    return write(tmp_path, "julia_set.py", source)


# ---- hits: the settrace oracle ---------------------------------------------

# Below 3.12 the engine has two ways of keeping tracing to the selected
# frames (src/lines/lines_legacy.c): the PEP 523 frame hook, and profile
# gating when it is turned off (or another tool holds a hook).  Both must
# count the same.
HOOK_MODES = ([{}, {"PYPROF_NO_FRAME_HOOK": "1"}]
              if sys.version_info < (3, 12) else [{}])


@pytest.mark.parametrize("mode", HOOK_MODES,
                         ids=lambda m: "gating" if m else "default")
def test_hits_match_settrace_on_every_construct(tmp_path, mode):
    out = os.path.join(str(tmp_path), "lines.json")
    proc = run_pyprof("lines", "--comprehension-lines", "-o", out, CASES,
                      env=dict(os.environ, **mode))
    assert proc.returncode == 0, proc.stderr
    with open(out) as f:
        data = json.load(f)
    assert hits_of(data) == oracle_hits(CASES, tmp_path)


def test_hits_match_settrace_on_the_julia_set(julia, tmp_path):
    data, _ = lines_json(tmp_path, julia)
    ours = hits_of(data)
    assert ours == oracle_hits(julia, tmp_path)
    # The line before a `break`, which line_profiler 4.0 miscounts on 3.11.
    assert ours[(os.path.realpath(julia),
                 line_of(julia, "if no_iter >= max_iters"))] == 2278634


def test_threads_are_profiled(tmp_path):
    data, _ = lines_json(tmp_path, CASES)
    func = function(data, "in_thread")
    body = line_of(CASES, "acc += i * i")
    hits = {l["line"]: l["hits"] for l in func["lines"]}
    assert hits[body] == 50 + 51 + 52


def test_never_called_function_is_listed_with_zero_hits(tmp_path):
    data, _ = lines_json(tmp_path, CASES)
    func = function(data, "never_called")
    assert func["first_line"] == line_of(CASES, "def never_called") - 1
    assert [l["hits"] for l in func["lines"]] == [0, 0, 0]
    proc = run_pyprof("lines", CASES)
    assert "Function: never_called at line %d" % func["first_line"] \
        in proc.stdout


# ---- time ----------------------------------------------------------------

SLEEPERS = """\
import asyncio
import time


@profile
def recursive_sleep(n):
    time.sleep(0.02)
    if n > 1:
        recursive_sleep(n - 1)
    return n


@profile
def slow_items(n):
    for i in range(n):
        time.sleep(0.02)
        yield i


@profile
async def waiter():
    await asyncio.sleep(0.1)
    return 1


if __name__ == "__main__":
    recursive_sleep(5)
    for item in slow_items(3):
        time.sleep(0.02)
    asyncio.run(waiter())
"""


def test_lines_add_up_and_recursion_is_not_counted_twice(tmp_path):
    script = write(tmp_path, "sleepers.py", SLEEPERS)
    data, _ = lines_json(tmp_path, script)
    func = function(data, "recursive_sleep")
    assert func["total_ns"] == sum(l["time_ns"] for l in func["lines"])
    by_line = {l["line"]: l for l in func["lines"]}
    sleep = by_line[line_of(script, "time.sleep(0.02)")]
    assert sleep["hits"] == 5
    assert sleep["time_ns"] >= 5 * 0.02e9
    # Five nested calls sleeping 20 ms each: 100 ms in all.  Charging the
    # recursive call's line with the callee's time too would make it 300.
    assert 0.1e9 <= func["total_ns"] < 0.2e9
    assert by_line[line_of(script, "recursive_sleep(n - 1)")]["time_ns"] \
        < 0.05e9


def test_generator_time_is_in_its_body(tmp_path):
    script = write(tmp_path, "sleepers.py", SLEEPERS)
    data, _ = lines_json(tmp_path, script)
    func = function(data, "slow_items")
    lines = {l["line"]: l for l in func["lines"]}
    body = line_of(script, "        time.sleep(0.02)")
    assert lines[body]["hits"] == 3
    assert lines[body]["time_ns"] >= 3 * 0.02e9
    # The consumer sleeps 60 ms between items: not the generator's time.
    assert func["total_ns"] < 3 * 0.02e9 + 0.05e9


def test_await_is_on_cpu_by_default_and_wall_with_the_option(tmp_path):
    script = write(tmp_path, "sleepers.py", SLEEPERS)
    line = line_of(script, "await asyncio.sleep(0.1)")
    data, proc = lines_json(tmp_path, script)
    cpu = {l["line"]: l for l in function(data, "waiter")["lines"]}[line]
    assert data["await"] == "excluded"
    assert cpu["hits"] >= 1 and cpu["time_ns"] < 0.05e9
    data, proc = lines_json(tmp_path, "--wall-await", script)
    wall = {l["line"]: l for l in function(data, "waiter")["lines"]}[line]
    assert data["await"] == "wall"
    assert wall["time_ns"] >= 0.1e9
    text = run_pyprof("lines", script).stdout
    assert "Await time: not counted" in text
    text = run_pyprof("lines", "--wall-await", script).stdout
    assert "Await time: a line that awaits is charged the wall time" in text


# ---- layout: line_profiler is the oracle -----------------------------------

@pytest.mark.skipif(not HAVE_LINE_PROFILER, reason="needs line_profiler")
@pytest.mark.parametrize("unit", [None, "1e-3"])
def test_text_is_what_line_profiler_prints_for_our_lprof(julia, tmp_path,
                                                          unit):
    out = os.path.join(str(tmp_path), "julia.lprof")
    args = ["lines", "-v", "-o", out] + (["-u", unit] if unit else [])
    proc = run_pyprof(*args, julia)
    assert proc.returncode == 0, proc.stderr
    assert "pyprof: wrote" in proc.stderr
    theirs = subprocess.run(
        [sys.executable, "-m", "line_profiler"]
        + (["-u", unit] if unit else []) + [out],
        capture_output=True, text=True, check=True).stdout
    assert proc.stdout.strip() == theirs.strip()
    assert proc.stdout.startswith(
        "Timer unit: %s s\n" % ("0.001" if unit else "1e-06"))


@pytest.mark.skipif(not HAVE_LINE_PROFILER, reason="needs line_profiler")
def test_lprof_loads_in_line_profiler(julia, tmp_path):
    out = os.path.join(str(tmp_path), "julia.lprof")
    assert run_pyprof("lines", "-o", out, julia).returncode == 0
    from line_profiler import load_stats
    stats = load_stats(out)
    assert stats.unit == 1e-9
    [(key, timings)] = stats.timings.items()
    assert key == (julia, line_of(julia, "@profile"), "calc_point_val")
    hits = {lineno: nhits for lineno, nhits, _ in timings}
    assert hits[line_of(julia, "while True")] == 2279663


def test_every_line_of_the_block_is_shown(julia, tmp_path):
    proc = run_pyprof("lines", julia)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert "Function: calc_point_val at line %d" % line_of(julia, "@profile") \
        in text
    rows = [l for l in text.splitlines() if re.match(r"^\s+\d+ ", l)]
    numbers = [int(r.split()[0]) for r in rows]
    first = line_of(julia, "@profile")
    last = line_of(julia, "return no_iter")
    assert numbers == list(range(first, last + 1))
    # comment lines are shown, without numbers
    comment = [r for r in rows if r.endswith("# Iteration number")]
    assert comment and comment[0].split()[1] == "#"


# ---- choosing what to profile ---------------------------------------------

PLAIN = """\
def hot(n):
    total = 0
    for i in range(n):
        total += i
    return total


class Box:
    def method(self):
        return hot(3)


def cold():
    return 1


if __name__ == "__main__":
    hot(10)
    Box().method()
    cold()
"""


def names(data):
    return sorted(f["name"] for f in data["functions"])


@pytest.mark.parametrize("spec", ["plain.hot", "PATH:hot", "__main__.hot",
                                  "hot"])
def test_function_option(tmp_path, spec):
    script = write(tmp_path, "plain.py", PLAIN)
    spec = spec.replace("PATH", script)
    data, _ = lines_json(tmp_path, "--function", spec, script)
    assert names(data) == ["hot"]
    hits = {l["line"]: l["hits"] for l in function(data, "hot")["lines"]}
    assert hits[line_of(script, "total += i")] == 13


def test_function_option_qualified_method(tmp_path):
    script = write(tmp_path, "plain.py", PLAIN)
    data, _ = lines_json(tmp_path, "--function", "plain.Box.method", script)
    assert names(data) == ["method"]


def test_missing_function_warns_and_the_run_goes_on(tmp_path):
    script = write(tmp_path, "plain.py", PLAIN)
    data, proc = lines_json(tmp_path, "--function", "plain.nosuch",
                            "--function", "hot", script)
    assert "--function plain.nosuch: no such function" in proc.stderr
    assert "--function hot" not in proc.stderr
    assert names(data) == ["hot"]


def test_function_that_exists_but_never_ran_is_listed(tmp_path):
    script = write(tmp_path, "plain.py", PLAIN.replace("    cold()\n", ""))
    data, proc = lines_json(tmp_path, "--function", "plain.cold", script)
    assert "no such function" not in proc.stderr
    assert [l["hits"] for l in function(data, "cold")["lines"]] == [0, 0]


def test_module_and_path_options(tmp_path):
    write(tmp_path, "pkg/__init__.py", "")
    write(tmp_path, "pkg/sub.py", """\
        def a(x):
            y = x + 1
            return [i for i in range(y)]

        def b():
            return a(3)
        """)
    write(tmp_path, "other/__init__.py", "")
    write(tmp_path, "other/mod.py", "def c():\n    return 2\n")
    script = write(tmp_path, "main.py", """\
        import pkg.sub, other.mod
        pkg.sub.b()
        other.mod.c()
        """)
    data, _ = lines_json(tmp_path, "--module", "pkg", script)
    assert names(data) == ["a", "b"]
    # a is first called from b, a selected frame; the comprehension's
    # lines count in a's table
    a = {l["line"]: l["hits"] for l in function(data, "a")["lines"]}
    assert a[2] == 1 and a[3] >= 5
    data, _ = lines_json(tmp_path, "--path", os.path.join(str(tmp_path),
                                                          "other"), script)
    assert names(data) == ["c"]


# ---- bad input -------------------------------------------------------------

def test_unreadable_source_still_reports_numbers(tmp_path):
    write(tmp_path, "gone.py", """\
        @profile
        def f(n):
            s = 0
            for i in range(n):
                s += i
            return s
        """)
    script = write(tmp_path, "main.py", """\
        import os, sys
        sys.dont_write_bytecode = True
        import gone
        os.remove(gone.__file__)
        gone.f(4)
        """)
    proc = run_pyprof("lines", script, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "Source unavailable" in proc.stdout
    rows = [l.split() for l in proc.stdout.splitlines()
            if "[source unavailable]" in l]
    hits = {int(r[0]): int(r[1]) for r in rows if r[1] != "[source"}
    assert hits == {3: 1, 4: 5, 5: 4, 6: 1}


def test_exception_still_prints_and_exits_1(tmp_path):
    script = write(tmp_path, "boom.py", """\
        @profile
        def f():
            x = 1
            raise ValueError(x)
        f()
        """)
    proc = run_pyprof("lines", script)
    assert proc.returncode == 1
    assert "ValueError" in proc.stderr
    assert "Function: f at line 1" in proc.stdout
    row = [l for l in proc.stdout.splitlines() if l.endswith("x = 1")][0]
    assert row.split()[:2] == ["3", "1"]


def test_ctrl_c_still_writes_and_exits_130(tmp_path):
    script = write(tmp_path, "intr.py", """\
        import os, signal
        @profile
        def f():
            x = 1
            os.kill(os.getpid(), signal.SIGINT)
            return x
        f()
        """)
    out = os.path.join(str(tmp_path), "intr.lprof")
    proc = run_pyprof("lines", "-o", out, script)
    assert proc.returncode == 130
    assert os.path.getsize(out) > 0
    if HAVE_LINE_PROFILER:
        from line_profiler import load_stats
        [(key, timings)] = load_stats(out).timings.items()
        assert (4, 1) in [(t[0], t[1]) for t in timings]


def test_usage_errors(tmp_path):
    assert run_pyprof("lines").returncode == 2
    proc = run_pyprof("lines", "-u", "fast", "x.py")
    assert proc.returncode == 2 and "--unit" in proc.stderr
    proc = run_pyprof("lines", "--format", "xml", "x.py")
    assert proc.returncode == 2 and "--format" in proc.stderr
    proc = run_pyprof("lines", os.path.join(str(tmp_path), "nope.py"))
    assert proc.returncode == 2


def test_unwritable_outfile_keeps_the_exit_status_honest(tmp_path):
    script = write(tmp_path, "plain.py", PLAIN)
    proc = run_pyprof("lines", "-o", os.path.join(str(tmp_path), "no", "x"),
                      "--function", "hot", script)
    assert proc.returncode == 1
    assert "cannot write" in proc.stderr


# ---- the Python API --------------------------------------------------------

def sample(n):
    total = 0
    for i in range(n):
        total += i
    return total


def test_profile_is_a_pass_through_without_a_line_profiler():
    assert pyprof.profile(sample) is sample
    assert pyprof.profile(42) == 42


def test_profile_pass_through_under_pyprof_run(tmp_path):
    script = write(tmp_path, "deco.py", """\
        from pyprof import profile
        @profile
        def f():
            return 7
        print(f())
        """)
    proc = run_pyprof("run", script)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("7\n")


def test_line_profiler_api(tmp_path):
    prof = pyprof.LineProfiler()
    prof.add_function(sample)
    assert prof.runcall(sample, 5) == 10
    stats = prof.get_stats()
    first = sample.__code__.co_firstlineno
    [(key, timings)] = stats.timings.items()
    assert key == (__file__, first, "sample")
    assert [(t[0] - first, t[1]) for t in timings] == \
        [(1, 1), (2, 6), (3, 5), (4, 1)]
    buf = io.StringIO()
    prof.print_stats(stream=buf)
    assert "Function: sample at line %d" % first in buf.getvalue()
    out = os.path.join(str(tmp_path), "api.lprof")
    prof.dump_stats(out)
    if HAVE_LINE_PROFILER:
        from line_profiler import load_stats
        assert load_stats(out).timings == stats.timings


def test_line_profiler_decorator_and_context_manager():
    prof = pyprof.LineProfiler()
    wrapped = prof(sample)
    assert wrapped is sample
    try:
        sample(3)
    finally:
        prof.disable()
    with prof:
        sample(2)
    timings = list(prof.get_stats().timings.values())[0]
    assert dict((t[0] - sample.__code__.co_firstlineno, t[1])
                for t in timings)[3] == 3 + 2
    with pytest.raises(TypeError):
        prof.add_function(len)


def test_a_thread_running_before_enable_is_profiled():
    # Below 3.12 only the frame hook reaches such a thread; sys.monitoring
    # reaches every thread.  The thread counts its own calls.
    import threading
    start = threading.Event()
    calls = []

    def worker():
        start.wait(10)
        for n in range(40):
            calls.append(sample(n % 7))

    thread = threading.Thread(target=worker)
    thread.start()
    prof = pyprof.LineProfiler(sample)
    with prof:
        start.set()
        thread.join(10)
    timings = list(prof.get_stats().timings.values())[0]
    hits = dict((t[0] - sample.__code__.co_firstlineno, t[1])
                for t in timings)
    assert hits[1] == len(calls) == 40          # total = 0
    assert hits[3] == sum(n % 7 for n in range(40))


def test_lines_are_right_while_cprofile_holds_the_profile_hook():
    # cProfile enabled first: below 3.12 the engine cannot switch tracing
    # per frame and traces everything; from 3.12 both are monitoring tools.
    import cProfile
    cprof = cProfile.Profile()
    prof = pyprof.LineProfiler(sample)
    cprof.enable()
    try:
        with prof:
            for n in range(5):
                sample(n)
    finally:
        cprof.disable()
    timings = list(prof.get_stats().timings.values())[0]
    hits = dict((t[0] - sample.__code__.co_firstlineno, t[1])
                for t in timings)
    assert hits[1] == 5 and hits[3] == 0 + 1 + 2 + 3 + 4
    import pstats
    stats = pstats.Stats(cprof).stats
    assert [v[0] for k, v in stats.items() if k[2] == "sample"] == [5]


def test_cprofile_started_inside_a_profiled_function_sees_every_call():
    # Below 3.12 the frame hook switches tracing per frame; a profile
    # function installed meanwhile must still see every frame afterwards.
    import cProfile
    import pstats
    cprof = cProfile.Profile()

    def leaf():
        return 1

    def starter():
        cprof.enable()
        return leaf()

    def caller():
        total = starter()
        for _ in range(5):
            total += leaf()
        return total

    prof = pyprof.LineProfiler(starter)
    with prof:
        try:
            assert caller() == 6
        finally:
            cprof.disable()
    stats = pstats.Stats(cprof).stats
    assert [v[:2] for k, v in stats.items() if k[2] == "leaf"] == [(6, 6)]
    timings = list(prof.get_stats().timings.values())[0]
    assert [t[1] for t in timings] == [1, 1]


def test_only_the_profiled_code_is_instrumented():
    if sys.version_info < (3, 12):
        pytest.skip("sys.monitoring is 3.12+")
    prof = pyprof.LineProfiler(sample)
    with prof:
        events = sys.monitoring.get_local_events
        tool = 5 if sys.monitoring.get_tool(5) == "pyprof-lines" else 4
        assert events(tool, sample.__code__) != 0
        assert events(tool, line_of.__code__) == 0
        assert sys.monitoring.get_events(tool) & \
            sys.monitoring.events.LINE == 0
    assert sys.monitoring.get_tool(tool) is None


def test_lprun_magic():
    pytest.importorskip("IPython")
    code = textwrap.dedent("""\
        from IPython.core.interactiveshell import InteractiveShell
        ip = InteractiveShell.instance()
        ip.run_line_magic("load_ext", "pyprof")
        ip.run_cell("def f(n):\\n    s = 0\\n    for i in range(n):\\n"
                    "        s += i\\n    return s\\n")
        ip.run_line_magic("lprun", "-f f f(10)")
        """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Function: f at line 1" in proc.stdout
    rows = {int(l.split()[0]): int(l.split()[1])
            for l in proc.stdout.splitlines()
            if re.match(r"^\s+\d+\s+\d+ ", l)}
    assert rows == {2: 1, 3: 11, 4: 10, 5: 1}
    # the cell's source, from linecache, as line_profiler shows it
    assert re.search(r"^\s+4\s+10\s.*        s \+= i$", proc.stdout, re.M)
