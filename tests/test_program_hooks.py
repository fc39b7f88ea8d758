"""A program that installs its own profile hook (sys.setprofile, its own
cProfile) under `pyprof run`: its hook gets exactly its events (cProfile's
own numbers, or a counter, as plain python gives them), and pyprof's
profile is right outside the program's block.  Below 3.12 one thread has
one profile function, so pyprof says on stderr where the program took it
and puts its own back when the program lets go; from 3.12 sys.monitoring
tools coexist and pyprof's counts are right inside the block too."""
import os
import re
import subprocess
import sys
import textwrap

import pytest

from conftest import run_pyprof

PROGRAM = textwrap.dedent("""
    import cProfile, sys

    def f():
        pass

    def g():
        pass

    def h():
        pass

    for _ in range(100):
        f()
    own = cProfile.Profile()
    own.enable()
    for _ in range(50):
        g()
    own.disable()
    for _ in range(30):
        h()
    own.create_stats()
    print("own g", [v[1] for k, v in own.stats.items() if k[2] == "g"])

    seen = []
    def counter(frame, event, arg):
        if event == "call" and frame.f_code.co_name == "g":
            seen.append(1)
    sys.setprofile(counter)
    for _ in range(20):
        g()
    sys.setprofile(None)
    for _ in range(10):
        h()
    print("counter g", len(seen))
""")

ENABLE_LINE = PROGRAM.splitlines().index("own.enable()") + 1


def ncalls(stdout, name):
    for line in stdout.splitlines():
        m = re.match(r"\s*(\d+)(?:/\d+)?\s.*prog\.py:\d+\(%s\)$" % name,
                     line)
        if m:
            return int(m.group(1))
    return None


def plain_and_pyprof(tmp_path, source, command, env=None, status=0):
    """prog.py of `source` run by plain python, then by `pyprof COMMAND`
    (same environment), each checked to exit `status`: (the script's path,
    plain, pyprof)."""
    script = tmp_path / "prog.py"
    script.write_text(source)
    plain = subprocess.run([sys.executable, str(script)], capture_output=True,
                           text=True, timeout=120, env=env)
    assert plain.returncode == status, plain.stderr
    result = run_pyprof(command, str(script), env=env)
    assert result.returncode == status, result.stderr
    return script, plain, result


def frame_hook_env(frame_hook):
    """The environment for one of the two ways below 3.12 (see above)."""
    return dict(os.environ, PYPROF_NO_FRAME_HOOK="0" if frame_hook == "1"
                else "1")


def test_program_profile_hooks_under_run(tmp_path):
    script, plain, result = plain_and_pyprof(tmp_path, PROGRAM, "run")
    # the program's own hooks see what they see without pyprof
    assert "own g [50]" in result.stdout
    assert "counter g 20" in result.stdout
    assert plain.stdout in result.stdout
    # pyprof's own counts outside the program's blocks
    assert ncalls(result.stdout, "f") == 100
    assert ncalls(result.stdout, "h") == 40
    if sys.version_info >= (3, 12):
        assert ncalls(result.stdout, "g") == 70
        assert "replaced" not in result.stderr
    else:
        assert ("pyprof: the program replaced the profile hook "
                "(sys.setprofile) at %s:%d;" % (script, ENABLE_LINE)
                in result.stderr), result.stderr
        assert result.stderr.count("replaced the profile hook") == 1


