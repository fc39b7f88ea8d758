"""pyprof.LineProfiler's line_profiler API beyond add_function (#13.17):
add_module, add_class, timer_unit, and get_stats() giving what
line_profiler.show_text takes; the oracle is line_profiler itself."""
import io
import json
import subprocess
import sys
import textwrap
import types

import pytest

import pyprof

line_profiler = pytest.importorskip("line_profiler")

SOURCE = textwrap.dedent("""\
    import os
    from os.path import join


    def top(n):
        return sum(range(n))


    class Shape:
        def area(self):
            return 1

        @staticmethod
        def unit():
            return 2

        @classmethod
        def make(cls):
            return cls()

        @property
        def size(self):
            return 3

        class Inner:
            def deep(self):
                return 4


    lam = lambda x: x + 1
    """)


def fresh_module(name, tmp_path):
    path = tmp_path / (name + ".py")
    path.write_text(SOURCE)
    module = types.ModuleType(name)
    module.__file__ = str(path)
    exec(compile(SOURCE, str(path), "exec"), module.__dict__)
    sys.modules[name] = module
    return module


def names(codes):
    return sorted(getattr(f, "__code__", f).co_name for f in codes)


def test_add_module_and_add_class_select_what_line_profiler_selects(
        tmp_path):
    module = fresh_module("lp_api_mod", tmp_path)
    theirs, ours = line_profiler.LineProfiler(), pyprof.LineProfiler()
    assert ours.add_module(module) == theirs.add_module(module)
    assert names(ours.functions) == names(theirs.functions)
    assert "join" not in names(ours.functions)   # not defined there
    theirs, ours = line_profiler.LineProfiler(), pyprof.LineProfiler()
    assert ours.add_class(module.Shape) == theirs.add_class(module.Shape)
    assert names(ours.functions) == names(theirs.functions)


def test_timer_unit_and_get_stats_feed_line_profilers_show_text(tmp_path):
    module = fresh_module("lp_api_mod2", tmp_path)
    ours = pyprof.LineProfiler(module.top)
    assert ours.timer_unit == line_profiler.LineProfiler().timer_unit
    with ours:
        module.top(10)
        module.top(20)
    stats = ours.get_stats()
    assert stats.unit == ours.timer_unit
    [(key, entries)] = stats.timings.items()
    assert key[:2] == (str(tmp_path / "lp_api_mod2.py"), 5)
    assert [(line, hits) for line, hits, _ in entries] == [(6, 2)]
    assert all(isinstance(t, int) and t > 0 for _, _, t in entries)
    out = io.StringIO()
    line_profiler.show_text(stats.timings, stats.unit, stream=out)
    assert "return sum(range(n))" in out.getvalue()
    assert "Total time:" in out.getvalue()


# Two LineProfilers in one program (#11): each counts its own functions,
# a function both select included, while the other is recording -- and
# while `pyprof lines` records the program's @profile function.  The
# oracle is a sys.settrace line counter standing in for LineProfiler in
# a plain run of the same program.
TWO_PROFILERS = textwrap.dedent("""\
    import json
    import sys

    if sys.argv[1] == "oracle":
        class LineProfiler:
            counts = {}
            everyone = []

            def __init__(self):
                self.codes = set()
                LineProfiler.everyone.append(self)

            def __call__(self, func):
                self.codes.add(func.__code__)
                return func

            def get_stats(self):
                timings = {}
                for (code, line), hits in LineProfiler.counts.items():
                    if code in self.codes:
                        key = (code.co_filename, code.co_firstlineno,
                               code.co_name)
                        timings.setdefault(key, []).append((line, hits, 1))
                return type("Stats", (), {"timings": timings})

        def local(frame, event, arg):
            if event == "line":
                key = (frame.f_code, frame.f_lineno)
                LineProfiler.counts[key] = LineProfiler.counts.get(key, 0) + 1
            return local

        sys.settrace(lambda frame, event, arg: local)
    else:
        from pyprof import LineProfiler

    try:
        profile
    except NameError:
        def profile(func):
            return func

    a = LineProfiler()
    b = LineProfiler()


    @a
    def f(n):
        total = 0
        for i in range(n):
            total += i
        return total


    @b
    def g(n):
        total = 0
        for i in range(n):
            total += f(i)
        return total


    def h(n):
        if n > 3:
            return h(n - 1) + 1
        return 0


    a(h)
    b(h)


    @profile
    def k(n):
        done = g(n)
        for _ in range(n):
            done += h(n)
        return done


    print("result", k(6), g(10), f(7), h(8))
    sys.settrace(None)
    out = {}
    for name, prof in (("a", a), ("b", b)):
        stats = prof.get_stats()
        out[name] = {key[2]: {str(line): hits for line, hits, t in rows
                              if hits}
                     for key, rows in stats.timings.items()}
        out[name + " timed"] = sorted(
            key[2] for key, rows in stats.timings.items()
            if sum(t for line, hits, t in rows) > 0)
    print(json.dumps(out, sort_keys=True))
    """)


def two_profilers(tmp_path, *command):
    script = tmp_path / "two.py"
    script.write_text(TWO_PROFILERS)
    mode = "oracle" if not command else "pyprof"
    argv = list(command) or [sys.executable]
    result = subprocess.run(argv + [str(script), mode], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert lines[0] == "result 38 120 21 5", result.stdout
    return json.loads(lines[1]), result


def test_two_line_profilers_each_count_their_functions(tmp_path):
    want, _ = two_profilers(tmp_path)
    assert want["a"]["f"] and want["b"]["g"] and want["b"]["h"]
    got, _ = two_profilers(tmp_path, sys.executable)
    assert {n: got[n] for n in ("a", "b")} == {n: want[n] for n in ("a", "b")}
    assert got["a timed"] == ["f", "h"] and got["b timed"] == ["g", "h"]


def test_program_line_profilers_count_under_pyprof_lines(tmp_path):
    want, _ = two_profilers(tmp_path)
    got, result = two_profilers(tmp_path, sys.executable, "-m", "pyprof",
                                "lines")
    assert {n: got[n] for n in ("a", "b")} == {n: want[n] for n in ("a", "b")}
    assert got["a timed"] == ["f", "h"] and got["b timed"] == ["g", "h"]
    # pyprof lines' own table of k: sys.settrace's counts
    first = TWO_PROFILERS.splitlines().index("def k(n):") + 1
    hits = {}
    for row in result.stdout.splitlines():
        fields = row.split()
        if len(fields) > 2 and fields[0].isdigit() and fields[1].isdigit():
            hits[int(fields[0])] = int(fields[1])
    assert hits == {first + 1: 1, first + 2: 7, first + 3: 6,
                    first + 4: 1}, result.stdout
