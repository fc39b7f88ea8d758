"""pyprof.Profile as a drop-in for cProfile.Profile (#11): several may
record at once (nested, one per thread, a program's own under `pyprof
run`), and run/runctx/getstats/timer behave as cProfile's.  The oracle is
cProfile on the same code."""
import cProfile
import subprocess
import sys
import textwrap
import threading

import pytest

import pyprof
from conftest import run_pyprof


def leaf(n):
    return n + 1


def middle(n):
    return [leaf(i) for i in range(n)]


def calls_of(prof, name):
    prof.create_stats()
    return {k[2]: v[:2] for k, v in prof.stats.items()}.get(name)


def test_nested_profilers_each_count_their_own_window():
    outer, inner = pyprof.Profile(), pyprof.Profile()
    outer.enable()
    middle(3)
    inner.enable()
    middle(5)
    inner.disable()
    middle(7)
    outer.disable()
    # cProfile, one at a time over the same windows
    whole, part = cProfile.Profile(), cProfile.Profile()
    whole.enable()
    middle(3)
    middle(5)
    middle(7)
    whole.disable()
    part.enable()
    middle(5)
    part.disable()
    for name in ("middle", "leaf"):
        assert calls_of(outer, name) == calls_of(whole, name)
        assert calls_of(inner, name) == calls_of(part, name)
    assert calls_of(outer, "leaf") == (15, 15)


def test_a_profiler_per_thread():
    results, errors = {}, []

    def work(n):
        try:
            prof = pyprof.Profile()
            prof.enable()
            for _ in range(n):
                leaf(n)
            barrier.wait()
            prof.disable()
            prof.create_stats()
            results[n] = prof.stats
        except Exception as exc:    # pragma: no cover - the failure
            errors.append(exc)
            barrier.abort()

    barrier = threading.Barrier(3)
    threads = [threading.Thread(target=work, args=(n,)) for n in (11, 22, 33)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for n, stats in results.items():
        # every thread is profiled (pyprof's rule); this thread's work is
        # at least its own n calls, all of them counted
        counts = [v[1] for k, v in stats.items() if k[2] == "leaf"]
        assert counts and counts[0] >= n
    assert sum(v[1] for k, v in results[33].items() if k[2] == "leaf") <= 66


PROGRAM = textwrap.dedent("""\
    import cProfile, pyprof

    def work():
        return sum(leaf(i) for i in range(50))

    def leaf(i):
        return i

    theirs = cProfile.Profile()
    theirs.enable()
    work()
    theirs.disable()
    ours = pyprof.Profile()
    with ours:
        work()
    for p in (theirs, ours):
        p.create_stats()
        print(sorted((k[2], v[:2]) for k, v in p.stats.items()
                     if k[2] in ("work", "leaf")))
    """)


def test_a_programs_own_profilers_under_pyprof_run(tmp_path):
    script = tmp_path / "own.py"
    script.write_text(PROGRAM)
    plain = subprocess.run([sys.executable, str(script)], capture_output=True,
                           text=True)
    assert plain.returncode == 0, plain.stderr
    proc = run_pyprof("run", str(script))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == lines[1] == plain.stdout.splitlines()[0]
    assert "[('leaf', (50, 50)), ('work', (1, 1))]" == lines[0]
    # and pyprof run's own table saw the program too
    assert "own.py:3(work)" in proc.stdout


def entries(stats):
    """getstats() of Python functions here: {name: (callcount,
    reccallcount, callees)}."""
    out = {}
    for e in stats:
        if not hasattr(e.code, "co_name") or e.code.co_filename != __file__:
            continue
        callees = sorted((s.code.co_name, s.callcount, s.reccallcount)
                         for s in (e.calls or ())
                         if hasattr(s.code, "co_name"))
        out[e.code.co_name] = (e.callcount, e.reccallcount, callees)
    return out


def recurse(n):
    return leaf(n) if n == 0 else recurse(n - 1)


def test_run_runctx_and_getstats_as_cprofile():
    namespace = {"middle": middle, "recurse": recurse}
    ours = pyprof.Profile()
    theirs = cProfile.Profile()
    assert ours.runctx("middle(4); recurse(3)", namespace, namespace) is ours
    assert theirs.runctx("middle(4); recurse(3)", namespace,
                         namespace) is theirs
    got, want = entries(ours.getstats()), entries(theirs.getstats())
    assert got == want
    assert got["recurse"][:2] == (4, 3)
    assert type(ours.getstats()[0]) is type(theirs.getstats()[0])
    import __main__
    __main__.middle = middle
    try:
        assert ours.run("middle(2)") is ours
    finally:
        del __main__.middle


def test_a_python_timer_as_cprofile_uses_it():
    def make_timer():
        ticks = [0]

        def timer():
            ticks[0] += 10
            return ticks[0]
        return timer

    ours = pyprof.Profile(make_timer(), 0.001)
    theirs = cProfile.Profile(make_timer(), 0.001)
    for p in (ours, theirs):
        p.enable()
        middle(3)
        p.disable()
        p.create_stats()
    for name in ("middle", "leaf"):
        [mine] = [v for k, v in ours.stats.items() if k[2] == name]
        [ref] = [v for k, v in theirs.stats.items() if k[2] == name]
        assert mine[:2] == ref[:2]
        assert mine[2] > 0 and mine[3] > 0
        # integer ticks of 10 ms: times are whole multiples of 10 ms
        assert abs(mine[3] * 100 - round(mine[3] * 100)) < 1e-6
    seconds = pyprof.Profile(lambda: 5.0)     # float seconds, frozen
    with seconds:
        middle(2)
    seconds.create_stats()
    assert all(v[3] == 0.0 for v in seconds.stats.values())
    with pytest.raises(TypeError):
        pyprof.Profile(42)
