"""pyprof.Profile against cProfile.Profile as the oracle: same functions,
same call counts (total and primitive), same caller edges; plus what
cProfile cannot do (threads) checked against counts the program keeps."""
import asyncio
import cProfile
import os
import pstats
import sys
import threading
import time

import pytest

import pyprof
from conftest import load_program

PROFILER_OWN = ("enable", "disable", "<method 'enable' of", "<method 'disable' of")


def collect(profiler_class, func, *args, **kwargs):
    prof = profiler_class(**kwargs)
    prof.enable()
    try:
        func(*args)
    finally:
        prof.disable()
    prof.create_stats()
    return prof.stats


def own_frame(key):
    return any(marker in key[2] for marker in PROFILER_OWN)


def counts(stats, python=True):
    """{key: (cc, nc)} for Python functions (python=True) or C ones."""
    return {key: value[:2] for key, value in stats.items()
            if (key[0] != "~") == python and not own_frame(key)}


def callers(stats):
    return {key: {caller: edge[:2] for caller, edge in value[4].items()
                  if not own_frame(caller)}
            for key, value in stats.items() if not own_frame(key)}


@pytest.fixture(scope="module")
def workload_stats():
    module = load_program("workload")
    module.main()  # warm caches (re, asyncio imports) so both runs see the same calls
    return (collect(cProfile.Profile, module.main),
            collect(pyprof.Profile, module.main))


def test_python_function_counts_equal_cprofile(workload_stats):
    expected, got = workload_stats
    assert counts(got) == counts(expected)


def test_c_function_counts_and_names_equal_cprofile(workload_stats):
    expected, got = workload_stats
    assert counts(got, python=False) == counts(expected, python=False)
    names = {key[2] for key in got if key[0] == "~"}
    assert "<built-in method builtins.len>" in names
    assert "<method 'get' of 'dict' objects>" in names


def test_caller_edges_equal_cprofile(workload_stats):
    expected, got = workload_stats
    assert callers(got) == callers(expected)


def test_recursion_counts_total_and_primitive():
    module = load_program("workload")
    stats = collect(pyprof.Profile, module.fib, 12)
    (key,) = [k for k in stats if k[2] == "fib"]
    cc, nc = stats[key][:2]
    assert (cc, nc) == (1, 465)  # fib(12) makes 465 calls, one outermost


def test_recursive_cumtime_counts_outermost_call_only():
    def nest(n):
        time.sleep(0.01)
        if n:
            nest(n - 1)
    start = time.perf_counter()
    stats = collect(pyprof.Profile, nest, 4)
    elapsed = time.perf_counter() - start
    (key,) = [k for k in stats if k[2] == "nest"]
    cc, nc, tt, ct = stats[key][:4]
    assert (cc, nc) == (1, 5)
    # 5 sleeps of 10 ms: cumtime is the outermost call's, at most the time
    # the whole collection took (however late a loaded machine wakes the
    # sleeps), not the ~3 times as much a sum over the 5 nested calls gives
    assert 0.045 <= ct <= elapsed
    assert tt < 0.01


def test_generator_time_excludes_suspension():
    def produce():
        for i in range(3):
            yield i

    def consume():
        for _ in produce():
            time.sleep(0.02)  # the generator is suspended meanwhile

    stats = collect(pyprof.Profile, consume)
    (gen,) = [k for k in stats if k[2] == "produce"]
    (cons,) = [k for k in stats if k[2] == "consume"]
    assert stats[gen][3] < 0.01
    assert stats[cons][3] >= 0.06
    expected = collect(cProfile.Profile, consume)
    (egen,) = [k for k in expected if k[2] == "produce"]
    assert stats[gen][:2] == expected[egen][:2]  # each resume is a call