# A program's own sys.settrace under `pyprof lines` (and, from 3.12, its
# own sys.monitoring tool): its tracer sees exactly the events it sees
# without pyprof, and pyprof's counts equal sys.settrace's outside the
# program's tracing window -- inside it too from 3.12, where the tools
# coexist.  Below 3.12 a thread has one trace function: pyprof names the
# program's tracer once on stderr and takes its hook back when the
# program lets go, within the profiled frame that was running.
TRACING = textwrap.dedent("""\
    import sys

    events = {}
    def tracer(frame, event, arg):
        if frame.f_code.co_name in ("g", "inner"):
            key = "%s %s" % (frame.f_code.co_name, event)
            events[key] = events.get(key, 0) + 1
            return tracer
        return None

    monitored = {}
    if sys.version_info >= (3, 12):
        mon = sys.monitoring
        mon.use_tool_id(1, "test-coverage")
        def on_line(code, line):
            monitored[line] = monitored.get(line, 0) + 1

    try:
        profile
    except NameError:
        def profile(func):
            return func

    @profile
    def f(n):
        total = 0
        for i in range(n):
            total += i
        return total

    def inner(n):
        x = 0
        for i in range(n):
            x += i
        return x

    def g(n):
        return f(n) + inner(n)

    @profile
    def body():
        for _ in range(5):
            f(10)
        sys.settrace(tracer)
        for _ in range(3):
            g(4)
        sys.settrace(None)
        for _ in range(7):
            f(10)
        return 0

    if sys.version_info >= (3, 12):
        mon.register_callback(1, mon.events.LINE, on_line)
        mon.set_local_events(1, inner.__code__, mon.events.LINE)
        mon.set_local_events(1, f.__code__, mon.events.LINE)
    body()
    print("tracer", sorted(events.items()))
    print("monitored", sorted(monitored.items()))
    """)

TRACING_LINES = TRACING.splitlines()


def line_of(text, after=None):
    start = TRACING_LINES.index(after) if after else 0
    return TRACING_LINES.index(text, start) + 1


def table_hits(stdout, function):
    hits, inside = {}, False
    for row in stdout.splitlines():
        if row.startswith("Function: "):
            inside = row.split()[1] == function
        fields = row.split()
        if inside and len(fields) > 2 and fields[0].isdigit() \
                and fields[1].isdigit():
            hits[int(fields[0])] = int(fields[1])
    return hits


def memory_hits(stdout, lines):
    hits = {}
    for row in stdout.splitlines():
        m = re.match(r"\s*(\d+)\s+-?[\d.]+ MiB\s+-?[\d.]+ MiB\s+(\d+)", row)
        if m and int(m.group(1)) in lines:
            hits[int(m.group(1))] = int(m.group(2))
    return hits


# Below 3.12 both ways of keeping tracing to the profiled frames: the
# frame hook (the default) and profile gating (PYPROF_NO_FRAME_HOOK=1).
@pytest.mark.parametrize("command", ["lines", "memory"])
@pytest.mark.parametrize("frame_hook", ["1", "0"])
def test_program_settrace_under_lines(tmp_path, frame_hook, command):
    if sys.version_info >= (3, 12) and frame_hook == "0":
        pytest.skip("no frame hook from 3.12")
    script, plain, result = plain_and_pyprof(tmp_path, TRACING, command,
                                             frame_hook_env(frame_hook))
    assert "tracer [('g call', 3)" in plain.stdout
    # the program's tracer and monitoring tool see what they see alone
    assert plain.stdout in result.stdout, result.stdout
    coexist = sys.version_info >= (3, 12)
    # f: 12 calls f(10) outside the window, 3 calls f(4) inside it
    inside = 3 if coexist else 0
    first = line_of("def f(n):")
    body_first = line_of("def body():")
    if command == "lines":
        f_hits = table_hits(result.stdout, "f")
        body = table_hits(result.stdout, "body")
    else:
        # memory_profiler's table: the def line counts the calls, and
        # every row's Occurrences are hits
        f_hits = memory_hits(result.stdout, range(first + 1, first + 5))
        body = memory_hits(result.stdout,
                           range(body_first + 1, body_first + 11))
    assert f_hits == {
        first + 1: 12 + inside, first + 2: 12 * 11 + inside * 5,
        first + 3: 12 * 10 + inside * 4, first + 4: 12 + inside
    }, result.stdout
    window_start = line_of("    sys.settrace(tracer)")
    window_end = line_of("    sys.settrace(None)")
    want = {window_start - 2: 6, window_start - 1: 5, window_start: 1,
            window_end + 1: 8, window_end + 2: 7, window_end + 3: 1}
    if coexist:
        want.update({window_start + 1: 4, window_start + 2: 3,
                     window_end: 1})
    assert body == want, result.stdout
    if coexist:
        assert "replaced" not in result.stderr
    else:
        assert ("pyprof: the program replaced the trace hook "
                "(sys.settrace) at %s:%d;" % (script, window_start)
                in result.stderr), result.stderr
        assert result.stderr.count("replaced the trace hook") == 1


