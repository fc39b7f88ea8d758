"""A program that installs its own profile hook (sys.setprofile, its own
cProfile) under `pyprof run`: its hook gets exactly its events (cProfile's
own numbers, or a counter, as plain python gives them), and pyprof's
profile is right outside the program's block.  Below 3.12 one thread has
one profile function, so pyprof says on stderr where the program took it
and puts its own back when the program lets go; from 3.12 sys.monitoring
tools coexist and pyprof's counts are right inside the block too."""
import re
import subprocess
import sys
import textwrap

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
