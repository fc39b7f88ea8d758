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


def test_program_profile_hooks_under_run(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text(PROGRAM)
    plain = subprocess.run([sys.executable, str(script)], capture_output=True,
                           text=True, timeout=120)
    assert plain.returncode == 0, plain.stderr
    result = run_pyprof("run", str(script))
    assert result.returncode == 0, result.stderr
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


# Below 3.12 both ways of keeping tracing to the profiled frames: the
# frame hook (the default) and profile gating (PYPROF_NO_FRAME_HOOK=1).
@pytest.mark.parametrize("frame_hook", ["1", "0"])
def test_program_settrace_under_lines(tmp_path, frame_hook):
    if sys.version_info >= (3, 12) and frame_hook == "0":
        pytest.skip("no frame hook from 3.12")
    script = tmp_path / "prog.py"
    script.write_text(TRACING)
    plain = subprocess.run([sys.executable, str(script)], capture_output=True,
                           text=True, timeout=120)
    assert plain.returncode == 0, plain.stderr
    assert "tracer [('g call', 3)" in plain.stdout
    env = dict(os.environ, PYPROF_NO_FRAME_HOOK="0" if frame_hook == "1"
               else "1")
    result = run_pyprof("lines", str(script), env=env)
    assert result.returncode == 0, result.stderr
    # the program's tracer and monitoring tool see what they see alone
    assert plain.stdout in result.stdout, result.stdout
    coexist = sys.version_info >= (3, 12)
    # f: 12 calls f(10) outside the window, 3 calls f(4) inside it
    inside = 3 if coexist else 0
    first = line_of("def f(n):")
    assert table_hits(result.stdout, "f") == {
        first + 1: 12 + inside, first + 2: 12 * 11 + inside * 5,
        first + 3: 12 * 10 + inside * 4, first + 4: 12 + inside
    }, result.stdout
    body = table_hits(result.stdout, "body")
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