# A program's own profile hooks (cProfile, sys.setprofile) under `pyprof
# lines` and `pyprof memory`: its profiler is enabled inside a profiled
# function and disabled outside one, so below 3.12 pyprof's switches
# between its profile and trace functions meet the program's hook from
# both sides.  The program's hooks see what they see without pyprof
# (cProfile's own counts), and pyprof's hits equal sys.settrace's (the
# oracle: the same program under plain python with a line counter).
PROFILING = textwrap.dedent("""\
    import cProfile, sys

    try:
        profile
    except NameError:
        def profile(func):
            return func

    @profile
    def f(n):
        total = 0
        for i in range(n):
            total += i
        return total

    def g():
        pass

    own = cProfile.Profile()

    @profile
    def start_own():
        own.enable()
        return f(3)

    for _ in range(5):
        f(10)
    start_own()
    for _ in range(3):
        f(4)
        g()
    own.disable()
    for _ in range(7):
        f(10)

    seen = []
    def counter(frame, event, arg):
        if event == "call" and frame.f_code.co_name in ("f", "g"):
            seen.append(frame.f_code.co_name)
    sys.setprofile(counter)
    for _ in range(2):
        f(4)
        g()
    sys.setprofile(None)
    for _ in range(4):
        f(10)
    own.create_stats()
    print("own", sorted((k[2], v[0], v[1]) for k, v in own.stats.items()
                        if k[2] in ("f", "g")))
    print("counter", sorted(seen))
    """)

# Runs a program under plain python with a sys.settrace line counter
# (the oracle), printing {line: hits} of the program's file last.
LINE_COUNTER = textwrap.dedent("""\
    import sys
    path = sys.argv[1]
    hits = {}
    def tracer(frame, event, arg):
        if frame.f_code.co_filename != path:
            return None
        if event == "line":
            hits[frame.f_lineno] = hits.get(frame.f_lineno, 0) + 1
        return tracer
    code = compile(open(path).read(), path, "exec")
    sys.settrace(tracer)
    exec(code, {"__name__": "__main__"})
    sys.settrace(None)
    print("HITS", sorted(hits.items()))
    """)