def test_every_thread_is_profiled():
    calls = []

    def leaf(i):
        calls.append(i)

    def worker(n):
        for i in range(n):
            leaf(i)

    def main():
        threads = [threading.Thread(target=worker, args=(50 + k,))
                   for k in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    stats = collect(pyprof.Profile, main)
    (leaf_key,) = [k for k in stats if k[2] == "leaf"]
    (worker_key,) = [k for k in stats if k[2] == "worker"]
    assert stats[leaf_key][:2] == (len(calls), len(calls)) == (153, 153)
    assert stats[worker_key][:2] == (3, 3)


def test_a_thread_running_before_enable_is_profiled():
    # Its own count is the oracle; its running frame (entered before
    # enable) is not listed, what it calls afterwards is.
    start = threading.Event()
    calls = []

    def leaf(i):
        calls.append(i)

    def worker():
        start.wait(10)
        for i in range(40):
            leaf(i)

    thread = threading.Thread(target=worker)
    thread.start()
    prof = pyprof.Profile()
    prof.enable()
    try:
        start.set()
        thread.join(10)
    finally:
        prof.disable()
    stats = pstats.Stats(prof).stats
    (leaf_key,) = [k for k in stats if k[2] == "leaf"]
    assert stats[leaf_key][:2] == (len(calls), len(calls)) == (40, 40)


def test_coroutines_counted_like_cprofile():
    module = load_program("workload")

    def run():
        asyncio.run(module.gather_ticks(4))

    expected = counts(collect(cProfile.Profile, run))
    got = counts(collect(pyprof.Profile, run))
    tick = [k for k in expected if k[2] == "tick"][0]
    assert got[tick] == expected[tick]


def test_wall_and_cpu_clocks():
    def sleeper():
        time.sleep(0.05)

    wall = collect(pyprof.Profile, sleeper)
    cpu = collect(pyprof.Profile, sleeper, clock="cpu")
    (key,) = [k for k in wall if k[2] == "sleeper"]
    assert wall[key][3] >= 0.045
    assert cpu[key][3] < 0.02


def test_pstats_accepts_profile_and_prints_callers(capsys):
    module = load_program("workload")
    prof = pyprof.Profile()
    with prof:
        module.main()
    st = pstats.Stats(prof)
    st.sort_stats("cumulative").print_stats(5)
    st.print_callers("fib")
    out = capsys.readouterr().out
    assert "function calls" in out
    assert "fib" in out and "was called by" in out


def test_dump_stats_loads_in_pstats(tmp_path):
    module = load_program("workload")
    prof = pyprof.Profile()
    with prof:
        module.main()
    path = tmp_path / "out.pstats"
    prof.dump_stats(str(path))
    loaded = pstats.Stats(str(path)).stats
    prof.create_stats()
    assert counts(loaded) == counts(prof.stats)
    assert counts(loaded, python=False) == counts(prof.stats, python=False)


def test_print_stats_has_cprofile_layout(capsys):
    module = load_program("workload")
    prof = pyprof.Profile()
    prof.runcall(module.fib, 8)
    prof.print_stats(sort="calls")
    out = capsys.readouterr().out
    assert "67 function calls (1 primitive calls) in" in out
    assert "Ordered by: call count" in out
    assert "ncalls  tottime  percall  cumtime  percall filename:lineno(function)" in out
    assert "67/1" in out and "workload.py:8(fib)" in out


def test_at_most_four_pyprof_profilers_at_a_time():
    profs = [pyprof.Profile() for _ in range(5)]
    for p in profs[:4]:
        p.enable()
    try:
        with pytest.raises(RuntimeError, match="at most 4"):
            profs[4].enable()
    finally:
        for p in profs[:4]:
            p.disable()
    profs[4].enable()
    profs[4].disable()


def test_exceptions_pass_through_unchanged():
    def boom():
        return int("not a number")

    prof = pyprof.Profile()
    prof.enable()
    try:
        with pytest.raises(ValueError, match="not a number"):
            boom()
    finally:
        prof.disable()
    prof.create_stats()
    (key,) = [k for k in prof.stats if k[2] == "boom"]
    assert prof.stats[key][:2] == (1, 1)


def test_clear_forgets_everything():
    prof = pyprof.Profile()
    prof.runcall(sum, [1, 2])
    prof.clear()
    prof.create_stats()
    assert prof.stats == {}


def test_cprofile_keeps_working_beside_pyprof():
    """Both record: on 3.12+ as separate sys.monitoring tool ids; below,
    the thread's one profile hook is pyprof's, which calls cProfile's with
    every event first and gives it back on disable()."""
    module = load_program("workload")
    outer = cProfile.Profile()
    inner = pyprof.Profile()
    outer.enable()
    try:
        inner.enable()
        module.fib(10)
        inner.disable()
        module.fib(3)
    finally:
        outer.disable()
    outer.create_stats()
    (key,) = [k for k in outer.stats if k[2] == "fib"]
    assert outer.stats[key][:2] == (2, 182)
    inner.create_stats()
    assert inner.stats[key][:2] == (1, 177)