def settrace_hits(tmp_path, script, lines):
    counter = tmp_path / "line_counter.py"
    counter.write_text(LINE_COUNTER)
    out = subprocess.run([sys.executable, str(counter), str(script)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    hits = dict(eval(out.stdout.splitlines()[-1][len("HITS "):]))
    return {n: hits[n] for n in lines if n in hits}


def body_lines(source, name):
    """The line numbers of function `name`'s body (after its def)."""
    lines = source.splitlines()
    start = lines.index("def %s(%s):" % (name, "n" if name == "f" else ""))
    end = start + 1
    while end < len(lines) and lines[end].startswith("    "):
        end += 1
    return range(start + 2, end + 1)


@pytest.mark.parametrize("command", ["lines", "memory"])
@pytest.mark.parametrize("frame_hook", ["1", "0"])
def test_program_profile_hooks_under_line_commands(tmp_path, command,
                                                   frame_hook):
    if sys.version_info >= (3, 12) and frame_hook == "0":
        pytest.skip("no frame hook from 3.12")
    script, plain, result = plain_and_pyprof(tmp_path, PROFILING, command,
                                             frame_hook_env(frame_hook))
    assert "own [('f', 4, 4), ('g', 3, 3)]" in plain.stdout
    # the program's profilers see what they see alone
    assert plain.stdout in result.stdout, result.stdout
    lines = list(body_lines(PROFILING, "f")) + list(
        body_lines(PROFILING, "start_own"))
    want = settrace_hits(tmp_path, script, lines)
    if command == "lines":
        got = {**table_hits(result.stdout, "f"),
               **table_hits(result.stdout, "start_own")}
    else:
        got = memory_hits(result.stdout, lines)
    assert got == want, (result.stdout, result.stderr)
    assert "pyprof:" not in result.stderr, result.stderr


def test_program_settrace_under_run(tmp_path):
    """A program's sys.settrace under `pyprof run`: its tracer keeps every
    event, and pyprof's call counts are right inside its window too (the
    profile hook is another slot)."""
    script, plain, result = plain_and_pyprof(tmp_path, TRACING, "run")
    assert plain.stdout in result.stdout, result.stdout
    # f: 5 + 7 calls outside the window, 3 through g inside it
    assert ncalls(result.stdout, "f") == 15
    assert ncalls(result.stdout, "g") == 3
    assert ncalls(result.stdout, "inner") == 3
    assert "pyprof:" not in result.stderr, result.stderr


# A tracer set before pyprof starts (coverage run first, a sitecustomize
# tracer): pyprof keeps it, and it sees what it sees without pyprof;
# below 3.12 pyprof cannot trace the same thread, so it says once that the
# line counts miss those lines.  From 3.12 the tools coexist.
SITE_TRACER = textwrap.dedent("""\
    import atexit, sys
    counts = {}
    def site_tracer(frame, event, arg):
        if frame.f_code.co_name == "f":
            counts[event] = counts.get(event, 0) + 1
            return site_tracer
        return None
    sys.settrace(site_tracer)
    atexit.register(lambda: print("site tracer", sorted(counts.items())))
    """)

SITE_PROGRAM = textwrap.dedent("""\
    try:
        profile
    except NameError:
        def profile(func):
            return func

    @profile
    def f(n):
        total = 0
        for i in range(n):
            total += i
        return total

    for _ in range(6):
        f(5)
    """)


@pytest.mark.parametrize("command", ["lines", "memory"])
def test_tracer_set_before_pyprof_starts(tmp_path, command):
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITE_TRACER)
    env = dict(os.environ, PYTHONPATH=str(site))
    script, plain, result = plain_and_pyprof(tmp_path, SITE_PROGRAM, command,
                                             env)
    assert "site tracer [('call', 6)" in plain.stdout, plain.stdout
    assert plain.stdout.strip() in result.stdout, result.stdout
    first = SITE_PROGRAM.splitlines().index("def f(n):") + 1
    if command == "lines":
        hits = table_hits(result.stdout, "f")
    else:
        hits = memory_hits(result.stdout, range(first + 1, first + 5))
    if sys.version_info >= (3, 12):
        assert hits == {first + 1: 6, first + 2: 36, first + 3: 30,
                        first + 4: 6}, result.stdout
        assert "pyprof:" not in result.stderr, result.stderr
    else:
        message = ("pyprof: a trace hook was set before pyprof started "
                   "(sys.settrace: <function site_tracer at ")
        assert message in result.stderr, result.stderr
        assert result.stderr.count("pyprof:") == 1, result.stderr


# A profile hook set before `pyprof run` starts (a sitecustomize's
# sys.setprofile): the program runs as under plain python (its output,
# its exit status), the hook keeps every event of the program's (and
# sys.getprofile() still returns it), and pyprof's profile is right too.
# Below 3.12 pyprof's hook takes its place on that thread and calls it
# first; from 3.12 sys.monitoring does not conflict with it.
SITE_PROFILER = textwrap.dedent("""\
    import atexit, sys

    calls = []
    def site_profiler(frame, event, arg):
        if event == "call" and frame.f_code.co_name == "g":
            calls.append(1)
    sys.setprofile(site_profiler)
    atexit.register(lambda: print("site profiler g", len(calls),
                                  sys.getprofile() is site_profiler))
    """)

SITE_RUN_PROGRAM = textwrap.dedent("""\
    import sys

    def g(n):
        return n * 2

    total = 0
    for i in range(700):
        total += g(i)
    print("total", total, sys.getprofile().__name__)
    raise SystemExit(3)
    """)


def test_profile_hook_set_before_run_starts(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITE_PROFILER)
    env = dict(os.environ, PYTHONPATH=str(site))
    script, plain, result = plain_and_pyprof(tmp_path, SITE_RUN_PROGRAM,
                                             "run", env, status=3)
    assert plain.stdout == ("total 489300 site_profiler\n"
                            "site profiler g 700 True\n"), plain.stdout
    assert plain.stdout.splitlines()[0] in result.stdout, result.stdout
    assert plain.stdout.splitlines()[1] in result.stdout, result.stdout
    assert ncalls(result.stdout, "g") == 700, result.stdout
    assert "Error" not in result.stderr, result.stderr
